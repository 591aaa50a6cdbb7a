//! The lists behind the activity report's figures, and the one pass that fills them.
//!
//! Every count of the report is the length of one of these lists, and every sum of hours the sum
//! of its rows: the page's figures and the lists a coordinator opens behind them cannot disagree,
//! because the figures are read off the lists (`report::sections`). A list is named by its figure
//! id (`people.followed`, `profile.by_gender.female`, `support.partners.SIAO 47`...).
//!
//! Exits come from [`Projections::exits_of`], the selection that outcome statistics count, and
//! are filed under each outcome count with the predicate that count uses ([`OutcomeField::holds`]).

use std::collections::{BTreeMap, BTreeSet};

use chrono::Days;
use parcours_core::vocabulary::{
    Benefit, ContractKind, Date, Destination, FollowUpKind, Hours, Month, SituationAfterExit, Slug, StreamId,
    SupportAction, SupportDomain,
};
use serde::Serialize;

use super::bands::FamilyQuotientBands;
use super::track::Track;
use crate::age_band::AgeBand;
use crate::dashboard::FOLLOW_UP_OVERDUE_AFTER_DAYS;
use crate::hours::TotalHours;
use crate::outcomes::OutcomeField;
use crate::period::Period;
use crate::projections::Projections;
use crate::structures::StructureIx;

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

    /// The ids that start with `prefix`, with what follows it, in order.
    pub fn under<'a>(&'a self, prefix: &'a str) -> impl Iterator<Item = (&'a str, &'a [Row])> + 'a {
        self.0
            .range::<str, _>((std::ops::Bound::Included(prefix), std::ops::Bound::Unbounded))
            .take_while(move |(id, _)| id.starts_with(prefix))
            .map(move |(id, rows)| (&id[prefix.len()..], rows.as_slice()))
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

/// Per person and structure: the first day of the first month with hours, and the hours.
type HoursByPerson = BTreeMap<(String, StreamId, StructureIx), (Date, TotalHours)>;

/// Fills every list of a report over `structures` (each person once across them).
pub(crate) fn gather(
    projections: &Projections,
    period: Period,
    structures: &[StructureIx],
    bands: &FamilyQuotientBands,
) -> Lists {
    let mut lists = Lists::default();
    let slug = |ix: StructureIx| projections.structures.slug(ix).clone();
    let row = |on: Date, beneficiary: StreamId, structure: StructureIx| Row {
        on,
        beneficiary: Some(beneficiary),
        structure: slug(structure),
        until: None,
        detail: None,
    };
    let (from, to) = (period.from, period.to);
    let overdue_before = to.0.checked_sub_days(Days::new(FOLLOW_UP_OVERDUE_AFTER_DAYS)).map(Date);
    let counted: BTreeSet<Month> = months_of(period).into_iter().collect();
    let mut hours: HoursByPerson = BTreeMap::new();
    let mut committees: BTreeMap<(StructureIx, Date), BTreeSet<StreamId>> = BTreeMap::new();

    for beneficiary in &projections.beneficiaries {
        let ours = |structure: StructureIx| structures.contains(&structure);
        let relevant = beneficiary.summary.episodes.iter().any(|e| ours(e.facts.structure) && e.referred_on <= to);
        let Some(registration) = beneficiary.summary.registration.filter(|_| relevant) else { continue };
        let track = Track::of(beneficiary, &projections.histories);
        let person = beneficiary.stream;
        let gender = registration.gender.code();
        // Across the structures asked, a person counts once: these keep their first (or last) episode.
        let mut first_referral: Option<(Date, StructureIx)> = None;
        let mut followed: Option<Row> = None;
        let mut on_contract: Option<(Date, StructureIx)> = None;

        for (episode, steps) in track.summary.episodes.iter().zip(&track.episodes) {
            let structure = episode.facts.structure;
            if !ours(structure) || episode.referred_on > to {
                continue;
            }
            let referred_on = episode.referred_on;
            let exited_on = episode.exit.map(|exit| exit.exited_on);
            first_referral = first_referral.or(Some((referred_on, structure)));
            if exited_on.is_none_or(|exited| exited >= from) {
                let followed = followed.get_or_insert_with(|| row(referred_on, person, structure));
                followed.until = exited_on;
                followed.structure = slug(structure);
            }
            if period.contains(referred_on) {
                let entry = row(referred_on, person, structure);
                lists.push("people.entered", entry.clone());
                lists.push("profile.entries", entry.clone());
                lists.push(format!("profile.by_gender.{gender}"), entry.clone());
                let situation = episode.facts.situation.code();
                lists.push(format!("profile.by_situation_and_gender.{situation}.{gender}"), entry.clone());
                let band = AgeBand::at(referred_on.year(), registration.birth_year);
                lists.push(format!("profile.by_age_band_and_gender.{band}.{gender}"), entry.clone());
                let benefits = episode.facts.benefits.to_vec();
                for benefit in &benefits {
                    lists.push(format!("profile.by_benefit.{}", Benefit::code(*benefit)), entry.clone());
                }
                if benefits.is_empty() {
                    lists.push("profile.by_benefit.none", entry.clone());
                }
                let band = bands.band_of(episode.facts.family_quotient);
                lists.push(format!("profile.by_family_quotient.{band}"), entry);
            }
            if exited_on.is_none_or(|exited| exited > to) {
                lists.push("people.present_at_end", row(referred_on, person, structure));
                let last_follow_up = steps.follow_ups.iter().map(|(on, _)| *on).filter(|on| *on <= to).max();
                let last_contact = last_follow_up.map_or(referred_on, |on| on.max(referred_on));
                if overdue_before.is_some_and(|before| last_contact < before) {
                    lists.push("follow_up.overdue_at_end", row(last_contact, person, structure));
                }
            }
            for span in steps.contracts.iter().filter(|span| span.open_on(to)) {
                let contract = Row {
                    until: span.planned_end,
                    detail: Some(Detail::Contract { contract_kind: span.kind, weekly_hours: span.weekly_hours }),
                    ..row(span.started_on, person, structure)
                };
                lists.push("contracts.contracts_at_end", contract.clone());
                lists.push(format!("contracts.by_kind.{}", span.kind.code()), contract);
                if on_contract.is_none_or(|(on, _)| span.started_on < on) {
                    on_contract = Some((span.started_on, structure));
                }
            }
            for &(month, worked) in steps.hours.iter().filter(|(month, _)| counted.contains(month)) {
                for id in
                    ["hours.worked".to_owned(), format!("hours.by_month.{month}"), format!("hours.by_gender.{gender}")]
                {
                    let (first, total) =
                        hours.entry((id, person, structure)).or_insert((month.first_day(), TotalHours::default()));
                    *first = (*first).min(month.first_day());
                    *total += worked;
                }
            }
            for &(on, kind) in steps.follow_ups.iter().filter(|(on, _)| period.contains(*on)) {
                match kind {
                    FollowUpKind::Committee => {
                        committees.entry((structure, on)).or_default().insert(person);
                    }
                    FollowUpKind::Individual => lists.push("follow_up.individual_meetings", row(on, person, structure)),
                    FollowUpKind::Phone | FollowUpKind::Group => {}
                }
            }
            for support in steps.supports.iter().filter(|support| period.contains(support.on)) {
                let partner = support.partner.map(|partner| beneficiary.names.get(partner).to_owned());
                let action = support.action.map_or("unspecified", SupportAction::code);
                let entry = Row {
                    detail: Some(Detail::Support {
                        domain: support.domain,
                        action: support.action,
                        partner: partner.clone(),
                    }),
                    ..row(support.on, person, structure)
                };
                lists.push("support.actions", entry.clone());
                lists.push(format!("support.by_domain_and_action.{}.{action}", support.domain.code()), entry.clone());
                if let (Some(SupportAction::Orientation), Some(partner)) = (support.action, partner) {
                    lists.push("support.oriented", entry.clone());
                    lists.push(format!("support.partners.{partner}"), entry);
                }
            }
        }
        if let Some((on, structure)) = first_referral {
            lists.push("people.distinct_since_start", row(on, person, structure));
        }
        if let Some(followed) = followed {
            lists.push("people.followed", followed);
        }
        if let Some((on, structure)) = on_contract {
            lists.push("contracts.on_contract_at_end", row(on, person, structure));
        }
    }

    for ((id, person, structure), (first, total)) in hours {
        lists.push(id, Row { detail: Some(Detail::Hours { hours: total }), ..row(first, person, structure) });
    }
    for ((structure, on), people) in committees {
        let detail = Some(Detail::Committee { people: people.len() as u64 });
        lists.push(
            "follow_up.committees_held",
            Row { on, beneficiary: None, structure: slug(structure), until: None, detail },
        );
        // Not a figure: who each committee reviewed, so that a committee that came or went can
        // be traced to the people whose follow-ups made it (`report::changes`).
        for person in people {
            lists.push(COMMITTEE_ATTENDANCE, row(on, person, structure));
        }
    }
    for exit in projections.exits_of(period, Some(structures)) {
        let person = projections.beneficiary(exit.beneficiary).stream;
        let entry = Row {
            until: None,
            detail: Some(Detail::Exit { destination: exit.exit.destination }),
            ..row(exit.exit.exited_on, person, exit.episode.facts.structure)
        };
        lists.push("people.exited", entry.clone());
        for field in OutcomeField::ALL.into_iter().filter(|field| field.holds(&exit.facts)) {
            lists.push(format!("outcomes.{}", field.code()), entry.clone());
        }
        if let Some(situation) = exit.facts.six_months_after {
            let detail = Some(Detail::SixMonths { situation });
            lists.push(format!("outcomes.six_months_after_exit.{}", situation.code()), Row { detail, ..entry });
        }
    }
    for rows in lists.0.values_mut() {
        rows.sort();
    }
    lists
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
