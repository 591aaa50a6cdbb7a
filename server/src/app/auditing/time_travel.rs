//! Time travel on one person's history: the pathway *as it stood on* a date (the facts effective
//! on or before it, with the corrections known), *as it was known at* a time (only what was
//! recorded by then), or both at once; and, for each event, why the view leaves it out.
//!
//! The states are the projections' own folds (`audit::state_on`, `audit::state_now`) over the
//! events known at the time, so a page shows what the API's `/audit?on=&as_of=` answers.

use std::collections::BTreeMap;

use chrono::{Duration, NaiveDate, NaiveDateTime, TimeZone};
use chrono_tz::Tz;
use parcours_core::vocabulary::{Date, Envelope, EventId, Step, Timestamp};
use parcours_projections::audit::{state_now, state_on};
use parcours_projections::PathwayState;

/// The two questions, either or both.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TimeTravel {
    /// As it stood on this date (effective dates).
    pub on: Option<Date>,
    /// As it was known at this time (recording times).
    pub known_at: Option<Timestamp>,
}

impl TimeTravel {
    pub fn is_asked(&self) -> bool {
        self.on.is_some() || self.known_at.is_some()
    }
}

/// Why a view leaves an event out, or shows it as it was.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum LeftOut {
    /// Recorded after the time asked: nobody knew it then.
    RecordedLater,
    /// Effective after the date asked (its own date, or that of its known replacement).
    EffectiveLater,
    /// Known then, and corrected (replaced or retracted) after the time asked: the view counts it
    /// as it was recorded then.
    CorrectedSince,
}

/// A person's pathway in one view, and what the view leaves out, by event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TravelView {
    /// `None`: nothing of the person was known or effective then (not yet registered).
    pub state: Option<PathwayState>,
    pub left_out: BTreeMap<EventId, Vec<LeftOut>>,
}

/// The view of one stream's events (in version order) for `travel`.
pub fn view(events: &[Envelope], travel: TimeTravel) -> TravelView {
    let known_at = |envelope: &Envelope| travel.known_at.is_none_or(|at| envelope.recorded_at <= at);
    let known: Vec<Envelope> = events.iter().filter(|envelope| known_at(envelope)).cloned().collect();
    let state = match travel.on {
        Some(day) => state_on(&known, day),
        None => state_now(&known),
    };
    // The effective date of each fact, as the known corrections leave it.
    let mut effective: BTreeMap<EventId, Date> = BTreeMap::new();
    let mut corrected_since: Vec<EventId> = Vec::new();
    for envelope in events {
        match &envelope.step {
            Step::Corrected(correction) if known_at(envelope) => {
                if let Some(replacement) = &correction.replacement {
                    effective.insert(correction.corrects, replacement.occurred_on);
                }
            }
            Step::Corrected(correction) => corrected_since.push(correction.corrects),
            _ => {
                effective.entry(envelope.id).or_insert(envelope.occurred_on);
            }
        }
    }
    let mut left_out: BTreeMap<EventId, Vec<LeftOut>> = BTreeMap::new();
    for envelope in events {
        let mut reasons = Vec::new();
        if !known_at(envelope) {
            reasons.push(LeftOut::RecordedLater);
        } else if !matches!(envelope.step, Step::Corrected(_)) {
            if corrected_since.contains(&envelope.id) {
                reasons.push(LeftOut::CorrectedSince);
            }
            let date = effective.get(&envelope.id).copied().unwrap_or(envelope.occurred_on);
            if travel.on.is_some_and(|day| date > day) {
                reasons.push(LeftOut::EffectiveLater);
            }
        }
        if !reasons.is_empty() {
            left_out.insert(envelope.id, reasons);
        }
    }
    TravelView { state, left_out }
}

/// A bad time in a time-travel question.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a time (RFC 3339, YYYY-MM-DDTHH:MM[:SS] or YYYY-MM-DD)")]
pub struct BadTime(pub String);

/// « Tel qu'on le savait le »: an RFC 3339 time, a local time (`YYYY-MM-DDTHH:MM[:SS]`, as a
/// browser's date-and-time field sends it) or a day, in `timezone`. A local time or a day means
/// its end: what was known on 7 December is everything recorded that day.
pub fn parse_known_at(text: &str, timezone: Tz) -> Result<Timestamp, BadTime> {
    let text = text.trim();
    let bad = || BadTime(text.to_owned());
    if let Ok(time) = chrono::DateTime::parse_from_rfc3339(text) {
        return Ok(Timestamp(time.with_timezone(&chrono::Utc)));
    }
    let (local, span) = if let Ok(day) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        (day.and_hms_opt(0, 0, 0).ok_or_else(bad)?, Duration::days(1))
    } else if let Ok(time) = NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S") {
        (time, Duration::seconds(1))
    } else {
        (NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M").map_err(|_| bad())?, Duration::minutes(1))
    };
    // The last millisecond of the day, second or minute named (a timestamp's precision).
    let end = local.checked_add_signed(span - Duration::milliseconds(1)).ok_or_else(bad)?;
    let end = timezone.from_local_datetime(&end).latest().ok_or_else(bad)?;
    Ok(Timestamp(end.with_timezone(&chrono::Utc)))
}

#[cfg(test)]
mod tests {
    use parcours_core::vocabulary::{Actor, Corrected, Replacement, StepKind, StreamId};
    use serde_json::json;

    use super::*;

    fn day(text: &str) -> Date {
        text.parse().unwrap()
    }

    fn at(text: &str) -> Timestamp {
        Timestamp(chrono::DateTime::parse_from_rfc3339(text).unwrap().with_timezone(&chrono::Utc))
    }

    /// A registration, a referral, an exit recorded a month late, and a correction of the
    /// referral's date recorded later still.
    fn history() -> Vec<Envelope> {
        let stream = StreamId::generate();
        let step = |kind: StepKind, data: serde_json::Value| crate::json::step_from_value("data", kind, data).unwrap();
        let referred = step(
            StepKind::Referred,
            json!({"structure": "aci-agen", "prescriber": {"kind": "plie"}, "situation": "unemployed"}),
        );
        let referral = EventId::generate();
        let correction = Step::Corrected(Corrected {
            corrects: referral,
            reason: "date".into(),
            replacement: Some(Replacement { occurred_on: day("2026-01-12"), step: Box::new(referred.clone()) }),
        });
        let steps = [
            (
                EventId::generate(),
                "2026-01-01",
                "2026-01-01T09:00:00Z",
                step(StepKind::Registered, json!({"structure": "aci-agen", "gender": "female", "birth_year": 1990})),
            ),
            (referral, "2026-01-10", "2026-01-10T09:00:00Z", referred),
            (
                EventId::generate(),
                "2026-02-01",
                "2026-03-01T09:00:00Z",
                step(StepKind::Exited, json!({"destination": "cdi"})),
            ),
            (EventId::generate(), "2026-03-05", "2026-03-05T09:00:00Z", correction),
        ];
        steps
            .into_iter()
            .enumerate()
            .map(|(index, (id, occurred_on, recorded_at, step))| Envelope {
                id,
                stream,
                version: index as u32 + 1,
                position: index as u64 + 1,
                occurred_on: day(occurred_on),
                recorded_at: at(recorded_at),
                recorded_by: Actor("tok_test".into()),
                step,
                sealed_text: None,
                prev_hash: [0; 32],
                stream_prev_hash: [0; 32],
            })
            .collect()
    }

    fn marks(view: &TravelView, events: &[Envelope]) -> Vec<Vec<LeftOut>> {
        events.iter().map(|event| view.left_out.get(&event.id).cloned().unwrap_or_default()).collect()
    }

    #[test]
    fn known_at_a_time_leaves_out_what_was_recorded_later_and_marks_what_was_corrected_since() {
        let events = history();
        let view = view(&events, TimeTravel { on: None, known_at: Some(at("2026-02-15T00:00:00Z")) });
        let state = view.state.as_ref().expect("registered then");
        assert!(state.in_episode && state.exits.is_empty(), "the exit was not known yet");
        assert_eq!(state.episodes[0].referred_on, day("2026-01-10"), "nor the correction");
        use LeftOut::*;
        assert_eq!(marks(&view, &events), [vec![], vec![CorrectedSince], vec![RecordedLater], vec![RecordedLater]]);
    }

    #[test]
    fn on_a_date_leaves_out_what_was_effective_later_with_the_corrections_known() {
        let events = history();
        let view = view(&events, TimeTravel { on: Some(day("2026-01-11")), known_at: None });
        let state = view.state.as_ref().expect("registered then");
        assert!(!state.in_episode, "the referral counts from its corrected date, the 12th");
        use LeftOut::*;
        assert_eq!(marks(&view, &events), [vec![], vec![EffectiveLater], vec![EffectiveLater], vec![]]);
        let both = view_of(&events, "2026-02-15", "2026-02-20T00:00:00Z");
        assert!(both.state.as_ref().is_some_and(|state| state.in_episode), "the exit was recorded after T");
        assert_eq!(view_of(&events, "2025-12-31", "2026-04-01T00:00:00Z").state, None, "not yet registered");
    }

    fn view_of(events: &[Envelope], on: &str, known_at: &str) -> TravelView {
        view(events, TimeTravel { on: Some(day(on)), known_at: Some(at(known_at)) })
    }

    #[test]
    fn known_at_reads_the_three_forms_and_means_the_end_of_what_is_named() {
        let paris = chrono_tz::Europe::Paris;
        let at = |text: &str| parse_known_at(text, paris).map(|time| time.0.to_rfc3339());
        assert_eq!(at("2026-12-07T15:04:05Z").unwrap(), "2026-12-07T15:04:05+00:00");
        assert_eq!(at("2026-12-07T16:04:05").unwrap(), "2026-12-07T15:04:05.999+00:00");
        assert_eq!(at("2026-12-07T16:04").unwrap(), "2026-12-07T15:04:59.999+00:00");
        assert_eq!(at("2026-07-07").unwrap(), "2026-07-07T21:59:59.999+00:00");
        for bad in ["", "hier", "2026-13-01", "2026-12-07 16:04", "2026-03-29T02:30"] {
            assert_eq!(parse_known_at(bad, paris), Err(BadTime(bad.into())), "{bad}");
        }
    }
}
