//! What the activity report needs of one beneficiary beyond its [`Summary`]: the contracts of each
//! episode with their dates (the summary keeps only the open ones), hours by month, follow-ups,
//! support actions, trainings and skills assessments with their dates.
//!
//! Kept by every [`Beneficiary`](crate::beneficiary::Beneficiary) beside its summary and filed by
//! the same fold, one fact at a time: a step belongs to the episode that the fold has open when it
//! reaches the step, so the report places steps exactly where the dashboards and statistics do,
//! lenient cases included. Why kept rather than walked again for each report: a yearly report of
//! every structure of a national log would walk ten million facts scattered over the whole arena.
//!
//! It sits beside the record rather than in `report`: the fold that keeps it must not depend on a
//! query, and the report only reads it (`report::lists`).

use parcours_core::vocabulary::{
    AssessmentKind, ContractKind, Date, FollowUpKind, Hours, Month, SupportAction, SupportDomain, TrainingResult,
};

use crate::fact::{Fact, NameIx, Recorded};
use crate::summary::push_tight;

/// Two vectors per person, whatever the number of episodes: a report over a national log visits
/// 300,000 people, and each separate block of memory it reads is a cache miss.
#[derive(Clone, Debug, Default, PartialEq, Eq, bincode::Encode, bincode::Decode)]
pub(crate) struct Track {
    /// Every contract, in the order started.
    pub contracts: Vec<ContractSpan>,
    /// Hours, follow-ups, support actions, trainings and assessments, in the order of the history.
    pub steps: Vec<Placed>,
    /// The latest month of `steps` (of their dates, or of the months worked): a report on a
    /// period that starts after it counts none of them, and need not read them.
    pub latest: Option<Month>,
}

/// Room made for a person's steps at the first one. Why not one, as for the summary's vectors:
/// most people get a step a month while in contract, so their steps grow past eight anyway, and
/// starting there saves three reallocations per person (copies, and fresh memory each time) for
/// no measurable memory (the fold of the 10M log held 937 MiB either way: BENCHMARKS.md).
const STEPS_FIRST: usize = 8;

#[derive(Clone, Copy, Debug, PartialEq, Eq, bincode::Encode, bincode::Decode)]
pub(crate) struct ContractSpan {
    /// Its episode's index in `Summary::episodes`.
    pub episode: u32,
    pub contract: NameIx,
    pub kind: ContractKind,
    pub weekly_hours: Hours,
    pub started_on: Date,
    pub planned_end: Option<Date>,
    /// By `contract_ended`, or by the episode's exit.
    pub ended_on: Option<Date>,
}

impl ContractSpan {
    /// Started on or before `day` and not ended on or before it.
    pub(crate) fn open_on(&self, day: Date) -> bool {
        self.started_on <= day && self.ended_on.is_none_or(|ended| ended > day)
    }
}

/// A step and the episode it belongs to (its index in `Summary::episodes`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, bincode::Encode, bincode::Decode)]
pub(crate) struct Placed {
    pub episode: u32,
    pub step: Step,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, bincode::Encode, bincode::Decode)]
pub(crate) enum Step {
    Hours {
        month: Month,
        hours: Hours,
    },
    FollowUp {
        on: Date,
        kind: FollowUpKind,
    },
    Support {
        on: Date,
        domain: SupportDomain,
        action: Option<SupportAction>,
        partner: Option<NameIx>,
    },
    /// A training started (`None`) or ended with its result.
    Training {
        on: Date,
        result: Option<TrainingResult>,
    },
    SkillsAssessed {
        on: Date,
        kind: AssessmentKind,
    },
}

impl Track {
    /// Files a fact the summary has just folded; `open` is the episode the summary had open
    /// before it (steps outside an episode are not filed, as the fold ignores them).
    pub(crate) fn apply(&mut self, open: Option<usize>, recorded: &Recorded) {
        // A stream holds fewer than 2^32 events, hence fewer episodes.
        let Some(episode) = open.map(|open| open as u32) else { return };
        let on = recorded.occurred_on;
        let mut open_spans =
            self.contracts.iter_mut().filter(|span| span.episode == episode && span.ended_on.is_none());
        let step = match recorded.fact {
            Fact::ContractStarted { contract, kind, weekly_hours, planned_end } => {
                // As the fold: a contract already open is not started again.
                if !open_spans.any(|span| span.contract == contract) {
                    let span = ContractSpan {
                        episode,
                        contract,
                        kind,
                        weekly_hours,
                        started_on: on,
                        planned_end,
                        ended_on: None,
                    };
                    push_tight(&mut self.contracts, span);
                }
                return;
            }
            Fact::ContractEnded { contract, .. } => {
                if let Some(span) = open_spans.find(|span| span.contract == contract) {
                    span.ended_on = Some(on);
                }
                return;
            }
            Fact::Exited { .. } => {
                for span in open_spans {
                    span.ended_on = Some(on);
                }
                return;
            }
            Fact::HoursWorked { month, hours } => Step::Hours { month, hours },
            Fact::FollowUpHeld { kind, .. } => Step::FollowUp { on, kind },
            Fact::SupportProvided { domain, action, partner } => Step::Support { on, domain, action, partner },
            Fact::TrainingStarted { .. } => Step::Training { on, result: None },
            Fact::TrainingCompleted { result, .. } => Step::Training { on, result: Some(result) },
            Fact::SkillsAssessed { kind } => Step::SkillsAssessed { on, kind },
            _ => return,
        };
        let month = match step {
            Step::Hours { month, .. } => month,
            Step::FollowUp { on, .. }
            | Step::Support { on, .. }
            | Step::Training { on, .. }
            | Step::SkillsAssessed { on, .. } => Month::from_date(on),
        };
        self.latest = self.latest.max(Some(month));
        if self.steps.capacity() == 0 {
            self.steps.reserve_exact(STEPS_FIRST);
        }
        push_tight(&mut self.steps, Placed { episode, step });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tests::log::{contract, contract_ended, date, exited, hours, person, referred, registered, Log};

    #[test]
    fn steps_stay_small() {
        // About 25 per person, 300,000 people: every 4 bytes is 30 MB.
        assert!(std::mem::size_of::<Placed>() <= 16, "{}", std::mem::size_of::<Placed>());
    }

    #[test]
    fn the_walk_places_steps_as_the_projections_fold_does() {
        let mut log = Log::new("2024-12-31T09:00:00Z");
        let p = person(1);
        log.add(p, "2024-01-02", registered("aci-agen", "female", 1990));
        log.add(p, "2024-01-03", referred("aci-agen", "unemployed", "france_travail"));
        log.add(p, "2024-01-08", contract("c1", Some("2024-06-30")));
        log.add(p, "2024-02-01", hours("c1", "2024-01", 80.5));
        log.add(p, "2024-03-31", contract_ended("c1"));
        log.add(p, "2024-04-01", contract("c2", None));
        log.add(p, "2024-05-15", exited("cdi"));
        let projections = log.projections();
        let beneficiary = projections.beneficiary(0);
        let track = &beneficiary.track;
        let spans: Vec<(Date, Option<Date>)> =
            track.contracts.iter().map(|span| (span.started_on, span.ended_on)).collect();
        assert_eq!(
            spans,
            [(date("2024-01-08"), Some(date("2024-03-31"))), (date("2024-04-01"), Some(date("2024-05-15")))]
        );
        assert!(track.contracts[0].open_on(date("2024-03-30")));
        assert!(!track.contracts[0].open_on(date("2024-03-31")), "ended that day");
        let january = Step::Hours { month: Month::new(2024, 1).unwrap(), hours: Hours::from_hundredths(8050) };
        assert_eq!(track.steps, [Placed { episode: 0, step: january }]);
    }
}
