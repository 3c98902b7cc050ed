//! CSV export and import of customers (RFC 4180, through the `csv` crate).
//!
//! Export streams one row per customer to any writer, so memory stays flat however large
//! the directory. Every cell that a spreadsheet would read as a formula (one starting with
//! `=`, `+`, `-`, `@`, tab, carriage return, line feed or NUL) is neutralised with a leading
//! apostrophe, as the OWASP guidance on CSV injection recommends; import removes exactly that
//! apostrophe again, so an export imports back to the same customers.

use std::borrow::Cow;
use std::io;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};

use crate::limits::{self, Input, TooLong};
use crate::records::contact_form::{ContactForm, ValidationErrors};
use crate::records::customer::Customer;
use crate::records::profile::Profile;
use crate::reports::summary::CustomerSummary;
use crate::settings::DirectorySettings;
use crate::values::money::{Money, MoneyError};

/// Prefix of the header of a custom field column: `custom:<key>`.
pub const CUSTOM_FIELD_PREFIX: &str = "custom:";

/// One column of a customer export.
///
/// # Examples
///
/// ```
/// use customer_directory::reports::csv::ExportColumn;
/// assert_eq!(ExportColumn::BookingCount.header(), "booking_count");
/// assert_eq!(ExportColumn::from_header("custom:shoe_size"), Some(ExportColumn::CustomField("shoe_size".into())));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum ExportColumn {
    /// The customer id.
    Id,
    /// The name staff see: display name, else given + family name, else email.
    Name,
    /// [`Profile::given_name`].
    GivenName,
    /// [`Profile::family_name`].
    FamilyName,
    /// [`Profile::display_name`].
    DisplayName,
    /// The email address as entered.
    Email,
    /// The phone number in E.164 form.
    Phone,
    /// First address line.
    AddressLine1,
    /// Second address line.
    AddressLine2,
    /// City.
    City,
    /// State, county or province.
    Region,
    /// Postal code.
    Postcode,
    /// ISO 3166-1 alpha-2 country code.
    Country,
    /// The customer's status.
    Status,
    /// When the profile was created (RFC 3339).
    Created,
    /// Number of bookings.
    BookingCount,
    /// Value of bookings that are not cancelled, per currency (`120.00 EUR; 3000 JPY`), each
    /// with its currency's number of decimals; [`parse_total_value`] reads it back.
    TotalValue,
    /// Start of the latest booking (RFC 3339).
    LastBooking,
    /// The last login to the customer's account (RFC 3339).
    LastLogin,
    /// The value of a custom field.
    CustomField(String),
}

impl ExportColumn {
    /// The default export: name, email, id, booking count, total value, last booking, last
    /// login, status, region, country, created.
    #[must_use]
    pub fn default_set() -> Vec<Self> {
        vec![
            Self::Name,
            Self::Email,
            Self::Id,
            Self::BookingCount,
            Self::TotalValue,
            Self::LastBooking,
            Self::LastLogin,
            Self::Status,
            Self::Region,
            Self::Country,
            Self::Created,
        ]
    }

    /// Every contact detail of a profile, field by field: the columns an import reads, so
    /// an export with these columns (plus custom fields) imports back to the same profiles.
    #[must_use]
    pub fn contact_set() -> Vec<Self> {
        vec![
            Self::GivenName,
            Self::FamilyName,
            Self::DisplayName,
            Self::Email,
            Self::Phone,
            Self::AddressLine1,
            Self::AddressLine2,
            Self::City,
            Self::Region,
            Self::Postcode,
            Self::Country,
        ]
    }

    /// The column's header.
    #[must_use]
    pub fn header(&self) -> Cow<'static, str> {
        Cow::Borrowed(match self {
            Self::Id => "id",
            Self::Name => "name",
            Self::GivenName => "given_name",
            Self::FamilyName => "family_name",
            Self::DisplayName => "display_name",
            Self::Email => "email",
            Self::Phone => "phone",
            Self::AddressLine1 => "address_line1",
            Self::AddressLine2 => "address_line2",
            Self::City => "city",
            Self::Region => "region",
            Self::Postcode => "postcode",
            Self::Country => "country",
            Self::Status => "status",
            Self::Created => "created",
            Self::BookingCount => "booking_count",
            Self::TotalValue => "total_value",
            Self::LastBooking => "last_booking",
            Self::LastLogin => "last_login",
            Self::CustomField(key) => return Cow::Owned(format!("{CUSTOM_FIELD_PREFIX}{key}")),
        })
    }

    /// The column a header names (ASCII case and surrounding white space ignored).
    #[must_use]
    pub fn from_header(header: &str) -> Option<Self> {
        let header = header.trim();
        if let Some(key) = header.strip_prefix(CUSTOM_FIELD_PREFIX) {
            return (!key.is_empty()).then(|| Self::CustomField(key.to_owned()));
        }
        let all = Self::default_set().into_iter().chain(Self::contact_set());
        all.into_iter()
            .find(|column| column.header().eq_ignore_ascii_case(header))
    }

    /// The cell of this column for one customer, before neutralisation.
    fn cell<'a>(&self, customer: &'a Customer, summary: &CustomerSummary) -> Cow<'a, str> {
        let profile = &customer.profile;
        let address = &profile.address;
        let text = |value: Option<&'a str>| Cow::Borrowed(value.unwrap_or(""));
        match self {
            Self::Id => Cow::Owned(customer.id.to_string()),
            Self::Name => Cow::Owned(name_of(profile)),
            Self::GivenName => text(profile.given_name.as_ref().map(|n| n.as_str())),
            Self::FamilyName => text(profile.family_name.as_ref().map(|n| n.as_str())),
            Self::DisplayName => text(profile.display_name.as_ref().map(|n| n.as_str())),
            Self::Email => text(profile.email.as_ref().map(|e| e.as_str())),
            Self::Phone => text(profile.phone.as_ref().map(|p| p.e164())),
            Self::AddressLine1 => text(address.line1.as_ref().map(|t| t.as_str())),
            Self::AddressLine2 => text(address.line2.as_ref().map(|t| t.as_str())),
            Self::City => text(address.city.as_ref().map(|t| t.as_str())),
            Self::Region => text(address.region.as_ref().map(|t| t.as_str())),
            Self::Postcode => text(address.postcode.as_ref().map(|t| t.as_str())),
            Self::Country => text(address.country.as_ref().map(|c| c.as_str())),
            Self::Status => Cow::Owned(customer.status.to_string()),
            Self::Created => Cow::Owned(timestamp(customer.created_at)),
            Self::BookingCount => Cow::Owned(summary.booking_count.to_string()),
            Self::TotalValue => Cow::Owned(
                summary
                    .totals
                    .iter()
                    .map(|totals| totals.total.to_string())
                    .collect::<Vec<_>>()
                    .join("; "),
            ),
            Self::LastBooking => {
                Cow::Owned(summary.last_booking.map(timestamp).unwrap_or_default())
            }
            Self::LastLogin => Cow::Owned(summary.last_login.map(timestamp).unwrap_or_default()),
            Self::CustomField(key) => text(profile.custom_fields.get(key).map(|t| t.as_str())),
        }
    }
}

/// Reads a [`ExportColumn::TotalValue`] cell back (`120.00 EUR; 3000 JPY`): one amount per
/// currency, each with at most its currency's number of decimals. An empty cell is no
/// amounts; the apostrophe an export puts before a negative amount is removed first.
///
/// # Errors
///
/// [`MoneyError`] for the first amount that cannot be read: an unknown currency, text that
/// is not an amount, or more decimals than the currency has
/// ([`MoneyError::TooManyDecimals`]).
///
/// # Examples
///
/// ```
/// use customer_directory::{Currency, Money};
/// use customer_directory::reports::csv::parse_total_value;
/// let amounts = parse_total_value("120.00 EUR; 3000 JPY; 1.250 KWD")?;
/// assert_eq!(amounts[1], Money::new(3_000, Currency::parse("JPY")?));
/// assert!(parse_total_value("3000.5 JPY").is_err());
/// # Ok::<(), customer_directory::values::MoneyError>(())
/// ```
pub fn parse_total_value(cell: &str) -> Result<Vec<Money>, MoneyError> {
    restore_cell(cell)
        .split(';')
        .map(str::trim)
        .filter(|part| !part.is_empty())
        .map(str::parse::<Money>)
        .collect()
}

/// The name column: the display name, else given and family name; never the email, which
/// has its own column.
fn name_of(profile: &Profile) -> String {
    if let Some(display) = &profile.display_name {
        return display.as_str().to_owned();
    }
    [&profile.given_name, &profile.family_name]
        .into_iter()
        .flatten()
        .map(|name| name.as_str())
        .collect::<Vec<_>>()
        .join(" ")
}

fn timestamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// The characters that make a spreadsheet treat a cell as a formula or split it.
const DANGEROUS_LEADS: [char; 8] = ['=', '+', '-', '@', '\t', '\r', '\n', '\0'];

/// `cell` made safe for spreadsheets: a leading `=`, `+`, `-`, `@`, tab, CR, LF or NUL gets
/// an apostrophe in front, which spreadsheets show as text and do not evaluate.
///
/// # Examples
///
/// ```
/// use customer_directory::reports::csv::neutralise_cell;
/// assert_eq!(neutralise_cell("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
/// assert_eq!(neutralise_cell("Ana"), "Ana");
/// ```
#[must_use]
pub fn neutralise_cell(cell: &str) -> Cow<'_, str> {
    if cell.starts_with(DANGEROUS_LEADS) {
        Cow::Owned(format!("'{cell}"))
    } else {
        Cow::Borrowed(cell)
    }
}

/// Undoes [`neutralise_cell`]: removes the apostrophe only where export added one.
///
/// # Examples
///
/// ```
/// use customer_directory::reports::csv::{neutralise_cell, restore_cell};
/// assert_eq!(restore_cell(&neutralise_cell("+351 912")), "+351 912");
/// assert_eq!(restore_cell("'tis"), "'tis");
/// ```
#[must_use]
pub fn restore_cell(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(rest) if rest.starts_with(DANGEROUS_LEADS) => rest,
        _ => cell,
    }
}

/// How to export customers.
///
/// # Examples
///
/// ```
/// use customer_directory::reports::csv::{CsvExportOptions, ExportColumn};
/// let options = CsvExportOptions::default().with_custom_fields(["shoe_size"]).with_byte_order_mark();
/// assert_eq!(options.columns.last(), Some(&ExportColumn::CustomField("shoe_size".into())));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CsvExportOptions {
    /// The columns, in order.
    pub columns: Vec<ExportColumn>,
    /// Start with a UTF-8 byte order mark, which spreadsheet programs need to read
    /// non-ASCII text correctly.
    pub byte_order_mark: bool,
}

impl Default for CsvExportOptions {
    /// [`ExportColumn::default_set`], no byte order mark.
    fn default() -> Self {
        Self::with_columns(ExportColumn::default_set())
    }
}

impl CsvExportOptions {
    /// These columns, no byte order mark.
    #[must_use]
    pub fn with_columns(columns: Vec<ExportColumn>) -> Self {
        Self {
            columns,
            byte_order_mark: false,
        }
    }

    /// Appends a column per custom field key.
    #[must_use]
    pub fn with_custom_fields<K: Into<String>>(
        mut self,
        keys: impl IntoIterator<Item = K>,
    ) -> Self {
        self.columns.extend(
            keys.into_iter()
                .map(|key| ExportColumn::CustomField(key.into())),
        );
        self
    }

    /// Starts the file with a UTF-8 byte order mark.
    #[must_use]
    pub fn with_byte_order_mark(mut self) -> Self {
        self.byte_order_mark = true;
        self
    }
}

/// Writes customers as CSV rows, one at a time, to any writer.
///
/// # Examples
///
/// ```
/// use customer_directory::reports::csv::{CsvExporter, CsvExportOptions};
/// use customer_directory::{Customer, Profile};
/// use customer_directory::reports::summary::CustomerSummary;
/// let customer = Customer::new(Profile::default(), chrono::Utc::now());
/// let summary = CustomerSummary::new(&customer, &[], None)?;
/// let mut exporter = CsvExporter::new(Vec::new(), &CsvExportOptions::default())?;
/// exporter.write(&customer, &summary)?;
/// let csv = String::from_utf8(exporter.finish()?)?;
/// assert!(csv.starts_with("name,email,id,"));
/// assert_eq!(csv.lines().count(), 2);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct CsvExporter<W: io::Write> {
    out: csv::Writer<W>,
    columns: Vec<ExportColumn>,
    rows: u64,
}

impl<W: io::Write> std::fmt::Debug for CsvExporter<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CsvExporter")
            .field("columns", &self.columns)
            .field("rows", &self.rows)
            .finish_non_exhaustive()
    }
}

impl<W: io::Write> CsvExporter<W> {
    /// Starts an export: writes the byte order mark (if asked) and the header row.
    ///
    /// # Errors
    ///
    /// The writer's I/O error.
    pub fn new(mut writer: W, options: &CsvExportOptions) -> io::Result<Self> {
        if options.byte_order_mark {
            writer.write_all("\u{feff}".as_bytes())?;
        }
        let mut out = csv::WriterBuilder::new()
            .terminator(csv::Terminator::CRLF)
            .from_writer(writer);
        out.write_record(options.columns.iter().map(|c| neutralise_owned(c.header())))?;
        Ok(Self {
            out,
            columns: options.columns.clone(),
            rows: 0,
        })
    }

    /// Writes one customer's row.
    ///
    /// # Errors
    ///
    /// The writer's I/O error.
    pub fn write(&mut self, customer: &Customer, summary: &CustomerSummary) -> io::Result<()> {
        for column in &self.columns {
            let cell = column.cell(customer, summary);
            self.out.write_field(neutralise_cell(&cell).as_bytes())?;
        }
        self.out.write_record(None::<&[u8]>)?;
        self.rows += 1;
        Ok(())
    }

    /// Rows written so far, header excluded.
    #[must_use]
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// Flushes and returns the writer.
    ///
    /// # Errors
    ///
    /// The writer's I/O error.
    pub fn finish(self) -> io::Result<W> {
        self.out
            .into_inner()
            .map_err(|error| io::Error::other(error.to_string()))
    }
}

fn neutralise_owned(cell: Cow<'_, str>) -> String {
    neutralise_cell(&cell).into_owned()
}

/// A row of a customer import file, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportRow {
    /// Its position among the data rows: 1 for the first row after the header.
    pub row: u64,
    /// The line it starts on (the header is line 1), counting line feeds; in a file that
    /// ends lines with a bare carriage return, rely on [`row`](Self::row) instead.
    pub line: u64,
    /// The profile, or every problem with the row's fields.
    pub profile: Result<Profile, ValidationErrors>,
}

/// Why an import file could not be read at all.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ImportError {
    /// The file is not valid CSV (or not UTF-8) at this line.
    #[error("line {line}: {message}")]
    Malformed {
        /// Where reading stopped.
        line: u64,
        /// What is wrong.
        message: String,
    },
    /// A header that is neither a contact column, a custom field (`custom:<key>`) nor a
    /// column the export writes.
    #[error("unknown column `{0}`")]
    UnknownColumn(String),
    /// The same column twice.
    #[error("column `{0}` appears twice")]
    RepeatedColumn(String),
    /// The file has no header row.
    #[error("the file is empty: a header row is needed")]
    Empty,
    /// The file is larger than [`IMPORT_MAX_BYTES`](limits::IMPORT_MAX_BYTES); reading
    /// stopped there.
    #[error("the file is larger than the {max} bytes allowed")]
    FileTooLarge {
        /// The limit, in bytes.
        max: usize,
    },
    /// A cell, a custom field key in the header, or the number of data rows is over its
    /// [limit](crate::limits).
    #[error("line {line}: {limit}")]
    TooLong {
        /// The line of the cell, or of the first row over the row limit.
        line: u64,
        /// Which limit, the length found and the maximum.
        limit: TooLong,
    },
}

/// Reads a customer import file: a header row naming columns (as [`ExportColumn::header`]
/// writes them), then one customer per row.
///
/// The file is held to [`IMPORT_MAX_BYTES`](limits::IMPORT_MAX_BYTES) (no more is read),
/// [`IMPORT_MAX_ROWS`](limits::IMPORT_MAX_ROWS) data rows and
/// [`IMPORT_CELL_MAX_BYTES`](limits::IMPORT_CELL_MAX_BYTES) per cell; each value is then
/// held to its field's own limit like a contact form's.
///
/// Contact columns and `custom:<key>` columns are read; the other columns an export writes
/// (id, name, status, counts, dates) are accepted and ignored, so an export can be imported
/// again. Apostrophes added by [`neutralise_cell`] are removed. Each row is validated like a
/// contact form, with every problem reported.
///
/// # Errors
///
/// [`ImportError`] when the file cannot be read as a whole, including
/// [`ImportError::FileTooLarge`] and [`ImportError::TooLong`]; problems of single rows are
/// in the rows.
///
/// # Examples
///
/// ```
/// use customer_directory::reports::csv::read_customer_rows;
/// use customer_directory::DirectorySettings;
/// let file = "given_name,email\nAna,ana@example.com\nBo,not-an-email\n";
/// let rows = read_customer_rows(file.as_bytes(), &DirectorySettings::default())?;
/// assert!(rows[0].profile.is_ok());
/// assert_eq!(rows[1].line, 3);
/// assert!(rows[1].profile.is_err());
/// # Ok::<(), customer_directory::reports::csv::ImportError>(())
/// ```
pub fn read_customer_rows(
    reader: impl io::Read,
    settings: &DirectorySettings,
) -> Result<Vec<ImportRow>, ImportError> {
    let mut csv = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(false)
        .from_reader(Capped {
            inner: reader,
            left: limits::IMPORT_MAX_BYTES,
        });
    let mut records = csv.records();
    let header = match records.next() {
        None => return Err(ImportError::Empty),
        Some(record) => record.map_err(malformed)?,
    };
    check_cells(&header)?;
    let mut columns: Vec<ExportColumn> = Vec::with_capacity(header.len());
    for (index, raw) in header.iter().enumerate() {
        let raw = if index == 0 {
            raw.trim_start_matches('\u{feff}')
        } else {
            raw
        };
        let raw = restore_cell(raw);
        let column = ExportColumn::from_header(raw)
            .ok_or_else(|| ImportError::UnknownColumn(raw.to_owned()))?;
        if let ExportColumn::CustomField(key) = &column {
            TooLong::check(Input::CustomFieldKey, key)
                .map_err(|limit| ImportError::TooLong { line: 1, limit })?;
        }
        if columns.contains(&column) {
            return Err(ImportError::RepeatedColumn(raw.to_owned()));
        }
        columns.push(column);
    }
    let mut rows = Vec::new();
    let mut over: Option<u64> = None;
    let mut count: usize = 0;
    for (index, record) in records.enumerate() {
        let record = record.map_err(malformed)?;
        let line = record.position().map_or(0, csv::Position::line);
        count += 1;
        if count > limits::IMPORT_MAX_ROWS {
            // Counted to the end (the file is bounded) to report the true number of rows.
            over.get_or_insert(line);
            continue;
        }
        check_cells(&record)?;
        let mut form = ContactForm::default();
        for (column, cell) in columns.iter().zip(record.iter()) {
            let value = restore_cell(cell).to_owned();
            match column {
                ExportColumn::GivenName => form.given_name = value,
                ExportColumn::FamilyName => form.family_name = value,
                ExportColumn::DisplayName => form.display_name = value,
                ExportColumn::Email => form.email = value,
                ExportColumn::Phone => form.phone = value,
                ExportColumn::AddressLine1 => form.address_line1 = value,
                ExportColumn::AddressLine2 => form.address_line2 = value,
                ExportColumn::City => form.city = value,
                ExportColumn::Region => form.region = value,
                ExportColumn::Postcode => form.postcode = value,
                ExportColumn::Country => form.country = value,
                ExportColumn::CustomField(key) => form.custom_fields.push((key.clone(), value)),
                // Written by export for people to read; derived, so not imported.
                _ => {}
            }
        }
        rows.push(ImportRow {
            row: u64::try_from(index).map_or(u64::MAX, |i| i + 1),
            line,
            profile: form.parse(settings),
        });
    }
    if let Some(line) = over {
        let limit = TooLong::check_length(Input::ImportRows, count).err();
        if let Some(limit) = limit {
            return Err(ImportError::TooLong { line, limit });
        }
    }
    Ok(rows)
}

/// Every cell of `record` is within [`IMPORT_CELL_MAX_BYTES`](limits::IMPORT_CELL_MAX_BYTES).
fn check_cells(record: &csv::StringRecord) -> Result<(), ImportError> {
    let line = record.position().map_or(0, csv::Position::line);
    record
        .iter()
        .try_for_each(|cell| TooLong::check(Input::ImportCell, cell))
        .map_err(|limit| ImportError::TooLong { line, limit })
}

/// The reader of an import file: hands on at most `left` more bytes, and answers a read past
/// them with a [`FileTooLarge`] error if the file goes on, so no more than the limit is ever
/// read into memory.
struct Capped<R> {
    inner: R,
    left: usize,
}

impl<R: io::Read> io::Read for Capped<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.left == 0 {
            let mut probe = [0_u8; 1];
            return match self.inner.read(&mut probe)? {
                0 => Ok(0),
                _ => Err(io::Error::other(FileTooLarge)),
            };
        }
        let wanted = buf.len().min(self.left);
        let read = self.inner.read(&mut buf[..wanted])?;
        self.left -= read;
        Ok(read)
    }
}

/// The error [`Capped`] reads end with when the file is over the limit.
#[derive(Debug)]
struct FileTooLarge;

impl std::fmt::Display for FileTooLarge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the import file is over its size limit")
    }
}

impl std::error::Error for FileTooLarge {}

fn malformed(error: csv::Error) -> ImportError {
    if let csv::ErrorKind::Io(io) = error.kind() {
        if io.get_ref().is_some_and(|inner| inner.is::<FileTooLarge>()) {
            return ImportError::FileTooLarge {
                max: limits::IMPORT_MAX_BYTES,
            };
        }
    }
    let line = error.position().map_or(0, csv::Position::line);
    ImportError::Malformed {
        line,
        message: match error.kind() {
            csv::ErrorKind::Utf8 { .. } => "the file is not valid UTF-8".to_owned(),
            csv::ErrorKind::UnequalLengths {
                expected_len, len, ..
            } => format!("{len} cells where the header has {expected_len}"),
            _ => error.to_string(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A file of exactly `bytes` bytes: a header, then rows of one ignored cell.
    fn file_of(bytes: usize) -> Vec<u8> {
        let mut file = b"status\n".to_vec();
        let row = limits::IMPORT_CELL_MAX_BYTES;
        while file.len() + row < bytes {
            file.extend(std::iter::repeat_n(b'x', row));
            file.push(b'\n');
        }
        let left = bytes - file.len();
        file.extend(std::iter::repeat_n(b'y', left));
        file
    }

    #[test]
    fn a_file_at_the_size_limit_is_read_and_one_byte_more_is_refused() {
        let settings = DirectorySettings::default();
        let at_limit = file_of(limits::IMPORT_MAX_BYTES);
        assert_eq!(at_limit.len(), limits::IMPORT_MAX_BYTES);
        let rows = read_customer_rows(at_limit.as_slice(), &settings).unwrap();
        assert_eq!(
            rows.len(),
            limits::IMPORT_MAX_BYTES / (limits::IMPORT_CELL_MAX_BYTES + 1)
        );
        let over = file_of(limits::IMPORT_MAX_BYTES + 1);
        assert!(matches!(
            read_customer_rows(over.as_slice(), &settings),
            Err(ImportError::FileTooLarge { max }) if max == limits::IMPORT_MAX_BYTES
        ));
    }

    #[test]
    fn the_row_limit_counts_every_row_and_names_the_first_one_over() {
        let settings = DirectorySettings::default();
        let file = |rows: usize| format!("status\n{}", "x\n".repeat(rows));
        let rows = read_customer_rows(file(limits::IMPORT_MAX_ROWS).as_bytes(), &settings);
        assert_eq!(rows.unwrap().len(), limits::IMPORT_MAX_ROWS);
        match read_customer_rows(file(limits::IMPORT_MAX_ROWS + 5).as_bytes(), &settings) {
            Err(ImportError::TooLong { line, limit }) => {
                assert_eq!(line, u64::try_from(limits::IMPORT_MAX_ROWS + 2).unwrap());
                assert_eq!(limit.input, Input::ImportRows);
                assert_eq!(limit.length, limits::IMPORT_MAX_ROWS + 5);
            }
            other => panic!("expected TooLong, got {other:?}"),
        }
    }

    #[test]
    fn an_over_long_cell_is_refused_with_its_line_and_length() {
        let settings = DirectorySettings::default();
        let max = limits::IMPORT_CELL_MAX_BYTES;
        let file = format!(
            "email,status\na@example.com,ok\nb@example.com,{}\n",
            "é".repeat(max / 2 + 1)
        );
        match read_customer_rows(file.as_bytes(), &settings) {
            Err(ImportError::TooLong { line, limit }) => {
                assert_eq!(
                    (line, limit.input, limit.length),
                    (3, Input::ImportCell, max + 2)
                );
                assert!(limit.to_string().contains("bytes"));
            }
            other => panic!("expected TooLong, got {other:?}"),
        }
    }
}
