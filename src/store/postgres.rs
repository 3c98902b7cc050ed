//! [`PostgresStore`]: the port on PostgreSQL (feature `postgres`), for hosts that share one
//! directory between many processes.

use sqlx::Postgres;
use sqlx::postgres::PgPool;

use super::StoreError;
use super::sql::{DependentRows, Migration, sql_store};

/// A [`Store`](super::Store) in a PostgreSQL database (or one that speaks its protocol).
///
/// Commits run at READ COMMITTED; every check is a row-level compare-and-set or a locked
/// read (`FOR UPDATE`), and writes happen in one order, so concurrent commits either apply
/// in full or fail with a [`Conflict`](super::Conflict) that the directory retries. Recording
/// a booking commits as a single statement (no `BEGIN`, no `COMMIT`): with its email lookup,
/// two statements, plus the pool's check of each connection it takes back. Call
/// [`migrate`](Self::migrate) once before use.
///
/// # Examples
///
/// ```no_run
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// use customer_directory::store::PostgresStore;
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
        let pool = super::sql::pool_options::<Postgres>()
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
        let pool = super::sql::pool_options::<Postgres>()
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

    /// Uses an existing pool (a [`sqlx`](crate::store::sqlx) 0.8 pool, re-exported as
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

    const MIGRATIONS: &'static [Migration] = super::schema::POSTGRES;
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
