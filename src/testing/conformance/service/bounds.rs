//! Every free-text input has a limit: one over it is refused with [`Error::TooLong`] (or the
//! same [`TooLong`] inside a form's or an import's report) before the store changes, and one
//! at it is accepted, on every store.

use std::collections::BTreeMap;

use crate::limits::{self, Input, TooLong};
use crate::ports::clock::FixedClock;
use crate::ports::query::builder::CustomerQuery;
use crate::ports::store::{AccountStore, BulkReadStore, SearchStore, Store};
use crate::records::audit::Actor;
use crate::records::booking::BookingProblem;
use crate::records::contact_form::FieldError;
use crate::records::customer::BlockTarget;
use crate::records::notes::NoteText;
use crate::records::profile::{Detail, Profile};
use crate::reports::csv::ImportError;
use crate::service::directory::Directory;
use crate::service::directory::reports::ImportMode;
use crate::service::error::{AccountError, Error};
use crate::settings::custom_fields::CustomFieldError;
use crate::values::booking_status::BookingStatus;
use crate::values::email::EmailKeyPolicy;
use crate::values::email::key::EmailKey;
use crate::values::text::Text;

use crate::testing::conformance::fixtures::{booking, contact, directory};

fn staff() -> Actor {
    Actor::staff("bounds")
}

/// `length` characters of two bytes each, so a check counting bytes instead of characters
/// would refuse the value at the limit.
fn chars(length: usize) -> String {
    "é".repeat(length)
}

fn too_long(input: Input, length: usize) -> TooLong {
    TooLong {
        input,
        length,
        max: input.max(),
    }
}

/// Everything the store answers about its customers, their bookings, the lists and the
/// email keys given (holder, blocklist entry, unattributed bookings): equal before and after
/// a refused operation when nothing changed.
async fn snapshot<S: Store + BulkReadStore>(store: &S, emails: &[&str]) -> String {
    let mut out = String::new();
    let customers = store.customers_after(None, 100_000).await.unwrap();
    for customer in &customers {
        out.push_str(&format!("{customer:?}\n"));
        out.push_str(&format!(
            "{:?}\n",
            store.customer_bookings(customer.id).await.unwrap()
        ));
        out.push_str(&format!(
            "{:?}\n",
            store.audit_trail(customer.id).await.unwrap()
        ));
    }
    out.push_str(&format!("{:?}\n", store.lists().await.unwrap()));
    for email in emails {
        let key = EmailKey::parse(email, EmailKeyPolicy::default()).unwrap();
        out.push_str(&format!("{:?}\n", store.lookup_email(&key).await.unwrap()));
        out.push_str(&format!(
            "{:?}\n",
            store.unattributed_bookings(&key).await.unwrap()
        ));
    }
    out
}

async fn person<S: Store>(
    dir: &Directory<S, FixedClock>,
    email: &str,
) -> crate::values::ids::CustomerId {
    dir.create_customer(contact(email, "Bo", "Und"), &staff())
        .await
        .unwrap()
        .customer
}

pub async fn over_long_booking_code_is_refused_before_the_store_and_one_at_the_limit_is_recorded<
    S: Store + BulkReadStore + Clone + 'static,
>(
    store: S,
) {
    let dir = directory(store.clone());
    let email = "code@example.com";
    let before = snapshot(&store, &[email]).await;
    let max = limits::BOOKING_CODE_MAX_CHARS;
    for length in [max + 1, 1_000_000] {
        let new = booking(
            &chars(length),
            BookingStatus::PAID,
            contact(email, "Co", "De"),
        );
        assert_eq!(
            new.problems(),
            [BookingProblem::TooLong(too_long(
                Input::BookingCode,
                length
            ))]
        );
        match dir.record_booking(new, &Actor::System).await {
            Err(Error::TooLong(error)) => {
                assert_eq!(error, too_long(Input::BookingCode, length));
            }
            other => panic!("expected TooLong, got {other:?}"),
        }
    }
    assert_eq!(snapshot(&store, &[email]).await, before, "nothing stored");
    let new = booking(&chars(max), BookingStatus::PAID, contact(email, "Co", "De"));
    let recorded = dir.record_booking(new, &Actor::System).await.unwrap();
    let stored = dir.booking(recorded.booking).await.unwrap();
    assert_eq!(stored.code, chars(max));
}

pub async fn over_long_booking_status_cannot_be_made_and_one_at_the_limit_is_kept<
    S: Store + Clone + 'static,
>(
    store: S,
) {
    let max = limits::BOOKING_STATUS_MAX_CHARS;
    assert_eq!(
        BookingStatus::new(&"s".repeat(max + 1)),
        Err(crate::values::text::TextError::TooLong {
            length: max + 1,
            max
        })
    );
    let status = BookingStatus::new(&"s".repeat(max)).unwrap();
    let dir = directory(store);
    let new = booking("BK-STATUS", status.clone(), contact("", "", ""));
    let recorded = dir.record_booking(new, &Actor::System).await.unwrap();
    assert_eq!(dir.booking(recorded.booking).await.unwrap().status, status);
}

pub async fn over_long_search_text_and_custom_field_filter_are_refused_by_search_and_count<
    S: Store + SearchStore + Clone + 'static,
>(
    store: S,
) {
    let dir = directory(store.clone());
    let id = person(&dir, "search@example.com").await;
    let text_max = limits::SEARCH_TEXT_MAX_CHARS;
    let key_max = limits::CUSTOM_FIELD_KEY_MAX_CHARS;
    let value_max = limits::CUSTOM_FIELD_VALUE_MAX_CHARS;
    let refused = [
        (
            CustomerQuery::new().text(chars(text_max + 1)),
            too_long(Input::SearchText, text_max + 1),
        ),
        // The search that failed on SQLite with "LIKE or GLOB pattern too complex".
        (
            CustomerQuery::new().text("a".repeat(1_000_000)),
            too_long(Input::SearchText, 1_000_000),
        ),
        (
            CustomerQuery::new().custom_field_equals("k".repeat(key_max + 1), "v"),
            too_long(Input::CustomFieldKey, key_max + 1),
        ),
        (
            CustomerQuery::new().custom_field_equals("k", chars(value_max + 1)),
            too_long(Input::CustomFieldValue, value_max + 1),
        ),
    ];
    for (query, expected) in refused {
        match dir.search(&query, None, 10).await {
            Err(Error::TooLong(error)) => assert_eq!(error, expected),
            other => panic!("expected TooLong from search, got {other:?}"),
        }
        match dir.count(&query).await {
            Err(Error::TooLong(error)) => assert_eq!(error, expected),
            other => panic!("expected TooLong from count, got {other:?}"),
        }
    }
    // At the limits: answered (nothing matches such text), and an ordinary search still
    // finds the customer.
    let at_limit = [
        CustomerQuery::new().text(chars(text_max)),
        CustomerQuery::new().text("%_!".repeat(text_max / 3)),
        CustomerQuery::new().custom_field_equals("k".repeat(key_max), chars(value_max)),
    ];
    for query in at_limit {
        assert!(
            dir.search(&query, None, 10)
                .await
                .unwrap()
                .customers
                .is_empty()
        );
        assert_eq!(dir.count(&query).await.unwrap(), 0);
    }
    let found = dir
        .search(&CustomerQuery::new().text("search@"), None, 10)
        .await
        .unwrap();
    assert_eq!(found.customers.len(), 1);
    assert_eq!(found.customers[0].id, id);
}

pub async fn over_long_block_reason_is_refused_and_changes_nothing<
    S: Store + BulkReadStore + Clone + 'static,
>(
    store: S,
) {
    let dir = directory(store.clone());
    let email = "reason@example.com";
    let id = person(&dir, email).await;
    let before = snapshot(&store, &[email, "x@reason.example"]).await;
    let max = limits::BLOCK_REASON_MAX_CHARS;
    let target = BlockTarget::domain("reason.example").unwrap();
    match dir
        .add_to_blocklist(target.clone(), chars(max + 1), &staff())
        .await
    {
        Err(Error::TooLong(error)) => assert_eq!(error, too_long(Input::BlockReason, max + 1)),
        other => panic!("expected TooLong, got {other:?}"),
    }
    match dir.block(id, &chars(max + 1), &staff()).await {
        Err(Error::TooLong(error)) => assert_eq!(error, too_long(Input::BlockReason, max + 1)),
        other => panic!("expected TooLong, got {other:?}"),
    }
    assert_eq!(
        snapshot(&store, &[email, "x@reason.example"]).await,
        before,
        "nothing blocked"
    );
    let entry = dir
        .add_to_blocklist(target, chars(max), &staff())
        .await
        .unwrap();
    assert_eq!(entry.reason, chars(max));
    assert!(
        dir.blocklist_entry_for("x@reason.example")
            .await
            .unwrap()
            .is_some()
    );
    let entries = dir.block(id, &chars(max), &staff()).await.unwrap();
    assert!(entries.iter().all(|entry| entry.reason == chars(max)));
    assert!(dir.blocklist_entry_for(email).await.unwrap().is_some());
}

pub async fn over_long_staff_identifier_is_refused_by_every_kind_of_write<
    S: Store + BulkReadStore + Clone + 'static,
>(
    store: S,
) {
    let dir = directory(store.clone());
    let email = "actor@example.com";
    let id = person(&dir, email).await;
    let max = limits::ACTOR_MAX_CHARS;
    let long = Actor::staff(chars(max + 1));
    let expected = too_long(Input::Actor, max + 1);
    let before = snapshot(&store, &[email, "new@example.com", "x@actor.example"]).await;
    let note = NoteText::parse("a note").unwrap();
    let name = Text::parse("A list").unwrap();
    let results: Vec<(&str, Result<(), Error>)> = vec![
        (
            "record_booking",
            dir.record_booking(
                booking(
                    "BK-A",
                    BookingStatus::PAID,
                    contact("new@example.com", "", ""),
                ),
                &long,
            )
            .await
            .map(drop),
        ),
        (
            "create_customer",
            dir.create_customer(contact("new@example.com", "", ""), &long)
                .await
                .map(drop),
        ),
        ("archive", dir.archive(id, &long).await),
        (
            "add_note",
            dir.add_note(id, note.clone(), None, &long).await.map(drop),
        ),
        (
            "create_list",
            dir.create_list(name.clone(), &long).await.map(drop),
        ),
        (
            "add_to_blocklist",
            dir.add_to_blocklist(BlockTarget::domain("actor.example").unwrap(), "spam", &long)
                .await
                .map(drop),
        ),
        (
            "import_customers",
            dir.import_customers(
                "email\nnew@example.com\n".as_bytes(),
                ImportMode::AllOrNothing,
                &long,
            )
            .await
            .map(drop),
        ),
    ];
    for (operation, result) in results {
        match result {
            Err(Error::TooLong(error)) => assert_eq!(error, expected, "{operation}"),
            other => panic!("{operation}: expected TooLong, got {other:?}"),
        }
    }
    assert_eq!(
        snapshot(&store, &[email, "new@example.com", "x@actor.example"]).await,
        before,
        "nothing written"
    );
    let at_limit = Actor::staff(chars(max));
    dir.add_note(id, note, None, &at_limit).await.unwrap();
    dir.archive(id, &at_limit).await.unwrap();
    let customer = dir.customer(id).await.unwrap();
    assert_eq!(customer.records.notes[0].author, at_limit);
    let trail = dir.audit_trail(id).await.unwrap();
    assert_eq!(trail.last().map(|event| &event.actor), Some(&at_limit));
}

pub async fn over_long_custom_field_key_is_refused_in_profiles_and_bookings<
    S: Store + BulkReadStore + SearchStore + Clone + 'static,
>(
    store: S,
) {
    let dir = directory(store.clone());
    let email = "fields@example.com";
    let max = limits::CUSTOM_FIELD_KEY_MAX_CHARS;
    let with_key = |key: String| Profile {
        custom_fields: BTreeMap::from([(key, Text::parse("v").unwrap())]),
        ..contact(email, "Fi", "Eld")
    };
    let before = snapshot(&store, &[email]).await;
    let long_key = "k".repeat(max + 1);
    match dir
        .create_customer(with_key(long_key.clone()), &staff())
        .await
    {
        Err(Error::InvalidContact(errors)) => {
            let problem = &errors.problems()[0];
            assert!(
                matches!(&problem.detail, Detail::CustomField(shown) if shown.chars().count() <= max + 1),
                "the key is shown cut short: {:?}",
                problem.detail
            );
            assert_eq!(
                problem.error,
                FieldError::CustomField(CustomFieldError::TooLong(too_long(
                    Input::CustomFieldKey,
                    max + 1
                )))
            );
        }
        other => panic!("expected InvalidContact, got {other:?}"),
    }
    let new = booking("BK-F", BookingStatus::PAID, with_key(long_key));
    match dir.record_booking(new, &Actor::System).await {
        Err(Error::TooLong(error)) => assert_eq!(error, too_long(Input::CustomFieldKey, max + 1)),
        other => panic!("expected TooLong, got {other:?}"),
    }
    assert_eq!(snapshot(&store, &[email]).await, before, "nothing stored");
    let key = "k".repeat(max);
    let id = dir
        .create_customer(with_key(key.clone()), &staff())
        .await
        .unwrap()
        .customer;
    let stored = dir.customer(id).await.unwrap();
    assert!(stored.profile.custom_fields.contains_key(&key));
    assert_eq!(
        dir.count(&CustomerQuery::new().custom_field_equals(key, "v"))
            .await
            .unwrap(),
        1
    );
}

pub async fn over_long_import_cell_header_key_or_row_count_imports_nothing<
    S: Store + BulkReadStore + Clone + 'static,
>(
    store: S,
) {
    let dir = directory(store.clone());
    let email = "import@example.com";
    let before = snapshot(&store, &[email]).await;
    let cell_max = limits::IMPORT_CELL_MAX_BYTES;
    let key_max = limits::CUSTOM_FIELD_KEY_MAX_CHARS;
    let rows_max = limits::IMPORT_MAX_ROWS;
    // The status column is read and ignored: only the cell limit stands in its way.
    let cell = |bytes: usize| format!("email,status\n{email},{}\n", "x".repeat(bytes));
    let header = |key: usize| format!("email,custom:{}\n{email},v\n", "k".repeat(key));
    let mut many = String::from("status\n");
    many.push_str(&"x\n".repeat(rows_max + 1));
    let refused = [
        (
            cell(cell_max + 1),
            2,
            too_long(Input::ImportCell, cell_max + 1),
        ),
        (
            header(key_max + 1),
            1,
            too_long(Input::CustomFieldKey, key_max + 1),
        ),
        (
            many,
            u64::try_from(rows_max + 2).unwrap(),
            too_long(Input::ImportRows, rows_max + 1),
        ),
    ];
    for (file, line, expected) in refused {
        for mode in [ImportMode::AllOrNothing, ImportMode::SkipInvalidRows] {
            match dir.import_customers(file.as_bytes(), mode, &staff()).await {
                Err(Error::Import(ImportError::TooLong { line: at, limit })) => {
                    assert_eq!((at, limit), (line, expected));
                }
                other => panic!("expected ImportError::TooLong, got {other:?}"),
            }
        }
    }
    assert_eq!(snapshot(&store, &[email]).await, before, "nothing imported");
    let report = dir
        .import_customers(
            cell(cell_max).as_bytes(),
            ImportMode::AllOrNothing,
            &staff(),
        )
        .await
        .unwrap();
    assert!(report.committed);
    assert_eq!(report.created().len(), 1);
    let report = dir
        .import_customers(
            header(key_max)
                .replace(email, "import2@example.com")
                .as_bytes(),
            ImportMode::AllOrNothing,
            &staff(),
        )
        .await
        .unwrap();
    assert!(report.committed);
    let created = dir.customer(report.created()[0]).await.unwrap();
    assert!(
        created
            .profile
            .custom_fields
            .contains_key(&"k".repeat(key_max))
    );
}

pub async fn over_long_staff_identifier_is_refused_by_account_use_cases<
    S: Store + AccountStore + Clone + 'static,
>(
    store: S,
) {
    let rig = crate::testing::conformance::service::accounts::rig(store.clone());
    let password = crate::values::password::secret::Password::new("Plum-Tractor-Velvet-9");
    rig.accounts
        .sign_up("staffed@example.com", &password, &Actor::System)
        .await
        .unwrap();
    let key = EmailKey::parse("staffed@example.com", EmailKeyPolicy::default()).unwrap();
    let account = store.account_by_email(&key).await.unwrap().unwrap();
    let max = limits::ACTOR_MAX_CHARS;
    let long = Actor::staff(chars(max + 1));
    let refused = rig
        .accounts
        .set_password(
            account.id,
            &crate::values::password::secret::Password::new("Quartz-Meadow-Lantern-4"),
            &long,
        )
        .await;
    assert!(
        matches!(&refused, Err(AccountError::Directory(Error::TooLong(t))) if *t == too_long(Input::Actor, max + 1)),
        "{refused:?}"
    );
    assert_eq!(
        store.account(account.id).await.unwrap(),
        Some(account.clone()),
        "the refused change left the account as it was"
    );
    let at_limit = Actor::staff(chars(max));
    rig.accounts
        .set_password(
            account.id,
            &crate::values::password::secret::Password::new("Quartz-Meadow-Lantern-4"),
            &at_limit,
        )
        .await
        .unwrap();
}
