//! Counting and listing every customer: [`Directory::count`] equals what
//! [`Directory::search`] pages through, in every status, and
//! [`CustomerQuery::any_status`] lists every stored customer.

use std::collections::BTreeSet;

use crate::decisions::merge::MergeRequest;
use crate::ports::clock::FixedClock;
use crate::ports::query::builder::{CountRange, CustomerQuery, SortBy, SortDirection, StatusKind};
use crate::ports::query::cursor::Cursor;
use crate::ports::store::changes::ChangeSet;
use crate::ports::store::{SearchStore, Store};
use crate::records::audit::Actor;
use crate::records::customer::{Customer, CustomerStatus};
use crate::records::profile::Profile;
use crate::service::directory::Directory;
use crate::testing::FaultInjectingStore;
use crate::values::booking_status::BookingStatus;
use crate::values::ids::CustomerId;
use crate::values::text::{CountryCode, Text};

use crate::testing::conformance::fixtures::{booking, contact, directory, t0};

fn staff() -> Actor {
    Actor::staff("counting")
}

/// Every customer `query` lists, paged through `size` rows at a time.
async fn paged<S: Store + SearchStore>(
    dir: &Directory<S, FixedClock>,
    query: &CustomerQuery,
    size: usize,
) -> Vec<CustomerId> {
    let mut all = Vec::new();
    let mut cursor: Option<Cursor> = None;
    loop {
        let page = dir.search(query, cursor.as_ref(), size).await.unwrap();
        all.extend(page.customers.iter().map(|customer| customer.id));
        match page.next {
            Some(next) => cursor = Some(next),
            None => return all,
        }
    }
}

/// One customer in each status, plus a merge survivor and a deleted customer.
struct Statuses {
    active: CustomerId,
    archived: CustomerId,
    blocked: CustomerId,
    redacted: CustomerId,
    survivor: CustomerId,
    merged: CustomerId,
    deleted: CustomerId,
}

async fn one_in_each_status<S: Store>(dir: &Directory<S, FixedClock>) -> Statuses {
    let create = |email: &'static str, given: &'static str| async move {
        dir.create_customer(contact(email, given, "Count"), &staff())
            .await
            .unwrap()
            .customer
    };
    let active = create("active@example.com", "Active").await;
    let archived = create("archived@example.com", "Archived").await;
    dir.archive(archived, &staff()).await.unwrap();
    let blocked = create("blocked@example.com", "Blocked").await;
    dir.block(blocked, "chargebacks", &staff()).await.unwrap();
    let redacted = create("redacted@example.com", "Redacted").await;
    dir.archive(redacted, &staff()).await.unwrap();
    dir.redact(redacted, &[], &staff()).await.unwrap();
    let survivor = create("survivor@example.com", "Survivor").await;
    let merged = create("merged@example.com", "Merged").await;
    dir.merge(&MergeRequest::new(survivor, [merged]), &staff())
        .await
        .unwrap();
    let deleted = create("deleted@example.com", "Deleted").await;
    dir.delete_customer(deleted, &staff()).await.unwrap();
    Statuses {
        active,
        archived,
        blocked,
        redacted,
        survivor,
        merged,
        deleted,
    }
}

pub async fn count_covers_every_status_and_deleted_customers_are_not_counted<
    S: Store + SearchStore + Clone + 'static,
>(
    store: S,
) {
    let dir = directory(store);
    let s = one_in_each_status(&dir).await;
    assert_eq!(
        dir.customer(s.merged).await.unwrap().status,
        CustomerStatus::MergedInto(s.survivor)
    );
    let count = |query: CustomerQuery| {
        let dir = &dir;
        async move { dir.count(&query).await.unwrap() }
    };
    let only = |status: StatusKind| CustomerQuery::new().statuses([status]);
    assert_eq!(
        count(only(StatusKind::Active)).await,
        2,
        "active and survivor"
    );
    assert_eq!(count(only(StatusKind::Archived)).await, 1);
    assert_eq!(count(only(StatusKind::Blocked)).await, 1);
    assert_eq!(count(only(StatusKind::Redacted)).await, 1);
    assert_eq!(count(only(StatusKind::Merged)).await, 1, "the tombstone");
    assert_eq!(count(CustomerQuery::new()).await, 3, "active and blocked");
    assert_eq!(count(CustomerQuery::new().include_archived()).await, 4);
    assert_eq!(count(CustomerQuery::new().statuses([])).await, 0);
    let every = CustomerQuery::new().any_status();
    assert_eq!(count(every.clone()).await, 6, "all but the deleted one");
    let listed: BTreeSet<CustomerId> = paged(&dir, &every, 2).await.into_iter().collect();
    let expected: BTreeSet<CustomerId> = [
        s.active, s.archived, s.blocked, s.redacted, s.survivor, s.merged,
    ]
    .into_iter()
    .collect();
    assert_eq!(listed, expected);
    assert!(!listed.contains(&s.deleted));
    // Archiving and activating move a customer between the counts.
    dir.activate(s.archived, &staff()).await.unwrap();
    assert_eq!(count(CustomerQuery::new()).await, 4);
    assert_eq!(count(only(StatusKind::Archived)).await, 0);
    assert_eq!(count(every).await, 6);
}

pub async fn count_equals_the_rows_search_pages_through_for_text_and_filters<
    S: Store + SearchStore + Clone + 'static,
>(
    store: S,
) {
    let dir = directory(store);
    let s = one_in_each_status(&dir).await;
    let pt = CountryCode::parse("PT").unwrap();
    for (i, given) in ["Ana", "Anabela", "Bruno", "Mariana", "Zé"]
        .iter()
        .enumerate()
    {
        let mut profile = contact(&format!("guest{i}@example.com"), given, "Lopes");
        if i % 2 == 0 {
            profile.address.country = Some(pt);
        }
        if i < 2 {
            profile
                .custom_fields
                .insert("diet".into(), Text::parse("vegan").unwrap());
        }
        dir.create_customer(profile.clone(), &staff())
            .await
            .unwrap();
        for n in 0..i {
            let code = format!("BK-{i}-{n}");
            dir.record_booking(
                booking(&code, BookingStatus::PAID, profile.clone()),
                &staff(),
            )
            .await
            .unwrap();
        }
    }
    let list = dir
        .create_list(Text::parse("Regulars").unwrap(), &staff())
        .await
        .unwrap();
    dir.add_to_list(s.active, list, &staff()).await.unwrap();
    dir.add_to_list(s.survivor, list, &staff()).await.unwrap();
    let queries = [
        CustomerQuery::new(),
        CustomerQuery::new().any_status(),
        CustomerQuery::new().text("ana"),
        CustomerQuery::new().text("ANA").any_status(),
        CustomerQuery::new().text("example.com"),
        CustomerQuery::new().text("nobody at all"),
        CustomerQuery::new().country(pt),
        CustomerQuery::new().initial('l'),
        CustomerQuery::new().in_list(list),
        CustomerQuery::new().claimed(false).any_status(),
        CustomerQuery::new().booking_count_in(CountRange::at_least(2)),
        CustomerQuery::new().custom_field_equals("diet", "vegan"),
        CustomerQuery::new()
            .text("lopes")
            .country(pt)
            .sorted_by(SortBy::BookingCount, SortDirection::Descending),
        CustomerQuery::new().any_status().sorted_by(
            SortBy::TotalValue(crate::values::money::Currency::parse("EUR").unwrap()),
            SortDirection::Ascending,
        ),
    ];
    let mut nonzero = 0;
    for query in queries {
        let rows = paged(&dir, &query, 2).await;
        let count = dir.count(&query).await.unwrap();
        assert_eq!(
            count,
            u64::try_from(rows.len()).unwrap(),
            "count and search disagree for {query:?}"
        );
        // The sort never changes the count.
        let resorted = query
            .clone()
            .sorted_by(SortBy::Created, SortDirection::Descending);
        assert_eq!(dir.count(&resorted).await.unwrap(), count, "{query:?}");
        nonzero += usize::from(count > 0);
    }
    assert!(nonzero >= 10, "the queries must find customers to compare");
}

pub async fn any_status_lists_and_counts_every_customer_past_one_full_page<
    S: Store + SearchStore + Clone + 'static,
>(
    store: S,
) {
    // One page more than the largest page a search returns, in all statuses: the default
    // count (paging through search_customers) must cross a page boundary.
    let total = crate::ports::query::builder::MAX_PAGE_SIZE + 1;
    let mut changes = ChangeSet::new();
    let statuses = [
        CustomerStatus::Active,
        CustomerStatus::Archived,
        CustomerStatus::Blocked,
        CustomerStatus::Redacted,
    ];
    let mut expected = BTreeSet::new();
    for i in 0..total {
        let mut customer = Customer::new(Profile::default(), t0());
        customer.status = statuses[i % statuses.len()];
        expected.insert(customer.id);
        changes.save_customer(customer);
    }
    store.commit(changes).await.unwrap();
    let dir = directory(store.clone());
    let every = CustomerQuery::new().any_status();
    let total = u64::try_from(total).unwrap();
    assert_eq!(dir.count(&every).await.unwrap(), total);
    assert_eq!(store.count_customers(&every).await.unwrap(), total);
    // The trait's default, paging through search_customers, agrees with the adapter.
    let paging = FaultInjectingStore::new(store.clone());
    assert_eq!(paging.count_customers(&every).await.unwrap(), total);
    let archived = CustomerQuery::new().statuses([StatusKind::Archived]);
    assert_eq!(
        paging.count_customers(&archived).await.unwrap(),
        store.count_customers(&archived).await.unwrap()
    );
    let listed: Vec<CustomerId> =
        paged(&dir, &every, crate::ports::query::builder::MAX_PAGE_SIZE).await;
    assert_eq!(u64::try_from(listed.len()).unwrap(), total);
    assert_eq!(listed.into_iter().collect::<BTreeSet<_>>(), expected);
}
