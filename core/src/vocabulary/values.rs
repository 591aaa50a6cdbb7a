//! Small value types shared by every step: ids, dates, months and hours.
//!
//! They exist so the stored form (bincode) and the public form (JSON) of a value can differ without
//! either leaking into the other: a date is four bytes on disk and `"2024-03-04"` on the wire, hours
//! are integer hundredths on disk (no floats in sums) and a plain number on the wire.

use std::fmt;
use std::str::FromStr;

use bincode::de::Decoder;
use bincode::enc::Encoder;
use bincode::error::{DecodeError, EncodeError};
use bincode::{Decode, Encode};
use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use uuid::Uuid;

macro_rules! uuid_newtype {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub Uuid);

        impl $name {
            pub fn as_bytes(&self) -> &[u8; 16] {
                self.0.as_bytes()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map($name)
            }
        }

        impl Encode for $name {
            fn encode<E: Encoder>(&self, encoder: &mut E) -> Result<(), EncodeError> {
                self.0.as_bytes().encode(encoder)
            }
        }

        impl<Context> Decode<Context> for $name {
            fn decode<D: Decoder<Context = Context>>(decoder: &mut D) -> Result<Self, DecodeError> {
                Ok($name(Uuid::from_bytes(<[u8; 16]>::decode(decoder)?)))
            }
        }
        bincode::impl_borrow_decode!($name);
    };
}

uuid_newtype!(
    /// Identifies one event, forever. Client-supplied ids make retries idempotent.
    EventId
);
uuid_newtype!(
    /// Identifies one stream: a beneficiary, or a structure's own stream.
    StreamId
);

impl EventId {
    /// UUID v7: time-ordered, so ids recorded close together sort close together in the id index.
    pub fn generate() -> Self {
        EventId(Uuid::now_v7())
    }
}

/// The UUID v5 namespace of streams named rather than generated ("parcours-structu" in ASCII).
const NAMED_STREAMS: Uuid = Uuid::from_u128(0x7061_7263_6f75_7273_2d73_7472_7563_7475);

impl StreamId {
    pub fn generate() -> Self {
        StreamId(Uuid::now_v7())
    }

    /// The stream that holds a structure's own events. Derived from the slug (UUID v5) so that every
    /// server, import and test agrees on it without a lookup table.
    pub fn of_structure(slug: &str) -> Self {
        StreamId(Uuid::new_v5(&NAMED_STREAMS, slug.as_bytes()))
    }

    /// The one stream that holds every published report (`report_published`). Derived like a
    /// structure's stream, from a name no slug can have (slugs hold no `:`), so it is the same
    /// everywhere and no structure's stream can be it.
    pub fn published_reports() -> Self {
        StreamId(Uuid::new_v5(&NAMED_STREAMS, b"reports:published"))
    }
}

/// A SHA-256 digest: 32 bytes on disk, 64 lower-case hexadecimal digits on the wire.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Encode, Decode)]
pub struct Sha256Digest(pub [u8; 32]);

impl Sha256Digest {
    pub fn of(bytes: &[u8]) -> Sha256Digest {
        use sha2::Digest as _;
        Sha256Digest(sha2::Sha256::digest(bytes).into())
    }
}

impl fmt::Display for Sha256Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

impl FromStr for Sha256Digest {
    type Err = &'static str;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        const EXPECTED: &str = "expected a SHA-256 digest: 64 hexadecimal digits";
        let bytes = hex::decode(text).map_err(|_| EXPECTED)?;
        Ok(Sha256Digest(bytes.try_into().map_err(|_| EXPECTED)?))
    }
}

impl Serialize for Sha256Digest {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Sha256Digest {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// A calendar day. Stored as days since 0001-01-01 (an `i32`), shown as `YYYY-MM-DD`.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Deserialize)]
#[serde(transparent)]
pub struct Date(pub NaiveDate);

/// The same text as chrono's own `Serialize` (`YYYY-MM-DD`, and chrono's form for years outside
/// 0–9999), written by hand for the years people live in: chrono's goes through `collect_str`, which
/// makes serde_json escape every piece chrono writes, one character at a time (a sixth of the JSON
/// of a history read; BENCHMARKS.md, issue 4).
impl Serialize for Date {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let year = self.0.year();
        if !(0..=9999).contains(&year) {
            return self.0.serialize(serializer);
        }
        let mut text = *b"0000-00-00";
        write_digits(&mut text[0..4], year as u32);
        write_digits(&mut text[5..7], self.0.month());
        write_digits(&mut text[8..10], self.0.day());
        match std::str::from_utf8(&text) {
            Ok(text) => serializer.serialize_str(text),
            Err(_) => self.0.serialize(serializer),
        }
    }
}

/// Writes `value` in decimal into all of `out`, with leading zeros (digits beyond are dropped).
pub(crate) fn write_digits(out: &mut [u8], mut value: u32) {
    for digit in out.iter_mut().rev() {
        *digit = b'0' + (value % 10) as u8;
        value /= 10;
    }
}

impl Date {
    pub fn from_ymd(year: i32, month: u32, day: u32) -> Option<Date> {
        NaiveDate::from_ymd_opt(year, month, day).map(Date)
    }
    pub fn year(&self) -> i32 {
        self.0.year()
    }
    pub fn month(&self) -> Month {
        Month::from_date(*self)
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.format("%Y-%m-%d").fmt(f)
    }
}

impl FromStr for Date {
    type Err = chrono::ParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").map(Date)
    }
}

impl Encode for Date {
    fn encode<E: Encoder>(&self, encoder: &mut E) -> Result<(), EncodeError> {
        self.0.num_days_from_ce().encode(encoder)
    }
}

impl<Context> Decode<Context> for Date {
    fn decode<D: Decoder<Context = Context>>(decoder: &mut D) -> Result<Self, DecodeError> {
        let days = i32::decode(decoder)?;
        NaiveDate::from_num_days_from_ce_opt(days).map(Date).ok_or(DecodeError::Other("day number out of range"))
    }
}
bincode::impl_borrow_decode!(Date);

/// A calendar month, `YYYY-MM`: the unit in which worked hours are reported.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Encode, Decode)]
pub struct Month {
    pub year: u16,
    /// 1 to 12.
    pub month: u8,
}

impl Month {
    pub fn new(year: u16, month: u8) -> Option<Month> {
        ((1..=12).contains(&month) && year >= 1).then_some(Month { year, month })
    }
    pub fn from_date(date: Date) -> Month {
        // chrono guarantees 1..=12 and our dates stay within years 1..=9999 once parsed.
        Month { year: date.0.year().clamp(1, 9999) as u16, month: date.0.month() as u8 }
    }
    pub fn first_day(&self) -> Date {
        Date(NaiveDate::from_ymd_opt(self.year.into(), self.month.into(), 1).unwrap_or(NaiveDate::MIN))
    }
}

impl fmt::Display for Month {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

impl FromStr for Month {
    type Err = &'static str;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        const EXPECTED: &str = "expected a month as YYYY-MM";
        let (year, month) = s.split_once('-').ok_or(EXPECTED)?;
        if year.len() != 4 || month.len() != 2 {
            return Err(EXPECTED);
        }
        let year: u16 = year.parse().map_err(|_| EXPECTED)?;
        let month: u8 = month.parse().map_err(|_| EXPECTED)?;
        Month::new(year, month).ok_or(EXPECTED)
    }
}

impl Serialize for Month {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Month {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// A number of hours with two decimals (a full-time month is 151.67 h), kept as integer hundredths
/// so that sums over millions of events are exact and identical on every run.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Default, Encode, Decode)]
pub struct Hours {
    pub hundredths: u32,
}

impl Hours {
    pub const fn from_hundredths(hundredths: u32) -> Hours {
        Hours { hundredths }
    }
    pub const fn whole(hours: u32) -> Hours {
        Hours { hundredths: hours * 100 }
    }
    pub fn is_zero(&self) -> bool {
        self.hundredths == 0
    }
}

/// Full-time equivalents with two decimals (12.5 agreed posts), read and written as hours are:
/// exact hundredths.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Default, Serialize, Deserialize, Encode, Decode)]
#[serde(transparent)]
pub struct FullTimeEquivalents(pub Hours);

impl fmt::Display for Hours {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        format_hundredths(u64::from(self.hundredths), f)
    }
}

/// Writes integer hundredths as a decimal number without trailing zeros (`151.67`, `20.5`, `35`).
pub fn format_hundredths(hundredths: u64, f: &mut impl fmt::Write) -> fmt::Result {
    let (whole, cents) = (hundredths / 100, hundredths % 100);
    match cents {
        0 => write!(f, "{whole}"),
        c if c % 10 == 0 => write!(f, "{whole}.{}", c / 10),
        c => write!(f, "{whole}.{c:02}"),
    }
}

impl Serialize for Hours {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        // Whole hours as integers; otherwise the f64 of a two-decimal value prints back the same digits.
        if self.hundredths % 100 == 0 {
            serializer.serialize_u32(self.hundredths / 100)
        } else {
            serializer.serialize_f64(f64::from(self.hundredths) / 100.0)
        }
    }
}

impl<'de> Deserialize<'de> for Hours {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = f64::deserialize(deserializer)?;
        let hundredths = (value * 100.0).round();
        if !value.is_finite() || value < 0.0 || hundredths > f64::from(u32::MAX) {
            return Err(serde::de::Error::custom("expected a number of hours between 0 and 40 million"));
        }
        if ((value * 100.0) - hundredths).abs() > 1e-6 {
            return Err(serde::de::Error::custom("hours take at most two decimals"));
        }
        Ok(Hours { hundredths: hundredths as u32 })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_timestamps_write_the_same_json_as_chrono() {
        let (mut day, end) =
            (NaiveDate::from_ymd_opt(-3, 1, 1).unwrap(), NaiveDate::from_ymd_opt(10_003, 1, 1).unwrap());
        let edges = [(0, 1, 1), (9999, 12, 31), (10_000, 1, 1), (-1, 12, 31), (2024, 2, 29)];
        let edges = edges.map(|(y, m, d)| NaiveDate::from_ymd_opt(y, m, d).unwrap());
        while day < end {
            for day in std::iter::once(day).chain(edges) {
                assert_eq!(serde_json::to_string(&Date(day)).unwrap(), serde_json::to_string(&day).unwrap());
            }
            day = day + chrono::Days::new(37);
        }
        // The old form of a timestamp's JSON: its `Display`, quoted.
        let old = |time: crate::vocabulary::Timestamp| format!("\"{time}\"");
        let (first, last) = (-62_230_000_000_000_i64, 253_500_000_000_000_i64);
        let mut millis = first;
        while millis < last {
            let time = crate::vocabulary::Timestamp::from_millis(millis).unwrap();
            assert_eq!(serde_json::to_string(&time).unwrap(), old(time));
            millis += 7_919_999_999_977;
        }
        for millis in [0, 1, 999, -1, 1_764_506_096_123, 253_402_300_799_999, 253_402_300_800_000, -62_167_219_200_001]
        {
            let time = crate::vocabulary::Timestamp::from_millis(millis).unwrap();
            assert_eq!(serde_json::to_string(&time).unwrap(), old(time));
        }
        let leap = NaiveDate::from_ymd_opt(2016, 12, 31).unwrap().and_hms_milli_opt(23, 59, 59, 1_500).unwrap();
        let leap = crate::vocabulary::Timestamp(leap.and_utc());
        assert_eq!(serde_json::to_string(&leap).unwrap(), old(leap));
    }

    #[test]
    fn hours_round_trip_through_json_exactly() {
        for text in ["151.67", "20.5", "35", "0.01"] {
            let hours: Hours = serde_json::from_str(text).unwrap();
            assert_eq!(serde_json::to_string(&hours).unwrap(), text);
            assert_eq!(hours.to_string(), text);
        }
        assert!(serde_json::from_str::<Hours>("1.234").is_err());
        assert!(serde_json::from_str::<Hours>("-1").is_err());
    }

    #[test]
    fn months_parse_strictly() {
        assert_eq!("2024-03".parse::<Month>(), Ok(Month { year: 2024, month: 3 }));
        for bad in ["2024-3", "2024-13", "24-03", "2024/03", "2024-00"] {
            assert!(bad.parse::<Month>().is_err(), "{bad}");
        }
    }

    #[test]
    fn structure_streams_are_stable() {
        assert_eq!(StreamId::of_structure("aci-agen"), StreamId::of_structure("aci-agen"));
        assert_ne!(StreamId::of_structure("aci-agen"), StreamId::of_structure("ei-agen"));
        assert_eq!(StreamId::published_reports(), StreamId::published_reports());
        assert_ne!(StreamId::published_reports(), StreamId::of_structure("published-reports"));
    }
}
