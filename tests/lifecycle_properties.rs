//! Property tests over random sequences of lifecycle operations (record, edit, create,
//! attach, detach, confirm, merge, undo, archive, activate, block, unblock, delete, redact,
//! notes, consent, lists, brochures, custom fields, delete and redact aimed at merge
//! tombstones and merge survivors, time passing the undo window) and customer-account
//! operations (sign up and verify, failed logins).
//!
//! After every step: every booking is present exactly once, live email keys stay unique,
//! every customer id ever handed out resolves to a documented answer that agrees with the
//! store (itself, its survivor through its merges, or its deletion), every account claims at most one live customer and is found by its
//! login key and its claim, a merge immediately undone restores the directory exactly, and
//! after a redaction no personal value of that customer is left anywhere in the store
//! (accounts included). The same
//! sequences also run with a fraction of commits failing on purpose: a failed operation
//! must leave the store exactly as it was.
#![cfg(feature = "testing")]

use std::collections::{BTreeMap, BTreeSet};

use chrono::{TimeDelta, TimeZone, Utc};
use customer_directory::ports::store::StoreError;
use customer_directory::ports::store::{AccountStore, BulkReadStore, SearchStore};
use customer_directory::ports::{FixedClock, RecordingNotifier};
use customer_directory::records::{NoteText, PostalAddress};
use customer_directory::service::DetachMode;
use customer_directory::settings::AccountsMode;
use customer_directory::settings::{CustomFieldDefinition, CustomFieldKind};
use customer_directory::testing::{FaultInjectingStore, InjectedFault};
use customer_directory::values::{HashParams, PasswordHashing};
use customer_directory::{
    AccountSettings, Accounts, Actor, BookingId, BookingStatus, Clock, Currency, Customer,
    CustomerId, CustomerStatus, Directory, DirectorySettings, EmailAddress, Error, MergeId,
    MergeRequest, Money, NewBooking, Password, PersonName, Phone, Profile, Text,
};
use customer_directory::{MemoryStore, Store};
use proptest::prelude::*;

mod support;
use support::{all_customers, check_invariants};

const EMAILS: [&str; 5] = [
    "guest1@example.com",
    "guest2@example.com",
    "guest3@example.com",
    "guest4@example.com",
    "guest5@example.com",
];
const PHONES: [&str; 2] = ["+351912345001", "+351912345002"];

#[derive(Debug, Clone)]
enum Op {
    /// A booking for `EMAILS[email]`; `own_name` gives it a name of its own (so it differs
    /// from the customer's), `locked` picks a status that creates customers.
    Record {
        email: usize,
        phone: Option<usize>,
        own_name: bool,
        locked: bool,
    },
    Create {
        email: usize,
    },
    EditEmail {
        customer: usize,
        email: usize,
    },
    EditPhone {
        customer: usize,
        phone: usize,
    },
    Attach {
        booking: usize,
        customer: usize,
    },
    Detach {
        booking: usize,
        own_profile: bool,
    },
    Confirm {
        booking: usize,
    },
    Merge {
        survivor: usize,
        other: usize,
    },
    MergeThenUndo {
        survivor: usize,
        other: usize,
    },
    UndoLastMerge,
    Archive(usize),
    Activate(usize),
    Block(usize),
    Unblock(usize),
    Delete(usize),
    Redact(usize),
    /// Deletes a merge tombstone (picked among the known ids now merged): always refused,
    /// naming the survivor.
    DeleteTombstone(usize),
    /// Redacts a merge tombstone: always refused, naming the survivor.
    RedactTombstone(usize),
    /// Deletes the survivor of a merge in force: refused while the merge can be undone.
    DeleteSurvivor(usize),
    /// Archives and redacts the survivor of a merge in force: erasure does not wait.
    RedactSurvivor(usize),
    /// Moves the clock past the merge undo window.
    WaitPastUndoWindow,
    AddNote(usize),
    SetNewsletter {
        customer: usize,
        subscribed: bool,
    },
    AddToList(usize),
    RequestBrochure(usize),
    /// Sets the customer's `diet` custom field to a value of its own.
    SetCustomField(usize),
    /// Signs up with `EMAILS[email]` and follows the last link mailed (two commits).
    SignUpAndVerify {
        email: usize,
    },
    /// A login with a wrong password for `EMAILS[email]`.
    FailedLogin {
        email: usize,
    },
    /// A merge keeping the account of the survivor (or of the other), when there is one.
    MergeKeepingAccount {
        survivor: usize,
        other: usize,
        keep_survivors: bool,
    },
}

/// The one custom field the test's directory defines (free text, so every value is personal).
const DIET: &str = "diet";

/// The password every test account signs up with.
const PASSWORD: &str = "Plum-Tractor-Velvet-9";

fn op() -> impl Strategy<Value = Op> {
    let email = 0..EMAILS.len();
    let any_index = any::<usize>();
    prop_oneof![
        6 => (email.clone(), proptest::option::of(0..PHONES.len()), any::<bool>(), any::<bool>())
            .prop_map(|(email, phone, own_name, locked)| Op::Record { email, phone, own_name, locked }),
        1 => email.clone().prop_map(|email| Op::Create { email }),
        1 => (any_index, email).prop_map(|(customer, email)| Op::EditEmail { customer, email }),
        1 => (any_index, 0..PHONES.len()).prop_map(|(customer, phone)| Op::EditPhone { customer, phone }),
        1 => (any_index, any_index).prop_map(|(booking, customer)| Op::Attach { booking, customer }),
        1 => (any_index, any::<bool>()).prop_map(|(booking, own_profile)| Op::Detach { booking, own_profile }),
        1 => any_index.prop_map(|booking| Op::Confirm { booking }),
        2 => (any_index, any_index).prop_map(|(survivor, other)| Op::Merge { survivor, other }),
        2 => (any_index, any_index).prop_map(|(survivor, other)| Op::MergeThenUndo { survivor, other }),
        1 => Just(Op::UndoLastMerge),
        1 => any_index.prop_map(Op::Archive),
        1 => any_index.prop_map(Op::Activate),
        1 => any_index.prop_map(Op::Block),
        1 => any_index.prop_map(Op::Unblock),
        1 => any_index.prop_map(Op::Delete),
        2 => any_index.prop_map(Op::Redact),
        1 => any_index.prop_map(Op::DeleteTombstone),
        1 => any_index.prop_map(Op::RedactTombstone),
        1 => any_index.prop_map(Op::DeleteSurvivor),
        1 => any_index.prop_map(Op::RedactSurvivor),
        1 => Just(Op::WaitPastUndoWindow),
        1 => any_index.prop_map(Op::AddNote),
        1 => (any_index, any::<bool>()).prop_map(|(customer, subscribed)| Op::SetNewsletter { customer, subscribed }),
        1 => any_index.prop_map(Op::AddToList),
        1 => any_index.prop_map(Op::RequestBrochure),
        1 => any_index.prop_map(Op::SetCustomField),
        2 => (0..EMAILS.len()).prop_map(|email| Op::SignUpAndVerify { email }),
        1 => (0..EMAILS.len()).prop_map(|email| Op::FailedLogin { email }),
        1 => (any_index, any_index, any::<bool>())
            .prop_map(|(survivor, other, keep_survivors)| Op::MergeKeepingAccount { survivor, other, keep_survivors }),
    ]
}

/// The ids the test has seen, so every record can be read back through the port.
#[derive(Debug, Default)]
struct Known {
    customers: Vec<CustomerId>,
    bookings: Vec<BookingId>,
    merges: Vec<MergeId>,
}

impl Known {
    fn customer(&self, index: usize) -> Option<CustomerId> {
        (!self.customers.is_empty()).then(|| self.customers[index % self.customers.len()])
    }

    fn booking(&self, index: usize) -> Option<BookingId> {
        (!self.bookings.is_empty()).then(|| self.bookings[index % self.bookings.len()])
    }

    fn saw_customer(&mut self, id: CustomerId) {
        if !self.customers.contains(&id) {
            self.customers.push(id);
        }
    }
}

fn staff() -> Actor {
    Actor::staff("property-test")
}

fn email(index: usize) -> EmailAddress {
    EmailAddress::parse(EMAILS[index]).expect("test emails are valid")
}

fn phone(index: usize) -> Phone {
    Phone::parse(PHONES[index], None).expect("test phones are valid")
}

/// A contact whose name is either the one every booking for this email shares, or one of
/// its own (numbered by `seq`), so bookings are sometimes primary and sometimes related.
fn contact(seq: usize, email_index: usize, phone_index: Option<usize>, own_name: bool) -> Profile {
    let (given, family) = if own_name {
        (format!("Given{seq:04}q"), format!("Family{seq:04}q"))
    } else {
        (
            format!("Shared{email_index}given"),
            format!("Shared{email_index}family"),
        )
    };
    Profile {
        given_name: Some(PersonName::parse(&given).unwrap()),
        family_name: Some(PersonName::parse(&family).unwrap()),
        email: Some(email(email_index)),
        phone: phone_index.map(phone),
        address: PostalAddress {
            line1: own_name.then(|| Text::parse(&format!("Street{seq:04}q")).unwrap()),
            postcode: own_name.then(|| Text::parse(&format!("Post{seq:04}q")).unwrap()),
            ..PostalAddress::default()
        },
        custom_fields: own_name
            .then(|| {
                (
                    DIET.to_owned(),
                    Text::parse(&format!("Diet{seq:04}q")).unwrap(),
                )
            })
            .into_iter()
            .collect(),
        ..Profile::default()
    }
}

type Dir<S> = Directory<S, FixedClock>;
type Acc<S> = Accounts<S, RecordingNotifier, FixedClock>;

/// The accounts the test can have made: one per login email, found by its key.
async fn stored_accounts<S: Store + AccountStore + SearchStore + BulkReadStore>(
    store: &S,
) -> Vec<customer_directory::records::Account> {
    let mut accounts = Vec::new();
    for index in 0..EMAILS.len() {
        if let Some(account) = store.account_by_email(email(index).key()).await.unwrap() {
            accounts.push(account);
        }
    }
    accounts
}

/// Everything the store holds about the known ids, as JSON values keyed by id.
#[derive(Debug, Clone, PartialEq)]
struct Dump {
    customers: BTreeMap<String, serde_json::Value>,
    bookings: BTreeMap<String, serde_json::Value>,
    merges: BTreeMap<String, serde_json::Value>,
    audit: BTreeMap<String, serde_json::Value>,
    accounts: BTreeMap<String, serde_json::Value>,
}

impl Dump {
    fn all_text(&self) -> String {
        serde_json::to_string(&(
            &self.customers,
            &self.bookings,
            &self.merges,
            &self.audit,
            &self.accounts,
        ))
        .unwrap()
    }

    /// The same dump with versions and update times removed, which an undo legitimately
    /// moves forward.
    fn without_versions(&self) -> (Vec<serde_json::Value>, Vec<serde_json::Value>) {
        fn strip(value: &serde_json::Value) -> serde_json::Value {
            let mut value = value.clone();
            if let Some(object) = value.as_object_mut() {
                object.remove("version");
                object.remove("updated_at");
            }
            value
        }
        (
            self.customers.values().map(strip).collect(),
            self.bookings.values().map(strip).collect(),
        )
    }
}

async fn dump<S: Store + AccountStore + SearchStore + BulkReadStore>(
    store: &S,
    known: &Known,
) -> Dump {
    let json = |v: &dyn erased::Json| v.to_value();
    let mut dump = Dump {
        customers: BTreeMap::new(),
        bookings: BTreeMap::new(),
        merges: BTreeMap::new(),
        audit: BTreeMap::new(),
        accounts: BTreeMap::new(),
    };
    for account in stored_accounts(store).await {
        dump.accounts.insert(account.id.to_string(), json(&account));
    }
    for customer in all_customers(store).await {
        for record in store.merges_involving(customer.id).await.unwrap() {
            dump.merges.insert(record.id.to_string(), json(&record));
        }
        let trail = store.audit_trail(customer.id).await.unwrap();
        dump.audit.insert(customer.id.to_string(), json(&trail));
        dump.customers
            .insert(customer.id.to_string(), json(&customer));
    }
    for id in &known.bookings {
        if let Some(booking) = store.booking(*id).await.unwrap() {
            dump.bookings.insert(id.to_string(), json(&booking));
        }
    }
    for id in &known.merges {
        if let Some(record) = store.merge_record(*id).await.unwrap() {
            dump.merges.insert(id.to_string(), json(&record));
        }
    }
    dump
}

/// Serialising through a trait object keeps `dump` short.
mod erased {
    pub trait Json {
        fn to_value(&self) -> serde_json::Value;
    }
    impl<T: serde::Serialize> Json for T {
        fn to_value(&self) -> serde_json::Value {
            serde_json::to_value(self).unwrap()
        }
    }
}

/// Every string in `value`, at any depth.
fn strings(value: &serde_json::Value, out: &mut BTreeSet<String>) {
    match value {
        serde_json::Value::String(s) => {
            out.insert(s.clone());
        }
        serde_json::Value::Array(items) => items.iter().for_each(|v| strings(v, out)),
        serde_json::Value::Object(map) => map.values().for_each(|v| strings(v, out)),
        _ => {}
    }
}

fn profile_values(profile: &Profile, out: &mut BTreeSet<String>) {
    strings(&serde_json::to_value(profile).unwrap(), out);
}

/// Whether `value` is one of the personal values this test generates, all recognisable by
/// construction (an email, a phone, a shared name, or a numbered value ending in `q`), as
/// opposed to ids, dates, statuses and amounts, which redaction keeps.
fn is_test_personal_value(value: &str) -> bool {
    value.contains('@')
        || value.starts_with('+')
        || value.starts_with("Shared")
        || value.ends_with('q')
}

/// The personal values only `customer` holds: from its profile, aliases, bookings and the
/// merges into it, minus any value some other record also holds.
async fn values_only_held_by<S: Store + AccountStore + SearchStore + BulkReadStore>(
    store: &S,
    known: &Known,
    customer: &Customer,
) -> BTreeSet<String> {
    let mut mine = BTreeSet::new();
    let mut elsewhere_accounts = BTreeSet::new();
    profile_values(&customer.profile, &mut mine);
    for alias in &customer.aliases {
        mine.insert(alias.as_str().to_owned());
        mine.insert(alias.key().as_str().to_owned());
    }
    let own_bookings = store.customer_bookings(customer.id).await.unwrap();
    for booking in &own_bookings {
        profile_values(&booking.contact, &mut mine);
    }
    for account in stored_accounts(store).await {
        let target = if account.customer == Some(customer.id) {
            &mut mine
        } else {
            &mut elsewhere_accounts
        };
        strings(&serde_json::to_value(&account).unwrap(), target);
    }
    let own_merges = store.merges_involving(customer.id).await.unwrap();
    for record in &own_merges {
        strings(&serde_json::to_value(record).unwrap(), &mut mine);
    }
    let mut elsewhere = elsewhere_accounts;
    for other in all_customers(store).await {
        if other.id != customer.id {
            strings(&serde_json::to_value(&other).unwrap(), &mut elsewhere);
            for record in store.merges_involving(other.id).await.unwrap() {
                if !own_merges.iter().any(|own| own.id == record.id) {
                    strings(&serde_json::to_value(&record).unwrap(), &mut elsewhere);
                }
            }
        }
    }
    for id in &known.bookings {
        if let Some(booking) = store.booking(*id).await.unwrap() {
            if booking.attribution.customer() != Some(customer.id) {
                strings(&serde_json::to_value(&booking).unwrap(), &mut elsewhere);
            }
        }
    }
    mine.retain(|value| is_test_personal_value(value) && !elsewhere.contains(value));
    mine
}

fn is_injected(error: &Error) -> bool {
    match error {
        Error::Store(StoreError::Backend { source, .. }) => source
            .as_ref()
            .is_some_and(|s| s.downcast_ref::<InjectedFault>().is_some()),
        _ => false,
    }
}

/// Runs one step, recording new ids in `known`.
async fn apply<S: Store + AccountStore + SearchStore + BulkReadStore>(
    accounts: &Acc<S>,
    known: &mut Known,
    seq: usize,
    op: &Op,
) -> Result<(), TestCaseError> {
    let dir = accounts.directory();
    let actor = staff();
    let result: Result<(), Error> = match op.clone() {
        Op::Record {
            email,
            phone,
            own_name,
            locked,
        } => {
            let status = if locked {
                BookingStatus::PAID
            } else {
                BookingStatus::PENDING
            };
            let start = Utc.with_ymd_and_hms(2026, 8, 1, 9, 0, 0).unwrap()
                + TimeDelta::hours(i64::try_from(seq).unwrap());
            let new = NewBooking::new(
                format!("BK-{seq}"),
                status,
                contact(seq, email, phone, own_name),
                start,
                Money::new(20_00, Currency::parse("EUR").unwrap()),
            );
            dir.record_booking(new, &actor).await.map(|recorded| {
                known.bookings.push(recorded.booking);
                if let Some(id) = recorded.outcome.customer() {
                    known.saw_customer(id);
                }
            })
        }
        Op::Create { email } => dir
            .create_customer(contact(seq, email, None, true), &actor)
            .await
            .map(|created| known.saw_customer(created.customer)),
        Op::EditEmail { customer, email: e } => match known.customer(customer) {
            Some(id) => match dir.customer(id).await {
                Ok(current) => {
                    let profile = Profile {
                        email: Some(email(e)),
                        ..current.profile
                    };
                    dir.update_contact(id, profile, &actor).await.map(drop)
                }
                Err(error) => Err(error),
            },
            None => Ok(()),
        },
        Op::EditPhone { customer, phone: p } => match known.customer(customer) {
            Some(id) => match dir.customer(id).await {
                Ok(current) => {
                    let profile = Profile {
                        phone: Some(phone(p)),
                        ..current.profile
                    };
                    dir.update_contact(id, profile, &actor).await.map(drop)
                }
                Err(error) => Err(error),
            },
            None => Ok(()),
        },
        Op::Attach { booking, customer } => {
            match (known.booking(booking), known.customer(customer)) {
                (Some(b), Some(c)) => dir.attach_booking(b, c, &actor).await,
                _ => Ok(()),
            }
        }
        Op::Detach {
            booking,
            own_profile,
        } => match known.booking(booking) {
            Some(b) => {
                let mode = if own_profile {
                    DetachMode::OwnProfile
                } else {
                    DetachMode::LeaveUnattributed
                };
                dir.detach_booking(b, mode, &actor).await.map(|created| {
                    if let Some(id) = created {
                        known.saw_customer(id);
                    }
                })
            }
            None => Ok(()),
        },
        Op::Confirm { booking } => match known.booking(booking) {
            Some(b) => dir.confirm_related(b, &actor).await,
            None => Ok(()),
        },
        Op::Merge { survivor, other } => match (known.customer(survivor), known.customer(other)) {
            (Some(s), Some(o)) => dir
                .merge(&MergeRequest::new(s, [o]), &actor)
                .await
                .map(|report| known.merges.push(report.merge)),
            _ => Ok(()),
        },
        Op::MergeThenUndo { survivor, other } => {
            match (known.customer(survivor), known.customer(other)) {
                (Some(s), Some(o)) => {
                    let before = dump(dir.store(), known).await;
                    match dir.merge(&MergeRequest::new(s, [o]), &actor).await {
                        Ok(report) => {
                            known.merges.push(report.merge);
                            let undone = dir.undo_merge(report.merge, &actor).await;
                            match undone {
                                Ok(undo) => {
                                    prop_assert!(undo.kept_changed.is_empty());
                                    prop_assert!(undo.details_kept.is_empty());
                                    let after = dump(dir.store(), known).await;
                                    prop_assert_eq!(
                                        before.without_versions(),
                                        after.without_versions(),
                                        "merge then undo did not restore the directory"
                                    );
                                    Ok(())
                                }
                                Err(error) => Err(error),
                            }
                        }
                        Err(error) => Err(error),
                    }
                }
                _ => Ok(()),
            }
        }
        Op::UndoLastMerge => match known.merges.last() {
            Some(id) => dir.undo_merge(*id, &actor).await.map(drop),
            None => Ok(()),
        },
        Op::Archive(c) => match known.customer(c) {
            Some(id) => dir.archive(id, &actor).await,
            None => Ok(()),
        },
        Op::Activate(c) => match known.customer(c) {
            Some(id) => dir.activate(id, &actor).await,
            None => Ok(()),
        },
        Op::Block(c) => match known.customer(c) {
            Some(id) => dir.block(id, "test", &actor).await.map(drop),
            None => Ok(()),
        },
        Op::Unblock(c) => match known.customer(c) {
            Some(id) => dir.unblock(id, &actor).await,
            None => Ok(()),
        },
        Op::Delete(c) => match known.customer(c) {
            Some(id) => dir.delete_customer(id, &actor).await.map(drop),
            None => Ok(()),
        },
        Op::Redact(c) => match known.customer(c) {
            Some(id) => redact_and_scan(dir, known, id).await?,
            None => Ok(()),
        },
        Op::DeleteTombstone(c) | Op::RedactTombstone(c) => {
            match pick(dir, known, c, MergeRole::Tombstone).await {
                Some(id) => {
                    let survivor = match dir.customer(id).await.unwrap().status {
                        CustomerStatus::MergedInto(survivor) => survivor,
                        other => unreachable!("picked a tombstone, found {other}"),
                    };
                    let result = if matches!(op, Op::DeleteTombstone(_)) {
                        dir.delete_customer(id, &actor).await.map(drop)
                    } else {
                        dir.redact(id, &[], &actor).await.map(drop)
                    };
                    match result {
                        Err(Error::CustomerMerged {
                            id: named,
                            survivor: to,
                            ..
                        }) if named == id && to == survivor => Ok(()),
                        other => Err(TestCaseError::fail(format!(
                            "{op:?} on tombstone {id} answered {other:?}"
                        )))?,
                    }
                }
                None => Ok(()),
            }
        }
        Op::DeleteSurvivor(c) => match pick(dir, known, c, MergeRole::Survivor).await {
            Some(id) => {
                let undoable = undoable_merges_into(dir, id).await;
                match dir.delete_customer(id, &actor).await {
                    Err(Error::SurvivorOfUndoableMerge {
                        id: named, merge, ..
                    }) if named == id && undoable.contains(&merge) => Ok(()),
                    Ok(_) if undoable.is_empty() => Ok(()),
                    Err(error) if is_injected(&error) && undoable.is_empty() => Err(error),
                    other => Err(TestCaseError::fail(format!(
                        "deleting survivor {id} (undoable merges {undoable:?}) answered {other:?}"
                    )))?,
                }
            }
            None => Ok(()),
        },
        Op::RedactSurvivor(c) => match pick(dir, known, c, MergeRole::Survivor).await {
            Some(id) => redact_and_scan(dir, known, id).await?,
            None => Ok(()),
        },
        Op::WaitPastUndoWindow => {
            let window = TimeDelta::from_std(dir.settings().merge_undo_window).unwrap();
            dir.clock().advance(window + TimeDelta::seconds(1));
            Ok(())
        }
        // Notes and consent sources end in `q`: personal values the redaction scan follows.
        Op::AddNote(c) => match known.customer(c) {
            Some(id) => dir
                .add_note(
                    id,
                    NoteText::parse(&format!("Note{seq:04}q")).unwrap(),
                    None,
                    &actor,
                )
                .await
                .map(drop),
            None => Ok(()),
        },
        Op::SetNewsletter {
            customer,
            subscribed,
        } => match known.customer(customer) {
            Some(id) => {
                let source = Text::parse(&format!("Source{seq:04}q")).unwrap();
                dir.set_newsletter(id, subscribed, source, &actor).await
            }
            None => Ok(()),
        },
        Op::AddToList(c) => match known.customer(c) {
            Some(id) => {
                let list = match dir.lists().await.ok().and_then(|l| l.first().map(|l| l.id)) {
                    Some(list) => Ok(list),
                    None => {
                        dir.create_list(Text::parse("Regulars").unwrap(), &actor)
                            .await
                    }
                };
                match list {
                    Ok(list) => dir.add_to_list(id, list, &actor).await,
                    Err(error) => Err(error),
                }
            }
            None => Ok(()),
        },
        Op::RequestBrochure(c) => match known.customer(c) {
            Some(id) => dir
                .request_brochure(id, Text::parse(&format!("Brochure {seq}")).unwrap(), &actor)
                .await
                .map(drop),
            None => Ok(()),
        },
        // Values end in `q`: personal values the redaction scan follows.
        Op::SetCustomField(c) => match known.customer(c) {
            Some(id) => match dir.customer(id).await {
                Ok(current) => {
                    let mut profile = current.profile;
                    profile.custom_fields.insert(
                        DIET.to_owned(),
                        Text::parse(&format!("Diet{seq:04}q")).unwrap(),
                    );
                    dir.update_contact(id, profile, &actor).await.map(drop)
                }
                Err(error) => Err(error),
            },
            None => Ok(()),
        },
        Op::SignUpAndVerify { email: e } => {
            let mailed = accounts.notifier().sent().len();
            let password = Password::new(PASSWORD);
            match accounts.sign_up(EMAILS[e], &password, &Actor::System).await {
                // Only a link mailed by this sign-up: a taken email mails the owner instead.
                Ok(()) => match accounts.notifier().sent()[mailed..]
                    .iter()
                    .find_map(|message| message.verification_token().cloned())
                {
                    // An account refusal is part of the game, like a directory one.
                    Some(link) => accounts
                        .verify_email(&link, &Actor::System)
                        .await
                        .map(drop)
                        .or(Ok(())),
                    None => Ok(()),
                },
                Err(_) => Ok(()),
            }
        }
        Op::FailedLogin { email: e } => {
            let wrong = Password::new("not-the-password");
            match accounts.log_in(EMAILS[e], &wrong, &Actor::System).await {
                Ok(_) => Err(TestCaseError::fail("a wrong password logged in"))?,
                Err(_) => Ok(()),
            }
        }
        Op::MergeKeepingAccount {
            survivor,
            other,
            keep_survivors,
        } => match (known.customer(survivor), known.customer(other)) {
            (Some(s), Some(o)) => {
                let holder = if keep_survivors { s } else { o };
                let mut request = MergeRequest::new(s, [o]);
                if let Some(account) = dir.store().account_by_customer(holder).await.unwrap() {
                    request = request.keeping_account(account.id);
                }
                dir.merge(&request, &actor)
                    .await
                    .map(|report| known.merges.push(report.merge))
            }
            _ => Ok(()),
        },
    };
    match result {
        // Refusals (guards, missing records, blocked emails) are part of the game; a failed
        // operation's store is checked by the caller.
        Ok(()) | Err(_) => Ok(()),
    }
}

/// What a known customer is to the merges it took part in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum MergeRole {
    /// Merged into another customer.
    Tombstone,
    /// A live customer that survives a merge that was not undone.
    Survivor,
}

/// The `index`-th (wrapping) known customer in `role`, if any.
async fn pick<S: Store + AccountStore + SearchStore + BulkReadStore>(
    dir: &Dir<S>,
    known: &Known,
    index: usize,
    role: MergeRole,
) -> Option<CustomerId> {
    let mut found = Vec::new();
    for id in &known.customers {
        let Some(customer) = dir.store().customer(*id).await.unwrap() else {
            continue;
        };
        let is_role = match role {
            MergeRole::Tombstone => matches!(customer.status, CustomerStatus::MergedInto(_)),
            MergeRole::Survivor => {
                customer.status.is_live()
                    && dir
                        .store()
                        .merges_involving(*id)
                        .await
                        .unwrap()
                        .iter()
                        .any(|record| record.report.survivor == *id && record.undone_at.is_none())
            }
        };
        if is_role {
            found.push(*id);
        }
    }
    (!found.is_empty()).then(|| found[index % found.len()])
}

/// The merges into `survivor` that can still be undone now.
async fn undoable_merges_into<S: Store + AccountStore + SearchStore + BulkReadStore>(
    dir: &Dir<S>,
    survivor: CustomerId,
) -> Vec<MergeId> {
    let window = TimeDelta::from_std(dir.settings().merge_undo_window).unwrap();
    let now = dir.clock().now();
    dir.store()
        .merges_involving(survivor)
        .await
        .unwrap()
        .into_iter()
        .filter(|record| {
            record.report.survivor == survivor
                && record.undone_at.is_none()
                && record.merged_at + window >= now
        })
        .map(|record| record.id)
        .collect()
}

/// Every id the test was handed resolves to a documented answer that agrees with the
/// store: its own record, its survivor through the merges that merged it (never to a
/// merged customer), or its deletion as its audit trail records it.
async fn check_every_id_resolves<S: Store + AccountStore + SearchStore + BulkReadStore>(
    dir: &Dir<S>,
    known: &Known,
) -> Result<(), String> {
    for id in &known.customers {
        let resolution = dir
            .resolve(*id)
            .await
            .map_err(|error| format!("{id}, handed out by the directory, answers {error}"))?;
        let stored = dir.store().customer(*id).await.unwrap();
        match (&stored, resolution.merges.first()) {
            (None, None) => {}
            (Some(record), Some(step)) => {
                if record.status != CustomerStatus::MergedInto(step.survivor) || step.merged != *id
                {
                    return Err(format!(
                        "{id} resolves through {step:?} but is {}",
                        record.status
                    ));
                }
            }
            (Some(record), None) if record.id == resolution.id() => {}
            other => {
                return Err(format!(
                    "{id} resolves to {resolution:?} but the store has {other:?}"
                ));
            }
        }
        match &resolution.current {
            customer_directory::service::Resolved::Customer(end) => {
                if matches!(end.status, CustomerStatus::MergedInto(_)) {
                    return Err(format!("{id} resolves to merged customer {}", end.id));
                }
            }
            customer_directory::service::Resolved::Deleted { id: gone, at } => {
                let trail = dir.store().audit_trail(*gone).await.unwrap();
                let deleted = trail.iter().any(|event| {
                    event.action == customer_directory::records::AuditAction::CustomerDeleted
                        && event.at == *at
                });
                if dir.store().customer(*gone).await.unwrap().is_some() || !deleted {
                    return Err(format!(
                        "{id} resolves to a deletion of {gone} the store does not show"
                    ));
                }
            }
            other => return Err(format!("{id} resolves to an unknown answer {other:?}")),
        }
    }
    Ok(())
}

/// Archives (if needed) and redacts `id`; on success, scans the whole store for the
/// personal values only that customer held.
async fn redact_and_scan<S: Store + AccountStore + SearchStore + BulkReadStore>(
    dir: &Dir<S>,
    known: &Known,
    id: CustomerId,
) -> Result<Result<(), Error>, TestCaseError> {
    let actor = staff();
    let Ok(current) = dir.customer(id).await else {
        return Ok(Ok(()));
    };
    if current.status == CustomerStatus::Active {
        if let Err(error) = dir.archive(id, &actor).await {
            return Ok(Err(error));
        }
    }
    let current = dir.customer(id).await.unwrap();
    let personal = values_only_held_by(dir.store(), known, &current).await;
    match dir.redact(id, &[], &actor).await {
        Ok(_) => {
            let text = dump(dir.store(), known).await.all_text();
            for value in &personal {
                prop_assert!(
                    !text.contains(value.as_str()),
                    "{} survived the redaction of {}",
                    value,
                    id
                );
            }
            Ok(Ok(()))
        }
        Err(error) => Ok(Err(error)),
    }
}

fn directory<S: Store + AccountStore + SearchStore + BulkReadStore>(store: S) -> Dir<S> {
    let clock = FixedClock::new(Utc.with_ymd_and_hms(2026, 6, 1, 9, 0, 0).unwrap());
    let mut settings = DirectorySettings::default()
        .with_accounts(AccountSettings::with_mode(AccountsMode::Optional));
    settings.custom_fields =
        vec![CustomFieldDefinition::new(DIET, "Diet", CustomFieldKind::Text).unwrap()];
    Directory::with_clock(store, settings, clock)
}

/// The account service over `directory`, hashing cheaply (the parameters do not matter
/// to the rules under test).
fn accounts<S: Store + AccountStore + SearchStore + BulkReadStore>(directory: Dir<S>) -> Acc<S> {
    let hashing = PasswordHashing::with_params(HashParams::new(64, 1, 1).unwrap()).unwrap();
    Accounts::new(directory, RecordingNotifier::new()).with_hashing(hashing)
}

/// Each stored account is found by its login key and by the customer it claims, and that
/// customer is live (never redacted or merged away).
async fn check_accounts<S: Store + AccountStore + SearchStore + BulkReadStore>(
    store: &S,
) -> Result<(), String> {
    for account in stored_accounts(store).await {
        let Some(customer) = account.customer else {
            continue;
        };
        match store.customer(customer).await.unwrap() {
            Some(found)
                if !matches!(
                    found.status,
                    CustomerStatus::Redacted | CustomerStatus::MergedInto(_)
                ) => {}
            other => {
                return Err(format!(
                    "account {} claims {customer}, which is {:?}",
                    account.id,
                    other.map(|c| c.status)
                ));
            }
        }
        let by_claim = store.account_by_customer(customer).await.unwrap();
        if by_claim.map(|a| a.id) != Some(account.id) {
            return Err(format!(
                "the claim of account {} is not indexed",
                account.id
            ));
        }
    }
    Ok(())
}

/// Every distinct audit event naming a customer the test has seen (deleted ones included:
/// the trail outlives the profile).
async fn visible_events<S: Store + AccountStore + SearchStore + BulkReadStore>(
    store: &S,
    known: &Known,
) -> Vec<customer_directory::records::AuditEvent> {
    let mut events = Vec::new();
    for customer in &known.customers {
        for event in store.audit_trail(*customer).await.unwrap() {
            if !events.contains(&event) {
                events.push(event);
            }
        }
    }
    events
}

/// Runs `ops` on `inner` with `failure_rate` of the commits failing, checking the
/// invariants after every step, and returns how many steps ran.
async fn run_sequence<S: Store + AccountStore + SearchStore + BulkReadStore + Clone>(
    inner: S,
    ops: Vec<Op>,
    failure_rate: f64,
    seed: u64,
) -> Result<usize, TestCaseError> {
    let store = FaultInjectingStore::new(inner);
    let accounts = accounts(directory(store.clone()));
    let dir = accounts.directory();
    let mut known = Known::default();
    for (seq, op) in ops.iter().enumerate() {
        store.fail_commits_at_rate(failure_rate, seed.wrapping_add(seq as u64));
        let failed_before = store.failed_commits();
        let before = dump(&store, &known).await;
        let events_before = visible_events(&store, &known).await;
        apply(&accounts, &mut known, seq, op).await?;
        let injected = store.failed_commits() > failed_before;
        // Injected failures may hit the undo of MergeThenUndo after its merge committed, or
        // the redaction after its archive; every other operation commits once, so a failure
        // must leave nothing behind.
        let two_commits = matches!(
            op,
            Op::MergeThenUndo { .. }
                | Op::Redact(_)
                | Op::RedactSurvivor(_)
                | Op::SignUpAndVerify { .. }
        );
        if injected && !two_commits {
            let after = dump(&store, &known).await;
            prop_assert_eq!(&before, &after, "{:?} failed but changed the store", op);
        }
        // One audit event per applied operation: a change to any customer comes with
        // exactly one new event naming it (two for the two-commit steps).
        let after = dump(&store, &known).await;
        let new_events = visible_events(&store, &known)
            .await
            .iter()
            .filter(|event| !events_before.contains(event))
            .count();
        let most = if two_commits { 2 } else { 1 };
        prop_assert!(
            new_events <= most,
            "{:?} recorded {} events",
            op,
            new_events
        );
        if after.customers != before.customers {
            prop_assert!(
                new_events >= 1,
                "{:?} changed customers without an event",
                op
            );
        }
        store.heal();
        check_invariants(dir, &known.bookings)
            .await
            .map_err(TestCaseError::fail)?;
        check_accounts(&store).await.map_err(TestCaseError::fail)?;
        check_every_id_resolves(dir, &known)
            .await
            .map_err(TestCaseError::fail)?;
        dir.clock().advance(TimeDelta::minutes(5));
    }
    Ok(ops.len())
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn lifecycle_sequences_keep_every_invariant(ops in proptest::collection::vec(op(), 1..40)) {
        runtime().block_on(run_sequence(MemoryStore::new(), ops, 0.0, 0))?;
    }

    #[test]
    fn failed_commits_leave_the_store_unchanged(
        ops in proptest::collection::vec(op(), 1..40),
        seed in any::<u64>(),
    ) {
        runtime().block_on(run_sequence(MemoryStore::new(), ops, 0.2, seed))?;
    }
}

#[cfg(feature = "sqlite")]
proptest! {
    // Each case opens a fresh in-memory SQLite database: fewer cases, same sequences.
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn lifecycle_sequences_keep_every_invariant_on_sqlite(ops in proptest::collection::vec(op(), 1..30)) {
        runtime().block_on(async {
            run_sequence(sqlite_store().await, ops, 0.0, 0).await
        })?;
    }

    #[test]
    fn failed_commits_leave_sqlite_unchanged(
        ops in proptest::collection::vec(op(), 1..30),
        seed in any::<u64>(),
    ) {
        runtime().block_on(async {
            run_sequence(sqlite_store().await, ops, 0.2, seed).await
        })?;
    }
}

#[cfg(feature = "sqlite")]
async fn sqlite_store() -> customer_directory::SqliteStore {
    let store = customer_directory::SqliteStore::connect("sqlite::memory:")
        .await
        .unwrap();
    store.migrate().await.unwrap();
    store
}

/// On PostgreSQL when a server is configured (always in CI): a schema per case.
#[cfg(feature = "postgres")]
#[test]
fn lifecycle_sequences_keep_every_invariant_on_postgres() {
    let Some(url) = support::postgres_url("state-machine test") else {
        return;
    };
    let config = ProptestConfig::with_cases(12);
    let mut runner = proptest::test_runner::TestRunner::new(config);
    let strategy = (
        proptest::collection::vec(op(), 1..25),
        any::<u64>(),
        any::<bool>(),
    );
    runner
        .run(&strategy, |(ops, seed, faults)| {
            runtime().block_on(async {
                let schema = format!("cd_state_{}", CustomerId::new().as_uuid().simple());
                let store = customer_directory::PostgresStore::connect_with_schema(&url, &schema)
                    .await
                    .unwrap();
                store.migrate().await.unwrap();
                let rate = if faults { 0.2 } else { 0.0 };
                run_sequence(store, ops, rate, seed).await.map(drop)
            })
        })
        .unwrap();
}

#[tokio::test]
async fn a_merge_whose_commit_fails_changes_nothing_and_a_retry_succeeds() {
    let store = FaultInjectingStore::new(MemoryStore::new());
    let accounts = accounts(directory(store.clone()));
    let dir = accounts.directory();
    let mut known = Known::default();
    for (seq, (email, own_name)) in [(0, false), (0, true), (1, false), (2, true)]
        .into_iter()
        .enumerate()
    {
        apply(
            &accounts,
            &mut known,
            seq,
            &Op::Record {
                email,
                phone: Some(seq % 2),
                own_name,
                locked: true,
            },
        )
        .await
        .unwrap();
    }
    assert_eq!(known.customers.len(), 3, "three emails, three customers");
    let request = MergeRequest::new(known.customers[0], known.customers[1..].iter().copied());
    let before = dump(&store, &known).await;

    store.fail_next_commits(1);
    let error = dir.merge(&request, &staff()).await.unwrap_err();
    assert!(is_injected(&error), "unexpected error: {error}");
    assert_eq!(
        dump(&store, &known).await,
        before,
        "a failed merge changed the store"
    );

    let report = dir.merge(&request, &staff()).await.unwrap();
    assert_eq!(report.merged.len(), 2);
    assert_eq!(
        dir.customer_bookings(known.customers[0])
            .await
            .unwrap()
            .len(),
        4
    );
    assert_ne!(dump(&store, &known).await, before);
}
