//! How records and their indexed columns become SQL parameters and back: the row encoding
//! both databases share.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::ports::store::StoreError;
use crate::records::customer::{BlockTarget, CustomerStatus};

/// Encodes a record as its JSON column.
pub(crate) fn to_json<T: Serialize>(record: &T, what: &str) -> Result<String, StoreError> {
    serde_json::to_string(record)
        .map_err(|error| StoreError::backend(format!("encoding {what}"), error))
}

/// Decodes a record from its JSON column; a row that does not decode is a backend error.
pub(crate) fn from_json<T: DeserializeOwned>(text: &str, what: &str) -> Result<T, StoreError> {
    serde_json::from_str(text)
        .map_err(|error| StoreError::backend(format!("decoding a stored {what}"), error))
}

/// A time as the sortable integer the indexed columns hold: nanoseconds since 1970,
/// saturating outside the years 1677 to 2262.
pub(crate) fn nanos(at: DateTime<Utc>) -> i64 {
    crate::ports::query::evaluation::time_key(at)
}

/// A version as the database stores it (versions never come near `i64::MAX`).
pub(crate) fn version_column(version: u64) -> i64 {
    i64::try_from(version).unwrap_or(i64::MAX)
}

/// A stored version column read back; a negative one means the row was not written by
/// this crate, which is a backend error rather than a version to compare.
pub(crate) fn stored_version(version: i64) -> Result<u64, StoreError> {
    u64::try_from(version).map_err(|_| {
        StoreError::backend(
            "reading a stored version",
            format!("version column holds {version}"),
        )
    })
}

/// A stored customer id column read back.
pub(crate) fn stored_customer_id(text: &str) -> Result<crate::values::ids::CustomerId, StoreError> {
    text.parse()
        .map_err(|error| StoreError::backend("reading a stored customer id", error))
}

/// The status column: what the reads filter on.
pub(crate) fn status_column(status: CustomerStatus) -> &'static str {
    crate::ports::query::builder::StatusKind::of(status).as_str()
}

/// The blocklist's key column: one namespace for addresses and domains.
pub(crate) fn block_key(target: &BlockTarget) -> String {
    match target {
        BlockTarget::Address(key) => format!("address:{}", key.as_str()),
        BlockTarget::Domain(domain) => format!("domain:{domain}"),
    }
}

/// A value bound to a numbered parameter of a statement built at run time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Bind {
    Text(String),
    /// Text or `NULL`.
    MaybeText(Option<String>),
    Int(i64),
    /// A column of texts bound as one array (PostgreSQL only: see
    /// [`Dialect::ARRAYS`](crate::adapters::sql::session::Dialect::ARRAYS)).
    Texts(Vec<String>),
    /// A column of texts or `NULL`s bound as one array (PostgreSQL only).
    MaybeTexts(Vec<Option<String>>),
    /// A column of integers bound as one array (PostgreSQL only).
    Ints(Vec<i64>),
}

/// How many ids a batched read binds per query: far below either database's limit on
/// parameters (32,766 on SQLite, 65,535 on PostgreSQL), and a page of the export in one.
pub(crate) const IDS_PER_QUERY: usize = 500;

/// The answers `found` for each of `customers` in order (`missing()` for one without), an
/// id asked twice answered twice.
pub(crate) fn answer_in_order<T: Clone>(
    customers: &[crate::values::ids::CustomerId],
    mut found: std::collections::HashMap<crate::values::ids::CustomerId, T>,
    missing: impl Fn() -> T,
) -> Vec<T> {
    let mut asked: std::collections::HashMap<crate::values::ids::CustomerId, usize> =
        std::collections::HashMap::with_capacity(customers.len());
    for customer in customers {
        *asked.entry(*customer).or_default() += 1;
    }
    customers
        .iter()
        .map(|customer| {
            let left = asked.get_mut(customer).map_or(0, |left| {
                *left -= 1;
                *left
            });
            // The last time an id is asked for, its answer moves out; before that, a copy.
            let answer = if left == 0 {
                found.remove(customer)
            } else {
                found.get(customer).cloned()
            };
            answer.unwrap_or_else(&missing)
        })
        .collect()
}

/// `count` placeholders numbered from `$first`, separated by commas: `$1, $2, $3`.
pub(crate) fn placeholders(count: usize, first: usize) -> String {
    marked_placeholders('$', count, first)
}

/// [`placeholders`] with the dialect's mark ([`Dialect::NUMBERED`](crate::adapters::sql::session::Dialect::NUMBERED)):
/// `?1, ?2` on SQLite, where numbered parameters are bound without a search by name (a
/// statement of hundreds of parameters pays for each search).
pub(crate) fn marked_placeholders(mark: char, count: usize, first: usize) -> String {
    (first..first + count)
        .map(|n| format!("{mark}{n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The `VALUES` list of a multi-row insert: `rows` tuples of `columns` placeholders
/// numbered from `$first`, so a commit inserts all of a record's side rows in one statement
/// (one round trip) instead of one statement per row.
pub(crate) fn values_rows(rows: usize, columns: usize, first: usize) -> String {
    (0..rows)
        .map(|row| format!("({})", placeholders(columns, first + row * columns)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A booking count as its column (saturating: no directory holds `i64::MAX` bookings).
pub(crate) fn count_column(count: u64) -> i64 {
    i64::try_from(count).unwrap_or(i64::MAX)
}

/// Inserts customer rows from `rows`, a row source of [`customer_columns`] (`VALUES (..)`,
/// or an `UNNEST` of arrays); touches no row whose id is taken.
pub(crate) fn insert_customer_sql(rows: &str) -> String {
    format!(
        "INSERT INTO cd_customers (id, version, status, created_at, record, search_text, \
         sort_name, initial, country) {rows} ON CONFLICT (id) DO NOTHING"
    )
}

/// A customer's record columns, `$1` to `$9` of [`insert_customer_sql`] and of a rewrite:
/// id, version, status, creation time, record, search text, name sort key, initial, country.
pub(crate) fn customer_columns(
    customer: &crate::records::customer::Customer,
) -> Result<Vec<Bind>, StoreError> {
    let columns = crate::ports::query::evaluation::SearchColumns::of(customer);
    Ok(vec![
        Bind::Text(customer.id.to_string()),
        Bind::Int(version_column(customer.version)),
        Bind::Text(status_column(customer.status).to_owned()),
        Bind::Int(nanos(customer.created_at)),
        Bind::Text(to_json(customer, "customer")?),
        Bind::Text(columns.search_text),
        Bind::Text(columns.sort_name),
        Bind::Text(columns.initial),
        Bind::MaybeText(columns.country.map(|c| c.as_str().to_owned())),
    ])
}

/// A customer's list memberships and custom field values (the query tables of migration 5
/// besides its totals), each table with the statement head that inserts its rows and the
/// rows' values, the customer's id last in each.
pub(crate) fn membership_rows(customer: &crate::records::customer::Customer) -> [SideRows; 2] {
    let id = customer.id.to_string();
    [
        SideRows {
            insert: "INSERT INTO cd_customer_lists (list_id, customer_id) VALUES",
            what: "indexing list memberships",
            rows: customer
                .records
                .lists
                .iter()
                .map(|list| vec![Bind::Text(list.to_string()), Bind::Text(id.clone())])
                .collect(),
        },
        SideRows {
            insert: "INSERT INTO cd_customer_fields (field_key, value, customer_id) VALUES",
            what: "indexing custom fields",
            rows: customer
                .profile
                .custom_fields
                .iter()
                .map(|(key, value)| {
                    vec![
                        Bind::Text(key.clone()),
                        Bind::Text(value.as_str().to_owned()),
                        Bind::Text(id.clone()),
                    ]
                })
                .collect(),
        },
    ]
}

/// Rows a record brings into a side table (see [`membership_rows`]).
pub(crate) struct SideRows {
    /// `INSERT INTO table (columns) VALUES`, the rows to follow.
    pub(crate) insert: &'static str,
    /// What inserting them is, for an error.
    pub(crate) what: &'static str,
    /// Each row's values, in column order.
    pub(crate) rows: Vec<Vec<Bind>>,
}

/// Inserts booking rows from `rows`, a row source of [`booking_row`] (`VALUES (..)`, or an
/// `UNNEST` of arrays); touches no row whose id is taken.
pub(crate) fn insert_booking_sql(rows: &str) -> String {
    format!(
        "INSERT INTO cd_bookings (id, version, customer_id, email_key, starts_at, created_at, \
         record, code) {rows} ON CONFLICT (id) DO NOTHING"
    )
}

/// The columns [`insert_booking_sql`] writes for `booking`.
pub(crate) fn booking_row(
    booking: &crate::records::booking::Booking,
) -> Result<Vec<Bind>, StoreError> {
    Ok(vec![
        Bind::Text(booking.id.to_string()),
        Bind::Int(version_column(booking.version)),
        Bind::MaybeText(booking.attribution.customer().map(|c| c.to_string())),
        Bind::MaybeText(
            booking
                .contact
                .email
                .as_ref()
                .map(|e| e.key().as_str().to_owned()),
        ),
        Bind::Int(nanos(booking.starts_at)),
        Bind::Int(nanos(booking.created_at)),
        Bind::Text(to_json(booking, "booking")?),
        Bind::Text(booking.code.clone()),
    ])
}

/// How many columns [`booking_row`] binds.
pub(crate) const BOOKING_COLUMNS: usize = 8;

/// The suggestion keys of a booking contact as the text `cd_match_keys` stores:
/// kind, colon, key (see [`match_index_parts`](crate::ports::store::match_index_parts)).
pub(crate) fn match_index_keys(
    keys: &crate::records::profile::MatchKeys,
) -> impl Iterator<Item = String> + '_ {
    crate::ports::store::match_index_parts(keys).map(|(kind, key)| format!("{kind}:{key}"))
}
