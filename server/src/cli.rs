//! The command line of CONTRACT §6, declared with clap.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Parser, Debug)]
#[command(name = "parcours", version, about = "Parcours: an event-sourced tracker of integration pathways")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

/// Where the store lives; every command that opens it takes this.
#[derive(Args, Debug, Clone)]
pub struct DataDir {
    /// The data directory.
    #[arg(long = "data", env = "PARCOURS_DATA", default_value = "./parcours-data")]
    pub path: PathBuf,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Runs the HTTP server (API and web application).
    Serve(ServeArgs),
    /// Prints one beneficiary's stream as JSON.
    History {
        /// The beneficiary's id.
        id: String,
        /// Keeps only the events recorded at or before this time (RFC 3339).
        #[arg(long = "as-of", conflicts_with = "verifiable")]
        as_of: Option<String>,
        /// Prints the history with what proves it (signed), for `parcours verify-export`.
        #[arg(long)]
        verifiable: bool,
        #[command(flatten)]
        data: DataDir,
    },
    /// Checks one exported history offline: exit 0 when intact and signed by the key given (or
    /// the store's, with --data); 3 when the chain is intact but no key vouches for its signer;
    /// 1 naming the first changed, missing or reordered event.
    VerifyExport {
        /// A file written by `parcours history ID --verifiable` or `GET /api/beneficiaries/{id}/export`.
        file: PathBuf,
        /// The server's public key (hex) the auditor expects; `parcours verify` prints it.
        #[arg(long)]
        public_key: Option<String>,
        /// Also checks that this store holds these very events (the store must not be in use).
        #[arg(long = "data")]
        data: Option<PathBuf>,
    },
    /// Outcome or entry statistics, as the API gives them.
    Stats(StatsArgs),
    /// Rebuilds every projection from the log, with a progress bar, and says how long it took.
    Rebuild {
        #[command(flatten)]
        data: DataDir,
    },
    /// Writes the whole log as JSON lines, in order, to standard output.
    Export {
        #[command(flatten)]
        data: DataDir,
    },
    /// Restores an exported log into an empty store, with the same ids, dates, positions and hashes.
    Import {
        /// A file written by `parcours export` (`-` for standard input).
        file: PathBuf,
        /// The keys saved by `parcours backup` beside its file (`FILE.keys`); without them, the
        /// restored identities stay sealed.
        #[arg(long)]
        keys: Option<PathBuf>,
        #[command(flatten)]
        data: DataDir,
    },
    /// Imports a structure's spreadsheet (CSV or XLSX) through a mapping (CONTRACT §9), with a
    /// progress bar; prints the answer as JSON. Exit 1 when rows were refused.
    ImportSheet {
        /// The sheet: `.csv` (UTF-8 or Windows-1252, `;` or `,`) or `.xlsx`.
        file: PathBuf,
        /// The mapping (JSON) from the sheet's columns to steps.
        #[arg(long)]
        mapping: PathBuf,
        /// Checks everything and writes nothing.
        #[arg(long)]
        dry_run: bool,
        /// Imports the good rows even when some are bad (otherwise one bad row writes nothing).
        #[arg(long)]
        skip_bad_rows: bool,
        #[command(flatten)]
        data: DataDir,
    },
    /// Checks the log end to end; exit 1 if anything is wrong.
    Verify {
        #[command(flatten)]
        data: DataDir,
    },
    /// Saves the whole log of a running server (admin token), checking its hash chain as it goes.
    Backup {
        /// The server, e.g. http://127.0.0.1:8080.
        #[arg(long)]
        server: String,
        /// The file to write (JSON lines, as `parcours export`); restore with `parcours import`.
        #[arg(long)]
        to: PathBuf,
        /// An admin token.
        #[arg(long, env = "PARCOURS_TOKEN", hide_env_values = true)]
        token: String,
        /// Also saves the beneficiaries' keys beside the file (`FILE.keys`, 0600), without which
        /// the identities of a restored log stay sealed for good. Keys of erased people never are.
        #[arg(long)]
        with_keys: bool,
    },
    /// Lists the people with nothing recorded for a while; erases their identities with --apply.
    Retention {
        /// How long without any event, in months or years: 24months (the CNIL's reference for
        /// social support) or 2y.
        #[arg(long, env = "PARCOURS_RETENTION", default_value = "24months")]
        inactive_for: crate::retention::Period,
        /// Erases the identities listed (otherwise only lists them), after asking for confirmation.
        #[arg(long)]
        apply: bool,
        /// Erases without asking (for scheduled runs).
        #[arg(long)]
        yes: bool,
        #[command(flatten)]
        data: DataDir,
    },
    /// Creates, lists and revokes access tokens.
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// Fills an empty store with a deterministic national-like log (the benchmarks' generator).
    Generate(GenerateArgs),
    /// Writes the log as pseudonymised Apache Parquet files for DuckDB, Polars or Spark.
    ExportParquet {
        /// The directory to write (`episodes.parquet`, `events/year=YYYY/part-*.parquet`); it
        /// must not exist or be empty.
        #[arg(long)]
        to: PathBuf,
        #[command(flatten)]
        data: DataDir,
    },
    /// Reports a structure sends its funders.
    Report {
        #[command(subcommand)]
        command: ReportCommand,
    },
}

/// The flags of `parcours generate` (CONTRACT §12).
#[derive(Args, Debug)]
pub struct GenerateArgs {
    /// How many events to write (at most: the log stops there).
    #[arg(long)]
    pub events: u64,
    /// How many people the log follows (about 33 events a person).
    #[arg(long)]
    pub people: usize,
    /// Years of history ending on --today.
    #[arg(long, default_value_t = 3)]
    pub years: u32,
    /// How many structures; one per 200 people by default.
    #[arg(long)]
    pub structures: Option<usize>,
    /// The generator's seed: the same flags give the same log, byte for byte.
    #[arg(long, default_value_t = crate::app::generate::DEFAULT_SEED)]
    pub seed: u64,
    /// The last day of the history (YYYY-MM-DD); fixed by default, so that the log does not
    /// depend on the day it is generated.
    #[arg(long, default_value = crate::app::generate::DEFAULT_TODAY)]
    pub today: String,
    /// The data directory to fill; it must hold no event.
    #[arg(long = "data", env = "PARCOURS_DATA")]
    pub data: PathBuf,
}

#[derive(Subcommand, Debug)]
pub enum ReportCommand {
    /// The activity report of one or more structures, as an admin sees it through the API.
    Activity(ActivityArgs),
    /// Publishes an activity report: records its question, the log position it counted and the
    /// SHA-256 of its JSON, CSV and printable bytes, and prints the publication.
    Publish(PublishArgs),
    /// Lists the published reports; with an id, gives that report back byte for byte (recomputed
    /// from the log as of its position and checked against its SHA-256; exit 1 if it differs).
    Published {
        /// A publication's id.
        id: Option<String>,
        #[arg(long, value_enum, default_value_t)]
        format: ReportFormatArg,
        #[command(flatten)]
        data: DataDir,
    },
    /// What changed since a publication: figure by figure, the values then and now, the rows and
    /// the events recorded since behind each difference.
    Changes {
        /// A publication's id.
        id: String,
        #[arg(long, value_enum, default_value_t)]
        format: ChangesFormatArg,
        #[command(flatten)]
        data: DataDir,
    },
}

#[derive(Clone, Copy, Debug, Default, ValueEnum)]
pub enum ChangesFormatArg {
    #[default]
    Json,
    Html,
}

#[derive(Args, Debug)]
pub struct PublishArgs {
    #[command(flatten)]
    pub question: ReportQuestionArgs,
    /// First day of the period (YYYY-MM-DD).
    #[arg(long)]
    pub from: String,
    /// Last day of the period, included.
    #[arg(long)]
    pub to: String,
    #[command(flatten)]
    pub data: DataDir,
}

/// What a report asks besides its period, the same for `report activity` and `report publish`.
#[derive(Args, Debug)]
pub struct ReportQuestionArgs {
    /// A structure (repeat, or separate several with commas).
    #[arg(long = "structure", required = true)]
    pub structures: Vec<String>,
    /// The version of the definitions (v1, ...); the latest by default.
    #[arg(long)]
    pub definitions: Option<String>,
    /// Family-quotient thresholds in euros, increasing (default 700).
    #[arg(long = "family-quotient-bands")]
    pub family_quotient_bands: Option<String>,
}

#[derive(Clone, Copy, Debug, Default, ValueEnum)]
pub enum ReportFormatArg {
    #[default]
    Json,
    Html,
    Csv,
    /// One sheet per section, the definitions on their own sheet.
    Xlsx,
    /// CSV for French Excel: `;`, UTF-8 with BOM, decimal comma, French headers.
    CsvFr,
}

#[derive(Args, Debug)]
pub struct ActivityArgs {
    #[command(flatten)]
    pub question: ReportQuestionArgs,
    /// First day of the period (YYYY-MM-DD); the current calendar year by default.
    #[arg(long)]
    pub from: Option<String>,
    /// Last day of the period, included.
    #[arg(long)]
    pub to: Option<String>,
    #[arg(long, value_enum, default_value_t)]
    pub format: ReportFormatArg,
    /// Writes the report to this file rather than to the standard output.
    #[arg(long)]
    pub output: Option<std::path::PathBuf>,
    #[command(flatten)]
    pub data: DataDir,
}

#[derive(Args, Debug)]
pub struct ServeArgs {
    #[command(flatten)]
    pub data: DataDir,
    /// The address to listen on.
    #[arg(long, env = "PARCOURS_ADDR", default_value = "127.0.0.1:8080")]
    pub addr: SocketAddr,
    /// Fills an empty store with a realistic demo, and prints a token for each role.
    #[arg(long)]
    pub demo: bool,
    /// The largest request body accepted, in bytes.
    #[arg(long, env = "PARCOURS_BODY_LIMIT", default_value_t = 1024 * 1024)]
    pub body_limit: usize,
    /// Seconds a client has to send a request's headers before its connection is closed.
    #[arg(long, env = "PARCOURS_HEADER_TIMEOUT", default_value_t = 30)]
    pub header_timeout_secs: u64,
    /// In evaluators' outputs, counts below this are withheld (CONTRACT §7); at least 3, below
    /// which a withheld cell says little.
    #[arg(long, env = "PARCOURS_SMALL_CELLS", default_value_t = 5, value_parser = clap::value_parser!(u64).range(3..))]
    pub small_cells: u64,
    /// Costly requests (reports, statistics, publications, exports, lists and searches of people)
    /// answered at once; past it they get 503 with Retry-After. About the number of cores.
    #[arg(long, env = "PARCOURS_COSTLY_REQUESTS", default_value_t = 4, value_parser = clap::value_parser!(u64).range(1..=1024))]
    pub costly_requests: u64,
    /// The address of a reverse proxy in front of the server (repeat for several): a request from
    /// it is counted, for the sign-in limit, as coming from the client its `X-Forwarded-For`
    /// names. Without it every client behind a proxy shares the proxy's limit.
    #[arg(long = "trusted-proxy", env = "PARCOURS_TRUSTED_PROXIES", value_delimiter = ',')]
    pub trusted_proxies: Vec<std::net::IpAddr>,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum StatsKind {
    Outcomes,
    Entries,
}

#[derive(Clone, Copy, Debug, Default, ValueEnum)]
pub enum OutputFormat {
    #[default]
    Json,
    Csv,
    Xlsx,
    /// CSV for French Excel: `;`, UTF-8 with BOM, decimal comma, French headers.
    CsvFr,
}

#[derive(Args, Debug)]
pub struct StatsArgs {
    pub kind: StatsKind,
    /// First day of the period (YYYY-MM-DD).
    #[arg(long)]
    pub from: String,
    /// Last day of the period, included.
    #[arg(long)]
    pub to: String,
    #[arg(long)]
    pub structure: Option<String>,
    /// Groups outcomes by gender, age_band, situation, structure or prescriber.
    #[arg(long)]
    pub by: Option<String>,
    #[arg(long, value_enum, default_value_t)]
    pub format: OutputFormat,
    #[command(flatten)]
    pub data: DataDir,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum RoleArg {
    Admin,
    Coordinator,
    Auditor,
    Evaluator,
}

#[derive(Subcommand, Debug)]
pub enum TokenCommand {
    /// Creates a token and prints it once (only its hash is stored).
    Create {
        #[arg(long, value_enum)]
        role: RoleArg,
        /// A structure of a coordinator (repeat for several).
        #[arg(long = "structure")]
        structures: Vec<String>,
        /// Who or what the token is for.
        #[arg(long)]
        label: Option<String>,
        #[command(flatten)]
        data: DataDir,
    },
    /// Lists the tokens (never the tokens themselves).
    List {
        #[command(flatten)]
        data: DataDir,
    },
    /// Revokes a token for good.
    Revoke {
        /// The token's id (`tok_…`).
        id: String,
        #[command(flatten)]
        data: DataDir,
    },
}
