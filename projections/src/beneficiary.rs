//! One beneficiary as the projections keep it: where its effective history is, the names it
//! refers to, and its [`Summary`].
//!
//! Ordinary steps extend the history and the summary in O(1). A correction edits the history in
//! place (a retracted fact is removed, a replaced one takes its replacement's date and data, at its
//! original place in version order, as the rules do) and the summary is folded again: corrections
//! are rare, so their O(history) cost buys an O(1) path for everything else.

use parcours_core::vocabulary::{Corrected, Date, Envelope, ReferralAccepted, Step};

use crate::fact::{Fact, Names, Recorded};
use crate::history::{Histories, History};
use crate::prefetch::{prefetch, prefetch_whole};
use crate::structures::Interner;
use crate::summary::{Effect, Summary};
use crate::track::Track;

/// A beneficiary's number in [`Projections::beneficiaries`](crate::Projections::beneficiaries).
pub(crate) type BeneficiaryIx = u32;

/// Aligned to a cache line and kept to three (`tests::records_take_three_cache_lines`): the fold
/// reads most of a record for every event of its person, and asks for all of its lines ahead
/// (`Projections::apply_all`); unaligned, the same bytes would straddle four or five lines. Its
/// stream id, read only by the questions, is kept apart for that reason
/// (`Projections::stream_of`).
#[derive(Clone, Debug)]
#[repr(align(64))]
pub(crate) struct Beneficiary {
    /// Events of the stream applied so far, corrections included: its version.
    pub version: u32,
    /// Its facts, kept in the [`Histories`] of the projections that hold it.
    pub history: History,
    pub names: Names,
    pub summary: Summary,
    /// What the activity report reads beyond the summary, folded with it.
    pub track: Track,
}

impl Beneficiary {
    pub(crate) fn new() -> Beneficiary {
        Beneficiary {
            version: 0,
            history: History::default(),
            names: Names::default(),
            summary: Summary::default(),
            track: Track::default(),
        }
    }

    /// Folds a stream's events (in version order) on their own, for questions about one history;
    /// its facts go to `histories`.
    pub(crate) fn from_events<'a>(
        events: impl IntoIterator<Item = &'a Envelope>,
        structures: &mut Interner,
        histories: &mut Histories,
    ) -> Beneficiary {
        let mut beneficiary = Beneficiary::new();
        for envelope in events {
            beneficiary.version = envelope.version;
            match &envelope.step {
                Step::Corrected(_) | Step::ReferralAccepted(_) => {
                    if beneficiary.edit(&envelope.step, structures, histories) {
                        beneficiary.refold(histories, |_| {});
                    }
                }
                step => {
                    beneficiary.push(envelope, step, structures, histories);
                }
            }
        }
        beneficiary
    }

    /// Asks for the memory that folding this beneficiary's next step touches beyond its record
    /// (its last episode, its names, the end of its track), without waiting for it. Reads the
    /// record itself: ask for that first ([`prefetch_whole`]), a while before.
    pub(crate) fn fetch(&self) {
        if let Some(episode) = self.summary.episodes.last() {
            prefetch_whole(episode);
        }
        prefetch(self.names.as_ptr());
        prefetch(self.track.steps.as_ptr_range().end);
    }

    /// Adds an ordinary step (not a correction) and returns its effect on the shared indexes.
    pub(crate) fn push(
        &mut self,
        envelope: &Envelope,
        step: &Step,
        structures: &mut Interner,
        histories: &mut Histories,
    ) -> Effect {
        let Some(fact) = Fact::of(step, structures, &mut self.names) else {
            return Effect::None;
        };
        let recorded = Recorded { id: envelope.id, occurred_on: envelope.occurred_on, fact };
        histories.push(&mut self.history, recorded);
        let open = self.summary.open_episode_index();
        let effect = self.summary.apply(&recorded);
        self.track.apply(open, &recorded);
        effect
    }

    /// Applies a step that changes facts already in the history (a correction, the acceptance of a
    /// proposal); returns whether anything changed. The caller folds the summary again.
    pub(crate) fn edit(&mut self, step: &Step, structures: &mut Interner, histories: &mut Histories) -> bool {
        match step {
            Step::Corrected(correction) => self.correct(correction, structures, histories),
            Step::ReferralAccepted(accepted) => Beneficiary::accept(self.history, accepted, histories),
            _ => false,
        }
    }

    /// An accepted proposal becomes the referral it proposed, at its place and date, as if it had
    /// been recorded so: the structure's figures count it from the day of the referral.
    fn accept(history: History, accepted: &ReferralAccepted, histories: &mut Histories) -> bool {
        let Some(slot) = histories.find(history, accepted.referral) else { return false };
        let Some(&Recorded { id, occurred_on, fact: Fact::Proposed(referral) }) = histories.get(slot) else {
            return false;
        };
        histories.replace(slot, Recorded { id, occurred_on, fact: Fact::Referred(referral) });
        true
    }

    /// Applies a correction to the history; returns whether anything changed. The caller folds the
    /// summary again ([`Beneficiary::refold`]) after withdrawing the old effects.
    ///
    /// A correction naming an unknown or already retracted event, or whose replacement is not a
    /// fact, changes nothing: the rules refuse those before they are stored.
    pub(crate) fn correct(
        &mut self,
        correction: &Corrected,
        structures: &mut Interner,
        histories: &mut Histories,
    ) -> bool {
        match &correction.replacement {
            None => histories.retract(&mut self.history, correction.corrects),
            Some(replacement) => {
                let Some(slot) = histories.find(self.history, correction.corrects) else {
                    return false;
                };
                let Some(fact) = Fact::of(&replacement.step, structures, &mut self.names) else {
                    return false;
                };
                histories
                    .replace(slot, Recorded { id: correction.corrects, occurred_on: replacement.occurred_on, fact });
                true
            }
        }
    }

    /// Folds the summary and the track again from the history, handing each effect to `visit`.
    pub(crate) fn refold(&mut self, histories: &Histories, mut visit: impl FnMut(Effect)) {
        let (mut summary, mut track) = (Summary::default(), Track::default());
        for recorded in histories.facts(self.history) {
            let open = summary.open_episode_index();
            visit(summary.apply(recorded));
            track.apply(open, recorded);
        }
        (self.summary, self.track) = (summary, track);
    }

    /// Hands every effect of the current history to `visit`, leaving the summary as it is.
    pub(crate) fn replay(&self, histories: &Histories, visit: impl FnMut(Effect)) {
        Summary::fold(histories.facts(self.history), visit);
    }

    /// The summary of the facts that had occurred by `day` (effective dates, corrections applied).
    pub(crate) fn summary_on(&self, histories: &Histories, day: Date) -> Summary {
        Summary::fold(histories.facts(self.history).filter(|recorded| recorded.occurred_on <= day), |_| {})
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_take_three_cache_lines() {
        assert_eq!(std::mem::align_of::<Beneficiary>(), 64);
        assert!(std::mem::size_of::<Beneficiary>() <= 3 * 64, "{}", std::mem::size_of::<Beneficiary>());
    }
}
