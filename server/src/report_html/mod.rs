//! The printable activity report (CONTRACT §8) and the lists behind its figures, as French HTML
//! pages: one section per part of the report, each figure with its definition under it, charts as
//! SVG drawn here, an A4 print stylesheet.
//!
//! The pages obey the Content-Security-Policy of every page ([`CONTENT_SECURITY_POLICY`]): no
//! script at all, no `style` attribute or element; the stylesheet is a static file
//! ([`STYLESHEET_PATH`]) and charts use SVG presentation attributes.
//!
//! Every figure is a cell of `Figures::cells`, the list the CSV walks too: each value cell carries
//! `data-figure` (its id), `data-value` and `data-share` (as in the CSV), so a test can check that
//! the page and the CSV say the same thing. The page depends only on the report and on whether
//! lists are linked: the same report gives the same bytes, from the API or the command line.

mod charts;
mod labels;
mod number;

use std::collections::BTreeMap;
use std::fmt::Write as _;

use parcours_core::vocabulary::{Date, Slug};
use parcours_projections::report::{ActivityReport, Detail, FigureCell, Figures, Row, Shown, Value};
use parcours_projections::Published;

pub use labels::CATEGORIES;

/// The stylesheet of the report's pages, served at [`STYLESHEET_PATH`].
pub const STYLESHEET: &str = include_str!("report.css");
pub const STYLESHEET_PATH: &str = "/api/reports/report.css";
pub const REPORT_PATH: &str = "/api/reports/activity";
pub const LIST_PATH: &str = "/api/reports/activity/list";

/// No script, styles from this server only, nothing framed, no form posted anywhere.
pub const CONTENT_SECURITY_POLICY: &str =
    "default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// Escapes text for HTML content and attribute values.
pub fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for character in text.chars() {
        match character {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            other => escaped.push(other),
        }
    }
    escaped
}

/// What the links to lists repeat of the report's question.
#[derive(Clone, Debug)]
pub struct Question {
    pub from: Date,
    pub to: Date,
    pub definitions: String,
    pub family_quotient_bands: String,
}

impl Question {
    pub fn of(report: &ActivityReport) -> Question {
        Question {
            from: report.from,
            to: report.to,
            definitions: report.definitions.0.to_string(),
            family_quotient_bands: report.family_quotient_bands_text(),
        }
    }

    /// The URL of a list, or of the report itself (`figure` = `None`), as HTML.
    fn href(&self, path: &str, structures: &[&Slug], figure: Option<&str>) -> String {
        let slugs: Vec<&str> = structures.iter().map(|slug| slug.as_str()).collect();
        let mut query = form_urlencoded::Serializer::new(String::new());
        query
            .append_pair("structure", &slugs.join(","))
            .append_pair("from", &self.from.to_string())
            .append_pair("to", &self.to.to_string())
            .append_pair("definitions", &self.definitions)
            .append_pair("family_quotient_bands", &self.family_quotient_bands);
        if let Some(figure) = figure {
            query.append_pair("figure", figure);
        }
        query.append_pair("format", "html");
        escape(&format!("{path}?{}", query.finish()))
    }
}

/// The labels of figures with a fixed id, as the page and the lists title them.
const FIXED_LABELS: &[(&str, &str)] = &[
    ("people.followed", "Personnes suivies"),
    ("people.entered", "Entrées (orientations)"),
    ("people.exited", "Sorties"),
    ("people.present_at_end", "Personnes présentes au dernier jour"),
    ("people.distinct_since_start", "Personnes différentes depuis le début"),
    ("contracts.on_contract_at_end", "Personnes sous contrat au dernier jour"),
    ("contracts.contracts_at_end", "Contrats ouverts au dernier jour"),
    ("contracts.fte_at_end", "Équivalents temps plein au dernier jour"),
    ("hours.worked", "Heures travaillées"),
    ("hours.agreed", "Heures conventionnées"),
    ("hours.worked_share_of_agreed", "Réalisation de la convention"),
    ("hours.people", "Personnes ayant travaillé"),
    ("follow_up.committees_held", "Comités de suivi tenus"),
    ("follow_up.individual_meetings", "Entretiens individuels"),
    ("follow_up.overdue_at_end", "Personnes sans contact depuis plus de 21 jours au dernier jour"),
    ("profile.entries", "Entrées"),
    ("support.actions", "Actions d'accompagnement"),
    ("support.oriented", "Orientations vers un partenaire"),
    ("outcomes.exits", "Sorties"),
    ("outcomes.dynamic_exits", "Sorties dynamiques"),
    ("outcomes.dynamic_exit_rate", "Taux de sorties dynamiques"),
    ("outcomes.reenrolled", "Sorties suivies d'une nouvelle orientation"),
    ("outcomes.followed_up_at_six_months", "Sorties suivies à six mois"),
    ("outcomes.employed_at_six_months", "En emploi à six mois"),
    ("outcomes.employed_at_six_months_share", "Part en emploi à six mois"),
];

/// A figure's title in French, for any id the report has.
pub fn figure_label(id: &str) -> String {
    if let Some((_, label)) = FIXED_LABELS.iter().find(|(fixed, _)| *fixed == id) {
        return (*label).to_owned();
    }
    if let Some((_, label)) = CATEGORIES.iter().find(|(field, _)| format!("outcomes.{}", field.code()) == id) {
        return format!("Sorties : {}", label.to_lowercase());
    }
    use parcours_core::vocabulary::{
        ContractKind, Gender, Situation, SituationAfterExit, SupportAction, SupportDomain,
    };
    let parts: Vec<&str> = id.split('.').collect();
    let gender = |code: &str| said(Gender::from_code(code), code, labels::gender);
    match parts.as_slice() {
        ["contracts", "by_kind", kind, ..] => {
            format!(
                "Contrats ouverts au dernier jour : {}",
                said(ContractKind::from_code(kind), kind, labels::contract_kind)
            )
        }
        ["hours", "by_month", month, ..] => {
            let month = month.parse().map_or_else(|_| (*month).to_owned(), labels::month);
            format!("Heures travaillées en {month}")
        }
        ["hours", "by_gender", code, ..] => format!("Heures travaillées : {}", gender(code)),
        ["profile", "by_gender", code] => format!("Entrées : {}", gender(code)),
        ["profile", "by_situation_and_gender", situation, code] => {
            let situation = said(Situation::from_code(situation), situation, labels::situation);
            format!("Entrées : {situation}, {}", gender(code).to_lowercase())
        }
        ["profile", "by_age_band_and_gender", band, code] => {
            let band = said(
                parcours_projections::AgeBand::ALL.iter().copied().find(|b| b.code() == *band),
                band,
                labels::age_band,
            );
            format!("Entrées : {band}, {}", gender(code).to_lowercase())
        }
        ["profile", "by_benefit", code] => format!("Entrées : {}", labels::benefit(code)),
        ["profile", "by_family_quotient", band] => format!("Entrées : quotient familial {band}"),
        ["support", "by_domain_and_action", domain, action] => {
            let domain = said(SupportDomain::from_code(domain), domain, labels::domain);
            let action = labels::action(SupportAction::from_code(action));
            format!("Accompagnement : {domain}, {}", action.to_lowercase())
        }
        ["outcomes", "six_months_after_exit", situation] => {
            let situation = said(SituationAfterExit::from_code(situation), situation, labels::six_months);
            format!("À six mois : {}", situation.to_lowercase())
        }
        _ => match id.strip_prefix("support.partners.") {
            Some(partner) => format!("Orientations vers {partner}"),
            None => id.to_owned(),
        },
    }
}

/// A code's French words, or the code itself when it is not one of the list's.
fn said<T>(value: Option<T>, code: &str, words: fn(T) -> &'static str) -> String {
    value.map_or_else(|| code.to_owned(), |value| words(value).to_owned())
}

fn head(out: &mut String, title: &str) {
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"fr\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{}</title>\n<link rel=\"stylesheet\" href=\"{STYLESHEET_PATH}\">\n</head>\n<body>\n",
        escape(title)
    );
}

fn structure_names(report: &ActivityReport) -> String {
    let names: Vec<&str> =
        report.structures.iter().map(|name| name.name.as_deref().unwrap_or(name.slug.as_str())).collect();
    names.join(", ")
}

fn period_text(from: Date, to: Date) -> String {
    format!("du {} au {}", labels::date(from), labels::date(to))
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

    fn formatted(value: &Value) -> (String, bool) {
        let withheld = (String::from("masqué"), true);
        match value {
            Value::Count(Published::Count(count)) => (number::integer(*count), false),
            Value::Rate(Published::Rate(Some(rate))) => (number::percent(*rate), false),
            Value::Rate(Published::Rate(None)) | Value::Agreed(None) => ("—".to_owned(), false),
            Value::Hours(Shown::Value(hours)) | Value::Agreed(Some(hours)) => {
                (format!("{}\u{a0}h", number::hundredths(hours.hundredths)), false)
            }
            Value::Fte(Shown::Value(fte)) => (number::hundredths(fte.hundredths), false),
            _ => withheld,
        }
    }

    /// The `<td>` of a cell's value, linked to its list where the reader may open it.
    fn value(&self, id: &str) -> String {
        let Some(cell) = self.cell(id) else { return "<td class=\"num\">—</td>".to_owned() };
        let (text, withheld) = Scope::formatted(&cell.value);
        let structure =
            self.structure.map(|slug| format!(" data-structure=\"{}\"", escape(slug.as_str()))).unwrap_or_default();
        let share = cell.share.map(|share| format!(" data-share=\"{share}\"")).unwrap_or_default();
        let class = if withheld { "num withheld" } else { "num" };
        let linked = match (&cell.list, self.question, &cell.value) {
            (Some(list), Some(question), Value::Count(Published::Count(count))) if *count > 0 => Some((list, question)),
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
                let (text, withheld) = Scope::formatted(&Value::Rate(share));
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
            (
                vec![labels::contract_kind(row.kind).to_owned()],
                vec![scope.value(&id), scope.value(&format!("{id}.fte"))],
            )
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
                vec![labels::month(row.month)],
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
            let labels = vec![labels::situation(row.situation).to_owned(), labels::gender(row.gender).to_owned()];
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
            let labels = vec![labels::age_band(row.age_band).to_owned(), labels::gender(row.gender).to_owned()];
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
            (vec![labels::domain(row.domain).to_owned(), labels::action(row.action).to_owned()], vec![scope.value(&id)])
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
            (vec![labels::six_months(row.situation).to_owned()], vec![scope.value(&id)])
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
}

/// The printable report; `question` set links every count to its list (coordinators, admins,
/// auditors), `None` leaves the figures unlinked (evaluators).
pub fn page(report: &ActivityReport, question: Option<&Question>) -> String {
    let names = structure_names(report);
    let period = period_text(report.from, report.to);
    let mut out = String::with_capacity(64 * 1024);
    head(&mut out, &format!("Rapport d'activité — {names} — {period}"));
    out.push_str("<header class=\"cover\">\n<p class=\"kicker\">Rapport d'activité</p>\n");
    let _ = writeln!(out, "<h1>{}</h1>", escape(&names));
    let _ = writeln!(out, "<p class=\"period\">Période {}</p>", escape(&period));
    let bands: Vec<String> = report.family_quotient_bands.iter().map(|cut| number::integer(u64::from(*cut))).collect();
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
    out.push_str("</header>\n<main>\n");
    let whole = Scope {
        cells: cells.into_iter().map(|cell| (cell.id.clone(), cell)).collect(),
        structure: None,
        link_to: all,
        question,
        report,
        level: 2,
    };
    sections(&mut out, &whole, &report.figures);
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
        sections(&mut out, &scope, &part.figures);
        out.push_str("</section>\n");
    }
    out.push_str("</main>\n<footer><p>Rapport établi par Parcours à partir du journal des parcours d'insertion.</p></footer>\n</body>\n</html>\n");
    out
}

/// One row of a list, with the person's name where the reader may see it.
pub struct NamedRow<'a> {
    pub row: &'a Row,
    pub name: Option<String>,
}

fn detail(detail: &Detail) -> String {
    match detail {
        Detail::Exit { destination } => labels::destination(*destination).to_owned(),
        Detail::Contract { contract_kind, weekly_hours } => format!(
            "{}, {}\u{a0}h par semaine",
            labels::contract_kind(*contract_kind),
            number::hundredths(u64::from(weekly_hours.hundredths))
        ),
        Detail::Hours { hours } => format!("{}\u{a0}h", number::hundredths(hours.hundredths)),
        Detail::Support { domain, action, partner } => {
            let mut text = format!("{} — {}", labels::domain(*domain), labels::action(*action).to_lowercase());
            if let Some(partner) = partner {
                let _ = write!(text, " — {partner}");
            }
            text
        }
        Detail::Committee { people } => match people {
            1 => "1 personne revue".to_owned(),
            n => format!("{} personnes revues", number::integer(*n)),
        },
        Detail::SixMonths { situation } => labels::six_months(*situation).to_owned(),
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
        escape(&format!("{} ligne{}", number::integer(rows.len() as u64), if rows.len() > 1 { "s" } else { "" })),
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
            escape(&labels::date(row.on)),
            escape(structure)
        );
        if with_until {
            let _ = write!(out, "<td>{}</td>", escape(&row.until.map(labels::date).unwrap_or_default()));
        }
        if with_detail {
            let _ = write!(out, "<td>{}</td>", escape(&row.detail.as_ref().map(detail).unwrap_or_default()));
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody>\n</table>\n</main>\n</body>\n</html>\n");
    out
}
