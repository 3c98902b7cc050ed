//! Free-text personal values (names, address lines, custom field values) and the one
//! normalisation used to compare them.

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use unicode_normalization::UnicodeNormalization;

/// The form two personal values are compared in: NFKC, Unicode case folding and white
/// space collapsed to single spaces, so `"Ana  MARÍA"` and `"ana maría"` agree.
///
/// This is the only place the comparison rule lives; attribution, the suggestion keys and
/// duplicate detection all call it. Most names, postcodes and address lines are ASCII, and
/// on ASCII NFKC changes nothing and case folding is ASCII lower case, so they skip the
/// Unicode tables; text already in matching form (a postcode of digits, a lower-case word)
/// is borrowed, not copied.
pub(crate) fn matching_form(text: &str) -> Cow<'_, str> {
    if text.is_ascii() {
        ascii_matching_form(text)
    } else {
        Cow::Owned(general_matching_form(text))
    }
}

/// [`matching_form`] of ASCII text: lower case, white space collapsed.
fn ascii_matching_form(text: &str) -> Cow<'_, str> {
    // `is_ascii_whitespace` leaves out U+000B (vertical tab), which Unicode (and so
    // `split_whitespace`) counts as white space.
    let is_other_space = |b: &u8| (b.is_ascii_whitespace() && *b != b' ') || *b == 0x0b;
    let settled = !text
        .bytes()
        .any(|b| b.is_ascii_uppercase() || is_other_space(&b))
        && !text.starts_with(' ')
        && !text.ends_with(' ')
        && !text.contains("  ");
    if settled {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    for word in text.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.extend(word.chars().map(|c| c.to_ascii_lowercase()));
    }
    Cow::Owned(out)
}

/// [`matching_form`] of any text, through the Unicode tables.
fn general_matching_form(text: &str) -> String {
    let folded = caseless::default_case_fold_str(&text.nfkc().collect::<String>());
    let mut out = String::with_capacity(folded.len());
    for word in folded.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

/// The form names and search text are sorted and searched in: compatibility decomposition
/// with the accents (combining marks) removed, then [`matching_form`], so `"Élodie  Núñez"`
/// becomes `"elodie nunez"` and a search for `nunez` finds it.
pub(crate) fn sort_form(text: &str) -> String {
    let bare: String = text
        .nfkd()
        .filter(|c| !unicode_normalization::char::is_combining_mark(*c))
        .collect();
    matching_form(&bare).into_owned()
}

/// Bidirectional embedding, override and isolate controls: invisible, and used to make
/// text display differently from what it is.
fn is_bidi_control(character: char) -> bool {
    matches!(character, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Checks the rules shared by every single-line text value and returns it trimmed.
pub(crate) fn clean_line(raw: &str, max_chars: usize) -> Result<&str, TextError> {
    let text = raw.trim();
    if text.is_empty() {
        return Err(TextError::Empty);
    }
    if let Some((position, character)) = text
        .char_indices()
        .find(|&(_, c)| c.is_control() || is_bidi_control(c))
    {
        return Err(TextError::ForbiddenCharacter {
            character,
            position,
        });
    }
    let length = text.chars().count();
    if length > max_chars {
        return Err(TextError::TooLong {
            length,
            max: max_chars,
        });
    }
    Ok(text)
}

macro_rules! text_value {
    ($(#[$doc:meta])* $name:ident, max = $max:expr, example = $example:literal) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(Box<str>);

        impl $name {
            /// The longest value accepted, in Unicode scalar values.
            pub const MAX_CHARS: usize = $max;

            /// Trims surrounding white space and checks the value: not empty, no control or
            /// bidirectional control characters, at most [`Self::MAX_CHARS`] characters.
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("use customer_directory::values::", stringify!($name), ";")]
            #[doc = concat!("let value = ", stringify!($name), "::parse(\"  ", $example, " \")?;")]
            #[doc = concat!("assert_eq!(value.as_str(), \"", $example, "\");")]
            #[doc = concat!("assert!(", stringify!($name), "::parse(\"  \").is_err());")]
            /// # Ok::<(), customer_directory::values::TextError>(())
            /// ```
            pub fn parse(raw: &str) -> Result<Self, TextError> {
                clean_line(raw, Self::MAX_CHARS).map(|text| Self(text.into()))
            }

            /// The value as entered, trimmed.
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("use customer_directory::values::", stringify!($name), ";")]
            #[doc = concat!("assert_eq!(", stringify!($name), "::parse(\"", $example, "\")?.as_str(), \"", $example, "\");")]
            /// # Ok::<(), customer_directory::values::TextError>(())
            /// ```
            #[must_use]
            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// Whether two values are the same once normalised (NFKC, case folded, white
            /// space collapsed).
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("use customer_directory::values::", stringify!($name), ";")]
            #[doc = concat!("let a = ", stringify!($name), "::parse(\"", $example, "\")?;")]
            #[doc = concat!("let b = ", stringify!($name), "::parse(&\"", $example, "\".to_uppercase())?;")]
            /// assert!(a.matches(&b));
            /// # Ok::<(), customer_directory::values::TextError>(())
            /// ```
            #[must_use]
            pub fn matches(&self, other: &Self) -> bool {
                self.0 == other.0 || matching_form(&self.0) == matching_form(&other.0)
            }
        }

        impl FromStr for $name {
            type Err = TextError;
            fn from_str(raw: &str) -> Result<Self, Self::Err> {
                Self::parse(raw)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.pad(&self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({:?})", stringify!($name), &*self.0)
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(&self.0)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
                Self::parse(&text).map_err(serde::de::Error::custom)
            }
        }
    };
}

text_value!(
    /// A person's given, family or display name, as they wrote it.
    ///
    /// Any script is accepted; only what cannot be part of a name on one line is refused.
    /// Compare with [`PersonName::matches`], which ignores case, width and spacing.
    PersonName,
    max = crate::limits::PERSON_NAME_MAX_CHARS,
    example = "Ana María"
);

text_value!(
    /// A single line of personal text other than a name: an address line, a city, a
    /// postcode, a custom field's value.
    Text,
    max = crate::limits::TEXT_MAX_CHARS,
    example = "12 Harbour Road"
);

/// Why a name or text value was refused.
///
/// # Examples
///
/// ```
/// use customer_directory::PersonName;
/// use customer_directory::values::TextError;
/// assert_eq!(PersonName::parse(""), Err(TextError::Empty));
/// assert!(matches!(
///     PersonName::parse("Ann\u{202E}"),
///     Err(TextError::ForbiddenCharacter { character: '\u{202E}', position: 3 })
/// ));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TextError {
    /// Nothing but white space was given.
    #[error("is empty")]
    Empty,
    /// A control or bidirectional control character was found.
    #[error("contains the invisible or control character {character:?} at byte {position}")]
    ForbiddenCharacter {
        /// The character found.
        character: char,
        /// Its byte offset in the trimmed text.
        position: usize,
    },
    /// The value is longer than allowed.
    #[error("is {length} characters long, more than the {max} allowed")]
    TooLong {
        /// Its length in Unicode scalar values.
        length: usize,
        /// The limit.
        max: usize,
    },
}

/// An ISO 3166-1 alpha-2 country or region code (`GB`, `DE`, `US`), used for addresses
/// and as the default region when reading national phone numbers.
///
/// # Examples
///
/// ```
/// use customer_directory::values::CountryCode;
/// assert_eq!(CountryCode::parse("gb")?.as_str(), "GB");
/// assert!(CountryCode::parse("GBR").is_err());
/// # Ok::<(), customer_directory::values::TextError>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CountryCode([u8; 2]);

impl CountryCode {
    /// Parses a two-letter code in either case.
    ///
    /// # Examples
    ///
    /// ```
    /// use customer_directory::values::CountryCode;
    /// assert_eq!(CountryCode::parse(" de ")?.to_string(), "DE");
    /// # Ok::<(), customer_directory::values::TextError>(())
    /// ```
    pub fn parse(raw: &str) -> Result<Self, TextError> {
        let code = raw.trim();
        match code.as_bytes() {
            [a, b] if a.is_ascii_alphabetic() && b.is_ascii_alphabetic() => {
                Ok(Self([a.to_ascii_uppercase(), b.to_ascii_uppercase()]))
            }
            [] => Err(TextError::Empty),
            _ => Err(TextError::TooLong {
                length: code.chars().count(),
                max: 2,
            }),
        }
    }

    /// The code, upper case.
    ///
    /// # Examples
    ///
    /// ```
    /// use customer_directory::values::CountryCode;
    /// assert_eq!(CountryCode::parse("fr")?.as_str(), "FR");
    /// # Ok::<(), customer_directory::values::TextError>(())
    /// ```
    #[must_use]
    pub fn as_str(&self) -> &str {
        // Only ASCII letters are ever stored.
        std::str::from_utf8(&self.0).unwrap_or("ZZ")
    }
}

impl FromStr for CountryCode {
    type Err = TextError;
    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        Self::parse(raw)
    }
}

impl fmt::Display for CountryCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

impl fmt::Debug for CountryCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CountryCode({})", self.as_str())
    }
}

impl Serialize for CountryCode {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for CountryCode {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        Self::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matching_form_folds_case_width_and_spacing() {
        assert_eq!(matching_form("  Ana \t MARÍA "), "ana maría");
        assert_eq!(matching_form("Straße"), matching_form("STRASSE"));
        assert_eq!(matching_form("Ｊｏｈｎ"), "john");
        assert_ne!(matching_form("Jon"), matching_form("John"));
    }

    #[test]
    fn ascii_text_already_in_matching_form_is_borrowed() {
        for settled in ["", "ana", "ana maria", "12345", "o'brien-smith"] {
            assert!(
                matches!(matching_form(settled), Cow::Borrowed(_)),
                "{settled:?}"
            );
        }
        for unsettled in ["Ana", " ana", "ana ", "ana  maria", "ana\tmaria", "a\u{b}b"] {
            assert!(
                matches!(matching_form(unsettled), Cow::Owned(_)),
                "{unsettled:?}"
            );
        }
    }

    // The ASCII fast path is private, so its agreement with the general path is
    // property-tested here rather than in tests/.
    mod fast_path {
        use super::super::*;
        use proptest::prelude::*;

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(4096))]

            /// Any ASCII, dense in case and every kind of white space.
            #[test]
            fn ascii_fast_path_agrees_with_the_general_path(
                text in "[ \t\n\x0b\x0c\raAzZ09'-]{0,40}|[\x00-\x7f]{0,40}"
            ) {
                prop_assert_eq!(ascii_matching_form(&text), general_matching_form(&text));
            }

            /// Any text: non-ASCII takes the general path, ASCII the fast one, and both
            /// give what the general path gives.
            #[test]
            fn matching_form_is_the_general_path(text in any::<String>()) {
                prop_assert_eq!(matching_form(&text), general_matching_form(&text));
            }
        }
    }

    #[test]
    fn names_refuse_control_and_bidi_characters() {
        assert!(PersonName::parse("Ann\nSmith").is_err());
        assert!(PersonName::parse("\u{2066}Ann").is_err());
        assert!(PersonName::parse("Zoë O'Brien-Łukasz").is_ok());
    }

    #[test]
    fn length_counts_characters_not_bytes() {
        let limit = "é".repeat(PersonName::MAX_CHARS);
        assert!(PersonName::parse(&limit).is_ok());
        assert_eq!(
            PersonName::parse(&format!("{limit}é")),
            Err(TextError::TooLong {
                length: PersonName::MAX_CHARS + 1,
                max: PersonName::MAX_CHARS
            })
        );
    }

    #[test]
    fn names_match_after_normalisation() {
        let a = PersonName::parse("JOSÉ  garcía").unwrap();
        let b = PersonName::parse("José García").unwrap();
        let c = PersonName::parse("Jose Garcia").unwrap();
        assert!(a.matches(&b));
        assert!(!a.matches(&c), "accents are significant");
    }
}
