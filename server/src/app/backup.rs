//! What a backup saves: the whole log up to the head it had when asked, read in steps, and the
//! beneficiaries' keys. `parcours backup` reads both through the API (`GET /api/export`,
//! `GET /api/export/keys`) and checks the chain as it goes; the forms below are shared by the
//! route that writes them and the command that reads them.

use base64::Engine;
use parcours_core::store::{Head, Store};
use parcours_core::vocabulary::StreamId;

use super::{blocking, AppError, Caller};
use crate::json::export_json;
use crate::state::AppState;

/// The header that announces the head an export stops at (`position hash`).
pub const CHAIN_HEAD_HEADER: &str = "x-parcours-chain-head";

/// Events read per step of an export; each step is one blocking read of the store.
pub const EXPORT_STEP_EVENTS: usize = 4096;

/// One key of a backup of the keys: JSON lines of `{ "beneficiary", "key" }` (base64).
#[derive(serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyLine {
    pub beneficiary: StreamId,
    pub key: String,
}

/// The head an export stops at: a backup is a consistent cut of the log however many appends
/// happen meanwhile.
pub async fn export_head(store: &Store) -> Result<Head, AppError> {
    let store = store.clone();
    blocking(move || Ok(store.head()?)).await
}

/// The export lines of the events after `after`, at most `limit`, and the last position read.
/// Every person in the export was read: one access-log entry each, at their registration.
pub fn export_lines(store: &Store, caller: &Caller, after: u64, limit: usize) -> Result<(u64, Vec<u8>), AppError> {
    let events = store.read_log(after, limit)?;
    let last = events.last().map_or(after, |event| event.position);
    let mut bytes = Vec::with_capacity(events.len() * 512);
    for event in &events {
        serde_json::to_writer(&mut bytes, &export_json(event))?;
        bytes.push(b'\n');
    }
    crate::json::record_exported(store, &caller.actor, &events)?;
    Ok((last, bytes))
}

/// Every key still held, as JSON lines of [`KeyLine`], but those of people whose erasure is
/// recorded: the projections know whose it is, so a key a crash left behind such an erasure (or
/// one restored from an older backup) is never handed out again.
pub async fn key_lines(state: &AppState) -> Result<Vec<u8>, AppError> {
    state.caught_up().await?;
    let state = state.clone();
    blocking(move || {
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
    .await
}
