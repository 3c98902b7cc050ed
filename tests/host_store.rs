//! What a host does to check its own `Store`: implement the trait (here a tiny store that
//! counts its reads and keeps the data in a `MemoryStore`), then run the public conformance
//! suite against it with one macro call.
#![cfg(feature = "testing")]

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use chrono::{DateTime, Utc};
use customer_directory::store::{EmailLookup, MemoryStore, Store, StoreError};
use customer_directory::{
    AuditEvent, Booking, BookingId, ChangeSet, Customer, CustomerId, CustomerList, EmailKey,
    MatchKeys, MergeId, MergeRecord, conformance_tests,
};

/// The host's store: its own type, its own bookkeeping.
#[derive(Clone, Default)]
pub struct CountingStore {
    data: MemoryStore,
    reads: Arc<AtomicU64>,
}

impl CountingStore {
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

    async fn lists(&self) -> Result<Vec<CustomerList>, StoreError> {
        self.read().lists().await
    }

    async fn commit(&self, changes: ChangeSet) -> Result<(), StoreError> {
        self.data.commit(changes).await
    }
}

conformance_tests!(async { CountingStore::default() });

/// The suite really went through the host's type.
#[tokio::test]
async fn the_suite_reads_through_the_hosts_store() {
    let store = CountingStore::default();
    customer_directory::testing::conformance::port_commit_inserts_and_reads_back(store.clone())
        .await;
    assert!(store.reads.load(Ordering::Relaxed) > 0);
}
