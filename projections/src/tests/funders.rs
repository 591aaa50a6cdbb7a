//! The figures a director is asked for beyond CONTRACT §8 (§11, version 2 of the definitions),
//! on an integration enterprise's year built for them, every expected figure counted by hand
//! from the table below; and the same log under version 1, which must not show any of them.

use serde_json::{json, Value};

use super::log::{date, person, registered, slug, step, Log};
use super::report::checked;
use crate::report::{ActivityQuery, ActivityReport, DefinitionsVersion, FamilyQuotientBands};
use crate::{Disclosed, Period, Projections};

const EI: &str = "ei-recyclerie";

fn query(from: &str, to: &str, definitions: DefinitionsVersion) -> ActivityQuery {
    ActivityQuery {
        period: Period::new(date(from), date(to)).unwrap(),
        structures: vec![slug(EI)],
        definitions,
        bands: FamilyQuotientBands::default(),
        by_structure: true,
    }
}

/// The report with its lists, checked against the report without them and list by list.
fn report(projections: &Projections, from: &str, to: &str, definitions: DefinitionsVersion) -> ActivityReport {
    let question = query(from, to, definitions);
    let listed = projections.activity_report_with_lists(&question).unwrap();
    assert_eq!(projections.activity_report(&question).unwrap().figures, listed.figures);
    listed
}

fn referral(prescriber: &str) -> parcours_core::vocabulary::Step {
    step("referred", json!({"structure": EI, "situation": "long_term_unemployed", "prescriber": {"kind": prescriber}}))
}

fn follow_up(kind: &str) -> parcours_core::vocabulary::Step {
    step("follow_up_held", json!({"kind": kind}))
}

fn training(id: &str) -> parcours_core::vocabulary::Step {
    step("training_started", json!({"training_id": id, "title": "CACES R489", "qualifying": true}))
}

fn training_ended(id: &str, result: &str) -> parcours_core::vocabulary::Step {
    step("training_completed", json!({"training_id": id, "result": result}))
}

fn assessed(kind: &str) -> parcours_core::vocabulary::Step {
    step("skills_assessed", json!({"assessor": "AFPA", "kind": kind}))
}

/// An EI's 2025, "15 people left for a permanent job":
///
/// | people | referred (prescriber) | in 2025 | exit | pathway |
/// |---|---|---|---|---|
/// | 1–15 | 2024-12-n (france_travail) | CDDI from 2025-01-02, 134 h a month Jan–Nov and 133 h in Dec: 1,607 h each | cdi on 2025-12-31 | 396 − n days: 395 … 381 |
/// | 16–17 | 2025-03-03 (plie) | | cdd_6_months_plus on 2025-09-30 | 211 days |
/// | 18 | 2025-03-03 (spip) | | cdd_6_months_plus on 2025-09-30 | 211 days |
/// | 19 | 2025-06-02 (france_travail) | | job_seeking on 2025-06-12 | 10 days |
/// | 20 | 2025-02-03 (mission_locale) | | — | |
///
/// Trainings: 16, 17, 18 start one on 2025-04-01 (16 certified, 17 completed on 2025-06-30, 18
/// abandons on 2025-05-15); 1 started one on 2024-12-15 and is certified on 2025-02-28.
/// Assessments: 19 a PMSMP on 2025-06-05; 20 a skills review on 2025-03-10 and a PMSMP on
/// 2025-04-10; 2 a PMSMP on 2024-12-20 (before the year).
/// Group sessions: 1–6 and 20 on 2025-03-14, 1–3 on 2025-10-10 (two sessions); 4 on 2024-12-20.
/// Phone calls: 20 on 2025-02-10 and 2025-05-10, 19 on 2025-06-10; 5 on 2024-12-28.
fn ei_2025() -> Log {
    let mut log = Log::new("2026-02-01T09:00:00Z");
    log.structure(EI, "2024-01-02", json!({"2025": 30000}));
    for n in 1..=20u128 {
        log.add(person(n), "2024-11-02", registered(EI, if n % 2 == 1 { "female" } else { "male" }, 1985));
    }
    for n in 1..=15u128 {
        let p = person(n);
        log.add(p, &format!("2024-12-{n:02}"), referral("france_travail"));
        log.add(
            p,
            "2025-01-02",
            step("contract_started", json!({"contract_id": "c", "kind": "cddi", "weekly_hours": 35})),
        );
        for month in 1..=12 {
            let worked = if month == 12 { 133 } else { 134 };
            let recorded = if month == 12 { "2025-12-31".to_owned() } else { format!("2025-{:02}-28", month + 1) };
            log.add(
                p,
                &recorded,
                step("hours_worked", json!({"contract_id": "c", "month": format!("2025-{month:02}"), "hours": worked})),
            );
        }
    }
    for (n, prescriber) in [(16, "plie"), (17, "plie"), (18, "spip")] {
        log.add(person(n), "2025-03-03", referral(prescriber));
    }
    log.add(person(19), "2025-06-02", referral("france_travail"));
    log.add(person(20), "2025-02-03", referral("mission_locale"));

    log.add(person(1), "2024-12-15", training("t0"));
    log.add(person(1), "2025-02-28", training_ended("t0", "certified"));
    for n in 16..=18 {
        log.add(person(n), "2025-04-01", training("t1"));
    }
    log.add(person(18), "2025-05-15", training_ended("t1", "abandoned"));
    log.add(person(16), "2025-06-30", training_ended("t1", "certified"));
    log.add(person(17), "2025-06-30", training_ended("t1", "completed"));

    log.add(person(2), "2024-12-20", assessed("pmsmp"));
    log.add(person(20), "2025-03-10", assessed("bilan_de_competences"));
    log.add(person(20), "2025-04-10", assessed("pmsmp"));
    log.add(person(19), "2025-06-05", assessed("pmsmp"));

    log.add(person(4), "2024-12-20", follow_up("group"));
    for n in [1, 2, 3, 4, 5, 6, 20] {
        log.add(person(n), "2025-03-14", follow_up("group"));
    }
    for n in 1..=3 {
        log.add(person(n), "2025-10-10", follow_up("group"));
    }
    log.add(person(5), "2024-12-28", follow_up("phone"));
    log.add(person(20), "2025-02-10", follow_up("phone"));
    log.add(person(20), "2025-05-10", follow_up("phone"));
    log.add(person(19), "2025-06-10", follow_up("phone"));

    let exited = |destination: &str| step("exited", json!({"destination": destination}));
    log.add(person(19), "2025-06-12", exited("job_seeking"));
    for n in 16..=18 {
        log.add(person(n), "2025-09-30", exited("cdd_6_months_plus"));
    }
    for n in 1..=15 {
        log.add(person(n), "2025-12-31", exited("cdi"));
    }
    log
}

#[test]
fn an_ei_year_gives_the_figures_a_director_is_asked_for() {
    let projections = ei_2025().projections();
    let report = report(&projections, "2025-01-01", "2025-12-31", DefinitionsVersion::V2);
    let json = checked(&report);
    assert_eq!(json["definitions"]["version"], "v2");

    // 15 left for a CDI, 18 for durable employment (16–18 took a CDD of six months or more).
    assert_eq!(json["outcomes"]["cdi"], 15);
    assert_eq!(json["outcomes"]["durable_employment"], 18);
    assert_eq!(json["outcomes"]["exits"], 19);
    // 19 pathways, sorted: 10, 211, 211, 211, 381 … 395; the 10th is 386; 6,463 days / 19 = 340.16.
    assert_eq!(json["people"]["pathway_days"], json!({"median": 386.0, "mean": 340.2}));
    // 15 × 1,607 h = 24,105 h over the twelve months: 15 FTE; no FTE agreed in the record.
    assert_eq!(json["hours"]["worked"], 24105);
    assert_eq!(json["contracts"]["fte_worked"], 15);
    assert_eq!(json["contracts"]["agreed_fte"], Value::Null);
    // Started in 2025: 16, 17, 18; completed: 16, 17 and 1 (started the year before); certified: 16 and 1.
    assert_eq!(json["trainings"], json!({"started": 3, "completed": 3, "certified": 2}));
    // 20's skills review and PMSMP, 19's PMSMP; 2's was in 2024.
    assert_eq!(
        json["skills_assessments"],
        json!({"count": 3, "by_kind": [{"kind": "bilan_de_competences", "count": 1}, {"kind": "pmsmp", "count": 2}]})
    );
    // Two sessions (seven people on 2025-03-14, three on 2025-10-10); three phone calls in 2025.
    assert_eq!(json["follow_up"]["group_sessions"], 2);
    assert_eq!(json["follow_up"]["phone_contacts"], 3);
    assert_eq!(report.lists.count(crate::report::GROUP_ATTENDANCE), 10);
    // The year's five entries (16–20), by prescriber in the contract's order.
    assert_eq!(
        json["entries"]["by_prescriber"],
        json!([
            {"prescriber": "france_travail", "count": 1, "share": 20.0},
            {"prescriber": "mission_locale", "count": 1, "share": 20.0},
            {"prescriber": "plie", "count": 2, "share": 40.0},
            {"prescriber": "spip", "count": 1, "share": 20.0},
        ])
    );
    // Every new cell has its definition in version 2, and its value in the CSV.
    let csv = report.to_csv();
    for id in [
        "outcomes.cdi,15,",
        "people.pathway_days.median,386.0,",
        "people.pathway_days.mean,340.2,",
        "contracts.fte_worked,15,",
        "contracts.agreed_fte,,",
        "trainings.certified,2,",
        "skills_assessments.by_kind.pmsmp,2,",
        "follow_up.group_sessions,2,",
        "follow_up.phone_contacts,3,",
        "entries.by_prescriber.plie,2,40.0",
    ] {
        assert!(csv.contains(&format!("\n,{id}\n")), "{id} in\n{csv}");
    }
    for cell in report.figures.cells() {
        assert!(DefinitionsVersion::V2.text(cell.definition).is_some(), "{}", cell.id);
    }
}

#[test]
fn a_version_1_report_has_none_of_the_figures_version_2_adds() {
    let projections = ei_2025().projections();
    let v1 = report(&projections, "2025-01-01", "2025-12-31", DefinitionsVersion::V1);
    let v2 = report(&projections, "2025-01-01", "2025-12-31", DefinitionsVersion::V2);
    let json = serde_json::to_value(&v1).unwrap();
    for pointer in [
        "/entries",
        "/trainings",
        "/skills_assessments",
        "/outcomes/cdi",
        "/people/pathway_days",
        "/contracts/fte_worked",
        "/contracts/agreed_fte",
        "/follow_up/group_sessions",
        "/follow_up/phone_contacts",
    ] {
        assert_eq!(json.pointer(pointer), None, "{pointer} in a version 1 report");
    }
    // Nor any list behind them, and every figure of version 1 is the same under version 2.
    assert!(v1.lists.ids().all(|id| v2.lists.ids().any(|other| other == id)));
    for id in [crate::report::GROUP_ATTENDANCE, "people.pathway_days", "trainings.started", "outcomes.cdi"] {
        assert_eq!(v1.lists.count(id), 0, "{id}");
        assert!(v2.lists.count(id) > 0, "{id}");
    }
    let v2_cells = v2.figures.cells();
    for cell in v1.figures.cells() {
        let same = v2_cells.iter().find(|other| other.id == cell.id).unwrap();
        assert_eq!((same.value, same.share), (cell.value, cell.share), "{}", cell.id);
        assert!(DefinitionsVersion::V1.text(cell.definition).is_some());
    }
    // Added: pathway median and mean, FTE worked and agreed, group sessions, phone contacts (6);
    // four prescribers, three training counts, assessments and their two kinds, CDI (11).
    assert_eq!(v1.figures.cells().len() + 17, v2_cells.len(), "the cells version 2 adds, counted by hand");
}

#[test]
fn evaluators_get_the_new_figures_with_small_cells_withheld() {
    let projections = ei_2025().projections();
    let mut year = report(&projections, "2025-01-01", "2025-12-31", DefinitionsVersion::V2);
    year.withhold_small_cells(5);
    let json = serde_json::to_value(&year).unwrap();
    // Large counts stay: 15 CDI, 19 exits behind the pathways, 24,105 hours.
    assert_eq!(json["outcomes"]["cdi"], 15);
    assert_eq!(json["people"]["pathway_days"]["median"], 386.0);
    assert_eq!(json["contracts"]["fte_worked"], 15);
    // Small ones go: 3, 3, 2 trainings; 2 sessions; 3 phone calls; 3 assessments (and their kinds).
    assert_eq!(json["trainings"], json!({"started": null, "completed": null, "certified": null, "suppressed": true}));
    assert_eq!(json["follow_up"]["group_sessions"], Value::Null);
    assert_eq!(json["follow_up"]["phone_contacts"], Value::Null);
    assert_eq!(json["follow_up"]["suppressed"], true);
    assert_eq!(json["skills_assessments"]["count"], Value::Null);
    // The SPIP, which tells of a sentence, reads as `other`; every prescriber's cell is small.
    let prescribers = json["entries"]["by_prescriber"].as_array().unwrap();
    let kinds: Vec<&str> = prescribers.iter().map(|row| row["prescriber"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["france_travail", "mission_locale", "plie", "other"]);
    assert!(prescribers.iter().all(|row| row["count"].is_null() && row["suppressed"] == true), "{prescribers:?}");
    for cell in year.figures.cells() {
        if let crate::report::Value::Count(Disclosed::Count(count)) = cell.value {
            assert!(count == 0 || count >= 5, "{} shows {count}", cell.id);
        }
    }

    // June alone: one exit (19, ten days), whose length would be theirs.
    let mut june = report(&projections, "2025-06-01", "2025-06-30", DefinitionsVersion::V2);
    assert_eq!(serde_json::to_value(&june).unwrap()["people"]["pathway_days"]["median"], 10.0);
    june.withhold_small_cells(5);
    let json = serde_json::to_value(&june).unwrap();
    assert_eq!(json["people"]["pathway_days"], json!({"median": null, "mean": null}));
    assert_eq!(json["people"]["suppressed"], true);
}

#[test]
fn a_version_1_report_keeps_the_bytes_the_code_before_version_2_gave() {
    // `data/ei-2025-*.json|csv` were written by the code of version 1 alone (the commit before
    // version 2), from this very log: the trainings, assessments, group sessions and phone calls
    // it holds must move no byte of a version 1 report.
    let projections = ei_2025().projections();
    let report = projections.activity_report(&query("2025-01-01", "2025-12-31", DefinitionsVersion::V1)).unwrap();
    assert_eq!(serde_json::to_string(&report).unwrap(), include_str!("data/ei-2025-v1.json"));
    assert_eq!(report.to_csv(), include_str!("data/ei-2025-v1.csv"));
}
