//! `POST /api/beneficiaries/{id}/merge` and `/unmerge` (CONTRACT §10); both sides are recorded by
//! `app::merge`.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use parcours_core::vocabulary::StreamId;
use serde::{Deserialize, Serialize};

use super::error::JsonBody;
use crate::app::merge::{self, Recorded};
use crate::app::streams::beneficiary_id;
use crate::app::{AppError, Caller};
use crate::state::AppState;

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MergeBody {
    /// The record that survives (the one in the path is absorbed into it).
    #[schema(value_type = uuid::Uuid)]
    into: String,
    /// Why: kept in both histories.
    reason: String,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UnmergeBody {
    /// Why: kept in both histories.
    reason: String,
    /// Only for a record that several others were merged into: the one to separate.
    #[schema(value_type = Option<uuid::Uuid>)]
    other: Option<String>,
}

/// What both sides of a merge or an unmerge were recorded as.
#[derive(Serialize)]
struct RecordedJson {
    absorbed: StreamId,
    survivor: StreamId,
    /// The position of the last of the two events.
    position: u64,
    versions: VersionsJson,
}

#[derive(Serialize)]
struct VersionsJson {
    absorbed: u32,
    survivor: u32,
}

fn answer(recorded: Recorded) -> Response {
    let body = RecordedJson {
        absorbed: recorded.absorbed,
        survivor: recorded.survivor,
        position: recorded.absorbed_append.position.max(recorded.survivor_append.position),
        versions: VersionsJson {
            absorbed: recorded.absorbed_append.version,
            survivor: recorded.survivor_append.version,
        },
    };
    (StatusCode::CREATED, Json(body)).into_response()
}

/// Merges this record into `into`: `merged_into` here and `absorbed` there, both or neither.
#[utoipa::path(post, path = "/api/beneficiaries/{id}/merge", request_body = MergeBody, params(("id" = uuid::Uuid, Path)), tag = "people",
    responses((status = 201, description = "`{ absorbed, survivor, position, versions: { absorbed, survivor } }`"), (status = 400, description = "malformed request, unknown field or value (named)", body = super::openapi::ErrorBody), (status = 401, description = "no valid credential", body = super::openapi::ErrorBody), (status = 403, description = "outside the credential's rights (either record)", body = super::openapi::ErrorBody), (status = 404, description = "not found", body = super::openapi::ErrorBody), (status = 413, description = "payload too large", body = super::openapi::ErrorBody), (status = 422, description = "refused by a rule (`merged`, `already_merged`, `merge_into_itself`, `holds_merged_records`)", body = super::openapi::ErrorBody), (status = 503, description = "not available now; retry", body = super::openapi::ErrorBody)))]
pub async fn merge(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<MergeBody>,
) -> Result<Response, AppError> {
    let absorbed = beneficiary_id(&id)?;
    let into = body
        .into
        .parse()
        .map_err(|_| AppError::InvalidRequest(format!("into: `{}` is not a beneficiary id (a UUID)", body.into)))?;
    Ok(answer(merge::merge(&state, &caller, absorbed, into, body.reason).await?))
}

/// Undoes the merge this record is part of (either side): `unmerged` in both.
#[utoipa::path(post, path = "/api/beneficiaries/{id}/unmerge", request_body = UnmergeBody, params(("id" = uuid::Uuid, Path)), tag = "people",
    responses((status = 201, description = "`{ absorbed, survivor, position, versions: { absorbed, survivor } }`"), (status = 400, description = "malformed request, unknown field or value (named)", body = super::openapi::ErrorBody), (status = 401, description = "no valid credential", body = super::openapi::ErrorBody), (status = 403, description = "outside the credential's rights (either record)", body = super::openapi::ErrorBody), (status = 404, description = "not found", body = super::openapi::ErrorBody), (status = 413, description = "payload too large", body = super::openapi::ErrorBody), (status = 422, description = "refused by a rule (`not_merged`)", body = super::openapi::ErrorBody), (status = 503, description = "not available now; retry", body = super::openapi::ErrorBody)))]
pub async fn unmerge(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<UnmergeBody>,
) -> Result<Response, AppError> {
    let stream = beneficiary_id(&id)?;
    let other = match &body.other {
        Some(other) => Some(
            other
                .parse()
                .map_err(|_| AppError::InvalidRequest(format!("other: `{other}` is not a beneficiary id (a UUID)")))?,
        ),
        None => None,
    };
    Ok(answer(merge::unmerge(&state, &caller, stream, other, body.reason).await?))
}
