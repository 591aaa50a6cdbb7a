//! Filling an empty store in one pass: restoring an export (`import`) and seeding a store with a
//! history recorded elsewhere or generated (`seed`: the demo, the benchmark logs).
//!
//! Both write pages as the writer does, but without group commit: nothing is acknowledged before
//! the end, so they sync every [`BULK_SYNC_EVERY`] events and once at the end. Their index entries
//! are gathered and written in key order (`index_run`). Both run before the store is opened for
//! appends, so no writer holds a stale head.
//!
//! A load that stops before its end (a refused event, a crash) leaves a store whose indexes miss
//! events: a mark written first and removed last makes [`super::Store::open`] refuse it, rather
//! than serve half a restore as a whole one.

use std::collections::{HashMap, HashSet};
use std::fs::File;

use chrono_tz::Tz;

use super::index_run::{IndexRun, RUN_EVENTS};
use super::keys::KeyStore;
use super::page::{self, Hash, PageBuilder};
use super::writer::sync;
use super::{seal_free_text, seal_personal_data};
use super::{Head, Location, StoreError, Trees};
use crate::limits::{EVENT_BYTES_MAX, PAGE_BYTES_MAX, PAGE_EVENTS_MAX};
use crate::rules::{self, StreamState};
use crate::vocabulary::{Actor, Date, Envelope, EventId, NewEvent, StreamId, Timestamp};

/// Events per durability point in a bulk load: large, since nothing is acknowledged before the end.
const BULK_SYNC_EVERY: u64 = 100_000;

/// The key, in sled's default tree, of the mark of a bulk load not finished.
pub(crate) const UNFINISHED: &[u8] = b"bulk_load_unfinished";

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImportReport {
    pub events: u64,
    pub head_hash: Hash,
}

/// Writes envelopes at the end of an empty log, checking that each continues both hash chains.
struct BulkWriter<'a> {
    trees: &'a Trees,
    data_file: &'a File,
    builder: PageBuilder,
    page_key: u64,
    head: Head,
    /// Per stream: its version and the hash of its last event.
    streams: HashMap<StreamId, (u32, Hash)>,
    index: IndexRun,
    /// Events per index run: [`RUN_EVENTS`] but in tests.
    run_events: usize,
}

impl<'a> BulkWriter<'a> {
    fn new(trees: &'a Trees, data_file: &'a File) -> Result<BulkWriter<'a>, StoreError> {
        if !trees.log.is_empty() {
            return Err(StoreError::NotEmpty);
        }
        trees.db.insert(UNFINISHED, &[])?;
        Ok(BulkWriter {
            trees,
            data_file,
            builder: PageBuilder::new(),
            page_key: 1,
            head: Head { position: 0, hash: [0; 32], recorded_at: None },
            streams: HashMap::new(),
            index: IndexRun::default(),
            run_events: RUN_EVENTS,
        })
    }

    /// The version and hash the next event of `stream` continues from.
    fn stream_tip(&self, stream: StreamId) -> (u32, Hash) {
        self.streams.get(&stream).copied().unwrap_or((0, [0; 32]))
    }

    /// Writes the next envelope; the caller has checked that it continues the log and its stream.
    fn push(&mut self, envelope: &Envelope) -> Result<(), StoreError> {
        let position = envelope.position;
        let record = page::encode_record(envelope)?;
        if record.len() > EVENT_BYTES_MAX {
            return Err(StoreError::Import {
                position,
                problem: format!(
                    "the event takes {} bytes once encoded, over the limit of {EVENT_BYTES_MAX}",
                    record.len()
                ),
            });
        }
        let full = self.builder.count() == PAGE_EVENTS_MAX
            || self.builder.len_bytes() + PageBuilder::framed_len(&record) > PAGE_BYTES_MAX;
        if full {
            let page = std::mem::take(&mut self.builder).finish();
            self.trees.log.insert(page::position_key(self.page_key), page)?;
            self.page_key = position;
            // A run ends with a page, so that a look-up of its ids finds their pages written.
            if self.index.len() >= self.run_events {
                self.index.write(self.trees)?;
            }
        }
        let location = Location { page: self.page_key, index: self.builder.count() as u16 };
        self.builder.push(page::record_format(envelope), &record);
        self.index.add(envelope.id, envelope.stream, envelope.version, position, location);
        let hash = page::hash(&record);
        self.streams.insert(envelope.stream, (envelope.version, hash));
        self.head = Head { position, hash, recorded_at: Some(envelope.recorded_at) };
        if position % BULK_SYNC_EVERY == 0 {
            sync(self.trees, self.data_file)?;
        }
        Ok(())
    }

    fn finish(mut self) -> Result<Head, StoreError> {
        if self.builder.count() > 0 {
            self.trees.log.insert(page::position_key(self.page_key), std::mem::take(&mut self.builder).finish())?;
        }
        self.index.write(self.trees)?;
        sync(self.trees, self.data_file)?;
        self.trees.db.remove(UNFINISHED)?;
        sync(self.trees, self.data_file)?;
        Ok(self.head)
    }
}

/// Restores an exported log: same positions, ids, dates and hashes, each checked while written.
pub(crate) fn import(
    trees: &Trees,
    data_file: &File,
    envelopes: impl Iterator<Item = Result<Envelope, StoreError>>,
) -> Result<ImportReport, StoreError> {
    import_in_runs(trees, data_file, envelopes, RUN_EVENTS)
}

/// [`import`] with index runs of `run_events`: small ones let the tests cross runs.
pub(crate) fn import_in_runs(
    trees: &Trees,
    data_file: &File,
    envelopes: impl Iterator<Item = Result<Envelope, StoreError>>,
    run_events: usize,
) -> Result<ImportReport, StoreError> {
    let mut writer = BulkWriter::new(trees, data_file)?;
    writer.run_events = run_events;
    for envelope in envelopes {
        let envelope = envelope?;
        let position = writer.head.position + 1;
        let refuse = |problem: String| StoreError::Import { position, problem };
        if envelope.position != position {
            return Err(refuse(format!("expected position {position}, found {}", envelope.position)));
        }
        if envelope.prev_hash != writer.head.hash {
            return Err(refuse(format!(
                "the hash chain breaks here: the event at position {} was changed, or events are missing or reordered",
                position - 1
            )));
        }
        let (version, stream_hash) = writer.stream_tip(envelope.stream);
        if envelope.version != version + 1 || envelope.stream_prev_hash != stream_hash {
            return Err(refuse(format!("stream {} does not continue at version {}", envelope.stream, version + 1)));
        }
        if writer.head.recorded_at.is_some_and(|previous| envelope.recorded_at < previous) {
            return Err(refuse("recorded_at goes back in time".into()));
        }
        writer.push(&envelope)?;
    }
    let head = writer.finish()?;
    Ok(ImportReport { events: head.position, head_hash: head.hash })
}

/// An event recorded in the past, for [`seed`]: what the writer would have been given, and when.
#[derive(Clone, Debug)]
pub struct Seeded {
    pub stream: StreamId,
    pub event: NewEvent,
    pub recorded_at: Timestamp,
    pub recorded_by: Actor,
    /// No later event of this load goes to `stream`: the load forgets the stream's rule state, so
    /// that its memory grows with the pathways under way rather than with everyone (about 13 KiB
    /// a person: a national decade, 3 million people, would not fit). A later event for it is
    /// refused.
    pub ends_stream: bool,
}

/// Fills an empty store with events recorded in the past, as if each had been appended at its
/// `recorded_at`: the rules are checked with that day as "today", identities are sealed, both
/// hash chains are built. Events must come in recording order.
pub(crate) fn seed(
    trees: &Trees,
    data_file: &File,
    keys: &KeyStore,
    timezone: Tz,
    events: impl Iterator<Item = Seeded>,
) -> Result<ImportReport, StoreError> {
    let mut writer = BulkWriter::new(trees, data_file)?;
    let mut states: HashMap<StreamId, StreamState> = HashMap::new();
    let mut ended: HashSet<StreamId> = HashSet::new();
    for seeded in events {
        let position = writer.head.position + 1;
        let refuse = |problem: String| StoreError::Import { position, problem };
        let Seeded { stream, event, recorded_at, recorded_by, ends_stream } = seeded;
        if writer.head.recorded_at.is_some_and(|previous| recorded_at < previous) {
            return Err(refuse("events must come in recording order".into()));
        }
        if ended.contains(&stream) {
            return Err(refuse(format!("an event for stream {stream}, after the one said to end it")));
        }
        let today = Date(recorded_at.0.with_timezone(&timezone).date_naive());
        let state = states.entry(stream).or_default();
        rules::check(state, event.occurred_on, &event.step, today)
            .map_err(|violation| refuse(format!("rule {}: {violation}", violation.rule())))?;
        let id = event.id.unwrap_or_else(EventId::generate);
        state.apply(id, event.occurred_on, &event.step);
        let mut step = event.step;
        seal_personal_data(keys, stream, id, &mut step).map_err(|problem| refuse(problem.to_string()))?;
        let sealed_text = seal_free_text(keys, stream, id, &mut step)
            .map_err(|problem| refuse(problem.to_string()))?
            .map(|text| text.sealed);
        let (_, stream_prev_hash) = writer.stream_tip(stream);
        let envelope = Envelope {
            id,
            stream,
            version: state.version,
            position,
            occurred_on: event.occurred_on,
            recorded_at,
            recorded_by,
            step,
            sealed_text,
            prev_hash: writer.head.hash,
            stream_prev_hash,
        };
        writer.push(&envelope)?;
        if ends_stream {
            states.remove(&stream);
            ended.insert(stream);
        }
    }
    let head = writer.finish()?;
    Ok(ImportReport { events: head.position, head_hash: head.hash })
}
