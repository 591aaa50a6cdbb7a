//! Index entries gathered in memory during a bulk load and written in key order.
//!
//! Why: written one event at a time, the id index takes one sled insert of a random-looking key
//! and the stream index a read and rewrite of the stream's last chunk. sled appends each change of
//! a leaf to its log and keeps the replaced versions until it cleans a segment, so a 1M-event
//! generated store took 7.3 times its encoded bytes on disk, and the inserts were most of the
//! generator's time (BENCHMARKS.md, issue 19). Sorted, each leaf of `ids` and each chunk of
//! `stream_chunks` is written about once per run.
//!
//! A run holds at most [`RUN_EVENTS`] events (about 60 bytes each here), so that a load of any
//! size keeps a bounded memory; each later run checks its ids against the ones already written.

use std::collections::HashMap;

use super::stream_index;
use super::{Location, StoreError, Trees};
use crate::vocabulary::{EventId, StreamId};

/// Events per run: 8 million take about half a gigabyte while gathered.
pub(crate) const RUN_EVENTS: usize = 8 * 1024 * 1024;

/// The stream index entries of one stream, from its first version not yet written.
struct StreamRun {
    first_version: u32,
    locations: Vec<Location>,
}

#[derive(Default)]
pub(crate) struct IndexRun {
    ids: Vec<([u8; 16], u64, Location)>,
    streams: HashMap<StreamId, StreamRun>,
    /// Whether a run was written before this one: its ids must then be checked against the tree.
    written_before: bool,
}

impl IndexRun {
    pub(crate) fn len(&self) -> usize {
        self.ids.len()
    }

    /// Gathers the entries of the event at `position`, version `version` of `stream`. Versions of
    /// a stream come in order (the bulk writer checks it).
    pub(crate) fn add(&mut self, id: EventId, stream: StreamId, version: u32, position: u64, location: Location) {
        self.ids.push((*id.as_bytes(), position, location));
        self.streams
            .entry(stream)
            .or_insert_with(|| StreamRun { first_version: version, locations: Vec::new() })
            .locations
            .push(location);
    }

    /// Writes the gathered entries in key order and empties the run. An id stored twice is
    /// refused with the position of its second event.
    pub(crate) fn write(&mut self, trees: &Trees) -> Result<(), StoreError> {
        let mut ids = std::mem::take(&mut self.ids);
        ids.sort_unstable_by(|a, b| a.0.cmp(&b.0).then(a.1.cmp(&b.1)));
        if let Some(pair) = ids.windows(2).find(|pair| pair[0].0 == pair[1].0) {
            return Err(twice(pair[0].0, pair[1].1));
        }
        for (id, position, location) in &ids {
            if self.written_before && trees.ids.contains_key(id)? {
                return Err(twice(*id, *position));
            }
            let mut value = [0u8; 18];
            value[..8].copy_from_slice(&position.to_be_bytes());
            value[8..].copy_from_slice(&location.to_bytes());
            trees.ids.insert(id, &value)?;
        }
        drop(ids);
        let mut streams: Vec<(StreamId, StreamRun)> = std::mem::take(&mut self.streams).into_iter().collect();
        streams.sort_unstable_by_key(|(stream, _)| *stream.as_bytes());
        for (stream, run) in streams {
            stream_index::extend(&trees.streams, stream, run.first_version, &run.locations)?;
        }
        self.written_before = true;
        Ok(())
    }
}

fn twice(id: [u8; 16], position: u64) -> StoreError {
    StoreError::Import { position, problem: format!("event id {} appears twice", uuid::Uuid::from_bytes(id)) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::StoreOptions;

    #[test]
    fn runs_write_sorted_entries_that_read_back_and_refuse_an_id_of_an_earlier_run() {
        let dir = tempfile::tempdir().unwrap();
        let (trees, _) = super::super::open_trees(dir.path(), &StoreOptions::default()).unwrap();
        let streams = [StreamId::generate(), StreamId::generate()];
        let ids: Vec<EventId> = (0..200).map(|_| EventId::generate()).collect();
        let at = |position: u64| Location { page: position - position % 64, index: (position % 64) as u16 };
        let mut run = IndexRun::default();
        // Two runs, the second continuing each stream's last chunk in its middle.
        for (n, id) in ids.iter().enumerate() {
            let position = n as u64 + 1;
            run.add(*id, streams[n % 2], (n / 2) as u32 + 1, position, at(position));
            if n == 130 {
                run.write(&trees).unwrap();
            }
        }
        run.write(&trees).unwrap();
        for stream in [0, 1] {
            let (locations, whole) = stream_index::locations(&trees.streams, streams[stream]).unwrap();
            assert!(whole);
            let expected: Vec<Location> = (0..100).map(|n| at(2 * n + stream as u64 + 1)).collect();
            assert_eq!(locations, expected);
        }
        for (n, id) in ids.iter().enumerate() {
            let value = trees.ids.get(id.as_bytes()).unwrap().unwrap();
            assert_eq!(value[..8], (n as u64 + 1).to_be_bytes());
            assert_eq!(Location::from_bytes(&value[8..]), Some(at(n as u64 + 1)));
        }

        run.add(ids[7], streams[0], 101, 201, at(201));
        let refused = run.write(&trees);
        assert!(matches!(refused, Err(StoreError::Import { position: 201, .. })), "{refused:?}");
    }
}
