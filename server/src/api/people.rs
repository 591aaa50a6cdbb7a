//! People: the list, one pathway's state, and the audit trail with its time-travel questions.

use axum::extract::{Path, State};
use axum::response::Response;
use parcours_core::vocabulary::{Date, PersonalData, Slug};
use parcours_projections::{PathwayState, PersonRow, PersonStatus};
use serde::{Deserialize, Serialize};

use super::{json_response, QueryOf};
use crate::app::people::{self, Audit, Listed, PeopleAsked, PeopleList};
use crate::app::streams::{beneficiary_id, parse_as_of};
use crate::app::{blocking, AppError, Caller};
use crate::state::AppState;

/// The pathway's state with the person's identity, for those allowed to see it.
#[derive(Serialize)]
struct PathwayJson {
    #[serde(flatten)]
    state: PathwayState,
    identity: Option<PersonalData>,
}

/// The current state of a person's pathway, with their identity for those allowed to see it.
#[utoipa::path(get, path = "/api/beneficiaries/{id}", params(("id" = uuid::Uuid, Path)), tag = "people",
    responses((status = 200, description = "The pathway's state"), (status = 400, description = "malformed request, unknown field or value (named)", body = super::openapi::ErrorBody), (status = 401, description = "no valid credential", body = super::openapi::ErrorBody), (status = 403, description = "outside the credential's rights", body = super::openapi::ErrorBody), (status = 404, description = "not found", body = super::openapi::ErrorBody), (status = 503, description = "not available now; retry", body = super::openapi::ErrorBody)))]
pub async fn pathway(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let stream = beneficiary_id(&id)?;
    state.caught_up().await?;
    let body = blocking(move || {
        let (pathway, identity) = people::pathway(&state, &caller, stream)?;
        Ok(serde_json::to_vec(&PathwayJson { state: pathway, identity })?)
    })
    .await?;
    Ok(json_response(body))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Only people whose current structure is this one.
    #[param(value_type = Option<String>)]
    structure: Option<Slug>,
    #[param(schema_with = crate::api::openapi::person_status_schema)]
    status: Option<PersonStatus>,
    /// Whole words of the first or last name, case and accents aside ("helene" finds "Hélène").
    q: Option<String>,
    limit: Option<usize>,
    offset: Option<usize>,
}

const LIST_LIMIT_DEFAULT: usize = 100;
const LIST_LIMIT_MAX: usize = 1000;

#[derive(Serialize)]
struct PersonJson {
    #[serde(flatten)]
    row: PersonRow,
    name: Option<String>,
}

#[derive(Serialize)]
struct ListJson {
    total: usize,
    people: Vec<PersonJson>,
}

/// The people the caller may see, with names, filtered.
#[utoipa::path(get, path = "/api/beneficiaries", operation_id = "list_people", params(ListQuery), tag = "people",
    responses((status = 200, description = "`{ total, people }`"), (status = 400, description = "malformed request, unknown field or value (named)", body = super::openapi::ErrorBody), (status = 401, description = "no valid credential", body = super::openapi::ErrorBody), (status = 403, description = "outside the credential's rights", body = super::openapi::ErrorBody), (status = 503, description = "not available now; retry", body = super::openapi::ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    QueryOf(query): QueryOf<ListQuery>,
) -> Result<Response, AppError> {
    let limit = query.limit.unwrap_or(LIST_LIMIT_DEFAULT);
    if limit == 0 || limit > LIST_LIMIT_MAX {
        return Err(AppError::InvalidRequest(format!("limit: expected 1 to {LIST_LIMIT_MAX}, got {limit}")));
    }
    let asked = PeopleAsked {
        structure: query.structure,
        status: query.status,
        search: query.q,
        offset: query.offset.unwrap_or(0),
        limit,
    };
    let PeopleList { total, people } = people::people(&state, &caller, asked).await?;
    let people = people.into_iter().map(|Listed { row, name }| PersonJson { row, name }).collect();
    Ok(json_response(serde_json::to_vec(&ListJson { total, people })?))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// The pathway as it stood on this date (effective dates).
    #[param(value_type = Option<String>, format = Date)]
    on: Option<Date>,
    /// The pathway as it was known at this time (recorded times, RFC 3339).
    as_of: Option<String>,
}

#[derive(Serialize)]
struct AuditJson {
    #[serde(flatten)]
    trail: parcours_projections::audit::AuditTrail,
    #[serde(skip_serializing_if = "Option::is_none")]
    state_on: Option<PathwayState>,
    #[serde(skip_serializing_if = "Option::is_none")]
    state_known_at: Option<PathwayState>,
}

/// The audit trail: every event as recorded, who recorded it and when, corrections linked; with
/// `on=D` the pathway as it stood on D, with `as_of=T` as it was known at T.
/// The audit trail: every event as recorded, corrections linked, and the time-travel questions.
#[utoipa::path(get, path = "/api/beneficiaries/{id}/audit", params(("id" = uuid::Uuid, Path), AuditQuery), tag = "people",
    responses((status = 200, description = "The audit trail"), (status = 400, description = "malformed request, unknown field or value (named)", body = super::openapi::ErrorBody), (status = 401, description = "no valid credential", body = super::openapi::ErrorBody), (status = 403, description = "outside the credential's rights", body = super::openapi::ErrorBody), (status = 404, description = "not found", body = super::openapi::ErrorBody), (status = 503, description = "not available now; retry", body = super::openapi::ErrorBody)))]
pub async fn audit(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    QueryOf(query): QueryOf<AuditQuery>,
) -> Result<Response, AppError> {
    let stream = beneficiary_id(&id)?;
    let as_of = query.as_of.as_deref().map(parse_as_of).transpose()?;
    let body = blocking(move || {
        let Audit { trail, state_on, state_known_at } = people::audit(&state, &caller, stream, query.on, as_of)?;
        Ok(serde_json::to_vec(&AuditJson { trail, state_on, state_known_at })?)
    })
    .await?;
    Ok(json_response(body))
}

/// One history with what proves it, for `parcours verify-export` offline.
#[utoipa::path(get, path = "/api/beneficiaries/{id}/export", operation_id = "export_history", params(("id" = uuid::Uuid, Path)), tag = "people",
    responses((status = 200, description = "A verifiable history (format parcours-history-1)"),
        (status = 400, description = "malformed request", body = super::openapi::ErrorBody),
        (status = 401, description = "no valid credential", body = super::openapi::ErrorBody),
        (status = 403, description = "outside the credential's rights", body = super::openapi::ErrorBody),
        (status = 404, description = "not found", body = super::openapi::ErrorBody)))]
pub async fn export(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let stream = beneficiary_id(&id)?;
    let body = blocking(move || {
        let history = people::verifiable_history(&state, &caller, stream)?;
        Ok(serde_json::to_vec(&crate::json::history_json(&history))?)
    })
    .await?;
    Ok(json_response(body))
}
