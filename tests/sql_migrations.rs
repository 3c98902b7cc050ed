//! `migrate()` on the SQL adapters: versioned, idempotent, and safe when several processes
//! (here: several stores, each with its own pool) start on one empty database at once.
#![cfg(any(feature = "sqlite", feature = "postgres"))]

use chrono::{TimeZone, Utc};
use customer_directory::store::Store;
use customer_directory::{ChangeSet, Customer, CustomerId, EmailAddress, Profile};

/// How many stores race to migrate one database.
const RACERS: usize = 4;

/// One store's `migrate()` call, started.
type Migrating = std::pin::Pin<Box<dyn Future<Output = Result<(), String>> + Send>>;

/// Runs `migrate` on every store at once, then once more on the first; every call must
/// succeed, and the schema must work afterwards.
async fn race_migrations<S: Store + Clone + 'static>(stores: Vec<S>, migrate: fn(S) -> Migrating) {
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
    use customer_directory::store::SqliteStore;

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn concurrent_migrations_of_one_file_apply_each_version_once() {
        let path = std::env::temp_dir().join(format!(
            "customer-directory-migrate-{}.db",
            CustomerId::new()
        ));
        let url = format!("sqlite://{}", path.display());
        let mut stores = Vec::new();
        for _ in 0..RACERS {
            stores.push(SqliteStore::connect(&url).await.expect("open"));
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
        assert_eq!(versions, vec![1, 2, 3, 4]);
        drop(stores);
        remove_database(&path);
    }

    #[tokio::test]
    async fn a_database_at_version_1_is_upgraded_to_the_latest() {
        let path = std::env::temp_dir().join(format!(
            "customer-directory-upgrade-{}.db",
            CustomerId::new()
        ));
        let store = SqliteStore::connect(&format!("sqlite://{}", path.display()))
            .await
            .expect("open");
        store.migrate().await.expect("migrate");
        // Back to what version 1 left.
        for sql in [
            "DROP INDEX cd_bookings_customer_created",
            "DROP TABLE cd_account_tokens",
            "DROP TABLE cd_accounts",
            "DROP TABLE cd_lists",
            "DELETE FROM cd_migrations WHERE version > 1",
        ] {
            sqlx::query(sql).execute(store.pool()).await.unwrap();
        }
        let index = "SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND name = 'cd_bookings_customer_created'";
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
        assert_eq!(versions, vec![1, 2, 3, 4]);
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
    use customer_directory::store::PostgresStore;

    /// The server's URL, or `None` after saying loudly why the test does nothing.
    fn postgres_url() -> Option<String> {
        let url = std::env::var("CUSTOMER_DIRECTORY_POSTGRES_URL")
            .or_else(|_| std::env::var("DATABASE_URL"))
            .ok()
            .filter(|url| !url.is_empty());
        if url.is_none() {
            assert!(
                std::env::var("CUSTOMER_DIRECTORY_REQUIRE_POSTGRES").as_deref() != Ok("1"),
                "CUSTOMER_DIRECTORY_REQUIRE_POSTGRES=1 but neither CUSTOMER_DIRECTORY_POSTGRES_URL nor DATABASE_URL is set"
            );
            eprintln!(
                "SKIPPED: PostgreSQL migration test; set CUSTOMER_DIRECTORY_POSTGRES_URL (or DATABASE_URL) to run it"
            );
        }
        url
    }

    #[tokio::test]
    async fn a_schema_at_version_1_is_upgraded_to_the_latest() {
        let Some(url) = postgres_url() else { return };
        let schema = format!("cd_migrate_{}", CustomerId::new().as_uuid().simple());
        let store = PostgresStore::connect_with_schema(&url, &schema)
            .await
            .expect("connect");
        store.migrate().await.expect("migrate");
        // Back to what version 1 left.
        for sql in [
            "DROP INDEX cd_bookings_customer_created",
            "DROP TABLE cd_account_tokens",
            "DROP TABLE cd_accounts",
            "DROP TABLE cd_lists",
            "DELETE FROM cd_migrations WHERE version > 1",
        ] {
            sqlx::query(sql).execute(store.pool()).await.unwrap();
        }
        let index = "SELECT COUNT(*) FROM pg_indexes WHERE schemaname = current_schema() \
                     AND indexname = 'cd_bookings_customer_created'";
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
        assert_eq!(versions, vec![1, 2, 3, 4]);
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
        assert_eq!(versions, vec![1, 2, 3, 4]);
    }
}
