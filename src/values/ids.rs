//! Record identifiers: UUID v7, time ordered so that database indexes stay compact.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

macro_rules! define_id {
    ($(#[$doc:meta])* $name:ident, $example:literal) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(Uuid);

        impl $name {
            /// A fresh, time-ordered (UUID v7) identifier.
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("use customer_directory::values::", stringify!($name), ";")]
            #[doc = concat!("let a = ", stringify!($name), "::new();")]
            #[doc = concat!("let b = ", stringify!($name), "::new();")]
            /// assert_ne!(a, b);
            /// ```
            #[must_use]
            pub fn new() -> Self {
                Self(Uuid::now_v7())
            }

            /// Wraps an identifier read back from storage.
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("use customer_directory::values::", stringify!($name), ";")]
            #[doc = concat!("let id = ", stringify!($name), "::new();")]
            #[doc = concat!("assert_eq!(", stringify!($name), "::from_uuid(id.as_uuid()), id);")]
            /// ```
            #[must_use]
            pub const fn from_uuid(uuid: Uuid) -> Self {
                Self(uuid)
            }

            /// The underlying UUID, for storage.
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("use customer_directory::values::", stringify!($name), ";")]
            #[doc = concat!("assert_eq!(", stringify!($name), "::new().as_uuid().get_version_num(), 7);")]
            /// ```
            #[must_use]
            pub const fn as_uuid(&self) -> Uuid {
                self.0
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0, f)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self.0)
            }
        }

        impl FromStr for $name {
            type Err = IdError;

            fn from_str(text: &str) -> Result<Self, Self::Err> {
                Uuid::try_parse(text.trim())
                    .map(Self)
                    .map_err(|_| IdError { kind: $example, text: text.into() })
            }
        }
    };
}

define_id!(
    /// Identifies a [`Customer`](crate::records::customer::Customer) for its whole life, including after a merge.
    CustomerId,
    "customer"
);
define_id!(
    /// Identifies a [`Booking`](crate::records::booking::Booking).
    BookingId,
    "booking"
);

define_id!(
    /// Identifies a merge, so it can be looked up and undone.
    MergeId,
    "merge"
);
define_id!(
    /// Identifies a customer [`Account`](crate::records::account::Account): the login, separate from the profile it claims.
    AccountId,
    "account"
);
define_id!(
    /// Identifies a [`Note`](crate::records::notes::Note) on a profile.
    NoteId,
    "note"
);
define_id!(
    /// Identifies a [`CustomerList`](crate::records::notes::CustomerList).
    ListId,
    "list"
);
define_id!(
    /// Identifies a [`BrochureRequest`](crate::records::notes::BrochureRequest).
    BrochureRequestId,
    "brochure request"
);

/// Text that is not a UUID was given where a record identifier was expected.
///
/// # Examples
///
/// ```
/// use customer_directory::CustomerId;
/// let err = "not-an-id".parse::<CustomerId>().unwrap_err();
/// assert_eq!(err.to_string(), "`not-an-id` is not a valid customer id (expected a UUID)");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{text}` is not a valid {kind} id (expected a UUID)")]
pub struct IdError {
    kind: &'static str,
    text: Box<str>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_through_text() {
        let id = CustomerId::new();
        assert_eq!(id.to_string().parse::<CustomerId>(), Ok(id));
        assert!("".parse::<BookingId>().is_err());
    }

    #[test]
    fn ids_are_time_ordered() {
        let first = BookingId::new();
        let second = BookingId::new();
        assert!(first < second);
    }
}
