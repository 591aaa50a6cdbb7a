//! The web application over plain HTTP, as a browser meets it: sign-in redirects, sessions and
//! their CSRF tokens, French refusals, and the security headers of every page (no inline script or
//! style may be needed, since the Content-Security-Policy forbids both).

use parcours_tests::Server;
use reqwest::header::{HeaderMap, CONTENT_TYPE, COOKIE, LOCATION, SET_COOKIE};
use reqwest::redirect::Policy;
use serde_json::json;

use crate::{bin, days_ago};

const POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
    frame-ancestors 'none'; form-action 'self'; base-uri 'none'";

struct Browser {
    http: reqwest::Client,
    base: String,
    cookie: Option<String>,
}

struct Page {
    status: u16,
    headers: HeaderMap,
    body: String,
}

impl Browser {
    fn new(server: &Server) -> Browser {
        let http = reqwest::Client::builder().redirect(Policy::none()).build().expect("an HTTP client");
        Browser { http, base: server.url.clone(), cookie: None }
    }

    async fn send(&self, request: reqwest::RequestBuilder) -> Page {
        let request = match &self.cookie {
            Some(cookie) => request.header(COOKIE, cookie),
            None => request,
        };
        let response = request.send().await.expect("the server answers");
        let (status, headers) = (response.status().as_u16(), response.headers().clone());
        Page { status, headers, body: response.text().await.unwrap_or_default() }
    }

    async fn get(&self, path: &str) -> Page {
        self.send(self.http.get(format!("{}{path}", self.base))).await
    }

    async fn post(&self, path: &str, form: &[(&str, &str)]) -> Page {
        self.send(self.http.post(format!("{}{path}", self.base)).form(form)).await
    }

    /// A file form, as a browser sends it: `(name, file name, bytes)`, text fields with no file name.
    async fn post_files(&self, path: &str, parts: &[(&str, Option<&str>, Vec<u8>)]) -> Page {
        let mut form = reqwest::multipart::Form::new();
        for (name, file_name, bytes) in parts {
            let part = reqwest::multipart::Part::bytes(bytes.clone());
            let part = match file_name {
                Some(file_name) => part.file_name(file_name.to_string()),
                None => part,
            };
            form = form.part(name.to_string(), part);
        }
        self.send(self.http.post(format!("{}{path}", self.base)).multipart(form)).await
    }

    /// Signs in with a token; keeps the session cookie.
    async fn sign_in(&mut self, token: &str) -> Page {
        let page = self.post("/connexion", &[("jeton", token), ("suite", "/")]).await;
        let cookie = page.headers.get(SET_COOKIE).and_then(|value| value.to_str().ok()).map(str::to_owned);
        if let Some(cookie) = cookie {
            assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"), "{cookie}");
            self.cookie = cookie.split(';').next().map(str::to_owned);
        }
        page
    }

    /// The CSRF token of the page's forms.
    fn csrf(page: &Page) -> String {
        let start = page.body.find("name=\"csrf\" value=\"").expect("a form with its CSRF token") + 19;
        page.body[start..].split('"').next().unwrap_or_default().to_owned()
    }
}

fn header<'a>(page: &'a Page, name: &str) -> &'a str {
    page.headers.get(name).and_then(|value| value.to_str().ok()).unwrap_or_default()
}

/// What every page must carry, and what it must not contain.
fn check_page(path: &str, page: &Page) {
    assert_eq!(header(page, "content-security-policy"), POLICY, "{path}");
    assert_eq!(header(page, "x-content-type-options"), "nosniff", "{path}");
    assert_eq!(header(page, "cache-control"), "no-store", "{path}");
    assert!(header(page, "content-type").starts_with("text/html"), "{path}");
    assert!(page.body.contains("<html lang=\"fr\">") || !page.body.contains("<html"), "{path}");
    for inline in ["style=", "onclick=", "onload=", "onsubmit=", "javascript:", "<style"] {
        assert!(!page.body.contains(inline), "{path} contains {inline}");
    }
    // Scripts only from files: every <script> is empty.
    for script in page.body.split("<script").skip(1) {
        assert!(script.split_once('>').is_some_and(|(_, rest)| rest.starts_with("</script>")), "{path}: {script}");
    }
}

async fn token(server: &Server, role: &str, structures: &[&str]) -> String {
    let created = server.admin().post("/api/tokens", &json!({"role": role, "structures": structures})).await;
    assert_eq!(created.status, 201, "{}", created.text);
    created.body["token"].as_str().expect("a token").to_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn pages_need_a_session_refuse_in_french_and_carry_their_security_headers() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(bin(), dir.path(), &["--demo"]);
    let mut coordinator = Browser::new(&server);

    // Without a session, a page leads to the sign-in page, and back to itself after.
    let page = coordinator.get("/beneficiaires?q=awa").await;
    assert_eq!(page.status, 303);
    assert_eq!(header(&page, LOCATION.as_str()), "/connexion?suite=%2Fbeneficiaires%3Fq%3Dawa");
    let sign_in = coordinator.get("/connexion?suite=%2Fbeneficiaires").await;
    assert_eq!(sign_in.status, 200);
    check_page("/connexion", &sign_in);
    let refused = coordinator.post("/connexion", &[("jeton", "prc_not_a_token"), ("suite", "/")]).await;
    assert_eq!(refused.status, 401);
    assert!(refused.body.contains("Ce jeton n'est pas valide"), "{}", refused.body);
    // The stylesheet and script the pages name are served, for a year.
    let stylesheet = sign_in.body.split("href=\"/static/").nth(1).and_then(|rest| rest.split('"').next()).unwrap();
    let css = coordinator.get(&format!("/static/{stylesheet}")).await;
    assert_eq!((css.status, header(&css, CONTENT_TYPE.as_str())), (200, "text/css; charset=utf-8"));
    assert!(header(&css, "cache-control").contains("immutable"));
    assert_eq!(coordinator.get("/static/app.0000.css").await.status, 404);

    let signed_in = coordinator.sign_in(&token(&server, "coordinator", &["jardins-du-gravier"]).await).await;
    assert_eq!((signed_in.status, header(&signed_in, LOCATION.as_str())), (303, "/"));
    assert_eq!(header(&coordinator.get("/").await, LOCATION.as_str()), "/tableau-de-bord");
    let mut csrf = String::new();
    for path in ["/tableau-de-bord", "/tableau-de-bord/chiffres", "/beneficiaires", "/statistiques"] {
        let page = coordinator.get(path).await;
        assert_eq!(page.status, 200, "{path}: {}", page.body);
        check_page(path, &page);
        if path == "/beneficiaires" {
            csrf = Browser::csrf(&page);
        }
    }
    // A form that writes without the session's CSRF token is refused, in French.
    let registration = [
        ("occurred_on", "2024-01-02"),
        ("structure", "jardins-du-gravier"),
        ("gender", "male"),
        ("birth_year", "1990"),
    ];
    let forged = coordinator.post("/beneficiaires", &registration).await;
    assert_eq!(forged.status, 403);
    check_page("403", &forged);
    assert!(forged.body.contains("Accès refusé"));
    let with_token: Vec<(&str, &str)> = registration.iter().copied().chain([("csrf", csrf.as_str())]).collect();
    let registered = coordinator.post("/beneficiaires", &with_token).await;
    assert_eq!(registered.status, 303, "{}", registered.body);
    let person = header(&registered, LOCATION.as_str()).to_owned();
    let fiche = coordinator.get(&person).await;
    assert_eq!(fiche.status, 200);
    check_page(&person, &fiche);
    assert!(fiche.body.contains("Étape enregistrée : Inscription."));
    // A form with a mistake comes back with the French sentence next to the field, nothing stored.
    let id = person.trim_start_matches("/beneficiaires/").split('?').next().unwrap_or_default().to_owned();
    let bad = [("csrf", csrf.as_str()), ("type", "contract_started"), ("occurred_on", "2024-01-02"), ("kind", "cddi")];
    let refused = coordinator.post(&format!("/beneficiaires/{id}/etapes"), &bad).await;
    assert_eq!(refused.status, 422);
    assert!(refused.body.contains("id=\"contract_started-weekly_hours-erreur\">Ce champ est obligatoire.</p>"));
    // A referral through its form, then its correction through the correction page's form: the
    // person's page shows the correction beside the step, and the pathway counts the new values.
    let referred_on = days_ago(3);
    let referral = [
        ("csrf", csrf.as_str()),
        ("type", "referred"),
        ("occurred_on", referred_on.as_str()),
        ("structure", "jardins-du-gravier"),
        ("prescriber.kind", "plie"),
        ("situation", "inactive"),
    ];
    let recorded = coordinator.post(&format!("/beneficiaires/{id}/etapes"), &referral).await;
    assert_eq!(
        (recorded.status, header(&recorded, LOCATION.as_str())),
        (303, &*format!("/beneficiaires/{id}?enregistre=referred"))
    );
    let history = server.admin().get(&format!("/api/beneficiaries/{id}/events")).await;
    let referral_id = history.body["events"][1]["id"].as_str().expect("the referral's id").to_owned();
    let correction_page = coordinator.get(&format!("/beneficiaires/{id}/corriger/{referral_id}")).await;
    assert_eq!(correction_page.status, 200);
    check_page("correction", &correction_page);
    assert!(correction_page.body.contains("<option value=\"inactive\" selected>"), "the form starts from the step");
    let no_reason =
        [("csrf", csrf.as_str()), ("type", "corrected"), ("corrects", referral_id.as_str()), ("mode", "annuler")];
    let refused = coordinator.post(&format!("/beneficiaires/{id}/etapes"), &no_reason).await;
    assert_eq!(refused.status, 422);
    assert!(refused.body.contains("id=\"annuler-reason-erreur\">Ce champ est obligatoire.</p>"));
    let replacement: Vec<(&str, &str)> = referral
        .iter()
        .copied()
        .filter(|(name, _)| *name != "type" && *name != "situation")
        .chain([
            ("type", "corrected"),
            ("corrects", referral_id.as_str()),
            ("mode", "remplacer"),
            ("reason", "Situation mal saisie"),
            ("situation", "long_term_unemployed"),
        ])
        .collect();
    let corrected = coordinator.post(&format!("/beneficiaires/{id}/etapes"), &replacement).await;
    assert_eq!(corrected.status, 303, "{}", corrected.body);
    let fiche = coordinator.get(&format!("/beneficiaires/{id}")).await;
    assert!(fiche.body.contains("aria-label=\"Corrections de cette étape\""));
    assert!(fiche.body.contains("Situation mal saisie") && fiche.body.contains("Demandeur d'emploi de longue durée"));
    let state = server.admin().get(&format!("/api/beneficiaries/{id}")).await;
    assert_eq!(state.body["episodes"][0]["situation"], "long_term_unemployed");

    // The API's CSV takes the session cookie for a GET.
    let csv = coordinator.get("/api/stats/entries?structure=jardins-du-gravier&format=csv").await;
    assert_eq!(csv.status, 200);
    assert!(csv.body.starts_with("table,situation,age_band,gender,count,share\n"));

    // An evaluator sees statistics, and a French refusal for people's pages.
    let mut evaluator = Browser::new(&server);
    evaluator.sign_in(&token(&server, "evaluator", &[]).await).await;
    assert_eq!(header(&evaluator.get("/").await, LOCATION.as_str()), "/statistiques");
    let statistics = evaluator.get("/statistiques").await;
    assert_eq!(statistics.status, 200);
    assert!(statistics.body.contains("<svg"));
    for path in ["/beneficiaires", person.as_str(), "/tableau-de-bord"] {
        let page = evaluator.get(path).await;
        assert_eq!(page.status, 403, "{path}");
        check_page(path, &page);
        assert!(page.body.contains("Accès refusé"), "{path}");
    }

    // Signing out ends the session.
    let signed_out = coordinator.post("/deconnexion", &[("csrf", csrf.as_str())]).await;
    assert_eq!(signed_out.status, 303);
    assert!(header(&signed_out, SET_COOKIE.as_str()).contains("Max-Age=0"));
    assert_eq!(coordinator.get("/tableau-de-bord").await.status, 303);

    // Unknown addresses: a French page, and JSON under /api.
    let missing = coordinator.get("/nulle-part").await;
    assert_eq!(missing.status, 404);
    assert!(missing.body.contains("Page introuvable"));
    let missing = coordinator.get("/api/nulle-part").await;
    assert_eq!((missing.status, header(&missing, CONTENT_TYPE.as_str())), (404, "application/json"));
}

fn sample(name: &str) -> Vec<u8> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/import").join(name);
    std::fs::read(path).expect("a sample file")
}

async fn log_length(server: &Server) -> usize {
    let log = server.admin().get("/api/events?after=0&limit=10000").await;
    log.body["events"].as_array().expect("events").len()
}

/// The import page (CONTRACT §9): choose the file and the mapping, read the preview, confirm.
#[tokio::test(flavor = "multi_thread")]
async fn the_import_page_previews_a_sheet_then_imports_it_once_on_confirmation() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(bin(), dir.path(), &[]);
    let mut coordinator = Browser::new(&server);
    coordinator.sign_in(&token(&server, "coordinator", &["jardins-du-gravier"]).await).await;
    let form = coordinator.get("/import").await;
    assert_eq!(form.status, 200, "{}", form.body);
    check_page("/import", &form);
    assert!(form.body.contains("enctype=\"multipart/form-data\""));
    let csrf = Browser::csrf(&form);
    let upload = |csrf: &str, mapping: &str| {
        vec![
            ("csrf", None, csrf.as_bytes().to_vec()),
            ("file", Some("salaries.csv"), sample("aci-salaries.csv")),
            ("mapping_name", None, Vec::new()),
            ("mapping", Some("correspondance.json"), sample(mapping)),
        ]
    };

    // A file form without the session's token is refused like any other form.
    let forged = coordinator.post_files("/import", &upload("not-the-token", "aci-mapping.json")).await;
    assert_eq!(forged.status, 403);
    // A mapping of another structure: the coordinator may not import there, and nothing is written.
    let elsewhere = coordinator.post_files("/import", &upload(&csrf, "plie-mapping.json")).await;
    assert_eq!(elsewhere.status, 403, "{}", elsewhere.body);

    // A bad cell: the row, the column and the value are named, and there is nothing to confirm.
    let text = String::from_utf8(sample("aci-salaries.csv")).unwrap().replacen(",F,", ",Z,", 1);
    let bad = vec![
        ("csrf", None, csrf.as_bytes().to_vec()),
        ("file", Some("salaries.csv"), text.into_bytes()),
        ("mapping", Some("correspondance.json"), sample("aci-mapping.json")),
    ];
    let refused = coordinator.post_files("/import", &bad).await;
    assert_eq!(refused.status, 200, "{}", refused.body);
    assert!(refused.body.contains("<td>2</td><td>Sexe</td><td>Z</td>"), "{}", refused.body);
    assert!(!refused.body.contains("name=\"ticket\""));
    assert_eq!(log_length(&server).await, 0);

    let preview = coordinator.post_files("/import", &upload(&csrf, "aci-mapping.json")).await;
    assert_eq!(preview.status, 200, "{}", preview.body);
    check_page("/import", &preview);
    // The sample: 7 rows, 6 people, 26 steps (counted in tests/e2e/import.rs); Hélène Dupont first.
    assert!(preview.body.contains("Étapes à enregistrer</th><td>26</td>"), "{}", preview.body);
    assert!(preview.body.contains("Hélène Dupont — nouvelle"), "{}", preview.body);
    assert_eq!(log_length(&server).await, 0, "a preview writes nothing");
    let needle = "name=\"ticket\" value=\"";
    let ticket_at = preview.body.find(needle).expect("a confirmation form") + needle.len();
    let ticket = preview.body[ticket_at..].split('"').next().unwrap().to_owned();

    let done = coordinator.post("/import/confirmer", &[("csrf", csrf.as_str()), ("ticket", ticket.as_str())]).await;
    assert_eq!(done.status, 200, "{}", done.body);
    assert!(done.body.contains("26 étapes enregistrées"), "{}", done.body);
    assert_eq!(log_length(&server).await, 26);
    let again = coordinator.post("/import/confirmer", &[("csrf", csrf.as_str()), ("ticket", ticket.as_str())]).await;
    assert_eq!(again.status, 409, "a preview is imported once");
    assert_eq!(log_length(&server).await, 26);

    // The same sheet again: everything is already there, nothing to confirm.
    let repeat = coordinator.post_files("/import", &upload(&csrf, "aci-mapping.json")).await;
    assert!(repeat.body.contains("Étapes déjà enregistrées</th><td>26</td>"), "{}", repeat.body);
    assert!(!repeat.body.contains("name=\"ticket\""), "nothing to confirm");
}
