//! One person recorded twice, merged then unmerged (CONTRACT §10), against the real server.
//!
//! The scenario, in aci-agen (figures counted by hand):
//! - Anaïs Moreau (`first`): referred 60 days ago, on a contract since 50 days ago;
//! - Anaïs Moreau again (`second`, registered anyway with `confirm_new`): referred 40 days ago,
//!   no contract: the same person recorded twice, merged into `first`;
//! - Bruno Petit (`bruno`): referred 30 days ago, left 10 days ago for a CDI;
//! - Chloé Durand (`chloe`), in ei-marmande only: outside the coordinator of aci-agen's reach.
//!
//! Before the merge aci-agen follows three people (Anaïs twice, Bruno); merged, two; unmerged,
//! every figure is again byte for byte what it was.

use parcours_tests::{Client, Server};
use serde_json::{json, Value};

use crate::{bin, days_ago};

async fn person(client: &Client, first_name: &str, structure: &str, referred: i64, confirm_new: bool) -> String {
    let created = client
        .post(
            "/api/beneficiaries",
            &json!({"occurred_on": days_ago(70), "confirm_new": confirm_new, "data": {"structure": structure,
            "gender": "female", "birth_year": 1990,
            "identity": {"first_name": first_name, "last_name": "Moreau", "birth_date": "1990-05-04"}}}),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.text);
    let id = created.body["id"].as_str().unwrap().to_owned();
    let referral = json!({"events": [{"type": "referred", "occurred_on": days_ago(referred), "data": {
        "structure": structure, "prescriber": {"kind": "france_travail"}, "situation": "unemployed"}}]});
    let appended = client.post(&format!("/api/beneficiaries/{id}/events"), &referral).await;
    assert_eq!(appended.status, 201, "{}", appended.text);
    id
}

async fn append(client: &Client, id: &str, kind: &str, days: i64, data: Value) -> u16 {
    let body = json!({"events": [{"type": kind, "occurred_on": days_ago(days), "data": data}]});
    client.post(&format!("/api/beneficiaries/{id}/events"), &body).await.status
}

/// Every figure the API gives for aci-agen, as text, in a fixed order.
async fn figures(admin: &Client) -> Vec<String> {
    let (from, to) = (days_ago(90), days_ago(0));
    let mut answers = Vec::new();
    for by in ["", "&by=gender", "&by=structure"] {
        answers.push(admin.get(&format!("/api/stats/outcomes?from={from}&to={to}{by}")).await.text);
    }
    answers.push(admin.get(&format!("/api/stats/entries?from={from}&to={to}")).await.text);
    answers.push(admin.get(&format!("/api/reports/activity?structure=aci-agen&from={from}&to={to}")).await.text);
    answers.push(admin.get("/api/dashboard?structure=aci-agen").await.text);
    answers.push(admin.get("/api/beneficiaries").await.text);
    answers
}

async fn report(admin: &Client) -> Value {
    let (from, to) = (days_ago(90), days_ago(0));
    let answer = admin.get(&format!("/api/reports/activity?structure=aci-agen&from={from}&to={to}")).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    answer.body
}

#[tokio::test(flavor = "multi_thread")]
async fn a_merge_counts_one_person_once_and_its_unmerge_restores_every_figure() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(bin(), dir.path(), &[]);
    let admin = server.admin();
    let created = admin.post("/api/tokens", &json!({"role": "coordinator", "structures": ["aci-agen"]})).await;
    let coordinator = Client::new(&server.url).with_token(created.body["token"].as_str().unwrap());

    let first = person(&coordinator, "Anaïs", "aci-agen", 60, false).await;
    let contract = json!({"contract_id": "c1", "kind": "cddi", "weekly_hours": 26});
    assert_eq!(append(&coordinator, &first, "contract_started", 50, contract).await, 201);
    let second = person(&coordinator, "Anaïs", "aci-agen", 40, true).await;
    let bruno = person(&coordinator, "Bruno", "aci-agen", 30, false).await;
    assert_eq!(append(&coordinator, &bruno, "exited", 10, json!({"destination": "cdi"})).await, 201);
    let chloe = person(&admin, "Chloé", "ei-marmande", 20, true).await;

    let duplicates = admin.get("/api/duplicates").await;
    assert!(duplicates.text.contains(&first) && duplicates.text.contains(&second), "{}", duplicates.text);
    let before = figures(&admin).await;
    let people = &report(&admin).await["people"];
    assert_eq!((people["followed"].as_u64(), people["distinct_since_start"].as_u64()), (Some(3), Some(3)));

    // A coordinator without rights on one side gets the same answer as for an id that exists nowhere.
    let merge = |into: &str| json!({"into": into, "reason": "même personne, enregistrée deux fois"});
    let outside = coordinator.post(&format!("/api/beneficiaries/{second}/merge"), &merge(&chloe)).await;
    let nowhere = coordinator
        .post(&format!("/api/beneficiaries/{second}/merge"), &merge("00000000-0000-7000-8000-00000000dead"))
        .await;
    assert_eq!((outside.status, nowhere.status), (403, 403));
    assert_eq!(outside.body, nowhere.body);
    let itself = coordinator.post(&format!("/api/beneficiaries/{second}/merge"), &merge(&second)).await;
    assert_eq!((itself.status, itself.body["rule"].as_str()), (422, Some("merge_into_itself")));
    let no_reason =
        coordinator.post(&format!("/api/beneficiaries/{second}/merge"), &json!({"into": first, "reason": " "})).await;
    assert_eq!(no_reason.status, 400, "{}", no_reason.text);
    assert_eq!(figures(&admin).await, before, "refused merges wrote nothing");

    let merged = coordinator.post(&format!("/api/beneficiaries/{second}/merge"), &merge(&first)).await;
    assert_eq!(merged.status, 201, "{}", merged.text);
    assert_eq!((merged.body["absorbed"].as_str(), merged.body["survivor"].as_str()), (Some(&*second), Some(&*first)));

    // Counted once: followed and distinct since the start (Anaïs, Bruno), the dashboard's active
    // people (Anaïs, on a contract in one of her records: in contract, no one waiting), the list.
    let people = &report(&admin).await["people"];
    assert_eq!((people["followed"].as_u64(), people["distinct_since_start"].as_u64()), (Some(2), Some(2)));
    let dashboard = admin.get("/api/dashboard?structure=aci-agen").await.body;
    let counts =
        |d: &Value| (d["active_episodes"].as_u64(), d["in_contract"].as_u64(), d["waiting_for_contract"].as_u64());
    assert_eq!(counts(&dashboard), (Some(1), Some(1), Some(0)));
    let listed = admin.get("/api/beneficiaries").await.body;
    let ids: Vec<&str> =
        listed["people"].as_array().unwrap().iter().filter_map(|p| p["beneficiary"].as_str()).collect();
    assert!(ids.contains(&first.as_str()) && !ids.contains(&second.as_str()), "{listed}");

    // Reads by the absorbed id follow the survivor; its own history is there as it was.
    let read = coordinator.get(&format!("/api/beneficiaries/{second}")).await;
    assert_eq!(read.status, 200, "{}", read.text);
    assert_eq!((read.body["beneficiary"].as_str(), read.body["merged_into"].as_str()), (Some(&*first), Some(&*first)));
    let survivor = coordinator.get(&format!("/api/beneficiaries/{first}")).await.body;
    assert_eq!(survivor["absorbed"][0]["beneficiary"].as_str(), Some(&*second), "{survivor}");
    let stream = coordinator.get(&format!("/api/beneficiaries/{second}/events")).await.body;
    let kinds: Vec<&str> = stream["events"].as_array().unwrap().iter().filter_map(|e| e["type"].as_str()).collect();
    assert_eq!(kinds, ["registered", "referred", "merged_into"]);
    let audit = coordinator.get(&format!("/api/beneficiaries/{first}/audit")).await.body;
    let both: Vec<(&str, &str)> = audit["merged_histories"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["stream"].as_str().unwrap(), e["type"].as_str().unwrap()))
        .collect();
    // In date order: both registrations (70 days ago), Anaïs's first referral (60), her contract
    // (50), the second referral (40), then the merge on both sides (today).
    let (a, b) = (first.as_str(), second.as_str());
    assert_eq!(
        both,
        [
            (a, "registered"),
            (b, "registered"),
            (a, "referred"),
            (a, "contract_started"),
            (b, "referred"),
            (b, "merged_into"),
            (a, "absorbed")
        ]
    );

    // The absorbed record takes nothing more but its unmerge.
    let refused = coordinator
        .post(
            &format!("/api/beneficiaries/{second}/events"),
            &json!({"events": [{"type": "follow_up_held", "occurred_on": days_ago(0), "data": {"kind": "individual"}}]}),
        )
        .await;
    assert_eq!((refused.status, refused.body["rule"].as_str()), (422, Some("merged")), "{}", refused.text);

    // Unmerged by either id (here the survivor's): every figure is what it was before the merge.
    let unmerged =
        coordinator.post(&format!("/api/beneficiaries/{first}/unmerge"), &json!({"reason": "homonymes"})).await;
    assert_eq!(unmerged.status, 201, "{}", unmerged.text);
    assert_eq!(figures(&admin).await, before);
    let again = coordinator.post(&format!("/api/beneficiaries/{first}/unmerge"), &json!({"reason": "homonymes"})).await;
    assert_eq!((again.status, again.body["rule"].as_str()), (422, Some("not_merged")));
    assert_eq!(append(&coordinator, &second, "follow_up_held", 0, json!({"kind": "individual"})).await, 201);
}
