//! Applying the schema's migrations ([`schema`](crate::adapters::sql::schema)): each in a
//! transaction of its own that the driver opens and commits, recorded in `cd_migrations` so
//! that `migrate()` is safe to call on every start and by several processes at once.

use crate::adapters::sql::commit::index_memberships;
use crate::adapters::sql::encoding::{Bind, from_json};
use crate::adapters::sql::schema::{Migration, SEARCH_MIGRATION};
use crate::adapters::sql::session::{Dialect, Session, failed};
use crate::adapters::sql::statistics::{StatsDelta, add_totals_statement};
use crate::ports::query::evaluation::SearchColumns;
use crate::ports::store::StoreError;
use crate::records::booking::Booking;
use crate::records::customer::Customer;

/// Applies `migration` in the session's open transaction unless it is recorded as applied;
/// the caller commits.
pub(crate) async fn apply_migration<S: Session>(
    session: &mut S,
    migration: &Migration,
) -> Result<(), StoreError> {
    let lock = <S::Dialect as Dialect>::MIGRATION_LOCK;
    if !lock.is_empty() {
        session
            .execute(lock, Vec::new())
            .await
            .map_err(failed("waiting for the migration lock"))?;
    }
    session
        .execute(
            "CREATE TABLE IF NOT EXISTS cd_migrations (version BIGINT PRIMARY KEY, applied_at TEXT NOT NULL)",
            Vec::new(),
        )
        .await
        .map_err(failed("creating the migrations table"))?;
    let applied = session
        .fetch(
            "SELECT version FROM cd_migrations WHERE version = $1",
            vec![Bind::Int(migration.version)],
        )
        .await
        .map_err(failed("reading applied migrations"))?;
    if !applied.is_empty() {
        return Ok(());
    }
    for statement in migration.statements {
        session
            .execute(statement, Vec::new())
            .await
            .map_err(failed("applying a migration"))?;
    }
    if migration.version == SEARCH_MIGRATION {
        backfill_search(session).await?;
    }
    session
        .execute(
            "INSERT INTO cd_migrations (version, applied_at) VALUES ($1, $2)",
            vec![
                Bind::Int(migration.version),
                Bind::Text(chrono::Utc::now().to_rfc3339()),
            ],
        )
        .await
        .map_err(failed("recording a migration"))?;
    Ok(())
}

/// Fills the search columns and tables of migration 5 for every stored customer, a page at
/// a time: the columns of the schema as migration 5 left it (migration 7 then moves the
/// statistics into their own table).
async fn backfill_search<S: Session>(session: &mut S) -> Result<(), StoreError> {
    let mut after = String::new();
    loop {
        let rows = session
            .fetch(
                "SELECT id, record FROM cd_customers WHERE id > $1 ORDER BY id LIMIT 500",
                vec![Bind::Text(after.clone())],
            )
            .await
            .map_err(failed("reading customers to index"))?;
        let Some(last) = rows.last() else { break };
        after = last.text(0, "a customer id")?.to_owned();
        for row in &rows {
            let customer: Customer = from_json(row.text(1, "a customer")?, "customer")?;
            let id = customer.id.to_string();
            let columns = SearchColumns::of(&customer);
            let bookings: Vec<Booking> = crate::adapters::sql::reads::records(
                session,
                "SELECT record FROM cd_bookings WHERE customer_id = $1",
                vec![Bind::Text(id.clone())],
                "booking",
            )
            .await?;
            let delta = StatsDelta::of(&bookings);
            session
                .execute(
                    "UPDATE cd_customers SET search_text = $2, sort_name = $3, initial = $4, \
                     country = $5, booking_count = $6, last_booking_at = $7 WHERE id = $1",
                    vec![
                        Bind::Text(id.clone()),
                        Bind::Text(columns.search_text),
                        Bind::Text(columns.sort_name),
                        Bind::Text(columns.initial),
                        Bind::MaybeText(columns.country.map(|c| c.as_str().to_owned())),
                        Bind::Int(delta.count),
                        Bind::Int(delta.last_booking),
                    ],
                )
                .await
                .map_err(failed("indexing a customer"))?;
            index_memberships(session, &customer, false).await?;
            if let Some((sql, binds)) = add_totals_statement(&id, &delta) {
                session
                    .execute(&sql, binds)
                    .await
                    .map_err(failed("indexing a customer's totals"))?;
            }
        }
    }
    Ok(())
}
