//! The HTTP API (CONTRACT §5). `router(state)` builds the whole application, so tests can drive it
//! in process and the binary serves the same thing.

mod error;
mod log;

use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use axum::Router;
use parcours_core::store::Store;
use tower_http::trace::TraceLayer;

pub use error::ApiError;
pub use log::parse_as_of;

#[derive(Clone)]
pub struct AppState {
    pub store: Store,
}

pub fn router(state: AppState, body_limit: usize) -> Router {
    Router::new()
        .route("/healthz", get(log::healthz))
        .route("/api/beneficiaries", post(log::register))
        .route("/api/beneficiaries/{id}/events", post(log::append_events).get(log::read_stream))
        .route("/api/events", get(log::read_log))
        .fallback(|| async { ApiError::not_found("no such route") })
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}
