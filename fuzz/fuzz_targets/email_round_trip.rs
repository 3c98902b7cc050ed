//! Email parsing: anything accepted displays as text that parses back to the same address
//! and key, and a key's own text parses to the same key.
#![no_main]

use customer_directory::EmailAddress;
use customer_directory::values::{EmailKey, EmailKeyPolicy};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(raw) = std::str::from_utf8(data) else {
        return;
    };
    for policy in [EmailKeyPolicy::CaseInsensitive, EmailKeyPolicy::ExactCase] {
        let Ok(address) = EmailAddress::parse_with_policy(raw, policy) else {
            continue;
        };
        let shown = address.to_string();
        let again = EmailAddress::parse_with_policy(&shown, policy)
            .expect("a displayed address parses again");
        assert_eq!(
            again.key(),
            address.key(),
            "display round trip changed the key"
        );
        let key = EmailKey::parse(address.key().as_str(), policy).expect("a key parses");
        assert_eq!(&key, address.key(), "keys are idempotent");
        let _ = address.key().loose();
    }
});
