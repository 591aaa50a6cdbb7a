//! The web application in a real browser: headless Chromium driven through chromedriver
//! (WebDriver), against the real binary with the demo's data.
//!
//! A coordinator signs in, registers a person and records a referral and a contract start through
//! the forms while a second browser shows the structure's dashboard: its figures change within a
//! second of each recording, without a reload. A date in the future comes back with the French
//! error next to its field, and the statistics page downloads CSV files with their header row.
//!
//! Without Chromium or chromedriver the test fails in CI (`CI=true`) and is skipped loudly
//! elsewhere: `apt-get install chromium chromium-driver` (Debian) brings both.

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

async fn text(browser: &Client, selector: &str) -> String {
    css(browser, selector).await.text().await.expect("an element's text")
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
    browser.goto(&format!("{}/tableau-de-bord", server.url)).await.expect("the dashboard's address opens");
    // Without a session, the page leads to the sign-in page and back.
    assert!(browser.current_url().await.expect("an address").path().ends_with("/connexion"));
    fill(browser, "#jeton", token).await;
    submit(browser, "form[action='/connexion'] button", "/tableau-de-bord").await;
}

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
    let started = Instant::now();
    let data = tempfile::tempdir().expect("a data folder");
    let server = Server::start(bin(), data.path(), &["--demo"]);
    let token = coordinator_token(&server).await;
    let downloads = tempfile::tempdir().expect("a downloads folder");
    let recorder = driver.browser("recorder", downloads.path()).await;
    let watcher = driver.browser("watcher", downloads.path()).await;
    sign_in(&recorder, &server, &token).await;
    sign_in(&watcher, &server, &token).await;
    let [active, in_contract, waiting] = [
        figure(&watcher, "active_episodes").await,
        figure(&watcher, "in_contract").await,
        figure(&watcher, "waiting_for_contract").await,
    ];

    // Register a person through the form of the people page.
    recorder.goto(&format!("{}/beneficiaires", server.url)).await.expect("the people page opens");
    css(&recorder, "#inscription summary").await.click().await.expect("the registration form opens");
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
    assert!(!text(&recorder, "#historique").await.contains("Entretien de suivi"), "nothing was recorded");

    // Statistics: each table downloads as the API's CSV, with its header row.
    recorder.goto(&format!("{}/statistiques", server.url)).await.expect("the statistics page opens");
    let outcomes = download(&recorder, downloads.path(), "#sorties a.telechargement").await;
    assert!(outcomes.starts_with("exits,durable_employment,transition_employment,positive_exits"), "{outcomes}");
    let entries = download(&recorder, downloads.path(), "#entrees a.telechargement").await;
    assert_eq!(entries, "table,situation,age_band,gender,count,share");

    for browser in [recorder, watcher] {
        let _ = browser.close().await;
    }
    eprintln!("browser test: {:?}; dashboard live after {referral:?} and {contract:?}", started.elapsed());
}
