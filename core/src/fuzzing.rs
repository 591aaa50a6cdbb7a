//! The body of the `stored_page` fuzz target (`fuzz/`), kept here so that the normal test suite
//! runs the very same checks on stable (`core/tests/fuzzing.rs`): one body, two drivers.
//!
//! A page read back from sled may be damaged in any way (a torn write, a bad disk, a hostile file):
//! reading it must answer with a [`PageDamage`](crate::store::page::PageDamage) or a decode error,
//! never panic, loop or allocate what a length field claims. Panics here are the findings.

use crate::store::page::{decode_record, encode_record, frames};

/// Frames past this index are not re-read one by one with `nth_record`: that costs a walk from the
/// start of the page each, and 64 covers every index a real page has (`PAGE_EVENTS_MAX`).
const NTH_CHECKED_MAX: usize = 64;

/// Reads `bytes` as a stored page the way the store does, checking that the ways of reading it
/// agree, and as one bare record. Panics on a finding.
///
/// Checksums guard records against accidents, not against a crafted file (whoever writes the bytes
/// can write their checksums too), and a fuzzer rarely forges a CRC-32: so the decoder of records
/// also gets the bytes directly.
pub fn stored_page(bytes: &[u8]) {
    read_page(bytes);
    read_record(bytes);
}

fn read_page(bytes: &[u8]) {
    let Ok(iteration) = frames(bytes) else { return };
    let count = iteration.declared_count();
    let mut read = Vec::new();
    for (index, record) in iteration.enumerate() {
        // Each frame once, then at most one damage for what follows the last frame.
        assert!(index <= count, "a page whose header counts {count} frames yields more items");
        let Ok(record) = record else { continue };
        read_record(record);
        read.push((index, record));
    }
    for &(index, record) in read.iter().take_while(|(index, _)| *index < NTH_CHECKED_MAX) {
        let seeked = frames(bytes).and_then(|frames| frames.nth_record(index));
        assert_eq!(seeked, Ok(Some(record)), "nth_record({index}) finds the record iteration reads");
    }
    // One walk reading them in ascending order, as a stream's events are read, finds them too.
    if let Ok(mut walk) = frames(bytes) {
        for &(index, record) in &read {
            assert_eq!(walk.record_at(index), Ok(Some(record)), "record_at({index}) on one walk");
        }
    }
    // One past the end: nothing, or the damage that stops the walk; never a record.
    if let Ok(Some(record)) = frames(bytes).and_then(|frames| frames.nth_record(count)) {
        panic!("nth_record({count}) found a record of {} bytes past the last frame", record.len());
    }
}

/// What decodes must encode again, to bytes that decode to the same event.
fn read_record(record: &[u8]) {
    let Ok(envelope) = decode_record(record) else { return };
    let again = match encode_record(&envelope) {
        Ok(again) => again,
        Err(error) => panic!("a decoded event does not encode: {error}"),
    };
    match decode_record(&again) {
        Ok(decoded) => assert_eq!(decoded, envelope, "decode(encode(event)) is the event"),
        Err(error) => panic!("a decoded event, encoded again, does not decode: {error}"),
    }
}
