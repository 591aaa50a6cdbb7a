//! Structures (CONTRACT §5): each recorded by an admin as `structure_updated` events in the
//! structure's own stream; the latest states the whole structure, agreed hours included.

use std::collections::BTreeMap;

use parcours_core::store::Appended;
use parcours_core::vocabulary::{
    FullTimeEquivalents, Funder, Hours, NewEvent, Slug, Step, StreamId, StructureKind, StructureUpdated,
};
use parcours_projections::{Projections, StructureRecord};

use super::streams::append;
use super::{blocking, AppError, Caller};
use crate::state::AppState;

/// The longest structure name accepted, and the longest funder name.
const NAME_MAX_CHARS: usize = 200;
/// The most funders one structure names: a structure lives on a handful of funders, not hundreds.
const FUNDERS_MAX: usize = 50;

/// What an admin states about a structure (CONTRACT §5, §11).
pub struct StructureInput {
    pub name: String,
    pub kind: StructureKind,
    pub agreed_hours: BTreeMap<u16, Hours>,
    pub agreed_fte: BTreeMap<u16, FullTimeEquivalents>,
    pub funders: Vec<Funder>,
}

/// A structure's record, once its names and years are plausible.
pub fn structure_step(slug: Slug, input: StructureInput) -> Result<Step, AppError> {
    let StructureInput { name, kind, agreed_hours, agreed_fte, funders } = input;
    let name = name.trim().to_owned();
    if name.is_empty() || name.chars().count() > NAME_MAX_CHARS {
        return Err(AppError::InvalidRequest(format!("name: expected 1 to {NAME_MAX_CHARS} characters")));
    }
    let years =
        [("agreed_hours", agreed_hours.keys().collect::<Vec<_>>()), ("agreed_fte", agreed_fte.keys().collect())];
    for (field, years) in years {
        if let Some(year) = years.into_iter().find(|year| !(1900..=2200).contains(*year)) {
            return Err(AppError::InvalidRequest(format!("{field}: {year} is not a plausible year")));
        }
    }
    if funders.len() > FUNDERS_MAX {
        return Err(AppError::InvalidRequest(format!("funders: at most {FUNDERS_MAX}")));
    }
    let mut named = Vec::with_capacity(funders.len());
    for (index, funder) in funders.into_iter().enumerate() {
        let funder_name = funder.name.trim().to_owned();
        if funder_name.is_empty() || funder_name.chars().count() > NAME_MAX_CHARS {
            let message = format!("funders[{index}].name: expected 1 to {NAME_MAX_CHARS} characters");
            return Err(AppError::InvalidRequest(message));
        }
        named.push(Funder { name: funder_name, kind: funder.kind });
    }
    Ok(Step::StructureUpdated(StructureUpdated { slug, name, kind, agreed_hours, agreed_fte, funders: named }))
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

/// The name a page or a file shows for a structure: the one its latest `structure_updated`
/// records, or its slug when no record names it (a structure only ever referred to).
pub fn name_of(projections: &Projections, slug: &str) -> String {
    Slug::new(slug)
        .ok()
        .and_then(|slug| projections.structure(&slug).map(|record| record.name.clone()))
        .unwrap_or_else(|| slug.to_owned())
}

/// The names of structures by slug, read under one lock (see [`name_of`]).
#[derive(Clone, Debug, Default)]
pub struct Names(BTreeMap<String, String>);

impl Names {
    /// The name of `slug`; the slug itself for one not asked.
    pub fn get(&self, slug: &str) -> String {
        self.0.get(slug).cloned().unwrap_or_else(|| slug.to_owned())
    }
}

/// The names of every structure recorded (see [`name_of`]).
pub fn all_names(projections: &Projections) -> Names {
    Names(projections.structures().map(|record| (record.slug.to_string(), record.name.clone())).collect())
}

/// The names of `slugs` (see [`name_of`]).
pub async fn names_of(state: &AppState, slugs: Vec<String>) -> Result<Names, AppError> {
    let state = state.clone();
    blocking(move || {
        let projections = state.projections.read();
        Ok(Names(slugs.into_iter().map(|slug| (slug.clone(), name_of(&projections, &slug))).collect()))
    })
    .await
}
