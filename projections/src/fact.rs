//! The compact form in which projections keep a beneficiary's effective history.
//!
//! Corrections can reach back to any event of a stream, so each beneficiary keeps its history to
//! fold it again when one arrives. At ten million events that history must stay small: a [`Fact`]
//! keeps only what some projection reads (closed-list values, dates, hours), interns structure
//! slugs globally and contract and training ids (and the partners of support actions, which the
//! activity report lists) per beneficiary, and drops other free text (employer, job, prescriber
//! name, summaries) and personal data (`identity`) altogether.

use std::num::NonZeroU32;

use parcours_core::vocabulary::{
    Answer, AssessmentKind, Benefit, ContractEndReason, ContractKind, Date, Destination, EducationLevel, EventId,
    FollowUpKind, Gender, Hours, Month, PrescriberKind, Programme, Qualification, Situation, SituationAfterExit, Step,
    SupportAction, SupportDomain, TrainingResult,
};

use crate::structures::{Interner, StructureIx};

/// One effective event: retracted events are removed, replaced ones hold their replacement.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) struct Recorded {
    pub id: EventId,
    pub occurred_on: Date,
    pub fact: Fact,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Fact {
    Registered {
        structure: StructureIx,
        gender: Gender,
        birth_year: u16,
    },
    Referred(Referral),
    /// A referral proposed by someone without rights on its structure (CONTRACT §7): it counts for
    /// nothing until accepted, when it becomes `Referred` in its place (`Beneficiary::accept`).
    Proposed(Referral),
    ContractStarted {
        contract: NameIx,
        kind: ContractKind,
        weekly_hours: Hours,
        planned_end: Option<Date>,
    },
    ContractEnded {
        contract: NameIx,
        reason: ContractEndReason,
    },
    HoursWorked {
        month: Month,
        hours: Hours,
    },
    SkillsAssessed {
        kind: AssessmentKind,
    },
    TrainingStarted {
        training: NameIx,
        title: NameIx,
        qualifying: bool,
    },
    TrainingCompleted {
        training: NameIx,
        result: TrainingResult,
    },
    SupportProvided {
        domain: SupportDomain,
        action: Option<SupportAction>,
        partner: Option<NameIx>,
    },
    FollowUpHeld {
        kind: FollowUpKind,
        next_due: Option<Date>,
    },
    Exited {
        destination: Destination,
    },
    FollowedUpAfterExit {
        months_after_exit: u8,
        situation: SituationAfterExit,
    },
    PersonalDataErased,
}

/// What a referral says about the episode it opens (the prescriber's name is left out).
#[derive(Clone, Copy, PartialEq, Eq, Debug, bincode::Encode, bincode::Decode)]
pub(crate) struct Referral {
    pub structure: StructureIx,
    pub prescriber: PrescriberKind,
    pub programme: Option<Programme>,
    pub situation: Situation,
    pub benefits: Benefits,
    pub qualification: Option<Qualification>,
    pub family_quotient: Option<u32>,
    /// The ESF+ answers stored clear (the sensitive ones are sealed, never folded).
    pub education_level: Option<EducationLevel>,
    pub rural_area: Option<Answer>,
}

/// A set of benefits in one byte.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default, bincode::Encode, bincode::Decode)]
pub(crate) struct Benefits(u8);

impl Benefits {
    fn bit(benefit: Benefit) -> u8 {
        let index = Benefit::ALL.iter().position(|b| *b == benefit).unwrap_or_default();
        1 << index
    }

    pub(crate) fn iter(self) -> impl Iterator<Item = Benefit> {
        Benefit::ALL.iter().copied().filter(move |benefit| self.0 & Benefits::bit(*benefit) != 0)
    }

    pub(crate) fn is_empty(self) -> bool {
        self.0 == 0
    }
}

impl FromIterator<Benefit> for Benefits {
    fn from_iter<I: IntoIterator<Item = Benefit>>(benefits: I) -> Benefits {
        Benefits(benefits.into_iter().fold(0, |bits, benefit| bits | Benefits::bit(benefit)))
    }
}

const _: () = assert!(Benefit::ALL.len() <= 8, "Benefits keeps one bit per benefit in a u8");

/// The index of a contract id, training id, training title or partner in its beneficiary's [`Names`].
///
/// Kept as the index plus one, never zero: an `Option<NameIx>` then takes four bytes, not eight,
/// in every support action of the facts and of the report's track.
#[derive(Clone, Copy, PartialEq, Eq, Debug, bincode::Encode, bincode::Decode)]
pub(crate) struct NameIx(NonZeroU32);

impl NameIx {
    fn of(index: u32) -> NameIx {
        NameIx(NonZeroU32::MIN.saturating_add(index))
    }

    fn index(self) -> usize {
        (self.0.get() - 1) as usize
    }
}

/// The few strings a beneficiary's facts refer to. A stream names a handful of contracts and
/// trainings, so a linear search beats a map and costs no allocation per `hours_worked`.
///
/// Why one buffer: 300,000 people each naming a few contracts and trainings made a million small
/// strings plus a vector of pointers per person, and interning a name touched each of them (a
/// cache miss apiece). Here each name is its length (`LEN_BYTES`, little-endian) followed by its
/// bytes, all in one allocation sized to fit, read in one or two cache lines.
#[derive(Clone, Debug, Default, bincode::Encode, bincode::Decode)]
pub(crate) struct Names(Vec<u8>);

/// Bytes of the length before each name: names are ids and titles far under 4 GiB.
const LEN_BYTES: usize = 4;

impl Names {
    /// The names in order, each with its index.
    fn iter(&self) -> impl Iterator<Item = &[u8]> {
        let mut rest = self.0.as_slice();
        std::iter::from_fn(move || {
            let (len, tail) = rest.split_first_chunk::<LEN_BYTES>()?;
            let len = (u32::from_le_bytes(*len) as usize).min(tail.len());
            let (name, tail) = tail.split_at(len);
            rest = tail;
            Some(name)
        })
    }

    pub(crate) fn intern(&mut self, text: &str) -> NameIx {
        // A stream holds fewer than 2^32 events, hence fewer names.
        let mut count = 0;
        for name in self.iter() {
            if name == text.as_bytes() {
                return NameIx::of(count);
            }
            count += 1;
        }
        // Grown to fit: most people are named nothing more, and spare room would be kept for good.
        self.0.reserve_exact(LEN_BYTES + text.len());
        self.0.extend_from_slice(&(text.len() as u32).to_le_bytes());
        self.0.extend_from_slice(text.as_bytes());
        NameIx::of(count)
    }

    /// Where the names start in memory, to ask for them early.
    pub(crate) fn as_ptr(&self) -> *const u8 {
        self.0.as_ptr()
    }

    /// These names with every one `keep` refuses blanked, each at its place: what a report's
    /// inputs keep of a person's names (`report::inputs`).
    pub(crate) fn keeping(&self, keep: impl Fn(NameIx) -> bool) -> Names {
        let mut kept = Names::default();
        for (index, name) in (0..).zip(self.iter()) {
            let name = if keep(NameIx::of(index)) { name } else { &[] };
            kept.0.extend_from_slice(&(name.len() as u32).to_le_bytes());
            kept.0.extend_from_slice(name);
        }
        kept
    }

    pub(crate) fn get(&self, ix: NameIx) -> &str {
        // Only whole `&str`s are stored, so every name read back is valid UTF-8.
        self.iter().nth(ix.index()).and_then(|name| std::str::from_utf8(name).ok()).unwrap_or("")
    }
}

impl Fact {
    /// The fact a step states; `None` for steps that are not facts of a pathway (corrections and
    /// answers to proposals, which change facts; structure updates and report publications, which belong to streams of their
    /// own and never reach a pathway's history).
    pub(crate) fn of(step: &Step, structures: &mut Interner, names: &mut Names) -> Option<Fact> {
        Some(match step {
            Step::Registered(registered) => Fact::Registered {
                structure: structures.intern(&registered.structure),
                gender: registered.gender,
                birth_year: registered.birth_year,
            },
            Step::Referred(referred) => {
                let referral = Referral {
                    structure: structures.intern(&referred.structure),
                    prescriber: referred.prescriber.kind,
                    programme: referred.programme,
                    situation: referred.situation,
                    benefits: referred.benefits.iter().copied().collect(),
                    qualification: referred.qualification,
                    family_quotient: referred.family_quotient,
                    education_level: referred.education_level,
                    rural_area: referred.rural_area,
                };
                if referred.proposed {
                    Fact::Proposed(referral)
                } else {
                    Fact::Referred(referral)
                }
            }
            Step::ContractStarted(started) => Fact::ContractStarted {
                contract: names.intern(&started.contract_id),
                kind: started.kind,
                weekly_hours: started.weekly_hours,
                planned_end: started.planned_end,
            },
            Step::ContractEnded(ended) => {
                Fact::ContractEnded { contract: names.intern(&ended.contract_id), reason: ended.reason }
            }
            // Without its contract: no projection reads it, and interning it would cost a string
            // comparison on the most frequent event but one.
            Step::HoursWorked(worked) => Fact::HoursWorked { month: worked.month, hours: worked.hours },
            Step::SkillsAssessed(assessed) => Fact::SkillsAssessed { kind: assessed.kind },
            Step::TrainingStarted(started) => Fact::TrainingStarted {
                training: names.intern(&started.training_id),
                title: names.intern(&started.title),
                qualifying: started.qualifying,
            },
            Step::TrainingCompleted(completed) => {
                Fact::TrainingCompleted { training: names.intern(&completed.training_id), result: completed.result }
            }
            Step::SupportProvided(support) => Fact::SupportProvided {
                domain: support.domain,
                action: support.action,
                // Trimmed so that "SIAO 47" and "SIAO 47 " are one partner in the report.
                partner: support.partner.as_deref().map(str::trim).filter(|p| !p.is_empty()).map(|p| names.intern(p)),
            },
            Step::FollowUpHeld(follow_up) => Fact::FollowUpHeld { kind: follow_up.kind, next_due: follow_up.next_due },
            Step::Exited(exited) => Fact::Exited { destination: exited.destination },
            Step::FollowedUpAfterExit(follow_up) => Fact::FollowedUpAfterExit {
                months_after_exit: follow_up.months_after_exit,
                situation: follow_up.situation,
            },
            Step::PersonalDataErased(_) => Fact::PersonalDataErased,
            // Answers to proposals and merges change facts or how streams are counted, as
            // corrections do; they are no facts themselves.
            Step::Corrected(_)
            | Step::StructureUpdated(_)
            | Step::ReportPublished(_)
            | Step::ReferralAccepted(_)
            | Step::ReferralDeclined(_)
            | Step::MergedInto(_)
            | Step::Absorbed(_)
            | Step::Unmerged(_) => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn facts_stay_small() {
        // Ten million of these must fit, with their beneficiaries, in 2 GiB.
        assert!(std::mem::size_of::<Recorded>() <= 48, "{}", std::mem::size_of::<Recorded>());
    }

    #[test]
    fn names_are_interned_once_and_read_back() {
        let mut names = Names::default();
        let texts = ["C-1", "", "Formation é", "C-1 ", "SIAO 47"];
        let ixs: Vec<NameIx> = texts.iter().map(|text| names.intern(text)).collect();
        assert_eq!(ixs, (0..5).map(NameIx::of).collect::<Vec<_>>());
        for (text, ix) in texts.iter().zip(&ixs) {
            assert_eq!(names.intern(text), *ix);
            assert_eq!(names.get(*ix), *text);
        }
        assert_eq!(names.get(NameIx::of(5)), "");
    }

    #[test]
    fn benefits_round_trip() {
        for benefits in [vec![], vec![Benefit::Rsa], vec![Benefit::Ass, Benefit::Other], Benefit::ALL.to_vec()] {
            let set = benefits.iter().copied().collect::<Benefits>();
            assert_eq!(set.iter().collect::<Vec<_>>(), benefits);
            assert_eq!(set.is_empty(), benefits.is_empty());
        }
    }
}
