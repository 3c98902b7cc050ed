//! A customer's statement: its bookings in a period with amounts, paid, due and totals,
//! rendered as plain text, CSV, or (feature `pdf`) a PDF business document.
//!
//! The PDF is what a business sends to a customer or an accountant: the business's name,
//! address and contact ([`StatementSettings`](crate::settings::StatementSettings)), the
//! customer's name and address, the period, a ruled table of the bookings with right-aligned
//! amounts (its header repeated on every page), totals per currency, "page 2 of 5" and the
//! date it was made. Its text is set in an embedded, subset font (DejaVu Sans, bundled: Latin,
//! Greek, Cyrillic; or the host's own), so every name prints in its own script, and it is
//! tagged (headings, table structure, document language) for screen readers.

#[cfg(feature = "pdf")]
mod pdf;

use std::io;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::records::booking::Booking;
use crate::records::customer::Customer;
use crate::records::profile::PostalAddress;
use crate::reports::csv::neutralise_cell;
use crate::reports::summary::totals_of;
use crate::reports::summary::{BookingLine, CurrencyTotals};
use crate::values::ids::CustomerId;
use crate::values::money::MoneyError;
use crate::values::text::Text;

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
    /// A font given in the statement settings cannot be used (not a TrueType or OpenType
    /// font, or one the renderer cannot read).
    #[error("the statement font cannot be used: {reason}")]
    Font {
        /// What is wrong with it.
        reason: String,
    },
    /// The PDF could not be written (for example a font that cannot be subset); the
    /// renderer's own message.
    #[error("the statement PDF could not be written: {0}")]
    Pdf(String),
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
    /// The customer's postal address, one line per entry (street lines, then postcode and
    /// city, region, country); empty when the profile has none.
    #[serde(default)]
    pub address: Vec<String>,
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
            address: address_lines(&customer.profile.address),
            from,
            until,
            generated_at,
            totals: totals_of(&lines)?,
            lines,
        })
    }

    /// The statement as plain text in fixed-width columns, for mail bodies and logs.
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
    /// Amounts are plain decimals with the currency's number of decimals; codes and statuses are neutralised against formula
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
                &line.total.decimal(),
                &line.paid.decimal(),
                &line.due.decimal(),
                if line.counted { "yes" } else { "no" },
            ])?;
        }
        for totals in &self.totals {
            out.write_record([
                "",
                "TOTAL",
                "",
                totals.currency.as_str(),
                &totals.total.decimal(),
                &totals.paid.decimal(),
                &totals.due.decimal(),
                "",
            ])?;
        }
        out.into_inner()
            .map_err(|error| io::Error::other(error.to_string()))
    }

    /// The statement as a PDF business document on A4 pages, from `settings`' business (see
    /// the [module documentation](self) for what it shows).
    ///
    /// The PDF's title is "Statement for *name*, *period*", its author the business, its
    /// language `settings.language`.
    ///
    /// # Errors
    ///
    /// [`StatementError::Font`] when a font in `settings` cannot be used;
    /// [`StatementError::Pdf`] when the PDF cannot be written. Never panics on any
    /// statement or settings.
    ///
    /// # Examples
    ///
    /// ```
    /// use chrono::{TimeZone, Utc};
    /// use customer_directory::{Customer, Profile};
    /// use customer_directory::reports::statement::Statement;
    /// use customer_directory::settings::{BusinessDetails, StatementSettings};
    /// let at = Utc.with_ymd_and_hms(2026, 5, 2, 9, 0, 0).unwrap();
    /// let customer = Customer::new(Profile::default(), at);
    /// let statement = Statement::new(&customer, &[], at, at, at)?;
    /// let settings = StatementSettings::new(
    ///     BusinessDetails::new("Harbour Kayaks Ltd").with_address(["1 Quay Street", "Falmouth"]),
    /// );
    /// let pdf = statement.to_pdf(&settings)?;
    /// assert!(pdf.starts_with(b"%PDF-"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[cfg(feature = "pdf")]
    pub fn to_pdf(
        &self,
        settings: &crate::settings::statement::StatementSettings,
    ) -> Result<Vec<u8>, StatementError> {
        crate::reports::statement::pdf::render(self, settings)
    }
}

/// A postal address as the lines of an envelope: street lines, postcode and city, region,
/// country code.
fn address_lines(address: &PostalAddress) -> Vec<String> {
    let text = |value: &Option<Text>| value.as_ref().map(|t| t.as_str().to_owned());
    let town = [text(&address.postcode), text(&address.city)]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
    [
        text(&address.line1),
        text(&address.line2),
        Some(town),
        text(&address.region),
        address.country.as_ref().map(|c| c.as_str().to_owned()),
    ]
    .into_iter()
    .flatten()
    .filter(|line| !line.trim().is_empty())
    .collect()
}
