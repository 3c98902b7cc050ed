//! Values: the small validated types every other layer is built from.
//!
//! An email address and the key that identifies its owner, a phone number, a person's name
//! and other bounded text, money in a currency, the typed ids, and passwords with their
//! policy and hashing. Each type checks its input once, when it is built, and says what is
//! wrong in a typed error; nothing here knows about customers, bookings or storage.

pub(crate) mod booking_status;
pub(crate) mod email;
pub(crate) mod ids;
pub(crate) mod money;
pub(crate) mod password;
pub(crate) mod phone;
pub(crate) mod text;

pub use booking_status::BookingStatus;
pub use email::address::EmailAddress;
pub use email::key::EmailKey;
pub use email::loose_key::LooseEmailKey;
pub use email::{EmailError, EmailKeyPolicy};
pub use ids::{
    AccountId, BookingId, BrochureRequestId, CustomerId, IdError, ListId, MergeId, NoteId,
};
pub use money::{Currency, Money, MoneyError};
pub use password::hashing::{
    HashError, HashLimits, HashParameter, HashParams, MAX_PASSWORD_BYTES, PasswordHash,
    PasswordHashing, Verification,
};
pub use password::policy::{
    CharacterClass, PasswordContext, PasswordPolicy, PasswordViolation, PasswordViolations,
};
pub use password::secret::Password;
pub use phone::{Phone, PhoneError};
pub use text::{CountryCode, PersonName, Text, TextError};
