//! The HTTP API (CONTRACT §5): thin handlers that read a request into the application's typed
//! inputs, call a use case of `crate::app`, and write its answer as JSON, CSV or a report's page.
//! [`routes`] declares every route; `crate::router` composes them with the web pages.

pub mod admin;
pub mod backup;
pub mod duplicates;
mod error;
pub mod esf;
pub mod figures;
pub mod fuzzing;
pub mod imports;
mod live;
pub mod log;
pub mod merge;
mod metrics;
pub mod openapi;
pub mod people;
pub mod published;
pub mod referrals;
pub mod reports;
pub(crate) mod structures;

use axum::extract::rejection::QueryRejection;
use axum::extract::DefaultBodyLimit;
use axum::extract::{FromRequestParts, Query};
use axum::http::header;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::Router;
use serde::de::DeserializeOwned;

pub use error::JsonBody;

use crate::access::{self, Gate};
use crate::app::AppError;
use crate::state::AppState;

/// Every route of the API, each behind `access::enforce` (its rule in `access::policy::RULES`)
/// and counted by `crate::metrics::track`.
pub fn routes(gate: Gate) -> Router<AppState> {
    let state = gate.state.clone();
    Router::new()
        .route("/healthz", get(log::healthz))
        .route("/readyz", get(log::readyz))
        .route("/metrics", get(metrics::metrics))
        .route("/api/openapi.json", get(openapi::openapi))
        .route("/api/beneficiaries", post(log::register).get(people::list))
        .route("/api/beneficiaries/{id}", get(people::pathway))
        .route("/api/beneficiaries/{id}/events", post(log::append_events).get(log::read_stream))
        .route("/api/beneficiaries/{id}/audit", get(people::audit))
        .route("/api/beneficiaries/{id}/export", get(people::export))
        .route("/api/beneficiaries/{id}/erase", post(admin::erase))
        .route("/api/beneficiaries/{id}/merge", post(merge::merge))
        .route("/api/beneficiaries/{id}/unmerge", post(merge::unmerge))
        .route("/api/beneficiaries/{id}/referrals/{referral}/accept", post(referrals::accept))
        .route("/api/beneficiaries/{id}/referrals/{referral}/decline", post(referrals::decline))
        .route("/api/referrals/pending", get(referrals::pending))
        .route("/api/events", get(log::read_log))
        .route("/api/events/live", get(live::live))
        .route("/api/export", get(backup::export))
        .route("/api/export/keys", get(backup::export_keys))
        .route("/api/export/parquet", get(backup::export_parquet))
        .route("/api/dashboard", get(figures::dashboard))
        .route("/api/stats/outcomes", get(figures::outcomes))
        .route("/api/stats/entries", get(figures::entries))
        .route("/api/stats/esf", get(esf::esf))
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
        .route_layer(axum::middleware::from_fn_with_state(gate, access::enforce))
        .route_layer(axum::middleware::from_fn_with_state(state, crate::metrics::track))
}

/// The API's answer to an address it does not know.
pub fn not_found() -> Response {
    AppError::not_found("no such route").into_response()
}

pub fn json_response(body: Vec<u8>) -> Response {
    ([(header::CONTENT_TYPE, "application/json")], body).into_response()
}

pub fn csv_response(body: String) -> Response {
    ([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], body).into_response()
}

/// A file to save rather than show: its type, and its name (what, structures, period) in
/// `Content-Disposition` (CONTRACT §11).
pub fn download_response(content_type: &'static str, file_name: &str, body: Vec<u8>) -> Response {
    let disposition = crate::attachment::content_disposition(file_name);
    let mut response = ([(header::CONTENT_TYPE, content_type)], body).into_response();
    if let Ok(value) = header::HeaderValue::from_str(&disposition) {
        response.headers_mut().insert(header::CONTENT_DISPOSITION, value);
    }
    response
}

/// A query string read with our errors: an unknown parameter or a bad value is a 400 naming it.
pub struct QueryOf<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for QueryOf<T> {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Query(value) = Query::<T>::from_request_parts(parts, state)
            .await
            .map_err(|rejection: QueryRejection| AppError::InvalidRequest(rejection.body_text()))?;
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
