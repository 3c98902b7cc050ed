//! Searching the directory: a [`CustomerQuery`] (text search, filters, sort), the rows a
//! store answers with ([`SearchHit`]), and keyset pagination by an opaque [`Cursor`].
//!
//! The rules live here, as pure functions, so every adapter answers alike:
//! [`MemoryStore`](crate::adapters::memory::MemoryStore) evaluates them directly, and the SQL adapters
//! translate the same rules into SQL over columns they keep up to date on every commit
//! ([`SearchColumns`] and [`CustomerStats`] say what those columns hold).
//!
//! [`Cursor`] states what keyset pagination guarantees.

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::records::booking::Booking;
use crate::records::customer::{Customer, CustomerStatus};
use crate::values::booking_status::BookingStatus;
use crate::values::ids::{CustomerId, ListId};
use crate::values::money::Currency;
use crate::values::text::CountryCode;
use crate::values::text::sort_form;

/// The most rows one page may hold; larger requests are cut to it.
pub const MAX_PAGE_SIZE: usize = 1_000;

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

/// A customer's status as a query filters it: [`CustomerStatus`] without the survivor's id.
///
/// # Examples
///
/// ```
/// use customer_directory::{CustomerId, CustomerStatus};
/// use customer_directory::ports::StatusKind;
/// assert_eq!(StatusKind::of(CustomerStatus::MergedInto(CustomerId::new())), StatusKind::Merged);
/// assert_eq!(StatusKind::Archived.as_str(), "archived");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum StatusKind {
    /// [`CustomerStatus::Active`].
    Active,
    /// [`CustomerStatus::Archived`].
    Archived,
    /// [`CustomerStatus::Blocked`].
    Blocked,
    /// [`CustomerStatus::Redacted`].
    Redacted,
    /// [`CustomerStatus::MergedInto`], whatever the survivor.
    Merged,
}

impl StatusKind {
    /// What a query lists unless told otherwise: active and blocked customers. Archived ones
    /// are hidden by default; redacted and merged ones are listed only when asked for.
    pub const LISTED: [Self; 2] = [Self::Active, Self::Blocked];

    /// Every status: what [`CustomerQuery::any_status`] lists.
    pub const ALL: [Self; 5] = [
        Self::Active,
        Self::Archived,
        Self::Blocked,
        Self::Redacted,
        Self::Merged,
    ];

    /// The kind of `status`.
    ///
    /// # Examples
    ///
    /// ```
    /// use customer_directory::CustomerStatus;
    /// use customer_directory::ports::StatusKind;
    /// assert_eq!(StatusKind::of(CustomerStatus::Blocked), StatusKind::Blocked);
    /// ```
    #[must_use]
    pub fn of(status: CustomerStatus) -> Self {
        match status {
            CustomerStatus::Active => Self::Active,
            CustomerStatus::Archived => Self::Archived,
            CustomerStatus::Blocked => Self::Blocked,
            CustomerStatus::Redacted => Self::Redacted,
            CustomerStatus::MergedInto(_) => Self::Merged,
        }
    }

    /// The lower-case name (`active`, `archived`, `blocked`, `redacted`, `merged`): also
    /// what the SQL adapters store in their status column.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(customer_directory::ports::StatusKind::Merged.as_str(), "merged");
    /// ```
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Archived => "archived",
            Self::Blocked => "blocked",
            Self::Redacted => "redacted",
            Self::Merged => "merged",
        }
    }
}

/// A half-open time range `[from, until)`; a missing bound is open.
///
/// # Examples
///
/// ```
/// use chrono::{TimeZone, Utc};
/// use customer_directory::ports::TimeRange;
/// let june = TimeRange::new(Utc.with_ymd_and_hms(2026, 6, 1, 0, 0, 0).unwrap(), Utc.with_ymd_and_hms(2026, 7, 1, 0, 0, 0).unwrap());
/// assert!(june.contains(Utc.with_ymd_and_hms(2026, 6, 30, 23, 59, 59).unwrap()));
/// assert!(!june.contains(Utc.with_ymd_and_hms(2026, 7, 1, 0, 0, 0).unwrap()));
/// assert!(TimeRange::default().is_unbounded());
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TimeRange {
    /// The first instant included.
    pub from: Option<DateTime<Utc>>,
    /// The first instant no longer included.
    pub until: Option<DateTime<Utc>>,
}

impl TimeRange {
    /// `[from, until)`.
    ///
    /// # Examples
    ///
    /// ```
    /// let now = chrono::Utc::now();
    /// assert!(customer_directory::ports::TimeRange::new(now, now).until.is_some());
    /// ```
    #[must_use]
    pub fn new(from: DateTime<Utc>, until: DateTime<Utc>) -> Self {
        Self {
            from: Some(from),
            until: Some(until),
        }
    }

    /// Everything from `from` on.
    ///
    /// # Examples
    ///
    /// ```
    /// let now = chrono::Utc::now();
    /// assert!(customer_directory::ports::TimeRange::since(now).contains(now));
    /// ```
    #[must_use]
    pub fn since(from: DateTime<Utc>) -> Self {
        Self {
            from: Some(from),
            until: None,
        }
    }

    /// Everything before `until`.
    ///
    /// # Examples
    ///
    /// ```
    /// let now = chrono::Utc::now();
    /// assert!(!customer_directory::ports::TimeRange::before(now).contains(now));
    /// ```
    #[must_use]
    pub fn before(until: DateTime<Utc>) -> Self {
        Self {
            from: None,
            until: Some(until),
        }
    }

    /// Whether neither bound is set.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(customer_directory::ports::TimeRange::default().is_unbounded());
    /// ```
    #[must_use]
    pub fn is_unbounded(&self) -> bool {
        self.from.is_none() && self.until.is_none()
    }

    /// Whether `at` lies in the range (compared at nanosecond precision, times outside the
    /// years 1677 to 2262 saturating, exactly as the SQL adapters compare them).
    ///
    /// # Examples
    ///
    /// ```
    /// let now = chrono::Utc::now();
    /// assert!(customer_directory::ports::TimeRange::default().contains(now));
    /// ```
    #[must_use]
    pub fn contains(&self, at: DateTime<Utc>) -> bool {
        self.contains_key(time_key(at))
    }

    pub(crate) fn contains_key(&self, key: i64) -> bool {
        self.from.is_none_or(|from| key >= time_key(from))
            && self.until.is_none_or(|until| key < time_key(until))
    }
}

/// An inclusive range of counts; a missing bound is open.
///
/// # Examples
///
/// ```
/// use customer_directory::ports::CountRange;
/// assert!(CountRange::between(2, 3).contains(3));
/// assert!(!CountRange::at_least(1).contains(0));
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct CountRange {
    /// The smallest count included.
    pub min: Option<u64>,
    /// The largest count included.
    pub max: Option<u64>,
}

impl CountRange {
    /// `min..=max`.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(customer_directory::ports::CountRange::between(1, 1).contains(1));
    /// ```
    #[must_use]
    pub fn between(min: u64, max: u64) -> Self {
        Self {
            min: Some(min),
            max: Some(max),
        }
    }

    /// `min..`.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(customer_directory::ports::CountRange::at_least(2).contains(5));
    /// ```
    #[must_use]
    pub fn at_least(min: u64) -> Self {
        Self {
            min: Some(min),
            max: None,
        }
    }

    /// `..=max`.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(customer_directory::ports::CountRange::at_most(0).contains(0));
    /// ```
    #[must_use]
    pub fn at_most(max: u64) -> Self {
        Self {
            min: None,
            max: Some(max),
        }
    }

    /// Whether `count` lies in the range.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(customer_directory::ports::CountRange::default().contains(u64::MAX));
    /// ```
    #[must_use]
    pub fn contains(&self, count: u64) -> bool {
        self.min.is_none_or(|min| count >= min) && self.max.is_none_or(|max| count <= max)
    }
}

/// What a query sorts by. Every sort ends with the customer id as the tie-breaker.
///
/// # Examples
///
/// ```
/// use customer_directory::Currency;
/// use customer_directory::ports::SortBy;
/// let by_value = SortBy::TotalValue(Currency::parse("EUR")?);
/// assert_ne!(by_value, SortBy::Name);
/// # Ok::<(), customer_directory::values::MoneyError>(())
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum SortBy {
    /// The name key ([`SearchColumns::sort_name`]): family name then given name, else the
    /// display name, else the given name; accents and case ignored. Customers without a name
    /// have an empty key and come first in ascending order.
    #[default]
    Name,
    /// When the customer was created.
    Created,
    /// The start of the customer's latest booking; customers without bookings come first in
    /// ascending order. As a [`SortValue`]: the start in nanoseconds since 1970 (at least
    /// `i64::MIN + 2`), or `i64::MIN + 1` without bookings.
    LastBooking,
    /// How many bookings the customer has (cancelled ones included, as in the summary).
    BookingCount,
    /// The value of the customer's bookings that are not cancelled, **in this currency**
    /// (minor units); bookings in other currencies are not converted and count as nothing,
    /// so a customer with no booking in it has the value 0.
    TotalValue(Currency),
}

impl SortBy {
    /// Whether the sort key is text (the name) rather than an integer.
    fn is_text(self) -> bool {
        matches!(self, Self::Name)
    }
}

/// Ascending or descending.
///
/// # Examples
///
/// ```
/// assert_eq!(customer_directory::ports::SortDirection::default(), customer_directory::ports::SortDirection::Ascending);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SortDirection {
    /// Smallest first (A to Z, oldest first); ties by increasing id.
    #[default]
    Ascending,
    /// Largest first; ties by decreasing id.
    Descending,
}

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
/// `i64::MAX`; minor units). Integers order before text. [`CustomerQuery::sort_value`]
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

/// A page of search results.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CustomerPage {
    /// The customers, in the query's order.
    pub customers: Vec<Customer>,
    /// Where the next page starts; `None` on the last page.
    pub next: Option<Cursor>,
}

/// Why a cursor was refused.
///
/// # Examples
///
/// ```
/// use customer_directory::ports::{Cursor, CursorError};
/// assert_eq!("not a cursor".parse::<Cursor>(), Err(CursorError::Malformed));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CursorError {
    /// The text is not a cursor this crate wrote.
    #[error("the page cursor is malformed")]
    Malformed,
    /// The cursor belongs to another query (other filters, sort or direction).
    #[error("the page cursor belongs to another query")]
    Mismatch,
}

/// Where the next page of a query starts: an opaque, URL-safe token (ASCII letters, digits,
/// `.` and `-`). It holds the last row's sort key and id and a fingerprint of the query, so
/// it is refused for another query.
///
/// # Order and pagination
///
/// Rows are ordered by the sort key, then by customer id, both in the query's direction, so
/// the order is total: no two rows share a position. A page ends with a [`Cursor`] holding
/// the last row's sort key and id, and the next page starts **strictly after** that
/// position. Nothing is held on the server between pages. What this guarantees while
/// customers and bookings are recorded between pages:
///
/// - a customer that matches the query on every page and whose sort key does not change is
///   listed exactly once, in order;
/// - a customer created (or starting to match) during the paging is listed only if its
///   position lies after the cursor when the next page is read;
/// - so sorting by creation time (which never changes) or by name (which a booking changes
///   only when it fills in a name the profile lacked), recording bookings between pages
///   repeats and skips no customer whose name is unchanged and that keeps matching;
/// - a key that changes moves its customer: sorting by a booking statistic (last booking,
///   booking count, total value), which grows as bookings are recorded, a customer whose
///   key grows may be listed twice in ascending order (never skipped) and may be skipped in
///   descending order (never listed twice); a key that shrinks (a cancellation, a booking
///   moved away, a rename) does the opposite.
///
/// # Examples
///
/// ```
/// use customer_directory::ports::{Cursor, CursorError};
/// use customer_directory::CustomerQuery;
/// assert_eq!(Cursor::parse("c2.zz"), Err(CursorError::Malformed));
/// # let _ = CustomerQuery::new();
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Cursor {
    fingerprint: u64,
    position: SortPosition,
}

/// The longest cursor text accepted, in bytes.
const MAX_CURSOR_BYTES: usize = crate::limits::CURSOR_MAX_BYTES;

/// The cursor text's format and version, its first field. `c2` fingerprints the query's
/// [canonical bytes](CustomerQuery::canonical_bytes); a cursor of another version (`c1`
/// hashed the query's `Debug` form) is malformed, and the listing starts again from the
/// first page.
const CURSOR_FORMAT: &str = "c2";

impl Cursor {
    /// Reads a cursor from its text (see [`Display`](fmt::Display)).
    ///
    /// # Errors
    ///
    /// [`CursorError::Malformed`] for any text this crate did not write.
    pub fn parse(text: &str) -> Result<Self, CursorError> {
        if text.len() > MAX_CURSOR_BYTES {
            return Err(CursorError::Malformed);
        }
        let mut parts = text.split('.');
        let (Some(CURSOR_FORMAT), Some(fingerprint), Some(kind), Some(value), Some(id), None) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        ) else {
            return Err(CursorError::Malformed);
        };
        if fingerprint.len() != 16 {
            return Err(CursorError::Malformed);
        }
        let fingerprint =
            u64::from_str_radix(fingerprint, 16).map_err(|_| CursorError::Malformed)?;
        let value = match kind {
            "i" => SortValue::Int(value.parse().map_err(|_| CursorError::Malformed)?),
            "t" => SortValue::Text(
                hex::decode(value)
                    .ok()
                    .and_then(|bytes| String::from_utf8(bytes).ok())
                    .ok_or(CursorError::Malformed)?,
            ),
            _ => return Err(CursorError::Malformed),
        };
        let id = id.parse().map_err(|_| CursorError::Malformed)?;
        Ok(Self {
            fingerprint,
            position: SortPosition { value, id },
        })
    }

    /// The position of the last row of the page this cursor ends.
    #[must_use]
    pub fn position(&self) -> &SortPosition {
        &self.position
    }
}

impl fmt::Display for Cursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{CURSOR_FORMAT}.{:016x}.", self.fingerprint)?;
        match &self.position.value {
            SortValue::Int(value) => write!(f, "i.{value}")?,
            SortValue::Text(text) => write!(f, "t.{}", hex::encode(text))?,
        }
        write!(f, ".{}", self.position.id)
    }
}

impl FromStr for Cursor {
    type Err = CursorError;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::parse(text)
    }
}

impl Serialize for Cursor {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Cursor {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        Self::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// A search of the directory: text, filters (all of which must hold) and a sort.
///
/// Built with [`new`](Self::new) and the builder methods; the fields are public so that a
/// store can read them. By default it lists active and blocked customers by name, A to Z.
///
/// - **Text** ([`text`](Self::text)): a case- and accent-insensitive *substring* search in
///   the given, family and display name, the email and its aliases and the phone (see
///   [`SearchColumns::search_text`]); text that looks like a phone number also matches by
///   its digits, so `+44 20 7946` finds `+44207946…`.
/// - **Status** ([`statuses`](Self::statuses)): archived customers are hidden unless
///   asked for ([`include_archived`](Self::include_archived)); redacted and merged ones are
///   listed only when their [`StatusKind`] is named; [`any_status`](Self::any_status)
///   lists every customer the store holds (merged tombstones included).
/// - **First letter** ([`initial`](Self::initial)): the first character of the name sort
///   key (family name, else display name, else given name), accents and case ignored.
/// - **Claimed** ([`claimed`](Self::claimed)): whether an account claims the customer.
/// - **Ranges**: creation time and last booking start are half-open `[from, until)` (a
///   last-booking range never matches customers without bookings); the booking count range
///   is inclusive.
/// - **Custom field** ([`custom_field_equals`](Self::custom_field_equals)): the stored value
///   equals the given text exactly.
///
/// The text, the custom field key and its value are held to
/// [`SEARCH_TEXT_MAX_CHARS`](crate::limits::SEARCH_TEXT_MAX_CHARS),
/// [`CUSTOM_FIELD_KEY_MAX_CHARS`](crate::limits::CUSTOM_FIELD_KEY_MAX_CHARS) and
/// [`CUSTOM_FIELD_VALUE_MAX_CHARS`](crate::limits::CUSTOM_FIELD_VALUE_MAX_CHARS):
/// [`Directory::search`](crate::service::directory::Directory::search) and
/// [`Directory::count`](crate::service::directory::Directory::count) refuse a longer one with
/// [`Error::TooLong`](crate::service::error::Error::TooLong) before asking the store.
///
/// # Examples
///
/// ```
/// use customer_directory::ports::{CountRange, SortBy, SortDirection, StatusKind};
/// use customer_directory::CustomerQuery;
/// let query = CustomerQuery::new()
///     .text("silva")
///     .include_archived()
///     .booking_count_in(CountRange::at_least(1))
///     .sorted_by(SortBy::BookingCount, SortDirection::Descending);
/// assert!(query.statuses.contains(&StatusKind::Archived));
/// assert!(!query.statuses.contains(&StatusKind::Redacted));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct CustomerQuery {
    /// The search text; `None` (or text that folds to nothing) searches nothing.
    pub text: Option<String>,
    /// The statuses listed.
    pub statuses: BTreeSet<StatusKind>,
    /// Only customers whose address is in this country.
    pub country: Option<CountryCode>,
    /// Only customers whose name sort key starts with this letter (accents and case
    /// ignored).
    pub initial: Option<char>,
    /// Only customers an account claims (`true`) or that none claims (`false`).
    pub claimed: Option<bool>,
    /// Only members of this list.
    pub list: Option<ListId>,
    /// Only customers created in this range.
    pub created: TimeRange,
    /// Only customers whose latest booking starts in this range.
    pub last_booking: TimeRange,
    /// Only customers with this many bookings.
    pub booking_count: CountRange,
    /// Only customers whose custom field (key, value) has exactly this value.
    pub custom_field: Option<(String, String)>,
    /// The sort key.
    pub sort: SortBy,
    /// The sort direction.
    pub direction: SortDirection,
}

impl Default for CustomerQuery {
    fn default() -> Self {
        Self::new()
    }
}

impl CustomerQuery {
    /// Every active and blocked customer, by name.
    ///
    /// # Examples
    ///
    /// ```
    /// use customer_directory::CustomerQuery;
    /// use customer_directory::ports::SortBy;
    /// assert_eq!(CustomerQuery::new().sort, SortBy::Name);
    /// ```
    #[must_use]
    pub fn new() -> Self {
        Self {
            text: None,
            statuses: StatusKind::LISTED.into_iter().collect(),
            country: None,
            initial: None,
            claimed: None,
            list: None,
            created: TimeRange::default(),
            last_booking: TimeRange::default(),
            booking_count: CountRange::default(),
            custom_field: None,
            sort: SortBy::Name,
            direction: SortDirection::Ascending,
        }
    }

    /// Searches for `text` (see the [type documentation](Self)), at most
    /// [`SEARCH_TEXT_MAX_CHARS`](crate::limits::SEARCH_TEXT_MAX_CHARS) characters.
    #[must_use]
    pub fn text(mut self, text: impl Into<String>) -> Self {
        self.text = Some(text.into());
        self
    }

    /// Lists exactly these statuses.
    ///
    /// # Examples
    ///
    /// ```
    /// use customer_directory::CustomerQuery;
    /// use customer_directory::ports::StatusKind;
    /// let merged = CustomerQuery::new().statuses([StatusKind::Merged]);
    /// assert_eq!(merged.statuses.len(), 1);
    /// ```
    #[must_use]
    pub fn statuses(mut self, statuses: impl IntoIterator<Item = StatusKind>) -> Self {
        self.statuses = statuses.into_iter().collect();
        self
    }

    /// Lists every customer, whatever its status: active, archived, blocked, redacted and
    /// merged (the tombstone a merge leaves of each customer merged into another). With
    /// [`Directory::count`](crate::service::directory::Directory::count), it counts every customer record the
    /// store holds; deleted customers are gone and never listed.
    ///
    /// # Examples
    ///
    /// ```
    /// use customer_directory::CustomerQuery;
    /// use customer_directory::ports::StatusKind;
    /// let every = CustomerQuery::new().any_status();
    /// assert!(StatusKind::ALL.iter().all(|status| every.statuses.contains(status)));
    /// ```
    #[must_use]
    pub fn any_status(self) -> Self {
        self.statuses(StatusKind::ALL)
    }

    /// Lists archived customers too.
    #[must_use]
    pub fn include_archived(mut self) -> Self {
        self.statuses.insert(StatusKind::Archived);
        self
    }

    /// Only customers in `country`.
    #[must_use]
    pub fn country(mut self, country: CountryCode) -> Self {
        self.country = Some(country);
        self
    }

    /// Only customers whose name sort key starts with `letter`.
    #[must_use]
    pub fn initial(mut self, letter: char) -> Self {
        self.initial = Some(letter);
        self
    }

    /// Only claimed (`true`) or unclaimed (`false`) customers.
    #[must_use]
    pub fn claimed(mut self, claimed: bool) -> Self {
        self.claimed = Some(claimed);
        self
    }

    /// Only members of `list`.
    #[must_use]
    pub fn in_list(mut self, list: ListId) -> Self {
        self.list = Some(list);
        self
    }

    /// Only customers created in `range`.
    #[must_use]
    pub fn created_in(mut self, range: TimeRange) -> Self {
        self.created = range;
        self
    }

    /// Only customers whose latest booking starts in `range`.
    #[must_use]
    pub fn last_booking_in(mut self, range: TimeRange) -> Self {
        self.last_booking = range;
        self
    }

    /// Only customers whose booking count is in `range`.
    #[must_use]
    pub fn booking_count_in(mut self, range: CountRange) -> Self {
        self.booking_count = range;
        self
    }

    /// Only customers whose custom field `key` holds exactly `value`.
    #[must_use]
    pub fn custom_field_equals(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.custom_field = Some((key.into(), value.into()));
        self
    }

    /// Sorts by `sort` in `direction` (the id breaks ties, in the same direction).
    #[must_use]
    pub fn sorted_by(mut self, sort: SortBy, direction: SortDirection) -> Self {
        self.sort = sort;
        self.direction = direction;
        self
    }

    /// The normalised search text, if there is any.
    #[must_use]
    pub fn search_terms(&self) -> Option<SearchTerms> {
        self.text.as_deref().and_then(SearchTerms::of)
    }

    /// The first-letter filter's key (see [`SearchColumns::initial`]).
    #[must_use]
    pub fn initial_key(&self) -> Option<String> {
        self.initial.map(initial_key)
    }

    /// Whether `customer` (with these booking statistics, claimed by an account or not)
    /// passes every filter: the rule every store applies.
    ///
    /// # Examples
    ///
    /// ```
    /// use customer_directory::{Customer, CustomerQuery, CustomerStatus, Profile};
    /// use customer_directory::ports::store::CustomerStats;
    /// let mut customer = Customer::new(Profile::default(), chrono::Utc::now());
    /// let stats = CustomerStats::default();
    /// assert!(CustomerQuery::new().matches(&customer, &stats, false));
    /// customer.status = CustomerStatus::Archived;
    /// assert!(!CustomerQuery::new().matches(&customer, &stats, false));
    /// assert!(CustomerQuery::new().include_archived().matches(&customer, &stats, false));
    /// ```
    #[must_use]
    pub fn matches(&self, customer: &Customer, stats: &CustomerStats, claimed: bool) -> bool {
        if !self.statuses.contains(&StatusKind::of(customer.status)) {
            return false;
        }
        let profile = &customer.profile;
        if self.country.is_some() && profile.address.country != self.country {
            return false;
        }
        if self.claimed.is_some_and(|want| want != claimed) {
            return false;
        }
        if self
            .list
            .is_some_and(|list| !customer.records.lists.contains(&list))
        {
            return false;
        }
        if !self.created.contains(customer.created_at) {
            return false;
        }
        if !self.last_booking.is_unbounded()
            && (stats.last_booking.is_none()
                || !self
                    .last_booking
                    .contains_key(last_booking_key(stats.last_booking)))
        {
            return false;
        }
        if !self.booking_count.contains(stats.booking_count) {
            return false;
        }
        if let Some((key, value)) = &self.custom_field {
            if profile.custom_fields.get(key).map(|v| v.as_str()) != Some(value.as_str()) {
                return false;
            }
        }
        let terms = self.search_terms();
        let initial = self.initial_key();
        if terms.is_some() || initial.is_some() {
            let columns = SearchColumns::of(customer);
            if terms.is_some_and(|terms| !terms.matched_by(&columns.search_text)) {
                return false;
            }
            if initial.is_some_and(|initial| initial != columns.initial) {
                return false;
            }
        }
        true
    }

    /// The sort key of `customer` with these statistics.
    #[must_use]
    pub fn sort_value(&self, customer: &Customer, stats: &CustomerStats) -> SortValue {
        match self.sort {
            SortBy::Name => SortValue::Text(SearchColumns::of(customer).sort_name),
            SortBy::Created => SortValue::Int(time_key(customer.created_at)),
            SortBy::LastBooking => SortValue::Int(last_booking_key(stats.last_booking)),
            SortBy::BookingCount => {
                SortValue::Int(i64::try_from(stats.booking_count).unwrap_or(i64::MAX))
            }
            SortBy::TotalValue(currency) => SortValue::Int(stats.total_in(currency)),
        }
    }

    /// The position of `customer` in this query's order.
    #[must_use]
    pub fn position(&self, customer: &Customer, stats: &CustomerStats) -> SortPosition {
        SortPosition::new(self.sort_value(customer, stats), customer.id)
    }

    /// Compares two positions in this query's order (direction applied).
    #[must_use]
    pub fn compare(&self, a: &SortPosition, b: &SortPosition) -> Ordering {
        match self.direction {
            SortDirection::Ascending => a.cmp(b),
            SortDirection::Descending => b.cmp(a),
        }
    }

    /// Whether `position` comes strictly after `after` in this query's order.
    #[must_use]
    pub fn is_after(&self, position: &SortPosition, after: &SortPosition) -> bool {
        self.compare(position, after) == Ordering::Greater
    }

    /// Whether a position's value is of the kind this query sorts by. A store given a
    /// position of the other kind follows [`SortValue`]'s order: integers before text.
    #[must_use]
    pub fn fits(&self, value: &SortValue) -> bool {
        matches!(value, SortValue::Text(_)) == self.sort.is_text()
    }

    /// The cursor that continues this query after `position`.
    #[must_use]
    pub fn cursor_after(&self, position: SortPosition) -> Cursor {
        Cursor {
            fingerprint: self.fingerprint(),
            position,
        }
    }

    /// The position a cursor continues after, if the cursor was made for this query.
    ///
    /// # Errors
    ///
    /// [`CursorError::Mismatch`] when it belongs to another query (other filters, sort or
    /// direction).
    pub fn continue_after<'c>(&self, cursor: &'c Cursor) -> Result<&'c SortPosition, CursorError> {
        if cursor.fingerprint != self.fingerprint() || !self.fits(&cursor.position.value) {
            return Err(CursorError::Mismatch);
        }
        Ok(&cursor.position)
    }

    /// The fingerprint a cursor of this query carries: the first 8 bytes of the SHA-256 of
    /// [`canonical_bytes`](Self::canonical_bytes), big-endian.
    fn fingerprint(&self) -> u64 {
        let digest = Sha256::digest(self.canonical_bytes());
        let mut bytes = [0_u8; 8];
        bytes.copy_from_slice(&digest[..8]);
        u64::from_be_bytes(bytes)
    }

    /// The query as bytes, in the encoding of cursor format `c2`: every field in a fixed
    /// order, each as a tag byte, then `0` for no value or `1`, a big-endian `u64` length and
    /// the value's bytes. Texts are UTF-8; statuses, sorts and directions are fixed codes;
    /// country, currency and list are their displayed forms; instants are seconds and
    /// nanoseconds since 1970, big-endian. Two queries that list the same customers in the
    /// same order have the same bytes, and the bytes change only with this encoding (whose
    /// version is the cursor's format), never with a derive or a `Debug` form.
    fn canonical_bytes(&self) -> Vec<u8> {
        fn field(out: &mut Vec<u8>, tag: u8, value: Option<&[u8]>) {
            out.push(tag);
            match value {
                None => out.push(0),
                Some(bytes) => {
                    out.push(1);
                    out.extend_from_slice(&(bytes.len() as u64).to_be_bytes());
                    out.extend_from_slice(bytes);
                }
            }
        }
        fn instant(at: Option<DateTime<Utc>>) -> Option<Vec<u8>> {
            at.map(|at| {
                let mut bytes = at.timestamp().to_be_bytes().to_vec();
                bytes.extend_from_slice(&at.timestamp_subsec_nanos().to_be_bytes());
                bytes
            })
        }
        let status_code = |status: &StatusKind| match status {
            StatusKind::Active => 1_u8,
            StatusKind::Archived => 2,
            StatusKind::Blocked => 3,
            StatusKind::Redacted => 4,
            StatusKind::Merged => 5,
        };
        let mut out = Vec::with_capacity(128);
        field(&mut out, 1, self.text.as_deref().map(str::as_bytes));
        let statuses: Vec<u8> = self.statuses.iter().map(status_code).collect();
        field(&mut out, 2, Some(&statuses));
        let country = self.country.as_ref().map(ToString::to_string);
        field(&mut out, 3, country.as_deref().map(str::as_bytes));
        let initial = self.initial.map(|c| u32::from(c).to_be_bytes());
        field(&mut out, 4, initial.as_ref().map(|b| b.as_slice()));
        field(
            &mut out,
            5,
            self.claimed
                .map(|c| [u8::from(c)])
                .as_ref()
                .map(|b| b.as_slice()),
        );
        let list = self.list.as_ref().map(ToString::to_string);
        field(&mut out, 6, list.as_deref().map(str::as_bytes));
        for (tag, at) in [
            (7, self.created.from),
            (8, self.created.until),
            (9, self.last_booking.from),
            (10, self.last_booking.until),
        ] {
            field(&mut out, tag, instant(at).as_deref());
        }
        for (tag, count) in [(11, self.booking_count.min), (12, self.booking_count.max)] {
            field(
                &mut out,
                tag,
                count.map(u64::to_be_bytes).as_ref().map(|b| b.as_slice()),
            );
        }
        let (key, value) = match &self.custom_field {
            Some((key, value)) => (Some(key.as_bytes()), Some(value.as_bytes())),
            None => (None, None),
        };
        field(&mut out, 13, key);
        field(&mut out, 14, value);
        let sort = match &self.sort {
            SortBy::Name => vec![1],
            SortBy::Created => vec![2],
            SortBy::LastBooking => vec![3],
            SortBy::BookingCount => vec![4],
            SortBy::TotalValue(currency) => {
                let mut bytes = vec![5];
                bytes.extend_from_slice(currency.to_string().as_bytes());
                bytes
            }
        };
        field(&mut out, 15, Some(&sort));
        let direction = match self.direction {
            SortDirection::Ascending => 1_u8,
            SortDirection::Descending => 2,
        };
        field(&mut out, 16, Some(&[direction]));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_refuse_garbage() {
        let query = CustomerQuery::new();
        let id = CustomerId::new();
        for value in [
            SortValue::Text("núñez élodie.x".into()),
            SortValue::Text(String::new()),
            SortValue::Int(-42),
            SortValue::Int(i64::MIN),
        ] {
            let cursor = query.cursor_after(SortPosition::new(value.clone(), id));
            let text = cursor.to_string();
            assert!(
                text.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-'),
                "{text}"
            );
            assert_eq!(Cursor::parse(&text), Ok(cursor));
        }
        for bad in [
            "",
            "c2",
            "c2.0.i.1.x",
            // Another format version: `c1` hashed the query's `Debug` form.
            "c1.0000000000000000.i.1.0190a0a0-0000-7000-8000-000000000000",
            "c3.0000000000000000.i.1.0190a0a0-0000-7000-8000-000000000000",
            "c2.0000000000000000.t.f.0190a0a0-0000-7000-8000-000000000000",
            "c2.0000000000000000.t.ff.0190a0a0-0000-7000-8000-000000000000",
            "c2.0000000000000000.q.1.0190a0a0-0000-7000-8000-000000000000",
            "c2.0000000000000000.i.1.0190a0a0-0000-7000-8000-000000000000.x",
            "c2.000000000000000g.i.1.0190a0a0-0000-7000-8000-000000000000",
            "c2.0000000000000000.i.99999999999999999999.0190a0a0-0000-7000-8000-000000000000",
        ] {
            assert_eq!(Cursor::parse(bad), Err(CursorError::Malformed), "{bad}");
        }
        assert_eq!(
            Cursor::parse(&"a".repeat(MAX_CURSOR_BYTES + 1)),
            Err(CursorError::Malformed)
        );
    }

    /// The encoding is pinned: a change to it (or to a field's code) must come with a new
    /// cursor format, because cursors handed out before would then fit other queries or
    /// none.
    #[test]
    fn the_canonical_query_encoding_is_stable() {
        // The default statuses are active (1) and blocked (3), the sort by name (1), ascending
        // (1): this digest was computed from the encoding as documented on
        // `canonical_bytes`, outside this code (tag, 0 | 1 + u64 length + bytes, per field).
        let query = CustomerQuery::new().text("ana");
        let digest = Sha256::digest(query.canonical_bytes());
        assert_eq!(
            hex::encode(&digest[..8]),
            "7b8ab750a70601f0",
            "the c2 encoding changed: bump CURSOR_FORMAT"
        );
        // Every field takes part: changing any one changes the bytes.
        let base = CustomerQuery::new();
        let eur = Currency::parse("EUR").unwrap();
        let day = chrono::TimeZone::with_ymd_and_hms(&Utc, 2026, 1, 1, 0, 0, 0).unwrap();
        let variants = [
            base.clone().text("a"),
            base.clone().include_archived(),
            base.clone().country(CountryCode::parse("PT").unwrap()),
            base.clone().initial('a'),
            base.clone().claimed(true),
            base.clone().in_list(ListId::new()),
            base.clone().created_in(TimeRange::since(day)),
            base.clone()
                .last_booking_in(TimeRange::new(day, day + chrono::TimeDelta::days(1))),
            base.clone().booking_count_in(CountRange::at_least(1)),
            base.clone().custom_field_equals("tier", "gold"),
            base.clone()
                .sorted_by(SortBy::TotalValue(eur), SortDirection::Ascending),
            base.clone()
                .sorted_by(SortBy::Name, SortDirection::Descending),
        ];
        let mut seen = vec![base.canonical_bytes()];
        for variant in &variants {
            let bytes = variant.canonical_bytes();
            assert!(
                !seen.contains(&bytes),
                "{variant:?} encodes like another query"
            );
            seen.push(bytes);
        }
        // A value cannot spill into the next field: lengths are part of the encoding.
        let a = base.clone().custom_field_equals("ab", "c");
        let b = base.clone().custom_field_equals("a", "bc");
        assert_ne!(a.canonical_bytes(), b.canonical_bytes());
    }

    #[test]
    fn a_cursor_fits_only_its_own_query() {
        let by_name = CustomerQuery::new();
        let cursor = by_name.cursor_after(SortPosition::new(
            SortValue::Text("a".into()),
            CustomerId::new(),
        ));
        assert!(by_name.continue_after(&cursor).is_ok());
        for other in [
            CustomerQuery::new().text("x"),
            CustomerQuery::new().sorted_by(SortBy::Name, SortDirection::Descending),
            CustomerQuery::new().include_archived(),
        ] {
            assert_eq!(other.continue_after(&cursor), Err(CursorError::Mismatch));
        }
    }

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
