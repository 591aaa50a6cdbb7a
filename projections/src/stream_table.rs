//! The map from stream ids to beneficiary numbers that the fold looks up for every event.
//!
//! Why not a `HashMap`: at national size the map outgrows the processor's caches, the log meets
//! its 300,000 people in random order, and each lookup waits for memory. `HashMap` gives no way
//! to start those loads early; here a key's slot follows from its hash alone, so
//! [`Projections::apply_all`](crate::Projections::apply_all) hashes a page's streams and asks for
//! their slots ([`StreamTable::prefetch`]) before probing any of them. Measured on the fold of the
//! 10M log: BENCHMARKS.md ("Projections").
//!
//! Open addressing, linear probing, at most half full; slots hold the whole key. Nothing is ever
//! removed: a stream, once seen, keeps its number.

use parcours_core::vocabulary::StreamId;

use crate::beneficiary::BeneficiaryIx;
use crate::prefetch::prefetch;

/// The number of an empty slot: beneficiaries are numbered from 0 and fewer than `u32::MAX`.
const EMPTY: BeneficiaryIx = BeneficiaryIx::MAX;

#[derive(Clone, Debug, Default)]
pub(crate) struct StreamTable {
    /// A power of two of them, or none.
    slots: Vec<Slot>,
    len: usize,
    /// foldhash's per-process random seed keeps chosen stream ids from colliding on purpose.
    hasher: foldhash::fast::RandomState,
}

#[derive(Clone, Copy, Debug)]
struct Slot {
    stream: StreamId,
    ix: BeneficiaryIx,
}

const VACANT: Slot = Slot { stream: StreamId(uuid::Uuid::nil()), ix: EMPTY };

/// A stream's hash, as [`StreamTable::hash`] gives it.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Hashed(u64);

impl StreamTable {
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    pub(crate) fn hash(&self, stream: &StreamId) -> Hashed {
        use std::hash::BuildHasher;
        Hashed(self.hasher.hash_one(stream))
    }

    /// Starts loading the slot where a lookup of `hash` begins, without waiting for it.
    pub(crate) fn prefetch(&self, hash: Hashed) {
        if let Some(slot) = self.slots.get(self.home(hash)) {
            // A slot may straddle two cache lines.
            prefetch(slot);
            prefetch((slot as *const Slot).cast::<u8>().wrapping_add(size_of::<Slot>() - 1));
        }
    }

    pub(crate) fn get(&self, stream: &StreamId) -> Option<BeneficiaryIx> {
        self.get_hashed(self.hash(stream), stream)
    }

    /// [`StreamTable::get`], given the stream's hash.
    pub(crate) fn get_hashed(&self, hash: Hashed, stream: &StreamId) -> Option<BeneficiaryIx> {
        let mask = self.slots.len().checked_sub(1)?;
        let mut at = self.home(hash);
        loop {
            let slot = self.slots[at];
            if slot.ix == EMPTY {
                return None;
            }
            if slot.stream == *stream {
                return Some(slot.ix);
            }
            at = (at + 1) & mask;
        }
    }

    /// Adds a stream that the table does not hold.
    pub(crate) fn insert(&mut self, stream: StreamId, ix: BeneficiaryIx) {
        debug_assert!(self.get(&stream).is_none(), "a stream is numbered once");
        self.reserve(1);
        self.place(Slot { stream, ix });
        self.len += 1;
    }

    /// Makes room for `additional` more streams without growing.
    pub(crate) fn reserve(&mut self, additional: usize) {
        let needed = (self.len + additional).saturating_mul(2).next_power_of_two();
        if needed <= self.slots.len() {
            return;
        }
        let old = std::mem::replace(&mut self.slots, vec![VACANT; needed]);
        for slot in old.into_iter().filter(|slot| slot.ix != EMPTY) {
            self.place(slot);
        }
    }

    /// Puts `slot` in the first empty slot from its home; the table has one (at most half full).
    fn place(&mut self, slot: Slot) {
        let mask = self.slots.len() - 1;
        let mut at = self.home(self.hash(&slot.stream));
        while self.slots[at].ix != EMPTY {
            at = (at + 1) & mask;
        }
        self.slots[at] = slot;
    }

    fn home(&self, hash: Hashed) -> usize {
        // `slots.len()` is a power of two (or zero, and then nothing is read).
        hash.0 as usize & self.slots.len().wrapping_sub(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_what_was_inserted_through_growth() {
        let mut table = StreamTable::default();
        assert_eq!(table.get(&StreamId(uuid::Uuid::from_u128(1))), None);
        let streams: Vec<StreamId> = (0..10_000u128).map(|n| StreamId(uuid::Uuid::from_u128(n * 7919))).collect();
        for (ix, stream) in streams.iter().enumerate() {
            table.insert(*stream, ix as BeneficiaryIx);
        }
        assert_eq!(table.len(), streams.len());
        for (ix, stream) in streams.iter().enumerate() {
            let hash = table.hash(stream);
            table.prefetch(hash);
            assert_eq!(table.get_hashed(hash, stream), Some(ix as BeneficiaryIx));
        }
        assert_eq!(table.get(&StreamId(uuid::Uuid::from_u128(3))), None);
    }
}
