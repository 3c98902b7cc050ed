//! The host's own profile fields: definitions (key, label, type, optional pattern,
//! required) and the check every write of a profile goes through.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::limits::{Input, TooLong};

/// What values a custom field takes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum CustomFieldKind {
    /// Any single line of text.
    Text,
    /// A decimal number (`12`, `-3.5`).
    Number,
    /// A calendar date, `YYYY-MM-DD`.
    Date,
    /// `yes` or `no`.
    YesNo,
    /// One of these values, exactly.
    Choice(Vec<String>),
}

/// A regular expression a custom field's whole value must match.
///
/// # Examples
///
/// ```
/// use customer_directory::settings::CustomFieldPattern;
/// let pattern = CustomFieldPattern::new("[A-Z]{2}[0-9]{4}")?;
/// assert!(pattern.matches("AB1234"));
/// assert!(!pattern.matches("xAB1234"), "the whole value must match");
/// assert!(CustomFieldPattern::new("(").is_err());
/// # Ok::<(), customer_directory::settings::CustomFieldError>(())
/// ```
#[derive(Clone)]
pub struct CustomFieldPattern {
    source: String,
    whole: regex::Regex,
}

impl CustomFieldPattern {
    /// Compiles `pattern` (the `regex` crate's syntax), anchored to the whole value.
    ///
    /// # Errors
    ///
    /// [`CustomFieldError::TooLong`] for a pattern over
    /// [`CUSTOM_FIELD_PATTERN_MAX_CHARS`](crate::limits::CUSTOM_FIELD_PATTERN_MAX_CHARS)
    /// (refused before it is compiled); [`CustomFieldError::InvalidPattern`] when it does not
    /// compile.
    pub fn new(pattern: &str) -> Result<Self, CustomFieldError> {
        TooLong::check(Input::CustomFieldPattern, pattern)?;
        let whole = regex::Regex::new(&format!("^(?:{pattern})$")).map_err(|error| {
            CustomFieldError::InvalidPattern {
                pattern: pattern.to_owned(),
                reason: error.to_string(),
            }
        })?;
        Ok(Self {
            source: pattern.to_owned(),
            whole,
        })
    }

    /// The pattern as written.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// Whether the whole of `value` matches.
    #[must_use]
    pub fn matches(&self, value: &str) -> bool {
        self.whole.is_match(value)
    }
}

impl fmt::Debug for CustomFieldPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CustomFieldPattern({:?})", self.source)
    }
}

impl PartialEq for CustomFieldPattern {
    fn eq(&self, other: &Self) -> bool {
        self.source == other.source
    }
}

impl Eq for CustomFieldPattern {}

impl Serialize for CustomFieldPattern {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.source)
    }
}

impl<'de> Deserialize<'de> for CustomFieldPattern {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let source = String::deserialize(deserializer)?;
        Self::new(&source).map_err(serde::de::Error::custom)
    }
}

/// One custom field the host defines.
///
/// # Examples
///
/// ```
/// use customer_directory::settings::{CustomFieldDefinition, CustomFieldKind};
/// let size = CustomFieldDefinition::new("wetsuit_size", "Wetsuit size", CustomFieldKind::Choice(vec!["S".into(), "M".into(), "L".into()]))?
///     .required();
/// assert!(size.required);
/// # Ok::<(), customer_directory::settings::CustomFieldError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CustomFieldDefinition {
    /// The key values are stored under (`[a-z0-9_]`, 1 to
    /// [`CUSTOM_FIELD_KEY_MAX_CHARS`](crate::limits::CUSTOM_FIELD_KEY_MAX_CHARS) characters).
    pub key: String,
    /// What staff see, at most
    /// [`CUSTOM_FIELD_LABEL_MAX_CHARS`](crate::limits::CUSTOM_FIELD_LABEL_MAX_CHARS) characters.
    pub label: String,
    /// What values it takes.
    pub kind: CustomFieldKind,
    /// A pattern the whole value must also match.
    pub pattern: Option<CustomFieldPattern>,
    /// Whether staff must fill it when they create or edit a profile (booking forms are not
    /// held to it).
    pub required: bool,
}

impl CustomFieldDefinition {
    /// An optional field without pattern.
    ///
    /// # Errors
    ///
    /// [`CustomFieldError::InvalidKey`] for a key that is empty, longer than
    /// [`CUSTOM_FIELD_KEY_MAX_CHARS`](crate::limits::CUSTOM_FIELD_KEY_MAX_CHARS) or not
    /// lower-case ASCII letters, digits and `_`; [`CustomFieldError::TooLong`] for a label or
    /// a choice over its [limit](crate::limits).
    pub fn new(key: &str, label: &str, kind: CustomFieldKind) -> Result<Self, CustomFieldError> {
        TooLong::check(Input::CustomFieldLabel, label)?;
        if let CustomFieldKind::Choice(choices) = &kind {
            for choice in choices {
                TooLong::check(Input::CustomFieldChoice, choice)?;
            }
        }
        let valid = (1..=crate::limits::CUSTOM_FIELD_KEY_MAX_CHARS).contains(&key.len())
            && key
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if !valid {
            return Err(CustomFieldError::InvalidKey(shortened(key)));
        }
        Ok(Self {
            key: key.to_owned(),
            label: label.to_owned(),
            kind,
            pattern: None,
            required: false,
        })
    }

    /// The same field, with values also held to `pattern`.
    #[must_use]
    pub fn with_pattern(mut self, pattern: CustomFieldPattern) -> Self {
        self.pattern = Some(pattern);
        self
    }

    /// The same field, required from staff.
    #[must_use]
    pub fn required(mut self) -> Self {
        self.required = true;
        self
    }

    /// Checks one value against the type and the pattern.
    ///
    /// # Errors
    ///
    /// [`CustomFieldError`] naming the rule broken.
    pub fn check(&self, value: &str) -> Result<(), CustomFieldError> {
        match &self.kind {
            CustomFieldKind::Text => {}
            CustomFieldKind::Number => {
                let numeric = value.parse::<f64>().is_ok_and(f64::is_finite)
                    && value
                        .bytes()
                        .all(|b| b.is_ascii_digit() || b == b'.' || b == b'-');
                if !numeric {
                    return Err(CustomFieldError::NotANumber);
                }
            }
            CustomFieldKind::Date => {
                if chrono::NaiveDate::parse_from_str(value, "%Y-%m-%d").is_err() {
                    return Err(CustomFieldError::NotADate);
                }
            }
            CustomFieldKind::YesNo => {
                if value != "yes" && value != "no" {
                    return Err(CustomFieldError::NotYesNo);
                }
            }
            CustomFieldKind::Choice(choices) => {
                if !choices.iter().any(|choice| choice == value) {
                    return Err(CustomFieldError::NotAChoice {
                        choices: choices.clone(),
                    });
                }
            }
        }
        match &self.pattern {
            Some(pattern) if !pattern.matches(value) => Err(CustomFieldError::PatternMismatch {
                pattern: pattern.as_str().to_owned(),
            }),
            _ => Ok(()),
        }
    }
}

/// Why a custom field definition or value was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CustomFieldError {
    /// The key is not lower-case ASCII letters, digits and `_`, 1 to 64 characters (a
    /// longer key is shown cut short).
    #[error("`{0}` is not a valid custom field key (lower-case letters, digits and _, at most 64)")]
    InvalidKey(String),
    /// The pattern does not compile.
    #[error("the pattern `{pattern}` is invalid: {reason}")]
    InvalidPattern {
        /// The pattern.
        pattern: String,
        /// Why.
        reason: String,
    },
    /// No field with this key is defined.
    #[error("is not a defined custom field")]
    Undefined,
    /// The field is required and has no value.
    #[error("is required")]
    Missing,
    /// Not a number.
    #[error("is not a number")]
    NotANumber,
    /// Not a `YYYY-MM-DD` date.
    #[error("is not a date (YYYY-MM-DD)")]
    NotADate,
    /// Neither `yes` nor `no`.
    #[error("must be yes or no")]
    NotYesNo,
    /// Not one of the choices.
    #[error("must be one of: {}", choices.join(", "))]
    NotAChoice {
        /// The allowed values.
        choices: Vec<String>,
    },
    /// The value does not match the field's pattern.
    #[error("does not match the pattern `{pattern}`")]
    PatternMismatch {
        /// The pattern.
        pattern: String,
    },
    /// A key, label, pattern or choice is longer than its [limit](crate::limits).
    #[error(transparent)]
    TooLong(#[from] TooLong),
}

/// `key` as an error shows it: cut to the longest key allowed, marked with `…` when cut, so
/// an absurd key is not copied whole into every message.
pub(crate) fn shortened(key: &str) -> String {
    let max = crate::limits::CUSTOM_FIELD_KEY_MAX_CHARS;
    match key.char_indices().nth(max) {
        Some((end, _)) => format!("{}…", &key[..end]),
        None => key.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::limits;

    #[test]
    fn definitions_hold_labels_patterns_and_choices_to_their_limits() {
        let long = |max: usize| "é".repeat(max + 1);
        let refused = |input: Input, max: usize| {
            Err::<(), _>(CustomFieldError::TooLong(TooLong {
                input,
                length: max + 1,
                max,
            }))
        };
        let label = limits::CUSTOM_FIELD_LABEL_MAX_CHARS;
        assert_eq!(
            CustomFieldDefinition::new("k", &long(label), CustomFieldKind::Text).map(drop),
            refused(Input::CustomFieldLabel, label)
        );
        let choice = limits::CUSTOM_FIELD_CHOICE_MAX_CHARS;
        let kind = CustomFieldKind::Choice(vec!["a".into(), long(choice)]);
        assert_eq!(
            CustomFieldDefinition::new("k", "K", kind).map(drop),
            refused(Input::CustomFieldChoice, choice)
        );
        // Refused before compiling: an over-long valid pattern would compile.
        let pattern = limits::CUSTOM_FIELD_PATTERN_MAX_CHARS;
        assert_eq!(
            CustomFieldPattern::new(&"a".repeat(pattern + 1)).map(drop),
            refused(Input::CustomFieldPattern, pattern)
        );
        assert!(CustomFieldPattern::new(&"a".repeat(pattern)).is_ok());
        let at_limit = CustomFieldKind::Choice(vec!["é".repeat(choice)]);
        assert!(CustomFieldDefinition::new("k", &"é".repeat(label), at_limit).is_ok());
    }

    #[test]
    fn an_over_long_key_is_shown_cut_short() {
        let max = limits::CUSTOM_FIELD_KEY_MAX_CHARS;
        assert_eq!(shortened(&"k".repeat(max)), "k".repeat(max));
        assert_eq!(
            shortened(&"k".repeat(1_000)),
            format!("{}…", "k".repeat(max))
        );
        match CustomFieldDefinition::new(&"k".repeat(1_000), "K", CustomFieldKind::Text) {
            Err(CustomFieldError::InvalidKey(shown)) => assert!(shown.chars().count() <= max + 1),
            other => panic!("expected InvalidKey, got {other:?}"),
        }
    }
}
