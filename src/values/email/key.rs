//! [`EmailKey`]: the normalised key that identifies a mailbox for matching, and how
//! [`EmailKey::parse`] derives it (the ASCII fast path when it can answer, else the
//! general path of the grammar).
//!
//! Separate from the address (which keeps the typed text) and from the grammar (which
//! only checks and writes): this is the value stores index and compare.

use std::borrow::Borrow;
use std::fmt;

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::values::email::ascii::ascii_fast_key;
use crate::values::email::grammar::{StackBuf, analyse};
use crate::values::email::{EmailError, EmailKeyPolicy};

/// The normalised key that identifies a mailbox for matching.
///
/// Its text is an address in canonical form: NFC local part (lower-cased under
/// the default policy), ASCII lower-case domain. Hashing and equality agree
/// with `str`, so maps keyed by `EmailKey` can be queried with `&str`.
///
/// # Examples
///
/// ```rust
/// use customer_directory::values::{EmailKey, EmailKeyPolicy};
///
/// let a = EmailKey::parse("USER@BÜCHER.DE", EmailKeyPolicy::default())?;
/// let b = EmailKey::parse("user@xn--bcher-kva.de", EmailKeyPolicy::default())?;
/// assert_eq!(a, b);
/// assert_eq!(format!("{a:?}"), "EmailKey(\"user@xn--bcher-kva.de\")");
/// # Ok::<(), customer_directory::values::EmailError>(())
/// ```
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EmailKey(pub(super) Box<str>);

impl EmailKey {
    /// Validates `raw` like
    /// [`EmailAddress::parse`](crate::values::email::address::EmailAddress::parse) and
    /// returns only its key.
    ///
    /// Allocates once (the result). `EmailKey::parse(k.as_str(), p)` returns
    /// `k` again for any key `k` built with the same policy `p`.
    ///
    /// # Errors
    ///
    /// Returns the first [`EmailError`] found.
    ///
    /// # Examples
    ///
    /// ```rust
    /// use customer_directory::values::{EmailKey, EmailKeyPolicy};
    ///
    /// let key = EmailKey::parse(" \"John\"@Example.COM ", EmailKeyPolicy::CaseInsensitive)?;
    /// assert_eq!(key.as_str(), "john@example.com");
    /// assert_eq!(EmailKey::parse(key.as_str(), EmailKeyPolicy::CaseInsensitive)?, key);
    /// # Ok::<(), customer_directory::values::EmailError>(())
    /// ```
    pub fn parse(raw: &str, policy: EmailKeyPolicy) -> Result<Self, EmailError> {
        if let Some((key, _)) = ascii_fast_key(raw.trim_ascii(), policy) {
            return Ok(Self(key));
        }
        slow_key(raw, policy)
    }

    /// The key text.
    ///
    /// # Examples
    ///
    /// ```rust
    /// use customer_directory::values::{EmailKey, EmailKeyPolicy};
    ///
    /// let key = EmailKey::parse("E\u{301}mile@example.com", EmailKeyPolicy::default())?;
    /// assert_eq!(key.as_str(), "émile@example.com");
    /// # Ok::<(), customer_directory::values::EmailError>(())
    /// ```
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The normalised local part (quoted if it is not a dot-atom).
    ///
    /// # Examples
    ///
    /// ```rust
    /// use customer_directory::values::{EmailKey, EmailKeyPolicy};
    ///
    /// let key = EmailKey::parse("\"John Doe\"@example.com", EmailKeyPolicy::default())?;
    /// assert_eq!(key.local_part(), "\"john doe\"");
    /// # Ok::<(), customer_directory::values::EmailError>(())
    /// ```
    pub fn local_part(&self) -> &str {
        // The domain never contains '@'; a quoted local part may.
        self.0.rsplit_once('@').map_or(&self.0, |(local, _)| local)
    }

    /// The domain in ASCII (punycode) lower case.
    ///
    /// # Examples
    ///
    /// ```rust
    /// use customer_directory::values::{EmailKey, EmailKeyPolicy};
    ///
    /// let key = EmailKey::parse("anna@Bücher.DE", EmailKeyPolicy::default())?;
    /// assert_eq!(key.domain(), "xn--bcher-kva.de");
    /// # Ok::<(), customer_directory::values::EmailError>(())
    /// ```
    pub fn domain(&self) -> &str {
        self.0.rsplit_once('@').map_or("", |(_, domain)| domain)
    }
}

impl Borrow<str> for EmailKey {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for EmailKey {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for EmailKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for EmailKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("EmailKey").field(&&*self.0).finish()
    }
}

impl Serialize for EmailKey {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for EmailKey {
    /// Accepts only text that is already a normalised key: parsing it with
    /// [`EmailKeyPolicy::ExactCase`] (which never changes a key of either
    /// policy) must give identical text.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        let key = Self::parse(&text, EmailKeyPolicy::ExactCase).map_err(D::Error::custom)?;
        if key.as_str() == text {
            Ok(key)
        } else {
            Err(D::Error::custom(format_args!(
                "{text:?} is not a normalised email key (expected {:?})",
                key.as_str()
            )))
        }
    }
}

impl StackBuf {
    /// Boxes a finished key: the one heap allocation of [`EmailKey::parse`].
    pub(super) fn to_key(&self) -> Result<EmailKey, EmailError> {
        match self.as_str() {
            Some(key) => Ok(EmailKey(Box::from(key))),
            None => Err(EmailError::AddressTooLong { octets: self.len }),
        }
    }
}

/// The general path of [`EmailKey::parse`]: every grammar, Unicode and error case.
fn slow_key(raw: &str, policy: EmailKeyPolicy) -> Result<EmailKey, EmailError> {
    let mut key = StackBuf::new();
    analyse(raw, policy, &mut key)?;
    key.to_key()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(raw: &str) -> String {
        match EmailKey::parse(raw, EmailKeyPolicy::CaseInsensitive) {
            Ok(k) => k.as_str().to_owned(),
            Err(e) => panic!("{raw:?} rejected: {e}"),
        }
    }

    fn err(raw: &str) -> EmailError {
        match EmailKey::parse(raw, EmailKeyPolicy::CaseInsensitive) {
            Ok(k) => panic!("{raw:?} accepted as {k:?}"),
            Err(e) => e,
        }
    }

    // The fast path is private, so its agreement with the general path is property-tested
    // here rather than in tests/.
    mod fast_path {
        use super::super::*;
        use proptest::prelude::*;

        const POLICIES: [EmailKeyPolicy; 2] =
            [EmailKeyPolicy::CaseInsensitive, EmailKeyPolicy::ExactCase];

        /// The fast path never disagrees with the general path: when it answers, the
        /// general path accepts the same input with the same key and `@` position.
        fn agree(raw: &str) -> Result<bool, TestCaseError> {
            let mut answered = false;
            for policy in POLICIES {
                let Some((fast, at)) = ascii_fast_key(raw.trim_ascii(), policy) else {
                    continue;
                };
                answered = true;
                let slow = slow_key(raw, policy);
                prop_assert_eq!(slow.as_ref().map(EmailKey::as_str), Ok(&*fast), "{:?}", raw);
                let mut buf = StackBuf::new();
                let analysed = analyse(raw, policy, &mut buf);
                prop_assert_eq!(analysed.map(|a| (a.text, a.at)), Ok((raw.trim(), at)));
            }
            Ok(answered)
        }

        #[test]
        fn common_addresses_take_the_fast_path() {
            for raw in [
                "anna@example.com",
                "  Anna.Berg+Spa@Example.CO.UK \n",
                "o'brien_1@mail.kayak-tours.co.nz",
                "x@a1.b2",
            ] {
                assert!(matches!(agree(raw), Ok(true)), "{raw:?}");
            }
            for raw in [
                "\"a\"@x.com",
                "a@xn--bcher-kva.de",
                "a@XN--bcher-kva.de",
                "jos\u{e9}@x.com",
                "\u{b}a@x.com",
                "a..b@x.com",
                "a@x",
                "a@x.123",
                "a@-x.com",
                "a@x-.com",
                "a@x..com",
                "a.@x.com",
                ".a@x.com",
                "@x.com",
                "a@",
                "a@x.com.",
                "a@@x.com",
            ] {
                assert!(matches!(agree(raw), Ok(false)), "{raw:?}");
            }
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(4096))]

            /// Arbitrary ASCII, dense in the characters that matter to the grammar.
            #[test]
            fn fast_and_general_paths_agree_on_ascii(
                raw in r#"[ \t\n\x0b\r aZz09.@+\-_\\"()<>\[\]!~xn]{0,80}"#
            ) {
                agree(&raw)?;
            }

            /// Address-shaped ASCII, so most cases take the fast path.
            #[test]
            fn fast_and_general_paths_agree_on_addresses(
                local in "[a-zA-Z0-9.!#$%&'*+/=?^_`{|}~-]{0,70}",
                labels in prop::collection::vec("[a-zA-Z0-9-]{0,66}|[xX][nN]--[a-z]{1,5}", 0..5),
                pad in "[ \t\n]{0,2}",
            ) {
                let raw = format!("{pad}{local}@{}{pad}", labels.join("."));
                agree(&raw)?;
            }

            /// Long labels and addresses around the limits.
            #[test]
            fn fast_and_general_paths_agree_at_the_limits(
                local_len in 55usize..70,
                label_len in 55usize..70,
                labels in 1usize..5,
            ) {
                let label = "b".repeat(label_len);
                let domain = vec![label; labels].join(".");
                let raw = format!("{}@{domain}.com", "A".repeat(local_len));
                agree(&raw)?;
            }

            /// Address-shaped ASCII whose special bytes fall at every offset of the
            /// eight-byte words the fast path reads: runs of dots, hyphens and `@`
            /// around word edges, and the fast path must answer whenever the general
            /// path accepts a plain ASCII address.
            #[test]
            fn fast_path_answers_exactly_for_plain_ascii_addresses(
                local in "[aZ9._+-]{0,20}",
                domain in "[aZ9.-]{0,26}",
                policy in prop::sample::select(POLICIES.to_vec()),
            ) {
                let raw = format!("{local}@{domain}");
                agree(&raw)?;
                prop_assert_eq!(
                    ascii_fast_key(raw.trim_ascii(), policy).is_some(),
                    should_answer(&raw, policy),
                    "{:?}", raw
                );
            }
        }

        /// Whether the fast path is expected to answer: the general path accepts, and the
        /// input is an ASCII dot-atom at a domain without A-labels.
        fn should_answer(raw: &str, policy: EmailKeyPolicy) -> bool {
            let text = raw.trim_ascii();
            let Some((_, domain)) = text.rsplit_once('@') else {
                return false;
            };
            text.is_ascii()
                && text == raw.trim()
                && !text.starts_with('"')
                && !domain.split('.').any(|label| {
                    label
                        .get(..4)
                        .is_some_and(|p| p.eq_ignore_ascii_case("xn--"))
                })
                && slow_key(raw, policy).is_ok()
        }

        /// Every length of local part and domain across the first three words, with a dot
        /// or hyphen at every position: the fast path answers exactly when it should.
        #[test]
        fn every_length_and_separator_position_around_the_word_size() {
            for local_len in 1..=26 {
                for domain_len in 3..=26 {
                    let base_local = "k".repeat(local_len);
                    let mut base_domain = "d".repeat(domain_len);
                    base_domain.replace_range(domain_len - 2..domain_len - 1, ".");
                    let mut cases = vec![format!("{base_local}@{base_domain}")];
                    for i in 0..local_len {
                        for byte in [".", "-", "@", "A", "\\"] {
                            let mut local = base_local.clone();
                            local.replace_range(i..=i, byte);
                            cases.push(format!("{local}@{base_domain}"));
                        }
                    }
                    for i in 0..domain_len {
                        for byte in [".", "-", "@", "_", "Q"] {
                            let mut domain = base_domain.clone();
                            domain.replace_range(i..=i, byte);
                            cases.push(format!("{base_local}@{domain}"));
                        }
                    }
                    for raw in &cases {
                        assert!(agree(raw).is_ok(), "{raw:?}");
                        for policy in POLICIES {
                            assert_eq!(
                                ascii_fast_key(raw.trim_ascii(), policy).is_some(),
                                should_answer(raw, policy),
                                "{raw:?}"
                            );
                        }
                    }
                }
            }
        }

        /// Every byte value (every code point up to U+00FF, and a few wider ones) at
        /// every position of addresses of one to three words.
        #[test]
        fn every_byte_value_at_every_position() {
            let wide = ['\u{100}', '\u{301}', '\u{200B}', '\u{FEFF}', '\u{1F600}'];
            for raw in [
                "ab@cd.ef",
                "abcdefg@h.ij",
                "abcdefgh@ijklmno.pq",
                "abcdefghijklmnop@qrstuvwx.yz",
                "a.b-c+d_e@f-g.h-i.jk",
            ] {
                for i in 0..raw.len() {
                    for c in (0..=0xffu32).filter_map(char::from_u32).chain(wide) {
                        let mut mutated = raw.to_owned();
                        mutated.replace_range(i..=i, c.encode_utf8(&mut [0; 4]));
                        assert!(agree(&mutated).is_ok(), "{mutated:?}");
                        for policy in POLICIES {
                            assert_eq!(
                                ascii_fast_key(mutated.trim_ascii(), policy).is_some(),
                                should_answer(&mutated, policy),
                                "{mutated:?}"
                            );
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn quoted_keys_keep_only_needed_escapes() {
        assert_eq!(key(r#""a\b"@x.com"#), "ab@x.com");
        assert_eq!(key(r#""a\ b"@x.com"#), r#""a b"@x.com"#);
        assert_eq!(key(r#""A\"B"@x.com"#), r#""a\"b"@x.com"#);
        assert_eq!(key(r#""a\\b"@x.com"#), r#""a\\b"@x.com"#);
        assert_eq!(key(r#"".a"@x.com"#), r#"".a"@x.com"#);
        assert_eq!(key(r#""a@b"@x.com"#), r#""a@b"@x.com"#);
    }

    #[test]
    fn normalisation_can_turn_a_dot_atom_into_a_quoted_key() {
        // U+037E GREEK QUESTION MARK is canonically equivalent to ';'.
        assert_eq!(key("a\u{37E}b@x.com"), r#""a;b"@x.com"#);
        assert_eq!(key(r#""a;b"@x.com"#), r#""a;b"@x.com"#);
    }

    #[test]
    fn lower_casing_that_expands_is_renormalised() {
        // U+0130 lower-cases to "i" + U+0307.
        assert_eq!(key("\u{130}@x.com"), "i\u{307}@x.com");
        // Kelvin and Ohm signs normalise to letters first.
        assert_eq!(key("\u{212A}\u{2126}@x.com"), "k\u{3C9}@x.com");
        // Found by proptest: without the second NFC this key is not a fixed
        // point (lower-casing U+1FBC changes how the marks compose).
        let k = key("\u{1FBC}\u{301}@x.com");
        assert_eq!(key(&k), k);
    }

    #[test]
    fn punycode_and_unicode_domains_meet() {
        assert_eq!(key("a@xn--bcher-kva.de"), "a@xn--bcher-kva.de");
        assert_eq!(key("a@XN--BCHER-KVA.DE"), "a@xn--bcher-kva.de");
        assert_eq!(key("a@BÜCHER.de"), "a@xn--bcher-kva.de");
        // Ideographic full stop is a label separator under UTS 46.
        assert_eq!(key("a@bücher\u{3002}de"), "a@xn--bcher-kva.de");
        assert_eq!(err("a@bücher\u{3002}"), EmailError::DomainTrailingDot);
    }

    #[test]
    fn invalid_punycode_is_reported() {
        match err("a@xn--a.com") {
            EmailError::InvalidDomain { reason } => assert!(reason.contains("xn--a"), "{reason}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn unicode_label_hyphens_are_checked_before_punycode() {
        assert_eq!(
            err("a@-bü.de"),
            EmailError::LabelHyphen {
                label: "-bü".into()
            }
        );
    }
}
