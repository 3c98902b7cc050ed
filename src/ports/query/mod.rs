//! Searching the directory: a [`CustomerQuery`](builder::CustomerQuery) (text search,
//! filters, sort), the rows a store answers with
//! ([`SearchHit`](evaluation::SearchHit)), and keyset pagination by an opaque
//! [`Cursor`](cursor::Cursor).
//!
//! The rules live here, as pure functions, so every adapter answers alike:
//! [`MemoryStore`](crate::adapters::memory::MemoryStore) evaluates them directly, and the SQL adapters
//! translate the same rules into SQL over columns they keep up to date on every commit
//! ([`SearchColumns`](evaluation::SearchColumns) and
//! [`CustomerStats`](evaluation::CustomerStats) say what those columns hold).
//!
//! [`Cursor`](cursor::Cursor) states what keyset pagination guarantees.
//!
//! The query and its filters are defined in `builder.rs`, what stores evaluate in
//! `evaluation.rs`, and keyset pagination in `cursor.rs`. A host reaches the query and the
//! cursor through [`ports`](crate::ports), an adapter author reaches what stores evaluate
//! through [`ports::store`](crate::ports::store): one public path each.

pub(crate) mod builder;
pub(crate) mod cursor;
pub(crate) mod evaluation;
