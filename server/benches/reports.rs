//! The activity-report benchmark of issue 8 (placeholder: generates the national-size log).

use std::path::{Path, PathBuf};
use std::time::Instant;

use parcours_core::demo::scaled_config;
use parcours_core::store::{Store, StoreOptions};
use parcours_core::vocabulary::{Date, Timestamp};

type Result<T, E = Box<dyn std::error::Error + Send + Sync>> = std::result::Result<T, E>;

fn ensure_log(dir: &Path, people: usize, structures: usize, today: Date) -> Result<PathBuf> {
    let path = dir.join(format!("log-seed2026-{today}-{people}p-{structures}s"));
    let done = path.join("complete");
    if done.exists() {
        return Ok(path);
    }
    if path.exists() {
        std::fs::remove_dir_all(&path)?;
    }
    std::fs::create_dir_all(&path)?;
    let config = scaled_config(2026, today, people, structures);
    let started = Instant::now();
    let report = Store::seed(&path, StoreOptions::default(), config.seeded(Timestamp::now()))?;
    eprintln!("seeded {} events in {:.1} s", report.events, started.elapsed().as_secs_f64());
    std::fs::write(&done, format!("{}\n", report.events))?;
    Ok(path)
}

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let dir = args.iter().position(|arg| arg == "--dir").and_then(|i| args.get(i + 1)).cloned();
    let dir = PathBuf::from(dir.unwrap_or_else(|| "/work/bench-g".into()));
    let people = args.iter().position(|arg| arg == "--people").and_then(|i| args.get(i + 1)?.parse().ok());
    let today: Date = "2026-06-30".parse().map_err(|_| "date")?;
    let path = ensure_log(&dir, people.unwrap_or(300_000), 200, today)?;
    println!("{}", path.display());
    Ok(())
}
