//! The service: one method per use case, each `read -> decide -> commit`, retried on conflict.

pub(crate) mod batch;
pub(crate) mod checks;
pub(crate) mod import;
pub(crate) mod lifecycle;
pub(crate) mod merging;
pub(crate) mod notes;
pub(crate) mod reports;

use std::future::Future;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::decisions::attribution::{AttributionOutcome, attribute};
use crate::ports::clock::{Clock, SystemClock};
use crate::ports::store::EmailLookup;
use crate::ports::store::changes::ChangeSet;
use crate::ports::store::{Store, StoreError};
use crate::records::audit::{Actor, AuditAction, AuditEvent};
use crate::records::booking::{Booking, NewBooking};
use crate::records::customer::{BlockEntry, BlockTarget, Customer, CustomerStatus};
use crate::service::error::{CustomerAction, Error};
use crate::service::telemetry::{self, EmailCorrelation, use_case};
use crate::settings::DirectorySettings;
use crate::values::booking_status::BookingStatus;
use crate::values::email::key::EmailKey;
use crate::values::ids::{BookingId, CustomerId, MergeId};

/// A customer directory over a [`Store`].
///
/// Every write goes through one atomic [`Store::commit`]. When a concurrent writer got
/// there first the commit conflicts, and the use case reads again and decides again, up to
/// [`DirectorySettings::max_commit_attempts`] times. This is what makes concurrent bookings
/// for one new email create exactly one customer.
///
/// # Customer ids in every state
///
/// An id the directory handed out keeps a defined answer for as long as the store lives.
/// Every operation and every read of a person's data that takes a [`CustomerId`] answers
/// by one rule, whatever the id became:
///
/// | the id is | operations (edit, notes, consent, lists, brochures, archive, activate, block, unblock, delete, redact, attach, merge) | reads (bookings, related bookings, suggestions, summary, statement, data-subject export) |
/// |---|---|---|
/// | active, archived, blocked | apply as each one's status rules say ([`Error::CustomerStatus`] otherwise) | answer |
/// | the survivor of a merge that can still be undone | apply; only deletion waits for the undo window ([`Error::SurvivorOfUndoableMerge`]); redaction closes the merge | answer, merged customers' data included |
/// | merged into another customer | [`Error::CustomerMerged`] naming the survivor and the merge; nothing changes | [`Error::CustomerMerged`] |
/// | redacted | [`Error::CustomerStatus`] (deletion applies) | answer, without personal data |
/// | deleted | [`Error::CustomerDeleted`] with the time of the deletion | [`Error::CustomerDeleted`] |
/// | never stored | [`Error::CustomerNotFound`] | [`Error::CustomerNotFound`] |
///
/// [`customer`](Self::customer) returns the record itself (a merged id's tombstone says
/// `MergedInto`), [`audit_trail`](Self::audit_trail) the id's history, and
/// [`resolve`](Self::resolve) follows merges to where the id leads now.
///
/// # Examples
///
/// ```
/// use customer_directory::MemoryStore;
/// use customer_directory::{Actor, AttributionOutcome, BookingStatus, Currency, Directory, DirectorySettings, EmailAddress, Money, NewBooking, Profile};
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let directory = Directory::new(MemoryStore::new(), DirectorySettings::default());
/// let contact = Profile { email: Some(EmailAddress::parse("ana@example.com")?), ..Profile::default() };
/// let booking = NewBooking::new("BK-1", BookingStatus::PAID, contact, chrono::Utc::now(),
///     Money::new(45_00, Currency::parse("EUR")?));
/// let recorded = directory.record_booking(booking, &Actor::System).await?;
/// assert!(matches!(recorded.outcome, AttributionOutcome::CreatedCustomer(_)));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # }).unwrap();
/// ```
#[derive(Debug, Clone)]
pub struct Directory<S, C = SystemClock> {
    pub(in crate::service) store: S,
    pub(in crate::service) clock: C,
    pub(in crate::service) settings: DirectorySettings,
    pub(in crate::service) correlation: Option<EmailCorrelation>,
}

/// A booking the directory recorded, and what attribution did with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Recorded {
    /// The new booking's id.
    pub booking: BookingId,
    /// Which customer it went to, or why none.
    pub outcome: AttributionOutcome,
}

impl<S: Store> Directory<S, SystemClock> {
    /// A directory over `store`, on the system clock.
    ///
    /// # Examples
    ///
    /// ```
    /// use customer_directory::{MemoryStore, Directory, DirectorySettings};
    /// let directory = Directory::new(MemoryStore::new(), DirectorySettings::default());
    /// assert!(directory.settings().reactivate_archived_on_booking);
    /// ```
    pub fn new(store: S, settings: DirectorySettings) -> Self {
        Self::with_clock(store, settings, SystemClock)
    }
}

impl<S: Store, C: Clock> Directory<S, C> {
    /// A directory over `store` that reads the time from `clock`.
    ///
    /// # Examples
    ///
    /// ```
    /// use customer_directory::{MemoryStore, Directory, DirectorySettings};
    /// use customer_directory::ports::FixedClock;
    /// let clock = FixedClock::new(chrono::DateTime::UNIX_EPOCH);
    /// let directory = Directory::with_clock(MemoryStore::new(), DirectorySettings::default(), clock);
    /// # let _ = directory;
    /// ```
    pub fn with_clock(store: S, settings: DirectorySettings, clock: C) -> Self {
        Self {
            store,
            clock,
            settings,
            correlation: None,
        }
    }

    /// Tags the spans of the use cases given an email with `correlation`'s keyed hash of
    /// it (the `email_tag` field), so a host can follow one person through its logs; the
    /// address itself is never logged. Without it no span carries anything of the email.
    ///
    /// # Examples
    ///
    /// ```
    /// use customer_directory::service::EmailCorrelation;
    /// use customer_directory::{MemoryStore, Directory, DirectorySettings};
    /// let correlation = EmailCorrelation::new([42u8; 32])?;
    /// let directory = Directory::new(MemoryStore::new(), DirectorySettings::default())
    ///     .with_email_correlation(correlation);
    /// assert!(directory.email_correlation().is_some());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn with_email_correlation(mut self, correlation: EmailCorrelation) -> Self {
        self.correlation = Some(correlation);
        self
    }

    /// The keyed email hash the spans carry, if the host configured one
    /// ([`with_email_correlation`](Self::with_email_correlation)).
    ///
    /// # Examples
    ///
    /// ```
    /// use customer_directory::{MemoryStore, Directory, DirectorySettings};
    /// let directory = Directory::new(MemoryStore::new(), DirectorySettings::default());
    /// assert!(directory.email_correlation().is_none());
    /// ```
    pub fn email_correlation(&self) -> Option<&EmailCorrelation> {
        self.correlation.as_ref()
    }

    /// The settings in force.
    ///
    /// # Examples
    ///
    /// ```
    /// use customer_directory::{MemoryStore, Directory, DirectorySettings};
    /// let directory = Directory::new(MemoryStore::new(), DirectorySettings::default());
    /// assert_eq!(directory.settings(), &DirectorySettings::default());
    /// ```
    pub fn settings(&self) -> &DirectorySettings {
        &self.settings
    }

    /// The underlying store.
    ///
    /// # Examples
    ///
    /// ```
    /// use customer_directory::{MemoryStore, Directory, DirectorySettings};
    /// let directory = Directory::new(MemoryStore::new(), DirectorySettings::default());
    /// assert_eq!(directory.store().customer_count(), 0);
    /// ```
    pub fn store(&self) -> &S {
        &self.store
    }

    /// The clock every use case reads the time from.
    ///
    /// # Examples
    ///
    /// ```
    /// use customer_directory::{MemoryStore, Clock, Directory, DirectorySettings};
    /// use customer_directory::ports::FixedClock;
    /// let clock = FixedClock::new(chrono::DateTime::UNIX_EPOCH);
    /// let directory = Directory::with_clock(MemoryStore::new(), DirectorySettings::default(), clock);
    /// directory.clock().advance(chrono::TimeDelta::days(1));
    /// assert_eq!(directory.clock().now().timestamp(), 86_400);
    /// ```
    pub fn clock(&self) -> &C {
        &self.clock
    }

    /// Records a new booking and attributes it to a customer by its email (see
    /// [`attribute`] for the rules).
    ///
    /// # Errors
    ///
    /// [`Error::Blocked`] when the email or its domain is on the blocklist (nothing is
    /// stored: refuse the booking); [`Error::TooLong`] for a code, a custom field key or a
    /// staff identifier over its [limit](crate::limits), before the store is used;
    /// [`Error::InvalidBooking`] listing every problem;
    /// [`Error::Contention`] or [`Error::Store`] when storage fails.
    ///
    /// # Examples
    ///
    /// ```
    /// use customer_directory::MemoryStore;
    /// use customer_directory::{Actor, AttributionOutcome, BookingStatus, Currency, Directory, DirectorySettings, EmailAddress, Money, NewBooking, Profile};
    /// use customer_directory::decisions::UnattributedReason;
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let directory = Directory::new(MemoryStore::new(), DirectorySettings::default());
    /// let contact = Profile { email: Some(EmailAddress::parse("bo@example.com")?), ..Profile::default() };
    /// let pending = NewBooking::new("BK-2", BookingStatus::PENDING, contact, chrono::Utc::now(),
    ///     Money::new(20_00, Currency::parse("EUR")?));
    /// let recorded = directory.record_booking(pending, &Actor::System).await?;
    /// assert_eq!(recorded.outcome, AttributionOutcome::Unattributed(UnattributedReason::NotLocked));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # }).unwrap();
    /// ```
    pub async fn record_booking(&self, new: NewBooking, actor: &Actor) -> Result<Recorded, Error> {
        let span = use_case!("record_booking", [booking, customer, email_tag]);
        span.record_email(
            self.correlation.as_ref(),
            new.contact.email.as_ref().map(|e| e.key()),
        );
        span.run(self.record_booking_traced(new, actor), |span, recorded| {
            span.record_id("booking", &recorded.booking);
            if let Some(customer) = recorded.outcome.customer() {
                span.record_id("customer", &customer);
            }
            telemetry::attribution_kind(&recorded.outcome)
        })
        .await
    }

    async fn record_booking_traced(
        &self,
        new: NewBooking,
        actor: &Actor,
    ) -> Result<Recorded, Error> {
        crate::service::directory::checks::check_actor(actor)?;
        let booking = self.new_booking(new)?;
        let id = booking.id;
        let outcome = self
            .commit_retrying(|| async {
                let known = self
                    .lookup(booking.contact.email.as_ref().map(|e| e.key()))
                    .await?;
                let now = self.clock.now();
                let mut decision = attribute(booking.clone(), known, &self.settings, now);
                if let AttributionOutcome::Blocked(entry) = decision.outcome {
                    return Err(Error::Blocked(entry));
                }
                decision.changes.record(audit_event(
                    now,
                    actor,
                    AuditAction::BookingRecorded,
                    decision.outcome.customer(),
                    Some(id),
                ));
                Ok((decision.changes, decision.outcome))
            })
            .await?;
        Ok(Recorded {
            booking: id,
            outcome,
        })
    }

    /// The booking `new` stands for, once it passed every check a booking must pass before
    /// the store is read: lengths, values, custom fields.
    pub(in crate::service) fn new_booking(&self, new: NewBooking) -> Result<Booking, Error> {
        crate::service::directory::checks::check_new_booking(&new)?;
        let problems = new.problems();
        if !problems.is_empty() {
            return Err(Error::InvalidBooking(problems));
        }
        // Booking forms are not held to the fields staff must fill, only to valid values.
        crate::records::contact_form::check_custom_fields(&self.settings, &new.contact, false)
            .map_err(Error::InvalidContact)?;
        Ok(Booking::from_new(new, self.clock.now()))
    }

    /// Changes a booking's status. An unattributed booking is attributed again, so a
    /// pending booking that becomes locked creates or joins its customer.
    ///
    /// A blocked email leaves the booking unattributed and returns
    /// [`AttributionOutcome::Blocked`]; the status change itself is kept.
    ///
    /// # Errors
    ///
    /// [`Error::BookingNotFound`], [`Error::Contention`] or [`Error::Store`].
    ///
    /// # Examples
    ///
    /// ```
    /// use customer_directory::MemoryStore;
    /// use customer_directory::{Actor, AttributionOutcome, BookingStatus, Currency, Directory, DirectorySettings, EmailAddress, Money, NewBooking, Profile};
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let directory = Directory::new(MemoryStore::new(), DirectorySettings::default());
    /// let contact = Profile { email: Some(EmailAddress::parse("cy@example.com")?), ..Profile::default() };
    /// let pending = NewBooking::new("BK-3", BookingStatus::PENDING, contact, chrono::Utc::now(),
    ///     Money::new(20_00, Currency::parse("EUR")?));
    /// let recorded = directory.record_booking(pending, &Actor::System).await?;
    /// let outcome = directory.change_booking_status(recorded.booking, BookingStatus::CONFIRMED, &Actor::staff("desk")).await?;
    /// assert!(matches!(outcome, AttributionOutcome::CreatedCustomer(_)));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # }).unwrap();
    /// ```
    pub async fn change_booking_status(
        &self,
        id: BookingId,
        status: BookingStatus,
        actor: &Actor,
    ) -> Result<AttributionOutcome, Error> {
        let span = use_case!("change_booking_status", [customer], booking = %id);
        span.run(
            async {
                self.commit_retrying(|| async {
                    let mut booking = self.booking(id).await?;
                    booking.status = status.clone();
                    let known = match booking.attribution.customer() {
                        Some(_) => EmailLookup::default(),
                        None => {
                            self.lookup(booking.contact.email.as_ref().map(|e| e.key()))
                                .await?
                        }
                    };
                    let now = self.clock.now();
                    let mut decision = attribute(booking, known, &self.settings, now);
                    decision.changes.record(audit_event(
                        now,
                        actor,
                        AuditAction::BookingStatusChanged,
                        decision.outcome.customer(),
                        Some(id),
                    ));
                    Ok((decision.changes, decision.outcome))
                })
                .await
            },
            |span, outcome| {
                if let Some(customer) = outcome.customer() {
                    span.record_id("customer", &customer);
                }
                telemetry::attribution_kind(outcome)
            },
        )
        .await
    }

    /// The customer record with this id, whatever its status: a merged customer's record is
    /// its tombstone (status [`MergedInto`](crate::records::customer::CustomerStatus::MergedInto)); use
    /// [`resolve`](Self::resolve) to follow it.
    ///
    /// # Errors
    ///
    /// [`Error::CustomerDeleted`] for a deleted customer, [`Error::CustomerNotFound`] for
    /// an id never stored, or [`Error::Store`].
    ///
    /// # Examples
    ///
    /// ```
    /// use customer_directory::{MemoryStore, CustomerId, Directory, DirectorySettings, Error};
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let directory = Directory::new(MemoryStore::new(), DirectorySettings::default());
    /// assert!(matches!(directory.customer(CustomerId::new()).await, Err(Error::CustomerNotFound(_))));
    /// # });
    /// ```
    pub async fn customer(&self, id: CustomerId) -> Result<Customer, Error> {
        match telemetry::store("customer", self.store.customer(id)).await? {
            Some(customer) => Ok(customer),
            None => Err(self.missing_customer(id).await?),
        }
    }

    /// Why no record answers for `id`: [`Error::CustomerDeleted`] when its audit trail
    /// records the deletion, [`Error::CustomerNotFound`] for an id never stored.
    async fn missing_customer(&self, id: CustomerId) -> Result<Error, Error> {
        let deleted_at = self
            .store
            .audit_trail(id)
            .await?
            .iter()
            .rev()
            .find(|event| event.action == AuditAction::CustomerDeleted)
            .map(|event| event.at);
        Ok(match deleted_at {
            Some(at) => Error::CustomerDeleted { id, at },
            None => Error::CustomerNotFound(id),
        })
    }

    /// The customer `id` stands for as a person, for every operation and every read of a
    /// person's data: its record, or [`Error::CustomerMerged`] naming the survivor and the
    /// merge when it is a merge tombstone (and [`Error::CustomerDeleted`] or
    /// [`Error::CustomerNotFound`] as [`customer`](Self::customer) answers).
    pub(crate) async fn person(&self, id: CustomerId) -> Result<Customer, Error> {
        let customer = self.customer(id).await?;
        match customer.status {
            CustomerStatus::MergedInto(survivor) => Err(Error::CustomerMerged {
                id,
                survivor,
                merge: self.merge_of(id, survivor).await?,
            }),
            _ => Ok(customer),
        }
    }

    /// The merge in force that made `merged` a tombstone of `survivor`.
    pub(crate) async fn merge_of(
        &self,
        merged: CustomerId,
        survivor: CustomerId,
    ) -> Result<MergeId, Error> {
        telemetry::store("merges_involving", self.store
            .merges_involving(merged))
            .await?
            .iter()
            .rev()
            .find(|record| {
                record.undone_at.is_none()
                    && record.report.survivor == survivor
                    && record.report.merged.contains(&merged)
            })
            .map(|record| record.id)
            .ok_or_else(|| {
                Error::Store(StoreError::Backend {
                    message: format!(
                        "customer {merged} is merged into {survivor}, but no merge record in force says so"
                    ),
                    source: None,
                })
            })
    }

    /// The booking with this id.
    ///
    /// # Errors
    ///
    /// [`Error::BookingNotFound`] or [`Error::Store`].
    ///
    /// # Examples
    ///
    /// ```
    /// use customer_directory::{MemoryStore, BookingId, Directory, DirectorySettings, Error};
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let directory = Directory::new(MemoryStore::new(), DirectorySettings::default());
    /// assert!(matches!(directory.booking(BookingId::new()).await, Err(Error::BookingNotFound(_))));
    /// # });
    /// ```
    pub async fn booking(&self, id: BookingId) -> Result<Booking, Error> {
        telemetry::store("booking", self.store.booking(id))
            .await?
            .ok_or(Error::BookingNotFound(id))
    }

    /// A customer's bookings (primary and related), by start time.
    ///
    /// # Errors
    ///
    /// [`Error::CustomerMerged`] naming the survivor for a merged id,
    /// [`Error::CustomerDeleted`], [`Error::CustomerNotFound`] or [`Error::Store`].
    ///
    /// # Examples
    ///
    /// ```
    /// use customer_directory::{MemoryStore, CustomerId, Directory, DirectorySettings};
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let directory = Directory::new(MemoryStore::new(), DirectorySettings::default());
    /// assert!(directory.customer_bookings(CustomerId::new()).await.is_err());
    /// # });
    /// ```
    pub async fn customer_bookings(&self, id: CustomerId) -> Result<Vec<Booking>, Error> {
        let bookings =
            telemetry::store("customer_bookings", self.store.customer_bookings(id)).await?;
        if bookings.is_empty() {
            // Tell "no bookings" apart from a merged, deleted or unknown id. A merge moves
            // every booking to the survivor and none attaches to a tombstone, so an id
            // with bookings is never merged.
            self.person(id).await?;
        }
        Ok(bookings)
    }

    /// The live customer an email address belongs to (by its key, including aliases).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidEmail`] or [`Error::Store`].
    ///
    /// # Examples
    ///
    /// ```
    /// use customer_directory::{MemoryStore, Directory, DirectorySettings};
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let directory = Directory::new(MemoryStore::new(), DirectorySettings::default());
    /// assert!(directory.find_by_email("nobody@example.com").await?.is_none());
    /// assert!(directory.find_by_email("not an email").await.is_err());
    /// # Ok::<(), customer_directory::Error>(())
    /// # }).unwrap();
    /// ```
    pub async fn find_by_email(&self, email: &str) -> Result<Option<Customer>, Error> {
        let span = use_case!("find_by_email", [found]);
        span.run(
            async {
                let key = EmailKey::parse(email, self.settings.email_key_policy)?;
                Ok(
                    telemetry::store("lookup_email", self.store.lookup_email(&key))
                        .await?
                        .customer
                        .map(Arc::unwrap_or_clone),
                )
            },
            |span, found| {
                span.record_count("found", usize::from(found.is_some()));
                "ok"
            },
        )
        .await
    }

    /// The blocklist entry that refuses bookings from `email`, if any: the check a host
    /// makes before accepting a booking.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidEmail`] or [`Error::Store`].
    ///
    /// # Examples
    ///
    /// ```
    /// use customer_directory::{MemoryStore, Actor, Directory, DirectorySettings};
    /// use customer_directory::records::BlockTarget;
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let directory = Directory::new(MemoryStore::new(), DirectorySettings::default());
    /// directory.add_to_blocklist(BlockTarget::domain("spam.example")?, "spam", &Actor::staff("desk")).await?;
    /// assert!(directory.blocklist_entry_for("x@SPAM.example").await?.is_some());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # }).unwrap();
    /// ```
    pub async fn blocklist_entry_for(&self, email: &str) -> Result<Option<BlockEntry>, Error> {
        let span = use_case!("blocklist_entry_for", [found]);
        span.run(
            async {
                let key = EmailKey::parse(email, self.settings.email_key_policy)?;
                Ok(
                    telemetry::store("lookup_email", self.store.lookup_email(&key))
                        .await?
                        .block,
                )
            },
            |span, found| {
                span.record_count("found", usize::from(found.is_some()));
                "ok"
            },
        )
        .await
    }

    /// Puts an address or a whole domain on the blocklist (replacing an entry for the same
    /// target). Bookings from it are refused from now on; existing customers are not changed.
    ///
    /// # Errors
    ///
    /// [`Error::TooLong`] for a reason or a staff identifier over its
    /// [limit](crate::limits); [`Error::Store`].
    ///
    /// # Examples
    ///
    /// ```
    /// use customer_directory::{MemoryStore, Actor, Directory, DirectorySettings};
    /// use customer_directory::records::BlockTarget;
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let directory = Directory::new(MemoryStore::new(), DirectorySettings::default());
    /// let entry = directory.add_to_blocklist(BlockTarget::domain("spam.example")?, "spam", &Actor::staff("desk")).await?;
    /// assert_eq!(entry.reason, "spam");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # }).unwrap();
    /// ```
    pub async fn add_to_blocklist(
        &self,
        target: BlockTarget,
        reason: impl Into<String>,
        actor: &Actor,
    ) -> Result<BlockEntry, Error> {
        let span = use_case!("add_to_blocklist", []);
        span.run(
            async {
                let reason = reason.into();
                crate::limits::TooLong::check(crate::limits::Input::BlockReason, &reason)?;
                crate::service::directory::checks::check_actor(actor)?;
                let now = self.clock.now();
                let entry = BlockEntry::new(target, reason, now);
                let mut changes = ChangeSet::new();
                changes.add_block(entry.clone()).record(audit_event(
                    now,
                    actor,
                    AuditAction::BlocklistEntryAdded,
                    None,
                    None,
                ));
                telemetry::store("commit", self.store.commit(changes)).await?;
                Ok(entry)
            },
            |_, _| "ok",
        )
        .await
    }

    /// Removes the blocklist entry for `target`, if there is one.
    ///
    /// # Errors
    ///
    /// [`Error::Store`].
    ///
    /// # Examples
    ///
    /// ```
    /// use customer_directory::{MemoryStore, Actor, Directory, DirectorySettings};
    /// use customer_directory::records::BlockTarget;
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let directory = Directory::new(MemoryStore::new(), DirectorySettings::default());
    /// let target = BlockTarget::domain("spam.example")?;
    /// directory.add_to_blocklist(target.clone(), "spam", &Actor::staff("desk")).await?;
    /// directory.remove_from_blocklist(target, &Actor::staff("desk")).await?;
    /// assert!(directory.blocklist_entry_for("a@spam.example").await?.is_none());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # }).unwrap();
    /// ```
    pub async fn remove_from_blocklist(
        &self,
        target: BlockTarget,
        actor: &Actor,
    ) -> Result<(), Error> {
        let span = use_case!("remove_from_blocklist", []);
        span.run(
            async {
                crate::service::directory::checks::check_actor(actor)?;
                let mut changes = ChangeSet::new();
                changes.remove_block(target).record(audit_event(
                    self.clock.now(),
                    actor,
                    AuditAction::BlocklistEntryRemoved,
                    None,
                    None,
                ));
                telemetry::store("commit", self.store.commit(changes)).await?;
                Ok(())
            },
            |_, _| "ok",
        )
        .await
    }

    /// The audit events naming a customer, oldest first.
    ///
    /// # Errors
    ///
    /// [`Error::Store`].
    ///
    /// # Examples
    ///
    /// ```
    /// use customer_directory::{MemoryStore, CustomerId, Directory, DirectorySettings};
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let directory = Directory::new(MemoryStore::new(), DirectorySettings::default());
    /// assert!(directory.audit_trail(CustomerId::new()).await?.is_empty());
    /// # Ok::<(), customer_directory::Error>(())
    /// # }).unwrap();
    /// ```
    pub async fn audit_trail(&self, customer: CustomerId) -> Result<Vec<AuditEvent>, Error> {
        Ok(telemetry::store("audit_trail", self.store.audit_trail(customer)).await?)
    }

    /// How long after a merge it can be undone, from the settings.
    pub(crate) fn undo_window(&self) -> chrono::TimeDelta {
        chrono::TimeDelta::from_std(self.settings.merge_undo_window)
            .unwrap_or(chrono::TimeDelta::MAX)
    }

    async fn lookup(&self, key: Option<&EmailKey>) -> Result<EmailLookup, Error> {
        match key {
            Some(key) => Ok(telemetry::store("lookup_email", self.store.lookup_email(key)).await?),
            None => Ok(EmailLookup::default()),
        }
    }

    /// Runs `decide` (read + pure decision) and commits its changes, deciding again from a
    /// fresh read whenever the commit conflicts, at most `max_commit_attempts` times: the
    /// one retry loop of every use case, directory and accounts alike. A change set holding
    /// only audit events (a failed login) is committed; an empty one is not.
    pub(in crate::service) async fn commit_retrying<T, E, F, Fut>(
        &self,
        mut decide: F,
    ) -> Result<T, E>
    where
        E: From<Error>,
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<(ChangeSet, T), E>>,
    {
        let attempts = self.settings.max_commit_attempts.max(1);
        let mut attempt = 1;
        loop {
            let (changes, outcome) = decide().await?;
            if changes.is_empty() {
                return Ok(outcome);
            }
            // Whatever the use case, no over-long free text reaches the store.
            crate::service::directory::checks::check_changes(&changes).map_err(Error::from)?;
            match telemetry::store("commit", self.store.commit(changes)).await {
                Ok(()) => return Ok(outcome),
                Err(StoreError::Conflict(last)) if attempt >= attempts => {
                    telemetry::retries_exhausted(attempts, &last);
                    return Err(Error::Contention { attempts, last }.into());
                }
                Err(StoreError::Conflict(conflict)) => {
                    telemetry::conflict_retry(attempt, &conflict);
                    attempt += 1;
                }
                Err(other) => {
                    telemetry::commit_failed(&other);
                    return Err(Error::from(other).into());
                }
            }
        }
    }
}

/// An audit event for `action` by `actor`, naming the customer and booking concerned.
pub(crate) fn audit_event(
    at: chrono::DateTime<chrono::Utc>,
    actor: &Actor,
    action: AuditAction,
    customer: Option<CustomerId>,
    booking: Option<BookingId>,
) -> AuditEvent {
    let mut event = AuditEvent::new(at, actor.clone(), action);
    event.customers.extend(customer);
    event.booking = booking;
    event
}

pub(crate) fn require_live(customer: &Customer, action: CustomerAction) -> Result<(), Error> {
    if customer.status.is_live() {
        Ok(())
    } else {
        Err(Error::CustomerStatus {
            id: customer.id,
            status: customer.status,
            action,
        })
    }
}
