//! Figures: the coordinator dashboard and the outcome and entry statistics, in JSON or CSV. Who
//! sees what is `app::disclosure`'s (CONTRACT §7).

use axum::extract::State;
use axum::response::Response;
use parcours_core::vocabulary::{Date, Slug};
use parcours_projections::{GroupBy, GroupKey, Period};
use serde::Deserialize;

use super::{csv_response, download_response, json_response, QueryOf};
use crate::app::figures::{self, period, StatisticsQuestion};
use crate::app::structures::{self, Names};
use crate::app::{AppError, Caller};
use crate::attachment::file_name;
use crate::report_formats::RenderError;
use crate::state::AppState;
use crate::workbook::{entries_workbook, outcomes_workbook, SheetFormat, Workbook};

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
    /// XLSX: one sheet per table, French headers, numbers as numbers.
    Xlsx,
    /// CSV for French Excel: `;`, UTF-8 with BOM, decimal comma, French headers.
    #[serde(rename = "csv-fr")]
    CsvFr,
}

impl Format {
    pub(super) fn sheet(self) -> Option<SheetFormat> {
        match self {
            Format::Xlsx => Some(SheetFormat::Xlsx),
            Format::CsvFr => Some(SheetFormat::CsvFr),
            Format::Json | Format::Csv => None,
        }
    }
}

/// A statistics file: `workbook` in `format`, named after `what`, the structure and the period.
pub(super) fn sheet_response(
    format: SheetFormat,
    what: &str,
    structure: &str,
    period: Period,
    workbook: &Workbook,
) -> Result<Response, AppError> {
    let body = format.bytes(workbook).map_err(RenderError::from)?;
    let structures = [structure.to_owned()];
    let name = file_name(what, &structures, period.from, period.to, format.extension());
    Ok(download_response(format.content_type(), &name, body))
}

/// The structure asked, by name, and the names of the structures among `slugs`.
pub(super) async fn named(
    state: &AppState,
    structure: Option<&Slug>,
    mut slugs: Vec<String>,
) -> Result<(String, Names), AppError> {
    slugs.extend(structure.map(ToString::to_string));
    let names = structures::names_of(state, slugs).await?;
    let structure = structure.map_or_else(|| "Toutes les structures".to_owned(), |slug| names.get(slug.as_str()));
    Ok((structure, names))
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
    responses((status = 200, description = "JSON; CSV with `format=csv`; XLSX with `format=xlsx` and CSV for French Excel with `format=csv-fr`, both with `Content-Disposition: attachment` naming the structure and the period"), (status = 400, description = "malformed request, unknown field or value (named)", body = super::openapi::ErrorBody), (status = 401, description = "no valid credential", body = super::openapi::ErrorBody), (status = 403, description = "outside the credential's rights", body = super::openapi::ErrorBody), (status = 503, description = "not available now; retry", body = super::openapi::ErrorBody)))]
pub async fn outcomes(
    State(state): State<AppState>,
    caller: Caller,
    QueryOf(query): QueryOf<StatsQuery>,
) -> Result<Response, AppError> {
    let period = period(state.today(), query.from, query.to)?;
    let question = StatisticsQuestion { period, structure: query.structure, by: query.by };
    let outcomes = figures::outcomes(&state, &caller, question).await?;
    if let Some(format) = query.format.sheet() {
        let grouped = outcomes.groups.iter().flatten().filter_map(|group| match &group.key {
            GroupKey::Structure(slug) => Some(slug.to_string()),
            _ => None,
        });
        let (structure, names) = named(&state, outcomes.structure.as_ref(), grouped.collect()).await?;
        let workbook = outcomes_workbook(&outcomes, &structure, |slug| names.get(slug));
        return sheet_response(format, "Sorties", &structure, period, &workbook);
    }
    Ok(match query.format {
        Format::Csv => csv_response(outcomes.to_csv()),
        _ => json_response(serde_json::to_vec(&outcomes)?),
    })
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
/// A period, one structure or all, and a format: what the entry and the ESF+ statistics are asked with.
pub struct PeriodParams {
    #[param(value_type = Option<String>, format = Date)]
    pub(super) from: Option<Date>,
    #[param(value_type = Option<String>, format = Date)]
    pub(super) to: Option<Date>,
    #[param(value_type = Option<String>)]
    pub(super) structure: Option<Slug>,
    #[serde(default)]
    #[param(inline)]
    pub(super) format: Format,
}

/// Entry statistics: the referrals of a period by gender, situation and age band.
#[utoipa::path(get, path = "/api/stats/entries", params(PeriodParams), tag = "figures",
    responses((status = 200, description = "JSON; CSV with `format=csv`; XLSX with `format=xlsx` and CSV for French Excel with `format=csv-fr`, both with `Content-Disposition: attachment` naming the structure and the period"), (status = 400, description = "malformed request, unknown field or value (named)", body = super::openapi::ErrorBody), (status = 401, description = "no valid credential", body = super::openapi::ErrorBody), (status = 403, description = "outside the credential's rights", body = super::openapi::ErrorBody), (status = 503, description = "not available now; retry", body = super::openapi::ErrorBody)))]
pub async fn entries(
    State(state): State<AppState>,
    caller: Caller,
    QueryOf(query): QueryOf<PeriodParams>,
) -> Result<Response, AppError> {
    let period = period(state.today(), query.from, query.to)?;
    let question = StatisticsQuestion { period, structure: query.structure, by: None };
    let entries = figures::entries(&state, &caller, question).await?;
    if let Some(format) = query.format.sheet() {
        let (structure, _) = named(&state, entries.structure.as_ref(), Vec::new()).await?;
        return sheet_response(format, "Entrées", &structure, period, &entries_workbook(&entries, &structure));
    }
    Ok(match query.format {
        Format::Csv => csv_response(entries.to_csv()),
        _ => json_response(serde_json::to_vec(&entries)?),
    })
}
