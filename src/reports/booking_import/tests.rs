use super::*;

use crate::settings::custom_fields::{CustomFieldDefinition, CustomFieldKind};

fn settings() -> DirectorySettings {
    DirectorySettings::default()
}

/// Every row of `file` read with `columns`; panics on a file error.
fn rows_with(file: &str, columns: &BookingColumns) -> Vec<BookingRow> {
    let settings = settings();
    BookingReader::new(file.as_bytes(), columns, &settings)
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

fn rows(file: &str) -> Vec<BookingRow> {
    rows_with(file, &BookingColumns::default())
}

/// The fields of every problem of the only row of `file`.
fn problem_fields(file: &str) -> Vec<Option<BookingField>> {
    let rows = rows(file);
    assert_eq!(rows.len(), 1);
    rows[0]
        .booking
        .as_ref()
        .unwrap_err()
        .problems()
        .iter()
        .map(|p| p.field.clone())
        .collect()
}

fn only_problem(file: &str) -> RowProblem {
    let rows = rows(file);
    let problems = rows[0].booking.as_ref().unwrap_err().problems();
    assert_eq!(problems.len(), 1, "{problems:?}");
    problems[0].clone()
}

const HEADER: &str = "code,status,starts_at,total,currency";

fn at(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .unwrap()
        .with_timezone(&Utc)
}

#[test]
fn the_default_mapping_reads_every_field() {
    let file = "code,status,starts_at,ends_at,total,paid,currency,given_name,family_name,\
                display_name,email,phone,address_line1,address_line2,city,region,postcode,country\n\
                BK-1,Completed,2019-06-01T09:30:00+02:00,2019-06-01 12:00,120.50,20,eur,Ana,Silva,\
                Ana S.,Ana@Example.com,+351 912 345 678,Rua 1,2º,Lisboa,Lisboa,1000-001,pt\n";
    let rows = rows(file);
    let booking = rows[0].booking.as_ref().unwrap();
    let eur = Currency::parse("EUR").unwrap();
    assert_eq!(
        (rows[0].row, rows[0].line, rows[0].code.as_str()),
        (1, 2, "BK-1")
    );
    assert_eq!(booking.code, "BK-1");
    assert_eq!(booking.status, BookingStatus::COMPLETED);
    assert_eq!(booking.starts_at, at("2019-06-01T07:30:00Z"));
    assert_eq!(booking.ends_at, Some(at("2019-06-01T12:00:00Z")));
    assert_eq!(booking.total, Money::new(12_050, eur));
    assert_eq!(booking.paid, Money::new(20_00, eur));
    let contact = &booking.contact;
    let name =
        |n: &Option<crate::values::text::PersonName>| n.as_ref().map(|n| n.as_str().to_owned());
    assert_eq!(name(&contact.given_name).as_deref(), Some("Ana"));
    assert_eq!(name(&contact.family_name).as_deref(), Some("Silva"));
    assert_eq!(name(&contact.display_name).as_deref(), Some("Ana S."));
    assert_eq!(
        contact.email.as_ref().unwrap().key().to_string(),
        "ana@example.com"
    );
    assert_eq!(contact.phone.as_ref().unwrap().e164(), "+351912345678");
    let address = &contact.address;
    let text = |t: &Option<crate::values::text::Text>| t.as_ref().map(|t| t.as_str().to_owned());
    assert_eq!(text(&address.line1).as_deref(), Some("Rua 1"));
    assert_eq!(text(&address.line2).as_deref(), Some("2º"));
    assert_eq!(text(&address.city).as_deref(), Some("Lisboa"));
    assert_eq!(text(&address.region).as_deref(), Some("Lisboa"));
    assert_eq!(text(&address.postcode).as_deref(), Some("1000-001"));
    assert_eq!(address.country.as_ref().map(|c| c.as_str()), Some("PT"));
}

#[test]
fn another_systems_headers_map_in_any_case_with_custom_fields_and_extra_columns_ignored() {
    let columns = BookingColumns {
        code: "Ref".into(),
        status: "State".into(),
        starts_at: "Date".into(),
        total: "Amount".into(),
        currency: Some("Cur".into()),
        paid: None,
        given_name: Some("First".into()),
        family_name: Some("Last".into()),
        email: Some("E-mail".into()),
        phone: Some("Tel".into()),
        ..BookingColumns::default()
    }
    .with_custom_field("Shoe size", "shoe_size");
    let file = " REF ,state,date,Amount,Cur,First,Last,e-mail,Tel,Shoe Size,Agent\n\
                R-9,Cancelled,2019-02-03,3000,JPY,Bo,Berg,bo@example.com,,42,someone\n";
    let rows = rows_with(file, &columns);
    let booking = rows[0].booking.as_ref().unwrap();
    assert_eq!(booking.code, "R-9");
    assert_eq!(booking.status, BookingStatus::CANCELLED);
    assert_eq!(booking.starts_at, at("2019-02-03T00:00:00Z"));
    assert_eq!(
        booking.total,
        Money::new(3_000, Currency::parse("JPY").unwrap())
    );
    assert_eq!(booking.paid.minor_units(), 0);
    assert_eq!(booking.contact.phone, None);
    assert_eq!(
        booking
            .contact
            .custom_fields
            .get("shoe_size")
            .map(|v| v.as_str()),
        Some("42")
    );
}

#[test]
fn a_default_currency_serves_rows_without_one_and_a_currency_cell_wins() {
    let columns = BookingColumns {
        default_currency: Some(Currency::parse("GBP").unwrap()),
        ..BookingColumns::default()
    };
    let file = format!("{HEADER}\nA,paid,2020-01-01,5.5,\nB,paid,2020-01-01,5.5,USD\n");
    let rows = rows_with(&file, &columns);
    let currency = |i: usize| {
        rows[i]
            .booking
            .as_ref()
            .unwrap()
            .total
            .currency()
            .to_string()
    };
    assert_eq!((currency(0), currency(1)), ("GBP".into(), "USD".into()));
    // Without a currency column at all.
    let rows = rows_with(
        "code,status,starts_at,total\nA,paid,2020-01-01,5\n",
        &columns,
    );
    assert_eq!(rows[0].booking.as_ref().unwrap().total.minor_units(), 500);
}

#[test]
fn dates_are_read_in_every_accepted_form_and_kept_as_given() {
    for (cell, expected) in [
        ("2019-06-01T09:30:00Z", "2019-06-01T09:30:00Z"),
        ("2019-06-01T09:30:00-03:00", "2019-06-01T12:30:00Z"),
        ("2019-06-01", "2019-06-01T00:00:00Z"),
        ("2019-06-01 09:30", "2019-06-01T09:30:00Z"),
        ("2019-06-01T09:30", "2019-06-01T09:30:00Z"),
        (" 2019-06-01 09:30:15 ", "2019-06-01T09:30:15Z"),
    ] {
        let file = format!("{HEADER}\nA,cancelled,{cell},1,EUR\n");
        let rows = rows(&file);
        let booking = rows[0].booking.as_ref().unwrap();
        assert_eq!(booking.starts_at, at(expected), "{cell}");
        assert_eq!(booking.status, BookingStatus::CANCELLED);
    }
}

#[test]
fn every_bad_value_is_a_problem_of_its_field() {
    for (cell, field) in [
        ("01/06/2019", BookingField::StartsAt),
        ("2019-02-30", BookingField::StartsAt),
        ("2019-06-01 25:00", BookingField::StartsAt),
    ] {
        let problem = only_problem(&format!("{HEADER}\nA,paid,{cell},1,EUR\n"));
        assert_eq!(problem.field, Some(field));
        assert!(
            matches!(&problem.error, RowError::Date { cell: text, .. } if &**text == cell),
            "{cell}"
        );
    }
    let problem = only_problem(&format!("{HEADER}\nA,pa\u{7}id,2020-01-01,1,EUR\n"));
    assert_eq!(problem.field, Some(BookingField::Status));
    assert!(matches!(
        problem.error,
        RowError::Status(TextError::ForbiddenCharacter { .. })
    ));
    for (total, currency, field, check) in [
        ("1,5", "EUR", BookingField::Total, "InvalidAmount"),
        ("1.234", "EUR", BookingField::Total, "TooManyDecimals"),
        (
            "99999999999999999999",
            "EUR",
            BookingField::Total,
            "Overflow",
        ),
        ("1", "EURO", BookingField::Currency, "InvalidCurrency"),
        ("1", "ABC", BookingField::Currency, "UnknownCurrency"),
    ] {
        let file = format!("{HEADER}\nA,paid,2020-01-01,\"{total}\",{currency}\n");
        let problem = only_problem(&file);
        assert_eq!(problem.field, Some(field));
        assert!(
            format!("{:?}", problem.error).contains(check),
            "{problem:?}"
        );
    }
    let file = "code,status,starts_at,ends_at,total,paid,currency,email,country\n\
                A,paid,2020-01-02,2020-01-01,10,abc,EUR,not-an-email,Portugal\n";
    assert_eq!(
        problem_fields(file),
        [
            Some(BookingField::Paid),
            Some(BookingField::Contact(Detail::Email)),
            Some(BookingField::Contact(Detail::Country)),
        ]
    );
    // Once every value reads, the booking as a whole is checked.
    let file =
        "code,status,starts_at,ends_at,total,currency\nA,paid,2020-01-02,2020-01-01,10,EUR\n";
    let problem = only_problem(file);
    assert_eq!(problem.field, Some(BookingField::EndsAt));
    assert_eq!(
        problem.error,
        RowError::Booking(BookingProblem::EndsBeforeStart)
    );
    let long_code = "C".repeat(limits::BOOKING_CODE_MAX_CHARS + 1);
    let problem = only_problem(&format!("{HEADER}\n{long_code},paid,2020-01-01,1,EUR\n"));
    assert_eq!(problem.field, Some(BookingField::Code));
    assert!(matches!(
        problem.error,
        RowError::Booking(BookingProblem::TooLong(_))
    ));
}

#[test]
fn every_problem_of_a_row_is_reported_at_once_and_empty_required_values_are_missing() {
    let file = format!("{HEADER},email\n , ,,,,a@@b\n");
    let rows = rows(&file);
    assert_eq!(rows[0].code, "");
    let problems = rows[0].booking.as_ref().unwrap_err().problems();
    let fields: Vec<_> = problems.iter().map(|p| p.field.clone().unwrap()).collect();
    assert_eq!(
        fields,
        [
            BookingField::Code,
            BookingField::Status,
            BookingField::StartsAt,
            BookingField::Total,
            BookingField::Currency,
            BookingField::Contact(Detail::Email),
        ]
    );
    assert!(problems[..5].iter().all(|p| p.error == RowError::Missing));
    // An amount is not judged without its currency: one problem, not two.
    assert_eq!(
        problem_fields(&format!("{HEADER}\nA,paid,2020-01-01,1.999,XX\n")),
        [Some(BookingField::Currency)]
    );
}

#[test]
fn custom_fields_are_checked_against_the_definitions() {
    let mut settings = settings();
    settings.custom_fields = vec![
        CustomFieldDefinition::new("shoe_size", "Shoe size", CustomFieldKind::Number).unwrap(),
    ];
    let columns = BookingColumns::default()
        .with_custom_field("Shoe", "shoe_size")
        .with_custom_field("Hat", "hat_size");
    let file = format!("{HEADER},Shoe,Hat\nA,paid,2020-01-01,1,EUR,42,7\n");
    let rows: Vec<_> = BookingReader::new(file.as_bytes(), &columns, &settings)
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let problems = rows[0].booking.as_ref().unwrap_err().problems();
    assert_eq!(problems.len(), 1);
    assert_eq!(
        problems[0].field,
        Some(BookingField::Contact(Detail::CustomField(
            "hat_size".into()
        )))
    );
}

#[test]
fn a_byte_order_mark_quoted_fields_and_export_apostrophes_are_handled() {
    let file = "\u{feff}code,status,starts_at,total,currency,given_name,family_name\r\n\
                \"BK,1\",paid,2020-01-01,\"-5\",EUR,\"Ana \"\"Nana\"\"\",'=Silva\r\n\
                \"BK\n2\",paid,2020-01-01,'-7,EUR,Bo,\r\n\
                BK-3,paid,2020-01-01,1,EUR,Cy,\r\n";
    let rows = rows(file);
    assert_eq!(rows.len(), 3);
    let first = rows[0].booking.as_ref().unwrap();
    assert_eq!(first.code, "BK,1");
    assert_eq!(first.total.minor_units(), -500);
    assert_eq!(
        first.contact.given_name.as_ref().unwrap().as_str(),
        "Ana \"Nana\""
    );
    assert_eq!(
        first.contact.family_name.as_ref().unwrap().as_str(),
        "=Silva"
    );
    // A quoted line break makes the row span two lines; the next row's line says so.
    assert_eq!(rows[1].code, "BK\n2");
    assert_eq!(rows[1].booking.as_ref().unwrap().total.minor_units(), -700);
    assert_eq!(
        rows.iter().map(|r| (r.row, r.line)).collect::<Vec<_>>(),
        [(1, 2), (2, 3), (3, 5)]
    );
}

#[test]
fn the_header_is_checked_for_missing_repeated_and_unreadable_columns() {
    let settings = settings();
    let read =
        |file: &'static [u8]| BookingReader::new(file, &BookingColumns::default(), &settings);
    assert!(matches!(read(b""), Err(BookingFileError::Empty)));
    assert!(matches!(
        read(b"code,status,starts_at,total\n"),
        Err(BookingFileError::MissingColumn(header)) if header == "currency"
    ));
    assert!(matches!(
        read(b"code,status,starts_at,total,currency,Email,email\n"),
        Err(BookingFileError::RepeatedColumn(header)) if header == "email"
    ));
    assert!(matches!(
        read(b"code,status,starts_at,total,currency,\xff\n"),
        Err(BookingFileError::Header(RowError::NotUtf8))
    ));
    let long_header = format!(
        "{HEADER},{}\n",
        "h".repeat(limits::IMPORT_CELL_MAX_BYTES + 1)
    );
    let long = BookingReader::new(
        long_header.as_bytes(),
        &BookingColumns::default(),
        &settings,
    );
    assert!(matches!(
        long,
        Err(BookingFileError::Header(RowError::TooLong(TooLong {
            input: Input::ImportCell,
            ..
        })))
    ));
    // Only a header: no rows.
    assert_eq!(
        read(b"code,status,starts_at,total,currency\n")
            .unwrap()
            .count(),
        0
    );
}

#[test]
fn a_row_with_another_cell_count_or_bytes_that_are_not_utf8_is_invalid_and_reading_goes_on() {
    let mut file =
        format!("{HEADER},email\nA,paid,2020-01-01,1,EUR\nB,paid,2020-01-01,1,EUR,").into_bytes();
    file.extend(b"\xffa@example.com\nC,paid,2020-01-01,1,EUR,c@example.com\n");
    let settings = settings();
    let rows: Vec<_> = BookingReader::new(file.as_slice(), &BookingColumns::default(), &settings)
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(rows.len(), 3);
    let problem = |i: usize| rows[i].booking.as_ref().unwrap_err().problems().to_vec();
    assert_eq!(
        problem(0),
        [RowProblem {
            field: None,
            error: RowError::CellCount {
                found: 5,
                expected: 6
            }
        }]
    );
    assert_eq!(
        problem(1),
        [RowProblem {
            field: Some(BookingField::Contact(Detail::Email)),
            error: RowError::NotUtf8
        }]
    );
    assert!(rows[2].booking.is_ok());
}

#[test]
fn a_cell_over_the_cell_limit_makes_its_row_invalid() {
    let max = limits::IMPORT_CELL_MAX_BYTES;
    let file = format!(
        "{HEADER},given_name\nA,paid,2020-01-01,1,EUR,{}\nB,paid,2020-01-01,1,EUR,{}\n",
        "a".repeat(max),
        "é".repeat(max / 2 + 1)
    );
    let rows = rows(&file);
    // At the cell limit the cell is read, and then the name's own limit applies.
    let at_limit = rows[0].booking.as_ref().unwrap_err().problems();
    assert!(matches!(at_limit[0].error, RowError::Contact(_)));
    let over = rows[1].booking.as_ref().unwrap_err().problems();
    assert_eq!(over.len(), 1);
    assert_eq!(
        over[0].error,
        RowError::TooLong(TooLong {
            input: Input::ImportCell,
            length: max + 2,
            max
        })
    );
}

/// A file of `rows` valid rows.
fn file_of_rows(rows: usize) -> String {
    let mut file = format!("{HEADER}\n");
    for row in 0..rows {
        file.push_str(&format!("B-{row},paid,2020-01-01,1,EUR\n"));
    }
    file
}

fn read_bounded(file: &[u8], bounds: Bounds) -> Vec<Result<BookingRow, BookingFileError>> {
    let settings = settings();
    BookingReader::with_bounds(
        file,
        &BookingColumns::default(),
        BookingFileFormat::default(),
        &settings,
        bounds,
    )
    .unwrap()
    .collect()
}

#[test]
fn rows_up_to_the_row_bound_are_read_and_the_first_one_over_stops_the_reading() {
    let bounds = Bounds {
        rows: 5,
        ..Bounds::LIMITS
    };
    let read = read_bounded(file_of_rows(5).as_bytes(), bounds);
    assert_eq!(read.len(), 5);
    assert!(read.iter().all(Result::is_ok));
    let read = read_bounded(file_of_rows(8).as_bytes(), bounds);
    assert_eq!(read.len(), 6, "five rows, then the error, then nothing");
    match &read[5] {
        Err(BookingFileError::TooLong { line, limit }) => {
            assert_eq!(*line, 7);
            assert_eq!(
                (limit.input, limit.length, limit.max),
                (Input::BookingImportRows, 6, 5)
            );
        }
        other => panic!("expected TooLong, got {other:?}"),
    }
}

#[test]
fn a_file_at_the_byte_bound_is_read_and_one_byte_more_is_refused() {
    let file = file_of_rows(50);
    let bounds = Bounds {
        file_bytes: file.len(),
        ..Bounds::LIMITS
    };
    let read = read_bounded(file.as_bytes(), bounds);
    assert_eq!(read.len(), 50);
    assert!(read.iter().all(Result::is_ok));
    let longer = format!("{file}B-X,paid,2020-01-01,1,EUR\n");
    let read = read_bounded(longer.as_bytes(), bounds);
    assert!(matches!(
        read.last(),
        Some(Err(BookingFileError::FileTooLarge { max })) if *max == file.len()
    ));
    assert!(read.len() <= 51);
}

#[test]
fn a_row_over_the_row_bound_stops_the_reading_and_shorter_rows_pass() {
    let bounds = Bounds {
        row_bytes: 1_000,
        ..Bounds::LIMITS
    };
    // Rows of 900 bytes, more than the parser's buffer in all, pass.
    let filler = "x".repeat(870);
    let mut file = format!("{HEADER},notes\n");
    for row in 0..200 {
        file.push_str(&format!("B-{row},paid,2020-01-01,1,EUR,{filler}\n"));
    }
    let read = read_bounded(file.as_bytes(), bounds);
    assert_eq!(read.len(), 200);
    assert!(read.iter().all(Result::is_ok));
    // One huge quoted cell is never buffered whole.
    let huge = "y".repeat(BUFFER_BYTES * 4);
    let file =
        format!("{HEADER},notes\nA,paid,2020-01-01,1,EUR,\"{huge}\"\nB,paid,2020-01-01,1,EUR,\n");
    let read = read_bounded(file.as_bytes(), bounds);
    assert_eq!(read.len(), 1);
    match &read[0] {
        Err(BookingFileError::TooLong { line, limit }) => {
            assert_eq!(*line, 2);
            assert_eq!((limit.input, limit.max), (Input::BookingImportRow, 1_000));
        }
        other => panic!("expected TooLong, got {other:?}"),
    }
}

#[test]
fn a_failing_reader_is_a_read_error_with_its_line() {
    struct Failing(usize);
    impl io::Read for Failing {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let text = b"code,status,starts_at,total,currency\nA,paid,2020-01-01,1,EUR\n";
            if self.0 >= text.len() {
                return Err(io::Error::other("disk gone"));
            }
            let n = (text.len() - self.0).min(buf.len());
            buf[..n].copy_from_slice(&text[self.0..self.0 + n]);
            self.0 += n;
            Ok(n)
        }
    }
    let settings = settings();
    let read: Vec<_> = BookingReader::new(Failing(0), &BookingColumns::default(), &settings)
        .unwrap()
        .collect();
    assert!(matches!(
        read.last(),
        Some(Err(BookingFileError::Read { source, .. })) if source.to_string() == "disk gone"
    ));
}

proptest::proptest! {
    /// Whatever the bytes after a valid header, reading never panics, yields rows in
    /// order each on a later line, and every valid row is a booking with a code.
    #[test]
    fn reading_never_panics_on_arbitrary_bytes(
        body in proptest::collection::vec(
            proptest::prop_oneof![
                proptest::sample::select(b",\"\r\n2-:T '".to_vec()),
                proptest::num::u8::ANY,
            ],
            0..400,
        )
    ) {
        let settings = settings();
        let mut file = format!("{HEADER},email\n").into_bytes();
        file.extend(body);
        let reader = BookingReader::new(file.as_slice(), &BookingColumns::default(), &settings)
            .unwrap();
        // Each row starts on a line of its own, whatever ends the one before (LF, CR LF
        // or a CR alone).
        let mut last = (0, 1);
        for row in reader.flatten() {
            proptest::prop_assert_eq!(row.row, last.0 + 1);
            proptest::prop_assert!(row.line > last.1);
            if let Ok(booking) = &row.booking {
                proptest::prop_assert!(!booking.code.trim().is_empty());
            }
            last = (row.row, row.line);
        }
    }
}

#[test]
fn lines_are_counted_with_lf_crlf_and_lone_cr_ends_blank_lines_and_quoted_line_breaks() {
    for end in ["\n", "\r\n", "\r"] {
        let file = [
            HEADER,
            "A,paid,2020-01-01,1,EUR",
            "",
            "\"B",
            "B\",paid,2020-01-01,1,EUR",
            "",
            "",
            "C,paid,2020-01-01,1,EUR",
        ]
        .join(end);
        let lines: Vec<u64> = rows(&file).iter().map(|row| row.line).collect();
        assert_eq!(lines, [2, 4, 8], "{end:?}");
    }
    // Line ends mixed in one file, as a file edited on several systems has them.
    let file = format!(
        "{HEADER}\rA,paid,2020-01-01,1,EUR\r\n\rB,paid,2020-01-01,1,EUR\n\r\nC,paid,2020-01-01,1,EUR\r"
    );
    let lines: Vec<u64> = rows(&file).iter().map(|row| row.line).collect();
    assert_eq!(lines, [2, 4, 6]);
}

#[test]
fn headers_match_ignoring_unicode_case_composition_and_spacing() {
    let columns = BookingColumns {
        code: "C\u{f3}digo".into(),
        given_name: Some("Primeiro  nome".into()),
        ..BookingColumns::default()
    };
    for header in [
        "C\u{d3}DIGO,status,starts_at,total,currency,PRIMEIRO NOME",
        "Co\u{301}digo,status,starts_at,total,currency,  primeiro   nome ",
    ] {
        let rows = rows_with(
            &format!("{header}\nA-1,paid,2020-01-01,1,EUR,Ana\n"),
            &columns,
        );
        let booking = rows[0].booking.as_ref().expect(header);
        assert_eq!(booking.code, "A-1", "{header}");
        assert_eq!(
            booking.contact.given_name.as_ref().unwrap().as_str(),
            "Ana",
            "{header}"
        );
    }
    // Two headers that are the same name written differently are one column twice.
    let settings = settings();
    let twice = BookingReader::new(
        "C\u{f3}digo,CO\u{301}DIGO,status,starts_at,total,currency\n".as_bytes(),
        &columns,
        &settings,
    )
    .err();
    assert!(
        matches!(&twice, Some(BookingFileError::RepeatedColumn(header)) if header == "C\u{f3}digo"),
        "{twice:?}"
    );
}
