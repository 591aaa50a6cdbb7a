//! The id index of bulk loads: sorted blocks of (id prefix, position), beside the `ids` tree of
//! appends.
//!
//! Why a second form: one sled key per event, even written in key order, took 3.4 times its 34
//! bytes on disk (sled writes each insert as a fragment with its own header, rewrites a leaf of 16
//! keys at each split, and keeps the replaced copies until it cleans a segment), and the ids were
//! then a third of a generated store (BENCHMARKS.md, issue 19, item 2). A block holds up to
//! [`BLOCK_ENTRIES`] entries of 12 bytes in one value, written once.
//!
//! An entry keeps the first [`PREFIX`] bytes of the id and the event's position in [`POSITION`]
//! bytes (a trillion events): a look-up reads the event at each position whose prefix matches and
//! compares the whole id, so a shared prefix (one chance in 2^56 per pair, a few per national
//! decade) costs a read, never a wrong answer. Every byte counts: at ten million events, four
//! more per entry put the store above twice its encoded bytes.
//!
//! Key: the run (`u8`, see `index_run`), then the block's first prefix. The runs of one load cover
//! overlapping ranges of ids, so a look-up searches each run; a load has a few runs at most.

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;

use super::page::position_key;
use super::{Location, StoreError, Trees};
use crate::limits::PAGE_EVENTS_MAX;
use crate::vocabulary::EventId;

pub(crate) const TREE: &str = "id_blocks";
const PREFIX: usize = 7;
const POSITION: usize = 5;
const ENTRY: usize = PREFIX + POSITION;
/// 3 KiB per block: a look-up reads one block per run.
const BLOCK_ENTRIES: usize = 256;

fn prefix(id: &[u8; 16]) -> [u8; PREFIX] {
    let mut prefix = [0u8; PREFIX];
    prefix.copy_from_slice(&id[..PREFIX]);
    prefix
}

fn block_key(run: u8, first: [u8; PREFIX]) -> [u8; 1 + PREFIX] {
    let mut key = [0u8; 1 + PREFIX];
    key[0] = run;
    key[1..].copy_from_slice(&first);
    key
}

/// The blocks' tree, and how many runs it holds: known from the opening on, so that a look-up of
/// an id appended one request at a time (none of them in a block) costs no sled call here.
#[derive(Clone)]
pub(crate) struct IdBlocks {
    tree: sled::Tree,
    runs: Arc<AtomicU8>,
}

impl IdBlocks {
    pub(crate) fn open(db: &sled::Db) -> Result<IdBlocks, StoreError> {
        let tree = db.open_tree(TREE)?;
        let runs = match tree.last()? {
            Some((key, _)) => key.first().map_or(0, |run| run.saturating_add(1)),
            None => 0,
        };
        Ok(IdBlocks { tree, runs: Arc::new(AtomicU8::new(runs)) })
    }

    /// The runs written so far: the next run's number.
    pub(crate) fn runs(&self) -> u8 {
        self.runs.load(Ordering::Acquire)
    }

    /// Writes the next run's ids, sorted by id, as blocks. A block never ends between two equal
    /// prefixes, so all the candidates of a look-up lie in one block of each run. Positions are at
    /// most [`POSITION_MAX`] and runs fewer than 255 (the caller checks).
    pub(crate) fn write_run(&self, sorted: &[([u8; 16], u64)]) -> Result<(), StoreError> {
        let run = self.runs();
        let mut rest = sorted;
        while let Some((first, _)) = rest.first() {
            let mut end = rest.len().min(BLOCK_ENTRIES);
            while end < rest.len() && prefix(&rest[end].0) == prefix(&rest[end - 1].0) {
                end += 1;
            }
            let mut value = Vec::with_capacity(end * ENTRY);
            for (id, position) in &rest[..end] {
                value.extend_from_slice(&prefix(id));
                value.extend_from_slice(&position.to_be_bytes()[8 - POSITION..]);
            }
            self.tree.insert(block_key(run, prefix(first)), value)?;
            rest = &rest[end..];
        }
        self.runs.store(run.saturating_add(1), Ordering::Release);
        Ok(())
    }

    /// Entries in every block.
    pub(crate) fn count(&self) -> Result<u64, StoreError> {
        let mut count = 0;
        for value in self.tree.iter().values() {
            count += (value?.len() / ENTRY) as u64;
        }
        Ok(count)
    }
}

/// The largest position an entry holds.
pub(crate) const POSITION_MAX: u64 = (1 << (8 * POSITION)) - 1;

/// A block's entries: each id prefix with its position.
fn entries(block: &[u8]) -> Result<impl Iterator<Item = (&[u8], u64)>, StoreError> {
    if block.len() % ENTRY != 0 {
        return Err(Trees::damaged(0, "malformed id block"));
    }
    Ok(block.chunks_exact(ENTRY).map(|entry| {
        let mut position = [0u8; 8];
        position[8 - POSITION..].copy_from_slice(&entry[PREFIX..]);
        (&entry[..PREFIX], u64::from_be_bytes(position))
    }))
}

/// The index in `sorted` (ids in order) of an id that an earlier run already holds. One pass over
/// each earlier run's blocks, side by side with `sorted`: checked one id at a time, the later
/// runs of a national decade took a block search per id and per run.
pub(crate) fn already_held(trees: &Trees, sorted: &[([u8; 16], u64)]) -> Result<Option<usize>, StoreError> {
    for run in 0..trees.id_blocks.runs() {
        let mut next = 0;
        for block in trees.id_blocks.tree.scan_prefix([run]).values() {
            for (prefix, _) in entries(&block?)? {
                while next < sorted.len() && sorted[next].0[..PREFIX] < *prefix {
                    next += 1;
                }
                if next == sorted.len() {
                    break;
                }
                // Every id of `sorted` from `next` on with this prefix is a candidate.
                for (offset, (id, _)) in
                    sorted[next..].iter().enumerate().take_while(|(_, (id, _))| id[..PREFIX] == *prefix)
                {
                    if find(trees, EventId(uuid::Uuid::from_bytes(*id)))?.is_some() {
                        return Ok(Some(next + offset));
                    }
                }
            }
        }
    }
    Ok(None)
}

/// The positions of the events whose id starts as `id` does, in every run.
fn candidates(blocks: &IdBlocks, id: &[u8; 16]) -> Result<Vec<u64>, StoreError> {
    let wanted = prefix(id);
    let mut positions = Vec::new();
    for run in 0..blocks.runs() {
        let Some((_, block)) =
            blocks.tree.range(block_key(run, [0; PREFIX])..=block_key(run, wanted)).next_back().transpose()?
        else {
            continue;
        };
        let matching = entries(&block)?.skip_while(|(prefix, _)| *prefix < &wanted[..]);
        positions.extend(matching.take_while(|(prefix, _)| *prefix == &wanted[..]).map(|(_, position)| position));
    }
    Ok(positions)
}

/// Where the event `id` lies, if a bulk load wrote it.
pub(crate) fn find(trees: &Trees, id: EventId) -> Result<Option<(u64, Location)>, StoreError> {
    for position in candidates(&trees.id_blocks, id.as_bytes())? {
        let location = locate(&trees.log, position)?;
        if trees.envelope_at(location)?.id == id {
            return Ok(Some((position, location)));
        }
    }
    Ok(None)
}

/// The page and slot of the event at `position`: pages are keyed by their first position.
fn locate(log: &sled::Tree, position: u64) -> Result<Location, StoreError> {
    let first = log
        .range(..=position_key(position))
        .next_back()
        .transpose()?
        .and_then(|(key, _)| super::page::position_from_key(&key))
        .ok_or_else(|| Trees::damaged(position, "an id block points before the first page"))?;
    let index = position - first;
    if index >= PAGE_EVENTS_MAX as u64 {
        return Err(Trees::damaged(first, format!("an id block points to position {position}, past this page")));
    }
    Ok(Location { page: first, index: index as u16 })
}
