//! Proposed referrals (CONTRACT §7): the proposals waiting for a structure's answer, and the
//! answer, accepted or declined with a reason. The use cases are `app::referrals`'.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use parcours_core::vocabulary::{Date, EventId, Slug};
use parcours_projections::PendingReferral;
use serde::{Deserialize, Serialize};

use super::error::JsonBody;
use super::{json_response, QueryOf};
use crate::app::referrals::{self, Answer, Waiting};
use crate::app::streams::beneficiary_id;
use crate::app::{AppError, Caller};
use crate::state::AppState;

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PendingQuery {
    /// The structure asked (all of a coordinator's by default; every structure for an admin).
    #[param(value_type = Option<String>)]
    structure: Option<Slug>,
}

#[derive(Serialize)]
struct WaitingJson {
    #[serde(flatten)]
    proposal: PendingReferral,
    name: Option<String>,
}

#[derive(Serialize)]
struct PendingJson {
    referrals: Vec<WaitingJson>,
}

/// The referrals proposed to the caller's structures by others, waiting for an answer, oldest
/// first: each with the person, the referral's id and date, the structure asked and the one that
/// proposed, the prescriber and the situation at entry.
#[utoipa::path(get, path = "/api/referrals/pending", operation_id = "pending_referrals", params(PendingQuery), tag = "people",
    responses((status = 200, description = "`{ referrals: [{ beneficiary, referral, referred_on, structure, from_structure, prescriber, situation, name }] }`"),
        (status = 400, description = "malformed request, unknown field or value (named)", body = super::openapi::ErrorBody),
        (status = 401, description = "no valid credential", body = super::openapi::ErrorBody),
        (status = 403, description = "outside the credential's rights", body = super::openapi::ErrorBody),
        (status = 503, description = "not available now; retry", body = super::openapi::ErrorBody)))]
pub async fn pending(
    State(state): State<AppState>,
    caller: Caller,
    QueryOf(query): QueryOf<PendingQuery>,
) -> Result<Response, AppError> {
    let waiting = referrals::pending(&state, &caller, query.structure).await?;
    let referrals = waiting.into_iter().map(|Waiting { proposal, name }| WaitingJson { proposal, name }).collect();
    Ok(json_response(serde_json::to_vec(&PendingJson { referrals })?))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AcceptBody {
    /// The day of the answer (today by default); the episode opens on the day of the referral.
    #[schema(value_type = Option<String>, format = Date)]
    occurred_on: Option<Date>,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeclineBody {
    /// Why the structure declines (shown to those who read the person's history).
    reason: String,
    #[schema(value_type = Option<String>, format = Date)]
    occurred_on: Option<Date>,
}

#[derive(Serialize)]
struct AnsweredJson {
    version: u32,
    position: u64,
    ids: Vec<EventId>,
}

fn referral_id(text: &str) -> Result<EventId, AppError> {
    text.parse().map_err(|_| AppError::InvalidRequest(format!("`{text}` is not a referral's event id (a UUID)")))
}

async fn answer(
    state: &AppState,
    caller: &Caller,
    (id, referral): (String, String),
    answer: Answer,
    on: Option<Date>,
) -> Result<Response, AppError> {
    let stream = beneficiary_id(&id)?;
    let referral = referral_id(&referral)?;
    let appended = referrals::answer(state, caller, stream, referral, answer, on).await?;
    let body = AnsweredJson { version: appended.version, position: appended.position, ids: appended.ids };
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

/// Accepts a referral proposed to the caller's structure (`referral_accepted`): the person enters
/// its figures, dashboards and lists, counted from the day of the referral.
#[utoipa::path(post, path = "/api/beneficiaries/{id}/referrals/{referral}/accept", operation_id = "accept_referral",
    request_body = AcceptBody, tag = "people",
    params(("id" = uuid::Uuid, Path, description = "The beneficiary's id"),
        ("referral" = uuid::Uuid, Path, description = "The id of the proposed `referred` event")),
    responses((status = 201, description = "Accepted: `{ version, position, ids }`"),
        (status = 400, description = "malformed request, unknown field or value (named)", body = super::openapi::ErrorBody),
        (status = 401, description = "no valid credential", body = super::openapi::ErrorBody),
        (status = 403, description = "not a coordinator of the structure asked, nor an admin", body = super::openapi::ErrorBody),
        (status = 422, description = "no such proposal waiting (`no_pending_referral`) or another rule (named)", body = super::openapi::ErrorBody),
        (status = 503, description = "not available now; retry", body = super::openapi::ErrorBody)))]
pub async fn accept(
    State(state): State<AppState>,
    caller: Caller,
    Path(ids): Path<(String, String)>,
    JsonBody(body): JsonBody<AcceptBody>,
) -> Result<Response, AppError> {
    answer(&state, &caller, ids, Answer::Accept, body.occurred_on).await
}

/// Declines a referral proposed to the caller's structure (`referral_declined`), with a reason:
/// the person leaves no trace in its figures, and the proposing structure keeps them.
#[utoipa::path(post, path = "/api/beneficiaries/{id}/referrals/{referral}/decline", operation_id = "decline_referral",
    request_body = DeclineBody, tag = "people",
    params(("id" = uuid::Uuid, Path, description = "The beneficiary's id"),
        ("referral" = uuid::Uuid, Path, description = "The id of the proposed `referred` event")),
    responses((status = 201, description = "Declined: `{ version, position, ids }`"),
        (status = 400, description = "malformed request, a missing or empty reason (named)", body = super::openapi::ErrorBody),
        (status = 401, description = "no valid credential", body = super::openapi::ErrorBody),
        (status = 403, description = "not a coordinator of the structure asked, nor an admin", body = super::openapi::ErrorBody),
        (status = 422, description = "no such proposal waiting (`no_pending_referral`) or another rule (named)", body = super::openapi::ErrorBody),
        (status = 503, description = "not available now; retry", body = super::openapi::ErrorBody)))]
pub async fn decline(
    State(state): State<AppState>,
    caller: Caller,
    Path(ids): Path<(String, String)>,
    JsonBody(body): JsonBody<DeclineBody>,
) -> Result<Response, AppError> {
    answer(&state, &caller, ids, Answer::Decline { reason: body.reason }, body.occurred_on).await
}
