//! The bytes of a report in each of its formats (JSON, CSV, the printable French page, and the
//! spreadsheets of `crate::workbook`), and of the publications' listings: one writer for the API,
//! the command line and publication, so that the digests a publication records are of the very
//! bytes every door gives out. Publications record the JSON, CSV and page only: the spreadsheets
//! are made from the same report, and the bytes of the three are left as they were.

use chrono_tz::Tz;
use parcours_core::vocabulary::{Actor, Date, Envelope, EventId, ReportPublished, Timestamp};
use parcours_projections::report::{ActivityReport, FigureChange};
use serde::Serialize;
use thiserror::Error;

use crate::attachment;
use crate::publication::Changes;
use crate::report_html::{self, Question};
use crate::workbook::{name_of, report_workbook, SheetFormat};

#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub enum ReportFormat {
    #[default]
    Json,
    Csv,
    Html,
    /// XLSX, or CSV for French Excel (CONTRACT §11).
    Sheet(SheetFormat),
}

impl ReportFormat {
    /// The format named in a query string or on the command line.
    pub fn from_code(code: &str) -> Option<ReportFormat> {
        Some(match code {
            "json" => ReportFormat::Json,
            "csv" => ReportFormat::Csv,
            "html" => ReportFormat::Html,
            "xlsx" => ReportFormat::Sheet(SheetFormat::Xlsx),
            "csv-fr" => ReportFormat::Sheet(SheetFormat::CsvFr),
            _ => return None,
        })
    }

    pub fn content_type(self) -> &'static str {
        match self {
            ReportFormat::Json => "application/json",
            ReportFormat::Csv => "text/csv; charset=utf-8",
            ReportFormat::Html => "text/html; charset=utf-8",
            ReportFormat::Sheet(format) => format.content_type(),
        }
    }

    fn extension(self) -> &'static str {
        match self {
            ReportFormat::Json => "json",
            ReportFormat::Csv => "csv",
            ReportFormat::Html => "html",
            ReportFormat::Sheet(format) => format.extension(),
        }
    }
}

#[derive(Debug, Error)]
pub enum RenderError {
    #[error("the JSON could not be written: {0}")]
    Json(#[from] serde_json::Error),
    #[error("the XLSX file could not be written: {0}")]
    Xlsx(#[from] rust_xlsxwriter::XlsxError),
}

/// The report in one of its formats; `linked` pages link each count to its list.
pub fn render(report: &ActivityReport, format: ReportFormat, linked: bool) -> Result<Vec<u8>, RenderError> {
    Ok(match format {
        ReportFormat::Json => serde_json::to_vec(report)?,
        ReportFormat::Csv => report.to_csv().into_bytes(),
        ReportFormat::Html => report_html::page(report, linked.then(|| Question::of(report)).as_ref()).into_bytes(),
        ReportFormat::Sheet(format) => format.bytes(&report_workbook(report))?,
    })
}

/// The name of a download of `report` (or of the list behind one of its figures, `what`): the
/// structures by name and the period.
pub fn file_name(report: &ActivityReport, what: &str, format: ReportFormat) -> String {
    let names: Vec<String> = report.structures.iter().map(name_of).collect();
    attachment::file_name(what, &names, report.from, report.to, format.extension())
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
        ReportFormat::Json | ReportFormat::Csv | ReportFormat::Sheet(_) => serde_json::to_vec(&ChangesJson {
            publication: PublishedJson::of(envelope, published),
            published_position: changes.published_at,
            current_position: changes.now_at,
            changes: &changes.figures,
        })?,
    })
}
