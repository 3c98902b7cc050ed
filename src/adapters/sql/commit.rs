//! The general commit: a [`ChangeSet`] applied statement by statement inside a transaction
//! the driver opened, each check made where its rows are written.
//!
//! Version checks are `UPDATE ... WHERE version = expected` and inserts are
//! `INSERT ... ON CONFLICT DO NOTHING`, so a lost race shows as zero changed rows and becomes
//! the port's [`Conflict`] without aborting the transaction; the driver then rolls back, so
//! nothing of a failed commit remains. Rows are written in one order (by id) for every
//! writer, so concurrent commits cannot deadlock.

use std::collections::{BTreeMap, BTreeSet};

use crate::adapters::sql::accounts::apply_accounts;
use crate::adapters::sql::bulk;
use crate::adapters::sql::email_keys::key_held_by;
use crate::adapters::sql::encoding::{
    BOOKING_COLUMNS, Bind, block_key, booking_row, customer_columns, insert_booking_sql,
    insert_customer_sql, membership_rows, nanos, placeholders, stored_customer_id, to_json,
    values_rows, version_column,
};
use crate::adapters::sql::match_keys::{self, Holder, Stale};
use crate::adapters::sql::session::{Checked, Session, failed};
use crate::adapters::sql::statistics::{self, StatsDelta};
use crate::adapters::sql::versioned::{
    booking_conflict, customer_conflict, customer_version, version_of, write_versioned,
};
use crate::ports::store::Conflict;
use crate::ports::store::StoreError;
use crate::ports::store::changes::{BlocklistChange, ChangeSet, ChangeSetParts, Expected, Write};
use crate::records::booking::Booking;
use crate::records::customer::Customer;
use crate::values::email::key::EmailKey;
use crate::values::ids::CustomerId;

/// Applies `changes` in the session's open transaction.
pub(crate) async fn apply<S: Session>(session: &mut S, changes: ChangeSet) -> Checked {
    // A batch of new bookings: multi-row statements instead of one per row.
    if bulk::fits(&changes) {
        return bulk::apply(session, changes).await;
    }
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

    // Bookings this commit creates add to their customer's statistics in place; bookings it
    // rewrites have the statistics of the customers they leave and join recomputed.
    let mut additions = StatsDelta::per_customer(
        bookings
            .iter()
            .filter(|write| write.expected == Expected::Absent)
            .map(|write| &write.record),
    );

    for guard in guards.iter().chain(&deletions) {
        let found = customer_version(session, guard.customer, true).await?;
        if found != Some(guard.version) {
            return Ok(Err(Conflict::CustomerVersion {
                id: guard.customer,
                expected: Expected::Version(guard.version),
                found,
            }));
        }
    }

    // Keys of every rewritten or deleted customer are released first, so keys can move
    // between customers within one commit. A customer this commit creates has none yet.
    for id in customers
        .iter()
        .filter(|write| write.expected != Expected::Absent)
        .map(|write| write.record.id)
        .chain(deletions.iter().map(|deletion| deletion.customer))
    {
        session
            .execute(
                "DELETE FROM cd_customer_email_keys WHERE customer_id = $1",
                vec![Bind::Text(id.to_string())],
            )
            .await
            .map_err(failed("releasing email keys"))?;
    }

    for write in &customers {
        if let Err(conflict) = write_customer(session, write, &mut additions).await? {
            return Ok(Err(conflict));
        }
    }
    for write in &customers {
        if let Err(conflict) = claim_email_keys(session, &write.record).await? {
            return Ok(Err(conflict));
        }
    }

    // After the customer rows are written (and so locked), before any booking moves: no
    // booking can be attached to these customers until this commit ends.
    for guard in &booking_guards {
        let rows = session
            .fetch(
                "SELECT id FROM cd_bookings WHERE customer_id = $1 ORDER BY id",
                vec![Bind::Text(guard.customer.to_string())],
            )
            .await
            .map_err(failed("checking a customer's bookings"))?;
        let mut current = rows
            .iter()
            .map(|row| row.text(0, "a booking id").map(str::to_owned))
            .collect::<Result<Vec<_>, _>>()?;
        current.dedup();
        let expected: Vec<String> = guard.bookings.iter().map(ToString::to_string).collect();
        if current != expected {
            return Ok(Err(Conflict::CustomerBookings {
                customer: guard.customer,
            }));
        }
    }

    // Every customer a rewritten booking joins or leaves, and the suggestion keys it may
    // have left behind.
    let mut restated: BTreeSet<CustomerId> = BTreeSet::new();
    let mut stale = Stale::default();
    for write in &bookings {
        if let Err(conflict) = write_booking(session, write, &mut restated, &mut stale).await? {
            return Ok(Err(conflict));
        }
    }
    stale.prune(session).await?;

    for deletion in &deletions {
        restated.remove(&deletion.customer);
        additions.remove(&deletion.customer);
    }
    for (customer, delta) in &additions {
        if !restated.contains(customer) {
            statistics::add(session, *customer, delta).await?;
        }
    }
    for customer in restated {
        statistics::restate(session, customer).await?;
    }

    // Deletions come after the bookings, which this commit moved off the customer.
    for deletion in &deletions {
        // The query tables go first and explicitly, whatever the connection's foreign-key
        // setting: they hold personal values.
        for sql in [
            "DELETE FROM cd_customer_stats WHERE customer_id = $1",
            "DELETE FROM cd_customer_totals WHERE customer_id = $1",
            "DELETE FROM cd_customer_lists WHERE customer_id = $1",
            "DELETE FROM cd_customer_fields WHERE customer_id = $1",
            "DELETE FROM cd_customers WHERE id = $1",
        ] {
            session
                .execute(sql, vec![Bind::Text(deletion.customer.to_string())])
                .await
                .map_err(failed("deleting a customer"))?;
        }
    }

    for write in &merges {
        if let Err(conflict) = write_merge(session, write).await? {
            return Ok(Err(conflict));
        }
    }
    for write in &lists {
        if let Err(conflict) = write_list(session, write).await? {
            return Ok(Err(conflict));
        }
    }
    if let Err(conflict) =
        apply_accounts(session, accounts, account_deletions, account_tokens).await?
    {
        return Ok(Err(conflict));
    }
    for event in &audit {
        append_audit_event(session, event).await?;
    }
    for change in &blocklist {
        match change {
            BlocklistChange::Add(entry) => session
                .execute(
                    "INSERT INTO cd_blocklist (target, record) VALUES ($1, $2) \
                     ON CONFLICT (target) DO UPDATE SET record = excluded.record",
                    vec![
                        Bind::Text(block_key(&entry.target)),
                        Bind::Text(to_json(entry, "blocklist entry")?),
                    ],
                )
                .await
                .map_err(failed("adding to the blocklist"))?,
            BlocklistChange::Remove(target) => session
                .execute(
                    "DELETE FROM cd_blocklist WHERE target = $1",
                    vec![Bind::Text(block_key(target))],
                )
                .await
                .map_err(failed("removing from the blocklist"))?,
        };
    }
    Ok(Ok(()))
}

/// Inserts or rewrites one customer with its list memberships and custom field values; a
/// new customer gets its statistics row, with the bookings this commit attributes to it.
async fn write_customer<S: Session>(
    session: &mut S,
    write: &Write<Customer>,
    additions: &mut BTreeMap<CustomerId, StatsDelta>,
) -> Checked {
    let customer = &write.record;
    let changed = write_versioned(
        session,
        write.expected,
        &insert_customer_sql(&format!("VALUES ({})", placeholders(9, 1))),
        "UPDATE cd_customers SET version = $2, status = $3, created_at = $4, record = $5, \
         search_text = $6, sort_name = $7, initial = $8, country = $9 \
         WHERE id = $1 AND version = $10",
        customer_columns(customer)?,
        "writing a customer",
    )
    .await?;
    if changed == 0 {
        return customer_conflict(session, write).await;
    }
    let fresh = write.expected == Expected::Absent;
    if fresh {
        let delta = additions
            .remove(&customer.id)
            .unwrap_or_else(StatsDelta::none);
        statistics::insert(session, customer.id, &delta).await?;
    }
    index_memberships(session, customer, fresh).await?;
    Ok(Ok(()))
}

/// Rewrites the list memberships and custom field values of `customer`; `fresh` when the
/// customer was just inserted (it has none yet).
pub(crate) async fn index_memberships<S: Session>(
    session: &mut S,
    customer: &Customer,
    fresh: bool,
) -> Result<(), StoreError> {
    let id = customer.id.to_string();
    if !fresh {
        for sql in [
            "DELETE FROM cd_customer_lists WHERE customer_id = $1",
            "DELETE FROM cd_customer_fields WHERE customer_id = $1",
        ] {
            session
                .execute(sql, vec![Bind::Text(id.clone())])
                .await
                .map_err(failed("re-indexing a customer"))?;
        }
    }
    for side in membership_rows(customer) {
        let Some(columns) = side.rows.first().map(Vec::len) else {
            continue;
        };
        let sql = format!(
            "{} {}",
            side.insert,
            values_rows(side.rows.len(), columns, 1)
        );
        session
            .execute(&sql, side.rows.into_iter().flatten().collect())
            .await
            .map_err(failed(side.what))?;
    }
    Ok(())
}

/// Claims every email key `customer` indexes; a key another customer holds is a conflict.
async fn claim_email_keys<S: Session>(session: &mut S, customer: &Customer) -> Checked {
    let keys: BTreeSet<&EmailKey> = customer.indexed_keys().collect();
    for key in keys {
        let changed = session
            .execute(
                "INSERT INTO cd_customer_email_keys (email_key, customer_id) VALUES ($1, $2) \
                 ON CONFLICT (email_key) DO NOTHING",
                vec![
                    Bind::Text(key.as_str().to_owned()),
                    Bind::Text(customer.id.to_string()),
                ],
            )
            .await
            .map_err(failed("claiming an email key"))?;
        if changed > 0 {
            continue;
        }
        return key_held_by(session, key, customer.id).await;
    }
    Ok(Ok(()))
}

/// Inserts or rewrites one booking and indexes its match keys. A rewrite adds the customers
/// it leaves and joins to `restated`, and the keys it may have left behind to `stale`.
async fn write_booking<S: Session>(
    session: &mut S,
    write: &Write<Booking>,
    restated: &mut BTreeSet<CustomerId>,
    stale: &mut Stale,
) -> Checked {
    let booking = &write.record;
    let id = booking.id.to_string();
    let keys = match_keys::keys_of(booking);
    let mut binds = booking_row(booking)?;
    let Expected::Version(expected) = write.expected else {
        let changed = session
            .execute(
                &insert_booking_sql(&format!("VALUES ({})", placeholders(BOOKING_COLUMNS, 1))),
                binds,
            )
            .await
            .map_err(failed("writing a booking"))?;
        if changed == 0 {
            return booking_conflict(session, write).await;
        }
        match_keys::index(session, Holder::of(booking), keys.iter()).await?;
        return Ok(Ok(()));
    };
    restated.extend(booking.attribution.customer());
    let before = session
        .fetch(
            "SELECT customer_id, record FROM cd_bookings WHERE id = $1",
            vec![Bind::Text(id.clone())],
        )
        .await
        .map_err(failed("reading a booking before its rewrite"))?;
    binds.push(Bind::Int(version_column(expected)));
    let changed = session
        .execute(
            "UPDATE cd_bookings SET version = $2, customer_id = $3, email_key = $4, \
             starts_at = $5, created_at = $6, record = $7, code = $8 WHERE id = $1 AND version = $9",
            binds,
        )
        .await
        .map_err(failed("writing a booking"))?;
    if changed == 0 {
        return booking_conflict(session, write).await;
    }
    // The booking was there (it was just rewritten): index what it holds now, and note what
    // it may have left behind.
    let mut indexed: BTreeSet<String> = BTreeSet::new();
    if let Some(row) = before.first() {
        if let Some(customer) = row.maybe_text(0, "a booking's customer")? {
            restated.insert(stored_customer_id(customer)?);
        }
        let old: Booking =
            crate::adapters::sql::encoding::from_json(row.text(1, "a booking")?, "booking")?;
        indexed = stale.rewritten(&old, booking, &keys);
    }
    match_keys::index(session, Holder::of(booking), keys.difference(&indexed)).await?;
    Ok(Ok(()))
}

/// Inserts or rewrites a merge record; a new one is indexed under each customer in it.
async fn write_merge<S: Session>(
    session: &mut S,
    write: &Write<crate::records::merge::MergeRecord>,
) -> Checked {
    let merge = &write.record;
    let id = merge.id.to_string();
    let binds = vec![
        Bind::Text(id.clone()),
        Bind::Int(version_column(merge.version)),
        Bind::Int(nanos(merge.merged_at)),
        Bind::Text(to_json(merge, "merge record")?),
    ];
    let changed = write_versioned(
        session,
        write.expected,
        "INSERT INTO cd_merges (id, version, merged_at, record) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (id) DO NOTHING",
        "UPDATE cd_merges SET version = $2, merged_at = $3, record = $4 \
         WHERE id = $1 AND version = $5",
        binds,
        "writing a merge record",
    )
    .await?;
    if changed == 0 {
        let found = version_of(session, "SELECT version FROM cd_merges WHERE id = $1", id).await?;
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
        let binds: Vec<Bind> = people
            .iter()
            .flat_map(|person| [Bind::Text(person.to_string()), Bind::Text(id.clone())])
            .collect();
        let sql = format!(
            "INSERT INTO cd_merge_participants (customer_id, merge_id) VALUES {}",
            values_rows(people.len(), 2, 1)
        );
        session
            .execute(&sql, binds)
            .await
            .map_err(failed("indexing a merge record"))?;
    }
    Ok(Ok(()))
}

/// Inserts or rewrites a customer list; its name (ignoring case) must be free.
async fn write_list<S: Session>(
    session: &mut S,
    write: &Write<crate::records::notes::CustomerList>,
) -> Checked {
    let list = &write.record;
    let id = list.id.to_string();
    let name_key = list.name_key();
    let holders = session
        .fetch(
            "SELECT id FROM cd_lists WHERE name_key = $1 AND id <> $2",
            vec![Bind::Text(name_key.clone()), Bind::Text(id.clone())],
        )
        .await
        .map_err(failed("checking a list name"))?;
    if !holders.is_empty() {
        return Ok(Err(Conflict::ListNameTaken {
            name: list.name.as_str().to_owned(),
        }));
    }
    let binds = vec![
        Bind::Text(id.clone()),
        Bind::Int(version_column(list.version)),
        Bind::Text(name_key),
        Bind::Text(to_json(list, "list")?),
    ];
    let changed = write_versioned(
        session,
        write.expected,
        "INSERT INTO cd_lists (id, version, name_key, record) VALUES ($1, $2, $3, $4) \
         ON CONFLICT DO NOTHING",
        "UPDATE cd_lists SET version = $2, name_key = $3, record = $4 \
         WHERE id = $1 AND version = $5",
        binds,
        "writing a list",
    )
    .await?;
    if changed > 0 {
        return Ok(Ok(()));
    }
    let found = version_of(session, "SELECT version FROM cd_lists WHERE id = $1", id).await?;
    if found.is_none() && write.expected == Expected::Absent {
        // Not the id: a concurrent list took the name first.
        return Ok(Err(Conflict::ListNameTaken {
            name: list.name.as_str().to_owned(),
        }));
    }
    Ok(Err(Conflict::ListVersion {
        id: list.id,
        expected: write.expected,
        found,
    }))
}

/// Appends an audit event and the rows that find it from each of its customers.
async fn append_audit_event<S: Session>(
    session: &mut S,
    event: &crate::records::audit::AuditEvent,
) -> Result<(), StoreError> {
    let rows = session
        .fetch(
            "INSERT INTO cd_audit_events (at, record) VALUES ($1, $2) RETURNING seq",
            vec![
                Bind::Int(nanos(event.at)),
                Bind::Text(to_json(event, "audit event")?),
            ],
        )
        .await
        .map_err(failed("appending an audit event"))?;
    let people: BTreeSet<CustomerId> = event.customers.iter().copied().collect();
    if people.is_empty() {
        return Ok(());
    }
    let seq = rows
        .first()
        .map(|row| row.int(0, "an audit sequence number"))
        .transpose()?
        .ok_or_else(|| {
            StoreError::backend("appending an audit event", "no sequence number returned")
        })?;
    let binds: Vec<Bind> = people
        .iter()
        .flat_map(|person| [Bind::Text(person.to_string()), Bind::Int(seq)])
        .collect();
    let sql = format!(
        "INSERT INTO cd_audit_event_customers (customer_id, event_seq) VALUES {}",
        values_rows(people.len(), 2, 1)
    );
    session
        .execute(&sql, binds)
        .await
        .map_err(failed("indexing an audit event"))?;
    Ok(())
}
