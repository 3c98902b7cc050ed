//! Password policy presets: every rule, its boundaries, and robustness.

use customer_directory::values::{
    CharacterClass, PasswordContext, PasswordPolicy, PasswordViolation, PasswordViolations,
};
use proptest::prelude::*;

const NONE: PasswordContext<'static> = PasswordContext { user_inputs: &[] };

fn violations(policy: &PasswordPolicy, password: &str) -> Vec<PasswordViolation> {
    match policy.check(password, &NONE) {
        Ok(()) => Vec::new(),
        Err(error) => error.into_vec(),
    }
}

fn assert_ok(policy: &PasswordPolicy, password: &str) {
    assert_eq!(
        policy.check(password, &NONE),
        Ok(()),
        "expected {password:?} to pass"
    );
}

fn has_too_guessable(list: &[PasswordViolation]) -> bool {
    list.iter()
        .any(|v| matches!(v, PasswordViolation::TooGuessable { .. }))
}

// ----------------------------------------------------------------- seed rule

#[test]
fn seed_rule_preset_values() {
    let p = PasswordPolicy::seed_rule();
    assert_eq!(p.min_length, 8);
    assert_eq!(p.max_length, 128);
    assert_eq!(p.min_character_classes, 3);
    assert!(!p.allow_whitespace);
    assert_eq!(p.min_guessability_score, None);
}

#[test]
fn seed_rule_seven_characters_is_too_short_eight_passes() {
    let p = PasswordPolicy::seed_rule();
    assert_eq!(
        violations(&p, "Abcde1!"),
        vec![PasswordViolation::TooShort { length: 7, min: 8 }]
    );
    assert_ok(&p, "Abcdef1!");
}

#[test]
fn seed_rule_exactly_three_classes_pass() {
    let p = PasswordPolicy::seed_rule();
    assert_ok(&p, "abcdefG1"); // lower, upper, digit
    assert_ok(&p, "abcdefG!"); // lower, upper, special
    assert_ok(&p, "abcdef1!"); // lower, digit, special
    assert_ok(&p, "ABCDEF1!"); // upper, digit, special
}

#[test]
fn seed_rule_two_classes_fail_and_name_the_missing_ones() {
    let p = PasswordPolicy::seed_rule();
    assert_eq!(
        violations(&p, "abcdefg1"),
        vec![PasswordViolation::TooFewCharacterClasses {
            found: 2,
            required: 3,
            missing: vec![CharacterClass::Uppercase, CharacterClass::Special],
        }]
    );
    assert_eq!(
        violations(&p, "ABCDEFG!"),
        vec![PasswordViolation::TooFewCharacterClasses {
            found: 2,
            required: 3,
            missing: vec![CharacterClass::Lowercase, CharacterClass::Digit],
        }]
    );
    assert_eq!(
        violations(&p, "12345678"),
        vec![PasswordViolation::TooFewCharacterClasses {
            found: 1,
            required: 3,
            missing: vec![
                CharacterClass::Lowercase,
                CharacterClass::Uppercase,
                CharacterClass::Special
            ],
        }]
    );
}

#[test]
fn seed_rule_single_space_is_refused() {
    let p = PasswordPolicy::seed_rule();
    assert_eq!(
        violations(&p, "Abcd 1234!"),
        vec![PasswordViolation::ContainsWhitespace]
    );
    // Other white space too: tab, no-break space, ideographic space.
    for ws in ['\t', '\n', '\u{a0}', '\u{3000}'] {
        let password = format!("Abcd{ws}1234!");
        assert_eq!(
            violations(&p, &password),
            vec![PasswordViolation::ContainsWhitespace],
            "{ws:?}"
        );
    }
}

#[test]
fn seed_rule_128_characters_pass_129_are_too_long() {
    let p = PasswordPolicy::seed_rule();
    let base = "Ab1!".repeat(32);
    assert_eq!(base.chars().count(), 128);
    assert_ok(&p, &base);
    let longer = format!("{base}x");
    assert_eq!(
        violations(&p, &longer),
        vec![PasswordViolation::TooLong {
            length: 129,
            max: 128
        }]
    );
}

#[test]
fn nothing_is_truncated_even_when_the_first_128_characters_are_valid() {
    // The 129th character is white space, which would also be refused if
    // it were seen: both violations show that the whole input was checked.
    let p = PasswordPolicy::seed_rule();
    let password = format!("{} ", "Ab1!".repeat(32));
    assert_eq!(
        violations(&p, &password),
        vec![
            PasswordViolation::TooLong {
                length: 129,
                max: 128
            },
            PasswordViolation::ContainsWhitespace,
        ]
    );
    // Same with the recommended default.
    let errors = violations(&PasswordPolicy::default(), &password);
    assert!(errors.contains(&PasswordViolation::TooLong {
        length: 129,
        max: 128
    }));
}

#[test]
fn every_violation_is_reported_at_once() {
    let p = PasswordPolicy::seed_rule();
    assert_eq!(
        violations(&p, "a b"),
        vec![
            PasswordViolation::TooShort { length: 3, min: 8 },
            PasswordViolation::ContainsWhitespace,
            PasswordViolation::TooFewCharacterClasses {
                found: 1,
                required: 3,
                missing: vec![
                    CharacterClass::Uppercase,
                    CharacterClass::Digit,
                    CharacterClass::Special
                ],
            },
        ]
    );
    // The default adds the guessability violation to the same list.
    let list = violations(&PasswordPolicy::default(), "a b");
    assert_eq!(list.len(), 4, "{list:?}");
    assert!(has_too_guessable(&list));
}

#[test]
fn empty_password_reports_too_short_and_classes() {
    let p = PasswordPolicy::seed_rule();
    assert_eq!(
        violations(&p, ""),
        vec![
            PasswordViolation::TooShort { length: 0, min: 8 },
            PasswordViolation::TooFewCharacterClasses {
                found: 0,
                required: 3,
                missing: CharacterClass::ALL.to_vec(),
            },
        ]
    );
}

// ------------------------------------------------------------------- unicode

#[test]
fn unicode_letters_count_once_and_have_case() {
    let p = PasswordPolicy::seed_rule();
    // 9 scalar values, 11 bytes.
    assert_eq!("Pässwörd1".len(), 11);
    assert_ok(&p, "Pässwörd1");
    // 7 scalar values but 14 bytes: still too short.
    assert_eq!(
        violations(&p, "Ääöüß1!"),
        vec![PasswordViolation::TooShort { length: 7, min: 8 }]
    );
    // Emoji are single scalar values and count as special characters.
    assert_eq!(
        violations(&p, "Abcdef🎉"),
        vec![PasswordViolation::TooShort { length: 7, min: 8 }]
    );
    assert_ok(&p, "Abcdefg🎉");
    // Cyrillic upper and lower case, Arabic-Indic digit.
    assert_ok(&p, "Пароль٣х");
}

#[test]
fn combining_sequences_are_normalised_before_counting() {
    let p = PasswordPolicy::seed_rule();
    // "a" + COMBINING DIAERESIS composes to "ä" under NFKC: 7, not 8.
    let decomposed = "Pa\u{308}sswd1";
    assert_eq!(decomposed.chars().count(), 8);
    assert_eq!(
        violations(&p, decomposed),
        vec![PasswordViolation::TooShort { length: 7, min: 8 }]
    );
    // With no precomposed form the mark stays a scalar value of its own.
    let uncomposable = "Qx\u{301}wer1!";
    assert_eq!(uncomposable.chars().count(), 8);
    assert_ok(&p, uncomposable);
    // Compatibility characters expand: the "ﬃ" ligature is three letters.
    assert_ok(&p, "Aﬃ1!xy");
    assert_eq!(
        violations(&p, "Aﬃ1!x"),
        vec![PasswordViolation::TooShort { length: 7, min: 8 }]
    );
}

#[test]
fn caseless_letters_count_towards_no_class() {
    let p = PasswordPolicy::seed_rule();
    assert_eq!(
        violations(&p, "密码密码密码密码"),
        vec![PasswordViolation::TooFewCharacterClasses {
            found: 0,
            required: 3,
            missing: CharacterClass::ALL.to_vec(),
        }]
    );
    assert_ok(&p, "密码密码密码A1!");
}

// ------------------------------------------------------- recommended default

#[test]
fn default_is_recommended_seed_plus_score_two() {
    let d = PasswordPolicy::default();
    assert_eq!(d, PasswordPolicy::recommended());
    assert_eq!(d.min_guessability_score, Some(2));
    let seed = PasswordPolicy::seed_rule();
    assert_eq!(
        (
            d.min_length,
            d.max_length,
            d.min_character_classes,
            d.allow_whitespace
        ),
        (
            seed.min_length,
            seed.max_length,
            seed.min_character_classes,
            seed.allow_whitespace
        )
    );
}

#[test]
fn default_catches_common_passwords_with_feedback() {
    let seed = PasswordPolicy::seed_rule();
    let d = PasswordPolicy::default();
    for common in ["Password1!", "Qwerty123!", "P4ssw0rd!"] {
        assert_ok(&seed, common);
        let list = violations(&d, common);
        assert_eq!(list.len(), 1, "{common}: {list:?}");
        match &list[0] {
            PasswordViolation::TooGuessable {
                score,
                required,
                warning,
                suggestions,
            } => {
                assert!(*score < 2, "{common}: score {score}");
                assert_eq!(*required, 2);
                let warning = warning.as_deref().expect("zxcvbn explains why");
                assert!(!warning.is_empty());
                assert!(!suggestions.is_empty(), "{common}: no suggestions");
                let message = list[0].to_string();
                assert!(message.contains(warning), "{message}");
                assert!(message.contains(&suggestions[0]), "{message}");
            }
            other => panic!("{common}: unexpected {other:?}"),
        }
    }
}

#[test]
fn default_accepts_a_strong_password() {
    assert_ok(&PasswordPolicy::default(), "Plum-Tractor-Velvet-9");
    assert_ok(&PasswordPolicy::default(), "Tr0ub4dor&3x");
}

#[test]
fn default_applies_the_seed_rules_too() {
    let d = PasswordPolicy::default();
    let list = violations(&d, "Plum Tractor Velvet");
    assert!(
        list.contains(&PasswordViolation::ContainsWhitespace),
        "{list:?}"
    );
    let list = violations(&d, "plum-tractor-velvet");
    assert!(
        list.iter().any(|v| matches!(
            v,
            PasswordViolation::TooFewCharacterClasses { found: 2, .. }
        )),
        "{list:?}"
    );
}

#[test]
fn context_words_make_a_password_from_the_customers_details_fail() {
    let context = PasswordContext {
        user_inputs: &["Ana", "Silva", "ana@example.com"],
    };
    let seed = PasswordPolicy::seed_rule();
    let d = PasswordPolicy::default();
    for password in ["Ana@example.com", "ANA@EXAMPLE.COM1", "ana@example.comA"] {
        // Fine by the composition rule, and by zxcvbn without context...
        assert_eq!(seed.check(password, &context), Ok(()), "{password}");
        assert_eq!(d.check(password, &NONE), Ok(()), "{password}");
        // ...but guessable for someone who knows the customer.
        let error = d.check(password, &context).unwrap_err();
        assert!(
            matches!(error.as_slice(), [PasswordViolation::TooGuessable { score, .. }] if *score < 2),
            "{password}: {error:?}"
        );
    }
}

#[test]
fn context_helper_constructor_matches_literal() {
    let words = ["Ana", "Silva", "ana@example.com"];
    let a = PasswordContext::new(&words);
    let b = PasswordContext {
        user_inputs: &words,
    };
    assert_eq!(a, b);
    let d = PasswordPolicy::default();
    assert_eq!(
        d.check("Ana@example.com", &a).is_err(),
        d.check("Ana@example.com", &b).is_err()
    );
}

// ------------------------------------------------------------ NIST 800-63B

#[test]
fn nist_preset_values() {
    let n = PasswordPolicy::nist_800_63b();
    assert_eq!(n.min_length, 8);
    assert!(n.max_length >= 64);
    assert_eq!(n.max_length, 256);
    assert_eq!(n.min_character_classes, 0);
    assert!(n.allow_whitespace);
    assert_eq!(n.min_guessability_score, Some(2));
}

#[test]
fn nist_has_no_composition_rules_and_allows_spaces() {
    let n = PasswordPolicy::nist_800_63b();
    assert_ok(&n, "plum tractor velvet"); // one class, spaces
    assert_ok(&n, "ñandú pingüino glaciar"); // non-ASCII
    assert_ok(&n, "зелёный трактор"); // Cyrillic
    let seed = PasswordPolicy::seed_rule();
    assert!(
        violations(&seed, "plum tractor velvet").contains(&PasswordViolation::ContainsWhitespace)
    );
}

#[test]
fn nist_single_space_is_allowed_where_seed_and_default_refuse_it() {
    let password = "Velvet Tractor9!";
    assert_ok(&PasswordPolicy::nist_800_63b(), password);
    assert_eq!(
        violations(&PasswordPolicy::seed_rule(), password),
        vec![PasswordViolation::ContainsWhitespace]
    );
    assert!(
        violations(&PasswordPolicy::default(), password)
            .contains(&PasswordViolation::ContainsWhitespace)
    );
}

#[test]
fn nist_length_bounds() {
    let n = PasswordPolicy::nist_800_63b();
    assert_eq!(
        violations(&n, "qz7 vk2"),
        vec![PasswordViolation::TooShort { length: 7, min: 8 }]
    );
    assert_ok(&n, "qz7 vk2x");
    // 256 characters of varied text pass; 257 do not.
    let long: String = "plum tractor velvet orbit quince "
        .repeat(8)
        .chars()
        .take(256)
        .collect();
    assert_eq!(long.chars().count(), 256);
    assert_ok(&n, &long);
    let longer = format!("{long}x");
    assert_eq!(
        violations(&n, &longer),
        vec![PasswordViolation::TooLong {
            length: 257,
            max: 256
        }]
    );
}

#[test]
fn nist_guessability_floor_rejects_common_and_repetitive_passwords() {
    let n = PasswordPolicy::nist_800_63b();
    for weak in ["password", "12345678", "aaaaaaaaaaaa", "qwertyuiop"] {
        let list = violations(&n, weak);
        assert_eq!(list.len(), 1, "{weak}: {list:?}");
        assert!(has_too_guessable(&list), "{weak}: {list:?}");
    }
}

#[test]
fn nist_single_factor_needs_fifteen() {
    let s = PasswordPolicy::nist_800_63b_single_factor();
    assert_eq!(s.min_length, 15);
    assert_eq!(
        violations(&s, "plum tractor 9"),
        vec![PasswordViolation::TooShort {
            length: 14,
            min: 15
        }]
    );
    assert_ok(&s, "plum tractor 91");
    // The multi-factor preset accepts the 14-character one.
    assert_ok(&PasswordPolicy::nist_800_63b(), "plum tractor 9");
}

// ------------------------------------------------------------ messages, API

#[test]
fn messages_are_human_readable() {
    assert_eq!(
        PasswordViolation::TooShort { length: 3, min: 8 }.to_string(),
        "password is too short: 3 characters, at least 8 required"
    );
    assert_eq!(
        PasswordViolation::TooLong {
            length: 129,
            max: 128
        }
        .to_string(),
        "password is too long: 129 characters, at most 128 allowed"
    );
    assert_eq!(
        PasswordViolation::ContainsWhitespace.to_string(),
        "password must not contain spaces or other white space"
    );
    let classes = PasswordViolation::TooFewCharacterClasses {
        found: 2,
        required: 3,
        missing: vec![CharacterClass::Uppercase, CharacterClass::Special],
    }
    .to_string();
    assert!(classes.contains("at least 3"), "{classes}");
    assert!(classes.contains("uses 2"), "{classes}");
    assert!(
        classes.ends_with("upper-case letter, special character"),
        "{classes}"
    );
    let guessable = PasswordViolation::TooGuessable {
        score: 1,
        required: 2,
        warning: Some("This is a very common password.".into()),
        suggestions: vec!["Add another word or two.".into()],
    }
    .to_string();
    assert_eq!(
        guessable,
        "password is too easy to guess (strength 1 of 4, at least 2 required): \
         This is a very common password. Add another word or two."
    );
}

#[test]
fn violations_collection_display_lists_each_message() {
    let error: PasswordViolations = PasswordPolicy::seed_rule().check("a b", &NONE).unwrap_err();
    let text = error.to_string();
    assert!(
        text.starts_with("password does not meet the policy: "),
        "{text}"
    );
    for v in &error {
        assert!(text.contains(&v.to_string()), "{text}");
    }
    assert_eq!(error.len(), 3);
    assert_eq!(error.iter().count(), 3);
    assert!(!error.is_empty());
    let as_error: &dyn std::error::Error = &error;
    assert!(as_error.to_string().contains("too short"));
}

#[test]
fn adjusted_policy_fields_take_effect() {
    let mut p = PasswordPolicy::seed_rule();
    p.min_character_classes = 4;
    assert_eq!(
        violations(&p, "abcdefG1"),
        vec![PasswordViolation::TooFewCharacterClasses {
            found: 3,
            required: 4,
            missing: vec![CharacterClass::Special],
        }]
    );
    // Above four acts as four.
    p.min_character_classes = 9;
    assert_ok(&p, "abcdeG1!");
    p.allow_whitespace = true;
    p.min_length = 4;
    assert_ok(&p, "aG1 !");
}

// ------------------------------------------------------------ hostile input

#[test]
fn hostile_long_inputs_return_too_long_without_guessability() {
    for policy in [
        PasswordPolicy::seed_rule(),
        PasswordPolicy::default(),
        PasswordPolicy::nist_800_63b(),
    ] {
        for (input, length) in [
            ("a".repeat(100_000), 100_000),
            ("Ab1!".repeat(25_000), 100_000),
            ("é".repeat(100_000), 100_000),
            ("a\u{308}".repeat(50_000), 100_000),
            ("password".repeat(12_500), 100_000),
        ] {
            let list = violations(&policy, &input);
            assert!(
                list.contains(&PasswordViolation::TooLong {
                    length,
                    max: policy.max_length
                }),
                "{list:?}"
            );
            assert!(!has_too_guessable(&list), "zxcvbn must not run: {list:?}");
        }
    }
}

#[test]
fn over_long_after_normalisation_counts_normalised_scalars() {
    // "a" + combining diaeresis composes: 200 pairs are 200 characters.
    let input = "a\u{308}".repeat(200);
    let list = violations(&PasswordPolicy::seed_rule(), &input);
    assert!(
        list.contains(&PasswordViolation::TooLong {
            length: 200,
            max: 128
        }),
        "{list:?}"
    );
    // U+FDFA expands to 18 characters under NFKC.
    let list = violations(&PasswordPolicy::seed_rule(), &"\u{FDFA}".repeat(8));
    assert!(
        list.contains(&PasswordViolation::TooLong {
            length: 144,
            max: 128
        }),
        "{list:?}"
    );
}

#[test]
fn hostile_inputs_within_the_limit_are_scored() {
    // Within the maximum, zxcvbn runs on a bounded prefix and still judges.
    let d = PasswordPolicy::default();
    for repeated in ["Aa1!".repeat(32), "Qwerty1!".repeat(16)] {
        assert_eq!(repeated.chars().count(), 128);
        let list = violations(&d, &repeated);
        assert_eq!(list.len(), 1, "{list:?}");
        assert!(has_too_guessable(&list), "{list:?}");
    }
    let words = "password".repeat(32); // 256 characters, the NIST maximum
    let list = violations(&PasswordPolicy::nist_800_63b(), &words);
    assert!(has_too_guessable(&list), "{list:?}");
}

// ------------------------------------------------------------ property tests

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn check_never_panics_and_ok_iff_no_violations(
        password in any::<String>(),
        context in proptest::collection::vec(any::<String>(), 0..4),
    ) {
        let context_refs: Vec<&str> = context.iter().map(String::as_str).collect();
        let context = PasswordContext { user_inputs: &context_refs };
        for policy in [
            PasswordPolicy::seed_rule(),
            PasswordPolicy::default(),
            PasswordPolicy::nist_800_63b(),
        ] {
            let list = policy.violations(&password, &context);
            match policy.check(&password, &context) {
                Ok(()) => prop_assert!(list.is_empty()),
                Err(error) => {
                    prop_assert!(!error.is_empty());
                    prop_assert_eq!(error.as_slice(), list.as_slice());
                }
            }
        }
    }

    #[test]
    fn ascii_printable_passwords_follow_the_seed_rule(password in "[ -~]{0,140}") {
        let policy = PasswordPolicy::seed_rule();
        let list = policy.violations(&password, &NONE);
        let length = password.chars().count();
        prop_assert_eq!(
            list.contains(&PasswordViolation::TooShort { length, min: 8 }),
            length < 8
        );
        prop_assert_eq!(
            list.contains(&PasswordViolation::TooLong { length, max: 128 }),
            length > 128
        );
        prop_assert_eq!(
            list.contains(&PasswordViolation::ContainsWhitespace),
            password.contains(' ')
        );
        let classes = [
            password.chars().any(|c| c.is_ascii_lowercase()),
            password.chars().any(|c| c.is_ascii_uppercase()),
            password.chars().any(|c| c.is_ascii_digit()),
            password.chars().any(|c| c.is_ascii_punctuation()),
        ];
        let found = classes.iter().filter(|&&c| c).count();
        let has_class_violation = list
            .iter()
            .any(|v| matches!(v, PasswordViolation::TooFewCharacterClasses { .. }));
        prop_assert_eq!(has_class_violation, found < 3);
    }
}

// ------------------------------------------------- boundaries added with accounts

#[test]
fn seed_rule_length_counts_scalars_at_the_upper_bound_too() {
    let p = PasswordPolicy::seed_rule();
    // 128 two-byte letters plus classes: 128 scalar values, 250+ bytes.
    let base = format!("{}Ä1!", "ä".repeat(125));
    assert_eq!(base.chars().count(), 128);
    assert!(base.len() > 128);
    assert_ok(&p, &base);
    let longer = format!("{base}ö");
    assert_eq!(
        violations(&p, &longer),
        vec![PasswordViolation::TooLong {
            length: 129,
            max: 128
        }]
    );
}

#[test]
fn too_long_white_space_and_classes_are_reported_together() {
    let p = PasswordPolicy::seed_rule();
    let input = "a b".repeat(43); // 129 characters, lower case and spaces only
    assert_eq!(input.chars().count(), 129);
    assert_eq!(
        violations(&p, &input),
        vec![
            PasswordViolation::TooLong {
                length: 129,
                max: 128
            },
            PasswordViolation::ContainsWhitespace,
            PasswordViolation::TooFewCharacterClasses {
                found: 1,
                required: 3,
                missing: vec![
                    CharacterClass::Uppercase,
                    CharacterClass::Digit,
                    CharacterClass::Special
                ],
            },
        ]
    );
}

#[test]
fn symbol_heavy_passwords_are_still_judged() {
    let d = PasswordPolicy::default();
    // Common passwords in l33t stay refused...
    for weak in ["P@$$w0rd!", "P@ssw0rd1234"] {
        assert!(has_too_guessable(&violations(&d, weak)), "{weak}");
    }
    // ...and a generated password dense in symbols is accepted: its scored prefix stops
    // at the seventh different l33t symbol but is still long and random.
    assert_ok(&d, "x9$Kp2@Lm!7q(Zr8%Tn");
}
