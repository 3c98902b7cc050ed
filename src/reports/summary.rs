//! What a profile page shows at a glance: counts, value per currency, first and last
//! booking, and the booking history with what is paid and what is due.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::records::booking::Booking;
use crate::records::customer::Customer;
use crate::values::booking_status::BookingStatus;
use crate::values::ids::{BookingId, CustomerId};
use crate::values::money::{Currency, Money, MoneyError};

/// Amounts of one currency: booked, paid, and still due.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CurrencyTotals {
    /// The currency of all three amounts.
    pub currency: Currency,
    /// Sum of booking totals.
    pub total: Money,
    /// Sum of amounts paid.
    pub paid: Money,
    /// `total - paid`.
    pub due: Money,
}

impl CurrencyTotals {
    fn zero(currency: Currency) -> Self {
        Self {
            currency,
            total: Money::zero(currency),
            paid: Money::zero(currency),
            due: Money::zero(currency),
        }
    }

    fn add(&mut self, line: &BookingLine) -> Result<(), MoneyError> {
        self.total = self.total.checked_add(line.total)?;
        self.paid = self.paid.checked_add(line.paid)?;
        self.due = self.due.checked_add(line.due)?;
        Ok(())
    }
}

/// One booking as a statement or profile page lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BookingLine {
    /// The booking.
    pub booking: BookingId,
    /// The host's booking reference.
    pub code: String,
    /// Its status.
    pub status: BookingStatus,
    /// When the booked activity starts.
    pub starts_at: DateTime<Utc>,
    /// Total price.
    pub total: Money,
    /// Paid so far.
    pub paid: Money,
    /// Still to pay: `total - paid` (negative when overpaid).
    pub due: Money,
    /// Whether the amounts count towards totals (cancelled bookings are listed, not summed).
    pub counted: bool,
}

impl BookingLine {
    /// The line for `booking`.
    ///
    /// # Errors
    ///
    /// [`MoneyError`] when `paid` is in another currency than `total` or the difference
    /// overflows.
    pub fn new(booking: &Booking) -> Result<Self, MoneyError> {
        let negated_paid = booking
            .paid
            .minor_units()
            .checked_neg()
            .ok_or(MoneyError::Overflow)?;
        let due = booking
            .total
            .checked_add(Money::new(negated_paid, booking.paid.currency()))?;
        Ok(Self {
            booking: booking.id,
            code: booking.code.clone(),
            status: booking.status.clone(),
            starts_at: booking.starts_at,
            total: booking.total,
            paid: booking.paid,
            due,
            counted: booking.status != BookingStatus::CANCELLED,
        })
    }
}

/// Sums the counted lines per currency, in currency-code order.
pub(crate) fn totals_of(lines: &[BookingLine]) -> Result<Vec<CurrencyTotals>, MoneyError> {
    let mut totals: BTreeMap<Currency, CurrencyTotals> = BTreeMap::new();
    for line in lines.iter().filter(|line| line.counted) {
        let currency = line.total.currency();
        totals
            .entry(currency)
            .or_insert_with(|| CurrencyTotals::zero(currency))
            .add(line)?;
    }
    Ok(totals.into_values().collect())
}

/// A profile's summary: created, booking count, value per currency, first and last
/// booking, last login, and the booking history.
///
/// Cancelled bookings are counted and listed but their amounts are not part of the
/// totals: a cancelled booking is not value the customer brought.
///
/// # Examples
///
/// ```
/// use customer_directory::{Booking, BookingStatus, Currency, Customer, Money, NewBooking, Profile};
/// use customer_directory::reports::summary::CustomerSummary;
/// let now = chrono::Utc::now();
/// let eur = Currency::parse("EUR")?;
/// let customer = Customer::new(Profile::default(), now);
/// let mut new = NewBooking::new("BK-1", BookingStatus::PAID, Profile::default(), now, Money::new(80_00, eur));
/// new.paid = Money::new(30_00, eur);
/// let summary = CustomerSummary::new(&customer, &[Booking::from_new(new, now)], None)?;
/// assert_eq!(summary.booking_count, 1);
/// assert_eq!(summary.totals[0].due, Money::new(50_00, eur));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerSummary {
    /// The customer.
    pub customer: CustomerId,
    /// When the profile was created.
    pub created_at: DateTime<Utc>,
    /// How many bookings it has, cancelled ones included.
    pub booking_count: usize,
    /// Value per currency of the bookings that are not cancelled.
    pub totals: Vec<CurrencyTotals>,
    /// Start of the earliest booking.
    pub first_booking: Option<DateTime<Utc>>,
    /// Start of the latest booking.
    pub last_booking: Option<DateTime<Utc>>,
    /// The last time the customer logged in to their account, if they have one.
    pub last_login: Option<DateTime<Utc>>,
    /// Every booking, by start time then id.
    pub history: Vec<BookingLine>,
}

impl CustomerSummary {
    /// Summarises `customer` and its `bookings` (in any order).
    ///
    /// # Errors
    ///
    /// [`MoneyError`] when a booking mixes currencies or an amount overflows.
    pub fn new(
        customer: &Customer,
        bookings: &[Booking],
        last_login: Option<DateTime<Utc>>,
    ) -> Result<Self, MoneyError> {
        let mut history = bookings
            .iter()
            .map(BookingLine::new)
            .collect::<Result<Vec<_>, _>>()?;
        history.sort_by_key(|line| (line.starts_at, line.booking));
        Ok(Self {
            customer: customer.id,
            created_at: customer.created_at,
            booking_count: history.len(),
            totals: totals_of(&history)?,
            first_booking: history.first().map(|line| line.starts_at),
            last_booking: history.last().map(|line| line.starts_at),
            last_login,
            history,
        })
    }

    /// The totals of one currency, if any counted booking used it.
    #[must_use]
    pub fn total_in(&self, currency: Currency) -> Option<&CurrencyTotals> {
        self.totals
            .iter()
            .find(|totals| totals.currency == currency)
    }
}
