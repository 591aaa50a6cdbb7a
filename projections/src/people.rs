//! The list of people behind the web application's "bénéficiaires" page and `GET
//! /api/beneficiaries`: who, where they are now, and where they stand in their pathway.
//!
//! A scan of every beneficiary (a few milliseconds at 300,000 people); no personal data here, the
//! server adds names for readers allowed to see them.

use parcours_core::vocabulary::{Date, Gender, Slug, StreamId};
use serde::{Deserialize, Serialize};

use crate::beneficiary::BeneficiaryIx;
use crate::projections::Projections;
use crate::structures::StructureIx;
use crate::summary::Summary;

/// Where a person stands now.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PersonStatus {
    /// Registered, never referred.
    Registered,
    /// In an episode, without an open contract.
    WaitingForContract,
    /// In an episode, with at least one open contract.
    InContract,
    /// Out of their last episode.
    Exited,
}

impl PersonStatus {
    pub const ALL: &'static [PersonStatus] =
        &[PersonStatus::Registered, PersonStatus::WaitingForContract, PersonStatus::InContract, PersonStatus::Exited];

    pub fn code(self) -> &'static str {
        match self {
            PersonStatus::Registered => "registered",
            PersonStatus::WaitingForContract => "waiting_for_contract",
            PersonStatus::InContract => "in_contract",
            PersonStatus::Exited => "exited",
        }
    }

    fn of(summary: &Summary) -> PersonStatus {
        match (summary.open_episode(), summary.episodes.is_empty()) {
            (Some(_), _) if summary.open_contracts.is_empty() => PersonStatus::WaitingForContract,
            (Some(_), _) => PersonStatus::InContract,
            (None, true) => PersonStatus::Registered,
            (None, false) => PersonStatus::Exited,
        }
    }
}

#[derive(Clone, PartialEq, Eq, Debug, Serialize)]
pub struct PersonRow {
    pub beneficiary: StreamId,
    pub current_structure: Slug,
    pub status: PersonStatus,
    pub registered_on: Date,
    pub gender: Gender,
    pub birth_year: u16,
    /// The date of the latest referral, if any.
    pub referred_on: Option<Date>,
    pub identity_erased: bool,
}

#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub struct PeopleQuery {
    /// Only people registered in, or ever referred to, one of these structures (a coordinator's
    /// reach); `None` for everyone.
    pub reach: Option<Vec<Slug>>,
    /// Only people whose current structure is this one.
    pub current_structure: Option<Slug>,
    pub status: Option<PersonStatus>,
}

impl Projections {
    /// Whether a person was registered in, or ever referred to, one of these structures: whether
    /// their coordinators may read the stream (CONTRACT §7). `None` for a stream that is no
    /// person's (a structure's own, or unknown).
    pub fn reached_by(&self, stream: StreamId, structures: &[Slug]) -> Option<bool> {
        let summary = &self.beneficiary(self.streams.get(&stream)?).summary;
        let registration = summary.registration?;
        let reach: Vec<StructureIx> = structures.iter().filter_map(|slug| self.structures.find(slug)).collect();
        let mut seen = std::iter::once(registration.structure)
            .chain(summary.episodes.iter().map(|episode| episode.facts.structure));
        Some(seen.any(|structure| reach.contains(&structure)))
    }

    /// The people a query selects, sorted by beneficiary id.
    pub fn people(&self, query: &PeopleQuery) -> Vec<PersonRow> {
        let reach: Option<Vec<StructureIx>> =
            query.reach.as_ref().map(|slugs| slugs.iter().filter_map(|slug| self.structures.find(slug)).collect());
        let current = query.current_structure.as_ref().map(|slug| self.structures.find(slug));
        let mut rows: Vec<PersonRow> = self
            .beneficiaries
            .iter()
            .zip(&self.stream_ids)
            .enumerate()
            .filter_map(|(ix, (beneficiary, &stream))| {
                let summary = &beneficiary.summary;
                let registration = summary.registration?;
                // A record merged into another is that person's, listed once, under the survivor.
                if self.merges.survivor_of(ix as BeneficiaryIx).is_some() {
                    return None;
                }
                let holder = summary.current_structure().unwrap_or(registration.structure);
                if current.is_some_and(|current| current != Some(holder)) {
                    return None;
                }
                if let Some(reach) = &reach {
                    let mut seen = std::iter::once(registration.structure)
                        .chain(summary.episodes.iter().map(|episode| episode.facts.structure));
                    if !seen.any(|structure| reach.contains(&structure)) {
                        return None;
                    }
                }
                let status = PersonStatus::of(summary);
                if query.status.is_some_and(|wanted| wanted != status) {
                    return None;
                }
                Some(PersonRow {
                    beneficiary: stream,
                    current_structure: self.structures.slug(holder).clone(),
                    status,
                    registered_on: registration.registered_on,
                    gender: registration.gender,
                    birth_year: registration.birth_year,
                    referred_on: summary.episodes.last().map(|episode| episode.referred_on),
                    identity_erased: summary.erased,
                })
            })
            .collect();
        rows.sort_by_key(|row| row.beneficiary);
        rows
    }
}
