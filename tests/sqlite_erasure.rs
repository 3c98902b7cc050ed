//! Erasure down to the bytes on SQLite: after a redaction, none of the customer's values is
//! left in the database file, its WAL or its shared-memory file, whether the store is still
//! open (as a running host's is) or closed. Each test first finds every value in the files,
//! so a wrong path or encoding cannot make it pass.
#![cfg(feature = "sqlite")]

mod erasure_support;

use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{TimeDelta, Utc};
use customer_directory::SqliteStore;
use customer_directory::adapters::rusqlite;
use customer_directory::{Actor, CustomerId, CustomerStatus, Directory};
use erasure_support::{Finder, KEPT, VALUES, populate, settings};

/// Customers around the one erased: enough for shared pages and a WAL of many frames.
const FILLERS: usize = 240;

/// A directory of its own under the system temp directory, removed with everything in it.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> Self {
        let path =
            std::env::temp_dir().join(format!("customer-directory-erasure-{}", CustomerId::new()));
        std::fs::create_dir(&path).expect("create a temp directory");
        Self(path)
    }

    fn database(&self) -> PathBuf {
        self.0.join("x.db")
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The file next to `database` with `suffix` (`-wal`, `-shm`).
fn sibling(database: &Path, suffix: &str) -> PathBuf {
    let mut name = database.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// The database file and its `-wal` and `-shm` files, those that exist, with their bytes.
fn files(database: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    ["", "-wal", "-shm"]
        .into_iter()
        .map(|suffix| sibling(database, suffix))
        .filter(|path| path.exists())
        .map(|path| {
            let bytes = std::fs::read(&path).expect("read a database file");
            (path, bytes)
        })
        .collect()
}

fn wal_len(database: &Path) -> Option<u64> {
    std::fs::metadata(sibling(database, "-wal"))
        .ok()
        .map(|m| m.len())
}

/// Every value is in the files (in one form or another) before the erasure.
fn assert_all_present(database: &Path, finder: &Finder) {
    let mut found = std::collections::BTreeSet::new();
    for (_, bytes) in files(database) {
        found.extend(finder.values_in(&bytes));
    }
    for value in VALUES.iter().chain([&KEPT]) {
        assert!(
            found.contains(value),
            "{value} is in the files before the erasure"
        );
    }
}

/// No erased value is in any of the files; the kept customer's still is.
fn assert_erased(database: &Path, finder: &Finder, when: &str) {
    let mut kept = false;
    let files = files(database);
    assert!(!files.is_empty(), "{when}: the database file exists");
    for (path, bytes) in files {
        let mut found = finder.values_in(&bytes);
        kept |= found.remove(KEPT);
        assert!(
            found.is_empty(),
            "{when}: {} still holds {found:?}",
            path.display()
        );
    }
    assert!(
        kept,
        "{when}: the customers who stay are still in the files"
    );
}

enum How {
    Redact,
    InactiveSince,
}

async fn erasure_leaves_no_value_in_the_files(how: How) {
    let dir = TempDir::new();
    let database = dir.database();
    let store = SqliteStore::connect(&format!("sqlite://{}", database.display()))
        .await
        .unwrap();
    store.migrate().await.unwrap();
    let directory = Directory::new(store.clone(), settings());
    let customer = populate(&directory, FILLERS).await;
    let finder = Finder::new();
    assert_all_present(&database, &finder);
    assert!(
        wal_len(&database).unwrap_or(0) > 0,
        "the WAL holds frames before the erasure"
    );

    match how {
        How::Redact => {
            let staff = Actor::staff("desk");
            directory.archive(customer, &staff).await.unwrap();
            let redacted = directory.redact(customer, &[], &staff).await.unwrap();
            assert_eq!(
                redacted.bookings.len(),
                5,
                "the customer's and the merged bookings"
            );
        }
        How::InactiveSince => {
            let cutoff = Utc::now() + TimeDelta::days(1);
            let done = directory
                .redact_inactive_since(cutoff, &Actor::System)
                .await
                .unwrap();
            assert_eq!(
                done,
                vec![customer],
                "only the customer without later bookings"
            );
        }
    }
    let stored = directory.customer(customer).await.unwrap();
    assert_eq!(stored.status, CustomerStatus::Redacted);

    // As a running host's: the store's connections are open.
    assert!(!store.wal_truncation_pending());
    assert_eq!(wal_len(&database), Some(0), "the WAL is truncated");
    assert_erased(&database, &finder, "store open");

    drop(directory);
    store.close().await;
    assert!(
        wal_len(&database).unwrap_or(0) == 0,
        "nothing in the WAL after closing"
    );
    assert_erased(&database, &finder, "store closed");
}

#[tokio::test]
async fn a_redacted_customer_leaves_no_value_in_the_database_file_or_its_wal() {
    erasure_leaves_no_value_in_the_files(How::Redact).await;
}

#[tokio::test]
async fn customers_redacted_for_inactivity_leave_no_value_in_the_files() {
    erasure_leaves_no_value_in_the_files(How::InactiveSince).await;
}

/// A reader on an old snapshot keeps the WAL from being truncated: the redaction still
/// succeeds (it is committed), the store owes the truncation, and `truncate_wal` settles it
/// once the reader is done.
#[tokio::test]
async fn a_truncation_readers_prevent_is_owed_and_settled_by_truncate_wal() {
    let dir = TempDir::new();
    let database = dir.database();
    let store = SqliteStore::connect(&format!("sqlite://{}", database.display()))
        .await
        .unwrap();
    store.migrate().await.unwrap();
    // A short wait for readers, so the refused truncations below fail fast.
    store
        .with_connection(|connection| connection.busy_timeout(Duration::from_millis(50)))
        .await
        .unwrap()
        .unwrap();
    let directory = Directory::new(store.clone(), settings());
    let customer = populate(&directory, 20).await;
    let staff = Actor::staff("desk");
    directory.archive(customer, &staff).await.unwrap();

    // Another process holding a read transaction open from before the erasure.
    let reader = rusqlite::Connection::open(&database).unwrap();
    reader.execute_batch("BEGIN").unwrap();
    let count: i64 = reader
        .query_row("SELECT count(*) FROM cd_customers", [], |row| row.get(0))
        .unwrap();
    assert!(count > 20);

    directory.redact(customer, &[], &staff).await.unwrap();
    assert!(store.wal_truncation_pending(), "the truncation is owed");
    assert!(
        wal_len(&database).unwrap_or(0) > 0,
        "the WAL could not be truncated"
    );
    let refused = store
        .truncate_wal()
        .await
        .expect_err("the reader is still there");
    assert!(
        refused.to_string().contains("truncating the SQLite WAL"),
        "{refused}"
    );
    assert!(store.wal_truncation_pending());

    reader.execute_batch("ROLLBACK").unwrap();
    store.truncate_wal().await.unwrap();
    assert!(!store.wal_truncation_pending());
    assert_eq!(wal_len(&database), Some(0));
    drop(reader);
    store.close().await;
}

/// The store's writing connection overwrites deleted content (its readers are opened the
/// same way: see the unit tests of `adapters::sqlite::threads`).
#[tokio::test]
async fn the_writing_connection_of_a_file_store_has_secure_delete_on() {
    let dir = TempDir::new();
    let store = SqliteStore::connect(&format!("sqlite://{}", dir.database().display()))
        .await
        .unwrap();
    store.migrate().await.unwrap();
    let on: i64 = store
        .with_connection(|connection| {
            connection.query_row("PRAGMA secure_delete", [], |row| row.get(0))
        })
        .await
        .unwrap()
        .unwrap();
    assert_eq!(on, 1);
    store.close().await;
}
