//! One person recorded twice (CONTRACT §10): which records are merged into which, as a pure fold of
//! `merged_into` and `unmerged`, so that counts of distinct people count a merged pair once.
//!
//! Nothing else changes with a merge: each record keeps its own history, episodes and effects
//! (episodes, exits and hours are facts of the record they were recorded in, and count as before);
//! only the queries that count *people* ask [`Merges::person_of`] which person a record is. An
//! unmerge removes the pair from the map, so every figure is again what it was before the merge.
//! Merges are one level deep: the rules refuse to merge a record that others were merged into.

use std::collections::BTreeMap;

use crate::beneficiary::BeneficiaryIx;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Merges {
    /// Absorbed record → the record it was merged into.
    into: BTreeMap<BeneficiaryIx, BeneficiaryIx>,
    /// Surviving record → the records merged into it, sorted.
    absorbed: BTreeMap<BeneficiaryIx, Vec<BeneficiaryIx>>,
}

impl Merges {
    /// `merged_into`, as read in the absorbed record's stream.
    pub fn merge(&mut self, absorbed: BeneficiaryIx, survivor: BeneficiaryIx) {
        self.into.insert(absorbed, survivor);
        let members = self.absorbed.entry(survivor).or_default();
        if let Err(at) = members.binary_search(&absorbed) {
            members.insert(at, absorbed);
        }
    }

    /// `unmerged`, read in either stream (both record it; the second finds nothing left to undo).
    pub fn unmerge(&mut self, one: BeneficiaryIx, other: BeneficiaryIx) {
        for (absorbed, survivor) in [(one, other), (other, one)] {
            if self.into.get(&absorbed) == Some(&survivor) {
                self.into.remove(&absorbed);
                if let Some(members) = self.absorbed.get_mut(&survivor) {
                    members.retain(|member| *member != absorbed);
                    if members.is_empty() {
                        self.absorbed.remove(&survivor);
                    }
                }
            }
        }
    }

    /// The record that stands for the person: the survivor of a merge, else the record itself.
    pub fn person_of(&self, record: BeneficiaryIx) -> BeneficiaryIx {
        self.into.get(&record).copied().unwrap_or(record)
    }

    /// The record this one was merged into, if it was (and not unmerged since).
    pub fn survivor_of(&self, record: BeneficiaryIx) -> Option<BeneficiaryIx> {
        self.into.get(&record).copied()
    }

    /// Every record of the person `record` belongs to, survivor first, then those it absorbed.
    pub fn records_of(&self, record: BeneficiaryIx) -> impl Iterator<Item = BeneficiaryIx> + '_ {
        let survivor = self.person_of(record);
        std::iter::once(survivor).chain(self.absorbed.get(&survivor).into_iter().flatten().copied())
    }

    pub fn is_empty(&self) -> bool {
        self.into.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_merge_joins_two_records_and_its_unmerge_parts_them_from_either_side() {
        let mut merges = Merges::default();
        merges.merge(3, 1);
        merges.merge(2, 1);
        assert_eq!(merges.person_of(3), 1);
        assert_eq!(merges.records_of(2).collect::<Vec<_>>(), [1, 2, 3]);
        merges.unmerge(1, 3);
        merges.unmerge(3, 1);
        assert_eq!(merges.person_of(3), 3);
        assert_eq!(merges.records_of(1).collect::<Vec<_>>(), [1, 2]);
        merges.unmerge(2, 1);
        assert!(merges.is_empty());
        assert_eq!(merges, Merges::default(), "nothing of a merge is left after its unmerge");
    }
}
