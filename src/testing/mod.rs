//! Tools for testing code built on this crate, behind the `testing` feature.
//!
//! - [`FaultInjectingStore`] wraps any [`Store`] and makes chosen commits fail, so a test
//!   can show that an operation whose commit fails leaves storage exactly as it was.
//! - [`strategies`]: proptest strategies for every domain type.
//! - [`conformance`]: the scenarios every [`Store`] must pass, run against any store with
//!   [`conformance_tests!`](crate::conformance_tests).

pub mod conformance;
pub mod strategies;

use std::sync::{Arc, Mutex, PoisonError};

use chrono::{DateTime, Utc};

use crate::ports::query::builder::CustomerQuery;
use crate::ports::store::changes::ChangeSet;
use crate::ports::store::{
    AccountStore, BulkReadStore, EmailLookup, SearchStore, Store, StoreError,
};
use crate::records::audit::AuditEvent;
use crate::records::booking::Booking;
use crate::records::customer::Customer;
use crate::records::merge::MergeRecord;
use crate::records::notes::CustomerList;
use crate::records::profile::MatchKeys;
use crate::values::email::key::EmailKey;
use crate::values::ids::{BookingId, CustomerId, MergeId};

/// The error inside the [`StoreError::Backend`] of a commit failed on purpose, so a test can
/// tell an injected failure from a real one.
///
/// # Examples
///
/// ```
/// use customer_directory::testing::InjectedFault;
/// assert_eq!(InjectedFault.to_string(), "fault injected by FaultInjectingStore");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("fault injected by FaultInjectingStore")]
pub struct InjectedFault;

/// A [`Store`] wrapper that fails chosen commits or reads, or delays them, before they
/// reach the inner store.
///
/// A failed commit never reaches the wrapped store, exactly like a transaction that rolled
/// back, so a correct caller sees the store unchanged. Clones share the fault plan. Delays
/// use tokio's timer, so they need a tokio runtime.
///
/// # Examples
///
/// ```
/// use customer_directory::{MemoryStore, Store};
/// use customer_directory::testing::FaultInjectingStore;
/// use customer_directory::ports::store::ChangeSet;
/// use customer_directory::{Customer, Profile};
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let store = FaultInjectingStore::new(MemoryStore::new());
/// store.fail_next_commits(1);
/// let mut changes = ChangeSet::new();
/// changes.save_customer(Customer::new(Profile::default(), chrono::Utc::now()));
/// assert!(store.commit(changes).await.is_err());
/// assert_eq!(store.inner().customer_count(), 0);
/// assert_eq!(store.failed_commits(), 1);
/// # });
/// ```
#[derive(Debug, Clone)]
pub struct FaultInjectingStore<S> {
    inner: S,
    plan: Arc<Mutex<FaultPlan>>,
}

#[derive(Debug, Default)]
struct FaultPlan {
    fail_next: u64,
    /// Chance of failing any commit, in parts per million.
    rate_ppm: u32,
    /// Chance of failing any read, in parts per million.
    read_rate_ppm: u32,
    /// State of the xorshift generator deciding random failures (never zero).
    rng: u64,
    failed: u64,
    failed_reads: u64,
    delay: std::time::Duration,
    /// The change sets handed to the wrapped store since the log was last taken, when
    /// [`FaultInjectingStore::log_commits`] asked for them.
    log: Option<Vec<ChangeSet>>,
}

impl FaultPlan {
    fn roll(&mut self, ppm: u32) -> bool {
        if ppm == 0 {
            return false;
        }
        self.rng |= 1;
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 7;
        self.rng ^= self.rng << 17;
        self.rng % 1_000_000 < u64::from(ppm)
    }

    fn should_fail(&mut self) -> bool {
        let fail = if self.fail_next > 0 {
            self.fail_next -= 1;
            true
        } else {
            self.roll(self.rate_ppm)
        };
        self.failed += u64::from(fail);
        fail
    }

    fn should_fail_read(&mut self) -> bool {
        let fail = self.roll(self.read_rate_ppm);
        self.failed_reads += u64::from(fail);
        fail
    }
}

/// Parts per million of a fraction clamped to 0..=1.
fn ppm(fraction: f64) -> u32 {
    // Clamped to 0..=1 first, so the product fits in u32.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let ppm = (fraction.clamp(0.0, 1.0) * 1_000_000.0).round() as u32;
    ppm
}

impl<S> FaultInjectingStore<S> {
    /// Wraps `inner`; no fault is planned until one is asked for.
    pub fn new(inner: S) -> Self {
        Self {
            inner,
            plan: Arc::default(),
        }
    }

    /// The wrapped store.
    pub fn inner(&self) -> &S {
        &self.inner
    }

    /// Fails the next `count` commits.
    pub fn fail_next_commits(&self, count: u64) {
        self.plan().fail_next = count;
    }

    /// Fails each commit with probability `fraction` (clamped to 0..=1), deterministically
    /// for a given `seed` and sequence of commits.
    pub fn fail_commits_at_rate(&self, fraction: f64, seed: u64) {
        let mut plan = self.plan();
        plan.rate_ppm = ppm(fraction);
        plan.rng = seed | 1;
    }

    /// Fails each read with probability `fraction` (clamped to 0..=1), deterministically
    /// for a given `seed` and sequence of calls.
    pub fn fail_reads_at_rate(&self, fraction: f64, seed: u64) {
        let mut plan = self.plan();
        plan.read_rate_ppm = ppm(fraction);
        plan.rng = seed | 1;
    }

    /// Delays every read and commit by `delay`, as a slow or distant database would.
    pub fn delay_each(&self, delay: std::time::Duration) {
        self.plan().delay = delay;
    }

    /// Stops failing and delaying.
    pub fn heal(&self) {
        let mut plan = self.plan();
        plan.fail_next = 0;
        plan.rate_ppm = 0;
        plan.read_rate_ppm = 0;
        plan.delay = std::time::Duration::ZERO;
    }

    /// Keeps a copy of every change set the wrapped store commits from now on, for
    /// [`take_commits`](Self::take_commits): what a use case wrote, checked and recorded.
    pub fn log_commits(&self) {
        self.plan().log.get_or_insert_with(Vec::new);
    }

    /// The change sets committed since [`log_commits`](Self::log_commits) or the last call
    /// (commits that failed, injected or not, are not among them).
    pub fn take_commits(&self) -> Vec<ChangeSet> {
        self.plan()
            .log
            .as_mut()
            .map(std::mem::take)
            .unwrap_or_default()
    }

    /// How many commits have been failed so far.
    pub fn failed_commits(&self) -> u64 {
        self.plan().failed
    }

    /// How many reads have been failed so far.
    pub fn failed_reads(&self) -> u64 {
        self.plan().failed_reads
    }

    /// Waits out the planned delay, then fails the read if the plan says so.
    async fn before_read(&self) -> Result<(), StoreError> {
        let (delay, fail) = {
            let mut plan = self.plan();
            (plan.delay, plan.should_fail_read())
        };
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        if fail {
            return Err(StoreError::backend("reading", InjectedFault));
        }
        Ok(())
    }

    fn plan(&self) -> std::sync::MutexGuard<'_, FaultPlan> {
        // The plan holds plain counters, valid even if a holder panicked.
        self.plan.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl<S: Store> Store for FaultInjectingStore<S> {
    async fn customer(&self, id: CustomerId) -> Result<Option<Customer>, StoreError> {
        self.before_read().await?;
        self.inner.customer(id).await
    }

    async fn booking(&self, id: BookingId) -> Result<Option<Booking>, StoreError> {
        self.before_read().await?;
        self.inner.booking(id).await
    }

    async fn lookup_email(&self, key: &EmailKey) -> Result<EmailLookup, StoreError> {
        self.before_read().await?;
        self.inner.lookup_email(key).await
    }

    async fn customer_bookings(&self, customer: CustomerId) -> Result<Vec<Booking>, StoreError> {
        self.before_read().await?;
        self.inner.customer_bookings(customer).await
    }

    async fn unattributed_bookings(&self, key: &EmailKey) -> Result<Vec<Booking>, StoreError> {
        self.before_read().await?;
        self.inner.unattributed_bookings(key).await
    }

    async fn bookings_matching(&self, keys: &MatchKeys) -> Result<Vec<Booking>, StoreError> {
        self.before_read().await?;
        self.inner.bookings_matching(keys).await
    }

    async fn merge_record(&self, id: MergeId) -> Result<Option<MergeRecord>, StoreError> {
        self.before_read().await?;
        self.inner.merge_record(id).await
    }

    async fn merges_involving(&self, customer: CustomerId) -> Result<Vec<MergeRecord>, StoreError> {
        self.before_read().await?;
        self.inner.merges_involving(customer).await
    }

    async fn audit_trail(&self, customer: CustomerId) -> Result<Vec<AuditEvent>, StoreError> {
        self.before_read().await?;
        self.inner.audit_trail(customer).await
    }

    async fn lists(&self) -> Result<Vec<CustomerList>, StoreError> {
        self.before_read().await?;
        self.inner.lists().await
    }

    async fn booking_codes_stored(&self, codes: &[String]) -> Result<Vec<bool>, StoreError> {
        self.before_read().await?;
        self.inner.booking_codes_stored(codes).await
    }

    async fn lookup_emails(&self, keys: &[EmailKey]) -> Result<Vec<EmailLookup>, StoreError> {
        self.before_read().await?;
        self.inner.lookup_emails(keys).await
    }

    async fn account(
        &self,
        id: crate::values::ids::AccountId,
    ) -> Result<Option<crate::records::account::Account>, StoreError> {
        self.inner.account(id).await
    }

    async fn account_by_customer(
        &self,
        customer: CustomerId,
    ) -> Result<Option<crate::records::account::Account>, StoreError> {
        self.inner.account_by_customer(customer).await
    }

    async fn accounts_claiming(
        &self,
        customers: &[CustomerId],
    ) -> Result<Vec<Option<crate::records::account::Account>>, StoreError> {
        self.inner.accounts_claiming(customers).await
    }

    async fn commit(&self, changes: ChangeSet) -> Result<(), StoreError> {
        let delay = self.plan().delay;
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        if self.plan().should_fail() {
            return Err(StoreError::backend("committing changes", InjectedFault));
        }
        let copy = self.plan().log.is_some().then(|| changes.clone());
        self.inner.commit(changes).await?;
        if let (Some(copy), Some(log)) = (copy, self.plan().log.as_mut()) {
            log.push(copy);
        }
        Ok(())
    }
}

impl<S: AccountStore> AccountStore for FaultInjectingStore<S> {
    async fn account_by_email(
        &self,
        key: &EmailKey,
    ) -> Result<Option<crate::records::account::Account>, StoreError> {
        self.inner.account_by_email(key).await
    }

    async fn account_token(
        &self,
        hash: &crate::records::tokens::ResetTokenHash,
    ) -> Result<Option<crate::records::account::AccountToken>, StoreError> {
        self.inner.account_token(hash).await
    }

    async fn account_tokens(
        &self,
        account: crate::values::ids::AccountId,
    ) -> Result<Vec<crate::records::account::AccountToken>, StoreError> {
        self.inner.account_tokens(account).await
    }
}

impl<S: SearchStore> SearchStore for FaultInjectingStore<S> {
    async fn search_customers(
        &self,
        query: &crate::ports::query::builder::CustomerQuery,
        after: Option<&crate::ports::query::evaluation::SortPosition>,
        limit: usize,
    ) -> Result<Vec<crate::ports::query::evaluation::SearchHit>, StoreError> {
        self.before_read().await?;
        self.inner.search_customers(query, after, limit).await
    }

    async fn count_customers(&self, query: &CustomerQuery) -> Result<u64, StoreError> {
        self.before_read().await?;
        self.inner.count_customers(query).await
    }
}

impl<S: BulkReadStore> BulkReadStore for FaultInjectingStore<S> {
    async fn customers_after(
        &self,
        after: Option<CustomerId>,
        limit: usize,
    ) -> Result<Vec<Customer>, StoreError> {
        self.before_read().await?;
        self.inner.customers_after(after, limit).await
    }

    async fn visit_customers<F: FnMut(&Customer) + Send>(
        &self,
        page: usize,
        visit: F,
    ) -> Result<(), StoreError> {
        self.before_read().await?;
        self.inner.visit_customers(page, visit).await
    }

    async fn customers_inactive_since(
        &self,
        cutoff: DateTime<Utc>,
    ) -> Result<Vec<Customer>, StoreError> {
        self.before_read().await?;
        self.inner.customers_inactive_since(cutoff).await
    }

    async fn bookings_of(&self, customers: &[CustomerId]) -> Result<Vec<Vec<Booking>>, StoreError> {
        self.before_read().await?;
        self.inner.bookings_of(customers).await
    }
}

/// The slowest password inputs known for a policy whose maximum length is `max_length`, each
/// with a short label: long repeated patterns, substitution-heavy "l33t" strings (whose cost
/// in zxcvbn grows exponentially with the number of different symbols), Unicode
/// compatibility forms, one character over the maximum, and 4 KiB (the hashing cap). Used by
/// the password bound test and benchmark; a host tuning its own policy can time them too.
///
/// # Examples
///
/// ```
/// let inputs = customer_directory::testing::worst_password_inputs(128);
/// assert!(inputs.iter().any(|(_, input)| input.chars().count() == 129));
/// ```
pub fn worst_password_inputs(max_length: usize) -> Vec<(&'static str, String)> {
    let fit = |pattern: &str| -> String { pattern.chars().cycle().take(max_length).collect() };
    let l33t = "4@8({[<369!|170$5+2%";
    vec![
        ("l33t symbols, max length", fit(l33t)),
        ("l33t words, max length", fit("P@$$w0rd!1337h4x0r")),
        ("one character, max length", fit("a")),
        ("repeated pair, max length", fit("aB")),
        (
            "keyboard walk, max length",
            fit("qwertyuiop[]asdfghjkl;'zxcvbnm,./"),
        ),
        (
            "sequence, max length",
            fit("abcdefghijklmnopqrstuvwxyz0123456789"),
        ),
        ("dates, max length", fit("19/12/2020-")),
        (
            "24-char l33t prefix",
            l33t.chars().cycle().take(24).collect(),
        ),
        ("unicode compatibility forms", fit("ﬁ①Ａ\u{301}")),
        ("one over max", fit(l33t) + "x"),
        ("4096 bytes (the hashing cap)", l33t.repeat(204)),
        (
            "l33t interleaved with letters",
            fit("a4b@c8d(e{f[g<h3i6j9k1l!m|n7o0p$q5r+s2t%"),
        ),
        ("digits and letters", fit("p4ssw0rd1234567890")),
        (
            "6 different l33t then letters",
            fit("4@8({[abcdefghijklmnop"),
        ),
        ("6 different l33t repeated", fit("4@8({[")),
        ("6 different l33t interleaved", fit("a4b@c8d(e{f[")),
        ("6 l33t in words", fit("P@$$w0rd!passw0rd$ecret")),
        ("ambiguous l33t in words", fit("|1|7|1|7ittle|1|7")),
    ]
}
