//! The demo as its users see it: every event accepted by the rules, the same events every time,
//! figures close to the national ones, and a dashboard with something to look at on `today`.

use std::collections::{BTreeMap, HashMap, HashSet};

use super::*;
use crate::rules::{check, StreamState};
use crate::vocabulary::{
    EventId, ExitCategory, Gender, Hours, Month, SituationAfterExit, Step, StepKind, StructureKind,
};

fn date(text: &str) -> Date {
    text.parse().expect("a test date")
}

/// Days later, for test dates.
fn plus(day: Date, days: i64) -> Date {
    Date(day.0 + chrono::Duration::days(days))
}

/// Appends the events as a store would, checking each against its stream's state on `today`.
struct Replay {
    events: Vec<(StreamId, NewEvent)>,
    streams: HashMap<StreamId, StreamState>,
}

fn replay(config: &DemoConfig) -> Replay {
    let mut streams: HashMap<StreamId, StreamState> = HashMap::new();
    let mut ids = HashSet::new();
    let events: Vec<(StreamId, NewEvent)> = config.events().collect();
    for (position, (stream, event)) in events.iter().enumerate() {
        let state = streams.entry(*stream).or_default();
        if let Err(violation) = check(state, event.occurred_on, &event.step, config.today) {
            panic!(
                "event {position} (version {} of {stream}) breaks rule {}: {violation}\n{event:#?}",
                state.version + 1,
                violation.rule()
            );
        }
        let id = event.id.expect("the demo names its events");
        assert!(ids.insert(id), "event id {id} given twice");
        state.apply(id, event.occurred_on, &event.step);
    }
    Replay { events, streams }
}

/// The effective (corrected) steps of every beneficiary, in stream order.
fn pathways(replay: &Replay) -> impl Iterator<Item = Vec<(Date, &Step)>> {
    replay.streams.values().filter(|state| state.pathway.registered_on.is_some()).map(|state| {
        state.history.iter().filter(|event| !event.retracted).map(|event| (event.occurred_on, &event.step)).collect()
    })
}

fn share(part: usize, whole: usize) -> f64 {
    100.0 * part as f64 / whole.max(1) as f64
}

fn assert_between(what: &str, value: f64, (low, high): (f64, f64)) {
    assert!((low..=high).contains(&value), "{what}: {value:.1} is outside [{low}, {high}]");
}

#[test]
fn every_demo_event_passes_the_rules_whatever_the_day() {
    for today in ["2025-06-18", "2026-01-03", "2024-02-29", "2027-11-30"] {
        let config = demo_config(date(today));
        let replay = replay(&config);
        let beneficiaries = replay.streams.values().filter(|state| state.pathway.registered_on.is_some()).count();
        assert_eq!(beneficiaries, 400, "on {today}");
        assert!(replay.events.iter().all(|(_, event)| event.occurred_on <= config.today));
    }
}

#[test]
fn every_scaled_event_passes_the_rules() {
    let config = scaled_config(7, date("2024-09-10"), 2_000, 40);
    let replay = replay(&config);
    assert_eq!(replay.streams.len(), 2_040);
}

#[test]
fn events_come_in_recording_order_structures_first() {
    let config = scaled_config(11, date("2025-03-14"), 1_000, 12);
    let events: Vec<(StreamId, NewEvent)> = config.events().collect();
    let (structures, people) = events.split_at(12);
    assert!(structures.iter().all(|(_, event)| event.step.kind() == StepKind::StructureUpdated));
    assert!(people.iter().all(|(_, event)| event.step.kind() != StepKind::StructureUpdated));
    assert!(people.windows(2).all(|pair| pair[0].1.occurred_on <= pair[1].1.occurred_on), "dates go back");
    // People are interleaved, not written one after the other.
    let switches = people.windows(2).filter(|pair| pair[0].0 != pair[1].0).count();
    assert!(switches > people.len() / 2, "{switches} switches of stream in {} events", people.len());
}

#[test]
fn a_person_is_said_to_end_on_their_last_event_only_and_structures_never() {
    let config = scaled_config(11, date("2025-03-14"), 1_000, 12);
    let seeded: Vec<Seeded> = config.seeded(Timestamp::now()).collect();
    let mut last = HashMap::new();
    for (index, event) in seeded.iter().enumerate() {
        last.insert(event.stream, index);
    }
    let structures: HashSet<StreamId> = seeded[..12].iter().map(|event| event.stream).collect();
    for (index, event) in seeded.iter().enumerate() {
        let expected = !structures.contains(&event.stream) && last[&event.stream] == index;
        assert_eq!(event.ends_stream, expected, "event {index} of {}", event.stream);
    }
}

#[test]
fn the_same_configuration_gives_the_same_events_and_another_seed_others() {
    let config = scaled_config(2004, date("2025-06-18"), 1_500, 20);
    let first: Vec<(StreamId, NewEvent)> = config.events().collect();
    let second: Vec<(StreamId, NewEvent)> = config.events().collect();
    assert_eq!(first, second);
    let demo = demo_config(date("2025-06-18"));
    assert!(demo.events().eq(demo.events()));

    let other: Vec<(StreamId, NewEvent)> = DemoConfig { seed: 2005, ..config.clone() }.events().collect();
    assert_ne!(first, other);
    let shared_ids = first.iter().skip(20).filter(|(stream, _)| other.iter().any(|(theirs, _)| theirs == stream));
    assert_eq!(shared_ids.count(), 0, "another seed names other beneficiaries");
}

#[test]
fn exits_follow_the_national_mix() {
    let config = scaled_config(3, date("2025-06-18"), 3_000, 30);
    let replay = replay(&config);
    let today = config.today;
    let mut categories: BTreeMap<ExitCategory, usize> = BTreeMap::new();
    let (mut exits, mut old_exits, mut followed, mut employed, mut reenrolled) = (0, 0, 0, 0, 0);
    let (mut entries, mut genders, mut bands) = (0, BTreeMap::new(), [0usize; 3]);
    for pathway in pathways(&replay) {
        let birth_year = pathway.iter().find_map(|(_, step)| match step {
            Step::Registered(registered) => Some(i32::from(registered.birth_year)),
            _ => None,
        });
        for (index, (on, step)) in pathway.iter().enumerate() {
            match step {
                Step::Registered(registered) => *genders.entry(registered.gender).or_insert(0) += 1,
                Step::Referred(_) => {
                    entries += 1;
                    let age = on.year() - birth_year.expect("registered first");
                    bands[match age {
                        ..25 => 0,
                        25..=50 => 1,
                        _ => 2,
                    }] += 1;
                }
                Step::Exited(exited) => {
                    exits += 1;
                    *categories.entry(exited.destination.category()).or_insert(0) += 1;
                    let later = &pathway[index + 1..];
                    reenrolled += usize::from(later.iter().any(|(_, step)| matches!(step, Step::Referred(_))));
                    if *on <= plus(today, -210) {
                        old_exits += 1;
                        let follow_up = later.iter().find_map(|(_, step)| match step {
                            Step::FollowedUpAfterExit(follow_up) => Some(follow_up.situation),
                            Step::Referred(_) => None,
                            _ => None,
                        });
                        if let Some(situation) = follow_up {
                            followed += 1;
                            employed += usize::from(situation == SituationAfterExit::Employed);
                        }
                    }
                }
                _ => {}
            }
        }
    }
    let count = |category| categories.get(&category).copied().unwrap_or(0);
    let dynamic = count(ExitCategory::DurableEmployment)
        + count(ExitCategory::TransitionEmployment)
        + count(ExitCategory::PositiveExit);
    let neutral = count(ExitCategory::NeutralExit);
    assert!(exits > 2_000, "only {exits} exits");
    assert_between("dynamic exits, % of exits", share(dynamic, exits), (40.0, 60.0));
    assert_between("dynamic exit rate", share(dynamic, exits - neutral), (45.0, 65.0));
    assert_between("durable employment", share(count(ExitCategory::DurableEmployment), exits), (15.0, 30.0));
    assert_between("transition employment", share(count(ExitCategory::TransitionEmployment), exits), (10.0, 25.0));
    assert_between("positive exits", share(count(ExitCategory::PositiveExit), exits), (5.0, 15.0));
    assert_between("neutral exits", share(neutral, exits), (5.0, 14.0));
    assert_between("other exits", share(count(ExitCategory::OtherExit), exits), (30.0, 52.0));
    assert_between("old exits followed up at six months", share(followed, old_exits), (55.0, 80.0));
    assert_between("employed six months after exit", share(employed, followed), (35.0, 55.0));
    assert_between("exits followed by a new referral", share(reenrolled, exits), (5.0, 15.0));

    let people: usize = genders.values().sum();
    assert_between("men", share(genders[&Gender::Male], people), (45.0, 65.0));
    assert_between("women", share(genders[&Gender::Female], people), (35.0, 55.0));
    assert!(genders.contains_key(&Gender::NonBinary) && genders.contains_key(&Gender::Undisclosed));
    assert_between("entries under 25", share(bands[0], entries), (12.0, 28.0));
    assert_between("entries aged 25 to 50", share(bands[1], entries), (50.0, 70.0));
    assert_between("entries over 50", share(bands[2], entries), (12.0, 28.0));
}

#[test]
fn a_scaled_log_has_about_thirty_three_events_a_person() {
    let config = scaled_config(5, date("2025-06-18"), 3_000, 30);
    let events = config.events().count() - 30;
    assert_between("events a person", events as f64 / 3_000.0, (27.0, 40.0));
}

/// What a coordinator's dashboard shows on `today`, counted from the corrected histories.
#[derive(Default, Debug)]
struct Dashboard {
    open_episodes: usize,
    waiting_for_contract: usize,
    contracts_ending_within_30_days: usize,
    follow_ups_overdue: usize,
    hours_this_month: u64,
}

fn dashboard(replay: &Replay, today: Date) -> Dashboard {
    let mut dashboard = Dashboard::default();
    for state in replay.streams.values() {
        let Some(episode) = &state.pathway.open_episode else { continue };
        dashboard.open_episodes += 1;
        let in_episode: Vec<(Date, &Step)> = state
            .history
            .iter()
            .filter(|event| !event.retracted && event.occurred_on >= episode.referred_on)
            .map(|event| (event.occurred_on, &event.step))
            .collect();
        let started: Vec<_> = in_episode
            .iter()
            .filter_map(|(_, step)| match step {
                Step::ContractStarted(started) => Some(started),
                _ => None,
            })
            .collect();
        dashboard.waiting_for_contract += usize::from(started.is_empty());
        dashboard.contracts_ending_within_30_days += started
            .iter()
            .filter(|started| !state.pathway.contracts[&started.contract_id].closed)
            .filter(|started| started.planned_end.is_some_and(|end| today <= end && end <= plus(today, 30)))
            .count();
        let last_follow_up = in_episode
            .iter()
            .filter(|(_, step)| step.kind() == StepKind::FollowUpHeld)
            .map(|(on, _)| *on)
            .max()
            .unwrap_or(episode.referred_on);
        dashboard.follow_ups_overdue += usize::from(last_follow_up < plus(today, -21));
        dashboard.hours_this_month += in_episode
            .iter()
            .filter_map(|(_, step)| match step {
                Step::HoursWorked(worked) if worked.month == Month::from_date(today) => {
                    Some(u64::from(worked.hours.hundredths))
                }
                _ => None,
            })
            .sum::<u64>();
    }
    dashboard
}

#[test]
fn the_demo_dashboard_has_something_to_show_on_any_day() {
    for today in ["2025-06-18", "2026-01-03", "2024-02-29"] {
        let today = date(today);
        let board = dashboard(&replay(&demo_config(today)), today);
        assert!(board.open_episodes >= 60, "on {today}: {board:?}");
        assert!(board.waiting_for_contract >= 3, "on {today}: {board:?}");
        assert!(board.contracts_ending_within_30_days >= 3, "on {today}: {board:?}");
        assert!(board.follow_ups_overdue >= 3, "on {today}: {board:?}");
        assert!(board.follow_ups_overdue < board.open_episodes / 2, "on {today}: {board:?}");
        if chrono::Datelike::day(&today.0) >= 8 {
            assert!(board.hours_this_month > 0, "on {today}: {board:?}");
        }
    }
}

#[test]
fn demo_structures_are_of_every_kind_with_agreed_hours_near_the_hours_worked() {
    let today = date("2025-06-18");
    let config = demo_config(today);
    let replay = replay(&config);
    let mut agreed: BTreeMap<String, BTreeMap<u16, Hours>> = BTreeMap::new();
    let mut kinds = HashSet::new();
    for (_, event) in replay.events.iter().take(config.structures.len()) {
        let Step::StructureUpdated(structure) = &event.step else { panic!("structures come first") };
        kinds.insert(structure.kind);
        agreed.insert(structure.slug.to_string(), structure.agreed_hours.clone());
    }
    for kind in [StructureKind::Ai, StructureKind::Aci, StructureKind::Ei, StructureKind::Plie] {
        assert!(kinds.contains(&kind), "no {kind} structure");
    }
    // Hours worked in the last full calendar year, by the structure of the episode.
    let year = (today.year() - 1) as u16;
    let mut worked: BTreeMap<String, u64> = BTreeMap::new();
    for pathway in pathways(&replay) {
        let mut structure = None;
        for (_, step) in &pathway {
            match step {
                Step::Referred(referred) => structure = Some(referred.structure.to_string()),
                Step::HoursWorked(hours) if hours.month.year == year => {
                    let structure = structure.clone().expect("hours come within an episode");
                    *worked.entry(structure).or_default() += u64::from(hours.hours.hundredths);
                }
                _ => {}
            }
        }
    }
    for (slug, years) in &agreed {
        let agreed = years.get(&year).unwrap_or_else(|| panic!("{slug} has no agreed hours for {year}"));
        let ratio = worked.get(slug).copied().unwrap_or(0) as f64 / f64::from(agreed.hundredths);
        // Agreements are negotiated ahead; a small structure may well work under half of them.
        assert_between(&format!("{slug}: hours worked in {year} / agreed"), ratio, (0.4, 1.5));
    }
}

#[test]
fn corrections_are_retractions_and_replacements() {
    let replay = replay(&scaled_config(9, date("2025-06-18"), 2_000, 20));
    let mut retractions = 0;
    let mut replaced: BTreeMap<StepKind, usize> = BTreeMap::new();
    let ids: HashMap<EventId, StepKind> =
        replay.events.iter().filter_map(|(_, event)| Some((event.id?, event.step.kind()))).collect();
    for (_, event) in &replay.events {
        let Step::Corrected(correction) = &event.step else { continue };
        match &correction.replacement {
            None => retractions += 1,
            Some(replacement) => *replaced.entry(replacement.step.kind()).or_insert(0) += 1,
        }
        assert!(ids.contains_key(&correction.corrects));
    }
    assert!(retractions > 5, "{retractions} retractions");
    for kind in [StepKind::HoursWorked, StepKind::Registered, StepKind::Exited] {
        assert!(replaced.get(&kind).is_some_and(|count| *count > 0), "no {kind} replaced: {replaced:?}");
    }
}

#[test]
fn identities_are_there_only_when_asked_for() {
    let today = date("2025-06-18");
    let registrations = |config: DemoConfig| -> Vec<Option<String>> {
        config
            .events()
            .filter_map(|(_, event)| match event.step {
                Step::Registered(registered) => Some(registered.identity.map(|identity| match identity {
                    crate::vocabulary::IdentityField::Clear(data) => data.display_name().unwrap_or_default(),
                    crate::vocabulary::IdentityField::Sealed(_) => String::new(),
                })),
                _ => None,
            })
            .collect()
    };
    let named = registrations(demo_config(today));
    assert!(named.iter().all(|name| name.as_ref().is_some_and(|name| name.contains(' '))));
    let anonymous = registrations(scaled_config(1, today, 200, 5));
    assert!(anonymous.iter().all(Option::is_none));
}
