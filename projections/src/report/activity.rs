//! The question an activity report answers, and the report as its readers get it (JSON, CSV,
//! the printable page). Kept apart from the walk that fills it (in `report`'s root), so that the
//! report's parts (`cells`, `changes`) take these types from here rather than from their parent.

use std::collections::BTreeMap;

use parcours_core::vocabulary::{Date, Slug};
use serde::{Serialize, Serializer};
use thiserror::Error;

use super::bands::FamilyQuotientBands;
use super::definitions::DefinitionsVersion;
use super::lists::Lists;
use super::sections::Figures;
use crate::period::Period;

/// The largest number of structures one report covers: a network's members, not a country's.
pub const REPORT_STRUCTURES_MAX: usize = 200;

#[derive(Clone, PartialEq, Eq, Debug)]
pub struct ActivityQuery {
    pub period: Period,
    /// One or more, without repeats.
    pub structures: Vec<Slug>,
    pub definitions: DefinitionsVersion,
    pub bands: FamilyQuotientBands,
    /// Whether to add each structure's own report when there are several.
    pub by_structure: bool,
}

#[derive(Clone, Debug, Error, PartialEq, Eq)]
pub enum ReportError {
    #[error("no structure asked")]
    NoStructure,
    #[error("at most {REPORT_STRUCTURES_MAX} structures in one report")]
    TooManyStructures,
    #[error("no structure `{0}`: it has neither a record nor anyone referred to it")]
    UnknownStructure(Slug),
}

/// The report, as JSON, CSV and the printable page give it.
#[derive(Clone, PartialEq, Eq, Debug, Serialize)]
pub struct ActivityReport {
    pub from: Date,
    pub to: Date,
    pub structures: Vec<StructureName>,
    pub definitions: Definitions,
    pub family_quotient_bands: Vec<u32>,
    #[serde(flatten)]
    pub figures: Figures,
    /// Each structure's own figures, when several were asked by a reader allowed exact figures.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub by_structure: Vec<StructureReport>,
    /// The rows behind every figure; never serialised with the report (see the list route).
    #[serde(skip)]
    pub lists: Lists,
}

#[derive(Clone, PartialEq, Eq, Debug, Serialize)]
pub struct StructureName {
    pub slug: Slug,
    /// From the structure's record; `null` for a structure without one.
    pub name: Option<String>,
}

#[derive(Clone, PartialEq, Eq, Debug, Serialize)]
pub struct StructureReport {
    pub structure: StructureName,
    #[serde(flatten)]
    pub figures: Figures,
    #[serde(skip)]
    pub lists: Lists,
}

/// The version the report used, and the texts of that version, by figure family.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Definitions(pub DefinitionsVersion);

impl Serialize for Definitions {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let texts: BTreeMap<&str, &str> = self.0.texts().collect();
        let mut map = serializer.serialize_map(Some(2))?;
        map.serialize_entry("version", &self.0)?;
        map.serialize_entry("texts", &texts)?;
        map.end()
    }
}

impl ActivityReport {
    /// Withholds small cells and their complements (CONTRACT §7), for evaluators; they get no
    /// lists and no structure's own figures, only the sum over the structures asked.
    pub fn withhold_small_cells(&mut self, threshold: u64) {
        self.figures.withhold_small_cells(threshold);
        self.by_structure.clear();
        self.lists = Lists::default();
    }
}
