//! [`EmailAddress`]: what the person typed (trimmed and validated), kept verbatim for
//! display and mail, together with its [`EmailKey`].
//!
//! Separate from the key: an address carries the original text and its `@` position, and
//! is what forms and mail deal with; the key is what matching deals with.

use std::fmt;
use std::str::FromStr;

use serde::de::Error as _;
use serde::ser::SerializeStruct as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::values::email::ascii::ascii_fast_key;
use crate::values::email::grammar::{Analysed, StackBuf, analyse};
use crate::values::email::key::EmailKey;
use crate::values::email::{EmailError, EmailKeyPolicy};

/// A validated email address together with its [`EmailKey`].
///
/// The trimmed original text is kept for display and mail; use [`key`] for
/// matching. Equality compares the original text, the key and thus the policy
/// used to build it.
///
/// [`key`]: EmailAddress::key
///
/// # Examples
///
/// ```rust
/// use customer_directory::EmailAddress;
///
/// let addr: EmailAddress = "  Anna.Berg@Bücher.de ".parse()?;
/// assert_eq!(addr.as_str(), "Anna.Berg@Bücher.de");
/// assert_eq!(addr.key().as_str(), "anna.berg@xn--bcher-kva.de");
/// assert_eq!(addr.to_string(), "Anna.Berg@Bücher.de");
/// # Ok::<(), customer_directory::values::EmailError>(())
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct EmailAddress {
    /// Trimmed original text.
    text: Box<str>,
    /// Byte index of the `@` that separates local part and domain.
    at: usize,
    key: EmailKey,
}

impl EmailAddress {
    /// Parses and validates an address under the default
    /// [`EmailKeyPolicy::CaseInsensitive`].
    ///
    /// Surrounding white space is trimmed.
    ///
    /// # Errors
    ///
    /// Returns the first [`EmailError`] found.
    ///
    /// # Examples
    ///
    /// ```rust
    /// use customer_directory::EmailAddress;
    /// use customer_directory::values::EmailError;
    ///
    /// assert!(EmailAddress::parse("anna@example.com").is_ok());
    /// assert_eq!(EmailAddress::parse("anna@localhost"), Err(EmailError::DotlessDomain));
    /// ```
    pub fn parse(raw: &str) -> Result<Self, EmailError> {
        Self::parse_with_policy(raw, EmailKeyPolicy::default())
    }

    /// Parses and validates an address, computing its key under `policy`.
    ///
    /// # Errors
    ///
    /// Returns the first [`EmailError`] found.
    ///
    /// # Examples
    ///
    /// ```rust
    /// use customer_directory::EmailAddress;
    /// use customer_directory::values::EmailKeyPolicy;
    ///
    /// let addr = EmailAddress::parse_with_policy("Anna@EXAMPLE.com", EmailKeyPolicy::ExactCase)?;
    /// assert_eq!(addr.key().as_str(), "Anna@example.com");
    /// # Ok::<(), customer_directory::values::EmailError>(())
    /// ```
    pub fn parse_with_policy(raw: &str, policy: EmailKeyPolicy) -> Result<Self, EmailError> {
        let text = raw.trim_ascii();
        if let Some((key, at)) = ascii_fast_key(text, policy) {
            return Ok(Self {
                text: text.into(),
                at,
                key: EmailKey(key),
            });
        }
        let mut key = StackBuf::new();
        let Analysed { text, at } = analyse(raw, policy, &mut key)?;
        Ok(Self {
            key: key.to_key()?,
            text: text.into(),
            at,
        })
    }

    /// The address as typed, without surrounding white space.
    ///
    /// # Examples
    ///
    /// ```rust
    /// use customer_directory::EmailAddress;
    ///
    /// let addr = EmailAddress::parse("\tAnna@Example.com\n")?;
    /// assert_eq!(addr.as_str(), "Anna@Example.com");
    /// # Ok::<(), customer_directory::values::EmailError>(())
    /// ```
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The matching key.
    ///
    /// # Examples
    ///
    /// ```rust
    /// use customer_directory::EmailAddress;
    ///
    /// let a = EmailAddress::parse("ANNA@example.com")?;
    /// let b = EmailAddress::parse("anna@Example.COM")?;
    /// assert_eq!(a.key(), b.key());
    /// # Ok::<(), customer_directory::values::EmailError>(())
    /// ```
    pub fn key(&self) -> &EmailKey {
        &self.key
    }

    /// Consumes the address and returns its key.
    ///
    /// # Examples
    ///
    /// ```rust
    /// use customer_directory::EmailAddress;
    ///
    /// let key = EmailAddress::parse("Anna@Example.com")?.into_key();
    /// assert_eq!(key.as_str(), "anna@example.com");
    /// # Ok::<(), customer_directory::values::EmailError>(())
    /// ```
    pub fn into_key(self) -> EmailKey {
        self.key
    }

    /// The local part (before the `@`) as typed, quotes included.
    ///
    /// # Examples
    ///
    /// ```rust
    /// use customer_directory::EmailAddress;
    ///
    /// let addr = EmailAddress::parse("\"Anna Berg\"@example.com")?;
    /// assert_eq!(addr.local_part(), "\"Anna Berg\"");
    /// # Ok::<(), customer_directory::values::EmailError>(())
    /// ```
    pub fn local_part(&self) -> &str {
        self.text.get(..self.at).unwrap_or_default()
    }

    /// The domain (after the `@`) as typed.
    ///
    /// # Examples
    ///
    /// ```rust
    /// use customer_directory::EmailAddress;
    ///
    /// let addr = EmailAddress::parse("anna@Bücher.de")?;
    /// assert_eq!(addr.domain(), "Bücher.de");
    /// assert_eq!(addr.key().domain(), "xn--bcher-kva.de");
    /// # Ok::<(), customer_directory::values::EmailError>(())
    /// ```
    pub fn domain(&self) -> &str {
        self.text.get(self.at + 1..).unwrap_or_default()
    }
}

impl fmt::Display for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl fmt::Debug for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("EmailAddress").field(&&*self.text).finish()
    }
}

impl FromStr for EmailAddress {
    type Err = EmailError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl AsRef<str> for EmailAddress {
    fn as_ref(&self) -> &str {
        &self.text
    }
}

impl Serialize for EmailAddress {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut state = serializer.serialize_struct("EmailAddress", 2)?;
        state.serialize_field("address", self.as_str())?;
        state.serialize_field("key", self.key.as_str())?;
        state.end()
    }
}

impl<'de> Deserialize<'de> for EmailAddress {
    /// Re-validates the address and accepts the stored key only if one of the
    /// policies reproduces it, so stored data cannot smuggle in a bad key.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Stored {
            address: String,
            key: String,
        }
        let stored = Stored::deserialize(deserializer)?;
        for policy in [EmailKeyPolicy::CaseInsensitive, EmailKeyPolicy::ExactCase] {
            let address =
                Self::parse_with_policy(&stored.address, policy).map_err(D::Error::custom)?;
            if address.key.as_str() == stored.key {
                return Ok(address);
            }
        }
        Err(D::Error::custom(
            "the stored email key does not match the address under any policy",
        ))
    }
}
