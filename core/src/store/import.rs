//! Restoring an exported log: same positions, ids, dates and hashes, checked while written.

use std::collections::HashMap;
use std::fs::File;

use super::page::{self, Hash, PageBuilder};
use super::writer::sync;
use super::{stream_key, Location, StoreError, Trees};
use crate::limits::{EVENT_BYTES_MAX, PAGE_BYTES_MAX, PAGE_EVENTS_MAX};
use crate::vocabulary::{Envelope, StreamId};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImportReport {
    pub events: u64,
    pub head_hash: Hash,
}

/// Events per durability point while importing: large, since nothing is acknowledged before the end.
const IMPORT_SYNC_EVERY: u64 = 100_000;

pub(crate) fn import(
    trees: &Trees,
    data_file: &File,
    envelopes: impl Iterator<Item = Result<Envelope, StoreError>>,
) -> Result<ImportReport, StoreError> {
    if !trees.log.is_empty() {
        return Err(StoreError::NotEmpty);
    }
    let mut prev_hash: Hash = [0; 32];
    let mut streams: HashMap<StreamId, (u32, Hash)> = HashMap::new();
    let mut builder = PageBuilder::new();
    let mut page_key = 1u64;
    let mut position = 0u64;
    for envelope in envelopes {
        let envelope = envelope?;
        position += 1;
        let refuse = |problem: String| StoreError::Import { position, problem };
        if envelope.position != position {
            return Err(refuse(format!("expected position {position}, found {}", envelope.position)));
        }
        if envelope.prev_hash != prev_hash {
            return Err(refuse(format!(
                "the hash chain breaks here: the event at position {} was changed, or events are missing or reordered",
                position - 1
            )));
        }
        let (version, stream_hash) = streams.get(&envelope.stream).copied().unwrap_or((0, [0; 32]));
        if envelope.version != version + 1 || envelope.stream_prev_hash != stream_hash {
            return Err(refuse(format!("stream {} does not continue at version {}", envelope.stream, version + 1)));
        }
        let record = page::encode_record(&envelope)?;
        if record.len() > EVENT_BYTES_MAX {
            return Err(refuse(format!("the event takes {} bytes, over the limit", record.len())));
        }
        let full = builder.count() == PAGE_EVENTS_MAX
            || builder.len_bytes() + PageBuilder::framed_len(&record) > PAGE_BYTES_MAX;
        if full {
            let page = std::mem::replace(&mut builder, PageBuilder::new()).finish();
            trees.log.insert(page::position_key(page_key), page)?;
            page_key = position;
            if position % IMPORT_SYNC_EVERY == 0 {
                sync(trees, data_file)?;
            }
        }
        let location = Location { page: page_key, index: builder.count() as u16 };
        builder.push(&record);
        trees.streams.insert(stream_key(envelope.stream, envelope.version), &location.to_bytes())?;
        let mut id_value = [0u8; 18];
        id_value[..8].copy_from_slice(&position.to_be_bytes());
        id_value[8..].copy_from_slice(&location.to_bytes());
        if trees.ids.insert(envelope.id.as_bytes(), &id_value)?.is_some() {
            return Err(refuse(format!("event id {} appears twice", envelope.id)));
        }
        let hash = page::hash(&record);
        streams.insert(envelope.stream, (envelope.version, hash));
        prev_hash = hash;
    }
    if builder.count() > 0 {
        trees.log.insert(page::position_key(page_key), builder.finish())?;
    }
    sync(trees, data_file)?;
    Ok(ImportReport { events: position, head_hash: prev_hash })
}
