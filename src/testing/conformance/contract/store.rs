//! The core [`Store`] contract, checked through the port itself: commits are all or
//! nothing, versions and guards conflict, live email keys are unique, reads follow commits.

use crate::ports::store::changes::ChangeSet;
use crate::ports::store::{Conflict, Store};
use crate::records::audit::Actor;
use crate::records::booking::{Attribution, Booking};
use crate::records::customer::{BlockTarget, Customer, CustomerStatus};
use crate::values::booking_status::BookingStatus;
use crate::values::email::address::EmailAddress;

use crate::testing::conformance::fixtures::{
    assert_conflict, booking, contact, customer_of, directory, name, record, save_customer, t0,
};

// Port contract

pub async fn port_commit_inserts_and_reads_back<S: Store + Clone + 'static>(store: S) {
    let customer = Customer::new(contact("ana@example.com", "Ana", "Silva"), t0());
    let stored = save_customer(&store, customer.clone()).await;
    assert_eq!(stored.version, 1);
    assert_eq!(
        Customer {
            version: 1,
            ..customer.clone()
        },
        stored
    );
    let found = store
        .lookup_email(stored.email_keys().next().unwrap())
        .await
        .unwrap();
    assert_eq!(found.customer.map(|c| c.id), Some(customer.id));
    assert!(found.block.is_none());
}

pub async fn port_stale_version_conflicts_and_changes_nothing<S: Store + Clone + 'static>(
    store: S,
) {
    let stored = save_customer(
        &store,
        Customer::new(contact("bo@example.com", "Bo", ""), t0()),
    )
    .await;
    let mut first = stored.clone();
    first.profile.family_name = name("First");
    let mut second = stored.clone();
    second.profile.family_name = name("Second");
    let other = Customer::new(contact("other@example.com", "Other", ""), t0());
    let mut changes = ChangeSet::new();
    changes.save_customer(first);
    store.commit(changes).await.unwrap();
    // A stale write together with an insert: neither may apply.
    let mut stale = ChangeSet::new();
    stale.save_customer(other.clone()).save_customer(second);
    let conflict = assert_conflict(store.commit(stale).await);
    assert!(
        matches!(conflict, Conflict::CustomerVersion { found: Some(2), .. }),
        "{conflict:?}"
    );
    let now = store.customer(stored.id).await.unwrap().unwrap();
    assert_eq!((now.version, now.profile.family_name), (2, name("First")));
    assert!(
        store.customer(other.id).await.unwrap().is_none(),
        "insert of a failed commit remains"
    );
}

pub async fn port_duplicate_live_email_key_conflicts_and_changes_nothing<
    S: Store + Clone + 'static,
>(
    store: S,
) {
    let holder = save_customer(
        &store,
        Customer::new(contact("Dup@Example.com", "A", ""), t0()),
    )
    .await;
    let rival = Customer::new(contact("dup@example.com", "B", ""), t0());
    let mut changes = ChangeSet::new();
    changes.save_customer(rival.clone());
    let conflict = assert_conflict(store.commit(changes).await);
    match conflict {
        Conflict::EmailKeyTaken { key, holder: id } => {
            assert_eq!(key.as_str(), "dup@example.com");
            assert_eq!(id, holder.id);
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(store.customer(rival.id).await.unwrap().is_none());
    // Two new customers with one key in the same commit conflict too.
    let (a, b) = (
        Customer::new(contact("twin@example.com", "A", ""), t0()),
        Customer::new(contact("TWIN@example.com", "B", ""), t0()),
    );
    let mut changes = ChangeSet::new();
    changes.save_customer(a.clone()).save_customer(b);
    assert!(matches!(
        assert_conflict(store.commit(changes).await),
        Conflict::EmailKeyTaken { .. }
    ));
    assert!(store.customer(a.id).await.unwrap().is_none());
}

pub async fn port_guard_on_changed_customer_conflicts<S: Store + Clone + 'static>(store: S) {
    let stored = save_customer(
        &store,
        Customer::new(contact("g@example.com", "G", ""), t0()),
    )
    .await;
    let mut changed = stored.clone();
    changed.status = CustomerStatus::Archived;
    save_customer(&store, changed).await;
    let new = Booking::from_new(
        booking(
            "G-1",
            BookingStatus::PAID,
            contact("g@example.com", "G", ""),
        ),
        t0(),
    );
    let mut changes = ChangeSet::new();
    changes
        .guard_customer(stored.id, stored.version)
        .save_booking(new.clone());
    assert!(matches!(
        assert_conflict(store.commit(changes).await),
        Conflict::CustomerVersion { .. }
    ));
    assert!(store.booking(new.id).await.unwrap().is_none());
}

pub async fn port_non_live_customers_release_their_keys<S: Store + Clone + 'static>(store: S) {
    let mut stored = save_customer(
        &store,
        Customer::new(contact("gone@example.com", "G", ""), t0()),
    )
    .await;
    stored.status = CustomerStatus::Redacted;
    let key = stored.email_keys().next().unwrap().clone();
    save_customer(&store, stored.clone()).await;
    assert!(store.lookup_email(&key).await.unwrap().customer.is_none());
    // The key is free: a new live customer may take it.
    let fresh = save_customer(
        &store,
        Customer::new(contact("gone@example.com", "New", ""), t0()),
    )
    .await;
    assert_eq!(
        store
            .lookup_email(&key)
            .await
            .unwrap()
            .customer
            .map(|c| c.id),
        Some(fresh.id)
    );
    assert_eq!(
        store.customer(stored.id).await.unwrap().map(|c| c.status),
        Some(CustomerStatus::Redacted)
    );
}

pub async fn port_keys_can_move_between_customers_in_one_commit<S: Store + Clone + 'static>(
    store: S,
) {
    let mut a = save_customer(
        &store,
        Customer::new(contact("move@example.com", "A", ""), t0()),
    )
    .await;
    let mut b = save_customer(
        &store,
        Customer::new(contact("b@example.com", "B", ""), t0()),
    )
    .await;
    let key = a.email_keys().next().unwrap().clone();
    a.profile.email = Some(EmailAddress::parse("a2@example.com").unwrap());
    b.aliases
        .push(EmailAddress::parse("move@example.com").unwrap());
    let mut changes = ChangeSet::new();
    changes.save_customer(b.clone()).save_customer(a);
    store
        .commit(changes)
        .await
        .expect("a key released and taken in one commit");
    assert_eq!(
        store
            .lookup_email(&key)
            .await
            .unwrap()
            .customer
            .map(|c| c.id),
        Some(b.id)
    );
}

pub async fn port_aliases_are_indexed<S: Store + Clone + 'static>(store: S) {
    let mut customer = Customer::new(contact("main@example.com", "M", ""), t0());
    customer
        .aliases
        .push(EmailAddress::parse("Old.Name@Example.com").unwrap());
    let stored = save_customer(&store, customer).await;
    let alias = EmailAddress::parse("old.name@example.com").unwrap();
    assert_eq!(
        store
            .lookup_email(alias.key())
            .await
            .unwrap()
            .customer
            .map(|c| c.id),
        Some(stored.id)
    );
}

pub async fn port_blocklist_covers_addresses_and_domains<S: Store + Clone + 'static>(store: S) {
    let dir = directory(store.clone());
    dir.add_to_blocklist(
        BlockTarget::domain("spam.example").unwrap(),
        "spam domain",
        &Actor::staff("desk"),
    )
    .await
    .unwrap();
    let address = EmailAddress::parse("fraud@shop.example").unwrap();
    dir.add_to_blocklist(
        BlockTarget::Address(address.key().clone()),
        "chargeback",
        &Actor::staff("desk"),
    )
    .await
    .unwrap();
    let by_domain = store
        .lookup_email(EmailAddress::parse("x@SPAM.example").unwrap().key())
        .await
        .unwrap();
    assert_eq!(
        by_domain.block.map(|e| e.reason),
        Some("spam domain".into())
    );
    let by_address = store.lookup_email(address.key()).await.unwrap();
    assert_eq!(
        by_address.block.map(|e| e.reason),
        Some("chargeback".into())
    );
    let neighbour = store
        .lookup_email(EmailAddress::parse("ok@shop.example").unwrap().key())
        .await
        .unwrap();
    assert!(neighbour.block.is_none());
    dir.remove_from_blocklist(
        BlockTarget::domain("spam.example").unwrap(),
        &Actor::staff("desk"),
    )
    .await
    .unwrap();
    assert!(
        dir.blocklist_entry_for("x@spam.example")
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        dir.blocklist_entry_for("fraud@shop.example")
            .await
            .unwrap()
            .is_some()
    );
}

pub async fn port_customer_bookings_are_ordered_and_follow_attribution<
    S: Store + Clone + 'static,
>(
    store: S,
) {
    let dir = directory(store.clone());
    let mut later = booking(
        "LATE",
        BookingStatus::PAID,
        contact("order@example.com", "O", ""),
    );
    later.starts_at = t0() + chrono::TimeDelta::days(3);
    let (late_id, outcome) = record(&dir, later).await;
    let customer = customer_of(&outcome);
    let (early_id, _) = record(
        &dir,
        booking(
            "EARLY",
            BookingStatus::PAID,
            contact("order@example.com", "", ""),
        ),
    )
    .await;
    let ids: Vec<_> = store
        .customer_bookings(customer)
        .await
        .unwrap()
        .iter()
        .map(|b| b.id)
        .collect();
    assert_eq!(ids, vec![early_id, late_id]);
    // Moving a booking away removes it from the customer's list.
    let mut moved = store.booking(late_id).await.unwrap().unwrap();
    moved.attribution = Attribution::Unattributed;
    let mut changes = ChangeSet::new();
    changes.save_booking(moved);
    store.commit(changes).await.unwrap();
    let ids: Vec<_> = store
        .customer_bookings(customer)
        .await
        .unwrap()
        .iter()
        .map(|b| b.id)
        .collect();
    assert_eq!(ids, vec![early_id]);
}

/// `Store::unattributed_bookings` lists a booking while it has no customer, not once it is
/// attributed, and again once it is detached; never one attributed from the start.
pub async fn port_unattributed_bookings_follow_attribution<S: Store + Clone + 'static>(store: S) {
    let dir = directory(store.clone());
    let key = EmailAddress::parse("Later@Example.com")
        .unwrap()
        .key()
        .clone();
    let listed = |store: S, key: crate::values::email::key::EmailKey| async move {
        store
            .unattributed_bookings(&key)
            .await
            .unwrap()
            .into_iter()
            .map(|booking| booking.id)
            .collect::<Vec<_>>()
    };
    let (pending, _) = record(
        &dir,
        booking(
            "UA-1",
            BookingStatus::PENDING,
            contact("later@example.com", "L", ""),
        ),
    )
    .await;
    assert_eq!(listed(store.clone(), key.clone()).await, vec![pending]);
    let outcome = dir
        .change_booking_status(pending, BookingStatus::CONFIRMED, &Actor::staff("desk"))
        .await
        .unwrap();
    let customer = customer_of(&outcome);
    assert!(
        listed(store.clone(), key.clone()).await.is_empty(),
        "attributed: not listed"
    );
    let (paid, _) = record(
        &dir,
        booking(
            "UA-2",
            BookingStatus::PAID,
            contact("later@example.com", "L", ""),
        ),
    )
    .await;
    assert_eq!(
        dir.booking(paid).await.unwrap().attribution,
        Attribution::Primary(customer)
    );
    assert!(
        listed(store.clone(), key.clone()).await.is_empty(),
        "attributed on arrival"
    );
    dir.detach_booking(
        pending,
        crate::service::directory::lifecycle::DetachMode::LeaveUnattributed,
        &Actor::staff("desk"),
    )
    .await
    .unwrap();
    assert_eq!(
        listed(store.clone(), key.clone()).await,
        vec![pending],
        "detached: listed again"
    );
}
