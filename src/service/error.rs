//! The error type of the [`Directory`](crate::service::directory::Directory) use cases.

use std::fmt;

use crate::decisions::merge::MergeError;
use crate::ports::notify::NotifyError;
use crate::ports::store::{Conflict, StoreError};
use crate::records::account::PaymentMethodError;
use crate::records::booking::BookingProblem;
use crate::records::customer::{BlockEntry, CustomerStatus};
use crate::records::tokens::TokenError;
use crate::reports::csv::ImportError;
use crate::reports::statement::StatementError;
use crate::values::email::EmailError;
use crate::values::email::key::EmailKey;
use crate::values::ids::{
    AccountId, BookingId, BrochureRequestId, CustomerId, ListId, MergeId, NoteId,
};
use crate::values::money::MoneyError;
use crate::values::password::hashing::HashError;
use crate::values::password::policy::PasswordViolations;

/// Why a directory operation failed. A failed operation changed nothing.
///
/// # Examples
///
/// ```
/// use customer_directory::{CustomerId, Error};
/// let id = CustomerId::new();
/// assert_eq!(Error::CustomerNotFound(id).to_string(), format!("no customer with id {id}"));
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The booking's email or its domain is on the blocklist: refuse the booking.
    #[error("bookings from this email are refused ({}): {}", .0.target, .0.reason)]
    Blocked(BlockEntry),
    /// No customer ever had this id (a deleted or merged one answers
    /// [`CustomerDeleted`](Self::CustomerDeleted) or [`CustomerMerged`](Self::CustomerMerged)).
    #[error("no customer with id {0}")]
    CustomerNotFound(CustomerId),
    /// The customer was deleted: its id stays known, with the time, in its audit trail.
    #[error("customer {id} was deleted at {at}")]
    CustomerDeleted {
        /// The deleted customer.
        id: CustomerId,
        /// When it was deleted.
        at: chrono::DateTime<chrono::Utc>,
    },
    /// The customer was merged into another one: every operation and every read of the
    /// person's data goes to the survivor (or the merge is undone first).
    #[error(
        "customer {id} was merged into customer {survivor} (merge {merge}): use the survivor, or undo the merge"
    )]
    CustomerMerged {
        /// The merged customer (a tombstone now).
        id: CustomerId,
        /// The customer it was merged into.
        survivor: CustomerId,
        /// The merge that did it, for [`Directory::undo_merge`](crate::service::directory::Directory::undo_merge).
        merge: MergeId,
    },
    /// The customer survives a merge that can still be undone; deleting it would make the
    /// undo impossible. Undo the merge first, or delete after the window closes.
    #[error(
        "customer {id} survives merge {merge}, which can be undone until {until}: undo the merge first, or delete it after then"
    )]
    SurvivorOfUndoableMerge {
        /// The surviving customer.
        id: CustomerId,
        /// The merge that can still be undone.
        merge: MergeId,
        /// When its undo window closes.
        until: chrono::DateTime<chrono::Utc>,
    },
    /// No booking has this id.
    #[error("no booking with id {0}")]
    BookingNotFound(BookingId),
    /// No merge has this id.
    #[error("no merge with id {0}")]
    MergeNotFound(MergeId),
    /// Another live customer already holds this email: merge the two instead.
    #[error(
        "the email {key} already belongs to customer {holder}: merge the two customers instead"
    )]
    EmailTaken {
        /// The email key.
        key: EmailKey,
        /// The live customer holding it.
        holder: CustomerId,
    },
    /// The operation does not apply to a customer in this status.
    #[error("cannot {action} customer {id}: {}", action.refusal(*.status))]
    CustomerStatus {
        /// The customer.
        id: CustomerId,
        /// Its status.
        status: CustomerStatus,
        /// What was attempted.
        action: CustomerAction,
    },
    /// The booking's attribution does not allow the operation.
    #[error("cannot {action} booking {id}: {reason}")]
    BookingState {
        /// The booking.
        id: BookingId,
        /// What was attempted.
        action: BookingAction,
        /// Why not.
        reason: BookingRefusal,
    },
    /// A merge rule was broken.
    #[error(transparent)]
    Merge(#[from] MergeError),
    /// The email address given is not valid.
    #[error("invalid email address: {0}")]
    InvalidEmail(#[from] EmailError),
    /// Contact details break the directory's rules (custom field definitions); every problem
    /// is listed.
    #[error("invalid contact details: {0}")]
    InvalidContact(crate::records::contact_form::ValidationErrors),
    /// The booking cannot be recorded; every problem is listed.
    #[error("invalid booking: {}", list(.0))]
    InvalidBooking(Vec<BookingProblem>),
    /// Concurrent writers kept changing the same records; the operation was retried
    /// `attempts` times and gave up.
    #[error("gave up after {attempts} attempts conflicting with concurrent changes")]
    Contention {
        /// How many times the operation was tried.
        attempts: u32,
        /// The conflict of the last attempt.
        #[source]
        last: Conflict,
    },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// No note with this id on the customer.
    #[error("customer {customer} has no note {note}")]
    NoteNotFound {
        /// The customer.
        customer: CustomerId,
        /// The note.
        note: NoteId,
    },
    /// No customer list has this id.
    #[error("no customer list with id {0}")]
    ListNotFound(ListId),
    /// Another list already has this name (compared ignoring case).
    #[error("a customer list named {0} already exists")]
    ListNameTaken(String),
    /// No brochure request with this id on the customer.
    #[error("customer {customer} has no brochure request {request}")]
    BrochureRequestNotFound {
        /// The customer.
        customer: CustomerId,
        /// The request.
        request: BrochureRequestId,
    },
    /// Writing an export failed.
    #[error("writing the export failed")]
    Export(#[source] std::io::Error),
    /// An import file could not be read as a whole.
    #[error("the import file cannot be read: {0}")]
    Import(#[from] ImportError),
    /// A statement cannot be made for this period.
    #[error(transparent)]
    Statement(#[from] StatementError),
    /// A page cursor was malformed or belongs to another query.
    #[error(transparent)]
    InvalidCursor(#[from] crate::ports::query::cursor::CursorError),
    /// Amounts that cannot be added up: mixed currencies in one booking, or overflow.
    #[error(transparent)]
    Money(#[from] MoneyError),
    /// A free-text input is longer than its limit (see [`limits`](crate::limits)): the
    /// error names the input, its length and the maximum. Checked before the store is used,
    /// so nothing was read or written.
    #[error(transparent)]
    TooLong(#[from] crate::limits::TooLong),
}

/// Why an account operation of [`Accounts`](crate::service::accounts::Accounts) failed. A
/// failed operation changed nothing.
///
/// The account's own refusals are variants of their own; what the directory refuses on the
/// way (an unknown booking, a store failure, an over-long input, contention) arrives
/// unchanged in [`AccountError::Directory`], so a caller matches the account cases first and
/// hands the rest to the code that handles [`Error`].
///
/// # Examples
///
/// ```
/// use customer_directory::service::AccountError;
/// use customer_directory::{BookingId, Error};
/// let wrapped = AccountError::from(Error::BookingNotFound(BookingId::new()));
/// assert!(matches!(wrapped, AccountError::Directory(Error::BookingNotFound(_))));
/// assert_eq!(AccountError::InvalidCredentials.to_string(), "the email or the password is wrong");
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AccountError {
    /// Customer accounts are disabled in the settings.
    #[error("customer accounts are disabled")]
    Disabled,
    /// Unknown email or wrong password: deliberately one answer for both.
    #[error("the email or the password is wrong")]
    InvalidCredentials,
    /// Too many failed logins: the account is locked until then.
    #[error("too many failed logins: try again after {until}")]
    Throttled {
        /// When login is possible again.
        until: chrono::DateTime<chrono::Utc>,
    },
    /// The email is not verified yet and the settings require it.
    #[error("the email address is not verified yet")]
    EmailNotVerified,
    /// A verification or reset token that is unknown, used, expired or void: one answer
    /// for all, so nothing is revealed.
    #[error("the link is invalid or has expired")]
    InvalidToken,
    /// The new password breaks the policy; every violation is listed.
    #[error("the password is too weak: {}", weak(.0))]
    WeakPassword(PasswordViolations),
    /// No account with this id.
    #[error("no account with id {0}")]
    NotFound(AccountId),
    /// Another account already uses this login email.
    #[error("another account already uses this email")]
    EmailTaken,
    /// The operation is for staff (or the system), not for the customer.
    #[error("only staff may {action}")]
    NotPermitted {
        /// What was attempted.
        action: StaffAction,
    },
    /// The settings do not let customers do this to their bookings.
    #[error("customers may not {change} bookings themselves")]
    SelfServiceDisabled {
        /// What the customer tried.
        change: BookingChange,
    },
    /// The booking's status does not let the customer change it (the settings list the
    /// statuses that block changes).
    #[error(
        "customers may not {change} booking {booking}: its status does not allow changes by the customer"
    )]
    BookingLocked {
        /// The booking.
        booking: BookingId,
        /// What the customer tried.
        change: BookingChange,
    },
    /// Too close to the booking's start for the customer to change it.
    #[error("booking {booking} can no longer be changed online: the window closed at {closed_at}")]
    ChangeWindowClosed {
        /// The booking.
        booking: BookingId,
        /// When changes stopped being possible.
        closed_at: chrono::DateTime<chrono::Utc>,
    },
    /// Something that looks like a full card number was given for a saved payment method.
    #[error("a full card number was given: store the payment provider's token instead")]
    CardNumberRefused,
    /// A saved payment method was refused for another reason.
    #[error(transparent)]
    InvalidPaymentMethod(PaymentMethodError),
    /// Password hashing or a stored hash failed.
    #[error(transparent)]
    Hash(#[from] HashError),
    /// A token could not be generated (operating system random source).
    #[error(transparent)]
    Token(#[from] TokenError),
    /// The committed change's message could not be handed to the [`Notifier`](crate::ports::notify::Notifier).
    #[error(transparent)]
    Notify(#[from] NotifyError),
    /// The directory refused or failed (see [`Error`]).
    #[error(transparent)]
    Directory(#[from] Error),
}

impl Error {
    /// A stable snake_case name of the variant, for logs and metrics (the `error` field of
    /// the crate's spans): it names what went wrong without any value the error holds, so
    /// it never carries an email, a name or a list name. Each variant has its own kind,
    /// distinct from every [`AccountError`] kind too.
    ///
    /// # Examples
    ///
    /// ```
    /// use customer_directory::{CustomerId, Error};
    /// assert_eq!(Error::CustomerNotFound(CustomerId::new()).kind(), "customer_not_found");
    /// ```
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Blocked(_) => "blocked",
            Self::CustomerNotFound(_) => "customer_not_found",
            Self::CustomerDeleted { .. } => "customer_deleted",
            Self::CustomerMerged { .. } => "customer_merged",
            Self::SurvivorOfUndoableMerge { .. } => "survivor_of_undoable_merge",
            Self::BookingNotFound(_) => "booking_not_found",
            Self::MergeNotFound(_) => "merge_not_found",
            Self::EmailTaken { .. } => "email_taken",
            Self::CustomerStatus { .. } => "customer_status",
            Self::BookingState { .. } => "booking_state",
            Self::Merge(_) => "merge",
            Self::InvalidEmail(_) => "invalid_email",
            Self::InvalidContact(_) => "invalid_contact",
            Self::InvalidBooking(_) => "invalid_booking",
            Self::Contention { .. } => "contention",
            Self::Store(_) => "store",
            Self::NoteNotFound { .. } => "note_not_found",
            Self::ListNotFound(_) => "list_not_found",
            Self::ListNameTaken(_) => "list_name_taken",
            Self::BrochureRequestNotFound { .. } => "brochure_request_not_found",
            Self::Export(_) => "export",
            Self::Import(_) => "import",
            Self::Statement(_) => "statement",
            Self::InvalidCursor(_) => "invalid_cursor",
            Self::Money(_) => "money",
            Self::TooLong(_) => "too_long",
        }
    }
}

impl AccountError {
    /// A stable snake_case name of the variant, for logs and metrics (the `error` field of
    /// the crate's spans), without any value the error holds. A refusal of the directory
    /// answers its own [`Error::kind`], so a store failure is `store` whichever use case
    /// met it; the account's own kinds differ from every [`Error`] kind.
    ///
    /// # Examples
    ///
    /// ```
    /// use customer_directory::service::AccountError;
    /// use customer_directory::{BookingId, Error};
    /// assert_eq!(AccountError::InvalidCredentials.kind(), "invalid_credentials");
    /// assert_eq!(AccountError::from(Error::BookingNotFound(BookingId::new())).kind(), "booking_not_found");
    /// ```
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Disabled => "accounts_disabled",
            Self::InvalidCredentials => "invalid_credentials",
            Self::Throttled { .. } => "throttled",
            Self::EmailNotVerified => "email_not_verified",
            Self::InvalidToken => "invalid_token",
            Self::WeakPassword(_) => "weak_password",
            Self::NotFound(_) => "account_not_found",
            Self::EmailTaken => "account_email_taken",
            Self::NotPermitted { .. } => "not_permitted",
            Self::SelfServiceDisabled { .. } => "self_service_disabled",
            Self::BookingLocked { .. } => "booking_locked",
            Self::ChangeWindowClosed { .. } => "change_window_closed",
            Self::CardNumberRefused => "card_number_refused",
            Self::InvalidPaymentMethod(_) => "invalid_payment_method",
            Self::Hash(_) => "hash",
            Self::Token(_) => "token",
            Self::Notify(_) => "notify",
            Self::Directory(error) => error.kind(),
        }
    }
}

impl From<StoreError> for AccountError {
    fn from(error: StoreError) -> Self {
        AccountError::Directory(Error::Store(error))
    }
}

impl From<crate::limits::TooLong> for AccountError {
    fn from(error: crate::limits::TooLong) -> Self {
        AccountError::Directory(Error::TooLong(error))
    }
}

impl From<EmailError> for AccountError {
    fn from(error: EmailError) -> Self {
        AccountError::Directory(Error::InvalidEmail(error))
    }
}

/// What staff may do to an account and a customer may not, as named in
/// [`AccountError::NotPermitted`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum StaffAction {
    /// Set a customer's password without knowing the current one.
    SetPassword,
}

impl fmt::Display for StaffAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            StaffAction::SetPassword => "set a customer's password",
        })
    }
}

/// A change a customer makes to their own booking, as named in
/// [`AccountError::SelfServiceDisabled`] and the errors beside it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum BookingChange {
    /// Cancel the booking.
    Cancel,
    /// Move it to another time.
    Modify,
}

impl fmt::Display for BookingChange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            BookingChange::Cancel => "cancel",
            BookingChange::Modify => "modify",
        })
    }
}

/// What staff tried to do to a booking, as named in [`Error::BookingState`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum BookingAction {
    /// Confirm a related booking as the customer's.
    Confirm,
    /// Detach a booking from its customer.
    Detach,
}

impl fmt::Display for BookingAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            BookingAction::Confirm => "confirm",
            BookingAction::Detach => "detach",
        })
    }
}

/// Why a booking's attribution refuses a [`BookingAction`], as named in
/// [`Error::BookingState`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum BookingRefusal {
    /// Only a related booking can be confirmed.
    NotRelated,
    /// The booking is not attributed to any customer.
    Unattributed,
}

impl fmt::Display for BookingRefusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            BookingRefusal::NotRelated => "it is not a related booking",
            BookingRefusal::Unattributed => "it is not attributed to a customer",
        })
    }
}

/// An operation on a customer that only some statuses allow, as named in
/// [`Error::CustomerStatus`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CustomerAction {
    /// Edit the contact details.
    Edit,
    /// Change notes, consent, lists or brochure requests.
    ChangeRecords,
    /// Attach a booking to it, or confirm a related booking.
    AttachBooking,
    /// Archive it (only an active customer).
    Archive,
    /// Make it active again (only an archived customer).
    Activate,
    /// Block it (an active or archived customer).
    Block,
    /// Unblock it (only a blocked customer).
    Unblock,
    /// Redact it (only an archived customer).
    Redact,
}

impl CustomerAction {
    /// The statuses the action applies to, as a phrase.
    fn allowed(self) -> &'static str {
        match self {
            Self::Edit | Self::ChangeRecords | Self::AttachBooking => {
                "an active, archived or blocked customer"
            }
            Self::Archive => "an active customer",
            Self::Activate => "an archived customer",
            Self::Block => "an active or archived customer",
            Self::Unblock => "a blocked customer",
            Self::Redact => "an archived customer",
        }
    }

    /// Why the action does not apply to a customer in `status`: the status itself, what
    /// the action needs, and the step that would make it apply, if there is one.
    fn refusal(self, status: CustomerStatus) -> String {
        let needs = self.allowed();
        let first = match (self, status) {
            (Self::Redact, CustomerStatus::Active) => "; archive it first",
            (Self::Redact, CustomerStatus::Blocked) => "; unblock and archive it first",
            (Self::Activate, CustomerStatus::Blocked) => "; unblock it instead",
            _ => "",
        };
        let already = match (self, status) {
            (Self::Archive, CustomerStatus::Archived)
            | (Self::Activate, CustomerStatus::Active)
            | (Self::Block, CustomerStatus::Blocked)
            | (Self::Redact, CustomerStatus::Redacted) => "already ",
            _ => "",
        };
        format!("it is {already}{status}, and only {needs} can be {self:#}{first}")
    }
}

/// The action as a verb (`archive`); with `{:#}`, as a past participle (`archived`).
impl std::fmt::Display for CustomerAction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (verb, participle) = match self {
            Self::Edit => ("edit", "edited"),
            Self::ChangeRecords => (
                "change the records of",
                "given notes, consent, lists or brochure requests",
            ),
            Self::AttachBooking => ("attach a booking to", "given bookings"),
            Self::Archive => ("archive", "archived"),
            Self::Activate => ("activate", "activated"),
            Self::Block => ("block", "blocked"),
            Self::Unblock => ("unblock", "unblocked"),
            Self::Redact => ("redact", "redacted"),
        };
        f.pad(if f.alternate() { participle } else { verb })
    }
}

fn weak(violations: &PasswordViolations) -> String {
    violations
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

impl From<PaymentMethodError> for AccountError {
    fn from(error: PaymentMethodError) -> Self {
        match error {
            PaymentMethodError::CardNumber => Self::CardNumberRefused,
            other => Self::InvalidPaymentMethod(other),
        }
    }
}

fn list(problems: &[BookingProblem]) -> String {
    problems
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::query::cursor::CursorError;
    use crate::records::customer::BlockTarget;
    use crate::values::password::policy::{PasswordContext, PasswordPolicy};

    fn every_directory_error() -> Vec<Error> {
        let now = chrono::Utc::now();
        let customer = CustomerId::new();
        let key = EmailKey::parse("kind@example.com", Default::default()).unwrap();
        let block = BlockEntry::new(BlockTarget::domain("example.com").unwrap(), "spam", now);
        vec![
            Error::Blocked(block),
            Error::CustomerNotFound(customer),
            Error::CustomerDeleted {
                id: customer,
                at: now,
            },
            Error::CustomerMerged {
                id: customer,
                survivor: customer,
                merge: MergeId::new(),
            },
            Error::SurvivorOfUndoableMerge {
                id: customer,
                merge: MergeId::new(),
                until: now,
            },
            Error::BookingNotFound(BookingId::new()),
            Error::MergeNotFound(MergeId::new()),
            Error::EmailTaken {
                key,
                holder: customer,
            },
            Error::CustomerStatus {
                id: customer,
                status: CustomerStatus::Active,
                action: CustomerAction::Activate,
            },
            Error::BookingState {
                id: BookingId::new(),
                action: BookingAction::Confirm,
                reason: BookingRefusal::NotRelated,
            },
            Error::Merge(MergeError::TooMany { count: 11 }),
            Error::InvalidEmail(EmailError::Empty),
            Error::InvalidContact(crate::records::contact_form::ValidationErrors {
                problems: Vec::new(),
            }),
            Error::InvalidBooking(Vec::new()),
            Error::Contention {
                attempts: 3,
                last: Conflict::CustomerBookings { customer },
            },
            Error::Store(StoreError::backend("test", std::io::Error::other("down"))),
            Error::NoteNotFound {
                customer,
                note: NoteId::new(),
            },
            Error::ListNotFound(ListId::new()),
            Error::ListNameTaken("VIP".to_owned()),
            Error::BrochureRequestNotFound {
                customer,
                request: BrochureRequestId::new(),
            },
            Error::Export(std::io::Error::other("closed")),
            Error::Import(ImportError::Malformed {
                line: 1,
                message: "bad".to_owned(),
            }),
            Error::Statement(StatementError::EmptyPeriod {
                from: now,
                until: now,
            }),
            Error::InvalidCursor(CursorError::Malformed),
            Error::Money(MoneyError::InvalidCurrency("EURO".into())),
            Error::TooLong(crate::limits::TooLong {
                input: crate::limits::Input::SearchText,
                length: 300,
                max: 256,
            }),
        ]
    }

    fn every_account_error() -> Vec<AccountError> {
        let weak = PasswordPolicy::default()
            .check("password", &PasswordContext::new(&[]))
            .unwrap_err();
        vec![
            AccountError::Disabled,
            AccountError::InvalidCredentials,
            AccountError::Throttled {
                until: chrono::Utc::now(),
            },
            AccountError::EmailNotVerified,
            AccountError::InvalidToken,
            AccountError::WeakPassword(weak),
            AccountError::NotFound(AccountId::new()),
            AccountError::EmailTaken,
            AccountError::NotPermitted {
                action: StaffAction::SetPassword,
            },
            AccountError::SelfServiceDisabled {
                change: BookingChange::Cancel,
            },
            AccountError::BookingLocked {
                booking: BookingId::new(),
                change: BookingChange::Modify,
            },
            AccountError::ChangeWindowClosed {
                booking: BookingId::new(),
                closed_at: chrono::Utc::now(),
            },
            AccountError::CardNumberRefused,
            AccountError::InvalidPaymentMethod(PaymentMethodError::Token { max: 8 }),
            AccountError::Hash(HashError::Malformed {
                reason: "test".to_owned(),
            }),
            AccountError::Token(TokenError::InvalidLength {
                length: 1,
                expected: 64,
            }),
            AccountError::Notify(NotifyError::new("queue full", "busy")),
        ]
    }

    #[test]
    fn every_error_variant_has_its_own_snake_case_kind() {
        let directory = every_directory_error();
        let accounts = every_account_error();
        // One value per variant: a variant added without a value here fails the counts,
        // since `kind` must then be extended and the list checked again.
        assert_eq!(directory.len(), 26);
        assert_eq!(accounts.len(), 17);
        let kinds: Vec<&str> = directory
            .iter()
            .map(Error::kind)
            .chain(accounts.iter().map(AccountError::kind))
            .collect();
        let distinct: std::collections::BTreeSet<&str> = kinds.iter().copied().collect();
        assert_eq!(distinct.len(), kinds.len(), "kinds repeat: {kinds:?}");
        for kind in &kinds {
            assert!(
                !kind.is_empty() && kind.chars().all(|c| c.is_ascii_lowercase() || c == '_'),
                "{kind} is not snake_case"
            );
        }
    }

    #[test]
    fn an_account_error_wrapping_the_directory_answers_the_directory_kind() {
        for error in every_directory_error() {
            let kind = error.kind();
            assert_eq!(AccountError::Directory(error).kind(), kind);
        }
    }
}
