//! Rendering a 300-booking statement as a PDF: letterhead, a ruled table over several pages
//! with its header repeated, totals in three currencies, embedded and subset DejaVu Sans,
//! tags and metadata. This is what a host pays each time a customer or an accountant asks
//! for a statement.
//!
//! ```text
//! cargo bench --bench statement --features pdf
//! ```

use std::hint::black_box;
use std::time::Duration;

use chrono::{TimeDelta, TimeZone, Utc};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use customer_directory::records::Attribution;
use customer_directory::reports::statement::Statement;
use customer_directory::settings::{BusinessDetails, StatementSettings};
use customer_directory::{
    Booking, BookingStatus, ContactForm, Currency, Customer, DirectorySettings, Money, NewBooking,
};

const BOOKINGS: usize = 300;

/// A customer named in Polish with 300 bookings in EUR, JPY and KWD, some cancelled.
fn statement() -> Statement {
    let at = Utc
        .with_ymd_and_hms(2026, 5, 1, 9, 0, 0)
        .single()
        .expect("a date");
    let contact = ContactForm {
        given_name: "Łukasz".into(),
        family_name: "Wróblewski".into(),
        address_line1: "ul. Piotrkowska 104".into(),
        city: "Łódź".into(),
        ..ContactForm::default()
    }
    .parse(&DirectorySettings::default())
    .expect("a valid contact");
    let customer = Customer::new(contact.clone(), at);
    let currencies = ["EUR", "JPY", "KWD"].map(|code| Currency::parse(code).expect("ISO 4217"));
    let bookings: Vec<Booking> = (0..BOOKINGS)
        .map(|n| {
            let minor = i64::try_from(n).expect("small");
            let currency = currencies[n % 3];
            let status = if n % 17 == 0 {
                BookingStatus::CANCELLED
            } else {
                BookingStatus::PAID
            };
            let mut new = NewBooking::new(
                format!("HK-{n:04}"),
                status,
                contact.clone(),
                at + TimeDelta::hours(minor * 2),
                Money::new(6_500 + minor * 37, currency),
            );
            new.paid = Money::new(minor * 11, currency);
            let mut booking = Booking::from_new(new, at);
            booking.attribution = Attribution::Primary(customer.id);
            booking
        })
        .collect();
    Statement::new(
        &customer,
        &bookings,
        at,
        at + TimeDelta::days(60),
        at + TimeDelta::days(60),
    )
    .expect("a statement")
}

fn bench(c: &mut Criterion) {
    let statement = statement();
    let settings = StatementSettings::new(
        BusinessDetails::new("Harbour Kayaks Ltd")
            .with_address(["1 Quay Street", "Falmouth TR11 3HH", "United Kingdom"])
            .with_contact(["+44 1326 000000", "hello@harbourkayaks.example"]),
    );
    let bytes = statement.to_pdf(&settings).expect("renders").len();
    eprintln!("statement/pdf/300: {bytes} bytes");
    let mut group = c.benchmark_group("statement");
    group.throughput(Throughput::Elements(BOOKINGS as u64));
    group.measurement_time(Duration::from_secs(5));
    group.bench_function("pdf/300", |b| {
        b.iter(|| black_box(statement.to_pdf(black_box(&settings)).expect("renders")));
    });
    group.bench_function("text/300", |b| {
        b.iter(|| black_box(statement.to_text()));
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
