//! A batch of a thousand bookings committed in one change set, on a SQLite file and on
//! PostgreSQL: every read answers as after committing the same bookings one change set at a
//! time, and a conflict anywhere in the batch leaves the store as it was, naming the record.
//!
//! PostgreSQL runs when `CUSTOMER_DIRECTORY_POSTGRES_URL` is set (see `postgres_store.rs`).
//! `cargo test --release --all-features --test bulk_commit -- --ignored --nocapture` prints
//! how long a batch takes against the same bookings one by one.
#![cfg(all(feature = "sqlite", feature = "postgres", feature = "testing"))]

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeZone, Utc};
use customer_directory::ports::store::{BulkReadStore, ChangeSet, Conflict, Expected, SearchStore};
use customer_directory::ports::{SortBy, SortDirection, StatusKind};
use customer_directory::records::{Actor, Attribution, AuditAction, AuditEvent, Detail};
use customer_directory::values::EmailKey;
use customer_directory::{
    Booking, BookingStatus, Currency, Customer, CustomerId, CustomerQuery, CustomerStatus,
    EmailAddress, Money, NewBooking, PersonName, Phone, Profile, SqliteStore, Store,
};

mod support;

/// Customers stored before the batch.
const STORED: usize = 120;
/// Bookings in the batch.
const BATCH: usize = 1_000;
/// New customers' emails the batch books under.
const NEW_EMAILS: usize = 150;

fn at(minute: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 1, 9, 0, 0).unwrap() + chrono::Duration::minutes(minute)
}

fn contact(email: Option<&str>, name: &str, phone: Option<&str>) -> Profile {
    Profile {
        given_name: Some(PersonName::parse(name).unwrap()),
        email: email.map(|email| EmailAddress::parse(email).unwrap()),
        phone: phone.map(|phone| Phone::parse(phone, None).unwrap()),
        ..Profile::default()
    }
}

fn stored_email(tag: usize, n: usize) -> String {
    format!("Stored.{tag}.{n}@Example.com")
}

fn new_email(tag: usize, n: usize) -> String {
    format!("new.{tag}.{n}@example.org")
}

/// The customers stored before the batch: every fifth archived (a booking reactivates it),
/// every third without a phone (a booking fills it).
fn stored_customers(tag: usize) -> Vec<Customer> {
    (0..STORED)
        .map(|n| {
            let phone = (n % 3 != 0).then(|| format!("+4420794{n:05}"));
            let mut customer = Customer::new(
                contact(
                    Some(&stored_email(tag, n)),
                    &format!("Stored{n}"),
                    phone.as_deref(),
                ),
                at(-10_000),
            );
            if n % 5 == 0 {
                customer.status = CustomerStatus::Archived;
            }
            customer
        })
        .collect()
}

/// One booking of the batch and what committing it alone writes besides it.
struct Step {
    booking: Booking,
    /// The customer this booking creates or changes, as saved (version as read).
    saves: Option<Customer>,
    /// The customer it is attached to without change, at its version.
    guard: Option<(CustomerId, u64)>,
    event: AuditEvent,
}

/// The batch: bookings for stored customers (primary, related, reactivating or filling a
/// phone), for new emails (the first creates the customer) and without email.
fn batch(tag: usize, stored: &[Customer]) -> Vec<Step> {
    let mut current: BTreeMap<CustomerId, Customer> =
        stored.iter().map(|c| (c.id, c.clone())).collect();
    let mut created: BTreeMap<usize, CustomerId> = BTreeMap::new();
    let currencies = [
        Currency::parse("EUR").unwrap(),
        Currency::parse("GBP").unwrap(),
    ];
    (0..BATCH)
        .map(|i| {
            let status = if i % 17 == 0 {
                BookingStatus::CANCELLED
            } else {
                BookingStatus::PAID
            };
            let price = Money::new(i64::try_from(1_000 + i * 7).unwrap(), currencies[i % 2]);
            let kind = i % 10;
            let (profile, target) = if kind == 9 {
                (contact(None, "Walkin", None), None)
            } else if kind < 6 {
                let n = (i * 7) % STORED;
                let name = if i % 13 == 0 {
                    "Someone".to_owned()
                } else {
                    format!("Stored{n}")
                };
                let phone = format!("+4420794{n:05}");
                (
                    contact(
                        Some(&stored_email(tag, n).to_lowercase()),
                        &name,
                        Some(&phone),
                    ),
                    Some(stored[n].id),
                )
            } else {
                // Each new email twice: the first booking creates the customer.
                let n = (i / 10 * 3 + kind - 6) % NEW_EMAILS;
                (
                    contact(
                        Some(&new_email(tag, n)),
                        &format!("New{n}"),
                        Some(&format!("+4420795{n:05}")),
                    ),
                    created.get(&n).copied(),
                )
            };
            let new = NewBooking::new(
                format!("BK-{i}"),
                status,
                profile.clone(),
                at(i64::try_from(i % 300).unwrap() * 60),
                price,
            );
            let mut booking = Booking::from_new(new, at(i64::try_from(i).unwrap()));
            let mut saves = None;
            let mut guard = None;
            let customer = match target {
                None if kind == 9 => None,
                None => {
                    let customer = Customer::new(profile.clone(), at(i64::try_from(i).unwrap()));
                    created.insert((i / 10 * 3 + kind - 6) % NEW_EMAILS, customer.id);
                    current.insert(customer.id, {
                        let mut stored = customer.clone();
                        stored.version = 1;
                        stored
                    });
                    saves = Some(customer.clone());
                    booking.attribution = Attribution::Primary(customer.id);
                    Some(customer.id)
                }
                Some(id) => {
                    let customer = current.get_mut(&id).unwrap();
                    if customer.profile.given_name == profile.given_name {
                        booking.attribution = Attribution::Primary(id);
                    } else {
                        booking.attribution = Attribution::Related {
                            customer: id,
                            differences: vec![Detail::GivenName],
                        };
                    }
                    let archived = customer.status == CustomerStatus::Archived;
                    let no_phone = customer.profile.phone.is_none();
                    if archived || no_phone {
                        customer.status = CustomerStatus::Active;
                        customer.profile.phone = profile.phone.clone();
                        customer.updated_at = at(i64::try_from(i).unwrap());
                        saves = Some(customer.clone());
                        customer.version += 1;
                    } else {
                        guard = Some((id, customer.version));
                    }
                    Some(id)
                }
            };
            let mut event = AuditEvent::new(
                booking.created_at,
                Actor::System,
                AuditAction::BookingRecorded,
            )
            .booking(booking.id);
            if let Some(customer) = customer {
                event = event.customer(customer);
            }
            Step {
                booking,
                saves,
                guard,
                event,
            }
        })
        .collect()
}

/// The change set of one step committed alone.
fn one(step: &Step) -> ChangeSet {
    let mut changes = ChangeSet::new();
    if let Some(customer) = &step.saves {
        changes.save_customer(customer.clone());
    }
    if let Some((id, version)) = step.guard {
        changes.guard_customer(id, version);
    }
    changes.save_booking(step.booking.clone());
    changes.record(step.event.clone());
    changes
}

/// The change set of the whole batch: each customer saved once (as its last step left it,
/// at the version read before the batch), a check on every stored customer attached without
/// change, every booking, every event.
fn all_at_once(steps: &[Step]) -> ChangeSet {
    let mut saved: BTreeMap<CustomerId, Customer> = BTreeMap::new();
    for customer in steps.iter().filter_map(|step| step.saves.as_ref()) {
        saved.insert(customer.id, customer.clone());
    }
    let mut guards: BTreeMap<CustomerId, u64> = BTreeMap::new();
    for (id, version) in steps.iter().filter_map(|step| step.guard) {
        if !saved.contains_key(&id) {
            guards.entry(id).or_insert(version);
        }
    }
    let mut changes = ChangeSet::new();
    for customer in saved.into_values() {
        changes.save_customer(customer);
    }
    for (id, version) in guards {
        changes.guard_customer(id, version);
    }
    for step in steps {
        changes.save_booking(step.booking.clone());
    }
    for step in steps {
        changes.record(step.event.clone());
    }
    changes
}

/// Stores the customers of [`stored_customers`] and reads them back.
async fn seed<S: Store>(store: &S, customers: &[Customer]) -> Vec<Customer> {
    let mut changes = ChangeSet::new();
    for customer in customers {
        changes.save_customer(customer.clone());
    }
    store.commit(changes).await.unwrap();
    let mut read = Vec::new();
    for customer in customers {
        read.push(store.customer(customer.id).await.unwrap().unwrap());
    }
    read
}

/// Everything the reads answer about `customers`, `bookings` and `emails`.
#[derive(Debug, PartialEq)]
struct Snapshot {
    customers: Vec<Customer>,
    bookings: Vec<Option<Booking>>,
    customer_bookings: Vec<Vec<Booking>>,
    audit: Vec<Vec<AuditEvent>>,
    sorted: Vec<Vec<(CustomerId, customer_directory::ports::store::SortValue)>>,
    inactive: Vec<Vec<CustomerId>>,
    holders: Vec<Option<CustomerId>>,
}

async fn snapshot<S: Store + SearchStore + BulkReadStore>(store: &S, steps: &[Step]) -> Snapshot {
    let tag = 0;
    let customers = support::all_customers(store).await;
    let mut bookings = Vec::new();
    for step in steps {
        bookings.push(store.booking(step.booking.id).await.unwrap());
    }
    let mut customer_bookings = Vec::new();
    let mut audit = Vec::new();
    for customer in &customers {
        customer_bookings.push(store.customer_bookings(customer.id).await.unwrap());
        audit.push(store.audit_trail(customer.id).await.unwrap());
    }
    let mut sorted = Vec::new();
    for sort in [
        SortBy::BookingCount,
        SortBy::LastBooking,
        SortBy::TotalValue(Currency::parse("EUR").unwrap()),
        SortBy::TotalValue(Currency::parse("GBP").unwrap()),
    ] {
        for direction in [SortDirection::Ascending, SortDirection::Descending] {
            let query = CustomerQuery::new()
                .statuses([StatusKind::Active, StatusKind::Archived])
                .sorted_by(sort, direction);
            let mut hits = Vec::new();
            let mut after = None;
            loop {
                let page = store
                    .search_customers(&query, after.as_ref(), 100)
                    .await
                    .unwrap();
                let Some(last) = page.last() else { break };
                after = Some(last.position.clone());
                hits.extend(
                    page.iter()
                        .map(|hit| (hit.customer.id, hit.position.value.clone())),
                );
            }
            sorted.push(hits);
        }
    }
    let mut inactive = Vec::new();
    for minute in [-20_000, 0, 150, 400, 2_000] {
        let mut ids: Vec<CustomerId> = store
            .customers_inactive_since(at(minute))
            .await
            .unwrap()
            .iter()
            .map(|customer| customer.id)
            .collect();
        ids.sort();
        inactive.push(ids);
    }
    let mut holders = Vec::new();
    for email in (0..STORED)
        .map(|n| stored_email(tag, n))
        .chain((0..NEW_EMAILS).map(|n| new_email(tag, n)))
    {
        let key: EmailKey = EmailAddress::parse(&email).unwrap().key().clone();
        holders.push(
            store
                .lookup_email(&key)
                .await
                .unwrap()
                .customer
                .map(|c| c.id),
        );
    }
    Snapshot {
        customers,
        bookings,
        customer_bookings,
        audit,
        sorted,
        inactive,
        holders,
    }
}

/// The batch in one commit reads exactly as the batch one booking at a time.
async fn batch_reads_as_one_by_one<S: Store + SearchStore + BulkReadStore>(
    batched: S,
    one_by_one: S,
) {
    let customers = stored_customers(0);
    let stored = seed(&batched, &customers).await;
    assert_eq!(seed(&one_by_one, &customers).await, stored);
    // Both stores hold the same customers (same ids) before the batch.
    let stored_again = support::all_customers(&one_by_one).await;
    same(
        "stored customers",
        &support::all_customers(&batched).await,
        &stored_again,
    );

    let steps = batch(0, &stored);
    let changes = all_at_once(&steps);
    assert_eq!(changes.bookings().len(), BATCH);
    assert!(
        changes.customers().len() > NEW_EMAILS,
        "new and changed customers"
    );
    assert!(!changes.guards().is_empty());
    batched.commit(changes).await.unwrap();
    for step in &steps {
        one_by_one.commit(one(step)).await.unwrap();
    }

    let expected = snapshot(&one_by_one, &steps).await;
    let found = snapshot(&batched, &steps).await;
    // The reads are not empty: every booking is stored, 900 of them attributed.
    assert!(expected.bookings.iter().all(Option::is_some));
    let attributed: usize = expected.customer_bookings.iter().map(Vec::len).sum();
    assert_eq!(attributed, BATCH - BATCH / 10);
    assert_eq!(expected.customers.len(), STORED + NEW_EMAILS);
    same("customers", &found.customers, &expected.customers);
    same("bookings", &found.bookings, &expected.bookings);
    same(
        "customer bookings",
        &found.customer_bookings,
        &expected.customer_bookings,
    );
    same("audit trails", &found.audit, &expected.audit);
    same("searches", &found.sorted, &expected.sorted);
    same("inactive customers", &found.inactive, &expected.inactive);
    same("email holders", &found.holders, &expected.holders);
}

/// Fails naming the first item of `found` that differs from `expected` (the lists are long).
fn same<T: PartialEq + std::fmt::Debug>(what: &str, found: &[T], expected: &[T]) {
    assert_eq!(found.len(), expected.len(), "{what}: lengths differ");
    if let Some(index) = (0..found.len()).find(|&index| found[index] != expected[index]) {
        panic!(
            "{what} differ at {index}:\n found    {:?}\n expected {:?}",
            found[index], expected[index]
        );
    }
}

/// A conflict inside the batch leaves the store as it was and names the record: a stored
/// customer changed since it was read, a new customer's email key taken meanwhile, a
/// booking id taken meanwhile.
async fn conflicts_leave_nothing<S: Store + SearchStore + BulkReadStore>(store: S) {
    let stored = seed(&store, &stored_customers(0)).await;
    let steps = batch(0, &stored);

    // A guarded customer moved on: the guard with the highest id, checked last.
    let changes = all_at_once(&steps);
    let guarded = changes.guards().iter().map(|g| g.customer).max().unwrap();
    let mut moved = store.customer(guarded).await.unwrap().unwrap();
    moved.profile.family_name = Some(PersonName::parse("Moved").unwrap());
    let mut change = ChangeSet::new();
    change.save_customer(moved.clone());
    store.commit(change).await.unwrap();
    let before = snapshot(&store, &steps).await;
    let error = store.commit(changes).await.unwrap_err();
    match error.conflict() {
        Some(Conflict::CustomerVersion { id, found, .. }) => {
            assert_eq!(*id, guarded);
            assert_eq!(*found, Some(moved.version + 1));
        }
        other => panic!("expected the guard's conflict, got {other:?} ({error})"),
    }
    assert!(
        snapshot(&store, &steps).await == before,
        "the store changed"
    );

    // A customer read again, so the guards hold; then the new email with the highest key
    // is claimed by someone else first: found after the batch's customers are written.
    let mut reread = Vec::new();
    for customer in &stored {
        reread.push(store.customer(customer.id).await.unwrap().unwrap());
    }
    let steps = batch(0, &reread);
    let changes = all_at_once(&steps);
    let newest = changes
        .customers()
        .iter()
        .filter(|write| write.expected == Expected::Absent)
        .max_by_key(|write| write.record.id)
        .and_then(|write| write.record.profile.email.clone())
        .unwrap()
        .to_string();
    let holder = Customer::new(contact(Some(&newest), "Early", None), at(0));
    let mut change = ChangeSet::new();
    change.save_customer(holder.clone());
    store.commit(change).await.unwrap();
    let before = snapshot(&store, &steps).await;
    let error = store.commit(changes).await.unwrap_err();
    match error.conflict() {
        Some(Conflict::EmailKeyTaken { key, holder: found }) => {
            assert_eq!(key, EmailAddress::parse(&newest).unwrap().key());
            assert_eq!(*found, holder.id);
        }
        other => panic!("expected the email key's conflict, got {other:?} ({error})"),
    }
    assert!(
        snapshot(&store, &steps).await == before,
        "the store changed"
    );
    assert!(before.bookings.iter().all(Option::is_none));

    // Without that email's bookings, a booking id taken meanwhile: the highest.
    let steps: Vec<Step> = steps
        .into_iter()
        .filter(|step| {
            step.booking.contact.email.as_ref().map(|e| e.key())
                != Some(EmailAddress::parse(&newest).unwrap().key())
        })
        .collect();
    let changes = all_at_once(&steps);
    let taken = changes
        .bookings()
        .iter()
        .map(|w| w.record.id)
        .max()
        .unwrap();
    let mut early = steps
        .iter()
        .find(|step| step.booking.id == taken)
        .unwrap()
        .booking
        .clone();
    early.attribution = Attribution::Unattributed;
    let mut change = ChangeSet::new();
    change.save_booking(early);
    store.commit(change).await.unwrap();
    let before = snapshot(&store, &steps).await;
    let error = store.commit(changes).await.unwrap_err();
    match error.conflict() {
        Some(Conflict::BookingVersion { id, found, .. }) => {
            assert_eq!(*id, taken);
            assert_eq!(*found, Some(1));
        }
        other => panic!("expected the booking's conflict, got {other:?} ({error})"),
    }
    assert!(
        snapshot(&store, &steps).await == before,
        "the store changed"
    );
}

/// A batch racing edits of the customers it checks or rewrites: every commit either applies
/// or fails with a conflict (never a backend error or a deadlock), and the batch is all or
/// nothing.
async fn batch_races_edits<S: Store + SearchStore + BulkReadStore + Clone + 'static>(store: S) {
    let stored = seed(&store, &stored_customers(0)).await;
    let steps = batch(0, &stored);
    let changes = all_at_once(&steps);
    let batched = {
        let store = store.clone();
        tokio::spawn(async move { store.commit(changes).await })
    };
    let mut edits = Vec::new();
    for customer in stored.iter().step_by(7) {
        let store = store.clone();
        let mut edited = customer.clone();
        edited.profile.family_name = Some(PersonName::parse("Edited").unwrap());
        edits.push(tokio::spawn(async move {
            let mut change = ChangeSet::new();
            change.save_customer(edited);
            store.commit(change).await
        }));
    }
    let mut edited = 0;
    for edit in edits {
        match edit.await.unwrap() {
            Ok(()) => edited += 1,
            Err(error) => assert!(
                matches!(error.conflict(), Some(Conflict::CustomerVersion { .. })),
                "an edit failed with {error}"
            ),
        }
    }
    let outcome = batched.await.unwrap();
    let after = snapshot(&store, &steps).await;
    match outcome {
        Ok(()) => assert!(after.bookings.iter().all(Option::is_some)),
        Err(error) => {
            assert!(
                matches!(error.conflict(), Some(Conflict::CustomerVersion { .. })),
                "the batch failed with {error}"
            );
            assert!(edited > 0, "the batch lost to an edit");
            assert!(after.bookings.iter().all(Option::is_none));
        }
    }
}

/// A SQLite store on a new file, removed (with its WAL files) when dropped.
struct SqliteFile {
    store: SqliteStore,
    path: PathBuf,
}

impl SqliteFile {
    async fn new() -> Self {
        let path = crate::support::temp_test_path("bulk", ".db");
        let store = SqliteStore::connect(&format!("sqlite://{}", path.display()))
            .await
            .unwrap();
        store.migrate().await.unwrap();
        Self { store, path }
    }
}

impl Drop for SqliteFile {
    fn drop(&mut self) {
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", self.path.display()));
        }
    }
}

async fn postgres() -> Option<customer_directory::PostgresStore> {
    let url = support::postgres_url("bulk commit test")?;
    Some(support::fresh_postgres_store(&url, "cd_bulk").await)
}

#[tokio::test]
async fn sqlite_batch_reads_as_one_by_one() {
    let (batched, one_by_one) = (SqliteFile::new().await, SqliteFile::new().await);
    batch_reads_as_one_by_one(batched.store.clone(), one_by_one.store.clone()).await;
}

#[tokio::test]
async fn sqlite_conflicts_in_a_batch_leave_nothing() {
    let file = SqliteFile::new().await;
    conflicts_leave_nothing(file.store.clone()).await;
}

#[tokio::test]
async fn postgres_batch_reads_as_one_by_one() {
    let (Some(batched), Some(one_by_one)) = (postgres().await, postgres().await) else {
        return;
    };
    batch_reads_as_one_by_one(batched, one_by_one).await;
}

#[tokio::test]
async fn postgres_conflicts_in_a_batch_leave_nothing() {
    let Some(store) = postgres().await else {
        return;
    };
    conflicts_leave_nothing(store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_batch_races_edits() {
    let file = SqliteFile::new().await;
    batch_races_edits(file.store.clone()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_batch_races_edits() {
    let Some(store) = postgres().await else {
        return;
    };
    batch_races_edits(store).await;
}

/// Times `rounds` commits of a batch against the same bookings one by one, alternating, on
/// `store` (each round with customers and emails of its own). The change sets are built
/// before the clock starts.
async fn measure<S: Store>(name: &str, store: S, rounds: usize) {
    let mut batch_time = Duration::ZERO;
    let mut one_time = Duration::ZERO;
    let only_batches = std::env::var("BULK_ONLY").is_ok();
    for round in 0..rounds {
        let customers = stored_customers(round + 1);
        let read: Vec<Customer> = customers
            .iter()
            .map(|customer| {
                let mut stored = customer.clone();
                stored.version = 1;
                stored
            })
            .collect();
        let steps = batch(round + 1, &read);
        assert_eq!(seed(&store, &customers).await, read);
        if round % 2 == 0 || only_batches {
            let changes = all_at_once(&steps);
            let started = Instant::now();
            store.commit(changes).await.unwrap();
            batch_time += started.elapsed();
        } else {
            let changes: Vec<ChangeSet> = steps.iter().map(one).collect();
            let started = Instant::now();
            for changes in changes {
                store.commit(changes).await.unwrap();
            }
            one_time += started.elapsed();
        }
    }
    let batches = if only_batches {
        rounds
    } else {
        rounds.div_ceil(2)
    };
    let batch = batch_time / u32::try_from(batches).unwrap();
    let single = one_time / u32::try_from((rounds - batches) * BATCH).unwrap().max(1);
    eprintln!(
        "{name}: a batch of {BATCH} in {batch:?} ({:.0} bookings/s); one by one {single:?} each ({:.0} bookings/s)",
        BATCH as f64 / batch.as_secs_f64(),
        1.0 / single.as_secs_f64()
    );
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "a measurement: run with --release --ignored --nocapture"]
async fn measure_batch_commits() {
    let file = SqliteFile::new().await;
    measure("SQLite file", file.store.clone(), 10).await;
    if let Some(store) = postgres().await {
        measure("PostgreSQL", store, 6).await;
    }
}
