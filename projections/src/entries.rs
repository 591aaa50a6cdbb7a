//! Entry statistics (`GET /api/stats/entries`, CONTRACT §5): the episodes whose referral is in the
//! period, by gender, by situation at entry × gender and by age band at referral × gender.
//!
//! `participants` counts episodes (a person referred twice in the period counts twice), and the
//! same referral recorded on two records of a person that were merged (CONTRACT §10: same
//! structure, same day) once: a duplicate record duplicates its episodes, not the person's. Shares are
//! percentages of all participants, rounded half up to one decimal with integer arithmetic (see
//! `ratio`). Rows list only non-empty cells, in the contract's order of each list (situation, then
//! gender; age bands youngest first).

use std::collections::HashSet;
use std::fmt::Write as _;

use parcours_core::vocabulary::{Date, Gender, Situation, Slug};
use serde::Serialize;

use crate::age_band::AgeBand;
use crate::disclosed::Disclosed;
use crate::disclosure::{suppress_alike, CellsWithheld, Table};
use crate::period::Period;
use crate::projections::Projections;
use crate::ratio::{Percent, Ratio};

/// Where each figure of [`Entries`] sits in its table.
struct EntriesCells {
    participants: usize,
    genders: Vec<usize>,
    situations: Vec<Vec<usize>>,
    bands: Vec<Vec<usize>>,
}

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
    pub participants: Disclosed,
    /// Whether `participants` was withheld (evaluators' outputs, see `disclosure`).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub suppressed: bool,
    pub by_gender: Vec<GenderRow>,
    pub by_situation_and_gender: Vec<SituationGenderRow>,
    pub by_age_band_and_gender: Vec<AgeBandGenderRow>,
}

/// A row's count and share as its reader gets them: `null` both when withheld.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize)]
pub struct Cell {
    pub count: Disclosed,
    pub share: Disclosed,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub suppressed: bool,
}

impl Cell {
    fn new(count: u64, share: Percent) -> Cell {
        Cell { count: Disclosed::Count(count), share: Disclosed::Rate(Some(share)), suppressed: false }
    }

    fn value(&self) -> u64 {
        match self.count {
            Disclosed::Count(count) => count,
            Disclosed::Rate(_) | Disclosed::Withheld => 0,
        }
    }

    /// A row of no one, added only to be shown withheld.
    fn zero() -> Cell {
        Cell { count: Disclosed::Count(0), share: Disclosed::Withheld, suppressed: false }
    }

    fn withhold(&mut self) {
        *self = Cell { count: Disclosed::Withheld, share: Disclosed::Withheld, suppressed: true };
    }
}

#[derive(Clone, PartialEq, Eq, Debug, Serialize)]
pub struct GenderRow {
    pub gender: Gender,
    #[serde(flatten)]
    pub cell: Cell,
}

#[derive(Clone, PartialEq, Eq, Debug, Serialize)]
pub struct SituationGenderRow {
    pub situation: Situation,
    pub gender: Gender,
    #[serde(flatten)]
    pub cell: Cell,
}

#[derive(Clone, PartialEq, Eq, Debug, Serialize)]
pub struct AgeBandGenderRow {
    pub age_band: AgeBand,
    pub gender: Gender,
    #[serde(flatten)]
    pub cell: Cell,
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
            let mut merged_referrals = HashSet::new();
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
                if !self.merges.is_empty() && self.merges.records_of(beneficiary_ix).nth(1).is_some() {
                    let person = self.merges.person_of(beneficiary_ix);
                    if !merged_referrals.insert((person, episode.facts.structure, episode.referred_on)) {
                        continue;
                    }
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
            participants: Disclosed::Count(participants),
            suppressed: false,
            by_gender: cells(&by_gender)
                .into_iter()
                .map(|(_, gender, count, share)| GenderRow {
                    gender: Gender::ALL[gender],
                    cell: Cell::new(count, share),
                })
                .collect(),
            by_situation_and_gender: cells(&by_situation)
                .into_iter()
                .map(|(situation, gender, count, share)| SituationGenderRow {
                    situation: Situation::ALL[situation],
                    gender: Gender::ALL[gender],
                    cell: Cell::new(count, share),
                })
                .collect(),
            by_age_band_and_gender: cells(&by_age_band)
                .into_iter()
                .map(|(band, gender, count, share)| AgeBandGenderRow {
                    age_band: AgeBand::ALL[band],
                    gender: Gender::ALL[gender],
                    cell: Cell::new(count, share),
                })
                .collect(),
        }
    }
}

impl Entries {
    /// Withholds small cells and their complements (CONTRACT §7), for evaluators. Cells absent
    /// from the rows are known zeros and stay in the equations as such.
    pub fn withhold_small_cells(&mut self, threshold: u64) {
        let (table, cells) = self.table();
        let withheld = table.suppress(threshold);
        self.withhold_cells(&withheld, &cells);
    }

    /// The cells to withhold alike in every one of `family` (answers for periods and structures
    /// that sum into one another: see `disclosure::suppress_alike`), `also` among them.
    pub fn withheld_alike(family: &[Entries], threshold: u64, also: Option<&CellsWithheld>) -> CellsWithheld {
        let tables: Vec<Table> = family.iter().map(|entries| entries.table().0).collect();
        suppress_alike(&tables, threshold, also)
    }

    /// Withholds the cells of `withheld` (from [`Entries::withheld_alike`]), a row withheld
    /// shown as such even where its count is zero: a withheld zero read as an absent row would be
    /// a known cell.
    pub fn withhold_as(&mut self, withheld: &CellsWithheld) {
        let (_, cells) = self.table();
        for (situation, gender) in
            cells.situations.iter().enumerate().flat_map(|(s, row)| (0..row.len()).map(move |g| (s, g)))
        {
            let (situation, gender) = (Situation::ALL[situation], Gender::ALL[gender]);
            if !self.by_situation_and_gender.iter().any(|row| row.situation == situation && row.gender == gender) {
                self.by_situation_and_gender.push(SituationGenderRow { situation, gender, cell: Cell::zero() });
            }
        }
        for (band, gender) in cells.bands.iter().enumerate().flat_map(|(b, row)| (0..row.len()).map(move |g| (b, g))) {
            let (age_band, gender) = (AgeBand::ALL[band], Gender::ALL[gender]);
            if !self.by_age_band_and_gender.iter().any(|row| row.age_band == age_band && row.gender == gender) {
                self.by_age_band_and_gender.push(AgeBandGenderRow { age_band, gender, cell: Cell::zero() });
            }
        }
        for gender in Gender::ALL {
            if !self.by_gender.iter().any(|row| row.gender == *gender) {
                self.by_gender.push(GenderRow { gender: *gender, cell: Cell::zero() });
            }
        }
        self.withhold_cells(&withheld.0, &cells);
        // Rows of zeros that nothing withholds are left out, as they were.
        self.by_gender.retain(|row| row.cell.count != Disclosed::Count(0));
        self.by_situation_and_gender.retain(|row| row.cell.count != Disclosed::Count(0));
        self.by_age_band_and_gender.retain(|row| row.cell.count != Disclosed::Count(0));
        let gender_ix = |gender: &Gender| index_of(Gender::ALL, gender);
        self.by_gender.sort_by_key(|row| gender_ix(&row.gender));
        self.by_situation_and_gender
            .sort_by_key(|row| (index_of(Situation::ALL, &row.situation), gender_ix(&row.gender)));
        self.by_age_band_and_gender.sort_by_key(|row| (index_of(AgeBand::ALL, &row.age_band), gender_ix(&row.gender)));
    }

    /// The table of these figures: every cell of the three tables, zeros included, and the sums
    /// that tie them.
    fn table(&self) -> (Table, EntriesCells) {
        let mut table = Table::default();
        let participants = table.cell(match self.participants {
            Disclosed::Count(count) => count,
            Disclosed::Rate(_) | Disclosed::Withheld => 0,
        });
        let genders: Vec<usize> = Gender::ALL
            .iter()
            .map(|gender| {
                table.cell(self.by_gender.iter().find(|row| row.gender == *gender).map_or(0, |row| row.cell.value()))
            })
            .collect();
        table.sum(participants, &genders);
        let situations: Vec<Vec<usize>> = Situation::ALL
            .iter()
            .map(|situation| {
                Gender::ALL
                    .iter()
                    .map(|gender| {
                        let row = self
                            .by_situation_and_gender
                            .iter()
                            .find(|row| row.situation == *situation && row.gender == *gender);
                        table.cell(row.map_or(0, |row| row.cell.value()))
                    })
                    .collect()
            })
            .collect();
        let bands: Vec<Vec<usize>> = AgeBand::ALL
            .iter()
            .map(|band| {
                Gender::ALL
                    .iter()
                    .map(|gender| {
                        let row = self
                            .by_age_band_and_gender
                            .iter()
                            .find(|row| row.age_band == *band && row.gender == *gender);
                        table.cell(row.map_or(0, |row| row.cell.value()))
                    })
                    .collect()
            })
            .collect();
        for (column, &gender) in genders.iter().enumerate() {
            table.sum(gender, &situations.iter().map(|cells| cells[column]).collect::<Vec<_>>());
            table.sum(gender, &bands.iter().map(|cells| cells[column]).collect::<Vec<_>>());
        }
        (table, EntriesCells { participants, genders, situations, bands })
    }

    fn withhold_cells(&mut self, withheld: &[bool], cells: &EntriesCells) {
        let EntriesCells { participants, genders, situations, bands } = cells;
        if withheld[*participants] {
            self.participants = Disclosed::Withheld;
            self.suppressed = true;
        }
        let gender_ix = |gender: Gender| index_of(Gender::ALL, &gender);
        for row in &mut self.by_gender {
            if withheld[genders[gender_ix(row.gender)]] {
                row.cell.withhold();
            }
        }
        for row in &mut self.by_situation_and_gender {
            if withheld[situations[index_of(Situation::ALL, &row.situation)][gender_ix(row.gender)]] {
                row.cell.withhold();
            }
        }
        for row in &mut self.by_age_band_and_gender {
            if withheld[bands[index_of(AgeBand::ALL, &row.age_band)][gender_ix(row.gender)]] {
                row.cell.withhold();
            }
        }
        if self.participants == Disclosed::Withheld {
            // A share over a withheld total would give the total back.
            let rows = self.by_gender.iter_mut().map(|row| &mut row.cell);
            let rows = rows.chain(self.by_situation_and_gender.iter_mut().map(|row| &mut row.cell));
            for cell in rows.chain(self.by_age_band_and_gender.iter_mut().map(|row| &mut row.cell)) {
                cell.share = Disclosed::Withheld;
                cell.suppressed = true;
            }
        }
    }

    /// CSV with a header row: one row per cell of the three tables, `table` naming which; the
    /// columns a table does not use are empty, as are withheld cells. The first row gives the
    /// participants.
    pub fn to_csv(&self) -> String {
        let mut csv = String::from("table,situation,age_band,gender,count,share\n");
        let _ = writeln!(csv, "participants,,,,{},", self.participants);
        for row in &self.by_gender {
            let _ = writeln!(csv, "by_gender,,,{},{},{}", row.gender, row.cell.count, row.cell.share);
        }
        for row in &self.by_situation_and_gender {
            let _ = writeln!(
                csv,
                "by_situation_and_gender,{},,{},{},{}",
                row.situation, row.gender, row.cell.count, row.cell.share
            );
        }
        for row in &self.by_age_band_and_gender {
            let _ = writeln!(
                csv,
                "by_age_band_and_gender,,{},{},{},{}",
                row.age_band, row.gender, row.cell.count, row.cell.share
            );
        }
        csv
    }
}
