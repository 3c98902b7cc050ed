//! Records: what the directory keeps about a customer.
//!
//! A [`Profile`] (contact details and custom fields), the [`Customer`] that owns it with
//! its status, the [`Booking`]s attributed to it, the notes, consent history, brochure
//! requests and lists staff keep beside it, the customer's [`Account`] (with the one-time
//! tokens of its links, such as a [`ResetToken`]), and the
//! [`AuditEvent`]s that record every change. Records are plain data: the rules that change
//! them live in [`decisions`](crate::decisions) and the use cases in
//! [`service`](crate::service).

pub(crate) mod account;
pub(crate) mod audit;
pub(crate) mod booking;
pub(crate) mod contact_form;
pub(crate) mod customer;
pub(crate) mod merge;
pub(crate) mod notes;
pub(crate) mod profile;
pub(crate) mod tokens;

pub use account::{
    Account, AccountToken, PaymentMethodError, SavedPaymentMethod, TokenPurpose,
    contains_card_number,
};
pub use audit::{Actor, AuditAction, AuditEvent};
pub use booking::{Attribution, Booking, BookingProblem, NewBooking};
pub use contact_form::{ContactForm, FieldError, FieldProblem, ValidationErrors};
pub use customer::{BlockEntry, BlockTarget, Customer, CustomerStatus};
pub use merge::{FieldConflict, MergeRecord, MergeReport, MovedBooking};
pub use notes::{BrochureRequest, ConsentEvent, CustomerList, Note, NoteText, ProfileRecords};
pub use profile::{Detail, MatchKeys, PostalAddress, Profile};
pub use tokens::{ResetToken, ResetTokenHash, TokenError, VerificationToken};
