//! The log through HTTP: the README tour, and every bad request of CONTRACT §5 refused with its
//! error while writing nothing.

use parcours_tests::{Client, Server};
use serde_json::{json, Value};

use crate::{bin, days_ago};

fn registration() -> Value {
    json!({"occurred_on": days_ago(60), "data": {"structure": "menage-service-agen", "gender": "female", "birth_year": 1984,
        "identity": {"first_name": "Awa", "last_name": "Diallo", "email": "awa.diallo@example.org"}}})
}

fn referral() -> Value {
    json!({"type": "referred", "occurred_on": days_ago(59), "data": {"structure": "menage-service-agen",
        "prescriber": {"kind": "france_travail", "name": "France Travail Agen"}, "situation": "long_term_unemployed",
        "benefits": ["rsa"], "programme": "ai"}})
}

async fn last_position(client: &Client) -> u64 {
    client.get("/healthz").await.body["last_position"].as_u64().expect("healthz gives the last position")
}

#[tokio::test(flavor = "multi_thread")]
async fn the_readme_tour_records_a_whole_pathway_and_reads_it_back() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(bin(), dir.path(), &[]);
    let client = server.admin();

    let created = client.post("/api/beneficiaries", &registration()).await;
    assert_eq!(created.status, 201, "{}", created.text);
    assert_eq!((created.body["version"].as_u64(), created.body["position"].as_u64()), (Some(1), Some(1)));
    let id = created.body["id"].as_str().unwrap().to_owned();
    // Recorded times are kept to the millisecond: let the next steps be recorded in a later one,
    // so that `as_of` = the registration's time tells them apart.
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let steps = json!({"expected_version": 1, "events": [
        referral(),
        {"type": "contract_started", "occurred_on": days_ago(50), "data": {"contract_id": "cddi-1", "kind": "cddi",
            "employer": "Ménage Service Agen", "weekly_hours": 26, "planned_end": days_ago(-120)}},
        {"type": "skills_assessed", "occurred_on": days_ago(40), "data": {"assessor": "AFPA", "kind": "bilan_de_competences",
            "skills": ["entretien des locaux"]}},
        {"type": "training_started", "occurred_on": days_ago(30), "data": {"training_id": "advf", "title": "Titre professionnel ADVF",
            "qualifying": true}},
        {"type": "exited", "occurred_on": days_ago(1), "data": {"destination": "qualifying_training"}}
    ]});
    let appended = client.post(&format!("/api/beneficiaries/{id}/events"), &steps).await;
    assert_eq!(appended.status, 201, "{}", appended.text);
    assert_eq!((appended.body["version"].as_u64(), appended.body["position"].as_u64()), (Some(6), Some(6)));
    assert_eq!(appended.body["ids"].as_array().unwrap().len(), 5);

    let history = client.get(&format!("/api/beneficiaries/{id}/events")).await;
    assert_eq!(history.status, 200);
    let events = history.body["events"].as_array().unwrap();
    let types: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(types, ["registered", "referred", "contract_started", "skills_assessed", "training_started", "exited"]);
    assert_eq!(events[0]["data"]["identity"]["first_name"], "Awa");
    assert_eq!(events[2]["data"]["weekly_hours"], 26);
    for (index, event) in events.iter().enumerate() {
        assert_eq!(event["version"].as_u64(), Some(index as u64 + 1));
        assert_eq!(event["beneficiary"], id.as_str());
        assert!(event["recorded_at"].as_str().unwrap().ends_with('Z'));
    }
    // as_of: what was known when the registration was recorded.
    let as_of = events[0]["recorded_at"].as_str().unwrap();
    let then = client.get(&format!("/api/beneficiaries/{id}/events?as_of={as_of}")).await;
    assert_eq!(then.body["events"].as_array().unwrap().len(), 1, "{}", then.text);

    let log = client.get("/api/events?after=2&limit=3").await;
    let positions: Vec<u64> =
        log.body["events"].as_array().unwrap().iter().map(|e| e["position"].as_u64().unwrap()).collect();
    assert_eq!(positions, [3, 4, 5]);
    assert_eq!(log.body["last_position"], 5);
    assert!(
        log.body["events"][0]["data"].get("identity").is_none() || log.body["events"][0]["data"]["identity"].is_null()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn every_bad_request_gets_its_error_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(bin(), dir.path(), &["--body-limit", "65536"]);
    let client = server.admin();
    let id = client.post("/api/beneficiaries", &registration()).await.body["id"].as_str().unwrap().to_owned();
    let events = format!("/api/beneficiaries/{id}/events");
    let with_id = |event_id: &str, mut event: Value| {
        event["id"] = json!(event_id);
        json!({"events": [event]})
    };
    let ok = client.post(&events, &with_id("0193c9a2-0000-7000-8000-00000000aaaa", referral())).await;
    assert_eq!(ok.status, 201);
    let before = last_position(&client).await;

    let cases: Vec<(&str, u16, &str, reqwest::Body)> = vec![
        ("malformed JSON", 400, "invalid_request", "{\"events\": [".into()),
        ("unknown field", 400, "invalid_request", json!({"events": [], "extra": 1}).to_string().into()),
        (
            "unknown enum value",
            400,
            "invalid_request",
            json!({"events": [{"type": "exited", "occurred_on": days_ago(1), "data": {"destination": "the_moon"}}]}).to_string().into(),
        ),
        (
            "unknown event type",
            400,
            "invalid_request",
            json!({"events": [{"type": "promoted", "occurred_on": days_ago(1), "data": {}}]}).to_string().into(),
        ),
        (
            "version conflict",
            409,
            "version_conflict",
            json!({"expected_version": 1, "events": [{"type": "follow_up_held", "occurred_on": days_ago(1), "data": {"kind": "phone"}}]})
                .to_string()
                .into(),
        ),
        (
            "same id, other content",
            409,
            "duplicate_id",
            with_id("0193c9a2-0000-7000-8000-00000000aaaa", json!({"type": "follow_up_held", "occurred_on": days_ago(1), "data": {"kind": "phone"}}))
                .to_string()
                .into(),
        ),
        ("body over the limit", 413, "payload_too_large", vec![b' '; 70_000].into()),
        (
            "rule violation",
            422,
            "rule_violation",
            json!({"events": [{"type": "contract_ended", "occurred_on": days_ago(1), "data": {"contract_id": "nope", "reason": "end_of_term"}}]})
                .to_string()
                .into(),
        ),
        (
            "future date",
            422,
            "rule_violation",
            json!({"events": [{"type": "follow_up_held", "occurred_on": days_ago(-3), "data": {"kind": "phone"}}]}).to_string().into(),
        ),
    ];
    for (what, status, code, body) in cases {
        let answer = client.post_raw(&events, body).await;
        assert_eq!(answer.status, status, "{what}: {}", answer.text);
        assert_eq!(answer.body["error"], code, "{what}: {}", answer.text);
        assert!(answer.body["message"].as_str().is_some_and(|m| m.len() > 10), "{what}: a sentence, not a code");
        assert_eq!(last_position(&client).await, before, "{what} wrote something");
    }

    let unknown = client.post_raw(&events, json!({"events": [{"type": "exited", "occurred_on": days_ago(1), "data": {"destination": "cdi", "color": "red"}}]}).to_string()).await;
    assert!(unknown.body["message"].as_str().unwrap().contains("color"), "names the field: {}", unknown.text);
    let conflict = client.post(&events, &json!({"expected_version": 1, "events": [referral()]})).await;
    assert_eq!((conflict.body["expected"].as_u64(), conflict.body["actual"].as_u64()), (Some(1), Some(2)));
    let rule = client.post(&events, &json!({"events": [referral()]})).await;
    assert_eq!(rule.body["rule"], "episode_already_open");

    let retry = client.post(&events, &with_id("0193c9a2-0000-7000-8000-00000000aaaa", referral())).await;
    assert_eq!(retry.status, 200, "an idempotent retry: {}", retry.text);
    assert_eq!(retry.body["position"], ok.body["position"]);
    assert_eq!(last_position(&client).await, before);

    let missing = client.get("/api/beneficiaries/0193c9a2-0000-7000-8000-000000000404/events").await;
    assert_eq!((missing.status, missing.body["error"].as_str()), (404, Some("not_found")));
    let not_an_id = client.get("/api/beneficiaries/nobody/events").await;
    assert_eq!(not_an_id.status, 400);
    let bad_as_of = client.get(&format!("/api/beneficiaries/{id}/events?as_of=yesterday")).await;
    assert_eq!(bad_as_of.status, 400);
    assert_eq!(client.get("/api/nothing-here").await.status, 404);
}

#[tokio::test(flavor = "multi_thread")]
async fn sigterm_stops_the_server_gracefully_and_keeps_every_acknowledged_event() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(bin(), dir.path(), &[]);
    let client = server.admin();
    for _ in 0..20 {
        assert_eq!(client.post("/api/beneficiaries", &registration()).await.status, 201);
    }
    let status = server.terminate();
    assert!(status.success(), "exit status after SIGTERM: {status}");
    let verify = parcours_tests::run(bin(), &["verify", "--data", dir.path().to_str().unwrap()]);
    assert!(verify.status.success(), "{}", String::from_utf8_lossy(&verify.stdout));
    assert!(String::from_utf8_lossy(&verify.stdout).contains("intact: 20 events"));
}
