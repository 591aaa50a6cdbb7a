//! History reads through HTTP (issue 4 item 6: ≥ 30,000/s of a ~30-event history), beside
//! `GET /healthz` on the same server (the HTTP stack's ceiling) and `Store::read_stream` in process
//! on the same store.

use std::time::{Duration, Instant};

use parcours_core::store::{Store, StoreOptions};
use parcours_core::vocabulary::StreamId;
use parcours_tests::Server;

use crate::common::{self, log, Requests, Result, WrkRun};
use crate::stats::{median, percentile_ms, rate};
use crate::{bin, Args};

const TARGET: f64 = 30_000.0;
/// Registered, referred, then follow-ups: the history every read returns.
const HISTORY_EVENTS: usize = 30;

struct ReadRun {
    history: WrkRun,
    history_cpu_us: f64,
    healthz: WrkRun,
    store: StoreReads,
}

#[derive(Clone, Copy)]
struct StoreReads {
    per_second: f64,
    p50_ms: f64,
    p99_ms: f64,
}

pub fn run(args: &Args, runtime: &tokio::runtime::Runtime) -> Result<()> {
    let mut runs = Vec::new();
    for run in 0..args.runs {
        common::settle(4.0, Duration::from_secs(20));
        let result = one_run(args, runtime, run % 2 == 0)?;
        log(
            "read",
            format!(
                "run {}: history {} (p50 {:.2}, p99 {:.2} ms), healthz {}, read_stream {} (p50 {:.3} ms), load {}",
                run + 1,
                rate(result.history.per_second()),
                result.history.p50_ms,
                result.history.p99_ms,
                rate(result.healthz.per_second()),
                rate(result.store.per_second),
                result.store.p50_ms,
                common::load_average()
            ),
        );
        runs.push(result);
    }
    report(args, &runs);
    Ok(())
}

/// A fresh store with `readers` people of 30 events each, read over HTTP and then in process.
fn one_run(args: &Args, runtime: &tokio::runtime::Runtime, history_first: bool) -> Result<ReadRun> {
    let dir = args.scratch("http-read")?;
    let data = dir.path().join("data");
    let token = common::coordinator_token(bin(), &data)?;
    let server = Server::start(bin(), &data, &[]);
    let ids = runtime.block_on(common::people(&server.admin(), args.readers, HISTORY_EVENTS - 2, args.connections))?;
    let histories = Requests::GetEach { ids: &ids, before: "/api/beneficiaries/", after: "/events" };
    let healthz = Requests::Get { path: "/healthz" };
    let load = |requests: &Requests, token: Option<&str>| {
        common::wrk(&server.url, requests, token, args.connections, args.wrk_threads, args.duration, dir.path())
    };
    let (history, history_cpu, healthz) = if history_first {
        let cpu = common::cpu_time(server.pid())?;
        let history = load(&histories, Some(&token))?;
        let cpu = common::cpu_time(server.pid())?.saturating_sub(cpu);
        (history, cpu, load(&healthz, None)?)
    } else {
        let healthz = load(&healthz, None)?;
        let cpu = common::cpu_time(server.pid())?;
        let history = load(&histories, Some(&token))?;
        (history, common::cpu_time(server.pid())?.saturating_sub(cpu), healthz)
    };
    server.terminate();
    for (name, run) in [("history", &history), ("healthz", &healthz)] {
        if run.status_errors > 0 || run.socket_errors > 0 {
            return Err(format!("{name}: {} refused and {} socket errors", run.status_errors, run.socket_errors).into());
        }
    }
    let streams = ids.iter().map(|id| id.parse::<StreamId>()).collect::<Result<Vec<_>, _>>()?;
    let store = in_process(args, &data, &streams)?;
    Ok(ReadRun { history, history_cpu_us: history_cpu.as_secs_f64() * 1e6 / history.requests as f64, healthz, store })
}

/// `Store::read_stream` of the same histories in turn, by two threads (the machine's cores), for
/// as long as the HTTP loads.
fn in_process(args: &Args, data: &std::path::Path, streams: &[StreamId]) -> Result<StoreReads> {
    let store = Store::open(data, StoreOptions::default())?;
    let threads = 2;
    let started = Instant::now();
    let deadline = started + args.duration;
    let latencies = std::thread::scope(|scope| -> Result<Vec<Duration>> {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let store = &store;
                scope.spawn(move || -> Result<Vec<Duration>> {
                    let mut latencies = Vec::new();
                    let mut next = t * streams.len() / threads;
                    while Instant::now() < deadline {
                        let stream = streams[next % streams.len()];
                        next += 1;
                        let begun = Instant::now();
                        let events = store.read_stream(stream, None)?;
                        latencies.push(begun.elapsed());
                        if events.len() != HISTORY_EVENTS {
                            return Err(format!("{stream} has {} events", events.len()).into());
                        }
                    }
                    Ok(latencies)
                })
            })
            .collect();
        let mut all = Vec::new();
        for handle in handles {
            all.extend(handle.join().map_err(|_| "a reader panicked")??);
        }
        Ok(all)
    })?;
    let elapsed = started.elapsed();
    let mut latencies = latencies;
    latencies.sort_unstable();
    Ok(StoreReads {
        per_second: latencies.len() as f64 / elapsed.as_secs_f64(),
        p50_ms: percentile_ms(&latencies, 0.50),
        p99_ms: percentile_ms(&latencies, 0.99),
    })
}

fn report(args: &Args, runs: &[ReadRun]) {
    println!("## History reads, {} connections (issue 4 item 6)\n", args.connections);
    println!(
        "`GET /api/beneficiaries/{{id}}/events` of {} people with {HISTORY_EVENTS} events each, in turn, coordinator's \
         token (each read is authenticated, checked against the person's structures, logged in the access log, \
         and renders the identity); baselines in the same run: `GET /healthz` on the same server, and \
         `Store::read_stream` of the same histories in process (2 threads), after the server stopped.\n",
        args.readers
    );
    println!(
        "| run | history reads | p50 / p99 | server CPU per read | /healthz | p50 / p99 | ratio to healthz | \
         read_stream | p50 / p99 | ratio to read_stream |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|");
    let row = |label: String,
               history: f64,
               h50: f64,
               h99: f64,
               cpu: f64,
               healthz: f64,
               z50: f64,
               z99: f64,
               store: f64,
               s50: f64,
               s99: f64| {
        println!(
            "| {label} | {} | {h50:.2} / {h99:.2} ms | {cpu:.0} µs | {} | {z50:.2} / {z99:.2} ms | {:.2} | {} | \
             {s50:.3} / {s99:.3} ms | {:.2} |",
            rate(history),
            rate(healthz),
            history / healthz,
            rate(store),
            history / store
        );
    };
    for (n, r) in runs.iter().enumerate() {
        row(
            (n + 1).to_string(),
            r.history.per_second(),
            r.history.p50_ms,
            r.history.p99_ms,
            r.history_cpu_us,
            r.healthz.per_second(),
            r.healthz.p50_ms,
            r.healthz.p99_ms,
            r.store.per_second,
            r.store.p50_ms,
            r.store.p99_ms,
        );
    }
    let m = |f: fn(&ReadRun) -> f64| median(runs.iter().map(f).collect());
    let history = m(|r| r.history.per_second());
    row(
        "**median**".into(),
        history,
        m(|r| r.history.p50_ms),
        m(|r| r.history.p99_ms),
        m(|r| r.history_cpu_us),
        m(|r| r.healthz.per_second()),
        m(|r| r.healthz.p50_ms),
        m(|r| r.healthz.p99_ms),
        m(|r| r.store.per_second),
        m(|r| r.store.p50_ms),
        m(|r| r.store.p99_ms),
    );
    println!(
        "\nTarget ≥ {}: {} (median {}). Every answer was 2xx.\n",
        rate(TARGET),
        if history >= TARGET { "met" } else { "**not met**" },
        rate(history)
    );
}
