//! What recording a booking costs `PostgresStore` on the wire, counted by a proxy between the
//! store and the server: one statement to read (the email lookup) and one to commit, for an
//! existing customer, a related booking and a new customer alike, and two round trips: the
//! store keeps its connections between operations, so the pool's check of each connection
//! handed back (a round trip of its own) is not paid.
#![cfg(feature = "postgres")]

#[path = "support/round_trips.rs"]
mod round_trips;
mod support;

use std::time::Duration;

use customer_directory::PostgresStore;
use customer_directory::{
    Actor, AttributionOutcome, BookingStatus, Currency, CustomerId, Directory, DirectorySettings,
    EmailAddress, Money, NewBooking, PersonName, Profile,
};

fn booking(code: &str, email: &str, name: &str) -> NewBooking {
    NewBooking::new(
        code,
        BookingStatus::PAID,
        Profile {
            given_name: Some(PersonName::parse(name).unwrap()),
            email: Some(EmailAddress::parse(email).unwrap()),
            ..Profile::default()
        },
        chrono::Utc::now(),
        Money::new(30_00, Currency::parse("EUR").unwrap()),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recording_a_booking_is_one_read_and_one_commit_statement() {
    let Some(url) = support::postgres_url("round-trip test") else {
        return;
    };
    let schema = format!("cd_trips_{}", CustomerId::new().as_uuid().simple());
    let direct = PostgresStore::connect_with_schema(&url, &schema)
        .await
        .unwrap();
    direct.migrate().await.unwrap();
    let proxy = round_trips::CountingProxy::start(&url).await;
    let store = PostgresStore::connect_with_schema(&proxy.url, &schema)
        .await
        .unwrap();
    let directory = Directory::new(store.clone(), DirectorySettings::default());
    let staff = Actor::System;
    // Ana exists; each connection of the pool has prepared its statements.
    for n in 0..4 {
        directory
            .record_booking(
                booking(&format!("W-{n}"), &format!("warm{n}@example.com"), "Warm"),
                &staff,
            )
            .await
            .unwrap();
    }
    directory
        .record_booking(booking("A-0", "ana@example.com", "Ana"), &staff)
        .await
        .unwrap();

    let counts = &proxy.counts;
    // The pool checks a connection handed back to it in the background: let any such
    // check land (until the proxy has seen nothing new for 200 ms, however loaded the
    // machine is) before counting, between the bookings, and after, so the count holds it.
    let settle = || async {
        let mut seen = counts.round_trips();
        for _ in 0..50 {
            tokio::time::sleep(Duration::from_millis(200)).await;
            let now = counts.round_trips();
            if now == seen {
                break;
            }
            seen = now;
        }
    };
    // The first round prepares each statement on the connection (one more round trip the
    // first time a statement's text is seen); the second is counted.
    for round in 0..2 {
        let cases = [
            (
                "existing customer",
                booking(&format!("A-{round}"), "ana@example.com", "Ana"),
            ),
            (
                "related booking",
                booking(&format!("R-{round}"), "ana@example.com", "Anabela"),
            ),
            (
                "new customer",
                booking(
                    &format!("N-{round}"),
                    &format!("new{round}@example.com"),
                    "Bo",
                ),
            ),
        ];
        settle().await;
        let trips_before = counts.round_trips();
        for (case, new) in cases {
            settle().await;
            let before = counts.statements();
            let recorded = directory.record_booking(new, &staff).await.unwrap();
            assert!(
                !matches!(recorded.outcome, AttributionOutcome::Unattributed(_)),
                "{case}"
            );
            assert_eq!(
                counts.statements() - before,
                2,
                "{case}: one read and one commit statement"
            );
        }
        settle().await;
        let trips = counts.round_trips() - trips_before;
        assert!(
            trips >= 3 * 2,
            "{trips} round trips: the proxy saw the bookings"
        );
        if round == 1 {
            assert_eq!(trips, 3 * 2, "round trips for three bookings");
        }
    }

    store.close().await;
    customer_directory::adapters::sqlx::query(&format!("DROP SCHEMA {schema} CASCADE"))
        .execute(direct.pool())
        .await
        .unwrap();
}
