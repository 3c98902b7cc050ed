//! `migrate()` on the SQL adapters: versioned, idempotent, and safe when several processes
//! (here: several stores, each with its own pool) start on one empty database at once.
#![cfg(any(feature = "sqlite", feature = "postgres"))]

mod support;

use chrono::{TimeZone, Utc};
#[cfg(any(feature = "testing", feature = "postgres"))]
use customer_directory::CustomerId;
use customer_directory::Store;
use customer_directory::ports::store::ChangeSet;
use customer_directory::ports::store::{AccountStore, BulkReadStore, SearchStore};
use customer_directory::{Customer, EmailAddress, Profile};

/// How many stores race to migrate one database.
const RACERS: usize = 4;

/// One store's `migrate()` call, started.
type Migrating = std::pin::Pin<Box<dyn Future<Output = Result<(), String>> + Send>>;

/// What migration 5 (search columns) adds, undone: the schema as version 4 left it.
const UNDO_SEARCH_MIGRATION: &[&str] = &[
    "DROP TABLE cd_customer_totals",
    "DROP TABLE cd_customer_lists",
    "DROP TABLE cd_customer_fields",
    "DROP INDEX cd_customers_sort_name",
    "DROP INDEX cd_customers_created",
    "DROP INDEX cd_customers_last_booking",
    "DROP INDEX cd_customers_booking_count",
    "DROP INDEX cd_customers_initial",
    "DROP INDEX cd_customers_country",
    "ALTER TABLE cd_customers DROP COLUMN search_text",
    "ALTER TABLE cd_customers DROP COLUMN sort_name",
    "ALTER TABLE cd_customers DROP COLUMN initial",
    "ALTER TABLE cd_customers DROP COLUMN country",
    "ALTER TABLE cd_customers DROP COLUMN booking_count",
    "ALTER TABLE cd_customers DROP COLUMN last_booking_at",
    "DELETE FROM cd_migrations WHERE version = 5",
];

/// What migration 10 (the suggestion index by holder) did, undone: each booking indexed
/// under the keys of its holder, which migration 10 folds back into the same rows.
const UNDO_MATCH_KEYS_MIGRATION: &[&str] = &[
    "CREATE TABLE cd_booking_match_keys (
        match_key TEXT NOT NULL,
        booking_id TEXT NOT NULL,
        PRIMARY KEY (match_key, booking_id)
    )",
    "INSERT INTO cd_booking_match_keys (match_key, booking_id)
     SELECT m.match_key, b.id FROM cd_match_keys m JOIN cd_bookings b
     ON b.customer_id = m.holder OR (b.customer_id IS NULL AND b.id = m.holder)",
    "DROP TABLE cd_match_keys",
    "DELETE FROM cd_migrations WHERE version = 10",
];

/// What migration 8 (the booking code column) did, undone, after migration 9 (which
/// dropped two foreign keys on PostgreSQL: running it again finds them gone).
const UNDO_BOOKING_CODE_MIGRATION: &[&str] = &[
    "DELETE FROM cd_migrations WHERE version = 9",
    "DROP INDEX cd_bookings_code",
    "ALTER TABLE cd_bookings DROP COLUMN code",
    "DELETE FROM cd_migrations WHERE version = 8",
];

/// What migration 7 (booking statistics in their own table) did, undone: the schema as
/// version 6 left it, its statistics columns back at their defaults.
const UNDO_STATISTICS_MIGRATION: &[&str] = &[
    "DROP TABLE cd_customer_stats",
    "ALTER TABLE cd_customers ADD COLUMN booking_count BIGINT NOT NULL DEFAULT 0",
    "ALTER TABLE cd_customers ADD COLUMN last_booking_at BIGINT NOT NULL \
     DEFAULT -9223372036854775807",
    "CREATE INDEX cd_customers_last_booking ON cd_customers (last_booking_at, id)",
    "CREATE INDEX cd_customers_booking_count ON cd_customers (booking_count, id)",
    "CREATE INDEX cd_bookings_customer_created ON cd_bookings (customer_id, created_at)",
    "CREATE INDEX cd_customer_totals_value ON cd_customer_totals (currency, total, customer_id)",
    "CREATE INDEX cd_booking_match_keys_booking ON cd_booking_match_keys (booking_id)",
    "DELETE FROM cd_migrations WHERE version = 7",
];

/// The statements that take a fully migrated schema back to what version 4 left.
#[cfg(feature = "testing")]
fn back_to_version_4() -> Vec<&'static str> {
    let mut statements = UNDO_MATCH_KEYS_MIGRATION.to_vec();
    statements.extend_from_slice(UNDO_BOOKING_CODE_MIGRATION);
    statements.extend_from_slice(UNDO_STATISTICS_MIGRATION);
    statements.extend_from_slice(UNDO_SEARCH_MIGRATION);
    statements
}

/// The statements that take a fully migrated schema back to what migration 1 left, given
/// those that undo migration 6 (which differs between the databases).
fn back_to_version_1(undo_migration_6: &[&'static str]) -> Vec<&'static str> {
    let mut statements = UNDO_MATCH_KEYS_MIGRATION.to_vec();
    statements.extend_from_slice(UNDO_BOOKING_CODE_MIGRATION);
    statements.extend_from_slice(UNDO_STATISTICS_MIGRATION);
    statements.extend_from_slice(undo_migration_6);
    statements.extend_from_slice(UNDO_SEARCH_MIGRATION);
    statements.extend_from_slice(&[
        "DROP INDEX cd_bookings_customer_created",
        "DROP TABLE cd_account_tokens",
        "DROP TABLE cd_accounts",
        "DROP TABLE cd_lists",
        "DELETE FROM cd_migrations WHERE version > 1",
    ]);
    statements
}

#[cfg(feature = "testing")]
/// What a directory at version 4 holds before the upgrade: three customers (one in a list,
/// one with a custom field), bookings in two currencies, one cancelled.
struct Seeded {
    ana: CustomerId,
    bo: CustomerId,
    cy: CustomerId,
    list: customer_directory::values::ListId,
}

#[cfg(feature = "testing")]
async fn seed<S: Store + AccountStore + SearchStore + BulkReadStore + Clone + 'static>(
    store: S,
) -> Seeded {
    use customer_directory::testing::conformance::{contact, directory};
    use customer_directory::{Actor, BookingStatus, Currency, Money, NewBooking, Text};
    let dir = directory(store);
    let staff = Actor::staff("upgrade");
    let mut ana_profile = contact("ana@example.com", "Ana", "Silva");
    ana_profile
        .custom_fields
        .insert("diet".into(), Text::parse("vegan").unwrap());
    let ana = dir
        .create_customer(ana_profile.clone(), &staff)
        .await
        .unwrap()
        .customer;
    let bo_profile = contact("bo@example.com", "Bo", "Berg");
    let bo = dir
        .create_customer(bo_profile.clone(), &staff)
        .await
        .unwrap()
        .customer;
    let cy = dir
        .create_customer(contact("cy@example.com", "Cy", "Adams"), &staff)
        .await
        .unwrap()
        .customer;
    let eur = Currency::parse("EUR").unwrap();
    let at = Utc.with_ymd_and_hms(2026, 7, 1, 9, 0, 0).unwrap();
    for (profile, code, status, minor) in [
        (&ana_profile, "A-1", BookingStatus::PAID, 30_00),
        (&ana_profile, "A-2", BookingStatus::CANCELLED, 99_00),
        (&bo_profile, "B-1", BookingStatus::PAID, 10_00),
        (&bo_profile, "B-2", BookingStatus::PAID, 10_00),
        (&bo_profile, "B-3", BookingStatus::PAID, 10_00),
    ] {
        let new = NewBooking::new(code, status, profile.clone(), at, Money::new(minor, eur));
        dir.record_booking(new, &Actor::System).await.unwrap();
    }
    let list = dir
        .create_list(Text::parse("VIP").unwrap(), &staff)
        .await
        .unwrap();
    dir.add_to_list(cy, list, &staff).await.unwrap();
    Seeded { ana, bo, cy, list }
}

#[cfg(feature = "testing")]
/// After the upgrade, every query answers from the filled-in columns as for new data.
async fn assert_backfilled<
    S: Store + AccountStore + SearchStore + BulkReadStore + Clone + 'static,
>(
    store: S,
    seeded: &Seeded,
) {
    use customer_directory::ports::{SortBy, SortDirection};
    use customer_directory::testing::conformance::{directory, ids};
    use customer_directory::{Currency, CustomerQuery};
    let dir = directory(store);
    assert_eq!(
        ids(&dir, &CustomerQuery::new()).await,
        [seeded.cy, seeded.bo, seeded.ana],
        "by name"
    );
    let by_count = CustomerQuery::new().sorted_by(SortBy::BookingCount, SortDirection::Descending);
    assert_eq!(
        ids(&dir, &by_count).await,
        [seeded.bo, seeded.ana, seeded.cy]
    );
    let eur = Currency::parse("EUR").unwrap();
    let by_value =
        CustomerQuery::new().sorted_by(SortBy::TotalValue(eur), SortDirection::Descending);
    assert_eq!(
        ids(&dir, &by_value).await,
        [seeded.bo, seeded.ana, seeded.cy]
    );
    assert_eq!(
        ids(&dir, &CustomerQuery::new().text("SILVA")).await,
        [seeded.ana]
    );
    assert_eq!(
        ids(&dir, &CustomerQuery::new().in_list(seeded.list)).await,
        [seeded.cy]
    );
    assert_eq!(
        ids(
            &dir,
            &CustomerQuery::new().custom_field_equals("diet", "vegan")
        )
        .await,
        [seeded.ana]
    );
}

/// Runs `migrate` on every store at once, then once more on the first; every call must
/// succeed, and the schema must work afterwards.
async fn race_migrations<
    S: Store + AccountStore + SearchStore + BulkReadStore + Clone + 'static,
>(
    stores: Vec<S>,
    migrate: fn(S) -> Migrating,
) {
    let mut tasks = Vec::new();
    for store in stores.iter().cloned() {
        tasks.push(tokio::spawn(migrate(store)));
    }
    for task in tasks {
        task.await
            .expect("task")
            .expect("a concurrent migrate succeeds");
    }
    migrate(stores[0].clone())
        .await
        .expect("migrating a migrated database is a no-op");

    let customer = Customer::new(
        Profile {
            email: Some(EmailAddress::parse("migrated@example.com").unwrap()),
            ..Profile::default()
        },
        Utc.with_ymd_and_hms(2026, 6, 1, 9, 0, 0).unwrap(),
    );
    let mut changes = ChangeSet::new();
    changes.save_customer(customer.clone());
    stores[0].commit(changes).await.expect("commit");
    for store in &stores {
        let found = store.customer(customer.id).await.expect("read");
        assert_eq!(
            found.map(|c| c.id),
            Some(customer.id),
            "every store sees one schema"
        );
    }
}

#[cfg(feature = "sqlite")]
mod sqlite {
    use super::*;
    use customer_directory::SqliteStore;

    /// Runs each of `statements` on the store's connection.
    async fn execute(store: &SqliteStore, statements: Vec<&'static str>) {
        store
            .with_connection(move |connection| {
                for sql in statements {
                    connection
                        .execute_batch(sql)
                        .unwrap_or_else(|e| panic!("{sql}: {e}"));
                }
            })
            .await
            .unwrap();
    }

    /// The integers in the first column of what `sql` selects.
    async fn integers(store: &SqliteStore, sql: &'static str) -> Vec<i64> {
        store
            .with_connection(move |connection| {
                let mut statement = connection.prepare(sql).unwrap();
                statement
                    .query_map([], |row| row.get::<_, i64>(0))
                    .unwrap()
                    .collect::<Result<Vec<_>, _>>()
                    .unwrap()
            })
            .await
            .unwrap()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn concurrent_migrations_of_one_file_apply_each_version_once() {
        let path = crate::support::temp_test_path("migrate", ".db");
        let url = format!("sqlite://{}", path.display());
        let mut stores = Vec::new();
        for _ in 0..RACERS {
            stores.push(SqliteStore::connect(&url).await.expect("open"));
        }
        race_migrations(stores.clone(), |store| {
            Box::pin(async move { store.migrate().await.map_err(|e| e.to_string()) })
        })
        .await;
        let versions = integers(
            &stores[0],
            "SELECT version FROM cd_migrations ORDER BY version",
        )
        .await;
        assert_eq!(versions, vec![1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
        drop(stores);
        remove_database(&path);
    }

    #[tokio::test]
    async fn a_database_at_version_1_is_upgraded_to_the_latest() {
        let path = crate::support::temp_test_path("upgrade", ".db");
        let store = SqliteStore::connect(&format!("sqlite://{}", path.display()))
            .await
            .expect("open");
        store.migrate().await.expect("migrate");
        // Back to what version 1 left; migration 7 already dropped migration 6's table.
        execute(&store, back_to_version_1(&[])).await;
        let index = "SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND name = 'cd_customer_stats_booking_count'";
        assert_eq!(integers(&store, index).await, [0]);

        store.migrate().await.expect("upgrade");
        assert_eq!(
            integers(&store, index).await,
            [1],
            "the later migrations ran"
        );
        let versions = integers(&store, "SELECT version FROM cd_migrations ORDER BY version").await;
        assert_eq!(versions, vec![1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
        drop(store);
        remove_database(&path);
    }

    #[cfg(feature = "testing")]
    #[tokio::test]
    async fn a_database_at_version_4_gets_its_search_columns_filled() {
        let path = crate::support::temp_test_path("backfill", ".db");
        let store = SqliteStore::connect(&format!("sqlite://{}", path.display()))
            .await
            .expect("open");
        store.migrate().await.expect("migrate");
        let seeded = seed(store.clone()).await;
        execute(&store, back_to_version_4()).await;
        store.migrate().await.expect("upgrade");
        assert_backfilled(store.clone(), &seeded).await;
        drop(store);
        remove_database(&path);
    }

    /// Removes a test database with its WAL files (best effort: the tests do not depend on it).
    fn remove_database(path: &std::path::Path) {
        for suffix in ["", "-wal", "-shm"] {
            let mut file = path.as_os_str().to_owned();
            file.push(suffix);
            let _ = std::fs::remove_file(file);
        }
    }
}

#[cfg(feature = "postgres")]
mod postgres {
    use super::*;
    use customer_directory::PostgresStore;

    fn postgres_url() -> Option<String> {
        super::support::postgres_url("migration test")
    }

    #[tokio::test]
    async fn a_schema_at_version_1_is_upgraded_to_the_latest() {
        let Some(url) = postgres_url() else { return };
        let schema = format!("cd_migrate_{}", CustomerId::new().as_uuid().simple());
        let store = PostgresStore::connect_with_schema(&url, &schema)
            .await
            .expect("connect");
        store.migrate().await.expect("migrate");
        // Back to what version 1 left; migration 6 is the commit checks' function.
        for sql in back_to_version_1(&["DROP FUNCTION cd_expectations_met(boolean)"]) {
            sqlx::query(sql).execute(store.pool()).await.unwrap();
        }
        let index = "SELECT COUNT(*) FROM pg_indexes WHERE schemaname = current_schema() \
                     AND indexname = 'cd_customer_stats_booking_count'";
        let count: i64 = sqlx::query_scalar(index)
            .fetch_one(store.pool())
            .await
            .unwrap();
        assert_eq!(count, 0);

        store.migrate().await.expect("upgrade");
        let count: i64 = sqlx::query_scalar(index)
            .fetch_one(store.pool())
            .await
            .unwrap();
        assert_eq!(count, 1, "the later migrations ran");
        let versions: Vec<i64> =
            sqlx::query_scalar("SELECT version FROM cd_migrations ORDER BY version")
                .fetch_all(store.pool())
                .await
                .unwrap();
        assert_eq!(versions, vec![1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    }

    #[cfg(feature = "testing")]
    #[tokio::test]
    async fn a_schema_at_version_4_gets_its_search_columns_filled() {
        let Some(url) = postgres_url() else { return };
        let schema = format!("cd_migrate_{}", CustomerId::new().as_uuid().simple());
        let store = PostgresStore::connect_with_schema(&url, &schema)
            .await
            .expect("connect");
        store.migrate().await.expect("migrate");
        let seeded = seed(store.clone()).await;
        for sql in back_to_version_4() {
            sqlx::query(sql).execute(store.pool()).await.unwrap();
        }
        store.migrate().await.expect("upgrade");
        assert_backfilled(store.clone(), &seeded).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn concurrent_migrations_of_one_schema_apply_each_version_once() {
        let Some(url) = postgres_url() else { return };
        let schema = format!("cd_migrate_{}", CustomerId::new().as_uuid().simple());
        // The stores connect at once too: creating the schema races as well.
        let mut connecting = Vec::new();
        for _ in 0..RACERS {
            let (url, schema) = (url.clone(), schema.clone());
            connecting.push(tokio::spawn(async move {
                PostgresStore::connect_with_schema(&url, &schema).await
            }));
        }
        let mut stores = Vec::new();
        for task in connecting {
            stores.push(task.await.expect("task").expect("connect"));
        }
        race_migrations(stores.clone(), |store| {
            Box::pin(async move { store.migrate().await.map_err(|e| e.to_string()) })
        })
        .await;
        let versions: Vec<i64> =
            sqlx::query_scalar("SELECT version FROM cd_migrations ORDER BY version")
                .fetch_all(stores[0].pool())
                .await
                .unwrap();
        assert_eq!(versions, vec![1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    }
}
