//! `parcours`: the server and the command line, one binary (CONTRACT §6), as a library so that
//! tests and fuzz targets reach the same code.

pub mod access;
pub mod api;
pub mod cli;
mod commands;
pub mod fuzzing;
pub mod json;
mod serve;
pub mod state;

pub use commands::run;
