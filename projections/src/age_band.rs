//! Age bands at referral (CONTRACT §5): age = referral year − birth year; 25 to 50 inclusive.

use std::fmt;

use serde::Serialize;

/// In the contract's order, youngest first: groups and rows are listed in this order.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Serialize)]
pub enum AgeBand {
    #[serde(rename = "under_25")]
    Under25,
    #[serde(rename = "25_to_50")]
    From25To50,
    #[serde(rename = "over_50")]
    Over50,
}

impl AgeBand {
    pub const ALL: &'static [AgeBand] = &[AgeBand::Under25, AgeBand::From25To50, AgeBand::Over50];

    pub fn at(referral_year: i32, birth_year: u16) -> AgeBand {
        match referral_year - i32::from(birth_year) {
            ..25 => AgeBand::Under25,
            25..=50 => AgeBand::From25To50,
            _ => AgeBand::Over50,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            AgeBand::Under25 => "under_25",
            AgeBand::From25To50 => "25_to_50",
            AgeBand::Over50 => "over_50",
        }
    }
}

impl fmt::Display for AgeBand {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bands_include_25_and_50() {
        let cases =
            [(24, AgeBand::Under25), (25, AgeBand::From25To50), (50, AgeBand::From25To50), (51, AgeBand::Over50)];
        for (age, band) in cases {
            assert_eq!(AgeBand::at(2024, (2024 - age) as u16), band, "{age}");
            assert_eq!(serde_json::to_value(band).unwrap(), band.code());
        }
    }
}
