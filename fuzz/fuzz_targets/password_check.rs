//! Password checks: every preset answers any input with Ok or a non-empty list of
//! violations, and never panics.
#![no_main]

use customer_directory::values::{PasswordContext, PasswordPolicy};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (password, name) = text.split_once('\u{0}').unwrap_or((&text, "Ana Silva"));
    let words = [name, "ana@example.com"];
    let context = PasswordContext::new(&words);
    for policy in [
        PasswordPolicy::seed_rule(),
        PasswordPolicy::recommended(),
        PasswordPolicy::nist_800_63b(),
    ] {
        if let Err(violations) = policy.check(password, &context) {
            assert!(!violations.to_string().is_empty());
        }
    }
});
