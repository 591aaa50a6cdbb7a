//! Keys created together, one file per batch (`keys/batches/<uuid>.keys`).
//!
//! An import of 40,000 new people spent most of its time making 40,000 key files durable, each
//! with its own sync (BENCHMARKS.md, issue 17): a file per person is one sync per person whatever
//! is done around it. A batch's keys are therefore written into one file, synced once, given its
//! name by a rename and its directory synced: a few syncs per batch instead of one per person.
//!
//! A file is a header ([`MAGIC`]) then entries of [`ENTRY_BYTES`] bytes: the stream's id, then its
//! key. Erasure overwrites the person's whole entry with zeros in place and syncs the file: the
//! key's bytes are gone from the only place they were written (the file was written once, under
//! a temporary name, then renamed: the rename moves no bytes), and the other keys of the batch
//! stay readable where they were. An entry of zeros is a destroyed key, also when a crash stopped
//! a destruction between its write and the end of its erasure.
//!
//! Which file holds a stream's key is known in memory only: every batch file's ids are read when
//! the store opens (48 bytes per person created this way; a million people is 48 MB read once).
//! A batch file that is not whole (its length, its header) refuses the opening: it was written
//! whole and renamed, so it was damaged since, and skipping it would make its people's
//! identities read as erased.

use std::collections::HashMap;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::{PoisonError, RwLock};

use zeroize::Zeroizing;

use super::{create_private_dir, create_private_file, io_error, sync_dir, KeyError, KEY_BYTES};
use crate::vocabulary::StreamId;

/// The directory of the batch files, in the keys' directory.
pub(super) const BATCHES_DIR: &str = "batches";
/// The first bytes of a batch file (and the format's version).
const MAGIC: &[u8; 8] = b"PKBATCH1";
const STREAM_BYTES: usize = 16;
const ENTRY_BYTES: usize = STREAM_BYTES + KEY_BYTES;
/// The name a batch file is published under; its temporary name ends in `.tmp`.
const EXTENSION: &str = "keys";

/// Where a key is: the entry `entry` of the batch file `file` (an index into [`Index::files`]).
#[derive(Clone, Copy)]
struct Slot {
    file: u32,
    entry: u32,
}

#[derive(Default)]
struct Index {
    files: Vec<PathBuf>,
    slots: HashMap<StreamId, Slot>,
}

/// The batch files of a key store and where each of their keys is.
pub(super) struct Batches {
    dir: PathBuf,
    index: RwLock<Index>,
}

fn offset(entry: u32) -> u64 {
    (MAGIC.len() + entry as usize * ENTRY_BYTES) as u64
}

impl Batches {
    /// Reads the ids of every batch file in `keys_dir/batches/` (if there is one; a store older
    /// than batch files has none). Temporary files a crash left (never named, so no event was
    /// sealed with their keys) are removed.
    pub(super) fn open(keys_dir: &Path) -> Result<Batches, KeyError> {
        let dir = keys_dir.join(BATCHES_DIR);
        let mut index = Index::default();
        let entries = match fs::read_dir(&dir) {
            Ok(entries) => Some(entries),
            Err(error) if error.kind() == io::ErrorKind::NotFound => None,
            Err(error) => return Err(KeyError::Io { path: dir, source: error }),
        };
        let mut names = Vec::new();
        for entry in entries.into_iter().flatten() {
            let path = entry.map_err(io_error(&dir))?.path();
            match path.extension().and_then(|extension| extension.to_str()) {
                Some(EXTENSION) => names.push(path),
                Some("tmp") => fs::remove_file(&path).map_err(io_error(&path))?,
                _ => {}
            }
        }
        names.sort();
        for path in names {
            let bytes = Zeroizing::new(read_all(&path)?);
            let Some(body) = bytes.strip_prefix(MAGIC.as_slice()) else {
                return Err(KeyError::Damaged(path));
            };
            if body.len() % ENTRY_BYTES != 0 {
                return Err(KeyError::Damaged(path));
            }
            let file = index.files.len() as u32;
            for (entry, bytes) in body.chunks_exact(ENTRY_BYTES).enumerate() {
                let (id, key) = bytes.split_at(STREAM_BYTES);
                if id.iter().all(|&byte| byte == 0) || key.iter().all(|&byte| byte == 0) {
                    continue; // destroyed
                }
                let stream = StreamId(uuid::Uuid::from_slice(id).map_err(|_| KeyError::Damaged(path.clone()))?);
                index.slots.insert(stream, Slot { file, entry: entry as u32 });
            }
            index.files.push(path);
        }
        Ok(Batches { dir, index: RwLock::new(index) })
    }

    fn slot(&self, stream: StreamId) -> Option<(PathBuf, Slot)> {
        let index = self.index.read().unwrap_or_else(PoisonError::into_inner);
        let slot = *index.slots.get(&stream)?;
        Some((index.files[slot.file as usize].clone(), slot))
    }

    /// Whether a batch file holds a key of this stream.
    pub(super) fn contains(&self, stream: StreamId) -> bool {
        self.index.read().unwrap_or_else(PoisonError::into_inner).slots.contains_key(&stream)
    }

    /// The streams whose keys are in batch files.
    pub(super) fn streams(&self) -> Vec<StreamId> {
        self.index.read().unwrap_or_else(PoisonError::into_inner).slots.keys().copied().collect()
    }

    /// The stream's key as its batch file holds it, `None` if no batch file has it or it was
    /// destroyed.
    pub(super) fn read(&self, stream: StreamId) -> Result<Option<Zeroizing<[u8; KEY_BYTES]>>, KeyError> {
        let Some((path, slot)) = self.slot(stream) else { return Ok(None) };
        let file = File::open(&path).map_err(io_error(&path))?;
        let mut entry = Zeroizing::new([0u8; ENTRY_BYTES]);
        std::os::unix::fs::FileExt::read_exact_at(&file, entry.as_mut(), offset(slot.entry))
            .map_err(|_| KeyError::Damaged(path.clone()))?;
        let (id, bytes) = entry.split_at(STREAM_BYTES);
        if bytes.iter().all(|&byte| byte == 0) {
            return Ok(None);
        }
        if id != stream.as_bytes() {
            return Err(KeyError::Damaged(path));
        }
        let mut key = Zeroizing::new([0u8; KEY_BYTES]);
        key.copy_from_slice(bytes);
        Ok(Some(key))
    }

    /// Writes `keys` into one new batch file, durably (the file synced, then named, then its
    /// directory synced), and only then lets [`Batches::read`] find them. The caller makes sure
    /// none of these streams has a key already.
    pub(super) fn write(&self, keys: &[(StreamId, &Zeroizing<[u8; KEY_BYTES]>)]) -> Result<(), KeyError> {
        if keys.is_empty() {
            return Ok(());
        }
        create_private_dir(&self.dir)?;
        let name = uuid::Uuid::new_v4().simple().to_string();
        let temporary = self.dir.join(format!("{name}.tmp"));
        let path = self.dir.join(format!("{name}.{EXTENSION}"));
        let mut bytes = Zeroizing::new(Vec::with_capacity(MAGIC.len() + keys.len() * ENTRY_BYTES));
        bytes.extend_from_slice(MAGIC);
        for (stream, key) in keys {
            bytes.extend_from_slice(stream.as_bytes());
            bytes.extend_from_slice(key.as_ref());
        }
        let written = (|| {
            let mut file = create_private_file(&temporary)?;
            file.write_all(&bytes)?;
            file.sync_all()
        })();
        if let Err(source) = written {
            let _ = fs::remove_file(&temporary);
            return Err(KeyError::Io { path: temporary, source });
        }
        if let Err(source) = fs::rename(&temporary, &path) {
            let _ = fs::remove_file(&temporary);
            return Err(KeyError::Io { path, source });
        }
        sync_dir(&self.dir)?;
        let mut index = self.index.write().unwrap_or_else(PoisonError::into_inner);
        let file = index.files.len() as u32;
        index.files.push(path);
        for (entry, (stream, _)) in keys.iter().enumerate() {
            index.slots.insert(*stream, Slot { file, entry: entry as u32 });
        }
        Ok(())
    }

    /// Destroys the stream's key if a batch file holds it: its entry is overwritten with zeros in
    /// place and the file synced, so the key's bytes are on disk nowhere any more, while the
    /// batch's other keys stay where they are. Returns whether there was a key.
    pub(super) fn destroy(&self, stream: StreamId) -> Result<bool, KeyError> {
        let Some((path, slot)) = self.slot(stream) else { return Ok(false) };
        let file = OpenOptions::new().write(true).open(&path).map_err(io_error(&path))?;
        std::os::unix::fs::FileExt::write_all_at(&file, &[0u8; ENTRY_BYTES], offset(slot.entry))
            .and_then(|()| file.sync_data())
            .map_err(io_error(&path))?;
        self.index.write().unwrap_or_else(PoisonError::into_inner).slots.remove(&stream);
        Ok(true)
    }
}

fn read_all(path: &Path) -> Result<Vec<u8>, KeyError> {
    let mut file = File::open(path).map_err(io_error(path))?;
    // Sized from the start: a vector that grows leaves copies of the keys it held behind.
    let length = file.metadata().map_err(io_error(path))?.len();
    let mut bytes = Vec::with_capacity(usize::try_from(length).unwrap_or(0));
    file.read_to_end(&mut bytes).map_err(io_error(path))?;
    Ok(bytes)
}
