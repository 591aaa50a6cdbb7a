//! The one writer: group commit at the disk's own pace.
//!
//! It takes every append waiting at that moment, checks each against its stream's state (appends
//! to one stream within a batch see each other), builds the accepted events into pages, appends
//! them to the journal and fdatasyncs it once (`journal`: the durability point), puts them into
//! sled (in memory), and only then answers all of them. Durable throughput thus grows with
//! concurrency instead of being one fsync per event, and each commit waits on the disk once.
//! sled is made durable at checkpoints (`Writer::checkpoint`), between commits.
//!
//! A write failure poisons the writer: the in-memory state may no longer match the disk, so every
//! later append is refused until the store is opened again (which repairs the indexes from the log).

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::num::NonZeroUsize;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::Receiver;
use std::sync::Arc;

use chrono_tz::Tz;
use lru::LruCache;
use tokio::sync::watch;

use super::journal::Journal;
use super::page::{self, Hash, PageBuilder};
use super::{
    AppendError, Appended, Author, Commit, CommitObserver, Head, Location, PartRefused, StoreError, Trees, WriteScope,
};
use crate::limits::{BATCH_EVENTS_MAX, EVENT_BYTES_MAX, PAGE_BYTES_MAX, PAGE_EVENTS_MAX, STREAM_CACHE_MAX};
use crate::rules::{self, StreamKind, StreamState};
use crate::vocabulary::{Date, Envelope, EventId, FreeText, NewEvent, Sealed, Step, StreamId, Timestamp};

pub(crate) struct Request {
    pub stream: StreamId,
    pub expected_version: Option<u32>,
    /// Every event has an id and sealed personal data by now (`Store::prepare`).
    pub events: Vec<NewEvent>,
    /// The free text of each event, by index (`Store::prepare`): sealed, what its envelope holds.
    pub sealed_texts: Vec<Option<SealedText>>,
    /// Whether any id came from the caller. Ids the store generated (UUID v7, 74 random bits)
    /// cannot be stored already, so a request without the caller's ids is no retry and skips the
    /// index look-ups of `Writer::replay`: one sled `get` per event on the writer's thread.
    pub caller_ids: bool,
    /// The index of an event carrying an identity for a stream whose personal data was erased
    /// (found while sealing). Told to the caller only after the scope check: before it, "erased"
    /// would say to anyone that the person exists.
    pub identity_erased: Option<usize>,
    pub author: Author,
}

/// An event's free text, sealed for its envelope and kept clear for the time of the request: a
/// retry is compared with an event stored before free text was sealed, which holds it clear.
pub(crate) struct SealedText {
    pub clear: FreeText,
    pub sealed: Sealed,
}

/// What the writer's queue carries.
pub(crate) enum Submission {
    /// One append, answered alone.
    One(Request, oneshot::Sender<Result<Appended, AppendError>>),
    /// Appends to several streams accepted together or not at all, and written into one page, so
    /// that neither a refusal nor a crash leaves one without the others (one sled insert is atomic).
    Together(Vec<Request>, oneshot::Sender<Result<Vec<Appended>, PartRefused>>),
}

impl Submission {
    fn events(&self) -> usize {
        match self {
            Submission::One(request, _) => request.events.len(),
            Submission::Together(requests, _) => requests.iter().map(|request| request.events.len()).sum(),
        }
    }

    fn refuse(self, error: impl Fn() -> AppendError) {
        match self {
            Submission::One(_, reply) => {
                let _ = reply.send(Err(error()));
            }
            Submission::Together(_, reply) => {
                let _ = reply.send(Err(PartRefused { part: 0, error: error() }));
            }
        }
    }
}

/// The answer a submission waits for, once its batch is durable (or refused).
enum Reply {
    One(oneshot::Sender<Result<Appended, AppendError>>, Result<Appended, AppendError>),
    Together(oneshot::Sender<Result<Vec<Appended>, PartRefused>>, Result<Vec<Appended>, PartRefused>),
}

impl Reply {
    fn send(self) {
        match self {
            Reply::One(reply, outcome) => {
                let _ = reply.send(outcome);
            }
            Reply::Together(reply, outcome) => {
                let _ = reply.send(outcome);
            }
        }
    }

    /// After a failed write: what was accepted is not durable.
    fn poisoned(self) -> Reply {
        match self {
            Reply::One(reply, outcome) => Reply::One(reply, outcome.and(Err(StoreError::Poisoned.into()))),
            Reply::Together(reply, outcome) => {
                Reply::Together(reply, outcome.and(Err(PartRefused { part: 0, error: StoreError::Poisoned.into() })))
            }
        }
    }
}

/// What the writer keeps per stream: the rule state and the hash of the stream's last event.
#[derive(Clone)]
struct StreamTip {
    state: StreamState,
    last_hash: Hash,
}

pub(crate) struct Writer {
    trees: Trees,
    data_file: File,
    journal: Journal,
    head: Head,
    timezone: Tz,
    position: watch::Sender<u64>,
    poisoned: Arc<AtomicBool>,
    cache: LruCache<StreamId, StreamTip>,
    on_commit: Option<CommitObserver>,
}

/// An accepted event waiting for its batch to be written.
struct Pending {
    envelope: Envelope,
    record: Vec<u8>,
    /// Written into the same page as the event before it (the parts of a `Together`).
    glued: bool,
}

impl Writer {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        trees: Trees,
        data_file: File,
        journal: Journal,
        head: Head,
        timezone: Tz,
        position: watch::Sender<u64>,
        poisoned: Arc<AtomicBool>,
        on_commit: Option<CommitObserver>,
    ) -> Writer {
        let capacity = NonZeroUsize::new(STREAM_CACHE_MAX).unwrap_or(NonZeroUsize::MIN);
        Writer {
            trees,
            data_file,
            journal,
            head,
            timezone,
            position,
            poisoned,
            cache: LruCache::new(capacity),
            on_commit,
        }
    }

    pub fn run(mut self, requests: Receiver<Submission>) {
        while let Ok(first) = requests.recv() {
            let mut events = first.events();
            let mut batch = vec![first];
            while events < BATCH_EVENTS_MAX {
                match requests.try_recv() {
                    Ok(submission) => {
                        events += submission.events();
                        batch.push(submission);
                    }
                    Err(_) => break,
                }
            }
            if self.poisoned.load(Ordering::Acquire) {
                for submission in batch {
                    submission.refuse(|| StoreError::Poisoned.into());
                }
                continue;
            }
            self.commit(batch);
        }
        // The queue is closed: the store is closing. A checkpoint leaves sled whole, so that the
        // next opening finds nothing to replay (it would be correct either way).
        if !self.poisoned.load(Ordering::Acquire) {
            if let Err(error) = self.checkpoint() {
                tracing::warn!(%error, "the checkpoint at close failed; the journal is replayed at the next opening");
            }
        }
    }

    /// Makes sled durable (its `flush()`, then an `fdatasync` of its data file) up to the head,
    /// then lets the journal start again from its beginning: what it held is in sled for good.
    fn checkpoint(&mut self) -> Result<(), StoreError> {
        if self.journal.is_empty() {
            return Ok(());
        }
        sync(&self.trees, &self.data_file)?;
        self.journal.reset();
        Ok(())
    }

    /// Takes the stream's tip out of the batch's working set or the cache, or folds it from the
    /// log. Taken, not copied: a long stream's state (its whole history, which corrections replay)
    /// costs more to clone and drop than the rest of an append's work on the writer's thread.
    /// Whoever takes a tip puts it back into `working`; `commit` returns `working` to the cache.
    fn take_tip(
        &mut self,
        working: &mut HashMap<StreamId, StreamTip>,
        stream: StreamId,
    ) -> Result<StreamTip, StoreError> {
        if let Some(tip) = working.remove(&stream) {
            return Ok(tip);
        }
        if let Some(tip) = self.cache.pop(&stream) {
            return Ok(tip);
        }
        let locations = self.trees.stream_locations(stream)?;
        let mut events = Vec::with_capacity(locations.len());
        let mut last_hash = [0u8; 32];
        for location in locations {
            let (page, range) = self.trees.record_at(location)?;
            let record = &page[range];
            last_hash = page::hash(record);
            events.push(page::decode_record(record).map_err(|error| Trees::damaged(location.page, error))?);
        }
        let state = StreamState::from_events(events.iter().map(|e| (e.id, e.occurred_on, &e.step)));
        Ok(StreamTip { state, last_hash })
    }

    fn commit(&mut self, batch: Vec<Submission>) {
        let started = std::time::Instant::now();
        let requests = batch.len();
        let recorded_at = Timestamp::now().max(self.head.recorded_at.unwrap_or(Timestamp::now()));
        let today = Date(recorded_at.0.with_timezone(&self.timezone).date_naive());
        let mut working: HashMap<StreamId, StreamTip> = HashMap::new();
        let mut batch_ids: HashMap<EventId, (StreamId, usize)> = HashMap::new();
        let mut pending: Vec<Pending> = Vec::with_capacity(batch.len());
        let mut replies = Vec::with_capacity(batch.len());
        let mut head = self.head;

        for submission in batch {
            let reply = match submission {
                Submission::One(mut request, reply) => {
                    let outcome = self.accept(
                        &mut request,
                        recorded_at,
                        today,
                        &mut head,
                        &mut working,
                        &mut batch_ids,
                        &mut pending,
                    );
                    Reply::One(reply, outcome)
                }
                Submission::Together(mut requests, reply) => {
                    let outcome = self.accept_together(
                        &mut requests,
                        recorded_at,
                        today,
                        &mut head,
                        &mut working,
                        &mut batch_ids,
                        &mut pending,
                    );
                    Reply::Together(reply, outcome)
                }
            };
            replies.push(reply);
        }

        if !pending.is_empty() {
            let locations = match self.write(&pending) {
                Ok(locations) => locations,
                Err(error) => {
                    tracing::error!(%error, "write failed; the store refuses appends until reopened");
                    self.poisoned.store(true, Ordering::Release);
                    for reply in replies {
                        reply.poisoned().send();
                    }
                    return;
                }
            };
            // Durable now: readers' lists of locations grow before anyone hears of the append, so
            // an acknowledged event is always in the next read of its stream.
            for (event, location) in pending.iter().zip(locations) {
                self.trees.locations.appended(event.envelope.stream, event.envelope.version, location);
            }
            self.head = head;
        }
        // Every tip taken from the cache is in `working` (changed or not); after a failed write
        // they are dropped with it, and the poisoned store folds them again once reopened.
        for (stream, tip) in working {
            self.cache.put(stream, tip);
        }
        if !pending.is_empty() {
            self.position.send_replace(head.position);
        }
        if let Some(observer) = &self.on_commit {
            observer(&Commit { requests, events: pending.len(), duration: started.elapsed() });
        }
        for reply in replies {
            reply.send();
        }
    }

    /// Accepts every part of a `Together` or none: a refused part puts the head, the tips, the
    /// batch's ids and `pending` back as they were before the first part. The parts' events are
    /// glued into one page, which must hold them all.
    #[allow(clippy::too_many_arguments)]
    fn accept_together(
        &mut self,
        requests: &mut [Request],
        recorded_at: Timestamp,
        today: Date,
        head: &mut Head,
        working: &mut HashMap<StreamId, StreamTip>,
        batch_ids: &mut HashMap<EventId, (StreamId, usize)>,
        pending: &mut Vec<Pending>,
    ) -> Result<Vec<Appended>, PartRefused> {
        let saved_head = *head;
        let start = pending.len();
        let mut saved_tips = Vec::with_capacity(requests.len());
        for (part, request) in requests.iter().enumerate() {
            if saved_tips.iter().any(|(stream, _)| *stream == request.stream) {
                continue;
            }
            let tip =
                self.take_tip(working, request.stream).map_err(|error| PartRefused { part, error: error.into() })?;
            saved_tips.push((request.stream, tip.clone()));
            working.insert(request.stream, tip);
        }
        let mut appended = Vec::with_capacity(requests.len());
        let mut refused = None;
        for (part, request) in requests.iter_mut().enumerate() {
            match self.accept(request, recorded_at, today, head, working, batch_ids, pending) {
                Ok(done) => appended.push(done),
                Err(error) => {
                    refused = Some(PartRefused { part, error });
                    break;
                }
            }
        }
        let framed: usize = pending[start..].iter().map(|event| PageBuilder::framed_len(&event.record)).sum();
        if refused.is_none() && (pending.len() - start > PAGE_EVENTS_MAX || framed > PAGE_BYTES_MAX) {
            let error = AppendError::EventTooLarge { index: 0, bytes: framed, max: PAGE_BYTES_MAX };
            refused = Some(PartRefused { part: 0, error });
        }
        if let Some(refused) = refused {
            for event in &pending[start..] {
                batch_ids.remove(&event.envelope.id);
            }
            pending.truncate(start);
            *head = saved_head;
            for (stream, tip) in saved_tips {
                working.insert(stream, tip);
            }
            return Err(refused);
        }
        for event in pending.iter_mut().skip(start + 1) {
            event.glued = true;
        }
        Ok(appended)
    }

    /// Checks one request against the batch's view of its stream and, if accepted, adds its events
    /// to `pending`. Nothing of a refused request stays in the batch.
    #[allow(clippy::too_many_arguments)]
    fn accept(
        &mut self,
        request: &mut Request,
        recorded_at: Timestamp,
        today: Date,
        head: &mut Head,
        working: &mut HashMap<StreamId, StreamTip>,
        batch_ids: &mut HashMap<EventId, (StreamId, usize)>,
        pending: &mut Vec<Pending>,
    ) -> Result<Appended, AppendError> {
        // Scope first: before it, a retry's 200 or a `duplicate_id` would tell a caller without
        // rights on the stream that it exists, and what it holds.
        let tip = self.take_tip(working, request.stream)?;
        let admitted = admit(request, &tip);
        if admitted.is_ok() {
            keep_proposals(&tip.state, &mut request.events);
        }
        working.insert(request.stream, tip);
        admitted?;
        if let Some(index) = request.identity_erased {
            return Err(AppendError::IdentityErased { index });
        }
        if request.caller_ids {
            if let Some(replayed) = self.replay(request, batch_ids, pending)? {
                return Ok(replayed);
            }
        }
        let start = pending.len();
        let result = self.accept_new(request, recorded_at, today, head, working, pending);
        match &result {
            Ok(_) => {
                for (offset, event) in pending[start..].iter().enumerate() {
                    batch_ids.insert(event.envelope.id, (request.stream, start + offset));
                }
            }
            Err(_) => pending.truncate(start),
        }
        result
    }

    fn accept_new(
        &mut self,
        request: &Request,
        recorded_at: Timestamp,
        today: Date,
        head: &mut Head,
        working: &mut HashMap<StreamId, StreamTip>,
        pending: &mut Vec<Pending>,
    ) -> Result<Appended, AppendError> {
        let mut tip = self.take_tip(working, request.stream)?;
        // A refused request must leave its stream's tip as it was. `extend` changes the tip of a
        // one-event request only once nothing can fail any more; a longer request may be refused
        // after its first events were applied, so it keeps a copy to go back to.
        let before = (request.events.len() > 1).then(|| tip.clone());
        let result = Writer::extend(request, &mut tip, recorded_at, today, head, pending);
        if let (Err(_), Some(before)) = (&result, before) {
            tip = before;
        }
        working.insert(request.stream, tip);
        result
    }

    /// Checks a request's events against its stream's tip and, if all pass, adds them to
    /// `pending`, moves the tip and the head past them and returns what the caller hears. On
    /// refusal `head` is untouched, and so is `tip` for a request of one event: each event is
    /// checked, encoded and measured before it is applied.
    fn extend(
        request: &Request,
        tip: &mut StreamTip,
        recorded_at: Timestamp,
        today: Date,
        head: &mut Head,
        pending: &mut Vec<Pending>,
    ) -> Result<Appended, AppendError> {
        if let Some(expected) = request.expected_version {
            if expected != tip.state.version {
                return Err(AppendError::VersionConflict { expected, actual: tip.state.version });
            }
        }
        let mut ids = Vec::with_capacity(request.events.len());
        let mut next = *head;
        for (index, event) in request.events.iter().enumerate() {
            rules::check(&tip.state, event.occurred_on, &event.step, today)
                .map_err(|violation| AppendError::Rule { index, violation })?;
            let id = event.id.unwrap_or_else(EventId::generate);
            let envelope = Envelope {
                id,
                stream: request.stream,
                // `apply` below makes this the stream's version.
                version: tip.state.version + 1,
                position: next.position + 1,
                occurred_on: event.occurred_on,
                recorded_at,
                recorded_by: request.author.actor.clone(),
                step: event.step.clone(),
                sealed_text: request.sealed_texts.get(index).and_then(Option::as_ref).map(|text| text.sealed.clone()),
                prev_hash: next.hash,
                stream_prev_hash: tip.last_hash,
            };
            let record = page::encode_record(&envelope)?;
            if record.len() > EVENT_BYTES_MAX {
                return Err(AppendError::EventTooLarge { index, bytes: record.len(), max: EVENT_BYTES_MAX });
            }
            tip.state.apply(id, event.occurred_on, &event.step);
            debug_assert_eq!(tip.state.version, envelope.version);
            next.position += 1;
            next.hash = page::hash(&record);
            next.recorded_at = Some(recorded_at);
            tip.last_hash = next.hash;
            ids.push(id);
            pending.push(Pending { envelope, record, glued: false });
        }
        let appended = Appended { version: tip.state.version, position: next.position, ids, replayed: false };
        *head = next;
        Ok(appended)
    }

    /// A retry: every id already stored (or accepted earlier in this batch) with the same content
    /// is an idempotent success; any stored id with other content is a `duplicate_id`.
    fn replay(
        &self,
        request: &Request,
        batch_ids: &HashMap<EventId, (StreamId, usize)>,
        pending: &[Pending],
    ) -> Result<Option<Appended>, AppendError> {
        let mut seen = HashSet::with_capacity(request.events.len());
        let mut stored = Vec::new();
        for (event, sealed_text) in request.events.iter().zip(&request.sealed_texts) {
            let Some(id) = event.id else { continue };
            if !seen.insert(id) {
                return Err(AppendError::DuplicateId(id));
            }
            let existing = match batch_ids.get(&id) {
                Some((_, index)) => Some(pending[*index].envelope.clone()),
                None => match self.trees.location_of_id(id)? {
                    Some(location) => Some(self.trees.envelope_at(location)?),
                    None => None,
                },
            };
            if let Some(existing) = existing {
                let same = existing.stream == request.stream
                    && existing.occurred_on == event.occurred_on
                    && same_step(&existing, &event.step, sealed_text.as_ref());
                if !same {
                    return Err(AppendError::DuplicateId(id));
                }
                stored.push(existing);
            }
        }
        if stored.is_empty() {
            return Ok(None);
        }
        if stored.len() != request.events.len() {
            // Part of the request is stored, part is new: not a retry of one request.
            return Err(AppendError::DuplicateId(stored[0].id));
        }
        let last = &stored[stored.len() - 1];
        Ok(Some(Appended {
            version: last.version,
            position: last.position,
            ids: stored.iter().map(|e| e.id).collect(),
            replayed: true,
        }))
    }

    /// Builds the pages, appends them to the journal and syncs it (the durability point), then puts
    /// them and their index entries into sled. Returns where each pending event now lies.
    fn write(&mut self, pending: &[Pending]) -> Result<Vec<Location>, StoreError> {
        let (pages, locations) = build_pages(pending);
        let first = pending[0].envelope.position;
        let last = first + pending.len() as u64 - 1;
        let bytes = Journal::entry_bytes(&pages);
        if !self.journal.fits(bytes) {
            self.checkpoint()?;
        }
        let journaled = self.journal.could_fit(bytes);
        if journaled {
            self.journal.append(first, last, &pages)?;
        }
        for (key, page) in pages {
            store_page(&self.trees, key, page)?;
        }
        for (event, location) in pending.iter().zip(&locations) {
            index(&self.trees, &event.envelope, *location)?;
        }
        if !journaled {
            // A commit larger than the whole journal (thousands of large events): sled's own
            // durability, as before the journal. The journal is empty (checkpointed above).
            sync(&self.trees, &self.data_file)?;
        }
        Ok(locations)
    }
}

/// The pages of a commit, each with its key (the position of its first event), and where each
/// pending event lies in them.
fn build_pages(pending: &[Pending]) -> (Vec<(u64, Vec<u8>)>, Vec<Location>) {
    let mut pages = Vec::with_capacity(1 + pending.len() / PAGE_EVENTS_MAX);
    let mut locations = Vec::with_capacity(pending.len());
    let mut builder = PageBuilder::new();
    let mut page_key = pending[0].envelope.position;
    for (at, event) in pending.iter().enumerate() {
        // A glued group starts a page of its own when the current one cannot hold all of it.
        let group = if event.glued { 1 } else { 1 + pending[at + 1..].iter().take_while(|next| next.glued).count() };
        let bytes: usize = pending[at..at + group].iter().map(|event| PageBuilder::framed_len(&event.record)).sum();
        let full = builder.count() + group > PAGE_EVENTS_MAX || builder.len_bytes() + bytes > PAGE_BYTES_MAX;
        if full && builder.count() > 0 {
            pages.push((page_key, std::mem::take(&mut builder).finish()));
            page_key = event.envelope.position;
        }
        locations.push(Location { page: page_key, index: builder.count() as u16 });
        builder.push(page::record_format(&event.envelope), &event.record);
    }
    pages.push((page_key, builder.finish()));
    (pages, locations)
}

/// Puts one page into the log tree: the writer's commits and the journal's replay both go through
/// here (and through [`index`] for the page's events).
fn store_page(trees: &Trees, key: u64, page: Vec<u8>) -> Result<(), StoreError> {
    trees.log.insert(page::position_key(key), page)?;
    Ok(())
}

/// Whether the request may reach its stream at all, checked before anything else looks at what the
/// stream holds. A registration never takes a reserved stream's id (published reports, or the
/// stream of the structure it names). A scoped author (a coordinator) reaches only the streams its
/// structures hold now, or a new stream whose registration names one of them; every other stream,
/// existing or not, gets the same `Forbidden`. Structure and report streams are no one's pathway:
/// a step of a pathway there is refused by the rule that says so, for everyone alike.
fn admit(request: &Request, tip: &StreamTip) -> Result<(), AppendError> {
    for (index, event) in request.events.iter().enumerate() {
        if let Step::Registered(registered) = &event.step {
            if request.stream == StreamId::published_reports()
                || request.stream == StreamId::of_structure(registered.structure.as_str())
            {
                return Err(AppendError::Rule { index, violation: rules::Violation::ReservedStream });
            }
        }
    }
    let WriteScope::Structures(allowed) = &request.author.scope else { return Ok(()) };
    let pathway = &tip.state.pathway;
    if matches!(pathway.kind, StreamKind::Structure | StreamKind::Reports) {
        // A structure or report step by a coordinator passes the rules: refuse it here.
        for (index, event) in request.events.iter().enumerate() {
            if let Err(violation) = rules::check_kind(&tip.state, &event.step) {
                return Err(AppendError::Rule { index, violation });
            }
        }
        return Err(AppendError::Forbidden);
    }
    // The structure a proposed referral names answers it, though the person is not yet its own.
    let answers =
        request.events.iter().all(|event| matches!(event.step, Step::ReferralAccepted(_) | Step::ReferralDeclined(_)));
    // With no proposal waiting, an answer is the holder's to send and the rules' to refuse
    // (`no_pending_referral`); anyone else hears what any stream outside its reach answers.
    if let (true, Some(pending)) = (answers, &pathway.pending_referral) {
        return if allowed.contains(&pending.structure) { Ok(()) } else { Err(AppendError::Forbidden) };
    }
    // The structure that holds the person now; for a new stream, that of its registration.
    let holder = pathway.current_structure().or_else(|| match request.events.first() {
        Some(NewEvent { step: Step::Registered(registered), .. }) if tip.state.version == 0 => {
            Some(&registered.structure)
        }
        _ => None,
    });
    if !holder.is_some_and(|holder| allowed.contains(holder)) {
        return Err(AppendError::Forbidden);
    }
    // A structure's past is its own (CONTRACT §7): a coordinator corrects only what was recorded
    // while one of its structures held the person (the registration, the person's own, aside),
    // and a corrected referral names one of its structures or the one it named (another is asked
    // by a new referral, a proposal).
    for event in &request.events {
        let Step::Corrected(correction) = &event.step else { continue };
        let target = tip.state.find(correction.corrects);
        if let Some(Step::Referred(referred)) = correction.replacement.as_ref().map(|replacement| &*replacement.step) {
            let same = matches!(target.map(|target| &target.step), Some(Step::Referred(original)) if original.structure == referred.structure);
            if !same && !allowed.contains(&referred.structure) {
                return Err(AppendError::Forbidden);
            }
        }
        if target.is_some_and(|target| matches!(target.step, Step::Registered(_))) {
            continue;
        }
        if rules::holder_after(&tip.state, correction.corrects).is_some_and(|held| !allowed.contains(&held)) {
            return Err(AppendError::Forbidden);
        }
    }
    Ok(())
}

/// A corrected referral stays what it was when recorded, a proposal or not (CONTRACT §7): a
/// correction fixes its data, never makes a proposal count before its answer, nor takes an
/// accepted one back to waiting. The store marked the replacement from its author's scope; the
/// referral it corrects decides.
/// Whether a stored event states the step of a retry, free text included: sealed alike (sealing
/// is deterministic), or, for an event stored before free text was sealed (record format 4 and
/// older), the same text in clear.
fn same_step(existing: &Envelope, step: &Step, text: Option<&SealedText>) -> bool {
    match (&existing.sealed_text, text) {
        (Some(stored), Some(text)) => *stored == text.sealed && existing.step == *step,
        (None, None) => existing.step == *step,
        (None, Some(text)) => {
            let mut clear = existing.step.clone();
            clear.take_free_text().as_ref() == Some(&text.clear) && clear == *step
        }
        (Some(_), None) => false,
    }
}

fn keep_proposals(state: &StreamState, events: &mut [NewEvent]) {
    for event in events {
        let Step::Corrected(correction) = &mut event.step else { continue };
        let Some(Step::Referred(replacement)) =
            correction.replacement.as_mut().map(|replacement| &mut *replacement.step)
        else {
            continue;
        };
        if let Some(Step::Referred(original)) = state.find(correction.corrects).map(|target| &target.step) {
            replacement.proposed = original.proposed;
        }
    }
}

/// Writes the index entries of one event.
pub(crate) fn index(trees: &Trees, envelope: &Envelope, location: Location) -> Result<(), StoreError> {
    super::stream_index::add(&trees.streams, envelope.stream, envelope.version, location)?;
    let mut id_value = [0u8; 18];
    id_value[..8].copy_from_slice(&envelope.position.to_be_bytes());
    id_value[8..].copy_from_slice(&location.to_bytes());
    trees.ids.insert(envelope.id.as_bytes(), &id_value)?;
    Ok(())
}

/// sled's flush, then an fdatasync of its data file: the durability point of the store.
pub(crate) fn sync(trees: &Trees, data_file: &File) -> Result<(), StoreError> {
    trees.db.flush()?;
    // The power-loss control build (a test-only feature) leaves the data file to sled's own
    // syncs, so that the power-loss test is seen to fail without this fdatasync.
    if cfg!(feature = "power-loss-control") {
        return Ok(());
    }
    data_file.sync_data().map_err(|source| StoreError::Io { path: "log/db".into(), source })
}

/// Finds the head of the log and re-indexes its tail. Only the last batch can have been written
/// without its indexes (a crash before the flush), and a batch holds at most `BATCH_EVENTS_MAX`
/// events, so checking that many events from the end suffices.
pub(crate) fn repair(trees: &Trees, data_file: &File) -> Result<Head, StoreError> {
    let Some((_, last_events)) = trees.last_page()? else {
        return Ok(Head { position: 0, hash: [0; 32], recorded_at: None });
    };
    let head = match last_events.last() {
        Some((envelope, hash)) => {
            Head { position: envelope.position, hash: *hash, recorded_at: Some(envelope.recorded_at) }
        }
        None => return Err(Trees::damaged(0, "the last page holds no event")),
    };
    let from = head.position.saturating_sub(BATCH_EVENTS_MAX as u64).max(1);
    let mut repaired = 0usize;
    let mut expected = None;
    let log = &trees.log;
    let start = log
        .range(..=page::position_key(from))
        .next_back()
        .transpose()?
        .and_then(|(key, _)| page::position_from_key(&key))
        .unwrap_or(1);
    for entry in log.range(page::position_key(start)..) {
        let (key, bytes) = entry?;
        let first = page::position_from_key(&key).ok_or_else(|| Trees::damaged(0, "malformed page key"))?;
        if expected.is_some_and(|expected| expected != first) {
            return Err(Trees::damaged(first, format!("gap in the log: expected a page at {expected:?}")));
        }
        let events = super::decode_page(first, &bytes)?;
        for (slot, (envelope, _)) in events.iter().enumerate() {
            let location = Location { page: first, index: slot as u16 };
            let indexed = trees.location_of_id(envelope.id)?.is_some()
                && super::stream_index::get(&trees.streams, envelope.stream, envelope.version)?.is_some();
            if !indexed {
                index(trees, envelope, location)?;
                repaired += 1;
            }
        }
        expected = Some(first + events.len() as u64);
    }
    if repaired > 0 {
        tracing::warn!(repaired, "re-indexed events written just before a crash");
        sync(trees, data_file)?;
    }
    Ok(head)
}

/// Brings sled up to date from the journal when the store opens (see `journal`): every page of
/// the journal's valid entries that sled lacks is put back, every event of them not indexed is
/// indexed, through the code the writer's commits use. The pages must follow one another and
/// continue the log's hash chain; a page sled holds must be the same bytes. Then a checkpoint, so
/// the journal may start again from its beginning. Returns how many events were put back.
pub(crate) fn recover(trees: &Trees, data_file: &File, journal: &mut Journal) -> Result<usize, StoreError> {
    let entries = journal.entries()?;
    let (mut restored, mut reindexed) = (0usize, 0usize);
    // The position and hash of the event the next page must follow.
    let mut previous: Option<(u64, Hash)> = None;
    for entry in &entries {
        let mut expected = entry.first;
        for (key, page) in &entry.pages {
            let key = *key;
            if key != expected {
                return Err(Trees::damaged(key, format!("journal: a page at {key} where {expected} was expected")));
            }
            let events = super::decode_page(key, page)?;
            let (before, mut hash) = match previous {
                Some(previous) => previous,
                None => event_before(trees, key)?,
            };
            if before + 1 != key {
                return Err(Trees::damaged(key, "journal: the page does not follow the log"));
            }
            for (slot, (envelope, event_hash)) in events.iter().enumerate() {
                if envelope.position != key + slot as u64 || envelope.prev_hash != hash {
                    let detail =
                        format!("journal: event {} breaks the log's positions or hash chain", envelope.position);
                    return Err(Trees::damaged(key, detail));
                }
                hash = *event_hash;
            }
            match trees.log.get(page::position_key(key))? {
                Some(stored) if stored.as_ref() == page.as_slice() => {}
                Some(_) => return Err(Trees::damaged(key, "journal: the log holds another page at this position")),
                None => {
                    store_page(trees, key, page.clone())?;
                    restored += events.len();
                }
            }
            for (slot, (envelope, _)) in events.iter().enumerate() {
                let indexed = trees.ids.get(envelope.id.as_bytes())?.is_some()
                    && super::stream_index::get(&trees.streams, envelope.stream, envelope.version)?.is_some();
                if !indexed {
                    index(trees, envelope, Location { page: key, index: slot as u16 })?;
                    reindexed += 1;
                }
            }
            expected = key + events.len() as u64;
            previous = Some((expected - 1, hash));
        }
        if expected != entry.last + 1 {
            return Err(Trees::damaged(entry.first, "journal: an entry's pages do not hold its positions"));
        }
    }
    if restored > 0 || reindexed > 0 {
        tracing::warn!(
            restored,
            reindexed,
            "replayed the journal: events acknowledged before a crash, put back into the log"
        );
    }
    sync(trees, data_file)?;
    journal.reset();
    Ok(restored)
}

/// The position and hash of the last event before the page at `key` (position 0 and zeros for the
/// first page): a journal always begins where sled is durable, so sled holds that event.
fn event_before(trees: &Trees, key: u64) -> Result<(u64, Hash), StoreError> {
    if key == 1 {
        return Ok((0, [0; 32]));
    }
    let Some((page_key, bytes)) = trees.log.range(..page::position_key(key)).next_back().transpose()? else {
        return Err(Trees::damaged(key, "journal: it begins after a gap in the log"));
    };
    let first = page::position_from_key(&page_key).ok_or_else(|| Trees::damaged(0, "malformed page key"))?;
    let events = super::decode_page(first, &bytes)?;
    let (envelope, hash) = events.last().ok_or_else(|| Trees::damaged(first, "a page holds no event"))?;
    Ok((envelope.position, *hash))
}
