//! The RFC 5321/5322 mailbox grammar (with RFC 6531 UTF-8): [`analyse`] validates a typed
//! address, from the most to the least specific reason, and writes its key into a
//! [`StackBuf`] as it goes: split at the `@`, dot-atom and quoted local parts, domain
//! checks and IDNA (UTS 46), invisible characters, and the normalised local content.
//!
//! Separate from the types it serves: this is the general path of every parse, with every
//! error case; [`EmailKey`](crate::values::email::key::EmailKey) and
//! [`EmailAddress`](crate::values::email::address::EmailAddress) call it when the ASCII fast
//! path declines.

use std::fmt;

use idna::uts46::{AsciiDenyList, DnsLength, ErrorPolicy, Hyphens, ProcessingSuccess, Uts46};
use unicode_normalization::{IsNormalized, UnicodeNormalization, is_nfc_quick};

use crate::values::email::{
    EmailError, EmailKeyPolicy, MAX_ADDRESS_OCTETS, MAX_LABEL_OCTETS, MAX_LOCAL_OCTETS,
};

/// Stack buffer size; anything that does not fit is too long anyway.
const BUFFER_OCTETS: usize = 256;

/// A fixed-capacity UTF-8 buffer on the stack.
///
/// `len` keeps counting past the capacity so the caller can report the real
/// length; the content is only usable while it fits.
pub(super) struct StackBuf {
    bytes: [u8; BUFFER_OCTETS],
    pub(super) len: usize,
}

impl StackBuf {
    pub(super) const fn new() -> Self {
        Self {
            bytes: [0; BUFFER_OCTETS],
            len: 0,
        }
    }

    fn push_bytes(&mut self, src: &[u8]) {
        let end = self.len.saturating_add(src.len());
        if let Some(dst) = self.bytes.get_mut(self.len..end) {
            dst.copy_from_slice(src);
        }
        self.len = end;
    }

    /// Appends ASCII-lower-cased bytes (bulk copy, then fold in place).
    fn push_lowercase(&mut self, src: &[u8]) {
        let start = self.len;
        self.push_bytes(src);
        if let Some(dst) = self.bytes.get_mut(start..self.len) {
            dst.make_ascii_lowercase();
        }
    }

    fn push_byte(&mut self, byte: u8) {
        self.push_bytes(&[byte]);
    }

    fn push_char(&mut self, c: char) {
        self.push_bytes(c.encode_utf8(&mut [0; 4]).as_bytes());
    }

    fn clear(&mut self) {
        self.len = 0;
    }

    /// The content, or `None` if it overflowed.
    pub(super) fn as_str(&self) -> Option<&str> {
        std::str::from_utf8(self.bytes.get(..self.len)?).ok()
    }
}

impl fmt::Write for StackBuf {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.push_bytes(s.as_bytes());
        Ok(())
    }
}

/// A validated address: the trimmed text and the index of its `@`.
pub(super) struct Analysed<'a> {
    pub(super) text: &'a str,
    pub(super) at: usize,
}

/// Validates `raw` and writes its key into `key`. Checks run from the most to
/// the least specific reason so the error tells the user what to fix.
pub(super) fn analyse<'a>(
    raw: &'a str,
    policy: EmailKeyPolicy,
    key: &mut StackBuf,
) -> Result<Analysed<'a>, EmailError> {
    let text = raw.trim();
    if text.is_empty() {
        return Err(EmailError::Empty);
    }
    reject_invisible(text)?;
    if text.len() > MAX_ADDRESS_OCTETS {
        return Err(EmailError::AddressTooLong { octets: text.len() });
    }
    let bytes = text.as_bytes();
    if bytes.first() == Some(&b'<') || (bytes.last() == Some(&b'>') && bytes.contains(&b'<')) {
        return Err(EmailError::DisplayName);
    }
    let (local, domain, quoted) = split_address(text)?;
    let at = local.len();
    let domain_offset = at + 1;
    if !quoted {
        reject_comment(local, 0)?;
    }
    reject_comment(domain, domain_offset)?;
    if local.is_empty() {
        return Err(EmailError::EmptyLocalPart);
    }
    if domain.is_empty() {
        return Err(EmailError::EmptyDomain);
    }
    if local.len() > MAX_LOCAL_OCTETS {
        return Err(EmailError::LocalPartTooLong {
            octets: local.len(),
        });
    }
    if !quoted {
        check_dot_atom(local, 0)?;
    }
    let needs_idna = check_typed_domain(domain, domain_offset)?;

    push_local_key(key, local, quoted, policy)?;
    key.push_byte(b'@');
    if needs_idna {
        let mut ascii = StackBuf::new();
        domain_to_ascii(domain, &mut ascii)?;
        let Some(ascii) = ascii.as_str() else {
            return Err(EmailError::AddressTooLong {
                octets: key.len + ascii.len,
            });
        };
        check_ascii_domain(ascii, None)?;
        key.push_bytes(ascii.as_bytes());
    } else {
        key.push_lowercase(domain.as_bytes());
    }
    if key.len > MAX_ADDRESS_OCTETS {
        return Err(EmailError::AddressTooLong { octets: key.len });
    }
    Ok(Analysed { text, at })
}

/// Rejects Cc and Cf characters anywhere (header injection, spoofing).
fn reject_invisible(text: &str) -> Result<(), EmailError> {
    if text.is_ascii() {
        // Byte-wise: no Unicode tables needed; ASCII has no Cf characters.
        return match text.bytes().position(|b| b < 0x20 || b == 0x7f) {
            Some(position) => Err(EmailError::ControlCharacter {
                character: char::from(text.as_bytes().get(position).copied().unwrap_or(0)),
                position,
            }),
            None => Ok(()),
        };
    }
    for (position, character) in text.char_indices() {
        if character.is_control() {
            return Err(EmailError::ControlCharacter {
                character,
                position,
            });
        }
        if is_format_character(character) {
            return Err(EmailError::FormatCharacter {
                character,
                position,
            });
        }
    }
    Ok(())
}

/// Unicode general category Cf (Unicode 15.1).
fn is_format_character(c: char) -> bool {
    matches!(
        u32::from(c),
        0x00AD
            | 0x0600..=0x0605
            | 0x061C
            | 0x06DD
            | 0x070F
            | 0x0890..=0x0891
            | 0x08E2
            | 0x180E
            | 0x200B..=0x200F
            | 0x202A..=0x202E
            | 0x2060..=0x2064
            | 0x2066..=0x206F
            | 0xFEFF
            | 0xFFF9..=0xFFFB
            | 0x110BD
            | 0x110CD
            | 0x13430..=0x1343F
            | 0x1BCA0..=0x1BCA3
            | 0x1D173..=0x1D17A
            | 0xE0001
            | 0xE0020..=0xE007F
    )
}

/// Splits at the separating `@`, honouring a quoted local part.
///
/// Returns `(local, domain, quoted)`. Scanning bytes is safe for any UTF-8:
/// ASCII bytes never occur inside multi-byte sequences.
fn split_address(text: &str) -> Result<(&str, &str, bool), EmailError> {
    let quoted = text.starts_with('"');
    let at = if quoted {
        let close = closing_quote(text)?;
        let after = close + 1;
        match text.as_bytes().get(after) {
            None => return Err(EmailError::MissingAt),
            Some(b'@') if close == 1 => return Err(EmailError::EmptyLocalPart),
            Some(b'@') => after,
            Some(_) => return Err(unexpected(char_at(text, after), after)),
        }
    } else {
        text.bytes()
            .position(|b| b == b'@')
            .ok_or(EmailError::MissingAt)?
    };
    let (local, rest) = text.split_at(at);
    let domain = rest.get(1..).unwrap_or_default();
    if let Some(extra) = domain.bytes().position(|b| b == b'@') {
        return Err(EmailError::MultipleAt {
            position: at + 1 + extra,
        });
    }
    Ok((local, domain, quoted))
}

/// Validates a quoted string starting at byte 0 and returns the byte index of
/// its closing quote (RFC 5321 `Quoted-string`, RFC 6531 UTF-8 `qtextSMTP`).
fn closing_quote(text: &str) -> Result<usize, EmailError> {
    let bytes = text.as_bytes();
    let mut i = 1;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'"' => return Ok(i),
            b'\\' => {
                // quoted-pairSMTP: backslash + printable ASCII or space.
                match bytes.get(i + 1) {
                    None => return Err(EmailError::UnterminatedQuote),
                    Some(0x20..=0x7e) => i += 2,
                    Some(_) => {
                        return Err(EmailError::InvalidCharacter {
                            character: char_at(text, i + 1),
                            position: i + 1,
                        });
                    }
                }
            }
            0x80.. => {
                let character = char_at(text, i);
                if character.is_whitespace() {
                    return Err(EmailError::Whitespace {
                        character,
                        position: i,
                    });
                }
                i += character.len_utf8();
            }
            // Printable ASCII and space; controls were rejected earlier.
            _ => i += 1,
        }
    }
    Err(EmailError::UnterminatedQuote)
}

/// The character starting at byte `i` (which callers know is a boundary).
fn char_at(text: &str, i: usize) -> char {
    text.get(i..)
        .and_then(|rest| rest.chars().next())
        .unwrap_or(char::REPLACEMENT_CHARACTER)
}

/// The error for a character the unquoted grammar does not allow.
fn unexpected(character: char, position: usize) -> EmailError {
    match character {
        '(' | ')' => EmailError::Comment { position },
        '@' => EmailError::MultipleAt { position },
        c if c.is_whitespace() => EmailError::Whitespace {
            character,
            position,
        },
        _ => EmailError::InvalidCharacter {
            character,
            position,
        },
    }
}

/// Reports a comment before white space or other noise around it.
fn reject_comment(part: &str, offset: usize) -> Result<(), EmailError> {
    match part.bytes().position(|b| b == b'(' || b == b')') {
        Some(i) => Err(EmailError::Comment {
            position: offset + i,
        }),
        None => Ok(()),
    }
}

/// `atext` of RFC 5322 §3.2.3 (ASCII part) and LDH bytes, as a lookup table.
const ATEXT: u8 = 1;
const LDH: u8 = 2;
const BYTE_CLASS: [u8; 128] = {
    let mut table = [0u8; 128];
    let mut i = 0;
    while i < 128 {
        if (i as u8).is_ascii_alphanumeric() {
            table[i] = ATEXT | LDH;
        }
        i += 1;
    }
    let specials = b"!#$%&'*+-/=?^_`{|}~";
    let mut j = 0;
    while j < specials.len() {
        table[specials[j] as usize] |= ATEXT;
        j += 1;
    }
    table[b'-' as usize] |= LDH;
    table
};

pub(super) fn is_atext(b: u8) -> bool {
    BYTE_CLASS
        .get(usize::from(b))
        .is_some_and(|class| class & ATEXT != 0)
}

pub(super) fn is_ldh(b: u8) -> bool {
    BYTE_CLASS
        .get(usize::from(b))
        .is_some_and(|class| class & LDH != 0)
}

/// Validates a dot-atom (RFC 5321 `Dot-string`, RFC 6531 `UTF8-non-ascii`).
fn check_dot_atom(local: &str, offset: usize) -> Result<(), EmailError> {
    let bytes = local.as_bytes();
    if bytes.first() == Some(&b'.') {
        return Err(EmailError::LeadingDot);
    }
    let mut previous_dot = false;
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'.' {
            if previous_dot {
                return Err(EmailError::ConsecutiveDots {
                    position: offset + i,
                });
            }
            previous_dot = true;
            i += 1;
            continue;
        }
        previous_dot = false;
        if b.is_ascii() {
            if !is_atext(b) {
                return Err(unexpected(char::from(b), offset + i));
            }
            i += 1;
        } else {
            let character = char_at(local, i);
            if character.is_whitespace() {
                return Err(EmailError::Whitespace {
                    character,
                    position: offset + i,
                });
            }
            i += character.len_utf8();
        }
    }
    if previous_dot {
        return Err(EmailError::TrailingDot);
    }
    Ok(())
}

/// Checks the domain as typed; returns whether it needs UTS 46 processing.
///
/// ASCII domains get the full label checks here. For Unicode domains only
/// what can be located in the typed text is checked; the rest is checked on
/// the ASCII form by [`check_ascii_domain`].
fn check_typed_domain(domain: &str, offset: usize) -> Result<bool, EmailError> {
    if domain.starts_with('[') {
        return Err(EmailError::AddressLiteral);
    }
    if domain.ends_with('.') {
        return Err(EmailError::DomainTrailingDot);
    }
    if domain.is_ascii() {
        return check_ascii_domain(domain, Some(offset));
    }
    let bytes = domain.as_bytes();
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b.is_ascii() {
            if !is_ldh(b) && b != b'.' {
                return Err(unexpected(char::from(b), offset + i));
            }
            i += 1;
        } else {
            let character = char_at(domain, i);
            if character.is_whitespace() {
                return Err(EmailError::Whitespace {
                    character,
                    position: offset + i,
                });
            }
            i += character.len_utf8();
        }
    }
    for label in domain.split('.') {
        if label.is_empty() {
            return Err(EmailError::EmptyLabel);
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Err(EmailError::LabelHyphen {
                label: label.to_owned(),
            });
        }
    }
    Ok(true)
}

/// Validates an ASCII domain in one pass: LDH labels of 1 to 63 octets
/// without edge hyphens, at least two labels, no all-numeric top-level
/// domain. Returns whether a label is an `xn--` A-label, which must go
/// through UTS 46.
///
/// `typed_offset` is the domain's byte offset in the typed address, or `None`
/// when checking UTS 46 output (which has no meaningful positions).
fn check_ascii_domain(domain: &str, typed_offset: Option<usize>) -> Result<bool, EmailError> {
    let bytes = domain.as_bytes();
    match bytes.last() {
        None => return Err(EmailError::EmptyDomain),
        Some(b'.') => return Err(EmailError::DomainTrailingDot),
        Some(_) => {}
    }
    let mut labels = 0usize;
    let mut has_a_label = false;
    let mut start = 0;
    let mut all_digits = true;
    for i in 0..=bytes.len() {
        match bytes.get(i) {
            Some(&b) if b != b'.' => {
                if !is_ldh(b) {
                    return Err(match typed_offset {
                        Some(offset) => unexpected(char::from(b), offset + i),
                        None => EmailError::InvalidDomain {
                            reason: format!("{domain:?} is not letters, digits and hyphens"),
                        },
                    });
                }
                all_digits &= b.is_ascii_digit();
            }
            _ => {
                // End of a label (a dot or the end of the domain).
                let label = domain.get(start..i).unwrap_or_default();
                labels += 1;
                if label.is_empty() {
                    return Err(EmailError::EmptyLabel);
                }
                if label.len() > MAX_LABEL_OCTETS {
                    return Err(EmailError::LabelTooLong {
                        label: label.to_owned(),
                        octets: label.len(),
                    });
                }
                if label.starts_with('-') || label.ends_with('-') {
                    return Err(EmailError::LabelHyphen {
                        label: label.to_owned(),
                    });
                }
                has_a_label |= label
                    .as_bytes()
                    .get(..4)
                    .is_some_and(|prefix| prefix.eq_ignore_ascii_case(b"xn--"));
                if i < bytes.len() {
                    all_digits = true;
                    start = i + 1;
                }
            }
        }
    }
    if labels < 2 {
        return Err(EmailError::DotlessDomain);
    }
    if all_digits {
        return Err(EmailError::NumericTopLevelDomain);
    }
    Ok(has_a_label)
}

/// UTS 46 ToASCII (non-transitional, STD3 rules, no leading/trailing hyphens)
/// into `out`, without heap allocation for DNS-sized input. Lengths are
/// checked by the caller for precise errors.
fn domain_to_ascii(domain: &str, out: &mut StackBuf) -> Result<(), EmailError> {
    let result = Uts46::new().process(
        domain.as_bytes(),
        AsciiDenyList::STD3,
        Hyphens::CheckFirstLast,
        ErrorPolicy::FailFast,
        |_, _, _| false,
        out,
        None,
    );
    match result {
        Ok(ProcessingSuccess::Passthrough) => {
            // The input is the output; it is ASCII by the API's contract.
            out.clear();
            out.push_lowercase(domain.as_bytes());
            Ok(())
        }
        Ok(ProcessingSuccess::WroteToSink) => Ok(()),
        Err(_) => Err(invalid_domain(domain)),
    }
}

/// Builds an [`EmailError::InvalidDomain`] naming the first bad label if one
/// fails on its own (bidi rules can fail only for the whole domain).
fn invalid_domain(domain: &str) -> EmailError {
    let uts46 = Uts46::new();
    let bad_label = domain.split('.').find(|label| {
        uts46
            .to_ascii(
                label.as_bytes(),
                AsciiDenyList::STD3,
                Hyphens::CheckFirstLast,
                DnsLength::Ignore,
            )
            .is_err()
    });
    let reason = match bad_label {
        Some(label) => format!("label {label:?} is not valid under UTS 46"),
        None => format!("{domain:?} mixes scripts or directions in a way UTS 46 forbids"),
    };
    EmailError::InvalidDomain { reason }
}

/// Yields the content of a local part: quotes removed, quoted pairs decoded.
#[derive(Clone)]
struct LocalContent<'a> {
    chars: std::str::Chars<'a>,
    quoted: bool,
}

impl<'a> LocalContent<'a> {
    fn new(local: &'a str, quoted: bool) -> Self {
        let inner = if quoted {
            local
                .strip_prefix('"')
                .and_then(|s| s.strip_suffix('"'))
                .unwrap_or(local)
        } else {
            local
        };
        Self {
            chars: inner.chars(),
            quoted,
        }
    }
}

impl Iterator for LocalContent<'_> {
    type Item = char;

    fn next(&mut self) -> Option<char> {
        match self.chars.next()? {
            '\\' if self.quoted => self.chars.next(),
            c => Some(c),
        }
    }
}

/// The common case of a Unicode local part: already in NFC (nearly all text typed on a
/// keyboard is), so the normalisation steps of [`push_local_key`] are the identity and only
/// lower-casing remains. Pushes the content to `content` and returns `true` when that is
/// certain: the NFC quick check says "yes" for the input and, under `lower`, for the
/// lower-cased result too, and nothing overflowed. Otherwise returns `false` and the
/// caller starts again with the full normalisation, so the key (and the length an error
/// reports) are byte for byte the same.
fn push_already_nfc(content: &mut StackBuf, chars: LocalContent<'_>, lower: bool) -> bool {
    if is_nfc_quick(chars.clone()) != IsNormalized::Yes {
        return false;
    }
    if lower {
        for c in chars.flat_map(char::to_lowercase) {
            content.push_char(c);
        }
    } else {
        for c in chars {
            content.push_char(c);
        }
    }
    match content.as_str() {
        None => false,
        Some(text) => !lower || is_nfc_quick(text.chars()) == IsNormalized::Yes,
    }
}

/// Appends the normalised local part to `key` in canonical form.
fn push_local_key(
    key: &mut StackBuf,
    local: &str,
    quoted: bool,
    policy: EmailKeyPolicy,
) -> Result<(), EmailError> {
    let lower = policy == EmailKeyPolicy::CaseInsensitive;
    if !quoted && local.is_ascii() {
        // Fast path: an ASCII dot-atom only needs case folding.
        if lower {
            key.push_lowercase(local.as_bytes());
        } else {
            key.push_bytes(local.as_bytes());
        }
        return Ok(());
    }

    let mut content = StackBuf::new();
    let chars = LocalContent::new(local, quoted);
    if local.is_ascii() {
        for c in chars {
            content.push_char(if lower { c.to_ascii_lowercase() } else { c });
        }
    } else if !push_already_nfc(&mut content, chars.clone(), lower) {
        content.clear();
        if lower {
            // NFC, lower case, NFC again: lower-casing can leave a string that is
            // not NFC, and the key must be a fixed point of this function.
            for c in chars.nfc().flat_map(char::to_lowercase).nfc() {
                content.push_char(c);
            }
        } else {
            for c in chars.nfc() {
                content.push_char(c);
            }
        }
    }
    let Some(content) = content.as_str() else {
        return Err(EmailError::LocalPartTooLong {
            octets: content.len,
        });
    };
    if check_dot_atom(content, 0).is_ok() {
        key.push_bytes(content.as_bytes());
    } else {
        key.push_byte(b'"');
        for c in content.chars() {
            if c == '"' || c == '\\' {
                key.push_byte(b'\\');
            }
            key.push_char(c);
        }
        key.push_byte(b'"');
    }
    if key.len > MAX_LOCAL_OCTETS {
        return Err(EmailError::LocalPartTooLong { octets: key.len });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(4096))]

        /// When the NFC shortcut answers, it gives what the full normalisation gives, for
        /// dot-atoms and quoted content, under both policies; characters that stress NFC and
        /// case mapping (combining marks, singletons such as Kelvin and U+037E, İ, final
        /// sigma, titlecase, Hangul jamo, Greek with ypogegrammeni).
        #[test]
        fn nfc_shortcut_agrees_with_full_normalisation(
            local in "[a-zA-Z0-9.+\u{e9}\u{c9}\u{fc}\u{dc}\u{df}\u{1e9e}\u{130}\u{131}\u{3a3}\u{3c3}\u{3c2}\u{17f}\u{212a}\u{2126}\u{212b}\u{c5}\u{301}\u{308}\u{327}\u{37e}\u{1fef}\u{1c4}\u{1c5}\u{1c6}\u{fb01}\u{1100}\u{1161}\u{ac00}\u{345}\u{1fbc}\u{1fb3}\u{4e00}]{1,24}",
            quoted in proptest::prelude::any::<bool>(),
            lower in proptest::prelude::any::<bool>(),
        ) {
            let text = if quoted { format!("\"{local}\"") } else { local };
            let chars = LocalContent::new(&text, quoted);
            let mut shortcut = StackBuf::new();
            if push_already_nfc(&mut shortcut, chars.clone(), lower) {
                let full: String = if lower {
                    chars.nfc().flat_map(char::to_lowercase).nfc().collect()
                } else {
                    chars.nfc().collect()
                };
                proptest::prop_assert_eq!(shortcut.as_str(), Some(full.as_str()));
            }
        }
    }

    #[test]
    fn nfc_shortcut_declines_what_it_cannot_vouch_for() {
        for (local, lower) in [
            ("e\u{301}", false),
            ("\u{212a}", true),
            ("\u{1fbc}\u{301}", true),
        ] {
            let mut buf = StackBuf::new();
            assert!(
                !push_already_nfc(&mut buf, LocalContent::new(local, false), lower),
                "{local:?}"
            );
        }
        let mut buf = StackBuf::new();
        assert!(push_already_nfc(
            &mut buf,
            LocalContent::new("J\u{f6}rg", false),
            true
        ));
        assert_eq!(buf.as_str(), Some("j\u{f6}rg"));
    }

    #[test]
    fn byte_classes_follow_rfc_5322_atext() {
        for b in 0u8..=255 {
            let expected = b.is_ascii_alphanumeric() || b"!#$%&'*+-/=?^_`{|}~".contains(&b);
            assert_eq!(is_atext(b), expected, "atext {b:#x}");
            let ldh = b.is_ascii_alphanumeric() || b == b'-';
            assert_eq!(is_ldh(b), ldh, "ldh {b:#x}");
        }
    }

    #[test]
    fn format_characters_cover_the_usual_suspects() {
        for c in [
            '\u{AD}',
            '\u{200B}',
            '\u{200C}',
            '\u{200D}',
            '\u{200E}',
            '\u{200F}',
            '\u{202A}',
            '\u{202E}',
            '\u{2060}',
            '\u{2066}',
            '\u{2069}',
            '\u{FEFF}',
            '\u{E0041}',
        ] {
            assert!(is_format_character(c), "{c:?}");
        }
        for c in ['a', 'é', '\u{301}', ' ', '\u{A0}', '가'] {
            assert!(!is_format_character(c), "{c:?}");
        }
    }

    #[test]
    fn stack_buffer_counts_past_capacity() {
        let mut buf = StackBuf::new();
        buf.push_bytes(&[b'a'; BUFFER_OCTETS]);
        assert_eq!(buf.as_str().map(str::len), Some(BUFFER_OCTETS));
        buf.push_char('é');
        assert_eq!(buf.len, BUFFER_OCTETS + 2);
        assert_eq!(buf.as_str(), None);
        buf.push_byte(b'b');
        assert_eq!(buf.len, BUFFER_OCTETS + 3);
        buf.clear();
        buf.push_char('é');
        assert_eq!(buf.as_str(), Some("é"));
    }

    #[test]
    fn local_content_decodes_quoted_pairs() {
        let content: String = LocalContent::new(r#""a\"b\\c\d""#, true).collect();
        assert_eq!(content, r#"a"b\cd"#);
        let content: String = LocalContent::new(r"a\b", false).collect();
        assert_eq!(content, r"a\b");
    }

    #[test]
    fn quoted_string_scanner() {
        assert_eq!(closing_quote(r#""ab"@x"#), Ok(3));
        assert_eq!(closing_quote(r#""a\"b"@x"#), Ok(5));
        assert_eq!(closing_quote(r#""ab"#), Err(EmailError::UnterminatedQuote));
        assert_eq!(closing_quote(r#""ab\"#), Err(EmailError::UnterminatedQuote));
        assert_eq!(
            closing_quote("\"a\\é\""),
            Err(EmailError::InvalidCharacter {
                character: 'é',
                position: 3
            })
        );
        assert_eq!(
            closing_quote("\"a\u{A0}b\""),
            Err(EmailError::Whitespace {
                character: '\u{A0}',
                position: 2
            })
        );
    }

    #[test]
    fn ascii_domain_checks() {
        assert_eq!(check_ascii_domain("a.b", None), Ok(false));
        assert_eq!(check_ascii_domain("XN--bcher-kva.de", None), Ok(true));
        assert_eq!(
            check_ascii_domain("a", None),
            Err(EmailError::DotlessDomain)
        );
        assert_eq!(
            check_ascii_domain("a.", None),
            Err(EmailError::DomainTrailingDot)
        );
        assert_eq!(check_ascii_domain(".a", None), Err(EmailError::EmptyLabel));
        assert_eq!(
            check_ascii_domain("a.123", None),
            Err(EmailError::NumericTopLevelDomain)
        );
        assert_eq!(
            check_ascii_domain("a-.com", None),
            Err(EmailError::LabelHyphen { label: "a-".into() })
        );
        assert!(matches!(
            check_ascii_domain("a_b.com", None),
            Err(EmailError::InvalidDomain { .. })
        ));
        assert_eq!(
            check_ascii_domain("a_b.com", Some(2)),
            Err(EmailError::InvalidCharacter {
                character: '_',
                position: 3
            })
        );
    }
}
