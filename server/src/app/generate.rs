//! `parcours generate` (CONTRACT §12): fills an empty store with a national-like log from the
//! benchmarks' generator (`parcours_core::demo::scaled_config`), through the bulk path
//! (`Store::seed`), so that a log of any size can be built, measured and shared as flags.
//!
//! Why the last day is a flag with a fixed default rather than the clock: the same flags must give
//! the same log, byte for byte, on any day and any machine (ids, dates and hashes included), so
//! that a figure measured on a generated log can be checked by anyone who generates it again.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use parcours_core::demo::scaled_config;
use parcours_core::store::{Store, StoreError, StoreOptions};
use parcours_core::vocabulary::{Date, Timestamp};

/// The benchmarks' seed and last day (`projections/benches/projections/generated.rs`): a log
/// generated with the defaults is the benchmarks' log.
pub const DEFAULT_SEED: u64 = 2026;
pub const DEFAULT_TODAY: &str = "2026-10-31";
/// About the French ratio of people to integration structures: one structure per 200 people.
pub const PEOPLE_PER_STRUCTURE: usize = 200;
/// How often the progress callback is told, in events: often enough for a live bar, rarely
/// enough to cost nothing beside the writing.
const PROGRESS_EVERY: u64 = 4096;

/// What to generate; two equal requests give byte-identical logs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GenerateRequest {
    pub data: PathBuf,
    /// Events to write at most (the log stops there, in the middle of the story).
    pub events: u64,
    pub people: usize,
    pub years: u32,
    /// `None`: one per [`PEOPLE_PER_STRUCTURE`] people.
    pub structures: Option<usize>,
    pub seed: u64,
    /// The last day of the history.
    pub today: Date,
}

/// What was written.
#[derive(Clone, Debug, PartialEq)]
pub struct Generated {
    pub events: u64,
    pub structures: usize,
    pub head_hash: [u8; 32],
    pub elapsed: Duration,
}

#[derive(Debug, thiserror::Error)]
pub enum GenerateError {
    #[error("--events must be at least 1")]
    NoEvents,
    #[error("--people must be at least 1")]
    NoPeople,
    #[error("--years must be at least 1")]
    NoYears,
    #[error("--structures must be at least 1")]
    NoStructures,
    #[error("--today {today} is in the future: the store would refuse appends dated before it")]
    FutureToday { today: Date },
    #[error(
        "the store in {dir} already holds {events} events: `parcours generate` fills only an empty \
         store (give another --data, or remove this one)"
    )]
    NotEmpty { dir: PathBuf, events: u64 },
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl GenerateRequest {
    fn check(&self, now: Timestamp) -> Result<(), GenerateError> {
        if self.events == 0 {
            return Err(GenerateError::NoEvents);
        }
        if self.people == 0 {
            return Err(GenerateError::NoPeople);
        }
        if self.years == 0 {
            return Err(GenerateError::NoYears);
        }
        if self.structures == Some(0) {
            return Err(GenerateError::NoStructures);
        }
        if self.today.0 > now.0.date_naive() {
            return Err(GenerateError::FutureToday { today: self.today });
        }
        Ok(())
    }

    fn structures(&self) -> usize {
        self.structures.unwrap_or((self.people / PEOPLE_PER_STRUCTURE).max(1))
    }
}

/// When the generated events count as recorded at the latest: the evening of the last day (as the
/// benchmarks do), never the clock, so that `recorded_at` does not depend on when it runs.
fn recorded_until(today: Date) -> Timestamp {
    Timestamp(today.0.and_hms_opt(20, 0, 0).unwrap_or_default().and_utc())
}

/// Generates the log into the empty store of `request.data`, telling `progress` how many events
/// are written so far. Fewer events than asked come out when the people's histories end first.
pub fn generate(request: &GenerateRequest, mut progress: impl FnMut(u64)) -> Result<Generated, GenerateError> {
    request.check(Timestamp::now())?;
    refuse_non_empty(&request.data)?;
    let structures = request.structures();
    let mut config = scaled_config(request.seed, request.today, request.people, structures);
    config.years = request.years;
    let started = Instant::now();
    let mut written = 0u64;
    let events = config.seeded(recorded_until(request.today)).take(request.events as usize).inspect(|_| {
        written += 1;
        if written % PROGRESS_EVERY == 0 {
            progress(written);
        }
    });
    let report = Store::seed(&request.data, StoreOptions::default(), events)?;
    progress(report.events);
    Ok(Generated { events: report.events, structures, head_hash: report.head_hash, elapsed: started.elapsed() })
}

/// A clear refusal before anything is written, rather than the bulk path's "not empty".
fn refuse_non_empty(dir: &Path) -> Result<(), GenerateError> {
    if !dir.join("log").exists() {
        return Ok(());
    }
    let events = Store::open(dir, StoreOptions::default())?.last_position();
    if events > 0 {
        return Err(GenerateError::NotEmpty { dir: dir.to_owned(), events });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request() -> GenerateRequest {
        GenerateRequest {
            data: PathBuf::from("unused"),
            events: 1000,
            people: 30,
            years: 3,
            structures: None,
            seed: DEFAULT_SEED,
            today: DEFAULT_TODAY.parse().unwrap(),
        }
    }

    /// A change that makes a request wrong, and the start of the refusal expected.
    type BadFlag = (fn(&mut GenerateRequest), &'static str);

    #[test]
    fn bad_flags_are_refused_with_the_flag_named() {
        let now: Timestamp = Timestamp(chrono::DateTime::parse_from_rfc3339("2026-12-07T10:00:00Z").unwrap().into());
        let cases: [BadFlag; 5] = [
            (|r| r.events = 0, "--events must be at least 1"),
            (|r| r.people = 0, "--people must be at least 1"),
            (|r| r.years = 0, "--years must be at least 1"),
            (|r| r.structures = Some(0), "--structures must be at least 1"),
            (|r| r.today = "2026-12-08".parse().unwrap(), "--today 2026-12-08 is in the future"),
        ];
        for (change, expected) in cases {
            let mut bad = request();
            change(&mut bad);
            let error = bad.check(now).unwrap_err().to_string();
            assert!(error.starts_with(expected), "{error}");
        }
        assert!(request().check(now).is_ok());
    }

    #[test]
    fn one_structure_per_200_people_by_default_and_at_least_one() {
        assert_eq!(GenerateRequest { people: 30_000, ..request() }.structures(), 150);
        assert_eq!(GenerateRequest { people: 30, ..request() }.structures(), 1);
        assert_eq!(GenerateRequest { structures: Some(7), ..request() }.structures(), 7);
    }
}
