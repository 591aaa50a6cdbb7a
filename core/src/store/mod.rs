//! The event store: an append-only log on sled, with group commit, durable before acknowledged.
//!
//! Trees (see `page` for the bytes):
//! - `log`: pages of events keyed by the position of their first event: the single source of truth;
//! - `stream_chunks`: each stream's event locations, 64 per key (`stream_index`): derived, repaired
//!   from the log when opening;
//! - `ids`: event id → where the event is: derived, makes retries idempotent.
//!
//! One writer thread owns every write (`writer`). An append is acknowledged only once the pages of
//! its group commit are in the journal (`journal`, a file beside `log/`) and the journal is
//! fdatasynced: one wait on the disk per commit. sled gets the same pages in memory and is made
//! durable at checkpoints (its `flush()` **and** an `fdatasync` of its data file: `flush()` alone
//! is `sync_file_range`, which survives the death of the process but not a power cut,
//! STORAGE-NOTES.md), after which the journal starts again from its beginning. On open, the pages
//! of the journal that sled lacks are put back (`writer::recover`), so nothing acknowledged is lost
//! with sled's unsynced writes; a torn last entry was never acknowledged and is ignored.

pub mod access;
mod access_log;
pub mod blind_keys;
mod bulk;
mod dirs;
mod error;
mod id_blocks;
pub mod import_mappings;
mod index_run;
mod journal;
pub mod keys;
mod locations;
pub mod page;
mod snapshots;
mod stream_index;
pub mod verifiable;
mod verify;
mod writer;

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{sync_channel, SyncSender};
use std::sync::Arc;
use std::thread::JoinHandle;

use chrono_tz::Tz;
use tokio::sync::watch;

pub use bulk::{ImportReport, Seeded};
pub use error::{AppendError, PartRefused, StoreError};
pub use journal::{JOURNAL_BYTES_DEFAULT, JOURNAL_FILE};
pub use page::Hash;
pub use snapshots::{SnapshotRead, SNAPSHOTS_DIR};
pub use verify::{Problem, VerifyReport};

use crate::limits::{PAGE_EVENTS_MAX, QUEUE_REQUESTS_MAX, REQUEST_EVENTS_MAX};
use crate::vocabulary::{
    Actor, Envelope, EventId, FreeText, IdentityField, NewEvent, PersonalData, Sealed, SensitiveAnswers, Step,
    StreamId, Timestamp,
};
use keys::KeyStore;
use page::{decode_record, frames, position_from_key, position_key};

/// How a store is opened.
#[derive(Clone)]
pub struct StoreOptions {
    /// The time zone that decides what "today" is for the rule "not after the day it is recorded".
    pub timezone: Tz,
    /// sled's page cache, in bytes. The default is [`CACHE_BYTES_DEFAULT`].
    pub cache_bytes: u64,
    /// Told of every group commit once it is durable (for metrics); runs on the writer's thread,
    /// so it must be quick.
    pub on_commit: Option<CommitObserver>,
    /// The size of the journal a new store creates (`journal`); an existing journal keeps its
    /// own. The default is [`JOURNAL_BYTES_DEFAULT`].
    pub journal_bytes: u64,
}

pub type CommitObserver = Arc<dyn Fn(&Commit) + Send + Sync>;

/// One group commit, as [`StoreOptions::on_commit`] sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Commit {
    /// Append requests answered by this commit, refused ones included.
    pub requests: usize,
    /// Events written.
    pub events: usize,
    /// From taking the batch to its durability point.
    pub duration: std::time::Duration,
}

/// sled's page cache by default: 64 MiB.
///
/// Why not more: every start reads the whole log through this cache (the projections' rebuild),
/// so it ends up holding the last pages of the log, not what stream reads want; and sled's real
/// memory for it is well above the figure configured. At ten million events a server's resident
/// memory after the rebuild was 100–160 MiB lower with 64 MiB than with 256 MiB (BENCHMARKS.md,
/// projections), and no lower with 16 MiB.
pub const CACHE_BYTES_DEFAULT: u64 = 64 * 1024 * 1024;

impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions {
            timezone: chrono_tz::Europe::Paris,
            cache_bytes: CACHE_BYTES_DEFAULT,
            on_commit: None,
            journal_bytes: JOURNAL_BYTES_DEFAULT,
        }
    }
}

impl std::fmt::Debug for StoreOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoreOptions")
            .field("timezone", &self.timezone)
            .field("cache_bytes", &self.cache_bytes)
            .field("on_commit", &self.on_commit.is_some())
            .field("journal_bytes", &self.journal_bytes)
            .finish()
    }
}

/// Who appends, and to which streams they may append. The writer checks the scope against the
/// stream's state at the moment it appends, so no concurrent orientation can slip between a check
/// and the write.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Author {
    pub actor: Actor,
    pub scope: WriteScope,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WriteScope {
    /// Any stream (admins, the system's own writers).
    Everything,
    /// Only streams whose current structure (CONTRACT §7) is one of these; a new stream only if its
    /// registration names one of these.
    Structures(Vec<crate::vocabulary::Slug>),
}

impl From<Actor> for Author {
    fn from(actor: Actor) -> Author {
        Author { actor, scope: WriteScope::Everything }
    }
}

/// What a successful append returns (CONTRACT §5).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Appended {
    /// The stream's version after the append (that of its last event).
    pub version: u32,
    /// The position of the last event appended.
    pub position: u64,
    pub ids: Vec<EventId>,
    /// True when every event was already stored with the same content: nothing new was written.
    pub replayed: bool,
}

/// Where an event lies: the key of its page and its index within the page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Location {
    page: u64,
    index: u16,
}

impl Location {
    fn to_bytes(self) -> [u8; 10] {
        let mut bytes = [0u8; 10];
        bytes[..8].copy_from_slice(&self.page.to_be_bytes());
        bytes[8..].copy_from_slice(&self.index.to_be_bytes());
        bytes
    }

    fn from_bytes(bytes: &[u8]) -> Option<Location> {
        let bytes: &[u8; 10] = bytes.get(..10)?.try_into().ok()?;
        let page = u64::from_be_bytes(bytes[..8].try_into().ok()?);
        let index = u16::from_be_bytes(bytes[8..].try_into().ok()?);
        Some(Location { page, index })
    }
}

/// An event with the hash of its stored record.
type HashedEnvelope = (Envelope, Hash);

/// The sled handles shared by the writer and the readers.
#[derive(Clone)]
pub(crate) struct Trees {
    db: sled::Db,
    log: sled::Tree,
    streams: sled::Tree,
    /// Event id → position and location, for events appended one request at a time.
    ids: sled::Tree,
    /// The ids of bulk loads, packed (`id_blocks`).
    id_blocks: id_blocks::IdBlocks,
    /// Token id → `TokenRecord` (see `access`).
    tokens: sled::Tree,
    /// SHA-256 of a token → token id.
    token_hashes: sled::Tree,
    /// Token id → `Revocation`.
    revocations: sled::Tree,
    /// The tokens that authenticated, by hash: every request's check then stays off sled, whose
    /// three lookups cost several µs under a writer's load (BENCHMARKS.md, issue 7). Only valid,
    /// unrevoked tokens enter; a revocation clears it.
    token_cache: std::sync::Arc<std::sync::RwLock<std::collections::HashMap<[u8; 32], access::TokenRecord>>>,
    /// Each stream's locations, so that a read needs no iterator over the stream index (`locations`).
    locations: Arc<locations::StreamLocations>,
}

impl Trees {
    fn damaged(page: u64, detail: impl ToString) -> StoreError {
        StoreError::Damaged { page, detail: detail.to_string() }
    }

    /// Reads the raw record at a location.
    fn record_at(&self, location: Location) -> Result<(sled::IVec, std::ops::Range<usize>), StoreError> {
        let page = self
            .log
            .get(position_key(location.page))?
            .ok_or_else(|| Trees::damaged(location.page, "an index points to a missing page"))?;
        let range = {
            let frames = frames(&page).map_err(|damage| Trees::damaged(location.page, damage))?;
            let record = frames
                .nth_record(location.index.into())
                .map_err(|damage| Trees::damaged(location.page, damage))?
                .ok_or_else(|| Trees::damaged(location.page, "an index points past the end of a page"))?;
            let start = record.as_ptr() as usize - page.as_ptr() as usize;
            start..start + record.len()
        };
        Ok((page, range))
    }

    fn envelope_at(&self, location: Location) -> Result<Envelope, StoreError> {
        let (page, range) = self.record_at(location)?;
        decode_record(&page[range]).map_err(|error| Trees::damaged(location.page, error))
    }

    /// The stream's locations in version order: from memory, or from the index the first time.
    fn stream_locations(&self, stream: StreamId) -> Result<Vec<Location>, StoreError> {
        self.locations.get_or_load(stream, || self.indexed_locations(stream))
    }

    /// The stream's locations as the `streams` index has them, and whether their versions run
    /// 1, 2, 3… without a gap. A gap is either damage or a scan that overtook the writer's inserts
    /// (sled's iterator sees keys inserted behind it): such a list is returned but not remembered.
    fn indexed_locations(&self, stream: StreamId) -> Result<(Vec<Location>, bool), StoreError> {
        stream_index::locations(&self.streams, stream)
    }

    fn read_stream(&self, stream: StreamId) -> Result<Vec<Envelope>, StoreError> {
        let locations = self.stream_locations(stream)?;
        let mut envelopes = Vec::with_capacity(locations.len());
        let mut index = 0;
        // Consecutive events of a stream often share a page: fetch it once, and walk its frames
        // once for all of them (their slots ascend within a page).
        while let Some(first) = locations.get(index) {
            let page = self
                .log
                .get(position_key(first.page))?
                .ok_or_else(|| Trees::damaged(first.page, "an index points to a missing page"))?;
            let mut walk = frames(&page).map_err(|damage| Trees::damaged(first.page, damage))?;
            while let Some(location) = locations.get(index).filter(|location| location.page == first.page) {
                let slot = usize::from(location.index);
                if slot < walk.next_index() {
                    // Not in ascending order after all: start the page's walk again.
                    walk = frames(&page).map_err(|damage| Trees::damaged(first.page, damage))?;
                }
                let record = walk
                    .record_at(slot)
                    .map_err(|damage| Trees::damaged(location.page, damage))?
                    .ok_or_else(|| Trees::damaged(location.page, "an index points past the end of a page"))?;
                envelopes.push(decode_record(record).map_err(|error| Trees::damaged(location.page, error))?);
                index += 1;
            }
        }
        Ok(envelopes)
    }

    fn location_of_id(&self, id: EventId) -> Result<Option<Location>, StoreError> {
        Ok(self.position_of_id(id)?.map(|(_, location)| location))
    }

    /// Where the event `id` lies: in the index of appends, or else in the blocks of a bulk load.
    fn position_of_id(&self, id: EventId) -> Result<Option<(u64, Location)>, StoreError> {
        let Some(value) = self.ids.get(id.as_bytes())? else { return id_blocks::find(self, id) };
        // Position (8 bytes), then the location; a shorter entry is damage, not a reason to panic.
        let position = value.get(..8).and_then(|bytes| bytes.try_into().ok()).map(u64::from_be_bytes);
        let location = value.get(8..).and_then(Location::from_bytes);
        match (position, location) {
            (Some(position), Some(location)) => Ok(Some((position, location))),
            _ => Err(Trees::damaged(0, "malformed id index entry")),
        }
    }

    /// The last page: its key and its decoded events.
    fn last_page(&self) -> Result<Option<(u64, Vec<HashedEnvelope>)>, StoreError> {
        let Some((key, page)) = self.log.last()? else { return Ok(None) };
        let first = position_from_key(&key).ok_or_else(|| Trees::damaged(0, "malformed page key"))?;
        let events = decode_page(first, &page)?;
        Ok(Some((first, events)))
    }
}

/// A page's events, each with its hash and its frame's checksum checked; `first` is the position
/// of its first event.
fn decode_page(first: u64, page: &[u8]) -> Result<Vec<(Envelope, Hash)>, StoreError> {
    decode_frames(first, page, |envelope, record| (envelope, page::hash(record)))
}

/// [`decode_page`] without the hashes, which a scan does not need.
fn decode_page_events(first: u64, page: &[u8]) -> Result<Vec<Envelope>, StoreError> {
    decode_frames(first, page, |envelope, _| envelope)
}

/// Decodes each frame of a page, checksum checked, and keeps what `keep` makes of it and its
/// record's bytes.
fn decode_frames<T>(first: u64, page: &[u8], mut keep: impl FnMut(Envelope, &[u8]) -> T) -> Result<Vec<T>, StoreError> {
    let frames = frames(page).map_err(|damage| Trees::damaged(first, damage))?;
    // Sized once: growing a vector of envelopes would copy each several times. The count is the
    // page's own claim, so it is bounded by what a page may hold.
    let mut events = Vec::with_capacity(frames.declared_count().min(PAGE_EVENTS_MAX));
    for record in frames {
        let record = record.map_err(|damage| Trees::damaged(first, damage))?;
        let envelope = decode_record(record).map_err(|error| Trees::damaged(first, error))?;
        events.push(keep(envelope, record));
    }
    Ok(events)
}

/// Opens sled in `dir/log` with the options set explicitly, and the data file the writer syncs.
fn open_trees(dir: &Path, options: &StoreOptions) -> Result<(Trees, File), StoreError> {
    dirs::create_synced(dir).map_err(|source| StoreError::Io { path: dir.to_owned(), source })?;
    let db = sled::Config::new()
        .path(dir.join("log"))
        .cache_capacity(options.cache_bytes)
        .mode(sled::Mode::HighThroughput)
        // The writer flushes and syncs every batch itself; the background flush stays as a second
        // line, never as the durability we rely on.
        .flush_every_ms(Some(1000))
        .open()
        .map_err(|error| match error {
            sled::Error::Io(ref io) if io.to_string().contains("lock") => StoreError::Locked(dir.to_owned()),
            other => StoreError::Sled(other),
        })?;
    // sled created `log/`, the files in it and a new snapshot without syncing a directory. sled
    // 0.34.7 changes `log/` only when it opens (a snapshot; blobs are never made, values being far
    // under its blob threshold), so syncing here once makes every name in it durable.
    for synced in [dir.join("log"), dir.to_owned()] {
        dirs::sync_dir(&synced).map_err(|source| StoreError::Io { path: synced, source })?;
    }
    let trees = Trees {
        log: db.open_tree("log")?,
        streams: db.open_tree(stream_index::TREE)?,
        ids: db.open_tree("ids")?,
        id_blocks: id_blocks::IdBlocks::open(&db)?,
        tokens: db.open_tree("tokens")?,
        token_hashes: db.open_tree("token_hashes")?,
        token_cache: Default::default(),
        revocations: db.open_tree("revocations")?,
        locations: Default::default(),
        db,
    };
    let path = dir.join("log").join("db");
    let data_file = File::open(&path).map_err(|source| StoreError::Io { path, source })?;
    Ok((trees, data_file))
}

/// [`open_trees`], then sled brought up to date from the journal if one is there: the bulk paths
/// (which write into sled directly and sync at the end) then see every acknowledged event, and
/// refuse a store that holds any.
fn open_recovered(dir: &Path, options: &StoreOptions) -> Result<(Trees, File), StoreError> {
    let (trees, data_file) = open_trees(dir, options)?;
    if dir.join(JOURNAL_FILE).exists() {
        let mut journal = journal::Journal::open(dir, options.journal_bytes)?;
        writer::recover(&trees, &data_file, &mut journal)?;
    }
    Ok((trees, data_file))
}

/// Seals the personal data a step carries with the stream's key, created on first use: the clear
/// identity of a registration, or the sensitive ESF+ answers of a referral (CONTRACT §11), or those
/// of the replacement of one. Refused once the stream's personal data was erased.
fn seal_personal_data(keys: &KeyStore, stream: StreamId, id: EventId, step: &mut Step) -> Result<(), keys::KeyError> {
    if let Some(referred) = step.referral_mut() {
        let answers = referred.sensitive_answers();
        if answers.is_empty() {
            return Ok(());
        }
        let key = keys.get_or_create(stream)?;
        referred.sealed_answers = Some(keys::seal(&key, stream, id, &answers)?);
        referred.set_sensitive_answers(SensitiveAnswers::default());
        return Ok(());
    }
    let Some(registered) = step.registration_mut() else { return Ok(()) };
    let Some(IdentityField::Clear(data)) = &registered.identity else { return Ok(()) };
    let key = keys.get_or_create(stream)?;
    registered.identity = Some(IdentityField::Sealed(keys::seal(&key, stream, id, data)?));
    Ok(())
}

/// Seals a step's free text (see `vocabulary::free_text`) with the stream's key, created on first
/// use: the step keeps its closed lists and ids in clear, and the sealed text goes in the envelope.
fn seal_free_text(
    keys: &KeyStore,
    stream: StreamId,
    id: EventId,
    step: &mut Step,
) -> Result<Option<writer::SealedText>, keys::KeyError> {
    let Some(clear) = step.take_free_text() else { return Ok(None) };
    let key = keys.get_or_create(stream)?;
    let sealed = keys::seal(&key, stream, id, &clear)?;
    Ok(Some(writer::SealedText { clear, sealed }))
}

/// Whether [`seal_personal_data`] or [`seal_free_text`] needs the stream's key for this step.
fn needs_key(step: &Step) -> bool {
    let personal = match (step.referral(), step.registration()) {
        (Some(referred), _) => !referred.sensitive_answers().is_empty(),
        (None, Some(registered)) => matches!(registered.identity, Some(IdentityField::Clear(_))),
        (None, None) => false,
    };
    personal || step.has_free_text()
}

/// A referral is a proposal when its author may not write to the structure it names (CONTRACT
/// §7): decided here from the author's scope, whatever the caller said.
fn mark_proposal(scope: &WriteScope, step: &mut Step) {
    let referred = match step {
        Step::Referred(referred) => referred,
        Step::Corrected(crate::vocabulary::Corrected { replacement: Some(replacement), .. }) => {
            match replacement.step.as_mut() {
                Step::Referred(referred) => referred,
                _ => return,
            }
        }
        _ => return,
    };
    referred.proposed = match scope {
        WriteScope::Everything => false,
        WriteScope::Structures(allowed) => !allowed.contains(&referred.structure),
    };
}

/// Whether a request records an erasure (its key is then destroyed once it is recorded).
fn erases(events: &[NewEvent]) -> bool {
    events.iter().any(|event| matches!(event.step, Step::PersonalDataErased(_)))
}

/// The head of the log: its last position and the hash of its last event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Head {
    pub position: u64,
    pub hash: Hash,
    pub recorded_at: Option<Timestamp>,
}

struct Inner {
    trees: Trees,
    /// sled's data file, for the syncs made outside the writer.
    data_file: File,
    keys: KeyStore,
    blind: blind_keys::BlindKeys,
    dir: PathBuf,
    requests: Option<SyncSender<writer::Submission>>,
    position: watch::Receiver<u64>,
    poisoned: Arc<AtomicBool>,
    writer: Option<JoinHandle<()>>,
    access_log: Arc<access_log::AccessLog>,
    access_flusher: Option<access_log::Flusher>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        // Stopping the flusher writes the reads that wait.
        self.access_flusher.take();
        // Closing the queue lets the writer finish what is queued, then stop.
        self.requests.take();
        if let Some(writer) = self.writer.take() {
            let _ = writer.join();
        }
        // A clean close leaves the access log on disk too, not only the events.
        if let Err(error) = writer::sync(&self.trees, &self.data_file) {
            tracing::warn!(%error, "the store could not be synced at close");
        }
    }
}

/// The event store. Cheap to clone; every clone shares one writer.
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

impl Store {
    /// Opens (or creates) the store in `dir`, puts back into sled the commits of the journal it
    /// lost (a crash or power cut before a checkpoint: `writer::recover`), repairs the derived
    /// indexes from the log's tail if a crash left them behind, and starts the writer.
    pub fn open(dir: &Path, options: StoreOptions) -> Result<Store, StoreError> {
        if cfg!(feature = "power-loss-control") {
            tracing::warn!("power-loss control build: appends are acknowledged WITHOUT fdatasync (tests only)");
        }
        let (trees, data_file) = open_trees(dir, &options)?;
        if trees.db.contains_key(bulk::UNFINISHED)? {
            return Err(StoreError::Unfinished(dir.to_owned()));
        }
        let keys = KeyStore::open(dir.join("keys"))?;
        let blind = blind_keys::BlindKeys::open(&dir.join("keys"), trees.db.open_tree(blind_keys::TREE)?)?;
        stream_index::reindex_if_old(&trees)?;
        let mut journal = journal::Journal::open(dir, options.journal_bytes)?;
        writer::recover(&trees, &data_file, &mut journal)?;
        let head = writer::repair(&trees, &data_file)?;
        let writer_file =
            data_file.try_clone().map_err(|source| StoreError::Io { path: dir.join("log").join("db"), source })?;
        let access_log = Arc::new(access_log::AccessLog::open(&trees.db)?);
        let access_flusher = access_log::Flusher::spawn(access_log.clone())
            .map_err(|source| StoreError::Io { path: dir.to_owned(), source })?;
        let (position_sender, position) = watch::channel(head.position);
        let (requests, receiver) = sync_channel(QUEUE_REQUESTS_MAX);
        let poisoned = Arc::new(AtomicBool::new(false));
        let writer = writer::Writer::new(
            trees.clone(),
            writer_file,
            journal,
            head,
            options.timezone,
            position_sender,
            poisoned.clone(),
            options.on_commit.clone(),
        );
        let writer = std::thread::Builder::new()
            .name("parcours-writer".into())
            .spawn(move || writer.run(receiver))
            .map_err(|source| StoreError::Io { path: dir.to_owned(), source })?;
        let store = Store {
            inner: Arc::new(Inner {
                trees,
                data_file,
                keys,
                blind,
                dir: dir.to_owned(),
                requests: Some(requests),
                position,
                poisoned,
                writer: Some(writer),
                access_log,
                access_flusher: Some(access_flusher),
            }),
        };
        store.finish_erasures()?;
        store.index_blind_keys_if_needed()?;
        Ok(store)
    }

    /// Gives every person of the log their blind keys, once (see `blind_keys`): a store restored,
    /// seeded or older than the index has people without them.
    fn index_blind_keys_if_needed(&self) -> Result<(), StoreError> {
        let blind = &self.inner.blind;
        if blind.is_complete()? {
            return Ok(());
        }
        for page in self.pages_from(1) {
            let (_, events) = page?;
            for envelope in events {
                let Some(registered) = envelope.step.registration() else { continue };
                let Some(IdentityField::Sealed(sealed)) = &registered.identity else { continue };
                if let Some(identity) = self.unseal(envelope.stream, envelope.id, sealed)? {
                    blind.index(envelope.stream, &identity)?;
                }
            }
        }
        blind.mark_complete()
    }

    /// The blind keys of the people of this store (CONTRACT §10): duplicates and name search.
    pub fn blind_keys(&self) -> &blind_keys::BlindKeys {
        &self.inner.blind
    }

    pub fn dir(&self) -> &Path {
        &self.inner.dir
    }

    /// Keeps `payload` as the snapshot of the event `id` (`snapshots`: derived bytes beside the
    /// log, never events), durably, replacing any other.
    pub fn keep_snapshot(&self, id: EventId, payload: &[u8]) -> Result<(), StoreError> {
        snapshots::write(&self.inner.dir, id, payload)
    }

    /// The snapshot of the event `id`, checked against its checksum: missing or unusable ones are
    /// answers, not errors, for their reader does without them.
    pub fn snapshot(&self, id: EventId) -> Result<SnapshotRead, StoreError> {
        snapshots::read(&self.inner.dir, id)
    }

    /// Appends events to one stream, all or nothing, and returns once they are durable.
    ///
    /// `expected_version` (when given) must equal the stream's current version. Events whose ids
    /// are already stored with the same content make the call an idempotent success.
    pub fn append(
        &self,
        stream: StreamId,
        expected_version: Option<u32>,
        events: Vec<NewEvent>,
        author: impl Into<Author>,
    ) -> Result<Appended, AppendError> {
        let erasure = erases(&events);
        let request = self.prepare(stream, expected_version, events, author.into())?;
        let (reply_to, reply) = oneshot::channel();
        self.submit(writer::Submission::One(request, reply_to))?;
        let result = reply.recv().map_err(|_| StoreError::Closed)?;
        self.end_erasure(stream, erasure, result)
    }

    /// Finishes or abandons an erasure begun in `prepare`, once the writer has answered: recorded
    /// (or recorded before), the key is destroyed; refused, it opens again; after a store error
    /// (written or not, no one knows), the mark stays for the next opening to decide.
    fn end_erasure(
        &self,
        stream: StreamId,
        erasure: bool,
        result: Result<Appended, AppendError>,
    ) -> Result<Appended, AppendError> {
        if !erasure {
            return result;
        }
        match &result {
            Ok(_) | Err(AppendError::Rule { violation: crate::rules::Violation::AlreadyErased, .. }) => {
                self.destroy_key(stream)?;
            }
            Err(AppendError::Store(_)) => {}
            Err(_) => self.inner.keys.abandon_erasure(stream).map_err(StoreError::from)?,
        }
        result
    }

    /// Ends every erasure a crash (or a failed destruction) left half done: the key of a stream
    /// whose erasure is recorded is destroyed; one whose erasure never was opens again. Returns how
    /// many keys were destroyed.
    pub fn finish_erasures(&self) -> Result<usize, StoreError> {
        let mut destroyed = 0;
        for stream in self.inner.keys.pending_erasures()? {
            let recorded = self
                .inner
                .trees
                .read_stream(stream)?
                .iter()
                .any(|event| matches!(event.step, Step::PersonalDataErased(_)));
            if recorded {
                destroyed += usize::from(self.destroy_key(stream)?);
            } else {
                self.inner.keys.abandon_erasure(stream)?;
            }
        }
        if destroyed > 0 {
            tracing::warn!(destroyed, "destroyed the keys of erasures a crash had interrupted");
        }
        Ok(destroyed)
    }

    /// Whether a key file of this stream is still on disk (after an erasure: a leftover to destroy).
    pub fn has_key_file(&self, stream: StreamId) -> bool {
        self.inner.keys.has_key_file(stream)
    }

    /// Refuses a key directory other users may read or enter, naming it (the server will not
    /// start on one).
    pub fn check_key_permissions(&self) -> Result<(), StoreError> {
        Ok(self.inner.keys.check_private()?)
    }

    /// [`Store::append`] for async callers. Sealing personal data may create a key file, and an
    /// erasure destroys one (fsyncs both); callers on a runtime with few threads may prefer
    /// `spawn_blocking` + `append` for those.
    pub async fn append_async(
        &self,
        stream: StreamId,
        expected_version: Option<u32>,
        events: Vec<NewEvent>,
        author: impl Into<Author>,
    ) -> Result<Appended, AppendError> {
        let erasure = erases(&events);
        let request = self.prepare(stream, expected_version, events, author.into())?;
        let (reply_to, reply) = oneshot::channel();
        self.submit(writer::Submission::One(request, reply_to))?;
        let result = reply.await.map_err(|_| StoreError::Closed)?;
        self.end_erasure(stream, erasure, result)
    }

    /// Appends to many streams, each append all or nothing as [`Store::append`], and returns once
    /// every one is answered, in the order given. All are queued before the first answer is awaited,
    /// so the writer takes them in as few group commits as it can: an import of thousands of people
    /// waits for a few fsyncs, not one per person.
    ///
    /// The new people's keys are created first, together ([`KeyStore::create_many`]), and are
    /// durable before any of these appends is prepared, so no event sealed with one of them is
    /// durable before its key. If they cannot be, every append that needed one is refused
    /// ([`StoreError::KeysNotDurable`]) and the others go on.
    pub fn append_many(
        &self,
        appends: Vec<(StreamId, Option<u32>, Vec<NewEvent>)>,
        author: &Author,
    ) -> Vec<Result<Appended, AppendError>> {
        let needing_keys = |events: &[NewEvent]| events.iter().any(|event| needs_key(&event.step));
        let new_keys: Vec<StreamId> =
            appends.iter().filter(|(_, _, events)| needing_keys(events)).map(|(stream, _, _)| *stream).collect();
        let keys_failed = self.inner.keys.create_many(&new_keys).err().map(|error| error.to_string());
        let pending: Vec<Result<_, AppendError>> = appends
            .into_iter()
            .map(|(stream, expected_version, events)| {
                if let (Some(error), true) = (&keys_failed, needing_keys(&events)) {
                    return Err(StoreError::KeysNotDurable(error.clone()).into());
                }
                let request = self.prepare(stream, expected_version, events, author.clone())?;
                let (reply_to, reply) = oneshot::channel();
                self.submit(writer::Submission::One(request, reply_to))?;
                Ok(reply)
            })
            .collect();
        pending.into_iter().map(|reply| reply?.recv().map_err(|_| AppendError::from(StoreError::Closed))?).collect()
    }

    /// Appends to several streams, all or nothing, and returns once they are durable: each part is
    /// checked as [`Store::append`] checks it (scope, rules, version, seeing the parts before it),
    /// and if one is refused none is stored. The parts' events are written into one page, so a crash
    /// cannot leave some of them without the others either; together they must fit in a page
    /// ([`PAGE_EVENTS_MAX`] events). For what is recorded on both sides of one fact (a merge).
    /// An erasure goes through [`Store::append`] alone, which destroys its key once it is recorded.
    pub fn append_together(
        &self,
        parts: Vec<(StreamId, Option<u32>, Vec<NewEvent>)>,
        author: impl Into<Author>,
    ) -> Result<Vec<Appended>, PartRefused> {
        let author = author.into();
        let count: usize = parts.iter().map(|(_, _, events)| events.len()).sum();
        if count > PAGE_EVENTS_MAX {
            return Err(PartRefused { part: 0, error: AppendError::TooManyEvents { count, max: PAGE_EVENTS_MAX } });
        }
        let mut requests = Vec::with_capacity(parts.len());
        for (part, (stream, expected_version, events)) in parts.into_iter().enumerate() {
            let request = self.prepare(stream, expected_version, events, author.clone());
            requests.push(request.map_err(|error| PartRefused { part, error })?);
        }
        let (reply, receiver) = oneshot::channel();
        self.submit(writer::Submission::Together(requests, reply))
            .map_err(|error| PartRefused { part: 0, error: error.into() })?;
        receiver.recv().map_err(|_| PartRefused { part: 0, error: StoreError::Closed.into() })?
    }

    fn submit(&self, submission: writer::Submission) -> Result<(), StoreError> {
        if self.inner.poisoned.load(Ordering::Acquire) {
            return Err(StoreError::Poisoned);
        }
        let requests = self.inner.requests.as_ref().ok_or(StoreError::Closed)?;
        requests.send(submission).map_err(|_| StoreError::Closed)
    }

    /// Checks what can be checked without the stream's state, gives every event an id and seals
    /// personal data, off the writer's thread.
    fn prepare(
        &self,
        stream: StreamId,
        expected_version: Option<u32>,
        mut events: Vec<NewEvent>,
        author: Author,
    ) -> Result<writer::Request, AppendError> {
        if events.is_empty() {
            return Err(AppendError::NoEvents);
        }
        if events.len() > REQUEST_EVENTS_MAX {
            return Err(AppendError::TooManyEvents { count: events.len(), max: REQUEST_EVENTS_MAX });
        }
        let caller_ids = events.iter().any(|event| event.id.is_some());
        let mut identity_erased = None;
        let mut sealed_texts = Vec::with_capacity(events.len());
        for (index, event) in events.iter_mut().enumerate() {
            mark_proposal(&author.scope, &mut event.step);
            let id = *event.id.get_or_insert_with(EventId::generate);
            if let Some(IdentityField::Clear(identity)) =
                event.step.registration().and_then(|registered| registered.identity.as_ref())
            {
                self.inner.blind.index(stream, identity)?;
            }
            let sealed = seal_personal_data(&self.inner.keys, stream, id, &mut event.step)
                .and_then(|()| seal_free_text(&self.inner.keys, stream, id, &mut event.step));
            match sealed {
                Ok(sealed) => sealed_texts.push(sealed),
                // The writer says so once the caller's scope is checked; what was to be sealed is
                // never encoded (the request is refused).
                Err(keys::KeyError::Erased) => {
                    identity_erased.get_or_insert(index);
                    sealed_texts.push(None);
                }
                Err(other) => return Err(AppendError::Store(other.into())),
            }
        }
        if erases(&events) {
            // Before the erasure is recorded: from the moment it is, the key must open nothing,
            // even if the process dies before destroying it (`finish_erasures`).
            self.inner.keys.begin_erasure(stream).map_err(StoreError::from)?;
        }
        Ok(writer::Request { stream, expected_version, events, sealed_texts, caller_ids, identity_erased, author })
    }

    /// One stream in version order; with `as_of`, only the events recorded at or before it.
    pub fn read_stream(&self, stream: StreamId, as_of: Option<Timestamp>) -> Result<Vec<Envelope>, StoreError> {
        let mut events = self.inner.trees.read_stream(stream)?;
        if let Some(as_of) = as_of {
            // recorded_at never decreases along the log, hence along a stream.
            let kept = events.partition_point(|event| event.recorded_at <= as_of);
            events.truncate(kept);
        }
        Ok(events)
    }

    /// The event with this id, if stored.
    pub fn read_event(&self, id: EventId) -> Result<Option<Envelope>, StoreError> {
        match self.inner.trees.location_of_id(id)? {
            Some(location) => self.inner.trees.envelope_at(location).map(Some),
            None => Ok(None),
        }
    }

    /// The log in order from position `after + 1`, at most `limit` events.
    pub fn read_log(&self, after: u64, limit: usize) -> Result<Vec<Envelope>, StoreError> {
        let mut events = Vec::with_capacity(limit.min(4096));
        // `after` is the client's (`GET /api/events?after=`): u64::MAX must read nothing, not wrap
        // around to a scan of the whole log.
        for page in self.pages_from(after.saturating_add(1)) {
            let (_, page) = page?;
            for envelope in page {
                if envelope.position > after {
                    if events.len() == limit {
                        return Ok(events);
                    }
                    events.push(envelope);
                }
            }
            if events.len() == limit {
                break;
            }
        }
        Ok(events)
    }

    /// The pages of the log from the one holding `position`, decoded, each with the position of
    /// its first event. The unit of a fast scan.
    pub fn pages_from(&self, position: u64) -> impl Iterator<Item = Result<(u64, Vec<Envelope>), StoreError>> + '_ {
        let log = &self.inner.trees.log;
        let start = log
            .range(..=position_key(position.max(1)))
            .next_back()
            .and_then(|entry| entry.ok())
            .and_then(|(key, _)| position_from_key(&key))
            .unwrap_or(1);
        log.range(position_key(start)..).map(|entry| {
            let (key, bytes) = entry?;
            let first = position_from_key(&key).ok_or_else(|| Trees::damaged(0, "malformed page key"))?;
            Ok((first, decode_page_events(first, &bytes)?))
        })
    }

    /// The last durable position (0 for an empty log).
    pub fn last_position(&self) -> u64 {
        *self.inner.position.borrow()
    }

    /// Wakes its holder whenever new positions are durable; the value is the last durable position.
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.inner.position.clone()
    }

    /// The head of the log as stored now.
    pub fn head(&self) -> Result<Head, StoreError> {
        Ok(match self.inner.trees.last_page()? {
            Some((_, events)) => match events.last() {
                Some((envelope, hash)) => {
                    Head { position: envelope.position, hash: *hash, recorded_at: Some(envelope.recorded_at) }
                }
                None => Head { position: 0, hash: [0; 32], recorded_at: None },
            },
            None => Head { position: 0, hash: [0; 32], recorded_at: None },
        })
    }

    /// Opens a sealed identity: `Ok(None)` when the beneficiary's key was destroyed (erased).
    pub fn unseal(
        &self,
        stream: StreamId,
        event: EventId,
        sealed: &Sealed,
    ) -> Result<Option<PersonalData>, StoreError> {
        match self.inner.keys.get(stream)? {
            Some(key) => Ok(Some(keys::unseal(&key, stream, event, sealed)?)),
            None => Ok(None),
        }
    }

    /// The event's step with its free text put back (see `vocabulary::free_text`): `Ok(None)`
    /// when it has none sealed or the key was destroyed.
    pub fn unseal_text(&self, envelope: &Envelope) -> Result<Option<Step>, StoreError> {
        let Some(sealed) = &envelope.sealed_text else { return Ok(None) };
        let Some(key) = self.inner.keys.get(envelope.stream)? else { return Ok(None) };
        let text: FreeText = keys::unseal(&key, envelope.stream, envelope.id, sealed)?;
        let mut step = envelope.step.clone();
        step.put_free_text(text).map_err(|_| StoreError::from(keys::KeyError::Unseal))?;
        Ok(Some(step))
    }

    /// Opens the sealed sensitive ESF+ answers of a referral: `Ok(None)` when the beneficiary's key
    /// was destroyed (erased with the identity).
    pub fn unseal_answers(
        &self,
        stream: StreamId,
        event: EventId,
        sealed: &Sealed,
    ) -> Result<Option<SensitiveAnswers>, StoreError> {
        match self.inner.keys.get(stream)? {
            Some(key) => Ok(Some(keys::unseal(&key, stream, event, sealed)?)),
            None => Ok(None),
        }
    }

    /// Destroys a beneficiary's key, making every sealed identity of the stream unreadable for
    /// good. [`Store::erase_identity`] records the erasure first.
    pub fn destroy_key(&self, stream: StreamId) -> Result<bool, StoreError> {
        self.inner.blind.remove(stream)?;
        Ok(self.inner.keys.destroy(stream)?)
    }

    /// Erases a person's identity (CONTRACT §7): records `personal_data_erased` on `today`, then
    /// destroys their key. Returns whether this call recorded the erasure; asking again after an
    /// erasure that stopped between the two finishes it.
    pub fn erase_identity(
        &self,
        stream: StreamId,
        reason: crate::vocabulary::ErasureReason,
        today: crate::vocabulary::Date,
        author: impl Into<Author>,
    ) -> Result<bool, AppendError> {
        let step = Step::PersonalDataErased(crate::vocabulary::PersonalDataErased { reason });
        // `append` destroys the key once the erasure is recorded (or was already).
        match self.append(stream, None, vec![NewEvent { id: None, occurred_on: today, step }], author) {
            Ok(_) => Ok(true),
            Err(AppendError::Rule { violation: crate::rules::Violation::AlreadyErased, .. }) => Ok(false),
            Err(error) => Err(error),
        }
    }

    /// Every beneficiary's key, for a backup (erased ones are gone for good).
    pub fn keys_for_backup(&self) -> Result<Vec<(StreamId, keys::Key)>, StoreError> {
        Ok(self.inner.keys.all()?)
    }

    /// Puts back the keys of a backup into the store in `dir` (before it is opened, like `import`).
    pub fn restore_keys(
        dir: &Path,
        keys: impl Iterator<Item = Result<(StreamId, [u8; keys::KEY_BYTES]), StoreError>>,
    ) -> Result<u64, StoreError> {
        let store = KeyStore::open(dir.join("keys"))?;
        let mut restored = 0;
        for key in keys {
            let (stream, bytes) = key?;
            store.restore(stream, bytes)?;
            restored += 1;
        }
        Ok(restored)
    }

    /// Checks the whole log: pages, checksums, positions, both hash chains and the indexes.
    pub fn verify(&self) -> Result<VerifyReport, StoreError> {
        verify::verify(&self.inner.trees)
    }

    /// Restores an exported log into the empty store in `dir`, with the same positions, ids and
    /// hashes. Done before the store is opened for writing, so no writer holds a stale head.
    pub fn import(
        dir: &Path,
        options: StoreOptions,
        envelopes: impl Iterator<Item = Result<Envelope, StoreError>>,
    ) -> Result<ImportReport, StoreError> {
        let (trees, data_file) = open_recovered(dir, &options)?;
        blind_keys::mark_incomplete(&trees.db)?;
        bulk::import(&trees, &data_file, envelopes)
    }

    /// Fills the empty store in `dir` with events recorded in the past (the demo, benchmark logs),
    /// each checked against the rules on the day it was recorded; see [`Seeded`].
    pub fn seed(
        dir: &Path,
        options: StoreOptions,
        events: impl Iterator<Item = Seeded>,
    ) -> Result<ImportReport, StoreError> {
        let (trees, data_file) = open_recovered(dir, &options)?;
        let keys = KeyStore::open(dir.join("keys"))?;
        blind_keys::mark_incomplete(&trees.db)?;
        bulk::seed(&trees, &data_file, &keys, options.timezone, events)
    }

    /// Saves an import mapping under `name` (replacing one of that name), durably.
    pub fn save_import_mapping(
        &self,
        name: &str,
        structure: &crate::vocabulary::Slug,
        json: &[u8],
    ) -> Result<(), StoreError> {
        let tree = self.inner.trees.db.open_tree(import_mappings::TREE)?;
        tree.insert(name.as_bytes(), import_mappings::encode(structure, json))?;
        writer::sync(&self.inner.trees, &self.inner.data_file)
    }

    /// The saved import mappings, by name.
    pub fn import_mappings(&self) -> Result<Vec<import_mappings::SavedMapping>, StoreError> {
        let tree = self.inner.trees.db.open_tree(import_mappings::TREE)?;
        tree.iter()
            .map(|item| {
                let (name, value) = item?;
                import_mappings::decode(&name, &value)
            })
            .collect()
    }

    /// Issues a token and returns it with its record; the token is shown once and never stored.
    pub fn issue_token(
        &self,
        role: access::Role,
        structures: Vec<crate::vocabulary::Slug>,
        label: Option<String>,
        by: Actor,
    ) -> Result<(access::TokenRecord, String), StoreError> {
        let issued = self.inner.trees.issue_token(role, structures, label, by)?;
        self.sync()?;
        Ok(issued)
    }

    /// Revokes a token for good; `false` if no such token.
    pub fn revoke_token(&self, id: &str, by: Actor) -> Result<bool, StoreError> {
        let revoked = self.inner.trees.revoke_token(id, by)?;
        self.sync()?;
        Ok(revoked)
    }

    pub fn tokens(&self) -> Result<Vec<(access::TokenRecord, Option<access::Revocation>)>, StoreError> {
        self.inner.trees.tokens()
    }

    /// The live (not revoked) token with this value, if any.
    pub fn authenticate(&self, token: &str) -> Result<Option<access::TokenRecord>, StoreError> {
        self.inner.trees.authenticate(token)
    }

    /// The live (not revoked) token with this id, if any.
    pub fn live_token(&self, id: &str) -> Result<Option<access::TokenRecord>, StoreError> {
        self.inner.trees.live_token(id)
    }

    /// Records a read in the access log; it is written within a second (`access_log`).
    pub fn record_access(&self, entry: access::AccessEntry) -> Result<(), StoreError> {
        self.inner.access_log.record(entry)
    }

    /// The reads of this beneficiary's history or identity, in the order they were recorded.
    pub fn access_log(&self, beneficiary: StreamId) -> Result<Vec<access::AccessEntry>, StoreError> {
        self.inner.access_log.of(beneficiary)
    }

    /// Flushes and syncs outside a group commit (token changes).
    fn sync(&self) -> Result<(), StoreError> {
        writer::sync(&self.inner.trees, &self.inner.data_file)
    }

    /// Disk bytes used by sled.
    pub fn size_on_disk(&self) -> Result<u64, StoreError> {
        Ok(self.inner.trees.db.size_on_disk()?)
    }
}

#[cfg(test)]
mod tests;
