//! The audit trail of one beneficiary, and the two time-travel questions auditors ask.
//!
//! These are pure functions over one stream's envelopes in version order: the server reads the
//! stream from the store (`Store::read_stream`) and calls them, so the log-wide projections need
//! not keep what only an audit reads (who recorded what, when). The pathway states reuse the very
//! fold of the projections (`Beneficiary`, `Summary`).
//!
//! - [`audit_trail`]: every event as recorded, each correction linked to the event it corrects and
//!   each corrected event listing its corrections, with its status now.
//! - [`state_on`]: the pathway *as it stood on date D*: the facts whose effective date is on or
//!   before D, with every correction recorded so far applied (a correction recorded later about an
//!   earlier date changes what "stood on D" means, which is the point of correcting).
//! - [`state_known_at`]: the pathway *as it was known at time T*: only the events recorded at or
//!   before T, corrections included, exactly what a reader saw then.
//!
//! Facts are folded in version order in both, as the rules validated them.

use parcours_core::vocabulary::{Actor, Date, Envelope, EventId, Step, StepKind, StreamId, Timestamp};
use serde::Serialize;

use crate::beneficiary::Beneficiary;
use crate::history::Histories;
use crate::pathway::PathwayState;
use crate::proposals::pending_state;
use crate::structures::Interner;

#[derive(Clone, PartialEq, Eq, Debug, Serialize)]
pub struct AuditTrail {
    pub beneficiary: StreamId,
    pub version: u32,
    pub events: Vec<AuditEntry>,
}

#[derive(Clone, PartialEq, Eq, Debug, Serialize)]
pub struct AuditEntry {
    pub id: EventId,
    pub version: u32,
    pub position: u64,
    #[serde(rename = "type")]
    pub kind: StepKind,
    pub occurred_on: Date,
    pub recorded_at: Timestamp,
    pub recorded_by: Actor,
    /// The step's data as recorded, without personal data (the server adds `identity` for readers
    /// allowed to see it).
    pub data: Step,
    /// Whether the event counts now; `None` for corrections, which are not facts themselves.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<EventStatus>,
    /// For a correction: the event it corrects and how.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub corrects: Option<CorrectionTarget>,
    /// For a corrected event: its corrections, in the order they were recorded.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub corrected_by: Vec<CorrectionLink>,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EventStatus {
    /// Counts as recorded.
    Effective,
    /// Counts with the replacement of its last correction.
    Replaced,
    /// Does not count any more.
    Retracted,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CorrectionEffect {
    Replaced,
    Retracted,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize)]
pub struct CorrectionTarget {
    pub event: EventId,
    pub effect: CorrectionEffect,
}

#[derive(Clone, PartialEq, Eq, Debug, Serialize)]
pub struct CorrectionLink {
    pub correction: EventId,
    pub effect: CorrectionEffect,
    pub recorded_at: Timestamp,
    pub recorded_by: Actor,
}

/// The step without personal data: `identity` is dropped from a registration and from a
/// registration's replacement.
fn without_identity(step: &Step) -> Step {
    let mut step = step.clone();
    if let Some(registered) = step.registration_mut() {
        registered.identity = None;
    }
    step
}

/// The events of the stream of the first event (the caller passes one stream; anything else is
/// left out rather than mixed in).
fn one_stream(events: &[Envelope]) -> Option<(StreamId, impl Iterator<Item = &Envelope>)> {
    let stream = events.first()?.stream;
    Some((stream, events.iter().filter(move |envelope| envelope.stream == stream)))
}

/// Every event of one stream with its corrections; `None` for no events.
pub fn audit_trail(events: &[Envelope]) -> Option<AuditTrail> {
    let (stream, events) = one_stream(events)?;
    let mut entries: Vec<AuditEntry> = events
        .map(|envelope| {
            let corrects = match &envelope.step {
                Step::Corrected(correction) => Some(CorrectionTarget {
                    event: correction.corrects,
                    effect: match correction.replacement {
                        Some(_) => CorrectionEffect::Replaced,
                        None => CorrectionEffect::Retracted,
                    },
                }),
                _ => None,
            };
            AuditEntry {
                id: envelope.id,
                version: envelope.version,
                position: envelope.position,
                kind: envelope.step.kind(),
                occurred_on: envelope.occurred_on,
                recorded_at: envelope.recorded_at,
                recorded_by: envelope.recorded_by.clone(),
                data: without_identity(&envelope.step),
                status: corrects.is_none().then_some(EventStatus::Effective),
                corrects,
                corrected_by: Vec::new(),
            }
        })
        .collect();
    let links: Vec<(EventId, CorrectionLink)> = entries
        .iter()
        .filter_map(|entry| {
            let target = entry.corrects?;
            Some((
                target.event,
                CorrectionLink {
                    correction: entry.id,
                    effect: target.effect,
                    recorded_at: entry.recorded_at,
                    recorded_by: entry.recorded_by.clone(),
                },
            ))
        })
        .collect();
    for (target, link) in links {
        // Corrections name events of their own stream, never other corrections (CONTRACT §4).
        if let Some(entry) = entries.iter_mut().find(|entry| entry.id == target && entry.corrects.is_none()) {
            entry.status = Some(match link.effect {
                CorrectionEffect::Replaced => EventStatus::Replaced,
                CorrectionEffect::Retracted => EventStatus::Retracted,
            });
            entry.corrected_by.push(link);
        }
    }
    let version = entries.last().map_or(0, |entry| entry.version);
    Some(AuditTrail { beneficiary: stream, version, events: entries })
}

/// The pathway as it stood on `day` (effective dates), with every correction recorded so far.
pub fn state_on(events: &[Envelope], day: Date) -> Option<PathwayState> {
    let (stream, events) = one_stream(events)?;
    let (mut structures, mut histories) = (Interner::default(), Histories::default());
    let beneficiary = Beneficiary::from_events(events, &mut structures, &mut histories);
    let mut state = PathwayState::of(stream, &beneficiary, &beneficiary.summary_on(&histories, day), &structures)?;
    state.pending_referral = pending_state(&beneficiary, &histories, &structures, Some(day));
    Some(state)
}

/// The pathway as it was known at `at`: only the events recorded at or before it.
pub fn state_known_at(events: &[Envelope], at: Timestamp) -> Option<PathwayState> {
    let (stream, events) = one_stream(events)?;
    let (mut structures, mut histories) = (Interner::default(), Histories::default());
    let known = events.filter(|envelope| envelope.recorded_at <= at);
    let beneficiary = Beneficiary::from_events(known, &mut structures, &mut histories);
    let mut state = PathwayState::of(stream, &beneficiary, &beneficiary.summary, &structures)?;
    state.pending_referral = pending_state(&beneficiary, &histories, &structures, None);
    Some(state)
}

/// The pathway now, from the stream alone (what `Projections::pathway` gives, without them).
pub fn state_now(events: &[Envelope]) -> Option<PathwayState> {
    let (stream, events) = one_stream(events)?;
    let (mut structures, mut histories) = (Interner::default(), Histories::default());
    let beneficiary = Beneficiary::from_events(events, &mut structures, &mut histories);
    let mut state = PathwayState::of(stream, &beneficiary, &beneficiary.summary, &structures)?;
    state.pending_referral = pending_state(&beneficiary, &histories, &structures, None);
    Some(state)
}
