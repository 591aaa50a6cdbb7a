//! `GET /api/export` (admin): the whole log as JSON lines, streamed while the server keeps serving
//! — what `parcours backup` saves and `parcours import` restores with the same positions, ids and
//! chain head.
//!
//! The export stops at the head the log had when it was asked for, which the answer announces in
//! `X-Parcours-Chain-Head` (`position hash`): a backup is a consistent cut of the log however many
//! appends happen meanwhile.

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};

use super::{blocking, ApiError};
use crate::access::Caller;
use crate::json::export_json;
use crate::state::AppState;

/// The header that announces the head the export stops at.
pub const CHAIN_HEAD_HEADER: &str = "x-parcours-chain-head";

/// Events read per step; each step is one blocking read of the store.
const EXPORT_STEP_EVENTS: usize = 4096;

/// The whole log as JSON lines (`parcours export`'s form), up to the head at the time of asking.
#[utoipa::path(get, path = "/api/export", operation_id = "export_log", tag = "trust",
    responses((status = 200, description = "JSON lines, one envelope each, in log order", content_type = "application/x-ndjson"),
        (status = 401, description = "no valid credential", body = super::openapi::ErrorBody),
        (status = 403, description = "not an admin", body = super::openapi::ErrorBody)))]
pub async fn export(State(state): State<AppState>, caller: Caller) -> Result<Response, ApiError> {
    let head = {
        let store = state.store.clone();
        blocking(move || Ok(store.head()?)).await?
    };
    let store = state.store.clone();
    let lines = async_stream::stream! {
        let mut after = 0;
        while after < head.position {
            let (store, caller) = (store.clone(), caller.clone());
            let limit = EXPORT_STEP_EVENTS.min((head.position - after) as usize);
            let chunk = tokio::task::spawn_blocking(move || -> Result<(u64, Vec<u8>), ApiError> {
                let events = store.read_log(after, limit)?;
                let last = events.last().map_or(after, |event| event.position);
                let mut bytes = Vec::with_capacity(events.len() * 512);
                for event in &events {
                    serde_json::to_writer(&mut bytes, &export_json(event))?;
                    bytes.push(b'\n');
                }
                // Every person in the export was read: one entry each, at their registration.
                crate::json::record_exported(&store, &caller.actor, &events)?;
                Ok((last, bytes))
            })
            .await;
            match chunk {
                Ok(Ok((last, bytes))) if last > after => {
                    after = last;
                    yield Ok::<_, std::io::Error>(bytes);
                }
                // The log cannot shrink: a read that makes no progress is a damaged store. Ending
                // the body early makes the backup fail its chain check instead of looking complete.
                _ => {
                    yield Err(std::io::Error::other("the log could not be read to its head"));
                    break;
                }
            }
        }
    };
    let announced = format!("{} {}", head.position, hex::encode(head.hash));
    let mut response = Body::from_stream(lines).into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/x-ndjson"));
    if let Ok(value) = HeaderValue::from_str(&announced) {
        response.headers_mut().insert(CHAIN_HEAD_HEADER, value);
    }
    Ok(response)
}

/// One key of a backup of the keys: JSON lines of `{ "beneficiary", "key" }` (base64).
#[derive(serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyLine {
    pub beneficiary: parcours_core::vocabulary::StreamId,
    pub key: String,
}

/// The beneficiaries' keys (admin), for `parcours backup`: a log restored without them would
/// hold every identity sealed for good. Erased keys are gone, so they are in no later backup.
#[utoipa::path(get, path = "/api/export/keys", tag = "trust",
    responses((status = 200, description = "JSON lines of { beneficiary, key }: handle like the data itself", content_type = "application/x-ndjson"),
        (status = 401, description = "no valid credential", body = super::openapi::ErrorBody),
        (status = 403, description = "not an admin", body = super::openapi::ErrorBody)))]
pub async fn export_keys(State(state): State<AppState>, _caller: Caller) -> Result<Response, ApiError> {
    use base64::Engine;
    // The projections know whose erasure is recorded: a key a crash left behind such an erasure
    // (or one restored from an older backup) is never handed out again.
    state.caught_up().await?;
    let body = blocking(move || {
        let mut bytes = Vec::new();
        let keys = state.store.keys_for_backup()?;
        let erased = {
            let projections = state.projections.read();
            keys.iter()
                .map(|(stream, _)| projections.pathway(*stream).is_some_and(|pathway| pathway.identity_erased))
                .collect::<Vec<bool>>()
        };
        for ((beneficiary, key), _) in keys.into_iter().zip(erased).filter(|(_, erased)| !erased) {
            let line = KeyLine { beneficiary, key: base64::engine::general_purpose::STANDARD.encode(key.bytes()) };
            serde_json::to_writer(&mut bytes, &line)?;
            bytes.push(b'\n');
        }
        Ok(bytes)
    })
    .await?;
    Ok(([(header::CONTENT_TYPE, "application/x-ndjson")], body).into_response())
}
