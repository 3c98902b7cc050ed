//! Phone numbers, stored and compared in E.164 form through the `phonenumber` crate.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::values::text::CountryCode;

/// A valid phone number in E.164 form (`+441632960961`), with what was typed kept for display.
///
/// National numbers (`01632 960961`) need a default region, which the directory takes from
/// [`DirectorySettings::default_phone_region`](crate::settings::DirectorySettings::default_phone_region).
/// Two `Phone`s are equal when their E.164 forms are.
///
/// # Examples
///
/// ```
/// use customer_directory::values::CountryCode;
/// use customer_directory::Phone;
/// let gb = CountryCode::parse("GB")?;
/// let national = Phone::parse("020 7946 0958", Some(gb))?;
/// let international = Phone::parse("+44 20 7946 0958", None)?;
/// assert_eq!(national, international);
/// assert_eq!(national.e164(), "+442079460958");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct Phone {
    e164: Box<str>,
    as_entered: Box<str>,
}

/// The longest input worth handing to the parser; no real number comes close.
const MAX_INPUT_CHARS: usize = crate::limits::PHONE_MAX_CHARS;

impl Phone {
    /// Parses and validates a number, using `default_region` for numbers written without a
    /// country calling code.
    ///
    /// # Examples
    ///
    /// ```
    /// use customer_directory::Phone;
    /// use customer_directory::values::PhoneError;
    /// assert_eq!(Phone::parse("", None).unwrap_err(), PhoneError::Empty);
    /// assert!(matches!(Phone::parse("12", None), Err(PhoneError::Invalid { .. })));
    /// ```
    pub fn parse(raw: &str, default_region: Option<CountryCode>) -> Result<Self, PhoneError> {
        let text = raw.trim();
        if text.is_empty() {
            return Err(PhoneError::Empty);
        }
        if text.chars().count() > MAX_INPUT_CHARS || text.chars().any(char::is_control) {
            return Err(PhoneError::Invalid { input: text.into() });
        }
        let region = match default_region {
            Some(code) => Some(
                code.as_str()
                    .parse::<phonenumber::country::Id>()
                    .map_err(|_| PhoneError::UnknownRegion(code))?,
            ),
            None => None,
        };
        let number = phonenumber::parse(region, text)
            .ok()
            .filter(phonenumber::is_valid)
            .ok_or_else(|| PhoneError::Invalid { input: text.into() })?;
        let e164 = number.format().mode(phonenumber::Mode::E164).to_string();
        // The parser accepts some over-long numbers as valid; E.164 allows 15 digits at most,
        // and a number must load back from storage exactly as it was accepted.
        if !is_e164_shaped(&e164) {
            return Err(PhoneError::Invalid { input: text.into() });
        }
        Ok(Self {
            e164: e164.into(),
            as_entered: text.into(),
        })
    }

    /// The E.164 form, used for matching and storage.
    ///
    /// # Examples
    ///
    /// ```
    /// use customer_directory::Phone;
    /// assert_eq!(Phone::parse("+1 (415) 555-0132", None)?.e164(), "+14155550132");
    /// # Ok::<(), customer_directory::values::PhoneError>(())
    /// ```
    #[must_use]
    pub fn e164(&self) -> &str {
        &self.e164
    }

    /// The number as the person typed it, trimmed.
    ///
    /// # Examples
    ///
    /// ```
    /// use customer_directory::Phone;
    /// assert_eq!(Phone::parse(" +1 (415) 555-0132", None)?.as_entered(), "+1 (415) 555-0132");
    /// # Ok::<(), customer_directory::values::PhoneError>(())
    /// ```
    #[must_use]
    pub fn as_entered(&self) -> &str {
        &self.as_entered
    }

    /// Rebuilds a number from its stored parts without running the parser again.
    ///
    /// Storage adapters use this; the E.164 text is checked for shape (`+` and 8 to 15
    /// digits).
    ///
    /// # Examples
    ///
    /// ```
    /// use customer_directory::Phone;
    /// let phone = Phone::from_stored("+442079460958", "020 7946 0958")?;
    /// assert_eq!(phone.e164(), "+442079460958");
    /// assert!(Phone::from_stored("442079460958", "x").is_err());
    /// # Ok::<(), customer_directory::values::PhoneError>(())
    /// ```
    pub fn from_stored(e164: &str, as_entered: &str) -> Result<Self, PhoneError> {
        if !is_e164_shaped(e164) {
            return Err(PhoneError::Invalid { input: e164.into() });
        }
        Ok(Self {
            e164: e164.into(),
            as_entered: as_entered.into(),
        })
    }
}

/// `+` then 8 to 15 digits: the shape of every number this type holds.
fn is_e164_shaped(e164: &str) -> bool {
    let digits = e164.strip_prefix('+').unwrap_or("");
    (8..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit())
}

impl PartialEq for Phone {
    fn eq(&self, other: &Self) -> bool {
        self.e164 == other.e164
    }
}

impl Eq for Phone {}

impl std::hash::Hash for Phone {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.e164.hash(state);
    }
}

impl fmt::Display for Phone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(&self.as_entered)
    }
}

impl fmt::Debug for Phone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Phone({})", self.e164)
    }
}

#[derive(Serialize, Deserialize)]
struct StoredPhone<'a> {
    e164: std::borrow::Cow<'a, str>,
    as_entered: std::borrow::Cow<'a, str>,
}

impl Serialize for Phone {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        StoredPhone {
            e164: (&*self.e164).into(),
            as_entered: (&*self.as_entered).into(),
        }
        .serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Phone {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let stored = StoredPhone::deserialize(deserializer)?;
        Self::from_stored(&stored.e164, &stored.as_entered).map_err(serde::de::Error::custom)
    }
}

/// Why a phone number was refused.
///
/// # Examples
///
/// ```
/// use customer_directory::Phone;
/// use customer_directory::values::PhoneError;
/// let err = Phone::parse("call me", None).unwrap_err();
/// assert_eq!(err.to_string(), "`call me` is not a valid phone number");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PhoneError {
    /// Nothing was given.
    #[error("is empty")]
    Empty,
    /// The text is not a valid number (for the default region, if it has no `+` prefix).
    #[error("`{input}` is not a valid phone number")]
    Invalid {
        /// The trimmed input.
        input: Box<str>,
    },
    /// The default region is not one the numbering plan data knows.
    #[error("no numbering plan is known for region {0}")]
    UnknownRegion(CountryCode),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn national_numbers_need_a_region() {
        assert!(Phone::parse("020 7946 0958", None).is_err());
        let gb = CountryCode::parse("GB").unwrap();
        assert_eq!(
            Phone::parse("020 7946 0958", Some(gb)).map(|p| p.e164().to_owned()),
            Ok("+442079460958".to_owned())
        );
    }

    #[test]
    fn unknown_region_is_reported() {
        let nowhere = CountryCode::parse("QQ").unwrap();
        assert_eq!(
            Phone::parse("020 7946 0958", Some(nowhere)),
            Err(PhoneError::UnknownRegion(nowhere))
        );
    }

    /// Found by fuzzing: the parser called this 17-digit number valid.
    #[test]
    fn numbers_longer_than_e164_allows_are_refused() {
        let de = CountryCode::parse("DE").unwrap();
        assert!(Phone::parse("45 27946050000TO", Some(de)).is_err());
        assert!(Phone::parse("+49452794605000086", None).is_err());
    }

    #[test]
    fn every_accepted_number_loads_back_from_storage() {
        let gb = CountryCode::parse("GB").unwrap();
        let phone = Phone::parse("020 7946 0958", Some(gb)).unwrap();
        assert_eq!(
            Phone::from_stored(phone.e164(), phone.as_entered()),
            Ok(phone)
        );
    }

    #[test]
    fn hostile_input_is_refused_not_parsed() {
        assert!(Phone::parse(&"9".repeat(10_000), None).is_err());
        assert!(Phone::parse("+44 20\n7946 0958", None).is_err());
    }

    #[test]
    fn serde_round_trip_keeps_both_forms() {
        let phone = Phone::parse("+44 20 7946 0958", None).unwrap();
        let json = serde_json::to_string(&phone).unwrap();
        let back: Phone = serde_json::from_str(&json).unwrap();
        assert_eq!(back, phone);
        assert_eq!(back.as_entered(), "+44 20 7946 0958");
    }
}
