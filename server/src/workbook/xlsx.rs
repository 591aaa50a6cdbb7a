//! The workbook as an XLSX file (`rust_xlsxwriter`): one sheet per sheet of the model, a bold
//! header row kept in view, numbers as numbers with French-readable formats, dates as dates, and
//! the definitions on their own sheet.

use chrono::Datelike;
use rust_xlsxwriter::{ColNum, DocProperties, ExcelDateTime, Format, RowNum, Worksheet, XlsxError};

use parcours_core::vocabulary::Date;

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
    if let Some(created) = excel_date(workbook.dated) {
        book.set_properties(&DocProperties::new().set_creation_datetime(&created));
    }
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

/// The day as Excel counts days, which begin in 1900 and end in 9999: a period asked outside
/// them (the API takes any date) is written as text rather than refused.
fn excel_date(date: Date) -> Option<ExcelDateTime> {
    let day = date.0;
    let year = u16::try_from(day.year()).ok().filter(|year| (1900..=9999).contains(year))?;
    ExcelDateTime::from_ymd(year, day.month() as u8, day.day() as u8).ok()
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
        Cell::Date(date) => match excel_date(*date) {
            Some(excel) => worksheet.write_datetime_with_format(row, column, &excel, &formats.date)?,
            None => worksheet.write_string(row, column, date.0.format("%d/%m/%Y").to_string())?,
        },
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
    use super::*;

    #[test]
    fn a_day_outside_excels_calendar_is_written_as_text() {
        for (text, in_range) in
            [("1900-01-01", true), ("9999-12-31", true), ("0299-11-10", false), ("1899-12-31", false)]
        {
            assert_eq!(excel_date(text.parse().unwrap()).is_some(), in_range, "{text}");
        }
        let day = Date::from_ymd(299, 11, 10).unwrap();
        let mut workbook =
            Workbook { columns: vec!["Du".into()], sheets: Vec::new(), definitions: Vec::new(), dated: day };
        workbook.sheet("Période").rows.push(vec![Cell::Date(day)]);
        assert!(write(&workbook).is_ok(), "was: Year: '299' outside Excel range of 1900-9999");
    }

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
