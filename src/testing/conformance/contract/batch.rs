//! The store contract of the batched reads a batch of bookings makes.

use crate::ports::store::changes::ChangeSet;
use crate::ports::store::{EmailLookup, Store};
use crate::records::booking::Booking;
use crate::records::customer::{BlockEntry, BlockTarget, Customer, CustomerStatus};
use crate::testing::conformance::fixtures::{booking, contact, t0};
use crate::values::booking_status::BookingStatus;
use crate::values::email::key::EmailKey;

/// A booking stored as it is, unattributed, with `code`.
fn stored_booking(code: &str) -> Booking {
    Booking::from_new(
        booking(code, BookingStatus::PENDING, contact("", "Ana", "")),
        t0(),
    )
}

fn key(address: &str) -> EmailKey {
    crate::values::email::address::EmailAddress::parse(address)
        .expect("a valid address")
        .key()
        .clone()
}

pub async fn port_booking_codes_stored_follow_commits_and_answer_in_order<
    S: Store + Clone + 'static,
>(
    store: S,
) {
    let asked: Vec<String> = ["B-2", "B-1", "B-9", "B-1", "b-1", ""]
        .iter()
        .map(|code| (*code).to_owned())
        .collect();
    assert_eq!(
        store.booking_codes_stored(&asked).await.unwrap(),
        vec![false; asked.len()],
        "an empty store holds no code"
    );
    assert!(store.booking_codes_stored(&[]).await.unwrap().is_empty());

    let mut changes = ChangeSet::new();
    changes.save_booking(stored_booking("B-1"));
    changes.save_booking(stored_booking("B-2"));
    // Codes are not unique: a second booking with one stored code is answered once.
    changes.save_booking(stored_booking("B-2"));
    store.commit(changes).await.unwrap();
    assert_eq!(
        store.booking_codes_stored(&asked).await.unwrap(),
        vec![true, true, false, true, false, false],
        "each code answered in the order asked, exactly (no case folding)"
    );

    // A failed commit adds no code.
    let mut failing = ChangeSet::new();
    failing.save_booking(stored_booking("B-9"));
    failing.guard_customer(crate::values::ids::CustomerId::new(), 1);
    assert!(store.commit(failing).await.is_err());
    assert_eq!(
        store
            .booking_codes_stored(&["B-9".to_owned()])
            .await
            .unwrap(),
        vec![false]
    );

    // Past one query's worth of codes, the answers keep their order.
    let many: Vec<String> = (0..1_200)
        .map(|n| {
            if n % 3 == 0 {
                "B-1".to_owned()
            } else {
                format!("X-{n}")
            }
        })
        .collect();
    let answers = store.booking_codes_stored(&many).await.unwrap();
    assert_eq!(answers.len(), many.len());
    for (code, stored) in many.iter().zip(answers) {
        assert_eq!(stored, code == "B-1", "{code}");
    }
}

pub async fn port_lookup_emails_answer_each_key_like_lookup_email<S: Store + Clone + 'static>(
    store: S,
) {
    let mut live = Customer::new(contact("live@example.com", "Ana", ""), t0());
    live.aliases
        .push(crate::values::email::address::EmailAddress::parse("alias@example.com").unwrap());
    let mut archived = Customer::new(contact("archived@example.com", "Bo", ""), t0());
    archived.status = CustomerStatus::Archived;
    let mut redacted = Customer::new(contact("gone@example.com", "Cy", ""), t0());
    redacted.status = CustomerStatus::Redacted;
    let mut changes = ChangeSet::new();
    changes.save_customer(live);
    changes.save_customer(archived);
    changes.save_customer(redacted);
    changes.add_block(BlockEntry::new(
        BlockTarget::Address(key("banned@example.com")),
        "chargebacks",
        t0(),
    ));
    changes.add_block(BlockEntry::new(
        BlockTarget::domain("spam.example").unwrap(),
        "spam",
        t0(),
    ));
    // A blocked address at a blocked domain: the address entry answers.
    changes.add_block(BlockEntry::new(
        BlockTarget::Address(key("named@spam.example")),
        "named",
        t0(),
    ));
    store.commit(changes).await.unwrap();

    let keys: Vec<EmailKey> = [
        "live@example.com",
        "alias@example.com",
        "archived@example.com",
        "gone@example.com",
        "nobody@example.com",
        "banned@example.com",
        "anyone@spam.example",
        "named@spam.example",
        "live@example.com",
    ]
    .iter()
    .map(|address| key(address))
    .collect();
    let answers = store.lookup_emails(&keys).await.unwrap();
    assert_eq!(answers.len(), keys.len());
    for (key, answer) in keys.iter().zip(&answers) {
        assert_eq!(
            *answer,
            store.lookup_email(key).await.unwrap(),
            "{key}: the batched answer differs from the single one"
        );
    }
    assert!(answers[0].customer.is_some() && answers[1].customer.is_some());
    assert!(
        answers[3].customer.is_none(),
        "a redacted customer holds no key"
    );
    assert_eq!(answers[4], EmailLookup::default());
    assert_eq!(
        answers[7].block.as_ref().map(|entry| entry.reason.as_str()),
        Some("named")
    );
    assert!(store.lookup_emails(&[]).await.unwrap().is_empty());

    // Past one query's worth of keys, the answers keep their order.
    let many: Vec<EmailKey> = (0..1_100)
        .map(|n| match n % 4 {
            0 => key("live@example.com"),
            1 => key("anyone@spam.example"),
            _ => key(&format!("guest{n}@example.org")),
        })
        .collect();
    let answers = store.lookup_emails(&many).await.unwrap();
    assert_eq!(answers.len(), many.len());
    for (n, answer) in answers.iter().enumerate() {
        assert_eq!(answer.customer.is_some(), n % 4 == 0, "key {n}");
        assert_eq!(answer.block.is_some(), n % 4 == 1, "key {n}");
    }
}
