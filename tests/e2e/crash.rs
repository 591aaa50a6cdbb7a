//! Crash safety: many concurrent writers, SIGKILL mid-load, restart; every acknowledged event must
//! be there at its acknowledged position, positions gap-free, and the chain must verify.
//!
//! `PARCOURS_CRASH_ROUNDS` sets the number of kills (default 3 in the suite; the long run in
//! BENCHMARKS.md used 200).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use parcours_tests::{run, Client, Server};
use serde_json::{json, Value};

use crate::{bin, days_ago};

const WRITERS: usize = 16;

/// What the server acknowledged: event id → (beneficiary, position).
type Acknowledged = Arc<Mutex<HashMap<String, (String, u64)>>>;

async fn writer(client: Client, acknowledged: Acknowledged, writer: usize, round: usize, stop: Instant) {
    let beneficiary = format!("0193c9a2-{round:04x}-7000-8000-{writer:012x}");
    let mut sequence = 0u64;
    let mut next_event = |event: Value| {
        sequence += 1;
        let id = format!("0193c9a3-{round:04x}-7{writer:03x}-8000-{sequence:012x}");
        let mut event = event;
        event["id"] = json!(id);
        (id, event)
    };
    let start = vec![
        json!({"type": "registered", "occurred_on": days_ago(90), "data": {"structure": "aci-agen", "gender": "female", "birth_year": 1980}}),
        json!({"type": "referred", "occurred_on": days_ago(80), "data": {"structure": "aci-agen", "prescriber": {"kind": "plie"}, "situation": "unemployed"}}),
        json!({"type": "contract_started", "occurred_on": days_ago(70), "data": {"contract_id": "c1", "kind": "cddi", "weekly_hours": 24}}),
    ];
    let month = days_ago(40)[..7].to_owned();
    let mut pending: Vec<Value> = start;
    while Instant::now() < stop {
        let events: Vec<Value> = if pending.is_empty() {
            vec![
                json!({"type": "hours_worked", "occurred_on": days_ago(1), "data": {"contract_id": "c1", "month": month, "hours": 7.5}}),
            ]
        } else {
            std::mem::take(&mut pending)
        };
        let identified: Vec<(String, Value)> = events.into_iter().map(&mut next_event).collect();
        let body = json!({"events": identified.iter().map(|(_, e)| e.clone()).collect::<Vec<_>>()});
        match client.try_post(&format!("/api/beneficiaries/{beneficiary}/events"), &body).await {
            Ok(answer) if answer.status == 201 => {
                let last = answer.body["position"].as_u64().expect("a position");
                let count = identified.len() as u64;
                let mut acknowledged = acknowledged.lock().unwrap();
                for (offset, (id, _)) in identified.into_iter().enumerate() {
                    acknowledged.insert(id, (beneficiary.clone(), last + 1 - count + offset as u64));
                }
            }
            Ok(answer) => panic!("unexpected answer {}: {}", answer.status, answer.text),
            Err(_) => return, // the server died under us: that request was never acknowledged
        }
    }
}

async fn check_after_restart(client: &Client, acknowledged: &HashMap<String, (String, u64)>) -> u64 {
    let mut positions = Vec::new();
    let mut after = 0;
    loop {
        let page = client.get(&format!("/api/events?after={after}&limit=10000")).await;
        let events = page.body["events"].as_array().expect("a page of events").clone();
        if events.is_empty() {
            break;
        }
        for event in &events {
            positions.push((event["position"].as_u64().unwrap(), event["id"].as_str().unwrap().to_owned()));
        }
        after = positions.last().unwrap().0;
    }
    for (index, (position, _)) in positions.iter().enumerate() {
        assert_eq!(*position, index as u64 + 1, "positions are gap-free");
    }
    let by_id: HashMap<&str, u64> = positions.iter().map(|(p, id)| (id.as_str(), *p)).collect();
    for (id, (_, position)) in acknowledged {
        assert_eq!(by_id.get(id.as_str()), Some(position), "acknowledged event {id} lost or moved");
    }
    positions.len() as u64
}

pub async fn crash_rounds(rounds: usize) -> (u64, u64) {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let acknowledged: Acknowledged = Arc::default();
    let mut total = 0;
    for round in 0..rounds {
        let server = Server::start(bin(), &data, &[]);
        let client = server.admin();
        let so_far = acknowledged.lock().unwrap().clone();
        total = check_after_restart(&client, &so_far).await;
        // Kill at a moment that varies from round to round, mid-load.
        let load = Duration::from_millis(150 + (round as u64 * 37) % 400);
        let stop = Instant::now() + load + Duration::from_secs(5);
        let tasks: Vec<_> =
            (0..WRITERS).map(|w| tokio::spawn(writer(client.clone(), acknowledged.clone(), w, round, stop))).collect();
        tokio::time::sleep(load).await;
        server.kill9();
        for task in tasks {
            task.await.expect("a writer task");
        }
    }
    let server = Server::start(bin(), &data, &[]);
    let client = server.admin();
    let acknowledged = acknowledged.lock().unwrap().clone();
    total = total.max(check_after_restart(&client, &acknowledged).await);
    assert!(server.terminate().success());
    let verify = run(bin(), &["verify", "--data", data.to_str().unwrap()]);
    assert!(verify.status.success(), "verify after {rounds} kills: {}", String::from_utf8_lossy(&verify.stdout));
    (acknowledged.len() as u64, total)
}

#[tokio::test(flavor = "multi_thread")]
async fn acknowledged_events_survive_sigkill_mid_load() {
    let rounds = std::env::var("PARCOURS_CRASH_ROUNDS").ok().and_then(|n| n.parse().ok()).unwrap_or(3);
    let started = Instant::now();
    let (acknowledged, stored) = crash_rounds(rounds).await;
    assert!(acknowledged > 0, "the writers got acknowledgements");
    assert!(stored >= acknowledged);
    println!(
        "crash test: {rounds} SIGKILLs, {acknowledged} acknowledged events all present, {stored} stored, chain intact, {:.1} s",
        started.elapsed().as_secs_f64()
    );
}
