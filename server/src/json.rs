//! The JSON forms of events (CONTRACT §2, §5): parsing what clients send, rendering what they read,
//! and the export line that restores a store byte for byte.
//!
//! Parsing goes through `serde_path_to_error` so that an error names the field
//! (`events[0].data.prescriber.kind: unknown variant ...`).

use std::borrow::Cow;
use std::collections::HashMap;

use base64::Engine;
use parcours_core::rules::Violation;
use parcours_core::store::verifiable::{Anchor, VerifiableHistory, HISTORY_FORMAT};
use parcours_core::store::{AppendError, Store, StoreError};
use parcours_core::vocabulary::{
    Actor, Corrected, CorrectedInput, Date, Envelope, EventId, IdentityField, NewEvent, PersonalData, Replacement,
    Sealed, Step, StepKind, StreamId, Timestamp,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Why a body could not be read: the path of the field and what is wrong with it.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct ParseError {
    pub message: String,
}

impl ParseError {
    fn at(prefix: &str, error: serde_path_to_error::Error<serde_json::Error>) -> ParseError {
        let path = error.path().to_string();
        let inner = error.into_inner();
        if matches!(inner.classify(), serde_json::error::Category::Syntax | serde_json::error::Category::Eof) {
            return ParseError { message: format!("malformed JSON: {inner}") };
        }
        let path = match (prefix.is_empty(), path == ".") {
            (true, true) => String::new(),
            (true, false) => format!("{path}: "),
            (false, true) => format!("{prefix}: "),
            (false, false) => format!("{prefix}.{path}: "),
        };
        ParseError { message: format!("{path}{}", strip_position(&inner.to_string())) }
    }
}

/// serde_json appends "at line 1 column 42", which means nothing once the path is given.
fn strip_position(message: &str) -> &str {
    message.find(" at line ").map_or(message, |cut| &message[..cut])
}

/// Deserializes `value` as `T`, naming the failing field under `prefix`.
pub fn from_value<T: serde::de::DeserializeOwned>(prefix: &str, value: Value) -> Result<T, ParseError> {
    serde_path_to_error::deserialize(value).map_err(|error| ParseError::at(prefix, error))
}

/// Deserializes a request body, naming the failing field.
pub fn from_body<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, ParseError> {
    let deserializer = &mut serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(deserializer).map_err(|error| ParseError::at("", error))?;
    Ok(value)
}

/// The OpenAPI schema of a step's `type`: one of the codes of CONTRACT §3.
fn step_kind_schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
    use utoipa::openapi::schema::{ObjectBuilder, Type};
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(StepKind::ALL.iter().map(|kind| kind.code())))
        .into()
}

/// One event as a client proposes it.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EventInput {
    /// Chosen by the client for idempotent retries; generated otherwise.
    #[schema(value_type = Option<String>, format = Uuid)]
    pub id: Option<EventId>,
    #[serde(rename = "type")]
    #[schema(schema_with = step_kind_schema)]
    pub kind: StepKind,
    #[schema(value_type = String, format = Date)]
    pub occurred_on: Date,
    /// The step's own fields (CONTRACT §3), by `type`.
    #[schema(value_type = Object)]
    pub data: Value,
}

/// Turns proposed events into steps. A correction's replacement is read with the type of the
/// event it corrects, found earlier in the same request or in the store; if there is none, the
/// append is refused with the rule that names it.
pub fn parse_events(store: &Store, stream: StreamId, inputs: Vec<EventInput>) -> Result<Vec<NewEvent>, InputError> {
    parse_events_with(inputs, |id| {
        Ok(store.read_event(id)?.filter(|target| target.stream == stream).map(|target| target.step.kind()))
    })
}

/// [`parse_events`] with the store's part given as `stored_kind`: the type of a stored event of the
/// same stream, if there is one. Pure apart from it, so that fuzzing reaches the very code the
/// append route runs (`crate::fuzzing`).
pub fn parse_events_with(
    inputs: Vec<EventInput>,
    mut stored_kind: impl FnMut(EventId) -> Result<Option<StepKind>, StoreError>,
) -> Result<Vec<NewEvent>, InputError> {
    let mut kinds: HashMap<EventId, StepKind> = HashMap::new();
    let mut events = Vec::with_capacity(inputs.len());
    for (index, input) in inputs.into_iter().enumerate() {
        let prefix = format!("events[{index}].data");
        let step = step_of(&prefix, input.kind, input.data, |corrects| match kinds.get(&corrects) {
            Some(kind) => Ok(*kind),
            None => stored_kind(corrects)?.ok_or_else(|| {
                let violation = Violation::UnknownCorrectedEvent(corrects);
                InputError::Append(AppendError::Rule { index, violation })
            }),
        })?;
        if let Some(id) = input.id {
            kinds.insert(id, step.kind());
        }
        events.push(NewEvent { id: input.id, occurred_on: input.occurred_on, step });
    }
    Ok(events)
}

/// The longest text accepted in a step's data (a skills summary is the longest there is).
pub const TEXT_CHARS_MAX: usize = 4000;
/// The most items in a list of a step's data (skills, benefits).
pub const LIST_ITEMS_MAX: usize = 200;
/// The deepest nesting in a step's data; the deepest real one (a correction's replacement's
/// prescriber) is 4.
pub const DEPTH_MAX: usize = 8;

/// Refuses data that no real step has: over-long texts, huge lists, deep nesting. These bound what
/// one event costs to check, store and show, beyond the body limit and the encoded-event limit.
pub fn check_limits(path: &str, value: &Value) -> Result<(), ParseError> {
    fn walk(path: &str, value: &Value, depth: usize) -> Result<(), ParseError> {
        if depth > DEPTH_MAX {
            return Err(ParseError { message: format!("{path}: nested deeper than {DEPTH_MAX} levels") });
        }
        match value {
            Value::String(text) if text.chars().count() > TEXT_CHARS_MAX => {
                Err(ParseError { message: format!("{path}: longer than {TEXT_CHARS_MAX} characters") })
            }
            Value::Array(items) if items.len() > LIST_ITEMS_MAX => {
                Err(ParseError { message: format!("{path}: more than {LIST_ITEMS_MAX} items") })
            }
            Value::Array(items) => items
                .iter()
                .enumerate()
                .try_for_each(|(index, item)| walk(&format!("{path}[{index}]"), item, depth + 1)),
            Value::Object(fields) => {
                fields.iter().try_for_each(|(name, field)| walk(&format!("{path}.{name}"), field, depth + 1))
            }
            _ => Ok(()),
        }
    }
    walk(path, value, 0)
}

/// Reads the `data` of an event of type `kind`, naming the failing field under `prefix`. A
/// correction's replacement is read with the type of the event it corrects, which only the caller
/// can tell (`corrected_kind`: from the request and the store, or from earlier export lines).
fn step_of<E: From<ParseError>>(
    prefix: &str,
    kind: StepKind,
    data: Value,
    corrected_kind: impl FnOnce(EventId) -> Result<StepKind, E>,
) -> Result<Step, E> {
    if kind != StepKind::Corrected {
        return Ok(step_from_value(prefix, kind, data)?);
    }
    check_limits(prefix, &data)?;
    let correction: CorrectedInput<Value> = from_value(prefix, data)?;
    let replacement = match correction.replacement {
        None => None,
        Some(replacement) => {
            let kind = corrected_kind(correction.corrects)?;
            let step = step_from_value(&format!("{prefix}.replacement.data"), kind, replacement.data)?;
            Some(Replacement { occurred_on: replacement.occurred_on, step: Box::new(step) })
        }
    };
    Ok(Step::Corrected(parcours_core::vocabulary::Corrected {
        corrects: correction.corrects,
        reason: correction.reason,
        replacement,
    }))
}

/// Reads the `data` of an event of type `kind`, naming the failing field under `prefix`.
pub fn step_from_value(prefix: &str, kind: StepKind, value: Value) -> Result<Step, ParseError> {
    check_limits(prefix, &value)?;
    let mut track = serde_path_to_error::Track::new();
    let deserializer = serde_path_to_error::Deserializer::new(value, &mut track);
    Step::deserialize_data(kind, deserializer)
        .map_err(|error| ParseError::at(prefix, serde_path_to_error::Error::new(track.path(), error)))
}

#[derive(Debug, thiserror::Error)]
pub enum InputError {
    #[error(transparent)]
    Parse(#[from] ParseError),
    #[error(transparent)]
    Append(#[from] AppendError),
}

impl From<StoreError> for InputError {
    fn from(error: StoreError) -> Self {
        InputError::Append(AppendError::Store(error))
    }
}

/// One stream as `GET /api/beneficiaries/{id}/events` and `parcours history` give it.
#[derive(Serialize)]
pub struct StreamJson<'a> {
    pub beneficiary: StreamId,
    pub version: u32,
    pub events: Events<'a>,
}

/// A page of the whole log (`GET /api/events`).
#[derive(Serialize)]
pub struct LogJson<'a> {
    pub events: Events<'a>,
    pub last_position: u64,
}

/// Envelopes in their public form ([`event_json`]), each rendered as it is written: a history is
/// serialized without first building every event's form, a copy that was a few percent of a
/// read's CPU (BENCHMARKS.md, issue 4). Written with [`to_json`], which returns the store's error
/// when an identity cannot be opened.
pub struct Events<'a> {
    store: &'a Store,
    envelopes: &'a [Envelope],
    identity: Identity,
    failure: std::cell::RefCell<Option<StoreError>>,
}

impl<'a> Events<'a> {
    pub fn new(store: &'a Store, envelopes: &'a [Envelope], identity: Identity) -> Events<'a> {
        Events { store, envelopes, identity, failure: Default::default() }
    }
}

impl Serialize for Events<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::{Error, SerializeSeq};
        let mut seq = serializer.serialize_seq(Some(self.envelopes.len()))?;
        for envelope in self.envelopes {
            match event_json(self.store, envelope, self.identity) {
                Ok(event) => seq.serialize_element(&event)?,
                Err(error) => {
                    let message = error.to_string();
                    self.failure.replace(Some(error));
                    return Err(S::Error::custom(message));
                }
            }
        }
        seq.end()
    }
}

/// A body holding [`Events`] as JSON bytes (pretty for people), with the store's own error if one
/// stopped the rendering.
pub fn to_json(body: &impl Serialize, events: &Events<'_>, pretty: bool) -> Result<Vec<u8>, StoreError> {
    // Sized once: an event is about 400 bytes of JSON, and growing the buffer copied it each time.
    let mut bytes = Vec::with_capacity(256 + events.envelopes.len() * 512);
    let written = match pretty {
        true => serde_json::to_writer_pretty(&mut bytes, body),
        false => serde_json::to_writer(&mut bytes, body),
    };
    match (written, events.failure.take()) {
        (_, Some(failure)) => Err(failure),
        (Err(error), None) => Err(StoreError::Encode(error.to_string())),
        (Ok(()), None) => Ok(bytes),
    }
}

/// What a reader may see of personal data.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Identity {
    /// Open sealed identities (admins, auditors, the beneficiary's coordinators).
    Open,
    /// Leave them out (`null`).
    Hidden,
    /// The person's erasure is recorded: every identity reads as erased, whether or not a key
    /// is still on disk (a crash between the event and the key's destruction, a key restored).
    Erased,
}

impl Identity {
    /// `Open`, unless the stream (all of it, whatever part is shown) records the erasure.
    pub fn open_unless_erased(stream: &[Envelope]) -> Identity {
        match erasure_recorded(stream) {
            true => Identity::Erased,
            false => Identity::Open,
        }
    }
}

/// The step with its sealed free text put back, for a reader allowed the identity of a person whose
/// erasure is not recorded; `None` otherwise, or when the text has gone with the key.
pub fn opened_text(store: &Store, envelope: &Envelope, identity: Identity) -> Result<Option<Step>, StoreError> {
    match identity {
        Identity::Open => store.unseal_text(envelope),
        Identity::Hidden | Identity::Erased => Ok(None),
    }
}

/// Puts the free text back in one person's events for a reader with `identity`, for pages and
/// trails that fold them: what [`event_json`] does for one event. Each sealed envelope keeps its
/// `sealed_text`.
pub fn open_free_text(store: &Store, events: &mut [Envelope], identity: Identity) -> Result<(), StoreError> {
    for envelope in events {
        if let Some(opened) = opened_text(store, envelope, identity)? {
            envelope.step = opened;
        }
    }
    Ok(())
}

/// Whether the stream holds a `personal_data_erased`.
fn erasure_recorded(stream: &[Envelope]) -> bool {
    stream.iter().any(|event| matches!(event.step, Step::PersonalDataErased(_)))
}

/// An event as read back (CONTRACT §2), optionally with what an export needs to restore it.
#[derive(Serialize)]
pub struct EventJson<'a> {
    pub id: EventId,
    pub beneficiary: StreamId,
    pub version: u32,
    pub position: u64,
    #[serde(rename = "type")]
    pub kind: StepKind,
    pub occurred_on: Date,
    pub recorded_at: Timestamp,
    pub recorded_by: &'a Actor,
    pub data: DataJson<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prev_hash: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stream_prev_hash: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sealed_identity: Option<SealedJson>,
    /// The sealed sensitive ESF+ answers of a referral, as stored (exports only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sealed_answers: Option<SealedJson>,
    /// The sealed free text, as stored (exports only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sealed_text: Option<SealedJson>,
}

#[derive(Serialize)]
pub struct DataJson<'a> {
    #[serde(flatten)]
    step: Cow<'a, Step>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    identity_erased: bool,
    /// The step's free text is sealed and this reader does not get it (no right to the identity,
    /// or the identity was erased): its text fields read empty.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    free_text_withheld: bool,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SealedJson {
    nonce: String,
    ciphertext: String,
}

fn sealed_identity_mut(step: &mut Step) -> Option<&mut Option<IdentityField>> {
    step.registration_mut().map(|registered| &mut registered.identity)
}

/// The sealed sensitive answers of a referral (or of a referral's replacement).
fn sealed_answers(step: &Step) -> Option<&Sealed> {
    let mut step = step;
    if let Step::Corrected(Corrected { replacement: Some(replacement), .. }) = step {
        step = &replacement.step;
    }
    match step {
        Step::Referred(referred) => referred.sealed_answers.as_ref(),
        _ => None,
    }
}

impl SealedJson {
    fn of(sealed: &Sealed) -> SealedJson {
        SealedJson {
            nonce: hex::encode(sealed.nonce),
            ciphertext: base64::engine::general_purpose::STANDARD.encode(&sealed.ciphertext),
        }
    }

    /// Back to the stored form; `field` names the line's field in errors.
    fn sealed(&self, field: &str) -> Result<Sealed, ParseError> {
        let nonce = hex::decode(&self.nonce)
            .ok()
            .and_then(|bytes| <[u8; 24]>::try_from(bytes).ok())
            .ok_or_else(|| ParseError { message: format!("{field}.nonce: expected 24 bytes in hex") })?;
        let ciphertext = base64::engine::general_purpose::STANDARD
            .decode(&self.ciphertext)
            .map_err(|_| ParseError { message: format!("{field}.ciphertext: expected base64") })?;
        Ok(Sealed { nonce, ciphertext })
    }
}

fn sealed_identity(step: &Step) -> Option<&Sealed> {
    match &step.registration()?.identity {
        Some(IdentityField::Sealed(sealed)) => Some(sealed),
        _ => None,
    }
}

/// The public form of an event. Sealed identities are opened when `identity` allows it; an
/// identity whose key was destroyed reads `null` with `"identity_erased": true`.
pub fn event_json<'a>(store: &Store, envelope: &'a Envelope, identity: Identity) -> Result<EventJson<'a>, StoreError> {
    let mut step = Cow::Borrowed(&envelope.step);
    let mut identity_erased = false;
    let mut free_text_withheld = false;
    if envelope.sealed_text.is_some() {
        match opened_text(store, envelope, identity)? {
            Some(opened) => step = Cow::Owned(opened),
            None => free_text_withheld = true,
        }
    }
    if let Some(sealed) = sealed_answers(&envelope.step) {
        // The sensitive answers go with the identity: opened for the same readers, gone with its key.
        let opened = match identity {
            Identity::Open => store.unseal_answers(envelope.stream, envelope.id, sealed)?,
            Identity::Hidden | Identity::Erased => None,
        };
        if let (Some(answers), Some(referred)) = (opened, step.to_mut().referral_mut()) {
            referred.set_sensitive_answers(answers);
        }
    }
    if let Some(sealed) = sealed_identity(&envelope.step) {
        let opened = match identity {
            Identity::Open => store.unseal(envelope.stream, envelope.id, sealed)?,
            Identity::Hidden | Identity::Erased => None,
        };
        identity_erased = identity != Identity::Hidden && opened.is_none();
        if let Some(slot) = sealed_identity_mut(step.to_mut()) {
            *slot = opened.map(IdentityField::Clear);
        }
        if identity_erased {
            // `null` rather than absent: the field existed and was erased.
            if let Some(slot) = sealed_identity_mut(step.to_mut()) {
                *slot = Some(IdentityField::Sealed(Sealed { nonce: [0; 24], ciphertext: Vec::new() }));
            }
        }
    }
    Ok(EventJson {
        id: envelope.id,
        beneficiary: envelope.stream,
        version: envelope.version,
        position: envelope.position,
        kind: envelope.step.kind(),
        occurred_on: envelope.occurred_on,
        recorded_at: envelope.recorded_at,
        recorded_by: &envelope.recorded_by,
        data: DataJson { step, identity_erased, free_text_withheld },
        prev_hash: None,
        stream_prev_hash: None,
        sealed_identity: None,
        sealed_answers: None,
        sealed_text: None,
    })
}

/// The export form: the public fields, the hashes, and the sealed identity as stored (never in
/// clear), so that `import` rebuilds the very same bytes and chain head.
pub fn export_json(envelope: &Envelope) -> EventJson<'_> {
    let mut step = Cow::Borrowed(&envelope.step);
    let sealed = sealed_identity(&envelope.step).map(SealedJson::of);
    if sealed.is_some() {
        if let Some(slot) = sealed_identity_mut(step.to_mut()) {
            *slot = None;
        }
    }
    EventJson {
        id: envelope.id,
        beneficiary: envelope.stream,
        version: envelope.version,
        position: envelope.position,
        kind: envelope.step.kind(),
        occurred_on: envelope.occurred_on,
        recorded_at: envelope.recorded_at,
        recorded_by: &envelope.recorded_by,
        data: DataJson { step, identity_erased: false, free_text_withheld: false },
        prev_hash: Some(hex::encode(envelope.prev_hash)),
        stream_prev_hash: Some(hex::encode(envelope.stream_prev_hash)),
        sealed_identity: sealed,
        sealed_answers: sealed_answers(&envelope.step).map(SealedJson::of),
        sealed_text: envelope.sealed_text.as_ref().map(SealedJson::of),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ExportLine {
    id: EventId,
    beneficiary: StreamId,
    version: u32,
    position: u64,
    #[serde(rename = "type")]
    kind: StepKind,
    occurred_on: Date,
    recorded_at: Timestamp,
    recorded_by: Actor,
    data: Value,
    prev_hash: String,
    stream_prev_hash: String,
    sealed_identity: Option<SealedJson>,
    #[serde(default)]
    sealed_answers: Option<SealedJson>,
    #[serde(default)]
    sealed_text: Option<SealedJson>,
}

/// Reads export lines back into envelopes. `kinds` remembers the type of every event read so far,
/// for the replacements of corrections.
pub struct ExportReader {
    kinds: HashMap<EventId, StepKind>,
}

impl Default for ExportReader {
    fn default() -> ExportReader {
        ExportReader::new()
    }
}

impl ExportReader {
    pub fn new() -> ExportReader {
        ExportReader { kinds: HashMap::new() }
    }

    pub fn read(&mut self, line: &str) -> Result<Envelope, ParseError> {
        let line: ExportLine = from_body(line.as_bytes())?;
        let mut step = step_of("data", line.kind, line.data, |corrects| {
            self.kinds.get(&corrects).copied().ok_or_else(|| ParseError {
                message: format!("data.corrects: event {corrects} is not earlier in the export"),
            })
        })?;
        if let Some(sealed) = line.sealed_identity {
            let sealed = sealed.sealed("sealed_identity")?;
            let slot = sealed_identity_mut(&mut step)
                .ok_or_else(|| ParseError { message: "sealed_identity: only a registration carries one".into() })?;
            *slot = Some(IdentityField::Sealed(sealed));
        }
        if let Some(sealed) = line.sealed_answers {
            let sealed = sealed.sealed("sealed_answers")?;
            let referred = step
                .referral_mut()
                .ok_or_else(|| ParseError { message: "sealed_answers: only a referral carries them".into() })?;
            referred.sealed_answers = Some(sealed);
        }
        self.kinds.insert(line.id, step.kind());
        Ok(Envelope {
            id: line.id,
            stream: line.beneficiary,
            version: line.version,
            position: line.position,
            occurred_on: line.occurred_on,
            recorded_at: line.recorded_at,
            recorded_by: line.recorded_by,
            step,
            sealed_text: line.sealed_text.map(|sealed| sealed.sealed("sealed_text")).transpose()?,
            prev_hash: parse_hash("prev_hash", &line.prev_hash)?,
            stream_prev_hash: parse_hash("stream_prev_hash", &line.stream_prev_hash)?,
        })
    }
}

fn parse_hash(field: &str, text: &str) -> Result<[u8; 32], ParseError> {
    hex::decode(text)
        .ok()
        .and_then(|bytes| <[u8; 32]>::try_from(bytes).ok())
        .ok_or_else(|| ParseError { message: format!("{field}: expected a SHA-256 in hex") })
}

/// Records in the access log that `actor` read, in an export of the log, every person whose
/// registration is among `events` (each person once: a stream registers once).
pub fn record_exported(
    store: &Store,
    actor: &parcours_core::vocabulary::Actor,
    events: &[Envelope],
) -> Result<(), StoreError> {
    for event in events.iter().filter(|event| matches!(event.step, Step::Registered(_))) {
        store.record_access(parcours_core::store::access::AccessEntry {
            at: parcours_core::vocabulary::Timestamp::now(),
            actor: actor.clone(),
            beneficiary: event.stream,
            what: "export".into(),
        })?;
    }
    Ok(())
}

/// The identity a person has now: that of their registration, or of the last correction that
/// replaced it. `None` when none was recorded or its erasure is recorded (`events` is the whole
/// stream), whatever key is left.
pub fn current_identity(store: &Store, events: &[Envelope]) -> Result<Option<PersonalData>, StoreError> {
    let Some(registration) = events.first().filter(|event| event.step.kind() == StepKind::Registered) else {
        return Ok(None);
    };
    if erasure_recorded(events) {
        return Ok(None);
    }
    let mut carrier = Some(registration);
    for envelope in events {
        if let Step::Corrected(correction) = &envelope.step {
            if correction.corrects == registration.id && correction.replacement.is_some() {
                carrier = Some(envelope);
            }
        }
    }
    match carrier.and_then(|envelope| sealed_identity(&envelope.step).map(|sealed| (envelope, sealed))) {
        Some((envelope, sealed)) => store.unseal(envelope.stream, envelope.id, sealed),
        None => Ok(None),
    }
}

/// The JSON form of a point of a hash chain.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnchorJson {
    position: u64,
    #[serde(default, skip_serializing_if = "is_zero")]
    version: u32,
    hash: String,
}

fn is_zero(value: &u32) -> bool {
    *value == 0
}

impl From<Anchor> for AnchorJson {
    fn from(anchor: Anchor) -> AnchorJson {
        AnchorJson { position: anchor.position, version: anchor.version, hash: hex::encode(anchor.hash) }
    }
}

impl AnchorJson {
    fn anchor(&self, field: &str) -> Result<Anchor, ParseError> {
        Ok(Anchor {
            position: self.position,
            version: self.version,
            hash: parse_hash(&format!("{field}.hash"), &self.hash)?,
        })
    }
}

/// A verifiable history (`GET /api/beneficiaries/{id}/export`, `parcours history ID --verifiable`):
/// the events in their export form (hashes and sealed identity included, so they re-encode to the
/// stored bytes), the two anchors and the server's signature.
#[derive(Serialize)]
pub struct HistoryJson<'a> {
    format: &'static str,
    beneficiary: StreamId,
    exported_at: Timestamp,
    exported_by: &'a Actor,
    stream_head: AnchorJson,
    chain_head: AnchorJson,
    public_key: String,
    signature: String,
    events: Vec<EventJson<'a>>,
}

pub fn history_json(history: &VerifiableHistory) -> HistoryJson<'_> {
    HistoryJson {
        format: HISTORY_FORMAT,
        beneficiary: history.beneficiary,
        exported_at: history.exported_at,
        exported_by: &history.exported_by,
        stream_head: history.stream_head.into(),
        chain_head: history.chain_head.into(),
        public_key: hex::encode(history.public_key),
        signature: hex::encode(history.signature),
        events: history.events.iter().map(export_json).collect(),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct HistoryInput {
    format: String,
    beneficiary: StreamId,
    exported_at: Timestamp,
    exported_by: Actor,
    stream_head: AnchorJson,
    chain_head: AnchorJson,
    public_key: String,
    signature: String,
    events: Vec<Value>,
}

/// Reads a verifiable history back; what is malformed is named (which event, which field).
pub fn read_history(bytes: &[u8]) -> Result<VerifiableHistory, ParseError> {
    let input: HistoryInput = from_body(bytes)?;
    if input.format != HISTORY_FORMAT {
        return Err(ParseError { message: format!("format: expected {HISTORY_FORMAT}, found {}", input.format) });
    }
    let mut reader = ExportReader::new();
    let events = input
        .events
        .into_iter()
        .enumerate()
        .map(|(index, event)| {
            reader
                .read(&event.to_string())
                .map_err(|error| ParseError { message: format!("events[{index}]: {}", error.message) })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let bytes_of = |field: &str, text: &str, len: usize| {
        hex::decode(text)
            .ok()
            .filter(|bytes| bytes.len() == len)
            .ok_or_else(|| ParseError { message: format!("{field}: expected {len} bytes in hex") })
    };
    let public_key = bytes_of("public_key", &input.public_key, 32)?;
    let signature = bytes_of("signature", &input.signature, 64)?;
    Ok(VerifiableHistory {
        beneficiary: input.beneficiary,
        exported_at: input.exported_at,
        exported_by: input.exported_by,
        stream_head: input.stream_head.anchor("stream_head")?,
        chain_head: input.chain_head.anchor("chain_head")?,
        public_key: public_key.try_into().map_err(|_| ParseError { message: "public_key".into() })?,
        signature: signature.try_into().map_err(|_| ParseError { message: "signature".into() })?,
        events,
    })
}

#[cfg(test)]
mod tests {
    use parcours_core::vocabulary::{EducationLevel, Prescriber, PrescriberKind, Referred, Situation, Slug};

    use super::*;

    #[test]
    fn an_export_line_keeps_the_sealed_answers_of_a_referral_and_reads_back_the_same_event() {
        let referred = Referred {
            education_level: Some(EducationLevel::Isced34),
            sealed_answers: Some(Sealed { nonce: [3; 24], ciphertext: vec![1, 2, 3, 250] }),
            ..Referred::new(
                Slug::new("aci-agen").unwrap(),
                Prescriber { kind: PrescriberKind::Plie, name: None },
                Situation::Unemployed,
            )
        };
        let envelope = Envelope {
            id: EventId::generate(),
            stream: StreamId::generate(),
            version: 2,
            position: 2,
            occurred_on: "2025-01-02".parse().unwrap(),
            recorded_at: Timestamp::from_millis(1_700_000_000_000).unwrap(),
            recorded_by: Actor("tok_1".into()),
            step: Step::Referred(referred),
            sealed_text: Some(Sealed { nonce: [4; 24], ciphertext: vec![9, 8, 7] }),
            prev_hash: [1; 32],
            stream_prev_hash: [2; 32],
        };
        let line = serde_json::to_string(&export_json(&envelope)).unwrap();
        assert!(line.contains("\"sealed_answers\":{\"nonce\":\"0303"), "{line}");
        assert_eq!(ExportReader::new().read(&line).unwrap(), envelope, "the very same event, so the same bytes");
    }
}
