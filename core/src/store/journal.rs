//! The commit journal: the store's durability point, one `fdatasync` per group commit.
//!
//! Before the journal, a group commit waited on the disk twice: sled's `flush()` (a `pwrite` and
//! `sync_file_range(WAIT_AFTER)`) and then an `fdatasync` of sled's data file, since `flush()`
//! alone does not survive a power cut (STORAGE-NOTES.md). Now the writer appends the pages a commit
//! writes to this file, syncs it once, and only then inserts them into sled (in memory) and answers
//! the appenders. sled is made durable later, at a **checkpoint** (its `flush()` and `fdatasync`),
//! after which the journal starts again from its beginning.
//!
//! ```text
//! file:   preallocated (zeros written and synced once, never grown), BLOCK-aligned entries
//! entry:  [magic: u32 LE = MAGIC][body_len: u32 LE][first: u64 LE][last: u64 LE][crc32: u32 LE]
//!         body, then zeros up to the next BLOCK boundary
//! body:   page × n: [key: u64 BE (the page's first position)][len: u32 LE][page bytes (`page`)]
//! crc32:  of first, last, body_len and the body
//! ```
//!
//! Why it holds:
//! - An append is answered only once its entry is written **and** the file is `fdatasync`ed. The
//!   file is written whole with zeros and synced when it is created (not `fallocate`d: ext4 would
//!   then have unwritten extents to convert, a metadata change in every `fdatasync`), and it is
//!   never grown, so each `fdatasync` is one wait on the disk for data alone.
//! - Each entry starts on a block of its own: writing a new entry never rewrites a block that
//!   holds an acknowledged one, so a write torn by a power cut can only damage the entry being
//!   written, which was never acknowledged.
//! - The valid entries are read from offset 0 while each one has the magic, a matching checksum,
//!   and a first position that follows the last position of the one before. The first entry that
//!   fails is the end: a torn tail, zeros, or an entry of an earlier round of the file (its
//!   positions are lower: positions only grow, and the file starts again from offset 0 only after
//!   a checkpoint made everything in it durable in sled).
//! - On open (`writer::recover`), every page of the valid entries is put into sled if sled does
//!   not hold it (the same bytes if it does, else the log is damaged), its events indexed if they
//!   are not, and the pages must continue the log's hash chain. Then a checkpoint. So replay is
//!   idempotent: sled may hold none, part or all of the journal.
//! - A checkpoint is sled's `flush()` and an `fdatasync` of its data file, made by the writer
//!   between two commits (when the next entry would not fit, and when the writer stops). Only then
//!   may the journal's beginning be written over.
//!
//! A store without a journal (made before it) opens as before: the file is created, empty.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use super::{dirs, StoreError};

/// The journal's name in the store's directory, beside `log/`.
pub const JOURNAL_FILE: &str = "journal";
/// Entries start on these boundaries (the page size of the file systems the store runs on).
pub const BLOCK: u64 = 4096;
/// The journal's size when a store creates it: 8 MiB, 2,048 blocks. A single-event commit takes
/// one block, so one writer checkpoints every 2,048 commits; 64 writers (commits of ~30–60 events,
/// 2–3 blocks) about every 700 commits. Every new store writes this many zeros once.
pub const JOURNAL_BYTES_DEFAULT: u64 = 8 * 1024 * 1024;
const MAGIC: u32 = u32::from_le_bytes(*b"PJN1");
const HEADER: usize = 28;

/// One group commit as the journal holds it: the pages it wrote, each with its key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Entry {
    pub first: u64,
    pub last: u64,
    pub pages: Vec<(u64, Vec<u8>)>,
}

pub(crate) struct Journal {
    file: File,
    path: PathBuf,
    capacity: u64,
    /// Where the next entry goes.
    offset: u64,
    /// The last position of the entry before `offset` in this round (0 at the beginning).
    last: u64,
}

impl Journal {
    /// Opens the journal of the store in `dir`, creating it (`capacity` bytes of zeros, synced, its
    /// name synced) if there is none. The next entry goes at offset 0: call [`Journal::entries`]
    /// and replay them before appending.
    pub fn open(dir: &Path, capacity: u64) -> Result<Journal, StoreError> {
        let path = dir.join(JOURNAL_FILE);
        let io = |path: &Path| {
            let path = path.to_owned();
            move |source| StoreError::Io { path, source }
        };
        if !path.exists() {
            create(dir, &path, capacity.max(BLOCK).div_ceil(BLOCK) * BLOCK)?;
        }
        let file = OpenOptions::new().read(true).write(true).open(&path).map_err(io(&path))?;
        let length = file.metadata().map_err(io(&path))?.len();
        // The length of a journal made by an earlier run (whatever the option says now), in whole
        // blocks: what is past the last block is never written.
        let capacity = length / BLOCK * BLOCK;
        if capacity < BLOCK {
            return Err(StoreError::Damaged { page: 0, detail: format!("{} is shorter than a block", path.display()) });
        }
        Ok(Journal { file, path, capacity, offset: 0, last: 0 })
    }

    /// The valid entries from the beginning of the file (see the module's documentation).
    pub fn entries(&self) -> Result<Vec<Entry>, StoreError> {
        // From offset 0 whatever was read or written before (`read_exact_at` moves no cursor).
        let mut bytes = vec![0u8; self.capacity as usize];
        self.file.read_exact_at(&mut bytes, 0).map_err(|source| self.io(source))?;
        let mut entries = Vec::new();
        let mut offset = 0usize;
        let mut previous: Option<u64> = None;
        while let Some((entry, length)) = parse(&bytes[offset..]) {
            if previous.is_some_and(|last| entry.first != last + 1) {
                break;
            }
            previous = Some(entry.last);
            entries.push(entry);
            offset += length.div_ceil(BLOCK as usize) * BLOCK as usize;
            if offset >= bytes.len() {
                break;
            }
        }
        Ok(entries)
    }

    /// The bytes an entry of these pages takes in the file.
    pub fn entry_bytes(pages: &[(u64, Vec<u8>)]) -> u64 {
        let body: usize = pages.iter().map(|(_, page)| 12 + page.len()).sum();
        ((HEADER + body) as u64).div_ceil(BLOCK) * BLOCK
    }

    /// Whether an entry of `bytes` fits after the entries written since the last checkpoint.
    pub fn fits(&self, bytes: u64) -> bool {
        self.offset + bytes <= self.capacity
    }

    /// Whether an entry of `bytes` could fit at all, in an empty journal.
    pub fn could_fit(&self, bytes: u64) -> bool {
        bytes <= self.capacity
    }

    /// Whether anything was written since the last checkpoint.
    pub fn is_empty(&self) -> bool {
        self.offset == 0
    }

    /// Writes one entry and syncs the file: once this returns, the pages are durable.
    pub fn append(&mut self, first: u64, last: u64, pages: &[(u64, Vec<u8>)]) -> Result<(), StoreError> {
        let length = Journal::entry_bytes(pages);
        debug_assert!(self.fits(length), "the writer checkpoints before an entry that does not fit");
        debug_assert!(self.offset == 0 || first == self.last + 1, "entries follow one another");
        let mut buffer = Vec::with_capacity(length as usize);
        buffer.extend_from_slice(&MAGIC.to_le_bytes());
        buffer.extend_from_slice(&[0; HEADER - 4]);
        for (key, page) in pages {
            buffer.extend_from_slice(&key.to_be_bytes());
            buffer.extend_from_slice(&(page.len() as u32).to_le_bytes());
            buffer.extend_from_slice(page);
        }
        let body_len = (buffer.len() - HEADER) as u32;
        buffer[4..8].copy_from_slice(&body_len.to_le_bytes());
        buffer[8..16].copy_from_slice(&first.to_le_bytes());
        buffer[16..24].copy_from_slice(&last.to_le_bytes());
        let crc = checksum(&buffer[4..24], &buffer[HEADER..]);
        buffer[24..28].copy_from_slice(&crc.to_le_bytes());
        // The rest of the last block is written too (zeros): the block is then all this entry's.
        buffer.resize(length as usize, 0);
        self.file.write_all_at(&buffer, self.offset).map_err(|source| self.io(source))?;
        self.sync()?;
        self.offset += length;
        self.last = last;
        Ok(())
    }

    /// After a checkpoint: everything written so far is durable in sled, so the next entry may go
    /// at the beginning again. Nothing is written: older entries are told apart by their positions.
    pub fn reset(&mut self) {
        self.offset = 0;
        self.last = 0;
    }

    fn sync(&self) -> Result<(), StoreError> {
        // The power-loss control build (a test-only feature) leaves the journal unsynced, so that
        // the power-loss test is seen to fail without this fdatasync.
        if cfg!(feature = "power-loss-control") {
            return Ok(());
        }
        self.file.sync_data().map_err(|source| self.io(source))
    }

    fn io(&self, source: std::io::Error) -> StoreError {
        StoreError::Io { path: self.path.clone(), source }
    }
}

/// The checksum of an entry: its header's fields (past the magic, before the checksum) and body.
fn checksum(fields: &[u8], body: &[u8]) -> u32 {
    let mut hasher = crc32fast::Hasher::new();
    hasher.update(fields);
    hasher.update(body);
    hasher.finalize()
}

/// The entry at the start of `bytes` and the bytes it takes before padding, if it is valid.
fn parse(bytes: &[u8]) -> Option<(Entry, usize)> {
    let header = bytes.get(..HEADER)?;
    let word = |at: usize| u32::from_le_bytes([header[at], header[at + 1], header[at + 2], header[at + 3]]);
    let long = |at: usize| u64::from_le_bytes(header[at..at + 8].try_into().unwrap_or([0; 8]));
    if word(0) != MAGIC {
        return None;
    }
    let body_len = word(4) as usize;
    let (first, last, crc) = (long(8), long(16), word(24));
    let body = bytes.get(HEADER..HEADER.checked_add(body_len)?)?;
    if checksum(&header[4..24], body) != crc || first == 0 || last < first {
        return None;
    }
    let mut pages = Vec::new();
    let mut at = 0;
    while at < body.len() {
        let key = u64::from_be_bytes(body.get(at..at + 8)?.try_into().ok()?);
        let len = u32::from_le_bytes(body.get(at + 8..at + 12)?.try_into().ok()?) as usize;
        let page = body.get(at + 12..(at + 12).checked_add(len)?)?;
        pages.push((key, page.to_vec()));
        at += 12 + len;
    }
    Some((Entry { first, last, pages }, HEADER + body_len))
}

/// Writes a journal of `capacity` zeros under a temporary name, syncs it, names it and syncs the
/// directory: a journal that exists is whole.
fn create(dir: &Path, path: &Path, capacity: u64) -> Result<(), StoreError> {
    let temporary = dir.join(format!("{JOURNAL_FILE}.new"));
    let io = |source| StoreError::Io { path: temporary.clone(), source };
    let mut file = File::create(&temporary).map_err(io)?;
    let zeros = vec![0u8; 1024 * 1024];
    let mut left = capacity;
    while left > 0 {
        let chunk = left.min(zeros.len() as u64) as usize;
        file.write_all(&zeros[..chunk]).map_err(io)?;
        left -= chunk as u64;
    }
    file.sync_all().map_err(io)?;
    drop(file);
    std::fs::rename(&temporary, path).map_err(|source| StoreError::Io { path: path.to_owned(), source })?;
    dirs::sync_dir(dir).map_err(|source| StoreError::Io { path: dir.to_owned(), source })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pages(first: u64, count: usize) -> Vec<(u64, Vec<u8>)> {
        (0..count).map(|n| (first + n as u64, vec![n as u8; 100 + n])).collect()
    }

    #[test]
    fn entries_read_back_in_order_and_stop_at_a_torn_one() {
        let dir = tempfile::tempdir().unwrap();
        let mut journal = Journal::open(dir.path(), 64 * 1024).unwrap();
        assert!(journal.entries().unwrap().is_empty(), "a new journal holds nothing");
        journal.append(1, 2, &pages(1, 2)).unwrap();
        journal.append(3, 3, &pages(3, 1)).unwrap();
        journal.append(4, 6, &pages(4, 3)).unwrap();
        let read = Journal::open(dir.path(), 0).unwrap().entries().unwrap();
        assert_eq!(read.iter().map(|e| (e.first, e.last)).collect::<Vec<_>>(), [(1, 2), (3, 3), (4, 6)]);
        assert_eq!(read[2].pages, pages(4, 3));
        // Tear the third entry: one byte of its body changes.
        let file = OpenOptions::new().write(true).open(dir.path().join(JOURNAL_FILE)).unwrap();
        file.write_all_at(&[0xff], 2 * BLOCK + HEADER as u64 + 20).unwrap();
        let read = Journal::open(dir.path(), 0).unwrap().entries().unwrap();
        assert_eq!(read.iter().map(|e| (e.first, e.last)).collect::<Vec<_>>(), [(1, 2), (3, 3)]);
    }

    #[test]
    fn after_a_reset_older_entries_past_the_new_ones_are_not_read() {
        let dir = tempfile::tempdir().unwrap();
        let mut journal = Journal::open(dir.path(), 64 * 1024).unwrap();
        for position in 1..=5 {
            journal.append(position, position, &pages(position, 1)).unwrap();
        }
        journal.reset();
        journal.append(6, 7, &pages(6, 2)).unwrap();
        let read = journal.entries().unwrap();
        assert_eq!(read.iter().map(|e| (e.first, e.last)).collect::<Vec<_>>(), [(6, 7)]);
        assert_eq!(journal.entries().unwrap(), read, "read again, from the beginning again");
        assert!(journal.fits(BLOCK) && !journal.fits(64 * 1024));
    }
}
