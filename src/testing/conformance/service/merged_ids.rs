//! What every operation taking a customer id answers for each state that id can be in: a
//! merge tombstone, the survivor of a merge that can still be undone, a deleted id, a
//! redacted customer, and an id never stored; and what `resolve` and `undo_merge` say
//! afterwards.
//!
//! The operations are one table ([`CustomerOp`]), so a state is checked against every
//! operation at once and an operation added to the table is checked in every state.

use chrono::{DateTime, TimeDelta, Utc};

use crate::decisions::merge::{MergeError, MergeRequest};
use crate::ports::clock::{Clock, FixedClock};
use crate::ports::store::{AccountStore, Store};
use crate::records::audit::Actor;
use crate::records::customer::CustomerStatus;
use crate::records::notes::NoteText;
use crate::records::profile::Profile;
use crate::service::directory::Directory;
use crate::service::directory::lifecycle::Resolved;
use crate::service::error::{CustomerAction, Error};
use crate::values::booking_status::BookingStatus;
use crate::values::ids::{BookingId, BrochureRequestId, CustomerId, ListId, MergeId, NoteId};
use crate::values::text::Text;

use crate::testing::conformance::fixtures::{booking, contact, directory, t0};

fn staff() -> Actor {
    Actor::staff("maria")
}

/// Every directory operation that takes a customer id, writes and reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CustomerOp {
    Edit,
    AddNote,
    EditNote,
    DeleteNote,
    MoveNote,
    SetNewsletter,
    AddToList,
    RemoveFromList,
    RequestBrochure,
    MarkBrochureSent,
    Archive,
    Activate,
    Block,
    Unblock,
    Delete,
    Redact,
    AttachBooking,
    MergeAsSurvivor,
    MergeAsOther,
    Bookings,
    RelatedBookings,
    Suggestions,
    Summary,
    Statement,
    DataSubjectExport,
}

impl CustomerOp {
    /// The operations that change something.
    const WRITES: [Self; 19] = [
        Self::Edit,
        Self::AddNote,
        Self::EditNote,
        Self::DeleteNote,
        Self::MoveNote,
        Self::SetNewsletter,
        Self::AddToList,
        Self::RemoveFromList,
        Self::RequestBrochure,
        Self::MarkBrochureSent,
        Self::Archive,
        Self::Activate,
        Self::Block,
        Self::Unblock,
        Self::Delete,
        Self::Redact,
        Self::AttachBooking,
        Self::MergeAsSurvivor,
        Self::MergeAsOther,
    ];

    /// The reads of a person's data.
    const READS: [Self; 6] = [
        Self::Bookings,
        Self::RelatedBookings,
        Self::Suggestions,
        Self::Summary,
        Self::Statement,
        Self::DataSubjectExport,
    ];

    fn all() -> impl Iterator<Item = Self> {
        Self::WRITES.into_iter().chain(Self::READS)
    }
}

/// What the operations need besides the id: a list, a spare live customer to merge with
/// and an unattributed booking to attach.
struct Fixture {
    /// Tells this fixture's names, emails and codes apart from other fixtures' in one store.
    tag: usize,
    list: ListId,
    spare: CustomerId,
    loose_booking: BookingId,
}

impl Fixture {
    async fn new<S: Store>(dir: &Directory<S, FixedClock>, tag: usize) -> Self {
        let list = dir
            .create_list(Text::parse(&format!("Regulars {tag}")).unwrap(), &staff())
            .await
            .unwrap();
        let spare = dir
            .create_customer(
                contact(&format!("spare{tag}@example.com"), "Spare", ""),
                &staff(),
            )
            .await
            .unwrap()
            .customer;
        let loose_booking = dir
            .record_booking(
                booking(
                    &format!("LOOSE-{tag}"),
                    BookingStatus::PENDING,
                    contact(&format!("loose{tag}@example.com"), "Lou", ""),
                ),
                &Actor::System,
            )
            .await
            .unwrap()
            .booking;
        Self {
            tag,
            list,
            spare,
            loose_booking,
        }
    }

    /// Runs `op` on customer `id`, keeping only whether it succeeded.
    async fn run<S: Store>(
        &self,
        dir: &Directory<S, FixedClock>,
        op: CustomerOp,
        id: CustomerId,
    ) -> Result<(), Error> {
        let actor = staff();
        let note = || NoteText::parse("Window seat").unwrap();
        match op {
            CustomerOp::Edit => {
                let email = format!("edited{}@example.com", self.tag);
                dir.update_contact(id, contact(&email, "Ed", ""), &actor)
                    .await
                    .map(drop)
            }
            CustomerOp::AddNote => dir.add_note(id, note(), None, &actor).await.map(drop),
            CustomerOp::EditNote => dir
                .edit_note(id, NoteId::new(), note(), None, &actor)
                .await
                .map(drop),
            CustomerOp::DeleteNote => dir.delete_note(id, NoteId::new(), &actor).await,
            CustomerOp::MoveNote => dir.move_note(id, NoteId::new(), 0, &actor).await,
            CustomerOp::SetNewsletter => {
                let source = Text::parse("front desk").unwrap();
                dir.set_newsletter(id, true, source, &actor).await
            }
            CustomerOp::AddToList => dir.add_to_list(id, self.list, &actor).await,
            CustomerOp::RemoveFromList => dir.remove_from_list(id, self.list, &actor).await,
            CustomerOp::RequestBrochure => dir
                .request_brochure(id, Text::parse("Summer").unwrap(), &actor)
                .await
                .map(drop),
            CustomerOp::MarkBrochureSent => {
                dir.mark_brochure_sent(id, BrochureRequestId::new(), &actor)
                    .await
            }
            CustomerOp::Archive => dir.archive(id, &actor).await,
            CustomerOp::Activate => dir.activate(id, &actor).await,
            CustomerOp::Block => dir.block(id, "chargebacks", &actor).await.map(drop),
            CustomerOp::Unblock => dir.unblock(id, &actor).await,
            CustomerOp::Delete => dir.delete_customer(id, &actor).await.map(drop),
            CustomerOp::Redact => dir.redact(id, &[], &actor).await.map(drop),
            CustomerOp::AttachBooking => dir.attach_booking(self.loose_booking, id, &actor).await,
            CustomerOp::MergeAsSurvivor => dir
                .merge(&MergeRequest::new(id, [self.spare]), &actor)
                .await
                .map(drop),
            CustomerOp::MergeAsOther => dir
                .merge(&MergeRequest::new(self.spare, [id]), &actor)
                .await
                .map(drop),
            CustomerOp::Bookings => dir.customer_bookings(id).await.map(drop),
            CustomerOp::RelatedBookings => dir.related_bookings(id).await.map(drop),
            CustomerOp::Suggestions => dir.suggestions(id).await.map(drop),
            CustomerOp::Summary => dir.summary(id).await.map(drop),
            CustomerOp::Statement => dir
                .statement(id, t0() - TimeDelta::days(365), t0() + TimeDelta::days(365))
                .await
                .map(drop),
            CustomerOp::DataSubjectExport => dir.data_subject_export(id).await.map(drop),
        }
    }
}

/// Everything the store shows for these customers and merges, to prove a refused
/// operation changed nothing.
async fn snapshot<S: Store>(store: &S, customers: &[CustomerId], merges: &[MergeId]) -> String {
    let mut out = String::new();
    for id in customers {
        out.push_str(&format!("{:?}", store.customer(*id).await.unwrap()));
        out.push_str(&format!(
            "{:?}",
            store.customer_bookings(*id).await.unwrap()
        ));
        out.push_str(&format!("{:?}", store.audit_trail(*id).await.unwrap()));
    }
    for id in merges {
        out.push_str(&format!("{:?}", store.merge_record(*id).await.unwrap()));
    }
    out
}

/// Ana and Bea, one booking each (`tag` tells pairs in one store apart; Bea's first booking
/// is `MI-2` in pair 0).
async fn pair<S: Store>(dir: &Directory<S, FixedClock>, tag: usize) -> (CustomerId, CustomerId) {
    let mut ids = Vec::new();
    for (n, email, given) in [
        (1, format!("ana{tag}@example.com"), "Ana"),
        (2, format!("bea{tag}@example.com"), "Bea"),
    ] {
        let code = if tag == 0 {
            format!("MI-{n}")
        } else {
            format!("MI-{n}-{tag}")
        };
        ids.push(booked(dir, &code, contact(&email, given, "Silva")).await);
    }
    (ids[0], ids[1])
}

/// The customer a paid booking for `contact` creates.
async fn booked<S: Store>(
    dir: &Directory<S, FixedClock>,
    code: &str,
    contact: Profile,
) -> CustomerId {
    dir.record_booking(booking(code, BookingStatus::PAID, contact), &Actor::System)
        .await
        .unwrap()
        .outcome
        .customer()
        .unwrap()
}

/// Ana (the survivor, with a booking) and Bea merged into her.
async fn merged_pair<S: Store>(
    dir: &Directory<S, FixedClock>,
    tag: usize,
) -> (CustomerId, CustomerId, MergeId) {
    let (ana, bea) = pair(dir, tag).await;
    let merge = dir
        .merge(&MergeRequest::new(ana, [bea]), &staff())
        .await
        .unwrap()
        .merge;
    (ana, bea, merge)
}

pub async fn every_operation_on_a_merged_id_names_its_survivor_and_merge_and_changes_nothing<
    S: Store + Clone + 'static,
>(
    store: S,
) {
    let dir = directory(store.clone());
    // A fresh merge for each operation, so the undo after each one is checked too.
    for (tag, op) in CustomerOp::all().enumerate() {
        let fixture = Fixture::new(&dir, tag).await;
        let (ana, bea, merge) = merged_pair(&dir, tag).await;
        let ids = [ana, bea, fixture.spare];
        let before = snapshot(&store, &ids, &[merge]).await;
        match fixture.run(&dir, op, bea).await {
            Err(Error::CustomerMerged {
                id,
                survivor,
                merge: named,
            }) => {
                assert_eq!((id, survivor, named), (bea, ana, merge), "{op:?}");
            }
            other => panic!("{op:?} on a merged id answered {other:?}"),
        }
        assert_eq!(
            snapshot(&store, &ids, &[merge]).await,
            before,
            "{op:?} on a merged id changed the store"
        );
        // The record itself and its history still answer for the id, and it resolves
        // through its merge to the survivor.
        assert_eq!(
            dir.customer(bea).await.unwrap().status,
            CustomerStatus::MergedInto(ana)
        );
        assert!(!dir.audit_trail(bea).await.unwrap().is_empty());
        let resolution = dir.resolve(bea).await.unwrap();
        assert_eq!(resolution.asked, bea);
        assert_eq!(resolution.id(), ana, "after {op:?}");
        assert_eq!(resolution.merges.len(), 1);
        assert_eq!(resolution.merges[0].merge, merge);
        assert!(resolution.was_merged());
        // Nothing the refused operation did closed the merge: it still undoes.
        let undone = dir.undo_merge(merge, &staff()).await.unwrap();
        assert_eq!(undone.restored, vec![bea], "after {op:?}");
        assert_eq!(
            dir.customer_bookings(bea).await.unwrap().len(),
            1,
            "the restored customer's booking came back after {op:?}"
        );
        assert!(!dir.resolve(bea).await.unwrap().was_merged());
    }
}

pub async fn a_merge_survivor_takes_every_operation_but_deletion_until_the_undo_window_closes<
    S: Store + Clone + 'static,
>(
    store: S,
) {
    let dir = directory(store.clone());
    let window =
        chrono::TimeDelta::from_std(dir.settings().merge_undo_window).unwrap_or(TimeDelta::MAX);
    // A fresh merge for each operation on its survivor; then what resolve and undo say.
    for (tag, op) in CustomerOp::all().enumerate() {
        let fixture = Fixture::new(&dir, tag).await;
        let (ana, bea, merge) = merged_pair(&dir, tag).await;
        let ids = [ana, bea, fixture.spare];
        let before = snapshot(&store, &ids, &[merge]).await;
        let result = fixture.run(&dir, op, ana).await;
        let refused = result.is_err();
        match (op, result) {
            (_, Ok(())) => {}
            // Deleting the survivor would make the undo impossible: refused, naming the
            // merge and the end of its window.
            (
                CustomerOp::Delete,
                Err(Error::SurvivorOfUndoableMerge {
                    id,
                    merge: named,
                    until,
                }),
            ) => {
                assert_eq!((id, named), (ana, merge));
                assert_eq!(until, t0() + window, "the window runs from the merge");
            }
            // The survivor's own status decides, as for any live customer.
            (
                CustomerOp::Activate | CustomerOp::Unblock | CustomerOp::Redact,
                Err(Error::CustomerStatus { id, status, .. }),
            ) => assert_eq!((id, status), (ana, CustomerStatus::Active), "{op:?}"),
            // The note and brochure request named do not exist: the survivor is reached.
            (
                CustomerOp::EditNote | CustomerOp::DeleteNote | CustomerOp::MoveNote,
                Err(Error::NoteNotFound { customer, .. }),
            )
            | (
                CustomerOp::MarkBrochureSent,
                Err(Error::BrochureRequestNotFound { customer, .. }),
            ) if customer == ana => {}
            (_, other) => panic!("{op:?} on a survivor answered {other:?}"),
        }
        if refused {
            assert_eq!(
                snapshot(&store, &ids, &[merge]).await,
                before,
                "{op:?} was refused but changed the store"
            );
        }
        let resolution = dir.resolve(bea).await.unwrap();
        assert_eq!(resolution.merges[0].merge, merge, "after {op:?}");
        if op == CustomerOp::MergeAsOther {
            // The survivor itself went on into the spare customer: undo that merge first.
            assert_eq!(resolution.id(), fixture.spare);
            let later = resolution.merges[1].merge;
            assert!(matches!(
                dir.undo_merge(merge, &staff()).await,
                Err(Error::CustomerMerged { id, survivor, merge: m })
                    if id == ana && survivor == fixture.spare && m == later
            ));
            dir.undo_merge(later, &staff()).await.unwrap();
        } else {
            assert_eq!(resolution.id(), ana, "after {op:?}");
        }
        let undone = dir.undo_merge(merge, &staff()).await.unwrap();
        assert_eq!(undone.restored, vec![bea], "after {op:?}");
        assert_eq!(
            dir.customer(bea).await.unwrap().status,
            CustomerStatus::Active,
            "after {op:?}"
        );
    }

    // Once the window has closed, the survivor can be deleted; its merged id then resolves
    // through the merge to the deletion, and the undo says the window closed.
    let (ana, bea, merge) = {
        let carla = dir
            .create_customer(contact("carla@example.com", "Carla", ""), &staff())
            .await
            .unwrap()
            .customer;
        let dora = dir
            .create_customer(contact("dora@example.com", "Dora", ""), &staff())
            .await
            .unwrap()
            .customer;
        let merge = dir
            .merge(&MergeRequest::new(carla, [dora]), &staff())
            .await
            .unwrap()
            .merge;
        (carla, dora, merge)
    };
    dir.clock().advance(window + TimeDelta::seconds(1));
    dir.delete_customer(ana, &staff()).await.unwrap();
    let deleted_at = dir.clock().now();
    let resolution = dir.resolve(bea).await.unwrap();
    assert_eq!(resolution.merges[0].merge, merge);
    assert_eq!(
        resolution.current,
        Resolved::Deleted {
            id: ana,
            at: deleted_at
        }
    );
    assert!(matches!(
        dir.undo_merge(merge, &staff()).await,
        Err(Error::Merge(MergeError::UndoWindowClosed { merge: named, .. })) if named == merge
    ));
}

pub async fn redacting_a_survivor_closes_its_merges_and_resolve_and_undo_say_so<
    S: Store + Clone + 'static,
>(
    store: S,
) {
    let dir = directory(store.clone());
    let (ana, bea, merge) = merged_pair(&dir, 0).await;
    // Erasure is not held back by the undo window.
    dir.archive(ana, &staff()).await.unwrap();
    dir.redact(ana, &[], &staff()).await.unwrap();
    assert!(matches!(
        dir.undo_merge(merge, &staff()).await,
        Err(Error::Merge(MergeError::SurvivorRedacted { merge: m, survivor }))
            if m == merge && survivor == ana
    ));
    let resolution = dir.resolve(bea).await.unwrap();
    assert_eq!(resolution.id(), ana);
    assert_eq!(
        resolution.customer().map(|c| c.status),
        Some(CustomerStatus::Redacted)
    );
    // The tombstone still refuses everything, naming the (redacted) survivor.
    assert!(matches!(
        dir.delete_customer(bea, &staff()).await,
        Err(Error::CustomerMerged { survivor, .. }) if survivor == ana
    ));
}

pub async fn undoing_a_merge_whose_survivor_was_merged_again_names_the_later_merge<
    S: Store + Clone + 'static,
>(
    store: S,
) {
    let dir = directory(store.clone());
    let (ana, bea, first) = merged_pair(&dir, 0).await;
    let cleo = dir
        .create_customer(contact("cleo@example.com", "Cleo", ""), &staff())
        .await
        .unwrap()
        .customer;
    let second = dir
        .merge(&MergeRequest::new(cleo, [ana]), &staff())
        .await
        .unwrap()
        .merge;
    assert!(matches!(
        dir.undo_merge(first, &staff()).await,
        Err(Error::CustomerMerged { id, survivor, merge })
            if id == ana && survivor == cleo && merge == second
    ));
    let resolution = dir.resolve(bea).await.unwrap();
    assert_eq!(resolution.id(), cleo);
    let path: Vec<_> = resolution
        .merges
        .iter()
        .map(|step| (step.merged, step.survivor, step.merge))
        .collect();
    assert_eq!(path, vec![(bea, ana, first), (ana, cleo, second)]);
    // Undone in the reverse order, both come back.
    dir.undo_merge(second, &staff()).await.unwrap();
    dir.undo_merge(first, &staff()).await.unwrap();
    for id in [ana, bea, cleo] {
        assert_eq!(dir.resolve(id).await.unwrap().id(), id);
    }
}

pub async fn every_operation_on_a_deleted_id_says_when_it_was_deleted<
    S: Store + Clone + 'static,
>(
    store: S,
) {
    let dir = directory(store.clone());
    let fixture = Fixture::new(&dir, 0).await;
    let gone = dir
        .create_customer(contact("gone@example.com", "Gus", ""), &staff())
        .await
        .unwrap()
        .customer;
    dir.clock().advance(TimeDelta::minutes(3));
    let at: DateTime<Utc> = dir.clock().now();
    dir.delete_customer(gone, &staff()).await.unwrap();
    let before = snapshot(&store, &[gone, fixture.spare], &[]).await;
    for op in CustomerOp::all() {
        match fixture.run(&dir, op, gone).await {
            Err(Error::CustomerDeleted { id, at: when }) => {
                assert_eq!((id, when), (gone, at), "{op:?}");
            }
            other => panic!("{op:?} on a deleted id answered {other:?}"),
        }
        assert_eq!(
            dir.resolve(gone).await.unwrap().current,
            Resolved::Deleted { id: gone, at },
            "after {op:?}"
        );
    }
    assert_eq!(snapshot(&store, &[gone, fixture.spare], &[]).await, before);
    assert!(matches!(
        dir.customer(gone).await,
        Err(Error::CustomerDeleted { id, .. }) if id == gone
    ));
    assert_eq!(
        dir.resolve(gone).await.unwrap().current,
        Resolved::Deleted { id: gone, at }
    );
}

pub async fn an_id_never_stored_is_not_found_by_every_operation<S: Store + Clone + 'static>(
    store: S,
) {
    let dir = directory(store.clone());
    let fixture = Fixture::new(&dir, 0).await;
    let unknown = CustomerId::new();
    for op in CustomerOp::all() {
        match fixture.run(&dir, op, unknown).await {
            Err(Error::CustomerNotFound(id)) => assert_eq!(id, unknown, "{op:?}"),
            other => panic!("{op:?} on an unknown id answered {other:?}"),
        }
        assert!(
            matches!(dir.resolve(unknown).await, Err(Error::CustomerNotFound(id)) if id == unknown),
            "after {op:?}"
        );
    }
    assert!(matches!(
        dir.resolve(unknown).await,
        Err(Error::CustomerNotFound(id)) if id == unknown
    ));
}

pub async fn a_redacted_customer_refuses_writes_by_its_status_and_still_answers_reads<
    S: Store + Clone + 'static,
>(
    store: S,
) {
    let dir = directory(store.clone());
    let fixture = Fixture::new(&dir, 0).await;
    let gone = booked(&dir, "RX-1", contact("rx@example.com", "Rex", "")).await;
    // The reason given is the real one: an active customer must be archived first ...
    let active = dir.redact(gone, &[], &staff()).await.unwrap_err();
    assert!(active.to_string().contains("archive it first"), "{active}");
    dir.archive(gone, &staff()).await.unwrap();
    dir.redact(gone, &[], &staff()).await.unwrap();
    // ... and a redacted one is already redacted, which archiving would not change.
    let again = dir.redact(gone, &[], &staff()).await.unwrap_err();
    assert!(
        matches!(
            again,
            Error::CustomerStatus {
                status: CustomerStatus::Redacted,
                action: CustomerAction::Redact,
                ..
            }
        ),
        "{again:?}"
    );
    assert!(again.to_string().contains("already redacted"), "{again}");
    assert!(!again.to_string().contains("archive it first"), "{again}");

    let before = snapshot(&store, &[gone, fixture.spare], &[]).await;
    for op in CustomerOp::WRITES {
        if op == CustomerOp::Delete {
            continue;
        }
        match fixture.run(&dir, op, gone).await {
            Err(Error::CustomerStatus { id, status, .. }) => {
                assert_eq!((id, status), (gone, CustomerStatus::Redacted), "{op:?}");
            }
            Err(Error::Merge(MergeError::NotMergeable { id, .. })) => {
                assert_eq!(id, gone, "{op:?}");
            }
            other => panic!("{op:?} on a redacted customer answered {other:?}"),
        }
        assert_eq!(
            snapshot(&store, &[gone, fixture.spare], &[]).await,
            before,
            "{op:?} on a redacted customer changed the store"
        );
    }
    // Deleting a redacted customer is allowed (nothing personal is left to keep), and the
    // id then resolves to the deletion.
    dir.delete_customer(gone, &staff()).await.unwrap();
    assert!(matches!(
        dir.resolve(gone).await.unwrap().current,
        Resolved::Deleted { id, .. } if id == gone
    ));
}

pub async fn reads_of_a_redacted_customer_answer_without_personal_data<
    S: Store + Clone + 'static,
>(
    store: S,
) {
    let dir = directory(store.clone());
    let fixture = Fixture::new(&dir, 0).await;
    let gone = booked(&dir, "RR-1", contact("rr@example.com", "Rhea", "Quist")).await;
    dir.archive(gone, &staff()).await.unwrap();
    dir.redact(gone, &[], &staff()).await.unwrap();
    for op in CustomerOp::READS {
        fixture
            .run(&dir, op, gone)
            .await
            .unwrap_or_else(|error| panic!("{op:?} on a redacted customer: {error}"));
    }
    let export = dir.data_subject_export(gone).await.unwrap();
    assert_eq!(export.customer.profile, Profile::default());
    assert_eq!(export.bookings.len(), 1, "the financial record stays");
    let text = format!("{export:?}").to_lowercase();
    for needle in ["rr@example.com", "rhea", "quist"] {
        assert!(!text.contains(needle), "{needle} survived");
    }
    assert_eq!(
        dir.resolve(gone)
            .await
            .unwrap()
            .customer()
            .map(|c| c.status),
        Some(CustomerStatus::Redacted)
    );
}

pub async fn undoing_a_merge_gives_a_moved_account_back_to_its_customer<
    S: Store + AccountStore + Clone + 'static,
>(
    store: S,
) {
    let rig = crate::testing::conformance::service::accounts::rig(store.clone());
    let dir = rig.accounts.directory();
    let (ana, bea) = pair(dir, 0).await;
    // Bea signs up and verifies: her account claims her profile and shows her booking.
    rig.accounts
        .sign_up(
            "bea0@example.com",
            &crate::values::password::secret::Password::new("Plum-Tractor-Velvet-9"),
            &Actor::System,
        )
        .await
        .unwrap();
    let link = rig
        .mail
        .last_verification_token()
        .expect("a verification link");
    let account = rig
        .accounts
        .verify_email(&link, &Actor::System)
        .await
        .unwrap();
    assert_eq!(
        store.account(account).await.unwrap().unwrap().customer,
        Some(bea)
    );
    let merge = dir
        .merge(&MergeRequest::new(ana, [bea]), &staff())
        .await
        .unwrap()
        .merge;
    assert_eq!(
        store.account(account).await.unwrap().unwrap().customer,
        Some(ana),
        "the merge moves the account to the survivor"
    );
    let undone = dir.undo_merge(merge, &staff()).await.unwrap();
    assert_eq!(undone.account_returned, Some(account));
    assert_eq!(
        store.account(account).await.unwrap().unwrap().customer,
        Some(bea),
        "the undo gives the account back to the customer it claimed"
    );
    let mine: Vec<String> = rig
        .accounts
        .my_bookings(account)
        .await
        .unwrap()
        .into_iter()
        .map(|booking| booking.code)
        .collect();
    assert_eq!(mine, vec!["MI-2".to_owned()]);
    assert_eq!(
        store.account_by_customer(bea).await.unwrap().map(|a| a.id),
        Some(account)
    );
    assert!(store.account_by_customer(ana).await.unwrap().is_none());
}
