//! Customer passwords: policy checks, argon2id hashing and reset tokens.
//!
//! This module gathers everything the directory needs to protect customer
//! accounts with a password:
//!
//! * [`PasswordPolicy`] checks a new password and reports **every** rule it
//!   breaks at once ([`PasswordViolations`]), so a sign-up form can show all
//!   problems in one round trip. Three presets exist: the product's
//!   documented [`seed_rule`](PasswordPolicy::seed_rule), the
//!   [`recommended`](PasswordPolicy::recommended) default (seed rule plus a
//!   zxcvbn guessability floor) and [`nist_800_63b`](PasswordPolicy::nist_800_63b)
//!   (length and guessability only, after NIST SP 800-63B).
//! * [`PasswordHashing`] hashes with argon2id into PHC strings using the
//!   parameters of the OWASP Password Storage Cheat Sheet (m = 19456 KiB,
//!   t = 2, p = 1), verifies, tells when a stored hash should be upgraded
//!   ([`Verification::ValidNeedsRehash`]), refuses stored parameters that
//!   would be too expensive to evaluate, and offers
//!   [`verify_dummy`](PasswordHashing::verify_dummy) for unknown accounts.
//! * [`ResetToken`] / [`ResetTokenHash`] implement password-reset links: a
//!   256-bit secret mailed to the customer, of which only the SHA-256 digest
//!   is stored. [`VerificationToken`] is the same for email-verification
//!   links, as a type of its own so the two links cannot be mixed up.
//!
//! Secrets never leak through `Debug` or `Display`: [`Password`],
//! [`PasswordHash`], [`ResetToken`], [`VerificationToken`] and
//! [`ResetTokenHash`] all print a redacted placeholder.
//!
//! # Unicode
//!
//! Passwords are normalised to Unicode NFKC before they are measured, checked
//! and hashed, as NIST SP 800-63B recommends ("the verifier SHOULD apply the
//! Normalization Process for Stabilization of Strings using either the NFKC or
//! NFKD normalization"). The same password typed on two systems that produce
//! different code point sequences (for example a precomposed `ä` versus `a`
//! followed by a combining diaeresis) therefore has the same length and the
//! same hash. ASCII is unchanged by NFKC. Length is the number of Unicode
//! scalar values of the normalised password (`chars().count()`); passwords are
//! never truncated.

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;
use std::sync::OnceLock;

use argon2::password_hash::{self, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use unicode_normalization::UnicodeNormalization;

// ---------------------------------------------------------------------------
// Secrets
// ---------------------------------------------------------------------------

/// A plaintext password whose `Debug` and `Display` output is redacted.
///
/// Use it to carry a password through request structs and logs safely; read
/// the text with [`expose`](Password::expose) only where it is checked or
/// hashed. The buffer is overwritten with zeros when the value is dropped
/// (best effort: copies made elsewhere, for example by a reallocation before
/// the value was built, are not reached).
///
/// # Examples
///
/// ```
/// use customer_directory::Password;
///
/// let password = Password::new("correct horse battery staple");
/// assert_eq!(format!("{password:?}"), "Password(***)");
/// assert_eq!(password.expose(), "correct horse battery staple");
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

impl Password {
    /// Wraps a plaintext password.
    ///
    /// # Examples
    ///
    /// ```
    /// use customer_directory::Password;
    ///
    /// let password = Password::new(String::from("hunter2-Hunter2"));
    /// assert_eq!(password.expose().len(), 15);
    /// ```
    pub fn new(password: impl Into<String>) -> Self {
        Self(password.into())
    }

    /// Returns the plaintext. Keep the result out of logs.
    ///
    /// # Examples
    ///
    /// ```
    /// use customer_directory::values::{PasswordContext, PasswordPolicy};
    /// use customer_directory::Password;
    ///
    /// let password = Password::new("Tr0ub4dor&3x");
    /// let policy = PasswordPolicy::seed_rule();
    /// assert!(policy.check(password.expose(), &PasswordContext::default()).is_ok());
    /// ```
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl From<String> for Password {
    fn from(password: String) -> Self {
        Self(password)
    }
}

impl From<&str> for Password {
    fn from(password: &str) -> Self {
        Self(password.to_owned())
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(***)")
    }
}

impl fmt::Display for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl Drop for Password {
    fn drop(&mut self) {
        // Zeroes the whole buffer, spare capacity included, in a way the optimiser keeps.
        zeroize::Zeroize::zeroize(&mut self.0);
    }
}

/// Normalises a password to NFKC, borrowing when it already is (always the
/// case for ASCII).
fn normalize(password: &str) -> Cow<'_, str> {
    if unicode_normalization::is_nfkc(password) {
        Cow::Borrowed(password)
    } else {
        Cow::Owned(password.nfkc().collect())
    }
}

// ---------------------------------------------------------------------------
// Policy
// ---------------------------------------------------------------------------

/// Characters scored by zxcvbn. zxcvbn's matching is super-linear in the
/// password length, and explodes on input dense in "l33t" characters
/// (`4@8({[<369!|170$5+2%`): measured in release builds, the worst 64-character
/// inputs took over 300 ms, 32 characters up to 50 ms, 24 characters about
/// 15 ms. So only this prefix of the (normalised) password is scored. A
/// longer password is judged by its first characters; since adding characters
/// never makes a password easier to guess, the score of the prefix is a
/// conservative lower bound (a password that starts with 24 guessable
/// characters is refused whatever follows).
const GUESSABILITY_PREFIX_CHARS: usize = 24;

/// The characters zxcvbn's "l33t" matcher substitutes for letters. Its work grows
/// exponentially with how many *different* ones a password holds (it enumerates the
/// substitution tables they allow: measured, 8 different ones in 24 characters take about
/// 0.4 ms, 12 about 2 ms, 20 about 30 ms), so the scored prefix also stops before the
/// seventh different one. That keeps the worst input within a small factor of a trivial
/// password (see `benches/password_check.rs`) and stays conservative for the same reason as
/// the length cut: a prefix is never stronger than the whole. Ordinary passwords, which
/// repeat a few digits and symbols, are still scored on all 24 characters.
const L33T_CHARACTERS: &[char] = &[
    '4', '@', '8', '(', '{', '[', '<', '3', '6', '9', '1', '!', '|', '7', '0', '$', '5', '+', '2',
    '%',
];

/// At most this many different [`L33T_CHARACTERS`] in the scored prefix.
const MAX_SCORED_L33T: usize = 6;

/// The part of `password` zxcvbn scores: at most [`GUESSABILITY_PREFIX_CHARS`] characters
/// holding at most [`MAX_SCORED_L33T`] different substitutable ones.
fn scored_prefix(password: &str) -> String {
    let mut seen: Vec<char> = Vec::with_capacity(MAX_SCORED_L33T + 1);
    password
        .chars()
        .take_while(|c| {
            if L33T_CHARACTERS.contains(c) && !seen.contains(c) {
                seen.push(*c);
            }
            seen.len() <= MAX_SCORED_L33T
        })
        .take(GUESSABILITY_PREFIX_CHARS)
        .collect()
}

/// Context words handed to zxcvbn are limited to this many...
const MAX_CONTEXT_INPUTS: usize = 32;
/// ...each shortened to this many characters.
const MAX_CONTEXT_INPUT_CHARS: usize = 64;

/// NFKC composition turns at most four code points into one, so an input
/// with more than `4 * max_length` scalar values is too long whatever its
/// normalised form; it is then judged without normalising it (see
/// [`PasswordPolicy::violations`]). Eight leaves a margin.
const NORMALIZATION_SHRINK_BOUND: usize = 8;

/// One of the four character classes of the composition rule.
///
/// Classification is by Unicode property, applied to the NFKC-normalised
/// password:
///
/// * [`Lowercase`](CharacterClass::Lowercase): [`char::is_lowercase`]
///   (`a`, `ä`, `ß`, `ж`, ...);
/// * [`Uppercase`](CharacterClass::Uppercase): [`char::is_uppercase`]
///   (`A`, `Ä`, `Ж`, ...);
/// * [`Digit`](CharacterClass::Digit): [`char::is_numeric`] (`0`–`9` and
///   the digits of other scripts such as `٣`);
/// * [`Special`](CharacterClass::Special): anything that is neither
///   alphabetic ([`char::is_alphabetic`]), nor numeric, nor white space
///   (`!`, `@`, `€`, emoji, ...).
///
/// Letters that have no case (for example CJK ideographs) are letters but
/// neither lower nor upper case, so they count towards no class. White space
/// counts towards no class either.
///
/// # Examples
///
/// ```
/// use customer_directory::values::CharacterClass;
///
/// assert_eq!(CharacterClass::of('ä'), Some(CharacterClass::Lowercase));
/// assert_eq!(CharacterClass::of('Q'), Some(CharacterClass::Uppercase));
/// assert_eq!(CharacterClass::of('7'), Some(CharacterClass::Digit));
/// assert_eq!(CharacterClass::of('#'), Some(CharacterClass::Special));
/// assert_eq!(CharacterClass::of(' '), None);
/// assert_eq!(CharacterClass::of('漢'), None);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CharacterClass {
    /// Lower-case letters.
    Lowercase,
    /// Upper-case letters.
    Uppercase,
    /// Digits (any Unicode numeric character).
    Digit,
    /// Anything that is not a letter, a digit or white space.
    Special,
}

impl CharacterClass {
    /// The four classes, in the order they are reported.
    ///
    /// # Examples
    ///
    /// ```
    /// use customer_directory::values::CharacterClass;
    ///
    /// assert_eq!(CharacterClass::ALL.len(), 4);
    /// assert_eq!(CharacterClass::ALL[0], CharacterClass::Lowercase);
    /// ```
    pub const ALL: [CharacterClass; 4] = [
        CharacterClass::Lowercase,
        CharacterClass::Uppercase,
        CharacterClass::Digit,
        CharacterClass::Special,
    ];

    /// The class of one character, or `None` for white space and for letters
    /// without case.
    ///
    /// # Examples
    ///
    /// ```
    /// use customer_directory::values::CharacterClass;
    ///
    /// assert_eq!(CharacterClass::of('٣'), Some(CharacterClass::Digit));
    /// assert_eq!(CharacterClass::of('\t'), None);
    /// ```
    pub fn of(c: char) -> Option<CharacterClass> {
        if c.is_whitespace() {
            None
        } else if c.is_lowercase() {
            Some(CharacterClass::Lowercase)
        } else if c.is_uppercase() {
            Some(CharacterClass::Uppercase)
        } else if c.is_numeric() {
            Some(CharacterClass::Digit)
        } else if c.is_alphabetic() {
            None
        } else {
            Some(CharacterClass::Special)
        }
    }

    fn index(self) -> usize {
        match self {
            CharacterClass::Lowercase => 0,
            CharacterClass::Uppercase => 1,
            CharacterClass::Digit => 2,
            CharacterClass::Special => 3,
        }
    }
}

impl fmt::Display for CharacterClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CharacterClass::Lowercase => "lower-case letter",
            CharacterClass::Uppercase => "upper-case letter",
            CharacterClass::Digit => "digit",
            CharacterClass::Special => "special character",
        })
    }
}

/// One rule a password breaks.
///
/// Every variant has a human-readable message (`Display`).
///
/// # Examples
///
/// ```
/// use customer_directory::values::PasswordViolation;
///
/// let violation = PasswordViolation::TooShort { length: 5, min: 8 };
/// assert_eq!(
///     violation.to_string(),
///     "password is too short: 5 characters, at least 8 required"
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PasswordViolation {
    /// Fewer characters (Unicode scalar values after NFKC) than the minimum.
    #[error("password is too short: {length} characters, at least {min} required")]
    TooShort {
        /// Characters in the password.
        length: usize,
        /// The policy's minimum.
        min: usize,
    },
    /// More characters than the maximum. Passwords are never truncated.
    #[error("password is too long: {length} characters, at most {max} allowed")]
    TooLong {
        /// Characters in the password.
        length: usize,
        /// The policy's maximum.
        max: usize,
    },
    /// The password contains white space (spaces, tabs, line breaks, ...).
    #[error("password must not contain spaces or other white space")]
    ContainsWhitespace,
    /// Not enough of the four character classes are used.
    #[error(
        "password must use at least {required} of the 4 character kinds (lower-case letters, \
         upper-case letters, digits, special characters) but uses {found}; could add: {}",
        list_classes(.missing)
    )]
    TooFewCharacterClasses {
        /// Classes the password uses.
        found: usize,
        /// Classes the policy requires.
        required: usize,
        /// The classes the password lacks, in [`CharacterClass::ALL`] order.
        missing: Vec<CharacterClass>,
    },
    /// zxcvbn estimates the password too easy to guess.
    #[error("{}", describe_guessable(*.score, *.required, .warning.as_deref(), .suggestions))]
    TooGuessable {
        /// zxcvbn's score, 0 (trivial) to 4 (very strong).
        score: u8,
        /// The policy's minimum score.
        required: u8,
        /// zxcvbn's explanation, e.g. "This is a top-10 common password.".
        warning: Option<String>,
        /// zxcvbn's suggestions, e.g. "Add another word or two.".
        suggestions: Vec<String>,
    },
}

fn list_classes(classes: &[CharacterClass]) -> String {
    let names: Vec<String> = classes.iter().map(ToString::to_string).collect();
    names.join(", ")
}

fn describe_guessable(
    score: u8,
    required: u8,
    warning: Option<&str>,
    suggestions: &[String],
) -> String {
    let mut text = format!(
        "password is too easy to guess (strength {score} of 4, at least {required} required)"
    );
    if let Some(warning) = warning {
        text.push_str(": ");
        text.push_str(warning);
    }
    for suggestion in suggestions {
        text.push(' ');
        text.push_str(suggestion);
    }
    text
}

/// Every violation found by [`PasswordPolicy::check`]; never empty.
///
/// # Examples
///
/// ```
/// use customer_directory::values::{PasswordContext, PasswordPolicy, PasswordViolation};
///
/// let error = PasswordPolicy::seed_rule()
///     .check("a b", &PasswordContext::default())
///     .unwrap_err();
/// assert_eq!(error.len(), 3);
/// assert!(error.contains(&PasswordViolation::ContainsWhitespace));
/// for violation in &error {
///     println!("{violation}");
/// }
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("password does not meet the policy: {}", join_violations(.violations))]
pub struct PasswordViolations {
    violations: Vec<PasswordViolation>,
}

fn join_violations(violations: &[PasswordViolation]) -> String {
    let messages: Vec<String> = violations.iter().map(ToString::to_string).collect();
    messages.join("; ")
}

impl PasswordViolations {
    /// The violations, in the order the rules are checked (length, white
    /// space, character classes, guessability).
    ///
    /// # Examples
    ///
    /// ```
    /// use customer_directory::values::{PasswordContext, PasswordPolicy, PasswordViolation};
    ///
    /// let error = PasswordPolicy::seed_rule()
    ///     .check("Ab1!", &PasswordContext::default())
    ///     .unwrap_err();
    /// assert_eq!(error.as_slice(), &[PasswordViolation::TooShort { length: 4, min: 8 }]);
    /// ```
    pub fn as_slice(&self) -> &[PasswordViolation] {
        &self.violations
    }

    /// Iterates over the violations.
    ///
    /// # Examples
    ///
    /// ```
    /// use customer_directory::values::{PasswordContext, PasswordPolicy};
    ///
    /// let error = PasswordPolicy::seed_rule()
    ///     .check("", &PasswordContext::default())
    ///     .unwrap_err();
    /// assert!(error.iter().all(|v| !v.to_string().is_empty()));
    /// ```
    pub fn iter(&self) -> std::slice::Iter<'_, PasswordViolation> {
        self.violations.iter()
    }

    /// Number of violations (at least one).
    ///
    /// # Examples
    ///
    /// ```
    /// use customer_directory::values::{PasswordContext, PasswordPolicy};
    ///
    /// let error = PasswordPolicy::seed_rule()
    ///     .check("short", &PasswordContext::default())
    ///     .unwrap_err();
    /// assert_eq!(error.len(), 2); // too short, too few character kinds
    /// ```
    pub fn len(&self) -> usize {
        self.violations.len()
    }

    /// Always `false`: a check with no violation returns `Ok`. Provided for
    /// API symmetry with [`len`](Self::len).
    ///
    /// # Examples
    ///
    /// ```
    /// use customer_directory::values::{PasswordContext, PasswordPolicy};
    ///
    /// let error = PasswordPolicy::seed_rule()
    ///     .check("x", &PasswordContext::default())
    ///     .unwrap_err();
    /// assert!(!error.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.violations.is_empty()
    }

    /// Whether the given violation is among those reported.
    ///
    /// # Examples
    ///
    /// ```
    /// use customer_directory::values::{PasswordContext, PasswordPolicy, PasswordViolation};
    ///
    /// let error = PasswordPolicy::seed_rule()
    ///     .check("Abcdef1 x", &PasswordContext::default())
    ///     .unwrap_err();
    /// assert!(error.contains(&PasswordViolation::ContainsWhitespace));
    /// ```
    pub fn contains(&self, violation: &PasswordViolation) -> bool {
        self.violations.contains(violation)
    }

    /// Takes the violations out.
    ///
    /// # Examples
    ///
    /// ```
    /// use customer_directory::values::{PasswordContext, PasswordPolicy};
    ///
    /// let error = PasswordPolicy::seed_rule()
    ///     .check("x", &PasswordContext::default())
    ///     .unwrap_err();
    /// let list = error.into_vec();
    /// assert!(!list.is_empty());
    /// ```
    pub fn into_vec(self) -> Vec<PasswordViolation> {
        self.violations
    }
}

impl IntoIterator for PasswordViolations {
    type Item = PasswordViolation;
    type IntoIter = std::vec::IntoIter<PasswordViolation>;

    fn into_iter(self) -> Self::IntoIter {
        self.violations.into_iter()
    }
}

impl<'a> IntoIterator for &'a PasswordViolations {
    type Item = &'a PasswordViolation;
    type IntoIter = std::slice::Iter<'a, PasswordViolation>;

    fn into_iter(self) -> Self::IntoIter {
        self.violations.iter()
    }
}

/// Words a password should not be built from: the customer's own name, email
/// address, the business name, and so on.
///
/// They are given to zxcvbn as a personal dictionary, so a password such as
/// `AnaSilva!2024` scores low for the customer Ana Silva. Each word is also
/// split at characters that are not letters or digits (`ana@example.com`
/// adds `ana`, `example` and `com`). zxcvbn judges a password made of such
/// words by how many guesses it would take someone who knows them, so not
/// every combination fails (`SilvaAna!` still scores 2). Only the
/// guessability rule uses them; at
/// most 32 words of at most 64 characters each are considered.
///
/// # Examples
///
/// ```
/// use customer_directory::values::{PasswordContext, PasswordPolicy};
///
/// let context = PasswordContext { user_inputs: &["Ana", "Silva", "ana@example.com"] };
/// let policy = PasswordPolicy::default();
/// assert!(policy.check("Ana@example.com", &PasswordContext::default()).is_ok());
/// assert!(policy.check("Ana@example.com", &context).is_err());
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PasswordContext<'a> {
    /// The context words, most personal first.
    pub user_inputs: &'a [&'a str],
}

impl<'a> PasswordContext<'a> {
    /// A context with the given words.
    ///
    /// # Examples
    ///
    /// ```
    /// use customer_directory::values::PasswordContext;
    ///
    /// let context = PasswordContext::new(&["Ana", "Silva"]);
    /// assert_eq!(context.user_inputs.len(), 2);
    /// ```
    pub fn new(user_inputs: &'a [&'a str]) -> Self {
        Self { user_inputs }
    }

    /// Expands the inputs for zxcvbn: each NFKC-normalised word, then its
    /// alphanumeric parts of three characters or more.
    fn expanded(&self) -> Vec<String> {
        let mut words: Vec<String> = Vec::new();
        for input in self.user_inputs.iter().take(MAX_CONTEXT_INPUTS) {
            let bounded: String = input.chars().take(MAX_CONTEXT_INPUT_CHARS).collect();
            let word: String = normalize(&bounded).into_owned();
            if word.is_empty() {
                continue;
            }
            let parts: Vec<String> = word
                .split(|c: char| !c.is_alphanumeric())
                .filter(|part| part.chars().count() >= 3 && part.len() < word.len())
                .map(str::to_owned)
                .collect();
            words.push(word);
            words.extend(parts);
        }
        words
    }
}

/// A password policy: length bounds, white space, character classes and a
/// guessability floor. [`check`](Self::check) reports every violation.
///
/// The fields are public so a preset can be adjusted:
///
/// ```
/// use customer_directory::values::{PasswordContext, PasswordPolicy};
///
/// let mut policy = PasswordPolicy::nist_800_63b();
/// policy.min_length = 12;
/// assert!(policy.check("eleven char", &PasswordContext::default()).is_err());
/// ```
///
/// Rules run in this order: length, white space, character classes,
/// guessability. zxcvbn (guessability) runs last, only when the password is
/// not over the maximum length, and only on its first 24 characters (fewer
/// when they are dense in "l33t" symbols), which bounds the time of a check
/// whatever the input (see the module docs).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub struct PasswordPolicy {
    /// Minimum length in Unicode scalar values (after NFKC).
    pub min_length: usize,
    /// Maximum length in Unicode scalar values (after NFKC). Longer passwords
    /// are refused, never truncated.
    pub max_length: usize,
    /// How many of the four [`CharacterClass`]es must appear; `0` disables
    /// the composition rule, values above 4 act as 4.
    pub min_character_classes: usize,
    /// Whether white space (as [`char::is_whitespace`]) is allowed.
    pub allow_whitespace: bool,
    /// Minimum zxcvbn score (0–4), or `None` for no guessability rule.
    pub min_guessability_score: Option<u8>,
}

impl Default for PasswordPolicy {
    /// The [`recommended`](PasswordPolicy::recommended) policy.
    fn default() -> Self {
        Self::recommended()
    }
}

impl PasswordPolicy {
    /// The rule documented by the product: 8 to 128 characters, at least 3 of
    /// the 4 character classes (lower case, upper case, digit, special), no
    /// white space. No guessability check.
    ///
    /// # Examples
    ///
    /// ```
    /// use customer_directory::values::{PasswordContext, PasswordPolicy};
    ///
    /// let policy = PasswordPolicy::seed_rule();
    /// assert!(policy.check("Password1", &PasswordContext::default()).is_ok());
    /// assert!(policy.check("password1", &PasswordContext::default()).is_err());
    /// ```
    pub fn seed_rule() -> Self {
        Self {
            min_length: 8,
            max_length: 128,
            min_character_classes: 3,
            allow_whitespace: false,
            min_guessability_score: None,
        }
    }

    /// The default: the [seed rule](Self::seed_rule) plus a guessability
    /// floor of zxcvbn score 2 (an estimated 10^6 guesses or more), with the
    /// customer's own details as context words.
    ///
    /// # Examples
    ///
    /// ```
    /// use customer_directory::values::{PasswordContext, PasswordPolicy, PasswordViolation};
    ///
    /// let policy = PasswordPolicy::recommended();
    /// let error = policy.check("Password1!", &PasswordContext::default()).unwrap_err();
    /// assert!(matches!(error.as_slice(), [PasswordViolation::TooGuessable { .. }]));
    /// assert!(policy.check("Plum-Tractor-Velvet-9", &PasswordContext::default()).is_ok());
    /// ```
    pub fn recommended() -> Self {
        Self {
            min_guessability_score: Some(2),
            ..Self::seed_rule()
        }
    }

    /// After NIST SP 800-63B (section 3.1.1.2 of revision 4, 5.1.1.2 of
    /// revision 3) for passwords used with a second factor: at least 8
    /// characters, at most 256 (NIST asks for at least 64 to be allowed),
    /// white space and all Unicode allowed, **no** composition rules, and a
    /// guessability floor of zxcvbn score 2 with context words, which stands
    /// in for NIST's check against "commonly-used, expected, or compromised"
    /// values (dictionary words, repetitive or sequential characters,
    /// context-specific words such as the customer's name).
    ///
    /// # Examples
    ///
    /// ```
    /// use customer_directory::values::{PasswordContext, PasswordPolicy};
    ///
    /// let policy = PasswordPolicy::nist_800_63b();
    /// assert!(policy.check("plum tractor velvet", &PasswordContext::default()).is_ok());
    /// assert!(policy.check("password", &PasswordContext::default()).is_err());
    /// ```
    pub fn nist_800_63b() -> Self {
        Self {
            min_length: 8,
            max_length: 256,
            min_character_classes: 0,
            allow_whitespace: true,
            min_guessability_score: Some(2),
        }
    }

    /// [`nist_800_63b`](Self::nist_800_63b) for passwords that are the only
    /// authentication factor: NIST SP 800-63B revision 4 requires at least 15
    /// characters.
    ///
    /// # Examples
    ///
    /// ```
    /// use customer_directory::values::{PasswordContext, PasswordPolicy};
    ///
    /// let policy = PasswordPolicy::nist_800_63b_single_factor();
    /// assert_eq!(policy.min_length, 15);
    /// assert!(policy.check("plum tractor 9", &PasswordContext::default()).is_err());
    /// assert!(policy.check("plum tractor 91", &PasswordContext::default()).is_ok());
    /// ```
    pub fn nist_800_63b_single_factor() -> Self {
        Self {
            min_length: 15,
            ..Self::nist_800_63b()
        }
    }

    /// Checks a password and returns every violation, or `Ok(())`.
    ///
    /// Never panics, whatever the input; the time taken is bounded (the
    /// expensive zxcvbn estimate sees at most 24 characters, fewer when they
    /// are dense in "l33t" symbols, and is skipped for over-long input).
    ///
    /// # Examples
    ///
    /// ```
    /// use customer_directory::values::{CharacterClass, PasswordContext, PasswordPolicy, PasswordViolation};
    ///
    /// let error = PasswordPolicy::seed_rule()
    ///     .check("a b", &PasswordContext::default())
    ///     .unwrap_err();
    /// assert_eq!(
    ///     error.as_slice(),
    ///     &[
    ///         PasswordViolation::TooShort { length: 3, min: 8 },
    ///         PasswordViolation::ContainsWhitespace,
    ///         PasswordViolation::TooFewCharacterClasses {
    ///             found: 1,
    ///             required: 3,
    ///             missing: vec![
    ///                 CharacterClass::Uppercase,
    ///                 CharacterClass::Digit,
    ///                 CharacterClass::Special,
    ///             ],
    ///         },
    ///     ]
    /// );
    /// ```
    pub fn check(
        &self,
        password: &str,
        context: &PasswordContext<'_>,
    ) -> Result<(), PasswordViolations> {
        let violations = self.violations(password, context);
        if violations.is_empty() {
            Ok(())
        } else {
            Err(PasswordViolations { violations })
        }
    }

    /// The list of violations (empty when the password is acceptable); the
    /// same as [`check`](Self::check) without the `Result`.
    ///
    /// An input that is too long even allowing for NFKC composition (more
    /// than 8 × `max_length` scalar values) is judged on its raw form, without
    /// normalising it, and the reported length is its raw scalar count.
    ///
    /// # Examples
    ///
    /// ```
    /// use customer_directory::values::{PasswordContext, PasswordPolicy};
    ///
    /// let policy = PasswordPolicy::seed_rule();
    /// assert!(policy.violations("Pässwörd1", &PasswordContext::default()).is_empty());
    /// assert_eq!(policy.violations("pässwörd", &PasswordContext::default()).len(), 1);
    /// ```
    pub fn violations(
        &self,
        password: &str,
        context: &PasswordContext<'_>,
    ) -> Vec<PasswordViolation> {
        let mut violations = Vec::new();
        let raw_length = password.chars().count();
        let grossly_too_long =
            raw_length > self.max_length.saturating_mul(NORMALIZATION_SHRINK_BOUND);
        let text: Cow<'_, str> = if grossly_too_long {
            Cow::Borrowed(password)
        } else {
            normalize(password)
        };
        let length = if grossly_too_long {
            raw_length
        } else {
            text.chars().count()
        };

        if length < self.min_length {
            violations.push(PasswordViolation::TooShort {
                length,
                min: self.min_length,
            });
        }
        let too_long = length > self.max_length;
        if too_long {
            violations.push(PasswordViolation::TooLong {
                length,
                max: self.max_length,
            });
        }

        let mut has_whitespace = false;
        let mut present = [false; 4];
        for c in text.chars() {
            if c.is_whitespace() {
                has_whitespace = true;
            } else if let Some(class) = CharacterClass::of(c) {
                present[class.index()] = true;
            }
        }
        if has_whitespace && !self.allow_whitespace {
            violations.push(PasswordViolation::ContainsWhitespace);
        }

        let required = self.min_character_classes.min(CharacterClass::ALL.len());
        let found = present.iter().filter(|&&p| p).count();
        if found < required {
            let missing = CharacterClass::ALL
                .into_iter()
                .filter(|class| !present[class.index()])
                .collect();
            violations.push(PasswordViolation::TooFewCharacterClasses {
                found,
                required,
                missing,
            });
        }

        if let Some(required) = self.min_guessability_score {
            if !too_long {
                if let Some(violation) = guessability(&text, context, required) {
                    violations.push(violation);
                }
            }
        }
        violations
    }
}

/// Runs zxcvbn on the bounded prefix; `Some` when the score is below
/// `required`.
fn guessability(
    password: &str,
    context: &PasswordContext<'_>,
    required: u8,
) -> Option<PasswordViolation> {
    let prefix = scored_prefix(password);
    let words = context.expanded();
    let inputs: Vec<&str> = words.iter().map(String::as_str).collect();
    let entropy = zxcvbn::zxcvbn(&prefix, &inputs);
    let score = u8::from(entropy.score());
    if score >= required {
        return None;
    }
    let (warning, suggestions) = match entropy.feedback() {
        Some(feedback) => (
            feedback.warning().map(|w| w.to_string()),
            feedback
                .suggestions()
                .iter()
                .map(ToString::to_string)
                .collect(),
        ),
        None => (None, Vec::new()),
    };
    Some(PasswordViolation::TooGuessable {
        score,
        required,
        warning,
        suggestions,
    })
}

// ---------------------------------------------------------------------------
// Hashing
// ---------------------------------------------------------------------------

/// Longest password, in UTF-8 bytes before normalisation, that
/// [`PasswordHashing`] hashes. Far above any policy maximum; it only stops
/// absurd inputs from being normalised and fed to argon2.
pub const MAX_PASSWORD_BYTES: usize = crate::limits::PASSWORD_MAX_BYTES;

/// Longest PHC string [`PasswordHash::from_phc`] accepts.
const MAX_PHC_LEN: usize = 512;

/// Salt length in bytes (OWASP and RFC 9106 recommend 16).
const SALT_LEN: usize = 16;

/// Output (tag) length in bytes.
const OUTPUT_LEN: usize = 32;

/// Which argon2 cost parameter an error is about.
///
/// # Examples
///
/// ```
/// use customer_directory::values::HashParameter;
///
/// assert_eq!(HashParameter::Memory.to_string(), "memory (m, KiB)");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HashParameter {
    /// Memory cost `m`, in KiB.
    Memory,
    /// Iterations (time cost) `t`.
    Iterations,
    /// Parallelism (lanes) `p`.
    Parallelism,
}

impl fmt::Display for HashParameter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            HashParameter::Memory => "memory (m, KiB)",
            HashParameter::Iterations => "iterations (t)",
            HashParameter::Parallelism => "parallelism (p)",
        })
    }
}

/// Errors of [`PasswordHashing`] and [`PasswordHash`]. Their messages never
/// contain a password or a hash.
///
/// # Examples
///
/// ```
/// use customer_directory::values::{HashError, PasswordHash};
///
/// let error = PasswordHash::from_phc("not a hash").unwrap_err();
/// assert!(matches!(error, HashError::Malformed { .. }));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HashError {
    /// The stored string is not a well-formed argon2 PHC string.
    #[error("malformed password hash: {reason}")]
    Malformed {
        /// What is wrong with it.
        reason: String,
    },
    /// The PHC string names an algorithm other than argon2id, argon2i or
    /// argon2d.
    #[error("unsupported password hash algorithm `{algorithm}`")]
    UnsupportedAlgorithm {
        /// The algorithm identifier found.
        algorithm: String,
    },
    /// A stored hash asks for more work than the [`HashLimits`] allow; it was
    /// refused without running argon2.
    #[error("password hash {parameter} is {value}, above the limit of {limit}")]
    ParametersExceedLimits {
        /// The parameter over its limit.
        parameter: HashParameter,
        /// Its value in the stored hash (or the configuration).
        value: u32,
        /// The limit.
        limit: u32,
    },
    /// Parameters that argon2 does not accept.
    #[error("invalid argon2 parameters: {reason}")]
    InvalidParameters {
        /// argon2's explanation.
        reason: String,
    },
    /// The password is longer than [`MAX_PASSWORD_BYTES`].
    #[error("password is too long to hash: {length} bytes, at most {max}")]
    PasswordTooLong {
        /// Its length in bytes.
        length: usize,
        /// The maximum.
        max: usize,
    },
    /// The operating system's random number generator failed.
    #[error("the operating system random number generator failed")]
    Random,
    /// argon2 itself failed (not expected with validated parameters).
    #[error("argon2 failed: {reason}")]
    Argon2 {
        /// argon2's explanation.
        reason: String,
    },
}

fn malformed(error: impl fmt::Display) -> HashError {
    HashError::Malformed {
        reason: error.to_string(),
    }
}

/// Argon2 cost parameters.
///
/// # Examples
///
/// ```
/// use customer_directory::values::HashParams;
///
/// let owasp = HashParams::OWASP;
/// assert_eq!((owasp.memory_kib(), owasp.iterations(), owasp.parallelism()), (19456, 2, 1));
/// let lighter = HashParams::new(8192, 1, 1)?;
/// assert_eq!(lighter.memory_kib(), 8192);
/// # Ok::<(), customer_directory::values::HashError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct HashParams {
    memory_kib: u32,
    iterations: u32,
    parallelism: u32,
}

impl HashParams {
    /// The OWASP Password Storage Cheat Sheet's argon2id configuration:
    /// m = 19456 KiB (19 MiB), t = 2, p = 1.
    ///
    /// # Examples
    ///
    /// ```
    /// use customer_directory::values::HashParams;
    ///
    /// assert_eq!(HashParams::OWASP, HashParams::default());
    /// ```
    pub const OWASP: HashParams = HashParams {
        memory_kib: 19456,
        iterations: 2,
        parallelism: 1,
    };

    /// Validated parameters: argon2 requires `iterations >= 1`,
    /// `1 <= parallelism < 2^24` and `memory_kib >= 8 * parallelism`.
    ///
    /// # Examples
    ///
    /// ```
    /// use customer_directory::values::{HashError, HashParams};
    ///
    /// assert!(HashParams::new(65536, 3, 4).is_ok());
    /// assert!(matches!(HashParams::new(4, 1, 1), Err(HashError::InvalidParameters { .. })));
    /// ```
    pub fn new(memory_kib: u32, iterations: u32, parallelism: u32) -> Result<Self, HashError> {
        Params::new(memory_kib, iterations, parallelism, Some(OUTPUT_LEN)).map_err(|e| {
            HashError::InvalidParameters {
                reason: e.to_string(),
            }
        })?;
        Ok(Self {
            memory_kib,
            iterations,
            parallelism,
        })
    }

    /// Memory cost in KiB.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(customer_directory::values::HashParams::OWASP.memory_kib(), 19456);
    /// ```
    pub fn memory_kib(&self) -> u32 {
        self.memory_kib
    }

    /// Number of passes over memory.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(customer_directory::values::HashParams::OWASP.iterations(), 2);
    /// ```
    pub fn iterations(&self) -> u32 {
        self.iterations
    }

    /// Number of lanes.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(customer_directory::values::HashParams::OWASP.parallelism(), 1);
    /// ```
    pub fn parallelism(&self) -> u32 {
        self.parallelism
    }

    fn argon2_params(&self) -> Result<Params, HashError> {
        Params::new(
            self.memory_kib,
            self.iterations,
            self.parallelism,
            Some(OUTPUT_LEN),
        )
        .map_err(|e| HashError::InvalidParameters {
            reason: e.to_string(),
        })
    }
}

impl Default for HashParams {
    /// [`HashParams::OWASP`].
    fn default() -> Self {
        Self::OWASP
    }
}

/// The most expensive parameters a stored hash may ask for. A hash above
/// any of them is refused with [`HashError::ParametersExceedLimits`] before
/// argon2 runs, so a tampered or imported hash cannot make a login allocate
/// gigabytes or spin for seconds.
///
/// The defaults are m = 262144 KiB (256 MiB), t = 10, p = 8.
///
/// # Examples
///
/// ```
/// use customer_directory::values::{HashLimits, PasswordHashing};
///
/// let mut limits = HashLimits::default();
/// assert_eq!(limits.max_memory_kib, 262_144);
/// limits.max_memory_kib = 65_536;
/// let hashing = PasswordHashing::new().with_limits(limits)?;
/// assert_eq!(hashing.limits().max_memory_kib, 65_536);
/// # Ok::<(), customer_directory::values::HashError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct HashLimits {
    /// Largest memory cost `m`, in KiB.
    pub max_memory_kib: u32,
    /// Largest iteration count `t`.
    pub max_iterations: u32,
    /// Largest parallelism `p`.
    pub max_parallelism: u32,
}

impl Default for HashLimits {
    fn default() -> Self {
        Self {
            max_memory_kib: 262_144,
            max_iterations: 10,
            max_parallelism: 8,
        }
    }
}

impl HashLimits {
    fn check(&self, memory_kib: u32, iterations: u32, parallelism: u32) -> Result<(), HashError> {
        let checks = [
            (HashParameter::Memory, memory_kib, self.max_memory_kib),
            (HashParameter::Iterations, iterations, self.max_iterations),
            (
                HashParameter::Parallelism,
                parallelism,
                self.max_parallelism,
            ),
        ];
        for (parameter, value, limit) in checks {
            if value > limit {
                return Err(HashError::ParametersExceedLimits {
                    parameter,
                    value,
                    limit,
                });
            }
        }
        Ok(())
    }
}

/// A stored password hash: a validated argon2 PHC string such as
/// `$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>`.
///
/// `Debug` and `Display` never show it; read it with
/// [`as_phc`](Self::as_phc) to store it. Serde (de)serialises it as the PHC
/// string, validating on the way in.
///
/// # Examples
///
/// ```
/// use customer_directory::values::PasswordHashing;
///
/// let hash = PasswordHashing::new().hash("Plum-Tractor-Velvet-9")?;
/// assert!(hash.as_phc().starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
/// assert_eq!(format!("{hash:?}"), "PasswordHash(<redacted>)");
/// # Ok::<(), customer_directory::values::HashError>(())
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct PasswordHash(String);

/// The parts of a parsed stored hash that verification needs.
struct ParsedHash {
    algorithm: Algorithm,
    version: Option<Version>,
    params: Params,
    salt: Vec<u8>,
    output: Vec<u8>,
}

impl PasswordHash {
    /// Parses and validates a PHC string: well-formed, argon2id/argon2i/
    /// argon2d, version 16 or 19 (or none), valid parameters, salt and hash
    /// present. Cost limits are not checked here but by
    /// [`PasswordHashing::verify`].
    ///
    /// # Examples
    ///
    /// ```
    /// use customer_directory::values::{HashError, PasswordHash};
    ///
    /// let phc = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$\
    ///            ZmFrZWhhc2hmYWtlaGFzaGZha2VoYXNoZmFrZWhhcw";
    /// assert!(PasswordHash::from_phc(phc).is_ok());
    /// assert!(matches!(
    ///     PasswordHash::from_phc("$scrypt$ln=15,r=8,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo"),
    ///     Err(HashError::UnsupportedAlgorithm { .. })
    /// ));
    /// ```
    pub fn from_phc(phc: &str) -> Result<Self, HashError> {
        parse_phc(phc)?;
        Ok(Self(phc.to_owned()))
    }

    /// The PHC string, for storage.
    ///
    /// # Examples
    ///
    /// ```
    /// use customer_directory::values::{PasswordHash, PasswordHashing};
    ///
    /// let hash = PasswordHashing::new().hash("Plum-Tractor-Velvet-9")?;
    /// let again = PasswordHash::from_phc(hash.as_phc())?;
    /// assert_eq!(hash, again);
    /// # Ok::<(), customer_directory::values::HashError>(())
    /// ```
    pub fn as_phc(&self) -> &str {
        &self.0
    }

    /// Takes the PHC string out.
    ///
    /// # Examples
    ///
    /// ```
    /// use customer_directory::values::PasswordHashing;
    ///
    /// let phc: String = PasswordHashing::new().hash("Plum-Tractor-Velvet-9")?.into_phc();
    /// assert!(phc.starts_with("$argon2id$"));
    /// # Ok::<(), customer_directory::values::HashError>(())
    /// ```
    pub fn into_phc(self) -> String {
        self.0
    }
}

fn parse_phc(phc: &str) -> Result<ParsedHash, HashError> {
    if phc.len() > MAX_PHC_LEN {
        return Err(malformed(format_args!("longer than {MAX_PHC_LEN} bytes")));
    }
    let parsed = password_hash::PasswordHash::new(phc).map_err(malformed)?;
    let algorithm =
        Algorithm::try_from(parsed.algorithm).map_err(|_| HashError::UnsupportedAlgorithm {
            algorithm: parsed.algorithm.as_str().to_owned(),
        })?;
    let version = match parsed.version {
        None => None,
        Some(v) => Some(Version::try_from(v).map_err(malformed)?),
    };
    let params = Params::try_from(&parsed).map_err(malformed)?;
    let salt = parsed.salt.ok_or_else(|| malformed("no salt"))?;
    let mut salt_buf = [0u8; 64];
    let salt = salt.decode_b64(&mut salt_buf).map_err(malformed)?.to_vec();
    if salt.len() < argon2::MIN_SALT_LEN {
        return Err(malformed(format_args!(
            "salt shorter than {} bytes",
            argon2::MIN_SALT_LEN
        )));
    }
    let output = parsed
        .hash
        .ok_or_else(|| malformed("no hash value"))?
        .as_bytes()
        .to_vec();
    Ok(ParsedHash {
        algorithm,
        version,
        params,
        salt,
        output,
    })
}

impl fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PasswordHash(<redacted>)")
    }
}

impl fmt::Display for PasswordHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted password hash>")
    }
}

impl FromStr for PasswordHash {
    type Err = HashError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::from_phc(s)
    }
}

impl TryFrom<String> for PasswordHash {
    type Error = HashError;

    fn try_from(phc: String) -> Result<Self, Self::Error> {
        parse_phc(&phc)?;
        Ok(Self(phc))
    }
}

impl serde::Serialize for PasswordHash {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> serde::Deserialize<'de> for PasswordHash {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let phc = String::deserialize(deserializer)?;
        PasswordHash::try_from(phc).map_err(serde::de::Error::custom)
    }
}

/// The outcome of [`PasswordHashing::verify`].
///
/// # Examples
///
/// ```
/// use customer_directory::values::Verification;
///
/// assert!(Verification::ValidNeedsRehash.is_valid());
/// assert!(!Verification::Invalid.is_valid());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[must_use]
pub enum Verification {
    /// Wrong password.
    Invalid,
    /// Right password; the stored hash uses the current parameters.
    Valid,
    /// Right password, but the stored hash was made with other parameters,
    /// another argon2 variant or version: hash the password again and store
    /// the new hash.
    ValidNeedsRehash,
}

impl Verification {
    /// `true` for [`Valid`](Self::Valid) and
    /// [`ValidNeedsRehash`](Self::ValidNeedsRehash).
    ///
    /// # Examples
    ///
    /// ```
    /// use customer_directory::values::Verification;
    ///
    /// assert!(Verification::Valid.is_valid());
    /// ```
    pub fn is_valid(self) -> bool {
        !matches!(self, Verification::Invalid)
    }
}

/// Hashes and verifies passwords with argon2id (RFC 9106), as the OWASP
/// Password Storage Cheat Sheet recommends.
///
/// Passwords are NFKC-normalised before hashing and verifying (NIST SP
/// 800-63B), so two encodings of one password match. Salts are 16 bytes from
/// the operating system's random number generator; hashes are 32 bytes,
/// stored as PHC strings.
///
/// Build one and share it (it is `Send + Sync`); the dummy hash used by
/// [`verify_dummy`](Self::verify_dummy) is computed once per value.
///
/// # Examples
///
/// ```
/// use customer_directory::values::{PasswordHashing, Verification};
///
/// let hashing = PasswordHashing::new();
/// let stored = hashing.hash("Plum-Tractor-Velvet-9")?;
/// assert_eq!(hashing.verify("Plum-Tractor-Velvet-9", &stored)?, Verification::Valid);
/// assert_eq!(hashing.verify("plum-tractor-velvet-9", &stored)?, Verification::Invalid);
/// # Ok::<(), customer_directory::values::HashError>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct PasswordHashing {
    params: HashParams,
    limits: HashLimits,
    dummy: OnceLock<PasswordHash>,
}

impl PasswordHashing {
    /// Hashing with [`HashParams::OWASP`] and the default [`HashLimits`].
    ///
    /// # Examples
    ///
    /// ```
    /// use customer_directory::values::{HashParams, PasswordHashing};
    ///
    /// assert_eq!(PasswordHashing::new().params(), HashParams::OWASP);
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// Hashing with other parameters (checked against the default limits).
    ///
    /// # Examples
    ///
    /// ```
    /// use customer_directory::values::{HashError, HashParams, PasswordHashing};
    ///
    /// let stronger = PasswordHashing::with_params(HashParams::new(47104, 1, 1)?)?;
    /// assert_eq!(stronger.params().memory_kib(), 47104);
    /// let too_big = HashParams::new(1 << 20, 1, 1)?;
    /// assert!(matches!(
    ///     PasswordHashing::with_params(too_big),
    ///     Err(HashError::ParametersExceedLimits { .. })
    /// ));
    /// # Ok::<(), HashError>(())
    /// ```
    pub fn with_params(params: HashParams) -> Result<Self, HashError> {
        let limits = HashLimits::default();
        limits.check(params.memory_kib, params.iterations, params.parallelism)?;
        Ok(Self {
            params,
            limits,
            dummy: OnceLock::new(),
        })
    }

    /// Replaces the limits on stored hashes; the current parameters must be
    /// within them.
    ///
    /// # Examples
    ///
    /// ```
    /// use customer_directory::values::{HashError, HashLimits, PasswordHashing};
    ///
    /// let mut limits = HashLimits::default();
    /// limits.max_iterations = 1; // below the OWASP t = 2
    /// assert!(matches!(
    ///     PasswordHashing::new().with_limits(limits),
    ///     Err(HashError::ParametersExceedLimits { .. })
    /// ));
    /// ```
    pub fn with_limits(self, limits: HashLimits) -> Result<Self, HashError> {
        limits.check(
            self.params.memory_kib,
            self.params.iterations,
            self.params.parallelism,
        )?;
        Ok(Self { limits, ..self })
    }

    /// The parameters new hashes are made with.
    ///
    /// # Examples
    ///
    /// ```
    /// use customer_directory::values::PasswordHashing;
    ///
    /// assert_eq!(PasswordHashing::new().params().iterations(), 2);
    /// ```
    pub fn params(&self) -> HashParams {
        self.params
    }

    /// The limits stored hashes are checked against.
    ///
    /// # Examples
    ///
    /// ```
    /// use customer_directory::values::PasswordHashing;
    ///
    /// assert_eq!(PasswordHashing::new().limits().max_parallelism, 8);
    /// ```
    pub fn limits(&self) -> HashLimits {
        self.limits
    }

    fn argon2(&self) -> Result<Argon2<'static>, HashError> {
        Ok(Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            self.params.argon2_params()?,
        ))
    }

    /// Hashes a password with a fresh random salt.
    ///
    /// The password is not checked against any policy here; do that first
    /// with [`PasswordPolicy::check`].
    ///
    /// # Errors
    ///
    /// [`HashError::PasswordTooLong`] above [`MAX_PASSWORD_BYTES`],
    /// [`HashError::Random`] if the OS random number generator fails.
    ///
    /// # Examples
    ///
    /// ```
    /// use customer_directory::values::PasswordHashing;
    ///
    /// let hashing = PasswordHashing::new();
    /// let a = hashing.hash("Plum-Tractor-Velvet-9")?;
    /// let b = hashing.hash("Plum-Tractor-Velvet-9")?;
    /// assert_ne!(a.as_phc(), b.as_phc()); // different salts
    /// # Ok::<(), customer_directory::values::HashError>(())
    /// ```
    pub fn hash(&self, password: &str) -> Result<PasswordHash, HashError> {
        if password.len() > MAX_PASSWORD_BYTES {
            return Err(HashError::PasswordTooLong {
                length: password.len(),
                max: MAX_PASSWORD_BYTES,
            });
        }
        let mut salt = [0u8; SALT_LEN];
        getrandom::fill(&mut salt).map_err(|_| HashError::Random)?;
        self.hash_with_salt(password, &salt)
    }

    fn hash_with_salt(&self, password: &str, salt: &[u8]) -> Result<PasswordHash, HashError> {
        use argon2::PasswordHasher as _;
        let salt = SaltString::encode_b64(salt).map_err(|e| HashError::Argon2 {
            reason: e.to_string(),
        })?;
        let normalized = normalize(password);
        let hash = self
            .argon2()?
            .hash_password(normalized.as_bytes(), &salt)
            .map_err(|e| HashError::Argon2 {
                reason: e.to_string(),
            })?;
        Ok(PasswordHash(hash.to_string()))
    }

    /// Verifies a password against a stored hash.
    ///
    /// Returns [`Verification::ValidNeedsRehash`] for a right password whose
    /// hash was made with other parameters, output length, argon2 variant or
    /// version than this value's (store a new [`hash`](Self::hash) then). A
    /// password longer than [`MAX_PASSWORD_BYTES`] cannot have been hashed
    /// and is [`Invalid`](Verification::Invalid) without running argon2.
    ///
    /// # Errors
    ///
    /// [`HashError::ParametersExceedLimits`] when the stored hash asks for
    /// more than the [`HashLimits`] (argon2 is not run);
    /// [`HashError::Malformed`] or [`HashError::Argon2`] for hashes argon2
    /// cannot evaluate.
    ///
    /// # Examples
    ///
    /// ```
    /// use customer_directory::values::{HashParams, PasswordHashing, Verification};
    ///
    /// let old = PasswordHashing::with_params(HashParams::new(8192, 1, 1)?)?;
    /// let stored = old.hash("Plum-Tractor-Velvet-9")?;
    /// let current = PasswordHashing::new();
    /// assert_eq!(
    ///     current.verify("Plum-Tractor-Velvet-9", &stored)?,
    ///     Verification::ValidNeedsRehash
    /// );
    /// # Ok::<(), customer_directory::values::HashError>(())
    /// ```
    pub fn verify(&self, password: &str, stored: &PasswordHash) -> Result<Verification, HashError> {
        let parsed = parse_phc(&stored.0)?;
        self.limits.check(
            parsed.params.m_cost(),
            parsed.params.t_cost(),
            parsed.params.p_cost(),
        )?;
        if password.len() > MAX_PASSWORD_BYTES {
            return Ok(Verification::Invalid);
        }
        // A missing version means argon2 1.0 (0x10), as in the reference
        // implementation's decoder.
        let version = parsed.version.unwrap_or(Version::V0x10);
        let argon2 = Argon2::new(parsed.algorithm, version, parsed.params.clone());
        let normalized = normalize(password);
        let mut computed = vec![0u8; parsed.output.len()];
        argon2
            .hash_password_into(normalized.as_bytes(), &parsed.salt, &mut computed)
            .map_err(|e| HashError::Argon2 {
                reason: e.to_string(),
            })?;
        let matches: bool = computed.ct_eq(&parsed.output).into();
        if !matches {
            Ok(Verification::Invalid)
        } else if self.is_current(&parsed) {
            Ok(Verification::Valid)
        } else {
            Ok(Verification::ValidNeedsRehash)
        }
    }

    fn is_current(&self, parsed: &ParsedHash) -> bool {
        parsed.algorithm == Algorithm::Argon2id
            && parsed.version == Some(Version::V0x13)
            && parsed.params.m_cost() == self.params.memory_kib
            && parsed.params.t_cost() == self.params.iterations
            && parsed.params.p_cost() == self.params.parallelism
            && parsed.output.len() == OUTPUT_LEN
            && parsed.params.keyid().is_empty()
            && parsed.params.data().is_empty()
    }

    /// Whether a stored hash differs from what [`hash`](Self::hash) would
    /// produce now (parameters, variant, version or output length), without
    /// running argon2. Malformed hashes count as needing a rehash.
    ///
    /// # Examples
    ///
    /// ```
    /// use customer_directory::values::PasswordHashing;
    ///
    /// let hashing = PasswordHashing::new();
    /// let stored = hashing.hash("Plum-Tractor-Velvet-9")?;
    /// assert!(!hashing.needs_rehash(&stored));
    /// # Ok::<(), customer_directory::values::HashError>(())
    /// ```
    pub fn needs_rehash(&self, stored: &PasswordHash) -> bool {
        parse_phc(&stored.0).map_or(true, |parsed| !self.is_current(&parsed))
    }

    /// Spends the time of one verification and returns
    /// [`Verification::Invalid`]. Call it when the account does not exist so
    /// a login takes about as long whether or not it does (which would
    /// otherwise reveal who has an account).
    ///
    /// It verifies the password against a fixed hash made with this value's
    /// parameters, computed on first use and kept (a `OnceLock`).
    ///
    /// # Examples
    ///
    /// ```
    /// use customer_directory::values::{PasswordHash, PasswordHashing, Verification};
    ///
    /// let hashing = PasswordHashing::new();
    /// let stored: Option<PasswordHash> = None; // no such customer
    /// let outcome = match &stored {
    ///     Some(hash) => hashing.verify("guess", hash)?,
    ///     None => hashing.verify_dummy("guess"),
    /// };
    /// assert_eq!(outcome, Verification::Invalid);
    /// # Ok::<(), customer_directory::values::HashError>(())
    /// ```
    pub fn verify_dummy(&self, password: &str) -> Verification {
        let dummy = match self.dummy.get() {
            Some(dummy) => dummy,
            None => {
                match self.hash_with_salt("customer-directory dummy password", &[0x5a; SALT_LEN]) {
                    Ok(hash) => self.dummy.get_or_init(|| hash),
                    Err(_) => return Verification::Invalid,
                }
            }
        };
        // Same path as a real verification; whatever the outcome, the answer
        // is "invalid": there is no account.
        let _ = std::hint::black_box(self.verify(password, dummy));
        Verification::Invalid
    }
}

// ---------------------------------------------------------------------------
// Reset tokens
// ---------------------------------------------------------------------------

const TOKEN_BYTES: usize = 32;

/// Errors of [`ResetToken`], [`VerificationToken`] and [`ResetTokenHash`] parsing and
/// generation.
/// Messages never include the token.
///
/// # Examples
///
/// ```
/// use customer_directory::values::{ResetToken, TokenError};
///
/// assert_eq!(
///     ResetToken::parse("abc").unwrap_err(),
///     TokenError::InvalidLength { length: 3, expected: 64 }
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TokenError {
    /// The text is not 64 characters long.
    #[error("a one-time token must be {expected} hexadecimal characters, got {length} bytes")]
    InvalidLength {
        /// Length of the text, in bytes.
        length: usize,
        /// The expected length (64).
        expected: usize,
    },
    /// The text has a character other than `0-9`, `a-f`, `A-F`.
    #[error("a one-time token contains a character that is not hexadecimal")]
    InvalidCharacter,
    /// The operating system's random number generator failed.
    #[error("the operating system random number generator failed")]
    Random,
}

fn encode_hex(bytes: &[u8; TOKEN_BYTES]) -> String {
    hex::encode(bytes)
}

fn decode_hex(text: &str) -> Result<[u8; TOKEN_BYTES], TokenError> {
    if text.len() != TOKEN_BYTES * 2 {
        return Err(TokenError::InvalidLength {
            length: text.len(),
            expected: TOKEN_BYTES * 2,
        });
    }
    let mut out = [0u8; TOKEN_BYTES];
    // The length is right, so the only failure left is a character that is not a hex digit.
    hex::decode_to_slice(text, &mut out).map_err(|_| TokenError::InvalidCharacter)?;
    Ok(out)
}

/// Defines a one-time token type: 32 secret bytes with `generate`, `parse`,
/// `expose_secret`, `expose_bytes` and `hash`, a constant-time `PartialEq`, redacted
/// `Debug` and `Display`, `FromStr`, and zeroing on drop. Each kind of link gets a type of its
/// own from it, so one kind's token cannot be passed where another's is expected.
macro_rules! one_time_token {
    ($(#[$doc:meta])* $name:ident, display = $display:literal) => {
        $(#[$doc])*
        #[derive(Clone)]
        pub struct $name([u8; TOKEN_BYTES]);

        impl Drop for $name {
            fn drop(&mut self) {
                // The secret leaves memory with the value, not when the allocator reuses it.
                zeroize::Zeroize::zeroize(&mut self.0);
            }
        }

        impl $name {
            /// A new random token and its hash (the only part to store).
            ///
            /// # Errors
            ///
            /// [`TokenError::Random`] if the OS random number generator fails.
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("use customer_directory::values::", stringify!($name), ";")]
            ///
            #[doc = concat!("let (token, hash) = ", stringify!($name), "::generate()?;")]
            /// assert_eq!(token.hash(), hash);
            /// # Ok::<(), customer_directory::values::TokenError>(())
            /// ```
            pub fn generate() -> Result<($name, ResetTokenHash), TokenError> {
                let token = $name(random_token_bytes()?);
                let hash = token.hash();
                Ok((token, hash))
            }

            /// Reads a token from the text of a link: exactly 64 hex characters (either
            /// case; no surrounding white space).
            ///
            /// # Errors
            ///
            /// [`TokenError::InvalidLength`] or [`TokenError::InvalidCharacter`].
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("use customer_directory::values::{TokenError, ", stringify!($name), "};")]
            ///
            /// let text = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
            #[doc = concat!("assert_eq!(", stringify!($name), "::parse(text)?.expose_secret(), text);")]
            /// assert_eq!(
            #[doc = concat!("    ", stringify!($name), "::parse(&text.replace('a', \"g\")).unwrap_err(),")]
            ///     TokenError::InvalidCharacter
            /// );
            /// assert_eq!(
            #[doc = concat!("    ", stringify!($name), "::parse(&text[1..]).unwrap_err(),")]
            ///     TokenError::InvalidLength { length: 63, expected: 64 }
            /// );
            /// # Ok::<(), TokenError>(())
            /// ```
            pub fn parse(text: &str) -> Result<$name, TokenError> {
                decode_hex(text).map($name)
            }

            /// The token as the 64 lower-case hex characters to put in the link. This is
            /// the secret: do not log or store it.
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("let (token, _) = customer_directory::", stringify!($name), "::generate()?;")]
            /// assert_eq!(token.expose_secret().len(), 64);
            /// # Ok::<(), customer_directory::values::TokenError>(())
            /// ```
            pub fn expose_secret(&self) -> String {
                encode_hex(&self.0)
            }

            /// The 32 raw bytes of the token (the secret).
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("let (token, _) = customer_directory::", stringify!($name), "::generate()?;")]
            /// assert_eq!(token.expose_bytes().len(), 32);
            /// # Ok::<(), customer_directory::values::TokenError>(())
            /// ```
            pub fn expose_bytes(&self) -> &[u8; 32] {
                &self.0
            }

            /// SHA-256 of the token's 32 raw bytes (not of its text, so the case of the hex
            /// digits does not matter), the same for every kind of token: the stored
            /// token's purpose is what tells the kinds apart.
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("let token = customer_directory::", stringify!($name), "::parse(&\"0\".repeat(64))?;")]
            /// assert_eq!(
            ///     token.hash().to_hex(),
            ///     "66687aadf862bd776c8fc18b8e9f8e20089714856ee233b3902a591d0d5f2925"
            /// );
            /// # Ok::<(), customer_directory::values::TokenError>(())
            /// ```
            pub fn hash(&self) -> ResetTokenHash {
                ResetTokenHash(Sha256::digest(self.0).into())
            }
        }

        impl PartialEq for $name {
            /// Constant-time comparison.
            fn eq(&self, other: &Self) -> bool {
                self.0.ct_eq(&other.0).into()
            }
        }

        impl Eq for $name {}

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(concat!(stringify!($name), "(<redacted>)"))
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str($display)
            }
        }

        impl FromStr for $name {
            type Err = TokenError;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::parse(s)
            }
        }
    };
}

one_time_token! {
/// The secret of a password-reset link: 256 bits from the operating
/// system's random number generator, written as 64 lower-case hex
/// characters (URL-safe).
///
/// Mail the text ([`expose_secret`](Self::expose_secret)) and store only its
/// [`ResetTokenHash`]; when the link is used, [`parse`](Self::parse) the text
/// and look the hash up. Expiry and single use are up to the caller.
/// `Debug` and `Display` are redacted; equality is constant-time.
///
/// # Examples
///
/// ```
/// use customer_directory::values::ResetToken;
///
/// let (token, stored) = ResetToken::generate()?;
/// let link = format!("https://example.com/reset?token={}", token.expose_secret());
/// // ... later, from the link:
/// let from_link = ResetToken::parse(&link[link.len() - 64..])?;
/// assert!(stored.matches(&from_link));
/// assert_eq!(format!("{token:?}"), "ResetToken(<redacted>)");
/// # Ok::<(), customer_directory::values::TokenError>(())
/// ```
    ResetToken,
    display = "<redacted reset token>"
}

one_time_token! {
/// The secret of an email-verification link: 256 bits from the operating system's random
/// number generator, written as 64 lower-case hex characters, like a [`ResetToken`] but a
/// type of its own, so a verification link's token cannot be handed to
/// [`Accounts::reset_password`](crate::service::accounts::Accounts::reset_password), nor a reset link's to
/// [`Accounts::verify_email`](crate::service::accounts::Accounts::verify_email).
///
/// Only its digest is stored, as a [`ResetTokenHash`] (the digest type of every one-time
/// token; the stored token's [`purpose`](crate::records::account::AccountToken::purpose) tells the two kinds
/// apart). `Debug` and `Display` are redacted; equality is constant-time.
///
/// # Examples
///
/// ```
/// use customer_directory::values::VerificationToken;
///
/// let (token, stored) = VerificationToken::generate()?;
/// let link = format!("https://example.com/verify?token={}", token.expose_secret());
/// // ... later, from the link:
/// let from_link: VerificationToken = link[link.len() - 64..].parse()?;
/// assert_eq!(from_link.hash(), stored);
/// assert_eq!(format!("{token:?}"), "VerificationToken(<redacted>)");
/// assert_eq!(token.to_string(), "<redacted verification token>");
/// # Ok::<(), customer_directory::values::TokenError>(())
/// ```
    VerificationToken,
    display = "<redacted verification token>"
}

/// 32 bytes from the operating system's random number generator: the secret of a one-time
/// token.
fn random_token_bytes() -> Result<[u8; TOKEN_BYTES], TokenError> {
    let mut bytes = [0u8; TOKEN_BYTES];
    getrandom::fill(&mut bytes).map_err(|_| TokenError::Random)?;
    Ok(bytes)
}

/// The SHA-256 digest of a [`ResetToken`]: the only part of a reset token
/// that is stored. Store it as hex ([`to_hex`](Self::to_hex),
/// [`from_hex`](Self::from_hex)). `==` and [`matches`](Self::matches)
/// compare in constant time (the `subtle` crate, already a dependency of
/// `password-hash`). `Debug` and `Display` are redacted.
///
/// # Examples
///
/// ```
/// use customer_directory::values::{ResetToken, ResetTokenHash};
///
/// let (token, hash) = ResetToken::generate()?;
/// let stored = hash.to_hex();
/// let loaded = ResetTokenHash::from_hex(&stored)?;
/// assert!(loaded.matches(&token));
/// assert_eq!(format!("{loaded:?}"), "ResetTokenHash(<redacted>)");
/// # Ok::<(), customer_directory::values::TokenError>(())
/// ```
#[derive(Clone)]
pub struct ResetTokenHash([u8; 32]);

impl ResetTokenHash {
    /// The digest as 64 lower-case hex characters.
    ///
    /// # Examples
    ///
    /// ```
    /// use customer_directory::values::ResetToken;
    ///
    /// let (_, hash) = ResetToken::generate()?;
    /// assert_eq!(hash.to_hex().len(), 64);
    /// # Ok::<(), customer_directory::values::TokenError>(())
    /// ```
    pub fn to_hex(&self) -> String {
        encode_hex(&self.0)
    }

    /// Reads a digest stored with [`to_hex`](Self::to_hex) (either case).
    ///
    /// # Examples
    ///
    /// ```
    /// use customer_directory::values::{ResetTokenHash, TokenError};
    ///
    /// assert!(ResetTokenHash::from_hex(&"ab".repeat(32)).is_ok());
    /// assert!(ResetTokenHash::from_hex("xyz").is_err());
    /// ```
    pub fn from_hex(text: &str) -> Result<ResetTokenHash, TokenError> {
        decode_hex(text).map(ResetTokenHash)
    }

    /// The 32 digest bytes.
    ///
    /// # Examples
    ///
    /// ```
    /// use customer_directory::values::ResetToken;
    ///
    /// let (_, hash) = ResetToken::generate()?;
    /// assert_eq!(hash.as_bytes().len(), 32);
    /// # Ok::<(), customer_directory::values::TokenError>(())
    /// ```
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Whether `token` hashes to this digest (constant-time comparison).
    ///
    /// # Examples
    ///
    /// ```
    /// use customer_directory::values::ResetToken;
    ///
    /// let (token, hash) = ResetToken::generate()?;
    /// let (other, _) = ResetToken::generate()?;
    /// assert!(hash.matches(&token));
    /// assert!(!hash.matches(&other));
    /// # Ok::<(), customer_directory::values::TokenError>(())
    /// ```
    pub fn matches(&self, token: &ResetToken) -> bool {
        *self == token.hash()
    }
}

impl PartialEq for ResetTokenHash {
    /// Constant-time comparison.
    fn eq(&self, other: &Self) -> bool {
        self.0.ct_eq(&other.0).into()
    }
}

impl Eq for ResetTokenHash {}

impl std::hash::Hash for ResetTokenHash {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.0.hash(state);
    }
}

impl fmt::Debug for ResetTokenHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ResetTokenHash(<redacted>)")
    }
}

impl fmt::Display for ResetTokenHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted reset token hash>")
    }
}

impl serde::Serialize for ResetTokenHash {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_hex())
    }
}

impl<'de> serde::Deserialize<'de> for ResetTokenHash {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        ResetTokenHash::from_hex(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_context() -> PasswordContext<'static> {
        PasswordContext::default()
    }

    #[test]
    fn classes_follow_unicode_properties() {
        assert_eq!(CharacterClass::of('ß'), Some(CharacterClass::Lowercase));
        assert_eq!(CharacterClass::of('Ж'), Some(CharacterClass::Uppercase));
        assert_eq!(CharacterClass::of('٣'), Some(CharacterClass::Digit));
        assert_eq!(CharacterClass::of('€'), Some(CharacterClass::Special));
        assert_eq!(CharacterClass::of('\u{3000}'), None); // ideographic space
        assert_eq!(CharacterClass::of('漢'), None);
    }

    #[test]
    fn normalize_borrows_ascii_and_composes() {
        assert!(matches!(normalize("abc"), Cow::Borrowed("abc")));
        assert_eq!(normalize("a\u{308}"), "ä");
        assert_eq!(normalize("ﬁ"), "fi");
    }

    #[test]
    fn grossly_long_input_skips_normalisation_but_reports_everything_cheap() {
        let policy = PasswordPolicy::seed_rule();
        let input = "a ".repeat(5_000);
        let v = policy.violations(&input, &no_context());
        assert_eq!(
            v,
            vec![
                PasswordViolation::TooLong {
                    length: 10_000,
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
    fn context_words_are_split() {
        let words = PasswordContext::new(&["Ana Silva", "ana@example.com", ""]).expanded();
        assert_eq!(
            words,
            vec![
                "Ana Silva",
                "Ana",
                "Silva",
                "ana@example.com",
                "ana",
                "example",
                "com"
            ]
        );
    }

    #[test]
    fn context_is_bounded() {
        let long = "x".repeat(1000);
        let many: Vec<&str> = std::iter::repeat_n(long.as_str(), 100).collect();
        let words = PasswordContext::new(&many).expanded();
        assert_eq!(words.len(), MAX_CONTEXT_INPUTS);
        assert!(
            words
                .iter()
                .all(|w| w.chars().count() == MAX_CONTEXT_INPUT_CHARS)
        );
    }

    #[test]
    fn only_the_bounded_prefix_is_scored() {
        let policy = PasswordPolicy::nist_800_63b();
        let weak_start = format!("{}{}", "a".repeat(GUESSABILITY_PREFIX_CHARS), "q7#Vx!9zLm");
        assert!(matches!(
            policy.violations(&weak_start, &no_context()).as_slice(),
            [PasswordViolation::TooGuessable { .. }]
        ));
        let strong_start = format!("{}{}", "q7#Vx!9zLm", "a".repeat(GUESSABILITY_PREFIX_CHARS));
        assert!(policy.violations(&strong_start, &no_context()).is_empty());
    }

    #[test]
    fn hex_round_trip() {
        let bytes: [u8; 32] = std::array::from_fn(|i| (i as u8).wrapping_mul(37));
        let text = encode_hex(&bytes);
        assert_eq!(decode_hex(&text), Ok(bytes));
        assert_eq!(decode_hex(&text.to_uppercase()), Ok(bytes));
        // Multi-byte characters: 64 bytes but not hex.
        assert_eq!(
            decode_hex(&"é".repeat(32)),
            Err(TokenError::InvalidCharacter)
        );
    }

    #[test]
    fn limits_report_first_parameter_over() {
        let limits = HashLimits::default();
        assert_eq!(limits.check(262_144, 10, 8), Ok(()));
        assert_eq!(
            limits.check(262_145, 11, 9),
            Err(HashError::ParametersExceedLimits {
                parameter: HashParameter::Memory,
                value: 262_145,
                limit: 262_144
            })
        );
        assert_eq!(
            limits.check(1024, 10, 9),
            Err(HashError::ParametersExceedLimits {
                parameter: HashParameter::Parallelism,
                value: 9,
                limit: 8
            })
        );
    }

    #[test]
    fn verify_normalises_like_hash() {
        let hashing = PasswordHashing::with_params(HashParams::new(64, 1, 1).unwrap()).unwrap();
        let stored = hashing.hash("Pa\u{308}sswort-9").unwrap();
        assert_eq!(
            hashing.verify("Pässwort-9", &stored).unwrap(),
            Verification::Valid
        );
    }

    #[test]
    fn missing_version_is_argon2_1_0_and_needs_rehash() {
        // Hash with version 0x10 by hand, then strip "v=16$" from the PHC.
        let params = Params::new(64, 1, 1, Some(32)).unwrap();
        let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x10, params);
        let salt = SaltString::encode_b64(&[7u8; 16]).unwrap();
        let phc = {
            use argon2::PasswordHasher as _;
            argon2
                .hash_password(b"Legacy-Pass-1", &salt)
                .unwrap()
                .to_string()
        };
        assert!(phc.starts_with("$argon2id$v=16$"), "{phc}");
        let without_version = phc.replacen("v=16$", "", 1);
        let stored = PasswordHash::from_phc(&without_version).unwrap();
        let hashing = PasswordHashing::with_params(HashParams::new(64, 1, 1).unwrap()).unwrap();
        assert_eq!(
            hashing.verify("Legacy-Pass-1", &stored).unwrap(),
            Verification::ValidNeedsRehash
        );
        assert_eq!(
            hashing.verify("Legacy-Pass-2", &stored).unwrap(),
            Verification::Invalid
        );
    }

    #[test]
    fn dummy_hash_uses_current_parameters_and_is_cached() {
        let hashing = PasswordHashing::with_params(HashParams::new(64, 1, 1).unwrap()).unwrap();
        assert_eq!(hashing.verify_dummy("anything"), Verification::Invalid);
        let dummy = hashing.dummy.get().expect("computed on first use").clone();
        assert!(dummy.as_phc().starts_with("$argon2id$v=19$m=64,t=1,p=1$"));
        assert!(!hashing.needs_rehash(&dummy));
        // The dummy's own password still yields Invalid.
        assert_eq!(
            hashing.verify_dummy("customer-directory dummy password"),
            Verification::Invalid
        );
        assert_eq!(hashing.dummy.get(), Some(&dummy));
    }

    #[test]
    fn over_long_password_is_refused_or_invalid() {
        let hashing = PasswordHashing::with_params(HashParams::new(64, 1, 1).unwrap()).unwrap();
        let long = "A".repeat(MAX_PASSWORD_BYTES + 1);
        assert_eq!(
            hashing.hash(&long),
            Err(HashError::PasswordTooLong {
                length: MAX_PASSWORD_BYTES + 1,
                max: MAX_PASSWORD_BYTES
            })
        );
        let stored = hashing.hash(&long[..MAX_PASSWORD_BYTES]).unwrap();
        assert_eq!(
            hashing.verify(&long, &stored).unwrap(),
            Verification::Invalid
        );
        assert_eq!(
            hashing
                .verify(&long[..MAX_PASSWORD_BYTES], &stored)
                .unwrap(),
            Verification::Valid
        );
    }

    #[test]
    fn password_drop_does_not_panic_and_clone_is_independent() {
        let a = Password::new("secret-Value-1");
        let b = a.clone();
        drop(a);
        assert_eq!(b.expose(), "secret-Value-1");
        assert_eq!(b.to_string(), "***");
    }
}
