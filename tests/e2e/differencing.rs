//! Evaluators cannot undo small-cell suppression by differencing (issue 16, item 6): with every
//! table an evaluator may ask of one year (the year and its quarters; all structures and each one;
//! every grouping), subtracting one from another recovers no withheld cell, and periods that
//! overlap without nesting cannot be asked.

use std::collections::{BTreeMap, BTreeSet};

use parcours_tests::{Client, Server};
use serde_json::{json, Value};

use crate::{bin, OUTCOME_COUNTS};

const STRUCTURES: [&str; 3] = ["ai-auch", "aci-agen", "ei-marmande"];
const GROUPINGS: [Option<&str>; 5] = [None, Some("gender"), Some("age_band"), Some("situation"), Some("prescriber")];

/// One person: registered, referred to `structure` on `referred`, exited on `exited` to
/// `destination`.
async fn exit(
    admin: &Client,
    structure: &str,
    gender: &str,
    year: i32,
    referred: &str,
    exited: &str,
    destination: &str,
) {
    let registered = admin
        .post(
            "/api/beneficiaries",
            &json!({"occurred_on": format!("{year}-01-02"), "data": {"structure": structure, "gender": gender, "birth_year": 1980}}),
        )
        .await;
    assert_eq!(registered.status, 201, "{}", registered.text);
    let id = registered.body["id"].as_str().unwrap();
    let events = json!({"events": [
        {"type": "referred", "occurred_on": format!("{year}-{referred}"), "data": {"structure": structure,
            "prescriber": {"kind": "france_travail"}, "situation": "unemployed"}},
        {"type": "exited", "occurred_on": format!("{year}-{exited}"), "data": {"destination": destination}},
    ]});
    let appended = admin.post(&format!("/api/beneficiaries/{id}/events"), &events).await;
    assert_eq!(appended.status, 201, "{}", appended.text);
}

/// A cell of an answer: its value, `None` when withheld.
type Cells = BTreeMap<String, Option<u64>>;

fn value(cell: &Value) -> Option<u64> {
    cell.as_u64()
}

/// Every count of an outcome answer, by `total.field` and `key=value.field`; groups not listed
/// are known zeros, for every key the other answers list.
fn outcome_cells(answer: &Value) -> Cells {
    let mut cells = Cells::new();
    for field in OUTCOME_COUNTS {
        cells.insert(format!("total.{field}"), value(&answer[field]));
    }
    for group in answer["groups"].as_array().into_iter().flatten() {
        let (by, key) = group["key"].as_object().unwrap().iter().next().unwrap();
        for field in OUTCOME_COUNTS {
            cells.insert(format!("{by}={}.{field}", key.as_str().unwrap()), value(&group[field]));
        }
    }
    cells
}

/// Every count of an entries answer; rows not listed are known zeros.
fn entry_cells(answer: &Value) -> Cells {
    let mut cells = Cells::new();
    cells.insert("participants".into(), value(&answer["participants"]));
    for (table, keys) in [
        ("by_gender", &["gender"][..]),
        ("by_situation_and_gender", &["situation", "gender"]),
        ("by_age_band_and_gender", &["age_band", "gender"]),
    ] {
        for row in answer[table].as_array().unwrap() {
            let key: Vec<&str> = keys.iter().map(|key| row[*key].as_str().unwrap()).collect();
            cells.insert(format!("{table}.{}", key.join(".")), value(&row["count"]));
        }
    }
    cells
}

/// The cells an attacker recovers from `whole = Σ parts`, cell by cell: where exactly one of the
/// line is withheld, the others give it. Cells absent from an answer are zeros (shown).
fn recovered(whole: &Cells, parts: &[&Cells], what: &str) -> Vec<String> {
    let keys: BTreeSet<&String> = std::iter::once(whole).chain(parts.iter().copied()).flat_map(Cells::keys).collect();
    let cell = |cells: &Cells, key: &String| cells.get(key).copied().unwrap_or(Some(0));
    keys.into_iter()
        .filter(|key| {
            let line: Vec<Option<u64>> =
                std::iter::once(cell(whole, key)).chain(parts.iter().map(|cells| cell(cells, key))).collect();
            line.iter().filter(|value| value.is_none()).count() == 1
        })
        .map(|key| format!("{what}: {key}"))
        .collect()
}

/// Three structures over one year, hand-made so that small cells fall in some quarters and some
/// structures (exits; each person is also one entry, referred the quarter before or the same):
/// - aci-agen: Q1 6 exits to a CDI (3 women), Q2 2 to job seeking, Q3 5 to a CDI, Q4 1 for health;
/// - ei-marmande: Q1 5 to a short CDD, Q2 6 to a CDI, Q3 3 to qualifying training, Q4 6 to a CDI;
/// - ai-auch: Q2 5 to job seeking, Q3 2 to a CDI, Q4 5 to qualifying training.
#[tokio::test(flavor = "multi_thread")]
async fn no_withheld_cell_is_recovered_from_the_tables_an_evaluator_may_ask() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(bin(), dir.path(), &[]);
    let admin = server.admin();
    let year = chrono::Utc::now().date_naive().format("%Y").to_string().parse::<i32>().unwrap() - 1;
    let plan: [(&str, &str, &str, &str, usize); 11] = [
        ("aci-agen", "01-05", "03-20", "cdi", 6),
        ("aci-agen", "01-05", "05-20", "job_seeking", 2),
        ("aci-agen", "04-05", "08-20", "cdi", 5),
        ("aci-agen", "07-05", "11-20", "health", 1),
        ("ei-marmande", "01-05", "02-20", "cdd_under_6_months", 5),
        ("ei-marmande", "01-05", "06-20", "cdi", 6),
        ("ei-marmande", "04-05", "09-20", "qualifying_training", 3),
        ("ei-marmande", "07-05", "12-10", "cdi", 6),
        ("ai-auch", "01-05", "04-20", "job_seeking", 5),
        ("ai-auch", "04-05", "07-20", "cdi", 2),
        ("ai-auch", "07-05", "10-20", "qualifying_training", 5),
    ];
    for (structure, referred, exited, destination, people) in plan {
        for index in 0..people {
            let gender = if index % 2 == 0 { "female" } else { "male" };
            exit(&admin, structure, gender, year, referred, exited, destination).await;
        }
    }
    let (_, token) = {
        let created = admin.post("/api/tokens", &json!({"role": "evaluator", "label": "évaluation"})).await;
        assert_eq!(created.status, 201, "{}", created.text);
        (created.body["id"].clone(), created.body["token"].as_str().unwrap().to_owned())
    };
    let evaluator = Client::new(&server.url).with_token(&token);
    let periods = [
        (format!("{year}-01-01"), format!("{year}-12-31")),
        (format!("{year}-01-01"), format!("{year}-03-31")),
        (format!("{year}-04-01"), format!("{year}-06-30")),
        (format!("{year}-07-01"), format!("{year}-09-30")),
        (format!("{year}-10-01"), format!("{year}-12-31")),
    ];
    let structures: Vec<Option<&str>> = std::iter::once(None).chain(STRUCTURES.map(Some)).collect();
    let ask = |route: &str, period: &(String, String), structure: Option<&str>, by: Option<&str>| {
        let mut path = format!("{route}?from={}&to={}", period.0, period.1);
        if let Some(structure) = structure {
            path.push_str(&format!("&structure={structure}"));
        }
        if let Some(by) = by {
            path.push_str(&format!("&by={by}"));
        }
        path
    };

    // Every table: [period][structure][grouping], outcomes and entries.
    let mut outcomes = Vec::new();
    let mut entries = Vec::new();
    let mut withheld = 0;
    for period in &periods {
        let (mut by_structure, mut entries_by_structure) = (Vec::new(), Vec::new());
        for structure in &structures {
            let mut by_grouping = Vec::new();
            for by in GROUPINGS {
                let answer = evaluator.get(&ask("/api/stats/outcomes", period, *structure, by)).await;
                assert_eq!(answer.status, 200, "{}", answer.text);
                let exact = admin.get(&ask("/api/stats/outcomes", period, *structure, by)).await;
                let (cells, exact) = (outcome_cells(&answer.body), outcome_cells(&exact.body));
                for (key, cell) in &cells {
                    if let Some(shown) = cell {
                        assert_eq!(exact.get(key).copied().unwrap_or(Some(0)), Some(*shown), "{key}: shown as it is");
                    }
                }
                withheld += cells.values().filter(|cell| cell.is_none()).count();
                by_grouping.push(cells);
            }
            by_structure.push(by_grouping);
            let answer = evaluator.get(&ask("/api/stats/entries", period, *structure, None)).await;
            assert_eq!(answer.status, 200, "{}", answer.text);
            entries_by_structure.push(entry_cells(&answer.body));
        }
        outcomes.push(by_structure);
        entries.push(entries_by_structure);
    }
    assert!(withheld > 0, "small cells are there to protect");

    let mut found = Vec::new();
    for (structure, name) in structures.iter().enumerate() {
        for (grouping, by) in GROUPINGS.iter().enumerate() {
            // The year minus its quarters.
            let quarters: Vec<&Cells> = (1..5).map(|quarter| &outcomes[quarter][structure][grouping]).collect();
            let what = format!("outcomes {name:?} by {by:?}, year − quarters");
            found.extend(recovered(&outcomes[0][structure][grouping], &quarters, &what));
            // One grouping's totals from another's.
            for other in 0..GROUPINGS.len() {
                for (period, tables) in outcomes.iter().enumerate() {
                    let (this, that) = (&tables[structure][grouping], &tables[structure][other]);
                    for field in OUTCOME_COUNTS {
                        let key = format!("total.{field}");
                        if this[&key].is_none() != that[&key].is_none() {
                            found.push(format!(
                                "outcomes {name:?} period {period}: {key} by {by:?} and {:?}",
                                GROUPINGS[other]
                            ));
                        }
                    }
                }
            }
        }
        let quarters: Vec<&Cells> = (1..5).map(|quarter| &entries[quarter][structure]).collect();
        found.extend(recovered(&entries[0][structure], &quarters, &format!("entries {name:?}, year − quarters")));
    }
    for period in 0..periods.len() {
        // All structures minus the others.
        for grouping in 0..GROUPINGS.len() {
            let parts: Vec<&Cells> =
                (1..structures.len()).map(|structure| &outcomes[period][structure][grouping]).collect();
            let what = format!("outcomes period {period} by {:?}, all − structures", GROUPINGS[grouping]);
            found.extend(recovered(&outcomes[period][0][grouping], &parts, &what));
        }
        let parts: Vec<&Cells> = (1..structures.len()).map(|structure| &entries[period][structure]).collect();
        found.extend(recovered(&entries[period][0], &parts, &format!("entries period {period}, all − structures")));
    }
    assert!(found.is_empty(), "withheld cells recovered by differencing:\n{}", found.join("\n"));

    // Periods that overlap without nesting, and structures side by side, are not asked.
    for (from, to) in [("01-01", "06-30"), ("02-01", "11-30"), ("03-01", "03-31")] {
        for route in ["/api/stats/outcomes", "/api/stats/entries"] {
            let path = format!("{route}?from={year}-{from}&to={year}-{to}");
            let refused = evaluator.get(&path).await;
            assert_eq!(refused.status, 400, "{path}: {}", refused.text);
            assert!(refused.body["message"].as_str().unwrap().contains("whole calendar year"), "{}", refused.text);
            assert_eq!(admin.get(&path).await.status, 200, "{path}: the admin's figures are exact, any period");
        }
    }
    let by_structure =
        evaluator.get(&format!("/api/stats/outcomes?from={year}-01-01&to={year}-12-31&by=structure")).await;
    assert_eq!(by_structure.status, 400, "{}", by_structure.text);
    let report = format!("/api/reports/activity?structure=aci-agen,ai-auch&from={year}-01-01&to={year}-12-31");
    assert_eq!(evaluator.get(&report).await.status, 400, "a report of two structures is all minus the third");
    let report = format!("/api/reports/activity?structure=aci-agen&from={year}-02-01&to={year}-12-31");
    assert_eq!(evaluator.get(&report).await.status, 400, "a report of a period that is no year nor quarter");
}
