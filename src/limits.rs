//! The longest value every free-text input may have, in one place.
//!
//! Every string a caller hands the directory has a maximum length, checked before anything
//! is read from or written to the store, so an absurd value is refused with
//! [`Error::TooLong`](crate::service::error::Error::TooLong) (or, inside a form or an import file, the
//! same [`TooLong`] in that report) instead of being stored or handed to a database that
//! chokes on it. The limits are far above any real value: they stop mistakes and abuse,
//! not customers.
//!
//! Lengths are in Unicode scalar values (`char`s) of the trimmed text, except where a
//! constant's name says bytes (an email address, a page cursor, a password, the import file
//! and its cells, where bytes are what the standard or the memory cost counts). Values that have
//! their own type keep their limit on the type (for example [`Text::MAX_CHARS`](crate::values::text::Text::MAX_CHARS)); the
//! constants here restate them, so that this module and [`Input`] list every limit.
//!
//! # Examples
//!
//! ```
//! use customer_directory::limits::{self, Input, TooLong};
//! assert_eq!(Input::BookingCode.max(), limits::BOOKING_CODE_MAX_CHARS);
//! let long = "x".repeat(limits::BOOKING_CODE_MAX_CHARS + 1);
//! let refused = TooLong::check(Input::BookingCode, &long).unwrap_err();
//! assert_eq!((refused.length, refused.max), (limits::BOOKING_CODE_MAX_CHARS + 1, limits::BOOKING_CODE_MAX_CHARS));
//! assert_eq!(refused.to_string(), "the booking code is 129 characters long, more than the 128 allowed");
//! ```

use std::fmt;

/// A booking's code, the host's human reference ([`NewBooking::code`](crate::records::booking::NewBooking::code)).
pub const BOOKING_CODE_MAX_CHARS: usize = 128;
/// A booking status name ([`BookingStatus::MAX_CHARS`](crate::values::booking_status::BookingStatus::MAX_CHARS)).
pub const BOOKING_STATUS_MAX_CHARS: usize = 64;
/// A query's search text ([`CustomerQuery::text`](crate::ports::query::builder::CustomerQuery::text)): room for a whole email address.
pub const SEARCH_TEXT_MAX_CHARS: usize = 256;
/// A person's given, family or display name ([`PersonName::MAX_CHARS`](crate::values::text::PersonName::MAX_CHARS)).
pub const PERSON_NAME_MAX_CHARS: usize = 200;
/// An address line, city, region, postcode, custom field value, list name, note tag,
/// brochure or consent source ([`Text::MAX_CHARS`](crate::values::text::Text::MAX_CHARS)).
pub const TEXT_MAX_CHARS: usize = 1_000;
/// A note's text ([`NoteText::MAX_CHARS`](crate::records::notes::NoteText::MAX_CHARS)).
pub const NOTE_MAX_CHARS: usize = 10_000;
/// An email address, in bytes after trimming (RFC 5321: a 256-octet path less its angle
/// brackets).
pub const EMAIL_MAX_BYTES: usize = 254;
/// A phone number as typed.
pub const PHONE_MAX_CHARS: usize = 64;
/// A custom field's key, in a profile, a form, a definition, a query or an import header
/// (`[a-z0-9_]` in a definition).
pub const CUSTOM_FIELD_KEY_MAX_CHARS: usize = 64;
/// A custom field's value, in a profile or a query: a [`Text`](crate::values::text::Text).
pub const CUSTOM_FIELD_VALUE_MAX_CHARS: usize = TEXT_MAX_CHARS;
/// A custom field definition's label.
pub const CUSTOM_FIELD_LABEL_MAX_CHARS: usize = 200;
/// A custom field definition's pattern, as written.
pub const CUSTOM_FIELD_PATTERN_MAX_CHARS: usize = 1_000;
/// One choice of a choice custom field: a value it could hold.
pub const CUSTOM_FIELD_CHOICE_MAX_CHARS: usize = TEXT_MAX_CHARS;
/// The reason given for a blocklist entry or a block.
pub const BLOCK_REASON_MAX_CHARS: usize = 1_000;
/// A staff member's identifier ([`Actor::Staff`](crate::records::audit::Actor::Staff)).
pub const ACTOR_MAX_CHARS: usize = 200;
/// A page cursor's text, in bytes ([`Cursor::parse`](crate::ports::query::cursor::Cursor::parse) refuses longer
/// text as malformed; a cursor this crate writes is ASCII).
pub const CURSOR_MAX_BYTES: usize = 4_096;
/// A customer import file, in bytes.
pub const IMPORT_MAX_BYTES: usize = 32 * 1024 * 1024;
/// The data rows of a customer import file (one commit holds them all).
pub const IMPORT_MAX_ROWS: usize = 100_000;
/// The bookings of one [`Directory::record_bookings`](crate::service::directory::Directory::record_bookings)
/// call: one decision and one commit hold them all, so the bound keeps a batch's memory and
/// its transaction's length in check. Batches of about a thousand are fastest.
pub const BOOKING_BATCH_MAX: usize = 10_000;
/// One cell of a customer import file, in bytes: room for any value a field takes.
pub const IMPORT_CELL_MAX_BYTES: usize = 4_096;
/// A booking import file, in bytes: it is read row by row, never whole, so it may be far
/// larger than a customer file (about 4 GB: years of bookings at a few hundred bytes each).
pub const BOOKING_IMPORT_MAX_BYTES: usize = 4_000_000_000;
/// The data rows of a booking import file (committed in batches, so memory stays flat).
pub const BOOKING_IMPORT_MAX_ROWS: usize = 10_000_000;
/// One row of a booking import file as written, in bytes: the most that is buffered for a
/// row, however long its cells.
pub const BOOKING_IMPORT_ROW_MAX_BYTES: usize = 1024 * 1024;
/// A password, in bytes ([`MAX_PASSWORD_BYTES`](crate::values::password::hashing::MAX_PASSWORD_BYTES)).
pub const PASSWORD_MAX_BYTES: usize = 4_096;
/// A saved payment method's provider token ([`SavedPaymentMethod::MAX_TOKEN_CHARS`](crate::records::account::SavedPaymentMethod::MAX_TOKEN_CHARS)).
pub const PAYMENT_TOKEN_MAX_CHARS: usize = 255;
/// A saved payment method's brand ([`SavedPaymentMethod::MAX_BRAND_CHARS`](crate::records::account::SavedPaymentMethod::MAX_BRAND_CHARS)).
pub const PAYMENT_BRAND_MAX_CHARS: usize = 32;

/// What a limit counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Unit {
    /// Unicode scalar values of the trimmed text.
    Chars,
    /// UTF-8 bytes.
    Bytes,
    /// Rows of a file.
    Rows,
}

impl Unit {
    /// The unit's name as [`TooLong`]'s message writes it.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(customer_directory::limits::Unit::Bytes.as_str(), "bytes");
    /// ```
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Chars => "characters",
            Self::Bytes => "bytes",
            Self::Rows => "rows",
        }
    }
}

/// Every bounded input, with its limit: the table the crate documentation and the README
/// list.
///
/// # Examples
///
/// ```
/// use customer_directory::limits::{Input, Unit};
/// assert_eq!(Input::SearchText.to_string(), "search text");
/// assert_eq!(Input::ImportFile.unit(), Unit::Bytes);
/// assert!(Input::ALL.iter().all(|input| input.max() > 0));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Input {
    /// [`BOOKING_CODE_MAX_CHARS`].
    BookingCode,
    /// [`BOOKING_STATUS_MAX_CHARS`].
    BookingStatus,
    /// [`SEARCH_TEXT_MAX_CHARS`].
    SearchText,
    /// [`PERSON_NAME_MAX_CHARS`].
    PersonName,
    /// [`TEXT_MAX_CHARS`].
    Text,
    /// [`NOTE_MAX_CHARS`].
    Note,
    /// [`EMAIL_MAX_BYTES`].
    Email,
    /// [`PHONE_MAX_CHARS`].
    Phone,
    /// [`CUSTOM_FIELD_KEY_MAX_CHARS`].
    CustomFieldKey,
    /// [`CUSTOM_FIELD_VALUE_MAX_CHARS`].
    CustomFieldValue,
    /// [`CUSTOM_FIELD_LABEL_MAX_CHARS`].
    CustomFieldLabel,
    /// [`CUSTOM_FIELD_PATTERN_MAX_CHARS`].
    CustomFieldPattern,
    /// [`CUSTOM_FIELD_CHOICE_MAX_CHARS`].
    CustomFieldChoice,
    /// [`BLOCK_REASON_MAX_CHARS`].
    BlockReason,
    /// [`ACTOR_MAX_CHARS`].
    Actor,
    /// [`CURSOR_MAX_BYTES`].
    Cursor,
    /// [`IMPORT_MAX_BYTES`].
    ImportFile,
    /// [`IMPORT_MAX_ROWS`].
    ImportRows,
    /// [`IMPORT_CELL_MAX_BYTES`].
    ImportCell,
    /// [`BOOKING_BATCH_MAX`].
    BookingBatch,
    /// [`BOOKING_IMPORT_MAX_BYTES`].
    BookingImportFile,
    /// [`BOOKING_IMPORT_MAX_ROWS`].
    BookingImportRows,
    /// [`BOOKING_IMPORT_ROW_MAX_BYTES`].
    BookingImportRow,
    /// [`PASSWORD_MAX_BYTES`].
    Password,
    /// [`PAYMENT_TOKEN_MAX_CHARS`].
    PaymentToken,
    /// [`PAYMENT_BRAND_MAX_CHARS`].
    PaymentBrand,
}

impl Input {
    /// Every bounded input, in the order of the documentation's table.
    pub const ALL: [Self; 26] = [
        Self::BookingCode,
        Self::BookingStatus,
        Self::SearchText,
        Self::PersonName,
        Self::Text,
        Self::Note,
        Self::Email,
        Self::Phone,
        Self::CustomFieldKey,
        Self::CustomFieldValue,
        Self::CustomFieldLabel,
        Self::CustomFieldPattern,
        Self::CustomFieldChoice,
        Self::BlockReason,
        Self::Actor,
        Self::Cursor,
        Self::ImportFile,
        Self::ImportRows,
        Self::ImportCell,
        Self::BookingBatch,
        Self::BookingImportFile,
        Self::BookingImportRows,
        Self::BookingImportRow,
        Self::Password,
        Self::PaymentToken,
        Self::PaymentBrand,
    ];

    /// The longest value accepted, in [`unit`](Self::unit)s.
    ///
    /// # Examples
    ///
    /// ```
    /// use customer_directory::limits::{self, Input};
    /// assert_eq!(Input::Note.max(), limits::NOTE_MAX_CHARS);
    /// ```
    #[must_use]
    pub const fn max(self) -> usize {
        match self {
            Self::BookingCode => BOOKING_CODE_MAX_CHARS,
            Self::BookingStatus => BOOKING_STATUS_MAX_CHARS,
            Self::SearchText => SEARCH_TEXT_MAX_CHARS,
            Self::PersonName => PERSON_NAME_MAX_CHARS,
            Self::Text => TEXT_MAX_CHARS,
            Self::Note => NOTE_MAX_CHARS,
            Self::Email => EMAIL_MAX_BYTES,
            Self::Phone => PHONE_MAX_CHARS,
            Self::CustomFieldKey => CUSTOM_FIELD_KEY_MAX_CHARS,
            Self::CustomFieldValue => CUSTOM_FIELD_VALUE_MAX_CHARS,
            Self::CustomFieldLabel => CUSTOM_FIELD_LABEL_MAX_CHARS,
            Self::CustomFieldPattern => CUSTOM_FIELD_PATTERN_MAX_CHARS,
            Self::CustomFieldChoice => CUSTOM_FIELD_CHOICE_MAX_CHARS,
            Self::BlockReason => BLOCK_REASON_MAX_CHARS,
            Self::Actor => ACTOR_MAX_CHARS,
            Self::Cursor => CURSOR_MAX_BYTES,
            Self::ImportFile => IMPORT_MAX_BYTES,
            Self::ImportRows => IMPORT_MAX_ROWS,
            Self::ImportCell => IMPORT_CELL_MAX_BYTES,
            Self::BookingBatch => BOOKING_BATCH_MAX,
            Self::BookingImportFile => BOOKING_IMPORT_MAX_BYTES,
            Self::BookingImportRows => BOOKING_IMPORT_MAX_ROWS,
            Self::BookingImportRow => BOOKING_IMPORT_ROW_MAX_BYTES,
            Self::Password => PASSWORD_MAX_BYTES,
            Self::PaymentToken => PAYMENT_TOKEN_MAX_CHARS,
            Self::PaymentBrand => PAYMENT_BRAND_MAX_CHARS,
        }
    }

    /// What [`max`](Self::max) counts.
    ///
    /// # Examples
    ///
    /// ```
    /// use customer_directory::limits::{Input, Unit};
    /// assert_eq!(Input::Email.unit(), Unit::Bytes);
    /// assert_eq!(Input::BookingCode.unit(), Unit::Chars);
    /// ```
    #[must_use]
    pub const fn unit(self) -> Unit {
        match self {
            Self::Email
            | Self::Cursor
            | Self::ImportFile
            | Self::ImportCell
            | Self::BookingImportFile
            | Self::BookingImportRow
            | Self::Password => Unit::Bytes,
            Self::ImportRows | Self::BookingBatch | Self::BookingImportRows => Unit::Rows,
            _ => Unit::Chars,
        }
    }

    /// The input's name, as error messages and the documentation's table write it.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(customer_directory::limits::Input::CustomFieldKey.as_str(), "custom field key");
    /// ```
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::BookingCode => "booking code",
            Self::BookingStatus => "booking status",
            Self::SearchText => "search text",
            Self::PersonName => "person name",
            Self::Text => "text value",
            Self::Note => "note",
            Self::Email => "email address",
            Self::Phone => "phone number",
            Self::CustomFieldKey => "custom field key",
            Self::CustomFieldValue => "custom field value",
            Self::CustomFieldLabel => "custom field label",
            Self::CustomFieldPattern => "custom field pattern",
            Self::CustomFieldChoice => "custom field choice",
            Self::BlockReason => "block reason",
            Self::Actor => "staff identifier",
            Self::Cursor => "page cursor",
            Self::ImportFile => "import file",
            Self::ImportRows => "import file",
            Self::ImportCell => "import cell",
            Self::BookingBatch => "booking batch",
            Self::BookingImportFile => "booking import file",
            Self::BookingImportRows => "booking import file",
            Self::BookingImportRow => "booking import row",
            Self::Password => "password",
            Self::PaymentToken => "payment provider token",
            Self::PaymentBrand => "payment card brand",
        }
    }

    /// The length of `value` in this input's unit: characters of the trimmed text, bytes of
    /// the whole value, or (for [`Unit::Rows`]) its lines; the import reader counts the
    /// rows of a file itself, as CSV rows.
    ///
    /// # Examples
    ///
    /// ```
    /// use customer_directory::limits::Input;
    /// assert_eq!(Input::BookingCode.length_of("  BK-É1 "), 5);
    /// assert_eq!(Input::Email.length_of("é@x.pt"), 7);
    /// ```
    #[must_use]
    pub fn length_of(self, value: &str) -> usize {
        match self.unit() {
            Unit::Chars => value.trim().chars().count(),
            Unit::Bytes => value.len(),
            Unit::Rows => value.lines().count(),
        }
    }
}

impl fmt::Display for Input {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

/// A value longer than its input allows: which input, how long it was and the maximum, in
/// the input's [`Unit`].
///
/// # Examples
///
/// ```
/// use customer_directory::limits::{Input, TooLong};
/// let error = TooLong::check(Input::SearchText, &"a".repeat(300)).unwrap_err();
/// assert_eq!(error, TooLong { input: Input::SearchText, length: 300, max: 256 });
/// assert!(TooLong::check(Input::SearchText, &"a".repeat(256)).is_ok());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
#[error("the {input} is {length} {} long, more than the {max} allowed", .input.unit().as_str())]
pub struct TooLong {
    /// Which input.
    pub input: Input,
    /// Its length, in the input's unit.
    pub length: usize,
    /// The limit ([`Input::max`]).
    pub max: usize,
}

impl TooLong {
    /// `Ok` when `value` is within `input`'s limit. Cheap for long values: only a value
    /// longer in bytes than the limit is counted character by character.
    ///
    /// # Errors
    ///
    /// [`TooLong`] with the value's length.
    pub fn check(input: Input, value: &str) -> Result<(), Self> {
        let max = input.max();
        // A character is at least one byte: a value of at most `max` bytes fits.
        if value.len() <= max {
            return Ok(());
        }
        Self::check_length(input, input.length_of(value))
    }

    /// `Ok` when a length already measured is within `input`'s limit.
    ///
    /// # Errors
    ///
    /// [`TooLong`] with `length`.
    ///
    /// # Examples
    ///
    /// ```
    /// use customer_directory::limits::{self, Input, TooLong};
    /// assert!(TooLong::check_length(Input::ImportRows, limits::IMPORT_MAX_ROWS).is_ok());
    /// assert!(TooLong::check_length(Input::ImportRows, limits::IMPORT_MAX_ROWS + 1).is_err());
    /// ```
    pub fn check_length(input: Input, length: usize) -> Result<(), Self> {
        let max = input.max();
        if length > max {
            Err(Self { input, length, max })
        } else {
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The crate documentation's table and the README's list every limit with its value.
    #[test]
    fn the_documented_tables_list_every_limit() {
        let readme = include_str!("../README.md");
        let crate_docs = include_str!("lib.rs");
        for input in Input::ALL {
            let row = format!(
                "| {} | {} {} |",
                input.as_str(),
                group_thousands(input.max()),
                input.unit().as_str()
            );
            assert!(readme.contains(&row), "README.md lacks the row {row}");
            assert!(
                crate_docs.contains(&format!("//! {row}")),
                "src/lib.rs lacks the row {row}"
            );
        }
    }

    fn group_thousands(n: usize) -> String {
        let digits = n.to_string();
        let mut out = String::new();
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i) % 3 == 0 {
                out.push(',');
            }
            out.push(c);
        }
        out
    }

    #[test]
    fn a_value_at_the_limit_passes_and_one_over_is_refused_with_its_length() {
        // Rows are counted by the readers; a booking file's size is too large to build here
        // and its bound is tested by its reader.
        for input in Input::ALL
            .into_iter()
            .filter(|input| input.unit() != Unit::Rows && *input != Input::BookingImportFile)
        {
            let max = input.max();
            // Two-byte characters: the byte pre-check must not decide for characters.
            let unit = if input.unit() == Unit::Chars {
                "é"
            } else {
                "e"
            };
            assert_eq!(TooLong::check(input, &unit.repeat(max)), Ok(()), "{input}");
            assert_eq!(
                TooLong::check(input, &unit.repeat(max + 1)),
                Err(TooLong {
                    input,
                    length: max + 1,
                    max
                }),
                "{input}"
            );
        }
    }

    #[test]
    fn characters_are_counted_on_the_trimmed_text() {
        let padded = format!("  {}  ", "x".repeat(BOOKING_CODE_MAX_CHARS));
        assert_eq!(TooLong::check(Input::BookingCode, &padded), Ok(()));
    }
}
