//! The application: every use case of Parcours once, with typed inputs and outputs, for the three
//! doors that open onto it (the JSON API in `api`, the French pages in `web`, the command line in
//! `commands`). Nothing here knows HTTP, HTML, JSON extractors or command-line flags: a door reads
//! its input into these types, calls a use case, and writes the answer in its own form.
//!
//! - `caller`: who is asking; `disclosure`: the one policy of who sees which figures, names and
//!   lists, asked by every output;
//! - `streams`: register, append, read a stream (`as_of`), the log; `people`: the list, search,
//!   a pathway, the audit trail, a verifiable export;
//! - `figures`: dashboards and statistics (`differencing`: evaluators' questions and their small
//!   cells, withheld alike across the tables that sum into one another); `reports`: the activity report's typed question, the
//!   report and its lists; `publications`: publish, list, reproduce, what changed since;
//! - `referrals`: the proposals waiting for a structure's answer, and the answer;
//! - `structures`; `trust`: tokens, erasure, the access log; `backup`: the export a backup saves;
//!   `merge`: merging two records of one person and undoing it (CONTRACT §10);
//! - `error`: the one error type, which `api/error.rs` turns into JSON answers and `web` into
//!   French pages.

pub mod auditing;
pub mod backup;
pub mod caller;
pub mod differencing;
pub mod disclosure;
pub mod duplicates;
pub mod error;
pub mod esf;
pub mod figures;
pub mod generate;
pub mod import;
pub mod merge;
pub mod parquet_export;
pub mod people;
pub mod publications;
pub mod referrals;
pub mod reports;
pub mod streams;
pub mod structures;
pub mod trust;

pub use caller::Caller;
pub use error::AppError;

/// Runs blocking work (the store, the projections' fold) off the async workers.
pub async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, AppError> + Send + 'static,
) -> Result<T, AppError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|_| AppError::Unavailable("the request could not be completed".into()))?
}
