//! Structures (CONTRACT §5): each recorded by an admin as `structure_updated` events in the
//! structure's own stream; the latest states the whole structure, agreed hours included.

use std::collections::BTreeMap;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use parcours_core::vocabulary::{FullTimeEquivalents, Funder, Hours, Slug, Step, StructureKind};
use serde::Deserialize;

use super::error::JsonBody;
use super::json_response;
use crate::app::structures::{self, structure_step, StructureInput};
use crate::app::{AppError, Caller};
use crate::state::AppState;

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StructureBody {
    name: String,
    /// ai, aci, ei, etti, plie, ccas, other.
    #[schema(value_type = String)]
    kind: StructureKind,
    /// Yearly hours agreed with the funder, by calendar year: `{ "2025": 4200 }`.
    #[serde(default)]
    #[schema(value_type = Object)]
    agreed_hours: BTreeMap<u16, Hours>,
    /// Full-time equivalents agreed, by calendar year: `{ "2025": 12.5 }` (CONTRACT §11).
    #[serde(default)]
    #[schema(value_type = Object)]
    agreed_fte: BTreeMap<u16, FullTimeEquivalents>,
    /// Who funds the structure: `[ { "name", "kind": state, departement, region, esf,
    /// municipality, other } ]`.
    #[serde(default)]
    #[schema(value_type = Vec<Object>)]
    funders: Vec<Funder>,
}

impl StructureBody {
    /// The structure's record, once its names and years are plausible.
    pub(crate) fn into_step(self, slug: Slug) -> Result<Step, AppError> {
        let StructureBody { name, kind, agreed_hours, agreed_fte, funders } = self;
        structure_step(slug, StructureInput { name, kind, agreed_hours, agreed_fte, funders })
    }
}

/// Creates or updates a structure, as an event of its own stream.
#[utoipa::path(put, path = "/api/structures/{slug}", request_body = StructureBody, params(("slug" = String, Path, pattern = "^[a-z0-9][a-z0-9-]{0,63}$", description = "The structure's slug")), tag = "structures",
    responses((status = 201, description = "Created"), (status = 200, description = "Updated"), (status = 400, description = "malformed request, unknown field or value (named)", body = super::openapi::ErrorBody), (status = 401, description = "no valid credential", body = super::openapi::ErrorBody), (status = 403, description = "outside the credential's rights", body = super::openapi::ErrorBody), (status = 409, description = "version conflict or duplicate id", body = super::openapi::ErrorBody), (status = 413, description = "payload too large", body = super::openapi::ErrorBody), (status = 422, description = "a pathway rule is broken (named)", body = super::openapi::ErrorBody), (status = 503, description = "not available now; retry", body = super::openapi::ErrorBody)))]
pub async fn put(
    State(state): State<AppState>,
    caller: Caller,
    Path(slug): Path<String>,
    JsonBody(body): JsonBody<StructureBody>,
) -> Result<Response, AppError> {
    let slug = Slug::new(&slug).map_err(|message| AppError::InvalidRequest(format!("slug: {message}")))?;
    let step = body.into_step(slug.clone())?;
    let appended = structures::record(&state, &caller, &slug, step).await?;
    let status = if appended.version == 1 { StatusCode::CREATED } else { StatusCode::OK };
    let body = serde_json::json!({ "slug": slug, "version": appended.version, "position": appended.position });
    Ok((status, Json(body)).into_response())
}

/// The structures, as their latest records state them.
#[utoipa::path(get, path = "/api/structures", operation_id = "list_structures", tag = "structures",
    responses((status = 200, description = "`{ structures }`"), (status = 401, description = "no valid credential", body = super::openapi::ErrorBody), (status = 503, description = "not available now; retry", body = super::openapi::ErrorBody)))]
pub async fn list(State(state): State<AppState>, _caller: Caller) -> Result<Response, AppError> {
    let structures = structures::list(&state).await?;
    Ok(json_response(serde_json::to_vec(&serde_json::json!({ "structures": structures }))?))
}
