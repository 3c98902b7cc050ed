//! The conformance suite on SQLite: a fresh database file per test (WAL, a pool of real
//! parallel connections), and the same suite on `sqlite::memory:`.
#![cfg(all(feature = "sqlite", feature = "testing"))]

use customer_directory::conformance_tests;

use customer_directory::store::SqliteStore;

/// A migrated store in a new file under the system temp directory.
pub async fn file_store() -> SqliteStore {
    let path = std::env::temp_dir().join(format!(
        "customer-directory-test-{}.db",
        customer_directory::CustomerId::new()
    ));
    let store = SqliteStore::connect(&format!("sqlite://{}", path.display()))
        .await
        .expect("open a SQLite file");
    store.migrate().await.expect("migrate");
    store
}

mod file {
    use super::*;
    conformance_tests!(async { file_store().await });
}

mod in_memory {
    use super::*;
    conformance_tests!(async {
        let store = SqliteStore::connect("sqlite::memory:")
            .await
            .expect("open SQLite in memory");
        store.migrate().await.expect("migrate");
        store
    });
}
