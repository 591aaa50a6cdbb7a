//! Spreadsheet import over HTTP (CONTRACT §9): a thin layer over `crate::import`, and the saved
//! mappings.

use axum::extract::{Multipart, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use parcours_core::store::access::Role;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::error::JsonBody;
use super::{json_response, QueryOf};
use crate::app::import::{self, ImportError, ImportOptions, ImportReport, Mapping, Source};
use crate::app::{blocking, AppError, Caller};
use crate::state::AppState;

/// The largest sheet accepted over HTTP (the route's own body limit). A 100,000-row CSV of
/// contracts is about 15 MiB; the command line reads files of any size from disk.
pub const IMPORT_BODY_MAX: usize = 64 * 1024 * 1024;

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

impl From<ImportError> for AppError {
    fn from(error: ImportError) -> Self {
        match error {
            ImportError::Mapping(message) | ImportError::Sheet(message) => AppError::InvalidRequest(message),
            ImportError::Store(error) => AppError::Store(error),
        }
    }
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

/// Runs an import for a caller: an admin, or a coordinator into one of its structures.
pub async fn run_import(
    state: &AppState,
    caller: &Caller,
    upload: Upload,
    dry_run: bool,
    skip_bad_rows: bool,
) -> Result<ImportReport, AppError> {
    if caller.role != Role::Admin && !caller.structures.contains(&upload.mapping.structure) {
        return Err(AppError::Forbidden);
    }
    let state = state.clone();
    let author = caller.author();
    let options = ImportOptions { dry_run, skip_bad_rows, today: state.today() };
    blocking(move || {
        let source = Source::Bytes(upload.file.into());
        Ok(import::run(&state.store, &author, &source, &upload.mapping, &options, &mut |_| {})?)
    })
    .await
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
    multipart: Multipart,
) -> Result<Response, AppError> {
    let upload = read_upload(multipart).await?;
    let report = run_import(&state, &caller, upload, query.dry_run, query.skip_bad_rows).await?;
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

/// Mapping names: short, printable, usable in a path.
fn check_name(name: &str) -> Result<(), AppError> {
    let valid = !name.is_empty()
        && name.len() <= 64
        && name.chars().all(|character| character.is_alphanumeric() || matches!(character, '-' | '_' | '.'));
    if valid {
        Ok(())
    } else {
        Err(AppError::InvalidRequest(format!(
            "`{name}` is not a mapping name: 1 to 64 letters, digits, `-`, `_` or `.`"
        )))
    }
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
    check_name(&name)?;
    let mapping = Mapping::from_json(&serde_json::to_vec(&body)?)?;
    if caller.role != Role::Admin && !caller.structures.contains(&mapping.structure) {
        return Err(AppError::Forbidden);
    }
    let json = serde_json::to_vec(&mapping)?;
    blocking(move || Ok(state.store.save_import_mapping(&name, &mapping.structure, &json)?)).await?;
    Ok(json_response(b"{\"saved\":true}".to_vec()))
}

/// The saved mappings the caller may use: all for an admin, those of its structures for a coordinator.
pub fn mappings_for(state: &AppState, caller: &Caller) -> Result<Vec<(String, Mapping)>, AppError> {
    let mut mappings = Vec::new();
    for saved in state.store.import_mappings()? {
        if caller.role != Role::Admin && !caller.structures.contains(&saved.structure) {
            continue;
        }
        if let Ok(mapping) = Mapping::from_json(&saved.json) {
            mappings.push((saved.name, mapping));
        }
    }
    Ok(mappings)
}

/// The saved mappings the caller may use.
#[utoipa::path(get, path = "/api/import-mappings", tag = "import",
    responses((status = 200, description = "`{ mappings: [ { name, structure, mapping } ] }`"),
        (status = 401, description = "no valid credential", body = super::openapi::ErrorBody),
        (status = 403, description = "outside the credential's rights", body = super::openapi::ErrorBody)))]
pub async fn list_mappings(State(state): State<AppState>, caller: Caller) -> Result<Response, AppError> {
    let body = blocking(move || {
        let mappings: Vec<MappingJson> = mappings_for(&state, &caller)?
            .into_iter()
            .map(|(name, mapping)| MappingJson {
                name,
                structure: mapping.structure.to_string(),
                mapping: serde_json::to_value(&mapping).unwrap_or(Value::Null),
            })
            .collect();
        Ok(serde_json::to_vec(&serde_json::json!({ "mappings": mappings }))?)
    })
    .await?;
    Ok(json_response(body))
}
