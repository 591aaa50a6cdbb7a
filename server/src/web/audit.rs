//! Journal d'audit (`/audit`): corrections and retractions, erasures, publications, tokens created
//! and revoked, across people and structures, newest first (`auditing::journal`); filtered by
//! period, structure and kind; each line links to the person or the publication; the same lines
//! as CSV (`/audit/journal.csv`). For auditors and admins.

use axum::extract::{Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use maud::{html, Markup};
use parcours_core::vocabulary::{Date, Slug};
use serde::Deserialize;

use super::forms::{self, Errors, Values};
use super::layout::{document, security_headers, Html, Section};
use super::PageError;
use crate::access::Caller;
use crate::app::auditing::journal::{journal, journal_csv, Detail, JournalKind, JournalQuery, JournalRow, Subject};
use crate::app::AppError;
use crate::french;
use crate::labels::{self, Labelled};
use crate::state::AppState;

const PAGE_ROWS: usize = 100;

#[derive(Deserialize, Default)]
pub struct JournalParams {
    du: Option<String>,
    au: Option<String>,
    structure: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
    page: Option<usize>,
}

impl JournalParams {
    /// The filters, with a French error by field for what cannot be read.
    fn query(&self) -> (JournalQuery, Values, Errors) {
        let (mut values, mut errors) = (Values::default(), Errors::default());
        let mut day = |name: &str, text: &Option<String>| -> Option<Date> {
            let text = text.as_deref().filter(|text| !text.is_empty())?;
            values.set(name, text);
            forms::read_date(&values, name, &mut errors)
        };
        let (from, to) = (day("du", &self.du), day("au", &self.au));
        if let (Some(from), Some(to)) = (from, to) {
            if to < from {
                errors.field("au", "La fin de la période doit suivre son début.");
            }
        }
        let structure = self.structure.as_deref().filter(|text| !text.is_empty());
        let structure = structure.and_then(|text| {
            values.set("structure", text);
            Slug::new(text).map_err(|_| errors.field("structure", "Cette structure n'existe pas.")).ok()
        });
        let kind = self.kind.as_deref().filter(|text| !text.is_empty());
        let kind = kind.and_then(|code| {
            values.set("type", code);
            JournalKind::from_code(code).or_else(|| {
                errors.field("type", "Ce type n'existe pas.");
                None
            })
        });
        (JournalQuery { from, to, structure, kind }, values, errors)
    }

    /// The query string of these filters, for links (pages, CSV).
    fn filters(&self) -> form_urlencoded::Serializer<'static, String> {
        let mut link = form_urlencoded::Serializer::new(String::new());
        for (name, value) in [("du", &self.du), ("au", &self.au), ("structure", &self.structure), ("type", &self.kind)]
        {
            if let Some(value) = value.as_deref().filter(|value| !value.is_empty()) {
                link.append_pair(name, value);
            }
        }
        link
    }
}

async fn rows(state: &AppState, query: JournalQuery) -> Result<Vec<JournalRow>, PageError> {
    let (store, timezone) = (state.store.clone(), state.settings.timezone);
    Ok(tokio::task::spawn_blocking(move || journal(&store, &query, timezone))
        .await
        .map_err(|_| PageError::unavailable())?
        .map_err(AppError::from)?)
}

pub async fn page(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<JournalParams>,
) -> Result<Html, PageError> {
    let (query, values, errors) = params.query();
    let (rows, status) = if errors.is_empty() {
        (rows(&state, query).await?, StatusCode::OK)
    } else {
        (Vec::new(), StatusCode::BAD_REQUEST)
    };
    let page_number = params.page.unwrap_or(1).max(1);
    let pages = rows.len().div_ceil(PAGE_ROWS).max(1);
    let shown = rows.iter().skip((page_number - 1).saturating_mul(PAGE_ROWS)).take(PAGE_ROWS);
    let link = |number: usize| {
        let mut link = params.filters();
        link.append_pair("page", &number.to_string());
        format!("/audit?{}", link.finish())
    };
    let csv = format!("/audit/journal.csv?{}", params.filters().finish());
    let structures = super::people::known_structures(&state, &caller);
    let fields = [
        forms::Field::new("du", "Du", forms::Input::Date),
        forms::Field::new("au", "Au", forms::Input::Date),
        forms::Field::new("structure", "Structure", forms::Input::Structure(structures)),
        forms::Field::new("type", "Type", forms::Input::choice::<JournalKind>()),
    ];
    let timezone = state.settings.timezone;
    let main = html! {
        p.discret {
            "Ce qui a changé le sens des historiques enregistrés ou qui peut les lire : corrections, annulations, "
            "effacements, publications de bilans, accès créés et retirés ; le plus récent en premier. La période "
            "porte sur la date d'enregistrement."
        }
        form.filtres method="get" action="/audit" role="search" aria-label="Filtrer le journal" novalidate {
            (forms::general_errors(&errors))
            (forms::fields("journal", &fields, &values, &errors))
            button type="submit" { "Filtrer" }
        }
        p { a.telechargement href=(csv) download { "Télécharger ces lignes (CSV)" } }
        @if rows.is_empty() {
            p { "Aucune ligne pour ces filtres." }
        } @else {
            div.tableau {
                table #journal {
                    caption { (french::integer(rows.len() as u64)) " ligne" @if rows.len() > 1 { "s" } }
                    thead {
                        tr {
                            th scope="col" { "Enregistré le" } th scope="col" { "Type" } th scope="col" { "Par" }
                            th scope="col" { "Structures" } th scope="col" { "Concerne" } th scope="col" { "Détail" }
                        }
                    }
                    tbody {
                        @for row in shown {
                            tr {
                                td { (french::time_seconds(row.at, timezone)) }
                                td { (row.kind.label()) }
                                td {
                                    (row.actor.label.clone().unwrap_or_else(|| row.actor.actor.0.clone()))
                                    @if let Some(role) = row.actor.role { " (" (labels::role(role)) ")" }
                                }
                                td { (row.structures.iter().map(Slug::as_str).collect::<Vec<_>>().join(", ")) }
                                td { (subject(row)) }
                                td { (detail(row)) }
                            }
                        }
                    }
                }
            }
            @if pages > 1 {
                nav.pages aria-label="Pages du journal" {
                    @if page_number > 1 { a href=(link(page_number - 1)) { "Page précédente" } }
                    span { "Page " (page_number) " sur " (pages) }
                    @if page_number < pages { a href=(link(page_number + 1)) { "Page suivante" } }
                }
            }
        }
    };
    Ok(Html(status, document(Some(&caller), Section::Audit, "Journal d'audit", main)))
}

fn subject(row: &JournalRow) -> Markup {
    match &row.subject {
        Subject::Person(stream) => html! { a href=(format!("/beneficiaires/{stream}")) { "la personne " (stream) } },
        Subject::Publication(event) => {
            html! { a href=(format!("/api/reports/published/{event}?format=html")) { "le bilan publié " (event) } }
        }
        Subject::Token(id) => html! { "l'accès " (id) },
    }
}

fn detail(row: &JournalRow) -> Markup {
    match &row.detail {
        Detail::Correction { corrected, reason } => html! {
            @if let Some(kind) = corrected { "Étape « " (kind.label()) " » ; " }
            "motif : " (reason)
        },
        Detail::Erasure(reason) => html! { "Motif : " (reason.label()) },
        Detail::Publication { from, to } => html! { "Période du " (french::date(*from)) " au " (french::date(*to)) },
        Detail::Token { role, label } => html! {
            "Rôle : " (labels::role(*role))
            @if let Some(label) = label { " ; « " (label) " »" }
        },
    }
}

/// The journal's lines for the same filters, as CSV.
pub async fn csv(State(state): State<AppState>, Query(params): Query<JournalParams>) -> Result<Response, PageError> {
    let (query, _, errors) = params.query();
    if !errors.is_empty() {
        return Err(PageError::invalid("journal filters"));
    }
    let rows = rows(&state, query).await?;
    let mut response = (StatusCode::OK, journal_csv(&rows)).into_response();
    let headers = response.headers_mut();
    security_headers(headers);
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/csv; charset=utf-8"));
    headers.insert(header::CONTENT_DISPOSITION, HeaderValue::from_static("attachment; filename=\"journal-audit.csv\""));
    Ok(response)
}
