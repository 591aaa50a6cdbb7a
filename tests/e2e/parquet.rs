//! A national log and analysis beyond one process (CONTRACT §12): `parcours generate` gives the
//! same log for the same flags and refuses a store that holds events; the Parquet export, read by
//! DuckDB as an evaluator would, gives exactly the API's outcome and entry figures, with no
//! identity and person keys that change with every export.
//!
//! DuckDB comes from PyPI (`pip install duckdb`; `.ci/run` installs it). Without it the DuckDB
//! tests fail in CI (`CI=true`) and are skipped loudly elsewhere.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::Path;
use std::process::Command;

use parcours_tests::{run, Client, Server};
use serde_json::Value;

use crate::{bin, OUTCOME_COUNTS};

/// Recomputes the figures of `/api/stats/outcomes` (by structure) and `/api/stats/entries` for a
/// period from an export, with the queries the README shows; prints them as JSON. Rates and
/// shares as tenths of a percent, rounded half up with integers, as the API rounds them.
const FIGURES_SQL: &str = r#"
import json, sys, duckdb
root, start, end = sys.argv[1], sys.argv[2], sys.argv[3]
db = duckdb.connect()
db.execute(f"CREATE VIEW episodes AS SELECT * FROM read_parquet('{root}/episodes.parquet')")
db.execute(f"CREATE VIEW events AS SELECT * FROM read_parquet('{root}/events/*/*.parquet', hive_partitioning = true)")

def tenths(n, d):
    return None if d == 0 else (2000 * n + d) // (2 * d)

OUTCOMES = """
SELECT {key}
  count(*) AS exits,
  count(*) FILTER (WHERE exit_category = 'durable_employment') AS durable_employment,
  count(*) FILTER (WHERE exit_category = 'transition_employment') AS transition_employment,
  count(*) FILTER (WHERE exit_category = 'positive_exit') AS positive_exits,
  count(*) FILTER (WHERE exit_category = 'other_exit') AS other_exits,
  count(*) FILTER (WHERE exit_category = 'neutral_exit') AS neutral_exits,
  count(*) FILTER (WHERE exit_category IN ('durable_employment', 'transition_employment', 'positive_exit')) AS dynamic_exits,
  count(*) FILTER (WHERE reenrolled) AS reenrolled,
  count(*) FILTER (WHERE situation_six_months_after_exit IS NOT NULL) AS followed_up_at_six_months,
  count(*) FILTER (WHERE situation_six_months_after_exit = 'employed') AS employed_at_six_months
FROM episodes
WHERE exited_on BETWEEN CAST($start AS DATE) AND CAST($end AS DATE)
{group}
"""

def outcome_rows(key, group):
    cursor = db.execute(OUTCOMES.format(key=key, group=group), {"start": start, "end": end})
    names = [column[0] for column in cursor.description]
    rows = []
    for values in cursor.fetchall():
        row = dict(zip(names, values))
        row["dynamic_exit_rate"] = tenths(row["dynamic_exits"], row["exits"] - row["neutral_exits"])
        row["employed_at_six_months_share"] = tenths(row["employed_at_six_months"], row["followed_up_at_six_months"])
        rows.append(row)
    return rows

def entries(columns):
    cursor = db.execute(
        f"SELECT {columns}, count(*) FROM episodes WHERE referred_on BETWEEN CAST($start AS DATE) AND CAST($end AS DATE) GROUP BY ALL",
        {"start": start, "end": end})
    return cursor.fetchall()

participants = db.execute(
    "SELECT count(*) FROM episodes WHERE referred_on BETWEEN CAST($start AS DATE) AND CAST($end AS DATE)",
    {"start": start, "end": end}).fetchone()[0]
def cells(rows):
    return [list(row[:-1]) + [row[-1], tenths(row[-1], participants)] for row in rows]

print(json.dumps({
    "outcomes": outcome_rows("", "")[0],
    "outcomes_by_structure": outcome_rows("structure,", "GROUP BY structure"),
    "participants": participants,
    "by_gender": cells(entries("gender")),
    "by_situation_and_gender": cells(entries("situation, gender")),
    "by_age_band_and_gender": cells(entries("age_band, gender")),
    "events": db.execute("SELECT count(*), count(DISTINCT position), max(position) FROM events").fetchone(),
    "columns": sorted({column[0] for column in db.execute("DESCRIBE episodes").fetchall()}
                      | {column[0] for column in db.execute("DESCRIBE events").fetchall()}),
    "people": sorted({row[0] for row in db.execute("SELECT DISTINCT person FROM episodes").fetchall()}),
}))
"#;

/// Whether DuckDB can run: in CI it must; elsewhere its absence skips the test, loudly.
fn duckdb_available() -> bool {
    let found = Command::new("python3").args(["-c", "import duckdb"]).output().is_ok_and(|out| out.status.success());
    if !found {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "the Parquet tests need DuckDB in CI (python3 -m pip install duckdb)"
        );
        // Straight to stderr: `eprintln!` would be captured by the test harness, and unseen.
        let _ = writeln!(
            std::io::stderr(),
            "\n*** SKIPPED: the Parquet export's DuckDB test needs python3 with duckdb (python3 -m pip install duckdb) ***\n"
        );
    }
    found
}

fn figures_from_export(root: &Path, from: &str, to: &str) -> Value {
    let output = Command::new("python3")
        .args(["-c", FIGURES_SQL, root.to_str().unwrap(), from, to])
        .output()
        .expect("python3 runs");
    assert!(output.status.success(), "DuckDB failed: {}", String::from_utf8_lossy(&output.stderr));
    serde_json::from_slice(&output.stdout).expect("the script prints JSON")
}

/// A rate or share of the API (`47.6`, or `null`) as tenths of a percent.
fn api_tenths(value: &Value) -> Value {
    value.as_f64().map_or(Value::Null, |percent| Value::from((percent * 10.0).round() as u64))
}

fn assert_same_outcomes(api: &Value, duck: &Value, what: &str) {
    for field in OUTCOME_COUNTS {
        assert_eq!(api[field], duck[field], "{what}: {field}");
    }
    for rate in ["dynamic_exit_rate", "employed_at_six_months_share"] {
        assert_eq!(api_tenths(&api[rate]), duck[rate], "{what}: {rate}");
    }
}

/// Rows of the API's entries (`[{gender, count, share}]`) keyed by their dimensions.
fn api_cells(rows: &Value, keys: &[&str]) -> BTreeMap<Vec<String>, (u64, Value)> {
    rows.as_array()
        .expect("a list of rows")
        .iter()
        .map(|row| {
            let key = keys.iter().map(|key| row[*key].as_str().unwrap().to_owned()).collect();
            (key, (row["count"].as_u64().unwrap(), api_tenths(&row["share"])))
        })
        .collect()
}

fn duck_cells(rows: &Value, keys: usize) -> BTreeMap<Vec<String>, (u64, Value)> {
    rows.as_array()
        .expect("a list of rows")
        .iter()
        .map(|row| {
            let row = row.as_array().unwrap();
            let key = row[..keys].iter().map(|value| value.as_str().unwrap().to_owned()).collect();
            (key, (row[keys].as_u64().unwrap(), row[keys + 1].clone()))
        })
        .collect()
}

async fn download(client: &Client, path: &str) -> (u16, Vec<u8>) {
    let response = client.get_response(path).await;
    let status = response.status().as_u16();
    (status, response.bytes().await.expect("a body").to_vec())
}

fn unzip(bytes: &[u8], into: &Path) {
    let zip = into.with_extension("zip");
    std::fs::write(&zip, bytes).unwrap();
    let script = "import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])";
    let output =
        Command::new("python3").args(["-c", script, zip.to_str().unwrap(), into.to_str().unwrap()]).output().unwrap();
    assert!(output.status.success(), "unzip: {}", String::from_utf8_lossy(&output.stderr));
}

#[tokio::test(flavor = "multi_thread")]
async fn duckdb_on_the_parquet_export_gets_the_api_figures_exactly() {
    if !duckdb_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(bin(), &dir.path().join("data"), &["--demo"]);
    let admin = server.admin();
    // The last whole year of the demo, which ends today.
    let year = chrono::Utc::now().date_naive().format("%Y").to_string().parse::<i32>().unwrap() - 1;
    let (from, to) = (format!("{year}-01-01"), format!("{year}-12-31"));

    let (status, zipped) = download(&admin, "/api/export/parquet").await;
    assert_eq!(status, 200);
    let export = dir.path().join("export");
    unzip(&zipped, &export);
    let duck = figures_from_export(&export, &from, &to);

    let outcomes = admin.get(&format!("/api/stats/outcomes?from={from}&to={to}&by=structure")).await;
    assert_eq!(outcomes.status, 200);
    assert!(outcomes.body["exits"].as_u64().unwrap() > 20, "a demo year has exits: {}", outcomes.text);
    assert_same_outcomes(&outcomes.body, &duck["outcomes"], "all exits");
    let groups = outcomes.body["groups"].as_array().unwrap();
    let duck_groups = duck["outcomes_by_structure"].as_array().unwrap();
    assert_eq!(groups.len(), duck_groups.len());
    for group in groups {
        let structure = &group["key"]["structure"];
        let duck_group = duck_groups.iter().find(|row| &row["structure"] == structure).expect("the same structures");
        assert_same_outcomes(group, duck_group, structure.as_str().unwrap());
    }

    let entries = admin.get(&format!("/api/stats/entries?from={from}&to={to}")).await;
    assert_eq!(entries.status, 200);
    assert_eq!(entries.body["participants"], duck["participants"]);
    assert_eq!(api_cells(&entries.body["by_gender"], &["gender"]), duck_cells(&duck["by_gender"], 1));
    assert_eq!(
        api_cells(&entries.body["by_situation_and_gender"], &["situation", "gender"]),
        duck_cells(&duck["by_situation_and_gender"], 2)
    );
    assert_eq!(
        api_cells(&entries.body["by_age_band_and_gender"], &["age_band", "gender"]),
        duck_cells(&duck["by_age_band_and_gender"], 2)
    );

    // Every event once, up to the position the export stopped at (the demo's whole log).
    let [count, distinct, last] = [0, 1, 2].map(|i| duck["events"][i].as_u64().unwrap());
    assert_eq!((count, distinct), (last, last), "positions 1 to {last}, each once");
    let log = admin.get(&format!("/api/events?after={}&limit=10", last - 1)).await;
    assert_eq!(log.body["last_position"].as_u64(), Some(last), "{}", log.text);

    // Nothing that names or identifies a person: the columns are the documented ones.
    let columns: Vec<&str> = duck["columns"].as_array().unwrap().iter().map(|c| c.as_str().unwrap()).collect();
    for forbidden in ["identity", "first_name", "last_name", "birth_date", "birth_year", "email", "id", "beneficiary"] {
        assert!(!columns.contains(&forbidden), "column {forbidden} in {columns:?}");
    }

    // The person key is not a store id, and another export gives everyone another key.
    let people: Vec<String> =
        duck["people"].as_array().unwrap().iter().map(|p| p.as_str().unwrap().to_owned()).collect();
    let events = admin.get("/api/events?after=0&limit=1000").await;
    let ids: Vec<String> = events.body["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|event| event["beneficiary"].as_str().map(|id| id.replace('-', "")))
        .collect();
    assert!(ids.len() > 100, "the demo's log: {}", events.text);
    assert!(people.iter().all(|person| person.len() == 32 && !ids.contains(person)));
    let (_, again) = download(&admin, "/api/export/parquet").await;
    let second = dir.path().join("second");
    unzip(&again, &second);
    let other = figures_from_export(&second, &from, &to);
    assert_eq!(other["participants"], duck["participants"]);
    let others: Vec<&Value> = other["people"].as_array().unwrap().iter().collect();
    assert!(people.iter().all(|person| !others.contains(&&Value::from(person.as_str()))), "keys change per export");

    assert_eq!(server.anonymous().status("GET", "/api/export/parquet", None).await, 401);
}

#[test]
fn generate_is_deterministic_refuses_a_filled_store_and_exports_to_parquet() {
    let dir = tempfile::tempdir().unwrap();
    let generate = |name: &str, seed: &str| {
        let data = dir.path().join(name);
        let flags = ["generate", "--events", "6000", "--people", "300", "--seed", seed, "--data"];
        let output = run(bin(), &[&flags[..], &[data.to_str().unwrap()]].concat());
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        assert!(String::from_utf8_lossy(&output.stdout).starts_with("generated 6000 events"));
        data
    };
    let export = |data: &Path| {
        let output = run(bin(), &["export", "--data", data.to_str().unwrap()]);
        assert!(output.status.success());
        output.stdout
    };
    let (first, again, other) = (generate("a", "7"), generate("b", "7"), generate("c", "8"));
    let log = export(&first);
    assert_eq!(String::from_utf8_lossy(&log).lines().count(), 6000);
    assert!(log == export(&again), "the same flags give the same log, byte for byte");
    assert!(log != export(&other), "another seed gives another log");

    let refused = run(bin(), &["generate", "--events", "10", "--people", "5", "--data", first.to_str().unwrap()]);
    assert!(!refused.status.success());
    let message = String::from_utf8_lossy(&refused.stderr);
    assert!(message.contains("already holds 6000 events"), "{message}");
    assert!(log == export(&first), "a refused generate writes nothing");

    let parquet = dir.path().join("parquet");
    let exported =
        run(bin(), &["export-parquet", "--to", parquet.to_str().unwrap(), "--data", first.to_str().unwrap()]);
    assert!(exported.status.success(), "{}", String::from_utf8_lossy(&exported.stderr));
    assert!(String::from_utf8_lossy(&exported.stdout).contains("and 6000 events"));
    assert!(parquet.join("episodes.parquet").is_file());
    let years: Vec<String> = std::fs::read_dir(parquet.join("events"))
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(years.len() >= 2 && years.iter().all(|year| year.starts_with("year=")), "{years:?}");
    let twice = run(bin(), &["export-parquet", "--to", parquet.to_str().unwrap(), "--data", first.to_str().unwrap()]);
    assert!(!twice.status.success());
    assert!(String::from_utf8_lossy(&twice.stderr).contains("is not empty"));
    if duckdb_available() {
        let figures = figures_from_export(&parquet, "2020-01-01", "2026-12-31");
        assert_eq!(figures["events"], serde_json::json!([6000, 6000, 6000]));
        let stats = run(
            bin(),
            &["stats", "outcomes", "--from", "2020-01-01", "--to", "2026-12-31", "--data", first.to_str().unwrap()],
        );
        let stats: Value = serde_json::from_slice(&stats.stdout).unwrap();
        assert_same_outcomes(&stats, &figures["outcomes"], "the command line's outcomes");
    }
}
