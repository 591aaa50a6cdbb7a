//! People: the list, one pathway's state, and the audit trail with its time-travel questions.

use axum::extract::{Path, State};
use axum::response::Response;
use parcours_core::store::access::Role;
use parcours_core::vocabulary::{Date, PersonalData, Slug, StreamId};
use parcours_projections::audit::{audit_trail, state_known_at, state_on};
use parcours_projections::{PathwayState, PeopleQuery, PersonRow, PersonStatus};
use serde::{Deserialize, Serialize};

use super::log::{beneficiary_id, parse_as_of, readable_stream};
use super::{blocking, json_response, record_access, ApiError, QueryOf};
use crate::access::Caller;
use crate::json::current_identity;
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
) -> Result<Response, ApiError> {
    let stream = beneficiary_id(&id)?;
    state.caught_up().await?;
    let body = blocking(move || {
        let events = readable_stream(&state, &caller, stream)?;
        let pathway = state.projections.read().pathway(stream);
        let pathway = pathway.ok_or_else(|| ApiError::not_found(format!("no beneficiary {stream}")))?;
        record_access(&state, &caller, stream, "state")?;
        let identity = current_identity(&state.store, &events)?;
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
    /// Part of a first or last name, any case.
    q: Option<String>,
    limit: Option<usize>,
    offset: Option<usize>,
}

const LIST_LIMIT_DEFAULT: usize = 100;
const LIST_LIMIT_MAX: usize = 1000;

#[derive(Serialize)]
pub struct PersonJson {
    #[serde(flatten)]
    pub row: PersonRow,
    pub name: Option<String>,
}

#[derive(Serialize)]
struct ListJson {
    total: usize,
    people: Vec<PersonJson>,
}

/// The people a caller may see, with names, filtered. Used by the API and the web pages.
pub fn people_for(
    state: &AppState,
    caller: &Caller,
    structure: Option<Slug>,
    status: Option<PersonStatus>,
    search: Option<&str>,
) -> Result<Vec<PersonJson>, ApiError> {
    let reach = (caller.role == Role::Coordinator).then(|| caller.structures.clone());
    let rows = state.projections.read().people(&PeopleQuery { reach, current_structure: structure, status });
    let needle = search.map(|text| text.trim().to_lowercase()).filter(|text| !text.is_empty());
    let mut people = Vec::with_capacity(rows.len());
    for row in rows {
        let name = name_of(state, caller, row.beneficiary)?;
        if let Some(needle) = &needle {
            if !name.as_ref().is_some_and(|name| name.to_lowercase().contains(needle.as_str())) {
                continue;
            }
        }
        people.push(PersonJson { row, name });
    }
    Ok(people)
}

/// A person's name as recorded now, for a reader allowed to see it; the reading is recorded in
/// the access log (CONTRACT §7: every read of an identity), as `name`.
pub fn name_of(state: &AppState, caller: &Caller, stream: StreamId) -> Result<Option<String>, ApiError> {
    let events = state.store.read_stream(stream, None)?;
    let name = current_identity(&state.store, &events)?.and_then(|identity| identity.display_name());
    if name.is_some() {
        record_access(state, caller, stream, "name")?;
    }
    Ok(name)
}

/// The people the caller may see, with names, filtered.
#[utoipa::path(get, path = "/api/beneficiaries", operation_id = "list_people", params(ListQuery), tag = "people",
    responses((status = 200, description = "`{ total, people }`"), (status = 400, description = "malformed request, unknown field or value (named)", body = super::openapi::ErrorBody), (status = 401, description = "no valid credential", body = super::openapi::ErrorBody), (status = 403, description = "outside the credential's rights", body = super::openapi::ErrorBody), (status = 503, description = "not available now; retry", body = super::openapi::ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    QueryOf(query): QueryOf<ListQuery>,
) -> Result<Response, ApiError> {
    let limit = query.limit.unwrap_or(LIST_LIMIT_DEFAULT);
    if limit == 0 || limit > LIST_LIMIT_MAX {
        return Err(ApiError::InvalidRequest(format!("limit: expected 1 to {LIST_LIMIT_MAX}, got {limit}")));
    }
    state.caught_up().await?;
    let body = blocking(move || {
        let people = people_for(&state, &caller, query.structure, query.status, query.q.as_deref())?;
        let total = people.len();
        let people = people.into_iter().skip(query.offset.unwrap_or(0)).take(limit).collect();
        Ok(serde_json::to_vec(&ListJson { total, people })?)
    })
    .await?;
    Ok(json_response(body))
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
) -> Result<Response, ApiError> {
    let stream = beneficiary_id(&id)?;
    let as_of = query.as_of.as_deref().map(parse_as_of).transpose()?;
    let body = blocking(move || {
        let events = readable_stream(&state, &caller, stream)?;
        record_access(&state, &caller, stream, "audit")?;
        let trail = audit_trail(&events).ok_or_else(|| ApiError::not_found(format!("no beneficiary {stream}")))?;
        let json = AuditJson {
            trail,
            state_on: query.on.and_then(|day| state_on(&events, day)),
            state_known_at: as_of.and_then(|at| state_known_at(&events, at)),
        };
        Ok(serde_json::to_vec(&json)?)
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
) -> Result<Response, ApiError> {
    let stream = beneficiary_id(&id)?;
    let body = blocking(move || {
        readable_stream(&state, &caller, stream)?;
        record_access(&state, &caller, stream, "export")?;
        let history = state
            .store
            .verifiable_history(stream, caller.actor.clone())?
            .ok_or_else(|| ApiError::not_found(format!("no beneficiary {stream}")))?;
        Ok(serde_json::to_vec(&crate::json::history_json(&history))?)
    })
    .await?;
    Ok(json_response(body))
}
