//! The web application in a real browser: headless Chromium driven through chromedriver
//! (WebDriver), against the real binary with the demo's data.
//!
//! A coordinator signs in, registers a person and records a referral and a contract start through
//! the forms while a second browser shows the structure's dashboard: its figures change within a
//! second of each recording, without a reload. A date in the future comes back with the French
//! error next to its field, and the statistics page downloads CSV files with their header row.
//!
//! A coordinator imports the ACI's sample sheet: file and mapping chosen, preview read, confirmed.
//!
//! An auditor replays a person's history at two moments, downloads the signed history (which
//! `parcours verify-export` finds intact), reads the person's access log and the audit journal.
//! axe-core checks every page both tests open for WCAG 2.1 A and AA violations.
//!
//! Without Chromium or chromedriver the tests fail in CI (`CI=true`) and are skipped loudly
//! elsewhere: `apt-get install chromium chromium-driver` (Debian) brings both. axe-core comes from
//! npm (`npm install --prefix tests/e2e/axe axe-core@4`, which `.ci/run` does); without it the
//! accessibility checks fail in CI and are skipped loudly elsewhere.

use std::io::Write as _;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use parcours_tests::Server;
use serde_json::{json, Value};

use crate::{bin, days_ago};

/// How long a dashboard may take to show a step recorded elsewhere.
const LIVE_WITHIN: Duration = Duration::from_secs(1);
/// How long anything else may take (a page load, a download) before the test gives up.
const PATIENCE: Duration = Duration::from_secs(20);

const STRUCTURE: &str = "jardins-du-gravier";

/// A program given by an environment variable, or found on the `PATH` under one of `names`.
fn program(variable: &str, names: &[&str]) -> Option<PathBuf> {
    if let Some(path) = std::env::var_os(variable) {
        return Some(PathBuf::from(path));
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|dir| names.iter().map(move |name| dir.join(name)))
        .find(|candidate| candidate.is_file())
}

/// A chromedriver of our own on a free port, and where its browsers keep their profiles.
struct Driver {
    child: Child,
    url: String,
    chromium: PathBuf,
    profiles: tempfile::TempDir,
}

impl Driver {
    /// `None` when the browser is missing outside CI; in CI a missing browser fails the test.
    fn start() -> Option<Driver> {
        let chromium = program("CHROMIUM", &["chromium", "chromium-browser", "google-chrome"]);
        let chromedriver = program("CHROMEDRIVER", &["chromedriver"]);
        let (Some(chromium), Some(chromedriver)) = (chromium, chromedriver) else {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "the browser tests need chromium and chromedriver in CI (apt-get install chromium chromium-driver)"
            );
            // Straight to stderr: `eprintln!` would be captured by the test harness, and unseen.
            let _ = writeln!(
                std::io::stderr(),
                "\n*** SKIPPED: browser tests need chromium and chromedriver \
                 (apt-get install chromium chromium-driver, or set CHROMIUM and CHROMEDRIVER) ***\n"
            );
            return None;
        };
        let port =
            TcpListener::bind("127.0.0.1:0").and_then(|listener| listener.local_addr()).expect("a free port").port();
        let child = Command::new(chromedriver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let driver = Driver {
            child,
            url: format!("http://127.0.0.1:{port}"),
            chromium,
            profiles: tempfile::tempdir().expect("a profiles folder"),
        };
        let deadline = Instant::now() + PATIENCE;
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "chromedriver did not listen within {PATIENCE:?}");
            std::thread::sleep(Duration::from_millis(50));
        }
        Some(driver)
    }

    /// A new headless browser, saving downloads in `downloads`.
    async fn browser(&self, name: &str, downloads: &Path) -> Client {
        let profile = self.profiles.path().join(name);
        let capabilities = json!({
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": self.chromium,
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--disable-background-networking", "--disable-component-update", "--disable-sync",
                    "--no-first-run", "--window-size=1200,900",
                    format!("--user-data-dir={}", profile.display()),
                ],
                "prefs": {
                    "download.default_directory": downloads,
                    "download.prompt_for_download": false,
                },
            },
        });
        let Value::Object(capabilities) = capabilities else { unreachable!("an object") };
        ClientBuilder::new(HttpConnector::new())
            .capabilities(capabilities)
            .connect(&self.url)
            .await
            .expect("chromedriver opens a headless Chromium")
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Polls `check` until it gives a value or `within` has passed.
async fn eventually<T, F: std::future::Future<Output = Option<T>>>(
    within: Duration,
    what: &str,
    mut check: impl FnMut() -> F,
) -> T {
    let deadline = Instant::now() + within;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(Instant::now() < deadline, "{what}: not within {within:?}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

async fn css(browser: &Client, selector: &str) -> fantoccini::elements::Element {
    let found = eventually(PATIENCE, selector, || async { browser.find(Locator::Css(selector)).await.ok() }).await;
    found
}

/// The text of the element `selector` finds, found again when the page it was found in goes away
/// before it is read (a click's page still loading: a stale element).
async fn text(browser: &Client, selector: &str) -> String {
    eventually(PATIENCE, selector, || async { browser.find(Locator::Css(selector)).await.ok()?.text().await.ok() })
        .await
}

async fn fill(browser: &Client, selector: &str, value: &str) {
    let field = css(browser, selector).await;
    field.clear().await.expect("a field clears");
    field.send_keys(value).await.expect("typing in a field");
}

async fn choose(browser: &Client, selector: &str, value: &str) {
    css(browser, selector).await.select_by_value(value).await.expect("a choice in a list");
}

/// Clicks a submit button and waits for the page it leads to, whose address contains `expected`.
async fn submit(browser: &Client, button: &str, expected: &str) {
    css(browser, button).await.click().await.expect("a click on a button");
    eventually(PATIENCE, &format!("a page at …{expected}…"), || async {
        let url = browser.current_url().await.ok()?;
        url.as_str().contains(expected).then_some(())
    })
    .await;
}

async fn sign_in(browser: &Client, server: &Server, token: &str) {
    sign_in_at(browser, server, token, "/tableau-de-bord", None).await;
}

/// Opens `path` without a session: the sign-in page (checked by `axe` when given), then `path`.
async fn sign_in_at(browser: &Client, server: &Server, token: &str, path: &str, axe: Option<&Axe>) {
    browser.goto(&format!("{}{path}", server.url)).await.expect("the page's address opens");
    // Without a session, the page leads to the sign-in page and back.
    assert!(browser.current_url().await.expect("an address").path().ends_with("/connexion"));
    if let Some(axe) = axe {
        axe.check(browser, "sign-in").await;
    }
    fill(browser, "#jeton", token).await;
    submit(browser, "form[action='/connexion'] button", path).await;
}

/// axe-core (npm), injected into a page through WebDriver: a script run by the driver is not the
/// page's, so the pages' Content-Security-Policy (no inline script) does not stop it.
struct Axe {
    /// `None` outside CI when axe-core is not installed: the checks are skipped, loudly.
    source: Option<String>,
}

/// The WCAG 2.1 A and AA rules of axe-core.
const WCAG_TAGS: [&str; 4] = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"];

impl Axe {
    fn load() -> Axe {
        let path = std::env::var_os("AXE_CORE").map(PathBuf::from).unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/e2e/axe/node_modules/axe-core/axe.min.js")
        });
        match std::fs::read_to_string(&path) {
            Ok(source) => Axe { source: Some(source) },
            Err(error) => {
                assert!(
                    std::env::var("CI").as_deref() != Ok("true"),
                    "the accessibility checks need axe-core in CI ({}: {error}); \
                     npm install --prefix tests/e2e/axe axe-core@4",
                    path.display()
                );
                let _ = writeln!(
                    std::io::stderr(),
                    "\n*** SKIPPED: accessibility checks need axe-core ({}: {error}); \
                     npm install --prefix tests/e2e/axe axe-core@4, or set AXE_CORE ***\n",
                    path.display()
                );
                Axe { source: None }
            }
        }
    }

    /// Runs axe-core on the page the browser shows; fails naming each violation and its elements.
    async fn check(&self, browser: &Client, page: &str) {
        let Some(violations) = self.violations(browser, page).await else { return };
        assert_eq!(violations, json!([]), "{page}: axe-core finds WCAG 2.1 A/AA violations");
        PAGES_CHECKED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }

    /// The WCAG 2.1 A/AA violations axe-core finds on the page the browser shows; `None` when
    /// axe-core is not installed (outside CI).
    async fn violations(&self, browser: &Client, page: &str) -> Option<Value> {
        let source = self.source.as_ref()?;
        let injected = browser
            .execute(&format!("{source}\n;return typeof window.axe;"), vec![])
            .await
            .expect("axe-core is injected");
        assert_eq!(injected, json!("object"), "{page}: axe-core did not load");
        let violations = browser
            .execute_async(
                "const done = arguments[arguments.length - 1];
                 axe.run(document, { runOnly: { type: 'tag', values: arguments[0] } })
                     .then(result => done(result.violations.map(violation => ({
                         id: violation.id, impact: violation.impact, help: violation.help,
                         nodes: violation.nodes.slice(0, 5).map(node => node.target.join(' ')) }))))
                     .catch(error => done('axe-core failed: ' + error));",
                vec![json!(WCAG_TAGS)],
            )
            .await
            .expect("axe-core answers");
        Some(violations)
    }
}

/// How many pages axe-core checked, said at the end of each test.
static PAGES_CHECKED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// A dashboard figure as the page shows it.
async fn figure(browser: &Client, code: &str) -> u64 {
    let text = text(browser, &format!("[data-chiffre='{code}']")).await;
    text.trim().parse().unwrap_or_else(|_| panic!("{code} shows {text:?}"))
}

/// Waits for the dashboard to show `expected`, and says how long it took.
async fn dashboard_shows(browser: &Client, expected: &[(&str, u64)]) -> Duration {
    let started = Instant::now();
    eventually(Duration::from_secs(5), &format!("the dashboard showing {expected:?}"), || async {
        for (code, value) in expected {
            let shown = browser.find(Locator::Css(&format!("[data-chiffre='{code}']"))).await.ok()?;
            if shown.text().await.ok()?.trim() != value.to_string() {
                return None;
            }
        }
        Some(())
    })
    .await;
    started.elapsed()
}

/// What a person types in a date field for `date` (YYYY-MM-DD): its digits in the order of the
/// browser's locale (month first in the `en-US` that Debian's Chromium ships alone).
async fn typed_date(browser: &Client, date: &str) -> String {
    let order = browser
        .execute(
            "return new Intl.DateTimeFormat(navigator.language).formatToParts(new Date(2000, 10, 22))
                 .map(part => part.type).filter(type => ['day', 'month', 'year'].includes(type));",
            vec![],
        )
        .await
        .expect("the browser names its date order");
    let [year, month, day]: [&str; 3] = date.splitn(3, '-').collect::<Vec<_>>().try_into().expect("a date");
    let parts = order.as_array().expect("a list of parts").iter().filter_map(Value::as_str);
    parts
        .map(|part| match part {
            "day" => day,
            "month" => month,
            _ => year,
        })
        .collect()
}

async fn coordinator_token(server: &Server) -> String {
    let created = server
        .admin()
        .post(
            "/api/tokens",
            &json!({"role": "coordinator", "structures": [STRUCTURE], "label": "Camille, coordinatrice"}),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.text);
    created.body["token"].as_str().expect("the new token").to_owned()
}

/// The first line of the CSV file that appears in `folder` after a click on `link`.
async fn download(browser: &Client, folder: &Path, link: &str) -> String {
    let before: Vec<PathBuf> = files(folder);
    css(browser, link).await.click().await.expect("a click on a download link");
    let file = eventually(PATIENCE, &format!("the file of {link}"), || async {
        files(folder)
            .into_iter()
            .find(|file| !before.contains(file) && file.extension().is_some_and(|extension| extension == "csv"))
    })
    .await;
    let content = std::fs::read_to_string(&file).expect("the downloaded file reads");
    content.lines().next().unwrap_or_default().to_owned()
}

fn files(folder: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(folder).map(|entries| entries.flatten().map(|entry| entry.path()).collect()).unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_coordinator_records_steps_in_the_pages_and_a_second_dashboard_follows_live() {
    let Some(driver) = Driver::start() else { return };
    let axe = Axe::load();
    let started = Instant::now();
    let data = tempfile::tempdir().expect("a data folder");
    let server = Server::start(bin(), data.path(), &["--demo"]);
    let token = coordinator_token(&server).await;
    let downloads = tempfile::tempdir().expect("a downloads folder");
    let recorder = driver.browser("recorder", downloads.path()).await;
    let watcher = driver.browser("watcher", downloads.path()).await;
    sign_in_at(&recorder, &server, &token, "/tableau-de-bord", Some(&axe)).await;
    sign_in(&watcher, &server, &token).await;
    axe.check(&watcher, "dashboard").await;
    let [active, in_contract, waiting] = [
        figure(&watcher, "active_episodes").await,
        figure(&watcher, "in_contract").await,
        figure(&watcher, "waiting_for_contract").await,
    ];

    // Register a person through the form of the people page.
    recorder.goto(&format!("{}/beneficiaires", server.url)).await.expect("the people page opens");
    css(&recorder, "#inscription summary").await.click().await.expect("the registration form opens");
    axe.check(&recorder, "people, with the registration form open").await;
    assert_eq!(
        css(&recorder, "#inscription-structure").await.prop("value").await.ok().flatten().as_deref(),
        Some(STRUCTURE)
    );
    fill(&recorder, "#inscription-identity-first_name", "Awa").await;
    fill(&recorder, "#inscription-identity-last_name", "Diallo").await;
    choose(&recorder, "#inscription-gender", "female").await;
    fill(&recorder, "#inscription-birth_year", "1984").await;
    submit(&recorder, "#inscription form button[type='submit']", "enregistre=registered").await;
    assert_eq!(text(&recorder, "h1").await, "Awa Diallo");

    // A referral, through the person's page: the second browser's dashboard follows.
    css(&recorder, "#etape-referred summary").await.click().await.expect("the referral form opens");
    choose(&recorder, "#referred-prescriber-kind", "france_travail").await;
    fill(&recorder, "#referred-prescriber-name", "France Travail Agen").await;
    choose(&recorder, "#referred-situation", "long_term_unemployed").await;
    submit(&recorder, "#etape-referred button[type='submit']", "enregistre=referred").await;
    let referral =
        dashboard_shows(&watcher, &[("active_episodes", active + 1), ("waiting_for_contract", waiting + 1)]).await;
    assert!(referral < LIVE_WITHIN, "the dashboard showed the referral after {referral:?}");

    // A contract start: the person moves from waiting to in contract, live again.
    css(&recorder, "#etape-contract_started summary").await.click().await.expect("the contract form opens");
    choose(&recorder, "#contract_started-kind", "cddi").await;
    fill(&recorder, "#contract_started-weekly_hours", "26").await;
    fill(&recorder, "#contract_started-employer", "Les Jardins du Gravier").await;
    submit(&recorder, "#etape-contract_started button[type='submit']", "enregistre=contract_started").await;
    let contract =
        dashboard_shows(&watcher, &[("in_contract", in_contract + 1), ("waiting_for_contract", waiting)]).await;
    assert!(contract < LIVE_WITHIN, "the dashboard showed the contract after {contract:?}");
    assert_eq!(figure(&watcher, "active_episodes").await, active + 1);
    css(&recorder, "#etape-hours_worked summary").await.click().await.expect("a step form opens");
    axe.check(&recorder, "person, with a step form open").await;
    let history = text(&recorder, "#historique").await;
    for step in ["Inscription", "Orientation", "Début de contrat", "France Travail Agen", "Camille, coordinatrice"] {
        assert!(history.contains(step), "the history shows {step}: {history}");
    }

    // A follow-up dated in two days: refused, with the French error next to the date.
    css(&recorder, "#etape-follow_up_held summary").await.click().await.expect("the follow-up form opens");
    choose(&recorder, "#follow_up_held-kind", "individual").await;
    let future = days_ago(-2);
    let date = css(&recorder, "#follow_up_held-occurred_on").await;
    date.clear().await.expect("the date clears");
    date.send_keys(&typed_date(&recorder, &future).await).await.expect("typing a date");
    assert_eq!(date.prop("value").await.ok().flatten().as_deref(), Some(future.as_str()), "the date typed");
    css(&recorder, "#etape-follow_up_held button[type='submit']").await.click().await.expect("a click on a button");
    let error = text(&recorder, "#follow_up_held-occurred_on-erreur").await;
    assert!(error.starts_with("La date") && error.contains("est dans le futur"), "{error}");
    let beside = recorder
        .execute(
            "const field = document.getElementById('follow_up_held-occurred_on');
             const error = document.getElementById('follow_up_held-occurred_on-erreur');
             return error.parentElement.contains(field) && field.getAttribute('aria-invalid') === 'true'
                 && field.getAttribute('aria-describedby').split(' ').includes(error.id)
                 && field.closest('details').open;",
            vec![],
        )
        .await
        .expect("the page answers a script");
    assert_eq!(beside, Value::Bool(true), "the error sits with its field, which says it is invalid");
    axe.check(&recorder, "person, with a field in error").await;
    assert!(!text(&recorder, "#historique").await.contains("Entretien de suivi"), "nothing was recorded");

    // Statistics: each table downloads as the API's CSV, with its header row.
    recorder.goto(&format!("{}/statistiques", server.url)).await.expect("the statistics page opens");
    axe.check(&recorder, "statistics").await;
    let outcomes = download(&recorder, downloads.path(), "#sorties a.telechargement").await;
    assert!(outcomes.starts_with("exits,durable_employment,transition_employment,positive_exits"), "{outcomes}");
    let entries = download(&recorder, downloads.path(), "#entrees a.telechargement").await;
    assert_eq!(entries, "table,situation,age_band,gender,count,share");

    for browser in [recorder, watcher] {
        let _ = browser.close().await;
    }
    eprintln!("browser test: {:?}; dashboard live after {referral:?} and {contract:?}", started.elapsed());
}

/// Sets a field's value as a date picker would, and says it changed: typing in a date-and-time
/// field depends on the browser's locale, the value does not.
async fn set_value(browser: &Client, selector: &str, value: &str) {
    css(browser, selector).await;
    browser
        .execute(
            "const field = document.querySelector(arguments[0]); field.value = arguments[1];
             field.dispatchEvent(new Event('change', { bubbles: true }));",
            vec![json!(selector), json!(value)],
        )
        .await
        .expect("a field takes a value");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_auditor_replays_a_history_downloads_it_signed_and_reads_who_looked_and_the_journal() {
    let Some(driver) = Driver::start() else { return };
    let axe = Axe::load();
    let data = tempfile::tempdir().expect("a data folder");
    let server = Server::start(bin(), data.path(), &["--demo"]);
    let admin = server.admin();
    let coordinator = admin.with_token(&coordinator_token(&server).await);
    let created = admin.post("/api/tokens", &json!({"role": "auditor", "label": "Inès, DREETS"})).await;
    assert_eq!(created.status, 201, "{}", created.text);
    let auditor = created.body["token"].as_str().expect("the auditor's token").to_owned();

    // A person referred 80 days ago, whose referral is corrected, and whose exit 10 days ago is
    // recorded only now, seconds after the correction.
    let registered = coordinator
        .post(
            "/api/beneficiaries",
            &json!({"occurred_on": days_ago(90), "data": {"structure": STRUCTURE, "gender": "female",
                "birth_year": 1987, "identity": {"first_name": "Lina", "last_name": "Moreau"}}}),
        )
        .await;
    assert_eq!(registered.status, 201, "{}", registered.text);
    let id = registered.body["id"].as_str().expect("the person's id").to_owned();
    let events = format!("/api/beneficiaries/{id}/events");
    let referral = json!({"structure": STRUCTURE, "prescriber": {"kind": "plie"}, "situation": "inactive"});
    let referred = coordinator
        .post(&events, &json!({"events": [{"type": "referred", "occurred_on": days_ago(80), "data": referral}]}))
        .await;
    assert_eq!(referred.status, 201, "{}", referred.text);
    let mut replacement = referral.clone();
    replacement["situation"] = json!("long_term_unemployed");
    let correction = json!({"events": [{"type": "corrected", "occurred_on": days_ago(0), "data": {
        "corrects": referred.body["ids"][0], "reason": "Situation mal saisie",
        "replacement": {"occurred_on": days_ago(80), "data": replacement}}}]});
    assert_eq!(coordinator.post(&events, &correction).await.status, 201);
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let exit = json!({"events": [{"type": "exited", "occurred_on": days_ago(10), "data": {"destination": "cdi"}}]});
    assert_eq!(coordinator.post(&events, &exit).await.status, 201);
    let stream = admin.get(&events).await;
    let exit_recorded = stream.body["events"][3]["recorded_at"].as_str().expect("the exit's recording time");
    let exit_recorded = chrono::DateTime::parse_from_rfc3339(exit_recorded).expect("an RFC 3339 time");
    // A second and a half before the exit was recorded, in Paris, as a date-and-time field holds it.
    let before_exit = (exit_recorded - chrono::Duration::milliseconds(1500))
        .with_timezone(&chrono_tz::Europe::Paris)
        .format("%Y-%m-%dT%H:%M:%S")
        .to_string();

    let downloads = tempfile::tempdir().expect("a downloads folder");
    let browser = driver.browser("auditor", downloads.path()).await;
    let person = format!("/beneficiaires/{id}");
    sign_in_at(&browser, &server, &auditor, &person, Some(&axe)).await;
    assert_eq!(text(&browser, "h1").await, "Lina Moreau");
    axe.check(&browser, "person, as an auditor").await;

    // As it was known before the exit was recorded: still in the pathway, the exit marked.
    set_value(&browser, "#voyage-connu-le", &before_exit).await;
    submit(&browser, "#audit form button[type='submit']", "connu_le=2").await;
    let view = text(&browser, "#voyage").await;
    assert!(view.contains("tel qu'on le savait le"), "{view}");
    assert!(view.contains("Orientée le") && !view.contains("Sorties"), "still in the pathway: {view}");
    assert!(view.contains("Demandeur d'emploi de longue durée"), "the correction was known then: {view}");
    let history = text(&browser, "#historique").await;
    assert!(history.contains("saisie plus tard"), "the exit is marked as recorded later: {history}");
    axe.check(&browser, "person, as known at a time").await;

    // As it stood after the exit's date: the exit.
    set_value(&browser, "#voyage-connu-le", "").await;
    set_value(&browser, "#voyage-le", &days_ago(5)).await;
    submit(&browser, "#audit form button[type='submit']", &format!("le={}", days_ago(5))).await;
    let view = text(&browser, "#voyage").await;
    assert!(view.contains("tel qu'il était le") && view.contains("Sorties") && view.contains("CDI"), "{view}");
    axe.check(&browser, "person, as it stood on a date").await;

    // The signed history downloads, and verifies offline against the key the how-to page gives.
    let before: Vec<PathBuf> = files(downloads.path());
    css(&browser, "#telecharger-historique").await.click().await.expect("a click on the download link");
    let file = eventually(PATIENCE, "the signed history", || async {
        files(downloads.path())
            .into_iter()
            .find(|file| !before.contains(file) && file.extension().is_some_and(|extension| extension == "json"))
    })
    .await;
    browser.goto(&format!("{}/verification", server.url)).await.expect("the how-to page opens");
    let key = text(&browser, "#cle-publique").await;
    axe.check(&browser, "how to verify").await;
    let file_name = file.to_str().expect("a file name");
    let verified = std::process::Command::new(bin())
        .args(["verify-export", "--public-key", key.trim(), file_name])
        .output()
        .expect("parcours verify-export runs");
    let said = String::from_utf8_lossy(&verified.stdout);
    assert!(verified.status.success() && said.starts_with("intact: 4 events"), "{said}");

    // The access log holds the auditor's own reads.
    browser.goto(&format!("{}{person}", server.url)).await.expect("the person's page opens");
    css(&browser, "#journal-acces").await.click().await.expect("a click on the access log");
    let log = text(&browser, "#acces").await;
    for read in ["Inès, DREETS", "la fiche, à une date passée", "l'historique signé (téléchargement)"] {
        assert!(log.contains(read), "the access log shows {read}: {log}");
    }
    axe.check(&browser, "access log").await;

    // The journal, filtered to corrections, shows this one.
    css(&browser, "nav a[href='/audit']").await.click().await.expect("a click on the journal");
    choose(&browser, "#journal-type", "correction").await;
    submit(&browser, "form[action='/audit'] button[type='submit']", "type=correction").await;
    let journal = text(&browser, "#journal").await;
    assert!(journal.contains("Situation mal saisie") && journal.contains("Orientation"), "{journal}");
    axe.check(&browser, "audit journal").await;

    let _ = browser.close().await;
    let checked = PAGES_CHECKED.load(std::sync::atomic::Ordering::Relaxed);
    eprintln!("browser test: axe-core checked {checked} pages in this run so far");
}

/// A coordinator merges a person recorded twice from the « Doublons » page, then undoes it from
/// the absorbed record's page.
#[tokio::test(flavor = "multi_thread")]
async fn a_coordinator_merges_a_person_recorded_twice_and_undoes_it() {
    let Some(driver) = Driver::start() else { return };
    let axe = Axe::load();
    let data = tempfile::tempdir().expect("a data folder");
    let server = Server::start(bin(), data.path(), &[]);
    let admin = server.admin();
    for _ in 0..2 {
        let body = json!({"occurred_on": days_ago(20), "confirm_new": true, "data": {"structure": STRUCTURE,
            "gender": "female", "birth_year": 1984,
            "identity": {"first_name": "Awa", "last_name": "Diallo", "birth_date": "1984-02-03"}}});
        assert_eq!(admin.post("/api/beneficiaries", &body).await.status, 201);
    }
    let token = coordinator_token(&server).await;
    let downloads = tempfile::tempdir().expect("a downloads folder");
    let browser = driver.browser("merger", downloads.path()).await;
    sign_in_at(&browser, &server, &token, "/doublons", None).await;
    axe.check(&browser, "duplicates").await;
    let value = |selector: &'static str| {
        let browser = &browser;
        async move { css(browser, selector).await.prop("value").await.ok().flatten().unwrap_or_default() }
    };
    let (kept, absorbed) = (value("input[name='a']").await, value("input[name='b']").await);
    fill(&browser, "form[action='/doublons/fusionner'] textarea", "inscrite deux fois").await;
    css(&browser, "form[action='/doublons/fusionner'] input[name='confirmation']")
        .await
        .click()
        .await
        .expect("confirmed");
    submit(&browser, "form[action='/doublons/fusionner'] button[type='submit']", "fusion=1").await;
    assert!(browser.current_url().await.expect("an address").path().ends_with(&kept));
    let link = css(&browser, "#fusionnes a").await.attr("href").await.ok().flatten();
    assert_eq!(link, Some(format!("/beneficiaires/{absorbed}")), "the survivor links the record merged into it");
    axe.check(&browser, "the survivor's record").await;
    let pathway = admin.get(&format!("/api/beneficiaries/{absorbed}")).await.body;
    assert_eq!(pathway["merged_into"].as_str(), Some(kept.as_str()), "{pathway}");

    browser.goto(&format!("{}/beneficiaires/{absorbed}", server.url)).await.expect("the absorbed record opens");
    assert_eq!(text(&browser, "#titre-fusion").await, "Dossier fusionné");
    axe.check(&browser, "a merged record").await;
    fill(&browser, "#motif-separation", "deux personnes différentes").await;
    submit(&browser, "#fusion button[type='submit']", "separe=1").await;
    assert!(browser.find(Locator::Css("#fusion")).await.is_err(), "the notice is gone once unmerged");
    let pathway = admin.get(&format!("/api/beneficiaries/{absorbed}")).await.body;
    assert_eq!(pathway["beneficiary"].as_str(), Some(absorbed.as_str()), "{pathway}");
}

/// The accessibility check can fail: on a page made to break WCAG (an image without text, a
/// field without label, under the same kind of Content-Security-Policy as ours), axe-core names
/// each violation.
/// A coordinator takes the ACI's sample sheet in (CONTRACT §9): file and mapping chosen in the
/// page, the dry run's preview read, then confirmed; the log holds the sheet's 26 steps, once.
#[tokio::test(flavor = "multi_thread")]
async fn a_coordinator_imports_a_sheet_after_reading_its_preview() {
    let Some(driver) = Driver::start() else { return };
    let axe = Axe::load();
    let data = tempfile::tempdir().expect("a data folder");
    let server = Server::start(bin(), data.path(), &[]);
    let token = coordinator_token(&server).await;
    let downloads = tempfile::tempdir().expect("a downloads folder");
    let browser = driver.browser("importer", downloads.path()).await;
    sign_in_at(&browser, &server, &token, "/import", Some(&axe)).await;
    axe.check(&browser, "import").await;

    let sample = |name: &str| {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/import").join(name);
        path.canonicalize().expect("a sample file").to_string_lossy().into_owned()
    };
    css(&browser, "#import-file").await.send_keys(&sample("aci-salaries.csv")).await.expect("a file chosen");
    css(&browser, "#import-mapping-file").await.send_keys(&sample("aci-mapping.json")).await.expect("a mapping");
    css(&browser, "form[action='/import'] button").await.click().await.expect("a click on « Voir l'aperçu »");
    eventually(PATIENCE, "the preview", || async {
        (text(&browser, "h1").await == "Aperçu de l'import").then_some(())
    })
    .await;
    axe.check(&browser, "import preview").await;
    let main = text(&browser, "main").await;
    assert!(main.contains("Hélène Dupont — nouvelle"), "{main}");
    let log = || async {
        let answer = server.admin().get("/api/events?after=0&limit=1000").await;
        answer.body["events"].as_array().map_or(0, Vec::len)
    };
    assert_eq!(log().await, 0, "a preview writes nothing");

    submit(&browser, "form[action='/import/confirmer'] button", "/import/confirmer").await;
    let status = text(&browser, "[role=status]").await;
    assert!(status.contains("26 étapes enregistrées pour 6 personnes"), "{status}");
    axe.check(&browser, "import done").await;
    assert_eq!(log().await, 26);
    let _ = browser.close().await;
    drop(driver);
}

#[tokio::test(flavor = "multi_thread")]
async fn axe_core_names_the_violations_of_a_page_that_has_them() {
    let Some(driver) = Driver::start() else { return };
    let axe = Axe::load();
    let downloads = tempfile::tempdir().expect("a downloads folder");
    let browser = driver.browser("broken", downloads.path()).await;
    let page = "<!DOCTYPE html><html><head><meta http-equiv='Content-Security-Policy' \
        content=\"default-src 'self'; script-src 'self'\"><title>x</title></head><body>\
        <img src='data:image/gif;base64,R0lGODlhAQABAAAAACw='><input type='text'></body></html>";
    browser.goto(&format!("data:text/html,{page}")).await.expect("the broken page opens");
    if let Some(violations) = axe.violations(&browser, "broken page").await {
        let ids: Vec<&str> = violations.as_array().expect("a list").iter().filter_map(|v| v["id"].as_str()).collect();
        for rule in ["image-alt", "label", "html-has-lang"] {
            assert!(ids.contains(&rule), "axe-core finds {rule}: {violations}");
        }
    }
    let _ = browser.close().await;
}

/// The Rapports page (issue 18): a coordinator asks last year's report of their structure, reads
/// it in the page, downloads it as XLSX (which a spreadsheet reader opens with the page's
/// figures), publishes it and opens what changed since.
#[tokio::test(flavor = "multi_thread")]
async fn a_coordinator_asks_a_report_downloads_it_as_xlsx_publishes_it_and_opens_what_changed() {
    use calamine::{open_workbook, Data, Reader, Xlsx};

    let Some(driver) = Driver::start() else { return };
    let axe = Axe::load();
    let data = tempfile::tempdir().expect("a data folder");
    let server = Server::start(bin(), data.path(), &["--demo"]);
    let token = coordinator_token(&server).await;
    let downloads = tempfile::tempdir().expect("a downloads folder");
    let browser = driver.browser("reports", downloads.path()).await;
    sign_in_at(&browser, &server, &token, "/rapports", None).await;
    axe.check(&browser, "reports, the question").await;

    // Last year, the coordinator's structure, chosen by its name.
    let year = chrono::Utc::now().date_naive().format("%Y").to_string().parse::<i32>().expect("a year") - 1;
    let label = text(&browser, ".choix-structures label").await;
    assert_eq!(label, "Les Jardins du Gravier", "the structure by its name, not its slug");
    css(&browser, ".choix-structures input[type='checkbox']").await.click().await.expect("a click on the box");
    set_value(&browser, "#periode-du", &format!("{year}-01-01")).await;
    set_value(&browser, "#periode-au", &format!("{year}-12-31")).await;
    submit(&browser, ".rapport-question button[type='submit']", "structure=jardins-du-gravier").await;
    assert_eq!(text(&browser, ".rapport .cover h1").await, "Les Jardins du Gravier");
    let followed = css(&browser, ".rapport td[data-figure='people.followed']").await;
    let followed: f64 =
        followed.attr("data-value").await.expect("an attribute").expect("a value").parse().expect("a count");
    assert!(followed > 0.0, "a demo year has people");
    axe.check(&browser, "reports, the report read in the page").await;

    // The XLSX download: the page's figure, in a sheet a spreadsheet reader opens.
    let before = files(downloads.path());
    css(&browser, "a[data-format='xlsx']").await.click().await.expect("a click on the download");
    let file = eventually(PATIENCE, "the XLSX file", || async {
        files(downloads.path())
            .into_iter()
            .find(|file| !before.contains(file) && file.extension().is_some_and(|extension| extension == "xlsx"))
    })
    .await;
    let name = file.file_name().and_then(|name| name.to_str()).expect("a file name").to_owned();
    assert!(
        name.contains("Les Jardins du Gravier") && name.contains(&format!("{year}-01-01 au {year}-12-31")),
        "{name}"
    );
    let mut workbook: Xlsx<_> =
        eventually(PATIENCE, "a complete XLSX file", || async { open_workbook(&file).ok() }).await;
    let people = workbook.worksheet_range("Personnes accompagnées").expect("the section's sheet");
    let row = people
        .rows()
        .find(|row| row.get(4) == Some(&Data::String("people.followed".into())))
        .expect("the row of people followed");
    assert_eq!(row[2], Data::Float(followed), "the file says what the page says");

    // Publish, then the publication's changes page.
    submit(&browser, "form.publier button[type='submit']", "publie=").await;
    let publications = text(&browser, "#publications").await;
    assert!(
        publications.contains("Le rapport est publié.") && publications.contains("Les Jardins du Gravier"),
        "{publications}"
    );
    axe.check(&browser, "reports, after publishing").await;
    css(&browser, "#publications a.changements").await.click().await.expect("a click on what changed");
    eventually(PATIENCE, "the changes page", || async {
        browser.current_url().await.ok()?.as_str().contains("/changes").then_some(())
    })
    .await;
    assert_eq!(text(&browser, "h1").await, "Ce qui a changé depuis la publication");

    let _ = browser.close().await;
    let checked = PAGES_CHECKED.load(std::sync::atomic::Ordering::Relaxed);
    eprintln!("browser test: axe-core checked {checked} pages in this run so far");
}
