//! A referral proposed by another structure (CONTRACT §7) enters the figures of the structure it
//! names once that structure accepts it, dated the day of the referral, and never if it declines.

use serde_json::json;

use super::log::{date, exited, person, referred, registered, slug, step, Log};
use crate::{Disclosed, EntriesQuery, Period, Projections};

/// Person 1: in aci-agen from 2024-01-10 to 2024-02-28, then proposed to ei-agen on 2024-03-05.
fn proposed() -> (Log, parcours_core::vocabulary::EventId) {
    let mut log = Log::new("2024-06-30T09:00:00Z");
    log.add(person(1), "2024-01-02", registered("aci-agen", "female", 1990));
    log.add(person(1), "2024-01-10", referred("aci-agen", "unemployed", "france_travail"));
    log.add(person(1), "2024-02-28", exited("other_siae"));
    let mut proposal = referred("ei-agen", "unemployed", "plie");
    if let parcours_core::vocabulary::Step::Referred(referred) = &mut proposal {
        referred.proposed = true;
    }
    let referral = log.add(person(1), "2024-03-05", proposal);
    (log, referral)
}

fn participants(projections: &Projections, structure: &str) -> u64 {
    let period = Period::new(date("2024-01-01"), date("2024-12-31")).unwrap();
    match projections.entries(&EntriesQuery { period, structure: Some(slug(structure)) }).participants {
        Disclosed::Count(count) => count,
        other => panic!("exact figures: {other:?}"),
    }
}

#[test]
fn a_proposal_counts_nowhere_until_accepted_then_from_the_day_of_the_referral() {
    let (mut log, referral) = proposed();
    let before = log.projections();
    assert_eq!((participants(&before, "aci-agen"), participants(&before, "ei-agen")), (1, 0));
    assert_eq!(before.pathway(person(1)).unwrap().current_structure.to_string(), "aci-agen");

    log.add(person(1), "2024-03-12", step("referral_accepted", json!({"referral": referral.to_string()})));
    let after = log.projections();
    assert_eq!((participants(&after, "aci-agen"), participants(&after, "ei-agen")), (1, 1));
    let pathway = after.pathway(person(1)).unwrap();
    assert_eq!(pathway.current_structure.to_string(), "ei-agen");
    let episode = pathway.episodes.last().unwrap();
    assert_eq!(episode.referred_on, date("2024-03-05"), "the episode opens on the day of the referral");

    // Followed live, event by event, the figures end where a rebuild puts them.
    let mut live = Projections::new();
    for envelope in log.stream(person(1)) {
        live.apply_sparse(&envelope).unwrap();
    }
    assert_eq!(participants(&live, "ei-agen"), 1);
}

#[test]
fn a_declined_proposal_leaves_no_trace_in_the_structure_asked() {
    let (mut log, referral) = proposed();
    log.add(
        person(1),
        "2024-03-12",
        step("referral_declined", json!({"referral": referral.to_string(), "reason": "pas de place"})),
    );
    let projections = log.projections();
    assert_eq!((participants(&projections, "aci-agen"), participants(&projections, "ei-agen")), (1, 0));
    assert_eq!(projections.pathway(person(1)).unwrap().current_structure.to_string(), "aci-agen");
}
