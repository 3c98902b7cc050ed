//! What the SQL adapters share: the schema's shape, row encoding, and the one implementation
//! of the [`Store`](crate::ports::store::Store) port, instantiated for each database by [`sql_store!`].
//!
//! Each record is stored whole as JSON (the source of truth, exact to the nanosecond) beside
//! the columns the reads filter and sort on, which are indexed. A commit is one transaction:
//! version checks are `UPDATE ... WHERE version = expected` and inserts are
//! `INSERT ... ON CONFLICT DO NOTHING`, so a lost race shows as zero affected rows and becomes
//! the port's [`Conflict`](crate::ports::store::Conflict) without aborting the transaction; the transaction
//! is then rolled back, so nothing of a failed commit remains.
//!
//! A commit that only adds customers and bookings, checks customer versions and appends
//! audit events (what recording a booking commits) is first tried as one call to the database
//! that carries its checks with it ([`one_call`]); when a check fails there, nothing of it
//! remains and the general path above runs, and names the conflict.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::ports::store::StoreError;
use crate::records::customer::{BlockTarget, CustomerStatus};

pub(crate) mod one_call;
pub(crate) mod schema;

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
}

/// Escapes `text` for a `LIKE ... ESCAPE '!'` substring pattern. The escape is `!` rather
/// than a backslash, whose meaning in a string literal depends on PostgreSQL's
/// `standard_conforming_strings`.
fn like_escaped(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('%');
    for c in text.chars() {
        if matches!(c, '!' | '%' | '_') {
            out.push('!');
        }
        out.push(c);
    }
    out.push('%');
    out
}

/// The `WHERE` conditions of a query's filters (statuses, text, country, first letter,
/// claimed, list, ranges, booking count, custom field) over `cd_customers c`, binding their
/// values through `param`: the one home of the filter rules in SQL, shared by
/// [`search_sql`] and [`count_sql`]. `None` when nothing can match (no status listed).
fn search_conditions(
    query: &crate::ports::query::builder::CustomerQuery,
    param: &mut dyn FnMut(Bind) -> String,
) -> Option<Vec<String>> {
    let mut conditions: Vec<String> = Vec::new();
    if query.statuses.is_empty() {
        return None;
    }
    let statuses: Vec<String> = query
        .statuses
        .iter()
        .map(|status| param(Bind::Text(status.as_str().to_owned())))
        .collect();
    // Most customers are active: when active ones are listed, the status column must not
    // steer the planner away from the sort key's index (which serves a page by reading
    // just its rows), so it is compared as an expression no index covers.
    let status = if query
        .statuses
        .contains(&crate::ports::query::builder::StatusKind::Active)
    {
        "c.status || ''"
    } else {
        "c.status"
    };
    conditions.push(format!("{status} IN ({})", statuses.join(", ")));
    if let Some(terms) = query.search_terms() {
        let folded = param(Bind::Text(like_escaped(&terms.folded)));
        match terms.digits {
            Some(digits) => {
                let digits = param(Bind::Text(like_escaped(&digits)));
                conditions.push(format!(
                    "(c.search_text LIKE {folded} ESCAPE '!' OR c.search_text LIKE {digits} ESCAPE '!')"
                ));
            }
            None => conditions.push(format!("c.search_text LIKE {folded} ESCAPE '!'")),
        }
    }
    if let Some(country) = query.country {
        let country = param(Bind::Text(country.as_str().to_owned()));
        conditions.push(format!("c.country = {country}"));
    }
    if let Some(initial) = query.initial_key() {
        let initial = param(Bind::Text(initial));
        conditions.push(format!("c.initial = {initial}"));
    }
    if let Some(claimed) = query.claimed {
        let not = if claimed { "" } else { "NOT " };
        conditions.push(format!(
            "{not}EXISTS (SELECT 1 FROM cd_accounts a WHERE a.customer_id = c.id)"
        ));
    }
    if let Some(list) = query.list {
        let list = param(Bind::Text(list.to_string()));
        conditions.push(format!(
            "EXISTS (SELECT 1 FROM cd_customer_lists l WHERE l.list_id = {list} AND l.customer_id = c.id)"
        ));
    }
    let mut range = |column: &str,
                     range: &crate::ports::query::builder::TimeRange,
                     conditions: &mut Vec<String>| {
        if let Some(from) = range.from {
            let from = param(Bind::Int(nanos(from)));
            conditions.push(format!("{column} >= {from}"));
        }
        if let Some(until) = range.until {
            let until = param(Bind::Int(nanos(until)));
            conditions.push(format!("{column} < {until}"));
        }
    };
    range("c.created_at", &query.created, &mut conditions);
    if !query.last_booking.is_unbounded() {
        range("c.last_booking_at", &query.last_booking, &mut conditions);
        let none = param(Bind::Int(crate::ports::query::evaluation::NO_BOOKING_KEY));
        conditions.push(format!("c.last_booking_at <> {none}"));
    }
    let count = |n: u64| Bind::Int(count_column(n));
    if let Some(min) = query.booking_count.min {
        let min = param(count(min));
        conditions.push(format!("c.booking_count >= {min}"));
    }
    if let Some(max) = query.booking_count.max {
        let max = param(count(max));
        conditions.push(format!("c.booking_count <= {max}"));
    }
    if let Some((field, value)) = &query.custom_field {
        let field = param(Bind::Text(field.clone()));
        let value = param(Bind::Text(value.clone()));
        conditions.push(format!(
            "EXISTS (SELECT 1 FROM cd_customer_fields f WHERE f.field_key = {field} \
             AND f.value = {value} AND f.customer_id = c.id)"
        ));
    }
    Some(conditions)
}

/// The statement that answers [`Store::search_customers`](crate::ports::store::Store::search_customers)
/// from the search columns of migration 5, with its parameters; `None` when nothing can
/// match (no status listed, or an integer sort asked to continue after a text position).
/// It selects each row's record and sort key. Every sort but total value has an index on
/// (key, id), so a page is a range scan of it from the cursor; total value is a join on the
/// per-currency totals, whose matching (id, total) pairs the database sorts.
pub(crate) fn search_sql(
    query: &crate::ports::query::builder::CustomerQuery,
    after: Option<&crate::ports::query::evaluation::SortPosition>,
    limit: usize,
) -> Option<(String, Vec<Bind>)> {
    use crate::ports::query::builder::{SortBy, SortDirection};
    use crate::ports::query::evaluation::SortValue;
    let mut binds: Vec<Bind> = Vec::new();
    let mut param = |bind: Bind| {
        binds.push(bind);
        format!("${}", binds.len())
    };
    let mut from = "cd_customers c".to_owned();
    let key = match query.sort {
        SortBy::Name => "c.sort_name".to_owned(),
        SortBy::Created => "c.created_at".to_owned(),
        SortBy::LastBooking => "c.last_booking_at".to_owned(),
        SortBy::BookingCount => "c.booking_count".to_owned(),
        SortBy::TotalValue(currency) => {
            let currency = param(Bind::Text(currency.as_str().to_owned()));
            from.push_str(&format!(
                " LEFT JOIN cd_customer_totals t ON t.customer_id = c.id AND t.currency = {currency}"
            ));
            "COALESCE(t.total, 0)".to_owned()
        }
    };
    let mut conditions = search_conditions(query, &mut param)?;
    let (beyond, order) = match query.direction {
        SortDirection::Ascending => (">", "ASC"),
        SortDirection::Descending => ("<", "DESC"),
    };
    if let Some(after) = after {
        let value = match (&after.value, query.sort) {
            (SortValue::Text(text), SortBy::Name) => Some(Bind::Text(text.clone())),
            (SortValue::Int(value), sort) if sort != SortBy::Name => Some(Bind::Int(*value)),
            // Integers order before text: ascending, every name comes after an integer and
            // no integer after a text; descending, the reverse.
            (SortValue::Int(_), _) => match query.direction {
                SortDirection::Ascending => None,
                SortDirection::Descending => return None,
            },
            (SortValue::Text(_), _) => match query.direction {
                SortDirection::Ascending => return None,
                SortDirection::Descending => None,
            },
        };
        if let Some(value) = value {
            let value = param(value);
            let id = param(Bind::Text(after.id.to_string()));
            // A row value comparison: both databases answer it as a range of the sort
            // key's index (the sort columns and the id are never NULL).
            conditions.push(format!("({key}, c.id) {beyond} ({value}, {id})"));
        }
    }
    let limit = param(Bind::Int(i64::try_from(limit).unwrap_or(i64::MAX)));
    let conditions = conditions.join(" AND ");
    let sql = if matches!(query.sort, SortBy::TotalValue(_)) {
        // No index orders this key: the database sorts the matching (id, total) pairs, not
        // whole records, and reads the records of the page's rows only.
        format!(
            "SELECT c.record, p.k FROM (SELECT c.id AS id, {key} AS k FROM {from} WHERE {conditions} \
             ORDER BY k {order}, c.id {order} LIMIT {limit}) p JOIN cd_customers c ON c.id = p.id \
             ORDER BY p.k {order}, p.id {order}"
        )
    } else {
        format!(
            "SELECT c.record, {key} FROM {from} WHERE {conditions} \
             ORDER BY {key} {order}, c.id {order} LIMIT {limit}"
        )
    };
    Some((sql, binds))
}

/// The statement that answers [`Store::count_customers`](crate::ports::store::Store::count_customers):
/// `SELECT count(*)` over the rows [`search_sql`] pages through (the same conditions), with
/// no sort and no page; `None` when nothing can match.
pub(crate) fn count_sql(
    query: &crate::ports::query::builder::CustomerQuery,
) -> Option<(String, Vec<Bind>)> {
    let mut binds: Vec<Bind> = Vec::new();
    let mut param = |bind: Bind| {
        binds.push(bind);
        format!("${}", binds.len())
    };
    let conditions = search_conditions(query, &mut param)?.join(" AND ");
    Some((
        format!("SELECT count(*) FROM cd_customers c WHERE {conditions}"),
        binds,
    ))
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
    (first..first + count)
        .map(|n| format!("${n}"))
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

/// Adds a statistics delta (booking count `count`, last booking `last`, placeholders) to those
/// of the customer whose id is bound at `id`: an `UPDATE` a caller may extend with more
/// conditions or a `RETURNING` clause.
pub(crate) fn add_to_statistics(id: &str, count: &str, last: &str) -> String {
    format!(
        "UPDATE cd_customers SET booking_count = booking_count + {count}, \
         last_booking_at = CASE WHEN last_booking_at < {last} THEN {last} ELSE last_booking_at END \
         WHERE id = {id}"
    )
}

/// A booking count as its column (saturating: no directory holds `i64::MAX` bookings).
pub(crate) fn count_column(count: u64) -> i64 {
    i64::try_from(count).unwrap_or(i64::MAX)
}

/// Inserts a customer row from the placeholders of [`customer_row`]; touches no row when the
/// id is taken.
pub(crate) fn insert_customer_sql(values: &str) -> String {
    format!(
        "INSERT INTO cd_customers (id, version, status, created_at, record, search_text, \
         sort_name, initial, country, booking_count, last_booking_at) VALUES ({values}) \
         ON CONFLICT (id) DO NOTHING"
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

/// The columns [`insert_customer_sql`] writes for a new `customer` whose bookings so far
/// have `stats`: [`customer_columns`], then the booking count and last booking.
pub(crate) fn customer_row(
    customer: &crate::records::customer::Customer,
    stats: &crate::ports::query::evaluation::CustomerStats,
) -> Result<Vec<Bind>, StoreError> {
    let mut row = customer_columns(customer)?;
    row.push(Bind::Int(count_column(stats.booking_count)));
    row.push(Bind::Int(
        crate::ports::query::evaluation::last_booking_key(stats.last_booking),
    ));
    Ok(row)
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

/// Inserts a booking row from the placeholders of [`booking_row`]; touches no row when the
/// id is taken.
pub(crate) fn insert_booking_sql(values: &str) -> String {
    format!(
        "INSERT INTO cd_bookings (id, version, customer_id, email_key, starts_at, created_at, \
         record) VALUES ({values}) ON CONFLICT (id) DO NOTHING"
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
    ])
}

/// Adds the booking totals of a statistics delta to a customer's stored totals, one row per
/// currency, saturating at the ends of `i64` as [`crate::ports::query::evaluation::CustomerStats::of`] does. The
/// nested `CASE` keeps each subtraction on the side where it cannot overflow (SQL does not
/// promise to evaluate `AND` left to right).
pub(crate) const ADD_TO_TOTALS: &str = "ON CONFLICT (customer_id, currency) DO UPDATE SET total = \
     CASE WHEN excluded.total > 0 THEN \
       CASE WHEN cd_customer_totals.total > 9223372036854775807 - excluded.total \
         THEN 9223372036854775807 ELSE cd_customer_totals.total + excluded.total END \
     ELSE \
       CASE WHEN cd_customer_totals.total < (-9223372036854775807 - 1) - excluded.total \
         THEN (-9223372036854775807 - 1) ELSE cd_customer_totals.total + excluded.total END \
     END";

/// How a database takes a row and the rows that depend on it (a booking and its match keys,
/// a customer's statistics and totals, an audit event and its customers) in one call, so a
/// booking costs one round trip per record instead of one per row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum DependentRows {
    /// One statement: `WITH` clauses write and hand what they returned to the next
    /// (PostgreSQL).
    DataModifyingWith,
    /// Several statements in one call, run in order on the connection and sharing the
    /// numbered parameters (sqlx's SQLite driver); `changes()` tells a statement whether
    /// the one before it wrote a row.
    StatementList,
}

impl DependentRows {
    /// Adds a statistics delta to customer `$1` (`$2` bookings, last booking `$3`, then a
    /// currency and total pair per currency from `$4`): one row, the customer's version,
    /// when the customer exists; none otherwise, and nothing is written.
    pub(crate) fn add_statistics(self, currencies: usize) -> String {
        let add = format!("{} RETURNING version", add_to_statistics("$1", "$2", "$3"));
        if currencies == 0 {
            return add;
        }
        let deltas = values_rows(currencies, 2, 4);
        match self {
            Self::DataModifyingWith => format!(
                "WITH customer AS ({add}), \
                 totals AS (INSERT INTO cd_customer_totals (customer_id, currency, total) \
                 SELECT $1, delta.currency, delta.total FROM customer \
                 CROSS JOIN (VALUES {deltas}) AS delta (currency, total) {ADD_TO_TOTALS}) \
                 SELECT version FROM customer"
            ),
            Self::StatementList => format!(
                "{add}; \
                 INSERT INTO cd_customer_totals (customer_id, currency, total) \
                 SELECT $1, column1, column2 FROM (VALUES {deltas}) WHERE changes() > 0 {ADD_TO_TOTALS}"
            ),
        }
    }

    /// Inserts a new booking (`$1` to `$7`: id, version, customer, email key, start,
    /// creation, record) and its match keys (from `$8`): one row, the booking's id, when it
    /// was inserted; none when a booking with that id exists, and nothing is written.
    pub(crate) fn insert_booking(self, keys: usize) -> String {
        let insert = format!("{} RETURNING id", insert_booking_sql(&placeholders(7, 1)));
        if keys == 0 {
            return insert;
        }
        let keys = values_rows(keys, 1, 8);
        match self {
            Self::DataModifyingWith => format!(
                "WITH booking AS ({insert}), \
                 keys AS (INSERT INTO cd_booking_match_keys (match_key, booking_id) \
                 SELECT key.value, booking.id FROM booking CROSS JOIN (VALUES {keys}) AS key (value)) \
                 SELECT id FROM booking"
            ),
            Self::StatementList => format!(
                "{insert}; \
                 INSERT INTO cd_booking_match_keys (match_key, booking_id) \
                 SELECT column1, $1 FROM (VALUES {keys}) WHERE changes() > 0"
            ),
        }
    }

    /// Appends an audit event (`$1` time, `$2` record) and the rows that find it from each
    /// of its customers (from `$3`).
    pub(crate) fn append_audit_event(self, customers: usize) -> String {
        const INSERT: &str = "INSERT INTO cd_audit_events (at, record) VALUES ($1, $2)";
        if customers == 0 {
            return INSERT.to_owned();
        }
        let customers = values_rows(customers, 1, 3);
        match self {
            Self::DataModifyingWith => format!(
                "WITH event AS ({INSERT} RETURNING seq) \
                 INSERT INTO cd_audit_event_customers (customer_id, event_seq) \
                 SELECT person.id, event.seq FROM event CROSS JOIN (VALUES {customers}) AS person (id)"
            ),
            // The event just appended has the highest sequence number: `AUTOINCREMENT`
            // never reuses one and the transaction holds the write lock.
            Self::StatementList => format!(
                "{INSERT}; \
                 INSERT INTO cd_audit_event_customers (customer_id, event_seq) \
                 SELECT column1, (SELECT MAX(seq) FROM cd_audit_events) FROM (VALUES {customers})"
            ),
        }
    }
}

/// How long a pooled connection may sit idle before the pool checks it is still alive
/// when handing it out.
const IDLE_BEFORE_PING: std::time::Duration = std::time::Duration::from_secs(5);

/// The pool options both adapters start from. sqlx checks every connection it hands out
/// with a round trip by default (`test_before_acquire`), which a booking pays twice; a
/// connection in steady use has just proven itself, so only one that sat idle for
/// [`IDLE_BEFORE_PING`] (after a server restart or a dropped link, say) is checked, and
/// replaced when the check fails.
pub(crate) fn pool_options<DB: sqlx::Database>() -> sqlx::pool::PoolOptions<DB> {
    sqlx::pool::PoolOptions::new()
        .test_before_acquire(false)
        .before_acquire(|connection, metadata| {
            Box::pin(async move {
                if metadata.idle_for >= IDLE_BEFORE_PING {
                    sqlx::Connection::ping(connection).await?;
                }
                Ok(true)
            })
        })
}

/// A pooled connection running a commit in one call: closed rather than returned to the pool
/// unless the call [settled](Self::settle) (committed, or rolled back), so a call cut off
/// half-way (its future dropped while SQLite's thread still runs it) never leaves a
/// transaction open on a connection someone else gets next.
pub(crate) struct SettledOrClosed<DB: sqlx::Database> {
    pub(crate) connection: sqlx::pool::PoolConnection<DB>,
    settled: bool,
}

impl<DB: sqlx::Database> SettledOrClosed<DB> {
    pub(crate) fn new(connection: sqlx::pool::PoolConnection<DB>) -> Self {
        Self {
            connection,
            settled: false,
        }
    }

    /// The connection holds no transaction: it may go back to the pool.
    pub(crate) fn settle(&mut self) {
        self.settled = true;
    }
}

impl<DB: sqlx::Database> Drop for SettledOrClosed<DB> {
    fn drop(&mut self) {
        if !self.settled {
            self.connection.close_on_drop();
        }
    }
}

/// Wraps a database error met while doing `what`.
pub(crate) fn backend(what: &'static str) -> impl FnOnce(sqlx::Error) -> StoreError {
    move |error| StoreError::backend(what, error)
}

/// Implements [`Store`](crate::ports::store::Store) and `migrate` for `$store`, a struct with a
/// `pool: sqlx::Pool<$db>` field and these associated items:
/// `fn committer(&self) -> &sqlx::Pool<$db>` (the pool commits go through),
/// `async fn begin(&self) -> Result<sqlx::Transaction<'static, $db>, sqlx::Error>` (a
/// transaction on it),
/// `fn aborted(error: &sqlx::Error) -> Option<String>` (the reason, when the database
/// aborted the transaction because of a concurrent one), `const LOCK: &str` (appended to the
/// reads a commit makes to lock the rows it checks), `const MIGRATION_LOCK: &str` (a
/// statement run first in each migration's transaction to serialise concurrent `migrate`
/// calls; empty when `begin` already does), `const DEPENDENT_ROWS: DependentRows` (how it writes
/// a row and its dependent rows in one call),
/// `const MIGRATIONS: &[Migration]`, and for [erasures](crate::ports::store::changes::ChangeSet::mark_erasure):
/// `const ERASURE_SETUP: &str` (a statement run first in an erasure's transaction; empty for
/// none) and `async fn after_erasure(&self)` (what the store does once an erasure is
/// committed; it cannot fail the commit, which stands), and `const ROWS_CHANGED: &str` (a
/// query answering how many rows the current transaction or connection has changed so far,
/// read before and after a commit's statements when a subscriber records its store span).
macro_rules! sql_store {
    ($store:ty, $db:ty) => {
        impl $store {
            /// Creates or upgrades the schema; safe to call on every start (applied
            /// migrations are recorded and skipped).
            ///
            /// # Errors
            ///
            /// [`StoreError::Backend`] when a statement fails; the failing migration is
            /// rolled back.
            pub async fn migrate(&self) -> Result<(), StoreError> {
                use crate::adapters::sql::backend;
                for migration in Self::MIGRATIONS {
                    // Each migration is one transaction that first takes the migration lock,
                    // so processes starting together apply it once and the others skip it.
                    let mut tx = self.begin().await.map_err(backend("starting a migration"))?;
                    if !Self::MIGRATION_LOCK.is_empty() {
                        sqlx::query(Self::MIGRATION_LOCK)
                            .execute(&mut *tx)
                            .await
                            .map_err(backend("waiting for the migration lock"))?;
                    }
                    sqlx::query(
                        "CREATE TABLE IF NOT EXISTS cd_migrations (version BIGINT PRIMARY KEY, applied_at TEXT NOT NULL)",
                    )
                    .execute(&mut *tx)
                    .await
                    .map_err(backend("creating the migrations table"))?;
                    let applied: Option<i64> =
                        sqlx::query_scalar("SELECT version FROM cd_migrations WHERE version = $1")
                            .bind(migration.version)
                            .fetch_optional(&mut *tx)
                            .await
                            .map_err(backend("reading applied migrations"))?;
                    if applied.is_some() {
                        tx.rollback().await.map_err(backend("ending a migration"))?;
                        continue;
                    }
                    for statement in migration.statements {
                        sqlx::query(statement)
                            .execute(&mut *tx)
                            .await
                            .map_err(backend("applying a migration"))?;
                    }
                    if migration.version == crate::adapters::sql::schema::SEARCH_MIGRATION {
                        Self::backfill_search(&mut tx).await?;
                    }
                    sqlx::query("INSERT INTO cd_migrations (version, applied_at) VALUES ($1, $2)")
                        .bind(migration.version)
                        .bind(chrono::Utc::now().to_rfc3339())
                        .execute(&mut *tx)
                        .await
                        .map_err(backend("recording a migration"))?;
                    tx.commit().await.map_err(backend("committing a migration"))?;
                }
                Ok(())
            }

            /// Every record `select` reads for the distinct ids among `customers`, one query
            /// per [`IDS_PER_QUERY`](crate::adapters::sql::IDS_PER_QUERY) ids (each id in one
            /// query only, so no record is read twice); `select` holds `{ids}` where their
            /// placeholders go.
            async fn records_of_customers<T: serde::de::DeserializeOwned>(
                &self,
                select: &str,
                customers: &[crate::values::ids::CustomerId],
                what: &'static str,
            ) -> Result<Vec<T>, StoreError> {
                let mut distinct = customers.to_vec();
                distinct.sort_unstable();
                distinct.dedup();
                let mut records = Vec::new();
                for chunk in distinct.chunks(crate::adapters::sql::IDS_PER_QUERY) {
                    let sql = select.replace("{ids}", &crate::adapters::sql::placeholders(chunk.len(), 1));
                    let mut query = sqlx::query(&sql);
                    for customer in chunk {
                        query = query.bind(customer.to_string());
                    }
                    records.extend(self.records::<T>(query, what).await?);
                }
                Ok(records)
            }

            async fn records<'q, T: serde::de::DeserializeOwned>(
                &self,
                query: sqlx::query::Query<'q, $db, <$db as sqlx::Database>::Arguments<'q>>,
                what: &'static str,
            ) -> Result<Vec<T>, StoreError> {
                use sqlx::Row;
                let rows = query
                    .fetch_all(&self.pool)
                    .await
                    .map_err(crate::adapters::sql::backend(what))?;
                rows.iter()
                    .map(|row| {
                        let text: String = row
                            .try_get(0)
                            .map_err(crate::adapters::sql::backend(what))?;
                        crate::adapters::sql::from_json(&text, what)
                    })
                    .collect()
            }

            /// The version stored for a row of `table`, read inside the commit.
            async fn version_in(
                tx: &mut sqlx::Transaction<'static, $db>,
                table: &'static str,
                id: String,
            ) -> Result<Option<u64>, StoreError> {
                let sql = match table {
                    "customers" => "SELECT version FROM cd_customers WHERE id = $1",
                    "bookings" => "SELECT version FROM cd_bookings WHERE id = $1",
                    _ => "SELECT version FROM cd_merges WHERE id = $1",
                };
                let found: Option<i64> = sqlx::query_scalar(sql)
                    .bind(id)
                    .fetch_optional(&mut **tx)
                    .await
                    .map_err(crate::adapters::sql::backend("checking a version"))?;
                found.map(crate::adapters::sql::stored_version).transpose()
            }

            /// The stored version of an account, locking its row for the rest of the commit.
            async fn account_version_in(
                tx: &mut sqlx::Transaction<'static, $db>,
                id: crate::values::ids::AccountId,
            ) -> Result<Option<u64>, StoreError> {
                let sql = format!("SELECT version FROM cd_accounts WHERE id = $1 {}", Self::LOCK);
                let found: Option<i64> = sqlx::query_scalar(&sql)
                    .bind(id.to_string())
                    .fetch_optional(&mut **tx)
                    .await
                    .map_err(crate::adapters::sql::backend("checking an account version"))?;
                found.map(crate::adapters::sql::stored_version).transpose()
            }

            /// The account other than `id` holding `column`'s `value` (login key or claimed
            /// customer), if any.
            async fn account_holding(
                tx: &mut sqlx::Transaction<'static, $db>,
                column: &'static str,
                value: String,
                id: crate::values::ids::AccountId,
            ) -> Result<Option<crate::values::ids::AccountId>, StoreError> {
                let sql = match column {
                    "email_key" => "SELECT id FROM cd_accounts WHERE email_key = $1 AND id <> $2",
                    _ => "SELECT id FROM cd_accounts WHERE customer_id = $1 AND id <> $2",
                };
                let holder: Option<String> = sqlx::query_scalar(sql)
                    .bind(value)
                    .bind(id.to_string())
                    .fetch_optional(&mut **tx)
                    .await
                    .map_err(crate::adapters::sql::backend("reading an account's unique keys"))?;
                holder
                    .map(|text| {
                        text.parse().map_err(|error| {
                            StoreError::backend("reading a stored account id", error)
                        })
                    })
                    .transpose()
            }

            /// The account part of a commit, in the in-memory store's order: deletions (with
            /// their tokens), then account writes, then token writes. Rewritten accounts
            /// release their login key and claim first, so both can move between accounts
            /// within one commit.
            async fn apply_accounts(
                tx: &mut sqlx::Transaction<'static, $db>,
                mut accounts: Vec<crate::ports::store::changes::Write<crate::records::account::Account>>,
                mut deletions: Vec<crate::ports::store::changes::AccountGuard>,
                tokens: Vec<crate::ports::store::changes::Write<crate::records::account::AccountToken>>,
            ) -> Result<Result<(), crate::ports::store::Conflict>, StoreError> {
                use crate::ports::store::Conflict;
                use crate::adapters::sql::{backend, nanos, to_json, version_column};
                use crate::ports::store::changes::Expected;

                accounts.sort_by_key(|write| write.record.id);
                deletions.sort_by_key(|deletion| deletion.account);
                for deletion in &deletions {
                    let found = Self::account_version_in(tx, deletion.account).await?;
                    if found != Some(deletion.version) {
                        return Ok(Err(Conflict::AccountVersion {
                            id: deletion.account,
                            expected: Expected::Version(deletion.version),
                            found,
                        }));
                    }
                }
                for write in &accounts {
                    if let Expected::Version(expected) = write.expected {
                        let done = sqlx::query(
                            "UPDATE cd_accounts SET email_key = NULL, customer_id = NULL \
                             WHERE id = $1 AND version = $2",
                        )
                        .bind(write.record.id.to_string())
                        .bind(version_column(expected))
                        .execute(&mut **tx)
                        .await
                        .map_err(backend("releasing an account's login"))?;
                        if done.rows_affected() == 0 {
                            let found = Self::account_version_in(tx, write.record.id).await?;
                            return Ok(Err(Conflict::AccountVersion {
                                id: write.record.id,
                                expected: write.expected,
                                found,
                            }));
                        }
                    }
                }
                for deletion in &deletions {
                    // Its tokens go with it (the foreign key cascades).
                    sqlx::query("DELETE FROM cd_accounts WHERE id = $1")
                        .bind(deletion.account.to_string())
                        .execute(&mut **tx)
                        .await
                        .map_err(backend("deleting an account"))?;
                }
                for write in &accounts {
                    let account = &write.record;
                    if deletions.iter().any(|deletion| deletion.account == account.id) {
                        continue;
                    }
                    let key = account.email.key().as_str().to_owned();
                    if let Some(holder) =
                        Self::account_holding(tx, "email_key", key.clone(), account.id).await?
                    {
                        return Ok(Err(Conflict::AccountEmailTaken {
                            key: account.email.key().clone(),
                            holder,
                        }));
                    }
                    if let Some(customer) = account.customer {
                        if let Some(holder) = Self::account_holding(
                            tx,
                            "customer_id",
                            customer.to_string(),
                            account.id,
                        )
                        .await?
                        {
                            return Ok(Err(Conflict::AccountCustomerTaken { customer, holder }));
                        }
                    }
                    let id = account.id.to_string();
                    let customer = account.customer.map(|customer| customer.to_string());
                    let record = to_json(account, "account")?;
                    let done = match write.expected {
                        Expected::Absent => sqlx::query(
                            "INSERT INTO cd_accounts (id, version, email_key, customer_id, record) \
                             VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
                        ),
                        // The version was checked (and the row locked) when it was released.
                        Expected::Version(_) => sqlx::query(
                            "UPDATE cd_accounts SET version = $2, email_key = $3, customer_id = $4, \
                             record = $5 WHERE id = $1",
                        ),
                    }
                    .bind(&id)
                    .bind(version_column(account.version))
                    .bind(&key)
                    .bind(customer)
                    .bind(record)
                    .execute(&mut **tx)
                    .await
                    .map_err(backend("writing an account"))?;
                    if done.rows_affected() == 0 {
                        // An insert refused by a unique column: a concurrent commit won.
                        let found = Self::account_version_in(tx, account.id).await?;
                        if found.is_some() {
                            return Ok(Err(Conflict::AccountVersion {
                                id: account.id,
                                expected: write.expected,
                                found,
                            }));
                        }
                        if let Some(holder) =
                            Self::account_holding(tx, "email_key", key, account.id).await?
                        {
                            return Ok(Err(Conflict::AccountEmailTaken {
                                key: account.email.key().clone(),
                                holder,
                            }));
                        }
                        return Ok(Err(Conflict::TransactionAborted {
                            reason: "an account's unique keys were taken concurrently".to_owned(),
                        }));
                    }
                }
                for write in &tokens {
                    let token = &write.record;
                    if Self::account_version_in(tx, token.account).await?.is_none() {
                        return Ok(Err(Conflict::AccountMissing(token.account)));
                    }
                    let hash = token.hash.to_hex();
                    let record = to_json(token, "account token")?;
                    let done = match write.expected {
                        Expected::Absent => sqlx::query(
                            "INSERT INTO cd_account_tokens (hash, version, account_id, created_at, record) \
                             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (hash) DO NOTHING",
                        )
                        .bind(&hash)
                        .bind(version_column(token.version))
                        .bind(token.account.to_string())
                        .bind(nanos(token.created_at))
                        .bind(record)
                        .execute(&mut **tx)
                        .await,
                        Expected::Version(expected) => sqlx::query(
                            "UPDATE cd_account_tokens SET version = $2, account_id = $3, created_at = $4, \
                             record = $5 WHERE hash = $1 AND version = $6",
                        )
                        .bind(&hash)
                        .bind(version_column(token.version))
                        .bind(token.account.to_string())
                        .bind(nanos(token.created_at))
                        .bind(record)
                        .bind(version_column(expected))
                        .execute(&mut **tx)
                        .await,
                    }
                    .map_err(backend("writing an account token"))?;
                    if done.rows_affected() == 0 {
                        let found: Option<i64> =
                            sqlx::query_scalar("SELECT version FROM cd_account_tokens WHERE hash = $1")
                                .bind(&hash)
                                .fetch_optional(&mut **tx)
                                .await
                                .map_err(backend("checking a token version"))?;
                        return Ok(Err(Conflict::AccountTokenVersion {
                            account: token.account,
                            expected: write.expected,
                            found: found.map(crate::adapters::sql::stored_version).transpose()?,
                        }));
                    }
                }
                Ok(Ok(()))
            }

            /// Rewrites the list memberships and custom field values of `customer` (the
            /// query tables of migration 5); `fresh` when the customer was just inserted.
            async fn index_memberships(
                tx: &mut sqlx::Transaction<'static, $db>,
                customer: &crate::records::customer::Customer,
                fresh: bool,
            ) -> Result<(), StoreError> {
                use crate::adapters::sql::backend;
                let id = customer.id.to_string();
                if !fresh {
                    sqlx::query("DELETE FROM cd_customer_lists WHERE customer_id = $1")
                        .bind(&id)
                        .execute(&mut **tx)
                        .await
                        .map_err(backend("re-indexing list memberships"))?;
                    sqlx::query("DELETE FROM cd_customer_fields WHERE customer_id = $1")
                        .bind(&id)
                        .execute(&mut **tx)
                        .await
                        .map_err(backend("re-indexing custom fields"))?;
                }
                for side in crate::adapters::sql::membership_rows(customer) {
                    let Some(columns) = side.rows.first().map(Vec::len) else { continue };
                    let sql = format!(
                        "{} {}",
                        side.insert,
                        crate::adapters::sql::values_rows(side.rows.len(), columns, 1),
                    );
                    Self::bind_all(sqlx::query(&sql), side.rows.into_iter().flatten().collect())
                        .execute(&mut **tx)
                        .await
                        .map_err(backend(side.what))?;
                }
                Ok(())
            }

            /// Recomputes the booking statistics of `customer` from its bookings as they stand
            /// in `tx`: the booking count, last booking and totals per currency.
            async fn restate(
                tx: &mut sqlx::Transaction<'static, $db>,
                customer: crate::values::ids::CustomerId,
            ) -> Result<(), StoreError> {
                use crate::adapters::sql::{backend, from_json};
                let id = customer.to_string();
                // The customer's row lock orders concurrent commits touching its bookings: the
                // later one reads the bookings only once the earlier one has committed.
                if !Self::LOCK.is_empty() {
                    sqlx::query(&format!("SELECT id FROM cd_customers WHERE id = $1 {}", Self::LOCK))
                        .bind(&id)
                        .fetch_optional(&mut **tx)
                        .await
                        .map_err(backend("locking a customer"))?;
                }
                let records: Vec<String> =
                    sqlx::query_scalar("SELECT record FROM cd_bookings WHERE customer_id = $1")
                        .bind(&id)
                        .fetch_all(&mut **tx)
                        .await
                        .map_err(backend("reading a customer's bookings"))?;
                let bookings = records
                    .iter()
                    .map(|text| from_json::<crate::records::booking::Booking>(text, "booking"))
                    .collect::<Result<Vec<_>, _>>()?;
                let stats = crate::ports::query::evaluation::CustomerStats::of(&bookings);
                sqlx::query(
                    "UPDATE cd_customers SET booking_count = $2, last_booking_at = $3 WHERE id = $1",
                )
                .bind(&id)
                .bind(crate::adapters::sql::count_column(stats.booking_count))
                .bind(crate::ports::query::evaluation::last_booking_key(stats.last_booking))
                .execute(&mut **tx)
                .await
                .map_err(backend("updating booking statistics"))?;
                sqlx::query("DELETE FROM cd_customer_totals WHERE customer_id = $1")
                    .bind(&id)
                    .execute(&mut **tx)
                    .await
                    .map_err(backend("updating booking totals"))?;
                if !stats.totals.is_empty() {
                    let sql = format!(
                        "INSERT INTO cd_customer_totals (customer_id, currency, total) VALUES {}",
                        crate::adapters::sql::values_rows(stats.totals.len(), 3, 1),
                    );
                    let mut statement = sqlx::query(&sql);
                    for (currency, total) in &stats.totals {
                        statement = statement.bind(&id).bind(currency.as_str()).bind(*total);
                    }
                    statement
                        .execute(&mut **tx)
                        .await
                        .map_err(backend("updating booking totals"))?;
                }
                Ok(())
            }

            /// Adds the statistics of newly created bookings (`stats`) to those stored for
            /// `customer`, returning the customer's version (`None` when there is no such
            /// customer). The row is locked until the transaction ends.
            async fn add_statistics(
                tx: &mut sqlx::Transaction<'static, $db>,
                customer: crate::values::ids::CustomerId,
                stats: &crate::ports::query::evaluation::CustomerStats,
            ) -> Result<Option<i64>, StoreError> {
                let id = customer.to_string();
                let sql = Self::DEPENDENT_ROWS.add_statistics(stats.totals.len());
                let mut statement = sqlx::query_scalar(&sql)
                    .bind(&id)
                    .bind(crate::adapters::sql::count_column(stats.booking_count))
                    .bind(crate::ports::query::evaluation::last_booking_key(stats.last_booking));
                for (currency, total) in &stats.totals {
                    statement = statement.bind(currency.as_str()).bind(*total);
                }
                // Every row is read, so every statement of a list runs.
                let versions: Vec<i64> = statement
                    .fetch_all(&mut **tx)
                    .await
                    .map_err(crate::adapters::sql::backend("updating booking statistics"))?;
                Ok(versions.first().copied())
            }

            /// Fills the search columns and tables of migration 5 for every stored customer,
            /// a page at a time, inside the migration's transaction.
            async fn backfill_search(
                tx: &mut sqlx::Transaction<'static, $db>,
            ) -> Result<(), StoreError> {
                use crate::adapters::sql::{backend, from_json};
                let mut after = String::new();
                loop {
                    let rows: Vec<(String, String)> = sqlx::query_as(
                        "SELECT id, record FROM cd_customers WHERE id > $1 ORDER BY id LIMIT 500",
                    )
                    .bind(&after)
                    .fetch_all(&mut **tx)
                    .await
                    .map_err(backend("reading customers to index"))?;
                    let Some((last, _)) = rows.last() else { break };
                    after = last.clone();
                    for (id, record) in &rows {
                        let customer: crate::records::customer::Customer = from_json(record, "customer")?;
                        let columns = crate::ports::query::evaluation::SearchColumns::of(&customer);
                        sqlx::query(
                            "UPDATE cd_customers SET search_text = $2, sort_name = $3, initial = $4, \
                             country = $5 WHERE id = $1",
                        )
                        .bind(id)
                        .bind(columns.search_text)
                        .bind(columns.sort_name)
                        .bind(columns.initial)
                        .bind(columns.country.map(|c| c.as_str().to_owned()))
                        .execute(&mut **tx)
                        .await
                        .map_err(backend("indexing a customer"))?;
                        Self::index_memberships(tx, &customer, false).await?;
                        Self::restate(tx, customer.id).await?;
                    }
                }
                Ok(())
            }

            /// Binds `binds` to `query` in order.
            fn bind_all<'q>(
                mut query: sqlx::query::Query<'q, $db, <$db as sqlx::Database>::Arguments<'q>>,
                binds: Vec<crate::adapters::sql::Bind>,
            ) -> sqlx::query::Query<'q, $db, <$db as sqlx::Database>::Arguments<'q>> {
                use crate::adapters::sql::Bind;
                for value in binds {
                    query = match value {
                        Bind::Text(text) => query.bind(text),
                        Bind::MaybeText(text) => query.bind(text),
                        Bind::Int(number) => query.bind(number),
                    };
                }
                query
            }

            /// Runs a commit planned by [`one_call::plan`](crate::adapters::sql::one_call::plan):
            /// `true` when it is committed, `false` when it is not (a check failed, or the
            /// database refused) and nothing of it remains.
            pub(crate) async fn commit_in_one_call(&self, call: crate::adapters::sql::one_call::OneCall) -> bool {
                let Ok(connection) = self.committer().acquire().await else {
                    return false;
                };
                let mut connection = crate::adapters::sql::SettledOrClosed::new(connection);
                let done = Self::bind_all(sqlx::query(&call.sql), call.binds)
                    .execute(&mut *connection.connection)
                    .await;
                if let Ok(done) = &done {
                    // The store span the service opened around the commit, if any.
                    #[cfg(feature = "tracing")]
                    tracing::Span::current().record("rows_affected", done.rows_affected());
                    #[cfg(not(feature = "tracing"))]
                    let _ = done;
                    connection.settle();
                    return true;
                }
                // A failed statement is undone on its own; a transaction the call opened is
                // rolled back, and a connection that cannot roll back is closed.
                if !call.opens_transaction
                    || sqlx::query("ROLLBACK").execute(&mut *connection.connection).await.is_ok()
                {
                    connection.settle();
                }
                false
            }

            /// Applies `changes` inside `tx`: `Ok(Err(conflict))` when an expectation fails
            /// (the caller rolls back), `Err` when the database fails.
            /// How many rows the transaction's connection has changed so far (see
            /// `ROWS_CHANGED`), or `None` if the database would not say: the count is for the
            /// trace only and never fails a commit.
            #[cfg(feature = "tracing")]
            async fn rows_changed(tx: &mut sqlx::Transaction<'static, $db>) -> Option<u64> {
                let changed: i64 = sqlx::query_scalar(Self::ROWS_CHANGED)
                    .fetch_one(&mut **tx)
                    .await
                    .ok()?;
                u64::try_from(changed).ok()
            }

            async fn apply(
                tx: &mut sqlx::Transaction<'static, $db>,
                changes: crate::ports::store::changes::ChangeSet,
            ) -> Result<Result<(), crate::ports::store::Conflict>, StoreError> {
                use crate::ports::store::Conflict;
                use crate::adapters::sql::{backend, block_key, nanos, to_json, version_column};
                use crate::ports::store::changes::{BlocklistChange, ChangeSetParts, Expected};

                let ChangeSetParts {
                    mut customers,
                    mut bookings,
                    guards,
                    booking_guards,
                    deletions,
                    blocklist,
                    merges,
                    lists,
                    audit,
                    accounts,
                    account_deletions,
                    account_tokens,
                    ..
                } = changes.into_parts();
                // One order for every writer, so concurrent commits cannot deadlock.
                customers.sort_by_key(|write| write.record.id);
                bookings.sort_by_key(|write| write.record.id);

                // Bookings this commit creates add to their customer's statistics in place (one
                // statement, whatever the number of bookings the customer has); bookings it
                // rewrites, which may move, cancel or re-date them, have the statistics of the
                // customers they leave and join recomputed once they are written.
                let mut additions: std::collections::BTreeMap<crate::values::ids::CustomerId, Vec<&crate::records::booking::Booking>> =
                    std::collections::BTreeMap::new();
                for write in bookings.iter().filter(|write| write.expected == Expected::Absent) {
                    if let Some(customer) = write.record.attribution.customer() {
                        additions.entry(customer).or_default().push(&write.record);
                    }
                }
                let mut additions: std::collections::BTreeMap<crate::values::ids::CustomerId, crate::ports::query::evaluation::CustomerStats> =
                    additions
                        .into_iter()
                        .map(|(customer, created)| (customer, crate::ports::query::evaluation::CustomerStats::of(created)))
                        .collect();

                for guard in guards.iter().chain(&deletions) {
                    // A guarded customer gaining bookings is checked and updated by one
                    // statement, which takes the same row lock as the check alone.
                    let found = match additions.remove(&guard.customer) {
                        Some(stats) => Self::add_statistics(tx, guard.customer, &stats).await?,
                        None => {
                            let sql = if Self::LOCK.is_empty() {
                                "SELECT version FROM cd_customers WHERE id = $1".to_owned()
                            } else {
                                format!("SELECT version FROM cd_customers WHERE id = $1 {}", Self::LOCK)
                            };
                            sqlx::query_scalar(&sql)
                                .bind(guard.customer.to_string())
                                .fetch_optional(&mut **tx)
                                .await
                                .map_err(backend("checking a customer version"))?
                        }
                    };
                    let found = found.map(crate::adapters::sql::stored_version).transpose()?;
                    if found != Some(guard.version) {
                        return Ok(Err(Conflict::CustomerVersion {
                            id: guard.customer,
                            expected: Expected::Version(guard.version),
                            found,
                        }));
                    }
                }

                // Keys of every rewritten or deleted customer are released first, so keys
                // can move between customers within one commit.
                // A customer this commit creates has none yet.
                for id in customers
                    .iter()
                    .filter(|write| write.expected != Expected::Absent)
                    .map(|write| write.record.id)
                    .chain(deletions.iter().map(|deletion| deletion.customer))
                {
                    sqlx::query("DELETE FROM cd_customer_email_keys WHERE customer_id = $1")
                        .bind(id.to_string())
                        .execute(&mut **tx)
                        .await
                        .map_err(backend("releasing email keys"))?;
                }

                for write in &customers {
                    let customer = &write.record;
                    let id = customer.id.to_string();
                    let done = match write.expected {
                        // Its statistics start empty: its bookings add to them below.
                        Expected::Absent => Self::bind_all(
                            sqlx::query(&crate::adapters::sql::insert_customer_sql(
                                &crate::adapters::sql::placeholders(11, 1),
                            )),
                            crate::adapters::sql::customer_row(customer, &crate::ports::query::evaluation::CustomerStats::default())?,
                        )
                        .execute(&mut **tx)
                        .await,
                        // The statistics columns are kept by the bookings, not rewritten here.
                        Expected::Version(expected) => {
                            let mut binds = crate::adapters::sql::customer_columns(customer)?;
                            binds.push(crate::adapters::sql::Bind::Int(version_column(expected)));
                            Self::bind_all(
                                sqlx::query(
                                    "UPDATE cd_customers SET version = $2, status = $3, created_at = $4, \
                                     record = $5, search_text = $6, sort_name = $7, initial = $8, \
                                     country = $9 WHERE id = $1 AND version = $10",
                                ),
                                binds,
                            )
                            .execute(&mut **tx)
                            .await
                        }
                    }
                    .map_err(backend("writing a customer"))?;
                    if done.rows_affected() == 0 {
                        let found = Self::version_in(tx, "customers", id)
                            .await?;
                        return Ok(Err(Conflict::CustomerVersion {
                            id: customer.id,
                            expected: write.expected,
                            found,
                        }));
                    }
                    Self::index_memberships(tx, customer, write.expected == Expected::Absent).await?;
                }
                for write in &customers {
                    let customer = &write.record;
                    let mut keys: Vec<&crate::values::email::key::EmailKey> = customer.indexed_keys().collect();
                    keys.sort();
                    keys.dedup();
                    for key in keys {
                        let done = sqlx::query(
                            "INSERT INTO cd_customer_email_keys (email_key, customer_id) VALUES ($1, $2) \
                             ON CONFLICT (email_key) DO NOTHING",
                        )
                        .bind(key.as_str())
                        .bind(customer.id.to_string())
                        .execute(&mut **tx)
                        .await
                        .map_err(backend("claiming an email key"))?;
                        if done.rows_affected() == 0 {
                            let holder: Option<String> = sqlx::query_scalar(
                                "SELECT customer_id FROM cd_customer_email_keys WHERE email_key = $1",
                            )
                            .bind(key.as_str())
                            .fetch_optional(&mut **tx)
                            .await
                            .map_err(backend("reading an email key's holder"))?;
                            // No holder row: a racing commit took the key and let it go again.
                            // There is nobody to name, but a retry reads the new state.
                            let Some(holder) = holder else {
                                return Ok(Err(Conflict::TransactionAborted {
                                    reason: format!("email key {key} changed hands during the commit"),
                                }));
                            };
                            return Ok(Err(Conflict::EmailKeyTaken {
                                key: key.clone(),
                                holder: crate::adapters::sql::stored_customer_id(&holder)?,
                            }));
                        }
                    }
                }

                // After the customer rows are written (and so locked), before any booking moves:
                // no booking can be attached to these customers until this commit ends.
                for guard in &booking_guards {
                    let mut current: Vec<String> = sqlx::query_scalar(
                        "SELECT id FROM cd_bookings WHERE customer_id = $1 ORDER BY id",
                    )
                    .bind(guard.customer.to_string())
                    .fetch_all(&mut **tx)
                    .await
                    .map_err(backend("checking a customer's bookings"))?;
                    current.dedup();
                    let expected: Vec<String> = guard.bookings.iter().map(ToString::to_string).collect();
                    if current != expected {
                        return Ok(Err(Conflict::CustomerBookings {
                            customer: guard.customer,
                        }));
                    }
                }

                // Every customer a rewritten booking joins or leaves: its booking statistics
                // are recomputed once the bookings are written.
                let mut restated: std::collections::BTreeSet<crate::values::ids::CustomerId> =
                    std::collections::BTreeSet::new();
                for write in &bookings {
                    let booking = &write.record;
                    let id = booking.id.to_string();
                    if write.expected != Expected::Absent {
                        restated.extend(booking.attribution.customer());
                        let before: Option<Option<String>> =
                            sqlx::query_scalar("SELECT customer_id FROM cd_bookings WHERE id = $1")
                                .bind(&id)
                                .fetch_optional(&mut **tx)
                                .await
                                .map_err(backend("reading a booking's customer"))?;
                        if let Some(Some(before)) = before {
                            restated.insert(crate::adapters::sql::stored_customer_id(&before)?);
                        }
                    }
                    let keys: std::collections::BTreeSet<String> =
                        crate::adapters::sql::match_index_keys(&booking.contact.match_keys()).collect();
                    // The row's columns, `$1` to `$7`, as a new booking and a rewrite both write them.
                    let mut binds = crate::adapters::sql::booking_row(booking)?;
                    let written = match write.expected {
                        Expected::Absent => {
                            let sql = Self::DEPENDENT_ROWS.insert_booking(keys.len());
                            binds.extend(keys.iter().cloned().map(crate::adapters::sql::Bind::Text));
                            Self::bind_all(sqlx::query(&sql), binds)
                                .fetch_all(&mut **tx)
                                .await
                                .map(|inserted| inserted.len() as u64)
                        }
                        Expected::Version(expected) => {
                            binds.push(crate::adapters::sql::Bind::Int(version_column(expected)));
                            Self::bind_all(
                                sqlx::query(
                                    "UPDATE cd_bookings SET version = $2, customer_id = $3, email_key = $4, \
                                     starts_at = $5, created_at = $6, record = $7 WHERE id = $1 AND version = $8",
                                ),
                                binds,
                            )
                            .execute(&mut **tx)
                            .await
                            .map(|done| done.rows_affected())
                        }
                    }
                    .map_err(backend("writing a booking"))?;
                    if written == 0 {
                        let found = Self::version_in(tx, "bookings", id)
                            .await?;
                        return Ok(Err(Conflict::BookingVersion {
                            id: booking.id,
                            expected: write.expected,
                            found,
                        }));
                    }
                    if write.expected == Expected::Absent {
                        // Its match keys went in with it.
                        continue;
                    }
                    sqlx::query("DELETE FROM cd_booking_match_keys WHERE booking_id = $1")
                        .bind(&id)
                        .execute(&mut **tx)
                        .await
                        .map_err(backend("re-indexing a booking"))?;
                    if !keys.is_empty() {
                        let sql = format!(
                            "INSERT INTO cd_booking_match_keys (match_key, booking_id) VALUES {}",
                            crate::adapters::sql::values_rows(keys.len(), 2, 1),
                        );
                        let mut statement = sqlx::query(&sql);
                        for key in keys {
                            statement = statement.bind(key).bind(&id);
                        }
                        statement
                            .execute(&mut **tx)
                            .await
                            .map_err(backend("indexing a booking"))?;
                    }
                }

                for deletion in &deletions {
                    restated.remove(&deletion.customer);
                    additions.remove(&deletion.customer);
                }
                for (customer, stats) in &additions {
                    if !restated.contains(customer) {
                        Self::add_statistics(tx, *customer, stats).await?;
                    }
                }
                for customer in restated {
                    Self::restate(tx, customer).await?;
                }

                // Deletions come after the bookings, which this commit moved off the customer.
                for deletion in &deletions {
                    // The query tables go first and explicitly: a pool without foreign keys
                    // (SQLite's `from_pool`) would not cascade, and they hold personal values.
                    for sql in [
                        "DELETE FROM cd_customer_totals WHERE customer_id = $1",
                        "DELETE FROM cd_customer_lists WHERE customer_id = $1",
                        "DELETE FROM cd_customer_fields WHERE customer_id = $1",
                    ] {
                        sqlx::query(sql)
                            .bind(deletion.customer.to_string())
                            .execute(&mut **tx)
                            .await
                            .map_err(backend("deleting a customer's query rows"))?;
                    }
                    sqlx::query("DELETE FROM cd_customers WHERE id = $1")
                        .bind(deletion.customer.to_string())
                        .execute(&mut **tx)
                        .await
                        .map_err(backend("deleting a customer"))?;
                }

                for write in &merges {
                    let merge = &write.record;
                    let id = merge.id.to_string();
                    let record = to_json(merge, "merge record")?;
                    let done = match write.expected {
                        Expected::Absent => sqlx::query(
                            "INSERT INTO cd_merges (id, version, merged_at, record) VALUES ($1, $2, $3, $4) \
                             ON CONFLICT (id) DO NOTHING",
                        )
                        .bind(&id)
                        .bind(version_column(merge.version))
                        .bind(nanos(merge.merged_at))
                        .bind(record)
                        .execute(&mut **tx)
                        .await,
                        Expected::Version(expected) => sqlx::query(
                            "UPDATE cd_merges SET version = $2, merged_at = $3, record = $4 WHERE id = $1 AND version = $5",
                        )
                        .bind(&id)
                        .bind(version_column(merge.version))
                        .bind(nanos(merge.merged_at))
                        .bind(record)
                        .bind(version_column(expected))
                        .execute(&mut **tx)
                        .await,
                    }
                    .map_err(backend("writing a merge record"))?;
                    if done.rows_affected() == 0 {
                        let found = Self::version_in(tx, "merges", id)
                            .await?;
                        return Ok(Err(Conflict::MergeVersion {
                            id: merge.id,
                            expected: write.expected,
                            found,
                        }));
                    }
                    if write.expected == Expected::Absent {
                        let mut people = vec![merge.report.survivor];
                        people.extend(merge.report.merged.iter().copied());
                        people.sort();
                        people.dedup();
                        for person in people {
                            sqlx::query("INSERT INTO cd_merge_participants (customer_id, merge_id) VALUES ($1, $2)")
                                .bind(person.to_string())
                                .bind(&id)
                                .execute(&mut **tx)
                                .await
                                .map_err(backend("indexing a merge record"))?;
                        }
                    }
                }

                for write in &lists {
                    let list = &write.record;
                    let id = list.id.to_string();
                    let name_key = list.name_key();
                    let holder: Option<String> = sqlx::query_scalar(
                        "SELECT id FROM cd_lists WHERE name_key = $1 AND id <> $2",
                    )
                    .bind(&name_key)
                    .bind(&id)
                    .fetch_optional(&mut **tx)
                    .await
                    .map_err(backend("checking a list name"))?;
                    if holder.is_some() {
                        return Ok(Err(Conflict::ListNameTaken {
                            name: list.name.as_str().to_owned(),
                        }));
                    }
                    let record = to_json(list, "list")?;
                    let done = match write.expected {
                        Expected::Absent => sqlx::query(
                            "INSERT INTO cd_lists (id, version, name_key, record) VALUES ($1, $2, $3, $4) \
                             ON CONFLICT DO NOTHING",
                        )
                        .bind(&id)
                        .bind(version_column(list.version))
                        .bind(&name_key)
                        .bind(record)
                        .execute(&mut **tx)
                        .await,
                        Expected::Version(expected) => sqlx::query(
                            "UPDATE cd_lists SET version = $2, name_key = $3, record = $4 WHERE id = $1 AND version = $5",
                        )
                        .bind(&id)
                        .bind(version_column(list.version))
                        .bind(&name_key)
                        .bind(record)
                        .bind(version_column(expected))
                        .execute(&mut **tx)
                        .await,
                    }
                    .map_err(backend("writing a list"))?;
                    if done.rows_affected() == 0 {
                        let found: Option<i64> = sqlx::query_scalar("SELECT version FROM cd_lists WHERE id = $1")
                            .bind(&id)
                            .fetch_optional(&mut **tx)
                            .await
                            .map_err(backend("checking a list version"))?;
                        if found.is_none() && write.expected == Expected::Absent {
                            // Not the id: a concurrent list took the name first.
                            return Ok(Err(Conflict::ListNameTaken {
                                name: list.name.as_str().to_owned(),
                            }));
                        }
                        return Ok(Err(Conflict::ListVersion {
                            id: list.id,
                            expected: write.expected,
                            found: found.map(crate::adapters::sql::stored_version).transpose()?,
                        }));
                    }
                }

                if let Err(conflict) =
                    Self::apply_accounts(tx, accounts, account_deletions, account_tokens).await?
                {
                    return Ok(Err(conflict));
                }

                for event in &audit {
                    let mut people = event.customers.clone();
                    people.sort();
                    people.dedup();
                    let record = to_json(event, "audit event")?;
                    let sql = Self::DEPENDENT_ROWS.append_audit_event(people.len());
                    let mut statement = sqlx::query(&sql).bind(nanos(event.at)).bind(record);
                    for person in &people {
                        statement = statement.bind(person.to_string());
                    }
                    statement
                        .execute(&mut **tx)
                        .await
                        .map_err(backend("appending an audit event"))?;
                }

                for change in &blocklist {
                    match change {
                        BlocklistChange::Add(entry) => {
                            sqlx::query(
                                "INSERT INTO cd_blocklist (target, record) VALUES ($1, $2) \
                                 ON CONFLICT (target) DO UPDATE SET record = excluded.record",
                            )
                            .bind(block_key(&entry.target))
                            .bind(to_json(entry, "blocklist entry")?)
                            .execute(&mut **tx)
                            .await
                            .map_err(backend("adding to the blocklist"))?;
                        }
                        BlocklistChange::Remove(target) => {
                            sqlx::query("DELETE FROM cd_blocklist WHERE target = $1")
                                .bind(block_key(target))
                                .execute(&mut **tx)
                                .await
                                .map_err(backend("removing from the blocklist"))?;
                        }
                    }
                }
                Ok(Ok(()))
            }
        }

        impl crate::ports::store::Store for $store {
            async fn customer(
                &self,
                id: crate::values::ids::CustomerId,
            ) -> Result<Option<crate::records::customer::Customer>, StoreError> {
                let query = sqlx::query("SELECT record FROM cd_customers WHERE id = $1").bind(id.to_string());
                Ok(self.records(query, "customer").await?.pop())
            }

            async fn booking(
                &self,
                id: crate::values::ids::BookingId,
            ) -> Result<Option<crate::records::booking::Booking>, StoreError> {
                let query = sqlx::query("SELECT record FROM cd_bookings WHERE id = $1").bind(id.to_string());
                Ok(self.records(query, "booking").await?.pop())
            }

            async fn lookup_email(
                &self,
                key: &crate::values::email::key::EmailKey,
            ) -> Result<crate::ports::store::EmailLookup, StoreError> {
                use sqlx::Row;
                // One round trip: the holder, then the address entry, then the domain entry.
                let rows = sqlx::query(
                    "SELECT CAST(0 AS BIGINT) AS kind, c.record FROM cd_customer_email_keys k \
                     JOIN cd_customers c ON c.id = k.customer_id WHERE k.email_key = $1 \
                     UNION ALL SELECT CAST(1 AS BIGINT), record FROM cd_blocklist WHERE target = $2 \
                     UNION ALL SELECT CAST(2 AS BIGINT), record FROM cd_blocklist WHERE target = $3",
                )
                .bind(key.as_str())
                .bind(crate::adapters::sql::block_key(&crate::records::customer::BlockTarget::Address(key.clone())))
                .bind(format!("domain:{}", key.domain()))
                .fetch_all(&self.pool)
                .await
                .map_err(crate::adapters::sql::backend("looking up an email"))?;
                let mut customer = None;
                let mut blocks: Vec<(i64, crate::records::customer::BlockEntry)> = Vec::new();
                for row in &rows {
                    let kind: i64 = row.try_get(0).map_err(crate::adapters::sql::backend("looking up an email"))?;
                    let text: String = row.try_get(1).map_err(crate::adapters::sql::backend("looking up an email"))?;
                    if kind == 0 {
                        customer = Some(std::sync::Arc::new(crate::adapters::sql::from_json(&text, "customer")?));
                    } else {
                        blocks.push((kind, crate::adapters::sql::from_json(&text, "blocklist entry")?));
                    }
                }
                blocks.sort_by_key(|(kind, _)| *kind);
                Ok(crate::ports::store::EmailLookup::new(customer, blocks.into_iter().next().map(|(_, entry)| entry)))
            }

            async fn customer_bookings(
                &self,
                customer: crate::values::ids::CustomerId,
            ) -> Result<Vec<crate::records::booking::Booking>, StoreError> {
                let query = sqlx::query(
                    "SELECT record FROM cd_bookings WHERE customer_id = $1 ORDER BY starts_at, id",
                )
                .bind(customer.to_string());
                self.records(query, "booking").await
            }


            async fn unattributed_bookings(
                &self,
                key: &crate::values::email::key::EmailKey,
            ) -> Result<Vec<crate::records::booking::Booking>, StoreError> {
                let query = sqlx::query(
                    "SELECT record FROM cd_bookings WHERE email_key = $1 AND customer_id IS NULL \
                     ORDER BY created_at, id",
                )
                .bind(key.as_str());
                self.records(query, "booking").await
            }

            async fn bookings_matching(
                &self,
                keys: &crate::records::profile::MatchKeys,
            ) -> Result<Vec<crate::records::booking::Booking>, StoreError> {
                let keys: Vec<String> = crate::adapters::sql::match_index_keys(keys).collect();
                if keys.is_empty() {
                    return Ok(Vec::new());
                }
                let placeholders: Vec<String> = (1..=keys.len()).map(|n| format!("${n}")).collect();
                let sql = format!(
                    "SELECT b.record FROM cd_bookings b WHERE b.id IN \
                     (SELECT m.booking_id FROM cd_booking_match_keys m WHERE m.match_key IN ({})) \
                     ORDER BY b.starts_at, b.id",
                    placeholders.join(", ")
                );
                let mut query = sqlx::query(&sql);
                for key in keys {
                    query = query.bind(key);
                }
                self.records(query, "booking").await
            }



            async fn merge_record(
                &self,
                id: crate::values::ids::MergeId,
            ) -> Result<Option<crate::records::merge::MergeRecord>, StoreError> {
                let query = sqlx::query("SELECT record FROM cd_merges WHERE id = $1").bind(id.to_string());
                Ok(self.records(query, "merge record").await?.pop())
            }

            async fn merges_involving(
                &self,
                customer: crate::values::ids::CustomerId,
            ) -> Result<Vec<crate::records::merge::MergeRecord>, StoreError> {
                let query = sqlx::query(
                    "SELECT m.record FROM cd_merge_participants p JOIN cd_merges m ON m.id = p.merge_id \
                     WHERE p.customer_id = $1 ORDER BY m.merged_at, m.id",
                )
                .bind(customer.to_string());
                self.records(query, "merge record").await
            }

            async fn audit_trail(
                &self,
                customer: crate::values::ids::CustomerId,
            ) -> Result<Vec<crate::records::audit::AuditEvent>, StoreError> {
                let query = sqlx::query(
                    "SELECT e.record FROM cd_audit_event_customers c JOIN cd_audit_events e ON e.seq = c.event_seq \
                     WHERE c.customer_id = $1 ORDER BY e.seq",
                )
                .bind(customer.to_string());
                self.records(query, "audit event").await
            }

            async fn lists(&self) -> Result<Vec<crate::records::notes::CustomerList>, StoreError> {
                let query = sqlx::query("SELECT record FROM cd_lists ORDER BY name_key, id");
                self.records(query, "list").await
            }




            async fn account(
                &self,
                id: crate::values::ids::AccountId,
            ) -> Result<Option<crate::records::account::Account>, StoreError> {
                let query = sqlx::query("SELECT record FROM cd_accounts WHERE id = $1").bind(id.to_string());
                Ok(self.records(query, "account").await?.pop())
            }


            async fn account_by_customer(
                &self,
                customer: crate::values::ids::CustomerId,
            ) -> Result<Option<crate::records::account::Account>, StoreError> {
                let query = sqlx::query("SELECT record FROM cd_accounts WHERE customer_id = $1")
                    .bind(customer.to_string());
                Ok(self.records(query, "account").await?.pop())
            }

            async fn accounts_claiming(
                &self,
                customers: &[crate::values::ids::CustomerId],
            ) -> Result<Vec<Option<crate::records::account::Account>>, StoreError> {
                let accounts: Vec<crate::records::account::Account> = self
                    .records_of_customers(
                        "SELECT record FROM cd_accounts WHERE customer_id IN ({ids})",
                        customers,
                        "account",
                    )
                    .await?;
                let found = accounts
                    .into_iter()
                    .filter_map(|account| Some((account.customer?, Some(account))))
                    .collect();
                Ok(crate::adapters::sql::answer_in_order(customers, found, || None))
            }



            async fn commit(&self, changes: crate::ports::store::changes::ChangeSet) -> Result<(), StoreError> {
                let erasure = changes.is_erasure();
                // An erasure takes the general path, whose transaction is prepared for it.
                if !erasure {
                    if let Some(call) = crate::adapters::sql::one_call::plan(Self::DEPENDENT_ROWS, &changes)? {
                        if self.commit_in_one_call(call).await {
                            return Ok(());
                        }
                        // Nothing of it remains; the general path finds out why, and reports it.
                    }
                }
                let aborted = |error: sqlx::Error, what: &'static str| match Self::aborted(&error) {
                    Some(reason) => StoreError::Conflict(crate::ports::store::Conflict::TransactionAborted { reason }),
                    None => StoreError::backend(what, error),
                };
                let mut tx = self
                    .begin()
                    .await
                    .map_err(|error| aborted(error, "starting a transaction"))?;
                if erasure && !Self::ERASURE_SETUP.is_empty() {
                    if let Err(error) = sqlx::query(Self::ERASURE_SETUP).execute(&mut *tx).await {
                        let _ = tx.rollback().await;
                        return Err(aborted(error, "preparing an erasure"));
                    }
                }
                // Rows affected, for the store span the service opened around the commit:
                // read only when a subscriber records that span, so it costs nothing else.
                #[cfg(feature = "tracing")]
                let rows_before = if tracing::Span::current().is_disabled() {
                    None
                } else {
                    Self::rows_changed(&mut tx).await
                };
                match Self::apply(&mut tx, changes).await {
                    Ok(Ok(())) => {
                        #[cfg(feature = "tracing")]
                        if let Some(before) = rows_before {
                            if let Some(after) = Self::rows_changed(&mut tx).await {
                                tracing::Span::current()
                                    .record("rows_affected", after.saturating_sub(before));
                            }
                        }
                        tx.commit()
                            .await
                            .map_err(|error| aborted(error, "committing"))?;
                        if erasure {
                            self.after_erasure().await;
                        }
                        Ok(())
                    }
                    Ok(Err(conflict)) => {
                        tx.rollback()
                            .await
                            .map_err(crate::adapters::sql::backend("rolling back"))?;
                        Err(StoreError::Conflict(conflict))
                    }
                    Err(error) => {
                        // Dropping the transaction rolls it back too; an explicit rollback
                        // keeps the connection clean for the pool.
                        let _ = tx.rollback().await;
                        let reason = match &error {
                            StoreError::Backend { source: Some(source), .. } => source
                                .downcast_ref::<sqlx::Error>()
                                .and_then(Self::aborted),
                            _ => None,
                        };
                        Err(match reason {
                            Some(reason) => StoreError::Conflict(
                                crate::ports::store::Conflict::TransactionAborted { reason },
                            ),
                            None => error,
                        })
                    }
                }
            }
        }

        impl crate::ports::store::AccountStore for $store {
            async fn account_by_email(
                &self,
                key: &crate::values::email::key::EmailKey,
            ) -> Result<Option<crate::records::account::Account>, StoreError> {
                let query = sqlx::query("SELECT record FROM cd_accounts WHERE email_key = $1")
                    .bind(key.as_str().to_owned());
                Ok(self.records(query, "account").await?.pop())
            }

            async fn account_token(
                &self,
                hash: &crate::records::tokens::ResetTokenHash,
            ) -> Result<Option<crate::records::account::AccountToken>, StoreError> {
                let query = sqlx::query("SELECT record FROM cd_account_tokens WHERE hash = $1")
                    .bind(hash.to_hex());
                Ok(self.records(query, "account token").await?.pop())
            }

            async fn account_tokens(
                &self,
                account: crate::values::ids::AccountId,
            ) -> Result<Vec<crate::records::account::AccountToken>, StoreError> {
                let query = sqlx::query(
                    "SELECT record FROM cd_account_tokens WHERE account_id = $1 ORDER BY created_at, hash",
                )
                .bind(account.to_string());
                self.records(query, "account token").await
            }
        }

        impl crate::ports::store::SearchStore for $store {
            async fn search_customers(
                &self,
                query: &crate::ports::query::builder::CustomerQuery,
                after: Option<&crate::ports::query::evaluation::SortPosition>,
                limit: usize,
            ) -> Result<Vec<crate::ports::query::evaluation::SearchHit>, StoreError> {
                use sqlx::Row;
                use crate::adapters::sql::{backend, from_json, search_sql};
                let Some((sql, binds)) = search_sql(query, after, limit) else {
                    return Ok(Vec::new());
                };
                let rows = Self::bind_all(sqlx::query(&sql), binds)
                    .fetch_all(&self.pool)
                    .await
                    .map_err(backend("searching customers"))?;
                let text_key = matches!(query.sort, crate::ports::query::builder::SortBy::Name);
                rows.iter()
                    .map(|row| {
                        let record: String = row.try_get(0).map_err(backend("searching customers"))?;
                        let customer: crate::records::customer::Customer = from_json(&record, "customer")?;
                        let value = if text_key {
                            crate::ports::query::evaluation::SortValue::Text(row.try_get(1).map_err(backend("searching customers"))?)
                        } else {
                            crate::ports::query::evaluation::SortValue::Int(row.try_get(1).map_err(backend("searching customers"))?)
                        };
                        let position = crate::ports::query::evaluation::SortPosition::new(value, customer.id);
                        Ok(crate::ports::query::evaluation::SearchHit::new(customer, position))
                    })
                    .collect()
            }

            async fn count_customers(&self, query: &crate::ports::query::builder::CustomerQuery) -> Result<u64, StoreError> {
                use sqlx::Row;
                use crate::adapters::sql::{backend, count_sql};
                let Some((sql, binds)) = count_sql(query) else {
                    return Ok(0);
                };
                let row = Self::bind_all(sqlx::query(&sql), binds)
                    .fetch_one(&self.pool)
                    .await
                    .map_err(backend("counting customers"))?;
                let count: i64 = row.try_get(0).map_err(backend("counting customers"))?;
                Ok(u64::try_from(count).unwrap_or(0))
            }
        }

        impl crate::ports::store::BulkReadStore for $store {
            async fn customers_after(
                &self,
                after: Option<crate::values::ids::CustomerId>,
                limit: usize,
            ) -> Result<Vec<crate::records::customer::Customer>, StoreError> {
                let query = sqlx::query(
                    "SELECT record FROM cd_customers WHERE id > $1 ORDER BY id LIMIT $2",
                )
                .bind(after.map(|id| id.to_string()).unwrap_or_default())
                .bind(i64::try_from(limit).unwrap_or(i64::MAX));
                self.records(query, "customer").await
            }

            async fn customers_inactive_since(
                &self,
                cutoff: chrono::DateTime<chrono::Utc>,
            ) -> Result<Vec<crate::records::customer::Customer>, StoreError> {
                let query = sqlx::query(
                    "SELECT c.record FROM cd_customers c \
                     WHERE c.status IN ('active', 'archived') AND c.created_at < $1 \
                     AND NOT EXISTS (SELECT 1 FROM cd_bookings b WHERE b.customer_id = c.id \
                                     AND (b.created_at >= $1 OR b.starts_at >= $1)) \
                     ORDER BY c.id",
                )
                .bind(crate::adapters::sql::nanos(cutoff));
                self.records(query, "customer").await
            }

            async fn bookings_of(
                &self,
                customers: &[crate::values::ids::CustomerId],
            ) -> Result<Vec<Vec<crate::records::booking::Booking>>, StoreError> {
                let bookings: Vec<crate::records::booking::Booking> = self
                    .records_of_customers(
                        "SELECT record FROM cd_bookings WHERE customer_id IN ({ids}) ORDER BY starts_at, id",
                        customers,
                        "booking",
                    )
                    .await?;
                let mut found: std::collections::HashMap<crate::values::ids::CustomerId, Vec<crate::records::booking::Booking>> =
                    std::collections::HashMap::with_capacity(customers.len());
                for booking in bookings {
                    if let Some(customer) = booking.attribution.customer() {
                        found.entry(customer).or_default().push(booking);
                    }
                }
                Ok(crate::adapters::sql::answer_in_order(customers, found, Vec::new))
            }
        }
    };
}

pub(crate) use sql_store;

/// The suggestion keys of a booking contact as the text `cd_booking_match_keys` stores:
/// kind, colon, key (see [`match_index_parts`](crate::ports::store::match_index_parts)).
pub(crate) fn match_index_keys(
    keys: &crate::records::profile::MatchKeys,
) -> impl Iterator<Item = String> + '_ {
    crate::ports::store::match_index_parts(keys).map(|(kind, key)| format!("{kind}:{key}"))
}
