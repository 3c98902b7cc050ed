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
