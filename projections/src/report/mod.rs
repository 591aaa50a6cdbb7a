//! The yearly activity report a structure sends its funders (CONTRACT §8): people followed,
//! entered, exited; contracts and full-time equivalents at the end; hours worked against hours
//! agreed; follow-up; the profile of the entries; support; outcomes.
//!
//! Data flow: every beneficiary keeps, beside its summary, what the report reads of its steps
//! (`crate::track`, folded live). [`Projections::activity_report`] walks the beneficiaries of the
//! structures asked once, tallies each figure as a typed [`figure::Figure`] and, when the lists
//! are asked, files the row behind each count under the figure's id (`lists`); the sections read
//! the figures off the tallies (`sections`). Outcomes come from the same selection of exits as
//! `/api/stats/outcomes`. Evaluators get small cells withheld (`withhold`). `cells` flattens the
//! figures for CSV and pages; `definitions` says what each figure means, by version; `changes`
//! says which figures of a published report differ from the same question asked now, and why.
//!
//! Several structures at once (a PLIE, a network): the figures count each person once across them
//! (a person followed by two of them is one person followed), and [`ActivityReport::by_structure`]
//! gives each structure's own report for readers allowed exact figures.
//!
//! Deterministic: the same log and question give the same report, byte for byte, in every format.

mod activity;
mod bands;
mod cells;
mod changes;
mod definitions;
mod figure;
mod inputs;
mod lists;
mod sections;
mod withhold;

use std::collections::BTreeMap;

use parcours_core::vocabulary::Month;

pub use activity::{
    ActivityQuery, ActivityReport, Definitions, ReportError, StructureName, StructureReport, REPORT_STRUCTURES_MAX,
};
pub use bands::{Band, BandsError, FamilyQuotientBands, FAMILY_QUOTIENT_CUTS_MAX};
pub use cells::{FigureCell, Value};
pub use changes::{changes, Cause, FigureChange, Reading, Span};
pub use definitions::DefinitionsVersion;
#[cfg(test)]
pub(crate) use figure::GROUP_ATTENDANCE;
pub use inputs::{InputsError, INPUTS_FORMAT};
use lists::Filed;
#[cfg(test)]
pub(crate) use lists::COMMITTEE_ATTENDANCE;
pub use lists::{Detail, Lists, Row};
pub use sections::{
    AssessmentRow, BandRow, BenefitRow, ContractFigures, Days, EntryFigures, Figures, FollowUpFigures, Fte,
    GenderHoursRow, HoursFigures, KindRow, MonthRow, OutcomeFigures, PartnerRow, PathwayDays, PeopleFigures,
    PrescriberRow, ProfileFigures, Shown, SixMonthsRow, SkillsFigures, SupportFigures, SupportRow, TrainingFigures,
    FTE_YEARLY_HOURS, FULL_TIME_WEEKLY_HOURS,
};

use crate::beneficiary::BeneficiaryIx;
use crate::exits::OutcomeCounts;
use crate::hours::TotalHours;
use crate::projections::Projections;
use crate::structures::StructureIx;

impl Projections {
    /// The report's figures, without the lists behind them (`lists` is left empty).
    pub fn activity_report(&self, query: &ActivityQuery) -> Result<ActivityReport, ReportError> {
        self.report(query, false)
    }

    /// The report with the rows behind every figure, for the lists a reader opens and for what
    /// changed since a publication. Slower: a row per person and figure.
    pub fn activity_report_with_lists(&self, query: &ActivityQuery) -> Result<ActivityReport, ReportError> {
        self.report(query, true)
    }

    fn report(&self, query: &ActivityQuery, listed: bool) -> Result<ActivityReport, ReportError> {
        if query.structures.is_empty() {
            return Err(ReportError::NoStructure);
        }
        if query.structures.len() > REPORT_STRUCTURES_MAX {
            return Err(ReportError::TooManyStructures);
        }
        let mut structures: Vec<(StructureName, StructureIx)> = Vec::with_capacity(query.structures.len());
        for slug in &query.structures {
            let ix = self.structures.find(slug).ok_or_else(|| ReportError::UnknownStructure(slug.clone()))?;
            if structures.iter().all(|(_, seen)| *seen != ix) {
                let name = self.records.get(slug).map(|record| record.name.clone());
                structures.push((StructureName { slug: slug.clone(), name }, ix));
            }
        }
        // Listed by slug, whatever the order asked: the same question, the same bytes.
        structures.sort_by(|a, b| a.0.slug.cmp(&b.0.slug));
        let all: Vec<StructureIx> = structures.iter().map(|(_, ix)| *ix).collect();
        let (figures, lists) = self.figures_of(query, &all, listed);
        let by_structure = if query.by_structure && structures.len() > 1 {
            // Each structure's part on its own, the parts shared out between the cores.
            let part = |(name, ix): &(StructureName, StructureIx)| {
                let (figures, lists) = self.figures_of(query, &[*ix], listed);
                StructureReport { structure: name.clone(), figures, lists }
            };
            let per_core = structures.len().div_ceil(cores()).max(1);
            std::thread::scope(|scope| {
                let handles: Vec<_> = structures
                    .chunks(per_core)
                    .map(|chunk| scope.spawn(move || chunk.iter().map(part).collect::<Vec<_>>()))
                    .collect();
                handles
                    .into_iter()
                    .flat_map(|handle| handle.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)))
                    .collect()
            })
        } else {
            Vec::new()
        };
        Ok(ActivityReport {
            from: query.period.from,
            to: query.period.to,
            structures: structures.into_iter().map(|(name, _)| name).collect(),
            definitions: Definitions(query.definitions),
            family_quotient_bands: query.bands.cuts().to_vec(),
            figures,
            by_structure,
            lists,
        })
    }

    fn figures_of(&self, query: &ActivityQuery, structures: &[StructureIx], listed: bool) -> (Figures, Lists) {
        self.figures_in_parts(query, structures, listed, cores())
    }

    /// [`Projections::figures_of`], the people walked in up to `parts` parts at once.
    pub(crate) fn figures_in_parts(
        &self,
        query: &ActivityQuery,
        structures: &[StructureIx],
        listed: bool,
        parts: usize,
    ) -> (Figures, Lists) {
        let mut filed = if listed { Filed::rows() } else { Filed::tallies() };
        let people = self.referred_to(structures);
        lists::gather(self, &people, query, structures, parts, &mut filed);
        let months = lists::months_of(query.period);
        let lists = filed.lists(&months, &query.bands);
        let agreed = self.agreed_by_month(structures, &months);
        let outcomes = OutcomeCounts::of_counts(|field| filed.tallies.count(figure::Figure::Outcome(field)));
        let agreed_fte = self.agreed_fte(structures, &months);
        let context = sections::Context {
            months: &months,
            agreed: &agreed,
            agreed_fte,
            bands: &query.bands,
            outcomes,
            funders: query.definitions.has_funders_figures(),
        };
        (Figures::of(&filed.tallies, context), lists)
    }

    /// Every beneficiary ever referred to one of `structures`, in order, each once.
    pub(crate) fn referred_to(&self, structures: &[StructureIx]) -> Vec<BeneficiaryIx> {
        let referred = || structures.iter().filter_map(|ix| self.indexes.referred.get(ix.index())).flatten().copied();
        let candidates: usize =
            structures.iter().filter_map(|ix| self.indexes.referred.get(ix.index())).map(Vec::len).sum();
        if candidates < self.beneficiaries.len() / 16 {
            let mut people: Vec<BeneficiaryIx> = referred().collect();
            people.sort_unstable();
            people.dedup();
            people
        } else {
            // Many: marking them costs less than sorting them.
            let mut marked = vec![false; self.beneficiaries.len()];
            for ix in referred() {
                marked[ix as usize] = true;
            }
            (0..).zip(marked).filter(|(_, marked)| *marked).map(|(ix, _)| ix).collect()
        }
    }

    /// Agreed hours by month, summed over the structures whose record has an agreement for the
    /// month's year; months no agreement covers are left out.
    fn agreed_by_month(&self, structures: &[StructureIx], months: &[Month]) -> BTreeMap<Month, TotalHours> {
        let mut agreed = BTreeMap::new();
        for &ix in structures {
            let Some(record) = self.records.get(self.structures.slug(ix)) else { continue };
            for &month in months {
                if let Some(&yearly) = record.agreed_hours.get(&month.year) {
                    let total: &mut TotalHours = agreed.entry(month).or_default();
                    total.hundredths += sections::monthly_agreed(TotalHours::from(yearly), month.month).hundredths;
                }
            }
        }
        agreed
    }

    /// The full-time equivalents agreed for the period, summed over the structures: each
    /// counted month weighs its year's agreement, a month no agreement covers weighs zero; `None`
    /// when none covers any month (full-time equivalents are a level, not an amount: a half-year
    /// agreed at 12 is 12, not 6).
    fn agreed_fte(&self, structures: &[StructureIx], months: &[Month]) -> Option<Fte> {
        let mut covered = false;
        let mut total: u64 = 0;
        for &ix in structures {
            let Some(record) = self.records.get(self.structures.slug(ix)) else { continue };
            for month in months {
                if let Some(fte) = record.agreed_fte.get(&month.year) {
                    covered = true;
                    total += u64::from(fte.0.hundredths);
                }
            }
        }
        let months = months.len() as u64;
        (covered && months > 0).then(|| Fte { hundredths: (2 * total + months) / (2 * months) })
    }
}

/// How many threads a report's work is shared out between.
fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}
