//! Live lag: how long after `Store::append` is acknowledged a [`Live`] has applied that position.
//!
//! The store is a generated history of its own (a scratch copy, never a cached log: appends would
//! change it). Its first part is seeded; the rest is appended as a tracker would record it, one
//! event per append, so every append passes the rules:
//! - steady: `WRITERS` threads, each appending the events of its own streams (a stream's events
//!   stay in order) as fast as acknowledgements come back; a monitor thread notes when each applied
//!   position is published, and each acknowledged position gets the first publication at or past
//!   it (0 when it was applied before the writer even heard back). Publications that coalesce only
//!   make the figure later, never earlier.
//! - idle: one append at a time, after a pause, and the appender waits for `Live` itself.

use std::path::Path;
use std::time::{Duration, Instant};

use parcours_core::demo::scaled_config;
use parcours_core::store::{Seeded, Store, StoreOptions};
use parcours_core::vocabulary::Actor;
use parcours_projections::Live;
use tokio::sync::watch;

use crate::generated::SEED;
use crate::stats::percentile_ms;
use crate::stores::{recorded_until, today};
use crate::{log, Result};

/// Writer threads of the steady stream.
pub const WRITERS: usize = 4;
/// People in the lag store's history (about 200,000 events).
const PEOPLE: usize = 6_000;
/// Pause before each idle append: long enough for the follower to be asleep again.
const IDLE_PAUSE: Duration = Duration::from_millis(20);
/// How long to wait for the live projections before calling it a failure.
const PATIENCE: Duration = Duration::from_secs(120);

pub struct Lags {
    pub appends: usize,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

impl Lags {
    fn of(mut lags: Vec<Duration>) -> Lags {
        lags.sort_unstable();
        Lags {
            appends: lags.len(),
            p50_ms: percentile_ms(&lags, 0.50),
            p99_ms: percentile_ms(&lags, 0.99),
            max_ms: percentile_ms(&lags, 1.0),
        }
    }
}

pub struct LagReport {
    /// Events in the store when the live projections started.
    pub seeded: u64,
    pub steady: Lags,
    /// Acknowledged appends per second during the steady stream.
    pub steady_per_second: f64,
    pub idle: Lags,
}

fn actor() -> Actor {
    Actor("system:bench".into())
}

pub fn measure(root: &Path, steady_appends: usize, idle_appends: usize) -> Result<LagReport> {
    let dir = tempfile::Builder::new().prefix("lag-").tempdir_in(root)?;
    let mut events: Vec<Seeded> =
        scaled_config(SEED + 1, today()?, PEOPLE, PEOPLE / 200).seeded(recorded_until()?).collect();
    let tail = steady_appends + idle_appends;
    if events.len() <= tail {
        return Err(format!("the lag history has {} events, fewer than {tail} to append", events.len()).into());
    }
    let appended = events.split_off(events.len() - tail);
    let report = Store::seed(dir.path(), StoreOptions::default(), events.into_iter())?;
    log(format!("lag: seeded {} events; appending {steady_appends} then {idle_appends} more", report.events));
    let store = Store::open(dir.path(), StoreOptions::default())?;
    let live = Live::start(store.clone())?;
    wait_for(&live, store.last_position())?;

    let (steady, idle) = appended.split_at(steady_appends);
    let (steady, steady_per_second) = steady_stream(&store, &live, steady)?;
    log(format!("lag: steady p50 {:.2} ms p99 {:.2} ms", steady.p50_ms, steady.p99_ms));
    let idle = idle_appends_lag(&store, &live, idle)?;
    log(format!("lag: idle p50 {:.2} ms p99 {:.2} ms", idle.p50_ms, idle.p99_ms));
    Ok(LagReport { seeded: report.events, steady, steady_per_second, idle })
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_current_thread().enable_time().build()?)
}

/// Waits until `live` has applied `position`.
fn wait_for(live: &Live, position: u64) -> Result<()> {
    let mut applied = live.subscribe();
    let reached = runtime()?
        .block_on(async { tokio::time::timeout(PATIENCE, applied.wait_for(|applied| *applied >= position)).await });
    match reached {
        Ok(Ok(_)) => Ok(()),
        _ => Err(format!("the live projections did not reach {position}: {:?}", live.failure()).into()),
    }
}

fn steady_stream(store: &Store, live: &Live, events: &[Seeded]) -> Result<(Lags, f64)> {
    // A stream's events all go to one writer, in their order.
    let mut queues: Vec<Vec<&Seeded>> = vec![Vec::new(); WRITERS];
    for seeded in events {
        queues[(seeded.stream.0.as_u128() % WRITERS as u128) as usize].push(seeded);
    }
    let (stop, stopped) = watch::channel(false);
    let started = Instant::now();
    let (acks, published) = std::thread::scope(|scope| -> Result<_> {
        let monitor = scope.spawn(|| monitor(live.subscribe(), stopped));
        let writers: Vec<_> = queues
            .iter()
            .map(|queue| {
                scope.spawn(move || -> Result<Vec<(u64, Instant)>> {
                    let mut acks = Vec::with_capacity(queue.len());
                    for seeded in queue {
                        let event = seeded.event.clone();
                        let appended = store.append(seeded.stream, None, vec![event], actor())?;
                        acks.push((appended.position, Instant::now()));
                    }
                    Ok(acks)
                })
            })
            .collect();
        let mut acks = Vec::with_capacity(events.len());
        for writer in writers {
            acks.extend(writer.join().map_err(|_| "a writer panicked")??);
        }
        let elapsed = started.elapsed();
        wait_for(live, store.last_position())?;
        stop.send_replace(true);
        let published = monitor.join().map_err(|_| "the monitor panicked")??;
        Ok(((acks, elapsed), published))
    })?;
    let (acks, elapsed) = acks;
    let mut lags = Vec::with_capacity(acks.len());
    for (position, acknowledged) in &acks {
        let first = published.partition_point(|(applied, _)| applied < position);
        let (_, at) = published.get(first).ok_or(format!("position {position} was never published"))?;
        lags.push(at.saturating_duration_since(*acknowledged));
    }
    Ok((Lags::of(lags), acks.len() as f64 / elapsed.as_secs_f64()))
}

/// Notes every applied position `Live` publishes, and when, until told to stop.
fn monitor(mut applied: watch::Receiver<u64>, mut stop: watch::Receiver<bool>) -> Result<Vec<(u64, Instant)>> {
    let mut published = Vec::new();
    runtime()?.block_on(async {
        loop {
            // Biased: a publication that is ready is noted before the order to stop.
            tokio::select! {
                biased;
                changed = applied.changed() => {
                    if changed.is_err() {
                        return;
                    }
                    let position = *applied.borrow_and_update();
                    published.push((position, Instant::now()));
                }
                _ = stop.wait_for(|stop| *stop) => return,
            }
        }
    });
    Ok(published)
}

fn idle_appends_lag(store: &Store, live: &Live, events: &[Seeded]) -> Result<Lags> {
    let runtime = runtime()?;
    let mut applied = live.subscribe();
    let mut lags = Vec::with_capacity(events.len());
    for seeded in events {
        std::thread::sleep(IDLE_PAUSE);
        let appended = store.append(seeded.stream, None, vec![seeded.event.clone()], actor())?;
        let acknowledged = Instant::now();
        let position = appended.position;
        let reached = runtime
            .block_on(async { tokio::time::timeout(PATIENCE, applied.wait_for(|applied| *applied >= position)).await });
        if !matches!(reached, Ok(Ok(_))) {
            return Err(format!("the live projections did not reach {position}").into());
        }
        lags.push(acknowledged.elapsed());
    }
    Ok(Lags::of(lags))
}
