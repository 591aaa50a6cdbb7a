//! The fold of one beneficiary's effective history: what every projection reads about a person.
//!
//! [`Summary::apply`] takes one fact in the stream's order (version order) and returns the
//! [`Effect`] it has on the cross-beneficiary indexes, so that the log-wide fold updates those in
//! O(1) per event; a correction replays the history to withdraw and re-add every effect.
//!
//! The fold is lenient: it trusts the rules (`parcours_core::rules`) to have refused invalid steps,
//! and ignores what cannot be placed (a step outside an episode, anything before the registration)
//! rather than failing, so a projection never stops on an old or odd log.

use parcours_core::vocabulary::{
    ContractKind, Date, Destination, EventId, FollowUpKind, Gender, Hours, Month, SituationAfterExit,
};

use crate::fact::{Fact, NameIx, Recorded, Referral};
use crate::structures::StructureIx;

#[derive(Clone, PartialEq, Eq, Debug, Default, bincode::Encode, bincode::Decode)]
pub(crate) struct Summary {
    pub registration: Option<Registration>,
    pub erased: bool,
    /// In the order they were opened; at most the last one is open.
    pub episodes: Vec<Episode>,
    /// Contracts and trainings of the open episode that have not ended; an exit closes them all.
    pub open_contracts: Vec<OpenContract>,
    pub open_trainings: Vec<OpenTraining>,
    /// The latest follow-up (by date) of the last episode; reset by a referral.
    pub last_follow_up: Option<FollowUp>,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug, bincode::Encode, bincode::Decode)]
pub(crate) struct Registration {
    pub registered_on: Date,
    pub structure: StructureIx,
    pub gender: Gender,
    pub birth_year: u16,
}

#[derive(Clone, PartialEq, Eq, Debug, bincode::Encode, bincode::Decode)]
pub(crate) struct Episode {
    pub referral: EventId,
    pub referred_on: Date,
    pub facts: Referral,
    pub exit: Option<Exit>,
    pub follow_ups_after_exit: Vec<AfterExit>,
    /// The situation found by the last six-month follow-up in `follow_ups_after_exit`, kept
    /// beside them because the outcome figures read it for every exit of a national year, and
    /// the vector is one more block of memory to fetch.
    six_months_after_exit: Option<SituationAfterExit>,
}

impl Episode {
    /// The situation found by the last six-month follow-up of this episode's exit.
    pub(crate) fn six_months_after_exit(&self) -> Option<SituationAfterExit> {
        self.six_months_after_exit
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug, bincode::Encode, bincode::Decode)]
pub(crate) struct Exit {
    pub exited_on: Date,
    pub destination: Destination,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug, bincode::Encode, bincode::Decode)]
pub(crate) struct AfterExit {
    pub followed_up_on: Date,
    pub months_after_exit: u8,
    pub situation: SituationAfterExit,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug, bincode::Encode, bincode::Decode)]
pub(crate) struct OpenContract {
    pub contract: NameIx,
    pub kind: ContractKind,
    pub weekly_hours: Hours,
    pub started_on: Date,
    pub planned_end: Option<Date>,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug, bincode::Encode, bincode::Decode)]
pub(crate) struct OpenTraining {
    pub training: NameIx,
    pub title: NameIx,
    pub qualifying: bool,
    pub started_on: Date,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug, bincode::Encode, bincode::Decode)]
pub(crate) struct FollowUp {
    pub held_on: Date,
    pub kind: FollowUpKind,
    pub next_due: Option<Date>,
}

/// What one fact changes in the indexes shared by all beneficiaries. `episode` is the index of the
/// episode in [`Summary::episodes`].
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Effect {
    None,
    Referred {
        episode: u32,
        referred_on: Date,
        structure: StructureIx,
    },
    Exited {
        episode: u32,
        exited_on: Date,
        structure: StructureIx,
    },
    /// Hours count for the structure of the episode in which they were recorded.
    HoursWorked {
        structure: StructureIx,
        month: Month,
        hours: Hours,
    },
}

/// Pushes onto one of a summary's vectors, which start at one element and double from there.
///
/// Why not `Vec::push`: its first push makes room for four, and most people have one episode, one
/// or two contracts at a time and a follow-up or two after exit. At 300,000 people the spare room
/// came to tens of MiB, all of it fresh memory the fold had to fault in.
pub(crate) fn push_tight<T>(vec: &mut Vec<T>, item: T) {
    if vec.len() == vec.capacity() {
        vec.reserve_exact(vec.len().max(1));
    }
    vec.push(item);
}

impl Summary {
    /// Folds a history from scratch, handing each effect to `visit`.
    pub(crate) fn fold<'a>(history: impl IntoIterator<Item = &'a Recorded>, mut visit: impl FnMut(Effect)) -> Summary {
        let mut summary = Summary::default();
        for recorded in history {
            visit(summary.apply(recorded));
        }
        summary
    }

    /// The episode in progress, if any.
    pub(crate) fn open_episode(&self) -> Option<&Episode> {
        self.episodes.last().filter(|episode| episode.exit.is_none())
    }

    /// Where the episode in progress is in [`Summary::episodes`], if there is one.
    pub(crate) fn open_episode_index(&self) -> Option<usize> {
        self.open_episode().map(|_| self.episodes.len() - 1)
    }

    /// The structure that holds the person now (CONTRACT §7): that of the open episode, else of the
    /// last referral, else of the registration.
    pub(crate) fn current_structure(&self) -> Option<StructureIx> {
        match self.episodes.last() {
            Some(episode) => Some(episode.facts.structure),
            None => self.registration.map(|registration| registration.structure),
        }
    }

    pub(crate) fn apply(&mut self, recorded: &Recorded) -> Effect {
        let on = recorded.occurred_on;
        if self.registration.is_none() {
            // A stream becomes a beneficiary with its registration; nothing counts before it.
            if let Fact::Registered { structure, gender, birth_year } = recorded.fact {
                self.registration = Some(Registration { registered_on: on, structure, gender, birth_year });
            }
            return Effect::None;
        }
        match recorded.fact {
            Fact::Registered { .. } | Fact::Proposed(_) => Effect::None,
            Fact::PersonalDataErased => {
                self.erased = true;
                Effect::None
            }
            Fact::Referred(facts) => {
                if self.open_episode().is_some() {
                    return Effect::None;
                }
                push_tight(
                    &mut self.episodes,
                    Episode {
                        referral: recorded.id,
                        referred_on: on,
                        facts,
                        exit: None,
                        follow_ups_after_exit: Vec::new(),
                        six_months_after_exit: None,
                    },
                );
                self.open_contracts.clear();
                self.open_trainings.clear();
                self.last_follow_up = None;
                // A stream holds fewer than 2^32 events, hence fewer episodes.
                let episode = (self.episodes.len() - 1) as u32;
                Effect::Referred { episode, referred_on: on, structure: facts.structure }
            }
            Fact::FollowedUpAfterExit { months_after_exit, situation } => {
                if let Some(episode) = self.episodes.iter_mut().rev().find(|episode| episode.exit.is_some()) {
                    push_tight(
                        &mut episode.follow_ups_after_exit,
                        AfterExit { followed_up_on: on, months_after_exit, situation },
                    );
                    if months_after_exit == 6 {
                        episode.six_months_after_exit = Some(situation);
                    }
                }
                Effect::None
            }
            fact => self.apply_in_episode(on, fact),
        }
    }

    /// Steps that need an open episode (CONTRACT §4).
    fn apply_in_episode(&mut self, on: Date, fact: Fact) -> Effect {
        let Some(episode_index) = self.episodes.len().checked_sub(1).filter(|_| self.open_episode().is_some()) else {
            return Effect::None;
        };
        let structure = self.episodes[episode_index].facts.structure;
        match fact {
            Fact::ContractStarted { contract, kind, weekly_hours, planned_end } => {
                if !self.open_contracts.iter().any(|open| open.contract == contract) {
                    push_tight(
                        &mut self.open_contracts,
                        OpenContract { contract, kind, weekly_hours, started_on: on, planned_end },
                    );
                }
                Effect::None
            }
            Fact::ContractEnded { contract, .. } => {
                self.open_contracts.retain(|open| open.contract != contract);
                Effect::None
            }
            Fact::HoursWorked { month, hours } => Effect::HoursWorked { structure, month, hours },
            Fact::TrainingStarted { training, title, qualifying } => {
                if !self.open_trainings.iter().any(|open| open.training == training) {
                    push_tight(&mut self.open_trainings, OpenTraining { training, title, qualifying, started_on: on });
                }
                Effect::None
            }
            Fact::TrainingCompleted { training, .. } => {
                self.open_trainings.retain(|open| open.training != training);
                Effect::None
            }
            Fact::FollowUpHeld { kind, next_due } => {
                // The latest by date; of two on the same day, the one recorded last.
                if self.last_follow_up.is_none_or(|last| last.held_on <= on) {
                    self.last_follow_up = Some(FollowUp { held_on: on, kind, next_due });
                }
                Effect::None
            }
            Fact::Exited { destination } => {
                self.episodes[episode_index].exit = Some(Exit { exited_on: on, destination });
                self.open_contracts.clear();
                self.open_trainings.clear();
                Effect::Exited { episode: episode_index as u32, exited_on: on, structure }
            }
            Fact::SkillsAssessed { .. } | Fact::SupportProvided { .. } => Effect::None,
            Fact::Registered { .. }
            | Fact::PersonalDataErased
            | Fact::Referred(_)
            | Fact::Proposed(_)
            | Fact::FollowedUpAfterExit { .. } => Effect::None,
        }
    }
}
