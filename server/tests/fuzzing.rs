//! The `request_bodies` fuzz targets' body (`parcours_server::fuzzing::request_bodies`) run on
//! stable: on the checked-in seeds (real bodies, and every input the fuzzer ever crashed on), then
//! on a few thousand generated bodies: seeds with bytes changed, and JSON shaped like the real
//! bodies with the contract's words in it.

use std::path::PathBuf;

use parcours_server::fuzzing::request_bodies;
use proptest::prelude::*;
use serde_json::{Map, Value};

fn seeds() -> Vec<(String, Vec<u8>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fuzz/seeds/request_bodies");
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

/// The fuzzer's dictionary: the bodies' keys and the contract's codes, as JSON tokens.
fn dictionary() -> Vec<Vec<u8>> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fuzz/request_bodies.dict");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("{}: {error}", path.display()));
    text.lines()
        .filter(|line| line.starts_with('"'))
        .map(|line| serde_json::from_str::<String>(line).unwrap().into_bytes())
        .collect()
}

#[test]
fn every_seed_reads_without_a_finding() {
    let seeds = seeds();
    assert!(seeds.len() >= 10, "the seed corpus is checked in: fuzz/seeds/request_bodies");
    for (name, bytes) in seeds {
        if let Err(panic) = std::panic::catch_unwind(|| request_bodies(&bytes)) {
            std::panic::resume_unwind(Box::new(format!("seed {name}: {panic:?}")));
        }
    }
}

/// A seed with some bytes overwritten, cut, or replaced by a token of the dictionary.
fn mutated_seed() -> impl Strategy<Value = Vec<u8>> {
    let seeds: Vec<Vec<u8>> = seeds().into_iter().map(|(_, bytes)| bytes).collect();
    (
        prop::sample::select(seeds),
        prop::collection::vec((any::<prop::sample::Index>(), any::<prop::sample::Index>(), any::<u8>(), 0..4u8), 1..4),
    )
        .prop_map(|(mut bytes, edits)| {
            let dictionary = dictionary();
            for (at, pick, byte, how) in edits {
                let at = at.index(bytes.len() + 1);
                match how {
                    0 if at < bytes.len() => bytes[at] = byte,
                    1 => bytes.truncate(at),
                    _ => {
                        // A token in place of the next few bytes: a key or a value swapped for another.
                        let token = pick.get(&dictionary);
                        let end = (at + token.len()).min(bytes.len());
                        bytes.splice(at..end, token.iter().copied());
                    }
                }
            }
            bytes
        })
}

/// JSON values built from the dictionary's words, numbers and nesting.
fn json_value() -> impl Strategy<Value = Value> {
    let words: Vec<String> =
        dictionary().into_iter().filter_map(|token| serde_json::from_slice::<String>(&token).ok()).collect();
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        (0u32..100_000).prop_map(|hundredths| Value::from(f64::from(hundredths) / 100.0)),
        prop::sample::select(words.clone()).prop_map(Value::String),
        any::<String>().prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 48, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec((prop::sample::select(words.clone()), inner), 0..6)
                .prop_map(|entries| Value::Object(entries.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn mutated_bodies_read_without_a_finding(bytes in mutated_seed()) {
        request_bodies(&bytes);
    }

    #[test]
    fn generated_json_reads_without_a_finding(value in json_value()) {
        request_bodies(&serde_json::to_vec(&value).unwrap());
    }

    #[test]
    fn random_bytes_read_without_a_finding(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        request_bodies(&bytes);
    }
}
