//! The envelope of CONTRACT §2: a step as the store accepted it.

use std::fmt;

use bincode::de::Decoder;
use bincode::enc::Encoder;
use bincode::error::{DecodeError, EncodeError};
use bincode::{Decode, Encode};
use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize, Serializer};

use super::steps::Step;
use super::values::{Date, EventId, StreamId};

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

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
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
#[derive(Clone, PartialEq, Eq, Debug, Encode, Decode)]
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
    pub step: Step,
    pub prev_hash: [u8; 32],
    pub stream_prev_hash: [u8; 32],
}
