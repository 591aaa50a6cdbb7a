//! Saved import mappings (CONTRACT §9): a name → the mapping's JSON, as given.
//!
//! A sled tree rather than events of a reserved stream: a mapping is a tool's setting, not a fact
//! of anyone's pathway; it is replaced when saved again, and nothing counts or audits it. The store
//! keeps the bytes and their structure (for scoping) without reading the JSON: only `server` knows
//! JSON.

use super::error::StoreError;
use crate::vocabulary::Slug;

pub(crate) const TREE: &str = "import_mappings";

/// A saved mapping: the structure it imports into, and its JSON.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SavedMapping {
    pub name: String,
    pub structure: Slug,
    pub json: Vec<u8>,
}

/// `structure ‖ 0 ‖ json` under the mapping's name.
pub(crate) fn encode(structure: &Slug, json: &[u8]) -> Vec<u8> {
    let mut value = Vec::with_capacity(structure.as_str().len() + 1 + json.len());
    value.extend_from_slice(structure.as_str().as_bytes());
    value.push(0);
    value.extend_from_slice(json);
    value
}

pub(crate) fn decode(name: &[u8], value: &[u8]) -> Result<SavedMapping, StoreError> {
    let damaged = || StoreError::Damaged { page: 0, detail: "a saved import mapping is malformed".into() };
    let cut = value.iter().position(|byte| *byte == 0).ok_or_else(damaged)?;
    let structure =
        std::str::from_utf8(&value[..cut]).ok().and_then(|text| Slug::new(text).ok()).ok_or_else(damaged)?;
    let name = String::from_utf8(name.to_vec()).map_err(|_| damaged())?;
    Ok(SavedMapping { name, structure, json: value[cut + 1..].to_vec() })
}
