//! A directory kept in a SQLite file that survives between runs.
//!
//! ```text
//! cargo run --example sqlite --features sqlite            # uses a file in the temp dir
//! cargo run --example sqlite --features sqlite -- my.db   # or the path given
//! ```
//!
//! Run it twice: the second run finds the customer the first one created.

use customer_directory::SqliteStore;
use customer_directory::ports::{SortBy, SortDirection};
use customer_directory::{
    Actor, AttributionOutcome, BookingStatus, ContactForm, Currency, CustomerQuery, Directory,
    DirectorySettings, Money, NewBooking,
};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args()
        .nth(1)
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join("customer-directory-example.db"));
    let store = SqliteStore::connect(&format!("sqlite://{}", path.display())).await?;
    store.migrate().await?;
    let directory = Directory::new(store, DirectorySettings::default());
    println!("Directory file: {}", path.display());

    match directory.find_by_email("ana.silva@example.com").await? {
        Some(ana) => println!(
            "Found {} from an earlier run (created {}), {} booking(s).",
            ana.profile.label(),
            ana.created_at.format("%Y-%m-%d %H:%M:%S UTC"),
            directory.customer_bookings(ana.id).await?.len()
        ),
        None => println!("No customer yet: this is the first run."),
    }

    let contact = ContactForm {
        given_name: "Ana".into(),
        family_name: "Silva".into(),
        email: " Ana.Silva@Example.com ".into(),
        ..ContactForm::default()
    }
    .parse(directory.settings())?;
    let run_code = format!("BK-{}", chrono::Utc::now().format("%H%M%S%3f"));
    let booking = NewBooking::new(
        run_code.as_str(),
        BookingStatus::PAID,
        contact,
        chrono::Utc::now(),
        Money::new(4_500, Currency::parse("EUR")?),
    );
    let recorded = directory.record_booking(booking, &Actor::System).await?;
    let what = match recorded.outcome {
        AttributionOutcome::CreatedCustomer(_) => "created her profile",
        AttributionOutcome::Attached { .. } => "was added to her existing profile",
        _ => "was recorded",
    };
    println!("Booking {run_code} {what}.");

    // The directory listing, searched and sorted in SQL: customers named like "silva", the
    // most bookings first, 20 to a page.
    let query = CustomerQuery::new()
        .text("silva")
        .sorted_by(SortBy::BookingCount, SortDirection::Descending);
    let page = directory.search(&query, None, 20).await?;
    for customer in &page.customers {
        let summary = directory.summary(customer.id).await?;
        println!(
            "Listed: {} with {} booking(s).",
            customer.profile.label(),
            summary.booking_count
        );
    }
    println!("Run the example again: the profile is still there.");
    Ok(())
}
