//! Moving a business's booking history from its previous system into a SQLite directory.
//!
//! ```text
//! cargo run --release --example import_history --features sqlite
//! cargo run --release --example import_history --features sqlite -- 250000   # more rows
//! ```
//!
//! Writes a CSV file of 100,000 bookings in the old system's shape (a European
//! spreadsheet's export: `Ref;State;Date;Amount;Cur;First;Last;E-mail;Tel`, decimal commas,
//! `DD.MM.YYYY HH:MM` in Lisbon's local time; repeat customers, cancellations and a few bad
//! rows) into a temporary folder, imports it into a new SQLite file in batches with
//! a progress bar, prints what the directory now holds, then imports the same file again
//! to show that nothing is recorded twice, and removes the folder.

use std::io::{BufWriter, Write};
use std::time::Instant;

use customer_directory::SqliteStore;
use customer_directory::ports::{SortBy, SortDirection};
use customer_directory::reports::booking_import::{
    BookingColumns, BookingFileFormat, DateOrder, DecimalSeparator, Tz,
};
use customer_directory::service::{BookingImport, BookingOutcome};
use customer_directory::{Actor, CustomerQuery, Directory, DirectorySettings};
use indicatif::{ProgressBar, ProgressStyle};

const STATES: [&str; 6] = [
    "Paid",
    "Paid",
    "Completed",
    "Cancelled",
    "Pending",
    "No-show",
];
const FIRST: [&str; 8] = ["Ana", "Bo", "Cy", "Dana", "Eli", "Femi", "Gus", "Hana"];
const LAST: [&str; 8] = [
    "Silva", "Berg", "Okafor", "Novak", "Lee", "Haddad", "Moreau", "Sato",
];

/// A small deterministic generator: the same file every run.
struct Dice(u64);

impl Dice {
    fn roll(&mut self, sides: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % sides
    }
}

/// Writes the old system's export: `rows` bookings by about a third as many customers.
fn write_history(path: &std::path::Path, rows: u64) -> std::io::Result<()> {
    let mut out = BufWriter::new(std::fs::File::create(path)?);
    writeln!(out, "Ref;State;Date;Amount;Cur;First;Last;E-mail;Tel")?;
    let mut dice = Dice(2016);
    let customers = rows / 3 + 1;
    for row in 0..rows {
        let customer = dice.roll(customers);
        let first = FIRST[(customer % 8) as usize];
        let last = LAST[(customer / 8 % 8) as usize];
        let state = STATES[dice.roll(6) as usize];
        let (year, month, day) = (2016 + dice.roll(9), 1 + dice.roll(12), 1 + dice.roll(28));
        let hour = 8 + dice.roll(10);
        let mut date = format!("{day:02}.{month:02}.{year} {hour:02}:00");
        let mut amount = format!("{},{:02}", 20 + dice.roll(300), dice.roll(100));
        let mut email = format!(
            "{}.{}{customer}@example.com",
            first.to_lowercase(),
            last.to_lowercase()
        );
        // About one row in a thousand is broken, as exports from old systems are.
        match dice.roll(1_000) {
            0 => date = format!("{year}-{month:02}-{day:02}"),
            1 => amount = format!("1.{amount}"),
            2 => email = format!("{first} at example dot com"),
            _ => {}
        }
        let phone = if customer % 3 == 0 {
            format!("+351 91{:07}", customer % 10_000_000)
        } else {
            String::new()
        };
        writeln!(
            out,
            "OLD-{row};{state};{date};{amount};EUR;{first};{last};{email};{phone}"
        )?;
    }
    out.flush()
}

/// The old system's headers, mapped to the directory's booking fields.
fn old_system_columns() -> BookingColumns {
    let mut columns = BookingColumns::default();
    columns.code = "Ref".into();
    columns.status = "State".into();
    columns.starts_at = "Date".into();
    columns.total = "Amount".into();
    columns.currency = Some("Cur".into());
    columns.given_name = Some("First".into());
    columns.family_name = Some("Last".into());
    columns.email = Some("E-mail".into());
    columns.phone = Some("Tel".into());
    columns
}

/// How the old system writes values: its spreadsheet's European settings, times local to
/// the business in Lisbon.
fn old_system_format() -> Result<BookingFileFormat, Box<dyn std::error::Error>> {
    Ok(BookingFileFormat::default()
        .with_delimiter(b';')
        .with_decimal_separator(DecimalSeparator::Comma)
        .with_date_order(DateOrder::DayMonthYear)
        .with_time_zone("Europe/Lisbon".parse::<Tz>()?))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let rows: u64 = std::env::args().nth(1).map_or(Ok(100_000), |n| n.parse())?;
    let folder = std::env::temp_dir().join(format!("import-history-{}", std::process::id()));
    std::fs::create_dir_all(&folder)?;
    let csv_path = folder.join("old-system-bookings.csv");
    let db_path = folder.join("directory.db");

    let started = Instant::now();
    write_history(&csv_path, rows)?;
    let bytes = std::fs::metadata(&csv_path)?.len();
    println!(
        "Wrote {rows} bookings ({:.1} MB) to {} in {:.2} s.",
        bytes as f64 / 1e6,
        csv_path.display(),
        started.elapsed().as_secs_f64()
    );

    let store = SqliteStore::connect(&format!("sqlite://{}", db_path.display())).await?;
    store.migrate().await?;
    let directory = Directory::new(store, DirectorySettings::default());
    let import = BookingImport::new(old_system_columns()).with_format(old_system_format()?);
    let actor = Actor::staff("migration");

    let bar = ProgressBar::new(rows);
    bar.set_style(ProgressStyle::with_template(
        "{elapsed_precise} [{bar:40}] {pos}/{len} rows ({per_sec}) {msg}",
    )?);
    let file = std::fs::File::open(&csv_path)?;
    let report = directory
        .import_bookings(
            std::io::BufReader::new(file),
            &import,
            |progress| {
                bar.set_position(progress.counts.rows);
                bar.set_message(format!(
                    "{} recorded, {} invalid",
                    progress.counts.recorded, progress.counts.invalid
                ));
            },
            &actor,
        )
        .await?;
    bar.finish();

    let counts = report.counts;
    println!(
        "\nImported in {:.2} s ({:.0} rows/s):",
        report.elapsed.as_secs_f64(),
        counts.rows as f64 / report.elapsed.as_secs_f64()
    );
    println!("  rows read         {:>8}", counts.rows);
    println!("  recorded          {:>8}", counts.recorded);
    println!("    new customers   {:>8}", counts.created_customers);
    println!("    attached        {:>8}", counts.attached);
    println!(
        "    unattributed    {:>8}  (cancelled or pending, and no profile yet)",
        counts.unattributed
    );
    println!("  already present   {:>8}", counts.already_present);
    println!("  invalid           {:>8}", counts.invalid);
    println!("  refused           {:>8}", counts.refused);
    for row in report.not_recorded.iter().take(5) {
        if let BookingOutcome::Invalid(problems) = &row.outcome {
            println!("  line {:>6} {}: {problems}", row.line, row.code);
        }
    }

    println!("\nThe directory now:");
    println!(
        "  customers         {:>8}",
        directory.count(&CustomerQuery::new()).await?
    );
    let busiest = CustomerQuery::new().sorted_by(SortBy::BookingCount, SortDirection::Descending);
    for customer in directory.search(&busiest, None, 3).await?.customers {
        let summary = directory.summary(customer.id).await?;
        let totals: Vec<String> = summary.totals.iter().map(|t| t.total.to_string()).collect();
        println!(
            "  {:<24} {:>3} bookings, {}",
            customer.profile.label(),
            summary.booking_count,
            totals.join(", ")
        );
    }

    // Running the same file again (after a crash, say) records nothing twice.
    let file = std::fs::File::open(&csv_path)?;
    let again = directory
        .import_bookings(std::io::BufReader::new(file), &import, |_| {}, &actor)
        .await?;
    println!(
        "\nThe same file again in {:.2} s: {} recorded, {} already present.",
        again.elapsed.as_secs_f64(),
        again.counts.recorded,
        again.counts.already_present
    );
    // The files are large (the SQLite file holds every booking and its indexes): tidy up.
    drop(directory);
    std::fs::remove_dir_all(&folder)?;
    println!("Removed {}.", folder.display());
    Ok(())
}
