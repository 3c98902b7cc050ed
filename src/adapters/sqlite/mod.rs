//! [`SqliteStore`]: the port on SQLite (feature `sqlite`), for a directory kept in a file.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use rusqlite::Connection;

use crate::adapters::sql::session::{Checked, Dialect, run_ready};
use crate::adapters::sql::{commit, migrate, reads};
use crate::adapters::sqlite::group_commit::commit_alone;
use crate::adapters::sqlite::session::{SqliteDialect, SqliteSession};
use crate::adapters::sqlite::threads::{
    BUSY_TIMEOUT, CHECKPOINT_PAGES, Connections, Location, Queues, checkpoint_on_readers, open,
    spawn,
};
use crate::ports::query::builder::CustomerQuery;
use crate::ports::query::evaluation::{SearchHit, SortPosition};
use crate::ports::store::changes::ChangeSet;
use crate::ports::store::{
    AccountStore, BulkReadStore, EmailLookup, SearchStore, Store, StoreError,
};
use crate::records::account::{Account, AccountToken};
use crate::records::audit::AuditEvent;
use crate::records::booking::Booking;
use crate::records::customer::Customer;
use crate::records::merge::MergeRecord;
use crate::records::notes::CustomerList;
use crate::records::profile::MatchKeys;
use crate::records::tokens::ResetTokenHash;
use crate::values::email::key::EmailKey;
use crate::values::ids::{AccountId, BookingId, CustomerId, MergeId};

pub(crate) mod group_commit;
pub(crate) mod session;
pub(crate) mod threads;

/// How many connections a file database is read through.
const READERS: usize = 4;

/// How many times [`SqliteStore::truncate_wal`] asks for a truncating checkpoint before it
/// gives up; each attempt already waits up to the connection's busy timeout for readers.
/// Attempts that a reader's checkpoint made busy go on, [`TRUNCATE_PAUSE`] apart, for up
/// to the busy timeout.
const TRUNCATE_ATTEMPTS: u32 = 3;

/// The pause between attempts of [`SqliteStore::truncate_wal`].
const TRUNCATE_PAUSE: std::time::Duration = std::time::Duration::from_millis(10);

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
    /// The `synchronous` pragma's value.
    fn synchronous(self) -> &'static str {
        match self {
            Durability::Normal => "NORMAL",
            Durability::Full => "FULL",
        }
    }
}

/// A [`Store`] in a SQLite database, through `rusqlite` with
/// SQLite compiled in.
///
/// Files are opened in WAL mode (readers never wait for the writer) with a busy timeout.
/// Each connection lives on a thread of its own: one writer, through which every commit
/// goes in turn, and four readers beside it. A read or a commit is one hand-over to the
/// connection's thread and one back, its statements run there from a cache of prepared
/// statements, whose plans never depend on the values bound (`SQLITE_DBCONFIG_ENABLE_QPSG`:
/// SQLite would otherwise compile a join again at each new value). Each transaction takes
/// the write lock up front (`BEGIN IMMEDIATE`), so a writer in another process makes it
/// wait (up to the busy timeout) instead of failing half-way.
///
/// Commits from tasks running at once are committed together (group commit): the writer
/// takes every commit queued behind the one it starts, up to 64, into one transaction, each
/// under a savepoint of its own. A commit that fails (a version conflict, a taken email
/// key) is rolled back alone and answers its own error, while the others are kept; if the
/// transaction itself fails, none of its commits is kept and each answers the error. No
/// commit is answered before its transaction has ended, so a caller told a commit succeeded
/// finds it stored, and a caller retrying after a conflict reads every commit that shared
/// its transaction. A commit with nothing queued behind it has a transaction of its own, as
/// before. With 32 tasks recording bookings at once this records about 1.5 times as many a
/// second as a transaction per commit, and writes a third fewer pages a booking.
/// Once the WAL holds 16,384 pages a reader copies them into the database file (a passive
/// checkpoint) while the writer goes on committing; the WAL is bounded at four times that,
/// past which the writer checkpoints itself.
/// `sqlite::memory:` gives a private in-memory database on one connection, for tests. Call
/// [`migrate`](Self::migrate) once before use.
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
    /// The connections' threads, shared by the store's clones.
    connections: Arc<Connections>,
    /// Whether an erasure was committed whose truncation of the WAL has not succeeded yet;
    /// shared by the store's clones.
    truncation_pending: Arc<AtomicBool>,
}

impl SqliteStore {
    /// Opens (creating if missing) the database at `url`: `sqlite://path/to/file.db` (or
    /// `sqlite:path/to/file.db`), or `sqlite::memory:`, with [`Durability::Normal`].
    ///
    /// # Errors
    ///
    /// [`StoreError::Backend`] when the URL is not one of these or the file cannot be
    /// opened.
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
        let location = location(url)?;
        let synchronous = durability.synchronous();
        let opening = |error| StoreError::backend("opening the SQLite database", error);
        let (closed_tx, closed) = flume::unbounded();
        let (writer, writer_jobs) = flume::unbounded();
        let (readers, reader_jobs) = flume::unbounded();
        let mut connection = open(&location, synchronous, false).map_err(opening)?;
        if let Location::File(_) = location {
            checkpoint_on_readers(&mut connection, readers.clone(), CHECKPOINT_PAGES)
                .map_err(opening)?;
        }
        spawn(
            "cd-sqlite-writer".into(),
            connection,
            writer_jobs,
            closed_tx.clone(),
        )?;
        let (readers, reader_count) = match location {
            Location::Memory => (None, 0),
            Location::File(_) => {
                for n in 0..READERS {
                    let connection = open(&location, synchronous, true).map_err(opening)?;
                    spawn(
                        format!("cd-sqlite-reader-{n}"),
                        connection,
                        reader_jobs.clone(),
                        closed_tx.clone(),
                    )?;
                }
                (Some(readers), READERS)
            }
        };
        Ok(Self {
            connections: Arc::new(Connections::new(Queues {
                writer,
                readers,
                reader_count,
                closed,
            })),
            truncation_pending: Arc::default(),
        })
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
        self.connections.close().await;
    }

    /// Runs `work` on the store's writing connection (a [`rusqlite`]
    /// connection, re-exported as `adapters::rusqlite`) between two commits, for the host's
    /// own queries and maintenance, and answers what it returned. Nothing else writes while
    /// it runs; a transaction it opens it must end. The store's checkpoints hang on this
    /// connection's WAL hook, which `wal_hook` and `PRAGMA wal_autocheckpoint` replace: leave
    /// both alone.
    ///
    /// # Errors
    ///
    /// [`StoreError::Backend`] when the store is closed.
    ///
    /// # Examples
    ///
    /// ```
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// use customer_directory::SqliteStore;
    /// let store = SqliteStore::connect("sqlite::memory:").await?;
    /// store.migrate().await?;
    /// let customers: i64 = store
    ///     .with_connection(|connection| {
    ///         connection.query_row("SELECT count(*) FROM cd_customers", [], |row| row.get(0))
    ///     })
    ///     .await??;
    /// assert_eq!(customers, 0);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # }).unwrap();
    /// ```
    pub async fn with_connection<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Connection) -> T + Send + 'static,
    ) -> Result<T, StoreError> {
        self.connections.on_writer(work).await
    }

    /// Creates or upgrades the schema; safe to call on every start (applied migrations are
    /// recorded and skipped), and by several processes at once (each migration takes the
    /// write lock).
    ///
    /// # Errors
    ///
    /// [`StoreError::Backend`] when a statement fails; the failing migration is rolled back.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        self.connections
            .on_writer(|connection| {
                for migration in SqliteDialect::MIGRATIONS {
                    let apply = move |connection: &mut Connection| -> Checked {
                        run_ready(async {
                            let session = &mut SqliteSession(connection);
                            migrate::apply_migration(session, migration).await?;
                            Ok(Ok(()))
                        })
                    };
                    commit_alone(
                        connection,
                        apply,
                        |applied| matches!(applied, Ok(Ok(()))),
                        Err,
                    )
                    .ok_or_else(|| {
                        StoreError::backend("migrating", "the migration's work panicked")
                    })??
                    .map_err(StoreError::Conflict)?;
                }
                Ok(())
            })
            .await?
    }

    /// Copies every page in the WAL into the database file and truncates the WAL to zero
    /// bytes (`PRAGMA wal_checkpoint(TRUNCATE)`), so the old page images it held, erased
    /// values among them, are gone from it. The store does this after every erasure commit;
    /// a host calls it to settle a truncation [still owed](Self::wal_truncation_pending), or
    /// after writing personal data away by its own queries.
    ///
    /// Each attempt waits up to the connection's busy timeout for readers still on older
    /// snapshots (and for writers in other processes); it is tried up to three times, and
    /// for up to the busy timeout while a reader is copying the WAL into the database file
    /// (the store's checkpoints run on its readers). On a database not in WAL mode
    /// (`sqlite::memory:`) there is nothing to do.
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
        self.connections.on_writer(truncate_wal_now).await??;
        // Whatever erasure came before this truncation, its frames are gone.
        self.truncation_pending.store(false, Ordering::Relaxed);
        Ok(())
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

    /// Runs a read on a reader's connection.
    async fn read<T: Send + 'static>(
        &self,
        read: impl FnOnce(&mut SqliteSession<'_>) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        self.connections
            .on_reader(move |connection| read(&mut SqliteSession(connection)))
            .await?
    }
}

/// The database a URL names.
fn location(url: &str) -> Result<Location, StoreError> {
    let invalid = |why: &str| {
        StoreError::backend(
            "parsing the SQLite URL",
            format!("`{url}` {why}: expected sqlite://path, sqlite:path or sqlite::memory:"),
        )
    };
    let rest = url
        .strip_prefix("sqlite:")
        .ok_or_else(|| invalid("does not start with `sqlite:`"))?;
    if rest == ":memory:" {
        return Ok(Location::Memory);
    }
    if rest.contains('?') {
        return Err(invalid(
            "has query parameters, which the store does not take",
        ));
    }
    let path = rest.strip_prefix("//").unwrap_or(rest);
    if path.is_empty() {
        return Err(invalid("names no file"));
    }
    Ok(Location::File(path.into()))
}

/// Truncates the WAL on the writer's connection (see [`SqliteStore::truncate_wal`]).
fn truncate_wal_now(connection: &mut Connection) -> Result<(), StoreError> {
    let started = std::time::Instant::now();
    let mut attempts = 0;
    loop {
        attempts += 1;
        // One row: busy (1 when readers or a writer kept the checkpoint from finishing, or
        // a reader is running a checkpoint), the WAL's frames and the frames copied (both
        // -1 outside WAL mode).
        let busy: i64 = connection
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |row| row.get(0))
            .map_err(|error| StoreError::backend("truncating the SQLite WAL", error))?;
        if busy == 0 {
            return Ok(());
        }
        // Readers on older snapshots were waited for (the busy timeout); a checkpoint a
        // reader runs is not, SQLite answers busy at once, so that one is waited out here.
        if attempts >= TRUNCATE_ATTEMPTS && started.elapsed() >= BUSY_TIMEOUT {
            break;
        }
        std::thread::sleep(TRUNCATE_PAUSE);
    }
    Err(StoreError::backend(
        "truncating the SQLite WAL",
        format!("readers kept it busy through {attempts} attempts"),
    ))
}

/// Runs one read of [`reads`] on a reader's connection; its arguments are moved there.
macro_rules! read {
    ($store:expr, $read:ident ( $($arg:expr),* )) => {{
        $store
            .read(move |session| run_ready(reads::$read(session, $($arg),*)))
            .await
    }};
}

impl Store for SqliteStore {
    async fn customer(&self, id: CustomerId) -> Result<Option<Customer>, StoreError> {
        read!(self, customer(id))
    }

    async fn booking(&self, id: BookingId) -> Result<Option<Booking>, StoreError> {
        read!(self, booking(id))
    }

    async fn lookup_email(&self, key: &EmailKey) -> Result<EmailLookup, StoreError> {
        let key = key.clone();
        read!(self, lookup_email(&key))
    }

    async fn lookup_emails(&self, keys: &[EmailKey]) -> Result<Vec<EmailLookup>, StoreError> {
        let keys = keys.to_vec();
        read!(self, lookup_emails(&keys))
    }

    async fn booking_codes_stored(&self, codes: &[String]) -> Result<Vec<bool>, StoreError> {
        let codes = codes.to_vec();
        read!(self, booking_codes_stored(&codes))
    }

    async fn customer_bookings(&self, customer: CustomerId) -> Result<Vec<Booking>, StoreError> {
        read!(self, customer_bookings(customer))
    }

    async fn unattributed_bookings(&self, key: &EmailKey) -> Result<Vec<Booking>, StoreError> {
        let key = key.clone();
        read!(self, unattributed_bookings(&key))
    }

    async fn bookings_matching(&self, keys: &MatchKeys) -> Result<Vec<Booking>, StoreError> {
        let keys = keys.clone();
        read!(self, bookings_matching(&keys))
    }

    async fn merge_record(&self, id: MergeId) -> Result<Option<MergeRecord>, StoreError> {
        read!(self, merge_record(id))
    }

    async fn merges_involving(&self, customer: CustomerId) -> Result<Vec<MergeRecord>, StoreError> {
        read!(self, merges_involving(customer))
    }

    async fn audit_trail(&self, customer: CustomerId) -> Result<Vec<AuditEvent>, StoreError> {
        read!(self, audit_trail(customer))
    }

    async fn lists(&self) -> Result<Vec<CustomerList>, StoreError> {
        read!(self, lists())
    }

    async fn account(&self, id: AccountId) -> Result<Option<Account>, StoreError> {
        read!(self, account(id))
    }

    async fn account_by_customer(
        &self,
        customer: CustomerId,
    ) -> Result<Option<Account>, StoreError> {
        read!(self, account_by_customer(customer))
    }

    async fn accounts_claiming(
        &self,
        customers: &[CustomerId],
    ) -> Result<Vec<Option<Account>>, StoreError> {
        let customers = customers.to_vec();
        read!(self, accounts_claiming(&customers))
    }

    async fn commit(&self, changes: ChangeSet) -> Result<(), StoreError> {
        let erasure = changes.is_erasure();
        let (outcome, rows_changed) = self
            .connections
            .write_shared(
                move |connection| {
                    let before = connection.total_changes();
                    let outcome = run_ready(commit::apply(&mut SqliteSession(connection), changes));
                    (outcome, connection.total_changes().saturating_sub(before))
                },
                |(outcome, _)| matches!(outcome, Ok(Ok(()))),
                |ended| (Err(ended), 0),
            )
            .await?;
        outcome?.map_err(StoreError::Conflict)?;
        // The store span the service opened around the commit, if any.
        #[cfg(feature = "tracing")]
        tracing::Span::current().record("rows_affected", rows_changed);
        #[cfg(not(feature = "tracing"))]
        let _ = rows_changed;
        if erasure && self.truncate_wal().await.is_err() {
            // The commit stands (it is durable already): the truncation is owed.
            self.truncation_pending.store(true, Ordering::Relaxed);
        }
        Ok(())
    }
}

impl AccountStore for SqliteStore {
    async fn account_by_email(&self, key: &EmailKey) -> Result<Option<Account>, StoreError> {
        let key = key.clone();
        read!(self, account_by_email(&key))
    }

    async fn account_token(
        &self,
        hash: &ResetTokenHash,
    ) -> Result<Option<AccountToken>, StoreError> {
        let hash = hash.clone();
        read!(self, account_token(&hash))
    }

    async fn account_tokens(&self, account: AccountId) -> Result<Vec<AccountToken>, StoreError> {
        read!(self, account_tokens(account))
    }
}

impl SearchStore for SqliteStore {
    async fn search_customers(
        &self,
        query: &CustomerQuery,
        after: Option<&SortPosition>,
        limit: usize,
    ) -> Result<Vec<SearchHit>, StoreError> {
        let (query, after) = (query.clone(), after.cloned());
        read!(self, search_customers(&query, after.as_ref(), limit))
    }

    async fn count_customers(&self, query: &CustomerQuery) -> Result<u64, StoreError> {
        let query = query.clone();
        read!(self, count_customers(&query))
    }
}

impl BulkReadStore for SqliteStore {
    async fn customers_after(
        &self,
        after: Option<CustomerId>,
        limit: usize,
    ) -> Result<Vec<Customer>, StoreError> {
        read!(self, customers_after(after, limit))
    }

    async fn customers_inactive_since(
        &self,
        cutoff: chrono::DateTime<chrono::Utc>,
    ) -> Result<Vec<Customer>, StoreError> {
        read!(self, customers_inactive_since(cutoff))
    }

    async fn bookings_of(&self, customers: &[CustomerId]) -> Result<Vec<Vec<Booking>>, StoreError> {
        let customers = customers.to_vec();
        read!(self, bookings_of(&customers))
    }
}

/// The SQL the adapters share, checked against SQLite's own planner.
#[cfg(test)]
mod sql_tests {
    use super::SqliteStore;
    use crate::adapters::sql::encoding::{answer_in_order, placeholders, values_rows};
    use crate::adapters::sql::search::search_sql;
    use crate::adapters::sqlite::session::SqliteSession;
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
        let rows = store
            .with_connection(move |connection| {
                SqliteSession(connection).fetch_now(&format!("EXPLAIN QUERY PLAN {sql}"), &binds)
            })
            .await
            .unwrap()
            .expect("a plan");
        rows.iter()
            .map(|row| row.text(3, "a plan step").unwrap().to_owned())
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
                "cd_customer_stats_booking_count",
            ),
            (
                CustomerQuery::new().sorted_by(SortBy::LastBooking, SortDirection::Ascending),
                "cd_customer_stats_last_booking",
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
