//! Statements: the bookings of a period with totals that match the bookings, rendered as
//! text, CSV and (feature `pdf`) a PDF business document that a standard tool reads back as
//! text, in any script the font covers, over as many pages as it needs.

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use customer_directory::MemoryStore;
use customer_directory::ports::FixedClock;
use customer_directory::reports::statement::{Statement, StatementError};
use customer_directory::{
    Actor, BookingStatus, ContactForm, Currency, CustomerId, Directory, DirectorySettings, Error,
    Money, NewBooking,
};

fn at(day: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 5, day, 10, 0, 0).unwrap()
}

/// A customer with bookings on May 1..=9 (one cancelled, two currencies, one overpaid).
async fn setup() -> (Directory<MemoryStore, FixedClock>, CustomerId) {
    let clock = FixedClock::new(Utc.with_ymd_and_hms(2026, 6, 1, 0, 0, 0).unwrap());
    let dir = Directory::with_clock(MemoryStore::new(), DirectorySettings::default(), clock);
    let contact = ContactForm {
        given_name: "Zoë".into(),
        family_name: "Costa".into(),
        email: "zoe@example.com".into(),
        ..ContactForm::default()
    }
    .parse(dir.settings())
    .unwrap();
    let eur = Currency::parse("EUR").unwrap();
    let usd = Currency::parse("USD").unwrap();
    let bookings = [
        (
            1,
            "ST-101",
            BookingStatus::PAID,
            Money::new(12_000, eur),
            12_000,
        ),
        (
            3,
            "ST-102",
            BookingStatus::CONFIRMED,
            Money::new(8_050, eur),
            2_000,
        ),
        (
            4,
            "=ST-103",
            BookingStatus::CANCELLED,
            Money::new(50_000, eur),
            0,
        ),
        (
            6,
            "ST-104",
            BookingStatus::PAID,
            Money::new(3_000, usd),
            3_500,
        ),
        (9, "ST-105", BookingStatus::PAID, Money::new(9_999, eur), 0),
    ];
    let mut customer = None;
    for (day, code, status, total, paid) in bookings {
        let mut new = NewBooking::new(code, status, contact.clone(), at(day), total);
        new.paid = Money::new(paid, total.currency());
        let recorded = dir.record_booking(new, &Actor::System).await.unwrap();
        customer = customer.or(recorded.outcome.customer());
    }
    (dir, customer.unwrap())
}

async fn may_1_to_8(dir: &Directory<MemoryStore, FixedClock>, id: CustomerId) -> Statement {
    dir.statement(id, at(1) - TimeDelta::hours(10), at(8))
        .await
        .unwrap()
}

#[tokio::test]
async fn totals_match_the_bookings_of_the_period() {
    let (dir, id) = setup().await;
    let statement = may_1_to_8(&dir, id).await;
    let codes: Vec<&str> = statement.lines.iter().map(|l| l.code.as_str()).collect();
    assert_eq!(
        codes,
        ["ST-101", "ST-102", "=ST-103", "ST-104"],
        "May 9 is outside"
    );

    // The same sums, computed here straight from the stored bookings.
    let bookings = dir.customer_bookings(id).await.unwrap();
    for totals in &statement.totals {
        let counted = bookings.iter().filter(|b| {
            b.starts_at < at(8)
                && b.status != BookingStatus::CANCELLED
                && b.total.currency() == totals.currency
        });
        let (total, paid) = counted.fold((0, 0), |(t, p), b| {
            (t + b.total.minor_units(), p + b.paid.minor_units())
        });
        assert_eq!(totals.total.minor_units(), total, "{}", totals.currency);
        assert_eq!(totals.paid.minor_units(), paid);
        assert_eq!(totals.due.minor_units(), total - paid);
    }
    let currencies: Vec<&str> = statement
        .totals
        .iter()
        .map(|t| t.currency.as_str())
        .collect();
    assert_eq!(currencies, ["EUR", "USD"]);
    assert_eq!(
        statement.totals[0].total.minor_units(),
        20_050,
        "cancelled not totalled"
    );
    assert_eq!(statement.totals[1].due.minor_units(), -500, "overpaid");
}

#[tokio::test]
async fn text_and_csv_show_every_line_and_total() {
    let (dir, id) = setup().await;
    let statement = may_1_to_8(&dir, id).await;
    let text = statement.to_text();
    assert!(text.starts_with("Statement for Zoë Costa\n"));
    for code in ["ST-101", "ST-102", "=ST-103", "ST-104"] {
        assert!(text.contains(code), "{code} in\n{text}");
    }
    assert!(!text.contains("ST-105"));
    assert!(text.contains("200.50 EUR"), "EUR total in\n{text}");
    assert!(text.contains("* cancelled"));

    let csv = statement.write_csv(Vec::new()).unwrap();
    let rows: Vec<Vec<String>> = csv::Reader::from_reader(csv.as_slice())
        .records()
        .map(|r| r.unwrap().iter().map(str::to_owned).collect())
        .collect();
    assert_eq!(rows.len(), 4 + 2, "four bookings, two currency totals");
    assert_eq!(rows[2][1], "'=ST-103", "codes are neutralised");
    assert_eq!(rows[2][7], "no");
    let eur_sum: f64 = rows[..4]
        .iter()
        .filter(|r| r[3] == "EUR" && r[7] == "yes")
        .map(|r| r[4].parse::<f64>().unwrap())
        .sum();
    let eur_total_row = rows
        .iter()
        .find(|r| r[1] == "TOTAL" && r[3] == "EUR")
        .unwrap();
    assert!((eur_total_row[4].parse::<f64>().unwrap() - eur_sum).abs() < 1e-9);
    assert_eq!(
        rows.iter()
            .find(|r| r[1] == "TOTAL" && r[3] == "USD")
            .unwrap()[6],
        "-5.00"
    );
}

#[tokio::test]
async fn a_period_that_ends_before_it_starts_is_refused() {
    let (dir, id) = setup().await;
    let error = dir.statement(id, at(8), at(1)).await.unwrap_err();
    assert!(
        matches!(error, Error::Statement(StatementError::EmptyPeriod { .. })),
        "{error}"
    );
    let empty = dir.statement(id, at(20), at(20)).await.unwrap();
    assert!(empty.lines.is_empty() && empty.totals.is_empty());
    assert!(empty.to_text().contains("No bookings in this period."));
}

#[cfg(feature = "pdf")]
mod pdf {
    use super::*;
    use customer_directory::records::Attribution;
    use customer_directory::settings::{BusinessDetails, FontFile, StatementSettings};
    use customer_directory::{Booking, Customer};
    use unicode_normalization::UnicodeNormalization;

    fn settings() -> StatementSettings {
        StatementSettings::new(
            BusinessDetails::new("Harbour Kayaks Ltd")
                .with_address(["1 Quay Street", "Falmouth TR11 3HH", "United Kingdom"])
                .with_contact(["+44 1326 000000", "hello@harbourkayaks.example"]),
        )
    }

    /// Runs a poppler-utils tool (`pdftotext`, `pdfinfo`) on `pdf`; `None` when the tool
    /// cannot run and `CUSTOMER_DIRECTORY_REQUIRE_PDFTOTEXT` is not set (then the test skips).
    fn poppler(tool: &str, args: &[&str], pdf: &[u8]) -> Option<String> {
        let path = std::env::temp_dir().join(format!("statement-{}.pdf", CustomerId::new()));
        std::fs::write(&path, pdf).unwrap();
        let output = std::process::Command::new(tool)
            .args(args)
            .arg(&path)
            .args(if tool == "pdftotext" {
                &["-"][..]
            } else {
                &[][..]
            })
            .output();
        let _ = std::fs::remove_file(&path);
        let output = match output {
            Ok(output) => output,
            Err(error) if std::env::var_os("CUSTOMER_DIRECTORY_REQUIRE_PDFTOTEXT").is_some() => {
                panic!("{tool} is required but cannot run: {error}")
            }
            Err(error) => {
                eprintln!(
                    "SKIPPED: {tool} (Debian package poppler-utils) cannot run ({error}); \
                     set CUSTOMER_DIRECTORY_REQUIRE_PDFTOTEXT=1 to make this a failure"
                );
                return None;
            }
        };
        assert!(output.status.success(), "{tool} failed: {output:?}");
        Some(String::from_utf8(output.stdout).unwrap())
    }

    fn pdf_text(pdf: &[u8]) -> Option<String> {
        poppler("pdftotext", &["-layout", "-enc", "UTF-8"], pdf)
    }

    /// Text as Unicode compares it: composed (NFC), so `e` + U+0308 equals `ë`.
    fn nfc(text: &str) -> String {
        text.nfc().collect()
    }

    #[tokio::test]
    async fn the_pdf_reads_back_as_text_with_codes_and_totals() {
        let (dir, id) = setup().await;
        let statement = may_1_to_8(&dir, id).await;
        let pdf = statement.to_pdf(&settings()).unwrap();
        assert!(pdf.starts_with(b"%PDF-"));
        let Some(text) = pdf_text(&pdf) else { return };
        for needle in [
            "Harbour Kayaks Ltd",
            "1 Quay Street",
            "hello@harbourkayaks.example",
            "Statement",
            "Zoë Costa",
            "2026-05-01 – 2026-05-08",
            "Statement date: 2026-06-01",
            "ST-101",
            "ST-102",
            "=ST-103",
            "cancelled *",
            "ST-104",
            "200.50 EUR",
            "30.00 USD",
            "-5.00 USD",
            "Page 1 of 1",
        ] {
            assert!(text.contains(needle), "`{needle}` not found in:\n{text}");
        }
        assert!(!text.contains("ST-105"));
        assert!(!text.contains('?'), "no character replaced:\n{text}");
    }

    /// A customer called `given family`, with `address`, and bookings `codes` (one a day
    /// from May 1, `100.00 + n` EUR each, half paid).
    fn customer_with(
        given: &str,
        family: &str,
        address: (&str, &str),
        codes: &[&str],
    ) -> (Customer, Vec<Booking>) {
        let contact = ContactForm {
            given_name: given.into(),
            family_name: family.into(),
            address_line1: address.0.into(),
            city: address.1.into(),
            ..ContactForm::default()
        }
        .parse(&DirectorySettings::default())
        .unwrap();
        let customer = Customer::new(contact.clone(), at(1));
        let eur = Currency::parse("EUR").unwrap();
        let bookings = codes
            .iter()
            .zip(1..)
            .map(|(code, n)| {
                let mut new = NewBooking::new(
                    *code,
                    BookingStatus::CONFIRMED,
                    contact.clone(),
                    at(n),
                    Money::new(10_000 + i64::from(n), eur),
                );
                new.paid = Money::new(5_000, eur);
                let mut booking = Booking::from_new(new, at(1));
                booking.attribution = Attribution::Primary(customer.id);
                booking
            })
            .collect();
        (customer, bookings)
    }

    #[test]
    fn names_in_every_script_read_back_exactly() {
        let people = [
            (
                "Łukasz",
                "Wróblewski",
                ("ul. Żółkiewskiego 5", "Łódź"),
                ["PL-ŁÓDŹ-1", "PL-2"],
            ),
            (
                "Ελένη",
                "Παπαδοπούλου",
                ("Οδός Ερμού 12", "Αθήνα"),
                ["GR-Ω-1", "GR-2"],
            ),
            (
                "Иван",
                "Петров",
                ("ул. Тверская 7", "Москва"),
                ["RU-Ж-1", "RU-2"],
            ),
            (
                "Zoe\u{0308}",
                "Brontë",
                ("Rue de l'E\u{0301}glise 3", "Montre\u{0301}al"),
                ["FR-É-1", "FR-2"],
            ),
        ];
        for (given, family, address, codes) in people {
            let (customer, bookings) = customer_with(given, family, address, &codes);
            let statement = Statement::new(&customer, &bookings, at(1), at(9), at(9)).unwrap();
            assert_eq!(nfc(&statement.addressee), nfc(&format!("{given} {family}")));
            let pdf = statement.to_pdf(&settings()).unwrap();
            let Some(text) = pdf_text(&pdf) else { return };
            let text = nfc(&text);
            assert!(!text.contains('?'), "a character became `?`:\n{text}");
            let mut needles = vec![
                format!("{given} {family}"),
                address.0.to_owned(),
                address.1.to_owned(),
            ];
            needles.extend(codes.iter().map(|code| (*code).to_owned()));
            needles.extend(statement.lines.iter().map(|line| line.total.to_string()));
            needles.extend(statement.totals.iter().flat_map(|totals| {
                [totals.total, totals.paid, totals.due].map(|amount| amount.to_string())
            }));
            for needle in needles {
                let needle = nfc(&needle);
                assert!(text.contains(&needle), "`{needle}` not found in:\n{text}");
            }
        }
    }

    #[test]
    fn three_hundred_bookings_span_pages_with_header_page_numbers_and_matching_totals() {
        let codes: Vec<String> = (0..300).map(|n| format!("BK-{n:04}")).collect();
        let code_refs: Vec<&str> = codes.iter().map(String::as_str).collect();
        let (customer, mut bookings) = customer_with(
            "Иван",
            "Петров",
            ("ул. Тверская 7", "Москва"),
            &code_refs[..1],
        );
        // 300 bookings over May, in three currencies, some cancelled.
        let template = bookings.remove(0);
        for (n, code) in codes.iter().enumerate() {
            let mut booking = template.clone();
            booking.id = customer_directory::BookingId::new();
            booking.code.clone_from(code);
            let n = i64::try_from(n).unwrap();
            let currency =
                Currency::parse(["EUR", "JPY", "KWD"][usize::try_from(n % 3).unwrap()]).unwrap();
            booking.total = Money::new(1_000 + n * 37, currency);
            booking.paid = Money::new(n * 11, currency);
            booking.starts_at = at(1) + TimeDelta::minutes(n * 90);
            if n % 17 == 0 {
                booking.status = BookingStatus::CANCELLED;
            }
            bookings.push(booking);
        }
        let statement = Statement::new(&customer, &bookings, at(1), at(31), at(31)).unwrap();
        assert_eq!(statement.lines.len(), 300);

        // The totals, computed here from the bookings.
        for totals in &statement.totals {
            let counted = bookings.iter().filter(|b| {
                b.status != BookingStatus::CANCELLED && b.total.currency() == totals.currency
            });
            let (total, paid) = counted.fold((0, 0), |(t, p), b| {
                (t + b.total.minor_units(), p + b.paid.minor_units())
            });
            assert_eq!(totals.total.minor_units(), total);
            assert_eq!(totals.paid.minor_units(), paid);
            assert_eq!(totals.due.minor_units(), total - paid);
        }
        assert_eq!(statement.totals.len(), 3);

        let pdf = statement.to_pdf(&settings()).unwrap();
        let Some(text) = pdf_text(&pdf) else { return };
        // pdftotext ends every page with a form feed.
        let pages: Vec<&str> = text
            .split('\u{c}')
            .filter(|page| !page.trim().is_empty())
            .collect();
        assert!(
            pages.len() >= 5,
            "300 rows need several pages, got {}",
            pages.len()
        );
        for (index, page) in pages.iter().enumerate() {
            let number = format!("Page {} of {}", index + 1, pages.len());
            assert!(
                page.contains(&number),
                "`{number}` not on page {}:\n{page}",
                index + 1
            );
            let has_rows = page.contains("BK-");
            if has_rows {
                let header = page
                    .lines()
                    .find(|line| line.contains("Date") && line.contains("Code"))
                    .unwrap_or_else(|| panic!("no table header on page {}:\n{page}", index + 1));
                for title in ["Status", "Total", "Paid", "Due"] {
                    assert!(header.contains(title), "`{title}` in header `{header}`");
                }
            }
        }
        // Every booking exactly once, in order.
        let mut last = 0;
        for code in &codes {
            assert_eq!(text.matches(code.as_str()).count(), 1, "{code}");
            let at = text.find(code.as_str()).unwrap();
            assert!(at > last, "{code} out of order");
            last = at;
        }
        // The totals on the last page, as the statement computed them.
        let last_page = pages.last().unwrap();
        let totals_at = last_page.find("Totals").expect("totals on the last page");
        for totals in &statement.totals {
            for amount in [totals.total, totals.paid, totals.due] {
                assert!(
                    last_page[totals_at..].contains(&amount.to_string()),
                    "{amount} in totals:\n{last_page}"
                );
            }
        }
        // Yen without decimals, dinars with three.
        for (code, decimals) in [("JPY", None), ("KWD", Some(3))] {
            let line = statement
                .lines
                .iter()
                .find(|line| line.total.currency().as_str() == code)
                .unwrap();
            let shown = line.total.to_string();
            let digits = shown
                .split_once('.')
                .map(|(_, rest)| rest.len() - " XXX".len());
            assert_eq!(digits, decimals, "{shown}");
            assert!(text.contains(&shown), "{shown}");
        }
    }

    #[test]
    fn metadata_and_tags_name_the_business_and_the_structure() {
        let (customer, bookings) = customer_with(
            "Ελένη",
            "Παπαδοπούλου",
            ("Οδός Ερμού 12", "Αθήνα"),
            &["GR-1"],
        );
        let statement = Statement::new(&customer, &bookings, at(1), at(9), at(9)).unwrap();
        let mut settings = settings();
        settings.language = "el".to_owned();
        let pdf = statement.to_pdf(&settings).unwrap();
        let Some(info) = poppler("pdfinfo", &[], &pdf) else {
            return;
        };
        let field = |name: &str| {
            info.lines()
                .find_map(|line| line.strip_prefix(name))
                .map(str::trim)
                .unwrap_or_else(|| panic!("no {name} in\n{info}"))
                .to_owned()
        };
        // The period ends (exclusive) at 10:00 on May 9, so May 9 is its last day.
        assert_eq!(
            field("Title:"),
            "Statement for Ελένη Παπαδοπούλου, 2026-05-01 – 2026-05-09"
        );
        assert_eq!(field("Author:"), "Harbour Kayaks Ltd");
        assert_eq!(field("Tagged:"), "yes");
        let Some(structure) = poppler("pdfinfo", &["-struct"], &pdf) else {
            return;
        };
        for element in [
            "Document", "H1", "P", "Table", "THead", "TBody", "TR", "TH", "TD", "H2",
        ] {
            assert!(
                structure.lines().any(|line| {
                    let line = line.trim();
                    line == element
                        || line.starts_with(&format!("{element} "))
                        || line.starts_with(&format!("{element}:"))
                }),
                "no `{element}` in the structure tree:\n{structure}"
            );
        }
        // The catalog and the structure root both carry the language.
        let text = String::from_utf8_lossy(&pdf);
        assert_eq!(text.matches("/Lang(el)").count(), 2, "document language");
    }

    #[test]
    fn a_host_font_is_embedded_and_a_broken_one_is_a_typed_error() {
        let (customer, bookings) =
            customer_with("Иван", "Петров", ("ул. Тверская 7", "Москва"), &["RU-1"]);
        let statement = Statement::new(&customer, &bookings, at(1), at(9), at(9)).unwrap();

        let mono = settings().with_font(FontFile::new(dejavu::sans_mono::regular().to_vec()));
        let pdf = statement.to_pdf(&mono).unwrap();
        let fonts = String::from_utf8_lossy(&pdf);
        assert!(
            fonts.contains("DejaVuSansMono"),
            "the host's font is embedded"
        );
        assert!(
            !fonts.contains("+DejaVuSans-Bold"),
            "and used for bold text too"
        );
        if let Some(text) = pdf_text(&pdf) {
            assert!(text.contains("Иван Петров"), "{text}");
        }

        for broken in [Vec::new(), b"not a font at all".to_vec(), vec![0; 4096]] {
            let error = statement
                .to_pdf(&settings().with_font(FontFile::new(broken)))
                .unwrap_err();
            assert!(matches!(error, StatementError::Font { .. }), "{error}");
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(24))]
        /// Any text in any field and any amount renders, or is refused with an error.
        #[test]
        fn any_statement_renders_without_panicking(
            name in "\\PC{0,120}",
            code in "\\PC{0,60}",
            business in "\\PC{0,80}",
            minor in proptest::prelude::any::<i64>(),
            currency in proptest::sample::select(vec!["EUR", "JPY", "KWD", "XAU"]),
            lines in 0_usize..60,
        ) {
            let (customer, bookings) = customer_with("Ana", "Silva", ("Rua 1", "Lisboa"), &["PT-1"]);
            let mut statement = Statement::new(&customer, &bookings, at(1), at(9), at(9)).unwrap();
            statement.addressee = name;
            let template = statement.lines[0].clone();
            let amount = Money::new(minor, Currency::parse(currency).unwrap());
            statement.lines = (0..lines)
                .map(|_| {
                    let mut line = template.clone();
                    line.code.clone_from(&code);
                    line.total = amount;
                    line.due = amount;
                    line
                })
                .collect();
            let settings = StatementSettings::new(BusinessDetails::new(business));
            let pdf = statement.to_pdf(&settings).unwrap();
            proptest::prop_assert!(pdf.starts_with(b"%PDF-"));
        }
    }

    #[test]
    fn odd_input_never_panics() {
        let long = "Ω".repeat(5_000);
        let odd = [
            "",
            " ",
            "\u{0}\u{7}\t\r\n",
            "\u{202e}reversed",
            "مرحبا بالعالم",
            "漢字かな交じり",
            "👩‍👩‍👧‍👦🏳️‍🌈",
            long.as_str(),
        ];
        let (customer, bookings) = customer_with("Ana", "Silva", ("Rua 1", "Lisboa"), &["PT-1"]);
        let mut statement = Statement::new(&customer, &bookings, at(1), at(9), at(9)).unwrap();
        for text in odd {
            statement.addressee = text.to_owned();
            statement.address = vec![text.to_owned(); 3];
            statement.lines[0].code = text.to_owned();
            let mut settings = settings();
            settings.business = BusinessDetails::new(text)
                .with_address([text, text])
                .with_contact([text]);
            settings.language = text.to_owned();
            let pdf = statement.to_pdf(&settings).unwrap();
            assert!(pdf.starts_with(b"%PDF-"));
        }
        let empty = Statement::new(&customer, &[], at(1), at(1), at(1)).unwrap();
        let Some(text) = pdf_text(&empty.to_pdf(&StatementSettings::default()).unwrap()) else {
            return;
        };
        assert!(text.contains("No bookings in this period."), "{text}");
        assert!(text.contains("Page 1 of 1"), "{text}");
    }
}
