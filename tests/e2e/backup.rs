//! Backup while serving: `parcours backup` saves a consistent cut of the log under concurrent
//! writes; `parcours import` restores it with the same positions, ids and chain head, and the
//! restored store gives the same figures.

use std::time::{Duration, Instant};

use parcours_tests::{run, Client, Server, ADMIN_TOKEN};
use serde_json::{json, Value};

use crate::{bin, days_ago};

async fn write_for(client: Client, until: Instant, writer: usize) -> usize {
    let mut written = 0;
    while Instant::now() < until {
        let created = client
            .post(
                "/api/beneficiaries",
                &json!({"occurred_on": days_ago(60), "data": {"structure": "aci-agen",
                "gender": if writer % 2 == 0 { "female" } else { "male" }, "birth_year": 1970 + writer as u16,
                "identity": {"first_name": format!("Écrivain {writer}")}}}),
            )
            .await;
        let id = created.body["id"].as_str().unwrap().to_owned();
        let steps = json!({"events": [
            {"type": "referred", "occurred_on": days_ago(50), "data": {"structure": "aci-agen", "prescriber": {"kind": "plie"}, "situation": "unemployed"}},
            {"type": "exited", "occurred_on": days_ago(5), "data": {"destination": if written % 3 == 0 { "cdi" } else { "job_seeking" }}}
        ]});
        assert_eq!(client.post(&format!("/api/beneficiaries/{id}/events"), &steps).await.status, 201);
        written += 3;
    }
    written
}

fn backup(server: &Server, to: &std::path::Path) -> String {
    let output = run(
        bin(),
        &["backup", "--server", &server.url, "--to", to.to_str().unwrap(), "--token", ADMIN_TOKEN, "--with-keys"],
    );
    let said = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(output.status.success(), "backup failed: {said}{}", String::from_utf8_lossy(&output.stderr));
    said
}

fn restore(file: &std::path::Path, into: &std::path::Path, keys: bool) -> String {
    let keys_file = format!("{}.keys", file.display());
    let mut args = vec!["import", file.to_str().unwrap(), "--data", into.to_str().unwrap()];
    if keys {
        args.extend(["--keys", &keys_file]);
    }
    let output = run(bin(), &args);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_backup_under_writes_restores_to_the_same_chain_and_figures() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(bin(), &dir.path().join("data"), &[]);
    let admin = server.admin();
    let until = Instant::now() + Duration::from_secs(3);
    let writers: Vec<_> = (0..4).map(|writer| tokio::spawn(write_for(admin.clone(), until, writer))).collect();
    tokio::time::sleep(Duration::from_millis(800)).await;

    // A backup in the middle of the writes.
    let during = dir.path().join("during.jsonl");
    let said = {
        let server_url = server.url.clone();
        let during = during.clone();
        tokio::task::spawn_blocking(move || {
            let output = run(
                bin(),
                &["backup", "--server", &server_url, "--to", during.to_str().unwrap(), "--token", ADMIN_TOKEN],
            );
            assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
            String::from_utf8_lossy(&output.stdout).into_owned()
        })
        .await
        .unwrap()
    };
    let mut written = 0;
    for writer in writers {
        written += writer.await.unwrap();
    }
    let saved: usize = said.split_whitespace().nth(1).unwrap().parse().unwrap();
    assert!(saved > 0 && saved < written, "the backup is a cut of a log still growing: {saved} of {written}");
    let head = said.lines().next().unwrap().rsplit(' ').next().unwrap().trim().to_owned();

    // Restored, it has the same chain head, and its events are byte for byte the first ones of the log.
    let restored = dir.path().join("restored");
    let imported = restore(&during, &restored, false);
    assert!(imported.contains(&format!("imported {saved} events; chain head {head}")), "{imported}");
    let verified = run(bin(), &["verify", "--data", restored.to_str().unwrap()]);
    assert!(verified.status.success(), "{}", String::from_utf8_lossy(&verified.stdout));
    let after = dir.path().join("after.jsonl");
    backup(&server, &after);
    let later = std::fs::read_to_string(&after).unwrap();
    let earlier = std::fs::read_to_string(&during).unwrap();
    assert!(later.starts_with(&earlier), "the earlier backup is a prefix of the later one");

    // The same figures from the restored store as from the server.
    let restored_all = dir.path().join("restored-all");
    assert!(restore(&after, &restored_all, true).contains("restored"), "the keys come back with the log");
    // Identities open again in the restored store; without the keys they would stay sealed.
    let first: Value = serde_json::from_str(later.lines().next().unwrap()).unwrap();
    let person = first["beneficiary"].as_str().unwrap();
    let history = run(bin(), &["history", person, "--data", restored_all.to_str().unwrap()]);
    let history: Value = serde_json::from_slice(&history.stdout).expect("history prints JSON");
    assert!(history["events"][0]["data"]["identity"]["first_name"].as_str().unwrap().starts_with("Écrivain"));
    let (from, to) = (days_ago(365), days_ago(0));
    let served = admin.get(&format!("/api/stats/outcomes?from={from}&to={to}&by=gender")).await.body;
    let output = run(
        bin(),
        &[
            "stats",
            "outcomes",
            "--from",
            &from,
            "--to",
            &to,
            "--by",
            "gender",
            "--data",
            restored_all.to_str().unwrap(),
        ],
    );
    let recomputed: Value = serde_json::from_slice(&output.stdout).expect("stats print JSON");
    assert_eq!(recomputed, served);
    assert_eq!(served["exits"].as_u64().unwrap() as usize, written / 3);
}
