//! The workbook as CSV for French Excel: French Excel opens a CSV with the list separator of its
//! locale (`;`), reads it as UTF-8 only when it starts with a byte order mark, and reads `12,5` as
//! a number where `12.5` would be text. One table: with several sheets, a first column names the
//! sheet of each row.

use std::fmt::Write as _;

use super::{Cell, Workbook, WITHHELD};

const BOM: char = '\u{feff}';

pub(super) fn write(workbook: &Workbook) -> String {
    let mut out = String::new();
    out.push(BOM);
    let named = workbook.sheets.len() > 1;
    let header: Vec<&str> =
        named.then_some("Rubrique").into_iter().chain(workbook.columns.iter().map(String::as_str)).collect();
    line(&mut out, header.into_iter().map(field));
    for sheet in &workbook.sheets {
        for row in &sheet.rows {
            let first = named.then(|| field(&sheet.name));
            line(&mut out, first.into_iter().chain(row.iter().map(text)));
        }
    }
    out
}

fn line(out: &mut String, fields: impl Iterator<Item = String>) {
    let fields: Vec<String> = fields.collect();
    out.push_str(&fields.join(";"));
    out.push_str("\r\n");
}

/// Quotes a field when it holds the separator, a quote or a line break (RFC 4180, with `;`).
fn field(text: &str) -> String {
    if text.contains([';', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_owned()
    }
}

/// A text Excel would run as a formula (`=`, `+`, `-`, `@` first: names and partners are typed by
/// people) is kept as text with a leading apostrophe, as Excel itself marks one.
fn inert(text: &str) -> String {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_owned()
    }
}

fn text(cell: &Cell) -> String {
    match cell {
        Cell::Text(text) => field(&inert(text)),
        Cell::Integer(value) => value.to_string(),
        Cell::Hundredths(value) => decimal(*value, 100),
        Cell::Percent(tenths) => decimal(*tenths, 10),
        Cell::Date(date) => date.0.format("%d/%m/%Y").to_string(),
        Cell::Withheld => WITHHELD.to_owned(),
        Cell::Empty => String::new(),
    }
}

/// `value / scale` with a decimal comma and no trailing zeros, no thousands separator (Excel
/// would read one as text): `151,67`, `20,5`, `35`.
fn decimal(value: u64, scale: u64) -> String {
    let (whole, mut fraction) = (value / scale, value % scale);
    let mut digits = scale.ilog10() as usize;
    if fraction == 0 {
        return whole.to_string();
    }
    while fraction % 10 == 0 {
        fraction /= 10;
        digits -= 1;
    }
    let mut text = String::new();
    let _ = write!(text, "{whole},{fraction:0digits$}");
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workbook::Sheet;
    use parcours_core::vocabulary::Date;

    #[test]
    fn decimals_have_a_comma_and_no_trailing_zero() {
        let cases =
            [(15_167, 100, "151,67"), (2_050, 100, "20,5"), (3_500, 100, "35"), (7, 100, "0,07"), (476, 10, "47,6")];
        for (value, scale, expected) in cases {
            assert_eq!(decimal(value, scale), expected, "{value}/{scale}");
        }
    }

    #[test]
    fn formulas_stay_text() {
        assert_eq!(text(&Cell::from("=HYPERLINK(\"http://x\")")), "\"'=HYPERLINK(\"\"http://x\"\")\"");
        assert_eq!(text(&Cell::from("@SUM(A1)")), "'@SUM(A1)");
        assert_eq!(text(&Cell::from("Banque alimentaire")), "Banque alimentaire");
    }

    #[test]
    fn one_table_with_the_bom_semicolons_and_the_sheet_of_each_row() {
        let day = Date::from_ymd(2024, 3, 4).unwrap();
        let workbook = Workbook {
            columns: ["Indicateur", "Valeur", "Part (%)"].map(String::from).to_vec(),
            sheets: vec![
                Sheet {
                    name: "Période".into(),
                    rows: vec![vec!["Début; inclus".into(), Cell::Date(day), Cell::Empty]],
                },
                Sheet {
                    name: "Sorties".into(),
                    rows: vec![
                        vec!["Taux".into(), Cell::Hundredths(1_250), Cell::Percent(333)],
                        vec!["Femmes".into(), Cell::Withheld, Cell::Withheld],
                    ],
                },
            ],
            definitions: Vec::new(),
            dated: day,
        };
        let csv = write(&workbook);
        assert_eq!(
            csv,
            "\u{feff}Rubrique;Indicateur;Valeur;Part (%)\r\nPériode;\"Début; inclus\";04/03/2024;\r\n\
             Sorties;Taux;12,5;33,3\r\nSorties;Femmes;masqué;masqué\r\n"
        );
    }
}
