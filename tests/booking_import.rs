//! Importing another system's booking history through `Directory::import_bookings`, on
//! the in-memory store: totals, historical values kept, resuming after a failed batch.
#![cfg(feature = "testing")]

use std::collections::HashSet;
use std::io;

use customer_directory::ports::store::StoreError;
use customer_directory::records::BlockTarget;
use customer_directory::reports::booking_import::{
    BookingColumns, BookingField, BookingFileError, BookingFileFormat, DateOrder, DecimalSeparator,
    Encoding, FormatError, RowError, Tz,
};
use customer_directory::service::{
    BookingImport, BookingImportCounts, BookingImportError, BookingOutcome,
};
use customer_directory::testing::{FaultInjectingStore, InjectedFault};
use customer_directory::{
    Actor, BookingStatus, Currency, Directory, DirectorySettings, Error, MemoryStore, Money,
};

const HEADER: &str = "code,status,starts_at,total,currency,given_name,email";

/// A file of `rows` valid bookings `H-0`, `H-1`, ... by ten repeat customers.
fn history(rows: usize) -> String {
    let mut file = format!("{HEADER}\n");
    for row in 0..rows {
        let status = if row % 4 == 3 { "cancelled" } else { "paid" };
        let customer = row % 10;
        file.push_str(&format!(
            "H-{row},{status},2019-01-{:02} 10:00,{}.50,EUR,Guest {customer},guest{customer}@example.com\n",
            row % 28 + 1,
            row + 10,
        ));
    }
    file
}

fn directory() -> Directory<MemoryStore> {
    Directory::new(MemoryStore::new(), DirectorySettings::default())
}

fn staff() -> Actor {
    Actor::staff("import")
}

/// Codes of every stored booking, checking that none is stored twice.
fn stored_codes(store: &MemoryStore) -> HashSet<String> {
    let bookings = store.all_bookings();
    let codes: HashSet<String> = bookings.iter().map(|b| b.code.clone()).collect();
    assert_eq!(codes.len(), bookings.len(), "a code is stored twice");
    codes
}

#[tokio::test]
async fn the_report_counts_every_outcome_and_lists_the_rows_not_recorded() {
    let directory = directory();
    directory
        .add_to_blocklist(
            BlockTarget::domain("spam.example").unwrap(),
            "spam",
            &staff(),
        )
        .await
        .unwrap();
    let file = format!(
        "{HEADER}\n\
         A-1,paid,2019-03-01,10,EUR,Ana,ana@example.com\n\
         A-2,completed,2019-04-01,10,EUR,Ana,ANA@example.com\n\
         A-3,cancelled,2019-05-01,10,EUR,Bo,bo@example.com\n\
         A-4,paid,2019-13-01,10,EUR,Cy,cy@example.com\n\
         A-5,paid,2019-06-01,10,EUR,Di,di@spam.example\n\
         A-1,paid,2019-07-01,10,EUR,Ana,ana@example.com\n\
         A-6,paid,2019-08-01,10,EUR,Ed,\n"
    );
    let report = directory
        .import_bookings(file.as_bytes(), &BookingImport::default(), |_| {}, &staff())
        .await
        .unwrap();
    let counts = report.counts;
    assert_eq!(
        (
            counts.rows,
            counts.recorded,
            counts.already_present,
            counts.invalid,
            counts.refused
        ),
        (7, 4, 1, 1, 1)
    );
    // Ana created then attached; Bo's cancelled booking does not lock; Ed has no email.
    assert_eq!(
        (
            counts.created_customers,
            counts.attached,
            counts.unattributed
        ),
        (1, 1, 2)
    );
    let lines: Vec<u64> = report.not_recorded.iter().map(|row| row.line).collect();
    assert_eq!(lines, [5, 6, 7]);
    match &report.not_recorded[0].outcome {
        BookingOutcome::Invalid(problems) => {
            assert_eq!(problems.problems()[0].field, Some(BookingField::StartsAt));
        }
        other => panic!("expected Invalid, got {other:?}"),
    }
    assert!(matches!(
        report.not_recorded[1].outcome,
        BookingOutcome::Refused(Error::Blocked(_))
    ));
    assert_eq!(report.not_recorded[2].code, "A-1");
    assert!(matches!(
        report.not_recorded[2].outcome,
        BookingOutcome::AlreadyPresent
    ));
    assert_eq!(report.not_recorded_left_out, 0);
    assert_eq!(stored_codes(directory.store()).len(), 4);
}

#[tokio::test]
async fn historical_statuses_dates_and_amounts_are_kept() {
    let directory = directory();
    let file = format!(
        "{HEADER}\n\
         OLD-1,Cancelled,2019-02-03T09:15:00+01:00,45.00,EUR,Ana,ana@example.com\n\
         OLD-2,no-show,2018-11-30,3000,JPY,Ana,ana@example.com\n"
    );
    let mut recorded = Vec::new();
    directory
        .import_bookings(
            file.as_bytes(),
            &BookingImport::default(),
            |progress| {
                for row in progress.batch {
                    if let BookingOutcome::Recorded(done) = &row.outcome {
                        recorded.push(done.booking);
                    }
                }
            },
            &staff(),
        )
        .await
        .unwrap();
    assert_eq!(recorded.len(), 2);
    let first = directory.booking(recorded[0]).await.unwrap();
    assert_eq!(first.status, BookingStatus::CANCELLED);
    assert_eq!(first.starts_at.to_rfc3339(), "2019-02-03T08:15:00+00:00");
    assert_eq!(
        first.total,
        Money::new(45_00, Currency::parse("EUR").unwrap())
    );
    let second = directory.booking(recorded[1]).await.unwrap();
    assert_eq!(second.status, BookingStatus::NO_SHOW);
    assert_eq!(second.starts_at.to_rfc3339(), "2018-11-30T00:00:00+00:00");
    assert_eq!(
        second.total,
        Money::new(3_000, Currency::parse("JPY").unwrap())
    );
}

#[tokio::test]
async fn importing_the_same_file_again_records_nothing_twice() {
    let directory = directory();
    let file = history(120);
    let import = BookingImport::default().with_batch_size(25);
    let first = directory
        .import_bookings(file.as_bytes(), &import, |_| {}, &staff())
        .await
        .unwrap();
    assert_eq!(
        (first.counts.recorded, first.counts.already_present),
        (120, 0)
    );
    let customers = directory.store().customer_count();
    assert_eq!(customers, 10);
    let again = directory
        .import_bookings(file.as_bytes(), &import, |_| {}, &staff())
        .await
        .unwrap();
    assert_eq!(
        (again.counts.recorded, again.counts.already_present),
        (0, 120)
    );
    assert_eq!(stored_codes(directory.store()).len(), 120);
    assert_eq!(directory.store().customer_count(), customers);
}

#[tokio::test]
async fn a_failed_batch_names_its_lines_keeps_earlier_batches_and_a_rerun_finishes_without_duplicates()
 {
    let store = FaultInjectingStore::new(MemoryStore::new());
    let directory = Directory::new(store.clone(), DirectorySettings::default());
    let file = history(55);
    let import = BookingImport::default().with_batch_size(10);
    let mut batches = 0;
    let failed = directory
        .import_bookings(
            file.as_bytes(),
            &import,
            |_| {
                batches += 1;
                // The commit after the second batch fails: the third batch's.
                if batches == 2 {
                    store.fail_next_commits(1);
                }
            },
            &staff(),
        )
        .await
        .unwrap_err();
    match &failed {
        BookingImportError::Batch {
            first,
            last,
            source,
        } => {
            // Rows 21 to 30 are on lines 22 to 31.
            assert_eq!((*first, *last), (22, 31));
            assert!(matches!(
                source,
                Error::Store(StoreError::Backend { source: Some(cause), .. })
                    if cause.downcast_ref::<InjectedFault>().is_some()
            ));
        }
        other => panic!("expected a failed batch, got {other:?}"),
    }
    assert!(failed.to_string().contains("lines 22 to 31"));
    assert_eq!(
        stored_codes(store.inner()).len(),
        20,
        "earlier batches stay"
    );
    store.heal();
    let resumed = directory
        .import_bookings(file.as_bytes(), &import, |_| {}, &staff())
        .await
        .unwrap();
    assert_eq!(
        (resumed.counts.recorded, resumed.counts.already_present),
        (35, 20)
    );
    let codes = stored_codes(store.inner());
    assert_eq!(codes.len(), 55);
    assert!((0..55).all(|row| codes.contains(&format!("H-{row}"))));
    assert_eq!(store.inner().customer_count(), 10);
}

#[tokio::test]
async fn progress_is_told_after_every_batch_and_its_counts_add_up() {
    let directory = directory();
    let mut file = history(47);
    file.push_str(
        "BAD-1,paid,never,1,EUR,X,x@example.com\nH-3,paid,2019-01-01,1,EUR,Y,y@example.com\n",
    );
    let import = BookingImport::default().with_batch_size(7);
    let mut seen: Vec<(BookingImportCounts, std::ops::RangeInclusive<u64>, usize)> = Vec::new();
    let report = directory
        .import_bookings(
            file.as_bytes(),
            &import,
            |progress| {
                seen.push((
                    progress.counts,
                    progress.lines.clone(),
                    progress.batch.len(),
                ))
            },
            &staff(),
        )
        .await
        .unwrap();
    assert_eq!(seen.len(), 7, "49 rows in batches of 7");
    assert!(seen.iter().all(|(_, _, len)| *len == 7));
    let mut rows = 0;
    let mut next_line = 2;
    for (counts, lines, len) in &seen {
        rows += *len as u64;
        assert_eq!(counts.rows, rows);
        assert_eq!(
            counts.recorded + counts.already_present + counts.invalid + counts.refused,
            counts.rows
        );
        assert_eq!(
            counts.created_customers + counts.attached + counts.unattributed,
            counts.recorded
        );
        assert_eq!(*lines.start(), next_line);
        next_line = lines.end() + 1;
    }
    let last = seen.last().unwrap().0;
    assert_eq!(last, report.counts);
    assert_eq!(
        (last.rows, last.recorded, last.invalid, last.already_present),
        (49, 47, 1, 1)
    );
}

#[tokio::test]
async fn the_report_keeps_only_the_first_rows_not_recorded() {
    let directory = directory();
    let mut file = format!("{HEADER}\n");
    for row in 0..30 {
        file.push_str(&format!("B-{row},paid,not a date,1,EUR,,\n"));
    }
    let import = BookingImport::default()
        .with_max_reported_rows(5)
        .with_batch_size(4);
    let report = directory
        .import_bookings(file.as_bytes(), &import, |_| {}, &staff())
        .await
        .unwrap();
    assert_eq!(report.counts.invalid, 30);
    assert_eq!(report.not_recorded.len(), 5);
    assert_eq!(report.not_recorded_left_out, 25);
    assert_eq!(report.not_recorded[4].code, "B-4");
}

#[tokio::test]
async fn another_systems_shape_is_imported_through_its_column_mapping() {
    let directory = directory();
    let mut columns = BookingColumns::default();
    columns.code = "Ref".into();
    columns.status = "State".into();
    columns.starts_at = "Date".into();
    columns.total = "Amount".into();
    columns.currency = Some("Cur".into());
    columns.given_name = Some("First".into());
    columns.family_name = Some("Last".into());
    columns.email = Some("E-mail".into());
    columns.phone = Some("Tel".into());
    let file = "Ref,State,Date,Amount,Cur,First,Last,E-mail,Tel\n\
                R1,Paid,2020-02-02 14:30,99.90,GBP,Ann,Lee,ann@example.com,+44 20 7946 0000\n";
    let report = directory
        .import_bookings(
            file.as_bytes(),
            &BookingImport::new(columns),
            |_| {},
            &staff(),
        )
        .await
        .unwrap();
    assert_eq!(report.counts.created_customers, 1);
    let ann = directory
        .find_by_email("ann@example.com")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(ann.profile.family_name.unwrap().as_str(), "Lee");
    assert_eq!(ann.profile.phone.unwrap().e164(), "+442079460000");
}

/// A European spreadsheet's export: Windows-1252 text, `;` between cells, decimal commas,
/// day-first local times in the business's zone, one of them skipped by the clocks going
/// forward.
#[tokio::test]
async fn a_file_in_another_format_is_imported_in_that_format() {
    let directory = directory();
    let file = "code;status;starts_at;total;currency;given_name;email\n\
                E-1;paid;05.07.2019 10:30;1234,50;EUR;Zo\u{eb};zoe@example.com\n\
                E-2;cancelled;24/12/2019 18:00;\"45,00\";EUR;Zo\u{eb};zoe@example.com\n\
                E-3;paid;31/03/2019 01:30;10;EUR;Bo;bo@example.com\n\
                E-4;paid;2019-07-05;10.50;EUR;Bo;bo@example.com\n";
    let windows_1252 = Encoding::for_label(b"windows-1252").unwrap();
    let (file, _, unmappable) = windows_1252.encode(file);
    assert!(!unmappable);
    assert!(file.contains(&0xEB), "`\u{eb}` is one byte in Windows-1252");
    let format = BookingFileFormat::default()
        .with_encoding(windows_1252)
        .with_delimiter(b';')
        .with_decimal_separator(DecimalSeparator::Comma)
        .with_date_order(DateOrder::DayMonthYear)
        .with_time_zone("Europe/Lisbon".parse::<Tz>().unwrap());
    let report = directory
        .import_bookings(
            &*file,
            &BookingImport::default().with_format(format),
            |_| {},
            &staff(),
        )
        .await
        .unwrap();
    assert_eq!(report.counts.recorded, 2, "{report:?}");
    assert_eq!(report.counts.invalid, 2, "{report:?}");
    let zoe = directory
        .find_by_email("zoe@example.com")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(zoe.profile.given_name.unwrap().as_str(), "Zo\u{eb}");
    let eur = Currency::parse("EUR").unwrap();
    let mut bookings = directory.store().all_bookings();
    bookings.sort_by(|a, b| a.code.cmp(&b.code));
    assert_eq!(bookings.len(), 2);
    assert_eq!(
        bookings[0].starts_at.to_rfc3339(),
        "2019-07-05T09:30:00+00:00"
    );
    assert_eq!(bookings[0].total, Money::new(123_450, eur));
    assert_eq!(
        bookings[1].starts_at.to_rfc3339(),
        "2019-12-24T18:00:00+00:00"
    );
    assert_eq!(bookings[1].status, BookingStatus::CANCELLED);
    assert_eq!(bookings[1].total, Money::new(4_500, eur));
    let problems: Vec<(&str, Vec<RowError>)> = report
        .not_recorded
        .iter()
        .map(|row| match &row.outcome {
            BookingOutcome::Invalid(problems) => (
                row.code.as_str(),
                problems
                    .problems()
                    .iter()
                    .map(|p| p.error.clone())
                    .collect(),
            ),
            other => panic!("{}: {other:?}", row.code),
        })
        .collect();
    assert_eq!(
        problems,
        [
            (
                "E-3",
                vec![RowError::SkippedLocalTime {
                    cell: "31/03/2019 01:30".into(),
                    zone: "Europe/Lisbon".into()
                }]
            ),
            (
                "E-4",
                vec![
                    RowError::Date {
                        cell: "2019-07-05".into(),
                        order: DateOrder::DayMonthYear
                    },
                    RowError::Amount {
                        cell: "10.50".into(),
                        separator: DecimalSeparator::Comma
                    }
                ]
            ),
        ]
    );
}

#[tokio::test]
async fn a_format_that_cannot_separate_cells_is_refused_before_anything_is_stored() {
    let directory = directory();
    let refused = directory
        .import_bookings(
            history(3).as_bytes(),
            &BookingImport::default()
                .with_format(BookingFileFormat::default().with_delimiter(b'\n')),
            |_| {},
            &staff(),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(
            refused,
            BookingImportError::File(BookingFileError::Format(FormatError::Delimiter(b'\n')))
        ),
        "{refused:?}"
    );
    assert!(directory.store().all_bookings().is_empty());
}

#[tokio::test]
async fn a_file_that_cannot_be_read_on_stores_the_rows_before_and_says_where() {
    let directory = directory();
    // Nothing is read without the required columns.
    let missing = directory
        .import_bookings(
            "code,status\n".as_bytes(),
            &BookingImport::default(),
            |_| {},
            &staff(),
        )
        .await
        .unwrap_err();
    assert!(matches!(
        missing,
        BookingImportError::File(BookingFileError::MissingColumn(ref column)) if column == "starts_at"
    ));
    // A reader that fails after 12 rows.
    struct Failing {
        file: Vec<u8>,
        at: usize,
    }
    impl io::Read for Failing {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if self.at >= self.file.len() {
                return Err(io::Error::other("connection reset"));
            }
            let n = (self.file.len() - self.at).min(buf.len());
            buf[..n].copy_from_slice(&self.file[self.at..self.at + n]);
            self.at += n;
            Ok(n)
        }
    }
    let reader = Failing {
        file: history(12).into_bytes(),
        at: 0,
    };
    let import = BookingImport::default().with_batch_size(5);
    let mut told = 0;
    let failed = directory
        .import_bookings(
            reader,
            &import,
            |progress| told = progress.counts.rows,
            &staff(),
        )
        .await
        .unwrap_err();
    assert!(matches!(
        failed,
        BookingImportError::File(BookingFileError::Read { line: 14, .. })
    ));
    assert_eq!(told, 12);
    assert_eq!(stored_codes(directory.store()).len(), 12);
}

#[tokio::test]
async fn an_over_long_staff_identifier_is_refused_before_anything_is_read() {
    let directory = directory();
    let actor = Actor::staff("s".repeat(customer_directory::limits::ACTOR_MAX_CHARS + 1));
    let refused = directory
        .import_bookings(
            history(3).as_bytes(),
            &BookingImport::default(),
            |_| {},
            &actor,
        )
        .await
        .unwrap_err();
    assert!(matches!(
        refused,
        BookingImportError::Directory(Error::TooLong(_))
    ));
    assert!(directory.store().all_bookings().is_empty());
}

#[tokio::test]
async fn attribution_matches_recording_the_same_bookings_one_by_one() {
    let file = history(40);
    let imported = directory();
    imported
        .import_bookings(
            file.as_bytes(),
            &BookingImport::default().with_batch_size(9),
            |_| {},
            &staff(),
        )
        .await
        .unwrap();
    let live = directory();
    let settings = DirectorySettings::default();
    let reader = customer_directory::reports::booking_import::BookingReader::new(
        file.as_bytes(),
        &BookingColumns::default(),
        &settings,
    )
    .unwrap();
    for row in reader {
        live.record_booking(row.unwrap().booking.unwrap(), &staff())
            .await
            .unwrap();
    }
    let shape = |store: &MemoryStore| {
        let mut shape: Vec<(String, bool, String)> = store
            .all_bookings()
            .iter()
            .map(|b| {
                let email = b
                    .contact
                    .email
                    .as_ref()
                    .map(|e| e.key().to_string())
                    .unwrap_or_default();
                (b.code.clone(), b.attribution.customer().is_some(), email)
            })
            .collect();
        shape.sort();
        shape
    };
    assert_eq!(shape(imported.store()), shape(live.store()));
    assert_eq!(
        imported.store().customer_count(),
        live.store().customer_count()
    );
}

/// The same import on SQLite: the stored codes are found in SQL, so a rerun after a failed
/// batch finishes without duplicates there too.
#[cfg(feature = "sqlite")]
#[tokio::test]
async fn on_sqlite_a_rerun_after_a_failed_batch_finishes_without_duplicates() {
    use customer_directory::CustomerQuery;
    let sqlite = customer_directory::SqliteStore::connect("sqlite::memory:")
        .await
        .unwrap();
    sqlite.migrate().await.unwrap();
    let store = FaultInjectingStore::new(sqlite);
    let directory = Directory::new(store.clone(), DirectorySettings::default());
    let file = history(60);
    let import = BookingImport::default().with_batch_size(16);
    let mut batches = 0;
    let failed = directory
        .import_bookings(
            file.as_bytes(),
            &import,
            |_| {
                batches += 1;
                if batches == 1 {
                    store.fail_next_commits(1);
                }
            },
            &staff(),
        )
        .await
        .unwrap_err();
    assert!(matches!(
        failed,
        BookingImportError::Batch {
            first: 18,
            last: 33,
            ..
        }
    ));
    let resumed = directory
        .import_bookings(file.as_bytes(), &import, |_| {}, &staff())
        .await
        .unwrap();
    assert_eq!(
        (resumed.counts.recorded, resumed.counts.already_present),
        (44, 16)
    );
    let again = directory
        .import_bookings(file.as_bytes(), &import, |_| {}, &staff())
        .await
        .unwrap();
    assert_eq!(
        (again.counts.recorded, again.counts.already_present),
        (0, 60)
    );
    assert_eq!(directory.count(&CustomerQuery::new()).await.unwrap(), 10);
}
