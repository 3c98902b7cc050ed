//! Email addresses and the keys that attribute bookings to customer profiles.
//!
//! Three types work together:
//!
//! * [`EmailAddress`](address::EmailAddress) is what the person typed (trimmed),
//!   validated, and kept verbatim for display and for sending mail.
//! * [`EmailKey`](key::EmailKey) is the normalised matching key. Two addresses that reach the
//!   same mailbox in practice get the same key, so a booking made as
//!   `Anna@Bücher.de` lands on the profile created for `anna@xn--bcher-kva.de`.
//! * [`LooseEmailKey`](loose_key::LooseEmailKey) is a looser key used only to *suggest* possible
//!   duplicates (for example Gmail dots and `+tags`), never to attach bookings
//!   automatically.
//!
//! # Accepted grammar
//!
//! The mailbox grammar of RFC 5321 §4.1.2, extended by RFC 6531 for UTF-8:
//!
//! * local part: a *dot-atom* (atoms of letters, digits and
//!   ``!#$%&'*+-/=?^_`{|}~`` or any non-ASCII character, separated by single
//!   dots) or a *quoted string* (`"john doe"`, with `\"` and `\\` escapes);
//! * domain: dot-separated LDH labels (letters, digits, hyphens), or Unicode
//!   labels that UTS 46 maps to such labels (IDNA).
//!
//! Limits (RFC 5321 §4.5.3.1): 64 octets of local part and 254 octets in
//! all, checked on the address as typed and again on the key, since
//! normalisation can lengthen text; 63 octets per domain label, measured on
//! the ASCII (punycode) form.
//!
//! Rejected with a precise [`EmailError`]: RFC 5322-only forms (comments,
//! folding white space, obsolete syntax), display names and angle brackets,
//! address literals (`[127.0.0.1]`), dotless domains (`localhost`), a trailing
//! dot after the domain, all-numeric top-level domains, control characters
//! (Unicode category Cc: CR, LF, tab, NUL, …) and invisible format characters
//! (category Cf: zero-width space and joiners, soft hyphen, BOM, bidi
//! controls, …) anywhere in the address, even inside quotes, and non-ASCII
//! white space anywhere. Error positions are byte offsets in the trimmed text.
//!
//! # Key rules
//!
//! * Domain: UTS 46 ToASCII (non-transitional), lower case. ASCII domains skip
//!   IDNA unless a label starts with `xn--`; such labels go through UTS 46 so
//!   that punycode and Unicode spellings give one key.
//! * Local part: Unicode NFC, then lower case, then NFC again (lower-casing
//!   may break composition) under [`EmailKeyPolicy::CaseInsensitive`]; only
//!   NFC under [`EmailKeyPolicy::ExactCase`].
//! * A quoted local part whose content is a valid dot-atom is unquoted
//!   (`"john"@x.com` ≡ `john@x.com`); other content is re-quoted with only the
//!   escapes `\"` and `\\`.
//! * The key is itself an address whose key is itself (idempotent), so keys can
//!   be stored and re-validated.
//!
//! Performance: [`EmailKey::parse`](key::EmailKey::parse) builds the key in a stack
//! buffer (a key never exceeds 254 octets) and allocates once, for the result. A plain ASCII
//! address is checked eight bytes at a time without Unicode tables, and a
//! Unicode local part already in NFC skips normalisation.
//!
//! # Files
//!
//! This file holds what every file of the module shares: the RFC limits, the
//! [`EmailKeyPolicy`] every parse takes and the [`EmailError`] every check reports.
//! [`address`] holds the address, [`key`] the matching key, [`loose_key`] the looser
//! key, [`grammar`] the RFC 5321/5322 checks and the general path that derives a key, and
//! [`ascii`] the fast path for plain ASCII addresses.

use serde::{Deserialize, Serialize};

pub(crate) mod address;
pub(crate) mod ascii;
pub(crate) mod grammar;
pub(crate) mod key;
pub(crate) mod loose_key;

/// RFC 5321 §4.5.3.1.3 path limit (256) minus the angle brackets.
const MAX_ADDRESS_OCTETS: usize = crate::limits::EMAIL_MAX_BYTES;
/// RFC 5321 §4.5.3.1.1.
const MAX_LOCAL_OCTETS: usize = 64;
/// RFC 1035 §2.3.4 / RFC 5321 §4.5.3.1.2 (per label).
const MAX_LABEL_OCTETS: usize = 63;

/// How the local part (before the `@`) is compared.
///
/// RFC 5321 lets the receiving server treat the local part case-sensitively,
/// but virtually no real mailbox does, so [`CaseInsensitive`] is the default.
/// The domain is always compared case-insensitively.
///
/// [`CaseInsensitive`]: EmailKeyPolicy::CaseInsensitive
///
/// # Examples
///
/// ```rust
/// use customer_directory::values::{EmailKey, EmailKeyPolicy};
///
/// let loose = EmailKey::parse("Anna@Example.com", EmailKeyPolicy::CaseInsensitive)?;
/// let exact = EmailKey::parse("Anna@Example.com", EmailKeyPolicy::ExactCase)?;
/// assert_eq!(loose.as_str(), "anna@example.com");
/// assert_eq!(exact.as_str(), "Anna@example.com");
/// assert_eq!(EmailKeyPolicy::default(), EmailKeyPolicy::CaseInsensitive);
/// # Ok::<(), customer_directory::values::EmailError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub enum EmailKeyPolicy {
    /// Local part is NFC-normalised and lower-cased (default).
    #[default]
    CaseInsensitive,
    /// Local part keeps its case (still NFC-normalised).
    ExactCase,
}

/// Why an email address was rejected.
///
/// Positions are byte offsets into the trimmed input.
///
/// # Examples
///
/// ```rust
/// use customer_directory::EmailAddress;
/// use customer_directory::values::EmailError;
///
/// let err = EmailAddress::parse("anna@example..com").unwrap_err();
/// assert_eq!(err, EmailError::EmptyLabel);
/// assert_eq!(err.to_string(), "the domain has an empty label (two dots in a row or a leading dot)");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EmailError {
    /// Nothing but white space was given.
    #[error("the email address is empty")]
    Empty,
    /// There is no `@` separating local part and domain.
    #[error("the email address has no @ sign")]
    MissingAt,
    /// A second `@` appears outside a quoted local part.
    #[error("the email address has more than one @ sign (another at byte {position})")]
    MultipleAt {
        /// Byte offset of the extra `@`.
        position: usize,
    },
    /// Nothing (or an empty quoted string) before the `@`.
    #[error("the part before the @ is empty")]
    EmptyLocalPart,
    /// Nothing after the `@`.
    #[error("the domain after the @ is empty")]
    EmptyDomain,
    /// The local part exceeds 64 octets (as typed or once normalised).
    #[error("the part before the @ is {octets} bytes long; at most 64 are allowed")]
    LocalPartTooLong {
        /// Length in UTF-8 octets.
        octets: usize,
    },
    /// The address exceeds 254 octets (as typed or once normalised).
    #[error("the email address is {octets} bytes long; at most 254 are allowed")]
    AddressTooLong {
        /// Length in UTF-8 octets.
        octets: usize,
    },
    /// A domain label exceeds 63 octets in its ASCII (punycode) form.
    #[error("the domain label {label:?} is {octets} bytes long; at most 63 are allowed")]
    LabelTooLong {
        /// The label in ASCII form.
        label: String,
        /// Length in octets.
        octets: usize,
    },
    /// Two dots in a row in the domain, or a dot right after the `@`.
    #[error("the domain has an empty label (two dots in a row or a leading dot)")]
    EmptyLabel,
    /// The local part starts with a dot.
    #[error("the part before the @ starts with a dot")]
    LeadingDot,
    /// The local part ends with a dot.
    #[error("the part before the @ ends with a dot")]
    TrailingDot,
    /// The local part has two dots in a row.
    #[error("the part before the @ has two dots in a row (at byte {position})")]
    ConsecutiveDots {
        /// Byte offset of the second dot.
        position: usize,
    },
    /// The domain ends with a dot (`example.com.`).
    #[error("the domain ends with a dot")]
    DomainTrailingDot,
    /// The domain has a single label (`localhost`), not reachable on the internet.
    #[error("the domain has no dot; a public domain such as example.com is required")]
    DotlessDomain,
    /// The domain is an address literal such as `[127.0.0.1]` or `[IPv6:::1]`.
    #[error("address literals such as [127.0.0.1] are not accepted; use a domain name")]
    AddressLiteral,
    /// A display name or angle brackets (`Anna <anna@example.com>`).
    #[error("display names and angle brackets are not accepted; enter only the address")]
    DisplayName,
    /// An RFC 5322 comment in parentheses.
    #[error("comments in parentheses are not accepted (at byte {position})")]
    Comment {
        /// Byte offset of the parenthesis.
        position: usize,
    },
    /// A control character (Unicode Cc: CR, LF, tab, NUL, DEL, …).
    #[error("control character U+{code:04X} at byte {position}", code = u32::from(*.character))]
    ControlCharacter {
        /// The character.
        character: char,
        /// Byte offset of the character.
        position: usize,
    },
    /// An invisible format character (Unicode Cf: zero-width, bidi controls, BOM, …).
    #[error("invisible formatting character U+{code:04X} at byte {position}", code = u32::from(*.character))]
    FormatCharacter {
        /// The character.
        character: char,
        /// Byte offset of the character.
        position: usize,
    },
    /// White space outside a quoted local part, or non-ASCII white space anywhere.
    #[error("white space U+{code:04X} at byte {position}", code = u32::from(*.character))]
    Whitespace {
        /// The character.
        character: char,
        /// Byte offset of the character.
        position: usize,
    },
    /// A character the grammar does not allow at that place.
    #[error("invalid character {character:?} at byte {position}")]
    InvalidCharacter {
        /// The character.
        character: char,
        /// Byte offset of the character.
        position: usize,
    },
    /// A domain label starts or ends with a hyphen.
    #[error("the domain label {label:?} starts or ends with a hyphen")]
    LabelHyphen {
        /// The label as typed.
        label: String,
    },
    /// The top-level domain is all digits (`a@1.2.3.4`).
    #[error("the top-level domain is all digits")]
    NumericTopLevelDomain,
    /// A quoted local part has no closing quote.
    #[error("the quoted part before the @ has no closing quote")]
    UnterminatedQuote,
    /// The domain was rejected by UTS 46 (IDNA) processing.
    #[error("invalid internationalised domain: {reason}")]
    InvalidDomain {
        /// What was wrong.
        reason: String,
    },
}
