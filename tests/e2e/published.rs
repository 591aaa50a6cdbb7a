//! Published reports (issue 8): a report sent to funders is reproduced byte for byte after late
//! events and corrections, the changes view names exactly the figures that moved and the events
//! behind each, every role gets what CONTRACT §7 gives it, and the command line agrees.

use std::collections::{BTreeMap, BTreeSet};

use parcours_tests::{run, Client, Server};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::bin;

fn sha256(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// (figure, value, share) of every cell of the whole report, from its CSV.
fn csv_cells(csv: &str) -> BTreeMap<String, (String, String)> {
    csv.lines()
        .skip(1)
        .filter(|line| line.starts_with(','))
        .filter_map(|line| {
            let fields: Vec<&str> = line.splitn(4, ',').collect();
            let figure = fields.get(1)?;
            (!figure.starts_with("report."))
                .then(|| (figure.to_string(), (fields[2].to_owned(), fields.get(3).unwrap_or(&"").to_string())))
        })
        .collect()
}

async fn append(client: &Client, person: &str, events: Value) -> Vec<String> {
    let answer = client.post(&format!("/api/beneficiaries/{person}/events"), &json!({ "events": events })).await;
    assert_eq!(answer.status, 201, "{}", answer.text);
    answer.body["ids"].as_array().unwrap().iter().map(|id| id.as_str().unwrap().to_owned()).collect()
}

async fn person(client: &Client, year: i32, gender: &str, referred: &str) -> String {
    let registered = client
        .post(
            "/api/beneficiaries",
            &json!({"occurred_on": format!("{year}-01-02"), "data": {"structure": "aci-agen", "gender": gender,
                "birth_year": 1985}}),
        )
        .await;
    assert_eq!(registered.status, 201, "{}", registered.text);
    let id = registered.body["id"].as_str().unwrap().to_owned();
    append(
        client,
        &id,
        json!([{"type": "referred", "occurred_on": referred, "data": {"structure": "aci-agen",
            "prescriber": {"kind": "france_travail"}, "situation": "unemployed"}}]),
    )
    .await;
    id
}

async fn text(client: &Client, path: &str) -> (u16, String) {
    let answer = client.get(path).await;
    (answer.status, answer.text)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_published_report_is_reproduced_byte_for_byte_and_its_changes_are_explained() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let server = Server::start(bin(), &data, &[]);
    let admin = server.admin();
    let year = chrono::Utc::now().date_naive().format("%Y").to_string().parse::<i32>().unwrap() - 1;
    let structure = json!({"name": "ACI d'Agen", "kind": "aci", "agreed_hours": {year.to_string(): 4200}});
    assert_eq!(admin.put_status("/api/structures/aci-agen", &structure).await, 201);

    // Anne exits in June to a permanent job; Bruno works from March; Chloé is referred in April.
    let anne = person(&admin, year, "female", &format!("{year}-01-10")).await;
    let anne_events = append(
        &admin,
        &anne,
        json!([
            {"type": "contract_started", "occurred_on": format!("{year}-02-01"),
             "data": {"contract_id": "c1", "kind": "cddi", "weekly_hours": 26}},
            {"type": "hours_worked", "occurred_on": format!("{year}-03-01"),
             "data": {"contract_id": "c1", "month": format!("{year}-02"), "hours": 80}},
            {"type": "follow_up_held", "occurred_on": format!("{year}-03-15"), "data": {"kind": "committee"}},
            {"type": "support_provided", "occurred_on": format!("{year}-04-02"),
             "data": {"domain": "housing", "action": "orientation", "partner": "SIAO 47"}},
            {"type": "exited", "occurred_on": format!("{year}-06-30"), "data": {"destination": "cdi"}},
        ]),
    )
    .await;
    let anne_exit = anne_events[4].clone();
    let bruno = person(&admin, year, "male", &format!("{year}-03-01")).await;
    append(
        &admin,
        &bruno,
        json!([{"type": "contract_started", "occurred_on": format!("{year}-03-02"),
            "data": {"contract_id": "c1", "kind": "cddi", "weekly_hours": 30}}]),
    )
    .await;
    let chloe = person(&admin, year, "female", &format!("{year}-04-01")).await;

    // What the report says before it is sent, under version 1 of the definitions: a report
    // published under a version reproduces byte for byte after later versions became the default.
    let question = format!("structure=aci-agen&from={year}-01-01&to={year}-12-31&definitions=v1");
    let before_json = text(&admin, &format!("/api/reports/activity?{question}")).await.1;
    let before_csv = text(&admin, &format!("/api/reports/activity?{question}&format=csv")).await.1;
    assert!(before_json.contains("SIAO 47"), "orientations are counted by partner: {before_json}");

    // Publish it.
    let body = json!({"structures": ["aci-agen"], "from": format!("{year}-01-01"), "to": format!("{year}-12-31"),
        "definitions": "v1"});
    let published = admin.post("/api/reports/activity/publish", &body).await;
    assert_eq!(published.status, 201, "{}", published.text);
    let id = published.body["id"].as_str().unwrap().to_owned();
    let digests = published.body["sha256"].clone();
    assert_eq!(digests["json"], sha256(before_json.as_bytes()), "the JSON an admin gets is what is published");
    assert_eq!(digests["csv"], sha256(before_csv.as_bytes()));
    assert!(published.body["position"].as_u64().unwrap() < published.body["event_position"].as_u64().unwrap());
    assert_eq!(published.body["report"], "activity");
    assert_eq!(published.body["definitions"], "v1");
    assert_eq!(published.body["family_quotient_bands"], json!([700]));

    // After it: Bruno's exit in November recorded late, Anne's exit corrected (she took a
    // short-term job), and a follow-up of Chloé this year that no figure of last year counts.
    let late_exit = append(
        &admin,
        &bruno,
        json!([{"type": "exited", "occurred_on": format!("{year}-11-30"),
            "data": {"destination": "cdd_under_6_months"}}]),
    )
    .await
    .remove(0);
    let correction = append(
        &admin,
        &anne,
        json!([{"type": "corrected", "occurred_on": crate::days_ago(0), "data": {"corrects": anne_exit,
            "reason": "erreur de saisie", "replacement": {"occurred_on": format!("{year}-06-30"),
            "data": {"destination": "job_seeking"}}}}]),
    )
    .await
    .remove(0);
    let unrelated = append(
        &admin,
        &chloe,
        json!([{"type": "follow_up_held", "occurred_on": crate::days_ago(0), "data": {"kind": "individual"}}]),
    )
    .await
    .remove(0);
    let after_csv = text(&admin, &format!("/api/reports/activity?{question}&format=csv")).await.1;
    assert_ne!(after_csv, before_csv, "the late exit and the correction change last year's figures");

    // Anne asks to be forgotten: the partner she was oriented to names an organisation, kept in
    // clear (SECURITY.md, "What is encrypted"), so the report that counts it still reproduces.
    assert_eq!(
        admin.post(&format!("/api/beneficiaries/{anne}/erase"), &json!({"reason": "request"})).await.status,
        201
    );

    // The published report is still the very same bytes, in every format.
    for format in ["json", "csv", "html"] {
        let (status, bytes) = text(&admin, &format!("/api/reports/published/{id}?format={format}")).await;
        assert_eq!(status, 200, "{format}: {bytes}");
        assert_eq!(sha256(bytes.as_bytes()), digests[format], "{format} reproduced byte for byte");
    }
    assert_eq!(text(&admin, &format!("/api/reports/published/{id}")).await.1, before_json);

    // The changes: exactly the figures whose value or share differs, each with its events.
    let changes = admin.get(&format!("/api/reports/published/{id}/changes")).await;
    assert_eq!(changes.status, 200, "{}", changes.text);
    let (then, now) = (csv_cells(&before_csv), csv_cells(&after_csv));
    let moved: BTreeSet<String> =
        then.keys().chain(now.keys()).filter(|figure| then.get(*figure) != now.get(*figure)).cloned().collect();
    let listed: BTreeMap<String, &Value> = changes.body["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|change| {
            assert!(change["structure"].is_null(), "one structure: the whole report only");
            (change["figure"].as_str().unwrap().to_owned(), change)
        })
        .collect();
    assert_eq!(listed.keys().cloned().collect::<BTreeSet<_>>(), moved, "the changed figures, no more, no less");
    let events_of = |figure: &str| -> Vec<String> {
        listed[figure]["events"].as_array().unwrap().iter().map(|e| e["id"].as_str().unwrap().to_owned()).collect()
    };
    assert_eq!(events_of("outcomes.exits"), [late_exit.as_str()]);
    assert_eq!(events_of("people.present_at_end"), [late_exit.as_str()]);
    assert_eq!(events_of("outcomes.durable_employment"), [correction.as_str()]);
    assert_eq!(events_of("outcomes.other_exits"), [correction.as_str()]);
    assert_eq!(events_of("outcomes.dynamic_exit_rate"), [late_exit.clone(), correction.clone()]);
    for (figure, change) in &listed {
        let events = events_of(figure);
        assert!(!events.is_empty(), "{figure}: an event behind every difference");
        assert!(!events.contains(&unrelated), "{figure}: this year's follow-up changes nothing of last year");
        let cell = |side: &str| json!(change[side]["value"]).to_string();
        assert_ne!(cell("then"), cell("now"), "{figure}");
    }
    let exits = listed["outcomes.exits"];
    assert_eq!((exits["then"]["value"].clone(), exits["now"]["value"].clone()), (json!(1), json!(2)));
    assert_eq!(exits["added"][0]["beneficiary"], bruno.as_str());
    assert_eq!(listed["outcomes.durable_employment"]["removed"][0]["beneficiary"], anne.as_str());
    let correction_event = &listed["outcomes.durable_employment"]["events"][0];
    assert_eq!(
        (correction_event["type"].as_str(), correction_event["corrects"].as_str()),
        (Some("corrected"), Some(anne_exit.as_str()))
    );

    // The French page says the same.
    let (status, page) = text(&admin, &format!("/api/reports/published/{id}/changes?format=html")).await;
    assert_eq!(status, 200);
    assert!(page.contains("Ce qui a changé depuis la publication") && !page.contains("<script"));
    assert_eq!(page.matches("<tr data-figure=").count(), listed.len());
    assert!(
        page.contains(&format!("data-event=\"{correction}\"")) && page.contains(&format!("data-event=\"{late_exit}\""))
    );

    // Who may do what.
    let token = |body: Value| {
        let admin = admin.clone();
        async move {
            let created = admin.post("/api/tokens", &body).await;
            assert_eq!(created.status, 201, "{}", created.text);
            (created.body["id"].as_str().unwrap().to_owned(), admin.with_token(created.body["token"].as_str().unwrap()))
        }
    };
    let (coordinator_id, coordinator) = token(json!({"role": "coordinator", "structures": ["aci-agen"]})).await;
    let (_, stranger) = token(json!({"role": "coordinator", "structures": ["ei-marmande"]})).await;
    let (_, auditor) = token(json!({"role": "auditor"})).await;
    let (_, evaluator) = token(json!({"role": "evaluator"})).await;
    assert_eq!(coordinator.get(&format!("/api/reports/published/{id}?format=csv")).await.text, before_csv);
    assert_eq!(auditor.get(&format!("/api/reports/published/{id}/changes")).await.status, 200);
    assert_eq!(auditor.post("/api/reports/activity/publish", &body).await.status, 403);
    assert_eq!(stranger.get(&format!("/api/reports/published/{id}")).await.status, 403);
    assert_eq!(stranger.get("/api/reports/published").await.body["reports"], json!([]));
    for path in [format!("/api/reports/published/{id}"), "/api/reports/published".to_owned()] {
        assert_eq!(evaluator.get(&path).await.status, 403);
    }
    let own = coordinator
        .post("/api/reports/activity/publish", &json!({"from": format!("{year}-01-01"), "to": format!("{year}-06-30")}))
        .await;
    assert_eq!(own.status, 201, "a coordinator publishes for their structures: {}", own.text);
    assert_eq!(own.body["structures"], json!(["aci-agen"]));
    assert_eq!(own.body["recorded_by"], coordinator_id.as_str(), "recorded by the coordinator's token");
    assert_eq!(own.body["definitions"], "v2", "the latest definitions by default");
    let own_id = own.body["id"].as_str().unwrap();
    let reproduced = coordinator.get(&format!("/api/reports/published/{own_id}?format=csv")).await;
    assert_eq!(reproduced.status, 200, "{}", reproduced.text);
    assert_eq!(sha256(reproduced.text.as_bytes()), own.body["sha256"]["csv"], "a version 2 publication reproduces");
    assert!(reproduced.text.contains(",outcomes.cdi,"), "with the figures version 2 adds");
    let listed = coordinator.get("/api/reports/published").await.body["reports"].as_array().unwrap().len();
    assert_eq!(listed, 2);

    // Bad questions and ids are named.
    let bad = admin
        .post(
            "/api/reports/activity/publish",
            &json!({"structures": ["aci-agen"], "from": "2025-12-31", "to": "2025-01-01"}),
        )
        .await;
    assert_eq!(bad.status, 400, "{}", bad.text);
    let unknown = admin
        .post(
            "/api/reports/activity/publish",
            &json!({"structures": ["nowhere"], "from": "2025-01-01", "to": "2025-12-31"}),
        )
        .await;
    assert_eq!(unknown.status, 404, "{}", unknown.text);
    assert_eq!(admin.get("/api/reports/published/not-an-id").await.status, 400);
    assert_eq!(
        admin.get(&format!("/api/reports/published/{anne_exit}")).await.status,
        404,
        "an event, not a publication"
    );
    assert_eq!(admin.get(&format!("/api/reports/published/{id}?format=pdf")).await.status, 400);
    // A publication is recorded by its route only, never appended as a step.
    let forged_data = json!({"report": "activity", "structures": ["aci-agen"], "from": format!("{year}-01-01"),
        "to": format!("{year}-12-31"), "definitions": "v1", "family_quotient_bands": [700], "position": 1,
        "sha256": digests});
    let forged = admin
        .post(
            &format!("/api/beneficiaries/{anne}/events"),
            &json!({"events": [{"type": "report_published", "occurred_on": crate::days_ago(0), "data": forged_data}]}),
        )
        .await;
    assert_eq!(
        (forged.status, forged.body["rule"].as_str()),
        (422, Some("report_publication_in_pathway")),
        "{}",
        forged.text
    );

    // The command line, on the same store once the server is stopped.
    // Asked again now that the coordinator's publication moved the log on: the CLI reads the same log.
    let api_changes = admin.get(&format!("/api/reports/published/{id}/changes")).await.text;
    let again: Value = serde_json::from_str(&api_changes).unwrap();
    assert_eq!(again["changes"], changes.body["changes"], "a publication changes no figure");
    assert!(again["current_position"].as_u64() > changes.body["current_position"].as_u64());
    assert!(server.terminate().success());
    let data = data.to_str().unwrap();
    for format in ["json", "csv", "html"] {
        let output = run(bin(), &["report", "published", &id, "--format", format, "--data", data]);
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        assert_eq!(sha256(&output.stdout), digests[format], "the CLI prints the published {format} bytes");
    }
    let list = run(bin(), &["report", "published", "--data", data]);
    let list: Value = serde_json::from_slice(&list.stdout).unwrap();
    assert_eq!(list["reports"].as_array().unwrap().len(), 2, "the admin's and the coordinator's");
    let output = run(bin(), &["report", "changes", &id, "--data", data]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(
        String::from_utf8(output.stdout).unwrap(),
        format!("{api_changes}\n"),
        "the CLI's changes are the API's"
    );
    let output = run(
        bin(),
        &[
            "report",
            "publish",
            "--structure",
            "aci-agen",
            "--from",
            &format!("{year}-01-01"),
            "--to",
            &format!("{year}-12-31"),
            "--definitions",
            "v1",
            "--data",
            data,
        ],
    );
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let cli_published: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(cli_published["sha256"]["csv"], sha256(after_csv.as_bytes()), "published now: today's figures");
    assert_eq!(cli_published["recorded_by"], "cli");
}
