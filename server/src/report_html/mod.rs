//! The printable activity report (CONTRACT §8), the lists behind its figures and what changed
//! since a report was published, as French HTML pages: one section per part of the report, each
//! figure with its definition under it, charts as SVG drawn here, an A4 print stylesheet.
//!
//! The pages obey the Content-Security-Policy of every page ([`CONTENT_SECURITY_POLICY`]): no
//! script at all, no `style` attribute or element; the stylesheet is a static file
//! ([`STYLESHEET_PATH`]) and charts use SVG presentation attributes.
//!
//! Every figure is a cell of `Figures::cells`, the list the CSV walks too: each value cell carries
//! `data-figure` (its id), `data-value` and `data-share` (as in the CSV), so a test can check that
//! the page and the CSV say the same thing. The page depends only on the report and on whether
//! lists are linked: the same report gives the same bytes, from the API or the command line.

mod changes;
mod charts;
mod labels;
mod list;
mod page;

use std::fmt::Write as _;

use crate::french;
use crate::labels::Labelled;
use parcours_core::vocabulary::{Date, Slug};
use parcours_projections::report::ActivityReport;

pub use changes::changes_page;
pub use labels::{band as band_label, CATEGORIES};
pub use list::{detail as list_detail, list_page, NamedRow};
pub use page::{embedded, page};

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

/// The French title of each section of the report, by the first part of its figures' ids.
const SECTION_TITLES: &[(&str, &str)] = &[
    ("people", "Personnes accompagnées"),
    ("contracts", "Contrats de travail"),
    ("hours", "Heures de travail"),
    ("follow_up", "Suivi des parcours"),
    ("profile", "Profil des entrées"),
    ("support", "Accompagnement social"),
    ("outcomes", "Sorties"),
];

/// The title of a section (`people`), for the spreadsheets' sheets; `None` for a section this
/// table does not know yet, which keeps its id.
pub fn section_title(section: &str) -> Option<&'static str> {
    SECTION_TITLES.iter().find(|(id, _)| *id == section).map(|(_, title)| *title)
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
    ("outcomes.cdi", "Sorties en CDI"),
    ("people.pathway_days", "Sorties de la période et durée de leur parcours"),
    ("people.pathway_days.median", "Durée médiane des parcours sortis"),
    ("people.pathway_days.mean", "Durée moyenne des parcours sortis"),
    ("contracts.fte_worked", "Équivalents temps plein travaillés"),
    ("contracts.agreed_fte", "Équivalents temps plein conventionnés"),
    ("follow_up.group_sessions", "Séances collectives"),
    ("follow_up.phone_contacts", "Entretiens téléphoniques"),
    ("trainings.started", "Formations commencées"),
    ("trainings.completed", "Formations terminées"),
    ("trainings.certified", "Formations certifiées"),
    ("skills_assessments.count", "Évaluations de compétences"),
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
                said(ContractKind::from_code(kind), kind, ContractKind::label)
            )
        }
        ["hours", "by_month", month, ..] => {
            let month = month.parse().map_or_else(|_| (*month).to_owned(), french::month);
            format!("Heures travaillées en {month}")
        }
        ["hours", "by_gender", code, ..] => format!("Heures travaillées : {}", gender(code)),
        ["profile", "by_gender", code] => format!("Entrées : {}", gender(code)),
        ["profile", "by_situation_and_gender", situation, code] => {
            let situation = said(Situation::from_code(situation), situation, Situation::label);
            format!("Entrées : {situation}, {}", gender(code).to_lowercase())
        }
        ["profile", "by_age_band_and_gender", band, code] => {
            let band = said(
                parcours_projections::AgeBand::ALL.iter().copied().find(|b| b.code() == *band),
                band,
                parcours_projections::AgeBand::label,
            );
            format!("Entrées : {band}, {}", gender(code).to_lowercase())
        }
        ["profile", "by_benefit", code] => format!("Entrées : {}", labels::benefit(code)),
        ["entries", "by_prescriber", code] => {
            use parcours_core::vocabulary::PrescriberKind;
            format!("Entrées : {}", said(PrescriberKind::from_code(code), code, PrescriberKind::label))
        }
        ["skills_assessments", "by_kind", code] => {
            use parcours_core::vocabulary::AssessmentKind;
            format!("Évaluations : {}", said(AssessmentKind::from_code(code), code, AssessmentKind::label))
        }
        ["profile", "by_family_quotient", band] => format!("Entrées : quotient familial {band}"),
        ["support", "by_domain_and_action", domain, action] => {
            let domain = said(SupportDomain::from_code(domain), domain, SupportDomain::label);
            let action = labels::action(SupportAction::from_code(action));
            format!("Accompagnement : {domain}, {}", action.to_lowercase())
        }
        ["outcomes", "six_months_after_exit", situation] => {
            let situation = said(SituationAfterExit::from_code(situation), situation, SituationAfterExit::label);
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
    format!("du {} au {}", french::date_long(from), french::date_long(to))
}
