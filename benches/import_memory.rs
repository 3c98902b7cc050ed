//! Memory while importing a long history (issue 19): `Directory::import_bookings` of
//! `CD_IMPORT_ROWS` rows (default 1,000,000) into a SQLite file, in batches of 1,000, the
//! CSV generated row by row as it is read (no file, nothing held in memory).
//!
//! After every 100,000 rows the bench prints the process's resident memory from
//! `/proc/self/status`: `RssAnon` (the heap: what the import itself holds) and `RssFile`
//! (pages of the database file mapped by SQLite's memory map, which the kernel reclaims at
//! will), and at the end the peak resident memory (`VmHWM`) and its rise over the peak
//! before the import started. Memory stays flat when `RssAnon` stops growing once the
//! caches are warm, whatever the number of rows.
//!
//! ```text
//! cargo bench --features sqlite --bench import_memory
//! ```

use std::io::Read;
use std::time::Instant;

use customer_directory::service::BookingImport;
use customer_directory::{Actor, Directory, DirectorySettings, SqliteStore};

/// A CSV history of `rows` bookings, generated as it is read.
struct History {
    rows: usize,
    next: usize,
    line: Vec<u8>,
    at: usize,
    random: u64,
}

impl History {
    fn new(rows: usize) -> Self {
        Self {
            rows,
            next: 0,
            line: b"code,status,starts_at,total,paid,currency,given_name,family_name,email,phone\n"
                .to_vec(),
            at: 0,
            random: 0x9E37_79B9_7F4A_7C15,
        }
    }

    fn below(&mut self, n: u64) -> u64 {
        self.random ^= self.random << 13;
        self.random ^= self.random >> 7;
        self.random ^= self.random << 17;
        self.random % n
    }

    /// The next row into `line`, or `false` at the end.
    fn fill(&mut self) -> bool {
        if self.next == self.rows {
            return false;
        }
        let row = self.next;
        self.next += 1;
        // About three bookings per guest over the history.
        let guest = self.below(self.rows as u64 / 3 + 1);
        let status = ["paid", "completed", "cancelled", "confirmed"][self.below(4) as usize];
        let given = ["Ana", "Bea", "Cy", "Dee", "Eli"][(guest % 5) as usize];
        self.line = format!(
            "OLD-{row:07},{status},{}-{:02}-{:02},{}.50,0.00,EUR,{given},Guest{guest},guest{guest}@example.org,\n",
            2010 + self.below(16),
            1 + self.below(12),
            1 + self.below(28),
            10 + self.below(400)
        )
        .into_bytes();
        self.at = 0;
        true
    }
}

impl Read for History {
    fn read(&mut self, buffer: &mut [u8]) -> std::io::Result<usize> {
        if self.at == self.line.len() && !self.fill() {
            return Ok(0);
        }
        let n = buffer.len().min(self.line.len() - self.at);
        buffer[..n].copy_from_slice(&self.line[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

/// A field of `/proc/self/status`, in KiB.
fn status_kib(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| {
            let rest = line.strip_prefix(field)?.strip_prefix(':')?;
            rest.trim().trim_end_matches("kB").trim().parse().ok()
        })
        .unwrap_or(0)
}

fn main() {
    // `cargo bench` passes `--bench`; nothing else is read from the command line.
    let rows: usize = std::env::var("CD_IMPORT_ROWS")
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(1_000_000);
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let dir = std::env::temp_dir().join(format!("cd-import-memory-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("bench directory");
    let url = format!("sqlite://{}", dir.join("history.db").display());
    runtime.block_on(async {
        let store = SqliteStore::connect(&url).await.expect("open");
        store.migrate().await.expect("migrate");
        let directory = Directory::new(store.clone(), DirectorySettings::default());
        let peak_before = status_kib("VmHWM");
        println!(
            "import: before: RssAnon {} KiB, RssFile {} KiB, VmHWM {peak_before} KiB",
            status_kib("RssAnon"),
            status_kib("RssFile")
        );
        let started = Instant::now();
        let mut next_report = 100_000;
        let report = directory
            .import_bookings(
                History::new(rows),
                &BookingImport::default(),
                |progress| {
                    let read = progress.counts.rows;
                    if read >= next_report {
                        next_report += 100_000;
                        println!(
                            "import: {read} rows ({} recorded) in {:.1} s: RssAnon {} KiB, RssFile {} KiB",
                            progress.counts.recorded,
                            progress.elapsed.as_secs_f64(),
                            status_kib("RssAnon"),
                            status_kib("RssFile")
                        );
                    }
                },
                &Actor::staff("import"),
            )
            .await
            .expect("import");
        let elapsed = started.elapsed();
        let peak_after = status_kib("VmHWM");
        println!(
            "import: {} rows, {} recorded in {:.1} s ({:.0} rows/s); peak resident memory {peak_after} KiB, \
             a rise of {} KiB over the {peak_before} KiB before the import",
            report.counts.rows,
            report.counts.recorded,
            elapsed.as_secs_f64(),
            report.counts.rows as f64 / elapsed.as_secs_f64(),
            peak_after.saturating_sub(peak_before)
        );
        store.close().await;
    });
    let _ = std::fs::remove_dir_all(&dir);
}
