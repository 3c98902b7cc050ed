//! The rules a new password must meet: [`PasswordPolicy`] and its presets, the
//! [`CharacterClass`]es of the composition rule, the [`PasswordContext`] of words a
//! password must not be built from, the [`PasswordViolations`] it reports, and the bounded
//! zxcvbn guessability score.
//!
//! Separate from the hashing: a policy is checked once, when a password is chosen, while
//! hashing runs on every login.

use std::borrow::Cow;
use std::fmt;

use crate::values::password::secret::normalize;

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
}
