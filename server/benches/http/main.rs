//! The HTTP benchmarks of issue 4 (item 6) and the cost of authorisation (issue 7): each figure
//! beside a baseline measured in the same run, printed as Markdown (see BENCHMARKS.md and
//! `benches/http/README.md`, which has the exact commands).
//!
//! ```text
//! CARGO_TARGET_DIR=/work/target-f cargo bench -p parcours-server --bench http -- \
//!     [--only append,read,auth,live] [--runs N] [--seconds S] [--dir /work/bench-tmp-http]
//! ```
//!
//! Sections:
//! - `append`: durable appends through `parcours serve` (the release binary), one event per
//!   request, 64 connections (wrk); baseline: the store's own durable appends, 64 threads in
//!   process, on the same people.
//! - `read`: history reads of 30-event streams (wrk); baselines: `GET /healthz` on the same server
//!   (the HTTP stack's ceiling) and `Store::read_stream` in process on the same store.
//! - `auth`: appends through the product's router (`router::router`, bearer token checked by
//!   `access::enforce`) against a benchmark-only router that mounts the same handler with the same
//!   layers but hands it the token's caller without checking anything, both served by the
//!   product's connection loop from one process and one store, taking turns; and the token check
//!   alone, in process.
//! - `live`: 1,000 clients of `GET /api/events/live`; for each append, the time from its 2xx to
//!   each client's receipt; baseline: one client, same server, same run.
//!
//! The machine is shared and noisy: every section takes turns between a figure and its baseline
//! within each run, and the tables give medians over runs and ratios of medians.

mod append;
mod auth;
mod common;
mod live;
mod read;
#[path = "../../../benches/stats.rs"]
mod stats;

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use common::{log, Result};

/// The server's allocator (`server/src/main.rs` says why): the auth section serves from this
/// process, and on glibc's heap its figures drifted run after run (`_int_malloc` and
/// `malloc_consolidate` among the top of a profile), unlike the `parcours` binary's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const SECTIONS: [&str; 4] = ["append", "read", "auth", "live"];

pub struct Args {
    pub only: Option<HashSet<String>>,
    pub runs: usize,
    /// How long each timed load lasts.
    pub duration: Duration,
    /// HTTP connections (and in-process writers) of the append and read loads.
    pub connections: usize,
    /// wrk's threads: it shares the two cores with the server.
    pub wrk_threads: usize,
    /// People appended to in the append sections (each appends goes to the next in turn).
    pub people: usize,
    /// People with a 30-event history in the read section.
    pub readers: usize,
    /// Live clients, and appends timed per run in the live section.
    pub live_clients: usize,
    pub live_appends: usize,
    /// The role of the live clients' token: a coordinator's feed is filtered by the projections.
    pub live_role: String,
    pub dir: PathBuf,
    /// Another build of `parcours` whose HTTP appends are measured in the same runs (A/B).
    pub versus: Option<PathBuf>,
}

fn parse_args() -> Result<Args> {
    let mut args = Args {
        only: None,
        runs: 5,
        duration: Duration::from_secs(10),
        connections: 64,
        wrk_threads: 1,
        people: 4096,
        readers: 1000,
        live_clients: 1000,
        live_appends: 100,
        live_role: "coordinator".into(),
        dir: PathBuf::from("/work/bench-tmp-http"),
        versus: None,
    };
    let mut given = std::env::args().skip(1);
    let number = |given: &mut dyn Iterator<Item = String>, name: &str| -> Result<usize> {
        Ok(given.next().ok_or(format!("{name} needs a number"))?.parse::<usize>()?)
    };
    while let Some(arg) = given.next() {
        match arg.as_str() {
            // cargo passes `--bench` to every bench binary.
            "--bench" => {}
            "--only" => {
                let names: HashSet<String> =
                    given.next().ok_or("--only needs a list")?.split(',').map(str::to_owned).collect();
                if let Some(unknown) = names.iter().find(|name| !SECTIONS.contains(&name.as_str())) {
                    return Err(format!("unknown section {unknown}; expected some of {SECTIONS:?}").into());
                }
                args.only = Some(names);
            }
            "--runs" => args.runs = number(&mut given, "--runs")?.max(1),
            "--seconds" => args.duration = Duration::from_secs(number(&mut given, "--seconds")?.max(1) as u64),
            "--connections" => args.connections = number(&mut given, "--connections")?.max(1),
            "--wrk-threads" => args.wrk_threads = number(&mut given, "--wrk-threads")?.max(1),
            "--people" => args.people = number(&mut given, "--people")?.max(1),
            "--readers" => args.readers = number(&mut given, "--readers")?.max(1),
            "--live-clients" => args.live_clients = number(&mut given, "--live-clients")?.max(1),
            "--live-appends" => args.live_appends = number(&mut given, "--live-appends")?.max(1),
            "--live-role" => args.live_role = given.next().ok_or("--live-role needs a role")?,
            "--versus" => args.versus = Some(PathBuf::from(given.next().ok_or("--versus needs a path")?)),
            "--dir" => args.dir = PathBuf::from(given.next().ok_or("--dir needs a path")?),
            other => return Err(format!("unknown argument {other}").into()),
        }
    }
    Ok(args)
}

impl Args {
    fn wants(&self, section: &str) -> bool {
        self.only.as_ref().is_none_or(|only| only.contains(section))
    }

    /// A fresh directory under `--dir` for one store, removed when dropped.
    pub fn scratch(&self, name: &str) -> Result<tempfile::TempDir> {
        Ok(tempfile::Builder::new().prefix(&format!("{name}-")).tempdir_in(&self.dir)?)
    }
}

/// The release `parcours` binary cargo built for this bench.
pub fn bin() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_parcours"))
}

fn main() -> Result<()> {
    let args = parse_args()?;
    std::fs::create_dir_all(&args.dir)?;
    // 2 workers, as many as the machine's cores: the setup clients and the live clients.
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    println!("# HTTP benchmarks (issues 4 and 7)\n");
    println!(
        "runs: {}, timed loads of {} s, {} connections, wrk threads: {}; load average at start: {}\n",
        args.runs,
        args.duration.as_secs(),
        args.connections,
        args.wrk_threads,
        common::load_average()
    );
    if args.wants("append") {
        log("http", "append: appends through parcours serve, and the store in process");
        append::run(&args, &runtime)?;
    }
    if args.wants("read") {
        log("http", "read: history reads, /healthz, and read_stream in process");
        read::run(&args, &runtime)?;
    }
    if args.wants("auth") {
        log("http", "auth: the product's router against the same handler without the access check");
        auth::run(&args, &runtime)?;
    }
    if args.wants("live") {
        log("http", format!("live: {} clients of /api/events/live against one", args.live_clients));
        live::run(&args, &runtime)?;
    }
    println!("load average at the end: {}", common::load_average());
    Ok(())
}
