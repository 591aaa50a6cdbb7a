//! The activity report (CONTRACT §8) on the demo, as each role gets it: the JSON, the CSV, the
//! printable page and the command line say the same thing; every count links to a list as long
//! as the count; evaluators get sums with small cells withheld and no lists.

use std::collections::BTreeMap;

use parcours_tests::{run, Answer, Client, Server};
use serde_json::{json, Value};

use crate::bin;

/// The sections of the page, as their headings read.
const HEADINGS: [&str; 7] = [
    "Personnes accompagnées",
    "Contrats de travail",
    "Heures de travail",
    "Suivi des parcours",
    "Profil des entrées",
    "Accompagnement social",
    "Sorties",
];

/// (structure, figure) → (value, share), from the CSV's cells (the `report.*` lines left out).
fn csv_cells(csv: &str) -> BTreeMap<(String, String), (String, String)> {
    let mut cells = BTreeMap::new();
    let mut lines = csv.lines();
    assert_eq!(lines.next(), Some("structure,figure,value,share"));
    for line in lines {
        let fields = split_csv(line);
        assert_eq!(fields.len(), 4, "{line}");
        if !fields[1].starts_with("report.") {
            cells.insert((fields[0].clone(), fields[1].clone()), (fields[2].clone(), fields[3].clone()));
        }
    }
    cells
}

fn split_csv(line: &str) -> Vec<String> {
    let mut fields = vec![String::new()];
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                chars.next();
                fields.last_mut().unwrap().push('"');
            }
            ('"', _) => quoted = !quoted,
            (',', false) => fields.push(String::new()),
            (c, _) => fields.last_mut().unwrap().push(c),
        }
    }
    fields
}

fn unescape(text: &str) -> String {
    text.replace("&quot;", "\"").replace("&#39;", "'").replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
}

/// The value of attribute `name` in one tag's text.
fn attribute(tag: &str, name: &str) -> Option<String> {
    let start = tag.find(&format!(" {name}=\""))? + name.len() + 3;
    let end = tag[start..].find('"')? + start;
    Some(unescape(&tag[start..end]))
}

/// The same cells, from the page's `data-*` attributes.
fn html_cells(html: &str) -> BTreeMap<(String, String), (String, String)> {
    let mut cells = BTreeMap::new();
    for piece in html.split("<td").skip(1) {
        let tag = &piece[..piece.find('>').unwrap_or(piece.len())];
        let Some(figure) = attribute(tag, "data-figure") else { continue };
        let structure = attribute(tag, "data-structure").unwrap_or_default();
        let value = attribute(tag, "data-value").unwrap_or_default();
        let share = attribute(tag, "data-share").unwrap_or_default();
        let previous = cells.insert((structure, figure.clone()), (value, share));
        assert!(previous.is_none(), "{figure} shown twice");
    }
    cells
}

fn json_text(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// Whether a figure counts people, entries, exits or actions (rather than hours, full-time
/// equivalents, rates or committee dates): those are never shown between 1 and 4 to evaluators.
fn counts_people(figure: &str) -> bool {
    let amounts = ["hours.worked", "hours.agreed", "contracts.fte_at_end", "follow_up.committees_held"];
    let rates = ["hours.worked_share_of_agreed", "outcomes.dynamic_exit_rate", "outcomes.employed_at_six_months_share"];
    let hours_rows = (figure.starts_with("hours.by_month.") || figure.starts_with("hours.by_gender."))
        && !figure.ends_with(".people");
    !(amounts.contains(&figure) || rates.contains(&figure) || hours_rows || figure.ends_with(".fte"))
}

fn question(structures: &str, year: i32) -> String {
    format!("structure={structures}&from={year}-01-01&to={year}-12-31")
}

async fn get_text(client: &Client, path: &str) -> (u16, String, Option<String>) {
    let response = client.get_response(path).await;
    let status = response.status().as_u16();
    let policy = response.headers().get("content-security-policy").map(|value| value.to_str().unwrap().to_owned());
    (status, response.text().await.unwrap(), policy)
}

async fn token(admin: &Client, body: Value) -> Client {
    let created = admin.post("/api/tokens", &body).await;
    assert_eq!(created.status, 201, "{}", created.text);
    admin.with_token(created.body["token"].as_str().unwrap())
}

#[tokio::test(flavor = "multi_thread")]
async fn the_activity_report_agrees_in_every_format_and_role() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let server = Server::start(bin(), &data, &["--demo"]);
    let admin = server.admin();
    // Last year: a whole year of the demo, which ends today.
    let year = chrono::Utc::now().date_naive().format("%Y").to_string().parse::<i32>().unwrap() - 1;
    let mut answers = Vec::new();
    for structures in ["jardins-du-gravier", "jardins-du-gravier,plie-agglomeration-agen"] {
        let q = question(structures, year);
        let json = admin.get(&format!("/api/reports/activity?{q}")).await;
        assert_eq!(json.status, 200, "{}", json.text);
        let (status, csv, _) = get_text(&admin, &format!("/api/reports/activity?{q}&format=csv")).await;
        assert_eq!(status, 200);
        let (status, html, policy) = get_text(&admin, &format!("/api/reports/activity?{q}&format=html")).await;
        assert_eq!(status, 200);

        // The page: every section, no script, no inline style, under the pages' policy.
        assert!(policy.is_some_and(|policy| policy.contains("default-src 'none'") && !policy.contains("unsafe")));
        for heading in HEADINGS {
            assert!(html.contains(&format!("\">{heading}</h2>")), "{heading}");
        }
        for forbidden in ["<script", " style=", "<style", "javascript:"] {
            assert!(!html.contains(forbidden), "the page holds {forbidden}");
        }
        assert_eq!(html.matches("<svg").count(), if structures.contains(',') { 9 } else { 3 }, "three charts a part");

        // The page and the CSV show the same cells with the same values.
        let cells = csv_cells(&csv);
        assert_eq!(html_cells(&html), cells);
        assert!(cells.len() > 100, "{} cells", cells.len());

        // The JSON agrees with both: every figure with a fixed id, for the whole and each part.
        let body = &json.body;
        let mut parts = vec![(String::new(), body.clone())];
        for part in body["by_structure"].as_array().into_iter().flatten() {
            parts.push((part["structure"]["slug"].as_str().unwrap().to_owned(), part.clone()));
        }
        assert_eq!(parts.len(), if structures.contains(',') { 3 } else { 1 });
        let mut compared = 0;
        for ((structure, figure), (value, _)) in &cells {
            let segments: Vec<&str> = figure.split('.').collect();
            let [section, name] = segments.as_slice() else { continue };
            let part = &parts.iter().find(|(slug, _)| slug == structure).unwrap().1;
            assert_eq!(&json_text(&part[*section][*name]), value, "{structure} {figure}");
            compared += 1;
        }
        assert!(compared >= 30 * parts.len(), "{compared}");
        // And a table row: women's entries.
        if let Some(women) =
            body["profile"]["by_gender"].as_array().unwrap().iter().find(|row| row["gender"] == "female")
        {
            let (value, share) = &cells[&(String::new(), "profile.by_gender.female".to_owned())];
            assert_eq!((json_text(&women["count"]), json_text(&women["share"])), (value.clone(), share.clone()));
        }

        // Every count links to its list, and the list is as long as the count.
        let links: Vec<String> = html
            .split("href=\"")
            .skip(1)
            .map(|piece| unescape(&piece[..piece.find('"').unwrap()]))
            .filter(|href| href.starts_with("/api/reports/activity/list?"))
            .collect();
        assert!(links.len() > 30, "{} links", links.len());
        for figure in
            ["people.followed", "profile.entries", "follow_up.committees_held", "outcomes.exits", "support.oriented"]
        {
            let href = links.iter().find(|href| href.contains(&format!("figure={}&", figure))).expect(figure);
            let list = admin.get(&href.replace("format=html", "format=json")).await;
            assert_eq!(list.status, 200, "{}", list.text);
            let expected: usize = cells[&(String::new(), figure.to_owned())].0.parse().unwrap();
            assert_eq!(list.body["count"], expected, "{figure}");
            assert_eq!(list.body["rows"].as_array().unwrap().len(), expected, "{figure}");
            if figure != "follow_up.committees_held" {
                assert!(list.body["rows"][0]["name"].is_string(), "admins see names: {}", list.body["rows"][0]);
            }
            let (status, page, _) = get_text(&admin, href).await;
            assert_eq!(status, 200);
            assert!(page.contains("Rapport d'activité") && !page.contains("<script"));
        }
        answers.push((structures, json.text, csv, html));
    }

    // Evaluators: one structure at a time (several would be all minus the others), small cells
    // withheld, no lists, no links.
    let evaluator = token(&admin, json!({"role": "evaluator"})).await;
    let both = question("jardins-du-gravier,plie-agglomeration-agen", year);
    assert_eq!(evaluator.get(&format!("/api/reports/activity?{both}")).await.status, 400);
    let one = question("jardins-du-gravier", year);
    let report = evaluator.get(&format!("/api/reports/activity?{one}")).await;
    assert_eq!(report.status, 200);
    assert!(report.body.get("by_structure").is_none());
    let (_, csv, _) = get_text(&evaluator, &format!("/api/reports/activity?{one}&format=csv")).await;
    let mut withheld = 0;
    for ((_, figure), (value, _)) in csv_cells(&csv) {
        withheld += usize::from(value.is_empty());
        if let (true, Ok(count)) = (counts_people(&figure), value.parse::<u64>()) {
            assert!(count == 0 || count >= 5, "{figure} = {count}");
        }
    }
    assert!(withheld > 0, "a demo year has small cells");
    let (_, html, _) = get_text(&evaluator, &format!("/api/reports/activity?{one}&format=html")).await;
    assert!(!html.contains("/api/reports/activity/list"), "no links for evaluators");
    assert_eq!(evaluator.get(&format!("/api/reports/activity/list?{both}&figure=people.followed")).await.status, 403);

    // Coordinators: their structures only; auditors: lists too; nobody without a credential.
    let coordinator = token(&admin, json!({"role": "coordinator", "structures": ["jardins-du-gravier"]})).await;
    assert_eq!(coordinator.get(&format!("/api/reports/activity?{both}")).await.status, 403);
    let own = coordinator.get(&format!("/api/reports/activity?from={year}-01-01&to={year}-12-31")).await;
    assert_eq!(own.status, 200);
    assert_eq!(own.body["structures"], json!([{"slug": "jardins-du-gravier", "name": "Les Jardins du Gravier"}]));
    let list = coordinator
        .get(&format!("/api/reports/activity/list?{}&figure=people.followed", question("jardins-du-gravier", year)))
        .await;
    assert_eq!(list.status, 200);
    let auditor = token(&admin, json!({"role": "auditor"})).await;
    assert_eq!(auditor.get(&format!("/api/reports/activity/list?{both}&figure=people.entered")).await.status, 200);
    assert_eq!(server.anonymous().get(&format!("/api/reports/activity?{both}")).await.status, 401);
    assert_eq!(server.anonymous().get("/api/reports/report.css").await.status, 401);
    let (status, css, _) = get_text(&admin, "/api/reports/report.css").await;
    assert!(status == 200 && css.contains("@page"));

    // Questions that cannot be answered say why.
    let bad: [(&str, u16, &str); 5] = [
        ("structure=nowhere", 404, "nowhere"),
        ("structure=jardins-du-gravier&format=pdf", 400, "format"),
        ("structure=jardins-du-gravier&family_quotient_bands=700,500", 400, "family_quotient_bands"),
        ("structure=jardins-du-gravier&definitions=v9", 400, "v1"),
        ("structure=jardins-du-gravier&from=2025-12-31&to=2025-01-01", 400, "to"),
    ];
    for (query, status, named) in bad {
        let answer: Answer = admin.get(&format!("/api/reports/activity?{query}")).await;
        assert_eq!(answer.status, status, "{query}: {}", answer.text);
        assert!(answer.body["message"].as_str().unwrap().contains(named), "{query}: {}", answer.text);
    }
    let unknown = admin.get(&format!("/api/reports/activity/list?{both}&figure=people.nobody")).await;
    assert_eq!(unknown.status, 404);

    // The command line gives the admin's bytes.
    assert!(server.terminate().success());
    let data = data.to_str().unwrap();
    for (structures, json, csv, html) in answers {
        let from = format!("{year}-01-01");
        let to = format!("{year}-12-31");
        let mut args = vec!["report", "activity", "--from", &from, "--to", &to, "--data", data];
        for structure in structures.split(',') {
            args.extend(["--structure", structure]);
        }
        for (format, expected) in [("json", format!("{json}\n")), ("csv", csv), ("html", html)] {
            let output = run(bin(), &[args.as_slice(), &["--format", format]].concat());
            assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
            assert!(String::from_utf8(output.stdout).unwrap() == expected, "{structures} {format}: the CLI agrees");
        }
    }
    let refused = run(
        bin(),
        &["report", "activity", "--structure", "jardins-du-gravier", "--family-quotient-bands", "x", "--data", data],
    );
    assert!(String::from_utf8_lossy(&refused.stderr).contains("--family-quotient-bands"));
}
