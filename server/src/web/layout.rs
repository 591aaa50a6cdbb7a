//! The frame of every page (header, navigation, sign-out) and the one way pages are answered,
//! with their security headers (CONTRACT §7: a Content-Security-Policy without inline script or
//! style, `nosniff`, no framing, nothing with personal data kept in caches).

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use maud::{html, Markup, DOCTYPE};
use parcours_core::store::access::Role;

use super::assets;
use crate::access::Caller;
use crate::labels;

/// No inline script or style anywhere: the pages' only script and stylesheet are our static files.
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
    frame-ancestors 'none'; form-action 'self'; base-uri 'none'";

/// An HTML answer: a page or a fragment of one.
pub struct Html(pub StatusCode, pub Markup);

impl IntoResponse for Html {
    fn into_response(self) -> Response {
        let mut response = (self.0, self.1.into_string()).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
        security_headers(headers);
        response
    }
}

/// The headers of every page. Pages show personal data or figures for one signed-in person: none
/// may be kept by a cache, shared or private.
pub fn security_headers(headers: &mut axum::http::HeaderMap) {
    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CONTENT_SECURITY_POLICY));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
}

/// The sections of the navigation.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Section {
    Dashboard,
    People,
    Statistics,
    Import,
    Audit,
    None,
}

/// A whole page: `title` names it in the tab and as its heading.
pub fn document(caller: Option<&Caller>, section: Section, title: &str, main: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="fr" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " — Parcours" }
                link rel="stylesheet" href=(assets::url(assets::STYLESHEET));
                script src=(assets::url(assets::SCRIPT)) defer {}
            }
            body {
                a.evitement href="#contenu" { "Aller au contenu" }
                header.bandeau {
                    a.marque href="/" { "Parcours" }
                    @if let Some(caller) = caller {
                        nav aria-label="Navigation principale" {
                            ul {
                                @for (target, href, text) in links(caller.role) {
                                    li {
                                        a href=(href) aria-current=[(target == section).then_some("page")] { (text) }
                                    }
                                }
                            }
                        }
                        form.deconnexion method="post" action="/deconnexion" {
                            (super::forms::csrf(caller.csrf.as_deref()))
                            span.role { "Rôle : " (labels::role(caller.role)) }
                            button type="submit" { "Se déconnecter" }
                        }
                    }
                }
                main #contenu tabindex="-1" {
                    h1 { (title) }
                    (main)
                }
            }
        }
    }
}

/// The sections a role may open, as `policy::RULES` allows them.
fn links(role: Role) -> Vec<(Section, &'static str, &'static str)> {
    let dashboard = (Section::Dashboard, "/tableau-de-bord", "Tableau de bord");
    let people = (Section::People, "/beneficiaires", "Bénéficiaires");
    let statistics = (Section::Statistics, "/statistiques", "Statistiques");
    let import = (Section::Import, "/import", "Import");
    let audit = (Section::Audit, "/audit", "Journal d'audit");
    match role {
        Role::Admin => vec![dashboard, people, statistics, import, audit],
        Role::Coordinator => vec![dashboard, people, statistics, import],
        Role::Auditor => vec![people, statistics, audit],
        Role::Evaluator => vec![statistics],
    }
}

/// A page that says why it cannot show what was asked for.
pub fn problem(status: StatusCode, title: &str, explanation: &str) -> Response {
    let main = html! {
        p { (explanation) }
        p { a href="/" { "Retour à l'accueil" } }
    };
    Html(status, document(None, Section::None, title, main)).into_response()
}
