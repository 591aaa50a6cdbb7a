//! Rapports (CONTRACT §11): ask the activity report of one or more structures, chosen by name,
//! for a period; read it as the printable page does (`report_html::embedded`, the same content);
//! download it in every format the API gives; print it on A4 (a button the page's one script
//! handles, the stylesheet's print rules keep the report alone); publish it; list the
//! publications and open what changed since each.
//!
//! Evaluators read the report too, summed over the structures asked with its small cells marked
//! « masqué », as `app::reports` gives it to them; they neither publish nor see publications.

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use maud::{html, Markup, PreEscaped};
use parcours_core::vocabulary::{Date, Envelope, ReportPublished, Slug};
use parcours_projections::report::ActivityReport;
use parcours_projections::Period;

use super::forms::{self, Errors, Values};
use super::layout::{document, Html, Section};
use super::people::known_structures;
use super::PageError;
use crate::access::Caller;
use crate::app::figures::period;
use crate::app::reports::{self, Lists, ReportQuestion};
use crate::app::structures::{names_of, Names};
use crate::app::{blocking, disclosure, publications};
use crate::french;
use crate::report_formats::{file_name, ReportFormat};
use crate::report_html::{self, Question, REPORT_PATH};
use crate::state::AppState;

/// The downloads offered, in the order a director looks for them.
const DOWNLOADS: [(&str, &str); 4] =
    [("xlsx", "Excel (XLSX)"), ("csv-fr", "CSV pour Excel"), ("csv", "CSV"), ("json", "JSON")];

/// The question a page's address or form asks: structures (by slug), and the period.
struct Asked {
    structures: Vec<Slug>,
    period: Period,
}

impl Asked {
    /// Reads `structure` (repeated), `du` and `au`, each bad value named next to its field.
    fn read(values: &mut Values, today: Date, errors: &mut Errors) -> Result<Asked, PageError> {
        let default = period(today, None, None)?;
        let mut day = |name: &str, default: Date| {
            if values.get(name).is_empty() {
                return default;
            }
            forms::read_date(values, name, errors).unwrap_or(default)
        };
        let from = day("du", default.from);
        let to = day("au", default.to);
        let period = Period::new(from, to).unwrap_or_else(|_| {
            errors.field("au", "La fin de la période doit suivre son début.");
            default
        });
        let mut structures = Vec::new();
        for text in values.all("structure").filter(|text| !text.is_empty()) {
            match Slug::new(text) {
                Ok(slug) if !structures.contains(&slug) => structures.push(slug),
                Ok(_) => {}
                Err(_) => errors.field("structure", "Cette structure n'existe pas."),
            }
        }
        values.set("du", period.from.to_string());
        values.set("au", period.to.to_string());
        Ok(Asked { structures, period })
    }

    fn question(&self) -> ReportQuestion {
        let mut question =
            ReportQuestion { from: Some(self.period.from), to: Some(self.period.to), ..ReportQuestion::default() };
        for slug in &self.structures {
            question.add_structure(slug.clone());
        }
        question
    }

    /// This page's address for the same question.
    fn href(&self, extra: &[(&str, &str)]) -> String {
        let mut query = form_urlencoded::Serializer::new(String::new());
        for slug in &self.structures {
            query.append_pair("structure", slug.as_str());
        }
        query.append_pair("du", &self.period.from.to_string()).append_pair("au", &self.period.to.to_string());
        for (name, value) in extra {
            query.append_pair(name, value);
        }
        format!("/rapports?{}", query.finish())
    }
}

pub async fn page(State(state): State<AppState>, caller: Caller, RawQuery(query): RawQuery) -> Result<Html, PageError> {
    let mut values = Values::parse(query.unwrap_or_default().as_bytes());
    let mut errors = Errors::default();
    let asked = Asked::read(&mut values, state.today(), &mut errors)?;
    let published_now = values.get("publie").to_owned();
    let choices: Vec<String> = match disclosure::own_structures(&caller) {
        Some(own) => own.iter().map(ToString::to_string).collect(),
        None => known_structures(&state, &caller),
    };
    let names = names_of(&state, choices.clone()).await?;
    let report = match (asked.structures.is_empty(), errors.is_empty()) {
        (false, true) => Some(reports::report(&state, &caller, asked.question(), Lists::Without).await?),
        _ => None,
    };
    let (shared, reader) = (state.clone(), caller.clone());
    let mut publications = blocking(move || Ok(publications::readable_list(&shared.store, &reader)?)).await?;
    publications.reverse();
    let publication_names =
        names_of(&state, publications.iter().flat_map(|(_, p)| p.structures.iter().map(ToString::to_string)).collect())
            .await?;
    let main = html! {
        (question_form(&asked, &choices, &names, &values, &errors))
        @if let Some(report) = &report {
            (report_section(&caller, &asked, report))
        }
        @if !publications.is_empty() || disclosure::may_publish(&caller) {
            (publications_section(&publications, &publication_names, &published_now, &state))
        }
    };
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    Ok(Html(status, document(Some(&caller), Section::Reports, "Rapports", main)))
}

fn question_form(asked: &Asked, choices: &[String], names: &Names, values: &Values, errors: &Errors) -> Markup {
    let mut sorted: Vec<(String, &String)> = choices.iter().map(|slug| (names.get(slug), slug)).collect();
    sorted.sort();
    html! {
        form.filtres.rapport-question method="get" action="/rapports" novalidate {
            (forms::general_errors(errors))
            fieldset {
                legend { "Structures" }
                @if let Some(message) = errors.of("structure") { p.message-erreur { (message) } }
                @if sorted.is_empty() { p { "Aucune structure n'est enregistrée." } }
                ul.choix-structures {
                    @for (index, (name, slug)) in sorted.iter().enumerate() {
                        li {
                            input type="checkbox" name="structure" value=(slug) id=(format!("structure-{index}"))
                                checked[asked.structures.iter().any(|chosen| chosen.as_str() == slug.as_str())];
                            label for=(format!("structure-{index}")) { (name) }
                        }
                    }
                }
            }
            (forms::fields("periode", &[
                forms::Field::new("du", "Du", forms::Input::Date),
                forms::Field::new("au", "Au", forms::Input::Date),
            ], values, errors))
            button type="submit" { "Afficher le rapport" }
        }
    }
}

fn report_section(caller: &Caller, asked: &Asked, report: &ActivityReport) -> Markup {
    let slugs: Vec<&str> = report.structures.iter().map(|name| name.slug.as_str()).collect();
    let href = |format: &str| {
        let mut query = form_urlencoded::Serializer::new(String::new());
        query
            .append_pair("structure", &slugs.join(","))
            .append_pair("from", &report.from.to_string())
            .append_pair("to", &report.to.to_string())
            .append_pair("format", format);
        format!("{REPORT_PATH}?{}", query.finish())
    };
    let linked = disclosure::report_links(caller).then(|| Question::of(report));
    let content = report_html::embedded(report, linked.as_ref());
    html! {
        section #rapport aria-labelledby="titre-rapport" {
            h2 #titre-rapport .visuellement-cache { "Rapport d'activité" }
            div.actions-rapport {
                button type="button" data-imprimer { "Imprimer ou enregistrer en PDF" }
                ul.telechargements aria-label="Télécharger le rapport" {
                    @for (code, label) in DOWNLOADS {
                        @let name = ReportFormat::from_code(code).map(|format| file_name(report, "Rapport d'activité", format));
                        li { a.telechargement href=(href(code)) download=[name] data-format=(code) { "Télécharger : " (label) } }
                    }
                }
                @if disclosure::may_publish(caller) {
                    form.publier method="post" action="/rapports/publier" {
                        (forms::csrf(caller.csrf.as_deref()))
                        @for slug in &slugs { input type="hidden" name="structure" value=(slug); }
                        input type="hidden" name="du" value=(asked.period.from.to_string());
                        input type="hidden" name="au" value=(asked.period.to.to_string());
                        button type="submit" { "Publier ce rapport" }
                        p.discret {
                            "Publier enregistre le rapport tel qu'il est aujourd'hui, avec l'empreinte de chacun de ses "
                            "formats : il pourra être reproduit à l'identique, et comparé plus tard à ce qui a changé."
                        }
                    }
                }
            }
            div.rapport { (PreEscaped(content)) }
        }
    }
}

fn publications_section(
    publications: &[(Envelope, ReportPublished)],
    names: &Names,
    published_now: &str,
    state: &AppState,
) -> Markup {
    let timezone = state.settings.timezone;
    html! {
        section #publications aria-labelledby="titre-publications" {
            h2 #titre-publications { "Rapports publiés" }
            @if !published_now.is_empty() && publications.iter().any(|(envelope, _)| envelope.id.to_string() == published_now) {
                p.confirmation role="status" { "Le rapport est publié." }
            }
            @if publications.is_empty() {
                p { "Aucun rapport publié pour l'instant." }
            } @else {
                div.tableau {
                    table {
                        caption { "Rapports publiés, du plus récent au plus ancien" }
                        thead {
                            tr {
                                th scope="col" { "Publié le" }
                                th scope="col" { "Structures" }
                                th scope="col" { "Période" }
                                th scope="col" { "Ouvrir" }
                                th scope="col" { "Depuis la publication" }
                            }
                        }
                        tbody {
                            @for (envelope, published) in publications {
                                @let id = envelope.id.to_string();
                                @let structures: Vec<String> = published.structures.iter().map(|slug| names.get(slug.as_str())).collect();
                                tr data-publication=(id) .publiee-maintenant[id == published_now] {
                                    td { (french::time(envelope.recorded_at, timezone)) }
                                    td { (structures.join(", ")) }
                                    td { "du " (french::date(published.from)) " au " (french::date(published.to)) }
                                    td {
                                        a href=(format!("/api/reports/published/{id}?format=html")) { "Le rapport publié" }
                                        " · "
                                        a href=(format!("/api/reports/published/{id}?format=xlsx")) { "XLSX" }
                                    }
                                    td { a.changements href=(format!("/api/reports/published/{id}/changes?format=html")) { "Ce qui a changé depuis" } }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Publishes the report asked, then shows it again with its publication (post, redirect, get).
pub async fn publish(State(state): State<AppState>, caller: Caller, body: Bytes) -> Result<Response, PageError> {
    let mut values = Values::parse(&body);
    let mut errors = Errors::default();
    let asked = Asked::read(&mut values, state.today(), &mut errors)?;
    if !errors.is_empty() || asked.structures.is_empty() {
        return Err(PageError::invalid("report question"));
    }
    let (envelope, _) = publications::publish(&state, &caller, asked.question()).await?;
    let id = envelope.id.to_string();
    Ok(Redirect::to(&format!("{}#publications", asked.href(&[("publie", &id)]))).into_response())
}
