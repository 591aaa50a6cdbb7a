//! What funders receive (CONTRACT §11): a structure's agreed full-time equivalents and funders,
//! the figures a director is asked for in the activity report, and the ESF+ participant data of a
//! referral, whose sensitive answers are shown only to those who may read the identity and go
//! with it when it is erased.

use parcours_tests::{Client, Server};
use serde_json::{json, Value};

use crate::bin;

async fn append(client: &Client, person: &str, events: Value) {
    let answer = client.post(&format!("/api/beneficiaries/{person}/events"), &json!({ "events": events })).await;
    assert_eq!(answer.status, 201, "{}", answer.text);
}

async fn register(client: &Client, year: i32, gender: &str) -> String {
    let registered = client
        .post(
            "/api/beneficiaries",
            &json!({"occurred_on": format!("{year}-01-02"), "data": {"structure": "ei-recyclerie", "gender": gender,
                "birth_year": 1985}}),
        )
        .await;
    assert_eq!(registered.status, 201, "{}", registered.text);
    registered.body["id"].as_str().unwrap().to_owned()
}

fn referral(on: String) -> Value {
    json!({"type": "referred", "occurred_on": on, "data": {"structure": "ei-recyclerie",
        "prescriber": {"kind": "france_travail"}, "situation": "long_term_unemployed"}})
}

#[tokio::test(flavor = "multi_thread")]
async fn an_enterprise_year_15_permanent_jobs_and_15_of_40_fte_on_integration_contracts() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(bin(), &dir.path().join("data"), &[]);
    let admin = server.admin();
    let year = chrono::Utc::now().date_naive().format("%Y").to_string().parse::<i32>().unwrap() - 1;
    let structure = json!({"name": "La Recyclerie", "kind": "ei", "agreed_hours": {year.to_string(): 64280},
        "agreed_fte": {year.to_string(): 40}, "funders": [{"name": "DREETS Occitanie", "kind": "state"},
        {"name": "FSE+", "kind": "esf"}, {"name": "Département du Gers", "kind": "departement"}]});
    assert_eq!(admin.put_status("/api/structures/ei-recyclerie", &structure).await, 201);
    let listed = admin.get("/api/structures").await;
    let record = &listed.body["structures"][0];
    assert_eq!(record["agreed_fte"], json!({year.to_string(): 40}));
    assert_eq!(record["funders"][1], json!({"name": "FSE+", "kind": "esf"}));

    // People 1–15: referred on 5 January, a 35-hour CDDI from the 6th, 134 h a month from January
    // to November and 133 h in December (1,607 h each, one full-time year), and a CDI on 31
    // December. People 16–18: referred on 5 January, a CDD of six months or more on 30 September
    // (durable employment, not a CDI), no hours.
    for n in 1..=18 {
        let person = register(&admin, year, if n % 2 == 0 { "male" } else { "female" }).await;
        let mut events = vec![referral(format!("{year}-01-05"))];
        if n <= 15 {
            events.push(json!({"type": "contract_started", "occurred_on": format!("{year}-01-06"),
                "data": {"contract_id": "c1", "kind": "cddi", "weekly_hours": 35}}));
            for month in 1..=12 {
                let (hours, on) = if month == 12 {
                    (133, format!("{year}-12-31"))
                } else {
                    (134, format!("{year}-{:02}-01", month + 1))
                };
                events.push(json!({"type": "hours_worked", "occurred_on": on,
                    "data": {"contract_id": "c1", "month": format!("{year}-{month:02}"), "hours": hours}}));
            }
            events.push(json!({"type": "exited", "occurred_on": format!("{year}-12-31"),
                "data": {"destination": "cdi"}}));
        } else {
            events.push(json!({"type": "exited", "occurred_on": format!("{year}-09-30"),
                "data": {"destination": "cdd_6_months_plus"}}));
        }
        append(&admin, &person, json!(events)).await;
    }

    let question = format!("structure=ei-recyclerie&from={year}-01-01&to={year}-12-31");
    let report = admin.get(&format!("/api/reports/activity?{question}")).await;
    assert_eq!(report.status, 200, "{}", report.text);
    let report = report.body;
    assert_eq!(report["definitions"]["version"], "v2", "the latest definitions by default");
    // "15 people left for a permanent job": 15 CDI among 18 exits to durable employment.
    assert_eq!(report["outcomes"]["cdi"], 15);
    assert_eq!(report["outcomes"]["durable_employment"], 18);
    // "15 of our 40 FTE are integration contracts": 15 × 1,607 h over the year, against 40 agreed.
    assert_eq!(report["hours"]["worked"], 24105);
    assert_eq!(report["contracts"]["fte_worked"], 15);
    assert_eq!(report["contracts"]["agreed_fte"], 40);
    // Pathways from 5 January to 31 December for 1–15 (360 days in a common year), to 30
    // September for 16–18 (268): the median is the first length, the mean their weighted mean.
    let days = |month: u32, day: u32| {
        let date = |month, day| chrono::NaiveDate::from_ymd_opt(year, month, day).unwrap();
        (date(month, day) - date(1, 5)).num_days() as f64
    };
    let mean = (15.0 * days(12, 31) + 3.0 * days(9, 30)) / 18.0;
    assert_eq!(report["people"]["pathway_days"]["median"], days(12, 31));
    assert_eq!(report["people"]["pathway_days"]["mean"], (mean * 10.0).round() / 10.0);
    assert!(report["definitions"]["texts"]["contracts.fte_worked"].as_str().unwrap().contains("1 607"));

    // The same in the CSV and the printable page; none of it under version 1.
    let csv = admin.get(&format!("/api/reports/activity?{question}&format=csv")).await.text;
    for line in [",outcomes.cdi,15,", ",contracts.fte_worked,15,", ",contracts.agreed_fte,40,"] {
        assert!(csv.contains(line), "{line} in\n{csv}");
    }
    let page = admin.get(&format!("/api/reports/activity?{question}&format=html")).await.text;
    assert!(page.contains("Chiffres demandés par les financeurs") && page.contains("Sorties en CDI"));
    let v1 = admin.get(&format!("/api/reports/activity?{question}&definitions=v1")).await.body;
    assert_eq!((v1["outcomes"].get("cdi"), v1["contracts"].get("fte_worked")), (None, None));
    assert_eq!(v1["outcomes"]["durable_employment"], 18);

    // Bad structure records are named.
    let bad = json!({"name": "X", "kind": "ei", "funders": [{"name": "Région", "kind": "europe"}]});
    let answer = admin.status("PUT", "/api/structures/ei-recyclerie", Some(&bad)).await;
    assert_eq!(answer, 400);
    let bad = json!({"name": "X", "kind": "ei", "agreed_fte": {"1066": 3}});
    assert_eq!(admin.status("PUT", "/api/structures/ei-recyclerie", Some(&bad)).await, 400);
}

#[tokio::test(flavor = "multi_thread")]
async fn esf_answers_are_read_by_those_who_may_read_the_identity_and_erased_with_it() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(bin(), &dir.path().join("data"), &[]);
    let admin = server.admin();
    let year = chrono::Utc::now().date_naive().format("%Y").to_string().parse::<i32>().unwrap() - 1;
    let person = register(&admin, year, "female").await;
    let mut referred = referral(format!("{year}-02-03"));
    let answers = json!({"education_level": "isced_0_2", "rural_area": true, "disability": "refused",
        "third_country_national": true, "foreign_background": false, "minority": "refused",
        "homeless_or_housing_exclusion": true});
    for (field, value) in answers.as_object().unwrap() {
        referred["data"][field] = value.clone();
    }
    append(&admin, &person, json!([referred])).await;
    let data_of_referral = |events: &Value| events["events"][1]["data"].clone();

    let stream = admin.get(&format!("/api/beneficiaries/{person}/events")).await;
    assert_eq!(stream.status, 200, "{}", stream.text);
    let data = data_of_referral(&stream.body);
    for (field, value) in answers.as_object().unwrap() {
        assert_eq!(&data[field], value, "{field} as recorded");
    }
    // A bad answer is named.
    let mut bad = referral(format!("{year}-03-03"));
    bad["data"]["disability"] = json!("oui");
    let refused = admin.post(&format!("/api/beneficiaries/{person}/events"), &json!({"events": [bad]})).await;
    assert_eq!(refused.status, 400, "{}", refused.text);
    assert!(refused.text.contains("disability"), "{}", refused.text);

    // The indicators count the answers, opened with the person's key.
    let esf_question = format!("/api/stats/esf?from={year}-01-01&to={year}-12-31");
    let output_of = |body: &Value, indicator: &str| {
        let rows = body["output"].as_array().unwrap();
        rows.iter().find(|row| row["indicator"] == indicator).unwrap().clone()
    };
    let esf = admin.get(&esf_question).await;
    assert_eq!(esf.status, 200, "{}", esf.text);
    for indicator in ["participants", "long_term_unemployed", "isced_0_2", "third_country_nationals", "rural_areas"] {
        assert_eq!(output_of(&esf.body, indicator)["female"], 1, "{indicator}");
    }
    // Refused is not a yes, and a no is not a yes.
    for indicator in ["with_disabilities", "minorities", "foreign_background"] {
        assert_eq!(output_of(&esf.body, indicator)["total"], 0, "{indicator}");
    }
    let csv = admin.get(&format!("{esf_question}&format=csv")).await.text;
    assert!(csv.starts_with("part,indicator,total,female,male,non_binary,undisclosed\n"), "{csv}");
    assert!(csv.contains("\noutput,homeless_or_housing_exclusion,1,1,0,0,0\n"), "{csv}");
    // An evaluator sees no cell of one person.
    let created = admin.post("/api/tokens", &json!({"role": "evaluator"})).await;
    let evaluator = admin.with_token(created.body["token"].as_str().unwrap());
    let withheld = evaluator.get(&esf_question).await.body;
    assert_eq!(output_of(&withheld, "homeless_or_housing_exclusion")["total"], Value::Null);
    assert_eq!(output_of(&withheld, "homeless_or_housing_exclusion")["suppressed"], true);
    let half = evaluator.get(&format!("/api/stats/esf?from={year}-01-01&to={year}-06-30")).await;
    assert_eq!(half.status, 400, "evaluators ask whole years or quarters: {}", half.text);

    // Erased with the identity: the sensitive five are gone, the other two stay (no special category).
    let erased = admin.post(&format!("/api/beneficiaries/{person}/erase"), &json!({"reason": "request"})).await;
    assert!(erased.status < 300, "{}", erased.text);
    let data = data_of_referral(&admin.get(&format!("/api/beneficiaries/{person}/events")).await.body);
    for field in
        ["disability", "third_country_national", "foreign_background", "minority", "homeless_or_housing_exclusion"]
    {
        assert_eq!(data.get(field), None, "{field} erased: {data}");
    }
    assert_eq!((data["education_level"].as_str(), data["rural_area"].as_bool()), (Some("isced_0_2"), Some(true)));
    let esf = admin.get(&esf_question).await.body;
    assert_eq!(output_of(&esf, "homeless_or_housing_exclusion")["total"], 0, "erased answers count no more");
    assert_eq!(output_of(&esf, "isced_0_2")["total"], 1, "the clear answers stay");
    assert!(server.terminate().success());
}
