//! The event vocabulary of CONTRACT §2–3: what a step is, typed.
//!
//! Closed lists are enums, dates are [`Date`], hours are exact hundredths, ids are UUID newtypes.
//! Nothing here does I/O; the store decides how these are framed on disk.

mod envelope;
#[macro_use]
mod lists;
mod esf;
mod free_text;
mod personal_data;
mod steps;
mod values;

use std::fmt;

use bincode::{Decode, Encode};
use serde::{Deserialize, Deserializer, Serialize};

pub use envelope::{Actor, Envelope, NewEvent, Timestamp};
pub use esf::{Answer, EducationLevel, SensitiveAnswers};
pub use free_text::{FreeText, FreeTextMismatch};
pub use lists::*;
pub use personal_data::{IdentityField, PersonalData, Sealed};
pub use steps::*;
pub use values::{format_hundredths, Date, EventId, FullTimeEquivalents, Hours, Month, Sha256Digest, StreamId};

/// A structure's short name, such as `menage-service-agen`: lower-case letters, digits and dashes.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Serialize, Encode, Decode)]
#[serde(transparent)]
pub struct Slug(String);

impl Slug {
    pub const MAX_LEN: usize = 64;

    pub fn new(text: &str) -> Result<Slug, &'static str> {
        let valid = !text.is_empty()
            && text.len() <= Slug::MAX_LEN
            && text.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !text.starts_with('-');
        if valid {
            Ok(Slug(text.to_owned()))
        } else {
            Err("expected a structure slug: 1 to 64 lower-case letters, digits and dashes")
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Slug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Slug {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        Slug::new(&text).map_err(serde::de::Error::custom)
    }
}
