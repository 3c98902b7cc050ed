//! The attribution decision: which customer a booking belongs to.
//!
//! Pure: it takes the booking and what the store knows about its email, and returns the
//! outcome and the [`ChangeSet`] that records it. The rules, in order:
//!
//! | situation | outcome |
//! |---|---|
//! | the email key (or its domain) is on the blocklist, or its customer is blocked | [`AttributionOutcome::Blocked`] |
//! | no email | [`AttributionOutcome::Unattributed`] ([`UnattributedReason::NoEmail`]) |
//! | staff detached the booking from the customer holding the key | unattributed ([`UnattributedReason::Detached`]) |
//! | a live customer holds the key, details agree | [`AttributionOutcome::Attached`]: primary; empty profile fields filled; archived reactivated (setting) |
//! | a live customer holds the key, a detail differs | [`AttributionOutcome::Related`]: pending review, differences listed |
//! | nobody holds the key, the status locks | [`AttributionOutcome::CreatedCustomer`] from the booking's details |
//! | nobody holds the key, the status does not lock | unattributed ([`UnattributedReason::NotLocked`]) |
//!
//! Redacted and merged customers are not live, so they never match.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::ports::store::EmailLookup;
use crate::ports::store::changes::ChangeSet;
use crate::records::booking::{Attribution, Booking};
use crate::records::customer::{BlockEntry, BlockTarget, Customer, CustomerStatus};
use crate::records::profile::Detail;
use crate::settings::DirectorySettings;
use crate::values::ids::CustomerId;

/// What attribution did with a booking.
///
/// # Examples
///
/// ```
/// use customer_directory::AttributionOutcome;
/// use customer_directory::decisions::UnattributedReason;
/// let outcome = AttributionOutcome::Unattributed(UnattributedReason::NotLocked);
/// assert_eq!(outcome.customer(), None);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum AttributionOutcome {
    /// The email is blocked: no customer was created or changed.
    Blocked(BlockEntry),
    /// Attached to an existing customer as a primary booking.
    Attached {
        /// The customer.
        customer: CustomerId,
        /// Profile fields that were empty and were filled from the booking.
        filled: Vec<Detail>,
        /// Whether the customer was archived and is active again.
        reactivated: bool,
    },
    /// Attached to the customer with the same email, pending review, because details differ.
    Related {
        /// The customer.
        customer: CustomerId,
        /// The details that differ.
        differences: Vec<Detail>,
    },
    /// A new customer was created from the booking's details.
    CreatedCustomer(CustomerId),
    /// Left unattributed.
    Unattributed(UnattributedReason),
    /// The booking was already attributed; attribution was not decided again.
    AlreadyAttributed(CustomerId),
}

impl AttributionOutcome {
    /// The customer the booking now belongs to, if any.
    ///
    /// # Examples
    ///
    /// ```
    /// use customer_directory::{AttributionOutcome, CustomerId};
    /// let id = CustomerId::new();
    /// assert_eq!(AttributionOutcome::CreatedCustomer(id).customer(), Some(id));
    /// ```
    #[must_use]
    pub fn customer(&self) -> Option<CustomerId> {
        match self {
            Self::Attached { customer, .. }
            | Self::Related { customer, .. }
            | Self::CreatedCustomer(customer)
            | Self::AlreadyAttributed(customer) => Some(*customer),
            Self::Blocked(_) | Self::Unattributed(_) => None,
        }
    }
}

/// Why a booking was left unattributed.
///
/// # Examples
///
/// ```
/// use customer_directory::decisions::UnattributedReason;
/// assert_ne!(UnattributedReason::NoEmail, UnattributedReason::NotLocked);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum UnattributedReason {
    /// The booking has no email address to match by.
    NoEmail,
    /// Nobody has this email and the status does not lock; decided again when it does.
    NotLocked,
    /// Staff detached it from the customer that holds its email.
    Detached(CustomerId),
}

impl std::fmt::Display for UnattributedReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::NoEmail => f.write_str("the booking has no email"),
            Self::NotLocked => f.write_str("new email and the status does not lock yet"),
            Self::Detached(customer) => write!(f, "staff detached it from customer {customer}"),
        }
    }
}

/// The outcome of attributing one booking and the writes that record it.
#[derive(Debug, Clone)]
pub struct Decision {
    /// What happened.
    pub outcome: AttributionOutcome,
    /// What to commit. Always saves the booking; may insert or update a customer.
    pub changes: ChangeSet,
}

/// Decides which customer `booking` belongs to, given what the store knows about its email.
///
/// `booking` is the booking as it should be stored apart from its attribution (a new
/// booking at version 0, or a stored one with its new status). An already attributed
/// booking keeps its attribution.
///
/// # Examples
///
/// ```
/// use customer_directory::ports::store::EmailLookup;
/// use customer_directory::decisions::attribute;
/// use customer_directory::{AttributionOutcome, Booking, BookingStatus, Currency, DirectorySettings, EmailAddress, Money, NewBooking, Profile};
/// let now = chrono::Utc::now();
/// let contact = Profile { email: Some(EmailAddress::parse("ana@example.com")?), ..Profile::default() };
/// let new = NewBooking::new("B1", BookingStatus::PAID, contact, now, Money::zero(Currency::parse("EUR")?));
/// let decision = attribute(Booking::from_new(new, now), EmailLookup::default(), &DirectorySettings::default(), now);
/// assert!(matches!(decision.outcome, AttributionOutcome::CreatedCustomer(_)));
/// assert_eq!(decision.changes.customers().len(), 1);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[must_use]
pub fn attribute(
    mut booking: Booking,
    known: EmailLookup,
    settings: &DirectorySettings,
    now: DateTime<Utc>,
) -> Decision {
    let mut changes = ChangeSet::new();
    let outcome = decide(&mut booking, known, settings, now, &mut changes);
    changes.save_booking(booking);
    Decision { outcome, changes }
}

fn decide(
    booking: &mut Booking,
    known: EmailLookup,
    settings: &DirectorySettings,
    now: DateTime<Utc>,
    changes: &mut ChangeSet,
) -> AttributionOutcome {
    if let Some(customer) = booking.attribution.customer() {
        return AttributionOutcome::AlreadyAttributed(customer);
    }
    let Some(key) = booking.contact.email.as_ref().map(|email| email.key()) else {
        return AttributionOutcome::Unattributed(UnattributedReason::NoEmail);
    };
    if let Some(entry) = known.block {
        return AttributionOutcome::Blocked(entry);
    }
    let holder = known.customer.filter(|customer| customer.status.is_live());
    let Some(customer) = holder else {
        if !settings.is_locked(&booking.status) {
            return AttributionOutcome::Unattributed(UnattributedReason::NotLocked);
        }
        let created = Customer::new(booking.contact.clone(), now);
        let id = created.id;
        booking.attribution = Attribution::Primary(id);
        changes.save_customer(created);
        return AttributionOutcome::CreatedCustomer(id);
    };
    if customer.status == CustomerStatus::Blocked {
        // A blocked customer whose keys are missing from the blocklist is still blocked.
        let entry = BlockEntry::new(
            BlockTarget::Address(key.clone()),
            "the customer holding this email is blocked",
            customer.updated_at,
        );
        return AttributionOutcome::Blocked(entry);
    }
    if booking.detached_from == Some(customer.id) {
        return AttributionOutcome::Unattributed(UnattributedReason::Detached(customer.id));
    }
    let differences = customer.profile.differences(&booking.contact);
    if !differences.is_empty() {
        booking.attribution = Attribution::Related {
            customer: customer.id,
            differences: differences.clone(),
        };
        changes.guard_customer(customer.id, customer.version);
        return AttributionOutcome::Related {
            customer: customer.id,
            differences,
        };
    }
    let id = customer.id;
    booking.attribution = Attribution::Primary(id);
    let filled = customer.profile.fillable_from(&booking.contact);
    let reactivated =
        customer.status == CustomerStatus::Archived && settings.reactivate_archived_on_booking;
    if filled.is_empty() && !reactivated {
        // The common case: nothing about the customer changes, so it is not copied.
        changes.guard_customer(id, customer.version);
    } else {
        let mut updated = Arc::unwrap_or_clone(customer);
        updated.fill_empty_from(&booking.contact);
        if reactivated {
            updated.status = CustomerStatus::Active;
        }
        updated.updated_at = now;
        changes.save_customer(updated);
    }
    AttributionOutcome::Attached {
        customer: id,
        filled,
        reactivated,
    }
}
