//! What a host does to check its own `Store`: implement the trait (here a tiny store that
//! counts its reads and keeps the data in a `MemoryStore`), then run the public conformance
//! suite against it with one macro call.
#![cfg(feature = "testing")]

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use chrono::{DateTime, Utc};
use customer_directory::ports::store::ChangeSet;
use customer_directory::ports::store::{EmailLookup, StoreError};
use customer_directory::records::MergeRecord;
use customer_directory::records::ResetTokenHash;
use customer_directory::records::{Account, AccountToken, AuditEvent, CustomerList, MatchKeys};
use customer_directory::values::EmailKey;
use customer_directory::{
    AccountId, Booking, BookingId, Customer, CustomerId, MergeId, conformance_tests,
};
use customer_directory::{MemoryStore, Store};

/// The host's store: its own type, its own bookkeeping.
#[derive(Clone)]
pub struct CountingStore {
    data: MemoryStore,
    reads: Arc<AtomicU64>,
    /// Whether it keeps accounts: a host that has not built account tables says `false`.
    accounts: bool,
}

impl CountingStore {
    fn new() -> Self {
        CountingStore {
            data: MemoryStore::new(),
            reads: Arc::default(),
            accounts: true,
        }
    }

    fn without_accounts() -> Self {
        CountingStore {
            accounts: false,
            ..CountingStore::new()
        }
    }

    fn read(&self) -> &MemoryStore {
        self.reads.fetch_add(1, Ordering::Relaxed);
        &self.data
    }
}

impl Store for CountingStore {
    async fn customer(&self, id: CustomerId) -> Result<Option<Customer>, StoreError> {
        self.read().customer(id).await
    }

    async fn booking(&self, id: BookingId) -> Result<Option<Booking>, StoreError> {
        self.read().booking(id).await
    }

    async fn lookup_email(&self, key: &EmailKey) -> Result<EmailLookup, StoreError> {
        self.read().lookup_email(key).await
    }

    async fn customer_bookings(&self, customer: CustomerId) -> Result<Vec<Booking>, StoreError> {
        self.read().customer_bookings(customer).await
    }

    async fn unattributed_bookings(&self, key: &EmailKey) -> Result<Vec<Booking>, StoreError> {
        self.read().unattributed_bookings(key).await
    }

    async fn bookings_matching(&self, keys: &MatchKeys) -> Result<Vec<Booking>, StoreError> {
        self.read().bookings_matching(keys).await
    }

    async fn customers_after(
        &self,
        after: Option<CustomerId>,
        limit: usize,
    ) -> Result<Vec<Customer>, StoreError> {
        self.read().customers_after(after, limit).await
    }

    async fn customers_inactive_since(
        &self,
        cutoff: DateTime<Utc>,
    ) -> Result<Vec<Customer>, StoreError> {
        self.read().customers_inactive_since(cutoff).await
    }

    async fn merge_record(&self, id: MergeId) -> Result<Option<MergeRecord>, StoreError> {
        self.read().merge_record(id).await
    }

    async fn merges_involving(&self, customer: CustomerId) -> Result<Vec<MergeRecord>, StoreError> {
        self.read().merges_involving(customer).await
    }

    async fn audit_trail(&self, customer: CustomerId) -> Result<Vec<AuditEvent>, StoreError> {
        self.read().audit_trail(customer).await
    }

    async fn search_customers(
        &self,
        query: &customer_directory::CustomerQuery,
        after: Option<&customer_directory::ports::store::SortPosition>,
        limit: usize,
    ) -> Result<Vec<customer_directory::ports::store::SearchHit>, StoreError> {
        self.read().search_customers(query, after, limit).await
    }

    async fn lists(&self) -> Result<Vec<CustomerList>, StoreError> {
        self.read().lists().await
    }

    fn supports_accounts(&self) -> bool {
        self.accounts
    }

    async fn account(&self, id: AccountId) -> Result<Option<Account>, StoreError> {
        self.read().account(id).await
    }

    async fn account_by_email(&self, key: &EmailKey) -> Result<Option<Account>, StoreError> {
        self.read().account_by_email(key).await
    }

    async fn account_by_customer(
        &self,
        customer: CustomerId,
    ) -> Result<Option<Account>, StoreError> {
        self.read().account_by_customer(customer).await
    }

    async fn account_token(
        &self,
        hash: &ResetTokenHash,
    ) -> Result<Option<AccountToken>, StoreError> {
        self.read().account_token(hash).await
    }

    async fn account_tokens(&self, account: AccountId) -> Result<Vec<AccountToken>, StoreError> {
        self.read().account_tokens(account).await
    }

    async fn commit(&self, changes: ChangeSet) -> Result<(), StoreError> {
        self.data.commit(changes).await
    }
}

conformance_tests!(async { CountingStore::new() });

/// The suite really went through the host's type.
#[tokio::test]
async fn the_suite_reads_through_the_hosts_store() {
    let store = CountingStore::new();
    customer_directory::testing::conformance::port_commit_inserts_and_reads_back(store.clone())
        .await;
    assert!(store.reads.load(Ordering::Relaxed) > 0);
}

/// A store that says it keeps no accounts gets no account writes: every account use case is
/// refused with a typed error before anything is committed, and bookings still work.
#[tokio::test]
async fn a_store_without_accounts_refuses_account_use_cases() {
    use customer_directory::ports::RecordingNotifier;
    use customer_directory::settings::AccountsMode;
    use customer_directory::{
        AccountSettings, Accounts, Actor, Directory, DirectorySettings, Error, Password,
    };
    let store = CountingStore::without_accounts();
    let settings = DirectorySettings::default()
        .with_accounts(AccountSettings::with_mode(AccountsMode::Optional));
    let accounts = Accounts::new(
        Directory::new(store.clone(), settings),
        RecordingNotifier::new(),
    );
    let password = Password::new("Plum-Tractor-Velvet-9");
    let signed_up = accounts
        .sign_up("ana@example.com", &password, &Actor::System)
        .await;
    assert!(
        matches!(signed_up, Err(Error::AccountsUnsupported)),
        "{signed_up:?}"
    );
    let logged_in = accounts
        .log_in("ana@example.com", &password, &Actor::System)
        .await;
    assert!(
        matches!(logged_in, Err(Error::AccountsUnsupported)),
        "{logged_in:?}"
    );
    assert!(store.data.all_accounts().is_empty());
    assert!(store.data.all_account_tokens().is_empty());

    let booking = customer_directory::testing::conformance::booking(
        "BK-1",
        customer_directory::BookingStatus::PAID,
        customer_directory::testing::conformance::contact("ana@example.com", "Ana", "Silva"),
    );
    let recorded = accounts
        .directory()
        .record_booking(booking, &Actor::System)
        .await
        .unwrap();
    assert!(recorded.outcome.customer().is_some());
}
