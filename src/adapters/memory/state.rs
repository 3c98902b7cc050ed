//! The in-memory store's state: reading it, and checking and applying a commit to it.

use std::collections::HashMap;
use std::hash::BuildHasher;
use std::sync::Arc;

use crate::ports::query::builder::CustomerQuery;
use crate::ports::query::evaluation::CustomerStats;
use crate::ports::store::changes::{BlocklistChange, ChangeSetParts};
use crate::ports::store::changes::{ChangeSet, Expected};
use crate::ports::store::{Conflict, EmailLookup, match_index_parts};
use crate::records::account::Account;
use crate::records::booking::Booking;
use crate::records::customer::{BlockTarget, Customer};
use crate::records::profile::MatchKeys;
use crate::values::email::key::EmailKey;
use crate::values::ids::{BookingId, CustomerId};

use crate::adapters::memory::{IndexKey, State, unattributed_email_key, unindex};

impl State {
    pub(super) fn lookup(&self, key: &EmailKey) -> EmailLookup {
        let customer = self
            .customer_by_key
            .get(key.as_str())
            .map(|(_, c)| Arc::clone(c));
        let block = if self.blocked_addresses.is_empty() && self.blocked_domains.is_empty() {
            None
        } else {
            self.blocked_addresses
                .get(key)
                .or_else(|| self.blocked_domains.get(key.domain()))
                .cloned()
        };
        EmailLookup::new(customer, block)
    }

    /// Checks every expectation of `changes` against the current state without mutating it.
    pub(super) fn check(&self, changes: &ChangeSet) -> Result<(), Conflict> {
        for write in changes.customers() {
            let found = self.customers.get(&write.record.id).map(|c| c.version);
            if !write.expected.is_met_by(found) {
                return Err(Conflict::CustomerVersion {
                    id: write.record.id,
                    expected: write.expected,
                    found,
                });
            }
        }
        for guard in changes.guards() {
            let found = self.customers.get(&guard.customer).map(|c| c.version);
            if found != Some(guard.version) {
                return Err(Conflict::CustomerVersion {
                    id: guard.customer,
                    expected: Expected::Version(guard.version),
                    found,
                });
            }
        }
        for deletion in changes.deletions() {
            let found = self.customers.get(&deletion.customer).map(|c| c.version);
            if found != Some(deletion.version) {
                return Err(Conflict::CustomerVersion {
                    id: deletion.customer,
                    expected: Expected::Version(deletion.version),
                    found,
                });
            }
        }
        for write in changes.merges() {
            let found = self.merges.get(&write.record.id).map(|m| m.version);
            if !write.expected.is_met_by(found) {
                return Err(Conflict::MergeVersion {
                    id: write.record.id,
                    expected: write.expected,
                    found,
                });
            }
        }
        for write in changes.bookings() {
            let found = self.bookings.get(&write.record.id).map(|b| b.version);
            if !write.expected.is_met_by(found) {
                return Err(Conflict::BookingVersion {
                    id: write.record.id,
                    expected: write.expected,
                    found,
                });
            }
        }
        for guard in changes.booking_guards() {
            let mut current: Vec<BookingId> = self
                .bookings_by_customer
                .get(&guard.customer)
                .cloned()
                .unwrap_or_default();
            current.sort();
            current.dedup();
            if current != guard.bookings {
                return Err(Conflict::CustomerBookings {
                    customer: guard.customer,
                });
            }
        }
        for write in changes.lists() {
            let found = self.lists.get(&write.record.id).map(|l| l.version);
            if !write.expected.is_met_by(found) {
                return Err(Conflict::ListVersion {
                    id: write.record.id,
                    expected: write.expected,
                    found,
                });
            }
            let key = write.record.name_key();
            let taken = self
                .lists
                .values()
                .filter(|other| changes.lists().iter().all(|w| w.record.id != other.id))
                .chain(changes.lists().iter().map(|w| &w.record))
                .any(|other| other.id != write.record.id && other.name_key() == key);
            if taken {
                return Err(Conflict::ListNameTaken {
                    name: write.record.name.as_str().to_owned(),
                });
            }
        }
        self.check_email_keys(changes)
    }

    /// After the commit, each key may be held by one live customer only.
    pub(super) fn check_email_keys(&self, changes: &ChangeSet) -> Result<(), Conflict> {
        let mut claimed: HashMap<&EmailKey, CustomerId> = HashMap::new();
        for write in changes.customers() {
            for key in write.record.indexed_keys() {
                match claimed.insert(key, write.record.id) {
                    Some(other) if other != write.record.id => {
                        return Err(Conflict::EmailKeyTaken {
                            key: key.clone(),
                            holder: other,
                        });
                    }
                    _ => {}
                }
            }
        }
        let rewritten: Vec<CustomerId> = changes.rewritten_customer_ids().collect();
        for (key, claimant) in claimed {
            if let Some(&(holder, _)) = self.customer_by_key.get(key.as_str()) {
                // A holder rewritten by this same commit keeps the key only if it claims it
                // again, and then `claimed` already caught the clash.
                if holder != claimant && !rewritten.contains(&holder) {
                    return Err(Conflict::EmailKeyTaken {
                        key: key.clone(),
                        holder,
                    });
                }
            }
        }
        Ok(())
    }

    pub(super) fn apply(&mut self, changes: ChangeSet) {
        let ChangeSetParts {
            customers,
            bookings,
            deletions,
            blocklist,
            merges,
            lists,
            audit,
            accounts,
            account_deletions,
            account_tokens,
            ..
        } = changes.into_parts();
        self.accounts
            .apply(accounts, account_deletions, account_tokens);
        // Release every key of the rewritten and deleted customers first, so keys can move
        // between customers within one commit.
        let released = customers
            .iter()
            .map(|write| write.record.id)
            .chain(deletions.iter().map(|deletion| deletion.customer));
        for id in released {
            if let Some(old) = self.customers.get(&id) {
                for key in old.indexed_keys() {
                    let held = self.customer_by_key.get(key.as_str());
                    if held.map(|(holder, _)| *holder) == Some(id) {
                        self.customer_by_key.remove(key.as_str());
                    }
                }
            }
        }
        for deletion in deletions {
            self.customers.remove(&deletion.customer);
            self.customer_ids.remove(&deletion.customer);
        }
        for write in customers {
            let customer = Arc::new(write.record);
            for key in customer.indexed_keys() {
                self.customer_by_key.insert(
                    IndexKey::new(key.as_str()),
                    (customer.id, Arc::clone(&customer)),
                );
            }
            self.customer_ids.insert(customer.id);
            self.customers.insert(customer.id, customer);
        }
        for write in bookings {
            self.put_booking(write.record);
        }
        for write in merges {
            self.merges.insert(write.record.id, write.record);
        }
        for write in lists {
            self.lists.insert(write.record.id, write.record);
        }
        for event in audit {
            self.audit.push(event);
        }
        for change in blocklist {
            match change {
                BlocklistChange::Add(entry) => match &entry.target {
                    BlockTarget::Address(key) => {
                        self.blocked_addresses.insert(key.clone(), entry);
                    }
                    BlockTarget::Domain(domain) => {
                        self.blocked_domains.insert(domain.clone(), entry);
                    }
                },
                BlocklistChange::Remove(BlockTarget::Address(key)) => {
                    self.blocked_addresses.remove(&key);
                }
                BlocklistChange::Remove(BlockTarget::Domain(domain)) => {
                    self.blocked_domains.remove(&domain);
                }
            }
        }
    }
}

impl State {
    /// Stores a booking and moves it between the customer and key indexes.
    /// One booking carrying `code` less.
    fn forget_code(&mut self, code: &str) {
        if let Some(count) = self.bookings_by_code.get_mut(code) {
            *count -= 1;
            if *count == 0 {
                self.bookings_by_code.remove(code);
            }
        }
    }

    pub(super) fn put_booking(&mut self, booking: Booking) {
        let id = booking.id;
        let old = self.bookings.remove(&id);
        let (before, after) = (
            old.as_ref().and_then(|b| b.attribution.customer()),
            booking.attribution.customer(),
        );
        if before != after {
            if let Some(customer) = before {
                unindex(&mut self.bookings_by_customer, &customer, id);
            }
            if let Some(customer) = after {
                self.bookings_by_customer
                    .entry(customer)
                    .or_default()
                    .push(id);
            }
        }
        if old.as_ref().is_none_or(|old| old.code != booking.code) {
            if let Some(old) = &old {
                self.forget_code(&old.code);
            }
            *self
                .bookings_by_code
                .entry(booking.code.as_str().into())
                .or_default() += 1;
        }
        if let Some(old) = &old {
            if let Some(key) = unattributed_email_key(old) {
                unindex(&mut self.unattributed_by_email_key, key, id);
            }
            for part in match_index_parts(&old.contact.match_keys()) {
                let hash = self.match_key_hasher.hash_one(part);
                unindex(&mut self.bookings_by_match_key, &hash, id);
            }
        }
        if let Some(key) = unattributed_email_key(&booking) {
            match self.unattributed_by_email_key.get_mut(key) {
                Some(list) => list.push(id),
                None => {
                    self.unattributed_by_email_key
                        .insert(IndexKey::new(key), vec![id]);
                }
            }
        }
        for part in match_index_parts(&booking.contact.match_keys()) {
            let hash = self.match_key_hasher.hash_one(part);
            self.bookings_by_match_key.entry(hash).or_default().push(id);
        }
        self.bookings.insert(id, Box::new(booking));
    }

    /// The bookings holding any of `keys`, sorted as [`Self::bookings_sorted`] sorts.
    pub(super) fn bookings_with_keys(&self, keys: &MatchKeys) -> Vec<Booking> {
        let wanted: Vec<(&str, &str)> = match_index_parts(keys).collect();
        let candidates = wanted
            .iter()
            .filter_map(|part| {
                let hash = self.match_key_hasher.hash_one(part);
                self.bookings_by_match_key.get(&hash)
            })
            .flatten();
        let mut bookings = self.bookings_sorted(candidates);
        // Drop the bookings that are only there because another key has the same hash.
        bookings.retain(|booking| {
            match_index_parts(&booking.contact.match_keys()).any(|part| wanted.contains(&part))
        });
        bookings
    }

    pub(super) fn bookings_sorted<'a>(
        &self,
        ids: impl Iterator<Item = &'a BookingId>,
    ) -> Vec<Booking> {
        let mut bookings: Vec<Booking> = ids
            .filter_map(|id| self.bookings.get(id))
            .map(|booking| Booking::clone(booking))
            .collect();
        bookings.sort_by_key(|booking| (booking.starts_at, booking.id));
        // A booking listed under several keys is next to itself once sorted.
        bookings.dedup_by_key(|booking| booking.id);
        bookings
    }

    /// The bookings attributed to `customer`, by start time then id.
    pub(super) fn bookings_of_customer(&self, customer: CustomerId) -> Vec<Booking> {
        self.bookings_sorted(
            self.bookings_by_customer
                .get(&customer)
                .into_iter()
                .flatten(),
        )
    }

    /// The account claiming `customer`.
    pub(super) fn account_claiming(&self, customer: CustomerId) -> Option<Account> {
        let accounts = &self.accounts;
        accounts
            .by_customer
            .get(&customer)
            .and_then(|id| accounts.accounts.get(id))
            .cloned()
    }

    /// The customers passing every filter of `query`, each with its booking statistics, in
    /// no order: the one scan searching and counting share.
    pub(super) fn matching<'s>(
        &'s self,
        query: &'s CustomerQuery,
    ) -> impl Iterator<Item = (&'s Arc<Customer>, CustomerStats)> + 's {
        self.customers.values().filter_map(move |customer| {
            let bookings = self
                .bookings_by_customer
                .get(&customer.id)
                .into_iter()
                .flatten()
                .filter_map(|id| self.bookings.get(id).map(AsRef::as_ref));
            let stats = CustomerStats::of(bookings);
            let claimed = self.accounts.by_customer.contains_key(&customer.id);
            query
                .matches(customer, &stats, claimed)
                .then_some((customer, stats))
        })
    }
}
