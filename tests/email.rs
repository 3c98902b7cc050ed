//! Scenario tests for email addresses and keys, through the public API only.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::collections::HashMap;

use customer_directory::EmailAddress;
use customer_directory::values::{EmailError, EmailKey, EmailKeyPolicy, LooseEmailKey};

const CI: EmailKeyPolicy = EmailKeyPolicy::CaseInsensitive;
const EXACT: EmailKeyPolicy = EmailKeyPolicy::ExactCase;

fn key(raw: &str) -> String {
    key_with(raw, CI)
}

fn key_with(raw: &str, policy: EmailKeyPolicy) -> String {
    match EmailKey::parse(raw, policy) {
        Ok(k) => k.as_str().to_owned(),
        Err(e) => panic!("{raw:?} was rejected: {e}"),
    }
}

/// Parses with both entry points and checks they agree on the error.
fn rejected(raw: &str) -> EmailError {
    let from_key = EmailKey::parse(raw, CI);
    let from_address = EmailAddress::parse(raw);
    match (from_key, from_address) {
        (Err(a), Err(b)) => {
            assert_eq!(a, b, "entry points disagree for {raw:?}");
            a
        }
        (k, a) => panic!("{raw:?} was accepted: {k:?} / {a:?}"),
    }
}

// --- allocation counting -----------------------------------------------------

/// Counts allocations per thread so parallel tests do not interfere.
struct CountingAllocator;

thread_local! {
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

// SAFETY: every call is forwarded unchanged to the system allocator.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: CountingAllocator = CountingAllocator;

fn allocations_during<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let before = ALLOCATIONS.with(Cell::get);
    let value = f();
    let after = ALLOCATIONS.with(Cell::get);
    (value, after - before)
}

#[test]
fn key_parse_allocates_only_the_result() {
    for raw in [
        "anna.berg@example.com",
        "  ANNA.Berg+Spa@Mail.Example.COM ",
        "\"john doe\"@example.com",
        "\"john\"@example.com",
        "anna@xn--bcher-kva.de",
        "Émile@Bücher.de",
        "e\u{301}mile@例え.テスト",
        "пользователь@пример.рф",
    ] {
        for policy in [CI, EXACT] {
            let (result, count) = allocations_during(|| EmailKey::parse(raw, policy));
            assert!(result.is_ok(), "{raw:?}: {result:?}");
            assert_eq!(count, 1, "{raw:?} under {policy:?}");
        }
    }
}

// --- accepted addresses ---------------------------------------------------------

#[test]
fn surrounding_white_space_is_trimmed() {
    let addr = EmailAddress::parse(" \t Anna.Berg@Example.com \r\n").unwrap();
    assert_eq!(addr.as_str(), "Anna.Berg@Example.com");
    assert_eq!(addr.to_string(), "Anna.Berg@Example.com");
    assert_eq!(addr.as_ref(), "Anna.Berg@Example.com");
    assert_eq!(addr.local_part(), "Anna.Berg");
    assert_eq!(addr.domain(), "Example.com");
    assert_eq!(addr.key().as_str(), "anna.berg@example.com");
    assert_eq!(
        format!("{addr:?}"),
        "EmailAddress(\"Anna.Berg@Example.com\")"
    );
    let parsed: EmailAddress = "\u{3000}anna@example.com\u{A0}".parse().unwrap();
    assert_eq!(parsed.as_str(), "anna@example.com");
}

#[test]
fn case_is_ignored_by_default_and_kept_with_exact_case() {
    let lower = EmailKey::parse("anna@example.com", CI).unwrap();
    let upper = EmailKey::parse("ANNA@EXAMPLE.COM", CI).unwrap();
    assert_eq!(lower, upper);
    assert_eq!(upper.as_str(), "anna@example.com");

    let exact_lower = EmailKey::parse("anna@example.com", EXACT).unwrap();
    let exact_upper = EmailKey::parse("ANNA@EXAMPLE.COM", EXACT).unwrap();
    assert_ne!(exact_lower, exact_upper);
    assert_eq!(exact_upper.as_str(), "ANNA@example.com");
    assert_eq!(exact_upper.local_part(), "ANNA");
    assert_eq!(exact_upper.domain(), "example.com");

    // Non-ASCII letters fold too.
    assert_eq!(key("ÉMILE@example.com"), "émile@example.com");
    assert_eq!(key_with("ÉMILE@EXAMPLE.COM", EXACT), "ÉMILE@example.com");

    let addr = EmailAddress::parse_with_policy("Anna@Example.COM", EXACT).unwrap();
    assert_eq!(addr.key().as_str(), "Anna@example.com");
    assert_ne!(addr, EmailAddress::parse("Anna@Example.COM").unwrap());
}

#[test]
fn unicode_and_punycode_domains_give_one_key() {
    let unicode = EmailKey::parse("user@bücher.de", CI).unwrap();
    let punycode = EmailKey::parse("user@xn--bcher-kva.de", CI).unwrap();
    let shouting = EmailKey::parse("USER@BÜCHER.DE", CI).unwrap();
    let mixed_punycode = EmailKey::parse("user@XN--Bcher-KVA.De", CI).unwrap();
    assert_eq!(unicode, punycode);
    assert_eq!(unicode, shouting);
    assert_eq!(unicode, mixed_punycode);
    assert_eq!(unicode.as_str(), "user@xn--bcher-kva.de");
    assert_eq!(unicode.domain(), "xn--bcher-kva.de");

    assert_eq!(key("info@例え.テスト"), "info@xn--r8jz45g.xn--zckzah");
    assert_eq!(
        key("info@xn--r8jz45g.xn--zckzah"),
        "info@xn--r8jz45g.xn--zckzah"
    );
    // Full-width letters map to ASCII under UTS 46.
    assert_eq!(key("info@ｅｘａｍｐｌｅ.com"), "info@example.com");

    let addr = EmailAddress::parse("user@Bücher.de").unwrap();
    assert_eq!(addr.domain(), "Bücher.de");
}

#[test]
fn nfc_and_nfd_local_parts_give_one_key() {
    let nfd = EmailKey::parse("e\u{301}mile@example.com", CI).unwrap();
    let nfc = EmailKey::parse("\u{e9}mile@example.com", CI).unwrap();
    assert_eq!(nfd, nfc);
    assert_eq!(nfc.local_part(), "\u{e9}mile");
    let nfd_exact = EmailKey::parse("E\u{301}mile@example.com", EXACT).unwrap();
    assert_eq!(nfd_exact.local_part(), "\u{c9}mile");
    // The original text is kept as typed.
    let addr = EmailAddress::parse("e\u{301}mile@example.com").unwrap();
    assert_eq!(addr.local_part(), "e\u{301}mile");
}

#[test]
fn internationalised_local_parts_are_accepted() {
    assert_eq!(key("用户@例子.广告"), "用户@xn--fsqu00a.xn--4rr70v");
    assert_eq!(
        key("ПОЛЬЗОВАТЕЛЬ@пример.рф"),
        "пользователь@xn--e1afmkfd.xn--p1ai"
    );
    assert_eq!(
        key("STRASSE.straße@example.com"),
        "strasse.straße@example.com"
    );
}

#[test]
fn quoted_local_parts() {
    let addr = EmailAddress::parse("\"john doe\"@example.com").unwrap();
    assert_eq!(addr.local_part(), "\"john doe\"");
    assert_eq!(addr.key().as_str(), "\"john doe\"@example.com");
    assert_eq!(addr.key().local_part(), "\"john doe\"");

    assert_eq!(
        EmailKey::parse("\"john\"@x.com", CI),
        EmailKey::parse("john@x.com", CI)
    );
    assert_eq!(key("\"John.Doe\"@x.com"), "john.doe@x.com");
    assert_eq!(key("\"john..doe\"@x.com"), "\"john..doe\"@x.com");
    assert_eq!(key(r#""j\ohn"@x.com"#), "john@x.com");
    assert_eq!(key(r#""a\"b"@x.com"#), r#""a\"b"@x.com"#);
    assert_eq!(key("\"a@b\"@x.com"), "\"a@b\"@x.com");
    assert_eq!(key("\"Émile Zola\"@x.com"), "\"émile zola\"@x.com");
    assert_eq!(key_with("\"John Doe\"@x.com", EXACT), "\"John Doe\"@x.com");
}

#[test]
fn keys_work_as_map_keys_looked_up_by_str() {
    let mut profiles: HashMap<EmailKey, u32> = HashMap::new();
    profiles.insert(
        EmailAddress::parse("Anna@Example.com").unwrap().into_key(),
        7,
    );
    assert_eq!(profiles.get("anna@example.com"), Some(&7));
    let k = EmailKey::parse("ANNA@example.com", CI).unwrap();
    assert_eq!(profiles.get(&k), Some(&7));
    assert_eq!(k.to_string(), "anna@example.com");
    assert_eq!(format!("{k:?}"), "EmailKey(\"anna@example.com\")");
    let s: &str = k.as_ref();
    assert_eq!(s, "anna@example.com");
}

// --- length limits ----------------------------------------------------------------

#[test]
fn local_part_limit_is_64_octets() {
    let ok = format!("{}@example.com", "a".repeat(64));
    assert_eq!(EmailAddress::parse(&ok).unwrap().local_part().len(), 64);
    let long = format!("{}@example.com", "a".repeat(65));
    assert_eq!(rejected(&long), EmailError::LocalPartTooLong { octets: 65 });

    // Octets, not characters: 32 × 'é' is 64 octets.
    let ok = format!("{}@example.com", "é".repeat(32));
    assert!(EmailAddress::parse(&ok).is_ok());
    let long = format!("{}a@example.com", "é".repeat(32));
    assert_eq!(rejected(&long), EmailError::LocalPartTooLong { octets: 65 });

    // Quotes count.
    let ok = format!("\"{} \"@example.com", "a".repeat(61));
    assert!(EmailAddress::parse(&ok).is_ok());
    let long = format!("\"{} \"@example.com", "a".repeat(62));
    assert_eq!(rejected(&long), EmailError::LocalPartTooLong { octets: 65 });

    // The key must obey the limit too: U+0130 lower-cases to 3 octets.
    let grows = format!("{}@example.com", "\u{130}".repeat(32));
    assert_eq!(
        rejected(&grows),
        EmailError::LocalPartTooLong { octets: 96 }
    );
    assert!(EmailKey::parse(&grows, EXACT).is_ok());
}

#[test]
fn label_limit_is_63_octets_in_ascii_form() {
    let ok = format!("a@{}.com", "b".repeat(63));
    assert!(EmailAddress::parse(&ok).is_ok());
    let long = format!("a@{}.com", "b".repeat(64));
    assert_eq!(
        rejected(&long),
        EmailError::LabelTooLong {
            label: "b".repeat(64),
            octets: 64
        }
    );

    // 60 octets as typed, longer once punycode-encoded.
    let typed = format!("{}ü", "b".repeat(58));
    assert_eq!(typed.len(), 60);
    match rejected(&format!("a@{typed}.com")) {
        EmailError::LabelTooLong { label, octets } => {
            assert!(label.starts_with("xn--"), "{label}");
            assert!(octets > 63, "{octets}");
            assert_eq!(label.len(), octets);
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn address_limit_is_254_octets() {
    let domain = |last: usize| {
        format!(
            "{}.{}.{}.com",
            "a".repeat(63),
            "b".repeat(63),
            "c".repeat(last)
        )
    };
    let local = "l".repeat(64);
    let ok = format!("{local}@{}", domain(57));
    assert_eq!(ok.len(), 254);
    assert_eq!(EmailKey::parse(&ok, CI).unwrap().as_str().len(), 254);
    let long = format!("{local}@{}", domain(58));
    assert_eq!(long.len(), 255);
    assert_eq!(rejected(&long), EmailError::AddressTooLong { octets: 255 });

    // Huge input is rejected by length, not scanned for structure.
    let huge = "a".repeat(100_000);
    assert_eq!(
        rejected(&huge),
        EmailError::AddressTooLong { octets: 100_000 }
    );
}

#[test]
fn address_limit_applies_to_the_key_as_well() {
    // Typed: 64 + 1 + 189 = 254 octets; U+0130 grows under lower-casing, but
    // the local part limit trips first, so grow the domain via punycode
    // instead: "ñ" is 2 octets typed but the label gains "xn--" and a suffix.
    let label = format!("{}ñ", "n".repeat(55)); // 57 octets typed
    let typed = format!(
        "{}@{}.{}.{label}.com",
        "l".repeat(64),
        "a".repeat(63),
        "b".repeat(63)
    );
    assert_eq!(typed.len(), 254);
    match rejected(&typed) {
        EmailError::AddressTooLong { octets } => assert!(octets > 254, "{octets}"),
        other => panic!("unexpected {other:?}"),
    }
}

// --- rejections -------------------------------------------------------------------

#[test]
fn empty_and_blank_input() {
    assert_eq!(rejected(""), EmailError::Empty);
    assert_eq!(rejected("   \t\r\n "), EmailError::Empty);
    assert_eq!(rejected("\u{A0}\u{3000}"), EmailError::Empty);
}

#[test]
fn missing_and_multiple_at_signs() {
    assert_eq!(rejected("anna.example.com"), EmailError::MissingAt);
    assert_eq!(rejected("\"anna@example.com\""), EmailError::MissingAt);
    assert_eq!(
        rejected("a@b@example.com"),
        EmailError::MultipleAt { position: 3 }
    );
    assert_eq!(
        rejected("\"a\"@b@example.com"),
        EmailError::MultipleAt { position: 5 }
    );
}

#[test]
fn empty_local_part_or_domain() {
    assert_eq!(rejected("@example.com"), EmailError::EmptyLocalPart);
    assert_eq!(rejected("\"\"@example.com"), EmailError::EmptyLocalPart);
    assert_eq!(rejected("anna@"), EmailError::EmptyDomain);
    assert_eq!(rejected("\"anna\"@"), EmailError::EmptyDomain);
}

#[test]
fn empty_domain_labels() {
    assert_eq!(rejected("a@b..com"), EmailError::EmptyLabel);
    assert_eq!(rejected("a@.b.com"), EmailError::EmptyLabel);
    assert_eq!(rejected("a@bü..com"), EmailError::EmptyLabel);
}

#[test]
fn dots_in_the_local_part() {
    assert_eq!(rejected(".anna@example.com"), EmailError::LeadingDot);
    assert_eq!(rejected("anna.@example.com"), EmailError::TrailingDot);
    assert_eq!(
        rejected("an..na@example.com"),
        EmailError::ConsecutiveDots { position: 3 }
    );
    // Quoting makes them acceptable.
    assert_eq!(key("\".anna.\"@example.com"), "\".anna.\"@example.com");
}

#[test]
fn trailing_dot_after_the_domain() {
    assert_eq!(rejected("a@example.com."), EmailError::DomainTrailingDot);
    assert_eq!(rejected("a@bücher.de."), EmailError::DomainTrailingDot);
}

#[test]
fn dotless_domains() {
    assert_eq!(rejected("a@localhost"), EmailError::DotlessDomain);
    assert_eq!(rejected("a@com"), EmailError::DotlessDomain);
    assert_eq!(rejected("a@bücher"), EmailError::DotlessDomain);
}

#[test]
fn address_literals() {
    assert_eq!(rejected("a@[127.0.0.1]"), EmailError::AddressLiteral);
    assert_eq!(rejected("a@[IPv6:2001:db8::1]"), EmailError::AddressLiteral);
    assert_eq!(rejected("a@[IPv6:::1]"), EmailError::AddressLiteral);
    // A bare IPv4 address ends in an all-numeric "top-level domain".
    assert_eq!(rejected("a@127.0.0.1"), EmailError::NumericTopLevelDomain);
}

#[test]
fn display_names_and_angle_brackets() {
    assert_eq!(
        rejected("Anna Berg <anna@example.com>"),
        EmailError::DisplayName
    );
    assert_eq!(
        rejected("\"Berg, Anna\" <anna@example.com>"),
        EmailError::DisplayName
    );
    assert_eq!(rejected("<anna@example.com>"), EmailError::DisplayName);
    assert_eq!(rejected("<anna@example.com"), EmailError::DisplayName);
    assert_eq!(
        rejected("anna@example.com>"),
        EmailError::InvalidCharacter {
            character: '>',
            position: 16
        }
    );
}

#[test]
fn comments() {
    assert_eq!(
        rejected("john(x)@a.com"),
        EmailError::Comment { position: 4 }
    );
    assert_eq!(
        rejected("(x)john@a.com"),
        EmailError::Comment { position: 0 }
    );
    assert_eq!(
        rejected("john@(x)a.com"),
        EmailError::Comment { position: 5 }
    );
    assert_eq!(
        rejected("john@a.com (work)"),
        EmailError::Comment { position: 11 }
    );
    assert_eq!(
        rejected("\"john\"(x)@a.com"),
        EmailError::Comment { position: 6 }
    );
    // Parentheses are fine inside quotes.
    assert_eq!(key("\"john(x)\"@a.com"), "\"john(x)\"@a.com");
}

#[test]
fn control_characters() {
    assert_eq!(
        rejected("an\0na@example.com"),
        EmailError::ControlCharacter {
            character: '\0',
            position: 2
        }
    );
    assert_eq!(
        rejected("an\tna@example.com"),
        EmailError::ControlCharacter {
            character: '\t',
            position: 2
        }
    );
    assert_eq!(
        rejected("\"an\tna\"@example.com"),
        EmailError::ControlCharacter {
            character: '\t',
            position: 3
        }
    );
    assert_eq!(
        rejected("anna@exam\u{7f}ple.com"),
        EmailError::ControlCharacter {
            character: '\u{7f}',
            position: 9
        }
    );
    assert_eq!(
        rejected("anna@bü\u{85}cher.de"),
        EmailError::ControlCharacter {
            character: '\u{85}',
            position: 8
        }
    );
}

#[test]
fn header_injection_with_cr_lf() {
    assert_eq!(
        rejected("a@b.com\r\nBcc: x@y.com"),
        EmailError::ControlCharacter {
            character: '\r',
            position: 7
        }
    );
    assert_eq!(
        rejected("a@b.com\nBcc: x@y.com"),
        EmailError::ControlCharacter {
            character: '\n',
            position: 7
        }
    );
    // Folding white space (RFC 5322) is not part of an RFC 5321 address.
    assert_eq!(
        rejected("\"a\r\n b\"@example.com"),
        EmailError::ControlCharacter {
            character: '\r',
            position: 2
        }
    );
}

#[test]
fn zero_width_and_other_invisible_characters() {
    for (c, position) in [
        ('\u{200B}', 2),
        ('\u{200C}', 2),
        ('\u{200D}', 2),
        ('\u{2060}', 2),
        ('\u{AD}', 2),
    ] {
        let raw = format!("an{c}na@example.com");
        assert_eq!(
            rejected(&raw),
            EmailError::FormatCharacter {
                character: c,
                position
            }
        );
    }
    assert_eq!(
        rejected("\u{FEFF}anna@example.com"),
        EmailError::FormatCharacter {
            character: '\u{FEFF}',
            position: 0
        }
    );
    assert_eq!(
        rejected("anna@exa\u{200D}mple.com"),
        EmailError::FormatCharacter {
            character: '\u{200D}',
            position: 8
        }
    );
    assert_eq!(
        rejected("\"an\u{200B}na\"@example.com"),
        EmailError::FormatCharacter {
            character: '\u{200B}',
            position: 3
        }
    );
}

#[test]
fn bidirectional_controls() {
    for c in [
        '\u{200E}', '\u{200F}', '\u{202A}', '\u{202B}', '\u{202C}', '\u{202D}', '\u{202E}',
        '\u{2066}', '\u{2067}', '\u{2068}', '\u{2069}',
    ] {
        let raw = format!("anna@{c}moc.elpmaxe");
        assert_eq!(
            rejected(&raw),
            EmailError::FormatCharacter {
                character: c,
                position: 5
            },
            "{c:?}"
        );
    }
}

#[test]
fn white_space_inside_the_address() {
    assert_eq!(
        rejected("anna berg@example.com"),
        EmailError::Whitespace {
            character: ' ',
            position: 4
        }
    );
    assert_eq!(
        rejected("anna@exa mple.com"),
        EmailError::Whitespace {
            character: ' ',
            position: 8
        }
    );
    assert_eq!(
        rejected("anna\u{A0}berg@example.com"),
        EmailError::Whitespace {
            character: '\u{A0}',
            position: 4
        }
    );
    assert_eq!(
        rejected("\"anna\u{3000}berg\"@example.com"),
        EmailError::Whitespace {
            character: '\u{3000}',
            position: 5
        }
    );
}

#[test]
fn invalid_characters_and_quotes() {
    assert_eq!(
        rejected("an,na@example.com"),
        EmailError::InvalidCharacter {
            character: ',',
            position: 2
        }
    );
    assert_eq!(
        rejected("anna@exam_ple.com"),
        EmailError::InvalidCharacter {
            character: '_',
            position: 9
        }
    );
    assert_eq!(
        rejected("\"john\"doe@example.com"),
        EmailError::InvalidCharacter {
            character: 'd',
            position: 6
        }
    );
    assert_eq!(
        rejected("john.\"doe\"@example.com"),
        EmailError::InvalidCharacter {
            character: '"',
            position: 5
        }
    );
    assert_eq!(
        rejected("\"john@example.com"),
        EmailError::UnterminatedQuote
    );
    assert_eq!(
        rejected("\"john\\\"@example.com"),
        EmailError::UnterminatedQuote
    );
}

#[test]
fn hyphens_at_label_edges() {
    assert_eq!(
        rejected("a@-example.com"),
        EmailError::LabelHyphen {
            label: "-example".into()
        }
    );
    assert_eq!(
        rejected("a@example-.com"),
        EmailError::LabelHyphen {
            label: "example-".into()
        }
    );
    assert_eq!(
        rejected("a@example.-com"),
        EmailError::LabelHyphen {
            label: "-com".into()
        }
    );
    // Inner hyphens are fine.
    assert_eq!(key("a@my-shop.example.com"), "a@my-shop.example.com");
}

#[test]
fn numeric_top_level_domain() {
    assert_eq!(rejected("a@example.123"), EmailError::NumericTopLevelDomain);
    assert_eq!(
        rejected("a@bücher.１２３"),
        EmailError::NumericTopLevelDomain
    );
    // Digits elsewhere are fine.
    assert_eq!(key("a@123.example.c0m"), "a@123.example.c0m");
}

#[test]
fn invalid_internationalised_domains() {
    assert!(matches!(
        rejected("a@xn--a.com"),
        EmailError::InvalidDomain { .. }
    ));
    match rejected("a@xn--abc.com") {
        EmailError::InvalidDomain { reason } => assert!(reason.contains("xn--abc"), "{reason}"),
        other => panic!("unexpected {other:?}"),
    }
    // Right-to-left and left-to-right letters may not share a label (RFC 5893).
    assert!(matches!(
        rejected("a@a\u{5d0}.com"),
        EmailError::InvalidDomain { .. }
    ));
    // A label may not start with a combining mark.
    assert!(matches!(
        rejected("a@\u{301}b.com"),
        EmailError::InvalidDomain { .. }
    ));
}

#[test]
fn error_messages_are_lower_case_and_precise() {
    let e = rejected("a@b.com\r\nBcc: x@y.com");
    assert_eq!(e.to_string(), "control character U+000D at byte 7");
    let e = rejected("an\u{200B}na@example.com");
    assert_eq!(
        e.to_string(),
        "invisible formatting character U+200B at byte 2"
    );
    let e = rejected("an,na@example.com");
    assert_eq!(e.to_string(), "invalid character ',' at byte 2");
}

// --- loose keys ---------------------------------------------------------------------

fn loose(raw: &str) -> String {
    EmailKey::parse(raw, CI)
        .unwrap()
        .loose()
        .as_str()
        .to_owned()
}

#[test]
fn gmail_ignores_dots_and_plus_tags() {
    assert_eq!(loose("anna.berg@gmail.com"), "annaberg@gmail.com");
    assert_eq!(loose("a.n.n.a.berg+spa@gmail.com"), "annaberg@gmail.com");
    assert_eq!(loose("AnnaBerg+a+b@Gmail.com"), "annaberg@gmail.com");
}

#[test]
fn googlemail_is_gmail() {
    assert_eq!(loose("anna.berg@googlemail.com"), "annaberg@gmail.com");
    let a = EmailKey::parse("anna.berg+x@googlemail.com", CI).unwrap();
    let b = EmailKey::parse("annaberg@gmail.com", CI).unwrap();
    assert_eq!(a.loose(), b.loose());
}

#[test]
fn plus_tags_are_dropped_at_known_providers() {
    assert_eq!(loose("anna.berg+spa@outlook.com"), "anna.berg@outlook.com");
    assert_eq!(loose("anna+x@hotmail.com"), "anna@hotmail.com");
    assert_eq!(loose("anna+x@icloud.com"), "anna@icloud.com");
    assert_eq!(loose("anna+x@fastmail.com"), "anna@fastmail.com");
    assert_eq!(loose("anna+x@proton.me"), "anna@proton.me");
    // Dots matter at Outlook.
    assert_ne!(
        loose("anna.berg@outlook.com"),
        loose("annaberg@outlook.com")
    );
}

#[test]
fn other_domains_are_unchanged() {
    for raw in [
        "anna.berg+spa@example.com",
        "anna-spa@yahoo.com",
        "a.b@gmail.co.uk",
    ] {
        let k = EmailKey::parse(raw, CI).unwrap();
        assert_eq!(k.loose().as_str(), k.as_str());
    }
}

#[test]
fn loose_keys_only_suggest_they_never_identify() {
    // Same loose key, different exact keys: a loose match is a suggestion to
    // review, not grounds to attach a booking automatically.
    let a = EmailKey::parse("anna.berg+spa@gmail.com", CI).unwrap();
    let b = EmailKey::parse("annaberg@gmail.com", CI).unwrap();
    assert_ne!(a, b);
    assert_eq!(a.loose(), b.loose());
    let as_loose: LooseEmailKey = b.loose();
    assert_eq!(as_loose.as_str(), "annaberg@gmail.com");
    assert_eq!(as_loose.to_string(), "annaberg@gmail.com");
    let mut suggestions: HashMap<LooseEmailKey, Vec<&str>> = HashMap::new();
    suggestions.entry(a.loose()).or_default().push("booking-1");
    assert_eq!(suggestions.get("annaberg@gmail.com").map(Vec::len), Some(1));
}

// --- serde ----------------------------------------------------------------------------

#[test]
fn address_serialises_with_its_key() {
    let addr = EmailAddress::parse("Anna@Bücher.de").unwrap();
    let json = serde_json::to_string(&addr).unwrap();
    assert_eq!(
        json,
        r#"{"address":"Anna@Bücher.de","key":"anna@xn--bcher-kva.de"}"#
    );
    let back: EmailAddress = serde_json::from_str(&json).unwrap();
    assert_eq!(back, addr);

    let exact = EmailAddress::parse_with_policy("Anna@Bücher.de", EXACT).unwrap();
    let json = serde_json::to_string(&exact).unwrap();
    let back: EmailAddress = serde_json::from_str(&json).unwrap();
    assert_eq!(back, exact);
    assert_eq!(back.key().as_str(), "Anna@xn--bcher-kva.de");
}

#[test]
fn address_deserialisation_rejects_bad_data() {
    let tampered = r#"{"address":"anna@example.com","key":"bob@example.com"}"#;
    assert!(serde_json::from_str::<EmailAddress>(tampered).is_err());
    let invalid = r#"{"address":"anna@localhost","key":"anna@localhost"}"#;
    assert!(serde_json::from_str::<EmailAddress>(invalid).is_err());
    let missing_key = r#"{"address":"anna@example.com"}"#;
    assert!(serde_json::from_str::<EmailAddress>(missing_key).is_err());
}

#[test]
fn key_serialises_as_a_plain_string() {
    let k = EmailKey::parse("Anna@Example.com", CI).unwrap();
    assert_eq!(serde_json::to_string(&k).unwrap(), r#""anna@example.com""#);
    let back: EmailKey = serde_json::from_str(r#""anna@example.com""#).unwrap();
    assert_eq!(back, k);
    // Exact-case keys are normalised keys too.
    let back: EmailKey = serde_json::from_str(r#""Anna@example.com""#).unwrap();
    assert_eq!(back.as_str(), "Anna@example.com");
    // Not normalised, or invalid.
    assert!(serde_json::from_str::<EmailKey>(r#""anna@Example.com""#).is_err());
    assert!(serde_json::from_str::<EmailKey>(r#"" anna@example.com""#).is_err());
    assert!(serde_json::from_str::<EmailKey>(r#""\"anna\"@example.com""#).is_err());
    assert!(serde_json::from_str::<EmailKey>(r#""anna@bücher.de""#).is_err());
    assert!(serde_json::from_str::<EmailKey>(r#""anna""#).is_err());
}

#[test]
fn loose_key_serialises_as_a_plain_string() {
    let l = EmailKey::parse("anna.berg+x@gmail.com", CI)
        .unwrap()
        .loose();
    assert_eq!(
        serde_json::to_string(&l).unwrap(),
        r#""annaberg@gmail.com""#
    );
    let back: LooseEmailKey = serde_json::from_str(r#""annaberg@gmail.com""#).unwrap();
    assert_eq!(back, l);
    assert!(serde_json::from_str::<LooseEmailKey>(r#""anna.berg@gmail.com""#).is_err());
}

#[test]
fn policy_serialises_by_name() {
    assert_eq!(serde_json::to_string(&EXACT).unwrap(), r#""ExactCase""#);
    let p: EmailKeyPolicy = serde_json::from_str(r#""CaseInsensitive""#).unwrap();
    assert_eq!(p, CI);
}
