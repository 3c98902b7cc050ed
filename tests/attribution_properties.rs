//! Property tests: whatever bookings arrive, in whatever order, attribution never loses a
//! booking, never attributes one twice and keeps one live customer per email key.

use std::collections::{HashMap, HashSet};

use chrono::{TimeZone, Utc};
use customer_directory::decisions::attribute;
use customer_directory::ports::FixedClock;
use customer_directory::ports::store::EmailLookup;
use customer_directory::records::{Attribution, BlockTarget};
use customer_directory::{
    Actor, Booking, BookingStatus, Currency, Customer, Directory, DirectorySettings, EmailAddress,
    Error, Money, NewBooking, PersonName, Profile,
};
use customer_directory::{MemoryStore, Store};
use proptest::prelude::*;

const EMAILS: [&str; 6] = [
    "ana@example.com",
    " ANA@Example.com",
    "bo@example.com",
    "cy@blocked.example",
    "dee@example.com",
    "",
];
const NAMES: [&str; 3] = ["Ana", "Bo", ""];

fn status() -> impl Strategy<Value = BookingStatus> {
    prop_oneof![
        Just(BookingStatus::PAID),
        Just(BookingStatus::CONFIRMED),
        Just(BookingStatus::PENDING),
        Just(BookingStatus::WAITING),
        Just(BookingStatus::CANCELLED),
        Just(BookingStatus::new("checked-in").unwrap()),
    ]
}

#[derive(Debug, Clone)]
enum Step {
    Record {
        email: usize,
        name: usize,
        status: BookingStatus,
    },
    /// Change the status of the n-th recorded booking (modulo how many exist).
    ChangeStatus { nth: usize, status: BookingStatus },
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        3 => (0..EMAILS.len(), 0..NAMES.len(), status())
            .prop_map(|(email, name, status)| Step::Record { email, name, status }),
        1 => (any::<usize>(), status()).prop_map(|(nth, status)| Step::ChangeStatus { nth, status }),
    ]
}

fn new_booking(n: usize, email: &str, name: &str, status: BookingStatus) -> NewBooking {
    let contact = Profile {
        email: (!email.is_empty()).then(|| EmailAddress::parse(email).unwrap()),
        given_name: (!name.is_empty()).then(|| PersonName::parse(name).unwrap()),
        ..Profile::default()
    };
    let start = Utc.with_ymd_and_hms(2026, 7, 1, 10, 0, 0).unwrap();
    NewBooking::new(
        format!("P-{n}"),
        status,
        contact,
        start,
        Money::new(10_00, Currency::parse("EUR").unwrap()),
    )
}

async fn run(steps: Vec<Step>) -> Result<(), TestCaseError> {
    let store = MemoryStore::new();
    let clock = FixedClock::new(Utc.with_ymd_and_hms(2026, 6, 1, 9, 0, 0).unwrap());
    let directory = Directory::with_clock(store.clone(), DirectorySettings::default(), clock);
    directory
        .add_to_blocklist(
            BlockTarget::domain("blocked.example").unwrap(),
            "test",
            &Actor::staff("desk"),
        )
        .await
        .unwrap();
    let mut recorded = Vec::new();
    for (n, step) in steps.into_iter().enumerate() {
        match step {
            Step::Record {
                email,
                name,
                status,
            } => {
                let result = directory
                    .record_booking(
                        new_booking(n, EMAILS[email], NAMES[name], status),
                        &Actor::System,
                    )
                    .await;
                match result {
                    Ok(done) => recorded.push(done.booking),
                    Err(Error::Blocked(_)) => prop_assert!(EMAILS[email].contains("blocked")),
                    Err(other) => return Err(TestCaseError::fail(format!("unexpected {other}"))),
                }
            }
            Step::ChangeStatus { nth, status } if !recorded.is_empty() => {
                let id = recorded[nth % recorded.len()];
                let outcome = directory
                    .change_booking_status(id, status, &Actor::staff("desk"))
                    .await
                    .unwrap();
                let stored = directory.booking(id).await.unwrap();
                prop_assert_eq!(outcome.customer(), stored.attribution.customer());
            }
            Step::ChangeStatus { .. } => {}
        }
    }

    // Every recorded booking is stored exactly once; nothing else is stored.
    let stored: Vec<Booking> = store.all_bookings();
    let stored_ids: HashSet<_> = stored.iter().map(|b| b.id).collect();
    prop_assert_eq!(stored_ids.len(), stored.len());
    prop_assert_eq!(
        &stored_ids,
        &recorded.iter().copied().collect::<HashSet<_>>()
    );

    // Each attributed booking is listed under its customer, and under no other.
    let customers: Vec<Customer> = store.all_customers();
    let mut listed = HashSet::new();
    for customer in &customers {
        for booking in store.customer_bookings(customer.id).await.unwrap() {
            prop_assert_eq!(booking.attribution.customer(), Some(customer.id));
            prop_assert!(listed.insert(booking.id), "booking listed twice");
        }
    }
    let attributed: HashSet<_> = stored
        .iter()
        .filter(|b| b.attribution != Attribution::Unattributed)
        .map(|b| b.id)
        .collect();
    prop_assert_eq!(listed, attributed);

    // One live customer per key, and the store's index agrees.
    let mut holders = HashMap::new();
    for customer in customers.iter().filter(|c| c.status.is_live()) {
        for key in customer.email_keys() {
            prop_assert!(
                holders.insert(key.clone(), customer.id).is_none(),
                "key {} held twice",
                key
            );
            let found = store
                .lookup_email(key)
                .await
                .unwrap()
                .customer
                .map(|c| c.id);
            prop_assert_eq!(found, Some(customer.id));
        }
    }

    // A locked, unblocked booking with an email always ends attributed.
    let settings = DirectorySettings::default();
    for booking in &stored {
        if booking.contact.email.is_some() && settings.is_locked(&booking.status) {
            prop_assert!(
                booking.attribution.customer().is_some(),
                "locked booking {} left unattributed",
                booking.code
            );
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn attribution_never_loses_or_duplicates_a_booking(steps in prop::collection::vec(step(), 1..40)) {
        let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
        runtime.block_on(run(steps))?;
    }

    /// The pure decision always saves exactly the booking it was given, attributed to the
    /// customer its outcome names.
    #[test]
    fn decision_saves_the_booking_it_was_given(email in 0..EMAILS.len(), name in 0..NAMES.len(), status in status(), known in any::<bool>()) {
        let now = Utc.with_ymd_and_hms(2026, 6, 1, 9, 0, 0).unwrap();
        let booking = Booking::from_new(new_booking(0, EMAILS[email], NAMES[name], status), now);
        let lookup = match (&booking.contact.email, known) {
            (Some(_), true) => EmailLookup::new(Some(std::sync::Arc::new(Customer { version: 1, ..Customer::new(booking.contact.clone(), now) })), None),
            _ => EmailLookup::default(),
        };
        let decision = attribute(booking.clone(), lookup, &DirectorySettings::default(), now);
        let saved = decision.changes.bookings();
        prop_assert_eq!(saved.len(), 1);
        prop_assert_eq!(saved[0].record.id, booking.id);
        prop_assert_eq!(&saved[0].record.contact, &booking.contact);
        prop_assert_eq!(saved[0].record.attribution.customer(), decision.outcome.customer());
    }
}
