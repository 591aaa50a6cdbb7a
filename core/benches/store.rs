//! The store benchmark of issue 2: every figure of `parcours_core::store` beside a raw sled
//! baseline measured in the same run, printed as a Markdown table (see BENCHMARKS.md).
//!
//! ```text
//! CARGO_TARGET_DIR=/work/target-bench cargo bench -p parcours-core --bench store [-- --quick] [--runs N]
//!     [--only append,concurrent,read,scan,commit] [--stream-events N] [--dir /work/bench-tmp]
//!     [--journal-mib N]
//! ```
//!
//! Sections: `append` (1 writer), `concurrent` (8 and 64 writers), `read` (one stream), `scan`
//! (the whole log, and the disk footprint), `commit` (the store's write pattern on raw sled, phase
//! by phase: what a group commit costs without the store).
//!
//! Beside the raw sled baseline, the first four sections measure SQLite (`store/sqlite.rs`): the
//! embedded database a user would pick instead, with the goals of issue 19 against it.
//!
//! The machine this runs on is shared and noisy, so each measurement is repeated (`--runs`, 5 by
//! default), the store and its baseline take turns within each run, and the table shows medians over
//! runs and the ratio of the two medians. "Durable" means what the store promises: the commit's
//! entry in the store's journal and an `fdatasync` of it before the caller hears back (sled itself
//! is flushed and fdatasynced at checkpoints; see `core/src/store/journal.rs`). The raw sled
//! baselines pay sled's `flush()` and then an `fdatasync` of its data file per event, what the
//! store paid per commit before its journal (STORAGE-NOTES.md); the bare baseline (a block written
//! into a preallocated file, then `fdatasync`) is the floor of one wait on the disk.

use std::collections::HashSet;
use std::fmt::Write as _;
use std::fs::File;
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::sync::Barrier;
use std::time::{Duration, Instant};

use parcours_core::limits::{PAGE_EVENTS_MAX, REQUEST_EVENTS_MAX};
use parcours_core::store::{page, Store, StoreOptions};
use parcours_core::vocabulary::{
    Actor, Date, Envelope, EventId, Hours, HoursWorked, Month, NewEvent, Step, StepKind, StreamId, Timestamp,
};
use serde_json::json;
use tempfile::TempDir;

/// The server's allocator (`server/src/main.rs` says why), so that these figures are the server's;
/// store and baselines share it.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[path = "../../benches/stats.rs"]
mod stats;

#[path = "store/sqlite.rs"]
mod sqlite;

use stats::{median, percentile_ms, rate};

type Error = Box<dyn std::error::Error + Send + Sync>;
type Result<T, E = Error> = std::result::Result<T, E>;

/// sled's page cache for the baselines: the store's own default, so both cache the same.
const CACHE_BYTES: u64 = 256 * 1024 * 1024;
/// Events a benchmark stream holds at most (`--stream-events` changes it for the append
/// benchmarks): a long real pathway, years of monthly hours plus its other steps. The writer keeps
/// and copies each stream's rule state, so stream length is part of what an append costs.
const STREAM_EVENTS: usize = 100;
/// Opening events of a stream: registered, referred, contract_started.
const OPENING_EVENTS: usize = 3;
/// Threads that build the read and scan stores.
const LOADERS: usize = 16;

struct Sizes {
    runs: usize,
    /// Single appends per run with one writer (store, and the raw baseline).
    single_appends: usize,
    /// Appends per writer per run, with 8 and with 64 writers.
    appends_per_writer_8: usize,
    appends_per_writer_64: usize,
    /// Events per stream at most in the append benchmarks.
    stream_events: usize,
    /// Streams of `STREAM_EVENTS` events in the read store, and reads timed per run.
    read_streams: usize,
    reads_per_run: usize,
    /// Events in the scan store.
    scan_events: usize,
}

impl Sizes {
    fn full() -> Sizes {
        Sizes {
            runs: 5,
            single_appends: 3_000,
            appends_per_writer_8: 1_500,
            appends_per_writer_64: 400,
            stream_events: STREAM_EVENTS,
            read_streams: 1_000,
            reads_per_run: 2_000,
            scan_events: 1_000_000,
        }
    }

    fn quick() -> Sizes {
        Sizes {
            runs: 3,
            single_appends: 1_000,
            appends_per_writer_8: 400,
            appends_per_writer_64: 100,
            stream_events: STREAM_EVENTS,
            read_streams: 200,
            reads_per_run: 500,
            scan_events: 200_000,
        }
    }
}

struct Args {
    sizes: Sizes,
    only: Option<HashSet<String>>,
    dir: PathBuf,
}

const SECTIONS: [&str; 5] = ["append", "concurrent", "read", "scan", "commit"];

fn parse_args() -> Result<Args> {
    let mut sizes = Sizes::full();
    let mut runs = None;
    let mut stream_events = None;
    let mut only = None;
    let mut dir = PathBuf::from("/work/bench-tmp");
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            // cargo passes `--bench` to every bench binary.
            "--bench" => {}
            "--quick" => sizes = Sizes::quick(),
            "--runs" => runs = Some(args.next().ok_or("--runs needs a number")?.parse::<usize>()?),
            "--only" => {
                let names: HashSet<String> =
                    args.next().ok_or("--only needs a list")?.split(',').map(str::to_owned).collect();
                if let Some(unknown) = names.iter().find(|name| !SECTIONS.contains(&name.as_str())) {
                    return Err(format!("unknown section {unknown}; expected some of {SECTIONS:?}").into());
                }
                only = Some(names);
            }
            "--stream-events" => {
                stream_events = Some(args.next().ok_or("--stream-events needs a number")?.parse::<usize>()?)
            }
            "--dir" => dir = PathBuf::from(args.next().ok_or("--dir needs a path")?),
            "--journal-mib" => {
                let mib = args.next().ok_or("--journal-mib needs a number")?.parse::<u64>()?;
                JOURNAL_BYTES.set(mib.max(1) * 1024 * 1024).map_err(|_| "--journal-mib given twice")?;
            }
            other => return Err(format!("unknown argument {other}").into()),
        }
    }
    if let Some(runs) = runs {
        sizes.runs = runs.max(1);
    }
    if let Some(stream_events) = stream_events {
        sizes.stream_events = stream_events.max(OPENING_EVENTS + 1);
    }
    Ok(Args { sizes, only, dir })
}

// ---------------------------------------------------------------------------------------------
// Events: a beneficiary's pathway as the vocabulary and the rules want it.

fn step(kind: &str, data: serde_json::Value) -> Result<Step> {
    let kind: StepKind = kind.parse().map_err(|()| format!("unknown step {kind}"))?;
    Ok(Step::deserialize_data(kind, data)?)
}

fn event(on: &str, kind: &str, data: serde_json::Value) -> Result<NewEvent> {
    Ok(NewEvent { id: None, occurred_on: on.parse::<Date>()?, step: step(kind, data)? })
}

fn actor() -> Actor {
    Actor("token:coordination-aci-agen".into())
}

const CONTRACT: &str = "cddi-2024-0042";

/// Registration (with an identity, sealed by the store), referral, start of a contract.
fn opening(n: usize) -> Result<Vec<NewEvent>> {
    Ok(vec![
        event(
            "2024-01-02",
            "registered",
            json!({"structure": "aci-agen", "gender": "female", "birth_year": 1980 + n % 40,
                   "identity": {"first_name": format!("Prénom{n}"), "last_name": "Martin",
                                "email": format!("p{n}@example.org")}}),
        )?,
        event(
            "2024-01-03",
            "referred",
            json!({"structure": "aci-agen", "prescriber": {"kind": "france_travail"}, "programme": "aci",
                   "situation": "long_term_unemployed", "benefits": ["rsa"]}),
        )?,
        event(
            "2024-01-08",
            "contract_started",
            json!({"contract_id": CONTRACT, "kind": "cddi", "employer": "Jardins d'Agen", "weekly_hours": 26}),
        )?,
    ])
}

/// The `i`-th monthly declaration of hours: months cycle over 2024–2025, all in the past, and the
/// rules allow the same month of the same contract twice. Built directly rather than from JSON, so
/// that the writers' own work stays small beside the store's on two cores.
fn hours(i: usize) -> Result<NewEvent> {
    let (year, month) = (2024 + (i / 12) % 2, i % 12 + 1);
    let (next_year, next_month) = if month == 12 { (year + 1, 1) } else { (year, month + 1) };
    Ok(NewEvent {
        id: None,
        occurred_on: Date::from_ymd(next_year as i32, next_month as u32, 3).ok_or("bad date")?,
        step: Step::HoursWorked(HoursWorked {
            contract_id: CONTRACT.into(),
            month: Month::new(year as u16, month as u8).ok_or("bad month")?,
            hours: Hours::from_hundredths(9_050 + (i % 30) as u32 * 100),
        }),
    })
}

/// A stored-shape envelope of one `hours_worked`, encoded as the store encodes it: the value the
/// raw baselines write.
fn sample_record() -> Result<Vec<u8>> {
    let envelope = Envelope {
        id: EventId::generate(),
        stream: StreamId::generate(),
        version: 42,
        position: 123_456,
        occurred_on: "2024-06-03".parse()?,
        recorded_at: Timestamp::now(),
        recorded_by: actor(),
        step: hours(5)?.step,
        sealed_text: None,
        prev_hash: [7; 32],
        stream_prev_hash: [9; 32],
    };
    Ok(page::encode_record(&envelope)?)
}

/// One beneficiary's stream, as a writer sees it: started, then hours until it is full.
struct Pathway {
    stream: StreamId,
    events: usize,
}

impl Pathway {
    fn start(store: &Store, n: usize) -> Result<Pathway> {
        let stream = StreamId::generate();
        store.append(stream, Some(0), opening(n)?, actor())?;
        Ok(Pathway { stream, events: OPENING_EVENTS })
    }
}

/// The streams one writer appends to, round robin. They are all started before the clock starts,
/// enough of them that none grows past `stream_events`.
struct Writer {
    pathways: Vec<Pathway>,
    next: usize,
}

impl Writer {
    fn new(store: &Store, appends: usize, stream_events: usize, seed: usize) -> Result<Writer> {
        let streams = appends.div_ceil(stream_events.saturating_sub(OPENING_EVENTS).max(1));
        let pathways = (0..streams).map(|k| Pathway::start(store, seed + k)).collect::<Result<_>>()?;
        Ok(Writer { pathways, next: 0 })
    }

    /// Appends one `hours_worked` durably; returns how long `Store::append` took.
    fn append_one(&mut self, store: &Store) -> Result<Duration> {
        let slot = self.next % self.pathways.len();
        self.next += 1;
        let pathway = &mut self.pathways[slot];
        let new = hours(pathway.events)?;
        let started = Instant::now();
        store.append(pathway.stream, None, vec![new], actor())?;
        let took = started.elapsed();
        pathway.events += 1;
        Ok(took)
    }
}

// ---------------------------------------------------------------------------------------------
// Measurement helpers.

/// One run's result: a rate and, where it applies, latencies.
#[derive(Clone, Copy, Default)]
struct Run {
    per_second: f64,
    p50_ms: f64,
    p99_ms: f64,
    /// Appends answered by one flush + fdatasync, where measured.
    events_per_commit: f64,
}

impl Run {
    fn from_latencies(count: usize, elapsed: Duration, mut latencies: Vec<Duration>) -> Run {
        latencies.sort_unstable();
        Run {
            per_second: count as f64 / elapsed.as_secs_f64(),
            p50_ms: percentile_ms(&latencies, 0.50),
            p99_ms: percentile_ms(&latencies, 0.99),
            events_per_commit: f64::NAN,
        }
    }
}

/// The median of each field over runs.
#[derive(Clone, Copy)]
struct Medians {
    per_second: f64,
    p50_ms: f64,
    p99_ms: f64,
}

fn medians(runs: &[Run]) -> Medians {
    Medians {
        per_second: median(runs.iter().map(|r| r.per_second).collect()),
        p50_ms: median(runs.iter().map(|r| r.p50_ms).collect()),
        p99_ms: median(runs.iter().map(|r| r.p99_ms).collect()),
    }
}

fn scratch(root: &Path, name: &str) -> Result<TempDir> {
    Ok(tempfile::Builder::new().prefix(&format!("{name}-")).tempdir_in(root)?)
}

/// The size of the journal of the stores the bench creates (`--journal-mib`; the store's default
/// without it).
static JOURNAL_BYTES: std::sync::OnceLock<u64> = std::sync::OnceLock::new();

fn open_store(dir: &Path) -> Result<Store> {
    let journal_bytes = JOURNAL_BYTES.get().copied().unwrap_or(parcours_core::store::JOURNAL_BYTES_DEFAULT);
    Ok(Store::open(dir, StoreOptions { journal_bytes, ..StoreOptions::default() })?)
}

/// sled opened as the store opens it (same mode, cache, background flush), for the baselines.
fn open_raw(dir: &Path) -> Result<(sled::Db, File)> {
    let db = sled::Config::new()
        .path(dir)
        .cache_capacity(CACHE_BYTES)
        .mode(sled::Mode::HighThroughput)
        .flush_every_ms(Some(1000))
        .open()?;
    let data_file = File::open(dir.join("db"))?;
    Ok((db, data_file))
}

/// Bytes the files under `dir` take: apparent (`ls`) and allocated (`du`).
fn disk_usage(dir: &Path) -> Result<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    let mut total = (0, 0);
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let metadata = entry.metadata()?;
        if metadata.is_dir() {
            let (apparent, allocated) = disk_usage(&entry.path())?;
            total.0 += apparent;
            total.1 += allocated;
        } else {
            total.0 += metadata.len();
            total.1 += metadata.blocks() * 512;
        }
    }
    Ok(total)
}

fn log(message: impl AsRef<str>) {
    eprintln!("[store bench] {}", message.as_ref());
}

// ---------------------------------------------------------------------------------------------
// 1. Durable append, one writer.

fn store_single_writer(root: &Path, appends: usize, stream_events: usize) -> Result<Run> {
    let dir = scratch(root, "append-1")?;
    let store = open_store(dir.path())?;
    let mut writer = Writer::new(&store, appends, stream_events, 0)?;
    let mut latencies = Vec::with_capacity(appends);
    let started = Instant::now();
    for _ in 0..appends {
        latencies.push(writer.append_one(&store)?);
    }
    Ok(Run::from_latencies(appends, started.elapsed(), latencies))
}

/// The raw baseline: one tree insert and `flush()` per event, then (with `sync_data`) the
/// `fdatasync` of sled's data file the store also makes. Both are reported: `flush()` alone is
/// what sled calls durable (it survives the death of the process), the store's promise includes
/// the fdatasync (it survives a power cut); see STORAGE-NOTES.md.
fn raw_single_writer(root: &Path, appends: usize, record: &[u8], sync_data: bool) -> Result<Run> {
    let dir = scratch(root, "raw-append-1")?;
    let (db, data_file) = open_raw(dir.path())?;
    let tree = db.open_tree("log")?;
    let mut latencies = Vec::with_capacity(appends);
    let started = Instant::now();
    for position in 1..=appends as u64 {
        let begun = Instant::now();
        tree.insert(position.to_be_bytes(), record)?;
        db.flush()?;
        if sync_data {
            data_file.sync_data()?;
        }
        latencies.push(begun.elapsed());
    }
    Ok(Run::from_latencies(appends, started.elapsed(), latencies))
}

/// The floor of a durable commit on this disk: one 4 KiB block written into a preallocated file
/// (zeros written and synced first, as the store's journal is), then `fdatasync`, per event.
fn raw_block_fdatasync(root: &Path, appends: usize, record: &[u8]) -> Result<Run> {
    use std::io::Write as _;
    use std::os::unix::fs::FileExt as _;
    const BLOCK: usize = 4096;
    const BLOCKS: usize = 2048;
    let dir = scratch(root, "raw-block")?;
    let mut file = File::create(dir.path().join("journal"))?;
    file.write_all(&vec![0u8; BLOCK * BLOCKS])?;
    file.sync_all()?;
    let mut block = vec![0u8; BLOCK];
    block[..record.len()].copy_from_slice(record);
    let mut latencies = Vec::with_capacity(appends);
    let started = Instant::now();
    for n in 0..appends {
        let begun = Instant::now();
        file.write_all_at(&block, ((n % BLOCKS) * BLOCK) as u64)?;
        file.sync_data()?;
        latencies.push(begun.elapsed());
    }
    Ok(Run::from_latencies(appends, started.elapsed(), latencies))
}

/// The raw baseline with `writers` threads: each appends its own events one by one, with one
/// tree insert, `flush()` and `fdatasync` per event, as `raw_single_writer`, and no group commit
/// other than what sled and the kernel do when flushes and syncs overlap.
fn raw_concurrent(root: &Path, writers: usize, per_writer: usize, record: &[u8]) -> Result<Run> {
    let dir = scratch(root, &format!("raw-append-{writers}"))?;
    let (db, data_file) = open_raw(dir.path())?;
    let tree = db.open_tree("log")?;
    concurrent_writers(writers, per_writer, "a raw writer panicked", |w| {
        let (db, tree, data_file) = (&db, &tree, &data_file);
        Ok(move |n: u64| -> Result<()> {
            tree.insert(((w << 32) | n).to_be_bytes(), record)?;
            db.flush()?;
            data_file.sync_data()?;
            Ok(())
        })
    })
}

/// `writers` threads started together, each setting itself up (`writer(w)`, untimed) and then
/// making `per_writer` appends one by one (`append(n)`, each timed); the raw and SQLite baselines
/// measure their concurrent writers through this one harness.
fn concurrent_writers<W, A>(writers: usize, per_writer: usize, panicked: &'static str, writer: W) -> Result<Run>
where
    W: Fn(u64) -> Result<A> + Sync,
    A: FnMut(u64) -> Result<()>,
{
    let barrier = Barrier::new(writers + 1);
    let (elapsed, latencies) = std::thread::scope(|scope| -> Result<(Duration, Vec<Duration>)> {
        let handles: Vec<_> = (0..writers as u64)
            .map(|w| {
                let (barrier, writer) = (&barrier, &writer);
                scope.spawn(move || -> Result<Vec<Duration>> {
                    let append = writer(w);
                    barrier.wait();
                    let mut append = append?;
                    let mut latencies = Vec::with_capacity(per_writer);
                    for n in 0..per_writer as u64 {
                        let begun = Instant::now();
                        append(n)?;
                        latencies.push(begun.elapsed());
                    }
                    Ok(latencies)
                })
            })
            .collect();
        barrier.wait();
        let started = Instant::now();
        let mut latencies = Vec::with_capacity(writers * per_writer);
        for handle in handles {
            latencies.extend(handle.join().map_err(|_| panicked)??);
        }
        Ok((started.elapsed(), latencies))
    })?;
    Ok(Run::from_latencies(writers * per_writer, elapsed, latencies))
}

// ---------------------------------------------------------------------------------------------
// 2. Durable append, concurrent writers.

fn store_concurrent(root: &Path, writers: usize, per_writer: usize, stream_events: usize) -> Result<Run> {
    let dir = scratch(root, &format!("append-{writers}"))?;
    let store = open_store(dir.path())?;
    // Two barriers: every writer has started its streams (`set_up`), the main thread notes where
    // the log ends, then all start appending (`go`). With one barrier a fast writer could commit
    // before the end of the set-up is read, and its commit would not be counted.
    let (set_up, go) = (Barrier::new(writers + 1), Barrier::new(writers + 1));
    let mut setup_end = 0;
    let setup_end_slot = &mut setup_end;
    let (elapsed, latencies) = std::thread::scope(|scope| -> Result<(Duration, Vec<Duration>)> {
        let handles: Vec<_> = (0..writers)
            .map(|w| {
                let (store, set_up, go) = (store.clone(), &set_up, &go);
                scope.spawn(move || -> Result<Vec<Duration>> {
                    let writer = Writer::new(&store, per_writer, stream_events, w * 1_000_000);
                    set_up.wait();
                    go.wait();
                    let mut writer = writer?;
                    (0..per_writer).map(|_| writer.append_one(&store)).collect()
                })
            })
            .collect();
        set_up.wait();
        *setup_end_slot = store.last_position();
        go.wait();
        let started = Instant::now();
        let mut latencies = Vec::with_capacity(writers * per_writer);
        for handle in handles {
            latencies.extend(handle.join().map_err(|_| "a writer panicked")??);
        }
        Ok((started.elapsed(), latencies))
    })?;
    // Each group commit starts a page of its own, and a commit here holds at most one append per
    // writer (≤ 64 events = one page): pages written while timed = group commits.
    let mut commits = 0usize;
    for page in store.pages_from(setup_end + 1) {
        if page?.0 > setup_end {
            commits += 1;
        }
    }
    let mut run = Run::from_latencies(writers * per_writer, elapsed, latencies);
    run.events_per_commit = (writers * per_writer) as f64 / commits as f64;
    Ok(run)
}

/// The store's write pattern on raw sled, without the store: per group commit of `batch` events,
/// one page value in the log tree, and (with `indexes`) one stream-index and one id-index entry
/// per event, then `flush()` and `fdatasync`. The ceiling of the store's design for that batch
/// size; also returns the median time of each phase (insert, flush, fdatasync) per commit.
fn raw_group_commit(
    root: &Path,
    commits: usize,
    batch: usize,
    indexes: bool,
    record: &[u8],
) -> Result<(Run, [f64; 3])> {
    let dir = scratch(root, "raw-group")?;
    let (db, data_file) = open_raw(dir.path())?;
    let (log, streams, ids) = (db.open_tree("log")?, db.open_tree("streams")?, db.open_tree("ids")?);
    let stream_ids: Vec<StreamId> = (0..64).map(|_| StreamId::generate()).collect();
    let mut phases: [Vec<f64>; 3] = Default::default();
    let mut latencies = Vec::with_capacity(commits);
    let mut position = 0u64;
    let started = Instant::now();
    for commit in 0..commits {
        let begun = Instant::now();
        let mut page = Vec::with_capacity(3 + batch * (9 + record.len()));
        page.extend_from_slice(&[1, 0, 0]);
        for _ in 0..batch {
            page.push(1);
            page.extend_from_slice(&(record.len() as u32).to_le_bytes());
            page.extend_from_slice(&crc_of(record).to_le_bytes());
            page.extend_from_slice(record);
        }
        log.insert((position + 1).to_be_bytes(), page)?;
        if indexes {
            for slot in 0..batch {
                let mut key = [0u8; 20];
                key[..16].copy_from_slice(stream_ids[slot % 64].as_bytes());
                key[16..].copy_from_slice(&((commit * batch + slot) as u32).to_be_bytes());
                let location = [0u8; 10];
                streams.insert(key, &location)?;
                ids.insert(EventId::generate().as_bytes(), &[0u8; 18])?;
            }
        }
        position += batch as u64;
        let inserted = Instant::now();
        db.flush()?;
        let flushed = Instant::now();
        data_file.sync_data()?;
        let synced = Instant::now();
        phases[0].push((inserted - begun).as_secs_f64() * 1e3);
        phases[1].push((flushed - inserted).as_secs_f64() * 1e3);
        phases[2].push((synced - flushed).as_secs_f64() * 1e3);
        latencies.push(synced - begun);
    }
    let run = Run::from_latencies(commits * batch, started.elapsed(), latencies);
    let [a, b, c] = phases;
    Ok((run, [median(a), median(b), median(c)]))
}

fn crc_of(bytes: &[u8]) -> u32 {
    // The bench does not depend on crc32fast; any 4 bytes do for the size of a frame.
    bytes.iter().fold(0u32, |acc, b| acc.rotate_left(5) ^ u32::from(*b))
}

// ---------------------------------------------------------------------------------------------
// Building bigger stores.

/// A store of `streams` pathways of `STREAM_EVENTS` events, written one event per append by
/// `LOADERS` threads taking turns over their streams: each stream's events end up spread over the
/// log (about one page per event), the shape a live store has.
fn build_interleaved(dir: &Path, streams: usize) -> Result<Store> {
    let store = open_store(dir)?;
    std::thread::scope(|scope| -> Result<()> {
        let handles: Vec<_> = (0..LOADERS)
            .map(|t| {
                let store = store.clone();
                scope.spawn(move || -> Result<()> {
                    let mine: Vec<usize> = (t..streams).step_by(LOADERS).collect();
                    let mut pathways = Vec::with_capacity(mine.len());
                    for n in mine {
                        pathways.push(Pathway::start(&store, n)?);
                    }
                    for _ in OPENING_EVENTS..STREAM_EVENTS {
                        for pathway in &mut pathways {
                            store.append(pathway.stream, None, vec![hours(pathway.events)?], actor())?;
                            pathway.events += 1;
                        }
                    }
                    Ok(())
                })
            })
            .collect();
        handles.into_iter().try_for_each(|handle| handle.join().map_err(|_| "a loader panicked")?)
    })?;
    Ok(store)
}

/// A store of `events` events written in requests of `REQUEST_EVENTS_MAX` (one pathway each).
fn build_bulk(dir: &Path, events: usize) -> Result<Store> {
    let store = open_store(dir)?;
    let requests = events.div_ceil(REQUEST_EVENTS_MAX);
    let loaders = LOADERS.min(4);
    std::thread::scope(|scope| -> Result<()> {
        let handles: Vec<_> = (0..loaders)
            .map(|t| {
                let store = store.clone();
                scope.spawn(move || -> Result<()> {
                    for request in (t..requests).step_by(loaders) {
                        let size = REQUEST_EVENTS_MAX.min(events - request * REQUEST_EVENTS_MAX);
                        let mut batch = opening(request)?;
                        batch.truncate(size);
                        for i in batch.len()..size {
                            batch.push(hours(i)?);
                        }
                        store.append(StreamId::generate(), Some(0), batch, actor())?;
                    }
                    Ok(())
                })
            })
            .collect();
        handles.into_iter().try_for_each(|handle| handle.join().map_err(|_| "a loader panicked")?)
    })?;
    Ok(store)
}

/// The baseline's shape of the same log: one sled key per event (position → the event's bytes,
/// the bincode record the store frames), and an index tree (stream, version) → position, as in
/// STORAGE-NOTES.md. Returns the encoded bytes written.
fn copy_to_raw(store: &Store, db: &sled::Db, with_index: bool) -> Result<u64> {
    let log = db.open_tree("log")?;
    let index = db.open_tree("streams")?;
    let mut encoded = 0u64;
    for page in store.pages_from(1) {
        let (_, envelopes) = page?;
        for envelope in envelopes {
            let record = page::encode_record(&envelope)?;
            encoded += record.len() as u64;
            log.insert(envelope.position.to_be_bytes(), record)?;
            if with_index {
                let mut key = [0u8; 20];
                key[..16].copy_from_slice(envelope.stream.as_bytes());
                key[16..].copy_from_slice(&envelope.version.to_be_bytes());
                index.insert(key, &envelope.position.to_be_bytes())?;
            }
        }
    }
    db.flush()?;
    Ok(encoded)
}

// ---------------------------------------------------------------------------------------------
// 3. Reading one stream.

fn streams_of(store: &Store) -> Result<Vec<StreamId>> {
    let mut seen = HashSet::new();
    let mut streams = Vec::new();
    for page in store.pages_from(1) {
        for envelope in page?.1 {
            if seen.insert(envelope.stream) {
                streams.push(envelope.stream);
            }
        }
    }
    Ok(streams)
}

/// A fixed pseudo-random order of reads (xorshift), the same for the store and the baseline.
fn read_order(streams: usize, reads: usize, seed: u64) -> Vec<usize> {
    let mut state = seed | 1;
    (0..reads)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % streams as u64) as usize
        })
        .collect()
}

fn store_reads(store: &Store, streams: &[StreamId], order: &[usize]) -> Result<Run> {
    let mut latencies = Vec::with_capacity(order.len());
    let started = Instant::now();
    for &n in order {
        let begun = Instant::now();
        let events = store.read_stream(streams[n], None)?;
        latencies.push(begun.elapsed());
        if events.len() != STREAM_EVENTS {
            return Err(format!("stream {} has {} events", streams[n], events.len()).into());
        }
        black_box(events);
    }
    Ok(Run::from_latencies(order.len(), started.elapsed(), latencies))
}

/// The baseline read: a prefix scan of the index tree, one `get` per event, bincode decode.
fn raw_reads(db: &sled::Db, streams: &[StreamId], order: &[usize]) -> Result<Run> {
    let (log, index) = (db.open_tree("log")?, db.open_tree("streams")?);
    let mut latencies = Vec::with_capacity(order.len());
    let started = Instant::now();
    for &n in order {
        let begun = Instant::now();
        let mut events = Vec::with_capacity(STREAM_EVENTS);
        for entry in index.scan_prefix(streams[n].as_bytes()) {
            let (_, position) = entry?;
            let record = log.get(position)?.ok_or("the index points to a missing event")?;
            let (envelope, _): (Envelope, usize) = bincode::decode_from_slice(&record, bincode::config::standard())?;
            events.push(envelope);
        }
        latencies.push(begun.elapsed());
        if events.len() != STREAM_EVENTS {
            return Err(format!("raw stream {} has {} events", streams[n], events.len()).into());
        }
        black_box(events);
    }
    Ok(Run::from_latencies(order.len(), started.elapsed(), latencies))
}

// ---------------------------------------------------------------------------------------------
// 4. Full scan and decode.

fn store_scan(store: &Store, expected: usize) -> Result<Run> {
    let started = Instant::now();
    let mut events = 0usize;
    for page in store.pages_from(1) {
        let (_, envelopes) = page?;
        events += envelopes.len();
        black_box(envelopes);
    }
    let elapsed = started.elapsed();
    if events != expected {
        return Err(format!("scanned {events} events, expected {expected}").into());
    }
    Ok(Run { per_second: events as f64 / elapsed.as_secs_f64(), ..Run::default() })
}

/// The baseline scan: plain iteration of a one-key-per-event tree, bincode decode of each value.
fn raw_scan(db: &sled::Db, expected: usize) -> Result<Run> {
    let log = db.open_tree("log")?;
    let started = Instant::now();
    let mut events = 0usize;
    for entry in log.iter() {
        let (_, record) = entry?;
        let (envelope, _): (Envelope, usize) = bincode::decode_from_slice(&record, bincode::config::standard())?;
        black_box(envelope);
        events += 1;
    }
    let elapsed = started.elapsed();
    if events != expected {
        return Err(format!("raw scan saw {events} events, expected {expected}").into());
    }
    Ok(Run { per_second: events as f64 / elapsed.as_secs_f64(), ..Run::default() })
}

// ---------------------------------------------------------------------------------------------
// The report.

struct Row {
    figure: String,
    value: String,
    baseline: String,
    ratio: String,
    target: String,
    met: String,
}

fn latency(m: &Medians) -> String {
    format!("{:.3} / {:.3} ms", m.p50_ms, m.p99_ms)
}

fn yes_no(met: bool) -> String {
    if met { "yes" } else { "**no**" }.into()
}

fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
}

#[derive(Default)]
struct Report {
    rows: Vec<Row>,
    details: String,
}

impl Report {
    fn row(&mut self, figure: impl Into<String>, value: String, baseline: String, ratio: String, target: &str) {
        self.rows.push(Row { figure: figure.into(), value, baseline, ratio, target: target.into(), met: "—".into() });
    }

    fn row_met(&mut self, figure: &str, value: String, baseline: String, ratio: String, target: &str, met: bool) {
        self.row(figure, value, baseline, ratio, target);
        if let Some(row) = self.rows.last_mut() {
            row.met = yes_no(met);
        }
    }

    fn runs(&mut self, name: &str, runs: &[Run], latencies: bool) {
        let mut line = format!("- {name}:");
        for run in runs {
            let _ = write!(line, " {}", rate(run.per_second));
            if latencies {
                let _ = write!(line, " ({:.3}/{:.3} ms", run.p50_ms, run.p99_ms);
                if run.events_per_commit.is_finite() {
                    let _ = write!(line, ", {:.1} events per commit", run.events_per_commit);
                }
                line.push(')');
            }
            line.push(';');
        }
        line.pop();
        self.details.push_str(&line);
        self.details.push('\n');
    }

    fn print(&self) {
        println!("| figure | Parcours store (median) | baseline (median, same run) | ratio | target | met? |");
        println!("|---|---|---|---|---|---|");
        for row in &self.rows {
            println!(
                "| {} | {} | {} | {} | {} | {} |",
                row.figure, row.value, row.baseline, row.ratio, row.target, row.met
            );
        }
        println!();
        println!("Every run (events/s, and p50/p99 where timed per call):");
        println!();
        print!("{}", self.details);
    }
}

fn main() -> Result<()> {
    let args = parse_args()?;
    let sizes = &args.sizes;
    let wants = |section: &str| args.only.as_ref().is_none_or(|only| only.contains(section));
    std::fs::create_dir_all(&args.dir)?;
    let root = scratch(&args.dir, "store-bench")?;
    let root = root.path();
    let record = sample_record()?;
    log(format!(
        "runs: {}; sample hours_worked record: {} bytes; scratch: {}",
        sizes.runs,
        record.len(),
        root.display()
    ));
    let mut report = Report::default();

    if wants("append") {
        log(format!("durable append, 1 writer: {} appends per run", sizes.single_appends));
        let (mut ours, mut raw_synced, mut raw_flushed, mut lite) = (vec![], vec![], vec![], vec![]);
        let mut bare = vec![];
        for run in 0..sizes.runs {
            // The five take turns, starting with a different one each run, so that a slow
            // patch of the shared machine does not always fall on the same one.
            for turn in 0..5 {
                match (run + turn) % 5 {
                    0 => raw_synced.push(raw_single_writer(root, sizes.single_appends, &record, true)?),
                    1 => raw_flushed.push(raw_single_writer(root, sizes.single_appends, &record, false)?),
                    2 => lite.push(sqlite::single_writer(root, sizes.single_appends, sizes.stream_events, &record)?),
                    3 => bare.push(raw_block_fdatasync(root, sizes.single_appends, &record)?),
                    _ => ours.push(store_single_writer(root, sizes.single_appends, sizes.stream_events)?),
                }
            }
            log(format!(
                "  run {run}: store {} raw+fdatasync {} raw flush only {} SQLite {} block+fdatasync {}",
                rate(ours[run].per_second),
                rate(raw_synced[run].per_second),
                rate(raw_flushed[run].per_second),
                rate(lite[run].per_second),
                rate(bare[run].per_second)
            ));
        }
        let bare_m = medians(&bare);
        report.runs("write a 4 KiB block + fdatasync (preallocated file), 1 writer", &bare, true);
        let lite_m = medians(&lite);
        report.runs("SQLite insert + commit (WAL, synchronous=FULL), 1 writer", &lite, true);
        let (ours_m, synced_m, flushed_m) = (medians(&ours), medians(&raw_synced), medians(&raw_flushed));
        report.runs("store append, 1 writer", &ours, true);
        report.runs("raw sled insert + flush + fdatasync, 1 writer", &raw_synced, true);
        report.runs("raw sled insert + flush, 1 writer", &raw_flushed, true);
        report.row_met(
            "durable append, 1 writer (events/s), vs the same durability",
            rate(ours_m.per_second),
            format!("{} (raw insert + flush + fdatasync)", rate(synced_m.per_second)),
            format!("{:.2}", ours_m.per_second / synced_m.per_second),
            "≥ 0.80 × baseline",
            ours_m.per_second >= 0.8 * synced_m.per_second,
        );
        report.row_met(
            "durable append, 1 writer (events/s), vs flush() only",
            rate(ours_m.per_second),
            format!("{} (raw insert + flush, no fdatasync)", rate(flushed_m.per_second)),
            format!("{:.2}", ours_m.per_second / flushed_m.per_second),
            "≥ 0.80 × baseline",
            ours_m.per_second >= 0.8 * flushed_m.per_second,
        );
        report.row_met(
            "durable append, 1 writer (events/s), vs SQLite",
            rate(ours_m.per_second),
            format!("{} (SQLite, one transaction per event)", rate(lite_m.per_second)),
            format!("{:.2}", ours_m.per_second / lite_m.per_second),
            "≥ 1.0 × SQLite",
            ours_m.per_second >= lite_m.per_second,
        );
        report.row(
            "durable append, 1 writer (events/s), vs one bare fdatasync per event",
            rate(ours_m.per_second),
            format!("{} (a 4 KiB block written + fdatasync)", rate(bare_m.per_second)),
            format!("{:.2}", ours_m.per_second / bare_m.per_second),
            "—",
        );
        report.row(
            "durable append, 1 writer: p50 / p99 latency",
            latency(&ours_m),
            format!("{} ; flush only {} ; SQLite {}", latency(&synced_m), latency(&flushed_m), latency(&lite_m)),
            format!("{:.2} / {:.2}", ours_m.p50_ms / synced_m.p50_ms, ours_m.p99_ms / synced_m.p99_ms),
            "—",
        );
    }

    if wants("concurrent") {
        for (writers, per_writer, target) in
            [(8, sizes.appends_per_writer_8, None), (64, sizes.appends_per_writer_64, Some(50_000.0))]
        {
            log(format!("durable append, {writers} writers: {per_writer} appends each per run"));
            let (mut ours, mut raw, mut lite) = (vec![], vec![], vec![]);
            for run in 0..sizes.runs {
                for turn in 0..3 {
                    match (run + turn) % 3 {
                        0 => ours.push(store_concurrent(root, writers, per_writer, sizes.stream_events)?),
                        1 => raw.push(raw_concurrent(root, writers, per_writer, &record)?),
                        _ => lite.push(sqlite::concurrent(root, writers, per_writer, sizes.stream_events, &record)?),
                    }
                }
                log(format!(
                    "  run {run}: store {} raw {} SQLite {}",
                    rate(ours[run].per_second),
                    rate(raw[run].per_second),
                    rate(lite[run].per_second)
                ));
            }
            let lite_m = medians(&lite);
            report.runs(&format!("SQLite insert + commit, {writers} writers, one connection each"), &lite, true);
            let (m, raw_m) = (medians(&ours), medians(&raw));
            let per_commit = median(ours.iter().map(|r| r.events_per_commit).collect());
            report.runs(&format!("store append, {writers} writers"), &ours, true);
            report.runs(&format!("raw sled insert + flush + fdatasync per event, {writers} writers"), &raw, true);
            let figure = format!("durable append, {writers} writers (events/s, total)");
            let baseline =
                format!("{} (raw insert + flush + fdatasync per event, {writers} threads)", rate(raw_m.per_second));
            let ratio = format!("{:.1}", m.per_second / raw_m.per_second);
            let value = format!("{} ({per_commit:.1} events per commit)", rate(m.per_second));
            match target {
                Some(target) => report.row_met(&figure, value, baseline, ratio, "≥ 50.0 k/s", m.per_second >= target),
                None => report.row(figure, value, baseline, ratio, "—"),
            }
            let vs_sqlite = m.per_second / lite_m.per_second;
            let figure = format!("durable append, {writers} writers (events/s, total), vs SQLite");
            let baseline = format!("{} (SQLite, {writers} connections)", rate(lite_m.per_second));
            if writers == 64 {
                let goal = "≥ 3.0 × SQLite and ≥ 100 k/s";
                let met = vs_sqlite >= 3.0 && m.per_second >= 100_000.0;
                report.row_met(&figure, rate(m.per_second), baseline, format!("{vs_sqlite:.1}"), goal, met);
            } else {
                report.row(figure, rate(m.per_second), baseline, format!("{vs_sqlite:.1}"), "—");
            }
            report.row(
                format!("durable append, {writers} writers: p50 / p99 latency"),
                latency(&m),
                format!("{} ; SQLite {}", latency(&raw_m), latency(&lite_m)),
                format!("{:.2} / {:.2}", m.p50_ms / raw_m.p50_ms, m.p99_ms / raw_m.p99_ms),
                "—",
            );
        }
    }

    if wants("read") {
        let events = sizes.read_streams * STREAM_EVENTS;
        log(format!("read: building {} streams × {STREAM_EVENTS} events, one event per append", sizes.read_streams));
        let dir = scratch(root, "read")?;
        let started = Instant::now();
        let store = build_interleaved(dir.path(), sizes.read_streams)?;
        log(format!("  built {events} events in {:.1} s", started.elapsed().as_secs_f64()));
        let raw_dir = scratch(root, "raw-read")?;
        let (db, _) = open_raw(raw_dir.path())?;
        copy_to_raw(&store, &db, true)?;
        let lite_dir = scratch(root, "sqlite-read")?;
        let mut connection = sqlite::open(lite_dir.path())?;
        sqlite::copy_from(&store, &mut connection)?;
        let streams = streams_of(&store)?;
        let (mut ours, mut raw, mut lite) = (vec![], vec![], vec![]);
        for run in 0..sizes.runs {
            let order = read_order(streams.len(), sizes.reads_per_run, 0x9e37_79b9 + run as u64);
            for turn in 0..3 {
                match (run + turn) % 3 {
                    0 => raw.push(raw_reads(&db, &streams, &order)?),
                    1 => lite.push(sqlite::reads(&connection, &streams, &order)?),
                    _ => ours.push(store_reads(&store, &streams, &order)?),
                }
            }
        }
        let (ours_m, raw_m, lite_m) = (medians(&ours), medians(&raw), medians(&lite));
        report.runs("store read_stream", &ours, true);
        report.runs("raw index scan + gets + decode", &raw, true);
        report.runs("SQLite select by stream ordered by version + decode", &lite, true);
        report.row(
            format!("read one {STREAM_EVENTS}-event stream among {events} events: p50 / p99, vs SQLite"),
            latency(&ours_m),
            format!("{} (SQLite, (stream, version) index)", latency(&lite_m)),
            format!("{:.2} / {:.2}", ours_m.p50_ms / lite_m.p50_ms, ours_m.p99_ms / lite_m.p99_ms),
            "—",
        );
        report.row_met(
            &format!("read one {STREAM_EVENTS}-event stream among {events} events: p50 / p99"),
            latency(&ours_m),
            format!("{} (index prefix scan + get per event)", latency(&raw_m)),
            format!("{:.2} / {:.2}", ours_m.p50_ms / raw_m.p50_ms, ours_m.p99_ms / raw_m.p99_ms),
            "p99 ≤ 1 ms",
            ours_m.p99_ms <= 1.0,
        );
    }

    if wants("scan") {
        let events = sizes.scan_events;
        log(format!("scan: building {events} events in requests of {REQUEST_EVENTS_MAX}"));
        let dir = scratch(root, "scan")?;
        let started = Instant::now();
        let store = build_bulk(dir.path(), events)?;
        let built = started.elapsed();
        log(format!("  built in {:.1} s ({})", built.as_secs_f64(), rate(events as f64 / built.as_secs_f64())));
        let raw_dir = scratch(root, "raw-scan")?;
        let (db, _) = open_raw(raw_dir.path())?;
        let started = Instant::now();
        let encoded = copy_to_raw(&store, &db, false)?;
        log(format!("  raw copy in {:.1} s", started.elapsed().as_secs_f64()));
        let lite_dir = scratch(root, "sqlite-scan")?;
        let mut connection = sqlite::open(lite_dir.path())?;
        let started = Instant::now();
        sqlite::copy_from(&store, &mut connection)?;
        log(format!("  SQLite copy in {:.1} s", started.elapsed().as_secs_f64()));
        let (mut ours, mut raw, mut lite) = (vec![], vec![], vec![]);
        for run in 0..sizes.runs {
            for turn in 0..3 {
                match (run + turn) % 3 {
                    0 => raw.push(raw_scan(&db, events)?),
                    1 => lite.push(sqlite::scan(&connection, events)?),
                    _ => ours.push(store_scan(&store, events)?),
                }
            }
            log(format!(
                "  run {run}: store {} raw {} SQLite {}",
                rate(ours[run].per_second),
                rate(raw[run].per_second),
                rate(lite[run].per_second)
            ));
        }
        let (ours_m, raw_m, lite_m) = (medians(&ours), medians(&raw), medians(&lite));
        report.runs("SQLite select ordered by position + decode", &lite, false);
        report.row_met(
            &format!("full log scan + decode, {events} events (events/s), vs SQLite"),
            rate(ours_m.per_second),
            format!("{} (SQLite + bincode)", rate(lite_m.per_second)),
            format!("{:.2}", ours_m.per_second / lite_m.per_second),
            "≥ 1.5 × SQLite",
            ours_m.per_second >= 1.5 * lite_m.per_second,
        );
        report.runs("store pages_from(1) scan + decode", &ours, false);
        report.runs("raw one-key-per-event iteration + decode", &raw, false);
        report.row_met(
            &format!("full log scan + decode, {events} events (events/s)"),
            rate(ours_m.per_second),
            format!("{} (one key per event + bincode)", rate(raw_m.per_second)),
            format!("{:.2}", ours_m.per_second / raw_m.per_second),
            "≥ 1.00 M/s",
            ours_m.per_second >= 1e6,
        );

        // 5. Disk footprint, both after a flush.
        let sled_dir = dir.path().join("log");
        let (store_apparent, store_allocated) = disk_usage(&sled_dir)?;
        let (raw_apparent, raw_allocated) = disk_usage(raw_dir.path())?;
        let (keys_apparent, keys_allocated) = disk_usage(&dir.path().join("keys"))?;
        let (_, lite_allocated) = disk_usage(lite_dir.path())?;
        report.row_met(
            &format!("disk for {events} events: du, vs SQLite (after a WAL checkpoint)"),
            mib(store_allocated),
            format!("{} ({:.2}× encoded)", mib(lite_allocated), lite_allocated as f64 / encoded as f64),
            format!("{:.2}", store_allocated as f64 / lite_allocated as f64),
            "≤ 1.0 × SQLite",
            store_allocated <= lite_allocated,
        );
        let store_sled = store.size_on_disk()?;
        let raw_sled = db.size_on_disk()?;
        report.row(
            format!("disk for {events} events ({} encoded): du of sled's dir (× encoded)", mib(encoded)),
            format!("{} ({:.2}×)", mib(store_allocated), store_allocated as f64 / encoded as f64),
            format!(
                "{} ({:.2}×; one key per event, no index)",
                mib(raw_allocated),
                raw_allocated as f64 / encoded as f64
            ),
            format!("{:.2}", store_allocated as f64 / raw_allocated as f64),
            "watch (≈ 1.7× in STORAGE-NOTES)",
        );
        let _ = writeln!(
            report.details,
            "- disk, scan store: sled size_on_disk {} , apparent {} , du {} ; key files {} apparent, {} du; \
             raw one-key-per-event: size_on_disk {} , apparent {} , du {} ; encoded events {} ({:.1} B/event); \
             pages of at most {PAGE_EVENTS_MAX} events",
            mib(store_sled),
            mib(store_apparent),
            mib(store_allocated),
            mib(keys_apparent),
            mib(keys_allocated),
            mib(raw_sled),
            mib(raw_apparent),
            mib(raw_allocated),
            mib(encoded),
            encoded as f64 / events as f64,
        );
    }

    if wants("commit") {
        for (batch, indexes) in [(1, false), (1, true), (57, false), (57, true), (64, true)] {
            let mut runs = vec![];
            let mut phases = vec![];
            for _ in 0..sizes.runs {
                let (run, phase) = raw_group_commit(root, 400, batch, indexes, &record)?;
                runs.push(run);
                phases.push(phase);
            }
            let m = medians(&runs);
            let phase = |i: usize| median(phases.iter().map(|p: &[f64; 3]| p[i]).collect());
            let line = format!(
                "raw group commit of {batch} (indexes: {indexes}): {} p50 {:.3} ms; insert {:.3} flush {:.3} fdatasync {:.3} ms",
                rate(m.per_second),
                m.p50_ms,
                phase(0),
                phase(1),
                phase(2)
            );
            log(&line);
            let _ = writeln!(report.details, "- {line} (medians of {} runs)", sizes.runs);
        }
    }

    report.print();
    Ok(())
}
