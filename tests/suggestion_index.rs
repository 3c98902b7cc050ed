//! The suggestion index of the SQL adapters (`cd_match_keys`) after every operation that
//! writes bookings: it holds exactly one row per match key and holder (the customer a
//! booking is attributed to, or the booking itself while unattributed) for the keys of the
//! bookings stored, no fewer (a suggestion would be missed) and no more (a key left behind
//! by a merge, a detach, a contact change or a redaction would keep personal data). After
//! each step `bookings_matching` also answers, for every key stored, exactly the bookings
//! whose contact has it. Run on a SQLite file and, with a server, on PostgreSQL.
#![cfg(all(feature = "testing", any(feature = "sqlite", feature = "postgres")))]

mod support;

use std::collections::BTreeSet;

use chrono::{TimeZone, Utc};
use customer_directory::records::MatchKeys;
use customer_directory::service::DetachMode;
use customer_directory::testing::conformance::{contact, directory};
use customer_directory::{
    Actor, Booking, BookingId, BookingStatus, Currency, MergeRequest, Money, NewBooking, Profile,
    Store,
};

/// The rows the index holds, and every booking stored, read straight from the tables.
trait Tables {
    async fn index_rows(&self) -> BTreeSet<(String, String)>;
    async fn bookings(&self) -> Vec<Booking>;
}

/// The index text of each suggestion key of `keys` (kind, colon, key).
fn index_texts(keys: &MatchKeys) -> BTreeSet<String> {
    let loose = keys
        .loose_email
        .iter()
        .map(|k| format!("loose:{}", k.as_str()));
    let phone = keys.phone.iter().map(|p| format!("phone:{p}"));
    let name = keys.name_postcode.iter().map(|n| format!("name:{n}"));
    loose.chain(phone).chain(name).collect()
}

/// The rows the index must hold for `bookings`.
fn expected_rows(bookings: &[Booking]) -> BTreeSet<(String, String)> {
    let mut rows = BTreeSet::new();
    for booking in bookings {
        let holder = booking
            .attribution
            .customer()
            .map_or_else(|| booking.id.to_string(), |c| c.to_string());
        for key in index_texts(&booking.contact.match_keys()) {
            rows.insert((key, holder.clone()));
        }
    }
    rows
}

/// The index against the bookings stored, and each stored key's matches against a scan.
async fn assert_exact<S: Store + Tables>(store: &S, step: &str) {
    let bookings = store.bookings().await;
    let rows = store.index_rows().await;
    assert_eq!(rows, expected_rows(&bookings), "index rows after {step}");
    let keys: BTreeSet<&String> = rows.iter().map(|(key, _)| key).collect();
    for key in keys {
        let (kind, text) = key.split_once(':').unwrap();
        let mut probe = MatchKeys::default();
        match kind {
            "loose" => {
                probe.loose_email = bookings.iter().find_map(|b| {
                    b.contact
                        .match_keys()
                        .loose_email
                        .filter(|k| k.as_str() == text)
                });
            }
            "phone" => probe.phone = Some(text.to_owned()),
            _ => probe.name_postcode = Some(text.to_owned()),
        }
        let mut found: Vec<BookingId> = store
            .bookings_matching(&probe)
            .await
            .unwrap()
            .iter()
            .map(|b| b.id)
            .collect();
        found.sort();
        let mut scanned: Vec<BookingId> = bookings
            .iter()
            .filter(|b| index_texts(&b.contact.match_keys()).contains(key))
            .map(|b| b.id)
            .collect();
        scanned.sort();
        assert_eq!(found, scanned, "bookings matching {key} after {step}");
    }
}

/// A contact with a phone and a postcode, so each booking has all three kinds of key.
fn full_contact(email: &str, given: &str, family: &str, phone: &str, postcode: &str) -> Profile {
    use customer_directory::{Phone, Text};
    let mut profile = contact(email, given, family);
    profile.phone = Some(Phone::parse(phone, None).unwrap());
    profile.address.postcode = Some(Text::parse(postcode).unwrap());
    profile
}

/// Books, merges, undoes, detaches, changes contacts, deletes and redacts, checking the
/// index after each step.
async fn every_booking_write_keeps_the_index_exact<S: Store + Tables + Clone + 'static>(store: S) {
    let dir = directory(store.clone());
    let staff = Actor::staff("index");
    let eur = Currency::parse("EUR").unwrap();
    let at = Utc.with_ymd_and_hms(2026, 5, 1, 9, 0, 0).unwrap();
    let book = |code: &str, profile: &Profile| {
        NewBooking::new(
            code,
            BookingStatus::PAID,
            profile.clone(),
            at,
            Money::new(10_00, eur),
        )
    };
    let ana = full_contact(
        "ana@example.com",
        "Ana",
        "Silva",
        "+351912345001",
        "1100-148",
    );
    let ana_gmail = full_contact(
        "a.na+trip@gmail.com",
        "Ana",
        "Silva",
        "+351912345001",
        "1100-148",
    );
    let bo = full_contact("bo@example.com", "Bo", "Berg", "+4915112345002", "10115");
    let cy = full_contact("cy@example.com", "Cy", "Adams", "+14155550103", "94110");
    let walk_in = Profile {
        phone: bo.phone.clone(),
        ..Profile::default()
    };

    // Three bookings of one customer under one contact: one row per key.
    let mut ana_bookings = Vec::new();
    for code in ["A-1", "A-2", "A-3"] {
        ana_bookings.push(
            dir.record_booking(book(code, &ana), &Actor::System)
                .await
                .unwrap(),
        );
    }
    let ana_id = ana_bookings[0].outcome.customer().unwrap();
    let gmail = dir
        .record_booking(book("G-1", &ana_gmail), &Actor::System)
        .await
        .unwrap();
    let bo_first = dir
        .record_booking(book("B-1", &bo), &Actor::System)
        .await
        .unwrap();
    let bo_id = bo_first.outcome.customer().unwrap();
    dir.record_booking(book("B-2", &bo), &Actor::System)
        .await
        .unwrap();
    let cy_first = dir
        .record_booking(book("C-1", &cy), &Actor::System)
        .await
        .unwrap();
    let cy_id = cy_first.outcome.customer().unwrap();
    // No email: unattributed, indexed under the booking itself.
    let walk = dir
        .record_booking(book("W-1", &walk_in), &Actor::System)
        .await
        .unwrap();
    assert_eq!(walk.outcome.customer(), None);
    assert_exact(&store, "recording").await;

    // Merging moves the other customer's bookings and keys to the survivor; undoing it
    // moves them back.
    let gmail_id = gmail.outcome.customer().unwrap();
    assert_ne!(gmail_id, ana_id);
    let merged = dir
        .merge(&MergeRequest::new(ana_id, [gmail_id]), &staff)
        .await
        .unwrap();
    assert_exact(&store, "a merge").await;
    dir.undo_merge(merged.merge, &staff).await.unwrap();
    assert_exact(&store, "undoing the merge").await;

    // Attaching the walk-in's booking, then detaching it again.
    dir.attach_booking(walk.booking, bo_id, &staff)
        .await
        .unwrap();
    assert_exact(&store, "attaching an unattributed booking").await;
    dir.detach_booking(walk.booking, DetachMode::LeaveUnattributed, &staff)
        .await
        .unwrap();
    assert_exact(&store, "detaching it").await;
    dir.detach_booking(bo_first.booking, DetachMode::LeaveUnattributed, &staff)
        .await
        .unwrap();
    assert_exact(&store, "detaching one of a customer's bookings").await;

    // A booking's contact corrected: the old phone goes when no other booking has it.
    let corrected = full_contact("cy@example.com", "Cy", "Adams", "+14155550199", "94110");
    dir.update_booking_contact(cy_first.booking, corrected, &staff)
        .await
        .unwrap();
    assert_exact(&store, "changing a booking's contact").await;

    // Deleting a customer releases its bookings; redacting one erases its keys.
    dir.delete_customer(cy_id, &staff).await.unwrap();
    assert_exact(&store, "deleting a customer").await;
    dir.archive(ana_id, &staff).await.unwrap();
    dir.redact(ana_id, &[], &staff).await.unwrap();
    assert_exact(&store, "redacting a customer").await;
    let rows = store.index_rows().await;
    assert!(
        rows.iter()
            .all(|(key, holder)| key != "loose:ana@example.com" && *holder != ana_id.to_string()),
        "the redacted customer's keys are gone: {rows:?}"
    );
}

#[cfg(feature = "sqlite")]
mod sqlite {
    use super::*;
    use customer_directory::SqliteStore;

    impl Tables for SqliteStore {
        async fn index_rows(&self) -> BTreeSet<(String, String)> {
            self.with_connection(|connection| {
                let mut statement =
                    connection.prepare("SELECT match_key, holder FROM cd_match_keys")?;
                statement
                    .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?
                    .collect::<Result<BTreeSet<(String, String)>, _>>()
            })
            .await
            .unwrap()
            .unwrap()
        }

        async fn bookings(&self) -> Vec<Booking> {
            let records: Vec<String> = self
                .with_connection(|connection| {
                    let mut statement = connection.prepare("SELECT record FROM cd_bookings")?;
                    statement
                        .query_map([], |row| row.get(0))?
                        .collect::<Result<Vec<String>, _>>()
                })
                .await
                .unwrap()
                .unwrap();
            records
                .iter()
                .map(|record| serde_json::from_str(record).unwrap())
                .collect()
        }
    }

    #[tokio::test]
    async fn every_booking_write_keeps_the_index_exact_on_a_file() {
        let path = crate::support::temp_test_path("suggestions", ".db");
        let store = SqliteStore::connect(&format!("sqlite://{}", path.display()))
            .await
            .unwrap();
        store.migrate().await.unwrap();
        every_booking_write_keeps_the_index_exact(store.clone()).await;
        store.close().await;
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
        }
    }
}

#[cfg(feature = "postgres")]
mod postgres {
    use super::*;
    use customer_directory::PostgresStore;
    use customer_directory::adapters::sqlx;

    impl Tables for PostgresStore {
        async fn index_rows(&self) -> BTreeSet<(String, String)> {
            sqlx::query_as::<_, (String, String)>("SELECT match_key, holder FROM cd_match_keys")
                .fetch_all(self.pool())
                .await
                .unwrap()
                .into_iter()
                .collect()
        }

        async fn bookings(&self) -> Vec<Booking> {
            sqlx::query_scalar::<_, String>("SELECT record FROM cd_bookings")
                .fetch_all(self.pool())
                .await
                .unwrap()
                .iter()
                .map(|record| serde_json::from_str(record).unwrap())
                .collect()
        }
    }

    #[tokio::test]
    async fn every_booking_write_keeps_the_index_exact_on_postgres() {
        let Some(url) = support::postgres_url("suggestion index") else {
            return;
        };
        let store = support::fresh_postgres_store(&url, "cd_suggestions").await;
        every_booking_write_keeps_the_index_exact(store).await;
    }
}
