//! Published activity reports (see `crate::publication`): publish one, list them, get one back
//! byte for byte, and see what changed since.
//!
//! Who (CONTRACT §7): admins and the coordinators of every structure a report covers publish it
//! and read it back; auditors read every publication (comparing what was sent with what is true
//! is their work) but publish nothing; evaluators get neither, because a publication holds exact
//! figures and evaluators get small cells withheld (`GET /api/reports/activity`). A coordinator
//! gets 403 for a publication about another structure and for an id that exists nowhere alike.

use axum::extract::{Path, RawQuery, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use parcours_core::store::access::Role;
use parcours_core::vocabulary::{Actor, Date, Envelope, EventId, ReportPublished, Slug, Timestamp};
use parcours_projections::report::{ActivityReport, FamilyQuotientBands, FigureChange};
use serde::{Deserialize, Serialize};

use super::error::JsonBody;
use super::reports::{scoped, ReportFormat, ReportParams};
use super::{blocking, json_response, ApiError};
use crate::access::Caller;
use crate::publication::{self, Publication, PublicationError};
use crate::report_html::{self, CONTENT_SECURITY_POLICY};
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
    pub fn params(self) -> Result<ReportParams, String> {
        let mut params = ReportParams { from: Some(self.from), to: Some(self.to), ..ReportParams::default() };
        for (index, text) in self.structures.iter().enumerate() {
            let slug = Slug::new(text).map_err(|message| format!("structures[{index}]: {message}"))?;
            if !params.structures.contains(&slug) {
                params.structures.push(slug);
            }
        }
        if let Some(definitions) = self.definitions {
            params.definitions = definitions.parse().map_err(|message| format!("definitions: {message}"))?;
        }
        if let Some(cuts) = self.family_quotient_bands {
            params.bands = FamilyQuotientBands::new(cuts).map_err(|error| format!("family_quotient_bands: {error}"))?;
        }
        Ok(params)
    }
}

/// A publication as the API shows it: the event's `data`, with where and when it was recorded.
#[derive(Serialize)]
pub struct PublishedJson<'a> {
    /// The publication's id: its event's.
    pub id: EventId,
    /// The position of the publication's own event in the log.
    pub event_position: u64,
    pub published_on: Date,
    pub recorded_at: Timestamp,
    pub recorded_by: &'a Actor,
    #[serde(flatten)]
    pub publication: &'a ReportPublished,
}

impl<'a> PublishedJson<'a> {
    pub fn of(envelope: &'a Envelope, publication: &'a ReportPublished) -> PublishedJson<'a> {
        PublishedJson {
            id: envelope.id,
            event_position: envelope.position,
            published_on: envelope.occurred_on,
            recorded_at: envelope.recorded_at,
            recorded_by: &envelope.recorded_by,
            publication,
        }
    }
}

impl From<PublicationError> for ApiError {
    fn from(error: PublicationError) -> Self {
        match error {
            PublicationError::Store(error)
            | PublicationError::Fold(parcours_projections::RunnerError::Store(error)) => ApiError::Store(error),
            PublicationError::Append(error) => ApiError::Append(error),
            // Asking a question that cannot be answered now (an unknown structure) is the
            // caller's to fix; failing to answer again a question once answered is ours.
            PublicationError::Report(error) => super::reports::report_error(error),
            other => ApiError::NotReproducible(other.to_string()),
        }
    }
}

/// Whether the caller may read a publication: every structure it covers must be theirs.
fn may_read(caller: &Caller, publication: &ReportPublished) -> bool {
    match caller.role {
        Role::Admin | Role::Auditor => true,
        Role::Coordinator => publication.structures.iter().all(|structure| caller.may_follow(structure)),
        Role::Evaluator => false,
    }
}

/// The publication `id`, if the caller may read it.
fn readable(state: &AppState, caller: &Caller, id: &str) -> Result<(Envelope, ReportPublished), ApiError> {
    let Ok(id) = id.parse::<EventId>() else {
        return Err(ApiError::InvalidRequest(format!("`{id}` is not a publication id (a UUID)")));
    };
    match publication::find(&state.store, id)? {
        Some((envelope, published)) if may_read(caller, &published) => Ok((envelope, published)),
        Some(_) => Err(ApiError::Forbidden),
        None if caller.role == Role::Coordinator => Err(ApiError::Forbidden),
        None => Err(ApiError::not_found(format!("no published report {id}"))),
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
) -> Result<Response, ApiError> {
    let params = scoped(&caller, body.params().map_err(ApiError::InvalidRequest)?)?;
    let today = state.today();
    let query = params.query(today, true).map_err(ApiError::InvalidRequest)?;
    state.caught_up().await?;
    let body = blocking(move || {
        let (report, position) =
            publication::report_now(&state.projections.read(), &query).map_err(super::reports::report_error)?;
        let Publication { step, .. } = Publication::of(report, &query, position)?;
        let (envelope, published) = publication::record(&state.store, step, today, caller.actor)?;
        Ok(serde_json::to_vec(&PublishedJson::of(&envelope, &published))?)
    })
    .await?;
    Ok((StatusCode::CREATED, json_response(body)).into_response())
}

#[derive(Serialize)]
struct ListJson<'a> {
    reports: Vec<PublishedJson<'a>>,
}

/// The publications a caller may read, as the API and the command line list them.
pub fn list_body(all: &[(Envelope, ReportPublished)], caller: &Caller) -> Result<Vec<u8>, serde_json::Error> {
    let reports = all
        .iter()
        .filter(|(_, published)| may_read(caller, published))
        .map(|(envelope, published)| PublishedJson::of(envelope, published))
        .collect();
    serde_json::to_vec(&ListJson { reports })
}

/// The published reports the caller may read, oldest first.
#[utoipa::path(get, path = "/api/reports/published", operation_id = "list_publications", tag = "figures",
    responses((status = 200, description = "`{ reports }`: each publication's question, position and digests"),
        (status = 401, description = "no valid credential", body = super::openapi::ErrorBody),
        (status = 403, description = "outside the credential's rights", body = super::openapi::ErrorBody),
        (status = 503, description = "not available now; retry", body = super::openapi::ErrorBody)))]
pub async fn list(State(state): State<AppState>, caller: Caller) -> Result<Response, ApiError> {
    let body = blocking(move || Ok(list_body(&publication::published(&state.store)?, &caller)?)).await?;
    Ok(json_response(body))
}

/// Reads `format` (json, csv or html), the only parameter of these routes.
fn format_of(query: Option<&str>, html_or_json_only: bool) -> Result<ReportFormat, ApiError> {
    let mut format = ReportFormat::Json;
    for (name, value) in form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
        format = match (&*name, &*value) {
            ("format", "json") => ReportFormat::Json,
            ("format", "csv") if !html_or_json_only => ReportFormat::Csv,
            ("format", "html") => ReportFormat::Html,
            ("format", other) if html_or_json_only => {
                return Err(ApiError::InvalidRequest(format!("format: expected json or html, got `{other}`")))
            }
            ("format", other) => {
                return Err(ApiError::InvalidRequest(format!("format: expected json, csv or html, got `{other}`")))
            }
            (other, _) => return Err(ApiError::InvalidRequest(format!("unknown parameter `{other}`"))),
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
) -> Result<Response, ApiError> {
    let format = format_of(query.as_deref(), false)?;
    let body = blocking(move || {
        let (_, published) = readable(&state, &caller, &id)?;
        let reproduced = publication::reproduce(&state.store, &published)?;
        let publication::Reproduced { rendered, .. } = reproduced;
        Ok(rendered.bytes(format).to_vec())
    })
    .await?;
    Ok(bytes_response(format, body))
}

#[derive(Serialize)]
struct ChangesJson<'a> {
    publication: PublishedJson<'a>,
    /// The last position the published report counted, and that of the report it is compared with.
    published_position: u64,
    current_position: u64,
    changes: &'a [FigureChange],
}

/// What changed since a publication, as the API and the command line give it.
pub fn changes_body(
    envelope: &Envelope,
    published: &ReportPublished,
    changes: &publication::Changes,
    now: &ActivityReport,
    format: ReportFormat,
    timezone: chrono_tz::Tz,
) -> Result<Vec<u8>, serde_json::Error> {
    Ok(match format {
        ReportFormat::Html => report_html::changes_page(envelope, published, changes, now, timezone).into_bytes(),
        ReportFormat::Json | ReportFormat::Csv => serde_json::to_vec(&ChangesJson {
            publication: PublishedJson::of(envelope, published),
            published_position: changes.published_at,
            current_position: changes.now_at,
            changes: &changes.figures,
        })?,
    })
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
) -> Result<Response, ApiError> {
    let format = format_of(query.as_deref(), true)?;
    let shared = state.clone();
    let (envelope, published) = blocking(move || readable(&shared, &caller, &id)).await?;
    state.caught_up().await?;
    let body = blocking(move || {
        let question = publication::question(&published)?;
        let (now, now_at) = publication::report_now_with_lists(&state.projections.read(), &question)
            .map_err(super::reports::report_error)?;
        let changes = publication::changes_since(&state.store, &published, &now, now_at)?;
        Ok(changes_body(&envelope, &published, &changes, &now, format, state.settings.timezone)?)
    })
    .await?;
    Ok(bytes_response(format, body))
}
