//! Group commit on SQLite: commits queued on the writer together share one transaction,
//! each under a savepoint of its own. These tests hold the writer busy while several tasks
//! queue their commits, count the transactions SQLite commits (a commit hook on the
//! writer's connection), and check what each task is answered and what is stored.
#![cfg(feature = "sqlite")]

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use customer_directory::{
    Actor, AttributionOutcome, BookingStatus, ContactForm, Currency, CustomerId, Directory,
    DirectorySettings, Money, NewBooking, SqliteStore,
};

/// A migrated store on a new file, and its path (removed by the caller).
async fn file_store(what: &str) -> (SqliteStore, std::path::PathBuf) {
    let path = support::temp_test_path(what, ".db");
    let store = SqliteStore::connect(&format!("sqlite://{}", path.display()))
        .await
        .expect("open a SQLite file");
    store.migrate().await.expect("migrate");
    (store, path)
}

fn remove(path: &std::path::Path) {
    for suffix in ["", "-wal", "-shm"] {
        let mut file = path.as_os_str().to_owned();
        file.push(suffix);
        let _ = std::fs::remove_file(file);
    }
}

fn booking(code: &str, email: &str, settings: &DirectorySettings) -> NewBooking {
    let contact = ContactForm {
        given_name: "Ana".into(),
        email: email.into(),
        ..ContactForm::default()
    }
    .parse(settings)
    .expect("a valid contact");
    NewBooking::new(
        code,
        BookingStatus::PAID,
        contact,
        chrono::Utc::now(),
        Money::new(2_500, Currency::parse("EUR").expect("EUR")),
    )
}

/// Counts in `counter` every transaction `connection` (the writer's) commits from now on.
fn count_commits(
    connection: &mut customer_directory::adapters::rusqlite::Connection,
    counter: Arc<AtomicUsize>,
) {
    connection
        .commit_hook(Some(move || {
            counter.fetch_add(1, Ordering::SeqCst);
            false
        }))
        .expect("a commit hook on the writer");
}

/// Holds the store's writer busy until [`release`](WriterHeld::release), counting from
/// then on the transactions its connection commits.
struct WriterHeld {
    release: std::sync::mpsc::Sender<()>,
    held: tokio::task::JoinHandle<()>,
    commits: Arc<AtomicUsize>,
}

impl WriterHeld {
    async fn new(store: &SqliteStore) -> Self {
        let commits = Arc::new(AtomicUsize::new(0));
        let (release, released) = std::sync::mpsc::channel::<()>();
        let (holding, held_now) = tokio::sync::oneshot::channel();
        let counter = Arc::clone(&commits);
        let store = store.clone();
        let held = tokio::spawn(async move {
            store
                .with_connection(move |connection| {
                    count_commits(connection, counter);
                    let _ = holding.send(());
                    let _ = released.recv();
                })
                .await
                .expect("the writer ran the holding work");
        });
        held_now.await.expect("the writer is held");
        Self {
            release,
            held,
            commits,
        }
    }

    /// Lets the writer go once `queued` work has had time to reach its queue; answers the
    /// commits counted after every task in `tasks` is done.
    async fn release_after<T>(self, tasks: Vec<tokio::task::JoinHandle<T>>) -> (Vec<T>, usize) {
        // The tasks read on the readers, then queue their commits behind the held writer.
        tokio::time::sleep(Duration::from_millis(500)).await;
        self.release.send(()).expect("the writer waits");
        self.held.await.expect("the holding task");
        let mut answers = Vec::new();
        for task in tasks {
            answers.push(task.await.expect("a recording task"));
        }
        (answers, self.commits.load(Ordering::SeqCst))
    }
}

/// Bookings for eight new customers queued while the writer is busy commit in one
/// transaction, and each task is answered its own customer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commits_queued_together_share_one_transaction() {
    let (store, path) = file_store("group-commit").await;
    let directory = Arc::new(Directory::new(store.clone(), DirectorySettings::default()));
    let held = WriterHeld::new(&store).await;
    let tasks: Vec<_> = (0..8)
        .map(|n| {
            let directory = Arc::clone(&directory);
            tokio::spawn(async move {
                let new = booking(
                    &format!("GC-{n}"),
                    &format!("guest{n}@example.com"),
                    directory.settings(),
                );
                directory.record_booking(new, &Actor::System).await
            })
        })
        .collect();
    let (answers, commits) = held.release_after(tasks).await;
    assert_eq!(commits, 1, "eight commits, one transaction");
    let mut customers = Vec::new();
    for answer in answers {
        let recorded = answer.expect("recorded");
        let AttributionOutcome::CreatedCustomer(customer) = recorded.outcome else {
            panic!("a new customer each: {:?}", recorded.outcome);
        };
        customers.push(customer);
    }
    for (n, customer) in customers.iter().enumerate() {
        let found = directory
            .find_by_email(&format!("guest{n}@example.com"))
            .await
            .expect("read")
            .expect("stored");
        assert_eq!(found.id, *customer);
        let summary = directory.summary(*customer).await.expect("summary");
        assert_eq!(summary.booking_count, 1);
    }
    store.close().await;
    remove(&path);
}

/// Two tasks booking for the same new email decide, each from what it read, to create the
/// customer. In the shared transaction the second commit conflicts with the first: it is
/// rolled back alone, answered once the first is committed, and its retry finds the
/// customer the first created. One customer, both bookings on it, nothing else written.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_conflicting_commit_is_rolled_back_alone_and_its_retry_sees_the_other() {
    let (store, path) = file_store("group-commit-conflict").await;
    let directory = Arc::new(Directory::new(store.clone(), DirectorySettings::default()));
    let held = WriterHeld::new(&store).await;
    let tasks: Vec<_> = ["GC-A", "GC-B"]
        .into_iter()
        .map(|code| {
            let directory = Arc::clone(&directory);
            tokio::spawn(async move {
                let new = booking(code, "same@example.com", directory.settings());
                directory.record_booking(new, &Actor::System).await
            })
        })
        .collect();
    let (answers, commits) = held.release_after(tasks).await;
    let outcomes: Vec<_> = answers
        .into_iter()
        .map(|answer| answer.expect("both recorded").outcome)
        .collect();
    let created: Vec<CustomerId> = outcomes
        .iter()
        .filter_map(|outcome| match outcome {
            AttributionOutcome::CreatedCustomer(id) => Some(*id),
            _ => None,
        })
        .collect();
    assert_eq!(created.len(), 1, "one created the customer: {outcomes:?}");
    assert!(
        outcomes
            .iter()
            .all(|outcome| outcome.customer() == Some(created[0])),
        "the other joined it: {outcomes:?}"
    );
    assert_eq!(commits, 2, "the shared transaction, then the retry's");
    let customer = directory
        .find_by_email("same@example.com")
        .await
        .expect("read")
        .expect("stored");
    assert_eq!(customer.id, created[0]);
    let summary = directory.summary(customer.id).await.expect("summary");
    assert_eq!(summary.booking_count, 2);
    let all = support::all_customers(&store).await;
    assert_eq!(all.len(), 1, "no second customer was left behind");
    store.close().await;
    remove(&path);
}

/// What a directory holds for one email: its customer's booking codes, booking count and
/// totals, compared between stores (ids and times differ).
async fn holdings<S>(directory: &Directory<S>, email: &str) -> (Vec<String>, usize, String)
where
    S: customer_directory::Store
        + customer_directory::ports::store::SearchStore
        + customer_directory::ports::store::BulkReadStore,
{
    let customer = directory
        .find_by_email(email)
        .await
        .expect("read")
        .unwrap_or_else(|| panic!("{email} has a customer"));
    let mut codes: Vec<String> = directory
        .customer_bookings(customer.id)
        .await
        .expect("bookings")
        .into_iter()
        .map(|booking| booking.code)
        .collect();
    codes.sort();
    let summary = directory.summary(customer.id).await.expect("summary");
    (
        codes,
        summary.booking_count,
        format!("{:?}", summary.totals),
    )
}

/// Sixteen tasks recording 400 bookings over 20 emails at once on a SQLite file (their
/// commits grouped as they queue, some conflicting inside a shared transaction) leave the
/// directory a sequential run on the in-memory store leaves: per email one customer, the
/// same bookings, the same count and totals. Each email books with the same details, so
/// the order of the bookings does not change the result.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sixteen_tasks_at_once_leave_what_one_by_one_leaves() {
    const TASKS: usize = 16;
    const EACH: usize = 25;
    const EMAILS: usize = 20;
    let email = |n: usize| format!("guest{}@example.com", n % EMAILS);
    let (store, path) = file_store("group-commit-equal").await;
    let concurrent = Arc::new(Directory::new(store.clone(), DirectorySettings::default()));
    let commits = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&commits);
    store
        .with_connection(move |connection| count_commits(connection, counter))
        .await
        .expect("the writer");
    let tasks: Vec<_> = (0..TASKS)
        .map(|task| {
            let directory = Arc::clone(&concurrent);
            tokio::spawn(async move {
                for n in 0..EACH {
                    let code = format!("EQ-{task}-{n}");
                    let new = booking(&code, &email(task * EACH + n), directory.settings());
                    directory
                        .record_booking(new, &Actor::System)
                        .await
                        .unwrap_or_else(|error| panic!("{code}: {error}"));
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.expect("a recording task");
    }
    let sequential = Directory::new(
        customer_directory::MemoryStore::new(),
        DirectorySettings::default(),
    );
    for task in 0..TASKS {
        for n in 0..EACH {
            let new = booking(
                &format!("EQ-{task}-{n}"),
                &email(task * EACH + n),
                sequential.settings(),
            );
            sequential
                .record_booking(new, &Actor::System)
                .await
                .expect("recorded");
        }
    }
    for n in 0..EMAILS {
        let email = email(n);
        let at_once = holdings(&concurrent, &email).await;
        let one_by_one = holdings(&sequential, &email).await;
        assert_eq!(at_once, one_by_one, "{email}");
        assert_eq!(at_once.1, TASKS * EACH / EMAILS, "{email}");
    }
    assert_eq!(support::all_customers(&store).await.len(), EMAILS);
    eprintln!(
        "{} bookings in {} transactions",
        TASKS * EACH,
        commits.load(Ordering::SeqCst)
    );
    store.close().await;
    remove(&path);
}
