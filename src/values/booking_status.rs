//! Booking statuses: an open set of lower-case labels, with the built-in ones as constants.

use std::borrow::Cow;
use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::values::text::TextError;

/// A booking status. The set is open: hosts add their own (`"checked-in"`) next to the
/// built-in ones, and the directory settings say which statuses
/// *lock* a booking (make it firm enough to create a profile from).
///
/// Statuses are compared by their lower-case, trimmed name.
///
/// # Examples
///
/// ```
/// use customer_directory::BookingStatus;
/// let custom = BookingStatus::new("Checked-In")?;
/// assert_eq!(custom.as_str(), "checked-in");
/// assert_eq!(BookingStatus::new(" PAID ")?, BookingStatus::PAID);
/// # Ok::<(), customer_directory::values::TextError>(())
/// ```
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct BookingStatus(Cow<'static, str>);

impl BookingStatus {
    /// Requested but not yet accepted.
    pub const PENDING: Self = Self(Cow::Borrowed("pending"));
    /// On a waiting list.
    pub const WAITING: Self = Self(Cow::Borrowed("waiting"));
    /// Accepted by the business.
    pub const CONFIRMED: Self = Self(Cow::Borrowed("confirmed"));
    /// Paid in full.
    pub const PAID: Self = Self(Cow::Borrowed("paid"));
    /// The activity took place.
    pub const COMPLETED: Self = Self(Cow::Borrowed("completed"));
    /// The customer did not come.
    pub const NO_SHOW: Self = Self(Cow::Borrowed("no-show"));
    /// Cancelled by the customer or the business.
    pub const CANCELLED: Self = Self(Cow::Borrowed("cancelled"));

    /// The longest status name accepted, in Unicode scalar values of the lower-cased name
    /// (listed with every other limit in [`limits`](crate::limits)).
    pub const MAX_CHARS: usize = crate::limits::BOOKING_STATUS_MAX_CHARS;

    /// A status by name: trimmed, lower-cased, 1 to 64 characters without control or
    /// bidirectional control characters.
    ///
    /// # Examples
    ///
    /// ```
    /// use customer_directory::BookingStatus;
    /// assert_eq!(BookingStatus::new("Cancelled")?, BookingStatus::CANCELLED);
    /// assert!(BookingStatus::new("").is_err());
    /// # Ok::<(), customer_directory::values::TextError>(())
    /// ```
    pub fn new(name: &str) -> Result<Self, TextError> {
        // Lower-casing can lengthen a name (`İ` becomes two code points), so the length is
        // checked on the stored form: a stored status always parses back to itself.
        let name = crate::values::text::clean_line(name, usize::MAX)?.to_lowercase();
        let length = name.chars().count();
        if length > Self::MAX_CHARS {
            return Err(TextError::TooLong {
                length,
                max: Self::MAX_CHARS,
            });
        }
        Ok(Self(Cow::Owned(name)))
    }

    /// The status name, lower case.
    ///
    /// # Examples
    ///
    /// ```
    /// use customer_directory::BookingStatus;
    /// assert_eq!(BookingStatus::NO_SHOW.as_str(), "no-show");
    /// ```
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for BookingStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(&self.0)
    }
}

impl fmt::Debug for BookingStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "BookingStatus({})", self.0)
    }
}

impl std::str::FromStr for BookingStatus {
    type Err = TextError;
    fn from_str(name: &str) -> Result<Self, Self::Err> {
        Self::new(name)
    }
}

impl Serialize for BookingStatus {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for BookingStatus {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <Cow<'de, str>>::deserialize(deserializer)?;
        Self::new(&text).map_err(serde::de::Error::custom)
    }
}
