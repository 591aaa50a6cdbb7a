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
//! costs the exits of the period, not the size of the log.

use std::collections::BTreeMap;
use std::fmt::{self, Write as _};
use std::str::FromStr;

use parcours_core::vocabulary::{ExitCategory, Gender, PrescriberKind, Situation, SituationAfterExit, Slug};
use serde::{Deserialize, Serialize, Serializer};

use crate::age_band::AgeBand;
use crate::period::Period;
use crate::projections::Projections;
use crate::ratio::{Percent, Ratio};
use crate::structures::StructureIx;

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

#[derive(Clone, PartialEq, Eq, Debug, Default, Serialize)]
pub struct OutcomeCounts {
    pub exits: u64,
    pub durable_employment: u64,
    pub transition_employment: u64,
    pub positive_exits: u64,
    pub other_exits: u64,
    pub neutral_exits: u64,
    pub dynamic_exits: u64,
    pub dynamic_exit_rate: Option<Percent>,
    pub reenrolled: u64,
    pub followed_up_at_six_months: u64,
    pub employed_at_six_months: u64,
    pub employed_at_six_months_share: Option<Percent>,
}

impl OutcomeCounts {
    /// Dynamic exits over exits that are not neutral.
    pub fn dynamic_exit_ratio(&self) -> Ratio {
        Ratio::new(self.dynamic_exits, self.exits.saturating_sub(self.neutral_exits))
    }

    pub fn employed_at_six_months_ratio(&self) -> Ratio {
        Ratio::new(self.employed_at_six_months, self.followed_up_at_six_months)
    }

    fn count(&mut self, exit: &ExitFacts) {
        self.exits += 1;
        match exit.category {
            ExitCategory::DurableEmployment => self.durable_employment += 1,
            ExitCategory::TransitionEmployment => self.transition_employment += 1,
            ExitCategory::PositiveExit => self.positive_exits += 1,
            ExitCategory::OtherExit => self.other_exits += 1,
            ExitCategory::NeutralExit => self.neutral_exits += 1,
        }
        self.dynamic_exits += u64::from(exit.category.is_dynamic());
        self.reenrolled += u64::from(exit.reenrolled);
        if let Some(situation) = exit.six_months_after {
            self.followed_up_at_six_months += 1;
            self.employed_at_six_months += u64::from(situation == SituationAfterExit::Employed);
        }
    }

    /// Computes the rates once every exit is counted.
    fn finish(mut self) -> OutcomeCounts {
        self.dynamic_exit_rate = self.dynamic_exit_ratio().percent();
        self.employed_at_six_months_share = self.employed_at_six_months_ratio().percent();
        self
    }

    pub const CSV_HEADER: &'static str = "exits,durable_employment,transition_employment,positive_exits,other_exits,\
        neutral_exits,dynamic_exits,dynamic_exit_rate,reenrolled,followed_up_at_six_months,employed_at_six_months,\
        employed_at_six_months_share";

    /// The counts as one CSV row (no line end), in the order of [`OutcomeCounts::CSV_HEADER`]; a
    /// rate without denominator is an empty cell.
    pub fn csv_row(&self) -> String {
        let percent = |p: Option<Percent>| p.map(|p| p.to_string()).unwrap_or_default();
        format!(
            "{},{},{},{},{},{},{},{},{},{},{},{}",
            self.exits,
            self.durable_employment,
            self.transition_employment,
            self.positive_exits,
            self.other_exits,
            self.neutral_exits,
            self.dynamic_exits,
            percent(self.dynamic_exit_rate),
            self.reenrolled,
            self.followed_up_at_six_months,
            self.employed_at_six_months,
            percent(self.employed_at_six_months_share),
        )
    }
}

impl Outcomes {
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

/// What counting one exit needs.
struct ExitFacts {
    category: ExitCategory,
    reenrolled: bool,
    six_months_after: Option<SituationAfterExit>,
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
    pub fn outcomes(&self, query: &OutcomeQuery) -> Outcomes {
        let period = query.period;
        let structure = query.structure.as_ref().map(|slug| self.structures.find(slug));
        let mut totals = OutcomeCounts::default();
        let mut groups: BTreeMap<RawKey, OutcomeCounts> = BTreeMap::new();
        // An unknown structure has no exits.
        if structure != Some(None) {
            let exits = self.indexes.exits.range((period.from, 0, 0)..=(period.to, u32::MAX, u32::MAX));
            for &(_, beneficiary_ix, episode_ix) in exits {
                let summary = &self.beneficiary(beneficiary_ix).summary;
                let (Some(episode), Some(registration)) =
                    (summary.episodes.get(episode_ix as usize), summary.registration)
                else {
                    continue;
                };
                let Some(exit) = episode.exit else { continue };
                if structure.is_some_and(|structure| structure != Some(episode.facts.structure)) {
                    continue;
                }
                let facts = ExitFacts {
                    category: exit.destination.category(),
                    reenrolled: summary.episodes.len() > episode_ix as usize + 1,
                    six_months_after: episode.six_months_after_exit(),
                };
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
                            kind if query.sensitive_prescribers_as_other && kind.is_sensitive() => {
                                PrescriberKind::Other
                            }
                            kind => kind,
                        }),
                    };
                    groups.entry(key).or_default().count(&facts);
                }
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
