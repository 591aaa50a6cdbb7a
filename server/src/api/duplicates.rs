//! `GET /api/duplicates` (CONTRACT §10); the pairs come from `app::duplicates`.

use axum::extract::State;
use axum::response::Response;
use parcours_core::vocabulary::StreamId;
use serde::Serialize;

use super::json_response;
use crate::app::duplicates::pairs_for;
use crate::app::{blocking, AppError, Caller};
use crate::state::AppState;

#[derive(Serialize)]
struct PairJson {
    a: StreamId,
    b: StreamId,
    reason: &'static str,
}

/// Likely duplicates: `{ pairs: [ { a, b, reason } ] }`.
#[utoipa::path(get, path = "/api/duplicates", tag = "people",
    responses((status = 200, description = "`{ pairs: [ { a, b, reason } ] }`, reason `same_name_and_birth_date` or `same_name_and_birth_year`"),
        (status = 401, description = "no valid credential", body = super::openapi::ErrorBody),
        (status = 403, description = "outside the credential's rights", body = super::openapi::ErrorBody)))]
pub async fn list(State(state): State<AppState>, caller: Caller) -> Result<Response, AppError> {
    let body = blocking(move || {
        let pairs: Vec<PairJson> = pairs_for(&state, &caller)?
            .into_iter()
            .map(|pair| PairJson { a: pair.a, b: pair.b, reason: pair.likeness.code() })
            .collect();
        Ok(serde_json::to_vec(&serde_json::json!({ "pairs": pairs }))?)
    })
    .await?;
    Ok(json_response(body))
}
