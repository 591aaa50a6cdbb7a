//! The audit journal: what changed the meaning of recorded histories or who may read them, across
//! people and structures — corrections and retractions, erasures, publications of reports, tokens
//! created and revoked — newest first, filtered by period, structure and kind, and as CSV.
//!
//! Events of the log enter the journal through [`kind_of`], one arm per step kind; merges and
//! unmerges will enter the same way when the vocabulary has them (a variant of [`JournalKind`],
//! its arm in `kind_of`, its French word in `labels`). Tokens are not events: they come from the
//! store's token records, which keep when and by whom each was created and revoked.
//!
//! The journal walks the whole log (a page of events at a time): corrections and erasures are
//! indexed nowhere else, so a question costs a read of the log, whatever the journal's length. An
//! index kept by the projections (positions by journal kind) would make it proportional to the
//! lines asked for; it was not measured worth it at the demo's size.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use chrono_tz::Tz;
use parcours_core::rules::structures_of;
use parcours_core::store::access::Role;
use parcours_core::store::{Store, StoreError};
use parcours_core::vocabulary::{Date, Envelope, ErasureReason, EventId, Slug, Step, StepKind, StreamId, Timestamp};

use super::{reader, readers, Reader};
use crate::json::{opened_text, Identity};

/// What a line of the journal is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum JournalKind {
    Correction,
    Retraction,
    Erasure,
    Publication,
    TokenCreated,
    TokenRevoked,
}

impl JournalKind {
    pub const ALL: &'static [JournalKind] = &[
        JournalKind::Correction,
        JournalKind::Retraction,
        JournalKind::Erasure,
        JournalKind::Publication,
        JournalKind::TokenCreated,
        JournalKind::TokenRevoked,
    ];

    /// Its code in filters and CSV.
    pub fn code(self) -> &'static str {
        match self {
            JournalKind::Correction => "correction",
            JournalKind::Retraction => "retraction",
            JournalKind::Erasure => "erasure",
            JournalKind::Publication => "publication",
            JournalKind::TokenCreated => "token_created",
            JournalKind::TokenRevoked => "token_revoked",
        }
    }

    pub fn from_code(code: &str) -> Option<JournalKind> {
        JournalKind::ALL.iter().copied().find(|kind| kind.code() == code)
    }
}

/// The journal kind of an event of the log, if it has one.
fn kind_of(step: &Step) -> Option<JournalKind> {
    match step {
        Step::Corrected(correction) if correction.replacement.is_some() => Some(JournalKind::Correction),
        Step::Corrected(_) => Some(JournalKind::Retraction),
        Step::PersonalDataErased(_) => Some(JournalKind::Erasure),
        Step::ReportPublished(_) => Some(JournalKind::Publication),
        _ => None,
    }
}

/// What a line links to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Subject {
    Person(StreamId),
    /// A published report, by the id of its `report_published` event.
    Publication(EventId),
    /// A token, by its id (never the token).
    Token(String),
}

/// What a line says beyond its kind.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Detail {
    /// A correction or retraction: the type of the step corrected, and why.
    Correction {
        corrected: Option<StepKind>,
        reason: String,
    },
    Erasure(ErasureReason),
    Publication {
        from: Date,
        to: Date,
    },
    Token {
        role: Role,
        label: Option<String>,
    },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JournalRow {
    /// When it was recorded.
    pub at: Timestamp,
    pub kind: JournalKind,
    /// Who did it.
    pub actor: Reader,
    /// The structures concerned: the person's (registered in or referred to), the report's, the
    /// coordinator token's.
    pub structures: Vec<Slug>,
    pub subject: Subject,
    pub detail: Detail,
}

/// The filters; each is optional.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct JournalQuery {
    /// The first and last days of the period, in the server's time zone (recording times).
    pub from: Option<Date>,
    pub to: Option<Date>,
    pub structure: Option<Slug>,
    pub kind: Option<JournalKind>,
}

impl JournalQuery {
    fn keeps_time(&self, at: Timestamp, timezone: Tz) -> bool {
        let day = Date(at.0.with_timezone(&timezone).date_naive());
        self.from.is_none_or(|from| day >= from) && self.to.is_none_or(|to| day <= to)
    }

    fn keeps(&self, row: &JournalRow) -> bool {
        self.structure.as_ref().is_none_or(|structure| row.structures.contains(structure))
    }
}

/// How many events the walk reads at a time.
const WALK_PAGE: usize = 10_000;

/// A person's structures and the type of each of their events, read once per person.
struct PersonFacts {
    structures: Vec<Slug>,
    kinds: BTreeMap<EventId, StepKind>,
    /// Whether the free text of their events opens (the journal's readers may read identities;
    /// an erased person's text never opens).
    identity: Identity,
}

impl PersonFacts {
    fn read(store: &Store, stream: StreamId) -> Result<PersonFacts, StoreError> {
        let events = store.read_stream(stream, None)?;
        let structures = structures_of(events.iter().map(|event| (event.id, event.occurred_on, &event.step)));
        let kinds = events.iter().map(|event| (event.id, event.step.kind())).collect();
        let identity = Identity::open_unless_erased(&events);
        Ok(PersonFacts { structures: structures.into_iter().collect(), kinds, identity })
    }
}

/// The journal's lines for `query`, newest first.
pub fn journal(store: &Store, query: &JournalQuery, timezone: Tz) -> Result<Vec<JournalRow>, StoreError> {
    let readers = readers(store)?;
    let wanted = |kind: JournalKind| query.kind.is_none_or(|wanted| wanted == kind);
    let mut people: BTreeMap<StreamId, PersonFacts> = BTreeMap::new();
    let mut rows = Vec::new();
    let mut after = 0;
    loop {
        let events = store.read_log(after, WALK_PAGE)?;
        let Some(last) = events.last() else { break };
        after = last.position;
        for envelope in &events {
            let Some(kind) = kind_of(&envelope.step).filter(|kind| wanted(*kind)) else { continue };
            if !query.keeps_time(envelope.recorded_at, timezone) {
                continue;
            }
            if let Some(row) = log_row(store, &mut people, &readers, envelope, kind)? {
                if query.keeps(&row) {
                    rows.push(row);
                }
            }
        }
    }
    for (record, revocation) in store.tokens()? {
        let detail = Detail::Token { role: record.role, label: record.label.clone() };
        let subject = Subject::Token(record.id.clone());
        let mut lines = vec![(JournalKind::TokenCreated, record.created_at, &record.created_by)];
        if let Some(revocation) = &revocation {
            lines.push((JournalKind::TokenRevoked, revocation.at, &revocation.by));
        }
        for (kind, at, by) in lines {
            let row = JournalRow {
                at,
                kind,
                actor: reader(&readers, by),
                structures: record.structures.clone(),
                subject: subject.clone(),
                detail: detail.clone(),
            };
            if wanted(kind) && query.keeps_time(at, timezone) && query.keeps(&row) {
                rows.push(row);
            }
        }
    }
    // Newest first; lines recorded at the same millisecond keep the log's order, reversed.
    rows.reverse();
    rows.sort_by_key(|row| std::cmp::Reverse(row.at));
    Ok(rows)
}

fn log_row(
    store: &Store,
    people: &mut BTreeMap<StreamId, PersonFacts>,
    readers: &BTreeMap<String, Reader>,
    envelope: &Envelope,
    kind: JournalKind,
) -> Result<Option<JournalRow>, StoreError> {
    let actor = reader(readers, &envelope.recorded_by);
    let at = envelope.recorded_at;
    if let Step::ReportPublished(published) = &envelope.step {
        return Ok(Some(JournalRow {
            at,
            kind,
            actor,
            structures: published.structures.clone(),
            subject: Subject::Publication(envelope.id),
            detail: Detail::Publication { from: published.from, to: published.to },
        }));
    }
    let facts = match people.entry(envelope.stream) {
        std::collections::btree_map::Entry::Occupied(entry) => entry.into_mut(),
        std::collections::btree_map::Entry::Vacant(entry) => entry.insert(PersonFacts::read(store, envelope.stream)?),
    };
    let opened = opened_text(store, envelope, facts.identity)?;
    let detail = match opened.as_ref().unwrap_or(&envelope.step) {
        Step::Corrected(correction) => Detail::Correction {
            corrected: facts.kinds.get(&correction.corrects).copied(),
            reason: correction.reason.clone(),
        },
        Step::PersonalDataErased(erased) => Detail::Erasure(erased.reason),
        // A kind `kind_of` gives and this does not detail yet.
        _ => return Ok(None),
    };
    Ok(Some(JournalRow {
        at,
        kind,
        actor,
        structures: facts.structures.clone(),
        subject: Subject::Person(envelope.stream),
        detail,
    }))
}

/// The journal as CSV, one line per row with a header row: codes and ids rather than words, for
/// a spreadsheet or a script.
pub fn journal_csv(rows: &[JournalRow]) -> String {
    let mut csv = String::from("recorded_at,kind,actor,actor_role,actor_label,structures,subject,about,reason\n");
    for row in rows {
        let subject = match &row.subject {
            Subject::Person(stream) => stream.to_string(),
            Subject::Publication(event) => event.to_string(),
            Subject::Token(id) => id.clone(),
        };
        let (about, reason) = match &row.detail {
            Detail::Correction { corrected, reason } => {
                (corrected.map(|kind| kind.code().to_owned()).unwrap_or_default(), reason.clone())
            }
            Detail::Erasure(reason) => (String::new(), reason.code().to_owned()),
            Detail::Publication { from, to } => (format!("{from}/{to}"), String::new()),
            Detail::Token { role, label } => (role.code().to_owned(), label.clone().unwrap_or_default()),
        };
        let structures: Vec<&str> = row.structures.iter().map(Slug::as_str).collect();
        let fields = [
            row.at.to_string(),
            row.kind.code().to_owned(),
            row.actor.actor.0.clone(),
            row.actor.role.map(|role| role.code().to_owned()).unwrap_or_default(),
            row.actor.label.clone().unwrap_or_default(),
            structures.join(" "),
            subject,
            about,
            reason,
        ];
        let fields: Vec<String> = fields.iter().map(|field| csv_field(field)).collect();
        let _ = writeln!(csv, "{}", fields.join(","));
    }
    csv
}

/// A CSV field, quoted when it holds a comma, a quote or a line break (RFC 4180); a field that a
/// spreadsheet would run as a formula is prefixed with a quote mark.
fn csv_field(text: &str) -> String {
    let text = if text.starts_with(['=', '+', '-', '@']) { format!("'{text}") } else { text.to_owned() };
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text
    }
}
