//! The property of issue 3: random valid histories, applied live event by event, rebuilt in one
//! pass, or rebuilt from a log in which every correction had been made right the first time, give
//! byte-identical dashboards, outcomes and entries; and each pathway equals the one folded from its
//! stream alone.
//!
//! Histories are generated as actions that the rules of `parcours_core::rules` filter: whatever the
//! store would refuse is dropped, so every history is one a real store could hold.

use chrono::Days;
use parcours_core::rules::EffectiveEvent;
use parcours_core::vocabulary::{
    Corrected, Date, Destination, Envelope, Gender, Replacement, Situation, SituationAfterExit, Step, StreamId,
};
use proptest::prelude::*;
use serde_json::{json, Value};

use super::log::{date, person, slug, step, Log};
use crate::audit::state_now;
use crate::report::{ActivityQuery, DefinitionsVersion, FamilyQuotientBands};
use crate::{EntriesQuery, GroupBy, OutcomeQuery, PeopleQuery, Period, Projections};

const STRUCTURES: &[&str] = &["aci-agen", "ai-nerac", "ei-marmande"];
const PEOPLE: u128 = 6;

#[derive(Clone, Debug)]
pub(super) struct Action {
    op: u8,
    who: u8,
    a: u8,
    b: u8,
    days: u8,
}

pub(super) fn actions() -> impl Strategy<Value = Vec<Action>> {
    actions_of(1..300)
}

fn actions_of(len: std::ops::Range<usize>) -> impl Strategy<Value = Vec<Action>> {
    prop::collection::vec(
        (0u8..21, 0u8..PEOPLE as u8, any::<u8>(), any::<u8>(), any::<u8>()).prop_map(|(op, who, a, b, days)| Action {
            op,
            who,
            a,
            b,
            days,
        }),
        len,
    )
}

fn minus_days(day: Date, days: u8) -> Date {
    Date(day.0.checked_sub_days(Days::new(u64::from(days))).unwrap_or(day.0))
}

fn plus_days(day: Date, days: u8) -> Date {
    Date(day.0.checked_add_days(Days::new(u64::from(days))).unwrap_or(day.0))
}

/// A replacement of the same type as `target`, with other data or another date.
fn replacement(target: &EffectiveEvent, action: &Action) -> Replacement {
    let on = minus_days(target.occurred_on, action.days % 4);
    let step = match &target.step {
        Step::Exited(_) => step("exited", json!({"destination": Destination::ALL[action.b as usize % 20]})),
        Step::Referred(referred) => {
            let mut referred = referred.clone();
            referred.structure = slug(STRUCTURES[action.b as usize % STRUCTURES.len()]);
            referred.situation = Situation::ALL[action.a as usize % Situation::ALL.len()];
            Step::Referred(referred)
        }
        Step::HoursWorked(worked) => {
            let mut worked = worked.clone();
            worked.hours = parcours_core::vocabulary::Hours::from_hundredths(u32::from(action.a) * 50 + 1);
            Step::HoursWorked(worked)
        }
        Step::ContractStarted(started) => {
            let mut started = started.clone();
            started.planned_end = Some(plus_days(on, action.a % 60));
            Step::ContractStarted(started)
        }
        Step::Registered(registered) => {
            let mut registered = registered.clone();
            registered.gender = Gender::ALL[action.a as usize % Gender::ALL.len()];
            registered.birth_year = 1950 + u16::from(action.b % 60);
            Step::Registered(registered)
        }
        other => other.clone(),
    };
    Replacement { occurred_on: on, step: Box::new(step) }
}

/// Turns actions into a valid log, recorded from 2023-01-02 over about two years.
pub(super) fn history(actions: &[Action]) -> Log {
    let mut log = Log::new("2023-01-02T09:00:00Z");
    // The structures are recorded first, as an admin does: a structure whose only referral was
    // retracted is then known to every projection alike, and its report is asked of them all
    // (without its record, the report of a structure no one was ever referred to is an error).
    for structure in STRUCTURES {
        log.structure(structure, "2023-01-02", json!({}));
    }
    let mut registered = [false; PEOPLE as usize];
    for action in actions {
        // Some actions happen on the same day as the previous one (the clock then just ticks on).
        if action.days % 5 != 0 {
            log.at(&format!("{}T09:00:00Z", plus_days(log.today(), action.days % 5)));
        }
        let who = person(u128::from(action.who) + 1);
        let on = minus_days(log.today(), action.a % 8);
        let structure = STRUCTURES[action.a as usize % STRUCTURES.len()];
        let contract = format!("c{}", action.b % 3);
        // A merge of two records of one person, or the unmerge of a merged pair: two streams at
        // once, as the store writes them.
        if registered[action.who as usize] && matches!(action.op, 19 | 20) {
            let other = person(u128::from(action.b) % PEOPLE + 1);
            let (one, two) = (who.to_string(), other.to_string());
            let parts = if action.op == 19 {
                vec![
                    (who, log.today(), step("merged_into", json!({"into": two, "reason": "doublon"}))),
                    (other, log.today(), step("absorbed", json!({"from": one, "reason": "doublon"}))),
                ]
            } else {
                vec![
                    (who, log.today(), step("unmerged", json!({"other": two, "reason": "homonymes"}))),
                    (other, log.today(), step("unmerged", json!({"other": one, "reason": "homonymes"}))),
                ]
            };
            if who != other {
                let _ = log.try_append_together(parts);
            }
            continue;
        }
        let proposed = if !registered[action.who as usize] {
            registered[action.who as usize] = true;
            let gender = Gender::ALL[action.b as usize % Gender::ALL.len()];
            let data =
                json!({"structure": structure, "gender": gender, "birth_year": 1950 + u16::from(action.days % 60)});
            Some((who, log.today(), step("registered", data)))
        } else {
            let data = match action.op {
                0 | 1 => Some((
                    "referred",
                    json!({
                        "structure": structure,
                        "situation": Situation::ALL[action.b as usize % Situation::ALL.len()],
                        "prescriber": {"kind": parcours_core::vocabulary::PrescriberKind::ALL[action.days as usize % 16]},
                    }),
                )),
                2 => Some((
                    "contract_started",
                    json!({
                        "contract_id": contract, "kind": "cddi", "weekly_hours": 26,
                        "planned_end": (action.days % 5 != 0).then(|| plus_days(on, action.days % 60)),
                    }),
                )),
                3 => Some(("contract_ended", json!({"contract_id": contract, "reason": "end_of_term"}))),
                4 | 5 => Some((
                    "hours_worked",
                    json!({
                        "contract_id": contract, "month": on.month(), "hours": f64::from(action.days % 80) + 0.5,
                    }),
                )),
                6 => Some(("follow_up_held", json!({"kind": "committee"}))),
                7 => Some(("exited", json!({"destination": Destination::ALL[action.b as usize % 20]}))),
                8 => Some((
                    "followed_up_after_exit",
                    json!({
                        "months_after_exit": if action.b % 3 == 0 { 12 } else { 6 },
                        "situation": SituationAfterExit::ALL[action.days as usize % 5],
                    }),
                )),
                9 => Some(("training_started", json!({"training_id": "t1", "title": "CACES", "qualifying": true}))),
                10 => Some(("training_completed", json!({"training_id": "t1", "result": "certified"}))),
                13 => Some(("personal_data_erased", json!({"reason": "request"}))),
                // A referral by someone without rights on its structure (CONTRACT §7).
                16 => Some((
                    "referred",
                    json!({
                        "structure": structure,
                        "situation": Situation::ALL[action.b as usize % Situation::ALL.len()],
                        "prescriber": {"kind": "plie"},
                        "proposed": true,
                    }),
                )),
                _ => None,
            };
            match (data, action.op) {
                // A follow-up after exit is dated today, so that it is not before the exit.
                (Some((kind, data)), 8) => Some((who, log.today(), step(kind, data))),
                (Some((kind, data)), _) => Some((who, on, step(kind, data))),
                // Publications interleave with pathways: every projection must pass over them.
                (None, 14) => {
                    let digest = format!("{:064x}", action.b);
                    let data = json!({"report": "activity", "structures": [structure], "from": "2023-01-01",
                        "to": log.today(), "definitions": "v1", "family_quotient_bands": [700],
                        "position": log.envelopes.len(), "sha256": {"json": digest, "csv": digest, "html": digest}});
                    Some((StreamId::published_reports(), log.today(), step("report_published", data)))
                }
                // The structure asked answers the proposal waiting for it, if there is one.
                (None, 17 | 18) => log.state(who).and_then(|state| {
                    let referral = state.pathway.pending_referral.as_ref()?.referral.to_string();
                    let answer = match action.op {
                        17 => step("referral_accepted", json!({"referral": referral})),
                        _ => step("referral_declined", json!({"referral": referral, "reason": "pas de place"})),
                    };
                    Some((who, log.today(), answer))
                }),
                (None, 11 | 12) => log.state(who).and_then(|state| {
                    let target = state.history.get(usize::from(action.b) % state.history.len().max(1))?;
                    let replacement = (action.op == 12).then(|| replacement(target, action));
                    let correction = Corrected { corrects: target.id, reason: "erreur".into(), replacement };
                    Some((who, log.today(), Step::Corrected(correction)))
                }),
                _ => {
                    let year = log.today().year();
                    let agreed = json!({year.to_string(): u32::from(action.days) * 100});
                    let data = json!({"slug": structure, "name": structure, "kind": "aci", "agreed_hours": agreed});
                    Some((StreamId::of_structure(structure), log.today(), step("structure_updated", data)))
                }
            }
        };
        if let Some((stream, on, step)) = proposed {
            let _ = log.try_append(stream, on, step);
        }
    }
    log
}

/// The log as if every correction had been right the first time: retracted events left out,
/// replaced ones recorded with their replacement, corrections gone.
fn resolved(envelopes: &[Envelope]) -> Vec<Envelope> {
    let mut kept: Vec<Envelope> = Vec::new();
    for envelope in envelopes {
        match &envelope.step {
            Step::Corrected(correction) => {
                if let Some(index) = kept.iter().position(|kept| kept.id == correction.corrects) {
                    match &correction.replacement {
                        None => {
                            kept.remove(index);
                        }
                        Some(replacement) => {
                            kept[index].occurred_on = replacement.occurred_on;
                            kept[index].step = (*replacement.step).clone();
                        }
                    }
                }
            }
            _ => kept.push(envelope.clone()),
        }
    }
    for (index, envelope) in kept.iter_mut().enumerate() {
        envelope.position = index as u64 + 1;
    }
    kept
}

/// Every question the server may ask, answered as JSON.
pub(super) fn answers(projections: &Projections, today: Date) -> String {
    let mut answers: Vec<Value> = Vec::new();
    // The proposals waiting for an answer, and each structure's people list (which leaves them out).
    answers.push(serde_json::to_value(projections.pending_referrals(None)).unwrap_or_default());
    for structure in STRUCTURES {
        let reach = PeopleQuery { reach: Some(vec![slug(structure)]), ..PeopleQuery::default() };
        answers.push(serde_json::to_value(projections.people(&reach)).unwrap_or_default());
    }
    for structure in STRUCTURES {
        for day in [date("2023-06-30"), date("2024-01-15"), today] {
            answers.push(serde_json::to_value(projections.dashboard(&slug(structure), day)).unwrap_or_default());
        }
    }
    let periods = [("2023-01-01", "2023-12-31"), ("2023-07-01", "2024-06-30"), ("2023-01-01", "2025-12-31")];
    for (from, to) in periods {
        let period = Period::new(date(from), date(to)).unwrap();
        for structure in std::iter::once(None).chain(STRUCTURES.iter().map(|s| Some(slug(s)))) {
            for by in std::iter::once(None).chain(GroupBy::ALL.iter().copied().map(Some)) {
                let query =
                    OutcomeQuery { period, structure: structure.clone(), by, sensitive_prescribers_as_other: false };
                answers.push(serde_json::to_value(projections.outcomes(&query)).unwrap_or_default());
            }
            let entries = projections.entries(&EntriesQuery { period, structure });
            answers.push(serde_json::to_value(entries).unwrap_or_default());
        }
        // The activity report and the rows behind its figures (an unknown structure is an error).
        for structures in [&STRUCTURES[..1], STRUCTURES] {
            let query = ActivityQuery {
                period,
                structures: structures.iter().map(|s| slug(s)).collect(),
                definitions: DefinitionsVersion::V1,
                bands: FamilyQuotientBands::default(),
                by_structure: true,
            };
            let answer = projections.activity_report(&query).map(|report| {
                let lists: Vec<(String, String)> =
                    report.lists.ids().map(|id| (id.to_owned(), format!("{:?}", report.lists.get(id)))).collect();
                (report.to_csv(), lists)
            });
            answers.push(serde_json::to_value(format!("{answer:?}")).unwrap_or_default());
        }
    }
    answers.push(serde_json::to_value(projections.people(&crate::PeopleQuery::default())).unwrap_or_default());
    serde_json::to_string(&answers).unwrap_or_default()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn live_rebuilt_and_corrected_from_the_start_agree(actions in actions(), cut in 0.0..1.0f64) {
        let log = history(&actions);
        let today = log.today();
        let envelopes = &log.envelopes;

        // Live: one event at a time, answering questions as it goes.
        let mut live = Projections::new();
        let cut = (envelopes.len() as f64 * cut) as usize;
        for (index, envelope) in envelopes.iter().enumerate() {
            live.apply(envelope).unwrap();
            if index + 1 == cut {
                // Mid-way, live equals a rebuild of the prefix made right from the start.
                let mut prefix = Projections::new();
                prefix.apply_all(&resolved(&envelopes[..cut])).unwrap();
                prop_assert_eq!(answers(&live, today), answers(&prefix, today));
            }
        }
        prop_assert_eq!(live.applied_position(), envelopes.len() as u64);

        let mut rebuilt = Projections::new();
        rebuilt.apply_all(envelopes).unwrap();
        let mut right_first_time = Projections::new();
        right_first_time.apply_all(&resolved(envelopes)).unwrap();

        let live_answers = answers(&live, today);
        prop_assert_eq!(&live_answers, &answers(&rebuilt, today));
        prop_assert_eq!(&live_answers, &answers(&right_first_time, today));

        for n in 1..=PEOPLE {
            let stream: Vec<Envelope> = log.stream(person(n));
            let from_projections = live.pathway(person(n));
            prop_assert_eq!(&from_projections, &state_now(&stream));
            let mut from_resolved = right_first_time.pathway(person(n));
            if let (Some(resolved), Some(live)) = (&mut from_resolved, &from_projections) {
                resolved.version = live.version;
            }
            prop_assert_eq!(from_resolved, from_projections);
        }
    }
}

#[test]
fn generated_histories_hold_every_kind_of_step() {
    // Guards the generator: a property over histories without corrections or exits proves little.
    use proptest::strategy::ValueTree;
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let actions = actions_of(2000..2001).new_tree(&mut runner).expect("actions").current();
    let log = history(&actions);
    let mut kinds: Vec<&str> = log.envelopes.iter().map(|e| e.step.kind().code()).collect();
    kinds.sort();
    kinds.dedup();
    let expected = [
        "referred",
        "contract_started",
        "hours_worked",
        "exited",
        "followed_up_after_exit",
        "corrected",
        "report_published",
        "merged_into",
        "unmerged",
        "referral_accepted",
        "referral_declined",
    ];
    for kind in expected {
        assert!(kinds.contains(&kind), "{kind} missing from {kinds:?}");
    }
}
