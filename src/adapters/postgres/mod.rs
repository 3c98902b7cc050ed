//! [`PostgresStore`]: the port on PostgreSQL (feature `postgres`), for hosts that share one
//! directory between many processes.

use std::sync::Arc;

use sqlx::postgres::PgPool;

use crate::adapters::postgres::kept::KeptConnections;
use crate::adapters::postgres::session::{
    PgSession, PostgresDialect, bind_all, db_error, note_if_connection_broke, pool_options,
};
use crate::adapters::sql::session::Dialect;
use crate::adapters::sql::{commit, migrate, reads};
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

mod kept;
mod maintenance;
pub(crate) mod one_call;
pub(crate) mod session;

pub use maintenance::{MaintenanceError, Vacuum};

/// A [`Store`] in a PostgreSQL database (or one that speaks its protocol).
///
/// Commits run at READ COMMITTED; every check is a row-level compare-and-set or a locked
/// read (`FOR UPDATE`), and writes happen in one order, so concurrent commits either apply
/// in full or fail with a [`Conflict`](crate::ports::store::Conflict) that the directory retries. Recording
/// a booking commits as a single statement (no `BEGIN`, no `COMMIT`): with its email lookup,
/// two statements and two round trips (the store keeps its connections between operations,
/// see [`pool`](Self::pool), and checks one with a round trip of its own only when it sat
/// idle for five seconds). Call [`migrate`](Self::migrate) once before use.
///
/// # Durability
///
/// A commit is as durable as the server's `synchronous_commit` makes it. With the server's
/// default (`on`) a returned commit has reached the disk. `off` is PostgreSQL's counterpart
/// of the SQLite store's `Durability::Normal`: a crash of the server can undo the last
/// commits (those of up to three times `wal_writer_delay`), never half of one, and a
/// booking no longer waits for a disk sync. Set it for the store's role
/// or database (`ALTER ROLE ... SET synchronous_commit = off`), or in the URL:
/// `postgres://user:password@host/database?options=-c%20synchronous_commit%3Doff`.
///
/// # Erasure
///
/// A redaction's commit leaves the erased values behind in the server's files for a while,
/// and the store cannot remove them as part of the commit (`VACUUM` cannot run in a
/// transaction):
///
/// - **old row versions**: an `UPDATE` or `DELETE` leaves the old row (and its index
///   entries, and any TOAST chunks of a long record) in place as a dead tuple until `VACUUM`
///   (or autovacuum, whenever it comes) removes it; plain `VACUUM` makes the space reusable
///   but does not overwrite it, so the bytes can stay in the page until new rows land there.
///   [`vacuum_after_erasure`](Self::vacuum_after_erasure) vacuums the tables holding
///   personal values now ([`Vacuum::Full`] rewrites them into new files);
/// - **planner statistics** (`pg_statistic`) may hold sampled column values; the vacuum
///   also analyzes, replacing them, though the old catalog rows stay until autovacuum
///   vacuums `pg_statistic`;
/// - **shared buffers and data files**: vacuumed pages reach the files at the next
///   checkpoint ([`checkpoint`](Self::checkpoint) asks for one now);
/// - **the write-ahead log** holds every value written (new rows and full-page images)
///   until its segments are recycled and overwritten, which takes at least one checkpoint
///   and longer with `wal_keep_size`, replication slots or WAL archiving;
/// - **replicas, WAL archives, backups and server logs** (if they log statement
///   parameters) are out of the store's reach.
///
/// # Examples
///
/// ```no_run
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// use customer_directory::PostgresStore;
/// use customer_directory::{Directory, DirectorySettings};
/// let url = "postgres://directory:directory@localhost/directory";
/// // The directory's tables in a schema of their own, beside the host's.
/// let store = PostgresStore::connect_with_schema(url, "customer_directory").await?;
/// store.migrate().await?;
/// let directory = Directory::new(store, DirectorySettings::default());
/// assert!(directory.find_by_email("nobody@example.com").await?.is_none());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # }).unwrap();
/// ```
#[derive(Debug, Clone)]
pub struct PostgresStore {
    pool: PgPool,
    /// Connections kept between the store's operations (shared by its clones), so a
    /// booking's lookup and commit do not each pay the pool's check of a returned
    /// connection.
    kept: Arc<KeptConnections>,
}

impl PostgresStore {
    /// Connects to `url` (`postgres://user:password@host/database`) with a pool of up to
    /// 16 connections.
    ///
    /// # Errors
    ///
    /// [`StoreError::Backend`] when the URL is invalid or the server cannot be reached.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let pool = pool_options()
            .max_connections(16)
            .connect(url)
            .await
            .map_err(|error| StoreError::backend("connecting to PostgreSQL", error))?;
        Ok(Self::from_pool(pool))
    }

    /// Connects like [`connect`](Self::connect), keeping the directory's tables in their own
    /// `schema` (created if missing): every pooled connection sets its `search_path` to it.
    ///
    /// # Errors
    ///
    /// [`StoreError::Backend`] when `schema` is not a plain lower-case identifier (letters,
    /// digits, `_`, at most 63 bytes, not starting with a digit) or the server cannot be
    /// reached.
    pub async fn connect_with_schema(url: &str, schema: &str) -> Result<Self, StoreError> {
        let plain = !schema.is_empty()
            && schema.len() <= 63
            && !schema.starts_with(|c: char| c.is_ascii_digit())
            && schema
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if !plain {
            return Err(StoreError::backend(
                "choosing the PostgreSQL schema",
                format!("`{schema}` is not a plain lower-case identifier"),
            ));
        }
        let setup = Self::connect(url).await?;
        let create = async {
            // Concurrent `CREATE SCHEMA IF NOT EXISTS` can fail; a lock on the name makes
            // processes starting together take turns.
            let mut tx = setup.pool.begin().await?;
            sqlx::query("SELECT pg_advisory_xact_lock(hashtext($1))")
                .bind(format!("customer_directory.schema.{schema}"))
                .execute(&mut *tx)
                .await?;
            // The name was checked above, so it is safe to place in the statement.
            sqlx::query(&format!("CREATE SCHEMA IF NOT EXISTS {schema}"))
                .execute(&mut *tx)
                .await?;
            tx.commit().await
        };
        let created = create.await;
        setup.pool.close().await;
        created.map_err(|error| StoreError::backend("creating the PostgreSQL schema", error))?;
        let search_path = format!("SET search_path TO {schema}");
        let pool = pool_options()
            .max_connections(16)
            .after_connect(move |connection, _| {
                let search_path = search_path.clone();
                Box::pin(async move {
                    sqlx::Executor::execute(connection, search_path.as_str()).await?;
                    Ok(())
                })
            })
            .connect(url)
            .await
            .map_err(|error| StoreError::backend("connecting to PostgreSQL", error))?;
        Ok(Self::from_pool(pool))
    }

    /// Uses an existing pool (a [`sqlx`] 0.8 pool, re-exported as
    /// `adapters::sqlx`), sharing it with the host's own queries.
    ///
    /// Between its operations the store keeps up to half of the pool's connections (see
    /// [`pool`](Self::pool)).
    #[must_use]
    pub fn from_pool(pool: PgPool) -> Self {
        let kept = Arc::new(KeptConnections::for_pool(&pool));
        Self { pool, kept }
    }

    /// The pool, for the host's own queries.
    ///
    /// A connection whose operation finished normally is kept by the store for its next
    /// operation rather than handed back: `sqlx` checks every connection handed back with a
    /// round trip, which a booking (a lookup and a commit) would pay twice. The store keeps
    /// at most half of the pool's connections, and only while at least half of them stay
    /// open to others (idle in the pool, or not opened yet), so the host's queries always
    /// have half of the pool however many stores share it; it hands back a kept connection
    /// idle for five seconds on its next operation.
    /// Closing the pool (here or through [`close`](Self::close)) closes the kept
    /// connections too.
    #[must_use]
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Hands the kept connections back and closes the pool: every connection is closed
    /// once its operation ends, and every later operation (the store's and the host's on
    /// [`pool`](Self::pool)) fails.
    pub async fn close(&self) {
        // Marked closed first (the call does it), so the pool closes the connections handed
        // back below rather than taking them in again.
        let closing = self.pool.close();
        drop(self.kept.drain());
        closing.await;
    }

    /// Creates or upgrades the schema; safe to call on every start (applied migrations are
    /// recorded and skipped), and by several processes at once (they take turns).
    ///
    /// # Errors
    ///
    /// [`StoreError::Backend`] when a statement fails; the failing migration is rolled back.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        for migration in PostgresDialect::MIGRATIONS {
            // Each migration is one transaction that first takes the migration lock, so
            // processes starting together apply it once and the others skip it.
            let mut tx = self
                .pool
                .begin()
                .await
                .map_err(|error| db_error(error).while_("starting a migration"))?;
            migrate::apply_migration(&mut PgSession(&mut tx), migration).await?;
            tx.commit()
                .await
                .map_err(|error| db_error(error).while_("committing a migration"))?;
        }
        Ok(())
    }

    /// A connection for one operation: a kept one, or one of the pool's. Hand it to
    /// [`keep`](Self::keep) when the operation finished normally; dropping it instead hands
    /// it back to the pool, which checks it.
    async fn connection(&self) -> Result<sqlx::pool::PoolConnection<sqlx::Postgres>, StoreError> {
        self.kept
            .take(&self.pool)
            .await
            .map_err(|error| db_error(error).while_("taking a connection"))
    }

    /// Keeps `connection`, whose operation finished normally, for the next operation.
    fn keep(&self, connection: sqlx::pool::PoolConnection<sqlx::Postgres>) {
        self.kept.keep(&self.pool, connection);
    }

    /// Runs a commit planned by [`one_call::plan`]: `true` when it is committed, `false`
    /// when it is not (a check failed, or the server refused) and nothing of it remains.
    pub(crate) async fn commit_in_one_call(&self, call: one_call::OneCall) -> bool {
        let Ok(mut connection) = self.connection().await else {
            return false;
        };
        let done = bind_all(sqlx::query(&call.sql), call.binds)
            .execute(&mut *connection)
            .await;
        let done = match done {
            Ok(done) => done,
            Err(error) => {
                // The general path that follows must not take a connection idle since a
                // break this one found.
                note_if_connection_broke(&error);
                return false;
            }
        };
        self.keep(connection);
        // The store span the service opened around the commit, if any.
        #[cfg(feature = "tracing")]
        tracing::Span::current().record("rows_affected", done.rows_affected());
        #[cfg(not(feature = "tracing"))]
        let _ = done;
        true
    }

    /// The general commit, in a transaction at READ COMMITTED.
    async fn commit_in_transaction(&self, changes: ChangeSet) -> Result<(), StoreError> {
        let mut connection = self.connection().await?;
        let committed = Self::commit_on(&mut connection, changes).await;
        if committed.is_ok() {
            self.keep(connection);
        }
        committed
    }

    /// The general commit on `connection`, in a transaction of its own.
    async fn commit_on(
        connection: &mut sqlx::PgConnection,
        changes: ChangeSet,
    ) -> Result<(), StoreError> {
        let mut tx = sqlx::Connection::begin(connection)
            .await
            .map_err(|error| db_error(error).while_("starting a transaction"))?;
        // Rows changed, for the store span the service opened around the commit: read only
        // when a subscriber records that span, so it costs nothing else.
        #[cfg(feature = "tracing")]
        let rows_before = if tracing::Span::current().is_disabled() {
            None
        } else {
            rows_changed(&mut tx).await
        };
        match commit::apply(&mut PgSession(&mut tx), changes).await {
            Ok(Ok(())) => {
                #[cfg(feature = "tracing")]
                if let Some(before) = rows_before {
                    if let Some(after) = rows_changed(&mut tx).await {
                        tracing::Span::current()
                            .record("rows_affected", after.saturating_sub(before));
                    }
                }
                tx.commit()
                    .await
                    .map_err(|error| db_error(error).while_("committing"))
            }
            Ok(Err(conflict)) => {
                tx.rollback()
                    .await
                    .map_err(|error| db_error(error).while_("rolling back"))?;
                Err(StoreError::Conflict(conflict))
            }
            Err(error) => {
                // Dropping the transaction rolls it back too; an explicit rollback keeps the
                // connection clean for the pool.
                let _ = tx.rollback().await;
                Err(error)
            }
        }
    }
}

/// The rows inserted, updated and deleted so far by the current transaction, or `None` if
/// the server would not say: the count is for the trace only and never fails a commit.
#[cfg(feature = "tracing")]
async fn rows_changed(connection: &mut sqlx::PgConnection) -> Option<u64> {
    let changed: i64 = sqlx::query_scalar(
        "SELECT COALESCE(sum(n_tup_ins + n_tup_upd + n_tup_del), 0)::BIGINT FROM pg_stat_xact_user_tables",
    )
    .fetch_one(connection)
    .await
    .ok()?;
    u64::try_from(changed).ok()
}

/// Runs one read on a connection of the store's pool.
macro_rules! read {
    ($store:expr, $read:ident ( $($arg:expr),* )) => {{
        let mut connection = $store.connection().await?;
        let read = reads::$read(&mut PgSession(&mut connection), $($arg),*).await;
        if read.is_ok() {
            $store.keep(connection);
        }
        read
    }};
}

impl Store for PostgresStore {
    async fn customer(&self, id: CustomerId) -> Result<Option<Customer>, StoreError> {
        read!(self, customer(id))
    }

    async fn booking(&self, id: BookingId) -> Result<Option<Booking>, StoreError> {
        read!(self, booking(id))
    }

    async fn lookup_email(&self, key: &EmailKey) -> Result<EmailLookup, StoreError> {
        read!(self, lookup_email(key))
    }

    async fn lookup_emails(&self, keys: &[EmailKey]) -> Result<Vec<EmailLookup>, StoreError> {
        read!(self, lookup_emails(keys))
    }

    async fn booking_codes_stored(&self, codes: &[String]) -> Result<Vec<bool>, StoreError> {
        read!(self, booking_codes_stored(codes))
    }

    async fn customer_bookings(&self, customer: CustomerId) -> Result<Vec<Booking>, StoreError> {
        read!(self, customer_bookings(customer))
    }

    async fn unattributed_bookings(&self, key: &EmailKey) -> Result<Vec<Booking>, StoreError> {
        read!(self, unattributed_bookings(key))
    }

    async fn bookings_matching(&self, keys: &MatchKeys) -> Result<Vec<Booking>, StoreError> {
        read!(self, bookings_matching(keys))
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
        read!(self, accounts_claiming(customers))
    }

    async fn commit(&self, changes: ChangeSet) -> Result<(), StoreError> {
        // Nothing PostgreSQL can do inside an erasure's commit clears what it leaves behind:
        // see `vacuum_after_erasure`.
        if let Some(call) = one_call::plan(&changes)? {
            if self.commit_in_one_call(call).await {
                return Ok(());
            }
            // Nothing of it remains; the general path finds out why, and reports it.
        }
        self.commit_in_transaction(changes).await
    }
}

impl AccountStore for PostgresStore {
    async fn account_by_email(&self, key: &EmailKey) -> Result<Option<Account>, StoreError> {
        read!(self, account_by_email(key))
    }

    async fn account_token(
        &self,
        hash: &ResetTokenHash,
    ) -> Result<Option<AccountToken>, StoreError> {
        read!(self, account_token(hash))
    }

    async fn account_tokens(&self, account: AccountId) -> Result<Vec<AccountToken>, StoreError> {
        read!(self, account_tokens(account))
    }
}

impl SearchStore for PostgresStore {
    async fn search_customers(
        &self,
        query: &CustomerQuery,
        after: Option<&SortPosition>,
        limit: usize,
    ) -> Result<Vec<SearchHit>, StoreError> {
        read!(self, search_customers(query, after, limit))
    }

    async fn count_customers(&self, query: &CustomerQuery) -> Result<u64, StoreError> {
        read!(self, count_customers(query))
    }
}

impl BulkReadStore for PostgresStore {
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
        read!(self, bookings_of(customers))
    }
}
