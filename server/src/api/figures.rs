//! Figures: the coordinator dashboard and the outcome and entry statistics, in JSON or CSV. Who
//! sees what is `app::disclosure`'s (CONTRACT §7).

use axum::extract::State;
use axum::response::Response;
use parcours_core::vocabulary::{Date, Slug};
use parcours_projections::GroupBy;
use serde::Deserialize;

use super::{csv_response, json_response, QueryOf};
use crate::app::figures::{self, period, StatisticsQuestion};
use crate::app::{AppError, Caller};
use crate::state::AppState;

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DashboardQuery {
    /// The structure (a coordinator's only one by default).
    #[param(value_type = Option<String>)]
    structure: Option<Slug>,
}

/// A structure's dashboard: figures and the people behind each.
#[utoipa::path(get, path = "/api/dashboard", params(DashboardQuery), tag = "figures",
    responses((status = 200, description = "The dashboard"), (status = 400, description = "malformed request, unknown field or value (named)", body = super::openapi::ErrorBody), (status = 401, description = "no valid credential", body = super::openapi::ErrorBody), (status = 403, description = "outside the credential's rights", body = super::openapi::ErrorBody), (status = 503, description = "not available now; retry", body = super::openapi::ErrorBody)))]
pub async fn dashboard(
    State(state): State<AppState>,
    caller: Caller,
    QueryOf(query): QueryOf<DashboardQuery>,
) -> Result<Response, AppError> {
    let dashboard = figures::dashboard(&state, &caller, query.structure).await?;
    Ok(json_response(serde_json::to_vec(&dashboard)?))
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

/// Outcome statistics: the exits of a period by category, the dynamic exit rate, re-enrolments.
#[utoipa::path(get, path = "/api/stats/outcomes", params(StatsQuery), tag = "figures",
    responses((status = 200, description = "JSON, or CSV with `format=csv`"), (status = 400, description = "malformed request, unknown field or value (named)", body = super::openapi::ErrorBody), (status = 401, description = "no valid credential", body = super::openapi::ErrorBody), (status = 403, description = "outside the credential's rights", body = super::openapi::ErrorBody), (status = 503, description = "not available now; retry", body = super::openapi::ErrorBody)))]
pub async fn outcomes(
    State(state): State<AppState>,
    caller: Caller,
    QueryOf(query): QueryOf<StatsQuery>,
) -> Result<Response, AppError> {
    let period = period(state.today(), query.from, query.to)?;
    let question = StatisticsQuestion { period, structure: query.structure, by: query.by };
    let outcomes = figures::outcomes(&state, &caller, question).await?;
    Ok(match query.format {
        Format::Json => json_response(serde_json::to_vec(&outcomes)?),
        Format::Csv => csv_response(outcomes.to_csv()),
    })
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
) -> Result<Response, AppError> {
    let period = period(state.today(), query.from, query.to)?;
    let question = StatisticsQuestion { period, structure: query.structure, by: None };
    let entries = figures::entries(&state, &caller, question).await?;
    Ok(match query.format {
        Format::Json => json_response(serde_json::to_vec(&entries)?),
        Format::Csv => csv_response(entries.to_csv()),
    })
}
