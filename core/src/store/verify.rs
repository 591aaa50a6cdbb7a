//! `parcours verify`: the whole log checked end to end, naming the first bad position.

use std::collections::HashMap;

use super::page::{self, frames, Hash};
use super::{Location, StoreError, Trees};
use crate::vocabulary::StreamId;

/// Something wrong at a position of the log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    pub position: u64,
    pub what: String,
}

#[derive(Clone, Debug, Default)]
pub struct VerifyReport {
    pub events: u64,
    pub pages: u64,
    pub streams: u64,
    pub head_hash: Hash,
    /// At most [`PROBLEMS_MAX`], in log order: the first is where the damage starts.
    pub problems: Vec<Problem>,
}

pub const PROBLEMS_MAX: usize = 100;

impl VerifyReport {
    pub fn is_intact(&self) -> bool {
        self.problems.is_empty()
    }

    fn problem(&mut self, position: u64, what: impl Into<String>) {
        if self.problems.len() < PROBLEMS_MAX {
            self.problems.push(Problem { position, what: what.into() });
        }
    }
}

pub(crate) fn verify(trees: &Trees) -> Result<VerifyReport, StoreError> {
    let mut report = VerifyReport::default();
    let mut expected_position = 1u64;
    let mut prev_hash: Hash = [0; 32];
    let mut streams: HashMap<StreamId, (u32, Hash)> = HashMap::new();
    for entry in trees.log.iter() {
        let (key, bytes) = entry?;
        report.pages += 1;
        let Some(first) = page::position_from_key(&key) else {
            report.problem(expected_position, "a page key is not a position");
            continue;
        };
        if first != expected_position {
            report.problem(
                expected_position,
                format!("the log jumps from position {expected_position} to a page at {first}"),
            );
        }
        let frames = match frames(&bytes) {
            Ok(frames) => frames,
            Err(damage) => {
                report.problem(first, format!("page at {first}: {damage}"));
                expected_position = first + 1;
                continue;
            }
        };
        for (index, record) in frames.enumerate() {
            let position = first + index as u64;
            let record = match record {
                Ok(record) => record,
                Err(damage) => {
                    report.problem(position, format!("page at {first}: {damage}"));
                    break;
                }
            };
            let envelope = match page::decode_record(record) {
                Ok(envelope) => envelope,
                Err(error) => {
                    report.problem(position, format!("the event does not decode: {error}"));
                    continue;
                }
            };
            if envelope.position != position {
                report.problem(position, format!("the event says it is at position {}", envelope.position));
            }
            if envelope.prev_hash != prev_hash {
                // The event before no longer hashes to what this one recorded: it is the one that
                // changed (or this one's record of it was).
                report.problem(
                    position.saturating_sub(1).max(1),
                    format!("the event was changed: the hash chain breaks between it and position {position}"),
                );
            }
            let (version, stream_hash) = streams.get(&envelope.stream).copied().unwrap_or((0, [0; 32]));
            if envelope.version != version + 1 {
                report.problem(
                    position,
                    format!("stream {} jumps from version {version} to {}", envelope.stream, envelope.version),
                );
            }
            if envelope.stream_prev_hash != stream_hash {
                report.problem(position, format!("the hash chain of stream {} is broken", envelope.stream));
            }
            let hash = page::hash(record);
            let location = Location { page: first, index: index as u16 };
            match super::stream_index::get(&trees.streams, envelope.stream, envelope.version)? {
                Some(indexed) if indexed == location => {}
                _ => report.problem(position, "the stream index does not point to this event"),
            }
            match trees.position_of_id(envelope.id)? {
                Some((indexed, _)) if indexed == position => {}
                _ => report.problem(position, "the id index does not point to this event"),
            }
            streams.insert(envelope.stream, (envelope.version, hash));
            prev_hash = hash;
            report.events += 1;
            expected_position = position + 1;
        }
    }
    report.streams = streams.len() as u64;
    report.head_hash = prev_hash;
    let ids = trees.ids.len() as u64 + trees.id_blocks.count()?;
    if ids != report.events {
        report.problem(expected_position, format!("the id index holds {ids} entries for {} events", report.events));
    }
    let indexed = super::stream_index::count(&trees.streams)?;
    if indexed != report.events {
        report.problem(
            expected_position,
            format!("the stream index holds {indexed} entries for {} events", report.events),
        );
    }
    Ok(report)
}
