//! Corrections everywhere: a retracted event stops counting, a replaced one counts with its
//! replacement's date and data, in every projection.

use super::dashboard::scenario;
use super::log::{date, exited, hours, person, referred, slug};
use super::outcomes::outcomes;
use super::people::build;
use crate::GroupBy;

#[test]
fn corrected_exits_count_with_their_correction() {
    let mut built = build();
    let before = built.log.projections();
    let log = &mut built.log;
    // 5's exit (no_news) was never one; 3 left for a CDI, not for health reasons; 6 left on
    // 2024-12-20, not on 2025-01-02.
    log.retract(person(5), built.exits[&5]);
    log.replace(person(3), built.exits[&3], "2024-06-30", exited("cdi"));
    log.replace(person(6), built.exits[&6], "2024-12-20", exited("cdi"));
    let after = log.projections();

    let year = |projections| outcomes(projections, "2024-01-01", "2024-12-31", None, None).counts.csv_row();
    // exits, durable, transition, positive, other, neutral, dynamic, rate, reenrolled, six months.
    assert_eq!(year(&before), "6,1,1,1,2,1,3,60.0,2,3,2,66.7");
    // Now 1, 3, 6 cdi; 2 transition; 4 positive; 8 other: 5 dynamic over 6.
    assert_eq!(year(&after), "6,3,1,1,1,0,5,83.3,2,3,2,66.7");
    let next_year = |projections| outcomes(projections, "2025-01-01", "2025-12-31", None, None).counts.exits;
    assert_eq!((next_year(&before), next_year(&after)), (1, 0));

    // 5 is in an episode again at ai-nerac, and waits for a contract there.
    let dashboard = after.dashboard(&slug("ai-nerac"), date("2025-02-01"));
    assert!(dashboard.lists.waiting_for_contract.contains(&person(5)));
    assert!(!before.dashboard(&slug("ai-nerac"), date("2025-02-01")).lists.waiting_for_contract.contains(&person(5)));
    let state = after.pathway(person(5)).unwrap();
    assert!(state.in_episode);
    assert!(state.exits.is_empty());
}

#[test]
fn a_corrected_referral_moves_its_exit_to_another_structure() {
    let mut built = build();
    let log = &mut built.log;
    log.replace(person(4), built.referrals[&4], "2024-02-01", referred("ai-nerac", "inactive", "caf"));
    let projections = log.projections();
    let by = |by| {
        let outcomes = outcomes(&projections, "2024-01-01", "2024-12-31", None, Some(by));
        outcomes.groups.unwrap().iter().map(|g| format!("{} {}", g.key.value(), g.counts.exits)).collect::<Vec<_>>()
    };
    assert_eq!(by(GroupBy::Structure), ["aci-agen 3", "ai-nerac 3"]);
    assert_eq!(by(GroupBy::Situation), ["unemployed 2", "long_term_unemployed 2", "inactive 2"]);
    assert_eq!(by(GroupBy::Prescriber), ["france_travail 1", "mission_locale 1", "plie 1", "caf 2", "spip 1"]);
}

#[test]
fn corrections_change_the_dashboard() {
    let mut scenario = scenario();
    let log = &mut scenario.log;
    // 2 was never referred; 6's first contract was never signed; 1 worked 10 hours in June, not 40.5.
    log.retract(person(2), scenario.p2_referral);
    log.retract(person(6), scenario.p6_first_contract);
    log.replace(person(1), scenario.p1_june_hours, "2024-06-14", hours("c1", "2024-06", 10.0));
    let projections = log.projections();
    let dashboard = projections.dashboard(&slug("aci-agen"), date("2024-06-15"));
    let figures = (
        dashboard.active_episodes,
        dashboard.in_contract,
        dashboard.waiting_for_contract,
        dashboard.contracts_ending_within_30_days,
        dashboard.follow_ups_overdue,
        dashboard.hours_this_month.to_string(),
        dashboard.hours_this_year.to_string(),
    );
    assert_eq!(figures, (4, 3, 1, 1, 1, "30".to_owned(), "260".to_owned()));
    assert_eq!(dashboard.lists.active_episodes, [person(1), person(3), person(4), person(6)]);
}

#[test]
fn a_replaced_month_of_hours_moves_to_its_new_month() {
    let mut scenario = scenario();
    let log = &mut scenario.log;
    log.replace(person(1), scenario.p1_june_hours, "2024-06-14", hours("c1", "2024-05", 40.5));
    let projections = log.projections();
    let may = projections.dashboard(&slug("aci-agen"), date("2024-05-31"));
    let june = projections.dashboard(&slug("aci-agen"), date("2024-06-15"));
    assert_eq!((may.hours_this_month.to_string(), june.hours_this_month.to_string()), ("120.5".into(), "20".into()));
    assert_eq!(june.hours_this_year.to_string(), "290.5");
}
