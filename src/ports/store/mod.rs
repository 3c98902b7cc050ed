//! Storage: the [`Store`] port, and everything an adapter author needs to implement it.
//!
//! A host with its own database implements [`Store`]; everyone else picks an adapter from
//! [`adapters`](crate::adapters): `MemoryStore` (always available, for tests, demos and
//! single-process hosts), `SqliteStore` (feature `sqlite`) or `PostgresStore` (feature
//! `postgres`).
//!
//! # The contract
//!
//! Reads return what the last successful commit left. [`Store::commit`] applies a
//! [`ChangeSet`] **all or nothing**:
//!
//! - every [`Write`] whose [`Expected`] does not match the stored record, and
//!   every [`Guard`] whose customer is missing or at another version, MUST fail
//!   the whole commit with [`Conflict::CustomerVersion`] or [`Conflict::BookingVersion`];
//! - a commit that would leave two live customers (see
//!   [`CustomerStatus::is_live`](crate::records::customer::CustomerStatus::is_live)) holding the same
//!   [`EmailKey`] MUST fail with [`Conflict::EmailKeyTaken`];
//! - a deletion whose customer is missing or at another version fails the same way, and so
//!   do merge record and list writes ([`Conflict::MergeVersion`], [`Conflict::ListVersion`]);
//! - a [`BookingsGuard`] whose customer's attributed bookings (before
//!   the commit's own writes) are not exactly the listed ones fails with
//!   [`Conflict::CustomerBookings`];
//! - a list whose name another list has (ignoring case) fails with [`Conflict::ListNameTaken`];
//! - audit events are appended in order, in the same transaction;
//! - a failed commit MUST change nothing; a store that cannot tell whether it applied MUST
//!   report [`StoreError::Backend`].
//!
//! [`SearchStore::search_customers`] MUST list exactly the customers the last commit left that
//! [`CustomerQuery::matches`], in [`CustomerQuery::compare`] order: a store that keeps
//! derived columns for it (as the SQL adapters do) updates them in the commit's transaction.
//!
//! Customer accounts (optional for an adapter: the [`AccountStore`] extension) add:
//!
//! - an [`Account`] write or deletion whose expectation fails MUST fail with
//!   [`Conflict::AccountVersion`]; a token write likewise with
//!   [`Conflict::AccountTokenVersion`];
//! - after the commit, the [`EmailKey`] of each account's `email` MUST belong to one account
//!   only ([`Conflict::AccountEmailTaken`]), and each customer MUST be claimed by one account
//!   only ([`Conflict::AccountCustomerTaken`]);
//! - a token whose account does not exist after the commit MUST fail the commit with
//!   [`Conflict::AccountMissing`]; deleting an account deletes its tokens in the same
//!   transaction;
//! - tokens are stored and looked up by their [`ResetTokenHash`]
//!   only: the plaintext token never reaches the store.
//!
//! Records are stored exactly as given (their versions are already bumped by the
//! [`ChangeSet`]). These rules are what let concurrent bookings for one new email create
//! exactly one customer.

pub(crate) mod changes;

use std::future::Future;
use std::sync::Arc;

pub use crate::ports::query::evaluation::{
    CustomerStats, SearchColumns, SearchHit, SearchTerms, SortPosition, SortValue,
};
pub use changes::{
    AccountGuard, BlocklistChange, BookingsGuard, ChangeSet, ChangeSetParts, Expected, Guard, Write,
};

use chrono::{DateTime, Utc};

use crate::ports::query::builder::CustomerQuery;
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

/// What the directory knows about one email key: the live customer holding it, and the
/// blocklist entry covering it (address entry first, else domain entry).
///
/// # Examples
///
/// ```
/// use customer_directory::ports::store::EmailLookup;
/// let nothing = EmailLookup::default();
/// assert!(nothing.customer.is_none() && nothing.block.is_none());
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct EmailLookup {
    /// The live customer whose email or alias has this key. Shared, so an in-memory store
    /// answers without copying the record.
    pub customer: Option<Arc<Customer>>,
    /// The blocklist entry for this address, or else for its domain.
    pub block: Option<BlockEntry>,
}

impl EmailLookup {
    /// A lookup result, for store implementations.
    ///
    /// # Examples
    ///
    /// ```
    /// use customer_directory::ports::store::EmailLookup;
    /// assert_eq!(EmailLookup::new(None, None), EmailLookup::default());
    /// ```
    #[must_use]
    pub fn new(customer: Option<Arc<Customer>>, block: Option<BlockEntry>) -> Self {
        Self { customer, block }
    }
}

/// The storage port's core: the reads attribution and every customer use case need, and one
/// atomic commit.
///
/// A host's first store implements this trait alone (twelve methods; the account reads
/// have defaults) and gets every use case of [`Directory`](crate::Directory) except search,
/// counting and the whole-directory reads. Optional capabilities are extension traits,
/// checked at compile time: [`AccountStore`] (customer accounts, for
/// [`Accounts`](crate::Accounts)), [`SearchStore`] (search and count) and
/// [`BulkReadStore`] (export, duplicates, bulk redaction). See the
/// [module documentation](self) for the contract every implementation MUST keep.
/// All methods take `&self`: a store is shared by every task of the host.
///
/// # Examples
///
/// ```
/// use customer_directory::{MemoryStore, Store};
/// use customer_directory::ports::store::ChangeSet;
/// use customer_directory::{Customer, Profile};
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let store = MemoryStore::new();
/// let customer = Customer::new(Profile::default(), chrono::Utc::now());
/// let id = customer.id;
/// let mut changes = ChangeSet::new();
/// changes.save_customer(customer);
/// store.commit(changes).await?;
/// assert_eq!(store.customer(id).await?.map(|c| c.version), Some(1));
/// # Ok::<(), customer_directory::ports::store::StoreError>(())
/// # }).unwrap();
/// ```
pub trait Store: Send + Sync {
    /// The customer with this id, whatever its status (merged and redacted ones included).
    fn customer(
        &self,
        id: CustomerId,
    ) -> impl Future<Output = Result<Option<Customer>, StoreError>> + Send;

    /// The booking with this id.
    fn booking(
        &self,
        id: BookingId,
    ) -> impl Future<Output = Result<Option<Booking>, StoreError>> + Send;

    /// The live customer holding `key` and the blocklist entry covering it, in one read.
    ///
    /// This is the hot path of attribution: implementations MUST answer from an index.
    fn lookup_email(
        &self,
        key: &EmailKey,
    ) -> impl Future<Output = Result<EmailLookup, StoreError>> + Send;

    /// Every booking attributed to `customer` (primary and related), ordered by start time
    /// then id.
    fn customer_bookings(
        &self,
        customer: CustomerId,
    ) -> impl Future<Output = Result<Vec<Booking>, StoreError>> + Send;

    /// Unattributed bookings whose contact email has `key`, oldest first.
    fn unattributed_bookings(
        &self,
        key: &EmailKey,
    ) -> impl Future<Output = Result<Vec<Booking>, StoreError>> + Send;

    /// Bookings whose contact shares at least one of `keys` (loose email key, phone, name +
    /// postcode), ordered by start time then id. Used for suggestions only.
    fn bookings_matching(
        &self,
        keys: &MatchKeys,
    ) -> impl Future<Output = Result<Vec<Booking>, StoreError>> + Send;

    /// The record of a merge.
    fn merge_record(
        &self,
        id: MergeId,
    ) -> impl Future<Output = Result<Option<MergeRecord>, StoreError>> + Send;

    /// The merge records in which `customer` took part, as survivor or as one of the merged
    /// customers (undone merges included), oldest first.
    fn merges_involving(
        &self,
        customer: CustomerId,
    ) -> impl Future<Output = Result<Vec<MergeRecord>, StoreError>> + Send;

    /// The audit events naming `customer`, oldest first.
    ///
    /// Implementations MUST keep the events of a deleted customer: the directory reads the
    /// deletion from them to answer [`Error::CustomerDeleted`](crate::service::error::Error::CustomerDeleted)
    /// (with its time) instead of "not found" for an id it once handed out.
    fn audit_trail(
        &self,
        customer: CustomerId,
    ) -> impl Future<Output = Result<Vec<AuditEvent>, StoreError>> + Send;

    /// Every customer list, ordered by name (ignoring case) then id.
    fn lists(&self) -> impl Future<Output = Result<Vec<CustomerList>, StoreError>> + Send;

    /// Whether a stored booking carries each of `codes`, answered in the order asked (a code
    /// asked twice is answered twice).
    ///
    /// [`Directory::record_bookings`](crate::Directory::record_bookings) skips the bookings
    /// whose code is already stored, so an import can be run again after a failure. It asks
    /// for at most [`BOOKING_BATCH_MAX`](crate::limits::BOOKING_BATCH_MAX) codes at a time;
    /// implementations MUST answer from an index.
    fn booking_codes_stored(
        &self,
        codes: &[String],
    ) -> impl Future<Output = Result<Vec<bool>, StoreError>> + Send;

    /// [`lookup_email`](Self::lookup_email) for each of `keys`, answered in the order asked.
    ///
    /// A batch of bookings reads every email it holds at once. The default asks
    /// [`lookup_email`](Self::lookup_email) once per key; a store whose reads each cost a
    /// round trip answers them in one. At most
    /// [`BOOKING_BATCH_MAX`](crate::limits::BOOKING_BATCH_MAX) keys are asked at a time.
    fn lookup_emails(
        &self,
        keys: &[EmailKey],
    ) -> impl Future<Output = Result<Vec<EmailLookup>, StoreError>> + Send {
        async move {
            let mut found = Vec::with_capacity(keys.len());
            for key in keys {
                found.push(self.lookup_email(key).await?);
            }
            Ok(found)
        }
    }

    // The account reads the directory's own use cases make: merging moves or closes the
    // account claiming a customer, redaction erases it, deletion unclaims it, the summary and
    // the export show its last login. A store that keeps no accounts keeps these defaults
    // (no account claims anyone); a store that implements [`AccountStore`] MUST answer them
    // from its account records.

    /// The account with this id. Default: none (a store without [`AccountStore`]).
    fn account(
        &self,
        id: AccountId,
    ) -> impl Future<Output = Result<Option<Account>, StoreError>> + Send {
        let _ = id;
        async { Ok(None) }
    }

    /// The account whose `customer` is this customer (at most one, by the commit rules).
    /// Default: none (a store without [`AccountStore`]).
    fn account_by_customer(
        &self,
        customer: CustomerId,
    ) -> impl Future<Output = Result<Option<Account>, StoreError>> + Send {
        let _ = customer;
        async { Ok(None) }
    }

    /// The account claiming each of `customers`, in the order given (as
    /// [`account_by_customer`](Self::account_by_customer) answers for one). The default asks
    /// for each customer in turn; a store with a round trip per read SHOULD answer with one
    /// query.
    fn accounts_claiming(
        &self,
        customers: &[CustomerId],
    ) -> impl Future<Output = Result<Vec<Option<Account>>, StoreError>> + Send {
        async move {
            let mut accounts = Vec::with_capacity(customers.len());
            for customer in customers {
                accounts.push(self.account_by_customer(*customer).await?);
            }
            Ok(accounts)
        }
    }

    /// Applies `changes` atomically, or fails changing nothing.
    ///
    /// A change set [marked as an erasure](ChangeSet::is_erasure) (a redaction) erases
    /// personal data: once it is committed the store SHOULD remove the old values from its
    /// files where the database allows (free space, old row versions, logs), and MUST NOT
    /// fail the commit over that cleanup, which comes after the data is committed.
    ///
    /// # Errors
    ///
    /// [`StoreError::Conflict`] when a version expectation or guard fails or an email key
    /// would be held by two live customers; [`StoreError::Backend`] when storage fails.
    fn commit(&self, changes: ChangeSet) -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// Customer accounts: the reads [`Accounts`](crate::Accounts) needs on top of [`Store`].
///
/// Implement it when the store keeps the account records of a [`ChangeSet`] (its
/// `save_account`, `delete_account` and token writes); [`Accounts`](crate::Accounts) is
/// only available over such a store, so a store without account tables never receives an
/// account write. An implementation MUST also answer [`Store::account`],
/// [`Store::account_by_customer`] and [`Store::accounts_claiming`] from its account records
/// instead of keeping their defaults (the account conformance scenarios check it).
pub trait AccountStore: Store {
    /// The account whose login `email` has this key (exact [`EmailKey`] match; an account's
    /// `previous_email` is not indexed). Implementations MUST answer from a unique index.
    fn account_by_email(
        &self,
        key: &EmailKey,
    ) -> impl Future<Output = Result<Option<Account>, StoreError>> + Send;

    /// The token stored under this hash, whatever its state (used, expired and void tokens
    /// included; the directory decides).
    fn account_token(
        &self,
        hash: &ResetTokenHash,
    ) -> impl Future<Output = Result<Option<AccountToken>, StoreError>> + Send;

    /// Every token of the account, whatever its state, oldest first (by `created_at`, then
    /// hash).
    fn account_tokens(
        &self,
        account: AccountId,
    ) -> impl Future<Output = Result<Vec<AccountToken>, StoreError>> + Send;
}

/// Searching: the reads [`Directory::search`](crate::Directory::search) and
/// [`Directory::count`](crate::Directory::count) need on top of [`Store`].
pub trait SearchStore: Store {
    /// Up to `limit` customers matching `query`, in its order, starting strictly after
    /// `after` (from the start when `None`), each with its [`SortPosition`].
    ///
    /// Implementations MUST apply [`CustomerQuery::matches`] and order by
    /// [`CustomerQuery::compare`] (sort key, then id, in the query's direction), with the
    /// booking statistics of [`CustomerStats::of`] over the customer's attributed bookings and
    /// "claimed" meaning an account's `customer` is this customer; the position of each row
    /// MUST be the one its order was decided by. A position whose value is not of the
    /// query's kind ([`CustomerQuery::fits`]) is compared by [`SortValue`]'s order. A store
    /// SHOULD answer from indexes rather than by reading every customer; the in-memory store
    /// scans.
    fn search_customers(
        &self,
        query: &CustomerQuery,
        after: Option<&SortPosition>,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<SearchHit>, StoreError>> + Send;

    /// How many customers match `query` ([`CustomerQuery::matches`]), over all its pages:
    /// exactly the number of rows [`search_customers`](Self::search_customers) lists when
    /// paged through to the end. The sort does not matter.
    ///
    /// The default pages through `search_customers`, reading every matching record; a store
    /// SHOULD count in its own query language instead (the SQL adapters run one
    /// `SELECT count(*)` with the search's conditions).
    fn count_customers(
        &self,
        query: &CustomerQuery,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send {
        async move {
            let mut count: u64 = 0;
            let mut after: Option<SortPosition> = None;
            loop {
                let page = self
                    .search_customers(
                        query,
                        after.as_ref(),
                        crate::ports::query::builder::MAX_PAGE_SIZE,
                    )
                    .await?;
                count = count.saturating_add(page.len() as u64);
                match page.last() {
                    Some(last) if page.len() == crate::ports::query::builder::MAX_PAGE_SIZE => {
                        after = Some(last.position.clone());
                    }
                    _ => return Ok(count),
                }
            }
        }
    }
}

/// Reads of the whole directory, page by page: what the CSV export, duplicate detection,
/// pending brochure requests and the redaction of inactive customers need on top of
/// [`Store`].
pub trait BulkReadStore: Store {
    /// Up to `limit` customers of any status with an id greater than `after`, by id: a
    /// stable scan of the whole directory.
    fn customers_after(
        &self,
        after: Option<CustomerId>,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<Customer>, StoreError>> + Send;

    /// Shows every customer, of any status, to `visit` in id order, reading up to `page`
    /// customers at a time: a scan of the whole directory that needs no copy of a record.
    /// Customers committed during the scan are seen when their id comes after the page being
    /// read, as with [`customers_after`](Self::customers_after). The default pages with
    /// `customers_after`; an in-memory store SHOULD lend its records instead.
    fn visit_customers<F: FnMut(&Customer) + Send>(
        &self,
        page: usize,
        mut visit: F,
    ) -> impl Future<Output = Result<(), StoreError>> + Send {
        async move {
            let page = page.max(1);
            let mut after = None;
            loop {
                let customers = self.customers_after(after, page).await?;
                for customer in &customers {
                    visit(customer);
                }
                match customers.last() {
                    Some(last) if customers.len() == page => after = Some(last.id),
                    _ => return Ok(()),
                }
            }
        }
    }

    /// Live customers, other than blocked ones, created before `cutoff` with no booking
    /// created or starting at or after `cutoff`.
    fn customers_inactive_since(
        &self,
        cutoff: DateTime<Utc>,
    ) -> impl Future<Output = Result<Vec<Customer>, StoreError>> + Send;

    /// The bookings of each of `customers`, in the order given, each list ordered as
    /// [`customer_bookings`](Store::customer_bookings) orders it: what the export reads for a
    /// page of customers. The default asks for each customer in turn; a store with a round
    /// trip per read SHOULD answer a page with one query.
    fn bookings_of(
        &self,
        customers: &[CustomerId],
    ) -> impl Future<Output = Result<Vec<Vec<Booking>>, StoreError>> + Send {
        async move {
            let mut bookings = Vec::with_capacity(customers.len());
            for customer in customers {
                bookings.push(self.customer_bookings(*customer).await?);
            }
            Ok(bookings)
        }
    }
}

/// Why a commit was refused because of what is stored: retrying after a fresh read may
/// succeed.
///
/// # Examples
///
/// ```
/// use customer_directory::CustomerId;
/// use customer_directory::ports::store::Expected;
/// use customer_directory::ports::store::Conflict;
/// let conflict = Conflict::CustomerVersion { id: CustomerId::new(), expected: Expected::Version(1), found: Some(2) };
/// assert!(conflict.to_string().contains("expected version 1, found version 2"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Conflict {
    /// A customer write or guard found another version.
    #[error("customer {id} changed concurrently: expected {expected}, found {}", found_text(*.found))]
    CustomerVersion {
        /// The customer.
        id: CustomerId,
        /// What the commit expected.
        expected: Expected,
        /// What is stored (`None`: no such customer).
        found: Option<u64>,
    },
    /// A booking write found another version.
    #[error("booking {id} changed concurrently: expected {expected}, found {}", found_text(*.found))]
    BookingVersion {
        /// The booking.
        id: BookingId,
        /// What the commit expected.
        expected: Expected,
        /// What is stored (`None`: no such booking).
        found: Option<u64>,
    },
    /// A merge record write found another version.
    #[error("merge {id} changed concurrently: expected {expected}, found {}", found_text(*.found))]
    MergeVersion {
        /// The merge.
        id: MergeId,
        /// What the commit expected.
        expected: Expected,
        /// What is stored (`None`: no such merge).
        found: Option<u64>,
    },
    /// Another live customer already holds this email key.
    #[error("email key {key} is already held by customer {holder}")]
    EmailKeyTaken {
        /// The key.
        key: EmailKey,
        /// The live customer holding it.
        holder: CustomerId,
    },
    /// A customer's bookings changed since the decision read them (see
    /// [`ChangeSet::expect_bookings`]).
    #[error("the bookings of customer {customer} changed concurrently")]
    CustomerBookings {
        /// The customer.
        customer: CustomerId,
    },
    /// A list write at the wrong version.
    #[error("list {id} changed concurrently: expected {expected}, found {}", found_text(*.found))]
    ListVersion {
        /// The list.
        id: ListId,
        /// What the commit expected.
        expected: Expected,
        /// What is stored (`None`: no such list).
        found: Option<u64>,
    },
    /// Another list already has this name (compared ignoring case).
    #[error("a list named {name} already exists")]
    ListNameTaken {
        /// The name.
        name: String,
    },
    /// An account write or deletion found another version.
    #[error("account {id} changed concurrently: expected {expected}, found {}", found_text(*.found))]
    AccountVersion {
        /// The account.
        id: AccountId,
        /// What the commit expected.
        expected: Expected,
        /// What is stored (`None`: no such account).
        found: Option<u64>,
    },
    /// A token write found another version (the token is named by its account only).
    #[error("a token of account {account} changed concurrently: expected {expected}, found {}", found_text(*.found))]
    AccountTokenVersion {
        /// The token's account.
        account: AccountId,
        /// What the commit expected.
        expected: Expected,
        /// What is stored (`None`: no such token).
        found: Option<u64>,
    },
    /// A token would belong to an account that does not exist.
    #[error("account {0} does not exist")]
    AccountMissing(AccountId),
    /// Another account already logs in with this email key.
    #[error("email key {key} is already the login of account {holder}")]
    AccountEmailTaken {
        /// The key.
        key: EmailKey,
        /// The account holding it.
        holder: AccountId,
    },
    /// Another account already claims this customer.
    #[error("customer {customer} is already claimed by account {holder}")]
    AccountCustomerTaken {
        /// The customer.
        customer: CustomerId,
        /// The account claiming it.
        holder: AccountId,
    },
    /// The database gave up on the transaction because of a concurrent one (a deadlock, a
    /// serialization failure, or a lock it could not get in time); nothing was applied.
    #[error("the transaction was aborted by a concurrent one: {reason}")]
    TransactionAborted {
        /// The database's explanation.
        reason: String,
    },
}

impl Conflict {
    /// A stable snake_case name of the conflict's variant, for logs and metrics: it names
    /// what conflicted without any value the conflict holds (an email key, a list name).
    ///
    /// # Examples
    ///
    /// ```
    /// use customer_directory::ports::store::Conflict;
    /// use customer_directory::CustomerId;
    /// let conflict = Conflict::CustomerBookings { customer: CustomerId::new() };
    /// assert_eq!(conflict.kind(), "customer_bookings");
    /// ```
    pub fn kind(&self) -> &'static str {
        match self {
            Self::CustomerVersion { .. } => "customer_version",
            Self::BookingVersion { .. } => "booking_version",
            Self::MergeVersion { .. } => "merge_version",
            Self::EmailKeyTaken { .. } => "email_key_taken",
            Self::CustomerBookings { .. } => "customer_bookings",
            Self::ListVersion { .. } => "list_version",
            Self::ListNameTaken { .. } => "list_name_taken",
            Self::AccountVersion { .. } => "account_version",
            Self::AccountTokenVersion { .. } => "account_token_version",
            Self::AccountMissing(_) => "account_missing",
            Self::AccountEmailTaken { .. } => "account_email_taken",
            Self::AccountCustomerTaken { .. } => "account_customer_taken",
            Self::TransactionAborted { .. } => "transaction_aborted",
        }
    }
}

fn found_text(found: Option<u64>) -> String {
    found.map_or_else(|| "no record".to_owned(), |v| format!("version {v}"))
}

/// Why a store operation failed.
///
/// # Examples
///
/// ```
/// use customer_directory::ports::store::StoreError;
/// let err = StoreError::backend("disk full", std::io::Error::other("ENOSPC"));
/// assert_eq!(err.to_string(), "storage failed: disk full");
/// assert!(std::error::Error::source(&err).is_some());
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The commit conflicts with what is stored; nothing was changed.
    #[error(transparent)]
    Conflict(#[from] Conflict),
    /// The storage backend failed (connection, I/O, corrupt row).
    #[error("storage failed: {message}")]
    Backend {
        /// What was being done.
        message: String,
        /// The backend's own error.
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },
}

impl StoreError {
    /// A backend failure with its cause.
    ///
    /// # Examples
    ///
    /// ```
    /// use customer_directory::ports::store::StoreError;
    /// let err = StoreError::backend("reading customer", std::io::Error::other("timeout"));
    /// assert!(matches!(err, StoreError::Backend { .. }));
    /// ```
    pub fn backend(
        message: impl Into<String>,
        source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Self {
        Self::Backend {
            message: message.into(),
            source: Some(source.into()),
        }
    }

    /// The conflict, if this is one.
    ///
    /// # Examples
    ///
    /// ```
    /// use customer_directory::ports::store::StoreError;
    /// assert!(StoreError::backend("x", "y").conflict().is_none());
    /// ```
    #[must_use]
    pub fn conflict(&self) -> Option<&Conflict> {
        match self {
            Self::Conflict(conflict) => Some(conflict),
            Self::Backend { .. } => None,
        }
    }
}

/// The suggestion keys of a booking contact, each with its kind (`loose`, `phone`, `name`),
/// so one index can hold them all: a loose email key and a phone number never match each
/// other, whatever their text.
pub(crate) fn match_index_parts(
    keys: &MatchKeys,
) -> impl Iterator<Item = (&'static str, &str)> + '_ {
    let loose = keys.loose_email.iter().map(|k| ("loose", k.as_str()));
    let phone = keys.phone.iter().map(|p| ("phone", p.as_str()));
    let name = keys.name_postcode.iter().map(|n| ("name", n.as_str()));
    loose.chain(phone).chain(name)
}
