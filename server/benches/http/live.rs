//! Live fan-out (issue 4 item 6): with 1,000 clients connected to `GET /api/events/live`, the time
//! from an append's 2xx to each client's receipt of the event, p99 ≤ 50 ms. Baseline: the same
//! appends with one client connected, on the same server, in the same run.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use parcours_tests::{Client, Server};
use tokio::sync::watch;

use crate::common::{self, log, Result};
use crate::stats::median;
use crate::{bin, Args};

const TARGET_P99_MS: f64 = 50.0;
/// Between two timed appends: each is fanned out alone, as steps are recorded one at a time.
const INTERVAL: Duration = Duration::from_millis(100);
/// How long every client gets to receive an event before it counts as lost.
const PATIENCE: Duration = Duration::from_secs(30);

/// One client's receipts: position → when it arrived.
type Receipts = HashMap<u64, Instant>;

#[derive(Clone, Copy)]
struct Fanout {
    p50_ms: f64,
    p99_ms: f64,
    max_ms: f64,
    /// Receipts that came before the append's answer reached the appender.
    early: usize,
    samples: usize,
    lost: usize,
}

pub fn run(args: &Args, runtime: &tokio::runtime::Runtime) -> Result<()> {
    let mut many = Vec::new();
    let mut one = Vec::new();
    for run in 0..args.runs {
        common::settle(4.0, Duration::from_secs(20));
        let dir = args.scratch("live")?;
        let data = dir.path().join("data");
        let token = common::role_token(bin(), &data, &args.live_role)?;
        let server = Server::start(bin(), &data, &[]);
        let (with_many, with_one) = runtime.block_on(async {
            let admin = server.admin();
            let people = common::people(&admin, 64, 0, 64).await?;
            let reader = Client::new(&server.url).with_token(&token);
            let clients = args.live_clients;
            if run % 2 == 0 {
                let with_many = fan_out(&admin, &reader, &people, clients, args.live_appends).await?;
                Ok::<_, common::Error>((with_many, fan_out(&admin, &reader, &people, 1, args.live_appends).await?))
            } else {
                let with_one = fan_out(&admin, &reader, &people, 1, args.live_appends).await?;
                Ok((fan_out(&admin, &reader, &people, clients, args.live_appends).await?, with_one))
            }
        })?;
        server.terminate();
        log(
            "live",
            format!(
                "run {}: {} clients p50 {:.1} ms p99 {:.1} ms (lost {}); 1 client p50 {:.1} ms p99 {:.1} ms, load {}",
                run + 1,
                args.live_clients,
                with_many.p50_ms,
                with_many.p99_ms,
                with_many.lost,
                with_one.p50_ms,
                with_one.p99_ms,
                common::load_average()
            ),
        );
        many.push(with_many);
        one.push(with_one);
    }
    report(args, &many, &one);
    Ok(())
}

/// Connects `clients` readers, makes sure every one of them is on the feed, then appends `appends`
/// events one at a time and measures, for each, its 2xx to each client's receipt.
async fn fan_out(admin: &Client, reader: &Client, people: &[String], clients: usize, appends: usize) -> Result<Fanout> {
    // Readers stop once they hold this position (the last append's), or when told to stop.
    let (until, until_rx) = watch::channel(u64::MAX);
    let (stop, stopped) = watch::channel(false);
    let mut readers = Vec::with_capacity(clients);
    for _ in 0..clients {
        let request = reader.http.get(format!("{}/api/events/live", reader.base));
        let request = request.bearer_auth(reader.token.as_deref().unwrap_or_default());
        readers.push(tokio::spawn(listen(request, until_rx.clone(), stopped.clone())));
    }
    // A client counted by the server has fixed where it starts: it will receive every later event.
    let joined_by = Instant::now() + PATIENCE;
    while live_clients(admin).await? < clients {
        if Instant::now() > joined_by {
            return Err(format!("{clients} live clients did not all connect within {PATIENCE:?}").into());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (warm_up, _) = append(admin, &people[0]).await?;
    let mut acks = Vec::with_capacity(appends);
    for n in 0..appends {
        tokio::time::sleep(INTERVAL).await;
        acks.push(append(admin, &people[(n + 1) % people.len()]).await?);
    }
    until.send_replace(acks.last().map_or(warm_up, |(position, _)| *position));
    // Stragglers get until the deadline; then every reader is stopped with what it has.
    let deadline = tokio::time::Instant::now() + PATIENCE;
    let mut receipts = Vec::with_capacity(clients);
    for mut handle in readers {
        let received = match tokio::time::timeout_at(deadline, &mut handle).await {
            Ok(joined) => joined??,
            Err(_) => {
                stop.send_replace(true);
                handle.await??
            }
        };
        receipts.push(received);
    }
    let mut latencies = Vec::with_capacity(clients * appends);
    let (mut early, mut lost) = (0, 0);
    for client in &receipts {
        if !client.contains_key(&warm_up) {
            return Err("a client never joined the feed (it missed the warm-up event)".into());
        }
        for (position, answered) in &acks {
            match client.get(position) {
                Some(arrived) if arrived >= answered => latencies.push((*arrived - *answered).as_secs_f64() * 1e3),
                Some(_) => {
                    early += 1;
                    latencies.push(0.0);
                }
                None => lost += 1,
            }
        }
    }
    latencies.sort_by(f64::total_cmp);
    let pick = |q: f64| {
        let rank = ((q * latencies.len() as f64).ceil() as usize).clamp(1, latencies.len().max(1));
        latencies.get(rank - 1).copied().unwrap_or(f64::NAN)
    };
    Ok(Fanout {
        p50_ms: pick(0.50),
        p99_ms: pick(0.99),
        max_ms: latencies.last().copied().unwrap_or(f64::NAN),
        early,
        samples: latencies.len(),
        lost,
    })
}

/// Appends one follow-up; its position and when its 2xx arrived.
async fn append(admin: &Client, person: &str) -> Result<(u64, Instant)> {
    let answer = admin.post(&format!("/api/beneficiaries/{person}/events"), &common::follow_up_body()).await;
    let answered = Instant::now();
    if answer.status != 201 {
        return Err(format!("append: {} {}", answer.status, answer.text).into());
    }
    let position = answer.body["position"].as_u64().ok_or("an append without a position")?;
    Ok((position, answered))
}

/// The server's count of connected live clients (`GET /metrics`).
async fn live_clients(admin: &Client) -> Result<usize> {
    let answer = admin.get("/metrics").await;
    let line = answer.text.lines().find_map(|line| line.strip_prefix("parcours_live_clients "));
    Ok(line.ok_or("no parcours_live_clients in /metrics")?.trim().parse()?)
}

/// One live client: reads the event stream and notes when each id arrived, until it holds the
/// position in `until` or is told to stop.
async fn listen(
    request: reqwest::RequestBuilder,
    until: watch::Receiver<u64>,
    mut stopped: watch::Receiver<bool>,
) -> Result<Receipts> {
    let mut response = request.send().await?;
    if response.status() != 200 {
        return Err(format!("the live feed answered {}", response.status()).into());
    }
    let mut receipts = Receipts::new();
    let mut buffer = String::new();
    let mut latest = 0;
    let mut until = until;
    loop {
        if latest >= *until.borrow_and_update() {
            break;
        }
        let chunk = tokio::select! {
            chunk = response.chunk() => chunk?,
            _ = until.changed() => continue,
            _ = stopped.wait_for(|stop| *stop) => break,
        };
        let Some(chunk) = chunk else { break };
        let arrived = Instant::now();
        buffer.push_str(std::str::from_utf8(&chunk)?);
        while let Some(end) = buffer.find("\n\n") {
            let message: String = buffer.drain(..end + 2).collect();
            let id = message.lines().find_map(|line| line.strip_prefix("id:")).and_then(|id| id.trim().parse().ok());
            if let Some(position) = id {
                receipts.insert(position, arrived);
                latest = latest.max(position);
            }
        }
    }
    Ok(receipts)
}

fn report(args: &Args, many: &[Fanout], one: &[Fanout]) {
    println!("## Live fan-out (issue 4 item 6)\n");
    println!(
        "{} clients of `GET /api/events/live` ({}'s token), {} appends per run one at a time {} ms apart; latency = \
         a client's receipt of the event − the arrival of the append's 2xx at the appender (same process, same \
         clock; a receipt before the 2xx counts as 0). Baseline: the same with one client, same server, same run.\n",
        args.live_clients,
        args.live_role,
        args.live_appends,
        INTERVAL.as_millis()
    );
    println!("| run | {} clients: p50 / p99 / max | receipts (before the 2xx, lost) | 1 client: p50 / p99 / max | p99 added by the other clients |", args.live_clients);
    println!("|---|---|---|---|---|");
    for (n, (m, o)) in many.iter().zip(one).enumerate() {
        println!(
            "| {} | {:.1} / {:.1} / {:.1} ms | {} ({}, {}) | {:.1} / {:.1} / {:.1} ms | {:+.1} ms |",
            n + 1,
            m.p50_ms,
            m.p99_ms,
            m.max_ms,
            m.samples,
            m.early,
            m.lost,
            o.p50_ms,
            o.p99_ms,
            o.max_ms,
            m.p99_ms - o.p99_ms
        );
    }
    let p99 = median(many.iter().map(|m| m.p99_ms).collect());
    let one_p99 = median(one.iter().map(|o| o.p99_ms).collect());
    println!(
        "| **median** | {:.1} / **{p99:.1}** / {:.1} ms | | {:.1} / {one_p99:.1} / {:.1} ms | {:+.1} ms |\n",
        median(many.iter().map(|m| m.p50_ms).collect()),
        median(many.iter().map(|m| m.max_ms).collect()),
        median(one.iter().map(|o| o.p50_ms).collect()),
        median(one.iter().map(|o| o.max_ms).collect()),
        p99 - one_p99
    );
    println!(
        "Target p99 ≤ {TARGET_P99_MS} ms: {} (median p99 {p99:.1} ms).\n",
        if p99 <= TARGET_P99_MS { "met" } else { "**not met**" }
    );
}
