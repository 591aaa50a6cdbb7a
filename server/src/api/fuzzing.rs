//! The body of the `request_bodies` fuzz targets (`fuzz/`), kept here so that the normal test
//! suite runs the very same checks on stable (`server/tests/fuzzing.rs`): one body, two drivers.
//!
//! The bytes are read as the JSON body of each route that takes one, through the code the handlers
//! run (`json::from_body`, then each body's own reading). A refusal must be a clean error with a
//! message; what is accepted must render back to JSON that reads as the same events (export and
//! import rely on it), pass through the pathway rules as the writer does, and survive the stored
//! encoding. Panics here are the findings.

use chrono::NaiveDate;
use parcours_core::limits::EVENT_BYTES_MAX;
use parcours_core::rules::{self, StreamState};
use parcours_core::store::page::{decode_record, encode_record};
use parcours_core::store::StoreError;
use parcours_core::vocabulary::{
    Actor, ContractKind, ContractStarted, Date, Envelope, EventId, Gender, Hours, IdentityField, NewEvent, Prescriber,
    PrescriberKind, Referred, Registered, Sealed, Situation, Slug, Step, StepKind, StreamId, Timestamp,
    TrainingStarted,
};
use uuid::Uuid;

use crate::api::admin::TokenBody;
use crate::api::log::{AppendBody, RegisterBody};
use crate::api::structures::StructureBody;
use crate::app::AppError;
use crate::json::{self, EventInput, InputError, ParseError};

/// The day the rules take as today: fixed, so that a finding replays.
const TODAY: NaiveDate = NaiveDate::from_ymd_opt(2025, 6, 30).expect("a valid date");

/// The slug of the structure every fixed event names, and the one `PUT /api/structures/{slug}` gets.
const STRUCTURE: &str = "aci-agen";

/// Reads `bytes` as the body of every route that takes JSON. Panics on a finding.
pub fn request_bodies(bytes: &[u8]) {
    register(bytes);
    append(bytes);
    structure(bytes);
    token(bytes);
}

/// `POST /api/beneficiaries`.
fn register(bytes: &[u8]) {
    let Some(body) = clean(json::from_body::<RegisterBody>(bytes)) else { return };
    let Some((stream, event)) = clean(body.into_event()) else { return };
    assert_round_trip(std::slice::from_ref(&event), |_| Ok(None));
    accept(StreamState::default(), stream, &[event]);
}

/// `POST /api/beneficiaries/{id}/events`, appended to the stream [`history`] describes: a
/// registration, a referral, a contract and a training, so that corrections and the rules of an
/// open episode are within reach.
fn append(bytes: &[u8]) {
    let Some(body) = clean(json::from_body::<AppendBody>(bytes)) else { return };
    let history = history();
    let stored_kind = |id: EventId| -> Result<Option<StepKind>, StoreError> {
        Ok(history.iter().find(|event| event.id == Some(id)).map(|event| event.step.kind()))
    };
    let events = match json::parse_events_with(body.events, stored_kind) {
        Ok(events) => events,
        Err(InputError::Parse(error)) => return assert_message(&error),
        // The only refusal that is not about the JSON: a correction of an event that is not there.
        Err(InputError::Append(error)) => return assert!(!error.to_string().is_empty()),
    };
    assert_round_trip(&events, stored_kind);
    let state =
        StreamState::from_events(history.iter().filter_map(|event| Some((event.id?, event.occurred_on, &event.step))));
    accept(state, fixed_stream(), &events);
}

/// `PUT /api/structures/{slug}`.
fn structure(bytes: &[u8]) {
    let Some(body) = clean(json::from_body::<StructureBody>(bytes)) else { return };
    let slug = Slug::new(STRUCTURE).expect("a valid slug");
    let step = match body.into_step(slug) {
        Ok(step) => step,
        Err(AppError::InvalidRequest(message)) => return assert!(!message.is_empty()),
        Err(other) => panic!("a structure body is refused with {other:?}, not invalid_request"),
    };
    let event = NewEvent { id: None, occurred_on: Date(TODAY), step };
    let data = serde_json::to_value(&event.step).expect("a step renders as JSON");
    match json::step_from_value("data", StepKind::StructureUpdated, data) {
        Ok(step) => assert_eq!(step, event.step, "a structure reads back as itself"),
        Err(error) => panic!("a structure rendered as JSON does not read back: {error}"),
    }
    accept(StreamState::default(), StreamId::of_structure(STRUCTURE), &[event]);
}

/// `POST /api/tokens`.
fn token(bytes: &[u8]) {
    let Some(body) = clean(json::from_body::<TokenBody>(bytes)) else { return };
    if let Err(message) = body.request().check() {
        assert!(!message.is_empty());
    }
}

/// The value, or `None` after checking that the refusal says what is wrong.
fn clean<T>(result: Result<T, ParseError>) -> Option<T> {
    result.map_err(|error| assert_message(&error)).ok()
}

fn assert_message(error: &ParseError) {
    assert!(!error.message.trim().is_empty(), "a parse error without a message");
}

/// Events render as the JSON clients read (`data` is the step's serialisation), and that JSON,
/// sent again, reads as the same events: what `export` writes, `import` must read.
fn assert_round_trip(events: &[NewEvent], stored_kind: impl FnMut(EventId) -> Result<Option<StepKind>, StoreError>) {
    let inputs = events
        .iter()
        .map(|event| EventInput {
            id: event.id,
            kind: event.step.kind(),
            occurred_on: event.occurred_on,
            data: serde_json::to_value(&event.step).expect("a step renders as JSON"),
        })
        .collect();
    match json::parse_events_with(inputs, stored_kind) {
        Ok(again) => assert_eq!(again, events, "events rendered as JSON read back as themselves"),
        Err(error) => panic!("events rendered as JSON do not read back: {error}"),
    }
}

/// What the writer does with a request: each event checked against the stream's state, applied,
/// encoded for the disk; the request stops at the first refusal. What is encoded must decode to
/// the same envelope.
fn accept(mut state: StreamState, stream: StreamId, events: &[NewEvent]) {
    let today = Date(TODAY);
    for (index, event) in events.iter().enumerate() {
        if rules::check(&state, event.occurred_on, &event.step, today).is_err() {
            return;
        }
        let id = event.id.unwrap_or(EventId(Uuid::from_u128(0x1000 + index as u128)));
        state.apply(id, event.occurred_on, &event.step);
        let mut step = event.step.clone();
        // The store seals a clear identity before the writer encodes it (`Store::append`).
        if let Some(registered) = step.registration_mut() {
            if registered.identity.is_some() {
                registered.identity = Some(IdentityField::Sealed(Sealed { nonce: [0; 24], ciphertext: vec![0; 40] }));
            }
        }
        let envelope = Envelope {
            id,
            stream,
            version: state.version,
            position: index as u64 + 1,
            occurred_on: event.occurred_on,
            recorded_at: Timestamp::from_millis(1_751_270_400_000).expect("a valid time"),
            recorded_by: Actor("fuzz".into()),
            step,
            sealed_text: None,
            prev_hash: [1; 32],
            stream_prev_hash: [2; 32],
        };
        let record = match encode_record(&envelope) {
            Ok(record) => record,
            Err(error) => panic!("an accepted event does not encode: {error}"),
        };
        if record.len() > EVENT_BYTES_MAX {
            // The writer refuses it (`event_too_large`).
            return;
        }
        match decode_record(&record) {
            Ok(decoded) => assert_eq!(decoded, envelope, "an accepted event reads back from its stored bytes"),
            Err(error) => panic!("an accepted event does not decode from its stored bytes: {error}"),
        }
    }
}

fn fixed_stream() -> StreamId {
    StreamId(Uuid::from_u128(0x0193_c9a2_0000_7000_8000_0000_0000_0001))
}

/// The stream appended to: event ids `…0001` to `…0004`, which the seeds name in corrections.
fn history() -> Vec<NewEvent> {
    let structure = Slug::new(STRUCTURE).expect("a valid slug");
    let on = |month, day| Date(NaiveDate::from_ymd_opt(2024, month, day).expect("a valid date"));
    let steps = [
        (
            on(1, 10),
            Step::Registered(Registered {
                structure: structure.clone(),
                gender: Gender::Female,
                birth_year: 1990,
                identity: None,
            }),
        ),
        (
            on(1, 15),
            Step::Referred(Referred::new(
                structure,
                Prescriber { kind: PrescriberKind::FranceTravail, name: None },
                Situation::LongTermUnemployed,
            )),
        ),
        (
            on(2, 1),
            Step::ContractStarted(ContractStarted {
                contract_id: "c-1".into(),
                kind: ContractKind::Cddi,
                employer: None,
                weekly_hours: Hours::whole(26),
                planned_end: None,
                job: None,
            }),
        ),
        (
            on(3, 1),
            Step::TrainingStarted(TrainingStarted {
                training_id: "t-1".into(),
                title: "Titre ADVF".into(),
                qualifying: true,
                certification: None,
                planned_hours: None,
            }),
        ),
    ];
    steps
        .into_iter()
        .enumerate()
        .map(|(index, (occurred_on, step))| NewEvent {
            id: Some(EventId(Uuid::from_u128(index as u128 + 1))),
            occurred_on,
            step,
        })
        .collect()
}
