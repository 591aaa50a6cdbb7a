//! The core of Parcours: the event vocabulary, the pathway rules, and the event store on sled.
//!
//! Nothing here knows HTTP or runs an async runtime; the store's writer is a plain thread and its
//! callers may block on it or `await` it.
//!
//! The demo generator is compiled only with the `demo` feature (the server and the benchmarks ask
//! for it), and for this crate's own tests, which check it against the rules.

#![forbid(unsafe_code)]

#[cfg(any(test, feature = "demo"))]
pub mod demo;
pub mod fuzzing;
pub mod limits;
pub mod rules;
pub mod store;
pub mod vocabulary;
