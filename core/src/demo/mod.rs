//! A deterministic generator of realistic pathways: the demo of `parcours serve --demo`, and the
//! large logs the benchmarks need.
//!
//! Why generated rather than stored: a demo must end at the day it is shown (open episodes,
//! contracts ending this month, overdue follow-ups), and benchmarks need logs of any size. Why
//! deterministic: the same configuration must give byte-identical events (ids included) on every
//! machine and every run, so that figures computed from a demo or a benchmark log can be compared.
//! Randomness comes from seeded ChaCha streams (see `dice`), one per beneficiary.
//!
//! The events come in the order a tracker would have recorded them: the structures' own streams
//! first, then every beneficiary's steps interleaved by date. They are valid by construction:
//! appended in that order with `today` = [`DemoConfig::today`], each passes [`crate::rules::check`].
//! The generator streams: it keeps only the people whose history is in progress, as compact
//! plans, and builds each event when it is reached; ten million events never sit in memory.
//!
//! What the figures look like, on purpose: about half of the exits are dynamic, close to the
//! national IAE figures; about 45 % of those followed up six months after their exit are employed;
//! about one exit in ten is followed by a new referral; a few events are corrected; structures
//! hold a committee every three weeks; and each structure's agreed hours are close to what its
//! people work. The tables in `tables` hold every number.

mod build;
mod days;
mod dice;
mod plan;
mod tables;

use std::collections::binary_heap::PeekMut;
use std::collections::BinaryHeap;

use crate::store::Seeded;
use crate::vocabulary::{Actor, Date, NewEvent, Slug, StreamId, StructureKind, Timestamp};
use dice::Dice;
use plan::{Person, World};
use tables::{KindProfile, SCALED_KINDS, TOWNS};

/// Who records the demo's events (`recorded_by`).
pub const DEMO_ACTOR: &str = "system:demo";

/// The seed of [`demo_config`]: the department number of Lot-et-Garonne.
pub const DEMO_SEED: u64 = 47;

/// What to generate. Two equal configurations give identical events.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct DemoConfig {
    pub seed: u64,
    /// The last day of the history: nothing happens after it, and episodes still open on it stay
    /// open. The store must accept the events with this day as its own "today".
    pub today: Date,
    /// How many years of history end at `today` (at least one).
    pub years: u32,
    pub beneficiaries: usize,
    /// Where people are referred; without any structure (or with zero weights), no one is.
    pub structures: Vec<DemoStructure>,
    /// Whether registrations carry names, birth dates and addresses (`identity`).
    pub with_identity: bool,
}

/// One structure of the demo.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct DemoStructure {
    pub slug: Slug,
    pub name: String,
    pub kind: StructureKind,
    /// Its share of the referrals, relative to the other structures' weights.
    pub weight: u32,
}

impl DemoConfig {
    /// The events, in recording order, each with the stream it is appended to.
    pub fn events(&self) -> DemoEvents {
        DemoEvents {
            world: World::new(self),
            next_structure: 0,
            next_person: 0,
            active: BinaryHeap::new(),
            ended: false,
        }
    }

    /// The events as if recorded when they happened (at nine in Paris on their day, a millisecond
    /// apart), for [`crate::store::Store::seed`]; never later than `now`. The audit trail and the
    /// `as_of` questions of a demo then have a history to show.
    pub fn seeded(&self, now: Timestamp) -> impl Iterator<Item = Seeded> {
        let mut last: Option<Timestamp> = None;
        let mut events = self.events();
        std::iter::from_fn(move || {
            let (stream, event) = events.next()?;
            let nine = event
                .occurred_on
                .0
                .and_hms_opt(9, 0, 0)
                .and_then(|time| time.and_local_timezone(chrono_tz::Europe::Paris).earliest())
                .map_or(now, |time| Timestamp(time.with_timezone(&chrono::Utc)));
            let next = last.and_then(|last| Timestamp::from_millis(last.millis() + 1)).unwrap_or(nine);
            let recorded_at = nine.max(next).min(now.max(next));
            last = Some(recorded_at);
            let ends_stream = events.ended;
            Some(Seeded { stream, event, recorded_at, recorded_by: Actor(DEMO_ACTOR.into()), ends_stream })
        })
    }

    /// The day the history starts (the structures' records are dated on it).
    pub fn history_start(&self) -> Date {
        days::date_of(World::new(self).start)
    }
}

/// The demo of `parcours serve --demo`: seven structures of the Agen area, of every kind, and 400
/// people over the three years ending at `today`, with names.
pub fn demo_config(today: Date) -> DemoConfig {
    let structures = [
        ("menage-service-agen", "Ménage Service Agen", StructureKind::Ai, 18),
        ("jardins-du-gravier", "Les Jardins du Gravier", StructureKind::Aci, 20),
        ("recyclerie-agenaise", "La Recyclerie agenaise", StructureKind::Aci, 12),
        ("batir-insertion-47", "Bâtir Insertion 47", StructureKind::Ei, 12),
        ("interim-solidaire-garonne", "Intérim Solidaire Garonne", StructureKind::Etti, 10),
        ("plie-agglomeration-agen", "PLIE de l'Agglomération d'Agen", StructureKind::Plie, 16),
        ("ccas-agen", "CCAS d'Agen", StructureKind::Ccas, 8),
    ]
    .into_iter()
    .map(|(slug, name, kind, weight)| DemoStructure {
        slug: Slug::new(slug).expect("the demo's slugs are valid"),
        name: name.to_owned(),
        kind,
        weight,
    })
    .collect();
    DemoConfig { seed: DEMO_SEED, today, years: 3, beneficiaries: 400, structures, with_identity: true }
}

/// A configuration for benchmarks: `structures` generated structures of the usual mix of kinds in
/// the towns of the region, `beneficiaries` people over three years, without personal data nor
/// free text (set `with_identity` to have them). About 33 events a person: 300,000 people make ten million events.
pub fn scaled_config(seed: u64, today: Date, beneficiaries: usize, structures: usize) -> DemoConfig {
    let mut dice = Dice::new(seed, u64::MAX - 1);
    let structures = (0..structures)
        .map(|index| {
            let kind = dice.pick(SCALED_KINDS);
            let profile = KindProfile::of(kind);
            let (town, town_slug) = TOWNS[index % TOWNS.len()];
            let number = index + 1;
            DemoStructure {
                slug: Slug::new(&format!("{}-{town_slug}-{number}", profile.slug_prefix))
                    .expect("prefixes and towns are slug text, and short"),
                name: format!("{} {town} ({number})", profile.label),
                kind,
                weight: profile.typical_weight * dice.between((80, 120)),
            }
        })
        .collect();
    DemoConfig { seed, today, years: 3, beneficiaries, structures, with_identity: false }
}

/// The events of a [`DemoConfig`], in recording order: see the module documentation.
pub struct DemoEvents {
    world: World,
    next_structure: usize,
    next_person: u64,
    /// The people whose history has started and not ended, the earliest next event on top.
    active: BinaryHeap<Person>,
    /// Whether the event just given was its person's last.
    ended: bool,
}

impl Iterator for DemoEvents {
    type Item = (StreamId, NewEvent);

    fn next(&mut self) -> Option<Self::Item> {
        if self.next_structure < self.world.structures.len() {
            self.next_structure += 1;
            self.ended = false;
            return Some(self.world.structure_event(self.next_structure - 1));
        }
        // People are planned when their registration comes up, not before.
        while self.next_person < self.world.beneficiaries {
            let arrival = self.world.arrival(self.next_person);
            if self.active.peek().is_some_and(|top| top.next_day() < arrival) {
                break;
            }
            let person = plan::plan(&self.world, self.next_person);
            self.next_person += 1;
            if !person.slots.is_empty() {
                self.active.push(person);
            }
        }
        let mut top = self.active.peek_mut()?;
        let event = self.world.person_event(&top, top.next);
        top.next += 1;
        self.ended = top.next == top.slots.len();
        if self.ended {
            PeekMut::pop(top);
        }
        Some(event)
    }
}

#[cfg(test)]
mod tests;
