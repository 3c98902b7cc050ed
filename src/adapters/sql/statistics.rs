//! A customer's booking statistics, kept in narrow tables of their own (migration 7):
//! `cd_customer_stats` (one row per customer: booking count, start of the last booking,
//! last activity) and `cd_customer_totals` (one row per customer and currency).
//!
//! They live apart from `cd_customers` so that recording a booking for an existing customer
//! never rewrites the customer's wide row and its indexes: it changes one narrow row, its
//! two sort-index entries and one totals row. Search joins them for its filters and sorts.
//!
//! A booking a commit creates adds to its customer's statistics in place (whatever the
//! number of bookings the customer has); a booking a commit rewrites (moved, cancelled,
//! re-dated) has the statistics of the customers it leaves and joins recomputed from their
//! bookings ([`restate`]).

use std::collections::BTreeMap;

use crate::adapters::sql::encoding::{Bind, count_column, from_json, nanos, values_rows};
use crate::adapters::sql::session::{Dialect, Session, failed};
use crate::ports::query::evaluation::{CustomerStats, NO_BOOKING_KEY, last_booking_key};
use crate::ports::store::StoreError;
use crate::records::booking::Booking;
use crate::values::ids::CustomerId;

/// What some bookings add to their customer's statistics, as the columns hold it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct StatsDelta {
    /// How many bookings.
    pub(crate) count: i64,
    /// The last booking's start key ([`NO_BOOKING_KEY`] for none).
    pub(crate) last_booking: i64,
    /// The latest of the bookings' creation times and starts ([`NO_BOOKING_KEY`] for
    /// none): a customer is inactive since a date when this is before it.
    pub(crate) last_activity: i64,
    /// Per currency, the totals of the bookings that are not cancelled.
    pub(crate) totals: Vec<(String, i64)>,
}

impl StatsDelta {
    /// The statistics of `bookings`.
    pub(crate) fn of<'a>(bookings: impl IntoIterator<Item = &'a Booking> + Clone) -> Self {
        let stats = CustomerStats::of(bookings.clone());
        let last_activity = bookings
            .into_iter()
            .map(|booking| nanos(booking.created_at).max(nanos(booking.starts_at)))
            .max()
            .map_or(NO_BOOKING_KEY, |at| at.max(NO_BOOKING_KEY + 1));
        Self {
            count: count_column(stats.booking_count),
            last_booking: last_booking_key(stats.last_booking),
            last_activity,
            totals: stats
                .totals
                .iter()
                .map(|(currency, total)| (currency.as_str().to_owned(), *total))
                .collect(),
        }
    }

    /// What new `bookings` add to each of their customers' statistics (unattributed ones
    /// add to none).
    pub(crate) fn per_customer<'a>(
        bookings: impl IntoIterator<Item = &'a Booking>,
    ) -> BTreeMap<CustomerId, Self> {
        let mut by_customer: BTreeMap<CustomerId, Vec<&Booking>> = BTreeMap::new();
        for booking in bookings {
            if let Some(customer) = booking.attribution.customer() {
                by_customer.entry(customer).or_default().push(booking);
            }
        }
        by_customer
            .into_iter()
            .map(|(customer, bookings)| (customer, Self::of(bookings)))
            .collect()
    }

    /// No bookings.
    pub(crate) fn none() -> Self {
        Self {
            count: 0,
            last_booking: NO_BOOKING_KEY,
            last_activity: NO_BOOKING_KEY,
            totals: Vec::new(),
        }
    }
}

/// Adds a delta to the statistics row of the customer bound at `$1`: `$2` bookings, last
/// booking `$3`, last activity `$4`. Changes one row when the customer exists.
pub(crate) const ADD_TO_STATS: &str = "UPDATE cd_customer_stats SET \
     booking_count = booking_count + $2, \
     last_booking_at = CASE WHEN last_booking_at < $3 THEN $3 ELSE last_booking_at END, \
     last_activity_at = CASE WHEN last_activity_at < $4 THEN $4 ELSE last_activity_at END \
     WHERE customer_id = $1";

/// The first statistics row of a new customer: `$1` to `$4` as in [`ADD_TO_STATS`].
pub(crate) const INSERT_STATS: &str = "INSERT INTO cd_customer_stats \
     (customer_id, booking_count, last_booking_at, last_activity_at) VALUES ($1, $2, $3, $4)";

/// Adds the booking totals of a delta to a customer's stored totals, one row per currency,
/// saturating at the ends of `i64` as [`CustomerStats::of`] does. The nested `CASE` keeps
/// each subtraction on the side where it cannot overflow (SQL does not promise to evaluate
/// `AND` left to right).
pub(crate) const ADD_TO_TOTALS: &str = "ON CONFLICT (customer_id, currency) DO UPDATE SET total = \
     CASE WHEN excluded.total > 0 THEN \
       CASE WHEN cd_customer_totals.total > 9223372036854775807 - excluded.total \
         THEN 9223372036854775807 ELSE cd_customer_totals.total + excluded.total END \
     ELSE \
       CASE WHEN cd_customer_totals.total < (-9223372036854775807 - 1) - excluded.total \
         THEN (-9223372036854775807 - 1) ELSE cd_customer_totals.total + excluded.total END \
     END";

/// The statement and parameters that add `delta`'s totals to `customer`'s (`None` when it
/// has none).
pub(crate) fn add_totals_statement(
    customer: &str,
    delta: &StatsDelta,
) -> Option<(String, Vec<Bind>)> {
    if delta.totals.is_empty() {
        return None;
    }
    let sql = format!(
        "INSERT INTO cd_customer_totals (customer_id, currency, total) VALUES {} {ADD_TO_TOTALS}",
        values_rows(delta.totals.len(), 3, 1)
    );
    let binds = delta
        .totals
        .iter()
        .flat_map(|(currency, total)| {
            [
                Bind::Text(customer.to_owned()),
                Bind::Text(currency.clone()),
                Bind::Int(*total),
            ]
        })
        .collect();
    Some((sql, binds))
}

/// The parameters of [`ADD_TO_STATS`] and [`INSERT_STATS`] for `customer` and `delta`.
pub(crate) fn stats_binds(customer: &str, delta: &StatsDelta) -> Vec<Bind> {
    vec![
        Bind::Text(customer.to_owned()),
        Bind::Int(delta.count),
        Bind::Int(delta.last_booking),
        Bind::Int(delta.last_activity),
    ]
}

/// Adds `delta` (bookings this commit creates) to `customer`'s statistics and totals.
pub(crate) async fn add<S: Session>(
    session: &mut S,
    customer: CustomerId,
    delta: &StatsDelta,
) -> Result<(), StoreError> {
    write(session, ADD_TO_STATS, customer, delta).await
}

/// Writes the first statistics of a customer the commit inserts: those of its bookings in
/// the same commit (`delta`), or none.
pub(crate) async fn insert<S: Session>(
    session: &mut S,
    customer: CustomerId,
    delta: &StatsDelta,
) -> Result<(), StoreError> {
    write(session, INSERT_STATS, customer, delta).await
}

/// Runs `statement` ([`ADD_TO_STATS`] or [`INSERT_STATS`]) for `customer` and `delta`,
/// then adds `delta`'s totals.
async fn write<S: Session>(
    session: &mut S,
    statement: &str,
    customer: CustomerId,
    delta: &StatsDelta,
) -> Result<(), StoreError> {
    let id = customer.to_string();
    session
        .execute(statement, stats_binds(&id, delta))
        .await
        .map_err(failed("writing booking statistics"))?;
    if let Some((sql, binds)) = add_totals_statement(&id, delta) {
        session
            .execute(&sql, binds)
            .await
            .map_err(failed("writing booking totals"))?;
    }
    Ok(())
}

/// Recomputes `customer`'s statistics and totals from its bookings as they stand in the
/// session's transaction.
pub(crate) async fn restate<S: Session>(
    session: &mut S,
    customer: CustomerId,
) -> Result<(), StoreError> {
    let id = customer.to_string();
    // The customer's row lock orders concurrent commits touching its bookings: the later
    // one reads the bookings only once the earlier one has committed.
    let lock = <S::Dialect as Dialect>::LOCK;
    if !lock.is_empty() {
        session
            .fetch(
                &format!("SELECT id FROM cd_customers WHERE id = $1 {lock}"),
                vec![Bind::Text(id.clone())],
            )
            .await
            .map_err(failed("locking a customer"))?;
    }
    let rows = session
        .fetch(
            "SELECT record FROM cd_bookings WHERE customer_id = $1",
            vec![Bind::Text(id.clone())],
        )
        .await
        .map_err(failed("reading a customer's bookings"))?;
    let bookings = rows
        .iter()
        .map(|row| from_json::<Booking>(row.text(0, "a booking")?, "booking"))
        .collect::<Result<Vec<_>, _>>()?;
    let delta = StatsDelta::of(&bookings);
    // An upsert: a customer written before migration 7 filled its row has one, and so does
    // every customer inserted since, but a restate must never depend on it.
    let binds = stats_binds(&id, &delta);
    session
        .execute(
            &format!(
                "{INSERT_STATS} ON CONFLICT (customer_id) DO UPDATE SET \
                 booking_count = excluded.booking_count, \
                 last_booking_at = excluded.last_booking_at, \
                 last_activity_at = excluded.last_activity_at"
            ),
            binds,
        )
        .await
        .map_err(failed("updating booking statistics"))?;
    session
        .execute(
            "DELETE FROM cd_customer_totals WHERE customer_id = $1",
            vec![Bind::Text(id.clone())],
        )
        .await
        .map_err(failed("updating booking totals"))?;
    if let Some((sql, binds)) = add_totals_statement(&id, &delta) {
        session
            .execute(&sql, binds)
            .await
            .map_err(failed("updating booking totals"))?;
    }
    Ok(())
}
