//! Bookings as the directory sees them: a contact snapshot, amounts, a status and how the
//! booking is attributed to a customer.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::records::profile::{Detail, Profile};
use crate::values::booking_status::BookingStatus;
use crate::values::ids::{BookingId, CustomerId};
use crate::values::money::Money;

/// How a booking is linked to the directory.
///
/// # Examples
///
/// ```
/// use customer_directory::records::Attribution;
/// use customer_directory::CustomerId;
/// let customer = CustomerId::new();
/// assert_eq!(Attribution::Primary(customer).customer(), Some(customer));
/// assert_eq!(Attribution::Unattributed.customer(), None);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Attribution {
    /// Not linked to any customer (no email, not locked yet, or detached).
    Unattributed,
    /// The customer's own booking.
    Primary(CustomerId),
    /// Same email as the customer, but personal details differ: staff should review it.
    Related {
        /// The customer whose email matched.
        customer: CustomerId,
        /// The details that differ from the profile.
        differences: Vec<Detail>,
    },
}

impl Attribution {
    /// The customer the booking is linked to, whether primary or related.
    ///
    /// # Examples
    ///
    /// ```
    /// use customer_directory::records::Attribution;
    /// use customer_directory::CustomerId;
    /// let customer = CustomerId::new();
    /// let related = Attribution::Related { customer, differences: vec![] };
    /// assert_eq!(related.customer(), Some(customer));
    /// ```
    #[must_use]
    pub fn customer(&self) -> Option<CustomerId> {
        match self {
            Self::Unattributed => None,
            Self::Primary(customer) | Self::Related { customer, .. } => Some(*customer),
        }
    }
}

/// A booking as the directory keeps it.
///
/// The contact snapshot is kept exactly as entered: attribution and later edits of the
/// profile never rewrite it silently (contact edits propagate only when the settings say so).
///
/// # Examples
///
/// ```
/// use customer_directory::records::Attribution;
/// use customer_directory::{Booking, BookingStatus, Currency, Money, NewBooking, Profile};
/// let eur = Currency::parse("EUR")?;
/// let new = NewBooking::new("BK-1", BookingStatus::PAID, Profile::default(), chrono::Utc::now(), Money::new(4_000, eur));
/// let booking = Booking::from_new(new, chrono::Utc::now());
/// assert_eq!(booking.attribution, Attribution::Unattributed);
/// assert_eq!(booking.version, 0);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Booking {
    /// Identifier.
    pub id: BookingId,
    /// The host's human booking reference (`BK-1042`).
    pub code: String,
    /// Current status.
    pub status: BookingStatus,
    /// The contact details entered with the booking.
    pub contact: Profile,
    /// When the booked activity starts.
    pub starts_at: DateTime<Utc>,
    /// When it ends, if known.
    pub ends_at: Option<DateTime<Utc>>,
    /// Total price.
    pub total: Money,
    /// Amount paid so far, in the same currency.
    pub paid: Money,
    /// When the booking was recorded in the directory.
    pub created_at: DateTime<Utc>,
    /// Which customer it belongs to, if any.
    pub attribution: Attribution,
    /// The customer staff detached it from; attribution never re-attaches it there.
    pub detached_from: Option<CustomerId>,
    /// Optimistic concurrency version: 0 before the first commit, then +1 per commit.
    pub version: u64,
}

impl Booking {
    /// An unattributed, not yet stored booking (version 0) from a host's [`NewBooking`].
    ///
    /// # Examples
    ///
    /// ```
    /// use customer_directory::{Booking, BookingStatus, Currency, Money, NewBooking, Profile};
    /// let new = NewBooking::new("A1", BookingStatus::PENDING, Profile::default(),
    ///     chrono::Utc::now(), Money::zero(Currency::parse("EUR")?));
    /// assert_eq!(Booking::from_new(new, chrono::Utc::now()).code, "A1");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn from_new(new: NewBooking, created_at: DateTime<Utc>) -> Self {
        Self {
            id: BookingId::new(),
            code: new.code,
            status: new.status,
            contact: new.contact,
            starts_at: new.starts_at,
            ends_at: new.ends_at,
            total: new.total,
            paid: new.paid,
            created_at,
            attribution: Attribution::Unattributed,
            detached_from: None,
            version: 0,
        }
    }
}

/// A booking the host has just taken, to be recorded with
/// [`Directory::record_booking`](crate::service::directory::Directory::record_booking).
///
/// # Examples
///
/// ```
/// use customer_directory::{BookingStatus, Currency, Money, NewBooking, Profile};
/// let eur = Currency::parse("EUR")?;
/// let mut booking = NewBooking::new("BK-7", BookingStatus::CONFIRMED, Profile::default(),
///     chrono::Utc::now(), Money::new(90_00, eur));
/// booking.paid = Money::new(30_00, eur);
/// assert_eq!(booking.paid.currency(), booking.total.currency());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewBooking {
    /// The host's human booking reference: not blank, at most
    /// [`BOOKING_CODE_MAX_CHARS`](crate::limits::BOOKING_CODE_MAX_CHARS) characters.
    pub code: String,
    /// Status at the time of recording.
    pub status: BookingStatus,
    /// Contact details as entered.
    pub contact: Profile,
    /// Start of the booked activity.
    pub starts_at: DateTime<Utc>,
    /// End of the booked activity, if known.
    pub ends_at: Option<DateTime<Utc>>,
    /// Total price.
    pub total: Money,
    /// Paid so far (defaults to zero in the total's currency).
    pub paid: Money,
}

impl NewBooking {
    /// A booking with nothing paid yet and no end time.
    ///
    /// # Examples
    ///
    /// ```
    /// use customer_directory::{BookingStatus, Currency, Money, NewBooking, Profile};
    /// let new = NewBooking::new("BK-1", BookingStatus::PAID, Profile::default(),
    ///     chrono::Utc::now(), Money::new(10_00, Currency::parse("USD")?));
    /// assert_eq!(new.paid.minor_units(), 0);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn new(
        code: impl Into<String>,
        status: BookingStatus,
        contact: Profile,
        starts_at: DateTime<Utc>,
        total: Money,
    ) -> Self {
        Self {
            code: code.into(),
            status,
            contact,
            starts_at,
            ends_at: None,
            total,
            paid: Money::zero(total.currency()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn custom_statuses_normalise_and_compare_with_built_ins() {
        assert_eq!(
            BookingStatus::new("  Confirmed "),
            Ok(BookingStatus::CONFIRMED)
        );
        assert_ne!(
            BookingStatus::new("confirmed!").unwrap(),
            BookingStatus::CONFIRMED
        );
        assert!(BookingStatus::new(&"x".repeat(65)).is_err());
        assert!(
            BookingStatus::new("paid\n").is_ok(),
            "trailing newline is trimmed"
        );
        assert!(BookingStatus::new("pa\nid").is_err());
    }

    #[test]
    fn an_over_long_code_is_a_problem_naming_its_length() {
        let eur = crate::values::money::Currency::parse("EUR").unwrap();
        let max = crate::limits::BOOKING_CODE_MAX_CHARS;
        let at_limit = NewBooking::new(
            "ß".repeat(max),
            BookingStatus::PAID,
            Profile::default(),
            Utc::now(),
            Money::zero(eur),
        );
        assert!(at_limit.problems().is_empty());
        let over = NewBooking {
            code: "ß".repeat(max + 1),
            ..at_limit
        };
        assert_eq!(
            over.problems(),
            [BookingProblem::TooLong(crate::limits::TooLong {
                input: crate::limits::Input::BookingCode,
                length: max + 1,
                max,
            })]
        );
    }

    #[test]
    fn status_serde_validates() {
        assert_eq!(
            serde_json::from_str::<BookingStatus>("\"PAID\"").unwrap(),
            BookingStatus::PAID
        );
        assert!(serde_json::from_str::<BookingStatus>("\"\"").is_err());
    }
}

/// One thing wrong with a [`NewBooking`].
///
/// # Examples
///
/// ```
/// use customer_directory::records::BookingProblem;
/// use customer_directory::{BookingStatus, Currency, Money, NewBooking, Profile};
/// let mut booking = NewBooking::new(" ", BookingStatus::PAID, Profile::default(),
///     chrono::Utc::now(), Money::zero(Currency::parse("EUR")?));
/// booking.paid = Money::zero(Currency::parse("USD")?);
/// let problems = booking.problems();
/// assert_eq!(problems.len(), 2);
/// assert_eq!(problems[0], BookingProblem::EmptyCode);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BookingProblem {
    /// The booking reference is blank.
    #[error("the booking code is empty")]
    EmptyCode,
    /// The amount paid is in another currency than the total.
    #[error("paid is in {paid} but the total is in {total}")]
    PaidCurrencyDiffers {
        /// The total's currency.
        total: crate::values::money::Currency,
        /// The paid amount's currency.
        paid: crate::values::money::Currency,
    },
    /// The end time is before the start time.
    #[error("the booking ends before it starts")]
    EndsBeforeStart,
    /// The booking code is longer than
    /// [`BOOKING_CODE_MAX_CHARS`](crate::limits::BOOKING_CODE_MAX_CHARS).
    #[error(transparent)]
    TooLong(crate::limits::TooLong),
}

impl NewBooking {
    /// Every problem with this booking; empty when it can be recorded.
    ///
    /// # Examples
    ///
    /// ```
    /// use customer_directory::{BookingStatus, Currency, Money, NewBooking, Profile};
    /// let booking = NewBooking::new("BK-1", BookingStatus::PAID, Profile::default(),
    ///     chrono::Utc::now(), Money::zero(Currency::parse("EUR")?));
    /// assert!(booking.problems().is_empty());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn problems(&self) -> Vec<BookingProblem> {
        let mut problems = Vec::new();
        if self.code.trim().is_empty() {
            problems.push(BookingProblem::EmptyCode);
        }
        if let Err(too_long) =
            crate::limits::TooLong::check(crate::limits::Input::BookingCode, &self.code)
        {
            problems.push(BookingProblem::TooLong(too_long));
        }
        if self.paid.currency() != self.total.currency() {
            problems.push(BookingProblem::PaidCurrencyDiffers {
                total: self.total.currency(),
                paid: self.paid.currency(),
            });
        }
        if self.ends_at.is_some_and(|end| end < self.starts_at) {
            problems.push(BookingProblem::EndsBeforeStart);
        }
        problems
    }
}
