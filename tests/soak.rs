//! Soak tests: concurrent tasks mix recording, contact edits, merges, blocks and
//! redactions for a bounded time on each adapter; nothing deadlocks (every operation must
//! finish within a bound) and the directory's invariants hold at the end.

mod support;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use customer_directory::Store;
use customer_directory::ports::store::{AccountStore, BulkReadStore, SearchStore};
use customer_directory::{
    Actor, BookingId, BookingStatus, ContactForm, Currency, Directory, DirectorySettings,
    MergeRequest, Money, NewBooking,
};

const TASKS: u64 = 6;
const EMAILS: u64 = 12;
/// No single operation may take longer than this, however busy the store: a deadlock fails
/// the test instead of hanging it.
const OPERATION_BOUND: Duration = Duration::from_secs(30);

/// A small deterministic generator per task (xorshift).
struct Dice(u64);

impl Dice {
    fn roll(&mut self, sides: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % sides
    }
}

fn email(n: u64) -> String {
    format!("soak{n}@example.com")
}

async fn soak<
    S: Store + AccountStore + SearchStore + BulkReadStore + Clone + Send + Sync + 'static,
>(
    store: S,
    run_for: Duration,
) {
    let dir = Arc::new(Directory::new(store, DirectorySettings::default()));
    let recorded: Arc<Mutex<Vec<BookingId>>> = Arc::default();
    let deadline = Instant::now() + run_for;
    let mut tasks = Vec::new();
    for task in 0..TASKS {
        let dir = Arc::clone(&dir);
        let recorded = Arc::clone(&recorded);
        tasks.push(tokio::spawn(async move {
            let mut dice = Dice(0x9E37_79B9_7F4A_7C15 ^ (task + 1));
            let staff = Actor::staff(format!("soak-{task}"));
            let mut operations = 0_u64;
            while Instant::now() < deadline {
                let operation = dice.roll(10);
                let a = email(dice.roll(EMAILS));
                let b = email(dice.roll(EMAILS));
                let step = async {
                    match operation {
                        0..=4 => {
                            let contact = ContactForm {
                                given_name: format!("Guest{}", dice.roll(3)),
                                email: a.clone(),
                                ..ContactForm::default()
                            }
                            .parse(dir.settings())
                            .unwrap();
                            let booking = NewBooking::new(
                                format!("SK-{task}-{operations}"),
                                BookingStatus::PAID,
                                contact,
                                chrono::Utc::now(),
                                Money::new(1_000, Currency::parse("EUR").unwrap()),
                            );
                            if let Ok(done) = dir.record_booking(booking, &Actor::System).await {
                                recorded.lock().unwrap().push(done.booking);
                            }
                        }
                        5 => {
                            if let Ok(Some(customer)) = dir.find_by_email(&a).await {
                                let mut profile = customer.profile.clone();
                                profile.phone = customer_directory::Phone::parse(
                                    &format!("+3519123450{:02}", dice.roll(99)),
                                    None,
                                )
                                .ok();
                                let _ = dir.update_contact(customer.id, profile, &staff).await;
                            }
                        }
                        6 => {
                            if let (Ok(Some(x)), Ok(Some(y))) =
                                (dir.find_by_email(&a).await, dir.find_by_email(&b).await)
                            {
                                let request = MergeRequest::new(x.id, [y.id]).allowing_blocked();
                                let _ = dir.merge(&request, &staff).await;
                            }
                        }
                        7 => {
                            if let Ok(Some(customer)) = dir.find_by_email(&a).await {
                                if dir.block(customer.id, "soak", &staff).await.is_err() {
                                    let _ = dir.unblock(customer.id, &staff).await;
                                }
                            }
                        }
                        8 => {
                            if let Ok(Some(customer)) = dir.find_by_email(&a).await {
                                let _ = dir.archive(customer.id, &staff).await;
                                let _ = dir.redact(customer.id, &[], &staff).await;
                            }
                        }
                        _ => {
                            let _ = dir.find_duplicates().await;
                        }
                    }
                };
                tokio::time::timeout(OPERATION_BOUND, step)
                    .await
                    .unwrap_or_else(|_| panic!("operation {operation} did not finish: deadlock?"));
                operations += 1;
            }
            operations
        }));
    }
    let mut operations = 0;
    for task in tasks {
        operations += task.await.expect("a soak task panicked");
    }
    let bookings = recorded.lock().unwrap().clone();
    assert!(
        operations >= TASKS,
        "the tasks made progress ({operations} operations)"
    );
    assert!(!bookings.is_empty(), "some bookings were recorded");
    support::check_invariants(&dir, &bookings)
        .await
        .unwrap_or_else(|broken| panic!("after {operations} operations: {broken}"));
    eprintln!("soak: {operations} operations, {} bookings", bookings.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn memory_store_survives_a_concurrent_mix() {
    soak(
        customer_directory::MemoryStore::new(),
        Duration::from_secs(2),
    )
    .await;
}

#[cfg(feature = "sqlite")]
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_store_survives_a_concurrent_mix() {
    let path = crate::support::temp_test_path("soak", ".db");
    let store = customer_directory::SqliteStore::connect(&format!("sqlite://{}", path.display()))
        .await
        .unwrap();
    store.migrate().await.unwrap();
    soak(store, Duration::from_secs(3)).await;
}

#[cfg(feature = "postgres")]
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_store_survives_a_concurrent_mix() {
    let Some(url) = support::postgres_url("soak test") else {
        return;
    };
    let store = support::fresh_postgres_store(&url, "cd_soak").await;
    soak(store, Duration::from_secs(3)).await;
}
