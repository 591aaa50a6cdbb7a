//! `GET /metrics`: the OpenMetrics text of `crate::metrics`.

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};

use crate::app::AppError;
use crate::state::AppState;

/// Metrics in the OpenMetrics text format (which Prometheus reads).
#[utoipa::path(get, path = "/metrics", tag = "operations",
    responses((status = 200, description = "Metrics", content_type = "application/openmetrics-text"),
        (status = 401, description = "no valid credential", body = super::openapi::ErrorBody),
        (status = 403, description = "not an admin", body = super::openapi::ErrorBody)))]
pub async fn metrics(State(state): State<AppState>) -> Result<Response, AppError> {
    let text = crate::metrics::render(&state)?;
    // `encode` writes OpenMetrics text (it ends with `# EOF`): say so, or a strict scraper reads
    // it as the older Prometheus format.
    Ok(([(header::CONTENT_TYPE, "application/openmetrics-text; version=1.0.0; charset=utf-8")], text).into_response())
}
