//! The conformance suite on SQLite: a fresh database file per test (WAL, a pool of real
//! parallel connections), and the same suite on `sqlite::memory:`.
#![cfg(all(feature = "sqlite", feature = "testing"))]

use customer_directory::conformance_tests;

use std::path::PathBuf;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use customer_directory::ports::store::ChangeSet;
use customer_directory::ports::store::{
    AccountStore, BulkReadStore, EmailLookup, SearchStore, StoreError,
};
use customer_directory::records::MergeRecord;
use customer_directory::records::ResetTokenHash;
use customer_directory::records::{Account, AccountToken, AuditEvent, CustomerList, MatchKeys};
use customer_directory::values::EmailKey;
use customer_directory::{AccountId, Booking, BookingId, Customer, CustomerId, MergeId};
use customer_directory::{SqliteStore, Store};

/// A migrated store in a new file under the system temp directory.
pub async fn file_store() -> FileStore {
    let path = std::env::temp_dir().join(format!(
        "customer-directory-test-{}.db",
        customer_directory::CustomerId::new()
    ));
    let file = Arc::new(DatabaseFile(path));
    let store = SqliteStore::connect(&format!("sqlite://{}", file.0.display()))
        .await
        .expect("open a SQLite file");
    store.migrate().await.expect("migrate");
    FileStore { store, _file: file }
}

/// A [`SqliteStore`] on a file that is removed, with its WAL files, when the test drops its
/// last handle, so test runs do not fill the temp directory. Every call goes straight to
/// the [`SqliteStore`].
#[derive(Clone)]
pub struct FileStore {
    store: SqliteStore,
    _file: Arc<DatabaseFile>,
}

struct DatabaseFile(PathBuf);

impl Drop for DatabaseFile {
    fn drop(&mut self) {
        // Best effort: open connections keep an unlinked file usable until they close.
        for suffix in ["", "-wal", "-shm"] {
            let mut file = self.0.as_os_str().to_owned();
            file.push(suffix);
            let _ = std::fs::remove_file(file);
        }
    }
}

impl Store for FileStore {
    async fn customer(&self, id: CustomerId) -> Result<Option<Customer>, StoreError> {
        self.store.customer(id).await
    }

    async fn booking(&self, id: BookingId) -> Result<Option<Booking>, StoreError> {
        self.store.booking(id).await
    }

    async fn lookup_email(&self, key: &EmailKey) -> Result<EmailLookup, StoreError> {
        self.store.lookup_email(key).await
    }

    async fn customer_bookings(&self, customer: CustomerId) -> Result<Vec<Booking>, StoreError> {
        self.store.customer_bookings(customer).await
    }

    async fn unattributed_bookings(&self, key: &EmailKey) -> Result<Vec<Booking>, StoreError> {
        self.store.unattributed_bookings(key).await
    }

    async fn bookings_matching(&self, keys: &MatchKeys) -> Result<Vec<Booking>, StoreError> {
        self.store.bookings_matching(keys).await
    }

    async fn merge_record(&self, id: MergeId) -> Result<Option<MergeRecord>, StoreError> {
        self.store.merge_record(id).await
    }

    async fn merges_involving(&self, customer: CustomerId) -> Result<Vec<MergeRecord>, StoreError> {
        self.store.merges_involving(customer).await
    }

    async fn audit_trail(&self, customer: CustomerId) -> Result<Vec<AuditEvent>, StoreError> {
        self.store.audit_trail(customer).await
    }

    async fn lists(&self) -> Result<Vec<CustomerList>, StoreError> {
        self.store.lists().await
    }

    async fn booking_codes_stored(&self, codes: &[String]) -> Result<Vec<bool>, StoreError> {
        self.store.booking_codes_stored(codes).await
    }

    async fn lookup_emails(&self, keys: &[EmailKey]) -> Result<Vec<EmailLookup>, StoreError> {
        self.store.lookup_emails(keys).await
    }

    async fn account(&self, id: AccountId) -> Result<Option<Account>, StoreError> {
        self.store.account(id).await
    }

    async fn account_by_customer(
        &self,
        customer: CustomerId,
    ) -> Result<Option<Account>, StoreError> {
        self.store.account_by_customer(customer).await
    }

    async fn commit(&self, changes: ChangeSet) -> Result<(), StoreError> {
        self.store.commit(changes).await
    }
}

impl AccountStore for FileStore {
    async fn account_by_email(&self, key: &EmailKey) -> Result<Option<Account>, StoreError> {
        self.store.account_by_email(key).await
    }

    async fn account_token(
        &self,
        hash: &ResetTokenHash,
    ) -> Result<Option<AccountToken>, StoreError> {
        self.store.account_token(hash).await
    }

    async fn account_tokens(&self, account: AccountId) -> Result<Vec<AccountToken>, StoreError> {
        self.store.account_tokens(account).await
    }
}

impl SearchStore for FileStore {
    async fn search_customers(
        &self,
        query: &customer_directory::CustomerQuery,
        after: Option<&customer_directory::ports::store::SortPosition>,
        limit: usize,
    ) -> Result<Vec<customer_directory::ports::store::SearchHit>, StoreError> {
        self.store.search_customers(query, after, limit).await
    }
}

impl BulkReadStore for FileStore {
    async fn customers_after(
        &self,
        after: Option<CustomerId>,
        limit: usize,
    ) -> Result<Vec<Customer>, StoreError> {
        self.store.customers_after(after, limit).await
    }

    async fn customers_inactive_since(
        &self,
        cutoff: DateTime<Utc>,
    ) -> Result<Vec<Customer>, StoreError> {
        self.store.customers_inactive_since(cutoff).await
    }
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

/// The `synchronous` setting of the store's writing connection.
async fn synchronous_of(store: &SqliteStore) -> i64 {
    store
        .with_connection(|connection| {
            connection.query_row("PRAGMA synchronous", [], |row| row.get::<_, i64>(0))
        })
        .await
        .unwrap()
        .unwrap()
}

/// The durability chosen is the `synchronous` setting of the file's connections: `NORMAL`
/// (1) by default, `FULL` (2) when asked, and the file still takes commits either way.
#[tokio::test]
async fn durability_sets_synchronous_on_the_files_connections() {
    use customer_directory::adapters::Durability;
    for (durability, expected) in [(Durability::Normal, 1_i64), (Durability::Full, 2)] {
        let file = std::env::temp_dir().join(format!("durability-{}.db", CustomerId::new()));
        let url = format!("sqlite://{}", file.display());
        let store = SqliteStore::connect_with_durability(&url, durability)
            .await
            .unwrap();
        store.migrate().await.unwrap();
        let synchronous = synchronous_of(&store).await;
        assert_eq!(synchronous, expected, "{durability:?}");
        let customer = Customer::new(customer_directory::Profile::default(), chrono::Utc::now());
        let mut changes = ChangeSet::new();
        changes.save_customer(customer.clone());
        store.commit(changes).await.unwrap();
        assert!(store.customer(customer.id).await.unwrap().is_some());
        store.close().await;
        let _ = std::fs::remove_file(&file);
    }
    let file = std::env::temp_dir().join(format!("durability-{}.db", CustomerId::new()));
    let default = SqliteStore::connect(&format!("sqlite://{}", file.display()))
        .await
        .unwrap();
    let synchronous = synchronous_of(&default).await;
    assert_eq!(synchronous, 1, "connect keeps NORMAL");
    default.close().await;
    let _ = std::fs::remove_file(&file);
}
