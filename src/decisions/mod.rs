//! Decisions: the product rules, as pure functions of records.
//!
//! Attribution (which profile a booking belongs to), merging and undoing a merge, redaction
//! and duplicate detection. Each takes records and settings and returns a decision or a
//! plan, usually a [`ChangeSet`](crate::ports::store::ChangeSet) to commit; none reads
//! the store or the clock itself, so each can be tested, and property-tested, alone.

pub(crate) mod attribution;
pub(crate) mod batch;
pub(crate) mod duplicates;
pub(crate) mod merge;
pub(crate) mod redaction;

pub use attribution::{AttributionOutcome, Decision, UnattributedReason, attribute};
pub use batch::BatchAttribution;
pub use duplicates::{DuplicateFinder, DuplicateGroup, DuplicateReason};
pub use merge::{
    MAX_MERGE_SIZE, MergeError, MergePlan, MergeRequest, UndoPlan, UndoReport, plan_merge,
    plan_merge_with_accounts, plan_undo,
};
