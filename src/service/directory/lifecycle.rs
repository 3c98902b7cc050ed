//! Staff use cases that keep the directory clean: manual create, contact edits, related
//! bookings, archive, block, delete and redact.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{Directory, audit_event, require_live};
use crate::decisions::redaction::{redact_booking, redact_customer, redact_merge_record};
use crate::ports::clock::Clock;
use crate::ports::store::changes::ChangeSet;
use crate::ports::store::{BulkReadStore, Store};
use crate::records::audit::{Actor, AuditAction};
use crate::records::booking::{Attribution, Booking};
use crate::records::contact_form::check_custom_fields;
use crate::records::customer::{BlockEntry, BlockTarget, Customer, CustomerStatus};
use crate::records::merge::MergeRecord;
use crate::records::profile::{MatchKeys, Profile};
use crate::service::error::{BookingAction, BookingRefusal, CustomerAction, Error};
use crate::service::telemetry::{self, use_case};
use crate::values::email::key::EmailKey;
use crate::values::ids::{BookingId, CustomerId, MergeId};

/// A customer created by hand, and the unattributed bookings it picked up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Created {
    /// The new customer.
    pub customer: CustomerId,
    /// Bookings with the same email key that were attached (primary or related).
    pub attached: Vec<BookingId>,
}

/// The result of a contact edit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ContactUpdate {
    /// The customer whose profile changed, if the edit reached a profile.
    pub customer: Option<CustomerId>,
    /// Bookings whose contact snapshot was rewritten.
    pub bookings_updated: Vec<BookingId>,
}

/// What to do with a booking detached from its customer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum DetachMode {
    /// Leave it unattributed, listed for review.
    LeaveUnattributed,
    /// Give it a profile of its own; refused if another live customer holds its email.
    OwnProfile,
}

/// Why a booking is suggested as related to a customer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum SuggestionReason {
    /// The same loose email key (Gmail dots, `+tag`).
    SimilarEmail,
    /// The same phone number.
    Phone,
    /// The same name and postcode.
    NameAndPostcode,
}

/// A booking that may belong to a customer: for staff to review, never attached by itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Suggestion {
    /// The booking.
    pub booking: Booking,
    /// Every reason it was suggested.
    pub reasons: Vec<SuggestionReason>,
}

/// The result of a redaction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Redacted {
    /// The customer redacted.
    pub customer: CustomerId,
    /// Bookings whose contact snapshot was erased.
    pub bookings: Vec<BookingId>,
}

impl<S: Store, C: Clock> Directory<S, C> {
    /// Creates a customer by hand (staff's "+New") and attaches every unattributed booking
    /// with the same email key: primary when the details agree, related otherwise.
    ///
    /// # Errors
    ///
    /// [`Error::EmailTaken`] when a live customer already has this email (merge instead).
    ///
    /// # Examples
    ///
    /// ```
    /// # use customer_directory::{*, decisions::*, ports::*, records::*, reports::csv::*, service::*, settings::*, values::*};
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let directory = Directory::new(MemoryStore::new(), DirectorySettings::default());
    /// let form = ContactForm { email: "new@example.com".into(), ..ContactForm::default() };
    /// let created = directory.create_customer(form.parse(directory.settings())?, &Actor::staff("desk")).await?;
    /// assert!(created.attached.is_empty());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # }).unwrap();
    /// ```
    pub async fn create_customer(&self, profile: Profile, actor: &Actor) -> Result<Created, Error> {
        let span = use_case!("create_customer", [customer, attached]);
        span.run(
            async {
                check_custom_fields(&self.settings, &profile, true)
                    .map_err(Error::InvalidContact)?;
                let customer_template = Customer::new(profile, self.clock.now());
                self.commit_retrying(|| async {
                    let now = self.clock.now();
                    let mut customer = customer_template.clone();
                    let mut changes = ChangeSet::new();
                    let mut attached = Vec::new();
                    if let Some(email) = customer.profile.email.clone() {
                        let key = email.key();
                        if let Some(holder) =
                            telemetry::store("lookup_email", self.store.lookup_email(key))
                                .await?
                                .customer
                        {
                            return Err(Error::EmailTaken {
                                key: key.clone(),
                                holder: holder.id,
                            });
                        }
                        attached = self
                            .attach_unattributed(&mut customer, key, &mut changes)
                            .await?;
                    }
                    let id = customer.id;
                    customer.updated_at = now;
                    changes.save_customer(customer).record(audit_event(
                        now,
                        actor,
                        AuditAction::CustomerCreated,
                        Some(id),
                        None,
                    ));
                    Ok((
                        changes,
                        Created {
                            customer: id,
                            attached,
                        },
                    ))
                })
                .await
            },
            |span, created| {
                span.record_id("customer", &created.customer);
                span.record_count("attached", created.attached.len());
                "ok"
            },
        )
        .await
    }

    /// Attaches to a customer being created the unattributed bookings with its email key:
    /// primary when the details agree (filling its blanks), related otherwise.
    pub(super) async fn attach_unattributed(
        &self,
        customer: &mut Customer,
        key: &EmailKey,
        changes: &mut ChangeSet,
    ) -> Result<Vec<BookingId>, Error> {
        let mut attached = Vec::new();
        for mut booking in telemetry::store(
            "unattributed_bookings",
            self.store.unattributed_bookings(key),
        )
        .await?
        {
            let differences = customer.profile.differences(&booking.contact);
            booking.attribution = if differences.is_empty() {
                customer.fill_empty_from(&booking.contact);
                Attribution::Primary(customer.id)
            } else {
                Attribution::Related {
                    customer: customer.id,
                    differences,
                }
            };
            attached.push(booking.id);
            changes.save_booking(booking);
        }
        Ok(attached)
    }

    /// Replaces a customer's contact details. With
    /// [`propagate_contact_edits`](crate::settings::DirectorySettings::propagate_contact_edits) on,
    /// the contact snapshot of each of its primary bookings is rewritten too (related
    /// bookings may be another person and are left alone).
    ///
    /// # Errors
    ///
    /// [`Error::EmailTaken`] when the new email belongs to another live customer (merge
    /// instead); [`Error::CustomerStatus`] for a redacted or merged customer.
    /// For a merged, deleted or never stored id: the answers of
    /// [every customer id](Directory#customer-ids-in-every-state).
    ///
    /// # Examples
    ///
    /// ```
    /// # use customer_directory::{*, decisions::*, ports::*, records::*, reports::csv::*, service::*, settings::*, values::*};
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let directory = Directory::new(MemoryStore::new(), DirectorySettings::default());
    /// let staff = Actor::staff("desk");
    /// let form = ContactForm { email: "a@example.com".into(), ..ContactForm::default() };
    /// let id = directory.create_customer(form.parse(directory.settings())?, &staff).await?.customer;
    /// let edit = ContactForm { email: "a@example.com".into(), given_name: "Ana".into(), ..ContactForm::default() };
    /// directory.update_contact(id, edit.parse(directory.settings())?, &staff).await?;
    /// assert_eq!(directory.customer(id).await?.profile.label(), "Ana");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # }).unwrap();
    /// ```
    pub async fn update_contact(
        &self,
        customer: CustomerId,
        profile: Profile,
        actor: &Actor,
    ) -> Result<ContactUpdate, Error> {
        let span = use_case!("update_contact", [bookings_updated], customer = %customer);
        span.run(
            async {
                check_custom_fields(&self.settings, &profile, true)
                    .map_err(Error::InvalidContact)?;
                self.commit_retrying(|| async {
                    let current = self.person(customer).await?;
                    let mut changes = ChangeSet::new();
                    let updated = self
                        .plan_contact_change(current, &profile, None, &mut changes)
                        .await?;
                    changes.record(audit_event(
                        self.clock.now(),
                        actor,
                        AuditAction::ContactUpdated,
                        Some(customer),
                        None,
                    ));
                    Ok((changes, updated))
                })
                .await
            },
            |span, update| {
                span.record_count("bookings_updated", update.bookings_updated.len());
                "ok"
            },
        )
        .await
    }

    /// Staff edit the contact details of one booking. For a primary booking this edits the
    /// customer's profile (and, per settings, its other bookings); otherwise only this
    /// booking's snapshot changes.
    ///
    /// # Errors
    ///
    /// [`Error::BookingNotFound`], [`Error::EmailTaken`].
    /// For a merged, deleted or never stored id: the answers of
    /// [every customer id](Directory#customer-ids-in-every-state).
    ///
    /// # Examples
    ///
    /// ```
    /// # use customer_directory::{*, decisions::*, ports::*, records::*, reports::csv::*, service::*, settings::*, values::*};
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let directory = Directory::new(MemoryStore::new(), DirectorySettings::default());
    /// let contact = ContactForm { email: "b@example.com".into(), ..ContactForm::default() }.parse(directory.settings())?;
    /// let booking = NewBooking::new("B1", BookingStatus::PAID, contact.clone(), chrono::Utc::now(), Money::zero(Currency::parse("EUR")?));
    /// let recorded = directory.record_booking(booking, &Actor::System).await?;
    /// let fixed = Profile { given_name: Some(PersonName::parse("Bo")?), ..contact };
    /// let update = directory.update_booking_contact(recorded.booking, fixed, &Actor::staff("desk")).await?;
    /// assert_eq!(update.customer, recorded.outcome.customer());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # }).unwrap();
    /// ```
    pub async fn update_booking_contact(
        &self,
        booking: BookingId,
        profile: Profile,
        actor: &Actor,
    ) -> Result<ContactUpdate, Error> {
        let span = use_case!("update_booking_contact", [bookings_updated], booking = %booking);
        span.run(
            async {
                check_custom_fields(&self.settings, &profile, true)
                    .map_err(Error::InvalidContact)?;
                self.commit_retrying(|| async {
                    let mut edited = self.booking(booking).await?;
                    let mut changes = ChangeSet::new();
                    let update = match edited.attribution {
                        Attribution::Primary(customer) => {
                            let current = self.person(customer).await?;
                            self.plan_contact_change(current, &profile, Some(edited), &mut changes)
                                .await?
                        }
                        _ => {
                            edited.contact = profile.clone();
                            changes.save_booking(edited);
                            ContactUpdate {
                                customer: None,
                                bookings_updated: vec![booking],
                            }
                        }
                    };
                    changes.record(audit_event(
                        self.clock.now(),
                        actor,
                        AuditAction::BookingContactUpdated,
                        update.customer,
                        Some(booking),
                    ));
                    Ok((changes, update))
                })
                .await
            },
            |span, update| {
                span.record_count("bookings_updated", update.bookings_updated.len());
                "ok"
            },
        )
        .await
    }

    /// The one home of a profile edit: email collision check, profile replacement and
    /// propagation to primary bookings (always including `edited_booking`, if given).
    async fn plan_contact_change(
        &self,
        mut customer: Customer,
        profile: &Profile,
        edited_booking: Option<Booking>,
        changes: &mut ChangeSet,
    ) -> Result<ContactUpdate, Error> {
        require_live(&customer, CustomerAction::Edit)?;
        if let Some(email) = &profile.email {
            let key = email.key();
            if let Some(holder) = telemetry::store("lookup_email", self.store.lookup_email(key))
                .await?
                .customer
            {
                if holder.id != customer.id {
                    return Err(Error::EmailTaken {
                        key: key.clone(),
                        holder: holder.id,
                    });
                }
            }
            // The new address may be one of the customer's aliases: it is promoted.
            customer.aliases.retain(|alias| alias.key() != key);
        }
        if let Some(old) = customer.profile.email.take() {
            if profile.email.as_ref().map(|e| e.key()) != Some(old.key()) {
                // The old address stays with the customer so its bookings still match.
                customer.aliases.push(old);
            }
        }
        customer.profile = profile.clone();
        customer.updated_at = self.clock.now();
        let id = customer.id;
        changes.save_customer(customer);
        let mut bookings_updated = Vec::new();
        let edited_id = edited_booking.as_ref().map(|b| b.id);
        let mut targets: Vec<Booking> = edited_booking.into_iter().collect();
        if self.settings.propagate_contact_edits {
            for booking in
                telemetry::store("customer_bookings", self.store.customer_bookings(id)).await?
            {
                if booking.attribution == Attribution::Primary(id) && Some(booking.id) != edited_id
                {
                    targets.push(booking);
                }
            }
        }
        for mut booking in targets {
            booking.contact = profile.clone();
            bookings_updated.push(booking.id);
            changes.save_booking(booking);
        }
        Ok(ContactUpdate {
            customer: Some(id),
            bookings_updated,
        })
    }

    /// A customer's related bookings pending review, each with the details that differ.
    ///
    /// # Errors
    ///
    /// [`Error::CustomerNotFound`].
    /// For a merged, deleted or never stored id: the answers of
    /// [every customer id](Directory#customer-ids-in-every-state).
    ///
    /// # Examples
    ///
    /// ```
    /// # use customer_directory::{*, decisions::*, ports::*, records::*, reports::csv::*, service::*, settings::*, values::*};
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let directory = Directory::new(MemoryStore::new(), DirectorySettings::default());
    /// assert!(directory.related_bookings(CustomerId::new()).await.is_err());
    /// # });
    /// ```
    pub async fn related_bookings(&self, customer: CustomerId) -> Result<Vec<Booking>, Error> {
        let span = use_case!("related_bookings", [bookings], customer = %customer);
        span.run(
            async {
                let mut bookings = self.customer_bookings(customer).await?;
                bookings.retain(|b| matches!(b.attribution, Attribution::Related { .. }));
                Ok(bookings)
            },
            |span, bookings| {
                span.record_count("bookings", bookings.len());
                "ok"
            },
        )
        .await
    }

    /// Staff confirm a related booking: it becomes a primary booking of its customer.
    ///
    /// # Errors
    ///
    /// [`Error::BookingState`] when the booking is not related.
    /// For a merged, deleted or never stored id: the answers of
    /// [every customer id](Directory#customer-ids-in-every-state).
    ///
    /// # Examples
    ///
    /// ```
    /// # use customer_directory::{*, decisions::*, ports::*, records::*, reports::csv::*, service::*, settings::*, values::*};
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let directory = Directory::new(MemoryStore::new(), DirectorySettings::default());
    /// assert!(directory.confirm_related(BookingId::new(), &Actor::staff("desk")).await.is_err());
    /// # });
    /// ```
    pub async fn confirm_related(&self, booking: BookingId, actor: &Actor) -> Result<(), Error> {
        let span = use_case!("confirm_related", [], booking = %booking);
        span.run(
            async {
                self.commit_retrying(|| async {
                    let mut related = self.booking(booking).await?;
                    let Attribution::Related { customer, .. } = related.attribution else {
                        return Err(Error::BookingState {
                            id: booking,
                            action: BookingAction::Confirm,
                            reason: BookingRefusal::NotRelated,
                        });
                    };
                    let holder = self.person(customer).await?;
                    require_live(&holder, CustomerAction::AttachBooking)?;
                    related.attribution = Attribution::Primary(customer);
                    let mut changes = ChangeSet::new();
                    changes
                        .guard_customer(customer, holder.version)
                        .save_booking(related)
                        .record(audit_event(
                            self.clock.now(),
                            actor,
                            AuditAction::RelatedBookingConfirmed,
                            Some(customer),
                            Some(booking),
                        ));
                    Ok((changes, ()))
                })
                .await
            },
            |_, _| "ok",
        )
        .await
    }

    /// Staff detach a booking from its customer. It remembers the customer it left and is
    /// never re-attached there automatically. With [`DetachMode::OwnProfile`] it becomes
    /// the primary booking of a new profile, if no live customer holds its email.
    ///
    /// Returns the new customer, if one was created.
    ///
    /// # Errors
    ///
    /// [`Error::BookingState`] when the booking is not attributed; [`Error::EmailTaken`]
    /// for [`DetachMode::OwnProfile`] when its email belongs to a live customer.
    ///
    /// # Examples
    ///
    /// ```
    /// # use customer_directory::{*, decisions::*, ports::*, records::*, reports::csv::*, service::*, settings::*, values::*};
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let directory = Directory::new(MemoryStore::new(), DirectorySettings::default());
    /// let result = directory.detach_booking(BookingId::new(), DetachMode::LeaveUnattributed, &Actor::staff("desk")).await;
    /// assert!(matches!(result, Err(Error::BookingNotFound(_))));
    /// # });
    /// ```
    pub async fn detach_booking(
        &self,
        booking: BookingId,
        mode: DetachMode,
        actor: &Actor,
    ) -> Result<Option<CustomerId>, Error> {
        let span = use_case!("detach_booking", [customer], booking = %booking);
        span.run(
            async {
                self.commit_retrying(|| async {
                    let mut detached = self.booking(booking).await?;
                    let Some(from) = detached.attribution.customer() else {
                        return Err(Error::BookingState {
                            id: booking,
                            action: BookingAction::Detach,
                            reason: BookingRefusal::Unattributed,
                        });
                    };
                    let now = self.clock.now();
                    detached.attribution = Attribution::Unattributed;
                    detached.detached_from = Some(from);
                    let mut changes = ChangeSet::new();
                    let mut created = None;
                    if mode == DetachMode::OwnProfile {
                        if let Some(email) = &detached.contact.email {
                            if let Some(holder) = telemetry::store(
                                "lookup_email",
                                telemetry::store(
                                    "lookup_email",
                                    self.store.lookup_email(email.key()),
                                ),
                            )
                            .await?
                            .customer
                            {
                                return Err(Error::EmailTaken {
                                    key: email.key().clone(),
                                    holder: holder.id,
                                });
                            }
                        }
                        let customer = Customer::new(detached.contact.clone(), now);
                        detached.attribution = Attribution::Primary(customer.id);
                        created = Some(customer.id);
                        changes.save_customer(customer);
                    }
                    let mut event = audit_event(
                        now,
                        actor,
                        AuditAction::BookingDetached,
                        Some(from),
                        Some(booking),
                    );
                    event.customers.extend(created);
                    changes.save_booking(detached).record(event);
                    Ok((changes, created))
                })
                .await
            },
            |span, attached| {
                if let Some(customer) = attached {
                    span.record_id("customer", customer);
                }
                "ok"
            },
        )
        .await
    }

    /// Staff attach any booking to a live customer by hand, as a primary booking.
    ///
    /// # Errors
    ///
    /// [`Error::BookingNotFound`], [`Error::CustomerNotFound`], [`Error::CustomerStatus`].
    /// For a merged, deleted or never stored id: the answers of
    /// [every customer id](Directory#customer-ids-in-every-state).
    ///
    /// # Examples
    ///
    /// ```
    /// # use customer_directory::{*, decisions::*, ports::*, records::*, reports::csv::*, service::*, settings::*, values::*};
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let directory = Directory::new(MemoryStore::new(), DirectorySettings::default());
    /// let result = directory.attach_booking(BookingId::new(), CustomerId::new(), &Actor::staff("desk")).await;
    /// assert!(result.is_err());
    /// # });
    /// ```
    pub async fn attach_booking(
        &self,
        booking: BookingId,
        customer: CustomerId,
        actor: &Actor,
    ) -> Result<(), Error> {
        let span = use_case!("attach_booking", [], booking = %booking, customer = %customer);
        span.run(
            async {
                self.commit_retrying(|| async {
                    let mut attached = self.booking(booking).await?;
                    let holder = self.person(customer).await?;
                    require_live(&holder, CustomerAction::AttachBooking)?;
                    let previous = attached.attribution.customer();
                    attached.attribution = Attribution::Primary(customer);
                    if attached.detached_from == Some(customer) {
                        attached.detached_from = None;
                    }
                    let mut event = audit_event(
                        self.clock.now(),
                        actor,
                        AuditAction::BookingAttached,
                        Some(customer),
                        Some(booking),
                    );
                    event.customers.extend(previous.filter(|p| *p != customer));
                    let mut changes = ChangeSet::new();
                    changes
                        .guard_customer(customer, holder.version)
                        .save_booking(attached)
                        .record(event);
                    Ok((changes, ()))
                })
                .await
            },
            |_, _| "ok",
        )
        .await
    }

    /// Bookings that may belong to this customer because they share its phone, a loose email
    /// key (its email or an alias) or its name and postcode. For review only: nothing is
    /// attached.
    ///
    /// # Errors
    ///
    /// [`Error::CustomerNotFound`].
    /// For a merged, deleted or never stored id: the answers of
    /// [every customer id](Directory#customer-ids-in-every-state).
    ///
    /// # Examples
    ///
    /// ```
    /// # use customer_directory::{*, decisions::*, ports::*, records::*, reports::csv::*, service::*, settings::*, values::*};
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let directory = Directory::new(MemoryStore::new(), DirectorySettings::default());
    /// assert!(directory.suggestions(CustomerId::new()).await.is_err());
    /// # });
    /// ```
    pub async fn suggestions(&self, customer: CustomerId) -> Result<Vec<Suggestion>, Error> {
        let span = use_case!("suggestions", [suggestions], customer = %customer);
        span.run(
            async {
                let holder = self.person(customer).await?;
                let own = holder.profile.match_keys();
                let mut probes = vec![own.clone()];
                for alias in &holder.aliases {
                    probes.push(MatchKeys {
                        loose_email: Some(alias.key().loose()),
                        ..MatchKeys::default()
                    });
                }
                let loose: Vec<_> = probes
                    .iter()
                    .filter_map(|p| p.loose_email.clone())
                    .collect();
                let mut suggestions: Vec<Suggestion> = Vec::new();
                for probe in &probes {
                    for booking in
                        telemetry::store("bookings_matching", self.store.bookings_matching(probe))
                            .await?
                    {
                        if booking.attribution.customer() == Some(customer)
                            || suggestions.iter().any(|s| s.booking.id == booking.id)
                        {
                            continue;
                        }
                        let theirs = booking.contact.match_keys();
                        let mut reasons = Vec::new();
                        if theirs
                            .loose_email
                            .as_ref()
                            .is_some_and(|k| loose.contains(k))
                        {
                            reasons.push(SuggestionReason::SimilarEmail);
                        }
                        if theirs.phone.is_some() && theirs.phone == own.phone {
                            reasons.push(SuggestionReason::Phone);
                        }
                        if theirs.name_postcode.is_some()
                            && theirs.name_postcode == own.name_postcode
                        {
                            reasons.push(SuggestionReason::NameAndPostcode);
                        }
                        suggestions.push(Suggestion { booking, reasons });
                    }
                }
                Ok(suggestions)
            },
            |span, found| {
                span.record_count("suggestions", found.len());
                "ok"
            },
        )
        .await
    }

    /// Archives a customer: hidden from the default listing, bookings kept, still matched.
    ///
    /// # Errors
    ///
    /// [`Error::CustomerStatus`] unless the customer is active.
    /// For a merged, deleted or never stored id: the answers of
    /// [every customer id](Directory#customer-ids-in-every-state).
    ///
    /// # Examples
    ///
    /// ```
    /// # use customer_directory::{*, decisions::*, ports::*, records::*, reports::csv::*, service::*, settings::*, values::*};
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let directory = Directory::new(MemoryStore::new(), DirectorySettings::default());
    /// let staff = Actor::staff("desk");
    /// let id = directory.create_customer(Profile::default(), &staff).await?.customer;
    /// directory.archive(id, &staff).await?;
    /// assert_eq!(directory.customer(id).await?.status, CustomerStatus::Archived);
    /// directory.activate(id, &staff).await?;
    /// assert_eq!(directory.customer(id).await?.status, CustomerStatus::Active);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # }).unwrap();
    /// ```
    pub async fn archive(&self, customer: CustomerId, actor: &Actor) -> Result<(), Error> {
        let span = use_case!("archive", [], customer = %customer);
        span.run(
            async {
                self.change_status(
                    customer,
                    CustomerStatus::Active,
                    CustomerStatus::Archived,
                    CustomerAction::Archive,
                    AuditAction::CustomerArchived,
                    actor,
                )
                .await
            },
            |_, _| "ok",
        )
        .await
    }

    /// Makes an archived customer active again.
    ///
    /// # Errors
    ///
    /// [`Error::CustomerStatus`] unless the customer is archived.
    /// For a merged, deleted or never stored id: the answers of
    /// [every customer id](Directory#customer-ids-in-every-state).
    ///
    /// # Examples
    ///
    /// ```
    /// # use customer_directory::{*, decisions::*, ports::*, records::*, reports::csv::*, service::*, settings::*, values::*};
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let directory = Directory::new(MemoryStore::new(), DirectorySettings::default());
    /// let staff = Actor::staff("desk");
    /// let id = directory.create_customer(Profile::default(), &staff).await?.customer;
    /// assert!(matches!(directory.activate(id, &staff).await, Err(Error::CustomerStatus { .. })));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # }).unwrap();
    /// ```
    pub async fn activate(&self, customer: CustomerId, actor: &Actor) -> Result<(), Error> {
        let span = use_case!("activate", [], customer = %customer);
        span.run(
            async {
                self.change_status(
                    customer,
                    CustomerStatus::Archived,
                    CustomerStatus::Active,
                    CustomerAction::Activate,
                    AuditAction::CustomerActivated,
                    actor,
                )
                .await
            },
            |_, _| "ok",
        )
        .await
    }

    async fn change_status(
        &self,
        customer: CustomerId,
        from: CustomerStatus,
        to: CustomerStatus,
        action: CustomerAction,
        audit: AuditAction,
        actor: &Actor,
    ) -> Result<(), Error> {
        self.commit_retrying(|| async {
            let mut current = self.person(customer).await?;
            if current.status != from {
                return Err(Error::CustomerStatus {
                    id: customer,
                    status: current.status,
                    action,
                });
            }
            let now = self.clock.now();
            current.status = to;
            current.updated_at = now;
            let mut changes = ChangeSet::new();
            changes.save_customer(current).record(audit_event(
                now,
                actor,
                audit,
                Some(customer),
                None,
            ));
            Ok((changes, ()))
        })
        .await
    }

    /// Blocks a customer: every email key it holds goes on the blocklist with `reason`, so
    /// its future bookings are refused. Blocking an archived customer un-archives it.
    ///
    /// # Errors
    ///
    /// [`Error::CustomerStatus`] unless the customer is active or archived;
    /// [`Error::TooLong`] for a reason over [`BLOCK_REASON_MAX_CHARS`](crate::limits::BLOCK_REASON_MAX_CHARS).
    /// For a merged, deleted or never stored id: the answers of
    /// [every customer id](Directory#customer-ids-in-every-state).
    ///
    /// # Examples
    ///
    /// ```
    /// # use customer_directory::{*, decisions::*, ports::*, records::*, reports::csv::*, service::*, settings::*, values::*};
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let directory = Directory::new(MemoryStore::new(), DirectorySettings::default());
    /// let staff = Actor::staff("desk");
    /// let form = ContactForm { email: "x@example.com".into(), ..ContactForm::default() };
    /// let id = directory.create_customer(form.parse(directory.settings())?, &staff).await?.customer;
    /// directory.block(id, "chargebacks", &staff).await?;
    /// assert!(directory.blocklist_entry_for("X@example.com").await?.is_some());
    /// directory.unblock(id, &staff).await?;
    /// assert!(directory.blocklist_entry_for("x@example.com").await?.is_none());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # }).unwrap();
    /// ```
    pub async fn block(
        &self,
        customer: CustomerId,
        reason: &str,
        actor: &Actor,
    ) -> Result<Vec<BlockEntry>, Error> {
        let span = use_case!("block", [entries], customer = %customer);
        span.run(
            async {
                crate::limits::TooLong::check(crate::limits::Input::BlockReason, reason)?;
                self.commit_retrying(|| async {
                    let mut current = self.person(customer).await?;
                    if !matches!(
                        current.status,
                        CustomerStatus::Active | CustomerStatus::Archived
                    ) {
                        return Err(Error::CustomerStatus {
                            id: customer,
                            status: current.status,
                            action: CustomerAction::Block,
                        });
                    }
                    let now = self.clock.now();
                    let entries: Vec<BlockEntry> = current
                        .email_keys()
                        .map(|key| BlockEntry::new(BlockTarget::Address(key.clone()), reason, now))
                        .collect();
                    current.status = CustomerStatus::Blocked;
                    current.updated_at = now;
                    let mut changes = ChangeSet::new();
                    for entry in &entries {
                        changes.add_block(entry.clone());
                    }
                    changes.save_customer(current).record(audit_event(
                        now,
                        actor,
                        AuditAction::CustomerBlocked,
                        Some(customer),
                        None,
                    ));
                    Ok((changes, entries))
                })
                .await
            },
            |span, entries| {
                span.record_count("entries", entries.len());
                "ok"
            },
        )
        .await
    }

    /// Unblocks a customer: its address entries leave the blocklist and it is active again.
    ///
    /// # Errors
    ///
    /// [`Error::CustomerStatus`] unless the customer is blocked.
    /// For a merged, deleted or never stored id: the answers of
    /// [every customer id](Directory#customer-ids-in-every-state).
    ///
    /// # Examples
    ///
    /// ```
    /// # use customer_directory::{*, decisions::*, ports::*, records::*, reports::csv::*, service::*, settings::*, values::*};
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let directory = Directory::new(MemoryStore::new(), DirectorySettings::default());
    /// let staff = Actor::staff("desk");
    /// let id = directory.create_customer(Profile::default(), &staff).await?.customer;
    /// assert!(directory.unblock(id, &staff).await.is_err());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # }).unwrap();
    /// ```
    pub async fn unblock(&self, customer: CustomerId, actor: &Actor) -> Result<(), Error> {
        let span = use_case!("unblock", [], customer = %customer);
        span.run(
            async {
                self.commit_retrying(|| async {
                    let mut current = self.person(customer).await?;
                    if current.status != CustomerStatus::Blocked {
                        return Err(Error::CustomerStatus {
                            id: customer,
                            status: current.status,
                            action: CustomerAction::Unblock,
                        });
                    }
                    let now = self.clock.now();
                    let mut changes = ChangeSet::new();
                    for key in current.email_keys() {
                        changes.remove_block(BlockTarget::Address(key.clone()));
                    }
                    current.status = CustomerStatus::Active;
                    current.updated_at = now;
                    changes.save_customer(current).record(audit_event(
                        now,
                        actor,
                        AuditAction::CustomerUnblocked,
                        Some(customer),
                        None,
                    ));
                    Ok((changes, ()))
                })
                .await
            },
            |_, _| "ok",
        )
        .await
    }

    /// Deletes a customer. Its bookings stay, unattributed, with their contact snapshots;
    /// the id stays known as deleted (see [`resolve`](Self::resolve)).
    ///
    /// The survivor of a merge that can still be undone is not deleted: the undo would
    /// have nothing to give the merged customers' bookings back from. Undo the merge first,
    /// or delete once its window has closed. A redacted customer can be deleted.
    ///
    /// Returns the bookings that were unattributed.
    ///
    /// # Errors
    ///
    /// [`Error::SurvivorOfUndoableMerge`] naming the merge and the end of its window.
    /// For a merged, deleted or never stored id: the answers of
    /// [every customer id](Directory#customer-ids-in-every-state).
    ///
    /// # Examples
    ///
    /// ```
    /// # use customer_directory::{*, decisions::*, ports::*, records::*, reports::csv::*, service::*, settings::*, values::*};
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let directory = Directory::new(MemoryStore::new(), DirectorySettings::default());
    /// let staff = Actor::staff("desk");
    /// let id = directory.create_customer(Profile::default(), &staff).await?.customer;
    /// directory.delete_customer(id, &staff).await?;
    /// assert!(matches!(directory.customer(id).await, Err(Error::CustomerDeleted { .. })));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # }).unwrap();
    /// ```
    pub async fn delete_customer(
        &self,
        customer: CustomerId,
        actor: &Actor,
    ) -> Result<Vec<BookingId>, Error> {
        let span = use_case!("delete_customer", [bookings_released], customer = %customer);
        span.run(
            async {
                self.commit_retrying(|| async {
                    let current = self.person(customer).await?;
                    if let Some((merge, until)) = self.undoable_merge_into(customer).await? {
                        return Err(Error::SurvivorOfUndoableMerge {
                            id: customer,
                            merge,
                            until,
                        });
                    }
                    let mut changes = ChangeSet::new();
                    let mut released = Vec::new();
                    let bookings = telemetry::store(
                        "customer_bookings",
                        self.store.customer_bookings(customer),
                    )
                    .await?;
                    // None may be attached to it before the deletion commits.
                    changes.expect_bookings(customer, bookings.iter().map(|b| b.id));
                    for mut booking in bookings {
                        booking.attribution = Attribution::Unattributed;
                        released.push(booking.id);
                        changes.save_booking(booking);
                    }
                    if let Some(mut account) = telemetry::store(
                        "account_by_customer",
                        self.store.account_by_customer(customer),
                    )
                    .await?
                    {
                        // The login stays; it no longer claims a profile.
                        account.customer = None;
                        changes.save_account(account);
                    }
                    changes.delete_customer(&current).record(audit_event(
                        self.clock.now(),
                        actor,
                        AuditAction::CustomerDeleted,
                        Some(customer),
                        None,
                    ));
                    Ok((changes, released))
                })
                .await
            },
            |span, released| {
                span.record_count("bookings_released", released.len());
                "ok"
            },
        )
        .await
    }

    /// Redacts an archived customer, irreversibly: every personal field of its profile,
    /// aliases and the contact snapshots of its bookings (and of unattributed bookings with
    /// its email) are erased, as are the personal values kept by merges into it. Ids, dates,
    /// statuses and amounts stay. Custom fields named in `keep_custom_fields` are kept.
    ///
    /// Erasure is not held back by a merge's undo window: redacting a merge survivor closes
    /// its merges ([`undo_merge`](Self::undo_merge) then answers
    /// [`MergeError::SurvivorRedacted`](crate::decisions::merge::MergeError::SurvivorRedacted)).
    ///
    /// The commit is [marked as an erasure](ChangeSet::mark_erasure), so the store can also
    /// remove the old values from its files, as far as its database allows:
    /// [`MemoryStore`](crate::adapters::memory::MemoryStore) frees their memory without overwriting it;
    /// `SqliteStore` overwrites freed space with zeros (`secure_delete`) and truncates its
    /// WAL before this returns (or, while readers hold the WAL, owes the truncation:
    /// `SqliteStore::wal_truncation_pending`); `PostgresStore` keeps the old row versions
    /// until a vacuum (`PostgresStore::vacuum_after_erasure`) and its write-ahead log keeps
    /// them until its segments are recycled. Backups and copies are out of any store's
    /// reach.
    ///
    /// # Errors
    ///
    /// [`Error::CustomerStatus`] unless the customer is archived.
    /// For a merged, deleted or never stored id: the answers of
    /// [every customer id](Directory#customer-ids-in-every-state).
    ///
    /// # Examples
    ///
    /// ```
    /// # use customer_directory::{*, decisions::*, ports::*, records::*, reports::csv::*, service::*, settings::*, values::*};
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let directory = Directory::new(MemoryStore::new(), DirectorySettings::default());
    /// let staff = Actor::staff("desk");
    /// let form = ContactForm { email: "gone@example.com".into(), ..ContactForm::default() };
    /// let id = directory.create_customer(form.parse(directory.settings())?, &staff).await?.customer;
    /// assert!(directory.redact(id, &[], &staff).await.is_err(), "archive first");
    /// directory.archive(id, &staff).await?;
    /// directory.redact(id, &[], &staff).await?;
    /// assert_eq!(directory.customer(id).await?.profile, Profile::default());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # }).unwrap();
    /// ```
    pub async fn redact(
        &self,
        customer: CustomerId,
        keep_custom_fields: &[String],
        actor: &Actor,
    ) -> Result<Redacted, Error> {
        let span = use_case!("redact", [bookings], customer = %customer);
        span.run(
            async {
                self.commit_retrying(|| async {
                    let current = self.person(customer).await?;
                    if current.status != CustomerStatus::Archived {
                        return Err(Error::CustomerStatus {
                            id: customer,
                            status: current.status,
                            action: CustomerAction::Redact,
                        });
                    }
                    let mut changes = ChangeSet::new();
                    let redacted = self
                        .plan_redaction(current, keep_custom_fields, &mut changes)
                        .await?;
                    changes.record(audit_event(
                        self.clock.now(),
                        actor,
                        AuditAction::CustomerRedacted,
                        Some(customer),
                        None,
                    ));
                    Ok((changes, redacted))
                })
                .await
            },
            |span, redacted| {
                span.record_count("bookings", redacted.bookings.len());
                "ok"
            },
        )
        .await
    }

    /// The one home of redaction's reach: the customer, its bookings, unattributed bookings
    /// with its email keys, and every merge record holding its data (see below).
    async fn plan_redaction(
        &self,
        customer: Customer,
        keep: &[String],
        changes: &mut ChangeSet,
    ) -> Result<Redacted, Error> {
        changes.mark_erasure();
        let id = customer.id;
        let keys: Vec<EmailKey> = customer.email_keys().cloned().collect();
        let mut bookings: Vec<Booking> =
            telemetry::store("customer_bookings", self.store.customer_bookings(id)).await?;
        // A booking attached before the commit would keep its personal snapshot.
        changes.expect_bookings(id, bookings.iter().map(|b| b.id));
        for key in &keys {
            for booking in telemetry::store(
                "unattributed_bookings",
                self.store.unattributed_bookings(key),
            )
            .await?
            {
                if !bookings.iter().any(|b| b.id == booking.id) {
                    bookings.push(booking);
                }
            }
        }
        let (_, records) = self.merge_history(id).await?;
        for record in records {
            changes.save_merge(redact_merge_record(record));
        }
        // Account credentials and the saved payment method go with the person.
        if let Some(account) =
            telemetry::store("account_by_customer", self.store.account_by_customer(id)).await?
        {
            changes.delete_account(&account);
        }
        let mut redacted = redact_customer(customer, keep);
        redacted.updated_at = self.clock.now();
        changes.save_customer(redacted);
        let mut ids = Vec::new();
        for booking in bookings {
            ids.push(booking.id);
            changes.save_booking(redact_booking(booking, keep));
        }
        Ok(Redacted {
            customer: id,
            bookings: ids,
        })
    }

    /// The people whose data is part of customer `id` (itself first, then everyone merged
    /// into it by merges still in force, recursively) and every merge record holding any of
    /// their data: those they took part in, undone ones included. Undone merges hand their
    /// merged customers back, so those customers' own histories are not followed.
    pub(super) async fn merge_history(
        &self,
        id: CustomerId,
    ) -> Result<(Vec<CustomerId>, Vec<MergeRecord>), Error> {
        let mut people = vec![id];
        let mut records: Vec<MergeRecord> = Vec::new();
        let mut next = 0;
        while let Some(&person) = people.get(next) {
            next += 1;
            for record in
                telemetry::store("merges_involving", self.store.merges_involving(person)).await?
            {
                if records.iter().any(|seen| seen.id == record.id) {
                    continue;
                }
                if record.report.survivor == person && record.undone_at.is_none() {
                    for merged in &record.report.merged {
                        if !people.contains(merged) {
                            people.push(*merged);
                        }
                    }
                }
                records.push(record);
            }
        }
        Ok((people, records))
    }

    /// The merge into `survivor` that can still be undone (not undone, window open), with
    /// the end of its window: the latest-closing one when there are several.
    pub(super) async fn undoable_merge_into(
        &self,
        survivor: CustomerId,
    ) -> Result<Option<(MergeId, DateTime<Utc>)>, Error> {
        let window = self.undo_window();
        let now = self.clock.now();
        Ok(self
            .store
            .merges_involving(survivor)
            .await?
            .iter()
            .filter(|record| record.report.survivor == survivor && record.undone_at.is_none())
            .map(|record| (record.id, record.merged_at + window))
            .filter(|(_, until)| *until >= now)
            .max_by_key(|(_, until)| *until))
    }

    /// What a customer id stands for now, for every id the directory ever handed out: the
    /// customer itself (active, archived, blocked or redacted: its status says which); for a
    /// merged id, the customer it was merged into, following merges of merges, with each
    /// merge on the way; or the deletion of the id (or of its survivor) and when it was.
    ///
    /// # Errors
    ///
    /// [`Error::CustomerNotFound`] only for an id the directory never stored;
    /// [`Error::Store`].
    ///
    /// # Examples
    ///
    /// ```
    /// # use customer_directory::{*, decisions::*, ports::*, records::*, reports::csv::*, service::*, settings::*, values::*};
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let directory = Directory::new(MemoryStore::new(), DirectorySettings::default());
    /// let staff = Actor::staff("desk");
    /// let keep = directory.create_customer(Profile::default(), &staff).await?.customer;
    /// let dup = directory.create_customer(Profile::default(), &staff).await?.customer;
    /// let merge = directory.merge(&MergeRequest::new(keep, [dup]), &staff).await?.merge;
    ///
    /// let resolution = directory.resolve(dup).await?;
    /// assert_eq!(resolution.id(), keep);
    /// assert_eq!(resolution.merges[0].merge, merge);
    ///
    /// let gone = directory.create_customer(Profile::default(), &staff).await?.customer;
    /// directory.delete_customer(gone, &staff).await?;
    /// assert!(matches!(directory.resolve(gone).await?.current, Resolved::Deleted { .. }));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # }).unwrap();
    /// ```
    pub async fn resolve(&self, customer: CustomerId) -> Result<Resolution, Error> {
        let span = use_case!("resolve", [merges], customer = %customer);
        span.run(
            async {
                let mut merges = Vec::new();
                let mut id = customer;
                // Merges form chains, never cycles: a customer merged away takes part in no other
                // merge. The bound only guards against a corrupt store.
                for _ in 0..=MAX_MERGE_CHAIN {
                    let record = match self.customer(id).await {
                        Ok(record) => record,
                        Err(Error::CustomerDeleted { id, at }) => {
                            return Ok(Resolution {
                                asked: customer,
                                merges,
                                current: Resolved::Deleted { id, at },
                            });
                        }
                        Err(other) => return Err(other),
                    };
                    let CustomerStatus::MergedInto(survivor) = record.status else {
                        return Ok(Resolution {
                            asked: customer,
                            merges,
                            current: Resolved::Customer(Box::new(record)),
                        });
                    };
                    merges.push(MergeStep {
                        merged: id,
                        survivor,
                        merge: self.merge_of(id, survivor).await?,
                    });
                    id = survivor;
                }
                Err(Error::Store(crate::ports::store::StoreError::Backend {
                    message: format!(
                        "customer {customer} is merged through more than {MAX_MERGE_CHAIN} merges"
                    ),
                    source: None,
                }))
            },
            |span, resolution| {
                span.record_count("merges", resolution.merges.len());
                "ok"
            },
        )
        .await
    }
}

/// Retention reads every customer: over a [`BulkReadStore`].
impl<S: BulkReadStore, C: Clock> Directory<S, C> {
    /// Redacts every customer with no booking created or starting since `cutoff` (and
    /// created before it) and no login of its account since then, skipping blocked
    /// customers, whose block must outlive them.
    /// Active ones are archived and redacted in one step. Each customer is its own atomic
    /// commit, an erasure like [`redact`](Self::redact)'s (the store removes the old values
    /// from its files as far as it can; on SQLite each costs a WAL checkpoint); the ids
    /// redacted are returned.
    ///
    /// # Errors
    ///
    /// [`Error::Store`] or [`Error::Contention`]; customers redacted before the failure stay
    /// redacted.
    ///
    /// # Examples
    ///
    /// ```
    /// # use customer_directory::{*, decisions::*, ports::*, records::*, reports::csv::*, service::*, settings::*, values::*};
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let directory = Directory::new(MemoryStore::new(), DirectorySettings::default());
    /// let later = chrono::Utc::now() + chrono::TimeDelta::days(1);
    /// let staff = Actor::staff("desk");
    /// let id = directory.create_customer(Profile::default(), &staff).await?.customer;
    /// assert_eq!(directory.redact_inactive_since(later, &Actor::System).await?, vec![id]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # }).unwrap();
    /// ```
    pub async fn redact_inactive_since(
        &self,
        cutoff: DateTime<Utc>,
        actor: &Actor,
    ) -> Result<Vec<CustomerId>, Error> {
        let span = use_case!("redact_inactive_since", [redacted]);
        span.run(
            async {
                let mut done = Vec::new();
                for candidate in telemetry::store(
                    "customers_inactive_since",
                    self.store.customers_inactive_since(cutoff),
                )
                .await?
                {
                    let id = candidate.id;
                    let redacted = self
                        .commit_retrying::<_, Error, _, _>(|| async {
                            let current = self.customer(id).await?;
                            if !matches!(
                                current.status,
                                CustomerStatus::Active | CustomerStatus::Archived
                            ) {
                                return Ok((ChangeSet::new(), false));
                            }
                            let logged_in = self
                                .store
                                .account_by_customer(id)
                                .await?
                                .and_then(|account| account.last_login_at)
                                .is_some_and(|at| at >= cutoff);
                            if logged_in {
                                return Ok((ChangeSet::new(), false));
                            }
                            let mut changes = ChangeSet::new();
                            self.plan_redaction(current, &[], &mut changes).await?;
                            changes.record(audit_event(
                                self.clock.now(),
                                actor,
                                AuditAction::CustomerRedacted,
                                Some(id),
                                None,
                            ));
                            Ok((changes, true))
                        })
                        .await?;
                    if redacted {
                        done.push(id);
                    }
                }
                Ok(done)
            },
            |span, redacted| {
                span.record_count("redacted", redacted.len());
                "ok"
            },
        )
        .await
    }
}

/// The longest chain of merges [`Directory::resolve`] follows before calling the store
/// corrupt (each link is a merge staff made).
const MAX_MERGE_CHAIN: usize = 64;

/// What a customer id stands for now: the answer of [`Directory::resolve`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Resolution {
    /// The id asked about.
    pub asked: CustomerId,
    /// The merges followed from it, first the one that merged the asked id; empty unless
    /// it was merged.
    pub merges: Vec<MergeStep>,
    /// Where the id leads now.
    pub current: Resolved,
}

impl Resolution {
    /// The id the asked one leads to: the customer's own, its survivor's, or the deleted
    /// id's.
    #[must_use]
    pub fn id(&self) -> CustomerId {
        match &self.current {
            Resolved::Customer(customer) => customer.id,
            Resolved::Deleted { id, .. } => *id,
        }
    }

    /// The customer record the id leads to, unless it was deleted.
    #[must_use]
    pub fn customer(&self) -> Option<&Customer> {
        match &self.current {
            Resolved::Customer(customer) => Some(customer),
            Resolved::Deleted { .. } => None,
        }
    }

    /// Whether the asked id was merged into another customer.
    #[must_use]
    pub fn was_merged(&self) -> bool {
        !self.merges.is_empty()
    }
}

/// One merge followed by [`Directory::resolve`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct MergeStep {
    /// The customer merged away.
    pub merged: CustomerId,
    /// The customer it was merged into.
    pub survivor: CustomerId,
    /// The merge, for [`Directory::undo_merge`].
    pub merge: MergeId,
}

/// Where a customer id leads now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Resolved {
    /// A customer record: active, archived, blocked or redacted, as its status says.
    Customer(Box<Customer>),
    /// The customer (the asked one, or the survivor it was merged into) was deleted.
    Deleted {
        /// The deleted customer.
        id: CustomerId,
        /// When.
        at: DateTime<Utc>,
    },
}
