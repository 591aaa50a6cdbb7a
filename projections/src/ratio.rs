//! Shares and rates without floats.
//!
//! Evaluators recompute figures and must get the same digits every time, so a rate is kept as two
//! integer counts and rounded once, at the end, half up to one decimal of a percent. The only float
//! is the JSON number written out: `tenths / 10.0` is the double nearest to the decimal, which
//! serde_json prints back with exactly those digits (`47.6`, `100.0`).

use std::fmt;

use serde::{Serialize, Serializer};

/// A count over a count, such as dynamic exits over exits that are not neutral.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct Ratio {
    pub numerator: u64,
    pub denominator: u64,
}

impl Ratio {
    pub fn new(numerator: u64, denominator: u64) -> Ratio {
        Ratio { numerator, denominator }
    }

    /// The ratio in percent, rounded half up to one decimal; `None` when the denominator is 0
    /// (shown as `null`: a rate over nobody is not 0 %).
    pub fn percent(self) -> Option<Percent> {
        if self.denominator == 0 {
            return None;
        }
        // round_half_up(n × 1000 / d) = floor((2 × 1000 × n + d) / (2 × d)); u128 cannot overflow.
        let denominator = u128::from(self.denominator);
        let tenths = (u128::from(self.numerator) * 2000 + denominator) / (2 * denominator);
        Some(Percent { tenths: u64::try_from(tenths).unwrap_or(u64::MAX) })
    }
}

/// A percentage with one decimal, kept as tenths of a percent (`476` is 47.6 %).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct Percent {
    tenths: u64,
}

impl Percent {
    pub fn tenths(self) -> u64 {
        self.tenths
    }
}

impl fmt::Display for Percent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.tenths / 10, self.tenths % 10)
    }
}

impl Serialize for Percent {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        // Exact for any count of people (below 2^53 tenths); see the module comment.
        serializer.serialize_f64(self.tenths as f64 / 10.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentages_round_half_up_to_one_decimal() {
        let cases = [
            ((1, 3), "33.3"),
            ((2, 3), "66.7"),
            ((1, 8), "12.5"),
            ((1, 16), "6.3"), // 6.25 → 6.3: half up
            ((1, 32), "3.1"), // 3.125 → 3.1
            ((3, 32), "9.4"), // 9.375 → 9.4
            ((1, 1), "100.0"),
            ((0, 7), "0.0"),
            ((20, 42), "47.6"),
            ((1, 2000), "0.1"), // 0.05 → 0.1
            ((1, 2001), "0.0"),
        ];
        for ((numerator, denominator), expected) in cases {
            let percent = Ratio::new(numerator, denominator).percent().unwrap();
            assert_eq!(percent.to_string(), expected, "{numerator}/{denominator}");
            assert_eq!(serde_json::to_string(&percent).unwrap(), expected, "{numerator}/{denominator}");
        }
    }

    #[test]
    fn a_rate_over_nobody_is_null() {
        assert_eq!(Ratio::new(0, 0).percent(), None);
        assert_eq!(serde_json::to_string(&Ratio::new(3, 0).percent()).unwrap(), "null");
    }
}
