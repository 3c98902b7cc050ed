//! [`proptest`](mod@proptest) strategies for every domain type, for hosts' own property tests.
//!
//! Raw-text strategies (`raw_*`) produce what a person might type, including the awkward
//! cases this crate is built to handle (case, white space, `+tags`, internationalised
//! domains, quoted local parts, national phone formats); value strategies produce parsed
//! values. [`hostile_text`] produces input a parser must refuse without panicking.

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use proptest::prelude::*;

use crate::records::booking::{Booking, NewBooking};
use crate::records::customer::Customer;
use crate::records::profile::{PostalAddress, Profile};
use crate::values::booking_status::BookingStatus;
use crate::values::email::address::EmailAddress;
use crate::values::money::{Currency, Money};
use crate::values::phone::Phone;
use crate::values::text::{CountryCode, PersonName, Text};

/// Email addresses as typed: mixed case, surrounding white space, `+tags`, dotted and
/// quoted local parts, internationalised domains in Unicode or punycode. Every one parses.
///
/// # Examples
///
/// ```
/// use customer_directory::testing::strategies::raw_email;
/// use proptest::strategy::{Strategy, ValueTree};
/// let mut runner = proptest::test_runner::TestRunner::deterministic();
/// let raw = raw_email().new_tree(&mut runner).unwrap().current();
/// assert!(customer_directory::EmailAddress::parse(&raw).is_ok(), "{raw}");
/// ```
pub fn raw_email() -> impl Strategy<Value = String> {
    let local = prop_oneof![
        4 => "[a-zA-Z0-9]{1,10}(\\.[a-zA-Z0-9]{1,8}){0,2}",
        2 => "[a-z]{1,8}\\+[a-z0-9]{1,6}",
        1 => "\"[a-z ]{1,8}\"",
        1 => "[a-zé]{1,6}",
    ];
    let domain = prop_oneof![
        4 => "[a-z]{1,10}\\.(com|org|pt|de|example)",
        1 => Just("bücher.example".to_owned()),
        1 => Just("xn--bcher-kva.example".to_owned()),
        1 => Just("EXAMPLE.COM".to_owned()),
    ];
    let padding = prop_oneof![Just(""), Just(" "), Just("\t")];
    (padding.clone(), local, domain, padding)
        .prop_map(|(before, local, domain, after)| format!("{before}{local}@{domain}{after}"))
        .prop_filter("must parse", |raw| EmailAddress::parse(raw).is_ok())
}

/// Parsed email addresses (see [`raw_email`]).
pub fn email() -> impl Strategy<Value = EmailAddress> {
    raw_email().prop_map(|raw| EmailAddress::parse(&raw).expect("raw_email parses"))
}

/// Text that mixes the characters parsers find hardest: separators, quotes, escapes,
/// control, format and bidirectional characters, combining marks, several scripts.
pub fn hostile_text() -> impl Strategy<Value = String> {
    let pieces = prop::sample::select(vec![
        "@", ".", "..", "\"", "\\", " ", "\t", "\r\n", "\u{0}", "\u{7f}", "\u{200b}", "\u{202e}",
        "\u{feff}", "\u{301}", "+", "-", "(", ")", "<", ">", "0", "9", "a", "Z", "é", "ß", "İ",
        "ǅ", "ﬁ", "漢", "😀", "xn--", "=", ",", ";", "\u{2028}",
    ]);
    prop_oneof![
        any::<String>(),
        proptest::collection::vec(pieces, 0..40).prop_map(|parts| parts.concat()),
    ]
}

/// Person names, some with accents, apostrophes, hyphens or several words.
pub fn person_name() -> impl Strategy<Value = PersonName> {
    "[A-Z][a-zé']{1,9}([ -][A-Z][a-z]{1,9})?"
        .prop_map(|raw| PersonName::parse(&raw).expect("a valid name"))
}

/// Phone numbers as typed, in international or national form, with the region that reads
/// them. Every one parses.
pub fn raw_phone() -> impl Strategy<Value = (String, Option<CountryCode>)> {
    let region = |code: &str| Some(CountryCode::parse(code).expect("a valid region"));
    prop_oneof![
        "[0-9]{3}[0-9]{4}".prop_map(move |digits| (format!("+44 20 {digits}"), None)),
        "[0-9]{3} [0-9]{3}".prop_map(move |digits| (format!("912 {digits}"), region("PT"))),
        "[2-9][0-9]{2}-[0-9]{4}".prop_map(move |digits| (format!("(415) {digits}"), region("US"))),
    ]
    .prop_filter("must parse", |(raw, region)| {
        Phone::parse(raw, *region).is_ok()
    })
}

/// Parsed phone numbers (see [`raw_phone`]).
pub fn phone() -> impl Strategy<Value = Phone> {
    raw_phone().prop_map(|(raw, region)| Phone::parse(&raw, region).expect("raw_phone parses"))
}

/// Contact details: any subset of names, email, phone and a postal address.
pub fn profile() -> impl Strategy<Value = Profile> {
    (
        proptest::option::of(person_name()),
        proptest::option::of(person_name()),
        proptest::option::of(email()),
        proptest::option::of(phone()),
        proptest::option::of("[A-Z0-9]{3} ?[0-9][A-Z]{2}"),
    )
        .prop_map(
            |(given_name, family_name, email, phone, postcode)| Profile {
                given_name,
                family_name,
                email,
                phone,
                address: PostalAddress {
                    postcode: postcode.map(|p| Text::parse(&p).expect("a valid postcode")),
                    ..PostalAddress::default()
                },
                ..Profile::default()
            },
        )
}

/// Booking statuses: the built-in ones and some of the host's own.
pub fn booking_status() -> impl Strategy<Value = BookingStatus> {
    prop_oneof![
        Just(BookingStatus::PENDING),
        Just(BookingStatus::WAITING),
        Just(BookingStatus::CONFIRMED),
        Just(BookingStatus::PAID),
        Just(BookingStatus::COMPLETED),
        Just(BookingStatus::NO_SHOW),
        Just(BookingStatus::CANCELLED),
        "[a-z]{3,10}(-[a-z]{2,6})?"
            .prop_map(|name| BookingStatus::new(&name).expect("a valid status")),
    ]
}

/// A moment in 2026.
pub fn moment() -> impl Strategy<Value = DateTime<Utc>> {
    (0_i64..365 * 24 * 60).prop_map(|minutes| {
        Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0)
            .single()
            .unwrap_or_default()
            + TimeDelta::minutes(minutes)
    })
}

/// Bookings as a host hands them in: a code, a status, a contact, a start and amounts.
pub fn new_booking() -> impl Strategy<Value = NewBooking> {
    (
        "[A-Z]{2}-[0-9]{1,6}",
        booking_status(),
        profile(),
        moment(),
        0_i64..100_000,
        prop::sample::select(vec!["EUR", "USD", "GBP"]),
    )
        .prop_map(|(code, status, contact, starts_at, cents, currency)| {
            let currency = Currency::parse(currency).expect("a valid currency");
            let mut booking = NewBooking::new(
                code,
                status,
                contact,
                starts_at,
                Money::new(cents, currency),
            );
            booking.paid = Money::new(cents / 2, currency);
            booking
        })
}

/// Unstored bookings (version 0, unattributed).
pub fn booking() -> impl Strategy<Value = Booking> {
    (new_booking(), moment()).prop_map(|(new, created_at)| Booking::from_new(new, created_at))
}

/// Unstored customers (version 0, active).
pub fn customer() -> impl Strategy<Value = Customer> {
    (profile(), moment()).prop_map(|(profile, created_at)| Customer::new(profile, created_at))
}
