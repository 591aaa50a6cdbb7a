//! Published reports (issue 8): a report, once sent to its funders, stays reproducible.
//!
//! Publishing records a `report_published` event in the stream of published reports
//! (`StreamId::published_reports`): the question, the last log position the report counted and
//! the SHA-256 of its bytes in JSON, CSV and the printable page. Reproducing folds the log from
//! position 0 up to that position again (`rebuild_until`), or computes it from the snapshot kept
//! when it was published (`crate::report_snapshot`), or reads it off projections that stand past
//! it when nothing since counts in a report, computes the same question, renders
//! it, and checks each digest before anything is given out: a mismatch means the code or the
//! definitions changed what a published figure means, and is refused loudly rather than served.
//!
//! Why one stream for every publication rather than each structure's own: a report may cover
//! several structures (a network's members) and no one of them owns it; a structure's stream
//! exists only once an admin recorded the structure and holds its records only; and the list of
//! publications is then one stream read, not a scan of the log. Publications are a few a year per
//! structure, so their being appended one after the other costs nothing.
//!
//! The bytes published are what an admin gets from `GET /api/reports/activity` (each structure's
//! own figures included when there are several) in JSON and CSV, and the printable page without
//! links to lists: links lead to today's lists, which a report as sent must not promise.

use parcours_core::store::{AppendError, Author, Store, StoreError, WriteScope};
use parcours_core::vocabulary::{
    Actor, Date, Envelope, EventId, NewEvent, ReportDigests, ReportKind, ReportPublished, Sha256Digest, Step, StreamId,
};
use parcours_projections::report::{
    changes, ActivityQuery, ActivityReport, DefinitionsVersion, FamilyQuotientBands, FigureChange, ReportError, Span,
};
use parcours_projections::{rebuild_until, ApplyError, Period, Projections, RunnerError};
use thiserror::Error;

use crate::report_formats::{render, RenderError, ReportFormat};

#[derive(Debug, Error)]
pub enum PublicationError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Append(#[from] AppendError),
    #[error(transparent)]
    Fold(#[from] RunnerError),
    #[error(transparent)]
    Report(#[from] ReportError),
    #[error("the report could not be written: {0}")]
    Render(#[from] RenderError),
    /// The recorded question can no longer be asked (a definitions version or bands this code
    /// does not know): the report cannot be reproduced.
    #[error("the published question cannot be asked again: {0}")]
    Question(String),
    #[error("the publication {0} was acknowledged but cannot be read back")]
    Unreadable(EventId),
    #[error("the log ends at position {last}, before the position {position} the report counted")]
    LogTooShort { position: u64, last: u64 },
    /// The figures recomputed from the same events are not the bytes that were sent.
    #[error(
        "the report recomputed as of position {position} does not give the published {format} bytes \
         (SHA-256 {found}, published {expected}): the code or the definitions changed what it means"
    )]
    DigestMismatch { position: u64, format: &'static str, expected: Sha256Digest, found: Sha256Digest },
}

impl From<ApplyError> for PublicationError {
    fn from(error: ApplyError) -> Self {
        PublicationError::Fold(RunnerError::Apply(error))
    }
}

/// A report's bytes in every format it is published in.
pub struct Rendered {
    pub json: Vec<u8>,
    pub csv: Vec<u8>,
    pub html: Vec<u8>,
}

impl Rendered {
    pub fn of(report: &ActivityReport) -> Result<Rendered, RenderError> {
        Ok(Rendered {
            json: render(report, ReportFormat::Json, false)?,
            csv: render(report, ReportFormat::Csv, false)?,
            html: render(report, ReportFormat::Html, false)?,
        })
    }

    pub fn digests(&self) -> ReportDigests {
        ReportDigests {
            json: Sha256Digest::of(&self.json),
            csv: Sha256Digest::of(&self.csv),
            html: Sha256Digest::of(&self.html),
        }
    }

    /// The bytes published in `format`; `None` for the spreadsheets, which are not recorded.
    pub fn bytes(&self, format: ReportFormat) -> Option<&[u8]> {
        match format {
            ReportFormat::Json => Some(&self.json),
            ReportFormat::Csv => Some(&self.csv),
            ReportFormat::Html => Some(&self.html),
            ReportFormat::Sheet(_) => None,
        }
    }

    /// Checks each format's bytes against the digests published.
    fn check(&self, published: &ReportPublished) -> Result<(), PublicationError> {
        let found = self.digests();
        let pairs = [
            ("JSON", published.sha256.json, found.json),
            ("CSV", published.sha256.csv, found.csv),
            ("HTML", published.sha256.html, found.html),
        ];
        match pairs.into_iter().find(|(_, expected, found)| expected != found) {
            Some((format, expected, found)) => {
                Err(PublicationError::DigestMismatch { position: published.position, format, expected, found })
            }
            None => Ok(()),
        }
    }
}

/// A report computed to be published: the step that records it, and its bytes.
pub struct Publication {
    pub step: ReportPublished,
    pub report: ActivityReport,
    pub rendered: Rendered,
}

impl Publication {
    /// The publication of `report`, computed for `query` from the log up to `position`.
    pub fn of(report: ActivityReport, query: &ActivityQuery, position: u64) -> Result<Publication, PublicationError> {
        let rendered = Rendered::of(&report)?;
        let step = ReportPublished {
            report: ReportKind::Activity,
            structures: report.structures.iter().map(|name| name.slug.clone()).collect(),
            from: query.period.from,
            to: query.period.to,
            definitions: query.definitions.code().to_owned(),
            family_quotient_bands: query.bands.cuts().to_vec(),
            position,
            sha256: rendered.digests(),
        };
        Ok(Publication { step, report, rendered })
    }
}

/// The report of `query` from projections as they stand, and the position they stand at (read
/// together, under one lock).
pub fn report_now(projections: &Projections, query: &ActivityQuery) -> Result<(ActivityReport, u64), ReportError> {
    Ok((projections.activity_report(query)?, projections.applied_position()))
}

/// [`report_now`] with the lists behind the figures, which [`changes_since`] compares.
pub fn report_now_with_lists(
    projections: &Projections,
    query: &ActivityQuery,
) -> Result<(ActivityReport, u64), ReportError> {
    Ok((projections.activity_report_with_lists(query)?, projections.applied_position()))
}

/// Records a publication, dated `today`, in the stream of published reports. The caller has
/// checked the actor's right to publish for these structures: the stream is no person's, so the
/// writer's scope by structure does not apply to it.
pub fn record(
    store: &Store,
    step: ReportPublished,
    today: Date,
    actor: Actor,
) -> Result<(Envelope, ReportPublished), PublicationError> {
    let id = EventId::generate();
    let event = NewEvent { id: Some(id), occurred_on: today, step: Step::ReportPublished(step) };
    let author = Author { actor, scope: WriteScope::Everything };
    store.append(StreamId::published_reports(), None, vec![event], author)?;
    // Read back for its position and time, which the store assigns.
    find(store, id)?.ok_or(PublicationError::Unreadable(id))
}

/// Every publication, oldest first.
pub fn published(store: &Store) -> Result<Vec<(Envelope, ReportPublished)>, StoreError> {
    Ok(store.read_stream(StreamId::published_reports(), None)?.into_iter().filter_map(publication_of).collect())
}

/// One publication by its event id; `None` for any other event.
pub fn find(store: &Store, id: EventId) -> Result<Option<(Envelope, ReportPublished)>, StoreError> {
    Ok(store.read_event(id)?.filter(|event| event.stream == StreamId::published_reports()).and_then(publication_of))
}

fn publication_of(envelope: Envelope) -> Option<(Envelope, ReportPublished)> {
    match &envelope.step {
        Step::ReportPublished(published) => {
            let published = published.clone();
            Some((envelope, published))
        }
        _ => None,
    }
}

/// The question a publication recorded, as the projections take it.
pub fn question(published: &ReportPublished) -> Result<ActivityQuery, PublicationError> {
    let unknown = |what: String| PublicationError::Question(what);
    let definitions: DefinitionsVersion = published.definitions.parse().map_err(unknown)?;
    let bands = FamilyQuotientBands::new(published.family_quotient_bands.clone())
        .map_err(|error| unknown(error.to_string()))?;
    let period = Period::new(published.from, published.to).map_err(|error| unknown(error.to_string()))?;
    Ok(ActivityQuery { period, structures: published.structures.clone(), definitions, bands, by_structure: true })
}

/// A publication reproduced from the log and checked against its digests.
pub struct Reproduced {
    pub report: ActivityReport,
    pub rendered: Rendered,
}

/// Folds the log up to the position the report counted, computes the same question and checks
/// that every format gives the bytes published.
pub fn reproduce(store: &Store, published: &ReportPublished) -> Result<Reproduced, PublicationError> {
    reproduce_with(store, published, Projections::activity_report)
}

/// [`reproduce`] with the lists behind the figures (the bytes are the same), which
/// [`changes_since`] compares: what the server keeps of a reproduction, for both routes.
pub fn reproduce_with_lists(store: &Store, published: &ReportPublished) -> Result<Reproduced, PublicationError> {
    reproduce_with(store, published, Projections::activity_report_with_lists)
}

/// [`reproduce`], the report computed by `report` (with or without its lists: the bytes are the same).
fn reproduce_with(
    store: &Store,
    published: &ReportPublished,
    report: impl FnOnce(&Projections, &ActivityQuery) -> Result<ActivityReport, ReportError>,
) -> Result<Reproduced, PublicationError> {
    let query = question(published)?;
    let projections = fold_until(store, published)?;
    checked(report(&projections, &query)?, published)
}

/// The log folded from position 0 up to the position a publication counted.
pub fn fold_until(store: &Store, published: &ReportPublished) -> Result<Projections, PublicationError> {
    let projections = rebuild_until(store, published.position, |_| {})?;
    let last = projections.applied_position();
    if last < published.position {
        return Err(PublicationError::LogTooShort { position: published.position, last });
    }
    Ok(projections)
}

/// The publication computed from `projections` that stand at its position (a fold up to it, or
/// the report's inputs kept at publication: `report_snapshot`), and checked; with the lists behind
/// its figures when `listed` (what [`changes_since`] compares; the bytes are the same).
pub fn reproduce_at(
    projections: &Projections,
    published: &ReportPublished,
    listed: bool,
) -> Result<Reproduced, PublicationError> {
    let query = question(published)?;
    let report =
        if listed { projections.activity_report_with_lists(&query)? } else { projections.activity_report(&query)? };
    checked(report, published)
}

/// The publication computed from `projections` that stand past its position ([`reproduce_at`]), when
/// nothing they applied since counts in an activity report: every later event is another
/// publication (`later` holds them, read from the log). `None` when one is not: the log must be
/// folded again up to the publication's position.
pub fn reproduce_from(
    projections: &Projections,
    later: &[Envelope],
    published: &ReportPublished,
    listed: bool,
) -> Result<Option<Reproduced>, PublicationError> {
    let at = projections.applied_position();
    let unchanged = at >= published.position
        && later.len() as u64 == at - published.position
        && later.iter().all(|event| event.stream == StreamId::published_reports());
    if !unchanged {
        return Ok(None);
    }
    Ok(Some(reproduce_at(projections, published, listed)?))
}

/// `report` rendered in every format and checked against the digests published.
fn checked(report: ActivityReport, published: &ReportPublished) -> Result<Reproduced, PublicationError> {
    let rendered = Rendered::of(&report)?;
    rendered.check(published)?;
    Ok(Reproduced { report, rendered })
}

/// What changed since a publication: the figures that differ between the report reproduced as
/// published and `now`, the same question computed from projections at position `now_at`.
pub struct Changes {
    pub published_at: u64,
    pub now_at: u64,
    pub then: ActivityReport,
    pub figures: Vec<FigureChange>,
}

/// `then` is the publication reproduced with its lists ([`reproduce_with_lists`]), `now` the same
/// question asked now, with its lists too ([`report_now_with_lists`]).
pub fn changes_since(
    store: &Store,
    published: &ReportPublished,
    then: ActivityReport,
    now: &ActivityReport,
    now_at: u64,
) -> Result<Changes, PublicationError> {
    let query = question(published)?;
    let span = Span { published_at: published.position, now_at };
    let figures = changes(&then, now, &query, span, |stream| -> Result<_, PublicationError> {
        Ok(store.read_stream(stream, None)?)
    })?;
    Ok(Changes { published_at: published.position, now_at, then, figures })
}
