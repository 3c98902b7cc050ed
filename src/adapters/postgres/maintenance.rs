//! Clearing what a redaction leaves behind in PostgreSQL's files: vacuum and checkpoint.

use crate::adapters::postgres::PostgresStore;
use crate::ports::store::StoreError;

impl PostgresStore {
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
        .fetch_all(self.pool())
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
            .execute(self.pool())
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
            .execute(self.pool())
            .await
            .map_err(|error| maintenance_error("CHECKPOINT", error))?;
        Ok(())
    }
}

/// The tables whose rows hold personal values (records, email keys, suggestion keys, search
/// columns, custom field values, blocklist entries, accounts and their tokens); the others
/// hold ids, dates, amounts and audit events.
const PERSONAL_TABLES: &[&str] = &[
    "cd_customers",
    "cd_customer_email_keys",
    "cd_customer_fields",
    "cd_bookings",
    "cd_match_keys",
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
