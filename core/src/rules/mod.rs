//! The pathway rules of CONTRACT §4: a pure fold of one stream's history into its [`StreamState`],
//! and a pure [`check`] of a proposed event against that state.
//!
//! No I/O and no clock: the caller passes `today` (the day in the structure's time zone when the
//! store records the event). Events are validated against their own stream only, which is what lets
//! the store append many streams concurrently.
//!
//! Corrections: the state is folded from the *effective* history (retracted events left out,
//! replaced ones with their replacement). A correction is accepted only if the effective history it
//! produces still satisfies every rule, replayed from the start.

mod violation;

use std::collections::{BTreeMap, BTreeSet};

pub use violation::Violation;

use crate::vocabulary::{Date, EventId, Month, Slug, Step, StepKind, StreamId};

/// What kind of stream this is, known from its first event.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub enum StreamKind {
    #[default]
    Empty,
    Beneficiary,
    Structure,
    /// The stream of published reports: `report_published` only.
    Reports,
}

/// One event of a stream as it counts now (after corrections). Corrections themselves are not
/// steps of the effective history; they only change these.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct EffectiveEvent {
    pub id: EventId,
    pub occurred_on: Date,
    pub step: Step,
    pub retracted: bool,
}

#[derive(Clone, PartialEq, Eq, Debug)]
pub struct OpenEpisode {
    pub referral: EventId,
    pub referred_on: Date,
    pub structure: Slug,
}

/// A referral proposed by someone without rights on its structure, waiting for that structure's
/// answer (CONTRACT §7). It opens nothing until accepted.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct PendingReferral {
    pub referral: EventId,
    pub referred_on: Date,
    pub structure: Slug,
}

#[derive(Clone, PartialEq, Eq, Debug)]
pub struct ContractFacts {
    pub started_on: Date,
    /// Ended by `contract_ended`, or closed with its episode by `exited`.
    pub closed: bool,
}

/// The facts the rules need, folded from the effective history.
#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub struct Pathway {
    pub kind: StreamKind,
    pub registered_on: Option<Date>,
    pub registered_structure: Option<Slug>,
    pub structure_slug: Option<Slug>,
    pub open_episode: Option<OpenEpisode>,
    pub last_referral_structure: Option<Slug>,
    pub last_exit_on: Option<Date>,
    pub contracts: BTreeMap<String, ContractFacts>,
    /// Training id → closed (completed, or closed with its episode).
    pub trainings: BTreeMap<String, bool>,
    pub erased: bool,
    /// Every structure the person was registered in or referred to (a proposal counts once
    /// accepted, and while it waits for an answer): whose coordinators may read the stream
    /// (CONTRACT §7).
    pub structures: BTreeSet<Slug>,
    pub pending_referral: Option<PendingReferral>,
    /// Set by `merged_into`, cleared by `unmerged`: the survivor that reads of this stream follow.
    pub merged_into: Option<StreamId>,
    /// The streams merged into this one, and not unmerged since.
    pub absorbed: BTreeSet<StreamId>,
    /// Structures only a declined proposal named, to leave no trace there (kept apart so that a
    /// structure the person really went through stays readable).
    declined_only: BTreeSet<Slug>,
}

impl Pathway {
    /// The structure that may append to this pathway (CONTRACT §7): that of the open episode, else
    /// of the last referral, else of the registration.
    pub fn current_structure(&self) -> Option<&Slug> {
        self.open_episode
            .as_ref()
            .map(|episode| &episode.structure)
            .or(self.last_referral_structure.as_ref())
            .or(self.registered_structure.as_ref())
    }

    /// The structures that registered the person or took them in (a referral, or a proposal once
    /// accepted): [`Pathway::structures`] without the one a proposal waiting for its answer names.
    /// The structure asked reads the person to answer, but the person is not yet one of its own:
    /// its registrations and likely duplicates (CONTRACT §10) do not name them.
    pub fn followed_by(&self) -> BTreeSet<Slug> {
        self.structures.difference(&self.declined_only).cloned().collect()
    }

    /// Opens an episode in `structure` by the referral `referral`.
    fn open(&mut self, referral: EventId, referred_on: Date, structure: &Slug) {
        self.open_episode = Some(OpenEpisode { referral, referred_on, structure: structure.clone() });
        self.last_referral_structure = Some(structure.clone());
        self.structures.insert(structure.clone());
        self.declined_only.remove(structure);
    }

    /// Applies one effective step. Lenient by design: the checks happen before, in [`check_step`].
    fn apply(&mut self, id: EventId, occurred_on: Date, step: &Step) {
        match step {
            Step::Registered(registered) => {
                self.kind = StreamKind::Beneficiary;
                self.registered_on = Some(occurred_on);
                self.registered_structure = Some(registered.structure.clone());
                self.structures.insert(registered.structure.clone());
            }
            Step::StructureUpdated(structure) => {
                self.kind = StreamKind::Structure;
                self.structure_slug = Some(structure.slug.clone());
            }
            Step::Referred(referred) if referred.proposed => {
                if self.structures.insert(referred.structure.clone()) {
                    self.declined_only.insert(referred.structure.clone());
                }
                self.pending_referral = Some(PendingReferral {
                    referral: id,
                    referred_on: occurred_on,
                    structure: referred.structure.clone(),
                });
            }
            Step::Referred(referred) => self.open(id, occurred_on, &referred.structure),
            Step::ReferralAccepted(accepted) => {
                if let Some(pending) =
                    self.pending_referral.take().filter(|pending| pending.referral == accepted.referral)
                {
                    self.declined_only.remove(&pending.structure);
                    self.open(pending.referral, pending.referred_on, &pending.structure);
                }
            }
            Step::ReferralDeclined(declined) => {
                if let Some(pending) =
                    self.pending_referral.take().filter(|pending| pending.referral == declined.referral)
                {
                    if self.declined_only.remove(&pending.structure) {
                        self.structures.remove(&pending.structure);
                    }
                }
            }
            Step::MergedInto(merged) => self.merged_into = Some(merged.into),
            Step::Absorbed(absorbed) => {
                self.absorbed.insert(absorbed.from);
            }
            Step::Unmerged(unmerged) => {
                if self.merged_into == Some(unmerged.other) {
                    self.merged_into = None;
                }
                self.absorbed.remove(&unmerged.other);
            }
            Step::ContractStarted(started) => {
                self.contracts
                    .insert(started.contract_id.clone(), ContractFacts { started_on: occurred_on, closed: false });
            }
            Step::ContractEnded(ended) => {
                if let Some(contract) = self.contracts.get_mut(&ended.contract_id) {
                    contract.closed = true;
                }
            }
            Step::TrainingStarted(started) => {
                self.trainings.insert(started.training_id.clone(), false);
            }
            Step::TrainingCompleted(completed) => {
                self.trainings.insert(completed.training_id.clone(), true);
            }
            Step::Exited(_) => {
                self.open_episode = None;
                self.last_exit_on = Some(occurred_on);
                self.contracts.values_mut().for_each(|contract| contract.closed = true);
                self.trainings.values_mut().for_each(|closed| *closed = true);
            }
            Step::PersonalDataErased(_) => self.erased = true,
            Step::ReportPublished(_) => self.kind = StreamKind::Reports,
            Step::HoursWorked(_)
            | Step::SkillsAssessed(_)
            | Step::SupportProvided(_)
            | Step::FollowUpHeld(_)
            | Step::FollowedUpAfterExit(_)
            | Step::Corrected(_) => {}
        }
    }
}

/// Everything the rules know of one stream.
#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub struct StreamState {
    /// Number of events in the stream, corrections included: the `version` of its last event.
    pub version: u32,
    pub history: Vec<EffectiveEvent>,
    pub pathway: Pathway,
}

impl StreamState {
    /// Folds a stream's events, in version order.
    pub fn from_events<'a>(events: impl IntoIterator<Item = (EventId, Date, &'a Step)>) -> StreamState {
        let mut state = StreamState::default();
        for (id, occurred_on, step) in events {
            state.apply(id, occurred_on, step);
        }
        state
    }

    /// Adds an accepted event to the state.
    pub fn apply(&mut self, id: EventId, occurred_on: Date, step: &Step) {
        self.version += 1;
        match step {
            Step::Corrected(correction) => {
                if let Some(target) = self.history.iter_mut().find(|event| event.id == correction.corrects) {
                    match &correction.replacement {
                        Some(replacement) => {
                            target.occurred_on = replacement.occurred_on;
                            target.step = (*replacement.step).clone();
                        }
                        None => target.retracted = true,
                    }
                }
                self.pathway = fold(&self.history);
            }
            _ => {
                self.pathway.apply(id, occurred_on, step);
                self.history.push(EffectiveEvent { id, occurred_on, step: step.clone(), retracted: false });
            }
        }
    }

    /// Whether an event id belongs to this stream's history (corrections excluded).
    pub fn find(&self, id: EventId) -> Option<&EffectiveEvent> {
        self.history.iter().find(|event| event.id == id)
    }
}

/// The structure that held the person once the event `id` was applied (that of the open
/// episode, else of the last referral, else of the registration): the structure whose time the
/// event belongs to. A proposal is the proposing structure's until accepted, then the referral
/// that opened the episode of the structure asked. `None` when the stream holds no such event,
/// or holds it retracted.
pub fn holder_after(state: &StreamState, id: EventId) -> Option<Slug> {
    let mut pathway = Pathway::default();
    for event in state.history.iter().filter(|event| !event.retracted) {
        pathway.apply(event.id, event.occurred_on, &event.step);
        if event.id != id {
            continue;
        }
        if let Step::Referred(referred) = &event.step {
            let accepted = |answer: &EffectiveEvent| matches!(&answer.step, Step::ReferralAccepted(accepted) if accepted.referral == id);
            if referred.proposed && state.history.iter().any(accepted) {
                return Some(referred.structure.clone());
            }
        }
        return pathway.current_structure().cloned();
    }
    None
}

/// [`Pathway::structures`] of a stream's events in version order: whose coordinators may read it.
pub fn structures_of<'a, I>(events: I) -> BTreeSet<Slug>
where
    I: IntoIterator<Item = (EventId, Date, &'a Step)>,
    I::IntoIter: Clone,
{
    structures_folded(events, |pathway| pathway.structures)
}

/// [`Pathway::followed_by`] of a stream's events in version order: the structures whose own the
/// person is, a proposal counting once accepted (for duplicates).
pub fn followed_by_of<'a, I>(events: I) -> BTreeSet<Slug>
where
    I: IntoIterator<Item = (EventId, Date, &'a Step)>,
    I::IntoIter: Clone,
{
    structures_folded(events, |pathway| pathway.followed_by())
}

/// Structures of the pathway a stream's events fold into, as `of` reads them.
///
/// Without a correction or a proposal every step is effective and every referral counts, so the
/// registrations and referrals say it without the fold, which clones every step: a history read
/// asks this on each request.
fn structures_folded<'a, I>(events: I, of: impl FnOnce(Pathway) -> BTreeSet<Slug>) -> BTreeSet<Slug>
where
    I: IntoIterator<Item = (EventId, Date, &'a Step)>,
    I::IntoIter: Clone,
{
    let events = events.into_iter();
    let needs_fold = |step: &Step| match step {
        Step::Corrected(_) | Step::ReferralDeclined(_) => true,
        Step::Referred(referred) => referred.proposed,
        _ => false,
    };
    if events.clone().any(|(_, _, step)| needs_fold(step)) {
        return of(StreamState::from_events(events).pathway);
    }
    events
        .filter_map(|(_, _, step)| match step {
            Step::Registered(registered) => Some(registered.structure.clone()),
            Step::Referred(referred) => Some(referred.structure.clone()),
            _ => None,
        })
        .collect()
}

fn fold(history: &[EffectiveEvent]) -> Pathway {
    let mut pathway = Pathway::default();
    for event in history.iter().filter(|event| !event.retracted) {
        pathway.apply(event.id, event.occurred_on, &event.step);
    }
    pathway
}

/// Checks a proposed event against the state of its stream, on the day `today`.
pub fn check(state: &StreamState, occurred_on: Date, step: &Step, today: Date) -> Result<(), Violation> {
    if occurred_on > today {
        return Err(Violation::DateInFuture { occurred_on, today });
    }
    if let Some(into) = state.pathway.merged_into {
        // The person's history goes on in the survivor's stream; erasure stays possible everywhere.
        if !matches!(step, Step::Unmerged(_) | Step::PersonalDataErased(_)) {
            return Err(Violation::Merged { into });
        }
    }
    match step {
        Step::Corrected(correction) => check_correction(state, correction, today),
        _ => check_step(&state.pathway, occurred_on, step, Some(today)),
    }
}

/// Whether a step belongs in a structure's or the published reports' stream at all, before its
/// own rules: what anyone may be told of such a stream, whose ids are no secret.
pub fn check_kind(state: &StreamState, step: &Step) -> Result<(), Violation> {
    let kind = step.kind();
    match (state.pathway.kind, step) {
        (StreamKind::Structure, Step::StructureUpdated(_)) | (StreamKind::Reports, Step::ReportPublished(_)) => Ok(()),
        (StreamKind::Structure, _) => Err(Violation::NotAStructureStep(kind)),
        (StreamKind::Reports, _) => Err(Violation::NotAReportStep(kind)),
        _ => Ok(()),
    }
}

fn check_correction(
    state: &StreamState,
    correction: &crate::vocabulary::Corrected,
    today: Date,
) -> Result<(), Violation> {
    if state.pathway.kind != StreamKind::Beneficiary {
        return Err(match state.pathway.kind {
            StreamKind::Structure => Violation::NotAStructureStep(StepKind::Corrected),
            StreamKind::Reports => Violation::NotAReportStep(StepKind::Corrected),
            _ => Violation::FirstEventMustBeRegistration(StepKind::Corrected),
        });
    }
    let Some(target) = state.find(correction.corrects) else {
        return Err(Violation::UnknownCorrectedEvent(correction.corrects));
    };
    if target.retracted {
        return Err(Violation::CorrectedEventRetracted(target.id));
    }
    let kind = target.step.kind();
    // A merge is undone by `unmerged`; an answer to a referral stands, like the referral it answers.
    if matches!(
        kind,
        StepKind::PersonalDataErased
            | StepKind::StructureUpdated
            | StepKind::ReferralAccepted
            | StepKind::ReferralDeclined
            | StepKind::MergedInto
            | StepKind::Absorbed
            | StepKind::Unmerged
    ) {
        return Err(Violation::CannotBeCorrected(kind));
    }
    let mut corrected = state.history.clone();
    let index = corrected.iter().position(|event| event.id == target.id).unwrap_or_default();
    match &correction.replacement {
        Some(replacement) => {
            if replacement.step.kind() != kind {
                return Err(Violation::ReplacementTypeMismatch { expected: kind, proposed: replacement.step.kind() });
            }
            if replacement.occurred_on > today {
                return Err(Violation::DateInFuture { occurred_on: replacement.occurred_on, today });
            }
            if let Step::Corrected(_) = *replacement.step {
                return Err(Violation::CannotBeCorrected(StepKind::Corrected));
            }
            corrected[index].occurred_on = replacement.occurred_on;
            corrected[index].step = (*replacement.step).clone();
        }
        None => {
            if kind == StepKind::Registered {
                // Without its registration a stream would be no one's: correct it, never retract it.
                return Err(Violation::CannotBeCorrected(kind));
            }
            corrected[index].retracted = true;
        }
    }
    // Replay the corrected history; dates were checked against "today" when each was recorded.
    let mut pathway = Pathway::default();
    for event in corrected.iter().filter(|event| !event.retracted) {
        check_step(&pathway, event.occurred_on, &event.step, None)
            .map_err(|violation| Violation::CorrectionBreaksPathway(Box::new(violation)))?;
        pathway.apply(event.id, event.occurred_on, &event.step);
    }
    Ok(())
}

/// The rules for every step but corrections. `today` is `None` when replaying a history whose
/// dates were already checked when recorded.
fn check_step(pathway: &Pathway, occurred_on: Date, step: &Step, today: Option<Date>) -> Result<(), Violation> {
    let kind = step.kind();
    match (pathway.kind, step) {
        (StreamKind::Empty, Step::Registered(_) | Step::StructureUpdated(_) | Step::ReportPublished(_)) => {
            return Ok(())
        }
        (StreamKind::Empty, _) => return Err(Violation::FirstEventMustBeRegistration(kind)),
        (StreamKind::Structure, Step::StructureUpdated(update)) => {
            return match &pathway.structure_slug {
                Some(existing) if *existing != update.slug => Err(Violation::StructureSlugMismatch {
                    existing: existing.to_string(),
                    proposed: update.slug.to_string(),
                }),
                _ => Ok(()),
            };
        }
        (StreamKind::Structure, _) => return Err(Violation::NotAStructureStep(kind)),
        (StreamKind::Reports, Step::ReportPublished(_)) => return Ok(()),
        (StreamKind::Reports, _) => return Err(Violation::NotAReportStep(kind)),
        (StreamKind::Beneficiary, Step::StructureUpdated(_)) => return Err(Violation::StructureStepInPathway),
        (StreamKind::Beneficiary, Step::ReportPublished(_)) => return Err(Violation::ReportStepInPathway),
        (StreamKind::Beneficiary, _) => {}
    }

    match step {
        Step::Registered(_) => Err(Violation::AlreadyRegistered),
        Step::PersonalDataErased(_) if pathway.erased => Err(Violation::AlreadyErased),
        Step::PersonalDataErased(_) => Ok(()),
        Step::FollowedUpAfterExit(_) => match pathway.last_exit_on {
            None => Err(Violation::NoEarlierExit),
            Some(exited_on) if occurred_on < exited_on => Err(Violation::DateBeforeExit { occurred_on, exited_on }),
            Some(_) => Ok(()),
        },
        Step::ReferralAccepted(accepted) => pending(pending_referral(pathway, accepted.referral)?, occurred_on),
        Step::ReferralDeclined(declined) => pending(pending_referral(pathway, declined.referral)?, occurred_on),
        Step::MergedInto(_) if pathway.merged_into.is_some() => Err(Violation::AlreadyMerged),
        // One level only: a record others were merged into is a survivor, and reads follow one hop.
        Step::MergedInto(_) if !pathway.absorbed.is_empty() => Err(Violation::HoldsMergedRecords),
        Step::MergedInto(_) => Ok(()),
        Step::Absorbed(absorbed) if pathway.absorbed.contains(&absorbed.from) => Err(Violation::AlreadyMerged),
        Step::Absorbed(_) => Ok(()),
        Step::Unmerged(unmerged) => {
            if pathway.merged_into == Some(unmerged.other) || pathway.absorbed.contains(&unmerged.other) {
                Ok(())
            } else {
                Err(Violation::NotMerged)
            }
        }
        Step::Referred(_) => {
            if let Some(pending) = &pathway.pending_referral {
                return Err(Violation::ReferralPending { structure: pending.structure.to_string() });
            }
            if let Some(episode) = &pathway.open_episode {
                return Err(Violation::EpisodeAlreadyOpen { referred_on: episode.referred_on });
            }
            if let Some(registered_on) = pathway.registered_on.filter(|registered_on| occurred_on < *registered_on) {
                return Err(Violation::DateBeforeRegistration { occurred_on, registered_on });
            }
            if let Some(exited_on) = pathway.last_exit_on.filter(|exited_on| occurred_on < *exited_on) {
                return Err(Violation::DateBeforeExit { occurred_on, exited_on });
            }
            Ok(())
        }
        _ => {
            let Some(episode) = &pathway.open_episode else {
                return Err(Violation::NoOpenEpisode(kind));
            };
            if occurred_on < episode.referred_on {
                return Err(Violation::DateBeforeReferral { occurred_on, referred_on: episode.referred_on });
            }
            check_in_episode(pathway, occurred_on, step, today)
        }
    }
}

/// The pending referral an answer names.
fn pending_referral(pathway: &Pathway, referral: EventId) -> Result<&PendingReferral, Violation> {
    pathway
        .pending_referral
        .as_ref()
        .filter(|pending| pending.referral == referral)
        .ok_or(Violation::NoPendingReferral(referral))
}

/// An answer comes on or after the day of the referral it answers.
fn pending(pending: &PendingReferral, occurred_on: Date) -> Result<(), Violation> {
    if occurred_on < pending.referred_on {
        return Err(Violation::DateBeforeReferral { occurred_on, referred_on: pending.referred_on });
    }
    Ok(())
}

fn check_in_episode(pathway: &Pathway, occurred_on: Date, step: &Step, today: Option<Date>) -> Result<(), Violation> {
    match step {
        Step::ContractStarted(started) if pathway.contracts.contains_key(&started.contract_id) => {
            Err(Violation::ContractAlreadyStarted(started.contract_id.clone()))
        }
        Step::ContractEnded(ended) => {
            let contract = started_contract(pathway, &ended.contract_id)?;
            if contract.closed {
                return Err(Violation::ContractAlreadyEnded(ended.contract_id.clone()));
            }
            if occurred_on < contract.started_on {
                return Err(Violation::DateBeforeContractStart {
                    contract_id: ended.contract_id.clone(),
                    occurred_on,
                    started_on: contract.started_on,
                });
            }
            Ok(())
        }
        Step::HoursWorked(worked) => {
            let contract = started_contract(pathway, &worked.contract_id)?;
            if worked.hours.is_zero() {
                return Err(Violation::ZeroHours);
            }
            if worked.month < Month::from_date(contract.started_on) {
                return Err(Violation::HoursBeforeContract {
                    contract_id: worked.contract_id.clone(),
                    month: worked.month,
                    started_on: contract.started_on,
                });
            }
            if today.is_some_and(|today| worked.month > today.month()) {
                return Err(Violation::MonthInFuture { month: worked.month });
            }
            Ok(())
        }
        Step::TrainingStarted(started) if pathway.trainings.contains_key(&started.training_id) => {
            Err(Violation::TrainingAlreadyStarted(started.training_id.clone()))
        }
        Step::TrainingCompleted(completed) => match pathway.trainings.get(&completed.training_id) {
            None => Err(Violation::UnknownTraining(completed.training_id.clone())),
            Some(true) => Err(Violation::TrainingAlreadyCompleted(completed.training_id.clone())),
            Some(false) => Ok(()),
        },
        _ => Ok(()),
    }
}

fn started_contract<'a>(pathway: &'a Pathway, contract_id: &str) -> Result<&'a ContractFacts, Violation> {
    pathway.contracts.get(contract_id).ok_or_else(|| Violation::UnknownContract(contract_id.to_owned()))
}

#[cfg(test)]
mod tests;
