//! A count or a rate as a reader is given it: its value, or nothing when the cell is withheld to
//! protect people (small cells, CONTRACT §7; see `disclosure` for which cells are withheld).
//!
//! The one cell type of every figure that may be withheld: the outcome statistics, the entries and
//! the activity report all give out their counts and rates as [`Disclosed`], so that JSON, CSV and
//! pages show a withheld cell the same way (`null`, an empty CSV cell).

use std::fmt;

use serde::{Serialize, Serializer};

use crate::ratio::Percent;

/// A cell as its reader gets it: a count, a rate, or nothing (no denominator, or withheld).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Disclosed {
    Count(u64),
    Rate(Option<Percent>),
    Withheld,
}

impl Serialize for Disclosed {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Disclosed::Count(count) => serializer.serialize_u64(*count),
            Disclosed::Rate(rate) => rate.serialize(serializer),
            Disclosed::Withheld => serializer.serialize_none(),
        }
    }
}

impl fmt::Display for Disclosed {
    /// As a CSV cell: a rate without denominator and a withheld cell are empty.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Disclosed::Count(count) => write!(f, "{count}"),
            Disclosed::Rate(Some(rate)) => write!(f, "{rate}"),
            Disclosed::Rate(None) | Disclosed::Withheld => Ok(()),
        }
    }
}
