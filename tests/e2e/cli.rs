//! The command line (CONTRACT §6): history, export and import, verify, and the clear refusal when
//! a server holds the store.

use parcours_tests::{run, Client, Server};
use serde_json::{json, Value};

use crate::{bin, days_ago};

async fn fill(client: &Client) -> String {
    let created = client
        .post(
            "/api/beneficiaries",
            &json!({"occurred_on": days_ago(30), "data": {"structure": "aci-agen", "gender": "male", "birth_year": 1999,
                "identity": {"first_name": "Karim"}}}),
        )
        .await;
    let id = created.body["id"].as_str().unwrap().to_owned();
    let referral = json!({"events": [{"type": "referred", "occurred_on": days_ago(29), "data": {"structure": "aci-agen",
        "prescriber": {"kind": "mission_locale"}, "situation": "unemployed"}}]});
    assert_eq!(client.post(&format!("/api/beneficiaries/{id}/events"), &referral).await.status, 201);
    id
}

#[tokio::test(flavor = "multi_thread")]
async fn history_export_import_and_verify_work_on_a_stopped_store() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let server = Server::start(bin(), &data, &[]);
    let client = server.admin();
    let id = fill(&client).await;
    fill(&client).await;

    // While the server runs, a command that opens the store says why it cannot.
    let refused = server.command(&["verify", "--data", data.to_str().unwrap()]);
    assert!(!refused.status.success());
    let message = String::from_utf8_lossy(&refused.stderr);
    assert!(message.contains("in use by another process"), "{message}");
    assert!(server.terminate().success());

    let data = data.to_str().unwrap();
    let history = run(bin(), &["history", &id, "--data", data]);
    assert!(history.status.success());
    let history: Value = serde_json::from_slice(&history.stdout).unwrap();
    assert_eq!(history["version"], 2);
    assert_eq!(history["events"][0]["data"]["identity"]["first_name"], "Karim");

    let export = run(bin(), &["export", "--data", data]);
    assert!(export.status.success());
    let text = String::from_utf8(export.stdout).unwrap();
    assert_eq!(text.lines().count(), 4);
    assert!(!text.contains("Karim"), "the export carries personal data sealed, never in clear");
    let file = dir.path().join("log.jsonl");
    std::fs::write(&file, &text).unwrap();

    let copy = dir.path().join("copy");
    let imported = run(bin(), &["import", file.to_str().unwrap(), "--data", copy.to_str().unwrap()]);
    assert!(imported.status.success(), "{}", String::from_utf8_lossy(&imported.stderr));
    let original = run(bin(), &["verify", "--data", data]);
    let restored = run(bin(), &["verify", "--data", copy.to_str().unwrap()]);
    assert!(original.status.success() && restored.status.success());
    let head = |output: &std::process::Output| {
        let said = String::from_utf8_lossy(&output.stdout).into_owned();
        said.split("chain head ").nth(1).and_then(|rest| rest.lines().next()).map(str::to_owned)
    };
    assert_eq!(head(&original), head(&restored), "same chain head after import");
    let again = run(bin(), &["export", "--data", copy.to_str().unwrap()]);
    assert_eq!(String::from_utf8(again.stdout).unwrap(), text, "export → import → export is the identity");

    // Importing into a store that is not empty is refused.
    let twice = run(bin(), &["import", file.to_str().unwrap(), "--data", copy.to_str().unwrap()]);
    assert!(!twice.status.success());
    assert!(String::from_utf8_lossy(&twice.stderr).contains("not empty"));

    // A tampered export is refused at the position where it breaks.
    let tampered = text.replacen("\"mission_locale\"", "\"france_travail\"", 1);
    std::fs::write(&file, tampered).unwrap();
    let elsewhere = dir.path().join("elsewhere");
    let refused = run(bin(), &["import", file.to_str().unwrap(), "--data", elsewhere.to_str().unwrap()]);
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("position 3"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
}

#[test]
fn history_of_an_unknown_beneficiary_and_bad_ids_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap();
    let unknown = run(bin(), &["history", "0193c9a2-0000-7000-8000-000000000404", "--data", data]);
    assert!(!unknown.status.success());
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("no beneficiary"));
    let bad = run(bin(), &["history", "Karim", "--data", data]);
    assert!(String::from_utf8_lossy(&bad.stderr).contains("not a beneficiary id"));
}

/// `serve --demo` prints an admin token at every start: on a store that is not the demo's it
/// would hand out the keys of real people's data. It refuses, and serves nothing.
#[tokio::test(flavor = "multi_thread")]
async fn serve_demo_refuses_a_store_that_is_not_the_demo() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let server = Server::start(bin(), &data, &[]);
    fill(&server.admin()).await;
    assert!(server.terminate().success());
    let mut demo = std::process::Command::new(bin())
        .args(["serve", "--demo", "--addr", "127.0.0.1:0", "--data", data.to_str().unwrap()])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    while demo.try_wait().unwrap().is_none() && started.elapsed() < std::time::Duration::from_secs(20) {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    if demo.try_wait().unwrap().is_none() {
        demo.kill().unwrap();
        panic!("serve --demo started on a store that is not the demo's");
    }
    let output = demo.wait_with_output().unwrap();
    let (said, printed) = (String::from_utf8_lossy(&output.stderr), String::from_utf8_lossy(&output.stdout));
    assert!(!output.status.success(), "serve --demo accepted a store that is not the demo's: {printed}");
    assert!(said.contains("not the demo"), "{said}");
    assert!(!printed.contains("prc_"), "a token was printed: {printed}");
}
