//! Index entries gathered in memory during a bulk load and written in key order.
//!
//! Why: written one event at a time, the id index takes one sled insert of a random-looking key
//! and the stream index a read and rewrite of the stream's last chunk. sled appends each change of
//! a leaf to its log and keeps the replaced versions until it cleans a segment, so a 1M-event
//! generated store took 7.3 times its encoded bytes on disk, and the inserts were most of the
//! generator's time (BENCHMARKS.md, issue 19). Sorted, ids go to packed blocks (`id_blocks`),
//! one set per run, and each chunk of `stream_chunks` is written about once per run.
//!
//! A run holds at most [`RUN_EVENTS`] events (about 40 bytes each while gathered), so that a load
//! of any size keeps a bounded memory; each later run checks its ids against the ones already
//! written.

use std::collections::HashMap;

use super::{id_blocks, stream_index};
use super::{Location, StoreError, Trees};
use crate::vocabulary::{EventId, StreamId};

/// Events per run: 16 million take about 650 MB while gathered, and a national decade (100
/// million events) is then 6 runs, each a block read when an id is looked up.
pub(crate) const RUN_EVENTS: usize = 16 * 1024 * 1024;

/// The stream index entries of one stream, from its first version not yet written.
struct StreamRun {
    first_version: u32,
    locations: Vec<Location>,
}

#[derive(Default)]
pub(crate) struct IndexRun {
    ids: Vec<([u8; 16], u64)>,
    streams: HashMap<StreamId, StreamRun>,
}

impl IndexRun {
    pub(crate) fn len(&self) -> usize {
        self.ids.len()
    }

    /// Gathers the entries of the event at `position`, version `version` of `stream`. Versions of
    /// a stream come in order (the bulk writer checks it).
    pub(crate) fn add(&mut self, id: EventId, stream: StreamId, version: u32, position: u64, location: Location) {
        self.ids.push((*id.as_bytes(), position));
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
        ids.sort_unstable();
        if let Some(pair) = ids.windows(2).find(|pair| pair[0].0 == pair[1].0) {
            return Err(twice(pair[0].0, pair[1].1));
        }
        if let Some(held) = id_blocks::already_held(trees, &ids)? {
            return Err(twice(ids[held].0, ids[held].1));
        }
        let run = trees.id_blocks.runs();
        let last = ids.iter().map(|(_, position)| *position).max().unwrap_or(0);
        if run == u8::MAX || last > id_blocks::POSITION_MAX {
            return Err(StoreError::Import { position: last, problem: "too many events for one bulk load".into() });
        }
        trees.id_blocks.write_run(&ids)?;
        drop(ids);
        let mut streams: Vec<(StreamId, StreamRun)> = std::mem::take(&mut self.streams).into_iter().collect();
        streams.sort_unstable_by_key(|(stream, _)| *stream.as_bytes());
        for (stream, run) in streams {
            stream_index::extend(&trees.streams, stream, run.first_version, &run.locations)?;
        }
        Ok(())
    }
}

fn twice(id: [u8; 16], position: u64) -> StoreError {
    StoreError::Import { position, problem: format!("event id {} appears twice", uuid::Uuid::from_bytes(id)) }
}

#[cfg(test)]
mod tests {
    use super::super::bulk;
    use super::super::tests::{actor, chained, referral, registration};
    use super::super::{open_trees, Store, StoreOptions};
    use crate::vocabulary::Envelope;

    use super::*;

    /// A log of `people` streams of 2 events each, as an export holds it: every registration,
    /// then every referral, so that a stream's two events lie in different runs.
    fn exported(people: usize) -> Vec<Envelope> {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), StoreOptions::default()).unwrap();
        let streams: Vec<StreamId> = (0..people).map(|_| StreamId::generate()).collect();
        for (n, stream) in streams.iter().enumerate() {
            store.append(*stream, None, vec![registration(&format!("P{n}"))], actor()).unwrap();
        }
        for stream in &streams {
            store.append(*stream, None, vec![referral("2024-02-01")], actor()).unwrap();
        }
        store.read_log(0, 10_000).unwrap()
    }

    #[test]
    fn a_load_in_several_runs_finds_every_event_by_id_and_stream_and_verifies() {
        let log = exported(150);
        let dir = tempfile::tempdir().unwrap();
        {
            let (trees, data_file) = open_trees(dir.path(), &StoreOptions::default()).unwrap();
            // Runs end with a page: 300 events in pages of 64 make 5 runs, and each stream's
            // chunk is continued in a later run.
            bulk::import_in_runs(&trees, &data_file, log.clone().into_iter().map(Ok), 7).unwrap();
            assert_eq!(trees.id_blocks.runs(), 5);
            assert_eq!(trees.ids.len(), 0, "a bulk load writes no id key per event");
        }
        let store = Store::open(dir.path(), StoreOptions::default()).unwrap();
        for event in &log {
            assert_eq!(store.read_event(event.id).unwrap().as_ref(), Some(event));
        }
        assert_eq!(store.read_event(EventId::generate()).unwrap(), None);
        let stream = log[0].stream;
        assert_eq!(
            store.read_stream(stream, None).unwrap(),
            log.iter().filter(|e| e.stream == stream).cloned().collect::<Vec<_>>()
        );
        assert!(store.verify().unwrap().is_intact());

        // An append after the load: its id goes to the index of appends, and a retry of a
        // loaded event is recognised from the blocks.
        let appended = store.append(StreamId::generate(), None, vec![registration("Q")], actor()).unwrap();
        assert!(store.read_event(appended.ids[0]).unwrap().is_some());
        assert!(store.verify().unwrap().is_intact());
    }

    #[test]
    fn ids_that_share_their_prefix_are_told_apart_within_a_run_and_across_runs() {
        let mut log = exported(60);
        let sharing = |id: EventId, last: u8| {
            let mut bytes = *id.as_bytes();
            bytes[15] = last;
            EventId(uuid::Uuid::from_bytes(bytes))
        };
        log[5].id = sharing(log[4].id, log[4].id.as_bytes()[15].wrapping_add(1));
        log[100].id = sharing(log[4].id, log[4].id.as_bytes()[15].wrapping_add(2));
        let log = chained(log);
        let dir = tempfile::tempdir().unwrap();
        {
            let (trees, data_file) = open_trees(dir.path(), &StoreOptions::default()).unwrap();
            bulk::import_in_runs(&trees, &data_file, log.clone().into_iter().map(Ok), 5).unwrap();
        }
        let store = Store::open(dir.path(), StoreOptions::default()).unwrap();
        for n in [4, 5, 100] {
            assert_eq!(store.read_event(log[n].id).unwrap().map(|event| event.position), Some(log[n].position));
        }
        let unknown = sharing(log[4].id, log[4].id.as_bytes()[15].wrapping_add(3));
        assert_eq!(store.read_event(unknown).unwrap(), None, "a prefix alone finds nothing");
        assert!(store.verify().unwrap().is_intact());
    }

    #[test]
    fn an_id_of_an_earlier_run_is_refused_at_its_second_event() {
        let mut log = exported(60);
        log[97].id = log[2].id;
        let dir = tempfile::tempdir().unwrap();
        let (trees, data_file) = open_trees(dir.path(), &StoreOptions::default()).unwrap();
        let refused = bulk::import_in_runs(&trees, &data_file, chained(log).into_iter().map(Ok), 5);
        assert!(
            matches!(refused, Err(StoreError::Import { position: 98, ref problem }) if problem.contains("twice")),
            "{refused:?}"
        );
    }
}
