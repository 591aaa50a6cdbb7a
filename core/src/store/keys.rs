//! One key per beneficiary, outside the log, where deleting a key really removes its bytes.
//!
//! sled keeps old segments around, so a key deleted from a sled tree may stay on disk for a long
//! time. Keys therefore live in files of their own: a key created alone (a registration) in a file
//! of its own (`keys/ab/<uuid>.key`), which erasure overwrites with zeros, syncs, unlinks, and
//! whose directory it syncs; the keys created together (an import's new people,
//! [`KeyStore::create_many`]) in one file per batch (`keys/batches/<uuid>.keys`, see [`batches`]),
//! where erasure overwrites the person's entry with zeros in place and syncs the file. The sealed
//! identity left in the log is then noise to everyone, while the log's hashes, which cover the
//! ciphertext, still verify.
//!
//! Keys that were read lately are also kept in memory (zeroed when they leave it): opening the
//! identity of a history read over HTTP read its key file every time (an open, a read and a close,
//! 8 % of the server's samples; BENCHMARKS.md, issue 4). A destruction takes the key out of memory
//! under the same lock that a miss reads the file under, so no read can put it back afterwards.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock};

use bincode::{Decode, Encode};
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use lru::LruCache;
use rand::RngCore;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::limits::KEY_CACHE_MAX;
use crate::vocabulary::{EventId, Sealed, StreamId};

mod batches;

pub const KEY_BYTES: usize = 32;

/// A beneficiary's key; zeroed when dropped.
pub struct Key(Zeroizing<[u8; KEY_BYTES]>);

impl Key {
    /// The key's bytes, for a backup of the keys (the only place they leave this module).
    pub fn bytes(&self) -> &[u8; KEY_BYTES] {
        &self.0
    }
}

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("key store I/O at {path}: {source}")]
    Io { path: PathBuf, source: io::Error },
    #[error("the key file {0} is damaged")]
    Damaged(PathBuf),
    #[error("sealed personal data does not open with its beneficiary's key (damaged or moved ciphertext)")]
    Unseal,
    #[error("personal data could not be encoded: {0}")]
    Encode(String),
    #[error("this beneficiary's personal data was erased: no new personal data can be sealed for them")]
    Erased,
    #[error(
        "the key directory {0} can be read or entered by other users than its owner: make it private (chmod -R go-rwx)"
    )]
    Exposed(PathBuf),
}

/// Shards of the keys kept in memory, so that readers of different people rarely wait on one
/// another (or on a destruction's syncs).
const KEY_SHARDS: usize = 16;

type KeyShard = LruCache<StreamId, Zeroizing<[u8; KEY_BYTES]>>;

#[derive(Clone)]
pub struct KeyStore {
    dir: PathBuf,
    /// Keys read lately, by stream. Shared by the clones of one store: a destruction through any
    /// of them takes the key out of every one.
    cache: Arc<[Mutex<KeyShard>]>,
    /// The keys created together, one file per batch.
    batches: Arc<batches::Batches>,
    /// Creating a key and destroying one: shared by the creations of single keys (they race among
    /// themselves through [`give_name`]) and by destructions, taken alone by
    /// [`KeyStore::create_many`], so that no stream gets a key in a batch file and one of its own
    /// (two keys, the data sealed with one of them unreadable), nor a key in a batch file while
    /// its destruction runs. Always taken before a shard of `cache`.
    creating: Arc<RwLock<()>>,
}

impl std::fmt::Debug for KeyStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyStore").field("dir", &self.dir).finish_non_exhaustive()
    }
}

fn io_error(path: &Path) -> impl FnOnce(io::Error) -> KeyError + '_ {
    move |source| KeyError::Io { path: path.to_owned(), source }
}

fn sync_dir(dir: &Path) -> Result<(), KeyError> {
    super::dirs::sync_dir(dir).map_err(io_error(dir))
}

/// Creates a directory of the key store readable by its owner only (0700), whatever the umask,
/// whose name survives a power cut (`dirs::create_synced_private`).
fn create_private_dir(dir: &Path) -> Result<(), KeyError> {
    super::dirs::create_synced_private(dir).map_err(io_error(dir))
}

/// Opens a new file of the key store, readable by its owner only (0600).
fn create_private_file(path: &Path) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)
}

/// Gives the key file written (and synced) as `temporary` its name `path`, unless `path` exists
/// (then `AlreadyExists`, and `temporary` is removed): another caller published that stream's key
/// first, and a key that may already seal data must never be replaced.
///
/// A rename that refuses to replace (`RENAME_NOREPLACE`) where the filesystem has it, else a hard
/// link and an unlink of the temporary name. The rename leaves no deleted inode behind: after an
/// import had published 40,000 keys by link and unlink, ext4 spent most of each new file's
/// creation stepping over the inodes freed in the last seconds (`recently_deleted`), so that the
/// import slowed down as it went (BENCHMARKS.md, issue 17).
fn give_name(temporary: &Path, path: &Path) -> io::Result<()> {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        use nix::errno::Errno;
        use nix::fcntl::{renameat2, RenameFlags, AT_FDCWD};
        match renameat2(AT_FDCWD, temporary, AT_FDCWD, path, RenameFlags::RENAME_NOREPLACE) {
            Ok(()) => return Ok(()),
            // A filesystem without the flag: the link below does the same.
            Err(Errno::EINVAL | Errno::ENOSYS | Errno::EOPNOTSUPP) => {}
            Err(errno) => {
                let _ = fs::remove_file(temporary);
                return Err(errno.into());
            }
        }
    }
    let linked = fs::hard_link(temporary, path);
    let _ = fs::remove_file(temporary);
    linked
}

/// The directory of erasures begun and not yet finished: one empty file per stream, written
/// before the erasure is recorded and removed once the key is destroyed. Few files (only the
/// erasures a crash interrupted), so opening the store can look at every one.
const PENDING_DIR: &str = "erasing";

impl KeyStore {
    pub fn open(dir: PathBuf) -> Result<KeyStore, KeyError> {
        create_private_dir(&dir)?;
        // The shard directories a crash may have caught before their names were synced.
        sync_dir(&dir)?;
        let capacity = std::num::NonZeroUsize::new(KEY_CACHE_MAX / KEY_SHARDS).unwrap_or(std::num::NonZeroUsize::MIN);
        let cache = (0..KEY_SHARDS).map(|_| Mutex::new(LruCache::new(capacity))).collect();
        let batches = Arc::new(batches::Batches::open(&dir)?);
        Ok(KeyStore { dir, cache, batches, creating: Arc::new(RwLock::new(())) })
    }

    fn shard(&self, stream: StreamId) -> MutexGuard<'_, KeyShard> {
        // UUIDs v4 and v7 both end in random bits.
        self.cache[stream.as_bytes()[15] as usize % KEY_SHARDS].lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn path(&self, stream: StreamId) -> PathBuf {
        let name = stream.0.simple().to_string();
        self.dir.join(&name[..2]).join(format!("{name}.key"))
    }

    /// The mark left by an erasure, so that no key is ever created again for that stream: a new
    /// key would not open the old ciphertext, and new personal data would undo the erasure.
    fn tombstone(&self, stream: StreamId) -> PathBuf {
        self.path(stream).with_extension("erased")
    }

    /// Refuses a key directory (or a shard of it) that other users may read or enter: the keys
    /// are what makes the sealed identities readable. Checks the directories, not each key file:
    /// a file inside a private directory cannot be reached by others whatever its own mode.
    pub fn check_private(&self) -> Result<(), KeyError> {
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let exposed = |path: &Path| -> Result<bool, KeyError> {
                let mode = fs::metadata(path).map_err(io_error(path))?.permissions().mode();
                Ok(mode & 0o077 != 0)
            };
            if exposed(&self.dir)? {
                return Err(KeyError::Exposed(self.dir.clone()));
            }
            for entry in fs::read_dir(&self.dir).map_err(io_error(&self.dir))? {
                let path = entry.map_err(io_error(&self.dir))?.path();
                if path.is_dir() && exposed(&path)? {
                    return Err(KeyError::Exposed(path));
                }
            }
        }
        Ok(())
    }

    fn pending(&self, stream: StreamId) -> PathBuf {
        self.dir.join(PENDING_DIR).join(stream.0.simple().to_string())
    }

    /// The stream's key, or `None` if it never had one, it was destroyed, or its erasure began
    /// (a tombstone is there): a key a crash left behind an erasure never opens anything.
    pub fn get(&self, stream: StreamId) -> Result<Option<Key>, KeyError> {
        let mut shard = self.shard(stream);
        if let Some(key) = shard.get(&stream) {
            return Ok(Some(Key(key.clone())));
        }
        // Read under the shard's lock: a destruction, which takes it too, cannot slip between this
        // read and the insertion below and leave a destroyed key in memory.
        if self.tombstone(stream).exists() {
            return Ok(None);
        }
        let key = self.read(stream)?;
        if let Some(key) = &key {
            shard.put(stream, key.0.clone());
        }
        Ok(key)
    }

    /// The stream's key as its file (its own or its batch's) holds it, without the memory.
    fn read(&self, stream: StreamId) -> Result<Option<Key>, KeyError> {
        if self.batches.contains(stream) {
            return Ok(self.batches.read(stream)?.map(Key));
        }
        let path = self.path(stream);
        let mut file = match File::open(&path) {
            Ok(file) => file,
            Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(error) => return Err(KeyError::Io { path, source: error }),
        };
        let mut key = Zeroizing::new([0u8; KEY_BYTES]);
        file.read_exact(key.as_mut()).map_err(|_| KeyError::Damaged(path.clone()))?;
        if key.iter().all(|&byte| byte == 0) {
            // Overwritten by a destruction that stopped (a crash, a power cut) before the unlink:
            // destroyed all the same. A random key is all zeros with probability 2^-256.
            return Ok(None);
        }
        Ok(Some(Key(key)))
    }

    /// The stream's key, created (durably, before any ciphertext depends on it) if absent. Two
    /// callers racing for the same stream get the same key: the file is published with a hard link,
    /// which fails if another caller published first.
    pub fn get_or_create(&self, stream: StreamId) -> Result<Key, KeyError> {
        if let Some(key) = self.get(stream)? {
            return Ok(key);
        }
        let mut key = Zeroizing::new([0u8; KEY_BYTES]);
        rand::rngs::OsRng.fill_bytes(key.as_mut());
        self.publish(stream, key)
    }

    /// Writes a key durably under its final name, unless the stream has one already (then that one
    /// is returned) or was erased.
    fn publish(&self, stream: StreamId, key: Zeroizing<[u8; KEY_BYTES]>) -> Result<Key, KeyError> {
        let _creating = self.creating.read().unwrap_or_else(PoisonError::into_inner);
        if self.tombstone(stream).exists() {
            return Err(KeyError::Erased);
        }
        if let Some(key) = self.batches.read(stream)? {
            return Ok(Key(key));
        }
        let path = self.path(stream);
        let dir = path.parent().unwrap_or(&self.dir).to_owned();
        create_private_dir(&dir)?;
        let temporary = dir.join(format!("{}.{}.tmp", stream.0.simple(), uuid::Uuid::new_v4().simple()));
        let written = (|| {
            let mut file = create_private_file(&temporary)?;
            file.write_all(key.as_ref())?;
            file.sync_all()
        })();
        written.map_err(io_error(&temporary))?;
        match give_name(&temporary, &path) {
            Ok(()) => {
                sync_dir(&dir)?;
                Ok(Key(key))
            }
            Err(error) if error.kind() == io::ErrorKind::AlreadyExists => {
                self.get(stream)?.ok_or(KeyError::Damaged(path))
            }
            Err(error) => Err(KeyError::Io { path, source: error }),
        }
    }

    /// Gives each of `streams` a durable key, creating the missing ones together, and returns once
    /// every key it created is durable: an append that seals with one of them afterwards can never
    /// be durable before its key. Streams with a key keep it; erased streams are left out (sealing
    /// for them is refused later, as after [`KeyStore::get_or_create`]).
    ///
    /// [`KeyStore::publish`] waits on the disk twice per key (the file's sync, then its
    /// directory's): an import of 40,000 new people spent nearly all its time there, and about 4 s
    /// of 11 still with 40,000 files synced by 32 threads at once (BENCHMARKS.md, issue 17). Here
    /// the new keys go into one batch file ([`batches::Batches::write`]): one file's sync and one
    /// directory's, whatever the number of keys. Single keys wait meanwhile (see `creating`).
    pub fn create_many(&self, streams: &[StreamId]) -> Result<(), KeyError> {
        let creating = self.creating.write().unwrap_or_else(PoisonError::into_inner);
        let mut fresh = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for &stream in streams {
            // A key that cannot be read (a damaged file) is left to the append that needs it,
            // which is refused alone, as it would be without this.
            if !seen.insert(stream) || self.tombstone(stream).exists() || !matches!(self.get(stream), Ok(None)) {
                continue;
            }
            let mut key = Zeroizing::new([0u8; KEY_BYTES]);
            rand::rngs::OsRng.fill_bytes(key.as_mut());
            fresh.push((stream, key));
        }
        let entries: Vec<_> = fresh.iter().map(|(stream, key)| (*stream, key)).collect();
        self.batches.write(&entries)?;
        drop(creating);
        // Durable now: kept in memory as a read would keep them, unless an erasure began meanwhile
        // (checked under the shard's lock, which a destruction holds throughout).
        for (stream, key) in fresh {
            let mut shard = self.shard(stream);
            if !self.tombstone(stream).exists() {
                shard.put(stream, key);
            }
        }
        Ok(())
    }

    /// Every key there is, for a backup, in stream order. Erased keys are gone, so a backup made
    /// after an erasure cannot undo it.
    pub fn all(&self) -> Result<Vec<(StreamId, Key)>, KeyError> {
        let mut keys = Vec::new();
        for shard in fs::read_dir(&self.dir).map_err(io_error(&self.dir))? {
            let shard = shard.map_err(io_error(&self.dir))?.path();
            if !shard.is_dir() || shard.file_name() == Some(batches::BATCHES_DIR.as_ref()) {
                continue;
            }
            for file in fs::read_dir(&shard).map_err(io_error(&shard))? {
                let path = file.map_err(io_error(&shard))?.path();
                let stream = path
                    .file_name()
                    .and_then(|name| name.to_str())
                    .and_then(|name| name.strip_suffix(".key"))
                    .and_then(|name| uuid::Uuid::parse_str(name).ok());
                if let Some(stream) = stream.map(StreamId).filter(|stream| !self.tombstone(*stream).exists()) {
                    // A backup reads every key once: not a reason to keep them all in memory.
                    if let Some(key) = self.read(stream)? {
                        keys.push((stream, key));
                    }
                }
            }
        }
        for stream in self.batches.streams() {
            if let Some(key) = self.batches.read(stream)?.filter(|_| !self.tombstone(stream).exists()) {
                keys.push((stream, Key(key)));
            }
        }
        keys.sort_by_key(|(stream, _)| *stream);
        Ok(keys)
    }

    /// Puts back a key from a backup. A key already there must be the same one.
    pub fn restore(&self, stream: StreamId, bytes: [u8; KEY_BYTES]) -> Result<(), KeyError> {
        let key = self.publish(stream, Zeroizing::new(bytes))?;
        if *key.0 != bytes {
            return Err(KeyError::Damaged(self.path(stream)));
        }
        Ok(())
    }

    /// Whether a key is on disk, tombstone or not (what a leftover of an erasure looks like): a
    /// file of its own, or an entry of a batch file.
    pub fn has_key_file(&self, stream: StreamId) -> bool {
        self.path(stream).exists() || self.batches.contains(stream)
    }

    /// Begins an erasure, before it is recorded: the key leaves memory, a tombstone makes it
    /// unreadable at once, and a mark in `erasing/` lets the next opening finish (or abandon) an
    /// erasure a crash interrupted.
    pub fn begin_erasure(&self, stream: StreamId) -> Result<(), KeyError> {
        let mut shard = self.shard(stream);
        shard.pop(&stream);
        let pending_dir = self.dir.join(PENDING_DIR);
        create_private_dir(&pending_dir)?;
        let pending = self.pending(stream);
        File::create(&pending).and_then(|file| file.sync_all()).map_err(io_error(&pending))?;
        sync_dir(&pending_dir)?;
        self.write_tombstone(stream)
    }

    /// Gives up an erasure that was refused before being recorded: the key opens again.
    pub fn abandon_erasure(&self, stream: StreamId) -> Result<(), KeyError> {
        let _shard = self.shard(stream);
        let tombstone = self.tombstone(stream);
        match fs::remove_file(&tombstone) {
            Ok(()) => sync_dir(tombstone.parent().unwrap_or(&self.dir))?,
            Err(error) if error.kind() == io::ErrorKind::NotFound => {}
            Err(error) => return Err(KeyError::Io { path: tombstone, source: error }),
        }
        self.end_pending(stream)
    }

    /// The erasures begun and not finished (a crash, or a failure to destroy the key).
    pub fn pending_erasures(&self) -> Result<Vec<StreamId>, KeyError> {
        let dir = self.dir.join(PENDING_DIR);
        let entries = match fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(error) => return Err(KeyError::Io { path: dir, source: error }),
        };
        let mut streams = Vec::new();
        for entry in entries {
            let name = entry.map_err(io_error(&dir))?.file_name();
            if let Some(stream) = name.to_str().and_then(|name| uuid::Uuid::parse_str(name).ok()) {
                streams.push(StreamId(stream));
            }
        }
        streams.sort();
        Ok(streams)
    }

    fn end_pending(&self, stream: StreamId) -> Result<(), KeyError> {
        let pending = self.pending(stream);
        match fs::remove_file(&pending) {
            Ok(()) => sync_dir(&self.dir.join(PENDING_DIR)),
            Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(error) => Err(KeyError::Io { path: pending, source: error }),
        }
    }

    fn write_tombstone(&self, stream: StreamId) -> Result<(), KeyError> {
        let tombstone = self.tombstone(stream);
        let dir = tombstone.parent().unwrap_or(&self.dir).to_owned();
        create_private_dir(&dir)?;
        File::create(&tombstone).and_then(|file| file.sync_all()).map_err(io_error(&tombstone))?;
        sync_dir(&dir)
    }

    /// Destroys the stream's key: a tombstone is left first (see [`KeyStore::tombstone`]), then the
    /// key is overwritten, synced, unlinked, and the directory synced (or, for a key in a batch
    /// file, its entry overwritten in place and the file synced, [`batches::Batches::destroy`]);
    /// last, the erasure's mark (if [`KeyStore::begin_erasure`] left one) goes. Returns whether
    /// there was a key.
    pub fn destroy(&self, stream: StreamId) -> Result<bool, KeyError> {
        // No batch of keys is being written meanwhile, which could hold this stream's.
        let _creating = self.creating.read().unwrap_or_else(PoisonError::into_inner);
        // Held to the end: no read may load the key from its file into memory meanwhile.
        let mut shard = self.shard(stream);
        shard.pop(&stream);
        let path = self.path(stream);
        self.write_tombstone(stream)?;
        let in_batch = self.batches.destroy(stream)?;
        let mut file = match OpenOptions::new().write(true).open(&path) {
            Ok(file) => file,
            Err(error) if error.kind() == io::ErrorKind::NotFound => {
                self.end_pending(stream)?;
                return Ok(in_batch);
            }
            Err(error) => return Err(KeyError::Io { path, source: error }),
        };
        file.write_all(&[0u8; KEY_BYTES]).and_then(|()| file.sync_all()).map_err(io_error(&path))?;
        drop(file);
        fs::remove_file(&path).map_err(io_error(&path))?;
        sync_dir(path.parent().unwrap_or(&self.dir))?;
        self.end_pending(stream)?;
        Ok(true)
    }
}

/// What the ciphertext is bound to: a sealed identity opens only in its own stream and event.
fn associated_data(stream: StreamId, event: EventId) -> [u8; 32] {
    let mut data = [0u8; 32];
    data[..16].copy_from_slice(stream.as_bytes());
    data[16..].copy_from_slice(event.as_bytes());
    data
}

/// Seals personal data. The nonce is derived from the key, the event and the plaintext (a synthetic
/// IV): sealing the same identity for the same event twice gives the same bytes, which is what makes
/// a retried registration an idempotent success; a nonce never repeats for different plaintexts.
pub fn seal(key: &Key, stream: StreamId, event: EventId, data: &impl Encode) -> Result<Sealed, KeyError> {
    let plaintext = Zeroizing::new(
        bincode::encode_to_vec(data, bincode::config::standard())
            .map_err(|error| KeyError::Encode(error.to_string()))?,
    );
    let digest = Sha256::new()
        .chain_update(b"parcours identity nonce v1")
        .chain_update(key.0.as_ref())
        .chain_update(event.as_bytes())
        .chain_update(plaintext.as_slice())
        .finalize();
    let mut nonce = [0u8; 24];
    nonce.copy_from_slice(&digest[..24]);
    let cipher = XChaCha20Poly1305::new(key.0.as_ref().into());
    let aad = associated_data(stream, event);
    let ciphertext = cipher
        .encrypt(XNonce::from_slice(&nonce), Payload { msg: plaintext.as_slice(), aad: &aad })
        .map_err(|_| KeyError::Unseal)?;
    Ok(Sealed { nonce, ciphertext })
}

/// Opens what [`seal`] sealed: an identity (`PersonalData`) or sensitive answers.
pub fn unseal<T: Decode<()>>(key: &Key, stream: StreamId, event: EventId, sealed: &Sealed) -> Result<T, KeyError> {
    let cipher = XChaCha20Poly1305::new(key.0.as_ref().into());
    let aad = associated_data(stream, event);
    let plaintext = Zeroizing::new(
        cipher
            .decrypt(XNonce::from_slice(&sealed.nonce), Payload { msg: &sealed.ciphertext, aad: &aad })
            .map_err(|_| KeyError::Unseal)?,
    );
    let (data, _) =
        bincode::decode_from_slice(plaintext.as_slice(), bincode::config::standard()).map_err(|_| KeyError::Unseal)?;
    Ok(data)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vocabulary::PersonalData;

    #[test]
    fn sealed_identity_opens_only_with_its_key_stream_and_event_and_not_after_destruction() {
        let dir = tempfile::tempdir().unwrap();
        let keys = KeyStore::open(dir.path().join("keys")).unwrap();
        let (stream, event) = (StreamId::generate(), EventId::generate());
        let data = PersonalData {
            first_name: Some("Zoé".into()),
            email: Some("zoe@example.org".into()),
            ..Default::default()
        };
        let key = keys.get_or_create(stream).unwrap();
        let sealed = seal(&key, stream, event, &data).unwrap();
        assert_eq!(sealed, seal(&key, stream, event, &data).unwrap(), "sealing is deterministic");
        assert!(!sealed.ciphertext.windows(3).any(|w| w == b"Zo\xc3"), "no clear text in the ciphertext");
        assert_eq!(unseal::<PersonalData>(&key, stream, event, &sealed).unwrap(), data);
        assert!(unseal::<PersonalData>(&key, StreamId::generate(), event, &sealed).is_err());
        assert!(unseal::<PersonalData>(&key, stream, EventId::generate(), &sealed).is_err());
        assert_eq!(keys.get_or_create(stream).unwrap().0.as_ref(), key.0.as_ref(), "one key per stream");

        assert!(keys.destroy(stream).unwrap());
        assert!(keys.get(stream).unwrap().is_none());
        assert!(!keys.destroy(stream).unwrap());
        let leftover: Vec<_> =
            walk(dir.path()).into_iter().filter(|p| p.is_file() && p.extension() != Some("erased".as_ref())).collect();
        assert!(leftover.is_empty(), "nothing of the key is left: {leftover:?}");
        assert!(matches!(keys.get_or_create(stream), Err(KeyError::Erased)), "no new key after an erasure");
    }

    #[test]
    fn a_key_kept_in_memory_is_gone_once_destroyed_even_with_reads_racing_the_destruction() {
        let dir = tempfile::tempdir().unwrap();
        let keys = KeyStore::open(dir.path().join("keys")).unwrap();
        let stream = StreamId::generate();
        let key = keys.get_or_create(stream).unwrap();
        // From memory now, and the same bytes as the file's.
        assert_eq!(keys.get(stream).unwrap().unwrap().0.as_ref(), key.0.as_ref());
        assert_eq!(keys.read(stream).unwrap().unwrap().0.as_ref(), key.0.as_ref());
        let destroyed = std::sync::atomic::AtomicBool::new(false);
        std::thread::scope(|scope| {
            let readers: Vec<_> = (0..2)
                .map(|_| {
                    let (keys, destroyed) = (keys.clone(), &destroyed);
                    scope.spawn(move || loop {
                        let after = destroyed.load(std::sync::atomic::Ordering::Acquire);
                        let read = keys.get(stream).unwrap();
                        if after {
                            assert!(read.is_none(), "a destroyed key was read");
                            break;
                        }
                    })
                })
                .collect();
            std::thread::sleep(std::time::Duration::from_millis(5));
            assert!(keys.destroy(stream).unwrap());
            destroyed.store(true, std::sync::atomic::Ordering::Release);
            for reader in readers {
                reader.join().unwrap();
            }
        });
        assert!(keys.get(stream).unwrap().is_none());
        assert!(keys.clone().get(stream).unwrap().is_none());
    }

    #[test]
    fn keys_created_together_are_on_disk_once_returned_and_keep_existing_and_erased_streams_as_they_were() {
        let dir = tempfile::tempdir().unwrap();
        let keys = KeyStore::open(dir.path().join("keys")).unwrap();
        let (existing, erased) = (StreamId::generate(), StreamId::generate());
        let before = keys.get_or_create(existing).unwrap();
        keys.get_or_create(erased).unwrap();
        keys.destroy(erased).unwrap();
        let fresh: Vec<StreamId> = (0..300).map(|_| StreamId::generate()).collect();
        let mut asked = fresh.clone();
        asked.extend([existing, erased, fresh[0]]);
        keys.create_many(&asked).unwrap();

        // Read back from the files, not from memory: a store opened afterwards finds the same keys.
        let reopened = KeyStore::open(dir.path().join("keys")).unwrap();
        for stream in &fresh {
            let on_disk = reopened.get(*stream).unwrap().expect("a key created together is on disk");
            assert_eq!(on_disk.bytes(), keys.get(*stream).unwrap().unwrap().bytes());
            assert_ne!(on_disk.bytes(), &[0u8; KEY_BYTES]);
        }
        assert_eq!(reopened.get(existing).unwrap().unwrap().bytes(), before.bytes(), "an existing key is kept");
        assert!(reopened.get(erased).unwrap().is_none(), "no key comes back after an erasure");
        assert!(matches!(keys.get_or_create(erased), Err(KeyError::Erased)));
        let leftovers: Vec<_> =
            walk(dir.path()).into_iter().filter(|path| path.extension() == Some("tmp".as_ref())).collect();
        assert!(leftovers.is_empty(), "no temporary file is left: {leftovers:?}");
        let batch_files: Vec<_> = walk(&dir.path().join("keys").join(batches::BATCHES_DIR))
            .into_iter()
            .filter(|path| path.is_file())
            .collect();
        assert_eq!(batch_files.len(), 1, "the keys created together are in one file: {batch_files:?}");
        assert!(!keys.path(fresh[1]).exists(), "not in a file of its own");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(&batch_files[0]).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600, "a key created together is its owner's only");
        }
        keys.check_private().unwrap();
        assert_eq!(reopened.all().unwrap().len(), fresh.len() + 1);
    }

    #[test]
    fn erasing_a_key_of_a_batch_removes_its_bytes_from_disk_and_leaves_the_others_of_the_batch() {
        let dir = tempfile::tempdir().unwrap();
        let keys_dir = dir.path().join("keys");
        let keys = KeyStore::open(keys_dir.clone()).unwrap();
        let streams: Vec<StreamId> = (0..50).map(|_| StreamId::generate()).collect();
        keys.create_many(&streams).unwrap();
        let bytes: Vec<[u8; KEY_BYTES]> =
            streams.iter().map(|stream| *keys.get(*stream).unwrap().unwrap().bytes()).collect();
        let on_disk = |needle: &[u8]| {
            walk(&keys_dir)
                .into_iter()
                .filter(|path| path.is_file())
                .any(|path| fs::read(&path).unwrap().windows(needle.len()).any(|window| window == needle))
        };
        assert!(on_disk(&bytes[7]), "the key is on disk before its erasure (the search can fail)");

        keys.begin_erasure(streams[7]).unwrap();
        assert!(keys.destroy(streams[7]).unwrap(), "there was a key");
        assert!(!on_disk(&bytes[7]), "a destroyed key's bytes are in no file of the key directory");
        assert!(!keys.has_key_file(streams[7]));
        assert!(keys.pending_erasures().unwrap().is_empty());
        assert!(keys.get(streams[7]).unwrap().is_none());
        assert!(matches!(keys.get_or_create(streams[7]), Err(KeyError::Erased)), "no new key after an erasure");
        assert!(!keys.destroy(streams[7]).unwrap(), "destroyed once");

        // The batch's other keys open as before, also from a store opened afterwards.
        let reopened = KeyStore::open(keys_dir.clone()).unwrap();
        for (at, stream) in streams.iter().enumerate().filter(|(at, _)| *at != 7) {
            assert_eq!(reopened.get(*stream).unwrap().unwrap().bytes(), &bytes[at], "key {at}");
            assert!(on_disk(&bytes[at]));
        }
        assert!(reopened.get(streams[7]).unwrap().is_none());
        assert_eq!(reopened.all().unwrap().len(), streams.len() - 1, "a backup holds no erased key");

        // Erased through the reopened store too, with a key in a file of its own beside.
        let alone = StreamId::generate();
        let alone_key = *reopened.get_or_create(alone).unwrap().bytes();
        assert!(reopened.destroy(streams[0]).unwrap() && reopened.destroy(alone).unwrap());
        assert!(!on_disk(&bytes[0]) && !on_disk(&alone_key));
        assert_eq!(KeyStore::open(keys_dir).unwrap().get(streams[1]).unwrap().unwrap().bytes(), &bytes[1]);
    }

    #[test]
    fn a_key_store_of_key_files_alone_opens_and_gets_batches_beside_them() {
        let dir = tempfile::tempdir().unwrap();
        let keys_dir = dir.path().join("keys");
        let old = KeyStore::open(keys_dir.clone()).unwrap();
        let before: Vec<StreamId> = (0..3).map(|_| StreamId::generate()).collect();
        let old_keys: Vec<[u8; KEY_BYTES]> =
            before.iter().map(|stream| *old.get_or_create(*stream).unwrap().bytes()).collect();
        drop(old);
        assert!(!keys_dir.join(batches::BATCHES_DIR).exists(), "a key created alone has a file of its own");

        let keys = KeyStore::open(keys_dir.clone()).unwrap();
        let fresh = StreamId::generate();
        keys.create_many(&[before[0], fresh]).unwrap();
        let reopened = KeyStore::open(keys_dir).unwrap();
        for (stream, key) in before.iter().zip(&old_keys) {
            assert_eq!(reopened.get(*stream).unwrap().unwrap().bytes(), key, "an older key file still opens");
        }
        assert!(reopened.get(fresh).unwrap().is_some());
        assert_eq!(reopened.all().unwrap().len(), 4);
    }

    #[test]
    fn a_key_published_meanwhile_is_kept_rather_than_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let keys = KeyStore::open(dir.path().join("keys")).unwrap();
        let stream = StreamId::generate();
        let first = keys.get_or_create(stream).unwrap();
        let mut other = Zeroizing::new([7u8; KEY_BYTES]);
        other[0] = 1;
        let temporary = keys.path(stream).with_extension("race.tmp");
        fs::write(&temporary, other.as_ref()).unwrap();
        let refused = give_name(&temporary, &keys.path(stream)).unwrap_err();
        assert_eq!(refused.kind(), io::ErrorKind::AlreadyExists);
        assert!(!temporary.exists(), "the loser's file is removed");
        assert_eq!(keys.read(stream).unwrap().unwrap().bytes(), first.bytes());
    }

    fn walk(dir: &Path) -> Vec<PathBuf> {
        let mut out = vec![];
        for entry in fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                out.extend(walk(&path));
            }
            out.push(path);
        }
        out
    }
}
