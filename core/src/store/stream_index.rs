//! The stream index: where each event of a stream lies in the log, [`CHUNK`] locations per key.
//!
//! Key: the stream, then the chunk's number (big-endian `u32`); value: the locations of versions
//! `chunk * CHUNK + 1` onwards, [`LOCATION_BYTES`] each, in version order. Only the last chunk of
//! a stream is ever short, and appending rewrites that one value.
//!
//! Why chunks rather than one key per event: sled 0.34 splits a leaf above 16 keys and keeps, from
//! the moment it opens, a few hundred bytes of bookkeeping per leaf: about 46 bytes per key (2
//! million 20-byte keys: 91 MiB resident after opening, 7 MiB once packed 32 to a key). At ten
//! million events one key per event held some 450 MiB before any read (BENCHMARKS.md, issue 3).

use super::{Location, StoreError, Trees};
use crate::vocabulary::StreamId;

/// Locations per key: a history of a few dozen events is one key, and an append rewrites at
/// most 640 bytes.
pub(crate) const CHUNK: u32 = 64;
const LOCATION_BYTES: usize = 10;

/// The name of the tree. Stores written before chunks kept one key per event in `streams`; they
/// are indexed again from the log when opened (`reindex_if_old`).
pub(crate) const TREE: &str = "stream_chunks";
pub(crate) const OLD_TREE: &str = "streams";

fn key(stream: StreamId, chunk: u32) -> [u8; 20] {
    let mut key = [0u8; 20];
    key[..16].copy_from_slice(stream.as_bytes());
    key[16..].copy_from_slice(&chunk.to_be_bytes());
    key
}

/// The chunk and the slot in it of a version (1-based).
fn place(version: u32) -> (u32, usize) {
    let index = version.saturating_sub(1);
    (index / CHUNK, (index % CHUNK) as usize)
}

/// Records where `version` of `stream` lies. Versions are indexed in order; indexing one again
/// at the same place is a no-op (a repair after a crash may meet events already indexed).
pub(crate) fn add(tree: &sled::Tree, stream: StreamId, version: u32, location: Location) -> Result<(), StoreError> {
    let (chunk, slot) = place(version);
    let key = key(stream, chunk);
    let mut value = tree.get(key)?.map(|value| value.to_vec()).unwrap_or_default();
    let start = slot * LOCATION_BYTES;
    match value.len().cmp(&start) {
        std::cmp::Ordering::Equal => {
            value.extend_from_slice(&location.to_bytes());
            tree.insert(key, value)?;
            Ok(())
        }
        std::cmp::Ordering::Greater if value.get(start..).and_then(Location::from_bytes) == Some(location) => Ok(()),
        _ => Err(out_of_order(stream, version, &value, location)),
    }
}

/// Records where versions `first_version..` of `stream` lie, writing each chunk they touch once:
/// the bulk load's way (`index_run`). The stream's index must end just before `first_version`.
pub(crate) fn extend(
    tree: &sled::Tree,
    stream: StreamId,
    first_version: u32,
    locations: &[Location],
) -> Result<(), StoreError> {
    let mut version = first_version;
    let mut rest = locations;
    while let Some(first) = rest.first() {
        let (chunk, slot) = place(version);
        let key = key(stream, chunk);
        let mut value =
            if slot == 0 { Vec::new() } else { tree.get(key)?.map(|value| value.to_vec()).unwrap_or_default() };
        if value.len() != slot * LOCATION_BYTES {
            return Err(out_of_order(stream, version, &value, *first));
        }
        let taken = rest.len().min(CHUNK as usize - slot);
        for location in &rest[..taken] {
            value.extend_from_slice(&location.to_bytes());
        }
        tree.insert(key, value)?;
        rest = &rest[taken..];
        version += taken as u32;
    }
    Ok(())
}

/// A version that does not follow the `chunk` its stream's index ends with: damage.
fn out_of_order(stream: StreamId, version: u32, chunk: &[u8], location: Location) -> StoreError {
    let held = chunk.len() / LOCATION_BYTES;
    Trees::damaged(
        location.page,
        format!("the stream index of {stream} cannot take version {version} after {held} locations"),
    )
}

/// Where `version` of `stream` lies, if indexed.
pub(crate) fn get(tree: &sled::Tree, stream: StreamId, version: u32) -> Result<Option<Location>, StoreError> {
    let (chunk, slot) = place(version);
    let Some(value) = tree.get(key(stream, chunk))? else { return Ok(None) };
    Ok(value.get(slot * LOCATION_BYTES..).and_then(Location::from_bytes))
}

/// The stream's locations in version order, and whether they are whole: every chunk but the last
/// full, in sequence. A reader's scan can overtake the writer (sled's iterator is no snapshot), so
/// a list that is not whole is returned but must not be remembered.
pub(crate) fn locations(tree: &sled::Tree, stream: StreamId) -> Result<(Vec<Location>, bool), StoreError> {
    let mut locations = Vec::new();
    let mut whole = true;
    for entry in tree.scan_prefix(stream.as_bytes()) {
        let (key, value) = entry?;
        let chunk = key.get(16..20).and_then(|bytes| bytes.try_into().ok()).map(u32::from_be_bytes);
        let expected = locations.len() as u64;
        whole &= chunk.map(|chunk| u64::from(chunk) * u64::from(CHUNK)) == Some(expected);
        if value.len() % LOCATION_BYTES != 0 {
            return Err(Trees::damaged(0, "malformed stream index entry"));
        }
        locations.extend(value.chunks_exact(LOCATION_BYTES).filter_map(Location::from_bytes));
    }
    Ok((locations, whole))
}

/// Locations in the whole index: one per event of a sound store.
pub(crate) fn count(tree: &sled::Tree) -> Result<u64, StoreError> {
    let mut count = 0;
    for value in tree.iter().values() {
        count += (value?.len() / LOCATION_BYTES) as u64;
    }
    Ok(count)
}

/// Indexes every event again from the log when the store holds the index of one key per event
/// (`OLD_TREE`), then drops that tree. Runs once, when a store written before chunks is opened.
pub(crate) fn reindex_if_old(trees: &Trees) -> Result<(), StoreError> {
    if !trees.db.tree_names().iter().any(|name| name.as_ref() == OLD_TREE.as_bytes()) {
        return Ok(());
    }
    tracing::info!("indexing the streams again, a chunk of locations per key (once, after an upgrade)");
    for entry in trees.log.iter() {
        let (key, bytes) = entry?;
        let first = super::page::position_from_key(&key).ok_or_else(|| Trees::damaged(0, "malformed page key"))?;
        for (slot, (envelope, _)) in super::decode_page(first, &bytes)?.iter().enumerate() {
            add(&trees.streams, envelope.stream, envelope.version, Location { page: first, index: slot as u16 })?;
        }
    }
    trees.db.drop_tree(OLD_TREE)?;
    trees.db.flush()?;
    Ok(())
}

/// What a crash between a page's write and its index writes leaves: `version` and the versions
/// after it in its chunk unindexed.
#[cfg(test)]
pub(crate) fn forget_from(tree: &sled::Tree, stream: StreamId, version: u32) {
    let (chunk, slot) = place(version);
    let key = key(stream, chunk);
    let value = tree.get(key).unwrap().unwrap();
    tree.insert(key, &value[..slot * LOCATION_BYTES]).unwrap();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_fill_chunks_in_order_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let db = sled::Config::new().path(dir.path()).open().unwrap();
        let tree = db.open_tree(TREE).unwrap();
        let (stream, other) = (StreamId::generate(), StreamId::generate());
        let at = |n: u32| Location { page: u64::from(n) * 7, index: (n % 64) as u16 };
        let versions = 2 * CHUNK + 5;
        for version in 1..=versions {
            add(&tree, stream, version, at(version)).unwrap();
            add(&tree, other, version, at(version + 1000)).unwrap();
        }
        assert_eq!(tree.len(), 6, "three chunks per stream");
        let (read, whole) = locations(&tree, stream).unwrap();
        assert!(whole);
        assert_eq!(read, (1..=versions).map(at).collect::<Vec<_>>());
        assert_eq!(get(&tree, stream, CHUNK + 1).unwrap(), Some(at(CHUNK + 1)));
        assert_eq!(get(&tree, stream, versions + 1).unwrap(), None);
        assert_eq!(count(&tree).unwrap(), u64::from(2 * versions));

        add(&tree, stream, 3, at(3)).unwrap();
        assert!(add(&tree, stream, 3, at(4)).is_err(), "a version indexed elsewhere is damage");
        assert!(add(&tree, stream, versions + 2, at(1)).is_err(), "a version after a gap is damage");

        forget_from(&tree, stream, CHUNK + 3);
        assert_eq!(get(&tree, stream, CHUNK + 3).unwrap(), None);
        let (_, whole) = locations(&tree, stream).unwrap();
        assert!(!whole, "a short chunk before the last one");
    }
}
