//! The property of CONTRACT §7 for evaluators' outputs: no withheld cell can be recomputed from
//! the cells shown and the sums that tie them, and every small count is withheld.
//!
//! The check is independent of `disclosure`: the equations are rebuilt here from what the JSON
//! output means (a group's exits are the sum of its categories, a total the sum of its groups),
//! and "recomputable" is decided by comparing ranks in floating point, not by the integer
//! elimination the suppression uses.

use proptest::prelude::*;
use serde_json::Value;

use super::live_and_rebuilt::{actions, history};
use super::log::date;
use crate::{EntriesQuery, GroupBy, OutcomeQuery, Period};

const THRESHOLD: u64 = 5;

/// Unknowns (withheld cells) and linear equations over them, with the shown cells as constants.
#[derive(Default)]
struct System {
    unknowns: usize,
    /// Each: coefficients over unknowns, and the constant (Σ coefficient × shown value).
    equations: Vec<(Vec<(usize, f64)>, f64)>,
}

/// A cell of the output: shown, or the index of an unknown.
#[derive(Clone, Copy, Debug)]
enum Term {
    Shown(f64),
    Unknown(usize),
}

impl System {
    fn term(&mut self, value: &Value) -> Term {
        match value.as_u64() {
            Some(count) => {
                assert!(count == 0 || count >= THRESHOLD, "a small count is shown: {count}");
                Term::Shown(count as f64)
            }
            None => {
                assert!(value.is_null(), "a count is a number or null: {value}");
                self.unknowns += 1;
                Term::Unknown(self.unknowns - 1)
            }
        }
    }

    /// `total = Σ parts`.
    fn sum(&mut self, total: Term, parts: &[Term]) {
        let mut coefficients = Vec::new();
        let mut constant = 0.0;
        for (term, sign) in std::iter::once((total, 1.0)).chain(parts.iter().map(|part| (*part, -1.0))) {
            match term {
                Term::Shown(value) => constant -= sign * value,
                Term::Unknown(index) => coefficients.push((index, sign)),
            }
        }
        self.equations.push((coefficients, constant));
    }

    fn rank(rows: &[Vec<f64>]) -> usize {
        let mut rows = rows.to_vec();
        let columns = rows.first().map_or(0, Vec::len);
        let mut rank = 0;
        for column in 0..columns {
            let Some(pivot) =
                (rank..rows.len()).max_by(|&a, &b| rows[a][column].abs().total_cmp(&rows[b][column].abs()))
            else {
                break;
            };
            if rows[pivot][column].abs() < 1e-9 {
                continue;
            }
            rows.swap(rank, pivot);
            for row in rank + 1..rows.len() {
                let factor = rows[row][column] / rows[rank][column];
                #[allow(clippy::needless_range_loop)] // row elimination reads two rows at once
                for c in column..columns {
                    rows[row][c] -= factor * rows[rank][c];
                }
            }
            rank += 1;
        }
        rank
    }

    /// The unknowns that the equations pin to one value.
    fn recomputable(&self) -> Vec<usize> {
        let matrix: Vec<Vec<f64>> = self
            .equations
            .iter()
            .map(|(coefficients, _)| {
                let mut row = vec![0.0; self.unknowns];
                coefficients.iter().for_each(|&(index, value)| row[index] += value);
                row
            })
            .collect();
        let rank = System::rank(&matrix);
        (0..self.unknowns)
            .filter(|&unknown| {
                let mut with = matrix.clone();
                let mut unit = vec![0.0; self.unknowns];
                unit[unknown] = 1.0;
                with.push(unit);
                System::rank(&with) == rank
            })
            .collect()
    }
}

const CATEGORIES: [&str; 5] =
    ["durable_employment", "transition_employment", "positive_exits", "other_exits", "neutral_exits"];
const COUNTS: [&str; 10] = [
    "exits",
    "durable_employment",
    "transition_employment",
    "positive_exits",
    "other_exits",
    "neutral_exits",
    "dynamic_exits",
    "reenrolled",
    "followed_up_at_six_months",
    "employed_at_six_months",
];

fn outcome_object(system: &mut System, object: &Value) -> Vec<Term> {
    let terms: Vec<Term> = COUNTS.iter().map(|field| system.term(&object[*field])).collect();
    let term = |field: &str| terms[COUNTS.iter().position(|f| *f == field).unwrap()];
    system.sum(term("exits"), &CATEGORIES.map(term));
    system.sum(term("dynamic_exits"), &CATEGORIES[..3].iter().map(|field| term(field)).collect::<Vec<_>>());
    let suppressed = object.get("suppressed") == Some(&Value::Bool(true));
    assert_eq!(
        suppressed,
        terms.iter().any(|term| matches!(term, Term::Unknown(_))),
        "the flag sits with the cells: {object}"
    );
    if object["dynamic_exits"].is_null() || object["exits"].is_null() || object["neutral_exits"].is_null() {
        assert!(object["dynamic_exit_rate"].is_null(), "a rate over a withheld count is withheld: {object}");
    }
    if object["employed_at_six_months"].is_null() || object["followed_up_at_six_months"].is_null() {
        assert!(object["employed_at_six_months_share"].is_null(), "{object}");
    }
    terms
}

fn check_outcomes(output: &Value) {
    let mut system = System::default();
    let total = outcome_object(&mut system, output);
    if let Some(groups) = output["groups"].as_array() {
        let groups: Vec<Vec<Term>> = groups.iter().map(|group| outcome_object(&mut system, group)).collect();
        for (column, total) in total.iter().enumerate() {
            system.sum(*total, &groups.iter().map(|group| group[column]).collect::<Vec<_>>());
        }
    }
    assert!(system.recomputable().is_empty(), "a withheld cell can be recomputed: {output}");
}

fn check_entries(output: &Value) {
    let mut system = System::default();
    let participants = system.term(&output["participants"]);
    let mut row_term = |row: &Value| {
        let term = system.term(&row["count"]);
        if matches!(term, Term::Unknown(_)) {
            assert!(row["share"].is_null() && row["suppressed"] == true, "{row}");
        }
        (row["gender"].as_str().unwrap_or_default().to_owned(), term)
    };
    let rows = |table: &str| output[table].as_array().cloned().unwrap_or_default();
    let genders: Vec<(String, Term)> = rows("by_gender").iter().map(&mut row_term).collect();
    let situations: Vec<(String, Term)> = rows("by_situation_and_gender").iter().map(&mut row_term).collect();
    let bands: Vec<(String, Term)> = rows("by_age_band_and_gender").iter().map(&mut row_term).collect();
    system.sum(participants, &genders.iter().map(|(_, term)| *term).collect::<Vec<_>>());
    for (gender, term) in &genders {
        for table in [&situations, &bands] {
            let parts: Vec<Term> = table.iter().filter(|(g, _)| g == gender).map(|(_, term)| *term).collect();
            system.sum(*term, &parts);
        }
    }
    assert!(system.recomputable().is_empty(), "a withheld cell can be recomputed: {output}");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 150, ..ProptestConfig::default() })]

    #[test]
    fn no_withheld_cell_can_be_recomputed(actions in actions()) {
        let projections = history(&actions).projections();
        for (from, to) in [("2023-01-01", "2023-12-31"), ("2023-01-01", "2025-12-31")] {
            let period = Period::new(date(from), date(to)).unwrap();
            for by in std::iter::once(None).chain(GroupBy::ALL.iter().copied().map(Some)) {
                let query = OutcomeQuery { period, structure: None, by, sensitive_prescribers_as_other: true };
                let mut outcomes = projections.outcomes(&query);
                outcomes.withhold_small_cells(THRESHOLD);
                check_outcomes(&serde_json::to_value(&outcomes).unwrap());
            }
            let mut entries = projections.entries(&EntriesQuery { period, structure: None });
            entries.withhold_small_cells(THRESHOLD);
            check_entries(&serde_json::to_value(&entries).unwrap());
        }
    }
}

#[test]
fn the_property_sees_withheld_cells() {
    // Guards the property: histories of six people make small cells, which must be withheld.
    use proptest::strategy::ValueTree;
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let mut withheld = 0;
    for _ in 0..20 {
        let actions = actions().new_tree(&mut runner).expect("actions").current();
        let projections = history(&actions).projections();
        let period = Period::new(date("2023-01-01"), date("2025-12-31")).unwrap();
        let mut outcomes = projections.outcomes(&OutcomeQuery {
            period,
            structure: None,
            by: Some(GroupBy::Gender),
            sensitive_prescribers_as_other: true,
        });
        outcomes.withhold_small_cells(THRESHOLD);
        withheld += serde_json::to_string(&outcomes).unwrap().matches("null").count();
    }
    assert!(withheld > 20, "{withheld} withheld cells in 20 outputs");
}
