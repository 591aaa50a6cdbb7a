//! The ESF+ common indicators, counted by hand on a PLIE's year built for them. The sensitive
//! answers are sealed in a real log and opened by the server; here they are given as opened.

use std::collections::BTreeMap;

use parcours_core::vocabulary::{Answer, SensitiveAnswers, StreamId};
use serde_json::{json, Value};

use super::log::{date, person, registered, slug, step, Log};
use crate::{EsfIndicators, EsfQuery, Period};

/// | person | gender, born | referred (situation) | education, rural | sensitive answers | left |
/// |---|---|---|---|---|---|
/// | 1 | female, 2000 (25) | 2025-02-03 long_term_unemployed | isced_0_2, yes | disability | cdi on 2025-10-31, employed six months on |
/// | 2 | male, 1965 (60) | 2025-03-03 inactive | isced_3_4, no | third-country national, homeless | job_seeking on 2025-09-30 |
/// | 3 | female, 1990 (35) | 2025-04-01 unemployed | isced_5_8, refused | — | certified on 2025-08-29, qualifying_training on 2025-09-01 |
/// | 4 | male, 1980 (45) | 2025-05-05 employed | —, — | minority refused | — |
/// | 5 | non_binary, 1999 | 2024-06-03 in_training (entered before 2025) | —, yes | foreign background | cdd_under_6_months on 2025-03-31 |
fn plie_2025() -> (Log, BTreeMap<StreamId, SensitiveAnswers>) {
    let mut log = Log::new("2026-06-30T09:00:00Z");
    let people = [
        (
            1,
            "female",
            2000,
            "2025-02-03",
            "long_term_unemployed",
            json!({"education_level": "isced_0_2", "rural_area": true}),
        ),
        (2, "male", 1965, "2025-03-03", "inactive", json!({"education_level": "isced_3_4", "rural_area": false})),
        (
            3,
            "female",
            1990,
            "2025-04-01",
            "unemployed",
            json!({"education_level": "isced_5_8", "rural_area": "refused"}),
        ),
        (4, "male", 1980, "2025-05-05", "employed", json!({})),
        (5, "non_binary", 1999, "2024-06-03", "in_training", json!({"rural_area": true})),
    ];
    for (n, gender, born, on, situation, answers) in people {
        let p = person(n);
        log.add(p, "2024-01-02", registered("plie-agen", gender, born));
        let mut data = json!({"structure": "plie-agen", "situation": situation, "prescriber": {"kind": "plie"}});
        for (field, value) in answers.as_object().unwrap() {
            data[field] = value.clone();
        }
        log.add(p, on, step("referred", data));
    }
    let exited = |destination: &str| step("exited", json!({"destination": destination}));
    log.add(person(1), "2025-10-31", exited("cdi"));
    log.add(
        person(1),
        "2026-04-30",
        step("followed_up_after_exit", json!({"months_after_exit": 6, "situation": "employed"})),
    );
    log.add(person(2), "2025-09-30", exited("job_seeking"));
    log.add(
        person(3),
        "2025-05-01",
        step("training_started", json!({"training_id": "t", "title": "CAP", "qualifying": true})),
    );
    log.add(person(3), "2025-08-29", step("training_completed", json!({"training_id": "t", "result": "certified"})));
    log.add(person(3), "2025-09-01", exited("qualifying_training"));
    log.add(person(5), "2025-03-31", exited("cdd_under_6_months"));
    let answers = BTreeMap::from([
        (person(1), SensitiveAnswers { disability: Some(Answer::Yes), ..SensitiveAnswers::default() }),
        (
            person(2),
            SensitiveAnswers {
                third_country_national: Some(Answer::Yes),
                homeless_or_housing_exclusion: Some(Answer::Yes),
                ..SensitiveAnswers::default()
            },
        ),
        (person(4), SensitiveAnswers { minority: Some(Answer::Refused), ..SensitiveAnswers::default() }),
        (person(5), SensitiveAnswers { foreign_background: Some(Answer::Yes), ..SensitiveAnswers::default() }),
    ]);
    (log, answers)
}

fn indicators(threshold: Option<u64>) -> Value {
    let (log, answers) = plie_2025();
    let projections = log.projections();
    let query = EsfQuery {
        period: Period::new(date("2025-01-01"), date("2025-12-31")).unwrap(),
        structure: Some(slug("plie-agen")),
    };
    let episodes: Vec<_> = projections
        .esf_episodes(&query)
        .into_iter()
        .map(|episode| {
            let opened = answers.get(&episode.stream).copied().unwrap_or_default();
            (episode, opened)
        })
        .collect();
    let mut indicators = EsfIndicators::of(&query, &episodes);
    if let Some(threshold) = threshold {
        indicators.withhold_small_cells(threshold);
    }
    serde_json::to_value(&indicators).unwrap()
}

/// (total, female, male, non_binary, undisclosed) of every row of a part, by indicator.
fn rows(json: &Value, part: &str) -> BTreeMap<String, [Value; 5]> {
    json[part]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| {
            let cells = ["total", "female", "male", "non_binary", "undisclosed"].map(|key| row[key].clone());
            (row["indicator"].as_str().unwrap().to_owned(), cells)
        })
        .collect()
}

#[test]
fn the_esf_indicators_of_a_plie_year_by_gender() {
    let json = indicators(None);
    let n = |total: u64, female: u64, male: u64, non_binary: u64| {
        [json!(total), json!(female), json!(male), json!(non_binary), json!(0)]
    };
    // Entered in 2025: 1–4 (5 entered in 2024).
    let output = rows(&json, "output");
    let expected = [
        ("participants", n(4, 2, 2, 0)),
        ("unemployed_including_long_term", n(2, 2, 0, 0)), // 1 (long-term), 3
        ("long_term_unemployed", n(1, 1, 0, 0)),
        ("inactive", n(1, 0, 1, 0)), // 2
        ("employed", n(1, 0, 1, 0)), // 4
        ("below_30", n(1, 1, 0, 0)), // 1, 25 at referral
        ("above_54", n(1, 0, 1, 0)), // 2, 60
        ("isced_0_2", n(1, 1, 0, 0)),
        ("isced_3_4", n(1, 0, 1, 0)),
        ("isced_5_8", n(1, 1, 0, 0)),
        ("with_disabilities", n(1, 1, 0, 0)),
        ("third_country_nationals", n(1, 0, 1, 0)),
        ("foreign_background", n(0, 0, 0, 0)), // 5 entered before the year
        ("minorities", n(0, 0, 0, 0)),         // 4 refused: not a yes
        ("homeless_or_housing_exclusion", n(1, 0, 1, 0)),
        ("rural_areas", n(1, 1, 0, 0)), // 3 refused, 2 said no
    ];
    assert_eq!(output.len(), expected.len());
    for (indicator, cells) in expected {
        assert_eq!(output[indicator], cells, "{indicator}");
    }
    // Left in 2025: 1 (CDI), 2 (job seeking), 3 (qualifying training, certified), 5 (short CDD).
    let results = rows(&json, "results_on_leaving");
    for (indicator, cells) in [
        ("job_searching_on_leaving", n(1, 0, 1, 0)),
        ("in_education_or_training_on_leaving", n(1, 1, 0, 0)),
        ("gaining_a_qualification_on_leaving", n(1, 1, 0, 0)),
        ("in_employment_on_leaving", n(2, 1, 0, 1)),
        // 1 (long-term unemployed), 2 (third-country national), 5 (rural); not 3.
        ("disadvantaged_in_any_of_these", n(3, 1, 1, 1)),
    ] {
        assert_eq!(results[indicator], cells, "{indicator}");
    }
    assert_eq!(rows(&json, "longer_term")["in_employment_six_months_after_leaving"], n(1, 1, 0, 0));
}

#[test]
fn evaluators_get_no_small_esf_cell() {
    let json = indicators(Some(3));
    for part in ["output", "results_on_leaving", "longer_term"] {
        for (indicator, cells) in rows(&json, part) {
            for cell in cells {
                let shown = cell.as_u64();
                assert!(shown.is_none_or(|count| count == 0 || count >= 3), "{indicator} shows {cell}");
            }
        }
    }
    // Four participants is not small: the total stays, its genders (2 and 2) go.
    let output = rows(&json, "output");
    assert_eq!(output["participants"][0], json!(4));
    assert_eq!(output["participants"][1], Value::Null);
    assert_eq!(json["output"][0]["suppressed"], true);
}
