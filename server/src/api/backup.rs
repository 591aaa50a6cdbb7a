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

use crate::app::backup::{self, CHAIN_HEAD_HEADER, EXPORT_STEP_EVENTS};
use crate::app::{blocking, AppError, Caller};
use crate::state::AppState;

/// The whole log as JSON lines (`parcours export`'s form), up to the head at the time of asking.
#[utoipa::path(get, path = "/api/export", operation_id = "export_log", tag = "trust",
    responses((status = 200, description = "JSON lines, one envelope each, in log order", content_type = "application/x-ndjson"),
        (status = 401, description = "no valid credential", body = super::openapi::ErrorBody),
        (status = 403, description = "not an admin", body = super::openapi::ErrorBody)))]
pub async fn export(State(state): State<AppState>, caller: Caller) -> Result<Response, AppError> {
    // Held until the last line is sent: a backup reads the whole log.
    let permit = state.costly().await?;
    let head = backup::export_head(&state.store).await?;
    let store = state.store.clone();
    let lines = async_stream::stream! {
        let _permit = permit;
        let mut after = 0;
        while after < head.position {
            let (store, caller) = (store.clone(), caller.clone());
            let limit = EXPORT_STEP_EVENTS.min((head.position - after) as usize);
            let chunk = tokio::task::spawn_blocking(move || backup::export_lines(&store, &caller, after, limit)).await;
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

/// The beneficiaries' keys (admin), for `parcours backup`: a log restored without them would
/// hold every identity sealed for good. Erased keys are gone, so they are in no later backup.
#[utoipa::path(get, path = "/api/export/keys", tag = "trust",
    responses((status = 200, description = "JSON lines of { beneficiary, key }: handle like the data itself", content_type = "application/x-ndjson"),
        (status = 401, description = "no valid credential", body = super::openapi::ErrorBody),
        (status = 403, description = "not an admin", body = super::openapi::ErrorBody)))]
pub async fn export_keys(State(state): State<AppState>, _caller: Caller) -> Result<Response, AppError> {
    let body = backup::key_lines(&state).await?;
    Ok(([(header::CONTENT_TYPE, "application/x-ndjson")], body).into_response())
}

/// The Parquet export of CONTRACT §12 (`parcours export-parquet`) as one zip of the same files,
/// cut at the log's position when asked; the position is in the file's name.
#[utoipa::path(get, path = "/api/export/parquet", tag = "trust",
    responses((status = 200, description = "a zip of episodes.parquet and events/year=YYYY/part-NNNN.parquet (schema in the README)", content_type = "application/zip"),
        (status = 401, description = "no valid credential", body = super::openapi::ErrorBody),
        (status = 403, description = "not an admin", body = super::openapi::ErrorBody)))]
pub async fn export_parquet(State(state): State<AppState>, _caller: Caller) -> Result<Response, AppError> {
    let _permit = state.costly().await?;
    let store = state.store.clone();
    let (export, zipped) = blocking(move || Ok(crate::app::parquet_export::export_zip(&store)?)).await?;
    let disposition = format!("attachment; filename=\"parcours-parquet-{}.zip\"", export.position);
    let mut response = zipped.into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/zip"));
    if let Ok(value) = HeaderValue::from_str(&disposition) {
        response.headers_mut().insert(header::CONTENT_DISPOSITION, value);
    }
    Ok(response)
}
