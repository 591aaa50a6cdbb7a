//! Counting exits: the facts of one exit that its counts need ([`ExitFacts`]), the cells they
//! count in ([`OutcomeField`], each with the predicate that decides it), and the counts of a
//! selection of exits ([`OutcomeCounts`]).
//!
//! Shared by the outcome statistics (`outcomes`) and the activity report (`report`), which take
//! them from here rather than from each other: an exit is counted in the statistics and filed in
//! the report's lists by the same predicate ([`OutcomeField::holds`]), so the two cannot disagree.

use parcours_core::vocabulary::{ExitCategory, SituationAfterExit};
use serde::{Serialize, Serializer};

use crate::disclosed::Disclosed;
use crate::disclosure::Table;
use crate::ratio::{Percent, Ratio};
use crate::summary::Summary;

/// The counts of a selection of exits, and the two rates computed from them.
#[derive(Clone, PartialEq, Eq, Debug, Default)]
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
    /// Cells withheld to protect people (evaluators' outputs, see `disclosure`): zeroed here, and
    /// shown as `null` with `"suppressed": true`.
    pub withheld: Withheld,
}

/// The cells of an [`OutcomeCounts`], in the order of its JSON fields and CSV columns.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum OutcomeField {
    Exits,
    DurableEmployment,
    TransitionEmployment,
    PositiveExits,
    OtherExits,
    NeutralExits,
    DynamicExits,
    DynamicExitRate,
    Reenrolled,
    FollowedUpAtSixMonths,
    EmployedAtSixMonths,
    EmployedAtSixMonthsShare,
}

impl OutcomeField {
    pub const ALL: [OutcomeField; 12] = [
        OutcomeField::Exits,
        OutcomeField::DurableEmployment,
        OutcomeField::TransitionEmployment,
        OutcomeField::PositiveExits,
        OutcomeField::OtherExits,
        OutcomeField::NeutralExits,
        OutcomeField::DynamicExits,
        OutcomeField::DynamicExitRate,
        OutcomeField::Reenrolled,
        OutcomeField::FollowedUpAtSixMonths,
        OutcomeField::EmployedAtSixMonths,
        OutcomeField::EmployedAtSixMonthsShare,
    ];

    pub fn code(self) -> &'static str {
        match self {
            OutcomeField::Exits => "exits",
            OutcomeField::DurableEmployment => "durable_employment",
            OutcomeField::TransitionEmployment => "transition_employment",
            OutcomeField::PositiveExits => "positive_exits",
            OutcomeField::OtherExits => "other_exits",
            OutcomeField::NeutralExits => "neutral_exits",
            OutcomeField::DynamicExits => "dynamic_exits",
            OutcomeField::DynamicExitRate => "dynamic_exit_rate",
            OutcomeField::Reenrolled => "reenrolled",
            OutcomeField::FollowedUpAtSixMonths => "followed_up_at_six_months",
            OutcomeField::EmployedAtSixMonths => "employed_at_six_months",
            OutcomeField::EmployedAtSixMonthsShare => "employed_at_six_months_share",
        }
    }

    fn bit(self) -> u16 {
        1 << (self as u16)
    }

    /// Whether an exit counts in this cell; `false` for the rates, which are not counts.
    pub(crate) fn holds(self, exit: &ExitFacts) -> bool {
        let category = exit.category;
        match self {
            OutcomeField::Exits => true,
            OutcomeField::DurableEmployment => category == ExitCategory::DurableEmployment,
            OutcomeField::TransitionEmployment => category == ExitCategory::TransitionEmployment,
            OutcomeField::PositiveExits => category == ExitCategory::PositiveExit,
            OutcomeField::OtherExits => category == ExitCategory::OtherExit,
            OutcomeField::NeutralExits => category == ExitCategory::NeutralExit,
            OutcomeField::DynamicExits => category.is_dynamic(),
            OutcomeField::Reenrolled => exit.reenrolled,
            OutcomeField::FollowedUpAtSixMonths => exit.six_months_after.is_some(),
            OutcomeField::EmployedAtSixMonths => exit.six_months_after == Some(SituationAfterExit::Employed),
            OutcomeField::DynamicExitRate | OutcomeField::EmployedAtSixMonthsShare => false,
        }
    }
}

/// A set of withheld cells of one object.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct Withheld(u16);

impl Withheld {
    pub fn contains(self, field: OutcomeField) -> bool {
        self.0 & field.bit() != 0
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    fn insert(&mut self, field: OutcomeField) {
        self.0 |= field.bit();
    }
}

impl OutcomeCounts {
    /// Dynamic exits over exits that are not neutral.
    pub fn dynamic_exit_ratio(&self) -> Ratio {
        Ratio::new(self.dynamic_exits, self.exits.saturating_sub(self.neutral_exits))
    }

    pub fn employed_at_six_months_ratio(&self) -> Ratio {
        Ratio::new(self.employed_at_six_months, self.followed_up_at_six_months)
    }

    fn count_mut(&mut self, field: OutcomeField) -> Option<&mut u64> {
        Some(match field {
            OutcomeField::Exits => &mut self.exits,
            OutcomeField::DurableEmployment => &mut self.durable_employment,
            OutcomeField::TransitionEmployment => &mut self.transition_employment,
            OutcomeField::PositiveExits => &mut self.positive_exits,
            OutcomeField::OtherExits => &mut self.other_exits,
            OutcomeField::NeutralExits => &mut self.neutral_exits,
            OutcomeField::DynamicExits => &mut self.dynamic_exits,
            OutcomeField::Reenrolled => &mut self.reenrolled,
            OutcomeField::FollowedUpAtSixMonths => &mut self.followed_up_at_six_months,
            OutcomeField::EmployedAtSixMonths => &mut self.employed_at_six_months,
            OutcomeField::DynamicExitRate | OutcomeField::EmployedAtSixMonthsShare => return None,
        })
    }

    /// A cell as published.
    pub fn get(&self, field: OutcomeField) -> Disclosed {
        if self.withheld.contains(field) {
            return Disclosed::Withheld;
        }
        match field {
            OutcomeField::DynamicExitRate => Disclosed::Rate(self.dynamic_exit_rate),
            OutcomeField::EmployedAtSixMonthsShare => Disclosed::Rate(self.employed_at_six_months_share),
            OutcomeField::Exits => Disclosed::Count(self.exits),
            OutcomeField::DurableEmployment => Disclosed::Count(self.durable_employment),
            OutcomeField::TransitionEmployment => Disclosed::Count(self.transition_employment),
            OutcomeField::PositiveExits => Disclosed::Count(self.positive_exits),
            OutcomeField::OtherExits => Disclosed::Count(self.other_exits),
            OutcomeField::NeutralExits => Disclosed::Count(self.neutral_exits),
            OutcomeField::DynamicExits => Disclosed::Count(self.dynamic_exits),
            OutcomeField::Reenrolled => Disclosed::Count(self.reenrolled),
            OutcomeField::FollowedUpAtSixMonths => Disclosed::Count(self.followed_up_at_six_months),
            OutcomeField::EmployedAtSixMonths => Disclosed::Count(self.employed_at_six_months),
        }
    }

    /// Counts one exit: each count that [`OutcomeField::holds`] for it goes up by one. The
    /// activity report lists the exits behind each count with the same predicate.
    pub(crate) fn count(&mut self, exit: &ExitFacts) {
        for field in OutcomeField::ALL {
            if let Some(count) = self.count_mut(field) {
                *count += u64::from(field.holds(exit));
            }
        }
    }

    /// The counts whose every count field is `count(field)`, rates computed: what counting each
    /// exit would give when `count` tallies the exits that [`OutcomeField::holds`] for.
    pub(crate) fn of_counts(count: impl Fn(OutcomeField) -> u64) -> OutcomeCounts {
        let mut counts = OutcomeCounts::default();
        for field in OutcomeField::ALL {
            if let Some(value) = counts.count_mut(field) {
                *value = count(field);
            }
        }
        counts.finish()
    }

    /// Computes the rates once every exit is counted.
    pub(crate) fn finish(mut self) -> OutcomeCounts {
        self.dynamic_exit_rate = self.dynamic_exit_ratio().percent();
        self.employed_at_six_months_share = self.employed_at_six_months_ratio().percent();
        self
    }

    /// Withholds a count (zeroing it), and the rates it enters.
    pub(crate) fn withhold(&mut self, field: OutcomeField) {
        if let Some(value) = self.count_mut(field) {
            *value = 0;
        }
        self.withheld.insert(field);
        match field {
            OutcomeField::DynamicExits | OutcomeField::Exits | OutcomeField::NeutralExits => {
                self.dynamic_exit_rate = None;
                self.withheld.insert(OutcomeField::DynamicExitRate);
            }
            OutcomeField::FollowedUpAtSixMonths | OutcomeField::EmployedAtSixMonths => {
                self.employed_at_six_months_share = None;
                self.withheld.insert(OutcomeField::EmployedAtSixMonthsShare);
            }
            _ => {}
        }
    }

    /// Adds this object's cells and its own equations to a disclosure table.
    pub(crate) fn cells(&self, table: &mut Table) -> [Option<usize>; 12] {
        let mut cells = [None; 12];
        for (index, field) in OutcomeField::ALL.into_iter().enumerate() {
            if let Disclosed::Count(value) = self.get(field) {
                cells[index] = Some(table.cell(value));
            }
        }
        let cell = |field: OutcomeField| cells[field as usize];
        let categories = [
            OutcomeField::DurableEmployment,
            OutcomeField::TransitionEmployment,
            OutcomeField::PositiveExits,
            OutcomeField::OtherExits,
            OutcomeField::NeutralExits,
        ];
        if let (Some(exits), Some(parts)) = (cell(OutcomeField::Exits), categories.map(cell).into_iter().collect()) {
            table.sum(exits, &parts as &Vec<usize>);
        }
        if let (Some(dynamic), Some(parts)) =
            (cell(OutcomeField::DynamicExits), categories[..3].iter().map(|&field| cell(field)).collect())
        {
            table.sum(dynamic, &parts as &Vec<usize>);
        }
        cells
    }

    pub const CSV_HEADER: &'static str = "exits,durable_employment,transition_employment,positive_exits,other_exits,\
        neutral_exits,dynamic_exits,dynamic_exit_rate,reenrolled,followed_up_at_six_months,employed_at_six_months,\
        employed_at_six_months_share";

    /// The counts as one CSV row (no line end), in the order of [`OutcomeCounts::CSV_HEADER`]; a
    /// rate without denominator and a withheld cell are empty.
    pub fn csv_row(&self) -> String {
        OutcomeField::ALL.iter().map(|&field| self.get(field).to_string()).collect::<Vec<_>>().join(",")
    }
}

impl Serialize for OutcomeCounts {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(None)?;
        for field in OutcomeField::ALL {
            map.serialize_entry(field.code(), &self.get(field))?;
        }
        if !self.withheld.is_empty() {
            map.serialize_entry("suppressed", &true)?;
        }
        map.end()
    }
}

/// What counting one exit needs.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) struct ExitFacts {
    pub category: ExitCategory,
    pub reenrolled: bool,
    pub six_months_after: Option<SituationAfterExit>,
}

impl ExitFacts {
    /// The facts of the exit of `summary`'s episode `index`, if that episode has ended.
    pub(crate) fn of(summary: &Summary, index: usize) -> Option<ExitFacts> {
        let episode = summary.episodes.get(index)?;
        Some(ExitFacts {
            category: episode.exit?.destination.category(),
            reenrolled: summary.episodes.len() > index + 1,
            six_months_after: episode.six_months_after_exit(),
        })
    }
}
