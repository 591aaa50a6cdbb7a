//! Directories made durable. Syncing a file makes its bytes durable, not its name: a name, like
//! a new directory, survives a power cut only once the directory that holds it is synced. sled
//! never syncs a directory (not `log/` after creating `db` and `conf`, nor after renaming the
//! snapshot it writes when it opens a store), so the store does it; the power-loss test
//! (`tests/e2e/power_loss.rs`) lost the whole store at its first cut before it did.

use std::fs::File;
use std::io;
use std::path::Path;
use std::sync::{Mutex, PoisonError};

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
    create_synced_locked(dir, &std::fs::DirBuilder::new())
}

/// As [`create_synced`], each directory it creates readable by its owner only (0700) from the
/// moment it exists, whatever the umask: the key store's.
pub(crate) fn create_synced_private(dir: &Path) -> io::Result<()> {
    let _creating = CREATING.lock().unwrap_or_else(PoisonError::into_inner);
    let mut builder = std::fs::DirBuilder::new();
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    create_synced_locked(dir, &builder)
}

fn create_synced_locked(dir: &Path, builder: &std::fs::DirBuilder) -> io::Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    let parent = dir.parent().filter(|parent| !parent.as_os_str().is_empty()).unwrap_or(Path::new("."));
    create_synced_locked(parent, builder)?;
    builder.create(dir)?;
    sync_dir(parent)
}
