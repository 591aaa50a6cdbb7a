//! Evaluators cannot undo small-cell suppression by differencing (issue 16, item 6).
//!
//! Withholding small cells table by table is not enough when tables sum into one another: a year
//! minus three of its quarters gives the fourth, all structures minus the others give the one, and
//! two overlapping periods give their difference. So evaluators ask only:
//! - a whole calendar year or a whole quarter (any other period is a 400 naming the rule), so that
//!   periods either nest (a quarter in its year) or do not meet; and
//! - one structure or all of them (no `by=structure`: a structure's figures are asked by naming
//!   it, which gives the same numbers under the same suppression).
//!
//! Then the same cells are withheld in every table that sums into another
//! (`parcours_projections::Outcomes::withheld_alike`): for a period, its year and the year's four
//! quarters; for a structure, the structures it is paired with (structures in slug order, two by
//! two, the last three together when their number is odd). The answers for all structures withhold
//! their own cells over the year and its quarters, and the first pair (the anchor) withholds them
//! too. Why this holds: take any withheld cell; add some amount to it and to the same cell of one
//! other period of its year (a quarter and its year, or two quarters, with opposite signs when
//! both are quarters), and do the same, with the opposite sign, in the paired structure (or, for
//! the total of all structures, in the anchor with the same sign); inside each of these tables
//! move the other withheld cells so that the table's own sums hold (possible because each table
//! alone leaves the cell undetermined, with the same withheld cells). Every shown cell and every
//! sum across years, quarters and structures is unchanged, yet the cell moved: the shown figures
//! do not determine it. Groupings share their totals, so every grouping of one table is one shape
//! (`OutcomeCube`), suppressed together.
//!
//! What this does not cover: the activity report (evaluators ask it of one structure and a whole
//! year or quarter, but its cells are withheld on its own equations, not alike with the
//! statistics'); figures that change between two questions as late events are recorded.

use parcours_core::vocabulary::{Date, Slug};
use parcours_projections::report::ActivityQuery;
use parcours_projections::{
    CellsWithheld, Entries, EntriesQuery, GroupBy, OutcomeCube, OutcomeQuery, Outcomes, Period, Projections,
};

use super::AppError;

/// The periods whose answers sum into one another with `period`'s: its calendar year, then the
/// year's four quarters. `period` must be one of them.
pub fn nested_periods(period: Period) -> Result<[Period; 5], AppError> {
    let year = period.from.year();
    let day = |month, day| Date::from_ymd(year, month, day);
    let bounds = [(1, 1, 12, 31), (1, 1, 3, 31), (4, 1, 6, 30), (7, 1, 9, 30), (10, 1, 12, 31)];
    let mut periods = Vec::with_capacity(bounds.len());
    for (from_month, from_day, to_month, to_day) in bounds {
        let (Some(from), Some(to)) = (day(from_month, from_day), day(to_month, to_day)) else {
            return Err(AppError::InvalidRequest(format!("from: no calendar year {year}")));
        };
        periods.push(Period { from, to });
    }
    if !periods.contains(&period) {
        return Err(AppError::InvalidRequest(format!(
            "from, to: evaluators ask a whole calendar year ({year}-01-01 to {year}-12-31) or a whole quarter \
             ({year}-01-01 to {year}-03-31, …, {year}-10-01 to {year}-12-31), so that no withheld figure can be \
             recovered by subtracting one period from another"
        )));
    }
    periods.try_into().map_err(|_| AppError::InvalidRequest("from: no calendar year".into()))
}

/// The structures whose cells are withheld alike with `structure`'s (see the module's comment),
/// and whether they are the anchor, which also withholds the cells of all structures.
fn paired(structure: &Slug, every: &[Slug]) -> (Vec<Slug>, bool) {
    let Ok(index) = every.binary_search(structure) else {
        // A structure nothing names: its figures are zeros, tied to no other.
        return (vec![structure.clone()], false);
    };
    let count = every.len();
    let group = if count % 2 == 1 && count >= 3 && index >= count - 3 {
        count - 3..count
    } else {
        let first = index - index % 2;
        first..(first + 2).min(count)
    };
    (every[group.clone()].to_vec(), group.start == 0)
}

/// The cells withheld alike for `structure` (all structures when `None`) over `periods`, from the
/// tables `table` gives for a period and a structure, suppressed by `alike`.
fn withheld_for<T>(
    projections: &Projections,
    structure: Option<&Slug>,
    periods: &[Period; 5],
    table: impl Fn(Period, Option<&Slug>) -> T,
    alike: impl Fn(&[T], Option<&CellsWithheld>) -> CellsWithheld,
) -> CellsWithheld {
    let all_tables: Vec<T> = periods.iter().map(|&period| table(period, None)).collect();
    let all = alike(&all_tables, None);
    let Some(structure) = structure else { return all };
    let every = projections.structure_slugs();
    let (group, anchor) = paired(structure, &every);
    let tables: Vec<T> =
        group.iter().flat_map(|member| periods.iter().map(|&period| table(period, Some(member)))).collect();
    alike(&tables, anchor.then_some(&all))
}

/// The outcome statistics of `query` with small cells withheld alike with every answer they could
/// be differenced with; `query` is checked against the rules above first.
pub fn withheld_outcomes(
    projections: &Projections,
    query: &OutcomeQuery,
    threshold: u64,
) -> Result<Outcomes, AppError> {
    let periods = nested_periods(query.period)?;
    if query.by == Some(GroupBy::Structure) {
        return Err(AppError::InvalidRequest(
            "by: evaluators ask one structure's figures by naming it (structure=slug), not by=structure".into(),
        ));
    }
    let sensitive = query.sensitive_prescribers_as_other;
    let cube = |period: Period, structure: Option<&Slug>| projections.outcome_cube(period, structure, sensitive);
    let alike = |cubes: &[OutcomeCube], also: Option<&CellsWithheld>| Outcomes::withheld_alike(cubes, threshold, also);
    let withheld = withheld_for(projections, query.structure.as_ref(), &periods, cube, alike);
    let mut outcomes = projections.outcomes(query);
    outcomes.withhold_as(&cube(query.period, query.structure.as_ref()), &withheld);
    Ok(outcomes)
}

/// The entry statistics of `query`, as [`withheld_outcomes`].
pub fn withheld_entries(projections: &Projections, query: &EntriesQuery, threshold: u64) -> Result<Entries, AppError> {
    let periods = nested_periods(query.period)?;
    let entries = |period: Period, structure: Option<&Slug>| {
        projections.entries(&EntriesQuery { period, structure: structure.cloned() })
    };
    let alike = |tables: &[Entries], also: Option<&CellsWithheld>| Entries::withheld_alike(tables, threshold, also);
    let withheld = withheld_for(projections, query.structure.as_ref(), &periods, entries, alike);
    let mut answer = projections.entries(query);
    answer.withhold_as(&withheld);
    Ok(answer)
}

/// Checks an activity report's question against the rules above: one structure, a whole year or
/// quarter (a report of several structures is all of them minus the others).
pub fn report_question(query: &ActivityQuery) -> Result<(), AppError> {
    if query.structures.len() != 1 {
        return Err(AppError::InvalidRequest(
            "structure: evaluators ask the report of one structure at a time, so that no withheld figure can be \
             recovered by subtracting one group of structures from another"
                .into(),
        ));
    }
    nested_periods(query.period).map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slugs(names: &[&str]) -> Vec<Slug> {
        names.iter().map(|name| Slug::new(name).expect("a slug")).collect()
    }

    /// Structures in slug order, two by two, the last three together when their number is odd;
    /// the first group is the anchor.
    #[test]
    fn structures_are_paired_in_slug_order() {
        let every = slugs(&["a", "b", "c", "d", "e"]);
        let table = [
            ("a", &["a", "b"][..], true),
            ("b", &["a", "b"], true),
            ("c", &["c", "d", "e"], false),
            ("e", &["c", "d", "e"], false),
        ];
        for (asked, group, anchor) in table {
            assert_eq!(paired(&slugs(&[asked])[0], &every), (slugs(group), anchor), "{asked}");
        }
        let four = slugs(&["a", "b", "c", "d"]);
        assert_eq!(paired(&four[3], &four), (slugs(&["c", "d"]), false));
        let one = slugs(&["a"]);
        assert_eq!(paired(&one[0], &one), (one.clone(), true), "alone, it is the total");
        assert_eq!(paired(&slugs(&["z"])[0], &every), (slugs(&["z"]), false));
    }

    #[test]
    fn evaluators_ask_whole_years_or_quarters() {
        let day = |text: &str| text.parse::<Date>().expect("a date");
        let period = |from: &str, to: &str| Period::new(day(from), day(to)).expect("a period");
        for (from, to) in [("2025-01-01", "2025-12-31"), ("2025-04-01", "2025-06-30"), ("2025-10-01", "2025-12-31")] {
            assert!(nested_periods(period(from, to)).is_ok(), "{from} {to}");
        }
        for (from, to) in [("2025-01-01", "2025-06-30"), ("2025-02-01", "2025-04-30"), ("2024-01-01", "2025-12-31")] {
            assert!(matches!(nested_periods(period(from, to)), Err(AppError::InvalidRequest(_))), "{from} {to}");
        }
    }
}
