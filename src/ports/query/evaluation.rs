//! What stores evaluate for a query: the normalised search text ([`SearchTerms`]), the
//! columns derived from a customer ([`SearchColumns`]) and from its bookings
//! ([`CustomerStats`]), sort keys and positions ([`SortValue`], [`SortPosition`]) and the
//! rows a store answers with ([`SearchHit`]), with the integer keys the SQL adapters keep.
//!
//! Separate from the query's builder because adapters depend on these values, not on how a
//! query is put together; this file imports nothing else of the query.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use crate::records::booking::Booking;
use crate::records::customer::Customer;
use crate::values::booking_status::BookingStatus;
use crate::values::ids::CustomerId;
use crate::values::money::Currency;
use crate::values::text::CountryCode;
use crate::values::text::sort_form;

/// A time as the integer sort keys and the SQL columns use: nanoseconds since 1970,
/// saturating outside the years 1677 to 2262.
pub(crate) fn time_key(at: DateTime<Utc>) -> i64 {
    at.timestamp_nanos_opt().unwrap_or(if at.timestamp() < 0 {
        i64::MIN
    } else {
        i64::MAX
    })
}

/// The last-booking key of a customer: [`NO_BOOKING_KEY`] without bookings, else the start of
/// the latest one (never equal to [`NO_BOOKING_KEY`]).
pub(crate) fn last_booking_key(last: Option<DateTime<Utc>>) -> i64 {
    last.map_or(NO_BOOKING_KEY, |at| time_key(at).max(NO_BOOKING_KEY + 1))
}

/// The last-booking key of a customer without bookings: before every real booking (and a
/// plain integer literal in SQL, unlike `i64::MIN`).
pub(crate) const NO_BOOKING_KEY: i64 = i64::MIN + 1;

/// The normalised form of a query's search text, as stores match it.
///
/// # Examples
///
/// ```
/// use customer_directory::ports::store::SearchTerms;
/// let terms = SearchTerms::of(" +44 (20) 7946 ").unwrap();
/// assert_eq!(terms.digits.as_deref(), Some("44207946"));
/// assert!(SearchTerms::of("   ").is_none());
/// assert_eq!(SearchTerms::of("NÚÑEZ").unwrap().folded, "nunez");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SearchTerms {
    /// The text, accents removed, case folded and white space collapsed: a customer matches
    /// when its [`SearchColumns::search_text`] contains it.
    pub folded: String,
    /// When the text looks like a phone number (only digits, spaces and `+ - ( ) . /`, at
    /// least 3 digits): its digits, which also match when the search text contains them.
    pub digits: Option<String>,
}

impl SearchTerms {
    /// The terms of `text`; `None` when it has nothing to search for.
    #[must_use]
    pub fn of(text: &str) -> Option<Self> {
        let folded = sort_form(text);
        if folded.is_empty() {
            return None;
        }
        let phone_like = text
            .trim()
            .chars()
            .all(|c| c.is_ascii_digit() || " +-()./".contains(c));
        let digits: String = text.chars().filter(char::is_ascii_digit).collect();
        let digits = (phone_like && digits.len() >= 3).then_some(digits);
        Some(Self { folded, digits })
    }

    /// Whether a customer with this [`SearchColumns::search_text`] matches.
    ///
    /// # Examples
    ///
    /// ```
    /// use customer_directory::ports::store::SearchTerms;
    /// assert!(SearchTerms::of("SIL").unwrap().matched_by("ana silva\nana@example.com"));
    /// ```
    #[must_use]
    pub fn matched_by(&self, search_text: &str) -> bool {
        search_text.contains(&self.folded)
            || self
                .digits
                .as_ref()
                .is_some_and(|digits| search_text.contains(digits.as_str()))
    }
}

/// The values a store derives from a customer record to search and sort on. The SQL
/// adapters keep them as indexed columns, rewritten with the record on every commit.
///
/// # Examples
///
/// ```
/// use customer_directory::{Customer, EmailAddress, PersonName, Profile};
/// use customer_directory::ports::store::SearchColumns;
/// let profile = Profile {
///     given_name: Some(PersonName::parse("Élodie")?),
///     family_name: Some(PersonName::parse("Núñez")?),
///     email: Some(EmailAddress::parse("E.Nunez@Example.com")?),
///     ..Profile::default()
/// };
/// let columns = SearchColumns::of(&Customer::new(profile, chrono::Utc::now()));
/// assert_eq!(columns.sort_name, "nunez elodie");
/// assert_eq!(columns.initial, "n");
/// assert!(columns.search_text.contains("e.nunez@example.com"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SearchColumns {
    /// What text search looks in, one value per line, each accents removed and case folded:
    /// given, family and display name, given + family name, the email and every alias, the
    /// phone in E.164 form and as digits only.
    pub search_text: String,
    /// The name sort key: family name then given name; else the display name; else the
    /// given name; else empty. Accents removed, case folded.
    pub sort_name: String,
    /// The first character of [`sort_name`](Self::sort_name), or empty: what the first-letter
    /// filter compares.
    pub initial: String,
    /// The address's country code.
    pub country: Option<CountryCode>,
}

impl SearchColumns {
    /// The columns of `customer`.
    #[must_use]
    pub fn of(customer: &Customer) -> Self {
        let profile = &customer.profile;
        let given = profile.given_name.as_ref().map(|n| sort_form(n.as_str()));
        let family = profile.family_name.as_ref().map(|n| sort_form(n.as_str()));
        let display = profile.display_name.as_ref().map(|n| sort_form(n.as_str()));
        let mut lines: Vec<String> = Vec::new();
        lines.extend(given.iter().cloned());
        lines.extend(family.iter().cloned());
        lines.extend(display.iter().cloned());
        if let (Some(given), Some(family)) = (&given, &family) {
            lines.push(format!("{given} {family}"));
        }
        for email in profile.email.iter().chain(&customer.aliases) {
            lines.push(sort_form(email.as_str()));
        }
        if let Some(phone) = &profile.phone {
            lines.push(phone.e164().to_owned());
            lines.push(phone.e164().chars().filter(char::is_ascii_digit).collect());
        }
        let sort_name = match (&family, &given, &display) {
            (Some(family), Some(given), _) => format!("{family} {given}"),
            (Some(family), None, _) => family.clone(),
            (None, _, Some(display)) => display.clone(),
            (None, Some(given), None) => given.clone(),
            (None, None, None) => String::new(),
        };
        let initial = sort_name
            .chars()
            .next()
            .map(String::from)
            .unwrap_or_default();
        Self {
            search_text: lines.join("\n"),
            sort_name,
            initial,
            country: profile.address.country,
        }
    }
}

/// The first-letter filter's key for `letter`: its first character once accents are removed
/// and case folded (`É` gives `e`); empty for a character that folds to nothing.
pub(crate) fn initial_key(letter: char) -> String {
    sort_form(&letter.to_string())
        .chars()
        .next()
        .map(String::from)
        .unwrap_or_default()
}

/// What a store derives from a customer's bookings (primary and related): the SQL adapters
/// keep these as columns and a per-currency table. A commit adding bookings adds their
/// statistics to the customer's; one that rewrites bookings (moving, cancelling or
/// re-dating them) recomputes the statistics of the customers they leave and join.
///
/// # Examples
///
/// ```
/// use customer_directory::{Booking, BookingStatus, Currency, Money, NewBooking, Profile};
/// use customer_directory::ports::store::CustomerStats;
/// let eur = Currency::parse("EUR")?;
/// let now = chrono::Utc::now();
/// let paid = Booking::from_new(NewBooking::new("A", BookingStatus::PAID, Profile::default(), now, Money::new(40_00, eur)), now);
/// let cancelled = Booking::from_new(NewBooking::new("B", BookingStatus::CANCELLED, Profile::default(), now, Money::new(99_00, eur)), now);
/// let stats = CustomerStats::of([&paid, &cancelled]);
/// assert_eq!(stats.booking_count, 2);
/// assert_eq!(stats.total_in(eur), 40_00);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct CustomerStats {
    /// How many bookings, cancelled ones included.
    pub booking_count: u64,
    /// The start of the latest booking.
    pub last_booking: Option<DateTime<Utc>>,
    /// Per currency, the sum of the totals of bookings that are not cancelled, in minor
    /// units (saturating instead of overflowing).
    pub totals: BTreeMap<Currency, i64>,
}

impl CustomerStats {
    /// The statistics of these bookings.
    pub fn of<'a>(bookings: impl IntoIterator<Item = &'a Booking>) -> Self {
        let mut stats = Self::default();
        for booking in bookings {
            stats.booking_count = stats.booking_count.saturating_add(1);
            stats.last_booking = stats.last_booking.max(Some(booking.starts_at));
            if booking.status != BookingStatus::CANCELLED {
                let sum = stats.totals.entry(booking.total.currency()).or_insert(0);
                *sum = sum.saturating_add(booking.total.minor_units());
            }
        }
        stats
    }

    /// The total in `currency` (0 when no counted booking used it).
    #[must_use]
    pub fn total_in(&self, currency: Currency) -> i64 {
        self.totals.get(&currency).copied().unwrap_or(0)
    }
}

/// A sort key value: text for the name sort, an integer for the others (times in
/// nanoseconds since 1970, saturating outside the years 1677 to 2262; counts, saturating at
/// `i64::MAX`; minor units). Integers order before text.
/// [`CustomerQuery::sort_value`](crate::ports::query::builder::CustomerQuery::sort_value)
/// computes it.
///
/// # Examples
///
/// ```
/// use customer_directory::ports::store::SortValue;
/// assert!(SortValue::Int(i64::MAX) < SortValue::Text(String::new()));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SortValue {
    /// An integer key.
    Int(i64),
    /// A text key, compared byte by byte (UTF-8).
    Text(String),
}

/// Where a row lies in a query's order: its sort key, then its id.
///
/// # Examples
///
/// ```
/// use customer_directory::CustomerId;
/// use customer_directory::ports::store::{SortPosition, SortValue};
/// let (a, b) = (CustomerId::new(), CustomerId::new());
/// assert!(SortPosition::new(SortValue::Int(1), b) < SortPosition::new(SortValue::Int(2), a));
/// assert!(SortPosition::new(SortValue::Int(1), a) < SortPosition::new(SortValue::Int(1), b));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SortPosition {
    /// The sort key's value.
    pub value: SortValue,
    /// The customer: the tie-breaker.
    pub id: CustomerId,
}

impl SortPosition {
    /// A position.
    #[must_use]
    pub fn new(value: SortValue, id: CustomerId) -> Self {
        Self { value, id }
    }
}

/// One row of a search: the customer and its position in the query's order, with the sort
/// key as the store read it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SearchHit {
    /// The customer.
    pub customer: Customer,
    /// Its position.
    pub position: SortPosition,
}

impl SearchHit {
    /// A row, for store implementations.
    #[must_use]
    pub fn new(customer: Customer, position: SortPosition) -> Self {
        Self { customer, position }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phone_like_text_also_matches_by_digits() {
        let terms = SearchTerms::of("(415) 555-0132").unwrap();
        assert!(terms.matched_by("ana\n+14155550132\n14155550132"));
        assert!(SearchTerms::of("12").unwrap().digits.is_none());
        assert!(SearchTerms::of("ana 123").unwrap().digits.is_none());
    }

    #[test]
    fn initial_keys_fold_accents_and_case() {
        assert_eq!(initial_key('É'), "e");
        assert_eq!(initial_key('z'), "z");
        assert_eq!(initial_key(' '), "");
    }
}
