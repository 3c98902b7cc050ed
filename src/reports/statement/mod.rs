//! A customer's statement: its bookings in a period with amounts, paid, due and totals,
//! rendered as plain text, CSV, or (feature `pdf`) PDF.

#[cfg(feature = "pdf")]
mod pdf;

use std::io;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::records::booking::Booking;
use crate::records::customer::Customer;
use crate::reports::csv::neutralise_cell;
use crate::reports::summary::totals_of;
use crate::reports::summary::{BookingLine, CurrencyTotals};
use crate::values::ids::CustomerId;
use crate::values::money::{Money, MoneyError};

/// Why a statement cannot be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StatementError {
    /// The period ends before it starts.
    #[error("the period ends ({until}) before it starts ({from})")]
    EmptyPeriod {
        /// Start of the period.
        from: DateTime<Utc>,
        /// End of the period.
        until: DateTime<Utc>,
    },
    /// Amounts that cannot be added up.
    #[error(transparent)]
    Money(#[from] MoneyError),
}

/// A customer's bookings starting in `[from, until)`, with totals per currency.
///
/// Cancelled bookings are listed (marked) but not totalled, as in [`CustomerSummary`](crate::reports::summary::CustomerSummary).
///
/// # Examples
///
/// ```
/// use chrono::{TimeZone, Utc};
/// use customer_directory::records::Attribution;
/// use customer_directory::{Booking, BookingStatus, Currency, Customer, Money, NewBooking, Profile};
/// use customer_directory::reports::statement::Statement;
/// let eur = Currency::parse("EUR")?;
/// let at = Utc.with_ymd_and_hms(2026, 5, 2, 9, 0, 0).unwrap();
/// let customer = Customer::new(Profile::default(), at);
/// let mut booking = Booking::from_new(NewBooking::new("BK-1", BookingStatus::PAID, Profile::default(), at, Money::new(40_00, eur)), at);
/// booking.attribution = Attribution::Primary(customer.id);
/// let from = Utc.with_ymd_and_hms(2026, 5, 1, 0, 0, 0).unwrap();
/// let until = Utc.with_ymd_and_hms(2026, 6, 1, 0, 0, 0).unwrap();
/// let statement = Statement::new(&customer, &[booking], from, until, at)?;
/// assert_eq!(statement.totals[0].due, Money::new(40_00, eur));
/// assert!(statement.to_text().contains("BK-1"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Statement {
    /// The customer.
    pub customer: CustomerId,
    /// The name the statement is addressed to.
    pub addressee: String,
    /// Start of the period (inclusive).
    pub from: DateTime<Utc>,
    /// End of the period (exclusive).
    pub until: DateTime<Utc>,
    /// When the statement was made.
    pub generated_at: DateTime<Utc>,
    /// The bookings starting in the period, by start time then id.
    pub lines: Vec<BookingLine>,
    /// Totals per currency of the lines that count.
    pub totals: Vec<CurrencyTotals>,
}

impl Statement {
    /// The statement of `customer` for bookings starting in `[from, until)`; `bookings`
    /// may include others, which are left out.
    ///
    /// # Errors
    ///
    /// [`StatementError::EmptyPeriod`] when `until < from`; [`StatementError::Money`] when a
    /// booking mixes currencies or a sum overflows.
    pub fn new(
        customer: &Customer,
        bookings: &[Booking],
        from: DateTime<Utc>,
        until: DateTime<Utc>,
        generated_at: DateTime<Utc>,
    ) -> Result<Self, StatementError> {
        if until < from {
            return Err(StatementError::EmptyPeriod { from, until });
        }
        let mut lines = bookings
            .iter()
            .filter(|b| b.attribution.customer() == Some(customer.id))
            .filter(|b| from <= b.starts_at && b.starts_at < until)
            .map(BookingLine::new)
            .collect::<Result<Vec<_>, _>>()?;
        lines.sort_by_key(|line| (line.starts_at, line.booking));
        Ok(Self {
            customer: customer.id,
            addressee: customer.profile.label(),
            from,
            until,
            generated_at,
            totals: totals_of(&lines)?,
            lines,
        })
    }

    /// The statement as plain text in fixed-width columns (also the PDF's content).
    #[must_use]
    pub fn to_text(&self) -> String {
        let day = |at: DateTime<Utc>| at.format("%Y-%m-%d").to_string();
        let mut out = String::new();
        out.push_str(&format!("Statement for {}\n", self.addressee));
        out.push_str(&format!("Customer {}\n", self.customer));
        out.push_str(&format!(
            "Bookings starting {} to {} (UTC, end exclusive)\n",
            day(self.from),
            day(self.until)
        ));
        out.push_str(&format!("Generated {}\n\n", day(self.generated_at)));
        out.push_str(&format!(
            "{:<10}  {:<14}  {:<12}  {:>16}  {:>16}  {:>16}\n",
            "Date", "Code", "Status", "Total", "Paid", "Due"
        ));
        for line in &self.lines {
            let mark = if line.counted { "" } else { " *" };
            out.push_str(&format!(
                "{:<10}  {:<14}  {:<12}  {:>16}  {:>16}  {:>16}{mark}\n",
                day(line.starts_at),
                line.code,
                line.status.as_str(),
                line.total.to_string(),
                line.paid.to_string(),
                line.due.to_string(),
            ));
        }
        if self.lines.is_empty() {
            out.push_str("No bookings in this period.\n");
        }
        if self.lines.iter().any(|line| !line.counted) {
            out.push_str("* cancelled: listed, not included in the totals\n");
        }
        out.push('\n');
        for totals in &self.totals {
            out.push_str(&format!(
                "{:<10}  {:<14}  {:<12}  {:>16}  {:>16}  {:>16}\n",
                "Totals",
                totals.currency.as_str(),
                "",
                totals.total.to_string(),
                totals.paid.to_string(),
                totals.due.to_string(),
            ));
        }
        out
    }

    /// Writes the statement as CSV: one row per booking, then one `TOTAL` row per currency.
    /// Amounts are plain decimals; codes and statuses are neutralised against formula
    /// injection like an export.
    ///
    /// # Errors
    ///
    /// The writer's I/O error.
    pub fn write_csv<W: io::Write>(&self, writer: W) -> io::Result<W> {
        let mut out = csv::WriterBuilder::new()
            .terminator(csv::Terminator::CRLF)
            .from_writer(writer);
        out.write_record([
            "date", "code", "status", "currency", "total", "paid", "due", "counted",
        ])?;
        for line in &self.lines {
            out.write_record([
                line.starts_at.format("%Y-%m-%d").to_string().as_str(),
                &neutralise_cell(&line.code),
                &neutralise_cell(line.status.as_str()),
                line.total.currency().as_str(),
                &decimal(line.total),
                &decimal(line.paid),
                &decimal(line.due),
                if line.counted { "yes" } else { "no" },
            ])?;
        }
        for totals in &self.totals {
            out.write_record([
                "",
                "TOTAL",
                "",
                totals.currency.as_str(),
                &decimal(totals.total),
                &decimal(totals.paid),
                &decimal(totals.due),
                "",
            ])?;
        }
        out.into_inner()
            .map_err(|error| io::Error::other(error.to_string()))
    }

    /// The statement as a PDF document: [`to_text`](Self::to_text) set in Courier on A4
    /// pages. Characters outside Windows-1252 are shown as `?`.
    #[cfg(feature = "pdf")]
    #[must_use]
    pub fn to_pdf(&self) -> Vec<u8> {
        crate::reports::statement::pdf::text_document(&self.to_text())
    }
}

/// An amount as a plain decimal with two places (`-5.00`), for spreadsheets.
fn decimal(money: Money) -> String {
    let units = money.minor_units();
    let sign = if units < 0 { "-" } else { "" };
    let units = units.unsigned_abs();
    format!("{sign}{}.{:02}", units / 100, units % 100)
}
