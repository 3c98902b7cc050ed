//! Adapters: the storage ports that ship with the crate.
//!
//! [`MemoryStore`] is always available (tests, demos, single-process hosts); `SqliteStore`
//! (feature `sqlite`) and `PostgresStore` (feature `postgres`) keep the directory in a
//! database. A host with its own database implements [`Store`](crate::ports::store::Store)
//! instead; the conformance suite (module `testing`, feature `testing`) checks any of them.

pub(crate) mod memory;
#[cfg(feature = "postgres")]
pub(crate) mod postgres;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
pub(crate) mod sql;
#[cfg(feature = "sqlite")]
pub(crate) mod sqlite;

pub use memory::MemoryStore;
#[cfg(feature = "postgres")]
pub use postgres::{MaintenanceError, PostgresStore, Vacuum};
/// The `rusqlite` crate the SQLite adapter is built on, re-exported so a host's own work on
/// the store's connection ([`SqliteStore::with_connection`]) uses the same version.
#[cfg(feature = "sqlite")]
pub use rusqlite;
#[cfg(feature = "sqlite")]
pub use sqlite::{Durability, SqliteStore};
/// The `sqlx` crate the PostgreSQL adapter is built on, re-exported so a host opens pools
/// and runs its own queries with the same version.
#[cfg(feature = "postgres")]
pub use sqlx;
