//! The commands of CONTRACT §6 that work on the store directly. They fail with a clear message
//! when a server holds the store.

use std::io::{BufRead, BufWriter, Write};
use std::process::ExitCode;

use anyhow::Context;
use parcours_core::store::{Store, StoreError, StoreOptions};
use parcours_core::vocabulary::StreamId;

use crate::cli::{Cli, Command};
use crate::json::{self, Identity};

pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Serve(args) => crate::serve::serve(args).map(|()| ExitCode::SUCCESS),
        Command::History { id, as_of, data } => {
            let stream: StreamId =
                id.parse().map_err(|_| anyhow::anyhow!("`{id}` is not a beneficiary id (a UUID)"))?;
            let as_of = as_of
                .as_deref()
                .map(|text| {
                    crate::api::parse_as_of(text)
                        .map_err(|_| anyhow::anyhow!("--as-of: `{text}` is not an RFC 3339 time"))
                })
                .transpose()?;
            let store = open(&data.path)?;
            let events = store.read_stream(stream, as_of)?;
            if events.is_empty() {
                anyhow::bail!("no beneficiary {stream} in {}", data.path.display());
            }
            let rendered = events
                .iter()
                .map(|event| json::event_json(&store, event, Identity::Open))
                .collect::<Result<Vec<_>, _>>()?;
            let body = json::StreamJson { beneficiary: stream, version: events.len() as u32, events: rendered };
            println!("{}", serde_json::to_string_pretty(&body)?);
            Ok(ExitCode::SUCCESS)
        }
        Command::Export { data } => {
            let store = open(&data.path)?;
            let stdout = std::io::stdout().lock();
            let mut out = BufWriter::new(stdout);
            for page in store.pages_from(1) {
                let (_, events) = page?;
                for event in &events {
                    serde_json::to_writer(&mut out, &json::export_json(event))?;
                    out.write_all(b"\n")?;
                }
            }
            out.flush()?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Import { file, data } => {
            let reader: Box<dyn BufRead> = if file.as_os_str() == "-" {
                Box::new(std::io::stdin().lock())
            } else {
                Box::new(std::io::BufReader::new(
                    std::fs::File::open(&file).with_context(|| format!("opening {}", file.display()))?,
                ))
            };
            let mut parser = json::ExportReader::new();
            let envelopes =
                reader.lines().enumerate().filter(|(_, line)| !matches!(line, Ok(l) if l.trim().is_empty())).map(
                    |(number, line)| {
                        let line = line.map_err(|source| StoreError::Io { path: file.clone(), source })?;
                        parser.read(&line).map_err(|error| StoreError::Import {
                            position: number as u64 + 1,
                            problem: format!("line {}: {error}", number + 1),
                        })
                    },
                );
            let report = Store::import(&data.path, StoreOptions::default(), envelopes)?;
            println!("imported {} events; chain head {}", report.events, hex::encode(report.head_hash));
            Ok(ExitCode::SUCCESS)
        }
        Command::Verify { data } => {
            let store = open(&data.path)?;
            let report = store.verify()?;
            if report.is_intact() {
                println!(
                    "intact: {} events in {} pages, {} streams; chain head {}",
                    report.events,
                    report.pages,
                    report.streams,
                    hex::encode(report.head_hash)
                );
                Ok(ExitCode::SUCCESS)
            } else {
                println!("DAMAGED: first problem at position {}", report.problems[0].position);
                for problem in &report.problems {
                    println!("  position {}: {}", problem.position, problem.what);
                }
                Ok(ExitCode::from(1))
            }
        }
    }
}

fn open(path: &std::path::Path) -> anyhow::Result<Store> {
    Ok(Store::open(path, StoreOptions::default())?)
}
