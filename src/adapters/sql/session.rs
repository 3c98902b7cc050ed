//! The two seams of the SQL core: a [`Session`] runs statements on one connection of one
//! driver, and a [`Dialect`] says how a database spells what the two databases spell
//! differently. Everything else (the SQL text, row encoding, the order of a commit) is
//! shared and lives in the core's other modules.

use std::future::Future;

use crate::adapters::sql::encoding::Bind;
use crate::adapters::sql::schema::Migration;
use crate::ports::store::{Conflict, StoreError};

/// What a step of the commit answers: `Ok(Err(conflict))` when an expectation failed (the
/// caller rolls back), `Err` when the database failed.
pub(crate) type Checked = Result<Result<(), Conflict>, StoreError>;

/// One cell of a result row, as both drivers hand it over: the schema's columns are
/// integers or text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Value {
    Null,
    Int(i64),
    Text(String),
}

/// A result row: its cells in the order the statement selected them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Row(pub(crate) Vec<Value>);

impl Row {
    /// The text in column `index`; a `NULL`, an integer or a missing column is a backend
    /// error naming `what` was being read.
    pub(crate) fn text(&self, index: usize, what: &str) -> Result<&str, StoreError> {
        match self.0.get(index) {
            Some(Value::Text(text)) => Ok(text),
            other => Err(unexpected(what, index, other)),
        }
    }

    /// The text in column `index`, or `None` for a `NULL`.
    pub(crate) fn maybe_text(&self, index: usize, what: &str) -> Result<Option<&str>, StoreError> {
        match self.0.get(index) {
            Some(Value::Null) => Ok(None),
            Some(Value::Text(text)) => Ok(Some(text)),
            other => Err(unexpected(what, index, other)),
        }
    }

    /// The integer in column `index`.
    pub(crate) fn int(&self, index: usize, what: &str) -> Result<i64, StoreError> {
        match self.0.get(index) {
            Some(Value::Int(value)) => Ok(*value),
            other => Err(unexpected(what, index, other)),
        }
    }
}

fn unexpected(what: &str, index: usize, found: Option<&Value>) -> StoreError {
    StoreError::backend(
        format!("reading {what}"),
        format!("column {index} holds {found:?}"),
    )
}

/// A database error as a driver reports it: the driver's error, and whether the database
/// gave up the transaction because of a concurrent one (a lock held past the busy timeout,
/// a serialization failure, a deadlock), which the caller may retry.
#[derive(Debug)]
pub(crate) struct DbError {
    pub(crate) source: Box<dyn std::error::Error + Send + Sync>,
    pub(crate) aborted: Option<String>,
}

impl DbError {
    /// The port's error for this failure while doing `what`: a
    /// [`Conflict::TransactionAborted`] when the database aborted because of another
    /// writer, a backend error otherwise.
    pub(crate) fn while_(self, what: &'static str) -> StoreError {
        match self.aborted {
            Some(reason) => StoreError::Conflict(Conflict::TransactionAborted { reason }),
            None => StoreError::Backend {
                message: what.into(),
                source: Some(self.source),
            },
        }
    }
}

/// Maps a [`DbError`] met while doing `what` (see [`DbError::while_`]), for `map_err`.
pub(crate) fn failed(what: &'static str) -> impl FnOnce(DbError) -> StoreError {
    move |error| error.while_(what)
}

/// One connection of one driver, inside or outside a transaction: the whole of what the
/// shared core asks of a driver. Parameters are numbered `$1`, `$2`, ... in the SQL text
/// and bound in order.
///
/// The core is written once, as `async` code over this trait. PostgreSQL's session awaits
/// the network; SQLite's runs each statement on the spot on the thread that owns the
/// connection, so its futures are ready when first polled (see [`run_ready`]).
pub(crate) trait Session: Send {
    /// How this database spells what differs.
    type Dialect: Dialect;

    /// Runs a statement that returns no rows, answering how many rows it changed.
    fn execute(
        &mut self,
        sql: &str,
        binds: Vec<Bind>,
    ) -> impl Future<Output = Result<u64, DbError>> + Send;

    /// Runs a statement and collects every row it returns.
    fn fetch(
        &mut self,
        sql: &str,
        binds: Vec<Bind>,
    ) -> impl Future<Output = Result<Vec<Row>, DbError>> + Send;
}

/// What the two databases spell differently, as constants the shared SQL splices in.
pub(crate) trait Dialect {
    /// Appended to the reads a commit makes to lock the rows it checks (`FOR UPDATE`);
    /// empty where the transaction already holds the database's one write lock.
    const LOCK: &'static str;
    /// Whether a statement can take a whole column of rows as one array parameter
    /// (`UNNEST($1::text[], ...)`): a multi-row write is then one statement whatever its
    /// number of rows. Elsewhere rows go in `VALUES` lists, chunked under the parameter limit.
    const ARRAYS: bool;
    /// How SQL built for this database alone writes parameter `n`: `$n`, or `?n` where the
    /// driver binds that by number more cheaply. The shared SQL text writes `$n`, which both
    /// databases read.
    const NUMBERED: char;
    /// A statement run first in each migration's transaction to serialise concurrent
    /// `migrate` calls; empty where the transaction's start already does.
    const MIGRATION_LOCK: &'static str;
    /// Every migration in order.
    const MIGRATIONS: &'static [Migration];
}

/// Runs a future whose every step is ready (a [`Session`] that runs statements on the
/// spot, as SQLite's does on its connection's thread) to its end, without a runtime.
///
/// # Errors
///
/// A backend error if the future waits for something, which such a session never does.
#[cfg(feature = "sqlite")]
pub(crate) fn run_ready<T>(
    future: impl Future<Output = Result<T, StoreError>>,
) -> Result<T, StoreError> {
    let mut future = std::pin::pin!(future);
    let mut context = std::task::Context::from_waker(std::task::Waker::noop());
    match future.as_mut().poll(&mut context) {
        std::task::Poll::Ready(outcome) => outcome,
        std::task::Poll::Pending => Err(StoreError::backend(
            "running a statement",
            "the connection's work waited, which it never should",
        )),
    }
}
