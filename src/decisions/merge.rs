//! Merging duplicate customers into one survivor, and undoing it.
//!
//! Merged customers become tombstones (`MergedInto(survivor)`, no personal data) so that
//! old ids still resolve.
//!
//! Pure: [`plan_merge`] takes the customers and the bookings that will move and returns a
//! [`MergeReport`] and the [`ChangeSet`] that applies it; [`plan_undo`] does the same for
//! an undo. Nothing is ever silently dropped: a value of a merged customer that the survivor
//! does not take is listed in [`MergeReport::conflicts`] and kept in the [`MergeRecord`].

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::ports::store::changes::ChangeSet;
use crate::records::account::Account;
use crate::records::booking::{Attribution, Booking};
use crate::records::customer::{Customer, CustomerStatus};
use crate::records::merge::{FieldConflict, MergeRecord, MergeReport, MovedBooking};
use crate::records::notes::ProfileRecords;
use crate::records::profile::{Detail, Profile};
use crate::values::ids::{AccountId, BookingId, CustomerId, MergeId};

/// The most customers one merge takes, survivor included.
pub const MAX_MERGE_SIZE: usize = 10;

/// What staff ask for when merging.
///
/// # Examples
///
/// ```
/// use customer_directory::{CustomerId, MergeRequest};
/// use customer_directory::records::Detail;
/// let (keep, dup) = (CustomerId::new(), CustomerId::new());
/// let request = MergeRequest::new(keep, [dup]).take(Detail::Phone, dup);
/// assert_eq!(request.others, vec![dup]);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct MergeRequest {
    /// The customer that remains.
    pub survivor: CustomerId,
    /// The customers merged into it, in priority order for filling the survivor's blanks.
    pub others: Vec<CustomerId>,
    /// Per-detail overrides: take this detail from that customer even if the survivor has one.
    pub overrides: Vec<(Detail, CustomerId)>,
    /// Staff confirmed that blocked customers may be merged.
    pub allow_blocked: bool,
    /// The account to keep when the customers have more than one (the others are closed).
    #[serde(default)]
    pub keep_account: Option<AccountId>,
}

impl MergeRequest {
    /// Merge `others` into `survivor`, with no overrides.
    ///
    /// # Examples
    ///
    /// ```
    /// use customer_directory::{CustomerId, MergeRequest};
    /// let request = MergeRequest::new(CustomerId::new(), [CustomerId::new()]);
    /// assert!(!request.allow_blocked);
    /// ```
    #[must_use]
    pub fn new(survivor: CustomerId, others: impl IntoIterator<Item = CustomerId>) -> Self {
        Self {
            survivor,
            others: others.into_iter().collect(),
            overrides: Vec::new(),
            allow_blocked: false,
            keep_account: None,
        }
    }

    /// Keeps this account when the merged customers have more than one: the others are
    /// closed (at most one account survives a merge).
    ///
    /// # Examples
    ///
    /// ```
    /// use customer_directory::{AccountId, CustomerId, MergeRequest};
    /// let account = AccountId::new();
    /// let request = MergeRequest::new(CustomerId::new(), [CustomerId::new()]).keeping_account(account);
    /// assert_eq!(request.keep_account, Some(account));
    /// ```
    #[must_use]
    pub fn keeping_account(mut self, account: AccountId) -> Self {
        self.keep_account = Some(account);
        self
    }

    /// Takes `detail` from `from` instead of the survivor's value.
    ///
    /// # Examples
    ///
    /// ```
    /// use customer_directory::{CustomerId, MergeRequest};
    /// use customer_directory::records::Detail;
    /// let dup = CustomerId::new();
    /// let request = MergeRequest::new(CustomerId::new(), [dup]).take(Detail::City, dup);
    /// assert_eq!(request.overrides, vec![(Detail::City, dup)]);
    /// ```
    #[must_use]
    pub fn take(mut self, detail: Detail, from: CustomerId) -> Self {
        self.overrides.push((detail, from));
        self
    }

    /// Consents to merging blocked customers.
    ///
    /// # Examples
    ///
    /// ```
    /// use customer_directory::{CustomerId, MergeRequest};
    /// assert!(MergeRequest::new(CustomerId::new(), []).allowing_blocked().allow_blocked);
    /// ```
    #[must_use]
    pub fn allowing_blocked(mut self) -> Self {
        self.allow_blocked = true;
        self
    }
}

/// Why a merge or an undo cannot be made.
///
/// # Examples
///
/// ```
/// use customer_directory::decisions::MergeError;
/// assert_eq!(MergeError::TooMany { count: 11 }.to_string(), "a merge takes 2 to 10 customers, not 11");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MergeError {
    /// Fewer than 2 or more than 10 distinct customers.
    #[error("a merge takes 2 to 10 customers, not {count}")]
    TooMany {
        /// How many distinct customers were given.
        count: usize,
    },
    /// The survivor was also listed among the others, or a customer twice.
    #[error("customer {0} is listed twice")]
    Repeated(CustomerId),
    /// A redacted or already merged customer cannot take part.
    #[error("customer {id} cannot be merged: it is {status}")]
    NotMergeable {
        /// The customer.
        id: CustomerId,
        /// Its status.
        status: CustomerStatus,
    },
    /// A blocked customer takes part and staff did not consent.
    #[error("customer {0} is blocked: merging it needs explicit consent")]
    BlockedNeedsConsent(CustomerId),
    /// An override names a customer that is not part of the merge.
    #[error("override for {detail} names customer {from}, which is not merged")]
    OverrideOutsideMerge {
        /// The detail.
        detail: Detail,
        /// The customer named.
        from: CustomerId,
    },
    /// The merge was already undone.
    #[error("merge {0} was already undone")]
    AlreadyUndone(MergeId),
    /// The survivor was redacted since the merge: the merge record's personal values are
    /// erased, so the merged customers cannot come back.
    #[error("merge {merge} can no longer be undone: its survivor {survivor} was redacted")]
    SurvivorRedacted {
        /// The merge.
        merge: MergeId,
        /// The redacted survivor.
        survivor: CustomerId,
    },
    /// The undo window has passed.
    #[error("merge {merge} can no longer be undone: the window closed at {closed_at}")]
    UndoWindowClosed {
        /// The merge.
        merge: MergeId,
        /// When the window closed.
        closed_at: DateTime<Utc>,
    },
    /// More than one of the customers has an account: name the one to keep with
    /// [`MergeRequest::keeping_account`].
    #[error("{} of these customers have an account: name the one to keep", .accounts.len())]
    SeveralAccounts {
        /// The accounts, in the order of the customers.
        accounts: Vec<AccountId>,
    },
    /// The account named to keep does not belong to any of the merged customers.
    #[error("account {0} does not belong to any of the merged customers")]
    KeptAccountOutsideMerge(AccountId),
}

/// A decided merge: the report and the writes that apply it.
#[derive(Debug, Clone)]
pub struct MergePlan {
    /// What the merge does.
    pub report: MergeReport,
    /// The writes, including the [`MergeRecord`].
    pub changes: ChangeSet,
}

/// Text of one detail's value in a profile, for conflict reports.
fn detail_text(profile: &Profile, detail: &Detail) -> Option<String> {
    let address = &profile.address;
    match detail {
        Detail::GivenName => profile.given_name.as_ref().map(ToString::to_string),
        Detail::FamilyName => profile.family_name.as_ref().map(ToString::to_string),
        Detail::DisplayName => profile.display_name.as_ref().map(ToString::to_string),
        Detail::Email => profile.email.as_ref().map(ToString::to_string),
        Detail::Phone => profile.phone.as_ref().map(|p| p.e164().to_owned()),
        Detail::AddressLine1 => address.line1.as_ref().map(ToString::to_string),
        Detail::AddressLine2 => address.line2.as_ref().map(ToString::to_string),
        Detail::City => address.city.as_ref().map(ToString::to_string),
        Detail::Region => address.region.as_ref().map(ToString::to_string),
        Detail::Postcode => address.postcode.as_ref().map(ToString::to_string),
        Detail::Country => address.country.as_ref().map(ToString::to_string),
        Detail::CustomField(key) => profile.custom_fields.get(key).map(ToString::to_string),
    }
}

/// Every detail a profile has a value for.
fn details_of(profile: &Profile) -> Vec<Detail> {
    Profile::default().fillable_from(profile)
}

/// Checks a request against the customers it names (survivor first) and returns the
/// distinct customers in request order.
fn validate(request: &MergeRequest, customers: &[Customer]) -> Result<(), MergeError> {
    let mut seen = Vec::with_capacity(customers.len());
    for customer in customers {
        if seen.contains(&customer.id) {
            return Err(MergeError::Repeated(customer.id));
        }
        seen.push(customer.id);
    }
    if !(2..=MAX_MERGE_SIZE).contains(&customers.len()) {
        return Err(MergeError::TooMany {
            count: customers.len(),
        });
    }
    for customer in customers {
        match customer.status {
            CustomerStatus::Redacted | CustomerStatus::MergedInto(_) => {
                return Err(MergeError::NotMergeable {
                    id: customer.id,
                    status: customer.status,
                });
            }
            CustomerStatus::Blocked if !request.allow_blocked => {
                return Err(MergeError::BlockedNeedsConsent(customer.id));
            }
            _ => {}
        }
    }
    for (detail, from) in &request.overrides {
        if !seen.contains(from) {
            return Err(MergeError::OverrideOutsideMerge {
                detail: detail.clone(),
                from: *from,
            });
        }
    }
    Ok(())
}

/// Which account survives the merge and which are closed: the merge's account guard, as a
/// pure decision.
fn decide_accounts(
    request: &MergeRequest,
    customers: &[Customer],
    accounts: Vec<Account>,
) -> Result<(Option<Account>, Vec<Account>), MergeError> {
    // Only accounts claiming one of these customers count, once each, in customer order.
    let mut involved: Vec<Account> = Vec::new();
    for customer in customers {
        for account in &accounts {
            let claims = account.customer == Some(customer.id);
            if claims && !involved.iter().any(|a| a.id == account.id) {
                involved.push(account.clone());
            }
        }
    }
    if let Some(keep) = request.keep_account {
        let Some(position) = involved.iter().position(|a| a.id == keep) else {
            return Err(MergeError::KeptAccountOutsideMerge(keep));
        };
        let kept = involved.remove(position);
        return Ok((Some(kept), involved));
    }
    if involved.len() > 1 {
        return Err(MergeError::SeveralAccounts {
            accounts: involved.iter().map(|a| a.id).collect(),
        });
    }
    Ok((involved.pop(), Vec::new()))
}

/// Decides a merge of `others` into `survivor` per `request`.
///
/// `others` must be in the order of `request.others`; `bookings` are every booking
/// attributed to any of `others`. The survivor keeps its non-empty values; its blanks are
/// filled from the others in order; overrides win over both. Every value not taken is
/// reported as a conflict. Other emails become aliases; bookings move with their
/// primary/related flag; the others become `MergedInto(survivor)`.
///
/// # Errors
///
/// [`MergeError`] when the request breaks a merge rule.
///
/// # Examples
///
/// ```
/// use customer_directory::decisions::plan_merge;
/// use customer_directory::{Customer, EmailAddress, MergeRequest, PersonName, Profile};
/// let now = chrono::Utc::now();
/// let mut keep = Customer::new(Profile { email: Some(EmailAddress::parse("a@example.com")?), ..Profile::default() }, now);
/// keep.version = 1;
/// let mut dup = Customer::new(Profile {
///     email: Some(EmailAddress::parse("a.other@example.com")?),
///     given_name: Some(PersonName::parse("Ana")?),
///     ..Profile::default()
/// }, now);
/// dup.version = 1;
/// let plan = plan_merge(keep.clone(), vec![dup.clone()], vec![], &MergeRequest::new(keep.id, [dup.id]), now)?;
/// assert_eq!(plan.report.aliases_added[0].as_str(), "a.other@example.com");
/// assert_eq!(plan.report.filled.len(), 1);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn plan_merge(
    survivor: Customer,
    others: Vec<Customer>,
    bookings: Vec<Booking>,
    request: &MergeRequest,
    now: DateTime<Utc>,
) -> Result<MergePlan, MergeError> {
    plan_merge_with_accounts(survivor, others, bookings, Vec::new(), request, now)
}

/// [`plan_merge`] for customers that may have accounts: `accounts` are the accounts
/// claiming the survivor or any of `others`.
///
/// At most one account survives: with more than one, the request must
/// name the one to keep ([`MergeRequest::keeping_account`]), else
/// [`MergeError::SeveralAccounts`] and nothing changes. The kept account claims the
/// survivor; the others are closed (deleted with their tokens) in the same commit. Undoing
/// the merge does not bring closed accounts back; the kept account, if it came from a
/// merged customer, goes back to it.
///
/// # Errors
///
/// As [`plan_merge`], plus [`MergeError::SeveralAccounts`] and
/// [`MergeError::KeptAccountOutsideMerge`].
///
/// # Examples
///
/// ```
/// use customer_directory::decisions::{plan_merge_with_accounts, MergeError};
/// use customer_directory::records::Account;
/// use customer_directory::{Customer, EmailAddress, MergeRequest, Profile};
/// use customer_directory::values::PasswordHashing;
/// let now = chrono::Utc::now();
/// let hash = PasswordHashing::new().hash("Plum-Tractor-Velvet-9")?;
/// let (mut a, mut b) = (Customer::new(Profile::default(), now), Customer::new(Profile::default(), now));
/// a.version = 1;
/// b.version = 1;
/// let mut login_a = Account::new(EmailAddress::parse("a@example.com")?, hash.clone(), now);
/// login_a.customer = Some(a.id);
/// let mut login_b = Account::new(EmailAddress::parse("b@example.com")?, hash, now);
/// login_b.customer = Some(b.id);
/// let accounts = vec![login_a.clone(), login_b.clone()];
/// let request = MergeRequest::new(a.id, [b.id]);
/// let refused = plan_merge_with_accounts(a.clone(), vec![b.clone()], vec![], accounts.clone(), &request, now);
/// assert!(matches!(refused, Err(MergeError::SeveralAccounts { .. })));
/// let plan = plan_merge_with_accounts(a, vec![b], vec![], accounts, &request.keeping_account(login_b.id), now)?;
/// assert_eq!(plan.report.account_kept, Some(login_b.id));
/// assert_eq!(plan.report.accounts_closed, vec![login_a.id]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn plan_merge_with_accounts(
    survivor: Customer,
    others: Vec<Customer>,
    bookings: Vec<Booking>,
    accounts: Vec<Account>,
    request: &MergeRequest,
    now: DateTime<Utc>,
) -> Result<MergePlan, MergeError> {
    let all: Vec<Customer> = std::iter::once(survivor.clone())
        .chain(others.iter().cloned())
        .collect();
    validate(request, &all)?;
    let (kept, closed) = decide_accounts(request, &all, accounts)?;
    let merge = MergeId::new();
    let mut updated = survivor.clone();
    let mut filled = Vec::new();
    let mut conflicts = Vec::new();

    // Overrides first: they replace the survivor's value.
    for (detail, from) in &request.overrides {
        if *detail == Detail::Email {
            continue; // the survivor's email is its identity; other emails become aliases
        }
        if let Some(source) = others.iter().find(|c| c.id == *from) {
            if detail_text(&source.profile, detail).is_some() {
                if let Some(previous) = detail_text(&updated.profile, detail) {
                    conflicts.push(FieldConflict {
                        detail: detail.clone(),
                        from: survivor.id,
                        value: previous,
                        kept: detail_text(&source.profile, detail).unwrap_or_default(),
                    });
                }
                updated.profile.clear_detail(detail);
                updated.profile.copy_detail_from(&source.profile, detail);
                filled.push((detail.clone(), *from));
            }
        }
    }
    // Then blanks, in the order given; every other value not taken is a conflict.
    for other in &others {
        for detail in details_of(&other.profile) {
            if detail == Detail::Email {
                continue;
            }
            let theirs = detail_text(&other.profile, &detail).unwrap_or_default();
            match detail_text(&updated.profile, &detail) {
                None => {
                    updated.profile.copy_detail_from(&other.profile, &detail);
                    filled.push((detail, other.id));
                }
                Some(kept) if kept != theirs => conflicts.push(FieldConflict {
                    detail,
                    from: other.id,
                    value: theirs,
                    kept,
                }),
                Some(_) => {}
            }
        }
    }
    // Other emails (and their aliases) become aliases of the survivor.
    let mut aliases_added = Vec::new();
    for other in &others {
        for address in other.profile.email.iter().chain(&other.aliases) {
            let known = updated.email_keys().any(|key| key == address.key());
            if !known {
                updated.aliases.push(address.clone());
                aliases_added.push(address.clone());
            }
        }
    }
    // Notes appended (survivor's first), lists unioned, the latest newsletter decision wins.
    for other in &others {
        updated.records.absorb(&other.records);
    }
    if updated.status == CustomerStatus::Archived
        && others.iter().any(|c| c.status == CustomerStatus::Active)
    {
        updated.status = CustomerStatus::Active;
    }
    updated.updated_at = now;

    let mut changes = ChangeSet::new();
    // Every booking of the others moves: none may arrive on them before the commit.
    for other in &others {
        let theirs = bookings
            .iter()
            .filter(|b| b.attribution.customer() == Some(other.id))
            .map(|b| b.id);
        changes.expect_bookings(other.id, theirs);
    }
    let mut moved = Vec::new();
    for mut booking in bookings {
        let Some(from) = booking.attribution.customer() else {
            continue;
        };
        if !others.iter().any(|c| c.id == from) {
            continue;
        }
        let before = booking.attribution.clone();
        booking.attribution = match before.clone() {
            Attribution::Related { differences, .. } => Attribution::Related {
                customer: survivor.id,
                differences,
            },
            _ => Attribution::Primary(survivor.id),
        };
        moved.push(MovedBooking {
            booking: booking.id,
            from,
            attribution_before: before,
            version_after: booking.version + 1,
        });
        changes.save_booking(booking);
    }
    // Tombstones first, so their keys are free for the survivor's aliases in one commit.
    let mut merged = Vec::new();
    for other in &others {
        // The tombstone keeps no personal data: it lives on in the survivor and, for undo,
        // in the merge record, so redaction has fewer places to reach.
        let mut tombstone = other.clone();
        tombstone.profile = Profile::default();
        tombstone.aliases.clear();
        tombstone.records = ProfileRecords::default();
        tombstone.status = CustomerStatus::MergedInto(survivor.id);
        tombstone.updated_at = now;
        merged.push(other.id);
        changes.save_customer(tombstone);
    }
    changes.save_customer(updated);
    let account_kept = kept.as_ref().map(|account| account.id);
    let accounts_closed: Vec<AccountId> = closed.iter().map(|account| account.id).collect();
    for account in &closed {
        changes.delete_account(account);
    }
    let mut account_moved_from = None;
    if let Some(mut account) = kept {
        if account.customer != Some(survivor.id) {
            account_moved_from = account.customer;
            account.customer = Some(survivor.id);
            changes.save_account(account);
        }
    }
    let report = MergeReport {
        merge,
        survivor: survivor.id,
        merged,
        filled,
        conflicts,
        aliases_added,
        moved,
        account_kept,
        account_moved_from,
        accounts_closed,
    };
    changes.save_merge(MergeRecord {
        id: merge,
        merged_at: now,
        survivor_before: survivor,
        merged_before: others,
        report: report.clone(),
        undone_at: None,
        version: 0,
    });
    Ok(MergePlan { report, changes })
}

/// What an undo did.
///
/// An undo restores content, not bytes: the restored customers, the survivor and the
/// bookings that went back are written anew, so their versions and `updated_at` move
/// forward (and the undo is an audit event of its own), as for any other change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct UndoReport {
    /// The merge undone.
    pub merge: MergeId,
    /// The customers restored.
    pub restored: Vec<CustomerId>,
    /// Bookings moved back to the customer they came from.
    pub returned: Vec<BookingId>,
    /// Bookings changed since the merge, left where they are.
    pub kept_changed: Vec<BookingId>,
    /// Survivor details changed since the merge, left as they are.
    pub details_kept: Vec<Detail>,
    /// The account the merge had moved from a merged customer to the survivor, now
    /// claiming that customer again. Accounts the merge closed stay closed.
    #[serde(default)]
    pub account_returned: Option<AccountId>,
}

/// A decided undo: the report and the writes that apply it.
#[derive(Debug, Clone)]
pub struct UndoPlan {
    /// What the undo does.
    pub report: UndoReport,
    /// The writes.
    pub changes: ChangeSet,
}

/// Whether the merge can still be undone at `now`: not undone yet, and `now` within
/// `window` of the merge.
///
/// # Errors
///
/// [`MergeError::AlreadyUndone`] or [`MergeError::UndoWindowClosed`].
pub fn check_undoable(
    record: &MergeRecord,
    window: chrono::TimeDelta,
    now: DateTime<Utc>,
) -> Result<(), MergeError> {
    if record.undone_at.is_some() {
        return Err(MergeError::AlreadyUndone(record.id));
    }
    let closed_at = record.merged_at + window;
    if now > closed_at {
        return Err(MergeError::UndoWindowClosed {
            merge: record.id,
            closed_at,
        });
    }
    Ok(())
}

/// Decides the undo of a merge.
///
/// `survivor` and `merged` are the customers as stored now; `bookings` the current state
/// of the bookings the merge moved; `kept_account` the current state of the account the
/// merge kept ([`MergeReport::account_kept`]), if it still exists. That account goes back to
/// the merged customer it claimed before ([`MergeReport::account_moved_from`]) if it still
/// claims the survivor. The merged customers come back as they were (at their
/// current version); the survivor loses the aliases and the filled details the merge gave
/// it, unless a detail was changed since; each moved booking goes back only if unchanged
/// since the merge.
///
/// # Errors
///
/// [`MergeError::AlreadyUndone`] or [`MergeError::UndoWindowClosed`].
pub fn plan_undo(
    record: &MergeRecord,
    survivor: Customer,
    merged: Vec<Customer>,
    bookings: Vec<Booking>,
    kept_account: Option<Account>,
    window: chrono::TimeDelta,
    now: DateTime<Utc>,
) -> Result<UndoPlan, MergeError> {
    check_undoable(record, window, now)?;
    let mut changes = ChangeSet::new();
    let mut survivor_now = survivor;
    let removed: Vec<_> = record
        .report
        .aliases_added
        .iter()
        .map(|a| a.key().clone())
        .collect();
    survivor_now
        .aliases
        .retain(|alias| !removed.contains(alias.key()));
    let mut details_kept = Vec::new();
    let after_merge = &record.report;
    for (detail, from) in &after_merge.filled {
        let Some(source) = record.merged_before.iter().find(|c| c.id == *from) else {
            continue;
        };
        let merged_value = detail_text(&source.profile, detail);
        if detail_text(&survivor_now.profile, detail) == merged_value {
            survivor_now.profile.clear_detail(detail);
            survivor_now
                .profile
                .copy_detail_from(&record.survivor_before.profile, detail);
        } else {
            details_kept.push(detail.clone());
        }
    }
    for before in &record.merged_before {
        survivor_now
            .records
            .release(&record.survivor_before.records, &before.records);
    }
    // The merge activates an archived survivor when an active customer joins it; undo
    // archives it again unless staff have changed its status since.
    if record.survivor_before.status == CustomerStatus::Archived
        && survivor_now.status == CustomerStatus::Active
    {
        survivor_now.status = CustomerStatus::Archived;
    }
    survivor_now.updated_at = now;
    let mut restored = Vec::new();
    for current in merged {
        let Some(before) = record.merged_before.iter().find(|c| c.id == current.id) else {
            continue;
        };
        restored.push(current.id);
        changes.save_customer(Customer {
            version: current.version,
            updated_at: now,
            ..before.clone()
        });
    }
    // Aliases leave the survivor before the restored customers claim them: same commit.
    changes.save_customer(survivor_now);
    let mut returned = Vec::new();
    let mut kept_changed = Vec::new();
    for mut booking in bookings {
        let Some(moved) = record.report.moved.iter().find(|m| m.booking == booking.id) else {
            continue;
        };
        if booking.version == moved.version_after {
            booking.attribution = moved.attribution_before.clone();
            returned.push(booking.id);
            changes.save_booking(booking);
        } else {
            kept_changed.push(booking.id);
        }
    }
    let mut account_returned = None;
    if let (Some(mut account), Some(owner)) = (kept_account, record.report.account_moved_from) {
        if account.customer == Some(record.report.survivor) && restored.contains(&owner) {
            account.customer = Some(owner);
            account_returned = Some(account.id);
            changes.save_account(account);
        }
    }
    let mut record = record.clone();
    record.undone_at = Some(now);
    changes.save_merge(record.clone());
    Ok(UndoPlan {
        report: UndoReport {
            merge: record.id,
            restored,
            returned,
            kept_changed,
            details_kept,
            account_returned,
        },
        changes,
    })
}
