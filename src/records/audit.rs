//! The audit trail: who did what to which record, and when.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::values::ids::{AccountId, BookingId, CustomerId};

/// Who performed an operation.
///
/// # Examples
///
/// ```
/// use customer_directory::Actor;
/// let staff = Actor::staff("maria@shop");
/// assert_eq!(staff.to_string(), "staff maria@shop");
/// assert_eq!(Actor::System.to_string(), "system");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Actor {
    /// A member of staff, by the host's own identifier.
    Staff(String),
    /// A customer acting on their own account.
    Customer(CustomerId),
    /// The host application or this crate, acting on its own (a booking feed, a retention job).
    System,
}

impl Actor {
    /// A member of staff by the host's identifier.
    ///
    /// # Examples
    ///
    /// ```
    /// use customer_directory::Actor;
    /// assert_eq!(Actor::staff("front-desk"), Actor::Staff("front-desk".into()));
    /// ```
    #[must_use]
    pub fn staff(id: impl Into<String>) -> Self {
        Self::Staff(id.into())
    }
}

impl fmt::Display for Actor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Staff(id) => write!(f, "staff {id}"),
            Self::Customer(id) => write!(f, "customer {id}"),
            Self::System => f.write_str("system"),
        }
    }
}

/// What was done. Each directory use case records exactly one event when it applies.
///
/// # Examples
///
/// ```
/// use customer_directory::records::AuditAction;
/// assert_eq!(AuditAction::BookingRecorded.as_str(), "booking_recorded");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
#[allow(missing_docs)] // each variant names the use case of the same name
pub enum AuditAction {
    BookingRecorded,
    BookingStatusChanged,
    CustomerCreated,
    ContactUpdated,
    BookingContactUpdated,
    RelatedBookingConfirmed,
    BookingDetached,
    BookingAttached,
    CustomerArchived,
    CustomerActivated,
    CustomerBlocked,
    CustomerUnblocked,
    BlocklistEntryAdded,
    BlocklistEntryRemoved,
    CustomerDeleted,
    CustomerRedacted,
    CustomersMerged,
    MergeUndone,
    CustomersImported,
    NoteAdded,
    NoteEdited,
    NoteDeleted,
    NoteMoved,
    NewsletterSubscribed,
    NewsletterUnsubscribed,
    ListCreated,
    ListRenamed,
    AddedToList,
    RemovedFromList,
    BrochureRequested,
    BrochureSent,
    AccountSignedUp,
    EmailVerified,
    LoginSucceeded,
    LoginFailed,
    LoginThrottled,
    PasswordChanged,
    PasswordSetByStaff,
    PasswordResetRequested,
    PasswordReset,
    AccountEmailChanged,
    PaymentMethodSaved,
    PaymentMethodRemoved,
    BookingCancelledByCustomer,
    BookingModifiedByCustomer,
}

impl AuditAction {
    /// A stable snake_case name, for storage and logs.
    ///
    /// # Examples
    ///
    /// ```
    /// use customer_directory::records::AuditAction;
    /// assert_eq!(AuditAction::CustomersMerged.as_str(), "customers_merged");
    /// ```
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::BookingRecorded => "booking_recorded",
            Self::BookingStatusChanged => "booking_status_changed",
            Self::CustomerCreated => "customer_created",
            Self::ContactUpdated => "contact_updated",
            Self::BookingContactUpdated => "booking_contact_updated",
            Self::RelatedBookingConfirmed => "related_booking_confirmed",
            Self::BookingDetached => "booking_detached",
            Self::BookingAttached => "booking_attached",
            Self::CustomerArchived => "customer_archived",
            Self::CustomerActivated => "customer_activated",
            Self::CustomerBlocked => "customer_blocked",
            Self::CustomerUnblocked => "customer_unblocked",
            Self::BlocklistEntryAdded => "blocklist_entry_added",
            Self::BlocklistEntryRemoved => "blocklist_entry_removed",
            Self::CustomerDeleted => "customer_deleted",
            Self::CustomerRedacted => "customer_redacted",
            Self::CustomersMerged => "customers_merged",
            Self::MergeUndone => "merge_undone",
            Self::CustomersImported => "customers_imported",
            Self::NoteAdded => "note_added",
            Self::NoteEdited => "note_edited",
            Self::NoteDeleted => "note_deleted",
            Self::NoteMoved => "note_moved",
            Self::NewsletterSubscribed => "newsletter_subscribed",
            Self::NewsletterUnsubscribed => "newsletter_unsubscribed",
            Self::ListCreated => "list_created",
            Self::ListRenamed => "list_renamed",
            Self::AddedToList => "added_to_list",
            Self::RemovedFromList => "removed_from_list",
            Self::BrochureRequested => "brochure_requested",
            Self::BrochureSent => "brochure_sent",
            Self::AccountSignedUp => "account_signed_up",
            Self::EmailVerified => "email_verified",
            Self::LoginSucceeded => "login_succeeded",
            Self::LoginFailed => "login_failed",
            Self::LoginThrottled => "login_throttled",
            Self::PasswordChanged => "password_changed",
            Self::PasswordSetByStaff => "password_set_by_staff",
            Self::PasswordResetRequested => "password_reset_requested",
            Self::PasswordReset => "password_reset",
            Self::AccountEmailChanged => "account_email_changed",
            Self::PaymentMethodSaved => "payment_method_saved",
            Self::PaymentMethodRemoved => "payment_method_removed",
            Self::BookingCancelledByCustomer => "booking_cancelled_by_customer",
            Self::BookingModifiedByCustomer => "booking_modified_by_customer",
        }
    }
}

impl fmt::Display for AuditAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

/// One entry of the audit trail.
///
/// Events name records by id only and carry no personal values, so redaction never has to
/// rewrite the trail.
///
/// # Examples
///
/// ```
/// use customer_directory::{Actor, CustomerId};
/// use customer_directory::records::{AuditAction, AuditEvent};
/// let event = AuditEvent::new(chrono::Utc::now(), Actor::System, AuditAction::CustomerCreated)
///     .customer(CustomerId::new());
/// assert!(event.customers.len() == 1 && event.booking.is_none());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEvent {
    /// When.
    pub at: DateTime<Utc>,
    /// Who.
    pub actor: Actor,
    /// What.
    pub action: AuditAction,
    /// The customers concerned (a merge names the survivor first).
    pub customers: Vec<CustomerId>,
    /// The booking concerned, if any.
    pub booking: Option<BookingId>,
    /// The customer account concerned, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<AccountId>,
}

impl AuditEvent {
    /// An event concerning no record yet; add them with [`customer`](Self::customer) and
    /// [`booking`](Self::booking).
    ///
    /// # Examples
    ///
    /// ```
    /// use customer_directory::Actor;
    /// use customer_directory::records::{AuditAction, AuditEvent};
    /// let event = AuditEvent::new(chrono::Utc::now(), Actor::staff("x"), AuditAction::BlocklistEntryAdded);
    /// assert!(event.customers.is_empty());
    /// ```
    #[must_use]
    pub fn new(at: DateTime<Utc>, actor: Actor, action: AuditAction) -> Self {
        Self {
            at,
            actor,
            action,
            customers: Vec::new(),
            booking: None,
            account: None,
        }
    }

    /// Adds a customer the event concerns.
    ///
    /// # Examples
    ///
    /// ```
    /// use customer_directory::{Actor, CustomerId};
    /// use customer_directory::records::{AuditAction, AuditEvent};
    /// let id = CustomerId::new();
    /// let event = AuditEvent::new(chrono::Utc::now(), Actor::System, AuditAction::CustomerArchived).customer(id);
    /// assert_eq!(event.customers, vec![id]);
    /// ```
    #[must_use]
    pub fn customer(mut self, id: CustomerId) -> Self {
        if !self.customers.contains(&id) {
            self.customers.push(id);
        }
        self
    }

    /// Sets the booking the event concerns.
    ///
    /// # Examples
    ///
    /// ```
    /// use customer_directory::{Actor, BookingId};
    /// use customer_directory::records::{AuditAction, AuditEvent};
    /// let id = BookingId::new();
    /// let event = AuditEvent::new(chrono::Utc::now(), Actor::System, AuditAction::BookingRecorded).booking(id);
    /// assert_eq!(event.booking, Some(id));
    /// ```
    #[must_use]
    pub fn booking(mut self, id: BookingId) -> Self {
        self.booking = Some(id);
        self
    }

    /// Sets the account the event concerns.
    ///
    /// # Examples
    ///
    /// ```
    /// use customer_directory::{AccountId, Actor};
    /// use customer_directory::records::{AuditAction, AuditEvent};
    /// let id = AccountId::new();
    /// let event = AuditEvent::new(chrono::Utc::now(), Actor::System, AuditAction::LoginFailed).account(id);
    /// assert_eq!(event.account, Some(id));
    /// ```
    #[must_use]
    pub fn account(mut self, id: AccountId) -> Self {
        self.account = Some(id);
        self
    }
}
