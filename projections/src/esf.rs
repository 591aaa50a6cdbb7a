//! The ESF+ common indicators (Regulation (EU) 2021/1057, Annex I; CONTRACT §11), by gender:
//! output indicators over the participants who entered in the period (their referral is in it),
//! immediate result indicators over those who left in it, and the longer-term one (in
//! employment six months after leaving).
//!
//! Five answers the indicators count are special-category data, sealed in the log with the
//! person's key and never folded here. So the work is in two steps: [`Projections::esf_episodes`]
//! gives each episode of the period as the fold knows it (and the referral event whose sealed
//! answers the caller opens, with the keys, outside the projections), and [`EsfIndicators::of`]
//! counts, a pure function of those episodes and the answers opened. A person whose identity was
//! erased has no answers left to count: the ESF+ counts them as not having said.
//!
//! Definitions: unemployed includes long-term unemployed; inactive includes people in training
//! at entry (the ESF+ counts people in education as inactive); ages are taken at referral
//! (referral year − birth year); in employment on leaving is an exit to durable or transition
//! employment (business creation is self-employment); in education or training, an exit to a
//! qualifying training; gaining a qualification, a training certified during the episode;
//! disadvantaged, a participant long-term unemployed or below ISCED 3 at entry, or with a
//! disability, third-country national, of foreign background, of a minority, homeless or in
//! housing exclusion, or from a rural area.

use std::fmt::Write as _;

use parcours_core::vocabulary::{
    Answer, Date, Destination, EducationLevel, EventId, ExitCategory, Gender, SensitiveAnswers, Situation, Slug,
    StreamId, TrainingResult,
};
use serde::Serialize;

use crate::disclosed::Disclosed;
use crate::disclosure::Table;

use crate::period::Period;
use crate::projections::Projections;
use crate::track::Step as TrackStep;

/// The question: a period, and one structure or all.
#[derive(Clone, Debug)]
pub struct EsfQuery {
    pub period: Period,
    pub structure: Option<Slug>,
}

/// One episode of the period as the indicators read it. The sensitive answers are not here: they
/// are sealed in the referral event `referral`, which the caller opens.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EsfEpisode {
    pub stream: StreamId,
    pub referral: EventId,
    pub gender: Gender,
    /// Referred in the period: counted by the output indicators.
    pub entered: bool,
    pub age_at_referral: i32,
    pub situation: Situation,
    pub education_level: Option<EducationLevel>,
    pub rural_area: Option<Answer>,
    /// Where to, when the episode ended in the period: counted by the result indicators.
    pub left_to: Option<Destination>,
    /// A training of the episode was certified by the day it ended.
    pub certified: bool,
    pub employed_six_months_after: bool,
}

impl Projections {
    /// Every episode referred or ended in the period (of the structure asked, or any), in log order
    /// of their people; an unknown structure has none.
    pub fn esf_episodes(&self, query: &EsfQuery) -> Vec<EsfEpisode> {
        let period = query.period;
        let structure = query.structure.as_ref().map(|slug| self.structures.find(slug));
        if structure == Some(None) {
            return Vec::new();
        }
        let in_period = |key: &(Date, u32, u32)| (key.1, key.2);
        let range = (period.from, 0, 0)..=(period.to, u32::MAX, u32::MAX);
        let mut keys: Vec<(u32, u32)> = self.indexes.referrals.range(range.clone()).map(in_period).collect();
        keys.extend(self.indexes.exits.range(range).map(in_period));
        keys.sort_unstable();
        keys.dedup();
        let mut episodes = Vec::new();
        for (beneficiary_ix, episode_ix) in keys {
            let beneficiary = self.beneficiary(beneficiary_ix);
            let summary = &beneficiary.summary;
            let (Some(episode), Some(registration)) = (summary.episodes.get(episode_ix as usize), summary.registration)
            else {
                continue;
            };
            if structure.is_some_and(|structure| structure != Some(episode.facts.structure)) {
                continue;
            }
            let exit = episode.exit.filter(|exit| period.contains(exit.exited_on));
            let certified = beneficiary.track.steps.iter().any(|placed| {
                placed.episode == episode_ix
                    && matches!(placed.step, TrackStep::Training { result: Some(TrainingResult::Certified), .. })
            });
            episodes.push(EsfEpisode {
                stream: self.stream_of(beneficiary_ix),
                referral: episode.referral,
                gender: registration.gender,
                entered: period.contains(episode.referred_on),
                age_at_referral: episode.referred_on.year() - i32::from(registration.birth_year),
                situation: episode.facts.situation,
                education_level: episode.facts.education_level,
                rural_area: episode.facts.rural_area,
                left_to: exit.map(|exit| exit.destination),
                certified,
                employed_six_months_after: exit.is_some()
                    && episode.six_months_after_exit() == Some(parcours_core::vocabulary::SituationAfterExit::Employed),
            });
        }
        episodes
    }
}

/// The indicators, each a row by gender.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct EsfIndicators {
    pub from: Date,
    pub to: Date,
    pub structure: Option<Slug>,
    pub output: Vec<IndicatorRow>,
    pub results_on_leaving: Vec<IndicatorRow>,
    pub longer_term: Vec<IndicatorRow>,
}

/// One indicator: its total and its count for each gender.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct IndicatorRow {
    pub indicator: &'static str,
    pub total: Disclosed,
    pub female: Disclosed,
    pub male: Disclosed,
    pub non_binary: Disclosed,
    pub undisclosed: Disclosed,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub suppressed: bool,
}

impl IndicatorRow {
    fn cells(&self) -> [Disclosed; 5] {
        [self.total, self.female, self.male, self.non_binary, self.undisclosed]
    }

    fn cells_mut(&mut self) -> [&mut Disclosed; 5] {
        [&mut self.total, &mut self.female, &mut self.male, &mut self.non_binary, &mut self.undisclosed]
    }
}

/// The output indicators, in the order of Annex I.
const OUTPUT: [&str; 16] = [
    "participants",
    "unemployed_including_long_term",
    "long_term_unemployed",
    "inactive",
    "employed",
    "below_30",
    "above_54",
    "isced_0_2",
    "isced_3_4",
    "isced_5_8",
    "with_disabilities",
    "third_country_nationals",
    "foreign_background",
    "minorities",
    "homeless_or_housing_exclusion",
    "rural_areas",
];

const RESULTS: [&str; 5] = [
    "job_searching_on_leaving",
    "in_education_or_training_on_leaving",
    "gaining_a_qualification_on_leaving",
    "in_employment_on_leaving",
    "disadvantaged_in_any_of_these",
];

const LONGER_TERM: [&str; 1] = ["in_employment_six_months_after_leaving"];

fn yes(answer: Option<Answer>) -> bool {
    answer == Some(Answer::Yes)
}

/// Which output indicators an entered participant counts in, in the order of [`OUTPUT`].
fn output_of(episode: &EsfEpisode, answers: &SensitiveAnswers) -> [bool; 16] {
    use Situation::*;
    let level = episode.education_level;
    [
        true,
        matches!(episode.situation, Unemployed | LongTermUnemployed),
        episode.situation == LongTermUnemployed,
        matches!(episode.situation, Inactive | InTraining),
        episode.situation == Employed,
        episode.age_at_referral < 30,
        episode.age_at_referral > 54,
        level == Some(EducationLevel::Isced02),
        level == Some(EducationLevel::Isced34),
        level == Some(EducationLevel::Isced58),
        yes(answers.disability),
        yes(answers.third_country_national),
        yes(answers.foreign_background),
        yes(answers.minority),
        yes(answers.homeless_or_housing_exclusion),
        yes(episode.rural_area),
    ]
}

fn disadvantaged(episode: &EsfEpisode, answers: &SensitiveAnswers) -> bool {
    episode.situation == Situation::LongTermUnemployed
        || episode.education_level == Some(EducationLevel::Isced02)
        || yes(answers.disability)
        || yes(answers.third_country_national)
        || yes(answers.foreign_background)
        || yes(answers.minority)
        || yes(answers.homeless_or_housing_exclusion)
        || yes(episode.rural_area)
}

/// Which result indicators a participant who left counts in, in the order of [`RESULTS`].
fn results_of(episode: &EsfEpisode, destination: Destination, answers: &SensitiveAnswers) -> [bool; 5] {
    let category = destination.category();
    let results = [
        destination == Destination::JobSeeking,
        destination == Destination::QualifyingTraining,
        episode.certified,
        matches!(category, ExitCategory::DurableEmployment | ExitCategory::TransitionEmployment),
    ];
    let any = results.iter().any(|&counted| counted);
    [results[0], results[1], results[2], results[3], any && disadvantaged(episode, answers)]
}

/// Counts by indicator and gender.
struct Counts(Vec<[u64; 4]>);

impl Counts {
    fn new(rows: usize) -> Counts {
        Counts(vec![[0; 4]; rows])
    }

    fn add(&mut self, counted: &[bool], gender: Gender) {
        for (row, _) in self.0.iter_mut().zip(counted).filter(|(_, &counted)| counted) {
            row[gender.index()] += 1;
        }
    }

    fn rows(&self, names: &[&'static str]) -> Vec<IndicatorRow> {
        names
            .iter()
            .zip(&self.0)
            .map(|(&indicator, counts)| {
                let count = |gender: Gender| Disclosed::Count(counts[gender.index()]);
                IndicatorRow {
                    indicator,
                    total: Disclosed::Count(counts.iter().sum()),
                    female: count(Gender::Female),
                    male: count(Gender::Male),
                    non_binary: count(Gender::NonBinary),
                    undisclosed: count(Gender::Undisclosed),
                    suppressed: false,
                }
            })
            .collect()
    }
}

const _: () = assert!(Gender::ALL.len() == 4, "a column per gender");

impl EsfIndicators {
    /// Counts the indicators of `episodes`, each with its sensitive answers as opened (default
    /// when there are none, or they were erased).
    pub fn of(query: &EsfQuery, episodes: &[(EsfEpisode, SensitiveAnswers)]) -> EsfIndicators {
        let (mut output, mut results, mut longer) = (Counts::new(16), Counts::new(5), Counts::new(1));
        for (episode, answers) in episodes {
            if episode.entered {
                output.add(&output_of(episode, answers), episode.gender);
            }
            if let Some(destination) = episode.left_to {
                results.add(&results_of(episode, destination, answers), episode.gender);
                longer.add(&[episode.employed_six_months_after], episode.gender);
            }
        }
        EsfIndicators {
            from: query.period.from,
            to: query.period.to,
            structure: query.structure.clone(),
            output: output.rows(&OUTPUT),
            results_on_leaving: results.rows(&RESULTS),
            longer_term: longer.rows(&LONGER_TERM),
        }
    }

    /// Withholds small cells and their complements (CONTRACT §7), for evaluators. The equations:
    /// each row's total is the sum of its genders; participants are the unemployed, the inactive
    /// and the employed (the situations at entry are a partition), column by column.
    pub fn withhold_small_cells(&mut self, threshold: u64) {
        let mut table = Table::default();
        let mut cells: Vec<Vec<[usize; 5]>> = Vec::new();
        for rows in [&self.output, &self.results_on_leaving, &self.longer_term] {
            let mut part = Vec::new();
            for row in rows {
                let ids = row.cells().map(|cell| match cell {
                    Disclosed::Count(count) => table.cell(count),
                    Disclosed::Rate(_) | Disclosed::Withheld => table.cell(0),
                });
                table.sum(ids[0], &ids[1..]);
                part.push(ids);
            }
            cells.push(part);
        }
        // participants = unemployed incl. long-term + inactive + employed, in every column.
        let output = &cells[0];
        for (((participants, unemployed), inactive), employed) in
            output[0].iter().zip(&output[1]).zip(&output[3]).zip(&output[4])
        {
            table.sum(*participants, &[*unemployed, *inactive, *employed]);
        }
        let withheld = table.suppress(threshold);
        for (rows, part) in
            [&mut self.output, &mut self.results_on_leaving, &mut self.longer_term].into_iter().zip(cells)
        {
            for (row, ids) in rows.iter_mut().zip(part) {
                let mut hidden = false;
                for (cell, id) in row.cells_mut().into_iter().zip(ids) {
                    if withheld[id] {
                        *cell = Disclosed::Withheld;
                        hidden = true;
                    }
                }
                row.suppressed = hidden;
            }
        }
    }

    /// CSV with a header row: one row per indicator, its part first.
    pub fn to_csv(&self) -> String {
        let mut csv = String::from("part,indicator,total,female,male,non_binary,undisclosed\n");
        let parts = [
            ("output", &self.output),
            ("results_on_leaving", &self.results_on_leaving),
            ("longer_term", &self.longer_term),
        ];
        for (part, rows) in parts {
            for row in rows {
                let IndicatorRow { indicator, total, female, male, non_binary, undisclosed, .. } = row;
                let _ = writeln!(csv, "{part},{indicator},{total},{female},{male},{non_binary},{undisclosed}");
            }
        }
        csv
    }
}
