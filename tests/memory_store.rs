//! The conformance suite on the in-memory adapter.

mod conformance;

use customer_directory::store::MemoryStore;

conformance_tests!(async { MemoryStore::new() });
