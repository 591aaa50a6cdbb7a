//! The activity report, figure for figure, on hand-built structures like those whose reports
//! funders read: an ACI's year with its agreed hours and committees, a PLIE's memberships and
//! profile, an EI's contracts and permanent jobs. Every expected figure is counted by hand in the
//! comments from the scenario's table; every list is checked against its figure.

use serde_json::{json, Value};

use super::log::{date, person, registered, slug, step, Log};
use crate::report::{ActivityQuery, ActivityReport, DefinitionsVersion, FamilyQuotientBands, Value as CellValue};
use crate::{Disclosed, Period, Projections};

fn query(structures: &[&str], from: &str, to: &str) -> ActivityQuery {
    ActivityQuery {
        period: Period::new(date(from), date(to)).unwrap(),
        structures: structures.iter().map(|s| slug(s)).collect(),
        definitions: DefinitionsVersion::V1,
        bands: FamilyQuotientBands::default(),
        by_structure: true,
    }
}

/// The report with its lists, after checking that the report without them has the same figures:
/// the two come from one walk, which either keeps the rows or only counts them.
fn report(projections: &Projections, structures: &[&str], from: &str, to: &str) -> ActivityReport {
    let question = query(structures, from, to);
    let listed = projections.activity_report_with_lists(&question).unwrap();
    let counted = projections.activity_report(&question).unwrap();
    assert_eq!(counted.figures, listed.figures, "the same figures with and without lists");
    let parts =
        |report: &ActivityReport| report.by_structure.iter().map(|part| part.figures.clone()).collect::<Vec<_>>();
    assert_eq!(parts(&counted), parts(&listed));
    assert!(counted.lists.ids().next().is_none(), "no lists unless asked");
    assert!(listed.lists.ids().next().is_some() || listed.figures.people.followed == Disclosed::Count(0));
    listed
}

fn referral(
    structure: &str,
    situation: &str,
    benefits: &[&str],
    family_quotient: Option<u32>,
) -> parcours_core::vocabulary::Step {
    step(
        "referred",
        json!({"structure": structure, "situation": situation, "prescriber": {"kind": "france_travail"},
               "benefits": benefits, "family_quotient": family_quotient}),
    )
}

fn contract(id: &str, weekly_hours: u32) -> parcours_core::vocabulary::Step {
    step("contract_started", json!({"contract_id": id, "kind": "cddi", "weekly_hours": weekly_hours}))
}

fn contract_ended(id: &str) -> parcours_core::vocabulary::Step {
    step("contract_ended", json!({"contract_id": id, "reason": "end_of_term"}))
}

fn hours(id: &str, month: &str, hours: f64) -> parcours_core::vocabulary::Step {
    step("hours_worked", json!({"contract_id": id, "month": month, "hours": hours}))
}

fn follow_up(kind: &str) -> parcours_core::vocabulary::Step {
    step("follow_up_held", json!({"kind": kind}))
}

fn exited(destination: &str) -> parcours_core::vocabulary::Step {
    step("exited", json!({"destination": destination}))
}

fn support(domain: &str, action: Option<&str>, partner: Option<&str>) -> parcours_core::vocabulary::Step {
    step("support_provided", json!({"domain": domain, "action": action, "partner": partner}))
}

fn gender(n: u128) -> &'static str {
    if n % 2 == 1 {
        "female"
    } else {
        "male"
    }
}

/// Checks that every list is as long as its count and sums to its hours, and returns the report
/// as JSON.
pub(super) fn checked(report: &ActivityReport) -> Value {
    let parts = std::iter::once((&report.figures, &report.lists))
        .chain(report.by_structure.iter().map(|part| (&part.figures, &part.lists)));
    let mut lists_checked = 0;
    for (figures, lists) in parts {
        for cell in figures.cells() {
            let Some(list) = &cell.list else { continue };
            match cell.value {
                CellValue::Count(Disclosed::Count(count)) => {
                    assert_eq!(lists.count(list), count, "{}: the list and the count agree", cell.id);
                }
                CellValue::Hours(crate::report::Shown::Value(hours)) => {
                    assert_eq!(lists.hours(list), hours, "{}: the list sums to the hours", cell.id);
                }
                CellValue::Fte(crate::report::Shown::Value(fte)) => {
                    assert_eq!(crate::report::Fte::of_weekly(lists.hours(list)), fte, "{}", cell.id);
                }
                CellValue::Days(crate::report::Shown::Value(days)) => {
                    // Each row of a pathway runs from its referral to its exit.
                    let mut lengths: Vec<i64> = lists
                        .get(list)
                        .iter()
                        .map(|row| row.until.unwrap().0.signed_duration_since(row.on.0).num_days())
                        .collect();
                    lengths.sort_unstable();
                    let tenths = match cell.id.rsplit('.').next() {
                        Some("median") if !lengths.is_empty() => {
                            let n = lengths.len();
                            5 * (lengths[(n - 1) / 2] + lengths[n / 2])
                        }
                        Some("mean") if !lengths.is_empty() => {
                            let (total, n) = (lengths.iter().sum::<i64>(), lengths.len() as i64);
                            (20 * total + n) / (2 * n)
                        }
                        _ => -1,
                    };
                    assert_eq!(days.map_or(-1, |days| days.tenths as i64), tenths, "{}", cell.id);
                }
                other => panic!("{}: an exact report shows {other:?}", cell.id),
            }
            lists_checked += 1;
        }
        // No list is left without its figure, but the people each committee reviewed, which
        // trace the committees to people: one row for each person a committee's row counts.
        let linked: std::collections::BTreeSet<String> =
            figures.cells().into_iter().filter_map(|cell| cell.list).collect();
        let attendance = [
            ("follow_up.committees_held", crate::report::COMMITTEE_ATTENDANCE),
            ("follow_up.group_sessions", crate::report::GROUP_ATTENDANCE),
        ];
        for id in lists.ids().filter(|id| attendance.iter().all(|(_, list)| list != id)) {
            assert!(linked.contains(id), "the list {id} has a figure");
        }
        for (meetings, attended) in attendance {
            let gathered: u64 = lists
                .get(meetings)
                .iter()
                .map(|row| match row.detail {
                    Some(crate::report::Detail::Committee { people }) => people,
                    _ => 0,
                })
                .sum();
            assert_eq!(lists.count(attended), gathered, "{meetings}");
        }
    }
    assert!(lists_checked > 20, "{lists_checked} lists checked");
    serde_json::to_value(report).unwrap()
}

/// "4,200 agreed hours; a follow-up committee every three weeks; 42 people in 2004: 7 jobs, 7
/// trainings, 6 re-enrolled."
///
/// | people | referred | exit | hours |
/// |---|---|---|---|
/// | 1–12 | 2003-09-01 | 1–4 cdi, 5–7 cdd_6_months_plus on 2004-06-30; 8–12 qualifying_training on 2004-09-30 | contract c 2003-09-15, 40 h each month Jan–Jun 2004 |
/// | 13–14 | weekly from 2004-01-05 | qualifying_training on 2004-09-30 | — |
/// | 15–20 | weekly | job_seeking on 2004-10-29, referred again on 2004-11-15 | — |
/// | 21–26 | weekly | — | contract c 2004-08-02, 20 h/week, 70.25 h in Sep, Oct, Nov |
/// | 27–42 | weekly | — | — |
///
/// Odd numbers are women. 13–42 have an individual meeting a week after their referral, 27–42
/// another on 2004-12-20; 1–3 a phone call on 2004-02-02. Committees every 21 days from
/// 2004-01-06 (18 in 2004, the last on 2004-12-28, and one on 2003-12-16), each reviewing one
/// person: 8 + k mod 5 up to the 13th, then 21 + k mod 6.
fn aci_2004() -> Log {
    let mut log = Log::new("2005-02-01T09:00:00Z");
    log.structure("aci-coteaux", "2003-01-02", json!({"2003": 4000, "2004": 4200}));
    let base = date("2004-01-05");
    let week = |n: u128| (base.0 + chrono::Duration::days(7 * (n as i64 - 13))).to_string();
    for n in 1..=42u128 {
        let p = person(n);
        log.add(p, "2003-01-06", registered("aci-coteaux", gender(n), 1980));
        let referred_on = if n <= 12 { "2003-09-01".to_owned() } else { week(n) };
        log.add(p, &referred_on, referral("aci-coteaux", "long_term_unemployed", &[], None));
        if n <= 12 {
            log.add(p, "2003-09-15", contract("c", 26));
            for month in ["2004-01", "2004-02", "2004-03", "2004-04", "2004-05", "2004-06"] {
                log.add(p, &format!("{month}-28"), hours("c", month, 40.0));
            }
        }
        if n >= 13 {
            let meeting = (date(&referred_on).0 + chrono::Duration::days(7)).to_string();
            log.add(p, &meeting, follow_up("individual"));
        }
        if (21..=26).contains(&n) {
            log.add(p, "2004-08-02", contract("c", 20));
            for month in ["2004-09", "2004-10", "2004-11"] {
                log.add(p, &format!("{month}-28"), hours("c", month, 70.25));
            }
        }
        if n <= 3 {
            log.add(p, "2004-02-02", follow_up("phone"));
        }
    }
    log.add(person(8), "2003-12-16", follow_up("committee"));
    for k in 0..18i64 {
        let on = (date("2004-01-06").0 + chrono::Duration::days(21 * k)).to_string();
        let n = if k <= 12 { 8 + (k % 5) } else { 21 + (k % 6) };
        log.add(person(n as u128), &on, follow_up("committee"));
    }
    for n in 27..=42 {
        log.add(person(n), "2004-12-20", follow_up("individual"));
    }
    for n in 1..=20u128 {
        let (on, destination) = match n {
            1..=4 => ("2004-06-30", "cdi"),
            5..=7 => ("2004-06-30", "cdd_6_months_plus"),
            8..=14 => ("2004-09-30", "qualifying_training"),
            _ => ("2004-10-29", "job_seeking"),
        };
        log.add(person(n), on, exited(destination));
    }
    for n in 15..=20 {
        log.add(person(n), "2004-11-15", referral("aci-coteaux", "unemployed", &[], None));
    }
    log
}

#[test]
fn an_aci_year_agreed_hours_committees_jobs_trainings_and_reenrolments() {
    let projections = aci_2004().projections();
    let report = report(&projections, &["aci-coteaux"], "2004-01-01", "2004-12-31");
    let json = checked(&report);
    // Followed: all 42. Entered: 30 referrals + 6 second ones. Exited: 7 + 7 + 6 = 20. Present on
    // 2004-12-31: 21–42 and the 6 re-enrolled. Distinct since the start: 42.
    assert_eq!(
        json["people"],
        json!({"followed": 42, "entered": 36, "exited": 20, "present_at_end": 28, "distinct_since_start": 42})
    );
    // 21–26 keep their 20-hour contract: 120 / 35 = 3.43 full-time equivalents.
    assert_eq!(
        json["contracts"],
        json!({"on_contract_at_end": 6, "contracts_at_end": 6, "fte_at_end": 3.43,
               "by_kind": [{"kind": "cddi", "contracts": 6, "fte": 3.43}]})
    );
    // Worked: 12 × 6 × 40 = 2,880 plus 6 × 3 × 70.25 = 1,264.5: 4,144.5 of 4,200 agreed (98.7 %),
    // 350 a month; women (odd) and men (even) worked the same: 2,072.25 each.
    let hours = &json["hours"];
    assert_eq!(hours["worked"], json!(4144.5));
    assert_eq!(hours["agreed"], 4200);
    assert_eq!(hours["worked_share_of_agreed"], json!(98.7));
    assert_eq!(hours["people"], 18);
    assert_eq!(hours["by_month"].as_array().unwrap().len(), 12);
    assert_eq!(hours["by_month"][0], json!({"month": "2004-01", "people": 12, "worked": 480, "agreed": 350}));
    assert_eq!(hours["by_month"][6], json!({"month": "2004-07", "people": 0, "worked": 0, "agreed": 350}));
    assert_eq!(hours["by_month"][8], json!({"month": "2004-09", "people": 6, "worked": 421.5, "agreed": 350}));
    assert_eq!(
        hours["by_gender"],
        json!([
            {"gender": "female", "people": 9, "hours": 2072.25, "share": 50.0},
            {"gender": "male", "people": 9, "hours": 2072.25, "share": 50.0},
        ])
    );
    // 18 committees in 2004 (the one of 2003 left out). Meetings: 30 a week after referral, 16 on
    // 2004-12-20 (the phone calls are not meetings). Overdue on 2004-12-31 (no contact since
    // 2004-12-10): the 6 re-enrolled (last contact their referral of 2004-11-15) and 21–25 (last
    // committee at the latest 2004-12-07); 26 was reviewed on 2004-12-28, 27–42 met on 12-20.
    assert_eq!(json["follow_up"], json!({"committees_held": 18, "individual_meetings": 46, "overdue_at_end": 11}));
    // Outcomes: 7 jobs (durable), 7 trainings (positive), 6 job seeking, all re-enrolled.
    let outcomes = &json["outcomes"];
    assert_eq!(outcomes["exits"], 20);
    assert_eq!(outcomes["durable_employment"], 7);
    assert_eq!(outcomes["positive_exits"], 7);
    assert_eq!(outcomes["other_exits"], 6);
    assert_eq!(outcomes["reenrolled"], 6);
    assert_eq!(outcomes["dynamic_exit_rate"], json!(70.0));
    // Entries: 30 + 6, half women; the 6 second referrals came unemployed.
    let profile = &json["profile"];
    assert_eq!(profile["entries"], 36);
    assert_eq!(
        profile["by_gender"],
        json!([{"gender": "female", "count": 18, "share": 50.0}, {"gender": "male", "count": 18, "share": 50.0}])
    );
    assert_eq!(
        profile["by_situation_and_gender"][0],
        json!({"situation": "unemployed", "gender": "female", "count": 3, "share": 8.3})
    );
    assert_eq!(
        profile["by_family_quotient"],
        json!([
            {"band": "under_700", "count": 0, "share": 0.0},
            {"band": "700_and_over", "count": 0, "share": 0.0},
            {"band": "unknown", "count": 36, "share": 100.0},
        ])
    );

    // The lists behind them name the people: the 6 re-enrolled are 15–20.
    let reenrolled: Vec<_> = report.lists.get("outcomes.reenrolled").iter().map(|row| row.beneficiary).collect();
    assert_eq!(reenrolled, (15..=20).map(|n| Some(person(n))).collect::<Vec<_>>());
    let committees = report.lists.get("follow_up.committees_held");
    assert_eq!(committees.first().map(|row| row.on), Some(date("2004-01-06")));
    assert_eq!(committees.last().map(|row| row.on), Some(date("2004-12-28")));
}

#[test]
fn a_partial_year_gets_its_share_of_the_agreed_hours() {
    let projections = aci_2004().projections();
    // Months whose first day is in the period: July to December 2004, half of 4,200; worked in
    // them: 6 × 3 × 70.25.
    let second_half = report(&projections, &["aci-coteaux"], "2004-06-16", "2004-12-31");
    let json = checked(&second_half);
    assert_eq!(json["hours"]["agreed"], 2100);
    assert_eq!(json["hours"]["worked"], json!(1264.5));
    // Over two years: 2003's 4,000 (September to December: 4 × 333.33 or 333.34) and 2004's 4,200.
    let both = report(&projections, &["aci-coteaux"], "2003-09-01", "2004-12-31");
    let json = checked(&both);
    assert_eq!(json["hours"]["agreed"], json!(5533.33));
    // A structure without an agreement for the year: no agreed hours, no share.
    let later = report(&projections, &["aci-coteaux"], "2005-01-01", "2005-01-31");
    assert_eq!(checked(&later)["hours"]["agreed"], Value::Null);
    assert_eq!(checked(&later)["hours"]["worked_share_of_agreed"], Value::Null);
}

/// "145 memberships this period, 280 different people since the start; over 50 % with a family
/// quotient above 700 €, 28 % below, 17 % on minimum benefits; men and women balanced overall."
///
/// People 1–140 joined the PLIE in 2023 and left in 2023 (job seeking); 1–5 joined again in 2024.
/// People 141–280 joined in 2024. Of the 145 memberships of 2024: the first 75 (in order: 1–5,
/// then 141–210) with a family quotient of 700 € or more (the first of them exactly 700), the next
/// 41 below, the last 29 unknown; 25 on the RSA (the first 25), one on the RSA and the ASS
/// (the first). Odd numbers are women: 1–5 gives 3 women, 141–280 gives 70: 73 women, 72 men.
fn plie_2024() -> Log {
    let mut log = Log::new("2025-02-01T09:00:00Z");
    log.structure("plie-agen", "2022-01-03", json!({}));
    for n in 1..=280u128 {
        log.add(person(n), "2022-06-01", registered("plie-agen", gender(n), 1985));
    }
    for n in 1..=140u128 {
        log.add(person(n), "2023-02-01", referral("plie-agen", "unemployed", &[], None));
        log.add(person(n), "2023-11-30", exited("job_seeking"));
    }
    let memberships: Vec<u128> = (1..=5).chain(141..=280).collect();
    for (index, &n) in memberships.iter().enumerate() {
        let quotient = match index {
            0 => Some(700),
            1..=74 => Some(700 + index as u32 * 10),
            75..=115 => Some(300 + index as u32),
            _ => None,
        };
        let benefits: &[&str] = match index {
            0 => &["rsa", "ass"],
            1..=24 => &["rsa"],
            _ => &[],
        };
        let on = (date("2024-01-08").0 + chrono::Duration::days(index as i64 * 2)).to_string();
        log.add(person(n), &on, referral("plie-agen", "long_term_unemployed", benefits, quotient));
    }
    log
}

#[test]
fn a_plie_year_memberships_people_since_the_start_and_their_profile() {
    let projections = plie_2024().projections();
    let report = report(&projections, &["plie-agen"], "2024-01-01", "2024-12-31");
    let json = checked(&report);
    assert_eq!(json["people"]["entered"], 145);
    assert_eq!(json["people"]["distinct_since_start"], 280);
    assert_eq!(json["people"]["followed"], 145);
    let profile = &json["profile"];
    // 75 / 145 = 51.7 %; 41 / 145 = 28.3 %; 29 / 145 = 20.0 %.
    assert_eq!(
        profile["by_family_quotient"],
        json!([
            {"band": "under_700", "count": 41, "share": 28.3},
            {"band": "700_and_over", "count": 75, "share": 51.7},
            {"band": "unknown", "count": 29, "share": 20.0},
        ])
    );
    // 25 / 145 = 17.2 % on the RSA; one also on the ASS; 120 on none.
    assert_eq!(
        profile["by_benefit"],
        json!([
            {"benefit": "rsa", "count": 25, "share": 17.2},
            {"benefit": "ass", "count": 1, "share": 0.7},
            {"benefit": "none", "count": 120, "share": 82.8},
        ])
    );
    assert_eq!(
        profile["by_gender"],
        json!([{"gender": "female", "count": 73, "share": 50.3}, {"gender": "male", "count": 72, "share": 49.7}])
    );
    // Born 1985: 39 in 2024, all 25 to 50.
    assert_eq!(profile["by_age_band_and_gender"].as_array().unwrap().len(), 2);

    // Other bands, asked for: 500 and 1,000 € split the same memberships otherwise. Below 500:
    // quotients 300 + index for index 75–115 are 375–415 (41); 500–999: 700–990 (index 0–29, 30);
    // 1,000 and over: index 30–74 (45).
    let mut question = query(&["plie-agen"], "2024-01-01", "2024-12-31");
    question.bands = "500,1000".parse().unwrap();
    let json = checked(&projections.activity_report_with_lists(&question).unwrap());
    let counts: Vec<(String, u64)> = json["profile"]["by_family_quotient"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| (row["band"].as_str().unwrap().to_owned(), row["count"].as_u64().unwrap()))
        .collect();
    let expected = [("under_500", 41), ("500_to_999", 30), ("1000_and_over", 45), ("unknown", 29)];
    assert_eq!(counts, expected.map(|(band, count)| (band.to_owned(), count)));
    assert_eq!(json["family_quotient_bands"], json!([500, 1000]));
}

/// "15 people on integration contracts; 15 found a permanent job after their contract."
///
/// People 1–15 start a 26-hour CDDI in 2024 and are still on it on 2024-12-31; people 16–30 end
/// their contract and leave for a CDI (16–25 on 2024-05-31, 26–30 on 2024-11-29), 16–23 found
/// employed six months later, 24–25 job seeking. Support: 3 orientations to "SIAO 47" (one
/// typed with a trailing space), one to "Wimoov", 2 mobility assistances, one health action
/// without its nature, one housing orientation without a partner.
pub(super) fn ei_2024() -> Log {
    let mut log = Log::new("2025-02-01T09:00:00Z");
    log.structure("ei-batir", "2023-01-02", json!({"2024": 30000}));
    for n in 1..=30u128 {
        let p = person(n);
        log.add(p, "2023-12-01", registered("ei-batir", gender(n), 1990));
        log.add(p, "2024-01-02", referral("ei-batir", "unemployed", &[], None));
        log.add(p, "2024-01-08", contract("c", 26));
        if n > 15 {
            let ends = if n <= 25 { "2024-05-31" } else { "2024-11-29" };
            log.add(p, ends, contract_ended("c"));
            log.add(p, ends, exited("cdi"));
        }
    }
    for n in 16..=25u128 {
        let situation = if n <= 23 { "employed" } else { "job_seeking" };
        log.add(
            person(n),
            "2024-11-30",
            step("followed_up_after_exit", json!({"months_after_exit": 6, "situation": situation})),
        );
    }
    log.add(person(1), "2024-03-01", support("housing", Some("orientation"), Some("SIAO 47")));
    log.add(person(2), "2024-03-02", support("housing", Some("orientation"), Some("SIAO 47 ")));
    log.add(person(3), "2024-03-03", support("housing", Some("orientation"), Some("SIAO 47")));
    log.add(person(3), "2024-03-04", support("housing", Some("orientation"), None));
    log.add(person(4), "2024-03-05", support("mobility", Some("orientation"), Some("Wimoov")));
    log.add(person(4), "2024-03-06", support("mobility", Some("assistance"), Some("Wimoov")));
    log.add(person(5), "2024-03-07", support("mobility", Some("assistance"), None));
    log.add(person(6), "2024-03-08", support("health", None, None));
    log
}

fn report_of(projections: &Projections, to: &str) -> ActivityReport {
    report(projections, &["ei-batir"], "2024-01-01", to)
}

#[test]
fn an_ei_year_contracts_at_the_end_permanent_jobs_and_support() {
    let projections = ei_2024().projections();
    let report = report(&projections, &["ei-batir"], "2024-01-01", "2024-12-31");
    let json = checked(&report);
    // 15 × 26 = 390 weekly hours: 11.14 full-time equivalents.
    assert_eq!(json["contracts"]["on_contract_at_end"], 15);
    assert_eq!(json["contracts"]["fte_at_end"], json!(11.14));
    let outcomes = &json["outcomes"];
    assert_eq!(outcomes["exits"], 15);
    assert_eq!(outcomes["durable_employment"], 15);
    assert_eq!(outcomes["dynamic_exit_rate"], json!(100.0));
    // 10 followed up at six months, 8 employed: 80 %.
    assert_eq!(outcomes["followed_up_at_six_months"], 10);
    assert_eq!(outcomes["employed_at_six_months"], 8);
    assert_eq!(outcomes["employed_at_six_months_share"], json!(80.0));
    assert_eq!(
        outcomes["six_months_after_exit"],
        json!([{"situation": "employed", "count": 8}, {"situation": "job_seeking", "count": 2}])
    );
    // Support: 8 actions, in the contract's order of domains and actions; the trailing space
    // does not make a second SIAO.
    assert_eq!(
        json["support"],
        json!({
            "actions": 8,
            "by_domain_and_action": [
                {"domain": "health", "action": null, "count": 1},
                {"domain": "housing", "action": "orientation", "count": 4},
                {"domain": "mobility", "action": "orientation", "count": 1},
                {"domain": "mobility", "action": "assistance", "count": 2},
            ],
            "oriented": 4,
            "partners": [{"partner": "SIAO 47", "count": 3}, {"partner": "Wimoov", "count": 1}],
        })
    );
    // On a date in the year: on 2024-06-30, 16–25 had left; 20 contracts, 520 h: 14.86.
    let midyear = report_of(&projections, "2024-06-30");
    let json = checked(&midyear);
    assert_eq!(json["contracts"]["on_contract_at_end"], 20);
    assert_eq!(json["contracts"]["fte_at_end"], json!(14.86));
    // The day of an exit is not a day on contract, nor a presence: 16–25 left on 2024-05-31.
    for (to, present) in [("2024-05-30", 30), ("2024-05-31", 20)] {
        let json = checked(&report_of(&projections, to));
        assert_eq!(json["contracts"]["on_contract_at_end"], present, "{to}");
        assert_eq!(json["people"]["present_at_end"], present, "{to}");
    }
}

#[test]
fn several_structures_count_each_person_once_and_keep_each_structure_apart() {
    // Person 1 is followed by the ACI, then the EI, in the same year.
    let mut log = Log::new("2025-02-01T09:00:00Z");
    log.structure("aci-a", "2024-01-01", json!({"2024": 1200}));
    log.structure("ei-b", "2024-01-01", json!({"2024": 2400}));
    let p = person(1);
    log.add(p, "2024-01-02", registered("aci-a", "female", 1990));
    log.add(p, "2024-01-03", referral("aci-a", "unemployed", &[], None));
    log.add(p, "2024-04-30", exited("other_siae"));
    log.add(p, "2024-05-02", referral("ei-b", "unemployed", &["rsa"], Some(650)));
    let q = person(2);
    log.add(q, "2024-01-02", registered("ei-b", "male", 1960));
    log.add(q, "2024-02-01", referral("ei-b", "inactive", &[], None));
    let projections = log.projections();
    let report = report(&projections, &["ei-b", "aci-a"], "2024-01-01", "2024-12-31");
    let json = checked(&report);
    assert_eq!(json["structures"], json!([{"slug": "aci-a", "name": "aci-a"}, {"slug": "ei-b", "name": "ei-b"}]));
    assert_eq!(json["people"]["followed"], 2, "one person followed by both counts once");
    assert_eq!(json["people"]["entered"], 3, "three referrals");
    assert_eq!(json["people"]["distinct_since_start"], 2);
    assert_eq!(json["hours"]["agreed"], 3600);
    let parts: Vec<(&str, u64)> = json["by_structure"]
        .as_array()
        .unwrap()
        .iter()
        .map(|part| (part["structure"]["slug"].as_str().unwrap(), part["people"]["followed"].as_u64().unwrap()))
        .collect();
    assert_eq!(parts, [("aci-a", 1), ("ei-b", 2)]);
    // The same question asked in another order, or with a repeat, gives the same bytes.
    let again = projections.activity_report(&query(&["aci-a", "ei-b", "aci-a"], "2024-01-01", "2024-12-31")).unwrap();
    assert_eq!(serde_json::to_string(&again).unwrap(), serde_json::to_string(&report).unwrap());
    assert_eq!(again.to_csv(), report.to_csv());
}

#[test]
fn unknown_structures_and_empty_questions_are_errors() {
    let projections = ei_2024().projections();
    let mut question = query(&["nowhere"], "2024-01-01", "2024-12-31");
    assert_eq!(
        projections.activity_report(&question).unwrap_err(),
        crate::report::ReportError::UnknownStructure(slug("nowhere"))
    );
    question.structures.clear();
    assert_eq!(projections.activity_report(&question).unwrap_err(), crate::report::ReportError::NoStructure);
}

#[test]
fn every_cell_has_a_definition_in_every_version() {
    let projections = aci_2004().projections();
    for version in DefinitionsVersion::ALL {
        let mut question = query(&["aci-coteaux"], "2004-01-01", "2004-12-31");
        question.definitions = *version;
        let report = projections.activity_report(&question).unwrap();
        for cell in report.figures.cells() {
            assert!(version.text(cell.definition).is_some(), "{version}: {} has no definition", cell.id);
        }
        let json = serde_json::to_value(&report).unwrap();
        assert_eq!(json["definitions"]["version"], version.code());
    }
}

#[test]
fn the_csv_has_every_cell_and_the_json_the_same_values() {
    let projections = ei_2024().projections();
    let report = report(&projections, &["ei-batir"], "2024-01-01", "2024-12-31");
    let csv = report.to_csv();
    let mut lines = csv.lines();
    assert_eq!(lines.next(), Some("structure,figure,value,share"));
    let rows: Vec<Vec<&str>> = lines.map(|line| line.split(',').collect()).collect();
    let value_of = |id: &str| rows.iter().find(|row| row[1] == id).map(|row| row[2].to_owned());
    assert_eq!(value_of("report.definitions").as_deref(), Some("v1"));
    let json = serde_json::to_value(&report).unwrap();
    for (id, pointer) in [
        ("people.followed", "/people/followed"),
        ("contracts.fte_at_end", "/contracts/fte_at_end"),
        ("hours.worked", "/hours/worked"),
        ("support.partners.SIAO 47", "/support/partners/0/count"),
        ("outcomes.dynamic_exit_rate", "/outcomes/dynamic_exit_rate"),
        ("profile.by_gender.female", "/profile/by_gender/0/count"),
    ] {
        assert_eq!(value_of(id), Some(json.pointer(pointer).unwrap().to_string()), "{id}");
    }
    assert_eq!(rows.len(), 5 + report.figures.cells().len());
}

#[test]
fn evaluators_see_no_small_cell_and_no_lone_withheld_cell() {
    let projections = ei_2024().projections();
    let mut report = report(&projections, &["ei-batir"], "2024-01-01", "2024-12-31");
    report.withhold_small_cells(5);
    assert!(report.lists.ids().next().is_none(), "no lists");
    assert!(report.by_structure.is_empty());
    let cells = report.figures.cells();
    let withheld: Vec<&str> =
        cells.iter().filter(|cell| cell.value.is_withheld()).map(|cell| cell.id.as_str()).collect();
    for cell in &cells {
        if let CellValue::Count(Disclosed::Count(count)) = cell.value {
            assert!(count == 0 || count >= 5, "{} shows {count}", cell.id);
        }
    }
    // The partners (3 and 1) are withheld, and so is their total, which would give them back.
    for id in ["support.partners.SIAO 47", "support.partners.Wimoov", "support.oriented"] {
        assert!(withheld.contains(&id), "{id} in {withheld:?}");
    }
    // Six-month situations: 2 job seeking withheld; then, of the equations that would give them
    // back (followed up = employed + job seeking; employed = the outcomes' employed), none may
    // hold a lone withheld cell.
    assert!(withheld.contains(&"outcomes.six_months_after_exit.job_seeking"));
    let hidden = |id: &str| usize::from(withheld.contains(&id));
    let followed_up = hidden("outcomes.followed_up_at_six_months")
        + hidden("outcomes.six_months_after_exit.employed")
        + hidden("outcomes.six_months_after_exit.job_seeking");
    assert!(followed_up >= 2, "{withheld:?}");
    assert_eq!(hidden("outcomes.six_months_after_exit.employed"), hidden("outcomes.employed_at_six_months"));
    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(json["support"]["suppressed"], true);
    assert_eq!(json["people"]["followed"], 30, "large counts stay");
}

/// The demo of `parcours serve --demo`, recorded in a store and rebuilt twice, as two starts of
/// the server would.
pub(super) fn demo() -> (Projections, Projections, Vec<String>) {
    use parcours_core::demo::demo_config;
    use parcours_core::store::{Store, StoreOptions};
    let dir = tempfile::tempdir().unwrap();
    let config = demo_config(date("2025-06-30"));
    let now = parcours_core::vocabulary::Timestamp::now();
    Store::seed(dir.path(), StoreOptions::default(), config.seeded(now)).unwrap();
    let store = Store::open(dir.path(), StoreOptions::default()).unwrap();
    let first = crate::rebuild(&store, |_| {}).unwrap();
    let second = crate::rebuild(&store, |_| {}).unwrap();
    (first, second, config.structures.iter().map(|structure| structure.slug.as_str().to_owned()).collect())
}

#[test]
fn on_the_demo_every_list_is_its_figure_and_every_report_is_worth_printing() {
    let (projections, again, structures) = demo();
    for structure in &structures {
        let report = report(&projections, &[structure], "2024-01-01", "2024-12-31");
        let json = checked(&report);
        let count = |pointer: &str| json.pointer(pointer).and_then(Value::as_u64).unwrap_or(0);
        // The report walks its people's episodes for exits; the statistics read the index of exits
        // by date: the same exits, the same figures.
        let statistics = projections.outcomes(&crate::OutcomeQuery {
            period: Period::new(date("2024-01-01"), date("2024-12-31")).unwrap(),
            structure: Some(slug(structure)),
            by: None,
            sensitive_prescribers_as_other: false,
        });
        assert_eq!(report.figures.outcomes.counts, statistics.counts, "{structure}: outcomes as /api/stats/outcomes");
        // Something in every section, as a structure's real year has.
        for pointer in [
            "/people/followed",
            "/people/entered",
            "/people/exited",
            "/follow_up/individual_meetings",
            "/support/actions",
            "/support/oriented",
            "/outcomes/followed_up_at_six_months",
            "/profile/by_family_quotient/0/count",
        ] {
            assert!(count(pointer) > 0, "{structure}: {pointer} in {json}");
        }
        assert!(count("/follow_up/committees_held") >= 5, "{structure}: committees");
        assert!(json["hours"]["agreed"].as_f64().is_some_and(|agreed| agreed > 0.0), "{structure}: agreed hours");
        // The same log gives the same bytes, rebuilt or not.
        let twice = again.activity_report(&query(&[structure], "2024-01-01", "2024-12-31")).unwrap();
        assert_eq!(serde_json::to_string(&twice).unwrap(), serde_json::to_string(&report).unwrap());
        assert_eq!(twice.to_csv(), report.to_csv());
    }
    // The structure of the demo's coordinator meets every three weeks: 17 or 18 times a year.
    let gravier = report(&projections, &["jardins-du-gravier"], "2024-01-01", "2024-12-31");
    assert!((17..=18).contains(&gravier.lists.count("follow_up.committees_held")));
    let all: Vec<&str> = structures.iter().map(String::as_str).collect();
    checked(&report(&projections, &all, "2024-01-01", "2024-12-31"));
}

#[test]
fn a_walk_in_parts_files_what_one_walk_files() {
    // Large logs are walked on every core, each part filing its own tallies, rows and partners.
    let (projections, _, structures) = demo();
    let all: Vec<&str> = structures.iter().map(String::as_str).collect();
    let question = query(&all, "2024-01-01", "2024-12-31");
    let ixs: Vec<_> = question.structures.iter().filter_map(|slug| projections.structures.find(slug)).collect();
    let (figures, lists) = projections.figures_in_parts(&question, &ixs, true, 1);
    assert!(figures.support.partners.len() > 1, "partners to renumber across parts");
    assert!(lists.count("people.followed") > 100);
    for parts in [2, 3, 7] {
        let (in_parts, lists_in_parts) = projections.figures_in_parts(&question, &ixs, true, parts);
        assert_eq!(in_parts, figures, "{parts} parts");
        assert_eq!(lists_in_parts, lists, "{parts} parts");
        let (counted, no_lists) = projections.figures_in_parts(&question, &ixs, false, parts);
        assert_eq!(counted, figures, "{parts} parts, no lists");
        assert!(no_lists.ids().next().is_none());
    }
}

#[test]
fn people_gone_before_the_period_count_only_what_falls_in_it() {
    // The walk skips the steps of people who left before the period, unless a step falls in it:
    // here, hours for January 2024 recorded before an exit in December 2023.
    let mut log = Log::new("2024-02-15T09:00:00Z");
    let (late, gone) = (person(1), person(2));
    for p in [late, gone] {
        log.add(p, "2023-01-02", registered("aci-a", "female", 1980));
        log.add(p, "2023-01-03", referral("aci-a", "unemployed", &[], None));
        log.add(p, "2023-01-09", contract("c1", 26));
        log.add(p, "2023-02-01", hours("c1", "2023-01", 100.0));
    }
    log.add(late, "2023-11-30", hours("c1", "2024-01", 80.0));
    for p in [late, gone] {
        log.add(p, "2023-12-15", exited("cdi"));
    }
    let projections = log.projections();
    let json = checked(&report(&projections, &["aci-a"], "2024-01-01", "2024-12-31"));
    assert_eq!(json["people"]["followed"], 0);
    assert_eq!(json["people"]["distinct_since_start"], 2);
    assert_eq!(json["hours"]["worked"], 80.0, "{json}");
    assert_eq!(json["hours"]["people"], 1);
    let json = checked(&report(&projections, &["aci-a"], "2023-01-01", "2023-12-31"));
    assert_eq!(json["hours"]["worked"], 200.0);
    assert_eq!(json["people"]["exited"], 2);
}
