//! [`LooseEmailKey`]: the looser key that only *suggests* related bookings and possible
//! duplicates, and the provider rules (Gmail dots, `+` sub-addressing) that derive it
//! from an [`EmailKey`].
//!
//! Separate from the key so the provider list and its rules stay apart from what
//! attaches bookings: a loose match is never enough to attach one.

use std::borrow::Borrow;
use std::fmt;

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::values::email::EmailKeyPolicy;
use crate::values::email::key::EmailKey;

/// A looser key for *suggesting* related bookings and possible duplicates.
///
/// Never attach a booking to a profile because loose keys match: they conflate
/// mailboxes that can belong to different people (`a.nna@gmail.com` and
/// `anna@gmail.com` are the same Gmail inbox, but `anna+x@example.org` and
/// `anna@example.org` may not be the same mailbox). It is a distinct type from
/// [`EmailKey`] so the two cannot be compared by accident.
///
/// Rules, applied only to ASCII dot-atom local parts (these providers only
/// issue ASCII mailbox names), with the local part lower-cased:
///
/// * `gmail.com`, `googlemail.com`: domain becomes `gmail.com`, dots in the
///   local part are dropped, and so is everything from the first `+`.
/// * Providers with documented `+` sub-addressing: `outlook.com`,
///   `hotmail.com`, `live.com`, `msn.com`, `icloud.com`, `me.com`, `mac.com`,
///   `fastmail.com`, `fastmail.fm`, `protonmail.com`, `proton.me`, `pm.me`,
///   `zoho.com`: everything from the first `+` is dropped.
/// * Everything else (including Yahoo, whose sub-addresses use `-` and a
///   separate base name) keeps the key text unchanged.
///
/// # Examples
///
/// ```rust
/// use customer_directory::EmailAddress;
///
/// let a = EmailAddress::parse("anna.berg+spa@gmail.com")?;
/// let b = EmailAddress::parse("AnnaBerg@googlemail.com")?;
/// assert_ne!(a.key(), b.key());
/// assert_eq!(a.key().loose(), b.key().loose());
/// assert_eq!(a.key().loose().as_str(), "annaberg@gmail.com");
/// # Ok::<(), customer_directory::values::EmailError>(())
/// ```
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub struct LooseEmailKey(Box<str>);

impl LooseEmailKey {
    /// The loose key text.
    ///
    /// # Examples
    ///
    /// ```rust
    /// use customer_directory::values::{EmailKey, EmailKeyPolicy};
    ///
    /// let key = EmailKey::parse("anna+x@example.org", EmailKeyPolicy::default())?;
    /// assert_eq!(key.loose().as_str(), "anna+x@example.org");
    /// # Ok::<(), customer_directory::values::EmailError>(())
    /// ```
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Borrow<str> for LooseEmailKey {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for LooseEmailKey {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for LooseEmailKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for LooseEmailKey {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for LooseEmailKey {
    /// Accepts only text that is its own loose key.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        let key = EmailKey::parse(&text, EmailKeyPolicy::ExactCase).map_err(D::Error::custom)?;
        let loose = key.loose();
        if loose.as_str() == text {
            Ok(loose)
        } else {
            Err(D::Error::custom(format_args!(
                "{text:?} is not a normalised loose email key"
            )))
        }
    }
}

// The looser key of an `EmailKey` lives with the provider rules that derive it.
impl EmailKey {
    /// Derives the looser key used to suggest related bookings.
    ///
    /// See [`LooseEmailKey`] for the rules.
    ///
    /// # Examples
    ///
    /// ```rust
    /// use customer_directory::values::{EmailKey, EmailKeyPolicy};
    ///
    /// let key = EmailKey::parse("Anna.Berg+spa@googlemail.com", EmailKeyPolicy::default())?;
    /// assert_eq!(key.loose().as_str(), "annaberg@gmail.com");
    /// # Ok::<(), customer_directory::values::EmailError>(())
    /// ```
    pub fn loose(&self) -> LooseEmailKey {
        loosen(self).unwrap_or_else(|| LooseEmailKey(self.0.clone()))
    }

    /// Appends the text of [`loose`](Self::loose) to `out` without allocating a key, for
    /// callers that only hash or compare it (duplicate detection, once per customer).
    pub(crate) fn push_loose(&self, out: &mut String) {
        if !push_loosened(self, out) {
            out.push_str(&self.0);
        }
    }
}

/// Providers where `+tag` is a sub-address of the same mailbox.
const PLUS_ADDRESSING_DOMAINS: &[&str] = &[
    "outlook.com",
    "hotmail.com",
    "live.com",
    "msn.com",
    "icloud.com",
    "me.com",
    "mac.com",
    "fastmail.com",
    "fastmail.fm",
    "protonmail.com",
    "proton.me",
    "pm.me",
    "zoho.com",
];

/// Applies the provider rules, or `None` when the key stays as it is.
fn loosen(key: &EmailKey) -> Option<LooseEmailKey> {
    let mut out = String::new();
    push_loosened(key, &mut out).then(|| LooseEmailKey(out.into_boxed_str()))
}

/// Appends the loose key of `key` to `out` when a provider rule changes it, and returns
/// whether one did (otherwise `out` is left as it was).
fn push_loosened(key: &EmailKey, out: &mut String) -> bool {
    let Some((local, domain)) = key.0.rsplit_once('@') else {
        return false;
    };
    let (domain, drop_dots) = match domain {
        "gmail.com" | "googlemail.com" => ("gmail.com", true),
        d if PLUS_ADDRESSING_DOMAINS.contains(&d) => (d, false),
        _ => return false,
    };
    // Quoted or non-ASCII local parts are not mailbox names these providers
    // issue; leave them alone rather than guess.
    if !local.is_ascii() || local.starts_with('"') {
        return false;
    }
    let base = local.split_once('+').map_or(local, |(base, _)| base);
    let start = out.len();
    out.reserve_exact(base.len() + 1 + domain.len());
    out.extend(
        base.bytes()
            .filter(|&b| !(drop_dots && b == b'.'))
            .map(|b| char::from(b.to_ascii_lowercase())),
    );
    // `a.+tag` would leave `a.`, which is not a valid local part.
    if out.len() == start || out.ends_with('.') {
        out.truncate(start);
        return false;
    }
    out.push('@');
    out.push_str(domain);
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pushed_loose_keys_are_the_loose_keys() {
        for raw in [
            "A.B+x@googlemail.com",
            "a.+x@outlook.com",
            "+x@gmail.com",
            "\"a b\"@gmail.com",
            "anna@example.org",
            "j\u{f6}rg.x+y@icloud.com",
        ] {
            for policy in [EmailKeyPolicy::CaseInsensitive, EmailKeyPolicy::ExactCase] {
                let Ok(key) = EmailKey::parse(raw, policy) else {
                    panic!("{raw:?}");
                };
                let mut pushed = String::from("prefix");
                key.push_loose(&mut pushed);
                assert_eq!(pushed, format!("prefix{}", key.loose()), "{raw:?}");
            }
        }
    }

    #[test]
    fn loose_rules_skip_unusual_local_parts() {
        let k = |s: &str| EmailKey::parse(s, EmailKeyPolicy::ExactCase).map(|k| k.loose());
        assert_eq!(
            k(r#""a b+c"@gmail.com"#).map(|l| l.as_str().to_owned()),
            Ok(r#""a b+c"@gmail.com"#.to_owned())
        );
        assert_eq!(
            k("+x@gmail.com").map(|l| l.as_str().to_owned()),
            Ok("+x@gmail.com".to_owned())
        );
        assert_eq!(
            k("a.+x@outlook.com").map(|l| l.as_str().to_owned()),
            Ok("a.+x@outlook.com".to_owned())
        );
        assert_eq!(
            k("A.B+x@outlook.com").map(|l| l.as_str().to_owned()),
            Ok("a.b@outlook.com".to_owned())
        );
    }
}
