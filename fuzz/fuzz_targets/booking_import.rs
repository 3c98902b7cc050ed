//! Booking import: any bytes, under either column mapping and in the crate's own format or
//! a European spreadsheet's (Windows-1252, `;`, decimal comma, day-first local times in a
//! zone with clock changes), give rows or one typed file error, never a panic. Rows are
//! numbered in order, their lines only go forward, an invalid row names at least one
//! problem, and nothing follows a file error.
#![no_main]

use customer_directory::reports::booking_import::{
    BookingColumns, BookingFileFormat, BookingReader, DateOrder, DecimalSeparator, Encoding, Tz,
};
use customer_directory::{Currency, DirectorySettings};
use libfuzzer_sys::fuzz_target;

/// The default headers, or another system's: renamed columns, no currency column (a
/// default currency instead) and a custom field.
fn columns(other_system: bool) -> BookingColumns {
    let mut columns = BookingColumns::default();
    if other_system {
        columns.code = "Ref".into();
        columns.status = "State".into();
        columns.currency = None;
        columns.default_currency = Currency::parse("EUR").ok();
        columns = columns.with_custom_field("Shoe size", "shoe_size");
    }
    columns
}

fuzz_target!(|data: &[u8]| {
    let Some((&choice, file)) = data.split_first() else {
        return;
    };
    let settings = DirectorySettings::default();
    let format = if choice & 2 == 2 {
        BookingFileFormat::default()
            .with_delimiter(b';')
            .with_decimal_separator(DecimalSeparator::Comma)
            .with_date_order(DateOrder::DayMonthYear)
            .with_time_zone(
                "Europe/Lisbon"
                    .parse::<Tz>()
                    .expect("a zone of the database"),
            )
            .with_encoding(Encoding::for_label(b"windows-1252").expect("a known label"))
    } else {
        BookingFileFormat::default()
    };
    let Ok(reader) = BookingReader::with_format(file, &columns(choice & 1 == 1), format, &settings)
    else {
        return;
    };
    let mut expected_row = 1;
    let mut last_line = 1;
    let mut failed = false;
    for item in reader {
        assert!(!failed, "a row after a file error");
        match item {
            Ok(row) => {
                assert_eq!(row.row, expected_row, "rows numbered in order");
                assert!(row.line > last_line, "lines go back");
                expected_row += 1;
                last_line = row.line;
                if let Err(problems) = row.booking {
                    assert!(
                        !problems.problems().is_empty(),
                        "an invalid row without a problem"
                    );
                }
            }
            Err(_) => failed = true,
        }
    }
});
