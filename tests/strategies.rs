//! The public proptest strategies produce what they promise, so hosts can rely on them.
#![cfg(feature = "testing")]

use customer_directory::testing::strategies;
use customer_directory::values::{EmailKey, EmailKeyPolicy};
use customer_directory::{EmailAddress, Phone};
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    #[test]
    fn raw_emails_parse_and_keys_are_idempotent(raw in strategies::raw_email()) {
        let address = EmailAddress::parse(&raw).unwrap();
        let key = EmailKey::parse(address.key().as_str(), EmailKeyPolicy::default()).unwrap();
        prop_assert_eq!(&key, address.key());
    }

    #[test]
    fn raw_phones_parse_to_e164(input in strategies::raw_phone()) {
        let (raw, region) = input;
        let phone = Phone::parse(&raw, region).unwrap();
        prop_assert_eq!(Phone::parse(phone.e164(), None).unwrap(), phone);
    }

    #[test]
    fn new_bookings_are_valid(booking in strategies::new_booking()) {
        prop_assert!(booking.problems().is_empty(), "{:?}", booking.problems());
    }

    #[test]
    fn customers_round_trip_through_serde(customer in strategies::customer()) {
        let json = serde_json::to_string(&customer).unwrap();
        let back: customer_directory::Customer = serde_json::from_str(&json).unwrap();
        prop_assert_eq!(back, customer);
    }

    #[test]
    fn hostile_text_never_panics_a_parser(raw in strategies::hostile_text()) {
        let _ = EmailAddress::parse(&raw);
        let _ = Phone::parse(&raw, None);
        let _ = customer_directory::PersonName::parse(&raw);
    }
}
