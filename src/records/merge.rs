//! The record of a merge: what it did, and the customers as they were before it.
//!
//! A merge's decision lives in [`decisions`](crate::decisions); what it leaves behind is a
//! record like any other, stored with the customers so that it can be listed, audited and
//! undone.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::records::booking::Attribution;
use crate::records::customer::Customer;
use crate::records::profile::Detail;
use crate::values::email::address::EmailAddress;
use crate::values::ids::{AccountId, BookingId, CustomerId, MergeId};

/// A value of a merged customer that the survivor did not take.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldConflict {
    /// The detail.
    pub detail: Detail,
    /// The customer whose value was not taken.
    pub from: CustomerId,
    /// Its value, as text.
    pub value: String,
    /// The value the survivor kept, as text.
    pub kept: String,
}

/// A booking a merge moved to the survivor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MovedBooking {
    /// The booking.
    pub booking: BookingId,
    /// The customer it belonged to.
    pub from: CustomerId,
    /// Its attribution before the merge (primary or related, kept as it was).
    pub attribution_before: Attribution,
    /// Its version right after the merge: an undo moves it back only if it is unchanged.
    pub version_after: u64,
}

/// What a merge did (or, for a preview, would do).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct MergeReport {
    /// The merge's id, which `Directory::undo_merge` takes.
    pub merge: MergeId,
    /// The surviving customer.
    pub survivor: CustomerId,
    /// The customers now `MergedInto(survivor)`.
    pub merged: Vec<CustomerId>,
    /// Survivor details that were empty (or overridden) and taken from another customer.
    pub filled: Vec<(Detail, CustomerId)>,
    /// Values not taken, kept here and in the merge record.
    pub conflicts: Vec<FieldConflict>,
    /// Addresses that became aliases of the survivor.
    pub aliases_added: Vec<EmailAddress>,
    /// Bookings that moved to the survivor.
    pub moved: Vec<MovedBooking>,
    /// The account that now claims the survivor, if any customer had one.
    #[serde(default)]
    pub account_kept: Option<AccountId>,
    /// The merged customer the kept account claimed before the merge moved it to the
    /// survivor (`None` when it already claimed the survivor): an undo gives it back.
    #[serde(default)]
    pub account_moved_from: Option<CustomerId>,
    /// Accounts closed (deleted with their tokens) because another one was kept.
    #[serde(default)]
    pub accounts_closed: Vec<AccountId>,
}

/// The stored memory of a merge: everything needed to undo it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MergeRecord {
    /// Identifier.
    pub id: MergeId,
    /// When the merge was made.
    pub merged_at: DateTime<Utc>,
    /// The survivor as it was before the merge.
    pub survivor_before: Customer,
    /// The merged customers as they were before the merge.
    pub merged_before: Vec<Customer>,
    /// What the merge did.
    pub report: MergeReport,
    /// When the merge was undone, if it was.
    pub undone_at: Option<DateTime<Utc>>,
    /// Optimistic concurrency version.
    pub version: u64,
}
