//! The access matrix (CONTRACT §7) as data: `data/access-matrix.txt` gives, for each role, route
//! and whose data, the expected status; this test walks every cell against the real server, and
//! checks that every route the OpenAPI document describes has a cell for every role.

use std::collections::{BTreeSet, HashMap};

use parcours_tests::{Client, Server, ADMIN_TOKEN};
use serde_json::{json, Value};

use crate::{bin, days_ago};

const MATRIX: &str = include_str!("data/access-matrix.txt");
const ROLES: [&str; 5] = ["admin", "coordinator", "auditor", "evaluator", "anonymous"];

struct Cell<'a> {
    line: usize,
    role: &'a str,
    method: &'a str,
    path: &'a str,
    body: &'a str,
    status: u16,
}

fn cells() -> Vec<Cell<'static>> {
    MATRIX
        .lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty() && !line.starts_with('#'))
        .map(|(index, line)| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            assert_eq!(fields.len(), 5, "line {}: {line}", index + 1);
            Cell {
                line: index + 1,
                role: fields[0],
                method: fields[1],
                path: fields[2],
                body: fields[3],
                status: fields[4].parse().unwrap_or_else(|_| panic!("line {}: status", index + 1)),
            }
        })
        .collect()
}

/// The route template a cell's path stands for, as the OpenAPI document names it.
fn route(path: &str) -> String {
    let path = path.split('?').next().unwrap_or(path);
    let mut parts: Vec<String> = path.split('/').map(str::to_owned).collect();
    for index in 1..parts.len() {
        let previous = parts[index - 1].clone();
        match previous.as_str() {
            "beneficiaries" | "tokens" | "published" => parts[index] = "{id}".into(),
            "structures" => parts[index] = "{slug}".into(),
            "import-mappings" => parts[index] = "{name}".into(),
            _ => {}
        }
    }
    parts.join("/")
}

async fn person(admin: &Client, structure: &str) -> String {
    let created = admin
        .post(
            "/api/beneficiaries",
            &json!({"occurred_on": days_ago(30), "data": {"structure": structure,
            "gender": "male", "birth_year": 1988, "identity": {"first_name": "Matrice"}}}),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.text);
    let id = created.body["id"].as_str().unwrap().to_owned();
    let referral = json!({"events": [{"type": "referred", "occurred_on": days_ago(29), "data": {"structure": structure,
        "prescriber": {"kind": "france_travail"}, "situation": "unemployed"}}]});
    assert_eq!(admin.post(&format!("/api/beneficiaries/{id}/events"), &referral).await.status, 201);
    id
}

async fn token(admin: &Client, role: &str, structures: &[&str]) -> (String, String) {
    let created = admin.post("/api/tokens", &json!({"role": role, "structures": structures})).await;
    assert_eq!(created.status, 201, "{}", created.text);
    (created.body["id"].as_str().unwrap().to_owned(), created.body["token"].as_str().unwrap().to_owned())
}

fn body(name: &str) -> Option<Value> {
    Some(match name {
        "-" => return None,
        "register_own" | "register_other" => {
            let structure = if name == "register_own" { "aci-agen" } else { "ei-marmande" };
            json!({"occurred_on": days_ago(3), "data": {"structure": structure, "gender": "female", "birth_year": 1999}})
        }
        "follow_up" => {
            json!({"events": [{"type": "follow_up_held", "occurred_on": days_ago(1), "data": {"kind": "individual"}}]})
        }
        "erase" => json!({"reason": "request"}),
        "structure" => json!({"name": "Structure", "kind": "aci", "agreed_hours": {"2025": 4200}}),
        "token" => json!({"role": "evaluator"}),
        "mapping_own" | "mapping_other" => {
            let structure = if name == "mapping_own" { "aci-agen" } else { "ei-marmande" };
            json!({"structure": structure, "person": {"key": ["Nom"]},
                "steps": [{"type": "follow_up_held", "occurred_on": "Date"}]})
        }
        "publish_own" | "publish_other" => {
            let structure = if name == "publish_own" { "aci-agen" } else { "ei-marmande" };
            json!({"structures": [structure], "from": days_ago(60), "to": days_ago(0)})
        }
        other => panic!("no body named {other}"),
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn every_cell_of_the_access_matrix_holds_against_the_real_server() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(bin(), dir.path(), &[]);
    let admin = server.admin();
    assert_eq!(admin.put_status("/api/structures/aci-agen", &body("structure").unwrap()).await, 201);
    let own = person(&admin, "aci-agen").await;
    let other = person(&admin, "ei-marmande").await;
    let mut clients: HashMap<&str, Client> = HashMap::new();
    clients.insert("admin", Client::new(&server.url).with_token(ADMIN_TOKEN));
    clients.insert("anonymous", Client::new(&server.url));
    for (role, structures) in [("coordinator", &["aci-agen"][..]), ("auditor", &[]), ("evaluator", &[])] {
        let (_, secret) = token(&admin, role, structures).await;
        clients.insert(role, Client::new(&server.url).with_token(&secret));
    }
    let mut published = Vec::new();
    for name in ["publish_own", "publish_other"] {
        let answer = admin.post("/api/reports/activity/publish", &body(name).unwrap()).await;
        assert_eq!(answer.status, 201, "{}", answer.text);
        published.push(answer.body["id"].as_str().unwrap().to_owned());
    }
    let (revoked_id, revoked) = token(&admin, "coordinator", &["aci-agen"]).await;
    assert_eq!(admin.delete_status(&format!("/api/tokens/{revoked_id}")).await, 204);
    clients.insert("revoked", Client::new(&server.url).with_token(&revoked));

    let mut failures = Vec::new();
    let cells = cells();
    for cell in &cells {
        let mut path = cell.path.replace("{own}", &own).replace("{other}", &other);
        path = path.replace("{other_report}", &published[1]).replace("{report}", &published[0]);
        path = path.replace("{missing}", "00000000-0000-7000-8000-00000000dead");
        if path.contains("{spare}") {
            path = path.replace("{spare}", &person(&admin, "aci-agen").await);
        }
        if path.contains("{token}") {
            path = path.replace("{token}", &token(&admin, "evaluator", &[]).await.0);
        }
        let client = &clients[cell.role];
        let status = client.status(cell.method, &path, body(cell.body).as_ref()).await;
        if status != cell.status {
            failures.push(format!(
                "line {}: {} {} {path} gave {status}, expected {}",
                cell.line, cell.role, cell.method, cell.status
            ));
        }
    }
    assert!(failures.is_empty(), "{} of {} cells fail:\n{}", failures.len(), cells.len(), failures.join("\n"));

    // Every described route has a cell for every role.
    let document = admin.get("/api/openapi.json").await.body;
    let mut missing = BTreeSet::new();
    for (path, item) in document["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            for role in ROLES {
                let covered = cells.iter().any(|cell| {
                    cell.role == role && cell.method.eq_ignore_ascii_case(method) && route(cell.path) == *path
                });
                if !covered {
                    missing.insert(format!("{role} {} {path}", method.to_uppercase()));
                }
            }
        }
    }
    assert!(missing.is_empty(), "routes without a cell:\n{}", missing.into_iter().collect::<Vec<_>>().join("\n"));
}

#[tokio::test(flavor = "multi_thread")]
async fn every_read_of_a_history_or_an_identity_is_in_the_access_log_for_auditors() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(bin(), dir.path(), &[]);
    let admin = server.admin();
    let own = person(&admin, "aci-agen").await;
    let (coordinator_id, secret) = token(&admin, "coordinator", &["aci-agen"]).await;
    let coordinator = Client::new(&server.url).with_token(&secret);
    let (_, auditor) = token(&admin, "auditor", &[]).await;
    let auditor = Client::new(&server.url).with_token(&auditor);
    for path in
        [format!("/api/beneficiaries/{own}/events"), format!("/api/beneficiaries/{own}"), "/api/beneficiaries".into()]
    {
        assert_eq!(coordinator.get(&path).await.status, 200, "{path}");
    }
    let log = auditor.get(&format!("/api/access-log?beneficiary={own}")).await;
    assert_eq!(log.status, 200, "{}", log.text);
    let reads: Vec<(String, String)> = log.body["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|entry| entry["actor"] == coordinator_id.as_str())
        .map(|entry| (entry["what"].as_str().unwrap().to_owned(), entry["at"].as_str().unwrap().to_owned()))
        .collect();
    let what: Vec<&str> = reads.iter().map(|(what, _)| what.as_str()).collect();
    assert_eq!(what, ["history", "state", "name"], "who read what, in order");
    assert!(reads.iter().all(|(_, at)| at.ends_with('Z')));
    // The access log is for auditors and admins only, and has no route that changes it.
    assert_eq!(coordinator.get(&format!("/api/access-log?beneficiary={own}")).await.status, 403);
    assert!(!log.text.contains("Matrice"), "the access log holds no personal data");
}

/// A coordinator learns nothing of people outside its structures from an append's answer: a
/// registration at the id of another structure's person, even with the very body stored, is
/// refused as an append to an id that does not exist is; reserved ids are refused by their rule.
#[tokio::test(flavor = "multi_thread")]
async fn a_coordinator_gets_no_oracle_on_people_outside_its_structures() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(bin(), dir.path(), &[]);
    let admin = server.admin();
    let registration = |id: &str, structure: &str| json!({"id": id, "occurred_on": days_ago(3), "data": {"structure": structure, "gender": "female", "birth_year": 1999}});
    let other = "0193c9a2-0000-7000-8000-000000000001";
    assert_eq!(admin.post("/api/beneficiaries", &registration(other, "ei-marmande")).await.status, 201);
    let (_, secret) = token(&admin, "coordinator", &["aci-agen"]).await;
    let coordinator = Client::new(&server.url).with_token(&secret);

    let same = coordinator.post("/api/beneficiaries", &registration(other, "ei-marmande")).await;
    let missing = coordinator
        .post("/api/beneficiaries", &registration("0193c9a2-0000-7000-8000-00000000beef", "ei-marmande"))
        .await;
    assert_eq!((same.status, &same.body["error"]), (403, &json!("forbidden")), "the exact body stored: {}", same.text);
    assert_eq!(
        (same.status, &same.body),
        (missing.status, &missing.body),
        "a person of another structure reads as no one"
    );
    let own = coordinator.post("/api/beneficiaries", &registration(other, "aci-agen")).await;
    assert_eq!(own.status, 403, "a registration over another structure's person: {}", own.text);

    // Reserved ids, through the beneficiary routes: the rule that refuses them is named.
    use parcours_core::vocabulary::StreamId;
    assert_eq!(admin.put_status("/api/structures/aci-agen", &body("structure").unwrap()).await, 201);
    for id in [StreamId::published_reports(), StreamId::of_structure("aci-agen")] {
        for client in [&admin, &coordinator] {
            let refused = client.post("/api/beneficiaries", &registration(&id.to_string(), "aci-agen")).await;
            assert_eq!((refused.status, &refused.body["rule"]), (422, &json!("reserved_stream")), "{}", refused.text);
        }
    }
    let structure = StreamId::of_structure("aci-agen");
    let step = coordinator.post(&format!("/api/beneficiaries/{structure}/events"), &body("follow_up").unwrap()).await;
    assert_eq!(step.status, 422, "a pathway step in a structure's stream: {}", step.text);
    assert_eq!(step.body["rule"], "structure_stream_holds_structure_updates_only");
}

/// Reads outside the history routes are in the access log too: the whole-log export of the API
/// (each person in it) and the command line's `history` (verifiable or not) and `export`, named
/// `cli:` and the user.
#[tokio::test(flavor = "multi_thread")]
async fn exports_and_command_line_reads_are_in_the_access_log() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let server = Server::start(bin(), &data, &[]);
    let admin = server.admin();
    let id = person(&admin, "aci-agen").await;
    assert_eq!(admin.get("/api/export").await.status, 200);
    let entries = |log: &Value| -> Vec<(String, String)> {
        log["entries"]
            .as_array()
            .unwrap()
            .iter()
            .map(|entry| (entry["actor"].as_str().unwrap().to_owned(), entry["what"].as_str().unwrap().to_owned()))
            .collect()
    };
    let log = admin.get(&format!("/api/access-log?beneficiary={id}")).await.body;
    assert!(entries(&log).contains(&("admin:env".into(), "export".into())), "GET /api/export: {log}");
    assert!(server.terminate().success());

    let data_arg = data.to_str().unwrap();
    assert!(parcours_tests::run(bin(), &["history", &id, "--data", data_arg]).status.success());
    assert!(parcours_tests::run(bin(), &["export", "--data", data_arg]).status.success());
    let server = Server::start(bin(), &data, &[]);
    let log = server.admin().get(&format!("/api/access-log?beneficiary={id}")).await.body;
    let read = entries(&log);
    for what in ["history", "export"] {
        assert!(
            read.iter().any(|(actor, read)| actor.starts_with("cli:") && read == what),
            "parcours {what} is not in the access log: {read:?}"
        );
    }

    // A verifiable history read on the command line is an export of it, as through the API.
    let exports = |read: &[(String, String)]| {
        read.iter().filter(|(actor, what)| actor.starts_with("cli:") && what == "export").count()
    };
    let before = exports(&read);
    assert!(server.terminate().success());
    assert!(parcours_tests::run(bin(), &["history", &id, "--verifiable", "--data", data_arg]).status.success());
    let server = Server::start(bin(), &data, &[]);
    let read = entries(&server.admin().get(&format!("/api/access-log?beneficiary={id}")).await.body);
    assert_eq!(exports(&read), before + 1, "parcours history --verifiable is not in the access log: {read:?}");
}
