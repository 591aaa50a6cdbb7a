//! The bytes of a report in each of its formats (JSON, CSV, the printable French page), and of
//! the publications' listings: one writer for the API, the command line and publication, so that
//! the digests a publication records are of the very bytes every door gives out.

use chrono_tz::Tz;
use parcours_core::vocabulary::{Actor, Date, Envelope, EventId, ReportPublished, Timestamp};
use parcours_projections::report::{ActivityReport, FigureChange};
use serde::Serialize;

use crate::publication::Changes;
use crate::report_html::{self, Question};

#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub enum ReportFormat {
    #[default]
    Json,
    Csv,
    Html,
}

/// The report in one of its formats; `linked` pages link each count to its list.
pub fn render(report: &ActivityReport, format: ReportFormat, linked: bool) -> Result<Vec<u8>, serde_json::Error> {
    Ok(match format {
        ReportFormat::Json => serde_json::to_vec(report)?,
        ReportFormat::Csv => report.to_csv().into_bytes(),
        ReportFormat::Html => report_html::page(report, linked.then(|| Question::of(report)).as_ref()).into_bytes(),
    })
}

/// A publication as shown: the event's `data`, with where and when it was recorded.
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

#[derive(Serialize)]
struct ListJson<'a> {
    reports: Vec<PublishedJson<'a>>,
}

/// The publications listed, as the API and the command line list them.
pub fn list_body(publications: &[(Envelope, ReportPublished)]) -> Result<Vec<u8>, serde_json::Error> {
    let reports = publications.iter().map(|(envelope, published)| PublishedJson::of(envelope, published)).collect();
    serde_json::to_vec(&ListJson { reports })
}

#[derive(Serialize)]
struct ChangesJson<'a> {
    publication: PublishedJson<'a>,
    /// The last position the published report counted, and that of the report it is compared with.
    published_position: u64,
    current_position: u64,
    changes: &'a [FigureChange],
}

/// What changed since a publication, as the API and the command line give it (JSON, or the
/// French page for `Html`).
pub fn changes_body(
    envelope: &Envelope,
    published: &ReportPublished,
    changes: &Changes,
    now: &ActivityReport,
    format: ReportFormat,
    timezone: Tz,
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
