//! Keyset pagination: the opaque [`Cursor`] (its `c2` text format and the query
//! fingerprint it carries), why one is refused ([`CursorError`]), and the [`CustomerPage`]
//! a search answers with.
//!
//! Separate from the query because the cursor's format is a contract with hosts (cursors
//! travel through URLs and must be refused for another query), and it changes only with
//! its first field (`c2`).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::ports::query::builder::CustomerQuery;
use crate::ports::query::evaluation::{SortPosition, SortValue};
use crate::records::customer::Customer;

/// A page of search results.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CustomerPage {
    /// The customers, in the query's order.
    pub customers: Vec<Customer>,
    /// Where the next page starts; `None` on the last page.
    pub next: Option<Cursor>,
}

/// Why a cursor was refused.
///
/// # Examples
///
/// ```
/// use customer_directory::ports::{Cursor, CursorError};
/// assert_eq!("not a cursor".parse::<Cursor>(), Err(CursorError::Malformed));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CursorError {
    /// The text is not a cursor this crate wrote.
    #[error("the page cursor is malformed")]
    Malformed,
    /// The cursor belongs to another query (other filters, sort or direction).
    #[error("the page cursor belongs to another query")]
    Mismatch,
}

/// Where the next page of a query starts: an opaque, URL-safe token (ASCII letters, digits,
/// `.` and `-`). It holds the last row's sort key and id and a fingerprint of the query, so
/// it is refused for another query.
///
/// # Order and pagination
///
/// Rows are ordered by the sort key, then by customer id, both in the query's direction, so
/// the order is total: no two rows share a position. A page ends with a [`Cursor`] holding
/// the last row's sort key and id, and the next page starts **strictly after** that
/// position. Nothing is held on the server between pages. What this guarantees while
/// customers and bookings are recorded between pages:
///
/// - a customer that matches the query on every page and whose sort key does not change is
///   listed exactly once, in order;
/// - a customer created (or starting to match) during the paging is listed only if its
///   position lies after the cursor when the next page is read;
/// - so sorting by creation time (which never changes) or by name (which a booking changes
///   only when it fills in a name the profile lacked), recording bookings between pages
///   repeats and skips no customer whose name is unchanged and that keeps matching;
/// - a key that changes moves its customer: sorting by a booking statistic (last booking,
///   booking count, total value), which grows as bookings are recorded, a customer whose
///   key grows may be listed twice in ascending order (never skipped) and may be skipped in
///   descending order (never listed twice); a key that shrinks (a cancellation, a booking
///   moved away, a rename) does the opposite.
///
/// # Examples
///
/// ```
/// use customer_directory::ports::{Cursor, CursorError};
/// use customer_directory::CustomerQuery;
/// assert_eq!(Cursor::parse("c2.zz"), Err(CursorError::Malformed));
/// # let _ = CustomerQuery::new();
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Cursor {
    fingerprint: u64,
    position: SortPosition,
}

/// The longest cursor text accepted, in bytes.
const MAX_CURSOR_BYTES: usize = crate::limits::CURSOR_MAX_BYTES;

/// The cursor text's format and version, its first field. `c2` fingerprints the query's
/// [canonical bytes](CustomerQuery::canonical_bytes); a cursor of another version (`c1`
/// hashed the query's `Debug` form) is malformed, and the listing starts again from the
/// first page.
const CURSOR_FORMAT: &str = "c2";

impl Cursor {
    /// Reads a cursor from its text (see [`Display`](fmt::Display)).
    ///
    /// # Errors
    ///
    /// [`CursorError::Malformed`] for any text this crate did not write.
    pub fn parse(text: &str) -> Result<Self, CursorError> {
        if text.len() > MAX_CURSOR_BYTES {
            return Err(CursorError::Malformed);
        }
        let mut parts = text.split('.');
        let (Some(CURSOR_FORMAT), Some(fingerprint), Some(kind), Some(value), Some(id), None) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        ) else {
            return Err(CursorError::Malformed);
        };
        if fingerprint.len() != 16 {
            return Err(CursorError::Malformed);
        }
        let fingerprint =
            u64::from_str_radix(fingerprint, 16).map_err(|_| CursorError::Malformed)?;
        let value = match kind {
            "i" => SortValue::Int(value.parse().map_err(|_| CursorError::Malformed)?),
            "t" => SortValue::Text(
                hex::decode(value)
                    .ok()
                    .and_then(|bytes| String::from_utf8(bytes).ok())
                    .ok_or(CursorError::Malformed)?,
            ),
            _ => return Err(CursorError::Malformed),
        };
        let id = id.parse().map_err(|_| CursorError::Malformed)?;
        Ok(Self {
            fingerprint,
            position: SortPosition { value, id },
        })
    }

    /// The position of the last row of the page this cursor ends.
    #[must_use]
    pub fn position(&self) -> &SortPosition {
        &self.position
    }
}

impl fmt::Display for Cursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{CURSOR_FORMAT}.{:016x}.", self.fingerprint)?;
        match &self.position.value {
            SortValue::Int(value) => write!(f, "i.{value}")?,
            SortValue::Text(text) => write!(f, "t.{}", hex::encode(text))?,
        }
        write!(f, ".{}", self.position.id)
    }
}

impl FromStr for Cursor {
    type Err = CursorError;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::parse(text)
    }
}

impl Serialize for Cursor {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Cursor {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        Self::parse(&text).map_err(serde::de::Error::custom)
    }
}

// Cursors of a query: these need the cursor's private fields and the query's fingerprint,
// so they live with the cursor.
impl CustomerQuery {
    /// The cursor that continues this query after `position`.
    #[must_use]
    pub fn cursor_after(&self, position: SortPosition) -> Cursor {
        Cursor {
            fingerprint: self.fingerprint(),
            position,
        }
    }

    /// The position a cursor continues after, if the cursor was made for this query.
    ///
    /// # Errors
    ///
    /// [`CursorError::Mismatch`] when it belongs to another query (other filters, sort or
    /// direction).
    pub fn continue_after<'c>(&self, cursor: &'c Cursor) -> Result<&'c SortPosition, CursorError> {
        if cursor.fingerprint != self.fingerprint() || !self.fits(&cursor.position.value) {
            return Err(CursorError::Mismatch);
        }
        Ok(&cursor.position)
    }

    /// The fingerprint a cursor of this query carries: the first 8 bytes of the SHA-256 of
    /// [`canonical_bytes`](Self::canonical_bytes), big-endian.
    fn fingerprint(&self) -> u64 {
        let digest = Sha256::digest(self.canonical_bytes());
        let mut bytes = [0_u8; 8];
        bytes.copy_from_slice(&digest[..8]);
        u64::from_be_bytes(bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::query::builder::{SortBy, SortDirection};
    use crate::values::ids::CustomerId;

    #[test]
    fn cursors_round_trip_and_refuse_garbage() {
        let query = CustomerQuery::new();
        let id = CustomerId::new();
        for value in [
            SortValue::Text("núñez élodie.x".into()),
            SortValue::Text(String::new()),
            SortValue::Int(-42),
            SortValue::Int(i64::MIN),
        ] {
            let cursor = query.cursor_after(SortPosition::new(value.clone(), id));
            let text = cursor.to_string();
            assert!(
                text.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-'),
                "{text}"
            );
            assert_eq!(Cursor::parse(&text), Ok(cursor));
        }
        for bad in [
            "",
            "c2",
            "c2.0.i.1.x",
            // Another format version: `c1` hashed the query's `Debug` form.
            "c1.0000000000000000.i.1.0190a0a0-0000-7000-8000-000000000000",
            "c3.0000000000000000.i.1.0190a0a0-0000-7000-8000-000000000000",
            "c2.0000000000000000.t.f.0190a0a0-0000-7000-8000-000000000000",
            "c2.0000000000000000.t.ff.0190a0a0-0000-7000-8000-000000000000",
            "c2.0000000000000000.q.1.0190a0a0-0000-7000-8000-000000000000",
            "c2.0000000000000000.i.1.0190a0a0-0000-7000-8000-000000000000.x",
            "c2.000000000000000g.i.1.0190a0a0-0000-7000-8000-000000000000",
            "c2.0000000000000000.i.99999999999999999999.0190a0a0-0000-7000-8000-000000000000",
        ] {
            assert_eq!(Cursor::parse(bad), Err(CursorError::Malformed), "{bad}");
        }
        assert_eq!(
            Cursor::parse(&"a".repeat(MAX_CURSOR_BYTES + 1)),
            Err(CursorError::Malformed)
        );
    }

    #[test]
    fn a_cursor_fits_only_its_own_query() {
        let by_name = CustomerQuery::new();
        let cursor = by_name.cursor_after(SortPosition::new(
            SortValue::Text("a".into()),
            CustomerId::new(),
        ));
        assert!(by_name.continue_after(&cursor).is_ok());
        for other in [
            CustomerQuery::new().text("x"),
            CustomerQuery::new().sorted_by(SortBy::Name, SortDirection::Descending),
            CustomerQuery::new().include_archived(),
        ] {
            assert_eq!(other.continue_after(&cursor), Err(CursorError::Mismatch));
        }
    }
}
