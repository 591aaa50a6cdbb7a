//! Days as plain numbers (chrono's count of days from the common era, 0001-01-01 being day 1), so
//! that planning a pathway is integer arithmetic and a date is built only when an event is.

use chrono::{Datelike, Months, NaiveDate};

use crate::vocabulary::{Date, Month};

pub type Day = i32;

/// The days the demo works with all lie well inside chrono's range: a failure is a bug here.
const IN_RANGE: &str = "demo days stay within years 1 to 9999";

pub fn day_of(date: Date) -> Day {
    date.0.num_days_from_ce()
}

pub fn date_of(day: Day) -> Date {
    Date(naive(day))
}

fn naive(day: Day) -> NaiveDate {
    NaiveDate::from_num_days_from_ce_opt(day).expect(IN_RANGE)
}

/// Monday is 0. Day 1 (0001-01-01, proleptic Gregorian) was a Monday.
pub fn weekday(day: Day) -> i32 {
    (day - 1).rem_euclid(7)
}

/// Offices are closed at weekends: a step planned on a Saturday or Sunday happens the Friday
/// before. Never moves a day later, so it keeps every "not before" relation between weekdays.
pub fn weekday_floor(day: Day) -> Day {
    day - (weekday(day) - 4).max(0)
}

/// The next weekday, for the first day of the history.
pub fn weekday_ceil(day: Day) -> Day {
    match weekday(day) {
        5 => day + 2,
        6 => day + 1,
        _ => day,
    }
}

/// The same day `months` later (the last day of the month when it has fewer days).
pub fn add_months(day: Day, months: u32) -> Day {
    day_of(Date(naive(day).checked_add_months(Months::new(months)).expect(IN_RANGE)))
}

/// The same day `years` earlier.
pub fn sub_years(day: Day, years: u32) -> Day {
    day_of(Date(naive(day).checked_sub_months(Months::new(years * 12)).expect(IN_RANGE)))
}

pub fn month_of(day: Day) -> Month {
    Month::from_date(date_of(day))
}

pub fn day_of_month(day: Day) -> u32 {
    naive(day).day()
}

pub fn year_of(day: Day) -> i32 {
    naive(day).year()
}

/// The first and last day of the month that holds `day`.
pub fn month_bounds(day: Day) -> (Day, Day) {
    let first = day - day_of_month(day) as Day + 1;
    (first, add_months(first, 1) - 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Weekday;

    #[test]
    fn weekdays_agree_with_chrono() {
        let start = day_of(Date::from_ymd(2024, 1, 1).unwrap());
        for day in start..start + 14 {
            let chrono = date_of(day).0.weekday();
            assert_eq!(weekday(day), chrono.num_days_from_monday() as i32);
            let floor = date_of(weekday_floor(day)).0.weekday();
            assert!(!matches!(floor, Weekday::Sat | Weekday::Sun) && weekday_floor(day) <= day);
            let ceil = date_of(weekday_ceil(day)).0.weekday();
            assert!(!matches!(ceil, Weekday::Sat | Weekday::Sun) && weekday_ceil(day) >= day);
        }
    }

    #[test]
    fn months_have_their_bounds() {
        let day = day_of(Date::from_ymd(2024, 2, 14).unwrap());
        let (first, last) = month_bounds(day);
        assert_eq!(date_of(first).to_string(), "2024-02-01");
        assert_eq!(date_of(last).to_string(), "2024-02-29");
        assert_eq!(date_of(add_months(day_of(Date::from_ymd(2024, 1, 31).unwrap()), 1)).to_string(), "2024-02-29");
    }
}
