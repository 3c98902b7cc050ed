//! What the scenarios share: a fixed start time, contacts, bookings, a directory over the
//! store under test, and small helpers for reading what a commit left.

use crate::decisions::attribution::AttributionOutcome;
use crate::ports::clock::FixedClock;
use crate::ports::store::changes::ChangeSet;
use crate::ports::store::{Conflict, Store, StoreError};
use crate::records::audit::Actor;
use crate::records::booking::NewBooking;
use crate::records::customer::Customer;
use crate::records::profile::Profile;
use crate::service::directory::Directory;
use crate::settings::DirectorySettings;
use crate::values::booking_status::BookingStatus;
use crate::values::email::address::EmailAddress;
use crate::values::money::{Currency, Money};
use crate::values::password::hashing::{HashParams, PasswordHashing};
use crate::values::text::PersonName;
use chrono::{DateTime, TimeZone, Utc};

pub fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 6, 1, 9, 0, 0).unwrap()
}

pub fn eur(minor: i64) -> Money {
    Money::new(minor, Currency::parse("EUR").unwrap())
}

pub fn directory<S: Store + Clone + 'static>(store: S) -> Directory<S, FixedClock> {
    directory_with(store, DirectorySettings::default())
}

pub fn directory_with<S: Store>(store: S, settings: DirectorySettings) -> Directory<S, FixedClock> {
    Directory::with_clock(store, settings, FixedClock::new(t0()))
}

pub fn name(text: &str) -> Option<PersonName> {
    Some(PersonName::parse(text).unwrap())
}

pub fn contact(email: &str, given: &str, family: &str) -> Profile {
    Profile {
        given_name: (!given.is_empty()).then(|| PersonName::parse(given).unwrap()),
        family_name: (!family.is_empty()).then(|| PersonName::parse(family).unwrap()),
        email: (!email.is_empty()).then(|| EmailAddress::parse(email).unwrap()),
        ..Profile::default()
    }
}

pub fn booking(code: &str, status: BookingStatus, contact: Profile) -> NewBooking {
    let mut booking = NewBooking::new(code, status, contact, t0(), eur(50_00));
    booking.paid = eur(20_00);
    booking
}

pub(crate) async fn record<S: Store>(
    dir: &Directory<S, FixedClock>,
    new: NewBooking,
) -> (crate::values::ids::BookingId, AttributionOutcome) {
    let recorded = dir
        .record_booking(new, &Actor::System)
        .await
        .expect("booking is recorded");
    (recorded.booking, recorded.outcome)
}

pub(crate) fn customer_of(outcome: &AttributionOutcome) -> crate::values::ids::CustomerId {
    outcome
        .customer()
        .unwrap_or_else(|| panic!("expected a customer, got {outcome:?}"))
}

pub(crate) async fn save_customer<S: Store>(store: &S, customer: Customer) -> Customer {
    let id = customer.id;
    let mut changes = ChangeSet::new();
    changes.save_customer(customer);
    store.commit(changes).await.expect("commit");
    store.customer(id).await.unwrap().unwrap()
}

pub(crate) fn assert_conflict(result: Result<(), StoreError>) -> Conflict {
    match result {
        Err(StoreError::Conflict(conflict)) => conflict,
        other => panic!("expected a conflict, got {other:?}"),
    }
}

/// A password every account scenario uses: it passes the default policy.
pub(crate) const GOOD: &str = "Plum-Tractor-Velvet-9";

/// Hashing cheap enough for tests (the parameters are below any production minimum).
pub(crate) fn cheap_hashing(memory_kib: u32) -> PasswordHashing {
    PasswordHashing::with_params(HashParams::new(memory_kib, 1, 1).unwrap()).unwrap()
}
