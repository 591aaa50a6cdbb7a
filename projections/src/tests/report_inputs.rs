//! A report computed from its inputs (`report::inputs`, what a publication keeps) is the report
//! computed from the whole fold: figures, each structure's part and every list.

use serde_json::json;

use super::log::{date, person, registered, slug, step, Log};
use super::report::{demo, ei_2024};
use crate::report::{ActivityQuery, DefinitionsVersion, FamilyQuotientBands, InputsError, INPUTS_FORMAT};
use crate::{Period, Projections};

fn query(structures: &[&str], from: &str, to: &str, definitions: DefinitionsVersion) -> ActivityQuery {
    ActivityQuery {
        period: Period::new(date(from), date(to)).unwrap(),
        structures: structures.iter().map(|s| slug(s)).collect(),
        definitions,
        bands: FamilyQuotientBands::default(),
        by_structure: true,
    }
}

/// The report of `question` from the whole fold and from its inputs alone: the same in every part.
fn same_from_inputs(projections: &Projections, question: &ActivityQuery) -> usize {
    let whole = projections.activity_report_with_lists(question).unwrap();
    let bytes = projections.report_inputs(question).unwrap();
    let cut = Projections::from_report_inputs(&bytes).unwrap();
    assert_eq!(cut.applied_position(), projections.applied_position());
    let again = cut.activity_report_with_lists(question).unwrap();
    assert_eq!(again, whole, "{:?}", question.structures);
    assert_eq!(again.to_csv(), whole.to_csv());
    assert_eq!(serde_json::to_string(&again).unwrap(), serde_json::to_string(&whole).unwrap());
    assert!(cut.beneficiaries.len() <= projections.beneficiaries.len());
    bytes.len()
}

#[test]
fn on_the_demo_every_report_from_its_inputs_is_the_report_from_the_fold() {
    let (projections, _, structures) = demo();
    for definitions in [DefinitionsVersion::V1, DefinitionsVersion::V2] {
        for structure in &structures {
            same_from_inputs(&projections, &query(&[structure], "2024-01-01", "2024-12-31", definitions));
        }
        let all: Vec<&str> = structures.iter().map(String::as_str).collect();
        same_from_inputs(&projections, &query(&all, "2024-01-01", "2024-12-31", definitions));
        same_from_inputs(&projections, &query(&all[..2], "2023-07-01", "2024-06-30", definitions));
    }
    // One structure's inputs hold its people, not everyone's.
    let one = query(&[&structures[0]], "2024-01-01", "2024-12-31", DefinitionsVersion::V2);
    let cut = Projections::from_report_inputs(&projections.report_inputs(&one).unwrap()).unwrap();
    assert!(cut.beneficiaries.len() < projections.beneficiaries.len());
}

#[test]
fn inputs_keep_the_partners_the_report_prints_and_blank_the_other_names() {
    let projections = ei_2024().projections();
    let question = query(&["ei-batir"], "2024-01-01", "2024-12-31", DefinitionsVersion::V1);
    same_from_inputs(&projections, &question);
    let cut = Projections::from_report_inputs(&projections.report_inputs(&question).unwrap()).unwrap();
    let partners = |p: &Projections| {
        let report = p.activity_report(&question).unwrap();
        serde_json::to_value(&report).unwrap()["support"]["partners"].clone()
    };
    assert_eq!(partners(&cut), partners(&projections));
    assert_ne!(partners(&cut), json!([]), "the log names partners");
    // The contract id `c`, which no report prints, is not in the inputs.
    let first = cut.beneficiary(0);
    let contract = first.track.contracts[0].contract;
    assert_eq!(projections.beneficiary(0).names.get(contract), "c");
    assert_eq!(first.names.get(contract), "");
}

/// Two records of one person merged, and a third person: a person counts once in the inputs' report too.
#[test]
fn a_merged_person_counts_once_from_the_inputs() {
    let mut log = Log::new("2024-06-15T08:00:00Z");
    log.structure("aci-agen", "2024-01-02", json!({}));
    log.structure("aci-lot", "2024-01-02", json!({}));
    let refer = |structure: &str| {
        step(
            "referred",
            json!({"structure": structure, "situation": "unemployed", "prescriber": {"kind": "france_travail"}}),
        )
    };
    for n in 1..=3 {
        log.add(person(n), "2024-01-02", registered("aci-agen", "female", 1990));
    }
    // Record 1 is referred to aci-lot only: the report of aci-agen reads it through the merge.
    log.add(person(1), "2024-02-01", refer("aci-lot"));
    log.add(person(2), "2024-03-10", refer("aci-agen"));
    log.add(person(3), "2024-04-01", refer("aci-agen"));
    let (from, into) = (person(2).to_string(), person(1).to_string());
    log.try_append_together(vec![
        (person(2), date("2024-06-15"), step("merged_into", json!({"into": into, "reason": "doublon"}))),
        (person(1), date("2024-06-15"), step("absorbed", json!({"from": from, "reason": "doublon"}))),
    ])
    .unwrap();
    let projections = log.projections();
    for structures in [&["aci-agen"][..], &["aci-agen", "aci-lot"], &["aci-lot"]] {
        same_from_inputs(&projections, &query(structures, "2024-01-01", "2024-06-15", DefinitionsVersion::V2));
    }
    let question = query(&["aci-agen"], "2024-01-01", "2024-06-15", DefinitionsVersion::V2);
    let cut = Projections::from_report_inputs(&projections.report_inputs(&question).unwrap()).unwrap();
    assert_eq!(cut.beneficiaries.len(), 3, "both records of the merged person, and the third");
    let report = cut.activity_report_with_lists(&question).unwrap();
    assert_eq!(report.lists.count("people.distinct_since_start"), 2);
}

#[test]
fn inputs_of_another_format_or_damaged_are_refused_never_read() {
    let projections = ei_2024().projections();
    let question = query(&["ei-batir"], "2024-01-01", "2024-12-31", DefinitionsVersion::V1);
    let bytes = projections.report_inputs(&question).unwrap();
    // The format comes first (one byte in bincode's varint for small numbers).
    let mut other = bytes.clone();
    other[0] = (INPUTS_FORMAT + 1) as u8;
    assert_eq!(Projections::from_report_inputs(&other).err(), Some(InputsError::Format { found: INPUTS_FORMAT + 1 }));
    assert!(matches!(Projections::from_report_inputs(&bytes[..bytes.len() / 2]), Err(InputsError::Decode(_))));
    let mut longer = bytes.clone();
    longer.push(0);
    assert!(matches!(Projections::from_report_inputs(&longer), Err(InputsError::Decode(_))));
    assert!(Projections::from_report_inputs(&[]).is_err());
}

/// Inputs that pass their file's checksum but were not written by this code (a crafted data
/// directory): every bit of a cut flipped in turn, and a length claiming more than any machine
/// holds. Each is refused or gives a report; none panics (the walk trusts the indexes it is given,
/// so `Cut::check` must catch those out of range).
#[test]
fn inputs_flipped_bit_by_bit_are_refused_or_reported_never_a_panic() {
    let projections = ei_2024().projections();
    let question = query(&["ei-batir"], "2024-01-01", "2024-12-31", DefinitionsVersion::V2);
    let bytes = projections.report_inputs(&question).unwrap();
    let (mut refused, mut reported) = (0, 0);
    for at in 0..bytes.len() {
        for bit in 0..8 {
            let mut flipped = bytes.clone();
            flipped[at] ^= 1 << bit;
            match Projections::from_report_inputs(&flipped) {
                Err(_) => refused += 1,
                Ok(cut) => {
                    // The structures asked may have gone: an answer, not a panic.
                    let _ = cut.activity_report_with_lists(&question);
                    reported += 1;
                }
            }
        }
    }
    assert!(refused > 0 && reported > 0, "{refused} refused, {reported} reported");
    // The structures' vector claiming `u64::MAX` slugs (bincode's varint marker 0xfd, then 8
    // bytes) right after the format and the position: refused, not reserved.
    let config = bincode::config::standard();
    let mut huge = bincode::encode_to_vec((INPUTS_FORMAT, projections.applied_position()), config).unwrap();
    assert_eq!(bytes[..huge.len()], huge[..], "the inputs start with their format and position");
    huge.push(0xfd);
    huge.extend_from_slice(&u64::MAX.to_le_bytes());
    assert!(matches!(Projections::from_report_inputs(&huge), Err(InputsError::Decode(_))));
}

/// FNV-1a: a hash whose value no compiler or platform changes, to pin bytes in a test.
fn fnv(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, byte| (hash ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3))
}

/// The inputs of a fixed log, pinned to their format. If this fails, the per-person fold or the
/// inputs' bytes changed: inputs kept by publications before the change may no longer mean what
/// this build reads, so bump `INPUTS_FORMAT` (the server then folds the log for those publications
/// once, checks their digests under the new code, and keeps new inputs), and pin the new value.
#[test]
fn the_inputs_of_a_fixed_log_are_pinned_to_their_format() {
    let projections = ei_2024().projections();
    let question = query(&["ei-batir"], "2024-01-01", "2024-12-31", DefinitionsVersion::V2);
    let bytes = projections.report_inputs(&question).unwrap();
    assert_eq!((INPUTS_FORMAT, bytes.len(), fnv(&bytes)), (1, 3227, 6_044_017_598_354_857_834));
}
