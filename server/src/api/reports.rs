//! The activity report (CONTRACT §8): `GET /api/reports/activity` in JSON, CSV or a printable
//! French page, and `GET /api/reports/activity/list`, the people behind one of its figures.
//!
//! Who sees what (CONTRACT §7) is `app::disclosure`'s: evaluators get the report only, summed
//! over the structures asked, small cells withheld, no lists and no links.

use axum::extract::{RawQuery, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use parcours_core::vocabulary::{Date, Slug};
use serde::Serialize;

use super::{download_response, json_response};
use crate::app::reports::{self, FigureList, Lists, ReportQuestion};
use crate::app::{blocking, disclosure, AppError, Caller};
use crate::report_formats::{file_name, render, RenderError, ReportFormat};
use crate::report_html::{self, figure_label, NamedRow, Question, CONTENT_SECURITY_POLICY, STYLESHEET};
use crate::state::AppState;
use crate::workbook::list_workbook;

/// A report's query string, read: the question, the format, and the list asked for (list route).
#[derive(Default)]
struct ReportParams {
    question: ReportQuestion,
    format: ReportFormat,
    figure: Option<String>,
}

impl ReportParams {
    /// Reads a query string: `structure` may repeat and hold several slugs separated by commas;
    /// an unknown parameter or a bad value is an error naming it.
    fn parse(query: &str, with_figure: bool) -> Result<ReportParams, String> {
        let mut params = ReportParams::default();
        for (name, value) in form_urlencoded::parse(query.as_bytes()) {
            let value = value.trim();
            match &*name {
                "structure" => {
                    for slug in value.split(',').map(str::trim).filter(|slug| !slug.is_empty()) {
                        let slug = Slug::new(slug).map_err(|message| format!("structure: {message}"))?;
                        params.question.add_structure(slug);
                    }
                }
                "from" => params.question.from = Some(date("from", value)?),
                "to" => params.question.to = Some(date("to", value)?),
                "definitions" => {
                    params.question.definitions = value.parse().map_err(|message| format!("definitions: {message}"))?
                }
                "family_quotient_bands" => {
                    params.question.bands = value.parse().map_err(|error| format!("family_quotient_bands: {error}"))?;
                }
                "format" => {
                    params.format = match ReportFormat::from_code(value) {
                        Some(ReportFormat::Csv) | None if with_figure => {
                            return Err(format!("format: expected json, html, xlsx or csv-fr, got `{value}`"))
                        }
                        Some(format) => format,
                        None => return Err(format!("format: expected json, csv, html, xlsx or csv-fr, got `{value}`")),
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
}

fn date(name: &str, text: &str) -> Result<Date, String> {
    text.parse().map_err(|_| format!("{name}: `{text}` is not a date (YYYY-MM-DD)"))
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
        ("format" = Option<String>, Query, description = "json, csv, html, xlsx (one sheet per section, the definitions on their own) or csv-fr (`;`, BOM, decimal comma, French headers)")),
    responses((status = 200, description = "The report, as JSON, CSV, a printable French page, XLSX or CSV for French Excel; files carry `Content-Disposition: attachment` naming the structures and the period"),
        (status = 400, description = "a bad question (named)", body = super::openapi::ErrorBody),
        (status = 401, description = "no valid credential", body = super::openapi::ErrorBody),
        (status = 403, description = "outside the credential's rights", body = super::openapi::ErrorBody),
        (status = 404, description = "unknown structure or list", body = super::openapi::ErrorBody),
        (status = 503, description = "not available now; retry", body = super::openapi::ErrorBody)))]
pub async fn activity(
    State(state): State<AppState>,
    caller: Caller,
    RawQuery(query): RawQuery,
) -> Result<Response, AppError> {
    let params = ReportParams::parse(query.as_deref().unwrap_or_default(), false).map_err(AppError::InvalidRequest)?;
    let report = reports::report(&state, &caller, params.question, Lists::Without).await?;
    let format = params.format;
    let linked = disclosure::report_links(&caller);
    let (body, report) = blocking(move || Ok((render(&report, format, linked)?, report))).await?;
    Ok(match format {
        ReportFormat::Json => json_response(body),
        ReportFormat::Html => html_response(body),
        ReportFormat::Csv | ReportFormat::Sheet(_) => {
            download_response(format.content_type(), &file_name(&report, "Rapport d'activité", format), body)
        }
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
        ("format" = Option<String>, Query, description = "json, html, xlsx or csv-fr")),
    responses((status = 200, description = "The rows behind the figure; files carry `Content-Disposition: attachment`"),
        (status = 400, description = "a bad question (named)", body = super::openapi::ErrorBody),
        (status = 401, description = "no valid credential", body = super::openapi::ErrorBody),
        (status = 403, description = "outside the credential's rights", body = super::openapi::ErrorBody),
        (status = 404, description = "unknown structure or list", body = super::openapi::ErrorBody),
        (status = 503, description = "not available now; retry", body = super::openapi::ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    RawQuery(query): RawQuery,
) -> Result<Response, AppError> {
    let params = ReportParams::parse(query.as_deref().unwrap_or_default(), true).map_err(AppError::InvalidRequest)?;
    let figure = params.figure.unwrap_or_default();
    let list = reports::figure_list(&state, &caller, params.question, figure).await?;
    let format = params.format;
    let (body, name) = blocking(move || {
        let FigureList { report, figure, .. } = &list;
        let named =
            || -> Vec<NamedRow<'_>> { list.rows().map(|(row, name)| NamedRow { row, name: name.clone() }).collect() };
        let body = match format {
            ReportFormat::Html => report_html::list_page(report, &Question::of(report), figure, &named()).into_bytes(),
            ReportFormat::Sheet(sheet) => {
                sheet.bytes(&list_workbook(report, figure, &named())).map_err(RenderError::from)?
            }
            ReportFormat::Json | ReportFormat::Csv => {
                let rows = list.rows().map(|(row, name)| RowJson { row, name: name.clone() }).collect();
                serde_json::to_vec(&ListJson { figure, count: report.lists.get(figure).len(), rows })?
            }
        };
        let what = format!("Liste - {}", figure_label(figure));
        Ok((body, file_name(report, &what, format)))
    })
    .await?;
    Ok(match format {
        ReportFormat::Html => html_response(body),
        ReportFormat::Sheet(_) => download_response(format.content_type(), &name, body),
        ReportFormat::Json | ReportFormat::Csv => json_response(body),
    })
}

/// The stylesheet of the report's pages (the pages' policy allows no inline style).
#[utoipa::path(get, path = "/api/reports/report.css", tag = "figures",
    responses((status = 200, description = "The stylesheet", content_type = "text/css"),
        (status = 401, description = "no valid credential", body = super::openapi::ErrorBody)))]
pub async fn stylesheet(_caller: Caller) -> Response {
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8"), (header::CACHE_CONTROL, "private, max-age=3600")], STYLESHEET)
        .into_response()
}
