//! Commits of many bookings at once: the change sets of a batch of bookings, applied with
//! a number of statements that does not grow with the number of rows.
//!
//! A batch commits bookings that are all new, the customers they create or update, a
//! version check ([`Guard`](crate::ports::store::changes::Guard)) on each customer attached
//! without change, and audit events. The general commit
//! ([`commit::apply`](crate::adapters::sql::commit::apply)) writes such a change set row by
//! row, thousands of statements for a thousand bookings (each a round trip on PostgreSQL).
//! Here each table gets multi-row statements instead: on PostgreSQL one per table, its rows
//! bound as one array per column (`UNNEST`); on SQLite `VALUES` lists of [`CHUNK_ROWS`](rows::CHUNK_ROWS) rows
//! and a few smaller chunks for the remainder, so that the connection's cache of prepared
//! statements holds every statement text a batch uses.
//!
//! What the general commit guarantees stays: the customers the batch checks or rewrites are
//! locked first, in the order of their ids; a failed expectation is the port's [`Conflict`]
//! naming the record (the driver then rolls everything back); statistics end exactly as the
//! bookings committed one by one leave them.

mod rows;

use std::collections::{BTreeMap, BTreeSet, HashSet};

use crate::adapters::sql::email_keys::key_held_by;
use crate::adapters::sql::encoding::{
    Bind, booking_row, customer_columns, insert_booking_sql, insert_customer_sql, membership_rows,
    nanos, stored_customer_id, stored_version, to_json, version_column,
};
use crate::adapters::sql::match_keys::{self, Holder};
use crate::adapters::sql::session::{Checked, Dialect, Row, Session, failed};
use crate::adapters::sql::statistics::{ADD_TO_TOTALS, StatsDelta};
use crate::adapters::sql::versioned::{booking_conflict, customer_conflict};
use crate::ports::store::Conflict;
use crate::ports::store::StoreError;
use crate::ports::store::changes::{ChangeSet, ChangeSetParts, Expected, Write};
use crate::records::booking::Booking;
use crate::records::customer::Customer;
use crate::values::email::key::EmailKey;
use crate::values::ids::CustomerId;
use rows::{BOOKING, CUSTOMER, Kind, STATS, chunks, fetch, run};

/// Change sets writing fewer records than this (customers, bookings, checks and audit
/// events together) keep to the general commit: recording one booking writes about four,
/// and its few statements are cheaper than the multi-row ones built here.
const FEWEST_RECORDS: usize = 8;

/// Whether `changes` has the shape of a batch of bookings and is large enough for this
/// path: only new bookings, customers inserted or rewritten, customer checks and audit
/// events, each record written once.
pub(crate) fn fits(changes: &ChangeSet) -> bool {
    if records_written(changes) < FEWEST_RECORDS || !only_records_bookings(changes) {
        return false;
    }
    // A record written twice: the general commit reports the second write's conflict.
    let mut customers = HashSet::with_capacity(changes.customers().len());
    let mut bookings = HashSet::with_capacity(changes.bookings().len());
    changes
        .customers()
        .iter()
        .all(|write| customers.insert(write.record.id))
        && changes
            .bookings()
            .iter()
            .all(|write| bookings.insert(write.record.id))
}

/// Whether `changes` only records bookings: new bookings, customers written, customer
/// version checks and audit events, nothing else. The commits of `record_booking` and of a
/// batch of bookings have this shape, and the faster paths take only these.
pub(crate) fn only_records_bookings(changes: &ChangeSet) -> bool {
    changes.deletions().is_empty()
        && changes.booking_guards().is_empty()
        && changes.merges().is_empty()
        && changes.lists().is_empty()
        && changes.blocklist().is_empty()
        && !changes.has_account_changes()
        && changes
            .bookings()
            .iter()
            .all(|write| write.expected == Expected::Absent)
}

/// The records `changes` writes or checks: customers, bookings, guards and audit events.
pub(crate) fn records_written(changes: &ChangeSet) -> usize {
    changes.customers().len()
        + changes.bookings().len()
        + changes.guards().len()
        + changes.audit().len()
}

/// Applies `changes` (for which [`fits`] holds) in the session's open transaction.
pub(crate) async fn apply<S: Session>(session: &mut S, changes: ChangeSet) -> Checked {
    let ChangeSetParts {
        mut customers,
        mut bookings,
        guards,
        audit,
        ..
    } = changes.into_parts();
    // One order for every writer, so concurrent commits cannot deadlock.
    customers.sort_by_key(|write| write.record.id);
    bookings.sort_by_key(|write| write.record.id);
    let (fresh, rewritten): (Vec<&Write<Customer>>, Vec<&Write<Customer>>) = customers
        .iter()
        .partition(|write| write.expected == Expected::Absent);

    let mut additions = StatsDelta::per_customer(bookings.iter().map(|write| &write.record));

    // The email keys of every rewritten customer are released first, so keys can move
    // between customers within one commit, and before any customer row is locked: a single
    // rewrite of a customer (the general commit) releases its keys, then writes its row, and
    // taking the two in the other order could deadlock with it.
    let rewritten_ids: Vec<Vec<Bind>> = rewritten
        .iter()
        .map(|write| vec![Bind::Text(write.record.id.to_string())])
        .collect();
    run(
        session,
        &[Kind::Text],
        rewritten_ids.clone(),
        |source| {
            format!(
                "WITH v (id) AS ({source}) \
                 DELETE FROM cd_customer_email_keys WHERE customer_id IN (SELECT id FROM v)"
            )
        },
        "releasing email keys",
    )
    .await?;

    // Every stored customer the batch checks or rewrites, locked in the order of their ids
    // before their rows are written; their versions name a conflict.
    let stored: BTreeSet<CustomerId> = guards
        .iter()
        .map(|guard| guard.customer)
        .chain(rewritten.iter().map(|write| write.record.id))
        .collect();
    let versions = lock_versions(session, &stored).await?;
    for guard in &guards {
        let found = versions.get(&guard.customer).copied();
        if found != Some(guard.version) {
            return Ok(Err(Conflict::CustomerVersion {
                id: guard.customer,
                expected: Expected::Version(guard.version),
                found,
            }));
        }
    }
    for write in &rewritten {
        let found = versions.get(&write.record.id).copied();
        if !write.expected.is_met_by(found) {
            return Ok(Err(Conflict::CustomerVersion {
                id: write.record.id,
                expected: write.expected,
                found,
            }));
        }
    }

    // Their list memberships and custom field values are written anew below.
    for table in ["cd_customer_lists", "cd_customer_fields"] {
        run(
            session,
            &[Kind::Text],
            rewritten_ids.clone(),
            |source| {
                format!(
                    "WITH v (id) AS ({source}) \
                     DELETE FROM {table} WHERE customer_id IN (SELECT id FROM v)"
                )
            },
            "re-indexing a customer",
        )
        .await?;
    }

    if let Err(conflict) = write_customers(session, &fresh, &rewritten).await? {
        return Ok(Err(conflict));
    }
    // A new customer's statistics start with its bookings in this batch.
    let mut totals: Vec<Vec<Bind>> = Vec::new();
    let mut first_stats: Vec<Vec<Bind>> = Vec::with_capacity(fresh.len());
    for write in &fresh {
        let id = write.record.id;
        let delta = additions.remove(&id).unwrap_or_else(StatsDelta::none);
        totals.extend(total_rows(id, &delta));
        first_stats.push(stats_row(id, &delta));
    }
    run(
        session,
        &STATS,
        first_stats,
        |source| {
            format!(
                "INSERT INTO cd_customer_stats \
                 (customer_id, booking_count, last_booking_at, last_activity_at) {source}"
            )
        },
        "writing booking statistics",
    )
    .await?;
    index_memberships(session, &customers).await?;
    if let Err(conflict) = claim_email_keys(session, &customers).await? {
        return Ok(Err(conflict));
    }

    if let Err(conflict) = insert_bookings(session, &bookings).await? {
        return Ok(Err(conflict));
    }

    // What the batch adds to customers stored before it.
    let mut added: Vec<Vec<Bind>> = Vec::with_capacity(additions.len());
    for (&id, delta) in &additions {
        totals.extend(total_rows(id, delta));
        added.push(stats_row(id, delta));
    }
    run(
        session,
        &STATS,
        added,
        |source| {
            format!(
                "WITH v (customer_id, n, last_booking, last_activity) AS ({source}) \
                 UPDATE cd_customer_stats SET \
                 booking_count = booking_count + v.n, \
                 last_booking_at = CASE WHEN last_booking_at < v.last_booking \
                   THEN v.last_booking ELSE last_booking_at END, \
                 last_activity_at = CASE WHEN last_activity_at < v.last_activity \
                   THEN v.last_activity ELSE last_activity_at END \
                 FROM v WHERE cd_customer_stats.customer_id = v.customer_id"
            )
        },
        "writing booking statistics",
    )
    .await?;
    run(
        session,
        &[Kind::Text, Kind::Text, Kind::Int],
        totals,
        |source| {
            format!(
                "INSERT INTO cd_customer_totals (customer_id, currency, total) {source} \
                 {ADD_TO_TOTALS}"
            )
        },
        "writing booking totals",
    )
    .await?;

    append_audit_events(session, &audit).await?;
    Ok(Ok(()))
}

/// The stored versions of `customers`, their rows locked (on databases with row locks)
/// in the order of their ids; a customer not stored has none.
async fn lock_versions<S: Session>(
    session: &mut S,
    customers: &BTreeSet<CustomerId>,
) -> Result<BTreeMap<CustomerId, u64>, StoreError> {
    let lock = <S::Dialect as Dialect>::LOCK;
    let rows = fetch(
        session,
        &[Kind::Text],
        customers
            .iter()
            .map(|id| vec![Bind::Text(id.to_string())])
            .collect(),
        |source| {
            format!(
                "WITH v (id) AS ({source}) SELECT id, version FROM cd_customers \
                 WHERE id IN (SELECT id FROM v) ORDER BY id {lock}"
            )
        },
        "checking customer versions",
    )
    .await?;
    rows.iter()
        .map(|row| {
            Ok((
                stored_customer_id(row.text(0, "a customer id")?)?,
                stored_version(row.int(1, "a customer version")?)?,
            ))
        })
        .collect()
}

/// Inserts the `fresh` customers and rewrites the `rewritten` ones (their versions already
/// checked under lock); an id taken or a version moved is a conflict naming the customer.
async fn write_customers<S: Session>(
    session: &mut S,
    fresh: &[&Write<Customer>],
    rewritten: &[&Write<Customer>],
) -> Checked {
    let rows = fresh
        .iter()
        .map(|write| customer_columns(&write.record))
        .collect::<Result<Vec<_>, _>>()?;
    let inserted = fetch(
        session,
        &CUSTOMER,
        rows,
        |source| format!("{} RETURNING id", insert_customer_sql(source)),
        "writing a customer",
    )
    .await?;
    if let Err(conflict) = all_written(session, fresh, &inserted).await? {
        return Ok(Err(conflict));
    }

    let mut kinds = CUSTOMER.to_vec();
    kinds.push(Kind::Int);
    let rows = rewritten
        .iter()
        .map(|write| {
            let mut row = customer_columns(&write.record)?;
            let Expected::Version(expected) = write.expected else {
                return Err(StoreError::backend(
                    "rewriting a customer",
                    "an insert among the rewrites",
                ));
            };
            row.push(Bind::Int(version_column(expected)));
            Ok(row)
        })
        .collect::<Result<Vec<_>, _>>()?;
    let updated = fetch(
        session,
        &kinds,
        rows,
        |source| {
            format!(
                "WITH v (id, version, status, created_at, record, search_text, sort_name, \
                 initial, country, expected) AS ({source}) \
                 UPDATE cd_customers SET version = v.version, status = v.status, \
                 created_at = v.created_at, record = v.record, search_text = v.search_text, \
                 sort_name = v.sort_name, initial = v.initial, country = v.country \
                 FROM v WHERE cd_customers.id = v.id AND cd_customers.version = v.expected \
                 RETURNING cd_customers.id"
            )
        },
        "writing a customer",
    )
    .await?;
    all_written(session, rewritten, &updated).await
}

/// Whether every one of `writes` is among the customer ids `written` returned; the first
/// that is not is a conflict naming it and the version stored.
async fn all_written<S: Session>(
    session: &mut S,
    writes: &[&Write<Customer>],
    written: &[Row],
) -> Checked {
    match first_unwritten(writes, |write| write.record.id.to_string(), written)? {
        Some(write) => customer_conflict(session, write).await,
        None => Ok(Ok(())),
    }
}

/// The first of `writes` whose id (`id_of`) is not among the ids `written`, the rows a
/// `RETURNING id` statement gave back; `None` when every one was written.
fn first_unwritten<'w, W>(
    writes: &'w [W],
    id_of: impl Fn(&W) -> String,
    written: &[Row],
) -> Result<Option<&'w W>, StoreError> {
    if written.len() == writes.len() {
        return Ok(None);
    }
    let written = written
        .iter()
        .map(|row| row.text(0, "a record id"))
        .collect::<Result<HashSet<&str>, _>>()?;
    Ok(writes
        .iter()
        .find(|write| !written.contains(id_of(write).as_str())))
}

/// Indexes the list memberships and custom field values of `customers` (whose old rows,
/// if any, are gone).
async fn index_memberships<S: Session>(
    session: &mut S,
    customers: &[Write<Customer>],
) -> Result<(), StoreError> {
    let mut lists = Vec::new();
    let mut fields = Vec::new();
    for write in customers {
        let [list_rows, field_rows] = membership_rows(&write.record);
        lists.extend(list_rows.rows);
        fields.extend(field_rows.rows);
    }
    run(
        session,
        &[Kind::Text, Kind::Text],
        lists,
        |source| format!("INSERT INTO cd_customer_lists (list_id, customer_id) {source}"),
        "indexing list memberships",
    )
    .await?;
    run(
        session,
        &[Kind::Text, Kind::Text, Kind::Text],
        fields,
        |source| format!("INSERT INTO cd_customer_fields (field_key, value, customer_id) {source}"),
        "indexing custom fields",
    )
    .await
}

/// Claims every email key `customers` index, in the order of the keys (then of the
/// customers' ids), so that concurrent batches claim shared keys in one order. A statement
/// that claims fewer keys than it was given is checked key by key: the first held by
/// another customer is the conflict, naming the holder.
async fn claim_email_keys<S: Session>(session: &mut S, customers: &[Write<Customer>]) -> Checked {
    let mut claims: Vec<(&EmailKey, CustomerId)> = Vec::new();
    for write in customers {
        let keys: BTreeSet<&EmailKey> = write.record.indexed_keys().collect();
        claims.extend(keys.into_iter().map(|key| (key, write.record.id)));
    }
    claims.sort();
    let rows = claims
        .iter()
        .map(|(key, customer)| {
            vec![
                Bind::Text(key.as_str().to_owned()),
                Bind::Text(customer.to_string()),
            ]
        })
        .collect();
    for chunk in chunks::<S::Dialect>(&[Kind::Text, Kind::Text], rows)? {
        let changed = session
            .execute(
                &format!(
                    "INSERT INTO cd_customer_email_keys (email_key, customer_id) {} \
                     ON CONFLICT (email_key) DO NOTHING",
                    chunk.source
                ),
                chunk.binds,
            )
            .await
            .map_err(failed("claiming email keys"))?;
        if usize::try_from(changed).is_ok_and(|changed| changed == chunk.rows.len()) {
            continue;
        }
        for (key, customer) in &claims[chunk.rows] {
            if let Err(conflict) = key_held_by(session, key, *customer).await? {
                return Ok(Err(conflict));
            }
        }
    }
    Ok(Ok(()))
}

/// Inserts `bookings` (all new) and their match keys; an id already taken is a conflict
/// naming the booking.
async fn insert_bookings<S: Session>(session: &mut S, bookings: &[Write<Booking>]) -> Checked {
    let rows = bookings
        .iter()
        .map(|write| booking_row(&write.record))
        .collect::<Result<Vec<_>, _>>()?;
    let inserted = fetch(
        session,
        &BOOKING,
        rows,
        |source| format!("{} RETURNING id", insert_booking_sql(source)),
        "writing a booking",
    )
    .await?;
    if let Some(write) = first_unwritten(bookings, |write| write.record.id.to_string(), &inserted)?
    {
        return booking_conflict(session, write).await;
    }
    // One row per key and holder: a customer's bookings in the batch share theirs, and a
    // row stored before stays (nothing is written for it).
    let mut held: BTreeSet<(String, String)> = BTreeSet::new();
    for write in bookings {
        let holder = Holder::of(&write.record).key();
        held.extend(
            match_keys::keys_of(&write.record)
                .into_iter()
                .map(|key| (key, holder.clone())),
        );
    }
    run(
        session,
        &[Kind::Text, Kind::Text],
        held.into_iter()
            .map(|(key, holder)| vec![Bind::Text(key), Bind::Text(holder)])
            .collect(),
        match_keys::insert_sql,
        "indexing a booking",
    )
    .await?;
    Ok(Ok(()))
}

/// Appends `events` in order, and the rows that find each from its customers.
///
/// Rows are inserted in the order of their row source, so the sequence numbers a statement
/// hands out, in ascending order, are those of its events in order.
async fn append_audit_events<S: Session>(
    session: &mut S,
    events: &[crate::records::audit::AuditEvent],
) -> Result<(), StoreError> {
    let rows = events
        .iter()
        .map(|event| {
            Ok(vec![
                Bind::Int(nanos(event.at)),
                Bind::Text(to_json(event, "audit event")?),
            ])
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    let mut people: Vec<Vec<Bind>> = Vec::new();
    for chunk in chunks::<S::Dialect>(&[Kind::Int, Kind::Text], rows)? {
        let returned = session
            .fetch(
                &format!(
                    "INSERT INTO cd_audit_events (at, record) {} RETURNING seq",
                    chunk.source
                ),
                chunk.binds,
            )
            .await
            .map_err(failed("appending audit events"))?;
        let mut seqs = returned
            .iter()
            .map(|row| row.int(0, "an audit sequence number"))
            .collect::<Result<Vec<_>, _>>()?;
        if seqs.len() != chunk.rows.len() {
            return Err(StoreError::backend(
                "appending audit events",
                format!(
                    "{} sequence numbers returned for {} events",
                    seqs.len(),
                    chunk.rows.len()
                ),
            ));
        }
        seqs.sort_unstable();
        for (event, seq) in events[chunk.rows].iter().zip(seqs) {
            let customers: BTreeSet<CustomerId> = event.customers.iter().copied().collect();
            people.extend(
                customers
                    .into_iter()
                    .map(|customer| vec![Bind::Text(customer.to_string()), Bind::Int(seq)]),
            );
        }
    }
    run(
        session,
        &[Kind::Text, Kind::Int],
        people,
        |source| format!("INSERT INTO cd_audit_event_customers (customer_id, event_seq) {source}"),
        "indexing audit events",
    )
    .await
}

/// A statistics row of [`STATS`]: customer, booking count, last booking, last activity.
fn stats_row(customer: CustomerId, delta: &StatsDelta) -> Vec<Bind> {
    vec![
        Bind::Text(customer.to_string()),
        Bind::Int(delta.count),
        Bind::Int(delta.last_booking),
        Bind::Int(delta.last_activity),
    ]
}

/// The totals rows of `delta` for `customer`: customer, currency, total.
fn total_rows(customer: CustomerId, delta: &StatsDelta) -> impl Iterator<Item = Vec<Bind>> + '_ {
    delta.totals.iter().map(move |(currency, total)| {
        vec![
            Bind::Text(customer.to_string()),
            Bind::Text(currency.clone()),
            Bind::Int(*total),
        ]
    })
}

#[cfg(test)]
mod tests {
    use super::rows::{CHUNK_ROWS, ladder, values_list};
    use super::{FEWEST_RECORDS, fits};
    use crate::adapters::sql::encoding::values_rows;
    use crate::ports::store::changes::ChangeSet;
    use crate::records::audit::{Actor, AuditAction, AuditEvent};
    use crate::records::booking::{Attribution, Booking, NewBooking};
    use crate::records::customer::Customer;
    use crate::records::profile::Profile;
    use crate::values::booking_status::BookingStatus;
    use crate::values::money::{Currency, Money};

    fn booking(customer: &Customer) -> Booking {
        let now = chrono::Utc::now();
        let new = NewBooking::new(
            "B",
            BookingStatus::PAID,
            Profile::default(),
            now,
            Money::new(5_00, Currency::parse("EUR").unwrap()),
        );
        let mut booking = Booking::from_new(new, now);
        booking.attribution = Attribution::Primary(customer.id);
        booking
    }

    /// A batch: `count` bookings of one stored customer, checked once, and their events.
    fn batch(count: usize) -> (ChangeSet, Customer) {
        let mut customer = Customer::new(Profile::default(), chrono::Utc::now());
        customer.version = 2;
        let mut changes = ChangeSet::new();
        changes.guard_customer(customer.id, 2);
        for _ in 0..count {
            let booking = booking(&customer);
            changes.record(
                AuditEvent::new(
                    chrono::Utc::now(),
                    Actor::System,
                    AuditAction::BookingRecorded,
                )
                .booking(booking.id)
                .customer(customer.id),
            );
            changes.save_booking(booking);
        }
        (changes, customer)
    }

    #[test]
    fn only_large_batches_of_new_bookings_take_the_multi_row_path() {
        let (one, _) = batch(1);
        assert!(!fits(&one), "a single booking keeps to the general commit");
        let (many, customer) = batch(FEWEST_RECORDS);
        assert!(fits(&many));

        let mut updated = many.clone();
        let mut changed = customer.clone();
        changed.version = 2;
        updated.save_customer(changed.clone());
        assert!(fits(&updated), "customers rewritten with the batch");
        let mut twice = updated.clone();
        twice.save_customer(changed);
        assert!(!fits(&twice), "a customer written twice");

        let mut rewrite = many.clone();
        let mut old = booking(&customer);
        old.version = 3;
        rewrite.save_booking(old);
        assert!(!fits(&rewrite), "a booking rewritten");
        let mut same = many.clone();
        let mut again = many.bookings()[0].record.clone();
        again.version = 0;
        same.save_booking(again);
        assert!(!fits(&same), "a booking written twice");
        let mut deletion = many.clone();
        deletion.delete_customer(&customer);
        assert!(!fits(&deletion), "a deletion");
        let mut guarded = many;
        guarded.expect_bookings(customer.id, []);
        assert!(!fits(&guarded), "a check of a customer's bookings");
    }

    #[test]
    fn values_lists_number_parameters_in_order() {
        assert_eq!(values_list('?', 2, 3), "VALUES (?1, ?2, ?3), (?4, ?5, ?6)");
        for (rows, columns) in [(1, 1), (3, 2), (64, 9)] {
            assert_eq!(
                values_list('$', rows, columns),
                format!("VALUES {}", values_rows(rows, columns, 1))
            );
        }
    }

    #[test]
    fn the_ladder_covers_every_row_once_with_few_chunk_sizes() {
        for count in 0..=300 {
            let ranges = ladder(count);
            let mut next = 0;
            for range in &ranges {
                assert_eq!(range.start, next, "{count}: {ranges:?}");
                assert!(range.len().is_power_of_two() && range.len() <= CHUNK_ROWS);
                next = range.end;
            }
            assert_eq!(next, count);
            // Chunks only shrink: one of each size below the full one at most.
            let small = ranges
                .iter()
                .filter(|range| range.len() < CHUNK_ROWS)
                .count();
            assert!(small <= CHUNK_ROWS.ilog2() as usize, "{count}: {ranges:?}");
        }
    }
}
