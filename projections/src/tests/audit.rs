//! The audit trail and the two time-travel questions, on one history recorded over six months.

use super::log::{contract, date, exited, person, referred, registered, timestamp, Log};
use crate::audit::{audit_trail, state_known_at, state_now, state_on, CorrectionEffect, EventStatus};

/// 1 registered on 01-02, referred on 01-10, in contract from 02-01, left on 05-31 for a CDI
/// (recorded 06-03). On 06-10 the exit is corrected: it was 05-15, for a short CDD. On 06-12 the
/// contract is retracted: it was never signed.
fn history() -> (Log, [parcours_core::vocabulary::EventId; 6]) {
    let mut log = Log::new("2024-01-02T09:00:00Z");
    let me = person(1);
    let registration = log.add(me, "2024-01-02", registered("aci-agen", "female", 1990));
    log.at("2024-01-10T09:00:00Z");
    let referral = log.add(me, "2024-01-10", referred("aci-agen", "unemployed", "france_travail"));
    log.at("2024-02-01T09:00:00Z");
    let signed = log.add(me, "2024-02-01", contract("c1", Some("2024-07-31")));
    log.at("2024-06-03T09:00:00Z");
    let exit = log.add(me, "2024-05-31", exited("cdi"));
    log.at("2024-06-10T09:00:00Z");
    let replaced = log.replace(me, exit, "2024-05-15", exited("cdd_under_6_months"));
    log.at("2024-06-12T09:00:00Z");
    let retracted = log.retract(me, signed);
    (log, [registration, referral, signed, exit, replaced, retracted])
}

#[test]
fn the_trail_links_corrections_and_corrected_events() {
    let (log, [registration, _, signed, exit, replaced, retracted]) = history();
    let trail = audit_trail(&log.stream(person(1))).unwrap();
    assert_eq!(trail.version, 6);
    let summary: Vec<(u32, &str, Option<EventStatus>)> =
        trail.events.iter().map(|e| (e.version, e.kind.code(), e.status)).collect();
    assert_eq!(
        summary,
        [
            (1, "registered", Some(EventStatus::Effective)),
            (2, "referred", Some(EventStatus::Effective)),
            (3, "contract_started", Some(EventStatus::Retracted)),
            (4, "exited", Some(EventStatus::Replaced)),
            (5, "corrected", None),
            (6, "corrected", None),
        ]
    );
    let exit_entry = &trail.events[3];
    assert_eq!(exit_entry.id, exit);
    assert_eq!(exit_entry.corrected_by.len(), 1);
    assert_eq!(exit_entry.corrected_by[0].correction, replaced);
    assert_eq!(exit_entry.corrected_by[0].effect, CorrectionEffect::Replaced);
    assert_eq!(exit_entry.corrected_by[0].recorded_at, timestamp("2024-06-10T09:00:00Z"));
    assert_eq!(trail.events[5].id, retracted);
    let correction = trail.events[5].corrects.unwrap();
    assert_eq!((correction.event, correction.effect), (signed, CorrectionEffect::Retracted));

    let json = serde_json::to_value(&trail).unwrap();
    assert_eq!(json["events"][0]["id"], registration.to_string());
    assert_eq!(json["events"][0]["type"], "registered");
    assert_eq!(json["events"][0]["recorded_by"], "coordinator-1");
    assert_eq!(json["events"][3]["recorded_at"], "2024-06-03T09:00:00.000Z");
    assert_eq!(json["events"][3]["data"]["destination"], "cdi", "the event as recorded, not as corrected");
    assert_eq!(json["events"][4]["data"]["replacement"]["data"]["destination"], "cdd_under_6_months");
    let text = serde_json::to_string(&trail).unwrap();
    assert!(!text.contains("Camille") && !text.contains("identity"), "no personal data in the trail: {text}");
}

#[test]
fn the_pathway_as_it_stood_on_a_date() {
    let (log, _) = history();
    let stream = log.stream(person(1));
    // (date, in episode, exit, open contracts): every correction recorded so far applies, so the
    // exit is on 05-15 for a short CDD and the contract never existed.
    #[allow(clippy::type_complexity)] // cases as a table, named in the comment above
    let cases: &[(&str, Option<bool>, Option<(&str, &str)>)] = &[
        ("2024-01-01", None, None),
        ("2024-01-05", Some(false), None),
        ("2024-03-01", Some(true), None),
        ("2024-05-14", Some(true), None),
        ("2024-05-15", Some(false), Some(("2024-05-15", "cdd_under_6_months"))),
        ("2024-12-31", Some(false), Some(("2024-05-15", "cdd_under_6_months"))),
    ];
    for &(day, in_episode, exit) in cases {
        let state = state_on(&stream, date(day));
        assert_eq!(state.as_ref().map(|s| s.in_episode), in_episode, "{day}");
        let Some(state) = state else { continue };
        assert!(state.open_contracts.is_empty(), "{day}: the contract was retracted");
        let exits: Vec<(String, String)> =
            state.exits.iter().map(|e| (e.exited_on.to_string(), e.destination.to_string())).collect();
        assert_eq!(exits, exit.map(|(on, to)| (on.to_owned(), to.to_owned())).into_iter().collect::<Vec<_>>(), "{day}");
    }
}

#[test]
fn the_pathway_as_it_was_known_at_a_time() {
    let (log, _) = history();
    let stream = log.stream(person(1));
    // (as of, version, in episode, open contracts, exit)
    #[allow(clippy::type_complexity)] // cases as a table, named in the comment above
    let cases: &[(&str, u32, bool, usize, Option<(&str, &str)>)] = &[
        ("2024-01-05T00:00:00Z", 1, false, 0, None),
        ("2024-03-01T00:00:00Z", 3, true, 1, None),
        // On 06-01 nobody knew of the exit yet.
        ("2024-06-01T00:00:00Z", 3, true, 1, None),
        ("2024-06-03T09:00:00Z", 4, false, 0, Some(("2024-05-31", "cdi"))),
        ("2024-06-11T00:00:00Z", 5, false, 0, Some(("2024-05-15", "cdd_under_6_months"))),
        ("2024-06-12T09:00:00Z", 6, false, 0, Some(("2024-05-15", "cdd_under_6_months"))),
    ];
    for &(at, version, in_episode, contracts, exit) in cases {
        let state = state_known_at(&stream, timestamp(at)).unwrap();
        assert_eq!(
            (state.version, state.in_episode, state.open_contracts.len()),
            (version, in_episode, contracts),
            "{at}"
        );
        let exits: Vec<(String, String)> =
            state.exits.iter().map(|e| (e.exited_on.to_string(), e.destination.to_string())).collect();
        assert_eq!(exits, exit.map(|(on, to)| (on.to_owned(), to.to_owned())).into_iter().collect::<Vec<_>>(), "{at}");
    }
    assert!(state_known_at(&stream, timestamp("2024-01-01T00:00:00Z")).is_none(), "before the registration");
}

#[test]
fn the_state_from_the_stream_is_the_state_of_the_projections() {
    let (log, _) = history();
    let from_projections = log.projections().pathway(person(1)).unwrap();
    assert_eq!(Some(from_projections.clone()), state_now(&log.stream(person(1))));
    assert_eq!(from_projections.version, 6);
    let json = serde_json::to_value(&from_projections).unwrap();
    assert_eq!(json["current_structure"], "aci-agen");
    assert_eq!(json["identity_erased"], false);
    assert_eq!(json["episodes"][0]["exit"]["category"], "transition_employment");
    assert!(!serde_json::to_string(&from_projections).unwrap().contains("Camille"));
}
