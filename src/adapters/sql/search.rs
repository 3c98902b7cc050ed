//! The statements that search and count customers (see
//! [`SearchStore`](crate::ports::store::SearchStore)): the one home of the query rules in SQL.

use crate::adapters::sql::encoding::{Bind, count_column, nanos};

/// The rows a search goes through: the customers, joined with their statistics rows when the
/// query sorts or filters on them (each customer has one, written with it, so the join
/// neither adds nor drops a customer).
fn from_customers(query: &crate::ports::query::builder::CustomerQuery) -> &'static str {
    use crate::ports::query::builder::SortBy;
    let statistics = matches!(query.sort, SortBy::LastBooking | SortBy::BookingCount)
        || !query.last_booking.is_unbounded()
        || query.booking_count.min.is_some()
        || query.booking_count.max.is_some();
    if statistics {
        "cd_customers c JOIN cd_customer_stats s ON s.customer_id = c.id"
    } else {
        "cd_customers c"
    }
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
/// claimed, list, ranges, booking count, custom field) over `cd_customers c` joined with its
/// statistics row `cd_customer_stats s` (see [`from_customers`]), binding their
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
        range("s.last_booking_at", &query.last_booking, &mut conditions);
        let none = param(Bind::Int(crate::ports::query::evaluation::NO_BOOKING_KEY));
        conditions.push(format!("s.last_booking_at <> {none}"));
    }
    let count = |n: u64| Bind::Int(count_column(n));
    if let Some(min) = query.booking_count.min {
        let min = param(count(min));
        conditions.push(format!("s.booking_count >= {min}"));
    }
    if let Some(max) = query.booking_count.max {
        let max = param(count(max));
        conditions.push(format!("s.booking_count <= {max}"));
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

/// The statement that answers [`SearchStore::search_customers`](crate::ports::store::SearchStore::search_customers)
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
    let mut from = from_customers(query).to_owned();
    // The statistics sorts page through the statistics table's indexes, on (key, customer).
    let mut id = "c.id";
    let key = match query.sort {
        SortBy::Name => "c.sort_name".to_owned(),
        SortBy::Created => "c.created_at".to_owned(),
        SortBy::LastBooking => {
            id = "s.customer_id";
            "s.last_booking_at".to_owned()
        }
        SortBy::BookingCount => {
            id = "s.customer_id";
            "s.booking_count".to_owned()
        }
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
            let after_id = param(Bind::Text(after.id.to_string()));
            // A row value comparison: both databases answer it as a range of the sort
            // key's index (the sort columns and the id are never NULL).
            conditions.push(format!("({key}, {id}) {beyond} ({value}, {after_id})"));
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
             ORDER BY {key} {order}, {id} {order} LIMIT {limit}"
        )
    };
    Some((sql, binds))
}

/// The statement that answers [`SearchStore::count_customers`](crate::ports::store::SearchStore::count_customers):
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
        format!(
            "SELECT count(*) FROM {} WHERE {conditions}",
            from_customers(query)
        ),
        binds,
    ))
}
