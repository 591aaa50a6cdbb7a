//! Numbers as a French reader writes them: a narrow no-break space between thousands, a decimal
//! comma (`4 012,5`), a no-break space before `%`.

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

/// Hundredths without trailing zeros: `151,67`, `20,5`, `35`.
pub fn hundredths(value: u64) -> String {
    let (whole, cents) = (value / 100, value % 100);
    match cents {
        0 => integer(whole),
        c if c % 10 == 0 => format!("{},{}", integer(whole), c / 10),
        c => format!("{},{c:02}", integer(whole)),
    }
}

/// `47,6 %`.
pub fn percent(percent: Percent) -> String {
    let tenths = percent.tenths();
    format!("{},{}\u{a0}%", integer(tenths / 10), tenths % 10)
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
    }
}
