//! The people of the statistics scenarios, as a table: who they are, where and how they entered,
//! how they left. Figures expected in the tests are counted by hand from this table.

use std::collections::BTreeMap;

use parcours_core::vocabulary::EventId;

use super::log::{after_exit, exited, person, referred, registered, Log};

pub struct Person {
    pub n: u128,
    pub gender: &'static str,
    pub birth_year: u16,
    pub structure: &'static str,
    pub situation: &'static str,
    pub prescriber: &'static str,
    pub referred_on: &'static str,
    /// (date, destination)
    pub exit: Option<(&'static str, &'static str)>,
    /// (date, situation) of the six-month follow-up after the exit.
    pub six_months: Option<(&'static str, &'static str)>,
    /// A later referral: (date, structure, situation).
    pub again: Option<(&'static str, &'static str, &'static str)>,
}

#[rustfmt::skip]
pub const PEOPLE: &[Person] = &[
    Person { n: 1, gender: "female", birth_year: 1990, structure: "aci-agen", situation: "long_term_unemployed", prescriber: "france_travail", referred_on: "2023-09-01", exit: Some(("2024-02-10", "cdi")), six_months: Some(("2024-08-10", "employed")), again: None },
    Person { n: 2, gender: "male", birth_year: 2001, structure: "aci-agen", situation: "unemployed", prescriber: "mission_locale", referred_on: "2024-01-05", exit: Some(("2024-03-01", "cdd_under_6_months")), six_months: Some(("2024-09-01", "job_seeking")), again: Some(("2024-05-01", "ai-nerac", "unemployed")) },
    Person { n: 3, gender: "female", birth_year: 1970, structure: "ai-nerac", situation: "inactive", prescriber: "spip", referred_on: "2024-01-10", exit: Some(("2024-06-30", "health")), six_months: None, again: None },
    Person { n: 4, gender: "non_binary", birth_year: 1985, structure: "aci-agen", situation: "unemployed", prescriber: "france_travail", referred_on: "2024-02-01", exit: Some(("2024-07-15", "qualifying_training")), six_months: Some(("2025-01-15", "employed")), again: None },
    Person { n: 5, gender: "male", birth_year: 1960, structure: "ai-nerac", situation: "long_term_unemployed", prescriber: "caf", referred_on: "2024-03-01", exit: Some(("2024-12-31", "no_news")), six_months: None, again: None },
    Person { n: 6, gender: "female", birth_year: 1999, structure: "aci-agen", situation: "unemployed", prescriber: "self", referred_on: "2024-04-01", exit: Some(("2025-01-02", "cdi")), six_months: None, again: None },
    Person { n: 7, gender: "female", birth_year: 1980, structure: "ai-nerac", situation: "long_term_unemployed", prescriber: "france_travail", referred_on: "2023-05-01", exit: Some(("2023-12-31", "cdi")), six_months: None, again: None },
    Person { n: 8, gender: "male", birth_year: 1990, structure: "aci-agen", situation: "unemployed", prescriber: "plie", referred_on: "2024-05-01", exit: Some(("2024-09-01", "job_seeking")), six_months: None, again: Some(("2024-10-01", "aci-agen", "long_term_unemployed")) },
];

/// What the tests need to correct later.
pub struct Built {
    pub log: Log,
    /// Person number → the event id of their first exit.
    pub exits: BTreeMap<u128, EventId>,
    /// Person number → the event id of their first referral.
    pub referrals: BTreeMap<u128, EventId>,
}

/// The people of [`PEOPLE`], all recorded on 2025-02-01.
pub fn build() -> Built {
    let mut log = Log::new("2025-02-01T09:00:00Z");
    let mut exits = BTreeMap::new();
    let mut referrals = BTreeMap::new();
    for p in PEOPLE {
        let stream = person(p.n);
        log.add(stream, "2023-01-02", registered(p.structure, p.gender, p.birth_year));
        referrals.insert(p.n, log.add(stream, p.referred_on, referred(p.structure, p.situation, p.prescriber)));
        if let Some((on, destination)) = p.exit {
            exits.insert(p.n, log.add(stream, on, exited(destination)));
        }
        if let Some((on, structure, situation)) = p.again {
            log.add(stream, on, referred(structure, situation, "france_travail"));
        }
        if let Some((on, situation)) = p.six_months {
            log.add(stream, on, after_exit(6, situation));
        }
    }
    Built { log, exits, referrals }
}
