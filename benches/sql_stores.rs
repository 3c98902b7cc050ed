//! `Directory::record_booking` end to end on `SqliteStore` (a file, WAL) and `PostgresStore`
//! (loopback), at growing directory sizes, and the round trips each booking costs.
//!
//! For every size N (default 10,000 and 100,000; `CD_SQL_SIZES` chooses) a fresh database is
//! bulk-loaded with N typical customers (commits of 1,000), then criterion group
//! `sqlite/N` or `postgres/N` times `record/existing` and `record/new` on one task, and
//! `record/existing-8-tasks`: eight tasks recording at once on the same store.
//! The raw email is parsed inside the timed loop, as on `MemoryStore`.
//!
//! `export/csv` times exporting the whole directory (customers and the bookings recorded by
//! the runs before it) to a sink; its throughput is customers per second.
//!
//! PostgreSQL runs only when `CUSTOMER_DIRECTORY_POSTGRES_URL` is set; each run uses its own
//! schema (`connect_with_schema`) and drops it at the end. Round trips are counted by a
//! small loopback proxy between the store and the server (`tests/support/round_trips.rs`)
//! that counts the client's `Sync` and simple `Query` messages (each is one wait for the
//! server) and its statements (`Bind` and simple `Query`); SQLite has no round trips: it
//! makes the same calls to its connection's thread.
//!
//! ```text
//! CUSTOMER_DIRECTORY_POSTGRES_URL=postgres://directory:directory@localhost:5432/directory \
//!   cargo bench --all-features --bench sql_stores -- --warm-up-time 1 --measurement-time 3 --sample-size 10
//! ```

#[path = "../tests/support/round_trips.rs"]
mod round_trips;
mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use customer_directory::ports::store::{AccountStore, BulkReadStore, SearchStore};
use customer_directory::reports::csv::CsvExportOptions;
use customer_directory::{Directory, DirectorySettings};
use customer_directory::{PostgresStore, SqliteStore, Store};
use support::{BookingProbes, load_typical_customers, record_all};
use tokio::runtime::Runtime;

fn sizes() -> Vec<usize> {
    std::env::var("CD_SQL_SIZES")
        .unwrap_or_else(|_| "10000,100000".into())
        .split(',')
        .map(|n| {
            n.trim()
                .parse()
                .expect("CD_SQL_SIZES: comma-separated numbers")
        })
        .collect()
}

/// Times the booking paths and the export on one store.
fn bench_store<S: Store + AccountStore + SearchStore + BulkReadStore + Clone + 'static>(
    c: &mut Criterion,
    rt: &Runtime,
    name: &str,
    store: S,
    n: usize,
) {
    let directory = Arc::new(Directory::new(store, DirectorySettings::default()));
    let probes = Arc::new(BookingProbes::new(n));
    let mut next = 0usize;
    let mut group = c.benchmark_group(format!("{name}/{n}"));
    group.throughput(Throughput::Elements(1));
    for (label, new) in [("record/existing", false), ("record/new", true)] {
        group.bench_function(label, |b| {
            b.iter_custom(|iters| {
                let inputs = probes.inputs(iters, new, &mut next, "S");
                rt.block_on(async {
                    let started = Instant::now();
                    record_all(&directory, inputs).await;
                    started.elapsed()
                })
            });
        });
    }
    // The whole directory as CSV, to a sink: the export's reads per page of customers.
    group.throughput(Throughput::Elements(n as u64));
    group.bench_function("export/csv", |b| {
        b.iter(|| {
            rt.block_on(async {
                let (_, rows) = directory
                    .export_csv(std::io::sink(), &CsvExportOptions::default())
                    .await
                    .expect("export");
                assert!(rows >= n as u64, "every customer exported");
            })
        });
    });
    group.throughput(Throughput::Elements(1));
    group.bench_function("record/existing-8-tasks", |b| {
        b.iter_custom(|iters| {
            let per_task = iters.div_ceil(8);
            let batches: Vec<_> = (0..8)
                .map(|_| probes.inputs(per_task, false, &mut next, "S"))
                .collect();
            rt.block_on(async {
                let started = Instant::now();
                let tasks: Vec<_> = batches
                    .into_iter()
                    .map(|inputs| {
                        let directory = Arc::clone(&directory);
                        tokio::spawn(async move { record_all(&directory, inputs).await })
                    })
                    .collect();
                for task in tasks {
                    task.await.expect("task");
                }
                // Scale to the requested count (8 * per_task >= iters).
                started
                    .elapsed()
                    .mul_f64(iters as f64 / (8 * per_task) as f64)
            })
        });
    });
    group.finish();
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let dir = std::env::temp_dir().join(format!("cd-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let postgres = std::env::var("CUSTOMER_DIRECTORY_POSTGRES_URL").ok();
    if postgres.is_none() {
        eprintln!("postgres: skipped; set CUSTOMER_DIRECTORY_POSTGRES_URL to run it");
    }
    for n in sizes() {
        let path = dir.join(format!("bench-{n}.db"));
        let store = rt.block_on(async {
            let store = SqliteStore::connect(&format!("sqlite://{}", path.display()))
                .await
                .expect("open");
            store.migrate().await.expect("migrate");
            let started = Instant::now();
            load_typical_customers(&store, n).await;
            eprintln!(
                "sqlite/{n}: loaded in {:.1} s",
                started.elapsed().as_secs_f64()
            );
            store
        });
        bench_store(c, &rt, "sqlite", store.clone(), n);
        rt.block_on(store.close());
        // The same file with every commit synced to disk (`synchronous = FULL`).
        let store = rt.block_on(async {
            SqliteStore::connect_with_durability(
                &format!("sqlite://{}", path.display()),
                customer_directory::adapters::Durability::Full,
            )
            .await
            .expect("reopen with FULL")
        });
        bench_store(c, &rt, "sqlite_full", store.clone(), n);
        rt.block_on(store.close());

        let Some(url) = &postgres else { continue };
        let schema = format!("cd_bench_{}_{n}", std::process::id());
        let store = rt.block_on(async {
            let store = PostgresStore::connect_with_schema(url, &schema)
                .await
                .expect("connect");
            store.migrate().await.expect("migrate");
            let started = Instant::now();
            load_typical_customers(&store, n).await;
            eprintln!(
                "postgres/{n}: loaded in {:.1} s",
                started.elapsed().as_secs_f64()
            );
            store
        });
        bench_store(c, &rt, "postgres", store.clone(), n);

        // Round trips per booking, through the counting proxy.
        rt.block_on(async {
            let proxy = round_trips::CountingProxy::start(url).await;
            let count = Arc::clone(&proxy.counts);
            let proxied = PostgresStore::connect_with_schema(&proxy.url, &schema)
                .await
                .expect("connect through the proxy");
            let directory = Directory::new(proxied.clone(), DirectorySettings::default());
            let probes = BookingProbes::new(n);
            let mut next = 1_000_000usize;
            // Warm the statement cache, then count.
            record_all(&directory, probes.inputs(50, false, &mut next, "S")).await;
            record_all(&directory, probes.inputs(50, true, &mut next, "S")).await;
            for (label, new) in [("existing", false), ("new", true)] {
                let inputs = probes.inputs(200, new, &mut next, "S");
                let (trips, statements) = (count.round_trips(), count.statements());
                record_all(&directory, inputs).await;
                let trips = count.round_trips() - trips;
                let statements = count.statements() - statements;
                eprintln!(
                    "postgres/{n}: round trips per booking ({label} customer): {:.2}, statements {:.2}",
                    trips as f64 / 200.0,
                    statements as f64 / 200.0
                );
            }
            proxied.pool().close().await;
            sqlx_drop_schema(&store, &schema).await;
            store.pool().close().await;
        });
    }
    let _ = std::fs::remove_dir_all(&dir);
}

async fn sqlx_drop_schema(store: &PostgresStore, schema: &str) {
    use customer_directory::adapters::sqlx;
    sqlx::query(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
        .execute(store.pool())
        .await
        .expect("drop the bench schema");
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(Duration::from_secs(3));
    targets = bench
}
criterion_main!(benches);
