//! What the filesystem holds now, and what a disk would still hold after a power cut.
//!
//! File contents live in the backing directory, one file per inode (`<backing>/<inode>`), so
//! that every read and write goes to a real file. Directories live in memory only: names are
//! metadata, and a power cut must be able to undo a creation, a rename or an unlink without
//! touching the contents.
//!
//! Per file, the model keeps the length at its last `fsync`/`fdatasync` and an undo log: before a
//! write or a truncation changes bytes that the last sync made durable, their old value is saved.
//! Per directory, it keeps its entries as of its last `fsyncdir`. A power cut replays every undo
//! log backwards, cuts every file to its synced length, gives every directory back its synced
//! entries, and forgets whatever is then no longer reachable from the root. This is the strict
//! POSIX reading of durability: a file's `fsync` does not make its name durable (ext4 often does
//! in practice, other filesystems do not), and a directory's `fsync` makes its entries durable,
//! not the contents of the files they name.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::ffi::{OsStr, OsString};
use std::fs::{File, OpenOptions};
use std::os::unix::fs::FileExt;
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use fuser::{Errno, FileAttr, FileType, INodeNo};

/// What a power cut changed: shown by the tests, so that a run says how much it threw away.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Forgotten {
    /// Files whose content or length went back to their last sync.
    pub files_reverted: usize,
    /// Directories whose entries went back to their last sync.
    pub directories_reverted: usize,
    /// Files and directories no longer reachable once the directories were put back.
    pub nodes_dropped: usize,
}

struct FileNode {
    /// The current length (that of the backing file).
    size: u64,
    /// The length as of the last sync.
    synced_len: u64,
    /// Old bytes of the synced range, saved before each change since the last sync, in order.
    undo: Vec<(u64, Vec<u8>)>,
}

struct DirNode {
    entries: BTreeMap<OsString, u64>,
    synced: BTreeMap<OsString, u64>,
}

enum Kind {
    File(FileNode),
    Dir(DirNode),
}

struct Node {
    perm: u16,
    mtime: SystemTime,
    kind: Kind,
}

pub(crate) struct Model {
    backing: PathBuf,
    nodes: HashMap<u64, Node>,
    next_inode: u64,
    uid: u32,
    gid: u32,
}

pub(crate) const ROOT: u64 = 1;

fn io(error: std::io::Error) -> Errno {
    Errno::from(error)
}

impl Model {
    /// An empty filesystem over `backing`, which must be an empty directory.
    pub fn new(backing: PathBuf, uid: u32, gid: u32) -> Model {
        let root = Node {
            perm: 0o755,
            mtime: SystemTime::now(),
            kind: Kind::Dir(DirNode { entries: BTreeMap::new(), synced: BTreeMap::new() }),
        };
        Model { backing, nodes: HashMap::from([(ROOT, root)]), next_inode: ROOT + 1, uid, gid }
    }

    fn path(&self, inode: u64) -> PathBuf {
        self.backing.join(inode.to_string())
    }

    fn open(&self, inode: u64) -> Result<File, Errno> {
        OpenOptions::new().read(true).write(true).open(self.path(inode)).map_err(io)
    }

    fn node(&self, inode: u64) -> Result<&Node, Errno> {
        self.nodes.get(&inode).ok_or(Errno::ENOENT)
    }

    fn file_mut(&mut self, inode: u64) -> Result<&mut FileNode, Errno> {
        match self.nodes.get_mut(&inode).map(|node| &mut node.kind) {
            Some(Kind::File(file)) => Ok(file),
            Some(Kind::Dir(_)) => Err(Errno::EISDIR),
            None => Err(Errno::ENOENT),
        }
    }

    fn dir(&self, inode: u64) -> Result<&DirNode, Errno> {
        match self.nodes.get(&inode).map(|node| &node.kind) {
            Some(Kind::Dir(dir)) => Ok(dir),
            Some(Kind::File(_)) => Err(Errno::ENOTDIR),
            None => Err(Errno::ENOENT),
        }
    }

    fn dir_mut(&mut self, inode: u64) -> Result<&mut DirNode, Errno> {
        match self.nodes.get_mut(&inode).map(|node| &mut node.kind) {
            Some(Kind::Dir(dir)) => Ok(dir),
            Some(Kind::File(_)) => Err(Errno::ENOTDIR),
            None => Err(Errno::ENOENT),
        }
    }

    pub fn attr(&self, inode: u64) -> Result<FileAttr, Errno> {
        let node = self.node(inode)?;
        let (kind, size, nlink) = match &node.kind {
            Kind::File(file) => (FileType::RegularFile, file.size, 1),
            Kind::Dir(_) => (FileType::Directory, 0, 2),
        };
        Ok(FileAttr {
            ino: INodeNo(inode),
            size,
            blocks: size.div_ceil(512),
            atime: node.mtime,
            mtime: node.mtime,
            ctime: node.mtime,
            crtime: node.mtime,
            kind,
            perm: node.perm,
            nlink,
            uid: self.uid,
            gid: self.gid,
            rdev: 0,
            blksize: 4096,
            flags: 0,
        })
    }

    pub fn lookup(&self, parent: u64, name: &OsStr) -> Result<FileAttr, Errno> {
        let inode = *self.dir(parent)?.entries.get(name).ok_or(Errno::ENOENT)?;
        self.attr(inode)
    }

    fn add_node(&mut self, parent: u64, name: &OsStr, perm: u16, kind: Kind) -> Result<FileAttr, Errno> {
        if self.dir(parent)?.entries.contains_key(name) {
            return Err(Errno::EEXIST);
        }
        let inode = self.next_inode;
        if matches!(kind, Kind::File(_)) {
            OpenOptions::new().write(true).create_new(true).open(self.path(inode)).map_err(io)?;
        }
        self.next_inode += 1;
        self.nodes.insert(inode, Node { perm, mtime: SystemTime::now(), kind });
        self.dir_mut(parent)?.entries.insert(name.to_owned(), inode);
        self.touch(parent);
        self.attr(inode)
    }

    pub fn create_file(&mut self, parent: u64, name: &OsStr, perm: u16) -> Result<FileAttr, Errno> {
        let file = FileNode { size: 0, synced_len: 0, undo: Vec::new() };
        self.add_node(parent, name, perm, Kind::File(file))
    }

    pub fn mkdir(&mut self, parent: u64, name: &OsStr, perm: u16) -> Result<FileAttr, Errno> {
        let dir = DirNode { entries: BTreeMap::new(), synced: BTreeMap::new() };
        self.add_node(parent, name, perm, Kind::Dir(dir))
    }

    /// Removes a name. The node itself stays: a synced directory may still name it, and a power
    /// cut would bring it back.
    pub fn unlink(&mut self, parent: u64, name: &OsStr) -> Result<(), Errno> {
        let inode = *self.dir(parent)?.entries.get(name).ok_or(Errno::ENOENT)?;
        if matches!(self.node(inode)?.kind, Kind::Dir(_)) {
            return Err(Errno::EISDIR);
        }
        self.dir_mut(parent)?.entries.remove(name);
        self.touch(parent);
        Ok(())
    }

    pub fn rmdir(&mut self, parent: u64, name: &OsStr) -> Result<(), Errno> {
        let inode = *self.dir(parent)?.entries.get(name).ok_or(Errno::ENOENT)?;
        if !self.dir(inode)?.entries.is_empty() {
            return Err(Errno::ENOTEMPTY);
        }
        self.dir_mut(parent)?.entries.remove(name);
        self.touch(parent);
        Ok(())
    }

    pub fn rename(
        &mut self,
        parent: u64,
        name: &OsStr,
        new_parent: u64,
        new_name: &OsStr,
        no_replace: bool,
    ) -> Result<(), Errno> {
        let inode = *self.dir(parent)?.entries.get(name).ok_or(Errno::ENOENT)?;
        if let Some(&target) = self.dir(new_parent)?.entries.get(new_name) {
            if target == inode {
                return Ok(());
            }
            if no_replace {
                return Err(Errno::EEXIST);
            }
            match (&self.node(inode)?.kind, &self.node(target)?.kind) {
                (Kind::Dir(_), Kind::Dir(dir)) if !dir.entries.is_empty() => return Err(Errno::ENOTEMPTY),
                (Kind::Dir(_), Kind::File(_)) => return Err(Errno::ENOTDIR),
                (Kind::File(_), Kind::Dir(_)) => return Err(Errno::EISDIR),
                _ => {}
            }
        }
        self.dir_mut(parent)?.entries.remove(name);
        self.dir_mut(new_parent)?.entries.insert(new_name.to_owned(), inode);
        self.touch(parent);
        self.touch(new_parent);
        Ok(())
    }

    pub fn link(&mut self, inode: u64, new_parent: u64, new_name: &OsStr) -> Result<FileAttr, Errno> {
        if matches!(self.node(inode)?.kind, Kind::Dir(_)) {
            return Err(Errno::EPERM);
        }
        let dir = self.dir_mut(new_parent)?;
        if dir.entries.contains_key(new_name) {
            return Err(Errno::EEXIST);
        }
        dir.entries.insert(new_name.to_owned(), inode);
        self.touch(new_parent);
        self.attr(inode)
    }

    pub fn read(&self, inode: u64, offset: u64, size: u32) -> Result<Vec<u8>, Errno> {
        let file = self.open(inode)?;
        let mut buffer = vec![0u8; size as usize];
        let mut filled = 0;
        while filled < buffer.len() {
            let read = file.read_at(&mut buffer[filled..], offset + filled as u64).map_err(io)?;
            if read == 0 {
                break;
            }
            filled += read;
        }
        buffer.truncate(filled);
        Ok(buffer)
    }

    /// Saves the synced bytes in `[from, to)` that are still in the file, before they change.
    fn save_undo(&mut self, inode: u64, from: u64, to: u64) -> Result<(), Errno> {
        let file = self.file_mut(inode)?;
        let to = to.min(file.size).min(file.synced_len);
        if from >= to {
            return Ok(());
        }
        let old = self.read(inode, from, (to - from) as u32)?;
        self.file_mut(inode)?.undo.push((from, old));
        Ok(())
    }

    pub fn write(&mut self, inode: u64, offset: u64, data: &[u8]) -> Result<(), Errno> {
        self.save_undo(inode, offset, offset + data.len() as u64)?;
        self.open(inode)?.write_all_at(data, offset).map_err(io)?;
        let file = self.file_mut(inode)?;
        file.size = file.size.max(offset + data.len() as u64);
        self.touch(inode);
        Ok(())
    }

    pub fn set_len(&mut self, inode: u64, size: u64) -> Result<(), Errno> {
        let current = self.file_mut(inode)?.size;
        // Bytes cut off are saved in pieces, so that no single read is larger than a `u32`.
        let mut from = size;
        while from < current {
            let to = current.min(from + (1 << 30));
            self.save_undo(inode, from, to)?;
            from = to;
        }
        self.open(inode)?.set_len(size).map_err(io)?;
        self.file_mut(inode)?.size = size;
        self.touch(inode);
        Ok(())
    }

    pub fn set_perm(&mut self, inode: u64, perm: u16) -> Result<(), Errno> {
        self.nodes.get_mut(&inode).ok_or(Errno::ENOENT)?.perm = perm;
        Ok(())
    }

    fn touch(&mut self, inode: u64) {
        if let Some(node) = self.nodes.get_mut(&inode) {
            node.mtime = SystemTime::now();
        }
    }

    /// `fsync` and `fdatasync` alike: the file's content and length as they are now are durable.
    pub fn sync_file(&mut self, inode: u64) -> Result<(), Errno> {
        let file = self.file_mut(inode)?;
        file.synced_len = file.size;
        file.undo.clear();
        Ok(())
    }

    /// `fsync` of a directory: its entries as they are now are durable.
    pub fn sync_dir(&mut self, inode: u64) -> Result<(), Errno> {
        let dir = self.dir_mut(inode)?;
        dir.synced = dir.entries.clone();
        Ok(())
    }

    /// The entries of a directory, `.` and `..` first.
    pub fn entries(&self, inode: u64) -> Result<Vec<(u64, FileType, OsString)>, Errno> {
        let dir = self.dir(inode)?;
        let mut listed = vec![(inode, FileType::Directory, ".".into()), (inode, FileType::Directory, "..".into())];
        for (name, &child) in &dir.entries {
            let kind = match self.node(child)?.kind {
                Kind::File(_) => FileType::RegularFile,
                Kind::Dir(_) => FileType::Directory,
            };
            listed.push((child, kind, name.clone()));
        }
        Ok(listed)
    }

    /// Puts everything back to its last synced state (see the module's documentation).
    pub fn power_cut(&mut self) -> std::io::Result<Forgotten> {
        let mut forgotten = Forgotten::default();
        let inodes: Vec<u64> = self.nodes.keys().copied().collect();
        for inode in inodes {
            let path = self.path(inode);
            let Some(node) = self.nodes.get_mut(&inode) else { continue };
            match &mut node.kind {
                Kind::File(file) => {
                    if file.size == file.synced_len && file.undo.is_empty() {
                        continue;
                    }
                    let backing = OpenOptions::new().write(true).open(&path)?;
                    for (offset, old) in file.undo.drain(..).rev() {
                        backing.write_all_at(&old, offset)?;
                    }
                    backing.set_len(file.synced_len)?;
                    file.size = file.synced_len;
                    forgotten.files_reverted += 1;
                }
                Kind::Dir(dir) => {
                    if dir.entries != dir.synced {
                        dir.entries = dir.synced.clone();
                        forgotten.directories_reverted += 1;
                    }
                }
            }
        }
        let mut reachable = HashSet::from([ROOT]);
        let mut queue = vec![ROOT];
        while let Some(inode) = queue.pop() {
            if let Some(Node { kind: Kind::Dir(dir), .. }) = self.nodes.get(&inode) {
                for &child in dir.entries.values() {
                    if reachable.insert(child) {
                        queue.push(child);
                    }
                }
            }
        }
        let dropped: Vec<u64> = self.nodes.keys().filter(|inode| !reachable.contains(inode)).copied().collect();
        for inode in dropped {
            if let Some(Node { kind: Kind::File(_), .. }) = self.nodes.remove(&inode) {
                std::fs::remove_file(self.path(inode))?;
            }
            forgotten.nodes_dropped += 1;
        }
        Ok(forgotten)
    }
}

/// How long the kernel may keep an answer: not at all, so that nothing it caches can hide what a
/// power cut changed (the mount is also renewed at each cut).
pub(crate) const TTL: Duration = Duration::ZERO;
