//! The in-memory adapter.

use std::collections::{BTreeSet, HashMap};
use std::hash::{BuildHasher, BuildHasherDefault, Hasher, RandomState};
use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

use crate::ports::query::builder::CustomerQuery;
use crate::ports::query::evaluation::{SearchHit, SortPosition};
use crate::ports::store::changes::ChangeSet;
use crate::ports::store::{
    AccountStore, BulkReadStore, EmailLookup, SearchStore, Store, StoreError,
};
use crate::records::account::{Account, AccountToken};
use crate::records::audit::AuditEvent;
use crate::records::booking::Booking;
use crate::records::customer::{BlockEntry, Customer};
use crate::records::merge::MergeRecord;
use crate::records::notes::CustomerList;
use crate::records::profile::MatchKeys;
use crate::records::tokens::ResetTokenHash;
use crate::values::email::key::EmailKey;
use crate::values::ids::{AccountId, BookingId, CustomerId, ListId, MergeId};

mod accounts;
mod state;

use crate::adapters::memory::accounts::AccountState;

/// A [`Store`] kept in process memory: the default adapter, for tests, demos and hosts that
/// persist elsewhere.
///
/// Cloning is cheap and every clone shares the same data, so one store can be handed to
/// many tasks. Commits are serialised by a lock that is never held across an `await`.
///
/// # Examples
///
/// ```
/// use customer_directory::MemoryStore;
/// use customer_directory::{Directory, DirectorySettings};
/// let store = MemoryStore::new();
/// let directory = Directory::new(store.clone(), DirectorySettings::default());
/// # let _ = directory;
/// ```
#[derive(Clone, Default)]
pub struct MemoryStore {
    state: Arc<RwLock<State>>,
}

#[derive(Default)]
struct State {
    /// Shared with lookups, so the hot path hands out the record without copying it.
    customers: HashMap<CustomerId, Arc<Customer>>,
    /// Boxed, so growing the map moves a pointer per booking rather than the whole record:
    /// bookings only accumulate, and each doubling of an inline table copied every one.
    bookings: HashMap<BookingId, Box<Booking>>,
    /// Live customers by each of their email keys: the attribution hot path. It holds the
    /// id and the shared record itself (the same `Arc` as `customers`), so a lookup is one
    /// probe, and an id lookup does not touch the record.
    customer_by_key: HashMap<IndexKey, (CustomerId, Arc<Customer>)>,
    /// How many stored bookings carry each code: what [`Store::booking_codes_stored`]
    /// reads. Codes are not unique (a host may reuse one), hence a count.
    bookings_by_code: HashMap<Box<str>, u32>,
    /// Attributed bookings (primary and related) per customer.
    bookings_by_customer: HashMap<CustomerId, Vec<BookingId>>,
    blocked_addresses: HashMap<EmailKey, BlockEntry>,
    blocked_domains: HashMap<Box<str>, BlockEntry>,
    /// Customer ids in order, for the stable directory scan.
    customer_ids: BTreeSet<CustomerId>,
    /// Unattributed bookings by the email key of their contact snapshot, the key inline as
    /// in `customer_by_key`: what [`Store::unattributed_bookings`] reads. Attributed
    /// bookings (nearly all) are not in it, so recording one costs no probe here.
    unattributed_by_email_key: HashMap<IndexKey, Vec<BookingId>>,
    /// Bookings by each of their suggestion keys (see [`match_index_parts`](crate::ports::store::match_index_parts)), under a
    /// 64-bit hash of the key rather than its text: an entry is two words wherever the key
    /// text lives, and no key is formatted or copied to index a booking. Different keys may
    /// share a hash, so a list can hold bookings without the key it is looked up by; the
    /// reader checks each booking's own keys (see [`State::bookings_with_keys`]).
    bookings_by_match_key: HashMap<u64, Vec<BookingId>, BuildHasherDefault<Prehashed>>,
    /// The hash of `bookings_by_match_key`, seeded per store like a map's own hasher.
    match_key_hasher: RandomState,
    merges: HashMap<MergeId, MergeRecord>,
    lists: HashMap<ListId, CustomerList>,
    audit: AuditLog,
    /// Accounts and their tokens, kept apart so account-free commits never touch them.
    accounts: AccountState,
}

/// An email key as the email index stores it: short keys (nearly all) inline in the hash
/// table's entry, so a lookup compares the key where the probe already is instead of
/// following a pointer to a string allocated somewhere among the customer's records.
/// Hashes and compares as its text, so the index is probed with a `&str`.
#[derive(Clone)]
enum IndexKey {
    Inline { len: u8, bytes: [u8; INLINE_KEY] },
    Heap(Box<str>),
}

/// The longest key kept inline: the entry stays 48 bytes.
const INLINE_KEY: usize = 46;

impl IndexKey {
    fn new(key: &str) -> Self {
        match u8::try_from(key.len()) {
            Ok(len) if key.len() <= INLINE_KEY => {
                let mut bytes = [0u8; INLINE_KEY];
                bytes[..key.len()].copy_from_slice(key.as_bytes());
                Self::Inline { len, bytes }
            }
            _ => Self::Heap(key.into()),
        }
    }

    fn as_str(&self) -> &str {
        match self {
            Self::Inline { len, bytes } => {
                // Copied from a `&str` in `new`, so always UTF-8; checked anyway (no unsafe).
                std::str::from_utf8(&bytes[..usize::from(*len)]).unwrap_or_default()
            }
            Self::Heap(text) => text,
        }
    }
}

impl std::borrow::Borrow<str> for IndexKey {
    fn borrow(&self) -> &str {
        self.as_str()
    }
}

impl std::hash::Hash for IndexKey {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
    }
}

impl PartialEq for IndexKey {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for IndexKey {}

/// The hasher of a map whose keys already are hashes (`bookings_by_match_key`): it passes
/// the key through rather than hashing it a second time.
#[derive(Default)]
struct Prehashed(u64);

impl Hasher for Prehashed {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // Only `write_u64` is ever called (the keys are `u64`); fold anything else in.
        for byte in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(*byte);
        }
    }

    fn write_u64(&mut self, key: u64) {
        self.0 = key;
    }
}

/// The email key under which `booking` is in `unattributed_by_email_key`, if it is.
fn unattributed_email_key(booking: &Booking) -> Option<&str> {
    if booking.attribution.customer().is_some() {
        return None;
    }
    booking
        .contact
        .email
        .as_ref()
        .map(|email| email.key().as_str())
}

/// The audit trail, in order, kept in chunks of at most [`Self::CHUNK`] events: appending
/// moves at most one chunk's events (a single `Vec` copied the whole trail at each
/// doubling, on the booking path), and a small store allocates no more than it holds.
#[derive(Default)]
struct AuditLog {
    chunks: Vec<Vec<AuditEvent>>,
}

impl AuditLog {
    /// Events per chunk.
    const CHUNK: usize = 4096;

    fn push(&mut self, event: AuditEvent) {
        match self.chunks.last_mut() {
            Some(chunk) if chunk.len() < Self::CHUNK => chunk.push(event),
            _ => self.chunks.push(vec![event]),
        }
    }

    fn iter(&self) -> impl Iterator<Item = &AuditEvent> {
        self.chunks.iter().flatten()
    }
}

/// Removes `id` from the list under `key`, dropping the list when it empties.
fn unindex<K, Q, S>(map: &mut HashMap<K, Vec<BookingId>, S>, key: &Q, id: BookingId)
where
    K: std::borrow::Borrow<Q> + std::hash::Hash + Eq,
    Q: std::hash::Hash + Eq + ?Sized,
    S: BuildHasher,
{
    if let Some(list) = map.get_mut(key) {
        list.retain(|other| *other != id);
        if list.is_empty() {
            map.remove(key);
        }
    }
}

impl std::fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = self.read();
        f.debug_struct("MemoryStore")
            .field("customers", &state.customers.len())
            .field("bookings", &state.bookings.len())
            .field(
                "blocklist",
                &(state.blocked_addresses.len() + state.blocked_domains.len()),
            )
            .field("accounts", &state.accounts.accounts.len())
            .finish()
    }
}

impl MemoryStore {
    /// An empty store.
    ///
    /// # Examples
    ///
    /// ```
    /// let store = customer_directory::MemoryStore::new();
    /// assert_eq!(store.customer_count(), 0);
    /// ```
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// How many customer records are stored, whatever their status.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(customer_directory::MemoryStore::new().customer_count(), 0);
    /// ```
    #[must_use]
    pub fn customer_count(&self) -> usize {
        self.read().customers.len()
    }

    /// The live customer holding `key` (as email or alias), by id only: the cheapest match
    /// of an email to a customer, one probe of the email index without touching the
    /// record. [`Store::lookup_email`] gives the record and the blocklist entry as well.
    ///
    /// # Examples
    ///
    /// ```
    /// use customer_directory::MemoryStore;
    /// use customer_directory::values::{EmailKey, EmailKeyPolicy};
    /// let key = EmailKey::parse("Ana@Example.com", EmailKeyPolicy::default())?;
    /// assert_eq!(MemoryStore::new().customer_id_by_email(&key), None);
    /// # Ok::<(), customer_directory::values::EmailError>(())
    /// ```
    #[must_use]
    pub fn customer_id_by_email(&self, key: &EmailKey) -> Option<CustomerId> {
        self.read()
            .customer_by_key
            .get(key.as_str())
            .map(|(id, _)| *id)
    }

    /// Every stored customer, in no particular order: for tests and small exports.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(customer_directory::MemoryStore::new().all_customers().is_empty());
    /// ```
    #[must_use]
    pub fn all_customers(&self) -> Vec<Customer> {
        self.read()
            .customers
            .values()
            .map(|customer| Customer::clone(customer))
            .collect()
    }

    /// Every stored account, in no particular order: for tests and small exports.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(customer_directory::MemoryStore::new().all_accounts().is_empty());
    /// ```
    #[must_use]
    pub fn all_accounts(&self) -> Vec<Account> {
        self.read().accounts.accounts.values().cloned().collect()
    }

    /// Every stored account token (hashes only, as stored), in no particular order: for
    /// tests.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(customer_directory::MemoryStore::new().all_account_tokens().is_empty());
    /// ```
    #[must_use]
    pub fn all_account_tokens(&self) -> Vec<AccountToken> {
        self.read().accounts.tokens.values().cloned().collect()
    }

    /// The whole audit trail, in commit order: for tests.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(customer_directory::MemoryStore::new().all_audit_events().is_empty());
    /// ```
    #[must_use]
    pub fn all_audit_events(&self) -> Vec<AuditEvent> {
        self.read().audit.iter().cloned().collect()
    }

    /// Every stored booking, in no particular order: for tests and small exports.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(customer_directory::MemoryStore::new().all_bookings().is_empty());
    /// ```
    #[must_use]
    pub fn all_bookings(&self) -> Vec<Booking> {
        self.read()
            .bookings
            .values()
            .map(|booking| Booking::clone(booking))
            .collect()
    }

    // A panic elsewhere while the lock was held cannot leave the state half-written: commit
    // validates everything before it mutates, and mutation does not panic. So a poisoned lock
    // still guards consistent data and is safe to use.
    fn read(&self) -> RwLockReadGuard<'_, State> {
        self.state.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> RwLockWriteGuard<'_, State> {
        self.state.write().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Store for MemoryStore {
    async fn customer(&self, id: CustomerId) -> Result<Option<Customer>, StoreError> {
        Ok(self
            .read()
            .customers
            .get(&id)
            .map(|customer| Customer::clone(customer)))
    }

    async fn booking(&self, id: BookingId) -> Result<Option<Booking>, StoreError> {
        Ok(self
            .read()
            .bookings
            .get(&id)
            .map(|booking| Booking::clone(booking)))
    }

    async fn lookup_email(&self, key: &EmailKey) -> Result<EmailLookup, StoreError> {
        Ok(self.read().lookup(key))
    }

    async fn lookup_emails(&self, keys: &[EmailKey]) -> Result<Vec<EmailLookup>, StoreError> {
        let state = self.read();
        Ok(keys.iter().map(|key| state.lookup(key)).collect())
    }

    async fn booking_codes_stored(&self, codes: &[String]) -> Result<Vec<bool>, StoreError> {
        let state = self.read();
        Ok(codes
            .iter()
            .map(|code| state.bookings_by_code.contains_key(code.as_str()))
            .collect())
    }

    async fn customer_bookings(&self, customer: CustomerId) -> Result<Vec<Booking>, StoreError> {
        Ok(self.read().bookings_of_customer(customer))
    }

    async fn unattributed_bookings(&self, key: &EmailKey) -> Result<Vec<Booking>, StoreError> {
        let state = self.read();
        let mut bookings = state.bookings_sorted(
            state
                .unattributed_by_email_key
                .get(key.as_str())
                .into_iter()
                .flatten(),
        );
        bookings.sort_by_key(|booking| (booking.created_at, booking.id));
        Ok(bookings)
    }

    async fn bookings_matching(&self, keys: &MatchKeys) -> Result<Vec<Booking>, StoreError> {
        Ok(self.read().bookings_with_keys(keys))
    }

    async fn merge_record(&self, id: MergeId) -> Result<Option<MergeRecord>, StoreError> {
        Ok(self.read().merges.get(&id).cloned())
    }

    async fn merges_involving(&self, customer: CustomerId) -> Result<Vec<MergeRecord>, StoreError> {
        let mut records: Vec<MergeRecord> = self
            .read()
            .merges
            .values()
            .filter(|record| {
                record.report.survivor == customer || record.report.merged.contains(&customer)
            })
            .cloned()
            .collect();
        records.sort_by_key(|record| (record.merged_at, record.id));
        Ok(records)
    }

    async fn audit_trail(&self, customer: CustomerId) -> Result<Vec<AuditEvent>, StoreError> {
        Ok(self
            .read()
            .audit
            .iter()
            .filter(|event| event.customers.contains(&customer))
            .cloned()
            .collect())
    }

    async fn lists(&self) -> Result<Vec<CustomerList>, StoreError> {
        let mut lists: Vec<CustomerList> = self.read().lists.values().cloned().collect();
        lists.sort_by_cached_key(|list| (list.name_key(), list.id));
        Ok(lists)
    }

    async fn account(&self, id: AccountId) -> Result<Option<Account>, StoreError> {
        Ok(self.read().accounts.accounts.get(&id).cloned())
    }

    async fn account_by_customer(
        &self,
        customer: CustomerId,
    ) -> Result<Option<Account>, StoreError> {
        Ok(self.read().account_claiming(customer))
    }

    async fn accounts_claiming(
        &self,
        customers: &[CustomerId],
    ) -> Result<Vec<Option<Account>>, StoreError> {
        let state = self.read();
        Ok(customers
            .iter()
            .map(|customer| state.account_claiming(*customer))
            .collect())
    }

    async fn commit(&self, changes: ChangeSet) -> Result<(), StoreError> {
        let mut state = self.write();
        state.check(&changes)?;
        if changes.has_account_changes() {
            state.accounts.check(&changes)?;
        }
        state.apply(changes);
        Ok(())
    }
}

impl AccountStore for MemoryStore {
    async fn account_by_email(&self, key: &EmailKey) -> Result<Option<Account>, StoreError> {
        let state = self.read();
        let accounts = &state.accounts;
        Ok(accounts
            .by_key
            .get(key)
            .and_then(|id| accounts.accounts.get(id))
            .cloned())
    }

    async fn account_token(
        &self,
        hash: &ResetTokenHash,
    ) -> Result<Option<AccountToken>, StoreError> {
        Ok(self.read().accounts.tokens.get(hash).cloned())
    }

    async fn account_tokens(&self, account: AccountId) -> Result<Vec<AccountToken>, StoreError> {
        let state = self.read();
        let accounts = &state.accounts;
        let mut tokens: Vec<AccountToken> = accounts
            .tokens_by_account
            .get(&account)
            .into_iter()
            .flatten()
            .filter_map(|hash| accounts.tokens.get(hash))
            .cloned()
            .collect();
        tokens.sort_by(|a, b| {
            (a.created_at, a.hash.as_bytes()).cmp(&(b.created_at, b.hash.as_bytes()))
        });
        Ok(tokens)
    }
}

impl SearchStore for MemoryStore {
    /// Scans every customer, computing its booking statistics from the booking index: the
    /// in-memory store has no sorted secondary indexes, so a search costs a pass over the
    /// directory and a sort of the matches.
    async fn search_customers(
        &self,
        query: &CustomerQuery,
        after: Option<&SortPosition>,
        limit: usize,
    ) -> Result<Vec<SearchHit>, StoreError> {
        let state = self.read();
        let mut hits: Vec<(SortPosition, &Arc<Customer>)> = state
            .matching(query)
            .filter_map(|(customer, stats)| {
                let position = query.position(customer, &stats);
                if after.is_some_and(|after| !query.is_after(&position, after)) {
                    return None;
                }
                Some((position, customer))
            })
            .collect();
        hits.sort_by(|a, b| query.compare(&a.0, &b.0));
        Ok(hits
            .into_iter()
            .take(limit)
            .map(|(position, customer)| SearchHit::new(Customer::clone(customer), position))
            .collect())
    }

    /// Counts by the same scan as [`search_customers`](SearchStore::search_customers), without
    /// sorting or copying a record.
    async fn count_customers(&self, query: &CustomerQuery) -> Result<u64, StoreError> {
        let state = self.read();
        let count = state.matching(query).count();
        Ok(u64::try_from(count).unwrap_or(u64::MAX))
    }
}

impl BulkReadStore for MemoryStore {
    async fn customers_after(
        &self,
        after: Option<CustomerId>,
        limit: usize,
    ) -> Result<Vec<Customer>, StoreError> {
        use std::ops::Bound::{Excluded, Unbounded};
        let state = self.read();
        let start = after.map_or(Unbounded, Excluded);
        Ok(state
            .customer_ids
            .range((start, Unbounded))
            .take(limit)
            .filter_map(|id| state.customers.get(id))
            .map(|customer| Customer::clone(customer))
            .collect())
    }

    /// Lends each record under the read lock, a page at a time: writers wait for one page,
    /// never for the whole scan.
    async fn visit_customers<F: FnMut(&Customer) + Send>(
        &self,
        page: usize,
        mut visit: F,
    ) -> Result<(), StoreError> {
        use std::ops::Bound::{Excluded, Unbounded};
        let page = page.max(1);
        let mut after = None;
        loop {
            let state = self.read();
            let start = after.map_or(Unbounded, Excluded);
            let mut read = 0;
            for id in state.customer_ids.range((start, Unbounded)).take(page) {
                if let Some(customer) = state.customers.get(id) {
                    visit(customer);
                }
                after = Some(*id);
                read += 1;
            }
            if read < page {
                return Ok(());
            }
        }
    }

    async fn customers_inactive_since(
        &self,
        cutoff: chrono::DateTime<chrono::Utc>,
    ) -> Result<Vec<Customer>, StoreError> {
        let state = self.read();
        let active_since = |customer: &Customer| {
            state
                .bookings_by_customer
                .get(&customer.id)
                .into_iter()
                .flatten()
                .filter_map(|id| state.bookings.get(id))
                .any(|b| b.created_at >= cutoff || b.starts_at >= cutoff)
        };
        Ok(state
            .customer_ids
            .iter()
            .filter_map(|id| state.customers.get(id))
            .filter(|c| {
                c.status.is_live() && c.status != crate::records::customer::CustomerStatus::Blocked
            })
            .filter(|c| c.created_at < cutoff && !active_since(c))
            .map(|customer| Customer::clone(customer))
            .collect())
    }

    async fn bookings_of(&self, customers: &[CustomerId]) -> Result<Vec<Vec<Booking>>, StoreError> {
        let state = self.read();
        Ok(customers
            .iter()
            .map(|customer| state.bookings_of_customer(*customer))
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::store::match_index_parts;
    use crate::records::booking::NewBooking;
    use crate::records::profile::Profile;
    use crate::values::booking_status::BookingStatus;
    use crate::values::money::{Currency, Money};
    use crate::values::phone::Phone;

    fn ready<F: std::future::Future>(future: F) -> F::Output {
        let mut future = std::pin::pin!(future);
        let mut context = std::task::Context::from_waker(std::task::Waker::noop());
        loop {
            if let std::task::Poll::Ready(output) = future.as_mut().poll(&mut context) {
                return output;
            }
        }
    }

    fn booking_with_phone(code: &str, phone: &str) -> Booking {
        let contact = Profile {
            phone: Some(Phone::parse(phone, None).unwrap()),
            ..Profile::default()
        };
        let now = chrono::Utc::now();
        let total = Money::new(10_00, Currency::parse("EUR").unwrap());
        Booking::from_new(
            NewBooking::new(code, BookingStatus::PAID, contact, now, total),
            now,
        )
    }

    #[test]
    fn the_audit_log_keeps_every_event_in_order_across_chunks() {
        let mut log = AuditLog::default();
        let start = chrono::Utc::now();
        let total = 2 * AuditLog::CHUNK + 3;
        for n in 0..total {
            let at = start + chrono::Duration::milliseconds(i64::try_from(n).unwrap());
            log.push(AuditEvent::new(
                at,
                crate::records::audit::Actor::System,
                crate::records::audit::AuditAction::BookingRecorded,
            ));
        }
        assert_eq!(log.chunks.len(), 3);
        assert!(
            log.chunks
                .iter()
                .all(|chunk| chunk.len() <= AuditLog::CHUNK)
        );
        let times: Vec<_> = log.iter().map(|event| event.at).collect();
        assert_eq!(times.len(), total);
        assert!(times.windows(2).all(|pair| pair[0] < pair[1]), "in order");
    }

    #[test]
    fn bookings_sharing_only_a_hash_are_not_suggested() {
        let store = MemoryStore::new();
        let ours = booking_with_phone("B1", "+44 20 7946 0958");
        let other = booking_with_phone("B2", "+44 20 7946 0000");
        let mut changes = ChangeSet::new();
        changes.save_booking(ours.clone());
        changes.save_booking(other.clone());
        ready(store.commit(changes)).unwrap();
        let keys = ours.contact.match_keys();
        // A hash collision, forced: the other booking filed under our phone key's hash.
        {
            let mut state = store.write();
            let part = match_index_parts(&keys).next().unwrap();
            let hash = state.match_key_hasher.hash_one(part);
            state
                .bookings_by_match_key
                .entry(hash)
                .or_default()
                .push(other.id);
        }
        let found = ready(store.bookings_matching(&keys)).unwrap();
        let ids: Vec<BookingId> = found.iter().map(|booking| booking.id).collect();
        assert_eq!(ids, vec![ours.id]);
    }
}
