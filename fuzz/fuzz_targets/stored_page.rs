//! Arbitrary bytes read as a page of the log: see `parcours_core::fuzzing::stored_page`.
#![no_main]

libfuzzer_sys::fuzz_target!(|bytes: &[u8]| parcours_core::fuzzing::stored_page(bytes));
