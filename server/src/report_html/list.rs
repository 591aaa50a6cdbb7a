//! The list behind one figure of the report: the people (or committees) it counts.

use std::fmt::Write as _;

use parcours_core::vocabulary::Slug;
use parcours_projections::report::{ActivityReport, Detail, Row};

use super::{escape, figure_label, head, labels, period_text, structure_names, Question, REPORT_PATH};
use crate::french;
use crate::labels::Labelled;

/// One row of a list, with the person's name where the reader may see it.
pub struct NamedRow<'a> {
    pub row: &'a Row,
    pub name: Option<String>,
}

/// What a row says beyond its person and dates, in French.
pub fn detail(detail: &Detail) -> String {
    match detail {
        Detail::Exit { destination } => destination.label().to_owned(),
        Detail::Contract { contract_kind, weekly_hours } => format!(
            "{}, {}\u{a0}h par semaine",
            contract_kind.label(),
            french::hundredths(u64::from(weekly_hours.hundredths))
        ),
        Detail::Hours { hours } => format!("{}\u{a0}h", french::hundredths(hours.hundredths)),
        Detail::Support { domain, action, partner } => {
            let mut text = format!("{} — {}", domain.label(), labels::action(*action).to_lowercase());
            if let Some(partner) = partner {
                let _ = write!(text, " — {partner}");
            }
            text
        }
        Detail::Committee { people } => match people {
            1 => "1 personne revue".to_owned(),
            n => format!("{} personnes revues", french::integer(*n)),
        },
        Detail::SixMonths { situation } => situation.label().to_owned(),
    }
}

/// The list behind one figure.
pub fn list_page(report: &ActivityReport, question: &Question, figure: &str, rows: &[NamedRow<'_>]) -> String {
    let names = structure_names(report);
    let period = period_text(report.from, report.to);
    let label = figure_label(figure);
    let mut out = String::with_capacity(16 * 1024);
    head(&mut out, &format!("{label} — {names} — {period}"));
    let all: Vec<&Slug> = report.structures.iter().map(|name| &name.slug).collect();
    let _ = writeln!(
        out,
        "<header class=\"cover\">\n<p class=\"kicker\"><a href=\"{}\">Rapport d'activité</a> — {}</p>\n<h1>{}</h1>\n<p class=\"period\">{} — période {}</p>",
        question.href(REPORT_PATH, &all, None),
        escape(&names),
        escape(&label),
        escape(&format!("{} ligne{}", french::integer(rows.len() as u64), if rows.len() > 1 { "s" } else { "" })),
        escape(&period)
    );
    let family = report
        .figures
        .cells()
        .into_iter()
        .chain(report.by_structure.iter().flat_map(|part| part.figures.cells()))
        .find(|cell| cell.list.as_deref() == Some(figure))
        .map(|cell| cell.definition);
    if let Some(text) = family.and_then(|key| report.definitions.0.text(key)) {
        let _ = writeln!(out, "<p class=\"definition\">{}</p>", escape(text));
    }
    // Columns a list does not use are left out: an end date for episodes and contracts only, a
    // detail where rows have one.
    let with_until = rows.iter().any(|named| named.row.until.is_some());
    let with_detail = rows.iter().any(|named| named.row.detail.is_some());
    out.push_str("</header>\n<main>\n<table class=\"list\">\n<thead><tr><th scope=\"col\">Date</th>");
    out.push_str("<th scope=\"col\">Personne</th><th scope=\"col\">Structure</th>");
    if with_until {
        out.push_str("<th scope=\"col\">Jusqu'au</th>");
    }
    if with_detail {
        out.push_str("<th scope=\"col\">Détail</th>");
    }
    out.push_str("</tr></thead>\n<tbody>\n");
    for NamedRow { row, name } in rows {
        let person = match (row.beneficiary, name) {
            (Some(id), Some(name)) => format!("{}<br><span class=\"id\">{id}</span>", escape(name)),
            (Some(id), None) => format!("<span class=\"id\">{id}</span>"),
            (None, _) => "—".to_owned(),
        };
        let structure = report
            .structures
            .iter()
            .find(|name| name.slug == row.structure)
            .and_then(|name| name.name.as_deref())
            .unwrap_or(row.structure.as_str());
        let _ = write!(
            out,
            "<tr><td>{}</td><td>{person}</td><td>{}</td>",
            escape(&french::date_long(row.on)),
            escape(structure)
        );
        if with_until {
            let _ = write!(out, "<td>{}</td>", escape(&row.until.map(french::date_long).unwrap_or_default()));
        }
        if with_detail {
            let _ = write!(out, "<td>{}</td>", escape(&row.detail.as_ref().map(detail).unwrap_or_default()));
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody>\n</table>\n</main>\n</body>\n</html>\n");
    out
}
