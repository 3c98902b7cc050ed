//! The account records of the in-memory store: checking and applying a commit's account part.

use std::collections::{HashMap, HashSet};

use crate::ports::store::Conflict;
use crate::ports::store::changes::{AccountGuard, ChangeSet, Expected, Write};
use crate::records::account::{Account, AccountToken};
use crate::records::tokens::ResetTokenHash;
use crate::values::email::key::EmailKey;
use crate::values::ids::{AccountId, CustomerId};

/// The account records of the in-memory store and their indexes.
#[derive(Default)]
pub(super) struct AccountState {
    pub(super) accounts: HashMap<AccountId, Account>,
    /// Login email key -> account: unique.
    pub(super) by_key: HashMap<EmailKey, AccountId>,
    /// Claimed customer -> account: unique.
    pub(super) by_customer: HashMap<CustomerId, AccountId>,
    pub(super) tokens: HashMap<ResetTokenHash, AccountToken>,
    pub(super) tokens_by_account: HashMap<AccountId, Vec<ResetTokenHash>>,
}

impl AccountState {
    /// Checks the account part of `changes` against the current state, mutating nothing.
    pub(super) fn check(&self, changes: &ChangeSet) -> Result<(), Conflict> {
        for write in changes.accounts() {
            let found = self.accounts.get(&write.record.id).map(|a| a.version);
            if !write.expected.is_met_by(found) {
                return Err(Conflict::AccountVersion {
                    id: write.record.id,
                    expected: write.expected,
                    found,
                });
            }
        }
        let mut removed: HashSet<AccountId> = HashSet::new();
        for deletion in changes.account_deletions() {
            let found = self.accounts.get(&deletion.account).map(|a| a.version);
            if found != Some(deletion.version) {
                return Err(Conflict::AccountVersion {
                    id: deletion.account,
                    expected: Expected::Version(deletion.version),
                    found,
                });
            }
            removed.insert(deletion.account);
        }
        let rewritten: HashSet<AccountId> = changes
            .accounts()
            .iter()
            .map(|write| write.record.id)
            .chain(removed.iter().copied())
            .collect();
        let mut keys: HashMap<&EmailKey, AccountId> = HashMap::new();
        let mut customers: HashMap<CustomerId, AccountId> = HashMap::new();
        for write in changes.accounts() {
            let account = &write.record;
            if removed.contains(&account.id) {
                continue;
            }
            let key = account.email.key();
            match keys.insert(key, account.id) {
                Some(other) if other != account.id => {
                    return Err(Conflict::AccountEmailTaken {
                        key: key.clone(),
                        holder: other,
                    });
                }
                _ => {}
            }
            if let Some(&holder) = self.by_key.get(key) {
                if holder != account.id && !rewritten.contains(&holder) {
                    return Err(Conflict::AccountEmailTaken {
                        key: key.clone(),
                        holder,
                    });
                }
            }
            if let Some(customer) = account.customer {
                match customers.insert(customer, account.id) {
                    Some(other) if other != account.id => {
                        return Err(Conflict::AccountCustomerTaken {
                            customer,
                            holder: other,
                        });
                    }
                    _ => {}
                }
                if let Some(&holder) = self.by_customer.get(&customer) {
                    if holder != account.id && !rewritten.contains(&holder) {
                        return Err(Conflict::AccountCustomerTaken { customer, holder });
                    }
                }
            }
        }
        for write in changes.account_tokens() {
            let token = &write.record;
            let found = self.tokens.get(&token.hash).map(|t| t.version);
            if !write.expected.is_met_by(found) {
                return Err(Conflict::AccountTokenVersion {
                    account: token.account,
                    expected: write.expected,
                    found,
                });
            }
            let exists_after = !removed.contains(&token.account)
                && (self.accounts.contains_key(&token.account)
                    || changes
                        .accounts()
                        .iter()
                        .any(|w| w.record.id == token.account));
            if !exists_after {
                return Err(Conflict::AccountMissing(token.account));
            }
        }
        Ok(())
    }

    pub(super) fn apply(
        &mut self,
        accounts: Vec<Write<Account>>,
        deletions: Vec<AccountGuard>,
        tokens: Vec<Write<AccountToken>>,
    ) {
        for deletion in deletions {
            self.unindex(deletion.account);
            self.accounts.remove(&deletion.account);
            for hash in self
                .tokens_by_account
                .remove(&deletion.account)
                .unwrap_or_default()
            {
                self.tokens.remove(&hash);
            }
        }
        // Release first, so keys and claims can move between accounts in one commit.
        for write in &accounts {
            self.unindex(write.record.id);
        }
        for write in accounts {
            let account = write.record;
            self.by_key.insert(account.email.key().clone(), account.id);
            if let Some(customer) = account.customer {
                self.by_customer.insert(customer, account.id);
            }
            self.accounts.insert(account.id, account);
        }
        for write in tokens {
            let token = write.record;
            // A token already stored is being rewritten (used up, voided) and is listed
            // under its account already: only a new one joins the list. Deciding this from
            // the map, not by scanning the account's list, keeps each write constant-time
            // however many tokens an account has collected.
            let hash = token.hash.clone();
            let account = token.account;
            if self.tokens.insert(hash.clone(), token).is_none() {
                self.tokens_by_account
                    .entry(account)
                    .or_default()
                    .push(hash);
            }
        }
    }

    /// Drops the indexes pointing at `id`'s stored record.
    pub(super) fn unindex(&mut self, id: AccountId) {
        if let Some(old) = self.accounts.get(&id) {
            if self.by_key.get(old.email.key()) == Some(&id) {
                self.by_key.remove(old.email.key());
            }
            if let Some(customer) = old.customer {
                if self.by_customer.get(&customer) == Some(&id) {
                    self.by_customer.remove(&customer);
                }
            }
        }
    }
}
