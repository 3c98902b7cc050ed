//! The service: the use cases a host calls.
//!
//! [`Directory`] records bookings and keeps profiles (edit, archive, block, merge,
//! redact, search, export); [`Accounts`] signs customers in and keeps their passwords.
//! Each use case reads what it needs through the [`Store`](crate::ports::store::Store)
//! port, asks [`decisions`](crate::decisions) what to change, and commits one
//! [`ChangeSet`](crate::ports::store::ChangeSet), retrying on a conflict.

pub(crate) mod accounts;
pub(crate) mod directory;
pub(crate) mod error;
pub(crate) mod telemetry;

pub use accounts::{Accounts, Login};
pub use directory::batch::{BatchItem, BatchReport};
pub use directory::import::{
    BookingImport, BookingImportCounts, BookingImportError, BookingImportReport, BookingOutcome,
    ImportProgress, ImportedBooking,
};
pub use directory::lifecycle::{
    ContactUpdate, Created, DetachMode, MergeStep, Redacted, Resolution, Resolved, Suggestion,
    SuggestionReason,
};
pub use directory::reports::{
    DataSubjectExport, ImportMode, ImportReport, ImportedRow, RowOutcome,
};
pub use directory::{Directory, Recorded};
pub use error::{
    AccountError, BookingAction, BookingChange, BookingRefusal, CustomerAction, Error, StaffAction,
};
pub use telemetry::{CorrelationSecretTooShort, EmailCorrelation};
