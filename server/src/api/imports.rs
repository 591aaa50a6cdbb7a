//! Spreadsheet import over HTTP (CONTRACT §9): a thin layer over `crate::import`, and the saved
//! mappings.

use axum::extract::multipart::MultipartRejection;
use axum::extract::{Multipart, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::error::JsonBody;
use super::{json_response, QueryOf};
use crate::app::import::{self, Mapping};
use crate::app::{AppError, Caller};
use crate::state::AppState;

pub use crate::app::import::IMPORT_BODY_MAX;

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ImportQuery {
    /// Checks everything and writes nothing.
    #[serde(default)]
    dry_run: bool,
    /// Imports the good rows even when some are bad.
    #[serde(default)]
    skip_bad_rows: bool,
}

/// The parts of an import request: the sheet and its mapping.
pub struct Upload {
    pub file: Vec<u8>,
    pub mapping: Mapping,
}

/// Reads the `file` and `mapping` parts of a multipart body.
pub async fn read_upload(mut multipart: Multipart) -> Result<Upload, AppError> {
    let (mut file, mut mapping) = (None, None);
    while let Some(field) =
        multipart.next_field().await.map_err(|error| AppError::InvalidRequest(format!("multipart body: {error}")))?
    {
        let name = field.name().unwrap_or("").to_owned();
        let bytes = field
            .bytes()
            .await
            .map_err(|error| AppError::InvalidRequest(format!("multipart part `{name}`: {error}")))?;
        match name.as_str() {
            "file" => file = Some(bytes.to_vec()),
            "mapping" => mapping = Some(Mapping::from_json(&bytes)?),
            other => {
                return Err(AppError::InvalidRequest(format!(
                    "unknown multipart part `{other}` (expected `file` and `mapping`)"
                )))
            }
        }
    }
    let file = file.ok_or_else(|| AppError::InvalidRequest("the multipart part `file` is missing".into()))?;
    let mapping = mapping.ok_or_else(|| AppError::InvalidRequest("the multipart part `mapping` is missing".into()))?;
    Ok(Upload { file, mapping })
}

/// Imports a sheet (multipart parts `file` and `mapping`); `dry_run=true` writes nothing.
#[utoipa::path(post, path = "/api/imports", params(ImportQuery), tag = "import",
    responses((status = 200, description = "`{ rows, people_new, people_existing, events_new, events_already_there, errors, preview }`"),
        (status = 400, description = "unreadable file or mapping (named, in French)", body = super::openapi::ErrorBody),
        (status = 401, description = "no valid credential", body = super::openapi::ErrorBody),
        (status = 403, description = "outside the credential's rights", body = super::openapi::ErrorBody),
        (status = 413, description = "payload too large", body = super::openapi::ErrorBody),
        (status = 422, description = "`import_rejected`: bad rows, nothing written", body = super::openapi::ErrorBody)))]
pub async fn import(
    State(state): State<AppState>,
    caller: Caller,
    QueryOf(query): QueryOf<ImportQuery>,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Response, AppError> {
    // Without this, axum answers a body that is not multipart in plain text, outside the contract's
    // JSON errors (schemathesis found it).
    let multipart = multipart.map_err(|rejection| AppError::InvalidRequest(format!("multipart body: {rejection}")))?;
    let upload = read_upload(multipart).await?;
    let report =
        import::import_sheet(&state, &caller, upload.file, upload.mapping, query.dry_run, query.skip_bad_rows).await?;
    if !query.dry_run && !query.skip_bad_rows && report.errors_total > 0 {
        let mut body = serde_json::to_value(&report)?;
        if let Value::Object(object) = &mut body {
            object.insert("error".into(), "import_rejected".into());
            let message = format!("{} ligne(s) refusée(s) : rien n'a été enregistré", report.errors_total);
            object.insert("message".into(), message.into());
        }
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, Json(body)).into_response());
    }
    Ok(json_response(serde_json::to_vec(&report)?))
}

#[derive(Serialize)]
struct MappingJson {
    name: String,
    structure: String,
    mapping: Value,
}

/// Saves a mapping under a name (an admin, or a coordinator for one of its structures).
#[utoipa::path(put, path = "/api/import-mappings/{name}", params(("name" = String, Path)), tag = "import",
    responses((status = 200, description = "Saved"),
        (status = 400, description = "malformed mapping (named)", body = super::openapi::ErrorBody),
        (status = 401, description = "no valid credential", body = super::openapi::ErrorBody),
        (status = 403, description = "outside the credential's rights", body = super::openapi::ErrorBody)))]
pub async fn put_mapping(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
    JsonBody(body): JsonBody<Value>,
) -> Result<Response, AppError> {
    let mapping = Mapping::from_json(&serde_json::to_vec(&body)?)?;
    import::save_mapping(&state, &caller, name, mapping).await?;
    Ok(json_response(b"{\"saved\":true}".to_vec()))
}

/// The saved mappings the caller may use.
#[utoipa::path(get, path = "/api/import-mappings", tag = "import",
    responses((status = 200, description = "`{ mappings: [ { name, structure, mapping } ] }`"),
        (status = 401, description = "no valid credential", body = super::openapi::ErrorBody),
        (status = 403, description = "outside the credential's rights", body = super::openapi::ErrorBody)))]
pub async fn list_mappings(State(state): State<AppState>, caller: Caller) -> Result<Response, AppError> {
    let mappings = import::saved_mappings(&state, &caller).await?;
    let mappings: Vec<MappingJson> = mappings
        .into_iter()
        .map(|(name, mapping)| MappingJson {
            name,
            structure: mapping.structure.to_string(),
            mapping: serde_json::to_value(&mapping).unwrap_or(Value::Null),
        })
        .collect();
    Ok(json_response(serde_json::to_vec(&serde_json::json!({ "mappings": mappings }))?))
}
