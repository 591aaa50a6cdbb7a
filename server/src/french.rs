//! Numbers, days and months as a French reader writes them: a narrow no-break space between
//! thousands, a decimal comma (`4 012,5`), a no-break space before `%` and `h`, months in words.
//! The web pages and the printed report share these, so a figure reads the same in both.

use chrono::Datelike;
use chrono_tz::Tz;
use parcours_core::vocabulary::{Date, Month, Timestamp};
use parcours_projections::ratio::Percent;

/// Narrow no-break space (U+202F), the thousands separator of French typography.
const THOUSANDS: char = '\u{202f}';

pub fn integer(value: u64) -> String {
    let digits = value.to_string();
    let mut grouped = String::with_capacity(digits.len() + digits.len() / 3 * 3);
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index) % 3 == 0 {
            grouped.push(THOUSANDS);
        }
        grouped.push(digit);
    }
    grouped
}

/// A count and its noun, agreed as French does: singular for 0 and 1 (« 0 étape », « 1 étape »,
/// « 2 étapes »).
pub fn count(value: u64, singular: &str, plural: &str) -> String {
    format!("{} {}", integer(value), if value < 2 { singular } else { plural })
}

/// Hundredths without trailing zeros: `151,67`, `20,5`, `35`.
pub fn hundredths(value: u64) -> String {
    let (whole, cents) = (value / 100, value % 100);
    match cents {
        0 => integer(whole),
        c if c % 10 == 0 => format!("{},{}", integer(whole), c / 10),
        c => format!("{},{c:02}", integer(whole)),
    }
}

/// `151,67 h`: hours kept as hundredths, as the log stores them.
pub fn hours(hundredths: impl Into<u64>) -> String {
    format!("{}\u{a0}h", self::hundredths(hundredths.into()))
}

/// `47,6 %`.
pub fn percent(percent: Percent) -> String {
    let tenths = percent.tenths();
    format!("{},{}\u{a0}%", integer(tenths / 10), tenths % 10)
}

const MONTHS: [&str; 12] = [
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
];

/// The name of a month of a year, 1 to 12 (a `Month` is checked when it is read).
fn month_name(month: u8) -> &'static str {
    MONTHS[usize::from(month.clamp(1, 12)) - 1]
}

/// `mars 2024`.
pub fn month(month: Month) -> String {
    format!("{} {}", month_name(month.month), month.year)
}

/// `mars`, `janv.`: a month on the axis of a chart.
pub fn month_short(month: Month) -> &'static str {
    const SHORT: [&str; 12] =
        ["janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.", "nov.", "déc."];
    SHORT[usize::from(month.month.clamp(1, 12)) - 1]
}

/// `04/03/2024`, as forms and tables write a day.
pub fn date(date: Date) -> String {
    date.0.format("%d/%m/%Y").to_string()
}

/// `1er janvier 2024`, `15 mars 2024`, as a printed report writes a day in a sentence.
pub fn date_long(date: Date) -> String {
    let day = date.0.day();
    let day = if day == 1 { "1er".to_owned() } else { day.to_string() };
    format!("{day} {} {}", MONTHS[date.0.month0() as usize], date.0.year())
}

/// A recording time in the server's time zone: `05/03/2024 à 10:12`.
pub fn time(at: Timestamp, timezone: Tz) -> String {
    let local = at.0.with_timezone(&timezone);
    format!("{:02}/{:02}/{} à {}", local.day(), local.month(), local.year(), local.format("%H:%M"))
}

/// A recording time to the second, where several within a minute must be told apart (the
/// access log): `05/03/2024 à 10:12:44`.
pub fn time_seconds(at: Timestamp, timezone: Tz) -> String {
    let local = at.0.with_timezone(&timezone);
    format!("{:02}/{:02}/{} à {}", local.day(), local.month(), local.year(), local.format("%H:%M:%S"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn french_numbers() {
        assert_eq!(integer(4200), "4\u{202f}200");
        assert_eq!(integer(999), "999");
        assert_eq!(integer(1_234_567), "1\u{202f}234\u{202f}567");
        assert_eq!(hundredths(401_250), "4\u{202f}012,5");
        assert_eq!(hundredths(15_167), "151,67");
        assert_eq!(hundredths(7), "0,07");
        let half = parcours_projections::ratio::Ratio::new(1, 3).percent().unwrap();
        assert_eq!(percent(half), "33,3\u{a0}%");
        assert_eq!(hours(2_264_040_u64), "22\u{202f}640,4\u{a0}h");
    }

    #[test]
    fn french_days_and_months() {
        let day = Date::from_ymd(2024, 3, 4).unwrap();
        assert_eq!(date(day), "04/03/2024");
        assert_eq!(date_long(day), "4 mars 2024");
        assert_eq!(date_long(Date::from_ymd(2024, 1, 1).unwrap()), "1er janvier 2024");
        assert_eq!(month(day.month()), "mars 2024");
        assert_eq!(month_short(day.month()), "mars");
    }
}
