//! Figures: the coordinator dashboard and the outcome and entry statistics, in JSON or CSV.
//!
//! Who sees what (CONTRACT §7): admins every figure; coordinators those of their structures,
//! exact; auditors exact statistics (they may read every history anyway); evaluators statistics
//! across structures with small cells withheld and sensitive prescribers counted as `other`.

use axum::extract::State;
use axum::response::Response;
use parcours_core::store::access::Role;
use parcours_core::vocabulary::{Date, Slug};
use parcours_projections::{Dashboard, Entries, EntriesQuery, GroupBy, OutcomeQuery, Outcomes, Period};
use serde::Deserialize;

use super::{blocking, csv_response, json_response, ApiError, QueryOf};
use crate::access::Caller;
use crate::state::AppState;

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DashboardQuery {
    /// The structure (a coordinator's only one by default).
    #[param(value_type = Option<String>)]
    structure: Option<Slug>,
}

/// The structure a coordinator's figures are about: the one asked for, which must be theirs, or
/// their only one.
pub fn structure_of(caller: &Caller, asked: Option<Slug>) -> Result<Slug, ApiError> {
    match asked {
        Some(structure) if caller.may_follow(&structure) => Ok(structure),
        Some(_) => Err(ApiError::Forbidden),
        None => match caller.structures.as_slice() {
            [only] => Ok(only.clone()),
            _ => Err(ApiError::InvalidRequest("structure: which structure? (structure=slug)".into())),
        },
    }
}

/// A structure's dashboard: figures and the people behind each.
#[utoipa::path(get, path = "/api/dashboard", params(DashboardQuery), tag = "figures",
    responses((status = 200, description = "The dashboard"), (status = 400, description = "malformed request, unknown field or value (named)", body = super::openapi::ErrorBody), (status = 401, description = "no valid credential", body = super::openapi::ErrorBody), (status = 403, description = "outside the credential's rights", body = super::openapi::ErrorBody), (status = 503, description = "not available now; retry", body = super::openapi::ErrorBody)))]
pub async fn dashboard(
    State(state): State<AppState>,
    caller: Caller,
    QueryOf(query): QueryOf<DashboardQuery>,
) -> Result<Response, ApiError> {
    let dashboard = dashboard_for(&state, &caller, query.structure).await?;
    Ok(json_response(serde_json::to_vec(&dashboard)?))
}

/// The dashboard of a structure the caller follows, once the projections hold every durable step.
pub async fn dashboard_for(state: &AppState, caller: &Caller, structure: Option<Slug>) -> Result<Dashboard, ApiError> {
    let structure = structure_of(caller, structure)?;
    state.caught_up().await?;
    let today = state.today();
    let state = state.clone();
    blocking(move || Ok(state.projections.read().dashboard(&structure, today))).await
}

#[derive(Clone, Copy, PartialEq, Eq, Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    #[default]
    Json,
    Csv,
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct StatsQuery {
    /// First day (the current year's first by default).
    #[param(value_type = Option<String>, format = Date)]
    from: Option<Date>,
    /// Last day, included.
    #[param(value_type = Option<String>, format = Date)]
    to: Option<Date>,
    #[param(value_type = Option<String>)]
    structure: Option<Slug>,
    #[param(schema_with = crate::api::openapi::group_by_schema)]
    by: Option<GroupBy>,
    #[serde(default)]
    #[param(inline)]
    format: Format,
}

/// The period asked for; the current calendar year by default.
pub fn period(state: &AppState, from: Option<Date>, to: Option<Date>) -> Result<Period, ApiError> {
    let year = state.today().year();
    let first = Date::from_ymd(year, 1, 1).ok_or_else(|| ApiError::InvalidRequest("no current year".into()))?;
    let last = Date::from_ymd(year, 12, 31).ok_or_else(|| ApiError::InvalidRequest("no current year".into()))?;
    Period::new(from.unwrap_or(first), to.unwrap_or(last))
        .map_err(|error| ApiError::InvalidRequest(format!("to: {error}")))
}

/// Checks that the caller may see statistics about `structure` (all structures when `None`).
fn check_statistics_scope(caller: &Caller, structure: Option<&Slug>) -> Result<(), ApiError> {
    match (caller.role, structure) {
        (Role::Coordinator, Some(structure)) if caller.may_follow(structure) => Ok(()),
        (Role::Coordinator, _) => Err(ApiError::Forbidden),
        (Role::Admin | Role::Auditor | Role::Evaluator, _) => Ok(()),
    }
}

/// Outcome statistics: the exits of a period by category, the dynamic exit rate, re-enrolments.
#[utoipa::path(get, path = "/api/stats/outcomes", params(StatsQuery), tag = "figures",
    responses((status = 200, description = "JSON, or CSV with `format=csv`"), (status = 400, description = "malformed request, unknown field or value (named)", body = super::openapi::ErrorBody), (status = 401, description = "no valid credential", body = super::openapi::ErrorBody), (status = 403, description = "outside the credential's rights", body = super::openapi::ErrorBody), (status = 503, description = "not available now; retry", body = super::openapi::ErrorBody)))]
pub async fn outcomes(
    State(state): State<AppState>,
    caller: Caller,
    QueryOf(query): QueryOf<StatsQuery>,
) -> Result<Response, ApiError> {
    let period = period(&state, query.from, query.to)?;
    let outcomes = outcome_figures(&state, &caller, period, query.structure, query.by).await?;
    Ok(match query.format {
        Format::Json => json_response(serde_json::to_vec(&outcomes)?),
        Format::Csv => csv_response(outcomes.to_csv()),
    })
}

/// The outcome statistics the caller may see: exact, or with small cells withheld for evaluators.
pub async fn outcome_figures(
    state: &AppState,
    caller: &Caller,
    period: Period,
    structure: Option<Slug>,
    by: Option<GroupBy>,
) -> Result<Outcomes, ApiError> {
    check_statistics_scope(caller, structure.as_ref())?;
    state.caught_up().await?;
    let evaluator = caller.role == Role::Evaluator;
    let threshold = state.settings.small_cells;
    let request = OutcomeQuery { period, structure, by, sensitive_prescribers_as_other: evaluator };
    let state = state.clone();
    let mut outcomes = blocking(move || Ok(state.projections.read().outcomes(&request))).await?;
    if evaluator {
        outcomes.withhold_small_cells(threshold);
    }
    Ok(outcomes)
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct EntriesParams {
    #[param(value_type = Option<String>, format = Date)]
    from: Option<Date>,
    #[param(value_type = Option<String>, format = Date)]
    to: Option<Date>,
    #[param(value_type = Option<String>)]
    structure: Option<Slug>,
    #[serde(default)]
    #[param(inline)]
    format: Format,
}

/// Entry statistics: the referrals of a period by gender, situation and age band.
#[utoipa::path(get, path = "/api/stats/entries", params(EntriesParams), tag = "figures",
    responses((status = 200, description = "JSON, or CSV with `format=csv`"), (status = 400, description = "malformed request, unknown field or value (named)", body = super::openapi::ErrorBody), (status = 401, description = "no valid credential", body = super::openapi::ErrorBody), (status = 403, description = "outside the credential's rights", body = super::openapi::ErrorBody), (status = 503, description = "not available now; retry", body = super::openapi::ErrorBody)))]
pub async fn entries(
    State(state): State<AppState>,
    caller: Caller,
    QueryOf(query): QueryOf<EntriesParams>,
) -> Result<Response, ApiError> {
    let period = period(&state, query.from, query.to)?;
    let entries = entry_figures(&state, &caller, period, query.structure).await?;
    Ok(match query.format {
        Format::Json => json_response(serde_json::to_vec(&entries)?),
        Format::Csv => csv_response(entries.to_csv()),
    })
}

/// The entry statistics the caller may see: exact, or with small cells withheld for evaluators.
pub async fn entry_figures(
    state: &AppState,
    caller: &Caller,
    period: Period,
    structure: Option<Slug>,
) -> Result<Entries, ApiError> {
    check_statistics_scope(caller, structure.as_ref())?;
    state.caught_up().await?;
    let threshold = state.settings.small_cells;
    let request = EntriesQuery { period, structure };
    let state = state.clone();
    let mut entries = blocking(move || Ok(state.projections.read().entries(&request))).await?;
    if caller.role == Role::Evaluator {
        entries.withhold_small_cells(threshold);
    }
    Ok(entries)
}
