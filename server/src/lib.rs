//! `parcours`: the server and the command line, one binary (CONTRACT §6), as a library so that
//! tests and fuzz targets reach the same code.

pub mod access;
pub mod api;
mod backup;
pub mod cli;
mod commands;
pub mod feed;
mod french;
pub mod fuzzing;
pub mod import;
pub mod json;
mod labels;
pub mod listen;
pub mod metrics;
pub mod publication;
pub mod report_html;
mod retention;
mod serve;
pub mod state;
mod web;

pub use commands::run;
