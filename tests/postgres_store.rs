//! The conformance suite on PostgreSQL, each test in a schema of its own.
//!
//! Needs a server: set `CUSTOMER_DIRECTORY_POSTGRES_URL` (or `DATABASE_URL`) to a URL such
//! as `postgres://user:password@localhost/database`. Without one every test prints a SKIPPED
//! line and passes, unless `CUSTOMER_DIRECTORY_REQUIRE_POSTGRES=1` (as in CI) makes that a
//! failure.
#![cfg(all(feature = "postgres", feature = "testing"))]

use customer_directory::conformance_tests;

use customer_directory::store::PostgresStore;

/// The server's URL, or `None` after saying loudly why the test does nothing.
pub fn postgres_url() -> Option<String> {
    let url = std::env::var("CUSTOMER_DIRECTORY_POSTGRES_URL")
        .or_else(|_| std::env::var("DATABASE_URL"))
        .ok()
        .filter(|url| !url.is_empty());
    if url.is_none() {
        assert!(
            std::env::var("CUSTOMER_DIRECTORY_REQUIRE_POSTGRES").as_deref() != Ok("1"),
            "CUSTOMER_DIRECTORY_REQUIRE_POSTGRES=1 but neither CUSTOMER_DIRECTORY_POSTGRES_URL nor DATABASE_URL is set"
        );
        eprintln!(
            "SKIPPED: PostgreSQL conformance test; set CUSTOMER_DIRECTORY_POSTGRES_URL (or DATABASE_URL) to run it"
        );
    }
    url
}

/// A migrated store in a fresh schema, or `None` without a server.
pub async fn postgres_store() -> Option<PostgresStore> {
    let url = postgres_url()?;
    let schema = format!("cd_test_{}", uuid_simple());
    let store = PostgresStore::connect_with_schema(&url, &schema)
        .await
        .expect("connect to PostgreSQL");
    store.migrate().await.expect("migrate");
    Some(store)
}

fn uuid_simple() -> String {
    customer_directory::CustomerId::new()
        .as_uuid()
        .simple()
        .to_string()
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
