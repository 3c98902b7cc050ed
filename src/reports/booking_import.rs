//! Reading bookings exported by another system from CSV, one row at a time.
//!
//! A business moving to a host built on this crate brings years of bookings as a CSV file
//! in its old system's shape. [`BookingColumns`] says which header holds what;
//! [`BookingReader`] reads any [`io::Read`] row by row and yields, for each data row, either
//! a [`NewBooking`] ready for the directory or every problem of that row, so a file of
//! millions of rows is never held in memory. Values are read with the crate's own rules:
//! amounts with [`Money::parse_amount`] in the row's [`Currency`], statuses with
//! [`BookingStatus::new`], contact details with [`ContactForm::parse`]. Historical values
//! are kept as they are: a cancelled booking of 2019 stays cancelled and dated 2019.
//!
//! Bounds: the file is held to [`BOOKING_IMPORT_MAX_BYTES`](limits::BOOKING_IMPORT_MAX_BYTES)
//! and [`BOOKING_IMPORT_MAX_ROWS`](limits::BOOKING_IMPORT_MAX_ROWS) data rows, one row of the
//! file to [`BOOKING_IMPORT_ROW_MAX_BYTES`](limits::BOOKING_IMPORT_ROW_MAX_BYTES) (so no more
//! than that is ever buffered for a row) and each cell to
//! [`IMPORT_CELL_MAX_BYTES`](limits::IMPORT_CELL_MAX_BYTES), as a customer file's cells.
//! A cell over its limit makes its row invalid; the other limits stop the reading.

use std::collections::VecDeque;
use std::fmt;
use std::io;

use chrono::{DateTime, Utc};
use encoding_rs_io::DecodeReaderBytes;

use crate::limits::{self, Input, TooLong};
use crate::records::booking::{BookingProblem, NewBooking};
use crate::records::contact_form::{ContactForm, FieldError};
use crate::records::profile::Detail;
use crate::reports::csv::restore_cell;
use crate::settings::DirectorySettings;
use crate::values::booking_status::BookingStatus;
use crate::values::money::{Currency, Money, MoneyError};
use crate::values::text::{TextError, matching_form};

mod format;

/// An IANA time zone (`"Europe/Lisbon".parse::<Tz>()`), for
/// [`BookingFileFormat::time_zone`]: re-exported so a host needs no dependency of its own.
pub use chrono_tz::Tz;
/// A text encoding (`Encoding::for_label(b"windows-1252")`), for
/// [`BookingFileFormat::encoding`]: re-exported so a host needs no dependency of its own.
pub use encoding_rs::Encoding;
pub use format::{BookingFileFormat, DateOrder, DecimalSeparator, FormatError};

/// Which header of a booking file holds each value of a booking.
///
/// Headers are matched as the directory compares names: ignoring case (Unicode case
/// folding, so `CÓDIGO` is `Código`), Unicode compatibility forms (a composed `ó` or an
/// `o` with a combining accent) and white space around them or repeated within them. The
/// code, status, start and total columns must be in the file; so must the currency column,
/// unless a [`default_currency`](Self::default_currency) is set. Every other column is
/// optional: when the file lacks it, the value is empty. Columns of the file that nothing names are
/// ignored, since another system's export usually has many the directory does not keep.
///
/// # Examples
///
/// ```
/// use customer_directory::Currency;
/// use customer_directory::reports::booking_import::BookingColumns;
/// let mut columns = BookingColumns::default();
/// assert_eq!(columns.code, "code");
/// // Another system's headers.
/// columns.code = "Ref".into();
/// columns.email = Some("E-mail".into());
/// columns.currency = None;
/// columns.default_currency = Some(Currency::parse("EUR")?);
/// let columns = columns.with_custom_field("Shoe size", "shoe_size");
/// assert_eq!(columns.custom_fields, [("Shoe size".to_owned(), "shoe_size".to_owned())]);
/// # Ok::<(), customer_directory::values::MoneyError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct BookingColumns {
    /// The booking code (required): [`NewBooking::code`].
    pub code: String,
    /// The status (required), read with [`BookingStatus::new`].
    pub status: String,
    /// When the booked activity starts (required).
    pub starts_at: String,
    /// When it ends.
    pub ends_at: Option<String>,
    /// The total price (required), an amount such as `65.00`.
    pub total: String,
    /// The amount paid; an empty cell is nothing paid.
    pub paid: Option<String>,
    /// The ISO 4217 code of the row's currency, for the total and the amount paid.
    pub currency: Option<String>,
    /// The currency of rows without a currency cell (or of every row, when the file has
    /// no currency column).
    pub default_currency: Option<Currency>,
    /// The given name.
    pub given_name: Option<String>,
    /// The family name.
    pub family_name: Option<String>,
    /// The display name.
    pub display_name: Option<String>,
    /// The email address, which attributes the booking to a customer.
    pub email: Option<String>,
    /// The phone number.
    pub phone: Option<String>,
    /// The first address line.
    pub address_line1: Option<String>,
    /// The second address line.
    pub address_line2: Option<String>,
    /// The city.
    pub city: Option<String>,
    /// The state, county or province.
    pub region: Option<String>,
    /// The postal code.
    pub postcode: Option<String>,
    /// The ISO 3166-1 alpha-2 country code.
    pub country: Option<String>,
    /// Custom field columns: `(header, custom field key)`.
    pub custom_fields: Vec<(String, String)>,
}

impl Default for BookingColumns {
    /// The headers `code, status, starts_at, ends_at, total, paid, currency, given_name,
    /// family_name, display_name, email, phone, address_line1, address_line2, city, region,
    /// postcode, country` (the names the customer export uses for contact columns), no
    /// default currency and no custom fields.
    fn default() -> Self {
        let some = |header: &str| Some(header.to_owned());
        Self {
            code: "code".into(),
            status: "status".into(),
            starts_at: "starts_at".into(),
            ends_at: some("ends_at"),
            total: "total".into(),
            paid: some("paid"),
            currency: some("currency"),
            default_currency: None,
            given_name: some("given_name"),
            family_name: some("family_name"),
            display_name: some("display_name"),
            email: some("email"),
            phone: some("phone"),
            address_line1: some("address_line1"),
            address_line2: some("address_line2"),
            city: some("city"),
            region: some("region"),
            postcode: some("postcode"),
            country: some("country"),
            custom_fields: Vec::new(),
        }
    }
}

impl BookingColumns {
    /// Adds a column holding the custom field `key`.
    #[must_use]
    pub fn with_custom_field(mut self, header: impl Into<String>, key: impl Into<String>) -> Self {
        self.custom_fields.push((header.into(), key.into()));
        self
    }

    /// Every `(field, header)` pair named, required ones first.
    fn named(&self) -> Vec<(BookingField, &str, bool)> {
        let mut named = vec![
            (BookingField::Code, self.code.as_str(), true),
            (BookingField::Status, self.status.as_str(), true),
            (BookingField::StartsAt, self.starts_at.as_str(), true),
            (BookingField::Total, self.total.as_str(), true),
        ];
        let optional = [
            (BookingField::EndsAt, &self.ends_at),
            (BookingField::Paid, &self.paid),
            (BookingField::Currency, &self.currency),
            (BookingField::Contact(Detail::GivenName), &self.given_name),
            (BookingField::Contact(Detail::FamilyName), &self.family_name),
            (
                BookingField::Contact(Detail::DisplayName),
                &self.display_name,
            ),
            (BookingField::Contact(Detail::Email), &self.email),
            (BookingField::Contact(Detail::Phone), &self.phone),
            (
                BookingField::Contact(Detail::AddressLine1),
                &self.address_line1,
            ),
            (
                BookingField::Contact(Detail::AddressLine2),
                &self.address_line2,
            ),
            (BookingField::Contact(Detail::City), &self.city),
            (BookingField::Contact(Detail::Region), &self.region),
            (BookingField::Contact(Detail::Postcode), &self.postcode),
            (BookingField::Contact(Detail::Country), &self.country),
        ];
        for (field, header) in optional {
            if let Some(header) = header {
                // Without a default currency, every row needs its currency cell.
                let required = field == BookingField::Currency && self.default_currency.is_none();
                named.push((field, header.as_str(), required));
            }
        }
        for (header, key) in &self.custom_fields {
            named.push((
                BookingField::Contact(Detail::CustomField(key.clone())),
                header.as_str(),
                false,
            ));
        }
        named
    }
}

/// One value of a booking row, as [`RowProblem`] names it.
///
/// # Examples
///
/// ```
/// use customer_directory::records::Detail;
/// use customer_directory::reports::booking_import::BookingField;
/// assert_eq!(BookingField::StartsAt.to_string(), "start");
/// assert_eq!(BookingField::Contact(Detail::Email).to_string(), "email");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum BookingField {
    /// The booking code.
    Code,
    /// The status.
    Status,
    /// The start.
    StartsAt,
    /// The end.
    EndsAt,
    /// The total price.
    Total,
    /// The amount paid.
    Paid,
    /// The currency.
    Currency,
    /// A contact detail or custom field.
    Contact(Detail),
}

impl fmt::Display for BookingField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self {
            Self::Code => "code",
            Self::Status => "status",
            Self::StartsAt => "start",
            Self::EndsAt => "end",
            Self::Total => "total",
            Self::Paid => "paid",
            Self::Currency => "currency",
            Self::Contact(detail) => return fmt::Display::fmt(detail, f),
        };
        f.pad(name)
    }
}

/// Why one value of a booking row was refused.
///
/// # Examples
///
/// ```
/// use customer_directory::reports::booking_import::RowError;
/// assert_eq!(RowError::Missing.to_string(), "is empty");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RowError {
    /// A required value is empty.
    #[error("is empty")]
    Missing,
    /// The cell is longer than [`IMPORT_CELL_MAX_BYTES`](limits::IMPORT_CELL_MAX_BYTES).
    #[error(transparent)]
    TooLong(TooLong),
    /// The cell is not valid UTF-8.
    #[error("is not valid UTF-8")]
    NotUtf8,
    /// The row has another number of cells than the header.
    #[error("the row has {found} cells where the header has {expected}")]
    CellCount {
        /// Cells in the row.
        found: usize,
        /// Cells in the header.
        expected: usize,
    },
    /// The status is not a valid status name.
    #[error("invalid status: {0}")]
    Status(TextError),
    /// The date is in none of the accepted forms (see [`BookingFileFormat`]).
    #[error(
        "`{cell}` is not a date: expected {order} (`-`, `/` or `.` between the parts), optionally with HH:MM or HH:MM:SS, or RFC 3339 with an offset"
    )]
    Date {
        /// The cell, trimmed.
        cell: Box<str>,
        /// The file's order of year, month and day.
        order: DateOrder,
    },
    /// The local time never happened in the file's time zone: the clocks went forward over it.
    #[error("`{cell}` never happened in {zone}: the clocks went forward over it")]
    SkippedLocalTime {
        /// The cell, trimmed.
        cell: Box<str>,
        /// The zone's IANA name.
        zone: Box<str>,
    },
    /// The amount is not digits with the file's decimal separator (a file with a decimal
    /// point reports [`RowError::Money`] instead).
    #[error(
        "`{cell}` is not an amount: expected digits, optionally {separator} and decimals, no thousands separators"
    )]
    Amount {
        /// The cell, trimmed.
        cell: Box<str>,
        /// The file's decimal separator.
        separator: DecimalSeparator,
    },
    /// The amount or the currency cannot be read.
    #[error(transparent)]
    Money(MoneyError),
    /// A contact detail or custom field is invalid.
    #[error(transparent)]
    Contact(FieldError),
    /// The booking as a whole is invalid (for example it ends before it starts).
    #[error(transparent)]
    Booking(BookingProblem),
}

/// One problem of a booking row: which value (none for the row as a whole) and why.
///
/// # Examples
///
/// ```
/// use customer_directory::reports::booking_import::{BookingField, RowError, RowProblem};
/// let problem = RowProblem { field: Some(BookingField::Code), error: RowError::Missing };
/// assert_eq!(problem.to_string(), "code: is empty");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowProblem {
    /// The value, or `None` when the problem is the row's (its number of cells).
    pub field: Option<BookingField>,
    /// What is wrong.
    pub error: RowError,
}

impl fmt::Display for RowProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.field {
            Some(field) => write!(f, "{field}: {}", self.error),
            None => write!(f, "{}", self.error),
        }
    }
}

impl std::error::Error for RowProblem {}

/// Every problem of one booking row, so the whole row can be corrected at once.
///
/// # Examples
///
/// ```
/// use customer_directory::DirectorySettings;
/// use customer_directory::reports::booking_import::{BookingColumns, BookingReader};
/// let file = "code,status,starts_at,total,currency\n,paid,yesterday,12.50,EUR\n";
/// let settings = DirectorySettings::default();
/// let mut reader = BookingReader::new(file.as_bytes(), &BookingColumns::default(), &settings)?;
/// let row = reader.next().unwrap()?;
/// let problems = row.booking.unwrap_err();
/// assert_eq!(problems.problems().len(), 2);
/// assert!(problems.to_string().starts_with("2 problems: code: is empty; start: "));
/// # Ok::<(), customer_directory::reports::booking_import::BookingFileError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowProblems {
    problems: Vec<RowProblem>,
}

impl RowProblems {
    /// The problems, in column order of the mapping: code, status, start, total, end, paid,
    /// currency, contact details, then the booking as a whole.
    #[must_use]
    pub fn problems(&self) -> &[RowProblem] {
        &self.problems
    }
}

impl fmt::Display for RowProblems {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let count = self.problems.len();
        write!(f, "{count} problem{}: ", if count == 1 { "" } else { "s" })?;
        for (index, problem) in self.problems.iter().enumerate() {
            if index > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{problem}")?;
        }
        Ok(())
    }
}

impl std::error::Error for RowProblems {}

/// One data row of a booking file, read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BookingRow {
    /// Its position among the data rows: 1 for the first row after the header.
    pub row: u64,
    /// The line it starts on (the header is line 1).
    pub line: u64,
    /// The code cell as read (trimmed; empty when missing or unreadable), to name the row
    /// in a report even when it is invalid.
    pub code: String,
    /// The booking, or every problem of the row.
    pub booking: Result<NewBooking, RowProblems>,
}

/// Why a booking file cannot be read on: the reading stops here (rows yielded before
/// stay valid).
///
/// # Examples
///
/// ```
/// use customer_directory::DirectorySettings;
/// use customer_directory::reports::booking_import::{BookingColumns, BookingFileError, BookingReader};
/// let settings = DirectorySettings::default();
/// let missing = BookingReader::new("code,status\n".as_bytes(), &BookingColumns::default(), &settings);
/// assert!(matches!(missing, Err(BookingFileError::MissingColumn(header)) if header == "starts_at"));
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BookingFileError {
    /// The file has no header row.
    #[error("the file is empty: a header row is needed")]
    Empty,
    /// A required column is not in the header.
    #[error("the file has no column `{0}`")]
    MissingColumn(String),
    /// A column the mapping names appears twice in the header, so which one holds the
    /// value is unclear.
    #[error("column `{0}` appears twice")]
    RepeatedColumn(String),
    /// The header is not valid UTF-8, or a header cell is over
    /// [`IMPORT_CELL_MAX_BYTES`](limits::IMPORT_CELL_MAX_BYTES).
    #[error("the header cannot be read: {0}")]
    Header(RowError),
    /// The file is larger than
    /// [`BOOKING_IMPORT_MAX_BYTES`](limits::BOOKING_IMPORT_MAX_BYTES); reading stopped there.
    #[error("the file is larger than the {max} bytes allowed")]
    FileTooLarge {
        /// The limit, in bytes.
        max: usize,
    },
    /// A row of the file is longer than
    /// [`BOOKING_IMPORT_ROW_MAX_BYTES`](limits::BOOKING_IMPORT_ROW_MAX_BYTES), or the file
    /// has more than [`BOOKING_IMPORT_MAX_ROWS`](limits::BOOKING_IMPORT_MAX_ROWS) data rows.
    #[error("line {line}: {limit}")]
    TooLong {
        /// The line of the row.
        line: u64,
        /// Which limit; for a row, the length is a lower bound (reading stopped there).
        limit: TooLong,
    },
    /// The [`BookingFileFormat`] cannot be read with; nothing was read.
    #[error(transparent)]
    Format(FormatError),
    /// Reading failed.
    #[error("line {line}: reading failed: {source}")]
    Read {
        /// The line reading stopped on.
        line: u64,
        /// The reader's error.
        #[source]
        source: io::Error,
    },
}

/// Reads a booking file row by row: a header row, then one booking per row.
///
/// [`new`](Self::new) reads the header and matches it to the [`BookingColumns`]; the
/// iterator then yields one [`BookingRow`] per data row, or a [`BookingFileError`] once
/// when the file cannot be read on (after which it yields nothing). Only one row is held
/// at a time. Apostrophes that the crate's CSV export puts before formula characters are
/// removed, and a UTF-8 byte order mark is skipped.
///
/// [`new`](Self::new) reads the crate's own CSV shape: `,` between cells, amounts with a
/// decimal point, dates RFC 3339 (`2019-06-01T09:30:00+02:00`), or `YYYY-MM-DD`,
/// `YYYY-MM-DD HH:MM` and `YYYY-MM-DD HH:MM:SS` (a `T` instead of the space too) read as UTC.
/// [`with_format`](Self::with_format) reads another system's (a `;` delimiter, a decimal
/// comma, day-first dates, local times): see [`BookingFileFormat`].
///
/// # Examples
///
/// ```
/// use customer_directory::{BookingStatus, DirectorySettings};
/// use customer_directory::reports::booking_import::{BookingColumns, BookingReader};
/// let file = "\u{feff}code,status,starts_at,total,paid,currency,email\n\
///             BK-1,Cancelled,2019-03-02 10:00,45.00,0,EUR,ana@example.com\n\
///             BK-2,paid,2019-13-01,12,12,EUR,bo@example.com\n";
/// let settings = DirectorySettings::default();
/// let rows: Vec<_> = BookingReader::new(file.as_bytes(), &BookingColumns::default(), &settings)?
///     .collect::<Result<_, _>>()?;
/// let first = rows[0].booking.as_ref().unwrap();
/// assert_eq!(first.status, BookingStatus::CANCELLED);
/// assert_eq!(first.starts_at.to_rfc3339(), "2019-03-02T10:00:00+00:00");
/// assert_eq!((rows[1].line, rows[1].code.as_str()), (3, "BK-2"));
/// assert!(rows[1].booking.is_err());
/// # Ok::<(), customer_directory::reports::booking_import::BookingFileError>(())
/// ```
pub struct BookingReader<'a, R> {
    csv: csv::Reader<Guarded<DecodeReaderBytes<R, Vec<u8>>>>,
    bounds: Bounds,
    settings: &'a DirectorySettings,
    format: BookingFileFormat,
    default_currency: Option<Currency>,
    /// `(field, column index)` for every named column the file has.
    columns: Vec<(BookingField, usize)>,
    header_len: usize,
    record: csv::ByteRecord,
    rows: u64,
    done: bool,
}

impl<R> fmt::Debug for BookingReader<'_, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BookingReader")
            .field("columns", &self.columns)
            .field("rows", &self.rows)
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}

/// The buffer the CSV reader fills from the file; the row bound allows for it.
const BUFFER_BYTES: usize = 64 * 1024;

/// The bounds a reader holds a file to: the [`limits`], or smaller ones in tests.
#[derive(Debug, Clone, Copy)]
struct Bounds {
    file_bytes: usize,
    rows: usize,
    row_bytes: usize,
}

impl Bounds {
    const LIMITS: Self = Self {
        file_bytes: limits::BOOKING_IMPORT_MAX_BYTES,
        rows: limits::BOOKING_IMPORT_MAX_ROWS,
        row_bytes: limits::BOOKING_IMPORT_ROW_MAX_BYTES,
    };
}

impl<'a, R: io::Read> BookingReader<'a, R> {
    /// Reads the header of `reader` and matches it to `columns`; contact details will be
    /// read under `settings` (email key policy, default phone region, custom fields).
    ///
    /// # Errors
    ///
    /// [`BookingFileError::Empty`], [`MissingColumn`](BookingFileError::MissingColumn),
    /// [`RepeatedColumn`](BookingFileError::RepeatedColumn),
    /// [`Header`](BookingFileError::Header), or a bound or read error.
    pub fn new(
        reader: R,
        columns: &BookingColumns,
        settings: &'a DirectorySettings,
    ) -> Result<Self, BookingFileError> {
        Self::with_format(reader, columns, BookingFileFormat::default(), settings)
    }

    /// As [`new`](Self::new), for a file written in `format`.
    ///
    /// # Errors
    ///
    /// [`BookingFileError::Format`] when the format cannot be read with (before anything
    /// is read), then as [`new`](Self::new).
    pub fn with_format(
        reader: R,
        columns: &BookingColumns,
        format: BookingFileFormat,
        settings: &'a DirectorySettings,
    ) -> Result<Self, BookingFileError> {
        Self::with_bounds(reader, columns, format, settings, Bounds::LIMITS)
    }

    fn with_bounds(
        reader: R,
        columns: &BookingColumns,
        format: BookingFileFormat,
        settings: &'a DirectorySettings,
        bounds: Bounds,
    ) -> Result<Self, BookingFileError> {
        format.check().map_err(BookingFileError::Format)?;
        let reader = format.decoding(reader);
        let mut csv = csv::ReaderBuilder::new()
            .has_headers(false)
            .delimiter(format.delimiter)
            .flexible(true)
            .buffer_capacity(BUFFER_BYTES)
            .from_reader(Guarded {
                inner: reader,
                bounds,
                read: 0,
                row_start: 0,
                breaks: VecDeque::new(),
                line_ends: 0,
            });
        // The first record, or the one on `line`; none is an empty file.
        let read_first = |csv: &mut csv::Reader<_>, record: &mut csv::ByteRecord, line| match csv
            .read_byte_record(record)
        {
            Ok(true) => Ok(()),
            Ok(false) => Err(BookingFileError::Empty),
            Err(error) => Err(file_error(error, line, bounds)),
        };
        let mut header = csv::ByteRecord::new();
        read_first(&mut csv, &mut header, 1)?;
        // A first line `sep=;` (written for spreadsheet programs) declares the delimiter;
        // the header follows it.
        if let Some(declared) = format.declared_delimiter(&header) {
            if declared != format.delimiter {
                return Err(BookingFileError::Format(FormatError::DeclaredDelimiter {
                    declared,
                    expected: format.delimiter,
                }));
            }
            read_first(&mut csv, &mut header, 2)?;
        }
        let mut names = Vec::with_capacity(header.len());
        for raw in &header {
            let name = cell_text(raw).map_err(BookingFileError::Header)?;
            TooLong::check(Input::ImportCell, name)
                .map_err(|limit| BookingFileError::Header(RowError::TooLong(limit)))?;
            names.push(matching_form(restore_cell(name)).into_owned());
        }
        let mut found = Vec::new();
        for (field, header, required) in columns.named() {
            let wanted = matching_form(header);
            let mut matches = names
                .iter()
                .enumerate()
                .filter(|(_, name)| **name == wanted);
            match (matches.next(), matches.next()) {
                (Some(_), Some(_)) => return Err(BookingFileError::RepeatedColumn(header.into())),
                (Some((index, _)), None) => found.push((field, index)),
                (None, _) if required => {
                    return Err(BookingFileError::MissingColumn(header.into()));
                }
                (None, _) => {}
            }
        }
        let mut reader = Self {
            csv,
            bounds,
            settings,
            format,
            default_currency: columns.default_currency,
            columns: found,
            header_len: header.len(),
            record: csv::ByteRecord::new(),
            rows: 0,
            done: false,
        };
        reader.mark_row_start();
        Ok(reader)
    }

    /// Data rows read so far.
    #[must_use]
    pub fn rows_read(&self) -> u64 {
        self.rows
    }

    /// Tells the guard where the next row starts, so it can bound that row's bytes.
    fn mark_row_start(&mut self) {
        let start = self.csv.position().byte();
        self.csv.get_mut().row_start = start;
    }

    /// The cell of `index` in the current record, as text.
    fn cell(&self, index: usize) -> Result<&str, RowError> {
        let raw = self.record.get(index).unwrap_or_default();
        let text = cell_text(raw)?;
        TooLong::check(Input::ImportCell, text).map_err(RowError::TooLong)?;
        Ok(restore_cell(text))
    }

    /// Reads the current record into a booking, or every problem of it.
    fn parse_record(&self) -> (String, Result<NewBooking, RowProblems>) {
        let mut problems = Vec::new();
        if self.record.len() != self.header_len {
            problems.push(RowProblem {
                field: None,
                error: RowError::CellCount {
                    found: self.record.len(),
                    expected: self.header_len,
                },
            });
        }
        let mut parts = Parts::default();
        let mut form = ContactForm::default();
        for (field, index) in &self.columns {
            let cell = match self.cell(*index) {
                Ok(cell) => cell,
                Err(error) => {
                    problems.push(RowProblem {
                        field: Some(field.clone()),
                        error,
                    });
                    parts.unreadable.push(field.clone());
                    continue;
                }
            };
            let value = cell.to_owned();
            match field {
                BookingField::Code => parts.code = Some(value.trim().to_owned()),
                BookingField::Status => parts.status = Some(value),
                BookingField::StartsAt => parts.starts_at = Some(value),
                BookingField::EndsAt => parts.ends_at = Some(value),
                BookingField::Total => parts.total = Some(value),
                BookingField::Paid => parts.paid = Some(value),
                BookingField::Currency => parts.currency = Some(value),
                BookingField::Contact(detail) => set_contact(&mut form, detail, value),
            }
        }
        let code = parts.code.clone().unwrap_or_default();
        let booking = parts.build(
            form,
            self.default_currency,
            &self.format,
            self.settings,
            &mut problems,
        );
        match booking {
            Some(booking) if problems.is_empty() => (code, Ok(booking)),
            _ => (code, Err(RowProblems { problems })),
        }
    }
}

impl<R: io::Read> Iterator for BookingReader<'_, R> {
    type Item = Result<BookingRow, BookingFileError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let next = self.csv.position().byte();
        match self.csv.read_byte_record(&mut self.record) {
            Ok(true) => {}
            Ok(false) => {
                self.done = true;
                return None;
            }
            Err(error) => {
                self.done = true;
                let line = self.csv.get_mut().line_at(next);
                return Some(Err(file_error(error, line, self.bounds)));
            }
        }
        let start = self.record.position().map_or(next, csv::Position::byte);
        let line = self.csv.get_mut().line_at(start);
        self.mark_row_start();
        self.rows += 1;
        let rows = usize::try_from(self.rows).unwrap_or(usize::MAX);
        if rows > self.bounds.rows {
            self.done = true;
            let limit = TooLong {
                input: Input::BookingImportRows,
                length: rows,
                max: self.bounds.rows,
            };
            return Some(Err(BookingFileError::TooLong { line, limit }));
        }
        let (code, booking) = self.parse_record();
        Some(Ok(BookingRow {
            row: self.rows,
            line,
            code,
            booking,
        }))
    }
}

/// The raw cells of one row, before they are read into values.
#[derive(Default)]
struct Parts {
    code: Option<String>,
    status: Option<String>,
    starts_at: Option<String>,
    ends_at: Option<String>,
    total: Option<String>,
    paid: Option<String>,
    currency: Option<String>,
    /// Fields whose cell could not be read at all (already reported).
    unreadable: Vec<BookingField>,
}

impl Parts {
    /// The booking these cells make, pushing every problem onto `problems`.
    fn build(
        self,
        form: ContactForm,
        default_currency: Option<Currency>,
        format: &BookingFileFormat,
        settings: &DirectorySettings,
        problems: &mut Vec<RowProblem>,
    ) -> Option<NewBooking> {
        let mut found = Found {
            problems,
            unreadable: &self.unreadable,
            format,
        };
        let code = found.required(BookingField::Code, self.code);
        let status = found.required(BookingField::Status, self.status);
        let starts_at = found.required(BookingField::StartsAt, self.starts_at);
        let total = found.required(BookingField::Total, self.total);
        let currency_cell = self.currency.filter(|cell| !cell.trim().is_empty());

        let status = status.and_then(|status| {
            found.check(
                BookingField::Status,
                BookingStatus::new(&status).map_err(RowError::Status),
            )
        });
        let starts_at = starts_at.and_then(|cell| found.date(BookingField::StartsAt, &cell));
        let ends_at = match self.ends_at.filter(|cell| !cell.trim().is_empty()) {
            Some(cell) => found.date(BookingField::EndsAt, &cell).map(Some),
            None => Some(None),
        };
        let currency = match currency_cell {
            Some(cell) => found.check(
                BookingField::Currency,
                Currency::parse(&cell).map_err(RowError::Money),
            ),
            None => {
                if default_currency.is_none() {
                    found.report_missing(BookingField::Currency);
                }
                default_currency
            }
        };
        // Amounts are read only in a known currency: its decimals decide what is valid.
        let total = total.and_then(|cell| found.amount(BookingField::Total, &cell, currency));
        let paid = match self.paid.filter(|cell| !cell.trim().is_empty()) {
            Some(cell) => found.amount(BookingField::Paid, &cell, currency).map(Some),
            None => Some(None),
        };
        let contact = match form.parse(settings) {
            Ok(contact) => Some(contact),
            Err(errors) => {
                for problem in errors.problems() {
                    found.report(
                        BookingField::Contact(problem.detail.clone()),
                        RowError::Contact(problem.error.clone()),
                    );
                }
                None
            }
        };
        let mut booking = NewBooking::new(code?, status?, contact?, starts_at?, total?);
        booking.ends_at = ends_at?;
        if let Some(paid) = paid? {
            booking.paid = paid;
        }
        for problem in booking.problems() {
            let field = match problem {
                BookingProblem::EndsBeforeStart => BookingField::EndsAt,
                BookingProblem::PaidCurrencyDiffers { .. } => BookingField::Paid,
                _ => BookingField::Code,
            };
            found.report(field, RowError::Booking(problem));
        }
        Some(booking)
    }
}

/// The problems of one row as they are found.
struct Found<'a> {
    problems: &'a mut Vec<RowProblem>,
    /// Fields whose cell could not be read at all (already reported).
    unreadable: &'a [BookingField],
    format: &'a BookingFileFormat,
}

impl Found<'_> {
    fn report(&mut self, field: BookingField, error: RowError) {
        self.problems.push(RowProblem {
            field: Some(field),
            error,
        });
    }

    /// An empty value, unless its cell was unreadable (reported already).
    fn report_missing(&mut self, field: BookingField) {
        if !self.unreadable.contains(&field) {
            self.report(field, RowError::Missing);
        }
    }

    /// A required cell's text, or `None` with the problem reported.
    fn required(&mut self, field: BookingField, cell: Option<String>) -> Option<String> {
        match cell {
            Some(cell) if !cell.trim().is_empty() => Some(cell),
            _ => {
                self.report_missing(field);
                None
            }
        }
    }

    fn check<T>(&mut self, field: BookingField, result: Result<T, RowError>) -> Option<T> {
        result.map_err(|error| self.report(field, error)).ok()
    }

    fn date(&mut self, field: BookingField, cell: &str) -> Option<DateTime<Utc>> {
        let at = self.format.date(cell);
        self.check(field, at)
    }

    fn amount(
        &mut self,
        field: BookingField,
        cell: &str,
        currency: Option<Currency>,
    ) -> Option<Money> {
        let currency = currency?;
        let amount = self.format.amount(cell, currency);
        self.check(field, amount)
    }
}

/// Puts a contact cell into the form field it belongs to.
fn set_contact(form: &mut ContactForm, detail: &Detail, value: String) {
    match detail {
        Detail::GivenName => form.given_name = value,
        Detail::FamilyName => form.family_name = value,
        Detail::DisplayName => form.display_name = value,
        Detail::Email => form.email = value,
        Detail::Phone => form.phone = value,
        Detail::AddressLine1 => form.address_line1 = value,
        Detail::AddressLine2 => form.address_line2 = value,
        Detail::City => form.city = value,
        Detail::Region => form.region = value,
        Detail::Postcode => form.postcode = value,
        Detail::Country => form.country = value,
        Detail::CustomField(key) => form.custom_fields.push((key.clone(), value)),
    }
}

/// A cell's bytes as text.
fn cell_text(raw: &[u8]) -> Result<&str, RowError> {
    std::str::from_utf8(raw).map_err(|_| RowError::NotUtf8)
}

/// The reader under the CSV parser: hands on no byte past
/// [`BOOKING_IMPORT_MAX_BYTES`](limits::BOOKING_IMPORT_MAX_BYTES), and none that would let
/// one row grow past [`BOOKING_IMPORT_ROW_MAX_BYTES`](limits::BOOKING_IMPORT_ROW_MAX_BYTES)
/// (plus the parser's buffer), so memory stays bounded whatever the file holds.
///
/// It also counts lines, because the CSV parser's own count is one short after a row ended
/// by CR LF, and does not count a line ended by a CR alone (old Mac files): it notes where
/// each CR and LF is among the bytes handed on and not yet counted, at most a row and a
/// buffer of them. A line ends at a LF, a CR LF, or a CR not followed by a LF.
struct Guarded<R> {
    inner: R,
    bounds: Bounds,
    /// Bytes handed on so far.
    read: u64,
    /// Where the row being parsed starts, in bytes of the file.
    row_start: u64,
    /// Offsets of the CRs and LFs handed on and not yet counted, and whether each is a LF.
    breaks: VecDeque<(u64, bool)>,
    /// Line ends counted: those before the offsets still in `breaks`.
    line_ends: u64,
}

impl<R> Guarded<R> {
    /// The line of the row the parser says starts at byte `start`: one more than the line
    /// ends before its first byte that is neither CR nor LF. Calls come with growing
    /// `start`s, after the parser has read that byte, so the byte after each CR counted
    /// here has been handed on (and is in `breaks` if it is a LF).
    fn line_at(&mut self, start: u64) -> u64 {
        let mut start = start;
        while let Some(&(offset, line_feed)) = self.breaks.front() {
            // Before the row, or the line ends just ahead of its content.
            if offset > start {
                break;
            }
            if offset == start {
                start += 1;
            }
            self.breaks.pop_front();
            // The CR of a CR LF pair is not a line end of its own; its LF is.
            let followed_by_line_feed = self
                .breaks
                .front()
                .is_some_and(|&(next, next_is_lf)| next_is_lf && next == offset + 1);
            self.line_ends += u64::from(line_feed || !followed_by_line_feed);
        }
        self.line_ends + 1
    }
}

impl<R: io::Read> io::Read for Guarded<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let as_u64 = |n: usize| u64::try_from(n).unwrap_or(u64::MAX);
        let file_left = as_u64(self.bounds.file_bytes).saturating_sub(self.read);
        let row_end = self
            .row_start
            .saturating_add(as_u64(self.bounds.row_bytes.saturating_add(BUFFER_BYTES)));
        let row_left = row_end.saturating_sub(self.read);
        if file_left == 0 || row_left == 0 {
            let mut probe = [0_u8; 1];
            return match self.inner.read(&mut probe)? {
                0 => Ok(0),
                _ if file_left == 0 => Err(io::Error::other(Bound::File)),
                _ => Err(io::Error::other(Bound::Row)),
            };
        }
        let wanted = usize::try_from(file_left.min(row_left))
            .unwrap_or(usize::MAX)
            .min(buf.len());
        let read = self.inner.read(&mut buf[..wanted])?;
        for (index, byte) in buf[..read].iter().enumerate() {
            if matches!(byte, b'\r' | b'\n') {
                self.breaks
                    .push_back((self.read + as_u64(index), *byte == b'\n'));
            }
        }
        self.read += as_u64(read);
        Ok(read)
    }
}

/// The bound [`Guarded`] stopped reading at.
#[derive(Debug, Clone, Copy)]
enum Bound {
    File,
    Row,
}

impl fmt::Display for Bound {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::File => "the booking file is over its size limit",
            Self::Row => "a row of the booking file is over its size limit",
        })
    }
}

impl std::error::Error for Bound {}

/// The file error for a CSV error met while reading the row starting on `line`.
fn file_error(error: csv::Error, line: u64, bounds: Bounds) -> BookingFileError {
    match error.into_kind() {
        csv::ErrorKind::Io(io) => {
            match io.get_ref().and_then(|inner| inner.downcast_ref::<Bound>()) {
                Some(Bound::File) => BookingFileError::FileTooLarge {
                    max: bounds.file_bytes,
                },
                Some(Bound::Row) => BookingFileError::TooLong {
                    line,
                    limit: TooLong {
                        input: Input::BookingImportRow,
                        length: bounds.row_bytes.saturating_add(1),
                        max: bounds.row_bytes,
                    },
                },
                None => BookingFileError::Read { line, source: io },
            }
        }
        other => BookingFileError::Read {
            line,
            source: io::Error::other(format!("{other:?}")),
        },
    }
}

#[cfg(test)]
mod tests;
