//! The fold alone, without disk or decoding: the generated log of the projections benchmark
//! (`parcours_core::demo::scaled_config`), folded with `Projections::apply_all` in batches of a
//! page, as the rebuild's fold thread does. For profiling the critical path of a rebuild (`perf
//! record`, `perf stat`) and comparing data layouts quickly.
//!
//! ```text
//! CARGO_TARGET_DIR=/work/target-fold cargo bench -p parcours-projections --bench fold -- \
//!     [--people 300000] [--structures 1500] [--chunk 65536]
//! ```
//!
//! The log is generated a chunk at a time (`--chunk` events, so that ten million envelopes need
//! not be held at once) and only the folding of each chunk is timed: the generator's own work
//! and cache traffic stay out of the figure, though a fold after each chunk finds its envelopes
//! in memory just written, somewhat as the rebuild finds pages its decoders just wrote.

#[path = "projections/generated.rs"]
mod generated;
#[allow(dead_code)]
#[path = "projections/measure.rs"]
mod measure;

use std::time::{Duration, Instant};

use parcours_core::demo::scaled_config;
use parcours_core::vocabulary::{Date, Envelope, Timestamp};
use parcours_projections::Projections;

use generated::{SEED, TODAY};
use measure::{load_average, mib, Rss};

/// The server's allocator, so that these figures are the server's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

type Error = Box<dyn std::error::Error + Send + Sync>;
type Result<T, E = Error> = std::result::Result<T, E>;
/// Events folded per call: a page of the log, as the runner applies them.
const BATCH: usize = parcours_core::limits::PAGE_EVENTS_MAX;

/// CPU time of the calling thread so far (`/proc/thread-self/schedstat`, in nanoseconds): the
/// machine is shared, so wall time says more about the neighbours than about the fold.
fn thread_cpu() -> Result<Duration> {
    let schedstat = std::fs::read_to_string("/proc/thread-self/schedstat")?;
    let nanos = schedstat.split_whitespace().next().ok_or("empty schedstat")?.parse::<u64>()?;
    Ok(Duration::from_nanos(nanos))
}

fn main() -> Result<()> {
    // As the server does (`server/src/main.rs`): no transparent huge pages.
    let _ = nix::sys::prctl::set_thp_disable(true);
    let (mut people, mut structures, mut chunk) = (300_000usize, 1_500usize, 65_536usize);
    let mut raw = std::env::args().skip(1);
    while let Some(arg) = raw.next() {
        let mut number =
            |flag: &str| -> Result<usize> { Ok(raw.next().ok_or(format!("{flag} needs a number"))?.parse()?) };
        match arg.as_str() {
            "--bench" => {}
            "--people" => people = number("--people")?,
            "--structures" => structures = number("--structures")?,
            "--chunk" => chunk = number("--chunk")?.max(BATCH),
            other => return Err(format!("unknown argument {other}").into()),
        }
    }
    let today = Date(TODAY.parse()?);
    let until = Timestamp(today.0.and_hms_opt(20, 0, 0).ok_or("bad time")?.and_utc());
    let config = scaled_config(SEED, today, people, structures);
    let load = load_average()?;
    let mut projections = Projections::new();
    // As the rebuild does from the log's length (about 31.6 events a person).
    projections.reserve(people * 32);
    let mut pending: Vec<Envelope> = Vec::with_capacity(chunk);
    let mut folding = Duration::ZERO;
    let mut folding_cpu = Duration::ZERO;
    let started = Instant::now();
    let mut fold = |projections: &mut Projections, pending: &mut Vec<Envelope>| -> Result<()> {
        let (begun, begun_cpu) = (Instant::now(), thread_cpu()?);
        for batch in pending.chunks(BATCH) {
            projections.apply_all(batch)?;
        }
        folding += begun.elapsed();
        folding_cpu += thread_cpu()? - begun_cpu;
        pending.clear();
        Ok(())
    };
    for envelope in generated::envelopes(config.seeded(until)) {
        pending.push(envelope);
        if pending.len() == chunk {
            fold(&mut projections, &mut pending)?;
        }
    }
    fold(&mut projections, &mut pending)?;
    projections.shrink_to_fit();
    let events = projections.applied_position();
    let rss = Rss::read()?;
    println!(
        "fold people={people} events={events} beneficiaries={} fold_wall_s={:.3} fold_cpu_s={:.3} fold_cpu_m_per_s={:.2} total_s={:.1} rss={} load={load:.2}->{:.2}",
        projections.beneficiary_count(),
        folding.as_secs_f64(),
        folding_cpu.as_secs_f64(),
        events as f64 / folding_cpu.as_secs_f64() / 1e6,
        started.elapsed().as_secs_f64(),
        mib(rss.now_kib),
        load_average()?,
    );
    Ok(())
}
