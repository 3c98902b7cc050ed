//! [`PostgresStore`]: the port on PostgreSQL (feature `postgres`), for hosts that share one
//! directory between many processes.

use sqlx::Postgres;
use sqlx::postgres::PgPool;

use crate::adapters::sql::schema::Migration;
use crate::adapters::sql::{DependentRows, sql_store};
use crate::ports::store::StoreError;

/// A [`Store`](crate::ports::store::Store) in a PostgreSQL database (or one that speaks its protocol).
///
/// Commits run at READ COMMITTED; every check is a row-level compare-and-set or a locked
/// read (`FOR UPDATE`), and writes happen in one order, so concurrent commits either apply
/// in full or fail with a [`Conflict`](crate::ports::store::Conflict) that the directory retries. Recording
/// a booking commits as a single statement (no `BEGIN`, no `COMMIT`): with its email lookup,
/// two statements, plus the pool's check of each connection it takes back. Call
/// [`migrate`](Self::migrate) once before use.
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
}

impl PostgresStore {
    /// Connects to `url` (`postgres://user:password@host/database`) with a pool of up to
    /// 16 connections.
    ///
    /// # Errors
    ///
    /// [`StoreError::Backend`] when the URL is invalid or the server cannot be reached.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let pool = crate::adapters::sql::pool_options::<Postgres>()
            .max_connections(16)
            .connect(url)
            .await
            .map_err(|error| StoreError::backend("connecting to PostgreSQL", error))?;
        Ok(Self { pool })
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
        let pool = crate::adapters::sql::pool_options::<Postgres>()
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
        Ok(Self { pool })
    }

    /// Uses an existing pool (a [`sqlx`](crate::adapters::sqlx) 0.8 pool, re-exported as
    /// `store::sqlx`), sharing it with the host's own queries.
    #[must_use]
    pub fn from_pool(pool: PgPool) -> Self {
        Self { pool }
    }

    /// The pool, for the host's own queries.
    #[must_use]
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Vacuums and analyzes the directory's tables that hold personal values, so the dead
    /// row versions a redaction left (in the tables, their indexes and TOAST tables) are
    /// removed and the planner's sampled values are replaced. Call it after a redaction, or
    /// after a batch of them ([`redact_inactive_since`](crate::service::directory::Directory::redact_inactive_since));
    /// the tables are those of the store's schema (its connections' `search_path`).
    ///
    /// [`Vacuum::Plain`] runs beside reads and writes, but leaves the removed bytes in free
    /// space inside the pages until new rows overwrite them; [`Vacuum::Full`] rewrites each
    /// table and its indexes into new files (the old ones are deleted), holding an
    /// `ACCESS EXCLUSIVE` lock on the table meanwhile: reads and writes of it wait. Either
    /// way the changed pages reach the data files at the next [checkpoint](Self::checkpoint),
    /// and the write-ahead log keeps the old values until its segments are recycled (see
    /// [`PostgresStore`]). A row version some open transaction may still see is kept: a
    /// long-running transaction anywhere in the database (or a replication slot holding
    /// back the horizon) delays the cleanup.
    ///
    /// # Errors
    ///
    /// [`MaintenanceError::NotPermitted`] when the role neither owns these tables nor may
    /// maintain them (PostgreSQL would skip them with a mere warning), before anything runs;
    /// [`MaintenanceError::Store`] when a table is missing ([`migrate`](Self::migrate) first)
    /// or the server fails.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// use customer_directory::adapters::{MaintenanceError, Vacuum};
    /// use customer_directory::PostgresStore;
    /// use customer_directory::{Actor, Directory, DirectorySettings};
    /// let store = PostgresStore::connect("postgres://directory:directory@localhost/directory").await?;
    /// let directory = Directory::new(store.clone(), DirectorySettings::default());
    /// let cutoff = chrono::Utc::now() - chrono::TimeDelta::days(3 * 365);
    /// directory.redact_inactive_since(cutoff, &Actor::System).await?;
    /// store.vacuum_after_erasure(Vacuum::Plain).await?;
    /// match store.checkpoint().await {
    ///     Ok(()) | Err(MaintenanceError::NotPermitted { .. }) => {} // the server's own checkpoint comes later
    ///     Err(other) => return Err(other.into()),
    /// }
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # }).unwrap();
    /// ```
    pub async fn vacuum_after_erasure(&self, how: Vacuum) -> Result<(), MaintenanceError> {
        let tables: Vec<String> = PERSONAL_TABLES.iter().map(|&t| t.to_owned()).collect();
        // Owners (and superusers) may vacuum a table; from PostgreSQL 17 the MAINTAIN
        // privilege also does. A table left out is only warned about, so check first.
        let refused: Vec<(String, bool)> = sqlx::query_as(
            "SELECT t.name, c.oid IS NOT NULL
             FROM unnest($1::text[]) WITH ORDINALITY AS t(name, n)
             LEFT JOIN pg_class c ON c.oid = to_regclass(t.name)
             WHERE c.oid IS NULL OR NOT CASE
                 WHEN current_setting('server_version_num')::int >= 170000
                     THEN has_table_privilege(c.oid, 'MAINTAIN')
                 ELSE pg_has_role(c.relowner, 'USAGE')
             END
             ORDER BY t.n",
        )
        .bind(&tables)
        .fetch_all(&self.pool)
        .await
        .map_err(|error| StoreError::backend("checking who may vacuum the tables", error))?;
        if let Some((table, _)) = refused.iter().find(|(_, exists)| !exists) {
            return Err(StoreError::backend(
                "vacuuming after an erasure",
                format!("table {table} does not exist in the store's schema: migrate first"),
            )
            .into());
        }
        if !refused.is_empty() {
            let names: Vec<&str> = refused.iter().map(|(table, _)| table.as_str()).collect();
            return Err(MaintenanceError::NotPermitted {
                action: "VACUUM",
                reason: format!(
                    "the role neither owns nor may maintain {}",
                    names.join(", ")
                ),
            });
        }
        let options = match how {
            Vacuum::Plain => "ANALYZE, INDEX_CLEANUP ON",
            Vacuum::Full => "FULL, ANALYZE",
        };
        // Fixed names only; VACUUM cannot run in a transaction, hence one plain statement.
        let statement = format!("VACUUM ({options}) {}", PERSONAL_TABLES.join(", "));
        sqlx::raw_sql(&statement)
            .execute(&self.pool)
            .await
            .map_err(|error| maintenance_error("VACUUM", error))?;
        Ok(())
    }

    /// Asks the server for a checkpoint (`CHECKPOINT`): every changed page in shared
    /// buffers, those a [vacuum](Self::vacuum_after_erasure) cleaned included, is written
    /// to the data files, and the WAL segments before it become free to recycle. It needs
    /// a superuser or, from PostgreSQL 15, a member of `pg_checkpoint`; without it the
    /// server's own checkpoints (every `checkpoint_timeout`, 5 minutes by default) do the
    /// same a little later. A checkpoint writes out every changed page of the cluster: a
    /// burst of I/O.
    ///
    /// # Errors
    ///
    /// [`MaintenanceError::NotPermitted`] when the role may not; [`MaintenanceError::Store`]
    /// when the server fails.
    pub async fn checkpoint(&self) -> Result<(), MaintenanceError> {
        sqlx::raw_sql("CHECKPOINT")
            .execute(&self.pool)
            .await
            .map_err(|error| maintenance_error("CHECKPOINT", error))?;
        Ok(())
    }

    /// Nothing can be done inside an erasure's commit: see
    /// [`vacuum_after_erasure`](Self::vacuum_after_erasure).
    async fn after_erasure(&self) {}

    const ERASURE_SETUP: &'static str = "";
    /// The rows inserted, updated and deleted so far by the current transaction.
    #[cfg(feature = "tracing")]
    const ROWS_CHANGED: &'static str = "SELECT COALESCE(sum(n_tup_ins + n_tup_upd + n_tup_del), 0)::BIGINT FROM pg_stat_xact_user_tables";
    const MIGRATIONS: &'static [Migration] = crate::adapters::sql::schema::POSTGRES;
    const LOCK: &'static str = "FOR UPDATE";
    const DEPENDENT_ROWS: DependentRows = DependentRows::DataModifyingWith;
    // DDL races (`CREATE TABLE IF NOT EXISTS` included) fail on PostgreSQL; a transaction
    // lock per schema makes concurrent `migrate` calls take turns.
    const MIGRATION_LOCK: &'static str =
        "SELECT pg_advisory_xact_lock(hashtext('customer_directory.migrate.' || current_schema()))";

    /// Commits go through the one pool.
    fn committer(&self) -> &PgPool {
        &self.pool
    }

    async fn begin(&self) -> Result<sqlx::Transaction<'static, Postgres>, sqlx::Error> {
        self.committer().begin().await
    }

    /// Serialization failures (40001) and deadlocks (40P01): retrying succeeds.
    fn aborted(error: &sqlx::Error) -> Option<String> {
        let database = error.as_database_error()?;
        matches!(database.code()?.as_ref(), "40001" | "40P01")
            .then(|| database.message().to_owned())
    }
}

sql_store!(PostgresStore, Postgres);

/// The tables whose rows hold personal values (records, email keys, suggestion keys, search
/// columns, custom field values, blocklist entries, accounts and their tokens); the others
/// hold ids, dates, amounts and audit events.
const PERSONAL_TABLES: &[&str] = &[
    "cd_customers",
    "cd_customer_email_keys",
    "cd_customer_fields",
    "cd_bookings",
    "cd_booking_match_keys",
    "cd_merges",
    "cd_blocklist",
    "cd_accounts",
    "cd_account_tokens",
];

/// How [`PostgresStore::vacuum_after_erasure`] vacuums.
///
/// # Examples
///
/// ```
/// use customer_directory::adapters::Vacuum;
/// assert_ne!(Vacuum::Plain, Vacuum::Full);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Vacuum {
    /// `VACUUM (ANALYZE, INDEX_CLEANUP ON)`: dead row versions and their index entries
    /// removed, the space made reusable (not overwritten); reads and writes go on.
    Plain,
    /// `VACUUM (FULL, ANALYZE)`: each table and its indexes rewritten into new files and the
    /// old files deleted; each table is locked against reads and writes while it is
    /// rewritten.
    Full,
}

/// Why a PostgreSQL maintenance call ([`PostgresStore::vacuum_after_erasure`],
/// [`PostgresStore::checkpoint`]) did not run.
///
/// # Examples
///
/// ```
/// use customer_directory::adapters::MaintenanceError;
/// let error = MaintenanceError::NotPermitted { action: "CHECKPOINT", reason: "not a superuser".into() };
/// assert_eq!(error.to_string(), "the PostgreSQL role may not run CHECKPOINT: not a superuser");
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MaintenanceError {
    /// The role lacks the privilege; nothing was done. Grant it (table ownership for
    /// `VACUUM`, `pg_checkpoint` for `CHECKPOINT`) or leave the work to autovacuum and the
    /// server's own checkpoints.
    #[error("the PostgreSQL role may not run {action}: {reason}")]
    NotPermitted {
        /// The command refused.
        action: &'static str,
        /// The server's explanation.
        reason: String,
    },
    /// The server failed, or the schema is not migrated.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A refused privilege (SQLSTATE 42501) is [`MaintenanceError::NotPermitted`]; anything
/// else a backend failure.
fn maintenance_error(action: &'static str, error: sqlx::Error) -> MaintenanceError {
    match error.as_database_error() {
        Some(database) if database.code().as_deref() == Some("42501") => {
            MaintenanceError::NotPermitted {
                action,
                reason: database.message().to_owned(),
            }
        }
        _ => MaintenanceError::Store(StoreError::backend(
            format!("running {action} after an erasure"),
            error,
        )),
    }
}
