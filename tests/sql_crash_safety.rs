//! Crash safety of the SQL adapters: a commit that fails half-way, after some of its
//! statements already ran, leaves every table byte-for-byte as it was.
//!
//! Three ways to fail late: an email key another customer holds (after the customer rows
//! were rewritten), a merge record at the wrong version (after customers, keys and bookings
//! were written), and a database error (a booking pointing at a customer that does not exist,
//! which the foreign key refuses), and a token for an account that does not exist (after the
//! account rows were rewritten). And the commits that take one call (recording a booking):
//! an email key another customer holds, or a booking id already stored, found after the
//! statistics, the new customer and its totals were written.
#![cfg(any(feature = "sqlite", feature = "postgres"))]

mod support;

use chrono::{TimeZone, Utc};
use customer_directory::Store;
use customer_directory::decisions::plan_merge;
use customer_directory::ports::store::ChangeSet;
use customer_directory::ports::store::{AccountStore, BulkReadStore, SearchStore};
use customer_directory::ports::store::{Conflict, StoreError};
use customer_directory::records::ResetToken;
use customer_directory::records::{
    Account, AccountToken, Attribution, AuditAction, AuditEvent, BlockEntry, BlockTarget,
    TokenPurpose,
};
use customer_directory::values::{HashParams, PasswordHashing};
use customer_directory::{
    Actor, Booking, BookingStatus, Currency, Customer, CustomerId, EmailAddress, MergeRequest,
    Money, NewBooking, PersonName, Profile,
};

/// Every column of every row of every table, as text, in a fixed order.
const DUMP: [&str; 17] = [
    "SELECT id || '|' || search_text || '|' || sort_name || '|' || initial || '|' || COALESCE(country, '-') FROM cd_customers ORDER BY id",
    "SELECT customer_id || '|' || currency || '|' || CAST(total AS TEXT) FROM cd_customer_totals ORDER BY customer_id, currency",
    "SELECT list_id || '|' || customer_id FROM cd_customer_lists ORDER BY list_id, customer_id",
    "SELECT field_key || '|' || value || '|' || customer_id FROM cd_customer_fields ORDER BY field_key, value, customer_id",
    "SELECT id || '|' || CAST(version AS TEXT) || '|' || status || '|' || CAST(created_at AS TEXT) || '|' || record FROM cd_customers ORDER BY id",
    "SELECT email_key || '|' || customer_id FROM cd_customer_email_keys ORDER BY email_key",
    "SELECT id || '|' || CAST(version AS TEXT) || '|' || COALESCE(customer_id, '-') || '|' || COALESCE(email_key, '-') || '|' || CAST(starts_at AS TEXT) || '|' || CAST(created_at AS TEXT) || '|' || record FROM cd_bookings ORDER BY id",
    "SELECT match_key || '|' || holder FROM cd_match_keys ORDER BY match_key, holder",
    "SELECT id || '|' || CAST(version AS TEXT) || '|' || CAST(merged_at AS TEXT) || '|' || record FROM cd_merges ORDER BY id",
    "SELECT customer_id || '|' || merge_id FROM cd_merge_participants ORDER BY customer_id, merge_id",
    "SELECT CAST(seq AS TEXT) || '|' || CAST(at AS TEXT) || '|' || record FROM cd_audit_events ORDER BY seq",
    "SELECT customer_id || '|' || CAST(event_seq AS TEXT) FROM cd_audit_event_customers ORDER BY customer_id, event_seq",
    "SELECT target || '|' || record FROM cd_blocklist ORDER BY target",
    "SELECT id || '|' || CAST(version AS TEXT) || '|' || COALESCE(email_key, '-') || '|' || COALESCE(customer_id, '-') || '|' || record FROM cd_accounts ORDER BY id",
    "SELECT hash || '|' || account_id || '|' || CAST(version AS TEXT) || '|' || CAST(created_at AS TEXT) || '|' || record FROM cd_account_tokens ORDER BY hash",
    "SELECT CAST(version AS TEXT) || '|' || applied_at FROM cd_migrations ORDER BY version",
    "SELECT customer_id || '|' || CAST(booking_count AS TEXT) || '|' || CAST(last_booking_at AS TEXT) || '|' || CAST(last_activity_at AS TEXT) FROM cd_customer_stats ORDER BY customer_id",
];

fn contact(email: &str, name: &str) -> Profile {
    Profile {
        given_name: Some(PersonName::parse(name).unwrap()),
        email: Some(EmailAddress::parse(email).unwrap()),
        ..Profile::default()
    }
}

struct World {
    ana: Customer,
    bo: Customer,
    booking: Booking,
    ana_account: Account,
}

/// Two customers and a booking, committed.
async fn populate<S: Store + AccountStore + SearchStore + BulkReadStore>(store: &S) -> World {
    let now = Utc.with_ymd_and_hms(2026, 6, 1, 9, 0, 0).unwrap();
    let ana = Customer::new(contact("ana@example.com", "Ana"), now);
    let bo = Customer::new(contact("bo@example.com", "Bo"), now);
    let mut booking = Booking::from_new(
        NewBooking::new(
            "CS-1",
            BookingStatus::PAID,
            ana.profile.clone(),
            now,
            Money::new(5000, Currency::parse("EUR").unwrap()),
        ),
        now,
    );
    booking.attribution = Attribution::Primary(ana.id);
    let mut changes = ChangeSet::new();
    changes
        .save_customer(ana.clone())
        .save_customer(bo.clone())
        .save_booking(booking.clone());
    changes
        .record(AuditEvent::new(now, Actor::System, AuditAction::BookingRecorded).customer(ana.id));
    let hashing = PasswordHashing::with_params(HashParams::new(64, 1, 1).unwrap()).unwrap();
    let mut account = Account::new(
        EmailAddress::parse("ana@example.com").unwrap(),
        hashing.hash("Plum-Tractor-Velvet-9").unwrap(),
        now,
    );
    account.customer = Some(ana.id);
    let (_secret, hash) = ResetToken::generate().unwrap();
    changes
        .save_account(account.clone())
        .save_account_token(AccountToken::new(
            hash,
            account.id,
            TokenPurpose::PasswordReset,
            account.credential_version,
            now,
            now + chrono::Duration::minutes(30),
        ));
    store.commit(changes).await.unwrap();
    World {
        ana_account: store.account(account.id).await.unwrap().unwrap(),
        ana: store.customer(ana.id).await.unwrap().unwrap(),
        bo: store.customer(bo.id).await.unwrap().unwrap(),
        booking: store.booking(booking.id).await.unwrap().unwrap(),
    }
}

/// Writes to every table, then `failure` decides how the commit ends.
fn late_failing_changes(world: &World, failure: &str) -> ChangeSet {
    let now = Utc.with_ymd_and_hms(2026, 6, 2, 9, 0, 0).unwrap();
    let mut changes = ChangeSet::new();
    let mut ana = world.ana.clone();
    ana.profile.given_name = Some(PersonName::parse("Anabela").unwrap());
    ana.aliases
        .push(EmailAddress::parse("anabela@example.com").unwrap());
    changes.save_customer(ana);
    let mut booking = world.booking.clone();
    booking.status = BookingStatus::COMPLETED;
    changes.save_booking(booking);
    let mut fresh = Booking::from_new(
        NewBooking::new(
            "CS-2",
            BookingStatus::PAID,
            contact("new@example.com", "New"),
            now,
            Money::new(100, Currency::parse("EUR").unwrap()),
        ),
        now,
    );
    match failure {
        "email key" => {
            // A new customer claiming Bo's key: refused after Ana's rows were rewritten.
            changes.save_customer(Customer::new(contact("BO@example.com", "Other"), now));
        }
        "merge version" => {
            // A real merge record, claimed to be at a version that is not stored.
            let request = MergeRequest::new(world.ana.id, [world.bo.id]);
            let plan = plan_merge(
                world.ana.clone(),
                vec![world.bo.clone()],
                Vec::new(),
                &request,
                now,
            )
            .unwrap();
            let mut merge = plan.changes.merges()[0].record.clone();
            merge.version = 4;
            changes.save_merge(merge);
        }
        "missing account" => {
            // Ana's account changes its login and releases its claim; then a token names an
            // account nobody stored.
            let mut account = world.ana_account.clone();
            account.email = EmailAddress::parse("anabela@example.com").unwrap();
            account.customer = None;
            changes.save_account(account);
            let (_secret, hash) = ResetToken::generate().unwrap();
            changes.save_account_token(AccountToken::new(
                hash,
                customer_directory::AccountId::new(),
                TokenPurpose::PasswordReset,
                1,
                now,
                now,
            ));
        }
        "foreign key" => {
            // A booking for a customer nobody stored: the foreign key fails the statement.
            fresh.attribution = Attribution::Primary(CustomerId::new());
        }
        _ => {}
    }
    changes.save_booking(fresh);
    changes.record(
        AuditEvent::new(now, Actor::System, AuditAction::BookingRecorded).customer(world.ana.id),
    );
    changes.add_block(BlockEntry::new(
        BlockTarget::domain("spam.example").unwrap(),
        "test",
        now,
    ));
    changes
}

/// What recording two bookings commits (one for Ana, one creating a customer), which the SQL
/// stores write in one call; `failure` makes a check in it fail after rows were written.
fn one_call_failing_changes(world: &World, failure: &str) -> ChangeSet {
    let now = Utc.with_ymd_and_hms(2026, 6, 3, 9, 0, 0).unwrap();
    let new_booking = |code: &str, email: &str, name: &str| {
        Booking::from_new(
            NewBooking::new(
                code,
                BookingStatus::PAID,
                contact(email, name),
                now,
                Money::new(700, Currency::parse("USD").unwrap()),
            ),
            now,
        )
    };
    let mut changes = ChangeSet::new();
    let mut for_ana = new_booking("CS-3", "ana@example.com", "Ana");
    for_ana.attribution = Attribution::Primary(world.ana.id);
    changes.guard_customer(world.ana.id, world.ana.version);
    changes.save_booking(for_ana);
    let email = if failure == "email key" {
        "BO@example.com"
    } else {
        "cy@example.com"
    };
    let newcomer = Customer::new(contact(email, "Cy"), now);
    let mut for_newcomer = new_booking("CS-4", email, "Cy");
    if failure == "booking id" {
        for_newcomer.id = world.booking.id;
    }
    for_newcomer.attribution = Attribution::Primary(newcomer.id);
    changes.record(
        AuditEvent::new(now, Actor::System, AuditAction::BookingRecorded)
            .customer(world.ana.id)
            .customer(newcomer.id),
    );
    changes.save_customer(newcomer);
    changes.save_booking(for_newcomer);
    changes
}

macro_rules! crash_safety_tests {
    ($make_store:expr, $dump:ident) => {
        #[tokio::test]
        async fn a_key_conflict_after_rewrites_leaves_every_row_as_it_was() {
            let Some(store) = $make_store.await else { return };
            let world = populate(&store).await;
            let before = $dump(&store).await;
            let error = store.commit(late_failing_changes(&world, "email key")).await.unwrap_err();
            assert!(matches!(error, StoreError::Conflict(Conflict::EmailKeyTaken { holder, .. }) if holder == world.bo.id), "{error}");
            assert_eq!($dump(&store).await, before);
        }

        #[tokio::test]
        async fn a_version_conflict_on_the_last_check_leaves_every_row_as_it_was() {
            let Some(store) = $make_store.await else { return };
            let world = populate(&store).await;
            let before = $dump(&store).await;
            let error = store.commit(late_failing_changes(&world, "merge version")).await.unwrap_err();
            assert!(matches!(error, StoreError::Conflict(Conflict::MergeVersion { .. })), "{error}");
            assert_eq!($dump(&store).await, before);
        }

        #[tokio::test]
        async fn a_token_for_a_missing_account_after_account_rewrites_leaves_every_row_as_it_was() {
            let Some(store) = $make_store.await else { return };
            let world = populate(&store).await;
            let before = $dump(&store).await;
            let error = store.commit(late_failing_changes(&world, "missing account")).await.unwrap_err();
            assert!(matches!(error, StoreError::Conflict(Conflict::AccountMissing(_))), "{error}");
            assert_eq!($dump(&store).await, before);
        }

        #[tokio::test]
        async fn a_database_error_half_way_leaves_every_row_as_it_was() {
            let Some(store) = $make_store.await else { return };
            let world = populate(&store).await;
            let before = $dump(&store).await;
            let error = store.commit(late_failing_changes(&world, "foreign key")).await.unwrap_err();
            assert!(matches!(error, StoreError::Backend { .. }), "{error}");
            assert_eq!($dump(&store).await, before);
            // And the store still works.
            store.commit(late_failing_changes(&world, "none")).await.unwrap();
            assert_ne!($dump(&store).await, before, "a later commit applies");
        }

        #[tokio::test]
        async fn a_key_conflict_in_a_one_call_commit_leaves_every_row_as_it_was() {
            let Some(store) = $make_store.await else { return };
            let world = populate(&store).await;
            let before = $dump(&store).await;
            let error = store.commit(one_call_failing_changes(&world, "email key")).await.unwrap_err();
            assert!(matches!(error, StoreError::Conflict(Conflict::EmailKeyTaken { holder, .. }) if holder == world.bo.id), "{error}");
            assert_eq!($dump(&store).await, before);
        }

        #[tokio::test]
        async fn a_booking_id_taken_in_a_one_call_commit_leaves_every_row_as_it_was() {
            let Some(store) = $make_store.await else { return };
            let world = populate(&store).await;
            let before = $dump(&store).await;
            let error = store.commit(one_call_failing_changes(&world, "booking id")).await.unwrap_err();
            assert!(matches!(error, StoreError::Conflict(Conflict::BookingVersion { .. })), "{error}");
            assert_eq!($dump(&store).await, before);
            // The same commit without the clash applies, statistics and totals included.
            store.commit(one_call_failing_changes(&world, "none")).await.unwrap();
            let after = $dump(&store).await;
            let usd: Vec<&String> = after[1].iter().filter(|row| row.ends_with("|USD|700")).collect();
            assert_eq!(usd.len(), 2, "Ana's and the new customer's totals: {:?}", after[1]);
            assert!(usd.iter().any(|row| row.starts_with(&world.ana.id.to_string())), "{usd:?}");
            assert_eq!(after[1].len(), before[1].len() + 2, "{:?}", after[1]);
        }
    };
}

#[cfg(feature = "sqlite")]
mod sqlite {
    use super::*;
    use customer_directory::SqliteStore;

    async fn store() -> Option<SqliteStore> {
        let path = crate::support::temp_test_path("crash", ".db");
        let store = SqliteStore::connect(&format!("sqlite://{}", path.display()))
            .await
            .unwrap();
        store.migrate().await.unwrap();
        Some(store)
    }

    async fn dump(store: &SqliteStore) -> Vec<Vec<String>> {
        let tables = store
            .with_connection(|connection| {
                DUMP.iter()
                    .map(|sql| {
                        let mut statement = connection.prepare(sql).unwrap();
                        statement
                            .query_map([], |row| row.get::<_, String>(0))
                            .unwrap()
                            .collect::<Result<Vec<_>, _>>()
                            .unwrap()
                    })
                    .collect::<Vec<_>>()
            })
            .await
            .unwrap();
        assert!(!tables[0].is_empty(), "the dump sees the rows");
        tables
    }

    crash_safety_tests!(store(), dump);
}

#[cfg(feature = "postgres")]
mod postgres {
    use super::*;
    use customer_directory::PostgresStore;

    async fn store() -> Option<PostgresStore> {
        let url = support::postgres_url("crash-safety test")?;
        let store = support::fresh_postgres_store(&url, "cd_crash").await;
        Some(store)
    }

    async fn dump(store: &PostgresStore) -> Vec<Vec<String>> {
        let mut tables = Vec::new();
        for sql in DUMP {
            tables.push(
                sqlx::query_scalar::<_, String>(sql)
                    .fetch_all(store.pool())
                    .await
                    .unwrap(),
            );
        }
        assert!(!tables[0].is_empty(), "the dump sees the rows");
        tables
    }

    crash_safety_tests!(store(), dump);
}
