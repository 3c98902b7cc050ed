//! argon2id hashing, stored-hash validation, redaction and reset tokens.

use customer_directory::Password;
use customer_directory::records::{ResetToken, ResetTokenHash, TokenError, VerificationToken};
use customer_directory::values::{
    HashError, HashLimits, HashParameter, HashParams, PasswordHash, PasswordHashing, Verification,
};

const PASSWORD: &str = "Plum-Tractor-Velvet-9";

/// A real hash with the given parameters, for hand-editing.
fn hash_with(memory_kib: u32, iterations: u32, parallelism: u32) -> PasswordHash {
    let params = HashParams::new(memory_kib, iterations, parallelism).unwrap();
    PasswordHashing::with_params(params)
        .unwrap()
        .hash(PASSWORD)
        .unwrap()
}

/// The "$salt$hash" tail of a PHC string.
fn salt_and_hash(phc: &str) -> String {
    let parts: Vec<&str> = phc.split('$').collect();
    assert_eq!(parts.len(), 6, "{phc}");
    format!("${}${}", parts[4], parts[5])
}

// ------------------------------------------------------------------ hashing

#[test]
fn hash_then_verify_is_valid_and_wrong_password_is_invalid() {
    let hashing = PasswordHashing::new();
    let stored = hashing.hash(PASSWORD).unwrap();
    assert_eq!(
        hashing.verify(PASSWORD, &stored).unwrap(),
        Verification::Valid
    );
    assert_eq!(
        hashing.verify("Plum-Tractor-Velvet-8", &stored).unwrap(),
        Verification::Invalid
    );
    assert_eq!(hashing.verify("", &stored).unwrap(), Verification::Invalid);
    assert_eq!(
        hashing.verify(&format!("{PASSWORD} "), &stored).unwrap(),
        Verification::Invalid
    );
}

#[test]
fn phc_string_uses_argon2id_v19_and_owasp_parameters() {
    let stored = PasswordHashing::new().hash(PASSWORD).unwrap();
    let phc = stored.as_phc();
    assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
    let parts: Vec<&str> = phc.split('$').collect();
    // 16-byte salt and 32-byte hash in unpadded base64: 22 and 43 characters.
    assert_eq!(parts[4].len(), 22, "{phc}");
    assert_eq!(parts[5].len(), 43, "{phc}");
    assert!(!phc.contains(PASSWORD));
}

#[test]
fn two_hashes_of_one_password_differ() {
    let hashing = PasswordHashing::new();
    let a = hashing.hash(PASSWORD).unwrap();
    let b = hashing.hash(PASSWORD).unwrap();
    assert_ne!(a.as_phc(), b.as_phc());
    assert_ne!(salt_and_hash(a.as_phc()), salt_and_hash(b.as_phc()));
    assert_eq!(hashing.verify(PASSWORD, &a).unwrap(), Verification::Valid);
    assert_eq!(hashing.verify(PASSWORD, &b).unwrap(), Verification::Valid);
}

#[test]
fn unicode_passwords_verify_in_either_normalisation_form() {
    let hashing = PasswordHashing::new();
    let composed = "Pässwörd-Kältë-9";
    let decomposed = "Pa\u{308}sswo\u{308}rd-Ka\u{308}lte\u{308}-9";
    assert_ne!(composed, decomposed);
    let stored = hashing.hash(composed).unwrap();
    assert_eq!(
        hashing.verify(decomposed, &stored).unwrap(),
        Verification::Valid
    );
    assert_eq!(
        hashing.verify("Passwort-Kalte-9", &stored).unwrap(),
        Verification::Invalid
    );
}

#[test]
fn lower_parameters_verify_as_needing_rehash() {
    let old = hash_with(8192, 1, 1);
    assert!(old.as_phc().starts_with("$argon2id$v=19$m=8192,t=1,p=1$"));
    let hashing = PasswordHashing::new();
    assert_eq!(
        hashing.verify(PASSWORD, &old).unwrap(),
        Verification::ValidNeedsRehash
    );
    assert!(hashing.needs_rehash(&old));
    // The wrong password is still just invalid.
    assert_eq!(hashing.verify("nope", &old).unwrap(), Verification::Invalid);
    // Rehashing gives a current hash.
    let new = hashing.hash(PASSWORD).unwrap();
    assert!(!hashing.needs_rehash(&new));
    assert_eq!(hashing.verify(PASSWORD, &new).unwrap(), Verification::Valid);
}

#[test]
fn only_one_changed_parameter_also_needs_rehash() {
    let hashing = PasswordHashing::new();
    for stored in [
        hash_with(19456, 1, 1),
        hash_with(19456, 2, 2),
        hash_with(16384, 2, 1),
    ] {
        assert_eq!(
            hashing.verify(PASSWORD, &stored).unwrap(),
            Verification::ValidNeedsRehash,
            "{}",
            stored.as_phc()
        );
    }
}

#[test]
fn other_argon2_variants_and_versions_need_rehash() {
    // argon2i with version 0x13, same costs: valid but not current.
    let current = PasswordHashing::new().hash(PASSWORD).unwrap();
    let tail = salt_and_hash(current.as_phc());
    let argon2i = PasswordHash::from_phc(&format!("$argon2i$v=19$m=19456,t=2,p=1{tail}")).unwrap();
    // Same salt and output with another variant cannot match.
    assert_eq!(
        PasswordHashing::new().verify(PASSWORD, &argon2i).unwrap(),
        Verification::Invalid
    );
    assert!(PasswordHashing::new().needs_rehash(&argon2i));
    let v16 = PasswordHash::from_phc(&format!("$argon2id$v=16$m=19456,t=2,p=1{tail}")).unwrap();
    assert!(PasswordHashing::new().needs_rehash(&v16));
}

#[test]
fn newer_hasher_with_stronger_parameters_flags_owasp_hashes() {
    let stronger = PasswordHashing::with_params(HashParams::new(47104, 1, 1).unwrap()).unwrap();
    let stored = PasswordHashing::new().hash(PASSWORD).unwrap();
    assert_eq!(
        stronger.verify(PASSWORD, &stored).unwrap(),
        Verification::ValidNeedsRehash
    );
}

#[test]
fn stored_parameters_above_the_cap_are_refused() {
    let tail = salt_and_hash(PasswordHashing::new().hash(PASSWORD).unwrap().as_phc());
    let hashing = PasswordHashing::new();

    let huge_memory =
        PasswordHash::from_phc(&format!("$argon2id$v=19$m=4194304,t=2,p=1{tail}")).unwrap();
    assert_eq!(
        hashing.verify(PASSWORD, &huge_memory),
        Err(HashError::ParametersExceedLimits {
            parameter: HashParameter::Memory,
            value: 4_194_304,
            limit: 262_144,
        })
    );

    let many_iterations =
        PasswordHash::from_phc(&format!("$argon2id$v=19$m=19456,t=1000000,p=1{tail}")).unwrap();
    assert_eq!(
        hashing.verify(PASSWORD, &many_iterations),
        Err(HashError::ParametersExceedLimits {
            parameter: HashParameter::Iterations,
            value: 1_000_000,
            limit: 10,
        })
    );

    let many_lanes =
        PasswordHash::from_phc(&format!("$argon2id$v=19$m=19456,t=2,p=64{tail}")).unwrap();
    assert_eq!(
        hashing.verify(PASSWORD, &many_lanes),
        Err(HashError::ParametersExceedLimits {
            parameter: HashParameter::Parallelism,
            value: 64,
            limit: 8,
        })
    );

    // Exactly at a cap is evaluated (and here just does not match).
    let at_cap = PasswordHash::from_phc(&format!("$argon2id$v=19$m=19456,t=10,p=1{tail}")).unwrap();
    assert_eq!(
        hashing.verify(PASSWORD, &at_cap).unwrap(),
        Verification::Invalid
    );

    // The dummy path refuses nothing and says invalid.
    assert_eq!(hashing.verify_dummy(PASSWORD), Verification::Invalid);
}

#[test]
fn limits_are_configurable() {
    let mut limits = HashLimits::default();
    assert_eq!(
        (
            limits.max_memory_kib,
            limits.max_iterations,
            limits.max_parallelism
        ),
        (262_144, 10, 8)
    );
    limits.max_memory_kib = 16_384;
    limits.max_iterations = 2;
    let strict = PasswordHashing::with_params(HashParams::new(8192, 1, 1).unwrap())
        .unwrap()
        .with_limits(limits)
        .unwrap();
    let owasp_hash = PasswordHashing::new().hash(PASSWORD).unwrap();
    assert_eq!(
        strict.verify(PASSWORD, &owasp_hash),
        Err(HashError::ParametersExceedLimits {
            parameter: HashParameter::Memory,
            value: 19_456,
            limit: 16_384,
        })
    );
    // Current parameters above the limits are a configuration error.
    assert!(matches!(
        PasswordHashing::new().with_limits(limits),
        Err(HashError::ParametersExceedLimits {
            parameter: HashParameter::Memory,
            ..
        })
    ));
}

#[test]
fn invalid_parameters_are_errors() {
    assert!(matches!(
        HashParams::new(0, 1, 1),
        Err(HashError::InvalidParameters { .. })
    ));
    assert!(matches!(
        HashParams::new(8192, 0, 1),
        Err(HashError::InvalidParameters { .. })
    ));
    assert!(matches!(
        HashParams::new(8192, 1, 0),
        Err(HashError::InvalidParameters { .. })
    ));
    assert!(matches!(
        PasswordHashing::with_params(HashParams::new(1 << 20, 1, 1).unwrap()),
        Err(HashError::ParametersExceedLimits { .. })
    ));
}

#[test]
fn malformed_phc_strings_are_errors_not_panics() {
    let good = PasswordHashing::new().hash(PASSWORD).unwrap();
    let good = good.as_phc();
    let tail = salt_and_hash(good);
    let cases: Vec<String> = vec![
        String::new(),
        "$".into(),
        "$$$$$".into(),
        "not a hash".into(),
        "$argon2id".into(),
        "$argon2id$v=19".into(),
        "$argon2id$v=19$m=19456,t=2,p=1".into(),
        // No hash value / no salt.
        format!("$argon2id$v=19$m=19456,t=2,p=1${}", &tail[1..23]),
        // Bad base64.
        "$argon2id$v=19$m=19456,t=2,p=1$!!!!!!!!!!!!!!!!$@@@@@@@@@@@@@@@@@@@@@@@@".into(),
        // Unknown version, unknown parameter, non-numeric and overflowing costs.
        format!("$argon2id$v=18$m=19456,t=2,p=1{tail}"),
        format!("$argon2id$v=19$m=19456,t=2,p=1,x=3{tail}"),
        format!("$argon2id$v=19$m=lots,t=2,p=1{tail}"),
        format!("$argon2id$v=19$m=99999999999999999999,t=2,p=1{tail}"),
        format!("$argon2id$v=19$m=-1,t=2,p=1{tail}"),
        // m below 8 * p, t = 0.
        format!("$argon2id$v=19$m=8,t=2,p=4{tail}"),
        format!("$argon2id$v=19$m=19456,t=0,p=1{tail}"),
        // Truncated, with a NUL, over-long.
        good[..good.len() - 10].to_owned() + "$",
        good.replace('$', "\0"),
        format!("{good}{}", "A".repeat(10_000)),
        "é".repeat(200),
    ];
    for phc in &cases {
        let result = PasswordHash::from_phc(phc);
        assert!(
            matches!(
                result,
                Err(HashError::Malformed { .. } | HashError::UnsupportedAlgorithm { .. })
            ),
            "{phc:?}: {result:?}"
        );
    }
}

#[test]
fn other_algorithms_are_unsupported() {
    for phc in [
        "$scrypt$ln=15,r=8,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
        "$pbkdf2-sha256$i=600000$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
        "$argon2x$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
    ] {
        assert!(
            matches!(
                PasswordHash::from_phc(phc),
                Err(HashError::UnsupportedAlgorithm { .. })
            ),
            "{phc}"
        );
    }
}

#[test]
fn phc_round_trips_through_from_phc_fromstr_and_serde() {
    let stored = PasswordHashing::new().hash(PASSWORD).unwrap();
    let again = PasswordHash::from_phc(stored.as_phc()).unwrap();
    assert_eq!(again, stored);
    let parsed: PasswordHash = stored.as_phc().parse().unwrap();
    assert_eq!(parsed, stored);
    let json = serde_json::to_string(&stored).unwrap();
    assert_eq!(json, format!("\"{}\"", stored.as_phc()));
    let back: PasswordHash = serde_json::from_str(&json).unwrap();
    assert_eq!(back, stored);
    assert!(serde_json::from_str::<PasswordHash>("\"garbage\"").is_err());
    assert_eq!(stored.clone().into_phc(), stored.as_phc());
}

#[test]
fn over_long_passwords_are_refused_by_hash_and_invalid_in_verify() {
    let hashing = PasswordHashing::new();
    let huge = "x".repeat(1_000_000);
    assert!(matches!(
        hashing.hash(&huge),
        Err(HashError::PasswordTooLong {
            length: 1_000_000,
            ..
        })
    ));
    let stored = hashing.hash(PASSWORD).unwrap();
    assert_eq!(
        hashing.verify(&huge, &stored).unwrap(),
        Verification::Invalid
    );
}

#[test]
fn dummy_verification_is_invalid_for_any_password() {
    let hashing = PasswordHashing::new();
    for password in ["", PASSWORD, "customer-directory dummy password", "x"] {
        assert_eq!(hashing.verify_dummy(password), Verification::Invalid);
    }
}

// -------------------------------------------------------------- redaction

#[test]
fn secrets_never_appear_in_debug_or_display() {
    let password = Password::new(PASSWORD);
    assert_eq!(format!("{password:?}"), "Password(***)");
    assert!(!format!("{password}").contains(PASSWORD));
    assert!(!format!("{:#?}", password).contains(PASSWORD));

    let stored = PasswordHashing::new().hash(password.expose()).unwrap();
    let phc = stored.as_phc().to_owned();
    let salt_hash = salt_and_hash(&phc);
    for shown in [
        format!("{stored:?}"),
        format!("{stored:#?}"),
        format!("{stored}"),
    ] {
        assert!(!shown.contains(&phc), "{shown}");
        assert!(!shown.contains("argon2"), "{shown}");
        assert!(!shown.contains(&salt_hash[1..12]), "{shown}");
    }
    assert_eq!(format!("{stored:?}"), "PasswordHash(<redacted>)");
    // The hasher's Debug (which holds the dummy hash) is redacted too.
    let hashing = PasswordHashing::new();
    let _ = hashing.verify_dummy("x");
    assert!(!format!("{hashing:?}").contains("$argon2"));

    let (token, hash) = ResetToken::generate().unwrap();
    let secret = token.expose_secret();
    let digest = hash.to_hex();
    for shown in [
        format!("{token:?}"),
        format!("{token}"),
        format!("{hash:?}"),
        format!("{hash}"),
        format!("{:?}", (&token, &hash)),
    ] {
        assert!(!shown.contains(&secret), "{shown}");
        assert!(!shown.contains(&digest), "{shown}");
        assert!(!shown.contains(&secret[..8]), "{shown}");
        assert!(!shown.contains(&digest[..8]), "{shown}");
    }
    assert_eq!(format!("{token:?}"), "ResetToken(<redacted>)");
    assert_eq!(format!("{hash:?}"), "ResetTokenHash(<redacted>)");
}

#[test]
fn error_messages_do_not_echo_the_input() {
    let secretish = "$argon2id$v=19$m=19456,t=2,p=1$SECRETSALTSECRET$SECRETHASH";
    let error = PasswordHash::from_phc(&format!("{secretish}!")).unwrap_err();
    assert!(!error.to_string().contains("SECRET"), "{error}");
    let token_text = "z".repeat(64);
    let error = ResetToken::parse(&token_text).unwrap_err();
    assert!(!error.to_string().contains("zzzz"), "{error}");
}

// ------------------------------------------------------------ reset tokens

#[test]
fn reset_token_is_256_bits_of_hex() {
    let (token, hash) = ResetToken::generate().unwrap();
    let text = token.expose_secret();
    assert_eq!(text.len(), 64);
    assert!(
        text.chars()
            .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
    );
    assert_eq!(token.expose_bytes().len(), 32);
    // The text decodes to 32 bytes: parse it back.
    let parsed = ResetToken::parse(&text).unwrap();
    assert_eq!(parsed.expose_bytes(), token.expose_bytes());
    assert_eq!(parsed, token);
    assert_eq!(hash, token.hash());
    assert_eq!(hash.as_bytes().len(), 32);
}

#[test]
fn two_tokens_differ() {
    let (a, ha) = ResetToken::generate().unwrap();
    let (b, hb) = ResetToken::generate().unwrap();
    assert_ne!(a.expose_secret(), b.expose_secret());
    assert_ne!(a, b);
    assert_ne!(ha, hb);
    assert!(ha.matches(&a));
    assert!(!ha.matches(&b));
}

#[test]
fn token_hash_is_sha256_of_the_token_bytes() {
    // SHA-256 of 32 zero bytes.
    let zero = ResetToken::parse(&"0".repeat(64)).unwrap();
    assert_eq!(
        zero.hash().to_hex(),
        "66687aadf862bd776c8fc18b8e9f8e20089714856ee233b3902a591d0d5f2925"
    );
    // SHA-256 of the bytes 0x00, 0x01, ..., 0x1f.
    let counting: String = (0u8..32).map(|b| format!("{b:02x}")).collect();
    let token = ResetToken::parse(&counting).unwrap();
    assert_eq!(
        token.hash().to_hex(),
        "630dcd2966c4336691125448bbb25b4ff412a49c732db2c8abc1b8581bd710dd"
    );
    // Upper-case hex is the same token, so the same hash.
    let upper = ResetToken::parse(&counting.to_uppercase()).unwrap();
    assert_eq!(upper.hash(), token.hash());
    assert_eq!(upper.expose_secret(), counting);
}

#[test]
fn token_hash_hex_round_trip_and_serde() {
    let (token, hash) = ResetToken::generate().unwrap();
    let stored = hash.to_hex();
    assert_eq!(stored.len(), 64);
    let loaded = ResetTokenHash::from_hex(&stored).unwrap();
    assert_eq!(loaded, hash);
    assert!(loaded.matches(&token));
    assert_eq!(
        ResetTokenHash::from_hex(&stored.to_uppercase()).unwrap(),
        hash
    );
    let json = serde_json::to_string(&hash).unwrap();
    assert_eq!(json, format!("\"{stored}\""));
    let back: ResetTokenHash = serde_json::from_str(&json).unwrap();
    assert_eq!(back, hash);
    assert!(serde_json::from_str::<ResetTokenHash>("\"abc\"").is_err());
}

#[test]
fn malformed_token_text_is_an_error() {
    let valid = "0123456789abcdef".repeat(4);
    assert!(ResetToken::parse(&valid).is_ok());
    assert_eq!(
        ResetToken::parse("").unwrap_err(),
        TokenError::InvalidLength {
            length: 0,
            expected: 64
        }
    );
    assert_eq!(
        ResetToken::parse(&valid[..63]).unwrap_err(),
        TokenError::InvalidLength {
            length: 63,
            expected: 64
        }
    );
    assert_eq!(
        ResetToken::parse(&format!("{valid}0")).unwrap_err(),
        TokenError::InvalidLength {
            length: 65,
            expected: 64
        }
    );
    assert_eq!(
        ResetToken::parse(&format!(" {}", &valid[1..])).unwrap_err(),
        TokenError::InvalidCharacter
    );
    assert_eq!(
        ResetToken::parse(&valid.replace('f', "g")).unwrap_err(),
        TokenError::InvalidCharacter
    );
    // Multi-byte characters making up 64 bytes.
    assert_eq!(
        ResetToken::parse(&"ä".repeat(32)).unwrap_err(),
        TokenError::InvalidCharacter
    );
    // base64url text of the right length is not accepted.
    assert!(ResetToken::parse(&"-_".repeat(32)).is_err());
    assert!(ResetTokenHash::from_hex(&"q".repeat(64)).is_err());
    assert!(ResetToken::parse(&"a".repeat(1_000_000)).is_err());
}

#[test]
fn verification_tokens_are_redacted_and_hash_like_reset_tokens() {
    let (token, hash) = VerificationToken::generate().unwrap();
    let secret = token.expose_secret();
    assert_eq!(secret.len(), 64);
    assert_eq!(token.expose_bytes().len(), 32);
    assert_eq!(token.hash(), hash);
    for shown in [
        format!("{token:?}"),
        format!("{token}"),
        format!("{:?}", (&token, &hash)),
    ] {
        assert!(!shown.contains(&secret[..8]), "{shown}");
    }
    assert_eq!(format!("{token:?}"), "VerificationToken(<redacted>)");
    assert_eq!(token.to_string(), "<redacted verification token>");

    // Read back from a link in either case; the digest is that of the raw bytes, the same
    // as a reset token's of the same secret (the stored purpose tells them apart).
    let parsed: VerificationToken = secret.to_uppercase().parse().unwrap();
    assert_eq!(parsed, token);
    assert_eq!(ResetToken::parse(&secret).unwrap().hash(), hash);
    let (other, other_hash) = VerificationToken::generate().unwrap();
    assert_ne!(other, token);
    assert_ne!(other_hash, hash);

    assert_eq!(
        VerificationToken::parse(&secret[..63]).unwrap_err(),
        TokenError::InvalidLength {
            length: 63,
            expected: 64
        }
    );
    assert_eq!(
        VerificationToken::parse(&format!(" {}", &secret[1..])).unwrap_err(),
        TokenError::InvalidCharacter
    );
    let error = VerificationToken::parse(&"z".repeat(64)).unwrap_err();
    assert!(!error.to_string().contains("zzzz"), "{error}");
}
