//! Amounts of money: integer minor units and an ISO 4217 currency code, never floats.
//!
//! How many decimals a currency's minor unit has (JPY 0, EUR 2, KWD 3) comes from the
//! ISO 4217 table of the `iso_currency` crate, so amounts are shown and read with the
//! currency's own number of decimals.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// An ISO 4217 alphabetic currency code such as `EUR` or `USD`.
///
/// The code must be in the ISO 4217 table (current, fund, special or superseded codes), because
/// the table says how many decimals the currency's minor unit has: an amount of a currency
/// the table does not know could not be shown or read correctly. A code of the right shape
/// that the table does not know is refused with [`MoneyError::UnknownCurrency`].
///
/// # Examples
///
/// ```
/// use customer_directory::Currency;
/// use customer_directory::values::MoneyError;
/// let eur: Currency = "eur".parse()?;
/// assert_eq!(eur.as_str(), "EUR");
/// assert_eq!(eur.minor_unit_digits(), 2);
/// assert!("EURO".parse::<Currency>().is_err());
/// assert!(matches!("ABC".parse::<Currency>(), Err(MoneyError::UnknownCurrency(_))));
/// # Ok::<(), MoneyError>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Currency([u8; 3]);

impl Currency {
    /// Parses a three-letter code of the ISO 4217 table, accepting either case.
    ///
    /// # Errors
    ///
    /// [`MoneyError::InvalidCurrency`] when `code` is not three ASCII letters,
    /// [`MoneyError::UnknownCurrency`] when the ISO 4217 table does not list it.
    ///
    /// # Examples
    ///
    /// ```
    /// use customer_directory::Currency;
    /// assert_eq!(Currency::parse(" usd ")?.as_str(), "USD");
    /// # Ok::<(), customer_directory::values::MoneyError>(())
    /// ```
    pub fn parse(code: &str) -> Result<Self, MoneyError> {
        let letters = match code.trim().as_bytes() {
            [a, b, c] if [a, b, c].iter().all(|byte| byte.is_ascii_alphabetic()) => [
                a.to_ascii_uppercase(),
                b.to_ascii_uppercase(),
                c.to_ascii_uppercase(),
            ],
            _ => return Err(MoneyError::InvalidCurrency(code.into())),
        };
        let currency = Self(letters);
        if iso_currency::Currency::from_code(currency.as_str()).is_none() {
            return Err(MoneyError::UnknownCurrency(currency.as_str().into()));
        }
        Ok(currency)
    }

    /// How many decimals the currency's minor unit has, from the ISO 4217 table: 0 for JPY,
    /// 2 for EUR, 3 for KWD. Codes the table gives no minor unit (gold, `XXX`) count
    /// whole units: 0.
    ///
    /// # Examples
    ///
    /// ```
    /// use customer_directory::Currency;
    /// assert_eq!(Currency::parse("JPY")?.minor_unit_digits(), 0);
    /// assert_eq!(Currency::parse("KWD")?.minor_unit_digits(), 3);
    /// # Ok::<(), customer_directory::values::MoneyError>(())
    /// ```
    #[must_use]
    pub fn minor_unit_digits(&self) -> u32 {
        iso_currency::Currency::from_code(self.as_str())
            .and_then(iso_currency::Currency::exponent)
            .map_or(0, u32::from)
    }

    /// The code, upper case.
    ///
    /// # Examples
    ///
    /// ```
    /// use customer_directory::Currency;
    /// assert_eq!(Currency::parse("gbp")?.as_str(), "GBP");
    /// # Ok::<(), customer_directory::values::MoneyError>(())
    /// ```
    #[must_use]
    pub fn as_str(&self) -> &str {
        // Only ASCII letters are ever stored, so this cannot fail.
        std::str::from_utf8(&self.0).unwrap_or("XXX")
    }
}

impl FromStr for Currency {
    type Err = MoneyError;
    fn from_str(code: &str) -> Result<Self, Self::Err> {
        Self::parse(code)
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

impl fmt::Debug for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Currency({})", self.as_str())
    }
}

impl Serialize for Currency {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Currency {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        Self::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// An amount in the currency's minor unit (cents for EUR, yen for JPY, fils for KWD), so
/// sums are exact.
///
/// It is shown (`Display`) and read ([`Money::parse_amount`], `FromStr`) with the
/// currency's own number of decimals ([`Currency::minor_unit_digits`]).
///
/// # Examples
///
/// ```
/// use customer_directory::{Currency, Money};
/// let price = Money::new(12_50, Currency::parse("EUR")?);
/// assert_eq!(price.to_string(), "12.50 EUR");
/// assert_eq!(Money::new(1_000, Currency::parse("JPY")?).to_string(), "1000 JPY");
/// assert_eq!("12.50 EUR".parse::<Money>()?, price);
/// assert_eq!(price.checked_add(price)?.minor_units(), 25_00);
/// # Ok::<(), customer_directory::values::MoneyError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Money {
    minor_units: i64,
    currency: Currency,
}

impl Money {
    /// An amount of `minor_units` (may be negative, for refunds) in `currency`.
    ///
    /// # Examples
    ///
    /// ```
    /// use customer_directory::{Currency, Money};
    /// let refund = Money::new(-500, Currency::parse("USD")?);
    /// assert_eq!(refund.to_string(), "-5.00 USD");
    /// # Ok::<(), customer_directory::values::MoneyError>(())
    /// ```
    #[must_use]
    pub const fn new(minor_units: i64, currency: Currency) -> Self {
        Self {
            minor_units,
            currency,
        }
    }

    /// Nothing, in `currency`.
    ///
    /// # Examples
    ///
    /// ```
    /// use customer_directory::{Currency, Money};
    /// assert_eq!(Money::zero(Currency::parse("EUR")?).minor_units(), 0);
    /// # Ok::<(), customer_directory::values::MoneyError>(())
    /// ```
    #[must_use]
    pub const fn zero(currency: Currency) -> Self {
        Self::new(0, currency)
    }

    /// The amount in minor units.
    ///
    /// # Examples
    ///
    /// ```
    /// use customer_directory::{Currency, Money};
    /// assert_eq!(Money::new(999, Currency::parse("EUR")?).minor_units(), 999);
    /// # Ok::<(), customer_directory::values::MoneyError>(())
    /// ```
    #[must_use]
    pub const fn minor_units(&self) -> i64 {
        self.minor_units
    }

    /// The currency.
    ///
    /// # Examples
    ///
    /// ```
    /// use customer_directory::{Currency, Money};
    /// let eur = Currency::parse("EUR")?;
    /// assert_eq!(Money::zero(eur).currency(), eur);
    /// # Ok::<(), customer_directory::values::MoneyError>(())
    /// ```
    #[must_use]
    pub const fn currency(&self) -> Currency {
        self.currency
    }

    /// The sum, refusing mixed currencies and overflow.
    ///
    /// # Examples
    ///
    /// ```
    /// use customer_directory::{Currency, Money};
    /// use customer_directory::values::MoneyError;
    /// let eur = Money::new(1, Currency::parse("EUR")?);
    /// let usd = Money::new(1, Currency::parse("USD")?);
    /// assert!(matches!(eur.checked_add(usd), Err(MoneyError::CurrencyMismatch { .. })));
    /// # Ok::<(), MoneyError>(())
    /// ```
    pub fn checked_add(self, other: Self) -> Result<Self, MoneyError> {
        if self.currency != other.currency {
            return Err(MoneyError::CurrencyMismatch {
                left: self.currency,
                right: other.currency,
            });
        }
        self.minor_units
            .checked_add(other.minor_units)
            .map(|sum| Self::new(sum, self.currency))
            .ok_or(MoneyError::Overflow)
    }

    /// The amount as a plain decimal with the currency's number of decimals and no code:
    /// `-5.00` for EUR, `1000` for JPY, `1.250` for KWD. This is what spreadsheets and the
    /// statement's amount columns show.
    ///
    /// # Examples
    ///
    /// ```
    /// use customer_directory::{Currency, Money};
    /// assert_eq!(Money::new(-500, Currency::parse("EUR")?).decimal(), "-5.00");
    /// assert_eq!(Money::new(1_250, Currency::parse("KWD")?).decimal(), "1.250");
    /// # Ok::<(), customer_directory::values::MoneyError>(())
    /// ```
    #[must_use]
    pub fn decimal(&self) -> String {
        let sign = if self.minor_units < 0 { "-" } else { "" };
        let units = self.minor_units.unsigned_abs();
        let digits = self.currency.minor_unit_digits();
        if digits == 0 {
            return format!("{sign}{units}");
        }
        let scale = 10_u64.pow(digits);
        let width = digits as usize;
        format!("{sign}{}.{:0width$}", units / scale, units % scale)
    }

    /// Reads a plain decimal amount (`12.5`, `-3.125`, `1000`) of `currency`, with at most
    /// as many decimals as the currency has: `12.345` is refused for EUR, `10.5` for JPY.
    ///
    /// The form is an optional `-`, digits, and optionally `.` followed by digits; no
    /// thousands separators, no exponent, no code.
    ///
    /// # Errors
    ///
    /// [`MoneyError::InvalidAmount`] when the text is not such a decimal,
    /// [`MoneyError::TooManyDecimals`] when it has more decimals than the currency,
    /// [`MoneyError::Overflow`] when it does not fit in 64 bits of minor units.
    ///
    /// # Examples
    ///
    /// ```
    /// use customer_directory::{Currency, Money};
    /// use customer_directory::values::MoneyError;
    /// let kwd = Currency::parse("KWD")?;
    /// assert_eq!(Money::parse_amount("1.25", kwd)?, Money::new(1_250, kwd));
    /// let jpy = Currency::parse("JPY")?;
    /// assert!(matches!(Money::parse_amount("10.5", jpy), Err(MoneyError::TooManyDecimals { .. })));
    /// # Ok::<(), MoneyError>(())
    /// ```
    pub fn parse_amount(text: &str, currency: Currency) -> Result<Self, MoneyError> {
        let invalid = || MoneyError::InvalidAmount(text.into());
        let trimmed = text.trim();
        let (negative, unsigned) = match trimmed.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, trimmed),
        };
        let (whole, fraction) = match unsigned.split_once('.') {
            Some((whole, fraction)) => (whole, Some(fraction)),
            None => (unsigned, None),
        };
        let all_digits = |part: &str| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit());
        if !all_digits(whole) || fraction.is_some_and(|part| !all_digits(part)) {
            return Err(invalid());
        }
        let digits = currency.minor_unit_digits();
        let fraction = fraction.unwrap_or("");
        if fraction.len() > digits as usize {
            return Err(MoneyError::TooManyDecimals {
                amount: text.into(),
                currency,
                digits,
            });
        }
        // Pad the fraction to the currency's decimals: "12.5" EUR is 1250 cents.
        let width = digits as usize;
        let minor_text = format!("{whole}{fraction:0<width$}");
        let magnitude: i64 = minor_text.parse().map_err(|_| MoneyError::Overflow)?;
        let minor_units = if negative {
            magnitude.checked_neg().ok_or(MoneyError::Overflow)?
        } else {
            magnitude
        };
        Ok(Self::new(minor_units, currency))
    }
}

impl fmt::Display for Money {
    /// Shows the amount with the currency's number of decimals, then the code:
    /// `12.50 EUR`, `1000 JPY`, `1.250 KWD`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.decimal(), self.currency)
    }
}

impl FromStr for Money {
    type Err = MoneyError;

    /// Reads what `Display` writes: a decimal amount, white space, a currency code
    /// (`12.50 EUR`), with the rules of [`Money::parse_amount`].
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let (amount, code) = text
            .trim()
            .rsplit_once(char::is_whitespace)
            .ok_or_else(|| MoneyError::InvalidAmount(text.into()))?;
        Self::parse_amount(amount, Currency::parse(code)?)
    }
}

/// Why an amount or currency was refused.
///
/// # Examples
///
/// ```
/// use customer_directory::Currency;
/// use customer_directory::values::MoneyError;
/// assert_eq!(
///     Currency::parse("€").unwrap_err().to_string(),
///     "`€` is not an ISO 4217 currency code (three letters)"
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MoneyError {
    /// The code is not three ASCII letters.
    #[error("`{0}` is not an ISO 4217 currency code (three letters)")]
    InvalidCurrency(Box<str>),
    /// Three letters that the ISO 4217 table does not list, so the currency's decimals are
    /// unknown.
    #[error("`{0}` is not in the ISO 4217 currency table")]
    UnknownCurrency(Box<str>),
    /// The text is not a plain decimal amount (`-12.50`).
    #[error("`{0}` is not an amount (digits, optionally a `.` and decimals)")]
    InvalidAmount(Box<str>),
    /// The amount has more decimals than the currency's minor unit.
    #[error("`{amount}` has more decimals than {currency} has ({digits})")]
    TooManyDecimals {
        /// The amount as given.
        amount: Box<str>,
        /// The currency it was read in.
        currency: Currency,
        /// How many decimals the currency has.
        digits: u32,
    },
    /// Two amounts in different currencies were combined.
    #[error("cannot combine {left} with {right}")]
    CurrencyMismatch {
        /// The first amount's currency.
        left: Currency,
        /// The second amount's currency.
        right: Currency,
    },
    /// The result does not fit in 64 bits of minor units.
    #[error("amount overflows")]
    Overflow,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn currency_codes_are_three_letters() {
        assert_eq!(
            Currency::parse("chf").map(|c| c.to_string()),
            Ok("CHF".into())
        );
        for bad in ["", "EU", "EURO", "E1R", "€UR"] {
            assert!(Currency::parse(bad).is_err(), "{bad} accepted");
        }
        assert_eq!(
            Currency::parse("abc"),
            Err(MoneyError::UnknownCurrency("ABC".into()))
        );
    }

    fn money(minor: i64, code: &str) -> Money {
        Money::new(minor, Currency::parse(code).unwrap())
    }

    #[test]
    fn display_uses_each_currency_minor_unit() {
        assert_eq!(money(1_000, "JPY").to_string(), "1000 JPY");
        assert_eq!(money(-7, "JPY").to_string(), "-7 JPY");
        assert_eq!(money(1_000, "EUR").to_string(), "10.00 EUR");
        assert_eq!(money(-5, "EUR").to_string(), "-0.05 EUR");
        assert_eq!(money(1_000, "KWD").to_string(), "1.000 KWD");
        assert_eq!(money(12_345, "KWD").to_string(), "12.345 KWD");
        assert_eq!(money(i64::MIN, "EUR").decimal(), "-92233720368547758.08");
    }

    #[test]
    fn display_and_parse_round_trip_for_jpy_eur_and_kwd() {
        for code in ["JPY", "EUR", "KWD"] {
            for minor in [0, 1, -1, 999, 1_000, -123_456, i64::MAX, i64::MIN + 1] {
                let amount = money(minor, code);
                assert_eq!(amount.to_string().parse::<Money>(), Ok(amount));
                assert_eq!(
                    Money::parse_amount(&amount.decimal(), amount.currency()),
                    Ok(amount)
                );
            }
        }
    }

    #[test]
    fn parsing_refuses_more_decimals_than_the_currency_has() {
        let jpy = Currency::parse("JPY").unwrap();
        let eur = Currency::parse("EUR").unwrap();
        let kwd = Currency::parse("KWD").unwrap();
        assert_eq!(Money::parse_amount("1000", jpy), Ok(Money::new(1_000, jpy)));
        assert!(matches!(
            Money::parse_amount("1000.0", jpy),
            Err(MoneyError::TooManyDecimals { digits: 0, .. })
        ));
        assert_eq!(Money::parse_amount("12.5", eur), Ok(Money::new(1_250, eur)));
        assert!(matches!(
            Money::parse_amount("12.345", eur),
            Err(MoneyError::TooManyDecimals { digits: 2, .. })
        ));
        assert_eq!(Money::parse_amount("-0.005", kwd), Ok(Money::new(-5, kwd)));
        assert!(matches!(
            Money::parse_amount("0.0005", kwd),
            Err(MoneyError::TooManyDecimals { digits: 3, .. })
        ));
        for bad in [
            "", "-", "1.", ".5", "1,5", "1e3", "+1", "--1", "1.2.3", "١٢",
        ] {
            assert_eq!(
                Money::parse_amount(bad, eur),
                Err(MoneyError::InvalidAmount(bad.into())),
                "{bad:?}"
            );
        }
        assert_eq!(
            Money::parse_amount("99999999999999999999", eur),
            Err(MoneyError::Overflow)
        );
        assert!("12.50".parse::<Money>().is_err());
        assert!(matches!(
            "12.50 ABC".parse::<Money>(),
            Err(MoneyError::UnknownCurrency(_))
        ));
    }

    #[test]
    fn addition_overflow_is_an_error() {
        let eur = Currency::parse("EUR").unwrap();
        assert_eq!(
            Money::new(i64::MAX, eur).checked_add(Money::new(1, eur)),
            Err(MoneyError::Overflow)
        );
    }

    #[test]
    fn money_serde_round_trip() {
        let eur = Currency::parse("EUR").unwrap();
        let amount = Money::new(-1234, eur);
        let json = serde_json::to_string(&amount).unwrap();
        assert_eq!(json, r#"{"minor_units":-1234,"currency":"EUR"}"#);
        assert_eq!(serde_json::from_str::<Money>(&json).unwrap(), amount);
        assert_eq!(amount.to_string(), "-12.34 EUR");
    }
}
