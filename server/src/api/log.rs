//! The routes that touch the log (CONTRACT §5): register, append, read a stream, read the log.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use parcours_core::rules::{structures_of, Violation};
use parcours_core::store::access::Role;
use parcours_core::store::AppendError;
use parcours_core::vocabulary::{Date, Envelope, EventId, NewEvent, Step, StepKind, StreamId};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::error::{ApiError, JsonBody};
use super::{blocking, json_response, record_access, QueryOf};
use crate::access::Caller;
use crate::json::{self, EventInput, Identity};
use crate::state::AppState;

/// The limit on `GET /api/events` when none is given, and the largest one accepted.
const LOG_PAGE_DEFAULT: usize = 1000;
const LOG_PAGE_MAX: usize = 10_000;

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
) -> Result<Response, ApiError> {
    let (stream, event) = body.into_event()?;
    let appended = append(&state, &caller, stream, None, vec![event]).await?;
    let status = if appended.replayed { StatusCode::OK } else { StatusCode::CREATED };
    Ok((status, Json(Registered { id: stream, version: appended.version, position: appended.position }))
        .into_response())
}

/// The first event of a new beneficiary's stream, from the `data` of a `registered` event.
pub fn registration(
    id: Option<StreamId>,
    occurred_on: Date,
    data: Value,
) -> Result<(StreamId, NewEvent), json::ParseError> {
    let step = json::step_from_value("data", StepKind::Registered, data)?;
    // A client-chosen beneficiary id gives the registration a stable event id, so retrying the
    // same registration is an idempotent success rather than `already_registered`.
    // Reserved ids (published reports, structures) are refused by the writer, naming the rule.
    let (stream, event_id) = match id {
        Some(stream) => (stream, Some(EventId(uuid::Uuid::new_v5(&stream.0, b"registered")))),
        None => (StreamId::generate(), None),
    };
    Ok((stream, NewEvent { id: event_id, occurred_on, step }))
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
) -> Result<Response, ApiError> {
    let stream = beneficiary_id(&id)?;
    let appended = append_inputs(&state, &caller, stream, body.expected_version, body.events).await?;
    let status = if appended.replayed { StatusCode::OK } else { StatusCode::CREATED };
    let body = AppendedJson { version: appended.version, position: appended.position, ids: appended.ids };
    Ok((status, Json(body)).into_response())
}

/// Appends the steps of a person's pathway as a client proposes them (the API's JSON, the web's
/// forms): read as the API reads them, then appended as the caller.
pub async fn append_inputs(
    state: &AppState,
    caller: &Caller,
    stream: StreamId,
    expected_version: Option<u32>,
    inputs: Vec<EventInput>,
) -> Result<parcours_core::store::Appended, ApiError> {
    // Reading steps touches the store only to find the type of the event a correction names: the
    // other steps are read right here, which costs less than a hop through the blocking pool.
    let events = if inputs.iter().any(|input| input.kind == StepKind::Corrected) {
        let store = state.store.clone();
        blocking(move || Ok(json::parse_events(&store, stream, inputs)?)).await?
    } else {
        json::parse_events(&state.store, stream, inputs)?
    };
    // Structures are recorded by an admin in their own streams (PUT /api/structures/{slug}), and
    // publications by their route, which computes what they state (POST .../publish).
    for (index, event) in events.iter().enumerate() {
        let violation = match event.step {
            Step::StructureUpdated(_) => Violation::StructureStepInPathway,
            Step::ReportPublished(_) => Violation::ReportStepInPathway,
            _ => continue,
        };
        return Err(ApiError::Append(AppendError::Rule { index, violation }));
    }
    // Erasure has its own route, which also destroys the key (POST /api/beneficiaries/{id}/erase).
    if caller.role != Role::Admin && events.iter().any(|event| matches!(event.step, Step::PersonalDataErased(_))) {
        return Err(ApiError::Forbidden);
    }
    append(state, caller, stream, expected_version, events).await
}

/// Appends as the caller, with the scope the writer enforces.
pub async fn append(
    state: &AppState,
    caller: &Caller,
    stream: StreamId,
    expected_version: Option<u32>,
    events: Vec<NewEvent>,
) -> Result<parcours_core::store::Appended, ApiError> {
    let store = state.store.clone();
    let author = caller.author();
    // Sealing the personal data of a registration may create the person's key file, an erasure
    // destroys it (fsyncs): keep those off the async workers. Any other append only hands its events to the writer thread and
    // waits for its answer, which needs no thread of its own: a blocking thread per append in
    // flight, woken twice, cost more CPU than the rest of the append (BENCHMARKS.md, issue 4).
    let touches_keys =
        |event: &NewEvent| event.step.registration().is_some() || matches!(event.step, Step::PersonalDataErased(_));
    if events.iter().any(touches_keys) {
        return blocking(move || Ok(store.append(stream, expected_version, events, author)?)).await;
    }
    Ok(store.append_async(stream, expected_version, events, author).await?)
}

pub fn beneficiary_id(text: &str) -> Result<StreamId, ApiError> {
    text.parse().map_err(|_| ApiError::InvalidRequest(format!("`{text}` is not a beneficiary id (a UUID)")))
}

/// One person's stream, if the caller may read it. A coordinator gets 403 for a stream outside
/// its structures and for one that does not exist alike; others get 404 for the latter.
pub fn readable_stream(state: &AppState, caller: &Caller, stream: StreamId) -> Result<Vec<Envelope>, ApiError> {
    let events = state.store.read_stream(stream, None)?;
    let structures = structures_of(events.iter().map(|event| (event.id, event.occurred_on, &event.step)));
    let is_person = matches!(events.first().map(|event| event.step.kind()), Some(StepKind::Registered));
    if !caller.may_read(&structures) {
        return Err(ApiError::Forbidden);
    }
    if !is_person {
        return Err(ApiError::not_found(format!("no beneficiary {stream}")));
    }
    Ok(events)
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct StreamQuery {
    /// Keeps the events recorded at or before this time (RFC 3339).
    as_of: Option<String>,
}

pub fn parse_as_of(text: &str) -> Result<parcours_core::vocabulary::Timestamp, ApiError> {
    chrono::DateTime::parse_from_rfc3339(text)
        .map(|time| parcours_core::vocabulary::Timestamp(time.with_timezone(&chrono::Utc)))
        .map_err(|_| ApiError::InvalidRequest(format!("as_of: `{text}` is not an RFC 3339 time")))
}

/// One person's stream, as recorded, optionally as it was known at a time.
#[utoipa::path(get, path = "/api/beneficiaries/{id}/events", params(("id" = uuid::Uuid, Path), StreamQuery), tag = "log",
    responses((status = 200, description = "`{ beneficiary, version, events }`"), (status = 400, description = "malformed request, unknown field or value (named)", body = super::openapi::ErrorBody), (status = 401, description = "no valid credential", body = super::openapi::ErrorBody), (status = 403, description = "outside the credential's rights", body = super::openapi::ErrorBody), (status = 404, description = "not found", body = super::openapi::ErrorBody), (status = 503, description = "not available now; retry", body = super::openapi::ErrorBody)))]
pub async fn read_stream(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    QueryOf(query): QueryOf<StreamQuery>,
) -> Result<Response, ApiError> {
    let stream = beneficiary_id(&id)?;
    let as_of = query.as_of.as_deref().map(parse_as_of).transpose()?;
    // Read right here rather than on the blocking pool: one stream is a few pages that sled almost
    // always has in its cache (tens of µs), and the hop to a blocking thread and back cost more CPU
    // than the read itself (a quarter of the server's samples under 64 readers; BENCHMARKS.md).
    let events = readable_stream(&state, &caller, stream)?;
    record_access(&state, &caller, stream, "history")?;
    let kept = as_of.map_or(events.len(), |as_of| events.partition_point(|e| e.recorded_at <= as_of));
    let rendered = json::Events::new(&state.store, &events[..kept], Identity::open_unless_erased(&events));
    let body = json::StreamJson { beneficiary: stream, version: kept as u32, events: rendered };
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
pub async fn read_log(State(state): State<AppState>, QueryOf(query): QueryOf<LogQuery>) -> Result<Response, ApiError> {
    let after = query.after.unwrap_or(0);
    let limit = query.limit.unwrap_or(LOG_PAGE_DEFAULT);
    if limit == 0 || limit > LOG_PAGE_MAX {
        return Err(ApiError::InvalidRequest(format!("limit: expected 1 to {LOG_PAGE_MAX}, got {limit}")));
    }
    let body = blocking(move || {
        let events = state.store.read_log(after, limit)?;
        let last_position = events.last().map_or(after.min(state.store.last_position()), |e| e.position);
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
