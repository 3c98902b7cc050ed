//! Searching answers alike on every adapter: random directories (names with accents and
//! look-alike wildcards, countries, statuses, lists, custom fields, accounts, bookings in two
//! currencies, some cancelled) are stored in a `MemoryStore`, which evaluates the query rules
//! directly, and in SQLite, which runs them as SQL on its derived columns; random queries
//! (every filter, every sort, both directions, pages of 1 to 4 rows) must list the same
//! customers in the same order, page by page, with the same sort keys.
#![cfg(all(feature = "sqlite", feature = "testing"))]

mod support;

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use customer_directory::ports::store::ChangeSet;
use customer_directory::ports::store::{AccountStore, BulkReadStore, SearchStore};
use customer_directory::ports::{CountRange, SortBy, SortDirection, StatusKind, TimeRange};

use customer_directory::ports::store::{SearchHit, SortPosition};
use customer_directory::records::{Account, Attribution};
use customer_directory::values::{CountryCode, HashParams, ListId, PasswordHashing};
use customer_directory::{
    Booking, BookingStatus, Currency, Customer, CustomerId, CustomerQuery, CustomerStatus,
    EmailAddress, Money, NewBooking, PersonName, Phone, Profile, Text,
};
use customer_directory::{MemoryStore, SqliteStore, Store};
use proptest::prelude::*;

const NAMES: &[&str] = &[
    "Ana", "ana!", "Élodie", "Núñez", "Nunez", "O'Brien", "a_b", "50%", "Zoë", "Øst", "ßtraße",
    "Lee",
];
const COUNTRIES: &[&str] = &["PT", "ES", "GB"];
const DIETS: &[&str] = &["vegan", "Vegan", "none"];
const TEXTS: &[&str] = &[
    "an", "ANA", "nunez", "núñez", "_", "%", "a_b", "50%", "example", ".com", "+351", "912 34",
    "ss", "zoe", "o'b", "x", "!", "a!", "!%",
];

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 6, 1, 9, 0, 0).unwrap()
}

/// One generated customer: names by index into `NAMES` (or none), and its bookings as
/// (start day, amount, in euros or not, cancelled or not).
#[derive(Debug, Clone)]
struct Person {
    given: Option<usize>,
    family: Option<usize>,
    display: Option<usize>,
    country: Option<usize>,
    phone: bool,
    status: u8,
    created_hours: i64,
    diet: Option<usize>,
    lists: (bool, bool),
    claimed: bool,
    bookings: Vec<(i64, i64, bool, bool)>,
}

fn person() -> impl Strategy<Value = Person> {
    let name = || prop::option::of(0..NAMES.len());
    (
        (name(), name(), prop::option::weighted(0.2, 0..NAMES.len())),
        prop::option::of(0..COUNTRIES.len()),
        any::<bool>(),
        0_u8..5,
        0_i64..6,
        prop::option::of(0..DIETS.len()),
        (any::<bool>(), any::<bool>()),
        any::<bool>(),
        prop::collection::vec(
            (
                0_i64..10,
                0_i64..5_000,
                any::<bool>(),
                prop::bool::weighted(0.2),
            ),
            0..4,
        ),
    )
        .prop_map(
            |(
                (given, family, display),
                country,
                phone,
                status,
                created_hours,
                diet,
                lists,
                claimed,
                bookings,
            )| Person {
                given,
                family,
                display,
                country,
                phone,
                status,
                created_hours,
                diet,
                lists,
                claimed,
                bookings,
            },
        )
}

fn time_range() -> impl Strategy<Value = TimeRange> {
    (prop::option::of(0_i64..12), prop::option::of(0_i64..12)).prop_map(|(from, until)| TimeRange {
        from: from.map(|d| t0() + TimeDelta::hours(d)),
        until: until.map(|d| t0() + TimeDelta::hours(d)),
    })
}

fn day_range() -> impl Strategy<Value = TimeRange> {
    (prop::option::of(0_i64..11), prop::option::of(0_i64..11)).prop_map(|(from, until)| TimeRange {
        from: from.map(|d| t0() + TimeDelta::days(d)),
        until: until.map(|d| t0() + TimeDelta::days(d)),
    })
}

/// A query, described by parts so proptest can shrink it.
#[derive(Debug, Clone)]
struct QuerySpec {
    text: Option<usize>,
    statuses: Option<Vec<u8>>,
    country: Option<usize>,
    initial: Option<char>,
    claimed: Option<bool>,
    list: Option<bool>,
    created: TimeRange,
    last_booking: TimeRange,
    count: (Option<u64>, Option<u64>),
    diet: Option<usize>,
    sort: u8,
    descending: bool,
    page: usize,
}

fn query_spec() -> impl Strategy<Value = QuerySpec> {
    (
        (
            prop::option::weighted(0.4, 0..TEXTS.len()),
            prop::option::weighted(0.4, prop::collection::vec(0_u8..5, 0..4)),
            prop::option::weighted(0.2, 0..COUNTRIES.len()),
            prop::option::weighted(
                0.2,
                prop::sample::select(vec!['a', 'N', 'n', 'É', 'z', 'o', 'ß', '5']),
            ),
            prop::option::weighted(0.2, any::<bool>()),
            prop::option::weighted(0.2, any::<bool>()),
        ),
        (
            prop_oneof![Just(TimeRange::default()), time_range()],
            prop_oneof![Just(TimeRange::default()), day_range()],
            (
                prop::option::weighted(0.2, 0_u64..4),
                prop::option::weighted(0.2, 0_u64..4),
            ),
            prop::option::weighted(0.2, 0..DIETS.len()),
            0_u8..6,
            any::<bool>(),
            1_usize..5,
        ),
    )
        .prop_map(
            |(
                (text, statuses, country, initial, claimed, list),
                (created, last_booking, count, diet, sort, descending, page),
            )| QuerySpec {
                text,
                statuses,
                country,
                initial,
                claimed,
                list,
                created,
                last_booking,
                count,
                diet,
                sort,
                descending,
                page,
            },
        )
}

fn status_kind(n: u8) -> StatusKind {
    [
        StatusKind::Active,
        StatusKind::Archived,
        StatusKind::Blocked,
        StatusKind::Redacted,
        StatusKind::Merged,
    ][usize::from(n % 5)]
}

fn query_of(spec: &QuerySpec, lists: (ListId, ListId)) -> CustomerQuery {
    let eur = Currency::parse("EUR").unwrap();
    let usd = Currency::parse("USD").unwrap();
    let sort = match spec.sort {
        0 => SortBy::Name,
        1 => SortBy::Created,
        2 => SortBy::LastBooking,
        3 => SortBy::BookingCount,
        4 => SortBy::TotalValue(eur),
        _ => SortBy::TotalValue(usd),
    };
    let direction = if spec.descending {
        SortDirection::Descending
    } else {
        SortDirection::Ascending
    };
    let mut query = CustomerQuery::new()
        .sorted_by(sort, direction)
        .created_in(spec.created)
        .last_booking_in(spec.last_booking)
        .booking_count_in(CountRange {
            min: spec.count.0,
            max: spec.count.1,
        });
    if let Some(text) = spec.text {
        query = query.text(TEXTS[text]);
    }
    if let Some(statuses) = &spec.statuses {
        query = query.statuses(statuses.iter().map(|n| status_kind(*n)));
    }
    if let Some(country) = spec.country {
        query = query.country(CountryCode::parse(COUNTRIES[country]).unwrap());
    }
    if let Some(letter) = spec.initial {
        query = query.initial(letter);
    }
    if let Some(claimed) = spec.claimed {
        query = query.claimed(claimed);
    }
    if let Some(first) = spec.list {
        query = query.in_list(if first { lists.0 } else { lists.1 });
    }
    if let Some(diet) = spec.diet {
        query = query.custom_field_equals("diet", DIETS[diet]);
    }
    query
}

/// The commit that stores the generated directory (the same records for every store).
fn directory_changes(people: &[Person], lists: (ListId, ListId)) -> ChangeSet {
    let hashing = PasswordHashing::with_params(HashParams::new(256, 1, 1).unwrap()).unwrap();
    let hash = hashing.hash("Plum-Tractor-Velvet-9").unwrap();
    let mut changes = ChangeSet::new();
    let mut first_id = None;
    for (n, person) in people.iter().enumerate() {
        let name = |i: Option<usize>| i.map(|i| PersonName::parse(NAMES[i]).unwrap());
        let email = EmailAddress::parse(&format!("guest{n}@example.com")).unwrap();
        let mut profile = Profile {
            given_name: name(person.given),
            family_name: name(person.family),
            display_name: name(person.display),
            email: Some(email.clone()),
            ..Profile::default()
        };
        profile.address.country = person
            .country
            .map(|c| CountryCode::parse(COUNTRIES[c]).unwrap());
        if person.phone {
            let number = format!("+351 912 34{n:04}");
            profile.phone = Some(Phone::parse(&number, None).unwrap());
        }
        if let Some(diet) = person.diet {
            profile
                .custom_fields
                .insert("diet".into(), Text::parse(DIETS[diet]).unwrap());
        }
        let mut customer = Customer::new(
            profile.clone(),
            t0() + TimeDelta::hours(person.created_hours),
        );
        let first = *first_id.get_or_insert(customer.id);
        customer.status = match person.status {
            0 => CustomerStatus::Active,
            1 => CustomerStatus::Archived,
            2 => CustomerStatus::Blocked,
            3 => CustomerStatus::Redacted,
            _ => CustomerStatus::MergedInto(first),
        };
        if person.lists.0 {
            customer.records.lists.insert(lists.0);
        }
        if person.lists.1 {
            customer.records.lists.insert(lists.1);
        }
        if !customer.status.is_live() {
            // Not live: no email key, as after a merge or redaction.
            customer.profile.email = None;
        }
        for (b, (day, amount, euros, cancelled)) in person.bookings.iter().enumerate() {
            let currency = Currency::parse(if *euros { "EUR" } else { "USD" }).unwrap();
            let status = if *cancelled {
                BookingStatus::CANCELLED
            } else {
                BookingStatus::PAID
            };
            let new = NewBooking::new(
                format!("B-{n}-{b}"),
                status,
                profile.clone(),
                t0() + TimeDelta::days(*day),
                Money::new(*amount, currency),
            );
            let mut booking = Booking::from_new(new, t0());
            booking.attribution = Attribution::Primary(customer.id);
            changes.save_booking(booking);
        }
        if person.claimed {
            let mut account = Account::new(email, hash.clone(), t0());
            account.customer = Some(customer.id);
            changes.save_account(account);
        }
        changes.save_customer(customer);
    }
    changes
}

/// Every page of `query`, `size` rows at a time, with the positions the store reported.
async fn pages<S: Store + AccountStore + SearchStore + BulkReadStore>(
    store: &S,
    query: &CustomerQuery,
    size: usize,
) -> Vec<(CustomerId, SortPosition)> {
    let mut all = Vec::new();
    let mut after: Option<SortPosition> = None;
    loop {
        let hits: Vec<SearchHit> = store
            .search_customers(query, after.as_ref(), size)
            .await
            .expect("search");
        let Some(last) = hits.last() else { break };
        after = Some(last.position.clone());
        let full = hits.len() == size;
        all.extend(hits.into_iter().map(|hit| (hit.customer.id, hit.position)));
        if !full || all.len() > 200 {
            break;
        }
    }
    all
}

/// Stores the directory in a `MemoryStore` and in `other`, then checks every query lists
/// the same customers in the same order in both, page by page.
async fn agree<S: Store + AccountStore + SearchStore + BulkReadStore>(
    other: &S,
    people: &[Person],
    queries: &[QuerySpec],
) -> Result<(), TestCaseError> {
    let lists = (ListId::new(), ListId::new());
    let memory = MemoryStore::new();
    memory
        .commit(directory_changes(people, lists))
        .await
        .unwrap();
    // The same records, ids included, in the other store.
    let mut again = ChangeSet::new();
    for mut customer in memory.all_customers() {
        customer.version -= 1;
        again.save_customer(customer);
    }
    for mut booking in memory.all_bookings() {
        booking.version -= 1;
        again.save_booking(booking);
    }
    for mut account in memory.all_accounts() {
        account.version -= 1;
        again.save_account(account);
    }
    other.commit(again).await.unwrap();
    for spec in queries {
        let query = query_of(spec, lists);
        let expected = pages(&memory, &query, 100).await;
        let in_memory = pages(&memory, &query, spec.page).await;
        let in_other = pages(other, &query, spec.page).await;
        prop_assert_eq!(&in_memory, &expected, "{:?}", query);
        prop_assert_eq!(&in_other, &expected, "{:?}", query);
    }
    Ok(())
}

fn block_on<F: Future<Output = Result<(), TestCaseError>>>(future: F) -> Result<(), TestCaseError> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(future)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn memory_and_sqlite_list_the_same_customers_in_the_same_order(
        people in prop::collection::vec(person(), 1..9),
        queries in prop::collection::vec(query_spec(), 1..6),
    ) {
        block_on(async {
            let sqlite = SqliteStore::connect("sqlite::memory:").await.unwrap();
            sqlite.migrate().await.unwrap();
            agree(&sqlite, &people, &queries).await
        })?;
    }
}

/// The same on PostgreSQL (fewer cases: each needs a schema of its own), when a server is
/// configured (`CUSTOMER_DIRECTORY_POSTGRES_URL`); otherwise it says so and passes.
#[cfg(feature = "postgres")]
mod postgres {
    use super::*;
    use customer_directory::PostgresStore;

    fn url() -> Option<String> {
        super::support::postgres_url("query property test")
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]

        #[test]
        fn memory_and_postgres_list_the_same_customers_in_the_same_order(
            people in prop::collection::vec(person(), 1..9),
            queries in prop::collection::vec(query_spec(), 1..6),
        ) {
            let Some(url) = url() else { return Ok(()) };
            block_on(async {
                let schema = format!("cd_query_{}", CustomerId::new().as_uuid().simple());
                let store = PostgresStore::connect_with_schema(&url, &schema).await.unwrap();
                store.migrate().await.unwrap();
                let result = agree(&store, &people, &queries).await;
                let _ = sqlx::query(&format!("DROP SCHEMA {schema} CASCADE"))
                    .execute(store.pool())
                    .await;
                store.pool().close().await;
                result
            })?;
        }
    }
}
