//! The auditor's bench over plain HTTP (issue 21): time travel on the person page for whoever may
//! read the person, the access log and the audit journal for auditors and admins only (a French
//! 403 page otherwise, as the API answers), and what they show.

use parcours_tests::{Client, Server};
use serde_json::json;

use crate::{bin, days_ago};

async fn token(admin: &Client, role: &str, structures: &[&str], label: &str) -> (String, String) {
    let created = admin.post("/api/tokens", &json!({"role": role, "structures": structures, "label": label})).await;
    assert_eq!(created.status, 201, "{}", created.text);
    (created.body["id"].as_str().unwrap().to_owned(), created.body["token"].as_str().unwrap().to_owned())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_coordinator_travels_in_time_on_its_people_and_is_refused_the_access_log_and_the_journal() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(bin(), dir.path(), &[]);
    let admin = server.admin();
    let (coordinator_id, coordinator) = token(&admin, "coordinator", &["aci-agen"], "Camille").await;
    let (_, stranger) = token(&admin, "coordinator", &["ei-marmande"], "Dominique").await;
    let (_, auditor) = token(&admin, "auditor", &[], "Inès, DREETS").await;
    let (coordinator, stranger, auditor) =
        (admin.with_token(&coordinator), admin.with_token(&stranger), admin.with_token(&auditor));

    let created = coordinator
        .post(
            "/api/beneficiaries",
            &json!({"occurred_on": days_ago(40), "data": {"structure": "aci-agen", "gender": "female", "birth_year": 1990}}),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.text);
    let id = created.body["id"].as_str().unwrap().to_owned();
    let steps = json!({"events": [
        {"type": "referred", "occurred_on": days_ago(30), "data": {"structure": "aci-agen",
            "prescriber": {"kind": "plie"}, "situation": "unemployed"}},
        {"type": "exited", "occurred_on": days_ago(2), "data": {"destination": "cdi"}},
    ]});
    assert_eq!(coordinator.post(&format!("/api/beneficiaries/{id}/events"), &steps).await.status, 201);

    // As it stood ten days ago: in the pathway, the exit marked as effective later.
    let page = coordinator.get(&format!("/beneficiaires/{id}?le={}", days_ago(10))).await;
    assert_eq!(page.status, 200, "{}", page.text);
    let view = page.text.split("id=\"voyage\"").nth(1).expect("the time-travel view").to_owned();
    let view = view.split("id=\"historique\"").next().unwrap_or_default();
    assert!(view.contains("Le parcours tel qu'il était le"), "{view}");
    assert!(view.contains("Orientée le") && !view.contains("titre-sorties"), "still in the pathway: {view}");
    assert!(page.text.contains("survenue plus tard"), "the exit is marked as effective later");
    // Today: the exit.
    let today = coordinator.get(&format!("/beneficiaires/{id}?le={}", days_ago(0))).await;
    assert!(today.text.contains("titre-sorties") && today.text.contains("CDI"), "{}", today.text);
    // A value that is no date: said in French, next to its field.
    let bad = coordinator.get(&format!("/beneficiaires/{id}?connu_le=hier")).await;
    assert_eq!(bad.status, 400);
    assert!(bad.text.contains("id=\"voyage-connu-le-erreur\">Ce moment n'est pas valide"), "{}", bad.text);

    // Another structure's coordinator travels nowhere in this person's history.
    let refused = stranger.get(&format!("/beneficiaires/{id}?le={}", days_ago(10))).await;
    assert_eq!(refused.status, 403);
    assert!(refused.text.contains("Accès refusé"));
    // No access log, no journal, no CSV for a coordinator: the French 403 page.
    for path in [format!("/beneficiaires/{id}/acces"), "/audit".into(), "/audit/journal.csv".into()] {
        let page = coordinator.get(&path).await;
        assert_eq!(page.status, 403, "{path}");
        assert!(page.text.contains("<html lang=\"fr\">") && page.text.contains("Accès refusé"), "{path}");
    }
    // The API answers the same.
    assert_eq!(coordinator.get(&format!("/api/access-log?beneficiary={id}")).await.status, 403);

    // The auditor reads who looked, and the journal.
    let log = auditor.get(&format!("/beneficiaires/{id}/acces")).await;
    assert_eq!(log.status, 200, "{}", log.text);
    assert!(log.text.contains(&format!("Camille ({coordinator_id})")), "{}", log.text);
    assert!(log.text.contains("la fiche, à une date passée"), "{}", log.text);
    assert!(!log.text.contains("Dominique"), "a refused read is no read");
    // Newest first, fifty a page.
    for _ in 0..50 {
        assert_eq!(coordinator.get(&format!("/beneficiaires/{id}")).await.status, 200);
    }
    let first = auditor.get(&format!("/beneficiaires/{id}/acces")).await;
    assert!(first.text.contains("Page 1 sur 2") && !first.text.contains("à une date passée"), "{}", first.text);
    let second = auditor.get(&format!("/beneficiaires/{id}/acces?page=2")).await;
    assert!(second.text.contains("Page 2 sur 2") && second.text.contains("à une date passée"), "{}", second.text);
    let journal = auditor.get("/audit?type=token_created").await;
    assert_eq!(journal.status, 200);
    for label in ["Camille", "Dominique", "Inès, DREETS"] {
        assert!(journal.text.contains(label), "{label}: {}", journal.text);
    }
    assert!(!auditor.get("/audit?type=erasure").await.text.contains("id=\"journal\""), "no erasure yet");
    let csv = auditor.get("/audit/journal.csv?type=token_created").await;
    assert_eq!(csv.status, 200);
    let lines: Vec<&str> = csv.text.lines().collect();
    assert_eq!(lines[0], "recorded_at,kind,actor,actor_role,actor_label,structures,subject,about,reason");
    assert_eq!(lines.len(), 4, "three tokens: {}", csv.text);
    assert!(lines.iter().any(|line| line.contains(",token_created,admin:env,admin,,aci-agen,")), "{}", csv.text);

    // A publication and an erasure enter the journal, each linking to what it is about; the
    // structure filter keeps the lines of that structure only.
    let body = json!({"structures": ["aci-agen"], "from": days_ago(60), "to": days_ago(0)});
    let published = coordinator.post("/api/reports/activity/publish", &body).await;
    assert_eq!(published.status, 201, "{}", published.text);
    let publication = published.body["id"].as_str().unwrap().to_owned();
    assert_eq!(admin.post(&format!("/api/beneficiaries/{id}/erase"), &json!({"reason": "request"})).await.status, 201);
    let journal = auditor.get("/audit?structure=aci-agen").await;
    assert!(journal.text.contains(&format!("href=\"/api/reports/published/{publication}?format=html\"")));
    assert!(journal.text.contains(&format!("href=\"/beneficiaires/{id}\"")), "{}", journal.text);
    assert!(journal.text.contains("Motif : à la demande de la personne"), "{}", journal.text);
    assert!(!journal.text.contains("Dominique"), "ei-marmande's token is another structure's");
    let erasures = auditor.get("/audit?type=erasure").await;
    let table = erasures.text.split("id=\"journal\"").nth(1).expect("the journal's table");
    assert!(table.contains("Effacement des données personnelles") && !table.contains("Publication"), "{table}");
    let bad = auditor.get("/audit?du=hier").await;
    assert_eq!(bad.status, 400);
    assert!(bad.text.contains("id=\"journal-du-erreur\">Cette date n'est pas valide"), "{}", bad.text);
}

/// A correction's reason is free text, sealed with the person's key: the journal shows it to an
/// auditor while the person's identity is kept, in the page and the CSV, and no more once erased.
#[tokio::test(flavor = "multi_thread")]
async fn the_journal_shows_a_corrections_reason_until_the_person_is_erased() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(bin(), dir.path(), &[]);
    let admin = server.admin();
    let (_, auditor) = token(&admin, "auditor", &[], "Inès, DREETS").await;
    let auditor = admin.with_token(&auditor);
    let created = admin
        .post(
            "/api/beneficiaries",
            &json!({"occurred_on": days_ago(40), "data": {"structure": "aci-agen", "gender": "female", "birth_year": 1990}}),
        )
        .await;
    let id = created.body["id"].as_str().unwrap().to_owned();
    let referral = json!({"events": [{"type": "referred", "occurred_on": days_ago(30), "data": {"structure": "aci-agen",
        "prescriber": {"kind": "plie"}, "situation": "unemployed"}}]});
    let referred = admin.post(&format!("/api/beneficiaries/{id}/events"), &referral).await;
    let referral_id = referred.body["ids"][0].as_str().unwrap().to_owned();
    let reason = "Orientation saisie deux fois pour Mme Passereau";
    let retraction = json!({"events": [{"type": "corrected", "occurred_on": days_ago(1),
        "data": {"corrects": referral_id, "reason": reason}}]});
    assert_eq!(admin.post(&format!("/api/beneficiaries/{id}/events"), &retraction).await.status, 201);

    let journal = auditor.get("/audit?type=retraction").await;
    assert!(journal.text.contains(reason), "{}", journal.text);
    assert!(auditor.get("/audit/journal.csv?type=retraction").await.text.contains(reason));
    let raw = admin.get("/api/events?limit=100").await.text;
    assert!(!raw.contains("Passereau"), "the raw log withholds it: {raw}");

    assert_eq!(admin.post(&format!("/api/beneficiaries/{id}/erase"), &json!({"reason": "request"})).await.status, 201);
    let journal = auditor.get("/audit?type=retraction").await;
    assert!(journal.text.contains("id=\"journal\""), "the correction is still in the journal");
    assert!(!journal.text.contains("Passereau"), "{}", journal.text);
    assert!(!auditor.get("/audit/journal.csv?type=retraction").await.text.contains("Passereau"));
    let history = admin.get(&format!("/api/beneficiaries/{id}/events")).await.body;
    assert_eq!(history["events"][2]["data"]["reason"], "");
    assert_eq!(history["events"][2]["data"]["free_text_withheld"], true);
}
