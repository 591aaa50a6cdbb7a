//! The routes that touch the log (CONTRACT §5): register, append, read a stream, read the log.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use parcours_core::vocabulary::{Actor, Date, EventId, NewEvent, Step, StepKind, StreamId, Timestamp};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::error::{ApiError, JsonBody};
use super::AppState;
use crate::json::{self, event_json, EventInput, Identity};

/// The limit on `GET /api/events` when none is given, and the largest one accepted.
const LOG_PAGE_DEFAULT: usize = 1000;
const LOG_PAGE_MAX: usize = 10_000;

/// Stands for the credential's actor until authentication lands (CONTRACT §7).
fn actor() -> Actor {
    Actor("anonymous".into())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegisterBody {
    /// The beneficiary's id, when the client chooses it (then a retry is idempotent).
    id: Option<StreamId>,
    occurred_on: Date,
    data: Value,
}

#[derive(Serialize)]
struct Registered {
    id: StreamId,
    version: u32,
    position: u64,
}

pub async fn register(
    State(state): State<AppState>,
    JsonBody(body): JsonBody<RegisterBody>,
) -> Result<Response, ApiError> {
    let step = json::step_from_value("data", StepKind::Registered, body.data)?;
    // A client-chosen beneficiary id gives the registration a stable event id, so retrying the
    // same registration is an idempotent success rather than `already_registered`.
    let (stream, event_id) = match body.id {
        Some(stream) => (stream, Some(EventId(uuid::Uuid::new_v5(&stream.0, b"registered")))),
        None => (StreamId::generate(), None),
    };
    let event = NewEvent { id: event_id, occurred_on: body.occurred_on, step };
    let appended = append(&state, stream, None, vec![event]).await?;
    let status = if appended.replayed { StatusCode::OK } else { StatusCode::CREATED };
    Ok((status, Json(Registered { id: stream, version: appended.version, position: appended.position }))
        .into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppendBody {
    expected_version: Option<u32>,
    events: Vec<EventInput>,
}

#[derive(Serialize)]
struct AppendedJson {
    version: u32,
    position: u64,
    ids: Vec<EventId>,
}

pub async fn append_events(
    State(state): State<AppState>,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<AppendBody>,
) -> Result<Response, ApiError> {
    let stream = beneficiary_id(&id)?;
    let store = state.store.clone();
    let events = tokio::task::spawn_blocking(move || json::parse_events(&store, stream, body.events))
        .await
        .map_err(|_| ApiError::InvalidRequest("the request could not be processed".into()))??;
    // Structures are recorded by an admin in their own streams (PUT /api/structures/{slug}).
    if let Some(index) = events.iter().position(|event| matches!(event.step, Step::StructureUpdated(_))) {
        let violation = parcours_core::rules::Violation::StructureStepInPathway;
        return Err(ApiError::Append(parcours_core::store::AppendError::Rule { index, violation }));
    }
    let appended = append(&state, stream, body.expected_version, events).await?;
    let status = if appended.replayed { StatusCode::OK } else { StatusCode::CREATED };
    let body = AppendedJson { version: appended.version, position: appended.position, ids: appended.ids };
    Ok((status, Json(body)).into_response())
}

async fn append(
    state: &AppState,
    stream: StreamId,
    expected_version: Option<u32>,
    events: Vec<NewEvent>,
) -> Result<parcours_core::store::Appended, ApiError> {
    let store = state.store.clone();
    // Sealing personal data may create a key file (fsync): keep it off the async workers.
    tokio::task::spawn_blocking(move || store.append(stream, expected_version, events, actor()))
        .await
        .map_err(|_| ApiError::Store(parcours_core::store::StoreError::Closed))?
        .map_err(ApiError::from)
}

pub fn beneficiary_id(text: &str) -> Result<StreamId, ApiError> {
    text.parse().map_err(|_| ApiError::InvalidRequest(format!("`{text}` is not a beneficiary id (a UUID)")))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StreamQuery {
    as_of: Option<String>,
}

pub fn parse_as_of(text: &str) -> Result<Timestamp, ApiError> {
    chrono::DateTime::parse_from_rfc3339(text)
        .map(|time| Timestamp(time.with_timezone(&chrono::Utc)))
        .map_err(|_| ApiError::InvalidRequest(format!("as_of: `{text}` is not an RFC 3339 time")))
}

pub async fn read_stream(
    State(state): State<AppState>,
    Path(id): Path<String>,
    query: Result<Query<StreamQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(query) = query.map_err(|rejection| ApiError::InvalidRequest(rejection.body_text()))?;
    let stream = beneficiary_id(&id)?;
    let as_of = query.as_of.as_deref().map(parse_as_of).transpose()?;
    let store = state.store.clone();
    let body = tokio::task::spawn_blocking(move || -> Result<Vec<u8>, ApiError> {
        let events = store.read_stream(stream, None)?;
        if !matches!(events.first().map(|e| e.step.kind()), Some(StepKind::Registered)) {
            return Err(ApiError::not_found(format!("no beneficiary {stream}")));
        }
        let version = events.len() as u32;
        let kept = as_of.map_or(events.len(), |as_of| events.partition_point(|e| e.recorded_at <= as_of));
        let rendered = events[..kept]
            .iter()
            .map(|envelope| event_json(&store, envelope, Identity::Open))
            .collect::<Result<Vec<_>, _>>()?;
        let version = if as_of.is_some() { kept as u32 } else { version };
        serde_json::to_vec(&json::StreamJson { beneficiary: stream, version, events: rendered })
            .map_err(|error| ApiError::InvalidRequest(error.to_string()))
    })
    .await
    .map_err(|_| ApiError::Store(parcours_core::store::StoreError::Closed))??;
    Ok(([(axum::http::header::CONTENT_TYPE, "application/json")], body).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogQuery {
    after: Option<u64>,
    limit: Option<usize>,
}

pub async fn read_log(
    State(state): State<AppState>,
    query: Result<Query<LogQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(query) = query.map_err(|rejection| ApiError::InvalidRequest(rejection.body_text()))?;
    let after = query.after.unwrap_or(0);
    let limit = query.limit.unwrap_or(LOG_PAGE_DEFAULT);
    if limit == 0 || limit > LOG_PAGE_MAX {
        return Err(ApiError::InvalidRequest(format!("limit: expected 1 to {LOG_PAGE_MAX}, got {limit}")));
    }
    let store = state.store.clone();
    let body = tokio::task::spawn_blocking(move || -> Result<Vec<u8>, ApiError> {
        let events = store.read_log(after, limit)?;
        let last_position = events.last().map_or(after.min(store.last_position()), |e| e.position);
        // The whole log is an analytics feed: personal data stays sealed out of it.
        let rendered = events
            .iter()
            .map(|envelope| event_json(&store, envelope, Identity::Hidden))
            .collect::<Result<Vec<_>, _>>()?;
        serde_json::to_vec(&json::LogJson { events: rendered, last_position })
            .map_err(|error| ApiError::InvalidRequest(error.to_string()))
    })
    .await
    .map_err(|_| ApiError::Store(parcours_core::store::StoreError::Closed))??;
    Ok(([(axum::http::header::CONTENT_TYPE, "application/json")], body).into_response())
}

pub async fn healthz(State(state): State<AppState>) -> Json<Value> {
    Json(serde_json::json!({ "status": "ok", "last_position": state.store.last_position() }))
}
