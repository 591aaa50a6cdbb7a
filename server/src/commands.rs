//! The commands of CONTRACT §6. Those that open the store directly fail with a clear message when
//! a server holds it.

use std::io::{BufRead, BufWriter, Write};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;
use parcours_core::store::access::Role;
use parcours_core::store::{Store, StoreError, StoreOptions};
use parcours_core::vocabulary::{Actor, Date, EventId, Slug, StreamId};
use parcours_projections::{rebuild, GroupBy, Period};

use crate::app::caller::CLI_ACTOR;
use crate::app::figures::{entries_in, outcomes_in, StatisticsQuestion};
use crate::app::publications::{publish_in, readable_list};
use crate::app::reports::{report_in, Lists, ReportQuestion};
use crate::app::structures::name_of;
use crate::app::trust::TokenRequest;
use crate::app::{AppError, Caller};
use crate::cli::{
    ActivityArgs, ChangesFormatArg, Cli, Command, GenerateArgs, OutputFormat, PublishArgs, ReportCommand,
    ReportFormatArg, ReportQuestionArgs, RoleArg, StatsArgs, StatsKind, TokenCommand,
};
use crate::json::{self, Identity};
use crate::publication::{self, PublicationError};
use crate::report_formats::{changes_body, list_body, render, PublishedJson, ReportFormat};
use crate::report_snapshot;
use crate::state::Settings;
use crate::workbook::{entries_workbook, outcomes_workbook, SheetFormat};

pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Serve(args) => crate::serve::serve(args).map(|()| ExitCode::SUCCESS),
        Command::History { id, as_of, verifiable, data } => {
            let stream: StreamId =
                id.parse().map_err(|_| anyhow::anyhow!("`{id}` is not a beneficiary id (a UUID)"))?;
            if verifiable {
                let store = open(&data.path)?;
                let history = store
                    .verifiable_history(stream, Actor(CLI_ACTOR.into()))?
                    .ok_or_else(|| anyhow::anyhow!("no beneficiary {stream} in {}", data.path.display()))?;
                // An export of the history, as `GET /api/beneficiaries/{id}/export` records it.
                record_cli_read(&store, stream, "export")?;
                println!("{}", serde_json::to_string_pretty(&json::history_json(&history))?);
                return Ok(ExitCode::SUCCESS);
            }
            let as_of = as_of
                .as_deref()
                .map(|text| {
                    crate::app::streams::parse_as_of(text)
                        .map_err(|_| anyhow::anyhow!("--as-of: `{text}` is not an RFC 3339 time"))
                })
                .transpose()?;
            let store = open(&data.path)?;
            let events = store.read_stream(stream, None)?;
            let kept = as_of.map_or(events.len(), |as_of| events.partition_point(|e| e.recorded_at <= as_of));
            if kept == 0 {
                anyhow::bail!("no beneficiary {stream} in {}", data.path.display());
            }
            record_cli_read(&store, stream, "history")?;
            let rendered = json::Events::new(&store, &events[..kept], Identity::open_unless_erased(&events));
            let body = json::StreamJson { beneficiary: stream, version: kept as u32, events: rendered };
            println!("{}", String::from_utf8_lossy(&json::to_json(&body, &body.events, true)?));
            Ok(ExitCode::SUCCESS)
        }
        Command::Stats(args) => stats(args),
        Command::Rebuild { data } => {
            let store = open(&data.path)?;
            let total = store.last_position();
            let bar = indicatif::ProgressBar::new(total).with_style(
                indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} events, {per_sec}, {eta} left")
                    .context("the progress bar's template")?,
            );
            let started = Instant::now();
            let projections = rebuild(&store, |position| bar.set_position(position))?;
            bar.finish_and_clear();
            let seconds = started.elapsed().as_secs_f64();
            println!(
                "rebuilt every projection from {} events ({} beneficiaries, {} structures) in {seconds:.2} s: {:.0} events/s",
                projections.applied_position(),
                projections.beneficiary_count(),
                projections.structures().count(),
                projections.applied_position() as f64 / seconds.max(1e-9)
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Export { data } => {
            let store = open(&data.path)?;
            let stdout = std::io::stdout().lock();
            let mut out = BufWriter::new(stdout);
            let reader = cli_actor();
            for page in store.pages_from(1) {
                let (_, events) = page?;
                for event in &events {
                    serde_json::to_writer(&mut out, &json::export_json(event))?;
                    out.write_all(b"\n")?;
                }
                json::record_exported(&store, &reader, &events)?;
            }
            out.flush()?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Import { file, keys, data } => {
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
            if let Some(keys) = keys {
                let restored = Store::restore_keys(&data.path, crate::backup::read_keys(&keys)?)?;
                println!("restored {restored} keys");
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::ImportSheet { file, mapping, dry_run, skip_bad_rows, data } => {
            import_sheet(file, &mapping, dry_run, skip_bad_rows, &data.path)
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
                println!("exported histories are signed by key {}", hex::encode(store.history_key()?));
                Ok(ExitCode::SUCCESS)
            } else {
                println!("DAMAGED: first problem at position {}", report.problems[0].position);
                for problem in &report.problems {
                    println!("  position {}: {}", problem.position, problem.what);
                }
                Ok(ExitCode::from(1))
            }
        }
        Command::Token { command } => token(command),
        Command::Retention { inactive_for, apply, yes, data } => {
            crate::retention::retention(&data.path, inactive_for, apply, yes)
        }
        Command::Backup { server, to, token, with_keys } => crate::backup::backup(&server, &to, &token, with_keys),
        Command::VerifyExport { file, public_key, data } => {
            verify_export(&file, public_key.as_deref(), data.as_deref())
        }
        Command::Generate(args) => generate(args),
        Command::ExportParquet { to, data } => export_parquet(&to, &data.path),
        Command::Report { command: ReportCommand::Activity(args) } => activity_report(args),
        Command::Report { command: ReportCommand::Publish(args) } => publish_report(args),
        Command::Report { command: ReportCommand::Published { id, format, data } } => {
            published_report(id.as_deref(), format, &data.path)
        }
        Command::Report { command: ReportCommand::Changes { id, format, data } } => {
            report_changes(&id, format, &data.path)
        }
    }
}

/// `parcours import-sheet`: the import of the API, as the system's own writer, with a bar.
fn import_sheet(
    file: std::path::PathBuf,
    mapping: &std::path::Path,
    dry_run: bool,
    skip_bad_rows: bool,
    data: &std::path::Path,
) -> anyhow::Result<ExitCode> {
    use crate::app::import::{self, ImportOptions, Mapping, Source};
    let mapping_bytes = std::fs::read(mapping).with_context(|| format!("reading {}", mapping.display()))?;
    let mapping = Mapping::from_json(&mapping_bytes)?;
    anyhow::ensure!(file.is_file(), "{}: no such file", file.display());
    let store = open(data)?;
    let bar = indicatif::ProgressBar::new_spinner().with_style(
        indicatif::ProgressStyle::with_template("{msg} {bar:40} {pos}/{len} rows, {per_sec}")
            .context("the progress bar's template")?,
    );
    let options = ImportOptions { dry_run, skip_bad_rows, today: today() };
    let author = parcours_core::store::Author::from(parcours_core::vocabulary::Actor("system:import-sheet".into()));
    let report = import::run(&store, &author, &Source::Path(file), &mapping, &options, &mut |progress| {
        let message = match progress.pass {
            1 => "lecture",
            2 => "vérification",
            _ => "écriture",
        };
        bar.set_message(message);
        if let Some(total) = progress.rows_total {
            bar.set_length(total);
        }
        bar.set_position(progress.rows_done);
    })?;
    bar.finish_and_clear();
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(if report.errors_total == 0 { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

fn open(path: &std::path::Path) -> anyhow::Result<Store> {
    Ok(Store::open(path, StoreOptions::default())?)
}

fn date(flag: &str, text: &str) -> anyhow::Result<Date> {
    text.parse().map_err(|_| anyhow::anyhow!("{flag}: `{text}` is not a date (YYYY-MM-DD)"))
}

fn stats(args: StatsArgs) -> anyhow::Result<ExitCode> {
    let period = Period::new(date("--from", &args.from)?, date("--to", &args.to)?)?;
    let structure = args
        .structure
        .as_deref()
        .map(|text| Slug::new(text).map_err(|message| anyhow::anyhow!("--structure: {message}")))
        .transpose()?;
    let by = args
        .by
        .as_deref()
        .map(|text| text.parse::<GroupBy>().map_err(|message| anyhow::anyhow!("--by: {message}")))
        .transpose()?;
    let question = StatisticsQuestion { period, structure, by };
    if matches!(args.kind, StatsKind::Entries) && question.by.is_some() {
        anyhow::bail!("--by: entries are always by situation × gender and age band × gender");
    }
    let store = open(&args.data.path)?;
    let projections = rebuild(&store, |_| {})?;
    let (caller, small_cells) = (Caller::command_line(), Settings::default().small_cells);
    let structure = question
        .structure
        .as_ref()
        .map_or_else(|| "Toutes les structures".to_owned(), |slug| name_of(&projections, slug.as_str()));
    let name = |slug: &str| name_of(&projections, slug);
    let sheet = |format: OutputFormat| match format {
        OutputFormat::Xlsx => Some(SheetFormat::Xlsx),
        OutputFormat::CsvFr => Some(SheetFormat::CsvFr),
        OutputFormat::Json | OutputFormat::Csv => None,
    };
    let output: Vec<u8> = match args.kind {
        StatsKind::Outcomes => {
            let outcomes = outcomes_in(&projections, &caller, small_cells, question).map_err(as_flag)?;
            match (args.format, sheet(args.format)) {
                (_, Some(format)) => format.bytes(&outcomes_workbook(&outcomes, &structure, name))?,
                (OutputFormat::Csv, None) => outcomes.to_csv().into_bytes(),
                (_, None) => (serde_json::to_string(&outcomes)? + "\n").into_bytes(),
            }
        }
        StatsKind::Entries => {
            let entries = entries_in(&projections, &caller, small_cells, question).map_err(as_flag)?;
            match (args.format, sheet(args.format)) {
                (_, Some(format)) => format.bytes(&entries_workbook(&entries, &structure))?,
                (OutputFormat::Csv, None) => entries.to_csv().into_bytes(),
                (_, None) => (serde_json::to_string(&entries)? + "\n").into_bytes(),
            }
        }
    };
    std::io::stdout().lock().write_all(&output)?;
    Ok(ExitCode::SUCCESS)
}

/// A report's question from the command line's flags, each bad value named as its flag. A
/// `--structure` may hold several slugs separated by commas, as the API's `structure` does.
fn report_question(
    question: &ReportQuestionArgs,
    from: Option<&String>,
    to: Option<&String>,
) -> anyhow::Result<ReportQuestion> {
    let mut asked = ReportQuestion::default();
    for slug in question.structures.iter().flat_map(|value| value.split(',')).map(str::trim) {
        if !slug.is_empty() {
            asked.add_structure(Slug::new(slug).map_err(|message| anyhow::anyhow!("--structure: {message}"))?);
        }
    }
    asked.from = from.map(|text| date("--from", text.trim())).transpose()?;
    asked.to = to.map(|text| date("--to", text.trim())).transpose()?;
    if let Some(text) = &question.definitions {
        asked.definitions = text.trim().parse().map_err(|message| anyhow::anyhow!("--definitions: {message}"))?;
    }
    if let Some(text) = &question.family_quotient_bands {
        asked.bands = text.trim().parse().map_err(|error| anyhow::anyhow!("--family-quotient-bands: {error}"))?;
    }
    Ok(asked)
}

fn report_format(format: ReportFormatArg) -> ReportFormat {
    match format {
        ReportFormatArg::Json => ReportFormat::Json,
        ReportFormatArg::Html => ReportFormat::Html,
        ReportFormatArg::Csv => ReportFormat::Csv,
        ReportFormatArg::Xlsx => ReportFormat::Sheet(SheetFormat::Xlsx),
        ReportFormatArg::CsvFr => ReportFormat::Sheet(SheetFormat::CsvFr),
    }
}

/// Today where the store is, as the server would date an event.
fn today() -> Date {
    Date(chrono::Utc::now().with_timezone(&StoreOptions::default().timezone).date_naive())
}

/// The activity report as the API gives it to an admin: the same parameters, the same bytes
/// (JSON gets a final line break).
fn activity_report(args: ActivityArgs) -> anyhow::Result<ExitCode> {
    let format = report_format(args.format);
    let caller = Caller::command_line();
    let query = report_question(&args.question, args.from.as_ref(), args.to.as_ref())?
        .for_caller(&caller, today())
        .map_err(as_flag)?;
    let store = open(&args.data.path)?;
    let projections = rebuild(&store, |_| {})?;
    let report = report_in(&projections, &caller, Settings::default().small_cells, &query, Lists::Without)?;
    let mut body = render(&report, format, true)?;
    if format == ReportFormat::Json {
        body.push(b'\n');
    }
    match &args.output {
        Some(path) => std::fs::write(path, &body).with_context(|| format!("--output: {}", path.display()))?,
        None => std::io::stdout().lock().write_all(&body)?,
    }
    Ok(ExitCode::SUCCESS)
}

/// Publishes an activity report, as `POST /api/reports/activity/publish` does for an admin.
fn publish_report(args: PublishArgs) -> anyhow::Result<ExitCode> {
    let today = today();
    let caller = Caller::command_line();
    let query = report_question(&args.question, Some(&args.from), Some(&args.to))?
        .for_publication(&caller, today)
        .map_err(as_flag)?;
    let store = open(&args.data.path)?;
    let projections = rebuild(&store, |_| {})?;
    let (envelope, published) = publish_in(&store, &projections, &query, today, caller.actor)?;
    println!("{}", serde_json::to_string_pretty(&PublishedJson::of(&envelope, &published))?);
    Ok(ExitCode::SUCCESS)
}

fn publication_id(id: &str) -> anyhow::Result<EventId> {
    id.parse().map_err(|_| anyhow::anyhow!("`{id}` is not a publication id (a UUID)"))
}

/// Lists the publications, or prints one as published: the very bytes, so that `sha256sum` of the
/// output is the digest the publication recorded.
fn published_report(id: Option<&str>, format: ReportFormatArg, data: &std::path::Path) -> anyhow::Result<ExitCode> {
    let store = open(data)?;
    let Some(id) = id else {
        let mut body = list_body(&readable_list(&store, &Caller::command_line())?)?;
        body.push(b'\n');
        std::io::stdout().lock().write_all(&body)?;
        return Ok(ExitCode::SUCCESS);
    };
    let id = publication_id(id)?;
    let (_, published) = publication::find(&store, id)?
        .ok_or_else(|| anyhow::anyhow!("no published report {id} in {}", data.display()))?;
    // From its snapshot if one is usable (checked against the digests all the same), else folded.
    let reproduced = report_snapshot::reproduce(&store, id, &published, false).or_else(|unused| {
        tracing::info!(publication = %id, reason = %unused, "the publication's snapshot is not used: folding the log");
        publication::reproduce(&store, &published)
    });
    match reproduced {
        Ok(reproduced) => {
            let format = report_format(format);
            let body = match reproduced.rendered.bytes(format) {
                Some(bytes) => bytes.to_vec(),
                None => render(&reproduced.report, format, false)?,
            };
            std::io::stdout().lock().write_all(&body)?;
            Ok(ExitCode::SUCCESS)
        }
        Err(error @ (PublicationError::DigestMismatch { .. } | PublicationError::LogTooShort { .. })) => {
            eprintln!("NOT REPRODUCIBLE: {error}");
            Ok(ExitCode::from(1))
        }
        Err(error) => Err(error.into()),
    }
}

/// What changed since a publication, as `GET /api/reports/published/{id}/changes` gives it.
fn report_changes(id: &str, format: ChangesFormatArg, data: &std::path::Path) -> anyhow::Result<ExitCode> {
    let id = publication_id(id)?;
    let store = open(data)?;
    let (envelope, published) = publication::find(&store, id)?
        .ok_or_else(|| anyhow::anyhow!("no published report {id} in {}", data.display()))?;
    let projections = rebuild(&store, |_| {})?;
    let (now, now_at) = publication::report_now_with_lists(&projections, &publication::question(&published)?)?;
    drop(projections);
    let then = publication::reproduce_with_lists(&store, &published)?.report;
    let changes = publication::changes_since(&store, &published, then, &now, now_at)?;
    let format = match format {
        ChangesFormatArg::Json => ReportFormat::Json,
        ChangesFormatArg::Html => ReportFormat::Html,
    };
    let mut body = changes_body(&envelope, &published, &changes, &now, format, StoreOptions::default().timezone)?;
    if format == ReportFormat::Json {
        body.push(b'\n');
    }
    std::io::stdout().lock().write_all(&body)?;
    Ok(ExitCode::SUCCESS)
}

/// A question the application refused (`by: ...`), named as the flag it came from.
fn as_flag(error: AppError) -> anyhow::Error {
    let message = error.to_string();
    match message.split_once(": ") {
        Some((name, rest)) => anyhow::anyhow!("--{}: {rest}", name.replace('_', "-")),
        None => anyhow::anyhow!("{message}"),
    }
}

impl From<RoleArg> for Role {
    fn from(role: RoleArg) -> Role {
        match role {
            RoleArg::Admin => Role::Admin,
            RoleArg::Coordinator => Role::Coordinator,
            RoleArg::Auditor => Role::Auditor,
            RoleArg::Evaluator => Role::Evaluator,
        }
    }
}

fn token(command: TokenCommand) -> anyhow::Result<ExitCode> {
    match command {
        TokenCommand::Create { role, structures, label, data } => {
            let role = Role::from(role);
            let structures = structures
                .iter()
                .map(|text| Slug::new(text).map_err(|message| anyhow::anyhow!("--structure {text}: {message}")))
                .collect::<anyhow::Result<Vec<Slug>>>()?;
            let request = TokenRequest { role, structures, label };
            request.check().map_err(|message| anyhow::anyhow!(message))?;
            let store = open(&data.path)?;
            let (record, token) =
                store.issue_token(request.role, request.structures, request.label, Actor(CLI_ACTOR.into()))?;
            eprintln!("token {} for the role {} (shown once; keep it secret):", record.id, role.code());
            println!("{token}");
            Ok(ExitCode::SUCCESS)
        }
        TokenCommand::List { data } => {
            let store = open(&data.path)?;
            for (record, revocation) in store.tokens()? {
                let structures: Vec<&str> = record.structures.iter().map(Slug::as_str).collect();
                println!(
                    "{}\t{}\t{}\t{}\tcreated {} by {}{}",
                    record.id,
                    record.role.code(),
                    structures.join(","),
                    record.label.as_deref().unwrap_or("-"),
                    record.created_at,
                    record.created_by,
                    revocation.map(|revocation| format!("\trevoked {}", revocation.at)).unwrap_or_default()
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        TokenCommand::Revoke { id, data } => {
            let store = open(&data.path)?;
            if store.revoke_token(&id, Actor(CLI_ACTOR.into()))? {
                println!("revoked {id}");
                Ok(ExitCode::SUCCESS)
            } else {
                anyhow::bail!("no token {id} in {}", data.path.display())
            }
        }
    }
}

/// `parcours verify-export`: reads only its file (and the store, when given).
/// Who the access log names for a read made on the command line: `cli:` and the system user
/// (whoever can open the data directory; no token is involved).
fn cli_actor() -> parcours_core::vocabulary::Actor {
    let user = std::env::var("USER").or_else(|_| std::env::var("LOGNAME")).unwrap_or_else(|_| "unknown".into());
    parcours_core::vocabulary::Actor(format!("cli:{user}"))
}

/// Records a read made on the command line in the access log.
fn record_cli_read(store: &Store, stream: StreamId, what: &str) -> Result<(), StoreError> {
    store.record_access(parcours_core::store::access::AccessEntry {
        at: parcours_core::vocabulary::Timestamp::now(),
        actor: cli_actor(),
        beneficiary: stream,
        what: what.into(),
    })
}

fn verify_export(
    file: &std::path::Path,
    public_key: Option<&str>,
    data: Option<&std::path::Path>,
) -> anyhow::Result<ExitCode> {
    let bytes = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
    let pinned = public_key
        .map(|text| {
            hex::decode(text.trim())
                .ok()
                .and_then(|bytes| <[u8; 32]>::try_from(bytes).ok())
                .ok_or_else(|| anyhow::anyhow!("--public-key: expected 32 bytes in hex"))
        })
        .transpose()?;
    let history = match json::read_history(&bytes) {
        Ok(history) => history,
        Err(error) => {
            println!("DAMAGED: the file is not a readable history: {error}");
            return Ok(ExitCode::from(1));
        }
    };
    // The store's own key, when the store is given and no key was: a key fetched, not claimed
    // by the file itself.
    let store = data.map(open).transpose()?;
    let pinned = match (pinned, &store) {
        (Some(pinned), _) => Some(pinned),
        (None, Some(store)) => Some(store.history_key()?),
        (None, None) => None,
    };
    let mut verdict = parcours_core::store::verifiable::check_history(&history, pinned.as_ref());
    if verdict.is_ok() {
        if let Some(store) = &store {
            verdict = store.confirm_history(&history)?;
        }
    }
    match verdict {
        Ok(()) if pinned.is_none() => {
            // The file names its own key: anyone can forge a history and sign it with theirs.
            println!(
                "chain intact, signer not verified: {} events of beneficiary {}, signed by key {} that nothing vouches for \
                 (give --public-key, or --data to check against the store's key)",
                history.events.len(),
                history.beneficiary,
                hex::encode(history.public_key),
            );
            Ok(ExitCode::from(3))
        }
        Ok(()) => {
            println!(
                "intact: {} events of beneficiary {}, versions 1 to {}, signed by key {} on {}{}",
                history.events.len(),
                history.beneficiary,
                history.stream_head.version,
                hex::encode(history.public_key),
                history.exported_at,
                if data.is_some() { "; the store holds these very events" } else { "" }
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(problem) => {
            println!("DAMAGED: {problem}");
            Ok(ExitCode::from(1))
        }
    }
}

/// `parcours generate`: the request from the flags, a progress bar, and what was written.
fn generate(args: GenerateArgs) -> anyhow::Result<ExitCode> {
    let request = crate::app::generate::GenerateRequest {
        data: args.data,
        events: args.events,
        people: args.people,
        years: args.years,
        structures: args.structures,
        seed: args.seed,
        today: date("--today", &args.today)?,
    };
    let bar = indicatif::ProgressBar::new(request.events).with_style(
        indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} events, {per_sec}, {eta} left")
            .context("the progress bar's template")?,
    );
    let generated = crate::app::generate::generate(&request, |written| bar.set_position(written))?;
    bar.finish_and_clear();
    let seconds = generated.elapsed.as_secs_f64();
    println!(
        "generated {} events ({} people, {} structures, seed {}) in {seconds:.1} s: {:.0} events/s; chain head {}",
        generated.events,
        request.people,
        generated.structures,
        request.seed,
        generated.events as f64 / seconds.max(1e-9),
        hex::encode(generated.head_hash)
    );
    if generated.events < request.events {
        eprintln!(
            "only {} of the {} events asked: the histories of {} people end there; give more --people",
            generated.events, request.events, request.people
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// `parcours export-parquet`: the export of `parquet_export` with a progress bar.
fn export_parquet(to: &std::path::Path, data: &std::path::Path) -> anyhow::Result<ExitCode> {
    let store = open(data)?;
    let bar = indicatif::ProgressBar::new(0).with_style(
        indicatif::ProgressStyle::with_template("{bar:40} {percent}% (projections, then events), {eta} left")
            .context("the progress bar's template")?,
    );
    let export = crate::app::parquet_export::export(&store, to, |done, total| {
        bar.set_length(total);
        bar.set_position(done);
    })?;
    bar.finish_and_clear();
    println!(
        "exported {} episodes and {} events (log position {}) to {} in {:.1} s: {} files, {} bytes",
        export.episodes,
        export.events,
        export.position,
        to.display(),
        export.elapsed.as_secs_f64(),
        export.files.len(),
        export.bytes
    );
    Ok(ExitCode::SUCCESS)
}
