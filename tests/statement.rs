//! Statements: the bookings of a period with totals that match the bookings, rendered as
//! text, CSV and (feature `pdf`) a PDF that a standard tool reads back as text.

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use customer_directory::MemoryStore;
use customer_directory::ports::FixedClock;
use customer_directory::reports::statement::{Statement, StatementError};
use customer_directory::{
    Actor, BookingStatus, ContactForm, Currency, CustomerId, Directory, DirectorySettings, Error,
    Money, NewBooking,
};

fn at(day: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 5, day, 10, 0, 0).unwrap()
}

/// A customer with bookings on May 1..=9 (one cancelled, two currencies, one overpaid).
async fn setup() -> (Directory<MemoryStore, FixedClock>, CustomerId) {
    let clock = FixedClock::new(Utc.with_ymd_and_hms(2026, 6, 1, 0, 0, 0).unwrap());
    let dir = Directory::with_clock(MemoryStore::new(), DirectorySettings::default(), clock);
    let contact = ContactForm {
        given_name: "Zoë".into(),
        family_name: "Costa".into(),
        email: "zoe@example.com".into(),
        ..ContactForm::default()
    }
    .parse(dir.settings())
    .unwrap();
    let eur = Currency::parse("EUR").unwrap();
    let usd = Currency::parse("USD").unwrap();
    let bookings = [
        (
            1,
            "ST-101",
            BookingStatus::PAID,
            Money::new(12_000, eur),
            12_000,
        ),
        (
            3,
            "ST-102",
            BookingStatus::CONFIRMED,
            Money::new(8_050, eur),
            2_000,
        ),
        (
            4,
            "=ST-103",
            BookingStatus::CANCELLED,
            Money::new(50_000, eur),
            0,
        ),
        (
            6,
            "ST-104",
            BookingStatus::PAID,
            Money::new(3_000, usd),
            3_500,
        ),
        (9, "ST-105", BookingStatus::PAID, Money::new(9_999, eur), 0),
    ];
    let mut customer = None;
    for (day, code, status, total, paid) in bookings {
        let mut new = NewBooking::new(code, status, contact.clone(), at(day), total);
        new.paid = Money::new(paid, total.currency());
        let recorded = dir.record_booking(new, &Actor::System).await.unwrap();
        customer = customer.or(recorded.outcome.customer());
    }
    (dir, customer.unwrap())
}

async fn may_1_to_8(dir: &Directory<MemoryStore, FixedClock>, id: CustomerId) -> Statement {
    dir.statement(id, at(1) - TimeDelta::hours(10), at(8))
        .await
        .unwrap()
}

#[tokio::test]
async fn totals_match_the_bookings_of_the_period() {
    let (dir, id) = setup().await;
    let statement = may_1_to_8(&dir, id).await;
    let codes: Vec<&str> = statement.lines.iter().map(|l| l.code.as_str()).collect();
    assert_eq!(
        codes,
        ["ST-101", "ST-102", "=ST-103", "ST-104"],
        "May 9 is outside"
    );

    // The same sums, computed here straight from the stored bookings.
    let bookings = dir.customer_bookings(id).await.unwrap();
    for totals in &statement.totals {
        let counted = bookings.iter().filter(|b| {
            b.starts_at < at(8)
                && b.status != BookingStatus::CANCELLED
                && b.total.currency() == totals.currency
        });
        let (total, paid) = counted.fold((0, 0), |(t, p), b| {
            (t + b.total.minor_units(), p + b.paid.minor_units())
        });
        assert_eq!(totals.total.minor_units(), total, "{}", totals.currency);
        assert_eq!(totals.paid.minor_units(), paid);
        assert_eq!(totals.due.minor_units(), total - paid);
    }
    let currencies: Vec<&str> = statement
        .totals
        .iter()
        .map(|t| t.currency.as_str())
        .collect();
    assert_eq!(currencies, ["EUR", "USD"]);
    assert_eq!(
        statement.totals[0].total.minor_units(),
        20_050,
        "cancelled not totalled"
    );
    assert_eq!(statement.totals[1].due.minor_units(), -500, "overpaid");
}

#[tokio::test]
async fn text_and_csv_show_every_line_and_total() {
    let (dir, id) = setup().await;
    let statement = may_1_to_8(&dir, id).await;
    let text = statement.to_text();
    assert!(text.starts_with("Statement for Zoë Costa\n"));
    for code in ["ST-101", "ST-102", "=ST-103", "ST-104"] {
        assert!(text.contains(code), "{code} in\n{text}");
    }
    assert!(!text.contains("ST-105"));
    assert!(text.contains("200.50 EUR"), "EUR total in\n{text}");
    assert!(text.contains("* cancelled"));

    let csv = statement.write_csv(Vec::new()).unwrap();
    let rows: Vec<Vec<String>> = csv::Reader::from_reader(csv.as_slice())
        .records()
        .map(|r| r.unwrap().iter().map(str::to_owned).collect())
        .collect();
    assert_eq!(rows.len(), 4 + 2, "four bookings, two currency totals");
    assert_eq!(rows[2][1], "'=ST-103", "codes are neutralised");
    assert_eq!(rows[2][7], "no");
    let eur_sum: f64 = rows[..4]
        .iter()
        .filter(|r| r[3] == "EUR" && r[7] == "yes")
        .map(|r| r[4].parse::<f64>().unwrap())
        .sum();
    let eur_total_row = rows
        .iter()
        .find(|r| r[1] == "TOTAL" && r[3] == "EUR")
        .unwrap();
    assert!((eur_total_row[4].parse::<f64>().unwrap() - eur_sum).abs() < 1e-9);
    assert_eq!(
        rows.iter()
            .find(|r| r[1] == "TOTAL" && r[3] == "USD")
            .unwrap()[6],
        "-5.00"
    );
}

#[tokio::test]
async fn a_period_that_ends_before_it_starts_is_refused() {
    let (dir, id) = setup().await;
    let error = dir.statement(id, at(8), at(1)).await.unwrap_err();
    assert!(
        matches!(error, Error::Statement(StatementError::EmptyPeriod { .. })),
        "{error}"
    );
    let empty = dir.statement(id, at(20), at(20)).await.unwrap();
    assert!(empty.lines.is_empty() && empty.totals.is_empty());
    assert!(empty.to_text().contains("No bookings in this period."));
}

/// Reads the PDF back with `pdftotext` (poppler-utils), the standard command-line tool.
#[cfg(feature = "pdf")]
#[tokio::test]
async fn the_pdf_reads_back_as_text_with_codes_and_totals() {
    let (dir, id) = setup().await;
    let statement = may_1_to_8(&dir, id).await;
    let pdf = statement.to_pdf();
    assert!(pdf.starts_with(b"%PDF-"));

    let path = std::env::temp_dir().join(format!("statement-{}.pdf", CustomerId::new()));
    std::fs::write(&path, &pdf).unwrap();
    let output = std::process::Command::new("pdftotext")
        .args(["-layout", "-enc", "UTF-8"])
        .arg(&path)
        .arg("-")
        .output();
    let _ = std::fs::remove_file(&path);
    let output = match output {
        Ok(output) => output,
        Err(error) if std::env::var_os("CUSTOMER_DIRECTORY_REQUIRE_PDFTOTEXT").is_some() => {
            panic!("pdftotext is required but cannot run: {error}")
        }
        Err(error) => {
            eprintln!(
                "SKIPPED: pdftotext (Debian package poppler-utils) cannot run ({error}); \
                 set CUSTOMER_DIRECTORY_REQUIRE_PDFTOTEXT=1 to make this a failure"
            );
            return;
        }
    };
    assert!(output.status.success(), "pdftotext failed: {output:?}");
    let text = String::from_utf8(output.stdout).unwrap();
    for needle in [
        "Statement for Zoë Costa",
        "ST-101",
        "ST-102",
        "=ST-103",
        "ST-104",
        "200.50 EUR",
        "30.00 USD",
        "-5.00 USD",
    ] {
        assert!(text.contains(needle), "`{needle}` not found in:\n{text}");
    }
    assert!(!text.contains("ST-105"));
}

#[cfg(feature = "pdf")]
#[test]
fn long_statements_span_several_pages() {
    let customer = customer_directory::Customer::new(customer_directory::Profile::default(), at(1));
    let eur = Currency::parse("EUR").unwrap();
    let bookings: Vec<_> = (0..200)
        .map(|n| {
            let mut booking = customer_directory::Booking::from_new(
                NewBooking::new(
                    format!("LONG-{n}"),
                    BookingStatus::PAID,
                    customer.profile.clone(),
                    at(2),
                    Money::new(100, eur),
                ),
                at(1),
            );
            booking.attribution = customer_directory::records::Attribution::Primary(customer.id);
            booking
        })
        .collect();
    let statement = Statement::new(&customer, &bookings, at(1), at(3), at(3)).unwrap();
    assert_eq!(statement.totals[0].total.minor_units(), 200 * 100);
    let pdf = String::from_utf8_lossy(&statement.to_pdf()).into_owned();
    let pages = pdf.matches("/Type /Page").count() - pdf.matches("/Type /Pages").count();
    assert!(pages >= 3, "200 lines need several pages, found {pages}");
}
