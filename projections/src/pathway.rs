//! The state of one pathway as the API shows it (`GET /api/beneficiaries/{id}`): registration,
//! episodes with their exits, open contracts and trainings, last follow-up.
//!
//! Built on demand from a [`Summary`], so the projections keep no strings per beneficiary beyond
//! its contract and training ids. Holds no personal data: the server adds `identity` for readers
//! allowed to see it (CONTRACT §7); `identity_erased` says whether there is any left to add.

use parcours_core::vocabulary::{
    Benefit, ContractKind, Date, Destination, EventId, ExitCategory, FollowUpKind, Gender, Hours, PrescriberKind,
    Programme, Qualification, Situation, SituationAfterExit, Slug, StreamId,
};
use serde::Serialize;

use crate::beneficiary::Beneficiary;
use crate::proposals::PendingReferralState;
use crate::structures::Interner;
use crate::summary::{Exit, Summary};

#[derive(Clone, PartialEq, Eq, Debug, Serialize)]
pub struct PathwayState {
    pub beneficiary: StreamId,
    /// The stream's version the state was folded from (corrections included).
    pub version: u32,
    pub registration: RegistrationState,
    pub identity_erased: bool,
    /// The structure that holds the person now (CONTRACT §7): that of the open episode, else of the
    /// last referral, else of the registration.
    pub current_structure: Slug,
    /// Every structure the person was registered in or referred to, sorted: whose figures and
    /// lists may count the person (CONTRACT §7). A proposal counts once accepted; while it waits,
    /// the structure asked may read the stream to answer, but is named in `pending_referral` only.
    pub structures: Vec<Slug>,
    /// A referral proposed by another structure, waiting for the answer of the one it names.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pending_referral: Option<PendingReferralState>,
    /// Whether an episode is open (then it is the last of `episodes`).
    pub in_episode: bool,
    pub episodes: Vec<EpisodeState>,
    pub open_contracts: Vec<ContractState>,
    pub open_trainings: Vec<TrainingState>,
    /// The latest follow-up (by date) of the last episode.
    pub last_follow_up: Option<FollowUpState>,
    /// The exits of every episode, oldest first.
    pub exits: Vec<ExitState>,
}

#[derive(Clone, PartialEq, Eq, Debug, Serialize)]
pub struct RegistrationState {
    pub registered_on: Date,
    pub structure: Slug,
    pub gender: Gender,
    pub birth_year: u16,
}

#[derive(Clone, PartialEq, Eq, Debug, Serialize)]
pub struct EpisodeState {
    /// The id of the `referred` event that opened the episode.
    pub referral: EventId,
    pub referred_on: Date,
    pub structure: Slug,
    pub prescriber: PrescriberKind,
    pub programme: Option<Programme>,
    pub situation: Situation,
    pub benefits: Vec<Benefit>,
    pub qualification: Option<Qualification>,
    pub family_quotient: Option<u32>,
    pub exit: Option<ExitState>,
    pub follow_ups_after_exit: Vec<FollowUpAfterExitState>,
}

#[derive(Clone, PartialEq, Eq, Debug, Serialize)]
pub struct ExitState {
    pub exited_on: Date,
    pub destination: Destination,
    pub category: ExitCategory,
}

#[derive(Clone, PartialEq, Eq, Debug, Serialize)]
pub struct FollowUpAfterExitState {
    pub followed_up_on: Date,
    pub months_after_exit: u8,
    pub situation: SituationAfterExit,
}

#[derive(Clone, PartialEq, Eq, Debug, Serialize)]
pub struct ContractState {
    pub contract_id: String,
    pub kind: ContractKind,
    pub weekly_hours: Hours,
    pub started_on: Date,
    pub planned_end: Option<Date>,
}

#[derive(Clone, PartialEq, Eq, Debug, Serialize)]
pub struct TrainingState {
    pub training_id: String,
    pub title: String,
    pub qualifying: bool,
    pub started_on: Date,
}

#[derive(Clone, PartialEq, Eq, Debug, Serialize)]
pub struct FollowUpState {
    pub held_on: Date,
    pub kind: FollowUpKind,
    pub next_due: Option<Date>,
}

impl From<Exit> for ExitState {
    fn from(exit: Exit) -> ExitState {
        ExitState { exited_on: exit.exited_on, destination: exit.destination, category: exit.destination.category() }
    }
}

impl PathwayState {
    /// The state `summary` describes, for `beneficiary` (whose names it refers to), whose stream is
    /// `stream`. `None` before the registration: until then the stream is no one's pathway.
    pub(crate) fn of(
        stream: StreamId,
        beneficiary: &Beneficiary,
        summary: &Summary,
        structures: &Interner,
    ) -> Option<PathwayState> {
        let registration = summary.registration?;
        let slug = |ix| structures.slug(ix).clone();
        let names = &beneficiary.names;
        let episodes: Vec<EpisodeState> = summary
            .episodes
            .iter()
            .map(|episode| EpisodeState {
                referral: episode.referral,
                referred_on: episode.referred_on,
                structure: slug(episode.facts.structure),
                prescriber: episode.facts.prescriber,
                programme: episode.facts.programme,
                situation: episode.facts.situation,
                benefits: episode.facts.benefits.iter().collect(),
                qualification: episode.facts.qualification,
                family_quotient: episode.facts.family_quotient,
                exit: episode.exit.map(ExitState::from),
                follow_ups_after_exit: episode
                    .follow_ups_after_exit
                    .iter()
                    .map(|after| FollowUpAfterExitState {
                        followed_up_on: after.followed_up_on,
                        months_after_exit: after.months_after_exit,
                        situation: after.situation,
                    })
                    .collect(),
            })
            .collect();
        let mut structures_seen: Vec<Slug> = std::iter::once(registration.structure)
            .chain(summary.episodes.iter().map(|e| e.facts.structure))
            .map(slug)
            .collect();
        structures_seen.sort();
        structures_seen.dedup();
        Some(PathwayState {
            beneficiary: stream,
            version: beneficiary.version,
            registration: RegistrationState {
                registered_on: registration.registered_on,
                structure: slug(registration.structure),
                gender: registration.gender,
                birth_year: registration.birth_year,
            },
            identity_erased: summary.erased,
            current_structure: slug(summary.current_structure().unwrap_or(registration.structure)),
            structures: structures_seen,
            // Read from the history, which the summary does not hold: set by the callers.
            pending_referral: None,
            in_episode: summary.open_episode().is_some(),
            exits: episodes.iter().filter_map(|episode| episode.exit.clone()).collect(),
            episodes,
            open_contracts: summary
                .open_contracts
                .iter()
                .map(|contract| ContractState {
                    contract_id: names.get(contract.contract).to_owned(),
                    kind: contract.kind,
                    weekly_hours: contract.weekly_hours,
                    started_on: contract.started_on,
                    planned_end: contract.planned_end,
                })
                .collect(),
            open_trainings: summary
                .open_trainings
                .iter()
                .map(|training| TrainingState {
                    training_id: names.get(training.training).to_owned(),
                    title: names.get(training.title).to_owned(),
                    qualifying: training.qualifying,
                    started_on: training.started_on,
                })
                .collect(),
            last_follow_up: summary.last_follow_up.map(|follow_up| FollowUpState {
                held_on: follow_up.held_on,
                kind: follow_up.kind,
                next_due: follow_up.next_due,
            }),
        })
    }
}
