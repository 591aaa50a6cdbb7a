//! Trust (CONTRACT §7): erasure, the access log, tokens.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use parcours_core::rules::Violation;
use parcours_core::store::access::{AccessEntry, Revocation, Role, TokenRecord};
use parcours_core::store::AppendError;
use parcours_core::vocabulary::{Actor, ErasureReason, NewEvent, PersonalDataErased, Slug, Step, StreamId, Timestamp};
use serde::{Deserialize, Serialize};

use super::error::JsonBody;
use super::log::{append, beneficiary_id, readable_stream};
use super::{blocking, json_response, ApiError, QueryOf};
use crate::access::Caller;
use crate::state::AppState;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EraseBody {
    reason: ErasureReason,
}

/// Erases a person's identity: records `personal_data_erased`, then destroys their key. Asking
/// again finishes an erasure that stopped between the two.
pub async fn erase(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<EraseBody>,
) -> Result<Response, ApiError> {
    let stream = beneficiary_id(&id)?;
    let erased = erase_identity(&state, &caller, stream, body.reason).await?;
    let status = if erased { StatusCode::CREATED } else { StatusCode::OK };
    Ok((status, Json(serde_json::json!({ "beneficiary": stream, "identity_erased": true }))).into_response())
}

/// Returns whether this call recorded the erasure (false: it was recorded before).
pub async fn erase_identity(
    state: &AppState,
    caller: &Caller,
    stream: StreamId,
    reason: ErasureReason,
) -> Result<bool, ApiError> {
    {
        let (state, caller) = (state.clone(), caller.clone());
        blocking(move || readable_stream(&state, &caller, stream).map(drop)).await?;
    }
    let event = NewEvent {
        id: None,
        occurred_on: state.today(),
        step: Step::PersonalDataErased(PersonalDataErased { reason }),
    };
    let recorded = match append(state, caller, stream, None, vec![event]).await {
        Ok(_) => true,
        Err(ApiError::Append(AppendError::Rule { violation: Violation::AlreadyErased, .. })) => false,
        Err(error) => return Err(error),
    };
    let store = state.store.clone();
    blocking(move || Ok(store.destroy_key(stream)?)).await?;
    Ok(recorded)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccessLogQuery {
    beneficiary: String,
}

#[derive(Serialize)]
struct AccessJson {
    at: Timestamp,
    actor: Actor,
    beneficiary: StreamId,
    what: String,
}

impl From<AccessEntry> for AccessJson {
    fn from(entry: AccessEntry) -> AccessJson {
        AccessJson { at: entry.at, actor: entry.actor, beneficiary: entry.beneficiary, what: entry.what }
    }
}

pub async fn access_log(
    State(state): State<AppState>,
    _caller: Caller,
    QueryOf(query): QueryOf<AccessLogQuery>,
) -> Result<Response, ApiError> {
    let stream = beneficiary_id(&query.beneficiary)?;
    let body = blocking(move || {
        let entries: Vec<AccessJson> = state.store.access_log(stream)?.into_iter().map(AccessJson::from).collect();
        Ok(serde_json::to_vec(&serde_json::json!({ "beneficiary": stream, "entries": entries }))?)
    })
    .await?;
    Ok(json_response(body))
}

#[derive(Serialize)]
pub struct TokenJson {
    pub id: String,
    pub role: Role,
    pub structures: Vec<Slug>,
    pub label: Option<String>,
    pub created_at: Timestamp,
    pub created_by: Actor,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<Timestamp>,
}

impl TokenJson {
    pub fn new(record: TokenRecord, revocation: Option<Revocation>) -> TokenJson {
        TokenJson {
            id: record.id,
            role: record.role,
            structures: record.structures,
            label: record.label,
            created_at: record.created_at,
            created_by: record.created_by,
            revoked_at: revocation.map(|revocation| revocation.at),
        }
    }
}

pub async fn tokens(State(state): State<AppState>, _caller: Caller) -> Result<Response, ApiError> {
    let body = blocking(move || {
        let tokens: Vec<TokenJson> =
            state.store.tokens()?.into_iter().map(|(record, revocation)| TokenJson::new(record, revocation)).collect();
        Ok(serde_json::to_vec(&serde_json::json!({ "tokens": tokens }))?)
    })
    .await?;
    Ok(json_response(body))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenBody {
    role: Role,
    #[serde(default)]
    structures: Vec<Slug>,
    label: Option<String>,
}

/// The longest token label accepted.
const LABEL_MAX_CHARS: usize = 200;

impl TokenBody {
    /// What `POST /api/tokens` checks before issuing, the same as `parcours token create`.
    pub(crate) fn check(&self) -> Result<(), String> {
        check_token_request(self.role, &self.structures, self.label.as_deref())
    }
}

/// Checks what a new token would be: a coordinator has structures, other roles none.
pub fn check_token_request(role: Role, structures: &[Slug], label: Option<&str>) -> Result<(), String> {
    match (role, structures.is_empty()) {
        (Role::Coordinator, true) => return Err("structures: a coordinator token names at least one structure".into()),
        (Role::Admin | Role::Auditor | Role::Evaluator, false) => {
            return Err(format!("structures: only a coordinator token names structures, not a {} token", role.code()))
        }
        _ => {}
    }
    if label.is_some_and(|label| label.chars().count() > LABEL_MAX_CHARS) {
        return Err(format!("label: at most {LABEL_MAX_CHARS} characters"));
    }
    Ok(())
}

pub async fn create_token(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody<TokenBody>,
) -> Result<Response, ApiError> {
    body.check().map_err(ApiError::InvalidRequest)?;
    let (record, token) =
        blocking(move || Ok(state.store.issue_token(body.role, body.structures, body.label, caller.actor)?)).await?;
    let mut json = serde_json::to_value(TokenJson::new(record, None))?;
    // Shown once: only its hash is stored.
    json["token"] = token.into();
    Ok((StatusCode::CREATED, Json(json)).into_response())
}

pub async fn revoke_token(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let revoked = blocking(move || Ok(state.store.revoke_token(&id, caller.actor)?)).await?;
    if revoked {
        Ok(StatusCode::NO_CONTENT.into_response())
    } else {
        Err(ApiError::not_found("no such token"))
    }
}
