//! `GET /metrics`: the Prometheus text of `crate::metrics`.

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};

use crate::app::AppError;
use crate::state::AppState;

/// Prometheus text format.
#[utoipa::path(get, path = "/metrics", tag = "operations",
    responses((status = 200, description = "Metrics", content_type = "text/plain"),
        (status = 401, description = "no valid credential", body = super::openapi::ErrorBody),
        (status = 403, description = "not an admin", body = super::openapi::ErrorBody)))]
pub async fn metrics(State(state): State<AppState>) -> Result<Response, AppError> {
    let text = crate::metrics::render(&state)?;
    Ok(([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], text).into_response())
}
