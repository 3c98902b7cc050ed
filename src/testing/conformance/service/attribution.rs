//! How a booking is attributed: blocklist, matching keys, differing details, locked
//! statuses, archived and redacted customers, concurrency.

use std::collections::{HashMap, HashSet};

use crate::decisions::attribution::{AttributionOutcome, UnattributedReason};
use crate::ports::store::Store;
use crate::ports::store::changes::ChangeSet;
use crate::records::audit::Actor;
use crate::records::booking::Attribution;
use crate::records::customer::{BlockTarget, Customer, CustomerStatus};
use crate::records::profile::{Detail, PostalAddress};
use crate::service::error::Error;
use crate::settings::DirectorySettings;
use crate::values::booking_status::BookingStatus;
use crate::values::email::address::EmailAddress;
use crate::values::money::{Currency, Money};
use crate::values::phone::Phone;
use crate::values::text::Text;

use crate::testing::conformance::fixtures::{
    booking, contact, customer_of, directory, directory_with, name, record, save_customer, t0,
};

// ---------------------------------------------------------------------------------------
// Attribution: one scenario per row and rule of the attribution table (crate docs, README)

pub async fn blocked_address_refuses_booking_and_changes_nothing<S: Store + Clone + 'static>(
    store: S,
) {
    let dir = directory(store.clone());
    let (_, outcome) = record(
        &dir,
        booking(
            "B-0",
            BookingStatus::PAID,
            contact("bad@example.com", "Bad", "Actor"),
        ),
    )
    .await;
    let customer = dir.customer(customer_of(&outcome)).await.unwrap();
    let key = EmailAddress::parse("bad@example.com")
        .unwrap()
        .key()
        .clone();
    dir.add_to_blocklist(
        BlockTarget::Address(key),
        "chargebacks",
        &Actor::staff("desk"),
    )
    .await
    .unwrap();
    let result = dir
        .record_booking(
            booking(
                "B-1",
                BookingStatus::PAID,
                contact(" BAD@example.com", "Bad", "Actor"),
            ),
            &Actor::System,
        )
        .await;
    match result {
        Err(Error::Blocked(entry)) => assert_eq!(entry.reason, "chargebacks"),
        other => panic!("expected Blocked, got {other:?}"),
    }
    assert_eq!(
        dir.customer(customer.id).await.unwrap(),
        customer,
        "customer unchanged"
    );
    assert_eq!(
        dir.customer_bookings(customer.id).await.unwrap().len(),
        1,
        "no booking stored"
    );
}

pub async fn blocked_domain_refuses_booking<S: Store + Clone + 'static>(store: S) {
    let dir = directory(store.clone());
    dir.add_to_blocklist(
        BlockTarget::domain("spam.example").unwrap(),
        "spam",
        &Actor::staff("desk"),
    )
    .await
    .unwrap();
    let result = dir
        .record_booking(
            booking(
                "D-1",
                BookingStatus::PAID,
                contact("new@Spam.Example", "N", ""),
            ),
            &Actor::System,
        )
        .await;
    assert!(matches!(result, Err(Error::Blocked(_))), "{result:?}");
    assert!(
        dir.find_by_email("new@spam.example")
            .await
            .unwrap()
            .is_none(),
        "no profile created"
    );
}

pub async fn blocked_customer_refuses_booking<S: Store + Clone + 'static>(store: S) {
    let mut blocked = Customer::new(contact("held@example.com", "H", ""), t0());
    blocked.status = CustomerStatus::Blocked;
    let blocked = save_customer(&store, blocked).await;
    let dir = directory(store.clone());
    let result = dir
        .record_booking(
            booking(
                "H-1",
                BookingStatus::PAID,
                contact("held@example.com", "H", ""),
            ),
            &Actor::System,
        )
        .await;
    assert!(matches!(result, Err(Error::Blocked(_))), "{result:?}");
    assert!(dir.customer_bookings(blocked.id).await.unwrap().is_empty());
    assert_eq!(dir.customer(blocked.id).await.unwrap(), blocked);
}

pub async fn matching_details_attach_as_primary_across_case_and_whitespace<
    S: Store + Clone + 'static,
>(
    store: S,
) {
    let dir = directory(store.clone());
    let (_, first) = record(
        &dir,
        booking(
            "P-1",
            BookingStatus::PAID,
            contact("ana@example.com", "Ana", "Silva"),
        ),
    )
    .await;
    let customer = customer_of(&first);
    for (code, email, given) in [
        ("P-2", "  ANA@Example.COM ", "ana"),
        ("P-3", "Ana@example.com", "ANA "),
    ] {
        let (id, outcome) = record(
            &dir,
            booking(
                code,
                BookingStatus::CONFIRMED,
                contact(email, given, "SILVA"),
            ),
        )
        .await;
        assert_eq!(
            outcome,
            AttributionOutcome::Attached {
                customer,
                filled: vec![],
                reactivated: false
            }
        );
        assert_eq!(
            dir.booking(id).await.unwrap().attribution,
            Attribution::Primary(customer)
        );
    }
    assert_eq!(dir.customer_bookings(customer).await.unwrap().len(), 3);
    let snapshot = dir.customer_bookings(customer).await.unwrap();
    assert!(
        snapshot
            .iter()
            .any(|b| b.contact.email.as_ref().unwrap().as_str() == "ANA@Example.COM"),
        "snapshot kept as entered"
    );
}

pub async fn differing_details_attach_as_related_listing_each_difference<
    S: Store + Clone + 'static,
>(
    store: S,
) {
    let dir = directory(store.clone());
    let mut on_file = contact("fam@example.com", "Ana", "Silva");
    on_file.phone = Some(Phone::parse("+44 20 7946 0958", None).unwrap());
    on_file.address = PostalAddress {
        postcode: Some(Text::parse("SW1A 1AA").unwrap()),
        ..PostalAddress::default()
    };
    let (_, first) = record(&dir, booking("R-1", BookingStatus::PAID, on_file)).await;
    let customer = customer_of(&first);
    let before = dir.customer(customer).await.unwrap();
    let mut spouse = contact("FAM@example.com", "Rui", "Silva");
    spouse.phone = Some(Phone::parse("+44 20 7946 0000", None).unwrap());
    spouse.address = PostalAddress {
        postcode: Some(Text::parse("sw1a 1aa").unwrap()),
        ..PostalAddress::default()
    };
    let (id, outcome) = record(&dir, booking("R-2", BookingStatus::PAID, spouse)).await;
    let differences = vec![Detail::GivenName, Detail::Phone];
    assert_eq!(
        outcome,
        AttributionOutcome::Related {
            customer,
            differences: differences.clone()
        }
    );
    assert_eq!(
        dir.booking(id).await.unwrap().attribution,
        Attribution::Related {
            customer,
            differences
        }
    );
    assert_eq!(
        dir.customer(customer).await.unwrap(),
        before,
        "a related booking changes nothing on the profile"
    );
    assert_eq!(
        dir.customer_bookings(customer).await.unwrap().len(),
        2,
        "related bookings are listed with the customer"
    );
}

pub async fn empty_details_never_count_as_different<S: Store + Clone + 'static>(store: S) {
    let dir = directory(store.clone());
    let (_, first) = record(
        &dir,
        booking(
            "E-1",
            BookingStatus::PAID,
            contact("e@example.com", "Eve", ""),
        ),
    )
    .await;
    let customer = customer_of(&first);
    let (_, outcome) = record(
        &dir,
        booking(
            "E-2",
            BookingStatus::PAID,
            contact("e@example.com", "", "Stone"),
        ),
    )
    .await;
    assert_eq!(
        outcome,
        AttributionOutcome::Attached {
            customer,
            filled: vec![Detail::FamilyName],
            reactivated: false
        }
    );
}

pub async fn new_email_with_locked_status_creates_a_customer<S: Store + Clone + 'static>(store: S) {
    let dir = directory(store.clone());
    let mut details = contact("New@Example.com", "Nia", "Long");
    details
        .custom_fields
        .insert("diet".into(), Text::parse("vegan").unwrap());
    let (id, outcome) = record(&dir, booking("N-1", BookingStatus::PAID, details.clone())).await;
    let customer = dir.customer(customer_of(&outcome)).await.unwrap();
    assert_eq!(outcome, AttributionOutcome::CreatedCustomer(customer.id));
    assert_eq!(
        customer.profile, details,
        "the profile starts as the booking's details"
    );
    assert_eq!(
        (customer.status, customer.created_at, customer.version),
        (CustomerStatus::Active, t0(), 1)
    );
    assert_eq!(
        dir.booking(id).await.unwrap().attribution,
        Attribution::Primary(customer.id)
    );
    assert_eq!(
        dir.find_by_email("new@example.com")
            .await
            .unwrap()
            .map(|c| c.id),
        Some(customer.id)
    );
}

pub async fn new_email_with_unlocked_status_stays_unattributed_until_locked<
    S: Store + Clone + 'static,
>(
    store: S,
) {
    let dir = directory(store.clone());
    for status in [
        BookingStatus::PENDING,
        BookingStatus::WAITING,
        BookingStatus::CANCELLED,
    ] {
        let (_, outcome) = record(
            &dir,
            booking("U-0", status, contact("wait@example.com", "W", "")),
        )
        .await;
        assert_eq!(
            outcome,
            AttributionOutcome::Unattributed(UnattributedReason::NotLocked)
        );
    }
    let (id, _) = record(
        &dir,
        booking(
            "U-1",
            BookingStatus::PENDING,
            contact("pend@example.com", "P", ""),
        ),
    )
    .await;
    assert!(
        dir.find_by_email("pend@example.com")
            .await
            .unwrap()
            .is_none()
    );
    let still = dir
        .change_booking_status(id, BookingStatus::WAITING, &Actor::staff("desk"))
        .await
        .unwrap();
    assert_eq!(
        still,
        AttributionOutcome::Unattributed(UnattributedReason::NotLocked)
    );
    let outcome = dir
        .change_booking_status(id, BookingStatus::CONFIRMED, &Actor::staff("desk"))
        .await
        .unwrap();
    let customer = customer_of(&outcome);
    assert_eq!(outcome, AttributionOutcome::CreatedCustomer(customer));
    let stored = dir.booking(id).await.unwrap();
    assert_eq!(
        (stored.status, stored.attribution),
        (BookingStatus::CONFIRMED, Attribution::Primary(customer))
    );
    // Further status changes keep the attribution.
    let again = dir
        .change_booking_status(id, BookingStatus::CANCELLED, &Actor::staff("desk"))
        .await
        .unwrap();
    assert_eq!(again, AttributionOutcome::AlreadyAttributed(customer));
    assert_eq!(
        dir.booking(id).await.unwrap().attribution,
        Attribution::Primary(customer)
    );
}

pub async fn booking_without_email_stays_unattributed<S: Store + Clone + 'static>(store: S) {
    let dir = directory(store.clone());
    let (id, outcome) = record(
        &dir,
        booking("X-1", BookingStatus::PAID, contact("", "Walk", "In")),
    )
    .await;
    assert_eq!(
        outcome,
        AttributionOutcome::Unattributed(UnattributedReason::NoEmail)
    );
    assert_eq!(
        dir.booking(id).await.unwrap().attribution,
        Attribution::Unattributed
    );
}

pub async fn locked_statuses_follow_the_settings<S: Store + Clone + 'static>(store: S) {
    let mut settings = DirectorySettings::default();
    let enquiry = BookingStatus::new("enquiry").unwrap();
    settings.unlocked_statuses.insert(enquiry.clone());
    settings.unlocked_statuses.remove(&BookingStatus::WAITING);
    let dir = directory_with(store.clone(), settings);
    let (_, outcome) = record(
        &dir,
        booking("S-1", enquiry, contact("enq@example.com", "E", "")),
    )
    .await;
    assert_eq!(
        outcome,
        AttributionOutcome::Unattributed(UnattributedReason::NotLocked)
    );
    let (_, outcome) = record(
        &dir,
        booking(
            "S-2",
            BookingStatus::WAITING,
            contact("wl@example.com", "W", ""),
        ),
    )
    .await;
    assert!(
        matches!(outcome, AttributionOutcome::CreatedCustomer(_)),
        "{outcome:?}"
    );
    let custom = BookingStatus::new("checked-in").unwrap();
    let (_, outcome) = record(
        &dir,
        booking("S-3", custom, contact("ci@example.com", "C", "")),
    )
    .await;
    assert!(
        matches!(outcome, AttributionOutcome::CreatedCustomer(_)),
        "a host's own status locks by default"
    );
}

pub async fn filling_from_a_booking_never_overwrites<S: Store + Clone + 'static>(store: S) {
    let dir = directory(store.clone());
    let (_, first) = record(
        &dir,
        booking(
            "F-1",
            BookingStatus::PAID,
            contact("fill@example.com", "Fay", ""),
        ),
    )
    .await;
    let customer = customer_of(&first);
    let mut more = contact("fill@example.com", "", "Wong");
    more.phone = Some(Phone::parse("+1 415 555 0132", None).unwrap());
    more.display_name = name("Fay W.");
    let (_, outcome) = record(&dir, booking("F-2", BookingStatus::PAID, more)).await;
    assert_eq!(
        outcome,
        AttributionOutcome::Attached {
            customer,
            filled: vec![Detail::FamilyName, Detail::DisplayName, Detail::Phone],
            reactivated: false
        }
    );
    let profile = dir.customer(customer).await.unwrap().profile;
    assert_eq!(profile.given_name, name("Fay"));
    assert_eq!(profile.family_name, name("Wong"));
    // A later booking with another display name but agreeing identity details changes nothing.
    let mut again = contact("fill@example.com", "Fay", "Wong");
    again.display_name = name("F. Wong");
    let before = dir.customer(customer).await.unwrap();
    let (_, outcome) = record(&dir, booking("F-3", BookingStatus::PAID, again)).await;
    assert_eq!(
        outcome,
        AttributionOutcome::Attached {
            customer,
            filled: vec![],
            reactivated: false
        }
    );
    assert_eq!(dir.customer(customer).await.unwrap(), before);
}

pub async fn archived_customer_matches_and_is_reactivated<S: Store + Clone + 'static>(store: S) {
    let mut archived = Customer::new(contact("arch@example.com", "Ari", ""), t0());
    archived.status = CustomerStatus::Archived;
    let archived = save_customer(&store, archived).await;
    let dir = directory(store.clone());
    let (_, outcome) = record(
        &dir,
        booking(
            "A-1",
            BookingStatus::PAID,
            contact("arch@example.com", "Ari", ""),
        ),
    )
    .await;
    assert_eq!(
        outcome,
        AttributionOutcome::Attached {
            customer: archived.id,
            filled: vec![],
            reactivated: true
        }
    );
    assert_eq!(
        dir.customer(archived.id).await.unwrap().status,
        CustomerStatus::Active
    );
}

pub async fn archived_customer_stays_archived_when_reactivation_is_off<
    S: Store + Clone + 'static,
>(
    store: S,
) {
    let mut archived = Customer::new(contact("quiet@example.com", "Q", ""), t0());
    archived.status = CustomerStatus::Archived;
    let archived = save_customer(&store, archived).await;
    let settings = DirectorySettings {
        reactivate_archived_on_booking: false,
        ..DirectorySettings::default()
    };
    let dir = directory_with(store.clone(), settings);
    let (_, outcome) = record(
        &dir,
        booking(
            "A-2",
            BookingStatus::PAID,
            contact("quiet@example.com", "Q", ""),
        ),
    )
    .await;
    assert_eq!(
        outcome,
        AttributionOutcome::Attached {
            customer: archived.id,
            filled: vec![],
            reactivated: false
        }
    );
    assert_eq!(
        dir.customer(archived.id).await.unwrap().status,
        CustomerStatus::Archived
    );
}

pub async fn redacted_customer_never_matches<S: Store + Clone + 'static>(store: S) {
    let mut redacted = Customer::new(contact("erased@example.com", "Old", ""), t0());
    redacted.status = CustomerStatus::Redacted;
    let redacted = save_customer(&store, redacted).await;
    let dir = directory(store.clone());
    let (_, outcome) = record(
        &dir,
        booking(
            "Z-1",
            BookingStatus::PAID,
            contact("erased@example.com", "Old", ""),
        ),
    )
    .await;
    let fresh = customer_of(&outcome);
    assert_eq!(outcome, AttributionOutcome::CreatedCustomer(fresh));
    assert_ne!(fresh, redacted.id);
    assert!(dir.customer_bookings(redacted.id).await.unwrap().is_empty());
}

pub async fn detached_booking_is_not_reattached_to_its_former_customer<
    S: Store + Clone + 'static,
>(
    store: S,
) {
    let dir = directory(store.clone());
    let (_, first) = record(
        &dir,
        booking(
            "T-1",
            BookingStatus::PAID,
            contact("det@example.com", "D", ""),
        ),
    )
    .await;
    let customer = customer_of(&first);
    let (id, _) = record(
        &dir,
        booking(
            "T-2",
            BookingStatus::PENDING,
            contact("det@example.com", "D", ""),
        ),
    )
    .await;
    // Staff detach the booking (the lifecycle operation writes exactly this).
    let mut detached = dir.booking(id).await.unwrap();
    detached.attribution = Attribution::Unattributed;
    detached.detached_from = Some(customer);
    let mut changes = ChangeSet::new();
    changes.save_booking(detached);
    store.commit(changes).await.unwrap();
    let outcome = dir
        .change_booking_status(id, BookingStatus::CONFIRMED, &Actor::staff("desk"))
        .await
        .unwrap();
    assert_eq!(
        outcome,
        AttributionOutcome::Unattributed(UnattributedReason::Detached(customer))
    );
    let stored = dir.booking(id).await.unwrap();
    assert_eq!(
        (stored.attribution, stored.status),
        (Attribution::Unattributed, BookingStatus::CONFIRMED)
    );
    assert_eq!(dir.customer_bookings(customer).await.unwrap().len(), 1);
}

pub async fn alias_email_attaches_to_its_customer<S: Store + Clone + 'static>(store: S) {
    let mut merged = Customer::new(contact("now@example.com", "Al", ""), t0());
    merged
        .aliases
        .push(EmailAddress::parse("then@example.com").unwrap());
    let merged = save_customer(&store, merged).await;
    let dir = directory(store.clone());
    let (_, outcome) = record(
        &dir,
        booking(
            "L-1",
            BookingStatus::PAID,
            contact("THEN@example.com", "Al", ""),
        ),
    )
    .await;
    assert_eq!(
        outcome,
        AttributionOutcome::Attached {
            customer: merged.id,
            filled: vec![],
            reactivated: false
        }
    );
}

pub async fn invalid_booking_reports_every_problem<S: Store + Clone + 'static>(store: S) {
    let dir = directory(store.clone());
    let mut bad = booking(
        " ",
        BookingStatus::PAID,
        contact("inv@example.com", "I", ""),
    );
    bad.paid = Money::zero(Currency::parse("USD").unwrap());
    bad.ends_at = Some(t0() - chrono::TimeDelta::hours(1));
    match dir.record_booking(bad, &Actor::System).await {
        Err(Error::InvalidBooking(problems)) => assert_eq!(problems.len(), 3, "{problems:?}"),
        other => panic!("expected InvalidBooking, got {other:?}"),
    }
    assert!(
        dir.find_by_email("inv@example.com")
            .await
            .unwrap()
            .is_none()
    );
}

/// 8 tasks record 1,000 bookings over 50 new emails (case and white space vary): exactly 50
/// customers, every booking stored once and attributed to its email's customer.
pub async fn concurrent_bookings_create_exactly_one_customer_per_email<
    S: Store + Clone + 'static,
>(
    store: S,
) {
    const TASKS: usize = 8;
    const BOOKINGS: usize = 1_000;
    const EMAILS: usize = 50;
    let dir = std::sync::Arc::new(directory(store.clone()));
    let mut tasks = Vec::new();
    for task in 0..TASKS {
        let dir = dir.clone();
        tasks.push(tokio::spawn(async move {
            let mut recorded = Vec::new();
            for n in (task..BOOKINGS).step_by(TASKS) {
                let email = match n % 3 {
                    0 => format!("guest{}@example.com", n % EMAILS),
                    1 => format!(" Guest{}@EXAMPLE.com", n % EMAILS),
                    _ => format!("GUEST{}@example.COM ", n % EMAILS),
                };
                let new = booking(
                    &format!("C-{n}"),
                    BookingStatus::PAID,
                    contact(&email, "Guest", ""),
                );
                let done = dir
                    .record_booking(new, &Actor::System)
                    .await
                    .expect("no booking may fail under contention");
                recorded.push((n % EMAILS, done));
            }
            recorded
        }));
    }
    let mut by_email: HashMap<usize, HashSet<crate::values::ids::CustomerId>> = HashMap::new();
    let mut booking_ids = HashSet::new();
    for task in tasks {
        for (email, done) in task.await.unwrap() {
            by_email
                .entry(email)
                .or_default()
                .insert(customer_of(&done.outcome));
            assert!(
                booking_ids.insert(done.booking),
                "booking id returned twice"
            );
        }
    }
    assert_eq!(booking_ids.len(), BOOKINGS);
    assert_eq!(by_email.len(), EMAILS);
    let mut seen = HashSet::new();
    for (email, customers) in &by_email {
        assert_eq!(customers.len(), 1, "email {email} went to {customers:?}");
        let customer = *customers.iter().next().unwrap();
        let found = dir
            .find_by_email(&format!("guest{email}@example.com"))
            .await
            .unwrap();
        assert_eq!(found.map(|c| c.id), Some(customer));
        for booking in dir.customer_bookings(customer).await.unwrap() {
            assert_eq!(booking.attribution, Attribution::Primary(customer));
            assert!(
                seen.insert(booking.id),
                "booking listed under two customers"
            );
        }
    }
    assert_eq!(
        seen, booking_ids,
        "every booking is listed under its customer exactly once"
    );
}
