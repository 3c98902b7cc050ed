//! Phone parsing: anything accepted has an E.164 form that parses back to the same number.
#![no_main]

use customer_directory::Phone;
use customer_directory::values::CountryCode;
use libfuzzer_sys::fuzz_target;

const REGIONS: [&str; 6] = ["PT", "GB", "US", "DE", "BR", "IN"];

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let Ok(raw) = std::str::from_utf8(rest) else {
        return;
    };
    let region = REGIONS
        .get(usize::from(selector) % (REGIONS.len() + 1))
        .map(|code| CountryCode::parse(code).expect("valid region"));
    if let Ok(phone) = Phone::parse(raw, region) {
        assert!(phone.e164().starts_with('+'));
        let again = Phone::parse(phone.e164(), None).expect("E.164 parses without a region");
        assert_eq!(again.e164(), phone.e164());
        let stored = Phone::from_stored(phone.e164(), phone.as_entered()).expect("stored form");
        assert_eq!(stored, phone);
    }
    let _ = Phone::from_stored(raw, raw);
});
