//! Settings: how the directory behaves for one business.
//!
//! [`DirectorySettings`] (which booking statuses lock a booking, the email key policy, the
//! default phone region, the custom fields a profile may carry) and [`AccountSettings`]
//! (whether customers have accounts, the password policy). Settings sit just above the
//! values: records are validated against them, and every decision reads them.

pub(crate) mod custom_fields;
pub(crate) mod statement;

pub use custom_fields::{
    CustomFieldDefinition, CustomFieldError, CustomFieldKind, CustomFieldPattern,
};
pub use statement::{BusinessDetails, FontFile, StatementSettings};

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::values::booking_status::BookingStatus;
use crate::values::email::EmailKeyPolicy;
use crate::values::password::policy::PasswordPolicy;
use crate::values::text::CountryCode;

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
    /// before giving up with [`Error::Contention`](crate::service::error::Error::Contention). Default: 16.
    pub max_commit_attempts: u32,
    /// The host's own profile fields. While empty, custom fields are free-form; once any is
    /// defined, every write checks values against the definitions and refuses undefined
    /// keys (see [`CustomFieldDefinition`]).
    #[serde(default)]
    pub custom_fields: Vec<CustomFieldDefinition>,
    /// Customer accounts: mode, login throttling, token lifetimes, self-service rules and
    /// password policy. Accounts are disabled by default.
    #[serde(default)]
    pub accounts: AccountSettings,
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
            accounts: AccountSettings::default(),
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
    /// # Ok::<(), customer_directory::values::TextError>(())
    /// ```
    #[must_use]
    pub fn is_locked(&self, status: &BookingStatus) -> bool {
        !self.unlocked_statuses.contains(status)
    }

    /// These settings with `accounts` as the account settings.
    ///
    /// # Examples
    ///
    /// ```
    /// use customer_directory::{AccountSettings, DirectorySettings};
    /// use customer_directory::settings::AccountsMode;
    /// let settings = DirectorySettings::default()
    ///     .with_accounts(AccountSettings::with_mode(AccountsMode::Optional));
    /// assert!(settings.accounts.mode.is_enabled());
    /// ```
    #[must_use]
    pub fn with_accounts(mut self, accounts: AccountSettings) -> Self {
        self.accounts = accounts;
        self
    }
}

/// How customer accounts behave.
///
/// # Examples
///
/// ```
/// use customer_directory::settings::AccountsMode;
/// use customer_directory::DirectorySettings;
/// let mut settings = DirectorySettings::default();
/// settings.accounts.mode = AccountsMode::Optional;
/// settings.accounts.max_failed_logins = 3;
/// assert_eq!(settings.accounts.reset_token_lifetime, std::time::Duration::from_secs(30 * 60));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct AccountSettings {
    /// Disabled, optional or required. Default: disabled.
    pub mode: AccountsMode,
    /// Failed logins in a row after which the account is locked. Default: 5.
    pub max_failed_logins: u32,
    /// How long a lock lasts; afterwards the count starts again. Default: 15 minutes.
    pub lockout: std::time::Duration,
    /// How long a password-reset link works. Default: 30 minutes.
    pub reset_token_lifetime: std::time::Duration,
    /// How long an email-verification link works. Default: 48 hours.
    pub verification_token_lifetime: std::time::Duration,
    /// Whether customers may cancel their own bookings. Default: on.
    pub self_service_cancel: bool,
    /// Whether customers may modify their own bookings. Default: on.
    pub self_service_modify: bool,
    /// Customers may change a booking only while its start is more than this many days
    /// away. Default: 2.
    pub change_window_days: u32,
    /// Booking statuses in which customers cannot change a booking. Default: cancelled,
    /// completed, no-show.
    pub statuses_blocking_changes: BTreeSet<BookingStatus>,
    /// The password rules for sign-up, change and reset. Default:
    /// [`PasswordPolicy::recommended`].
    pub password_policy: PasswordPolicy,
}

impl Default for AccountSettings {
    fn default() -> Self {
        Self {
            mode: AccountsMode::Disabled,
            max_failed_logins: 5,
            lockout: std::time::Duration::from_secs(15 * 60),
            reset_token_lifetime: std::time::Duration::from_secs(30 * 60),
            verification_token_lifetime: std::time::Duration::from_secs(48 * 60 * 60),
            self_service_cancel: true,
            self_service_modify: true,
            change_window_days: 2,
            statuses_blocking_changes: [
                BookingStatus::CANCELLED,
                BookingStatus::COMPLETED,
                BookingStatus::NO_SHOW,
            ]
            .into(),
            password_policy: PasswordPolicy::recommended(),
        }
    }
}

impl AccountSettings {
    /// The default settings with accounts in `mode`.
    ///
    /// # Examples
    ///
    /// ```
    /// use customer_directory::AccountSettings;
    /// use customer_directory::settings::AccountsMode;
    /// assert_eq!(AccountSettings::with_mode(AccountsMode::Required).mode, AccountsMode::Required);
    /// ```
    #[must_use]
    pub fn with_mode(mode: AccountsMode) -> Self {
        Self {
            mode,
            ..Self::default()
        }
    }
}

/// Whether the business offers customer accounts.
///
/// # Examples
///
/// ```
/// use customer_directory::settings::AccountsMode;
/// assert_eq!(AccountsMode::default(), AccountsMode::Disabled);
/// assert!(AccountsMode::Required.requires_account());
/// assert!(!AccountsMode::Optional.requires_account());
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum AccountsMode {
    /// No accounts: every account use case answers [`AccountError::Disabled`](crate::service::error::AccountError::Disabled).
    #[default]
    Disabled,
    /// Customers may sign up; booking as a guest stays possible. An account may log in
    /// before its email is verified, but it sees no bookings until then.
    Optional,
    /// Customers need an account (the host asks for a login before booking) and login is
    /// refused until the email is verified.
    Required,
}

impl AccountsMode {
    /// Whether accounts can be used at all.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(!customer_directory::settings::AccountsMode::Disabled.is_enabled());
    /// ```
    #[must_use]
    pub fn is_enabled(self) -> bool {
        self != Self::Disabled
    }

    /// Whether the host should require a login before a customer books.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(customer_directory::settings::AccountsMode::Required.requires_account());
    /// ```
    #[must_use]
    pub fn requires_account(self) -> bool {
        self == Self::Required
    }
}
