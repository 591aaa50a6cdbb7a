//! Family-quotient bands of the report's profile: the thresholds (monthly euros) are the caller's,
//! because funders ask for different cuts (CAF scales, a département's own); by default one cut at
//! 700 €, giving `under_700`, `700_and_over` and `unknown`.

use std::fmt;
use std::str::FromStr;

use serde::{Serialize, Serializer};
use thiserror::Error;

/// More cuts than any funder asks for; keeps a report's table (and its list links) small.
pub const FAMILY_QUOTIENT_CUTS_MAX: usize = 8;

/// Strictly increasing thresholds in euros; a quotient equal to a threshold is in the band above.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct FamilyQuotientBands {
    cuts: Vec<u32>,
}

#[derive(Clone, PartialEq, Eq, Debug, Error)]
pub enum BandsError {
    #[error("`{0}` is not an amount in whole euros")]
    NotAnAmount(String),
    #[error("the thresholds must increase strictly: {0} comes after {1}")]
    NotIncreasing(u32, u32),
    #[error("at least one threshold is needed")]
    Empty,
    #[error("at most {FAMILY_QUOTIENT_CUTS_MAX} thresholds")]
    TooMany,
}

/// One band: its code (`under_700`, `700_to_999`, `1000_and_over`, `unknown`) is its identity in
/// JSON, CSV and list links.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
pub enum Band {
    Under(u32),
    Between(u32, u32),
    AndOver(u32),
    Unknown,
}

impl fmt::Display for Band {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Band::Under(cut) => write!(f, "under_{cut}"),
            Band::Between(low, high) => write!(f, "{low}_to_{}", high - 1),
            Band::AndOver(cut) => write!(f, "{cut}_and_over"),
            Band::Unknown => f.write_str("unknown"),
        }
    }
}

impl Serialize for Band {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl Default for FamilyQuotientBands {
    fn default() -> Self {
        FamilyQuotientBands { cuts: vec![700] }
    }
}

impl FamilyQuotientBands {
    pub fn new(cuts: Vec<u32>) -> Result<FamilyQuotientBands, BandsError> {
        if cuts.is_empty() {
            return Err(BandsError::Empty);
        }
        if cuts.len() > FAMILY_QUOTIENT_CUTS_MAX {
            return Err(BandsError::TooMany);
        }
        if let Some(pair) = cuts.windows(2).find(|pair| pair[1] <= pair[0]) {
            return Err(BandsError::NotIncreasing(pair[1], pair[0]));
        }
        Ok(FamilyQuotientBands { cuts })
    }

    pub fn cuts(&self) -> &[u32] {
        &self.cuts
    }

    /// Every band, lowest first, `unknown` last.
    pub fn bands(&self) -> Vec<Band> {
        let mut bands = Vec::with_capacity(self.cuts.len() + 2);
        bands.extend(self.cuts.first().map(|&cut| Band::Under(cut)));
        bands.extend(self.cuts.windows(2).map(|pair| Band::Between(pair[0], pair[1])));
        bands.extend(self.cuts.last().map(|&cut| Band::AndOver(cut)));
        bands.push(Band::Unknown);
        bands
    }

    /// The place of `quotient`'s band in [`FamilyQuotientBands::bands`].
    pub(crate) fn place_of(&self, quotient: Option<u32>) -> usize {
        match quotient {
            Some(quotient) => self.cuts.iter().take_while(|&&cut| cut <= quotient).count(),
            None => self.cuts.len() + 1,
        }
    }

    pub fn band_of(&self, quotient: Option<u32>) -> Band {
        let Some(quotient) = quotient else { return Band::Unknown };
        let above = self.cuts.iter().take_while(|&&cut| cut <= quotient).count();
        match above {
            0 => Band::Under(self.cuts[0]),
            n if n == self.cuts.len() => Band::AndOver(self.cuts[n - 1]),
            n => Band::Between(self.cuts[n - 1], self.cuts[n]),
        }
    }
}

impl fmt::Display for FamilyQuotientBands {
    /// As the query parameter takes them: `500,1000`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let cuts: Vec<String> = self.cuts.iter().map(u32::to_string).collect();
        f.write_str(&cuts.join(","))
    }
}

impl FromStr for FamilyQuotientBands {
    type Err = BandsError;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let cuts = text
            .split(',')
            .map(str::trim)
            .map(|cut| cut.parse::<u32>().map_err(|_| BandsError::NotAnAmount(cut.to_owned())))
            .collect::<Result<Vec<u32>, BandsError>>()?;
        FamilyQuotientBands::new(cuts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bands_split_at_their_thresholds() {
        let default = FamilyQuotientBands::default();
        let codes: Vec<String> = default.bands().iter().map(Band::to_string).collect();
        assert_eq!(codes, ["under_700", "700_and_over", "unknown"]);
        let cases = [(Some(699), "under_700"), (Some(700), "700_and_over"), (None, "unknown"), (Some(0), "under_700")];
        for (quotient, band) in cases {
            assert_eq!(default.band_of(quotient).to_string(), band, "{quotient:?}");
        }
        let three: FamilyQuotientBands = "500, 1000".parse().unwrap();
        let codes: Vec<String> = three.bands().iter().map(Band::to_string).collect();
        assert_eq!(codes, ["under_500", "500_to_999", "1000_and_over", "unknown"]);
        assert_eq!(three.band_of(Some(999)).to_string(), "500_to_999");
        assert_eq!(three.band_of(Some(1000)).to_string(), "1000_and_over");
        assert_eq!(three.to_string(), "500,1000");
        for quotient in [None, Some(0), Some(499), Some(500), Some(999), Some(1000), Some(5000)] {
            assert_eq!(three.bands()[three.place_of(quotient)], three.band_of(quotient), "{quotient:?}");
        }
    }

    #[test]
    fn bad_thresholds_are_refused_with_a_reason() {
        let cases = [
            ("", BandsError::NotAnAmount(String::new())),
            ("700,500", BandsError::NotIncreasing(500, 700)),
            ("700,700", BandsError::NotIncreasing(700, 700)),
            ("sept", BandsError::NotAnAmount("sept".into())),
            ("1,2,3,4,5,6,7,8,9", BandsError::TooMany),
        ];
        for (text, error) in cases {
            assert_eq!(text.parse::<FamilyQuotientBands>(), Err(error), "{text}");
        }
    }
}
