//! Seeded randomness that gives the same demo on every machine and with every version of `rand`.
//!
//! The stream of numbers is ChaCha8, whose output `rand_chacha` keeps stable; everything above it
//! (ranges, weights) is done here in plain integer arithmetic rather than with `rand`'s
//! distributions, whose algorithms may change between versions. Each beneficiary draws from their
//! own ChaCha stream, so a person's history does not depend on how many numbers others used.

use rand_chacha::rand_core::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use uuid::Uuid;

use super::tables::Weighted;

pub struct Dice(ChaCha8Rng);

impl Dice {
    /// The numbers of one stream of one seed: streams of the same seed are independent.
    pub fn new(seed: u64, stream: u64) -> Dice {
        let mut key = [0u8; 32];
        for (index, chunk) in key.chunks_exact_mut(8).enumerate() {
            chunk.copy_from_slice(&mix(seed ^ mix(index as u64 + 1)).to_le_bytes());
        }
        let mut rng = ChaCha8Rng::from_seed(key);
        rng.set_stream(stream);
        Dice(rng)
    }

    /// A number in `0..n` (0 when `n` is 0). Multiply-and-shift: a bias below 2⁻³², no loop.
    pub fn below(&mut self, n: u32) -> u32 {
        ((u64::from(self.0.next_u32()) * u64::from(n)) >> 32) as u32
    }

    /// A number in the inclusive range; `lo` when the range is empty.
    pub fn between(&mut self, (lo, hi): (u32, u32)) -> u32 {
        lo + self.below(hi.saturating_sub(lo) + 1)
    }

    pub fn chance(&mut self, per_mille: u32) -> bool {
        self.below(1000) < per_mille
    }

    /// Index of a weighted choice.
    pub fn pick_index<T>(&mut self, table: &[Weighted<T>]) -> usize {
        let total: u32 = table.iter().map(|(_, weight)| weight).sum();
        let mut roll = self.below(total);
        for (index, (_, weight)) in table.iter().enumerate() {
            if roll < *weight {
                return index;
            }
            roll -= weight;
        }
        table.len().saturating_sub(1)
    }

    pub fn pick<T: Copy>(&mut self, table: &[Weighted<T>]) -> T {
        table[self.pick_index(table)].0
    }

    /// Index of a uniform choice among `len` items (0 when there are none).
    pub fn index(&mut self, len: usize) -> usize {
        self.below(u32::try_from(len).unwrap_or(u32::MAX)) as usize
    }
}

/// A UUID (version 4 layout) for the `n`-th id of a stream of a seed. A keyed hash rather than a
/// draw: a correction needs the id of an event recorded long before it, and computing it from
/// (person, version) keeps no per-person state. Collisions are as unlikely as between random UUIDs.
pub fn uuid(seed: u64, stream: u64, n: u64) -> Uuid {
    let high = mix(mix(seed ^ 0x7061_7263_6f75_7273) ^ mix(stream) ^ n);
    let low = mix(high ^ mix(n.wrapping_add(0x9e37_79b9_7f4a_7c15)) ^ stream.rotate_left(29));
    uuid::Builder::from_random_bytes(((u128::from(high) << 64) | u128::from(low)).to_le_bytes()).into_uuid()
}

/// SplitMix64's finaliser: a bijection of u64 that spreads every input bit.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}
