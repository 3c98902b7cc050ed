//! How another system writes a booking file: its text encoding, the cell delimiter, the
//! decimal separator of amounts, the order of day, month and year in dates, and the time
//! zone of dates written without an offset. Exports from spreadsheet programs in much of
//! Europe use `;` between cells, a decimal comma and `DD.MM.YYYY`, and on Windows are often
//! written in the Windows-1252 code page rather than UTF-8; booking systems often write
//! local times with no offset.

use std::{fmt, io};

use chrono::{DateTime, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use encoding_rs::Encoding;
use encoding_rs_io::{DecodeReaderBytes, DecodeReaderBytesBuilder};

use crate::reports::booking_import::RowError;
use crate::values::money::{Currency, Money, MoneyError};

/// How a booking file writes its values. The default is the crate's own CSV shape: UTF-8,
/// `,` between cells, a decimal point, `YYYY-MM-DD` dates and UTC.
///
/// A file in another [`encoding`](Self::encoding) is turned into UTF-8 as it is read (bytes
/// the encoding cannot map become U+FFFD); a byte order mark at the start of the file
/// (UTF-8 or UTF-16) wins over the encoding named. The file's size bounds
/// ([`BOOKING_IMPORT_MAX_BYTES`](crate::limits::BOOKING_IMPORT_MAX_BYTES) and the row's)
/// count the UTF-8 bytes. In UTF-8, the default, the bytes are read as written and a cell
/// that is not valid UTF-8 is a problem of its row.
///
/// A first line `sep=;` (any case; some systems write it so a spreadsheet program splits
/// the cells) declares the file's delimiter and is skipped; a file that declares another
/// delimiter than [`delimiter`](Self::delimiter) is refused
/// ([`FormatError::DeclaredDelimiter`]) before any row is read.
///
/// A date cell is either RFC 3339 with an offset (`2019-06-01T09:30:00+02:00`, always
/// accepted: the offset says when it was), or a date in [`date_order`](Self::date_order)
/// with `-`, `/` or `.` between its parts and a four-digit year, optionally followed by a
/// space (or, year first, a `T`) and `HH:MM` or `HH:MM:SS`. Such a local date is read in
/// [`time_zone`](Self::time_zone); a date alone is midnight there. Two-digit years are
/// refused: `05/03/19` could be 1919 or 2019.
///
/// At a change of the clocks some local times happen twice (the earlier of the two instants
/// is taken: the file cannot say which was meant) and some never happen (the row is
/// invalid, [`RowError::SkippedLocalTime`]).
///
/// # Examples
///
/// ```
/// use customer_directory::reports::booking_import::{BookingFileFormat, DateOrder, DecimalSeparator, Encoding, Tz};
/// let format = BookingFileFormat::default()
///     .with_encoding(Encoding::for_label(b"windows-1252").unwrap())
///     .with_delimiter(b';')
///     .with_decimal_separator(DecimalSeparator::Comma)
///     .with_date_order(DateOrder::DayMonthYear)
///     .with_time_zone("Europe/Lisbon".parse::<Tz>().unwrap());
/// assert_eq!(format.delimiter, b';');
/// assert!(format.check().is_ok());
/// assert!(BookingFileFormat::default().with_delimiter(b'"').check().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct BookingFileFormat {
    /// The file's text encoding.
    pub encoding: &'static Encoding,
    /// The byte between cells: an ASCII character other than `"`, CR and LF.
    pub delimiter: u8,
    /// The decimal separator of amounts.
    pub decimal_separator: DecimalSeparator,
    /// The order of year, month and day in dates without an offset.
    pub date_order: DateOrder,
    /// The zone of dates without an offset.
    pub time_zone: Tz,
}

impl Default for BookingFileFormat {
    fn default() -> Self {
        Self {
            encoding: encoding_rs::UTF_8,
            delimiter: b',',
            decimal_separator: DecimalSeparator::Point,
            date_order: DateOrder::YearMonthDay,
            time_zone: Tz::UTC,
        }
    }
}

/// The decimal separator of the amounts in a booking file. Thousands separators are never
/// read: `1.234,50` and `1,234.50` are invalid amounts under either.
///
/// # Examples
///
/// ```
/// use customer_directory::reports::booking_import::DecimalSeparator;
/// assert_eq!(DecimalSeparator::Comma.to_string(), "`,`");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum DecimalSeparator {
    /// `1234.50`.
    Point,
    /// `1234,50`: a cell holding a `.` is invalid.
    Comma,
}

impl fmt::Display for DecimalSeparator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Point => "`.`",
            Self::Comma => "`,`",
        })
    }
}

/// The order of year, month and day in the dates of a booking file.
///
/// # Examples
///
/// ```
/// use customer_directory::reports::booking_import::DateOrder;
/// assert_eq!(DateOrder::DayMonthYear.to_string(), "DD/MM/YYYY");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum DateOrder {
    /// `2019-03-05` (ISO 8601).
    YearMonthDay,
    /// `05/03/2019`, `05.03.2019`, `05-03-2019`: most of the world.
    DayMonthYear,
    /// `03/05/2019`: the United States.
    MonthDayYear,
}

impl fmt::Display for DateOrder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::YearMonthDay => "YYYY-MM-DD",
            Self::DayMonthYear => "DD/MM/YYYY",
            Self::MonthDayYear => "MM/DD/YYYY",
        })
    }
}

/// A [`BookingFileFormat`] that cannot be read with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FormatError {
    /// The delimiter is not ASCII, or is `"`, CR or LF.
    #[error(
        "the delimiter {0:#04x} cannot separate cells: use an ASCII character other than `\"`, CR and LF"
    )]
    Delimiter(u8),
    /// The file's first line declares another delimiter (`sep=;`, as written for
    /// spreadsheet programs) than the format's.
    #[error(
        "the file declares {declared:?} as its delimiter (`sep=` on its first line), the format {expected:?}",
        declared = char::from(*declared),
        expected = char::from(*expected)
    )]
    DeclaredDelimiter {
        /// The delimiter the file declares.
        declared: u8,
        /// The format's.
        expected: u8,
    },
}

impl BookingFileFormat {
    /// Sets the file's text encoding.
    #[must_use]
    pub fn with_encoding(mut self, encoding: &'static Encoding) -> Self {
        self.encoding = encoding;
        self
    }

    /// Sets the byte between cells.
    #[must_use]
    pub fn with_delimiter(mut self, delimiter: u8) -> Self {
        self.delimiter = delimiter;
        self
    }

    /// Sets the decimal separator of amounts.
    #[must_use]
    pub fn with_decimal_separator(mut self, separator: DecimalSeparator) -> Self {
        self.decimal_separator = separator;
        self
    }

    /// Sets the order of year, month and day in dates.
    #[must_use]
    pub fn with_date_order(mut self, order: DateOrder) -> Self {
        self.date_order = order;
        self
    }

    /// Sets the zone of dates without an offset.
    #[must_use]
    pub fn with_time_zone(mut self, zone: Tz) -> Self {
        self.time_zone = zone;
        self
    }

    /// Whether a file can be read in this format.
    ///
    /// # Errors
    ///
    /// [`FormatError::Delimiter`] for a delimiter that is not ASCII, or is `"`, CR or LF.
    pub fn check(&self) -> Result<(), FormatError> {
        let delimiter = self.delimiter;
        if !delimiter.is_ascii() || matches!(delimiter, b'"' | b'\r' | b'\n') {
            return Err(FormatError::Delimiter(delimiter));
        }
        Ok(())
    }

    /// `reader` turned into UTF-8 from [`encoding`](Self::encoding), a byte order mark
    /// winning and dropped. In UTF-8, the default, the bytes are handed on as written.
    pub(super) fn decoding<R: io::Read>(&self, reader: R) -> DecodeReaderBytes<R, Vec<u8>> {
        // Naming no encoding is how the decoder hands bytes on unchanged (unless a byte
        // order mark says otherwise): invalid UTF-8 then stays a problem of its cell.
        let named = (self.encoding != encoding_rs::UTF_8).then_some(self.encoding);
        DecodeReaderBytesBuilder::new()
            .encoding(named)
            .bom_override(true)
            // Only when no encoding is named: with one named, the decoder would keep it
            // after a UTF-8 mark instead of decoding UTF-8.
            .utf8_passthru(named.is_none())
            .strip_bom(true)
            .build(reader)
    }

    /// The delimiter a file's first record declares, when it is a `sep=X` line (any case):
    /// read with the format's own delimiter `X`, the line is the two cells `sep=` and an
    /// empty one; read with another, the one cell `sep=X`.
    pub(super) fn declared_delimiter(&self, first: &csv::ByteRecord) -> Option<u8> {
        let cell = |index: usize| first.get(index).unwrap_or_default();
        let (keyword, declared) = cell(0).split_at_checked(4)?;
        if !keyword.eq_ignore_ascii_case(b"sep=") {
            return None;
        }
        match (first.len(), declared) {
            (1, [declared]) => Some(*declared),
            (2, []) if cell(1).is_empty() => Some(self.delimiter),
            _ => None,
        }
    }

    /// The instant a date cell names.
    pub(super) fn date(&self, cell: &str) -> Result<DateTime<Utc>, RowError> {
        let cell = cell.trim();
        if let Ok(at) = DateTime::parse_from_rfc3339(cell) {
            return Ok(at.with_timezone(&Utc));
        }
        let not_a_date = || RowError::Date {
            cell: cell.into(),
            order: self.date_order,
        };
        let local = self.local_date_time(cell).ok_or_else(not_a_date)?;
        match self.time_zone.from_local_datetime(&local) {
            LocalResult::Single(at) | LocalResult::Ambiguous(at, _) => Ok(at.with_timezone(&Utc)),
            LocalResult::None => Err(RowError::SkippedLocalTime {
                cell: cell.into(),
                zone: self.time_zone.name().into(),
            }),
        }
    }

    /// The local date and time of a cell in [`date_order`](Self::date_order), optionally
    /// with a time of day.
    fn local_date_time(&self, cell: &str) -> Option<NaiveDateTime> {
        let year_first = self.date_order == DateOrder::YearMonthDay;
        let (date, time) = match cell.find([' ', 'T']) {
            Some(at) if cell[at..].starts_with(' ') || year_first => {
                (&cell[..at], Some(cell[at + 1..].trim_start()))
            }
            Some(_) => return None,
            None => (cell, None),
        };
        let separator = date.chars().find(|c| !c.is_ascii_digit())?;
        if !matches!(separator, '-' | '/' | '.') {
            return None;
        }
        let mut parts = date.split(separator);
        let (first, second, third) = (parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() {
            return None;
        }
        let (year, month, day) = match self.date_order {
            DateOrder::YearMonthDay => (first, second, third),
            DateOrder::DayMonthYear => (third, second, first),
            DateOrder::MonthDayYear => (third, first, second),
        };
        let number = |text: &str, digits: std::ops::RangeInclusive<usize>| {
            let digits_only =
                digits.contains(&text.len()) && text.bytes().all(|b| b.is_ascii_digit());
            if digits_only {
                text.parse::<u32>().ok()
            } else {
                None
            }
        };
        let date = NaiveDate::from_ymd_opt(
            i32::try_from(number(year, 4..=4)?).ok()?,
            number(month, 1..=2)?,
            number(day, 1..=2)?,
        )?;
        let time = match time {
            None => NaiveTime::MIN,
            Some(time) => match time.matches(':').count() {
                1 => NaiveTime::parse_from_str(time, "%H:%M").ok()?,
                2 => NaiveTime::parse_from_str(time, "%H:%M:%S").ok()?,
                _ => return None,
            },
        };
        Some(date.and_time(time))
    }

    /// The amount an amount cell holds, in `currency`.
    pub(super) fn amount(&self, cell: &str, currency: Currency) -> Result<Money, RowError> {
        match self.decimal_separator {
            DecimalSeparator::Point => Money::parse_amount(cell, currency).map_err(RowError::Money),
            DecimalSeparator::Comma => {
                let not_an_amount = || RowError::Amount {
                    cell: cell.trim().into(),
                    separator: DecimalSeparator::Comma,
                };
                // A `.` beside a decimal comma is a thousands separator, or a decimal point
                // in the wrong file: either way not read.
                if cell.contains('.') {
                    return Err(not_an_amount());
                }
                Money::parse_amount(&cell.replace(',', "."), currency).map_err(
                    |error| match error {
                        MoneyError::InvalidAmount(_) => not_an_amount(),
                        MoneyError::TooManyDecimals {
                            currency, digits, ..
                        } => RowError::Money(MoneyError::TooManyDecimals {
                            amount: cell.trim().into(),
                            currency,
                            digits,
                        }),
                        other => RowError::Money(other),
                    },
                )
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reports::booking_import::{
        BookingColumns, BookingField, BookingFileError, BookingReader,
    };
    use crate::settings::DirectorySettings;

    fn utc(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .unwrap()
            .with_timezone(&Utc)
    }

    fn in_order(order: DateOrder) -> BookingFileFormat {
        BookingFileFormat::default().with_date_order(order)
    }

    fn lisbon() -> BookingFileFormat {
        in_order(DateOrder::DayMonthYear).with_time_zone("Europe/Lisbon".parse().unwrap())
    }

    #[test]
    fn a_file_from_a_european_spreadsheet_reads_whole() {
        let file = "C\u{f3}digo;Estado;In\u{ed}cio;Total;Pago;Moeda;Email\r\n\
                    BK-1;paid;05.07.2019 10:30;1234,50;\"100,00\";EUR;ana@example.com\r\n\
                    BK-2;cancelled;24/12/2019;45;;EUR;bo@example.com\r\n";
        let columns = BookingColumns {
            code: "C\u{f3}digo".into(),
            status: "Estado".into(),
            starts_at: "In\u{ed}cio".into(),
            paid: Some("Pago".into()),
            currency: Some("Moeda".into()),
            email: Some("Email".into()),
            ..BookingColumns::default()
        };
        let format = lisbon()
            .with_delimiter(b';')
            .with_decimal_separator(DecimalSeparator::Comma);
        let settings = DirectorySettings::default();
        let rows: Vec<_> = BookingReader::with_format(file.as_bytes(), &columns, format, &settings)
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        let eur = Currency::parse("EUR").unwrap();
        let first = rows[0].booking.as_ref().unwrap();
        // Lisbon is an hour ahead of UTC in summer and on UTC in winter.
        assert_eq!(first.starts_at, utc("2019-07-05T09:30:00Z"));
        assert_eq!(first.total, Money::new(123_450, eur));
        assert_eq!(first.paid, Money::new(10_000, eur));
        let second = rows[1].booking.as_ref().unwrap();
        assert_eq!(second.starts_at, utc("2019-12-24T00:00:00Z"));
        assert_eq!(second.total, Money::new(4_500, eur));
    }

    /// Every row of `file` read with the default columns in `format`.
    fn read_in(
        file: &[u8],
        format: BookingFileFormat,
    ) -> Vec<crate::reports::booking_import::BookingRow> {
        let settings = DirectorySettings::default();
        BookingReader::with_format(file, &BookingColumns::default(), format, &settings)
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    }

    fn given_name(row: &crate::reports::booking_import::BookingRow) -> String {
        let booking = row.booking.as_ref().unwrap();
        booking
            .contact
            .given_name
            .as_ref()
            .unwrap()
            .as_str()
            .to_owned()
    }

    #[test]
    fn a_windows_1252_file_is_read_as_the_text_it_encodes() {
        // `Zoë` and `Pérez` as Windows-1252 writes them: one byte each for `ë` and `é`.
        let file = b"code;status;starts_at;total;currency;given_name;family_name\r\n\
                     W-1;paid;2019-03-05;12,50;EUR;Zo\xeb;P\xe9rez\r\n";
        let windows = BookingFileFormat::default()
            .with_encoding(Encoding::for_label(b"windows-1252").unwrap())
            .with_delimiter(b';')
            .with_decimal_separator(DecimalSeparator::Comma);
        let rows = read_in(file, windows);
        assert_eq!(given_name(&rows[0]), "Zo\u{eb}");
        let booking = rows[0].booking.as_ref().unwrap();
        assert_eq!(
            booking.contact.family_name.as_ref().unwrap().as_str(),
            "P\u{e9}rez"
        );
        // Read as UTF-8, the same bytes are invalid, and the row says so.
        let utf8 = windows.with_encoding(encoding_rs::UTF_8);
        let problems = read_in(file, utf8)[0]
            .booking
            .as_ref()
            .unwrap_err()
            .problems()
            .to_vec();
        assert!(
            problems
                .iter()
                .all(|problem| problem.error == RowError::NotUtf8),
            "{problems:?}"
        );
        assert_eq!(problems.len(), 2, "{problems:?}");
    }

    #[test]
    fn a_byte_order_mark_wins_over_the_encoding_named() {
        // A spreadsheet's "Unicode text": UTF-16 little-endian with its mark, tab-separated.
        let text = "code\tstatus\tstarts_at\ttotal\tcurrency\tgiven_name\r\n\
                    U-1\tpaid\t2019-03-05\t12.50\tEUR\tZo\u{eb}\r\n";
        let mut utf16 = vec![0xFF, 0xFE];
        utf16.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
        let tabs = BookingFileFormat::default().with_delimiter(b'\t');
        assert_eq!(given_name(&read_in(&utf16, tabs)[0]), "Zo\u{eb}");
        // A UTF-8 file with its mark, though Windows-1252 is named: read as UTF-8.
        let mut utf8 = vec![0xEF, 0xBB, 0xBF];
        utf8.extend(text.as_bytes());
        let named = tabs.with_encoding(Encoding::for_label(b"windows-1252").unwrap());
        assert_eq!(given_name(&read_in(&utf8, named)[0]), "Zo\u{eb}");
        // And without a mark, the encoding named is the one read.
        assert_eq!(
            given_name(&read_in(text.as_bytes(), named)[0]),
            "Zo\u{c3}\u{ab}"
        );
    }

    #[test]
    fn a_first_line_declaring_the_delimiter_is_skipped_when_it_is_the_formats() {
        let semicolons = BookingFileFormat::default().with_delimiter(b';');
        let body =
            "code;status;starts_at;total;currency;given_name\nS-1;paid;2019-03-05;1;EUR;Ana\n";
        for declaration in ["sep=;\n", "SEP=;\r\n", "\u{feff}sep=;\n"] {
            let rows = read_in(format!("{declaration}{body}").as_bytes(), semicolons);
            assert_eq!(rows.len(), 1, "{declaration:?}");
            assert_eq!(rows[0].line, 3, "{declaration:?}");
            assert_eq!(given_name(&rows[0]), "Ana", "{declaration:?}");
        }
        let commas = read_in(
            b"sep=,\ncode,status,starts_at,total,currency,given_name\nS-1,paid,2019-03-05,1,EUR,Ana\n",
            BookingFileFormat::default(),
        );
        assert_eq!(given_name(&commas[0]), "Ana");

        let settings = DirectorySettings::default();
        let open = |file: &str, format: BookingFileFormat| {
            BookingReader::with_format(
                file.as_bytes(),
                &BookingColumns::default(),
                format,
                &settings,
            )
            .err()
        };
        let other = open(&format!("sep=;\n{body}"), BookingFileFormat::default());
        assert!(
            matches!(
                other,
                Some(BookingFileError::Format(FormatError::DeclaredDelimiter {
                    declared: b';',
                    expected: b','
                }))
            ),
            "{other:?}"
        );
        let message = other.unwrap().to_string();
        assert!(
            message.contains("';'") && message.contains("','"),
            "{message}"
        );
        assert!(
            matches!(open("sep=;\n", semicolons), Some(BookingFileError::Empty)),
            "a declaration alone is an empty file"
        );
        // A header whose first column happens to start with `sep=` is a header.
        let header = read_in(
            b"sep=x;code;status;starts_at;total;currency;given_name\n;S-1;paid;2019-03-05;1;EUR;Ana\n",
            semicolons,
        );
        assert_eq!(given_name(&header[0]), "Ana");
    }

    #[test]
    fn every_date_order_reads_its_own_dates_with_any_separator() {
        let cases = [
            (
                DateOrder::YearMonthDay,
                "2019-03-05",
                "2019-03-05T00:00:00Z",
            ),
            (
                DateOrder::YearMonthDay,
                "2019/03/05 10:30",
                "2019-03-05T10:30:00Z",
            ),
            (
                DateOrder::YearMonthDay,
                "2019.3.5T10:30:15",
                "2019-03-05T10:30:15Z",
            ),
            (
                DateOrder::DayMonthYear,
                "05/03/2019",
                "2019-03-05T00:00:00Z",
            ),
            (
                DateOrder::DayMonthYear,
                "5.3.2019 9:05",
                "2019-03-05T09:05:00Z",
            ),
            (
                DateOrder::DayMonthYear,
                "05-03-2019 23:59:59",
                "2019-03-05T23:59:59Z",
            ),
            (
                DateOrder::MonthDayYear,
                "03/05/2019",
                "2019-03-05T00:00:00Z",
            ),
            (
                DateOrder::MonthDayYear,
                "12/31/2019 18:00",
                "2019-12-31T18:00:00Z",
            ),
        ];
        for (order, cell, expected) in cases {
            assert_eq!(
                in_order(order).date(cell),
                Ok(utc(expected)),
                "{order} {cell}"
            );
        }
    }

    #[test]
    fn dates_outside_the_order_are_refused_with_the_order_named() {
        let cases = [
            (DateOrder::DayMonthYear, "2019-03-05"),
            (DateOrder::DayMonthYear, "05/03/19"),
            (DateOrder::DayMonthYear, "05/03/2019T10:00"),
            (DateOrder::DayMonthYear, "31/02/2019"),
            (DateOrder::DayMonthYear, "05/03/2019 25:00"),
            (DateOrder::DayMonthYear, "05/03/2019 10"),
            (DateOrder::DayMonthYear, "05/03-2019"),
            (DateOrder::DayMonthYear, "05/03/2019/1"),
            (DateOrder::DayMonthYear, "005/03/2019"),
            (DateOrder::MonthDayYear, "13/05/2019"),
            (DateOrder::YearMonthDay, "05/03/2019"),
            (DateOrder::YearMonthDay, "2019_03_05"),
            (DateOrder::YearMonthDay, "+2019-03-05"),
            (DateOrder::YearMonthDay, ""),
        ];
        for (order, cell) in cases {
            let error = in_order(order).date(cell).unwrap_err();
            assert_eq!(
                error,
                RowError::Date {
                    cell: cell.into(),
                    order
                },
                "{order} {cell}"
            );
            assert!(error.to_string().contains(&order.to_string()), "{error}");
        }
    }

    #[test]
    fn local_times_follow_the_zone_across_its_clock_changes() {
        let format = lisbon();
        // An offset in the cell wins over the zone.
        assert_eq!(
            format.date("2019-07-05T10:30:00+02:00"),
            Ok(utc("2019-07-05T08:30:00Z"))
        );
        // 31 March 2019: Lisbon's clocks went from 01:00 to 02:00.
        assert_eq!(
            format.date("31/03/2019 01:30"),
            Err(RowError::SkippedLocalTime {
                cell: "31/03/2019 01:30".into(),
                zone: "Europe/Lisbon".into()
            })
        );
        assert_eq!(
            format.date("31/03/2019 00:59"),
            Ok(utc("2019-03-31T00:59:00Z"))
        );
        assert_eq!(
            format.date("31/03/2019 02:00"),
            Ok(utc("2019-03-31T01:00:00Z"))
        );
        // 27 October 2019: 01:00 to 02:00 happened twice; the earlier is taken.
        assert_eq!(
            format.date("27/10/2019 01:30"),
            Ok(utc("2019-10-27T00:30:00Z"))
        );
        // UTC, the default, has no clock changes.
        let default = BookingFileFormat::default();
        assert_eq!(
            default.date("2019-03-31 01:30"),
            Ok(utc("2019-03-31T01:30:00Z"))
        );
    }

    #[test]
    fn amounts_are_read_with_the_files_decimal_separator_only() {
        let eur = Currency::parse("EUR").unwrap();
        let comma = BookingFileFormat::default().with_decimal_separator(DecimalSeparator::Comma);
        let point = BookingFileFormat::default();
        assert_eq!(comma.amount("1234,5", eur), Ok(Money::new(123_450, eur)));
        assert_eq!(comma.amount("-12", eur), Ok(Money::new(-1_200, eur)));
        assert_eq!(point.amount("1234.5", eur), Ok(Money::new(123_450, eur)));
        for cell in ["12.50", "1.234,50", "1,234.50", "12,5,0", "doze", ""] {
            assert_eq!(
                comma.amount(cell, eur),
                Err(RowError::Amount {
                    cell: cell.into(),
                    separator: DecimalSeparator::Comma
                }),
                "{cell}"
            );
        }
        assert_eq!(
            comma.amount("12,345", eur),
            Err(RowError::Money(MoneyError::TooManyDecimals {
                amount: "12,345".into(),
                currency: eur,
                digits: 2
            }))
        );
        assert_eq!(
            point.amount("12,50", eur),
            Err(RowError::Money(MoneyError::InvalidAmount("12,50".into())))
        );
    }

    #[test]
    fn a_format_that_cannot_separate_cells_is_refused_before_reading() {
        let settings = DirectorySettings::default();
        for delimiter in [b'"', b'\r', b'\n', 0xC3] {
            let format = BookingFileFormat::default().with_delimiter(delimiter);
            assert_eq!(format.check(), Err(FormatError::Delimiter(delimiter)));
            let result = BookingReader::with_format(
                "code,status,starts_at,total,currency\n".as_bytes(),
                &BookingColumns::default(),
                format,
                &settings,
            );
            assert!(
                matches!(result, Err(BookingFileError::Format(FormatError::Delimiter(d))) if d == delimiter),
                "{delimiter:#04x}"
            );
        }
        for delimiter in [b',', b';', b'\t', b'|'] {
            assert_eq!(
                BookingFileFormat::default()
                    .with_delimiter(delimiter)
                    .check(),
                Ok(())
            );
        }
    }

    #[test]
    fn a_problem_of_the_format_names_its_field() {
        let file = "code;status;starts_at;total;currency\nA;paid;2019-03-05;12.50;EUR\n";
        let format = lisbon()
            .with_delimiter(b';')
            .with_decimal_separator(DecimalSeparator::Comma);
        let settings = DirectorySettings::default();
        let rows: Vec<_> = BookingReader::with_format(
            file.as_bytes(),
            &BookingColumns::default(),
            format,
            &settings,
        )
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
        let problems = rows[0].booking.as_ref().unwrap_err().problems();
        let fields: Vec<_> = problems.iter().map(|p| p.field.clone()).collect();
        assert_eq!(
            fields,
            [Some(BookingField::StartsAt), Some(BookingField::Total)],
            "{problems:?}"
        );
    }
}
