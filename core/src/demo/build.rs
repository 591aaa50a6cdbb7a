//! Building the events of planned slots: the only place the demo allocates strings.

use std::collections::BTreeMap;

use chrono::NaiveDate;

use super::days::date_of;
use super::dice::{uuid, Dice};
use super::plan::{Person, What, World, NONE};
use super::tables::*;
use crate::vocabulary::{
    ContractEnded, ContractStarted, Corrected, Date, EventId, Exited, FollowUpHeld, FollowedUpAfterExit, Gender, Hours,
    HoursWorked, IdentityField, NewEvent, PersonalData, Prescriber, Referred, Registered, Replacement, SkillsAssessed,
    Step, StreamId, StructureUpdated, SupportProvided, TrainingCompleted, TrainingStarted,
};

impl World {
    /// The `structure_updated` event that opens structure `index`'s stream.
    pub fn structure_event(&self, index: usize) -> (StreamId, NewEvent) {
        let structure = &self.structures[index];
        let event = NewEvent {
            id: Some(EventId(uuid(self.seed, u64::MAX - index as u64, 1))),
            occurred_on: date_of(self.start),
            step: Step::StructureUpdated(StructureUpdated {
                slug: structure.slug.clone(),
                name: structure.name.clone(),
                kind: structure.kind,
                agreed_hours: structure.agreed_hours.clone(),
                agreed_fte: BTreeMap::new(),
                funders: Vec::new(),
            }),
        };
        (StreamId::of_structure(structure.slug.as_str()), event)
    }

    /// The event of `person`'s slot `index`; its version in the stream is `index + 1`.
    pub fn person_event(&self, person: &Person, index: usize) -> (StreamId, NewEvent) {
        let slot = &person.slots[index];
        let mut step = match slot.what {
            What::Corrected { target, reason, fix } => {
                let corrected = person.slots[usize::from(target)];
                let replacement = fix.apply(corrected.what).map(|what| Replacement {
                    occurred_on: date_of(corrected.day),
                    step: Box::new(self.step(person, &what)),
                });
                Step::Corrected(Corrected {
                    corrects: self.event_id(person, usize::from(target)),
                    reason: CORRECTION_REASONS[usize::from(reason)].to_owned(),
                    replacement,
                })
            }
            what => self.step(person, &what),
        };
        if !self.with_identity {
            // Without personal data, without free text either: the store would seal it with a
            // key file per person (`free_text`), and a log without identities has none.
            step.take_free_text();
        }
        let event = NewEvent { id: Some(self.event_id(person, index)), occurred_on: date_of(slot.day), step };
        (StreamId(uuid(self.seed, person.index, 0)), event)
    }

    fn event_id(&self, person: &Person, index: usize) -> EventId {
        EventId(uuid(self.seed, person.index, index as u64 + 1))
    }

    fn step(&self, person: &Person, what: &What) -> Step {
        match *what {
            What::Registered { structure, birth_year } => Step::Registered(Registered {
                structure: self.structure(structure).slug.clone(),
                gender: person.gender,
                birth_year,
                identity: self
                    .with_identity
                    .then(|| IdentityField::Clear(self.identity(person, birth_year, structure))),
            }),
            What::Referred {
                structure,
                prescriber,
                prescriber_name,
                situation,
                benefit,
                qualification,
                family_quotient,
            } => Step::Referred(Referred {
                programme: Some(self.structure(structure).profile.programme),
                benefits: benefit.into_iter().collect(),
                qualification,
                family_quotient: family_quotient.map(u32::from),
                ..Referred::new(
                    self.structure(structure).slug.clone(),
                    Prescriber { kind: prescriber, name: entry(prescriber_names(prescriber), prescriber_name) },
                    situation,
                )
            }),
            What::ContractStarted { structure, contract, kind, weekly_hours, planned_end, employer, job } => {
                let facts = self.structure(structure);
                Step::ContractStarted(ContractStarted {
                    contract_id: contract_id(contract),
                    kind,
                    employer: entry(facts.profile.employers, employer).or_else(|| Some(facts.name.clone())),
                    weekly_hours: Hours::whole(u32::from(weekly_hours)),
                    planned_end: Some(date_of(planned_end)),
                    job: entry(facts.profile.jobs, job),
                })
            }
            What::ContractEnded { contract, reason } => {
                Step::ContractEnded(ContractEnded { contract_id: contract_id(contract), reason })
            }
            What::HoursWorked { contract, month, hours } => {
                Step::HoursWorked(HoursWorked { contract_id: contract_id(contract), month, hours })
            }
            What::SkillsAssessed { structure, assessment, skills, summary } => {
                let (assessor, kind) = ASSESSMENTS[usize::from(assessment)].0;
                let known = self.structure(structure).profile.skills;
                Step::SkillsAssessed(SkillsAssessed {
                    assessor: assessor.to_owned(),
                    kind,
                    skills: skills.iter().filter_map(|skill| entry(known, *skill)).collect(),
                    summary: entry(ASSESSMENT_SUMMARIES, summary),
                })
            }
            What::TrainingStarted { training, course } => {
                let course = &COURSES[usize::from(course)].0;
                Step::TrainingStarted(TrainingStarted {
                    training_id: training_id(training),
                    title: course.title.to_owned(),
                    qualifying: course.qualifying,
                    certification: course.certification.map(str::to_owned),
                    planned_hours: Some(Hours::whole(course.planned_hours)),
                })
            }
            What::TrainingCompleted { training, result } => {
                Step::TrainingCompleted(TrainingCompleted { training_id: training_id(training), result })
            }
            What::SupportProvided { domain, action, partner } => {
                let (domain, partners) = SUPPORT_DOMAINS[usize::from(domain)].0;
                Step::SupportProvided(SupportProvided {
                    domain,
                    action: Some(action),
                    partner: entry(partners, partner),
                })
            }
            What::FollowUpHeld { kind, next_due } => {
                Step::FollowUpHeld(FollowUpHeld { kind, next_due: next_due.map(date_of) })
            }
            What::Exited { destination } => Step::Exited(Exited { destination }),
            What::FollowedUpAfterExit { situation } => {
                Step::FollowedUpAfterExit(FollowedUpAfterExit { months_after_exit: FOLLOW_UP_MONTHS, situation })
            }
            // A correction's replacement is built from its target, never from another correction.
            What::Corrected { .. } => unreachable!("a correction is built by person_event"),
        }
    }

    /// French-looking personal data, drawn from the person's own stream so that the corrected
    /// registration carries the same name.
    fn identity(&self, person: &Person, birth_year: u16, structure: u16) -> PersonalData {
        let mut dice = Dice::new(self.seed, person.index * 4 + 1);
        let female = match person.gender {
            Gender::Female => true,
            Gender::Male => false,
            Gender::NonBinary | Gender::Undisclosed => dice.chance(500),
        };
        let first_names = if female { FEMALE_FIRST_NAMES } else { MALE_FIRST_NAMES };
        let first_name = first_names[dice.index(first_names.len())];
        let last_name = LAST_NAMES[dice.index(LAST_NAMES.len())];
        let birth_date = NaiveDate::from_yo_opt(i32::from(birth_year), dice.between((1, 365))).map(Date);
        let mobile = if dice.chance(700) { 6 } else { 7 };
        let digits: Vec<u32> = (0..4).map(|_| dice.below(100)).collect();
        let phone = format!("0{mobile} {:02} {:02} {:02} {:02}", digits[0], digits[1], digits[2], digits[3]);
        let email = format!("{}.{}{}@example.org", ascii(first_name), ascii(last_name), dice.below(100));
        let street = STREETS[dice.index(STREETS.len())];
        // Most live near their structure's town; the demo's residences are around Agen.
        let (town, postcode) = RESIDENCES[(dice.index(RESIDENCES.len()) + usize::from(structure)) % RESIDENCES.len()];
        let address = format!("{} {street}, {postcode} {town}", dice.between((1, 120)));
        PersonalData {
            first_name: Some(first_name.to_owned()),
            last_name: Some(last_name.to_owned()),
            birth_date,
            phone: Some(phone),
            email: Some(email),
            address: Some(address),
        }
    }
}

fn entry(table: &[&str], index: u8) -> Option<String> {
    if index == NONE {
        return None;
    }
    table.get(usize::from(index)).map(|text| (*text).to_owned())
}

fn contract_id(contract: u8) -> String {
    format!("contrat-{contract}")
}

fn training_id(training: u8) -> String {
    format!("formation-{training}")
}

/// Lower-case ASCII for an e-mail address: accents dropped, spaces and apostrophes as dashes.
fn ascii(name: &str) -> String {
    const FOLDS: &[(char, &str)] = &[
        ('à', "a"),
        ('â', "a"),
        ('ç', "c"),
        ('é', "e"),
        ('è', "e"),
        ('ê', "e"),
        ('ë', "e"),
        ('î', "i"),
        ('ï', "i"),
        ('ô', "o"),
        ('ù', "u"),
        ('û', "u"),
        ('ü', "u"),
        ('œ', "oe"),
        (' ', "-"),
        ('\'', "-"),
    ];
    let mut folded = String::with_capacity(name.len());
    for c in name.chars().flat_map(char::to_lowercase) {
        match FOLDS.iter().find(|(from, _)| *from == c) {
            Some((_, to)) => folded.push_str(to),
            None => folded.push(c),
        }
    }
    folded
}
