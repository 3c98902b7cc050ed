//! The directory record around one profile, and the blocklist.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::records::notes::ProfileRecords;
use crate::records::profile::{Detail, Profile};
use crate::values::email::address::EmailAddress;
use crate::values::email::key::EmailKey;
use crate::values::email::{EmailError, EmailKeyPolicy};
use crate::values::ids::CustomerId;

/// Where a customer stands in the directory.
///
/// # Examples
///
/// ```
/// use customer_directory::CustomerStatus;
/// assert!(CustomerStatus::Archived.is_live());
/// assert!(!CustomerStatus::Redacted.is_live());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum CustomerStatus {
    /// Listed and matched.
    Active,
    /// Hidden from the default listing, still matched; a new booking reactivates it by default.
    Archived,
    /// Its email keys are on the blocklist.
    Blocked,
    /// Personal data erased; never matched again. Terminal.
    Redacted,
    /// Merged into another customer, which now holds its bookings and emails. Terminal.
    MergedInto(CustomerId),
}

impl CustomerStatus {
    /// Whether the customer takes part in matching: its email keys are unique among live
    /// customers and bookings attach to it.
    ///
    /// # Examples
    ///
    /// ```
    /// use customer_directory::{CustomerId, CustomerStatus};
    /// assert!(CustomerStatus::Blocked.is_live());
    /// assert!(!CustomerStatus::MergedInto(CustomerId::new()).is_live());
    /// ```
    #[must_use]
    pub fn is_live(self) -> bool {
        matches!(self, Self::Active | Self::Archived | Self::Blocked)
    }
}

impl fmt::Display for CustomerStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Active => f.pad("active"),
            Self::Archived => f.pad("archived"),
            Self::Blocked => f.pad("blocked"),
            Self::Redacted => f.pad("redacted"),
            Self::MergedInto(survivor) => write!(f, "merged into {survivor}"),
        }
    }
}

/// A customer: the directory record around one [`Profile`].
///
/// # Examples
///
/// ```
/// use customer_directory::{Customer, CustomerStatus, EmailAddress, Profile};
/// let profile = Profile { email: Some(EmailAddress::parse("ana@example.com")?), ..Profile::default() };
/// let customer = Customer::new(profile, chrono::Utc::now());
/// assert_eq!(customer.status, CustomerStatus::Active);
/// assert_eq!(customer.email_keys().map(|k| k.as_str()).collect::<Vec<_>>(), ["ana@example.com"]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Customer {
    /// Identifier, stable for the customer's whole life.
    pub id: CustomerId,
    /// Personal details.
    pub profile: Profile,
    /// Other addresses that belong to this customer (absorbed in merges); they match too.
    pub aliases: Vec<EmailAddress>,
    /// Lifecycle status.
    pub status: CustomerStatus,
    /// When the customer entered the directory.
    pub created_at: DateTime<Utc>,
    /// Last change to the record.
    pub updated_at: DateTime<Utc>,
    /// Notes, newsletter consent, lists and brochure requests.
    #[serde(default)]
    pub records: ProfileRecords,
    /// Optimistic concurrency version: 0 before the first commit, then +1 per commit.
    pub version: u64,
}

impl Customer {
    /// A new active customer (version 0, not yet stored).
    ///
    /// # Examples
    ///
    /// ```
    /// use customer_directory::{Customer, Profile};
    /// let now = chrono::Utc::now();
    /// let customer = Customer::new(Profile::default(), now);
    /// assert_eq!((customer.created_at, customer.version), (now, 0));
    /// ```
    #[must_use]
    pub fn new(profile: Profile, now: DateTime<Utc>) -> Self {
        Self {
            id: CustomerId::new(),
            profile,
            aliases: Vec::new(),
            status: CustomerStatus::Active,
            created_at: now,
            updated_at: now,
            records: ProfileRecords::default(),
            version: 0,
        }
    }

    /// Fills this customer's empty profile details from `contact` (never overwriting), and
    /// returns which were filled. An email filled in this way that is already one of the
    /// customer's aliases is promoted: it leaves the aliases, so no key is held twice.
    ///
    /// # Examples
    ///
    /// ```
    /// use customer_directory::{Customer, EmailAddress, Profile};
    /// use customer_directory::records::Detail;
    /// let address = EmailAddress::parse("ana@example.com")?;
    /// let mut customer = Customer::new(Profile::default(), chrono::Utc::now());
    /// customer.aliases.push(address.clone());
    /// let contact = Profile { email: Some(address), ..Profile::default() };
    /// assert_eq!(customer.fill_empty_from(&contact), [Detail::Email]);
    /// assert!(customer.aliases.is_empty());
    /// assert_eq!(customer.email_keys().count(), 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn fill_empty_from(&mut self, contact: &Profile) -> Vec<Detail> {
        let filled = self.profile.fill_empty_from(contact);
        if let Some(email) = &self.profile.email {
            if filled.contains(&Detail::Email) {
                let key = email.key();
                self.aliases.retain(|alias| alias.key() != key);
            }
        }
        filled
    }

    /// Every email key this customer answers to: its profile email, then its aliases.
    ///
    /// A store indexes these for live customers only (see [`CustomerStatus::is_live`]).
    ///
    /// # Examples
    ///
    /// ```
    /// use customer_directory::{Customer, EmailAddress, Profile};
    /// let mut customer = Customer::new(Profile::default(), chrono::Utc::now());
    /// customer.aliases.push(EmailAddress::parse("old@example.com")?);
    /// assert_eq!(customer.email_keys().count(), 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn email_keys(&self) -> impl Iterator<Item = &EmailKey> {
        self.profile
            .email
            .iter()
            .chain(&self.aliases)
            .map(EmailAddress::key)
    }

    /// The keys a store must index for this record: its email keys if it is live, none
    /// otherwise.
    ///
    /// # Examples
    ///
    /// ```
    /// use customer_directory::{Customer, CustomerStatus, EmailAddress, Profile};
    /// let profile = Profile { email: Some(EmailAddress::parse("a@example.com")?), ..Profile::default() };
    /// let mut customer = Customer::new(profile, chrono::Utc::now());
    /// assert_eq!(customer.indexed_keys().count(), 1);
    /// customer.status = CustomerStatus::Redacted;
    /// assert_eq!(customer.indexed_keys().count(), 0);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn indexed_keys(&self) -> impl Iterator<Item = &EmailKey> {
        self.email_keys().filter(|_| self.status.is_live())
    }
}

/// What a blocklist entry covers.
///
/// # Examples
///
/// ```
/// use customer_directory::records::BlockTarget;
/// use customer_directory::values::{EmailKey, EmailKeyPolicy};
/// let key = EmailKey::parse("spam@example.com", EmailKeyPolicy::default())?;
/// assert!(BlockTarget::Address(key.clone()).covers(&key));
/// assert!(BlockTarget::domain("EXAMPLE.com")?.covers(&key));
/// assert!(!BlockTarget::domain("example.org")?.covers(&key));
/// # Ok::<(), customer_directory::values::EmailError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[non_exhaustive]
pub enum BlockTarget {
    /// One address, by key.
    Address(EmailKey),
    /// Every address at a domain (ASCII, lower case, as in an [`EmailKey`]).
    Domain(Box<str>),
}

impl BlockTarget {
    /// A whole-domain target; the domain is validated and normalised exactly like the domain
    /// of an email address (IDNA to ASCII, lower case).
    ///
    /// # Examples
    ///
    /// ```
    /// use customer_directory::records::BlockTarget;
    /// assert_eq!(BlockTarget::domain("Bücher.DE")?, BlockTarget::Domain("xn--bcher-kva.de".into()));
    /// assert!(BlockTarget::domain("localhost").is_err());
    /// # Ok::<(), customer_directory::values::EmailError>(())
    /// ```
    pub fn domain(domain: &str) -> Result<Self, EmailError> {
        let probe = format!("postmaster@{}", domain.trim());
        let key = EmailKey::parse(&probe, EmailKeyPolicy::default())?;
        Ok(Self::Domain(key.domain().into()))
    }

    /// Whether this entry blocks `key`.
    ///
    /// # Examples
    ///
    /// ```
    /// use customer_directory::records::BlockTarget;
    /// use customer_directory::values::{EmailKey, EmailKeyPolicy};
    /// let key = EmailKey::parse("a@mail.example.com", EmailKeyPolicy::default())?;
    /// assert!(!BlockTarget::domain("example.com")?.covers(&key), "subdomains are separate");
    /// # Ok::<(), customer_directory::values::EmailError>(())
    /// ```
    #[must_use]
    pub fn covers(&self, key: &EmailKey) -> bool {
        match self {
            Self::Address(blocked) => blocked == key,
            Self::Domain(domain) => **domain == *key.domain(),
        }
    }
}

impl fmt::Display for BlockTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Address(key) => write!(f, "address {key}"),
            Self::Domain(domain) => write!(f, "domain {domain}"),
        }
    }
}

/// One blocklist entry: what is blocked, why and since when.
///
/// # Examples
///
/// ```
/// use customer_directory::records::{BlockEntry, BlockTarget};
/// let entry = BlockEntry::new(BlockTarget::domain("spam.example")?, "chargebacks", chrono::Utc::now());
/// assert_eq!(entry.reason, "chargebacks");
/// # Ok::<(), customer_directory::values::EmailError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockEntry {
    /// The address or domain.
    pub target: BlockTarget,
    /// Why it was blocked, for staff.
    pub reason: String,
    /// When.
    pub created_at: DateTime<Utc>,
}

impl BlockEntry {
    /// An entry blocking `target` from `created_at`.
    ///
    /// # Examples
    ///
    /// ```
    /// use customer_directory::records::{BlockEntry, BlockTarget};
    /// let entry = BlockEntry::new(BlockTarget::domain("x.example")?, "abuse", chrono::Utc::now());
    /// assert!(matches!(entry.target, BlockTarget::Domain(_)));
    /// # Ok::<(), customer_directory::values::EmailError>(())
    /// ```
    #[must_use]
    pub fn new(target: BlockTarget, reason: impl Into<String>, created_at: DateTime<Utc>) -> Self {
        Self {
            target,
            reason: reason.into(),
            created_at,
        }
    }
}
