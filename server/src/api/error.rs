//! The one place where the application's errors become HTTP answers: `{ "error": code,
//! "message": sentence, ... }` (CONTRACT §5). Causes of server-side failures are logged, never
//! shown.

use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use parcours_core::store::{AppendError, StoreError};
use serde::de::DeserializeOwned;
use serde_json::{json, Map, Value};

use crate::app::AppError;

fn body(code: &str, message: String, extra: Value) -> Value {
    let mut object = Map::new();
    object.insert("error".into(), code.into());
    object.insert("message".into(), message.into());
    if let Value::Object(extra) = extra {
        object.extend(extra);
    }
    Value::Object(object)
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let (status, body) = match self {
            AppError::InvalidRequest(message) => (StatusCode::BAD_REQUEST, body("invalid_request", message, json!({}))),
            AppError::NotFound(message) => (StatusCode::NOT_FOUND, body("not_found", message, json!({}))),
            AppError::PayloadTooLarge(message) => {
                (StatusCode::PAYLOAD_TOO_LARGE, body("payload_too_large", message, json!({})))
            }
            AppError::Unauthorized => (
                StatusCode::UNAUTHORIZED,
                body("unauthorized", "a valid credential is needed: Authorization: Bearer <token>".into(), json!({})),
            ),
            AppError::Forbidden => (
                StatusCode::FORBIDDEN,
                body("forbidden", "this credential does not give access to this".into(), json!({})),
            ),
            AppError::Unavailable(message) => {
                let response = (StatusCode::SERVICE_UNAVAILABLE, Json(body("unavailable", message, json!({}))));
                return ([(axum::http::header::RETRY_AFTER, "1")], response).into_response();
            }
            AppError::NotReproducible(message) => {
                tracing::error!(%message, "a published report cannot be reproduced");
                (StatusCode::INTERNAL_SERVER_ERROR, body("not_reproducible", message, json!({})))
            }
            AppError::Append(error) => return append_error(error),
            AppError::Store(error) => return store_error(error),
        };
        (status, Json(body)).into_response()
    }
}

fn append_error(error: AppendError) -> Response {
    let message = error.to_string();
    let (status, body) = match error {
        AppendError::VersionConflict { expected, actual } => {
            (StatusCode::CONFLICT, body("version_conflict", message, json!({ "expected": expected, "actual": actual })))
        }
        AppendError::DuplicateId(id) => (StatusCode::CONFLICT, body("duplicate_id", message, json!({ "id": id }))),
        AppendError::Rule { index, violation } => (
            StatusCode::UNPROCESSABLE_ENTITY,
            body("rule_violation", violation.to_string(), json!({ "rule": violation.rule(), "index": index })),
        ),
        AppendError::IdentityErased { index } => (
            StatusCode::UNPROCESSABLE_ENTITY,
            body(
                "rule_violation",
                "les données personnelles de cette personne ont été effacées : elles ne peuvent plus être enregistrées"
                    .into(),
                json!({ "rule": "identity_erased", "index": index }),
            ),
        ),
        AppendError::Forbidden => return AppError::Forbidden.into_response(),
        AppendError::NoEvents => (StatusCode::BAD_REQUEST, body("invalid_request", message, json!({}))),
        AppendError::TooManyEvents { .. } | AppendError::EventTooLarge { .. } => {
            (StatusCode::PAYLOAD_TOO_LARGE, body("payload_too_large", message, json!({})))
        }
        AppendError::Store(error) => return store_error(error),
    };
    (status, Json(body)).into_response()
}

fn store_error(error: StoreError) -> Response {
    tracing::error!(%error, "store error");
    let (status, code, message) = match error {
        StoreError::Poisoned | StoreError::Closed => (
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "the store is not accepting writes; the server must be restarted",
        ),
        _ => (StatusCode::INTERNAL_SERVER_ERROR, "internal", "an internal error occurred; it has been logged"),
    };
    (status, Json(body(code, message.into(), json!({})))).into_response()
}

/// A JSON body read with our own errors: malformed JSON and unknown fields give 400
/// `invalid_request` naming the field, an oversized body 413 `payload_too_large`.
pub struct JsonBody<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = AppError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = axum::body::Bytes::from_request(request, state).await.map_err(|rejection| match rejection {
            BytesRejection::FailedToBufferBody(_) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                AppError::PayloadTooLarge("the request body is larger than the server accepts".into())
            }
            other => AppError::InvalidRequest(format!("the request body could not be read: {other}")),
        })?;
        if bytes.is_empty() {
            return Err(AppError::InvalidRequest("the request needs a JSON body".into()));
        }
        Ok(JsonBody(crate::json::from_body(&bytes)?))
    }
}
