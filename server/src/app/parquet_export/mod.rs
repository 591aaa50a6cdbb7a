//! The Parquet export (CONTRACT §12): the log as pseudonymised Apache Parquet files for DuckDB,
//! Polars or Spark, written by `parcours export-parquet` and zipped by `GET /api/export/parquet`.
//!
//! Layout under the target directory:
//! - `episodes.parquet`: one row per episode, from the projections (corrections applied), so that
//!   the entry and outcome figures recomputed from it equal the API's;
//! - `events/year=YYYY/part-NNNN.parquet`: one row per event of the log as recorded, partitioned
//!   (Hive style) by the year of `occurred_on`.
//!
//! The person key is HMAC-SHA-256 of the stream id under a secret drawn for this export and never
//! written anywhere: the same person has the same key in both tables of one export, and no key
//! can be linked to the store's ids, nor to the keys of another export. What else is left out is
//! decided in `rows`. The README documents the columns.
//!
//! Both tables stop at the log's last position when the export starts: a consistent cut however
//! many appends happen meanwhile. Typed inputs and outputs only: the HTTP route and the command
//! line are thin callers.

mod rows;
mod table;

use std::collections::{BTreeMap, HashMap};
use std::io::{Seek, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use hmac::{Hmac, Mac};
use parcours_core::store::{Store, StoreError};
use parcours_core::vocabulary::{Slug, Step, StreamId};
use parcours_projections::{rebuild_until, RunnerError};
use sha2::Sha256;

use rows::{episode_row, event_row, EventContext, EPISODE_COLUMNS, EVENT_COLUMNS};
use table::TableWriter;

/// Rows of events per file: files of a few hundred MiB at most, which every reader splits well.
const EVENTS_PER_PART: u64 = 4_000_000;
/// Bytes of the person key kept from the HMAC: 128 bits, no collision among millions of people.
const PERSON_KEY_BYTES: usize = 16;

/// What an export wrote.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParquetExport {
    /// The log position the export stops at.
    pub position: u64,
    pub episodes: u64,
    pub events: u64,
    /// Paths relative to the target directory, in the order written.
    pub files: Vec<PathBuf>,
    pub bytes: u64,
    pub elapsed: Duration,
}

#[derive(Debug, thiserror::Error)]
pub enum ParquetExportError {
    #[error("{path} is not empty: the Parquet export writes into a new or empty directory")]
    NotEmpty { path: PathBuf },
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("writing {path}: {source}")]
    Parquet { path: PathBuf, source: parquet::errors::ParquetError },
    #[error("writing {path}: {problem}")]
    Schema { path: PathBuf, problem: String },
    #[error("zipping the export: {0}")]
    Zip(#[from] zip::result::ZipError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Projections(#[from] RunnerError),
}

/// Over HTTP an export fails as the store's failures do (a server error, its cause logged).
impl From<ParquetExportError> for crate::app::AppError {
    fn from(error: ParquetExportError) -> Self {
        match error {
            ParquetExportError::Store(error) => crate::app::AppError::Store(error),
            other => crate::app::AppError::Store(StoreError::Encode(other.to_string())),
        }
    }
}

fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> ParquetExportError + '_ {
    move |source| ParquetExportError::Io { path: path.to_owned(), source }
}

/// The person keys of one export.
struct PersonKeys {
    keyed: Hmac<Sha256>,
}

impl PersonKeys {
    /// Under a fresh random secret, forgotten with this value.
    fn new() -> PersonKeys {
        // One block of SHA-256: the longest key HMAC uses as it is.
        let mut secret = [0u8; 64];
        rand::RngCore::fill_bytes(&mut rand::thread_rng(), &mut secret);
        PersonKeys { keyed: <Hmac<Sha256> as hmac::digest::KeyInit>::new(&secret.into()) }
    }

    fn of(&self, stream: StreamId) -> String {
        let mut mac = self.keyed.clone();
        mac.update(stream.as_bytes());
        hex::encode(&mac.finalize().into_bytes()[..PERSON_KEY_BYTES])
    }
}

/// Writes the export of `store` into `to` (created if missing; it must be empty), telling
/// `progress` (done, total) as it goes: the projections' rebuild, then the pass over the events.
pub fn export(
    store: &Store,
    to: &Path,
    mut progress: impl FnMut(u64, u64),
) -> Result<ParquetExport, ParquetExportError> {
    let started = Instant::now();
    prepare(to)?;
    let position = store.last_position();
    let total = position * 2;
    let keys = PersonKeys::new();
    let mut files = Vec::new();

    let projections = rebuild_until(store, position, |done| progress(done, total))?;
    let relative = PathBuf::from("episodes.parquet");
    let mut episodes = TableWriter::create(&to.join(&relative), EPISODE_COLUMNS)?;
    let mut last: Option<(StreamId, String)> = None;
    for episode in projections.episode_rows() {
        let person = match &last {
            Some((stream, key)) if *stream == episode.stream => key.clone(),
            _ => keys.of(episode.stream),
        };
        let mut benefits = None;
        episodes.push(&episode_row(&episode, &person, &mut benefits))?;
        last = Some((episode.stream, person));
    }
    let episode_count = episodes.finish()?;
    files.push(relative);
    drop(projections);

    let mut events = EventFiles::new(to);
    let mut streams: HashMap<StreamId, StreamFacts> = HashMap::new();
    let mut slugs = SlugTable::default();
    let mut event_count = 0u64;
    'pages: for page in store.pages_from(1) {
        let (_, page) = page?;
        for envelope in &page {
            if envelope.position > position {
                break 'pages;
            }
            let facts = match &envelope.step {
                Step::StructureUpdated(_) | Step::ReportPublished(_) => None,
                _ => Some(
                    streams
                        .entry(envelope.stream)
                        .or_insert_with(|| StreamFacts { person: keys.of(envelope.stream), structure: None }),
                ),
            };
            let structure = match &envelope.step {
                Step::StructureUpdated(updated) => Some(slugs.intern(&updated.slug)),
                Step::ReportPublished(_) => None,
                step => {
                    let own = match step {
                        Step::Registered(registered) => Some(&registered.structure),
                        Step::Referred(referred) => Some(&referred.structure),
                        _ => None,
                    };
                    let facts = facts.as_ref().map(|facts| facts.structure);
                    own.map(|slug| slugs.intern(slug)).or(facts.flatten())
                }
            };
            let corrects_position = match &envelope.step {
                Step::Corrected(corrected) => store.read_event(corrected.corrects)?.map(|event| event.position),
                _ => None,
            };
            let person = match facts {
                Some(facts) => {
                    facts.structure = structure;
                    Some(facts.person.as_str())
                }
                None => None,
            };
            let context = EventContext { person, structure: structure.map(|ix| slugs.get(ix)), corrects_position };
            let mut made_text = None;
            let row = event_row(envelope, &context, &mut made_text);
            events.push(envelope.occurred_on.year(), &row, &mut files)?;
            event_count += 1;
            if event_count % 4096 == 0 {
                progress(position + envelope.position, total);
            }
        }
    }
    events.finish(&mut files)?;
    progress(total, total);

    let mut bytes = 0;
    for file in &files {
        let path = to.join(file);
        bytes += std::fs::metadata(&path).map_err(io_error(&path))?.len();
    }
    Ok(ParquetExport {
        position,
        episodes: episode_count,
        events: event_count,
        files,
        bytes,
        elapsed: started.elapsed(),
    })
}

/// Creates `to`, or checks that it is an empty directory: an export never mixes with other files.
fn prepare(to: &Path) -> Result<(), ParquetExportError> {
    std::fs::create_dir_all(to).map_err(io_error(to))?;
    if std::fs::read_dir(to).map_err(io_error(to))?.next().is_some() {
        return Err(ParquetExportError::NotEmpty { path: to.to_owned() });
    }
    Ok(())
}

/// What the pass over the events keeps per person stream.
struct StreamFacts {
    person: String,
    /// That of the last referral, else of the registration (CONTRACT §7's current structure).
    structure: Option<u32>,
}

/// Structure slugs by number, so that each stream keeps a number rather than a string.
#[derive(Default)]
struct SlugTable {
    slugs: Vec<Slug>,
    numbers: HashMap<Slug, u32>,
}

impl SlugTable {
    fn intern(&mut self, slug: &Slug) -> u32 {
        if let Some(&number) = self.numbers.get(slug) {
            return number;
        }
        let number = self.slugs.len() as u32;
        self.slugs.push(slug.clone());
        self.numbers.insert(slug.clone(), number);
        number
    }

    fn get(&self, number: u32) -> &str {
        self.slugs.get(number as usize).map_or("", Slug::as_str)
    }
}

/// The open part of each year of `events/`.
struct EventFiles<'a> {
    to: &'a Path,
    years: BTreeMap<i32, YearPart>,
}

struct YearPart {
    relative: PathBuf,
    part: u32,
    writer: TableWriter,
}

impl<'a> EventFiles<'a> {
    fn new(to: &'a Path) -> EventFiles<'a> {
        EventFiles { to, years: BTreeMap::new() }
    }

    fn open(&self, year: i32, part: u32) -> Result<YearPart, ParquetExportError> {
        let dir = PathBuf::from("events").join(format!("year={year}"));
        std::fs::create_dir_all(self.to.join(&dir)).map_err(io_error(&self.to.join(&dir)))?;
        let relative = dir.join(format!("part-{part:04}.parquet"));
        let writer = TableWriter::create(&self.to.join(&relative), EVENT_COLUMNS)?;
        Ok(YearPart { relative, part, writer })
    }

    fn push(&mut self, year: i32, row: &[table::Cell], files: &mut Vec<PathBuf>) -> Result<(), ParquetExportError> {
        let full = self.years.get(&year).is_some_and(|open| open.writer.rows() >= EVENTS_PER_PART);
        if full {
            if let Some(done) = self.years.remove(&year) {
                let next = self.open(year, done.part + 1)?;
                done.writer.finish()?;
                files.push(done.relative);
                self.years.insert(year, next);
            }
        }
        if !self.years.contains_key(&year) {
            let part = self.open(year, 0)?;
            self.years.insert(year, part);
        }
        match self.years.get_mut(&year) {
            Some(open) => open.writer.push(row),
            None => Ok(()),
        }
    }

    fn finish(self, files: &mut Vec<PathBuf>) -> Result<(), ParquetExportError> {
        for (_, open) in self.years {
            open.writer.finish()?;
            files.push(open.relative);
        }
        Ok(())
    }
}

/// Writes an export into a temporary directory and returns it as one zip (entries stored: the
/// Parquet pages are compressed already), for `GET /api/export/parquet`.
pub fn export_zip(store: &Store) -> Result<(ParquetExport, Vec<u8>), ParquetExportError> {
    let scratch = tempfile::tempdir().map_err(io_error(&std::env::temp_dir()))?;
    let export = export(store, scratch.path(), |_, _| {})?;
    let mut zipped = std::io::Cursor::new(Vec::new());
    zip_files(scratch.path(), &export.files, &mut zipped)?;
    Ok((export, zipped.into_inner()))
}

fn zip_files(dir: &Path, files: &[PathBuf], out: impl Write + Seek) -> Result<(), ParquetExportError> {
    let mut zip = zip::ZipWriter::new(out);
    for file in files {
        let path = dir.join(file);
        let size = std::fs::metadata(&path).map_err(io_error(&path))?.len();
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Stored)
            .large_file(size >= u64::from(u32::MAX));
        // Zip names use `/` whatever the platform.
        let name = file.components().map(|part| part.as_os_str().to_string_lossy()).collect::<Vec<_>>().join("/");
        zip.start_file(name, options)?;
        let mut source = std::fs::File::open(&path).map_err(io_error(&path))?;
        std::io::copy(&mut source, &mut zip).map_err(io_error(&path))?;
    }
    zip.finish()?;
    Ok(())
}
