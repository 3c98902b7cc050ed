//! A person's details: the body of a customer profile and of a booking's contact snapshot.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::values::email::address::EmailAddress;
use crate::values::email::loose_key::LooseEmailKey;
use crate::values::phone::Phone;
use crate::values::text::matching_form;
use crate::values::text::{CountryCode, PersonName, Text};

/// The personal details of one person.
///
/// The same type is a customer's profile and a booking's contact snapshot (the details as
/// entered with the booking), so attribution compares like with like. Every field is optional:
/// bookings taken by phone often have only a name.
///
/// # Examples
///
/// ```
/// use customer_directory::{EmailAddress, PersonName, Profile};
/// let profile = Profile {
///     given_name: Some(PersonName::parse("Ana")?),
///     email: Some(EmailAddress::parse("ana@example.com")?),
///     ..Profile::default()
/// };
/// assert_eq!(profile.email.as_ref().map(|e| e.key().as_str()), Some("ana@example.com"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Profile {
    /// Given (first) name.
    pub given_name: Option<PersonName>,
    /// Family (last) name.
    pub family_name: Option<PersonName>,
    /// How the person wants to be addressed, when it differs from given + family name.
    pub display_name: Option<PersonName>,
    /// The email address: the key that bookings are attributed by.
    pub email: Option<EmailAddress>,
    /// Phone number.
    pub phone: Option<Phone>,
    /// Postal address.
    pub address: PostalAddress,
    /// Values of the host's custom fields, by field key.
    pub custom_fields: BTreeMap<String, Text>,
}

/// A postal address, field by field so each can be compared and filled on its own.
///
/// # Examples
///
/// ```
/// use customer_directory::values::CountryCode;
/// use customer_directory::records::PostalAddress;
/// use customer_directory::Text;
/// let address = PostalAddress {
///     city: Some(Text::parse("Lisbon")?),
///     country: Some(CountryCode::parse("PT")?),
///     ..PostalAddress::default()
/// };
/// assert!(!address.is_empty());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PostalAddress {
    /// First address line.
    pub line1: Option<Text>,
    /// Second address line.
    pub line2: Option<Text>,
    /// City or town.
    pub city: Option<Text>,
    /// State, county or province.
    pub region: Option<Text>,
    /// Postal code.
    pub postcode: Option<Text>,
    /// Country.
    pub country: Option<CountryCode>,
}

impl PostalAddress {
    /// Whether no field is set.
    ///
    /// # Examples
    ///
    /// ```
    /// use customer_directory::records::PostalAddress;
    /// assert!(PostalAddress::default().is_empty());
    /// ```
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self == &Self::default()
    }
}

/// One personal detail of a [`Profile`], used to report which details differ, were filled
/// or failed validation.
///
/// # Examples
///
/// ```
/// use customer_directory::records::Detail;
/// assert_eq!(Detail::Postcode.to_string(), "postcode");
/// assert_eq!(Detail::CustomField("shoe_size".into()).to_string(), "custom field `shoe_size`");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Detail {
    /// [`Profile::given_name`].
    GivenName,
    /// [`Profile::family_name`].
    FamilyName,
    /// [`Profile::display_name`].
    DisplayName,
    /// [`Profile::email`].
    Email,
    /// [`Profile::phone`].
    Phone,
    /// [`PostalAddress::line1`].
    AddressLine1,
    /// [`PostalAddress::line2`].
    AddressLine2,
    /// [`PostalAddress::city`].
    City,
    /// [`PostalAddress::region`].
    Region,
    /// [`PostalAddress::postcode`].
    Postcode,
    /// [`PostalAddress::country`].
    Country,
    /// A custom field, by key.
    CustomField(String),
}

impl fmt::Display for Detail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self {
            Self::GivenName => "given name",
            Self::FamilyName => "family name",
            Self::DisplayName => "display name",
            Self::Email => "email",
            Self::Phone => "phone",
            Self::AddressLine1 => "address line 1",
            Self::AddressLine2 => "address line 2",
            Self::City => "city",
            Self::Region => "region",
            Self::Postcode => "postcode",
            Self::Country => "country",
            Self::CustomField(key) => return write!(f, "custom field `{key}`"),
        };
        f.pad(name)
    }
}

/// Two postcodes are the same code whatever their spacing or case (`SW1A 1AA`, `sw1a1aa`).
fn same_postcode(a: &Text, b: &Text) -> bool {
    compact_postcode(a) == compact_postcode(b)
}

/// Records `detail` when both sides are set and do not agree: an empty side never counts
/// as a difference.
fn compare<T>(
    differences: &mut Vec<Detail>,
    detail: Detail,
    ours: Option<&T>,
    theirs: Option<&T>,
    agree: impl Fn(&T, &T) -> bool,
) {
    if let (Some(a), Some(b)) = (ours, theirs) {
        if !agree(a, b) {
            differences.push(detail);
        }
    }
}

/// Records `detail` when `ours` is empty and `theirs` has a value to fill it with.
fn gap<T>(gaps: &mut Vec<Detail>, detail: Detail, ours: &Option<T>, theirs: &Option<T>) {
    if ours.is_none() && theirs.is_some() {
        gaps.push(detail);
    }
}

impl Profile {
    /// The personal details that identify a person (names, phone, address) and disagree
    /// between `self` and `other`, after normalisation. A detail missing on either side
    /// never counts as different. Email is not compared: attribution has already matched it.
    ///
    /// # Examples
    ///
    /// ```
    /// use customer_directory::records::Detail;
    /// use customer_directory::{PersonName, Profile};
    /// let on_file = Profile { given_name: Some(PersonName::parse("Ana")?), ..Profile::default() };
    /// let typed = Profile { given_name: Some(PersonName::parse("ANA ")?), ..Profile::default() };
    /// let other = Profile { given_name: Some(PersonName::parse("Bea")?), ..Profile::default() };
    /// assert!(on_file.differences(&typed).is_empty());
    /// assert_eq!(on_file.differences(&other), vec![Detail::GivenName]);
    /// assert!(on_file.differences(&Profile::default()).is_empty());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn differences(&self, other: &Self) -> Vec<Detail> {
        let mut found = Vec::new();
        let (ours, theirs) = (&self.address, &other.address);
        compare(
            &mut found,
            Detail::GivenName,
            self.given_name.as_ref(),
            other.given_name.as_ref(),
            PersonName::matches,
        );
        compare(
            &mut found,
            Detail::FamilyName,
            self.family_name.as_ref(),
            other.family_name.as_ref(),
            PersonName::matches,
        );
        compare(
            &mut found,
            Detail::Phone,
            self.phone.as_ref(),
            other.phone.as_ref(),
            PartialEq::eq,
        );
        compare(
            &mut found,
            Detail::AddressLine1,
            ours.line1.as_ref(),
            theirs.line1.as_ref(),
            Text::matches,
        );
        compare(
            &mut found,
            Detail::AddressLine2,
            ours.line2.as_ref(),
            theirs.line2.as_ref(),
            Text::matches,
        );
        compare(
            &mut found,
            Detail::City,
            ours.city.as_ref(),
            theirs.city.as_ref(),
            Text::matches,
        );
        compare(
            &mut found,
            Detail::Region,
            ours.region.as_ref(),
            theirs.region.as_ref(),
            Text::matches,
        );
        compare(
            &mut found,
            Detail::Postcode,
            ours.postcode.as_ref(),
            theirs.postcode.as_ref(),
            same_postcode,
        );
        compare(
            &mut found,
            Detail::Country,
            ours.country.as_ref(),
            theirs.country.as_ref(),
            PartialEq::eq,
        );
        found
    }

    /// The details that are empty in `self` and set in `other`: what
    /// [`fill_empty_from`](Self::fill_empty_from) would fill, without changing anything.
    ///
    /// # Examples
    ///
    /// ```
    /// use customer_directory::records::Detail;
    /// use customer_directory::{PersonName, Profile};
    /// let on_file = Profile { given_name: Some(PersonName::parse("Ana")?), ..Profile::default() };
    /// let booking = Profile { family_name: Some(PersonName::parse("Silva")?), ..Profile::default() };
    /// assert_eq!(on_file.fillable_from(&booking), vec![Detail::FamilyName]);
    /// assert!(booking.fillable_from(&booking).is_empty());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn fillable_from(&self, other: &Self) -> Vec<Detail> {
        let mut gaps = Vec::new();
        let (ours, theirs) = (&self.address, &other.address);
        gap(
            &mut gaps,
            Detail::GivenName,
            &self.given_name,
            &other.given_name,
        );
        gap(
            &mut gaps,
            Detail::FamilyName,
            &self.family_name,
            &other.family_name,
        );
        gap(
            &mut gaps,
            Detail::DisplayName,
            &self.display_name,
            &other.display_name,
        );
        gap(&mut gaps, Detail::Email, &self.email, &other.email);
        gap(&mut gaps, Detail::Phone, &self.phone, &other.phone);
        gap(&mut gaps, Detail::AddressLine1, &ours.line1, &theirs.line1);
        gap(&mut gaps, Detail::AddressLine2, &ours.line2, &theirs.line2);
        gap(&mut gaps, Detail::City, &ours.city, &theirs.city);
        gap(&mut gaps, Detail::Region, &ours.region, &theirs.region);
        gap(
            &mut gaps,
            Detail::Postcode,
            &ours.postcode,
            &theirs.postcode,
        );
        gap(&mut gaps, Detail::Country, &ours.country, &theirs.country);
        for key in other.custom_fields.keys() {
            if !self.custom_fields.contains_key(key) {
                gaps.push(Detail::CustomField(key.clone()));
            }
        }
        gaps
    }

    /// Fills every empty field of `self` from `other` and never overwrites a value already
    /// set. Returns the details that were filled.
    ///
    /// # Examples
    ///
    /// ```
    /// use customer_directory::records::Detail;
    /// use customer_directory::{PersonName, Phone, Profile};
    /// let mut on_file = Profile { given_name: Some(PersonName::parse("Ana")?), ..Profile::default() };
    /// let booking = Profile {
    ///     given_name: Some(PersonName::parse("Anna")?),
    ///     phone: Some(Phone::parse("+44 20 7946 0958", None)?),
    ///     ..Profile::default()
    /// };
    /// assert_eq!(on_file.fill_empty_from(&booking), vec![Detail::Phone]);
    /// assert_eq!(on_file.given_name.as_ref().map(|n| n.as_str()), Some("Ana"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn fill_empty_from(&mut self, other: &Self) -> Vec<Detail> {
        let gaps = self.fillable_from(other);
        for detail in &gaps {
            self.copy_detail_from(other, detail);
        }
        gaps
    }

    /// Empties one detail.
    pub(crate) fn clear_detail(&mut self, detail: &Detail) {
        self.copy_detail_from(&Self::default(), detail);
        if let Detail::CustomField(key) = detail {
            self.custom_fields.remove(key);
        }
    }

    /// Copies one detail's value from `other` (a custom field absent there is left alone).
    pub(crate) fn copy_detail_from(&mut self, other: &Self, detail: &Detail) {
        let (ours, theirs) = (&mut self.address, &other.address);
        match detail {
            Detail::GivenName => self.given_name.clone_from(&other.given_name),
            Detail::FamilyName => self.family_name.clone_from(&other.family_name),
            Detail::DisplayName => self.display_name.clone_from(&other.display_name),
            Detail::Email => self.email.clone_from(&other.email),
            Detail::Phone => self.phone.clone_from(&other.phone),
            Detail::AddressLine1 => ours.line1.clone_from(&theirs.line1),
            Detail::AddressLine2 => ours.line2.clone_from(&theirs.line2),
            Detail::City => ours.city.clone_from(&theirs.city),
            Detail::Region => ours.region.clone_from(&theirs.region),
            Detail::Postcode => ours.postcode.clone_from(&theirs.postcode),
            Detail::Country => ours.country.clone_from(&theirs.country),
            Detail::CustomField(key) => {
                if let Some(value) = other.custom_fields.get(key) {
                    self.custom_fields.insert(key.clone(), value.clone());
                }
            }
        }
    }

    /// The keys under which this person may be suggested as a duplicate or related booking.
    ///
    /// # Examples
    ///
    /// ```
    /// use customer_directory::{EmailAddress, Profile};
    /// let profile = Profile { email: Some(EmailAddress::parse("a.na@googlemail.com")?), ..Profile::default() };
    /// assert_eq!(profile.match_keys().loose_email.map(|k| k.as_str().to_owned()), Some("ana@gmail.com".into()));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn match_keys(&self) -> MatchKeys {
        MatchKeys {
            loose_email: self.email.as_ref().map(|email| email.key().loose()),
            phone: self.phone.as_ref().map(|phone| phone.e164().to_owned()),
            name_postcode: self.name_postcode_key(),
        }
    }

    /// [`MatchKeys::name_postcode`] alone, for callers that need no other key (duplicate
    /// detection computes the others without allocating). Built in one buffer: every
    /// booking recorded computes it to index the booking.
    pub(crate) fn name_postcode_key(&self) -> Option<String> {
        let postcode = self.address.postcode.as_ref()?;
        let names = match (&self.given_name, &self.family_name) {
            (Some(given), Some(family)) => Cow::Owned(format!("{given} {family}")),
            (Some(name), None) | (None, Some(name)) => Cow::Borrowed(name.as_str()),
            (None, None) => return None,
        };
        let (names, postcode) = (matching_form(&names), compact_postcode(postcode));
        let mut key = String::with_capacity(names.len() + 1 + postcode.len());
        key.push_str(&names);
        key.push('|');
        key.push_str(&postcode);
        Some(key)
    }

    /// A name to show staff: the display name, else given + family name, else the email.
    ///
    /// # Examples
    ///
    /// ```
    /// use customer_directory::{PersonName, Profile};
    /// let profile = Profile {
    ///     given_name: Some(PersonName::parse("Ana")?),
    ///     family_name: Some(PersonName::parse("Silva")?),
    ///     ..Profile::default()
    /// };
    /// assert_eq!(profile.label(), "Ana Silva");
    /// assert_eq!(Profile::default().label(), "(no name)");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn label(&self) -> String {
        if let Some(name) = &self.display_name {
            return name.to_string();
        }
        let names: Vec<&str> = [&self.given_name, &self.family_name]
            .into_iter()
            .flatten()
            .map(PersonName::as_str)
            .collect();
        match (names.is_empty(), &self.email) {
            (false, _) => names.join(" "),
            (true, Some(email)) => email.to_string(),
            (true, None) => "(no name)".to_owned(),
        }
    }
}

/// The keys under which two people may be the same person, used only to *suggest* related
/// bookings and duplicates, never to attach anything automatically.
///
/// # Examples
///
/// ```
/// use customer_directory::{EmailAddress, PersonName, Profile, Text};
/// use customer_directory::records::PostalAddress;
/// let profile = Profile {
///     given_name: Some(PersonName::parse("Ana")?),
///     family_name: Some(PersonName::parse("SILVA")?),
///     email: Some(EmailAddress::parse("ana.silva+tours@gmail.com")?),
///     address: PostalAddress { postcode: Some(Text::parse("sw1a 1aa")?), ..PostalAddress::default() },
///     ..Profile::default()
/// };
/// let keys = profile.match_keys();
/// assert_eq!(keys.name_postcode.as_deref(), Some("ana silva|sw1a1aa"));
/// assert!(keys.phone.is_none());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub struct MatchKeys {
    /// The looser email key (provider rules such as Gmail dots and `+tag`).
    pub loose_email: Option<LooseEmailKey>,
    /// The phone number in E.164 form.
    pub phone: Option<String>,
    /// Normalised full name and compact postcode, when both are known.
    pub name_postcode: Option<String>,
}

impl MatchKeys {
    /// Whether no key is known.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(customer_directory::Profile::default().match_keys().is_empty());
    /// ```
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.loose_email.is_none() && self.phone.is_none() && self.name_postcode.is_none()
    }
}

/// A postcode compared without spacing or case. Borrowed when the postcode already is
/// (`12345`, `sw1a1aa`), so comparing two such postcodes allocates nothing.
fn compact_postcode(postcode: &Text) -> Cow<'_, str> {
    match matching_form(postcode.as_str()) {
        Cow::Borrowed(form) if !form.contains(' ') => Cow::Borrowed(form),
        form => Cow::Owned(form.chars().filter(|c| !c.is_whitespace()).collect()),
    }
}
#[cfg(test)]
mod tests {
    use super::*;

    fn name(text: &str) -> Option<PersonName> {
        Some(PersonName::parse(text).unwrap())
    }

    fn text(value: &str) -> Option<Text> {
        Some(Text::parse(value).unwrap())
    }

    #[test]
    fn postcodes_compare_without_spacing_or_case() {
        let a = Profile {
            address: PostalAddress {
                postcode: text("SW1A 1AA"),
                ..PostalAddress::default()
            },
            ..Profile::default()
        };
        let b = Profile {
            address: PostalAddress {
                postcode: text("sw1a1aa"),
                ..PostalAddress::default()
            },
            ..Profile::default()
        };
        assert!(a.differences(&b).is_empty());
    }

    #[test]
    fn every_identifying_detail_is_compared() {
        let a = Profile {
            given_name: name("Ana"),
            family_name: name("Silva"),
            phone: Some(Phone::parse("+44 20 7946 0958", None).unwrap()),
            address: PostalAddress {
                line1: text("1 Main St"),
                city: text("Leeds"),
                country: Some(CountryCode::parse("GB").unwrap()),
                ..PostalAddress::default()
            },
            ..Profile::default()
        };
        let b = Profile {
            given_name: name("Bea"),
            family_name: name("Sousa"),
            phone: Some(Phone::parse("+44 20 7946 0959", None).unwrap()),
            address: PostalAddress {
                line1: text("2 Main St"),
                city: text("York"),
                country: Some(CountryCode::parse("IE").unwrap()),
                ..PostalAddress::default()
            },
            ..Profile::default()
        };
        assert_eq!(
            a.differences(&b),
            vec![
                Detail::GivenName,
                Detail::FamilyName,
                Detail::Phone,
                Detail::AddressLine1,
                Detail::City,
                Detail::Country
            ]
        );
    }

    #[test]
    fn fill_never_overwrites_and_reports_custom_fields() {
        let mut target = Profile {
            given_name: name("Ana"),
            ..Profile::default()
        };
        target
            .custom_fields
            .insert("diet".into(), Text::parse("vegan").unwrap());
        let mut source = Profile {
            given_name: name("Other"),
            family_name: name("Silva"),
            ..Profile::default()
        };
        source
            .custom_fields
            .insert("diet".into(), Text::parse("none").unwrap());
        source
            .custom_fields
            .insert("size".into(), Text::parse("M").unwrap());
        let filled = target.fill_empty_from(&source);
        assert_eq!(
            filled,
            vec![Detail::FamilyName, Detail::CustomField("size".into())]
        );
        assert_eq!(target.given_name, name("Ana"));
        assert_eq!(target.custom_fields["diet"].as_str(), "vegan");
    }
}
