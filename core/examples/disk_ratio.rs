//! The disk a store takes against the encoded bytes of its events (issue 19, item 2: ≤ 2.0×):
//! `cargo run --release -p parcours-core --example disk_ratio -- DIR`. Reads the whole log once;
//! the store must not be in use.

use std::path::Path;

use parcours_core::store::{page, Store, StoreOptions};

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

/// Bytes allocated on disk under `dir` (`du`).
fn allocated(dir: &Path) -> Result<u64> {
    use std::os::unix::fs::MetadataExt;
    let mut total = 0;
    for entry in std::fs::read_dir(dir)? {
        let metadata = entry?.metadata()?;
        total += metadata.blocks() * 512;
    }
    Ok(total)
}

fn allocated_tree(dir: &Path) -> Result<u64> {
    let mut total = allocated(dir)?;
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        if entry.metadata()?.is_dir() {
            total += allocated_tree(&entry.path())?;
        }
    }
    Ok(total)
}

fn main() -> Result<()> {
    let dir = std::env::args().nth(1).ok_or("usage: disk_ratio DIR")?;
    let dir = Path::new(&dir);
    let on_disk = allocated_tree(dir)?;
    let store = Store::open(dir, StoreOptions::default())?;
    let (mut events, mut encoded) = (0u64, 0u64);
    for page in store.pages_from(1) {
        for envelope in page?.1 {
            encoded += page::encode_record(&envelope)?.len() as u64;
            events += 1;
        }
    }
    println!(
        "{events} events; encoded {encoded} bytes ({:.1} B/event); du {on_disk} bytes ({:.1} B/event); ratio {:.2}",
        encoded as f64 / events.max(1) as f64,
        on_disk as f64 / events.max(1) as f64,
        on_disk as f64 / encoded.max(1) as f64
    );
    Ok(())
}
