//! A person recorded twice, merged then unmerged (CONTRACT §10), on a hand-built log.
//!
//! In aci-agen on 2024-06-15: 1 referred in February and on a contract since; 2, the same person
//! recorded again, referred in March, no contract; 3 referred in April, left in May for a CDI.

use serde_json::json;

use super::live_and_rebuilt::answers;
use super::log::{contract, date, exited, person, referred, registered, slug, step, Log};
use crate::report::{ActivityQuery, DefinitionsVersion, FamilyQuotientBands};
use crate::{EntriesQuery, PeopleQuery, Period, Projections};

fn log() -> Log {
    let mut log = Log::new("2024-06-15T08:00:00Z");
    log.structure("aci-agen", "2024-01-02", json!({}));
    let aci = || referred("aci-agen", "unemployed", "france_travail");
    for n in 1..=3 {
        log.add(person(n), "2024-01-02", registered("aci-agen", "female", 1990));
    }
    log.add(person(1), "2024-02-01", aci());
    log.add(person(1), "2024-02-05", contract("c1", None));
    log.add(person(2), "2024-03-10", aci());
    log.add(person(3), "2024-04-01", aci());
    log.add(person(3), "2024-05-01", exited("cdi"));
    log
}

fn merge(log: &mut Log, absorbed: u128, survivor: u128) {
    let (from, into) = (person(absorbed).to_string(), person(survivor).to_string());
    let parts = vec![
        (person(absorbed), date("2024-06-15"), step("merged_into", json!({"into": into, "reason": "doublon"}))),
        (person(survivor), date("2024-06-15"), step("absorbed", json!({"from": from, "reason": "doublon"}))),
    ];
    log.try_append_together(parts).unwrap();
}

fn unmerge(log: &mut Log, one: u128, other: u128) {
    let (a, b) = (person(one).to_string(), person(other).to_string());
    let parts = vec![
        (person(one), date("2024-06-15"), step("unmerged", json!({"other": b, "reason": "homonymes"}))),
        (person(other), date("2024-06-15"), step("unmerged", json!({"other": a, "reason": "homonymes"}))),
    ];
    log.try_append_together(parts).unwrap();
}

/// (active, in contract, waiting) on the dashboard; (followed, distinct since start, on contract
/// at end) in the report of the first half of 2024; participants (episodes); people listed.
type Counts = ((u64, u64, u64), (u64, u64, u64), String, usize);

fn counts(projections: &Projections) -> Counts {
    let dashboard = projections.dashboard(&slug("aci-agen"), date("2024-06-15"));
    let period = Period::new(date("2024-01-01"), date("2024-06-15")).unwrap();
    let query = ActivityQuery {
        period,
        structures: vec![slug("aci-agen")],
        definitions: DefinitionsVersion::V1,
        bands: FamilyQuotientBands::default(),
        by_structure: false,
    };
    let report = projections.activity_report_with_lists(&query).unwrap();
    let figures = serde_json::to_value(&report).unwrap();
    let count = |id: &str| {
        let (section, figure) = id.split_once('.').unwrap();
        let listed = report.lists.count(id);
        assert_eq!(figures[section][figure].as_u64(), Some(listed), "{id}: the figure is its list's length");
        listed
    };
    let entries = projections.entries(&EntriesQuery { period, structure: None });
    (
        (dashboard.active_episodes, dashboard.in_contract, dashboard.waiting_for_contract),
        (count("people.followed"), count("people.distinct_since_start"), count("contracts.on_contract_at_end")),
        serde_json::to_string(&entries.participants).unwrap(),
        projections.people(&PeopleQuery::default()).len(),
    )
}

#[test]
fn a_merged_pair_counts_as_one_person_and_its_unmerge_restores_every_figure() {
    let mut log = log();
    let today = log.today();
    let before = log.projections();
    assert_eq!(counts(&before), ((2, 1, 1), (3, 3, 1), "3".into(), 3));

    merge(&mut log, 2, 1);
    let merged = log.projections();
    // One person on a contract in one of her records: active once, in contract, no one waiting;
    // the three referrals stay three episodes (participants count episodes).
    assert_eq!(counts(&merged), ((1, 1, 0), (2, 2, 1), "3".into(), 2));
    assert_eq!(merged.merged_into(person(2)), Some(person(1)));
    assert_eq!(merged.absorbed_into(person(1)), [person(2)]);
    let mut rebuilt = Projections::new();
    rebuilt.apply_all(&log.envelopes).unwrap();
    assert_eq!(answers(&rebuilt, today), answers(&merged, today));

    unmerge(&mut log, 1, 2);
    let unmerged = log.projections();
    assert_eq!(answers(&unmerged, today), answers(&before, today), "every figure as it was before the merge");
    assert_eq!(unmerged.merged_into(person(2)), None);
}

/// §5 counts episodes and §10 counts a merged pair once: the same referral recorded on both of a
/// person's records (same structure, same day) is one episode once they are merged; two referrals
/// on different days stay two, as for anyone referred twice.
#[test]
fn the_same_referral_recorded_on_two_merged_records_is_one_participant() {
    let mut log = log();
    log.add(person(4), "2024-01-02", registered("aci-agen", "female", 1990));
    log.add(person(4), "2024-04-01", referred("aci-agen", "unemployed", "france_travail"));
    let participants = |projections: &Projections| {
        let period = Period::new(date("2024-01-01"), date("2024-06-15")).unwrap();
        serde_json::to_string(&projections.entries(&EntriesQuery { period, structure: None }).participants).unwrap()
    };
    assert_eq!(participants(&log.projections()), "4");
    merge(&mut log, 4, 3);
    assert_eq!(participants(&log.projections()), "3", "3 and 4 record the same referral of April 1st");
    let mut rebuilt = Projections::new();
    rebuilt.apply_all(&log.envelopes).unwrap();
    assert_eq!(participants(&rebuilt), "3");
    merge(&mut log, 2, 1);
    assert_eq!(participants(&log.projections()), "3", "1 and 2 were referred on different days: two episodes");
    unmerge(&mut log, 3, 4);
    assert_eq!(participants(&log.projections()), "4");
}
