//! CSV export and import: RFC 4180 quoting, formula-injection neutralisation, byte order
//! mark, the export -> import round trip, per-row import reports and all-or-nothing imports,
//! and profile summaries whose totals match the bookings.
// Amounts are written as major_minor units (120_00 is 120.00).
#![allow(clippy::inconsistent_digit_grouping)]

use chrono::{TimeDelta, TimeZone, Utc};
use customer_directory::MemoryStore;
use customer_directory::ports::FixedClock;
use customer_directory::records::{AuditAction, BlockTarget, Detail};
use customer_directory::reports::csv::{
    CsvExportOptions, ExportColumn, ImportError, neutralise_cell, restore_cell,
};
use customer_directory::service::{ImportMode, RowOutcome};
use customer_directory::{
    Actor, BookingStatus, ContactForm, Currency, CustomerStatus, Directory, DirectorySettings,
    Error, Money, NewBooking, Profile,
};

fn staff() -> Actor {
    Actor::staff("export-test")
}

fn directory() -> Directory<MemoryStore, FixedClock> {
    let clock = FixedClock::new(Utc.with_ymd_and_hms(2026, 3, 1, 8, 0, 0).unwrap());
    Directory::with_clock(MemoryStore::new(), DirectorySettings::default(), clock)
}

fn profile(dir: &Directory<MemoryStore, FixedClock>, form: ContactForm) -> Profile {
    form.parse(dir.settings()).expect("valid test contact")
}

fn read_csv(bytes: &[u8]) -> Vec<Vec<String>> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(bytes)
        .records()
        .map(|r| r.unwrap().iter().map(str::to_owned).collect())
        .collect()
}

#[test]
fn every_dangerous_leading_character_is_neutralised_and_restored() {
    for lead in ['=', '+', '-', '@', '\t', '\r', '\n', '\0'] {
        let cell = format!("{lead}1+1");
        let safe = neutralise_cell(&cell);
        assert_eq!(safe, format!("'{cell}"), "lead {lead:?}");
        assert_eq!(restore_cell(&safe), cell);
    }
    for harmless in ["Ana", "1+1", "'quoted", " =padded", "", "€5"] {
        assert_eq!(neutralise_cell(harmless), harmless);
        assert_eq!(restore_cell(harmless), harmless);
    }
}

#[tokio::test]
async fn export_quotes_per_rfc_4180_and_neutralises_formulas() {
    let dir = directory();
    let form = ContactForm {
        given_name: "=HYPERLINK(\"http://x\",\"click\")".into(),
        family_name: "O'Brien, \"Jr\"".into(),
        email: "obrien@example.com".into(),
        phone: "+351 912 345 678".into(),
        address_line1: "Rua 1, Apartment 2".into(),
        city: "-Lisbon".into(),
        region: "@region".into(),
        ..ContactForm::default()
    };
    let id = dir
        .create_customer(profile(&dir, form), &staff())
        .await
        .unwrap()
        .customer;
    let columns = ExportColumn::contact_set();
    let (bytes, rows) = dir
        .export_csv(Vec::new(), &CsvExportOptions::with_columns(columns.clone()))
        .await
        .unwrap();
    assert_eq!(rows, 1);
    let text = String::from_utf8(bytes.clone()).unwrap();
    assert!(
        text.contains("\"O'Brien, \"\"Jr\"\"\""),
        "quotes doubled: {text}"
    );
    assert!(
        text.contains("\"Rua 1, Apartment 2\""),
        "comma quoted: {text}"
    );
    assert!(text.contains("\r\n"), "RFC 4180 line ends");

    let table = read_csv(&bytes);
    assert_eq!(table.len(), 2);
    let header: Vec<String> = columns.iter().map(|c| c.header().into_owned()).collect();
    assert_eq!(table[0], header);
    let cell = |name: &str| &table[1][header.iter().position(|h| h == name).unwrap()];
    assert_eq!(cell("given_name"), "'=HYPERLINK(\"http://x\",\"click\")");
    assert_eq!(cell("family_name"), "O'Brien, \"Jr\"");
    assert_eq!(cell("phone"), "'+351912345678");
    assert_eq!(cell("city"), "'-Lisbon");
    assert_eq!(cell("region"), "'@region");
    assert_eq!(cell("address_line1"), "Rua 1, Apartment 2");
    for row in &table {
        for value in row {
            assert!(
                !value.starts_with(['=', '+', '-', '@', '\t', '\r', '\n', '\0']),
                "unsafe cell {value:?}"
            );
        }
    }
    assert_eq!(
        dir.customer(id).await.unwrap().profile.label(),
        "=HYPERLINK(\"http://x\",\"click\") O'Brien, \"Jr\""
    );
}

#[tokio::test]
async fn default_export_has_the_documented_columns_and_summary_values() {
    let dir = directory();
    let eur = Currency::parse("EUR").unwrap();
    let usd = Currency::parse("USD").unwrap();
    let contact = profile(
        &dir,
        ContactForm {
            given_name: "Ana".into(),
            family_name: "Silva".into(),
            email: "ana@example.com".into(),
            country: "PT".into(),
            ..ContactForm::default()
        },
    );
    let start = Utc.with_ymd_and_hms(2026, 5, 1, 9, 0, 0).unwrap();
    for (n, (amount, currency, status)) in [
        (100_00, eur, BookingStatus::PAID),
        (50_00, eur, BookingStatus::CONFIRMED),
        (30_00, usd, BookingStatus::PAID),
        (999_00, eur, BookingStatus::CANCELLED),
    ]
    .into_iter()
    .enumerate()
    {
        let at = start + TimeDelta::days(i64::try_from(n).unwrap());
        let booking = NewBooking::new(
            format!("BK-{n}"),
            status,
            contact.clone(),
            at,
            Money::new(amount, currency),
        );
        dir.record_booking(booking, &Actor::System).await.unwrap();
    }
    let (bytes, _) = dir
        .export_csv(Vec::new(), &CsvExportOptions::default())
        .await
        .unwrap();
    let table = read_csv(&bytes);
    assert_eq!(
        table[0],
        [
            "name",
            "email",
            "id",
            "booking_count",
            "total_value",
            "last_booking",
            "last_login",
            "status",
            "region",
            "country",
            "created"
        ]
    );
    let row = &table[1];
    assert_eq!(row[0], "Ana Silva");
    assert_eq!(row[1], "ana@example.com");
    assert_eq!(row[3], "4");
    assert_eq!(
        row[4], "150.00 EUR; 30.00 USD",
        "cancelled bookings are not value"
    );
    assert_eq!(row[5], "2026-05-04T09:00:00Z");
    assert_eq!(row[6], "");
    assert_eq!(row[7], "active");
    assert_eq!(row[9], "PT");
    assert_eq!(row[10], "2026-03-01T08:00:00Z");
}

#[tokio::test]
async fn summary_totals_match_the_bookings() {
    let dir = directory();
    let eur = Currency::parse("EUR").unwrap();
    let contact = profile(
        &dir,
        ContactForm {
            email: "sum@example.com".into(),
            ..ContactForm::default()
        },
    );
    let start = Utc.with_ymd_and_hms(2026, 5, 1, 9, 0, 0).unwrap();
    let amounts = [(120_00, 20_00), (80_00, 80_00), (45_50, 0), (10_00, 15_00)];
    let mut customer = None;
    for (n, (total, paid)) in amounts.into_iter().enumerate() {
        let mut booking = NewBooking::new(
            format!("S-{n}"),
            BookingStatus::PAID,
            contact.clone(),
            start - TimeDelta::days(i64::try_from(n).unwrap()),
            Money::new(total, eur),
        );
        booking.paid = Money::new(paid, eur);
        customer = dir
            .record_booking(booking, &Actor::System)
            .await
            .unwrap()
            .outcome
            .customer();
    }
    let summary = dir.summary(customer.unwrap()).await.unwrap();
    let bookings = dir.customer_bookings(customer.unwrap()).await.unwrap();
    let total: i64 = bookings.iter().map(|b| b.total.minor_units()).sum();
    let paid: i64 = bookings.iter().map(|b| b.paid.minor_units()).sum();
    assert_eq!(summary.booking_count, bookings.len());
    let eur_totals = summary.total_in(eur).unwrap();
    assert_eq!(eur_totals.total.minor_units(), total);
    assert_eq!(eur_totals.paid.minor_units(), paid);
    assert_eq!(eur_totals.due.minor_units(), total - paid);
    assert_eq!(
        summary.first_booking,
        bookings.iter().map(|b| b.starts_at).min()
    );
    assert_eq!(
        summary.last_booking,
        bookings.iter().map(|b| b.starts_at).max()
    );
    let history_codes: Vec<&str> = summary.history.iter().map(|l| l.code.as_str()).collect();
    assert_eq!(history_codes, ["S-3", "S-2", "S-1", "S-0"], "oldest first");
    assert_eq!(
        summary.history[0].due,
        Money::new(-5_00, eur),
        "overpaid shows negative due"
    );
}

#[tokio::test]
async fn export_then_import_reproduces_the_same_customers() {
    let source = directory();
    let forms = [
        ContactForm {
            given_name: "Zoë".into(),
            family_name: "Ünal".into(),
            display_name: "Zo".into(),
            email: "zoe@bücher.example".into(),
            phone: "+44 20 7946 0000".into(),
            address_line1: "1 \"Quoted\" Road, Flat 2".into(),
            address_line2: "Line \"two\"".into(),
            city: "=London".into(),
            region: "-".into(),
            postcode: "SW1A 1AA".into(),
            country: "GB".into(),
            custom_fields: vec![
                ("tier".into(), "@gold".into()),
                ("notes".into(), "a,b".into()),
            ],
        },
        ContactForm {
            given_name: "Bo".into(),
            email: "bo@example.com".into(),
            ..ContactForm::default()
        },
        ContactForm {
            family_name: "NoEmail".into(),
            phone: "+351912000111".into(),
            ..ContactForm::default()
        },
    ];
    for form in forms {
        source
            .create_customer(profile(&source, form), &staff())
            .await
            .unwrap();
    }
    let options = CsvExportOptions::with_columns(ExportColumn::contact_set())
        .with_custom_fields(["tier", "notes"])
        .with_byte_order_mark();
    let (bytes, rows) = source.export_csv(Vec::new(), &options).await.unwrap();
    assert_eq!(rows, 3);
    assert!(
        bytes.starts_with("\u{feff}".as_bytes()),
        "byte order mark first"
    );

    let target = directory();
    let report = target
        .import_customers(bytes.as_slice(), ImportMode::AllOrNothing, &staff())
        .await
        .unwrap();
    assert!(report.committed, "{report:?}");
    assert_eq!(report.created().len(), 3);

    let mut before: Vec<Profile> = source
        .store()
        .all_customers()
        .into_iter()
        .map(|c| c.profile)
        .collect();
    let mut after: Vec<Profile> = target
        .store()
        .all_customers()
        .into_iter()
        .map(|c| c.profile)
        .collect();
    let order = |p: &Profile| format!("{:?}", p.email.as_ref().map(|e| e.as_str().to_owned()));
    before.sort_by_key(order);
    after.sort_by_key(order);
    assert_eq!(before, after);
}

#[tokio::test]
async fn import_reports_every_row_and_all_or_nothing_stores_nothing() {
    let dir = directory();
    dir.create_customer(
        profile(
            &dir,
            ContactForm {
                email: "taken@example.com".into(),
                ..ContactForm::default()
            },
        ),
        &staff(),
    )
    .await
    .unwrap();
    dir.add_to_blocklist(
        BlockTarget::domain("spam.example").unwrap(),
        "fake",
        &staff(),
    )
    .await
    .unwrap();
    let file = "\
given_name,email,phone,country
Ana,ana@example.com,,PT
Again,ANA@example.com,,
Taken,taken@example.com,,
Spam,x@spam.example,,
Bad,not-an-email,12,Portugal
\"Multi
line\",multi@example.com,,
Last,last@example.com,,
";
    let report = dir
        .import_customers(file.as_bytes(), ImportMode::AllOrNothing, &staff())
        .await
        .unwrap();
    assert!(!report.committed);
    assert_eq!(dir.store().customer_count(), 1, "nothing imported");
    let lines: Vec<u64> = report.rows.iter().map(|r| r.line).collect();
    assert_eq!(
        lines,
        [2, 3, 4, 5, 6, 7, 9],
        "a quoted newline spans two lines"
    );
    assert!(matches!(report.rows[0].outcome, RowOutcome::Created(_)));
    assert!(matches!(
        report.rows[1].outcome,
        RowOutcome::DuplicateInFile { first_line: 2, .. }
    ));
    assert!(matches!(
        report.rows[2].outcome,
        RowOutcome::Duplicate { .. }
    ));
    assert!(matches!(report.rows[3].outcome, RowOutcome::Blocked(_)));
    let RowOutcome::Invalid(problems) = &report.rows[4].outcome else {
        panic!("row 6 is invalid: {:?}", report.rows[4]);
    };
    let details: Vec<&Detail> = problems.problems().iter().map(|p| &p.detail).collect();
    assert_eq!(
        details,
        [&Detail::Email, &Detail::Phone, &Detail::Country],
        "every problem"
    );
    assert!(
        matches!(&report.rows[5].outcome, RowOutcome::Invalid(p) if p.problems()[0].detail == Detail::GivenName),
        "a name cannot hold a line break"
    );
    assert!(matches!(report.rows[6].outcome, RowOutcome::Created(_)));
    assert_eq!(report.rejected().count(), 3);

    let report = dir
        .import_customers(file.as_bytes(), ImportMode::SkipInvalidRows, &staff())
        .await
        .unwrap();
    assert!(report.committed);
    assert_eq!(report.created().len(), 2, "ana and last");
    assert_eq!(dir.store().customer_count(), 3);
    let ana = dir.find_by_email("ana@example.com").await.unwrap().unwrap();
    assert_eq!(ana.status, CustomerStatus::Active);
    let trail = dir.audit_trail(ana.id).await.unwrap();
    assert_eq!(
        trail.len(),
        1,
        "one import event names every created customer"
    );
}

#[tokio::test]
async fn imported_customers_take_their_unattributed_bookings() {
    let dir = directory();
    let contact = profile(
        &dir,
        ContactForm {
            given_name: "Pen".into(),
            email: "pen@example.com".into(),
            ..ContactForm::default()
        },
    );
    let pending = NewBooking::new(
        "P-1",
        BookingStatus::PENDING,
        contact,
        Utc::now(),
        Money::zero(Currency::parse("EUR").unwrap()),
    );
    let booking = dir
        .record_booking(pending, &Actor::System)
        .await
        .unwrap()
        .booking;
    let report = dir
        .import_customers(
            "email,given_name\npen@example.com,Pen\n".as_bytes(),
            ImportMode::AllOrNothing,
            &staff(),
        )
        .await
        .unwrap();
    let RowOutcome::Created(id) = report.rows[0].outcome else {
        panic!("{report:?}")
    };
    assert_eq!(
        dir.booking(booking).await.unwrap().attribution.customer(),
        Some(id)
    );
}

#[tokio::test]
async fn unreadable_files_are_refused_as_a_whole() {
    let dir = directory();
    type Expectation = fn(&ImportError) -> bool;
    let cases: [(&[u8], Expectation); 5] = [
        (b"", |e| matches!(e, ImportError::Empty)),
        (
            b"email,shoe_size\n",
            |e| matches!(e, ImportError::UnknownColumn(c) if c == "shoe_size"),
        ),
        (b"email,EMAIL\n", |e| {
            matches!(e, ImportError::RepeatedColumn(_))
        }),
        (b"email,given_name\na@example.com\n", |e| {
            matches!(e, ImportError::Malformed { line: 2, .. })
        }),
        (b"email\n\xff\xfe@example.com\n", |e| {
            matches!(e, ImportError::Malformed { line: 2, .. })
        }),
    ];
    for (file, expected) in cases {
        let error = dir
            .import_customers(file, ImportMode::AllOrNothing, &staff())
            .await
            .unwrap_err();
        match &error {
            Error::Import(import) => assert!(expected(import), "{file:?}: {import}"),
            other => panic!("{file:?}: unexpected {other}"),
        }
        assert!(!error.to_string().is_empty());
    }
    assert_eq!(dir.store().customer_count(), 0);
}

#[cfg(feature = "testing")]
#[tokio::test]
async fn an_import_whose_commit_fails_stores_nothing() {
    use customer_directory::testing::FaultInjectingStore;
    let store = FaultInjectingStore::new(MemoryStore::new());
    let dir = Directory::new(store.clone(), DirectorySettings::default());
    let file = "email\na@example.com\nb@example.com\n";
    store.fail_next_commits(1);
    let error = dir
        .import_customers(file.as_bytes(), ImportMode::AllOrNothing, &staff())
        .await
        .unwrap_err();
    assert!(matches!(error, Error::Store(_)), "{error}");
    assert_eq!(store.inner().customer_count(), 0);
    let report = dir
        .import_customers(file.as_bytes(), ImportMode::AllOrNothing, &staff())
        .await
        .unwrap();
    assert_eq!(report.created().len(), 2);
    assert_eq!(store.inner().customer_count(), 2);
}

#[tokio::test]
async fn the_data_subject_export_holds_everything_about_the_customer() {
    let dir = directory();
    let contact = |email: &str, name: &str| {
        ContactForm {
            given_name: name.into(),
            email: email.into(),
            ..ContactForm::default()
        }
        .parse(dir.settings())
        .unwrap()
    };
    let booking = NewBooking::new(
        "DS-1",
        BookingStatus::PAID,
        contact("dsar@example.com", "Dora"),
        Utc::now(),
        Money::zero(Currency::parse("EUR").unwrap()),
    );
    let survivor = dir
        .record_booking(booking, &Actor::System)
        .await
        .unwrap()
        .outcome
        .customer()
        .unwrap();
    dir.clock().advance(TimeDelta::minutes(1));
    let other = dir
        .create_customer(contact("dora.old@example.com", "Dora"), &staff())
        .await
        .unwrap()
        .customer;
    dir.clock().advance(TimeDelta::minutes(1));
    dir.merge(
        &customer_directory::MergeRequest::new(survivor, [other]),
        &staff(),
    )
    .await
    .unwrap();

    // A merged id names the customer its data is part of now; that customer's export
    // holds it.
    match dir.data_subject_export(other).await {
        Err(customer_directory::Error::CustomerMerged {
            id, survivor: to, ..
        }) => {
            assert_eq!(
                (id, to),
                (other, survivor),
                "a merged id names its survivor"
            );
        }
        result => panic!("the export of a merged id answered {result:?}"),
    }
    let export = dir.data_subject_export(survivor).await.unwrap();
    assert_eq!(export.customer.id, survivor);
    assert_eq!(export.bookings.len(), 1);
    assert_eq!(export.merges.len(), 1);
    let actions: Vec<_> = export.audit_trail.iter().map(|e| e.action).collect();
    assert_eq!(
        actions,
        [
            AuditAction::BookingRecorded,
            AuditAction::CustomerCreated,
            AuditAction::CustomersMerged
        ],
        "the merged customer's history is part of it"
    );
    let json = serde_json::to_string(&export).unwrap();
    for needle in ["dsar@example.com", "dora.old@example.com", "DS-1", "Dora"] {
        assert!(json.contains(needle), "{needle} missing");
    }
}
