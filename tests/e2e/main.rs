//! End-to-end tests: the real `parcours` binary, over HTTP and on the command line.
//! One test binary with modules (matklad, "Delete Cargo Integration Tests").

mod access;
mod auditing;
mod backup;
mod bounded;
mod browser;
mod cli;
mod crash;
mod differencing;
mod downloads;
mod erasure;
mod funders;
mod hostile;
mod import;
mod live;
mod log_api;
mod merge;
mod openapi;
mod parquet;
mod power_loss;
mod proposals;
mod published;
mod reports;
mod verifiable;
mod web;

use std::path::Path;

/// The counts of an outcome statistic (CONTRACT §5), as the API names them.
pub const OUTCOME_COUNTS: [&str; 10] = [
    "exits",
    "durable_employment",
    "transition_employment",
    "positive_exits",
    "other_exits",
    "neutral_exits",
    "dynamic_exits",
    "reenrolled",
    "followed_up_at_six_months",
    "employed_at_six_months",
];

pub fn bin() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_parcours"))
}

/// Today in Paris, as the server sees it; steps dated relative to it stay valid whenever the tests run.
pub fn days_ago(days: i64) -> String {
    (chrono_today() - chrono::Duration::days(days)).format("%Y-%m-%d").to_string()
}

fn chrono_today() -> chrono::NaiveDate {
    chrono::Utc::now().date_naive()
}
