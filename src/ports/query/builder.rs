//! The query itself: [`CustomerQuery`], its filter types ([`StatusKind`], [`TimeRange`],
//! [`CountRange`]) and sort ([`SortBy`], [`SortDirection`]), the rule every store applies
//! ([`CustomerQuery::matches`]) and the canonical encoding a cursor fingerprints.
//!
//! This is what a host builds and a store reads; the values it evaluates live in
//! [`evaluation`](super::evaluation), and pagination in [`cursor`](super::cursor), which
//! builds on this file.

use std::cmp::Ordering;
use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::ports::query::evaluation::{
    CustomerStats, SearchColumns, SearchTerms, SortPosition, SortValue, initial_key,
    last_booking_key, time_key,
};
use crate::records::customer::{Customer, CustomerStatus};
use crate::values::ids::ListId;
use crate::values::money::Currency;
use crate::values::text::CountryCode;

/// The most rows one page may hold; larger requests are cut to it.
pub const MAX_PAGE_SIZE: usize = 1_000;

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

    /// The query as bytes, in the encoding of cursor format `c2`: every field in a fixed
    /// order, each as a tag byte, then `0` for no value or `1`, a big-endian `u64` length and
    /// the value's bytes. Texts are UTF-8; statuses, sorts and directions are fixed codes;
    /// country, currency and list are their displayed forms; instants are seconds and
    /// nanoseconds since 1970, big-endian. Two queries that list the same customers in the
    /// same order have the same bytes, and the bytes change only with this encoding (whose
    /// version is the cursor's format), never with a derive or a `Debug` form.
    pub(super) fn canonical_bytes(&self) -> Vec<u8> {
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
    use sha2::{Digest, Sha256};

    use super::*;

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
}
