//! What a host does to build and check its own store, in two steps.
//!
//! 1. **A first store** implements only the core trait, [`Store`]: eleven methods (the
//!    account reads have defaults). It gets every use case of `Directory` except search,
//!    counting and the whole-directory reads, and the conformance suite runs exactly the
//!    scenarios of the core trait against it (`implements [Store]`).
//! 2. **The store grown** adds the extension traits ([`AccountStore`], [`SearchStore`],
//!    [`BulkReadStore`]) and overrides the account reads; the suite then runs every
//!    scenario.
//!
//! Both keep their data in a `MemoryStore` standing in for the host's database, and count
//! their reads, so the tests can show the suite really went through the host's type.
#![cfg(feature = "testing")]

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use chrono::{DateTime, Utc};
use customer_directory::ports::store::{
    AccountStore, BulkReadStore, ChangeSet, EmailLookup, SearchHit, SearchStore, SortPosition,
    StoreError,
};
use customer_directory::records::ResetTokenHash;
use customer_directory::records::{
    Account, AccountToken, AuditEvent, CustomerList, MatchKeys, MergeRecord,
};
use customer_directory::values::EmailKey;
use customer_directory::{
    AccountId, Booking, BookingId, Customer, CustomerId, CustomerQuery, MemoryStore, MergeId, Store,
};

/// The host's first store: its own type, its own bookkeeping, the core trait only.
#[derive(Clone, Default)]
pub struct FirstStore {
    data: MemoryStore,
    reads: Arc<AtomicU64>,
}

impl FirstStore {
    fn read(&self) -> &MemoryStore {
        self.reads.fetch_add(1, Ordering::Relaxed);
        &self.data
    }
}

impl Store for FirstStore {
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

    async fn booking_codes_stored(&self, codes: &[String]) -> Result<Vec<bool>, StoreError> {
        self.read().booking_codes_stored(codes).await
    }

    async fn commit(&self, changes: ChangeSet) -> Result<(), StoreError> {
        self.data.commit(changes).await
    }
}

/// The same store grown into every capability: the host adds the extension traits and
/// answers the account reads from its account records.
#[derive(Clone, Default)]
pub struct GrownStore {
    first: FirstStore,
}

impl Store for GrownStore {
    async fn customer(&self, id: CustomerId) -> Result<Option<Customer>, StoreError> {
        self.first.customer(id).await
    }

    async fn booking(&self, id: BookingId) -> Result<Option<Booking>, StoreError> {
        self.first.booking(id).await
    }

    async fn lookup_email(&self, key: &EmailKey) -> Result<EmailLookup, StoreError> {
        self.first.lookup_email(key).await
    }

    async fn customer_bookings(&self, customer: CustomerId) -> Result<Vec<Booking>, StoreError> {
        self.first.customer_bookings(customer).await
    }

    async fn unattributed_bookings(&self, key: &EmailKey) -> Result<Vec<Booking>, StoreError> {
        self.first.unattributed_bookings(key).await
    }

    async fn bookings_matching(&self, keys: &MatchKeys) -> Result<Vec<Booking>, StoreError> {
        self.first.bookings_matching(keys).await
    }

    async fn merge_record(&self, id: MergeId) -> Result<Option<MergeRecord>, StoreError> {
        self.first.merge_record(id).await
    }

    async fn merges_involving(&self, customer: CustomerId) -> Result<Vec<MergeRecord>, StoreError> {
        self.first.merges_involving(customer).await
    }

    async fn audit_trail(&self, customer: CustomerId) -> Result<Vec<AuditEvent>, StoreError> {
        self.first.audit_trail(customer).await
    }

    async fn lists(&self) -> Result<Vec<CustomerList>, StoreError> {
        self.first.lists().await
    }

    async fn booking_codes_stored(&self, codes: &[String]) -> Result<Vec<bool>, StoreError> {
        self.first.booking_codes_stored(codes).await
    }

    async fn account(&self, id: AccountId) -> Result<Option<Account>, StoreError> {
        self.first.read().account(id).await
    }

    async fn account_by_customer(
        &self,
        customer: CustomerId,
    ) -> Result<Option<Account>, StoreError> {
        self.first.read().account_by_customer(customer).await
    }

    async fn commit(&self, changes: ChangeSet) -> Result<(), StoreError> {
        self.first.commit(changes).await
    }
}

impl AccountStore for GrownStore {
    async fn account_by_email(&self, key: &EmailKey) -> Result<Option<Account>, StoreError> {
        self.first.read().account_by_email(key).await
    }

    async fn account_token(
        &self,
        hash: &ResetTokenHash,
    ) -> Result<Option<AccountToken>, StoreError> {
        self.first.read().account_token(hash).await
    }

    async fn account_tokens(&self, account: AccountId) -> Result<Vec<AccountToken>, StoreError> {
        self.first.read().account_tokens(account).await
    }
}

impl SearchStore for GrownStore {
    async fn search_customers(
        &self,
        query: &CustomerQuery,
        after: Option<&SortPosition>,
        limit: usize,
    ) -> Result<Vec<SearchHit>, StoreError> {
        self.first
            .read()
            .search_customers(query, after, limit)
            .await
    }
}

impl BulkReadStore for GrownStore {
    async fn customers_after(
        &self,
        after: Option<CustomerId>,
        limit: usize,
    ) -> Result<Vec<Customer>, StoreError> {
        self.first.read().customers_after(after, limit).await
    }

    async fn customers_inactive_since(
        &self,
        cutoff: DateTime<Utc>,
    ) -> Result<Vec<Customer>, StoreError> {
        self.first.read().customers_inactive_since(cutoff).await
    }
}

/// Step 1: the core scenarios, and only those, against the first store.
mod first {
    use super::FirstStore;

    customer_directory::conformance_tests!(implements [Store] async { FirstStore::default() });
}

/// Step 2: every scenario against the grown store.
mod grown {
    use super::GrownStore;

    customer_directory::conformance_tests!(async { GrownStore::default() });
}

/// The core run is exactly the scenarios that need nothing but the core trait, and the full
/// run is all of them: what each store is tested for follows what it implements.
#[test]
fn each_store_runs_the_scenarios_of_the_traits_it_implements() {
    use customer_directory::testing::conformance::SCENARIOS;
    let core = SCENARIOS.iter().filter(|s| s.needs.is_empty()).count();
    assert!(core > 50, "the core trait alone has most scenarios: {core}");
    assert!(core < SCENARIOS.len(), "the extensions add scenarios");
    for extension in ["AccountStore", "SearchStore", "BulkReadStore"] {
        assert!(
            SCENARIOS.iter().any(|s| s.needs == [extension]),
            "{extension} has scenarios of its own"
        );
    }
}

/// The suite really went through the host's type.
#[tokio::test]
async fn the_suite_reads_through_the_hosts_store() {
    let store = FirstStore::default();
    customer_directory::testing::conformance::port_commit_inserts_and_reads_back(store.clone())
        .await;
    assert!(store.reads.load(Ordering::Relaxed) > 0);
}

/// A first store runs the core use cases end to end: recording, merging, undoing,
/// archiving and redacting, with the account reads' defaults (nobody has an account).
#[tokio::test]
async fn a_first_store_records_merges_and_redacts() {
    use customer_directory::testing::conformance::{booking, contact, directory};
    use customer_directory::{Actor, BookingStatus, CustomerStatus, MergeRequest};
    let store = FirstStore::default();
    let dir = directory(store.clone());
    let ana = dir
        .record_booking(
            booking(
                "BK-1",
                BookingStatus::PAID,
                contact("ana@example.com", "Ana", "Silva"),
            ),
            &Actor::System,
        )
        .await
        .unwrap()
        .outcome
        .customer()
        .unwrap();
    let other = dir
        .record_booking(
            booking(
                "BK-2",
                BookingStatus::PAID,
                contact("ana@work.example", "Ana", "Silva"),
            ),
            &Actor::System,
        )
        .await
        .unwrap()
        .outcome
        .customer()
        .unwrap();
    let staff = Actor::Staff("desk".into());
    let report = dir
        .merge(&MergeRequest::new(ana, [other]), &staff)
        .await
        .unwrap();
    assert_eq!(report.account_kept, None, "no account in a first store");
    assert_eq!(dir.customer_bookings(ana).await.unwrap().len(), 2);
    dir.undo_merge(report.merge, &staff).await.unwrap();
    assert_eq!(dir.customer_bookings(ana).await.unwrap().len(), 1);
    dir.archive(other, &staff).await.unwrap();
    dir.redact(other, &[], &staff).await.unwrap();
    assert_eq!(
        dir.customer(other).await.unwrap().status,
        CustomerStatus::Redacted
    );
    assert!(store.data.all_accounts().is_empty());
}
