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
    format_hundredths, Benefit, ContractKind, Gender, Month, Situation, SituationAfterExit, SupportAction,
    SupportDomain,
};
use serde::{Serialize, Serializer};

use super::bands::{Band, FamilyQuotientBands};
use super::figure::{Figure, Tallies};
use crate::age_band::AgeBand;
use crate::disclosed::Disclosed;
use crate::entries::{AgeBandGenderRow, Cell, GenderRow, SituationGenderRow};
use crate::exits::OutcomeCounts;
use crate::hours::TotalHours;
use crate::ratio::Ratio;

/// The weekly hours of one full-time job, for full-time equivalents.
pub const FULL_TIME_WEEKLY_HOURS: u64 = 35;

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
#[derive(Clone, PartialEq, Eq, Debug, Serialize)]
pub struct Figures {
    pub people: PeopleFigures,
    pub contracts: ContractFigures,
    pub hours: HoursFigures,
    pub follow_up: FollowUpFigures,
    pub profile: ProfileFigures,
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
    #[serde(skip_serializing_if = "not")]
    pub suppressed: bool,
}

#[derive(Clone, PartialEq, Eq, Debug, Serialize)]
pub struct ContractFigures {
    pub on_contract_at_end: Disclosed,
    pub contracts_at_end: Disclosed,
    pub fte_at_end: Shown<Fte>,
    pub by_kind: Vec<KindRow>,
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
#[derive(Clone, PartialEq, Eq, Debug, Serialize)]
pub struct OutcomeFigures {
    #[serde(flatten)]
    pub counts: OutcomeCounts,
    pub six_months_after_exit: Vec<SixMonthsRow>,
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
    pub bands: &'a FamilyQuotientBands,
    pub outcomes: OutcomeCounts,
}

impl Figures {
    pub(crate) fn of(tallies: &Tallies, context: Context<'_>) -> Figures {
        let count = |figure: Figure| Disclosed::Count(tallies.count(figure));
        Figures {
            people: PeopleFigures {
                followed: count(Figure::Followed),
                entered: count(Figure::Entered),
                exited: count(Figure::Exited),
                present_at_end: count(Figure::PresentAtEnd),
                distinct_since_start: count(Figure::DistinctSinceStart),
                suppressed: false,
            },
            contracts: contracts(tallies),
            hours: hours(tallies, &context),
            follow_up: FollowUpFigures {
                committees_held: count(Figure::CommitteesHeld),
                individual_meetings: count(Figure::IndividualMeetings),
                overdue_at_end: count(Figure::OverdueAtEnd),
                suppressed: false,
            },
            profile: profile(tallies, context.bands),
            support: support(tallies),
            outcomes: OutcomeFigures {
                counts: context.outcomes,
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
    fn full_time_equivalents_round_half_up() {
        let cases =
            [(2600, "0.74"), (3500, "1"), (1750, "0.5"), (35, "0.01"), (17, "0"), (18, "0.01"), (39000, "11.14")];
        for (weekly, fte) in cases {
            assert_eq!(Fte::of_weekly(TotalHours { hundredths: weekly }).to_string(), fte, "{weekly}");
        }
    }
}
