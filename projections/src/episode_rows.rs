//! Every episode as one row: what the entry and outcome statistics read about it, for exports
//! that leave the process (the Parquet export of CONTRACT §12), so that figures recomputed from
//! the rows elsewhere equal the API's.
//!
//! Why rows from the fold rather than from the log: the fold has already applied corrections and
//! retractions; an export that re-derived episodes from the raw events would count what the API
//! does not.

use parcours_core::vocabulary::{
    Benefit, Date, Destination, Gender, PrescriberKind, Programme, Qualification, Situation, SituationAfterExit, Slug,
    StreamId,
};

use crate::age_band::AgeBand;
use crate::projections::Projections;

/// One episode, as the statistics count it.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct EpisodeRow<'a> {
    /// The person's stream: an exporter pseudonymises it.
    pub stream: StreamId,
    /// 1 for the person's first episode, then 2, …
    pub episode: u32,
    pub structure: &'a Slug,
    pub referred_on: Date,
    pub prescriber: PrescriberKind,
    pub programme: Option<Programme>,
    pub situation: Situation,
    pub qualification: Option<Qualification>,
    pub benefits: Vec<Benefit>,
    pub gender: Gender,
    /// At referral, as the statistics group it.
    pub age_band: AgeBand,
    pub exit: Option<(Date, Destination)>,
    /// Referred again after this episode's exit (`reenrolled` in the outcomes).
    pub reenrolled: bool,
    /// The last six-month follow-up after this episode's exit.
    pub six_months_after_exit: Option<SituationAfterExit>,
}

impl Projections {
    /// Every episode of every registered person, people in order of first appearance in the log,
    /// episodes in the order they were opened.
    pub fn episode_rows(&self) -> impl Iterator<Item = EpisodeRow<'_>> + '_ {
        self.beneficiaries.iter().zip(&self.stream_ids).flat_map(move |(beneficiary, &stream)| {
            let summary = &beneficiary.summary;
            let episodes = if summary.registration.is_some() { summary.episodes.as_slice() } else { &[] };
            let count = episodes.len();
            episodes.iter().enumerate().filter_map(move |(index, episode)| {
                let registration = summary.registration?;
                let facts = episode.facts;
                Some(EpisodeRow {
                    stream,
                    episode: index as u32 + 1,
                    structure: self.structures.slug(facts.structure),
                    referred_on: episode.referred_on,
                    prescriber: facts.prescriber,
                    programme: facts.programme,
                    situation: facts.situation,
                    qualification: facts.qualification,
                    benefits: facts.benefits.iter().collect(),
                    gender: registration.gender,
                    age_band: AgeBand::at(episode.referred_on.year(), registration.birth_year),
                    exit: episode.exit.map(|exit| (exit.exited_on, exit.destination)),
                    reenrolled: episode.exit.is_some() && index + 1 < count,
                    six_months_after_exit: episode.six_months_after_exit(),
                })
            })
        })
    }
}
