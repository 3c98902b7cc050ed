//! Amounts in each currency's ISO 4217 minor unit: yen without decimals, euros with two,
//! Kuwaiti dinars with three, everywhere an amount is shown (`Money`, summaries, the CSV
//! export, statements) and read back (`Money::parse_amount`, the export's total column).

use chrono::{TimeZone, Utc};
use customer_directory::MemoryStore;
use customer_directory::ports::FixedClock;
use customer_directory::reports::csv::{CsvExportOptions, ExportColumn, parse_total_value};
use customer_directory::values::MoneyError;
use customer_directory::{
    Actor, BookingStatus, ContactForm, Currency, Directory, DirectorySettings, Money, NewBooking,
};

fn currency(code: &str) -> Currency {
    Currency::parse(code).unwrap()
}

#[test]
fn money_shows_each_currency_with_its_own_decimals() {
    let cases = [
        (1_000, "JPY", "1000 JPY"),
        (-1_000, "JPY", "-1000 JPY"),
        (1_000, "EUR", "10.00 EUR"),
        (5, "EUR", "0.05 EUR"),
        (1_000, "KWD", "1.000 KWD"),
        (-1_234_567, "KWD", "-1234.567 KWD"),
    ];
    for (minor, code, shown) in cases {
        let amount = Money::new(minor, currency(code));
        assert_eq!(amount.to_string(), shown);
        assert_eq!(shown.parse::<Money>(), Ok(amount), "{shown} reads back");
    }
    assert_eq!(currency("jpy").minor_unit_digits(), 0);
    assert_eq!(currency("EUR").minor_unit_digits(), 2);
    assert_eq!(currency("KWD").minor_unit_digits(), 3);
}

#[test]
fn unknown_codes_and_extra_decimals_are_refused_with_typed_errors() {
    assert_eq!(
        Currency::parse("QQQ"),
        Err(MoneyError::UnknownCurrency("QQQ".into()))
    );
    let error = Money::parse_amount("10.5", currency("JPY")).unwrap_err();
    assert_eq!(
        error,
        MoneyError::TooManyDecimals {
            amount: "10.5".into(),
            currency: currency("JPY"),
            digits: 0
        }
    );
    assert_eq!(
        error.to_string(),
        "`10.5` has more decimals than JPY has (0)"
    );
    assert!(matches!(
        "1.2345 KWD".parse::<Money>(),
        Err(MoneyError::TooManyDecimals { digits: 3, .. })
    ));
    assert!(matches!(
        parse_total_value("10.00 EUR; 10.001 EUR"),
        Err(MoneyError::TooManyDecimals { digits: 2, .. })
    ));
}

/// One customer per currency, exported to CSV with the total value column, read back.
#[tokio::test]
async fn csv_export_round_trips_jpy_eur_and_kwd_amounts() {
    let clock = FixedClock::new(Utc.with_ymd_and_hms(2026, 3, 1, 8, 0, 0).unwrap());
    let dir = Directory::with_clock(MemoryStore::new(), DirectorySettings::default(), clock);
    // Totals with every decimal place the currency has, and a refund for the negative sign.
    let bookings = [
        ("yuki@example.com", "JP-1", 123_456, "JPY"),
        ("yuki@example.com", "JP-2", 4, "JPY"),
        ("emma@example.com", "EU-1", 12_345, "EUR"),
        ("emma@example.com", "EU-2", 5, "EUR"),
        ("fahad@example.com", "KW-1", 1_234_567, "KWD"),
        ("fahad@example.com", "KW-2", 1, "KWD"),
        ("rui@example.com", "EU-3", -999, "EUR"),
    ];
    for (email, code, minor, code_of_currency) in bookings {
        let contact = ContactForm {
            email: email.into(),
            ..ContactForm::default()
        }
        .parse(dir.settings())
        .unwrap();
        let at = Utc.with_ymd_and_hms(2026, 2, 1, 9, 0, 0).unwrap();
        let total = Money::new(minor, currency(code_of_currency));
        dir.record_booking(
            NewBooking::new(code, BookingStatus::PAID, contact, at, total),
            &Actor::System,
        )
        .await
        .unwrap();
    }
    let options =
        CsvExportOptions::with_columns(vec![ExportColumn::Email, ExportColumn::TotalValue]);
    let (bytes, rows) = dir.export_csv(Vec::new(), &options).await.unwrap();
    assert_eq!(rows, 4);
    let mut reader = csv::Reader::from_reader(bytes.as_slice());
    let mut seen = 0;
    for record in reader.records() {
        let record = record.unwrap();
        let amounts = parse_total_value(&record[1]).unwrap();
        // The expected sums, computed here from the bookings above.
        let expected: Vec<Money> = {
            let mine: Vec<_> = bookings.iter().filter(|b| b.0 == &record[0]).collect();
            let code = mine[0].3;
            vec![Money::new(mine.iter().map(|b| b.2).sum(), currency(code))]
        };
        assert_eq!(amounts, expected, "row {:?}", &record);
        let shown = match expected[0].currency().as_str() {
            "JPY" => "123460 JPY",
            "KWD" => "1234.568 KWD",
            _ if expected[0].minor_units() < 0 => "'-9.99 EUR",
            _ => "123.50 EUR",
        };
        assert_eq!(&record[1], shown);
        seen += 1;
    }
    assert_eq!(seen, 4);
}
