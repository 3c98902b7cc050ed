//! [`SqliteStore`]: the port on SQLite (feature `sqlite`), for a directory kept in a file.

use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
use sqlx::{Sqlite, SqlitePool};

use crate::adapters::sql::schema::Migration;
use crate::adapters::sql::{DependentRows, sql_store};
use crate::ports::store::StoreError;

/// How many connections a file database is read through.
const READERS: u32 = 8;

/// How long a writer waits for another writer's transaction before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// How many times [`SqliteStore::truncate_wal`] asks for a truncating checkpoint before it
/// gives up; each attempt already waits up to the connection's busy timeout for readers.
const TRUNCATE_ATTEMPTS: u32 = 3;

/// How far a committed change survives on a SQLite file in WAL mode: the `synchronous`
/// setting of the store's connections.
///
/// Either way a crash of the process loses nothing that was committed, and the database is
/// never corrupted; the two differ on a power cut or an operating-system crash.
///
/// # Examples
///
/// ```
/// use customer_directory::adapters::Durability;
/// assert_eq!(Durability::default(), Durability::Normal);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Durability {
    /// `synchronous = NORMAL`: the WAL is synced to disk at each checkpoint, not at each
    /// commit, so a power cut can undo the last commits (never half of one). SQLite's own
    /// recommendation for WAL mode, and the fastest durable setting.
    #[default]
    Normal,
    /// `synchronous = FULL`: the WAL is synced at every commit, so a commit that returned
    /// survives a power cut too; each commit waits for the disk.
    Full,
}

impl Durability {
    fn synchronous(self) -> SqliteSynchronous {
        match self {
            Durability::Normal => SqliteSynchronous::Normal,
            Durability::Full => SqliteSynchronous::Full,
        }
    }
}

/// A [`Store`](crate::ports::store::Store) in a SQLite database.
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
/// # Erasure
///
/// SQLite keeps what it overwrites or deletes: in free space inside pages, in free pages and,
/// in WAL mode, as old page images in the `-wal` file. So every connection the store opens
/// has `PRAGMA secure_delete = ON` (freed space and free pages are overwritten with zeros),
/// and after each commit that [erases personal data](crate::ports::store::changes::ChangeSet::mark_erasure) (what
/// [`Directory::redact`](crate::service::directory::Directory::redact) and
/// [`redact_inactive_since`](crate::service::directory::Directory::redact_inactive_since) commit) the store
/// checkpoints the WAL into the database file and truncates it to zero bytes
/// ([`truncate_wal`](Self::truncate_wal)) before the commit returns. The commit stands
/// even when the truncation cannot be done (readers holding older snapshots past the busy
/// timeout, three times over): the store then [owes it](Self::wal_truncation_pending) and
/// tries again at the next erasure, or when the host calls
/// [`truncate_wal`](Self::truncate_wal). What this cannot reach: copies of the
/// file (backups, snapshots), blocks the file system or the drive kept when the file was
/// rewritten or truncated, and free space in a database written by an earlier version of
/// this crate, before `secure_delete` was on (run `VACUUM` once to rewrite it).
///
/// # Examples
///
/// ```
/// # #[cfg(feature = "sqlite")]
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// use customer_directory::SqliteStore;
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
    /// Whether an erasure was committed whose truncation of the WAL has not succeeded yet;
    /// shared by the store's clones.
    truncation_pending: Arc<AtomicBool>,
}

impl SqliteStore {
    /// Opens (creating if missing) the database at `url`: `sqlite://path/to/file.db`, or
    /// `sqlite::memory:`, with [`Durability::Normal`].
    ///
    /// # Errors
    ///
    /// [`StoreError::Backend`] when the URL is invalid or the file cannot be opened.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        Self::connect_with_durability(url, Durability::default()).await
    }

    /// Opens the database at `url` as [`connect`](Self::connect) does, its file with the
    /// [`Durability`] given (an in-memory database has nothing to sync).
    ///
    /// # Errors
    ///
    /// [`StoreError::Backend`] when the URL is invalid or the file cannot be opened.
    ///
    /// # Examples
    ///
    /// ```
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// use customer_directory::SqliteStore;
    /// use customer_directory::adapters::Durability;
    /// let file = std::env::temp_dir().join(format!("durable-{}.db", customer_directory::CustomerId::new()));
    /// let store = SqliteStore::connect_with_durability(&format!("sqlite://{}", file.display()), Durability::Full).await?;
    /// store.migrate().await?;
    /// # store.close().await;
    /// # let _ = std::fs::remove_file(&file);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # }).unwrap();
    /// ```
    pub async fn connect_with_durability(
        url: &str,
        durability: Durability,
    ) -> Result<Self, StoreError> {
        let in_memory = url.contains(":memory:") || url.contains("mode=memory");
        let options = SqliteConnectOptions::from_str(url)
            .map_err(|error| StoreError::backend("parsing the SQLite URL", error))?
            .create_if_missing(true)
            .foreign_keys(true)
            .busy_timeout(BUSY_TIMEOUT)
            // Deleted and overwritten values are zeroed rather than left in free space.
            .pragma("secure_delete", "ON");
        let opening = |error| StoreError::backend("opening the SQLite database", error);
        if in_memory {
            // An in-memory database lives as long as a connection to it: keep exactly one,
            // forever, so every query sees the same data and nothing is dropped when idle.
            let pool = crate::adapters::sql::pool_options::<Sqlite>()
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
            .synchronous(durability.synchronous());
        let writer = crate::adapters::sql::pool_options::<Sqlite>()
            .max_connections(1)
            .connect_with(options.clone())
            .await
            .map_err(opening)?;
        let pool = crate::adapters::sql::pool_options::<Sqlite>()
            .max_connections(READERS)
            .connect_with(options)
            .await
            .map_err(opening)?;
        Ok(Self {
            pool,
            writer,
            truncation_pending: Arc::default(),
        })
    }

    /// Uses an existing pool (a [`sqlx`](crate::adapters::sqlx) 0.8 pool, re-exported as
    /// `adapters::sqlx`). It should have foreign keys on, a busy timeout and
    /// `secure_delete` on (`SqliteConnectOptions::pragma("secure_delete", "ON")`), as
    /// [`connect`](Self::connect) sets up; an in-memory database needs a pool that never
    /// closes its one connection, or the data goes with it. Reads and commits share it.
    ///
    /// The store cannot change how the host's connections were opened: an erasure commit
    /// turns `secure_delete` on for the connection it runs on (it stays on for that
    /// connection), but values that other commits freed on connections without it stay in
    /// the file's free space until SQLite reuses it.
    #[must_use]
    pub fn from_pool(pool: SqlitePool) -> Self {
        Self {
            writer: pool.clone(),
            pool,
            truncation_pending: Arc::default(),
        }
    }

    /// Closes the store's connections (every clone's: they share them), waiting until they
    /// are closed. When the last connection to a file closes, SQLite checkpoints the WAL
    /// into the database file and deletes the `-wal` and `-shm` files. The store answers
    /// every later call with [`StoreError::Backend`].
    ///
    /// # Examples
    ///
    /// ```
    /// # #[cfg(feature = "sqlite")]
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// use customer_directory::SqliteStore;
    /// let store = SqliteStore::connect("sqlite::memory:").await?;
    /// store.close().await;
    /// assert!(store.migrate().await.is_err());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # }).unwrap();
    /// ```
    pub async fn close(&self) {
        self.writer.close().await;
        self.pool.close().await;
    }

    /// The pool the store reads with, for the host's own queries.
    #[must_use]
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// Copies every page in the WAL into the database file and truncates the WAL to zero
    /// bytes (`PRAGMA wal_checkpoint(TRUNCATE)`), so the old page images it held, erased
    /// values among them, are gone from it. The store does this after every erasure commit;
    /// a host calls it to settle a truncation [still owed](Self::wal_truncation_pending), or
    /// after writing personal data away by its own queries.
    ///
    /// Each attempt waits up to the connection's busy timeout for readers still on older
    /// snapshots (and, with a pool of the host's, for a writer); it is tried up to three
    /// times. On a database not in WAL mode (`sqlite::memory:`) there is nothing to do.
    ///
    /// # Errors
    ///
    /// [`StoreError::Backend`] when readers kept the WAL busy through every attempt, or the
    /// database failed; a truncation [owed](Self::wal_truncation_pending) stays owed.
    /// Nothing committed is affected.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[cfg(feature = "sqlite")]
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// use customer_directory::SqliteStore;
    /// let store = SqliteStore::connect("sqlite::memory:").await?;
    /// store.migrate().await?;
    /// store.truncate_wal().await?;
    /// assert!(!store.wal_truncation_pending());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # }).unwrap();
    /// ```
    pub async fn truncate_wal(&self) -> Result<(), StoreError> {
        self.try_truncate_wal().await?;
        // Whatever erasure came before this truncation, its frames are gone.
        self.truncation_pending.store(false, Ordering::Relaxed);
        Ok(())
    }

    async fn try_truncate_wal(&self) -> Result<(), StoreError> {
        for _ in 0..TRUNCATE_ATTEMPTS {
            // One row: busy (1 when readers or a writer kept the checkpoint from finishing),
            // the WAL's frames and the frames copied (both -1 outside WAL mode).
            let (busy, _, _): (i64, i64, i64) = sqlx::query_as("PRAGMA wal_checkpoint(TRUNCATE)")
                .fetch_one(&self.writer)
                .await
                .map_err(|error| StoreError::backend("truncating the SQLite WAL", error))?;
            if busy == 0 {
                return Ok(());
            }
        }
        Err(StoreError::backend(
            "truncating the SQLite WAL",
            format!("readers on older snapshots kept it busy through {TRUNCATE_ATTEMPTS} attempts"),
        ))
    }

    /// Whether an erasure was committed whose WAL truncation has not succeeded yet, so old
    /// page images holding erased values may still be in the `-wal` file. It is cleared by
    /// the next successful [`truncate_wal`](Self::truncate_wal), which the store tries
    /// after every erasure; a host running a batch of redactions can check it at the end
    /// and call `truncate_wal` until it succeeds.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[cfg(feature = "sqlite")]
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// use customer_directory::SqliteStore;
    /// let store = SqliteStore::connect("sqlite::memory:").await?;
    /// assert!(!store.wal_truncation_pending());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # }).unwrap();
    /// ```
    #[must_use]
    pub fn wal_truncation_pending(&self) -> bool {
        self.truncation_pending.load(Ordering::Relaxed)
    }

    /// After an erasure commit: the WAL is truncated, or the truncation is owed. The commit
    /// stands either way (it is durable already), so a failure here is not the commit's.
    async fn after_erasure(&self) {
        if self.truncate_wal().await.is_err() {
            self.truncation_pending.store(true, Ordering::Relaxed);
        }
    }

    /// Run first in an erasure's transaction: a connection of a host's pool may lack the
    /// setting [`connect`](Self::connect) gives every connection.
    const ERASURE_SETUP: &'static str = "PRAGMA secure_delete = ON";
    /// The rows changed on this connection since it opened; a commit's count is the
    /// difference before and after its statements.
    #[cfg(feature = "tracing")]
    const ROWS_CHANGED: &'static str = "SELECT total_changes()";
    const MIGRATIONS: &'static [Migration] = crate::adapters::sql::schema::SQLITE;
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

/// The SQL the adapters share, checked against SQLite's own planner.
#[cfg(test)]
mod sql_tests {
    use super::SqliteStore;
    use crate::adapters::sql::{Bind, answer_in_order, placeholders, search_sql, values_rows};
    use crate::ports::query::builder::{CustomerQuery, SortBy, SortDirection};
    use crate::ports::query::evaluation::{SortPosition, SortValue};
    use crate::ports::store::Store;
    use crate::ports::store::changes::ChangeSet;
    use crate::records::customer::Customer;
    use crate::records::profile::Profile;
    use crate::values::ids::CustomerId;
    use crate::values::text::{CountryCode, PersonName};

    #[test]
    fn placeholders_are_numbered_from_the_first() {
        assert_eq!(placeholders(3, 4), "$4, $5, $6");
        assert_eq!(placeholders(0, 1), "");
        assert_eq!(values_rows(2, 2, 3), "($3, $4), ($5, $6)");
        assert_eq!(values_rows(1, 1, 8), "($8)");
    }

    #[test]
    fn answers_follow_the_order_asked_an_id_asked_twice_answered_twice() {
        let (a, b, c) = (CustomerId::new(), CustomerId::new(), CustomerId::new());
        let found = std::collections::HashMap::from([(a, "a"), (b, "b")]);
        assert_eq!(
            answer_in_order(&[b, c, a, b, a], found, || "-"),
            ["b", "-", "a", "b", "a"]
        );
    }

    /// SQLite's plan for `query` continuing after `after`, one line per step.
    async fn plan(
        store: &SqliteStore,
        query: &CustomerQuery,
        after: Option<&SortPosition>,
    ) -> String {
        let (sql, binds) = search_sql(query, after, 50).expect("a statement");
        let explain = format!("EXPLAIN QUERY PLAN {sql}");
        let mut statement = sqlx::query_as::<_, (i64, i64, i64, String)>(&explain);
        for bind in binds {
            statement = match bind {
                Bind::Text(text) => statement.bind(text),
                Bind::MaybeText(text) => statement.bind(text),
                Bind::Int(value) => statement.bind(value),
            };
        }
        let rows = statement.fetch_all(store.pool()).await.expect("a plan");
        rows.into_iter()
            .map(|row| row.3)
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// A page of the listing, sorted by name, creation, booking count or last booking (also
    /// with text search, a first letter or a country), is read from the sort key's index in
    /// order, starting at the cursor: no sort of every matching customer, no full scan.
    #[tokio::test]
    async fn pages_are_read_from_the_sort_keys_index() {
        let store = SqliteStore::connect("sqlite::memory:").await.unwrap();
        store.migrate().await.unwrap();
        for n in 0..50 {
            let profile = Profile {
                family_name: Some(PersonName::parse(&format!("F{n}")).unwrap()),
                ..Profile::default()
            };
            let mut changes = ChangeSet::new();
            changes.save_customer(Customer::new(profile, chrono::Utc::now()));
            store.commit(changes).await.unwrap();
        }
        let cases = [
            (CustomerQuery::new(), "cd_customers_sort_name"),
            (CustomerQuery::new().text("f1"), "cd_customers_sort_name"),
            (CustomerQuery::new().initial('f'), "cd_customers_initial"),
            (
                CustomerQuery::new().country(CountryCode::parse("PT").unwrap()),
                "cd_customers_country",
            ),
            (
                CustomerQuery::new().sorted_by(SortBy::Created, SortDirection::Descending),
                "cd_customers_created",
            ),
            (
                CustomerQuery::new().sorted_by(SortBy::BookingCount, SortDirection::Descending),
                "cd_customers_booking_count",
            ),
            (
                CustomerQuery::new().sorted_by(SortBy::LastBooking, SortDirection::Ascending),
                "cd_customers_last_booking",
            ),
        ];
        for (query, index) in cases {
            let value = match query.sort {
                SortBy::Name => SortValue::Text("f1".into()),
                _ => SortValue::Int(5),
            };
            let after = SortPosition::new(value, CustomerId::new());
            for after in [None, Some(&after)] {
                let plan = plan(&store, &query, after).await;
                assert!(plan.contains(index), "{query:?}: {plan}");
                assert!(!plan.contains("TEMP B-TREE"), "{query:?}: {plan}");
                if after.is_some() {
                    assert!(plan.contains("SEARCH"), "{query:?}: {plan}");
                }
            }
        }
    }
}
