//! Trust (CONTRACT §7): erasure, the access log, tokens.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use parcours_core::store::access::{AccessEntry, Revocation, Role, TokenRecord};
use parcours_core::vocabulary::{Actor, ErasureReason, Slug, StreamId, Timestamp};
use serde::{Deserialize, Serialize};

use super::error::JsonBody;
use super::log::{beneficiary_id, readable_stream};
use super::{blocking, json_response, ApiError, QueryOf};
use crate::access::Caller;
use crate::state::AppState;

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EraseBody {
    /// request, retention or other.
    #[schema(value_type = String)]
    reason: ErasureReason,
}

/// Erases a person's identity: records `personal_data_erased`, then destroys their key. Asking
/// again finishes an erasure that stopped between the two.
/// Erases a person's identity (crypto-shredding); the history still verifies.
#[utoipa::path(post, path = "/api/beneficiaries/{id}/erase", request_body = EraseBody, params(("id" = uuid::Uuid, Path)), tag = "trust",
    responses((status = 201, description = "Erased"), (status = 200, description = "Was erased already"), (status = 400, description = "malformed request, unknown field or value (named)", body = super::openapi::ErrorBody), (status = 401, description = "no valid credential", body = super::openapi::ErrorBody), (status = 403, description = "outside the credential's rights", body = super::openapi::ErrorBody), (status = 404, description = "not found", body = super::openapi::ErrorBody), (status = 413, description = "payload too large", body = super::openapi::ErrorBody), (status = 503, description = "not available now; retry", body = super::openapi::ErrorBody)))]
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
    let (state, caller) = (state.clone(), caller.clone());
    blocking(move || {
        readable_stream(&state, &caller, stream)?;
        Ok(state.store.erase_identity(stream, reason, state.today(), caller.author())?)
    })
    .await
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AccessLogQuery {
    /// The beneficiary's id.
    #[param(value_type = uuid::Uuid)]
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

/// Who read a person's history or identity, and when.
#[utoipa::path(get, path = "/api/access-log", params(AccessLogQuery), tag = "trust",
    responses((status = 200, description = "`{ beneficiary, entries }`"), (status = 400, description = "malformed request, unknown field or value (named)", body = super::openapi::ErrorBody), (status = 401, description = "no valid credential", body = super::openapi::ErrorBody), (status = 403, description = "outside the credential's rights", body = super::openapi::ErrorBody)))]
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

/// The tokens (never the tokens themselves).
#[utoipa::path(get, path = "/api/tokens", tag = "trust", responses((status = 200, description = "`{ tokens }`"), (status = 401, description = "no valid credential", body = super::openapi::ErrorBody), (status = 403, description = "outside the credential's rights", body = super::openapi::ErrorBody)))]
pub async fn tokens(State(state): State<AppState>, _caller: Caller) -> Result<Response, ApiError> {
    let body = blocking(move || {
        let tokens: Vec<TokenJson> =
            state.store.tokens()?.into_iter().map(|(record, revocation)| TokenJson::new(record, revocation)).collect();
        Ok(serde_json::to_vec(&serde_json::json!({ "tokens": tokens }))?)
    })
    .await?;
    Ok(json_response(body))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenBody {
    /// admin, coordinator, auditor or evaluator.
    #[schema(value_type = String)]
    role: Role,
    /// A coordinator's structures.
    #[serde(default)]
    #[schema(value_type = Vec<String>)]
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

/// Creates a token; the answer shows it once.
#[utoipa::path(post, path = "/api/tokens", request_body = TokenBody, tag = "trust",
    responses((status = 201, description = "The token, shown once"), (status = 400, description = "malformed request, unknown field or value (named)", body = super::openapi::ErrorBody), (status = 401, description = "no valid credential", body = super::openapi::ErrorBody), (status = 403, description = "outside the credential's rights", body = super::openapi::ErrorBody), (status = 413, description = "payload too large", body = super::openapi::ErrorBody)))]
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

/// Revokes a token for good.
#[utoipa::path(delete, path = "/api/tokens/{id}", params(("id" = String, Path, description = "The token's id (tok_…)")), tag = "trust",
    responses((status = 204, description = "Revoked"), (status = 401, description = "no valid credential", body = super::openapi::ErrorBody), (status = 403, description = "outside the credential's rights", body = super::openapi::ErrorBody), (status = 404, description = "not found", body = super::openapi::ErrorBody)))]
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
