//! The stylesheet and the script of the pages, built into the binary: the server needs no files
//! beside it and no build step. Their URLs carry a hash of their content, so browsers may keep
//! them for a year and still get a new version the moment it changes.

use std::sync::LazyLock;

use axum::extract::Path;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

pub struct Asset {
    /// The name without its hash: `app.css` is served as `/static/app.<hash>.css`.
    name: &'static str,
    content_type: &'static str,
    body: &'static str,
}

pub const STYLESHEET: &Asset =
    &Asset { name: "app.css", content_type: "text/css; charset=utf-8", body: include_str!("static/app.css") };
pub const SCRIPT: &Asset =
    &Asset { name: "app.js", content_type: "text/javascript; charset=utf-8", body: include_str!("static/app.js") };
const ASSETS: [&Asset; 2] = [STYLESHEET, SCRIPT];

/// Each asset's file name with its hash, computed once.
static HASHED: LazyLock<Vec<(String, &'static Asset)>> = LazyLock::new(|| {
    ASSETS
        .iter()
        .map(|asset| {
            let hash = hex::encode(&Sha256::digest(asset.body.as_bytes())[..6]);
            let (stem, extension) = asset.name.rsplit_once('.').unwrap_or((asset.name, ""));
            (format!("{stem}.{hash}.{extension}"), *asset)
        })
        .collect()
});

/// Where a page links to an asset.
pub fn url(asset: &Asset) -> String {
    let name = HASHED.iter().find(|(_, known)| known.name == asset.name).map_or(asset.name, |(name, _)| name);
    format!("/static/{name}")
}

pub async fn serve(Path(file): Path<String>) -> Response {
    let Some((_, asset)) = HASHED.iter().find(|(name, _)| *name == file) else {
        return (StatusCode::NOT_FOUND, "no such file").into_response();
    };
    let mut response = asset.body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(asset.content_type));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=31536000, immutable"));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    response
}
