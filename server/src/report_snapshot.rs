//! A published report's snapshot (issue 19, item 4): what the report reads of the fold at the
//! position it counted (`parcours_projections::report` inputs), kept beside the log when it is
//! published, so that reproducing it after a restart computes it from those inputs instead of
//! folding the whole log up to its position (about 35 s for 100 million events).
//!
//! Why the fold's state and not the published bytes: a reproduction must derive the report again
//! and check it against the digests the publication recorded, so that a change of the code that
//! changes a published figure is refused rather than served. From the inputs, the report is
//! computed by the code that computes it live (the walk, the sections, the definitions, the
//! rendering) and checked as after a fold. The per-person fold itself is taken as of the code that
//! cut the inputs; the inputs carry their format, bumped with any change to that fold (a test pins
//! it), and inputs of another format are not read: see `parcours_projections::report::inputs`.
//!
//! A snapshot is never the last word: missing (published before snapshots existed, or by a build
//! that could not write it), damaged (its checksum: `Store::snapshot`), of another format, of
//! another position, or giving other bytes than the digests — each falls back to the fold, which
//! then keeps a new snapshot. So a snapshot saves a fold or costs nothing; it cannot change an
//! answer, since every answer is checked against the digests recorded in the log.
//!
//! Outside the log: the log holds events only and a snapshot is derived, so it is a file of its
//! own (`snapshots/<publication id>.snap` in the data directory, written whole and synced). It
//! holds no personal data (no identity, no sealed answer: the fold has none), nothing that an
//! erasure takes out of the log, so an erasure leaves it as it is. Backups do not carry snapshots:
//! a backup is the log (and the keys), everything else is derived; a store restored from one folds
//! once per publication asked, and keeps its snapshot then.

use std::time::Instant;

use parcours_core::store::{SnapshotRead, Store, StoreError};
use parcours_core::vocabulary::{EventId, ReportPublished};
use parcours_projections::report::InputsError;
use parcours_projections::Projections;
use thiserror::Error;

use crate::publication::{self, PublicationError, Reproduced};

/// Why a publication's snapshot was not used: the fold is done instead.
#[derive(Debug, Error)]
pub enum Unused {
    #[error("no snapshot")]
    Missing,
    #[error("the snapshot is damaged: {0}")]
    Damaged(String),
    #[error("the snapshot could not be read: {0}")]
    Store(#[from] StoreError),
    #[error(transparent)]
    Inputs(#[from] InputsError),
    #[error("the snapshot stands at position {found}, the publication counted {published}")]
    OtherPosition { found: u64, published: u64 },
    #[error("the report from the snapshot is not the one published: {0}")]
    Report(#[from] PublicationError),
}

/// Keeps what `projections` give the publication's report as the snapshot of `publication`. The
/// projections stand at the position it counted; `inputs` are theirs
/// ([`Projections::report_inputs`] of the publication's question).
pub fn keep(store: &Store, publication: EventId, inputs: &[u8]) -> Result<(), StoreError> {
    store.keep_snapshot(publication, inputs)
}

/// The inputs of a publication's report, from projections that stand at its position.
pub fn inputs_of(projections: &Projections, published: &ReportPublished) -> Result<Vec<u8>, PublicationError> {
    Ok(projections.report_inputs(&publication::question(published)?)?)
}

/// The publication recorded by the event `publication`, computed from its snapshot and checked
/// against its digests; with its lists when `listed` (`publication::reproduce_at`).
pub fn reproduce(
    store: &Store,
    publication: EventId,
    published: &ReportPublished,
    listed: bool,
) -> Result<Reproduced, Unused> {
    let started = Instant::now();
    let bytes = match store.snapshot(publication)? {
        SnapshotRead::Found(bytes) => bytes,
        SnapshotRead::Missing => return Err(Unused::Missing),
        SnapshotRead::Unusable(why) => return Err(Unused::Damaged(why)),
    };
    let (read, size) = (started.elapsed(), bytes.len());
    let projections = Projections::from_report_inputs(&bytes)?;
    drop(bytes);
    let decoded = started.elapsed();
    let found = projections.applied_position();
    if found != published.position {
        return Err(Unused::OtherPosition { found, published: published.position });
    }
    let reproduced = publication::reproduce_at(&projections, published, listed)?;
    // Where the time goes, for BENCHMARKS.md and for an operator wondering (a few a day).
    tracing::info!(
        publication = %publication,
        bytes = size,
        read_ms = read.as_millis() as u64,
        decode_ms = (decoded - read).as_millis() as u64,
        report_ms = (started.elapsed() - decoded).as_millis() as u64,
        "published report reproduced from its snapshot"
    );
    Ok(reproduced)
}
