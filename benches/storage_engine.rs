//! The storage engine's figures (issue 17): bookings a second for existing customers on a
//! SQLite file (`synchronous = NORMAL` and `FULL`) and on PostgreSQL, SQLite WAL frames per
//! booking, and PostgreSQL server CPU per booking with its HOT updates, through the
//! crate's public API only, so the same bench runs on any version of the adapters.
//!
//! A fresh database is bulk-loaded with `CD_ENGINE_CUSTOMERS` typical customers (default
//! 10,000; commits of 1,000), then:
//!
//! - criterion `sqlite/record-existing` (`SqliteStore::connect`, `Durability::Normal`) and
//!   `sqlite-full/record-existing` (the same file reopened with `Durability::Full`):
//!   `Directory::record_booking` for existing customers on one task, the raw email parsed
//!   inside the timed loop;
//! - criterion `sqlite/record-existing-8-tasks`, `sqlite/record-existing-32-tasks` and
//!   `sqlite-full/record-existing-8-tasks`: the same bookings split between that many
//!   tasks spawned at once, as a host's concurrent requests (their commits share the
//!   writer's transactions: group commit);
//! - criterion `sqlite/floor` and `sqlite-full/floor`: the floor, a bare `rusqlite` loop on a
//!   file of its own whose schema and rows are copied from the adapter's migrated file
//!   (`sqlite_master`), with the adapter's connection settings, writing per booking in one
//!   transaction the rows the adapter writes for a booking of an existing customer (see
//!   `support::floor::Floor`); then, outside criterion, adapter and floor in turn, five rounds of
//!   `CD_ENGINE_TURN_BOOKINGS` bookings each (default 1,000), each round's ratio printed;
//!   `CD_FLOOR_LEAVE_OUT` (index names, comma-separated) makes the floor leave those indexes
//!   out, to measure what they cost a booking;
//! - WAL frames per booking, outside criterion's timing: the WAL is truncated
//!   (`SqliteStore::truncate_wal`), `CD_ENGINE_WAL_BOOKINGS` bookings are recorded (default
//!   20, so the WAL stays under SQLite's 1,000-page auto-checkpoint), and the frames are
//!   `(size of the -wal file - 32) / (page size + 24)`, the page size read from the WAL's
//!   header; for existing and for new customers, five times each, for existing customers
//!   by eight tasks at once (eight times the bookings), and for the floor; the last round's
//!   frames are also counted per B-tree (`dbstat`);
//! - with `CUSTOMER_DIRECTORY_POSTGRES_URL` set: criterion `postgres/record-existing`,
//!   `postgres/record-existing-on-worker` (the same loop as a task spawned on the runtime,
//!   as a host's request handler runs, rather than awaited on the bench's thread) and
//!   `postgres/record-existing-8-tasks`; `postgres-current-thread/record-existing` and
//!   `-8-tasks`, a second store on a current-thread Tokio runtime (its thread also polls
//!   the sockets, so no reply wakes another thread); then
//!   three measured phases of `CD_ENGINE_PG_BOOKINGS` bookings (default 3,000) reading the
//!   CPU time (utime + stime in `/proc/<pid>/stat`) of the server's processes before and
//!   after: the backends serving the store (found by the `application_name` the bench adds
//!   to the URL), every `postgres` process, and the bench's own process (the client); then,
//!   with `pgbench` on the PATH, three rounds in turn of such a phase on each runtime and
//!   the floor (`support::pg_floor`): `pgbench` on one connection sending the adapter's two
//!   statements of a booking, and the bare minimum of a booking (`SELECT 1` and a one-row
//!   insert committed), `CD_ENGINE_PG_FLOOR_SECONDS` each (default 6), with the server's
//!   CPU per booking of each; then
//!   `n_tup_upd` and `n_tup_hot_upd` of every `cd_` table from `pg_stat_user_tables`. The
//!   store's tables live in a schema of their own (`connect_with_schema`), dropped at the
//!   end. Statistics queries and the drop go through `psql`.
//!
//! At the end the bench prints each criterion function's mean over all the bookings it
//! timed and their ratios, all from the same run.
//!
//! ```text
//! CUSTOMER_DIRECTORY_POSTGRES_URL=postgres://directory:directory@localhost:5432/directory \
//!   cargo bench --features sqlite,postgres --bench storage_engine -- --warm-up-time 1 --measurement-time 5 --sample-size 10
//! ```

mod support;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use customer_directory::adapters::Durability;
use customer_directory::ports::store::{AccountStore, BulkReadStore, SearchStore};
use customer_directory::{Directory, DirectorySettings, NewBooking};
use customer_directory::{PostgresStore, SqliteStore, Store};
use support::floor::Floor;
use support::pg_floor::{FloorScript, PgFloor};
use support::{BookingProbes, Timed, env_number, load_typical_customers, record_all};
use tokio::runtime::Runtime;

/// Rounds of the WAL-frame count, each printed.
const WAL_ROUNDS: usize = 5;
/// Measured CPU phases on PostgreSQL, each printed.
const CPU_PHASES: usize = 3;

/// The booking probes with the count of bookings drawn from them so far.
struct Probes {
    probes: BookingProbes,
    next: usize,
}

impl Probes {
    fn new(n: usize) -> Self {
        Self {
            probes: BookingProbes::new(n),
            next: 0,
        }
    }

    /// `count` bookings, for existing customers or (with `new`) new ones.
    fn inputs(&mut self, count: u64, new: bool) -> Vec<(NewBooking, String)> {
        self.probes.inputs(count, new, &mut self.next, "E")
    }
}

/// How a bench awaits its recording loop.
#[derive(Clone, Copy)]
enum Awaited {
    /// On the bench's own thread (`block_on`): the runtime's worker wakes it for every
    /// database reply, one thread switch more per round trip.
    OnBenchThread,
    /// By a task spawned on the runtime, as a host's request handler runs.
    OnWorker,
    /// By this many tasks at once, each a share of the bookings, as a host serving
    /// several requests at a time: their commits queue on the one writer together.
    ByTasks(u64),
}

/// Criterion function `group/record-existing` (or `group/record-existing-on-worker`):
/// bookings for existing customers, one task.
fn bench_record<S: Store + AccountStore + SearchStore + BulkReadStore + Clone + 'static>(
    c: &mut Criterion,
    rt: &Runtime,
    group_name: &str,
    directory: &Directory<S>,
    probes: &mut Probes,
    timed: &Timed,
    awaited: Awaited,
) {
    let name = match awaited {
        Awaited::OnBenchThread => "record-existing".to_owned(),
        Awaited::OnWorker => "record-existing-on-worker".to_owned(),
        Awaited::ByTasks(tasks) => format!("record-existing-{tasks}-tasks"),
    };
    let id = format!("{group_name}/{name}");
    let mut group = c.benchmark_group(group_name);
    group.throughput(Throughput::Elements(1));
    group.bench_function(&name, |b| {
        b.iter_custom(|iters| {
            let inputs = probes.inputs(iters, false);
            let directory = directory.clone();
            let elapsed = match awaited {
                Awaited::OnBenchThread => rt.block_on(record_timed(directory, inputs)),
                Awaited::OnWorker => rt
                    .block_on(rt.spawn(record_timed(directory, inputs)))
                    .expect("the recording task"),
                Awaited::ByTasks(tasks) => rt.block_on(record_by_tasks(&directory, inputs, tasks)),
            };
            timed.add(&id, elapsed, iters);
            elapsed
        });
    });
    group.finish();
}

/// Records `inputs` one after another; answers the time it took.
async fn record_timed<S: Store + AccountStore + SearchStore + BulkReadStore + Clone + 'static>(
    directory: Directory<S>,
    inputs: Vec<(NewBooking, String)>,
) -> Duration {
    let started = Instant::now();
    record_all(&directory, inputs).await;
    started.elapsed()
}

/// Records `inputs` by `tasks` tasks spawned at once, each a contiguous share; answers the
/// time until the last is done.
async fn record_by_tasks<
    S: Store + AccountStore + SearchStore + BulkReadStore + Clone + 'static,
>(
    directory: &Directory<S>,
    mut inputs: Vec<(NewBooking, String)>,
    tasks: u64,
) -> Duration {
    let share = inputs
        .len()
        .div_ceil(usize::try_from(tasks.max(1)).unwrap_or(1))
        .max(1);
    let mut shares = Vec::new();
    while !inputs.is_empty() {
        let rest = inputs.split_off(share.min(inputs.len()));
        shares.push(std::mem::replace(&mut inputs, rest));
    }
    let started = Instant::now();
    let running: Vec<_> = shares
        .into_iter()
        .map(|share| {
            let directory = directory.clone();
            tokio::spawn(async move { record_all(&directory, share).await })
        })
        .collect();
    for task in running {
        task.await.expect("a recording task");
    }
    started.elapsed()
}

/// The `-wal` file beside a database file.
fn wal_path(db: &Path) -> PathBuf {
    let mut name = db.as_os_str().to_owned();
    name.push("-wal");
    PathBuf::from(name)
}

/// Frames in a WAL file: `(size - 32) / (page size + 24)`, the page size read from the
/// WAL header (bytes 8 to 11, big-endian). Zero for a missing or empty file.
fn wal_frames(wal: &Path) -> u64 {
    let Ok(bytes) = std::fs::read(wal) else {
        return 0;
    };
    if bytes.len() < 32 {
        return 0;
    }
    let page_size = u64::from(u32::from_be_bytes(
        bytes[8..12].try_into().expect("4 bytes"),
    ));
    let frame = page_size + 24;
    let body = bytes.len() as u64 - 32;
    assert_eq!(
        body % frame,
        0,
        "WAL of {} bytes is not whole frames of {page_size}-byte pages",
        bytes.len()
    );
    body / frame
}

/// Which B-tree each WAL frame belongs to: the page number in each frame's header, named
/// through SQLite's `dbstat` table (read on a connection of its own, which sees the WAL).
/// Frames and distinct pages per B-tree, most frames first.
fn wal_breakdown(db: &Path, wal: &Path) -> Vec<(String, u64, u64)> {
    let Ok(bytes) = std::fs::read(wal) else {
        return Vec::new();
    };
    if bytes.len() < 32 {
        return Vec::new();
    }
    let page_size = u32::from_be_bytes(bytes[8..12].try_into().expect("4 bytes")) as usize;
    let mut pages: Vec<u32> = Vec::new();
    let mut offset = 32;
    while offset + 24 + page_size <= bytes.len() {
        pages.push(u32::from_be_bytes(
            bytes[offset..offset + 4].try_into().expect("4 bytes"),
        ));
        offset += 24 + page_size;
    }
    let connection =
        rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .expect("open for dbstat");
    let names: HashMap<u32, String> = connection
        .prepare("SELECT pageno, name FROM dbstat")
        .and_then(|mut statement| {
            statement
                .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?
                .collect()
        })
        .expect("dbstat");
    let mut by_tree: BTreeMap<String, (u64, std::collections::BTreeSet<u32>)> = BTreeMap::new();
    for page in pages {
        let name = names
            .get(&page)
            .cloned()
            .unwrap_or_else(|| "(free list or header)".into());
        let entry = by_tree.entry(name).or_default();
        entry.0 += 1;
        entry.1.insert(page);
    }
    let mut rows: Vec<(String, u64, u64)> = by_tree
        .into_iter()
        .map(|(name, (frames, pages))| (name, frames, pages.len() as u64))
        .collect();
    rows.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    rows
}

fn print_breakdown(label: &str, what: &str, db: &Path, wal: &Path, bookings: u64) {
    let rows = wal_breakdown(db, wal);
    let listed = rows
        .iter()
        .map(|(name, frames, pages)| {
            format!(
                "{name} {:.2} ({pages} pages)",
                *frames as f64 / bookings as f64
            )
        })
        .collect::<Vec<_>>()
        .join(", ");
    println!("engine: {label}: WAL frames per booking by B-tree ({what}, last round): {listed}");
}

/// WAL frames per booking on `store`, for existing customers and for new ones, several
/// rounds each, printed. Outside any timing.
fn sqlite_wal_frames(
    rt: &Runtime,
    label: &str,
    store: &SqliteStore,
    directory: &Directory<SqliteStore>,
    db: &Path,
    probes: &mut Probes,
) {
    let n = env_number("CD_ENGINE_WAL_BOOKINGS", 20) as u64;
    let wal = wal_path(db);
    let kinds = [
        ("existing customer", false, 1),
        ("new customer", true, 1),
        ("existing customer, 8 tasks at once", false, 8),
    ];
    for (kind, new, tasks) in kinds {
        let mut per_round = Vec::new();
        // Eight tasks record eight times the bookings, so each task records `n`.
        let n = n * tasks;
        for round in 1..=WAL_ROUNDS {
            let inputs = probes.inputs(n, new);
            let frames = rt.block_on(async {
                store.truncate_wal().await.expect("truncate the WAL");
                let before = wal_frames(&wal);
                assert_eq!(before, 0, "the WAL is empty after truncate_wal");
                if tasks == 1 {
                    record_all(directory, inputs).await;
                } else {
                    record_by_tasks(directory, inputs, tasks).await;
                }
                wal_frames(&wal)
            });
            let per = frames as f64 / n as f64;
            per_round.push(per);
            println!(
                "engine: {label}: WAL frames per booking ({kind}), round {round}: {per:.2} ({frames} frames / {n} bookings)"
            );
            if round == WAL_ROUNDS {
                print_breakdown(label, kind, db, &wal, n);
            }
        }
        let mean = per_round.iter().sum::<f64>() / per_round.len() as f64;
        println!("engine: {label}: WAL frames per booking ({kind}), mean: {mean:.2}");
    }
}

/// Criterion function `group/floor`.
fn bench_floor(c: &mut Criterion, group_name: &str, floor: &mut Floor, timed: &Timed) {
    let id = format!("{group_name}/floor");
    let mut group = c.benchmark_group(group_name);
    group.throughput(Throughput::Elements(1));
    group.bench_function("floor", |b| {
        b.iter_custom(|iters| {
            let started = Instant::now();
            floor.records(iters);
            let elapsed = started.elapsed();
            timed.add(&id, elapsed, iters);
            elapsed
        });
    });
    group.finish();
}

/// Adapter and floor in turn, outside criterion: rounds of `CD_ENGINE_TURN_BOOKINGS`
/// bookings each (default 1,000), so both see the same load on a shared machine. Prints
/// each round's ratio adapter / floor.
fn sqlite_turns(
    rt: &Runtime,
    label: &str,
    directory: &Directory<SqliteStore>,
    floor: &mut Floor,
    probes: &mut Probes,
) {
    let n = env_number("CD_ENGINE_TURN_BOOKINGS", 1_000) as u64;
    let (mut adapter_total, mut floor_total) = (Duration::ZERO, Duration::ZERO);
    for round in 1..=5 {
        let inputs = probes.inputs(n, false);
        let adapter = rt.block_on(async {
            let started = Instant::now();
            record_all(directory, inputs).await;
            started.elapsed()
        });
        let started = Instant::now();
        floor.records(n);
        let bare = started.elapsed();
        adapter_total += adapter;
        floor_total += bare;
        let us = |d: Duration| d.as_secs_f64() * 1e6 / n as f64;
        println!(
            "engine: {label}: in turn, round {round}: adapter {:.1} µs ({:.0}/s), floor {:.1} µs ({:.0}/s) per booking, ratio adapter / floor {:.2}",
            us(adapter),
            1e6 / us(adapter),
            us(bare),
            1e6 / us(bare),
            adapter.as_secs_f64() / bare.as_secs_f64()
        );
    }
    println!(
        "engine: {label}: in turn, all rounds: ratio adapter / floor {:.2}",
        adapter_total.as_secs_f64() / floor_total.as_secs_f64()
    );
}

/// WAL frames per booking of the floor, several rounds, printed.
fn floor_wal_frames(label: &str, floor: &mut Floor) {
    let n = env_number("CD_ENGINE_WAL_BOOKINGS", 20) as u64;
    let wal = wal_path(&floor.path);
    let mut per_round = Vec::new();
    for round in 1..=WAL_ROUNDS {
        floor.truncate_wal();
        assert_eq!(wal_frames(&wal), 0, "the floor's WAL is empty");
        floor.records(n);
        let frames = wal_frames(&wal);
        let per = frames as f64 / n as f64;
        per_round.push(per);
        println!(
            "engine: {label}: WAL frames per booking (floor, existing customer), round {round}: {per:.2} ({frames} frames / {n} bookings)"
        );
        if round == WAL_ROUNDS {
            print_breakdown(label, "floor", &floor.path, &wal, n);
        }
    }
    let mean = per_round.iter().sum::<f64>() / per_round.len() as f64;
    println!("engine: {label}: WAL frames per booking (floor, existing customer), mean: {mean:.2}");
}

/// Clock ticks a second for `/proc/<pid>/stat` times.
fn clock_ticks() -> f64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|out| String::from_utf8(out.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(100.0)
}

/// utime + stime of a process, in clock ticks (all its threads).
fn cpu_ticks(pid: &str) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name is in parentheses and may hold spaces: count fields after it.
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // Fields 14 and 15 of the line; `rest` starts at field 3.
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(utime + stime)
}

/// Every PostgreSQL server process: its `comm` is `postgres`, or its command line starts
/// with `postgres` (backends rename themselves `postgres: user db ...`).
fn postgres_pids() -> Vec<String> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|entry| {
            let name = entry.ok()?.file_name().into_string().ok()?;
            name.bytes().all(|b| b.is_ascii_digit()).then_some(name)
        })
        .filter(|pid| {
            let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
            let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
            comm.trim() == "postgres" || cmdline.starts_with(b"postgres")
        })
        .collect()
}

fn snapshot(pids: &[String]) -> HashMap<String, u64> {
    pids.iter()
        .filter_map(|pid| Some((pid.clone(), cpu_ticks(pid)?)))
        .collect()
}

/// Ticks spent between two snapshots; a process new in `after` counts from zero.
fn spent(before: &HashMap<String, u64>, after: &HashMap<String, u64>) -> u64 {
    after
        .iter()
        .map(|(pid, ticks)| ticks.saturating_sub(before.get(pid).copied().unwrap_or(0)))
        .sum()
}

/// Runs one statement through `psql`, rows as lines of `|`-separated fields.
fn psql(url: &str, sql: &str) -> Result<String, String> {
    let out = Command::new("psql")
        .args([
            url,
            "-X",
            "-A",
            "-t",
            "-F",
            "|",
            "-v",
            "ON_ERROR_STOP=1",
            "-c",
            sql,
        ])
        .output()
        .map_err(|error| format!("running psql: {error}"))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

/// Drops the bench's schema when the PostgreSQL part ends, however it ends.
struct DropSchema<'a> {
    url: &'a str,
    schema: String,
}

impl Drop for DropSchema<'_> {
    fn drop(&mut self) {
        match psql(
            self.url,
            &format!("DROP SCHEMA IF EXISTS {} CASCADE", self.schema),
        ) {
            Ok(_) => eprintln!("postgres: schema {} dropped", self.schema),
            Err(error) => eprintln!("postgres: could not drop schema {}: {error}", self.schema),
        }
    }
}

/// `url` with `application_name` set, so the store's backends can be found.
fn with_application_name(url: &str, name: &str) -> String {
    let separator = if url.contains('?') { '&' } else { '?' };
    format!("{url}{separator}application_name={name}")
}

/// Measures phases of PostgreSQL bookings: their rate, the CPU time of the server's
/// processes (the store's backends, found by `application_name`, and every `postgres`
/// process) and of the bench's own process (the client), per booking.
struct PgPhases<'a> {
    url: &'a str,
    hz: f64,
    own: String,
    backends_query: String,
}

/// What one phase measured, per booking.
struct PgPhase {
    bookings: u64,
    seconds: f64,
    per_second: f64,
    server_all_us: f64,
    server_backends_us: f64,
    backends: usize,
    client_us: f64,
}

impl std::fmt::Display for PgPhase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} bookings in {:.2} s ({:.0} bookings/s); server CPU per booking: {:.1} µs all \
             postgres processes, {:.1} µs the store's backends ({}); client CPU per booking: {:.1} µs",
            self.bookings,
            self.seconds,
            self.per_second,
            self.server_all_us,
            self.server_backends_us,
            self.backends,
            self.client_us,
        )
    }
}

impl PgPhases<'_> {
    /// The store's backends now.
    fn backends(&self) -> Vec<String> {
        psql(self.url, &self.backends_query)
            .map(|rows| rows.lines().map(|l| l.trim().to_owned()).collect())
            .unwrap_or_default()
    }

    /// Runs `record` (which records `bookings` bookings) and measures it.
    fn measure(&self, record: impl FnOnce(), bookings: u64) -> PgPhase {
        let all = postgres_pids();
        let backends = self.backends();
        let (all_before, backends_before) = (snapshot(&all), snapshot(&backends));
        let client_before = cpu_ticks(&self.own).unwrap_or(0);
        let started = Instant::now();
        record();
        let wall = started.elapsed();
        let client = cpu_ticks(&self.own).unwrap_or(0) - client_before;
        // Backends the pool opened during the phase count too.
        let mut backends_after = self.backends();
        backends_after.extend(backends.iter().cloned());
        backends_after.sort();
        backends_after.dedup();
        let mut all_after = all.clone();
        all_after.extend(postgres_pids());
        all_after.sort();
        all_after.dedup();
        let us = |ticks: u64| ticks as f64 / self.hz * 1e6 / bookings as f64;
        PgPhase {
            bookings,
            seconds: wall.as_secs_f64(),
            per_second: bookings as f64 / wall.as_secs_f64(),
            server_all_us: us(spent(&all_before, &snapshot(&all_after))),
            server_backends_us: us(spent(&backends_before, &snapshot(&backends_after))),
            backends: backends_after.len(),
            client_us: us(client),
        }
    }
}

/// The PostgreSQL part; `dir` is the bench's directory of files (the floor's scripts).
fn bench_postgres(
    c: &mut Criterion,
    rt: &Runtime,
    url: &str,
    n: usize,
    dir: &Path,
    probes: &mut Probes,
    timed: &Timed,
) {
    let schema = format!("cd_engine_{}", std::process::id());
    let application = format!("cd_engine_bench_{}", std::process::id());
    let _drop = DropSchema {
        url,
        schema: schema.clone(),
    };
    let store = rt.block_on(async {
        let store =
            PostgresStore::connect_with_schema(&with_application_name(url, &application), &schema)
                .await
                .expect("connect");
        store.migrate().await.expect("migrate");
        let started = Instant::now();
        load_typical_customers(&store, n).await;
        eprintln!(
            "postgres: {n} customers loaded in {:.1} s",
            started.elapsed().as_secs_f64()
        );
        store
    });
    let directory = Directory::new(store, DirectorySettings::default());
    for awaited in [
        Awaited::OnBenchThread,
        Awaited::OnWorker,
        Awaited::ByTasks(8),
    ] {
        bench_record(c, rt, "postgres", &directory, probes, timed, awaited);
    }

    // Bookings on a current-thread runtime: its one thread also polls the sockets, so a
    // reply wakes no other thread. A host chooses its runtime; the store is the same.
    let current_thread = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("current-thread runtime");
    let on_current_thread = current_thread.block_on(async {
        PostgresStore::connect_with_schema(&with_application_name(url, &application), &schema)
            .await
            .expect("connect on the current-thread runtime")
    });
    let current_thread_store = on_current_thread.clone();
    let on_current_thread = Directory::new(on_current_thread, DirectorySettings::default());
    for awaited in [Awaited::OnBenchThread, Awaited::ByTasks(8)] {
        bench_record(
            c,
            &current_thread,
            "postgres-current-thread",
            &on_current_thread,
            probes,
            timed,
            awaited,
        );
    }

    // Server and client CPU per booking, outside criterion.
    let bookings = env_number("CD_ENGINE_PG_BOOKINGS", 3_000) as u64;
    let phases = PgPhases {
        url,
        hz: clock_ticks(),
        own: std::process::id().to_string(),
        backends_query: format!(
            "SELECT pid FROM pg_stat_activity WHERE application_name = '{application}' ORDER BY pid"
        ),
    };
    rt.block_on(record_all(&directory, probes.inputs(200, false)));
    for phase in 1..=CPU_PHASES {
        let spent = phases.measure(
            || rt.block_on(record_all(&directory, probes.inputs(bookings, false))),
            bookings,
        );
        println!("engine: postgres: CPU phase {phase}: {spent}");
    }

    // The adapter in turn with the floor (`support::pg_floor`): a phase of bookings on
    // each runtime, then `pgbench` with the adapter's statements and with the bare minimum.
    let floor_seconds = env_number("CD_ENGINE_PG_FLOOR_SECONDS", 6) as u64;
    if let Some(floor) = PgFloor::prepare(url, &schema, n, dir) {
        let floor_backend = || {
            let pid = psql(
                url,
                "SELECT pid FROM pg_stat_activity WHERE application_name = 'pgbench'",
            )
            .ok()?;
            cpu_ticks(pid.lines().next()?.trim())
        };
        for round in 1..=CPU_PHASES {
            let multi = phases.measure(
                || rt.block_on(record_all(&directory, probes.inputs(bookings, false))),
                bookings,
            );
            let single = phases.measure(
                || {
                    current_thread.block_on(record_all(
                        &on_current_thread,
                        probes.inputs(bookings, false),
                    ))
                },
                bookings,
            );
            let booking = floor.run(
                FloorScript::Booking,
                floor_seconds,
                floor_backend,
                phases.hz,
            );
            let bare = floor.run(FloorScript::Bare, floor_seconds, floor_backend, phases.hz);
            let (Some(booking), Some(bare)) = (booking, bare) else {
                eprintln!("postgres floor: round {round} failed");
                break;
            };
            println!(
                "engine: postgres: in turn, round {round}: adapter {multi}; adapter on a current-thread runtime {single}; \
                 floor (pgbench, the adapter's statements) {:.0} bookings/s, server CPU per booking {:.1} µs; \
                 bare minimum (pgbench, SELECT 1 and a one-row insert) {:.0}/s, server CPU {:.1} µs; \
                 adapter / floor, bookings a second: {:.2} (current-thread runtime {:.2})",
                booking.per_second,
                booking.server_us,
                bare.per_second,
                bare.server_us,
                multi.per_second / booking.per_second,
                single.per_second / booking.per_second,
            );
        }
    }
    drop(on_current_thread);
    current_thread.block_on(current_thread_store.close());

    // Statistics are flushed lazily: a backend that goes idle flushes them within ~10 s.
    std::thread::sleep(Duration::from_secs(11));
    let _ = psql(url, "SELECT pg_stat_force_next_flush()");
    match psql(
        url,
        &format!(
            "SELECT relname, n_tup_ins, n_tup_upd, n_tup_hot_upd, n_dead_tup FROM pg_stat_user_tables \
             WHERE schemaname = '{schema}' AND relname LIKE 'cd\\_%' ORDER BY relname"
        ),
    ) {
        Ok(rows) => {
            println!(
                "engine: postgres: table statistics (whole run): table, n_tup_ins, n_tup_upd, n_tup_hot_upd, n_dead_tup, HOT share"
            );
            for row in rows.lines().filter(|row| !row.trim().is_empty()) {
                let fields: Vec<&str> = row.split('|').collect();
                let upd: f64 = fields.get(2).and_then(|f| f.parse().ok()).unwrap_or(0.0);
                let hot: f64 = fields.get(3).and_then(|f| f.parse().ok()).unwrap_or(0.0);
                let share = if upd > 0.0 {
                    format!("{:.0} %", hot / upd * 100.0)
                } else {
                    "-".into()
                };
                println!("engine: postgres:   {}, {share}", fields.join(", "));
            }
        }
        Err(error) => eprintln!("postgres: table statistics unavailable: {error}"),
    }
}

/// The machine's load average, printed beside the figures (the machine may be shared).
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg").map_or_else(
        |_| "unknown".into(),
        |s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "),
    )
}

fn bench(c: &mut Criterion) {
    println!("engine: load average at the start: {}", load_average());
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let n = env_number("CD_ENGINE_CUSTOMERS", 10_000).max(1);
    let timed = Timed::default();
    let mut probes = Probes::new(n);
    let dir = std::env::temp_dir().join(format!("cd-engine-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let db = dir.join("engine.db");
    let url = format!("sqlite://{}", db.display());

    // SQLite, `synchronous = NORMAL`.
    let store = rt.block_on(async {
        let store = SqliteStore::connect(&url).await.expect("open");
        store.migrate().await.expect("migrate");
        let started = Instant::now();
        load_typical_customers(&store, n).await;
        eprintln!(
            "sqlite: {n} customers loaded in {:.1} s",
            started.elapsed().as_secs_f64()
        );
        store
    });
    let directory = Directory::new(store.clone(), DirectorySettings::default());
    // Bookings for the floor to replay; then the floor copies the file as it stands.
    rt.block_on(record_all(&directory, probes.inputs(500, false)));
    let mut floor = Floor::create(&db, &dir.join("floor.db"));
    floor.set_synchronous("NORMAL");
    for awaited in [
        Awaited::OnBenchThread,
        Awaited::ByTasks(8),
        Awaited::ByTasks(32),
    ] {
        bench_record(c, &rt, "sqlite", &directory, &mut probes, &timed, awaited);
    }
    bench_floor(c, "sqlite", &mut floor, &timed);
    sqlite_turns(&rt, "sqlite", &directory, &mut floor, &mut probes);
    sqlite_wal_frames(&rt, "sqlite", &store, &directory, &db, &mut probes);
    floor_wal_frames("sqlite", &mut floor);
    drop(directory);
    rt.block_on(store.close());

    // The same files with every commit synced (`synchronous = FULL`).
    let store = rt.block_on(async {
        SqliteStore::connect_with_durability(&url, Durability::Full)
            .await
            .expect("reopen with FULL")
    });
    floor.set_synchronous("FULL");
    let directory = Directory::new(store.clone(), DirectorySettings::default());
    for awaited in [Awaited::OnBenchThread, Awaited::ByTasks(8)] {
        bench_record(
            c,
            &rt,
            "sqlite-full",
            &directory,
            &mut probes,
            &timed,
            awaited,
        );
    }
    bench_floor(c, "sqlite-full", &mut floor, &timed);
    sqlite_turns(&rt, "sqlite-full", &directory, &mut floor, &mut probes);
    drop(directory);
    rt.block_on(store.close());
    drop(floor);

    match std::env::var("CUSTOMER_DIRECTORY_POSTGRES_URL") {
        Ok(pg) => bench_postgres(c, &rt, &pg, n, &dir, &mut probes, &timed),
        Err(_) => eprintln!("postgres: skipped; set CUSTOMER_DIRECTORY_POSTGRES_URL to run it"),
    }

    println!("engine: load average at the end: {}", load_average());
    timed.report("engine");
    let ratio = |a: &str, b: &str| Some(timed.mean_us(a)? / timed.mean_us(b)?);
    for (a, b) in [
        ("sqlite/record-existing", "sqlite/floor"),
        ("sqlite/record-existing-8-tasks", "sqlite/floor"),
        ("sqlite/record-existing-32-tasks", "sqlite/floor"),
        ("sqlite/record-existing", "sqlite/record-existing-8-tasks"),
        ("sqlite-full/record-existing-8-tasks", "sqlite-full/floor"),
        ("sqlite-full/record-existing", "sqlite-full/floor"),
        ("sqlite-full/record-existing", "sqlite/record-existing"),
        ("sqlite-full/floor", "sqlite/floor"),
        (
            "postgres/record-existing",
            "postgres/record-existing-8-tasks",
        ),
        (
            "postgres-current-thread/record-existing",
            "postgres/record-existing",
        ),
        (
            "postgres-current-thread/record-existing",
            "postgres-current-thread/record-existing-8-tasks",
        ),
    ] {
        if let Some(r) = ratio(a, b) {
            println!("engine: ratio {a} / {b} (time per booking, criterion's bookings): {r:.2}");
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(Duration::from_secs(3));
    targets = bench
}
criterion_main!(benches);
