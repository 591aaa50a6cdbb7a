//! Sums of hours: integer hundredths in a `u64`, because a structure's year or a national total
//! overflows the `u32` of one [`Hours`] value, and sums must be exact and identical on every run.

use std::fmt;
use std::ops::AddAssign;

use parcours_core::vocabulary::{format_hundredths, Hours, Month};
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

/// Hours worked in one structure, month by month, from its first month with hours on.
///
/// Why a dense vector rather than a map by month: every `hours_worked` of a rebuild adds to one
/// of these, and a tree costs a cache miss or two per level where this costs one. The rules keep
/// months between a contract's start and the day recorded, so the vector spans the structure's
/// years of activity: a few hundred bytes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct MonthlyHours {
    /// The ordinal ([`ordinal`]) of the month of `totals[0]`.
    first: u32,
    totals: Vec<TotalHours>,
}

/// Months counted from January of year 0: consecutive months have consecutive ordinals.
fn ordinal(month: Month) -> u32 {
    u32::from(month.year) * 12 + u32::from(month.month).saturating_sub(1)
}

impl MonthlyHours {
    pub(crate) fn add(&mut self, month: Month, hours: Hours) {
        let at = ordinal(month);
        if self.totals.is_empty() {
            self.first = at;
        }
        if at < self.first {
            let before = (self.first - at) as usize;
            self.totals.splice(0..0, std::iter::repeat_n(TotalHours::default(), before));
            self.first = at;
        }
        let index = (at - self.first) as usize;
        if index >= self.totals.len() {
            self.totals.resize(index + 1, TotalHours::default());
        }
        self.totals[index] += hours;
    }

    /// Takes back hours added before (a correction); never below zero.
    pub(crate) fn withdraw(&mut self, month: Month, hours: Hours) {
        if let Some(total) =
            ordinal(month).checked_sub(self.first).and_then(|index| self.totals.get_mut(index as usize))
        {
            total.hundredths = total.hundredths.saturating_sub(u64::from(hours.hundredths));
        }
    }

    /// The hours of the months from `from` to `to`, both included.
    pub(crate) fn sum(&self, from: Month, to: Month) -> TotalHours {
        // Structures hold far fewer than 2^32 months.
        let end = self.first + self.totals.len() as u32;
        let from = ordinal(from).clamp(self.first, end);
        let to = (ordinal(to) + 1).clamp(self.first, end);
        let months = self.totals.get((from - self.first) as usize..(to - self.first) as usize).unwrap_or_default();
        TotalHours { hundredths: months.iter().map(|total| total.hundredths).sum() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn month(year: u16, month: u8) -> Month {
        Month::new(year, month).expect("a month")
    }

    #[test]
    fn monthly_hours_add_up_in_any_order_and_withdraw() {
        let mut hours = MonthlyHours::default();
        assert_eq!(hours.sum(month(2025, 1), month(2025, 12)), TotalHours::default());
        hours.add(month(2025, 3), Hours { hundredths: 1_000 });
        hours.add(month(2024, 11), Hours { hundredths: 250 });
        hours.add(month(2025, 3), Hours { hundredths: 5 });
        hours.add(month(2026, 1), Hours { hundredths: 7 });
        assert_eq!(hours.sum(month(2025, 3), month(2025, 3)).hundredths, 1_005);
        assert_eq!(hours.sum(month(2025, 1), month(2025, 12)).hundredths, 1_005);
        assert_eq!(hours.sum(month(2024, 1), month(2026, 12)).hundredths, 1_262);
        assert_eq!(hours.sum(month(2020, 1), month(2024, 10)).hundredths, 0);
        assert_eq!(hours.sum(month(2026, 2), month(2030, 1)).hundredths, 0);
        hours.withdraw(month(2025, 3), Hours { hundredths: 1_000 });
        hours.withdraw(month(2023, 3), Hours { hundredths: 1_000 });
        hours.withdraw(month(2024, 11), Hours { hundredths: 9_999 });
        assert_eq!(hours.sum(month(2024, 1), month(2026, 12)).hundredths, 12);
    }
}
