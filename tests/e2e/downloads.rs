//! What funders download (CONTRACT §11): the activity report, its lists and the statistics as
//! XLSX and as CSV for French Excel, on the demo. An XLSX answer opened with a real reader
//! (calamine) gives the JSON's figures, numbers as numbers and dates as dates; the CSV for French
//! Excel starts with the BOM, parses with `;` and writes decimals with a comma; every download is
//! named after its structures and period; evaluators' files mark withheld cells.

use std::collections::BTreeMap;
use std::io::Cursor;

use calamine::{open_workbook_from_rs, Data, DataType, Reader, Xlsx};
use parcours_tests::{run, Client, Server};
use serde_json::{json, Value};

use crate::bin;

/// The report's section sheets, as the printable page titles them.
const SECTIONS: [&str; 7] = [
    "Personnes accompagnées",
    "Contrats de travail",
    "Heures de travail",
    "Suivi des parcours",
    "Profil des entrées",
    "Accompagnement social",
    "Sorties",
];

struct Download {
    content_type: String,
    disposition: String,
    bytes: Vec<u8>,
}

async fn download(client: &Client, path: &str) -> Download {
    let response = client.get_response(path).await;
    if response.status().as_u16() != 200 {
        let status = response.status().as_u16();
        panic!("{path}: {status} {}", response.text().await.unwrap_or_default());
    }
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .map(|value| value.to_str().expect("an ASCII header").to_owned())
            .unwrap_or_default()
    };
    let (content_type, disposition) = (header("content-type"), header("content-disposition"));
    let bytes = response.bytes().await.expect("the body").to_vec();
    Download { content_type, disposition, bytes }
}

/// Every sheet of an XLSX file: its rows, header first.
fn read_sheets(bytes: &[u8]) -> BTreeMap<String, Vec<Vec<Data>>> {
    let mut workbook: Xlsx<_> = open_workbook_from_rs(Cursor::new(bytes.to_vec())).expect("a readable XLSX file");
    let mut sheets = BTreeMap::new();
    for name in workbook.sheet_names() {
        let range = workbook.worksheet_range(&name).expect("a readable sheet");
        sheets.insert(name, range.rows().map(<[Data]>::to_vec).collect());
    }
    sheets
}

fn text(cell: &Data) -> String {
    match cell {
        Data::String(text) => text.clone(),
        Data::Empty => String::new(),
        other => panic!("text expected, got {other:?}"),
    }
}

/// A JSON figure as a sheet's cell gives it back: a number, nothing, or « masqué ».
fn same_figure(json: &Value, cell: &Data) -> bool {
    match (json, cell) {
        (Value::Number(number), Data::Float(float)) => number.as_f64() == Some(*float),
        (Value::Number(number), Data::Int(int)) => number.as_f64() == Some(*int as f64),
        (Value::Null, Data::Empty) => true,
        (Value::Null, Data::String(text)) => text == "masqué",
        _ => false,
    }
}

/// (structure, figure) → cell, from the section sheets; the header checked.
fn report_cells(sheets: &BTreeMap<String, Vec<Vec<Data>>>) -> BTreeMap<(String, String), Data> {
    let mut cells = BTreeMap::new();
    for section in SECTIONS {
        let rows = sheets.get(section).unwrap_or_else(|| panic!("a sheet {section}: {:?}", sheets.keys()));
        let header: Vec<String> = rows[0].iter().map(text).collect();
        assert_eq!(header, ["Structure", "Indicateur", "Valeur", "Part (%)", "Identifiant"], "{section}");
        for row in &rows[1..] {
            cells.insert((text(&row[0]), text(&row[4])), row[2].clone());
            assert!(!text(&row[1]).is_empty() && text(&row[1]) != text(&row[4]), "a French label: {row:?}");
        }
    }
    cells
}

/// The CSV for French Excel: the BOM, then `;`-separated rows (no field of the demo is quoted).
fn csv_fr_rows(bytes: &[u8]) -> Vec<Vec<String>> {
    let text = String::from_utf8(bytes.to_vec()).expect("UTF-8");
    let text = text.strip_prefix('\u{feff}').expect("the byte order mark first");
    text.lines().map(|line| line.split(';').map(str::to_owned).collect()).collect()
}

fn year() -> i32 {
    chrono::Utc::now().date_naive().format("%Y").to_string().parse::<i32>().expect("a year") - 1
}

#[tokio::test(flavor = "multi_thread")]
async fn funders_get_the_report_and_statistics_as_xlsx_and_french_csv_with_the_json_s_figures() {
    let dir = tempfile::tempdir().expect("a folder");
    let data = dir.path().join("data");
    let server = Server::start(bin(), &data, &["--demo"]);
    let admin = server.admin();
    // Last year: a whole year of the demo, which ends today; two structures, so each has its part.
    let year = year();
    let question = format!("structure=jardins-du-gravier,plie-agglomeration-agen&from={year}-01-01&to={year}-12-31");
    let json = admin.get(&format!("/api/reports/activity?{question}")).await;
    assert_eq!(json.status, 200, "{}", json.text);

    // XLSX: named after both structures and the period, one sheet per section, the definitions.
    let xlsx = download(&admin, &format!("/api/reports/activity?{question}&format=xlsx")).await;
    assert_eq!(xlsx.content_type, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet");
    let name = format!("{year}-01-01%20au%20{year}-12-31.xlsx");
    for expected in ["attachment; filename=\"rapport-d-activite-les-jardins-du-gravier-plie", &name] {
        assert!(xlsx.disposition.contains(expected), "{expected} in {}", xlsx.disposition);
    }
    assert!(xlsx
        .disposition
        .contains("filename*=UTF-8''Rapport%20d%27activit%C3%A9%20-%20Les%20Jardins%20du%20Gravier"));
    let sheets = read_sheets(&xlsx.bytes);
    let about = &sheets["Rapport"];
    let from = about.iter().find(|row| text(&row[4]) == "report.from").expect("the period's first day");
    assert_eq!(from[2].as_date(), chrono::NaiveDate::from_ymd_opt(year, 1, 1), "a date, as a date: {:?}", from[2]);
    let definitions = &sheets["Définitions"];
    assert_eq!(text(&definitions[1][1]), json.body["definitions"]["version"].as_str().expect("a version"));
    assert!(definitions.len() > 10, "every definition: {}", definitions.len());

    // Every figure of the JSON with a fixed id, for the whole and each structure, is the sheet's.
    let cells = report_cells(&sheets);
    let body = &json.body;
    let mut parts = vec![("Ensemble".to_owned(), body.clone())];
    for part in body["by_structure"].as_array().expect("each structure's part") {
        parts.push((part["structure"]["name"].as_str().expect("a name").to_owned(), part.clone()));
    }
    let mut compared = 0;
    for ((structure, figure), cell) in &cells {
        let segments: Vec<&str> = figure.split('.').collect();
        let [section, name] = segments.as_slice() else { continue };
        let part = &parts.iter().find(|(named, _)| named == structure).expect("a known part").1;
        assert!(
            same_figure(&part[*section][*name], cell),
            "{structure} {figure}: {} vs {cell:?}",
            part[*section][*name]
        );
        compared += 1;
    }
    assert!(compared >= 30 * parts.len(), "{compared}");
    // A table's row: women's entries, count and share.
    let women = body["profile"]["by_gender"].as_array().expect("rows").iter().find(|row| row["gender"] == "female");
    if let Some(women) = women {
        let cell = &cells[&("Ensemble".to_owned(), "profile.by_gender.female".to_owned())];
        assert!(same_figure(&women["count"], cell), "{cell:?}");
        let row = sheets["Profil des entrées"]
            .iter()
            .find(|row| text(&row[4]) == "profile.by_gender.female" && text(&row[0]) == "Ensemble")
            .expect("the row");
        assert!(same_figure(&women["share"], &row[3]), "{:?}", row[3]);
    }

    // CSV for French Excel: the BOM, `;`, French headers, decimal commas; the same figures.
    let csv = download(&admin, &format!("/api/reports/activity?{question}&format=csv-fr")).await;
    assert_eq!(csv.content_type, "text/csv; charset=utf-8");
    assert!(csv.disposition.contains(&format!("{year}-01-01-au-{year}-12-31.csv\"")), "{}", csv.disposition);
    let rows = csv_fr_rows(&csv.bytes);
    assert_eq!(rows[0], ["Rubrique", "Structure", "Indicateur", "Valeur", "Part (%)", "Identifiant"]);
    let mut decimals = 0;
    for row in &rows[1..] {
        assert_eq!(row.len(), 6, "{row:?}");
        let figure = &row[5];
        let Some(cell) = cells.get(&(row[1].clone(), figure.clone())) else { continue };
        assert!(!row[3].contains('.'), "a decimal comma, never a point: {row:?}");
        decimals += usize::from(row[3].contains(','));
        let value = row[3].replace(',', ".");
        match cell {
            Data::Float(float) => assert_eq!(value.parse::<f64>().ok(), Some(*float), "{row:?}"),
            Data::Empty => assert!(value.is_empty(), "{row:?}"),
            other => assert_eq!(&value, &text(other), "{row:?}"),
        }
    }
    assert!(decimals > 5, "rates and hours have decimals: {decimals}");

    // The list behind a figure: as long as the figure, its dates as dates.
    let list = format!("/api/reports/activity/list?{question}&figure=people.entered");
    let listed = admin.get(&list).await;
    assert_eq!(listed.status, 200, "{}", listed.text);
    let file = download(&admin, &format!("{list}&format=xlsx")).await;
    assert!(file.disposition.contains("filename*=UTF-8''Liste%20-%20Entr%C3%A9es"), "{}", file.disposition);
    let list_sheets = read_sheets(&file.bytes);
    let rows = list_sheets.get("Entrées (orientations)").expect("the list's sheet");
    assert_eq!(rows.len() - 1, listed.body["count"].as_u64().expect("a count") as usize);
    assert!(rows[1][0].as_date().is_some(), "{:?}", rows[1][0]);
    assert_eq!(text(&rows[1][1]), listed.body["rows"][0]["name"].as_str().expect("admins see names"));

    // Statistics: outcomes by gender and entries, the same figures as the JSON.
    let period = format!("from={year}-01-01&to={year}-12-31&structure=jardins-du-gravier");
    let outcomes = admin.get(&format!("/api/stats/outcomes?{period}&by=gender")).await;
    let file = download(&admin, &format!("/api/stats/outcomes?{period}&by=gender&format=xlsx")).await;
    assert!(file.disposition.contains("Sorties%20-%20Les%20Jardins%20du%20Gravier"), "{}", file.disposition);
    let rows = &read_sheets(&file.bytes)["Sorties"];
    assert_eq!(text(&rows[1][0]), "Ensemble");
    assert!(same_figure(&outcomes.body["exits"], &rows[1][1]), "{:?}", rows[1]);
    assert!(same_figure(&outcomes.body["dynamic_exit_rate"], &rows[1][8]), "{:?}", rows[1]);
    assert_eq!(rows.len() - 2, outcomes.body["groups"].as_array().expect("groups").len());
    let csv = download(&admin, &format!("/api/stats/outcomes?{period}&format=csv-fr")).await;
    let rows = csv_fr_rows(&csv.bytes);
    assert_eq!(rows[0][..3], ["Groupe", "Sorties", "Sorties : emploi durable"]);
    let rate = outcomes.body["dynamic_exit_rate"].as_f64().map(|rate| format!("{rate}").replace('.', ","));
    assert_eq!(rows[1][8], rate.unwrap_or_default(), "{:?}", rows[1]);
    let entries = admin.get(&format!("/api/stats/entries?{period}")).await;
    let rows = csv_fr_rows(&download(&admin, &format!("/api/stats/entries?{period}&format=csv-fr")).await.bytes);
    assert_eq!(rows[1][..4], ["Entrées", "Personnes entrées", "Ensemble", &entries.body["participants"].to_string()]);

    // Evaluators: withheld cells are marked, never numbers between 1 and 4.
    let created = admin.post("/api/tokens", &json!({"role": "evaluator"})).await;
    let evaluator = admin.with_token(created.body["token"].as_str().expect("a token"));
    // They ask one structure at a time (issue 16: no differencing between groups of structures).
    let one = format!("structure=jardins-du-gravier&from={year}-01-01&to={year}-12-31");
    let withheld = evaluator.get(&format!("/api/reports/activity?{one}")).await;
    let file = download(&evaluator, &format!("/api/reports/activity?{one}&format=xlsx")).await;
    let cells = report_cells(&read_sheets(&file.bytes));
    assert!(cells.values().any(|cell| cell == &Data::String("masqué".into())), "a demo year has small cells");
    for ((structure, figure), cell) in &cells {
        assert_eq!(structure, "Les Jardins du Gravier", "the structure asked, by its name");
        let segments: Vec<&str> = figure.split('.').collect();
        if let [section, name] = segments.as_slice() {
            assert!(same_figure(&withheld.body[*section][*name], cell), "{figure}: {cell:?}");
        }
    }

    // Bad formats are named; the command line writes the same XLSX to a file.
    let bad = admin.get(&format!("/api/reports/activity?{question}&format=xls")).await;
    assert_eq!(bad.status, 400);
    assert!(bad.body["message"].as_str().expect("a message").contains("xlsx"), "{}", bad.text);
    assert!(server.terminate().success());
    let output = dir.path().join("rapport.xlsx");
    let (from, to) = (format!("{year}-01-01"), format!("{year}-12-31"));
    let args = [
        "report",
        "activity",
        "--structure",
        "jardins-du-gravier",
        "--structure",
        "plie-agglomeration-agen",
        "--from",
        &from,
        "--to",
        &to,
        "--format",
        "xlsx",
        "--output",
        output.to_str().expect("a path"),
        "--data",
        data.to_str().expect("a path"),
    ];
    let ran = run(bin(), &args);
    assert!(ran.status.success(), "{}", String::from_utf8_lossy(&ran.stderr));
    assert_eq!(std::fs::read(&output).expect("the file"), xlsx.bytes, "the CLI writes the API's bytes");
}

/// The ESF+ indicators as the managing authority takes them (CONTRACT §11): an XLSX whose every
/// indicator, total and gender, is the JSON's, and a CSV for French Excel of the same rows.
#[tokio::test(flavor = "multi_thread")]
async fn the_esf_indicators_download_as_xlsx_and_french_csv_with_the_json_s_figures() {
    let dir = tempfile::tempdir().expect("a folder");
    let server = Server::start(bin(), &dir.path().join("data"), &["--demo"]);
    let admin = server.admin();
    let year = year();
    let question = format!("structure=jardins-du-gravier&from={year}-01-01&to={year}-12-31");
    let json = admin.get(&format!("/api/stats/esf?{question}")).await;
    assert_eq!(json.status, 200, "{}", json.text);
    let xlsx = download(&admin, &format!("/api/stats/esf?{question}&format=xlsx")).await;
    assert!(
        xlsx.disposition.starts_with("attachment; filename=\"indicateurs-fse-les-jardins-du-gravier"),
        "{}",
        xlsx.disposition
    );
    let sheets = read_sheets(&xlsx.bytes);
    let mut compared = 0;
    for (sheet, part) in [
        ("Réalisations", "output"),
        ("Résultats à la sortie", "results_on_leaving"),
        ("Résultats à long terme", "longer_term"),
    ] {
        let rows = &sheets[sheet];
        assert_eq!(text(&rows[0][0]), "Indicateur");
        for expected in json.body[part].as_array().expect("a part") {
            let code = expected["indicator"].as_str().expect("a code");
            let row = rows.iter().find(|row| text(&row[6]) == code).unwrap_or_else(|| panic!("{code} in {sheet}"));
            for (column, key) in ["total", "female", "male", "non_binary", "undisclosed"].iter().enumerate() {
                assert!(
                    same_figure(&expected[key], &row[column + 1]),
                    "{code}.{key}: {:?} ≠ {}",
                    row[column + 1],
                    expected[key]
                );
                compared += 1;
            }
        }
    }
    assert_eq!(compared, 22 * 5, "every indicator of Annex I, by gender");
    let participants = json.body["output"][0]["total"].as_u64().expect("participants");
    assert!(participants > 0, "the demo's year has participants");

    let csv = download(&admin, &format!("/api/stats/esf?{question}&format=csv-fr")).await;
    let rows = csv_fr_rows(&csv.bytes);
    let first = rows.iter().find(|row| row.last().is_some_and(|code| code == "participants")).expect("participants");
    assert_eq!((first[1].as_str(), first[2].clone()), ("Participants", participants.to_string()), "{first:?}");
}
