//! Power loss: "a 2xx answer means durable", checked against a disk that forgets what was not
//! synced (`parcours-lazyfs`), where the SIGKILL test (`crash.rs`) cannot tell a store that
//! syncs from one that does not.
//!
//! Each round: `parcours serve` with its data on the lazy filesystem, 16 writers over HTTP
//! (registrations with an identity, appends of several events, erasures), a power cut at a random
//! moment (the server is killed, then everything not synced is forgotten), `parcours verify` on
//! what is left, a restart, and the checks: every acknowledged event at its acknowledged
//! position, positions gap-free, every acknowledged identity readable, every acknowledged erasure
//! still erased, its key file still gone. Rounds come from `PARCOURS_POWER_LOSS_ROUNDS` (default
//! 4); a store lives for [`ROUNDS_PER_STORE`] cuts, then a new one starts, so that a long run's
//! restarts stay quick.
//!
//! The control (`power_loss_control_…`) runs the same rounds on a build whose commit skips its
//! `fdatasync` (the test-only feature `power-loss-control`, built by the test into a target
//! directory of its own) and asserts that acknowledged events are lost: the test can fail.
//!
//! The store's durability point is its journal (`core/src/store/journal.rs`): a commit is answered
//! once its pages are in the journal and the journal is fdatasynced, and sled is synced only at
//! checkpoints. So after a cut, sled has lost the last commits and the journal brings them back
//! when the store opens: each round's `parcours verify` (the first opening after the cut) says so
//! in its log, and the test counts those rounds and asserts there were some, so that it is seen
//! to exercise the replay.
//!
//! Without FUSE both fail in CI (`CI=true`) and are skipped loudly elsewhere.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::{Duration, Instant};

use parcours_lazyfs::LazyFs;
use parcours_tests::{run, Client, Server};
use rand::Rng;
use serde_json::{json, Value};

use crate::{bin, days_ago};

const WRITERS: usize = 16;
const ROUNDS_PER_STORE: usize = 10;
/// The cut comes this long after the writers start, at random within the range.
const CUT_AFTER_MS: std::ops::Range<u64> = 50..900;

/// What the server acknowledged with a 2xx.
#[derive(Clone, Default)]
struct Acknowledged {
    /// (stream, version) → position.
    events: HashMap<(String, u64), u64>,
    /// stream → the first name of the identity its registration carried.
    identities: HashMap<String, String>,
    erased: HashSet<String>,
    /// Erasures asked for, acknowledged or not: one cut short may still have happened.
    erasures_asked: HashSet<String>,
}

type Shared = Arc<Mutex<Acknowledged>>;

fn lock(shared: &Shared) -> std::sync::MutexGuard<'_, Acknowledged> {
    shared.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Records the events of a 201 answer to an append of `count` events.
fn record_append(shared: &Shared, stream: &str, answer: &Value, count: u64) {
    let (Some(version), Some(position)) = (answer["version"].as_u64(), answer["position"].as_u64()) else {
        panic!("an append's answer without version or position: {answer}");
    };
    let mut acknowledged = lock(shared);
    for offset in 0..count {
        acknowledged.events.insert((stream.to_owned(), version - offset), position - offset);
    }
}

/// One writer: people registered with an identity, followed by a few appends, every third one
/// erased, until the server dies under it (a request cut short was never acknowledged).
async fn writer(client: Client, shared: Shared, writer: usize, round: usize) {
    let month = days_ago(40)[..7].to_owned();
    for person in 0.. {
        let first_name = format!("Coupure-{round}-{writer}-{person}");
        let registration = json!({"occurred_on": days_ago(90), "data": {"structure": "aci-agen", "gender": "female",
            "birth_year": 1980, "identity": {"first_name": first_name, "last_name": "Secteur"}}});
        let Ok(answer) = client.try_post("/api/beneficiaries", &registration).await else { return };
        assert_eq!(answer.status, 201, "a registration: {}", answer.text);
        let stream = answer.body["id"].as_str().expect("the new beneficiary's id").to_owned();
        record_append(&shared, &stream, &answer.body, 1);
        lock(&shared).identities.insert(stream.clone(), first_name);

        let hours = json!({"type": "hours_worked", "occurred_on": days_ago(1),
            "data": {"contract_id": "c1", "month": month, "hours": 7.5}});
        let batches = [
            vec![
                json!({"type": "referred", "occurred_on": days_ago(80), "data": {"structure": "aci-agen",
                    "prescriber": {"kind": "plie"}, "situation": "unemployed"}}),
                json!({"type": "contract_started", "occurred_on": days_ago(70),
                    "data": {"contract_id": "c1", "kind": "cddi", "weekly_hours": 24}}),
            ],
            vec![hours.clone(), hours.clone(), hours],
        ];
        for events in batches {
            let count = events.len() as u64;
            let path = format!("/api/beneficiaries/{stream}/events");
            let Ok(answer) = client.try_post(&path, &json!({"events": events})).await else { return };
            assert_eq!(answer.status, 201, "an append: {}", answer.text);
            record_append(&shared, &stream, &answer.body, count);
        }
        if person % 3 == 2 {
            lock(&shared).erasures_asked.insert(stream.clone());
            let path = format!("/api/beneficiaries/{stream}/erase");
            let Ok(answer) = client.try_post(&path, &json!({"reason": "request"})).await else { return };
            assert_eq!(answer.status, 201, "an erasure: {}", answer.text);
            lock(&shared).erased.insert(stream);
        }
    }
}

/// Where the key store keeps a stream's key (`core/src/store/keys.rs`).
fn key_file(data: &Path, stream: &str) -> PathBuf {
    let simple = stream.replace('-', "");
    data.join("keys").join(&simple[..2]).join(format!("{simple}.key"))
}

/// Everything acknowledged that the restarted server no longer gives back, one line each; and
/// how many events it holds.
async fn check(client: &Client, data: &Path, acknowledged: &Acknowledged) -> (Vec<String>, u64) {
    let mut problems = Vec::new();
    let mut stored: HashMap<(String, u64), u64> = HashMap::new();
    let mut after = 0u64;
    loop {
        let page = client.get(&format!("/api/events?after={after}&limit=10000")).await;
        assert_eq!(page.status, 200, "the log: {}", page.text);
        let events = page.body["events"].as_array().expect("a page of events").clone();
        if events.is_empty() {
            break;
        }
        for event in &events {
            let position = event["position"].as_u64().expect("a position");
            if position != after + 1 {
                problems.push(format!("gap in the log: position {position} after {after}"));
            }
            after = position;
            let stream = event["beneficiary"].as_str().expect("a beneficiary").to_owned();
            stored.insert((stream, event["version"].as_u64().expect("a version")), position);
        }
    }
    for ((stream, version), position) in &acknowledged.events {
        match stored.get(&(stream.clone(), *version)) {
            Some(found) if found == position => {}
            found => problems
                .push(format!("event {version} of {stream}, acknowledged at position {position}, is at {found:?}")),
        }
    }
    for (stream, first_name) in &acknowledged.identities {
        if acknowledged.erased.contains(stream) {
            continue;
        }
        let history = client.get(&format!("/api/beneficiaries/{stream}/events")).await;
        let registered = &history.body["events"][0]["data"];
        let read = registered["identity"]["first_name"].as_str();
        let erased_unacknowledged =
            acknowledged.erasures_asked.contains(stream) && registered["identity_erased"] == json!(true);
        if read != Some(first_name.as_str()) && !erased_unacknowledged {
            problems.push(format!("the identity of {stream} reads {read:?} ({}), not {first_name}", history.status));
        }
    }
    for stream in &acknowledged.erased {
        let history = client.get(&format!("/api/beneficiaries/{stream}/events")).await;
        let registered = &history.body["events"][0]["data"];
        if history.status != 200 || registered["identity_erased"] != json!(true) || !registered["identity"].is_null() {
            problems.push(format!("the erasure of {stream} is undone: {registered}"));
        }
        if key_file(data, stream).exists() {
            problems.push(format!("the destroyed key of {stream} came back"));
        }
    }
    (problems, after)
}

/// What a run of rounds found.
struct Outcome {
    rounds: usize,
    acknowledged: u64,
    /// Each acknowledged write found missing, once (a later restart finds it missing again).
    lost: BTreeSet<String>,
    /// Runs of `parcours verify` that failed, after a cut.
    verify_failures: Vec<String>,
    stored: u64,
    /// Cuts after which the opening put acknowledged events back into sled from the journal.
    replayed: usize,
}

/// Starts a server on `data`; a store that does not open is a finding, not a test failure.
fn start(server: &Path, data: &Path, lost: &mut BTreeSet<String>) -> Option<Server> {
    match Server::try_start(server, data, &[]) {
        Ok(server) => Some(server),
        Err(error) => {
            lost.insert(format!("the store did not open after a power cut: {error}"));
            None
        }
    }
}

/// `rounds` power cuts under load, a new store every [`ROUNDS_PER_STORE`]; `None` without FUSE
/// outside CI. The control (`control`) stops after the first store that lost something.
async fn power_loss_rounds(test: &str, server: &Path, rounds: usize, control: bool) -> Option<Outcome> {
    let mut outcome = Outcome {
        rounds: 0,
        acknowledged: 0,
        lost: BTreeSet::new(),
        verify_failures: Vec::new(),
        stored: 0,
        replayed: 0,
    };
    let mut rng = rand::thread_rng();
    while outcome.rounds < rounds {
        let mut lazy = LazyFs::for_test(test)?;
        let data = lazy.mountpoint().join("data");
        let shared: Shared = Arc::default();
        let in_this_store = ROUNDS_PER_STORE.min(rounds - outcome.rounds);
        for round in 0..=in_this_store {
            let Some(running) = start(server, &data, &mut outcome.lost) else { break };
            let client = running.admin();
            // A copy: no lock is held across the checks' requests.
            let acknowledged = lock(&shared).clone();
            let (problems, stored) = check(&client, &data, &acknowledged).await;
            outcome.lost.extend(problems);
            outcome.stored += stored;
            if round == in_this_store {
                // The last start only checks what the last cut left.
                drop(running);
                break;
            }
            let tasks: Vec<_> =
                (0..WRITERS).map(|w| tokio::spawn(writer(client.clone(), shared.clone(), w, outcome.rounds))).collect();
            tokio::time::sleep(Duration::from_millis(rng.gen_range(CUT_AFTER_MS))).await;
            running.kill9();
            for task in tasks {
                task.await.expect("a writer task");
            }
            lazy.power_cut().expect("the power cut");
            outcome.rounds += 1;
            let verify = run(server, &["verify", "--data", data.to_str().expect("a UTF-8 path")]);
            // `writer::recover`'s warning: the journal held commits sled had lost.
            if String::from_utf8_lossy(&verify.stderr).contains("replayed the journal") {
                outcome.replayed += 1;
            }
            if !verify.status.success() {
                outcome.verify_failures.push(format!(
                    "round {}: {}{}",
                    outcome.rounds,
                    String::from_utf8_lossy(&verify.stdout),
                    String::from_utf8_lossy(&verify.stderr)
                ));
            }
        }
        let acknowledged = lock(&shared);
        outcome.acknowledged += (acknowledged.events.len() + acknowledged.erased.len()) as u64;
        if control && !outcome.lost.is_empty() {
            break;
        }
    }
    Some(outcome)
}

/// Set while the control runs, so that the main test's figure can be the run's last line.
static CONTROL_RUNNING: AtomicBool = AtomicBool::new(false);
static CONTROL_DONE: (Mutex<bool>, Condvar) = (Mutex::new(false), Condvar::new());

#[tokio::test(flavor = "multi_thread")]
async fn power_loss_acknowledged_writes_survive_a_power_cut() {
    let rounds = std::env::var("PARCOURS_POWER_LOSS_ROUNDS").ok().and_then(|n| n.parse().ok()).unwrap_or(4);
    let started = Instant::now();
    let Some(outcome) =
        power_loss_rounds("power_loss_acknowledged_writes_survive_a_power_cut", bin(), rounds, false).await
    else {
        return;
    };
    assert!(outcome.acknowledged > 0, "the writers got acknowledgements");
    assert!(
        outcome.verify_failures.is_empty(),
        "parcours verify failed after a power cut:\n{}",
        outcome.verify_failures.join("\n")
    );
    let shown: Vec<&String> = outcome.lost.iter().take(20).collect();
    assert!(outcome.lost.is_empty(), "{} acknowledged writes lost, first ones: {shown:#?}", outcome.lost.len());
    assert!(outcome.replayed > 0, "no cut left commits to replay from the journal: the test did not exercise it");
    let elapsed = started.elapsed();
    if CONTROL_RUNNING.load(Ordering::Acquire) {
        let (done, finished) = &CONTROL_DONE;
        let mut done = done.lock().unwrap_or_else(PoisonError::into_inner);
        while !*done {
            done = finished.wait(done).unwrap_or_else(PoisonError::into_inner);
        }
    }
    println!(
        "power loss: {:.1} s, {} events read back over the restarts, verify passed after every cut",
        elapsed.as_secs_f64(),
        outcome.stored
    );
    println!(
        "power loss: {} rounds, {} acknowledged, {} lost, the journal replayed after {} cuts",
        outcome.rounds,
        outcome.acknowledged,
        outcome.lost.len(),
        outcome.replayed
    );
}

/// Tells a waiting main test that the control is over, however it ends.
struct ControlDone;

impl Drop for ControlDone {
    fn drop(&mut self) {
        let (done, finished) = &CONTROL_DONE;
        *done.lock().unwrap_or_else(PoisonError::into_inner) = true;
        finished.notify_all();
    }
}

/// The server built with the test-only `power-loss-control` feature, in a target directory of its
/// own (beside the test's, so that `cargo clean` removes it); dependencies unoptimised, since only
/// what the commit syncs matters here, and they build faster so.
fn control_server() -> PathBuf {
    let target = bin().parent().and_then(Path::parent).expect("the target directory").join("power-loss-control");
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("the workspace");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let started = Instant::now();
    let status = Command::new(cargo)
        .current_dir(workspace)
        .args(["build", "--quiet", "-p", "parcours-server", "--bin", "parcours", "--features", "power-loss-control"])
        .args(["--config", "profile.dev.package.\"*\".opt-level=0", "--target-dir"])
        .arg(&target)
        .status()
        .expect("cargo runs");
    assert!(status.success(), "the control build failed");
    println!("power loss control: built in {:.0} s", started.elapsed().as_secs_f64());
    target.join("debug").join("parcours")
}

#[tokio::test(flavor = "multi_thread")]
async fn power_loss_control_without_fdatasync_loses_acknowledged_writes() {
    CONTROL_RUNNING.store(true, Ordering::Release);
    let _done = ControlDone;
    let test = "power_loss_control_without_fdatasync_loses_acknowledged_writes";
    // Checked before the build: without FUSE there is nothing to build for.
    if LazyFs::for_test(test).is_none() {
        return;
    }
    let server = control_server();
    let Some(outcome) = power_loss_rounds(test, &server, 3, true).await else { return };
    assert!(outcome.acknowledged > 0, "the writers got acknowledgements");
    println!(
        "power loss control: {} rounds, {} acknowledged, {} lost, verify failed after {} cuts; first: {:?}",
        outcome.rounds,
        outcome.acknowledged,
        outcome.lost.len(),
        outcome.verify_failures.len(),
        outcome.lost.first()
    );
    assert!(
        !outcome.lost.is_empty(),
        "without its fdatasync the store must lose acknowledged writes at a power cut, or the test proves nothing"
    );
}
