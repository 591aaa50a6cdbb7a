//! A structure's figures are its own (CONTRACT §7, issue 16 item 5): a referral by a coordinator
//! of aci-agen (A) to ei-agen (B) is a proposal. B sees it waiting and may read the person to
//! answer, but the person enters B's entries, activity report, dashboard and people list only once
//! B accepts, counted from the day of the referral; a declined proposal leaves no trace in B. An
//! admin's referral and B's own count at once, and so do referrals of a log written before
//! proposals existed.

use parcours_core::store::{Seeded, Store, StoreOptions};
use parcours_core::vocabulary::{Actor, Date, NewEvent, Step, StepKind, StreamId, Timestamp};
use parcours_tests::{Client, Server};
use serde_json::{json, Value};

use crate::{bin, days_ago};

const A: &str = "aci-agen";
const B: &str = "ei-agen";

async fn coordinator(admin: &Client, structure: &str) -> Client {
    let created = admin.post("/api/tokens", &json!({"role": "coordinator", "structures": [structure]})).await;
    assert_eq!(created.status, 201, "{}", created.text);
    admin.with_token(created.body["token"].as_str().unwrap())
}

/// Structures A and B, and a coordinator of each.
async fn structures_a_and_b(admin: &Client) -> (Client, Client) {
    for structure in [A, B] {
        let body = json!({"name": structure, "kind": "aci", "agreed_hours": {}});
        assert!([200, 201].contains(&admin.put_status(&format!("/api/structures/{structure}"), &body).await));
    }
    (coordinator(admin, A).await, coordinator(admin, B).await)
}

fn referral(structure: &str, days: i64) -> Value {
    json!({"type": "referred", "occurred_on": days_ago(days),
        "data": {"structure": structure, "prescriber": {"kind": "plie"}, "situation": "unemployed"}})
}

async fn append(client: &Client, person: &str, events: Value) -> Value {
    let appended = client.post(&format!("/api/beneficiaries/{person}/events"), &json!({"events": events})).await;
    assert_eq!(appended.status, 201, "{}", appended.text);
    appended.body
}

/// A person registered in `structure` by `client`, 50 days ago, with the first name `name`.
async fn register(client: &Client, structure: &str, name: &str) -> String {
    let body = json!({"occurred_on": days_ago(50), "data": {"structure": structure, "gender": "female",
        "birth_year": 1990, "identity": {"first_name": name, "last_name": "Essai"}}});
    let created = client.post("/api/beneficiaries", &body).await;
    assert_eq!(created.status, 201, "{}", created.text);
    created.body["id"].as_str().unwrap().to_owned()
}

/// A person of A who went through A (referred 49 days ago, out 40 days ago), then proposed to B
/// by A's coordinator 30 days ago; returns the person and the proposal's event id.
async fn proposed(a: &Client, name: &str) -> (String, String) {
    let person = register(a, A, name).await;
    let exit = json!({"type": "exited", "occurred_on": days_ago(40), "data": {"destination": "other_siae"}});
    append(a, &person, json!([referral(A, 49), exit])).await;
    let appended = append(a, &person, json!([referral(B, 30)])).await;
    (person, appended["ids"][0].as_str().unwrap().to_owned())
}

/// What B's coordinator sees of B: entries over the last 60 days, people entered in the activity
/// report, open episodes on the dashboard, and the people list.
async fn figures_of_b(b: &Client) -> (u64, u64, u64, Vec<String>) {
    let period = format!("from={}&to={}", days_ago(60), days_ago(0));
    let entries = b.get(&format!("/api/stats/entries?structure={B}&{period}")).await;
    assert_eq!(entries.status, 200, "{}", entries.text);
    let report = b.get(&format!("/api/reports/activity?structure={B}&{period}")).await;
    assert_eq!(report.status, 200, "{}", report.text);
    let dashboard = b.get(&format!("/api/dashboard?structure={B}")).await;
    assert_eq!(dashboard.status, 200, "{}", dashboard.text);
    let people = b.get("/api/beneficiaries").await;
    assert_eq!(people.status, 200, "{}", people.text);
    let mut listed: Vec<String> = people.body["people"]
        .as_array()
        .unwrap()
        .iter()
        .map(|person| person["beneficiary"].as_str().unwrap().to_owned())
        .collect();
    listed.sort();
    (
        entries.body["participants"].as_u64().unwrap(),
        report.body["people"]["entered"].as_u64().unwrap(),
        dashboard.body["active_episodes"].as_u64().unwrap(),
        listed,
    )
}

async fn waiting(client: &Client) -> Vec<(String, String)> {
    let pending = client.get("/api/referrals/pending").await;
    assert_eq!(pending.status, 200, "{}", pending.text);
    pending.body["referrals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|proposal| {
            (
                proposal["beneficiary"].as_str().unwrap().to_owned(),
                proposal["from_structure"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn sorted(mut ids: Vec<&String>) -> Vec<String> {
    ids.sort();
    ids.into_iter().cloned().collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_proposal_counts_for_the_structure_asked_once_it_accepts_and_never_if_it_declines() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(bin(), dir.path(), &[]);
    let admin = server.admin();
    let (a, b) = structures_a_and_b(&admin).await;

    // Person 1 (Alice): proposed to B by A, then accepted. Person 2 (Berthe): proposed, then
    // declined. Person 3 (Chloé): A's, referred to B by an admin: counts at once. Person 4
    // (Denise): B's own, registered and referred by B: counts at once.
    let (alice, alice_referral) = proposed(&a, "Alice").await;
    let (berthe, berthe_referral) = proposed(&a, "Berthe").await;
    let chloe = register(&a, A, "Chloé").await;
    let exit = json!({"type": "exited", "occurred_on": days_ago(40), "data": {"destination": "other_siae"}});
    append(&a, &chloe, json!([referral(A, 49), exit])).await;
    append(&admin, &chloe, json!([referral(B, 20)])).await;
    let denise = register(&b, B, "Denise").await;
    append(&b, &denise, json!([referral(B, 10)])).await;

    // Before any answer: B counts Chloé and Denise only (2 entries, 2 entered, 2 open episodes),
    // and sees Alice and Berthe waiting, proposed by A; A sees nothing waiting for it.
    assert_eq!(figures_of_b(&b).await, (2, 2, 2, sorted(vec![&chloe, &denise])));
    assert_eq!(waiting(&b).await, [(alice.clone(), A.to_owned()), (berthe.clone(), A.to_owned())]);
    assert_eq!(waiting(&a).await, []);
    // B may read a person proposed to it, to answer; A still holds her.
    let pathway = b.get(&format!("/api/beneficiaries/{alice}")).await;
    assert_eq!(pathway.status, 200, "{}", pathway.text);
    assert_eq!(pathway.body["current_structure"], A);
    assert_eq!(pathway.body["pending_referral"]["structure"], B);
    assert_eq!(pathway.body["structures"], json!([A]));

    // Only B (or an admin) answers, with a reason to decline, and only a proposal waiting.
    let accept = |person: &str, referral: &str| format!("/api/beneficiaries/{person}/referrals/{referral}/accept");
    let decline = |person: &str, referral: &str| format!("/api/beneficiaries/{person}/referrals/{referral}/decline");
    assert_eq!(a.post(&accept(&alice, &alice_referral), &json!({})).await.status, 403, "A answers for B");
    let blank = b.post(&decline(&berthe, &berthe_referral), &json!({"reason": "  "})).await;
    assert_eq!((blank.status, blank.body["error"].as_str()), (400, Some("invalid_request")), "{}", blank.text);
    assert!(blank.body["message"].as_str().unwrap().starts_with("reason"), "{}", blank.text);
    let missing = b.post(&decline(&berthe, &berthe_referral), &json!({})).await;
    assert_eq!(missing.status, 400, "{}", missing.text);
    let nothing_waiting = b.post(&accept(&chloe, &alice_referral), &json!({})).await;
    let answer = (nothing_waiting.status, nothing_waiting.body["rule"].as_str());
    assert_eq!(answer, (422, Some("no_pending_referral")), "Chloé is B's, nothing waits: {}", nothing_waiting.text);
    let not_theirs = a.post(&accept(&chloe, &alice_referral), &json!({})).await;
    assert_eq!(not_theirs.status, 403, "A may not even hear that nothing waits: {}", not_theirs.text);
    let bad_id = b.post(&accept(&alice, "not-an-id"), &json!({})).await;
    assert_eq!(bad_id.status, 400, "{}", bad_id.text);

    // B accepts Alice: she counts for B from the day of the referral, 30 days ago.
    let accepted = b.post(&accept(&alice, &alice_referral), &json!({})).await;
    assert_eq!(accepted.status, 201, "{}", accepted.text);
    assert_eq!(figures_of_b(&b).await, (3, 3, 3, sorted(vec![&alice, &chloe, &denise])));
    let pathway = b.get(&format!("/api/beneficiaries/{alice}")).await.body;
    assert_eq!(pathway["current_structure"], B);
    assert_eq!(pathway["episodes"].as_array().unwrap().last().unwrap()["referred_on"], days_ago(30));
    assert_eq!(pathway.get("pending_referral"), None);
    let again = b.post(&accept(&alice, &alice_referral), &json!({})).await;
    assert_eq!((again.status, again.body["rule"].as_str()), (422, Some("no_pending_referral")), "{}", again.text);

    // B declines Berthe: nothing of her in B's figures, and B can no longer read her.
    let declined = b.post(&decline(&berthe, &berthe_referral), &json!({"reason": "pas de place"})).await;
    assert_eq!(declined.status, 201, "{}", declined.text);
    assert_eq!(figures_of_b(&b).await, (3, 3, 3, sorted(vec![&alice, &chloe, &denise])));
    assert_eq!(waiting(&b).await, []);
    assert_eq!(b.get(&format!("/api/beneficiaries/{berthe}")).await.status, 403);
    let berthe_now = a.get(&format!("/api/beneficiaries/{berthe}")).await.body;
    assert_eq!(berthe_now["current_structure"], A, "A keeps the person B declined");

    // A records nothing in B's episode and corrects nothing of it, not even its own proposal.
    let follow_up = json!([{"type": "follow_up_held", "occurred_on": days_ago(1), "data": {"kind": "individual"}}]);
    let refused = a.post(&format!("/api/beneficiaries/{alice}/events"), &json!({"events": follow_up})).await;
    assert_eq!(refused.status, 403, "{}", refused.text);
    let retract = json!([{"type": "corrected", "occurred_on": days_ago(0),
        "data": {"corrects": alice_referral, "reason": "erreur"}}]);
    let refused = a.post(&format!("/api/beneficiaries/{alice}/events"), &json!({"events": retract})).await;
    assert_eq!(refused.status, 403, "{}", refused.text);

    // The pages: B's dashboard shows the proposals section, Alice's page no longer a proposal.
    let page = b.get_response(&format!("/tableau-de-bord?structure={B}")).await;
    assert_eq!(page.status().as_u16(), 200);
    assert!(page.text().await.unwrap().contains("Orientations proposées"));
}

#[tokio::test(flavor = "multi_thread")]
async fn the_pages_show_a_proposal_and_answer_it() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(bin(), dir.path(), &[]);
    let admin = server.admin();
    let (a, b) = (coordinator(&admin, A).await, coordinator(&admin, B).await);
    let (alice, alice_referral) = proposed(&a, "Alice").await;

    // B's dashboard lists Alice with both answers; her page says a proposal waits for B.
    let dashboard = b.get_response(&format!("/tableau-de-bord?structure={B}")).await.text().await.unwrap();
    let section = &dashboard[dashboard.find("Orientations proposées").expect("the section")..];
    assert!(section.contains("Alice Essai") || section.contains("Alice"), "{section}");
    let action = format!("/beneficiaires/{alice}/orientations/{alice_referral}");
    assert!(section.contains(&action), "{section}");
    assert!(section.contains("Accepter l'orientation") && section.contains("Refuser l'orientation"));
    assert!(section.contains("Motif du refus"), "the decline form asks for its reason");
    let page = b.get_response(&format!("/beneficiaires/{alice}")).await.text().await.unwrap();
    assert!(page.contains("Orientation proposée") && page.contains(&action), "B answers from the person's page too");
    let page = a.get_response(&format!("/beneficiaires/{alice}")).await.text().await.unwrap();
    assert!(page.contains("Orientation proposée"), "A sees its proposal waiting");
    assert!(!page.contains(&action), "A has no answer to give");
}

/// A log written before proposals existed holds plain `referred` events, whoever recorded them;
/// they read as accepted. The store is seeded through the bulk path, which frames a plain
/// `referred` with record format 1, byte for byte as stores before format 3 did (the golden page
/// `core/tests/golden/page-v1.bin` pins those bytes).
#[tokio::test(flavor = "multi_thread")]
async fn referrals_of_a_log_written_before_proposals_count_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let person = StreamId::generate();
    let today = chrono::Utc::now();
    let day = |days: i64| days_ago(days).parse::<Date>().unwrap();
    let step = |kind: StepKind, data: Value| Step::deserialize_data(kind, data).unwrap();
    // Person 1: registered and referred by A's coordinator in A, out, then referred to B by the
    // same coordinator 30 days ago: then no proposal, so B's from that day.
    let events = [
        (day(50), step(StepKind::Registered, json!({"structure": A, "gender": "male", "birth_year": 1980}))),
        (
            day(49),
            step(StepKind::Referred, json!({"structure": A, "prescriber": {"kind": "plie"}, "situation": "inactive"})),
        ),
        (day(40), step(StepKind::Exited, json!({"destination": "other_siae"}))),
        (
            day(30),
            step(StepKind::Referred, json!({"structure": B, "prescriber": {"kind": "plie"}, "situation": "inactive"})),
        ),
    ];
    let seeded = events.into_iter().map(|(occurred_on, step)| Seeded {
        stream: person,
        event: NewEvent { id: None, occurred_on, step },
        recorded_at: Timestamp(today - chrono::Duration::days(1)),
        recorded_by: Actor("tok_coordinator_of_aci_agen".into()),
        ends_stream: false,
    });
    Store::seed(dir.path(), StoreOptions::default(), seeded).unwrap();

    let server = Server::start(bin(), dir.path(), &[]);
    let admin = server.admin();
    let b = coordinator(&admin, B).await;
    let period = format!("from={}&to={}", days_ago(60), days_ago(0));
    let entries = b.get(&format!("/api/stats/entries?structure={B}&{period}")).await;
    assert_eq!(entries.body["participants"], 1, "{}", entries.text);
    let dashboard = b.get(&format!("/api/dashboard?structure={B}")).await;
    assert_eq!(dashboard.body["active_episodes"], 1, "{}", dashboard.text);
    assert_eq!(waiting(&b).await, []);
    let pathway = b.get(&format!("/api/beneficiaries/{person}")).await.body;
    assert_eq!(pathway["current_structure"], B);
    assert_eq!(pathway["episodes"][1]["referred_on"], days_ago(30));
}

/// The likely-duplicate pairs of an answer of `GET /api/duplicates`, as (a, b).
async fn duplicate_pairs(client: &Client) -> Vec<(String, String)> {
    let answer = client.get("/api/duplicates").await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    answer.body["pairs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|pair| (pair["a"].as_str().unwrap().to_owned(), pair["b"].as_str().unwrap().to_owned()))
        .collect()
}

/// B may read a person A proposed to it, to answer; that does not make the person one of B's own
/// for duplicates (CONTRACT §10): neither a registration by B nor B's likely duplicates name them
/// while the proposal waits, and both do once B accepts.
#[tokio::test(flavor = "multi_thread")]
async fn a_person_proposed_to_a_structure_is_among_its_duplicates_only_once_it_accepts() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(bin(), dir.path(), &[]);
    let admin = server.admin();
    let (a, b) = structures_a_and_b(&admin).await;
    let registration = |structure: &str| {
        json!({"occurred_on": days_ago(50), "data": {"structure": structure, "gender": "female", "birth_year": 1988,
            "identity": {"first_name": "Odile", "last_name": "Lacroix", "birth_date": "1988-06-12"}}})
    };
    let created = a.post("/api/beneficiaries", &registration(A)).await;
    assert_eq!(created.status, 201, "{}", created.text);
    let odile = created.body["id"].as_str().unwrap().to_owned();
    let exit = json!({"type": "exited", "occurred_on": days_ago(40), "data": {"destination": "other_siae"}});
    append(&a, &odile, json!([referral(A, 49), exit])).await;
    let proposal = append(&a, &odile, json!([referral(B, 30)])).await["ids"][0].as_str().unwrap().to_owned();
    assert_eq!(waiting(&b).await, [(odile.clone(), A.to_owned())]);

    // While the proposal waits: B registers the same identity without a 409 or any hint of her.
    let twin = b.post("/api/beneficiaries", &registration(B)).await;
    assert_eq!(twin.status, 201, "a proposal waiting made her a candidate for B: {}", twin.text);
    assert!(!twin.text.contains(&odile) && !twin.text.contains("candidates"), "{}", twin.text);
    let twin = twin.body["id"].as_str().unwrap().to_owned();
    let pair = if odile < twin { (odile.clone(), twin.clone()) } else { (twin.clone(), odile.clone()) };
    assert_eq!(duplicate_pairs(&admin).await, std::slice::from_ref(&pair), "the admin sees the pair");
    assert_eq!(duplicate_pairs(&b).await, [], "B reads her only to answer the proposal");
    assert_eq!(duplicate_pairs(&a).await, [], "A does not read B's person");

    // B accepts: she is B's too, a candidate of B's registrations and half of a pair B sees.
    let accepted = b.post(&format!("/api/beneficiaries/{odile}/referrals/{proposal}/accept"), &json!({})).await;
    assert_eq!(accepted.status, 201, "{}", accepted.text);
    let again = b.post("/api/beneficiaries", &registration(B)).await;
    assert_eq!((again.status, again.body["error"].as_str()), (409, Some("possible_duplicate")), "{}", again.text);
    let mut candidates: Vec<&str> = again.body["candidates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|candidate| candidate["id"].as_str().unwrap())
        .collect();
    candidates.sort_unstable();
    assert_eq!(candidates, [pair.0.as_str(), pair.1.as_str()]);
    assert_eq!(duplicate_pairs(&b).await, [pair]);
}
