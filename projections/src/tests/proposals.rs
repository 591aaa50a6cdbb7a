//! A referral proposed by another structure (CONTRACT §7) enters the figures of the structure it
//! names once that structure accepts it, dated the day of the referral, and never if it declines.

use serde_json::json;

use super::log::{date, exited, person, referred, registered, slug, step, Log};
use parcours_core::vocabulary::{Corrected, Replacement, Step, StreamId};

use crate::{Disclosed, EntriesQuery, PeopleQuery, Period, Projections};

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

fn pending(projections: &Projections, structure: &str) -> Vec<(StreamId, String)> {
    let asked = [slug(structure)];
    let pending = projections.pending_referrals(Some(&asked));
    pending.into_iter().map(|proposal| (proposal.beneficiary, proposal.from_structure.to_string())).collect()
}

fn listed(projections: &Projections, structure: &str) -> Vec<StreamId> {
    let query = PeopleQuery { reach: Some(vec![slug(structure)]), ..PeopleQuery::default() };
    projections.people(&query).into_iter().map(|row| row.beneficiary).collect()
}

#[test]
fn the_structure_asked_sees_the_proposal_waiting_and_not_the_person_in_its_lists_until_it_accepts() {
    let (mut log, referral) = proposed();
    let before = log.projections();
    assert_eq!(pending(&before, "ei-agen"), [(person(1), "aci-agen".to_owned())], "proposed by aci-agen");
    assert_eq!(pending(&before, "aci-agen"), [], "nothing is proposed to the structure that proposes");
    assert_eq!(listed(&before, "ei-agen"), [], "not in the people list of the structure asked");
    assert_eq!(listed(&before, "aci-agen"), [person(1)]);
    let pathway = before.pathway(person(1)).unwrap();
    let waiting = pathway.pending_referral.as_ref().expect("the pathway shows the proposal");
    assert_eq!(
        (waiting.referral, waiting.structure.as_str(), waiting.referred_on),
        (referral, "ei-agen", date("2024-03-05"))
    );
    assert_eq!(pathway.structures, [slug("aci-agen")], "ei-agen follows no one yet");
    let dashboard = before.dashboard(&slug("ei-agen"), date("2024-03-20"));
    assert_eq!((dashboard.active_episodes, dashboard.follow_ups_overdue), (0, 0));

    log.add(person(1), "2024-03-12", step("referral_accepted", json!({"referral": referral.to_string()})));
    let after = log.projections();
    assert_eq!(pending(&after, "ei-agen"), [], "answered");
    assert_eq!(listed(&after, "ei-agen"), [person(1)]);
    assert_eq!(after.pathway(person(1)).unwrap().pending_referral, None);
    let dashboard = after.dashboard(&slug("ei-agen"), date("2024-03-20"));
    assert_eq!(dashboard.active_episodes, 1, "the accepted referral opens the episode");
}

#[test]
fn a_declined_proposal_leaves_the_lists_and_waits_no_more() {
    let (mut log, referral) = proposed();
    log.add(
        person(1),
        "2024-03-12",
        step("referral_declined", json!({"referral": referral.to_string(), "reason": "pas de place"})),
    );
    let projections = log.projections();
    assert_eq!(pending(&projections, "ei-agen"), []);
    assert_eq!(listed(&projections, "ei-agen"), []);
    assert_eq!(projections.pathway(person(1)).unwrap().pending_referral, None);
    assert_eq!(projections.dashboard(&slug("ei-agen"), date("2024-03-20")).active_episodes, 0);
}

#[test]
fn an_accepted_proposal_corrected_later_stays_accepted() {
    // Person 1 accepted by ei-agen, whose coordinator then corrects the situation at entry: the
    // replacement keeps the flag of the referral it corrects (the store's writer sees to it).
    let (mut log, referral) = proposed();
    log.add(person(1), "2024-03-12", step("referral_accepted", json!({"referral": referral.to_string()})));
    let mut replacement = referred("ei-agen", "inactive", "plie");
    if let Step::Referred(referred) = &mut replacement {
        referred.proposed = true;
    }
    let replacement = Replacement { occurred_on: date("2024-03-05"), step: Box::new(replacement) };
    let correction = Corrected { corrects: referral, reason: "situation".into(), replacement: Some(replacement) };
    log.add(person(1), "2024-03-20", Step::Corrected(correction));
    let projections = log.projections();
    assert_eq!(participants(&projections, "ei-agen"), 1);
    let pathway = projections.pathway(person(1)).unwrap();
    assert_eq!(pathway.episodes.last().unwrap().situation.code(), "inactive");
    assert_eq!(pathway.pending_referral, None);
}
