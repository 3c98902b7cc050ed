//! Checks shared by the state-machine and soak tests.
#![allow(dead_code)] // each test binary uses what it needs

use std::collections::HashMap;

use customer_directory::ports::store::{BulkReadStore, CustomerStats, SearchStore};
use customer_directory::ports::{SortBy, SortDirection, StatusKind};
use customer_directory::{
    BookingId, Clock, Currency, Customer, CustomerId, CustomerQuery, CustomerStatus, Directory,
};

/// Every customer, page by page.
pub async fn all_customers<S: BulkReadStore>(store: &S) -> Vec<Customer> {
    let mut all = Vec::new();
    let mut after = None;
    loop {
        let page = store.customers_after(after, 100).await.unwrap();
        let Some(last) = page.last() else { break };
        after = Some(last.id);
        all.extend(page);
    }
    all
}

/// The directory's invariants, whatever happened before: each live email key on exactly one
/// customer (and the index agrees); every booking in `bookings` present, attributed at most
/// once and only to a live, unmerged customer that lists it; no customer listing a booking
/// nobody recorded; merged ids resolving through their merge to an unmerged customer (or to
/// the deletion of a survivor deleted since).
pub async fn check_invariants<S: BulkReadStore + SearchStore, C: Clock>(
    dir: &Directory<S, C>,
    bookings: &[BookingId],
) -> Result<(), String> {
    let store = dir.store();
    let customers = all_customers(store).await;
    let by_id: HashMap<CustomerId, &Customer> = customers.iter().map(|c| (c.id, c)).collect();

    let mut keys = HashMap::new();
    for customer in &customers {
        for key in customer.indexed_keys() {
            if let Some(other) = keys.insert(key.clone(), customer.id) {
                return Err(format!("key {key} held by {other} and {}", customer.id));
            }
            let holder = store
                .lookup_email(key)
                .await
                .unwrap()
                .customer
                .map(|c| c.id);
            if holder != Some(customer.id) {
                return Err(format!("index disagrees for {key}: {holder:?}"));
            }
        }
    }

    let mut listed: HashMap<BookingId, usize> = HashMap::new();
    for customer in &customers {
        for booking in store.customer_bookings(customer.id).await.unwrap() {
            if booking.attribution.customer() != Some(customer.id) {
                return Err(format!(
                    "{} lists booking {} of another",
                    customer.id, booking.id
                ));
            }
            *listed.entry(booking.id).or_default() += 1;
        }
    }
    for id in bookings {
        let Some(booking) = store.booking(*id).await.unwrap() else {
            return Err(format!("booking {id} lost"));
        };
        match booking.attribution.customer() {
            Some(owner) => {
                let Some(owner) = by_id.get(&owner) else {
                    return Err(format!("booking {id} points at a missing customer"));
                };
                if matches!(owner.status, CustomerStatus::MergedInto(_)) {
                    return Err(format!("booking {id} left on a merged customer"));
                }
                if listed.get(id).copied() != Some(1) {
                    return Err(format!("booking {id} listed {:?} times", listed.get(id)));
                }
            }
            None if listed.contains_key(id) => {
                return Err(format!("unattributed booking {id} is listed"));
            }
            None => {}
        }
    }
    if let Some(stray) = listed.keys().find(|id| !bookings.contains(id)) {
        return Err(format!(
            "a customer lists booking {stray}, which nobody recorded"
        ));
    }

    check_kept_statistics(store, &by_id).await?;

    for customer in &customers {
        if let CustomerStatus::MergedInto(survivor) = customer.status {
            let resolution = dir
                .resolve(customer.id)
                .await
                .map_err(|error| format!("{} does not resolve: {error}", customer.id))?;
            if resolution.merges.first().map(|step| step.survivor) != Some(survivor) {
                return Err(format!(
                    "{} resolves through {:?}, not its survivor {survivor}",
                    customer.id, resolution.merges
                ));
            }
            if resolution
                .customer()
                .is_some_and(|end| matches!(end.status, CustomerStatus::MergedInto(_)))
            {
                return Err(format!("{} resolves to a merged customer", customer.id));
            }
        }
    }
    Ok(())
}

/// The booking statistics a store keeps for searching (count, last booking, total in EUR,
/// the currency these tests book in) are those of each customer's bookings, for customers
/// of every status.
async fn check_kept_statistics<S: SearchStore>(
    store: &S,
    customers: &HashMap<CustomerId, &Customer>,
) -> Result<(), String> {
    let eur = Currency::parse("EUR").unwrap();
    for sort in [
        SortBy::BookingCount,
        SortBy::LastBooking,
        SortBy::TotalValue(eur),
    ] {
        let query = CustomerQuery::new()
            .statuses([
                StatusKind::Active,
                StatusKind::Archived,
                StatusKind::Blocked,
                StatusKind::Redacted,
                StatusKind::Merged,
            ])
            .sorted_by(sort, SortDirection::Ascending);
        let mut after = None;
        let mut seen = 0;
        loop {
            let hits = store
                .search_customers(&query, after.as_ref(), 100)
                .await
                .unwrap();
            let Some(last) = hits.last() else { break };
            after = Some(last.position.clone());
            for hit in &hits {
                let bookings = store.customer_bookings(hit.customer.id).await.unwrap();
                let expected = query.sort_value(&hit.customer, &CustomerStats::of(&bookings));
                if hit.position.value != expected {
                    return Err(format!(
                        "{} is kept at {:?} by {sort:?}; its bookings say {expected:?}",
                        hit.customer.id, hit.position.value
                    ));
                }
            }
            seen += hits.len();
        }
        if seen != customers.len() {
            return Err(format!(
                "a search by {sort:?} over every status lists {seen} of {} customers",
                customers.len()
            ));
        }
    }
    Ok(())
}

/// The PostgreSQL server the tests use (`CUSTOMER_DIRECTORY_POSTGRES_URL`, else
/// `DATABASE_URL`), or `None` after a loud SKIPPED line naming `what`. With
/// `CUSTOMER_DIRECTORY_REQUIRE_POSTGRES=1` (as in CI) a missing URL is a failure instead.
pub fn postgres_url(what: &str) -> Option<String> {
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
            "SKIPPED: PostgreSQL {what}; set CUSTOMER_DIRECTORY_POSTGRES_URL (or DATABASE_URL) to run it"
        );
    }
    url
}

/// A host's own pool on `url` built from `options`, every connection of which works in
/// `schema` (its `search_path` set when it connects), as `connect_with_schema` does.
#[cfg(feature = "postgres")]
pub async fn pool_in_schema(
    url: &str,
    schema: &str,
    options: customer_directory::adapters::sqlx::postgres::PgPoolOptions,
) -> customer_directory::adapters::sqlx::PgPool {
    let search_path = format!("SET search_path TO {schema}");
    options
        .after_connect(move |connection, _| {
            let search_path = search_path.clone();
            Box::pin(async move {
                customer_directory::adapters::sqlx::Executor::execute(
                    connection,
                    search_path.as_str(),
                )
                .await?;
                Ok(())
            })
        })
        .connect(url)
        .await
        .expect("connect to PostgreSQL")
}

/// A migrated store on `url` in a new schema named `{prefix}_{uuid}`.
///
/// The first call in a test process also drops the schemas earlier runs left behind
/// ([`drop_stale_test_schemas`]), so a developer's test database does not grow run after run.
#[cfg(feature = "postgres")]
pub async fn fresh_postgres_store(url: &str, prefix: &str) -> customer_directory::PostgresStore {
    static SWEPT: tokio::sync::OnceCell<()> = tokio::sync::OnceCell::const_new();
    SWEPT.get_or_init(|| drop_stale_test_schemas(url)).await;
    let schema = format!("{prefix}_{}", CustomerId::new().as_uuid().simple());
    let store = customer_directory::PostgresStore::connect_with_schema(url, &schema)
        .await
        .expect("connect to PostgreSQL");
    store.migrate().await.expect("migrate");
    store
}

/// How old a test's schema or file must be before a later run removes it: longer than any
/// test run, so what a concurrent run is still using is never touched.
const STALE_TEST_LEFTOVER_AGE: std::time::Duration = std::time::Duration::from_secs(2 * 60 * 60);

/// When the time-ordered (version 7) id `id` was made; `None` for any other text.
fn time_ordered_id_created(id: &str) -> Option<std::time::SystemTime> {
    let id = uuid::Uuid::try_parse(id).ok()?;
    if id.get_version_num() != 7 {
        return None;
    }
    let (seconds, nanos) = id.get_timestamp()?.to_unix();
    std::time::UNIX_EPOCH.checked_add(std::time::Duration::new(seconds, nanos))
}

/// Whether something made at `created` is older than [`STALE_TEST_LEFTOVER_AGE`].
fn is_stale(created: std::time::SystemTime) -> bool {
    std::time::SystemTime::now()
        .duration_since(created)
        .is_ok_and(|age| age > STALE_TEST_LEFTOVER_AGE)
}

/// The creation time of a test schema named `{prefix}_{uuid}` (lowercase letters, digits and
/// `_`, the id in its 32-digit lowercase form), read from its time-ordered id; `None` for a
/// schema the tests did not name.
#[cfg(feature = "postgres")]
pub fn test_schema_created(schema: &str) -> Option<std::time::SystemTime> {
    let (prefix, id) = schema.rsplit_once('_')?;
    let well_named = !prefix.is_empty()
        && prefix
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        && id.len() == 32
        && id
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    if !well_named {
        return None;
    }
    time_ordered_id_created(id)
}

/// The prefix of every file or directory [`temp_test_path`] names.
const TEST_FILE_PREFIX: &str = "customer-directory-";

/// A new path under the system temp directory for a test's SQLite file (`extension` `.db`)
/// or directory (`extension` empty), `customer-directory-{what}-{uuid}{extension}`. The
/// first call in a test process also removes what earlier runs left there more than
/// [`STALE_TEST_LEFTOVER_AGE`] ago: a test that fails, or one whose store is never dropped
/// by a guard that removes its file, leaves its files behind.
pub fn temp_test_path(what: &str, extension: &str) -> std::path::PathBuf {
    static SWEPT: std::sync::Once = std::sync::Once::new();
    SWEPT.call_once(remove_stale_test_files);
    std::env::temp_dir().join(format!(
        "{TEST_FILE_PREFIX}{what}-{}{extension}",
        CustomerId::new()
    ))
}

/// The creation time of a file or directory [`temp_test_path`] named (a SQLite database's
/// `-wal` and `-shm` files included); `None` for any other name.
pub fn test_file_created(name: &str) -> Option<std::time::SystemTime> {
    let rest = name.strip_prefix(TEST_FILE_PREFIX)?;
    let stem = [".db-wal", ".db-shm", ".db"]
        .iter()
        .find_map(|extension| rest.strip_suffix(extension))
        .unwrap_or(rest);
    // The id in its hyphenated form, 36 characters, ends the stem.
    let id = stem.get(stem.len().checked_sub(36)?..)?;
    time_ordered_id_created(id)
}

/// Removes the test files and directories under the system temp directory that are older
/// than [`STALE_TEST_LEFTOVER_AGE`] (best effort: a file another process removes first is
/// skipped).
pub fn remove_stale_test_files() {
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(created) = name.to_str().and_then(test_file_created) else {
            continue;
        };
        if !is_stale(created) {
            continue;
        }
        let path = entry.path();
        if entry.file_type().is_ok_and(|kind| kind.is_dir()) {
            let _ = std::fs::remove_dir_all(path);
        } else {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// Drops every schema on `url` that a test created (named `{prefix}_{uuid}` with a version 7
/// id) more than [`STALE_TEST_LEFTOVER_AGE`] ago. A test's schema outlives the test, so a
/// failure can be inspected; this keeps the leftovers from piling up in the database (they
/// once slowed the server's crash recovery past its start-up timeout).
#[cfg(feature = "postgres")]
pub async fn drop_stale_test_schemas(url: &str) {
    use customer_directory::adapters::sqlx::{self, Connection};
    let mut connection = sqlx::PgConnection::connect(url)
        .await
        .expect("connect to PostgreSQL to drop stale test schemas");
    let schemas: Vec<String> = sqlx::query_scalar("SELECT nspname::text FROM pg_namespace")
        .fetch_all(&mut connection)
        .await
        .expect("list the schemas");
    for schema in schemas {
        if test_schema_created(&schema).is_some_and(is_stale) {
            // The name passed `test_schema_created`: lowercase letters, digits and `_` only.
            sqlx::query(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
                .execute(&mut connection)
                .await
                .expect("drop a stale test schema");
        }
    }
}

/// Waits until the server has no session named `application` (a killed client's), for up to
/// 30 seconds.
#[cfg(feature = "postgres")]
pub async fn wait_for_sessions_to_end(
    store: &customer_directory::PostgresStore,
    application: &str,
) {
    for _ in 0..300 {
        let open: i64 = customer_directory::adapters::sqlx::query_scalar(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1",
        )
        .bind(application)
        .fetch_one(store.pool())
        .await
        .expect("read the server's sessions");
        if open == 0 {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("the killed client's sessions ({application}) are still open after 30 s");
}

/// Runs this test binary's test `child` (which acts only when `envs` are set), kills it with
/// SIGKILL after `after`, and returns the lines it printed before it died.
#[cfg(unix)]
pub fn run_child_and_kill(
    child: &str,
    envs: &[(&str, &str)],
    after: std::time::Duration,
) -> Vec<String> {
    use std::io::BufRead;
    let mut command = std::process::Command::new(std::env::current_exe().expect("test binary"));
    command
        .args(["--exact", child, "--nocapture", "--test-threads=1"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null());
    for (name, value) in envs {
        command.env(name, value);
    }
    let mut process = command.spawn().expect("spawn the child");
    let stdout = process.stdout.take().expect("stdout");
    let reader = std::thread::spawn(move || {
        std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
            .collect::<Vec<_>>()
    });
    std::thread::sleep(after);
    process.kill().expect("SIGKILL"); // `kill` sends SIGKILL on Unix
    process.wait().expect("reap");
    reader.join().expect("reader")
}
