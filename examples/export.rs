//! Exports of the quickstart's directory: a CSV of every customer and PDF statements (one for
//! a guest with a season of bookings, as a business would send it).
//!
//! ```text
//! cargo run --example export --features pdf            # writes into the temp directory
//! cargo run --example export --features pdf -- out/    # or into the directory given
//! ```

#[path = "shared/kayak_day.rs"]
mod kayak_day;

use customer_directory::MemoryStore;
use customer_directory::records::BlockTarget;
use customer_directory::reports::csv::CsvExportOptions;
use customer_directory::settings::{BusinessDetails, StatementSettings};
use customer_directory::{
    Actor, BookingStatus, ContactForm, Currency, Directory, DirectorySettings, Money, NewBooking,
};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out = std::env::args()
        .nth(1)
        .map(std::path::PathBuf::from)
        .unwrap_or_else(std::env::temp_dir);
    std::fs::create_dir_all(&out)?;

    let mut settings = DirectorySettings::default();
    settings.default_phone_region = Some("GB".parse()?);
    let directory = Directory::new(MemoryStore::new(), settings);
    let staff = Actor::staff("desk");
    directory
        .add_to_blocklist(
            BlockTarget::domain("spam.example")?,
            "fake bookings",
            &staff,
        )
        .await?;
    let eur = Currency::parse("EUR")?;
    let start = chrono::Utc::now() - chrono::TimeDelta::days(14);
    for (n, (code, status, given, family, email, phone)) in
        kayak_day::BOOKINGS.into_iter().enumerate()
    {
        let contact = ContactForm {
            given_name: given.into(),
            family_name: family.into(),
            email: email.into(),
            phone: phone.into(),
            ..ContactForm::default()
        }
        .parse(directory.settings())?;
        let days = i64::try_from(n)?;
        let mut booking = NewBooking::new(
            code,
            BookingStatus::new(status)?,
            contact,
            start + chrono::TimeDelta::days(days),
            Money::new(6_500, eur),
        );
        booking.paid = Money::new(if n % 3 == 0 { 2_000 } else { 6_500 }, eur);
        // The blocked address is refused; everything else is recorded.
        let _ = directory.record_booking(booking, &Actor::System).await;
    }

    // Every customer, default columns, with a byte order mark for spreadsheet programs.
    let csv_path = out.join("customers.csv");
    let options = CsvExportOptions::default().with_byte_order_mark();
    let (file, rows) = directory
        .export_csv(std::fs::File::create(&csv_path)?, &options)
        .await?;
    file.sync_all()?;
    println!("{rows} customers written to {}", csv_path.display());
    for line in std::fs::read_to_string(&csv_path)?.lines().take(3) {
        println!("  {}", line.trim_start_matches('\u{feff}'));
    }

    // Ana's statement for the last 30 days, as text and as a PDF.
    let ana = directory
        .find_by_email("ana.silva@example.com")
        .await?
        .ok_or("Ana is in the directory")?;
    let now = chrono::Utc::now();
    let statement = directory
        .statement(ana.id, now - chrono::TimeDelta::days(30), now)
        .await?;
    println!("\n{}", statement.to_text());
    // Who the statements come from: the business's letterhead.
    let business = StatementSettings::new(
        BusinessDetails::new("Harbour Kayaks Ltd")
            .with_address(["1 Quay Street", "Falmouth TR11 3HH", "United Kingdom"])
            .with_contact([
                "+44 1326 000000 · hello@harbourkayaks.example",
                "VAT GB 123 4567 89",
            ]),
    );
    let pdf_path = out.join("statement-ana.pdf");
    std::fs::write(&pdf_path, statement.to_pdf(&business)?)?;
    println!("Statement PDF written to {}", pdf_path.display());

    // A guest from Łódź with a season of tours: a statement over several rows, in Polish.
    let lukasz = ContactForm {
        given_name: "Łukasz".into(),
        family_name: "Wróblewski".into(),
        email: "lukasz.wroblewski@example.pl".into(),
        address_line1: "ul. Piotrkowska 104".into(),
        postcode: "90-926".into(),
        city: "Łódź".into(),
        country: "PL".into(),
        ..ContactForm::default()
    }
    .parse(directory.settings())?;
    let season = [
        ("HK-2101", "paid", 6_500, 6_500),
        ("HK-2102", "paid", 12_000, 12_000),
        ("HK-2103", "confirmed", 8_500, 2_000),
        ("HK-2104", "cancelled", 6_500, 0),
        ("HK-2105", "confirmed", 14_900, 5_000),
        ("HK-2106", "paid", 4_250, 4_250),
        ("HK-2107", "confirmed", 9_900, 0),
    ];
    let gbp = Currency::parse("GBP")?;
    let mut lukasz_id = None;
    for (n, (code, status, total, paid)) in season.into_iter().enumerate() {
        let mut booking = NewBooking::new(
            code,
            BookingStatus::new(status)?,
            lukasz.clone(),
            start + chrono::TimeDelta::days(2 * i64::try_from(n)?),
            Money::new(total, gbp),
        );
        booking.paid = Money::new(paid, gbp);
        let recorded = directory.record_booking(booking, &Actor::System).await?;
        lukasz_id = lukasz_id.or(recorded.outcome.customer());
    }
    let lukasz_id = lukasz_id.ok_or("Łukasz's bookings made a customer")?;
    let statement = directory
        .statement(lukasz_id, now - chrono::TimeDelta::days(30), now)
        .await?;
    let pdf_path = out.join("statement-lukasz.pdf");
    std::fs::write(&pdf_path, statement.to_pdf(&business)?)?;
    println!("Statement PDF written to {}", pdf_path.display());
    Ok(())
}
