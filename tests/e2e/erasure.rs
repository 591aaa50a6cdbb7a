//! Erasure from an immutable log (crypto-shredding), tested with canaries: people with names and
//! e-mails found nowhere else are registered, followed, then erased; afterwards nothing of them is
//! found in any API answer, any export, the server's logs or the raw bytes of the data directory
//! (their destroyed keys neither), and every figure is byte-identical.

use std::path::{Path, PathBuf};

use parcours_tests::{run, Client, Server};
use serde_json::json;

use crate::{bin, days_ago};

const CANARIES: [(&str, &str, &str); 2] = [
    ("Zéphyrine", "Canarivore", "zephyrine.canarivore@example.invalid"),
    ("Barnabé", "Pinsonneau", "barnabe.pinsonneau@example.invalid"),
];

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            found.extend(files(&path));
        } else {
            found.push(path);
        }
    }
    found
}

fn find(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|window| window == needle)
}

async fn person(admin: &Client, identity: Option<(&str, &str, &str)>, gender: &str, destination: &str) -> String {
    let identity = identity.map(|(first, last, email)| {
        json!({"first_name": first, "last_name": last, "email": email,
        "phone": "06 00 00 00 00", "address": format!("1 rue des {last}, Agen")})
    });
    let created = admin
        .post(
            "/api/beneficiaries",
            &json!({"occurred_on": days_ago(200), "data": {"structure": "aci-agen",
            "gender": gender, "birth_year": 1980, "identity": identity}}),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.text);
    let id = created.body["id"].as_str().unwrap().to_owned();
    // Free text is personal data too: a summary and an employer that name the person.
    let last =
        identity.as_ref().map_or("anonyme".into(), |identity| identity["last_name"].as_str().unwrap().to_owned());
    let steps = json!({"events": [
        {"type": "referred", "occurred_on": days_ago(190), "data": {"structure": "aci-agen", "prescriber": {"kind": "ccas"},
            "situation": "long_term_unemployed", "benefits": ["rsa"]}},
        {"type": "contract_started", "occurred_on": days_ago(180), "data": {"contract_id": "c1", "kind": "cddi",
            "weekly_hours": 26, "employer": format!("Jardins de {last}")}},
        {"type": "skills_assessed", "occurred_on": days_ago(100), "data": {"assessor": "AFPA", "kind": "pmsmp",
            "summary": format!("Synthèse de {last} : suivi psychologique")}},
        {"type": "exited", "occurred_on": days_ago(10), "data": {"destination": destination}}
    ]});
    assert_eq!(admin.post(&format!("/api/beneficiaries/{id}/events"), &steps).await.status, 201);
    id
}

/// Every figure the API gives, as text, in a fixed order.
async fn figures(admin: &Client) -> Vec<String> {
    let (from, to) = (days_ago(400), days_ago(0));
    let mut answers = Vec::new();
    for by in ["", "&by=gender", "&by=age_band", "&by=situation", "&by=structure", "&by=prescriber"] {
        for format in ["json", "csv"] {
            answers.push(admin.get(&format!("/api/stats/outcomes?from={from}&to={to}{by}&format={format}")).await.text);
        }
    }
    answers.push(admin.get(&format!("/api/stats/entries?from={from}&to={to}")).await.text);
    answers.push(admin.get(&format!("/api/stats/entries?from={from}&to={to}&format=csv")).await.text);
    answers.push(admin.get("/api/dashboard?structure=aci-agen").await.text);
    answers
}

#[tokio::test(flavor = "multi_thread")]
async fn erased_canaries_are_found_nowhere_and_figures_do_not_move() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let log = dir.path().join("server.log");
    let server = Server::start_logged(bin(), &data, &[], &log);
    let admin = server.admin();
    let mut canaries = Vec::new();
    for (index, canary) in CANARIES.iter().enumerate() {
        canaries.push(person(&admin, Some(*canary), if index == 0 { "female" } else { "male" }, "cdi").await);
    }
    for index in 0..6 {
        person(
            &admin,
            Some(("Jeanne", "Ordinaire", "jeanne@example.org")),
            ["female", "male"][index % 2],
            "job_seeking",
        )
        .await;
    }
    let before = figures(&admin).await;
    // The canaries are there to be found, while they exist: the search below can fail.
    let history = admin.get(&format!("/api/beneficiaries/{}/events", canaries[0])).await.text;
    assert!(history.contains("Zéphyrine") && history.contains("zephyrine.canarivore@example.invalid"));
    let summary = "Synthèse de Canarivore : suivi psychologique";
    assert!(history.contains(summary) && history.contains("Jardins de Canarivore"), "{history}");
    let audit = admin.get(&format!("/api/beneficiaries/{}/audit", canaries[0])).await.text;
    assert!(audit.contains(summary), "the audit trail shows the text to those allowed the identity: {audit}");
    // The raw log is for no one's eyes in particular: the text is withheld, said so.
    let raw_log = admin.get("/api/events?limit=10000").await.body;
    let withheld =
        raw_log["events"].as_array().unwrap().iter().find(|event| event["type"] == "skills_assessed").unwrap();
    assert_eq!(
        (withheld["data"]["free_text_withheld"].clone(), withheld["data"]["kind"].clone()),
        (json!(true), json!("pmsmp"))
    );
    assert!(!raw_log.to_string().contains("Canarivore"), "the raw log holds no free text");
    // Sealed from the first write: no data file holds it in clear, before any erasure.
    for file in files(&data) {
        assert!(!find(&std::fs::read(&file).unwrap(), summary.as_bytes()), "{} holds the summary", file.display());
    }
    let keys: Vec<Vec<u8>> = files(&data.join("keys"))
        .into_iter()
        .filter(|path| canaries.iter().any(|id| path.to_string_lossy().contains(&id.replace('-', ""))))
        .map(|path| std::fs::read(path).unwrap())
        .collect();
    assert_eq!(keys.len(), 2, "one key per canary");

    for id in &canaries {
        let erased = admin.post(&format!("/api/beneficiaries/{id}/erase"), &json!({"reason": "request"})).await;
        assert_eq!(erased.status, 201, "{}", erased.text);
    }
    assert_eq!(figures(&admin).await, before, "every figure is byte-identical after the erasure");

    // Every answer about them: identity null, erased said so.
    let mut answers =
        vec![admin.get("/api/beneficiaries?limit=1000").await.text, admin.get("/api/events?limit=10000").await.text];
    for id in &canaries {
        for path in ["", "/events", "/audit", "/export"] {
            let answer = admin.get(&format!("/api/beneficiaries/{id}{path}")).await;
            assert_eq!(answer.status, 200, "{path}: {}", answer.text);
            answers.push(answer.text);
        }
        let state = admin.get(&format!("/api/beneficiaries/{id}")).await.body;
        assert_eq!((state["identity"].clone(), state["identity_erased"].clone()), (json!(null), json!(true)));
        let history = admin.get(&format!("/api/beneficiaries/{id}/events")).await.body;
        assert_eq!(history["events"][0]["data"]["identity"], json!(null));
        assert_eq!(history["events"][0]["data"]["identity_erased"], json!(true));
    }
    assert!(server.terminate().success());
    let exported = run(bin(), &["export", "--data", data.to_str().unwrap()]);
    answers.push(String::from_utf8_lossy(&exported.stdout).into_owned());
    let verified = run(bin(), &["verify", "--data", data.to_str().unwrap()]);
    assert!(verified.status.success(), "the history still verifies: {}", String::from_utf8_lossy(&verified.stdout));

    let mut needles: Vec<Vec<u8>> = Vec::new();
    for (first, last, email) in CANARIES {
        needles.extend([first, last, email].map(|text| text.as_bytes().to_vec()));
        needles.push(format!("Synthèse de {last}").into_bytes());
    }
    needles.extend(keys);
    let mut haystacks: Vec<(String, Vec<u8>)> =
        answers.into_iter().enumerate().map(|(index, text)| (format!("answer {index}"), text.into_bytes())).collect();
    haystacks.push(("the server's log".into(), std::fs::read(&log).unwrap()));
    for file in files(&data) {
        haystacks.push((file.display().to_string(), std::fs::read(&file).unwrap()));
    }
    assert!(haystacks.len() > 10);
    for (name, haystack) in &haystacks {
        for needle in &needles {
            assert!(!find(haystack, needle), "{name} holds {:?}", String::from_utf8_lossy(needle));
        }
    }
    // The ordinary people are still named.
    let server = Server::start(bin(), &data, &[]);
    let people = server.admin().get("/api/beneficiaries?q=ordinaire").await.body;
    assert_eq!(people["total"], 6);
}

#[tokio::test(flavor = "multi_thread")]
async fn retention_erases_the_identities_of_people_inactive_for_two_years() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let server = Server::start(bin(), &data, &["--demo"]);
    let admin = server.admin();
    let before = figures(&admin).await;
    assert!(server.terminate().success());
    let data_arg = data.to_str().unwrap();
    // A small-cell threshold below 3 is refused before anything starts (killed after 10 s if not).
    let mut small = std::process::Command::new(bin())
        .args(["serve", "--data", data_arg, "--addr", "127.0.0.1:0", "--small-cells", "2"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    while small.try_wait().unwrap().is_none() && started.elapsed() < std::time::Duration::from_secs(10) {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    if small.try_wait().unwrap().is_none() {
        small.kill().unwrap();
        panic!("the server started with a small-cell threshold of 2");
    }
    let small = small.wait_with_output().unwrap();
    assert!(!small.status.success(), "a small-cell threshold of 2 was accepted");
    assert!(
        String::from_utf8_lossy(&small.stderr).contains("small-cells"),
        "{}",
        String::from_utf8_lossy(&small.stderr)
    );
    let listed = run(bin(), &["retention", "--inactive-for", "24months", "--data", data_arg]);
    let listed = String::from_utf8_lossy(&listed.stdout).into_owned();
    let due: usize = listed.split_whitespace().next().unwrap().parse().unwrap();
    assert!(due > 10, "a three-year demo has people inactive for two years: {listed}");
    // Bare day counts are refused: the period reads as people write it, in months or years.
    for period in ["730", "730days", "0months", "24"] {
        let refused = run(bin(), &["retention", "--inactive-for", period, "--data", data_arg]);
        assert!(!refused.status.success(), "--inactive-for {period} was accepted");
    }
    // Without --yes, erasing asks; an answer other than yes erases nothing.
    let unconfirmed = run(bin(), &["retention", "--inactive-for", "2y", "--apply", "--data", data_arg]);
    assert!(!unconfirmed.status.success(), "erased without confirmation");
    let still = run(bin(), &["retention", "--inactive-for", "24months", "--data", data_arg]);
    assert!(String::from_utf8_lossy(&still.stdout).starts_with(&format!("{due} people")), "nothing was erased");
    let applied = run(bin(), &["retention", "--inactive-for", "24months", "--apply", "--yes", "--data", data_arg]);
    assert!(String::from_utf8_lossy(&applied.stdout).contains(&format!("erased {due} identities")));
    let again = run(bin(), &["retention", "--inactive-for", "24months", "--data", data_arg]);
    assert!(String::from_utf8_lossy(&again.stdout).starts_with("0 people"), "erased once and for all");
    assert!(run(bin(), &["verify", "--data", data_arg]).status.success());

    let server = Server::start(bin(), &data, &[]);
    let admin = server.admin();
    assert_eq!(figures(&admin).await, before, "figures do not move");
    let first = listed.lines().nth(1).unwrap().split_whitespace().next().unwrap().to_owned();
    let state = admin.get(&format!("/api/beneficiaries/{first}")).await.body;
    assert_eq!(state["identity_erased"], true);
    assert_eq!(state["identity"], json!(null));
}

/// The key files of one person, found by their id.
fn key_files(data: &Path, id: &str) -> Vec<PathBuf> {
    files(&data.join("keys")).into_iter().filter(|path| path.to_string_lossy().contains(&id.replace('-', ""))).collect()
}

/// Erasure holds whatever fails: recorded by the log route rather than the erase route, it still
/// destroys the key; a key that outlives a recorded erasure (a crash, an old backup put back)
/// never opens the identity, is in no backup, and `retention` destroys it; a backup holds keys
/// only when asked; the server refuses a key directory others may read.
#[tokio::test(flavor = "multi_thread")]
async fn an_erasure_holds_when_its_key_outlives_it() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let server = Server::start(bin(), &data, &[]);
    let admin = server.admin();
    let id = person(&admin, Some(CANARIES[0]), "female", "cdi").await;
    let other = person(&admin, Some(CANARIES[1]), "male", "cdi").await;
    let key_file = key_files(&data, &id).into_iter().find(|path| path.extension() == Some("key".as_ref())).unwrap();
    let key = std::fs::read(&key_file).unwrap();

    let erasure = json!({"events": [{"type": "personal_data_erased", "occurred_on": days_ago(0), "data": {"reason": "request"}}]});
    assert_eq!(admin.post(&format!("/api/beneficiaries/{id}/events"), &erasure).await.status, 201);
    let history = admin.get(&format!("/api/beneficiaries/{id}/events")).await;
    assert!(!history.text.contains(CANARIES[0].0), "the identity still reads after its erasure: {}", history.text);
    assert!(!key_file.exists(), "the key outlived an erasure recorded through the log route");

    // A key back on disk, no mark of the erasure beside it: what an older crash or restore leaves.
    for leftover in key_files(&data, &id) {
        std::fs::remove_file(leftover).unwrap();
    }
    std::fs::write(&key_file, &key).unwrap();
    let history = admin.get(&format!("/api/beneficiaries/{id}/events")).await.body;
    assert_eq!(history["events"][0]["data"]["identity"], json!(null));
    assert_eq!(history["events"][0]["data"]["identity_erased"], json!(true));
    let state = admin.get(&format!("/api/beneficiaries/{id}")).await.body;
    assert_eq!((state["identity"].clone(), state["identity_erased"].clone()), (json!(null), json!(true)));

    let (bare, with_keys) = (dir.path().join("bare.jsonl"), dir.path().join("keys.jsonl"));
    let output = run(
        bin(),
        &["backup", "--server", &server.url, "--to", bare.to_str().unwrap(), "--token", parcours_tests::ADMIN_TOKEN],
    );
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert!(!dir.path().join("bare.jsonl.keys").exists(), "a backup holds no key unless asked");
    let output = run(
        bin(),
        &[
            "backup",
            "--server",
            &server.url,
            "--to",
            with_keys.to_str().unwrap(),
            "--token",
            parcours_tests::ADMIN_TOKEN,
            "--with-keys",
        ],
    );
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let saved = std::fs::read_to_string(dir.path().join("keys.jsonl.keys")).unwrap();
    assert!(saved.contains(&other), "the keys of the others are saved");
    assert!(!saved.contains(&id), "the key of an erased person is in a backup");

    assert!(server.terminate().success());
    let data_arg = data.to_str().unwrap();
    let retention = run(bin(), &["retention", "--inactive-for", "24months", "--data", data_arg]);
    let said = String::from_utf8_lossy(&retention.stdout);
    assert!(said.contains("destroyed 1 keys left behind"), "{said}");
    assert!(!key_file.exists(), "retention left the key of a recorded erasure on disk");

    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let keys = data.join("keys");
        std::fs::set_permissions(&keys, std::fs::Permissions::from_mode(0o755)).unwrap();
        let refused = run(bin(), &["serve", "--data", data_arg, "--addr", "127.0.0.1:0"]);
        let said = String::from_utf8_lossy(&refused.stderr);
        assert!(!refused.status.success(), "the server started on a key directory others can read");
        assert!(said.contains(&keys.display().to_string()), "the refusal names the directory: {said}");
    }
}
