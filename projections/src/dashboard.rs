//! The coordinator dashboard of one structure (`GET /api/dashboard?structure=S`, CONTRACT §5):
//! the figures and, behind each, the people it counts, so the page can say who waits.
//!
//! A beneficiary counts for the structure of their open episode. The figures depend on `today`, so
//! they are computed at query time from the structure's open episodes (an index kept by the fold)
//! and its monthly hours (summed by the fold): the cost is that of the structure, not of the log.
//!
//! Definitions:
//! - `active_episodes`: open episodes; `in_contract`: those with at least one open contract;
//!   `waiting_for_contract`: those with none.
//! - `contracts_ending_within_30_days`: open contracts whose planned end is in [today, today + 30].
//! - `follow_ups_overdue`: open episodes whose last contact is more than 21 days old, the last
//!   contact being the latest `follow_up_held` of the episode, or its referral when none was held
//!   yet (a person referred a week ago is not overdue; one referred 22 days ago and never met is).
//!   Overdue when last contact < today − 21 days.
//! - `hours_this_month` / `hours_this_year`: hours worked for months of today's month / year, in
//!   episodes of the structure (hours count where they were recorded, even after the person left).
//! - `agreed_hours_this_year`: from the structure's latest `structure_updated`; `null` if none.

use chrono::Days;
use parcours_core::vocabulary::{Date, Month, Slug, StreamId};
use serde::Serialize;

use crate::follow_up::{last_contact, overdue_before};
use crate::hours::TotalHours;
use crate::projections::Projections;

/// How far ahead the dashboard looks for contracts ending.
pub const CONTRACTS_ENDING_WITHIN_DAYS: u64 = 30;

#[derive(Clone, PartialEq, Eq, Debug, Serialize)]
pub struct Dashboard {
    pub structure: Slug,
    pub today: Date,
    pub active_episodes: u64,
    pub in_contract: u64,
    pub waiting_for_contract: u64,
    pub contracts_ending_within_30_days: u64,
    pub follow_ups_overdue: u64,
    pub hours_this_month: TotalHours,
    pub hours_this_year: TotalHours,
    pub agreed_hours_this_year: Option<TotalHours>,
    pub lists: DashboardLists,
}

/// The people behind each figure, sorted by beneficiary id (then contract id).
#[derive(Clone, PartialEq, Eq, Debug, Default, Serialize)]
pub struct DashboardLists {
    pub active_episodes: Vec<StreamId>,
    pub in_contract: Vec<StreamId>,
    pub waiting_for_contract: Vec<StreamId>,
    pub contracts_ending_within_30_days: Vec<ContractEnding>,
    pub follow_ups_overdue: Vec<FollowUpOverdue>,
}

#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Debug, Serialize)]
pub struct ContractEnding {
    pub beneficiary: StreamId,
    pub contract_id: String,
    pub planned_end: Date,
}

#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Debug, Serialize)]
pub struct FollowUpOverdue {
    pub beneficiary: StreamId,
    /// The last follow-up of the episode, or its referral if none was held.
    pub last_contact: Date,
}

impl Projections {
    pub fn dashboard(&self, structure: &Slug, today: Date) -> Dashboard {
        let mut lists = DashboardLists::default();
        let ix = self.structures.find(structure);
        // Everyone ever referred here, once each, in beneficiary order; those whose open episode
        // is here are the active ones.
        let mut candidates = ix.and_then(|ix| self.indexes.referred.get(ix.index())).cloned().unwrap_or_default();
        candidates.sort_unstable();
        candidates.dedup();
        let horizon = today.0.checked_add_days(Days::new(CONTRACTS_ENDING_WITHIN_DAYS)).map(Date);
        let overdue_before = overdue_before(today);
        for beneficiary_ix in candidates {
            let beneficiary = self.beneficiary(beneficiary_ix);
            let summary = &beneficiary.summary;
            let Some(episode) = summary.open_episode().filter(|episode| Some(episode.facts.structure) == ix) else {
                continue;
            };
            let stream = self.stream_of(beneficiary_ix);
            lists.active_episodes.push(stream);
            if summary.open_contracts.is_empty() {
                lists.waiting_for_contract.push(stream);
            } else {
                lists.in_contract.push(stream);
            }
            for contract in &summary.open_contracts {
                if let Some(planned_end) = contract.planned_end {
                    if today <= planned_end && horizon.is_none_or(|horizon| planned_end <= horizon) {
                        lists.contracts_ending_within_30_days.push(ContractEnding {
                            beneficiary: stream,
                            contract_id: beneficiary.names.get(contract.contract).to_owned(),
                            planned_end,
                        });
                    }
                }
            }
            let last_contact = last_contact(episode.referred_on, summary.last_follow_up.map(|f| f.held_on));
            if overdue_before.is_some_and(|overdue_before| last_contact < overdue_before) {
                lists.follow_ups_overdue.push(FollowUpOverdue { beneficiary: stream, last_contact });
            }
        }
        if !self.merges.is_empty() {
            self.count_merged_people_once(&mut lists);
        }
        lists.active_episodes.sort();
        lists.in_contract.sort();
        lists.waiting_for_contract.sort();
        lists.contracts_ending_within_30_days.sort();
        lists.follow_ups_overdue.sort();

        let hours = ix.and_then(|ix| self.indexes.hours.get(ix.index()));
        let month = today.month();
        let year = month.year;
        let (mut hours_this_month, mut hours_this_year) = (TotalHours::default(), TotalHours::default());
        if let (Some(hours), Some(january), Some(december)) = (hours, Month::new(year, 1), Month::new(year, 12)) {
            hours_this_month = hours.sum(month, month);
            hours_this_year = hours.sum(january, december);
        }
        let agreed_hours_this_year = self
            .records
            .get(structure)
            .and_then(|record| record.agreed_hours.get(&year))
            .map(|hours| TotalHours::from(*hours));

        Dashboard {
            structure: structure.clone(),
            today,
            active_episodes: lists.active_episodes.len() as u64,
            in_contract: lists.in_contract.len() as u64,
            waiting_for_contract: lists.waiting_for_contract.len() as u64,
            contracts_ending_within_30_days: lists.contracts_ending_within_30_days.len() as u64,
            follow_ups_overdue: lists.follow_ups_overdue.len() as u64,
            hours_this_month,
            hours_this_year,
            agreed_hours_this_year,
            lists,
        }
    }

    /// A person recorded twice and merged is one person here (CONTRACT §10): each record stands
    /// for its survivor in the lists of people, once; in contract if either record is, overdue if
    /// every record of theirs open here is.
    fn count_merged_people_once(&self, lists: &mut DashboardLists) {
        let person = |stream: StreamId| self.merged_into(stream).unwrap_or(stream);
        let mut met: Vec<StreamId> = lists
            .active_episodes
            .iter()
            .filter(|stream| !lists.follow_ups_overdue.iter().any(|overdue| overdue.beneficiary == **stream))
            .map(|stream| person(*stream))
            .collect();
        met.sort_unstable();
        for list in [&mut lists.active_episodes, &mut lists.in_contract, &mut lists.waiting_for_contract] {
            list.iter_mut().for_each(|stream| *stream = person(*stream));
            list.sort_unstable();
            list.dedup();
        }
        let in_contract = &lists.in_contract;
        lists.waiting_for_contract.retain(|stream| in_contract.binary_search(stream).is_err());
        for overdue in &mut lists.follow_ups_overdue {
            overdue.beneficiary = person(overdue.beneficiary);
        }
        lists.follow_ups_overdue.retain(|overdue| met.binary_search(&overdue.beneficiary).is_err());
        // The most recent contact across their records is the person's.
        lists.follow_ups_overdue.sort_by_key(|overdue| (overdue.beneficiary, std::cmp::Reverse(overdue.last_contact)));
        lists.follow_ups_overdue.dedup_by_key(|overdue| overdue.beneficiary);
    }
}
