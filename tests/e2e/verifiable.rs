//! Verifiable histories: one beneficiary's history exported for an auditor and checked offline;
//! every kind of tampering is detected and named.

use parcours_tests::{run, Server};
use serde_json::{json, Value};

use crate::{bin, days_ago};

fn verify(file: &std::path::Path, extra: &[&str]) -> (bool, String) {
    let mut args = vec!["verify-export", file.to_str().unwrap()];
    args.extend_from_slice(extra);
    let output = run(bin(), &args);
    (output.status.success(), String::from_utf8_lossy(&output.stdout).into_owned())
}

#[tokio::test(flavor = "multi_thread")]
async fn an_exported_history_verifies_offline_and_each_tampering_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let server = Server::start(bin(), &data, &[]);
    let admin = server.admin();
    let created = admin
        .post(
            "/api/beneficiaries",
            &json!({"occurred_on": days_ago(40), "data": {"structure": "aci-agen", "gender": "female",
            "birth_year": 1975, "identity": {"first_name": "Odile", "last_name": "Verdier"}}}),
        )
        .await;
    let id = created.body["id"].as_str().unwrap().to_owned();
    let steps = json!({"events": [
        {"type": "referred", "occurred_on": days_ago(39), "data": {"structure": "aci-agen", "prescriber": {"kind": "ccas"}, "situation": "inactive"}},
        {"type": "contract_started", "occurred_on": days_ago(30), "data": {"contract_id": "c1", "kind": "cddi", "weekly_hours": 20}},
        {"type": "follow_up_held", "occurred_on": days_ago(20), "data": {"kind": "individual"}},
        {"type": "exited", "occurred_on": days_ago(2), "data": {"destination": "cdi"}}
    ]});
    assert_eq!(admin.post(&format!("/api/beneficiaries/{id}/events"), &steps).await.status, 201);
    let exported = admin.get(&format!("/api/beneficiaries/{id}/export")).await;
    assert_eq!(exported.status, 200, "{}", exported.text);
    assert_eq!(exported.body["events"].as_array().unwrap().len(), 5);
    assert!(!exported.text.contains("Odile"), "the identity travels sealed");
    let key = exported.body["public_key"].as_str().unwrap().to_owned();

    let file = dir.path().join("history.json");
    let write = |value: &Value| std::fs::write(&file, serde_json::to_vec_pretty(value).unwrap()).unwrap();
    write(&exported.body);
    let (ok, said) = verify(&file, &["--public-key", &key]);
    assert!(ok, "{said}");
    assert!(said.contains("intact: 5 events"), "{said}");

    #[allow(clippy::type_complexity)] // cases as a table: what is tampered, how, what verify says
    let cases: Vec<(&str, Box<dyn Fn(&mut Value)>, &str)> = vec![
        ("a changed date", Box::new(|h| h["events"][2]["occurred_on"] = json!(days_ago(31))), "version 3"),
        ("a changed hour count", Box::new(|h| h["events"][2]["data"]["weekly_hours"] = json!(35)), "version 3"),
        ("a removed event", Box::new(|h| drop(h["events"].as_array_mut().unwrap().remove(1))), "version 2 is missing"),
        ("reordered events", Box::new(|h| h["events"].as_array_mut().unwrap().swap(2, 3)), "out of order"),
        ("a removed last event", Box::new(|h| drop(h["events"].as_array_mut().unwrap().pop())), "removed"),
        ("a changed export date", Box::new(|h| h["exported_at"] = json!("2020-01-01T00:00:00.000Z")), "signature"),
    ];
    for (what, tamper, named) in cases {
        let mut history = exported.body.clone();
        tamper(&mut history);
        write(&history);
        let (ok, said) = verify(&file, &[]);
        assert!(!ok, "{what} went unnoticed: {said}");
        assert!(said.contains(named), "{what}: {said}");
    }
    // A changed byte anywhere in the file.
    let text = serde_json::to_string(&exported.body).unwrap();
    for at in (0..text.len()).step_by(97) {
        let mut bytes = text.clone().into_bytes();
        bytes[at] = if bytes[at] == b'0' { b'1' } else { b'0' };
        std::fs::write(&file, &bytes).unwrap();
        let (ok, said) = verify(&file, &[]);
        assert!(!ok, "a changed byte at {at} went unnoticed: {said}");
    }
    // Without a key to check the signature against, the chain is intact but its signer unknown:
    // anyone can re-sign a forged history with a key of their own.
    write(&exported.body);
    let unpinned = run(bin(), &["verify-export", file.to_str().unwrap()]);
    let said = String::from_utf8_lossy(&unpinned.stdout);
    assert_eq!(unpinned.status.code(), Some(3), "an unverified signer is not a success: {said}");
    assert!(said.contains("chain intact, signer not verified"), "{said}");
    // Another server's key is not this one's.
    write(&exported.body);
    let (ok, said) = verify(&file, &["--public-key", &"ab".repeat(32)]);
    assert!(!ok && said.contains("not by the expected key"), "{said}");

    // From the command line, and against the store itself once the server is stopped.
    assert!(server.terminate().success());
    let history = run(bin(), &["history", &id, "--verifiable", "--data", data.to_str().unwrap()]);
    assert!(history.status.success());
    std::fs::write(&file, &history.stdout).unwrap();
    let (ok, said) = verify(&file, &["--public-key", &key, "--data", data.to_str().unwrap()]);
    assert!(ok && said.contains("the store holds these very events"), "{said}");
    // The store's own key, fetched from it, is a key given.
    let (ok, said) = verify(&file, &["--data", data.to_str().unwrap()]);
    assert!(ok && said.contains("the store holds these very events"), "{said}");
}
