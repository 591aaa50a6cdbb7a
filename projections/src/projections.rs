//! [`Projections`]: every projection in one pass over the log.
//!
//! Per beneficiary, a [`Beneficiary`] (summary, and where its compact effective history is in the
//! [`Histories`] shared by all). Across beneficiaries,
//! a few indexes that the queries read without scanning everyone:
//! - everyone ever referred to a structure (its dashboard's and reports' candidates);
//! - hours worked by structure and month (dashboards);
//! - referrals and exits by date (entries and outcome statistics over a period).
//!
//! Every index is a sum of per-beneficiary effects ([`Effect`]): an ordinary step adds its effect;
//! a correction withdraws all of its beneficiary's effects, edits the history, folds it again and
//! adds the new effects. Hence a projection followed live equals one rebuilt from scratch, which the
//! property test in `tests::live_and_rebuilt` checks.
//!
//! Deterministic by construction: beneficiaries are numbered in order of first appearance in the
//! log; indexes are ordered maps; every list in an output is sorted before it is returned.

use std::collections::{BTreeMap, BTreeSet};

use parcours_core::vocabulary::{Envelope, Slug, Step, StreamId};
use thiserror::Error;

use crate::beneficiary::{Beneficiary, BeneficiaryIx};
use crate::history::Histories;
use crate::hours::MonthlyHours;
use crate::merges::Merges;
use crate::pathway::PathwayState;
use crate::prefetch::prefetch_whole;
use crate::proposals::Proposals;
use crate::stream_table::{Hashed, StreamTable};
use crate::structures::{Interner, StructureIx, StructureRecord};
use crate::summary::Effect;

/// Events whose beneficiaries [`Projections::apply_all`] looks up together: a page of the log.
const LOOKAHEAD_EVENTS: usize = parcours_core::limits::PAGE_EVENTS_MAX;

/// Fewer events a person than the generated logs have (about 32), so that a rebuild's reservation
/// for the people seldom falls short ([`Projections::reserve`]).
const EVENTS_PER_PERSON_GUESS: usize = 24;

/// An episode in the date indexes: (date, beneficiary, episode index in its summary).
pub(crate) type EpisodeKey = (parcours_core::vocabulary::Date, BeneficiaryIx, u32);

#[derive(Debug, Error, PartialEq, Eq)]
pub enum ApplyError {
    /// Envelopes must come in log order, each exactly once: a gap or a repeat would make every
    /// figure wrong, so it stops the fold instead.
    #[error("projections expected the event at position {expected} of the log, got position {found}")]
    OutOfOrder { expected: u64, found: u64 },
}

#[derive(Clone, Debug, Default)]
pub struct Projections {
    applied: u64,
    pub(crate) structures: Interner,
    pub(crate) records: BTreeMap<Slug, StructureRecord>,
    pub(crate) streams: StreamTable,
    pub(crate) beneficiaries: Vec<Beneficiary>,
    /// By beneficiary number: its stream. Apart from the records, which the fold reads for every
    /// event and which are kept to three cache lines ([`Beneficiary`]).
    pub(crate) stream_ids: Vec<StreamId>,
    pub(crate) histories: Histories,
    pub(crate) indexes: Indexes,
    /// Records merged into others (CONTRACT §10): which person each record is, for counts of people.
    pub(crate) merges: Merges,
}

/// The cross-beneficiary indexes; see the module comment.
#[derive(Clone, Debug, Default)]
pub(crate) struct Indexes {
    /// By structure index: hours worked by month.
    pub hours: Vec<MonthlyHours>,
    /// By structure index: everyone ever referred there, in no order and possibly repeated, by any
    /// version of their history (a retracted referral is not taken out): the candidates that a
    /// structure's dashboard, or a report on a few structures, walks instead of every beneficiary.
    /// Readers check the summary.
    ///
    /// Why no set of the people in an open episode, by structure: keeping it cost the fold two
    /// B-tree updates per episode (a tenth of its time on the 10M log, BENCHMARKS.md), while a
    /// dashboard walks a few hundred candidates in microseconds.
    pub referred: Vec<Vec<BeneficiaryIx>>,
    pub referrals: BTreeSet<EpisodeKey>,
    pub exits: BTreeSet<EpisodeKey>,
    /// Everyone ever proposed to each structure (`crate::proposals`).
    pub proposals: Proposals,
}

/// Whether an effect is added or withdrawn.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Sign {
    Add,
    Withdraw,
}

impl Indexes {
    fn structure_slot(&mut self, structure: StructureIx) {
        let needed = structure.index() + 1;
        if self.hours.len() < needed {
            self.hours.resize_with(needed, MonthlyHours::default);
            self.referred.resize_with(needed, Vec::new);
        }
    }

    fn record(&mut self, beneficiary: BeneficiaryIx, effect: Effect, sign: Sign) {
        match effect {
            Effect::None => {}
            Effect::Referred { episode, referred_on, structure } => {
                self.structure_slot(structure);
                match sign {
                    Sign::Add => {
                        self.referrals.insert((referred_on, beneficiary, episode));
                        let referred = &mut self.referred[structure.index()];
                        if referred.last() != Some(&beneficiary) {
                            referred.push(beneficiary);
                        }
                    }
                    Sign::Withdraw => {
                        self.referrals.remove(&(referred_on, beneficiary, episode));
                    }
                }
            }
            Effect::Exited { episode, exited_on, structure } => {
                self.structure_slot(structure);
                match sign {
                    Sign::Add => {
                        self.exits.insert((exited_on, beneficiary, episode));
                    }
                    Sign::Withdraw => {
                        self.exits.remove(&(exited_on, beneficiary, episode));
                    }
                }
            }
            Effect::HoursWorked { structure, month, hours } => {
                self.structure_slot(structure);
                let monthly = &mut self.hours[structure.index()];
                match sign {
                    Sign::Add => monthly.add(month, hours),
                    Sign::Withdraw => monthly.withdraw(month, hours),
                }
            }
        }
    }
}

impl Projections {
    pub fn new() -> Projections {
        Projections::default()
    }

    /// Makes room for about `events` more events at once, when their number is known (a rebuild).
    ///
    /// Why the people too: grown by doubling, the beneficiaries and the stream map each write
    /// about twice their final size into fresh memory, and on this kind of machine the first touch
    /// of memory (a page fault, the page zeroed) is the fold's largest single cost. Logs hold
    /// about 32 events a person; a guess too low only leaves the rest to grow as before, and one
    /// too high costs address space, not memory, since untouched pages are never resident.
    pub fn reserve(&mut self, events: usize) {
        self.histories.reserve(events);
        let people = events / EVENTS_PER_PERSON_GUESS;
        self.beneficiaries.reserve(people.saturating_sub(self.beneficiaries.len()));
        self.stream_ids.reserve(people.saturating_sub(self.stream_ids.len()));
        self.streams.reserve(people.saturating_sub(self.streams.len()));
    }

    /// Empty projections standing at `position`: filled by `report::inputs` with what a report
    /// read of the fold there.
    pub(crate) fn at_position(position: u64) -> Projections {
        Projections { applied: position, ..Projections::default() }
    }

    /// The position of the last event applied (0 before any).
    pub fn applied_position(&self) -> u64 {
        self.applied
    }

    /// Applies the next event of the log. O(1) for every step but corrections, which fold their
    /// beneficiary's history again.
    pub fn apply(&mut self, envelope: &Envelope) -> Result<(), ApplyError> {
        self.apply_known(envelope, None)
    }

    /// Applies events in log order; stops at the first one out of order.
    ///
    /// Why in passes over each page before folding it: consecutive events concern people
    /// scattered in memory, and finding each one's number, then its record, then what the record
    /// points to, is a chain of cache misses. Asked for a page at a time, one link per pass, those
    /// loads do not wait for each other: the processor overlaps their misses.
    pub fn apply_all(&mut self, envelopes: &[Envelope]) -> Result<(), ApplyError> {
        let mut hashes = [Hashed::default(); LOOKAHEAD_EVENTS];
        let mut known = [None; LOOKAHEAD_EVENTS];
        for chunk in envelopes.chunks(LOOKAHEAD_EVENTS) {
            let (hashes, known) = (&mut hashes[..chunk.len()], &mut known[..chunk.len()]);
            // Each pass asks for what the next one reads, for the whole page at once, so that the
            // loads overlap instead of waiting for each other: first the streams' slots, ...
            for (hash, envelope) in hashes.iter_mut().zip(chunk) {
                *hash = self.streams.hash(&envelope.stream);
                self.streams.prefetch(*hash);
            }
            // ... then each person's record, ...
            for ((known, hash), envelope) in known.iter_mut().zip(hashes.iter()).zip(chunk) {
                *known = self.streams.get_hashed(*hash, &envelope.stream);
                if let Some(beneficiary) = known.and_then(|ix| self.beneficiaries.get(ix as usize)) {
                    prefetch_whole(beneficiary);
                }
            }
            // ... then what the records point to (reading a record to find it waits for it).
            for ix in known.iter().flatten() {
                if let Some(beneficiary) = self.beneficiaries.get(*ix as usize) {
                    beneficiary.fetch();
                }
            }
            for (known, envelope) in known.iter().zip(chunk) {
                self.apply_known(envelope, *known)?;
            }
        }
        Ok(())
    }

    /// [`Projections::apply`], given the beneficiary's number if it was already looked up.
    fn apply_known(&mut self, envelope: &Envelope, known: Option<BeneficiaryIx>) -> Result<(), ApplyError> {
        let expected = self.applied + 1;
        if envelope.position != expected {
            return Err(ApplyError::OutOfOrder { expected, found: envelope.position });
        }
        self.applied = envelope.position;
        match &envelope.step {
            Step::StructureUpdated(update) => {
                // Each update states the whole structure; the latest in the log counts.
                self.structures.intern(&update.slug);
                self.records.insert(update.slug.clone(), StructureRecord::from(update));
                return Ok(());
            }
            // A publication says what a report counted; it is no fact of anyone's pathway and
            // changes no figure (the published reports are read from their own stream).
            Step::ReportPublished(_) => return Ok(()),
            _ => {}
        }
        let ix = match known {
            Some(ix) => ix,
            None => self.beneficiary_ix(envelope.stream),
        };
        match &envelope.step {
            // The survivor was registered before (the rules refuse a merge into no one's record).
            Step::MergedInto(merged) => {
                if let Some(survivor) = self.streams.get(&merged.into) {
                    self.merges.merge(ix, survivor);
                }
            }
            Step::Unmerged(unmerged) => {
                if let Some(other) = self.streams.get(&unmerged.other) {
                    self.merges.unmerge(ix, other);
                }
            }
            _ => {}
        }
        let beneficiary = &mut self.beneficiaries[ix as usize];
        let histories = &mut self.histories;
        beneficiary.version = envelope.version;
        match &envelope.step {
            step @ (Step::Corrected(_) | Step::ReferralAccepted(_) | Step::ReferralDeclined(_)) => {
                let indexes = &mut self.indexes;
                beneficiary.replay(histories, |effect| indexes.record(ix, effect, Sign::Withdraw));
                beneficiary.edit(step, &mut self.structures, histories);
                beneficiary.refold(histories, |effect| indexes.record(ix, effect, Sign::Add));
            }
            step => {
                let effect = beneficiary.push(envelope, step, &mut self.structures, histories);
                self.indexes.record(ix, effect, Sign::Add);
            }
        }
        self.indexes.proposals.note(ix, &envelope.step, &mut self.structures);
        Ok(())
    }

    /// Applies an event of a partial log: the events of a few streams, in log order, with the
    /// positions of all other streams missing. Only for questions about those streams alone (what
    /// changed one person's rows in a report); the projections that answer everything see every
    /// position through [`Projections::apply`].
    pub(crate) fn apply_sparse(&mut self, envelope: &Envelope) -> Result<(), ApplyError> {
        if envelope.position <= self.applied {
            return Err(ApplyError::OutOfOrder { expected: self.applied + 1, found: envelope.position });
        }
        self.applied = envelope.position - 1;
        self.apply(envelope)
    }

    fn beneficiary_ix(&mut self, stream: StreamId) -> BeneficiaryIx {
        if let Some(ix) = self.streams.get(&stream) {
            return ix;
        }
        let ix = self.beneficiaries.len() as BeneficiaryIx;
        self.streams.insert(stream, ix);
        self.beneficiaries.push(Beneficiary::new());
        self.stream_ids.push(stream);
        ix
    }

    pub(crate) fn beneficiary(&self, ix: BeneficiaryIx) -> &Beneficiary {
        &self.beneficiaries[ix as usize]
    }

    pub(crate) fn stream_of(&self, ix: BeneficiaryIx) -> StreamId {
        self.stream_ids[ix as usize]
    }

    /// The record a record was merged into, if it was and is not unmerged since (CONTRACT §10).
    pub fn merged_into(&self, stream: StreamId) -> Option<StreamId> {
        let survivor = self.merges.survivor_of(self.streams.get(&stream)?)?;
        Some(self.stream_of(survivor))
    }

    /// The records merged into this one and not unmerged since, sorted by their number.
    pub fn absorbed_into(&self, stream: StreamId) -> Vec<StreamId> {
        let Some(ix) = self.streams.get(&stream) else { return Vec::new() };
        if self.merges.survivor_of(ix).is_some() {
            return Vec::new();
        }
        self.merges.records_of(ix).skip(1).map(|record| self.stream_of(record)).collect()
    }

    /// The current state of one pathway (`GET /api/beneficiaries/{id}`); `None` for a stream that
    /// holds no registration (unknown, or a structure's stream).
    pub fn pathway(&self, stream: StreamId) -> Option<PathwayState> {
        let ix = self.streams.get(&stream)?;
        let beneficiary = self.beneficiary(ix);
        let mut state = PathwayState::of(stream, beneficiary, &beneficiary.summary, &self.structures)?;
        state.pending_referral = self.pending_referral_of(ix);
        Some(state)
    }

    /// Every structure recorded with `structure_updated`, by slug.
    pub fn structures(&self) -> impl Iterator<Item = &StructureRecord> {
        self.records.values()
    }

    pub fn structure(&self, slug: &Slug) -> Option<&StructureRecord> {
        self.records.get(slug)
    }

    /// Number of beneficiaries (streams other than structures') seen so far.
    /// Every structure the log names (recorded or only referred to), in slug order.
    pub fn structure_slugs(&self) -> Vec<Slug> {
        let mut slugs = self.structures.slugs().to_vec();
        slugs.sort();
        slugs
    }

    pub fn beneficiary_count(&self) -> usize {
        self.beneficiaries.len()
    }

    /// Gives back spare capacity after a rebuild, when histories stop growing in bulk.
    pub fn shrink_to_fit(&mut self) {
        self.histories.shrink_to_fit();
        self.beneficiaries.shrink_to_fit();
        self.stream_ids.shrink_to_fit();
    }
}
