//! The import as a caller asks it (the API and the web page alike): who may import into which
//! structure, and the saved mappings each caller may use.

use parcours_core::store::access::Role;

use super::{ImportError, ImportOptions, ImportReport, Mapping, Source};
use crate::app::{blocking, AppError, Caller};
use crate::state::AppState;

impl From<ImportError> for AppError {
    fn from(error: ImportError) -> Self {
        match error {
            ImportError::Mapping(message) | ImportError::Sheet(message) => AppError::InvalidRequest(message),
            ImportError::Store(error) => AppError::Store(error),
        }
    }
}

/// An admin imports into any structure, a coordinator into its own only.
fn may_import(caller: &Caller, mapping: &Mapping) -> bool {
    caller.role == Role::Admin || caller.role == Role::Coordinator && caller.structures.contains(&mapping.structure)
}

/// Imports a sheet for a caller; `dry_run` checks everything and writes nothing.
pub async fn import_sheet(
    state: &AppState,
    caller: &Caller,
    file: Vec<u8>,
    mapping: Mapping,
    dry_run: bool,
    skip_bad_rows: bool,
) -> Result<ImportReport, AppError> {
    if !may_import(caller, &mapping) {
        return Err(AppError::Forbidden);
    }
    let state = state.clone();
    let author = caller.author();
    let options = ImportOptions { dry_run, skip_bad_rows, today: state.today() };
    blocking(move || {
        let source = Source::Bytes(file.into());
        Ok(super::run(&state.store, &author, &source, &mapping, &options, &mut |_| {})?)
    })
    .await
}

/// Saves a mapping under a name (an admin, or a coordinator for one of its structures).
pub async fn save_mapping(state: &AppState, caller: &Caller, name: String, mapping: Mapping) -> Result<(), AppError> {
    check_name(&name)?;
    if !may_import(caller, &mapping) {
        return Err(AppError::Forbidden);
    }
    let json = serde_json::to_vec(&mapping)?;
    let state = state.clone();
    blocking(move || Ok(state.store.save_import_mapping(&name, &mapping.structure, &json)?)).await
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

/// The saved mappings the caller may use, by name: all for an admin, those of its structures for a
/// coordinator. A mapping saved by an older version that no longer reads is left out.
pub async fn saved_mappings(state: &AppState, caller: &Caller) -> Result<Vec<(String, Mapping)>, AppError> {
    let (state, caller) = (state.clone(), caller.clone());
    blocking(move || {
        let mut mappings = Vec::new();
        for saved in state.store.import_mappings()? {
            if let Ok(mapping) = Mapping::from_json(&saved.json) {
                if may_import(&caller, &mapping) {
                    mappings.push((saved.name, mapping));
                }
            }
        }
        Ok(mappings)
    })
    .await
}
