//! The printable report: one section per part of CONTRACT §8, each figure with its definition,
//! each count linked to its list for readers who may open lists.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use parcours_core::vocabulary::Slug;
use parcours_projections::report::{ActivityReport, FigureCell, Figures, Shown, Value};
use parcours_projections::Disclosed;

use super::{
    charts, escape, figure_label, head, labels, period_text, structure_names, Question, CATEGORIES, LIST_PATH,
};
use crate::french;
use crate::labels::Labelled;

/// A value in French, and whether it is withheld.
pub(super) fn formatted(value: &Value) -> (String, bool) {
    let withheld = (String::from("masqué"), true);
    match value {
        Value::Count(Disclosed::Count(count)) => (french::integer(*count), false),
        Value::Rate(Disclosed::Rate(Some(rate))) => (french::percent(*rate), false),
        Value::Rate(Disclosed::Rate(None)) | Value::Agreed(None) => ("—".to_owned(), false),
        Value::Hours(Shown::Value(hours)) | Value::Agreed(Some(hours)) => {
            (format!("{}\u{a0}h", french::hundredths(hours.hundredths)), false)
        }
        Value::Fte(Shown::Value(fte)) | Value::AgreedFte(Some(fte)) => (french::hundredths(fte.hundredths), false),
        Value::AgreedFte(None) | Value::Days(Shown::Value(None)) => ("—".to_owned(), false),
        Value::Days(Shown::Value(Some(days))) => {
            (format!("{}\u{a0}jours", french::hundredths(days.tenths * 10)), false)
        }
        _ => withheld,
    }
}

/// One part of the page: the whole report, or one structure's figures.
struct Scope<'a> {
    cells: BTreeMap<String, FigureCell>,
    /// Set for a structure's own part: marks its cells (`data-structure`) apart from the whole's.
    structure: Option<&'a Slug>,
    /// The structures a list link asks for.
    link_to: Vec<&'a Slug>,
    question: Option<&'a Question>,
    report: &'a ActivityReport,
    /// `h2` for the whole report's sections, `h3` inside a structure's part.
    level: u8,
}

impl Scope<'_> {
    fn cell(&self, id: &str) -> Option<&FigureCell> {
        self.cells.get(id)
    }

    fn definition(&self, key: &str) -> String {
        match self.report.definitions.0.text(key) {
            Some(text) => format!("<p class=\"definition\">{}</p>", escape(text)),
            None => String::new(),
        }
    }

    /// The `<td>` of a cell's value, linked to its list where the reader may open it.
    fn value(&self, id: &str) -> String {
        let Some(cell) = self.cell(id) else { return "<td class=\"num\">—</td>".to_owned() };
        let (text, withheld) = formatted(&cell.value);
        let structure =
            self.structure.map(|slug| format!(" data-structure=\"{}\"", escape(slug.as_str()))).unwrap_or_default();
        let share = cell.share.map(|share| format!(" data-share=\"{share}\"")).unwrap_or_default();
        let class = if withheld { "num withheld" } else { "num" };
        let linked = match (&cell.list, self.question, &cell.value) {
            (Some(list), Some(question), Value::Count(Disclosed::Count(count))) if *count > 0 => Some((list, question)),
            (Some(list), Some(question), Value::Hours(Shown::Value(hours))) if hours.hundredths > 0 => {
                Some((list, question))
            }
            (Some(list), Some(question), Value::Fte(Shown::Value(fte))) if fte.hundredths > 0 => Some((list, question)),
            _ => None,
        };
        let content = match linked {
            Some((list, question)) => {
                let title = escape(&format!("Voir la liste : {}", figure_label(list)));
                format!(
                    "<a href=\"{}\" title=\"{title}\">{}</a>",
                    question.href(LIST_PATH, &self.link_to, Some(list)),
                    escape(&text)
                )
            }
            None => escape(&text),
        };
        format!(
            "<td class=\"{class}\" data-figure=\"{}\" data-value=\"{}\"{share}{structure}>{content}</td>",
            escape(&cell.id),
            escape(&cell.value.to_string())
        )
    }

    /// The `<td>` of a cell's share (empty when it has none).
    fn share(&self, id: &str) -> String {
        match self.cell(id).and_then(|cell| cell.share) {
            Some(share) => {
                let (text, withheld) = formatted(&Value::Rate(share));
                format!("<td class=\"{}\">{}</td>", if withheld { "num withheld" } else { "num" }, escape(&text))
            }
            None => "<td class=\"num\"></td>".to_owned(),
        }
    }

    fn heading(&self, out: &mut String, id: &str, title: &str) {
        let level = self.level;
        let anchor = match self.structure {
            Some(slug) => format!("{id}-{}", slug.as_str()),
            None => id.to_owned(),
        };
        let _ = writeln!(out, "<h{level} id=\"{}\">{}</h{level}>", escape(&anchor), escape(title));
    }

    /// A table of single figures, each with its definition.
    fn figures(&self, out: &mut String, rows: &[(&str, String, Option<&str>)]) {
        out.push_str("<table class=\"figures\">\n<tbody>\n");
        for (id, label, definition) in rows {
            let definition = definition.map(|key| self.definition(key)).unwrap_or_default();
            let _ = writeln!(out, "<tr><th scope=\"row\">{}{definition}</th>{}</tr>", escape(label), self.value(id));
        }
        out.push_str("</tbody>\n</table>\n");
    }

    /// A table with a header row; each row: label cells, then value cells by id.
    fn table(
        &self,
        out: &mut String,
        caption: &str,
        header: &[&str],
        rows: &[(Vec<String>, Vec<String>)],
        definition: &str,
    ) {
        // A block, so that print keeps a short table with its definition.
        let _ = write!(
            out,
            "<div class=\"block\">\n<table class=\"breakdown\">\n<caption>{}</caption>\n<thead><tr>",
            escape(caption)
        );
        for (index, title) in header.iter().enumerate() {
            let class = if index + rows.first().map_or(0, |(_, values)| values.len()) >= header.len() {
                " class=\"num\""
            } else {
                ""
            };
            let _ = write!(out, "<th scope=\"col\"{class}>{}</th>", escape(title));
        }
        out.push_str("</tr></thead>\n<tbody>\n");
        if rows.is_empty() {
            let _ = writeln!(
                out,
                "<tr><td colspan=\"{}\" class=\"empty\">Aucune donnée pour la période.</td></tr>",
                header.len()
            );
        }
        for (labels, values) in rows {
            out.push_str("<tr>");
            for label in labels {
                let _ = write!(out, "<th scope=\"row\">{}</th>", escape(label));
            }
            for value in values {
                out.push_str(value);
            }
            out.push_str("</tr>\n");
        }
        out.push_str("</tbody>\n</table>\n");
        out.push_str(&self.definition(definition));
        out.push_str("</div>\n");
    }
}

/// A chart with its caption, or why there is none.
fn chart(out: &mut String, svg: Option<String>, caption: &str) {
    match svg {
        Some(svg) => {
            let _ = writeln!(out, "<figure class=\"chart\">{svg}<figcaption>{}</figcaption></figure>", escape(caption));
        }
        None => {
            out.push_str("<p class=\"empty\">Pas de graphique : rien à montrer, ou seulement des cases masquées.</p>\n")
        }
    }
}

fn fixed(id: &'static str) -> (&'static str, String, Option<&'static str>) {
    let label = figure_label(id);
    (id, label, Some(id))
}

fn sections(out: &mut String, scope: &Scope<'_>, figures: &Figures) {
    out.push_str("<section class=\"part\">\n");
    scope.heading(out, "personnes", "Personnes accompagnées");
    scope.figures(
        out,
        &[
            fixed("people.followed"),
            fixed("people.entered"),
            fixed("people.exited"),
            fixed("people.present_at_end"),
            fixed("people.distinct_since_start"),
        ],
    );
    out.push_str("</section>\n<section class=\"part\">\n");

    scope.heading(out, "contrats", "Contrats de travail");
    scope.figures(
        out,
        &[fixed("contracts.on_contract_at_end"), fixed("contracts.contracts_at_end"), fixed("contracts.fte_at_end")],
    );
    let rows: Vec<(Vec<String>, Vec<String>)> = figures
        .contracts
        .by_kind
        .iter()
        .map(|row| {
            let id = format!("contracts.by_kind.{}", row.kind);
            (vec![row.kind.label().to_owned()], vec![scope.value(&id), scope.value(&format!("{id}.fte"))])
        })
        .collect();
    scope.table(
        out,
        "Contrats ouverts au dernier jour, par nature",
        &["Nature du contrat", "Contrats", "Équivalents temps plein"],
        &rows,
        "contracts.by_kind",
    );
    out.push_str("</section>\n<section class=\"part\">\n");

    scope.heading(out, "heures", "Heures de travail");
    scope.figures(
        out,
        &[fixed("hours.worked"), fixed("hours.agreed"), fixed("hours.worked_share_of_agreed"), fixed("hours.people")],
    );
    chart(
        out,
        charts::hours_by_month(figures),
        "Heures travaillées chaque mois (barres) face au rythme conventionné (douzième des heures conventionnées \
         de l'année, en pointillés).",
    );
    let rows: Vec<(Vec<String>, Vec<String>)> = figures
        .hours
        .by_month
        .iter()
        .map(|row| {
            let id = format!("hours.by_month.{}", row.month);
            (
                vec![french::month(row.month)],
                vec![scope.value(&format!("{id}.people")), scope.value(&id), scope.value(&format!("{id}.agreed"))],
            )
        })
        .collect();
    scope.table(
        out,
        "Heures par mois",
        &["Mois", "Personnes", "Heures travaillées", "Heures conventionnées"],
        &rows,
        "hours.by_month",
    );
    let rows: Vec<(Vec<String>, Vec<String>)> = figures
        .hours
        .by_gender
        .iter()
        .map(|row| {
            let id = format!("hours.by_gender.{}", row.gender);
            (
                vec![labels::gender(row.gender).to_owned()],
                vec![scope.value(&format!("{id}.people")), scope.value(&id), scope.share(&id)],
            )
        })
        .collect();
    scope.table(
        out,
        "Heures par genre",
        &["Genre", "Personnes", "Heures travaillées", "Part"],
        &rows,
        "hours.by_gender",
    );
    out.push_str("</section>\n<section class=\"part\">\n");

    scope.heading(out, "suivi", "Suivi des parcours");
    scope.figures(
        out,
        &[
            fixed("follow_up.committees_held"),
            fixed("follow_up.individual_meetings"),
            fixed("follow_up.overdue_at_end"),
        ],
    );
    out.push_str("</section>\n<section class=\"part\">\n");

    scope.heading(out, "profil", "Profil des entrées");
    scope.figures(out, &[fixed("profile.entries")]);
    chart(
        out,
        charts::entries_by_age_band(figures),
        "Entrées de la période par tranche d'âge à l'orientation et genre.",
    );
    let counted = |id: String| vec![scope.value(&id), scope.share(&id)];
    let rows: Vec<(Vec<String>, Vec<String>)> = figures
        .profile
        .by_gender
        .iter()
        .map(|row| (vec![labels::gender(row.gender).to_owned()], counted(format!("profile.by_gender.{}", row.gender))))
        .collect();
    scope.table(out, "Entrées par genre", &["Genre", "Entrées", "Part"], &rows, "profile.by_gender");
    let rows: Vec<(Vec<String>, Vec<String>)> = figures
        .profile
        .by_situation_and_gender
        .iter()
        .map(|row| {
            let labels = vec![row.situation.label().to_owned(), labels::gender(row.gender).to_owned()];
            (labels, counted(format!("profile.by_situation_and_gender.{}.{}", row.situation, row.gender)))
        })
        .collect();
    scope.table(
        out,
        "Entrées par situation et genre",
        &["Situation à l'orientation", "Genre", "Entrées", "Part"],
        &rows,
        "profile.by_situation_and_gender",
    );
    let rows: Vec<(Vec<String>, Vec<String>)> = figures
        .profile
        .by_age_band_and_gender
        .iter()
        .map(|row| {
            let labels = vec![row.age_band.label().to_owned(), labels::gender(row.gender).to_owned()];
            (labels, counted(format!("profile.by_age_band_and_gender.{}.{}", row.age_band, row.gender)))
        })
        .collect();
    scope.table(
        out,
        "Entrées par tranche d'âge et genre",
        &["Tranche d'âge", "Genre", "Entrées", "Part"],
        &rows,
        "profile.by_age_band_and_gender",
    );
    let rows: Vec<(Vec<String>, Vec<String>)> = figures
        .profile
        .by_benefit
        .iter()
        .map(|row| {
            (vec![labels::benefit(row.benefit).to_owned()], counted(format!("profile.by_benefit.{}", row.benefit)))
        })
        .collect();
    scope.table(out, "Entrées par minimum social", &["Allocation", "Entrées", "Part"], &rows, "profile.by_benefit");
    let rows: Vec<(Vec<String>, Vec<String>)> = figures
        .profile
        .by_family_quotient
        .iter()
        .map(|row| (vec![labels::band(row.band)], counted(format!("profile.by_family_quotient.{}", row.band))))
        .collect();
    scope.table(
        out,
        "Entrées par quotient familial",
        &["Quotient familial mensuel", "Entrées", "Part"],
        &rows,
        "profile.by_family_quotient",
    );
    out.push_str("</section>\n<section class=\"part\">\n");

    scope.heading(out, "accompagnement", "Accompagnement social");
    scope.figures(out, &[fixed("support.actions")]);
    let rows: Vec<(Vec<String>, Vec<String>)> = figures
        .support
        .by_domain_and_action
        .iter()
        .map(|row| {
            let action = row.action.map_or("unspecified", |action| action.code());
            let id = format!("support.by_domain_and_action.{}.{action}", row.domain);
            (vec![row.domain.label().to_owned(), labels::action(row.action).to_owned()], vec![scope.value(&id)])
        })
        .collect();
    scope.table(
        out,
        "Actions par domaine et nature",
        &["Domaine", "Nature", "Actions"],
        &rows,
        "support.by_domain_and_action",
    );
    scope.figures(out, &[fixed("support.oriented")]);
    let rows: Vec<(Vec<String>, Vec<String>)> = figures
        .support
        .partners
        .iter()
        .map(|row| (vec![row.partner.clone()], vec![scope.value(&format!("support.partners.{}", row.partner))]))
        .collect();
    scope.table(
        out,
        "Partenaires vers lesquels les personnes ont été orientées",
        &["Partenaire", "Orientations"],
        &rows,
        "support.partners",
    );
    out.push_str("</section>\n<section class=\"part\">\n");

    scope.heading(out, "sorties", "Sorties");
    scope.figures(out, &[fixed("outcomes.exits")]);
    chart(out, charts::exits_by_category(figures), "Sorties de la période par catégorie officielle.");
    let rows: Vec<(Vec<String>, Vec<String>)> = CATEGORIES
        .iter()
        .map(|(field, label)| (vec![(*label).to_owned()], vec![scope.value(&format!("outcomes.{}", field.code()))]))
        .collect();
    scope.table(out, "Sorties par catégorie", &["Catégorie", "Sorties"], &rows, "outcomes.categories");
    scope.figures(
        out,
        &[
            fixed("outcomes.dynamic_exits"),
            fixed("outcomes.dynamic_exit_rate"),
            fixed("outcomes.reenrolled"),
            fixed("outcomes.followed_up_at_six_months"),
            fixed("outcomes.employed_at_six_months"),
            fixed("outcomes.employed_at_six_months_share"),
        ],
    );
    let rows: Vec<(Vec<String>, Vec<String>)> = figures
        .outcomes
        .six_months_after_exit
        .iter()
        .map(|row| {
            let id = format!("outcomes.six_months_after_exit.{}", row.situation);
            (vec![row.situation.label().to_owned()], vec![scope.value(&id)])
        })
        .collect();
    scope.table(
        out,
        "Situation six mois après la sortie",
        &["Situation", "Sorties"],
        &rows,
        "outcomes.six_months_after_exit",
    );
    out.push_str("</section>\n");
    funders(out, scope, figures);
}

/// The figures of version 2 of the definitions (CONTRACT §11), when the report has them: a
/// version 1 report prints none of this, and keeps its bytes.
fn funders(out: &mut String, scope: &Scope<'_>, figures: &Figures) {
    let (Some(entries), Some(skills)) = (&figures.entries, &figures.skills_assessments) else {
        return;
    };
    out.push_str("<section class=\"part\">\n");
    scope.heading(out, "financeurs", "Chiffres demandés par les financeurs");
    scope.figures(
        out,
        &[
            fixed("outcomes.cdi"),
            ("people.pathway_days.median", figure_label("people.pathway_days.median"), Some("people.pathway_days")),
            ("people.pathway_days.mean", figure_label("people.pathway_days.mean"), None),
            fixed("contracts.fte_worked"),
            fixed("contracts.agreed_fte"),
            fixed("follow_up.group_sessions"),
            fixed("follow_up.phone_contacts"),
            fixed("trainings.started"),
            fixed("trainings.completed"),
            fixed("trainings.certified"),
            ("skills_assessments.count", figure_label("skills_assessments.count"), Some("skills_assessments")),
        ],
    );
    let counted = |id: String| vec![scope.value(&id), scope.share(&id)];
    let rows: Vec<(Vec<String>, Vec<String>)> = entries
        .by_prescriber
        .iter()
        .map(|row| {
            (vec![row.prescriber.label().to_owned()], counted(format!("entries.by_prescriber.{}", row.prescriber)))
        })
        .collect();
    scope.table(out, "Entrées par prescripteur", &["Prescripteur", "Entrées", "Part"], &rows, "entries.by_prescriber");
    let rows: Vec<(Vec<String>, Vec<String>)> = skills
        .by_kind
        .iter()
        .map(|row| {
            (vec![row.kind.label().to_owned()], vec![scope.value(&format!("skills_assessments.by_kind.{}", row.kind))])
        })
        .collect();
    scope.table(out, "Évaluations de compétences par nature", &["Nature", "Évaluations"], &rows, "skills_assessments");
    out.push_str("</section>\n");
}

/// The printable report; `question` set links every count to its list (coordinators, admins,
/// auditors), `None` leaves the figures unlinked (evaluators).
pub fn page(report: &ActivityReport, question: Option<&Question>) -> String {
    let names = structure_names(report);
    let period = period_text(report.from, report.to);
    let mut out = String::with_capacity(64 * 1024);
    head(&mut out, &format!("Rapport d'activité — {names} — {period}"));
    content(&mut out, report, question, Container::Page);
    out.push_str("</body>\n</html>\n");
    out
}

/// The report inside another page (the web application's « Rapports »), which holds the one
/// `main` of its page: the same content, its figures in a `div`.
pub fn embedded(report: &ActivityReport, question: Option<&Question>) -> String {
    let mut out = String::with_capacity(64 * 1024);
    content(&mut out, report, question, Container::Embedded);
    out
}

/// Where the report's content goes.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Container {
    Page,
    Embedded,
}

fn content(out: &mut String, report: &ActivityReport, question: Option<&Question>, container: Container) {
    let names = structure_names(report);
    let period = period_text(report.from, report.to);
    let (open, close) = match container {
        Container::Page => ("<main>", "</main>"),
        Container::Embedded => ("<div class=\"rapport-corps\">", "</div>"),
    };
    out.push_str("<header class=\"cover\">\n<p class=\"kicker\">Rapport d'activité</p>\n");
    let _ = writeln!(out, "<h1>{}</h1>", escape(&names));
    let _ = writeln!(out, "<p class=\"period\">Période {}</p>", escape(&period));
    let bands: Vec<String> = report.family_quotient_bands.iter().map(|cut| french::integer(u64::from(*cut))).collect();
    let _ = writeln!(
        out,
        "<p class=\"meta\">Définitions : version <strong>{}</strong>. Tranches de quotient familial : seuils à {} €. Chaque chiffre est suivi de sa définition ; tous sont calculés à partir du journal des parcours, et le même journal donne toujours le même rapport.</p>",
        escape(report.definitions.0.code()),
        escape(&bands.join(" €, "))
    );
    let all: Vec<&Slug> = report.structures.iter().map(|name| &name.slug).collect();
    let cells = report.figures.cells();
    if cells.iter().any(|cell| cell.value.is_withheld()) {
        out.push_str("<p class=\"notice\">Certaines cases sont masquées pour protéger les personnes : les petits effectifs, et les cases qui permettraient de les retrouver à partir des totaux.</p>\n");
    }
    if question.is_some() {
        out.push_str(
            "<p class=\"meta screen-only\">Chaque effectif renvoie à la liste des personnes qu'il compte.</p>\n",
        );
    }
    let _ = writeln!(out, "</header>\n{open}");
    let whole = Scope {
        cells: cells.into_iter().map(|cell| (cell.id.clone(), cell)).collect(),
        structure: None,
        link_to: all,
        question,
        report,
        level: 2,
    };
    sections(out, &whole, &report.figures);
    for part in &report.by_structure {
        let slug = &part.structure.slug;
        let name = part.structure.name.as_deref().unwrap_or(slug.as_str());
        let _ = writeln!(
            out,
            "<section class=\"structure\">\n<h2 id=\"structure-{}\">Structure : {}</h2>",
            escape(slug.as_str()),
            escape(name)
        );
        let scope = Scope {
            cells: part.figures.cells().into_iter().map(|cell| (cell.id.clone(), cell)).collect(),
            structure: Some(slug),
            link_to: vec![slug],
            question,
            report,
            level: 3,
        };
        sections(out, &scope, &part.figures);
        out.push_str("</section>\n");
    }
    let _ = writeln!(
        out,
        "{close}\n<footer><p>Rapport établi par Parcours à partir du journal des parcours d'insertion.</p></footer>"
    );
}
