//! The benchmarks' generated log: its seed and last day (shared by every benchmark, so that the
//! stores, the fold and the reports see the same people), and the log as envelopes in log order
//! without a store, for the benchmarks that fold it straight into projections (`fold`, the reports
//! benchmark of `server`).

use std::collections::HashMap;

use parcours_core::store::Seeded;
use parcours_core::vocabulary::{Envelope, EventId, StreamId};

/// The seed of every benchmark log.
pub const SEED: u64 = 2026;
/// The last day of every benchmark history; the year of the outcome query lies inside it.
pub const TODAY: &str = "2026-10-31";

/// Numbers `seeded` as the store would (positions from 1, versions per stream) into the store's
/// envelopes, hashes aside: no projection reads them.
pub fn envelopes(seeded: impl IntoIterator<Item = Seeded>) -> impl Iterator<Item = Envelope> {
    let mut versions: HashMap<StreamId, u32> = HashMap::new();
    (1u64..).zip(seeded).map(move |(position, seeded)| {
        let version = versions.entry(seeded.stream).or_default();
        *version += 1;
        Envelope {
            id: seeded.event.id.unwrap_or_else(EventId::generate),
            stream: seeded.stream,
            version: *version,
            position,
            occurred_on: seeded.event.occurred_on,
            recorded_at: seeded.recorded_at,
            recorded_by: seeded.recorded_by,
            step: seeded.event.step,
            sealed_text: None,
            prev_hash: [0; 32],
            stream_prev_hash: [0; 32],
        }
    })
}
