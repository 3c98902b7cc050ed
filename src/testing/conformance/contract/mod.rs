//! The store contract: scenarios that drive the port directly, one file per trait.

mod accounts;
mod batch;
mod store;

pub use accounts::*;
pub use batch::*;
pub use store::*;
