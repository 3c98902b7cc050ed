//! The service specifications: the product's rules, checked through [`Directory`] and
//! [`Accounts`] over the store under test.
//!
//! [`Directory`]: crate::Directory
//! [`Accounts`]: crate::Accounts

mod account_timing;
mod accounts;
mod attribution;
mod batches;
mod bounds;
mod counting;
mod lifecycle;
mod merged_ids;
mod query;
mod records;

pub use account_timing::*;
pub use accounts::*;
pub use attribution::*;
pub use batches::*;
pub use bounds::*;
pub use counting::*;
pub use lifecycle::*;
pub use merged_ids::*;
pub use query::*;
pub use records::*;
