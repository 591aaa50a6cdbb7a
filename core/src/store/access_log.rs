//! The access log (CONTRACT §7): every read of a beneficiary's history or identity, who and when.
//!
//! A read does not wait on a sled insert: under load that insert was an eighth of a history read's
//! CPU (BENCHMARKS.md, issue 4). Reads are kept in memory and written about once a second by a
//! thread of their own, one sled key per beneficiary and write, holding that beneficiary's reads
//! in the order they were recorded. Reading the log writes what waits first, so an auditor sees
//! every read recorded before the question.
//!
//! Durability is what it was with one insert per read: entries reach the disk with sled's next
//! sync (the writer's next checkpoint, or sled's background `sync_all` within a second: group
//! commits no longer sync sled, the journal being their durability point), so a crash loses at
//! most the last two seconds or so of reads, never an event.

use std::sync::mpsc::{channel, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use bincode::{Decode, Encode};

use super::access::AccessEntry;
use super::StoreError;
use crate::limits::ACCESS_PENDING_MAX;
use crate::vocabulary::{Actor, StreamId, Timestamp};

/// How often the thread writes what waits.
const FLUSH_EVERY: Duration = Duration::from_secs(1);

/// The first byte of a batch. Entries written one per key (before batches) are a bincode
/// `AccessEntry`, whose first byte is a varint, and bincode's varints never start with 255.
const BATCH_TAG: u8 = 0xFF;

/// One read, as a batch stores it: the beneficiary is the key's.
#[derive(Encode, Decode)]
struct Read {
    at: Timestamp,
    actor: Actor,
    what: String,
}

pub(crate) struct AccessLog {
    db: sled::Db,
    /// (beneficiary, sled id) → [`BATCH_TAG`] then the batch's reads.
    tree: sled::Tree,
    pending: Mutex<Vec<AccessEntry>>,
    /// Held while a flush takes and writes: batches reach the tree in the order they were taken,
    /// so that a later batch never gets the smaller id.
    writing: Mutex<()>,
}

impl AccessLog {
    pub(crate) fn open(db: &sled::Db) -> Result<AccessLog, StoreError> {
        Ok(AccessLog {
            db: db.clone(),
            tree: db.open_tree("access")?,
            pending: Mutex::default(),
            writing: Mutex::default(),
        })
    }

    pub(crate) fn record(&self, entry: AccessEntry) -> Result<(), StoreError> {
        let full = {
            let mut pending = lock(&self.pending);
            pending.push(entry);
            pending.len() >= ACCESS_PENDING_MAX
        };
        // Bounded memory: a burst beyond what a second usually brings is written by the reader.
        if full {
            self.flush()?;
        }
        Ok(())
    }

    /// Writes what waits; what a failure left unwritten waits for the next try.
    pub(crate) fn flush(&self) -> Result<(), StoreError> {
        let _writing = lock(&self.writing);
        let mut taken = std::mem::take(&mut *lock(&self.pending));
        // Stable: each beneficiary's reads keep the order they were recorded in.
        taken.sort_by_key(|entry| entry.beneficiary);
        let mut written = 0;
        // One insert per beneficiary rather than one `apply_batch`: with a second's reads of
        // 30,000 people in one batch, the slowest history reads waited 300 ms (p99; 6.6 ms
        // this way, BENCHMARKS.md issue 4).
        for group in taken.chunk_by(|a, b| a.beneficiary == b.beneficiary) {
            if let Err(error) = self.write(group) {
                let mut pending = lock(&self.pending);
                let newer = std::mem::take(&mut *pending);
                pending.extend(taken.drain(written..));
                pending.extend(newer);
                return Err(error);
            }
            written += group.len();
        }
        Ok(())
    }

    /// Writes one beneficiary's reads under one key.
    fn write(&self, group: &[AccessEntry]) -> Result<(), StoreError> {
        let reads: Vec<Read> = group
            .iter()
            .map(|entry| Read { at: entry.at, actor: entry.actor.clone(), what: entry.what.clone() })
            .collect();
        let mut value = vec![BATCH_TAG];
        bincode::encode_into_std_write(&reads, &mut value, config())
            .map_err(|error| StoreError::Encode(error.to_string()))?;
        let mut key = [0u8; 24];
        key[..16].copy_from_slice(group[0].beneficiary.as_bytes());
        key[16..].copy_from_slice(&self.db.generate_id()?.to_be_bytes());
        self.tree.insert(key, value)?;
        Ok(())
    }

    /// The beneficiary's reads in the order they were recorded, those waiting included.
    pub(crate) fn of(&self, beneficiary: StreamId) -> Result<Vec<AccessEntry>, StoreError> {
        self.flush()?;
        let mut entries = Vec::new();
        for value in self.tree.scan_prefix(beneficiary.as_bytes()).values() {
            let value = value?;
            match value.split_first() {
                Some((&BATCH_TAG, batch)) => {
                    let reads: Vec<Read> = decode(batch)?;
                    entries.extend(reads.into_iter().map(|read| AccessEntry {
                        at: read.at,
                        actor: read.actor,
                        beneficiary,
                        what: read.what,
                    }));
                }
                _ => entries.push(decode(&value)?),
            }
        }
        Ok(entries)
    }
}

/// The thread that writes the access log every [`FLUSH_EVERY`]; stopping it writes what is left.
pub(crate) struct Flusher {
    stop: Option<Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Flusher {
    pub(crate) fn spawn(log: Arc<AccessLog>) -> std::io::Result<Flusher> {
        let (stop, stopped) = channel::<()>();
        let thread = std::thread::Builder::new().name("parcours-access-log".into()).spawn(move || loop {
            let last = !matches!(stopped.recv_timeout(FLUSH_EVERY), Err(RecvTimeoutError::Timeout));
            if let Err(error) = log.flush() {
                tracing::warn!(%error, "the access log could not be written; the reads wait for the next try");
            }
            if last {
                return;
            }
        })?;
        Ok(Flusher { stop: Some(stop), thread: Some(thread) })
    }
}

impl Drop for Flusher {
    fn drop(&mut self) {
        self.stop.take();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

fn config() -> bincode::config::Configuration {
    bincode::config::standard()
}

fn decode<T: Decode<()>>(bytes: &[u8]) -> Result<T, StoreError> {
    bincode::decode_from_slice(bytes, config())
        .map(|(value, _)| value)
        .map_err(|error| StoreError::Damaged { page: 0, detail: format!("access log: {error}") })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(beneficiary: StreamId, what: &str) -> AccessEntry {
        AccessEntry { at: Timestamp::now(), actor: Actor("tok_0123".into()), beneficiary, what: what.into() }
    }

    fn open() -> (tempfile::TempDir, sled::Db, Arc<AccessLog>) {
        let dir = tempfile::tempdir().unwrap();
        let db = sled::Config::new().path(dir.path()).open().unwrap();
        let log = Arc::new(AccessLog::open(&db).unwrap());
        (dir, db, log)
    }

    #[test]
    fn reads_come_back_per_beneficiary_in_the_order_recorded_across_writes() {
        let (_dir, _db, log) = open();
        let (anna, bruno) = (StreamId::generate(), StreamId::generate());
        let recorded: Vec<AccessEntry> = (0..5).map(|n| entry(anna, &format!("history {n}"))).collect();
        for (n, read) in recorded.iter().enumerate() {
            log.record(read.clone()).unwrap();
            log.record(entry(bruno, "state")).unwrap();
            if n == 2 {
                log.flush().unwrap();
            }
        }
        assert_eq!(log.of(anna).unwrap(), recorded, "waiting reads are written before the answer");
        assert_eq!(log.of(bruno).unwrap().len(), 5);
        assert_eq!(log.tree.len(), 4, "one key per beneficiary and write");
    }

    #[test]
    fn the_flusher_writes_within_seconds_and_at_its_stop() {
        let (_dir, _db, log) = open();
        let flusher = Flusher::spawn(log.clone()).unwrap();
        log.record(entry(StreamId::generate(), "history")).unwrap();
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while log.tree.is_empty() {
            assert!(std::time::Instant::now() < deadline, "nothing written after 5 s");
            std::thread::sleep(Duration::from_millis(20));
        }
        log.record(entry(StreamId::generate(), "history")).unwrap();
        drop(flusher);
        assert_eq!(log.tree.len(), 2, "stopping writes what waits");
        assert!(lock(&log.pending).is_empty());
    }

    #[test]
    fn entries_written_one_per_key_before_batches_are_still_read() {
        let (_dir, db, log) = open();
        let anna = StreamId::generate();
        let old = entry(anna, "history");
        let mut key = [0u8; 24];
        key[..16].copy_from_slice(anna.as_bytes());
        key[16..].copy_from_slice(&db.generate_id().unwrap().to_be_bytes());
        log.tree.insert(key, bincode::encode_to_vec(&old, config()).unwrap()).unwrap();
        let new = entry(anna, "identity");
        log.record(new.clone()).unwrap();
        assert_eq!(log.of(anna).unwrap(), vec![old, new]);
    }
}
