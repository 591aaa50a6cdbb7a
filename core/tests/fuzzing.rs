//! The `stored_page` fuzz target's body (`parcours_core::fuzzing::stored_page`) run on stable: on
//! the checked-in seeds (real pages, and every input the fuzzer ever crashed on), then on a few
//! thousand generated pages, most of them real pages with a few bytes changed.

use std::path::PathBuf;

use parcours_core::fuzzing::stored_page;
use parcours_core::limits::EVENT_BYTES_MAX;
use parcours_core::store::page::{decode_record, encode_record, frames, PageDamage, PAGE_FORMAT, RECORD_FORMAT};
use parcours_core::vocabulary::*;
use proptest::prelude::*;
use uuid::Uuid;

fn seeds() -> Vec<(String, Vec<u8>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fuzz/seeds/stored_page");
    let mut seeds: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|error| panic!("{}: {error}", dir.display()))
        .map(|entry| {
            let path = entry.unwrap().path();
            (path.file_name().unwrap().to_string_lossy().into_owned(), std::fs::read(&path).unwrap())
        })
        .collect();
    seeds.sort();
    seeds
}

#[test]
fn every_seed_reads_without_a_finding() {
    let seeds = seeds();
    assert!(seeds.len() >= 10, "the seed corpus is checked in: fuzz/seeds/stored_page");
    for (name, bytes) in seeds {
        if let Err(panic) = std::panic::catch_unwind(|| stored_page(&bytes)) {
            std::panic::resume_unwind(Box::new(format!("seed {name}: {panic:?}")));
        }
    }
}

/// A seed with some bytes overwritten, some cut off the end, or some inserted.
fn mutated_seed() -> impl Strategy<Value = Vec<u8>> {
    let seeds: Vec<Vec<u8>> = seeds().into_iter().map(|(_, bytes)| bytes).collect();
    (prop::sample::select(seeds), prop::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0..3u8), 1..6))
        .prop_map(|(mut bytes, edits)| {
            for (at, byte, how) in edits {
                let at = at.index(bytes.len() + 1);
                match how {
                    0 if at < bytes.len() => bytes[at] = byte,
                    1 => bytes.truncate(at),
                    _ => bytes.insert(at, byte),
                }
            }
            bytes
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 3000, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn mutated_pages_read_without_a_finding(bytes in mutated_seed()) {
        stored_page(&bytes);
    }

    #[test]
    fn random_bytes_read_without_a_finding(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        stored_page(&bytes);
    }
}

// What the fuzzers found, kept as regressions (SECURITY.md, "Fuzzing").

fn envelope(step: Step) -> Envelope {
    Envelope {
        id: EventId(Uuid::from_u128(1)),
        stream: StreamId(Uuid::from_u128(2)),
        version: 1,
        position: 1,
        occurred_on: Date::from_ymd(2024, 3, 4).unwrap(),
        recorded_at: Timestamp::from_millis(1_709_630_000_123).unwrap(),
        recorded_by: Actor("tok_0193c9a2".into()),
        step,
        sealed_text: None,
        prev_hash: [1; 32],
        stream_prev_hash: [2; 32],
    }
}

/// The stored bytes of an envelope holding `exited`, cut around its step: what comes before, and
/// the two hashes after.
fn around_step() -> (Vec<u8>, Vec<u8>) {
    let record = encode_record(&envelope(Step::Exited(Exited { destination: Destination::Cdi }))).unwrap();
    let step_at = record.len() - 64 - 2;
    assert_eq!(record[step_at..step_at + 2], [StepKind::Exited as u8, 0], "the step's tag, then the destination's");
    (record[..step_at].to_vec(), record[step_at + 2..].to_vec())
}

#[test]
fn a_damaged_frame_ends_the_walk_instead_of_repeating_forever() {
    // A page announcing three frames whose first has an unknown record format.
    let page = [PAGE_FORMAT, 3, 0, RECORD_FORMAT + 1, 0, 0, 0, 0, 0, 0, 0, 0];
    let items: Vec<_> = frames(&page).unwrap().take(10).collect();
    assert_eq!(items, vec![Err(PageDamage::RecordFormat { index: 0, format: RECORD_FORMAT + 1 })]);
    // Bytes after the last frame: said once.
    let items: Vec<_> = frames(&[PAGE_FORMAT, 0, 0, 7, 7]).unwrap().take(10).collect();
    assert_eq!(items, vec![Err(PageDamage::TrailingBytes(2))]);
}

#[test]
fn a_frame_longer_than_any_event_is_refused() {
    let mut page = vec![PAGE_FORMAT, 1, 0, RECORD_FORMAT];
    page.extend_from_slice(&u32::MAX.to_le_bytes());
    page.extend_from_slice(&[0; 4]);
    let items: Vec<_> = frames(&page).unwrap().collect();
    assert_eq!(items, vec![Err(PageDamage::FrameTooLong { index: 0, len: u32::MAX as usize })]);
}

#[test]
fn a_length_claiming_exabytes_is_refused_not_allocated() {
    // `recorded_by` declares 2^62 bytes (bincode's varint: 253, then a u64): decoding used to
    // allocate that much first and abort the process.
    let (before, after) = around_step();
    let actor_at = before.len() - 1 - "tok_0193c9a2".len();
    let mut record = before[..actor_at].to_vec();
    record.push(253);
    record.extend_from_slice(&(1u64 << 62).to_le_bytes());
    record.extend_from_slice(&before[actor_at + 1..]);
    record.extend_from_slice(&after);
    assert!(decode_record(&record).is_err());
}

#[test]
fn a_correction_inside_a_replacement_is_refused_not_recursed() {
    // Each level: `corrected` (tag 12), the corrected id, an empty reason, `Some(replacement)`,
    // its date (day 0). Fifty thousand levels used to overflow the stack while decoding.
    let level = [[StepKind::Corrected as u8].as_slice(), &[0; 16], &[0], &[1], &[0]].concat();
    let (before, after) = around_step();
    for depth in [2, 50_000] {
        let mut record = before.clone();
        for _ in 0..depth {
            record.extend_from_slice(&level);
        }
        record.extend_from_slice(&[StepKind::Exited as u8, 0]);
        record.extend_from_slice(&after);
        assert!(decode_record(&record).is_err(), "depth {depth}");
    }
    // One level, a correction replacing an exit, is what the store writes: it still reads.
    let mut record = before.clone();
    record.extend_from_slice(&level);
    record.extend_from_slice(&[StepKind::Exited as u8, 0]);
    record.extend_from_slice(&after);
    let Step::Corrected(correction) = decode_record(&record).unwrap().step else { panic!("a correction") };
    assert_eq!(*correction.replacement.unwrap().step, Step::Exited(Exited { destination: Destination::Cdi }));
}

#[test]
fn the_decoding_limit_keeps_the_largest_real_records() {
    // The list with the most elements a stored event can hold: empty skills filling EVENT_BYTES_MAX.
    let skills = |count: usize| {
        Step::SkillsAssessed(SkillsAssessed {
            assessor: "AFPA".into(),
            kind: AssessmentKind::Other,
            skills: vec![String::new(); count],
            summary: None,
        })
    };
    let base = encode_record(&envelope(skills(0))).unwrap().len();
    // The list's length grows from one byte to three (bincode's varint) past 250 elements.
    let full = envelope(skills(EVENT_BYTES_MAX - base - 2));
    let record = encode_record(&full).unwrap();
    assert_eq!(record.len(), EVENT_BYTES_MAX);
    assert_eq!(decode_record(&record).unwrap(), full);
}
