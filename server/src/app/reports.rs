//! The activity report (CONTRACT §8): its typed question, the report a caller may see, and the
//! people behind one of its figures. The API builds the question from a query string, the
//! command line from its flags, each naming a bad value its own way; both ask the same use case.
//!
//! Lists show names as the people list does, without an access-log entry per name beyond the one
//! `people::name_of` records: reading someone's history is what the access log records.

use parcours_core::vocabulary::{Date, Slug};
use parcours_projections::report::{ActivityQuery, ActivityReport, DefinitionsVersion, FamilyQuotientBands, Row};
use parcours_projections::Projections;

use super::figures::period;
use super::people::name_of;
use super::{blocking, differencing, disclosure, AppError, Caller};
use crate::state::AppState;

/// The question of an activity report, before it is checked against the caller and the store.
#[derive(Clone, Debug, Default)]
pub struct ReportQuestion {
    /// The structures asked, without repeats, in the order asked; a coordinator who names none
    /// gets all of theirs.
    pub structures: Vec<Slug>,
    /// The period; the calendar year of today by default.
    pub from: Option<Date>,
    pub to: Option<Date>,
    pub definitions: DefinitionsVersion,
    pub bands: FamilyQuotientBands,
}

impl ReportQuestion {
    /// Adds a structure, unless it was asked already.
    pub fn add_structure(&mut self, structure: Slug) {
        if !self.structures.contains(&structure) {
            self.structures.push(structure);
        }
    }

    /// The question for the projections, for a caller whose structures `disclosure` checked.
    fn query(&self, today: Date, by_structure: bool) -> Result<ActivityQuery, AppError> {
        let period = period(today, self.from, self.to)?;
        if self.structures.is_empty() {
            return Err(AppError::InvalidRequest(
                "structure: which structures? (structure=slug, several separated by commas)".into(),
            ));
        }
        Ok(ActivityQuery {
            period,
            structures: self.structures.clone(),
            definitions: self.definitions,
            bands: self.bands.clone(),
            by_structure,
        })
    }

    /// The question as the caller may ask it, for the projections: structures scoped, each
    /// structure's own figures only for those who see them.
    pub fn for_caller(mut self, caller: &Caller, today: Date) -> Result<ActivityQuery, AppError> {
        self.structures = disclosure::report_structures(caller, self.structures)?;
        let query = self.query(today, disclosure::report_by_structure(caller))?;
        if disclosure::withholds_small_cells(caller) {
            differencing::report_question(&query)?;
        }
        Ok(query)
    }

    /// The question of a report to publish, for a caller who may publish it: a publication holds
    /// each structure's own figures, exact (only those who may see them publish).
    pub fn for_publication(mut self, caller: &Caller, today: Date) -> Result<ActivityQuery, AppError> {
        self.structures = disclosure::report_structures(caller, self.structures)?;
        self.query(today, true)
    }
}

/// Whether a report is computed with the rows behind its figures.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Lists {
    Without,
    With,
}

/// The report a caller may see, from projections already caught up: exact, or with small cells
/// withheld. `small_cells` is the server's threshold.
pub fn report_in(
    projections: &Projections,
    caller: &Caller,
    small_cells: u64,
    query: &ActivityQuery,
    lists: Lists,
) -> Result<ActivityReport, AppError> {
    let mut report = match lists {
        Lists::Without => projections.activity_report(query)?,
        Lists::With => projections.activity_report_with_lists(query)?,
    };
    if disclosure::withholds_small_cells(caller) {
        report.withhold_small_cells(small_cells);
    }
    Ok(report)
}

/// [`report_in`] on the server's live projections.
pub async fn report(
    state: &AppState,
    caller: &Caller,
    question: ReportQuestion,
    lists: Lists,
) -> Result<ActivityReport, AppError> {
    let query = question.for_caller(caller, state.today())?;
    state.caught_up().await?;
    let _permit = state.costly().await?;
    let (state, caller) = (state.clone(), caller.clone());
    blocking(move || report_in(&state.projections.read(), &caller, state.settings.small_cells, &query, lists)).await
}

/// The people behind one figure: the report they come from, and beside each row the person's
/// name where the caller may see it.
pub struct FigureList {
    pub report: ActivityReport,
    pub figure: String,
    pub names: Vec<Option<String>>,
}

impl FigureList {
    /// The rows of the list, in order, each with its name.
    pub fn rows(&self) -> impl Iterator<Item = (&Row, &Option<String>)> {
        self.report.lists.get(&self.figure).iter().zip(&self.names)
    }
}

/// The list behind `figure` (`people.followed`…), for a caller who may see lists (the route's
/// rule keeps evaluators out).
pub async fn figure_list(
    state: &AppState,
    caller: &Caller,
    question: ReportQuestion,
    figure: String,
) -> Result<FigureList, AppError> {
    let report = report(state, caller, question, Lists::With).await?;
    let known = report.figures.cells().into_iter().any(|cell| cell.list.as_deref() == Some(figure.as_str()));
    if !known {
        return Err(AppError::not_found(format!("no list `{figure}` in this report")));
    }
    let (state, caller) = (state.clone(), caller.clone());
    blocking(move || {
        let rows = report.lists.get(&figure);
        let mut names = Vec::with_capacity(rows.len());
        for row in rows {
            let name = match row.beneficiary {
                Some(person)
                    if disclosure::name_in_list(&caller, || {
                        state.projections.read().reached_by(person, &caller.structures) == Some(true)
                    }) =>
                {
                    name_of(&state, &caller, person)?
                }
                _ => None,
            };
            names.push(name);
        }
        Ok(FigureList { report, figure, names })
    })
    .await
}
