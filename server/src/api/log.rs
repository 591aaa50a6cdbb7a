//! The routes that touch the log (CONTRACT §5): register, append, read a stream, read the log.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use parcours_core::vocabulary::{Date, EventId, IdentityField, NewEvent, StreamId};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::error::JsonBody;
use super::{json_response, QueryOf};
use crate::app::streams::{self, append, append_inputs, beneficiary_id, parse_as_of, registration};
use crate::app::{blocking, AppError, Caller};
use crate::json::{self, EventInput, Identity};
use crate::state::AppState;

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterBody {
    /// The beneficiary's id, when the client chooses it (then a retry is idempotent).
    #[schema(value_type = Option<String>, format = Uuid)]
    id: Option<StreamId>,
    #[schema(value_type = String, format = Date)]
    occurred_on: Date,
    /// The `data` of a `registered` event (CONTRACT §3).
    #[schema(value_type = Object)]
    data: Value,
    /// Registers even when people with the same names and birth date are recorded (CONTRACT §10).
    #[serde(default)]
    confirm_new: bool,
}

impl RegisterBody {
    /// The stream to create and its registration.
    pub(crate) fn into_event(self) -> Result<(StreamId, NewEvent), json::ParseError> {
        registration(self.id, self.occurred_on, self.data)
    }
}

#[derive(Serialize)]
struct Registered {
    id: StreamId,
    version: u32,
    position: u64,
}

/// Registers a person: the first event of their stream.
#[utoipa::path(post, path = "/api/beneficiaries", request_body = RegisterBody, tag = "log",
    responses((status = 201, description = "Registered: `{ id, version, position }`"),
        (status = 200, description = "The same registration again (idempotent retry)"), (status = 400, description = "malformed request, unknown field or value (named)", body = super::openapi::ErrorBody), (status = 401, description = "no valid credential", body = super::openapi::ErrorBody), (status = 403, description = "outside the credential's rights", body = super::openapi::ErrorBody), (status = 409, description = "version conflict or duplicate id", body = super::openapi::ErrorBody), (status = 413, description = "payload too large", body = super::openapi::ErrorBody), (status = 422, description = "a pathway rule is broken (named)", body = super::openapi::ErrorBody), (status = 503, description = "not available now; retry", body = super::openapi::ErrorBody)))]
pub async fn register(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody<RegisterBody>,
) -> Result<Response, AppError> {
    let confirm_new = body.confirm_new;
    let (stream, event) = body.into_event()?;
    // A person already recorded, among those the caller may read: say so before writing anything.
    if !confirm_new {
        if let Some(IdentityField::Clear(identity)) =
            event.step.registration().and_then(|registered| registered.identity.clone())
        {
            let (state, caller) = (state.clone(), caller.clone());
            let candidates =
                blocking(move || crate::app::duplicates::candidates(&state, &caller, &identity, stream)).await?;
            if !candidates.is_empty() {
                let body = serde_json::json!({
                    "error": "possible_duplicate",
                    "message": "a person with the same names and birth date is already recorded; \
                                send the same body with \"confirm_new\": true to register anyway",
                    "candidates": candidates,
                });
                return Ok((StatusCode::CONFLICT, Json(body)).into_response());
            }
        }
    }
    let appended = append(&state, &caller, stream, None, vec![event]).await?;
    let status = if appended.replayed { StatusCode::OK } else { StatusCode::CREATED };
    Ok((status, Json(Registered { id: stream, version: appended.version, position: appended.position }))
        .into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AppendBody {
    expected_version: Option<u32>,
    pub(crate) events: Vec<EventInput>,
}

#[derive(Serialize)]
struct AppendedJson {
    version: u32,
    position: u64,
    ids: Vec<EventId>,
}

/// Appends steps to a person's stream, all or nothing, durable before answered.
#[utoipa::path(post, path = "/api/beneficiaries/{id}/events", request_body = AppendBody, tag = "log",
    params(("id" = uuid::Uuid, Path, description = "The beneficiary's id")),
    responses((status = 201, description = "Appended: `{ version, position, ids }`"),
        (status = 200, description = "The same events again (idempotent retry)"), (status = 400, description = "malformed request, unknown field or value (named)", body = super::openapi::ErrorBody), (status = 401, description = "no valid credential", body = super::openapi::ErrorBody), (status = 403, description = "outside the credential's rights", body = super::openapi::ErrorBody), (status = 409, description = "version conflict or duplicate id", body = super::openapi::ErrorBody), (status = 413, description = "payload too large", body = super::openapi::ErrorBody), (status = 422, description = "a pathway rule is broken (named)", body = super::openapi::ErrorBody), (status = 503, description = "not available now; retry", body = super::openapi::ErrorBody)))]
pub async fn append_events(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<AppendBody>,
) -> Result<Response, AppError> {
    let stream = beneficiary_id(&id)?;
    let appended = append_inputs(&state, &caller, stream, body.expected_version, body.events).await?;
    let status = if appended.replayed { StatusCode::OK } else { StatusCode::CREATED };
    let body = AppendedJson { version: appended.version, position: appended.position, ids: appended.ids };
    Ok((status, Json(body)).into_response())
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct StreamQuery {
    /// Keeps the events recorded at or before this time (RFC 3339).
    as_of: Option<String>,
}

/// One person's stream, as recorded, optionally as it was known at a time.
#[utoipa::path(get, path = "/api/beneficiaries/{id}/events", params(("id" = uuid::Uuid, Path), StreamQuery), tag = "log",
    responses((status = 200, description = "`{ beneficiary, version, events }`"), (status = 400, description = "malformed request, unknown field or value (named)", body = super::openapi::ErrorBody), (status = 401, description = "no valid credential", body = super::openapi::ErrorBody), (status = 403, description = "outside the credential's rights", body = super::openapi::ErrorBody), (status = 404, description = "not found", body = super::openapi::ErrorBody), (status = 503, description = "not available now; retry", body = super::openapi::ErrorBody)))]
pub async fn read_stream(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    QueryOf(query): QueryOf<StreamQuery>,
) -> Result<Response, AppError> {
    let stream = beneficiary_id(&id)?;
    let as_of = query.as_of.as_deref().map(parse_as_of).transpose()?;
    // Read right here rather than on the blocking pool: one stream is a few pages that sled almost
    // always has in its cache (tens of µs), and the hop to a blocking thread and back cost more CPU
    // than the read itself (a quarter of the server's samples under 64 readers; BENCHMARKS.md).
    let events = streams::history(&state, &caller, stream, as_of)?;
    let rendered = json::Events::new(&state.store, &events.shown, Identity::open_unless_erased(&events.whole));
    let body = json::StreamJson { beneficiary: stream, version: events.shown.len() as u32, events: rendered };
    Ok(json_response(json::to_json(&body, &body.events, false)?))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct LogQuery {
    /// Events after this position (0 for the start).
    after: Option<u64>,
    /// At most this many (1 to 10,000; 1,000 by default).
    limit: Option<usize>,
}

/// The whole log in order, personal data left out.
#[utoipa::path(get, path = "/api/events", params(LogQuery), tag = "log",
    responses((status = 200, description = "`{ events, last_position }`"), (status = 400, description = "malformed request, unknown field or value (named)", body = super::openapi::ErrorBody), (status = 401, description = "no valid credential", body = super::openapi::ErrorBody), (status = 403, description = "outside the credential's rights", body = super::openapi::ErrorBody), (status = 503, description = "not available now; retry", body = super::openapi::ErrorBody)))]
pub async fn read_log(State(state): State<AppState>, QueryOf(query): QueryOf<LogQuery>) -> Result<Response, AppError> {
    let after = query.after.unwrap_or(0);
    let body = blocking(move || {
        let (events, last_position) = streams::log_page(&state, after, query.limit)?;
        // The whole log is an analytics feed: personal data stays sealed out of it.
        let body = json::LogJson { events: json::Events::new(&state.store, &events, Identity::Hidden), last_position };
        Ok(json::to_json(&body, &body.events, false)?)
    })
    .await?;
    Ok(json_response(body))
}

/// Liveness, and how far the log and the projections are.
#[utoipa::path(get, path = "/healthz", security(()), tag = "operations",
    responses((status = 200, description = "`{ status, last_position, projections_position }`")))]
pub async fn healthz(State(state): State<AppState>) -> Json<Value> {
    Json(serde_json::json!({
        "status": if state.projections.failure().is_some() { "degraded" } else { "ok" },
        "last_position": state.store.last_position(),
        "projections_position": state.projections.applied(),
    }))
}

/// Readiness: 200 once the projections have applied every event durable when asked, 503 until
/// then (a server rebuilding a large log at start answers its figures only after), so that a load
/// balancer or a deployment script sends users to it only when its figures are whole.
#[utoipa::path(get, path = "/readyz", security(()), tag = "operations",
    responses((status = 200, description = "`{ status: \"ready\", last_position, projections_position }`"),
        (status = 503, description = "`{ status: \"catching_up\" | \"failed\", last_position, projections_position }`: not ready yet")))]
pub async fn readyz(State(state): State<AppState>) -> Response {
    let (status, word) = if state.ready() {
        (StatusCode::OK, "ready")
    } else if state.projections.failure().is_some() {
        (StatusCode::SERVICE_UNAVAILABLE, "failed")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "catching_up")
    };
    let body = serde_json::json!({
        "status": word,
        "last_position": state.store.last_position(),
        "projections_position": state.projections.applied(),
    });
    (status, Json(body)).into_response()
}
