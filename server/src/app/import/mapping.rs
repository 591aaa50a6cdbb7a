//! The mapping of CONTRACT §9: which columns of a sheet fill which steps, and how cells become
//! the contract's codes. Read from JSON; checked against the sheet's header before any row.

use std::collections::BTreeMap;

use parcours_core::vocabulary::{Slug, StepKind};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::ImportError;

/// A mapping as a structure writes it. Keys beyond these are allowed (a file may go further).
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct Mapping {
    pub structure: Slug,
    /// The sheet of an `.xlsx` file to read; its first sheet when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sheet: Option<String>,
    /// How the sheet writes dates (chrono's `strftime` codes); ISO dates are always accepted too.
    #[serde(default = "default_date_format")]
    pub date_format: String,
    pub person: PersonColumns,
    pub steps: Vec<StepColumns>,
    /// Per column: a cell's text → the value the contract expects.
    #[serde(default)]
    pub values: BTreeMap<String, BTreeMap<String, Value>>,
    /// Per step type: dotted field → a value no column holds.
    #[serde(default)]
    pub constants: BTreeMap<StepKind, BTreeMap<String, Value>>,
}

fn default_date_format() -> String {
    "%d/%m/%Y".into()
}

#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct PersonColumns {
    /// The columns whose values, together, say who a row is about.
    pub key: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub birth_date: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub birth_year: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gender: Option<String>,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct StepColumns {
    #[serde(rename = "type")]
    pub kind: StepKind,
    pub occurred_on: String,
    /// The step is made only for rows where this column is not empty.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub when_present: Option<String>,
    /// Dotted field of the step's `data` → column.
    #[serde(default)]
    pub data: BTreeMap<String, String>,
}

impl Mapping {
    pub fn from_json(bytes: &[u8]) -> Result<Mapping, ImportError> {
        let mapping: Mapping = crate::json::from_body(bytes)
            .map_err(|error| ImportError::Mapping(format!("correspondance illisible : {error}")))?;
        if mapping.person.key.is_empty() {
            return Err(ImportError::Mapping("person.key : au moins une colonne identifie la personne".into()));
        }
        for step in &mapping.steps {
            if matches!(
                step.kind,
                StepKind::Registered
                    | StepKind::Corrected
                    | StepKind::PersonalDataErased
                    | StepKind::StructureUpdated
                    | StepKind::ReportPublished
            ) {
                return Err(ImportError::Mapping(format!(
                    "steps : le type « {} » ne s'importe pas (l'inscription vient de « person »)",
                    step.kind.code()
                )));
            }
        }
        Ok(mapping)
    }

    /// Every column the mapping reads, for the check against the header.
    pub fn columns(&self) -> impl Iterator<Item = &str> {
        let person = &self.person;
        person
            .key
            .iter()
            .chain(&person.last_name)
            .chain(&person.first_name)
            .chain(&person.birth_date)
            .chain(&person.birth_year)
            .chain(&person.gender)
            .chain(self.steps.iter().flat_map(|step| {
                std::iter::once(&step.occurred_on).chain(&step.when_present).chain(step.data.values())
            }))
            .map(String::as_str)
    }

    /// The date format as a French reader writes it (`jj/mm/aaaa`), for messages.
    pub fn date_format_in_words(&self) -> String {
        self.date_format.replace("%d", "jj").replace("%m", "mm").replace("%Y", "aaaa").replace("%y", "aa")
    }
}
