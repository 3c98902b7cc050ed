//! Resident memory per customer in a `MemoryStore`: builds a store of N typical customers
//! (default 1,000,000: given and family name, email, mobile phone, city, postcode), and
//! prints the rise in resident memory (VmRSS, Linux) divided by N. The figure includes every
//! index the store keeps (email keys, the id order, the customer map) and the allocator's
//! overhead.
//!
//! ```text
//! cargo run --release --example memory_per_profile -- 1000000
//! ```

#[path = "../benches/support/mod.rs"]
mod support;

use customer_directory::Customer;
use customer_directory::ports::store::ChangeSet;
use customer_directory::{MemoryStore, Store};

/// Resident set size of this process now, in KiB (Linux only).
fn rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let customers: usize = std::env::args()
        .nth(1)
        .map_or(Ok(1_000_000), |n| n.parse())?;
    // Warm the parsers' lazy tables first, so they are not counted as the store's.
    let _ = support::typical_profile(0);
    let store = MemoryStore::new();
    let before = rss_kib();
    let now = chrono::Utc::now();
    for start in (0..customers).step_by(10_000) {
        let mut changes = ChangeSet::new();
        for i in start..(start + 10_000).min(customers) {
            changes.save_customer(Customer::new(support::typical_profile(i), now));
        }
        store.commit(changes).await?;
    }
    let after = rss_kib();
    println!("customers: {}", store.customer_count());
    match (before, after) {
        (Some(before), Some(after)) => {
            let bytes = (after.saturating_sub(before) * 1024) as f64 / customers as f64;
            println!(
                "resident before: {before} KiB, after: {after} KiB, per customer: {bytes:.0} bytes"
            );
        }
        _ => println!("resident memory: not available on this platform"),
    }
    Ok(())
}
