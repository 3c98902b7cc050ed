//! Never-panic properties: every public parser and constructor that takes outside input
//! answers arbitrary and hostile strings with a value or a typed error, 10,000 cases each.
//! (Email parsing has its own, larger suite in `email_properties.rs`.)
//!
//! Each property also checks the answer is consistent, so the test can fail on more than
//! a panic: an accepted value re-parses to itself, and an error explains itself.

use std::str::FromStr;

use customer_directory::MemoryStore;
use customer_directory::limits::{Input, TooLong, Unit};
use customer_directory::ports::Cursor;
use customer_directory::ports::store::SearchTerms;
use customer_directory::records::{BlockTarget, NoteText};
use customer_directory::records::{ResetToken, VerificationToken};
use customer_directory::reports::csv::{ImportError, read_customer_rows};
use customer_directory::settings::{
    CustomFieldDefinition, CustomFieldError, CustomFieldKind, CustomFieldPattern,
};
use customer_directory::values::{CountryCode, PasswordContext, PasswordHash, PasswordPolicy};
use customer_directory::{
    Actor, BookingId, BookingStatus, ContactForm, Currency, CustomerId, CustomerQuery, Directory,
    DirectorySettings, Error, MergeId, Money, NewBooking, PersonName, Phone, Profile, Text,
};
use proptest::prelude::*;

/// Strings mixing the characters parsers find hardest: separators, quotes, escapes,
/// control and format characters, combining marks, digits and letters of several scripts.
fn hostile() -> impl Strategy<Value = String> {
    let pieces = prop::sample::select(vec![
        "@",
        ".",
        "..",
        "\"",
        "\\",
        " ",
        "\t",
        "\r\n",
        "\u{0}",
        "\u{7f}",
        "\u{200b}",
        "\u{202e}",
        "\u{feff}",
        "\u{301}",
        "+",
        "-",
        "(",
        ")",
        "#",
        "$",
        "=",
        "0",
        "1",
        "9",
        "a",
        "Z",
        "é",
        "ß",
        "İ",
        "ǅ",
        "ﬁ",
        "漢",
        "😀",
        "xn--",
        "$argon2id$",
        "v=19",
        "m=",
        ",",
        ";",
        "00",
        "+44",
        "\u{2028}",
        "\u{fffd}",
    ]);
    proptest::collection::vec(pieces, 0..40).prop_map(|parts| parts.concat())
}

/// Arbitrary text or hostile text, half and half.
fn input() -> impl Strategy<Value = String> {
    prop_oneof![any::<String>(), hostile()]
}

fn region() -> impl Strategy<Value = Option<CountryCode>> {
    prop::option::of(
        prop::sample::select(vec!["PT", "GB", "US", "DE", "BR", "JP"])
            .prop_map(|code| CountryCode::parse(code).unwrap()),
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(10_000))]

    #[test]
    fn person_names_and_text(raw in input()) {
        if let Ok(name) = PersonName::parse(&raw) {
            prop_assert_eq!(PersonName::parse(name.as_str()).ok(), Some(name.clone()));
            prop_assert!(!name.as_str().is_empty());
        }
        if let Ok(text) = Text::parse(&raw) {
            prop_assert_eq!(Text::parse(text.as_str()).ok(), Some(text.clone()));
        }
    }

    #[test]
    fn country_and_currency_codes(raw in input()) {
        if let Ok(country) = CountryCode::parse(&raw) {
            prop_assert_eq!(CountryCode::from_str(&country.to_string()).ok(), Some(country));
        }
        match Currency::parse(&raw) {
            Ok(currency) => prop_assert_eq!(Currency::parse(&currency.to_string()).ok(), Some(currency)),
            Err(error) => prop_assert!(!error.to_string().is_empty()),
        }
    }

    #[test]
    fn phones(raw in input(), region in region()) {
        match Phone::parse(&raw, region) {
            Ok(phone) => {
                prop_assert!(phone.e164().starts_with('+'));
                let again = Phone::from_stored(phone.e164(), phone.as_entered());
                prop_assert_eq!(again.ok(), Some(phone.clone()));
            }
            Err(error) => prop_assert!(!error.to_string().is_empty()),
        }
        let _ = Phone::from_stored(&raw, &raw);
    }

    #[test]
    fn ids(raw in input()) {
        if let Ok(id) = CustomerId::from_str(&raw) {
            prop_assert_eq!(CustomerId::from_str(&id.to_string()).ok(), Some(id));
        }
        let _ = BookingId::from_str(&raw);
        let _ = MergeId::from_str(&raw);
    }

    #[test]
    fn booking_statuses(raw in input()) {
        if let Ok(status) = BookingStatus::new(&raw) {
            prop_assert_eq!(BookingStatus::from_str(status.as_str()).ok(), Some(status));
        }
    }

    #[test]
    fn blocklist_domains(raw in input()) {
        if let Ok(target) = BlockTarget::domain(&raw) {
            prop_assert!(matches!(target, BlockTarget::Domain(_)));
        }
    }

    #[test]
    fn contact_forms(
        email in input(),
        phone in input(),
        name in input(),
        postcode in input(),
        country in input(),
        field in input(),
    ) {
        let form = ContactForm {
            given_name: name.clone(),
            family_name: name,
            email,
            phone,
            postcode,
            country,
            custom_fields: vec![(field.clone(), field)],
            ..ContactForm::default()
        };
        if let Err(errors) = form.parse(&DirectorySettings::default()) {
            prop_assert!(!errors.to_string().is_empty());
        }
    }

    #[test]
    fn page_cursors_and_search_text(raw in input(), letter in any::<char>()) {
        if let Ok(cursor) = Cursor::parse(&raw) {
            prop_assert_eq!(Cursor::parse(&cursor.to_string()).ok(), Some(cursor.clone()));
            // Whatever it holds, a query either continues after it or calls it foreign.
            let _ = CustomerQuery::new().continue_after(&cursor);
        }
        if let Some(terms) = SearchTerms::of(&raw) {
            prop_assert!(!terms.folded.is_empty());
            prop_assert!(terms.matched_by(&terms.folded));
        }
        let query = CustomerQuery::new().text(raw).initial(letter);
        prop_assert!(query.initial_key().is_some());
    }

    #[test]
    fn stored_password_hashes_and_reset_tokens(raw in input()) {
        if let Ok(hash) = PasswordHash::from_phc(&raw) {
            let shown = format!("{:?}", hash);
            prop_assert!(!shown.contains(&raw) || raw.len() < 8, "a hash shows itself");
        }
        if let Ok(token) = ResetToken::parse(&raw) {
            let shown = format!("{:?}", token);
            prop_assert!(!shown.contains(&raw), "a reset token shows itself");
        }
        if let Ok(token) = VerificationToken::parse(&raw) {
            let shown = format!("{:?}{}", token, token);
            prop_assert!(!shown.contains(&raw), "a verification token shows itself");
        }
    }
}

proptest! {
    // zxcvbn is the slowest step of any parser here (bounded, a few milliseconds); fewer
    // cases keep the suite quick while still covering every preset.
    #![proptest_config(ProptestConfig::with_cases(2_000))]

    #[test]
    fn password_checks(raw in input(), name in input()) {
        let words = [name.as_str()];
        let context = PasswordContext::new(&words);
        for policy in [PasswordPolicy::seed_rule(), PasswordPolicy::recommended(), PasswordPolicy::nist_800_63b()] {
            if let Err(violations) = policy.check(&raw, &context) {
                prop_assert!(!violations.to_string().is_empty());
            }
        }
    }
}

/// Text whose length lands within two of `max` on either side (in characters of the
/// trimmed text, or bytes), built by repeating arbitrary or hostile pieces.
fn near(max: usize, unit: Unit) -> impl Strategy<Value = String> {
    (input(), -2_i64..=2).prop_map(move |(piece, delta)| {
        let piece = if piece.trim().is_empty() {
            "x".to_owned()
        } else {
            piece
        };
        let target = usize::try_from(i64::try_from(max).unwrap() + delta).unwrap();
        // Whole pieces past the target (plus the piece again, for what trimming takes),
        // counted as they go, then cut back to it.
        let size = measure(&piece, unit).max(1);
        let mut text = piece.repeat(target / size + 2);
        while measure(&text, unit) > target {
            text.pop();
        }
        text
    })
}

fn measure(text: &str, unit: Unit) -> usize {
    match unit {
        Unit::Bytes => text.len(),
        _ => text.trim().chars().count(),
    }
}

/// The string limits the property below covers (file size and row count are whole-file
/// limits, covered by the import property).
fn string_limit() -> impl Strategy<Value = Input> {
    prop::sample::select(
        Input::ALL
            .into_iter()
            .filter(|input| {
                !matches!(
                    input,
                    Input::ImportFile
                        | Input::ImportRows
                        | Input::BookingImportFile
                        | Input::BookingImportRows
                )
            })
            .collect::<Vec<_>>(),
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_000))]

    /// Around every limit, the check refuses exactly what is longer, naming the input, its
    /// length and the maximum; and the types that hold a limit agree with it.
    #[test]
    fn limits_refuse_exactly_what_is_over(
        (input, text) in string_limit().prop_flat_map(|input| (Just(input), near(input.max(), input.unit())))
    ) {
        let length = input.length_of(&text);
        match TooLong::check(input, &text) {
            Ok(()) => prop_assert!(length <= input.max()),
            Err(error) => {
                prop_assert_eq!(error, TooLong { input, length, max: input.max() });
                prop_assert!(length > input.max());
                prop_assert!(error.to_string().contains(&length.to_string()));
            }
        }
        let over = length > input.max();
        match input {
            Input::PersonName if PersonName::parse(&text).is_ok() => prop_assert!(!over),
            Input::Text if Text::parse(&text).is_ok() => prop_assert!(!over),
            // A note counts its characters once line ends are made line feeds.
            Input::Note => {
                let lines = text.replace("\r\n", "\n");
                let over = Input::Note.length_of(&lines) > Input::Note.max();
                prop_assert_eq!(NoteText::parse(&text).is_ok_and(|_| over), false);
            }
            Input::CustomFieldPattern => {
                let refused = matches!(
                    CustomFieldPattern::new(&text),
                    Err(CustomFieldError::TooLong(_))
                );
                prop_assert_eq!(refused, over);
            }
            Input::CustomFieldLabel | Input::CustomFieldChoice => {
                let kind = CustomFieldKind::Choice(vec![text.clone()]);
                let (label, kind) = if input == Input::CustomFieldLabel {
                    (text.as_str(), CustomFieldKind::Text)
                } else {
                    ("Label", kind)
                };
                prop_assert_eq!(CustomFieldDefinition::new("key", label, kind).is_err(), over);
            }
            _ => {}
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// Over-long codes, search texts, block reasons, staff identifiers, custom field keys
    /// and import cells go through the directory's checks: refused with the typed error
    /// before the store is used, or accepted, never a panic.
    #[test]
    fn directory_inputs_near_their_limits(
        code in near(Input::BookingCode.max(), Unit::Chars),
        search in near(Input::SearchText.max(), Unit::Chars),
        reason in near(Input::BlockReason.max(), Unit::Chars),
        staff in near(Input::Actor.max(), Unit::Chars),
        key in near(Input::CustomFieldKey.max(), Unit::Chars),
        cell in near(Input::ImportCell.max(), Unit::Bytes),
    ) {
        let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
        runtime.block_on(async {
            let directory = Directory::new(MemoryStore::new(), DirectorySettings::default());
            let expect = |input: Input, text: &str, result: Result<(), Error>| {
                let over = input.length_of(text) > input.max();
                match result {
                    Err(Error::TooLong(error)) => {
                        assert!(over, "{input} refused at {} ({error})", input.length_of(text));
                        assert_eq!(error.input, input);
                    }
                    Err(other) => assert!(!over, "{input}: {other}"),
                    Ok(()) => assert!(!over, "{input} accepted at {}", input.length_of(text)),
                }
            };
            let eur = Currency::parse("EUR").unwrap();
            let booking = NewBooking::new(code.clone(), BookingStatus::PENDING, Profile::default(), chrono::Utc::now(), Money::zero(eur));
            let recorded = directory.record_booking(booking, &Actor::System).await.map(drop);
            expect(Input::BookingCode, &code, recorded);
            let query = CustomerQuery::new().text(search.clone());
            expect(Input::SearchText, &search, directory.search(&query, None, 5).await.map(drop));
            expect(Input::SearchText, &search, directory.count(&query).await.map(drop));
            let query = CustomerQuery::new().custom_field_equals(key.clone(), "v");
            expect(Input::CustomFieldKey, &key, directory.count(&query).await.map(drop));
            let target = BlockTarget::domain("spam.example").unwrap();
            let blocked = directory.add_to_blocklist(target, reason.clone(), &Actor::System).await.map(drop);
            expect(Input::BlockReason, &reason, blocked);
            let created = directory.create_customer(Profile::default(), &Actor::Staff(staff.clone())).await.map(drop);
            expect(Input::Actor, &staff, created);
        });
        // A cell's bytes, whatever they hold (a cell with quotes or separators is quoted).
        let mut file = csv::Writer::from_writer(Vec::new());
        file.write_record(["status"]).unwrap();
        file.write_record([cell.as_str()]).unwrap();
        let file = file.into_inner().unwrap();
        match read_customer_rows(file.as_slice(), &DirectorySettings::default()) {
            Err(ImportError::TooLong { limit, .. }) => {
                prop_assert_eq!(limit.input, Input::ImportCell);
                prop_assert!(cell.len() > Input::ImportCell.max());
            }
            Err(other) => prop_assert!(!other.to_string().is_empty()),
            Ok(_) => prop_assert!(cell.len() <= Input::ImportCell.max()),
        }
    }
}
