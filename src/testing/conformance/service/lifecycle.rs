//! Lifecycle scenarios: manual create, contact edits, related
//! bookings, archive, block, delete, redact, merge and undo, duplicates, audit.

use crate::decisions::attribution::AttributionOutcome;
use crate::decisions::duplicates::DuplicateReason;
use crate::decisions::merge::{MergeError, MergeRequest};
use crate::ports::clock::FixedClock;
use crate::ports::store::changes::ChangeSet;
use crate::ports::store::{BulkReadStore, Store};
use crate::records::audit::{Actor, AuditAction};
use crate::records::booking::Attribution;
use crate::records::customer::{Customer, CustomerStatus};
use crate::records::profile::{Detail, PostalAddress, Profile};
use crate::service::directory::Directory;
use crate::service::directory::lifecycle::{DetachMode, SuggestionReason};
use crate::service::error::Error;
use crate::settings::DirectorySettings;
use crate::values::booking_status::BookingStatus;
use crate::values::email::address::EmailAddress;
use crate::values::ids::{BookingId, CustomerId};
use crate::values::phone::Phone;
use crate::values::text::{CountryCode, Text};
use chrono::TimeDelta;

use crate::testing::conformance::fixtures::{
    booking, contact, directory, directory_with, name, t0,
};

fn staff() -> Actor {
    Actor::staff("maria")
}

fn phone(text: &str) -> Option<Phone> {
    Some(Phone::parse(text, None).unwrap())
}

fn text(value: &str) -> Option<Text> {
    Some(Text::parse(value).unwrap())
}

async fn create<S: Store>(dir: &Directory<S, FixedClock>, profile: Profile) -> CustomerId {
    dir.create_customer(profile, &staff())
        .await
        .expect("created")
        .customer
}

async fn record<S: Store>(
    dir: &Directory<S, FixedClock>,
    code: &str,
    status: BookingStatus,
    profile: Profile,
) -> (BookingId, AttributionOutcome) {
    let done = dir
        .record_booking(booking(code, status, profile), &Actor::System)
        .await
        .expect("recorded");
    (done.booking, done.outcome)
}

/// Every personal value is absent from every record the store can show for these ids.
async fn assert_no_trace<S: Store>(
    store: &S,
    customers: &[CustomerId],
    bookings: &[BookingId],
    needles: &[&str],
) {
    let mut dump = String::new();
    for id in customers {
        dump.push_str(&format!("{:?}", store.customer(*id).await.unwrap()));
        dump.push_str(&format!("{:?}", store.merges_involving(*id).await.unwrap()));
        dump.push_str(&format!("{:?}", store.audit_trail(*id).await.unwrap()));
    }
    for id in bookings {
        dump.push_str(&format!("{:?}", store.booking(*id).await.unwrap()));
    }
    let lower = dump.to_lowercase();
    for needle in needles {
        assert!(
            !lower.contains(&needle.to_lowercase()),
            "`{needle}` survived redaction"
        );
    }
}

// --- manual create, contact edits --------------------------------------------------------

pub async fn manual_create_attaches_unattributed_bookings_with_the_same_key<
    S: Store + Clone + 'static,
>(
    store: S,
) {
    let dir = directory(store.clone());
    let (same, _) = record(
        &dir,
        "M-1",
        BookingStatus::PENDING,
        contact("m@example.com", "Mo", ""),
    )
    .await;
    let (other, _) = record(
        &dir,
        "M-2",
        BookingStatus::WAITING,
        contact("M@example.com", "Max", ""),
    )
    .await;
    let (unrelated, _) = record(
        &dir,
        "M-3",
        BookingStatus::PENDING,
        contact("z@example.com", "Mo", ""),
    )
    .await;
    let created = dir
        .create_customer(contact("m@example.com", "Mo", "Lee"), &staff())
        .await
        .unwrap();
    assert_eq!(created.attached.len(), 2);
    assert_eq!(
        dir.booking(same).await.unwrap().attribution,
        Attribution::Primary(created.customer)
    );
    assert_eq!(
        dir.booking(other).await.unwrap().attribution,
        Attribution::Related {
            customer: created.customer,
            differences: vec![Detail::GivenName]
        }
    );
    assert_eq!(
        dir.booking(unrelated).await.unwrap().attribution,
        Attribution::Unattributed
    );
}

pub async fn manual_create_with_a_taken_email_names_the_holder<
    S: Store + BulkReadStore + Clone + 'static,
>(
    store: S,
) {
    let dir = directory(store.clone());
    let holder = create(&dir, contact("taken@example.com", "T", "")).await;
    match dir
        .create_customer(contact("TAKEN@example.com", "Other", ""), &staff())
        .await
    {
        Err(Error::EmailTaken { holder: named, .. }) => assert_eq!(named, holder),
        other => panic!("expected EmailTaken, got {other:?}"),
    }
    assert_eq!(store.customers_after(None, 100).await.unwrap().len(), 1);
}

pub async fn contact_edits_propagate_to_primary_bookings_only<S: Store + Clone + 'static>(
    store: S,
) {
    let dir = directory(store.clone());
    let (first, outcome) = record(
        &dir,
        "E-1",
        BookingStatus::PAID,
        contact("ed@example.com", "Ed", ""),
    )
    .await;
    let id = outcome.customer().unwrap();
    let (related, _) = record(
        &dir,
        "E-2",
        BookingStatus::PAID,
        contact("ed@example.com", "Edna", ""),
    )
    .await;
    let edited = contact("ed@example.com", "Ed", "Wood");
    let update = dir
        .update_contact(id, edited.clone(), &staff())
        .await
        .unwrap();
    assert_eq!(update.bookings_updated, vec![first]);
    assert_eq!(dir.customer(id).await.unwrap().profile, edited);
    assert_eq!(dir.booking(first).await.unwrap().contact, edited);
    assert_eq!(
        dir.booking(related).await.unwrap().contact.given_name,
        name("Edna")
    );
}

pub async fn contact_edits_stay_on_the_profile_when_propagation_is_off<
    S: Store + Clone + 'static,
>(
    store: S,
) {
    let settings = DirectorySettings {
        propagate_contact_edits: false,
        ..DirectorySettings::default()
    };
    let dir = directory_with(store.clone(), settings);
    let (first, outcome) = record(
        &dir,
        "E-3",
        BookingStatus::PAID,
        contact("np@example.com", "Ned", ""),
    )
    .await;
    let id = outcome.customer().unwrap();
    let update = dir
        .update_contact(id, contact("np@example.com", "Ned", "Park"), &staff())
        .await
        .unwrap();
    assert!(update.bookings_updated.is_empty());
    assert_eq!(dir.booking(first).await.unwrap().contact.family_name, None);
}

pub async fn email_change_to_a_taken_key_is_a_conflict_naming_the_holder<
    S: Store + Clone + 'static,
>(
    store: S,
) {
    let dir = directory(store.clone());
    let a = create(&dir, contact("a@example.com", "A", "")).await;
    let b = create(&dir, contact("b@example.com", "B", "")).await;
    let before = dir.customer(a).await.unwrap();
    match dir
        .update_contact(a, contact(" B@EXAMPLE.com", "A", ""), &staff())
        .await
    {
        Err(Error::EmailTaken { key, holder }) => {
            assert_eq!((key.as_str(), holder), ("b@example.com", b));
        }
        other => panic!("expected EmailTaken, got {other:?}"),
    }
    assert_eq!(dir.customer(a).await.unwrap(), before, "nothing changed");
}

pub async fn email_change_keeps_the_old_address_matching<S: Store + Clone + 'static>(store: S) {
    let dir = directory(store.clone());
    let id = create(&dir, contact("old@example.com", "O", "")).await;
    dir.update_contact(id, contact("new@example.com", "O", ""), &staff())
        .await
        .unwrap();
    let customer = dir.customer(id).await.unwrap();
    assert_eq!(
        customer
            .aliases
            .iter()
            .map(|a| a.as_str())
            .collect::<Vec<_>>(),
        ["old@example.com"]
    );
    assert_eq!(
        dir.find_by_email("old@example.com")
            .await
            .unwrap()
            .map(|c| c.id),
        Some(id)
    );
    assert_eq!(
        dir.find_by_email("new@example.com")
            .await
            .unwrap()
            .map(|c| c.id),
        Some(id)
    );
}

pub async fn booking_contact_edit_by_staff_updates_the_profile<S: Store + Clone + 'static>(
    store: S,
) {
    let dir = directory(store.clone());
    let (first, outcome) = record(
        &dir,
        "BC-1",
        BookingStatus::PAID,
        contact("bc@example.com", "Bea", ""),
    )
    .await;
    let id = outcome.customer().unwrap();
    let (second, _) = record(
        &dir,
        "BC-2",
        BookingStatus::PAID,
        contact("bc@example.com", "Bea", ""),
    )
    .await;
    let fixed = contact("bc@example.com", "Bea", "Cruz");
    let update = dir
        .update_booking_contact(second, fixed.clone(), &staff())
        .await
        .unwrap();
    assert_eq!(update.customer, Some(id));
    assert_eq!(dir.customer(id).await.unwrap().profile, fixed);
    assert_eq!(
        dir.booking(first).await.unwrap().contact,
        fixed,
        "propagated to the other booking"
    );
}

// --- related bookings ----------------------------------------------------------------------

pub async fn related_bookings_are_listed_and_confirmed<S: Store + Clone + 'static>(store: S) {
    let dir = directory(store.clone());
    let (_, outcome) = record(
        &dir,
        "RB-1",
        BookingStatus::PAID,
        contact("rb@example.com", "Ray", ""),
    )
    .await;
    let id = outcome.customer().unwrap();
    let (related, _) = record(
        &dir,
        "RB-2",
        BookingStatus::PAID,
        contact("rb@example.com", "Rita", ""),
    )
    .await;
    let listed = dir.related_bookings(id).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert!(
        matches!(&listed[0].attribution, Attribution::Related { differences, .. } if differences == &vec![Detail::GivenName])
    );
    dir.confirm_related(related, &staff()).await.unwrap();
    assert_eq!(
        dir.booking(related).await.unwrap().attribution,
        Attribution::Primary(id)
    );
    assert!(dir.related_bookings(id).await.unwrap().is_empty());
    assert!(matches!(
        dir.confirm_related(related, &staff()).await,
        Err(Error::BookingState { .. })
    ));
}

pub async fn detached_booking_stays_unattributed_and_remembers_its_customer<
    S: Store + Clone + 'static,
>(
    store: S,
) {
    let dir = directory(store.clone());
    let (_, outcome) = record(
        &dir,
        "DT-1",
        BookingStatus::PAID,
        contact("dt@example.com", "Di", ""),
    )
    .await;
    let id = outcome.customer().unwrap();
    let (second, _) = record(
        &dir,
        "DT-2",
        BookingStatus::PENDING,
        contact("dt@example.com", "Di", ""),
    )
    .await;
    let created = dir
        .detach_booking(second, DetachMode::LeaveUnattributed, &staff())
        .await
        .unwrap();
    assert_eq!(created, None);
    let detached = dir.booking(second).await.unwrap();
    assert_eq!(
        (detached.attribution.clone(), detached.detached_from),
        (Attribution::Unattributed, Some(id))
    );
    let outcome = dir
        .change_booking_status(second, BookingStatus::PAID, &staff())
        .await
        .unwrap();
    assert!(
        matches!(outcome, AttributionOutcome::Unattributed(_)),
        "not re-attached: {outcome:?}"
    );
    // Its email is held by the customer it left, so it cannot get a profile of its own.
    dir.attach_booking(second, id, &staff()).await.unwrap();
    assert!(matches!(
        dir.detach_booking(second, DetachMode::OwnProfile, &staff()).await,
        Err(Error::EmailTaken { holder, .. }) if holder == id
    ));
    assert_eq!(
        dir.booking(second).await.unwrap().attribution,
        Attribution::Primary(id),
        "refused detach changed nothing"
    );
}

pub async fn detached_booking_with_a_unique_email_gets_its_own_profile<
    S: Store + Clone + 'static,
>(
    store: S,
) {
    let dir = directory(store.clone());
    let family = create(&dir, contact("parent@example.com", "Pat", "")).await;
    let (kid, _) = record(
        &dir,
        "OW-1",
        BookingStatus::PAID,
        contact("kid@example.com", "Kim", ""),
    )
    .await;
    let own = dir
        .booking(kid)
        .await
        .unwrap()
        .attribution
        .customer()
        .unwrap();
    // Staff had put it on the parent's profile by hand; now it leaves for its own profile.
    let mut moved = dir.booking(kid).await.unwrap();
    moved.attribution = Attribution::Primary(family);
    let mut changes = ChangeSet::new();
    changes.save_booking(moved);
    store.commit(changes).await.unwrap();
    dir.delete_customer(own, &staff()).await.unwrap();
    let created = dir
        .detach_booking(kid, DetachMode::OwnProfile, &staff())
        .await
        .unwrap()
        .unwrap();
    let booking = dir.booking(kid).await.unwrap();
    assert_eq!(
        (booking.attribution, booking.detached_from),
        (Attribution::Primary(created), Some(family))
    );
    assert_eq!(
        dir.customer(created).await.unwrap().profile,
        contact("kid@example.com", "Kim", "")
    );
}

pub async fn suggestions_share_phone_loose_email_or_name_and_postcode_and_attach_nothing<
    S: Store + Clone + 'static,
>(
    store: S,
) {
    let dir = directory(store.clone());
    let mut ana = contact("ana.silva@gmail.com", "Ana", "Silva");
    ana.phone = phone("+44 20 7946 0958");
    ana.address = PostalAddress {
        postcode: text("SW1A 1AA"),
        ..PostalAddress::default()
    };
    let id = create(&dir, ana).await;
    let (by_email, _) = record(
        &dir,
        "SG-1",
        BookingStatus::PENDING,
        contact("anasilva+kayak@gmail.com", "Ana", ""),
    )
    .await;
    let mut by_phone_profile = contact("other@example.com", "Ann", "");
    by_phone_profile.phone = phone("020 7946 0958".replace("020", "+44 20").as_str());
    let (by_phone, _) = record(&dir, "SG-2", BookingStatus::PENDING, by_phone_profile).await;
    let mut by_name_profile = contact("third@example.com", "ANA", "silva");
    by_name_profile.address = PostalAddress {
        postcode: text("sw1a1aa"),
        ..PostalAddress::default()
    };
    let (by_name, _) = record(&dir, "SG-3", BookingStatus::PENDING, by_name_profile).await;
    let (_, _) = record(
        &dir,
        "SG-4",
        BookingStatus::PENDING,
        contact("nobody@example.com", "Zed", ""),
    )
    .await;
    let suggestions = dir.suggestions(id).await.unwrap();
    let found: Vec<(BookingId, Vec<SuggestionReason>)> = suggestions
        .iter()
        .map(|s| (s.booking.id, s.reasons.clone()))
        .collect();
    assert_eq!(found.len(), 3, "{found:?}");
    assert!(found.contains(&(by_email, vec![SuggestionReason::SimilarEmail])));
    assert!(found.contains(&(by_phone, vec![SuggestionReason::Phone])));
    assert!(found.contains(&(by_name, vec![SuggestionReason::NameAndPostcode])));
    for (booking, _) in found {
        assert_eq!(
            dir.booking(booking).await.unwrap().attribution,
            Attribution::Unattributed
        );
    }
}

// --- archive, block, delete ----------------------------------------------------------------

pub async fn archive_and_activate_follow_their_guards<S: Store + Clone + 'static>(store: S) {
    let dir = directory(store.clone());
    let (first, outcome) = record(
        &dir,
        "AR-1",
        BookingStatus::PAID,
        contact("ar@example.com", "Al", ""),
    )
    .await;
    let id = outcome.customer().unwrap();
    assert!(matches!(
        dir.activate(id, &staff()).await,
        Err(Error::CustomerStatus { .. })
    ));
    dir.archive(id, &staff()).await.unwrap();
    assert_eq!(
        dir.customer(id).await.unwrap().status,
        CustomerStatus::Archived
    );
    assert_eq!(
        dir.customer_bookings(id).await.unwrap()[0].id,
        first,
        "bookings kept"
    );
    assert!(matches!(
        dir.archive(id, &staff()).await,
        Err(Error::CustomerStatus { .. })
    ));
    dir.activate(id, &staff()).await.unwrap();
    assert_eq!(
        dir.customer(id).await.unwrap().status,
        CustomerStatus::Active
    );
}

pub async fn block_puts_every_key_on_the_blocklist_and_unblock_reverses_it<
    S: Store + Clone + 'static,
>(
    store: S,
) {
    let dir = directory(store.clone());
    let mut profile = Customer::new(contact("bl@example.com", "Bo", ""), t0());
    profile
        .aliases
        .push(EmailAddress::parse("bl.old@example.com").unwrap());
    profile.status = CustomerStatus::Archived;
    let id = profile.id;
    let mut changes = ChangeSet::new();
    changes.save_customer(profile);
    store.commit(changes).await.unwrap();
    let entries = dir.block(id, "chargebacks", &staff()).await.unwrap();
    assert_eq!(entries.len(), 2);
    assert_eq!(
        dir.customer(id).await.unwrap().status,
        CustomerStatus::Blocked,
        "blocking un-archives"
    );
    for email in ["BL@example.com", "bl.old@example.com"] {
        assert_eq!(
            dir.blocklist_entry_for(email)
                .await
                .unwrap()
                .map(|e| e.reason),
            Some("chargebacks".into())
        );
    }
    let refused = dir
        .record_booking(
            booking(
                "BL-1",
                BookingStatus::PAID,
                contact("bl@example.com", "Bo", ""),
            ),
            &Actor::System,
        )
        .await;
    assert!(matches!(refused, Err(Error::Blocked(_))));
    assert!(matches!(
        dir.archive(id, &staff()).await,
        Err(Error::CustomerStatus { .. })
    ));
    dir.unblock(id, &staff()).await.unwrap();
    assert_eq!(
        dir.customer(id).await.unwrap().status,
        CustomerStatus::Active
    );
    assert!(
        dir.blocklist_entry_for("bl.old@example.com")
            .await
            .unwrap()
            .is_none()
    );
    let (_, outcome) = record(
        &dir,
        "BL-2",
        BookingStatus::PAID,
        contact("bl@example.com", "Bo", ""),
    )
    .await;
    assert_eq!(outcome.customer(), Some(id));
}

pub async fn delete_keeps_bookings_unattributed_with_their_snapshots<S: Store + Clone + 'static>(
    store: S,
) {
    let dir = directory(store.clone());
    let (first, outcome) = record(
        &dir,
        "DL-1",
        BookingStatus::PAID,
        contact("dl@example.com", "Del", ""),
    )
    .await;
    let id = outcome.customer().unwrap();
    let released = dir.delete_customer(id, &staff()).await.unwrap();
    assert_eq!(released, vec![first]);
    assert!(
        matches!(dir.customer(id).await, Err(Error::CustomerDeleted { id: gone, .. }) if gone == id),
        "a deleted id says it was deleted"
    );
    let kept = dir.booking(first).await.unwrap();
    assert_eq!(kept.attribution, Attribution::Unattributed);
    assert_eq!(kept.contact, contact("dl@example.com", "Del", ""));
    assert!(
        dir.find_by_email("dl@example.com").await.unwrap().is_none(),
        "key released"
    );
}

// --- redaction -----------------------------------------------------------------------------

pub async fn redaction_requires_archive_and_erases_every_personal_value<
    S: Store + Clone + 'static,
>(
    store: S,
) {
    let dir = directory(store.clone());
    let mut person = contact("secret.person@example.com", "Secretia", "Hidalgo");
    person.phone = phone("+44 20 7946 0111");
    person.address = PostalAddress {
        line1: text("77 Hidden Lane"),
        postcode: text("ZZ9 9ZZ"),
        country: Some(CountryCode::parse("GB").unwrap()),
        ..PostalAddress::default()
    };
    person
        .custom_fields
        .insert("tier".into(), Text::parse("gold").unwrap());
    person
        .custom_fields
        .insert("allergy".into(), Text::parse("peanuts-secretia").unwrap());
    let (first, outcome) = record(&dir, "RD-1", BookingStatus::PAID, person.clone()).await;
    let id = outcome.customer().unwrap();
    let (related, _) = record(
        &dir,
        "RD-2",
        BookingStatus::PAID,
        contact("secret.person@example.com", "Secretia2", ""),
    )
    .await;
    // A duplicate merged into it: its data must go too.
    let dup = create(
        &dir,
        contact("secretia.alt@example.com", "Secretia", "Hidalgo"),
    )
    .await;
    dir.merge(&MergeRequest::new(id, [dup]), &staff())
        .await
        .unwrap();
    assert!(matches!(
        dir.redact(id, &[], &staff()).await,
        Err(Error::CustomerStatus { .. })
    ));
    dir.archive(id, &staff()).await.unwrap();
    let before = dir.booking(first).await.unwrap();
    let redacted = dir
        .redact(id, &["tier".to_owned()], &staff())
        .await
        .unwrap();
    assert_eq!(redacted.bookings.len(), 2);
    let customer = dir.customer(id).await.unwrap();
    assert_eq!(customer.status, CustomerStatus::Redacted);
    assert_eq!(
        customer.profile.custom_fields.get("tier").map(Text::as_str),
        Some("gold")
    );
    assert!(customer.aliases.is_empty());
    let after = dir.booking(first).await.unwrap();
    assert_eq!(
        (
            after.id,
            &after.code,
            after.starts_at,
            &after.status,
            after.total,
            after.paid,
            after.created_at
        ),
        (
            before.id,
            &before.code,
            before.starts_at,
            &before.status,
            before.total,
            before.paid,
            before.created_at
        ),
        "ids, dates, statuses and amounts are kept"
    );
    assert_no_trace(
        &store,
        &[id, dup],
        &[first, related],
        &[
            "secret.person",
            "secretia",
            "Hidalgo",
            "Hidden Lane",
            "ZZ9",
            "+442079460111",
            "peanuts",
        ],
    )
    .await;
    // A new booking with that email starts a fresh profile.
    let (_, outcome) = record(
        &dir,
        "RD-3",
        BookingStatus::PAID,
        contact("secret.person@example.com", "S", ""),
    )
    .await;
    assert!(matches!(outcome, AttributionOutcome::CreatedCustomer(fresh) if fresh != id));
    assert!(
        matches!(
            dir.activate(id, &staff()).await,
            Err(Error::CustomerStatus { .. })
        ),
        "cannot be undone"
    );
}

/// A merge that was undone still remembers the merged customer's old details; redacting
/// that customer must reach it, while the other customer's own merge history stays intact.
pub async fn redaction_reaches_undone_merges_the_customer_was_merged_in<
    S: Store + Clone + 'static,
>(
    store: S,
) {
    let dir = directory(store.clone());
    let keeper = create(&dir, contact("keeper@example.com", "Kept", "Person")).await;
    let leaver = create(&dir, contact("leaver@example.com", "Ulrike", "Gone")).await;
    let report = dir
        .merge(&MergeRequest::new(keeper, [leaver]), &staff())
        .await
        .unwrap();
    dir.undo_merge(report.merge, &staff()).await.unwrap();
    let involving = store.merges_involving(leaver).await.unwrap();
    assert_eq!(
        involving.len(),
        1,
        "the merged customer's merges are listed"
    );
    assert_eq!(store.merges_involving(keeper).await.unwrap(), involving);

    dir.archive(leaver, &staff()).await.unwrap();
    dir.redact(leaver, &[], &staff()).await.unwrap();
    assert_no_trace(&store, &[leaver, keeper], &[], &["leaver@", "Ulrike"]).await;
    let keeper_now = dir.customer(keeper).await.unwrap();
    assert_eq!(keeper_now.status, CustomerStatus::Active);
    assert_eq!(keeper_now.profile.label(), "Kept Person");
}

/// A survivor without an email answers to the merged customer's address as an alias; a
/// booking with that address then fills the survivor's email, promoting the alias.
pub async fn an_alias_filled_in_as_the_email_is_promoted_not_held_twice<
    S: Store + Clone + 'static,
>(
    store: S,
) {
    let dir = directory(store.clone());
    let survivor = create(&dir, contact("", "Nomail", "Person")).await;
    let other = create(&dir, contact("promote@example.com", "Nomail", "Person")).await;
    dir.merge(&MergeRequest::new(survivor, [other]), &staff())
        .await
        .unwrap();
    let merged = dir.customer(survivor).await.unwrap();
    assert!(merged.profile.email.is_none());
    assert_eq!(merged.aliases.len(), 1);

    let (_, outcome) = record(
        &dir,
        "AL-1",
        BookingStatus::PAID,
        contact("promote@example.com", "Nomail", "Person"),
    )
    .await;
    assert_eq!(outcome.customer(), Some(survivor));
    let now = dir.customer(survivor).await.unwrap();
    assert_eq!(
        now.profile.email.as_ref().map(EmailAddress::as_str),
        Some("promote@example.com")
    );
    assert!(now.aliases.is_empty(), "the alias was promoted");
    assert_eq!(now.email_keys().count(), 1);
    let key = now.profile.email.as_ref().unwrap().key().clone();
    let found = store
        .lookup_email(&key)
        .await
        .unwrap()
        .customer
        .map(|c| c.id);
    assert_eq!(found, Some(survivor));
}

/// A merge decided before a booking arrived for a merged-away customer must not commit:
/// the booking would be left on the tombstone. Found by the soak test.
pub async fn a_booking_attached_while_a_merge_was_decided_makes_it_conflict<
    S: Store + Clone + 'static,
>(
    store: S,
) {
    let dir = directory(store.clone());
    let survivor = create(&dir, contact("race.keep@example.com", "Race", "Keep")).await;
    let other = create(&dir, contact("race.gone@example.com", "Race", "Gone")).await;
    let plan = crate::decisions::merge::plan_merge(
        dir.customer(survivor).await.unwrap(),
        vec![dir.customer(other).await.unwrap()],
        dir.customer_bookings(other).await.unwrap(),
        &MergeRequest::new(survivor, [other]),
        t0(),
    )
    .unwrap();
    let (late, _) = record(
        &dir,
        "RACE-1",
        BookingStatus::PAID,
        contact("race.gone@example.com", "Race", "Gone"),
    )
    .await;
    let error = store.commit(plan.changes).await.unwrap_err();
    assert!(
        matches!(
            error.conflict(),
            Some(crate::ports::store::Conflict::CustomerBookings { customer }) if *customer == other
        ),
        "{error}"
    );
    assert_eq!(
        dir.customer(other).await.unwrap().status,
        CustomerStatus::Active
    );
    // Through the directory the merge reads again and takes the late booking along.
    dir.merge(&MergeRequest::new(survivor, [other]), &staff())
        .await
        .unwrap();
    let moved = dir.booking(late).await.unwrap();
    assert_eq!(moved.attribution.customer(), Some(survivor));
}

pub async fn bulk_redaction_of_inactive_customers_skips_blocked_ones<
    S: Store + BulkReadStore + Clone + 'static,
>(
    store: S,
) {
    let dir = directory(store.clone());
    let (_, stale) = record(
        &dir,
        "BR-1",
        BookingStatus::PAID,
        contact("stale@example.com", "S", ""),
    )
    .await;
    let (_, blocked) = record(
        &dir,
        "BR-2",
        BookingStatus::PAID,
        contact("blocked@example.com", "B", ""),
    )
    .await;
    let mut recent = booking(
        "BR-3",
        BookingStatus::PAID,
        contact("recent@example.com", "R", ""),
    );
    recent.starts_at = t0() + TimeDelta::days(400);
    let recent = dir
        .record_booking(recent, &Actor::System)
        .await
        .unwrap()
        .outcome;
    dir.block(blocked.customer().unwrap(), "fraud", &staff())
        .await
        .unwrap();
    let cutoff = t0() + TimeDelta::days(365);
    let done = dir
        .redact_inactive_since(cutoff, &Actor::System)
        .await
        .unwrap();
    assert_eq!(done, vec![stale.customer().unwrap()]);
    assert_eq!(
        dir.customer(stale.customer().unwrap())
            .await
            .unwrap()
            .status,
        CustomerStatus::Redacted
    );
    assert_eq!(
        dir.customer(blocked.customer().unwrap())
            .await
            .unwrap()
            .status,
        CustomerStatus::Blocked
    );
    assert_eq!(
        dir.customer(recent.customer().unwrap())
            .await
            .unwrap()
            .status,
        CustomerStatus::Active
    );
}

// --- merge -----------------------------------------------------------------------------------

pub async fn merge_moves_everything_and_keeps_every_conflicting_value<
    S: Store + Clone + 'static,
>(
    store: S,
) {
    let dir = directory(store.clone());
    let mut keep = contact("keep@example.com", "Kim", "");
    keep.custom_fields
        .insert("tier".into(), Text::parse("gold").unwrap());
    let (k1, o) = record(&dir, "MG-1", BookingStatus::PAID, keep).await;
    let survivor = o.customer().unwrap();
    let mut dup1 = contact("kim.old@example.com", "Kimberly", "Lowe");
    dup1.phone = phone("+44 20 7946 0222");
    dup1.custom_fields
        .insert("tier".into(), Text::parse("silver").unwrap());
    dup1.custom_fields
        .insert("diet".into(), Text::parse("vegan").unwrap());
    let (d1, o) = record(&dir, "MG-2", BookingStatus::PAID, dup1).await;
    let first = o.customer().unwrap();
    let (r1, _) = record(
        &dir,
        "MG-3",
        BookingStatus::PAID,
        contact("kim.old@example.com", "Someone", ""),
    )
    .await;
    let mut dup2 = contact("kim.work@example.com", "", "Lane");
    dup2.address = PostalAddress {
        city: text("Leeds"),
        ..PostalAddress::default()
    };
    let (d2, o) = record(&dir, "MG-4", BookingStatus::PAID, dup2).await;
    let second = o.customer().unwrap();
    let request = MergeRequest::new(survivor, [first, second]).take(Detail::Phone, first);
    let report = dir.merge(&request, &staff()).await.unwrap();
    assert_eq!(report.merged, vec![first, second]);
    let merged = dir.customer(survivor).await.unwrap();
    assert_eq!(
        merged.profile.given_name,
        name("Kim"),
        "survivor's values win"
    );
    assert_eq!(
        merged.profile.family_name,
        name("Lowe"),
        "blanks filled in the order given"
    );
    assert_eq!(merged.profile.address.city, text("Leeds"));
    assert_eq!(merged.profile.phone, phone("+44 20 7946 0222"));
    assert_eq!(
        merged.profile.custom_fields.get("tier").map(Text::as_str),
        Some("gold")
    );
    assert_eq!(
        merged.profile.custom_fields.get("diet").map(Text::as_str),
        Some("vegan"),
        "custom fields unioned"
    );
    let conflicts: Vec<(Detail, CustomerId, String)> = report
        .conflicts
        .iter()
        .map(|c| (c.detail.clone(), c.from, c.value.clone()))
        .collect();
    assert!(conflicts.contains(&(Detail::GivenName, first, "Kimberly".into())));
    assert!(conflicts.contains(&(Detail::FamilyName, second, "Lane".into())));
    assert!(conflicts.contains(&(Detail::CustomField("tier".into()), first, "silver".into())));
    let aliases: Vec<&str> = merged.aliases.iter().map(|a| a.as_str()).collect();
    assert_eq!(aliases, ["kim.old@example.com", "kim.work@example.com"]);
    for id in [first, second] {
        assert_eq!(
            dir.customer(id).await.unwrap().status,
            CustomerStatus::MergedInto(survivor)
        );
        assert_eq!(dir.resolve(id).await.unwrap().id(), survivor);
    }
    assert_eq!(
        dir.booking(k1).await.unwrap().attribution,
        Attribution::Primary(survivor)
    );
    assert_eq!(
        dir.booking(d1).await.unwrap().attribution,
        Attribution::Primary(survivor)
    );
    assert_eq!(
        dir.booking(d2).await.unwrap().attribution,
        Attribution::Primary(survivor)
    );
    assert!(
        matches!(dir.booking(r1).await.unwrap().attribution, Attribution::Related { customer, .. } if customer == survivor)
    );
    assert_eq!(
        dir.customer_bookings(survivor).await.unwrap().len(),
        4,
        "no booking lost"
    );
    let (_, outcome) = record(
        &dir,
        "MG-5",
        BookingStatus::PAID,
        contact("KIM.WORK@example.com", "Kim", ""),
    )
    .await;
    assert_eq!(outcome.customer(), Some(survivor), "aliases match");
}

pub async fn merge_guards_refuse_and_change_nothing<S: Store + Clone + 'static>(store: S) {
    let dir = directory(store.clone());
    let mut ids = Vec::new();
    for n in 0..11 {
        ids.push(create(&dir, contact(&format!("g{n}@example.com"), "G", "")).await);
    }
    let err = |r: Result<_, Error>| match r {
        Err(Error::Merge(e)) => e,
        other => panic!("expected a merge error, got {other:?}"),
    };
    assert_eq!(
        err(dir.merge(&MergeRequest::new(ids[0], []), &staff()).await),
        MergeError::TooMany { count: 1 }
    );
    assert_eq!(
        err(dir
            .merge(&MergeRequest::new(ids[0], ids[1..].to_vec()), &staff())
            .await),
        MergeError::TooMany { count: 11 }
    );
    assert_eq!(
        err(dir
            .merge(&MergeRequest::new(ids[0], [ids[1], ids[1]]), &staff())
            .await),
        MergeError::Repeated(ids[1])
    );
    assert_eq!(
        err(dir
            .merge(&MergeRequest::new(ids[0], [ids[0]]), &staff())
            .await),
        MergeError::Repeated(ids[0])
    );
    let outsider = CustomerId::new();
    assert!(matches!(
        err(dir
            .merge(
                &MergeRequest::new(ids[0], [ids[1]]).take(Detail::City, outsider),
                &staff()
            )
            .await),
        MergeError::OverrideOutsideMerge { .. }
    ));
    dir.block(ids[2], "fraud", &staff()).await.unwrap();
    assert_eq!(
        err(dir
            .merge(&MergeRequest::new(ids[0], [ids[2]]), &staff())
            .await),
        MergeError::BlockedNeedsConsent(ids[2])
    );
    dir.archive(ids[3], &staff()).await.unwrap();
    dir.redact(ids[3], &[], &staff()).await.unwrap();
    assert!(matches!(
        err(dir
            .merge(&MergeRequest::new(ids[0], [ids[3]]), &staff())
            .await),
        MergeError::NotMergeable { .. }
    ));
    for id in &ids[..2] {
        assert_eq!(
            dir.customer(*id).await.unwrap().status,
            CustomerStatus::Active,
            "refused merges change nothing"
        );
    }
    // With consent, ten customers at once (the maximum) merge, the blocked one included.
    let mut others = ids[1..10].to_vec();
    others.retain(|id| *id != ids[3]);
    others.push(ids[10]);
    let report = dir
        .merge(
            &MergeRequest::new(ids[0], others.clone()).allowing_blocked(),
            &staff(),
        )
        .await
        .unwrap();
    assert_eq!(report.merged, others);
    assert!(
        matches!(
            dir.merge(&MergeRequest::new(ids[0], [ids[1]]), &staff()).await,
            Err(Error::CustomerMerged { id, survivor, merge })
                if id == ids[1] && survivor == ids[0] && merge == report.merge
        ),
        "a merged customer cannot take part again: the error names its survivor and merge"
    );
}

pub async fn merge_preview_changes_nothing<S: Store + Clone + 'static>(store: S) {
    let dir = directory(store.clone());
    let a = create(&dir, contact("pa@example.com", "P", "")).await;
    let (booking_id, outcome) = record(
        &dir,
        "PV-1",
        BookingStatus::PAID,
        contact("pb@example.com", "Q", ""),
    )
    .await;
    let b = outcome.customer().unwrap();
    let before = (
        dir.customer(a).await.unwrap(),
        dir.customer(b).await.unwrap(),
        dir.booking(booking_id).await.unwrap(),
    );
    let preview = dir.preview_merge(&MergeRequest::new(a, [b])).await.unwrap();
    assert_eq!(preview.moved.len(), 1);
    assert_eq!(preview.conflicts.len(), 1);
    let after = (
        dir.customer(a).await.unwrap(),
        dir.customer(b).await.unwrap(),
        dir.booking(booking_id).await.unwrap(),
    );
    assert_eq!(before, after);
    assert!(store.merge_record(preview.merge).await.unwrap().is_none());
}

pub async fn undo_restores_the_merged_and_reports_what_changed_since<S: Store + Clone + 'static>(
    store: S,
) {
    let clock = FixedClock::new(t0());
    let dir = Directory::with_clock(store.clone(), DirectorySettings::default(), clock.clone());
    let (_, o) = record(
        &dir,
        "UN-1",
        BookingStatus::PAID,
        contact("un@example.com", "Uma", ""),
    )
    .await;
    let survivor = o.customer().unwrap();
    let mut other = contact("un.other@example.com", "Uma", "North");
    other.phone = phone("+44 20 7946 0333");
    let (moved_a, o) = record(&dir, "UN-2", BookingStatus::PAID, other.clone()).await;
    let merged = o.customer().unwrap();
    let (moved_b, _) = record(
        &dir,
        "UN-3",
        BookingStatus::PAID,
        contact("un.other@example.com", "", ""),
    )
    .await;
    let merged_before = dir.customer(merged).await.unwrap();
    let report = dir
        .merge(&MergeRequest::new(survivor, [merged]), &staff())
        .await
        .unwrap();
    // After the merge, one moved booking changes: it stays where it is on undo.
    dir.change_booking_status(moved_b, BookingStatus::COMPLETED, &staff())
        .await
        .unwrap();
    clock.advance(TimeDelta::days(1));
    let undo = dir.undo_merge(report.merge, &staff()).await.unwrap();
    assert_eq!(undo.restored, vec![merged]);
    assert_eq!(undo.returned, vec![moved_a]);
    assert_eq!(undo.kept_changed, vec![moved_b]);
    let restored = dir.customer(merged).await.unwrap();
    assert_eq!(
        (restored.status, &restored.profile),
        (CustomerStatus::Active, &merged_before.profile)
    );
    assert_eq!(
        dir.booking(moved_a).await.unwrap().attribution,
        Attribution::Primary(merged)
    );
    assert_eq!(
        dir.booking(moved_b).await.unwrap().attribution,
        Attribution::Primary(survivor)
    );
    let back = dir.customer(survivor).await.unwrap();
    assert!(back.aliases.is_empty());
    assert_eq!(
        (back.profile.family_name, back.profile.phone),
        (None, None),
        "filled details go back"
    );
    assert_eq!(
        dir.find_by_email("un.other@example.com")
            .await
            .unwrap()
            .map(|c| c.id),
        Some(merged)
    );
    assert!(matches!(
        dir.undo_merge(report.merge, &staff()).await,
        Err(Error::Merge(MergeError::AlreadyUndone(_)))
    ));
    // The window: 30 days by default.
    let again = dir
        .merge(&MergeRequest::new(survivor, [merged]), &staff())
        .await
        .unwrap();
    clock.advance(TimeDelta::days(31));
    assert!(matches!(
        dir.undo_merge(again.merge, &staff()).await,
        Err(Error::Merge(MergeError::UndoWindowClosed { .. }))
    ));
    assert_eq!(
        dir.customer(merged).await.unwrap().status,
        CustomerStatus::MergedInto(survivor)
    );
}

// --- duplicates, audit -----------------------------------------------------------------------

pub async fn duplicates_are_grouped_by_each_key<S: Store + BulkReadStore + Clone + 'static>(
    store: S,
) {
    let dir = directory(store.clone());
    let loose_a = create(&dir, contact("jo.doe@gmail.com", "Jo", "")).await;
    let loose_b = create(&dir, contact("jodoe+x@googlemail.com", "J", "")).await;
    let mut with_phone = contact("p1@example.com", "P", "");
    with_phone.phone = phone("+44 20 7946 0444");
    let phone_a = create(&dir, with_phone.clone()).await;
    with_phone.email = Some(EmailAddress::parse("p2@example.com").unwrap());
    let phone_b = create(&dir, with_phone).await;
    let mut named = contact("n1@example.com", "Nia", "Long");
    named.address = PostalAddress {
        postcode: text("LS1 1AA"),
        ..PostalAddress::default()
    };
    let name_a = create(&dir, named.clone()).await;
    named.email = Some(EmailAddress::parse("n2@example.com").unwrap());
    named.given_name = name("NIA");
    let name_b = create(&dir, named).await;
    create(&dir, contact("alone@example.com", "Al", "")).await;
    let groups = dir.find_duplicates().await.unwrap();
    let mut found: Vec<(DuplicateReason, Vec<CustomerId>)> = groups
        .into_iter()
        .map(|g| (g.reason, g.customers))
        .collect();
    found.sort();
    let sorted = |mut ids: Vec<CustomerId>| {
        ids.sort();
        ids
    };
    let mut expected = vec![
        (
            DuplicateReason::LooseEmailKey,
            sorted(vec![loose_a, loose_b]),
        ),
        (DuplicateReason::Phone, sorted(vec![phone_a, phone_b])),
        (
            DuplicateReason::NameAndPostcode,
            sorted(vec![name_a, name_b]),
        ),
    ];
    expected.sort();
    assert_eq!(found, expected);
}

pub async fn every_operation_records_one_audit_event<S: Store + Clone + 'static>(store: S) {
    let dir = directory(store.clone());
    let (booking_id, o) = record(
        &dir,
        "AU-1",
        BookingStatus::PENDING,
        contact("au@example.com", "Au", ""),
    )
    .await;
    assert_eq!(o.customer(), None);
    dir.change_booking_status(booking_id, BookingStatus::PAID, &staff())
        .await
        .unwrap();
    let id = dir
        .booking(booking_id)
        .await
        .unwrap()
        .attribution
        .customer()
        .unwrap();
    dir.update_contact(id, contact("au@example.com", "Au", "Gold"), &staff())
        .await
        .unwrap();
    dir.archive(id, &staff()).await.unwrap();
    dir.activate(id, &staff()).await.unwrap();
    dir.block(id, "test", &staff()).await.unwrap();
    dir.unblock(id, &staff()).await.unwrap();
    let trail = dir.audit_trail(id).await.unwrap();
    let actions: Vec<AuditAction> = trail.iter().map(|e| e.action).collect();
    assert_eq!(
        actions,
        [
            AuditAction::BookingStatusChanged,
            AuditAction::ContactUpdated,
            AuditAction::CustomerArchived,
            AuditAction::CustomerActivated,
            AuditAction::CustomerBlocked,
            AuditAction::CustomerUnblocked,
        ]
    );
    assert!(
        trail
            .iter()
            .skip(1)
            .all(|e| e.actor == staff() && e.at == t0())
    );
    assert!(matches!(
        dir.archive(CustomerId::new(), &staff()).await,
        Err(Error::CustomerNotFound(_))
    ));
    assert_eq!(
        dir.audit_trail(id).await.unwrap().len(),
        6,
        "a failed operation records nothing"
    );
}
