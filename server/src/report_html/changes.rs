//! "Ce qui a changé depuis la publication": for a funder or an auditor, the figures of a published
//! report that differ from the same question asked of the log now, each with its values then and
//! now, the rows behind it that went or came, and the events recorded since that made the
//! difference (late steps, corrections).
//!
//! Each figure row carries `data-figure`, `data-structure`, `data-then` and `data-now` (the values
//! as in the CSV) and each event row `data-event` (its id), so a test reads the page as data.

use std::fmt::Write as _;

use chrono_tz::Tz;
use parcours_core::vocabulary::{Envelope, ReportPublished};
use parcours_projections::report::{ActivityReport, Cause, FigureChange, Reading, Row};

use super::list::detail;
use super::page::formatted;
use super::{escape, figure_label, head, period_text, structure_names};
use crate::french::{self, time};
use crate::labels::Labelled;
use crate::publication::Changes;

fn value(reading: Option<&Reading>) -> String {
    match reading {
        None => "absent".to_owned(),
        Some(reading) => {
            let mut text = formatted(&reading.value).0;
            if let Some(share) = reading.share {
                let _ = write!(text, " ({})", formatted(&parcours_projections::report::Value::Rate(share)).0);
            }
            text
        }
    }
}

/// As the CSV writes the value: empty when absent or withheld.
fn csv_value(reading: Option<&Reading>) -> String {
    reading.map(|reading| reading.value.to_string()).unwrap_or_default()
}

fn structure_name<'a>(report: &'a ActivityReport, slug: &'a parcours_core::vocabulary::Slug) -> &'a str {
    report
        .structures
        .iter()
        .find(|name| name.slug == *slug)
        .and_then(|name| name.name.as_deref())
        .unwrap_or(slug.as_str())
}

fn rows_table(out: &mut String, report: &ActivityReport, caption: &str, rows: &[Row]) {
    if rows.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "<table class=\"list\">\n<caption>{}</caption>\n<thead><tr><th scope=\"col\">Date</th><th scope=\"col\">Personne</th><th scope=\"col\">Structure</th><th scope=\"col\">Jusqu'au</th><th scope=\"col\">Détail</th></tr></thead>\n<tbody>",
        escape(caption)
    );
    for row in rows {
        let person = row.beneficiary.map_or_else(|| "—".to_owned(), |id| format!("<span class=\"id\">{id}</span>"));
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td>{person}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(&french::date_long(row.on)),
            escape(structure_name(report, &row.structure)),
            escape(&row.until.map(french::date_long).unwrap_or_default()),
            escape(&row.detail.as_ref().map(detail).unwrap_or_default())
        );
    }
    out.push_str("</tbody>\n</table>\n");
}

fn events_table(out: &mut String, events: &[Cause], timezone: Tz) {
    if events.is_empty() {
        out.push_str("<p class=\"meta\">Aucun évènement enregistré depuis la publication n'explique cet écart : le calcul du chiffre a changé, pas les faits.</p>\n");
        return;
    }
    out.push_str("<table class=\"list\">\n<caption>Évènements enregistrés depuis la publication</caption>\n<thead><tr><th scope=\"col\">Position</th><th scope=\"col\">Évènement</th><th scope=\"col\">Date de l'évènement</th><th scope=\"col\">Enregistré le</th><th scope=\"col\">Par</th><th scope=\"col\">Parcours</th></tr></thead>\n<tbody>\n");
    for cause in events {
        let mut what = cause.kind.label().to_owned();
        if let Some(corrected) = cause.corrects {
            let _ = write!(what, " de l'évènement {corrected}");
        }
        let _ = writeln!(
            out,
            "<tr data-event=\"{}\"><td class=\"num\">{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td><span class=\"id\">{}</span></td></tr>",
            cause.id,
            french::integer(cause.position),
            escape(&what),
            escape(&french::date_long(cause.occurred_on)),
            escape(&time(cause.recorded_at, timezone)),
            escape(&cause.recorded_by.0),
            cause.stream
        );
    }
    out.push_str("</tbody>\n</table>\n");
}

fn change(out: &mut String, report: &ActivityReport, change: &FigureChange, timezone: Tz) {
    let label = figure_label(&change.figure);
    let title = match &change.structure {
        Some(slug) => format!("{label} — {}", structure_name(report, slug)),
        None => label,
    };
    let _ = writeln!(out, "<section class=\"block\">\n<h2>{}</h2>", escape(&title));
    if let Some(text) = report.definitions.0.text(change.definition) {
        let _ = writeln!(out, "<p class=\"definition\">{}</p>", escape(text));
    }
    let _ = writeln!(
        out,
        "<table class=\"figures\">\n<tbody>\n<tr><th scope=\"row\">Publié</th><td class=\"num\">{}</td></tr>\n<tr><th scope=\"row\">Aujourd'hui</th><td class=\"num\">{}</td></tr>\n</tbody>\n</table>",
        escape(&value(change.then.as_ref())),
        escape(&value(change.now.as_ref()))
    );
    rows_table(out, report, "Lignes comptées à la publication, plus comptées aujourd'hui", &change.removed);
    rows_table(out, report, "Lignes comptées aujourd'hui, pas à la publication", &change.added);
    events_table(out, &change.events, timezone);
    out.push_str("</section>\n");
}

/// The page of what changed since a publication; `now` is the same question asked now.
pub fn changes_page(
    envelope: &Envelope,
    published: &ReportPublished,
    changes: &Changes,
    now: &ActivityReport,
    timezone: Tz,
) -> String {
    let names = structure_names(now);
    let period = period_text(published.from, published.to);
    let mut out = String::with_capacity(16 * 1024);
    head(&mut out, &format!("Ce qui a changé depuis la publication — {names} — {period}"));
    let _ = writeln!(
        out,
        "<header class=\"cover\">\n<p class=\"kicker\"><a href=\"/api/reports/published/{}?format=html\">Rapport publié</a> — {}</p>\n<h1>Ce qui a changé depuis la publication</h1>\n<p class=\"period\">Période {}</p>",
        envelope.id,
        escape(&names),
        escape(&period)
    );
    let _ = writeln!(
        out,
        "<p class=\"meta\">Publié le {} par {} : le rapport comptait le journal jusqu'à sa position {}. Il est comparé ici au même rapport (définitions version {}) calculé sur le journal jusqu'à sa position {}.</p>\n</header>\n<main>",
        escape(&french::date_long(envelope.occurred_on)),
        escape(&envelope.recorded_by.0),
        french::integer(changes.published_at),
        escape(&published.definitions),
        french::integer(changes.now_at)
    );
    if changes.figures.is_empty() {
        out.push_str(
            "<p class=\"notice\">Aucun chiffre n'a changé depuis la publication : le rapport envoyé reste exact.</p>\n",
        );
    } else {
        let count = changes.figures.len();
        let _ = writeln!(
            out,
            "<table class=\"figures\">\n<caption>{} chiffre{} différent{} aujourd'hui</caption>\n<thead><tr><th scope=\"col\">Chiffre</th><th scope=\"col\">Publié</th><th scope=\"col\">Aujourd'hui</th><th scope=\"col\">Évènements</th></tr></thead>\n<tbody>",
            french::integer(count as u64),
            if count > 1 { "s" } else { "" },
            if count > 1 { "s" } else { "" }
        );
        for figure in &changes.figures {
            let structure = figure.structure.as_ref().map(|slug| slug.as_str()).unwrap_or_default();
            let mut label = figure_label(&figure.figure);
            if let Some(slug) = &figure.structure {
                let _ = write!(label, " — {}", structure_name(now, slug));
            }
            let _ = writeln!(
                out,
                "<tr data-figure=\"{}\" data-structure=\"{}\" data-then=\"{}\" data-now=\"{}\"><th scope=\"row\">{}</th><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
                escape(&figure.figure),
                escape(structure),
                escape(&csv_value(figure.then.as_ref())),
                escape(&csv_value(figure.now.as_ref())),
                escape(&label),
                escape(&value(figure.then.as_ref())),
                escape(&value(figure.now.as_ref())),
                french::integer(figure.events.len() as u64)
            );
        }
        out.push_str("</tbody>\n</table>\n");
        for figure in &changes.figures {
            change(&mut out, now, figure, timezone);
        }
    }
    out.push_str("</main>\n</body>\n</html>\n");
    out
}
