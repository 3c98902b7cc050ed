//! PostgreSQL's [`Session`]: statements over `sqlx` on one pooled connection.

use sqlx::postgres::{PgConnection, PgRow};
use sqlx::{Column, Postgres, Row as _, TypeInfo};

use crate::adapters::postgres::kept;
use crate::adapters::sql::encoding::Bind;
use crate::adapters::sql::schema::Migration;
use crate::adapters::sql::session::{DbError, Dialect, Row, Session, Value};

/// How PostgreSQL spells what the databases spell differently.
pub(crate) struct PostgresDialect;

impl Dialect for PostgresDialect {
    const LOCK: &'static str = "FOR UPDATE";
    const ARRAYS: bool = true;
    const NUMBERED: char = '$';
    // DDL races (`CREATE TABLE IF NOT EXISTS` included) fail on PostgreSQL; a transaction
    // lock per schema makes concurrent `migrate` calls take turns.
    const MIGRATION_LOCK: &'static str =
        "SELECT pg_advisory_xact_lock(hashtext('customer_directory.migrate.' || current_schema()))";
    const MIGRATIONS: &'static [Migration] = crate::adapters::sql::schema::POSTGRES;
}

/// Statements on one connection (inside a transaction when the caller began one on it).
pub(crate) struct PgSession<'c>(pub(crate) &'c mut PgConnection);

/// Binds `binds` to `query` in order.
pub(crate) fn bind_all<'q>(
    mut query: sqlx::query::Query<'q, Postgres, sqlx::postgres::PgArguments>,
    binds: Vec<Bind>,
) -> sqlx::query::Query<'q, Postgres, sqlx::postgres::PgArguments> {
    for value in binds {
        query = match value {
            Bind::Text(text) => query.bind(text),
            Bind::MaybeText(text) => query.bind(text),
            Bind::Int(number) => query.bind(number),
            Bind::Texts(texts) => query.bind(texts),
            Bind::MaybeTexts(texts) => query.bind(texts),
            Bind::Ints(numbers) => query.bind(numbers),
        };
    }
    query
}

/// A driver error as the core sees it: serialization failures (40001) and deadlocks
/// (40P01) abort the transaction, and retrying succeeds. An error saying the connection
/// broke is noted ([`note_if_connection_broke`]), so the connections idle when it broke
/// are checked before they serve again.
pub(crate) fn db_error(error: sqlx::Error) -> DbError {
    note_if_connection_broke(&error);
    let aborted = error.as_database_error().and_then(|database| {
        matches!(database.code()?.as_ref(), "40001" | "40P01")
            .then(|| database.message().to_owned())
    });
    DbError {
        source: Box::new(error),
        aborted,
    }
}

/// Notes ([`kept::note_broken_connection`]) when `error` says the connection itself
/// failed rather than a statement: the socket or the protocol failed, or the server ended
/// the session (SQLSTATE class 08, connection exception, and 57P01 to 57P03:
/// administrator or crash shutdown, cannot connect now).
pub(crate) fn note_if_connection_broke(error: &sqlx::Error) {
    let broke = match error {
        sqlx::Error::Io(_) | sqlx::Error::Tls(_) | sqlx::Error::Protocol(_) => true,
        sqlx::Error::Database(database) => database.code().is_some_and(|code| {
            code.starts_with("08") || matches!(code.as_ref(), "57P01" | "57P02" | "57P03")
        }),
        _ => false,
    };
    if broke {
        kept::note_broken_connection();
    }
}

/// A row's cells: integers (any width) and text, `NULL` where the column holds none.
fn cells(row: &PgRow) -> Result<Row, sqlx::Error> {
    let mut cells = Vec::with_capacity(row.len());
    for (index, column) in row.columns().iter().enumerate() {
        let value = match column.type_info().name() {
            "INT8" => row.try_get::<Option<i64>, _>(index)?.map(Value::Int),
            "INT4" => row
                .try_get::<Option<i32>, _>(index)?
                .map(|n| Value::Int(i64::from(n))),
            "BOOL" => row
                .try_get::<Option<bool>, _>(index)?
                .map(|b| Value::Int(i64::from(b))),
            _ => row.try_get::<Option<String>, _>(index)?.map(Value::Text),
        };
        cells.push(value.unwrap_or(Value::Null));
    }
    Ok(Row(cells))
}

impl Session for PgSession<'_> {
    type Dialect = PostgresDialect;

    async fn execute(&mut self, sql: &str, binds: Vec<Bind>) -> Result<u64, DbError> {
        bind_all(sqlx::query(sql), binds)
            .execute(&mut *self.0)
            .await
            .map(|done| done.rows_affected())
            .map_err(db_error)
    }

    async fn fetch(&mut self, sql: &str, binds: Vec<Bind>) -> Result<Vec<Row>, DbError> {
        let rows = bind_all(sqlx::query(sql), binds)
            .fetch_all(&mut *self.0)
            .await
            .map_err(db_error)?;
        rows.iter()
            .map(cells)
            .collect::<Result<_, _>>()
            .map_err(db_error)
    }
}

/// The pool options the store starts from. sqlx checks every connection it hands out with a
/// round trip by default (`test_before_acquire`), which a booking pays twice; a connection
/// in steady use has just proven itself, so only one that sat idle for
/// [`IDLE_BEFORE_PING`](kept::IDLE_BEFORE_PING), or idle since an operation found its
/// connection broken (see [`kept::trusted`]), is checked, and replaced when the check fails.
pub(crate) fn pool_options() -> sqlx::pool::PoolOptions<Postgres> {
    sqlx::pool::PoolOptions::new()
        .test_before_acquire(false)
        .before_acquire(|connection, metadata| {
            Box::pin(async move {
                if !kept::trusted(metadata.idle_for) {
                    sqlx::Connection::ping(connection).await?;
                }
                Ok(true)
            })
        })
}
