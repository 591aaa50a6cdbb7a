//! Who read one person's history or identity, newest first, a page at a time, each reader with
//! the role and label of their token.

use parcours_core::store::{Store, StoreError};
use parcours_core::vocabulary::{StreamId, Timestamp};

use super::{reader, readers, Reader};

/// One read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Read {
    pub at: Timestamp,
    pub reader: Reader,
    /// What was read, as the access log records it (`fiche`, `audit`, `history`, `export`, …).
    pub what: String,
}

/// One page of a person's access log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccessLogPage {
    /// Every read recorded for the person.
    pub total: usize,
    /// The reads of this page, newest first.
    pub reads: Vec<Read>,
}

/// The reads `offset..offset + limit`, newest first. The log is not read for whether the person
/// exists: reads of an id that names nobody are worth seeing too.
pub fn access_log(store: &Store, stream: StreamId, offset: usize, limit: usize) -> Result<AccessLogPage, StoreError> {
    let entries = store.access_log(stream)?;
    let readers = readers(store)?;
    let reads = entries
        .iter()
        .rev()
        .skip(offset)
        .take(limit)
        .map(|entry| Read { at: entry.at, reader: reader(&readers, &entry.actor), what: entry.what.clone() })
        .collect();
    Ok(AccessLogPage { total: entries.len(), reads })
}
