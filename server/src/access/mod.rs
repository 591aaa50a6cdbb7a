//! Who is calling, and what they may do (CONTRACT §7).
//!
//! Authentication: a bearer token (`Authorization: Bearer prc_…`), the session cookie set by the
//! sign-in page, or the value of `PARCOURS_ADMIN_TOKEN`. Authorisation has two layers:
//! - by route: [`policy::RULES`] gives, for every route, the roles that may call it. The middleware
//!   [`enforce`] runs on every matched route and refuses a route that has no rule: a route whose
//!   author forgot to declare who may call it fails closed (403), it never opens;
//! - by person: for routes about one beneficiary, the handler asks [`Caller`] whether the caller
//!   may read or append that stream (`may_read`, [`Caller::author`]); appends are scoped inside
//!   the store's writer, against the stream as it is at the moment of writing.

pub mod policy;
pub mod sessions;
pub mod throttle;

use axum::extract::{FromRequestParts, MatchedPath, Request, State};
use axum::http::request::Parts;
use axum::http::{header, Method, Uri};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use parcours_core::store::access::token_hash;

pub use crate::app::caller::{Caller, ENV_ADMIN_ACTOR};
use crate::app::AppError;
use crate::state::AppState;
pub use sessions::{Session, Sessions, SESSION_COOKIE};

/// How a refused page answers (a sign-in redirect, a French page): the web's, handed in by the
/// router, so that access knows nothing of the pages.
pub type PageRefusal = fn(AppError, &Uri) -> Response;

/// What [`enforce`] needs: the state, and how to refuse a page.
#[derive(Clone)]
pub struct Gate {
    pub state: AppState,
    refuse_page: PageRefusal,
}

impl Gate {
    pub fn new(state: AppState, refuse_page: PageRefusal) -> Gate {
        Gate { state, refuse_page }
    }
}

/// Finds the caller of a request, if any credential is valid. Unknown, malformed and revoked
/// credentials all give `None`: the caller learns nothing from the difference.
pub fn authenticate(state: &AppState, parts: &Parts) -> Result<Option<Caller>, AppError> {
    if let Some(value) = parts.headers.get(header::AUTHORIZATION) {
        let Some(token) = value.to_str().ok().and_then(|value| value.strip_prefix("Bearer ")) else {
            return Ok(None);
        };
        return token_caller(state, token);
    }
    let Some(session) = sessions::cookie(&parts.headers).and_then(|id| state.sessions.get(&id)) else {
        return Ok(None);
    };
    let caller = if session.token_id == ENV_ADMIN_ACTOR {
        state.settings.admin_token_hash.map(|_| Caller::env_admin())
    } else {
        state.store.live_token(&session.token_id)?.map(|record| Caller::from_token(&record))
    };
    Ok(caller.map(|caller| Caller { csrf: Some(session.csrf), ..caller }))
}

/// The caller a token stands for (the environment's admin token included), if it is valid. The
/// sign-in page opens a session for `caller.actor`, the token's id.
pub fn token_caller(state: &AppState, token: &str) -> Result<Option<Caller>, AppError> {
    let token = token.trim();
    if state.settings.admin_token_hash.is_some_and(|hash| hash == token_hash(token)) {
        return Ok(Some(Caller::env_admin()));
    }
    Ok(state.store.authenticate(token)?.map(|record| Caller::from_token(&record)))
}

/// How often an open stream (server-sent events) checks its credential again: a revoked token,
/// or one whose role or structures changed, stops receiving within this time.
pub const RECHECK_INTERVAL: std::time::Duration = std::time::Duration::from_secs(1);

/// Whether the credential a caller was admitted with still admits the same caller: not revoked,
/// same role, same structures. Streams ask it every [`RECHECK_INTERVAL`].
pub fn still_admitted(state: &AppState, caller: &Caller) -> bool {
    if caller.actor.0 == ENV_ADMIN_ACTOR {
        return state.settings.admin_token_hash.is_some();
    }
    match state.store.live_token(&caller.actor.0) {
        Ok(Some(record)) => record.role == caller.role && record.structures == caller.structures,
        Ok(None) => false,
        Err(error) => {
            // Fail closed: a stream whose credential cannot be checked ends; the client reconnects.
            tracing::warn!(%error, "a stream's credential could not be checked again");
            false
        }
    }
}

/// Resolves once the caller's credential no longer admits them, checking every
/// [`RECHECK_INTERVAL`]; a stream selects on it beside its own work and ends with
/// [`revoked_event`].
pub async fn revoked(state: AppState, caller: Caller) {
    let mut ticks = tokio::time::interval(RECHECK_INTERVAL);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        if !still_admitted(&state, &caller) {
            return;
        }
    }
}

/// The last message of a stream whose credential stopped admitting its caller.
pub fn revoked_event() -> axum::response::sse::Event {
    axum::response::sse::Event::default().event("revoked").data("credential revoked or changed; sign in again")
}

/// The route layer that every matched route goes through; see the module documentation. Pages
/// are refused the web's way (the gate's [`PageRefusal`]): a sign-in redirect or a French page.
pub async fn enforce(State(gate): State<Gate>, request: Request, next: Next) -> Response {
    let state = &gate.state;
    let path = request.extensions().get::<MatchedPath>().map(MatchedPath::as_str).unwrap_or_default();
    let Some(rule) = policy::rule(request.method(), path) else {
        let allowed = policy::methods(path);
        if !allowed.is_empty() {
            // A method the route does not have (what fuzzers and scanners try): no flaw, no error.
            tracing::debug!(method = %request.method(), %path, "method not allowed");
            let allow = axum::http::HeaderValue::from_str(&allowed.join(", ")).ok();
            let message = format!("{} is not a method of {path}: {}", request.method(), allowed.join(", "));
            let body = serde_json::json!({ "error": "method_not_allowed", "message": message });
            let mut response = (axum::http::StatusCode::METHOD_NOT_ALLOWED, axum::Json(body)).into_response();
            if let Some(allow) = allow {
                response.headers_mut().insert(axum::http::header::ALLOW, allow);
            }
            return response;
        }
        tracing::error!(method = %request.method(), %path, "route without an access rule: refused");
        return AppError::Forbidden.into_response();
    };
    if rule.is_public() {
        return next.run(request).await;
    }
    // Where a page sends back to after sign-in: itself, if it can be opened again (a GET).
    let uri = if request.method() == Method::GET { request.uri().clone() } else { Uri::from_static("/") };
    match admit(state, rule, request).await {
        Ok(request) => next.run(request).await,
        Err(refusal) if rule.is_page() => (gate.refuse_page)(refusal, &uri),
        Err(refusal) => refusal.into_response(),
    }
}

/// Authenticates the request and checks the rule and, for cookie writes, the CSRF token; gives the
/// request back with its [`Caller`].
async fn admit(state: &AppState, rule: &policy::Rule, request: Request) -> Result<Request, AppError> {
    let (mut parts, body) = request.into_parts();
    let Some(caller) = authenticate(state, &parts)? else {
        return Err(AppError::Unauthorized);
    };
    if !rule.allows(caller.role) {
        return Err(AppError::Forbidden);
    }
    // A cookie travels with every request the browser makes: a write that came with one must
    // also carry the page's CSRF token, in a header (scripts) or in the form's `csrf` field.
    let mut body = body;
    if let Some(expected) = &caller.csrf {
        if !matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS) {
            let sent = parts.headers.get("x-csrf-token").and_then(|value| value.to_str().ok());
            if !sent.is_some_and(|sent| sessions::same_secret(sent, expected)) {
                let bytes = sessions::form_with_csrf(&parts, body, expected).await?;
                body = axum::body::Body::from(bytes);
            }
        }
    }
    parts.extensions.insert(caller);
    Ok(Request::from_parts(parts, body))
}

/// Handlers take the caller that [`enforce`] authenticated; a handler on a public route that asks
/// for one gets 401, never an anonymous caller.
impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts.extensions.get::<Caller>().cloned().ok_or(AppError::Unauthorized)
    }
}
