//! Directories made durable. Syncing a file makes its bytes durable, not its name: a name, like
//! a new directory, survives a power cut only once the directory that holds it is synced. sled
//! never syncs a directory (not `log/` after creating `db` and `conf`, nor after renaming a new
//! snapshot into place), so the store does it; the power-loss test (`tests/e2e/power_loss.rs`)
//! lost the whole store after its first cut before it did.

use std::fs::File;
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

pub(crate) fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

/// Held from a directory's creation to the sync of its parent: whoever then finds the directory
/// there knows its name is durable (two writers publishing keys in one new shard raced here: the
/// second wrote its key into a directory the power cut took away).
static CREATING: Mutex<()> = Mutex::new(());

/// Creates `dir` and its missing parents, each one's name synced in its parent, so that a
/// directory created here is still there after a power cut.
pub(crate) fn create_synced(dir: &Path) -> io::Result<()> {
    let _creating = CREATING.lock().unwrap_or_else(PoisonError::into_inner);
    create_synced_locked(dir)
}

fn create_synced_locked(dir: &Path) -> io::Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    let parent = dir.parent().filter(|parent| !parent.as_os_str().is_empty()).unwrap_or(Path::new("."));
    create_synced_locked(parent)?;
    std::fs::create_dir(dir)?;
    sync_dir(parent)
}

/// How long after a directory's last change its modification time may still not tell a later
/// change from it (filesystems stamp times from a coarse clock).
const STAMP_GRAIN: Duration = Duration::from_secs(2);

/// A directory whose entries another component changes behind the store's back (sled's `log/`),
/// synced at each commit when it changed since its last sync: one `fstat` per commit otherwise.
pub(crate) struct WatchedDir {
    file: File,
    /// The directory's modification time before its last sync, and when that sync was made.
    synced: Mutex<(SystemTime, SystemTime)>,
}

fn modified(file: &File) -> io::Result<SystemTime> {
    let metadata = file.metadata()?;
    let nanos = u32::try_from(metadata.mtime_nsec()).unwrap_or(0);
    let since_epoch = Duration::new(u64::try_from(metadata.mtime()).unwrap_or(0), nanos);
    Ok(UNIX_EPOCH + since_epoch)
}

impl WatchedDir {
    /// Opens the directory and syncs it at once (whatever changed it before is durable then).
    pub fn open(dir: &Path) -> io::Result<WatchedDir> {
        let file = File::open(dir)?;
        let stamp = modified(&file)?;
        file.sync_all()?;
        Ok(WatchedDir { file, synced: Mutex::new((stamp, SystemTime::now())) })
    }

    /// Syncs the directory unless its last sync came well after its last change.
    pub fn sync_if_changed(&self) -> io::Result<()> {
        let mut synced = self.synced.lock().unwrap_or_else(PoisonError::into_inner);
        let stamp = modified(&self.file)?;
        let (synced_stamp, synced_at) = *synced;
        if stamp == synced_stamp && synced_at > stamp + STAMP_GRAIN {
            return Ok(());
        }
        self.file.sync_all()?;
        *synced = (stamp, SystemTime::now());
        Ok(())
    }
}
