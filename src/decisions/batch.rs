//! Attribution of many bookings in one decision: each booking is decided by the rules of
//! [`attribute`] against the directory as the bookings before it left it, and everything
//! lands in one [`ChangeSet`].
//!
//! Recording bookings one by one commits after each, so the second booking of a new email
//! finds the customer the first one created, and a booking that fills a profile field is
//! seen by the next. A batch keeps that state itself: the customers it creates or changes
//! stand in for the stored ones, at the versions one-by-one commits would have given them.
//! The change set then writes each customer once (its final record, expecting the version
//! the store holds now) and guards each customer it attaches to without changing.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::decisions::attribution::{AttributionOutcome, attribute};
use crate::ports::store::EmailLookup;
use crate::ports::store::changes::{ChangeSet, ChangeSetParts, Expected, Write};
use crate::records::booking::Booking;
use crate::records::customer::Customer;
use crate::settings::DirectorySettings;
use crate::values::email::key::EmailKey;
use crate::values::ids::CustomerId;

/// Bookings attributed one after another as if each were committed before the next, into
/// one change set.
///
/// Give it what the store knows about every email of the batch
/// ([`Store::lookup_emails`](crate::ports::store::Store::lookup_emails)), then each booking
/// in order; [`into_changes`](Self::into_changes) is the one commit.
///
/// # Examples
///
/// ```
/// use std::collections::HashMap;
/// use customer_directory::decisions::{AttributionOutcome, BatchAttribution};
/// use customer_directory::{Booking, BookingStatus, Currency, DirectorySettings, EmailAddress, Money, NewBooking, Profile};
/// let now = chrono::Utc::now();
/// let settings = DirectorySettings::default();
/// let contact = Profile { email: Some(EmailAddress::parse("ana@example.com")?), ..Profile::default() };
/// let eur = Currency::parse("EUR")?;
/// let mut batch = BatchAttribution::new(HashMap::new(), &settings, now);
/// let first = NewBooking::new("B1", BookingStatus::PAID, contact.clone(), now, Money::zero(eur));
/// let second = NewBooking::new("B2", BookingStatus::PAID, contact, now, Money::zero(eur));
/// let created = batch.attribute(Booking::from_new(first, now));
/// let AttributionOutcome::CreatedCustomer(customer) = created else { panic!("{created:?}") };
/// // The second booking finds the customer the first one created.
/// assert!(matches!(batch.attribute(Booking::from_new(second, now)),
///     AttributionOutcome::Attached { customer: c, .. } if c == customer));
/// let changes = batch.into_changes();
/// assert_eq!((changes.customers().len(), changes.bookings().len()), (1, 2));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct BatchAttribution<'a> {
    settings: &'a DirectorySettings,
    now: DateTime<Utc>,
    /// What the store held for each email before the batch.
    stored: HashMap<EmailKey, EmailLookup>,
    /// Keys claimed by customers this batch created or changed.
    claimed: HashMap<EmailKey, CustomerId>,
    /// Customers this batch writes: the expectation of their first write (what the store
    /// holds now) and their record after the latest booking.
    written: BTreeMap<CustomerId, (Expected, Arc<Customer>)>,
    /// Customers attached to without change, at their stored version.
    guarded: BTreeMap<CustomerId, u64>,
    bookings: Vec<Write<Booking>>,
}

impl<'a> BatchAttribution<'a> {
    /// A batch over the store's answers for its emails (`stored`; a key not in it is
    /// taken as unknown and not blocked).
    #[must_use]
    pub fn new(
        stored: HashMap<EmailKey, EmailLookup>,
        settings: &'a DirectorySettings,
        now: DateTime<Utc>,
    ) -> Self {
        Self {
            settings,
            now,
            stored,
            claimed: HashMap::new(),
            written: BTreeMap::new(),
            guarded: BTreeMap::new(),
            bookings: Vec::new(),
        }
    }

    /// Attributes `booking` (new, at version 0) as [`attribute`] would after the batch's
    /// earlier bookings were committed, and keeps its writes. A
    /// [`Blocked`](AttributionOutcome::Blocked) booking is not kept: nothing of it is
    /// written, as [`record_booking`](crate::Directory::record_booking) stores nothing for
    /// a blocked email.
    pub fn attribute(&mut self, booking: Booking) -> AttributionOutcome {
        let known = self.lookup(booking.contact.email.as_ref().map(|email| email.key()));
        let decision = attribute(booking, known, self.settings, self.now);
        if matches!(decision.outcome, AttributionOutcome::Blocked(_)) {
            return decision.outcome;
        }
        let ChangeSetParts {
            customers,
            bookings,
            guards,
            ..
        } = decision.changes.into_parts();
        for write in customers {
            let customer = Arc::new(write.record);
            for key in customer.indexed_keys() {
                self.claimed.insert(key.clone(), customer.id);
            }
            self.written
                .entry(customer.id)
                .and_modify(|(_, latest)| *latest = Arc::clone(&customer))
                .or_insert((write.expected, customer));
        }
        for guard in guards {
            if !self.written.contains_key(&guard.customer) {
                self.guarded.insert(guard.customer, guard.version);
            }
        }
        self.bookings.extend(bookings);
        decision.outcome
    }

    /// What the directory holds for `key` after the batch's bookings so far.
    fn lookup(&self, key: Option<&EmailKey>) -> EmailLookup {
        let Some(key) = key else {
            return EmailLookup::default();
        };
        let stored = self.stored.get(key).cloned().unwrap_or_default();
        let customer = match self.claimed.get(key) {
            Some(id) => self.written.get(id).map(|(_, latest)| Arc::clone(latest)),
            // A customer the batch wrote claimed its keys then.
            None => stored.customer,
        };
        EmailLookup::new(customer, stored.block)
    }

    /// The one change set recording every kept booking: each written customer once, at
    /// its final record; a guard for each customer attached to without change.
    #[must_use]
    pub fn into_changes(self) -> ChangeSet {
        let Self {
            written,
            guarded,
            bookings,
            ..
        } = self;
        let mut changes = ChangeSet::new();
        for (customer, version) in guarded {
            // A customer the batch also writes is checked by that write's expectation.
            if !written.contains_key(&customer) {
                changes.guard_customer(customer, version);
            }
        }
        for (expected, customer) in written.into_values() {
            changes.push_customer_write(Write {
                record: Arc::unwrap_or_clone(customer),
                expected,
            });
        }
        for write in bookings {
            changes.push_booking_write(write);
        }
        changes
    }
}
