//! A directory in PostgreSQL, shared by every process that connects to it.
//!
//! ```text
//! CUSTOMER_DIRECTORY_POSTGRES_URL=postgres://user:password@localhost/db \
//!     cargo run --example postgres --features postgres
//! ```

use customer_directory::PostgresStore;
use customer_directory::{
    Actor, BookingStatus, ContactForm, Currency, Directory, DirectorySettings, Money, NewBooking,
};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let Ok(url) = std::env::var("CUSTOMER_DIRECTORY_POSTGRES_URL") else {
        eprintln!(
            "Set CUSTOMER_DIRECTORY_POSTGRES_URL to a PostgreSQL URL, for example \
             postgres://user:password@localhost/directory"
        );
        std::process::exit(2);
    };
    // The directory's tables live in their own schema, beside the host's.
    let store = PostgresStore::connect_with_schema(&url, "customer_directory_example").await?;
    store.migrate().await?;
    let directory = Directory::new(store, DirectorySettings::default());

    let contact = ContactForm {
        given_name: "Bo".into(),
        email: "bo@example.com".into(),
        ..ContactForm::default()
    }
    .parse(directory.settings())?;
    let booking = NewBooking::new(
        format!("PG-{}", chrono::Utc::now().timestamp_millis()),
        BookingStatus::CONFIRMED,
        contact,
        chrono::Utc::now(),
        Money::new(12_000, Currency::parse("EUR")?),
    );
    let recorded = directory.record_booking(booking, &Actor::System).await?;
    let customer = recorded
        .outcome
        .customer()
        .ok_or("the booking was not attributed")?;
    let bookings = directory.customer_bookings(customer).await?;
    println!(
        "{} has {} booking(s) in the PostgreSQL directory.",
        directory.customer(customer).await?.profile.label(),
        bookings.len()
    );
    Ok(())
}
