//! The workbook as an XLSX file (`rust_xlsxwriter`): one sheet per sheet of the model, a bold
//! header row kept in view, numbers as numbers with French-readable formats, dates as dates, and
//! the definitions on their own sheet.

use chrono::Datelike;
use rust_xlsxwriter::{ColNum, DocProperties, ExcelDateTime, Format, RowNum, Worksheet, XlsxError};

use super::{Cell, Workbook, WITHHELD};

/// What Excel allows in a sheet's name: at most 31 characters, none of `[]:*?/\`.
const SHEET_NAME_MAX: usize = 31;

struct Formats {
    header: Format,
    integer: Format,
    hundredths: Format,
    percent: Format,
    date: Format,
    withheld: Format,
    wrapped: Format,
}

pub(super) fn write(workbook: &Workbook) -> Result<Vec<u8>, XlsxError> {
    let mut book = rust_xlsxwriter::Workbook::new();
    let dated = workbook.dated.0;
    let created = ExcelDateTime::from_ymd(year(dated.year()), dated.month() as u8, dated.day() as u8)?;
    book.set_properties(&DocProperties::new().set_creation_datetime(&created));
    let formats = Formats {
        header: Format::new().set_bold(),
        integer: Format::new().set_num_format("#,##0"),
        hundredths: Format::new().set_num_format("#,##0.00"),
        percent: Format::new().set_num_format("0.0"),
        date: Format::new().set_num_format("dd/mm/yyyy"),
        withheld: Format::new().set_italic(),
        wrapped: Format::new().set_text_wrap(),
    };
    let mut names: Vec<String> = Vec::new();
    for sheet in &workbook.sheets {
        let worksheet = book.add_worksheet();
        worksheet.set_name(unique(&sheet.name, &mut names))?;
        header(worksheet, &workbook.columns, &formats)?;
        for (row, cells) in (1..).zip(&sheet.rows) {
            for (column, cell) in (0..).zip(cells) {
                write_cell(worksheet, row, column, cell, &formats)?;
            }
        }
        for (column, title) in (0..).zip(&workbook.columns) {
            let widest = sheet.rows.iter().filter_map(|cells| cells.get(usize::from(column))).map(width).max();
            let width = widest.unwrap_or(0).max(title.chars().count()).clamp(8, 60);
            worksheet.set_column_width(column, width as f64 + 2.0)?;
        }
    }
    if !workbook.definitions.is_empty() {
        let worksheet = book.add_worksheet();
        worksheet.set_name(unique("Définitions", &mut names))?;
        header(worksheet, &["Indicateurs".to_owned(), "Définition".to_owned()], &formats)?;
        for (row, (figures, text)) in (1..).zip(&workbook.definitions) {
            worksheet.write_string(row, 0, figures)?;
            worksheet.write_string_with_format(row, 1, text, &formats.wrapped)?;
        }
        worksheet.set_column_width(0, 40)?;
        worksheet.set_column_width(1, 100)?;
    }
    book.save_to_buffer()
}

fn year(year: i32) -> u16 {
    u16::try_from(year).unwrap_or(1900)
}

fn header(worksheet: &mut Worksheet, columns: &[String], formats: &Formats) -> Result<(), XlsxError> {
    for (column, title) in (0..).zip(columns) {
        worksheet.write_string_with_format(0, column, title, &formats.header)?;
    }
    worksheet.set_freeze_panes(1, 0)?;
    Ok(())
}

fn write_cell(
    worksheet: &mut Worksheet,
    row: RowNum,
    column: ColNum,
    cell: &Cell,
    formats: &Formats,
) -> Result<(), XlsxError> {
    match cell {
        Cell::Text(text) => worksheet.write_string(row, column, text)?,
        Cell::Integer(value) => worksheet.write_number_with_format(row, column, *value as f64, &formats.integer)?,
        Cell::Hundredths(value) => {
            worksheet.write_number_with_format(row, column, *value as f64 / 100.0, &formats.hundredths)?
        }
        Cell::Percent(tenths) => {
            worksheet.write_number_with_format(row, column, *tenths as f64 / 10.0, &formats.percent)?
        }
        Cell::Date(date) => {
            let day = date.0;
            let excel = ExcelDateTime::from_ymd(year(day.year()), day.month() as u8, day.day() as u8)?;
            worksheet.write_datetime_with_format(row, column, &excel, &formats.date)?
        }
        Cell::Withheld => worksheet.write_string_with_format(row, column, WITHHELD, &formats.withheld)?,
        Cell::Empty => worksheet,
    };
    Ok(())
}

/// A cell's width in characters, for the column's.
fn width(cell: &Cell) -> usize {
    match cell {
        Cell::Text(text) => text.chars().count(),
        Cell::Date(_) => 10,
        Cell::Withheld => WITHHELD.len(),
        Cell::Integer(_) | Cell::Hundredths(_) | Cell::Percent(_) | Cell::Empty => 10,
    }
}

/// A sheet name Excel accepts, and unlike the names already given (Excel compares them without
/// case).
fn unique(name: &str, taken: &mut Vec<String>) -> String {
    let clean: String = name.chars().map(|c| if "[]:*?/\\".contains(c) { '-' } else { c }).collect();
    let clean = clean.trim_matches('\'').to_owned();
    let base: String = clean.chars().take(SHEET_NAME_MAX).collect();
    let base = if base.is_empty() { "Feuille".to_owned() } else { base };
    let mut candidate = base.clone();
    let mut number = 2;
    while taken.iter().any(|name| name.to_lowercase() == candidate.to_lowercase()) {
        let suffix = format!(" ({number})");
        let kept: String = base.chars().take(SHEET_NAME_MAX - suffix.chars().count()).collect();
        candidate = format!("{kept}{suffix}");
        number += 1;
    }
    taken.push(candidate.clone());
    candidate
}

#[cfg(test)]
mod tests {
    use super::unique;

    #[test]
    fn sheet_names_are_what_excel_accepts() {
        let mut taken = Vec::new();
        assert_eq!(unique("Profil des entrées", &mut taken), "Profil des entrées");
        assert_eq!(unique("profil des entrées", &mut taken), "profil des entrées (2)");
        assert_eq!(unique("Entrées [2024/2025]", &mut taken), "Entrées -2024-2025-");
        let long = unique(&"x".repeat(40), &mut taken);
        assert_eq!(long.chars().count(), 31);
        assert_eq!(unique(&"x".repeat(40), &mut taken), format!("{} (2)", "x".repeat(27)));
        assert_eq!(unique("", &mut taken), "Feuille");
    }
}
