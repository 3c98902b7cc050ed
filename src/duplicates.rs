//! Duplicate detection: groups of live customers that may be one person.
//!
//! Near-linear: each customer is put in a bucket per blocking key (its email keys ignoring
//! case, its loose email keys, its phone, its name + postcode) and only buckets holding two
//! or more customers are reported. No pair of customers is ever compared directly.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::{Customer, CustomerId};

/// Why customers were grouped as possible duplicates.
///
/// # Examples
///
/// ```
/// use customer_directory::DuplicateReason;
/// assert_eq!(DuplicateReason::Phone.to_string(), "same phone");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[non_exhaustive]
pub enum DuplicateReason {
    /// The same email key ignoring case (possible only under the exact-case key policy).
    EmailKey,
    /// The same loose email key (Gmail dots, `+tag`, googlemail.com).
    LooseEmailKey,
    /// The same phone number.
    Phone,
    /// The same name and postcode.
    NameAndPostcode,
}

impl std::fmt::Display for DuplicateReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(match self {
            Self::EmailKey => "same email",
            Self::LooseEmailKey => "similar email",
            Self::Phone => "same phone",
            Self::NameAndPostcode => "same name and postcode",
        })
    }
}

/// Customers sharing one blocking key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct DuplicateGroup {
    /// Why they are grouped.
    pub reason: DuplicateReason,
    /// The shared key (normalised).
    pub key: String,
    /// The customers, oldest id first.
    pub customers: Vec<CustomerId>,
}

/// Collects customers into duplicate buckets; feed it the whole directory, page by page.
///
/// # Examples
///
/// ```
/// use customer_directory::{Customer, DuplicateFinder, DuplicateReason, Phone, Profile};
/// let now = chrono::Utc::now();
/// let phone = Some(Phone::parse("+44 20 7946 0958", None)?);
/// let a = Customer::new(Profile { phone: phone.clone(), ..Profile::default() }, now);
/// let b = Customer::new(Profile { phone, ..Profile::default() }, now);
/// let mut finder = DuplicateFinder::default();
/// finder.add(&a);
/// finder.add(&b);
/// let groups = finder.groups();
/// assert_eq!(groups.len(), 1);
/// assert_eq!(groups[0].reason, DuplicateReason::Phone);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Default)]
pub struct DuplicateFinder {
    buckets: HashMap<(DuplicateReason, String), Vec<CustomerId>>,
}

impl DuplicateFinder {
    /// Adds one customer; customers that are not live are ignored.
    pub fn add(&mut self, customer: &Customer) {
        if !customer.status.is_live() {
            return;
        }
        let mut put = |reason: DuplicateReason, key: String| {
            let bucket = self.buckets.entry((reason, key)).or_default();
            if bucket.last() != Some(&customer.id) && !bucket.contains(&customer.id) {
                bucket.push(customer.id);
            }
        };
        for key in customer.email_keys() {
            put(DuplicateReason::EmailKey, key.as_str().to_lowercase());
            put(
                DuplicateReason::LooseEmailKey,
                key.loose().as_str().to_owned(),
            );
        }
        let keys = customer.profile.match_keys();
        if let Some(phone) = keys.phone {
            put(DuplicateReason::Phone, phone);
        }
        if let Some(name) = keys.name_postcode {
            put(DuplicateReason::NameAndPostcode, name);
        }
    }

    /// The groups of two or more customers, by reason then key. A loose-key group that
    /// only repeats an exact-key group is left out.
    #[must_use]
    pub fn groups(self) -> Vec<DuplicateGroup> {
        let mut groups: Vec<DuplicateGroup> = self
            .buckets
            .into_iter()
            .filter(|(_, customers)| customers.len() > 1)
            .map(|((reason, key), mut customers)| {
                customers.sort();
                DuplicateGroup {
                    reason,
                    key,
                    customers,
                }
            })
            .collect();
        groups.sort_by(|a, b| (a.reason, &a.key).cmp(&(b.reason, &b.key)));
        let exact: Vec<Vec<CustomerId>> = groups
            .iter()
            .filter(|g| g.reason == DuplicateReason::EmailKey)
            .map(|g| g.customers.clone())
            .collect();
        groups.retain(|g| {
            g.reason != DuplicateReason::LooseEmailKey || !exact.contains(&g.customers)
        });
        groups
    }
}
