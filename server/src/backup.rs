//! `parcours backup`: saves a running server's log through `GET /api/export`, with a progress
//! bar, checking every event's place in the hash chain as it arrives. The file is written beside
//! its destination and renamed into place once complete and synced: a backup file either holds a
//! whole, verified cut of the log, or does not exist.

use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::Path;
use std::process::ExitCode;

use anyhow::{bail, Context};
use parcours_core::store::page;

use crate::api::backup::CHAIN_HEAD_HEADER;
use crate::json::ExportReader;

pub fn backup(server: &str, to: &Path, token: &str) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().context("starting the runtime")?;
    runtime.block_on(save(server, to, token))
}

async fn save(server: &str, to: &Path, token: &str) -> anyhow::Result<ExitCode> {
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
    Ok(ExitCode::SUCCESS)
}
