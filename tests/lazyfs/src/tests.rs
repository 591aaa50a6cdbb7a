//! Each rule of the power cut, shown through the mount with ordinary file operations.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::FileExt;
use std::path::Path;

use super::LazyFs;

fn sync_dir(dir: &Path) {
    File::open(dir).and_then(|dir| dir.sync_all()).expect("the directory syncs");
}

/// A file with `content`, its bytes and its name synced.
fn durable_file(path: &Path, content: &[u8]) {
    let mut file = File::create(path).expect("a new file");
    file.write_all(content).and_then(|()| file.sync_all()).expect("written and synced");
    sync_dir(path.parent().expect("a parent"));
}

#[test]
fn an_unsynced_write_vanishes_and_a_synced_one_stays() {
    let Some(mut lazy) = LazyFs::for_test("an_unsynced_write_vanishes_and_a_synced_one_stays") else { return };
    let path = lazy.mountpoint().join("journal");
    durable_file(&path, b"synced ");
    let mut file = OpenOptions::new().append(true).open(&path).unwrap();
    file.write_all(b"then lost").unwrap();
    drop(file);
    assert_eq!(fs::read(&path).unwrap(), b"synced then lost", "before the cut, every write is readable");

    let forgotten = lazy.power_cut().unwrap();
    assert_eq!(fs::read(&path).unwrap(), b"synced ", "the unsynced append is gone");
    assert_eq!(forgotten.files_reverted, 1);

    let file = OpenOptions::new().append(true).open(&path).unwrap();
    file.write_all_at(b"kept", 7).and_then(|()| file.sync_data()).unwrap();
    drop(file);
    lazy.power_cut().unwrap();
    assert_eq!(fs::read(&path).unwrap(), b"synced kept", "an fdatasync'd write stays");
}

#[test]
fn an_overwrite_and_a_truncation_of_synced_bytes_are_undone() {
    let Some(mut lazy) = LazyFs::for_test("an_overwrite_and_a_truncation_of_synced_bytes_are_undone") else { return };
    let path = lazy.mountpoint().join("data");
    durable_file(&path, b"0123456789");
    let file = OpenOptions::new().write(true).open(&path).unwrap();
    file.write_all_at(b"abc", 2).unwrap();
    file.set_len(4).unwrap();
    file.write_all_at(b"xyz", 8).unwrap();
    drop(file);
    assert_eq!(fs::read(&path).unwrap(), b"01ab\0\0\0\0xyz");
    lazy.power_cut().unwrap();
    assert_eq!(fs::read(&path).unwrap(), b"0123456789", "the synced content, byte for byte");
}

#[test]
fn a_file_whose_directory_was_not_synced_vanishes() {
    let Some(mut lazy) = LazyFs::for_test("a_file_whose_directory_was_not_synced_vanishes") else { return };
    let dir = lazy.mountpoint().join("keys");
    fs::create_dir(&dir).unwrap();
    sync_dir(lazy.mountpoint());
    let path = dir.join("a.key");
    let mut file = File::create(&path).unwrap();
    file.write_all(b"secret").and_then(|()| file.sync_all()).unwrap();
    drop(file);

    lazy.power_cut().unwrap();
    assert!(dir.is_dir(), "the synced directory stays");
    assert!(!path.exists(), "a synced file whose name was never synced vanishes");

    // And a directory never synced into its parent vanishes with all it holds.
    let unsynced = lazy.mountpoint().join("unsynced");
    fs::create_dir(&unsynced).unwrap();
    durable_file(&unsynced.join("inside"), b"synced, but in a directory nobody synced");
    lazy.power_cut().unwrap();
    assert!(!unsynced.exists(), "a directory whose parent was not synced vanishes");
}

#[test]
fn an_unlink_not_synced_comes_back() {
    let Some(mut lazy) = LazyFs::for_test("an_unlink_not_synced_comes_back") else { return };
    let path = lazy.mountpoint().join("erased.key");
    durable_file(&path, b"key bytes");
    fs::remove_file(&path).unwrap();
    assert!(!path.exists());
    lazy.power_cut().unwrap();
    assert_eq!(fs::read(&path).unwrap(), b"key bytes", "the file is back, with its synced content");

    fs::remove_file(&path).unwrap();
    sync_dir(lazy.mountpoint());
    lazy.power_cut().unwrap();
    assert!(!path.exists(), "an unlink followed by a directory sync is durable");
}

#[test]
fn a_rename_not_synced_is_undone() {
    let Some(mut lazy) = LazyFs::for_test("a_rename_not_synced_is_undone") else { return };
    let old = lazy.mountpoint().join("snap.generating");
    let new = lazy.mountpoint().join("snap");
    durable_file(&old, b"snapshot");
    fs::rename(&old, &new).unwrap();
    lazy.power_cut().unwrap();
    assert!(!new.exists(), "the new name is gone");
    assert_eq!(fs::read(&old).unwrap(), b"snapshot", "the old name is back");

    fs::rename(&old, &new).unwrap();
    sync_dir(lazy.mountpoint());
    lazy.power_cut().unwrap();
    assert_eq!(fs::read(&new).unwrap(), b"snapshot", "a synced rename stays");
    assert!(!old.exists());
}

#[test]
fn a_key_published_by_hard_link_then_synced_stays() {
    // The key store's way to publish a key: a temporary file, synced, hard-linked to its name,
    // the temporary name removed, the directory synced.
    let Some(mut lazy) = LazyFs::for_test("a_key_published_by_hard_link_then_synced_stays") else {
        return;
    };
    let temporary = lazy.mountpoint().join("k.tmp");
    let key = lazy.mountpoint().join("k.key");
    let mut file = File::create(&temporary).unwrap();
    file.write_all(b"key").and_then(|()| file.sync_all()).unwrap();
    drop(file);
    fs::hard_link(&temporary, &key).unwrap();
    fs::remove_file(&temporary).unwrap();
    sync_dir(lazy.mountpoint());
    lazy.power_cut().unwrap();
    assert_eq!(fs::read(&key).unwrap(), b"key");
    assert!(!temporary.exists(), "the unlink was synced with the link");
}
