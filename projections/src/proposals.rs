//! Referrals proposed to a structure by someone without rights on it (CONTRACT §7), waiting for
//! that structure's answer: what its coordinators are asked to accept or decline.
//!
//! A proposal is a `Fact::Proposed` in its person's history, which counts nowhere; its acceptance
//! turns it into the referral (`Beneficiary::accept`), its refusal takes it out of the history
//! (`Beneficiary::decline`). So what stays `Proposed` in a history is the pending proposal, and
//! the one place that says whether a person is proposed to a structure is the history itself.
//! The index below only says whom to look at: everyone ever proposed to each structure, never
//! taken out (as `Indexes::referred`); readers check the history.

use std::collections::BTreeMap;

use parcours_core::vocabulary::{Date, EventId, PrescriberKind, Situation, Slug, Step, StreamId};
use serde::Serialize;

use crate::beneficiary::{Beneficiary, BeneficiaryIx};
use crate::fact::{Fact, Recorded};
use crate::history::Histories;
use crate::projections::Projections;
use crate::structures::{Interner, StructureIx};

/// Everyone ever proposed to each structure, by structure index, in no order and possibly
/// repeated.
#[derive(Clone, Debug, Default)]
pub(crate) struct Proposals(BTreeMap<StructureIx, Vec<BeneficiaryIx>>);

impl Proposals {
    /// Notes the person of `step` as a candidate of the structure a proposal names, whether the
    /// step proposes (a `referred` marked `proposed`) or corrects a proposal into another one.
    pub(crate) fn note(&mut self, beneficiary: BeneficiaryIx, step: &Step, structures: &mut Interner) {
        let referred = match step {
            Step::Referred(referred) => referred,
            Step::Corrected(correction) => {
                match correction.replacement.as_ref().map(|replacement| &*replacement.step) {
                    Some(Step::Referred(referred)) => referred,
                    _ => return,
                }
            }
            _ => return,
        };
        if referred.proposed {
            let candidates = self.0.entry(structures.intern(&referred.structure)).or_default();
            if candidates.last() != Some(&beneficiary) {
                candidates.push(beneficiary);
            }
        }
    }
}

/// A proposal waiting for the answer of the structure it names.
#[derive(Clone, PartialEq, Eq, Debug, Serialize)]
pub struct PendingReferral {
    pub beneficiary: StreamId,
    /// The id of the proposed `referred` event, which `referral_accepted` and `referral_declined`
    /// name.
    pub referral: EventId,
    pub referred_on: Date,
    /// The structure asked.
    pub structure: Slug,
    /// The structure that holds the person while the proposal waits (the one that proposed).
    pub from_structure: Slug,
    pub prescriber: PrescriberKind,
    pub situation: Situation,
}

/// The proposal of a pathway waiting for an answer, as the pathway's state shows it.
#[derive(Clone, PartialEq, Eq, Debug, Serialize)]
pub struct PendingReferralState {
    pub referral: EventId,
    pub referred_on: Date,
    pub structure: Slug,
}

/// The proposal pending in a history, among the facts that had occurred by `until` when given.
/// Answers are no facts of the history: on an earlier day, a proposal answered since is not shown
/// as waiting (the audit trail lists the answer with its dates).
pub(crate) fn pending_in<'h>(
    beneficiary: &Beneficiary,
    histories: &'h Histories,
    until: Option<Date>,
) -> Option<&'h Recorded> {
    histories
        .facts(beneficiary.history)
        .filter(|recorded| until.is_none_or(|day| recorded.occurred_on <= day))
        .filter(|recorded| matches!(recorded.fact, Fact::Proposed(_)))
        .last()
}

/// [`pending_in`] in the form of the pathway's state.
pub(crate) fn pending_state(
    beneficiary: &Beneficiary,
    histories: &Histories,
    structures: &Interner,
    until: Option<Date>,
) -> Option<PendingReferralState> {
    let recorded = pending_in(beneficiary, histories, until)?;
    let Fact::Proposed(referral) = &recorded.fact else { return None };
    Some(PendingReferralState {
        referral: recorded.id,
        referred_on: recorded.occurred_on,
        structure: structures.slug(referral.structure).clone(),
    })
}

impl Projections {
    /// The proposals waiting for the answer of these structures (every structure when `None`),
    /// sorted by date of referral, then person.
    pub fn pending_referrals(&self, structures: Option<&[Slug]>) -> Vec<PendingReferral> {
        let asked: Vec<StructureIx> = match structures {
            Some(slugs) => slugs.iter().filter_map(|slug| self.structures.find(slug)).collect(),
            None => self.indexes.proposals.0.keys().copied().collect(),
        };
        let mut pending = Vec::new();
        for structure in asked {
            let mut candidates = self.indexes.proposals.0.get(&structure).cloned().unwrap_or_default();
            candidates.sort_unstable();
            candidates.dedup();
            for ix in candidates {
                let beneficiary = self.beneficiary(ix);
                let Some(recorded) = pending_in(beneficiary, &self.histories, None) else { continue };
                let Fact::Proposed(referral) = &recorded.fact else { continue };
                let Some(registration) = beneficiary.summary.registration else { continue };
                if referral.structure != structure {
                    continue;
                }
                let holder = beneficiary.summary.current_structure().unwrap_or(registration.structure);
                pending.push(PendingReferral {
                    beneficiary: self.stream_of(ix),
                    referral: recorded.id,
                    referred_on: recorded.occurred_on,
                    structure: self.structures.slug(structure).clone(),
                    from_structure: self.structures.slug(holder).clone(),
                    prescriber: referral.prescriber,
                    situation: referral.situation,
                });
            }
        }
        pending.sort_by_key(|proposal| (proposal.referred_on, proposal.beneficiary));
        pending
    }

    /// The proposal of one person waiting for an answer, as the pathway's state shows it.
    pub(crate) fn pending_referral_of(&self, ix: BeneficiaryIx) -> Option<PendingReferralState> {
        pending_state(self.beneficiary(ix), &self.histories, &self.structures, None)
    }
}
