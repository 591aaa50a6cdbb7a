//! Entry statistics (`GET /api/stats/entries`, CONTRACT §5): the episodes whose referral is in the
//! period, by gender, by situation at entry × gender and by age band at referral × gender.
//!
//! `participants` counts episodes (a person referred twice in the period counts twice). Shares are
//! percentages of all participants, rounded half up to one decimal with integer arithmetic (see
//! `ratio`). Rows list only non-empty cells, in the contract's order of each list (situation, then
//! gender; age bands youngest first).

use std::fmt::Write as _;

use parcours_core::vocabulary::{Date, Gender, Situation, Slug};
use serde::Serialize;

use crate::age_band::AgeBand;
use crate::period::Period;
use crate::projections::Projections;
use crate::ratio::{Percent, Ratio};

#[derive(Clone, PartialEq, Eq, Debug)]
pub struct EntriesQuery {
    pub period: Period,
    /// Only the episodes referred to this structure.
    pub structure: Option<Slug>,
}

#[derive(Clone, PartialEq, Eq, Debug, Serialize)]
pub struct Entries {
    pub from: Date,
    pub to: Date,
    pub structure: Option<Slug>,
    pub participants: u64,
    pub by_gender: Vec<GenderRow>,
    pub by_situation_and_gender: Vec<SituationGenderRow>,
    pub by_age_band_and_gender: Vec<AgeBandGenderRow>,
}

#[derive(Clone, PartialEq, Eq, Debug, Serialize)]
pub struct GenderRow {
    pub gender: Gender,
    pub count: u64,
    pub share: Percent,
}

#[derive(Clone, PartialEq, Eq, Debug, Serialize)]
pub struct SituationGenderRow {
    pub situation: Situation,
    pub gender: Gender,
    pub count: u64,
    pub share: Percent,
}

#[derive(Clone, PartialEq, Eq, Debug, Serialize)]
pub struct AgeBandGenderRow {
    pub age_band: AgeBand,
    pub gender: Gender,
    pub count: u64,
    pub share: Percent,
}

/// Position of a value in its closed list, for counting in arrays.
fn index_of<T: PartialEq>(all: &[T], value: &T) -> usize {
    all.iter().position(|candidate| candidate == value).unwrap_or_default()
}

impl Projections {
    pub fn entries(&self, query: &EntriesQuery) -> Entries {
        let period = query.period;
        let genders = Gender::ALL.len();
        let mut by_gender = vec![0u64; genders];
        let mut by_situation = vec![0u64; Situation::ALL.len() * genders];
        let mut by_age_band = vec![0u64; AgeBand::ALL.len() * genders];
        let structure = query.structure.as_ref().map(|slug| self.structures.find(slug));
        // An unknown structure has no entries.
        if structure != Some(None) {
            let referrals = self.indexes.referrals.range((period.from, 0, 0)..=(period.to, u32::MAX, u32::MAX));
            for &(_, beneficiary_ix, episode_ix) in referrals {
                let summary = &self.beneficiary(beneficiary_ix).summary;
                let (Some(episode), Some(registration)) =
                    (summary.episodes.get(episode_ix as usize), summary.registration)
                else {
                    continue;
                };
                if structure.is_some_and(|structure| structure != Some(episode.facts.structure)) {
                    continue;
                }
                let gender = index_of(Gender::ALL, &registration.gender);
                let situation = index_of(Situation::ALL, &episode.facts.situation);
                let band = AgeBand::at(episode.referred_on.year(), registration.birth_year);
                by_gender[gender] += 1;
                by_situation[situation * genders + gender] += 1;
                by_age_band[index_of(AgeBand::ALL, &band) * genders + gender] += 1;
            }
        }
        let participants: u64 = by_gender.iter().sum();
        // Rows exist only for counts above 0, hence over at least one participant.
        let share = |count: u64| Ratio::new(count, participants).percent();
        let cells = |counts: &[u64]| -> Vec<(usize, usize, u64, Percent)> {
            counts
                .iter()
                .enumerate()
                .filter_map(|(cell, &count)| {
                    share(count).filter(|_| count > 0).map(|s| (cell / genders, cell % genders, count, s))
                })
                .collect()
        };
        Entries {
            from: period.from,
            to: period.to,
            structure: query.structure.clone(),
            participants,
            by_gender: cells(&by_gender)
                .into_iter()
                .map(|(_, gender, count, share)| GenderRow { gender: Gender::ALL[gender], count, share })
                .collect(),
            by_situation_and_gender: cells(&by_situation)
                .into_iter()
                .map(|(situation, gender, count, share)| SituationGenderRow {
                    situation: Situation::ALL[situation],
                    gender: Gender::ALL[gender],
                    count,
                    share,
                })
                .collect(),
            by_age_band_and_gender: cells(&by_age_band)
                .into_iter()
                .map(|(band, gender, count, share)| AgeBandGenderRow {
                    age_band: AgeBand::ALL[band],
                    gender: Gender::ALL[gender],
                    count,
                    share,
                })
                .collect(),
        }
    }
}

impl Entries {
    /// CSV with a header row: one row per cell of the three tables, `table` naming which; the
    /// columns a table does not use are empty. The first row gives the participants.
    pub fn to_csv(&self) -> String {
        let mut csv = String::from("table,situation,age_band,gender,count,share\n");
        let _ = writeln!(csv, "participants,,,,{},", self.participants);
        for row in &self.by_gender {
            let _ = writeln!(csv, "by_gender,,,{},{},{}", row.gender, row.count, row.share);
        }
        for row in &self.by_situation_and_gender {
            let _ =
                writeln!(csv, "by_situation_and_gender,{},,{},{},{}", row.situation, row.gender, row.count, row.share);
        }
        for row in &self.by_age_band_and_gender {
            let _ =
                writeln!(csv, "by_age_band_and_gender,,{},{},{},{}", row.age_band, row.gender, row.count, row.share);
        }
        csv
    }
}
