//! Property tests for email parsing: idempotent keys, no panics, agreement
//! between the entry points, and serde round trips.

use customer_directory::EmailAddress;
use customer_directory::values::{EmailError, EmailKey, EmailKeyPolicy, LooseEmailKey};
use proptest::prelude::*;

const POLICIES: [EmailKeyPolicy; 2] = [EmailKeyPolicy::CaseInsensitive, EmailKeyPolicy::ExactCase];

/// Characters that stress NFC and case mapping: combining marks, characters
/// whose NFC is a different character (Kelvin, Ohm, Angstrom, U+037E → ';',
/// U+1FEF → '`'), İ (lower-cases to two code points), titlecase ǅ, final
/// sigma, Hangul jamo that compose, and Greek with ypogegrammeni.
const UNICODE_ATOM: &str = "[a-zA-Z0-9!#$%&'*+/=?^_`{|}~\
    \u{e9}\u{c9}\u{fc}\u{dc}\u{df}\u{1e9e}\u{130}\u{131}\u{3a3}\u{3c3}\u{3c2}\u{17f}\
    \u{212a}\u{2126}\u{212b}\u{c5}\u{301}\u{308}\u{327}\u{37e}\u{1fef}\u{1c4}\u{1c5}\u{1c6}\
    \u{fb01}\u{1100}\u{1161}\u{ac00}\u{345}\u{1fbc}\u{1fb3}\u{4e00}-]{1,6}";

fn ascii_atom() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9!#$%&'*+/=?^_`{|}~-]{1,8}"
}

fn dot_atom(atom: impl Strategy<Value = String>) -> impl Strategy<Value = String> {
    prop::collection::vec(atom, 1..4).prop_map(|atoms| atoms.join("."))
}

/// A quoted string; `"` and `\` in the content are escaped, and some
/// harmless characters are escaped too.
fn quoted_local() -> impl Strategy<Value = String> {
    prop::collection::vec(
        (
            prop::sample::select(vec![
                'a', 'B', ' ', '.', '@', '"', '\\', '(', ',', 'é', 'E', '\u{301}', 'Σ', '\u{37e}',
            ]),
            any::<bool>(),
        ),
        0..10,
    )
    .prop_map(|content| {
        let mut out = String::from("\"");
        for (c, escape) in content {
            if c == '"' || c == '\\' || (escape && c.is_ascii()) {
                out.push('\\');
            }
            out.push(c);
        }
        out.push('"');
        out
    })
}

fn local_part() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => dot_atom(ascii_atom()),
        3 => dot_atom(UNICODE_ATOM),
        2 => quoted_local(),
    ]
}

fn ascii_label() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9]([a-zA-Z0-9-]{0,6}[a-zA-Z0-9])?"
}

fn unicode_label() -> impl Strategy<Value = String> {
    "[a-zA-Z\u{e4}\u{f6}\u{fc}\u{df}\u{e9}\u{f1}\u{c4}\u{d6}\u{dc}\u{3b1}-\u{3c9}\u{391}-\u{3a9}\u{430}-\u{44f}\u{410}-\u{42f}\u{ac00}-\u{ac10}\u{4e00}-\u{4e10}\u{ff41}-\u{ff5a}]{1,8}"
}

/// A domain and, separately, its labels' spelling choice.
fn domain() -> impl Strategy<Value = String> {
    (
        prop::collection::vec(prop_oneof![ascii_label(), unicode_label()], 1..3),
        prop_oneof![
            "[a-zA-Z]{2,6}",
            "[\u{430}-\u{44f}]{2,4}",
            "[\u{4e00}-\u{4e10}]{1,3}"
        ],
    )
        .prop_map(|(mut labels, tld)| {
            labels.push(tld);
            labels.join(".")
        })
}

/// Replaces each Unicode label by its punycode form, in random case.
fn to_punycode(domain: &str, upper: bool) -> Option<String> {
    let ascii = idna::domain_to_ascii(domain).ok()?;
    Some(if upper {
        ascii.to_ascii_uppercase()
    } else {
        ascii
    })
}

fn address() -> impl Strategy<Value = String> {
    (local_part(), domain(), "[ \t\r\n]{0,2}", "[ \t\r\n]{0,2}")
        .prop_map(|(local, domain, before, after)| format!("{before}{local}@{domain}{after}"))
}

/// Strings over characters that matter to the grammar.
fn tricky() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9.@\"()<>\\[\\] \t\r\n\u{200B}\u{202E}\u{A0}\u{301}\u{130}\u{37e}\u{3002}é\\\\+-]{0,40}"
}

fn check_error_position(raw: &str, error: &EmailError) {
    let trimmed = raw.trim();
    let located = match *error {
        EmailError::ControlCharacter {
            character,
            position,
        }
        | EmailError::FormatCharacter {
            character,
            position,
        }
        | EmailError::Whitespace {
            character,
            position,
        }
        | EmailError::InvalidCharacter {
            character,
            position,
        } => Some((character, position)),
        EmailError::Comment { position } => trimmed
            .get(position..)
            .and_then(|s| s.chars().next())
            .map(|c| (c, position)),
        EmailError::MultipleAt { position } => Some(('@', position)),
        EmailError::ConsecutiveDots { position } => Some(('.', position)),
        _ => None,
    };
    if let Some((character, position)) = located {
        let found = trimmed.get(position..).and_then(|s| s.chars().next());
        assert_eq!(found, Some(character), "{error:?} in {trimmed:?}");
    }
}

/// Never panics, agrees across entry points, and reports real positions.
fn exercise(raw: &str) {
    for policy in POLICIES {
        let key = EmailKey::parse(raw, policy);
        let address = EmailAddress::parse_with_policy(raw, policy);
        match (&key, &address) {
            (Ok(k), Ok(a)) => {
                assert_eq!(a.key(), k);
                assert_eq!(EmailKey::parse(k.as_str(), policy).as_ref(), Ok(k));
                assert!(k.as_str().len() <= 254);
                assert!(k.local_part().len() <= 64);
                let _ = k.loose();
            }
            (Err(e1), Err(e2)) => {
                assert_eq!(e1, e2);
                check_error_position(raw, e1);
                assert!(!e1.to_string().is_empty());
            }
            _ => panic!("entry points disagree on {raw:?}: {key:?} / {address:?}"),
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(10_000))]

    #[test]
    fn never_panics_on_arbitrary_strings(raw in any::<String>()) {
        exercise(&raw);
    }

    #[test]
    fn never_panics_on_tricky_strings(raw in tricky()) {
        exercise(&raw);
    }

    #[test]
    fn never_panics_on_tricky_halves(local in tricky(), domain in tricky()) {
        exercise(&format!("{local}@{domain}"));
        exercise(&format!("\"{local}\"@{domain}"));
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_000))]

    #[test]
    fn keys_are_idempotent(raw in address()) {
        let parsed = EmailKey::parse(&raw, EmailKeyPolicy::CaseInsensitive);
        prop_assume!(parsed.is_ok());
        for policy in POLICIES {
            let key = EmailKey::parse(&raw, policy).unwrap();
            prop_assert_eq!(EmailKey::parse(key.as_str(), policy), Ok(key.clone()));
            // A key of either policy is unchanged by ExactCase (serde relies on it).
            prop_assert_eq!(
                EmailKey::parse(key.as_str(), EmailKeyPolicy::ExactCase).map(|k| k.as_str().to_owned()),
                Ok(key.as_str().to_owned())
            );
        }
    }

    #[test]
    fn accepted_addresses_have_the_same_key_via_both_entry_points(raw in address()) {
        for policy in POLICIES {
            if let Ok(addr) = EmailAddress::parse_with_policy(&raw, policy) {
                prop_assert_eq!(EmailKey::parse(&raw, policy), Ok(addr.key().clone()));
                prop_assert_eq!(addr.as_str(), raw.trim());
                prop_assert_eq!(format!("{}@{}", addr.local_part(), addr.domain()), addr.as_str());
                // The key is itself an address whose key is itself.
                let again = EmailAddress::parse_with_policy(addr.key().as_str(), policy).unwrap();
                prop_assert_eq!(again.key(), addr.key());
            }
        }
    }

    #[test]
    fn case_insensitive_keys_ignore_ascii_case(raw in address()) {
        let lower = EmailKey::parse(&raw.to_ascii_lowercase(), EmailKeyPolicy::CaseInsensitive);
        let upper = EmailKey::parse(&raw.to_ascii_uppercase(), EmailKeyPolicy::CaseInsensitive);
        if let (Ok(lower), Ok(upper)) = (lower, upper) {
            prop_assert_eq!(lower, upper);
        }
    }

    #[test]
    fn punycode_and_unicode_spellings_agree(local in dot_atom(ascii_atom()), domain in domain(), upper in any::<bool>()) {
        let unicode = EmailKey::parse(&format!("{local}@{domain}"), EmailKeyPolicy::CaseInsensitive);
        prop_assume!(unicode.is_ok());
        let ascii = to_punycode(&domain, upper).expect("UTS 46 accepted the domain");
        let punycode = EmailKey::parse(&format!("{local}@{ascii}"), EmailKeyPolicy::CaseInsensitive);
        prop_assert_eq!(punycode, unicode);
    }

    #[test]
    fn serde_round_trips(raw in address(), exact in any::<bool>()) {
        let policy = if exact { EmailKeyPolicy::ExactCase } else { EmailKeyPolicy::CaseInsensitive };
        let parsed = EmailAddress::parse_with_policy(&raw, policy);
        prop_assume!(parsed.is_ok());
        let addr = parsed.unwrap();

        let json = serde_json::to_string(&addr).unwrap();
        let back: EmailAddress = serde_json::from_str(&json).unwrap();
        prop_assert_eq!(back.key(), addr.key());
        prop_assert_eq!(back.as_str(), addr.as_str());

        let json = serde_json::to_string(addr.key()).unwrap();
        let key: EmailKey = serde_json::from_str(&json).unwrap();
        prop_assert_eq!(&key, addr.key());

        let loose = addr.key().loose();
        let json = serde_json::to_string(&loose).unwrap();
        let back: LooseEmailKey = serde_json::from_str(&json).unwrap();
        prop_assert_eq!(back, loose);
    }

    #[test]
    fn loose_keys_are_idempotent(local in local_part(), provider in prop::sample::select(vec![
        "gmail.com", "googlemail.com", "outlook.com", "icloud.com", "example.com", "yahoo.com",
    ])) {
        let parsed = EmailKey::parse(&format!("{local}@{provider}"), EmailKeyPolicy::CaseInsensitive);
        prop_assume!(parsed.is_ok());
        let loose = parsed.unwrap().loose();
        let again = EmailKey::parse(loose.as_str(), EmailKeyPolicy::ExactCase).unwrap().loose();
        prop_assert_eq!(again, loose);
    }
}
