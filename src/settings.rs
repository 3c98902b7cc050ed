//! The business's directory settings.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::{BookingStatus, CountryCode, CustomFieldDefinition, EmailKeyPolicy};

/// How the directory behaves for one business.
///
/// # Examples
///
/// ```
/// use customer_directory::{BookingStatus, DirectorySettings};
/// let settings = DirectorySettings::default();
/// assert!(settings.is_locked(&BookingStatus::PAID));
/// assert!(!settings.is_locked(&BookingStatus::PENDING));
/// assert!(settings.reactivate_archived_on_booking);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct DirectorySettings {
    /// Statuses that do **not** lock a booking. Every other status, including ones the host
    /// invents, locks: only a locked booking creates a new profile. Default: pending,
    /// waiting, cancelled.
    pub unlocked_statuses: BTreeSet<BookingStatus>,
    /// How email local parts are compared. Default: case-insensitive.
    pub email_key_policy: EmailKeyPolicy,
    /// Region for phone numbers written without a country code.
    pub default_phone_region: Option<CountryCode>,
    /// Whether a new booking for an archived customer makes it active again. Default: on.
    pub reactivate_archived_on_booking: bool,
    /// Whether editing a customer's contact details also updates the contact snapshot of
    /// its bookings. Default: on.
    pub propagate_contact_edits: bool,
    /// How long a merge can be undone. Default: 30 days.
    pub merge_undo_window: std::time::Duration,
    /// How many times a use case re-reads and retries after a conflicting concurrent write
    /// before giving up with [`Error::Contention`](crate::Error::Contention). Default: 16.
    pub max_commit_attempts: u32,
    /// The host's own profile fields. While empty, custom fields are free-form; once any is
    /// defined, every write checks values against the definitions and refuses undefined
    /// keys (see [`CustomFieldDefinition`]).
    #[serde(default)]
    pub custom_fields: Vec<CustomFieldDefinition>,
}

impl Default for DirectorySettings {
    fn default() -> Self {
        Self {
            unlocked_statuses: [
                BookingStatus::PENDING,
                BookingStatus::WAITING,
                BookingStatus::CANCELLED,
            ]
            .into(),
            email_key_policy: EmailKeyPolicy::default(),
            default_phone_region: None,
            reactivate_archived_on_booking: true,
            propagate_contact_edits: true,
            merge_undo_window: std::time::Duration::from_secs(30 * 24 * 60 * 60),
            max_commit_attempts: 16,
            custom_fields: Vec::new(),
        }
    }
}

impl DirectorySettings {
    /// Whether a booking in `status` is firm enough to create a profile from.
    ///
    /// # Examples
    ///
    /// ```
    /// use customer_directory::{BookingStatus, DirectorySettings};
    /// let settings = DirectorySettings::default();
    /// assert!(settings.is_locked(&BookingStatus::new("checked-in")?));
    /// assert!(!settings.is_locked(&BookingStatus::CANCELLED));
    /// # Ok::<(), customer_directory::TextError>(())
    /// ```
    #[must_use]
    pub fn is_locked(&self, status: &BookingStatus) -> bool {
        !self.unlocked_statuses.contains(status)
    }
}
