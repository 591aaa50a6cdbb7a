//! The two tables of the export and how a row is made: `episodes` from the projections' episode
//! rows, `events` from the log. What leaves is decided here, once:
//! - no identity, no free text (names of prescribers, employers, jobs, trainings, partners,
//!   reasons, summaries), no ids of the store (people get a keyed hash, events their position);
//! - no special-category data (GDPR art. 9 and 10): a value that says a person is followed for
//!   their health, by the justice or by child protection is written as the neutral code of its
//!   list. Prescribers `spip`, `csapa`, `ase` become `other` (as evaluators see them); the benefit
//!   `aah` (a disability allowance) becomes `other`; the support domain `health` becomes `other`;
//!   the destinations `health`, `maternity` and `incarceration` are left empty, their category
//!   (`neutral_exit`) kept, so that every outcome figure is still recomputed exactly.

use parcours_core::vocabulary::{Benefit, Destination, Envelope, PrescriberKind, Step, SupportDomain};
use parcours_projections::EpisodeRow;

use super::table::{Cell, Column, Kind};

const fn required(name: &'static str, kind: Kind) -> Column {
    Column { name, kind, required: true }
}

const fn optional(name: &'static str, kind: Kind) -> Column {
    Column { name, kind, required: false }
}

/// `episodes.parquet`: one row per episode, as the entry and outcome statistics count it.
pub(super) const EPISODE_COLUMNS: &[Column] = &[
    required("person", Kind::Text),
    required("episode", Kind::Int32),
    required("structure", Kind::Text),
    required("referred_on", Kind::Day),
    required("prescriber_kind", Kind::Text),
    optional("programme", Kind::Text),
    required("situation", Kind::Text),
    optional("qualification", Kind::Text),
    optional("benefits", Kind::Text),
    required("gender", Kind::Text),
    required("age_band", Kind::Text),
    optional("exited_on", Kind::Day),
    optional("destination", Kind::Text),
    optional("exit_category", Kind::Text),
    required("reenrolled", Kind::Bool),
    optional("situation_six_months_after_exit", Kind::Text),
];

/// `events/year=YYYY/part-N.parquet`: one row per event of the log, its closed-list fields.
pub(super) const EVENT_COLUMNS: &[Column] = &[
    required("position", Kind::Int64),
    required("type", Kind::Text),
    required("occurred_on", Kind::Day),
    required("recorded_at", Kind::Instant),
    optional("person", Kind::Text),
    optional("structure", Kind::Text),
    optional("gender", Kind::Text),
    optional("prescriber_kind", Kind::Text),
    optional("programme", Kind::Text),
    optional("situation", Kind::Text),
    optional("qualification", Kind::Text),
    optional("benefits", Kind::Text),
    optional("contract_kind", Kind::Text),
    optional("weekly_hours", Kind::Hours),
    optional("contract_end_reason", Kind::Text),
    optional("month", Kind::Text),
    optional("hours", Kind::Hours),
    optional("assessment_kind", Kind::Text),
    optional("training_qualifying", Kind::Bool),
    optional("training_result", Kind::Text),
    optional("support_domain", Kind::Text),
    optional("support_action", Kind::Text),
    optional("follow_up_kind", Kind::Text),
    optional("destination", Kind::Text),
    optional("exit_category", Kind::Text),
    optional("months_after_exit", Kind::Int32),
    optional("situation_after_exit", Kind::Text),
    optional("corrects_position", Kind::Int64),
    optional("replacement_occurred_on", Kind::Day),
    optional("erasure_reason", Kind::Text),
    optional("structure_kind", Kind::Text),
];

fn prescriber(kind: PrescriberKind) -> &'static str {
    if kind.is_sensitive() {
        PrescriberKind::Other.code()
    } else {
        kind.code()
    }
}

/// The benefits as codes separated by commas, `aah` as `other`; `None` when there is none.
fn benefits(list: impl IntoIterator<Item = Benefit>) -> Option<String> {
    let mut codes: Vec<&str> = Vec::new();
    for benefit in list {
        let code = if benefit == Benefit::Aah { Benefit::Other.code() } else { benefit.code() };
        if !codes.contains(&code) {
            codes.push(code);
        }
    }
    (!codes.is_empty()).then(|| codes.join(","))
}

fn destination(destination: Destination) -> Cell<'static> {
    match destination {
        Destination::Health | Destination::Maternity | Destination::Incarceration => Cell::Null,
        other => Cell::Text(other.code()),
    }
}

fn support_domain(domain: SupportDomain) -> &'static str {
    if domain == SupportDomain::Health {
        SupportDomain::Other.code()
    } else {
        domain.code()
    }
}

fn text<T>(value: Option<T>, code: impl Fn(T) -> &'static str) -> Cell<'static> {
    value.map_or(Cell::Null, |value| Cell::Text(code(value)))
}

/// The cells of [`EPISODE_COLUMNS`] for an episode; `benefit_codes` holds the text of `benefits`,
/// which the row borrows.
pub(super) fn episode_row<'a>(
    episode: &'a EpisodeRow<'_>,
    person: &'a str,
    benefit_codes: &'a mut Option<String>,
) -> [Cell<'a>; 16] {
    *benefit_codes = benefits(episode.benefits.iter().copied());
    let exit = episode.exit;
    [
        Cell::Text(person),
        Cell::Int32(i32::try_from(episode.episode).unwrap_or(i32::MAX)),
        Cell::Text(episode.structure.as_str()),
        Cell::Day(episode.referred_on),
        Cell::Text(prescriber(episode.prescriber)),
        text(episode.programme, |programme| programme.code()),
        Cell::Text(episode.situation.code()),
        text(episode.qualification, |qualification| qualification.code()),
        benefit_codes.as_deref().map_or(Cell::Null, Cell::Text),
        Cell::Text(episode.gender.code()),
        Cell::Text(episode.age_band.code()),
        exit.map_or(Cell::Null, |(on, _)| Cell::Day(on)),
        exit.map_or(Cell::Null, |(_, to)| destination(to)),
        exit.map_or(Cell::Null, |(_, to)| Cell::Text(to.category().code())),
        Cell::Bool(episode.reenrolled),
        text(episode.six_months_after_exit, |situation| situation.code()),
    ]
}

/// Where an event's cells come from besides its step.
pub(super) struct EventContext<'a> {
    pub person: Option<&'a str>,
    pub structure: Option<&'a str>,
    /// For a correction: the position of the event it corrects.
    pub corrects_position: Option<u64>,
}

/// Where the column `name` is in [`EVENT_COLUMNS`], found at compile time: a name that is not
/// there fails the build.
const fn column(name: &str) -> usize {
    let mut index = 0;
    while index < EVENT_COLUMNS.len() {
        let candidate = EVENT_COLUMNS[index].name.as_bytes();
        let wanted = name.as_bytes();
        if candidate.len() == wanted.len() {
            let mut at = 0;
            while at < wanted.len() && candidate[at] == wanted[at] {
                at += 1;
            }
            if at == wanted.len() {
                return index;
            }
        }
        index += 1;
    }
    panic!("no such event column")
}

const POSITION: usize = column("position");
const TYPE: usize = column("type");
const OCCURRED_ON: usize = column("occurred_on");
const RECORDED_AT: usize = column("recorded_at");
const PERSON: usize = column("person");
const STRUCTURE: usize = column("structure");
const GENDER: usize = column("gender");
const PRESCRIBER_KIND: usize = column("prescriber_kind");
const PROGRAMME: usize = column("programme");
const SITUATION: usize = column("situation");
const QUALIFICATION: usize = column("qualification");
const BENEFITS: usize = column("benefits");
const CONTRACT_KIND: usize = column("contract_kind");
const WEEKLY_HOURS: usize = column("weekly_hours");
const CONTRACT_END_REASON: usize = column("contract_end_reason");
const MONTH: usize = column("month");
const HOURS: usize = column("hours");
const ASSESSMENT_KIND: usize = column("assessment_kind");
const TRAINING_QUALIFYING: usize = column("training_qualifying");
const TRAINING_RESULT: usize = column("training_result");
const SUPPORT_DOMAIN: usize = column("support_domain");
const SUPPORT_ACTION: usize = column("support_action");
const FOLLOW_UP_KIND: usize = column("follow_up_kind");
const DESTINATION: usize = column("destination");
const EXIT_CATEGORY: usize = column("exit_category");
const MONTHS_AFTER_EXIT: usize = column("months_after_exit");
const SITUATION_AFTER_EXIT: usize = column("situation_after_exit");
const CORRECTS_POSITION: usize = column("corrects_position");
const REPLACEMENT_OCCURRED_ON: usize = column("replacement_occurred_on");
const ERASURE_REASON: usize = column("erasure_reason");
const STRUCTURE_KIND: usize = column("structure_kind");

/// The cells of [`EVENT_COLUMNS`] for one event; `made_text` holds the one text cell made for
/// this row rather than borrowed (the benefits, or the month).
pub(super) fn event_row<'a>(
    envelope: &'a Envelope,
    context: &EventContext<'a>,
    made_text: &'a mut Option<String>,
) -> Vec<Cell<'a>> {
    let mut row = vec![Cell::Null; EVENT_COLUMNS.len()];
    row[POSITION] = Cell::Int64(i64::try_from(envelope.position).unwrap_or(i64::MAX));
    row[TYPE] = Cell::Text(envelope.step.kind().code());
    row[OCCURRED_ON] = Cell::Day(envelope.occurred_on);
    row[RECORDED_AT] = Cell::Instant(envelope.recorded_at);
    row[PERSON] = context.person.map_or(Cell::Null, Cell::Text);
    row[STRUCTURE] = context.structure.map_or(Cell::Null, Cell::Text);
    let mut step = &envelope.step;
    if let Step::Corrected(corrected) = step {
        row[CORRECTS_POSITION] = context.corrects_position.map_or(Cell::Null, |position| Cell::Int64(position as i64));
        if let Some(replacement) = &corrected.replacement {
            row[REPLACEMENT_OCCURRED_ON] = Cell::Day(replacement.occurred_on);
            // The replacement's own fields, in the same columns as the step it replaces.
            step = &*replacement.step;
        }
    }
    match step {
        Step::Registered(registered) => row[GENDER] = Cell::Text(registered.gender.code()),
        Step::Referred(referred) => {
            *made_text = benefits(referred.benefits.iter().copied());
            row[PRESCRIBER_KIND] = Cell::Text(prescriber(referred.prescriber.kind));
            row[PROGRAMME] = text(referred.programme, |programme| programme.code());
            row[SITUATION] = Cell::Text(referred.situation.code());
            row[QUALIFICATION] = text(referred.qualification, |qualification| qualification.code());
            row[BENEFITS] = made_text.as_deref().map_or(Cell::Null, Cell::Text);
        }
        Step::ContractStarted(started) => {
            row[CONTRACT_KIND] = Cell::Text(started.kind.code());
            row[WEEKLY_HOURS] = Cell::Hours(started.weekly_hours);
        }
        Step::ContractEnded(ended) => row[CONTRACT_END_REASON] = Cell::Text(ended.reason.code()),
        Step::HoursWorked(worked) => {
            *made_text = Some(worked.month.to_string());
            row[MONTH] = made_text.as_deref().map_or(Cell::Null, Cell::Text);
            row[HOURS] = Cell::Hours(worked.hours);
        }
        Step::SkillsAssessed(assessed) => row[ASSESSMENT_KIND] = Cell::Text(assessed.kind.code()),
        Step::TrainingStarted(started) => row[TRAINING_QUALIFYING] = Cell::Bool(started.qualifying),
        Step::TrainingCompleted(completed) => row[TRAINING_RESULT] = Cell::Text(completed.result.code()),
        Step::SupportProvided(support) => {
            row[SUPPORT_DOMAIN] = Cell::Text(support_domain(support.domain));
            row[SUPPORT_ACTION] = text(support.action, |action| action.code());
        }
        Step::FollowUpHeld(follow_up) => row[FOLLOW_UP_KIND] = Cell::Text(follow_up.kind.code()),
        Step::Exited(exited) => {
            row[DESTINATION] = destination(exited.destination);
            row[EXIT_CATEGORY] = Cell::Text(exited.destination.category().code());
        }
        Step::FollowedUpAfterExit(after) => {
            row[MONTHS_AFTER_EXIT] = Cell::Int32(i32::from(after.months_after_exit));
            row[SITUATION_AFTER_EXIT] = Cell::Text(after.situation.code());
        }
        Step::PersonalDataErased(erased) => row[ERASURE_REASON] = Cell::Text(erased.reason.code()),
        Step::StructureUpdated(updated) => row[STRUCTURE_KIND] = Cell::Text(updated.kind.code()),
        Step::Corrected(_)
        | Step::ReportPublished(_)
        | Step::ReferralAccepted(_)
        | Step::ReferralDeclined(_)
        | Step::MergedInto(_)
        | Step::Absorbed(_)
        | Step::Unmerged(_) => {}
    }
    row
}
