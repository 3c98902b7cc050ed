//! The conformance suite on the in-memory adapter.

#![cfg(feature = "testing")]

use customer_directory::conformance_tests;
use customer_directory::store::MemoryStore;

conformance_tests!(async { MemoryStore::new() });
