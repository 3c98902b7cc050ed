//! Never-panic properties: every public parser and constructor that takes outside input
//! answers arbitrary and hostile strings with a value or a typed error, 10,000 cases each.
//! (Email parsing has its own, larger suite in `email_properties.rs`.)
//!
//! Each property also checks the answer is consistent, so the test can fail on more than
//! a panic: an accepted value re-parses to itself, and an error explains itself.

use std::str::FromStr;

use customer_directory::{
    BlockTarget, BookingId, BookingStatus, ContactForm, CountryCode, Currency, Cursor, CustomerId,
    CustomerQuery, DirectorySettings, MergeId, PasswordContext, PasswordHash, PasswordPolicy,
    PersonName, Phone, ResetToken, SearchTerms, Text, VerificationToken,
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
