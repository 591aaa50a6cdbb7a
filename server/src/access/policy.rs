//! Who may call each route: the one table of CONTRACT §7's role column, by route.
//!
//! A route missing here is refused to everyone (see `access::enforce`); a test checks that every
//! route of the router has its rule, and the access matrix in `tests/` walks every cell against
//! the real server.

use axum::http::Method;
use parcours_core::store::access::Role;

/// Who may call a route: nobody needs a credential (`PUBLIC`), or one of these roles.
#[derive(Clone, Copy, Debug)]
pub struct Rule {
    pub method: &'static str,
    pub path: &'static str,
    pub roles: Option<&'static [Role]>,
}

impl Rule {
    pub fn is_public(&self) -> bool {
        self.roles.is_none()
    }

    pub fn allows(&self, role: Role) -> bool {
        self.roles.is_none_or(|roles| roles.contains(&role))
    }

    /// Whether the route is a page of the web application (sign-in redirects, French errors) rather
    /// than a route of the API.
    pub fn is_page(&self) -> bool {
        !(self.path.starts_with("/api") || matches!(self.path, "/healthz" | "/readyz" | "/metrics"))
    }
}

use Role::{Admin, Auditor, Coordinator, Evaluator};

const PUBLIC: Option<&[Role]> = None;
const EVERYONE: Option<&[Role]> = Some(&[Admin, Coordinator, Auditor, Evaluator]);
const ADMIN: Option<&[Role]> = Some(&[Admin]);
/// Those who may read people's streams (each handler then checks whose).
const READERS: Option<&[Role]> = Some(&[Admin, Coordinator, Auditor]);
/// Those who may append to people's streams (the writer then checks whose).
const WRITERS: Option<&[Role]> = Some(&[Admin, Coordinator]);
const FIGURES: Option<&[Role]> = Some(&[Admin, Coordinator, Auditor, Evaluator]);
const AUDIT: Option<&[Role]> = Some(&[Admin, Auditor]);

const fn allow(method: &'static str, path: &'static str, roles: Option<&'static [Role]>) -> Rule {
    Rule { method, path, roles }
}

pub const RULES: &[Rule] = &[
    allow("GET", "/healthz", PUBLIC),
    allow("GET", "/readyz", PUBLIC),
    allow("GET", "/metrics", ADMIN),
    allow("GET", "/api/openapi.json", PUBLIC),
    // People and their streams.
    allow("POST", "/api/beneficiaries", WRITERS),
    allow("GET", "/api/beneficiaries", READERS),
    allow("GET", "/api/beneficiaries/{id}", READERS),
    allow("POST", "/api/beneficiaries/{id}/events", WRITERS),
    allow("GET", "/api/beneficiaries/{id}/events", READERS),
    allow("GET", "/api/beneficiaries/{id}/audit", READERS),
    allow("GET", "/api/beneficiaries/{id}/export", READERS),
    allow("POST", "/api/beneficiaries/{id}/erase", ADMIN),
    // Merging two records of one person (CONTRACT §10): the writer checks the caller may append to both.
    allow("POST", "/api/beneficiaries/{id}/merge", WRITERS),
    allow("POST", "/api/beneficiaries/{id}/unmerge", WRITERS),
    // Proposed referrals (CONTRACT §7): the writer admits an answer only from the structure asked.
    allow("POST", "/api/beneficiaries/{id}/referrals/{referral}/accept", WRITERS),
    allow("POST", "/api/beneficiaries/{id}/referrals/{referral}/decline", WRITERS),
    allow("GET", "/api/referrals/pending", WRITERS),
    // The whole log: every person's steps (personal data left out).
    allow("GET", "/api/events", AUDIT),
    allow("GET", "/api/events/live", READERS),
    allow("GET", "/api/export", ADMIN),
    allow("GET", "/api/export/keys", ADMIN),
    allow("GET", "/api/export/parquet", ADMIN),
    // Figures.
    allow("GET", "/api/dashboard", WRITERS),
    allow("GET", "/api/stats/outcomes", FIGURES),
    allow("GET", "/api/stats/entries", FIGURES),
    allow("GET", "/api/stats/esf", FIGURES),
    // The activity report: figures for every role (each handler scopes them), the lists behind
    // them for those who may read people's streams; see `api::reports`.
    allow("GET", "/api/reports/activity", FIGURES),
    allow("GET", "/api/reports/activity/list", READERS),
    allow("GET", "/api/reports/report.css", EVERYONE),
    // Published reports hold exact figures: no evaluator; each handler scopes coordinators to
    // their structures. Auditors read them, publishing is a write.
    allow("POST", "/api/reports/activity/publish", WRITERS),
    allow("GET", "/api/reports/published", READERS),
    allow("GET", "/api/reports/published/{id}", READERS),
    allow("GET", "/api/reports/published/{id}/changes", READERS),
    allow("GET", "/api/structures", EVERYONE),
    allow("PUT", "/api/structures/{slug}", ADMIN),
    // Spreadsheet import and duplicates (CONTRACT §9, §10): each handler scopes coordinators to
    // their structures.
    allow("POST", "/api/imports", WRITERS),
    allow("GET", "/api/import-mappings", WRITERS),
    allow("PUT", "/api/import-mappings/{name}", WRITERS),
    allow("GET", "/api/duplicates", WRITERS),
    // Trust.
    allow("GET", "/api/access-log", AUDIT),
    allow("GET", "/api/tokens", ADMIN),
    allow("POST", "/api/tokens", ADMIN),
    allow("DELETE", "/api/tokens/{id}", ADMIN),
    // The web application's pages (`web/`), with the rights of the API routes they show.
    allow("GET", "/static/{file}", PUBLIC),
    allow("GET", "/connexion", PUBLIC),
    allow("POST", "/connexion", PUBLIC),
    allow("POST", "/deconnexion", EVERYONE),
    allow("GET", "/", EVERYONE),
    allow("GET", "/tableau-de-bord", WRITERS),
    allow("GET", "/tableau-de-bord/chiffres", WRITERS),
    allow("GET", "/tableau-de-bord/flux", WRITERS),
    allow("GET", "/beneficiaires", READERS),
    allow("POST", "/beneficiaires", WRITERS),
    allow("GET", "/beneficiaires/{id}", READERS),
    allow("POST", "/beneficiaires/{id}/etapes", WRITERS),
    allow("GET", "/beneficiaires/{id}/corriger/{event}", WRITERS),
    allow("POST", "/beneficiaires/{id}/orientations/{referral}", WRITERS),
    allow("GET", "/statistiques", FIGURES),
    allow("GET", "/import", WRITERS),
    allow("POST", "/import", WRITERS),
    allow("POST", "/import/confirmer", WRITERS),
    allow("GET", "/rapports", FIGURES),
    allow("POST", "/rapports/publier", WRITERS),
    // Duplicates and merges (CONTRACT §10), as `GET /api/duplicates` and `POST .../merge`.
    allow("GET", "/doublons", WRITERS),
    allow("POST", "/doublons/fusionner", WRITERS),
    allow("POST", "/beneficiaires/{id}/separer", WRITERS),
    // The auditor's bench (issue 21): time travel is the person page's; the access log and the
    // journal are the API's `AUDIT`; the signed history is `GET /api/beneficiaries/{id}/export`'s.
    allow("GET", "/beneficiaires/{id}/acces", AUDIT),
    allow("GET", "/beneficiaires/{id}/export", READERS),
    allow("GET", "/verification", READERS),
    allow("GET", "/audit", AUDIT),
    allow("GET", "/audit/journal.csv", AUDIT),
];

/// The rule of a route, by method and route template (`/api/beneficiaries/{id}`).
pub fn rule(method: &Method, path: &str) -> Option<&'static Rule> {
    // axum answers HEAD with the GET handler; it is allowed as GET is.
    let method = if method == Method::HEAD { "GET" } else { method.as_str() };
    RULES.iter().find(|rule| rule.path == path && rule.method == method)
}

/// The methods `path` has rules for: what a `405 Method Not Allowed` lists in `Allow`.
pub fn methods(path: &str) -> Vec<&'static str> {
    let mut methods: Vec<&str> = RULES.iter().filter(|rule| rule.path == path).map(|rule| rule.method).collect();
    methods.sort_unstable();
    methods.dedup();
    methods
}

/// Checks the routes of a router against [`RULES`], both ways: every `.route("path", method(…))`
/// of `source` (the router's own source file, `include_str!`) has its rule, and every rule of the
/// router's kind (`pages` or API) its route. Reading the source keeps the check free of a running
/// server and names the route that lacks a rule.
#[cfg(test)]
pub fn check_rules_match_router(source: &str, pages: bool) {
    let start = source.find("Router::new()").unwrap_or(0);
    let end = source[start..].find(".route_layer").map_or(source.len(), |end| start + end);
    let mut routes = Vec::new();
    for line in source[start..end].lines().map(str::trim).filter(|line| line.starts_with(".route(\"")) {
        let path = line.trim_start_matches(".route(\"").split('"').next().unwrap_or_default();
        for method in ["get", "post", "put", "delete"] {
            let call = format!("{method}(");
            if [" ", ".", "::"].iter().any(|before| line.contains(&format!("{before}{call}"))) {
                routes.push((method.to_uppercase(), path.to_owned()));
            }
        }
    }
    assert!(routes.len() > 10, "the router was read: {routes:?}");
    for (method, path) in &routes {
        let rule = RULES.iter().find(|rule| rule.method == method && rule.path == path);
        assert!(rule.is_some_and(|rule| rule.is_page() == pages), "{method} {path} has no access rule of its kind");
    }
    for rule in RULES.iter().filter(|rule| rule.is_page() == pages) {
        assert!(
            routes.iter().any(|(method, path)| method == rule.method && path == rule.path),
            "the rule for {} {} names no route",
            rule.method,
            rule.path
        );
    }
}
