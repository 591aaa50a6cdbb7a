//! Sessions of the web application: the sign-in page trades a token for a session cookie
//! (HttpOnly, SameSite=Strict), whose CSRF token every form that writes must send back.
//!
//! Sessions live in memory: a restart signs everyone out, which costs a sign-in and keeps no
//! session secret on disk. A session names its token's id, and the token is looked up on every
//! request, so revoking a token ends its sessions at once.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap};
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::app::AppError;

pub const SESSION_COOKIE: &str = "parcours_session";

/// How long a session lasts after sign-in: a working day.
pub const SESSION_LIFETIME: Duration = Duration::from_secs(12 * 3600);

/// The largest form body read to find its CSRF token; forms are small.
const FORM_BYTES_MAX: usize = 256 * 1024;
/// The largest file form (the import page's sheet), as the API's own import route takes.
const FILE_FORM_BYTES_MAX: usize = crate::app::import::IMPORT_BODY_MAX;

#[derive(Clone, Debug)]
pub struct Session {
    pub token_id: String,
    pub csrf: String,
    expires: Instant,
}

/// Live sessions, keyed by the SHA-256 of the cookie's value (the value itself is not kept).
#[derive(Default)]
pub struct Sessions {
    sessions: Mutex<HashMap<[u8; 32], Session>>,
}

fn random_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    hex::encode(bytes)
}

fn key(id: &str) -> [u8; 32] {
    Sha256::digest(id.as_bytes()).into()
}

/// Compares two secrets without leaking, through timing, how much of them matched.
pub fn same_secret(a: &str, b: &str) -> bool {
    key(a) == key(b)
}

impl Sessions {
    /// Opens a session for a token's id; returns the cookie value.
    pub fn open(&self, token_id: String) -> (String, Session) {
        let id = random_secret();
        let session = Session { token_id, csrf: random_secret(), expires: Instant::now() + SESSION_LIFETIME };
        let mut sessions = self.sessions.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let now = Instant::now();
        sessions.retain(|_, session| session.expires > now);
        sessions.insert(key(&id), session.clone());
        (id, session)
    }

    pub fn get(&self, id: &str) -> Option<Session> {
        let sessions = self.sessions.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        sessions.get(&key(id)).filter(|session| session.expires > Instant::now()).cloned()
    }

    pub fn close(&self, id: &str) {
        self.sessions.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).remove(&key(id));
    }
}

/// The session cookie's value, if the request has one.
pub fn cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, value)| value.to_owned())
}

/// The `Set-Cookie` value that opens a session, and the one that ends it.
pub fn set_cookie(id: &str) -> String {
    format!("{SESSION_COOKIE}={id}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}", SESSION_LIFETIME.as_secs())
}

pub fn clear_cookie() -> String {
    format!("{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0")
}

/// Reads a form body (URL-encoded, or a file form in `multipart/form-data`) and checks that its
/// `csrf` field is the session's; gives the body back for the handler. Anything else (another
/// content type, a missing or wrong token) is refused.
pub async fn form_with_csrf(parts: &Parts, body: Body, expected: &str) -> Result<Bytes, AppError> {
    let content_type = parts.headers.get(header::CONTENT_TYPE).and_then(|value| value.to_str().ok()).unwrap_or("");
    let too_large = |_| AppError::PayloadTooLarge("le formulaire est trop volumineux".into());
    let valid = if content_type.starts_with("application/x-www-form-urlencoded") {
        let bytes = axum::body::to_bytes(body, FORM_BYTES_MAX).await.map_err(too_large)?;
        let valid = form_urlencoded::parse(&bytes).any(|(name, value)| name == "csrf" && same_secret(&value, expected));
        valid.then_some(bytes)
    } else if let Ok(boundary) = multer::parse_boundary(content_type) {
        let bytes = axum::body::to_bytes(body, FILE_FORM_BYTES_MAX).await.map_err(too_large)?;
        multipart_csrf(bytes.clone(), boundary).await.is_some_and(|sent| same_secret(&sent, expected)).then_some(bytes)
    } else {
        None
    };
    valid.ok_or(AppError::Forbidden)
}

/// The `csrf` field of a file form; the page puts it first, so the file is not read for it.
async fn multipart_csrf(bytes: Bytes, boundary: String) -> Option<String> {
    let stream = futures_util::stream::once(async move { Ok::<Bytes, std::convert::Infallible>(bytes) });
    let mut multipart = multer::Multipart::new(stream, boundary);
    while let Ok(Some(field)) = multipart.next_field().await {
        if field.name() == Some("csrf") {
            return field.text().await.ok();
        }
    }
    None
}

/// Whether a form was sent from a page of this site, the check Go's `http.CrossOriginProtection`
/// makes: the browser's `Sec-Fetch-Site` must say `same-origin` (or `none`: typed in, bookmarked);
/// without it, an `Origin` must name this host; without either the request is no browser's (every
/// current browser sends `Origin` with a form posted from another site), and there is no
/// ambient credential to abuse. The sign-in form has no session yet, so no session's token: a
/// page elsewhere that posted a token of its own would sign the victim into the attacker's
/// account (login CSRF), whose actions the victim would then take for theirs.
pub fn same_origin(headers: &HeaderMap) -> bool {
    let header = |name: header::HeaderName| headers.get(name).and_then(|value| value.to_str().ok());
    if let Some(site) = header(header::HeaderName::from_static("sec-fetch-site")) {
        return matches!(site, "same-origin" | "none");
    }
    match header(header::ORIGIN) {
        Some(origin) => {
            let host = origin.split_once("://").map(|(_, host)| host);
            host.is_some() && host == header(header::HOST)
        }
        None => true,
    }
}

#[cfg(test)]
mod tests {
    use axum::http::{HeaderMap, HeaderValue};

    use super::same_origin;

    /// (Sec-Fetch-Site, Origin, accepted), the host being `parcours.example`.
    #[test]
    fn a_form_is_accepted_from_this_site_only() {
        let table = [
            (Some("same-origin"), Some("https://parcours.example"), true),
            (Some("none"), None, true),
            (Some("cross-site"), Some("https://evil.example"), false),
            (Some("same-site"), Some("https://autre.parcours.example"), false),
            (Some("cross-site"), Some("https://parcours.example"), false),
            (None, Some("https://parcours.example"), true),
            (None, Some("http://parcours.example"), true),
            (None, Some("https://evil.example"), false),
            (None, Some("null"), false),
            (None, None, true),
        ];
        for (site, origin, accepted) in table {
            let mut headers = HeaderMap::new();
            headers.insert("host", HeaderValue::from_static("parcours.example"));
            if let Some(site) = site {
                headers.insert("sec-fetch-site", HeaderValue::from_static(site));
            }
            if let Some(origin) = origin {
                headers.insert("origin", HeaderValue::from_static(origin));
            }
            assert_eq!(same_origin(&headers), accepted, "{site:?} {origin:?}");
        }
    }
}
