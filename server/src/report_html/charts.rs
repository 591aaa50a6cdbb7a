//! The report's charts as SVG drawn on the server: they print sharp, need no script, and obey the
//! pages' Content-Security-Policy (presentation attributes only, never `style=""`). Every chart
//! carries a `<title>` and its figures are also in the tables next to it, for screen readers and
//! for copying. Withheld values are not drawn.

use std::fmt::Write as _;

use parcours_core::vocabulary::Gender;
use parcours_projections::report::{Figures, Shown};
use parcours_projections::{AgeBand, Disclosed};

use super::labels::CATEGORIES;

use super::{escape, labels};
use crate::french;
use crate::labels::Labelled;

const WIDTH: u32 = 680;
const FONT: &str = "font-family=\"Helvetica, Arial, sans-serif\"";
const INK: &str = "#1b1b1b";
const GRID: &str = "#c8c8c8";

/// Colours that stay apart in grey print: dark, light, hatched-looking middle, outline.
const GENDER_FILLS: [&str; 4] = ["#1f4e79", "#9dc3e6", "#548235", "#bf9000"];
const WORKED: &str = "#1f4e79";
const AGREED: &str = "#c55a11";

/// A round step for an axis going up to `max`: 1, 2 or 5 × 10^k, four to eight gridlines.
fn step_for(max: u64) -> u64 {
    let mut step = 1;
    loop {
        for factor in [1, 2, 5] {
            if max / (step * factor) < 6 {
                return step * factor;
            }
        }
        step *= 10;
    }
}

fn open(svg: &mut String, height: u32, title: &str) {
    let _ = write!(
        svg,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {WIDTH} {height}\" width=\"{WIDTH}\" height=\"{height}\" role=\"img\" class=\"chart\"><title>{}</title>",
        escape(title)
    );
}

fn text(svg: &mut String, x: f64, y: f64, anchor: &str, size: u32, content: &str) {
    let _ = write!(
        svg,
        "<text x=\"{x:.1}\" y=\"{y:.1}\" text-anchor=\"{anchor}\" font-size=\"{size}\" fill=\"{INK}\" {FONT}>{}</text>",
        escape(content)
    );
}

fn rect(svg: &mut String, x: f64, y: f64, width: f64, height: f64, fill: &str) {
    let _ =
        write!(svg, "<rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{width:.1}\" height=\"{height:.1}\" fill=\"{fill}\"/>");
}

fn line(svg: &mut String, (x1, y1): (f64, f64), (x2, y2): (f64, f64), stroke: &str, width: f64) {
    let _ = write!(
        svg,
        "<line x1=\"{x1:.1}\" y1=\"{y1:.1}\" x2=\"{x2:.1}\" y2=\"{y2:.1}\" stroke=\"{stroke}\" stroke-width=\"{width}\"/>"
    );
}

/// Horizontal gridlines with their values, from 0 to `max` (in the unit `label` writes).
fn grid(svg: &mut String, plot: Plot, max: u64, label: impl Fn(u64) -> String) {
    let step = step_for(max);
    let mut value = 0;
    while value <= max.max(step) {
        let y = plot.y(value, max.max(step));
        line(svg, (plot.left, y), (plot.right, y), GRID, 0.6);
        text(svg, plot.left - 6.0, y + 4.0, "end", 10, &label(value));
        value += step;
    }
}

/// The plotting area of a chart.
#[derive(Clone, Copy)]
struct Plot {
    left: f64,
    right: f64,
    top: f64,
    bottom: f64,
}

impl Plot {
    fn y(&self, value: u64, max: u64) -> f64 {
        let top = round_up(max);
        self.bottom - (self.bottom - self.top) * value as f64 / top.max(1) as f64
    }
}

/// The top of an axis: `max` rounded up to its step.
fn round_up(max: u64) -> u64 {
    let step = step_for(max);
    max.div_ceil(step).max(1) * step
}

fn legend(svg: &mut String, x: f64, y: f64, entries: &[(&str, &str)]) {
    let mut x = x;
    for (fill, label) in entries {
        rect(svg, x, y - 9.0, 10.0, 10.0, fill);
        text(svg, x + 14.0, y, "start", 11, label);
        x += 22.0 + 6.5 * label.chars().count() as f64;
    }
}

fn count_of(disclosed: Disclosed) -> Option<u64> {
    match disclosed {
        Disclosed::Count(count) => Some(count),
        Disclosed::Rate(_) | Disclosed::Withheld => None,
    }
}

/// Entries by age band, one bar per gender present; `None` when no count can be drawn.
pub fn entries_by_age_band(figures: &Figures) -> Option<String> {
    let rows = &figures.profile.by_age_band_and_gender;
    if !rows.iter().any(|row| count_of(row.cell.count).is_some_and(|count| count > 0)) {
        return None;
    }
    let genders: Vec<Gender> =
        Gender::ALL.iter().copied().filter(|g| rows.iter().any(|row| row.gender == *g)).collect();
    let max = rows.iter().filter_map(|row| count_of(row.cell.count)).max().unwrap_or(0);
    let mut svg = String::new();
    let height = 250;
    open(&mut svg, height, "Entrées par tranche d'âge et genre");
    let plot = Plot { left: 48.0, right: f64::from(WIDTH) - 12.0, top: 28.0, bottom: f64::from(height) - 40.0 };
    grid(&mut svg, plot, round_up(max), french::integer);
    let group = (plot.right - plot.left) / AgeBand::ALL.len() as f64;
    let bar = (group * 0.7 / genders.len().max(1) as f64).min(60.0);
    for (index, band) in AgeBand::ALL.iter().enumerate() {
        let start = plot.left + group * index as f64 + (group - bar * genders.len() as f64) / 2.0;
        for (slot, gender) in genders.iter().enumerate() {
            let fill = GENDER_FILLS[Gender::ALL.iter().position(|g| g == gender).unwrap_or(0) % GENDER_FILLS.len()];
            let row = rows.iter().find(|row| row.age_band == *band && row.gender == *gender);
            let x = start + bar * slot as f64;
            match row.map(|row| row.cell.count) {
                Some(Disclosed::Count(count)) => {
                    let y = plot.y(count, round_up(max));
                    rect(&mut svg, x + 1.0, y, bar - 2.0, plot.bottom - y, fill);
                    text(&mut svg, x + bar / 2.0, y - 4.0, "middle", 10, &french::integer(count));
                }
                Some(_) => text(&mut svg, x + bar / 2.0, plot.bottom - 4.0, "middle", 10, "masqué"),
                None => {}
            }
        }
        text(&mut svg, plot.left + group * (index as f64 + 0.5), plot.bottom + 16.0, "middle", 12, band.label());
    }
    line(&mut svg, (plot.left, plot.bottom), (plot.right, plot.bottom), INK, 1.0);
    let entries: Vec<(&str, &str)> = genders
        .iter()
        .map(|gender| {
            let index = Gender::ALL.iter().position(|g| g == gender).unwrap_or(0);
            (GENDER_FILLS[index % GENDER_FILLS.len()], labels::gender(*gender))
        })
        .collect();
    legend(&mut svg, plot.left, 14.0, &entries);
    svg.push_str("</svg>");
    Some(svg)
}

/// Hours worked by month (bars) against the agreed pace (a twelfth of the year, as a line);
/// `None` when no month's hours can be drawn.
pub fn hours_by_month(figures: &Figures) -> Option<String> {
    let months = &figures.hours.by_month;
    let hundredths = |shown: &Shown<parcours_projections::TotalHours>| match shown {
        Shown::Value(hours) => Some(hours.hundredths),
        Shown::Withheld => None,
    };
    if !months.iter().any(|row| hundredths(&row.worked).is_some_and(|worked| worked > 0)) {
        return None;
    }
    let max = months
        .iter()
        .flat_map(|row| [hundredths(&row.worked), row.agreed.map(|hours| hours.hundredths)])
        .flatten()
        .max()
        .unwrap_or(0)
        / 100;
    let mut svg = String::new();
    let height = 260;
    open(&mut svg, height, "Heures travaillées par mois et rythme conventionné");
    let plot = Plot { left: 62.0, right: f64::from(WIDTH) - 12.0, top: 30.0, bottom: f64::from(height) - 40.0 };
    let top = round_up(max);
    grid(&mut svg, plot, top, french::integer);
    let slot = (plot.right - plot.left) / months.len().max(1) as f64;
    // Long periods: a label every few months keeps them legible.
    let label_every = months.len().div_ceil(12).max(1);
    let mut pace = Vec::new();
    for (index, row) in months.iter().enumerate() {
        let x = plot.left + slot * index as f64;
        match hundredths(&row.worked) {
            Some(worked) => {
                let y = plot.y(worked / 100, top);
                rect(&mut svg, x + slot * 0.15, y, slot * 0.7, plot.bottom - y, WORKED);
            }
            None => text(&mut svg, x + slot / 2.0, plot.bottom - 4.0, "middle", 9, "masqué"),
        }
        if let Some(agreed) = row.agreed {
            pace.push((x + slot / 2.0, plot.y(agreed.hundredths / 100, top)));
        }
        if index % label_every == 0 {
            text(&mut svg, x + slot / 2.0, plot.bottom + 14.0, "middle", 10, french::month_short(row.month));
            if index == 0 || row.month.month == 1 {
                text(&mut svg, x + slot / 2.0, plot.bottom + 27.0, "middle", 10, &row.month.year.to_string());
            }
        }
    }
    if pace.len() > 1 {
        let points: Vec<String> = pace.iter().map(|(x, y)| format!("{x:.1},{y:.1}")).collect();
        let _ = write!(
            svg,
            "<polyline points=\"{}\" fill=\"none\" stroke=\"{AGREED}\" stroke-width=\"2.5\" stroke-dasharray=\"6 3\"/>",
            points.join(" ")
        );
    }
    for (x, y) in &pace {
        let _ = write!(svg, "<circle cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"3\" fill=\"{AGREED}\"/>");
    }
    line(&mut svg, (plot.left, plot.bottom), (plot.right, plot.bottom), INK, 1.0);
    text(&mut svg, plot.left - 6.0, 14.0, "end", 10, "heures");
    legend(
        &mut svg,
        plot.left + 10.0,
        14.0,
        &[(WORKED, "Heures travaillées"), (AGREED, "Heures conventionnées (douzième de l'année)")],
    );
    svg.push_str("</svg>");
    Some(svg)
}

/// Exits by official category, as horizontal bars; `None` when no exit can be drawn.
pub fn exits_by_category(figures: &Figures) -> Option<String> {
    let counts = &figures.outcomes.counts;
    let categories = CATEGORIES;
    let values: Vec<Option<u64>> = categories.iter().map(|(field, _)| count_of(counts.get(*field))).collect();
    if !values.iter().any(|value| value.is_some_and(|count| count > 0)) {
        return None;
    }
    let max = values.iter().flatten().copied().max().unwrap_or(0);
    let row_height = 30.0;
    let height = (categories.len() as f64 * row_height + 40.0) as u32;
    let mut svg = String::new();
    open(&mut svg, height, "Sorties par catégorie");
    let (left, right) = (200.0, f64::from(WIDTH) - 60.0);
    let fills = ["#1f4e79", "#2e75b6", "#9dc3e6", "#a5a5a5", "#d9d9d9"];
    for (index, ((_, label), value)) in categories.iter().zip(&values).enumerate() {
        let y = 10.0 + row_height * index as f64;
        text(&mut svg, left - 8.0, y + 19.0, "end", 12, label);
        match value {
            Some(count) => {
                let width = (right - left) * *count as f64 / max.max(1) as f64;
                rect(&mut svg, left, y + 6.0, width.max(1.0), row_height - 10.0, fills[index % fills.len()]);
                text(&mut svg, left + width + 6.0, y + 19.0, "start", 12, &french::integer(*count));
            }
            None => text(&mut svg, left + 4.0, y + 19.0, "start", 11, "masqué"),
        }
    }
    line(&mut svg, (left, 10.0), (left, 10.0 + row_height * categories.len() as f64), INK, 1.0);
    svg.push_str("</svg>");
    Some(svg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axis_steps_are_round() {
        let cases = [(0, 1), (4, 1), (6, 2), (11, 2), (12, 5), (42, 10), (350, 100), (4200, 1000), (30_000, 10_000)];
        for (max, step) in cases {
            assert_eq!(step_for(max), step, "{max}");
        }
    }
}
