//! The activity report (CONTRACT §8): `GET /api/reports/activity` in JSON, CSV or a printable
//! French page, and `GET /api/reports/activity/list`, the people behind one of its figures.
//!
//! Who sees what (CONTRACT §7):
//! - admins: any structures, exact figures, each structure's own figures when several are asked,
//!   and the lists behind every count, names included;
//! - coordinators: the same, for their own structures only (every structure asked must be theirs;
//!   none asked means all of theirs). Every person in a list was referred to one of them, so they
//!   may read each one; names are still shown only where `reached_by` agrees;
//! - auditors: as admins. They may read every history and identity already, so the lists show
//!   them nothing new, and checking a published figure person by person is their work;
//! - evaluators: the report only, summed over the structures asked, small cells withheld, no
//!   structure's own figures, no lists and no links.
//!
//! Lists show names as the people list does (`GET /api/beneficiaries`), without an access-log
//! entry per name: reading someone's history is what the access log records.

use axum::extract::{RawQuery, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use parcours_core::store::access::Role;
use parcours_core::vocabulary::{Date, Slug};
use parcours_projections::report::{
    ActivityQuery, ActivityReport, DefinitionsVersion, FamilyQuotientBands, ReportError,
};
use parcours_projections::{Period, Projections};
use serde::Serialize;

use super::people::name_of;
use super::{blocking, csv_response, json_response, ApiError};
use crate::access::Caller;
use crate::report_html::{self, NamedRow, Question, CONTENT_SECURITY_POLICY, STYLESHEET};
use crate::state::AppState;

#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub enum ReportFormat {
    #[default]
    Json,
    Csv,
    Html,
}

/// The question of a report as given, before it is checked against the store.
#[derive(Clone, Debug, Default)]
pub struct ReportParams {
    pub structures: Vec<Slug>,
    pub from: Option<Date>,
    pub to: Option<Date>,
    pub definitions: DefinitionsVersion,
    pub bands: FamilyQuotientBands,
    pub format: ReportFormat,
    /// The list asked for (list route only).
    pub figure: Option<String>,
}

impl ReportParams {
    /// Reads a query string: `structure` may repeat and hold several slugs separated by commas;
    /// an unknown parameter or a bad value is an error naming it.
    pub fn parse(query: &str, with_figure: bool) -> Result<ReportParams, String> {
        let mut params = ReportParams::default();
        for (name, value) in form_urlencoded::parse(query.as_bytes()) {
            let value = value.trim();
            match &*name {
                "structure" => {
                    for slug in value.split(',').map(str::trim).filter(|slug| !slug.is_empty()) {
                        let slug = Slug::new(slug).map_err(|message| format!("structure: {message}"))?;
                        if !params.structures.contains(&slug) {
                            params.structures.push(slug);
                        }
                    }
                }
                "from" => params.from = Some(date("from", value)?),
                "to" => params.to = Some(date("to", value)?),
                "definitions" => {
                    params.definitions = value.parse().map_err(|message| format!("definitions: {message}"))?
                }
                "family_quotient_bands" => {
                    params.bands = value.parse().map_err(|error| format!("family_quotient_bands: {error}"))?;
                }
                "format" => {
                    params.format = match value {
                        "json" => ReportFormat::Json,
                        "csv" if !with_figure => ReportFormat::Csv,
                        "html" => ReportFormat::Html,
                        _ if with_figure => return Err(format!("format: expected json or html, got `{value}`")),
                        _ => return Err(format!("format: expected json, csv or html, got `{value}`")),
                    }
                }
                "figure" if with_figure => params.figure = Some(value.to_owned()),
                other => return Err(format!("unknown parameter `{other}`")),
            }
        }
        if with_figure && params.figure.is_none() {
            return Err("figure: which figure's list? (figure=people.followed)".into());
        }
        Ok(params)
    }

    /// The question for the projections: the calendar year of `today` by default.
    pub fn query(&self, today: Date, by_structure: bool) -> Result<ActivityQuery, String> {
        let year = today.year();
        let first = Date::from_ymd(year, 1, 1).ok_or("no current year")?;
        let last = Date::from_ymd(year, 12, 31).ok_or("no current year")?;
        let period =
            Period::new(self.from.unwrap_or(first), self.to.unwrap_or(last)).map_err(|error| format!("to: {error}"))?;
        if self.structures.is_empty() {
            return Err("structure: which structures? (structure=slug, several separated by commas)".into());
        }
        Ok(ActivityQuery {
            period,
            structures: self.structures.clone(),
            definitions: self.definitions,
            bands: self.bands.clone(),
            by_structure,
        })
    }
}

fn date(name: &str, text: &str) -> Result<Date, String> {
    text.parse().map_err(|_| format!("{name}: `{text}` is not a date (YYYY-MM-DD)"))
}

pub(crate) fn report_error(error: ReportError) -> ApiError {
    match error {
        ReportError::UnknownStructure(_) => ApiError::not_found(error.to_string()),
        ReportError::NoStructure | ReportError::TooManyStructures => ApiError::InvalidRequest(error.to_string()),
    }
}

/// Checks the structures asked against the caller's rights; a coordinator who names none gets all
/// of theirs.
pub(crate) fn scoped(caller: &Caller, mut params: ReportParams) -> Result<ReportParams, ApiError> {
    if caller.role == Role::Coordinator {
        if params.structures.is_empty() {
            params.structures = caller.structures.clone();
        }
        if !params.structures.iter().all(|structure| caller.may_follow(structure)) {
            return Err(ApiError::Forbidden);
        }
    }
    Ok(params)
}

/// What computes a report: with its lists ([`Projections::activity_report_with_lists`]) or without.
type Compute = fn(&Projections, &ActivityQuery) -> Result<ActivityReport, ReportError>;

/// Computes the report a caller may see.
async fn report_for(
    state: &AppState,
    caller: &Caller,
    params: &ReportParams,
    compute: Compute,
) -> Result<ActivityReport, ApiError> {
    let evaluator = caller.role == Role::Evaluator;
    let query = params.query(state.today(), !evaluator).map_err(ApiError::InvalidRequest)?;
    state.caught_up().await?;
    let threshold = state.settings.small_cells;
    let shared = state.clone();
    let mut report = blocking(move || compute(&shared.projections.read(), &query).map_err(report_error)).await?;
    if evaluator {
        report.withhold_small_cells(threshold);
    }
    Ok(report)
}

/// The report in one of its formats; `linked` pages link each count to its list.
pub fn render(report: &ActivityReport, format: ReportFormat, linked: bool) -> Result<Vec<u8>, serde_json::Error> {
    Ok(match format {
        ReportFormat::Json => serde_json::to_vec(report)?,
        ReportFormat::Csv => report.to_csv().into_bytes(),
        ReportFormat::Html => report_html::page(report, linked.then(|| Question::of(report)).as_ref()).into_bytes(),
    })
}

fn html_response(body: Vec<u8>) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY),
        ],
        body,
    )
        .into_response()
}

/// The yearly activity report of one or more structures (CONTRACT §8).
#[utoipa::path(get, path = "/api/reports/activity", tag = "figures",
    params(("structure" = String, Query, description = "One or more structures (repeat, or separate with commas)"),
        ("from" = Option<String>, Query, format = Date, description = "First day (the current year's by default)"),
        ("to" = Option<String>, Query, format = Date, description = "Last day, included"),
        ("definitions" = Option<String>, Query, description = "The version of the definitions, e.g. v1"),
        ("family_quotient_bands" = Option<String>, Query, description = "Band limits in euros, e.g. 500,1000"),
        ("format" = Option<String>, Query, description = "json, csv or html")),
    responses((status = 200, description = "The report, as JSON, CSV or a printable French page"),
        (status = 400, description = "a bad question (named)", body = super::openapi::ErrorBody),
        (status = 401, description = "no valid credential", body = super::openapi::ErrorBody),
        (status = 403, description = "outside the credential's rights", body = super::openapi::ErrorBody),
        (status = 404, description = "unknown structure or list", body = super::openapi::ErrorBody),
        (status = 503, description = "not available now; retry", body = super::openapi::ErrorBody)))]
pub async fn activity(
    State(state): State<AppState>,
    caller: Caller,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let params = ReportParams::parse(query.as_deref().unwrap_or_default(), false).map_err(ApiError::InvalidRequest)?;
    let params = scoped(&caller, params)?;
    let report = report_for(&state, &caller, &params, Projections::activity_report).await?;
    let body = render(&report, params.format, caller.role != Role::Evaluator)?;
    Ok(match params.format {
        ReportFormat::Json => json_response(body),
        ReportFormat::Csv => csv_response(String::from_utf8_lossy(&body).into_owned()),
        ReportFormat::Html => html_response(body),
    })
}

#[derive(Serialize)]
struct ListJson<'a> {
    figure: &'a str,
    count: usize,
    rows: Vec<RowJson<'a>>,
}

#[derive(Serialize)]
struct RowJson<'a> {
    #[serde(flatten)]
    row: &'a parcours_projections::report::Row,
    /// The person's name, for readers allowed to see it; `null` otherwise or once erased.
    name: Option<String>,
}

/// The people behind one figure of the report.
#[utoipa::path(get, path = "/api/reports/activity/list", operation_id = "activity_report_list", tag = "figures",
    params(("structure" = String, Query, description = "One or more structures (repeat, or separate with commas)"),
        ("from" = Option<String>, Query, format = Date, description = "First day (the current year's by default)"),
        ("to" = Option<String>, Query, format = Date, description = "Last day, included"),
        ("definitions" = Option<String>, Query, description = "The version of the definitions, e.g. v1"),
        ("family_quotient_bands" = Option<String>, Query, description = "Band limits in euros, e.g. 500,1000"),
        ("figure" = String, Query, description = "The figure, e.g. people.followed"),
        ("format" = Option<String>, Query, description = "json or html")),
    responses((status = 200, description = "The rows behind the figure"),
        (status = 400, description = "a bad question (named)", body = super::openapi::ErrorBody),
        (status = 401, description = "no valid credential", body = super::openapi::ErrorBody),
        (status = 403, description = "outside the credential's rights", body = super::openapi::ErrorBody),
        (status = 404, description = "unknown structure or list", body = super::openapi::ErrorBody),
        (status = 503, description = "not available now; retry", body = super::openapi::ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let params = ReportParams::parse(query.as_deref().unwrap_or_default(), true).map_err(ApiError::InvalidRequest)?;
    let params = scoped(&caller, params)?;
    let report = report_for(&state, &caller, &params, Projections::activity_report_with_lists).await?;
    let figure = params.figure.clone().unwrap_or_default();
    let known = report.figures.cells().into_iter().any(|cell| cell.list.as_deref() == Some(figure.as_str()));
    if !known {
        return Err(ApiError::not_found(format!("no list `{figure}` in this report")));
    }
    let format = params.format;
    let body = blocking(move || {
        let rows = report.lists.get(&figure);
        let mut names = Vec::with_capacity(rows.len());
        for row in rows {
            let name = match row.beneficiary {
                Some(person) if may_see_name(&state, &caller, person) => name_of(&state, &caller, person)?,
                _ => None,
            };
            names.push(name);
        }
        Ok(match format {
            ReportFormat::Html => {
                let named: Vec<NamedRow<'_>> =
                    rows.iter().zip(names).map(|(row, name)| NamedRow { row, name }).collect();
                report_html::list_page(&report, &Question::of(&report), &figure, &named).into_bytes()
            }
            ReportFormat::Json | ReportFormat::Csv => {
                let rows = rows.iter().zip(names).map(|(row, name)| RowJson { row, name }).collect();
                serde_json::to_vec(&ListJson { figure: &figure, count: report.lists.get(&figure).len(), rows })?
            }
        })
    })
    .await?;
    Ok(match format {
        ReportFormat::Html => html_response(body),
        ReportFormat::Json | ReportFormat::Csv => json_response(body),
    })
}

fn may_see_name(state: &AppState, caller: &Caller, person: parcours_core::vocabulary::StreamId) -> bool {
    match caller.role {
        Role::Admin | Role::Auditor => true,
        Role::Coordinator => state.projections.read().reached_by(person, &caller.structures) == Some(true),
        Role::Evaluator => false,
    }
}

/// The stylesheet of the report's pages (the pages' policy allows no inline style).
#[utoipa::path(get, path = "/api/reports/report.css", tag = "figures",
    responses((status = 200, description = "The stylesheet", content_type = "text/css"),
        (status = 401, description = "no valid credential", body = super::openapi::ErrorBody)))]
pub async fn stylesheet(_caller: Caller) -> Response {
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8"), (header::CACHE_CONTROL, "private, max-age=3600")], STYLESHEET)
        .into_response()
}
