//! [`SqliteStore`]: the port on SQLite (feature `sqlite`), for a directory kept in a file.

use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
use sqlx::{Sqlite, SqlitePool};

use super::StoreError;
use super::sql::{DependentRows, Migration, sql_store};

/// How many connections a file database is read through.
const READERS: u32 = 8;

/// How long a writer waits for another writer's transaction before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// A [`Store`](super::Store) in a SQLite database.
///
/// Files are opened in WAL mode (readers never wait for the writer) with a busy timeout.
/// Reads go through a pool of connections, commits through one connection of their own, so
/// the store's concurrent commits queue in turn; each commit takes the write lock up front
/// (`BEGIN IMMEDIATE`), so a writer in another process makes it wait (up to the busy
/// timeout) instead of failing half-way. Recording a booking sends its whole transaction to
/// the connection's thread as one statement list. `sqlite::memory:` gives a private
/// in-memory database on one connection, for tests. Call [`migrate`](Self::migrate) once
/// before use.
///
/// # Examples
///
/// ```
/// # #[cfg(feature = "sqlite")]
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// use customer_directory::store::SqliteStore;
/// use customer_directory::{Directory, DirectorySettings};
/// let store = SqliteStore::connect("sqlite::memory:").await?;
/// store.migrate().await?;
/// let directory = Directory::new(store, DirectorySettings::default());
/// assert!(directory.find_by_email("nobody@example.com").await?.is_none());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # }).unwrap();
/// ```
#[derive(Debug, Clone)]
pub struct SqliteStore {
    /// Reads: several connections, which WAL lets run beside the writer.
    pool: SqlitePool,
    /// Commits: one connection for a file opened by [`connect`](Self::connect), so the
    /// store's own writers queue in turn instead of polling SQLite's write lock (its busy
    /// handler sleeps for milliseconds), and the writer's page cache stays valid between
    /// commits, no other connection of the store having written. The same pool as `pool`
    /// otherwise.
    writer: SqlitePool,
}

impl SqliteStore {
    /// Opens (creating if missing) the database at `url`: `sqlite://path/to/file.db`, or
    /// `sqlite::memory:`.
    ///
    /// # Errors
    ///
    /// [`StoreError::Backend`] when the URL is invalid or the file cannot be opened.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let in_memory = url.contains(":memory:") || url.contains("mode=memory");
        let options = SqliteConnectOptions::from_str(url)
            .map_err(|error| StoreError::backend("parsing the SQLite URL", error))?
            .create_if_missing(true)
            .foreign_keys(true)
            .busy_timeout(BUSY_TIMEOUT);
        let opening = |error| StoreError::backend("opening the SQLite database", error);
        if in_memory {
            // An in-memory database lives as long as a connection to it: keep exactly one,
            // forever, so every query sees the same data and nothing is dropped when idle.
            let pool = super::sql::pool_options::<Sqlite>()
                .max_connections(1)
                .min_connections(1)
                .idle_timeout(None)
                .max_lifetime(None)
                .connect_with(options)
                .await
                .map_err(opening)?;
            return Ok(Self::from_pool(pool));
        }
        let options = options
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal);
        let writer = super::sql::pool_options::<Sqlite>()
            .max_connections(1)
            .connect_with(options.clone())
            .await
            .map_err(opening)?;
        let pool = super::sql::pool_options::<Sqlite>()
            .max_connections(READERS)
            .connect_with(options)
            .await
            .map_err(opening)?;
        Ok(Self { pool, writer })
    }

    /// Uses an existing pool (a [`sqlx`](crate::store::sqlx) 0.8 pool, re-exported as
    /// `store::sqlx`). It should have foreign keys on and a busy timeout, as
    /// [`connect`](Self::connect) sets up; an in-memory database needs a pool that never
    /// closes its one connection, or the data goes with it. Reads and commits share it.
    #[must_use]
    pub fn from_pool(pool: SqlitePool) -> Self {
        Self {
            writer: pool.clone(),
            pool,
        }
    }

    /// The pool the store reads with, for the host's own queries.
    #[must_use]
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    const MIGRATIONS: &'static [Migration] = super::schema::SQLITE;
    const LOCK: &'static str = "";
    const DEPENDENT_ROWS: DependentRows = DependentRows::StatementList;
    // `BEGIN IMMEDIATE` already makes one migration wait for another.
    const MIGRATION_LOCK: &'static str = "";

    /// Commits go through the writer.
    fn committer(&self) -> &SqlitePool {
        &self.writer
    }

    async fn begin(&self) -> Result<sqlx::Transaction<'static, Sqlite>, sqlx::Error> {
        self.committer().begin_with("BEGIN IMMEDIATE").await
    }

    /// SQLITE_BUSY and SQLITE_LOCKED (and their extended codes): another connection held
    /// the lock past the busy timeout.
    fn aborted(error: &sqlx::Error) -> Option<String> {
        let database = error.as_database_error()?;
        let code: i64 = database.code()?.parse().ok()?;
        matches!(code & 0xff, 5 | 6).then(|| database.message().to_owned())
    }
}

sql_store!(SqliteStore, Sqlite);
