//! Failing and slow reads: every operation either succeeds or reports the failure as a
//! typed error, and the directory stays consistent; delays only slow things down.
#![cfg(feature = "testing")]

mod support;

use std::time::{Duration, Instant};

use customer_directory::MemoryStore;
use customer_directory::ports::store::StoreError;
use customer_directory::testing::{FaultInjectingStore, InjectedFault};
use customer_directory::{
    Actor, BookingStatus, ContactForm, Currency, Directory, DirectorySettings, Error, Money,
    NewBooking,
};

fn booking(n: usize, email: &str) -> NewBooking {
    let contact = ContactForm {
        email: email.into(),
        given_name: "Fay".into(),
        ..ContactForm::default()
    }
    .parse(&DirectorySettings::default())
    .unwrap();
    NewBooking::new(
        format!("FI-{n}"),
        BookingStatus::PAID,
        contact,
        chrono::Utc::now(),
        Money::new(100, Currency::parse("EUR").unwrap()),
    )
}

fn is_injected(error: &Error) -> bool {
    matches!(error, Error::Store(StoreError::Backend { source: Some(source), .. })
        if source.downcast_ref::<InjectedFault>().is_some())
}

#[tokio::test]
async fn failing_reads_give_typed_errors_and_a_consistent_directory() {
    let store = FaultInjectingStore::new(MemoryStore::new());
    let dir = Directory::new(store.clone(), DirectorySettings::default());
    store.fail_reads_at_rate(0.3, 7);
    let mut recorded = Vec::new();
    let mut failures = 0;
    for n in 0..200 {
        match dir
            .record_booking(
                booking(n, &format!("fay{}@example.com", n % 10)),
                &Actor::System,
            )
            .await
        {
            Ok(done) => recorded.push(done.booking),
            Err(error) => {
                assert!(is_injected(&error), "unexpected error: {error}");
                failures += 1;
            }
        }
    }
    assert!(failures > 20, "the plan failed reads ({failures})");
    assert!(store.failed_reads() >= failures);
    store.heal();
    assert_eq!(
        store.inner().all_bookings().len(),
        recorded.len(),
        "a failed read stored nothing"
    );
    support::check_invariants(&dir, &recorded).await.unwrap();
    // And a retry succeeds.
    dir.record_booking(booking(999, "fay0@example.com"), &Actor::System)
        .await
        .unwrap();
}

#[tokio::test]
async fn delays_slow_operations_down_without_changing_them() {
    let store = FaultInjectingStore::new(MemoryStore::new());
    let dir = Directory::new(store.clone(), DirectorySettings::default());
    store.delay_each(Duration::from_millis(5));
    let started = Instant::now();
    let done = dir
        .record_booking(booking(1, "slow@example.com"), &Actor::System)
        .await
        .unwrap();
    assert!(
        started.elapsed() >= Duration::from_millis(10),
        "a read and a commit, delayed"
    );
    assert!(done.outcome.customer().is_some());
}
