//! A log built by hand for tests: each event is checked with the rules of `parcours_core::rules`
//! before it gets its place, exactly as the store would, so scenarios are valid histories.

use std::collections::HashMap;

use parcours_core::rules::{check, StreamState, Violation};
use parcours_core::vocabulary::{
    Actor, Corrected, Date, Envelope, EventId, Replacement, Slug, Step, StreamId, Timestamp,
};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::Projections;

pub fn date(text: &str) -> Date {
    text.parse().unwrap_or_else(|error| panic!("bad test date {text}: {error}"))
}

pub fn slug(text: &str) -> Slug {
    Slug::new(text).unwrap()
}

pub fn timestamp(text: &str) -> Timestamp {
    Timestamp(chrono::DateTime::parse_from_rfc3339(text).unwrap().to_utc())
}

/// Beneficiary `n`; ids sort as their numbers do, so expected lists read naturally.
pub fn person(n: u128) -> StreamId {
    StreamId(Uuid::from_u128(n))
}

pub fn step(kind: &str, data: Value) -> Step {
    Step::deserialize_data(kind.parse().unwrap(), data).unwrap_or_else(|error| panic!("bad test {kind}: {error}"))
}

pub fn registered(structure: &str, gender: &str, birth_year: u16) -> Step {
    step(
        "registered",
        json!({"structure": structure, "gender": gender, "birth_year": birth_year,
               "identity": {"first_name": "Camille", "last_name": "Martin", "phone": "0600000000"}}),
    )
}

pub fn referred(structure: &str, situation: &str, prescriber: &str) -> Step {
    step(
        "referred",
        json!({"structure": structure, "situation": situation,
               "prescriber": {"kind": prescriber, "name": "Agence d'Agen"}, "benefits": ["rsa"]}),
    )
}

pub fn contract(id: &str, planned_end: Option<&str>) -> Step {
    step(
        "contract_started",
        json!({"contract_id": id, "kind": "cddi", "weekly_hours": 26, "planned_end": planned_end, "employer": "ACI"}),
    )
}

pub fn contract_ended(id: &str) -> Step {
    step("contract_ended", json!({"contract_id": id, "reason": "end_of_term"}))
}

pub fn hours(id: &str, month: &str, hours: f64) -> Step {
    step("hours_worked", json!({"contract_id": id, "month": month, "hours": hours}))
}

pub fn follow_up() -> Step {
    step("follow_up_held", json!({"kind": "individual"}))
}

pub fn exited(destination: &str) -> Step {
    step("exited", json!({"destination": destination}))
}

pub fn after_exit(months: u8, situation: &str) -> Step {
    step("followed_up_after_exit", json!({"months_after_exit": months, "situation": situation}))
}

pub fn structure_updated(slug: &str, agreed_hours: Value) -> Step {
    step("structure_updated", json!({"slug": slug, "name": slug, "kind": "aci", "agreed_hours": agreed_hours}))
}

pub struct Log {
    pub envelopes: Vec<Envelope>,
    streams: HashMap<StreamId, StreamState>,
    clock: Timestamp,
    next_id: u128,
}

impl Log {
    /// A log whose next event is recorded at `clock`; each event moves the clock one second on.
    pub fn new(clock: &str) -> Log {
        Log { envelopes: Vec::new(), streams: HashMap::new(), clock: timestamp(clock), next_id: 1 << 64 }
    }

    /// Moves the recording clock forward to `clock`.
    pub fn at(&mut self, clock: &str) -> &mut Log {
        let clock = timestamp(clock);
        assert!(clock >= self.clock, "the recording clock never goes back");
        self.clock = clock;
        self
    }

    pub fn today(&self) -> Date {
        Date(self.clock.0.date_naive())
    }

    /// Appends if the rules accept it, as the store does.
    pub fn try_append(&mut self, stream: StreamId, occurred_on: Date, step: Step) -> Result<EventId, Violation> {
        let today = self.today();
        let state = self.streams.entry(stream).or_default();
        check(state, occurred_on, &step, today)?;
        let id = EventId(Uuid::from_u128(self.next_id));
        self.next_id += 1;
        state.apply(id, occurred_on, &step);
        self.envelopes.push(Envelope {
            id,
            stream,
            version: state.version,
            position: self.envelopes.len() as u64 + 1,
            occurred_on,
            recorded_at: self.clock,
            recorded_by: Actor("coordinator-1".into()),
            step,
            sealed_text: None,
            prev_hash: [0; 32],
            stream_prev_hash: [0; 32],
        });
        self.clock = Timestamp(self.clock.0 + chrono::Duration::seconds(1));
        Ok(id)
    }

    /// Appends one event to each of several streams if the rules accept every one, none
    /// otherwise, as `Store::append_together` does (a merge's two sides).
    pub fn try_append_together(&mut self, parts: Vec<(StreamId, Date, Step)>) -> Result<(), Violation> {
        let today = self.today();
        for (stream, occurred_on, step) in &parts {
            check(&self.streams.get(stream).cloned().unwrap_or_default(), *occurred_on, step, today)?;
        }
        for (stream, occurred_on, step) in parts {
            self.try_append(stream, occurred_on, step)?;
        }
        Ok(())
    }

    /// Appends an event a test means to be valid.
    pub fn add(&mut self, stream: StreamId, on: &str, step: Step) -> EventId {
        let kind = step.kind();
        self.try_append(stream, date(on), step)
            .unwrap_or_else(|violation| panic!("{kind} on {on} refused: {violation}"))
    }

    pub fn structure(&mut self, slug_text: &str, on: &str, agreed_hours: Value) -> EventId {
        self.add(StreamId::of_structure(slug_text), on, structure_updated(slug_text, agreed_hours))
    }

    pub fn retract(&mut self, stream: StreamId, target: EventId) -> EventId {
        let today = self.today().to_string();
        let correction = Corrected { corrects: target, reason: "saisie erronée".into(), replacement: None };
        self.add(stream, &today, Step::Corrected(correction))
    }

    pub fn replace(&mut self, stream: StreamId, target: EventId, on: &str, step: Step) -> EventId {
        let today = self.today().to_string();
        let replacement = Some(Replacement { occurred_on: date(on), step: Box::new(step) });
        let correction = Corrected { corrects: target, reason: "saisie erronée".into(), replacement };
        self.add(stream, &today, Step::Corrected(correction))
    }

    /// The effective history of a stream as the rules see it.
    pub fn state(&self, stream: StreamId) -> Option<&StreamState> {
        self.streams.get(&stream)
    }

    pub fn stream(&self, stream: StreamId) -> Vec<Envelope> {
        self.envelopes.iter().filter(|envelope| envelope.stream == stream).cloned().collect()
    }

    pub fn projections(&self) -> Projections {
        let mut projections = Projections::new();
        projections.apply_all(&self.envelopes).unwrap();
        projections
    }
}
