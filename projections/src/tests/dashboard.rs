//! The coordinator dashboard on a hand-built day, and how corrections change it.

use serde_json::json;

use super::log::{contract, contract_ended, date, follow_up, hours, person, referred, registered, slug, Log};
use crate::Dashboard;

const TODAY: &str = "2024-06-15";

/// Whom `aci-agen` follows on 2024-06-15 (21 days before is 2024-05-25; 30 days after, 2024-07-15):
/// 1 in contract ending 07-10, met 06-10; 2 waiting, referred 05-20 and never met (overdue);
/// 3 waiting, referred 06-01 (not yet overdue); 4 in contract ending in December, last met 05-24
/// (overdue); 5 left in April and went to `ai-nerac`; 6 in two contracts ending on 06-15 and
/// 07-16, a third one ended, met on 05-25 exactly; 7 only at `ai-nerac`; 8 left in January.
pub struct Scenario {
    pub log: Log,
    pub p1_june_hours: parcours_core::vocabulary::EventId,
    pub p2_referral: parcours_core::vocabulary::EventId,
    pub p6_first_contract: parcours_core::vocabulary::EventId,
}

pub fn scenario() -> Scenario {
    let mut log = Log::new("2024-06-15T08:00:00Z");
    log.structure("aci-agen", "2023-01-02", json!({"2023": 5000, "2024": 12000}));
    for n in 1..=8 {
        let structure = if n == 7 { "ai-nerac" } else { "aci-agen" };
        log.add(person(n), "2023-01-02", registered(structure, "female", 1990));
    }
    let aci = || referred("aci-agen", "unemployed", "france_travail");

    log.add(person(1), "2024-05-01", aci());
    log.add(person(1), "2024-05-02", contract("c1", Some("2024-07-10")));
    log.add(person(1), "2024-06-10", follow_up());
    log.add(person(1), "2024-06-14", hours("c1", "2024-05", 80.0));
    let p1_june_hours = log.add(person(1), "2024-06-14", hours("c1", "2024-06", 40.5));

    let p2_referral = log.add(person(2), "2024-05-20", aci());

    log.add(person(3), "2024-06-01", aci());

    log.add(person(4), "2024-01-10", aci());
    log.add(person(4), "2024-01-10", contract("c1", Some("2024-12-31")));
    log.add(person(4), "2024-01-31", hours("c1", "2024-01", 100.0));
    log.add(person(4), "2024-05-24", follow_up());
    log.add(person(4), "2024-06-14", hours("c1", "2024-06", 20.0));

    log.add(person(5), "2024-02-01", aci());
    log.add(person(5), "2024-02-01", contract("c1", None));
    log.add(person(5), "2024-03-31", hours("c1", "2024-03", 50.0));
    log.add(person(5), "2024-04-30", super::log::exited("other_siae"));
    log.add(person(5), "2024-05-15", referred("ai-nerac", "unemployed", "france_travail"));

    log.add(person(6), "2024-03-01", aci());
    let p6_first_contract = log.add(person(6), "2024-03-01", contract("c1", Some("2024-06-15")));
    log.add(person(6), "2024-03-01", contract("c2", Some("2024-07-16")));
    log.add(person(6), "2024-03-01", contract("c3", Some("2024-06-20")));
    log.add(person(6), "2024-04-01", contract_ended("c3"));
    log.add(person(6), "2024-05-25", follow_up());

    log.add(person(7), "2024-06-01", referred("ai-nerac", "unemployed", "france_travail"));

    log.add(person(8), "2023-11-01", aci());
    log.add(person(8), "2023-11-01", contract("c1", None));
    log.add(person(8), "2023-12-31", hours("c1", "2023-12", 30.0));
    log.add(person(8), "2024-01-15", super::log::exited("cdi"));

    // The latest update of the structure counts.
    log.structure("aci-agen", "2024-06-01", json!({"2024": 12500}));
    Scenario { log, p1_june_hours, p2_referral, p6_first_contract }
}

fn ids(numbers: &[u128]) -> Vec<String> {
    numbers.iter().map(|n| person(*n).to_string()).collect()
}

#[test]
fn dashboard_figures_and_lists_match_hand_counts() {
    let projections = scenario().log.projections();
    let dashboard = projections.dashboard(&slug("aci-agen"), date(TODAY));
    let expected = json!({
        "structure": "aci-agen", "today": TODAY,
        "active_episodes": 5, "in_contract": 3, "waiting_for_contract": 2,
        "contracts_ending_within_30_days": 2, "follow_ups_overdue": 2,
        // June: 40.5 (1) + 20 (4). The year: 80 + 40.5 (1), 100 + 20 (4), 50 (5, before leaving).
        "hours_this_month": 60.5, "hours_this_year": 290.5, "agreed_hours_this_year": 12500,
        "lists": {
            "active_episodes": ids(&[1, 2, 3, 4, 6]),
            "in_contract": ids(&[1, 4, 6]),
            "waiting_for_contract": ids(&[2, 3]),
            "contracts_ending_within_30_days": [
                {"beneficiary": person(1).to_string(), "contract_id": "c1", "planned_end": "2024-07-10"},
                {"beneficiary": person(6).to_string(), "contract_id": "c1", "planned_end": "2024-06-15"},
            ],
            "follow_ups_overdue": [
                {"beneficiary": person(2).to_string(), "last_contact": "2024-05-20"},
                {"beneficiary": person(4).to_string(), "last_contact": "2024-05-24"},
            ],
        },
    });
    assert_eq!(serde_json::to_value(&dashboard).unwrap(), expected);
}

#[test]
fn other_structures_and_days() {
    let projections = scenario().log.projections();
    // (structure, today, active, waiting, overdue, hours this month, hours this year)
    let cases: &[(&str, &str, u64, u64, u64, &str, &str)] = &[
        // 5 (since 05-15) and 7 (since 06-01), never met; 5 is overdue.
        ("ai-nerac", TODAY, 2, 2, 1, "0", "0"),
        ("unknown", TODAY, 0, 0, 0, "0", "0"),
        // In May, 2 (referred 05-20) is not overdue yet; hours of May 2024: 80.
        ("aci-agen", "2024-05-31", 5, 2, 0, "80", "290.5"),
        // The episodes are today's; `today` moves the deadlines and the month and year of hours:
        // 8's December hours count for 2023 at aci-agen, and nobody's last contact is 21 days old.
        ("aci-agen", "2023-12-31", 5, 2, 0, "30", "30"),
    ];
    for &(structure, today, active, waiting, overdue, month, year) in cases {
        let dashboard: Dashboard = projections.dashboard(&slug(structure), date(today));
        let context = format!("{structure} on {today}");
        assert_eq!(dashboard.active_episodes, active, "{context}");
        assert_eq!(dashboard.waiting_for_contract, waiting, "{context}");
        assert_eq!(dashboard.follow_ups_overdue, overdue, "{context}");
        assert_eq!(dashboard.hours_this_month.to_string(), month, "{context}");
        assert_eq!(dashboard.hours_this_year.to_string(), year, "{context}");
    }
    assert_eq!(projections.dashboard(&slug("ai-nerac"), date(TODAY)).agreed_hours_this_year, None);
}

#[test]
fn a_person_counts_where_their_open_episode_is_whatever_their_past_referrals() {
    let mut log = Log::new("2024-06-15T08:00:00Z");
    let aci = || referred("aci-agen", "unemployed", "france_travail");
    let nerac = || referred("ai-nerac", "unemployed", "france_travail");
    // 1: aci-agen, then ai-nerac, then aci-agen again: active at aci-agen, once.
    log.add(person(1), "2023-01-02", registered("aci-agen", "male", 1985));
    log.add(person(1), "2023-02-01", aci());
    log.add(person(1), "2023-06-30", super::log::exited("job_seeking"));
    log.add(person(1), "2023-09-01", nerac());
    log.add(person(1), "2023-12-31", super::log::exited("job_seeking"));
    // 2: referred to aci-agen, a referral then corrected to ai-nerac: active at ai-nerac only.
    log.add(person(2), "2023-01-02", registered("aci-agen", "female", 1992));
    let wrong = log.add(person(2), "2024-04-01", aci());
    log.replace(person(2), wrong, "2024-04-01", nerac());
    // 3: referred to aci-agen, the referral retracted: active nowhere.
    log.add(person(3), "2023-01-02", registered("aci-agen", "female", 1999));
    let retracted = log.add(person(3), "2024-05-01", aci());
    log.retract(person(3), retracted);
    // After others were referred to aci-agen, so that 1 is listed there twice.
    log.add(person(1), "2024-05-02", aci());

    let projections = log.projections();
    let active = |structure: &str| projections.dashboard(&slug(structure), date(TODAY)).lists.active_episodes;
    assert_eq!(active("aci-agen"), [person(1)]);
    assert_eq!(active("ai-nerac"), [person(2)]);
}
