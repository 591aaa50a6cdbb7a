//! The live feed (`GET /api/events/live`): every event once, in order, resumable from its last id,
//! and only what the reader may see.

use std::time::Duration;

use parcours_tests::{Client, Server};
use serde_json::{json, Value};

use crate::{bin, days_ago};

/// An open SSE connection, read message by message.
struct Feed {
    response: reqwest::Response,
    buffer: String,
}

impl Feed {
    async fn open(client: &Client, path: &str, last_event_id: Option<u64>) -> Feed {
        let mut request = client.http.get(format!("{}{path}", client.base));
        if let Some(token) = &client.token {
            request = request.bearer_auth(token);
        }
        if let Some(id) = last_event_id {
            request = request.header("last-event-id", id.to_string());
        }
        let response = request.send().await.expect("the feed answers");
        assert_eq!(response.status(), 200);
        assert!(response.headers()["content-type"].to_str().unwrap().starts_with("text/event-stream"));
        Feed { response, buffer: String::new() }
    }

    /// The next message with an id: (id, data). Comments (keep-alives) are skipped.
    async fn next(&mut self) -> (u64, Value) {
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let message: String = self.buffer.drain(..end + 2).collect();
                let mut id = None;
                let mut data = String::new();
                for line in message.lines() {
                    if let Some(value) = line.strip_prefix("id:") {
                        id = value.trim().parse().ok();
                    } else if let Some(value) = line.strip_prefix("data:") {
                        data.push_str(value.trim_start());
                    }
                }
                if let Some(id) = id {
                    return (id, serde_json::from_str(&data).expect("data is JSON"));
                }
                continue;
            }
            let chunk = tokio::time::timeout(Duration::from_secs(10), self.response.chunk())
                .await
                .expect("a message within 10 s")
                .expect("the stream reads")
                .expect("the stream stays open");
            self.buffer.push_str(std::str::from_utf8(&chunk).expect("UTF-8"));
        }
    }
}

/// Opens an SSE route and reads it until the server ends it; `None` if it is still open after
/// `within`. Returns the whole text received.
async fn read_until_closed(
    client: &Client,
    path: &str,
    within: Duration,
    on_open: impl std::future::Future<Output = ()>,
) -> Option<String> {
    let mut request = client.http.get(format!("{}{path}", client.base));
    if let Some(token) = &client.token {
        request = request.bearer_auth(token);
    }
    let mut response = request.send().await.expect("the stream answers");
    assert_eq!(response.status(), 200, "{path}");
    on_open.await;
    let deadline = tokio::time::Instant::now() + within;
    let mut text = String::new();
    loop {
        match tokio::time::timeout_at(deadline, response.chunk()).await {
            Err(_) => return None,
            Ok(Ok(Some(chunk))) => text.push_str(std::str::from_utf8(&chunk).expect("UTF-8")),
            Ok(_) => return Some(text),
        }
    }
}

async fn register(client: &Client, structure: &str) -> String {
    let answer = client
        .post(
            "/api/beneficiaries",
            &json!({"occurred_on": days_ago(10), "data": {"structure": structure, "gender": "female", "birth_year": 1990,
                "identity": {"first_name": "Lina"}}}),
        )
        .await;
    assert_eq!(answer.status, 201, "{}", answer.text);
    answer.body["id"].as_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_feed_sends_every_event_once_in_order_and_resumes_from_the_last_id() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(bin(), dir.path(), &[]);
    let admin = server.admin();
    for _ in 0..3 {
        register(&admin, "aci-agen").await;
    }
    // From the start: the three registrations, then what is appended while connected.
    let mut feed = Feed::open(&admin, "/api/events/live?after=0", None).await;
    for expected in 1..=3 {
        let (id, event) = feed.next().await;
        assert_eq!((id, event["position"].as_u64()), (expected, Some(expected)));
        assert_eq!(event["type"], "registered");
        assert!(event["data"].get("identity").is_none_or(Value::is_null), "no personal data in the feed: {event}");
    }
    let person = register(&admin, "aci-agen").await;
    let (id, event) = feed.next().await;
    assert_eq!((id, event["beneficiary"].as_str()), (4, Some(person.as_str())));
    drop(feed);

    // Events appended while disconnected arrive after a resume, none twice.
    for _ in 0..5 {
        register(&admin, "aci-agen").await;
    }
    let mut feed = Feed::open(&admin, "/api/events/live", Some(4)).await;
    for expected in 5..=9 {
        assert_eq!(feed.next().await.0, expected);
    }
    register(&admin, "aci-agen").await;
    assert_eq!(feed.next().await.0, 10);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_coordinator_sees_only_the_people_its_structures_follow() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let server = Server::start(bin(), &data, &[]);
    let admin = server.admin();
    let created = admin.post("/api/tokens", &json!({"role": "coordinator", "structures": ["aci-agen"]})).await;
    assert_eq!(created.status, 201, "{}", created.text);
    let coordinator = Client::new(&server.url).with_token(created.body["token"].as_str().unwrap());
    let mut feed = Feed::open(&coordinator, "/api/events/live?after=0", None).await;
    let other = register(&admin, "ei-marmande").await;
    let mine = register(&admin, "aci-agen").await;
    let (id, event) = feed.next().await;
    assert_eq!(
        (id, event["beneficiary"].as_str()),
        (2, Some(mine.as_str())),
        "the other structure's person is not sent"
    );
    assert_ne!(other, mine);
    assert_eq!(Client::new(&server.url).get("/api/events/live").await.status, 401);
}

/// A revoked token stops receiving the live feed and the dashboard's live updates within a second
/// or so, with no new event to wake the stream: it ends with `event: revoked`.
#[tokio::test(flavor = "multi_thread")]
async fn a_revoked_token_is_cut_off_from_open_streams_within_a_second() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(bin(), &dir.path().join("data"), &[]);
    let admin = server.admin();
    for path in ["/api/events/live", "/tableau-de-bord/flux?structure=aci-agen"] {
        let created = admin.post("/api/tokens", &json!({"role": "coordinator", "structures": ["aci-agen"]})).await;
        assert_eq!(created.status, 201, "{}", created.text);
        let coordinator = Client::new(&server.url).with_token(created.body["token"].as_str().unwrap());
        let id = created.body["id"].as_str().unwrap().to_owned();
        let revoke = async {
            assert_eq!(admin.delete_status(&format!("/api/tokens/{id}")).await, 204);
        };
        let started = std::time::Instant::now();
        let text = read_until_closed(&coordinator, path, Duration::from_secs(3), revoke).await;
        let text = text.unwrap_or_else(|| panic!("{path}: still open 3 s after the token was revoked"));
        assert!(started.elapsed() < Duration::from_millis(2500), "{path}: cut off after {:?}", started.elapsed());
        assert!(text.contains("event: revoked"), "{path}: ended without saying why: {text:?}");
        assert_eq!(coordinator.get("/api/events/live").await.status, 401);
    }
}
