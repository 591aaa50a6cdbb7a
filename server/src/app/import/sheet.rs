//! Reading a sheet row by row: CSV (UTF-8 or Windows-1252, `;` or `,`, both detected) and XLSX.
//!
//! Rows are handed to a callback one at a time, never collected: a CSV is read through a buffered
//! reader and an XLSX through calamine's cell reader, which parses the sheet's XML as it goes (the
//! shared strings of the workbook are held, as Excel itself needs them). Each row comes with its
//! number as a spreadsheet shows it: the header is row 1.

use std::fs::File;
use std::io::{BufReader, Cursor, Read, Seek};
use std::path::PathBuf;

use calamine::{DataRef, Reader, Xlsx};

use super::ImportError;

/// Where a sheet's bytes are: an uploaded body, or a file (read from disk at each pass).
#[derive(Clone, Debug)]
pub enum Source {
    Bytes(std::sync::Arc<[u8]>),
    Path(PathBuf),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Format {
    Csv,
    Xlsx,
}

/// How many bytes the encoding and the separator are guessed from.
const SNIFF_BYTES: usize = 64 * 1024;

impl Source {
    fn open(&self) -> Result<Box<dyn ReadSeek + '_>, ImportError> {
        Ok(match self {
            Source::Bytes(bytes) => Box::new(Cursor::new(&bytes[..])),
            Source::Path(path) => Box::new(BufReader::new(
                File::open(path).map_err(|error| ImportError::Sheet(format!("{} : {error}", path.display())))?,
            )),
        })
    }

    fn head(&self) -> Result<Vec<u8>, ImportError> {
        let mut head = Vec::with_capacity(SNIFF_BYTES);
        self.open()?
            .take(SNIFF_BYTES as u64)
            .read_to_end(&mut head)
            .map_err(|error| ImportError::Sheet(format!("lecture du fichier impossible : {error}")))?;
        Ok(head)
    }

    /// An XLSX is a zip file; anything else is read as CSV.
    fn format(head: &[u8]) -> Format {
        if head.starts_with(b"PK\x03\x04") {
            Format::Xlsx
        } else {
            Format::Csv
        }
    }

    /// Calls `row` with each row's number and cells (as text), the header first.
    pub fn for_each_row(
        &self,
        sheet: Option<&str>,
        date_format: &str,
        mut row: impl FnMut(u32, Vec<String>) -> Result<(), ImportError>,
    ) -> Result<(), ImportError> {
        let head = self.head()?;
        match Source::format(&head) {
            Format::Csv => read_csv(self.open()?, &head, &mut row),
            Format::Xlsx => read_xlsx(self.open()?, sheet, date_format, &mut row),
        }
    }
}

trait ReadSeek: Read + Seek {}
impl<T: Read + Seek> ReadSeek for T {}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Encoding {
    Utf8,
    Windows1252,
}

/// UTF-8 when the first bytes are valid UTF-8 (a character cut at the end of the sample is fine),
/// else Windows-1252, the encoding Excel writes French CSV files in.
fn encoding(head: &[u8]) -> Encoding {
    match std::str::from_utf8(head) {
        Ok(_) => Encoding::Utf8,
        Err(error) if error.error_len().is_none() => Encoding::Utf8,
        Err(_) => Encoding::Windows1252,
    }
}

/// The separator of the header line: `;` (Excel in French) or `,`, whichever it holds more of
/// outside quotes.
fn separator(head: &[u8]) -> u8 {
    let (mut semicolons, mut commas, mut quoted) = (0, 0, false);
    for byte in head {
        match byte {
            b'"' => quoted = !quoted,
            b'\n' if !quoted => break,
            b';' if !quoted => semicolons += 1,
            b',' if !quoted => commas += 1,
            _ => {}
        }
    }
    if semicolons > commas {
        b';'
    } else {
        b','
    }
}

const BOM: &[u8] = b"\xEF\xBB\xBF";

fn read_csv(
    mut input: Box<dyn ReadSeek + '_>,
    head: &[u8],
    row: &mut dyn FnMut(u32, Vec<String>) -> Result<(), ImportError>,
) -> Result<(), ImportError> {
    let encoding = encoding(head);
    if head.starts_with(BOM) {
        input
            .seek(std::io::SeekFrom::Start(BOM.len() as u64))
            .map_err(|error| ImportError::Sheet(error.to_string()))?;
    }
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(separator(head.strip_prefix(BOM).unwrap_or(head)))
        .has_headers(false)
        .flexible(true)
        .from_reader(input);
    let mut record = csv::ByteRecord::new();
    let mut number = 0u32;
    loop {
        match reader.read_byte_record(&mut record) {
            Ok(false) => return Ok(()),
            Ok(true) => {}
            Err(error) => return Err(ImportError::Sheet(format!("CSV illisible après la ligne {number} : {error}"))),
        }
        number += 1;
        let mut cells = Vec::with_capacity(record.len());
        for field in record.iter() {
            cells.push(match encoding {
                Encoding::Utf8 => match std::str::from_utf8(field) {
                    Ok(text) => text.to_owned(),
                    Err(_) => {
                        return Err(ImportError::Sheet(format!(
                            "ligne {number} : le fichier commence en UTF-8 mais cette ligne ne l'est pas ; \
                             enregistrez-le en UTF-8 (« CSV UTF-8 » dans Excel)"
                        )))
                    }
                },
                Encoding::Windows1252 => encoding_rs::WINDOWS_1252.decode_without_bom_handling(field).0.into_owned(),
            });
        }
        row(number, cells)?;
    }
}

fn read_xlsx(
    input: Box<dyn ReadSeek + '_>,
    sheet: Option<&str>,
    date_format: &str,
    row: &mut dyn FnMut(u32, Vec<String>) -> Result<(), ImportError>,
) -> Result<(), ImportError> {
    let mut workbook: Xlsx<_> =
        Xlsx::new(input).map_err(|error| ImportError::Sheet(format!("classeur XLSX illisible : {error}")))?;
    let name = match sheet {
        Some(name) => name.to_owned(),
        None => workbook
            .sheet_names()
            .first()
            .cloned()
            .ok_or_else(|| ImportError::Sheet("le classeur ne contient aucune feuille".into()))?,
    };
    if !workbook.sheet_names().contains(&name) {
        return Err(ImportError::Sheet(format!(
            "le classeur n'a pas de feuille « {name} » (feuilles : {})",
            workbook.sheet_names().join(", ")
        )));
    }
    let mut cells = workbook
        .worksheet_cells_reader(&name)
        .map_err(|error| ImportError::Sheet(format!("feuille « {name} » : {error}")))?;
    let mut current: Option<(u32, Vec<String>)> = None;
    loop {
        let cell = cells.next_cell().map_err(|error| ImportError::Sheet(format!("feuille « {name} » : {error}")))?;
        let Some(cell) = cell else { break };
        let (line, column) = cell.get_position();
        let number = line + 1;
        if current.as_ref().is_some_and(|(at, _)| *at != number) {
            if let Some((at, values)) = current.take() {
                row(at, values)?;
            }
        }
        let (_, values) = current.get_or_insert_with(|| (number, Vec::new()));
        let column = column as usize;
        if values.len() <= column {
            values.resize(column + 1, String::new());
        }
        values[column] = cell_text(cell.get_value(), date_format);
    }
    if let Some((at, values)) = current {
        row(at, values)?;
    }
    Ok(())
}

/// A cell as the same sheet saved as CSV would write it: dates in the mapping's format, whole
/// numbers without decimals.
fn cell_text(value: &DataRef<'_>, date_format: &str) -> String {
    match value {
        DataRef::Int(number) => number.to_string(),
        DataRef::Float(number) if number.fract() == 0.0 && number.abs() < 1e15 => format!("{}", *number as i64),
        DataRef::Float(number) => number.to_string(),
        DataRef::String(text) => text.clone(),
        DataRef::SharedString(text) => (*text).to_owned(),
        DataRef::Bool(true) => "true".into(),
        DataRef::Bool(false) => "false".into(),
        DataRef::DateTime(date) => match date.as_datetime() {
            Some(moment) => moment.format(date_format).to_string(),
            None => String::new(),
        },
        DataRef::DateTimeIso(text) | DataRef::DurationIso(text) => text.clone(),
        DataRef::Error(_) | DataRef::Empty => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_separator_and_encoding_are_guessed_from_the_header() {
        assert_eq!(separator(b"Nom;Pr\xe9nom;\"a,b,c\"\n1,2,3,4"), b';');
        assert_eq!(separator(b"Nom,Prenom;x,y\n"), b',');
        assert_eq!(encoding("Prénom".as_bytes()), Encoding::Utf8);
        assert_eq!(encoding(b"Pr\xe9nom"), Encoding::Windows1252);
        // A character cut by the end of the sample does not make the file Windows-1252.
        assert_eq!(encoding(&"é".as_bytes()[..1]), Encoding::Utf8);
    }

    #[test]
    fn a_windows_1252_file_with_semicolons_reads_as_text() {
        let source = Source::Bytes(b"Nom;Pr\xe9nom\r\nDupont;H\xe9l\xe8ne\r\n".to_vec().into());
        let mut rows = Vec::new();
        source
            .for_each_row(None, "%d/%m/%Y", |number, cells| {
                rows.push((number, cells));
                Ok(())
            })
            .expect("read");
        assert_eq!(rows, vec![(1, vec!["Nom".into(), "Prénom".into()]), (2, vec!["Dupont".into(), "Hélène".into()])]);
    }
}
