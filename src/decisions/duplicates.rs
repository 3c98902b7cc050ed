//! Duplicate detection: groups of live customers that may be one person.
//!
//! Near-linear: each customer is put in a bucket per blocking key (its email keys ignoring
//! case, its loose email keys, its phone, its name + postcode) and only buckets holding two
//! or more customers are reported. No pair of customers is ever compared directly.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};

use crate::records::customer::Customer;
use crate::values::ids::CustomerId;

/// Why customers were grouped as possible duplicates.
///
/// # Examples
///
/// ```
/// use customer_directory::decisions::DuplicateReason;
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
/// Each customer has two keys per email, one for the phone and one for name and postcode,
/// so a directory of a million customers has about four million keys, nearly all of them
/// unique. Looking each up in a map as it arrives touches a random place in a table far
/// larger than the processor's caches for every key, and that is what made the cost per
/// customer grow with the directory. Instead, [`add`](Self::add) only appends: each key's
/// text to one shared buffer, and its 64-bit hash with a small record to two vectors, all
/// written in order. [`groups`](Self::groups) then sorts the hashes in two cache-friendly
/// passes (spread over partitions by their top bits, then each partition sorted where it
/// fits in cache), and only keys whose hash occurs more than once are looked at again.
/// Keys with the same hash are grouped by comparing their texts, so a hash collision never
/// groups customers whose keys differ.
///
/// # Examples
///
/// ```
/// use customer_directory::{Customer, Phone, Profile};
/// use customer_directory::decisions::{DuplicateFinder, DuplicateReason};
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
    /// Each key's hash and its index in `keys`.
    hashes: Vec<(u64, u32)>,
    keys: Vec<Key>,
    /// Every key's reason byte and text, back to back.
    texts: Vec<u8>,
    /// The customers added, so that a key records a 4-byte number rather than an id.
    customers: Vec<CustomerId>,
    /// The key being built: reason byte, then key text (reused, never shrunk).
    scratch: String,
}

/// One key of one customer.
#[derive(Debug, Clone, Copy)]
struct Key {
    /// Where the key's reason byte and text start in `texts`.
    text_start: usize,
    text_len: u32,
    /// Index in `customers`.
    customer: u32,
}

/// Every reason, at the index of its code in a key's text ([`reason_code`]).
const REASONS: [DuplicateReason; 4] = [
    DuplicateReason::EmailKey,
    DuplicateReason::LooseEmailKey,
    DuplicateReason::Phone,
    DuplicateReason::NameAndPostcode,
];

/// Hashes are spread over `1 << PARTITION_BITS` partitions by their top bits before each
/// partition is sorted: about a thousand hashes (16 KB) per partition at a million
/// customers, which sorts within the cache.
const PARTITION_BITS: u32 = 12;

impl DuplicateFinder {
    /// Adds one customer; customers that are not live are ignored.
    pub fn add(&mut self, customer: &Customer) {
        if !customer.status.is_live() {
            return;
        }
        let Ok(number) = u32::try_from(self.customers.len()) else {
            return; // Over four billion customers: beyond any directory this serves.
        };
        self.customers.push(customer.id);
        for key in customer.email_keys() {
            let key = key.as_str();
            self.start_key(DuplicateReason::EmailKey);
            if key.is_ascii() {
                // The same text as `to_lowercase`, without a new string.
                let start = self.scratch.len();
                self.scratch.push_str(key);
                if let Some(added) = self.scratch.get_mut(start..) {
                    added.make_ascii_lowercase();
                }
            } else {
                self.scratch.push_str(&key.to_lowercase());
            }
            self.push_key(number);
        }
        for key in customer.email_keys() {
            self.start_key(DuplicateReason::LooseEmailKey);
            key.push_loose(&mut self.scratch);
            self.push_key(number);
        }
        if let Some(phone) = &customer.profile.phone {
            self.start_key(DuplicateReason::Phone);
            self.scratch.push_str(phone.e164());
            self.push_key(number);
        }
        if let Some(name) = customer.profile.name_postcode_key() {
            self.start_key(DuplicateReason::NameAndPostcode);
            self.scratch.push_str(&name);
            self.push_key(number);
        }
    }

    fn start_key(&mut self, reason: DuplicateReason) {
        self.scratch.clear();
        self.scratch.push(char::from(reason_code(reason)));
    }

    /// Records the key in `scratch` for customer number `customer`.
    fn push_key(&mut self, customer: u32) {
        let (Ok(index), Ok(text_len)) = (
            u32::try_from(self.keys.len()),
            u32::try_from(self.scratch.len()),
        ) else {
            return;
        };
        self.hashes
            .push((text_hash(self.scratch.as_bytes()), index));
        self.keys.push(Key {
            text_start: self.texts.len(),
            text_len,
            customer,
        });
        self.texts.extend_from_slice(self.scratch.as_bytes());
    }

    /// The text of a key: reason byte, then key text.
    fn text(&self, key: &Key) -> &[u8] {
        self.texts
            .get(key.text_start..key.text_start + key.text_len as usize)
            .unwrap_or_default()
    }

    /// The groups of two or more customers, by reason then key. A loose-key group that
    /// only repeats an exact-key group is left out.
    #[must_use]
    pub fn groups(self) -> Vec<DuplicateGroup> {
        let hashes = sorted_by_hash(&self.hashes);
        let mut groups = Vec::new();
        let mut same_hash: Vec<Key> = Vec::new();
        for run in hashes.chunk_by(|a, b| a.0 == b.0) {
            if run.len() < 2 {
                continue; // A key nobody else has: the common case.
            }
            same_hash.clear();
            same_hash.extend(
                run.iter()
                    .filter_map(|&(_, index)| self.keys.get(index as usize).copied()),
            );
            // Nearly always one text per hash; a collision splits the run by text.
            same_hash.sort_by(|a, b| self.text(a).cmp(self.text(b)));
            for same_text in same_hash.chunk_by(|a, b| self.text(a) == self.text(b)) {
                if let Some(group) = self.group(same_text) {
                    groups.push(group);
                }
            }
        }
        groups.sort_by(|a, b| (a.reason, &a.key).cmp(&(b.reason, &b.key)));
        let exact: HashSet<Vec<CustomerId>> = groups
            .iter()
            .filter(|g| g.reason == DuplicateReason::EmailKey)
            .map(|g| g.customers.clone())
            .collect();
        groups.retain(|g| {
            g.reason != DuplicateReason::LooseEmailKey || !exact.contains(&g.customers)
        });
        groups
    }

    /// The group of keys with one text, if they belong to two or more customers.
    fn group(&self, keys: &[Key]) -> Option<DuplicateGroup> {
        let first = keys.first()?;
        let mut customers: Vec<CustomerId> = keys
            .iter()
            .filter_map(|key| self.customers.get(key.customer as usize).copied())
            .collect();
        customers.sort();
        customers.dedup();
        if customers.len() < 2 {
            return None; // One customer reached the same key twice (an alias, say).
        }
        let (&reason, key) = self.text(first).split_first()?;
        Some(DuplicateGroup {
            reason: *REASONS.get(usize::from(reason))?,
            key: String::from_utf8_lossy(key).into_owned(),
            customers,
        })
    }
}

/// `hashes` ordered by hash: a counting pass and a scatter pass spread them over
/// partitions by their top bits (reading and writing memory in order), then each
/// partition, small enough to stay in cache, is sorted on its own. One comparison sort of
/// the whole vector would make many passes over memory far larger than the cache.
fn sorted_by_hash(hashes: &[(u64, u32)]) -> Vec<(u64, u32)> {
    let partition = |hash: u64| (hash >> (u64::BITS - PARTITION_BITS)) as usize;
    let mut starts = vec![0usize; (1 << PARTITION_BITS) + 1];
    for &(hash, _) in hashes {
        if let Some(count) = starts.get_mut(partition(hash) + 1) {
            *count += 1;
        }
    }
    for i in 1..starts.len() {
        let before = starts.get(i - 1).copied().unwrap_or(0);
        if let Some(start) = starts.get_mut(i) {
            *start += before;
        }
    }
    let mut sorted = vec![(0, 0); hashes.len()];
    let mut next = starts.clone();
    for &entry in hashes {
        if let Some(slot) = next.get_mut(partition(entry.0)) {
            if let Some(place) = sorted.get_mut(*slot) {
                *place = entry;
            }
            *slot += 1;
        }
    }
    for bounds in starts.windows(2) {
        if let [start, end] = *bounds {
            if let Some(part) = sorted.get_mut(start..end) {
                part.sort_unstable();
            }
        }
    }
    sorted
}

/// The first byte of a bucket's text: the reason's index in [`REASONS`].
fn reason_code(reason: DuplicateReason) -> u8 {
    match reason {
        DuplicateReason::EmailKey => 0,
        DuplicateReason::LooseEmailKey => 1,
        DuplicateReason::Phone => 2,
        DuplicateReason::NameAndPostcode => 3,
    }
}

/// A 64-bit hash of a bucket's text: eight bytes at a time, then a final avalanche so the
/// low bits the map indexes by depend on every input bit. Not keyed: the directory's own
/// data is hashed, and equal hashes are always checked against the text.
fn text_hash(text: &[u8]) -> u64 {
    const MULTIPLIER: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut hash = (text.len() as u64).wrapping_mul(MULTIPLIER);
    let mut chunks = text.chunks_exact(8);
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        hash = (hash ^ u64::from_le_bytes(word))
            .wrapping_mul(MULTIPLIER)
            .rotate_left(31);
    }
    let mut word = [0u8; 8];
    let rest = chunks.remainder();
    if let Some(head) = word.get_mut(..rest.len()) {
        head.copy_from_slice(rest);
    }
    hash = (hash ^ u64::from_le_bytes(word)).wrapping_mul(MULTIPLIER);
    // Final mix (xor-shift-multiply), so equal prefixes do not cluster.
    hash ^= hash >> 32;
    hash = hash.wrapping_mul(0xd6e8_feb8_6659_fd93);
    hash ^ (hash >> 32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reason_codes_index_the_reasons() {
        for (code, reason) in REASONS.iter().enumerate() {
            assert_eq!(usize::from(reason_code(*reason)), code);
        }
    }

    #[test]
    fn hashes_differ_for_near_texts() {
        let texts: [&[u8]; 6] = [b"", b"\0", b"a", b"a\0", b"abcdefgh", b"abcdefgh\0"];
        for (i, a) in texts.iter().enumerate() {
            for b in &texts[i + 1..] {
                assert_ne!(text_hash(a), text_hash(b), "{a:?} {b:?}");
            }
        }
    }

    /// Gives every key the same hash, so grouping relies on the text comparison alone.
    #[test]
    fn a_hash_collision_never_groups_different_keys() {
        let now = chrono::Utc::now();
        let customers: Vec<Customer> = ["+442079460958", "+442079460958", "+442079460959"]
            .iter()
            .map(|phone| {
                let phone = crate::values::phone::Phone::parse(phone, None).ok();
                Customer::new(
                    crate::records::profile::Profile {
                        phone,
                        ..crate::records::profile::Profile::default()
                    },
                    now,
                )
            })
            .collect();
        let mut finder = DuplicateFinder::default();
        for customer in &customers {
            finder.add(customer);
        }
        for (hash, _) in &mut finder.hashes {
            *hash = 7;
        }
        let groups = finder.groups();
        assert_eq!(groups.len(), 1);
        assert_eq!(groups[0].key, "+442079460958");
        let mut expected = vec![customers[0].id, customers[1].id];
        expected.sort();
        assert_eq!(groups[0].customers, expected);
    }

    /// The grouping as first written: a map of `(reason, key text)` buckets. The finder must
    /// give exactly its groups.
    fn reference_groups(customers: &[Customer]) -> Vec<DuplicateGroup> {
        let mut buckets: std::collections::HashMap<(DuplicateReason, String), Vec<CustomerId>> =
            std::collections::HashMap::new();
        for customer in customers.iter().filter(|c| c.status.is_live()) {
            let mut put = |reason: DuplicateReason, key: String| {
                let bucket = buckets.entry((reason, key)).or_default();
                if !bucket.contains(&customer.id) {
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
        let mut groups: Vec<DuplicateGroup> = buckets
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

    /// A customer from small pools of values, so that keys collide often: emails that
    /// differ only in case (exact-case keys), Gmail dots and tags, aliases, shared phones,
    /// names and postcodes, and some customers that are not live.
    fn customer() -> impl proptest::strategy::Strategy<Value = Customer> {
        use crate::records::profile::{PostalAddress, Profile};
        use crate::values::email::EmailKeyPolicy;
        use crate::values::email::address::EmailAddress;
        use crate::values::phone::Phone;
        use crate::values::text::{PersonName, Text};
        use proptest::prelude::*;
        let email = prop::sample::select(vec![
            "ana@example.com",
            "Ana@example.com",
            "ANA@Example.com",
            "a.na@gmail.com",
            "ana+x@googlemail.com",
            "ana@gmail.com",
            "Jörg@example.com",
            "jörg@example.com",
            "\"a b\"@example.com",
            "b@example.com",
        ]);
        (
            prop::option::of(email.clone()),
            prop::collection::vec(email, 0..3),
            prop::option::of(prop::sample::select(vec!["+442079460958", "+442079460959"])),
            prop::option::of(prop::sample::select(vec!["Nia", "NIA", "Ana"])),
            prop::option::of(prop::sample::select(vec!["LS1 1AA", "ls11aa", "E1 6AN"])),
            prop::sample::select(vec![
                crate::records::customer::CustomerStatus::Active,
                crate::records::customer::CustomerStatus::Archived,
                crate::records::customer::CustomerStatus::Blocked,
                crate::records::customer::CustomerStatus::Redacted,
            ]),
        )
            .prop_map(|(email, aliases, phone, given, postcode, status)| {
                let parse = |raw: &str| {
                    EmailAddress::parse_with_policy(raw, EmailKeyPolicy::ExactCase).ok()
                };
                let profile = Profile {
                    email: email.and_then(parse),
                    phone: phone.and_then(|p| Phone::parse(p, None).ok()),
                    given_name: given.and_then(|g| PersonName::parse(g).ok()),
                    address: PostalAddress {
                        postcode: postcode.and_then(|p| Text::parse(p).ok()),
                        ..PostalAddress::default()
                    },
                    ..Profile::default()
                };
                let mut customer = Customer::new(profile, chrono::Utc::now());
                customer.aliases = aliases.into_iter().filter_map(parse).collect();
                customer.status = status;
                customer
            })
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]

        #[test]
        fn groups_are_those_of_the_reference(
            customers in proptest::collection::vec(customer(), 0..12),
        ) {
            let mut finder = DuplicateFinder::default();
            for customer in &customers {
                finder.add(customer);
            }
            proptest::prop_assert_eq!(finder.groups(), reference_groups(&customers));
        }
    }

    #[test]
    fn hashes_are_sorted_across_partitions() {
        let hashes: Vec<(u64, u32)> = (0..5_000u32)
            .map(|i| (text_hash(&i.to_le_bytes()) >> (i % 3 * 7), i))
            .collect();
        let mut expected = hashes.clone();
        expected.sort_unstable();
        assert_eq!(sorted_by_hash(&hashes), expected);
        assert!(sorted_by_hash(&[]).is_empty());
    }
}
