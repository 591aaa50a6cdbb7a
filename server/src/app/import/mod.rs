//! Spreadsheet import (CONTRACT §9): a structure's sheet of people and contracts, read through a
//! mapping, checked by the pathway rules, appended through the store's normal path.
//!
//! The sheet is read in passes, each streaming its rows (`sheet`):
//! 1. **count**: how many rows each person has (a 16-byte digest of their key → a count): memory
//!    grows with the number of people, not with rows or cells;
//! 2. **check**: rows are gathered per person; once a person's last row is read, their steps are
//!    built, ordered by date, checked against their stream as stored, counted, and dropped. Memory
//!    holds the rows of the people in flight: for a sheet sorted by person (an export usually is),
//!    one person; for an unsorted sheet, every person whose rows are not all read yet (at worst the
//!    whole sheet's mapped cells, never its raw bytes);
//! 3. **write** (not on a dry run, and only if the check found no bad row or `skip_bad_rows` was
//!    asked): each person's new steps appended, batches of people handed to the writer together
//!    ([`Store::append_many`]) so that a batch costs a few fsyncs for its events, and its new
//!    people's keys are made durable together before them (one batch file of keys). The steps are
//!    those the check planned, kept in memory while they are at most [`KEPT_EVENTS_MAX`] (a sheet
//!    of the size, 100,000 rows of contracts): planning every person twice and reading
//!    the sheet a third time was most of an import's time once the keys were written together
//!    (BENCHMARKS.md, issue 17). A larger sheet is walked again instead, each person planned
//!    again, the batches written by a thread of their own while the walk plans the next people:
//!    memory stays bounded whatever the sheet's size.
//!
//! All or nothing: without `skip_bad_rows`, nothing is written unless every row passed the check.
//! Each append carries the stream's version at the check (`expected_version`): a step recorded
//! meanwhile by someone else refuses that person's append (reported, nothing half-written), and
//! since ids come from content, importing the file again finishes the job without doubles.
//!
//! Ids: a person's stream is found by their blind key among the people of the mapping's structure,
//! else it is derived from the structure and the person's key; every event's id is a UUID v5 of the
//! structure, the person's key and the step's own values, so a step already stored is recognised
//! and counted in `events_already_there`, never written twice.

mod asked;
pub mod mapping;
mod person;
pub mod previews;
pub mod sheet;

use std::collections::HashMap;

use parcours_core::store::{Author, Store, StoreError};
use parcours_core::vocabulary::Date;
use serde::Serialize;
use sha2::{Digest, Sha256};

pub use asked::{import_sheet, save_mapping, saved_mappings};
pub use mapping::Mapping;
pub use sheet::Source;

/// How an import runs.
#[derive(Clone, Debug)]
pub struct ImportOptions {
    pub dry_run: bool,
    pub skip_bad_rows: bool,
    /// The day of the import: the rules' "today".
    pub today: Date,
}

/// The largest sheet accepted over HTTP, by the API and the web page. A 100,000-row CSV of
/// contracts is about 15 MiB; the command line reads files of any size from disk.
pub const IMPORT_BODY_MAX: usize = 64 * 1024 * 1024;

/// People handed to the writer at once. Each is one append request; the writer's queue takes them
/// in group commits, so a batch of this size costs a handful of fsyncs for its events. The new
/// people's keys go into one file per batch (`KeyStore::create_many`): two syncs per batch.
const WRITE_BATCH_PEOPLE: usize = 1024;
/// The most new steps the check pass keeps for the write pass (see the module's doc): about
/// 100 MiB, the steps of a 100,000-row sheet of contracts (280,000 for 40,000 people). Past it the
/// kept steps are dropped and the write pass walks the sheet again.
const KEPT_EVENTS_MAX: usize = 320_000;
/// People shown in the preview (CONTRACT §9).
const PREVIEW_PEOPLE: usize = 20;
/// Row errors listed in an answer; `errors_total` counts them all.
const ERRORS_LISTED_MAX: usize = 1000;

/// The answer of an import (CONTRACT §9).
#[derive(Clone, Debug, Default, Serialize)]
pub struct ImportReport {
    pub rows: u64,
    pub people_new: u64,
    pub people_existing: u64,
    pub events_new: u64,
    pub events_already_there: u64,
    pub errors: Vec<RowError>,
    /// Every bad cell and step, even past the ones listed.
    pub errors_total: u64,
    pub preview: Vec<person::PreviewPerson>,
    /// Whether anything was written.
    pub written: bool,
}

/// A bad cell or step: `row` as a spreadsheet shows it (the header is row 1).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RowError {
    pub row: u32,
    pub column: Option<String>,
    pub value: Option<String>,
    pub message: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The mapping cannot be used with this sheet (French, shown to the user).
    #[error("{0}")]
    Mapping(String),
    /// The file cannot be read (French, shown to the user).
    #[error("{0}")]
    Sheet(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Where an import stands, for a progress bar.
#[derive(Clone, Copy, Debug)]
pub struct Progress {
    /// 1 count, 2 check, 3 write.
    pub pass: u8,
    pub rows_done: u64,
    /// Known from the second pass on.
    pub rows_total: Option<u64>,
}

/// Imports a sheet. `author` writes the events (the writer enforces its scope); `progress` is told
/// every few hundred rows.
pub fn run(
    store: &Store,
    author: &Author,
    source: &Source,
    mapping: &Mapping,
    options: &ImportOptions,
    progress: &mut dyn FnMut(Progress),
) -> Result<ImportReport, ImportError> {
    run_keeping(store, author, source, mapping, options, KEPT_EVENTS_MAX, progress)
}

/// [`run`], keeping at most `kept_events_max` planned steps for the write pass (tests walk the
/// sheet again with 0).
fn run_keeping(
    store: &Store,
    author: &Author,
    source: &Source,
    mapping: &Mapping,
    options: &ImportOptions,
    kept_events_max: usize,
    progress: &mut dyn FnMut(Progress),
) -> Result<ImportReport, ImportError> {
    let columns = Columns::read(source, mapping)?;
    let counts = count_rows(source, mapping, &columns, progress)?;
    let rows_total = counts.values().map(|count| u64::from(*count)).sum::<u64>();
    let mut report = ImportReport::default();
    let mut kept = (!options.dry_run).then(|| Kept::new(kept_events_max));
    let walk_pass = |pass, report: &mut ImportReport, kept: &mut Option<Kept>, progress: &mut dyn FnMut(u64)| {
        walk(store, author, source, mapping, &columns, &counts, options, pass, report, kept, progress)
    };
    walk_pass(Pass::Check, &mut report, &mut kept, &mut |done| {
        progress(Progress { pass: 2, rows_done: done, rows_total: Some(rows_total) })
    })?;
    let clean = report.errors_total == 0;
    if options.dry_run || !(clean || options.skip_bad_rows) {
        return Ok(report);
    }
    let mut written = ImportReport::default();
    let mut write_progress = |done| progress(Progress { pass: 3, rows_done: done, rows_total: Some(rows_total) });
    match kept {
        Some(kept) => write_kept(store, author, kept, rows_total, &mut written, &mut write_progress),
        None => walk_pass(Pass::Write, &mut written, &mut None, &mut write_progress)?,
    }
    // What was written is what counts now; the rows' errors are those of the check, plus any
    // append refused in between.
    written.errors.splice(0..0, report.errors);
    written.errors.truncate(ERRORS_LISTED_MAX);
    written.errors_total += report.errors_total;
    written.rows = report.rows;
    written.written = written.events_new > 0;
    Ok(written)
}

/// The header's column numbers of the columns the mapping reads.
pub(crate) struct Columns {
    index: HashMap<String, usize>,
}

impl Columns {
    fn read(source: &Source, mapping: &Mapping) -> Result<Columns, ImportError> {
        let mut header: Option<Vec<String>> = None;
        let stop = "header read";
        let result = source.for_each_row(mapping.sheet.as_deref(), &mapping.date_format, |_, cells| {
            header = Some(cells);
            Err(ImportError::Mapping(stop.into()))
        });
        match result {
            Err(ImportError::Mapping(message)) if message == stop => {}
            Err(error) => return Err(error),
            Ok(()) => {}
        }
        let header = header.ok_or_else(|| ImportError::Sheet("la feuille est vide : pas de ligne d'en-tête".into()))?;
        let index: HashMap<String, usize> =
            header.iter().enumerate().map(|(at, name)| (name.trim().to_owned(), at)).collect();
        let mut missing: Vec<&str> = mapping.columns().filter(|column| !index.contains_key(*column)).collect();
        missing.sort_unstable();
        missing.dedup();
        if !missing.is_empty() {
            return Err(ImportError::Mapping(format!(
                "la feuille n'a pas de colonne {} (colonnes de l'en-tête : {})",
                missing.iter().map(|column| format!("« {column} »")).collect::<Vec<_>>().join(", "),
                header.join(", ")
            )));
        }
        Ok(Columns { index })
    }

    /// The trimmed text of `column` in `cells` (empty when the row is short).
    pub(crate) fn cell<'a>(&self, cells: &'a [String], column: &str) -> &'a str {
        self.index.get(column).and_then(|at| cells.get(*at)).map_or("", |text| text.trim())
    }
}

/// A person's key as a digest: what the count pass keeps per person.
type KeyDigest = [u8; 16];

/// The person's key of a row (normalised like a blind key, so "HÉLÈNE" and "Hélène" are one
/// person), or `None` when the row has no key (an empty row).
fn person_key(columns: &Columns, mapping: &Mapping, cells: &[String]) -> Option<String> {
    let parts: Vec<String> = mapping
        .person
        .key
        .iter()
        .map(|column| parcours_core::store::blind_keys::normalise(columns.cell(cells, column)))
        .collect();
    parts.iter().any(|part| !part.is_empty()).then(|| parts.join("\u{1f}"))
}

fn digest(key: &str) -> KeyDigest {
    let hash = Sha256::digest(key.as_bytes());
    let mut digest = [0u8; 16];
    digest.copy_from_slice(&hash[..16]);
    digest
}

fn count_rows(
    source: &Source,
    mapping: &Mapping,
    columns: &Columns,
    progress: &mut dyn FnMut(Progress),
) -> Result<HashMap<KeyDigest, u32>, ImportError> {
    let mut counts: HashMap<KeyDigest, u32> = HashMap::new();
    let mut done = 0u64;
    source.for_each_row(mapping.sheet.as_deref(), &mapping.date_format, |number, cells| {
        if number == 1 {
            return Ok(());
        }
        done += 1;
        if done % 1024 == 0 {
            progress(Progress { pass: 1, rows_done: done, rows_total: None });
        }
        if let Some(key) = person_key(columns, mapping, &cells) {
            *counts.entry(digest(&key)).or_default() += 1;
        }
        Ok(())
    })?;
    Ok(counts)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Pass {
    Check,
    Write,
}

/// What the check pass planned, kept for the write pass (see [`KEPT_EVENTS_MAX`]).
struct Kept {
    max: usize,
    /// The people with new steps, in the order the check completed them.
    people: Vec<person::Planned>,
    events: usize,
    /// Of the people with nothing new: how many are in the store already, and their steps there.
    existing_unchanged: u64,
    already_there_unchanged: u64,
}

impl Kept {
    fn new(max: usize) -> Kept {
        Kept { max, people: Vec::new(), events: 0, existing_unchanged: 0, already_there_unchanged: 0 }
    }

    /// Keeps a planned person; `false` once the kept steps are too many to keep.
    fn keep(&mut self, planned: person::Planned) -> bool {
        if planned.events.is_empty() {
            self.existing_unchanged += u64::from(planned.existing.is_some());
            self.already_there_unchanged += planned.already_there;
            return true;
        }
        self.events += planned.events.len();
        self.people.push(planned);
        self.events <= self.max
    }
}

/// The write pass from what the check pass kept: the people written in batches of
/// [`WRITE_BATCH_PEOPLE`], counted as [`walk`]'s write pass counts them.
fn write_kept(
    store: &Store,
    author: &Author,
    kept: Kept,
    rows_total: u64,
    report: &mut ImportReport,
    progress: &mut dyn FnMut(u64),
) {
    report.people_existing += kept.existing_unchanged;
    report.events_already_there += kept.already_there_unchanged;
    let people = kept.people.len().max(1) as u64;
    let mut done = 0u64;
    let mut planned = kept.people.into_iter();
    loop {
        let batch: Vec<person::Planned> = planned.by_ref().take(WRITE_BATCH_PEOPLE).collect();
        if batch.is_empty() {
            break;
        }
        done += batch.len() as u64;
        for person in &batch {
            account(report, person, Pass::Write);
        }
        write(store, author, batch, report);
        progress(rows_total * done / people);
    }
    progress(rows_total);
}

/// One walk of the rows, people completed as their last row is read (see the module's doc).
///
/// The write pass hands its batches to a thread of their own, one batch waiting at most: the
/// next people are read and planned while a batch's keys and events are made durable (those are
/// waits on the disk, planning is work), and memory holds two batches at most.
#[allow(clippy::too_many_arguments)]
fn walk(
    store: &Store,
    author: &Author,
    source: &Source,
    mapping: &Mapping,
    columns: &Columns,
    counts: &HashMap<KeyDigest, u32>,
    options: &ImportOptions,
    pass: Pass,
    report: &mut ImportReport,
    kept: &mut Option<Kept>,
    progress: &mut dyn FnMut(u64),
) -> Result<(), ImportError> {
    std::thread::scope(|scope| {
        let (batches, received) = std::sync::mpsc::sync_channel::<Vec<person::Planned>>(1);
        let writing = (pass == Pass::Write).then(|| {
            scope.spawn(move || {
                let mut written = ImportReport::default();
                for batch in received {
                    write(store, author, batch, &mut written);
                }
                written
            })
        });
        let walked =
            walk_rows(store, source, mapping, columns, counts, options, pass, report, kept, progress, &batches);
        drop(batches);
        if let Some(writing) = writing {
            let written = writing.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            add_written(report, written);
        }
        walked
    })
}

/// Adds what the write thread of [`walk`] counted to the walk's own report.
fn add_written(report: &mut ImportReport, written: ImportReport) {
    report.people_new += written.people_new;
    report.people_existing += written.people_existing;
    report.events_new += written.events_new;
    report.events_already_there += written.events_already_there;
    report.errors_total += written.errors_total;
    let room = ERRORS_LISTED_MAX.saturating_sub(report.errors.len());
    report.errors.extend(written.errors.into_iter().take(room));
    let room = PREVIEW_PEOPLE.saturating_sub(report.preview.len());
    report.preview.extend(written.preview.into_iter().take(room));
}

/// The rows of [`walk`]; each batch to write is sent to `batches`.
#[allow(clippy::too_many_arguments)]
fn walk_rows(
    store: &Store,
    source: &Source,
    mapping: &Mapping,
    columns: &Columns,
    counts: &HashMap<KeyDigest, u32>,
    options: &ImportOptions,
    pass: Pass,
    report: &mut ImportReport,
    kept: &mut Option<Kept>,
    progress: &mut dyn FnMut(u64),
    batches: &std::sync::mpsc::SyncSender<Vec<person::Planned>>,
) -> Result<(), ImportError> {
    // A send fails only if the write thread panicked, which `walk` then raises again.
    let send = |batch: Vec<person::Planned>| {
        let _ = batches.send(batch);
    };
    let mut in_flight: HashMap<KeyDigest, person::Rows> = HashMap::new();
    let mut batch: Vec<person::Planned> = Vec::new();
    let mut done = 0u64;
    let skip_bad_rows = options.skip_bad_rows;
    source.for_each_row(mapping.sheet.as_deref(), &mapping.date_format, |number, cells| {
        if number == 1 {
            return Ok(());
        }
        done += 1;
        if done % 512 == 0 {
            progress(done);
        }
        report.rows += 1;
        let Some(key) = person_key(columns, mapping, &cells) else {
            if cells.iter().any(|cell| !cell.trim().is_empty()) {
                let column = mapping.person.key.join(", ");
                push_error(
                    report,
                    RowError {
                        row: number,
                        column: Some(column),
                        value: None,
                        message: "ligne sans personne : les colonnes qui identifient la personne sont vides".into(),
                    },
                );
            }
            return Ok(());
        };
        let digest = digest(&key);
        let rows = in_flight.entry(digest).or_insert_with(|| person::Rows::new(key));
        rows.push(number, cells);
        if counts.get(&digest).is_some_and(|count| rows.len() >= *count as usize) {
            if let Some(rows) = in_flight.remove(&digest) {
                let planned = person::plan(store, mapping, columns, rows, options.today, skip_bad_rows)?;
                account(report, &planned, pass);
                if pass == Pass::Write && !planned.events.is_empty() {
                    batch.push(planned);
                    if batch.len() == WRITE_BATCH_PEOPLE {
                        send(std::mem::take(&mut batch));
                    }
                } else if pass == Pass::Check {
                    keep(kept, planned);
                }
            }
        }
        Ok(())
    })?;
    // People whose rows were fewer than counted (the file changed between passes) are completed here.
    let mut rest: Vec<_> = in_flight.into_values().collect();
    rest.sort_by_key(|rows| rows.first_row());
    for rows in rest {
        let planned = person::plan(store, mapping, columns, rows, options.today, skip_bad_rows)?;
        account(report, &planned, pass);
        if pass == Pass::Write && !planned.events.is_empty() {
            batch.push(planned);
        } else if pass == Pass::Check {
            keep(kept, planned);
        }
    }
    if !batch.is_empty() {
        send(batch);
    }
    progress(done);
    Ok(())
}

/// Keeps a person the check planned, while the kept steps are few enough (then drops them all).
fn keep(kept: &mut Option<Kept>, planned: person::Planned) {
    if kept.as_mut().is_some_and(|kept| !kept.keep(planned)) {
        *kept = None;
    }
}

fn push_error(report: &mut ImportReport, error: RowError) {
    report.errors_total += 1;
    if report.errors.len() < ERRORS_LISTED_MAX {
        report.errors.push(error);
    }
}

/// Counts a planned person in the answer. On the write pass, the counts of people and events are
/// those of the appends that succeed (see [`write`]); errors were listed by the check already.
fn account(report: &mut ImportReport, planned: &person::Planned, pass: Pass) {
    report.events_already_there += planned.already_there;
    if pass == Pass::Write {
        // People with something to write are counted once their append succeeds.
        if planned.events.is_empty() && planned.existing.is_some() {
            report.people_existing += 1;
        }
        return;
    }
    for error in &planned.errors {
        push_error(report, error.clone());
    }
    if planned.events.is_empty() && planned.existing.is_none() {
        return;
    }
    if planned.existing.is_some() {
        report.people_existing += 1;
    } else {
        report.people_new += 1;
    }
    report.events_new += planned.events.len() as u64;
    if report.preview.len() < PREVIEW_PEOPLE {
        report.preview.push(planned.preview());
    }
}

fn write(store: &Store, author: &Author, batch: Vec<person::Planned>, report: &mut ImportReport) {
    let appends = batch.iter().map(|planned| planned.append()).collect();
    let answers = store.append_many(appends, author);
    for (planned, answer) in batch.iter().zip(answers) {
        match answer {
            Ok(appended) => {
                if planned.existing.is_some() {
                    report.people_existing += 1;
                } else {
                    report.people_new += 1;
                }
                let new = if appended.replayed { 0 } else { planned.events.len() as u64 };
                report.events_new += new;
                report.events_already_there += planned.events.len() as u64 - new;
                if report.preview.len() < PREVIEW_PEOPLE {
                    report.preview.push(planned.preview());
                }
            }
            Err(error) => push_error(
                report,
                RowError {
                    row: planned.first_row,
                    column: None,
                    value: None,
                    message: format!(
                        "les étapes de cette personne n'ont pas été enregistrées : {}",
                        person::append_error_in_french(&error)
                    ),
                },
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use parcours_core::store::StoreOptions;
    use parcours_core::vocabulary::Actor;

    use super::*;

    fn example(name: &str) -> Vec<u8> {
        std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/import").join(name)).unwrap()
    }

    /// The steps the check planned are written as the walk of the write pass would write them: the
    /// same answer and the same events, whether the check's plans were kept or not.
    #[test]
    fn an_import_writes_the_same_with_the_checks_plans_kept_or_the_sheet_walked_again() {
        let mapping = Mapping::from_json(&example("aci-mapping.json")).unwrap();
        let source = Source::Bytes(example("aci-salaries.csv").into());
        let today = "2026-01-15".parse().unwrap();
        let options = ImportOptions { dry_run: false, skip_bad_rows: false, today };
        let author = Author::from(Actor("system:import-test".into()));
        let import = |kept_events_max: usize| {
            let dir = tempfile::tempdir().unwrap();
            let store = Store::open(dir.path(), StoreOptions::default()).unwrap();
            let first =
                run_keeping(&store, &author, &source, &mapping, &options, kept_events_max, &mut |_| {}).unwrap();
            let again =
                run_keeping(&store, &author, &source, &mapping, &options, kept_events_max, &mut |_| {}).unwrap();
            let mut events: Vec<_> = store
                .read_log(0, 10_000)
                .unwrap()
                .into_iter()
                .map(|event| (event.stream, event.id, event.occurred_on))
                .collect();
            events.sort();
            (first, again, events)
        };
        let (kept, kept_again, kept_events) = import(KEPT_EVENTS_MAX);
        let (walked, walked_again, walked_events) = import(0);
        assert!(kept.events_new > 0 && kept.people_new > 0 && kept.errors_total == 0, "{kept:?}");
        let figures = |report: &ImportReport| {
            (report.rows, report.people_new, report.people_existing, report.events_new, report.events_already_there)
        };
        assert_eq!(figures(&kept), figures(&walked));
        assert_eq!(kept_events.len() as u64, kept.events_new);
        assert_eq!(kept_events, walked_events, "the same events, the same ids");
        assert_eq!(kept_again.events_new, 0, "a second import adds nothing");
        assert_eq!(figures(&kept_again), figures(&walked_again));
        assert_eq!(kept_again.events_already_there, kept.events_new + kept.events_already_there);
    }
}
