//! What changed since a report was published: on a hand-built year, the figures that moved and
//! exactly the events behind each; on random histories cut at a random publication, every figure
//! that differs is listed, and each with at least one event recorded after the publication.

use std::collections::{BTreeMap, BTreeSet};

use parcours_core::vocabulary::{Envelope, EventId, StreamId};
use proptest::prelude::*;
use serde_json::json;

use super::live_and_rebuilt::{actions, history};
use super::log::{contract, date, exited, hours, person, referred, registered, slug, step, Log};
use crate::report::{
    changes, ActivityQuery, ActivityReport, DefinitionsVersion, FamilyQuotientBands, FigureChange, Span,
};
use crate::{ApplyError, Projections};

fn query(structures: &[&str], from: &str, to: &str) -> ActivityQuery {
    ActivityQuery {
        period: crate::Period::new(date(from), date(to)).unwrap(),
        structures: structures.iter().map(|s| slug(s)).collect(),
        definitions: DefinitionsVersion::V1,
        bands: FamilyQuotientBands::default(),
        by_structure: true,
    }
}

fn projections_of(envelopes: &[Envelope]) -> Projections {
    let mut projections = Projections::new();
    projections.apply_all(envelopes).unwrap();
    projections
}

/// The changes between the log cut after `published_at` events and the whole log.
fn changes_of(
    log: &Log,
    published_at: usize,
    query: &ActivityQuery,
) -> Option<(Vec<FigureChange>, ActivityReport, ActivityReport)> {
    let then = projections_of(&log.envelopes[..published_at]).activity_report_with_lists(query).ok()?;
    let now = projections_of(&log.envelopes).activity_report_with_lists(query).ok()?;
    let span = Span { published_at: published_at as u64, now_at: log.envelopes.len() as u64 };
    let found =
        changes(&then, &now, query, span, |stream: StreamId| -> Result<_, ApplyError> { Ok(log.stream(stream)) })
            .unwrap();
    Some((found, then, now))
}

/// (structure, figure) → (value, share) of every cell of both parts of a report, as the CSV has it.
fn cells(report: &ActivityReport) -> BTreeMap<(String, String), (String, String)> {
    let parts = std::iter::once((String::new(), &report.figures))
        .chain(report.by_structure.iter().map(|part| (part.structure.slug.to_string(), &part.figures)));
    parts
        .flat_map(|(structure, figures)| {
            figures.cells().into_iter().map(move |cell| {
                let share = cell.share.map(|share| share.to_string()).unwrap_or_default();
                ((structure.clone(), cell.id), (cell.value.to_string(), share))
            })
        })
        .collect()
}

fn differing(then: &ActivityReport, now: &ActivityReport) -> BTreeSet<(String, String)> {
    let (then, now) = (cells(then), cells(now));
    then.keys().chain(now.keys()).filter(|key| then.get(*key) != now.get(*key)).cloned().collect()
}

fn listed(found: &[FigureChange]) -> BTreeSet<(String, String)> {
    found
        .iter()
        .map(|change| (change.structure.as_ref().map(|s| s.to_string()).unwrap_or_default(), change.figure.clone()))
        .collect()
}

#[test]
fn late_events_and_corrections_are_named_behind_the_figures_they_move() {
    let mut log = Log::new("2025-02-01T09:00:00Z");
    log.structure("aci-agen", "2024-01-02", json!({"2024": 1200}));
    let (anne, bruno, chloe) = (person(1), person(2), person(3));
    log.add(anne, "2024-01-05", registered("aci-agen", "female", 1980));
    log.add(anne, "2024-01-10", referred("aci-agen", "unemployed", "france_travail"));
    log.add(anne, "2024-02-01", contract("c1", None));
    log.add(anne, "2024-03-01", hours("c1", "2024-02", 80.0));
    let anne_exit = log.add(anne, "2024-06-30", exited("cdi"));
    log.add(bruno, "2024-02-20", registered("aci-agen", "male", 1990));
    log.add(bruno, "2024-03-01", referred("aci-agen", "unemployed", "france_travail"));
    log.add(bruno, "2024-03-02", contract("c1", None));
    log.add(chloe, "2024-03-20", registered("aci-agen", "female", 2001));
    log.add(chloe, "2024-04-01", referred("aci-agen", "inactive", "mission_locale"));
    log.add(chloe, "2024-05-10", step("follow_up_held", json!({"kind": "committee"})));
    let published_at = log.envelopes.len();

    // Recorded after the publication.
    let late_exit = log.add(bruno, "2024-11-30", exited("cdd_under_6_months"));
    let correction = log.replace(anne, anne_exit, "2024-06-30", exited("job_seeking"));
    let late_committee = log.add(chloe, "2024-09-02", step("follow_up_held", json!({"kind": "committee"})));
    let agreement = log.structure("aci-agen", "2025-01-20", json!({"2024": 2400}));
    let unrelated = log.add(chloe, "2025-01-15", step("follow_up_held", json!({"kind": "individual"})));
    let renamed = log.add(
        StreamId::of_structure("aci-agen"),
        "2025-01-31",
        step(
            "structure_updated",
            json!({"slug": "aci-agen", "name": "ACI d'Agen", "kind": "aci", "agreed_hours": {"2024": 2400}}),
        ),
    );

    let query = query(&["aci-agen"], "2024-01-01", "2024-12-31");
    let (found, then, now) = changes_of(&log, published_at, &query).unwrap();
    assert_eq!(listed(&found), differing(&then, &now), "every differing figure, and only those");
    let events = |figure: &str| -> Vec<EventId> {
        let change = found.iter().find(|change| change.figure == figure).unwrap_or_else(|| panic!("{figure} listed"));
        change.events.iter().map(|cause| cause.id).collect()
    };
    assert_eq!(events("outcomes.exits"), [late_exit]);
    assert_eq!(events("people.present_at_end"), [late_exit]);
    assert_eq!(events("contracts.contracts_at_end"), [late_exit]);
    assert_eq!(events("outcomes.durable_employment"), [correction]);
    assert_eq!(events("outcomes.transition_employment"), [late_exit]);
    assert_eq!(events("outcomes.dynamic_exit_rate"), [late_exit, correction]);
    assert_eq!(events("follow_up.committees_held"), [late_committee]);
    assert_eq!(events("hours.agreed"), [agreement], "the renaming kept the agreed hours");
    assert_eq!(events("hours.worked_share_of_agreed"), [agreement]);
    for change in &found {
        let ids: Vec<EventId> = change.events.iter().map(|cause| cause.id).collect();
        assert!(!ids.is_empty(), "{}: an event behind it", change.figure);
        assert!(!ids.contains(&unrelated) && !ids.contains(&renamed), "{}: {ids:?}", change.figure);
    }
    let exits = found.iter().find(|change| change.figure == "outcomes.exits").unwrap();
    assert_eq!(exits.added.iter().map(|row| row.beneficiary).collect::<Vec<_>>(), [Some(bruno)]);
    assert!(exits.removed.is_empty());
    let durable = found.iter().find(|change| change.figure == "outcomes.durable_employment").unwrap();
    assert_eq!(durable.removed.iter().map(|row| row.beneficiary).collect::<Vec<_>>(), [Some(anne)]);
    assert_eq!(durable.events[0].corrects, Some(anne_exit));
    let committees = found.iter().find(|change| change.figure == "follow_up.committees_held").unwrap();
    assert_eq!((committees.added.len(), committees.added[0].on), (1, date("2024-09-02")));

    // Asked right after the publication, nothing changed.
    let (none, _, _) = changes_of(&log, log.envelopes.len(), &query).unwrap();
    assert!(none.is_empty());
}

#[test]
fn each_structure_of_a_network_report_has_its_own_changes() {
    let mut log = Log::new("2025-02-01T09:00:00Z");
    for (n, structure) in [(1, "aci-agen"), (2, "ei-nerac")] {
        log.add(person(n), "2024-01-05", registered(structure, "female", 1980));
        log.add(person(n), "2024-01-10", referred(structure, "unemployed", "france_travail"));
    }
    let published_at = log.envelopes.len();
    let late = log.add(person(2), "2024-10-01", exited("cdi"));
    let query = query(&["aci-agen", "ei-nerac"], "2024-01-01", "2024-12-31");
    let (found, then, now) = changes_of(&log, published_at, &query).unwrap();
    assert_eq!(listed(&found), differing(&then, &now));
    let exits: Vec<(String, Vec<EventId>)> = found
        .iter()
        .filter(|change| change.figure == "outcomes.exits")
        .map(|change| {
            (
                change.structure.as_ref().map(|s| s.to_string()).unwrap_or_default(),
                change.events.iter().map(|c| c.id).collect(),
            )
        })
        .collect();
    assert_eq!(exits, [(String::new(), vec![late]), ("ei-nerac".to_owned(), vec![late])], "the whole and Nérac's part");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn every_difference_is_listed_with_the_later_events_behind_it(actions in actions(), cut in 0.0..1.0f64) {
        let log = history(&actions);
        let published_at = (log.envelopes.len() as f64 * cut) as usize;
        for structures in [&["aci-agen"][..], &["aci-agen", "ai-nerac", "ei-marmande"]] {
            let query = query(structures, "2023-01-01", "2023-12-31");
            // A structure no one was referred to yet cannot be reported on: nothing to compare.
            let Some((found, then, now)) = changes_of(&log, published_at, &query) else { continue };
            prop_assert_eq!(listed(&found), differing(&then, &now));
            for change in &found {
                prop_assert!(!change.events.is_empty(), "{} has no event behind it", change.figure);
                for cause in &change.events {
                    prop_assert!(cause.position > published_at as u64 && cause.position <= log.envelopes.len() as u64);
                }
            }
        }
    }
}
