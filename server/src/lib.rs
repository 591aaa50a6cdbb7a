//! `parcours`: the server and the command line, one binary (CONTRACT §6), as a library so that
//! tests and fuzz targets reach the same code.

#![forbid(unsafe_code)]

pub mod access;
pub mod api;
pub mod app;
mod attachment;
mod backup;
pub mod cli;
mod commands;
pub mod feed;
mod french;
pub mod json;
mod labels;
pub mod listen;
pub mod metrics;
pub mod publication;
pub mod report_formats;
pub mod report_html;
pub mod report_snapshot;
mod retention;
pub mod router;
mod serve;
pub mod state;
mod web;
pub mod workbook;

/// The request bodies' fuzz target lives with the bodies it reads, in the API.
pub use api::fuzzing;
pub use commands::run;
