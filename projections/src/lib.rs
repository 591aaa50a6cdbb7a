//! The projections of Parcours: pure folds over the log, and the runner that keeps them live.
//!
//! Data flow: the store's log → [`Projections::apply`] (one pass, in log order, every projection
//! at once) → queries ([`Projections::dashboard`], [`Projections::outcomes`],
//! [`Projections::entries`], [`Projections::pathway`], [`Projections::activity_report`]) → the
//! server's JSON, CSV and pages. The
//! audit trail and the time-travel questions ([`audit`]) are pure functions of one stream.
//!
//! Invariants, as absences: projections read the log only through core's reading API (never sled);
//! they keep no personal data (the `identity` of a registration is never copied); outputs never
//! depend on hash-map order; no floats in any count, sum or rate (see [`ratio`]).
//!
//! No `unsafe` but the cache hint of `prefetch`: denied here for the whole crate, allowed on that
//! one function (`forbid` could not be lifted there).

#![deny(unsafe_code)]

mod age_band;
pub mod audit;
mod beneficiary;
mod dashboard;
mod disclosed;
mod disclosure;
mod entries;
mod episode_rows;
mod esf;
mod exits;
mod fact;
mod follow_up;
mod history;
mod hours;
mod merges;
mod outcomes;
mod pathway;
mod people;
mod period;
mod prefetch;
mod projections;
mod proposals;
pub mod ratio;
pub mod report;
mod runner;
mod stream_table;
mod structures;
mod summary;
mod track;

pub use age_band::AgeBand;
pub use dashboard::{ContractEnding, Dashboard, DashboardLists, FollowUpOverdue, CONTRACTS_ENDING_WITHIN_DAYS};
pub use disclosed::Disclosed;
pub use disclosure::CellsWithheld;
pub use entries::{AgeBandGenderRow, Cell, Entries, EntriesQuery, GenderRow, SituationGenderRow};
pub use episode_rows::EpisodeRow;
pub use esf::{EsfEpisode, EsfIndicators, EsfQuery, IndicatorRow};
pub use exits::{OutcomeCounts, OutcomeField, Withheld};
pub use follow_up::FOLLOW_UP_OVERDUE_AFTER_DAYS;
pub use hours::TotalHours;
pub use outcomes::{GroupBy, GroupKey, OutcomeCube, OutcomeGroup, OutcomeQuery, Outcomes, CUBE_GROUPINGS};
pub use pathway::{
    ContractState, EpisodeState, ExitState, FollowUpAfterExitState, FollowUpState, PathwayState, RegistrationState,
    TrainingState,
};
pub use people::{PeopleQuery, PersonRow, PersonStatus};
pub use period::{Period, PeriodError};
pub use projections::{ApplyError, Projections};
pub use proposals::{PendingReferral, PendingReferralState};
pub use runner::{rebuild, rebuild_until, Live, RunnerError};
pub use structures::StructureRecord;

#[cfg(test)]
mod tests;
