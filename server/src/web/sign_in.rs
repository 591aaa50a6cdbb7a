//! Connexion: a token (printed by `parcours token create`, or by `serve --demo`) is traded for a
//! session cookie (see `access::sessions`); Déconnexion ends the session.

use std::time::Instant;

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;
use serde::Deserialize;

use super::forms::Values;
use super::layout::{document, Html, Section};
use super::PageError;
use crate::access::throttle::ClientAddress;
use crate::access::{self, sessions};
use crate::state::AppState;

#[derive(Deserialize)]
pub struct Next {
    /// The page to open once signed in (set when a page sent the person here).
    suite: Option<String>,
}

/// Only a path of this site: a sign-in link must not be able to send anyone elsewhere.
fn local(target: Option<&str>) -> &str {
    target
        .filter(|target| {
            target.starts_with('/')
                && !target.starts_with("//")
                && !target.contains('\\')
                // Browsers drop tabs and line breaks inside URLs ("/\t/x" is "//x", elsewhere).
                && !target.chars().any(char::is_control)
        })
        .unwrap_or("/")
}

pub async fn form(Query(next): Query<Next>) -> Html {
    sign_in_page(StatusCode::OK, local(next.suite.as_deref()), None)
}

fn sign_in_page(status: StatusCode, next: &str, error: Option<&str>) -> Html {
    let main = html! {
        p { "Saisissez le jeton d'accès qui vous a été remis. Il ouvre une session d'une journée sur cet appareil." }
        form.formulaire.etroit method="post" action="/connexion" novalidate {
            input type="hidden" name="suite" value=(next);
            div.champ.en-erreur[error.is_some()] {
                label for="jeton" { "Jeton d'accès" }
                input #jeton type="password" name="jeton" autocomplete="off" required
                    aria-invalid=[error.map(|_| "true")] aria-describedby=[error.map(|_| "jeton-erreur")]
                    autofocus;
                @if let Some(error) = error { p.message-erreur #jeton-erreur { (error) } }
            }
            button type="submit" { "Se connecter" }
        }
    };
    Html(status, document(None, Section::None, "Connexion", main))
}

pub async fn sign_in(
    State(state): State<AppState>,
    ClientAddress(client): ClientAddress,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, PageError> {
    let values = Values::parse(&body);
    let next = local(Some(values.get("suite"))).to_owned();
    if !sessions::same_origin(&headers) {
        let error = "Cette demande de connexion ne vient pas de la page de connexion de ce site : elle est refusée.";
        return Ok(sign_in_page(StatusCode::FORBIDDEN, &next, Some(error)).into_response());
    }
    if let Err(wait) = state.sign_ins.attempt(client, Instant::now()) {
        let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
        let error = format!("Trop de tentatives de connexion depuis cet appareil : réessayez dans {seconds} secondes.");
        let page = sign_in_page(StatusCode::TOO_MANY_REQUESTS, &next, Some(&error));
        return Ok(([(header::RETRY_AFTER, seconds.to_string())], page).into_response());
    }
    let token = values.get("jeton");
    if token.is_empty() {
        return Ok(sign_in_page(StatusCode::UNPROCESSABLE_ENTITY, &next, Some("Saisissez votre jeton d'accès."))
            .into_response());
    }
    let Some(caller) = access::token_caller(&state, token)? else {
        let error = "Ce jeton n'est pas valide : il est mal recopié, inconnu ou révoqué.";
        return Ok(sign_in_page(StatusCode::UNAUTHORIZED, &next, Some(error)).into_response());
    };
    let (cookie, _) = state.sessions.open(caller.actor.0);
    Ok(([(header::SET_COOKIE, sessions::set_cookie(&cookie))], Redirect::to(&next)).into_response())
}

pub async fn sign_out(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Some(cookie) = sessions::cookie(&headers) {
        state.sessions.close(&cookie);
    }
    ([(header::SET_COOKIE, sessions::clear_cookie())], Redirect::to("/connexion")).into_response()
}

#[cfg(test)]
mod tests {
    use super::local;

    #[test]
    fn sign_in_only_sends_back_to_this_site() {
        assert_eq!(local(Some("/beneficiaires?q=awa")), "/beneficiaires?q=awa");
        for elsewhere in ["https://example.org/", "//example.org/", "/\\example.org", "", "javascript:alert(1)"] {
            assert_eq!(local(Some(elsewhere)), "/", "{elsewhere}");
        }
        assert_eq!(local(None), "/");
    }

    /// Browsers drop tabs and line breaks from a URL: "/\t/example.org" would be "//example.org",
    /// another site; a control character in a header is a response split.
    #[test]
    fn sign_in_refuses_a_path_with_control_characters() {
        for hostile in ["/\t/example.org", "/\n/example.org", "/\r\nSet-Cookie: x=1", "/page\u{7f}", "/\u{0}"] {
            assert_eq!(local(Some(hostile)), "/", "{hostile:?}");
        }
    }
}
