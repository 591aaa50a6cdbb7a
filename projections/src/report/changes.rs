//! What changed in a published report: the figures whose value differs between the report as it
//! was published (the log up to its position) and the same question asked of the log now, each
//! with the rows behind it that went or came, and the events recorded since that made the
//! difference — late steps and corrections.
//!
//! Rows say who a difference is about: a figure is the length (or the sum) of its list, so its
//! value changes only where someone's share of it — the number of their rows, the hours those
//! rows hold — changed (a row whose detail changed but counts the same moves no figure, and is
//! left out). A person's rows depend on their own stream only (and on those of the records it
//! was merged with, CONTRACT §10), so the events behind a person's share are found by folding
//! those streams alone, up to the publication and then one later event
//! at a time, and keeping the events after which that share changed. Figures without a list of
//! their own (rates, shares, agreed hours) are traced through the lists they are computed from
//! (`basis`); agreed hours through the structures' own records. Committees, which are meetings
//! rather than people, through the people each committee reviewed (`COMMITTEE_ATTENDANCE`).

use std::collections::{BTreeMap, BTreeSet};

use parcours_core::vocabulary::{Actor, Date, Envelope, EventId, Hours, Slug, Step, StepKind, StreamId, Timestamp};
use serde::Serialize;

use super::activity::{ActivityQuery, ActivityReport};
use super::cells::{FigureCell, Value};
use super::figure::{GROUP_ATTENDANCE, PATHWAY_DAYS};
use super::lists::{gather, hours_of, months_of, Filed, Lists, Row, COMMITTEE_ATTENDANCE};
use super::sections::Figures;
use crate::disclosed::Disclosed;
use crate::projections::{ApplyError, Projections};
use crate::structures::StructureIx;

/// A figure as the report gives it: its value and, in tables, its share of the total.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize)]
pub struct Reading {
    pub value: Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub share: Option<Disclosed>,
}

/// One figure whose value differs.
#[derive(Clone, PartialEq, Eq, Debug, Serialize)]
pub struct FigureChange {
    /// The structure whose own part of the report holds the figure; `null` for the whole report.
    pub structure: Option<Slug>,
    /// The figure's id (`people.exited`, `profile.by_gender.female`...).
    pub figure: String,
    /// The figure family whose definition applies.
    pub definition: &'static str,
    /// `null` when the report had no such cell (a table lists only its non-empty rows).
    pub then: Option<Reading>,
    pub now: Option<Reading>,
    /// The rows behind the figure that are gone, and those that came.
    pub removed: Vec<Row>,
    pub added: Vec<Row>,
    /// The events recorded after the publication that changed the figure, in log order.
    pub events: Vec<Cause>,
}

/// An event behind a difference, as the log has it.
#[derive(Clone, PartialEq, Eq, Debug, Serialize)]
pub struct Cause {
    pub id: EventId,
    pub position: u64,
    /// The stream: a person, or a structure's own stream.
    pub stream: StreamId,
    #[serde(rename = "type")]
    pub kind: StepKind,
    pub occurred_on: Date,
    pub recorded_at: Timestamp,
    pub recorded_by: Actor,
    /// For a correction: the event it corrects.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub corrects: Option<EventId>,
}

impl From<&Envelope> for Cause {
    fn from(envelope: &Envelope) -> Cause {
        Cause {
            id: envelope.id,
            position: envelope.position,
            stream: envelope.stream,
            kind: envelope.step.kind(),
            occurred_on: envelope.occurred_on,
            recorded_at: envelope.recorded_at,
            recorded_by: envelope.recorded_by.clone(),
            corrects: match &envelope.step {
                Step::Corrected(correction) => Some(correction.corrects),
                _ => None,
            },
        }
    }
}

/// The log between the two reports: what `changes` reads of it.
pub struct Span {
    /// The last position the published report counted.
    pub published_at: u64,
    /// The last position the report of now counted.
    pub now_at: u64,
}

/// The figures that differ between `then` (the published report) and `now` (the same question,
/// asked of the log now), whole report first, then each structure's own part; in each part, in
/// the order of the report's cells. `stream` gives one stream's events (any positions: those past
/// `span.now_at` are left out).
pub fn changes<E: From<ApplyError>>(
    then: &ActivityReport,
    now: &ActivityReport,
    query: &ActivityQuery,
    span: Span,
    mut stream: impl FnMut(StreamId) -> Result<Vec<Envelope>, E>,
) -> Result<Vec<FigureChange>, E> {
    let parts = parts(then, now);
    let mut pending: Vec<Pending> = Vec::new();
    for (index, part) in parts.iter().enumerate() {
        for (then_cell, now_cell) in paired_cells(&part.then.cells, &part.now.cells) {
            let reading = |cell: Option<&FigureCell>| cell.map(|cell| Reading { value: cell.value, share: cell.share });
            let (before, after) = (reading(then_cell), reading(now_cell));
            if before == after {
                continue;
            }
            let Some(cell) = now_cell.or(then_cell) else { continue };
            let basis = basis(cell);
            // The rows shown: those of the figure's own list, or of what it is computed from.
            let shown = |list: &str| match &cell.list {
                Some(own) => own == list,
                None => !is_attendance(list),
            };
            let (mut people, mut removed, mut added) = (BTreeSet::new(), Vec::new(), Vec::new());
            for list in &basis.lists {
                let (gone, came) = contributing(list, part.then.lists.get(list), part.now.lists.get(list));
                people.extend(gone.iter().chain(&came).filter_map(|row| row.beneficiary));
                if shown(list) {
                    removed.extend(gone);
                    added.extend(came);
                }
            }
            for rows in [&mut removed, &mut added] {
                rows.sort();
                rows.dedup();
            }
            let change = FigureChange {
                structure: part.structure.cloned(),
                figure: cell.id.clone(),
                definition: cell.definition,
                then: before,
                now: after,
                removed,
                added,
                events: Vec::new(),
            };
            pending.push(Pending { part: index, change, basis, people });
        }
    }

    // Each person once: their stream folded alone, event by event after the publication.
    let mut wanted: BTreeMap<StreamId, BTreeSet<usize>> = BTreeMap::new();
    for pending in &pending {
        for person in &pending.people {
            wanted.entry(*person).or_default().insert(pending.part);
        }
    }
    let mut causes: BTreeMap<(StreamId, usize, String), Vec<Cause>> = BTreeMap::new();
    for (person, part_indexes) in wanted {
        let events = with_merged_records(stream(person)?, &mut stream)?;
        let scopes: Vec<(usize, &[Slug])> =
            part_indexes.into_iter().map(|index| (index, parts[index].slugs.as_slice())).collect();
        for ((part, list), found) in person_causes(&events, query, &span, &scopes)? {
            causes.insert((person, part, list), found);
        }
    }
    let mut agreed: BTreeMap<Slug, Vec<Cause>> = BTreeMap::new();
    if pending.iter().any(|pending| pending.basis.agreement) {
        for slug in &query.structures {
            agreed
                .insert(slug.clone(), agreement_causes(&stream(StreamId::of_structure(slug.as_str()))?, query, &span));
        }
    }

    Ok(pending
        .into_iter()
        .map(|mut pending| {
            let mut events: Vec<Cause> = Vec::new();
            for person in &pending.people {
                for list in &pending.basis.lists {
                    let found = causes.get(&(*person, pending.part, list.clone()));
                    events.extend(found.into_iter().flatten().cloned());
                }
            }
            if pending.basis.agreement {
                for slug in &parts[pending.part].slugs {
                    events.extend(agreed.get(slug).into_iter().flatten().cloned());
                }
            }
            events.sort_by_key(|cause| cause.position);
            events.dedup_by_key(|cause| cause.position);
            pending.change.events = events;
            pending.change
        })
        .collect())
}

/// A figure that differs, waiting for the events behind it.
struct Pending {
    part: usize,
    change: FigureChange,
    basis: Basis,
    /// The people whose rows behind the figure went or came.
    people: BTreeSet<StreamId>,
}

/// One side of a part of the report: its cells by id and its lists.
struct Side<'a> {
    cells: Vec<FigureCell>,
    lists: &'a Lists,
}

/// The whole report, or one structure's own part, then and now.
struct Part<'a> {
    structure: Option<&'a Slug>,
    /// The structures whose figures the part sums.
    slugs: Vec<Slug>,
    then: Side<'a>,
    now: Side<'a>,
}

fn parts<'a>(then: &'a ActivityReport, now: &'a ActivityReport) -> Vec<Part<'a>> {
    let side = |figures: &Figures, lists: &'a Lists| Side { cells: figures.cells(), lists };
    let mut parts = vec![Part {
        structure: None,
        slugs: now.structures.iter().map(|name| name.slug.clone()).collect(),
        then: side(&then.figures, &then.lists),
        now: side(&now.figures, &now.lists),
    }];
    // The same question names the same structures then and now: their parts pair up by slug.
    for part in &now.by_structure {
        let slug = &part.structure.slug;
        if let Some(before) = then.by_structure.iter().find(|before| before.structure.slug == *slug) {
            parts.push(Part {
                structure: Some(slug),
                slugs: vec![slug.clone()],
                then: side(&before.figures, &before.lists),
                now: side(&part.figures, &part.lists),
            });
        }
    }
    parts
}

/// The cells of both sides paired by id, in the order of the report: the cells of now, with
/// those only then had slipped in after the cell that preceded them then.
fn paired_cells<'a>(
    then: &'a [FigureCell],
    now: &'a [FigureCell],
) -> Vec<(Option<&'a FigureCell>, Option<&'a FigureCell>)> {
    let by_id = |cells: &'a [FigureCell]| -> BTreeMap<&'a str, &'a FigureCell> {
        cells.iter().map(|cell| (cell.id.as_str(), cell)).collect()
    };
    let (then_by_id, now_by_id) = (by_id(then), by_id(now));
    let mut order: Vec<&str> = now.iter().map(|cell| cell.id.as_str()).collect();
    let mut previous: Option<&str> = None;
    for cell in then {
        let id = cell.id.as_str();
        if !now_by_id.contains_key(id) {
            let at =
                previous.and_then(|previous| order.iter().position(|known| *known == previous)).map_or(0, |i| i + 1);
            order.insert(at, id);
        }
        previous = Some(id);
    }
    order.into_iter().map(|id| (then_by_id.get(id).copied(), now_by_id.get(id).copied())).collect()
}

/// What a figure is computed from: lists of rows, and the structures' agreements.
struct Basis {
    lists: Vec<String>,
    agreement: bool,
}

fn basis(cell: &FigureCell) -> Basis {
    let mut lists: Vec<String> = cell.list.iter().cloned().collect();
    let mut agreement = false;
    let mut add = |names: &[&str]| lists.extend(names.iter().map(|name| (*name).to_owned()));
    match cell.definition {
        "hours.agreed" | "hours.by_month" if cell.list.is_none() => agreement = true,
        "hours.worked_share_of_agreed" => {
            add(&["hours.worked"]);
            agreement = true;
        }
        "outcomes.dynamic_exit_rate" => add(&["outcomes.dynamic_exits", "outcomes.exits", "outcomes.neutral_exits"]),
        "outcomes.employed_at_six_months_share" => {
            add(&["outcomes.employed_at_six_months", "outcomes.followed_up_at_six_months"])
        }
        "follow_up.committees_held" => add(&[COMMITTEE_ATTENDANCE]),
        "follow_up.group_sessions" => add(&[GROUP_ATTENDANCE]),
        "contracts.agreed_fte" => agreement = true,
        "contracts.fte_worked" => add(&["hours.worked"]),
        "entries.by_prescriber" if cell.share.is_some() => add(&["profile.entries"]),
        // A share moves with its whole too.
        family if cell.share.is_some() && family.starts_with("profile.") => add(&["profile.entries"]),
        "hours.by_gender" if cell.share.is_some() => add(&["hours.worked"]),
        _ => {}
    }
    Basis { lists, agreement }
}

/// Whom a row counts: a person, or (for committees) a structure's meeting on a day.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Whom {
    Person(StreamId),
    Meeting(Slug, Date),
}

fn whom(row: &Row) -> Whom {
    match row.beneficiary {
        Some(person) => Whom::Person(person),
        None => Whom::Meeting(row.structure.clone(), row.on),
    }
}

/// What rows weigh in a figure: how many they are, and the hours they hold.
fn weight<'a>(rows: impl IntoIterator<Item = &'a Row> + Clone) -> (usize, u64) {
    (rows.clone().into_iter().count(), hours_of(rows).hundredths)
}

/// The lists of who attended each meeting, which trace meetings to people and are no figure's own.
fn is_attendance(list: &str) -> bool {
    list == COMMITTEE_ATTENDANCE || list == GROUP_ATTENDANCE
}

/// Whether someone's rows of `list` changed in a way that can move a figure. For most lists, their
/// weight; for the people each meeting gathered, the rows themselves: a follow-up moved from one
/// day to another weighs the same but can make or unmake a meeting (a day no one else met on); and
/// for pathways, their dates, which make their length.
fn moved<'a>(
    list: &str,
    was: impl IntoIterator<Item = &'a Row> + Clone,
    is: impl IntoIterator<Item = &'a Row> + Clone,
) -> bool {
    if is_attendance(list) || list == PATHWAY_DAYS {
        !was.into_iter().eq(is)
    } else {
        weight(was) != weight(is)
    }
}

/// The rows only `then` has and those only `now` has, for whoever's rows moved the figure.
fn contributing(list: &str, then: &[Row], now: &[Row]) -> (Vec<Row>, Vec<Row>) {
    let (removed, added) = difference(then, now);
    let mut whose: BTreeMap<Whom, (Vec<&Row>, Vec<&Row>)> = BTreeMap::new();
    for row in &removed {
        whose.entry(whom(row)).or_default().0.push(row);
    }
    for row in &added {
        whose.entry(whom(row)).or_default().1.push(row);
    }
    let moved: BTreeSet<Whom> = whose
        .into_iter()
        .filter(|(_, (gone, came))| moved(list, gone.iter().copied(), came.iter().copied()))
        .map(|(whom, _)| whom)
        .collect();
    let keep = |rows: Vec<Row>| rows.into_iter().filter(|row| moved.contains(&whom(row))).collect();
    (keep(removed), keep(added))
}

/// The rows only `then` has, and those only `now` has (both sorted, so one merge).
fn difference(then: &[Row], now: &[Row]) -> (Vec<Row>, Vec<Row>) {
    let (mut removed, mut added) = (Vec::new(), Vec::new());
    let (mut i, mut j) = (0, 0);
    while i < then.len() || j < now.len() {
        match (then.get(i), now.get(j)) {
            (Some(a), Some(b)) if a == b => {
                i += 1;
                j += 1;
            }
            (Some(a), Some(b)) if a < b => {
                removed.push(a.clone());
                i += 1;
            }
            (Some(_), Some(b)) => {
                added.push(b.clone());
                j += 1;
            }
            (Some(a), None) => {
                removed.push(a.clone());
                i += 1;
            }
            (None, Some(b)) => {
                added.push(b.clone());
                j += 1;
            }
            (None, None) => break,
        }
    }
    (removed, added)
}

/// A person's stream, with those of every record it was ever merged with, and theirs in turn
/// (CONTRACT §10), in log order: merges make one person of several records, whose rows then
/// depend on all their streams; folded together, they hold every merge among them, as the whole
/// log does.
fn with_merged_records<E>(
    events: Vec<Envelope>,
    stream: &mut impl FnMut(StreamId) -> Result<Vec<Envelope>, E>,
) -> Result<Vec<Envelope>, E> {
    let partners = |events: &[Envelope]| -> Vec<StreamId> {
        events
            .iter()
            .filter_map(|event| match &event.step {
                Step::MergedInto(merged) => Some(merged.into),
                Step::Absorbed(absorbed) => Some(absorbed.from),
                Step::Unmerged(unmerged) => Some(unmerged.other),
                _ => None,
            })
            .collect()
    };
    let mut seen: BTreeSet<StreamId> = events.first().map(|event| event.stream).into_iter().collect();
    let mut waiting = partners(&events);
    let mut all = events;
    while let Some(partner) = waiting.pop() {
        if !seen.insert(partner) {
            continue;
        }
        let theirs = stream(partner)?;
        waiting.extend(partners(&theirs));
        all.extend(theirs);
    }
    all.sort_by_key(|event| event.position);
    all.dedup_by_key(|event| event.position);
    Ok(all)
}

/// For one person: the events after the publication after which their weight in a list of a part
/// changed, by (part, list). `scopes` are the parts asked, with the structures each sums.
fn person_causes(
    events: &[Envelope],
    query: &ActivityQuery,
    span: &Span,
    scopes: &[(usize, &[Slug])],
) -> Result<BTreeMap<(usize, String), Vec<Cause>>, ApplyError> {
    let mut alone = Projections::new();
    let (before, after): (Vec<&Envelope>, Vec<&Envelope>) = events
        .iter()
        .filter(|event| event.position <= span.now_at)
        .partition(|event| event.position <= span.published_at);
    for event in before {
        alone.apply_sparse(event)?;
    }
    let lists_of = |alone: &Projections| -> Vec<Lists> {
        scopes
            .iter()
            .map(|(_, slugs)| {
                let structures: Vec<StructureIx> =
                    slugs.iter().filter_map(|slug| alone.structures.find(slug)).collect();
                if structures.is_empty() {
                    Lists::default()
                } else {
                    let mut filed = Filed::rows();
                    let people = alone.referred_to(&structures);
                    gather(alone, &people, query, &structures, 1, &mut filed);
                    filed.lists(&months_of(query.period), &query.bands)
                }
            })
            .collect()
    };
    let mut causes: BTreeMap<(usize, String), Vec<Cause>> = BTreeMap::new();
    let mut previous = lists_of(&alone);
    for event in after {
        alone.apply_sparse(event)?;
        let current = lists_of(&alone);
        for ((part, _), (was, is)) in scopes.iter().zip(previous.iter().zip(&current)) {
            let ids: BTreeSet<&str> = was.ids().chain(is.ids()).collect();
            for id in ids.into_iter().filter(|id| moved(id, was.get(id), is.get(id))) {
                causes.entry((*part, id.to_owned())).or_default().push(Cause::from(event));
            }
        }
        previous = current;
    }
    Ok(causes)
}

/// A year's agreement: the hours and the full-time equivalents (in hundredths, as hours are) agreed.
type Agreed = (u16, Option<Hours>, Option<Hours>);

/// The updates of a structure's record after the publication that changed the hours or the
/// full-time equivalents agreed for a year of the period.
fn agreement_causes(events: &[Envelope], query: &ActivityQuery, span: &Span) -> Vec<Cause> {
    let years: BTreeSet<u16> =
        (query.period.from.year()..=query.period.to.year()).filter_map(|year| u16::try_from(year).ok()).collect();
    let agreed = |event: &Envelope| -> Option<Vec<Agreed>> {
        match &event.step {
            Step::StructureUpdated(update) => Some(
                years
                    .iter()
                    .filter_map(|year| {
                        let hours = update.agreed_hours.get(year).copied();
                        let fte = update.agreed_fte.get(year).map(|fte| fte.0);
                        (hours.is_some() || fte.is_some()).then_some((*year, hours, fte))
                    })
                    .collect(),
            ),
            _ => None,
        }
    };
    let mut current: Vec<Agreed> = Vec::new();
    let mut causes = Vec::new();
    for event in events.iter().filter(|event| event.position <= span.now_at) {
        let Some(stated) = agreed(event) else { continue };
        if event.position > span.published_at && stated != current {
            causes.push(Cause::from(event));
        }
        current = stated;
    }
    causes
}
