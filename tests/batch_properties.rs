//! `record_bookings` in batches gives the directory that `record_booking` one by one gives.
//!
//! For random booking sequences (repeat emails with differing names and phones, statuses
//! that lock or not, bookings without email, repeated codes, invalid bookings) over a
//! directory already holding customers in every state a booking can meet (active, with a
//! phone, archived, blocked, redacted, deleted, merged into another customer, the survivor of
//! a merge, a blocklisted address), two directories on two
//! stores of the same adapter run the same setup; one records the sequence one by one
//! (skipping a code already stored, which is what a batch does), the other in batches of
//! random sizes. Both run on one fixed clock, so the comparison is exact up to ids: every
//! customer (profile, status, version, times), every booking (attribution, related
//! differences), every audit trail, and each booking's reported outcome.
//! On memory and SQLite always; on PostgreSQL when a server is configured (always in CI).
#![cfg(feature = "testing")]

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{TimeZone, Utc};
use customer_directory::ports::FixedClock;
use customer_directory::ports::store::BulkReadStore;
use customer_directory::records::BlockTarget;
use customer_directory::service::BatchItem;
use customer_directory::{
    Actor, AttributionOutcome, BookingId, BookingStatus, Currency, Directory, DirectorySettings,
    EmailAddress, Error, MemoryStore, MergeRequest, Money, NewBooking, PersonName, Phone, Profile,
    Store,
};
use proptest::prelude::*;

mod support;
use support::all_customers;

const EMAILS: usize = 7;

/// What the directory holds for an email before the sequence.
#[derive(Debug, Clone, Copy)]
enum Before {
    Nothing,
    Active,
    ActiveWithPhone,
    Archived,
    BlockedCustomer,
    Blocklisted,
    Redacted,
    /// The customer was deleted: the address is free again.
    Deleted,
    /// The customer was merged into another one (with an address outside the sequence's),
    /// so the address is now the survivor's alias.
    MergedAway,
    /// The customer survived a merge of another one (with an address outside the
    /// sequence's).
    MergeSurvivor,
}

fn before() -> impl Strategy<Value = Before> {
    prop_oneof![
        Just(Before::Nothing),
        Just(Before::Active),
        Just(Before::ActiveWithPhone),
        Just(Before::Archived),
        Just(Before::BlockedCustomer),
        Just(Before::Blocklisted),
        Just(Before::Redacted),
        Just(Before::Deleted),
        Just(Before::MergedAway),
        Just(Before::MergeSurvivor),
    ]
}

#[derive(Debug, Clone)]
struct Step {
    /// `None`: no email.
    email: Option<usize>,
    /// Which of a few codes: repeats are skipped.
    code: usize,
    name: usize,
    phone: Option<usize>,
    status: usize,
    /// An empty code: refused as invalid.
    invalid: bool,
    day: u32,
}

fn step() -> impl Strategy<Value = Step> {
    (
        prop::option::weighted(0.9, 0..EMAILS),
        0..40usize,
        0..3usize,
        prop::option::of(0..2usize),
        0..4usize,
        prop::bool::weighted(0.05),
        1..28u32,
    )
        .prop_map(|(email, code, name, phone, status, invalid, day)| Step {
            email,
            code,
            name,
            phone,
            status,
            invalid,
            day,
        })
}

fn email(index: usize) -> EmailAddress {
    EmailAddress::parse(&format!("guest{index}@example.com")).unwrap()
}

/// The address of the other party in a setup merge, one no booking of the sequence uses.
fn merge_partner_email(index: usize) -> EmailAddress {
    EmailAddress::parse(&format!("partner{index}@example.com")).unwrap()
}

fn new_booking(step: &Step) -> NewBooking {
    let status = [
        BookingStatus::PAID,
        BookingStatus::PENDING,
        BookingStatus::CONFIRMED,
        BookingStatus::CANCELLED,
    ][step.status]
        .clone();
    let contact = Profile {
        given_name: Some(PersonName::parse(["Ana", "Bea", "Cy"][step.name]).unwrap()),
        email: step.email.map(email),
        phone: step
            .phone
            .map(|p| Phone::parse(&format!("+35191234500{p}"), None).unwrap()),
        ..Profile::default()
    };
    let code = if step.invalid {
        String::new()
    } else {
        format!("H-{}", step.code)
    };
    let starts = Utc.with_ymd_and_hms(2019, 3, step.day, 10, 0, 0).unwrap();
    NewBooking::new(
        code,
        status,
        contact,
        starts,
        Money::new(1_000 * i64::from(step.day), Currency::parse("EUR").unwrap()),
    )
}

type Dir<S> = Directory<S, FixedClock>;

/// Puts the directory in the `before` states, returning the ids it handed out (customers and
/// merges) in order.
async fn set_up<S: Store>(directory: &Dir<S>, states: &[Before]) -> Vec<String> {
    let staff = Actor::staff("desk");
    let mut ids = Vec::new();
    for (index, state) in states.iter().enumerate() {
        let mut profile = Profile {
            given_name: Some(PersonName::parse("Ana").unwrap()),
            email: Some(email(index)),
            ..Profile::default()
        };
        if matches!(state, Before::ActiveWithPhone) {
            profile.phone = Some(Phone::parse("+351912345000", None).unwrap());
        }
        let created = match state {
            Before::Nothing => continue,
            Before::Blocklisted => {
                directory
                    .add_to_blocklist(
                        BlockTarget::Address(email(index).key().clone()),
                        "chargebacks",
                        &staff,
                    )
                    .await
                    .unwrap();
                continue;
            }
            _ => directory.create_customer(profile, &staff).await.unwrap(),
        };
        let id = created.customer;
        ids.push(id.to_string());
        match state {
            Before::Archived => directory.archive(id, &staff).await.unwrap(),
            Before::BlockedCustomer => drop(directory.block(id, "fraud", &staff).await.unwrap()),
            Before::Redacted => {
                directory.archive(id, &staff).await.unwrap();
                drop(directory.redact(id, &[], &staff).await.unwrap());
            }
            Before::Deleted => drop(directory.delete_customer(id, &staff).await.unwrap()),
            Before::MergedAway | Before::MergeSurvivor => {
                let partner = Profile {
                    given_name: Some(PersonName::parse("Bea").unwrap()),
                    email: Some(merge_partner_email(index)),
                    ..Profile::default()
                };
                let partner = directory
                    .create_customer(partner, &staff)
                    .await
                    .unwrap()
                    .customer;
                ids.push(partner.to_string());
                let (survivor, merged) = if matches!(state, Before::MergedAway) {
                    (partner, id)
                } else {
                    (id, partner)
                };
                let report = directory
                    .merge(&MergeRequest::new(survivor, [merged]), &staff)
                    .await
                    .unwrap();
                ids.push(report.merge.to_string());
            }
            _ => {}
        }
    }
    ids
}

/// What one booking of the sequence came to, ids left out.
#[derive(Debug, PartialEq, Eq)]
enum Reported {
    Recorded(AttributionOutcome),
    AlreadyStored,
    Blocked,
    Invalid,
}

/// Records `steps` one by one, skipping codes already stored.
async fn one_by_one<S: Store>(
    directory: &Dir<S>,
    steps: &[Step],
) -> (Vec<Reported>, Vec<Option<BookingId>>) {
    let mut stored_codes = HashSet::new();
    let mut reported = Vec::new();
    let mut bookings = Vec::new();
    for step in steps {
        let new = new_booking(step);
        if stored_codes.contains(&new.code) {
            reported.push(Reported::AlreadyStored);
            bookings.push(None);
            continue;
        }
        let code = new.code.clone();
        match directory.record_booking(new, &Actor::System).await {
            Ok(recorded) => {
                stored_codes.insert(code);
                reported.push(Reported::Recorded(recorded.outcome));
                bookings.push(Some(recorded.booking));
            }
            Err(Error::Blocked(_)) => {
                reported.push(Reported::Blocked);
                bookings.push(None);
            }
            Err(Error::InvalidBooking(_)) => {
                reported.push(Reported::Invalid);
                bookings.push(None);
            }
            Err(other) => panic!("one by one: {other}"),
        }
    }
    (reported, bookings)
}

/// Records `steps` in batches of the given sizes (cycled).
async fn in_batches<S: Store>(
    directory: &Dir<S>,
    steps: &[Step],
    sizes: &[usize],
) -> (Vec<Reported>, Vec<Option<BookingId>>) {
    let mut reported = Vec::new();
    let mut bookings = Vec::new();
    let mut rest = steps;
    let mut sizes = sizes.iter().cycle();
    while !rest.is_empty() {
        let size = (*sizes.next().unwrap()).clamp(1, rest.len());
        let (batch, after) = rest.split_at(size);
        rest = after;
        let report = directory
            .record_bookings(batch.iter().map(new_booking).collect(), &Actor::System)
            .await
            .unwrap();
        assert_eq!(report.items.len(), batch.len());
        for item in report.items {
            let (entry, booking) = match item {
                BatchItem::Recorded(recorded) => {
                    (Reported::Recorded(recorded.outcome), Some(recorded.booking))
                }
                BatchItem::AlreadyStored { .. } => (Reported::AlreadyStored, None),
                BatchItem::Refused(Error::Blocked(_)) => (Reported::Blocked, None),
                BatchItem::Refused(Error::InvalidBooking(_)) => (Reported::Invalid, None),
                other => panic!("in batches: {other:?}"),
            };
            reported.push(entry);
            bookings.push(booking);
        }
    }
    (reported, bookings)
}

/// Ids as labels both runs share: the setup's customers by position, the sequence's
/// bookings by position, customers created by the sequence by the booking that created them.
#[derive(Default)]
struct Labels(HashMap<String, String>);

impl Labels {
    fn new(setup: &[String], bookings: &[Option<BookingId>], reported: &[Reported]) -> Self {
        let mut labels = HashMap::new();
        for (index, id) in setup.iter().enumerate() {
            labels.insert(id.clone(), format!("setup-{index}"));
        }
        for (index, (booking, reported)) in bookings.iter().zip(reported).enumerate() {
            if let Some(booking) = booking {
                labels.insert(booking.to_string(), format!("booking-{index}"));
            }
            if let Reported::Recorded(AttributionOutcome::CreatedCustomer(id)) = reported {
                labels.insert(id.to_string(), format!("created-by-{index}"));
            }
        }
        Self(labels)
    }

    /// `value` with every id replaced by its label.
    fn relabel(&self, value: serde_json::Value) -> serde_json::Value {
        match value {
            serde_json::Value::String(text) => {
                serde_json::Value::String(self.0.get(&text).cloned().unwrap_or(text))
            }
            serde_json::Value::Array(items) => {
                serde_json::Value::Array(items.into_iter().map(|v| self.relabel(v)).collect())
            }
            serde_json::Value::Object(map) => serde_json::Value::Object(
                map.into_iter()
                    .map(|(key, v)| (self.0.get(&key).cloned().unwrap_or(key), self.relabel(v)))
                    .collect(),
            ),
            other => other,
        }
    }
}

/// The whole directory as labelled JSON: customers with their audit trails and bookings,
/// the sequence's bookings, and what each booking of the sequence was reported as.
async fn dump<S: Store + BulkReadStore>(
    directory: &Dir<S>,
    labels: &Labels,
    bookings: &[Option<BookingId>],
    reported: &[Reported],
) -> serde_json::Value {
    let store = directory.store();
    let mut customers = BTreeMap::new();
    for customer in all_customers(store).await {
        let trail = store.audit_trail(customer.id).await.unwrap();
        let attributed = store.customer_bookings(customer.id).await.unwrap();
        let entry = serde_json::json!({
            "record": customer,
            "audit": trail,
            "bookings": attributed.iter().map(|b| b.id).collect::<Vec<_>>(),
        });
        let label = labels.relabel(serde_json::json!(customer.id.to_string()));
        customers.insert(label.as_str().unwrap().to_owned(), labels.relabel(entry));
    }
    let mut stored = Vec::new();
    for booking in bookings.iter().flatten() {
        let record = store
            .booking(*booking)
            .await
            .unwrap()
            .expect("recorded booking stored");
        stored.push(labels.relabel(serde_json::to_value(record).unwrap()));
    }
    let reported: Vec<serde_json::Value> = reported
        .iter()
        .map(|entry| match entry {
            Reported::Recorded(outcome) => {
                labels.relabel(serde_json::json!({ "recorded": outcome }))
            }
            other => serde_json::json!(format!("{other:?}")),
        })
        .collect();
    serde_json::json!({ "customers": customers, "bookings": stored, "reported": reported })
}

/// Runs the sequence both ways on two fresh stores and compares the directories.
async fn compare<S: Store + BulkReadStore>(
    fresh: impl AsyncFnMut() -> S,
    states: Vec<Before>,
    steps: Vec<Step>,
    sizes: Vec<usize>,
    reactivate: bool,
) -> Result<(), TestCaseError> {
    let mut fresh = fresh;
    let mut settings = DirectorySettings::default();
    settings.reactivate_archived_on_booking = reactivate;
    let now = Utc.with_ymd_and_hms(2026, 12, 1, 9, 0, 0).unwrap();
    let single = Directory::with_clock(fresh().await, settings.clone(), FixedClock::new(now));
    let batched = Directory::with_clock(fresh().await, settings, FixedClock::new(now));

    let single_setup = set_up(&single, &states).await;
    let batched_setup = set_up(&batched, &states).await;
    let (single_reported, single_bookings) = one_by_one(&single, &steps).await;
    let (batched_reported, batched_bookings) = in_batches(&batched, &steps, &sizes).await;

    let single_labels = Labels::new(&single_setup, &single_bookings, &single_reported);
    let batched_labels = Labels::new(&batched_setup, &batched_bookings, &batched_reported);
    let expected = dump(&single, &single_labels, &single_bookings, &single_reported).await;
    let found = dump(
        &batched,
        &batched_labels,
        &batched_bookings,
        &batched_reported,
    )
    .await;
    if let Some(difference) = first_difference(&found, &expected, "") {
        return Err(TestCaseError::fail(difference));
    }
    Ok(())
}

/// Where `found` first differs from `expected`, as a path and both values.
fn first_difference(
    found: &serde_json::Value,
    expected: &serde_json::Value,
    path: &str,
) -> Option<String> {
    use serde_json::Value;
    match (found, expected) {
        (Value::Object(f), Value::Object(e)) => {
            let keys: std::collections::BTreeSet<&String> = f.keys().chain(e.keys()).collect();
            keys.into_iter()
                .find_map(|key| match (f.get(key), e.get(key)) {
                    (Some(f), Some(e)) => first_difference(f, e, &format!("{path}.{key}")),
                    (f, e) => Some(format!("{path}.{key}: batches {f:?}, one by one {e:?}")),
                })
        }
        (Value::Array(f), Value::Array(e)) if f.len() == e.len() => f
            .iter()
            .zip(e)
            .enumerate()
            .find_map(|(i, (f, e))| first_difference(f, e, &format!("{path}[{i}]"))),
        (f, e) if f == e => None,
        (f, e) => Some(format!("{path}: batches {f}, one by one {e}")),
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn case() -> impl Strategy<Value = (Vec<Before>, Vec<Step>, Vec<usize>, bool)> {
    (
        proptest::collection::vec(before(), EMAILS),
        proptest::collection::vec(step(), 1..60),
        proptest::collection::vec(1..25usize, 1..6),
        any::<bool>(),
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn batches_equal_one_by_one_on_memory((states, steps, sizes, reactivate) in case()) {
        runtime().block_on(compare(async || MemoryStore::new(), states, steps, sizes, reactivate))?;
    }
}

#[cfg(feature = "sqlite")]
proptest! {
    // Each case opens two fresh SQLite databases: fewer cases, same sequences.
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn batches_equal_one_by_one_on_sqlite((states, steps, sizes, reactivate) in case()) {
        runtime().block_on(compare(
            async || {
                let store = customer_directory::SqliteStore::connect("sqlite::memory:").await.unwrap();
                store.migrate().await.unwrap();
                store
            },
            states,
            steps,
            sizes,
            reactivate,
        ))?;
    }
}

/// On PostgreSQL when a server is configured (always in CI): two schemas per case.
#[cfg(feature = "postgres")]
#[test]
fn batches_equal_one_by_one_on_postgres() {
    let Some(url) = support::postgres_url("batch property test") else {
        return;
    };
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig::with_cases(12));
    runner
        .run(&case(), |(states, steps, sizes, reactivate)| {
            runtime().block_on(compare(
                async || support::fresh_postgres_store(&url, "cd_batch").await,
                states,
                steps,
                sizes,
                reactivate,
            ))
        })
        .unwrap();
}

/// The cells of the comparison each need a batch to see its own earlier bookings: a customer
/// the batch reactivated, filled or created (on memory; the properties cover the adapters).
#[tokio::test]
async fn a_batch_sees_what_its_earlier_bookings_changed() {
    let step = |email: usize, code: usize, name: usize, phone: Option<usize>| Step {
        email: Some(email),
        code,
        name,
        phone,
        status: 0,
        invalid: false,
        day: 1,
    };
    let states = vec![
        Before::Archived,
        Before::Active,
        Before::Nothing,
        Before::Nothing,
        Before::Nothing,
        Before::Nothing,
        Before::Nothing,
    ];
    let steps = vec![
        // Reactivates setup-0, then attaches without reactivating again.
        step(0, 1, 0, None),
        step(0, 2, 0, None),
        // Fills setup-1's phone, then a second phone differs from the filled one.
        step(1, 3, 0, Some(0)),
        step(1, 4, 0, Some(1)),
        // Creates a customer, then a booking for it fills its phone, then differs.
        step(2, 5, 0, None),
        step(2, 6, 0, Some(0)),
        step(2, 7, 0, Some(1)),
    ];
    compare(async || MemoryStore::new(), states, steps, vec![7], true)
        .await
        .unwrap();
}
