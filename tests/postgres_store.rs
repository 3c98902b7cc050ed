//! The conformance suite on PostgreSQL, each test in a schema of its own.
//!
//! Needs a server: set `CUSTOMER_DIRECTORY_POSTGRES_URL` (or `DATABASE_URL`) to a URL such
//! as `postgres://user:password@localhost/database`. Without one every test prints a SKIPPED
//! line and passes, unless `CUSTOMER_DIRECTORY_REQUIRE_POSTGRES=1` (as in CI) makes that a
//! failure.
#![cfg(all(feature = "postgres", feature = "testing"))]

use customer_directory::conformance_tests;

use customer_directory::PostgresStore;

mod support;

/// A migrated store in a fresh schema, or `None` without a server.
pub async fn postgres_store() -> Option<PostgresStore> {
    let url = support::postgres_url("conformance test")?;
    Some(support::fresh_postgres_store(&url, "cd_test").await)
}

conformance_tests!(optional postgres_store());

/// The schema name is the one piece of SQL text not passed as a bound parameter, so it is
/// checked before anything reaches the server (no server needed for this test).
#[tokio::test]
async fn schema_names_that_are_not_plain_identifiers_are_refused() {
    for schema in [
        "x; DROP TABLE cd_customers",
        "Upper",
        "1starts_with_digit",
        "",
        "a-b",
        "sp ace",
    ] {
        let result =
            PostgresStore::connect_with_schema("postgres://nobody@127.0.0.1:1/none", schema).await;
        let error = result.expect_err(schema);
        assert!(
            error.to_string().contains("choosing the PostgreSQL schema"),
            "{schema}: {error}"
        );
    }
}

/// Test schemas are named `{prefix}_{uuid}` with a time-ordered id; nothing else is taken for
/// one (no server needed).
#[test]
fn only_the_names_tests_give_their_schemas_carry_a_creation_time() {
    let id = customer_directory::CustomerId::new()
        .as_uuid()
        .simple()
        .to_string();
    let created = support::test_schema_created(&format!("cd_test_{id}")).expect("a test schema");
    let age = std::time::SystemTime::now()
        .duration_since(created)
        .unwrap();
    assert!(age < std::time::Duration::from_secs(60), "{age:?}");
    for other in [
        "public".to_owned(),
        "customer_directory_example".to_owned(),
        format!("_{id}"),
        format!("Cd_{id}"),
        format!("cd_{}", id.to_uppercase()),
        format!("cd_{}", &id[..31]),
        format!("cd_{}4{}", &id[..12], &id[13..]),
    ] {
        assert_eq!(support::test_schema_created(&other), None, "{other}");
    }
}

/// The sweep drops a test schema older than a run can last and leaves a new one, and a schema
/// the tests did not name, alone.
#[tokio::test]
async fn stale_test_schemas_are_dropped_and_recent_ones_kept() {
    use customer_directory::adapters::sqlx;
    let Some(url) = support::postgres_url("stale schema sweep") else {
        return;
    };
    let recent = customer_directory::CustomerId::new()
        .as_uuid()
        .simple()
        .to_string();
    // The same id with its millisecond timestamp (the first 12 hex digits) set to a day ago.
    let day_ago_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis()
        - 24 * 60 * 60 * 1000;
    let stale = format!("cd_sweep_{day_ago_ms:012x}{}", &recent[12..]);
    let recent = format!("cd_sweep_{recent}");
    let untouched = format!("cd_sweep_kept_{}", &recent[9..20]);
    let pool = sqlx::PgPool::connect(&url).await.unwrap();
    for schema in [&stale, &recent, &untouched] {
        sqlx::query(&format!("CREATE SCHEMA {schema}"))
            .execute(&pool)
            .await
            .unwrap();
        sqlx::query(&format!("CREATE TABLE {schema}.t (x int)"))
            .execute(&pool)
            .await
            .unwrap();
    }

    support::drop_stale_test_schemas(&url).await;

    let exists = async |schema: &str| -> bool {
        sqlx::query_scalar::<_, bool>(
            "SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)",
        )
        .bind(schema)
        .fetch_one(&pool)
        .await
        .unwrap()
    };
    assert!(!exists(&stale).await, "{stale} should have been dropped");
    assert!(exists(&recent).await, "{recent} is recent");
    assert!(
        exists(&untouched).await,
        "{untouched} is not a test schema name"
    );
    for schema in [&recent, &untouched] {
        sqlx::query(&format!("DROP SCHEMA {schema} CASCADE"))
            .execute(&pool)
            .await
            .unwrap();
    }
}
