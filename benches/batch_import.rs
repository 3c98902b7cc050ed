//! Batch attribution (issue 19): `Directory::record_bookings` in batches of 1,000 against
//! `Directory::record_booking` one by one, on a SQLite file (one writer) and on PostgreSQL
//! (one task, so one connection at a time), through the public API only.
//!
//! A fresh database is bulk-loaded with `CD_BATCH_CUSTOMERS` typical customers (default
//! 10,000; commits of 1,000). The bookings are a business's history: each booking's code
//! is new; 60 % are for existing customers (their email as typed, their booking form's
//! details), 40 % for new guests who book twice (the first creates the customer, the second
//! attaches to it, often in the same batch). Emails are parsed before timing, for both ways.
//!
//! Criterion functions, per adapter (`sqlite`, `postgres`):
//! - `one-by-one`: `record_booking` for each booking, one task;
//! - `batch-1000`: `record_bookings` of 1,000 bookings per call (criterion's throughput is in
//!   bookings).
//!
//! On SQLite also, against the floor of a batch commit:
//! - `batch-1000-existing`: `record_bookings` of 1,000 bookings, all for existing customers;
//! - `floor-batch-1000`: a bare `rusqlite` connection on a copy of the adapter's file
//!   writing, in one transaction per 1,000 bookings, the rows the adapter writes for a
//!   booking of an existing customer (`support::floor::Floor::record_batch`);
//! - before those two, outside criterion, the two in turn from the same file, five rounds
//!   of 10 batches each, each round's ratio printed: the comparison of like with like.
//!
//! At the end the bench prints each function's mean per booking over every booking it timed
//! (warm-up included) and the ratio one-by-one / batch, all from the same run.
//!
//! ```text
//! CUSTOMER_DIRECTORY_POSTGRES_URL=postgres://directory:directory@localhost:5432/directory \
//!   cargo bench --features sqlite,postgres --bench batch_import -- --warm-up-time 1 --measurement-time 5 --sample-size 10
//! ```

mod support;

use std::process::Command;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use customer_directory::{
    Actor, Directory, DirectorySettings, EmailAddress, NewBooking, PostgresStore, SqliteStore,
    Store,
};
use support::floor::Floor;
use support::{BookingProbes, Timed, env_number, load_typical_customers};
use tokio::runtime::Runtime;

/// Bookings per `record_bookings` call.
const BATCH: u64 = 1_000;

/// The history the bench records: probes for existing customers and a counter for codes and
/// new guests.
struct History {
    probes: BookingProbes,
    next: usize,
}

impl History {
    /// `count` bookings of the mix described above, emails parsed.
    fn bookings(&mut self, count: u64) -> Vec<NewBooking> {
        let existing = self.probes.inputs(count, false, &mut self.next, "H");
        existing
            .into_iter()
            .enumerate()
            .map(|(i, (mut booking, raw))| {
                let n = self.next as u64 - count + i as u64;
                let raw = if n % 5 < 3 {
                    raw
                } else {
                    // Two bookings per new guest.
                    format!("guest.{}.{}@example.org", std::process::id(), n / 10)
                };
                booking.contact.email = Some(EmailAddress::parse(&raw).expect("email"));
                booking
            })
            .collect()
    }

    /// `count` bookings, all for existing customers, emails parsed.
    fn existing(&mut self, count: u64) -> Vec<NewBooking> {
        self.probes
            .inputs(count, false, &mut self.next, "E")
            .into_iter()
            .map(|(mut booking, raw)| {
                booking.contact.email = Some(EmailAddress::parse(&raw).expect("email"));
                booking
            })
            .collect()
    }
}

/// Records `batches` batches of 1,000 bookings for existing customers; the time it took.
fn record_existing_batches<S: Store>(
    rt: &Runtime,
    directory: &Directory<S>,
    history: &mut History,
    batches: u64,
) -> Duration {
    let batches = (0..batches).map(|_| history.existing(BATCH)).collect();
    record_batches(rt, directory, batches)
}

/// Records each of `batches` (of 1,000 bookings) in one `record_bookings` call; the time
/// it took.
fn record_batches<S: Store>(
    rt: &Runtime,
    directory: &Directory<S>,
    batches: Vec<Vec<NewBooking>>,
) -> Duration {
    rt.block_on(async {
        let started = Instant::now();
        for batch in batches {
            let report = directory
                .record_bookings(batch, &Actor::System)
                .await
                .expect("record batch");
            assert_eq!(report.recorded().count() as u64, BATCH);
        }
        started.elapsed()
    })
}

/// Writes `batches` floor batches of 1,000 bookings; the time it took.
fn floor_batches(floor: &mut Floor, batches: u64) -> Duration {
    let started = Instant::now();
    for _ in 0..batches {
        floor.record_batch(BATCH);
    }
    started.elapsed()
}

/// The adapter and the floor in turn, outside criterion, starting from the same file (the
/// floor's is a copy of the adapter's): five rounds of `CD_BATCH_TURN_BATCHES` batches of
/// 1,000 bookings for existing customers (default 10), so both write the same number of
/// rows into directories of the same size under the same load; each round's rates and
/// ratio printed. Then criterion functions `sqlite/batch-1000-existing` and
/// `sqlite/floor-batch-1000`, whose files grow by what each times, so only the in-turn
/// ratio compares like with like.
fn bench_floor<S: Store>(
    c: &mut Criterion,
    rt: &Runtime,
    directory: &Directory<S>,
    floor: &mut Floor,
    history: &mut History,
    timed: &Timed,
) {
    let batches = env_number("CD_BATCH_TURN_BATCHES", 10) as u64;
    let (mut adapter_total, mut floor_total) = (Duration::ZERO, Duration::ZERO);
    let per_second = |d: Duration, rounds: u64| (rounds * batches * BATCH) as f64 / d.as_secs_f64();
    for round in 1..=5 {
        let adapter = record_existing_batches(rt, directory, history, batches);
        let bare = floor_batches(floor, batches);
        adapter_total += adapter;
        floor_total += bare;
        println!(
            "batch: sqlite: in turn, round {round}: adapter {:.0}/s, floor {:.0}/s, ratio adapter / floor {:.2}",
            per_second(adapter, 1),
            per_second(bare, 1),
            adapter.as_secs_f64() / bare.as_secs_f64()
        );
    }
    println!(
        "batch: sqlite: in turn, all rounds: adapter {:.0}/s, floor {:.0}/s, ratio adapter / floor {:.2}",
        per_second(adapter_total, 5),
        per_second(floor_total, 5),
        adapter_total.as_secs_f64() / floor_total.as_secs_f64()
    );
    let mut group = c.benchmark_group("sqlite");
    group.throughput(Throughput::Elements(BATCH));
    group.bench_function("batch-1000-existing", |b| {
        b.iter_custom(|iters| {
            let elapsed = record_existing_batches(rt, directory, history, iters);
            timed.add("sqlite/batch-1000-existing", elapsed, iters * BATCH);
            elapsed
        });
    });
    group.bench_function("floor-batch-1000", |b| {
        b.iter_custom(|iters| {
            let elapsed = floor_batches(floor, iters);
            timed.add("sqlite/floor-batch-1000", elapsed, iters * BATCH);
            elapsed
        });
    });
    group.finish();
}

/// Criterion functions `group/one-by-one` and `group/batch-1000`.
fn bench_adapter<S: Store + 'static>(
    c: &mut Criterion,
    rt: &Runtime,
    group_name: &str,
    directory: &Directory<S>,
    history: &mut History,
    timed: &Timed,
) {
    let mut group = c.benchmark_group(group_name);
    group.throughput(Throughput::Elements(1));
    let id = format!("{group_name}/one-by-one");
    group.bench_function("one-by-one", |b| {
        b.iter_custom(|iters| {
            let bookings = history.bookings(iters);
            let elapsed = rt.block_on(async {
                let started = Instant::now();
                for booking in bookings {
                    directory
                        .record_booking(booking, &Actor::System)
                        .await
                        .expect("record");
                }
                started.elapsed()
            });
            timed.add(&id, elapsed, iters);
            elapsed
        });
    });
    group.throughput(Throughput::Elements(BATCH));
    let id = format!("{group_name}/batch-1000");
    group.bench_function("batch-1000", |b| {
        b.iter_custom(|iters| {
            let batches = (0..iters).map(|_| history.bookings(BATCH)).collect();
            let elapsed = record_batches(rt, directory, batches);
            timed.add(&id, elapsed, iters * BATCH);
            elapsed
        });
    });
    group.finish();
}

fn bench(c: &mut Criterion) {
    let rt = Runtime::new().expect("runtime");
    let n = env_number("CD_BATCH_CUSTOMERS", 10_000);
    let timed = Timed::default();
    let mut history = History {
        probes: BookingProbes::new(n),
        next: 0,
    };

    let dir = std::env::temp_dir().join(format!("cd-batch-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("bench directory");
    let url = format!("sqlite://{}", dir.join("batch.db").display());
    let store = rt.block_on(async {
        let store = SqliteStore::connect(&url).await.expect("open");
        store.migrate().await.expect("migrate");
        load_typical_customers(&store, n).await;
        store
    });
    let directory = Directory::new(store.clone(), DirectorySettings::default());
    bench_adapter(c, &rt, "sqlite", &directory, &mut history, &timed);
    // Bookings of existing customers for the floor to replay; then the floor copies the
    // file as it stands.
    record_existing_batches(&rt, &directory, &mut history, 1);
    let mut floor = Floor::create(&dir.join("batch.db"), &dir.join("floor.db"));
    floor.set_synchronous("NORMAL");
    bench_floor(c, &rt, &directory, &mut floor, &mut history, &timed);
    drop(directory);
    rt.block_on(store.close());
    let _ = std::fs::remove_dir_all(&dir);

    match std::env::var("CUSTOMER_DIRECTORY_POSTGRES_URL") {
        Ok(url) => {
            let schema = format!("cd_batch_bench_{}", std::process::id());
            let store = rt.block_on(async {
                let store = PostgresStore::connect_with_schema(&url, &schema)
                    .await
                    .expect("connect");
                store.migrate().await.expect("migrate");
                load_typical_customers(&store, n).await;
                store
            });
            let directory = Directory::new(store, DirectorySettings::default());
            bench_adapter(c, &rt, "postgres", &directory, &mut history, &timed);
            drop(directory);
            let dropped = Command::new("psql")
                .args([&url, "-q", "-c", &format!("DROP SCHEMA {schema} CASCADE")])
                .status();
            if !dropped.is_ok_and(|status| status.success()) {
                eprintln!("postgres: could not drop schema {schema}");
            }
        }
        Err(_) => eprintln!("postgres: skipped; set CUSTOMER_DIRECTORY_POSTGRES_URL to run it"),
    }

    timed.report("batch");
    for adapter in ["sqlite", "postgres"] {
        let one = timed.mean_us(&format!("{adapter}/one-by-one"));
        let batch = timed.mean_us(&format!("{adapter}/batch-1000"));
        if let (Some(one), Some(batch)) = (one, batch) {
            println!(
                "batch: {adapter}: batches of 1,000 at {:.0} bookings/s, one by one at {:.0} bookings/s: {:.1} times as fast",
                1e6 / batch,
                1e6 / one,
                one / batch
            );
        }
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(Duration::from_secs(3));
    targets = bench
}
criterion_main!(benches);
