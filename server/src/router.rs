//! The whole HTTP application, composed in this one place: the API's routes and the web pages,
//! each behind `access::enforce`, with the layers every answer gets. Neither `api` nor `access`
//! knows the pages: the web's way of refusing a page is handed to `access` here. Tests drive
//! [`router`] in process; the binary serves the same thing.

use axum::extract::{DefaultBodyLimit, MatchedPath};
use axum::http::{header, HeaderValue, Request, Uri};
use axum::response::Response;
use axum::Router;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

use crate::access::Gate;
use crate::state::AppState;
use crate::{api, web};

pub fn router(state: AppState) -> Router {
    let body_limit = state.settings.body_limit;
    let gate = Gate::new(state.clone(), web::refused);
    api::routes(gate.clone())
        .merge(web::router(gate))
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(body_limit))
        // Answers are about people and change with every step: never cached unless a route says
        // otherwise (static files), never sniffed into another type.
        .layer(SetResponseHeaderLayer::if_not_present(header::CACHE_CONTROL, HeaderValue::from_static("no-store")))
        .layer(SetResponseHeaderLayer::overriding(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")))
        .layer(TraceLayer::new_for_http().make_span_with(request_span))
        .with_state(state)
}

/// The span of a request names its route as declared (`/api/beneficiaries/{id}`), never the
/// address asked: a query string carries names searched for (`?q=`) and a path carries people's
/// ids, and logs are kept longer and read more widely than the data (CONTRACT §7).
fn request_span(request: &Request<axum::body::Body>) -> tracing::Span {
    let route = request.extensions().get::<MatchedPath>().map_or("unmatched", MatchedPath::as_str);
    tracing::debug_span!("request", method = %request.method(), route)
}

/// Unknown addresses: the API's JSON error under `/api`, a French page elsewhere.
async fn not_found(uri: Uri) -> Response {
    if uri.path().starts_with("/api/") {
        api::not_found()
    } else {
        web::not_found().await
    }
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::http::{header, Request, StatusCode};
    use parcours_core::store::{Store, StoreOptions};
    use sha2::{Digest, Sha256};
    use tower::ServiceExt;

    use super::router;
    use crate::metrics::Metrics;
    use crate::state::{AppState, Settings};

    /// Every costly route, with a question each answers once a permit is free.
    const COSTLY: &[&str] = &[
        "/api/stats/outcomes?from=2024-01-01&to=2024-12-31",
        "/api/stats/entries?from=2024-01-01&to=2024-12-31",
        "/api/reports/activity?structure=aci-agen&from=2024-01-01&to=2024-12-31",
        "/api/reports/activity/list?structure=aci-agen&from=2024-01-01&to=2024-12-31&figure=people.followed",
        "/api/beneficiaries?q=awa",
        "/api/beneficiaries",
        "/api/export",
        "/api/export/parquet",
    ];

    /// With the server's one permit for costly requests taken, each costly route answers 503 with
    /// `Retry-After` within a moment rather than queueing; once it is given back, they answer.
    #[tokio::test(flavor = "multi_thread")]
    async fn a_costly_request_past_the_limit_is_answered_503_with_retry_after() {
        let dir = tempfile::tempdir().expect("a directory");
        let store = Store::open(dir.path(), StoreOptions::default()).expect("a store");
        let admin_token_hash = Some(Sha256::digest(b"prc_admin_for_this_test").into());
        let settings = Settings { admin_token_hash, costly_requests: 1, ..Settings::default() };
        let state = AppState::new(store, settings, Metrics::new()).expect("the state");
        let app = router(state.clone());
        let ask = |path: &str| {
            Request::get(path)
                .header(header::AUTHORIZATION, "Bearer prc_admin_for_this_test")
                .body(Body::empty())
                .expect("a request")
        };
        let held = state.costly().await.expect("the one permit");
        for path in COSTLY {
            let answer = app.clone().oneshot(ask(path)).await.expect("an answer");
            assert_eq!(answer.status(), StatusCode::SERVICE_UNAVAILABLE, "{path}");
            assert_eq!(answer.headers().get(header::RETRY_AFTER).map(|value| value.as_bytes()), Some(&b"1"[..]));
        }
        assert_eq!(app.clone().oneshot(ask("/healthz")).await.expect("an answer").status(), StatusCode::OK);
        drop(held);
        for path in COSTLY {
            let answer = app.clone().oneshot(ask(path)).await.expect("an answer");
            // The report of a structure nobody recorded is a 404: answered, not refused for load.
            assert!(matches!(answer.status(), StatusCode::OK | StatusCode::NOT_FOUND), "{path}: {}", answer.status());
        }
    }

    /// A method a route does not have is a 405 naming the ones it has, not a refusal logged as a
    /// missing access rule (schemathesis sent `PATCH /api/beneficiaries` and the like).
    #[tokio::test(flavor = "multi_thread")]
    async fn a_method_a_route_does_not_have_is_405_with_the_ones_it_has() {
        let dir = tempfile::tempdir().expect("a directory");
        let store = Store::open(dir.path(), StoreOptions::default()).expect("a store");
        let state = AppState::new(store, Settings::default(), Metrics::new()).expect("the state");
        let request = Request::patch("/api/beneficiaries").body(Body::empty()).expect("a request");
        let answer = router(state).oneshot(request).await.expect("an answer");
        assert_eq!(answer.status(), StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(answer.headers().get(header::ALLOW).map(|value| value.as_bytes()), Some(&b"GET, POST"[..]));
    }
}
