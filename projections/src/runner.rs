//! Keeping the projections in step with the log: rebuilt from position 0, then following the log
//! live, woken by the store whenever new positions are durable (never polling).
//!
//! Why a rebuild at every start rather than a stored checkpoint: the rebuild takes 3.3 s for 9.5
//! million events (300,000 people; 2.85 M events/s, 0.85 of a one-thread scan of the same log,
//! medians on a 2-core machine, page cache warm: BENCHMARKS.md), while a checkpoint would be a
//! second stored format, to version and to keep exactly in step with the log it summarises
//! ("nothing counted twice" would then rest on writing both atomically). One source of truth,
//! read once, cannot count anything twice.
//!
//! The rebuild takes two threads: the caller reads and decodes pages, another folds them in order.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{channel, sync_channel};
use std::sync::{Arc, Mutex, RwLock, RwLockReadGuard};
use std::thread::JoinHandle;
use std::time::Duration;

use parcours_core::store::{Store, StoreError};
use parcours_core::vocabulary::Envelope;
use thiserror::Error;
use tokio::sync::watch;

use crate::projections::{ApplyError, Projections};

/// Events read from the log per catch-up step while following: bounds how long the write lock is
/// held, hence how long a query may wait behind a burst of appends.
const FOLLOW_BATCH_EVENTS: usize = 4096;

/// Pages decoded ahead of the fold during a rebuild.
const REBUILD_QUEUE_PAGES: usize = 256;

/// Pages handed to the fold at a time during a rebuild. Why not one: the fold is the slower of
/// the two threads, so the queue stays full and the reader sleeps on it; handed one by one, every
/// page folded woke the reader for one page (two system calls and a context switch per page).
const REBUILD_BATCH_PAGES: usize = 32;

#[derive(Debug, Error)]
pub enum RunnerError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Apply(#[from] ApplyError),
}

/// Folds the whole log from position 0. `progress` is called with the last applied position as
/// pages are folded, and once at the end.
///
/// Two threads: the caller's reads and decodes pages (exactly a scan's work), a new one folds
/// them. Folding is sequential, and on the two cores of the machines measured it is the longer
/// of the two; every extra thread only takes time from the fold. Reading, decoding and folding
/// on four threads (a reader, a decoder per core, the fold) burned more CPU for less speed: the
/// threads took turns on the cores, each turn evicting the fold's people from the caches, and
/// each page crossed three threads (BENCHMARKS.md, "Projections"). Folded pages go back to the
/// reading thread to be freed there: memory is freed fastest by the thread that allocated it.
///
/// Why the caller reads and a new thread folds, rather than the reverse: sled allocates a buffer
/// for every node it reads, about the log's whole size over a rebuild, and a thread that has
/// allocated before (the caller, following the log afterwards) reuses memory it already has, where
/// a new thread starts from fresh pages, each a page fault. The fold's own memory is new whichever
/// thread folds (most of it is the facts' arena, reserved at once).
pub fn rebuild(store: &Store, progress: impl FnMut(u64)) -> Result<Projections, RunnerError> {
    rebuild_until(store, u64::MAX, progress)
}

/// Folds the log from position 0 up to position `last` included: the projections as they stood
/// when the log ended there (a published report is reproduced from them). Stops reading at `last`;
/// a log shorter than that is folded whole, which the caller sees in `applied_position`.
pub fn rebuild_until(store: &Store, last: u64, mut progress: impl FnMut(u64)) -> Result<Projections, RunnerError> {
    // Almost every event is a fact in the histories: one allocation instead of a vector that
    // doubles, copying itself, about twenty times. More events may come while rebuilding.
    let expected = usize::try_from(store.last_position().min(last)).unwrap_or(0);
    let applied = AtomicU64::new(0);
    std::thread::scope(|scope| {
        let (decoded_sender, decoded) = sync_channel::<Vec<Vec<Envelope>>>(REBUILD_QUEUE_PAGES / REBUILD_BATCH_PAGES);
        let (spent_sender, spent) = channel::<Vec<Vec<Envelope>>>();
        let applied = &applied;
        let folding = scope.spawn(move || -> Result<Projections, RunnerError> {
            let mut projections = Projections::new();
            projections.reserve(expected);
            'batches: for batch in decoded {
                for events in &batch {
                    let kept = events.partition_point(|event| event.position <= last);
                    projections.apply_all(&events[..kept])?;
                    if kept < events.len() {
                        break 'batches;
                    }
                }
                applied.store(projections.applied_position(), Ordering::Relaxed);
                // Freed where it was allocated, by the reading thread.
                let _ = spent_sender.send(batch);
            }
            projections.shrink_to_fit();
            Ok(projections)
        });
        let mut reported = 0;
        let mut failed = None;
        let mut batch = Vec::with_capacity(REBUILD_BATCH_PAGES);
        for page in store.pages_from(1) {
            match page {
                Ok((first, _)) if first > last => break,
                Ok((_, events)) => batch.push(events),
                Err(error) => {
                    failed = Some(error);
                    break;
                }
            }
            if batch.len() < REBUILD_BATCH_PAGES {
                continue;
            }
            let full = std::mem::replace(&mut batch, Vec::with_capacity(REBUILD_BATCH_PAGES));
            if decoded_sender.send(full).is_err() {
                // The fold stopped: its error is what to report.
                break;
            }
            spent.try_iter().for_each(drop);
            let now = applied.load(Ordering::Relaxed);
            if now != reported {
                reported = now;
                progress(now);
            }
        }
        if !batch.is_empty() {
            let _ = decoded_sender.send(batch);
        }
        drop(decoded_sender);
        let projections = folding.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic))?;
        if let Some(error) = failed {
            return Err(error.into());
        }
        progress(projections.applied_position());
        Ok(projections)
    })
}

/// Applies what the log holds after `projections.applied_position()`, in batches.
fn catch_up(store: &Store, shared: &RwLock<Projections>, applied: &watch::Sender<u64>) -> Result<(), RunnerError> {
    loop {
        let after = applied.borrow().to_owned();
        let events = store.read_log(after, FOLLOW_BATCH_EVENTS)?;
        let Some(last) = events.last().map(|event| event.position) else { return Ok(()) };
        {
            let mut projections = shared.write().unwrap_or_else(|poisoned| poisoned.into_inner());
            projections.apply_all(&events)?;
        }
        applied.send_replace(last);
    }
}

/// The projections of a running server: rebuilt in the background at start, then live.
pub struct Live {
    shared: Arc<RwLock<Projections>>,
    applied: watch::Receiver<u64>,
    /// Set when following stopped on an error; queries then report it instead of waiting.
    failure: Arc<Mutex<Option<String>>>,
    stop: watch::Sender<bool>,
    thread: Option<JoinHandle<()>>,
}

impl Live {
    /// Starts rebuilding, then following, on a thread of its own. Queries may start at once: they
    /// wait for the position they need ([`Live::caught_up`]).
    pub fn start(store: Store) -> std::io::Result<Live> {
        let shared = Arc::new(RwLock::new(Projections::new()));
        let (applied_sender, applied) = watch::channel(0);
        let (stop, stopped) = watch::channel(false);
        let failure = Arc::new(Mutex::new(None));
        let thread = {
            let (shared, failure) = (shared.clone(), failure.clone());
            std::thread::Builder::new().name("parcours-projections".into()).spawn(move || {
                if let Err(error) = follow(&store, &shared, &applied_sender, stopped) {
                    tracing::error!(%error, "the projections stopped following the log");
                    *failure.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(error.to_string());
                }
            })?
        };
        Ok(Live { shared, applied, failure, stop, thread: Some(thread) })
    }

    /// The projections as they stand. Hold the guard briefly: the follower waits for it.
    pub fn read(&self) -> RwLockReadGuard<'_, Projections> {
        self.shared.read().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The last position applied.
    pub fn applied(&self) -> u64 {
        *self.applied.borrow()
    }

    /// Wakes its holder whenever the projections have applied new positions.
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.applied.clone()
    }

    /// Why the projections stopped following the log, if they did.
    pub fn failure(&self) -> Option<String> {
        self.failure.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).clone()
    }

    /// Waits until the projections have applied `position` (so a reader sees its own writes), at
    /// most `timeout`. Returns whether they did.
    pub async fn caught_up(&self, position: u64, timeout: Duration) -> bool {
        let mut applied = self.applied.clone();
        let reached = tokio::time::timeout(timeout, applied.wait_for(|applied| *applied >= position)).await;
        matches!(reached, Ok(Ok(_)))
    }
}

impl Drop for Live {
    fn drop(&mut self) {
        self.stop.send_replace(true);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Rebuilds, publishes, then applies every new durable position until told to stop.
fn follow(
    store: &Store,
    shared: &RwLock<Projections>,
    applied: &watch::Sender<u64>,
    mut stop: watch::Receiver<bool>,
) -> Result<(), RunnerError> {
    let mut durable = store.subscribe();
    durable.borrow_and_update();
    let started = std::time::Instant::now();
    let rebuilt = rebuild(store, |_| {})?;
    let position = rebuilt.applied_position();
    tracing::info!(
        events = position,
        beneficiaries = rebuilt.beneficiary_count(),
        seconds = started.elapsed().as_secs_f64(),
        "projections rebuilt"
    );
    *shared.write().unwrap_or_else(|poisoned| poisoned.into_inner()) = rebuilt;
    applied.send_replace(position);
    // A current-thread runtime only to await the store's watch: it needs no I/O driver.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .map_err(|source| StoreError::Io { path: "projections runtime".into(), source })?;
    loop {
        catch_up(store, shared, applied)?;
        let woken = runtime.block_on(async {
            tokio::select! {
                changed = durable.changed() => changed.is_ok(),
                _ = stop.wait_for(|stop| *stop) => false,
            }
        });
        if !woken {
            return Ok(());
        }
    }
}
