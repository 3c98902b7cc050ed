//! The SQL core both database adapters share: the schema, the SQL text, row encoding and
//! the order of every commit and read, written once over two small seams
//! ([`session`]): a `Session` runs statements on one driver's connection, and a `Dialect`
//! says how a database spells what differs. Execution is per driver: the PostgreSQL adapter
//! awaits `sqlx`; the SQLite adapter runs the same code on the thread that owns its
//! `rusqlite` connection.
//!
//! Each record is stored whole as JSON (the source of truth, exact to the nanosecond) beside
//! the columns the reads filter and sort on, which are indexed. A commit is one transaction
//! ([`commit`]); booking statistics live in narrow tables of their own ([`statistics`]), so
//! recording a booking never rewrites its customer's row.

pub(crate) mod accounts;
pub(crate) mod bulk;
pub(crate) mod commit;
pub(crate) mod email_keys;
pub(crate) mod encoding;
pub(crate) mod match_keys;
pub(crate) mod migrate;
pub(crate) mod reads;
pub(crate) mod schema;
pub(crate) mod search;
pub(crate) mod session;
pub(crate) mod statistics;
pub(crate) mod versioned;
