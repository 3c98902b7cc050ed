//! Batches of bookings: `record_bookings` records what `record_booking` one by one would,
//! skips stored codes, reports refusals, and a failed batch stores nothing.

use std::collections::HashSet;

use crate::decisions::attribution::{AttributionOutcome, UnattributedReason};
use crate::limits::{BOOKING_BATCH_MAX, Input};
use crate::ports::store::Store;
use crate::records::audit::{Actor, AuditAction};
use crate::records::booking::{Attribution, NewBooking};
use crate::records::customer::BlockTarget;
use crate::records::profile::Detail;
use crate::service::directory::batch::BatchItem;
use crate::service::error::Error;
use crate::testing::FaultInjectingStore;
use crate::testing::conformance::fixtures::{booking, contact, directory};
use crate::values::booking_status::BookingStatus;
use crate::values::email::address::EmailAddress;

fn recorded(item: &BatchItem) -> &AttributionOutcome {
    match item {
        BatchItem::Recorded(recorded) => &recorded.outcome,
        other => panic!("expected a recorded booking, got {other:?}"),
    }
}

pub async fn a_batch_attributes_each_booking_against_the_ones_before_it<
    S: Store + Clone + 'static,
>(
    store: S,
) {
    let dir = directory(store.clone());
    let staff = Actor::staff("desk");
    dir.add_to_blocklist(
        BlockTarget::Address(
            EmailAddress::parse("banned@example.com")
                .unwrap()
                .key()
                .clone(),
        ),
        "chargebacks",
        &staff,
    )
    .await
    .unwrap();
    let mut phone_contact = contact("ana@example.com", "Ana", "Silva");
    phone_contact.phone = Some(crate::values::phone::Phone::parse("+351912345678", None).unwrap());
    let batch: Vec<NewBooking> = vec![
        // 0: creates Ana.
        booking(
            "B-0",
            BookingStatus::PAID,
            contact("ana@example.com", "Ana", ""),
        ),
        // 1: attaches, filling her family name and phone.
        booking("B-1", BookingStatus::CONFIRMED, phone_contact),
        // 2: another first name: related, listing the difference.
        booking(
            "B-2",
            BookingStatus::PAID,
            contact(" ANA@example.com", "Anna", ""),
        ),
        // 3: not locked: unattributed.
        booking(
            "B-3",
            BookingStatus::PENDING,
            contact("bo@example.com", "Bo", ""),
        ),
        // 4: blocked: refused, nothing stored.
        booking(
            "B-4",
            BookingStatus::PAID,
            contact("banned@example.com", "X", ""),
        ),
        // 5: no email.
        booking("B-5", BookingStatus::PAID, contact("", "Cy", "")),
        // 6: the code of booking 0 again: skipped.
        booking(
            "B-0",
            BookingStatus::PAID,
            contact("other@example.com", "Di", ""),
        ),
        // 7: an empty code: refused as invalid.
        booking(
            "",
            BookingStatus::PAID,
            contact("ana@example.com", "Ana", ""),
        ),
        // 8: Bo locks now: creates Bo (the earlier pending booking stays unattributed).
        booking(
            "B-8",
            BookingStatus::PAID,
            contact("bo@example.com", "Bo", ""),
        ),
    ];
    let report = dir.record_bookings(batch, &Actor::System).await.unwrap();
    assert_eq!(report.items.len(), 9);
    let AttributionOutcome::CreatedCustomer(ana) = *recorded(&report.items[0]) else {
        panic!("{:?}", report.items[0]);
    };
    assert_eq!(
        *recorded(&report.items[1]),
        AttributionOutcome::Attached {
            customer: ana,
            filled: vec![Detail::FamilyName, Detail::Phone],
            reactivated: false,
        }
    );
    assert_eq!(
        *recorded(&report.items[2]),
        AttributionOutcome::Related {
            customer: ana,
            differences: vec![Detail::GivenName],
        }
    );
    assert_eq!(
        *recorded(&report.items[3]),
        AttributionOutcome::Unattributed(UnattributedReason::NotLocked)
    );
    assert!(matches!(
        &report.items[4],
        BatchItem::Refused(Error::Blocked(_))
    ));
    assert_eq!(
        *recorded(&report.items[5]),
        AttributionOutcome::Unattributed(UnattributedReason::NoEmail)
    );
    assert!(matches!(&report.items[6], BatchItem::AlreadyStored { code } if code == "B-0"));
    assert!(matches!(
        &report.items[7],
        BatchItem::Refused(Error::InvalidBooking(_))
    ));
    let AttributionOutcome::CreatedCustomer(bo) = *recorded(&report.items[8]) else {
        panic!("{:?}", report.items[8]);
    };
    assert_eq!(
        (
            report.recorded().count(),
            report.already_stored(),
            report.refused()
        ),
        (6, 1, 2)
    );

    // The store holds what one-by-one commits would have left.
    let customer = dir.customer(ana).await.unwrap();
    assert_eq!(customer.version, 2, "created, then filled: two versions");
    assert_eq!(
        customer
            .profile
            .family_name
            .as_ref()
            .map(ToString::to_string),
        Some("Silva".to_owned())
    );
    assert!(customer.profile.phone.is_some());
    let bookings = dir.customer_bookings(ana).await.unwrap();
    assert_eq!(bookings.len(), 3);
    assert!(bookings.iter().any(|b| matches!(
        &b.attribution,
        Attribution::Related { differences, .. } if *differences == vec![Detail::GivenName]
    )));
    assert_eq!(dir.customer_bookings(bo).await.unwrap().len(), 1);
    let trail = dir.audit_trail(ana).await.unwrap();
    let recorded_events: Vec<_> = trail
        .iter()
        .filter(|event| event.action == AuditAction::BookingRecorded)
        .map(|event| event.booking)
        .collect();
    let expected: Vec<_> = report.items[..3]
        .iter()
        .map(|item| match item {
            BatchItem::Recorded(recorded) => Some(recorded.booking),
            _ => None,
        })
        .collect();
    assert_eq!(recorded_events, expected, "one event per booking, in order");
    // Nothing of the blocked booking was stored.
    assert!(
        dir.find_by_email("banned@example.com")
            .await
            .unwrap()
            .is_none()
    );
}

pub async fn a_batch_run_again_records_nothing_twice<S: Store + Clone + 'static>(store: S) {
    let dir = directory(store);
    let batch = |codes: std::ops::Range<usize>| -> Vec<NewBooking> {
        codes
            .map(|n| {
                booking(
                    &format!("H-{n}"),
                    BookingStatus::PAID,
                    contact(&format!("guest{}@example.com", n % 7), "Guest", ""),
                )
            })
            .collect()
    };
    let first = dir
        .record_bookings(batch(0..30), &Actor::System)
        .await
        .unwrap();
    assert_eq!(first.recorded().count(), 30);
    // Overlapping the first: only the new half is recorded.
    let second = dir
        .record_bookings(batch(15..45), &Actor::System)
        .await
        .unwrap();
    assert_eq!(
        (second.already_stored(), second.recorded().count()),
        (15, 15)
    );
    for (n, item) in (15..45).zip(&second.items) {
        assert_eq!(
            matches!(item, BatchItem::AlreadyStored { .. }),
            n < 30,
            "booking H-{n}"
        );
    }
    // Every guest has exactly its bookings, once each.
    let mut seen = HashSet::new();
    for guest in 0..7 {
        let customer = dir
            .find_by_email(&format!("guest{guest}@example.com"))
            .await
            .unwrap()
            .expect("a customer per guest");
        for booking in dir.customer_bookings(customer.id).await.unwrap() {
            assert!(
                seen.insert(booking.code.clone()),
                "{} stored twice",
                booking.code
            );
        }
    }
    assert_eq!(seen.len(), 45);
}

pub async fn a_batch_whose_commit_fails_stores_nothing_and_succeeds_when_run_again<
    S: Store + Clone + 'static,
>(
    store: S,
) {
    let faulty = FaultInjectingStore::new(store.clone());
    let dir = directory(faulty.clone());
    let batch: Vec<NewBooking> = (0..40)
        .map(|n| {
            booking(
                &format!("F-{n}"),
                BookingStatus::PAID,
                contact(&format!("guest{}@example.com", n % 5), "Guest", ""),
            )
        })
        .collect();
    faulty.fail_next_commits(1);
    let failed = dir.record_bookings(batch.clone(), &Actor::System).await;
    assert!(matches!(failed, Err(Error::Store(_))), "{failed:?}");
    let codes: Vec<String> = batch.iter().map(|b| b.code.clone()).collect();
    assert_eq!(
        store.booking_codes_stored(&codes).await.unwrap(),
        vec![false; codes.len()],
        "a failed batch stores no booking"
    );
    for guest in 0..5 {
        let key = EmailAddress::parse(&format!("guest{guest}@example.com")).unwrap();
        assert!(
            store
                .lookup_email(key.key())
                .await
                .unwrap()
                .customer
                .is_none()
        );
    }
    let report = dir.record_bookings(batch, &Actor::System).await.unwrap();
    assert_eq!(report.recorded().count(), 40);
    assert_eq!(
        store.booking_codes_stored(&codes).await.unwrap(),
        vec![true; codes.len()]
    );
}

pub async fn a_batch_over_its_limit_is_refused_before_the_store<S: Store + Clone + 'static>(
    store: S,
) {
    let faulty = FaultInjectingStore::new(store);
    faulty.log_commits();
    let dir = directory(faulty.clone());
    let one = booking(
        "L-1",
        BookingStatus::PAID,
        contact("a@example.com", "A", ""),
    );
    let refused = dir
        .record_bookings(vec![one; BOOKING_BATCH_MAX + 1], &Actor::System)
        .await;
    assert!(
        matches!(&refused, Err(Error::TooLong(too_long)) if too_long.input == Input::BookingBatch),
        "{refused:?}"
    );
    assert!(faulty.take_commits().is_empty());
    // An empty batch reads and writes nothing.
    let empty = dir
        .record_bookings(Vec::new(), &Actor::System)
        .await
        .unwrap();
    assert!(empty.items.is_empty());
    assert!(faulty.take_commits().is_empty());
}
