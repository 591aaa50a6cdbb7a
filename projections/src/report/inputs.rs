//! What an activity report reads of the fold, cut out at the fold's position and encoded, so that a
//! published report can be computed again without folding the log from position 0 (issue 19,
//! item 4): the server keeps these bytes when it publishes (`Store::keep_snapshot`) and, after a
//! restart, computes the report from them instead of from a fold of the whole log.
//!
//! What is cut: the records of everyone in the referred index of a structure asked, and of every
//! record merged with one of them (a person's figures read all their records); for each, its stream
//! id, summary and track (the per-person state the report walks, `report::lists`), and of its names
//! only the partners of support actions (the only names a report prints: contracts and training
//! titles are blanked, keeping their places); the structures' slugs (indexes stay valid) and the
//! records of the structures asked (names, agreed hours and full-time equivalents); the merges
//! among the records cut. [`Projections::from_report_inputs`] puts these back into projections of
//! their own, numbered in the same order, so the report is computed by the very code that computes
//! it live (`activity_report_with_lists`), walk, sections and all: nothing here counts.
//!
//! Why the fold's state and not the report itself: the server must re-derive a publication and
//! check it against the digests it recorded, so that a change of the code that changes a published
//! figure is found and refused. From these inputs, any change to the walk, the sections, the
//! definitions or the rendering is still found. What is not re-derived is the per-person fold
//! (summary and track) as of the code that wrote the cut: [`INPUTS_FORMAT`] is bumped whenever
//! that fold or these bytes change meaning, and a cut of another format is not read (the server
//! folds the log then, and checks the digests under the new code). A test pins the cut of a fixed
//! log to its format (`tests::report_inputs`), so a change to the fold that changes the cut fails
//! it until the format is bumped.
//!
//! Personal data: none. The fold holds no identity and no sealed answer (CONTRACT §10, §11); a cut
//! holds stream ids, closed-list values, dates, hours, gender and birth year, as the log does in
//! clear and keeps after an erasure (an erased person still counts in the reports published before
//! and after), and partner names, which the published report prints.

use std::collections::BTreeSet;

use bincode::{Decode, Encode};
use parcours_core::vocabulary::{Slug, StreamId};
use thiserror::Error;

use super::activity::{ActivityQuery, ReportError, REPORT_STRUCTURES_MAX};
use crate::beneficiary::{Beneficiary, BeneficiaryIx};
use crate::fact::Names;
use crate::projections::Projections;
use crate::structures::{StructureIx, StructureRecord};
use crate::summary::Summary;
use crate::track::{Step, Track};

/// The version of the bytes and of the per-person fold they hold: bump it with any change to either
/// (see the module's comment and `tests::report_inputs`).
pub const INPUTS_FORMAT: u32 = 1;

#[derive(Debug, Error, PartialEq, Eq)]
pub enum InputsError {
    #[error("the report's inputs are of format {found}, this build reads {INPUTS_FORMAT}")]
    Format { found: u32 },
    #[error("the report's inputs do not decode: {0}")]
    Decode(String),
    #[error("the report's inputs do not hold together: {0}")]
    Inconsistent(&'static str),
}

/// Written with each person borrowed from the fold ([`PersonRef`]: a report on every person of a
/// national log would otherwise copy every summary and track before encoding them), read back
/// owned ([`Person`]); the two have the same fields in the same order, hence the same bytes.
#[derive(Encode, Decode)]
struct Cut<P> {
    format: u32,
    position: u64,
    /// Every structure the fold had interned, in index order, so that indexes stay valid.
    slugs: Vec<Slug>,
    records: Vec<StructureRecord>,
    /// By structure asked (its index): the people (by their place in `people`) in its referred index.
    candidates: Vec<(u32, Vec<u32>)>,
    /// In the fold's numbering order.
    people: Vec<P>,
    /// Absorbed → survivor, by place in `people`.
    merges: Vec<(u32, u32)>,
}

#[derive(Decode)]
struct Person {
    stream: StreamId,
    names: Names,
    summary: Summary,
    track: Track,
}

#[derive(Encode)]
struct PersonRef<'a> {
    stream: StreamId,
    names: Names,
    summary: &'a Summary,
    track: &'a Track,
}

fn config() -> bincode::config::Configuration {
    bincode::config::standard()
}

/// The most a cut may claim of memory while it is decoded (bincode counts each vector's length
/// times its element's size before reading it): several times the inputs of a report on every
/// person of a national log (about 1.2 GB encoded for 3 million people), and small enough that a
/// length damaged or crafted in a file that still passes its checksum is refused rather than
/// reserved (or, past `usize`, a panic).
const DECODE_BYTES_MAX: usize = 16 << 30;

fn limited() -> bincode::config::Configuration<
    bincode::config::LittleEndian,
    bincode::config::Varint,
    bincode::config::Limit<DECODE_BYTES_MAX>,
> {
    config().with_limit::<DECODE_BYTES_MAX>()
}

impl Projections {
    /// What the report of `query` reads of these projections, as bytes for
    /// [`Projections::from_report_inputs`].
    pub fn report_inputs(&self, query: &ActivityQuery) -> Result<Vec<u8>, ReportError> {
        if query.structures.len() > REPORT_STRUCTURES_MAX {
            return Err(ReportError::TooManyStructures);
        }
        let mut asked: Vec<StructureIx> = Vec::with_capacity(query.structures.len());
        for slug in &query.structures {
            let ix = self.structures.find(slug).ok_or_else(|| ReportError::UnknownStructure(slug.clone()))?;
            if !asked.contains(&ix) {
                asked.push(ix);
            }
        }
        let referred = |ix: StructureIx| self.indexes.referred.get(ix.index()).map_or(&[][..], Vec::as_slice);
        let mut cut: BTreeSet<BeneficiaryIx> = BTreeSet::new();
        for &ix in &asked {
            for &person in referred(ix) {
                cut.extend(self.merges.records_of(person));
            }
        }
        let cut: Vec<BeneficiaryIx> = cut.into_iter().collect();
        // Every record of a person is in the cut, so every merge of one is found here.
        let place = |ix: BeneficiaryIx| cut.binary_search(&ix).map_or(0, |place| place as u32);
        let people = cut
            .iter()
            .map(|&ix| {
                let beneficiary = self.beneficiary(ix);
                PersonRef {
                    stream: self.stream_of(ix),
                    names: partners_only(beneficiary),
                    summary: &beneficiary.summary,
                    track: &beneficiary.track,
                }
            })
            .collect();
        let merges = cut
            .iter()
            .filter_map(|&ix| self.merges.survivor_of(ix).map(|survivor| (place(ix), place(survivor))))
            .collect();
        let candidates = asked
            .iter()
            .map(|&ix| (ix.index() as u32, referred(ix).iter().map(|&person| place(person)).collect()))
            .collect();
        let records = query.structures.iter().filter_map(|slug| self.records.get(slug).cloned()).collect();
        let cut = Cut {
            format: INPUTS_FORMAT,
            position: self.applied_position(),
            slugs: self.structures.slugs().to_vec(),
            records,
            candidates,
            people,
            merges,
        };
        // Encoding into a vector fails only on a type bincode cannot write, which these are not.
        Ok(bincode::encode_to_vec(&cut, config()).unwrap_or_default())
    }

    /// Projections holding only what a report's inputs hold, at the position they were cut at:
    /// enough for the report they were cut for (and for nothing else).
    pub fn from_report_inputs(bytes: &[u8]) -> Result<Projections, InputsError> {
        // The format first, so that a cut of another format says so rather than failing to decode.
        let (found, _): (u32, usize) =
            bincode::decode_from_slice(bytes, limited()).map_err(|error| InputsError::Decode(error.to_string()))?;
        if found != INPUTS_FORMAT {
            return Err(InputsError::Format { found });
        }
        let (cut, read): (Cut<Person>, usize) =
            bincode::decode_from_slice(bytes, limited()).map_err(|error| InputsError::Decode(error.to_string()))?;
        if read != bytes.len() {
            return Err(InputsError::Decode(format!("{} bytes after the inputs", bytes.len() - read)));
        }
        cut.check()?;
        let mut projections = Projections::at_position(cut.position);
        for slug in &cut.slugs {
            projections.structures.intern(slug);
        }
        projections.records = cut.records.into_iter().map(|record| (record.slug.clone(), record)).collect();
        projections.indexes.referred = vec![Vec::new(); cut.slugs.len()];
        for (structure, people) in cut.candidates {
            projections.indexes.referred[structure as usize] = people;
        }
        for (absorbed, survivor) in cut.merges {
            projections.merges.merge(absorbed, survivor);
        }
        for person in cut.people {
            let mut beneficiary = Beneficiary::new();
            beneficiary.names = person.names;
            beneficiary.summary = person.summary;
            beneficiary.track = person.track;
            projections.beneficiaries.push(beneficiary);
            projections.stream_ids.push(person.stream);
        }
        Ok(projections)
    }
}

impl Cut<Person> {
    /// Every index in range, so that the report's walk, which trusts the fold's indexes, cannot
    /// read past a vector on bytes that decoded but were not written by this module.
    fn check(&self) -> Result<(), InputsError> {
        let structures = self.slugs.len();
        if self.slugs.iter().collect::<BTreeSet<_>>().len() != structures {
            return Err(InputsError::Inconsistent("a structure is named twice"));
        }
        let structure_ok = |ix: StructureIx| ix.index() < structures;
        let person_ok = |place: u32| (place as usize) < self.people.len();
        if !self
            .candidates
            .iter()
            .all(|(ix, people)| (*ix as usize) < structures && people.iter().all(|p| person_ok(*p)))
        {
            return Err(InputsError::Inconsistent("a candidate out of range"));
        }
        if !self.merges.iter().all(|(absorbed, survivor)| person_ok(*absorbed) && person_ok(*survivor)) {
            return Err(InputsError::Inconsistent("a merge out of range"));
        }
        let summaries_ok = self.people.iter().all(|person| {
            let summary = &person.summary;
            summary.registration.is_none_or(|registration| structure_ok(registration.structure))
                && summary.episodes.iter().all(|episode| structure_ok(episode.facts.structure))
        });
        if !summaries_ok {
            return Err(InputsError::Inconsistent("a structure out of range"));
        }
        Ok(())
    }
}

/// The person's names with every one but the partners of support actions blanked, in place.
fn partners_only(beneficiary: &Beneficiary) -> Names {
    let partners: Vec<_> = beneficiary
        .track
        .steps
        .iter()
        .filter_map(|placed| match placed.step {
            Step::Support { partner, .. } => partner,
            _ => None,
        })
        .collect();
    beneficiary.names.keeping(|name| partners.contains(&name))
}
