//! How much memory a CSV export needs: builds a directory of N customers (default 100,000)
//! in memory, then exports it to a sink and reports the rise in peak resident memory
//! (VmHWM, Linux) during the export and the rows per second.
//!
//! ```text
//! cargo run --release --example export_memory -- 100000
//! ```
//!
//! A streamed export reads one page of customers at a time, so the rise stays flat as N
//! grows; compare N = 10,000 with N = 100,000.

use customer_directory::MemoryStore;
use customer_directory::reports::csv::CsvExportOptions;
use customer_directory::{
    Actor, BookingStatus, ContactForm, Currency, Directory, DirectorySettings, Money, NewBooking,
};

/// Peak resident set size of this process so far, in KiB (Linux only).
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let customers: usize = std::env::args().nth(1).map_or(Ok(100_000), |n| n.parse())?;
    let directory = Directory::new(MemoryStore::new(), DirectorySettings::default());
    let eur = Currency::parse("EUR")?;
    for n in 0..customers {
        let contact = ContactForm {
            given_name: format!("Guest{n}"),
            family_name: "Example".into(),
            email: format!("guest{n}@example.com"),
            city: "Lisbon".into(),
            ..ContactForm::default()
        }
        .parse(directory.settings())?;
        let booking = NewBooking::new(
            format!("M-{n}"),
            BookingStatus::PAID,
            contact,
            chrono::Utc::now(),
            Money::new(4_200, eur),
        );
        directory.record_booking(booking, &Actor::System).await?;
    }
    let before = peak_rss_kib();
    let started = std::time::Instant::now();
    let (_, rows) = directory
        .export_csv(std::io::sink(), &CsvExportOptions::default())
        .await?;
    let elapsed = started.elapsed();
    let after = peak_rss_kib();
    let rate = rows as f64 / elapsed.as_secs_f64();
    println!("customers: {customers}, rows exported: {rows}");
    println!(
        "export time: {:.2} s ({rate:.0} rows/s)",
        elapsed.as_secs_f64()
    );
    match (before, after) {
        (Some(before), Some(after)) => println!(
            "peak RSS before export: {before} KiB, after: {after} KiB, rise during export: {} KiB",
            after.saturating_sub(before)
        ),
        _ => println!("peak RSS: not available on this platform"),
    }
    Ok(())
}
