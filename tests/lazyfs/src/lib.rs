//! A FUSE filesystem that forgets, at a simulated power cut, whatever was not synced: the tests'
//! way to check that "a 2xx answer means durable" holds against the disk, not only against the
//! death of a process (a SIGKILL keeps the kernel's page cache, so it cannot tell a store that
//! syncs from one that does not). The idea is that of LazyFS (used by Jepsen).
//!
//! Every operation goes to a backing directory (see [`model`] for the layout and the rules of
//! what survives a cut). [`LazyFs::power_cut`] unmounts, puts every file back to its content as of
//! its last `fsync`/`fdatasync` and every directory back to its entries as of its last directory
//! `fsync`, then mounts again. The caller stops the processes using the mount first, as a power
//! cut would.
//!
//! Kernel caching: the mount never asks for FUSE's writeback cache, so the page cache is
//! write-through: every `write`/`pwrite` reaches this filesystem when the call is made, and
//! `fsync`/`fdatasync` arrive as `FSYNC` requests, directory syncs as `FSYNCDIR`.
//! `sync_file_range` (sled's `flush()`) sends nothing to FUSE, so here, as on a disk after a
//! power cut, it makes nothing durable. Attributes and names are given with a zero lifetime, and
//! a cut renews the mount, so no page, attribute or name cached by the kernel before a cut can
//! show through after it. `direct_io` is not used: it would refuse `mmap` and change nothing
//! about what reaches the filesystem.
//!
//! The tests that need it call [`LazyFs::for_test`]: without FUSE (no `/dev/fuse`, no
//! `fusermount3`, no right to mount) it fails the test in CI (`CI=true`) and skips it loudly
//! elsewhere, so that `cargo test` passes on a machine with only the Rust toolchain.

mod fs;
mod model;

use std::io::{self, Write as _};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use fuser::{BackgroundSession, Config, MountOption};

pub use model::Forgotten;

/// A mounted lazy filesystem and the temporary directory that holds its backing files.
pub struct LazyFs {
    model: Arc<Mutex<model::Model>>,
    session: Option<BackgroundSession>,
    mountpoint: PathBuf,
    // Declared last: removed after the filesystem is unmounted (see `Drop`).
    _dir: tempfile::TempDir,
}

impl LazyFs {
    /// Mounts an empty lazy filesystem in a new temporary directory.
    pub fn mount() -> io::Result<LazyFs> {
        let dir = tempfile::Builder::new().prefix("parcours-lazyfs-").tempdir()?;
        let backing = dir.path().join("backing");
        let mountpoint = dir.path().join("mnt");
        std::fs::create_dir(&backing)?;
        std::fs::create_dir(&mountpoint)?;
        let owner = std::fs::metadata(&backing)?;
        let model = Arc::new(Mutex::new(model::Model::new(backing, owner.uid(), owner.gid())));
        let session = Some(spawn(&model, &mountpoint)?);
        Ok(LazyFs { model, session, mountpoint, _dir: dir })
    }

    /// A mounted filesystem for a test, or `None` (after a loud message on stderr) where FUSE is
    /// missing outside CI. In CI (`CI=true`) a missing FUSE fails the test.
    pub fn for_test(test: &str) -> Option<LazyFs> {
        let reason = if !Path::new("/dev/fuse").exists() {
            "there is no /dev/fuse".to_owned()
        } else {
            match LazyFs::mount() {
                Ok(filesystem) => return Some(filesystem),
                Err(error) => format!("mounting failed: {error}"),
            }
        };
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "{test} needs FUSE in CI ({reason}; apt-get install fuse3, and run where /dev/fuse may be used)"
        );
        // Straight to stderr: `eprintln!` would be captured by the test harness, and unseen.
        let _ = writeln!(
            io::stderr(),
            "\n*** SKIPPED: {test} needs FUSE ({reason}; apt-get install fuse3, and run where /dev/fuse may be used) ***\n"
        );
        None
    }

    pub fn mountpoint(&self) -> &Path {
        &self.mountpoint
    }

    /// The power cut: unmounts, forgets what was not synced, mounts again. Every process that
    /// had the mount open must be stopped first (unmounting fails while a file is open).
    pub fn power_cut(&mut self) -> io::Result<Forgotten> {
        if let Some(session) = self.session.take() {
            session.umount_and_join()?;
        }
        let forgotten = self.model.lock().unwrap_or_else(PoisonError::into_inner).power_cut()?;
        self.session = Some(spawn(&self.model, &self.mountpoint)?);
        Ok(forgotten)
    }
}

impl Drop for LazyFs {
    fn drop(&mut self) {
        if let Some(session) = self.session.take() {
            let _ = session.umount_and_join();
        }
    }
}

fn spawn(model: &Arc<Mutex<model::Model>>, mountpoint: &Path) -> io::Result<BackgroundSession> {
    let mut config = Config::default();
    config.mount_options = vec![MountOption::FSName("parcours-lazyfs".into()), MountOption::RW];
    fuser::spawn_mount(fs::LazyFilesystem { model: model.clone() }, mountpoint, &config)
}

#[cfg(test)]
mod tests;
