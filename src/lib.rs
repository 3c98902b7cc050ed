//! placeholder
#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod attribution;
mod booking;
mod changeset;
mod clock;
mod customer;
mod directory;
mod email;
mod error;
mod ids;
mod money;
mod phone;
mod profile;
mod settings;
pub mod store;
mod text;

pub use attribution::{attribute, AttributionOutcome, Decision, UnattributedReason};
pub use booking::{Attribution, Booking, BookingProblem, BookingStatus, NewBooking};
pub use changeset::{BlocklistChange, ChangeSet, ChangeSetParts, Expected, Guard, Write};
pub use clock::{Clock, FixedClock, SystemClock};
pub use customer::{BlockEntry, BlockTarget, Customer, CustomerStatus};
pub use directory::{Directory, Recorded};
pub use email::{EmailAddress, EmailError, EmailKey, EmailKeyPolicy, LooseEmailKey};
pub use error::Error;
pub use ids::{BookingId, CustomerId, IdError};
pub use money::{Currency, Money, MoneyError};
pub use phone::{Phone, PhoneError};
pub use profile::{ContactForm, Detail, FieldError, FieldProblem, PostalAddress, Profile, ValidationErrors};
pub use settings::DirectorySettings;
pub use text::{CountryCode, PersonName, Text, TextError};
