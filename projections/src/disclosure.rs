//! Small-cell suppression with complementary suppression, for the outputs evaluators see
//! (CONTRACT §7): a count from 1 to `threshold − 1` is withheld, and then as many other cells as it
//! takes so that no withheld cell can be recomputed from the cells shown and the sums that tie them
//! (a group's exits are the sum of its categories; a total is the sum of its groups).
//!
//! The guarantee is linear: a withheld cell is never determined by the system of equations of the
//! output once the shown cells are known. Checking it exactly is cheap at these sizes (a few
//! hundred cells), so the algorithm checks it rather than relying on a rule of thumb such as "two
//! withheld cells per row and per column", which a chain of rows and columns can defeat.
//!
//! Complements are the smallest non-zero cells shown in an equation that holds the exposed cell:
//! withholding them loses the least, and a non-zero complement cannot be bounded to one value.

/// Which cells of a table's shape are withheld, the same in every table of one shape
/// ([`suppress_alike`]): what an evaluator's answer shows is read off it.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct CellsWithheld(pub(crate) Vec<bool>);

impl CellsWithheld {
    /// How many cells are withheld.
    pub fn count(&self) -> usize {
        self.0.iter().filter(|&&withheld| withheld).count()
    }
}

/// Counts tied by linear equations (each: Σ coefficient × cell = 0).
#[derive(Clone, Debug, Default)]
pub(crate) struct Table {
    values: Vec<u64>,
    /// Cells that are amounts (hours), not counts of people: never small on their own.
    amounts: Vec<bool>,
    equations: Vec<Vec<(usize, i64)>>,
    /// (count, amount): the amount is withheld whenever the count of people behind it is.
    ties: Vec<(usize, usize)>,
}

impl Table {
    /// Adds a cell; returns its index.
    pub(crate) fn cell(&mut self, value: u64) -> usize {
        self.values.push(value);
        self.amounts.push(false);
        self.values.len() - 1
    }

    /// Adds an amount (hours worked by some people): withheld only with the count of its people
    /// ([`Table::tie`]) or as a complement.
    pub(crate) fn amount(&mut self, value: u64) -> usize {
        let cell = self.cell(value);
        self.amounts[cell] = true;
        cell
    }

    /// Withholds `amount` whenever `count` is withheld.
    pub(crate) fn tie(&mut self, count: usize, amount: usize) {
        self.ties.push((count, amount));
    }

    /// `total = Σ parts`.
    pub(crate) fn sum(&mut self, total: usize, parts: &[usize]) {
        let mut equation = vec![(total, 1)];
        equation.extend(parts.iter().map(|&part| (part, -1)));
        self.equations.push(equation);
    }

    /// Which cells to withhold.
    pub(crate) fn suppress(&self, threshold: u64) -> Vec<bool> {
        self.suppress_from(&vec![false; self.values.len()], threshold)
    }

    /// The small cells (primary suppression).
    fn small(&self, threshold: u64) -> Vec<bool> {
        (self.values.iter().zip(&self.amounts))
            .map(|(&value, &amount)| !amount && value > 0 && value < threshold)
            .collect()
    }

    /// Which cells to withhold, `withheld` already among them.
    fn suppress_from(&self, withheld: &[bool], threshold: u64) -> Vec<bool> {
        let mut withheld: Vec<bool> =
            self.small(threshold).into_iter().zip(withheld).map(|(small, &withheld)| small || withheld).collect();
        loop {
            for &(count, amount) in &self.ties {
                withheld[amount] |= withheld[count];
            }
            let Some(&exposed) = self.determined(&withheld).first() else { break };
            match self.complement(exposed, &withheld) {
                Some(cell) => withheld[cell] = true,
                // Every cell tied to a withheld one is withheld: nothing is left to determine it.
                None => break,
            }
        }
        withheld
    }

    /// The cell to withhold next so that `exposed` stops being determined: the smallest shown cell
    /// (non-zero first) of an equation that holds a withheld cell and, withheld too, leaves
    /// `exposed` undetermined; failing one, the smallest such cell, which leaves fewer cells shown
    /// around the withheld ones.
    fn complement(&self, exposed: usize, withheld: &[bool]) -> Option<usize> {
        let mut candidates: Vec<usize> = self
            .equations
            .iter()
            .filter(|equation| equation.iter().any(|&(cell, _)| withheld[cell]))
            .flat_map(|equation| equation.iter().map(|&(cell, _)| cell))
            .filter(|&cell| !withheld[cell])
            .collect();
        candidates.sort_by_key(|&cell| (self.values[cell] == 0, self.values[cell], cell));
        candidates.dedup();
        let mut trial = withheld.to_vec();
        let protecting = candidates.iter().copied().find(|&cell| {
            trial[cell] = true;
            let protects = !self.determined(&trial).contains(&exposed);
            trial[cell] = false;
            protects
        });
        protecting.or(candidates.first().copied())
    }

    /// The withheld cells that the equations determine from the shown cells.
    fn determined(&self, withheld: &[bool]) -> Vec<usize> {
        let hidden: Vec<usize> = (0..self.values.len()).filter(|&cell| withheld[cell]).collect();
        if hidden.is_empty() {
            return Vec::new();
        }
        let column = |cell: usize| hidden.binary_search(&cell).ok();
        let mut rows: Vec<Vec<i128>> = self
            .equations
            .iter()
            .map(|equation| {
                let mut row = vec![0i128; hidden.len()];
                for &(cell, coefficient) in equation {
                    if let Some(column) = column(cell) {
                        row[column] += i128::from(coefficient);
                    }
                }
                row
            })
            .filter(|row| row.iter().any(|&value| value != 0))
            .collect();
        let pivots = reduce(&mut rows);
        // A pivot column is determined when its row names no other (free) column.
        pivots
            .into_iter()
            .filter(|&(row, column)| rows[row].iter().enumerate().all(|(other, &value)| other == column || value == 0))
            .map(|(_, column)| hidden[column])
            .collect()
    }
}

/// The cells to withhold in every one of `tables`, which have one shape (the same cells tied by the
/// same equations, with the values of different periods or structures): the same cells in each,
/// `also` among them. Each table alone determines none of them (the loop ends once no table adds
/// a complement). Withholding the same cells everywhere is what protects them across tables too:
/// for sums that tie tables cell by cell (a year and its quarters, all structures and each one),
/// a withheld cell of one table stays undetermined by the shown cells of the others as long as the
/// tables it is summed with withhold it too (a change that leaves one table's shown cells alone,
/// made in two tables with opposite signs, leaves every sum alone). Which tables go together is
/// the caller's to say (`server::app::differencing`).
pub(crate) fn suppress_alike(tables: &[Table], threshold: u64, also: Option<&CellsWithheld>) -> CellsWithheld {
    let cells = tables.first().map_or(0, |table| table.values.len());
    let mut withheld = also.map_or_else(|| vec![false; cells], |also| also.0.clone());
    for table in tables {
        debug_assert_eq!(table.values.len(), cells, "tables of one shape");
        for (withheld, small) in withheld.iter_mut().zip(table.small(threshold)) {
            *withheld |= small;
        }
    }
    loop {
        let mut grown = false;
        for table in tables {
            let closed = table.suppress_from(&withheld, threshold);
            if closed != withheld {
                withheld = closed;
                grown = true;
            }
        }
        if !grown {
            return CellsWithheld(withheld);
        }
    }
}

/// Reduced row echelon form over the integers (each row kept primitive), returning the pivots as
/// (row, column).
fn reduce(rows: &mut [Vec<i128>]) -> Vec<(usize, usize)> {
    let columns = rows.first().map_or(0, Vec::len);
    let mut pivots = Vec::new();
    let mut next = 0;
    for column in 0..columns {
        let Some(found) = (next..rows.len()).find(|&row| rows[row][column] != 0) else { continue };
        rows.swap(next, found);
        let pivot = rows[next].clone();
        for (index, row) in rows.iter_mut().enumerate() {
            if index == next || row[column] == 0 {
                continue;
            }
            let factor = row[column];
            for (value, &p) in row.iter_mut().zip(&pivot) {
                *value = *value * pivot[column] - factor * p;
            }
            normalise(row);
        }
        pivots.push((next, column));
        next += 1;
    }
    pivots
}

fn normalise(row: &mut [i128]) {
    let divisor = row.iter().fold(0i128, |gcd, &value| gcd_of(gcd, value.abs()));
    if divisor > 1 {
        row.iter_mut().for_each(|value| *value /= divisor);
    }
}

fn gcd_of(a: i128, b: i128) -> i128 {
    if b == 0 {
        a
    } else {
        gcd_of(b, a % b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_small_cell_takes_a_complement_in_its_row_and_its_column() {
        // Two groups × two categories, with totals.
        //            a    b   total
        //  group 1   3   10    13
        //  group 2   8    9    17
        //  total    11   19    30
        let mut table = Table::default();
        let [a1, b1, t1, a2, b2, t2, a, b, t] = [3, 10, 13, 8, 9, 17, 11, 19, 30].map(|value| table.cell(value));
        table.sum(t1, &[a1, b1]);
        table.sum(t2, &[a2, b2]);
        table.sum(t, &[a, b]);
        table.sum(a, &[a1, a2]);
        table.sum(b, &[b1, b2]);
        table.sum(t, &[t1, t2]);
        let withheld = table.suppress(5);
        assert!(withheld[a1]);
        assert!(table.determined(&withheld).is_empty());
        // Not always the least (a 2×2 block), but close: the smallest cells go first.
        let count = withheld.iter().filter(|&&w| w).count();
        assert!((4..=5).contains(&count), "{withheld:?}");
        assert!(!withheld[t], "the grand total stays: {withheld:?}");
    }

    #[test]
    fn amounts_go_with_their_people_and_are_never_small_alone() {
        // Hours of two groups of people and their total: 3 people worked 420 h, 12 worked 2.5 h.
        let mut table = Table::default();
        let [few, many, people] = [3, 12, 15].map(|value| table.cell(value));
        let [few_hours, many_hours, hours] = [42_000, 250, 42_250].map(|value| table.amount(value));
        table.tie(few, few_hours);
        table.tie(many, many_hours);
        table.tie(people, hours);
        table.sum(people, &[few, many]);
        table.sum(hours, &[few_hours, many_hours]);
        let withheld = table.suppress(5);
        assert!(withheld[few] && withheld[few_hours], "the 3 people's hours go with them");
        assert!(withheld[many] && withheld[many_hours], "complements, else the totals give them back");
        assert!(!withheld[people] && !withheld[hours]);
        assert!(table.determined(&withheld).is_empty());
    }

    #[test]
    fn nothing_is_withheld_without_small_cells() {
        let mut table = Table::default();
        let [x, y, total] = [0, 12, 12].map(|value| table.cell(value));
        table.sum(total, &[x, y]);
        assert_eq!(table.suppress(5), vec![false; 3]);
    }
}
