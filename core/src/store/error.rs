//! The store's errors: what went wrong with the disk, and why an append was refused.

use std::path::PathBuf;

use super::keys::KeyError;
use crate::rules::Violation;
use crate::vocabulary::EventId;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(
        "the store at {0} is in use by another process (is `parcours serve` running on it?); \
         stop it or use the HTTP API"
    )]
    Locked(PathBuf),
    #[error("storage error: {0}")]
    Sled(#[from] sled::Error),
    #[error("I/O error on {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("the log is damaged at page {page}: {detail}")]
    Damaged { page: u64, detail: String },
    #[error("an event could not be encoded: {0}")]
    Encode(String),
    #[error(transparent)]
    Keys(#[from] KeyError),
    /// The keys of a batch of new people ([`super::Store::append_many`]) could not all be made
    /// durable: nothing that would seal with them was appended.
    #[error("the keys of new people could not be made durable, so nothing was recorded for them: {0}")]
    KeysNotDurable(String),
    #[error("the store stopped accepting writes after a write failure; restart it (it repairs itself on open)")]
    Poisoned,
    #[error("the store is closed")]
    Closed,
    #[error("the store is not empty: import needs an empty data directory")]
    NotEmpty,
    /// A restore or a seeding (`parcours generate`, the demo) stopped before its end: the log
    /// holds part of it, without all of its indexes.
    #[error(
        "the data directory {0} holds a restore or a generated log that did not finish; \
         remove the directory and run the restore or the generation again"
    )]
    Unfinished(PathBuf),
    #[error("import refused at position {position}: {problem}")]
    Import { position: u64, problem: String },
}

/// Why an append was refused. Nothing of a refused append is stored.
#[derive(Debug, thiserror::Error)]
pub enum AppendError {
    #[error("expected version {expected} but the stream is at version {actual}")]
    VersionConflict { expected: u32, actual: u32 },
    #[error("event id {0} is already stored with different content")]
    DuplicateId(EventId),
    #[error("event {index} breaks the rule `{}`: {violation}", violation.rule())]
    Rule { index: usize, violation: Violation },
    #[error("an append carries at least one event")]
    NoEvents,
    #[error("an append carries at most {max} events, this one has {count}")]
    TooManyEvents { count: usize, max: usize },
    #[error("event {index} takes {bytes} bytes once encoded; the limit is {max}")]
    EventTooLarge { index: usize, bytes: usize, max: usize },
    #[error("this credential may not append to this stream")]
    Forbidden,
    #[error("event {index} carries personal data for a beneficiary whose personal data was erased")]
    IdentityErased { index: usize },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Why appends made together ([`super::Store::append_together`]) were refused: the part (its index
/// in the order given) that was, and why. None of them is stored.
#[derive(Debug, thiserror::Error)]
#[error("append {part} of those made together was refused: {error}")]
pub struct PartRefused {
    pub part: usize,
    pub error: AppendError,
}
