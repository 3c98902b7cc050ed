//! Searching the directory: text search, every filter, every sort in
//! both directions, keyset pagination and its stability while bookings and customers are
//! recorded between pages, the booking statistics a store keeps for it, and the last login
//! in the summary and the export.
//!
//! The fixture (see [`fixture`]): six customers with known names, countries, statuses,
//! creation times and bookings, so every expected answer is written out by hand.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, TimeDelta, Utc};

use crate::decisions::merge::MergeRequest;
use crate::ports::clock::FixedClock;
use crate::ports::query::builder::{
    CountRange, CustomerQuery, SortBy, SortDirection, StatusKind, TimeRange,
};
use crate::ports::query::cursor::{Cursor, CursorError};
use crate::ports::query::evaluation::SortValue;
use crate::ports::store::changes::ChangeSet;
use crate::ports::store::{AccountStore, BulkReadStore, SearchStore, Store};
use crate::records::account::Account;
use crate::records::audit::Actor;
use crate::records::booking::NewBooking;
use crate::records::customer::CustomerStatus;
use crate::records::profile::Profile;
use crate::service::directory::Directory;
use crate::service::error::Error;
use crate::values::booking_status::BookingStatus;
use crate::values::ids::{BookingId, CustomerId};
use crate::values::money::{Currency, Money};
use crate::values::password::hashing::{HashParams, PasswordHashing};
use crate::values::phone::Phone;
use crate::values::text::{CountryCode, Text};

use crate::testing::conformance::fixtures::{contact, directory, t0};

fn staff() -> Actor {
    Actor::staff("search")
}

fn money(minor: i64, currency: &str) -> Money {
    Money::new(minor, Currency::parse(currency).unwrap())
}

fn days(n: i64) -> DateTime<Utc> {
    t0() + TimeDelta::days(n)
}

fn hours(n: i64) -> DateTime<Utc> {
    t0() + TimeDelta::hours(n)
}

/// The fixture's customers.
pub struct Fixture<S> {
    pub dir: Directory<S, FixedClock>,
    /// Ana Silva, PT, phone +351 912 345 678, created t0, custom field diet=vegan; bookings:
    /// 50.00 EUR paid starting day 10, 30.00 EUR cancelled starting day 20.
    pub ana: CustomerId,
    /// Bo Berg, SE, blocked, created t0 + 1h; one booking: 300.00 USD starting day 5.
    pub bo: CustomerId,
    /// Élodie Núñez, ES, created t0 + 2h, diet=Vegan; three bookings of 40.00 EUR starting
    /// days 1, 2 and 3.
    pub elodie: CustomerId,
    /// Dan (no family name, no country), created t0 + 3h; no booking.
    pub dan: CustomerId,
    /// Eve Adams, GB, archived, created t0 + 4h; one booking: 10.00 EUR starting day 30.
    pub eve: CustomerId,
    /// Zed Zulu, redacted, created t0 + 5h.
    pub zed: CustomerId,
    /// Mo Merged, merged into Ana, created t0 + 6h.
    pub mo: CustomerId,
}

fn person(email: &str, given: &str, family: &str, country: Option<&str>) -> Profile {
    let mut profile = contact(email, given, family);
    profile.address.country = country.map(|c| CountryCode::parse(c).unwrap());
    profile
}

async fn create<S: Store>(
    dir: &Directory<S, FixedClock>,
    at: DateTime<Utc>,
    profile: Profile,
) -> CustomerId {
    dir.clock().set(at);
    dir.create_customer(profile, &staff())
        .await
        .expect("customer created")
        .customer
}

/// Records a booking for `profile`'s email (attached to its customer) starting at `start`.
async fn book<S: Store>(
    dir: &Directory<S, FixedClock>,
    profile: &Profile,
    code: &str,
    status: BookingStatus,
    start: DateTime<Utc>,
    total: Money,
) -> BookingId {
    let new = NewBooking::new(code, status, profile.clone(), start, total);
    dir.record_booking(new, &Actor::System)
        .await
        .expect("booking recorded")
        .booking
}

/// Sets a status directly, as the lifecycle operations would leave it.
async fn set_status<S: Store>(
    dir: &Directory<S, FixedClock>,
    id: CustomerId,
    status: CustomerStatus,
) {
    let mut customer = dir.customer(id).await.unwrap();
    customer.status = status;
    let mut changes = ChangeSet::new();
    changes.save_customer(customer);
    dir.store().commit(changes).await.unwrap();
}

pub(super) async fn fixture<S: Store + Clone + 'static>(store: S) -> Fixture<S> {
    let dir = directory(store);
    let mut ana_profile = person("ana@example.com", "Ana", "Silva", Some("PT"));
    ana_profile.phone = Some(Phone::parse("+351 912 345 678", None).unwrap());
    ana_profile
        .custom_fields
        .insert("diet".into(), Text::parse("vegan").unwrap());
    let ana = create(&dir, t0(), ana_profile.clone()).await;
    let bo_profile = person("bo@example.org", "Bo", "Berg", Some("SE"));
    let bo = create(&dir, hours(1), bo_profile.clone()).await;
    let mut elodie_profile = person("elodie@example.com", "Élodie", "Núñez", Some("ES"));
    elodie_profile
        .custom_fields
        .insert("diet".into(), Text::parse("Vegan").unwrap());
    let elodie = create(&dir, hours(2), elodie_profile.clone()).await;
    let dan = create(&dir, hours(3), person("dan@example.com", "Dan", "", None)).await;
    let eve_profile = person("eve@example.net", "Eve", "Adams", Some("GB"));
    let eve = create(&dir, hours(4), eve_profile.clone()).await;
    let zed = create(&dir, hours(5), person("", "Zed", "Zulu", None)).await;
    let mo = create(&dir, hours(6), person("", "Mo", "Merged", None)).await;
    dir.clock().set(days(40));

    let eur = |minor| money(minor, "EUR");
    book(
        &dir,
        &ana_profile,
        "A-1",
        BookingStatus::PAID,
        days(10),
        eur(50_00),
    )
    .await;
    book(
        &dir,
        &ana_profile,
        "A-2",
        BookingStatus::CANCELLED,
        days(20),
        eur(30_00),
    )
    .await;
    book(
        &dir,
        &bo_profile,
        "B-1",
        BookingStatus::PAID,
        days(5),
        money(30_000, "USD"),
    )
    .await;
    for day in 1..=3 {
        let code = format!("E-{day}");
        book(
            &dir,
            &elodie_profile,
            &code,
            BookingStatus::PAID,
            days(day),
            eur(40_00),
        )
        .await;
    }
    book(
        &dir,
        &eve_profile,
        "V-1",
        BookingStatus::PAID,
        days(30),
        eur(10_00),
    )
    .await;

    dir.block(bo, "chargebacks", &staff()).await.unwrap();
    dir.archive(eve, &staff()).await.unwrap();
    set_status(&dir, zed, CustomerStatus::Redacted).await;
    set_status(&dir, mo, CustomerStatus::MergedInto(ana)).await;
    Fixture {
        dir,
        ana,
        bo,
        elodie,
        dan,
        eve,
        zed,
        mo,
    }
}

/// One page of up to 100 rows: the whole answer for the fixture.
pub async fn ids<S: Store + SearchStore>(
    dir: &Directory<S, FixedClock>,
    query: &CustomerQuery,
) -> Vec<CustomerId> {
    let page = dir.search(query, None, 100).await.expect("search");
    assert!(page.next.is_none(), "one page holds the whole answer");
    page.customers.iter().map(|c| c.id).collect()
}

/// Every page of `size` rows, concatenated; the same rows as one big page.
pub(super) async fn paged<S: Store + SearchStore>(
    dir: &Directory<S, FixedClock>,
    query: &CustomerQuery,
    size: usize,
) -> Vec<CustomerId> {
    let mut all = Vec::new();
    let mut cursor: Option<Cursor> = None;
    loop {
        let page = dir
            .search(query, cursor.as_ref(), size)
            .await
            .expect("page");
        assert!(page.customers.len() <= size);
        all.extend(page.customers.iter().map(|c| c.id));
        match page.next {
            Some(next) => cursor = Some(next.to_string().parse().expect("cursor text")),
            None => break,
        }
        assert!(all.len() <= 1_000, "paging does not end");
    }
    all
}

/// Checks `query` answers exactly `expected` in order, in one page and page by page, and
/// the reverse order when the direction is reversed.
async fn assert_order<S: Store + SearchStore>(
    dir: &Directory<S, FixedClock>,
    query: CustomerQuery,
    expected: &[CustomerId],
) {
    assert_eq!(ids(dir, &query).await, expected, "{query:?}");
    assert_eq!(
        paged(dir, &query, 1).await,
        expected,
        "page by page: {query:?}"
    );
    assert_eq!(
        paged(dir, &query, 2).await,
        expected,
        "two by two: {query:?}"
    );
    let reversed = CustomerQuery {
        direction: match query.direction {
            SortDirection::Ascending => SortDirection::Descending,
            SortDirection::Descending => SortDirection::Ascending,
        },
        ..query
    };
    let mut backwards = expected.to_vec();
    backwards.reverse();
    assert_eq!(ids(dir, &reversed).await, backwards, "{reversed:?}");
    assert_eq!(paged(dir, &reversed, 2).await, backwards, "{reversed:?}");
}

/// `ids` ordered by their key, then id: the expected order of a sort with ties.
fn by_key(mut keyed: Vec<(i64, CustomerId)>) -> Vec<CustomerId> {
    keyed.sort();
    keyed.into_iter().map(|(_, id)| id).collect()
}

fn set(ids: &[CustomerId]) -> HashSet<CustomerId> {
    ids.iter().copied().collect()
}

// ---------------------------------------------------------------------------------------

pub async fn query_text_search_finds_name_email_and_phone_ignoring_case_and_accents<
    S: Store + SearchStore + Clone + 'static,
>(
    store: S,
) {
    let f = fixture(store).await;
    let find = |text: &str| CustomerQuery::new().text(text);
    assert_eq!(
        ids(&f.dir, &find("SIL")).await,
        [f.ana],
        "family name, any case"
    );
    assert_eq!(
        ids(&f.dir, &find("ana silva")).await,
        [f.ana],
        "given + family"
    );
    assert_eq!(ids(&f.dir, &find("núñez")).await, [f.elodie]);
    assert_eq!(
        ids(&f.dir, &find("NUNEZ")).await,
        [f.elodie],
        "accents ignored"
    );
    assert_eq!(ids(&f.dir, &find("elodie")).await, [f.elodie], "given name");
    assert_eq!(ids(&f.dir, &find("EXAMPLE.ORG")).await, [f.bo], "email");
    assert_eq!(ids(&f.dir, &find("912 345")).await, [f.ana], "phone digits");
    assert_eq!(
        ids(&f.dir, &find("+351912")).await,
        [f.ana],
        "phone as E.164"
    );
    assert!(ids(&f.dir, &find("nobody")).await.is_empty());
    // LIKE wildcards are plain characters.
    assert!(ids(&f.dir, &find("a_a")).await.is_empty());
    assert!(ids(&f.dir, &find("a%a")).await.is_empty());
    assert!(ids(&f.dir, &find("\\")).await.is_empty());
    // Text search keeps the status filter: archived Eve only when asked for.
    assert!(ids(&f.dir, &find("adams")).await.is_empty());
    assert_eq!(
        ids(&f.dir, &find("adams").include_archived()).await,
        [f.eve]
    );
    // Blank text searches nothing: the default listing.
    assert_eq!(
        set(&ids(&f.dir, &find("   ")).await),
        set(&[f.ana, f.bo, f.elodie, f.dan])
    );
    // The escape character of the SQL patterns is a plain character too.
    let bang = create(
        &f.dir,
        days(41),
        person("a!b@example.com", "Xu", "Bang", None),
    )
    .await;
    assert_eq!(ids(&f.dir, &find("a!b")).await, [bang]);
    assert_eq!(ids(&f.dir, &find("!")).await, [bang]);
    assert!(ids(&f.dir, &find("!b!")).await.is_empty());
    assert!(ids(&f.dir, &find("a!%")).await.is_empty());
    // Emails of several customers: substring of each.
    assert_eq!(
        set(&ids(&f.dir, &find("@example.com")).await),
        set(&[f.ana, f.elodie, f.dan, bang])
    );
}

pub async fn query_lists_active_and_blocked_by_default_and_other_statuses_when_asked<
    S: Store + SearchStore + Clone + 'static,
>(
    store: S,
) {
    let f = fixture(store).await;
    let q = CustomerQuery::new();
    assert_eq!(ids(&f.dir, &q).await, [f.bo, f.dan, f.elodie, f.ana]);
    assert_eq!(
        ids(&f.dir, &q.clone().include_archived()).await,
        [f.eve, f.bo, f.dan, f.elodie, f.ana]
    );
    assert_eq!(
        ids(&f.dir, &q.clone().statuses([StatusKind::Archived])).await,
        [f.eve]
    );
    assert_eq!(
        ids(&f.dir, &q.clone().statuses([StatusKind::Blocked])).await,
        [f.bo]
    );
    assert_eq!(
        ids(&f.dir, &q.clone().statuses([StatusKind::Redacted])).await,
        [f.zed]
    );
    assert_eq!(
        ids(&f.dir, &q.clone().statuses([StatusKind::Merged])).await,
        [f.mo]
    );
    assert!(ids(&f.dir, &q.clone().statuses([])).await.is_empty());
    // Archiving and activating move a customer in and out of the default listing.
    f.dir.archive(f.dan, &staff()).await.unwrap();
    assert_eq!(ids(&f.dir, &q).await, [f.bo, f.elodie, f.ana]);
    f.dir.activate(f.dan, &staff()).await.unwrap();
    assert_eq!(ids(&f.dir, &q).await, [f.bo, f.dan, f.elodie, f.ana]);
}

pub async fn query_filters_by_country<S: Store + SearchStore + Clone + 'static>(store: S) {
    let f = fixture(store).await;
    let country = |code: &str| CustomerQuery::new().country(CountryCode::parse(code).unwrap());
    assert_eq!(ids(&f.dir, &country("PT")).await, [f.ana]);
    assert_eq!(ids(&f.dir, &country("se")).await, [f.bo]);
    assert!(
        ids(&f.dir, &country("GB")).await.is_empty(),
        "Eve is archived"
    );
    assert_eq!(
        ids(&f.dir, &country("GB").include_archived()).await,
        [f.eve]
    );
    assert!(ids(&f.dir, &country("DE")).await.is_empty());
    // A new address moves the customer to its new country.
    let mut dan = f.dir.customer(f.dan).await.unwrap();
    dan.profile.address.country = Some(CountryCode::parse("PT").unwrap());
    let mut changes = ChangeSet::new();
    changes.save_customer(dan);
    f.dir.store().commit(changes).await.unwrap();
    assert_eq!(ids(&f.dir, &country("PT")).await, [f.dan, f.ana]);
}

pub async fn query_filters_by_first_letter_of_the_name_key<
    S: Store + SearchStore + Clone + 'static,
>(
    store: S,
) {
    let f = fixture(store).await;
    let letter = |c: char| CustomerQuery::new().initial(c);
    assert_eq!(
        ids(&f.dir, &letter('N')).await,
        [f.elodie],
        "family name first"
    );
    assert_eq!(ids(&f.dir, &letter('n')).await, [f.elodie], "any case");
    assert_eq!(
        ids(&f.dir, &letter('Ñ')).await,
        [f.elodie],
        "accents ignored"
    );
    assert_eq!(
        ids(&f.dir, &letter('d')).await,
        [f.dan],
        "given name without family name"
    );
    assert_eq!(ids(&f.dir, &letter('S')).await, [f.ana]);
    assert!(
        ids(&f.dir, &letter('E')).await.is_empty(),
        "Élodie sorts under N"
    );
    assert!(ids(&f.dir, &letter('A')).await.is_empty());
    assert_eq!(ids(&f.dir, &letter('A').include_archived()).await, [f.eve]);
    // A display name counts when there is no family name.
    let mut profile = person("", "Kai", "", None);
    profile.display_name = crate::testing::conformance::fixtures::name("Wolf Kai");
    let kai = create(&f.dir, days(41), profile).await;
    assert_eq!(ids(&f.dir, &letter('w')).await, [kai]);
}

pub async fn query_filters_claimed_and_unclaimed_by_accounts<
    S: Store + SearchStore + AccountStore + Clone + 'static,
>(
    store: S,
) {
    let f = fixture(store).await;
    assert!(
        ids(&f.dir, &CustomerQuery::new().claimed(true))
            .await
            .is_empty()
    );
    let account = claim(&f.dir, "elodie@example.com", f.elodie, None).await;
    assert_eq!(
        ids(&f.dir, &CustomerQuery::new().claimed(true)).await,
        [f.elodie]
    );
    assert_eq!(
        ids(&f.dir, &CustomerQuery::new().claimed(false)).await,
        [f.bo, f.dan, f.ana]
    );
    // Deleting the account unclaims the customer.
    let mut changes = ChangeSet::new();
    changes.delete_account(&account);
    f.dir.store().commit(changes).await.unwrap();
    assert!(
        ids(&f.dir, &CustomerQuery::new().claimed(true))
            .await
            .is_empty()
    );
    assert_eq!(
        ids(&f.dir, &CustomerQuery::new().claimed(false)).await,
        [f.bo, f.dan, f.elodie, f.ana]
    );
}

/// Stores a verified account claiming `customer`, last logged in at `last_login`.
async fn claim<S: Store>(
    dir: &Directory<S, FixedClock>,
    email: &str,
    customer: CustomerId,
    last_login: Option<DateTime<Utc>>,
) -> Account {
    let hashing = PasswordHashing::with_params(HashParams::new(256, 1, 1).unwrap()).unwrap();
    let hash = hashing.hash("Plum-Tractor-Velvet-9").unwrap();
    let mut account = Account::new(
        crate::values::email::address::EmailAddress::parse(email).unwrap(),
        hash,
        t0(),
    );
    account.customer = Some(customer);
    account.verified_at = Some(t0());
    account.last_login_at = last_login;
    let mut changes = ChangeSet::new();
    changes.save_account(account.clone());
    dir.store().commit(changes).await.unwrap();
    dir.store()
        .account(account.id)
        .await
        .unwrap()
        .expect("stored")
}

pub async fn query_filters_by_list_membership<S: Store + SearchStore + Clone + 'static>(store: S) {
    let f = fixture(store).await;
    let school = f
        .dir
        .create_list(Text::parse("School groups").unwrap(), &staff())
        .await
        .unwrap();
    let empty = f
        .dir
        .create_list(Text::parse("Empty").unwrap(), &staff())
        .await
        .unwrap();
    f.dir.add_to_list(f.ana, school, &staff()).await.unwrap();
    f.dir.add_to_list(f.dan, school, &staff()).await.unwrap();
    f.dir.add_to_list(f.eve, school, &staff()).await.unwrap();
    let members = CustomerQuery::new().in_list(school);
    assert_eq!(ids(&f.dir, &members).await, [f.dan, f.ana]);
    assert_eq!(
        ids(&f.dir, &members.clone().include_archived()).await,
        [f.eve, f.dan, f.ana]
    );
    assert!(
        ids(&f.dir, &CustomerQuery::new().in_list(empty))
            .await
            .is_empty()
    );
    f.dir
        .remove_from_list(f.dan, school, &staff())
        .await
        .unwrap();
    assert_eq!(ids(&f.dir, &members).await, [f.ana]);
}

pub async fn query_filters_by_created_range<S: Store + SearchStore + Clone + 'static>(store: S) {
    let f = fixture(store).await;
    let created = |range| {
        CustomerQuery::new()
            .created_in(range)
            .sorted_by(SortBy::Created, SortDirection::Ascending)
    };
    assert_eq!(
        ids(&f.dir, &created(TimeRange::new(hours(1), hours(3)))).await,
        [f.bo, f.elodie],
        "half open: from included, until excluded"
    );
    assert_eq!(
        ids(&f.dir, &created(TimeRange::before(hours(1)))).await,
        [f.ana]
    );
    assert_eq!(
        ids(&f.dir, &created(TimeRange::since(hours(3)))).await,
        [f.dan]
    );
    assert_eq!(
        ids(
            &f.dir,
            &created(TimeRange::since(hours(3))).include_archived()
        )
        .await,
        [f.dan, f.eve]
    );
    assert!(
        ids(&f.dir, &created(TimeRange::new(hours(3), hours(3))))
            .await
            .is_empty()
    );
}

pub async fn query_filters_by_last_booking_range<S: Store + SearchStore + Clone + 'static>(
    store: S,
) {
    let f = fixture(store).await;
    let last = |range| {
        CustomerQuery::new()
            .last_booking_in(range)
            .sorted_by(SortBy::LastBooking, SortDirection::Ascending)
    };
    assert_eq!(
        ids(&f.dir, &last(TimeRange::new(days(4), days(25)))).await,
        [f.bo, f.ana],
        "Ana's latest booking counts even though it is cancelled"
    );
    assert_eq!(
        ids(&f.dir, &last(TimeRange::before(days(4)))).await,
        [f.elodie],
        "customers without bookings never match a last-booking range"
    );
    assert_eq!(
        ids(&f.dir, &last(TimeRange::since(days(20)))).await,
        [f.ana]
    );
    assert_eq!(
        ids(&f.dir, &last(TimeRange::since(days(20))).include_archived()).await,
        [f.ana, f.eve]
    );
    assert!(
        ids(&f.dir, &last(TimeRange::new(days(3), days(3))))
            .await
            .is_empty()
    );
}

pub async fn query_filters_by_booking_count_range<S: Store + SearchStore + Clone + 'static>(
    store: S,
) {
    let f = fixture(store).await;
    let count = |range| {
        CustomerQuery::new()
            .booking_count_in(range)
            .sorted_by(SortBy::BookingCount, SortDirection::Ascending)
    };
    assert_eq!(
        ids(&f.dir, &count(CountRange::between(1, 2))).await,
        [f.bo, f.ana],
        "inclusive, cancelled ones counted"
    );
    assert_eq!(
        ids(&f.dir, &count(CountRange::at_least(3))).await,
        [f.elodie]
    );
    assert_eq!(ids(&f.dir, &count(CountRange::at_most(0))).await, [f.dan]);
    assert!(
        ids(&f.dir, &count(CountRange::at_least(u64::MAX)))
            .await
            .is_empty()
    );
    assert!(
        ids(&f.dir, &count(CountRange::between(2, 1)))
            .await
            .is_empty()
    );
}

pub async fn query_filters_by_custom_field_value<S: Store + SearchStore + Clone + 'static>(
    store: S,
) {
    let f = fixture(store).await;
    let field = |key: &str, value: &str| CustomerQuery::new().custom_field_equals(key, value);
    assert_eq!(
        ids(&f.dir, &field("diet", "vegan")).await,
        [f.ana],
        "exact value"
    );
    assert_eq!(ids(&f.dir, &field("diet", "Vegan")).await, [f.elodie]);
    assert!(ids(&f.dir, &field("diet", "veg")).await.is_empty());
    assert!(ids(&f.dir, &field("shoe", "vegan")).await.is_empty());
    // A changed value is found by its new value only.
    let mut ana = f.dir.customer(f.ana).await.unwrap();
    ana.profile
        .custom_fields
        .insert("diet".into(), Text::parse("Vegan").unwrap());
    ana.profile
        .custom_fields
        .insert("shoe".into(), Text::parse("42").unwrap());
    let mut changes = ChangeSet::new();
    changes.save_customer(ana);
    f.dir.store().commit(changes).await.unwrap();
    assert!(ids(&f.dir, &field("diet", "vegan")).await.is_empty());
    assert_eq!(
        ids(&f.dir, &field("diet", "Vegan")).await,
        [f.elodie, f.ana]
    );
    assert_eq!(ids(&f.dir, &field("shoe", "42")).await, [f.ana]);
}

pub async fn query_sorts_by_name_with_the_id_breaking_ties<
    S: Store + SearchStore + Clone + 'static,
>(
    store: S,
) {
    let f = fixture(store).await;
    let by_name = CustomerQuery::new();
    assert_order(&f.dir, by_name.clone(), &[f.bo, f.dan, f.elodie, f.ana]).await;
    // Two customers with one name: the id decides, in the sort's direction.
    let twin_a = create(&f.dir, days(41), person("", "Kim", "Lee", None)).await;
    let twin_b = create(&f.dir, days(41), person("", "KIM", "LEE", None)).await;
    let (low, high) = if twin_a < twin_b {
        (twin_a, twin_b)
    } else {
        (twin_b, twin_a)
    };
    assert_order(&f.dir, by_name, &[f.bo, f.dan, low, high, f.elodie, f.ana]).await;
}

pub async fn query_sorts_by_created<S: Store + SearchStore + Clone + 'static>(store: S) {
    let f = fixture(store).await;
    let query = CustomerQuery::new()
        .include_archived()
        .sorted_by(SortBy::Created, SortDirection::Ascending);
    assert_order(&f.dir, query, &[f.ana, f.bo, f.elodie, f.dan, f.eve]).await;
}

pub async fn query_sorts_by_last_booking<S: Store + SearchStore + Clone + 'static>(store: S) {
    let f = fixture(store).await;
    let query = CustomerQuery::new()
        .include_archived()
        .sorted_by(SortBy::LastBooking, SortDirection::Ascending);
    assert_order(
        &f.dir,
        query.clone(),
        &[f.dan, f.elodie, f.bo, f.ana, f.eve],
    )
    .await;
    // A later booking moves Elodie to the end.
    let profile = f.dir.customer(f.elodie).await.unwrap().profile;
    book(
        &f.dir,
        &profile,
        "E-9",
        BookingStatus::PAID,
        days(35),
        money(1, "EUR"),
    )
    .await;
    assert_order(&f.dir, query, &[f.dan, f.bo, f.ana, f.eve, f.elodie]).await;
}

pub async fn query_sorts_by_booking_count<S: Store + SearchStore + Clone + 'static>(store: S) {
    let f = fixture(store).await;
    let query = CustomerQuery::new().sorted_by(SortBy::BookingCount, SortDirection::Ascending);
    assert_order(&f.dir, query.clone(), &[f.dan, f.bo, f.ana, f.elodie]).await;
    let expected = by_key(vec![
        (0, f.dan),
        (1, f.bo),
        (1, f.eve),
        (2, f.ana),
        (3, f.elodie),
    ]);
    assert_order(&f.dir, query.include_archived(), &expected).await;
}

pub async fn query_sorts_by_total_value_in_one_currency<
    S: Store + SearchStore + Clone + 'static,
>(
    store: S,
) {
    let f = fixture(store).await;
    let eur = Currency::parse("EUR").unwrap();
    let usd = Currency::parse("USD").unwrap();
    let by_value = |currency| {
        CustomerQuery::new()
            .include_archived()
            .sorted_by(SortBy::TotalValue(currency), SortDirection::Ascending)
    };
    // Cancelled bookings are not counted; other currencies count as nothing.
    let expected = by_key(vec![
        (0, f.bo),
        (0, f.dan),
        (10_00, f.eve),
        (50_00, f.ana),
        (12_000, f.elodie),
    ]);
    assert_order(&f.dir, by_value(eur), &expected).await;
    let expected = by_key(vec![
        (0, f.ana),
        (0, f.dan),
        (0, f.elodie),
        (0, f.eve),
        (30_000, f.bo),
    ]);
    assert_order(&f.dir, by_value(usd), &expected).await;
    // The positions a store reports are the totals in minor units.
    let hits = f
        .dir
        .store()
        .search_customers(&by_value(eur), None, 10)
        .await
        .unwrap();
    let totals: HashMap<CustomerId, SortValue> = hits
        .into_iter()
        .map(|hit| (hit.customer.id, hit.position.value))
        .collect();
    assert_eq!(totals[&f.elodie], SortValue::Int(12_000));
    assert_eq!(totals[&f.bo], SortValue::Int(0));
}

/// Sorting by name (and by creation time, newest first), 5 rows a page: after the first
/// page, bookings are recorded for customers on it and not yet on it, and two customers are
/// created, one sorting before the cursor and one after. Guarantee checked: no customer is
/// listed twice; every customer that existed before the first page is listed exactly once;
/// the new customer after the cursor is listed, the one before it is not; the rows come in
/// the sort's order.
pub async fn query_pages_neither_repeat_nor_skip_while_bookings_and_customers_arrive<
    S: Store + SearchStore + Clone + 'static,
>(
    store: S,
) {
    let dir = directory(store);
    let families = [
        "Baker", "Carter", "Diaz", "Evans", "Fox", "Garcia", "Hughes", "Ito", "Jones", "Khan",
        "Lopez", "Moreau",
    ];
    let mut people = Vec::new();
    for (n, family) in families.iter().enumerate() {
        let profile = person(&format!("guest{n}@example.com"), "Guest", family, None);
        let id = create(&dir, hours(i64::try_from(n).unwrap()), profile.clone()).await;
        people.push((id, profile));
    }
    let before: HashSet<CustomerId> = people.iter().map(|(id, _)| *id).collect();
    for (query, early, late) in [
        (CustomerQuery::new(), "Aaron", "Zimmer"),
        (
            CustomerQuery::new().sorted_by(SortBy::Created, SortDirection::Descending),
            "",
            "",
        ),
    ] {
        let first = dir.search(&query, None, 5).await.unwrap();
        assert_eq!(first.customers.len(), 5);
        let mut seen: Vec<CustomerId> = first.customers.iter().map(|c| c.id).collect();
        // Between pages: bookings for a customer already listed and for ones not yet
        // listed, and new customers.
        for (n, (_, profile)) in people.iter().enumerate().filter(|(n, _)| n % 3 == 0) {
            let code = format!("P-{n}-{}", seen.len());
            book(
                &dir,
                profile,
                &code,
                BookingStatus::PAID,
                days(2),
                money(10_00, "EUR"),
            )
            .await;
        }
        let mut new_customers = Vec::new();
        if !early.is_empty() {
            let at = days(50);
            let early_id = create(&dir, at, person("", "New", early, None)).await;
            let late_id = create(&dir, at, person("", "New", late, None)).await;
            new_customers.push((early_id, false));
            new_customers.push((late_id, true));
        } else {
            // Newest first: a new customer sorts before the cursor.
            let newest = create(&dir, days(60), person("", "New", "Newest", None)).await;
            new_customers.push((newest, false));
        }
        let mut cursor = first.next;
        while let Some(after) = cursor {
            let page = dir.search(&query, Some(&after), 5).await.unwrap();
            seen.extend(page.customers.iter().map(|c| c.id));
            cursor = page.next;
        }
        let unique: HashSet<CustomerId> = seen.iter().copied().collect();
        assert_eq!(
            unique.len(),
            seen.len(),
            "no customer listed twice: {query:?}"
        );
        for id in &before {
            assert!(unique.contains(id), "existing customer skipped: {query:?}");
        }
        for (id, listed) in new_customers {
            assert_eq!(unique.contains(&id), listed, "{query:?}");
        }
        // In order: the listing read now, restricted to what was seen, is the same sequence.
        let now: Vec<CustomerId> = ids(&dir, &query)
            .await
            .into_iter()
            .filter(|id| unique.contains(id))
            .collect();
        assert_eq!(now, seen, "{query:?}");
    }
}

/// Sorting by booking count ascending, 2 rows a page: after the first page, a customer on it
/// and a customer not yet listed get another booking. Guarantee checked: every customer that
/// existed before the first page is listed at least once (keys that grow never skip in
/// ascending order), and every customer whose count did not change is listed exactly once.
pub async fn query_pages_by_a_growing_booking_count_skip_nobody<
    S: Store + SearchStore + Clone + 'static,
>(
    store: S,
) {
    let dir = directory(store);
    let mut people = Vec::new();
    for n in 0..6_i64 {
        let profile = person(
            &format!("count{n}@example.com"),
            "Count",
            &format!("C{n}"),
            None,
        );
        let id = create(&dir, hours(n), profile.clone()).await;
        for b in 0..n {
            book(
                &dir,
                &profile,
                &format!("N-{n}-{b}"),
                BookingStatus::PAID,
                days(b),
                money(1_00, "EUR"),
            )
            .await;
        }
        people.push((id, profile));
    }
    let query = CustomerQuery::new().sorted_by(SortBy::BookingCount, SortDirection::Ascending);
    let first = dir.search(&query, None, 2).await.unwrap();
    let mut seen: Vec<CustomerId> = first.customers.iter().map(|c| c.id).collect();
    assert_eq!(seen, [people[0].0, people[1].0]);
    // Customer 1 (listed, count 1 -> 2) and customer 3 (not yet listed, 3 -> 4) book again.
    book(
        &dir,
        &people[1].1,
        "N-1-x",
        BookingStatus::PAID,
        days(9),
        money(1_00, "EUR"),
    )
    .await;
    book(
        &dir,
        &people[3].1,
        "N-3-x",
        BookingStatus::PAID,
        days(9),
        money(1_00, "EUR"),
    )
    .await;
    let mut cursor = first.next;
    while let Some(after) = cursor {
        let page = dir.search(&query, Some(&after), 2).await.unwrap();
        seen.extend(page.customers.iter().map(|c| c.id));
        cursor = page.next;
    }
    for (n, (id, _)) in people.iter().enumerate() {
        let times = seen.iter().filter(|s| *s == id).count();
        if n == 1 || n == 3 {
            assert!(times >= 1, "customer {n} skipped");
        } else {
            assert_eq!(times, 1, "customer {n}");
        }
    }
    assert_eq!(
        seen.iter().filter(|s| **s == people[1].0).count(),
        2,
        "the customer whose count grew past the cursor is listed again"
    );
}

pub async fn query_refuses_malformed_and_foreign_cursors<
    S: Store + SearchStore + Clone + 'static,
>(
    store: S,
) {
    let f = fixture(store).await;
    assert_eq!("garbage".parse::<Cursor>(), Err(CursorError::Malformed));
    assert_eq!(Cursor::parse(""), Err(CursorError::Malformed));
    let by_name = CustomerQuery::new();
    let page = f.dir.search(&by_name, None, 1).await.unwrap();
    let cursor = page.next.expect("more pages");
    for other in [
        CustomerQuery::new().sorted_by(SortBy::Created, SortDirection::Ascending),
        CustomerQuery::new().sorted_by(SortBy::Name, SortDirection::Descending),
        CustomerQuery::new().text("a"),
        CustomerQuery::new().include_archived(),
    ] {
        match f.dir.search(&other, Some(&cursor), 1).await {
            Err(Error::InvalidCursor(CursorError::Mismatch)) => {}
            other => panic!("expected a mismatched cursor, got {other:?}"),
        }
    }
    // The right query continues; a page size of 0 is taken as 1.
    let next = f.dir.search(&by_name, Some(&cursor), 0).await.unwrap();
    assert_eq!(
        next.customers.iter().map(|c| c.id).collect::<Vec<_>>(),
        [f.dan]
    );
    // A tampered cursor is malformed or, if it still parses, foreign.
    let text = cursor.to_string();
    let tampered = text.replacen("c2.", "c2.f", 1);
    assert_eq!(tampered.parse::<Cursor>(), Err(CursorError::Malformed));
}

/// The statistics a store keeps for sorting and filtering follow every change to the
/// bookings: a merge moves them, a cancellation takes the amount out of the total, a
/// detached booking leaves, and a deleted customer's bookings count for nobody.
pub async fn query_statistics_follow_merges_cancellations_detaching_and_deletion<
    S: Store + SearchStore + Clone + 'static,
>(
    store: S,
) {
    let dir = directory(store);
    let x_profile = person("x@example.com", "Xia", "Xu", None);
    let y_profile = person("y@example.com", "Yan", "Yu", None);
    let x = create(&dir, t0(), x_profile.clone()).await;
    let y = create(&dir, t0(), y_profile.clone()).await;
    book(
        &dir,
        &x_profile,
        "X-1",
        BookingStatus::PAID,
        days(1),
        money(10_00, "EUR"),
    )
    .await;
    let y1 = book(
        &dir,
        &y_profile,
        "Y-1",
        BookingStatus::PAID,
        days(2),
        money(20_00, "EUR"),
    )
    .await;
    book(
        &dir,
        &y_profile,
        "Y-2",
        BookingStatus::PAID,
        days(3),
        money(20_00, "EUR"),
    )
    .await;

    let eur = Currency::parse("EUR").unwrap();
    let every = [
        StatusKind::Active,
        StatusKind::Archived,
        StatusKind::Blocked,
        StatusKind::Redacted,
        StatusKind::Merged,
    ];
    let stats = |sort| {
        CustomerQuery::new()
            .statuses(every)
            .sorted_by(sort, SortDirection::Ascending)
    };
    let keys = |sort| {
        let store = dir.store();
        let query = stats(sort);
        async move {
            store
                .search_customers(&query, None, 100)
                .await
                .unwrap()
                .into_iter()
                .map(|hit| (hit.customer.id, hit.position.value))
                .collect::<HashMap<_, _>>()
        }
    };
    assert_eq!(keys(SortBy::BookingCount).await[&y], SortValue::Int(2));

    let report = dir
        .merge(&MergeRequest::new(x, [y]), &staff())
        .await
        .unwrap();
    assert_eq!(report.survivor, x);
    assert_eq!(keys(SortBy::BookingCount).await[&x], SortValue::Int(3));
    assert_eq!(keys(SortBy::BookingCount).await[&y], SortValue::Int(0));
    assert_eq!(
        keys(SortBy::TotalValue(eur)).await[&x],
        SortValue::Int(50_00)
    );
    assert_eq!(
        keys(SortBy::LastBooking).await[&x],
        SortValue::Int(crate::ports::query::evaluation::last_booking_key(Some(
            days(3)
        )))
    );
    assert_eq!(
        ids(
            &dir,
            &CustomerQuery::new()
                .statuses([StatusKind::Merged])
                .booking_count_in(CountRange::at_most(0))
        )
        .await,
        [y]
    );

    dir.change_booking_status(y1, BookingStatus::CANCELLED, &staff())
        .await
        .unwrap();
    assert_eq!(
        keys(SortBy::TotalValue(eur)).await[&x],
        SortValue::Int(30_00)
    );
    assert_eq!(keys(SortBy::BookingCount).await[&x], SortValue::Int(3));

    dir.detach_booking(
        y1,
        crate::service::directory::lifecycle::DetachMode::LeaveUnattributed,
        &staff(),
    )
    .await
    .unwrap();
    assert_eq!(keys(SortBy::BookingCount).await[&x], SortValue::Int(2));

    // A merge survivor can be deleted once the merge can no longer be undone.
    let window = TimeDelta::from_std(dir.settings().merge_undo_window).unwrap();
    dir.clock().advance(window + TimeDelta::seconds(1));
    dir.delete_customer(x, &staff()).await.unwrap();
    let left = keys(SortBy::BookingCount).await;
    assert!(!left.contains_key(&x));
    assert_eq!(left[&y], SortValue::Int(0));
    assert!(
        ids(&dir, &CustomerQuery::new().text("xia"))
            .await
            .is_empty()
    );
}

/// The statistics a store keeps are those of the customer's bookings, whichever way each
/// booking arrived: creating the customer, for an existing customer, cancelled from the
/// start, in a second currency, starting before the last one, under another name.
pub async fn query_statistics_follow_each_way_a_booking_arrives<
    S: Store + SearchStore + Clone + 'static,
>(
    store: S,
) {
    let dir = directory(store);
    dir.clock().set(days(40));
    let guest = person("guest@example.com", "Gus", "Guest", None);
    let first = book(
        &dir,
        &guest,
        "G-1",
        BookingStatus::PAID,
        days(5),
        money(12_00, "EUR"),
    )
    .await;
    let customer = dir
        .store()
        .booking(first)
        .await
        .unwrap()
        .and_then(|booking| booking.attribution.customer())
        .expect("the first booking created its customer");
    let mut renamed = guest.clone();
    renamed.given_name = Some(crate::values::text::PersonName::parse("Gustav").unwrap());
    for (code, status, start, total, profile) in [
        (
            "G-2",
            BookingStatus::PAID,
            days(9),
            money(3_00, "EUR"),
            &guest,
        ),
        (
            "G-3",
            BookingStatus::CANCELLED,
            days(20),
            money(99_00, "EUR"),
            &guest,
        ),
        (
            "G-4",
            BookingStatus::PAID,
            days(2),
            money(7_50, "USD"),
            &guest,
        ),
        (
            "G-5",
            BookingStatus::PAID,
            days(7),
            money(1_00, "EUR"),
            &renamed,
        ),
    ] {
        book(&dir, profile, code, status, start, total).await;
    }

    let bookings = dir.store().customer_bookings(customer).await.unwrap();
    let expected = crate::ports::query::evaluation::CustomerStats::of(&bookings);
    assert_eq!(
        expected.booking_count, 5,
        "every booking went to the one customer"
    );
    assert_eq!(expected.last_booking, Some(days(20)));
    let every = [StatusKind::Active];
    let kept = |sort| {
        let store = dir.store();
        let query = CustomerQuery::new()
            .statuses(every)
            .sorted_by(sort, SortDirection::Ascending);
        async move {
            let hits = store.search_customers(&query, None, 10).await.unwrap();
            let hit = hits
                .iter()
                .find(|hit| hit.customer.id == customer)
                .expect("the customer is listed");
            hit.position.value.clone()
        }
    };
    assert_eq!(kept(SortBy::BookingCount).await, SortValue::Int(5));
    assert_eq!(
        kept(SortBy::LastBooking).await,
        SortValue::Int(crate::ports::query::evaluation::last_booking_key(Some(
            days(20)
        )))
    );
    let eur = Currency::parse("EUR").unwrap();
    let usd = Currency::parse("USD").unwrap();
    assert_eq!(
        expected.total_in(eur),
        16_00,
        "the cancelled booking counts for nothing"
    );
    assert_eq!(kept(SortBy::TotalValue(eur)).await, SortValue::Int(16_00));
    assert_eq!(kept(SortBy::TotalValue(usd)).await, SortValue::Int(7_50));
}

/// The reads of a page of customers (`bookings_of`, `accounts_claiming`) answer what the
/// one-customer reads answer, in the order asked: customers without bookings or account,
/// unknown ids, an id asked twice, and more ids than one query binds.
pub async fn page_reads_answer_like_the_one_customer_reads<
    S: Store + BulkReadStore + AccountStore + Clone + 'static,
>(
    store: S,
) {
    let f = fixture(store).await;
    claim(&f.dir, "ana@example.com", f.ana, Some(hours(30))).await;
    let mut ids = vec![f.elodie, f.dan, f.ana, CustomerId::new(), f.bo, f.ana, f.mo];
    // Past the ids one SQL query binds, with known customers at both ends.
    ids.extend((0..600).map(|_| CustomerId::new()));
    ids.push(f.eve);
    // Asked again where a second query would bind it.
    ids.push(f.elodie);
    let store = f.dir.store();
    let bookings = store.bookings_of(&ids).await.unwrap();
    let claimed = store.accounts_claiming(&ids).await.unwrap();
    assert_eq!(bookings.len(), ids.len());
    assert_eq!(claimed.len(), ids.len());
    for ((id, bookings), account) in ids.iter().zip(&bookings).zip(&claimed) {
        assert_eq!(bookings, &store.customer_bookings(*id).await.unwrap());
        assert_eq!(account, &store.account_by_customer(*id).await.unwrap());
    }
    let counts: Vec<usize> = bookings.iter().map(Vec::len).collect();
    assert_eq!(counts[..7], [3, 0, 2, 0, 1, 2, 0]);
    assert_eq!(counts[counts.len() - 2..], [1, 3]);
    assert!(claimed[2].is_some());
    assert!(claimed[5].is_some());
    assert_eq!(
        claimed.iter().filter(|account| account.is_some()).count(),
        2
    );
    assert!(store.bookings_of(&[]).await.unwrap().is_empty());
    assert!(store.accounts_claiming(&[]).await.unwrap().is_empty());
}

/// A visit of the whole directory shows every customer once, of every status, in id order,
/// whatever the page size.
pub async fn visiting_customers_shows_each_once_in_id_order<
    S: Store + BulkReadStore + Clone + 'static,
>(
    store: S,
) {
    let f = fixture(store).await;
    let store = f.dir.store();
    let scanned: Vec<CustomerId> = store
        .customers_after(None, 1_000)
        .await
        .unwrap()
        .iter()
        .map(|customer| customer.id)
        .collect();
    assert_eq!(scanned.len(), 7, "the fixture's seven customers");
    for page in [0, 1, 2, 3, 7, 1_000] {
        let mut visited = Vec::new();
        store
            .visit_customers(page, |customer| {
                visited.push((customer.id, customer.status))
            })
            .await
            .unwrap();
        assert_eq!(
            visited.iter().map(|(id, _)| *id).collect::<Vec<_>>(),
            scanned,
            "pages of {page}"
        );
        let merged = visited
            .iter()
            .find(|(id, _)| *id == f.mo)
            .map(|(_, status)| *status);
        assert_eq!(merged, Some(CustomerStatus::MergedInto(f.ana)));
    }
}

/// The summary and the CSV export show the last login of the account claiming the
/// customer, and nothing for a customer without one.
pub async fn summary_and_export_show_the_last_login<
    S: Store + BulkReadStore + AccountStore + Clone + 'static,
>(
    store: S,
) {
    let f = fixture(store).await;
    let login = hours(30);
    claim(&f.dir, "ana@example.com", f.ana, Some(login)).await;
    assert_eq!(f.dir.summary(f.ana).await.unwrap().last_login, Some(login));
    assert_eq!(f.dir.summary(f.elodie).await.unwrap().last_login, None);
    let (csv, _) = f
        .dir
        .export_csv(
            Vec::new(),
            &crate::reports::csv::CsvExportOptions::default(),
        )
        .await
        .unwrap();
    let csv = String::from_utf8(csv).unwrap();
    let header = csv.lines().next().unwrap();
    assert!(
        header.split(',').any(|column| column == "last_login"),
        "{header}"
    );
    let ana_row = csv
        .lines()
        .find(|line| line.contains("ana@example.com"))
        .expect("Ana's row");
    assert!(ana_row.contains("2026-06-02T15:00:00Z"), "{ana_row}");
    let elodie_row = csv
        .lines()
        .find(|line| line.contains("elodie@example.com"))
        .expect("Élodie's row");
    assert!(!elodie_row.contains("2026-06-02T15:00:00Z"), "{elodie_row}");
}

/// Redaction leaves nothing personal to search by: the erased name, email, phone and custom
/// fields find nobody (whatever statuses are listed), while a kept custom field still does.
pub async fn query_finds_nothing_personal_of_a_redacted_customer<
    S: Store + SearchStore + Clone + 'static,
>(
    store: S,
) {
    let f = fixture(store).await;
    f.dir.archive(f.ana, &staff()).await.unwrap();
    let mut ana = f.dir.customer(f.ana).await.unwrap();
    ana.profile
        .custom_fields
        .insert("member_no".into(), Text::parse("M-1042").unwrap());
    let mut changes = ChangeSet::new();
    changes.save_customer(ana);
    f.dir.store().commit(changes).await.unwrap();
    f.dir
        .redact(f.ana, &["member_no".to_owned()], &staff())
        .await
        .unwrap();
    let every = [
        StatusKind::Active,
        StatusKind::Archived,
        StatusKind::Blocked,
        StatusKind::Redacted,
        StatusKind::Merged,
    ];
    for text in ["ana", "silva", "ana@example.com", "912345678", "+351"] {
        let query = CustomerQuery::new().statuses(every).text(text);
        assert!(
            !ids(&f.dir, &query).await.contains(&f.ana),
            "{text} still finds the redacted customer"
        );
    }
    let diet = CustomerQuery::new()
        .statuses(every)
        .custom_field_equals("diet", "vegan");
    assert!(ids(&f.dir, &diet).await.is_empty());
    let kept = CustomerQuery::new()
        .statuses([StatusKind::Redacted])
        .custom_field_equals("member_no", "M-1042");
    assert_eq!(ids(&f.dir, &kept).await, [f.ana]);
    let country = CustomerQuery::new()
        .statuses(every)
        .country(CountryCode::parse("PT").unwrap());
    assert!(ids(&f.dir, &country).await.is_empty());
    // Its bookings still count: amounts are kept for the accounts.
    let by_count = CustomerQuery::new()
        .statuses([StatusKind::Redacted])
        .booking_count_in(CountRange::at_least(2));
    assert_eq!(ids(&f.dir, &by_count).await, [f.ana]);
}
