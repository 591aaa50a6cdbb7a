//! `GET /api/events/live` (CONTRACT §5): Server-Sent Events, one message per appended event,
//! `id:` its position, resuming after `Last-Event-ID` or `after=` without loss or duplicate.
//!
//! A client first catches up from the store, then subscribes to the shared feed and catches up
//! once more to bridge the moment between the two; from then on every event arrives from the feed,
//! and positions already sent are skipped. Admins and auditors see every event; a coordinator sees
//! the events of the people its structures follow, and the structures' own records. Personal data
//! is never in the feed. The credential is checked again every second: once it is revoked (or its
//! role or structures changed) the stream ends with `event: revoked`, new events or not.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::Stream;
use parcours_core::store::access::Role;
use serde::Deserialize;
use tokio::sync::broadcast::error::RecvError;

use super::QueryOf;
use crate::access::{self, Caller};
use crate::app::AppError;
use crate::feed::{self, LiveEvent};
use crate::state::AppState;

/// How often an idle connection gets a comment, so that proxies keep it open.
const KEEP_ALIVE: Duration = Duration::from_secs(15);

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct LiveQuery {
    /// Start after this position (`Last-Event-ID` wins); by default, from now on.
    after: Option<u64>,
}

/// Server-Sent Events: one message per appended event, `id:` its position.
#[utoipa::path(get, path = "/api/events/live", params(LiveQuery,
        ("Last-Event-ID" = Option<u64>, Header, description = "Resume after this position")), tag = "log",
    responses((status = 200, description = "An event stream", content_type = "text/event-stream"), (status = 400, description = "malformed request, unknown field or value (named)", body = super::openapi::ErrorBody), (status = 401, description = "no valid credential", body = super::openapi::ErrorBody), (status = 403, description = "outside the credential's rights", body = super::openapi::ErrorBody), (status = 503, description = "not available now; retry", body = super::openapi::ErrorBody)))]
pub async fn live(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    QueryOf(query): QueryOf<LiveQuery>,
) -> Result<Response, AppError> {
    let resume = match headers.get("last-event-id") {
        Some(value) => Some(
            value
                .to_str()
                .ok()
                .and_then(|text| text.trim().parse::<u64>().ok())
                .ok_or_else(|| AppError::InvalidRequest("Last-Event-ID: expected a position".into()))?,
        ),
        None => query.after,
    };
    let after = resume.unwrap_or_else(|| state.store.last_position());
    let guard = state.feed.join().ok_or_else(|| AppError::Unavailable("too many live clients".into()))?;
    Ok(Sse::new(events(state, caller, after, guard)).keep_alive(KeepAlive::new().interval(KEEP_ALIVE)).into_response())
}

fn message(event: &LiveEvent) -> Event {
    Event::default().id(event.position.to_string()).data(&*event.json)
}

fn events(
    state: AppState,
    caller: Caller,
    after: u64,
    guard: feed::ClientGuard,
) -> impl Stream<Item = Result<Event, Infallible>> {
    async_stream::stream! {
        let _guard = guard;
        let mut cursor = after;
        let mut live = None;
        let stopped = state.stopped();
        tokio::pin!(stopped);
        let revoked = access::revoked(state.clone(), caller.clone());
        tokio::pin!(revoked);
        loop {
            // Catch up from the store.
            while cursor < state.store.last_position() {
                if !access::still_admitted(&state, &caller) {
                    yield Ok(access::revoked_event());
                    return;
                }
                let batch = {
                    let store = state.store.clone();
                    tokio::task::spawn_blocking(move || feed::read(&store, cursor)).await
                };
                let Ok(Ok(batch)) = batch else {
                    yield Ok(Event::default().event("error").data("the log could not be read; reconnect"));
                    return;
                };
                let Some(last) = batch.last().map(|event| event.position) else { break };
                for event in visible(&state, &caller, &batch).await {
                    yield Ok(message(event));
                }
                cursor = last;
            }
            let Some(receiver) = live.as_mut() else {
                live = Some(state.feed.subscribe());
                continue;
            };
            let received = tokio::select! {
                received = receiver.recv() => received,
                () = &mut stopped => return,
                () = &mut revoked => {
                    yield Ok(access::revoked_event());
                    return;
                }
            };
            match received {
                Ok(batch) => {
                    let fresh: Vec<LiveEvent> = batch.iter().filter(|event| event.position > cursor).cloned().collect();
                    if let Some(last) = fresh.last().map(|event| event.position) {
                        for event in visible(&state, &caller, &fresh).await {
                            yield Ok(message(event));
                        }
                        cursor = last;
                    }
                }
                Err(RecvError::Lagged(_)) => {
                    let resume = serde_json::json!({ "resume_after": cursor }).to_string();
                    yield Ok(Event::default().event("lagged").data(resume));
                    return;
                }
                Err(RecvError::Closed) => return,
            }
        }
    }
}

/// The events of a batch the caller may see.
async fn visible<'a>(state: &AppState, caller: &Caller, batch: &'a [LiveEvent]) -> Vec<&'a LiveEvent> {
    if caller.role != Role::Coordinator {
        return batch.iter().collect();
    }
    // Whom a stream belongs to is known once the projections have applied the batch.
    let last = batch.last().map_or(0, |event| event.position);
    if !state.projections.caught_up(last, state.settings.catch_up_timeout).await {
        return Vec::new();
    }
    let projections = state.projections.read();
    batch.iter().filter(|event| projections.reached_by(event.stream, &caller.structures).unwrap_or(true)).collect()
}
