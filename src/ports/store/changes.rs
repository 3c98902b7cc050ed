//! The unit of work a decision hands to [`Store::commit`](crate::ports::store::Store::commit).

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::records::account::{Account, AccountToken};
use crate::records::audit::AuditEvent;
use crate::records::booking::Booking;
use crate::records::customer::{BlockEntry, BlockTarget, Customer};
use crate::records::merge::MergeRecord;
use crate::records::notes::CustomerList;
use crate::values::ids::{AccountId, BookingId, CustomerId};

/// What the store must find before it applies a write.
///
/// # Examples
///
/// ```
/// use customer_directory::ports::store::Expected;
/// assert_eq!(Expected::Version(3).to_string(), "version 3");
/// assert_eq!(Expected::Absent.to_string(), "no record");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Expected {
    /// The record must not exist yet.
    Absent,
    /// The stored record must have exactly this version.
    Version(u64),
}

impl Expected {
    /// Whether a record found with `found` version (or not found) satisfies this expectation.
    ///
    /// # Examples
    ///
    /// ```
    /// use customer_directory::ports::store::Expected;
    /// assert!(Expected::Absent.is_met_by(None));
    /// assert!(Expected::Version(2).is_met_by(Some(2)));
    /// assert!(!Expected::Version(2).is_met_by(Some(3)));
    /// ```
    #[must_use]
    pub fn is_met_by(self, found: Option<u64>) -> bool {
        match self {
            Self::Absent => found.is_none(),
            Self::Version(version) => found == Some(version),
        }
    }
}

impl fmt::Display for Expected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Absent => f.write_str("no record"),
            Self::Version(version) => write!(f, "version {version}"),
        }
    }
}

/// A record to store, and the version the store must find for it first.
///
/// The record already carries its new version (`expected + 1`, or 1 for an insert).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Write<T> {
    /// The record as it must be stored.
    pub record: T,
    /// What must be stored now for the write to apply.
    pub expected: Expected,
}

impl<T> Write<T> {
    /// Builds the write for a record as read (or new, at version 0): the record's version
    /// becomes the expectation and is bumped by one.
    fn bump(mut record: T, version: impl FnOnce(&mut T) -> &mut u64) -> Self {
        let slot = version(&mut record);
        let expected = match *slot {
            0 => Expected::Absent,
            current => Expected::Version(current),
        };
        *slot += 1;
        Self { record, expected }
    }
}

/// A check that a record is still at the version a decision read, without changing it.
///
/// Attaching a booking to a customer guards the customer, so a booking can never land on a
/// customer that was redacted or merged in the meantime.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Guard {
    /// The customer.
    pub customer: CustomerId,
    /// The version it must still have.
    pub version: u64,
}

/// A check that a customer's bookings are still exactly those a decision read.
///
/// A merge, deletion or redaction acts on *all* of a customer's bookings; this guard makes
/// the commit fail if a booking was attached to the customer in the meantime, so none is
/// left behind on a merged, deleted or redacted customer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BookingsGuard {
    /// The customer.
    pub customer: CustomerId,
    /// The ids of its attributed bookings as read, sorted.
    pub bookings: Vec<BookingId>,
}

/// A change to the blocklist.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum BlocklistChange {
    /// Add or replace the entry for its target.
    Add(BlockEntry),
    /// Remove the entry for this target, if any.
    Remove(BlockTarget),
}

/// Everything one use case writes, applied by [`Store::commit`](crate::ports::store::Store::commit)
/// all or nothing.
///
/// Records saved at version 0 are inserts; others are updates expecting the version they
/// were read at. Saving bumps the version, so a decision simply saves what it read and
/// changed.
///
/// # Examples
///
/// ```
/// use customer_directory::ports::store::{ChangeSet, Expected};
/// use customer_directory::{Customer, Profile};
/// let mut changes = ChangeSet::new();
/// changes.save_customer(Customer::new(Profile::default(), chrono::Utc::now()));
/// let write = &changes.customers()[0];
/// assert_eq!((write.expected, write.record.version), (Expected::Absent, 1));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChangeSet {
    customers: Vec<Write<Customer>>,
    bookings: Vec<Write<Booking>>,
    guards: Vec<Guard>,
    booking_guards: Vec<BookingsGuard>,
    deletions: Vec<Guard>,
    blocklist: Vec<BlocklistChange>,
    merges: Vec<Write<MergeRecord>>,
    lists: Vec<Write<CustomerList>>,
    audit: Vec<AuditEvent>,
    accounts: Vec<Write<Account>>,
    account_deletions: Vec<AccountGuard>,
    account_tokens: Vec<Write<AccountToken>>,
    erasure: bool,
}

/// An account that must still be at `version` when it is deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccountGuard {
    /// The account.
    pub account: AccountId,
    /// The version it must still have.
    pub version: u64,
}

impl ChangeSet {
    /// An empty change set.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(customer_directory::ports::store::ChangeSet::new().is_empty());
    /// ```
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Inserts (version 0) or updates (version as read) a customer.
    ///
    /// # Examples
    ///
    /// ```
    /// use customer_directory::ports::store::{ChangeSet, Expected};
    /// use customer_directory::{Customer, Profile};
    /// let mut stored = Customer::new(Profile::default(), chrono::Utc::now());
    /// stored.version = 4;
    /// let mut changes = ChangeSet::new();
    /// changes.save_customer(stored);
    /// assert_eq!(changes.customers()[0].expected, Expected::Version(4));
    /// assert_eq!(changes.customers()[0].record.version, 5);
    /// ```
    pub fn save_customer(&mut self, customer: Customer) -> &mut Self {
        self.customers
            .push(Write::bump(customer, |record| &mut record.version));
        self
    }

    /// Inserts (version 0) or updates (version as read) a booking.
    ///
    /// # Examples
    ///
    /// ```
    /// use customer_directory::{Booking, BookingStatus, Currency, Money, NewBooking, Profile};
    /// use customer_directory::ports::store::ChangeSet;
    /// let new = NewBooking::new("B1", BookingStatus::PAID, Profile::default(),
    ///     chrono::Utc::now(), Money::zero(Currency::parse("EUR")?));
    /// let mut changes = ChangeSet::new();
    /// changes.save_booking(Booking::from_new(new, chrono::Utc::now()));
    /// assert_eq!(changes.bookings()[0].record.version, 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn save_booking(&mut self, booking: Booking) -> &mut Self {
        self.bookings
            .push(Write::bump(booking, |record| &mut record.version));
        self
    }

    /// Makes the commit fail unless `customer`'s attributed bookings (before this commit's
    /// writes) are exactly `bookings`.
    ///
    /// # Examples
    ///
    /// ```
    /// use customer_directory::{BookingId, CustomerId};
    /// use customer_directory::ports::store::ChangeSet;
    /// let mut changes = ChangeSet::new();
    /// changes.expect_bookings(CustomerId::new(), [BookingId::new()]);
    /// assert_eq!(changes.booking_guards()[0].bookings.len(), 1);
    /// ```
    pub fn expect_bookings(
        &mut self,
        customer: CustomerId,
        bookings: impl IntoIterator<Item = BookingId>,
    ) -> &mut Self {
        let mut bookings: Vec<BookingId> = bookings.into_iter().collect();
        bookings.sort();
        bookings.dedup();
        self.booking_guards
            .push(BookingsGuard { customer, bookings });
        self
    }

    /// Requires the customer to still be at `version` when the change set is committed.
    ///
    /// # Examples
    ///
    /// ```
    /// use customer_directory::ports::store::ChangeSet;
    /// use customer_directory::CustomerId;
    /// let mut changes = ChangeSet::new();
    /// changes.guard_customer(CustomerId::new(), 3);
    /// assert_eq!(changes.guards()[0].version, 3);
    /// ```
    pub fn guard_customer(&mut self, customer: CustomerId, version: u64) -> &mut Self {
        self.guards.push(Guard { customer, version });
        self
    }

    /// Deletes a customer, which must still be at the version it was read at. Its email keys
    /// are released; bookings that referenced it must be saved unattributed in the same
    /// change set.
    ///
    /// # Examples
    ///
    /// ```
    /// use customer_directory::ports::store::ChangeSet;
    /// use customer_directory::{Customer, Profile};
    /// let mut customer = Customer::new(Profile::default(), chrono::Utc::now());
    /// customer.version = 2;
    /// let mut changes = ChangeSet::new();
    /// changes.delete_customer(&customer);
    /// assert_eq!(changes.deletions()[0].version, 2);
    /// ```
    pub fn delete_customer(&mut self, customer: &Customer) -> &mut Self {
        self.deletions.push(Guard {
            customer: customer.id,
            version: customer.version,
        });
        self
    }

    /// Inserts (version 0) or updates a merge record.
    ///
    /// # Examples
    ///
    /// ```
    /// use customer_directory::ports::store::ChangeSet;
    /// assert!(ChangeSet::new().merges().is_empty());
    /// ```
    pub fn save_merge(&mut self, record: MergeRecord) -> &mut Self {
        self.merges
            .push(Write::bump(record, |record| &mut record.version));
        self
    }

    /// Saves a customer list (insert at version 0, else update expecting its version). Its
    /// name must stay unique among lists, compared ignoring case.
    ///
    /// # Examples
    ///
    /// ```
    /// use customer_directory::ports::store::ChangeSet;
    /// use customer_directory::records::CustomerList;
    /// use customer_directory::values::ListId;
    /// use customer_directory::Text;
    /// let list = CustomerList { id: ListId::new(), name: Text::parse("VIP")?, created_at: chrono::Utc::now(), version: 0 };
    /// let mut changes = ChangeSet::new();
    /// changes.save_list(list);
    /// assert_eq!(changes.lists()[0].record.version, 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn save_list(&mut self, list: CustomerList) -> &mut Self {
        self.lists
            .push(Write::bump(list, |record| &mut record.version));
        self
    }

    /// Appends an event to the audit trail, committed with the rest.
    ///
    /// # Examples
    ///
    /// ```
    /// use customer_directory::Actor;
    /// use customer_directory::records::{AuditAction, AuditEvent};
    /// use customer_directory::ports::store::ChangeSet;
    /// let mut changes = ChangeSet::new();
    /// changes.record(AuditEvent::new(chrono::Utc::now(), Actor::System, AuditAction::BookingRecorded));
    /// assert_eq!(changes.audit().len(), 1);
    /// ```
    pub fn record(&mut self, event: AuditEvent) -> &mut Self {
        self.audit.push(event);
        self
    }

    /// Adds (or replaces) a blocklist entry.
    ///
    /// # Examples
    ///
    /// ```
    /// use customer_directory::records::{BlockEntry, BlockTarget};
    /// use customer_directory::ports::store::ChangeSet;
    /// let mut changes = ChangeSet::new();
    /// changes.add_block(BlockEntry::new(BlockTarget::domain("spam.example")?, "spam", chrono::Utc::now()));
    /// assert_eq!(changes.blocklist().len(), 1);
    /// # Ok::<(), customer_directory::values::EmailError>(())
    /// ```
    pub fn add_block(&mut self, entry: BlockEntry) -> &mut Self {
        self.blocklist.push(BlocklistChange::Add(entry));
        self
    }

    /// Removes the blocklist entry for `target`.
    ///
    /// # Examples
    ///
    /// ```
    /// use customer_directory::records::BlockTarget;
    /// use customer_directory::ports::store::{BlocklistChange, ChangeSet};
    /// let mut changes = ChangeSet::new();
    /// changes.remove_block(BlockTarget::domain("spam.example")?);
    /// assert!(matches!(changes.blocklist()[0], BlocklistChange::Remove(_)));
    /// # Ok::<(), customer_directory::values::EmailError>(())
    /// ```
    pub fn remove_block(&mut self, target: BlockTarget) -> &mut Self {
        self.blocklist.push(BlocklistChange::Remove(target));
        self
    }

    /// Customer writes, in the order they were added.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(customer_directory::ports::store::ChangeSet::new().customers().is_empty());
    /// ```
    #[must_use]
    pub fn customers(&self) -> &[Write<Customer>] {
        &self.customers
    }

    /// Booking writes, in the order they were added.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(customer_directory::ports::store::ChangeSet::new().bookings().is_empty());
    /// ```
    #[must_use]
    pub fn bookings(&self) -> &[Write<Booking>] {
        &self.bookings
    }

    /// Checks that customers' attributed bookings are still exactly those read.
    #[must_use]
    pub fn booking_guards(&self) -> &[BookingsGuard] {
        &self.booking_guards
    }

    /// Version guards on customers that are read but not written.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(customer_directory::ports::store::ChangeSet::new().guards().is_empty());
    /// ```
    #[must_use]
    pub fn guards(&self) -> &[Guard] {
        &self.guards
    }

    /// Customers to delete, with the version each must still have.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(customer_directory::ports::store::ChangeSet::new().deletions().is_empty());
    /// ```
    #[must_use]
    pub fn deletions(&self) -> &[Guard] {
        &self.deletions
    }

    /// Merge record writes.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(customer_directory::ports::store::ChangeSet::new().merges().is_empty());
    /// ```
    #[must_use]
    pub fn merges(&self) -> &[Write<MergeRecord>] {
        &self.merges
    }

    /// The customer list writes.
    #[must_use]
    pub fn lists(&self) -> &[Write<CustomerList>] {
        &self.lists
    }

    /// Audit events to append.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(customer_directory::ports::store::ChangeSet::new().audit().is_empty());
    /// ```
    #[must_use]
    pub fn audit(&self) -> &[AuditEvent] {
        &self.audit
    }

    /// Blocklist changes, in order.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(customer_directory::ports::store::ChangeSet::new().blocklist().is_empty());
    /// ```
    #[must_use]
    pub fn blocklist(&self) -> &[BlocklistChange] {
        &self.blocklist
    }

    /// Whether there is nothing to write, check or record: an audit event alone (a failed
    /// login, a reset request for an unknown address) is something to commit.
    ///
    /// # Examples
    ///
    /// ```
    /// use customer_directory::Actor;
    /// use customer_directory::records::{AuditAction, AuditEvent};
    /// use customer_directory::ports::store::ChangeSet;
    /// let mut changes = ChangeSet::new();
    /// assert!(changes.is_empty());
    /// changes.record(AuditEvent::new(chrono::Utc::now(), Actor::System, AuditAction::LoginFailed));
    /// assert!(!changes.is_empty());
    /// ```
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.audit.is_empty()
            && self.customers.is_empty()
            && self.bookings.is_empty()
            && self.guards.is_empty()
            && self.booking_guards.is_empty()
            && self.deletions.is_empty()
            && self.blocklist.is_empty()
            && self.merges.is_empty()
            && self.lists.is_empty()
            && !self.has_account_changes()
    }

    /// Whether any account, account deletion or account token is written: only a store that
    /// implements [`AccountStore`](crate::ports::store::AccountStore) gets these.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(!customer_directory::ports::store::ChangeSet::new().has_account_changes());
    /// ```
    #[must_use]
    pub fn has_account_changes(&self) -> bool {
        !(self.accounts.is_empty()
            && self.account_deletions.is_empty()
            && self.account_tokens.is_empty())
    }

    /// Marks this change set as an erasure of personal data (what redaction commits).
    ///
    /// A database keeps old values after it overwrites or deletes them: in free space inside
    /// its pages, in free pages, in its write-ahead log. After committing an erasure a store
    /// should remove the old values from its files where the database allows (the SQLite
    /// adapter zeroes freed space and truncates its WAL); a store that cannot simply
    /// commits as usual. The marker changes nothing about what is written.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut changes = customer_directory::ports::store::ChangeSet::new();
    /// assert!(!changes.is_erasure());
    /// changes.mark_erasure();
    /// assert!(changes.is_erasure());
    /// ```
    pub fn mark_erasure(&mut self) -> &mut Self {
        self.erasure = true;
        self
    }

    /// Whether this change set erases personal data (see [`mark_erasure`](Self::mark_erasure)).
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(!customer_directory::ports::store::ChangeSet::new().is_erasure());
    /// ```
    #[must_use]
    pub fn is_erasure(&self) -> bool {
        self.erasure
    }

    /// Inserts (version 0) or updates (version as read) an account.
    ///
    /// # Examples
    ///
    /// ```
    /// use customer_directory::records::Account;
    /// use customer_directory::ports::store::{ChangeSet, Expected};
    /// use customer_directory::EmailAddress;
    /// use customer_directory::values::PasswordHashing;
    /// let hash = PasswordHashing::new().hash("Plum-Tractor-Velvet-9")?;
    /// let mut changes = ChangeSet::new();
    /// changes.save_account(Account::new(EmailAddress::parse("ana@example.com")?, hash, chrono::Utc::now()));
    /// assert_eq!(changes.accounts()[0].expected, Expected::Absent);
    /// assert_eq!(changes.accounts()[0].record.version, 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn save_account(&mut self, account: Account) -> &mut Self {
        self.accounts
            .push(Write::bump(account, |record| &mut record.version));
        self
    }

    /// Deletes an account (and, in the same commit, every token of it); it must still be at
    /// the version it was read at.
    ///
    /// # Examples
    ///
    /// ```
    /// use customer_directory::records::Account;
    /// use customer_directory::ports::store::ChangeSet;
    /// use customer_directory::EmailAddress;
    /// use customer_directory::values::PasswordHashing;
    /// let hash = PasswordHashing::new().hash("Plum-Tractor-Velvet-9")?;
    /// let mut account = Account::new(EmailAddress::parse("ana@example.com")?, hash, chrono::Utc::now());
    /// account.version = 3;
    /// let mut changes = ChangeSet::new();
    /// changes.delete_account(&account);
    /// assert_eq!(changes.account_deletions()[0].version, 3);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn delete_account(&mut self, account: &Account) -> &mut Self {
        self.account_deletions.push(AccountGuard {
            account: account.id,
            version: account.version,
        });
        self
    }

    /// Inserts (version 0) or updates (version as read) a one-time token.
    ///
    /// # Examples
    ///
    /// ```
    /// use customer_directory::AccountId;
    /// use customer_directory::records::{AccountToken, TokenPurpose};
    /// use customer_directory::ports::store::ChangeSet;
    /// use customer_directory::records::ResetToken;
    /// let (_secret, hash) = ResetToken::generate()?;
    /// let now = chrono::Utc::now();
    /// let mut changes = ChangeSet::new();
    /// changes.save_account_token(AccountToken::new(hash, AccountId::new(), TokenPurpose::PasswordReset, 1, now, now));
    /// assert_eq!(changes.account_tokens()[0].record.version, 1);
    /// # Ok::<(), customer_directory::records::TokenError>(())
    /// ```
    pub fn save_account_token(&mut self, token: AccountToken) -> &mut Self {
        self.account_tokens
            .push(Write::bump(token, |record| &mut record.version));
        self
    }

    /// Account writes, in the order they were added.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(customer_directory::ports::store::ChangeSet::new().accounts().is_empty());
    /// ```
    #[must_use]
    pub fn accounts(&self) -> &[Write<Account>] {
        &self.accounts
    }

    /// Accounts to delete, with the version each must still have.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(customer_directory::ports::store::ChangeSet::new().account_deletions().is_empty());
    /// ```
    #[must_use]
    pub fn account_deletions(&self) -> &[AccountGuard] {
        &self.account_deletions
    }

    /// Token writes, in the order they were added.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(customer_directory::ports::store::ChangeSet::new().account_tokens().is_empty());
    /// ```
    #[must_use]
    pub fn account_tokens(&self) -> &[Write<AccountToken>] {
        &self.account_tokens
    }

    /// Takes the change set apart, for stores that consume the records.
    ///
    /// # Examples
    ///
    /// ```
    /// let parts = customer_directory::ports::store::ChangeSet::new().into_parts();
    /// assert!(parts.customers.is_empty() && parts.bookings.is_empty());
    /// ```
    #[must_use]
    pub fn into_parts(self) -> ChangeSetParts {
        ChangeSetParts {
            customers: self.customers,
            bookings: self.bookings,
            guards: self.guards,
            booking_guards: self.booking_guards,
            deletions: self.deletions,
            blocklist: self.blocklist,
            merges: self.merges,
            lists: self.lists,
            audit: self.audit,
            accounts: self.accounts,
            account_deletions: self.account_deletions,
            account_tokens: self.account_tokens,
            erasure: self.erasure,
        }
    }

    /// Adds a customer write as given: a batch of decisions writes each customer once, its
    /// record at the version the batch's decisions reached, expecting the stored one.
    pub(crate) fn push_customer_write(&mut self, write: Write<Customer>) -> &mut Self {
        self.customers.push(write);
        self
    }

    /// Adds a booking write as given (see [`push_customer_write`](Self::push_customer_write)).
    pub(crate) fn push_booking_write(&mut self, write: Write<Booking>) -> &mut Self {
        self.bookings.push(write);
        self
    }

    /// The ids of customers this change set rewrites or deletes: their current keys are
    /// released by the commit.
    pub(crate) fn rewritten_customer_ids(&self) -> impl Iterator<Item = CustomerId> + '_ {
        self.customers
            .iter()
            .map(|write| write.record.id)
            .chain(self.deletions.iter().map(|deletion| deletion.customer))
    }
}

/// The owned contents of a [`ChangeSet`], see [`ChangeSet::into_parts`].
#[derive(Debug)]
#[non_exhaustive]
pub struct ChangeSetParts {
    /// Customer writes.
    pub customers: Vec<Write<Customer>>,
    /// Booking writes.
    pub bookings: Vec<Write<Booking>>,
    /// Version guards.
    pub guards: Vec<Guard>,
    /// Checks that customers' bookings are unchanged.
    pub booking_guards: Vec<BookingsGuard>,
    /// Customer deletions, with the version each must have.
    pub deletions: Vec<Guard>,
    /// Blocklist changes.
    pub blocklist: Vec<BlocklistChange>,
    /// Merge record writes.
    pub merges: Vec<Write<MergeRecord>>,
    /// Customer list writes.
    pub lists: Vec<Write<CustomerList>>,
    /// Audit events.
    pub audit: Vec<AuditEvent>,
    /// Account writes.
    pub accounts: Vec<Write<Account>>,
    /// Account deletions, with the version each must have.
    pub account_deletions: Vec<AccountGuard>,
    /// One-time token writes.
    pub account_tokens: Vec<Write<AccountToken>>,
    /// Whether the change set erases personal data (see [`ChangeSet::mark_erasure`]).
    pub erasure: bool,
}
