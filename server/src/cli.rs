//! The command line of CONTRACT §6, declared with clap.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

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
        #[arg(long = "as-of")]
        as_of: Option<String>,
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
        #[command(flatten)]
        data: DataDir,
    },
    /// Checks the log end to end; exit 1 if anything is wrong.
    Verify {
        #[command(flatten)]
        data: DataDir,
    },
}

#[derive(Args, Debug)]
pub struct ServeArgs {
    #[command(flatten)]
    pub data: DataDir,
    /// The address to listen on.
    #[arg(long, env = "PARCOURS_ADDR", default_value = "127.0.0.1:8080")]
    pub addr: SocketAddr,
    /// Fills an empty store with a realistic demo.
    #[arg(long)]
    pub demo: bool,
    /// The largest request body accepted, in bytes.
    #[arg(long, env = "PARCOURS_BODY_LIMIT", default_value_t = 1024 * 1024)]
    pub body_limit: usize,
}
