//! What the tests leave behind is removed by a later run: PostgreSQL schemas and files in
//! the system temp directory named with a time-ordered id older than two hours.
#![cfg(feature = "testing")]

mod support;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use customer_directory::CustomerId;

/// A fresh id's text with its millisecond timestamp (the first 12 hex digits) set to a day
/// ago.
fn day_old_id() -> String {
    let fresh = CustomerId::new().as_uuid().simple().to_string();
    let day_ago_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis()
        - 24 * 60 * 60 * 1000;
    format!("{day_ago_ms:012x}{}", &fresh[12..])
}

/// `simple` (32 hex digits) in the hyphenated 8-4-4-4-12 form.
fn hyphenated(simple: &str) -> String {
    uuid::Uuid::try_parse(simple)
        .unwrap()
        .hyphenated()
        .to_string()
}

#[test]
fn the_files_tests_name_carry_their_creation_time_and_nothing_else_does() {
    let path = support::temp_test_path("leftovers", ".db");
    let name = path.file_name().unwrap().to_str().unwrap().to_owned();
    for file in [name.clone(), format!("{name}-wal"), format!("{name}-shm")] {
        let created = support::test_file_created(&file).expect("a test file");
        let age = SystemTime::now().duration_since(created).unwrap();
        assert!(age < Duration::from_secs(60), "{file}: {age:?}");
    }
    let directory = support::temp_test_path("leftovers", "");
    let directory = directory.file_name().unwrap().to_str().unwrap();
    assert!(
        support::test_file_created(directory).is_some(),
        "{directory}"
    );

    let id = CustomerId::new().to_string();
    for other in [
        format!("other-{id}.db"),
        format!("customer-directory-{}.db", &id[1..]),
        format!("customer-directory-x-{id}.sqlite"),
        "customer-directory-example.db".to_owned(),
        // A version 4 id: not one the tests make.
        format!("customer-directory-x-{}4{}.db", &id[..14], &id[15..]),
    ] {
        assert_eq!(support::test_file_created(&other), None, "{other}");
    }
}

/// The sweep (run by the first path a test process asks for) removes the day-old test files
/// and directories, and leaves recent ones and other files alone.
#[test]
fn day_old_test_files_are_removed_and_recent_ones_kept() {
    let temp = std::env::temp_dir();
    let stale_file = temp.join(format!(
        "customer-directory-sweep-{}.db",
        hyphenated(&day_old_id())
    ));
    let stale_wal = temp.join(format!("{}-wal", stale_file.display()));
    let stale_directory = temp.join(format!(
        "customer-directory-sweep-{}",
        hyphenated(&day_old_id())
    ));
    let recent = temp.join(format!("customer-directory-sweep-{}.db", CustomerId::new()));
    let unrelated = temp.join(format!("other-sweep-{}.db", hyphenated(&day_old_id())));
    for file in [&stale_file, &stale_wal, &recent, &unrelated] {
        std::fs::write(file, b"x").unwrap();
    }
    std::fs::create_dir(&stale_directory).unwrap();
    std::fs::write(stale_directory.join("run-0.db"), b"x").unwrap();

    support::remove_stale_test_files();

    for gone in [&stale_file, &stale_wal, &stale_directory] {
        assert!(
            !gone.exists(),
            "{} should have been removed",
            gone.display()
        );
    }
    for kept in [&recent, &unrelated] {
        assert!(kept.exists(), "{} should be kept", kept.display());
        std::fs::remove_file(kept).unwrap();
    }
}

/// Test schemas are named `{prefix}_{uuid}` with a time-ordered id; nothing else is taken for
/// one (no server needed).
#[cfg(feature = "postgres")]
#[test]
fn only_the_names_tests_give_their_schemas_carry_a_creation_time() {
    let id = CustomerId::new().as_uuid().simple().to_string();
    let created = support::test_schema_created(&format!("cd_test_{id}")).expect("a test schema");
    let age = SystemTime::now().duration_since(created).unwrap();
    assert!(age < Duration::from_secs(60), "{age:?}");
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
#[cfg(feature = "postgres")]
#[tokio::test]
async fn stale_test_schemas_are_dropped_and_recent_ones_kept() {
    use customer_directory::adapters::sqlx;
    let Some(url) = support::postgres_url("stale schema sweep") else {
        return;
    };
    let stale = format!("cd_sweep_{}", day_old_id());
    let recent = format!("cd_sweep_{}", CustomerId::new().as_uuid().simple());
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
