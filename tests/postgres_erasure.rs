//! What a redaction leaves on PostgreSQL, and what `PostgresStore::vacuum_after_erasure`
//! and `PostgresStore::checkpoint` take away: the values are gone from every table at once
//! (as SQL sees them), the dead row versions holding them stay until the vacuum, which
//! removes them from exactly the tables that hold personal values.
//!
//! Needs a server: set `CUSTOMER_DIRECTORY_POSTGRES_URL` (or `DATABASE_URL`); without one
//! each test prints a SKIPPED line and passes, unless `CUSTOMER_DIRECTORY_REQUIRE_POSTGRES=1`.
#![cfg(feature = "postgres")]

mod erasure_support;
mod support;

use std::collections::BTreeSet;
use std::time::Duration;

use customer_directory::PostgresStore;
use customer_directory::adapters::sqlx::postgres::PgPoolOptions;
use customer_directory::adapters::sqlx::{self, PgPool};
use customer_directory::adapters::{MaintenanceError, Vacuum};
use customer_directory::{Actor, CustomerId, Directory};
use erasure_support::{Finder, KEPT, VALUES, populate, settings};

/// The tables that hold no personal value: ids, dates, amounts, list names, audit events.
const NOT_PERSONAL: &[&str] = &[
    "cd_audit_event_customers",
    "cd_audit_events",
    "cd_customer_lists",
    "cd_customer_stats",
    "cd_customer_totals",
    "cd_lists",
    "cd_merge_participants",
    "cd_migrations",
];

/// A migrated store in a fresh schema on one connection (so the statistics of its commits
/// can be flushed on request), with autovacuum off for its tables (so only the test
/// vacuums them), or `None` without a server.
async fn one_connection_store(what: &str) -> Option<PostgresStore> {
    let url = support::postgres_url(what)?;
    let schema = format!("cd_erasure_{}", CustomerId::new().as_uuid().simple());
    let setup = PostgresStore::connect_with_schema(&url, &schema)
        .await
        .unwrap();
    setup.migrate().await.unwrap();
    setup.pool().close().await;
    let pool =
        support::pool_in_schema(&url, &schema, PgPoolOptions::new().max_connections(1)).await;
    for table in tables(&pool).await {
        sqlx::raw_sql(&format!(
            "ALTER TABLE {table} SET (autovacuum_enabled = false)"
        ))
        .execute(&pool)
        .await
        .unwrap();
    }
    Some(PostgresStore::from_pool(pool))
}

/// The schema's tables.
async fn tables(pool: &PgPool) -> Vec<String> {
    sqlx::query_scalar(
        "SELECT table_name::text FROM information_schema.tables
         WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY 1",
    )
    .fetch_all(pool)
    .await
    .unwrap()
}

/// The values any row of any table holds, as SQL sees the rows (live versions only).
async fn values_in_tables(pool: &PgPool, finder: &Finder) -> BTreeSet<&'static str> {
    let mut found = BTreeSet::new();
    for table in tables(pool).await {
        let rows: Vec<String> = sqlx::query_scalar(&format!("SELECT t::text FROM {table} t"))
            .fetch_all(pool)
            .await
            .unwrap();
        for row in rows {
            found.extend(finder.values_in(row.as_bytes()));
        }
    }
    found
}

/// Whether the server can flush a backend's statistics on request (PostgreSQL 15 and
/// later); before that they arrive late, and the dead row counts cannot be relied on.
async fn flushes_statistics(pool: &PgPool) -> bool {
    let version: i32 = sqlx::query_scalar("SELECT current_setting('server_version_num')::int")
        .fetch_one(pool)
        .await
        .unwrap();
    version >= 150_000
}

/// Dead row versions per table, after flushing this connection's statistics.
async fn dead_rows(pool: &PgPool) -> Vec<(String, i64)> {
    sqlx::query("SELECT pg_stat_force_next_flush()")
        .execute(pool)
        .await
        .unwrap();
    sqlx::query_as(
        "SELECT relname::text, n_dead_tup FROM pg_stat_user_tables
         WHERE schemaname = current_schema() ORDER BY 1",
    )
    .fetch_all(pool)
    .await
    .unwrap()
}

#[tokio::test]
async fn vacuum_after_erasure_removes_the_dead_rows_a_redaction_leaves() {
    let Some(store) = one_connection_store("erasure test").await else {
        return;
    };
    let pool = store.pool().clone();
    let directory = Directory::new(store.clone(), settings());
    let customer = populate(&directory, 40).await;
    let finder = Finder::new();
    let before = values_in_tables(&pool, &finder).await;
    for value in VALUES.iter().chain([&KEPT]) {
        assert!(
            before.contains(value),
            "{value} is stored before the erasure"
        );
    }

    let staff = Actor::staff("desk");
    directory.archive(customer, &staff).await.unwrap();
    directory.redact(customer, &[], &staff).await.unwrap();
    let after = values_in_tables(&pool, &finder).await;
    assert_eq!(after, BTreeSet::from([KEPT]), "SQL sees no erased value");

    let counted = flushes_statistics(&pool).await;
    if counted {
        let dead = dead_rows(&pool).await;
        let customers = dead.iter().find(|(table, _)| table == "cd_customers");
        assert!(
            customers.is_some_and(|(_, dead)| *dead > 0),
            "the redaction left the old versions behind: {dead:?}"
        );
    } else {
        eprintln!("NOTE: PostgreSQL before 15: dead row counts not checked");
    }

    store.vacuum_after_erasure(Vacuum::Plain).await.unwrap();
    let vacuumed: Vec<(String, bool)> = sqlx::query_as(
        "SELECT relname::text, last_vacuum IS NOT NULL FROM pg_stat_user_tables
         WHERE schemaname = current_schema() ORDER BY 1",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(vacuumed.len(), tables(&pool).await.len());
    for (table, done) in &vacuumed {
        let personal = !NOT_PERSONAL.contains(&table.as_str());
        assert_eq!(
            *done, personal,
            "{table}: vacuumed exactly when it holds personal values"
        );
    }
    if counted {
        // A transaction anywhere in the database that began before the redaction keeps the
        // old versions alive for it; such a transaction ends, so wait a little for it.
        let mut left = Vec::new();
        for _ in 0..40 {
            left = dead_rows(&pool).await;
            left.retain(|(table, dead)| *dead > 0 && !NOT_PERSONAL.contains(&table.as_str()));
            if left.is_empty() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
            store.vacuum_after_erasure(Vacuum::Plain).await.unwrap();
        }
        assert!(
            left.is_empty(),
            "dead row versions left after the vacuum: {left:?}"
        );
    }

    // VACUUM FULL writes the table anew, into another file.
    let file = "SELECT pg_relation_filenode('cd_customers')::bigint";
    let old: i64 = sqlx::query_scalar(file).fetch_one(&pool).await.unwrap();
    store.vacuum_after_erasure(Vacuum::Full).await.unwrap();
    let new: i64 = sqlx::query_scalar(file).fetch_one(&pool).await.unwrap();
    assert_ne!(old, new, "VACUUM FULL rewrote cd_customers into a new file");
    assert_eq!(
        values_in_tables(&pool, &finder).await,
        BTreeSet::from([KEPT])
    );
    assert!(
        directory.customer(customer).await.is_ok(),
        "the directory still reads"
    );
    pool.close().await;
}

/// `CHECKPOINT` needs a superuser or `pg_checkpoint`: a role without either gets a typed
/// refusal, not a backend failure.
#[tokio::test]
async fn a_checkpoint_the_role_may_not_run_is_refused_as_not_permitted() {
    let Some(url) = support::postgres_url("checkpoint test") else {
        return;
    };
    let store = support::fresh_postgres_store(&url, "cd_erasure").await;
    let may: bool = sqlx::query_scalar(
        "SELECT rolsuper OR CASE WHEN EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'pg_checkpoint')
             THEN pg_has_role('pg_checkpoint', 'MEMBER') ELSE false END
         FROM pg_roles WHERE rolname = current_user",
    )
    .fetch_one(store.pool())
    .await
    .unwrap();
    match store.checkpoint().await {
        Ok(()) => assert!(may, "the role may not checkpoint, yet it did"),
        Err(MaintenanceError::NotPermitted { action, reason }) => {
            assert!(!may, "the role may checkpoint, yet was refused: {reason}");
            assert_eq!(action, "CHECKPOINT");
            assert!(!reason.is_empty());
        }
        Err(other) => panic!("a refusal, not {other}"),
    }
    store.pool().close().await;
}

/// Vacuuming a schema without the directory's tables says so, and runs nothing.
#[tokio::test]
async fn vacuum_after_erasure_in_an_unmigrated_schema_asks_for_migrate() {
    let Some(url) = support::postgres_url("vacuum test") else {
        return;
    };
    let schema = format!("cd_erasure_{}", CustomerId::new().as_uuid().simple());
    let store = PostgresStore::connect_with_schema(&url, &schema)
        .await
        .unwrap();
    let error = store.vacuum_after_erasure(Vacuum::Plain).await.unwrap_err();
    let MaintenanceError::Store(error) = error else {
        panic!("a store error, not {error}");
    };
    let source = std::error::Error::source(&error).map(ToString::to_string);
    assert!(
        source
            .as_deref()
            .is_some_and(|s| s.contains("migrate first")),
        "{error}: {source:?}"
    );
    store.pool().close().await;
}
