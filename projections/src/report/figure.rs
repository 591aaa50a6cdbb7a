//! What the report counts, named by type rather than by string: [`Figure`], and the tallies of
//! one report ([`Tallies`]).
//!
//! Why typed: the walk over a national log files tens of millions of rows, and a figure's string
//! id (`profile.by_situation_and_gender.rsa.female`) cost an allocation and a map lookup each
//! time. A [`Figure`] is a small value placed in a dense table, so counting costs an addition;
//! its string id ([`Ids::id`]) is written only for the lists a reader opens and for the cells.

use std::collections::HashMap;

use std::collections::BTreeMap;

use parcours_core::vocabulary::{
    AssessmentKind, Benefit, ContractKind, Gender, Month, PrescriberKind, Situation, SituationAfterExit, SupportAction,
    SupportDomain,
};

use super::bands::{Band, FamilyQuotientBands};
use crate::age_band::AgeBand;
use crate::exits::OutcomeField;
use crate::hours::TotalHours;

/// One figure of the report with a list behind it.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Figure {
    Followed,
    Entered,
    Exited,
    PresentAtEnd,
    DistinctSinceStart,
    OnContractAtEnd,
    ContractsAtEnd,
    ContractsByKind(ContractKind),
    HoursWorked,
    /// The month's place in the period's months (`lists::months_of`).
    HoursByMonth(usize),
    HoursByGender(Gender),
    CommitteesHeld,
    /// Not a figure: who each committee reviewed (see `report::changes`).
    CommitteeAttendance,
    IndividualMeetings,
    OverdueAtEnd,
    Entries,
    EntriesByGender(Gender),
    EntriesBySituation(Situation, Gender),
    EntriesByAgeBand(AgeBand, Gender),
    /// `None`: entries with no benefit.
    EntriesByBenefit(Option<Benefit>),
    /// The band's place in [`FamilyQuotientBands::bands`].
    EntriesByFamilyQuotient(usize),
    SupportActions,
    /// `None`: the action was not said.
    SupportByDomainAndAction(SupportDomain, Option<SupportAction>),
    Oriented,
    /// The partner's place in [`Tallies::partners`].
    Partner(usize),
    Outcome(OutcomeField),
    SixMonthsAfterExit(SituationAfterExit),
    // What version 2 of the definitions adds (CONTRACT §11); filed only under it.
    /// Exits to a CDI, on their own.
    CdiExits,
    /// Exits of the period, each with the days its pathway lasted ([`Tallies::pathway_days`]).
    PathwayDays,
    TrainingsStarted,
    TrainingsCompleted,
    TrainingsCertified,
    SkillsAssessments,
    SkillsAssessmentsByKind(AssessmentKind),
    PhoneContacts,
    GroupSessions,
    /// Not a figure: who each group session gathered, as [`Figure::CommitteeAttendance`].
    GroupAttendance,
    EntriesByPrescriber(PrescriberKind),
}

const GENDERS: usize = Gender::ALL.len();
const ACTIONS: usize = SupportAction::ALL.len() + 1;
/// The families of [`Figure::place`].
const FAMILIES: usize = 15;
/// The family of [`Figure::Partner`], whose places are per part of a walk.
const PARTNERS: usize = 10;

impl Figure {
    /// Its family and its place in the family: the tallies are a small table per family.
    fn place(self) -> (usize, usize) {
        use Figure::*;
        match self {
            Followed => (0, 0),
            Entered => (0, 1),
            Exited => (0, 2),
            PresentAtEnd => (0, 3),
            DistinctSinceStart => (0, 4),
            OnContractAtEnd => (0, 5),
            ContractsAtEnd => (0, 6),
            HoursWorked => (0, 7),
            CommitteesHeld => (0, 8),
            CommitteeAttendance => (0, 9),
            IndividualMeetings => (0, 10),
            OverdueAtEnd => (0, 11),
            Entries => (0, 12),
            SupportActions => (0, 13),
            Oriented => (0, 14),
            ContractsByKind(kind) => (1, kind.index()),
            HoursByMonth(month) => (2, month),
            HoursByGender(gender) => (3, gender.index()),
            EntriesByGender(gender) => (4, gender.index()),
            EntriesBySituation(situation, gender) => (5, situation.index() * GENDERS + gender.index()),
            EntriesByAgeBand(band, gender) => (6, band as usize * GENDERS + gender.index()),
            EntriesByBenefit(benefit) => (7, benefit.map_or(Benefit::ALL.len(), Benefit::index)),
            EntriesByFamilyQuotient(band) => (8, band),
            SupportByDomainAndAction(domain, action) => {
                (9, domain.index() * ACTIONS + action.map_or(ACTIONS - 1, SupportAction::index))
            }
            Partner(partner) => (PARTNERS, partner),
            Outcome(field) => (11, field as usize),
            SixMonthsAfterExit(situation) => (12, situation.index()),
            CdiExits => (0, 15),
            PathwayDays => (0, 16),
            TrainingsStarted => (0, 17),
            TrainingsCompleted => (0, 18),
            TrainingsCertified => (0, 19),
            SkillsAssessments => (0, 20),
            PhoneContacts => (0, 21),
            GroupSessions => (0, 22),
            GroupAttendance => (0, 23),
            SkillsAssessmentsByKind(kind) => (13, kind.index()),
            EntriesByPrescriber(kind) => (14, kind.index()),
        }
    }
}

/// A figure's count, and the hours its rows sum (hours worked, or the weekly hours of contracts;
/// for [`Figure::PathwayDays`], the days of its pathways, in `hours.hundredths`).
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub(crate) struct Tally {
    pub count: u64,
    pub hours: TotalHours,
}

/// Every figure's tally for one report, and the partners named by its orientations.
#[derive(Clone, Debug, Default)]
pub(crate) struct Tallies {
    families: [Vec<Tally>; FAMILIES],
    /// By order of first appearance; [`Figure::Partner`] holds the place.
    partners: Vec<String>,
    partner_ix: HashMap<String, usize, foldhash::fast::FixedState>,
    /// How many pathways of [`Figure::PathwayDays`] lasted each number of days: a median needs
    /// the spread, which a count and a sum do not keep.
    pathway_days: BTreeMap<u64, u64>,
}

impl Tallies {
    pub(crate) fn add(&mut self, figure: Figure, hundredths: u64) {
        let (family, place) = figure.place();
        self.add_at(family, place, Tally { count: 1, hours: TotalHours { hundredths } });
        if figure == Figure::PathwayDays {
            *self.pathway_days.entry(hundredths).or_default() += 1;
        }
    }

    /// The lengths of the pathways of [`Figure::PathwayDays`], in days, with how many lasted each.
    pub(crate) fn pathway_days(&self) -> &BTreeMap<u64, u64> {
        &self.pathway_days
    }

    /// Adds `tally` at `place` of `family`, growing the family's table to hold it.
    fn add_at(&mut self, family: usize, place: usize, tally: Tally) {
        let family = &mut self.families[family];
        if family.len() <= place {
            family.resize(place + 1, Tally::default());
        }
        family[place].count += tally.count;
        family[place].hours.hundredths += tally.hours.hundredths;
    }

    pub(crate) fn get(&self, figure: Figure) -> Tally {
        let (family, place) = figure.place();
        self.families[family].get(place).copied().unwrap_or_default()
    }

    pub(crate) fn count(&self, figure: Figure) -> u64 {
        self.get(figure).count
    }

    pub(crate) fn hours(&self, figure: Figure) -> TotalHours {
        self.get(figure).hours
    }

    /// The figure of a partner, named as its support actions name it.
    pub(crate) fn partner(&mut self, name: &str) -> Figure {
        if let Some(&place) = self.partner_ix.get(name) {
            return Figure::Partner(place);
        }
        self.partners.push(name.to_owned());
        self.partner_ix.insert(name.to_owned(), self.partners.len() - 1);
        Figure::Partner(self.partners.len() - 1)
    }

    /// Adds another part's tallies; returns where each of its partners now is.
    pub(crate) fn absorb(&mut self, other: Tallies) -> Vec<Figure> {
        let partners: Vec<Figure> = other.partners.iter().map(|name| self.partner(name)).collect();
        for (days, count) in other.pathway_days {
            *self.pathway_days.entry(days).or_default() += count;
        }
        for (family, theirs) in other.families.into_iter().enumerate() {
            for (place, tally) in theirs.into_iter().enumerate() {
                let place = match partners.get(place) {
                    Some(Figure::Partner(moved)) if family == PARTNERS => *moved,
                    _ => place,
                };
                self.add_at(family, place, tally);
            }
        }
        partners
    }

    /// The partners and their figures, by name.
    pub(crate) fn partners(&self) -> Vec<(&str, Figure)> {
        let mut partners: Vec<(&str, Figure)> =
            self.partners.iter().enumerate().map(|(place, name)| (name.as_str(), Figure::Partner(place))).collect();
        partners.sort_unstable_by_key(|(name, _)| *name);
        partners
    }
}

/// The list of the exits whose pathways' lengths the median and mean are taken over.
pub(crate) const PATHWAY_DAYS: &str = "people.pathway_days";

/// The list of the people each group session gathered: one row per person and session.
pub(crate) const GROUP_ATTENDANCE: &str = "follow_up.group_attendance";

/// What names a figure as a string: the months and bands of the question, the partners met.
pub(crate) struct Ids<'a> {
    pub months: &'a [Month],
    pub bands: Vec<Band>,
    pub partners: &'a [String],
}

impl<'a> Ids<'a> {
    pub(crate) fn new(months: &'a [Month], bands: &FamilyQuotientBands, tallies: &'a Tallies) -> Ids<'a> {
        Ids { months, bands: bands.bands(), partners: &tallies.partners }
    }

    /// The figure's id, which is also its list's: `people.followed`, `profile.by_gender.female`.
    pub(crate) fn id(&self, figure: Figure) -> String {
        use Figure::*;
        match figure {
            Followed => "people.followed".into(),
            Entered => "people.entered".into(),
            Exited => "people.exited".into(),
            PresentAtEnd => "people.present_at_end".into(),
            DistinctSinceStart => "people.distinct_since_start".into(),
            OnContractAtEnd => "contracts.on_contract_at_end".into(),
            ContractsAtEnd => "contracts.contracts_at_end".into(),
            ContractsByKind(kind) => format!("contracts.by_kind.{kind}"),
            HoursWorked => "hours.worked".into(),
            HoursByMonth(month) => match self.months.get(month) {
                Some(month) => format!("hours.by_month.{month}"),
                None => format!("hours.by_month.{month}"),
            },
            HoursByGender(gender) => format!("hours.by_gender.{gender}"),
            CommitteesHeld => "follow_up.committees_held".into(),
            CommitteeAttendance => "follow_up.committee_attendance".into(),
            IndividualMeetings => "follow_up.individual_meetings".into(),
            OverdueAtEnd => "follow_up.overdue_at_end".into(),
            Entries => "profile.entries".into(),
            EntriesByGender(gender) => format!("profile.by_gender.{gender}"),
            EntriesBySituation(situation, gender) => format!("profile.by_situation_and_gender.{situation}.{gender}"),
            EntriesByAgeBand(band, gender) => format!("profile.by_age_band_and_gender.{band}.{gender}"),
            EntriesByBenefit(benefit) => format!("profile.by_benefit.{}", benefit.map_or("none", Benefit::code)),
            EntriesByFamilyQuotient(band) => match self.bands.get(band) {
                Some(band) => format!("profile.by_family_quotient.{band}"),
                None => format!("profile.by_family_quotient.{band}"),
            },
            SupportActions => "support.actions".into(),
            SupportByDomainAndAction(domain, action) => {
                format!("support.by_domain_and_action.{domain}.{}", action.map_or("unspecified", SupportAction::code))
            }
            Oriented => "support.oriented".into(),
            Partner(partner) => format!("support.partners.{}", self.partners.get(partner).map_or("", String::as_str)),
            Outcome(field) => format!("outcomes.{}", field.code()),
            SixMonthsAfterExit(situation) => format!("outcomes.six_months_after_exit.{situation}"),
            CdiExits => "outcomes.cdi".into(),
            PathwayDays => PATHWAY_DAYS.into(),
            TrainingsStarted => "trainings.started".into(),
            TrainingsCompleted => "trainings.completed".into(),
            TrainingsCertified => "trainings.certified".into(),
            SkillsAssessments => "skills_assessments.count".into(),
            SkillsAssessmentsByKind(kind) => format!("skills_assessments.by_kind.{kind}"),
            PhoneContacts => "follow_up.phone_contacts".into(),
            GroupSessions => "follow_up.group_sessions".into(),
            GroupAttendance => GROUP_ATTENDANCE.into(),
            EntriesByPrescriber(kind) => format!("entries.by_prescriber.{kind}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every figure a question can name, partners aside.
    fn every_figure(months: usize, bands: usize) -> Vec<Figure> {
        use Figure::*;
        let mut all = vec![
            Followed,
            Entered,
            Exited,
            PresentAtEnd,
            DistinctSinceStart,
            OnContractAtEnd,
            ContractsAtEnd,
            HoursWorked,
            CommitteesHeld,
            CommitteeAttendance,
            IndividualMeetings,
            OverdueAtEnd,
            Entries,
            SupportActions,
            Oriented,
            CdiExits,
            PathwayDays,
            TrainingsStarted,
            TrainingsCompleted,
            TrainingsCertified,
            SkillsAssessments,
            PhoneContacts,
            GroupSessions,
            GroupAttendance,
        ];
        all.extend(AssessmentKind::ALL.iter().map(|&kind| SkillsAssessmentsByKind(kind)));
        all.extend(PrescriberKind::ALL.iter().map(|&kind| EntriesByPrescriber(kind)));
        all.extend(ContractKind::ALL.iter().map(|&kind| ContractsByKind(kind)));
        all.extend((0..months).map(HoursByMonth));
        for &gender in Gender::ALL {
            all.extend([HoursByGender(gender), EntriesByGender(gender)]);
            all.extend(Situation::ALL.iter().map(|&situation| EntriesBySituation(situation, gender)));
            all.extend(AgeBand::ALL.iter().map(|&band| EntriesByAgeBand(band, gender)));
        }
        all.extend(Benefit::ALL.iter().map(|&benefit| EntriesByBenefit(Some(benefit))));
        all.push(EntriesByBenefit(None));
        all.extend((0..bands).map(EntriesByFamilyQuotient));
        for &domain in SupportDomain::ALL {
            all.extend(SupportAction::ALL.iter().map(|&action| SupportByDomainAndAction(domain, Some(action))));
            all.push(SupportByDomainAndAction(domain, None));
        }
        all.extend(OutcomeField::ALL.into_iter().map(Outcome));
        all.extend(SituationAfterExit::ALL.iter().map(|&situation| SixMonthsAfterExit(situation)));
        all
    }

    #[test]
    fn every_figure_has_a_place_and_an_id_of_its_own() {
        let months: Vec<Month> = (1..=12).filter_map(|month| Month::new(2024, month)).collect();
        let bands: FamilyQuotientBands = "500,1000".parse().unwrap();
        let tallies = Tallies::default();
        let ids = Ids::new(&months, &bands, &tallies);
        let all = every_figure(months.len(), bands.bands().len());
        let places: std::collections::BTreeSet<(usize, usize)> = all.iter().map(|figure| figure.place()).collect();
        let names: std::collections::BTreeSet<String> = all.iter().map(|&figure| ids.id(figure)).collect();
        assert_eq!(places.len(), all.len(), "two figures share a place");
        assert_eq!(names.len(), all.len(), "two figures share an id");
        assert!(names.contains("profile.by_situation_and_gender.unemployed.female"), "{names:?}");
        assert!(names.contains("hours.by_month.2024-03"));
        assert!(names.contains("profile.by_family_quotient.500_to_999"));
        assert!(names.contains("support.by_domain_and_action.housing.unspecified"));
    }

    #[test]
    fn tallies_count_and_sum_per_figure() {
        let mut tallies = Tallies::default();
        tallies.add(Figure::HoursByGender(Gender::Male), 150);
        tallies.add(Figure::HoursByGender(Gender::Male), 25);
        tallies.add(Figure::HoursByGender(Gender::Female), 1);
        let siao = tallies.partner("SIAO 47");
        assert_eq!(tallies.partner("Banque alimentaire"), Figure::Partner(1));
        assert_eq!(tallies.partner("SIAO 47"), siao);
        tallies.add(siao, 0);
        assert_eq!(
            tallies.get(Figure::HoursByGender(Gender::Male)),
            Tally { count: 2, hours: TotalHours { hundredths: 175 } }
        );
        assert_eq!(tallies.count(Figure::HoursByGender(Gender::NonBinary)), 0);
        assert_eq!(tallies.count(siao), 1);
        let names: Vec<&str> = tallies.partners().into_iter().map(|(name, _)| name).collect();
        assert_eq!(names, ["Banque alimentaire", "SIAO 47"]);
    }
}
