//! The ESF+ common indicators (CONTRACT §11): the episodes of the period from the projections,
//! the sensitive answers of each opened here with the person's key (they are sealed in the log
//! and never folded), then counted, and withheld below the small-cell threshold for evaluators.
//!
//! An erased person's answers are gone with their key, or are treated as gone once the erasure is
//! recorded, whatever key is on disk (as `json::Identity::Erased`): they count as not said.

use parcours_core::store::Store;
use parcours_core::vocabulary::{EventId, SensitiveAnswers, Slug, Step, StreamId};
use parcours_projections::{EsfIndicators, EsfQuery, Period};

use super::{blocking, differencing, disclosure, AppError, Caller};
use crate::state::AppState;

/// The question: a period, and one structure or all.
#[derive(Clone, Debug)]
pub struct EsfQuestion {
    pub period: Period,
    pub structure: Option<Slug>,
}

/// The indicators the caller may see: exact, or with small cells withheld.
pub async fn indicators(state: &AppState, caller: &Caller, question: EsfQuestion) -> Result<EsfIndicators, AppError> {
    disclosure::statistics_scope(caller, question.structure.as_ref())?;
    if disclosure::withholds_small_cells(caller) {
        // As for the other statistics: a whole year or quarter, so that periods nest or do not
        // meet (`differencing`). The cells are withheld on the indicators' own equations only,
        // not alike across the year's quarters and paired structures as the outcomes' are.
        differencing::nested_periods(question.period)?;
    }
    state.caught_up().await?;
    let (state, caller) = (state.clone(), caller.clone());
    blocking(move || {
        let query = EsfQuery { period: question.period, structure: question.structure };
        let episodes = state.projections.read().esf_episodes(&query);
        let mut answered = Vec::with_capacity(episodes.len());
        for episode in episodes {
            let answers = sensitive_answers(&state.store, episode.stream, episode.referral)?;
            answered.push((episode, answers));
        }
        let mut indicators = EsfIndicators::of(&query, &answered);
        if disclosure::withholds_small_cells(&caller) {
            indicators.withhold_small_cells(state.settings.small_cells);
        }
        Ok(indicators)
    })
    .await
}

/// The sensitive answers of the referral `referral` as its stream now states them (the latest
/// correction that replaces it, if any), opened; none once the person's identity is erased.
fn sensitive_answers(store: &Store, stream: StreamId, referral: EventId) -> Result<SensitiveAnswers, AppError> {
    let events = store.read_stream(stream, None)?;
    if events.iter().any(|event| matches!(event.step, Step::PersonalDataErased(_))) {
        return Ok(SensitiveAnswers::default());
    }
    let stated = events.iter().rev().find_map(|event| match &event.step {
        Step::Corrected(correction) if correction.corrects == referral => {
            let replaced = correction.replacement.as_ref()?;
            match replaced.step.as_ref() {
                Step::Referred(referred) => Some((event.id, referred.sealed_answers.as_ref())),
                _ => None,
            }
        }
        Step::Referred(referred) if event.id == referral => Some((event.id, referred.sealed_answers.as_ref())),
        _ => None,
    });
    match stated {
        Some((id, Some(sealed))) => Ok(store.unseal_answers(stream, id, sealed)?.unwrap_or_default()),
        _ => Ok(SensitiveAnswers::default()),
    }
}
