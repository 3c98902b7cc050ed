//! A real crash: a child process records bookings and merges into a database and is killed
//! with SIGKILL at a random moment; the parent reopens the database and checks that what the
//! child was told is there, and that nothing is half done.
//!
//! - Every booking the child saw acknowledged (it prints the id after `record_booking`
//!   returned) is present exactly once, attributed at most once, to a live customer.
//! - Live email keys are unique, and the index agrees with the customers.
//! - Every acknowledged merge is stored, every merged customer is a tombstone whose merge
//!   record names it, and no customer points at a merge that was not stored.
//!
//! The child is this same test binary, run with `--exact child_records_until_killed` and the
//! database in an environment variable; without that variable the child test does nothing.
//! SQLite: 50 kills of a process writing to a file. PostgreSQL: 10 kills of the client
//! process (the server must roll back what the dead connection left open).
#![cfg(all(unix, feature = "sqlite", feature = "testing"))]

mod support;

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use customer_directory::ports::store::BulkReadStore;
use customer_directory::testing::conformance::{booking, contact};
use customer_directory::{
    Actor, AttributionOutcome, BookingId, BookingStatus, CustomerId, CustomerStatus, Directory,
    DirectorySettings, MergeId, MergeRequest, SqliteStore, Store,
};

/// The variable naming the database the child writes to (`sqlite://…` or `postgres://…`),
/// and the PostgreSQL schema when there is one.
const DATABASE: &str = "KILL_CRASH_DATABASE";
const SCHEMA: &str = "KILL_CRASH_SCHEMA";
/// The variable naming how many tasks the child records with at once (default 1): with
/// several, commits queue on SQLite's writer together and are committed in one transaction.
const TASKS: &str = "KILL_CRASH_TASKS";

/// A small deterministic generator: the kill moments differ per run, and a failure names the
/// run that can be repeated.
struct Xorshift(u64);

impl Xorshift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// What the child acknowledged before it died.
#[derive(Default)]
struct Acknowledged {
    bookings: Vec<BookingId>,
    merges: Vec<MergeId>,
}

/// The child: records bookings for a handful of addresses (new customers, attachments,
/// related bookings) and merges two customers every few bookings, printing each
/// acknowledgement, until it is killed. Does nothing unless run as the child.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn child_records_until_killed() {
    let Ok(database) = std::env::var(DATABASE) else {
        return;
    };
    let tasks: u64 = std::env::var(TASKS).map_or(1, |n| n.parse().expect("a task count"));
    if database.starts_with("postgres") {
        #[cfg(feature = "postgres")]
        {
            let schema = std::env::var(SCHEMA).expect("schema");
            let store = customer_directory::PostgresStore::connect_with_schema(&database, &schema)
                .await
                .expect("connect");
            record_by_tasks(Directory::new(store, DirectorySettings::default()), tasks).await;
        }
    } else {
        let store = SqliteStore::connect(&database).await.expect("connect");
        record_by_tasks(Directory::new(store, DirectorySettings::default()), tasks).await;
    }
}

/// Runs [`record_forever`] on `tasks` tasks at once, on the same addresses.
async fn record_by_tasks<S: Store + Send + Sync + 'static>(dir: Directory<S>, tasks: u64) {
    let dir = std::sync::Arc::new(dir);
    let running: Vec<_> = (0..tasks)
        .map(|task| {
            let dir = std::sync::Arc::clone(&dir);
            tokio::spawn(async move { record_forever(&dir, task).await })
        })
        .collect();
    for task in running {
        task.await.expect("a recording task");
    }
}

/// Records bookings until killed; `task` tells the booking codes of several tasks apart.
async fn record_forever<S: Store>(dir: &Directory<S>, task: u64) {
    let staff = Actor::staff("crash-test");
    let names = ["Ana", "Bo", "Cy", "Di", "Ed", "Flo"];
    let mut customers: Vec<CustomerId> = Vec::new();
    for n in 0u64.. {
        let who = names[(n % names.len() as u64) as usize];
        // A second address per name (every other round) gives merges something to join.
        let email = format!("{}{}@example.com", who.to_lowercase(), (n / 6) % 2);
        let new = booking(
            &format!("BK-{task}-{n}"),
            BookingStatus::PAID,
            contact(&email, who, "Crash"),
        );
        let recorded = dir.record_booking(new, &staff).await.expect("record");
        println!("booked {}", recorded.booking);
        if let AttributionOutcome::CreatedCustomer(id) = recorded.outcome {
            customers.push(id);
        }
        if n % 5 == 4 && customers.len() >= 2 {
            let survivor = customers[0];
            let other = customers.remove(1);
            match dir
                .merge(&MergeRequest::new(survivor, [other]), &staff)
                .await
            {
                Ok(report) => println!("merged {}", report.merge),
                // Other tasks kept changing the customers (each task merges only the
                // customers it created, so nothing else stops a merge).
                Err(customer_directory::Error::Contention { .. }) => {}
                Err(error) => panic!("merge failed: {error}"),
            }
        }
    }
}

/// Runs the child against `database`, kills it after `after`, and returns what it
/// acknowledged (complete lines only).
fn run_and_kill(database: &str, schema: Option<&str>, tasks: u64, after: Duration) -> Acknowledged {
    let tasks = tasks.to_string();
    let mut envs = vec![(DATABASE, database), (TASKS, tasks.as_str())];
    if let Some(schema) = schema {
        envs.push((SCHEMA, schema));
    }
    let mut acknowledged = Acknowledged::default();
    for line in support::run_child_and_kill("child_records_until_killed", &envs, after) {
        // The harness's "test child_records_until_killed ... " has no line end of its own,
        // so the first acknowledgement shares its line.
        if let Some((_, id)) = line.split_once("booked ") {
            acknowledged.bookings.push(id.parse().expect("booking id"));
        } else if let Some((_, id)) = line.split_once("merged ") {
            acknowledged.merges.push(id.parse().expect("merge id"));
        }
    }
    acknowledged
}

/// The invariants after a kill, on the reopened store.
async fn check_after_kill<
    S: Store + BulkReadStore + customer_directory::ports::store::SearchStore,
>(
    store: S,
    acknowledged: &Acknowledged,
    tasks: usize,
    run: &str,
) {
    let dir = Directory::new(store, DirectorySettings::default());
    let store = dir.store();
    // The booking each task had in flight when the child died may be committed without its
    // acknowledgement: at most one a task is stored beyond what was acknowledged.
    let acknowledged_ids: HashSet<BookingId> = acknowledged.bookings.iter().copied().collect();
    let mut stored = HashSet::new();
    for customer in support::all_customers(store).await {
        for booking in store.customer_bookings(customer.id).await.unwrap() {
            stored.insert(booking.id);
        }
    }
    let unacknowledged: Vec<BookingId> = stored.difference(&acknowledged_ids).copied().collect();
    if unacknowledged.len() > tasks {
        let mut codes = Vec::new();
        for id in &unacknowledged {
            codes.push(store.booking(*id).await.unwrap().map(|b| b.code));
        }
        panic!("{run}: bookings stored that the child never saw recorded: {codes:?}");
    }
    let mut expected = acknowledged.bookings.clone();
    expected.extend(unacknowledged);
    // Present, attributed at most once, to a live customer; keys unique; merged ids resolve.
    support::check_invariants(&dir, &expected)
        .await
        .unwrap_or_else(|problem| panic!("{run}: {problem}"));
    let mut codes = HashSet::new();
    for id in &acknowledged.bookings {
        let booking = store
            .booking(*id)
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("{run}: acknowledged booking {id} lost"));
        assert!(codes.insert(booking.code.clone()), "{run}: code twice");
    }
    for merge in &acknowledged.merges {
        assert!(
            store.merge_record(*merge).await.unwrap().is_some(),
            "{run}: acknowledged merge {merge} lost"
        );
    }
    // No half-applied merge: a tombstone's merge is stored and names it; a stored merge's
    // customers are all tombstones of its survivor (none of these merges is undone).
    let customers = support::all_customers(store).await;
    let mut tombstones = HashMap::new();
    for customer in &customers {
        if let CustomerStatus::MergedInto(survivor) = customer.status {
            tombstones.insert(customer.id, survivor);
            let merges = store.merges_involving(customer.id).await.unwrap();
            assert!(
                merges.iter().any(
                    |m| m.report.merged.contains(&customer.id) && m.report.survivor == survivor
                ),
                "{run}: tombstone {} has no merge record naming it",
                customer.id
            );
        }
    }
    for customer in &customers {
        for merge in store.merges_involving(customer.id).await.unwrap() {
            for merged in &merge.report.merged {
                assert_eq!(
                    tombstones.get(merged),
                    Some(&merge.report.survivor),
                    "{run}: merge {} stored but {merged} is not its tombstone",
                    merge.id
                );
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_file_survives_sigkill_at_random_moments() {
    sqlite_survives_kills(50, 1, 0x9E37_79B9_7F4A_7C15).await;
}

/// Four tasks record at once, so the child is often killed in the middle of a
/// transaction that several bookings share: none of them, or all, are stored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_file_survives_sigkill_during_shared_commits() {
    sqlite_survives_kills(25, 4, 0x2545_F491_4F6C_DD1D).await;
}

/// `kills` runs of a child recording on `tasks` tasks into a new file, each killed after a
/// random time drawn from `seed`.
async fn sqlite_survives_kills(kills: u32, tasks: u64, seed: u64) {
    let mut random = Xorshift(seed);
    let directory = crate::support::temp_test_path("kill-crash", "");
    std::fs::create_dir_all(&directory).unwrap();
    let mut acknowledged_total = 0;
    for run in 0..kills {
        let file = directory.join(format!("run-{run}.db"));
        let url = format!("sqlite://{}", file.display());
        let store = SqliteStore::connect(&url).await.expect("create");
        store.migrate().await.expect("migrate");
        store.close().await;
        let after = Duration::from_millis(150 + random.next() % 450);
        let acknowledged = run_and_kill(&url, None, tasks, after);
        acknowledged_total += acknowledged.bookings.len();
        let store = SqliteStore::connect(&url).await.expect("reopen");
        let run = format!("run {run} ({after:?}, {tasks} recording at once)");
        check_after_kill(store, &acknowledged, tasks as usize, &run).await;
    }
    std::fs::remove_dir_all(&directory).ok();
    eprintln!(
        "{kills} kills ({tasks} recording at once); {acknowledged_total} bookings acknowledged in all, each found once"
    );
    // The kills landed while the child was writing, not before it started.
    assert!(
        acknowledged_total > kills as usize,
        "the children recorded {acknowledged_total} bookings in all"
    );
}

#[cfg(feature = "postgres")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_survives_the_client_killed_at_random_moments() {
    let Some(url) = support::postgres_url("kill test") else {
        return;
    };
    let mut random = Xorshift(0xD1B5_4A32_D192_ED03);
    let mut acknowledged_total = 0;
    for run in 0..10 {
        let schema = format!("kill_{}", CustomerId::new().as_uuid().simple());
        let store = customer_directory::PostgresStore::connect_with_schema(&url, &schema)
            .await
            .expect("connect");
        store.migrate().await.expect("migrate");
        let after = Duration::from_millis(300 + random.next() % 700);
        // The child's connections carry a name of their own, so the parent can tell when
        // the server has ended them.
        let application = format!("cd_kill_{run}_{}", &schema[5..17]);
        let separator = if url.contains('?') { '&' } else { '?' };
        let child_url = format!("{url}{separator}application_name={application}");
        let acknowledged = run_and_kill(&child_url, Some(&schema), 1, after);
        acknowledged_total += acknowledged.bookings.len();
        // The server may still be finishing the dead client's last statement (and commit
        // it): check only once its sessions are gone.
        support::wait_for_sessions_to_end(&store, &application).await;
        check_after_kill(store, &acknowledged, 1, &format!("run {run} ({after:?})")).await;
    }
    eprintln!("10 kills; {acknowledged_total} bookings acknowledged in all, each found once");
    assert!(
        acknowledged_total > 10,
        "the children recorded {acknowledged_total} bookings in all"
    );
}
