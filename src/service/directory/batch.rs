//! Recording many bookings at once: one read of the store and one commit per batch, with
//! exactly the outcome of recording them one by one.

use std::collections::HashMap;

use crate::decisions::attribution::AttributionOutcome;
use crate::decisions::batch::BatchAttribution;
use crate::limits::{Input, TooLong};
use crate::ports::clock::Clock;
use crate::ports::store::changes::ChangeSet;
use crate::ports::store::{Store, StoreError};
use crate::records::audit::{Actor, AuditAction};
use crate::records::booking::{Booking, NewBooking};
use crate::service::directory::{Directory, Recorded, audit_event};
use crate::service::error::Error;
use crate::service::telemetry::{self, use_case};
use crate::values::email::key::EmailKey;

/// What [`Directory::record_bookings`] did with each booking of a batch, in the batch's order.
#[derive(Debug)]
#[non_exhaustive]
pub struct BatchReport {
    /// One entry per booking handed in, in the same order.
    pub items: Vec<BatchItem>,
}

impl BatchReport {
    /// The bookings recorded, with their attribution.
    pub fn recorded(&self) -> impl Iterator<Item = &Recorded> {
        self.items.iter().filter_map(|item| match item {
            BatchItem::Recorded(recorded) => Some(recorded),
            _ => None,
        })
    }

    /// How many bookings were skipped because their code is already stored.
    #[must_use]
    pub fn already_stored(&self) -> usize {
        self.items
            .iter()
            .filter(|item| matches!(item, BatchItem::AlreadyStored { .. }))
            .count()
    }

    /// How many bookings were refused (invalid, over a limit, or blocked).
    #[must_use]
    pub fn refused(&self) -> usize {
        self.items
            .iter()
            .filter(|item| matches!(item, BatchItem::Refused(_)))
            .count()
    }
}

/// What happened to one booking of a batch.
#[derive(Debug)]
#[non_exhaustive]
pub enum BatchItem {
    /// Stored, and attributed as [`Recorded::outcome`] says.
    Recorded(Recorded),
    /// A stored booking (or one earlier in the batch) already has this code: nothing was
    /// written for it, so running an import again records each booking once.
    AlreadyStored {
        /// The code.
        code: String,
    },
    /// Refused as [`record_booking`](Directory::record_booking) refuses it, with the same
    /// error: invalid values, a value over its limit, or a blocked email. Nothing was
    /// written for it.
    Refused(Error),
}

/// The outcome of one booking while its batch is decided.
enum Planned {
    Recorded(Recorded),
    AlreadyStored,
    Refused(Error),
    /// Refused before the store was read (its error stays with the caller).
    Invalid,
}

impl<S: Store, C: Clock> Directory<S, C> {
    /// Records `batch` with exactly the outcome of calling
    /// [`record_booking`](Self::record_booking) for each booking in order, except that a
    /// booking whose code is already stored, or was recorded earlier in the batch, is
    /// skipped and reported as [`BatchItem::AlreadyStored`]. Every booking, customer and
    /// audit event is what the one-by-one calls would have written, but the store is read
    /// once (the batch's codes and emails) and written in one commit.
    ///
    /// This is how a business's history comes in: the bookings are attributed by the
    /// rules of live bookings, keep their statuses and dates, and no mail is sent. A
    /// batch either commits whole or not at all, so an import interrupted between
    /// batches is finished by running it again.
    ///
    /// # Errors
    ///
    /// The whole batch fails, and nothing of it is stored, on
    /// [`Error::TooLong`] for a batch of more than
    /// [`BOOKING_BATCH_MAX`](crate::limits::BOOKING_BATCH_MAX) bookings or a staff
    /// identifier over its limit, [`Error::Contention`] or [`Error::Store`]. A booking
    /// that [`record_booking`](Self::record_booking) would refuse is reported as
    /// [`BatchItem::Refused`] and the rest are recorded.
    ///
    /// # Examples
    ///
    /// ```
    /// use customer_directory::service::BatchItem;
    /// use customer_directory::{Actor, AttributionOutcome, BookingStatus, Currency, Directory, DirectorySettings, EmailAddress, MemoryStore, Money, NewBooking, Profile};
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let directory = Directory::new(MemoryStore::new(), DirectorySettings::default());
    /// let contact = Profile { email: Some(EmailAddress::parse("ana@example.com")?), ..Profile::default() };
    /// let eur = Currency::parse("EUR")?;
    /// let booking = |code: &str| NewBooking::new(code, BookingStatus::PAID, contact.clone(),
    ///     chrono::Utc::now(), Money::new(45_00, eur));
    /// let report = directory.record_bookings(vec![booking("B1"), booking("B2"), booking("B1")], &Actor::System).await?;
    /// assert!(matches!(&report.items[0], BatchItem::Recorded(r) if matches!(r.outcome, AttributionOutcome::CreatedCustomer(_))));
    /// assert!(matches!(&report.items[1], BatchItem::Recorded(r) if matches!(r.outcome, AttributionOutcome::Attached { .. })));
    /// assert!(matches!(&report.items[2], BatchItem::AlreadyStored { code } if code == "B1"));
    /// // Run again: every code is stored now, so nothing is recorded twice.
    /// let again = directory.record_bookings(vec![booking("B1"), booking("B2")], &Actor::System).await?;
    /// assert_eq!(again.already_stored(), 2);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # }).unwrap();
    /// ```
    pub async fn record_bookings(
        &self,
        batch: Vec<NewBooking>,
        actor: &Actor,
    ) -> Result<BatchReport, Error> {
        let span = use_case!("record_bookings", [bookings, recorded, skipped, refused]);
        span.run(self.record_bookings_traced(batch, actor), |span, report| {
            span.record_count("bookings", report.items.len());
            span.record_count("recorded", report.recorded().count());
            span.record_count("skipped", report.already_stored());
            span.record_count("refused", report.refused());
            "ok"
        })
        .await
    }

    async fn record_bookings_traced(
        &self,
        batch: Vec<NewBooking>,
        actor: &Actor,
    ) -> Result<BatchReport, Error> {
        crate::service::directory::checks::check_actor(actor)?;
        TooLong::check_length(Input::BookingBatch, batch.len())?;
        // Checked and given their ids once, so a retried commit reports the same bookings.
        let checked: Vec<Result<Booking, Error>> =
            batch.into_iter().map(|new| self.new_booking(new)).collect();
        let planned = self
            .commit_retrying(|| async { self.plan_batch(&checked, actor).await })
            .await?;
        // One plan per booking handed in, in order.
        let items = checked
            .into_iter()
            .zip(planned)
            .map(|(checked, planned)| match (checked, planned) {
                (Err(error), _) | (Ok(_), Planned::Refused(error)) => BatchItem::Refused(error),
                (Ok(_), Planned::Recorded(recorded)) => BatchItem::Recorded(recorded),
                (Ok(booking), Planned::AlreadyStored | Planned::Invalid) => {
                    BatchItem::AlreadyStored { code: booking.code }
                }
            })
            .collect();
        Ok(BatchReport { items })
    }

    /// Reads the batch's codes and emails, and decides every booking in order: one plan
    /// per entry of `checked`.
    async fn plan_batch(
        &self,
        checked: &[Result<Booking, Error>],
        actor: &Actor,
    ) -> Result<(ChangeSet, Vec<Planned>), Error> {
        let valid: Vec<&Booking> = checked.iter().filter_map(|c| c.as_ref().ok()).collect();
        if valid.is_empty() {
            return Ok((
                ChangeSet::new(),
                checked.iter().map(|_| Planned::Invalid).collect(),
            ));
        }
        let codes: Vec<String> = valid.iter().map(|b| b.code.clone()).collect();
        let stored_codes = telemetry::store(
            "booking_codes_stored",
            self.store.booking_codes_stored(&codes),
        )
        .await?;
        let mut keys: Vec<EmailKey> = valid
            .iter()
            .filter_map(|b| b.contact.email.as_ref().map(|e| e.key().clone()))
            .collect();
        keys.sort_unstable();
        keys.dedup();
        let lookups = telemetry::store("lookup_emails", self.store.lookup_emails(&keys)).await?;
        check_answers("booking_codes_stored", codes.len(), stored_codes.len())?;
        check_answers("lookup_emails", keys.len(), lookups.len())?;
        let stored = keys.into_iter().zip(lookups).collect();
        let mut code_stored: HashMap<&str, bool> = HashMap::with_capacity(codes.len());
        for (booking, stored) in valid.iter().zip(stored_codes) {
            *code_stored.entry(booking.code.as_str()).or_default() |= stored;
        }
        let now = self.clock.now();
        let mut batch = BatchAttribution::new(stored, &self.settings, now);
        let mut events = Vec::new();
        let mut planned = Vec::with_capacity(checked.len());
        for booking in checked {
            let Ok(booking) = booking else {
                planned.push(Planned::Invalid);
                continue;
            };
            // A code stored, or recorded earlier in this batch, is skipped.
            let stored = code_stored.entry(booking.code.as_str()).or_default();
            if *stored {
                planned.push(Planned::AlreadyStored);
                continue;
            }
            let outcome = batch.attribute(booking.clone());
            if let AttributionOutcome::Blocked(entry) = outcome {
                planned.push(Planned::Refused(Error::Blocked(entry)));
                continue;
            }
            *stored = true;
            events.push(audit_event(
                now,
                actor,
                AuditAction::BookingRecorded,
                outcome.customer(),
                Some(booking.id),
            ));
            planned.push(Planned::Recorded(Recorded {
                booking: booking.id,
                outcome,
            }));
        }
        let mut changes = batch.into_changes();
        for event in events {
            changes.record(event);
        }
        Ok((changes, planned))
    }
}

/// A store's batched read must answer once per question asked.
fn check_answers(read: &str, asked: usize, answered: usize) -> Result<(), Error> {
    if asked == answered {
        return Ok(());
    }
    Err(Error::Store(StoreError::Backend {
        message: format!("{read} answered {answered} times for {asked} questions"),
        source: None,
    }))
}
