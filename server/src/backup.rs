//! `parcours backup`: saves a running server's log through `GET /api/export`, with a progress
//! bar, checking every event's place in the hash chain as it arrives. The file is written beside
//! its destination and renamed into place once complete and synced: a backup file either holds a
//! whole, verified cut of the log, or does not exist.
//!
//! Published reports' snapshots (`crate::report_snapshot`) are not saved: they are derived from the
//! log, as the projections are, and a store restored from a backup folds once per publication asked
//! and keeps its snapshot again: saving them would carry bytes the log already implies, and a backup
//! of the log alone stays one verifiable thing.

use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::Path;
use std::process::ExitCode;

use anyhow::{bail, Context};
use parcours_core::store::page;

use crate::app::backup::{KeyLine, CHAIN_HEAD_HEADER};
use crate::json::ExportReader;

pub fn backup(server: &str, to: &Path, token: &str, with_keys: bool) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().context("starting the runtime")?;
    runtime.block_on(save(server, to, token, with_keys))
}

async fn save(server: &str, to: &Path, token: &str, with_keys: bool) -> anyhow::Result<ExitCode> {
    let url = format!("{}/api/export", server.trim_end_matches('/'));
    let mut response = reqwest::Client::new()
        .get(&url)
        .bearer_auth(token.trim())
        .send()
        .await
        .with_context(|| format!("asking {url}"))?;
    if !response.status().is_success() {
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        bail!("{url} answered {status}: {text}");
    }
    let announced = response
        .headers()
        .get(CHAIN_HEAD_HEADER)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split_once(' '))
        .and_then(|(position, hash)| Some((position.parse::<u64>().ok()?, hash.to_owned())))
        .context("the server did not announce the head of its export")?;

    let partial = to.with_extension("partial");
    let file = File::create(&partial).with_context(|| format!("creating {}", partial.display()))?;
    let mut out = BufWriter::new(file);
    let bar = indicatif::ProgressBar::new(announced.0).with_style(
        indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} events, {per_sec}, {eta} left")
            .context("the progress bar's template")?,
    );
    let mut reader = ExportReader::new();
    let (mut position, mut head) = (0u64, [0u8; 32]);
    let mut pending = Vec::new();
    while let Some(chunk) = response.chunk().await.context("reading the export")? {
        pending.extend_from_slice(&chunk);
        while let Some(end) = pending.iter().position(|byte| *byte == b'\n') {
            let line: Vec<u8> = pending.drain(..=end).collect();
            let text = std::str::from_utf8(&line).context("the export is not UTF-8")?;
            let envelope =
                reader.read(text.trim_end()).map_err(|error| anyhow::anyhow!("event {}: {error}", position + 1))?;
            if envelope.position != position + 1 || envelope.prev_hash != head {
                bail!("the export breaks the hash chain at position {}: not saved", position + 1);
            }
            head = page::hash(&page::encode_record(&envelope)?);
            position = envelope.position;
            out.write_all(&line)?;
            bar.set_position(position);
        }
    }
    bar.finish_and_clear();
    if position != announced.0 || hex::encode(head) != announced.1 {
        bail!("the export ended at position {position}, before the announced head {}: not saved", announced.0);
    }
    let file = out.into_inner().map_err(|error| error.into_error())?;
    file.sync_all()?;
    fs::rename(&partial, to).with_context(|| format!("moving the backup to {}", to.display()))?;
    if let Some(dir) = to.parent().filter(|dir| !dir.as_os_str().is_empty()) {
        File::open(dir).and_then(|dir| dir.sync_all())?;
    }
    println!("saved {position} events to {}; chain head {}", to.display(), announced.1);
    if with_keys {
        let keys = save_keys(server, to, token).await?;
        println!(
            "saved {keys} keys to {} (they open the identities: keep this file as safe as the data)",
            keys_path(to).display()
        );
    } else {
        println!("no keys saved (--with-keys saves them): the identities of this backup stay sealed once restored");
    }
    Ok(ExitCode::SUCCESS)
}

/// Where the keys of a backup go: beside it, `FILE.keys`.
pub fn keys_path(backup: &Path) -> std::path::PathBuf {
    let mut name = backup.as_os_str().to_owned();
    name.push(".keys");
    name.into()
}

/// Saves the beneficiaries' keys beside the log, readable by the owner only.
async fn save_keys(server: &str, to: &Path, token: &str) -> anyhow::Result<usize> {
    let url = format!("{}/api/export/keys", server.trim_end_matches('/'));
    let response = reqwest::Client::new()
        .get(&url)
        .bearer_auth(token.trim())
        .send()
        .await
        .with_context(|| format!("asking {url}"))?;
    if !response.status().is_success() {
        bail!("{url} answered {}", response.status());
    }
    let bytes = response.bytes().await.context("reading the keys")?;
    let path = keys_path(to);
    let partial = path.with_extension("partial");
    let mut options = fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(&partial).with_context(|| format!("creating {}", partial.display()))?;
    file.write_all(&bytes)?;
    file.sync_all()?;
    fs::rename(&partial, &path)?;
    Ok(bytes.iter().filter(|byte| **byte == b'\n').count())
}

/// Reads a keys file written by [`save_keys`].
pub fn read_keys(
    path: &Path,
) -> anyhow::Result<
    impl Iterator<Item = Result<(parcours_core::vocabulary::StreamId, [u8; 32]), parcours_core::store::StoreError>>,
> {
    use base64::Engine;
    use std::io::BufRead;
    let file = File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let path = path.to_owned();
    Ok(std::io::BufReader::new(file)
        .lines()
        .enumerate()
        .filter(|(_, line)| !matches!(line, Ok(l) if l.trim().is_empty()))
        .map(move |(number, line)| {
            let problem =
                |problem: String| parcours_core::store::StoreError::Import { position: number as u64 + 1, problem };
            let line = line.map_err(|source| parcours_core::store::StoreError::Io { path: path.clone(), source })?;
            let key: KeyLine =
                serde_json::from_str(&line).map_err(|error| problem(format!("line {}: {error}", number + 1)))?;
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(&key.key)
                .ok()
                .and_then(|bytes| <[u8; 32]>::try_from(bytes).ok())
                .ok_or_else(|| problem(format!("line {}: a key is 32 bytes in base64", number + 1)))?;
            Ok((key.beneficiary, bytes))
        }))
}
