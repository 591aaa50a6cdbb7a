//! What the activity report needs of one beneficiary beyond its [`Summary`]: the contracts of each
//! episode with their dates (the summary keeps only the open ones), hours by month, follow-ups and
//! support actions with their dates.
//!
//! Kept by every [`Beneficiary`](crate::beneficiary::Beneficiary) beside its summary and filed by
//! the same fold, one fact at a time: a step belongs to the episode that the fold has open when it
//! reaches the step, so the report places steps exactly where the dashboards and statistics do,
//! lenient cases included. Why kept rather than walked again for each report: a yearly report of
//! every structure of a national log would walk ten million facts scattered over the whole arena.

use parcours_core::vocabulary::{ContractKind, Date, FollowUpKind, Hours, Month, SupportAction, SupportDomain};

use crate::fact::{Fact, NameIx, Recorded};

/// Parallel to `Summary::episodes`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Track {
    pub episodes: Vec<EpisodeSteps>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct EpisodeSteps {
    pub contracts: Vec<ContractSpan>,
    pub hours: Vec<(Month, Hours)>,
    pub follow_ups: Vec<(Date, FollowUpKind)>,
    pub supports: Vec<Support>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ContractSpan {
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

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Support {
    pub on: Date,
    pub domain: SupportDomain,
    pub action: Option<SupportAction>,
    pub partner: Option<NameIx>,
}

impl Track {
    /// Files a fact the summary has just folded: `open` is the episode the summary had open
    /// before it, `episodes` how many it has after it.
    pub(crate) fn apply(&mut self, open: Option<usize>, episodes: usize, recorded: &Recorded) {
        if self.episodes.len() < episodes {
            self.episodes.resize_with(episodes, EpisodeSteps::default);
        }
        let Some(steps) = open.and_then(|open| self.episodes.get_mut(open)) else { return };
        let on = recorded.occurred_on;
        match recorded.fact {
            // As the fold: a contract already open is not started again.
            Fact::ContractStarted { contract, kind, weekly_hours, planned_end }
                if !steps.contracts.iter().any(|span| span.contract == contract && span.ended_on.is_none()) =>
            {
                let span = ContractSpan { contract, kind, weekly_hours, started_on: on, planned_end, ended_on: None };
                steps.contracts.push(span);
            }
            Fact::ContractEnded { contract, .. } => {
                let open = steps.contracts.iter_mut().find(|span| span.contract == contract && span.ended_on.is_none());
                if let Some(span) = open {
                    span.ended_on = Some(on);
                }
            }
            Fact::Exited { .. } => {
                for span in steps.contracts.iter_mut().filter(|span| span.ended_on.is_none()) {
                    span.ended_on = Some(on);
                }
            }
            Fact::HoursWorked { month, hours } => steps.hours.push((month, hours)),
            Fact::FollowUpHeld { kind, .. } => steps.follow_ups.push((on, kind)),
            Fact::SupportProvided { domain, action, partner } => {
                steps.supports.push(Support { on, domain, action, partner });
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tests::log::{contract, contract_ended, date, exited, hours, person, referred, registered, Log};

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
        assert_eq!(track.episodes.len(), beneficiary.summary.episodes.len(), "one per episode");
        let spans: Vec<(Date, Option<Date>)> =
            track.episodes[0].contracts.iter().map(|span| (span.started_on, span.ended_on)).collect();
        assert_eq!(
            spans,
            [(date("2024-01-08"), Some(date("2024-03-31"))), (date("2024-04-01"), Some(date("2024-05-15")))]
        );
        assert!(track.episodes[0].contracts[0].open_on(date("2024-03-30")));
        assert!(!track.episodes[0].contracts[0].open_on(date("2024-03-31")), "ended that day");
        assert_eq!(track.episodes[0].hours, [(Month::new(2024, 1).unwrap(), Hours::from_hundredths(8050))]);
    }
}
