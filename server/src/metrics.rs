//! `GET /metrics` (Prometheus text format): appends and their latency, group-commit batch sizes,
//! projection lag, live clients, requests by route, and the folds made to reproduce published
//! reports.
//!
//! Metrics never carry personal data nor a beneficiary's id: labels are route templates
//! (`/api/beneficiaries/{id}`), methods and status codes only.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use parcours_core::store::{Commit, CommitObserver};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

use crate::app::AppError;
use crate::state::AppState;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: String,
    route: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    route: String,
}

pub struct Metrics {
    registry: Registry,
    commits: Counter,
    events_appended: Counter,
    commit_requests: Histogram,
    commit_events: Histogram,
    commit_seconds: Histogram,
    append_seconds: Histogram,
    requests: Family<RequestLabels, Counter>,
    request_seconds: Family<RouteLabels, Histogram>,
    projection_lag: Gauge,
    live_clients: Gauge,
    last_position: Gauge,
    publication_folds: Counter,
    publication_snapshots: Counter,
}

impl Metrics {
    pub fn new() -> Arc<Metrics> {
        let mut registry = Registry::with_prefix("parcours");
        let seconds = || Histogram::new(exponential_buckets(0.000_05, 2.0, 18));
        let sizes = || Histogram::new(exponential_buckets(1.0, 2.0, 14));
        let metrics = Metrics {
            commits: Counter::default(),
            events_appended: Counter::default(),
            commit_requests: sizes(),
            commit_events: sizes(),
            commit_seconds: seconds(),
            append_seconds: seconds(),
            requests: Family::default(),
            request_seconds: Family::new_with_constructor(|| Histogram::new(exponential_buckets(0.000_05, 2.0, 18))),
            projection_lag: Gauge::default(),
            live_clients: Gauge::default(),
            last_position: Gauge::default(),
            publication_folds: Counter::default(),
            publication_snapshots: Counter::default(),
            registry: Registry::default(),
        };
        registry.register("group_commits", "Group commits made durable", metrics.commits.clone());
        registry.register("events_appended", "Events appended to the log", metrics.events_appended.clone());
        registry.register(
            "group_commit_requests",
            "Append requests answered by one group commit",
            metrics.commit_requests.clone(),
        );
        registry.register("group_commit_events", "Events written by one group commit", metrics.commit_events.clone());
        registry.register(
            "group_commit_seconds",
            "From taking a batch to its durability point (flush and fdatasync)",
            metrics.commit_seconds.clone(),
        );
        registry.register(
            "append_seconds",
            "Latency of an append request, from arrival to durable answer",
            metrics.append_seconds.clone(),
        );
        registry.register("http_requests", "HTTP requests by route, method and status", metrics.requests.clone());
        registry.register("http_request_seconds", "HTTP request latency by route", metrics.request_seconds.clone());
        registry.register(
            "projection_lag_events",
            "Durable events not yet applied by the projections",
            metrics.projection_lag.clone(),
        );
        registry.register("live_clients", "Clients connected to the live feed", metrics.live_clients.clone());
        registry.register("log_last_position", "The last durable position of the log", metrics.last_position.clone());
        registry.register(
            "publication_folds",
            "Folds of the log from position 0 to reproduce a published report (each is kept after)",
            metrics.publication_folds.clone(),
        );
        registry.register(
            "publication_snapshots",
            "Published reports reproduced from the snapshot kept when they were published, without a fold",
            metrics.publication_snapshots.clone(),
        );
        Arc::new(Metrics { registry, ..metrics })
    }

    /// Counts a fold of the log made to reproduce a publication.
    pub fn count_publication_fold(&self) {
        self.publication_folds.inc();
    }

    /// Counts a publication reproduced from its snapshot.
    pub fn count_publication_snapshot(&self) {
        self.publication_snapshots.inc();
    }

    /// The store's commit observer.
    pub fn observer(self: &Arc<Metrics>) -> CommitObserver {
        let metrics = self.clone();
        Arc::new(move |commit: &Commit| {
            metrics.commits.inc();
            metrics.events_appended.inc_by(commit.events as u64);
            metrics.commit_requests.observe(commit.requests as f64);
            metrics.commit_events.observe(commit.events as f64);
            metrics.commit_seconds.observe(commit.duration.as_secs_f64());
        })
    }
}

/// Counts and times every request by its route template.
pub async fn track(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let route = request.extensions().get::<MatchedPath>().map_or("unmatched", MatchedPath::as_str).to_owned();
    let method = request.method().as_str().to_owned();
    let started = Instant::now();
    let response = next.run(request).await;
    let seconds = started.elapsed().as_secs_f64();
    let metrics = &state.metrics;
    if method == "POST" && (route == "/api/beneficiaries/{id}/events" || route == "/api/beneficiaries") {
        metrics.append_seconds.observe(seconds);
    }
    metrics.request_seconds.get_or_create(&RouteLabels { route: route.clone() }).observe(seconds);
    metrics.requests.get_or_create(&RequestLabels { method, route, status: response.status().as_u16() }).inc();
    response
}

/// The metrics in Prometheus text format, the gauges read now.
pub fn render(state: &AppState) -> Result<String, AppError> {
    let metrics = &state.metrics;
    let last = state.store.last_position();
    metrics.last_position.set(i64::try_from(last).unwrap_or(i64::MAX));
    metrics.projection_lag.set(i64::try_from(last.saturating_sub(state.projections.applied())).unwrap_or(i64::MAX));
    metrics.live_clients.set(i64::try_from(state.feed.clients()).unwrap_or(i64::MAX));
    let mut text = String::new();
    prometheus_client::encoding::text::encode(&mut text, &metrics.registry)
        .map_err(|_| AppError::Unavailable("the metrics could not be written".into()))?;
    Ok(text)
}
