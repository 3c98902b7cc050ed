//! One suite of scenarios that every store must pass, laid out in two parts:
//!
//! - the **store contract** (`contract/`): scenarios that drive the port directly (commits
//!   are all or nothing, versions and guards conflict, live keys are unique, reads follow
//!   commits), one file per trait;
//! - the **service specifications** (`service/`): the product's rules (attribution, the
//!   lifecycle, merges and ids, records, search, accounts, limits) checked through
//!   [`Directory`](crate::Directory) and [`Accounts`](crate::Accounts) over the store.
//!
//! Both run on every adapter. Run the suite against your own store from a test file with
//! [`conformance_tests!`](crate::conformance_tests):
//!
//! ```ignore
//! // A store implementing Store and every extension trait:
//! customer_directory::conformance_tests!(async { MyStore::connect_to_a_fresh_database().await });
//! // A first store implementing only the core trait:
//! customer_directory::conformance_tests!(implements [Store] async { MyStore::new() });
//! ```
//!
//! It generates one `#[tokio::test]` per scenario of the traits the store implements (your
//! crate needs `tokio` with the `macros` and `rt-multi-thread` features as a
//! dev-dependency), each with a fresh store from the block, so every scenario is counted and
//! reported on its own. Each scenario is a public `async fn` taking the store, named after
//! the rule it checks, whose bound names the traits it needs; [`SCENARIOS`] lists them all.
//! The suite's own test checks that every such function written here is listed once, in
//! the group its bound names, so a scenario cannot be forgotten or run against a store that
//! lacks what it needs.
#![allow(missing_docs)] // each scenario's name states the rule it checks

mod contract;
mod fixtures;
mod service;

pub use contract::*;
pub use fixtures::{booking, contact, directory, directory_with, eur, name, t0};
pub use service::*;

#[cfg(doc)]
use crate::ports::store::{AccountStore, BulkReadStore, SearchStore, Store};

/// Generates one test per conformance scenario for the store built by `$make_store` (an
/// async block), for exactly the traits the store implements.
///
/// - `conformance_tests!(async { .. })`: the store implements [`Store`] and every extension
///   trait ([`AccountStore`], [`SearchStore`], [`BulkReadStore`]), like the adapters that
///   ship with the crate.
/// - `conformance_tests!(implements [Store, SearchStore] async { .. })`: the scenarios of the
///   traits named, and only those (a scenario that needs two extensions runs when both are
///   named). Naming a trait the store does not implement is a compile error.
/// - `optional` before the block: the block yields an `Option` and each test returns early
///   on `None` (for databases that are not available; the block should say so loudly).
/// - `conformance_tests!(for_each_scenario my_macro!(tokens))`: calls
///   `my_macro!(tokens a, b, c, ...)` with the name of every scenario, in the order of
///   [`SCENARIOS`], for a caller that runs the suite its own way (inside one test, say).
///
/// Needs the `testing` feature, and `tokio` (features `macros`, `rt-multi-thread`) in the
/// calling crate. See [`testing::conformance`](crate::testing::conformance).
#[macro_export]
macro_rules! conformance_tests {
    (optional $make_store:expr) => {
        $crate::conformance_tests!(@flags [yes yes yes] [] optional $make_store);
    };
    (implements [$($implemented:ident),* $(,)?] optional $make_store:expr) => {
        $crate::conformance_tests!(@flags [no no no] [$($implemented)*] optional $make_store);
    };
    (implements [$($implemented:ident),* $(,)?] $make_store:expr) => {
        $crate::conformance_tests!(@flags [no no no] [$($implemented)*] required $make_store);
    };
    ($make_store:expr) => {
        $crate::conformance_tests!(@flags [yes yes yes] [] required $make_store);
    };
    // Every scenario's name handed to the caller's macro, after the caller's own tokens.
    (for_each_scenario $callback:ident ! ($($args:tt)*)) => {
        $crate::conformance_tests!(@list @call $callback ($($args)*))
    };
    // Turns the traits named into three flags: accounts, search, bulk reads.
    (@flags [$a:tt $s:tt $b:tt] [Store $($rest:ident)*] $($tail:tt)*) => {
        $crate::conformance_tests!(@flags [$a $s $b] [$($rest)*] $($tail)*);
    };
    (@flags [$a:tt $s:tt $b:tt] [AccountStore $($rest:ident)*] $($tail:tt)*) => {
        $crate::conformance_tests!(@flags [yes $s $b] [$($rest)*] $($tail)*);
    };
    (@flags [$a:tt $s:tt $b:tt] [SearchStore $($rest:ident)*] $($tail:tt)*) => {
        $crate::conformance_tests!(@flags [$a yes $b] [$($rest)*] $($tail)*);
    };
    (@flags [$a:tt $s:tt $b:tt] [BulkReadStore $($rest:ident)*] $($tail:tt)*) => {
        $crate::conformance_tests!(@flags [$a $s yes] [$($rest)*] $($tail)*);
    };
    (@flags $flags:tt [] $mode:ident $make_store:expr) => {
        $crate::conformance_tests!(@list @groups $flags $mode $make_store);
    };
    // The one list of scenarios, grouped by the extension traits each needs (its bound), and
    // handed to the arm named by the tokens before it: `@groups` generates the tests,
    // `@names` the list that the suite's own check compares with every scenario written in
    // `src/testing/conformance/`.
    (@list $($arm:tt)*) => {
        $crate::conformance_tests! {$($arm)*;
            core [
                // the store contract
                port_commit_inserts_and_reads_back,
                port_stale_version_conflicts_and_changes_nothing,
                port_duplicate_live_email_key_conflicts_and_changes_nothing,
                port_guard_on_changed_customer_conflicts,
                port_non_live_customers_release_their_keys,
                port_keys_can_move_between_customers_in_one_commit,
                port_aliases_are_indexed,
                port_blocklist_covers_addresses_and_domains,
                port_customer_bookings_are_ordered_and_follow_attribution,
                port_unattributed_bookings_follow_attribution,
                port_booking_codes_stored_follow_commits_and_answer_in_order,
                port_lookup_emails_answer_each_key_like_lookup_email,
                // the service specifications
                blocked_address_refuses_booking_and_changes_nothing,
                blocked_domain_refuses_booking,
                blocked_customer_refuses_booking,
                matching_details_attach_as_primary_across_case_and_whitespace,
                differing_details_attach_as_related_listing_each_difference,
                empty_details_never_count_as_different,
                new_email_with_locked_status_creates_a_customer,
                new_email_with_unlocked_status_stays_unattributed_until_locked,
                booking_without_email_stays_unattributed,
                locked_statuses_follow_the_settings,
                filling_from_a_booking_never_overwrites,
                archived_customer_matches_and_is_reactivated,
                archived_customer_stays_archived_when_reactivation_is_off,
                redacted_customer_never_matches,
                detached_booking_is_not_reattached_to_its_former_customer,
                alias_email_attaches_to_its_customer,
                invalid_booking_reports_every_problem,
                concurrent_bookings_create_exactly_one_customer_per_email,
                manual_create_attaches_unattributed_bookings_with_the_same_key,
                contact_edits_propagate_to_primary_bookings_only,
                contact_edits_stay_on_the_profile_when_propagation_is_off,
                email_change_to_a_taken_key_is_a_conflict_naming_the_holder,
                email_change_keeps_the_old_address_matching,
                booking_contact_edit_by_staff_updates_the_profile,
                related_bookings_are_listed_and_confirmed,
                detached_booking_stays_unattributed_and_remembers_its_customer,
                detached_booking_with_a_unique_email_gets_its_own_profile,
                suggestions_share_phone_loose_email_or_name_and_postcode_and_attach_nothing,
                archive_and_activate_follow_their_guards,
                block_puts_every_key_on_the_blocklist_and_unblock_reverses_it,
                delete_keeps_bookings_unattributed_with_their_snapshots,
                redaction_requires_archive_and_erases_every_personal_value,
                redaction_reaches_undone_merges_the_customer_was_merged_in,
                an_alias_filled_in_as_the_email_is_promoted_not_held_twice,
                a_booking_attached_while_a_merge_was_decided_makes_it_conflict,
                notes_are_added_edited_moved_and_deleted_in_order,
                newsletter_consent_is_a_log_and_the_last_decision_counts,
                lists_are_named_uniquely_and_customers_join_and_leave,
                merge_and_undo_carry_every_record,
                redaction_erases_notes_and_consent,
                merge_moves_everything_and_keeps_every_conflicting_value,
                merge_guards_refuse_and_change_nothing,
                merge_preview_changes_nothing,
                undo_restores_the_merged_and_reports_what_changed_since,
                every_operation_records_one_audit_event,
                every_operation_on_a_merged_id_names_its_survivor_and_merge_and_changes_nothing,
                a_merge_survivor_takes_every_operation_but_deletion_until_the_undo_window_closes,
                redacting_a_survivor_closes_its_merges_and_resolve_and_undo_say_so,
                undoing_a_merge_whose_survivor_was_merged_again_names_the_later_merge,
                every_operation_on_a_deleted_id_says_when_it_was_deleted,
                an_id_never_stored_is_not_found_by_every_operation,
                a_redacted_customer_refuses_writes_by_its_status_and_still_answers_reads,
                reads_of_a_redacted_customer_answer_without_personal_data,
                over_long_booking_status_cannot_be_made_and_one_at_the_limit_is_kept,
                a_batch_attributes_each_booking_against_the_ones_before_it,
                a_batch_run_again_records_nothing_twice,
                a_batch_whose_commit_fails_stores_nothing_and_succeeds_when_run_again,
                a_batch_over_its_limit_is_refused_before_the_store,
            ],
            accounts [
                // the store contract
                account_port_conflicts_change_nothing,
                // the service specifications
                accounts_disabled_refuses_every_use_case,
                verified_account_claims_its_profile_and_sees_past_bookings,
                account_without_a_profile_claims_it_at_a_later_login,
                sign_up_for_a_taken_email_answers_the_same_and_tells_the_owner,
                weak_password_lists_every_violation_and_stores_nothing,
                login_answers_unknown_email_and_wrong_password_alike,
                login_throttles_after_repeated_failures_and_releases,
                required_mode_refuses_login_until_verified,
                reset_token_is_single_use,
                reset_token_expires,
                reset_tokens_are_voided_by_any_password_change,
                reset_tokens_are_stored_only_hashed,
                reset_for_an_unknown_email_looks_like_a_known_one,
                reset_mail_goes_to_old_and_new_address_after_an_email_change,
                change_password_needs_the_current_one_and_staff_set_needs_staff,
                outdated_hash_is_rehashed_at_the_next_login,
                self_service_cancel_within_the_window_changes_the_status_only,
                self_service_refuses_inside_the_window_blocked_statuses_and_others_bookings,
                self_service_modify_moves_the_booking_and_respects_the_settings,
                saved_payment_method_is_one_per_account_and_refuses_card_numbers,
                merging_two_accounts_needs_the_one_to_keep,
                redaction_erases_account_credentials_and_deletion_unclaims,
                account_use_cases_record_audit_events_without_secrets,
                concurrent_sign_ups_and_failed_logins_stay_consistent,
                undoing_a_merge_gives_a_moved_account_back_to_its_customer,
                reset_for_an_unknown_email_commits_as_much_as_for_a_known_one,
                a_link_works_only_for_what_it_was_mailed_for,
                over_long_staff_identifier_is_refused_by_account_use_cases,
            ],
            search [
                // the service specifications
                query_text_search_finds_name_email_and_phone_ignoring_case_and_accents,
                query_lists_active_and_blocked_by_default_and_other_statuses_when_asked,
                query_filters_by_country,
                query_filters_by_first_letter_of_the_name_key,
                query_filters_by_list_membership,
                query_filters_by_created_range,
                query_filters_by_last_booking_range,
                query_filters_by_booking_count_range,
                query_filters_by_custom_field_value,
                query_sorts_by_name_with_the_id_breaking_ties,
                query_sorts_by_created,
                query_sorts_by_last_booking,
                query_sorts_by_booking_count,
                query_sorts_by_total_value_in_one_currency,
                query_pages_neither_repeat_nor_skip_while_bookings_and_customers_arrive,
                query_pages_by_a_growing_booking_count_skip_nobody,
                query_refuses_malformed_and_foreign_cursors,
                query_statistics_follow_merges_cancellations_detaching_and_deletion,
                query_statistics_follow_each_way_a_booking_arrives,
                query_finds_nothing_personal_of_a_redacted_customer,
                over_long_search_text_and_custom_field_filter_are_refused_by_search_and_count,
                count_covers_every_status_and_deleted_customers_are_not_counted,
                count_equals_the_rows_search_pages_through_for_text_and_filters,
                any_status_lists_and_counts_every_customer_past_one_full_page,
            ],
            bulk_reads [
                // the service specifications
                manual_create_with_a_taken_email_names_the_holder,
                brochure_requests_are_pending_until_sent,
                bulk_redaction_of_inactive_customers_skips_blocked_ones,
                duplicates_are_grouped_by_each_key,
                visiting_customers_shows_each_once_in_id_order,
                over_long_booking_code_is_refused_before_the_store_and_one_at_the_limit_is_recorded,
                over_long_block_reason_is_refused_and_changes_nothing,
                over_long_staff_identifier_is_refused_by_every_kind_of_write,
                over_long_import_cell_header_key_or_row_count_imports_nothing,
            ],
            accounts_search [
                // the service specifications
                query_filters_claimed_and_unclaimed_by_accounts,
            ],
            accounts_bulk_reads [
                // the service specifications
                email_change_voids_earlier_links_and_logins_keep_customers_from_bulk_redaction,
                page_reads_answer_like_the_one_customer_reads,
                summary_and_export_show_the_last_login,
            ],
            search_bulk_reads [
                // the service specifications
                over_long_custom_field_key_is_refused_in_profiles_and_bookings,
            ],
        }
    };
    (@names; core [$($core:ident),* $(,)?], accounts [$($accounts:ident),* $(,)?], search [$($search:ident),* $(,)?], bulk_reads [$($bulk_reads:ident),* $(,)?], accounts_search [$($accounts_search:ident),* $(,)?], accounts_bulk_reads [$($accounts_bulk_reads:ident),* $(,)?], search_bulk_reads [$($search_bulk_reads:ident),* $(,)?] $(,)?) => {
        &[$($crate::testing::conformance::Scenario { name: stringify!($core), needs: &[] },)* $($crate::testing::conformance::Scenario { name: stringify!($accounts), needs: &["AccountStore"] },)* $($crate::testing::conformance::Scenario { name: stringify!($search), needs: &["SearchStore"] },)* $($crate::testing::conformance::Scenario { name: stringify!($bulk_reads), needs: &["BulkReadStore"] },)* $($crate::testing::conformance::Scenario { name: stringify!($accounts_search), needs: &["AccountStore", "SearchStore"] },)* $($crate::testing::conformance::Scenario { name: stringify!($accounts_bulk_reads), needs: &["AccountStore", "BulkReadStore"] },)* $($crate::testing::conformance::Scenario { name: stringify!($search_bulk_reads), needs: &["SearchStore", "BulkReadStore"] },)*]
    };
    (@call $callback:ident ($($args:tt)*); core [$($core:ident),* $(,)?], accounts [$($accounts:ident),* $(,)?], search [$($search:ident),* $(,)?], bulk_reads [$($bulk_reads:ident),* $(,)?], accounts_search [$($accounts_search:ident),* $(,)?], accounts_bulk_reads [$($accounts_bulk_reads:ident),* $(,)?], search_bulk_reads [$($search_bulk_reads:ident),* $(,)?] $(,)?) => {
        $callback!($($args)* $($core,)* $($accounts,)* $($search,)* $($bulk_reads,)* $($accounts_search,)* $($accounts_bulk_reads,)* $($search_bulk_reads,)*)
    };
    (@groups [$a:tt $s:tt $b:tt] $mode:ident $make_store:expr; core [$($core:ident),* $(,)?], accounts [$($accounts:ident),* $(,)?], search [$($search:ident),* $(,)?], bulk_reads [$($bulk_reads:ident),* $(,)?], accounts_search [$($accounts_search:ident),* $(,)?], accounts_bulk_reads [$($accounts_bulk_reads:ident),* $(,)?], search_bulk_reads [$($search_bulk_reads:ident),* $(,)?] $(,)?) => {
        $crate::conformance_tests!(@if [] $mode $make_store; $($core),*);
        $crate::conformance_tests!(@if [$a] $mode $make_store; $($accounts),*);
        $crate::conformance_tests!(@if [$s] $mode $make_store; $($search),*);
        $crate::conformance_tests!(@if [$b] $mode $make_store; $($bulk_reads),*);
        $crate::conformance_tests!(@if [$a $s] $mode $make_store; $($accounts_search),*);
        $crate::conformance_tests!(@if [$a $b] $mode $make_store; $($accounts_bulk_reads),*);
        $crate::conformance_tests!(@if [$s $b] $mode $make_store; $($search_bulk_reads),*);
    };
    // A group runs when every trait it needs is implemented.
    (@if [$(yes)*] $mode:ident $make_store:expr; $($scenario:ident),*) => {
        $crate::conformance_tests!(@each $mode $make_store; $($scenario),*);
    };
    (@if [$($flag:tt)*] $mode:ident $make_store:expr; $($scenario:ident),*) => {};
    (@each required $make_store:expr; $($scenario:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $scenario() {
                let store = $make_store.await;
                $crate::testing::conformance::$scenario(store).await;
            }
        )*
    };
    (@each optional $make_store:expr; $($scenario:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $scenario() {
                let Some(store) = $make_store.await else { return };
                $crate::testing::conformance::$scenario(store).await;
            }
        )*
    };
}

/// One scenario of the suite: its name (the rule it checks) and the extension traits of
/// [`Store`] it needs besides the core trait.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scenario {
    /// The scenario's name, which is also the name of its function and of its test.
    pub name: &'static str,
    /// The extension traits it needs (`"AccountStore"`, `"SearchStore"`,
    /// `"BulkReadStore"`); empty for the core contract and the core use cases.
    pub needs: &'static [&'static str],
}

/// Every scenario [`conformance_tests!`](crate::conformance_tests) runs for a store that
/// implements every trait, in its order.
pub const SCENARIOS: &[Scenario] = crate::conformance_tests!(@list @names);

#[cfg(test)]
mod suite_tests {
    use std::collections::{BTreeMap, BTreeSet};

    /// Every `pub async fn` written in the suite's files is a scenario the macro runs, and
    /// every scenario it runs is written once: a scenario cannot be added and forgotten.
    #[test]
    fn every_written_scenario_is_run_and_listed_once() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/testing/conformance");
        let mut files = Vec::new();
        let mut folders = vec![root];
        while let Some(folder) = folders.pop() {
            for entry in std::fs::read_dir(folder).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    folders.push(path);
                } else {
                    files.push(path);
                }
            }
        }
        // A scenario is a public async fn that takes the store and returns nothing; public
        // fixtures (`ids`) return what they read.
        let mut written = BTreeMap::new();
        for file in &files {
            let text = std::fs::read_to_string(file).unwrap();
            for (start, _) in text.match_indices("\npub async fn ") {
                let rest = &text[start + "\npub async fn ".len()..];
                let signature = &rest[..rest.find('{').unwrap_or(rest.len())];
                if signature.contains("->") || !signature.contains("store: S") {
                    continue;
                }
                let name: String = rest
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                let needs: Vec<&str> = ["AccountStore", "SearchStore", "BulkReadStore"]
                    .into_iter()
                    .filter(|extension| signature.contains(extension))
                    .collect();
                assert!(
                    written.insert(name.clone(), needs).is_none(),
                    "{name} is written twice"
                );
            }
        }
        let listed: BTreeSet<String> = super::SCENARIOS
            .iter()
            .map(|scenario| scenario.name.to_string())
            .collect();
        assert_eq!(
            listed.len(),
            super::SCENARIOS.len(),
            "a scenario is listed twice"
        );
        let written_names: BTreeSet<String> = written.keys().cloned().collect();
        let unlisted: Vec<_> = written_names.difference(&listed).collect();
        assert!(
            unlisted.is_empty(),
            "written but not run by conformance_tests!: {unlisted:?}"
        );
        let unwritten: Vec<_> = listed.difference(&written_names).collect();
        assert!(
            unwritten.is_empty(),
            "listed but not found in the files: {unwritten:?}"
        );
        assert!(written.len() > 100, "the scan found the scenarios");
        // Each scenario sits in the group its bound names: a scenario that reads through an
        // extension trait never runs against a store that lacks it, and one that needs only
        // the core trait is never held back from a store that has nothing more.
        for scenario in super::SCENARIOS {
            assert_eq!(
                written[scenario.name], scenario.needs,
                "{} needs {:?} by its bound but is listed with {:?}",
                scenario.name, written[scenario.name], scenario.needs
            );
        }
    }
}
