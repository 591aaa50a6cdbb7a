//! Snapshots: bytes derived from the log, kept beside it so that a costly fold need not be done
//! again (issue 19, item 4: what a published report needs of the fold at its position).
//!
//! Why files rather than a tree of the log's sled database: the log holds events only, and a
//! snapshot is no event; sled would also put a value this large in blob files, whose names it
//! never syncs (`dirs`). One file per snapshot, `snapshots/<event id>.snap`, named by the event it
//! belongs to (a publication), written whole to a temporary name, synced, renamed and its
//! directory synced: after a crash it is there whole or not at all.
//!
//! A snapshot is never the truth: its reader must be able to do without it (refold the log). So a
//! file that is missing, of another frame version, cut short or whose SHA-256 does not match its
//! bytes reads as [`SnapshotRead::Unusable`], never as an error that stops a request. What the
//! bytes mean is their writer's business (they carry their own format version); this module only
//! frames them:
//!
//! ```text
//! magic "PRCSNAP\0" (8) | frame version, u32 LE | payload length, u64 LE | SHA-256 of payload (32) | payload
//! ```

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::dirs::{create_synced, sync_dir};
use super::StoreError;
use crate::vocabulary::EventId;

/// The directory of snapshots, in the data directory.
pub const SNAPSHOTS_DIR: &str = "snapshots";

const MAGIC: &[u8; 8] = b"PRCSNAP\0";
const FRAME_VERSION: u32 = 1;
const HEADER_BYTES: usize = 8 + 4 + 8 + 32;

/// What reading a snapshot found.
#[derive(Debug, PartialEq, Eq)]
pub enum SnapshotRead {
    /// None was written (or it was removed).
    Missing,
    /// One is there but cannot be trusted: why, for the log.
    Unusable(String),
    /// Its payload, whose checksum matched.
    Found(Vec<u8>),
}

pub(crate) fn path_of(dir: &Path, id: EventId) -> PathBuf {
    dir.join(SNAPSHOTS_DIR).join(format!("{id}.snap"))
}

/// Writes `payload` as the snapshot of `id`, durably, replacing any other.
pub(crate) fn write(dir: &Path, id: EventId, payload: &[u8]) -> Result<(), StoreError> {
    let snapshots = dir.join(SNAPSHOTS_DIR);
    let io = |path: &Path| {
        let path = path.to_owned();
        move |source| StoreError::Io { path, source }
    };
    create_synced(&snapshots).map_err(io(&snapshots))?;
    let path = path_of(dir, id);
    let temporary = path.with_extension("snap.partial");
    let mut header = Vec::with_capacity(HEADER_BYTES);
    header.extend_from_slice(MAGIC);
    header.extend_from_slice(&FRAME_VERSION.to_le_bytes());
    header.extend_from_slice(&(payload.len() as u64).to_le_bytes());
    header.extend_from_slice(&Sha256::digest(payload));
    let written = (|| -> io::Result<()> {
        let mut file = OpenOptions::new().write(true).create(true).truncate(true).open(&temporary)?;
        file.write_all(&header)?;
        file.write_all(payload)?;
        file.sync_all()
    })();
    written.map_err(io(&temporary))?;
    fs::rename(&temporary, &path).map_err(io(&path))?;
    sync_dir(&snapshots).map_err(io(&snapshots))
}

/// Reads the snapshot of `id`. Only an I/O error other than its absence is an error.
pub(crate) fn read(dir: &Path, id: EventId) -> Result<SnapshotRead, StoreError> {
    let path = path_of(dir, id);
    let mut file = match File::open(&path) {
        Ok(file) => file,
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(SnapshotRead::Missing),
        Err(source) => return Err(StoreError::Io { path, source }),
    };
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes).map_err(|source| StoreError::Io { path: path.clone(), source })?;
    Ok(unframe(bytes))
}

/// The payload of a snapshot file's bytes, if its frame holds.
fn unframe(mut bytes: Vec<u8>) -> SnapshotRead {
    let unusable = |why: &str| SnapshotRead::Unusable(why.to_owned());
    let Some((header, payload)) = bytes.split_at_checked(HEADER_BYTES) else {
        return unusable("shorter than its header");
    };
    let (magic, rest) = header.split_at(8);
    if magic != MAGIC {
        return unusable("not a snapshot (no magic)");
    }
    let (version, rest) = rest.split_at(4);
    let (length, digest) = rest.split_at(8);
    let version = u32::from_le_bytes(version.try_into().unwrap_or_default());
    if version != FRAME_VERSION {
        return SnapshotRead::Unusable(format!("frame version {version}, this build reads {FRAME_VERSION}"));
    }
    let length = u64::from_le_bytes(length.try_into().unwrap_or_default());
    if length != payload.len() as u64 {
        return SnapshotRead::Unusable(format!("{} bytes of payload, its header says {length}", payload.len()));
    }
    if Sha256::digest(payload).as_slice() != digest {
        return unusable("its SHA-256 does not match its bytes");
    }
    bytes.drain(..HEADER_BYTES);
    SnapshotRead::Found(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_snapshot_reads_back_whole_and_any_damage_makes_it_unusable() {
        let dir = tempfile::tempdir().unwrap();
        let id = EventId::generate();
        assert_eq!(read(dir.path(), id).unwrap(), SnapshotRead::Missing);
        write(dir.path(), id, b"what a report needs").unwrap();
        assert_eq!(read(dir.path(), id).unwrap(), SnapshotRead::Found(b"what a report needs".to_vec()));
        let path = path_of(dir.path(), id);
        let whole = fs::read(&path).unwrap();
        // A flipped payload byte, a flipped header byte, a cut: each is refused, never returned.
        for (at, what) in [(whole.len() - 1, "payload"), (9, "frame version"), (0, "magic")] {
            let mut damaged = whole.clone();
            damaged[at] ^= 0x20;
            fs::write(&path, &damaged).unwrap();
            assert!(matches!(read(dir.path(), id).unwrap(), SnapshotRead::Unusable(_)), "{what}");
        }
        fs::write(&path, &whole[..whole.len() - 3]).unwrap();
        assert!(matches!(read(dir.path(), id).unwrap(), SnapshotRead::Unusable(_)), "cut short");
        fs::write(&path, &whole[..10]).unwrap();
        assert!(matches!(read(dir.path(), id).unwrap(), SnapshotRead::Unusable(_)), "header cut");
        // Written again, it replaces the damaged one, and no temporary file is left.
        write(dir.path(), id, b"again").unwrap();
        assert_eq!(read(dir.path(), id).unwrap(), SnapshotRead::Found(b"again".to_vec()));
        let names: Vec<_> =
            fs::read_dir(dir.path().join(SNAPSHOTS_DIR)).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names.len(), 1, "{names:?}");
    }
}
