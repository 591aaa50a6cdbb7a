//! Structure slugs, interned: every referral names a structure, and a 4-byte index per fact costs
//! far less than a string per fact at ten million events.
//!
//! Also the structures' own records (`structure_updated`), which carry the agreed hours.

use std::collections::{BTreeMap, HashMap};

use parcours_core::vocabulary::{FullTimeEquivalents, Funder, Hours, Slug, StructureKind, StructureUpdated};
use serde::Serialize;

/// The index of an interned slug. Indexes follow first appearance in the log, so they are the same
/// for the same log; outputs still sort by slug, never by index.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, bincode::Encode, bincode::Decode)]
pub(crate) struct StructureIx(u32);

impl StructureIx {
    pub(crate) fn index(self) -> usize {
        self.0 as usize
    }
}

/// A set of structures marked by index: asked for every exit or person of a national log, whether
/// one of 200 structures holds it costs one load instead of a search.
#[derive(Clone, Debug, Default)]
pub(crate) struct StructureSet(Vec<bool>);

impl StructureSet {
    pub(crate) fn of(structures: &[StructureIx]) -> StructureSet {
        let mut marked = vec![false; structures.iter().map(|ix| ix.index() + 1).max().unwrap_or_default()];
        for ix in structures {
            marked[ix.index()] = true;
        }
        StructureSet(marked)
    }

    pub(crate) fn contains(&self, structure: StructureIx) -> bool {
        self.0.get(structure.index()).copied().unwrap_or(false)
    }
}

#[derive(Clone, Debug, Default)]
pub(crate) struct Interner {
    slugs: Vec<Slug>,
    /// Looked up at every registration and referral: foldhash, as the stream table (see there).
    index: HashMap<Slug, StructureIx, foldhash::fast::RandomState>,
}

impl Interner {
    pub(crate) fn intern(&mut self, slug: &Slug) -> StructureIx {
        if let Some(ix) = self.index.get(slug) {
            return *ix;
        }
        // A log holds fewer than 2^32 events, hence fewer distinct slugs.
        let ix = StructureIx(self.slugs.len() as u32);
        self.slugs.push(slug.clone());
        self.index.insert(slug.clone(), ix);
        ix
    }

    pub(crate) fn find(&self, slug: &Slug) -> Option<StructureIx> {
        self.index.get(slug).copied()
    }

    pub(crate) fn slugs(&self) -> &[Slug] {
        &self.slugs
    }

    pub(crate) fn slug(&self, ix: StructureIx) -> &Slug {
        &self.slugs[ix.index()]
    }
}

/// A structure as its latest `structure_updated` event states it.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, bincode::Encode, bincode::Decode)]
pub struct StructureRecord {
    pub slug: Slug,
    pub name: String,
    pub kind: StructureKind,
    /// Yearly hours agreed with the funder, by calendar year.
    pub agreed_hours: BTreeMap<u16, Hours>,
    /// Full-time equivalents agreed with the funder, by calendar year.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub agreed_fte: BTreeMap<u16, FullTimeEquivalents>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub funders: Vec<Funder>,
}

impl From<&StructureUpdated> for StructureRecord {
    fn from(update: &StructureUpdated) -> StructureRecord {
        StructureRecord {
            slug: update.slug.clone(),
            name: update.name.clone(),
            kind: update.kind,
            agreed_hours: update.agreed_hours.clone(),
            agreed_fte: update.agreed_fte.clone(),
            funders: update.funders.clone(),
        }
    }
}
