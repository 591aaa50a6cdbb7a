//! What every request handler shares: the store, the live projections, the sessions, the settings.

use std::sync::Arc;
use std::time::Duration;

use chrono_tz::Tz;
use parcours_core::store::Store;
use parcours_core::vocabulary::Date;
use parcours_projections::Live;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::access::throttle::SignInThrottle;
use crate::access::Sessions;
use crate::app::publications::Reproductions;
use crate::app::AppError;
use crate::feed::Feed;
use crate::metrics::Metrics;

/// How long a costly request waits for a permit before it is answered 503: long enough to smooth
/// a burst of clicks, short enough that a client is not left hanging behind a queue.
pub const COSTLY_WAIT: Duration = Duration::from_millis(200);

/// Settings of a running server, fixed at start.
#[derive(Clone, Debug)]
pub struct Settings {
    /// The time zone that decides what "today" is for dashboards (the store uses the same).
    pub timezone: Tz,
    /// SHA-256 of `PARCOURS_ADMIN_TOKEN`, when set.
    pub admin_token_hash: Option<[u8; 32]>,
    /// In evaluator outputs, counts from 1 to `small_cells - 1` are suppressed (CONTRACT §7).
    pub small_cells: u64,
    /// How long a query waits for the projections to reach the log's last durable position.
    pub catch_up_timeout: Duration,
    pub body_limit: usize,
    /// How many costly requests (reports, statistics, publications, exports, lists and searches
    /// of people) run at once; past it, 503 with `Retry-After` (see [`AppState::costly`]).
    pub costly_requests: usize,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            timezone: chrono_tz::Europe::Paris,
            admin_token_hash: None,
            small_cells: 5,
            catch_up_timeout: Duration::from_secs(30),
            body_limit: 1024 * 1024,
            costly_requests: 4,
        }
    }
}

#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub projections: Arc<Live>,
    pub sessions: Arc<Sessions>,
    /// Sign-in attempts per client address.
    pub sign_ins: Arc<SignInThrottle>,
    pub feed: Arc<Feed>,
    pub metrics: Arc<Metrics>,
    pub settings: Arc<Settings>,
    /// Sheets previewed in the web page, waiting for their confirmation.
    pub previews: Arc<crate::app::import::previews::Previews>,
    /// Published reports reproduced, kept by publication (see `app::publications`).
    pub reproductions: Arc<Reproductions>,
    /// Permits for costly requests, `settings.costly_requests` of them: each walks many people or
    /// the whole log and holds a core while it does, so a burst of them would starve every other
    /// request (appends included) rather than merely wait.
    costly: Arc<Semaphore>,
    /// Turns true when the server begins to stop: streamed answers (server-sent events) end on it,
    /// or the graceful shutdown would wait for them forever.
    stopping: Arc<tokio::sync::watch::Sender<bool>>,
}

impl AppState {
    /// Starts the projections and the live feed; call it within the Tokio runtime. `metrics`
    /// should be the ones whose observer the store was opened with.
    pub fn new(store: Store, settings: Settings, metrics: Arc<Metrics>) -> std::io::Result<AppState> {
        let projections = Arc::new(Live::start(store.clone())?);
        let feed = Arc::new(Feed::start(store.clone()));
        let stopping = Arc::new(tokio::sync::watch::Sender::new(false));
        let costly = Arc::new(Semaphore::new(settings.costly_requests.max(1)));
        Ok(AppState {
            store,
            projections,
            sessions: Arc::default(),
            sign_ins: Arc::default(),
            feed,
            metrics,
            settings: Arc::new(settings),
            previews: Arc::default(),
            reproductions: Arc::default(),
            costly,
            stopping,
        })
    }

    /// Tells streamed answers to end: the server is stopping.
    pub fn begin_stopping(&self) {
        self.stopping.send_replace(true);
    }

    /// Resolves once the server begins to stop.
    pub async fn stopped(&self) {
        let mut stopping = self.stopping.subscribe();
        // An error means the sender is gone, which only happens once the state itself is.
        let _ = stopping.wait_for(|stopping| *stopping).await;
    }

    /// Today, in the server's time zone.
    pub fn today(&self) -> Date {
        Date(chrono::Utc::now().with_timezone(&self.settings.timezone).date_naive())
    }

    /// A permit to run a costly request, held until the answer is written: waits a moment for
    /// one ([`COSTLY_WAIT`]), then answers 503 with `Retry-After` rather than queueing without
    /// bound (a client that retries later costs less than a queue nobody can see).
    pub async fn costly(&self) -> Result<OwnedSemaphorePermit, AppError> {
        match tokio::time::timeout(COSTLY_WAIT, self.costly.clone().acquire_owned()).await {
            Ok(Ok(permit)) => Ok(permit),
            _ => Err(AppError::Unavailable(format!(
                "the server is answering {} costly requests (reports, statistics, exports, lists) already: retry in a moment",
                self.settings.costly_requests.max(1)
            ))),
        }
    }

    /// Whether the projections have applied every event durable now (`/readyz`).
    pub fn ready(&self) -> bool {
        self.projections.failure().is_none() && self.projections.applied() >= self.store.last_position()
    }

    /// Waits until the projections reflect everything durable when the request arrived, so that a
    /// reader always sees their own writes.
    pub async fn caught_up(&self) -> Result<(), AppError> {
        if let Some(failure) = self.projections.failure() {
            return Err(AppError::Unavailable(format!("the projections stopped: {failure}")));
        }
        let position = self.store.last_position();
        if self.projections.caught_up(position, self.settings.catch_up_timeout).await {
            Ok(())
        } else {
            Err(AppError::Unavailable("the projections are still being rebuilt from the log".into()))
        }
    }
}
