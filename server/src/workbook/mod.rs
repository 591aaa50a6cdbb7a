//! Downloads for spreadsheets (CONTRACT §11): a report, the list behind one of its figures, or
//! the statistics, as one neutral table model ([`Workbook`]) written as XLSX (`xlsx`) or as CSV
//! for French Excel (`csv_fr`).
//!
//! Why a model of our own between the figures and the files: each output is laid out once
//! (`report`, `statistics`) and both writers follow it, so the XLSX and the CSV never disagree;
//! and the report's sheets are built from its cells (`Figures::cells`), the list its CSV and page
//! walk too, so a figure added to the report reaches both files without a line here.
//!
//! Deterministic like every output: the same question gives the same bytes (the XLSX's creation
//! date is the period's last day, not the clock).

mod csv_fr;
mod report;
mod statistics;
mod xlsx;

use parcours_core::vocabulary::Date;
use parcours_projections::Disclosed;

pub use report::{list_workbook, name_of, report_workbook};
pub use statistics::{entries_workbook, esf_workbook, outcomes_workbook};

/// One cell, typed so that each writer gives numbers as numbers and dates as dates.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum Cell {
    Text(String),
    Integer(u64),
    /// An amount in hundredths (hours, full-time equivalents): `151.67`.
    Hundredths(u64),
    /// A percentage in tenths: `47.6`, as the JSON gives it.
    Percent(u64),
    Date(Date),
    /// A small cell withheld from the reader (CONTRACT §7): marked, never left looking like a zero.
    Withheld,
    Empty,
}

/// What a withheld cell says in both files.
pub const WITHHELD: &str = "masqué";

impl From<Disclosed> for Cell {
    fn from(disclosed: Disclosed) -> Cell {
        match disclosed {
            Disclosed::Count(count) => Cell::Integer(count),
            Disclosed::Rate(Some(rate)) => Cell::Percent(rate.tenths()),
            Disclosed::Rate(None) => Cell::Empty,
            Disclosed::Withheld => Cell::Withheld,
        }
    }
}

impl From<&str> for Cell {
    fn from(text: &str) -> Cell {
        Cell::Text(text.to_owned())
    }
}

impl From<String> for Cell {
    fn from(text: String) -> Cell {
        Cell::Text(text)
    }
}

/// A sheet of the XLSX; in the CSV, its rows under the sheet's name.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Sheet {
    pub name: String,
    pub rows: Vec<Vec<Cell>>,
}

#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Workbook {
    /// The French header of every sheet: one shape, so the CSV is one table.
    pub columns: Vec<String>,
    pub sheets: Vec<Sheet>,
    /// The definitions in force, `(figures, French text)`, on a sheet of their own in the XLSX
    /// (the CSV holds figures only); the first names the version.
    pub definitions: Vec<(String, String)>,
    /// The document's date, written in the XLSX's properties.
    pub dated: Date,
}

impl Workbook {
    /// The sheet named `name`, added after the others when it is new.
    fn sheet(&mut self, name: &str) -> &mut Sheet {
        let at = match self.sheets.iter().position(|sheet| sheet.name == name) {
            Some(at) => at,
            None => {
                self.sheets.push(Sheet { name: name.to_owned(), rows: Vec::new() });
                self.sheets.len() - 1
            }
        };
        &mut self.sheets[at]
    }

    /// The workbook as an XLSX file.
    pub fn xlsx(&self) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
        xlsx::write(self)
    }

    /// The workbook as CSV for French Excel: `;`, UTF-8 with its BOM, decimal commas.
    pub fn csv_fr(&self) -> Vec<u8> {
        csv_fr::write(self).into_bytes()
    }
}

/// A spreadsheet's format.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum SheetFormat {
    Xlsx,
    CsvFr,
}

impl SheetFormat {
    /// The workbook's bytes in this format.
    pub fn bytes(self, workbook: &Workbook) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
        match self {
            SheetFormat::Xlsx => workbook.xlsx(),
            SheetFormat::CsvFr => Ok(workbook.csv_fr()),
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            SheetFormat::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            SheetFormat::CsvFr => "text/csv; charset=utf-8",
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            SheetFormat::Xlsx => "xlsx",
            SheetFormat::CsvFr => "csv",
        }
    }
}
