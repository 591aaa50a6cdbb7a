//! Trust (CONTRACT §7): erasure, the access log, tokens.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use parcours_core::store::access::{AccessEntry, Revocation, Role, TokenRecord};
use parcours_core::vocabulary::{Actor, ErasureReason, Slug, StreamId, Timestamp};
use serde::{Deserialize, Serialize};

use super::error::JsonBody;
use super::{json_response, QueryOf};
use crate::app::streams::beneficiary_id;
use crate::app::trust::{self, TokenRequest};
use crate::app::{AppError, Caller};
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
) -> Result<Response, AppError> {
    let stream = beneficiary_id(&id)?;
    let erased = trust::erase_identity(&state, &caller, stream, body.reason).await?;
    let status = if erased { StatusCode::CREATED } else { StatusCode::OK };
    Ok((status, Json(serde_json::json!({ "beneficiary": stream, "identity_erased": true }))).into_response())
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
) -> Result<Response, AppError> {
    let stream = beneficiary_id(&query.beneficiary)?;
    let entries: Vec<AccessJson> = trust::access_log(&state, stream).await?.into_iter().map(AccessJson::from).collect();
    Ok(json_response(serde_json::to_vec(&serde_json::json!({ "beneficiary": stream, "entries": entries }))?))
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
pub async fn tokens(State(state): State<AppState>, _caller: Caller) -> Result<Response, AppError> {
    let tokens: Vec<TokenJson> = trust::tokens(&state)
        .await?
        .into_iter()
        .map(|(record, revocation)| TokenJson::new(record, revocation))
        .collect();
    Ok(json_response(serde_json::to_vec(&serde_json::json!({ "tokens": tokens }))?))
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

impl TokenBody {
    /// The request it makes, as `parcours token create` makes it from its flags.
    pub(crate) fn request(self) -> TokenRequest {
        TokenRequest { role: self.role, structures: self.structures, label: self.label }
    }
}

/// Creates a token; the answer shows it once.
#[utoipa::path(post, path = "/api/tokens", request_body = TokenBody, tag = "trust",
    responses((status = 201, description = "The token, shown once"), (status = 400, description = "malformed request, unknown field or value (named)", body = super::openapi::ErrorBody), (status = 401, description = "no valid credential", body = super::openapi::ErrorBody), (status = 403, description = "outside the credential's rights", body = super::openapi::ErrorBody), (status = 413, description = "payload too large", body = super::openapi::ErrorBody)))]
pub async fn create_token(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody<TokenBody>,
) -> Result<Response, AppError> {
    let (record, token) = trust::issue_token(&state, &caller, body.request()).await?;
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
) -> Result<Response, AppError> {
    trust::revoke_token(&state, &caller, id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
