//! What the erasure tests share: a directory with one customer whose every personal field
//! holds a value found nowhere else, surrounded by customers who stay, and a search for those
//! values (in every form the stores keep them: as typed, lower-cased, folded, compacted).
#![allow(dead_code)] // each test binary uses what it needs

use std::collections::BTreeSet;

use chrono::{DateTime, TimeDelta, Utc};
use customer_directory::Store;
use customer_directory::records::NoteText;
use customer_directory::settings::{CustomFieldDefinition, CustomFieldKind};
use customer_directory::{
    Actor, AttributionOutcome, BookingStatus, ContactForm, Currency, CustomerId, Directory,
    DirectorySettings, MergeRequest, Money, NewBooking, Text,
};

/// The custom field the business defined; the customer's value of it is personal.
pub const FIELD: &str = "secret_word";

/// Every personal value the customer to erase has, each found nowhere else: names, both
/// email addresses (the second becomes an alias through a merge), phone, postal address, a
/// custom field, a note, a newsletter consent source, and the merged profile's own name.
pub const VALUES: &[&str] = &[
    "Quorvéth",
    "Zindlemere",
    "Captain Brimwhistle",
    "Xylo.Quorvath@Brimvale-Example.org",
    "Marrowfax.Tenby@Othervale-Example.net",
    "Marrowfax Tenby",
    "+44 20 7946 0958",
    "17 Wrenfield Crescent",
    "Vexmoor Annexe",
    "Ottercliffe",
    "Glimshire",
    "ZX9 4QW",
    "Pelmanquist",
    "Hazelbrook pollen",
    "Kiosk Zephyrine",
];

/// A value that stays: a customer who is not erased.
pub const KEPT: &str = "filler-7@keptvalue-example.com";

/// The settings: one custom text field.
pub fn settings() -> DirectorySettings {
    let mut settings = DirectorySettings::default();
    settings.custom_fields =
        vec![CustomFieldDefinition::new(FIELD, "Secret word", CustomFieldKind::Text).unwrap()];
    settings
}

fn staff() -> Actor {
    Actor::staff("desk")
}

fn eur(cents: i64) -> Money {
    Money::new(cents, Currency::parse("EUR").unwrap())
}

/// The customer's contact as a booking form has it.
fn contact_form() -> ContactForm {
    ContactForm {
        given_name: "Quorvéth".into(),
        family_name: "Zindlemere".into(),
        display_name: "Captain Brimwhistle".into(),
        email: "Xylo.Quorvath@Brimvale-Example.org".into(),
        phone: "+44 20 7946 0958".into(),
        address_line1: "17 Wrenfield Crescent".into(),
        address_line2: "Vexmoor Annexe".into(),
        city: "Ottercliffe".into(),
        region: "Glimshire".into(),
        postcode: "ZX9 4QW".into(),
        country: "GB".into(),
        custom_fields: vec![(FIELD.into(), "Pelmanquist".into())],
    }
}

/// Records a paid booking for `form`, returning the customer it created or attached to.
async fn book<S: Store>(
    dir: &Directory<S>,
    code: String,
    form: &ContactForm,
    starts_at: DateTime<Utc>,
) -> Option<CustomerId> {
    let contact = form.parse(dir.settings()).unwrap();
    let booking = NewBooking::new(code, BookingStatus::PAID, contact, starts_at, eur(4_500));
    match dir.record_booking(booking, &staff()).await.unwrap().outcome {
        AttributionOutcome::CreatedCustomer(id) => Some(id),
        AttributionOutcome::Attached { customer, .. } => Some(customer),
        _ => None,
    }
}

/// `fillers` customers who stay (each with a booking starting a month from now, so no
/// inactivity cutoff before then takes them), then the customer to erase (bookings that
/// started a month ago, an alias from a merge, a note, a consent, a list), then as many
/// customers again: enough rows that the customer shares its pages, and enough writes that
/// the WAL holds many frames. Returns the customer to erase.
pub async fn populate<S: Store>(dir: &Directory<S>, fillers: usize) -> CustomerId {
    let now = Utc::now();
    let later = now + TimeDelta::days(30);
    let earlier = now - TimeDelta::days(30);
    let filler = |i: usize| ContactForm {
        given_name: format!("Filler{i}"),
        family_name: "Stayer".into(),
        email: format!("filler-{i}@keptvalue-example.com"),
        phone: format!("+44 20 7946 {:04}", 1_000 + i),
        address_line1: format!("{i} Ordinary Road"),
        city: "Keptown".into(),
        postcode: "KT1 1AA".into(),
        custom_fields: vec![(FIELD.into(), format!("kept-{i}"))],
        ..ContactForm::default()
    };
    for i in 0..fillers / 2 {
        book(dir, format!("F-{i}"), &filler(i), later).await;
    }

    let form = contact_form();
    let customer = book(dir, "V-1".into(), &form, earlier).await.unwrap();
    for n in 2..=4 {
        let attached = book(dir, format!("V-{n}"), &form, earlier + TimeDelta::days(n)).await;
        assert_eq!(
            attached,
            Some(customer),
            "booking V-{n} attributed to the customer"
        );
    }
    // A second profile of the same person, merged in: its email becomes an alias, and the
    // merge record keeps its profile.
    let other = ContactForm {
        given_name: "Quorvéth".into(),
        display_name: "Marrowfax Tenby".into(),
        email: "Marrowfax.Tenby@Othervale-Example.net".into(),
        ..ContactForm::default()
    };
    let other = book(dir, "V-5".into(), &other, earlier).await.unwrap();
    dir.merge(&MergeRequest::new(customer, [other]), &staff())
        .await
        .unwrap();
    dir.add_note(
        customer,
        NoteText::parse("Allergic to Hazelbrook pollen").unwrap(),
        None,
        &staff(),
    )
    .await
    .unwrap();
    dir.set_newsletter(
        customer,
        true,
        Text::parse("Kiosk Zephyrine").unwrap(),
        &staff(),
    )
    .await
    .unwrap();
    let list = dir
        .create_list(Text::parse("Regulars").unwrap(), &staff())
        .await
        .unwrap();
    dir.add_to_list(customer, list, &staff()).await.unwrap();
    let stored = dir.customer(customer).await.unwrap();
    assert_eq!(stored.aliases.len(), 1, "the merged email is an alias");

    for i in fillers / 2..fillers {
        book(dir, format!("F-{i}"), &filler(i), later).await;
    }
    customer
}

/// Finds the [`VALUES`] (and [`KEPT`]) in bytes, in each form a store may keep them.
pub struct Finder {
    pattern: regex::bytes::Regex,
    /// Each form searched for, with the value it is a form of.
    forms: Vec<(String, &'static str)>,
}

impl Default for Finder {
    fn default() -> Self {
        Self::new()
    }
}

impl Finder {
    pub fn new() -> Self {
        let mut forms = Vec::new();
        for &value in VALUES.iter().chain([&KEPT]) {
            for form in forms_of(value) {
                if !forms.iter().any(|(known, _)| *known == form) {
                    forms.push((form, value));
                }
            }
        }
        let alternation: Vec<String> = forms.iter().map(|(form, _)| regex::escape(form)).collect();
        let pattern = regex::bytes::Regex::new(&alternation.join("|")).unwrap();
        Self { pattern, forms }
    }

    /// The values (of [`VALUES`] and [`KEPT`]) any form of which occurs in `bytes`.
    pub fn values_in(&self, bytes: &[u8]) -> BTreeSet<&'static str> {
        self.pattern
            .find_iter(bytes)
            .filter_map(|found| {
                let text = std::str::from_utf8(found.as_bytes()).ok()?;
                self.forms
                    .iter()
                    .find(|(form, _)| form == text)
                    .map(|(_, value)| *value)
            })
            .collect()
    }
}

/// A value as typed, lower-cased, upper-cased, with accents folded, without spaces, and
/// digits only (a phone number's national digits).
pub fn forms_of(value: &str) -> Vec<String> {
    let folded: String = value
        .chars()
        .map(|c| match c {
            'é' => 'e',
            other => other,
        })
        .collect();
    let mut forms = Vec::new();
    for base in [value.to_owned(), folded] {
        let compact: String = base.chars().filter(|c| !c.is_whitespace()).collect();
        for form in [base.clone(), compact] {
            forms.push(form.to_lowercase());
            forms.push(form.to_uppercase());
            forms.push(form);
        }
    }
    if value.starts_with('+') {
        // The national number, as a phone index might keep it.
        let digits: String = value.chars().filter(char::is_ascii_digit).collect();
        forms.push(digits[2..].to_owned());
    }
    forms.sort();
    forms.dedup();
    forms
}
