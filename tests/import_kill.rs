//! A booking import killed part way and run again: nothing lost, nothing twice.
//!
//! A child process imports a generated history (a CSV file of bookings: repeat guests,
//! cancellations, rows without email, a few invalid rows) into a database and is killed
//! with SIGKILL at a random moment. The parent then runs the same import again to the end
//! and checks:
//!
//! - every valid row's booking is stored exactly once (by its code), and nothing else is;
//! - the directory is the one an uninterrupted import of the same file builds: the same
//!   bookings with the same statuses and start dates, grouped into the same customers;
//! - the second run reports the rows the child had committed as already present, and
//!   records the rest.
//!
//! The child is this same test binary, run with `--exact child_imports_until_killed` and the
//! database and file in environment variables; without them it does nothing.
//! SQLite: 10 kills of a process importing into a file. PostgreSQL: 3 kills of the client.
#![cfg(all(unix, feature = "sqlite", feature = "testing"))]

mod support;

use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::path::Path;
use std::time::Duration;

use customer_directory::service::{BookingImport, BookingImportReport};
use customer_directory::{Actor, Directory, DirectorySettings, SqliteStore, Store};

const DATABASE: &str = "IMPORT_KILL_DATABASE";
const SCHEMA: &str = "IMPORT_KILL_SCHEMA";
const FILE: &str = "IMPORT_KILL_FILE";

/// Rows in the generated history, and rows per batch.
const ROWS: usize = 12_000;
const BATCH: usize = 400;

/// A small deterministic generator for the history and the kill moments.
struct Xorshift(u64);

impl Xorshift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// Writes the history to `path`; returns the codes of its valid rows.
fn write_history(path: &Path) -> Vec<String> {
    let mut random = Xorshift(0xA076_1D64_78BD_642F);
    let mut file = std::io::BufWriter::new(std::fs::File::create(path).expect("create"));
    writeln!(
        file,
        "code,status,starts_at,total,paid,currency,given_name,family_name,email,phone"
    )
    .unwrap();
    let mut valid = Vec::new();
    for row in 0..ROWS {
        let guest = random.below(3_000);
        let status =
            ["paid", "confirmed", "cancelled", "pending", "completed"][random.below(5) as usize];
        let email = if random.below(20) == 0 {
            String::new()
        } else {
            format!("guest{guest}@example.org")
        };
        // One row in a hundred has a start that is not a date: refused as invalid.
        let invalid = random.below(100) == 0;
        let starts = if invalid {
            "someday".to_owned()
        } else {
            format!(
                "{}-{:02}-{:02}",
                2016 + random.below(9),
                1 + random.below(12),
                1 + random.below(28)
            )
        };
        let given = ["Ana", "Bea", "Cy", "Dee"][(guest % 4) as usize];
        // A guest sometimes books under another first name: a related booking.
        let given = if random.below(10) == 0 { "Eve" } else { given };
        let code = format!("OLD-{row:06}");
        writeln!(
            file,
            "{code},{status},{starts},{}.00,0.00,EUR,{given},Guest{guest},{email},",
            20 + random.below(200)
        )
        .unwrap();
        if !invalid {
            valid.push(code);
        }
    }
    file.flush().unwrap();
    valid
}

fn import_settings() -> BookingImport {
    BookingImport::default().with_batch_size(BATCH)
}

/// Imports `file` into the directory, printing the rows recorded after each batch.
async fn import<S: Store>(
    directory: &Directory<S>,
    file: &Path,
    print: bool,
) -> BookingImportReport {
    let reader = std::fs::File::open(file).expect("open the history");
    directory
        .import_bookings(
            reader,
            &import_settings(),
            |progress| {
                if print {
                    println!("committed {}", progress.counts.recorded);
                }
            },
            &Actor::staff("import"),
        )
        .await
        .expect("import")
}

/// The child: imports the file named by `IMPORT_KILL_FILE` until it is killed. Does nothing
/// unless run as the child.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn child_imports_until_killed() {
    let (Ok(database), Ok(file)) = (std::env::var(DATABASE), std::env::var(FILE)) else {
        return;
    };
    if database.starts_with("postgres") {
        #[cfg(feature = "postgres")]
        {
            let schema = std::env::var(SCHEMA).expect("schema");
            let store = customer_directory::PostgresStore::connect_with_schema(&database, &schema)
                .await
                .expect("connect");
            import(
                &Directory::new(store, DirectorySettings::default()),
                Path::new(&file),
                true,
            )
            .await;
        }
    } else {
        let store = SqliteStore::connect(&database).await.expect("connect");
        import(
            &Directory::new(store, DirectorySettings::default()),
            Path::new(&file),
            true,
        )
        .await;
    }
}

/// Runs the child, kills it after `after`, and returns the rows it last reported recorded.
fn run_and_kill(database: &str, schema: Option<&str>, file: &Path, after: Duration) -> u64 {
    let file = file.display().to_string();
    let mut envs = vec![(DATABASE, database), (FILE, file.as_str())];
    if let Some(schema) = schema {
        envs.push((SCHEMA, schema));
    }
    support::run_child_and_kill("child_imports_until_killed", &envs, after)
        .iter()
        .rev()
        .find_map(|line| {
            let (_, count) = line.split_once("committed ")?;
            count.trim().parse::<u64>().ok()
        })
        .unwrap_or(0)
}

/// One stored booking row: code, status, start (ns) and customer id.
type Row = (String, String, i64, Option<String>);

/// Every booking row of a SQLite store.
async fn sqlite_rows(store: &SqliteStore) -> Vec<Row> {
    store
        .with_connection(|connection| {
            let mut statement = connection
                .prepare(
                    "SELECT code, json_extract(record, '$.status'), starts_at, customer_id \
                     FROM cd_bookings",
                )
                .unwrap();
            statement
                .query_map([], |row| {
                    Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?))
                })
                .unwrap()
                .collect::<Result<Vec<Row>, _>>()
                .unwrap()
        })
        .await
        .unwrap()
}

/// Every booking row of a PostgreSQL store.
#[cfg(feature = "postgres")]
async fn postgres_rows(store: &customer_directory::PostgresStore) -> Vec<Row> {
    customer_directory::adapters::sqlx::query_as(
        "SELECT code, record::json ->> 'status', starts_at, customer_id FROM cd_bookings",
    )
    .fetch_all(store.pool())
    .await
    .unwrap()
}

/// The directory the rows describe, without ids: `code -> (status, start, customer)`, a
/// customer named by the smallest code among its bookings.
fn directory_of(rows: &[Row]) -> BTreeMap<String, (String, i64, Option<String>)> {
    let mut smallest: HashMap<&str, &str> = HashMap::new();
    for (code, _, _, customer) in rows {
        if let Some(customer) = customer {
            let entry = smallest.entry(customer).or_insert(code);
            if code.as_str() < *entry {
                *entry = code;
            }
        }
    }
    rows.iter()
        .map(|(code, status, starts, customer)| {
            let customer = customer
                .as_deref()
                .and_then(|c| smallest.get(c))
                .map(|c| (*c).to_owned());
            (code.clone(), (status.clone(), *starts, customer))
        })
        .collect()
}

/// Every valid code stored exactly once, nothing else stored, and the directory equal to
/// the uninterrupted import's.
fn check(rows: &[Row], valid: &[String], expected: &[Row], run: &str) {
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for (code, ..) in rows {
        *counts.entry(code).or_default() += 1;
    }
    for code in valid {
        assert_eq!(
            counts.remove(code.as_str()),
            Some(1),
            "{run}: booking {code} is not stored exactly once"
        );
    }
    assert!(
        counts.is_empty(),
        "{run}: stored codes not in the file: {counts:?}"
    );
    assert_eq!(
        directory_of(rows),
        directory_of(expected),
        "{run}: the resumed import built another directory"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sqlite_import_killed_part_way_finishes_when_run_again() {
    let directory = crate::support::temp_test_path("import-kill", "");
    std::fs::create_dir_all(&directory).unwrap();
    let file = directory.join("history.csv");
    let valid = write_history(&file);

    // The directory an uninterrupted import builds.
    let reference = SqliteStore::connect(&format!(
        "sqlite://{}",
        directory.join("reference.db").display()
    ))
    .await
    .unwrap();
    reference.migrate().await.unwrap();
    let report = import(
        &Directory::new(reference.clone(), DirectorySettings::default()),
        &file,
        false,
    )
    .await;
    assert_eq!(report.counts.recorded as usize, valid.len());
    let expected = sqlite_rows(&reference).await;
    check(&expected, &valid, &expected, "uninterrupted");
    reference.close().await;

    let mut random = Xorshift(0x9E37_79B9_7F4A_7C15);
    let mut killed_part_way = 0;
    for run in 0..10 {
        let url = format!(
            "sqlite://{}",
            directory.join(format!("run-{run}.db")).display()
        );
        let store = SqliteStore::connect(&url).await.unwrap();
        store.migrate().await.unwrap();
        store.close().await;
        let after = Duration::from_millis(200 + random.below(1_500));
        let acknowledged = run_and_kill(&url, None, &file, after);

        let store = SqliteStore::connect(&url).await.unwrap();
        let before = sqlite_rows(&store).await;
        assert!(
            before.len() as u64 >= acknowledged,
            "run {run}: the child saw {acknowledged} bookings recorded, {} are stored",
            before.len()
        );
        let report = import(
            &Directory::new(store.clone(), DirectorySettings::default()),
            &file,
            false,
        )
        .await;
        assert_eq!(
            report.counts.already_present as usize,
            before.len(),
            "run {run}: the second run skips exactly what the first stored"
        );
        assert_eq!(
            (report.counts.recorded + report.counts.already_present) as usize,
            valid.len()
        );
        if !before.is_empty() && before.len() < valid.len() {
            killed_part_way += 1;
        }
        check(
            &sqlite_rows(&store).await,
            &valid,
            &expected,
            &format!("run {run} ({after:?})"),
        );
        store.close().await;
    }
    std::fs::remove_dir_all(&directory).ok();
    eprintln!("10 kills, {killed_part_way} of them part way through the import");
    assert!(
        killed_part_way >= 3,
        "only {killed_part_way} kills landed mid-import"
    );
}

#[cfg(feature = "postgres")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_postgres_import_killed_part_way_finishes_when_run_again() {
    let Some(url) = support::postgres_url("import kill test") else {
        return;
    };
    let directory = crate::support::temp_test_path("import-kill-pg", "");
    std::fs::create_dir_all(&directory).unwrap();
    let file = directory.join("history.csv");
    let valid = write_history(&file);
    let reference = support::fresh_postgres_store(&url, "import_ref").await;
    import(
        &Directory::new(reference.clone(), DirectorySettings::default()),
        &file,
        false,
    )
    .await;
    let expected = postgres_rows(&reference).await;
    check(&expected, &valid, &expected, "uninterrupted");

    let mut random = Xorshift(0xD1B5_4A32_D192_ED03);
    for run in 0..3 {
        let schema = format!(
            "import_kill_{}",
            customer_directory::CustomerId::new().as_uuid().simple()
        );
        let store = customer_directory::PostgresStore::connect_with_schema(&url, &schema)
            .await
            .unwrap();
        store.migrate().await.unwrap();
        let application = format!("cd_import_kill_{run}_{}", &schema[12..24]);
        let separator = if url.contains('?') { '&' } else { '?' };
        let child_url = format!("{url}{separator}application_name={application}");
        let after = Duration::from_millis(500 + random.below(2_000));
        run_and_kill(&child_url, Some(&schema), &file, after);
        support::wait_for_sessions_to_end(&store, &application).await;
        import(
            &Directory::new(store.clone(), DirectorySettings::default()),
            &file,
            false,
        )
        .await;
        check(
            &postgres_rows(&store).await,
            &valid,
            &expected,
            &format!("run {run} ({after:?})"),
        );
    }
    std::fs::remove_dir_all(&directory).ok();
}
