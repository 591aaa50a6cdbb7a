//! Figures: a structure's dashboard, and the outcome and entry statistics, as exact as
//! `disclosure` lets the caller see them.

use parcours_core::vocabulary::{Date, Slug};
use parcours_projections::{Dashboard, Entries, EntriesQuery, GroupBy, OutcomeQuery, Outcomes, Period, Projections};

use super::{blocking, differencing, disclosure, AppError, Caller};
use crate::state::AppState;

/// The dashboard of a structure the caller follows (see [`disclosure::dashboard_structure`]),
/// once the projections hold every durable step.
pub async fn dashboard(state: &AppState, caller: &Caller, structure: Option<Slug>) -> Result<Dashboard, AppError> {
    let structure = disclosure::dashboard_structure(caller, structure)?;
    state.caught_up().await?;
    dashboard_now(state, structure).await
}

/// A structure's dashboard from the projections as they stand, for a caller already checked
/// (a live page that watches the projections move).
pub async fn dashboard_now(state: &AppState, structure: Slug) -> Result<Dashboard, AppError> {
    let today = state.today();
    let state = state.clone();
    blocking(move || Ok(state.projections.read().dashboard(&structure, today))).await
}

/// The longest period a statistic or a report covers, in years: a question over the whole log
/// would walk everyone ever followed for one answer, and no funder asks for more than a decade.
pub const PERIOD_YEARS_MAX: u32 = 10;

/// The period asked for; the calendar year of `today` by default; at most [`PERIOD_YEARS_MAX`].
pub fn period(today: Date, from: Option<Date>, to: Option<Date>) -> Result<Period, AppError> {
    let year = today.year();
    let first = Date::from_ymd(year, 1, 1).ok_or_else(|| AppError::InvalidRequest("no current year".into()))?;
    let last = Date::from_ymd(year, 12, 31).ok_or_else(|| AppError::InvalidRequest("no current year".into()))?;
    let period = Period::new(from.unwrap_or(first), to.unwrap_or(last))
        .map_err(|error| AppError::InvalidRequest(format!("to: {error}")))?;
    bounded(period)
}

/// `period`, if it covers at most [`PERIOD_YEARS_MAX`] years; a 400 naming the limit otherwise.
pub fn bounded(period: Period) -> Result<Period, AppError> {
    let last =
        period.from.0.checked_add_months(chrono::Months::new(PERIOD_YEARS_MAX * 12)).and_then(|end| end.pred_opt());
    match last {
        Some(last) if period.to.0 > last => Err(AppError::InvalidRequest(format!(
            "to: a period covers at most {PERIOD_YEARS_MAX} years; from {}, it ends on {last} at the latest",
            period.from
        ))),
        _ => Ok(period),
    }
}

/// The statistics' question: a period, a structure or all, and a grouping (outcomes only).
#[derive(Clone, Debug)]
pub struct StatisticsQuestion {
    pub period: Period,
    pub structure: Option<Slug>,
    pub by: Option<GroupBy>,
}

/// The outcome statistics the caller may see, from projections already caught up: exact, or with
/// small cells withheld. `small_cells` is the server's threshold.
pub fn outcomes_in(
    projections: &Projections,
    caller: &Caller,
    small_cells: u64,
    question: StatisticsQuestion,
) -> Result<Outcomes, AppError> {
    disclosure::statistics_scope(caller, question.structure.as_ref())?;
    let StatisticsQuestion { period, structure, by } = question;
    let period = bounded(period)?;
    let sensitive_prescribers_as_other = disclosure::sensitive_prescribers_as_other(caller);
    let query = OutcomeQuery { period, structure, by, sensitive_prescribers_as_other };
    if disclosure::withholds_small_cells(caller) {
        return differencing::withheld_outcomes(projections, &query, small_cells);
    }
    Ok(projections.outcomes(&query))
}

/// The entry statistics the caller may see, from projections already caught up.
pub fn entries_in(
    projections: &Projections,
    caller: &Caller,
    small_cells: u64,
    question: StatisticsQuestion,
) -> Result<Entries, AppError> {
    disclosure::statistics_scope(caller, question.structure.as_ref())?;
    if question.by.is_some() {
        return Err(AppError::InvalidRequest(
            "by: entries are always by situation × gender and age band × gender".into(),
        ));
    }
    let period = bounded(question.period)?;
    let query = EntriesQuery { period, structure: question.structure };
    if disclosure::withholds_small_cells(caller) {
        return differencing::withheld_entries(projections, &query, small_cells);
    }
    Ok(projections.entries(&query))
}

/// [`outcomes_in`] on the server's live projections.
pub async fn outcomes(state: &AppState, caller: &Caller, question: StatisticsQuestion) -> Result<Outcomes, AppError> {
    disclosure::statistics_scope(caller, question.structure.as_ref())?;
    state.caught_up().await?;
    let _permit = state.costly().await?;
    let (state, caller) = (state.clone(), caller.clone());
    blocking(move || outcomes_in(&state.projections.read(), &caller, state.settings.small_cells, question)).await
}

/// [`entries_in`] on the server's live projections.
pub async fn entries(state: &AppState, caller: &Caller, question: StatisticsQuestion) -> Result<Entries, AppError> {
    disclosure::statistics_scope(caller, question.structure.as_ref())?;
    state.caught_up().await?;
    let _permit = state.costly().await?;
    let (state, caller) = (state.clone(), caller.clone());
    blocking(move || entries_in(&state.projections.read(), &caller, state.settings.small_cells, question)).await
}
