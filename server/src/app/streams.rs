//! A person's stream: register, append, read it (as it was known at a time, too), and the whole
//! log. Appends go to the writer as the caller, whose scope the writer enforces.

use parcours_core::rules::{structures_of, Violation};
use parcours_core::store::access::{AccessEntry, Role};
use parcours_core::store::{AppendError, Appended};
use parcours_core::vocabulary::{Date, Envelope, EventId, NewEvent, Step, StepKind, StreamId, Timestamp};
use serde_json::Value;

use super::{blocking, AppError, Caller};
use crate::json::{self, EventInput};
use crate::state::AppState;

/// The limit on a page of the log when none is given, and the largest one accepted.
pub const LOG_PAGE_DEFAULT: usize = 1000;
pub const LOG_PAGE_MAX: usize = 10_000;

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

/// Appends the steps of a person's pathway as a client proposes them (the API's JSON, the web's
/// forms): read as the API reads them, then appended as the caller.
pub async fn append_inputs(
    state: &AppState,
    caller: &Caller,
    stream: StreamId,
    expected_version: Option<u32>,
    inputs: Vec<EventInput>,
) -> Result<Appended, AppError> {
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
        return Err(AppError::Append(AppendError::Rule { index, violation }));
    }
    // Erasure has its own route, which also destroys the key (POST /api/beneficiaries/{id}/erase).
    if caller.role != Role::Admin && events.iter().any(|event| matches!(event.step, Step::PersonalDataErased(_))) {
        return Err(AppError::Forbidden);
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
) -> Result<Appended, AppError> {
    let store = state.store.clone();
    let author = caller.author();
    // Sealing the personal data of a registration may create the person's key file, an erasure
    // destroys it (fsyncs): keep those off the async workers. Any other append only hands its
    // events to the writer thread and waits for its answer, which needs no thread of its own: a
    // blocking thread per append in flight, woken twice, cost more CPU than the rest of the append
    // (BENCHMARKS.md, issue 4).
    let touches_keys =
        |event: &NewEvent| event.step.registration().is_some() || matches!(event.step, Step::PersonalDataErased(_));
    if events.iter().any(touches_keys) {
        return blocking(move || Ok(store.append(stream, expected_version, events, author)?)).await;
    }
    Ok(store.append_async(stream, expected_version, events, author).await?)
}

/// A beneficiary's id as written in an address or on the command line.
pub fn beneficiary_id(text: &str) -> Result<StreamId, AppError> {
    text.parse().map_err(|_| AppError::InvalidRequest(format!("`{text}` is not a beneficiary id (a UUID)")))
}

/// A time as `as_of` takes it (RFC 3339).
pub fn parse_as_of(text: &str) -> Result<Timestamp, AppError> {
    chrono::DateTime::parse_from_rfc3339(text)
        .map(|time| Timestamp(time.with_timezone(&chrono::Utc)))
        .map_err(|_| AppError::InvalidRequest(format!("as_of: `{text}` is not an RFC 3339 time")))
}

/// One person's stream, if the caller may read it. A coordinator gets 403 for a stream outside
/// its structures and for one that does not exist alike; others get 404 for the latter.
pub fn readable_stream(state: &AppState, caller: &Caller, stream: StreamId) -> Result<Vec<Envelope>, AppError> {
    let events = state.store.read_stream(stream, None)?;
    let structures = structures_of(events.iter().map(|event| (event.id, event.occurred_on, &event.step)));
    let is_person = matches!(events.first().map(|event| event.step.kind()), Some(StepKind::Registered));
    if !caller.may_read(&structures) {
        return Err(AppError::Forbidden);
    }
    if !is_person {
        return Err(AppError::not_found(format!("no beneficiary {stream}")));
    }
    Ok(events)
}

/// One person's history as read: the events shown, and the whole stream they come from (which
/// says whether the identity was erased, whatever part is shown).
pub struct History {
    pub shown: Vec<Envelope>,
    pub whole: Vec<Envelope>,
}

/// One person's history as recorded, up to `as_of` when given (the events recorded at or before
/// it); the reading is recorded in the access log.
pub fn history(
    state: &AppState,
    caller: &Caller,
    stream: StreamId,
    as_of: Option<Timestamp>,
) -> Result<History, AppError> {
    let whole = readable_stream(state, caller, stream)?;
    record_access(state, caller, stream, "history")?;
    let kept = as_of.map_or(whole.len(), |as_of| whole.partition_point(|e| e.recorded_at <= as_of));
    Ok(History { shown: whole[..kept].to_vec(), whole })
}

/// Up to `limit` events of the whole log after position `after`, and the last position they
/// reach (`after`, or the log's end, when there are none).
pub fn log_page(state: &AppState, after: u64, limit: Option<usize>) -> Result<(Vec<Envelope>, u64), AppError> {
    let limit = limit.unwrap_or(LOG_PAGE_DEFAULT);
    if limit == 0 || limit > LOG_PAGE_MAX {
        return Err(AppError::InvalidRequest(format!("limit: expected 1 to {LOG_PAGE_MAX}, got {limit}")));
    }
    let events = state.store.read_log(after, limit)?;
    let last_position = events.last().map_or(after.min(state.store.last_position()), |e| e.position);
    Ok((events, last_position))
}

/// Records that the caller read a beneficiary's history or identity (CONTRACT §7).
pub fn record_access(state: &AppState, caller: &Caller, beneficiary: StreamId, what: &str) -> Result<(), AppError> {
    let entry = AccessEntry { at: Timestamp::now(), actor: caller.actor.clone(), beneficiary, what: what.to_owned() };
    Ok(state.store.record_access(entry)?)
}
