//! The live feed behind `GET /api/events/live`: every appended event, rendered once, fanned out to
//! every connected client.
//!
//! One task follows the store (woken by `Store::subscribe`, never polling), reads each new batch
//! of the log once, renders it as JSON once, and broadcasts it. Clients read from a bounded
//! broadcast buffer: appends never wait for them, and a client that falls more than
//! [`LIVE_BUFFER_BATCHES`] batches behind is told so and disconnected; it resumes from its last
//! id, reading what it missed from the store.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use parcours_core::store::Store;
use parcours_core::vocabulary::StreamId;
use tokio::sync::broadcast;

use crate::json::{event_json, Identity};

/// Batches kept for clients that read slowly. A batch is what one wake-up of the feed found (at
/// most [`FEED_READ_EVENTS`] events), so this bounds the memory the feed holds for the slowest.
pub const LIVE_BUFFER_BATCHES: usize = 1024;

/// Events read from the log per step, by the feed and by a client catching up.
pub const FEED_READ_EVENTS: usize = 512;

/// Connected clients at most; beyond, new ones get 503 and retry.
pub const LIVE_CLIENTS_MAX: usize = 10_000;

/// One event as the feed sends it: its position, stream and rendered JSON.
#[derive(Clone, Debug)]
pub struct LiveEvent {
    pub position: u64,
    pub stream: StreamId,
    pub json: Arc<str>,
}

pub struct Feed {
    sender: broadcast::Sender<Arc<Vec<LiveEvent>>>,
    clients: Arc<AtomicUsize>,
}

impl Feed {
    /// Starts the task that follows the store; it stops when the store's writer does.
    pub fn start(store: Store) -> Feed {
        let (sender, _) = broadcast::channel(LIVE_BUFFER_BATCHES);
        let feed = Feed { sender: sender.clone(), clients: Arc::default() };
        tokio::spawn(async move {
            let mut durable = store.subscribe();
            let mut after = *durable.borrow_and_update();
            loop {
                while after < store.last_position() {
                    let batch = {
                        let store = store.clone();
                        tokio::task::spawn_blocking(move || read(&store, after)).await
                    };
                    match batch {
                        Ok(Ok(batch)) if !batch.is_empty() => {
                            after = batch.last().map_or(after, |event| event.position);
                            // No receiver is not an error: nobody listens yet.
                            let _ = sender.send(Arc::new(batch));
                        }
                        Ok(Ok(_)) => break,
                        Ok(Err(error)) => {
                            tracing::error!(?error, "the live feed cannot read the log");
                            return;
                        }
                        Err(_) => return,
                    }
                }
                if durable.changed().await.is_err() {
                    return;
                }
            }
        });
        feed
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Vec<LiveEvent>>> {
        self.sender.subscribe()
    }

    /// Counts a client in, unless there are too many; the guard counts it out.
    pub fn join(&self) -> Option<ClientGuard> {
        let previous = self.clients.fetch_add(1, Ordering::AcqRel);
        let guard = ClientGuard(self.clients.clone());
        (previous < LIVE_CLIENTS_MAX).then_some(guard)
    }

    pub fn clients(&self) -> usize {
        self.clients.load(Ordering::Acquire)
    }
}

/// One connected client, for the count of [`Feed::clients`].
pub struct ClientGuard(Arc<AtomicUsize>);

impl Drop for ClientGuard {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Reads and renders the events after `after` (personal data left out: the feed is for every
/// reader, and identities are read one history at a time).
pub fn read(store: &Store, after: u64) -> Result<Vec<LiveEvent>, crate::app::AppError> {
    store
        .read_log(after, FEED_READ_EVENTS)?
        .iter()
        .map(|envelope| {
            let json = serde_json::to_string(&event_json(store, envelope, Identity::Hidden)?)?;
            Ok(LiveEvent { position: envelope.position, stream: envelope.stream, json: json.into() })
        })
        .collect()
}
