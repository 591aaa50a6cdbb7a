//! The envelope of CONTRACT §2: a step as the store accepted it.

use std::fmt;

use bincode::de::Decoder;
use bincode::enc::Encoder;
use bincode::error::{DecodeError, EncodeError};
use bincode::{Decode, Encode};
use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize, Serializer};

use super::personal_data::Sealed;
use super::steps::{Step, SEALED_TEXT_TAG};
use super::values::{write_digits, Date, EventId, StreamId};

/// When the store accepted an event. Kept to the millisecond, the precision it is shown with, so
/// that `as_of` = a shown `recorded_at` keeps that event.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Deserialize)]
#[serde(transparent)]
pub struct Timestamp(pub DateTime<Utc>);

impl Timestamp {
    pub fn from_millis(millis: i64) -> Option<Timestamp> {
        DateTime::from_timestamp_millis(millis).map(Timestamp)
    }
    pub fn millis(&self) -> i64 {
        self.0.timestamp_millis()
    }
    pub fn now() -> Timestamp {
        // Truncate to the stored precision so the value in memory equals the value read back.
        Timestamp::from_millis(Utc::now().timestamp_millis()).unwrap_or(Timestamp(DateTime::UNIX_EPOCH))
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.to_rfc3339_opts(SecondsFormat::Millis, true))
    }
}

/// The same text as `Display` (RFC 3339, milliseconds, `Z`), written by hand for years 0–9999:
/// `Display` allocates chrono's string, and `collect_str` makes serde_json escape it piece by piece
/// (a sixth of the JSON of a history read; BENCHMARKS.md, issue 4).
impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match rfc3339_millis(&self.0).as_ref().map(|text| std::str::from_utf8(text)) {
            Some(Ok(text)) => serializer.serialize_str(text),
            _ => serializer.collect_str(self),
        }
    }
}

/// `YYYY-MM-DDTHH:MM:SS.mmmZ`, or `None` where chrono writes something else (years outside
/// 0–9999, a leap second).
fn rfc3339_millis(time: &DateTime<Utc>) -> Option<[u8; 24]> {
    use chrono::{Datelike, Timelike};
    let year = time.year();
    let nanos = time.nanosecond();
    if !(0..=9999).contains(&year) || nanos >= 1_000_000_000 {
        return None;
    }
    let mut text = *b"0000-00-00T00:00:00.000Z";
    write_digits(&mut text[0..4], year as u32);
    write_digits(&mut text[5..7], time.month());
    write_digits(&mut text[8..10], time.day());
    write_digits(&mut text[11..13], time.hour());
    write_digits(&mut text[14..16], time.minute());
    write_digits(&mut text[17..19], time.second());
    write_digits(&mut text[20..23], nanos / 1_000_000);
    Some(text)
}

impl Encode for Timestamp {
    fn encode<E: Encoder>(&self, encoder: &mut E) -> Result<(), EncodeError> {
        self.millis().encode(encoder)
    }
}

impl<Context> Decode<Context> for Timestamp {
    fn decode<D: Decoder<Context = Context>>(decoder: &mut D) -> Result<Self, DecodeError> {
        Timestamp::from_millis(i64::decode(decoder)?).ok_or(DecodeError::Other("timestamp out of range"))
    }
}
bincode::impl_borrow_decode!(Timestamp);

/// Who recorded an event: the actor id of a credential (a token's id, never the token itself), or
/// a name for the system's own writers such as `system:demo`.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Serialize, Deserialize, Encode, Decode)]
#[serde(transparent)]
pub struct Actor(pub String);

impl fmt::Display for Actor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An event as the caller proposes it, before the store gives it a place in the log.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct NewEvent {
    /// Client-chosen for idempotent retries; the store generates a UUID v7 otherwise.
    pub id: Option<EventId>,
    pub occurred_on: Date,
    pub step: Step,
}

/// An event as stored and read back. `prev_hash` chains the whole log, `stream_prev_hash` chains
/// the stream, so one history can be verified on its own (SHA-256 of the previous event's stored
/// bytes, zero for the first).
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Envelope {
    pub id: EventId,
    pub stream: StreamId,
    /// 1-based, gap-free within the stream.
    pub version: u32,
    /// 1-based, gap-free in the whole log.
    pub position: u64,
    pub occurred_on: Date,
    pub recorded_at: Timestamp,
    pub recorded_by: Actor,
    /// Without its free text when `sealed_text` holds it (see `free_text`).
    pub step: Step,
    /// The whole step, free text included, sealed with the person's key and bound to the stream
    /// and the event: opened only for readers allowed the identity, gone with the key.
    pub sealed_text: Option<Sealed>,
    pub prev_hash: [u8; 32],
    pub stream_prev_hash: [u8; 32],
}

/// Encoded as the fields in order, the step preceded by [`SEALED_TEXT_TAG`] and the sealed whole
/// when there is one: an envelope without sealed text keeps the bytes of record formats 1–4.
impl Encode for Envelope {
    fn encode<E: Encoder>(&self, encoder: &mut E) -> Result<(), EncodeError> {
        self.id.encode(encoder)?;
        self.stream.encode(encoder)?;
        self.version.encode(encoder)?;
        self.position.encode(encoder)?;
        self.occurred_on.encode(encoder)?;
        self.recorded_at.encode(encoder)?;
        self.recorded_by.encode(encoder)?;
        if let Some(sealed) = &self.sealed_text {
            SEALED_TEXT_TAG.encode(encoder)?;
            sealed.encode(encoder)?;
        }
        self.step.encode(encoder)?;
        self.prev_hash.encode(encoder)?;
        self.stream_prev_hash.encode(encoder)
    }
}

impl<Context> Decode<Context> for Envelope {
    fn decode<D: Decoder<Context = Context>>(decoder: &mut D) -> Result<Self, DecodeError> {
        let id = Decode::decode(decoder)?;
        let stream = Decode::decode(decoder)?;
        let version = Decode::decode(decoder)?;
        let position = Decode::decode(decoder)?;
        let occurred_on = Decode::decode(decoder)?;
        let recorded_at = Decode::decode(decoder)?;
        let recorded_by = Decode::decode(decoder)?;
        let (sealed_text, step) = match u32::decode(decoder)? {
            SEALED_TEXT_TAG => (Some(Sealed::decode(decoder)?), Step::decode(decoder)?),
            tag => (None, Step::decode_tagged(tag, decoder)?),
        };
        Ok(Envelope {
            id,
            stream,
            version,
            position,
            occurred_on,
            recorded_at,
            recorded_by,
            step,
            sealed_text,
            prev_hash: Decode::decode(decoder)?,
            stream_prev_hash: Decode::decode(decoder)?,
        })
    }
}
bincode::impl_borrow_decode!(Envelope);
