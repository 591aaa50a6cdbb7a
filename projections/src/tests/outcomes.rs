//! Outcome statistics over the people of `people.rs`, counted by hand.

use serde_json::json;

use super::log::{date, slug};
use super::people::build;
use crate::{GroupBy, OutcomeQuery, Outcomes, Period, Projections};

const HEADER: &str = "exits,durable_employment,transition_employment,positive_exits,other_exits,neutral_exits,\
    dynamic_exits,dynamic_exit_rate,reenrolled,followed_up_at_six_months,employed_at_six_months,\
    employed_at_six_months_share";

pub fn outcomes(
    projections: &Projections,
    from: &str,
    to: &str,
    structure: Option<&str>,
    by: Option<GroupBy>,
) -> Outcomes {
    projections.outcomes(&OutcomeQuery {
        period: Period::new(date(from), date(to)).unwrap(),
        structure: structure.map(slug),
        by,
        sensitive_prescribers_as_other: false,
    })
}

#[test]
fn exits_of_a_year_by_category_with_rate_reenrolments_and_six_month_follow_up() {
    let projections = build().log.projections();
    // In 2024: 1 cdi, 2 cdd_under_6_months (re-referred), 3 health, 4 qualifying_training,
    // 5 no_news, 8 job_seeking (re-referred). 6 exits in 2025, 7 in 2023.
    // Rate: (1 + 1 + 1) / (6 − 1) = 60.0. Six months: 1 employed, 2 job_seeking, 4 employed.
    let expected = json!({
        "from": "2024-01-01", "to": "2024-12-31", "structure": null,
        "exits": 6, "durable_employment": 1, "transition_employment": 1, "positive_exits": 1,
        "other_exits": 2, "neutral_exits": 1, "dynamic_exits": 3, "dynamic_exit_rate": 60.0,
        "reenrolled": 2, "followed_up_at_six_months": 3, "employed_at_six_months": 2,
        "employed_at_six_months_share": 66.7,
    });
    let outcomes = outcomes(&projections, "2024-01-01", "2024-12-31", None, None);
    assert_eq!(serde_json::to_value(&outcomes).unwrap(), expected);
    assert!(serde_json::to_string(&outcomes).unwrap().contains(r#""dynamic_exit_rate":60.0"#));
}

#[test]
fn groups_match_hand_counts() {
    let projections = build().log.projections();
    let cases: &[(GroupBy, &str)] = &[
        (
            GroupBy::Gender,
            "female,2,1,0,0,0,1,1,100.0,0,1,1,100.0
male,3,0,1,0,2,0,1,33.3,2,1,0,0.0
non_binary,1,0,0,1,0,0,1,100.0,0,1,1,100.0",
        ),
        (
            // At referral: 2 is 23; 1, 4 and 8 are 33, 39 and 34; 3 and 5 are 54 and 64.
            GroupBy::AgeBand,
            "under_25,1,0,1,0,0,0,1,100.0,1,1,0,0.0
25_to_50,3,1,0,1,1,0,2,66.7,1,2,2,100.0
over_50,2,0,0,0,1,1,0,0.0,0,0,0,",
        ),
        (
            GroupBy::Situation,
            "unemployed,3,0,1,1,1,0,2,66.7,2,2,1,50.0
long_term_unemployed,2,1,0,0,1,0,1,50.0,0,1,1,100.0
inactive,1,0,0,0,0,1,0,,0,0,0,",
        ),
        (
            GroupBy::Structure,
            "aci-agen,4,1,1,1,1,0,3,75.0,2,3,2,66.7
ai-nerac,2,0,0,0,1,1,0,0.0,0,0,0,",
        ),
        (
            GroupBy::Prescriber,
            "france_travail,2,1,0,1,0,0,2,100.0,0,2,2,100.0
mission_locale,1,0,1,0,0,0,1,100.0,1,1,0,0.0
plie,1,0,0,0,1,0,0,0.0,1,0,0,
caf,1,0,0,0,1,0,0,0.0,0,0,0,
spip,1,0,0,0,0,1,0,,0,0,0,",
        ),
    ];
    for (by, rows) in cases {
        let outcomes = outcomes(&projections, "2024-01-01", "2024-12-31", None, Some(*by));
        assert_eq!(outcomes.to_csv(), format!("{by},{HEADER}\n{rows}\n"), "by {by}");
        let json = serde_json::to_value(&outcomes).unwrap();
        assert_eq!(json["groups"][0]["key"].as_object().unwrap().keys().next().unwrap(), by.code());
        assert_eq!(json["exits"], 6, "groups come with the totals");
    }
}

#[test]
fn evaluators_see_sensitive_prescribers_as_other() {
    let projections = build().log.projections();
    let mut query = OutcomeQuery {
        period: Period::new(date("2024-01-01"), date("2024-12-31")).unwrap(),
        structure: None,
        by: Some(GroupBy::Prescriber),
        sensitive_prescribers_as_other: true,
    };
    let keys = |outcomes: Outcomes| -> Vec<String> {
        outcomes.groups.unwrap().iter().map(|group| group.key.value().to_owned()).collect()
    };
    assert_eq!(keys(projections.outcomes(&query)), ["france_travail", "mission_locale", "plie", "caf", "other"]);
    query.sensitive_prescribers_as_other = false;
    assert_eq!(keys(projections.outcomes(&query)), ["france_travail", "mission_locale", "plie", "caf", "spip"]);
}

#[test]
fn structure_filter_and_period_bounds() {
    let projections = build().log.projections();
    // (from, to, structure, exits, dynamic exit rate)
    #[allow(clippy::type_complexity)] // cases as a table, named in the comment above
    let cases: &[(&str, &str, Option<&str>, u64, Option<&str>)] = &[
        ("2024-01-01", "2024-12-31", Some("ai-nerac"), 2, Some("0.0")),
        ("2024-01-01", "2024-12-31", Some("aci-agen"), 4, Some("75.0")),
        ("2024-01-01", "2024-12-31", Some("unknown-structure"), 0, None),
        // Both ends included: 1 on 2024-02-10, 2 on 03-01, 3 (neutral) on 06-30.
        ("2024-02-10", "2024-06-30", None, 3, Some("100.0")),
        ("2024-02-11", "2024-06-29", None, 1, Some("100.0")),
        ("2023-01-01", "2023-12-31", None, 1, Some("100.0")),
        ("2025-01-01", "2025-12-31", None, 1, Some("100.0")),
        ("2022-01-01", "2022-12-31", None, 0, None),
        // Only the neutral exit of 3: exits but an empty denominator.
        ("2024-06-30", "2024-06-30", None, 1, None),
    ];
    for &(from, to, structure, exits, rate) in cases {
        let outcomes = outcomes(&projections, from, to, structure, None);
        assert_eq!(outcomes.counts.exits, exits, "{from}..{to} {structure:?}");
        assert_eq!(outcomes.counts.dynamic_exit_rate.map(|rate| rate.to_string()).as_deref(), rate, "{from}..{to}");
    }
}

#[test]
fn a_reversed_period_is_an_error() {
    assert!(Period::new(date("2024-12-31"), date("2024-01-01")).is_err());
    assert!(Period::new(date("2024-01-01"), date("2024-01-01")).is_ok());
}
