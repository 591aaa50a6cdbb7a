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
