//! A day at a small kayak-tour business, on the in-memory store.
//!
//! Run with `cargo run --example quickstart`. Twelve bookings arrive: the same guest
//! typing her email three different ways, a spouse sharing an email, a pending booking
//! that is confirmed later, a walk-in without email, and a blocked address. The directory
//! ends with one profile per customer.
//!
//! With `RUST_LOG=customer_directory=debug cargo run --example quickstart` it also prints
//! the directory's tracing spans (one per use case, one per store call, with their ids,
//! outcomes and durations, never personal data) through a `tracing-subscriber`.

use customer_directory::MemoryStore;
use customer_directory::records::BlockTarget;
use customer_directory::{
    Actor, AttributionOutcome, BookingStatus, ContactForm, Currency, Directory, DirectorySettings,
    Error, Money, NewBooking,
};

#[path = "shared/kayak_day.rs"]
mod kayak_day;

type Demo = Result<(), Box<dyn std::error::Error>>;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Demo {
    // The host owns the subscriber; RUST_LOG chooses what it shows (nothing by default).
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("off")),
        )
        .with_span_events(tracing_subscriber::fmt::format::FmtSpan::CLOSE)
        .with_writer(std::io::stderr)
        .init();

    let mut settings = DirectorySettings::default();
    settings.default_phone_region = Some("GB".parse()?);
    let directory = Directory::new(MemoryStore::new(), settings);
    let eur = Currency::parse("EUR")?;

    directory
        .add_to_blocklist(
            BlockTarget::domain("spam.example")?,
            "fake bookings",
            &Actor::staff("desk"),
        )
        .await?;

    let day = kayak_day::BOOKINGS;

    println!("Recording {} bookings\n", day.len());
    let mut pending = None;
    for (code, status, given, family, email, phone) in day {
        let form = ContactForm {
            given_name: given.into(),
            family_name: family.into(),
            email: email.into(),
            phone: phone.into(),
            ..ContactForm::default()
        };
        let contact = form.parse(directory.settings())?;
        let who = contact.label();
        let booking = NewBooking::new(
            code,
            BookingStatus::new(status)?,
            contact,
            chrono::Utc::now(),
            Money::new(65_00, eur),
        );
        match directory.record_booking(booking, &Actor::System).await {
            Ok(recorded) => {
                println!(
                    "{code} {status:<10} {who:<28} -> {}",
                    describe(&recorded.outcome)
                );
                if code == "BK-105" {
                    pending = Some(recorded.booking);
                }
            }
            Err(Error::Blocked(entry)) => {
                println!(
                    "{code} {status:<10} {who:<28} -> refused: {} is blocked ({})",
                    entry.target, entry.reason
                );
            }
            Err(other) => return Err(other.into()),
        }
    }

    if let Some(booking) = pending {
        let outcome = directory
            .change_booking_status(booking, BookingStatus::CONFIRMED, &Actor::staff("desk"))
            .await?;
        println!(
            "\nBK-105 is confirmed later          -> {}",
            describe(&outcome)
        );
    }

    println!("\nThe directory at the end of the day:");
    let mut customers = directory.store().all_customers();
    customers.sort_by_key(|customer| customer.created_at);
    for customer in customers {
        let bookings = directory.customer_bookings(customer.id).await?;
        let email = customer
            .profile
            .email
            .as_ref()
            .map_or("-".to_owned(), ToString::to_string);
        println!(
            "  {:<16} {:<28} {} booking(s)",
            customer.profile.label(),
            email,
            bookings.len()
        );
        for booking in bookings {
            let review = match booking.attribution {
                customer_directory::records::Attribution::Related { differences, .. } => format!(
                    "  related, to review: {}",
                    differences
                        .iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                _ => String::new(),
            };
            println!(
                "      {} {:<10} by {}{review}",
                booking.code,
                booking.status,
                booking.contact.label()
            );
        }
    }
    let unattributed: Vec<String> = directory
        .store()
        .all_bookings()
        .into_iter()
        .filter(|booking| booking.attribution.customer().is_none())
        .map(|booking| format!("{} ({})", booking.code, booking.status))
        .collect();
    println!("  unattributed bookings: {}", unattributed.join(", "));
    Ok(())
}

fn describe(outcome: &AttributionOutcome) -> String {
    match outcome {
        AttributionOutcome::CreatedCustomer(_) => "new customer profile".into(),
        AttributionOutcome::Attached {
            filled,
            reactivated,
            ..
        } => {
            let mut text = "added to the existing profile".to_owned();
            if !filled.is_empty() {
                let list: Vec<String> = filled.iter().map(ToString::to_string).collect();
                text.push_str(&format!(", filled in {}", list.join(", ")));
            }
            if *reactivated {
                text.push_str(", profile reactivated");
            }
            text
        }
        AttributionOutcome::Related { differences, .. } => {
            let list: Vec<String> = differences.iter().map(ToString::to_string).collect();
            let verb = if list.len() == 1 { "differs" } else { "differ" };
            format!(
                "related booking, pending review ({} {verb})",
                list.join(", ")
            )
        }
        AttributionOutcome::Unattributed(reason) => format!("left unattributed: {reason}"),
        AttributionOutcome::AlreadyAttributed(_) => "already attributed".into(),
        AttributionOutcome::Blocked(entry) => format!("blocked: {}", entry.reason),
        _ => format!("{outcome:?}"),
    }
}
