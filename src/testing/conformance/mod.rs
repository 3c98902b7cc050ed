//! One suite of scenarios that every [`Store`] must pass: the port contract, the
//! attribution rules, concurrent bookings, the lifecycle operations and profile records.
//!
//! Run it against your own store from a test file with
//! [`conformance_tests!`](crate::conformance_tests):
//!
//! ```ignore
//! customer_directory::conformance_tests!(async { MyStore::connect_to_a_fresh_database().await });
//! ```
//!
//! It generates one `#[tokio::test]` per scenario (your crate needs `tokio` with the
//! `macros` and `rt-multi-thread` features as a dev-dependency), each with a fresh store
//! from the block, so every scenario is counted and reported on its own. Each scenario is a
//! public `async fn` taking the store, named after the rule it checks; [`SCENARIOS`] lists
//! them all. The suite's own test checks that every public `async fn` written here that
//! takes the store and returns nothing is run by the macro, so a scenario cannot be
//! forgotten.
#![allow(missing_docs)] // each scenario's name states the rule it checks

mod account_timing;
mod accounts;
mod bounds;
mod counting;
mod lifecycle;
mod merged_ids;
mod query;
mod records;

pub use account_timing::*;
pub use accounts::*;
pub use bounds::*;
pub use counting::*;
pub use lifecycle::*;
pub use merged_ids::*;
pub use query::*;
pub use records::*;

use std::collections::{HashMap, HashSet};

use crate::decisions::attribution::{AttributionOutcome, UnattributedReason};
use crate::ports::clock::FixedClock;
use crate::ports::store::changes::ChangeSet;
use crate::ports::store::{Conflict, Store, StoreError};
use crate::records::audit::Actor;
use crate::records::booking::{Attribution, Booking, NewBooking};
use crate::records::customer::{BlockTarget, Customer, CustomerStatus};
use crate::records::profile::{Detail, PostalAddress, Profile};
use crate::service::directory::Directory;
use crate::service::error::Error;
use crate::settings::DirectorySettings;
use crate::values::booking_status::BookingStatus;
use crate::values::email::address::EmailAddress;
use crate::values::money::{Currency, Money};
use crate::values::phone::Phone;
use crate::values::text::{PersonName, Text};
use chrono::{DateTime, TimeZone, Utc};

/// Generates one test per conformance scenario for the store built by `$make_store` (an
/// async block). With `optional`, the block yields an `Option` and each test returns early on
/// `None` (for databases that are not available; the block should say so loudly).
///
/// Needs the `testing` feature, and `tokio` (features `macros`, `rt-multi-thread`) in the
/// calling crate. See [`testing::conformance`](crate::testing::conformance).
#[macro_export]
macro_rules! conformance_tests {
    (optional $make_store:expr) => {
        $crate::conformance_tests!(@all optional $make_store);
    };
    ($make_store:expr) => {
        $crate::conformance_tests!(@all required $make_store);
    };
    (@all $mode:ident $make_store:expr) => {
        $crate::conformance_tests!(@list @each $mode $make_store);
    };
    // The one list of scenarios, handed to the arm named by the tokens before it: `@each`
    // generates the tests, `@names` the list of names that the suite's own check compares
    // with every scenario written in `src/testing/conformance/`.
    (@list $($arm:tt)*) => {
        $crate::conformance_tests! {$($arm)*;
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
            manual_create_with_a_taken_email_names_the_holder,
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
            brochure_requests_are_pending_until_sent,
            merge_and_undo_carry_every_record,
            redaction_erases_notes_and_consent,
            bulk_redaction_of_inactive_customers_skips_blocked_ones,
            merge_moves_everything_and_keeps_every_conflicting_value,
            merge_guards_refuse_and_change_nothing,
            merge_preview_changes_nothing,
            undo_restores_the_merged_and_reports_what_changed_since,
            duplicates_are_grouped_by_each_key,
            every_operation_records_one_audit_event,
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
            account_port_conflicts_change_nothing,
            account_use_cases_record_audit_events_without_secrets,
            concurrent_sign_ups_and_failed_logins_stay_consistent,
            email_change_voids_earlier_links_and_logins_keep_customers_from_bulk_redaction,
            query_text_search_finds_name_email_and_phone_ignoring_case_and_accents,
            query_lists_active_and_blocked_by_default_and_other_statuses_when_asked,
            query_filters_by_country,
            query_filters_by_first_letter_of_the_name_key,
            query_filters_claimed_and_unclaimed_by_accounts,
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
            page_reads_answer_like_the_one_customer_reads,
            visiting_customers_shows_each_once_in_id_order,
            summary_and_export_show_the_last_login,
            query_finds_nothing_personal_of_a_redacted_customer,
            every_operation_on_a_merged_id_names_its_survivor_and_merge_and_changes_nothing,
            a_merge_survivor_takes_every_operation_but_deletion_until_the_undo_window_closes,
            redacting_a_survivor_closes_its_merges_and_resolve_and_undo_say_so,
            undoing_a_merge_whose_survivor_was_merged_again_names_the_later_merge,
            every_operation_on_a_deleted_id_says_when_it_was_deleted,
            an_id_never_stored_is_not_found_by_every_operation,
            a_redacted_customer_refuses_writes_by_its_status_and_still_answers_reads,
            reads_of_a_redacted_customer_answer_without_personal_data,
            undoing_a_merge_gives_a_moved_account_back_to_its_customer,
            over_long_booking_code_is_refused_before_the_store_and_one_at_the_limit_is_recorded,
            over_long_booking_status_cannot_be_made_and_one_at_the_limit_is_kept,
            over_long_search_text_and_custom_field_filter_are_refused_by_search_and_count,
            over_long_block_reason_is_refused_and_changes_nothing,
            over_long_staff_identifier_is_refused_by_every_kind_of_write,
            over_long_custom_field_key_is_refused_in_profiles_and_bookings,
            over_long_import_cell_header_key_or_row_count_imports_nothing,
            count_covers_every_status_and_deleted_customers_are_not_counted,
            count_equals_the_rows_search_pages_through_for_text_and_filters,
            any_status_lists_and_counts_every_customer_past_one_full_page,
            reset_for_an_unknown_email_commits_as_much_as_for_a_known_one,
            a_link_works_only_for_what_it_was_mailed_for,
            over_long_staff_identifier_is_refused_by_account_use_cases,
        }
    };
    (@names; $($scenario:ident),* $(,)?) => {
        &[$(stringify!($scenario)),*]
    };
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

/// The name of every scenario [`conformance_tests!`](crate::conformance_tests) runs, in
/// its order.
pub const SCENARIOS: &[&str] = crate::conformance_tests!(@list @names);

// ---------------------------------------------------------------------------------------
// Fixtures

pub fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 6, 1, 9, 0, 0).unwrap()
}

pub fn eur(minor: i64) -> Money {
    Money::new(minor, Currency::parse("EUR").unwrap())
}

pub fn directory<S: Store + Clone + 'static>(store: S) -> Directory<S, FixedClock> {
    directory_with(store, DirectorySettings::default())
}

pub fn directory_with<S: Store>(store: S, settings: DirectorySettings) -> Directory<S, FixedClock> {
    Directory::with_clock(store, settings, FixedClock::new(t0()))
}

pub fn name(text: &str) -> Option<PersonName> {
    Some(PersonName::parse(text).unwrap())
}

pub fn contact(email: &str, given: &str, family: &str) -> Profile {
    Profile {
        given_name: (!given.is_empty()).then(|| PersonName::parse(given).unwrap()),
        family_name: (!family.is_empty()).then(|| PersonName::parse(family).unwrap()),
        email: (!email.is_empty()).then(|| EmailAddress::parse(email).unwrap()),
        ..Profile::default()
    }
}

pub fn booking(code: &str, status: BookingStatus, contact: Profile) -> NewBooking {
    let mut booking = NewBooking::new(code, status, contact, t0(), eur(50_00));
    booking.paid = eur(20_00);
    booking
}

async fn record<S: Store>(
    dir: &Directory<S, FixedClock>,
    new: NewBooking,
) -> (crate::values::ids::BookingId, AttributionOutcome) {
    let recorded = dir
        .record_booking(new, &Actor::System)
        .await
        .expect("booking is recorded");
    (recorded.booking, recorded.outcome)
}

fn customer_of(outcome: &AttributionOutcome) -> crate::values::ids::CustomerId {
    outcome
        .customer()
        .unwrap_or_else(|| panic!("expected a customer, got {outcome:?}"))
}

async fn save_customer<S: Store>(store: &S, customer: Customer) -> Customer {
    let id = customer.id;
    let mut changes = ChangeSet::new();
    changes.save_customer(customer);
    store.commit(changes).await.expect("commit");
    store.customer(id).await.unwrap().unwrap()
}

fn assert_conflict(result: Result<(), StoreError>) -> Conflict {
    match result {
        Err(StoreError::Conflict(conflict)) => conflict,
        other => panic!("expected a conflict, got {other:?}"),
    }
}

// ---------------------------------------------------------------------------------------
// Port contract

pub async fn port_commit_inserts_and_reads_back<S: Store + Clone + 'static>(store: S) {
    let customer = Customer::new(contact("ana@example.com", "Ana", "Silva"), t0());
    let stored = save_customer(&store, customer.clone()).await;
    assert_eq!(stored.version, 1);
    assert_eq!(
        Customer {
            version: 1,
            ..customer.clone()
        },
        stored
    );
    let found = store
        .lookup_email(stored.email_keys().next().unwrap())
        .await
        .unwrap();
    assert_eq!(found.customer.map(|c| c.id), Some(customer.id));
    assert!(found.block.is_none());
}

pub async fn port_stale_version_conflicts_and_changes_nothing<S: Store + Clone + 'static>(
    store: S,
) {
    let stored = save_customer(
        &store,
        Customer::new(contact("bo@example.com", "Bo", ""), t0()),
    )
    .await;
    let mut first = stored.clone();
    first.profile.family_name = name("First");
    let mut second = stored.clone();
    second.profile.family_name = name("Second");
    let other = Customer::new(contact("other@example.com", "Other", ""), t0());
    let mut changes = ChangeSet::new();
    changes.save_customer(first);
    store.commit(changes).await.unwrap();
    // A stale write together with an insert: neither may apply.
    let mut stale = ChangeSet::new();
    stale.save_customer(other.clone()).save_customer(second);
    let conflict = assert_conflict(store.commit(stale).await);
    assert!(
        matches!(conflict, Conflict::CustomerVersion { found: Some(2), .. }),
        "{conflict:?}"
    );
    let now = store.customer(stored.id).await.unwrap().unwrap();
    assert_eq!((now.version, now.profile.family_name), (2, name("First")));
    assert!(
        store.customer(other.id).await.unwrap().is_none(),
        "insert of a failed commit remains"
    );
}

pub async fn port_duplicate_live_email_key_conflicts_and_changes_nothing<
    S: Store + Clone + 'static,
>(
    store: S,
) {
    let holder = save_customer(
        &store,
        Customer::new(contact("Dup@Example.com", "A", ""), t0()),
    )
    .await;
    let rival = Customer::new(contact("dup@example.com", "B", ""), t0());
    let mut changes = ChangeSet::new();
    changes.save_customer(rival.clone());
    let conflict = assert_conflict(store.commit(changes).await);
    match conflict {
        Conflict::EmailKeyTaken { key, holder: id } => {
            assert_eq!(key.as_str(), "dup@example.com");
            assert_eq!(id, holder.id);
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(store.customer(rival.id).await.unwrap().is_none());
    // Two new customers with one key in the same commit conflict too.
    let (a, b) = (
        Customer::new(contact("twin@example.com", "A", ""), t0()),
        Customer::new(contact("TWIN@example.com", "B", ""), t0()),
    );
    let mut changes = ChangeSet::new();
    changes.save_customer(a.clone()).save_customer(b);
    assert!(matches!(
        assert_conflict(store.commit(changes).await),
        Conflict::EmailKeyTaken { .. }
    ));
    assert!(store.customer(a.id).await.unwrap().is_none());
}

pub async fn port_guard_on_changed_customer_conflicts<S: Store + Clone + 'static>(store: S) {
    let stored = save_customer(
        &store,
        Customer::new(contact("g@example.com", "G", ""), t0()),
    )
    .await;
    let mut changed = stored.clone();
    changed.status = CustomerStatus::Archived;
    save_customer(&store, changed).await;
    let new = Booking::from_new(
        booking(
            "G-1",
            BookingStatus::PAID,
            contact("g@example.com", "G", ""),
        ),
        t0(),
    );
    let mut changes = ChangeSet::new();
    changes
        .guard_customer(stored.id, stored.version)
        .save_booking(new.clone());
    assert!(matches!(
        assert_conflict(store.commit(changes).await),
        Conflict::CustomerVersion { .. }
    ));
    assert!(store.booking(new.id).await.unwrap().is_none());
}

pub async fn port_non_live_customers_release_their_keys<S: Store + Clone + 'static>(store: S) {
    let mut stored = save_customer(
        &store,
        Customer::new(contact("gone@example.com", "G", ""), t0()),
    )
    .await;
    stored.status = CustomerStatus::Redacted;
    let key = stored.email_keys().next().unwrap().clone();
    save_customer(&store, stored.clone()).await;
    assert!(store.lookup_email(&key).await.unwrap().customer.is_none());
    // The key is free: a new live customer may take it.
    let fresh = save_customer(
        &store,
        Customer::new(contact("gone@example.com", "New", ""), t0()),
    )
    .await;
    assert_eq!(
        store
            .lookup_email(&key)
            .await
            .unwrap()
            .customer
            .map(|c| c.id),
        Some(fresh.id)
    );
    assert_eq!(
        store.customer(stored.id).await.unwrap().map(|c| c.status),
        Some(CustomerStatus::Redacted)
    );
}

pub async fn port_keys_can_move_between_customers_in_one_commit<S: Store + Clone + 'static>(
    store: S,
) {
    let mut a = save_customer(
        &store,
        Customer::new(contact("move@example.com", "A", ""), t0()),
    )
    .await;
    let mut b = save_customer(
        &store,
        Customer::new(contact("b@example.com", "B", ""), t0()),
    )
    .await;
    let key = a.email_keys().next().unwrap().clone();
    a.profile.email = Some(EmailAddress::parse("a2@example.com").unwrap());
    b.aliases
        .push(EmailAddress::parse("move@example.com").unwrap());
    let mut changes = ChangeSet::new();
    changes.save_customer(b.clone()).save_customer(a);
    store
        .commit(changes)
        .await
        .expect("a key released and taken in one commit");
    assert_eq!(
        store
            .lookup_email(&key)
            .await
            .unwrap()
            .customer
            .map(|c| c.id),
        Some(b.id)
    );
}

pub async fn port_aliases_are_indexed<S: Store + Clone + 'static>(store: S) {
    let mut customer = Customer::new(contact("main@example.com", "M", ""), t0());
    customer
        .aliases
        .push(EmailAddress::parse("Old.Name@Example.com").unwrap());
    let stored = save_customer(&store, customer).await;
    let alias = EmailAddress::parse("old.name@example.com").unwrap();
    assert_eq!(
        store
            .lookup_email(alias.key())
            .await
            .unwrap()
            .customer
            .map(|c| c.id),
        Some(stored.id)
    );
}

pub async fn port_blocklist_covers_addresses_and_domains<S: Store + Clone + 'static>(store: S) {
    let dir = directory(store.clone());
    dir.add_to_blocklist(
        BlockTarget::domain("spam.example").unwrap(),
        "spam domain",
        &Actor::staff("desk"),
    )
    .await
    .unwrap();
    let address = EmailAddress::parse("fraud@shop.example").unwrap();
    dir.add_to_blocklist(
        BlockTarget::Address(address.key().clone()),
        "chargeback",
        &Actor::staff("desk"),
    )
    .await
    .unwrap();
    let by_domain = store
        .lookup_email(EmailAddress::parse("x@SPAM.example").unwrap().key())
        .await
        .unwrap();
    assert_eq!(
        by_domain.block.map(|e| e.reason),
        Some("spam domain".into())
    );
    let by_address = store.lookup_email(address.key()).await.unwrap();
    assert_eq!(
        by_address.block.map(|e| e.reason),
        Some("chargeback".into())
    );
    let neighbour = store
        .lookup_email(EmailAddress::parse("ok@shop.example").unwrap().key())
        .await
        .unwrap();
    assert!(neighbour.block.is_none());
    dir.remove_from_blocklist(
        BlockTarget::domain("spam.example").unwrap(),
        &Actor::staff("desk"),
    )
    .await
    .unwrap();
    assert!(
        dir.blocklist_entry_for("x@spam.example")
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        dir.blocklist_entry_for("fraud@shop.example")
            .await
            .unwrap()
            .is_some()
    );
}

pub async fn port_customer_bookings_are_ordered_and_follow_attribution<
    S: Store + Clone + 'static,
>(
    store: S,
) {
    let dir = directory(store.clone());
    let mut later = booking(
        "LATE",
        BookingStatus::PAID,
        contact("order@example.com", "O", ""),
    );
    later.starts_at = t0() + chrono::TimeDelta::days(3);
    let (late_id, outcome) = record(&dir, later).await;
    let customer = customer_of(&outcome);
    let (early_id, _) = record(
        &dir,
        booking(
            "EARLY",
            BookingStatus::PAID,
            contact("order@example.com", "", ""),
        ),
    )
    .await;
    let ids: Vec<_> = store
        .customer_bookings(customer)
        .await
        .unwrap()
        .iter()
        .map(|b| b.id)
        .collect();
    assert_eq!(ids, vec![early_id, late_id]);
    // Moving a booking away removes it from the customer's list.
    let mut moved = store.booking(late_id).await.unwrap().unwrap();
    moved.attribution = Attribution::Unattributed;
    let mut changes = ChangeSet::new();
    changes.save_booking(moved);
    store.commit(changes).await.unwrap();
    let ids: Vec<_> = store
        .customer_bookings(customer)
        .await
        .unwrap()
        .iter()
        .map(|b| b.id)
        .collect();
    assert_eq!(ids, vec![early_id]);
}

// ---------------------------------------------------------------------------------------
// Attribution: one scenario per row and rule of the attribution table (crate docs, README)

pub async fn blocked_address_refuses_booking_and_changes_nothing<S: Store + Clone + 'static>(
    store: S,
) {
    let dir = directory(store.clone());
    let (_, outcome) = record(
        &dir,
        booking(
            "B-0",
            BookingStatus::PAID,
            contact("bad@example.com", "Bad", "Actor"),
        ),
    )
    .await;
    let customer = dir.customer(customer_of(&outcome)).await.unwrap();
    let key = EmailAddress::parse("bad@example.com")
        .unwrap()
        .key()
        .clone();
    dir.add_to_blocklist(
        BlockTarget::Address(key),
        "chargebacks",
        &Actor::staff("desk"),
    )
    .await
    .unwrap();
    let result = dir
        .record_booking(
            booking(
                "B-1",
                BookingStatus::PAID,
                contact(" BAD@example.com", "Bad", "Actor"),
            ),
            &Actor::System,
        )
        .await;
    match result {
        Err(Error::Blocked(entry)) => assert_eq!(entry.reason, "chargebacks"),
        other => panic!("expected Blocked, got {other:?}"),
    }
    assert_eq!(
        dir.customer(customer.id).await.unwrap(),
        customer,
        "customer unchanged"
    );
    assert_eq!(
        dir.customer_bookings(customer.id).await.unwrap().len(),
        1,
        "no booking stored"
    );
}

pub async fn blocked_domain_refuses_booking<S: Store + Clone + 'static>(store: S) {
    let dir = directory(store.clone());
    dir.add_to_blocklist(
        BlockTarget::domain("spam.example").unwrap(),
        "spam",
        &Actor::staff("desk"),
    )
    .await
    .unwrap();
    let result = dir
        .record_booking(
            booking(
                "D-1",
                BookingStatus::PAID,
                contact("new@Spam.Example", "N", ""),
            ),
            &Actor::System,
        )
        .await;
    assert!(matches!(result, Err(Error::Blocked(_))), "{result:?}");
    assert!(
        dir.find_by_email("new@spam.example")
            .await
            .unwrap()
            .is_none(),
        "no profile created"
    );
}

pub async fn blocked_customer_refuses_booking<S: Store + Clone + 'static>(store: S) {
    let mut blocked = Customer::new(contact("held@example.com", "H", ""), t0());
    blocked.status = CustomerStatus::Blocked;
    let blocked = save_customer(&store, blocked).await;
    let dir = directory(store.clone());
    let result = dir
        .record_booking(
            booking(
                "H-1",
                BookingStatus::PAID,
                contact("held@example.com", "H", ""),
            ),
            &Actor::System,
        )
        .await;
    assert!(matches!(result, Err(Error::Blocked(_))), "{result:?}");
    assert!(dir.customer_bookings(blocked.id).await.unwrap().is_empty());
    assert_eq!(dir.customer(blocked.id).await.unwrap(), blocked);
}

pub async fn matching_details_attach_as_primary_across_case_and_whitespace<
    S: Store + Clone + 'static,
>(
    store: S,
) {
    let dir = directory(store.clone());
    let (_, first) = record(
        &dir,
        booking(
            "P-1",
            BookingStatus::PAID,
            contact("ana@example.com", "Ana", "Silva"),
        ),
    )
    .await;
    let customer = customer_of(&first);
    for (code, email, given) in [
        ("P-2", "  ANA@Example.COM ", "ana"),
        ("P-3", "Ana@example.com", "ANA "),
    ] {
        let (id, outcome) = record(
            &dir,
            booking(
                code,
                BookingStatus::CONFIRMED,
                contact(email, given, "SILVA"),
            ),
        )
        .await;
        assert_eq!(
            outcome,
            AttributionOutcome::Attached {
                customer,
                filled: vec![],
                reactivated: false
            }
        );
        assert_eq!(
            dir.booking(id).await.unwrap().attribution,
            Attribution::Primary(customer)
        );
    }
    assert_eq!(dir.customer_bookings(customer).await.unwrap().len(), 3);
    let snapshot = dir.customer_bookings(customer).await.unwrap();
    assert!(
        snapshot
            .iter()
            .any(|b| b.contact.email.as_ref().unwrap().as_str() == "ANA@Example.COM"),
        "snapshot kept as entered"
    );
}

pub async fn differing_details_attach_as_related_listing_each_difference<
    S: Store + Clone + 'static,
>(
    store: S,
) {
    let dir = directory(store.clone());
    let mut on_file = contact("fam@example.com", "Ana", "Silva");
    on_file.phone = Some(Phone::parse("+44 20 7946 0958", None).unwrap());
    on_file.address = PostalAddress {
        postcode: Some(Text::parse("SW1A 1AA").unwrap()),
        ..PostalAddress::default()
    };
    let (_, first) = record(&dir, booking("R-1", BookingStatus::PAID, on_file)).await;
    let customer = customer_of(&first);
    let before = dir.customer(customer).await.unwrap();
    let mut spouse = contact("FAM@example.com", "Rui", "Silva");
    spouse.phone = Some(Phone::parse("+44 20 7946 0000", None).unwrap());
    spouse.address = PostalAddress {
        postcode: Some(Text::parse("sw1a 1aa").unwrap()),
        ..PostalAddress::default()
    };
    let (id, outcome) = record(&dir, booking("R-2", BookingStatus::PAID, spouse)).await;
    let differences = vec![Detail::GivenName, Detail::Phone];
    assert_eq!(
        outcome,
        AttributionOutcome::Related {
            customer,
            differences: differences.clone()
        }
    );
    assert_eq!(
        dir.booking(id).await.unwrap().attribution,
        Attribution::Related {
            customer,
            differences
        }
    );
    assert_eq!(
        dir.customer(customer).await.unwrap(),
        before,
        "a related booking changes nothing on the profile"
    );
    assert_eq!(
        dir.customer_bookings(customer).await.unwrap().len(),
        2,
        "related bookings are listed with the customer"
    );
}

pub async fn empty_details_never_count_as_different<S: Store + Clone + 'static>(store: S) {
    let dir = directory(store.clone());
    let (_, first) = record(
        &dir,
        booking(
            "E-1",
            BookingStatus::PAID,
            contact("e@example.com", "Eve", ""),
        ),
    )
    .await;
    let customer = customer_of(&first);
    let (_, outcome) = record(
        &dir,
        booking(
            "E-2",
            BookingStatus::PAID,
            contact("e@example.com", "", "Stone"),
        ),
    )
    .await;
    assert_eq!(
        outcome,
        AttributionOutcome::Attached {
            customer,
            filled: vec![Detail::FamilyName],
            reactivated: false
        }
    );
}

pub async fn new_email_with_locked_status_creates_a_customer<S: Store + Clone + 'static>(store: S) {
    let dir = directory(store.clone());
    let mut details = contact("New@Example.com", "Nia", "Long");
    details
        .custom_fields
        .insert("diet".into(), Text::parse("vegan").unwrap());
    let (id, outcome) = record(&dir, booking("N-1", BookingStatus::PAID, details.clone())).await;
    let customer = dir.customer(customer_of(&outcome)).await.unwrap();
    assert_eq!(outcome, AttributionOutcome::CreatedCustomer(customer.id));
    assert_eq!(
        customer.profile, details,
        "the profile starts as the booking's details"
    );
    assert_eq!(
        (customer.status, customer.created_at, customer.version),
        (CustomerStatus::Active, t0(), 1)
    );
    assert_eq!(
        dir.booking(id).await.unwrap().attribution,
        Attribution::Primary(customer.id)
    );
    assert_eq!(
        dir.find_by_email("new@example.com")
            .await
            .unwrap()
            .map(|c| c.id),
        Some(customer.id)
    );
}

pub async fn new_email_with_unlocked_status_stays_unattributed_until_locked<
    S: Store + Clone + 'static,
>(
    store: S,
) {
    let dir = directory(store.clone());
    for status in [
        BookingStatus::PENDING,
        BookingStatus::WAITING,
        BookingStatus::CANCELLED,
    ] {
        let (_, outcome) = record(
            &dir,
            booking("U-0", status, contact("wait@example.com", "W", "")),
        )
        .await;
        assert_eq!(
            outcome,
            AttributionOutcome::Unattributed(UnattributedReason::NotLocked)
        );
    }
    let (id, _) = record(
        &dir,
        booking(
            "U-1",
            BookingStatus::PENDING,
            contact("pend@example.com", "P", ""),
        ),
    )
    .await;
    assert!(
        dir.find_by_email("pend@example.com")
            .await
            .unwrap()
            .is_none()
    );
    let still = dir
        .change_booking_status(id, BookingStatus::WAITING, &Actor::staff("desk"))
        .await
        .unwrap();
    assert_eq!(
        still,
        AttributionOutcome::Unattributed(UnattributedReason::NotLocked)
    );
    let outcome = dir
        .change_booking_status(id, BookingStatus::CONFIRMED, &Actor::staff("desk"))
        .await
        .unwrap();
    let customer = customer_of(&outcome);
    assert_eq!(outcome, AttributionOutcome::CreatedCustomer(customer));
    let stored = dir.booking(id).await.unwrap();
    assert_eq!(
        (stored.status, stored.attribution),
        (BookingStatus::CONFIRMED, Attribution::Primary(customer))
    );
    // Further status changes keep the attribution.
    let again = dir
        .change_booking_status(id, BookingStatus::CANCELLED, &Actor::staff("desk"))
        .await
        .unwrap();
    assert_eq!(again, AttributionOutcome::AlreadyAttributed(customer));
    assert_eq!(
        dir.booking(id).await.unwrap().attribution,
        Attribution::Primary(customer)
    );
}

/// `Store::unattributed_bookings` lists a booking while it has no customer, not once it is
/// attributed, and again once it is detached; never one attributed from the start.
pub async fn port_unattributed_bookings_follow_attribution<S: Store + Clone + 'static>(store: S) {
    let dir = directory(store.clone());
    let key = EmailAddress::parse("Later@Example.com")
        .unwrap()
        .key()
        .clone();
    let listed = |store: S, key: crate::values::email::key::EmailKey| async move {
        store
            .unattributed_bookings(&key)
            .await
            .unwrap()
            .into_iter()
            .map(|booking| booking.id)
            .collect::<Vec<_>>()
    };
    let (pending, _) = record(
        &dir,
        booking(
            "UA-1",
            BookingStatus::PENDING,
            contact("later@example.com", "L", ""),
        ),
    )
    .await;
    assert_eq!(listed(store.clone(), key.clone()).await, vec![pending]);
    let outcome = dir
        .change_booking_status(pending, BookingStatus::CONFIRMED, &Actor::staff("desk"))
        .await
        .unwrap();
    let customer = customer_of(&outcome);
    assert!(
        listed(store.clone(), key.clone()).await.is_empty(),
        "attributed: not listed"
    );
    let (paid, _) = record(
        &dir,
        booking(
            "UA-2",
            BookingStatus::PAID,
            contact("later@example.com", "L", ""),
        ),
    )
    .await;
    assert_eq!(
        dir.booking(paid).await.unwrap().attribution,
        Attribution::Primary(customer)
    );
    assert!(
        listed(store.clone(), key.clone()).await.is_empty(),
        "attributed on arrival"
    );
    dir.detach_booking(
        pending,
        crate::service::directory::lifecycle::DetachMode::LeaveUnattributed,
        &Actor::staff("desk"),
    )
    .await
    .unwrap();
    assert_eq!(
        listed(store.clone(), key.clone()).await,
        vec![pending],
        "detached: listed again"
    );
}

pub async fn booking_without_email_stays_unattributed<S: Store + Clone + 'static>(store: S) {
    let dir = directory(store.clone());
    let (id, outcome) = record(
        &dir,
        booking("X-1", BookingStatus::PAID, contact("", "Walk", "In")),
    )
    .await;
    assert_eq!(
        outcome,
        AttributionOutcome::Unattributed(UnattributedReason::NoEmail)
    );
    assert_eq!(
        dir.booking(id).await.unwrap().attribution,
        Attribution::Unattributed
    );
}

pub async fn locked_statuses_follow_the_settings<S: Store + Clone + 'static>(store: S) {
    let mut settings = DirectorySettings::default();
    let enquiry = BookingStatus::new("enquiry").unwrap();
    settings.unlocked_statuses.insert(enquiry.clone());
    settings.unlocked_statuses.remove(&BookingStatus::WAITING);
    let dir = directory_with(store.clone(), settings);
    let (_, outcome) = record(
        &dir,
        booking("S-1", enquiry, contact("enq@example.com", "E", "")),
    )
    .await;
    assert_eq!(
        outcome,
        AttributionOutcome::Unattributed(UnattributedReason::NotLocked)
    );
    let (_, outcome) = record(
        &dir,
        booking(
            "S-2",
            BookingStatus::WAITING,
            contact("wl@example.com", "W", ""),
        ),
    )
    .await;
    assert!(
        matches!(outcome, AttributionOutcome::CreatedCustomer(_)),
        "{outcome:?}"
    );
    let custom = BookingStatus::new("checked-in").unwrap();
    let (_, outcome) = record(
        &dir,
        booking("S-3", custom, contact("ci@example.com", "C", "")),
    )
    .await;
    assert!(
        matches!(outcome, AttributionOutcome::CreatedCustomer(_)),
        "a host's own status locks by default"
    );
}

pub async fn filling_from_a_booking_never_overwrites<S: Store + Clone + 'static>(store: S) {
    let dir = directory(store.clone());
    let (_, first) = record(
        &dir,
        booking(
            "F-1",
            BookingStatus::PAID,
            contact("fill@example.com", "Fay", ""),
        ),
    )
    .await;
    let customer = customer_of(&first);
    let mut more = contact("fill@example.com", "", "Wong");
    more.phone = Some(Phone::parse("+1 415 555 0132", None).unwrap());
    more.display_name = name("Fay W.");
    let (_, outcome) = record(&dir, booking("F-2", BookingStatus::PAID, more)).await;
    assert_eq!(
        outcome,
        AttributionOutcome::Attached {
            customer,
            filled: vec![Detail::FamilyName, Detail::DisplayName, Detail::Phone],
            reactivated: false
        }
    );
    let profile = dir.customer(customer).await.unwrap().profile;
    assert_eq!(profile.given_name, name("Fay"));
    assert_eq!(profile.family_name, name("Wong"));
    // A later booking with another display name but agreeing identity details changes nothing.
    let mut again = contact("fill@example.com", "Fay", "Wong");
    again.display_name = name("F. Wong");
    let before = dir.customer(customer).await.unwrap();
    let (_, outcome) = record(&dir, booking("F-3", BookingStatus::PAID, again)).await;
    assert_eq!(
        outcome,
        AttributionOutcome::Attached {
            customer,
            filled: vec![],
            reactivated: false
        }
    );
    assert_eq!(dir.customer(customer).await.unwrap(), before);
}

pub async fn archived_customer_matches_and_is_reactivated<S: Store + Clone + 'static>(store: S) {
    let mut archived = Customer::new(contact("arch@example.com", "Ari", ""), t0());
    archived.status = CustomerStatus::Archived;
    let archived = save_customer(&store, archived).await;
    let dir = directory(store.clone());
    let (_, outcome) = record(
        &dir,
        booking(
            "A-1",
            BookingStatus::PAID,
            contact("arch@example.com", "Ari", ""),
        ),
    )
    .await;
    assert_eq!(
        outcome,
        AttributionOutcome::Attached {
            customer: archived.id,
            filled: vec![],
            reactivated: true
        }
    );
    assert_eq!(
        dir.customer(archived.id).await.unwrap().status,
        CustomerStatus::Active
    );
}

pub async fn archived_customer_stays_archived_when_reactivation_is_off<
    S: Store + Clone + 'static,
>(
    store: S,
) {
    let mut archived = Customer::new(contact("quiet@example.com", "Q", ""), t0());
    archived.status = CustomerStatus::Archived;
    let archived = save_customer(&store, archived).await;
    let settings = DirectorySettings {
        reactivate_archived_on_booking: false,
        ..DirectorySettings::default()
    };
    let dir = directory_with(store.clone(), settings);
    let (_, outcome) = record(
        &dir,
        booking(
            "A-2",
            BookingStatus::PAID,
            contact("quiet@example.com", "Q", ""),
        ),
    )
    .await;
    assert_eq!(
        outcome,
        AttributionOutcome::Attached {
            customer: archived.id,
            filled: vec![],
            reactivated: false
        }
    );
    assert_eq!(
        dir.customer(archived.id).await.unwrap().status,
        CustomerStatus::Archived
    );
}

pub async fn redacted_customer_never_matches<S: Store + Clone + 'static>(store: S) {
    let mut redacted = Customer::new(contact("erased@example.com", "Old", ""), t0());
    redacted.status = CustomerStatus::Redacted;
    let redacted = save_customer(&store, redacted).await;
    let dir = directory(store.clone());
    let (_, outcome) = record(
        &dir,
        booking(
            "Z-1",
            BookingStatus::PAID,
            contact("erased@example.com", "Old", ""),
        ),
    )
    .await;
    let fresh = customer_of(&outcome);
    assert_eq!(outcome, AttributionOutcome::CreatedCustomer(fresh));
    assert_ne!(fresh, redacted.id);
    assert!(dir.customer_bookings(redacted.id).await.unwrap().is_empty());
}

pub async fn detached_booking_is_not_reattached_to_its_former_customer<
    S: Store + Clone + 'static,
>(
    store: S,
) {
    let dir = directory(store.clone());
    let (_, first) = record(
        &dir,
        booking(
            "T-1",
            BookingStatus::PAID,
            contact("det@example.com", "D", ""),
        ),
    )
    .await;
    let customer = customer_of(&first);
    let (id, _) = record(
        &dir,
        booking(
            "T-2",
            BookingStatus::PENDING,
            contact("det@example.com", "D", ""),
        ),
    )
    .await;
    // Staff detach the booking (the lifecycle operation writes exactly this).
    let mut detached = dir.booking(id).await.unwrap();
    detached.attribution = Attribution::Unattributed;
    detached.detached_from = Some(customer);
    let mut changes = ChangeSet::new();
    changes.save_booking(detached);
    store.commit(changes).await.unwrap();
    let outcome = dir
        .change_booking_status(id, BookingStatus::CONFIRMED, &Actor::staff("desk"))
        .await
        .unwrap();
    assert_eq!(
        outcome,
        AttributionOutcome::Unattributed(UnattributedReason::Detached(customer))
    );
    let stored = dir.booking(id).await.unwrap();
    assert_eq!(
        (stored.attribution, stored.status),
        (Attribution::Unattributed, BookingStatus::CONFIRMED)
    );
    assert_eq!(dir.customer_bookings(customer).await.unwrap().len(), 1);
}

pub async fn alias_email_attaches_to_its_customer<S: Store + Clone + 'static>(store: S) {
    let mut merged = Customer::new(contact("now@example.com", "Al", ""), t0());
    merged
        .aliases
        .push(EmailAddress::parse("then@example.com").unwrap());
    let merged = save_customer(&store, merged).await;
    let dir = directory(store.clone());
    let (_, outcome) = record(
        &dir,
        booking(
            "L-1",
            BookingStatus::PAID,
            contact("THEN@example.com", "Al", ""),
        ),
    )
    .await;
    assert_eq!(
        outcome,
        AttributionOutcome::Attached {
            customer: merged.id,
            filled: vec![],
            reactivated: false
        }
    );
}

pub async fn invalid_booking_reports_every_problem<S: Store + Clone + 'static>(store: S) {
    let dir = directory(store.clone());
    let mut bad = booking(
        " ",
        BookingStatus::PAID,
        contact("inv@example.com", "I", ""),
    );
    bad.paid = Money::zero(Currency::parse("USD").unwrap());
    bad.ends_at = Some(t0() - chrono::TimeDelta::hours(1));
    match dir.record_booking(bad, &Actor::System).await {
        Err(Error::InvalidBooking(problems)) => assert_eq!(problems.len(), 3, "{problems:?}"),
        other => panic!("expected InvalidBooking, got {other:?}"),
    }
    assert!(
        dir.find_by_email("inv@example.com")
            .await
            .unwrap()
            .is_none()
    );
}

/// 8 tasks record 1,000 bookings over 50 new emails (case and white space vary): exactly 50
/// customers, every booking stored once and attributed to its email's customer.
pub async fn concurrent_bookings_create_exactly_one_customer_per_email<
    S: Store + Clone + 'static,
>(
    store: S,
) {
    const TASKS: usize = 8;
    const BOOKINGS: usize = 1_000;
    const EMAILS: usize = 50;
    let dir = std::sync::Arc::new(directory(store.clone()));
    let mut tasks = Vec::new();
    for task in 0..TASKS {
        let dir = dir.clone();
        tasks.push(tokio::spawn(async move {
            let mut recorded = Vec::new();
            for n in (task..BOOKINGS).step_by(TASKS) {
                let email = match n % 3 {
                    0 => format!("guest{}@example.com", n % EMAILS),
                    1 => format!(" Guest{}@EXAMPLE.com", n % EMAILS),
                    _ => format!("GUEST{}@example.COM ", n % EMAILS),
                };
                let new = booking(
                    &format!("C-{n}"),
                    BookingStatus::PAID,
                    contact(&email, "Guest", ""),
                );
                let done = dir
                    .record_booking(new, &Actor::System)
                    .await
                    .expect("no booking may fail under contention");
                recorded.push((n % EMAILS, done));
            }
            recorded
        }));
    }
    let mut by_email: HashMap<usize, HashSet<crate::values::ids::CustomerId>> = HashMap::new();
    let mut booking_ids = HashSet::new();
    for task in tasks {
        for (email, done) in task.await.unwrap() {
            by_email
                .entry(email)
                .or_default()
                .insert(customer_of(&done.outcome));
            assert!(
                booking_ids.insert(done.booking),
                "booking id returned twice"
            );
        }
    }
    assert_eq!(booking_ids.len(), BOOKINGS);
    assert_eq!(by_email.len(), EMAILS);
    let mut seen = HashSet::new();
    for (email, customers) in &by_email {
        assert_eq!(customers.len(), 1, "email {email} went to {customers:?}");
        let customer = *customers.iter().next().unwrap();
        let found = dir
            .find_by_email(&format!("guest{email}@example.com"))
            .await
            .unwrap();
        assert_eq!(found.map(|c| c.id), Some(customer));
        for booking in dir.customer_bookings(customer).await.unwrap() {
            assert_eq!(booking.attribution, Attribution::Primary(customer));
            assert!(
                seen.insert(booking.id),
                "booking listed under two customers"
            );
        }
    }
    assert_eq!(
        seen, booking_ids,
        "every booking is listed under its customer exactly once"
    );
}

#[cfg(test)]
mod suite_tests {
    use std::collections::BTreeSet;

    /// Every `pub async fn` written in the suite's files is a scenario the macro runs, and
    /// every scenario it runs is written once: a scenario cannot be added and forgotten.
    #[test]
    fn every_written_scenario_is_run_and_listed_once() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/testing");
        let mut files = vec![root.join("conformance.rs")];
        for entry in std::fs::read_dir(root.join("conformance")).unwrap() {
            files.push(entry.unwrap().path());
        }
        // A scenario is a public async fn that takes the store and returns nothing; public
        // fixtures (`ids`) return what they read.
        let mut written = BTreeSet::new();
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
                assert!(written.insert(name.clone()), "{name} is written twice");
            }
        }
        let listed: BTreeSet<String> = super::SCENARIOS.iter().map(|s| s.to_string()).collect();
        assert_eq!(
            listed.len(),
            super::SCENARIOS.len(),
            "a scenario is listed twice"
        );
        let unlisted: Vec<_> = written.difference(&listed).collect();
        assert!(
            unlisted.is_empty(),
            "written but not run by conformance_tests!: {unlisted:?}"
        );
        let unwritten: Vec<_> = listed.difference(&written).collect();
        assert!(
            unwritten.is_empty(),
            "listed but not found in the files: {unwritten:?}"
        );
        assert!(written.len() > 100, "the scan found the scenarios");
    }
}
