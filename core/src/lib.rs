//! The core of Parcours: the event vocabulary, the pathway rules, and the event store on sled.
//!
//! Nothing here knows HTTP or runs an async runtime; the store's writer is a plain thread and its
//! callers may block on it or `await` it.

pub mod demo;
pub mod fuzzing;
pub mod limits;
pub mod rules;
pub mod store;
pub mod vocabulary;
