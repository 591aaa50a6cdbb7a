//! Hostile input (issue 7): a slow client cannot hold the server, over-large or odd data is refused
//! with an error naming it, and every answer carries the protective headers.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use parcours_tests::Server;
use serde_json::json;

use crate::{bin, days_ago};

#[tokio::test(flavor = "multi_thread")]
async fn a_slow_loris_client_is_disconnected_while_others_are_served() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(bin(), dir.path(), &["--header-timeout-secs", "2"]);
    let address = server.url.trim_start_matches("http://").to_owned();
    let slow = tokio::task::spawn_blocking(move || {
        let mut stream = TcpStream::connect(&address).unwrap();
        stream.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        let started = Instant::now();
        // Headers that never end: one line, then silence.
        stream.write_all(b"GET /healthz HTTP/1.1\r\nHost: parcours\r\n").unwrap();
        let mut answer = Vec::new();
        let _ = stream.read_to_end(&mut answer);
        (started.elapsed(), String::from_utf8_lossy(&answer).into_owned())
    });
    // Meanwhile the server answers everyone else.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(server.anonymous().get("/healthz").await.status, 200);
    let (held, answer) = slow.await.unwrap();
    assert!(held >= Duration::from_millis(1500) && held < Duration::from_secs(10), "held {held:?}: {answer}");
    assert!(!answer.contains("200 OK"), "the incomplete request was not served: {answer}");
}

#[tokio::test(flavor = "multi_thread")]
async fn odd_data_is_refused_naming_the_field_and_answers_carry_protective_headers() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(bin(), dir.path(), &[]);
    let admin = server.admin();
    let registration = |data: serde_json::Value| json!({"occurred_on": days_ago(3), "data": data});
    let long_name = "A".repeat(5000);
    let answer = admin
        .post(
            "/api/beneficiaries",
            &registration(json!({"structure": "aci-agen", "gender": "male", "birth_year": 1980,
                "identity": {"first_name": long_name}})),
        )
        .await;
    assert_eq!(answer.status, 400, "{}", answer.text);
    assert!(answer.body["message"].as_str().unwrap().contains("data.identity.first_name"), "{}", answer.text);

    let mut deep = json!("x");
    for _ in 0..20 {
        deep = json!({ "a": deep });
    }
    let answer = admin
        .post(
            "/api/beneficiaries",
            &registration(json!({"structure": "aci-agen", "gender": "male", "birth_year": 1980, "extra": deep})),
        )
        .await;
    assert_eq!(answer.status, 400, "{}", answer.text);

    let created = admin
        .post(
            "/api/beneficiaries",
            &registration(json!({"structure": "aci-agen", "gender": "male", "birth_year": 1980})),
        )
        .await;
    assert_eq!(created.status, 201);
    let id = created.body["id"].as_str().unwrap();
    let skills: Vec<String> = (0..500).map(|n| format!("compétence {n}")).collect();
    let answer = admin
        .post(
            &format!("/api/beneficiaries/{id}/events"),
            &json!({"events": [{"type": "skills_assessed", "occurred_on": days_ago(1),
                "data": {"assessor": "AFPA", "kind": "other", "skills": skills}}]}),
        )
        .await;
    assert_eq!(answer.status, 400, "{}", answer.text);
    assert!(answer.body["message"].as_str().unwrap().contains("skills"), "{}", answer.text);

    let response = admin
        .http
        .get(format!("{}/api/beneficiaries/{id}/events", server.url))
        .bearer_auth(parcours_tests::ADMIN_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["x-content-type-options"], "nosniff");
    assert_eq!(response.headers()["cache-control"], "no-store");
    assert_eq!(admin.get("/healthz").await.body["last_position"], 1, "nothing refused was written");
}

#[tokio::test(flavor = "multi_thread")]
async fn metrics_are_for_admins_and_count_appends() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(bin(), dir.path(), &[]);
    let admin = server.admin();
    for _ in 0..3 {
        let created = admin
            .post("/api/beneficiaries", &json!({"occurred_on": days_ago(3), "data": {"structure": "aci-agen", "gender": "female", "birth_year": 1990}}))
            .await;
        assert_eq!(created.status, 201);
    }
    assert_eq!(server.anonymous().get("/metrics").await.status, 401);
    let metrics = admin.get("/metrics").await;
    assert_eq!(metrics.status, 200);
    let line = |name: &str| {
        metrics
            .text
            .lines()
            .find(|line| line.starts_with(name))
            .unwrap_or_else(|| panic!("{name} in {}", metrics.text))
            .to_owned()
    };
    assert_eq!(line("parcours_events_appended_total"), "parcours_events_appended_total 3");
    assert_eq!(line("parcours_append_seconds_count"), "parcours_append_seconds_count 3");
    assert!(
        line("parcours_projection_lag_events").ends_with(" 0")
            || line("parcours_projection_lag_events").ends_with(" 1")
    );
    assert!(metrics.text.contains("parcours_group_commit_events_bucket"));
    assert!(metrics.text.contains("parcours_live_clients"));
    // The content type says the format the body is written in: OpenMetrics ends with `# EOF`.
    let raw = admin
        .http
        .get(format!("{}/metrics", admin.base))
        .bearer_auth(admin.token.as_ref().unwrap())
        .send()
        .await
        .unwrap();
    let content_type = raw.headers()["content-type"].to_str().unwrap().to_owned();
    let body = raw.text().await.unwrap();
    if body.trim_end().ends_with("# EOF") {
        assert!(
            content_type.starts_with("application/openmetrics-text; version=1.0.0"),
            "OpenMetrics served as {content_type}"
        );
    } else {
        assert!(content_type.starts_with("text/plain; version=0.0.4"), "Prometheus text served as {content_type}");
    }
    assert!(!metrics.text.contains("beneficiaries/0"), "no beneficiary id in a label");
}
