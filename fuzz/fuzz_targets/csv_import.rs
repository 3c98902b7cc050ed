//! CSV import: any bytes give rows or a typed error, never a panic; row lines only grow.
#![no_main]

use customer_directory::{DirectorySettings, read_customer_rows};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let settings = DirectorySettings::default();
    if let Ok(rows) = read_customer_rows(data, &settings) {
        for pair in rows.windows(2) {
            assert!(pair[0].line < pair[1].line, "rows out of order");
        }
        for row in rows {
            if let Err(problems) = row.profile {
                assert!(!problems.problems().is_empty());
            }
        }
    }
});
