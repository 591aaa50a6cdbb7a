//! Published activity reports (see `crate::publication`): publish one, list them, get one back
//! byte for byte, and see what changed since.
//!
//! Who (CONTRACT §7): `app::publications` and `app::disclosure`. Admins and the coordinators of
//! every structure a report covers publish it and read it back; auditors read every publication
//! but publish nothing; evaluators get neither.

use axum::extract::{Path, RawQuery, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use parcours_core::vocabulary::{Date, Slug};
use parcours_projections::report::FamilyQuotientBands;
use serde::Deserialize;

use super::error::JsonBody;
use super::json_response;
use crate::app::publications::{self, ChangesSince};
use crate::app::reports::ReportQuestion;
use crate::app::{blocking, AppError, Caller};
use crate::report_formats::{changes_body, list_body, PublishedJson, ReportFormat};
use crate::report_html::CONTENT_SECURITY_POLICY;
use crate::state::AppState;

/// The question of a report to publish.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PublishBody {
    /// The structures' slugs; a coordinator who names none publishes for all of theirs.
    #[serde(default)]
    structures: Vec<String>,
    #[schema(value_type = String, format = Date)]
    from: Date,
    #[schema(value_type = String, format = Date)]
    to: Date,
    /// The version of the definitions (`v1`); the latest by default.
    definitions: Option<String>,
    /// Family-quotient thresholds in euros, increasing (`[700]` by default).
    family_quotient_bands: Option<Vec<u32>>,
}

impl PublishBody {
    /// The question as the report routes read it, each bad value named.
    fn question(self) -> Result<ReportQuestion, String> {
        let mut question = ReportQuestion { from: Some(self.from), to: Some(self.to), ..ReportQuestion::default() };
        for (index, text) in self.structures.iter().enumerate() {
            question.add_structure(Slug::new(text).map_err(|message| format!("structures[{index}]: {message}"))?);
        }
        if let Some(definitions) = self.definitions {
            question.definitions = definitions.parse().map_err(|message| format!("definitions: {message}"))?;
        }
        if let Some(cuts) = self.family_quotient_bands {
            question.bands =
                FamilyQuotientBands::new(cuts).map_err(|error| format!("family_quotient_bands: {error}"))?;
        }
        Ok(question)
    }
}

/// Publishes an activity report: computes it as of the log's current position and records that
/// position with the SHA-256 of its JSON, CSV and printable bytes.
#[utoipa::path(post, path = "/api/reports/activity/publish", request_body = PublishBody, tag = "figures",
    responses((status = 201, description = "Published: `{ id, event_position, position, sha256, ... }`"),
        (status = 400, description = "a bad question (named)", body = super::openapi::ErrorBody),
        (status = 401, description = "no valid credential", body = super::openapi::ErrorBody),
        (status = 403, description = "outside the credential's rights", body = super::openapi::ErrorBody),
        (status = 404, description = "unknown structure", body = super::openapi::ErrorBody),
        (status = 503, description = "not available now; retry", body = super::openapi::ErrorBody)))]
pub async fn publish(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody<PublishBody>,
) -> Result<Response, AppError> {
    let question = body.question().map_err(AppError::InvalidRequest)?;
    let (envelope, published) = publications::publish(&state, &caller, question).await?;
    let body = serde_json::to_vec(&PublishedJson::of(&envelope, &published))?;
    Ok((StatusCode::CREATED, json_response(body)).into_response())
}

/// The published reports the caller may read, oldest first.
#[utoipa::path(get, path = "/api/reports/published", operation_id = "list_publications", tag = "figures",
    responses((status = 200, description = "`{ reports }`: each publication's question, position and digests"),
        (status = 401, description = "no valid credential", body = super::openapi::ErrorBody),
        (status = 403, description = "outside the credential's rights", body = super::openapi::ErrorBody),
        (status = 503, description = "not available now; retry", body = super::openapi::ErrorBody)))]
pub async fn list(State(state): State<AppState>, caller: Caller) -> Result<Response, AppError> {
    let body = blocking(move || Ok(list_body(&publications::readable_list(&state.store, &caller)?)?)).await?;
    Ok(json_response(body))
}

/// Reads `format` (json, csv or html), the only parameter of these routes.
fn format_of(query: Option<&str>, html_or_json_only: bool) -> Result<ReportFormat, AppError> {
    let mut format = ReportFormat::Json;
    for (name, value) in form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
        format = match (&*name, &*value) {
            ("format", "json") => ReportFormat::Json,
            ("format", "csv") if !html_or_json_only => ReportFormat::Csv,
            ("format", "html") => ReportFormat::Html,
            ("format", other) if html_or_json_only => {
                return Err(AppError::InvalidRequest(format!("format: expected json or html, got `{other}`")))
            }
            ("format", other) => {
                return Err(AppError::InvalidRequest(format!("format: expected json, csv or html, got `{other}`")))
            }
            (other, _) => return Err(AppError::InvalidRequest(format!("unknown parameter `{other}`"))),
        };
    }
    Ok(format)
}

/// The bytes of one format, as they are: no re-encoding between the check and the answer.
fn bytes_response(format: ReportFormat, body: Vec<u8>) -> Response {
    let content_type = match format {
        ReportFormat::Json => "application/json",
        ReportFormat::Csv => "text/csv; charset=utf-8",
        ReportFormat::Html => "text/html; charset=utf-8",
    };
    let mut response = ([(header::CONTENT_TYPE, content_type)], body).into_response();
    if format == ReportFormat::Html {
        if let Ok(policy) = header::HeaderValue::from_str(CONTENT_SECURITY_POLICY) {
            response.headers_mut().insert(header::CONTENT_SECURITY_POLICY, policy);
        }
    }
    response
}

/// A published report, recomputed from the log as of the position it counted, in the bytes that
/// were published: each digest is checked before the answer (a mismatch is a 500
/// `not_reproducible`, never other bytes).
#[utoipa::path(get, path = "/api/reports/published/{id}", tag = "figures",
    params(("id" = String, Path, description = "The publication's id"),
        ("format" = Option<String>, Query, description = "json, csv or html")),
    responses((status = 200, description = "The report as published, byte for byte"),
        (status = 400, description = "a bad parameter (named)", body = super::openapi::ErrorBody),
        (status = 401, description = "no valid credential", body = super::openapi::ErrorBody),
        (status = 403, description = "outside the credential's rights", body = super::openapi::ErrorBody),
        (status = 404, description = "no such publication", body = super::openapi::ErrorBody),
        (status = 500, description = "the report no longer gives its published bytes", body = super::openapi::ErrorBody),
        (status = 503, description = "not available now; retry", body = super::openapi::ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Response, AppError> {
    let format = format_of(query.as_deref(), false)?;
    let reproduced = publications::reproduce(&state, &caller, id).await?;
    Ok(bytes_response(format, reproduced.rendered.bytes(format).to_vec()))
}

/// What changed since a publication: figure by figure, the values then and now, the rows that
/// went or came, and the events recorded since that made each difference.
#[utoipa::path(get, path = "/api/reports/published/{id}/changes", tag = "figures",
    params(("id" = String, Path, description = "The publication's id"),
        ("format" = Option<String>, Query, description = "json or html")),
    responses((status = 200, description = "`{ publication, published_position, current_position, changes }`, or a French page"),
        (status = 400, description = "a bad parameter (named)", body = super::openapi::ErrorBody),
        (status = 401, description = "no valid credential", body = super::openapi::ErrorBody),
        (status = 403, description = "outside the credential's rights", body = super::openapi::ErrorBody),
        (status = 404, description = "no such publication", body = super::openapi::ErrorBody),
        (status = 500, description = "the report no longer gives its published bytes", body = super::openapi::ErrorBody),
        (status = 503, description = "not available now; retry", body = super::openapi::ErrorBody)))]
pub async fn changes(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Response, AppError> {
    let format = format_of(query.as_deref(), true)?;
    let ChangesSince { envelope, published, changes, now } = publications::changes(&state, &caller, id).await?;
    let timezone = state.settings.timezone;
    let body = blocking(move || Ok(changes_body(&envelope, &published, &changes, &now, format, timezone)?)).await?;
    Ok(bytes_response(format, body))
}
