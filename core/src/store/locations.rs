//! Where each stream's events lie, kept in memory for the streams read or written lately.
//!
//! Reading a stream through the `streams` tree costs a sled iterator, which descends the tree
//! again for every entry: the largest single item of a history read over HTTP (BENCHMARKS.md,
//! issue 4). The list of a stream's locations is small (one `Location` per event) and changes only
//! by growing at its end, so it is kept here, filled from the index on a stream's first read and
//! extended by the writer.
//!
//! Correctness rests on two orderings:
//! - a miss reads the index **under its shard's lock**, and the writer extends a list under the
//!   same lock after its index entries are written. Whatever the interleaving, the writer's
//!   extension either comes after the loaded list is in place (and extends it, or finds its events
//!   there already) or the load read the index after the writer wrote it (and saw the events);
//! - the writer extends a list only when the event is the next version of what the list holds; a
//!   list that does not match what the writer wrote is dropped, to be loaded again from the index.
//!
//! The index stays the source the lists are built from: after a reopen (and its repair) the cache
//! starts empty.

use std::sync::{Mutex, PoisonError};

use lru::LruCache;

use super::{Location, StoreError};
use crate::limits::LOCATION_CACHE_EVENTS_MAX;
use crate::vocabulary::StreamId;

/// Shards, so that readers of different streams and the writer rarely wait on one another.
const SHARDS: usize = 16;

/// Locations a shard holds at most; least recently used streams leave first.
const SHARD_EVENTS_MAX: usize = LOCATION_CACHE_EVENTS_MAX / SHARDS;

struct Shard {
    /// Unbounded in streams: the bound is `events`, kept under `SHARD_EVENTS_MAX`.
    streams: LruCache<StreamId, Vec<Location>>,
    events: usize,
}

impl Shard {
    fn insert(&mut self, stream: StreamId, locations: Vec<Location>) {
        if locations.len() > SHARD_EVENTS_MAX {
            return;
        }
        self.events += locations.len();
        if let Some(old) = self.streams.put(stream, locations) {
            self.events -= old.len();
        }
        self.evict();
    }

    fn remove(&mut self, stream: &StreamId) {
        if let Some(old) = self.streams.pop(stream) {
            self.events -= old.len();
        }
    }

    fn evict(&mut self) {
        while self.events > SHARD_EVENTS_MAX {
            match self.streams.pop_lru() {
                Some((_, old)) => self.events -= old.len(),
                None => break,
            }
        }
    }
}

pub(crate) struct StreamLocations {
    shards: Box<[Mutex<Shard>]>,
}

impl Default for StreamLocations {
    fn default() -> Self {
        let shards = (0..SHARDS).map(|_| Mutex::new(Shard { streams: LruCache::unbounded(), events: 0 })).collect();
        StreamLocations { shards }
    }
}

impl StreamLocations {
    fn shard(&self, stream: &StreamId) -> std::sync::MutexGuard<'_, Shard> {
        // UUIDs v4 and v7 both end in random bits.
        let index = stream.as_bytes()[15] as usize % SHARDS;
        self.shards[index].lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The stream's locations in version order, from memory, or from `load` (the index) on a miss.
    /// `load` runs under the shard's lock (see the module's comment for why) and says whether its
    /// list is gap-free; only then is it remembered.
    pub(crate) fn get_or_load(
        &self,
        stream: StreamId,
        load: impl FnOnce() -> Result<(Vec<Location>, bool), StoreError>,
    ) -> Result<Vec<Location>, StoreError> {
        let mut shard = self.shard(&stream);
        if let Some(locations) = shard.streams.get(&stream) {
            return Ok(locations.clone());
        }
        let (locations, gap_free) = load()?;
        // An unknown stream is not remembered: anyone may ask for any id.
        if gap_free && !locations.is_empty() {
            shard.insert(stream, locations.clone());
        }
        Ok(locations)
    }

    /// The writer has written the index entry of `stream`'s event `version` at `location`.
    pub(crate) fn appended(&self, stream: StreamId, version: u32, location: Location) {
        let mut shard = self.shard(&stream);
        let Some(version) = (version as usize).checked_sub(1) else { return };
        match shard.streams.get_mut(&stream) {
            Some(locations) if locations.len() == version => {
                locations.push(location);
                shard.events += 1;
                shard.evict();
            }
            // Loaded from an index that already held this event.
            Some(locations) if locations.get(version) == Some(&location) => {}
            // A gap or a different location: never expected, but the index is the truth.
            Some(_) => shard.remove(&stream),
            // A new stream's list is complete with its first event; any other is loaded when read.
            None if version == 0 => shard.insert(stream, vec![location]),
            None => {}
        }
    }

    /// The stream's list if it is in memory, without loading it (tests).
    #[cfg(test)]
    pub(crate) fn cached(&self, stream: StreamId) -> Option<Vec<Location>> {
        self.shard(&stream).streams.peek(&stream).cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(page: u64, index: u16) -> Location {
        Location { page, index }
    }

    #[test]
    fn the_writer_extends_a_loaded_list_and_skips_what_the_load_already_saw() {
        let cache = StreamLocations::default();
        let stream = StreamId::generate();
        let loaded = cache.get_or_load(stream, || Ok((vec![at(1, 0), at(2, 0)], true))).unwrap();
        assert_eq!(loaded, vec![at(1, 0), at(2, 0)]);
        // Version 2 was in the index when the load ran: nothing to add.
        cache.appended(stream, 2, at(2, 0));
        cache.appended(stream, 3, at(5, 1));
        assert_eq!(cache.cached(stream), Some(vec![at(1, 0), at(2, 0), at(5, 1)]));
        let read = cache.get_or_load(stream, || panic!("a cached list is not loaded again")).unwrap();
        assert_eq!(read.len(), 3);
    }

    #[test]
    fn a_list_that_disagrees_with_the_writer_is_dropped_and_loaded_again() {
        let cache = StreamLocations::default();
        let (gap, other) = (StreamId::generate(), StreamId::generate());
        cache.get_or_load(gap, || Ok((vec![at(1, 0)], true))).unwrap();
        cache.appended(gap, 3, at(9, 0));
        assert_eq!(cache.cached(gap), None);
        cache.get_or_load(other, || Ok((vec![at(1, 0), at(2, 0)], true))).unwrap();
        cache.appended(other, 2, at(3, 0));
        assert_eq!(cache.cached(other), None);
    }

    #[test]
    fn only_a_first_event_starts_a_list_and_unknown_streams_are_not_kept() {
        let cache = StreamLocations::default();
        let (new, old, unknown) = (StreamId::generate(), StreamId::generate(), StreamId::generate());
        cache.appended(new, 1, at(7, 3));
        assert_eq!(cache.cached(new), Some(vec![at(7, 3)]));
        cache.appended(old, 12, at(8, 0));
        assert_eq!(cache.cached(old), None);
        assert!(cache.get_or_load(unknown, || Ok((Vec::new(), true))).unwrap().is_empty());
        assert_eq!(cache.cached(unknown), None);
        // A list with a gap is answered as the index has it, and loaded again next time.
        let gappy = StreamId::generate();
        assert_eq!(cache.get_or_load(gappy, || Ok((vec![at(1, 0), at(3, 0)], false))).unwrap().len(), 2);
        assert_eq!(cache.cached(gappy), None);
    }

    #[test]
    fn a_shard_keeps_to_its_budget_by_dropping_the_least_recently_used() {
        let cache = StreamLocations::default();
        let long = vec![at(1, 0); SHARD_EVENTS_MAX / 2];
        // Three streams of the same shard, each half a shard's budget.
        let streams: Vec<StreamId> = std::iter::repeat_with(StreamId::generate)
            .filter(|stream| stream.as_bytes()[15] as usize % SHARDS == 0)
            .take(3)
            .collect();
        for stream in &streams {
            cache.get_or_load(*stream, || Ok((long.clone(), true))).unwrap();
        }
        assert_eq!(cache.cached(streams[0]), None);
        assert!(cache.cached(streams[1]).is_some() && cache.cached(streams[2]).is_some());
        let too_long = vec![at(1, 0); SHARD_EVENTS_MAX + 1];
        let stream = StreamId::generate();
        assert_eq!(cache.get_or_load(stream, || Ok((too_long.clone(), true))).unwrap().len(), SHARD_EVENTS_MAX + 1);
        assert_eq!(cache.cached(stream), None);
    }
}
