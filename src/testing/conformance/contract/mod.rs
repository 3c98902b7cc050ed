//! The store contract: scenarios that drive the port directly, one file per trait.

mod accounts;
mod store;

pub use accounts::*;
pub use store::*;
