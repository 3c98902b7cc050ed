//! Profile records: notes, newsletter consent, lists, brochure
//! requests, and how merge, undo and redaction treat them.

use crate::decisions::merge::MergeRequest;
use crate::ports::clock::FixedClock;
use crate::ports::store::{BulkReadStore, Store};
use crate::records::audit::Actor;
use crate::records::notes::NoteText;
use crate::service::directory::Directory;
use crate::service::error::Error;
use crate::values::ids::CustomerId;
use crate::values::text::Text;
use chrono::TimeDelta;

use crate::testing::conformance::fixtures::{contact, directory};

fn staff() -> Actor {
    Actor::staff("records")
}

fn note(text: &str) -> NoteText {
    NoteText::parse(text).unwrap()
}

fn text(value: &str) -> Text {
    Text::parse(value).unwrap()
}

async fn person<S: Store>(dir: &Directory<S, FixedClock>, email: &str) -> CustomerId {
    dir.create_customer(contact(email, "Rec", "Ord"), &staff())
        .await
        .unwrap()
        .customer
}

async fn note_texts<S: Store>(dir: &Directory<S, FixedClock>, id: CustomerId) -> Vec<String> {
    let customer = dir.customer(id).await.unwrap();
    customer
        .records
        .notes
        .iter()
        .map(|n| n.text.as_str().to_owned())
        .collect()
}

pub async fn notes_are_added_edited_moved_and_deleted_in_order<S: Store + Clone + 'static>(
    store: S,
) {
    let dir = directory(store);
    let id = person(&dir, "notes@example.com").await;
    let first = dir
        .add_note(id, note("first"), None, &staff())
        .await
        .unwrap();
    let second = dir
        .add_note(
            id,
            note("second\nline two"),
            Some(text("allergy")),
            &staff(),
        )
        .await
        .unwrap();
    let third = dir
        .add_note(id, note("third"), None, &staff())
        .await
        .unwrap();
    assert_eq!(
        note_texts(&dir, id).await,
        ["first", "second\nline two", "third"]
    );

    dir.move_note(id, third, 0, &staff()).await.unwrap();
    assert_eq!(
        note_texts(&dir, id).await,
        ["third", "first", "second\nline two"]
    );
    dir.move_note(id, third, 99, &staff()).await.unwrap();
    assert_eq!(
        note_texts(&dir, id).await,
        ["first", "second\nline two", "third"]
    );

    dir.edit_note(
        id,
        first,
        note("first, edited"),
        Some(text("vip")),
        &staff(),
    )
    .await
    .unwrap();
    dir.delete_note(id, second, &staff()).await.unwrap();
    assert_eq!(note_texts(&dir, id).await, ["first, edited", "third"]);
    let stored = dir.customer(id).await.unwrap();
    assert_eq!(
        stored.records.notes[0].tag.as_ref().map(Text::as_str),
        Some("vip")
    );
    assert!(matches!(
        dir.delete_note(id, second, &staff()).await,
        Err(Error::NoteNotFound { .. })
    ));
    let trail = dir.audit_trail(id).await.unwrap();
    assert_eq!(
        trail.len(),
        1 + 3 + 2 + 1 + 1,
        "one event per change, none for the refusal"
    );
}

pub async fn newsletter_consent_is_a_log_and_the_last_decision_counts<
    S: Store + Clone + 'static,
>(
    store: S,
) {
    let dir = directory(store);
    let id = person(&dir, "news@example.com").await;
    assert!(!dir.customer(id).await.unwrap().records.subscribed());
    dir.set_newsletter(id, true, text("booking form"), &Actor::System)
        .await
        .unwrap();
    dir.clock().advance(TimeDelta::days(3));
    dir.set_newsletter(id, false, text("unsubscribe link"), &Actor::System)
        .await
        .unwrap();
    let records = dir.customer(id).await.unwrap().records;
    assert!(!records.subscribed());
    let log: Vec<(bool, &str)> = records
        .newsletter
        .iter()
        .map(|e| (e.subscribed, e.source.as_str()))
        .collect();
    assert_eq!(log, [(true, "booking form"), (false, "unsubscribe link")]);
    assert!(records.newsletter[0].at < records.newsletter[1].at);
}

pub async fn lists_are_named_uniquely_and_customers_join_and_leave<S: Store + Clone + 'static>(
    store: S,
) {
    let dir = directory(store.clone());
    let id = person(&dir, "lists@example.com").await;
    let schools = dir
        .create_list(text("School groups"), &staff())
        .await
        .unwrap();
    let vip = dir.create_list(text("VIP"), &staff()).await.unwrap();
    assert!(matches!(
        dir.create_list(text("school  GROUPS"), &staff()).await,
        Err(Error::ListNameTaken(_))
    ));
    assert!(matches!(
        dir.rename_list(vip, text("School groups"), &staff()).await,
        Err(Error::ListNameTaken(_))
    ));
    dir.rename_list(vip, text("Archive 2025"), &staff())
        .await
        .unwrap();
    let names: Vec<String> = dir
        .lists()
        .await
        .unwrap()
        .iter()
        .map(|l| l.name.as_str().to_owned())
        .collect();
    assert_eq!(names, ["Archive 2025", "School groups"], "ordered by name");

    dir.add_to_list(id, schools, &staff()).await.unwrap();
    dir.add_to_list(id, vip, &staff()).await.unwrap();
    dir.add_to_list(id, vip, &staff()).await.unwrap();
    assert_eq!(dir.customer(id).await.unwrap().records.lists.len(), 2);
    dir.remove_from_list(id, vip, &staff()).await.unwrap();
    let lists = dir.customer(id).await.unwrap().records.lists;
    assert_eq!(lists.into_iter().collect::<Vec<_>>(), [schools]);
    assert!(matches!(
        dir.add_to_list(id, crate::values::ids::ListId::new(), &staff())
            .await,
        Err(Error::ListNotFound(_))
    ));
}

pub async fn brochure_requests_are_pending_until_sent<
    S: Store + BulkReadStore + Clone + 'static,
>(
    store: S,
) {
    let dir = directory(store);
    let ana = person(&dir, "brochure.a@example.com").await;
    let bo = person(&dir, "brochure.b@example.com").await;
    let first = dir
        .request_brochure(ana, text("Summer 2027"), &staff())
        .await
        .unwrap();
    dir.clock().advance(TimeDelta::hours(1));
    dir.request_brochure(bo, text("Winter 2027"), &staff())
        .await
        .unwrap();
    let pending = dir.pending_brochure_requests().await.unwrap();
    let who: Vec<CustomerId> = pending.iter().map(|(c, _)| *c).collect();
    assert_eq!(who, [ana, bo], "oldest first");
    dir.mark_brochure_sent(ana, first, &staff()).await.unwrap();
    let pending = dir.pending_brochure_requests().await.unwrap();
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].0, bo);
    let sent = dir.customer(ana).await.unwrap().records.brochure_requests;
    assert!(sent[0].sent_at.is_some());
}

pub async fn merge_and_undo_carry_every_record<S: Store + Clone + 'static>(store: S) {
    let dir = directory(store);
    let survivor = person(&dir, "keep.records@example.com").await;
    let other = person(&dir, "merge.records@example.com").await;
    let shared = dir.create_list(text("Shared"), &staff()).await.unwrap();
    let theirs = dir.create_list(text("Theirs"), &staff()).await.unwrap();
    dir.add_note(survivor, note("survivor note"), None, &staff())
        .await
        .unwrap();
    dir.add_note(other, note("other note 1"), None, &staff())
        .await
        .unwrap();
    dir.add_note(other, note("other note 2"), None, &staff())
        .await
        .unwrap();
    dir.add_to_list(survivor, shared, &staff()).await.unwrap();
    dir.add_to_list(other, shared, &staff()).await.unwrap();
    dir.add_to_list(other, theirs, &staff()).await.unwrap();
    // The same moment: one subscribes, the other unsubscribes; unsubscribe wins the tie.
    dir.set_newsletter(survivor, true, text("form"), &staff())
        .await
        .unwrap();
    dir.set_newsletter(other, false, text("link"), &staff())
        .await
        .unwrap();
    dir.request_brochure(other, text("Autumn"), &staff())
        .await
        .unwrap();
    let before = dir.customer(survivor).await.unwrap().records;

    let report = dir
        .merge(&MergeRequest::new(survivor, [other]), &staff())
        .await
        .unwrap();
    let merged = dir.customer(survivor).await.unwrap().records;
    assert_eq!(
        note_texts(&dir, survivor).await,
        ["survivor note", "other note 1", "other note 2"]
    );
    assert_eq!(merged.lists.len(), 2, "lists unioned");
    assert!(!merged.subscribed(), "unsubscribed on a tie");
    assert_eq!(merged.newsletter.len(), 2);
    assert_eq!(merged.brochure_requests.len(), 1);
    let tombstone = dir.store().customer(other).await.unwrap().unwrap();
    assert!(tombstone.records.is_empty(), "the tombstone keeps nothing");

    dir.undo_merge(report.merge, &staff()).await.unwrap();
    assert_eq!(dir.customer(survivor).await.unwrap().records, before);
    let restored = dir.customer(other).await.unwrap().records;
    assert_eq!(restored.notes.len(), 2);
    assert_eq!(restored.lists.len(), 2);
    assert_eq!(restored.brochure_requests.len(), 1);
}

pub async fn redaction_erases_notes_and_consent<S: Store + Clone + 'static>(store: S) {
    let dir = directory(store);
    let id = person(&dir, "erase.records@example.com").await;
    dir.add_note(id, note("lives at 12 Secret Row"), None, &staff())
        .await
        .unwrap();
    dir.set_newsletter(id, true, text("secret-source-form"), &staff())
        .await
        .unwrap();
    let list = dir.create_list(text("Kept list"), &staff()).await.unwrap();
    dir.add_to_list(id, list, &staff()).await.unwrap();
    dir.archive(id, &staff()).await.unwrap();
    dir.redact(id, &[], &staff()).await.unwrap();
    let records = dir.store().customer(id).await.unwrap().unwrap().records;
    assert!(records.notes.is_empty() && records.newsletter.is_empty());
    assert!(
        records.lists.contains(&list),
        "memberships are not personal"
    );
    let dump = format!("{:?}", dir.store().customer(id).await.unwrap());
    assert!(!dump.contains("Secret Row") && !dump.contains("secret-source"));
}
