//! The web application (CONTRACT §5 `GET /`): French pages rendered on the server, for the people
//! who use Parcours every day, on top of the very functions the API answers with.
//!
//! - Pages are HTML written with maud; one file per page, the frame in `layout`, forms in `forms`
//!   (fields as data) and `steps` (the form of each step), French words in `labels`.
//! - The stylesheet and the one script are static files built into the binary (`assets`); pages
//!   carry no inline script or style, so their Content-Security-Policy forbids both.
//! - Access: every route goes through `access::enforce` with its rule in `access::policy::RULES`,
//!   like the API's; a refused page redirects to the sign-in page or says why in French
//!   ([`refused`]). Forms that write carry the session's CSRF token, which `enforce` checks.
//! - Reads and writes go through the application (`crate::app`) with the signed-in caller, so the
//!   disclosure policy and the writer's scope check apply as they do to the API. The application's
//!   errors become French pages here ([`refused`]), never the API's JSON.

mod access_log;
mod assets;
mod audit;
mod charts;
mod dashboard;
mod export;
mod forms;
mod import;
mod layout;
mod people;
mod person;
mod sign_in;
mod statistics;
mod steps;

use axum::extract::DefaultBodyLimit;
use axum::http::{header, StatusCode, Uri};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use parcours_core::store::access::Role;
use parcours_core::store::AppendError;
use parcours_core::vocabulary::StreamId;

use crate::access::{self, Caller, Gate};
use crate::app::import::IMPORT_BODY_MAX;
use crate::app::AppError;
use crate::state::AppState;

pub fn router(gate: Gate) -> Router<AppState> {
    Router::new()
        .route("/", get(home))
        .route("/static/{file}", get(assets::serve))
        .route("/connexion", get(sign_in::form).post(sign_in::sign_in))
        .route("/deconnexion", post(sign_in::sign_out))
        .route("/tableau-de-bord", get(dashboard::page))
        .route("/tableau-de-bord/chiffres", get(dashboard::figures))
        .route("/tableau-de-bord/flux", get(dashboard::changes))
        .route("/beneficiaires", get(people::list).post(people::register))
        .route("/beneficiaires/{id}", get(person::page))
        .route("/beneficiaires/{id}/etapes", post(person::record))
        .route("/beneficiaires/{id}/corriger/{event}", get(person::correction))
        .route("/beneficiaires/{id}/acces", get(access_log::page))
        .route("/beneficiaires/{id}/export", get(export::download))
        .route("/verification", get(export::how_to_verify))
        .route("/audit", get(audit::page))
        .route("/audit/journal.csv", get(audit::csv))
        .route("/statistiques", get(statistics::page))
        .route("/import", get(import::form).post(import::preview).layer(DefaultBodyLimit::max(IMPORT_BODY_MAX)))
        .route("/import/confirmer", post(import::confirm))
        .route_layer(axum::middleware::from_fn_with_state(gate, access::enforce))
}

/// Each role starts where its work is.
async fn home(caller: Caller) -> Redirect {
    Redirect::to(match caller.role {
        Role::Admin | Role::Coordinator => "/tableau-de-bord",
        Role::Auditor => "/beneficiaires",
        Role::Evaluator => "/statistiques",
    })
}

/// How a page answers an error: in French, never with the API's JSON.
pub struct PageError(AppError);

impl From<AppError> for PageError {
    fn from(error: AppError) -> Self {
        PageError(error)
    }
}

impl PageError {
    /// The blocking work behind a page did not finish (the runtime is stopping).
    pub fn unavailable() -> PageError {
        PageError(AppError::Unavailable("the page could not be prepared".into()))
    }

    /// A value of the page's address cannot be read.
    pub fn invalid(what: &str) -> PageError {
        PageError(AppError::InvalidRequest(what.into()))
    }
}

/// A person's id in a page's address.
pub fn person_id(text: &str) -> Result<StreamId, PageError> {
    text.parse().map_err(|_| PageError::invalid("beneficiary id"))
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        refused(self.0, &Uri::from_static("/"))
    }
}

/// A page refused or failed: without a session, to the sign-in page (and back to `uri` after);
/// otherwise a French page that says why, without saying whether what was asked for exists.
pub fn refused(error: AppError, uri: &Uri) -> Response {
    use layout::problem;
    match error {
        AppError::Unauthorized => {
            let back = uri.path_and_query().map_or("/", |path| path.as_str());
            let target: String = form_urlencoded::Serializer::new(String::new()).append_pair("suite", back).finish();
            Redirect::to(&format!("/connexion?{target}")).into_response()
        }
        AppError::Forbidden => problem(
            StatusCode::FORBIDDEN,
            "Accès refusé",
            "Votre accès ne permet pas d'ouvrir cette page, ou le formulaire envoyé a expiré : rechargez la page \
             et recommencez.",
        ),
        AppError::NotFound(_) => {
            problem(StatusCode::NOT_FOUND, "Page introuvable", "Cette page n'existe pas, ou plus.")
        }
        AppError::InvalidRequest(_) => problem(
            StatusCode::BAD_REQUEST,
            "Demande incorrecte",
            "L'adresse de cette page contient une valeur incorrecte.",
        ),
        AppError::PayloadTooLarge(_) => problem(
            StatusCode::PAYLOAD_TOO_LARGE,
            "Formulaire trop volumineux",
            "Le formulaire envoyé dépasse la taille acceptée : raccourcissez les textes saisis.",
        ),
        AppError::Unavailable(_) => {
            let mut response = problem(
                StatusCode::SERVICE_UNAVAILABLE,
                "Service momentanément indisponible",
                "Le serveur prépare ses données : réessayez dans quelques secondes.",
            );
            response.headers_mut().insert(header::RETRY_AFTER, header::HeaderValue::from_static("1"));
            response
        }
        AppError::Append(AppendError::Forbidden) => refused(AppError::Forbidden, uri),
        error @ (AppError::Append(_) | AppError::Store(_) | AppError::NotReproducible(_)) => {
            // The cause is logged by the API's own answer to it (`api/error.rs`), never shown.
            let status = error.into_response().status();
            problem(status, "Erreur du serveur", "Une erreur est survenue de notre côté ; elle a été enregistrée.")
        }
    }
}

/// The answer to an address that is no page.
pub async fn not_found() -> Response {
    refused(AppError::not_found("no such page"), &Uri::from_static("/"))
}

#[cfg(test)]
mod tests {
    /// Every route of the web router has its access rule and every page rule its route.
    #[test]
    fn every_page_has_an_access_rule() {
        crate::access::policy::check_rules_match_router(include_str!("mod.rs"), true);
    }
}
