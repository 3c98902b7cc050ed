//! Contact details as a person typed them, checked into a [`Profile`]: every invalid field
//! reported at once, custom fields checked against the definitions in the settings.

use std::collections::BTreeMap;
use std::fmt;

use crate::limits::{Input, TooLong};
use crate::records::profile::{Detail, PostalAddress, Profile};
use crate::settings::DirectorySettings;
use crate::settings::custom_fields::{CustomFieldError, shortened};
use crate::values::email::EmailError;
use crate::values::email::address::EmailAddress;
use crate::values::phone::{Phone, PhoneError};
use crate::values::text::{CountryCode, PersonName, Text, TextError};

/// Contact details exactly as typed into a form, before validation.
///
/// [`ContactForm::parse`] turns it into a [`Profile`], reporting every invalid field at once.
/// Empty fields become `None`.
///
/// # Examples
///
/// ```
/// use customer_directory::{ContactForm, DirectorySettings};
/// use customer_directory::records::Detail;
/// let settings = DirectorySettings::default();
/// let form = ContactForm {
///     given_name: "Ana".into(),
///     email: "not an email".into(),
///     phone: "12".into(),
///     ..ContactForm::default()
/// };
/// let errors = form.parse(&settings).unwrap_err();
/// let fields: Vec<&Detail> = errors.problems().iter().map(|p| &p.detail).collect();
/// assert_eq!(fields, [&Detail::Email, &Detail::Phone]);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[allow(missing_docs)] // each field is the raw text of the `Profile` field of the same name
pub struct ContactForm {
    pub given_name: String,
    pub family_name: String,
    pub display_name: String,
    pub email: String,
    pub phone: String,
    pub address_line1: String,
    pub address_line2: String,
    pub city: String,
    pub region: String,
    pub postcode: String,
    pub country: String,
    /// Custom field values by key; empty values are dropped.
    pub custom_fields: Vec<(String, String)>,
}

impl ContactForm {
    /// Validates every field, using the settings' email key policy and default phone region.
    ///
    /// # Errors
    ///
    /// [`ValidationErrors`] listing every field that is invalid, in form order.
    ///
    /// # Examples
    ///
    /// ```
    /// use customer_directory::{ContactForm, DirectorySettings};
    /// let form = ContactForm { email: " Ana@Example.COM ".into(), ..ContactForm::default() };
    /// let profile = form.parse(&DirectorySettings::default())?;
    /// assert_eq!(profile.email.map(|e| e.key().to_string()), Some("ana@example.com".into()));
    /// # Ok::<(), customer_directory::records::ValidationErrors>(())
    /// ```
    pub fn parse(&self, settings: &DirectorySettings) -> Result<Profile, ValidationErrors> {
        let mut problems = Vec::new();
        let problems = &mut problems;
        let name = |raw: &str| PersonName::parse(raw).map_err(FieldError::from);
        let text = |raw: &str| Text::parse(raw).map_err(FieldError::from);
        let mut custom_fields = BTreeMap::new();
        let profile = Profile {
            given_name: optional(problems, Detail::GivenName, &self.given_name, name),
            family_name: optional(problems, Detail::FamilyName, &self.family_name, name),
            display_name: optional(problems, Detail::DisplayName, &self.display_name, name),
            email: optional(problems, Detail::Email, &self.email, |raw| {
                EmailAddress::parse_with_policy(raw, settings.email_key_policy)
                    .map_err(FieldError::from)
            }),
            phone: optional(problems, Detail::Phone, &self.phone, |raw| {
                Phone::parse(raw, settings.default_phone_region).map_err(FieldError::from)
            }),
            address: PostalAddress {
                line1: optional(problems, Detail::AddressLine1, &self.address_line1, text),
                line2: optional(problems, Detail::AddressLine2, &self.address_line2, text),
                city: optional(problems, Detail::City, &self.city, text),
                region: optional(problems, Detail::Region, &self.region, text),
                postcode: optional(problems, Detail::Postcode, &self.postcode, text),
                country: optional(problems, Detail::Country, &self.country, |raw| {
                    CountryCode::parse(raw).map_err(FieldError::from)
                }),
            },
            custom_fields: BTreeMap::new(),
        };
        for (key, raw) in &self.custom_fields {
            if let Some(value) = optional(problems, Detail::CustomField(key.clone()), raw, text) {
                custom_fields.insert(key.clone(), value);
            }
        }
        let profile = Profile {
            custom_fields,
            ..profile
        };
        problems.extend(crate::records::contact_form::custom_field_problems(
            settings, &profile, false,
        ));
        if problems.is_empty() {
            Ok(profile)
        } else {
            Err(ValidationErrors {
                problems: std::mem::take(problems),
            })
        }
    }
}

/// Parses one optional form field: blank is `None`, invalid is recorded in `problems`.
fn optional<T>(
    problems: &mut Vec<FieldProblem>,
    detail: Detail,
    raw: &str,
    parse: impl FnOnce(&str) -> Result<T, FieldError>,
) -> Option<T> {
    if raw.trim().is_empty() {
        return None;
    }
    parse(raw)
        .map_err(|error| problems.push(FieldProblem { detail, error }))
        .ok()
}

/// Why one field of a [`ContactForm`] was refused.
///
/// # Examples
///
/// ```
/// use customer_directory::records::FieldError;
/// use customer_directory::values::TextError;
/// assert_eq!(FieldError::Text(TextError::Empty).to_string(), "is empty");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FieldError {
    /// A name or text field.
    #[error(transparent)]
    Text(#[from] TextError),
    /// The email address.
    #[error(transparent)]
    Email(#[from] EmailError),
    /// The phone number.
    #[error(transparent)]
    Phone(#[from] PhoneError),
    /// A custom field's value, against its definition.
    #[error(transparent)]
    CustomField(#[from] crate::settings::custom_fields::CustomFieldError),
}

/// One invalid field: which detail, and why.
///
/// # Examples
///
/// ```
/// use customer_directory::records::{Detail};
/// use customer_directory::records::{FieldError, FieldProblem};
/// use customer_directory::values::TextError;
/// let problem = FieldProblem { detail: Detail::City, error: FieldError::Text(TextError::Empty) };
/// assert_eq!(problem.to_string(), "city: is empty");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{detail}: {error}")]
pub struct FieldProblem {
    /// The field.
    pub detail: Detail,
    /// What is wrong with it.
    #[source]
    pub error: FieldError,
}

/// Every problem found in one input, so a form can show them all at once.
///
/// # Examples
///
/// ```
/// use customer_directory::{ContactForm, DirectorySettings};
/// let form = ContactForm { email: "a@b".into(), country: "Portugal".into(), ..ContactForm::default() };
/// let errors = form.parse(&DirectorySettings::default()).unwrap_err();
/// assert_eq!(errors.problems().len(), 2);
/// assert!(errors.to_string().starts_with("2 invalid fields: email: "));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidationErrors {
    pub(crate) problems: Vec<FieldProblem>,
}

impl ValidationErrors {
    /// The problems, in the order the fields were checked.
    ///
    /// # Examples
    ///
    /// ```
    /// use customer_directory::{ContactForm, DirectorySettings};
    /// use customer_directory::records::Detail;
    /// let form = ContactForm { phone: "x".into(), ..ContactForm::default() };
    /// let errors = form.parse(&DirectorySettings::default()).unwrap_err();
    /// assert_eq!(errors.problems()[0].detail, Detail::Phone);
    /// ```
    #[must_use]
    pub fn problems(&self) -> &[FieldProblem] {
        &self.problems
    }
}

impl fmt::Display for ValidationErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let count = self.problems.len();
        write!(
            f,
            "{count} invalid field{}: ",
            if count == 1 { "" } else { "s" }
        )?;
        for (index, problem) in self.problems.iter().enumerate() {
            if index > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{problem}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ValidationErrors {}

/// The problems of `profile`'s custom fields under `settings`: undefined keys and invalid
/// values, and (when `require` is set) required fields left empty. With no definitions,
/// custom fields are free-form and nothing is checked.
pub(crate) fn custom_field_problems(
    settings: &DirectorySettings,
    profile: &Profile,
    require: bool,
) -> Vec<FieldProblem> {
    let definitions = &settings.custom_fields;
    let mut problems = Vec::new();
    let mut problem = |key: &str, error: CustomFieldError| {
        problems.push(FieldProblem {
            detail: Detail::CustomField(shortened(key)),
            error: FieldError::CustomField(error),
        });
    };
    // Keys are bounded even when custom fields are free-form.
    for key in profile.custom_fields.keys() {
        if let Err(too_long) = TooLong::check(Input::CustomFieldKey, key) {
            problem(key, CustomFieldError::TooLong(too_long));
        }
    }
    if definitions.is_empty() {
        return problems;
    }
    for (key, value) in &profile.custom_fields {
        if TooLong::check(Input::CustomFieldKey, key).is_err() {
            continue;
        }
        match definitions.iter().find(|d| &d.key == key) {
            None => problem(key, CustomFieldError::Undefined),
            Some(definition) => {
                if let Err(error) = definition.check(value.as_str()) {
                    problem(key, error);
                }
            }
        }
    }
    if require {
        for definition in definitions.iter().filter(|d| d.required) {
            if !profile.custom_fields.contains_key(&definition.key) {
                problem(&definition.key, CustomFieldError::Missing);
            }
        }
    }
    problems
}

/// `Ok` when `profile`'s custom fields pass (see [`custom_field_problems`]).
pub(crate) fn check_custom_fields(
    settings: &DirectorySettings,
    profile: &Profile,
    require: bool,
) -> Result<(), ValidationErrors> {
    let problems = custom_field_problems(settings, profile, require);
    if problems.is_empty() {
        Ok(())
    } else {
        Err(ValidationErrors { problems })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contact_form_reports_every_problem_and_skips_blanks() {
        let form = ContactForm {
            given_name: "   ".into(),
            family_name: "Silva\u{0007}".into(),
            email: "a@@b.com".into(),
            country: "Portugal".into(),
            custom_fields: vec![("note".into(), "ok".into()), ("blank".into(), " ".into())],
            ..ContactForm::default()
        };
        let errors = form.parse(&DirectorySettings::default()).unwrap_err();
        let details: Vec<Detail> = errors.problems().iter().map(|p| p.detail.clone()).collect();
        assert_eq!(
            details,
            vec![Detail::FamilyName, Detail::Email, Detail::Country]
        );
        let ok = ContactForm {
            custom_fields: form.custom_fields.clone(),
            ..ContactForm::default()
        }
        .parse(&DirectorySettings::default())
        .unwrap();
        assert_eq!(ok.custom_fields.len(), 1);
        assert_eq!(ok.given_name, None);
    }
}
