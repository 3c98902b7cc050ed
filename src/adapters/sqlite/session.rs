//! SQLite's [`Session`]: statements run on the spot through `rusqlite`, on the thread that
//! owns the connection, from its cache of prepared statements.

use rusqlite::Connection;
use rusqlite::types::ValueRef;

use crate::adapters::sql::encoding::Bind;
use crate::adapters::sql::schema::Migration;
use crate::adapters::sql::session::{DbError, Dialect, Row, Session, Value};

/// How SQLite spells what the databases spell differently.
pub(crate) struct SqliteDialect;

impl Dialect for SqliteDialect {
    // A transaction that began with `BEGIN IMMEDIATE` holds the database's one write lock:
    // no row can change under it.
    const LOCK: &'static str = "";
    // Rows go in `VALUES` lists: SQLite has no array parameters.
    const ARRAYS: bool = false;
    // `?n` is bound by its number (see `SqliteSession::prepared`).
    const NUMBERED: char = '?';
    // `BEGIN IMMEDIATE` already makes one migration wait for another.
    const MIGRATION_LOCK: &'static str = "";
    const MIGRATIONS: &'static [Migration] = crate::adapters::sql::schema::SQLITE;
}

/// Statements on one connection, inside a transaction when the caller began one.
pub(crate) struct SqliteSession<'c>(pub(crate) &'c mut Connection);

/// A driver error as the core sees it: `SQLITE_BUSY` and `SQLITE_LOCKED` (another
/// connection, of another process, held the lock past the busy timeout) abort the
/// transaction, and retrying may succeed.
pub(crate) fn db_error(error: rusqlite::Error) -> DbError {
    let aborted = match &error {
        rusqlite::Error::SqliteFailure(failure, message)
            if matches!(
                failure.code,
                rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked
            ) =>
        {
            Some(message.clone().unwrap_or_else(|| failure.to_string()))
        }
        _ => None,
    };
    DbError {
        source: Box::new(error),
        aborted,
    }
}

impl SqliteSession<'_> {
    /// Prepares `sql` (from the connection's statement cache) and binds `binds` to its
    /// parameters. The SQL numbers them `$1`, `$2`, ... as PostgreSQL does; SQLite reads
    /// `$1` as a parameter *named* `$1` and numbers parameters in order of first
    /// appearance, so each is bound by its name. SQL written for SQLite alone may number
    /// them `?1`, `?2`, ... instead (see [`SqliteDialect`]), which SQLite numbers as written:
    /// those are bound by number, without looking up names (a lookup costs a scan of the
    /// statement's parameters, which adds up in a statement of hundreds).
    fn prepared(
        &self,
        sql: &str,
        binds: &[Bind],
    ) -> Result<rusqlite::CachedStatement<'_>, rusqlite::Error> {
        let mut statement = self.0.prepare_cached(sql)?;
        let by_number = !sql.contains('$');
        for index in 1..=statement.parameter_count() {
            let position = if by_number {
                Some(index - 1)
            } else {
                statement
                    .parameter_name(index)
                    .and_then(|name| name.strip_prefix('$'))
                    .and_then(|digits| digits.parse::<usize>().ok())
                    .and_then(|n| n.checked_sub(1))
            }
            .filter(|&n| n < binds.len())
            .ok_or(rusqlite::Error::InvalidParameterCount(index, binds.len()))?;
            match &binds[position] {
                Bind::Text(text) => statement.raw_bind_parameter(index, text.as_str())?,
                Bind::MaybeText(text) => statement.raw_bind_parameter(index, text.as_deref())?,
                Bind::Int(number) => statement.raw_bind_parameter(index, number)?,
                Bind::Texts(_) | Bind::MaybeTexts(_) | Bind::Ints(_) => {
                    return Err(rusqlite::Error::ToSqlConversionFailure(
                        "SQLite takes no array parameters".into(),
                    ));
                }
            }
        }
        Ok(statement)
    }

    /// Runs a statement now, answering how many rows it changed.
    pub(crate) fn execute_now(
        &mut self,
        sql: &str,
        binds: &[Bind],
    ) -> Result<u64, rusqlite::Error> {
        let mut statement = self.prepared(sql, binds)?;
        let changed = statement.raw_execute()?;
        Ok(u64::try_from(changed).unwrap_or(u64::MAX))
    }

    /// Runs a statement now and collects its rows.
    pub(crate) fn fetch_now(
        &mut self,
        sql: &str,
        binds: &[Bind],
    ) -> Result<Vec<Row>, rusqlite::Error> {
        let mut statement = self.prepared(sql, binds)?;
        let columns = statement.column_count();
        let mut rows = statement.raw_query();
        let mut found = Vec::new();
        while let Some(row) = rows.next()? {
            let mut cells = Vec::with_capacity(columns);
            for index in 0..columns {
                cells.push(match row.get_ref(index)? {
                    ValueRef::Null => Value::Null,
                    ValueRef::Integer(n) => Value::Int(n),
                    ValueRef::Text(bytes) => Value::Text(
                        std::str::from_utf8(bytes)
                            .map_err(|error| rusqlite::Error::Utf8Error(index, error))?
                            .to_owned(),
                    ),
                    other => {
                        return Err(rusqlite::Error::InvalidColumnType(
                            index,
                            format!("column {index}"),
                            other.data_type(),
                        ));
                    }
                });
            }
            found.push(Row(cells));
        }
        Ok(found)
    }
}

impl Session for SqliteSession<'_> {
    type Dialect = SqliteDialect;

    fn execute(
        &mut self,
        sql: &str,
        binds: Vec<Bind>,
    ) -> impl Future<Output = Result<u64, DbError>> + Send {
        std::future::ready(self.execute_now(sql, &binds).map_err(db_error))
    }

    fn fetch(
        &mut self,
        sql: &str,
        binds: Vec<Bind>,
    ) -> impl Future<Output = Result<Vec<Row>, DbError>> + Send {
        std::future::ready(self.fetch_now(sql, &binds).map_err(db_error))
    }
}
