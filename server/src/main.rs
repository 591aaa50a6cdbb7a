//! `parcours`: the server and the command line, one binary (CONTRACT §6).

#![forbid(unsafe_code)]

use clap::Parser;

/// mimalloc rather than glibc's malloc: reading a large log, sled frees big node buffers between
/// the small strings of each decoded event, and glibc then spends more time sorting its free lists
/// on every `calloc` than the rest of decoding (three times slower scans at ten million events,
/// BENCHMARKS.md). The projections benchmark uses the same allocator.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    // No transparent huge pages: mimalloc asks for them, and the churn of page buffers while
    // reading the log had the kernel zero 2 MiB pages over and over, a third of the CPU of opening
    // a 10M store and rebuilding. Without them the rebuild burns about a tenth less CPU and holds
    // 60 MiB less (BENCHMARKS.md, issue 3); the projections benchmark does the same. Where the
    // kernel lacks the setting, nothing changes.
    let _ = nix::sys::prctl::set_thp_disable(true);
    let cli = parcours_server::cli::Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("PARCOURS_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    match parcours_server::run(cli) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("parcours: {error:#}");
            std::process::ExitCode::from(2)
        }
    }
}
