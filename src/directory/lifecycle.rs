//! Staff use cases that keep the directory clean: manual create, contact edits, related
//! bookings, archive, block, delete and redact.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{Directory, audit_event, require_live};
use crate::custom_fields::check_custom_fields;
use crate::redaction::{redact_booking, redact_customer, redact_merge_record};
use crate::store::Store;
use crate::{
    Actor, Attribution, AuditAction, BlockEntry, BlockTarget, Booking, BookingId, ChangeSet, Clock,
    Customer, CustomerId, CustomerStatus, EmailKey, Error, MatchKeys, MergeRecord, Profile,
};

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
    /// # use customer_directory::{store::MemoryStore, *};
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let directory = Directory::new(MemoryStore::new(), DirectorySettings::default());
    /// let form = ContactForm { email: "new@example.com".into(), ..ContactForm::default() };
    /// let created = directory.create_customer(form.parse(directory.settings())?, &Actor::staff("desk")).await?;
    /// assert!(created.attached.is_empty());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # }).unwrap();
    /// ```
    pub async fn create_customer(&self, profile: Profile, actor: &Actor) -> Result<Created, Error> {
        check_custom_fields(&self.settings, &profile, true).map_err(Error::InvalidContact)?;
        let customer_template = Customer::new(profile, self.clock.now());
        self.commit_retrying(|| async {
            let now = self.clock.now();
            let mut customer = customer_template.clone();
            let mut changes = ChangeSet::new();
            let mut attached = Vec::new();
            if let Some(email) = customer.profile.email.clone() {
                let key = email.key();
                if let Some(holder) = self.store.lookup_email(key).await?.customer {
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
        for mut booking in self.store.unattributed_bookings(key).await? {
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
    /// [`propagate_contact_edits`](crate::DirectorySettings::propagate_contact_edits) on,
    /// the contact snapshot of each of its primary bookings is rewritten too (related
    /// bookings may be another person and are left alone).
    ///
    /// # Errors
    ///
    /// [`Error::EmailTaken`] when the new email belongs to another live customer (merge
    /// instead); [`Error::CustomerStatus`] for a redacted or merged customer.
    ///
    /// # Examples
    ///
    /// ```
    /// # use customer_directory::{store::MemoryStore, *};
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
        check_custom_fields(&self.settings, &profile, true).map_err(Error::InvalidContact)?;
        self.commit_retrying(|| async {
            let current = self.customer(customer).await?;
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
    }

    /// Staff edit the contact details of one booking. For a primary booking this edits the
    /// customer's profile (and, per settings, its other bookings); otherwise only this
    /// booking's snapshot changes.
    ///
    /// # Errors
    ///
    /// [`Error::BookingNotFound`], [`Error::EmailTaken`].
    ///
    /// # Examples
    ///
    /// ```
    /// # use customer_directory::{store::MemoryStore, *};
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
        check_custom_fields(&self.settings, &profile, true).map_err(Error::InvalidContact)?;
        self.commit_retrying(|| async {
            let mut edited = self.booking(booking).await?;
            let mut changes = ChangeSet::new();
            let update = match edited.attribution {
                Attribution::Primary(customer) => {
                    let current = self.customer(customer).await?;
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
        require_live(&customer, "edit")?;
        if let Some(email) = &profile.email {
            let key = email.key();
            if let Some(holder) = self.store.lookup_email(key).await?.customer {
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
            for booking in self.store.customer_bookings(id).await? {
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
    ///
    /// # Examples
    ///
    /// ```
    /// # use customer_directory::{store::MemoryStore, *};
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let directory = Directory::new(MemoryStore::new(), DirectorySettings::default());
    /// assert!(directory.related_bookings(CustomerId::new()).await.is_err());
    /// # });
    /// ```
    pub async fn related_bookings(&self, customer: CustomerId) -> Result<Vec<Booking>, Error> {
        let mut bookings = self.customer_bookings(customer).await?;
        bookings.retain(|b| matches!(b.attribution, Attribution::Related { .. }));
        Ok(bookings)
    }

    /// Staff confirm a related booking: it becomes a primary booking of its customer.
    ///
    /// # Errors
    ///
    /// [`Error::BookingState`] when the booking is not related.
    ///
    /// # Examples
    ///
    /// ```
    /// # use customer_directory::{store::MemoryStore, *};
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let directory = Directory::new(MemoryStore::new(), DirectorySettings::default());
    /// assert!(directory.confirm_related(BookingId::new(), &Actor::staff("desk")).await.is_err());
    /// # });
    /// ```
    pub async fn confirm_related(&self, booking: BookingId, actor: &Actor) -> Result<(), Error> {
        self.commit_retrying(|| async {
            let mut related = self.booking(booking).await?;
            let Attribution::Related { customer, .. } = related.attribution else {
                return Err(Error::BookingState {
                    id: booking,
                    action: "confirm",
                    reason: "it is not a related booking",
                });
            };
            let holder = self.customer(customer).await?;
            require_live(&holder, "attach a booking to")?;
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
    /// # use customer_directory::{store::MemoryStore, *};
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
        self.commit_retrying(|| async {
            let mut detached = self.booking(booking).await?;
            let Some(from) = detached.attribution.customer() else {
                return Err(Error::BookingState {
                    id: booking,
                    action: "detach",
                    reason: "it is not attributed to a customer",
                });
            };
            let now = self.clock.now();
            detached.attribution = Attribution::Unattributed;
            detached.detached_from = Some(from);
            let mut changes = ChangeSet::new();
            let mut created = None;
            if mode == DetachMode::OwnProfile {
                if let Some(email) = &detached.contact.email {
                    if let Some(holder) = self.store.lookup_email(email.key()).await?.customer {
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
    }

    /// Staff attach any booking to a live customer by hand, as a primary booking.
    ///
    /// # Errors
    ///
    /// [`Error::BookingNotFound`], [`Error::CustomerNotFound`], [`Error::CustomerStatus`].
    ///
    /// # Examples
    ///
    /// ```
    /// # use customer_directory::{store::MemoryStore, *};
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
        self.commit_retrying(|| async {
            let mut attached = self.booking(booking).await?;
            let holder = self.customer(customer).await?;
            require_live(&holder, "attach a booking to")?;
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
    }

    /// Bookings that may belong to this customer because they share its phone, a loose email
    /// key (its email or an alias) or its name and postcode. For review only: nothing is
    /// attached.
    ///
    /// # Errors
    ///
    /// [`Error::CustomerNotFound`].
    ///
    /// # Examples
    ///
    /// ```
    /// # use customer_directory::{store::MemoryStore, *};
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let directory = Directory::new(MemoryStore::new(), DirectorySettings::default());
    /// assert!(directory.suggestions(CustomerId::new()).await.is_err());
    /// # });
    /// ```
    pub async fn suggestions(&self, customer: CustomerId) -> Result<Vec<Suggestion>, Error> {
        let holder = self.customer(customer).await?;
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
            for booking in self.store.bookings_matching(probe).await? {
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
                if theirs.name_postcode.is_some() && theirs.name_postcode == own.name_postcode {
                    reasons.push(SuggestionReason::NameAndPostcode);
                }
                suggestions.push(Suggestion { booking, reasons });
            }
        }
        Ok(suggestions)
    }

    /// Archives a customer: hidden from the default listing, bookings kept, still matched.
    ///
    /// # Errors
    ///
    /// [`Error::CustomerStatus`] unless the customer is active.
    ///
    /// # Examples
    ///
    /// ```
    /// # use customer_directory::{store::MemoryStore, *};
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
        self.change_status(
            customer,
            CustomerStatus::Active,
            CustomerStatus::Archived,
            "archive",
            AuditAction::CustomerArchived,
            actor,
        )
        .await
    }

    /// Makes an archived customer active again.
    ///
    /// # Errors
    ///
    /// [`Error::CustomerStatus`] unless the customer is archived.
    ///
    /// # Examples
    ///
    /// ```
    /// # use customer_directory::{store::MemoryStore, *};
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let directory = Directory::new(MemoryStore::new(), DirectorySettings::default());
    /// let staff = Actor::staff("desk");
    /// let id = directory.create_customer(Profile::default(), &staff).await?.customer;
    /// assert!(matches!(directory.activate(id, &staff).await, Err(Error::CustomerStatus { .. })));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # }).unwrap();
    /// ```
    pub async fn activate(&self, customer: CustomerId, actor: &Actor) -> Result<(), Error> {
        self.change_status(
            customer,
            CustomerStatus::Archived,
            CustomerStatus::Active,
            "activate",
            AuditAction::CustomerActivated,
            actor,
        )
        .await
    }

    async fn change_status(
        &self,
        customer: CustomerId,
        from: CustomerStatus,
        to: CustomerStatus,
        action: &'static str,
        audit: AuditAction,
        actor: &Actor,
    ) -> Result<(), Error> {
        self.commit_retrying(|| async {
            let mut current = self.customer(customer).await?;
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
    /// [`Error::CustomerStatus`] unless the customer is active or archived.
    ///
    /// # Examples
    ///
    /// ```
    /// # use customer_directory::{store::MemoryStore, *};
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
        self.commit_retrying(|| async {
            let mut current = self.customer(customer).await?;
            if !matches!(
                current.status,
                CustomerStatus::Active | CustomerStatus::Archived
            ) {
                return Err(Error::CustomerStatus {
                    id: customer,
                    status: current.status,
                    action: "block",
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
    }

    /// Unblocks a customer: its address entries leave the blocklist and it is active again.
    ///
    /// # Errors
    ///
    /// [`Error::CustomerStatus`] unless the customer is blocked.
    ///
    /// # Examples
    ///
    /// ```
    /// # use customer_directory::{store::MemoryStore, *};
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let directory = Directory::new(MemoryStore::new(), DirectorySettings::default());
    /// let staff = Actor::staff("desk");
    /// let id = directory.create_customer(Profile::default(), &staff).await?.customer;
    /// assert!(directory.unblock(id, &staff).await.is_err());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # }).unwrap();
    /// ```
    pub async fn unblock(&self, customer: CustomerId, actor: &Actor) -> Result<(), Error> {
        self.commit_retrying(|| async {
            let mut current = self.customer(customer).await?;
            if current.status != CustomerStatus::Blocked {
                return Err(Error::CustomerStatus {
                    id: customer,
                    status: current.status,
                    action: "unblock",
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
    }

    /// Deletes a customer. Its bookings stay, unattributed, with their contact snapshots.
    ///
    /// Returns the bookings that were unattributed.
    ///
    /// # Errors
    ///
    /// [`Error::CustomerNotFound`].
    ///
    /// # Examples
    ///
    /// ```
    /// # use customer_directory::{store::MemoryStore, *};
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let directory = Directory::new(MemoryStore::new(), DirectorySettings::default());
    /// let staff = Actor::staff("desk");
    /// let id = directory.create_customer(Profile::default(), &staff).await?.customer;
    /// directory.delete_customer(id, &staff).await?;
    /// assert!(matches!(directory.customer(id).await, Err(Error::CustomerNotFound(_))));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # }).unwrap();
    /// ```
    pub async fn delete_customer(
        &self,
        customer: CustomerId,
        actor: &Actor,
    ) -> Result<Vec<BookingId>, Error> {
        self.commit_retrying(|| async {
            let current = self.customer(customer).await?;
            let mut changes = ChangeSet::new();
            let mut released = Vec::new();
            let bookings = self.store.customer_bookings(customer).await?;
            // None may be attached to it before the deletion commits.
            changes.expect_bookings(customer, bookings.iter().map(|b| b.id));
            for mut booking in bookings {
                booking.attribution = Attribution::Unattributed;
                released.push(booking.id);
                changes.save_booking(booking);
            }
            if let Some(mut account) = self.store.account_by_customer(customer).await? {
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
    }

    /// Redacts an archived customer, irreversibly: every personal field of its profile,
    /// aliases and the contact snapshots of its bookings (and of unattributed bookings with
    /// its email) are erased, as are the personal values kept by merges into it. Ids, dates,
    /// statuses and amounts stay. Custom fields named in `keep_custom_fields` are kept.
    ///
    /// The commit is [marked as an erasure](ChangeSet::mark_erasure), so the store can also
    /// remove the old values from its files, as far as its database allows:
    /// [`MemoryStore`](crate::store::MemoryStore) frees their memory without overwriting it;
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
    ///
    /// # Examples
    ///
    /// ```
    /// # use customer_directory::{store::MemoryStore, *};
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
        self.commit_retrying(|| async {
            let current = self.customer(customer).await?;
            if current.status != CustomerStatus::Archived {
                return Err(Error::CustomerStatus {
                    id: customer,
                    status: current.status,
                    action: "redact (archive it first)",
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
    }

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
    /// # use customer_directory::{store::MemoryStore, *};
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
        let mut done = Vec::new();
        for candidate in self.store.customers_inactive_since(cutoff).await? {
            let id = candidate.id;
            let redacted = self
                .commit_retrying(|| async {
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
        let mut bookings: Vec<Booking> = self.store.customer_bookings(id).await?;
        // A booking attached before the commit would keep its personal snapshot.
        changes.expect_bookings(id, bookings.iter().map(|b| b.id));
        for key in &keys {
            for booking in self.store.unattributed_bookings(key).await? {
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
        if let Some(account) = self.store.account_by_customer(id).await? {
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
            for record in self.store.merges_involving(person).await? {
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

    /// The customer an id stands for now: a merged customer resolves to its survivor.
    ///
    /// # Errors
    ///
    /// [`Error::CustomerNotFound`].
    ///
    /// # Examples
    ///
    /// ```
    /// # use customer_directory::{store::MemoryStore, *};
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let directory = Directory::new(MemoryStore::new(), DirectorySettings::default());
    /// let id = directory.create_customer(Profile::default(), &Actor::staff("desk")).await?.customer;
    /// assert_eq!(directory.resolve(id).await?.id, id);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # }).unwrap();
    /// ```
    pub async fn resolve(&self, customer: CustomerId) -> Result<Customer, Error> {
        let mut current = self.customer(customer).await?;
        // Merges form chains, never cycles; the bound only guards against a corrupt store.
        for _ in 0..64 {
            match current.status {
                CustomerStatus::MergedInto(survivor) => current = self.customer(survivor).await?,
                _ => break,
            }
        }
        Ok(current)
    }
}
