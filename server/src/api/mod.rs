//! The HTTP API (CONTRACT §5). [`router`] builds the whole application, so tests can drive it in
//! process and the binary serves the same thing.

pub mod admin;
pub mod backup;
pub mod duplicates;
mod error;
pub mod figures;
pub mod imports;
mod live;
pub mod log;
pub mod openapi;
pub mod people;
pub mod published;
pub mod reports;
pub(crate) mod structures;

use axum::extract::rejection::QueryRejection;
use axum::extract::{DefaultBodyLimit, FromRequestParts, Query};
use axum::http::header;
use axum::http::request::Parts;
use axum::http::HeaderValue;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::Router;
use parcours_core::store::access::AccessEntry;
use parcours_core::vocabulary::{StreamId, Timestamp};
use serde::de::DeserializeOwned;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

pub use error::ApiError;
pub use log::parse_as_of;

use crate::access::{self, Caller};
use crate::state::AppState;

pub fn router(state: AppState) -> Router {
    let body_limit = state.settings.body_limit;
    Router::new()
        .route("/healthz", get(log::healthz))
        .route("/metrics", get(crate::metrics::metrics))
        .route("/api/openapi.json", get(openapi::openapi))
        .route("/api/beneficiaries", post(log::register).get(people::list))
        .route("/api/beneficiaries/{id}", get(people::pathway))
        .route("/api/beneficiaries/{id}/events", post(log::append_events).get(log::read_stream))
        .route("/api/beneficiaries/{id}/audit", get(people::audit))
        .route("/api/beneficiaries/{id}/export", get(people::export))
        .route("/api/beneficiaries/{id}/erase", post(admin::erase))
        .route("/api/events", get(log::read_log))
        .route("/api/events/live", get(live::live))
        .route("/api/export", get(backup::export))
        .route("/api/export/keys", get(backup::export_keys))
        .route("/api/dashboard", get(figures::dashboard))
        .route("/api/stats/outcomes", get(figures::outcomes))
        .route("/api/stats/entries", get(figures::entries))
        .route("/api/reports/activity", get(reports::activity))
        .route("/api/reports/activity/list", get(reports::list))
        .route("/api/reports/activity/publish", post(published::publish))
        .route("/api/reports/published", get(published::list))
        .route("/api/reports/published/{id}", get(published::get))
        .route("/api/reports/published/{id}/changes", get(published::changes))
        .route("/api/reports/report.css", get(reports::stylesheet))
        .route("/api/structures", get(structures::list))
        .route("/api/structures/{slug}", put(structures::put))
        .route("/api/imports", post(imports::import).layer(DefaultBodyLimit::max(imports::IMPORT_BODY_MAX)))
        .route("/api/import-mappings", get(imports::list_mappings))
        .route("/api/import-mappings/{name}", put(imports::put_mapping))
        .route("/api/duplicates", get(duplicates::list))
        .route("/api/access-log", get(admin::access_log))
        .route("/api/tokens", get(admin::tokens).post(admin::create_token))
        .route("/api/tokens/{id}", axum::routing::delete(admin::revoke_token))
        .route_layer(axum::middleware::from_fn_with_state(state.clone(), access::enforce))
        .route_layer(axum::middleware::from_fn_with_state(state.clone(), crate::metrics::track))
        .merge(crate::web::router(state.clone()))
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(body_limit))
        // Answers are about people and change with every step: never cached unless a route says
        // otherwise (static files), never sniffed into another type.
        .layer(SetResponseHeaderLayer::if_not_present(header::CACHE_CONTROL, HeaderValue::from_static("no-store")))
        .layer(SetResponseHeaderLayer::overriding(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// Unknown addresses: the API's JSON error under `/api`, a French page elsewhere.
async fn not_found(uri: axum::http::Uri) -> Response {
    if uri.path().starts_with("/api/") {
        ApiError::not_found("no such route").into_response()
    } else {
        crate::web::not_found().await
    }
}

/// Runs blocking work (the store, the projections' fold) off the async workers.
pub async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|_| ApiError::Unavailable("the request could not be completed".into()))?
}

pub fn json_response(body: Vec<u8>) -> Response {
    ([(header::CONTENT_TYPE, "application/json")], body).into_response()
}

pub fn csv_response(body: String) -> Response {
    ([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], body).into_response()
}

/// Records that the caller read a beneficiary's history or identity (CONTRACT §7).
pub fn record_access(state: &AppState, caller: &Caller, beneficiary: StreamId, what: &str) -> Result<(), ApiError> {
    let entry = AccessEntry { at: Timestamp::now(), actor: caller.actor.clone(), beneficiary, what: what.to_owned() };
    Ok(state.store.record_access(entry)?)
}

/// A query string read with our errors: an unknown parameter or a bad value is a 400 naming it.
pub struct QueryOf<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for QueryOf<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Query(value) = Query::<T>::from_request_parts(parts, state)
            .await
            .map_err(|rejection: QueryRejection| ApiError::InvalidRequest(rejection.body_text()))?;
        Ok(QueryOf(value))
    }
}

#[cfg(test)]
mod tests {
    /// Every route of the router has its access rule, and every API rule its route: a route added
    /// without a rule fails here before it fails closed.
    #[test]
    fn every_route_has_an_access_rule() {
        crate::access::policy::check_rules_match_router(include_str!("mod.rs"), false);
    }
}
