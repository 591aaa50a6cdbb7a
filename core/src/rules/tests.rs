//! Rules as data: a history, a proposed event, and the rule it breaks (or none).

use serde_json::{json, Value};
use uuid::Uuid;

use super::*;
use crate::vocabulary::{Corrected, Replacement};

const TODAY: &str = "2024-06-30";

fn date(text: &str) -> Date {
    text.parse().unwrap()
}

fn id(index: usize) -> EventId {
    EventId(Uuid::from_u128(index as u128 + 1))
}

fn step(kind: &str, data: Value) -> Step {
    Step::deserialize_data(kind.parse().unwrap(), data).unwrap()
}

/// A step of a test history: (type, occurred_on, data). Corrections are built with [`correct`].
type Row = (&'static str, &'static str, Value);

fn correct(target: usize, replacement: Option<(&str, &str, Value)>) -> Step {
    Step::Corrected(Corrected {
        corrects: id(target),
        reason: "saisie erronée".into(),
        replacement: replacement
            .map(|(kind, on, data)| Replacement { occurred_on: date(on), step: Box::new(step(kind, data)) }),
    })
}

fn registered() -> Row {
    ("registered", "2024-01-02", json!({"structure": "aci-agen", "gender": "female", "birth_year": 1990}))
}
fn referred(on: &'static str) -> Row {
    (
        "referred",
        on,
        json!({"structure": "aci-agen", "prescriber": {"kind": "france_travail"}, "situation": "long_term_unemployed"}),
    )
}
fn contract(on: &'static str, contract_id: &str) -> Row {
    ("contract_started", on, json!({"contract_id": contract_id, "kind": "cddi", "weekly_hours": 26}))
}
fn exited(on: &'static str) -> Row {
    ("exited", on, json!({"destination": "cdi"}))
}

fn state_of(history: &[Row], corrections: &[(&str, Step)]) -> StreamState {
    let mut state = StreamState::default();
    for (index, (kind, on, data)) in history.iter().enumerate() {
        let step = step(kind, data.clone());
        check(&state, date(on), &step, date(TODAY)).unwrap_or_else(|v| panic!("history step {index} refused: {v}"));
        state.apply(id(index), date(on), &step);
    }
    for (offset, (on, correction)) in corrections.iter().enumerate() {
        check(&state, date(on), correction, date(TODAY)).unwrap();
        state.apply(id(history.len() + offset), date(on), correction);
    }
    state
}

/// Given `history`, the proposed step must break `rule` (or pass when `rule` is `None`).
fn expect(history: &[Row], proposed: (&str, Step), rule: Option<&str>) {
    let state = state_of(history, &[]);
    let outcome = check(&state, date(proposed.0), &proposed.1, date(TODAY));
    assert_eq!(outcome.as_ref().err().map(Violation::rule), rule, "{outcome:?}");
    if let Err(violation) = outcome {
        // Every violation explains itself in a sentence, not a code.
        assert!(
            violation.to_string().len() > 20 && !violation.to_string().contains('_')
                || violation.to_string().contains('«')
        );
    }
}

fn proposed(row: Row) -> (&'static str, Step) {
    (row.1, step(row.0, row.2))
}

#[test]
fn a_stream_starts_with_one_registration() {
    expect(&[], proposed(referred("2024-02-01")), Some("first_event_must_be_registration"));
    expect(&[], proposed(registered()), None);
    expect(&[registered()], proposed(registered()), Some("already_registered"));
}

#[test]
fn steps_need_an_open_episode() {
    expect(&[registered()], proposed(contract("2024-02-01", "c1")), Some("no_open_episode"));
    expect(&[registered(), referred("2024-02-01")], proposed(contract("2024-02-01", "c1")), None);
    expect(&[registered(), referred("2024-02-01")], proposed(referred("2024-02-03")), Some("episode_already_open"));
    let closed = [registered(), referred("2024-02-01"), exited("2024-05-01")];
    expect(
        &closed,
        proposed(("support_provided", "2024-05-02", json!({"domain": "housing"}))),
        Some("no_open_episode"),
    );
}

#[test]
fn re_enrolment_after_an_exit_opens_a_new_episode() {
    let history = [registered(), referred("2024-02-01"), contract("2024-02-05", "c1"), exited("2024-04-30")];
    expect(&history, proposed(referred("2024-05-15")), None);
    expect(&history, proposed(referred("2024-04-01")), Some("date_before_exit"));
    let again = [registered(), referred("2024-02-01"), exited("2024-04-30"), referred("2024-05-15")];
    expect(&again, proposed(contract("2024-05-20", "c2")), None);
    expect(&again, proposed(exited("2024-06-01")), None);
}

#[test]
fn dates_are_neither_in_the_future_nor_before_the_referral() {
    let history = [registered(), referred("2024-02-01")];
    expect(&history, proposed(contract("2024-07-01", "c1")), Some("date_in_future"));
    expect(&history, proposed(contract("2024-01-31", "c1")), Some("date_before_referral"));
    expect(&[registered()], proposed(referred("2024-01-01")), Some("date_before_registration"));
}

#[test]
fn contracts_are_started_before_they_end_or_count_hours() {
    let history = [registered(), referred("2024-02-01"), contract("2024-02-05", "c1")];
    let ended = |contract_id: &str| {
        ("contract_ended", "2024-05-31", json!({"contract_id": contract_id, "reason": "end_of_term"}))
    };
    let hours = |contract_id: &str, month: &str, hours: f64| {
        ("hours_worked", "2024-05-31", json!({"contract_id": contract_id, "month": month, "hours": hours}))
    };
    expect(&history, proposed(ended("c1")), None);
    expect(&history, proposed(ended("c2")), Some("unknown_contract"));
    expect(&history, proposed(hours("c1", "2024-03", 112.5)), None);
    expect(&history, proposed(hours("c2", "2024-03", 112.5)), Some("unknown_contract"));
    expect(&history, proposed(hours("c1", "2024-01", 10.0)), Some("hours_before_contract"));
    expect(&history, proposed(hours("c1", "2024-07", 10.0)), Some("month_in_future"));
    expect(&history, proposed(hours("c1", "2024-03", 0.0)), Some("hours_must_be_positive"));
    expect(&history, proposed(contract("2024-03-01", "c1")), Some("contract_already_started"));
    let mut twice = history.to_vec();
    twice.push(ended("c1"));
    expect(&twice, proposed(ended("c1")), Some("contract_already_ended"));
    let early = ("contract_ended", "2024-02-03", json!({"contract_id": "c1", "reason": "resignation"}));
    expect(&history, proposed(early), Some("date_before_contract_start"));
}

#[test]
fn trainings_are_started_before_they_complete() {
    let started =
        ("training_started", "2024-03-01", json!({"training_id": "t1", "title": "CACES", "qualifying": true}));
    let completed = |training_id: &str| {
        ("training_completed", "2024-04-01", json!({"training_id": training_id, "result": "certified"}))
    };
    let history = [registered(), referred("2024-02-01"), started.clone()];
    expect(&history, proposed(completed("t1")), None);
    expect(&history, proposed(completed("t2")), Some("unknown_training"));
    expect(&history, proposed(started), Some("training_already_started"));
    let mut done = history.to_vec();
    done.push(completed("t1"));
    expect(&done, proposed(completed("t1")), Some("training_already_completed"));
}

#[test]
fn a_follow_up_after_exit_needs_an_exit() {
    let follow_up = |on| ("followed_up_after_exit", on, json!({"months_after_exit": 6, "situation": "employed"}));
    expect(&[registered(), referred("2024-02-01")], proposed(follow_up("2024-06-01")), Some("no_earlier_exit"));
    let history = [registered(), referred("2024-01-05"), exited("2024-01-31")];
    expect(&history, proposed(follow_up("2024-06-29")), None);
    expect(&history, proposed(follow_up("2024-01-30")), Some("date_before_exit"));
}

#[test]
fn structure_streams_hold_structure_updates_only() {
    let update = |slug: &str| {
        (
            "structure_updated",
            "2024-01-01",
            json!({"slug": slug, "name": "ACI", "kind": "aci", "agreed_hours": {"2024": 4200}}),
        )
    };
    let structure = [update("aci-agen")];
    expect(&structure, proposed(update("aci-agen")), None);
    expect(&structure, proposed(update("ei-agen")), Some("structure_slug_mismatch"));
    expect(&structure, proposed(referred("2024-02-01")), Some("structure_stream_holds_structure_updates_only"));
    expect(&[registered()], proposed(update("aci-agen")), Some("structure_update_in_pathway"));
}

#[test]
fn the_report_stream_holds_publications_only_and_they_are_not_corrected() {
    let digest = "ab".repeat(32);
    let published = (
        "report_published",
        "2024-02-01",
        json!({"report": "activity", "structures": ["aci-agen"], "from": "2023-01-01", "to": "2023-12-31",
            "definitions": "v1", "family_quotient_bands": [700], "position": 42,
            "sha256": {"json": digest, "csv": digest, "html": digest}}),
    );
    expect(&[], proposed(published.clone()), None);
    let reports = [published.clone()];
    expect(&reports, proposed(published.clone()), None);
    expect(&reports, proposed(registered()), Some("report_stream_holds_publications_only"));
    expect(&reports, ("2024-06-01", correct(0, None)), Some("report_stream_holds_publications_only"));
    expect(&[registered()], proposed(published.clone()), Some("report_publication_in_pathway"));
    let structure = ("structure_updated", "2024-01-01", json!({"slug": "aci-agen", "name": "ACI", "kind": "aci"}));
    expect(&[structure], proposed(published), Some("structure_stream_holds_structure_updates_only"));
}

#[test]
fn corrections_name_a_live_event_of_the_stream_and_keep_its_type() {
    let history = [registered(), referred("2024-02-01"), contract("2024-02-05", "c1")];
    expect(&history, ("2024-06-01", correct(2, None)), None);
    expect(&history, ("2024-06-01", correct(9, None)), Some("unknown_corrected_event"));
    expect(&history, ("2024-06-01", correct(2, Some(exited("2024-03-01")))), Some("replacement_type_mismatch"));
    expect(&history, ("2024-06-01", correct(2, Some(contract("2024-08-01", "c1")))), Some("date_in_future"));
    expect(&history, ("2024-06-01", correct(0, None)), Some("cannot_be_corrected"));
    // Retracting the referral would leave the contract outside any episode.
    expect(&history, ("2024-06-01", correct(1, None)), Some("correction_breaks_pathway"));
    // Moving the referral after the contract start breaks the date rule.
    expect(&history, ("2024-06-01", correct(1, Some(referred("2024-03-01")))), Some("correction_breaks_pathway"));

    let state = state_of(&history, &[("2024-06-01", correct(2, None))]);
    assert!(state.find(id(2)).unwrap().retracted);
    assert!(state.pathway.contracts.is_empty(), "a retracted contract no longer counts");
    let again = check(&state, date("2024-06-02"), &correct(2, None), date(TODAY));
    assert_eq!(again.unwrap_err().rule(), "corrected_event_retracted");
    // Once retracted, the same contract id can be started again.
    assert!(check(
        &state,
        date("2024-06-02"),
        &step("contract_started", json!({"contract_id": "c1", "kind": "cdd", "weekly_hours": 35})),
        date(TODAY)
    )
    .is_ok());
}

#[test]
fn a_replaced_event_counts_with_its_replacement() {
    let history = [registered(), referred("2024-02-01"), contract("2024-02-05", "c1")];
    let fix = correct(2, Some(contract("2024-02-10", "c9")));
    let state = state_of(&history, &[("2024-06-01", fix)]);
    assert!(state.pathway.contracts.contains_key("c9") && !state.pathway.contracts.contains_key("c1"));
    assert_eq!(state.pathway.contracts["c9"].started_on, date("2024-02-10"));
    assert_eq!(state.version, 4, "the correction is an event of the stream");
}

#[test]
fn erasure_happens_once() {
    let erase = ("personal_data_erased", "2024-06-01", json!({"reason": "request"}));
    let history = [registered()];
    expect(&history, proposed(erase.clone()), None);
    expect(&[registered(), erase.clone()], proposed(erase), Some("already_erased"));
}

#[test]
fn the_current_structure_follows_orientation() {
    let onward = (
        "referred",
        "2024-05-02",
        json!({"structure": "ei-agen", "prescriber": {"kind": "plie"}, "situation": "unemployed"}),
    );
    let state = state_of(&[registered()], &[]);
    assert_eq!(state.pathway.current_structure().unwrap().as_str(), "aci-agen");
    let state = state_of(&[registered(), referred("2024-02-01"), exited("2024-05-01"), onward], &[]);
    assert_eq!(state.pathway.current_structure().unwrap().as_str(), "ei-agen");
    let structures: Vec<&str> = state.pathway.structures.iter().map(Slug::as_str).collect();
    assert_eq!(structures, ["aci-agen", "ei-agen"], "whoever followed the person may read the stream");
}

/// A history, its corrections (recorded on a date), and the structures that may read it.
type Case = (Vec<Row>, Vec<(&'static str, Step)>, &'static [&'static str]);

#[test]
fn the_structures_that_may_read_a_stream_are_those_of_its_effective_registration_and_referrals() {
    let onward = || {
        (
            "referred",
            "2024-05-02",
            json!({"structure": "ei-agen", "prescriber": {"kind": "plie"}, "situation": "unemployed"}),
        )
    };
    let elsewhere = ("referred", "2024-02-01", onward().2);
    let cases: [Case; 4] = [
        (vec![registered()], vec![], &["aci-agen"]),
        (vec![registered(), referred("2024-02-01"), exited("2024-05-01"), onward()], vec![], &["aci-agen", "ei-agen"]),
        (
            vec![registered(), referred("2024-02-01")],
            vec![("2024-03-01", correct(1, Some(elsewhere)))],
            &["aci-agen", "ei-agen"],
        ),
        (
            vec![registered(), referred("2024-02-01"), exited("2024-05-01"), onward()],
            vec![("2024-06-01", correct(3, None))],
            &["aci-agen"],
        ),
    ];
    for (history, corrections, expected) in cases {
        let state = state_of(&history, &corrections);
        let steps: Vec<(EventId, Date, Step)> = history
            .iter()
            .enumerate()
            .map(|(index, (kind, on, data))| (id(index), date(on), step(kind, data.clone())))
            .chain(
                corrections
                    .iter()
                    .enumerate()
                    .map(|(offset, (on, correction))| (id(history.len() + offset), date(on), correction.clone())),
            )
            .collect();
        let structures = structures_of(steps.iter().map(|(id, on, step)| (*id, *on, step)));
        assert_eq!(structures, state.pathway.structures, "the shortcut agrees with the fold");
        let followers = followed_by_of(steps.iter().map(|(id, on, step)| (*id, *on, step)));
        assert_eq!(followers, state.pathway.followed_by(), "the shortcut agrees with the fold");
        assert_eq!(structures.iter().map(Slug::as_str).collect::<Vec<_>>(), expected);
    }
}

fn proposal(on: &'static str) -> Row {
    (
        "referred",
        on,
        json!({"structure": "ei-agen", "prescriber": {"kind": "plie"}, "situation": "unemployed", "proposed": true}),
    )
}

fn answer(kind: &'static str, on: &'static str, referral: usize) -> Row {
    let referral = id(referral).to_string();
    match kind {
        "referral_accepted" => (kind, on, json!({"referral": referral})),
        _ => (kind, on, json!({"referral": referral, "reason": "pas de place"})),
    }
}

#[test]
fn a_proposed_referral_opens_nothing_until_its_structure_accepts_it() {
    let proposed_after_exit = [registered(), referred("2024-02-01"), exited("2024-03-01"), proposal("2024-03-05")];
    let state = state_of(&proposed_after_exit, &[]);
    assert_eq!(state.pathway.open_episode, None, "a proposal opens no episode");
    assert_eq!(state.pathway.current_structure().unwrap().as_str(), "aci-agen", "the person is still the ACI's");
    let readers: Vec<&str> = state.pathway.structures.iter().map(Slug::as_str).collect();
    assert_eq!(readers, ["aci-agen", "ei-agen"], "the structure asked may read the person to answer");
    let followed = state.pathway.followed_by();
    let followers: Vec<&str> = followed.iter().map(Slug::as_str).collect();
    assert_eq!(followers, ["aci-agen"], "but the person is not yet one of its own");
    expect(&proposed_after_exit, proposed(contract("2024-03-06", "c1")), Some("no_open_episode"));
    expect(&proposed_after_exit, proposed(referred("2024-03-06")), Some("referral_pending"));
    expect(&proposed_after_exit, proposed(answer("referral_accepted", "2024-03-04", 3)), Some("date_before_referral"));
    expect(&proposed_after_exit, proposed(answer("referral_accepted", "2024-03-06", 1)), Some("no_pending_referral"));
    expect(&proposed_after_exit, proposed(answer("referral_declined", "2024-03-06", 3)), None);

    let mut accepted = proposed_after_exit.to_vec();
    accepted.push(answer("referral_accepted", "2024-03-10", 3));
    let state = state_of(&accepted, &[]);
    let episode = state.pathway.open_episode.as_ref().unwrap();
    assert_eq!((episode.structure.as_str(), episode.referred_on), ("ei-agen", date("2024-03-05")));
    let followed = state.pathway.followed_by();
    let followers: Vec<&str> = followed.iter().map(Slug::as_str).collect();
    assert_eq!(followers, ["aci-agen", "ei-agen"], "accepted, the person is the structure's own");
    expect(&accepted, proposed(contract("2024-03-11", "c1")), None);
    expect(&accepted, proposed(answer("referral_accepted", "2024-03-11", 3)), Some("no_pending_referral"));

    let mut declined = proposed_after_exit.to_vec();
    declined.push(answer("referral_declined", "2024-03-10", 3));
    let state = state_of(&declined, &[]);
    let readers: Vec<&str> = state.pathway.structures.iter().map(Slug::as_str).collect();
    assert_eq!(readers, ["aci-agen"], "a declined proposal leaves no trace in the structure asked");
    assert_eq!(state.pathway.open_episode, None);
    expect(&declined, proposed(referred("2024-03-11")), None);
    expect(&declined, ("2024-06-01", correct(4, None)), Some("cannot_be_corrected"));
}

#[test]
fn an_absorbed_stream_takes_nothing_but_its_unmerge_and_erasure() {
    let survivor = StreamId(Uuid::from_u128(77));
    let merged_into = ("merged_into", "2024-04-01", json!({"into": survivor.to_string(), "reason": "doublon"}));
    let unmerged = ("unmerged", "2024-05-01", json!({"other": survivor.to_string(), "reason": "homonymes"}));
    let absorbed = [registered(), referred("2024-02-01"), merged_into.clone()];
    assert_eq!(state_of(&absorbed, &[]).pathway.merged_into, Some(survivor));
    expect(&absorbed, proposed(contract("2024-04-02", "c1")), Some("merged"));
    expect(&absorbed, ("2024-04-02", correct(1, None)), Some("merged"));
    expect(&absorbed, proposed(merged_into.clone()), Some("merged"));
    expect(&absorbed, proposed(("personal_data_erased", "2024-04-02", json!({"reason": "request"}))), None);
    expect(&absorbed, proposed(unmerged.clone()), None);
    let other = ("unmerged", "2024-05-01", json!({"other": StreamId(Uuid::from_u128(78)).to_string(), "reason": "x"}));
    expect(&absorbed, proposed(other), Some("not_merged"));

    let mut separated = absorbed.to_vec();
    separated.push(unmerged.clone());
    assert_eq!(state_of(&separated, &[]).pathway.merged_into, None);
    expect(&separated, proposed(contract("2024-05-02", "c1")), None);
    expect(&separated, proposed(unmerged), Some("not_merged"));

    let from = StreamId(Uuid::from_u128(79));
    let absorbs = ("absorbed", "2024-04-01", json!({"from": from.to_string(), "reason": "doublon"}));
    let survivor_history = [registered(), absorbs.clone()];
    assert!(state_of(&survivor_history, &[]).pathway.absorbed.contains(&from));
    expect(&survivor_history, proposed(absorbs), Some("already_merged"));
    let onward =
        ("merged_into", "2024-04-02", json!({"into": StreamId(Uuid::from_u128(80)).to_string(), "reason": "x"}));
    expect(&survivor_history, proposed(onward), Some("holds_merged_records"));
    expect(&survivor_history, proposed(referred("2024-04-02")), None);
    expect(&[], proposed(merged_into), Some("first_event_must_be_registration"));
}
