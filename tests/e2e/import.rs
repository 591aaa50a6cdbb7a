//! Spreadsheet import (CONTRACT §9) and one person, one record (§10), against the real binary:
//! the sample sheets of `examples/import/`, over HTTP and on the command line.

use std::path::{Path, PathBuf};

use parcours_tests::{Client, Server};
use serde_json::{json, Value};

use crate::bin;

fn example(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/import").join(name)
}

fn read(name: &str) -> Vec<u8> {
    std::fs::read(example(name)).expect("a sample file")
}

async fn import(
    client: &Client,
    query: &str,
    sheet: Vec<u8>,
    sheet_name: &str,
    mapping: &str,
) -> parcours_tests::Answer {
    client
        .post_multipart(
            &format!("/api/imports?{query}"),
            vec![("file", sheet_name, sheet), ("mapping", "mapping.json", read(mapping))],
        )
        .await
}

async fn log_length(client: &Client) -> usize {
    let log = client.get("/api/events?after=0&limit=10000").await;
    assert_eq!(log.status, 200, "{}", log.text);
    log.body["events"].as_array().expect("events").len()
}

/// The ACI sample with one cell changed.
fn aci_with(row: usize, column: &str, value: &str) -> Vec<u8> {
    let text = String::from_utf8(read("aci-salaries.csv")).expect("UTF-8");
    let mut lines: Vec<Vec<String>> = text.lines().map(|line| line.split(',').map(str::to_owned).collect()).collect();
    let at = lines[0].iter().position(|name| name == column).expect("a column");
    lines[row - 1][at] = value.to_owned();
    lines.iter().map(|cells| cells.join(",") + "\n").collect::<String>().into_bytes()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_dry_run_writes_nothing_an_import_writes_once_and_a_reimport_adds_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(bin(), dir.path(), &[]);
    let admin = server.admin();

    let dry = import(&admin, "dry_run=true", read("aci-salaries.csv"), "salaries.csv", "aci-mapping.json").await;
    assert_eq!(dry.status, 200, "{}", dry.text);
    assert_eq!((dry.body["rows"].as_u64(), dry.body["people_new"].as_u64()), (Some(7), Some(6)));
    assert_eq!(dry.body["events_new"], 26, "{}", dry.text);
    assert_eq!(dry.body["errors"], json!([]));
    let preview = dry.body["preview"].as_array().expect("a preview");
    assert_eq!(preview.len(), 6);
    // Hélène Dupont's two contracts (two rows) make one person with one referral.
    let helene = &preview[0]["events"];
    let types: Vec<&str> = helene.as_array().unwrap().iter().map(|event| event["type"].as_str().unwrap()).collect();
    assert_eq!(types, ["registered", "referred", "contract_started", "contract_ended", "contract_started"]);
    assert_eq!(helene[0]["data"]["identity"]["first_name"], "Hélène");
    assert_eq!(helene[2]["data"]["weekly_hours"], 26);
    assert_eq!(log_length(&admin).await, 0, "a dry run writes nothing");

    let done = import(&admin, "", read("aci-salaries.csv"), "salaries.csv", "aci-mapping.json").await;
    assert_eq!(done.status, 200, "{}", done.text);
    assert_eq!((done.body["people_new"].as_u64(), done.body["events_new"].as_u64()), (Some(6), Some(26)));
    assert_eq!(log_length(&admin).await, 26);
    // The preview's ids are those stored, and the person reads as imported.
    let person = preview[0]["beneficiary"].as_str().unwrap();
    let state = admin.get(&format!("/api/beneficiaries/{person}")).await;
    assert_eq!(state.status, 200, "{}", state.text);
    assert_eq!(state.body["identity"]["last_name"], "Dupont");

    let again = import(&admin, "", read("aci-salaries.csv"), "salaries.csv", "aci-mapping.json").await;
    assert_eq!(again.status, 200, "{}", again.text);
    assert_eq!(again.body["events_new"], 0, "{}", again.text);
    assert_eq!(again.body["events_already_there"], 26);
    assert_eq!(again.body["people_existing"], 6);
    assert_eq!(log_length(&admin).await, 26, "a re-import adds nothing");
}

#[tokio::test(flavor = "multi_thread")]
async fn one_bad_row_rejects_the_file_naming_its_row_and_column_and_skip_bad_rows_imports_the_others() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(bin(), dir.path(), &[]);
    let admin = server.admin();
    // Row 5 (Aïssata N'Diaye, her only row) has a contract kind the mapping does not know.
    let sheet = aci_with(5, "Contrat", "CDII");

    let rejected = import(&admin, "", sheet.clone(), "salaries.csv", "aci-mapping.json").await;
    assert_eq!(rejected.status, 422, "{}", rejected.text);
    assert_eq!(rejected.body["error"], "import_rejected");
    let errors = rejected.body["errors"].as_array().expect("errors");
    assert_eq!(errors.len(), 1, "{}", rejected.text);
    assert_eq!((errors[0]["row"].as_u64(), errors[0]["column"].as_str()), (Some(5), Some("Contrat")));
    assert_eq!(errors[0]["value"], "CDII");
    let message = errors[0]["message"].as_str().unwrap();
    assert!(message.contains("attendu") && message.contains("« CDDI »"), "{message}");
    assert_eq!(log_length(&admin).await, 0, "one bad row writes nothing at all");

    let skipped = import(&admin, "skip_bad_rows=true", sheet, "salaries.csv", "aci-mapping.json").await;
    assert_eq!(skipped.status, 200, "{}", skipped.text);
    assert_eq!(skipped.body["errors"][0]["row"], 5);
    // Her row was her only one: she is left out; the five others are there, whole.
    assert_eq!(skipped.body["people_new"], 5, "{}", skipped.text);
    assert_eq!(skipped.body["events_new"], 26 - 3);
    assert_eq!(log_length(&admin).await, 26 - 3);

    // A date that breaks a rule (a contract ended before it started) is named by its row and column.
    let broken = aci_with(6, "Fin contrat", "01/01/2025");
    let answer = import(&admin, "dry_run=true", broken, "salaries.csv", "aci-mapping.json").await;
    assert_eq!(answer.status, 200);
    let errors = answer.body["errors"].as_array().expect("errors");
    assert!(errors.iter().any(|error| error["row"] == 6 && error["column"] == "Fin contrat"), "{}", answer.text);
}

/// The ACI sample as an Excel workbook: dates as dates, hours as numbers, sheet "Salariés".
fn aci_as_xlsx(path: &Path) {
    use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};
    let text = String::from_utf8(read("aci-salaries.csv")).expect("UTF-8");
    let mut workbook = Workbook::new();
    let sheet = workbook.add_worksheet();
    sheet.set_name("Salariés").unwrap();
    let date = Format::new().set_num_format("dd/mm/yyyy");
    for (row, line) in text.lines().enumerate() {
        for (column, cell) in line.split(',').enumerate() {
            let (row, column) = (row as u32, column as u16);
            let parts: Vec<&str> = cell.split('/').collect();
            if row > 0 && parts.len() == 3 {
                let day = ExcelDateTime::from_ymd(
                    parts[2].parse().unwrap(),
                    parts[1].parse().unwrap(),
                    parts[0].parse().unwrap(),
                );
                sheet.write_datetime_with_format(row, column, day.unwrap(), &date).unwrap();
            } else if let (true, Ok(number)) = (row > 0, cell.parse::<f64>()) {
                sheet.write_number(row, column, number).unwrap();
            } else if !cell.is_empty() {
                sheet.write_string(row, column, cell).unwrap();
            }
        }
    }
    workbook.save(path).unwrap();
}

fn cli_import(data: &Path, sheet: &Path, mapping: &str, flags: &[&str]) -> Value {
    let (data, sheet, mapping) = (data.to_str().unwrap(), sheet.to_str().unwrap(), example(mapping));
    let mut args = vec!["import-sheet", sheet, "--mapping", mapping.to_str().unwrap(), "--data", data];
    args.extend_from_slice(flags);
    let output = parcours_tests::run(bin(), &args);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&output.stderr));
    serde_json::from_str(&stdout).expect("a JSON answer")
}

#[test]
fn the_xlsx_and_the_csv_of_the_same_sheet_give_the_same_events() {
    let dir = tempfile::tempdir().unwrap();
    let xlsx = dir.path().join("salaries.xlsx");
    aci_as_xlsx(&xlsx);
    let data = dir.path().join("data");
    let from_xlsx = cli_import(&data, &xlsx, "aci-mapping.json", &["--dry-run"]);
    let from_csv = cli_import(&data, &example("aci-salaries.csv"), "aci-mapping.json", &["--dry-run"]);
    assert_eq!(from_xlsx["events_new"], 26, "{from_xlsx}");
    assert_eq!(from_xlsx["preview"], from_csv["preview"]);
    // Written from the workbook, the CSV then finds every step already there.
    let written = cli_import(&data, &xlsx, "aci-mapping.json", &[]);
    assert_eq!(written["events_new"], 26);
    let again = cli_import(&data, &example("aci-salaries.csv"), "aci-mapping.json", &[]);
    assert_eq!((again["events_new"].as_u64(), again["events_already_there"].as_u64()), (Some(0), Some(26)), "{again}");
}

#[test]
fn the_plie_sheet_in_windows_1252_with_semicolons_imports_on_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let answer = cli_import(&data, &example("plie-participants.csv"), "plie-mapping.json", &[]);
    assert_eq!((answer["people_new"].as_u64(), answer["events_new"].as_u64()), (Some(4), Some(14)), "{answer}");
    let names: Vec<&str> = answer["preview"]
        .as_array()
        .unwrap()
        .iter()
        .map(|person| person["events"][0]["data"]["identity"]["first_name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Hélène", "Mathéo", "Françoise", "Yanis"]);
}

async fn coordinator(server: &Server, structures: &[&str]) -> Client {
    let created = server.admin().post("/api/tokens", &json!({"role": "coordinator", "structures": structures})).await;
    assert_eq!(created.status, 201, "{}", created.text);
    Client::new(&server.url).with_token(created.body["token"].as_str().unwrap())
}

fn registration(structure: &str, first: &str, last: &str, birth: &str) -> Value {
    json!({"occurred_on": crate::days_ago(3), "data": {"structure": structure, "gender": "female",
        "birth_year": birth[..4].parse::<u16>().unwrap(),
        "identity": {"first_name": first, "last_name": last, "birth_date": birth}}})
}

#[tokio::test(flavor = "multi_thread")]
async fn a_registration_repeating_someone_in_reach_gets_409_and_someone_out_of_reach_is_never_hinted_at() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(bin(), dir.path(), &[]);
    let admin = server.admin();
    let aci = coordinator(&server, &["aci-agen"]).await;
    let first = aci.post("/api/beneficiaries", &registration("aci-agen", "Hélène", "Dupont", "1990-04-02")).await;
    assert_eq!(first.status, 201, "{}", first.text);
    let helene = first.body["id"].as_str().unwrap().to_owned();
    let elsewhere =
        admin.post("/api/beneficiaries", &registration("ei-marmande", "Karim", "Martin", "1985-09-15")).await;
    assert_eq!(elsewhere.status, 201, "{}", elsewhere.text);
    let karim = elsewhere.body["id"].as_str().unwrap().to_owned();

    // The same person written otherwise: 409, with her, and nothing written.
    let before = log_length(&admin).await;
    let again = registration("aci-agen", "HELENE", "dupont", "1990-04-02");
    let refused = aci.post("/api/beneficiaries", &again).await;
    assert_eq!(refused.status, 409, "{}", refused.text);
    assert_eq!(refused.body["error"], "possible_duplicate");
    assert_eq!(refused.body["candidates"].as_array().unwrap().len(), 1);
    let candidate = &refused.body["candidates"][0];
    assert_eq!((candidate["id"].as_str(), candidate["first_name"].as_str()), (Some(helene.as_str()), Some("Hélène")));
    assert_eq!(candidate["birth_date"], "1990-04-02");
    assert_eq!(candidate["structures"], json!(["aci-agen"]));
    assert_eq!(log_length(&admin).await, before);
    let mut confirmed = again.clone();
    confirmed["confirm_new"] = json!(true);
    let second = aci.post("/api/beneficiaries", &confirmed).await;
    assert_eq!(second.status, 201, "{}", second.text);
    let second = second.body["id"].as_str().unwrap().to_owned();

    // Karim is followed by a structure the coordinator cannot read: registered, no hint at all.
    let out_of_reach = aci.post("/api/beneficiaries", &registration("aci-agen", "Karim", "Martin", "1985-09-15")).await;
    assert_eq!(out_of_reach.status, 201, "{}", out_of_reach.text);
    assert!(!out_of_reach.text.contains(&karim) && !out_of_reach.text.contains("candidates"), "{}", out_of_reach.text);
    let aci_karim = out_of_reach.body["id"].as_str().unwrap().to_owned();

    // Likely duplicates: the admin sees both pairs, the coordinator only the one it reads entirely.
    let pair = |a: &str, b: &str| if a < b { (a.to_owned(), b.to_owned()) } else { (b.to_owned(), a.to_owned()) };
    let pairs = |answer: &Value| -> Vec<(String, String, String)> {
        answer["pairs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| {
                (p["a"].as_str().unwrap().into(), p["b"].as_str().unwrap().into(), p["reason"].as_str().unwrap().into())
            })
            .collect()
    };
    let (h1, h2) = pair(&helene, &second);
    let (k1, k2) = pair(&karim, &aci_karim);
    let mut expected = vec![
        (h1.clone(), h2.clone(), "same_name_and_birth_date".to_owned()),
        (k1, k2, "same_name_and_birth_date".into()),
    ];
    expected.sort();
    assert_eq!(pairs(&admin.get("/api/duplicates").await.body), expected);
    assert_eq!(pairs(&aci.get("/api/duplicates").await.body), vec![(h1, h2, "same_name_and_birth_date".to_owned())]);

    // Erasure removes the person's blind key: no pair, no candidate any more.
    let erased = admin.post(&format!("/api/beneficiaries/{second}/erase"), &json!({"reason": "request"})).await;
    assert!(erased.status < 300, "{}", erased.text);
    assert!(pairs(&aci.get("/api/duplicates").await.body).is_empty());
    let refused = aci.post("/api/beneficiaries", &registration("aci-agen", "Hélène", "Dupont", "1990-04-02")).await;
    assert_eq!(refused.body["candidates"].as_array().map(Vec::len), Some(1), "{}", refused.text);
    assert_eq!(refused.body["candidates"][0]["id"], helene.as_str());
}

#[tokio::test(flavor = "multi_thread")]
async fn search_ignores_case_and_accents_and_opens_only_the_identities_it_returns() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(bin(), dir.path(), &[]);
    let admin = server.admin();
    let done = import(&admin, "", read("aci-salaries.csv"), "salaries.csv", "aci-mapping.json").await;
    assert_eq!(done.status, 200, "{}", done.text);
    let found = admin.get("/api/beneficiaries?q=helene").await;
    assert_eq!(found.status, 200, "{}", found.text);
    assert_eq!(found.body["total"], 1, "{}", found.text);
    assert_eq!(found.body["people"][0]["name"], "Hélène Dupont");
    let eric = admin.get("/api/beneficiaries?q=ERIC%20leroy").await;
    assert_eq!(eric.body["people"][0]["name"], "Éric Leroy", "{}", eric.text);
    // Karim Martin was not returned: his identity was not read for the search.
    let karim = done.body["preview"]
        .as_array()
        .unwrap()
        .iter()
        .find(|person| person["events"][0]["data"]["identity"]["first_name"] == "Karim");
    let karim = karim.expect("Karim in the preview")["beneficiary"].as_str().unwrap().to_owned();
    let helene = found.body["people"][0]["beneficiary"].as_str().unwrap().to_owned();
    let log = |id: String| {
        let admin = admin.clone();
        async move { admin.get(&format!("/api/access-log?beneficiary={id}")).await.text }
    };
    assert!(log(helene).await.contains("\"name\""), "the returned identity is read and logged");
    assert!(!log(karim).await.contains("\"name\""), "an identity not returned is not read");
}

/// A body that is not `multipart/form-data` gets the contract's JSON error naming the problem, not
/// axum's plain-text rejection (found by schemathesis: `POST /api/imports` with no body).
#[tokio::test(flavor = "multi_thread")]
async fn an_import_without_a_multipart_body_is_refused_in_json() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(bin(), dir.path(), &[]);
    for body in ["", "{\"file\": \"salaries.csv\"}"] {
        let refused = server.admin().post_raw("/api/imports?dry_run=true", body).await;
        assert_eq!(refused.status, 400, "{}", refused.text);
        assert_eq!(refused.body["error"], "invalid_request", "{}", refused.text);
        assert!(
            refused.body["message"].as_str().is_some_and(|message| message.contains("multipart")),
            "{}",
            refused.text
        );
    }
}

/// A person another structure proposed to the sheet's structure is not one of its own until it
/// accepts (CONTRACT §7, §10): the import does not match her, as a registration would not.
#[tokio::test(flavor = "multi_thread")]
async fn an_import_matches_a_person_proposed_to_its_structure_only_once_it_accepts() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(bin(), dir.path(), &[]);
    let (aci, gravier) =
        (coordinator(&server, &["aci-agen"]).await, coordinator(&server, &["jardins-du-gravier"]).await);
    let registered = aci.post("/api/beneficiaries", &registration("aci-agen", "Hélène", "Dupont", "1990-04-02")).await;
    assert_eq!(registered.status, 201, "{}", registered.text);
    let helene = registered.body["id"].as_str().unwrap().to_owned();
    let proposal = json!({"events": [{"type": "referred", "occurred_on": crate::days_ago(2),
        "data": {"structure": "jardins-du-gravier", "prescriber": {"kind": "ccas"}, "situation": "unemployed"}}]});
    let proposed = aci.post(&format!("/api/beneficiaries/{helene}/events"), &proposal).await;
    assert_eq!(proposed.status, 201, "{}", proposed.text);
    let referral = proposed.body["ids"][0].as_str().unwrap().to_owned();

    let people =
        |answer: &parcours_tests::Answer| (answer.body["people_new"].clone(), answer.body["people_existing"].clone());
    let waiting = import(&gravier, "dry_run=true", read("aci-salaries.csv"), "salaries.csv", "aci-mapping.json").await;
    assert_eq!(waiting.status, 200, "{}", waiting.text);
    assert_eq!(people(&waiting), (json!(6), json!(0)), "Hélène is not the structure's own while the proposal waits");

    let accept = format!("/api/beneficiaries/{helene}/referrals/{referral}/accept");
    assert_eq!(gravier.post(&accept, &json!({})).await.status, 201);
    let accepted = import(&gravier, "dry_run=true", read("aci-salaries.csv"), "salaries.csv", "aci-mapping.json").await;
    assert_eq!(people(&accepted), (json!(5), json!(1)), "{}", accepted.text);
}
