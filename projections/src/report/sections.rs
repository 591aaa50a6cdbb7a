//! The sections of the activity report (CONTRACT §8), read off the tallies of the walk that files
//! the lists (`report::lists`): a count is the number of rows its list holds, an amount their sum,
//! so figures and lists cannot disagree.
//!
//! Rows of tables list only non-empty cells, in the contract's order of each list (as
//! `/api/stats/entries` does), partners by name; months and family-quotient bands are listed in
//! full, zeros included, because a funder reads them as a series.

use std::collections::BTreeMap;
use std::fmt;

use parcours_core::vocabulary::{
    format_hundredths, AssessmentKind, Benefit, ContractKind, Gender, Month, PrescriberKind, Situation,
    SituationAfterExit, SupportAction, SupportDomain,
};
use serde::{Serialize, Serializer};

use super::bands::{Band, FamilyQuotientBands};
use super::figure::{Figure, Tallies};
use crate::age_band::AgeBand;
use crate::disclosed::Disclosed;
use crate::entries::{AgeBandGenderRow, Cell, GenderRow, SituationGenderRow};
use crate::exits::{OutcomeCounts, OutcomeField};
use crate::hours::TotalHours;
use crate::ratio::Ratio;

/// The weekly hours of one full-time job, for full-time equivalents.
pub const FULL_TIME_WEEKLY_HOURS: u64 = 35;

/// The hours of one full-time equivalent over a year (the legal 1,607 hours): hours worked over
/// the period, divided by this share of it, give the full-time equivalents worked.
pub const FTE_YEARLY_HOURS: u64 = 1607;

/// Full-time equivalents, in hundredths (rounded half up): 26 weekly hours are 0.74.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug, Default)]
pub struct Fte {
    pub hundredths: u64,
}

impl Fte {
    pub fn of_weekly(weekly: TotalHours) -> Fte {
        let divisor = FULL_TIME_WEEKLY_HOURS;
        Fte { hundredths: (2 * weekly.hundredths + divisor) / (2 * divisor) }
    }

    /// The full-time equivalents that `worked` hours over `months` months are: hours × 12 ÷
    /// (1,607 × months), rounded half up to the hundredth; 0 for a period that counts no month,
    /// as its hours worked are.
    pub fn of_worked(worked: TotalHours, months: usize) -> Fte {
        let divisor = u128::from(FTE_YEARLY_HOURS) * u128::try_from(months).unwrap_or(u128::MAX / 2);
        if divisor == 0 {
            return Fte::default();
        }
        // worked.hundredths × 12 ÷ divisor is already in hundredths of an FTE.
        let hundredths = (2 * 12 * u128::from(worked.hundredths) + divisor) / (2 * divisor);
        Fte { hundredths: u64::try_from(hundredths).unwrap_or(u64::MAX) }
    }
}

/// A number of days with one decimal, kept as tenths (`1825` is 182.5 days): the median of an
/// even number of pathways falls between two, and a mean rarely on a day.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug, Default)]
pub struct Days {
    pub tenths: u64,
}

impl Days {
    /// `total` days over `count`, rounded half up to the tenth; `None` over nobody.
    fn mean(total: u64, count: u64) -> Option<Days> {
        let (total, count) = (u128::from(total), u128::from(count));
        (count > 0).then(|| Days { tenths: u64::try_from((20 * total + count) / (2 * count)).unwrap_or(u64::MAX) })
    }

    /// The median of lengths given as (days, how many lasted them); `None` for none.
    fn median(spread: &BTreeMap<u64, u64>) -> Option<Days> {
        let count: u64 = spread.values().sum();
        if count == 0 {
            return None;
        }
        // The lengths at ranks ⌈count/2⌉ and ⌊count/2⌋ + 1 (1-based), the same for an odd count.
        let at = |rank: u64| {
            let mut seen = 0;
            spread.iter().find(|(_, n)| {
                seen += **n;
                seen >= rank
            })
        };
        let low = at(count.div_ceil(2)).map_or(0, |(days, _)| *days);
        let high = at(count / 2 + 1).map_or(0, |(days, _)| *days);
        Some(Days { tenths: 5 * (low + high) })
    }
}

impl fmt::Display for Days {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.tenths / 10, self.tenths % 10)
    }
}

impl Serialize for Days {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        // As `ratio::Percent`: the double nearest the decimal prints back with its digits.
        serializer.serialize_f64(self.tenths as f64 / 10.0)
    }
}

impl fmt::Display for Fte {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        format_hundredths(self.hundredths, f)
    }
}

impl Serialize for Fte {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        // As hours: exact hundredths, printed back with the same digits.
        TotalHours { hundredths: self.hundredths }.serialize(serializer)
    }
}

/// An amount as published: shown, or withheld (`null`) with the count of people behind it.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Shown<T> {
    Value(T),
    Withheld,
}

impl<T: Serialize> Serialize for Shown<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Shown::Value(value) => value.serialize(serializer),
            Shown::Withheld => serializer.serialize_none(),
        }
    }
}

impl<T: fmt::Display> fmt::Display for Shown<T> {
    /// As a CSV cell: a withheld amount is empty.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Shown::Value(value) => value.fmt(f),
            Shown::Withheld => Ok(()),
        }
    }
}

fn not(flag: &bool) -> bool {
    !flag
}

/// The figures of one report, or of one structure of a report over several.
///
/// The fields in `Option` are those version 2 of the definitions adds (CONTRACT §11): `None`
/// under version 1, and then not serialised at all, so that a version 1 report keeps its bytes.
#[derive(Clone, PartialEq, Eq, Debug, Serialize)]
pub struct Figures {
    pub people: PeopleFigures,
    pub contracts: ContractFigures,
    pub hours: HoursFigures,
    pub follow_up: FollowUpFigures,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub entries: Option<EntryFigures>,
    pub profile: ProfileFigures,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trainings: Option<TrainingFigures>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skills_assessments: Option<SkillsFigures>,
    pub support: SupportFigures,
    pub outcomes: OutcomeFigures,
}

#[derive(Clone, PartialEq, Eq, Debug, Serialize)]
pub struct PeopleFigures {
    pub followed: Disclosed,
    pub entered: Disclosed,
    pub exited: Disclosed,
    pub present_at_end: Disclosed,
    pub distinct_since_start: Disclosed,
    /// Version 2.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pathway_days: Option<PathwayDays>,
    #[serde(skip_serializing_if = "not")]
    pub suppressed: bool,
}

/// How long the pathways of the period's exits lasted, from referral to exit; `null` without exits.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize)]
pub struct PathwayDays {
    pub median: Shown<Option<Days>>,
    pub mean: Shown<Option<Days>>,
}

#[derive(Clone, PartialEq, Eq, Debug, Serialize)]
pub struct ContractFigures {
    pub on_contract_at_end: Disclosed,
    pub contracts_at_end: Disclosed,
    pub fte_at_end: Shown<Fte>,
    pub by_kind: Vec<KindRow>,
    /// Version 2: hours worked as full-time equivalents.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fte_worked: Option<Shown<Fte>>,
    /// Version 2: the full-time equivalents agreed (`null` when no agreement covers the period).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agreed_fte: Option<Option<Fte>>,
    #[serde(skip_serializing_if = "not")]
    pub suppressed: bool,
}

#[derive(Clone, PartialEq, Eq, Debug, Serialize)]
pub struct KindRow {
    pub kind: ContractKind,
    pub contracts: Disclosed,
    pub fte: Shown<Fte>,
    #[serde(skip_serializing_if = "not")]
    pub suppressed: bool,
}

#[derive(Clone, PartialEq, Eq, Debug, Serialize)]
pub struct HoursFigures {
    pub worked: Shown<TotalHours>,
    /// `None` when no agreement covers the period.
    pub agreed: Option<TotalHours>,
    pub worked_share_of_agreed: Disclosed,
    /// People with hours worked in the period.
    pub people: Disclosed,
    pub by_month: Vec<MonthRow>,
    pub by_gender: Vec<GenderHoursRow>,
    #[serde(skip_serializing_if = "not")]
    pub suppressed: bool,
}

#[derive(Clone, PartialEq, Eq, Debug, Serialize)]
pub struct MonthRow {
    pub month: Month,
    pub people: Disclosed,
    pub worked: Shown<TotalHours>,
    pub agreed: Option<TotalHours>,
    #[serde(skip_serializing_if = "not")]
    pub suppressed: bool,
}

#[derive(Clone, PartialEq, Eq, Debug, Serialize)]
pub struct GenderHoursRow {
    pub gender: Gender,
    pub people: Disclosed,
    pub hours: Shown<TotalHours>,
    pub share: Disclosed,
    #[serde(skip_serializing_if = "not")]
    pub suppressed: bool,
}

#[derive(Clone, PartialEq, Eq, Debug, Serialize)]
pub struct FollowUpFigures {
    pub committees_held: Disclosed,
    pub individual_meetings: Disclosed,
    pub overdue_at_end: Disclosed,
    /// Version 2.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group_sessions: Option<Disclosed>,
    /// Version 2.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone_contacts: Option<Disclosed>,
    #[serde(skip_serializing_if = "not")]
    pub suppressed: bool,
}

/// Entries of the period by what sent them (version 2).
#[derive(Clone, PartialEq, Eq, Debug, Serialize)]
pub struct EntryFigures {
    pub by_prescriber: Vec<PrescriberRow>,
    #[serde(skip_serializing_if = "not")]
    pub suppressed: bool,
}

#[derive(Clone, PartialEq, Eq, Debug, Serialize)]
pub struct PrescriberRow {
    pub prescriber: PrescriberKind,
    #[serde(flatten)]
    pub cell: Cell,
}

/// Trainings of the period (version 2).
#[derive(Clone, PartialEq, Eq, Debug, Serialize)]
pub struct TrainingFigures {
    pub started: Disclosed,
    pub completed: Disclosed,
    pub certified: Disclosed,
    #[serde(skip_serializing_if = "not")]
    pub suppressed: bool,
}

/// Skills assessments of the period (version 2).
#[derive(Clone, PartialEq, Eq, Debug, Serialize)]
pub struct SkillsFigures {
    pub count: Disclosed,
    pub by_kind: Vec<AssessmentRow>,
    #[serde(skip_serializing_if = "not")]
    pub suppressed: bool,
}

#[derive(Clone, PartialEq, Eq, Debug, Serialize)]
pub struct AssessmentRow {
    pub kind: AssessmentKind,
    pub count: Disclosed,
    #[serde(skip_serializing_if = "not")]
    pub suppressed: bool,
}

#[derive(Clone, PartialEq, Eq, Debug, Serialize)]
pub struct ProfileFigures {
    pub entries: Disclosed,
    pub by_gender: Vec<GenderRow>,
    pub by_situation_and_gender: Vec<SituationGenderRow>,
    pub by_age_band_and_gender: Vec<AgeBandGenderRow>,
    pub by_benefit: Vec<BenefitRow>,
    pub by_family_quotient: Vec<BandRow>,
    #[serde(skip_serializing_if = "not")]
    pub suppressed: bool,
}

#[derive(Clone, PartialEq, Eq, Debug, Serialize)]
pub struct BenefitRow {
    /// A benefit's code, or `none`.
    pub benefit: &'static str,
    #[serde(flatten)]
    pub cell: Cell,
}

#[derive(Clone, PartialEq, Eq, Debug, Serialize)]
pub struct BandRow {
    pub band: Band,
    #[serde(flatten)]
    pub cell: Cell,
}

#[derive(Clone, PartialEq, Eq, Debug, Serialize)]
pub struct SupportFigures {
    pub actions: Disclosed,
    pub by_domain_and_action: Vec<SupportRow>,
    pub oriented: Disclosed,
    pub partners: Vec<PartnerRow>,
    #[serde(skip_serializing_if = "not")]
    pub suppressed: bool,
}

#[derive(Clone, PartialEq, Eq, Debug, Serialize)]
pub struct SupportRow {
    pub domain: SupportDomain,
    /// `null` when the action was not said.
    pub action: Option<SupportAction>,
    pub count: Disclosed,
    #[serde(skip_serializing_if = "not")]
    pub suppressed: bool,
}

#[derive(Clone, PartialEq, Eq, Debug, Serialize)]
pub struct PartnerRow {
    pub partner: String,
    pub count: Disclosed,
    #[serde(skip_serializing_if = "not")]
    pub suppressed: bool,
}

/// As `/api/stats/outcomes` for the exits of the period, plus the situations found six months on.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct OutcomeFigures {
    pub counts: OutcomeCounts,
    /// Version 2: exits to a CDI, on their own.
    pub cdi: Option<Disclosed>,
    pub six_months_after_exit: Vec<SixMonthsRow>,
}

impl Serialize for OutcomeFigures {
    /// The counts as `/api/stats/outcomes` gives them, `cdi` after them, one `suppressed` flag
    /// for the object, then the six-month situations: a version 1 report keeps its bytes.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(None)?;
        for field in OutcomeField::ALL {
            map.serialize_entry(field.code(), &self.counts.get(field))?;
        }
        if let Some(cdi) = &self.cdi {
            map.serialize_entry("cdi", cdi)?;
        }
        if !self.counts.withheld.is_empty() || self.cdi == Some(Disclosed::Withheld) {
            map.serialize_entry("suppressed", &true)?;
        }
        map.serialize_entry("six_months_after_exit", &self.six_months_after_exit)?;
        map.end()
    }
}

#[derive(Clone, PartialEq, Eq, Debug, Serialize)]
pub struct SixMonthsRow {
    pub situation: SituationAfterExit,
    pub count: Disclosed,
    #[serde(skip_serializing_if = "not")]
    pub suppressed: bool,
}

/// A count and its share of `total`, as the entry statistics publish them.
fn cell(count: u64, total: u64) -> Cell {
    Cell {
        count: Disclosed::Count(count),
        share: Disclosed::Rate(Ratio::new(count, total).percent()),
        suppressed: false,
    }
}

/// A share of an amount, in percent; `null` when the whole is zero.
fn share_of(part: TotalHours, whole: TotalHours) -> Disclosed {
    Disclosed::Rate(Ratio::new(part.hundredths, whole.hundredths).percent())
}

/// What the sections need besides the tallies.
pub(crate) struct Context<'a> {
    pub months: &'a [Month],
    /// Agreed hours by month, for the months some agreement covers.
    pub agreed: &'a BTreeMap<Month, TotalHours>,
    /// The full-time equivalents agreed for the period, if an agreement in FTE covers it.
    pub agreed_fte: Option<Fte>,
    pub bands: &'a FamilyQuotientBands,
    pub outcomes: OutcomeCounts,
    /// Whether the figures of version 2 of the definitions are asked.
    pub funders: bool,
}

impl Figures {
    pub(crate) fn of(tallies: &Tallies, context: Context<'_>) -> Figures {
        let count = |figure: Figure| Disclosed::Count(tallies.count(figure));
        // What version 2 adds, only when asked.
        let funders = |figure: Figure| context.funders.then(|| count(figure));
        let mut contracts = contracts(tallies);
        if context.funders {
            let worked = tallies.hours(Figure::HoursWorked);
            contracts.fte_worked = Some(Shown::Value(Fte::of_worked(worked, context.months.len())));
            contracts.agreed_fte = Some(context.agreed_fte);
        }
        Figures {
            people: PeopleFigures {
                followed: count(Figure::Followed),
                entered: count(Figure::Entered),
                exited: count(Figure::Exited),
                present_at_end: count(Figure::PresentAtEnd),
                distinct_since_start: count(Figure::DistinctSinceStart),
                pathway_days: context.funders.then(|| {
                    let exits = tallies.get(Figure::PathwayDays);
                    PathwayDays {
                        median: Shown::Value(Days::median(tallies.pathway_days())),
                        mean: Shown::Value(Days::mean(exits.hours.hundredths, exits.count)),
                    }
                }),
                suppressed: false,
            },
            contracts,
            hours: hours(tallies, &context),
            follow_up: FollowUpFigures {
                committees_held: count(Figure::CommitteesHeld),
                individual_meetings: count(Figure::IndividualMeetings),
                overdue_at_end: count(Figure::OverdueAtEnd),
                group_sessions: funders(Figure::GroupSessions),
                phone_contacts: funders(Figure::PhoneContacts),
                suppressed: false,
            },
            entries: context.funders.then(|| entries(tallies)),
            profile: profile(tallies, context.bands),
            trainings: context.funders.then(|| TrainingFigures {
                started: count(Figure::TrainingsStarted),
                completed: count(Figure::TrainingsCompleted),
                certified: count(Figure::TrainingsCertified),
                suppressed: false,
            }),
            skills_assessments: context.funders.then(|| SkillsFigures {
                count: count(Figure::SkillsAssessments),
                by_kind: AssessmentKind::ALL
                    .iter()
                    .map(|&kind| (kind, tallies.count(Figure::SkillsAssessmentsByKind(kind))))
                    .filter(|&(_, n)| n > 0)
                    .map(|(kind, n)| AssessmentRow { kind, count: Disclosed::Count(n), suppressed: false })
                    .collect(),
                suppressed: false,
            }),
            support: support(tallies),
            outcomes: OutcomeFigures {
                counts: context.outcomes,
                cdi: funders(Figure::CdiExits),
                six_months_after_exit: SituationAfterExit::ALL
                    .iter()
                    .map(|&situation| (situation, tallies.count(Figure::SixMonthsAfterExit(situation))))
                    .filter(|&(_, count)| count > 0)
                    .map(|(situation, count)| SixMonthsRow {
                        situation,
                        count: Disclosed::Count(count),
                        suppressed: false,
                    })
                    .collect(),
            },
        }
    }
}

fn contracts(tallies: &Tallies) -> ContractFigures {
    ContractFigures {
        on_contract_at_end: Disclosed::Count(tallies.count(Figure::OnContractAtEnd)),
        contracts_at_end: Disclosed::Count(tallies.count(Figure::ContractsAtEnd)),
        fte_at_end: Shown::Value(Fte::of_weekly(tallies.hours(Figure::ContractsAtEnd))),
        by_kind: ContractKind::ALL
            .iter()
            .map(|&kind| (kind, tallies.get(Figure::ContractsByKind(kind))))
            .filter(|(_, tally)| tally.count > 0)
            .map(|(kind, tally)| KindRow {
                kind,
                contracts: Disclosed::Count(tally.count),
                fte: Shown::Value(Fte::of_weekly(tally.hours)),
                suppressed: false,
            })
            .collect(),
        fte_worked: None,
        agreed_fte: None,
        suppressed: false,
    }
}

fn entries(tallies: &Tallies) -> EntryFigures {
    let entries = tallies.count(Figure::Entries);
    EntryFigures {
        by_prescriber: PrescriberKind::ALL
            .iter()
            .map(|&prescriber| (prescriber, tallies.count(Figure::EntriesByPrescriber(prescriber))))
            .filter(|&(_, n)| n > 0)
            .map(|(prescriber, n)| PrescriberRow { prescriber, cell: cell(n, entries) })
            .collect(),
        suppressed: false,
    }
}

fn hours(tallies: &Tallies, context: &Context<'_>) -> HoursFigures {
    let worked = tallies.get(Figure::HoursWorked);
    let agreed = (!context.agreed.is_empty())
        .then(|| TotalHours { hundredths: context.agreed.values().map(|hours| hours.hundredths).sum() });
    HoursFigures {
        worked: Shown::Value(worked.hours),
        agreed,
        worked_share_of_agreed: share_of(worked.hours, agreed.unwrap_or_default()),
        people: Disclosed::Count(worked.count),
        by_month: context
            .months
            .iter()
            .enumerate()
            .map(|(place, &month)| {
                let tally = tallies.get(Figure::HoursByMonth(place));
                MonthRow {
                    month,
                    people: Disclosed::Count(tally.count),
                    worked: Shown::Value(tally.hours),
                    agreed: context.agreed.get(&month).copied(),
                    suppressed: false,
                }
            })
            .collect(),
        by_gender: Gender::ALL
            .iter()
            .map(|&gender| (gender, tallies.get(Figure::HoursByGender(gender))))
            .filter(|(_, tally)| tally.count > 0)
            .map(|(gender, tally)| GenderHoursRow {
                gender,
                people: Disclosed::Count(tally.count),
                hours: Shown::Value(tally.hours),
                share: share_of(tally.hours, worked.hours),
                suppressed: false,
            })
            .collect(),
        suppressed: false,
    }
}

fn profile(tallies: &Tallies, bands: &FamilyQuotientBands) -> ProfileFigures {
    let entries = tallies.count(Figure::Entries);
    let mut by_situation_and_gender = Vec::new();
    for &situation in Situation::ALL {
        for &gender in Gender::ALL {
            let n = tallies.count(Figure::EntriesBySituation(situation, gender));
            if n > 0 {
                by_situation_and_gender.push(SituationGenderRow { situation, gender, cell: cell(n, entries) });
            }
        }
    }
    let mut by_age_band_and_gender = Vec::new();
    for &age_band in AgeBand::ALL {
        for &gender in Gender::ALL {
            let n = tallies.count(Figure::EntriesByAgeBand(age_band, gender));
            if n > 0 {
                by_age_band_and_gender.push(AgeBandGenderRow { age_band, gender, cell: cell(n, entries) });
            }
        }
    }
    ProfileFigures {
        entries: Disclosed::Count(entries),
        by_gender: Gender::ALL
            .iter()
            .map(|&gender| (gender, tallies.count(Figure::EntriesByGender(gender))))
            .filter(|&(_, n)| n > 0)
            .map(|(gender, n)| GenderRow { gender, cell: cell(n, entries) })
            .collect(),
        by_situation_and_gender,
        by_age_band_and_gender,
        by_benefit: Benefit::ALL
            .iter()
            .map(|&benefit| Some(benefit))
            .chain([None])
            .map(|benefit| (benefit.map_or("none", Benefit::code), tallies.count(Figure::EntriesByBenefit(benefit))))
            .filter(|&(_, n)| n > 0)
            .map(|(benefit, n)| BenefitRow { benefit, cell: cell(n, entries) })
            .collect(),
        by_family_quotient: bands
            .bands()
            .into_iter()
            .enumerate()
            .map(|(place, band)| BandRow {
                band,
                cell: cell(tallies.count(Figure::EntriesByFamilyQuotient(place)), entries),
            })
            .collect(),
        suppressed: false,
    }
}

fn support(tallies: &Tallies) -> SupportFigures {
    let mut by_domain_and_action = Vec::new();
    for &domain in SupportDomain::ALL {
        let actions = SupportAction::ALL.iter().map(|&action| Some(action)).chain([None]);
        for action in actions {
            let n = tallies.count(Figure::SupportByDomainAndAction(domain, action));
            if n > 0 {
                by_domain_and_action.push(SupportRow { domain, action, count: Disclosed::Count(n), suppressed: false });
            }
        }
    }
    SupportFigures {
        actions: Disclosed::Count(tallies.count(Figure::SupportActions)),
        by_domain_and_action,
        oriented: Disclosed::Count(tallies.count(Figure::Oriented)),
        partners: tallies
            .partners()
            .into_iter()
            .map(|(partner, figure)| PartnerRow {
                partner: partner.to_owned(),
                count: Disclosed::Count(tallies.count(figure)),
                suppressed: false,
            })
            .collect(),
        suppressed: false,
    }
}

/// Agreed hours of one month: a twelfth of the year's, the twelfths rounded (half up, to the
/// hundredth) so that the first k months sum to round(k/12 of the year): the year is exact.
pub(crate) fn monthly_agreed(yearly: TotalHours, month: u8) -> TotalHours {
    let cumulated = |months: u64| (2 * yearly.hundredths * months + 12) / 24;
    let month = u64::from(month.clamp(1, 12));
    TotalHours { hundredths: cumulated(month) - cumulated(month - 1) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn twelfths_of_agreed_hours_sum_to_the_year() {
        for yearly in [420_000, 400_000, 100, 7, 0, 123_456_789] {
            let yearly = TotalHours { hundredths: yearly };
            let months: Vec<u64> = (1..=12).map(|month| monthly_agreed(yearly, month).hundredths).collect();
            assert_eq!(months.iter().sum::<u64>(), yearly.hundredths, "{yearly}");
            let (low, high) = (months.iter().min().unwrap(), months.iter().max().unwrap());
            assert!(high - low <= 1, "{months:?}");
        }
        assert_eq!(monthly_agreed(TotalHours { hundredths: 420_000 }, 5).to_string(), "350");
    }

    #[test]
    fn medians_and_means_of_days_to_the_tenth() {
        let spread = |days: &[u64]| {
            let mut spread = BTreeMap::new();
            for &day in days {
                *spread.entry(day).or_insert(0) += 1;
            }
            spread
        };
        // (lengths, median, mean) counted by hand.
        let cases: [(&[u64], &str, &str); 5] = [
            (&[10], "10.0", "10.0"),
            (&[10, 20], "15.0", "15.0"),
            (&[1, 2, 2, 100], "2.0", "26.3"), // 105 / 4 = 26.25 → 26.3
            (&[3, 1, 2], "2.0", "2.0"),
            (&[0, 1], "0.5", "0.5"),
        ];
        for (days, median, mean) in cases {
            assert_eq!(Days::median(&spread(days)).unwrap().to_string(), median, "{days:?}");
            let total: u64 = days.iter().sum();
            assert_eq!(Days::mean(total, days.len() as u64).unwrap().to_string(), mean, "{days:?}");
        }
        assert_eq!(Days::median(&BTreeMap::new()), None);
        assert_eq!(Days::mean(0, 0), None);
    }

    #[test]
    fn hours_worked_are_full_time_equivalents_of_1607_hours_a_year() {
        let hours = |h: u64| TotalHours { hundredths: h * 100 };
        // 24,105 h over a year: 15 FTE; 1,607 h over six months: 2 FTE; 803.5 h a year: 0.5.
        assert_eq!(Fte::of_worked(hours(24_105), 12).to_string(), "15");
        assert_eq!(Fte::of_worked(hours(1607), 6).to_string(), "2");
        assert_eq!(Fte::of_worked(TotalHours { hundredths: 80_350 }, 12).to_string(), "0.5");
        assert_eq!(Fte::of_worked(hours(1000), 12).to_string(), "0.62"); // 0.6222…
        assert_eq!(Fte::of_worked(hours(1000), 0).to_string(), "0");
    }

    #[test]
    fn full_time_equivalents_round_half_up() {
        let cases =
            [(2600, "0.74"), (3500, "1"), (1750, "0.5"), (35, "0.01"), (17, "0"), (18, "0.01"), (39000, "11.14")];
        for (weekly, fte) in cases {
            assert_eq!(Fte::of_weekly(TotalHours { hundredths: weekly }).to_string(), fte, "{weekly}");
        }
    }
}
