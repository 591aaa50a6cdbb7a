//! Structures (CONTRACT §5): each recorded by an admin as `structure_updated` events in the
//! structure's own stream; the latest states the whole structure, agreed hours included.

use std::collections::BTreeMap;

use parcours_core::store::Appended;
use parcours_core::vocabulary::{Hours, NewEvent, Slug, Step, StreamId, StructureKind, StructureUpdated};
use parcours_projections::StructureRecord;

use super::streams::append;
use super::{blocking, AppError, Caller};
use crate::state::AppState;

/// The longest structure name accepted.
const NAME_MAX_CHARS: usize = 200;

/// A structure's record, once its name and years are plausible.
pub fn structure_step(
    slug: Slug,
    name: &str,
    kind: StructureKind,
    agreed_hours: BTreeMap<u16, Hours>,
) -> Result<Step, AppError> {
    let name = name.trim().to_owned();
    if name.is_empty() || name.chars().count() > NAME_MAX_CHARS {
        return Err(AppError::InvalidRequest(format!("name: expected 1 to {NAME_MAX_CHARS} characters")));
    }
    if let Some(year) = agreed_hours.keys().find(|year| !(1900..=2200).contains(*year)) {
        return Err(AppError::InvalidRequest(format!("agreed_hours: {year} is not a plausible year")));
    }
    Ok(Step::StructureUpdated(StructureUpdated { slug, name, kind, agreed_hours }))
}

/// Records a structure's step (see [`structure_step`]) in its own stream, dated today.
pub async fn record(state: &AppState, caller: &Caller, slug: &Slug, step: Step) -> Result<Appended, AppError> {
    let event = NewEvent { id: None, occurred_on: state.today(), step };
    append(state, caller, StreamId::of_structure(slug.as_str()), None, vec![event]).await
}

/// The structures, as their latest records state them.
pub async fn list(state: &AppState) -> Result<Vec<StructureRecord>, AppError> {
    state.caught_up().await?;
    let state = state.clone();
    blocking(move || Ok(state.projections.read().structures().cloned().collect())).await
}
