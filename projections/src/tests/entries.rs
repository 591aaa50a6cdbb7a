//! Entry statistics over the people of `people.rs`, counted by hand.

use super::log::{date, slug};
use super::people::build;
use crate::{EntriesQuery, Period};

#[test]
fn entries_of_a_year_with_shares_rounded_half_up() {
    let projections = build().log.projections();
    // Referrals in 2024: 2 (m, 23, unemployed), 3 (f, 54, inactive), 4 (nb, 39, unemployed),
    // 5 (m, 64, long-term), 6 (f, 25, unemployed), 8 (m, 34, unemployed), and the second referrals
    // of 2 (m, 23, unemployed) and 8 (m, 34, long-term): 8 participants, so 1 is 12.5 %.
    let cases: &[(Option<&str>, &str)] = &[
        (
            None,
            "table,situation,age_band,gender,count,share
participants,,,,8,
by_gender,,,female,2,25.0
by_gender,,,male,5,62.5
by_gender,,,non_binary,1,12.5
by_situation_and_gender,unemployed,,female,1,12.5
by_situation_and_gender,unemployed,,male,3,37.5
by_situation_and_gender,unemployed,,non_binary,1,12.5
by_situation_and_gender,long_term_unemployed,,male,2,25.0
by_situation_and_gender,inactive,,female,1,12.5
by_age_band_and_gender,,under_25,male,2,25.0
by_age_band_and_gender,,25_to_50,female,1,12.5
by_age_band_and_gender,,25_to_50,male,2,25.0
by_age_band_and_gender,,25_to_50,non_binary,1,12.5
by_age_band_and_gender,,over_50,female,1,12.5
by_age_band_and_gender,,over_50,male,1,12.5
",
        ),
        (
            // 3, 5 and the second referral of 2: thirds.
            Some("ai-nerac"),
            "table,situation,age_band,gender,count,share
participants,,,,3,
by_gender,,,female,1,33.3
by_gender,,,male,2,66.7
by_situation_and_gender,unemployed,,male,1,33.3
by_situation_and_gender,long_term_unemployed,,male,1,33.3
by_situation_and_gender,inactive,,female,1,33.3
by_age_band_and_gender,,under_25,male,1,33.3
by_age_band_and_gender,,over_50,female,1,33.3
by_age_band_and_gender,,over_50,male,1,33.3
",
        ),
        (Some("nowhere"), "table,situation,age_band,gender,count,share\nparticipants,,,,0,\n"),
    ];
    for (structure, expected) in cases {
        let entries = projections.entries(&EntriesQuery {
            period: Period::new(date("2024-01-01"), date("2024-12-31")).unwrap(),
            structure: structure.map(slug),
        });
        assert_eq!(entries.to_csv(), *expected, "{structure:?}");
    }
}

#[test]
fn entries_serialise_as_the_contract_says() {
    let projections = build().log.projections();
    let entries = projections.entries(&EntriesQuery {
        period: Period::new(date("2024-05-01"), date("2024-05-01")).unwrap(),
        structure: None,
    });
    // On 2024-05-01: 8 (m, 34, unemployed, aci-agen) and 2's second referral (m, 23, ai-nerac).
    let expected = serde_json::json!({
        "from": "2024-05-01", "to": "2024-05-01", "structure": null, "participants": 2,
        "by_gender": [{"gender": "male", "count": 2, "share": 100.0}],
        "by_situation_and_gender": [{"situation": "unemployed", "gender": "male", "count": 2, "share": 100.0}],
        "by_age_band_and_gender": [
            {"age_band": "under_25", "gender": "male", "count": 1, "share": 50.0},
            {"age_band": "25_to_50", "gender": "male", "count": 1, "share": 50.0},
        ],
    });
    assert_eq!(serde_json::to_value(&entries).unwrap(), expected);
}
