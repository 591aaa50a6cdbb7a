//! Bounded work per request and the small holes (issue 16, items 7 and 8; issue 19, item 4): a
//! question covers at most ten years; the people list opens only the names it returns; a
//! published report is folded once however many ask for it; `/readyz` waits for the projections;
//! the sign-in form accepts posts from this site only and limits each client; no log line carries
//! a query string or a name.

use std::time::Duration;

use parcours_tests::{run, Client, Server};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::bin;

async fn register(admin: &Client, first_name: &str, last_name: &str) -> String {
    let body = json!({"occurred_on": "2020-01-02", "data": {"structure": "aci-agen", "gender": "female",
        "birth_year": 1990, "identity": {"first_name": first_name, "last_name": last_name}}});
    let registered = admin.post("/api/beneficiaries", &body).await;
    assert_eq!(registered.status, 201, "{}", registered.text);
    registered.body["id"].as_str().unwrap().to_owned()
}

async fn refer(admin: &Client, person: &str, on: &str) {
    let body = json!({"events": [{"type": "referred", "occurred_on": on, "data": {"structure": "aci-agen",
        "prescriber": {"kind": "france_travail"}, "situation": "unemployed"}}]});
    let referred = admin.post(&format!("/api/beneficiaries/{person}/events"), &body).await;
    assert_eq!(referred.status, 201, "{}", referred.text);
}

/// What the access log holds of a person's name being read.
async fn names_read(admin: &Client, person: &str) -> usize {
    let log = admin.get(&format!("/api/access-log?beneficiary={person}")).await;
    assert_eq!(log.status, 200, "{}", log.text);
    log.body["entries"].as_array().unwrap().iter().filter(|entry| entry["what"] == "name").count()
}

/// The folds made to reproduce publications, from `/metrics` (OpenMetrics, and said so).
async fn folds(admin: &Client) -> u64 {
    let metrics = admin.get_response("/metrics").await;
    let content_type = metrics.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(content_type.starts_with("application/openmetrics-text"), "{content_type}");
    metric(&metrics.text().await.unwrap(), "parcours_publication_folds_total")
}

/// The publications reproduced from their snapshot, from `/metrics`.
async fn snapshots(admin: &Client) -> u64 {
    let metrics = admin.get_response("/metrics").await;
    metric(&metrics.text().await.unwrap(), "parcours_publication_snapshots_total")
}

fn metric(text: &str, name: &str) -> u64 {
    text.lines()
        .find_map(|line| line.strip_prefix(name).and_then(|rest| rest.trim().parse().ok()))
        .unwrap_or_else(|| panic!("{name} in {text}"))
}

#[tokio::test(flavor = "multi_thread")]
async fn reports_and_statistics_cover_at_most_ten_years() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(bin(), dir.path(), &[]);
    let admin = server.admin();
    for route in ["/api/stats/outcomes?", "/api/stats/entries?", "/api/reports/activity?structure=aci-agen&"] {
        // Ten years and a day.
        let refused = admin.get(&format!("{route}from=2010-01-01&to=2020-01-01")).await;
        assert_eq!(refused.status, 400, "{route}: {}", refused.text);
        assert_eq!(refused.body["error"], "invalid_request");
        let message = refused.body["message"].as_str().unwrap();
        assert!(message.contains("10 years") && message.contains("2019-12-31"), "{route}: {message}");
    }
    // Ten years exactly are a question like any other.
    for route in ["/api/stats/outcomes?", "/api/stats/entries?"] {
        let answered = admin.get(&format!("{route}from=2010-01-01&to=2019-12-31")).await;
        assert_eq!(answered.status, 200, "{route}: {}", answered.text);
    }
    let publish = json!({"structures": ["aci-agen"], "from": "2010-01-01", "to": "2020-06-30"});
    let refused = admin.post("/api/reports/activity/publish", &publish).await;
    assert_eq!(refused.status, 400, "a publication asks the same question: {}", refused.text);
}

/// Three people of one structure; a page of one opens one name, and the access log says so for
/// each of the three: the one returned was read, the two others were not.
#[tokio::test(flavor = "multi_thread")]
async fn the_people_list_opens_only_the_names_it_returns() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(bin(), dir.path(), &[]);
    let admin = server.admin();
    let people = [
        register(&admin, "Albertine", "Sarrazin").await,
        register(&admin, "Bernadette", "Soubirous").await,
        register(&admin, "Colette", "Willy").await,
    ];
    let page = admin.get("/api/beneficiaries?limit=1").await;
    assert_eq!(page.status, 200, "{}", page.text);
    assert_eq!(page.body["total"], 3, "the total counts everyone in reach");
    let shown = page.body["people"].as_array().unwrap();
    assert_eq!(shown.len(), 1);
    let returned = shown[0]["beneficiary"].as_str().unwrap().to_owned();
    assert!(shown[0]["name"].as_str().is_some_and(|name| !name.is_empty()), "{}", page.text);
    for person in &people {
        let expected = usize::from(*person == returned);
        assert_eq!(names_read(&admin, person).await, expected, "{person} (returned: {returned})");
    }

    // A search returns Bernadette only: only her name is opened.
    let found = admin.get("/api/beneficiaries?q=soubirous").await;
    assert_eq!(found.body["total"], 1, "{}", found.text);
    let before: Vec<usize> = names_read_each(&admin, &people).await;
    let _ = admin.get("/api/beneficiaries?q=soubirous").await;
    let after: Vec<usize> = names_read_each(&admin, &people).await;
    let opened: Vec<usize> = before.iter().zip(&after).map(|(before, after)| after - before).collect();
    assert_eq!(opened, [0, 1, 0], "Albertine, Bernadette, Colette");
}

async fn names_read_each(admin: &Client, people: &[String]) -> Vec<usize> {
    let mut counts = Vec::new();
    for person in people {
        counts.push(names_read(admin, person).await);
    }
    counts
}

/// aci-agen with three people referred last year: the year, and the question of its report.
async fn last_year_of_three_people(admin: &Client) -> (i32, Value) {
    let year = chrono::Utc::now().date_naive().format("%Y").to_string().parse::<i32>().unwrap() - 1;
    let structure = json!({"name": "ACI d'Agen", "kind": "aci", "agreed_hours": {year.to_string(): 4200}});
    assert_eq!(admin.put_status("/api/structures/aci-agen", &structure).await, 201);
    for (index, name) in ["Anne", "Bruno", "Chloé"].into_iter().enumerate() {
        let person = register(admin, name, "Martin").await;
        refer(admin, &person, &format!("{year}-0{}-10", index + 1)).await;
    }
    (year, json!({"structures": ["aci-agen"], "from": format!("{year}-01-01"), "to": format!("{year}-12-31")}))
}

/// Eight requests at once for a publication the log has moved past and whose snapshot is gone:
/// one fold, kept; asking again, and asking what changed since, fold nothing more. A publication
/// that nothing has changed since is read off the live projections: no fold at all.
#[tokio::test(flavor = "multi_thread")]
async fn concurrent_reproductions_of_a_publication_share_one_fold() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(bin(), dir.path(), &[]);
    let admin = server.admin();
    let (year, question) = last_year_of_three_people(&admin).await;
    let published = admin.post("/api/reports/activity/publish", &question).await;
    assert_eq!(published.status, 201, "{}", published.text);
    let id = published.body["id"].as_str().unwrap().to_owned();

    // Read off the live projections: nothing but the publication itself was recorded since.
    let at_head = admin.get(&format!("/api/reports/published/{id}")).await;
    assert_eq!(at_head.status, 200, "{}", at_head.text);
    assert_eq!(hex::encode(Sha256::digest(at_head.text.as_bytes())), published.body["sha256"]["json"]);
    assert_eq!(folds(&admin).await, 0, "a publication nothing has changed since needs no fold");

    // A second publication, then a late referral: the log has moved past it.
    let second = admin.post("/api/reports/activity/publish", &question).await;
    assert_eq!(second.status, 201, "{}", second.text);
    let second_id = second.body["id"].as_str().unwrap().to_owned();
    let late = register(&admin, "Denis", "Martin").await;
    refer(&admin, &late, &format!("{year}-11-02")).await;
    // Without its snapshot (`a_publication_reproduces_after_a_restart_from_its_snapshot`), the
    // publication is folded from the log.
    std::fs::remove_file(dir.path().join("snapshots").join(format!("{second_id}.snap"))).unwrap();
    let asks = (0..8).map(|_| {
        let (admin, path) = (admin.clone(), format!("/api/reports/published/{second_id}?format=csv"));
        tokio::spawn(async move { admin.get(&path).await })
    });
    let answers = futures_util::future::join_all(asks).await;
    for answer in answers {
        let answer = answer.unwrap();
        assert_eq!(answer.status, 200, "{}", answer.text);
        assert_eq!(hex::encode(Sha256::digest(answer.text.as_bytes())), second.body["sha256"]["csv"]);
    }
    assert_eq!(folds(&admin).await, 1, "eight requests at once, one fold");
    assert_eq!(admin.get(&format!("/api/reports/published/{second_id}?format=html")).await.status, 200);
    let changes = admin.get(&format!("/api/reports/published/{second_id}/changes")).await;
    assert_eq!(changes.status, 200, "{}", changes.text);
    assert!(changes.text.contains("people.entered"), "Denis's referral changed the entries: {}", changes.text);
    assert_eq!(folds(&admin).await, 1, "kept: asked again and compared, no second fold");
    // What changed since needs the lists behind the figures, which the bytes do not: computed from
    // the snapshot that the fold kept.
    assert_eq!(snapshots(&admin).await, 1);
}

/// The digests of every published format of `id`, as the server gives them now.
async fn reproduced(admin: &Client, id: &str) -> Vec<String> {
    let mut digests = Vec::new();
    for format in ["json", "csv", "html"] {
        let answer = admin.get(&format!("/api/reports/published/{id}?format={format}")).await;
        assert_eq!(answer.status, 200, "{format}: {}", answer.text);
        digests.push(hex::encode(Sha256::digest(answer.text.as_bytes())));
    }
    digests
}

/// Issue 19, item 4: a publication asked after a restart is computed from the snapshot kept when it
/// was published, without a fold, and gives its published bytes; a damaged, missing or foreign
/// snapshot is not used: the log is folded, the bytes are the same, and a good snapshot is kept
/// again for the next restart.
#[tokio::test(flavor = "multi_thread")]
async fn a_publication_reproduces_after_a_restart_from_its_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(bin(), dir.path(), &[]);
    let admin = server.admin();
    let (year, question) = last_year_of_three_people(&admin).await;
    let mut publications = Vec::new();
    for _ in 0..2 {
        let published = admin.post("/api/reports/activity/publish", &question).await;
        assert_eq!(published.status, 201, "{}", published.text);
        let digests: Vec<String> =
            ["json", "csv", "html"].iter().map(|f| published.body["sha256"][f].as_str().unwrap().to_owned()).collect();
        publications.push((published.body["id"].as_str().unwrap().to_owned(), digests));
        // A late referral between the two: they count different positions, and after a restart
        // the live projections stand past both.
        let late = register(&admin, "Denis", "Martin").await;
        refer(&admin, &late, &format!("{year}-11-02")).await;
    }
    let (id, digests) = publications[0].clone();
    let snapshot = dir.path().join("snapshots").join(format!("{id}.snap"));
    assert!(snapshot.is_file(), "kept when published");
    drop(admin);
    drop(server);

    // After a restart: from the snapshot, no fold.
    let server = Server::start(bin(), dir.path(), &[]);
    let admin = server.admin();
    assert_eq!(reproduced(&admin, &id).await, digests, "the published bytes, from the snapshot");
    assert_eq!((folds(&admin).await, snapshots(&admin).await), (0, 1), "no fold after a restart");
    drop(admin);
    drop(server);

    // A damaged snapshot (one byte of its inputs flipped), the other publication's snapshot in its
    // place (another position), none at all: each falls back to the fold, and the bytes are the
    // published ones.
    let good = std::fs::read(&snapshot).unwrap();
    let mut damaged = good.clone();
    *damaged.last_mut().unwrap() ^= 1;
    let other = std::fs::read(dir.path().join("snapshots").join(format!("{}.snap", publications[1].0))).unwrap();
    for (case, bytes) in [("damaged", Some(damaged)), ("another publication's", Some(other)), ("missing", None)] {
        match bytes {
            Some(bytes) => std::fs::write(&snapshot, bytes).unwrap(),
            None => std::fs::remove_file(&snapshot).unwrap(),
        }
        let server = Server::start(bin(), dir.path(), &[]);
        let admin = server.admin();
        assert_eq!(reproduced(&admin, &id).await, digests, "{case} snapshot: the published bytes, folded");
        assert_eq!((folds(&admin).await, snapshots(&admin).await), (1, 0), "{case} snapshot: one fold");
        assert_eq!(std::fs::read(&snapshot).unwrap(), good, "{case} snapshot: kept again by the fold");
    }

    // Kept again: the next restart needs no fold.
    let server = Server::start(bin(), dir.path(), &[]);
    let admin = server.admin();
    assert_eq!(reproduced(&admin, &id).await, digests);
    assert_eq!(reproduced(&admin, &publications[1].0).await, publications[1].1);
    assert_eq!((folds(&admin).await, snapshots(&admin).await), (0, 2));
}

/// A server that opens a log of 200,000 events answers `/readyz` 503 while its projections
/// rebuild, and 200 once they have caught up; `/healthz` is 200 throughout.
#[tokio::test(flavor = "multi_thread")]
async fn readyz_answers_503_until_the_projections_have_caught_up() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let data_arg = data.to_str().unwrap();
    let generated = run(bin(), &["generate", "--events", "200000", "--people", "8000", "--data", data_arg]);
    assert!(generated.status.success(), "{}", String::from_utf8_lossy(&generated.stderr));
    let server = Server::start(bin(), &data, &[]);
    let anonymous = server.anonymous();
    let first = anonymous.get("/readyz").await;
    assert_eq!(anonymous.get("/healthz").await.status, 200);
    assert_eq!((first.status, &first.body["status"]), (503, &json!("catching_up")), "{}", first.text);
    assert!(first.body["projections_position"].as_u64().unwrap() < 200_000, "{}", first.text);
    let mut ready: Option<Value> = None;
    for _ in 0..600 {
        let answer = anonymous.get("/readyz").await;
        if answer.status == 200 {
            ready = Some(answer.body);
            break;
        }
        assert_eq!(answer.status, 503, "{}", answer.text);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let ready = ready.expect("ready within a minute");
    assert_eq!(ready["status"], "ready");
    assert_eq!(ready["projections_position"], ready["last_position"]);
    assert_eq!(ready["last_position"], 200_000);
}

/// The sign-in form, posted from another site, is refused before the token is even looked at;
/// from this site, a client gets ten attempts at once, then 429 with Retry-After.
#[tokio::test(flavor = "multi_thread")]
async fn sign_in_accepts_this_site_only_and_limits_each_client() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(bin(), dir.path(), &[]);
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let host = server.url.trim_start_matches("http://").to_owned();
    let post = |site: &'static str, origin: String, token: &'static str| {
        http.post(format!("{}/connexion", server.url))
            .header("sec-fetch-site", site)
            .header("origin", origin)
            .form(&[("jeton", token), ("suite", "/")])
            .send()
    };
    let elsewhere = post("cross-site", "https://evil.example".into(), parcours_tests::ADMIN_TOKEN).await.unwrap();
    assert_eq!(elsewhere.status(), 403, "a sign-in posted from another site");
    assert!(elsewhere.headers().get("set-cookie").is_none(), "no session for it");
    let here = post("same-origin", format!("http://{host}"), parcours_tests::ADMIN_TOKEN).await.unwrap();
    assert_eq!(here.status(), 303, "the same token, from this site's own page");
    assert!(here.headers().get("set-cookie").is_some());

    // One attempt spent above; nine more wrong tokens, then the tenth is one too many.
    for attempt in 2..=10 {
        let wrong = post("same-origin", format!("http://{host}"), "prc_not_a_token").await.unwrap();
        assert_eq!(wrong.status(), 401, "attempt {attempt}");
    }
    let limited = post("same-origin", format!("http://{host}"), parcours_tests::ADMIN_TOKEN).await.unwrap();
    assert_eq!(limited.status(), 429);
    let wait: u64 = limited.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=6).contains(&wait), "{wait}");
    assert!(limited.text().await.unwrap().contains("Trop de tentatives"));
}

/// Behind a reverse proxy named with `--trusted-proxy`, each client the proxy names in
/// `X-Forwarded-For` has its own sign-in limit; a client that is not the proxy cannot escape its
/// limit by writing the header itself.
#[tokio::test(flavor = "multi_thread")]
async fn behind_a_trusted_proxy_each_forwarded_client_has_its_own_sign_in_limit() {
    let dir = tempfile::tempdir().unwrap();
    let attempts = |server_url: String| {
        let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        move |forwarded_for: &'static str| {
            http.post(format!("{server_url}/connexion"))
                .header("sec-fetch-site", "same-origin")
                .header("x-forwarded-for", forwarded_for)
                .form(&[("jeton", "prc_not_a_token"), ("suite", "/")])
                .send()
        }
    };
    let server = Server::start(bin(), dir.path(), &["--trusted-proxy", "127.0.0.1"]);
    let post = attempts(server.url.clone());
    for attempt in 1..=10 {
        assert_eq!(post("198.51.100.7, 127.0.0.1").await.unwrap().status(), 401, "attempt {attempt}");
    }
    assert_eq!(post("198.51.100.7").await.unwrap().status(), 429, "the forwarded client's eleventh attempt");
    assert_eq!(post("198.51.100.8").await.unwrap().status(), 401, "another client behind the same proxy");
    assert!(server.terminate().success());

    let server = Server::start(bin(), dir.path(), &[]);
    let post = attempts(server.url.clone());
    for attempt in 1..=10 {
        assert_eq!(post("198.51.100.7").await.unwrap().status(), 401, "attempt {attempt}");
    }
    assert_eq!(post("198.51.100.9").await.unwrap().status(), 429, "an untrusted peer's header is not believed");
}

/// At the debug level, requests are logged by their route: a searched name, a query string and a
/// person's id appear in no line.
#[tokio::test(flavor = "multi_thread")]
async fn no_log_line_carries_a_query_string_or_a_name() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let log = dir.path().join("server.log");
    let server = Server::start_logged(bin(), &data, &[], &log);
    let admin = server.admin();
    let person = register(&admin, "Quillonette", "Brisebarre").await;
    assert_eq!(admin.get("/api/beneficiaries?q=Quillonette").await.body["total"], 1);
    assert_eq!(admin.get(&format!("/api/beneficiaries/{person}")).await.status, 200);
    assert_eq!(admin.get("/api/stats/outcomes?from=2024-01-01&to=2024-12-31&by=gender").await.status, 200);
    assert!(server.terminate().success());
    let logged = std::fs::read_to_string(&log).unwrap();
    assert!(logged.contains("\"/api/beneficiaries/{id}\""), "requests are logged by route: {logged}");
    for secret in ["Quillonette", "Brisebarre", "q=", "from=", "by=gender", person.as_str()] {
        let line = logged.lines().find(|line| line.contains(secret));
        assert!(line.is_none(), "`{secret}` in the log: {line:?}");
    }
}
