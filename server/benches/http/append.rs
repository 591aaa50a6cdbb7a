//! Durable appends through HTTP (issue 4 item 6: ≥ 20,000/s at 64 connections), against the
//! store's own durable appends with as many writer threads in process, on the same people.

use std::path::Path;
use std::sync::Barrier;
use std::time::{Duration, Instant};

use parcours_core::store::{Author, Store, StoreOptions, WriteScope};
use parcours_core::vocabulary::{Actor, Date, NewEvent, Slug, Step, StepKind, StreamId};
use parcours_server::app::streams::registration;
use parcours_tests::Server;
use serde_json::json;

use crate::common::{self, log, Requests, Result, WrkRun};
use crate::stats::{median, percentile_ms, rate};
use crate::{bin, Args};

/// Appends per second through HTTP that issue 4 asks for.
const TARGET: f64 = 20_000.0;

#[derive(Clone, Copy)]
struct HttpRun {
    wrk: WrkRun,
    /// Events the log gained during the load, checked against wrk's answers.
    appended: u64,
    /// The server's CPU time per answered append (user + system), in microseconds.
    cpu_us: f64,
}

#[derive(Clone, Copy)]
struct StoreRun {
    per_second: f64,
    p50_ms: f64,
    p99_ms: f64,
}

/// What a run measures, in an order that rotates from run to run so that none always gets the
/// calmer moment.
#[derive(Clone, Copy)]
enum Phase {
    Http,
    Store,
    /// `--versus`: the same HTTP load on another build of `parcours`, for A/B of a change.
    Versus,
}

pub fn run(args: &Args, runtime: &tokio::runtime::Runtime) -> Result<()> {
    let mut http = Vec::new();
    let mut store = Vec::new();
    let mut versus = Vec::new();
    let mut phases = vec![Phase::Http, Phase::Store];
    if args.versus.is_some() {
        phases.push(Phase::Versus);
    }
    for run in 0..args.runs {
        let mut order = phases.clone();
        order.rotate_left(run % phases.len());
        for phase in order {
            common::settle(4.0, Duration::from_secs(20));
            match phase {
                Phase::Http | Phase::Versus => {
                    let (binary, name) = match (phase, &args.versus) {
                        (Phase::Versus, Some(other)) => (other.as_path(), "versus"),
                        _ => (bin(), "HTTP"),
                    };
                    let result = over_http(args, runtime, binary)?;
                    log(
                        "append",
                        format!(
                            "run {}: {name} {} (p50 {:.2} ms, p99 {:.2} ms, {:.0} µs CPU each), load {}",
                            run + 1,
                            rate(result.wrk.per_second()),
                            result.wrk.p50_ms,
                            result.wrk.p99_ms,
                            result.cpu_us,
                            common::load_average()
                        ),
                    );
                    if matches!(phase, Phase::Versus) {
                        versus.push(result)
                    } else {
                        http.push(result)
                    }
                }
                Phase::Store => {
                    let result = in_process(args)?;
                    log(
                        "append",
                        format!(
                            "run {}: store {} (p50 {:.2} ms, p99 {:.2} ms), load {}",
                            run + 1,
                            rate(result.per_second),
                            result.p50_ms,
                            result.p99_ms,
                            common::load_average()
                        ),
                    );
                    store.push(result);
                }
            }
        }
    }
    report(args, &http, &store);
    if let Some(other) = &args.versus {
        report_versus(other, &http, &versus);
    }
    Ok(())
}

/// One run through `parcours serve`: a fresh store, the people registered and referred through
/// the API, then wrk appends one follow-up per request with a coordinator's token.
fn over_http(args: &Args, runtime: &tokio::runtime::Runtime, binary: &Path) -> Result<HttpRun> {
    let dir = args.scratch("http-append")?;
    let data = dir.path().join("data");
    let token = common::coordinator_token(binary, &data)?;
    let server = Server::start(binary, &data, &[]);
    let admin = server.admin();
    let ids = runtime.block_on(common::people(&admin, args.people, 0, args.connections))?;
    let before = runtime.block_on(last_position(&admin))?;
    let cpu_before = common::cpu_time(server.pid())?;
    let body = common::follow_up_body().to_string();
    let requests = Requests::PostEach { ids: &ids, before: "/api/beneficiaries/", after: "/events", body: &body };
    let wrk = common::wrk(
        &server.url,
        &requests,
        Some(&token),
        args.connections,
        args.wrk_threads,
        args.duration,
        dir.path(),
    )?;
    let cpu = common::cpu_time(server.pid())?.saturating_sub(cpu_before);
    let after = runtime.block_on(last_position(&admin))?;
    server.terminate();
    if wrk.status_errors > 0 || wrk.socket_errors > 0 {
        return Err(format!("{} refused appends and {} socket errors", wrk.status_errors, wrk.socket_errors).into());
    }
    let appended = after - before;
    // wrk stops with requests in flight: the log may hold up to one more per connection.
    if appended < wrk.requests || appended > wrk.requests + args.connections as u64 {
        return Err(format!("wrk counted {} answered appends, the log gained {appended}", wrk.requests).into());
    }
    Ok(HttpRun { wrk, appended, cpu_us: cpu.as_secs_f64() * 1e6 / wrk.requests as f64 })
}

async fn last_position(client: &parcours_tests::Client) -> Result<u64> {
    let answer = client.get("/healthz").await;
    answer.body["last_position"].as_u64().ok_or_else(|| format!("healthz: {}", answer.text).into())
}

/// The baseline: the same people and the same follow-ups, appended with `Store::append` by as many
/// threads as HTTP has connections, each waiting for its append to be durable before the next, as
/// a connection waits for its answer. Same author scope as the coordinator's token, so the writer
/// does the same checks.
fn in_process(args: &Args) -> Result<StoreRun> {
    let dir = args.scratch("store-append")?;
    let store = Store::open(dir.path(), StoreOptions::default())?;
    let author =
        Author { actor: Actor("tok_bench".into()), scope: WriteScope::Structures(vec![Slug::new(common::STRUCTURE)?]) };
    let writers = args.connections;
    let follow_up = NewEvent {
        id: None,
        occurred_on: common::FOLLOW_UP_ON.parse::<Date>()?,
        step: Step::deserialize_data(StepKind::FollowUpHeld, json!({"kind": "phone"}))?,
    };
    let (ready, go) = (Barrier::new(writers + 1), Barrier::new(writers + 1));
    let deadline_slot = std::sync::OnceLock::new();
    let (elapsed, latencies) = std::thread::scope(|scope| -> Result<(Duration, Vec<Duration>)> {
        let handles: Vec<_> = (0..writers)
            .map(|w| {
                let (store, author, follow_up, ready, go, deadline_slot) =
                    (&store, &author, &follow_up, &ready, &go, &deadline_slot);
                scope.spawn(move || -> Result<Vec<Duration>> {
                    let mine: Vec<usize> = (w..args.people).step_by(writers).collect();
                    let streams = mine.iter().map(|&n| open_person(store, author, n)).collect::<Result<Vec<_>>>();
                    ready.wait();
                    go.wait();
                    let streams = streams?;
                    let deadline: Instant = *deadline_slot.get().ok_or("no deadline")?;
                    let mut latencies = Vec::new();
                    let mut next = 0;
                    while Instant::now() < deadline && !streams.is_empty() {
                        let stream = streams[next % streams.len()];
                        next += 1;
                        let started = Instant::now();
                        store.append(stream, None, vec![follow_up.clone()], author.clone())?;
                        latencies.push(started.elapsed());
                    }
                    Ok(latencies)
                })
            })
            .collect();
        ready.wait();
        let started = Instant::now();
        let _ = deadline_slot.set(started + args.duration);
        go.wait();
        let mut latencies = Vec::new();
        for handle in handles {
            latencies.extend(handle.join().map_err(|_| "a writer panicked")??);
        }
        Ok((started.elapsed(), latencies))
    })?;
    let mut latencies = latencies;
    latencies.sort_unstable();
    Ok(StoreRun {
        per_second: latencies.len() as f64 / elapsed.as_secs_f64(),
        p50_ms: percentile_ms(&latencies, 0.50),
        p99_ms: percentile_ms(&latencies, 0.99),
    })
}

/// Registers and refers one person with the same JSON as the HTTP set-up, read by the API's own
/// registration function.
fn open_person(store: &Store, author: &Author, n: usize) -> Result<StreamId> {
    let data = json!({"structure": common::STRUCTURE, "gender": if n % 2 == 0 { "female" } else { "male" },
        "birth_year": 1970 + n % 40, "identity": {"first_name": format!("Prénom{n}"), "last_name": "Martin",
        "email": format!("p{n}@example.org")}});
    let (stream, registered) = registration(None, common::REGISTERED_ON.parse()?, data)?;
    let referral = json!({"structure": common::STRUCTURE, "prescriber": {"kind": "france_travail"},
        "programme": "aci", "situation": "long_term_unemployed", "benefits": ["rsa"]});
    let referred = NewEvent {
        id: None,
        occurred_on: common::REFERRED_ON.parse()?,
        step: Step::deserialize_data(StepKind::Referred, referral)?,
    };
    store.append(stream, Some(0), vec![registered], author.clone())?;
    store.append(stream, Some(1), vec![referred], author.clone())?;
    Ok(stream)
}

fn report(args: &Args, http: &[HttpRun], store: &[StoreRun]) {
    println!("## Durable appends, {} connections (issue 4 item 6)\n", args.connections);
    println!(
        "One `follow_up_held` per `POST /api/beneficiaries/{{id}}/events`, over {} people in turn, coordinator's \
         token; baseline: `Store::append` by {} threads in process, same people, same events, same author scope.\n",
        args.people, args.connections
    );
    println!("| run | HTTP | p50 / p99 / max | server CPU per append | store in process | p50 / p99 | ratio |");
    println!("|---|---|---|---|---|---|---|");
    for (n, (h, s)) in http.iter().zip(store).enumerate() {
        println!(
            "| {} | {} | {:.2} / {:.2} / {:.1} ms | {:.0} µs | {} | {:.2} / {:.2} ms | {:.2} |",
            n + 1,
            rate(h.wrk.per_second()),
            h.wrk.p50_ms,
            h.wrk.p99_ms,
            h.wrk.max_ms,
            h.cpu_us,
            rate(s.per_second),
            s.p50_ms,
            s.p99_ms,
            h.wrk.per_second() / s.per_second
        );
    }
    let http_rate = median(http.iter().map(|h| h.wrk.per_second()).collect());
    let store_rate = median(store.iter().map(|s| s.per_second).collect());
    println!(
        "| **median** | **{}** | {:.2} / {:.2} / {:.1} ms | {:.0} µs | {} | {:.2} / {:.2} ms | **{:.2}** |\n",
        rate(http_rate),
        median(http.iter().map(|h| h.wrk.p50_ms).collect()),
        median(http.iter().map(|h| h.wrk.p99_ms).collect()),
        median(http.iter().map(|h| h.wrk.max_ms).collect()),
        median(http.iter().map(|h| h.cpu_us).collect()),
        rate(store_rate),
        median(store.iter().map(|s| s.p50_ms).collect()),
        median(store.iter().map(|s| s.p99_ms).collect()),
        http_rate / store_rate
    );
    let appended: u64 = http.iter().map(|h| h.appended).sum();
    println!(
        "Target ≥ {}: {} (median {}). Every answer was 2xx; the logs gained {appended} events in all.\n",
        rate(TARGET),
        if http_rate >= TARGET { "met" } else { "**not met**" },
        rate(http_rate)
    );
}

fn report_versus(other: &Path, http: &[HttpRun], versus: &[HttpRun]) {
    println!("### This build against `{}`, same runs\n", other.display());
    println!("| run | this build | p50 / p99 | server CPU per append | other build | p50 / p99 | server CPU per append | ratio |");
    println!("|---|---|---|---|---|---|---|---|");
    let row = |label: String, a: &HttpRun, b: &HttpRun| {
        println!(
            "| {label} | {} | {:.2} / {:.2} ms | {:.0} µs | {} | {:.2} / {:.2} ms | {:.0} µs | {:.2} |",
            rate(a.wrk.per_second()),
            a.wrk.p50_ms,
            a.wrk.p99_ms,
            a.cpu_us,
            rate(b.wrk.per_second()),
            b.wrk.p50_ms,
            b.wrk.p99_ms,
            b.cpu_us,
            a.wrk.per_second() / b.wrk.per_second()
        );
    };
    for (n, (a, b)) in http.iter().zip(versus).enumerate() {
        row((n + 1).to_string(), a, b);
    }
    let medians = |runs: &[HttpRun]| {
        let mut wrk = WrkRun {
            requests: 0,
            seconds: 1.0,
            p50_ms: median(runs.iter().map(|r| r.wrk.p50_ms).collect()),
            p99_ms: median(runs.iter().map(|r| r.wrk.p99_ms).collect()),
            ..WrkRun::default()
        };
        wrk.requests = median(runs.iter().map(|r| r.wrk.per_second()).collect()) as u64;
        HttpRun { wrk, appended: 0, cpu_us: median(runs.iter().map(|r| r.cpu_us).collect()) }
    };
    row("**median**".into(), &medians(http), &medians(versus));
    println!();
}
