//! The suggestion index (`cd_match_keys`): which holders have bookings under each match key.
//!
//! A booking's holder is the customer it is attributed to, or the booking itself while it is
//! unattributed. The index keeps one row per key and holder, however many of the holder's
//! bookings share the key, so a booking for an existing customer under the contact details
//! the customer booked with before writes no row at all: a booking used to add a row per key
//! (three pages of the index written per booking). Reads find the holders of the keys asked,
//! then their bookings, and keep those whose own contact has one of the keys
//! ([`crate::adapters::sql::reads::bookings_matching`]).
//!
//! The rows stay exact: a key row exists while one of the holder's bookings has that key.
//! A commit that moves a booking to another holder or changes its contact indexes the new
//! keys and then prunes the old holder ([`Stale`]): the keys none of its bookings has any
//! longer are deleted, so a redaction or a merge leaves no key behind.

use std::collections::{BTreeMap, BTreeSet};

use crate::adapters::sql::encoding::{Bind, from_json, match_index_keys, values_rows};
use crate::adapters::sql::session::{Session, failed};
use crate::adapters::sql::versioned::customer_version;
use crate::ports::store::StoreError;
use crate::records::booking::Booking;
use crate::values::ids::{BookingId, CustomerId};

/// Whom a booking's keys are indexed under.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Holder {
    /// The customer the booking is attributed to.
    Customer(CustomerId),
    /// The booking itself, while no customer holds it.
    Booking(BookingId),
}

impl Holder {
    /// The holder of `booking` as it stands.
    pub(crate) fn of(booking: &Booking) -> Self {
        booking
            .attribution
            .customer()
            .map_or(Self::Booking(booking.id), Self::Customer)
    }

    /// The id stored in the `holder` column.
    pub(crate) fn key(self) -> String {
        match self {
            Self::Customer(id) => id.to_string(),
            Self::Booking(id) => id.to_string(),
        }
    }
}

/// The index keys of `booking`'s contact.
pub(crate) fn keys_of(booking: &Booking) -> BTreeSet<String> {
    match_index_keys(&booking.contact.match_keys()).collect()
}

/// The insert of index rows from `source` (`VALUES` rows or another row source of key and
/// holder): a row already stored stays as it is, and nothing is written for it.
pub(crate) fn insert_sql(source: &str) -> String {
    format!("INSERT INTO cd_match_keys (match_key, holder) {source} ON CONFLICT DO NOTHING")
}

/// Indexes `keys` under `holder` in one multi-row insert ([`insert_sql`]).
pub(crate) async fn index<'k, S: Session>(
    session: &mut S,
    holder: Holder,
    keys: impl Iterator<Item = &'k String>,
) -> Result<(), StoreError> {
    let holder = holder.key();
    let binds: Vec<Bind> = keys
        .flat_map(|key| [Bind::Text(key.clone()), Bind::Text(holder.clone())])
        .collect();
    if binds.is_empty() {
        return Ok(());
    }
    let sql = insert_sql(&format!("VALUES {}", values_rows(binds.len() / 2, 2, 1)));
    session
        .execute(&sql, binds)
        .await
        .map_err(failed("indexing a booking"))?;
    Ok(())
}

/// The keys a commit may have left without a booking behind them, per holder: the keys of
/// each rewritten booking's old contact, under its old holder. [`prune`](Self::prune)
/// deletes those none of the holder's bookings has once the commit's bookings are written.
#[derive(Debug, Default)]
pub(crate) struct Stale(BTreeMap<Holder, BTreeSet<String>>);

impl Stale {
    /// Notes that `before` (a booking as stored) became `after`, whose keys are `keys`: the
    /// keys `before` held under its holder that `after` does not hold there may be stale.
    /// Answers those of `keys` already indexed: the ones `before` had under the same holder.
    pub(crate) fn rewritten(
        &mut self,
        before: &Booking,
        after: &Booking,
        keys: &BTreeSet<String>,
    ) -> BTreeSet<String> {
        let old = Holder::of(before);
        let (indexed, gone): (BTreeSet<String>, BTreeSet<String>) = if Holder::of(after) == old {
            keys_of(before)
                .into_iter()
                .partition(|key| keys.contains(key))
        } else {
            (BTreeSet::new(), keys_of(before))
        };
        if !gone.is_empty() {
            self.0.entry(old).or_default().extend(gone);
        }
        indexed
    }

    /// Deletes the noted keys that none of their holder's bookings has now. A customer
    /// holder is locked first (on databases with row locks): a commit indexing a new booking
    /// of that customer holds the same lock, so its key cannot be deleted under it.
    pub(crate) async fn prune<S: Session>(self, session: &mut S) -> Result<(), StoreError> {
        const WHAT: &str = "pruning the suggestion index";
        for (holder, candidates) in self.0 {
            let rows =
                match holder {
                    Holder::Customer(id) => {
                        customer_version(session, id, true).await?;
                        session
                            .fetch(
                                "SELECT record FROM cd_bookings WHERE customer_id = $1",
                                vec![Bind::Text(id.to_string())],
                            )
                            .await
                    }
                    Holder::Booking(id) => session
                        .fetch(
                            "SELECT record FROM cd_bookings WHERE id = $1 AND customer_id IS NULL",
                            vec![Bind::Text(id.to_string())],
                        )
                        .await,
                }
                .map_err(failed(WHAT))?;
            let mut live = BTreeSet::new();
            for row in &rows {
                let booking: Booking = from_json(row.text(0, WHAT)?, "booking")?;
                live.extend(keys_of(&booking));
            }
            let holder = holder.key();
            for key in candidates.difference(&live) {
                session
                    .execute(
                        "DELETE FROM cd_match_keys WHERE match_key = $1 AND holder = $2",
                        vec![Bind::Text(key.clone()), Bind::Text(holder.clone())],
                    )
                    .await
                    .map_err(failed(WHAT))?;
            }
        }
        Ok(())
    }
}
