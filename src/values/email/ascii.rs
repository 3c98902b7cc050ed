//! The ASCII fast path of [`EmailKey::parse`](crate::values::email::key::EmailKey::parse), eight bytes at a time.
//!
//! Nearly every address typed into a booking form is an ASCII dot-atom at an ASCII
//! domain. Validating one is a question about classes of bytes (is every byte before the
//! `@` an `atext` byte or a dot; is every byte after it a letter, digit, hyphen or dot) and
//! about neighbours (no dot after a dot or at either end of the local part, no empty
//! label, no hyphen at a label's edge). Byte by byte that is a table load and an
//! unpredictable branch per byte, which was most of the time of a key. Here both questions
//! are answered for eight bytes at once with integer arithmetic on `u64` words ("SIMD
//! within a register"): portable, and free of `unsafe` and of runtime CPU detection.
//!
//! A word holds eight bytes, byte `j` in bits `8j..8j + 8` (little-endian). Every answer
//! is a *lane mask*: bit `8j + 7` set when the answer for byte `j` is yes, all other bits
//! clear. Bytes are known to be ASCII (below 0x80) before any class is computed, so adding
//! a constant below 0x80 to a word never carries from one byte into the next, and the top
//! bit of each byte of the sum tells whether that byte reached a threshold.
//!
//! Everything here only decides *whether* the fast path may answer. Any doubt returns
//! `None` and the caller takes the general path, which finds the precise error; for the
//! input it accepts, the general path gives the same key (property-tested).

use crate::values::email::{
    EmailKeyPolicy, MAX_ADDRESS_OCTETS, MAX_LABEL_OCTETS, MAX_LOCAL_OCTETS,
};

/// Bytes per word.
const LANES: usize = 8;
/// 0x01 in every byte.
const ONES: u64 = u64::from_le_bytes([0x01; LANES]);
/// The flag bit of every byte.
const FLAGS: u64 = u64::from_le_bytes([0x80; LANES]);
/// The flag bit of the last byte only: how "the byte before this word" is passed on.
const LAST_LANE: u64 = 1 << 63;

/// Where membership of "RFC 5322 `atext`, a dot or `@`" changes, ascending: bytes from an
/// even-indexed entry up to the next entry are members. A byte's class is then the parity
/// of the number of entries at or below it, which needs one addition per entry and no
/// table. Members: `!`, `#`–`'`, `*`–`+`, `-`–`9` (`-`, `.`, `/`, digits), `=`, `?`–`Z`
/// (`?`, `@`, upper case), `^`–`~` (`^`, `_`, `` ` ``, lower case, `{`, `|`, `}`, `~`).
/// `@` is a member only to save two entries: the class is asked only about the bytes
/// before the first `@`.
const LOCAL_BOUNDARIES: [u8; 14] = [
    0x21, 0x22, 0x23, 0x28, 0x2a, 0x2c, 0x2d, 0x3a, 0x3d, 0x3e, 0x3f, 0x5b, 0x5e, 0x7f,
];

/// The same for "letter, digit, hyphen or dot" (LDH bytes and the label separator):
/// `-`–`.`, digits, `A`–`Z`, `a`–`z`.
const DOMAIN_BOUNDARIES: [u8; 8] = [0x2d, 0x2f, 0x30, 0x3a, 0x41, 0x5b, 0x61, 0x7b];

/// Validates `text` (already trimmed) as an ASCII dot-atom at an ASCII domain without
/// A-labels, within every length limit, and returns its key and the index of its `@`.
///
/// The key is one exactly sized allocation, lower-cased in bulk; nothing is allocated
/// before the input is known to be valid, so declining costs no allocation.
pub(super) fn ascii_fast_key(text: &str, policy: EmailKeyPolicy) -> Option<(Box<str>, usize)> {
    let bytes = text.as_bytes();
    if bytes.len() > MAX_ADDRESS_OCTETS {
        return None;
    }
    let at = local_part_end(bytes).filter(|&at| at <= MAX_LOCAL_OCTETS)?;
    check_domain(bytes, at + 1)?;
    let mut key = Box::<str>::from(text);
    let folded = if policy == EmailKeyPolicy::CaseInsensitive {
        Some(&mut *key)
    } else {
        key.get_mut(at + 1..)
    };
    if let Some(folded) = folded {
        folded.make_ascii_lowercase();
    }
    Some((key, at))
}

/// Finds the `@` after a valid dot-atom local part of 1 to 64 octets.
fn local_part_end(bytes: &[u8]) -> Option<usize> {
    // A dot "before" the text makes a leading dot look like a second dot in a row, and an
    // empty local part like a dot just before the @: both are refused by the same tests.
    let mut previous_dots = LAST_LANE;
    let mut offset = 0;
    // The @ may sit at index 64 at the latest; the word holding index 64 is the last read.
    while offset <= MAX_LOCAL_OCTETS {
        let present = lanes_present(bytes.len().checked_sub(offset)?);
        let word = load(bytes, offset);
        if word & FLAGS != 0 {
            return None; // Not ASCII.
        }
        let at_signs = equal_to(word, b'@') & present;
        let first_at = at_signs & at_signs.wrapping_neg();
        let local = lanes_before(first_at) & present;
        let dots = equal_to(word, b'.');
        let after_dot = shifted_in(dots, previous_dots);
        let refused = (!in_class(word, &LOCAL_BOUNDARIES) & local)
            | (dots & after_dot & local)
            | (first_at & after_dot);
        if refused != 0 {
            return None;
        }
        if first_at != 0 {
            return Some(offset + lane_index(first_at));
        }
        if present != FLAGS {
            return None; // The text ends without an @.
        }
        previous_dots = dots;
        offset += LANES;
    }
    None
}

/// Checks the domain `bytes[start..]`: LDH labels of 1 to 63 octets without edge hyphens,
/// at least two, no A-label (those need UTS 46), no all-numeric top-level domain.
fn check_domain(bytes: &[u8], start: usize) -> Option<()> {
    // A domain ending in a dot or a hyphen ends with an empty label or a bad edge; an
    // empty domain leaves the @ as the last byte.
    if matches!(bytes.last(), Some(b'.' | b'-' | b'@') | None) {
        return None;
    }
    // The @ separates like a dot: the first label must not be empty or start with '-'.
    let mut previous_dots = LAST_LANE;
    let mut previous_hyphens = 0;
    let mut previous_starts = 0;
    let mut any_dot = 0;
    let mut maybe_a_label = 0;
    let mut offset = start;
    // No early exit and no per-label work in the loop: the words of a domain are few and
    // a branch that depends on where its dots fall would be mispredicted more often than
    // not, which costs more than the arithmetic.
    while let Some(remaining) = bytes.len().checked_sub(offset).filter(|&n| n > 0) {
        let present = lanes_present(remaining);
        let word = load(bytes, offset);
        let dots = equal_to(word, b'.') & present;
        let hyphens = equal_to(word, b'-') & present;
        let starts = shifted_in(dots, previous_dots); // Lanes that start a label.
        let refused = (word & FLAGS) // not ASCII
            | (!in_class(word, &DOMAIN_BOUNDARIES) & present)
            | ((dots | hyphens) & starts) // an empty label, or one starting with '-'
            | (dots & shifted_in(hyphens, previous_hyphens)); // a label ending with '-'
        if refused != 0 {
            return None;
        }
        // "--" as the third and fourth bytes of a label: the shape of an `xn--` A-label.
        maybe_a_label |= hyphens
            & shifted_in(hyphens, previous_hyphens)
            & shifted_by(starts, previous_starts, 3);
        any_dot |= dots;
        previous_dots = dots;
        previous_hyphens = hyphens;
        previous_starts = starts;
        offset += LANES;
    }
    if any_dot == 0 {
        return None; // Dotless.
    }
    let domain = bytes.get(start..)?;
    // Rare shapes, checked label by label: a domain long enough to hold a label over 63
    // octets, or a label that may be an A-label.
    if (domain.len() > MAX_LABEL_OCTETS || maybe_a_label != 0)
        && domain.split(|&b| b == b'.').any(|label| {
            label.len() > MAX_LABEL_OCTETS
                || label
                    .get(..4)
                    .is_some_and(|prefix| prefix.eq_ignore_ascii_case(b"xn--"))
        })
    {
        return None;
    }
    // The top-level domain is not all digits (the scan stops at its last non-digit).
    if domain
        .iter()
        .rev()
        .take_while(|&&b| b != b'.')
        .all(u8::is_ascii_digit)
    {
        return None;
    }
    Some(())
}

/// Eight bytes from `offset`, zero past the end of `bytes`.
///
/// A word that runs past the end is read as the last eight bytes of the text, shifted
/// down: one full load. Assembling it byte by byte in a stack buffer would make the
/// processor wait for those stores before the load (no store forwarding for mixed sizes),
/// which cost more than all the arithmetic on the word. Only texts shorter than a word
/// take that slower road.
fn load(bytes: &[u8], offset: usize) -> u64 {
    if let Some(word) = bytes.get(offset..offset + LANES) {
        return u64::from_le_bytes(word.try_into().unwrap_or_default());
    }
    let missing = offset + LANES - bytes.len().max(offset);
    match bytes
        .len()
        .checked_sub(LANES)
        .and_then(|tail| bytes.get(tail..))
    {
        Some(tail) if missing < LANES => {
            u64::from_le_bytes(tail.try_into().unwrap_or_default()) >> (8 * missing)
        }
        Some(_) => 0,
        None => {
            let mut word = [0u8; LANES];
            let rest = bytes.get(offset..).unwrap_or_default();
            if let Some(head) = word.get_mut(..rest.len()) {
                head.copy_from_slice(rest);
            }
            u64::from_le_bytes(word)
        }
    }
}

/// The lanes of the first `count` bytes of a word (all lanes from eight on).
fn lanes_present(count: usize) -> u64 {
    if count >= LANES {
        FLAGS
    } else {
        FLAGS & ((1u64 << (8 * count)) - 1)
    }
}

/// The lanes before the lowest flagged one; all lanes if none is flagged.
fn lanes_before(lowest: u64) -> u64 {
    lowest.wrapping_sub(1) & FLAGS
}

/// The byte index of the lowest flagged lane (`mask` not zero).
fn lane_index(mask: u64) -> usize {
    (mask.trailing_zeros() / 8) as usize
}

/// Each lane gets the flag of the byte before it: the lane below, or for the first lane
/// the last lane of the previous word.
fn shifted_in(flags: u64, previous_word: u64) -> u64 {
    shifted_by(flags, previous_word, 1)
}

/// Each lane gets the flag of the byte `lanes` before it (1 to 7), reaching into the
/// previous word for the first lanes.
fn shifted_by(flags: u64, previous_word: u64, lanes: u32) -> u64 {
    (flags << (8 * lanes)) | (previous_word >> (64 - 8 * lanes))
}

/// Lanes whose byte equals `byte` (ASCII word).
fn equal_to(word: u64, byte: u8) -> u64 {
    // XOR leaves zero exactly in the equal bytes; adding 0x7f sets the top bit of every
    // other byte without carrying out of it.
    !(word ^ (ONES * u64::from(byte))).wrapping_add(ONES * 0x7f) & FLAGS
}

/// Lanes whose byte is in the class described by `boundaries` (ASCII word).
#[inline(always)]
fn in_class<const N: usize>(word: u64, boundaries: &[u8; N]) -> u64 {
    let mut parity = 0;
    for &boundary in boundaries {
        // Top bit of each byte: byte >= boundary (the sum stays below 0x100).
        parity ^= word.wrapping_add(ONES * u64::from(0x80 - boundary));
    }
    parity & FLAGS
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::values::email::grammar::{is_atext, is_ldh};

    fn lanes(flags: u64) -> Vec<bool> {
        (0..LANES).map(|j| flags >> (8 * j + 7) & 1 == 1).collect()
    }

    #[test]
    fn classes_match_the_byte_tables_in_every_lane() {
        for byte in 0u8..0x80 {
            for lane in 0..LANES {
                // The byte in one lane among neighbours from both classes.
                let mut bytes = *b"a.;-@Z~ ";
                bytes[lane] = byte;
                let word = u64::from_le_bytes(bytes);
                let local = lanes(in_class(word, &LOCAL_BOUNDARIES));
                let domain = lanes(in_class(word, &DOMAIN_BOUNDARIES));
                let equal = lanes(equal_to(word, byte));
                for (j, &b) in bytes.iter().enumerate() {
                    let local_member = is_atext(b) || b == b'.' || b == b'@';
                    assert_eq!(local[j], local_member, "local {b:#x} lane {j}");
                    assert_eq!(domain[j], is_ldh(b) || b == b'.', "domain {b:#x} lane {j}");
                    assert_eq!(equal[j], b == byte, "equal {b:#x} lane {j}");
                }
            }
        }
    }

    #[test]
    fn lane_helpers() {
        assert_eq!(lanes_present(0), 0);
        assert_eq!(lanes_present(3), 0x0000_0000_0080_8080);
        assert_eq!(lanes_present(8), FLAGS);
        assert_eq!(lanes_present(200), FLAGS);
        assert_eq!(lanes_before(0), FLAGS);
        assert_eq!(lanes_before(0x80 << 16), 0x8080);
        assert_eq!(lane_index(0x80 << 40), 5);
        assert_eq!(shifted_in(0x80, LAST_LANE), 0x8080);
        assert_eq!(load(b"abc", 0), u64::from_le_bytes(*b"abc\0\0\0\0\0"));
        assert_eq!(
            load(b"abcdefghij", 8),
            u64::from_le_bytes(*b"ij\0\0\0\0\0\0")
        );
        assert_eq!(load(b"abcdefghij", 5), u64::from_le_bytes(*b"fghij\0\0\0"));
        assert_eq!(load(b"abcdefghij", 10), 0);
        assert_eq!(load(b"abc", 3), 0);
        assert_eq!(load(b"abc", 9), 0);
    }

    #[test]
    fn non_ascii_in_any_word_declines() {
        for len in 1..40 {
            for i in 0..len {
                let mut raw = vec![b'a'; len];
                raw.extend_from_slice(b"@example.com");
                raw[i] = 0xc3;
                raw.insert(i + 1, 0xa9); // é
                let text = String::from_utf8(raw).unwrap_or_default();
                assert_eq!(ascii_fast_key(&text, EmailKeyPolicy::default()), None);
            }
        }
    }
}
