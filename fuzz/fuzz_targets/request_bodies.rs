//! Arbitrary bytes read as the JSON body of every route that takes one: see
//! `parcours_server::fuzzing::request_bodies`.
#![no_main]

libfuzzer_sys::fuzz_target!(|bytes: &[u8]| parcours_server::fuzzing::request_bodies(bytes));
