//! CSV import: any bytes give rows or a typed error, never a panic; rows are numbered in
//! order and their lines never go back.
#![no_main]

use customer_directory::DirectorySettings;
use customer_directory::reports::csv::read_customer_rows;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let settings = DirectorySettings::default();
    if let Ok(rows) = read_customer_rows(data, &settings) {
        for (index, row) in rows.iter().enumerate() {
            assert_eq!(row.row, index as u64 + 1, "rows numbered in order");
        }
        for pair in rows.windows(2) {
            assert!(pair[0].line <= pair[1].line, "lines go back");
        }
        for row in rows {
            if let Err(problems) = row.profile {
                assert!(!problems.problems().is_empty());
            }
        }
    }
});
