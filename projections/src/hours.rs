//! Sums of hours: integer hundredths in a `u64`, because a structure's year or a national total
//! overflows the `u32` of one [`Hours`] value, and sums must be exact and identical on every run.

use std::fmt;
use std::ops::AddAssign;

use parcours_core::vocabulary::{format_hundredths, Hours};
use serde::{Serialize, Serializer};

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Default)]
pub struct TotalHours {
    pub hundredths: u64,
}

impl From<Hours> for TotalHours {
    fn from(hours: Hours) -> TotalHours {
        TotalHours { hundredths: u64::from(hours.hundredths) }
    }
}

impl AddAssign<Hours> for TotalHours {
    fn add_assign(&mut self, hours: Hours) {
        self.hundredths += u64::from(hours.hundredths);
    }
}

impl fmt::Display for TotalHours {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        format_hundredths(self.hundredths, f)
    }
}

impl Serialize for TotalHours {
    /// As [`Hours`]: whole hours as integers, otherwise a number with the same two decimals.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if self.hundredths % 100 == 0 {
            serializer.serialize_u64(self.hundredths / 100)
        } else {
            serializer.serialize_f64(self.hundredths as f64 / 100.0)
        }
    }
}
