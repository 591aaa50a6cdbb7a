//! Trust (CONTRACT §7): tokens, erasure, the access log.

use parcours_core::store::access::{AccessEntry, Revocation, Role, TokenRecord};
use parcours_core::vocabulary::{ErasureReason, Slug, StreamId};

use super::streams::readable_stream;
use super::{blocking, AppError, Caller};
use crate::state::AppState;

/// The longest token label accepted.
const LABEL_MAX_CHARS: usize = 200;

/// What a new token would be: a role, a coordinator's structures, a label.
pub struct TokenRequest {
    pub role: Role,
    pub structures: Vec<Slug>,
    pub label: Option<String>,
}

impl TokenRequest {
    /// Checks what a new token would be: a coordinator has structures, other roles none. The
    /// message names the field (`structures`, `label`).
    pub fn check(&self) -> Result<(), String> {
        match (self.role, self.structures.is_empty()) {
            (Role::Coordinator, true) => {
                return Err("structures: a coordinator token names at least one structure".into())
            }
            (Role::Admin | Role::Auditor | Role::Evaluator, false) => {
                return Err(format!(
                    "structures: only a coordinator token names structures, not a {} token",
                    self.role.code()
                ))
            }
            _ => {}
        }
        if self.label.as_ref().is_some_and(|label| label.chars().count() > LABEL_MAX_CHARS) {
            return Err(format!("label: at most {LABEL_MAX_CHARS} characters"));
        }
        Ok(())
    }
}

/// Issues a token on behalf of `caller`; gives its record and the token, shown once (only its
/// hash is stored).
pub async fn issue_token(
    state: &AppState,
    caller: &Caller,
    request: TokenRequest,
) -> Result<(TokenRecord, String), AppError> {
    request.check().map_err(AppError::InvalidRequest)?;
    let (state, actor) = (state.clone(), caller.actor.clone());
    blocking(move || Ok(state.store.issue_token(request.role, request.structures, request.label, actor)?)).await
}

/// Every token (never the tokens themselves), with its revocation if any.
pub async fn tokens(state: &AppState) -> Result<Vec<(TokenRecord, Option<Revocation>)>, AppError> {
    let state = state.clone();
    blocking(move || Ok(state.store.tokens()?)).await
}

/// Revokes a token for good.
pub async fn revoke_token(state: &AppState, caller: &Caller, id: String) -> Result<(), AppError> {
    let (state, actor) = (state.clone(), caller.actor.clone());
    if blocking(move || Ok(state.store.revoke_token(&id, actor)?)).await? {
        Ok(())
    } else {
        Err(AppError::not_found("no such token"))
    }
}

/// Erases a person's identity: records `personal_data_erased`, then destroys their key. Asking
/// again finishes an erasure that stopped between the two. Returns whether this call recorded the
/// erasure (false: it was recorded before).
pub async fn erase_identity(
    state: &AppState,
    caller: &Caller,
    stream: StreamId,
    reason: ErasureReason,
) -> Result<bool, AppError> {
    let (state, caller) = (state.clone(), caller.clone());
    blocking(move || {
        readable_stream(&state, &caller, stream)?;
        Ok(state.store.erase_identity(stream, reason, state.today(), caller.author())?)
    })
    .await
}

/// Who read a person's history or identity, and when.
pub async fn access_log(state: &AppState, stream: StreamId) -> Result<Vec<AccessEntry>, AppError> {
    let state = state.clone();
    blocking(move || Ok(state.store.access_log(stream)?)).await
}
