//! Amounts of money: integer minor units and an ISO 4217 currency code, never floats.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// An ISO 4217 alphabetic currency code such as `EUR` or `USD`.
///
/// The code is checked for shape (three ASCII letters, stored upper case), not against the
/// ISO list, so that a host can use a currency added after this crate was released.
///
/// # Examples
///
/// ```
/// use customer_directory::Currency;
/// let eur: Currency = "eur".parse()?;
/// assert_eq!(eur.as_str(), "EUR");
/// assert!("EURO".parse::<Currency>().is_err());
/// # Ok::<(), customer_directory::values::MoneyError>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Currency([u8; 3]);

impl Currency {
    /// Parses a three-letter code, accepting either case.
    ///
    /// # Examples
    ///
    /// ```
    /// use customer_directory::Currency;
    /// assert_eq!(Currency::parse(" usd ")?.as_str(), "USD");
    /// # Ok::<(), customer_directory::values::MoneyError>(())
    /// ```
    pub fn parse(code: &str) -> Result<Self, MoneyError> {
        match code.trim().as_bytes() {
            [a, b, c] if [a, b, c].iter().all(|byte| byte.is_ascii_alphabetic()) => Ok(Self([
                a.to_ascii_uppercase(),
                b.to_ascii_uppercase(),
                c.to_ascii_uppercase(),
            ])),
            _ => Err(MoneyError::InvalidCurrency(code.into())),
        }
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

/// An amount in the currency's minor unit (cents for EUR), so sums are exact.
///
/// # Examples
///
/// ```
/// use customer_directory::{Currency, Money};
/// let price = Money::new(12_50, Currency::parse("EUR")?);
/// assert_eq!(price.to_string(), "12.50 EUR");
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
}

impl fmt::Display for Money {
    /// Shows two decimal places, the minor unit of most currencies.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.minor_units < 0 { "-" } else { "" };
        let units = self.minor_units.unsigned_abs();
        write!(
            f,
            "{sign}{}.{:02} {}",
            units / 100,
            units % 100,
            self.currency
        )
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
