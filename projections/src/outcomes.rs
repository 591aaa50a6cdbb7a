//! Outcome statistics (`GET /api/stats/outcomes`, CONTRACT §3 and §5): the exits whose date is in
//! the period, by official category, the dynamic exit rate, re-enrolments and the six-month
//! follow-up, optionally grouped.
//!
//! Definitions:
//! - an exit counts for the structure of its episode, and is grouped by the person's gender, age
//!   band at the episode's referral, the episode's situation at entry, structure or prescriber kind;
//! - `dynamic_exits` = durable + transition + positive; `dynamic_exit_rate` = dynamic exits /
//!   (exits − neutral exits), in percent rounded half up to one decimal, `null` when no exit is
//!   left in the denominator (see `ratio`);
//! - `reenrolled`: exits of the period after which the person was referred again (at any date);
//! - six-month follow-up: among the exits of the period whose episode has a
//!   `followed_up_after_exit` with `months_after_exit` = 6 (the last recorded one counts), how many
//!   found the person `employed`, and that share.
//!
//! Groups list only keys with at least one exit, in the contract's order of each list (age bands
//! youngest first), structures by slug. The query reads the exits index over the period, so it
//! costs the exits of the period, not the size of the log. What one exit counts in is decided in
//! `exits`, which the activity report reads too.

use std::collections::BTreeMap;
use std::fmt::{self, Write as _};
use std::str::FromStr;

use parcours_core::vocabulary::{Gender, PrescriberKind, Situation, Slug};
use serde::{Deserialize, Serialize, Serializer};

use crate::age_band::AgeBand;
use crate::disclosure::{suppress_alike, CellsWithheld, Table};
use crate::exits::{ExitFacts, OutcomeCounts, OutcomeField};
use crate::period::Period;
use crate::projections::Projections;
use crate::structures::{StructureIx, StructureSet};
use crate::summary::{Episode, Registration};

/// What outcomes (and reports) can be grouped by.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GroupBy {
    Gender,
    AgeBand,
    Situation,
    Structure,
    Prescriber,
}

impl GroupBy {
    pub const ALL: &'static [GroupBy] =
        &[GroupBy::Gender, GroupBy::AgeBand, GroupBy::Situation, GroupBy::Structure, GroupBy::Prescriber];

    pub fn code(self) -> &'static str {
        match self {
            GroupBy::Gender => "gender",
            GroupBy::AgeBand => "age_band",
            GroupBy::Situation => "situation",
            GroupBy::Structure => "structure",
            GroupBy::Prescriber => "prescriber",
        }
    }
}

impl fmt::Display for GroupBy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl FromStr for GroupBy {
    type Err = &'static str;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        GroupBy::ALL
            .iter()
            .copied()
            .find(|by| by.code() == s)
            .ok_or("expected one of gender, age_band, situation, structure, prescriber")
    }
}

#[derive(Clone, PartialEq, Eq, Debug)]
pub struct OutcomeQuery {
    pub period: Period,
    /// Only the exits of episodes in this structure.
    pub structure: Option<Slug>,
    pub by: Option<GroupBy>,
    /// Counts prescribers that reveal justice, health or child-protection follow-up
    /// ([`PrescriberKind::is_sensitive`]) as `other`, as evaluators must see them.
    pub sensitive_prescribers_as_other: bool,
}

#[derive(Clone, PartialEq, Eq, Debug, Serialize)]
pub struct Outcomes {
    pub from: parcours_core::vocabulary::Date,
    pub to: parcours_core::vocabulary::Date,
    pub structure: Option<Slug>,
    #[serde(flatten)]
    pub counts: OutcomeCounts,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub by: Option<GroupBy>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub groups: Option<Vec<OutcomeGroup>>,
}

#[derive(Clone, PartialEq, Eq, Debug, Serialize)]
pub struct OutcomeGroup {
    pub key: GroupKey,
    #[serde(flatten)]
    pub counts: OutcomeCounts,
}

/// The value a group stands for; serialised as `{ "gender": "female" }`. Orders as groups are
/// listed: by the contract's list order, structures by slug.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Debug)]
pub enum GroupKey {
    Gender(Gender),
    AgeBand(AgeBand),
    Situation(Situation),
    Structure(Slug),
    Prescriber(PrescriberKind),
}

impl GroupKey {
    pub fn by(&self) -> GroupBy {
        match self {
            GroupKey::Gender(_) => GroupBy::Gender,
            GroupKey::AgeBand(_) => GroupBy::AgeBand,
            GroupKey::Situation(_) => GroupBy::Situation,
            GroupKey::Structure(_) => GroupBy::Structure,
            GroupKey::Prescriber(_) => GroupBy::Prescriber,
        }
    }

    pub fn value(&self) -> &str {
        match self {
            GroupKey::Gender(gender) => gender.code(),
            GroupKey::AgeBand(band) => band.code(),
            GroupKey::Situation(situation) => situation.code(),
            GroupKey::Structure(slug) => slug.as_str(),
            GroupKey::Prescriber(prescriber) => prescriber.code(),
        }
    }
}

impl Serialize for GroupKey {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(Some(1))?;
        map.serialize_entry(self.by().code(), self.value())?;
        map.end()
    }
}

/// The groupings of an [`OutcomeCube`]: every one but structure (an evaluator asks one structure's
/// figures by naming it; `server::app::differencing`).
pub const CUBE_GROUPINGS: [GroupBy; 4] = [GroupBy::Gender, GroupBy::AgeBand, GroupBy::Situation, GroupBy::Prescriber];

/// Every count that outcome statistics of one period and one structure (or all) can show, under
/// every grouping at once, every key included (zeros too): one shape whatever the values, so that
/// small-cell suppression can be made the same across the answers that sum into one another
/// ([`Outcomes::withheld_alike`]), and across groupings, which share their totals.
#[derive(Clone, Debug)]
pub struct OutcomeCube {
    totals: OutcomeCounts,
    groups: Vec<(GroupKey, OutcomeCounts)>,
}

impl OutcomeCube {
    /// Every key of a grouping of the cube, in list order.
    fn keys(by: GroupBy) -> Vec<GroupKey> {
        match by {
            GroupBy::Gender => Gender::ALL.iter().map(|&gender| GroupKey::Gender(gender)).collect(),
            GroupBy::AgeBand => AgeBand::ALL.iter().map(|&band| GroupKey::AgeBand(band)).collect(),
            GroupBy::Situation => Situation::ALL.iter().map(|&situation| GroupKey::Situation(situation)).collect(),
            GroupBy::Prescriber => PrescriberKind::ALL.iter().map(|&kind| GroupKey::Prescriber(kind)).collect(),
            GroupBy::Structure => Vec::new(),
        }
    }

    /// The cube's table and where each count sits in it: the totals, then each group's counts.
    fn table(&self) -> (Table, Vec<[Option<usize>; 12]>) {
        let mut table = Table::default();
        let total = self.totals.cells(&mut table);
        let groups: Vec<[Option<usize>; 12]> = self.groups.iter().map(|(_, counts)| counts.cells(&mut table)).collect();
        for by in CUBE_GROUPINGS {
            let parts: Vec<&[Option<usize>; 12]> = self
                .groups
                .iter()
                .zip(&groups)
                .filter(|((key, _), _)| key.by() == by)
                .map(|(_, cells)| cells)
                .collect();
            for (column, &total) in total.iter().enumerate() {
                if let (Some(total), Some(parts)) =
                    (total, parts.iter().map(|cells| cells[column]).collect::<Option<Vec<usize>>>())
                {
                    table.sum(total, &parts);
                }
            }
        }
        let mut cells = vec![total];
        cells.extend(groups);
        (table, cells)
    }
}

impl Projections {
    /// The [`OutcomeCube`] of a period and a structure (all when `None`).
    pub fn outcome_cube(
        &self,
        period: Period,
        structure: Option<&Slug>,
        sensitive_prescribers_as_other: bool,
    ) -> OutcomeCube {
        let ask = |by| {
            self.outcomes(&OutcomeQuery { period, structure: structure.cloned(), by, sensitive_prescribers_as_other })
        };
        let totals = ask(None).counts;
        let mut groups = Vec::new();
        for by in CUBE_GROUPINGS {
            let answer = ask(Some(by));
            for key in OutcomeCube::keys(by) {
                let found = answer.groups.iter().flatten().find(|group| group.key == key);
                groups
                    .push((key, found.map_or_else(|| OutcomeCounts::default().finish(), |group| group.counts.clone())));
            }
        }
        OutcomeCube { totals, groups }
    }
}

impl Outcomes {
    /// The cells to withhold alike in every cube of `family` (the periods and structures whose
    /// answers sum into one another: see `disclosure::suppress_alike`), `also` among them.
    pub fn withheld_alike(family: &[OutcomeCube], threshold: u64, also: Option<&CellsWithheld>) -> CellsWithheld {
        let tables: Vec<Table> = family.iter().map(|cube| cube.table().0).collect();
        suppress_alike(&tables, threshold, also)
    }

    /// Withholds in this answer the cells `withheld` names in its cube (`cube`, of the same
    /// period and structure); a group withheld is listed, as withheld, even with no exit: a
    /// withheld zero read as an absent group would be a known cell.
    pub fn withhold_as(&mut self, cube: &OutcomeCube, withheld: &CellsWithheld) {
        let (_, cells) = cube.table();
        let hidden = |cells: &[Option<usize>; 12]| -> Vec<OutcomeField> {
            OutcomeField::ALL
                .into_iter()
                .zip(cells)
                .filter(|(_, cell)| cell.is_some_and(|cell| withheld.0[cell]))
                .map(|(field, _)| field)
                .collect()
        };
        for field in hidden(&cells[0]) {
            self.counts.withhold(field);
        }
        let Some(groups) = self.groups.as_mut() else { return };
        for ((key, _), cells) in cube.groups.iter().zip(&cells[1..]) {
            let fields = hidden(cells);
            if Some(key.by()) != self.by || fields.is_empty() {
                continue;
            }
            let position = match groups.iter().position(|group| group.key == *key) {
                Some(position) => position,
                None => {
                    groups.push(OutcomeGroup { key: key.clone(), counts: OutcomeCounts::default().finish() });
                    groups.len() - 1
                }
            };
            for field in fields {
                groups[position].counts.withhold(field);
            }
        }
        groups.sort_by(|a, b| a.key.cmp(&b.key));
    }

    /// Withholds small cells and their complements (CONTRACT §7), for evaluators.
    pub fn withhold_small_cells(&mut self, threshold: u64) {
        let mut table = Table::default();
        let total = self.counts.cells(&mut table);
        let groups: Vec<[Option<usize>; 12]> =
            self.groups.iter().flatten().map(|group| group.counts.cells(&mut table)).collect();
        if !groups.is_empty() {
            // Every exit belongs to exactly one group: each total is the sum of its groups.
            for (column, &total) in total.iter().enumerate() {
                if let (Some(total), Some(parts)) =
                    (total, groups.iter().map(|cells| cells[column]).collect::<Option<Vec<usize>>>())
                {
                    table.sum(total, &parts);
                }
            }
        }
        let withheld = table.suppress(threshold);
        let objects = std::iter::once((&mut self.counts, total))
            .chain(self.groups.iter_mut().flatten().map(|group| &mut group.counts).zip(groups));
        for (counts, cells) in objects {
            for (field, cell) in OutcomeField::ALL.into_iter().zip(cells) {
                if cell.is_some_and(|cell| withheld[cell]) {
                    counts.withhold(field);
                }
            }
        }
    }

    /// CSV with a header row: one row of totals, or with `by` one row per group, keyed by a first
    /// column named after `by`.
    pub fn to_csv(&self) -> String {
        let mut csv = String::new();
        match (&self.by, &self.groups) {
            (Some(by), Some(groups)) => {
                let _ = writeln!(csv, "{by},{}", OutcomeCounts::CSV_HEADER);
                for group in groups {
                    let _ = writeln!(csv, "{},{}", group.key.value(), group.counts.csv_row());
                }
            }
            _ => {
                let _ = writeln!(csv, "{}", OutcomeCounts::CSV_HEADER);
                let _ = writeln!(csv, "{}", self.counts.csv_row());
            }
        }
        csv
    }
}

/// An exit that the outcome statistics count: from [`Projections::exits_of`], the one selection
/// of exits that `outcomes` counts and the activity report lists.
pub(crate) struct CountedExit<'a> {
    pub registration: Registration,
    pub episode: &'a Episode,
    pub facts: ExitFacts,
}

/// A group key before structure indexes are turned into slugs.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum RawKey {
    Gender(Gender),
    AgeBand(AgeBand),
    Situation(Situation),
    Structure(StructureIx),
    Prescriber(PrescriberKind),
}

impl Projections {
    /// The exits whose date is in the period, in date order, of episodes in one of `structures`
    /// (of any structure when `None`).
    pub(crate) fn exits_of<'a>(
        &'a self,
        period: Period,
        structures: Option<&'a [StructureIx]>,
    ) -> impl Iterator<Item = CountedExit<'a>> + 'a {
        let exits = self.indexes.exits.range((period.from, 0, 0)..=(period.to, u32::MAX, u32::MAX));
        let asked = structures.map(StructureSet::of);
        exits.filter_map(move |&(_, beneficiary, episode_ix)| {
            let summary = &self.beneficiary(beneficiary).summary;
            let registration = summary.registration?;
            let episode = summary.episodes.get(episode_ix as usize)?;
            if asked.as_ref().is_some_and(|asked| !asked.contains(episode.facts.structure)) {
                return None;
            }
            let facts = ExitFacts::of(summary, episode_ix as usize)?;
            Some(CountedExit { registration, episode, facts })
        })
    }

    pub fn outcomes(&self, query: &OutcomeQuery) -> Outcomes {
        let period = query.period;
        let structure = query.structure.as_ref().map(|slug| self.structures.find(slug));
        let mut totals = OutcomeCounts::default();
        let mut groups: BTreeMap<RawKey, OutcomeCounts> = BTreeMap::new();
        // An unknown structure has no exits.
        let only: Option<Vec<StructureIx>> = structure.map(|ix| ix.into_iter().collect());
        for counted in self.exits_of(period, only.as_deref()) {
            let (registration, episode, facts) = (counted.registration, counted.episode, counted.facts);
            totals.count(&facts);
            if let Some(by) = query.by {
                let key = match by {
                    GroupBy::Gender => RawKey::Gender(registration.gender),
                    GroupBy::AgeBand => {
                        RawKey::AgeBand(AgeBand::at(episode.referred_on.year(), registration.birth_year))
                    }
                    GroupBy::Situation => RawKey::Situation(episode.facts.situation),
                    GroupBy::Structure => RawKey::Structure(episode.facts.structure),
                    GroupBy::Prescriber => RawKey::Prescriber(match episode.facts.prescriber {
                        kind if query.sensitive_prescribers_as_other && kind.is_sensitive() => PrescriberKind::Other,
                        kind => kind,
                    }),
                };
                groups.entry(key).or_default().count(&facts);
            }
        }
        let groups = query.by.map(|_| {
            let mut groups: Vec<OutcomeGroup> = groups
                .into_iter()
                .map(|(key, counts)| OutcomeGroup {
                    key: match key {
                        RawKey::Gender(gender) => GroupKey::Gender(gender),
                        RawKey::AgeBand(band) => GroupKey::AgeBand(band),
                        RawKey::Situation(situation) => GroupKey::Situation(situation),
                        RawKey::Structure(ix) => GroupKey::Structure(self.structures.slug(ix).clone()),
                        RawKey::Prescriber(prescriber) => GroupKey::Prescriber(prescriber),
                    },
                    counts: counts.finish(),
                })
                .collect();
            groups.sort_by(|a, b| a.key.cmp(&b.key));
            groups
        });
        Outcomes {
            from: period.from,
            to: period.to,
            structure: query.structure.clone(),
            counts: totals.finish(),
            by: query.by,
            groups,
        }
    }
}
