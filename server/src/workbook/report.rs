//! The activity report and the list behind one of its figures, as workbooks: a first sheet that
//! says what the report is, then one sheet per section of the report, each holding the whole
//! report's cells and then each structure's own, and the definitions.
//!
//! Sections and rows come from `Figures::cells` (the CSV's and the page's list): a cell's section
//! is the first part of its id, its French label `report_html::figure_label`'s. A figure added to
//! the cells appears here as it is; a section no title is known for keeps its id as its name.

use parcours_projections::report::{
    ActivityReport, Band, FamilyQuotientBands, FigureCell, Shown, StructureName, Value,
};

use super::{Cell, Workbook};
use crate::report_html::{band_label, figure_label, list_detail, section_title, NamedRow};

const COLUMNS: [&str; 5] = ["Structure", "Indicateur", "Valeur", "Part (%)", "Identifiant"];

/// The name a reader knows a structure by: its recorded name, else its slug.
pub fn name_of(structure: &StructureName) -> String {
    structure.name.clone().unwrap_or_else(|| structure.slug.to_string())
}

fn value(value: &Value) -> Cell {
    match *value {
        Value::Count(disclosed) | Value::Rate(disclosed) => disclosed.into(),
        Value::Hours(Shown::Value(hours)) | Value::Agreed(Some(hours)) => Cell::Hundredths(hours.hundredths),
        Value::Fte(Shown::Value(fte)) => Cell::Hundredths(fte.hundredths),
        Value::AgreedFte(Some(fte)) => Cell::Hundredths(fte.hundredths),
        // Tenths of a day, written as hundredths: the cell's number is the same.
        Value::Days(Shown::Value(Some(days))) => Cell::Hundredths(days.tenths * 10),
        Value::Hours(Shown::Withheld) | Value::Fte(Shown::Withheld) | Value::Days(Shown::Withheld) => Cell::Withheld,
        Value::Agreed(None) | Value::AgreedFte(None) | Value::Days(Shown::Value(None)) => Cell::Empty,
    }
}

/// A cell's French label; a family-quotient band in words (« moins de 700 € »), which the
/// page's label leaves as its code.
fn label(id: &str, bands: &[Band]) -> String {
    let band = id
        .strip_prefix("profile.by_family_quotient.")
        .and_then(|code| bands.iter().find(|band| band.to_string() == code));
    match band {
        Some(band) => format!("Entrées : quotient familial {}", band_label(*band).to_lowercase()),
        None => figure_label(id),
    }
}

fn row(structure: &str, cell: &FigureCell, bands: &[Band]) -> Vec<Cell> {
    vec![
        structure.into(),
        label(&cell.id, bands).into(),
        value(&cell.value),
        cell.share.map_or(Cell::Empty, Cell::from),
        cell.id.as_str().into(),
    ]
}

/// The report as a workbook; a report of several structures gives the whole first (« Ensemble »),
/// then each structure's own figures when the reader has them.
pub fn report_workbook(report: &ActivityReport) -> Workbook {
    let names: Vec<String> = report.structures.iter().map(name_of).collect();
    let whole = match names.as_slice() {
        [one] => one.clone(),
        _ => "Ensemble".to_owned(),
    };
    let mut workbook = Workbook {
        columns: COLUMNS.map(String::from).to_vec(),
        sheets: Vec::new(),
        definitions: definitions(report, None),
        dated: report.to,
    };
    let about = |label: &str, value: Cell, id: &str| vec![Cell::Empty, label.into(), value, Cell::Empty, id.into()];
    workbook.sheet("Rapport").rows = vec![
        about("Structures", names.join(", ").into(), "report.structures"),
        about("Début de la période", Cell::Date(report.from), "report.from"),
        about("Fin de la période", Cell::Date(report.to), "report.to"),
        about("Version des définitions", report.definitions.0.to_string().into(), "report.definitions"),
        about(
            "Seuils du quotient familial (€)",
            report.family_quotient_bands_text().into(),
            "report.family_quotient_bands",
        ),
    ];
    let bands =
        FamilyQuotientBands::new(report.family_quotient_bands.clone()).map(|bands| bands.bands()).unwrap_or_default();
    let parts = std::iter::once((whole, &report.figures))
        .chain(report.by_structure.iter().map(|part| (name_of(&part.structure), &part.figures)));
    for (structure, figures) in parts {
        for cell in figures.cells() {
            let section = cell.id.split('.').next().unwrap_or_default();
            let title = section_title(section).unwrap_or(section);
            workbook.sheet(title).rows.push(row(&structure, &cell, &bands));
        }
    }
    workbook
}

/// The definitions of the report's version (`only`: of one figure family), the version first.
fn definitions(report: &ActivityReport, only: Option<&str>) -> Vec<(String, String)> {
    let version = report.definitions.0;
    let mut texts = vec![("Version des définitions".to_owned(), version.to_string())];
    for (key, text) in version.texts() {
        if only.is_none_or(|only| only == key) {
            let label = figure_label(key);
            let figures = if label == key { label } else { format!("{label} ({key})") };
            texts.push((figures, text.to_owned()));
        }
    }
    texts
}

/// The list behind `figure`: one row per person (or committee), with the name where the reader
/// may see it; dates as dates.
pub fn list_workbook(report: &ActivityReport, figure: &str, rows: &[NamedRow<'_>]) -> Workbook {
    let family = report
        .figures
        .cells()
        .into_iter()
        .chain(report.by_structure.iter().flat_map(|part| part.figures.cells()))
        .find(|cell| cell.list.as_deref() == Some(figure))
        .map(|cell| cell.definition);
    let mut workbook = Workbook {
        columns: ["Date", "Personne", "Identifiant", "Structure", "Jusqu'au", "Détail"].map(String::from).to_vec(),
        sheets: Vec::new(),
        definitions: family.map(|family| definitions(report, Some(family))).unwrap_or_default(),
        dated: report.to,
    };
    let sheet = workbook.sheet(&figure_label(figure));
    for NamedRow { row, name } in rows {
        let structure = report
            .structures
            .iter()
            .find(|known| known.slug == row.structure)
            .map_or_else(|| row.structure.to_string(), name_of);
        sheet.rows.push(vec![
            Cell::Date(row.on),
            name.clone().map_or(Cell::Empty, Cell::Text),
            row.beneficiary.map_or(Cell::Empty, |id| Cell::Text(id.to_string())),
            structure.into(),
            row.until.map_or(Cell::Empty, Cell::Date),
            row.detail.as_ref().map_or(Cell::Empty, |detail| Cell::Text(list_detail(detail))),
        ]);
    }
    workbook
}
