//! Planning one beneficiary's whole history as compact slots, before any event is built.
//!
//! A person's pathway is drawn at once (episodes, contracts, monthly hours, follow-ups...) because
//! its parts depend on each other: the exit decides how the last contract ends, the contracts
//! decide the hours. What is kept is a sorted list of small `Copy` slots (about 20 bytes each); the
//! events themselves (with their strings) are built one at a time when the iterator reaches them,
//! so that a scaled log keeps only the people in progress in memory, never the events.
//!
//! Every date is planned so that the rules hold by construction: steps of an episode lie between
//! its referral and its exit, a contract ends after it starts, hours come after the contract starts
//! and by the month of `today`, nothing is after `today` (later steps are simply not yet recorded,
//! which leaves episodes open at `today`).

use std::cmp::Ordering;
use std::collections::BTreeMap;

use super::days::*;
use super::dice::Dice;
use super::tables::*;
use super::DemoConfig;
use crate::vocabulary::{
    Benefit, ContractEndReason, ContractKind, Destination, ExitCategory, FollowUpKind, Gender, Hours, Month,
    PrescriberKind, Qualification, Situation, SituationAfterExit, Slug, StructureKind, SupportAction, TrainingResult,
};

/// An index into a table that may have no entry for this slot (no partner, no prescriber name...).
pub const NONE: u8 = u8::MAX;

/// What the demo knows of one structure.
pub struct StructureFacts {
    pub slug: Slug,
    pub name: String,
    pub kind: StructureKind,
    pub profile: &'static KindProfile,
    /// A weekday on which its committees meet, every [`COMMITTEE_EVERY_DAYS`].
    pub committee_anchor: Day,
    pub agreed_hours: BTreeMap<u16, Hours>,
}

/// The configuration, digested for planning.
pub struct World {
    pub seed: u64,
    pub today: Day,
    /// The first day of the history: a weekday, `years` before `today`.
    pub start: Day,
    pub beneficiaries: u64,
    initial_caseload: u64,
    pub structures: Vec<StructureFacts>,
    /// Structure weights as a table for [`Dice::pick_index`].
    weights: Vec<Weighted<()>>,
    pub with_identity: bool,
}

impl World {
    pub fn new(config: &DemoConfig) -> World {
        let today = day_of(config.today);
        let start = weekday_ceil(sub_years(today, config.years.max(1))).min(today);
        let weights: Vec<Weighted<()>> = config.structures.iter().map(|structure| ((), structure.weight)).collect();
        let total_weight: u32 = weights.iter().map(|(_, weight)| weight).sum();
        // Without a structure to refer them to there is no one to follow.
        let beneficiaries = if total_weight == 0 { 0 } else { config.beneficiaries as u64 };
        let mut dice = Dice::new(config.seed, u64::MAX);
        let structures = config
            .structures
            .iter()
            .enumerate()
            .map(|(index, structure)| {
                let profile = KindProfile::of(structure.kind);
                let share = f64::from(structure.weight) / f64::from(total_weight.max(1));
                let yearly = expected_yearly_hours(profile, beneficiaries as f64 * share, today - start);
                let agreed_hours = (year_of(start)..=year_of(today))
                    .map(|year| {
                        // The agreement is negotiated ahead: within 8 % of what the year turns out to be.
                        let hours = yearly * f64::from(dice.between((92, 108))) / 100.0;
                        let hundreds = (hours / 100.0).round().clamp(0.0, 400_000.0) as u32;
                        (year as u16, Hours::whole(hundreds * 100))
                    })
                    .collect();
                let offset = (index as Day * 3) % COMMITTEE_EVERY_DAYS;
                StructureFacts {
                    slug: structure.slug.clone(),
                    name: structure.name.clone(),
                    kind: structure.kind,
                    profile,
                    committee_anchor: weekday_ceil(start + offset),
                    agreed_hours,
                }
            })
            .collect();
        World {
            seed: config.seed,
            today,
            start,
            beneficiaries,
            initial_caseload: beneficiaries * INITIAL_CASELOAD / 1000,
            structures,
            weights,
            with_identity: config.with_identity,
        }
    }

    /// The day person `index` is registered: the initial caseload over the first days, then the
    /// others evenly until `today`. Increasing with `index`, so people can be planned in order.
    pub fn arrival(&self, index: u64) -> Day {
        let span = i64::from(self.today - self.start);
        let head = INITIAL_CASELOAD_DAYS.min(span);
        let offset = if index < self.initial_caseload {
            index as i64 * head / self.initial_caseload as i64
        } else {
            let flow = (self.beneficiaries - self.initial_caseload).max(1) as i64;
            head + (index - self.initial_caseload) as i64 * (span - head) / flow
        };
        weekday_floor(self.start + offset as Day)
    }

    fn pick_structure(&self, dice: &mut Dice) -> u16 {
        dice.pick_index(&self.weights) as u16
    }

    pub fn structure(&self, index: u16) -> &StructureFacts {
        &self.structures[usize::from(index)]
    }
}

/// Hours a structure's people work in a year, on average, given how many are referred to it over
/// the history: what its funder would agree to.
fn expected_yearly_hours(profile: &KindProfile, people: f64, history_days: Day) -> f64 {
    let left_early: u32 = DESTINATIONS
        .iter()
        .filter(|(destination, _)| {
            matches!(destination.category(), ExitCategory::OtherExit | ExitCategory::NeutralExit)
        })
        .map(|(_, weight)| weight)
        .sum();
    let total: u32 = DESTINATIONS.iter().map(|(_, weight)| weight).sum();
    let kept = 1.0 - f64::from(profile.no_contract_per_mille) / 1000.0;
    let with_contract =
        kept * (1.0 - f64::from(left_early) / f64::from(total) * f64::from(LEFT_BEFORE_CONTRACT) / 1000.0);
    let episodes = people * (1.0 + f64::from(REENROLLED) / 1000.0 * 0.6);
    // Some stays end before their term.
    let months = f64::from(profile.stay_months.0 + profile.stay_months.1) / 2.0 * 0.75;
    let weekly = weighted_mean(profile.weekly_hours);
    let pace = f64::from(profile.monthly_pace_percent.0 + profile.monthly_pace_percent.1) / 200.0;
    let years = (f64::from(history_days) / 365.25).max(1.0);
    episodes * with_contract * months * 52.0 / 12.0 * weekly * pace / years
}

fn weighted_mean(table: &[Weighted<u32>]) -> f64 {
    let total: u32 = table.iter().map(|(_, weight)| weight).sum();
    let sum: u32 = table.iter().map(|(value, weight)| value * weight).sum();
    f64::from(sum) / f64::from(total.max(1))
}

/// One planned event: its day and what to build.
#[derive(Clone, Copy, Debug)]
pub struct Slot {
    pub day: Day,
    pub what: What,
}

/// The data of a planned event, with indices into the tables instead of strings. Contracts and
/// trainings are numbered within the stream, which keeps their ids unique across episodes.
#[derive(Clone, Copy, Debug)]
pub enum What {
    Registered {
        structure: u16,
        birth_year: u16,
    },
    Referred {
        structure: u16,
        prescriber: PrescriberKind,
        prescriber_name: u8,
        situation: Situation,
        benefit: Option<Benefit>,
        qualification: Option<Qualification>,
        family_quotient: Option<u16>,
    },
    ContractStarted {
        structure: u16,
        contract: u8,
        kind: ContractKind,
        weekly_hours: u8,
        planned_end: Day,
        employer: u8,
        job: u8,
    },
    ContractEnded {
        contract: u8,
        reason: ContractEndReason,
    },
    HoursWorked {
        contract: u8,
        month: Month,
        hours: Hours,
    },
    SkillsAssessed {
        structure: u16,
        assessment: u8,
        skills: [u8; 3],
        summary: u8,
    },
    TrainingStarted {
        training: u8,
        course: u8,
    },
    TrainingCompleted {
        training: u8,
        result: TrainingResult,
    },
    SupportProvided {
        domain: u8,
        action: SupportAction,
        partner: u8,
    },
    FollowUpHeld {
        kind: FollowUpKind,
        next_due: Option<Day>,
    },
    Exited {
        destination: Destination,
    },
    FollowedUpAfterExit {
        situation: SituationAfterExit,
    },
    /// Corrects the slot at index `target` of the same person.
    Corrected {
        target: u16,
        reason: u8,
        fix: Fix,
    },
}

/// What a correction does to the event it names.
#[derive(Clone, Copy, Debug)]
pub enum Fix {
    Retract,
    BirthYear(u16),
    Hours(Hours),
    Destination(Destination),
}

impl Fix {
    /// The corrected event's data with the fix applied, or `None` for a retraction.
    pub fn apply(self, what: What) -> Option<What> {
        Some(match (self, what) {
            (Fix::Retract, _) => return None,
            (Fix::BirthYear(birth_year), What::Registered { structure, .. }) => {
                What::Registered { structure, birth_year }
            }
            (Fix::Hours(hours), What::HoursWorked { contract, month, .. }) => {
                What::HoursWorked { contract, month, hours }
            }
            (Fix::Destination(destination), What::Exited { .. }) => What::Exited { destination },
            // Corrections are planned only with a fix of their target's kind.
            (_, what) => what,
        })
    }
}

impl What {
    /// The order of steps recorded on the same day: a registration before its referral, a contract
    /// started before its hours and its end, everything of an episode before its exit.
    fn rank(&self) -> u8 {
        match self {
            What::Registered { .. } => 0,
            What::Referred { .. } => 1,
            What::ContractStarted { .. } => 2,
            What::SkillsAssessed { .. } | What::TrainingStarted { .. } => 3,
            What::HoursWorked { .. } => 4,
            What::FollowUpHeld { .. } | What::SupportProvided { .. } => 5,
            What::TrainingCompleted { .. } => 6,
            What::ContractEnded { .. } => 7,
            What::Exited { .. } => 8,
            What::FollowedUpAfterExit { .. } => 9,
            What::Corrected { .. } => 10,
        }
    }
}

impl Slot {
    fn key(&self) -> (Day, u8) {
        (self.day, self.what.rank())
    }
}

/// One beneficiary: their planned events and how far the iterator has gone through them.
pub struct Person {
    pub index: u64,
    pub gender: Gender,
    pub slots: Vec<Slot>,
    pub next: usize,
}

impl Person {
    pub fn next_day(&self) -> Day {
        self.slots[self.next].day
    }

    fn key(&self) -> (Day, u64) {
        (self.next_day(), self.index)
    }
}

/// Reversed, so that `BinaryHeap` (a max-heap) yields the earliest next event first, ties going to
/// the person registered first.
impl Ord for Person {
    fn cmp(&self, other: &Self) -> Ordering {
        other.key().cmp(&self.key())
    }
}

impl PartialOrd for Person {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Person {
    fn eq(&self, other: &Self) -> bool {
        self.key() == other.key()
    }
}

impl Eq for Person {}

/// Plans the history of person `index`, as recorded up to `today`.
pub fn plan(world: &World, index: u64) -> Person {
    let mut dice = Dice::new(world.seed, index * 4);
    let arrival = world.arrival(index);
    let mut structure = world.pick_structure(&mut dice);
    let gender = match dice.chance(GENDER_OTHER.iter().map(|(_, weight)| weight).sum()) {
        true => dice.pick(GENDER_OTHER),
        false if dice.chance(world.structure(structure).profile.female_per_mille) => Gender::Female,
        false => Gender::Male,
    };
    let ages = dice.pick(AGES);
    let age = dice.between(ages);
    let birth_year = u16::try_from(year_of(arrival) - age as i32).unwrap_or(1900);
    let caseload = index < world.initial_caseload;
    let mut draft = Draft { world, dice, slots: Vec::with_capacity(48), birth_year, contracts: 0, trainings: 0 };
    draft.push(arrival, What::Registered { structure, birth_year });

    let mut referred = if caseload {
        arrival
    } else {
        let delays = draft.dice.pick(REFERRED_AFTER_DAYS);
        weekday_floor(arrival + draft.dice.between(delays) as Day)
    };
    for episode in 0..MAX_EPISODES {
        if referred > world.today {
            break;
        }
        let (exit, category) = draft.episode(structure, referred, caseload && episode == 0);
        if exit > world.today {
            break;
        }
        let again = draft.dice.chance(REENROLLED).then(|| exit + draft.dice.between(REENROLLED_AFTER_DAYS) as Day);
        let again = again.map(weekday_floor).filter(|again| *again <= world.today);
        draft.follow_up_after_exit(exit, category, again);
        let Some(again) = again else { break };
        if draft.dice.chance(REENROLLED_ELSEWHERE) {
            structure = world.pick_structure(&mut draft.dice);
        }
        referred = again;
    }

    draft.slots.retain(|slot| slot.day <= world.today);
    draft.slots.sort_by_key(Slot::key);
    if draft.dice.chance(CORRECTED) {
        draft.make_a_mistake();
    }
    Person { index, gender, slots: draft.slots, next: 0 }
}

/// A history being planned: the person's dice and counters.
struct Draft<'w> {
    world: &'w World,
    dice: Dice,
    slots: Vec<Slot>,
    birth_year: u16,
    contracts: u8,
    trainings: u8,
}

impl Draft<'_> {
    fn push(&mut self, day: Day, what: What) {
        self.slots.push(Slot { day, what });
    }

    fn days(&mut self, range: (u32, u32)) -> Day {
        self.dice.between(range) as Day
    }

    /// Plans one episode from its referral; returns its exit day (perhaps after `today`) and the
    /// exit's category.
    fn episode(&mut self, structure: u16, referred: Day, caseload: bool) -> (Day, ExitCategory) {
        let profile = self.world.structure(structure).profile;
        self.referral(structure, referred);
        let destination = self.dice.pick(DESTINATIONS);
        let category = destination.category();
        let leaves_before_contract = matches!(category, ExitCategory::OtherExit | ExitCategory::NeutralExit)
            && self.dice.chance(LEFT_BEFORE_CONTRACT);
        let without_contract = self.dice.chance(profile.no_contract_per_mille) || leaves_before_contract;
        let (exit, first_contract) = if without_contract {
            (weekday_floor(referred + self.days(WITHOUT_CONTRACT_DAYS)), None)
        } else {
            let (first, end, early) = self.contracts(structure, referred, category, caseload);
            let gap = if early { EXIT_AFTER_EARLY_END_DAYS } else { EXIT_AFTER_TERM_DAYS };
            (weekday_floor(end + self.days(gap)), Some(first))
        };
        self.assessment(structure, referred, exit);
        if let Some(first) = first_contract {
            self.training(first, exit);
        }
        self.supports(referred, exit);
        self.follow_ups(referred, exit);
        self.committees(structure, referred, exit);
        self.push(exit, What::Exited { destination });
        (exit, category)
    }

    fn referral(&mut self, structure: u16, referred: Day) {
        let age = (year_of(referred) - i32::from(self.birth_year)).max(0) as u32;
        let prescribers = if age < YOUNG_UNTIL { YOUNG_PRESCRIBERS } else { ADULT_PRESCRIBERS };
        let prescriber = self.dice.pick(prescribers);
        let names = prescriber_names(prescriber).len();
        let prescriber_name = if names == 0 { NONE } else { self.dice.index(names) as u8 };
        let situation = self.dice.pick(SITUATIONS);
        // The RSA starts at 25 (save exceptions the demo leaves out).
        let benefit = self.dice.pick(BENEFITS).filter(|benefit| *benefit != Benefit::Rsa || age >= YOUNG_UNTIL);
        let qualification = self.dice.pick(QUALIFICATIONS);
        let band = if benefit == Some(Benefit::Rsa) { FAMILY_QUOTIENT_ON_RSA } else { FAMILY_QUOTIENT_OTHERWISE };
        let known = self.dice.chance(FAMILY_QUOTIENT_KNOWN);
        let family_quotient = self.dice.between(band) as u16;
        self.push(
            referred,
            What::Referred {
                structure,
                prescriber,
                prescriber_name,
                situation,
                benefit,
                qualification,
                family_quotient: known.then_some(family_quotient),
            },
        );
    }

    /// Plans the contracts of an episode: a first one, then renewals until the stay is over; the
    /// last one ends early unless the person leaves at its term. Returns the first contract's start,
    /// the last one's end and whether it ended early.
    fn contracts(&mut self, structure: u16, referred: Day, category: ExitCategory, caseload: bool) -> (Day, Day, bool) {
        let profile = self.world.structure(structure).profile;
        let wait = if caseload {
            // Already at work when the structure adopted the tracker.
            self.days((0, 5))
        } else {
            let waits = self.dice.pick(WAITS);
            self.days(waits)
        };
        let first = weekday_floor(referred + wait);
        let mut stay = self.dice.between(profile.stay_months);
        if caseload {
            stay = self.dice.between((1, stay));
        }
        let stay_end = add_months(first, stay);
        let reason = self.dice.pick(end_reasons(category));
        let early = reason != ContractEndReason::EndOfTerm;
        let kind = self.dice.pick(profile.contract_kinds);
        let weekly_hours = self.dice.pick(profile.weekly_hours);
        let employer = if profile.employers.is_empty() { NONE } else { self.dice.index(profile.employers.len()) as u8 };
        let job = self.dice.index(profile.jobs.len()) as u8;
        let mut months = self.dice.pick(profile.first_contract_months);
        let mut start = first;
        loop {
            self.contracts += 1;
            let contract = self.contracts;
            let term = add_months(start, months);
            let last = term >= stay_end;
            let planned_end = weekday_floor(term.min(stay_end)).max(start + 1);
            let end = if last && early && planned_end - start > 15 {
                weekday_floor(start + 14 + self.days((0, (planned_end - start - 15) as u32)))
            } else {
                planned_end
            };
            self.push(
                start,
                What::ContractStarted {
                    structure,
                    contract,
                    kind,
                    weekly_hours: weekly_hours as u8,
                    planned_end,
                    employer,
                    job,
                },
            );
            self.hours(contract, start, end, weekly_hours, profile.monthly_pace_percent);
            let reason = if last { reason } else { ContractEndReason::EndOfTerm };
            self.push(end, What::ContractEnded { contract, reason });
            if last {
                return (first, end, early);
            }
            // A renewal starts on the next working day.
            start = weekday_ceil(planned_end + 1);
            months = profile.renewal_months;
        }
    }

    /// One `hours_worked` per month of the contract, recorded when the month (or the contract)
    /// closes; the month of `today` as it stands, once a few days of it have passed.
    fn hours(&mut self, contract: u8, start: Day, end: Day, weekly_hours: u32, pace: (u32, u32)) {
        let today = self.world.today;
        let mut from = start;
        while from <= end {
            let (month_first, month_last) = month_bounds(from);
            let until = end.min(month_last);
            let (recorded, until) = if until <= today {
                (weekday_floor(until).max(from), until)
            } else if from <= today && today <= month_last && day_of_month(today) >= CURRENT_MONTH_RECORDED_FROM_DAY {
                (today, today)
            } else {
                break;
            };
            let days = u64::from((until - from + 1) as u32);
            let month_days = u64::from((month_last - month_first + 1) as u32);
            let percent = u64::from(self.dice.between(pace));
            // Weekly hours × 52/12 weeks a month × the share of the month covered × the pace.
            let hundredths = u64::from(weekly_hours) * 100 * 52 * days * percent / (12 * month_days * 100);
            let hours = Hours::from_hundredths(hundredths.clamp(100, 100_000) as u32);
            self.push(recorded, What::HoursWorked { contract, month: month_of(from), hours });
            from = month_last + 1;
        }
    }

    fn assessment(&mut self, structure: u16, referred: Day, exit: Day) {
        if !self.dice.chance(ASSESSED) {
            return;
        }
        let on = weekday_floor(referred + self.days(ASSESSED_AFTER_DAYS));
        let assessment = self.dice.pick_index(ASSESSMENTS) as u8;
        let known = self.world.structure(structure).profile.skills.len();
        let first = self.dice.index(known);
        let count = self.dice.between((2, 3)).min(known as u32);
        // Distinct skills: consecutive entries of the kind's list, from a random one.
        let mut skills = [NONE; 3];
        for (offset, skill) in skills.iter_mut().take(count as usize).enumerate() {
            *skill = ((first + offset) % known) as u8;
        }
        let summary = self.dice.index(ASSESSMENT_SUMMARIES.len()) as u8;
        if on <= exit {
            self.push(on, What::SkillsAssessed { structure, assessment, skills, summary });
        }
    }

    fn training(&mut self, first_contract: Day, exit: Day) {
        if !self.dice.chance(TRAINED) {
            return;
        }
        let start = weekday_floor(first_contract + self.days(TRAINING_AFTER_DAYS));
        let course = self.dice.pick_index(COURSES);
        let details = &COURSES[course].0;
        let results = if details.certification.is_some() { CERTIFIED_RESULTS } else { UNCERTIFIED_RESULTS };
        let result = self.dice.pick(results);
        if start > exit {
            return;
        }
        self.trainings += 1;
        let training = self.trainings;
        self.push(start, What::TrainingStarted { training, course: course as u8 });
        // Part-time alongside the contract: about three hours a day.
        let done = weekday_floor(start + (details.planned_hours / 3 + 1) as Day);
        if done <= exit {
            self.push(done, What::TrainingCompleted { training, result });
        }
    }

    fn supports(&mut self, referred: Day, exit: Day) {
        for _ in 0..self.dice.pick(SUPPORTS_PER_EPISODE) {
            let on = weekday_floor(referred + self.days((0, (exit - referred) as u32)));
            let domain = self.dice.pick_index(SUPPORT_DOMAINS);
            let action = self.dice.pick(SUPPORT_ACTIONS);
            let partners = SUPPORT_DOMAINS[domain].0 .1.len();
            let partner =
                if self.dice.chance(SUPPORT_WITHOUT_PARTNER) { NONE } else { self.dice.index(partners) as u8 };
            self.push(on, What::SupportProvided { domain: domain as u8, action, partner });
        }
    }

    /// Individual meetings (or calls) about monthly, from the referral to the exit.
    fn follow_ups(&mut self, referred: Day, exit: Day) {
        let mut planned = referred + self.days(FIRST_FOLLOW_UP_DAYS);
        while planned <= exit {
            let on = weekday_floor(planned);
            let kind = self.dice.pick(FOLLOW_UP_KINDS);
            let next_due = self.dice.chance(NEXT_DUE_SET).then(|| on + self.dice.between(NEXT_DUE_DAYS) as Day);
            self.push(on, What::FollowUpHeld { kind, next_due });
            planned += self.days(FOLLOW_UP_EVERY_DAYS);
        }
    }

    /// The structure's committees share their dates; each person is reviewed at some of them.
    fn committees(&mut self, structure: u16, referred: Day, exit: Day) {
        let anchor = self.world.structure(structure).committee_anchor;
        let first = (referred - anchor + COMMITTEE_EVERY_DAYS - 1).div_euclid(COMMITTEE_EVERY_DAYS);
        let phase = self.dice.below(COMMITTEE_REVIEWS_EVERY as u32) as i32;
        let every = COMMITTEE_EVERY_DAYS * COMMITTEE_REVIEWS_EVERY;
        let mut on = anchor + (first + phase) * COMMITTEE_EVERY_DAYS;
        while on <= exit {
            self.push(on, What::FollowUpHeld { kind: FollowUpKind::Committee, next_due: Some(on + every) });
            on += every;
        }
    }

    /// The six-month follow-up of an exit, unless the person was referred again before it.
    fn follow_up_after_exit(&mut self, exit: Day, category: ExitCategory, referred_again: Option<Day>) {
        let followed = self.dice.chance(FOLLOWED_UP_AFTER_EXIT);
        let on = weekday_floor(exit + self.days(FOLLOW_UP_AFTER_EXIT_DAYS));
        let situation = if self.dice.chance(employed_after_exit(category)) {
            SituationAfterExit::Employed
        } else {
            self.dice.pick(not_employed_after_exit(category))
        };
        if followed && referred_again.is_none_or(|again| on < again) {
            self.push(on, What::FollowedUpAfterExit { situation });
        }
    }

    /// Turns one recorded step into a mistake and appends its correction (a replacement, or the
    /// retraction of a duplicate), as coordinators do.
    fn make_a_mistake(&mut self) {
        let mistake = self.dice.pick(MISTAKES);
        let (target, reason, fix) = match mistake {
            Mistake::Hours => {
                let Some(index) = self.nth(|what| matches!(what, What::HoursWorked { .. })) else { return };
                let What::HoursWorked { contract, month, hours } = self.slots[index].what else { return };
                let typed = Hours::from_hundredths(hours.hundredths.saturating_mul(10));
                self.slots[index].what = What::HoursWorked { contract, month, hours: typed };
                (index, 0, Fix::Hours(hours))
            }
            Mistake::DuplicateFollowUp | Mistake::DuplicateSupport => {
                let support = mistake == Mistake::DuplicateSupport;
                let Some(index) = self.nth(|what| match what {
                    What::SupportProvided { .. } => support,
                    What::FollowUpHeld { kind, .. } => !support && *kind != FollowUpKind::Committee,
                    _ => false,
                }) else {
                    return;
                };
                self.slots.insert(index + 1, self.slots[index]);
                (index + 1, 1, Fix::Retract)
            }
            Mistake::BirthYear => {
                let What::Registered { structure, birth_year } = self.slots[0].what else { return };
                let swapped = birth_year - birth_year % 100 + birth_year % 10 * 10 + birth_year / 10 % 10;
                let typed = if swapped == birth_year { birth_year + 1 } else { swapped };
                self.slots[0].what = What::Registered { structure, birth_year: typed };
                (0, 2, Fix::BirthYear(birth_year))
            }
            Mistake::Destination => {
                let Some(index) = self.nth(|what| matches!(what, What::Exited { .. })) else { return };
                let What::Exited { destination } = self.slots[index].what else { return };
                self.slots[index].what = What::Exited { destination: mistaken_destination(destination) };
                (index, 3, Fix::Destination(destination))
            }
        };
        let on = (self.slots[target].day + self.days(CORRECTED_AFTER_DAYS)).min(self.world.today);
        let correction = Slot { day: on, what: What::Corrected { target: target as u16, reason, fix } };
        let at = self.slots.partition_point(|slot| slot.key() <= correction.key());
        self.slots.insert(at, correction);
    }

    /// The index of a random slot among those that match.
    fn nth(&mut self, matches: impl Fn(&What) -> bool) -> Option<usize> {
        let count = self.slots.iter().filter(|slot| matches(&slot.what)).count();
        if count == 0 {
            return None;
        }
        let chosen = self.dice.index(count);
        self.slots.iter().enumerate().filter(|(_, slot)| matches(&slot.what)).nth(chosen).map(|(index, _)| index)
    }
}
