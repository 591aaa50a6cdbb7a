//! The lists behind the activity report's figures, and the one pass that fills them.
//!
//! Every count of the report is the length of one of these lists, and every sum of hours the sum
//! of its rows: the page's figures and the lists a coordinator opens behind them cannot disagree,
//! because one walk files each row and tallies it under its figure ([`Filed::file`]), whether the
//! rows are kept or only counted; the sections read the tallies (`report::sections`). A list is
//! named by its figure id (`people.followed`, `profile.by_gender.female`, `support.partners.SIAO 47`...).
//!
//! Exits are those of the episodes walked whose exit falls in the period, the selection that
//! [`Projections::exits_of`] makes for the outcome statistics; each is filed under each outcome
//! count with the predicate that count uses ([`OutcomeField::holds`]), as
//! [`OutcomeCounts::count`](crate::exits::OutcomeCounts::count) counts it.

use std::collections::{BTreeMap, HashMap};

use parcours_core::vocabulary::{
    ContractKind, Date, Destination, FollowUpKind, Hours, Month, SituationAfterExit, Slug, StreamId, SupportAction,
    SupportDomain, TrainingResult,
};
use serde::Serialize;

use super::activity::ActivityQuery;
use super::bands::FamilyQuotientBands;
use super::figure::{Figure, Ids, Tallies};
use crate::age_band::AgeBand;
use crate::beneficiary::BeneficiaryIx;
use crate::exits::{ExitFacts, OutcomeField};
use crate::follow_up::{last_contact, overdue_before};
use crate::hours::TotalHours;
use crate::period::Period;
use crate::prefetch::prefetch;
use crate::projections::Projections;
use crate::structures::{StructureIx, StructureSet};
use crate::track::Step;

/// One line of a list: a person (or, for committees, a structure's meeting) and the date that
/// decides whether it counts.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Debug, Serialize)]
pub struct Row {
    /// The date that decides: a referral, an exit, a meeting, a contract's start, a first month.
    pub on: Date,
    /// `None` for a committee, which is a structure's meeting rather than a person.
    pub beneficiary: Option<StreamId>,
    pub structure: Slug,
    /// Where an end matters: the exit of a followed episode, a contract's planned end.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub until: Option<Date>,
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub detail: Option<Detail>,
}

/// What a row says beyond its person and dates.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Debug, Serialize)]
#[serde(untagged)]
pub enum Detail {
    Exit {
        destination: Destination,
    },
    Contract {
        contract_kind: ContractKind,
        weekly_hours: Hours,
    },
    Hours {
        hours: TotalHours,
    },
    Support {
        domain: SupportDomain,
        action: Option<SupportAction>,
        partner: Option<String>,
    },
    /// The people reviewed at a committee.
    Committee {
        people: u64,
    },
    SixMonths {
        situation: SituationAfterExit,
    },
}

/// Every list of one report, by figure id; rows sorted.
#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub struct Lists(BTreeMap<String, Vec<Row>>);

impl Lists {
    fn push(&mut self, id: impl Into<String>, row: Row) {
        self.0.entry(id.into()).or_default().push(row);
    }

    /// The rows behind a figure; empty for a figure that counts nobody.
    pub fn get(&self, id: &str) -> &[Row] {
        self.0.get(id).map_or(&[], Vec::as_slice)
    }

    pub fn count(&self, id: &str) -> u64 {
        self.get(id).len() as u64
    }

    /// Sum of the hours of a list of hours, or of the weekly hours of a list of contracts.
    pub fn hours(&self, id: &str) -> TotalHours {
        hours_of(self.get(id))
    }

    pub fn ids(&self) -> impl Iterator<Item = &str> {
        self.0.keys().map(String::as_str)
    }
}

/// Sum of the hours of rows of hours, or of the weekly hours of rows of contracts.
pub(crate) fn hours_of<'a>(rows: impl IntoIterator<Item = &'a Row>) -> TotalHours {
    let mut total = TotalHours::default();
    for row in rows {
        match &row.detail {
            Some(Detail::Hours { hours }) => total.hundredths += hours.hundredths,
            Some(Detail::Contract { weekly_hours, .. }) => total += *weekly_hours,
            _ => {}
        }
    }
    total
}

/// The list of the people each committee reviewed: one row per person and committee.
pub(crate) const COMMITTEE_ATTENDANCE: &str = "follow_up.committee_attendance";

/// A month counts for the period when its first day is in it: contiguous periods share no month,
/// and a calendar year counts its twelve.
pub(crate) fn months_of(period: Period) -> Vec<Month> {
    let mut months = Vec::new();
    let mut month = period.from.month();
    if month.first_day() < period.from {
        month = next_month(month);
    }
    while month.first_day() <= period.to && month.year <= 9999 {
        months.push(month);
        month = next_month(month);
    }
    months
}

fn next_month(month: Month) -> Month {
    match month.month {
        12 => Month { year: month.year + 1, month: 1 },
        m => Month { year: month.year, month: m + 1 },
    }
}

/// The month's place among the period's months (`months_of`), if it is one of them.
fn month_place(months: &[Month], month: Month) -> Option<usize> {
    let serial = |month: Month| i64::from(month.year) * 12 + i64::from(month.month);
    let first = months.first()?;
    let place = usize::try_from(serial(month) - serial(*first)).ok()?;
    (months.get(place) == Some(&month)).then_some(place)
}

/// What the walk files: every figure's tally and, when the lists are asked, the rows behind them.
#[derive(Default)]
pub(crate) struct Filed {
    pub tallies: Tallies,
    rows: Option<Vec<(Figure, Row)>>,
}

impl Filed {
    /// Tallies alone: what the report's figures need.
    pub(crate) fn tallies() -> Filed {
        Filed { rows: None, ..Filed::default() }
    }

    /// Tallies and rows: what the lists behind the figures need.
    pub(crate) fn rows() -> Filed {
        Filed { rows: Some(Vec::new()), ..Filed::default() }
    }

    /// Nothing filed yet, keeping rows if `self` does.
    fn empty_like(&self) -> Filed {
        Filed { tallies: Tallies::default(), rows: self.rows.as_ref().map(|_| Vec::new()) }
    }

    /// Adds what another part of the walk filed.
    fn absorb(&mut self, other: Filed) {
        let partners = self.tallies.absorb(other.tallies);
        if let (Some(rows), Some(others)) = (&mut self.rows, other.rows) {
            rows.extend(others.into_iter().map(|(figure, row)| match figure {
                Figure::Partner(place) => (partners[place], row),
                figure => (figure, row),
            }));
        }
    }

    /// Counts one row under `figure`, with the hours it adds; `row` is built only for lists.
    fn file(&mut self, figure: Figure, hundredths: u64, row: impl FnOnce() -> Row) {
        self.tallies.add(figure, hundredths);
        if let Some(rows) = &mut self.rows {
            rows.push((figure, row()));
        }
    }

    /// The rows by figure id, sorted; empty when only tallies were kept.
    pub(crate) fn lists(&mut self, months: &[Month], bands: &FamilyQuotientBands) -> Lists {
        let mut lists = Lists::default();
        let ids = Ids::new(months, bands, &self.tallies);
        for (figure, row) in self.rows.take().unwrap_or_default() {
            lists.push(ids.id(figure), row);
        }
        for rows in lists.0.values_mut() {
            rows.sort();
        }
        lists
    }
}

/// How many people ahead of the walk their memory is asked for: enough to overlap several
/// misses, few enough that what arrives is still in cache when the walk gets there.
const FETCH_AHEAD: usize = 8;

/// Asks for the records of the people `FETCH_AHEAD` places ahead of `n`, and for the blocks that
/// the records of those half as far ahead point to (their records having arrived by then).
fn fetch_ahead(projections: &Projections, people: &[BeneficiaryIx], n: usize) {
    let record = |at: usize| people.get(at).and_then(|&ix| projections.beneficiaries.get(ix as usize));
    if let Some(far) = record(n + FETCH_AHEAD) {
        prefetch(&far.summary.episodes);
        prefetch(&far.track);
    }
    if let Some(near) = record(n + FETCH_AHEAD / 2) {
        prefetch(near.summary.episodes.as_ptr());
        prefetch(near.track.steps.as_ptr());
        prefetch(near.track.contracts.as_ptr());
    }
}

/// A structure's meeting of several people on a day, which counts once however many attend.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
enum Meeting {
    Committee,
    /// A group session (version 2 of the definitions).
    Group,
}

impl Meeting {
    /// The figure that counts the meetings, and the list of who attended each.
    fn figures(self) -> (Figure, Figure) {
        match self {
            Meeting::Committee => (Figure::CommitteesHeld, Figure::CommitteeAttendance),
            Meeting::Group => (Figure::GroupSessions, Figure::GroupAttendance),
        }
    }
}

/// People at each meeting (a structure's committee or group session on a day).
type Meetings = HashMap<(Meeting, StructureIx, Date), u64, foldhash::fast::FixedState>;

/// Fewer people than this are walked on one thread: starting threads would cost more. Tests walk
/// every log of more than one person in parts.
#[cfg(not(test))]
const PARALLEL_FROM: usize = 20_000;
#[cfg(test)]
const PARALLEL_FROM: usize = 2;

/// Files every figure of a report over `structures` (each person once across them), walking
/// `people` (every beneficiary ever referred to one of them, in order, each once) in up to
/// `parts` parts at once.
///
/// One walk for figures and lists: a figure is the tally of the rows its list would hold, so the
/// page's counts and the lists behind them cannot disagree. Many people are walked in parts on
/// every core, each part filing its own tallies and rows; adding them up gives what one walk
/// gives (sums, and rows sorted at the end), so the report does not depend on the parts.
pub(crate) fn gather(
    projections: &Projections,
    people: &[BeneficiaryIx],
    query: &ActivityQuery,
    structures: &[StructureIx],
    parts: usize,
    filed: &mut Filed,
) {
    let period = query.period;
    let question = Question {
        projections,
        period,
        asked: StructureSet::of(structures),
        bands: &query.bands,
        months: months_of(period),
        overdue_before: overdue_before(period.to),
        funders: query.definitions.has_funders_figures(),
    };
    let parts = if people.len() < PARALLEL_FROM { 1 } else { parts };
    let mut committees = Meetings::default();
    if parts <= 1 {
        committees = walk(&question, people, filed);
    } else {
        let part_len = people.len().div_ceil(parts).max(1);
        let walked: Vec<(Filed, Meetings)> = std::thread::scope(|scope| {
            let question = &question;
            let handles: Vec<_> = people
                .chunks(part_len)
                .map(|part| {
                    let mut own = filed.empty_like();
                    scope.spawn(move || {
                        let committees = walk(question, part, &mut own);
                        (own, committees)
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|handle| handle.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)))
                .collect()
        });
        for (part, part_committees) in walked {
            filed.absorb(part);
            for (committee, people) in part_committees {
                *committees.entry(committee).or_default() += people;
            }
        }
    }
    let mut committees: Vec<((Meeting, StructureIx, Date), u64)> = committees.into_iter().collect();
    committees.sort_unstable();
    for ((meeting, structure, on), people) in committees {
        let detail = Some(Detail::Committee { people });
        let structure = projections.structures.slug(structure);
        filed.file(meeting.figures().0, 0, || Row {
            on,
            beneficiary: None,
            structure: structure.clone(),
            until: None,
            detail,
        });
    }
}

/// What makes a person count once in the figures of distinct people, from every record of theirs.
#[derive(Clone, Copy, Debug, Default)]
struct Distinct {
    /// The record that stands for the person in the lists (the survivor of a merge).
    person: BeneficiaryIx,
    /// Their first referral to a structure asked, up to the end of the period.
    first_referral: Option<(Date, StructureIx)>,
    followed: Option<Followed>,
    /// Their earliest contract still open at the end, in an episode walked.
    on_contract: Option<(Date, StructureIx)>,
}

/// A person followed in the period: from their first referral followed, to the end of their last.
#[derive(Clone, Copy, Debug)]
struct Followed {
    on: Date,
    last_referred_on: Date,
    structure: StructureIx,
    until: Option<Date>,
}

impl Distinct {
    /// The person's figures, filed by the walk of one of their records only: the first one (by
    /// number) that has an episode walked, so that parts walked apart still count them once.
    /// Empty for the others.
    fn of_person(
        projections: &Projections,
        own: Distinct,
        ours: &impl Fn(StructureIx) -> bool,
        period: Period,
    ) -> Distinct {
        let (merges, ix) = (&projections.merges, own.person);
        if merges.is_empty() || merges.records_of(ix).nth(1).is_none() {
            return own;
        }
        let records: Vec<Distinct> = merges
            .records_of(ix)
            .map(|record| if record == ix { own } else { Distinct::of_record(projections, record, ours, period) })
            .collect();
        let walked = |distinct: &&Distinct| distinct.first_referral.is_some();
        let first_walked = records.iter().filter(walked).map(|distinct| distinct.person).min();
        if first_walked != Some(ix) {
            return Distinct { person: ix, ..Distinct::default() };
        }
        let mut person = Distinct { person: merges.person_of(ix), ..Distinct::default() };
        for record in &records {
            person.first_referral = earliest(person.first_referral, record.first_referral);
            person.on_contract = earliest(person.on_contract, record.on_contract);
            person.followed = match (person.followed, record.followed) {
                (Some(one), Some(other)) => {
                    let last = if other.last_referred_on > one.last_referred_on { other } else { one };
                    Some(Followed { on: one.on.min(other.on), ..last })
                }
                (one, other) => one.or(other),
            };
        }
        person
    }

    /// One record's share: its episodes walked (in a structure asked, referred by the end).
    fn of_record(
        projections: &Projections,
        ix: BeneficiaryIx,
        ours: &impl Fn(StructureIx) -> bool,
        period: Period,
    ) -> Distinct {
        let beneficiary = projections.beneficiary(ix);
        let walked =
            |episode: &crate::summary::Episode| ours(episode.facts.structure) && episode.referred_on <= period.to;
        let mut distinct = Distinct { person: ix, ..Distinct::default() };
        if beneficiary.summary.registration.is_none() {
            return distinct;
        }
        for episode in beneficiary.summary.episodes.iter().filter(|episode| walked(episode)) {
            let (structure, referred_on) = (episode.facts.structure, episode.referred_on);
            let until = episode.exit.map(|exit| exit.exited_on);
            distinct.first_referral = distinct.first_referral.or(Some((referred_on, structure)));
            if until.is_none_or(|exited| exited >= period.from) {
                let on = distinct.followed.map_or(referred_on, |followed| followed.on);
                distinct.followed = Some(Followed { on, last_referred_on: referred_on, structure, until });
            }
        }
        let episodes = &beneficiary.summary.episodes;
        for span in beneficiary.track.contracts.iter().filter(|span| span.open_on(period.to)) {
            let Some(episode) = episodes.get(span.episode as usize).filter(|episode| walked(episode)) else { continue };
            distinct.on_contract = earliest(distinct.on_contract, Some((span.started_on, episode.facts.structure)));
        }
        distinct
    }
}

/// The earlier of two dated values (the first given on a tie).
fn earliest(one: Option<(Date, StructureIx)>, other: Option<(Date, StructureIx)>) -> Option<(Date, StructureIx)> {
    match (one, other) {
        (Some(one), Some(other)) if other.0 < one.0 => Some(other),
        (one, other) => one.or(other),
    }
}

/// What every part of the walk reads.
struct Question<'a> {
    projections: &'a Projections,
    period: Period,
    asked: StructureSet,
    bands: &'a FamilyQuotientBands,
    months: Vec<Month>,
    overdue_before: Option<Date>,
    /// Whether to file the figures version 2 of the definitions adds (CONTRACT §11).
    funders: bool,
}

/// Walks `people`, filing into `filed`; returns the meetings they attended.
fn walk(question: &Question<'_>, people: &[BeneficiaryIx], filed: &mut Filed) -> Meetings {
    let Question { projections, period, ref asked, bands, ref months, overdue_before, funders } = *question;
    let slug = |ix: StructureIx| projections.structures.slug(ix).clone();
    let row = |on: Date, beneficiary: StreamId, structure: StructureIx| Row {
        on,
        beneficiary: Some(beneficiary),
        structure: slug(structure),
        until: None,
        detail: None,
    };
    let ours = |structure: StructureIx| asked.contains(structure);
    let (from, to) = (period.from, period.to);
    let mut committees = Meetings::default();
    // Per person: hours by figure and structure, with the first month counted.
    let mut hours: Vec<(Figure, StructureIx, Month, u64)> = Vec::new();
    let mut attended: Vec<(Meeting, StructureIx, Date)> = Vec::new();

    // Per episode of the person being walked: whether it counts, and its last follow-up by the end.
    let mut walked: Vec<bool> = Vec::new();
    let mut last_follow_up: Vec<Option<Date>> = Vec::new();

    for (n, &ix) in people.iter().enumerate() {
        fetch_ahead(projections, people, n);
        let beneficiary = projections.beneficiary(ix);
        let summary = &beneficiary.summary;
        walked.clear();
        walked.extend(summary.episodes.iter().map(|e| ours(e.facts.structure) && e.referred_on <= to));
        let Some(registration) = summary.registration.filter(|_| walked.contains(&true)) else { continue };
        // Read only for rows, which are built only when lists are asked.
        let person = || projections.stream_of(ix);
        let gender = registration.gender;
        let track = &beneficiary.track;
        // The walked episode at `index`, if it is one.
        let episode = |index: u32| summary.episodes.get(index as usize).filter(|_| walked[index as usize]);
        // Across the structures asked, and across the records of a person merged (CONTRACT §10),
        // a person counts once in these.
        let own = Distinct::of_record(projections, ix, &ours, period);
        let distinct = Distinct::of_person(projections, own, &ours, period);
        hours.clear();
        attended.clear();
        last_follow_up.clear();
        last_follow_up.resize(summary.episodes.len(), None);

        for (index, episode) in summary.episodes.iter().enumerate().filter(|(index, _)| walked[*index]) {
            let structure = episode.facts.structure;
            let referred_on = episode.referred_on;
            if period.contains(referred_on) {
                let entry = || row(referred_on, person(), structure);
                filed.file(Figure::Entered, 0, entry);
                filed.file(Figure::Entries, 0, entry);
                filed.file(Figure::EntriesByGender(gender), 0, entry);
                filed.file(Figure::EntriesBySituation(episode.facts.situation, gender), 0, entry);
                let band = AgeBand::at(referred_on.year(), registration.birth_year);
                filed.file(Figure::EntriesByAgeBand(band, gender), 0, entry);
                let benefits = episode.facts.benefits;
                for benefit in benefits.iter() {
                    filed.file(Figure::EntriesByBenefit(Some(benefit)), 0, entry);
                }
                if benefits.is_empty() {
                    filed.file(Figure::EntriesByBenefit(None), 0, entry);
                }
                let band = bands.place_of(episode.facts.family_quotient);
                filed.file(Figure::EntriesByFamilyQuotient(band), 0, entry);
                if funders {
                    filed.file(Figure::EntriesByPrescriber(episode.facts.prescriber), 0, entry);
                }
            }
            // The exits that the outcome statistics count, with the same predicate.
            let exit = episode.exit.filter(|exit| period.contains(exit.exited_on));
            if let Some((exit, facts)) = exit.zip(ExitFacts::of(summary, index)) {
                let entry = || Row {
                    detail: Some(Detail::Exit { destination: exit.destination }),
                    ..row(exit.exited_on, person(), structure)
                };
                filed.file(Figure::Exited, 0, entry);
                for field in OutcomeField::ALL.into_iter().filter(|field| field.holds(&facts)) {
                    filed.file(Figure::Outcome(field), 0, entry);
                }
                if let Some(situation) = facts.six_months_after {
                    let detail = Some(Detail::SixMonths { situation });
                    filed.file(Figure::SixMonthsAfterExit(situation), 0, || Row { detail, ..entry() });
                }
                if funders {
                    if exit.destination == Destination::Cdi {
                        filed.file(Figure::CdiExits, 0, entry);
                    }
                    // The rules keep an exit on or after its referral.
                    let days = exit.exited_on.0.signed_duration_since(referred_on.0).num_days();
                    let pathway = || Row { until: Some(exit.exited_on), ..row(referred_on, person(), structure) };
                    filed.file(Figure::PathwayDays, u64::try_from(days).unwrap_or(0), pathway);
                }
            }
        }
        // Everyone walked left before the period, and no step is dated in it or after: nothing of
        // the track counts (contracts ended with their episodes), so it is not read at all.
        let before_the_period = track.latest.is_none_or(|latest| latest < Month::from_date(from));
        if own.followed.is_some() || !before_the_period {
            for span in track.contracts.iter().filter(|span| span.open_on(to)) {
                let Some(structure) = episode(span.episode).map(|episode| episode.facts.structure) else { continue };
                let contract = || Row {
                    until: span.planned_end,
                    detail: Some(Detail::Contract { contract_kind: span.kind, weekly_hours: span.weekly_hours }),
                    ..row(span.started_on, person(), structure)
                };
                let weekly = u64::from(span.weekly_hours.hundredths);
                filed.file(Figure::ContractsAtEnd, weekly, contract);
                filed.file(Figure::ContractsByKind(span.kind), weekly, contract);
            }
            for placed in &track.steps {
                let Some(structure) = episode(placed.episode).map(|episode| episode.facts.structure) else { continue };
                match placed.step {
                    Step::Hours { month, hours: worked } => {
                        let Some(place) = month_place(months, month) else { continue };
                        let hundredths = u64::from(worked.hundredths);
                        for figure in [Figure::HoursWorked, Figure::HoursByMonth(place), Figure::HoursByGender(gender)]
                        {
                            match hours.iter_mut().find(|(f, s, _, _)| *f == figure && *s == structure) {
                                Some((_, _, first, total)) => {
                                    *first = (*first).min(month);
                                    *total += hundredths;
                                }
                                None => hours.push((figure, structure, month, hundredths)),
                            }
                        }
                    }
                    Step::FollowUp { on, kind } => {
                        if on <= to {
                            let last = &mut last_follow_up[placed.episode as usize];
                            *last = (*last).max(Some(on));
                        }
                        if !period.contains(on) {
                            continue;
                        }
                        match kind {
                            FollowUpKind::Committee => attended.push((Meeting::Committee, structure, on)),
                            FollowUpKind::Individual => {
                                filed.file(Figure::IndividualMeetings, 0, || row(on, person(), structure));
                            }
                            FollowUpKind::Group if funders => attended.push((Meeting::Group, structure, on)),
                            FollowUpKind::Phone if funders => {
                                filed.file(Figure::PhoneContacts, 0, || row(on, person(), structure));
                            }
                            FollowUpKind::Phone | FollowUpKind::Group => {}
                        }
                    }
                    Step::Support { on, domain, action, partner } => {
                        if !period.contains(on) {
                            continue;
                        }
                        // Read only where needed: the names are one more block of memory per person.
                        let name = |partner| beneficiary.names.get(partner);
                        let entry = || Row {
                            detail: Some(Detail::Support {
                                domain,
                                action,
                                partner: partner.map(|p| name(p).to_owned()),
                            }),
                            ..row(on, person(), structure)
                        };
                        filed.file(Figure::SupportActions, 0, entry);
                        filed.file(Figure::SupportByDomainAndAction(domain, action), 0, entry);
                        if let (Some(SupportAction::Orientation), Some(partner)) = (action, partner) {
                            filed.file(Figure::Oriented, 0, entry);
                            let partner = filed.tallies.partner(name(partner));
                            filed.file(partner, 0, entry);
                        }
                    }
                    Step::Training { on, result } => {
                        if !funders || !period.contains(on) {
                            continue;
                        }
                        let entry = || row(on, person(), structure);
                        match result {
                            None => filed.file(Figure::TrainingsStarted, 0, entry),
                            Some(TrainingResult::Completed) => filed.file(Figure::TrainingsCompleted, 0, entry),
                            Some(TrainingResult::Certified) => {
                                filed.file(Figure::TrainingsCompleted, 0, entry);
                                filed.file(Figure::TrainingsCertified, 0, entry);
                            }
                            Some(TrainingResult::Abandoned) => {}
                        }
                    }
                    Step::SkillsAssessed { on, kind } => {
                        if !funders || !period.contains(on) {
                            continue;
                        }
                        let entry = || row(on, person(), structure);
                        filed.file(Figure::SkillsAssessments, 0, entry);
                        filed.file(Figure::SkillsAssessmentsByKind(kind), 0, entry);
                    }
                }
            }
            // Present at the end, and overdue when not met for too long by then.
            for (index, episode) in summary.episodes.iter().enumerate().filter(|(index, _)| walked[*index]) {
                let (structure, referred_on) = (episode.facts.structure, episode.referred_on);
                if episode.exit.is_some_and(|exit| exit.exited_on <= to) {
                    continue;
                }
                filed.file(Figure::PresentAtEnd, 0, || row(referred_on, person(), structure));
                let last_contact = last_contact(referred_on, last_follow_up[index]);
                if overdue_before.is_some_and(|before| last_contact < before) {
                    filed.file(Figure::OverdueAtEnd, 0, || row(last_contact, person(), structure));
                }
            }
        }
        let counted = || projections.stream_of(distinct.person);
        if let Some((on, structure)) = distinct.first_referral {
            filed.file(Figure::DistinctSinceStart, 0, || row(on, counted(), structure));
        }
        if let Some(followed) = distinct.followed {
            let until = followed.until;
            filed.file(Figure::Followed, 0, || Row { until, ..row(followed.on, counted(), followed.structure) });
        }
        if let Some((on, structure)) = distinct.on_contract {
            filed.file(Figure::OnContractAtEnd, 0, || row(on, counted(), structure));
        }
        for &(figure, structure, first, total) in &hours {
            let hours = TotalHours { hundredths: total };
            let detail = Some(Detail::Hours { hours });
            filed.file(figure, total, || Row { detail, ..row(first.first_day(), person(), structure) });
        }
        // A person reviewed twice by one committee was reviewed once.
        attended.sort_unstable();
        attended.dedup();
        for &(meeting, structure, on) in &attended {
            *committees.entry((meeting, structure, on)).or_default() += 1;
            // Not a figure: who each meeting gathered, so that a meeting that came or went can be
            // traced to the people whose follow-ups made it (`report::changes`).
            filed.file(meeting.figures().1, 0, || row(on, person(), structure));
        }
    }

    committees
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tests::log::date;

    #[test]
    fn a_month_counts_in_the_period_that_holds_its_first_day() {
        let cases = [
            ("2024-01-01", "2024-12-31", 12, "2024-01", "2024-12"),
            ("2024-01-15", "2024-03-14", 2, "2024-02", "2024-03"),
            ("2024-06-16", "2024-12-31", 6, "2024-07", "2024-12"),
            ("2023-12-01", "2024-01-01", 2, "2023-12", "2024-01"),
        ];
        for (from, to, count, first, last) in cases {
            let months = months_of(Period::new(date(from), date(to)).unwrap());
            assert_eq!(months.len(), count, "{from}..{to}");
            assert_eq!(months.first().unwrap().to_string(), first);
            assert_eq!(months.last().unwrap().to_string(), last);
        }
        assert!(months_of(Period::new(date("2024-03-02"), date("2024-03-31")).unwrap()).is_empty());
    }
}
