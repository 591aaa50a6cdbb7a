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
    use super::*;

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
