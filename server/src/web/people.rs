//! Bénéficiaires: the people the caller may see (`app::people::people`, as `GET
//! /api/beneficiaries`), searched by name and filtered by structure and status; and the form that
//! registers a new person.

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use maud::{html, Markup};
use parcours_core::store::access::Role;
use parcours_core::vocabulary::{Slug, StepKind, StreamId};
use parcours_projections::PersonStatus;
use serde::Deserialize;

use super::forms::{self, Errors, Values};
use super::layout::{document, Html, Section};
use super::steps::{self, Suggestions};
use super::PageError;
use crate::access::Caller;
use crate::app::people::{people, Listed, PeopleAsked, PeopleList};
use crate::app::streams::{append, registration};
use crate::app::AppError;
use crate::french;
use crate::labels::Labelled;
use crate::state::AppState;

const PAGE_ROWS: usize = 50;

#[derive(Deserialize, Default)]
pub struct ListQuery {
    q: Option<String>,
    structure: Option<String>,
    statut: Option<String>,
    page: Option<usize>,
}

/// The structures a form may suggest or a filter offer: the caller's, and every recorded one.
pub fn known_structures(state: &AppState, caller: &Caller) -> Vec<String> {
    let mut slugs: Vec<String> = caller.structures.iter().map(ToString::to_string).collect();
    slugs.extend(state.projections.read().structures().map(|record| record.slug.to_string()));
    slugs.sort();
    slugs.dedup();
    slugs
}

pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<ListQuery>,
) -> Result<Html, PageError> {
    let mut values = Values::default();
    values.set("occurred_on", state.today().to_string());
    values.set("id", StreamId::generate().to_string());
    if let Some(structure) = caller.structures.first() {
        values.set("structure", structure.to_string());
    }
    render(&state, &caller, query, &values, &Errors::default(), StatusCode::OK).await
}

async fn render(
    state: &AppState,
    caller: &Caller,
    query: ListQuery,
    values: &Values,
    errors: &Errors,
    status: StatusCode,
) -> Result<Html, PageError> {
    let structure = query.structure.as_deref().filter(|text| !text.is_empty());
    let structure = structure.map(Slug::new).transpose().map_err(|message| AppError::InvalidRequest(message.into()))?;
    let status_filter = query.statut.as_deref().filter(|text| !text.is_empty());
    let status_filter = status_filter
        .map(|code| PersonStatus::from_code(code).ok_or_else(|| AppError::InvalidRequest("statut".into())))
        .transpose()?;
    let page_number = query.page.unwrap_or(1).max(1);
    let asked = PeopleAsked {
        structure: structure.clone(),
        status: status_filter,
        search: query.q.clone(),
        offset: (page_number - 1).saturating_mul(PAGE_ROWS),
        limit: PAGE_ROWS,
    };
    // Only the names of the page shown are opened (and logged): the page is sorted by name, as a
    // person looks someone up, those without one after; pages follow the lists' own order.
    let PeopleList { total, people: mut shown } = people(state, caller, asked).await?;
    shown.sort_by_cached_key(|person| (person.name.is_none(), person.name.as_deref().map(str::to_lowercase)));
    let structures = known_structures(state, caller);
    let pages = total.div_ceil(PAGE_ROWS).max(1);
    let link_to = |number: usize| {
        let mut link = form_urlencoded::Serializer::new(String::new());
        for (name, value) in [("q", &query.q), ("structure", &query.structure), ("statut", &query.statut)] {
            if let Some(value) = value.as_deref().filter(|value| !value.is_empty()) {
                link.append_pair(name, value);
            }
        }
        link.append_pair("page", &number.to_string());
        format!("/beneficiaires?{}", link.finish())
    };
    let main = html! {
        form.filtres method="get" action="/beneficiaires" role="search" {
            div.champ {
                label for="q" { "Nom ou prénom" }
                input #q type="search" name="q" value=(query.q.as_deref().unwrap_or_default());
            }
            div.champ {
                label for="filtre-structure" { "Structure actuelle" }
                select #filtre-structure name="structure" {
                    option value="" { "Toutes" }
                    @for slug in &structures {
                        option value=(slug) selected[structure.as_ref().is_some_and(|chosen| chosen.as_str() == slug)] { (slug) }
                    }
                }
            }
            div.champ {
                label for="statut" { "Situation" }
                select #statut name="statut" {
                    option value="" { "Toutes" }
                    @for status in PersonStatus::ALL {
                        option value=(status.code()) selected[status_filter == Some(*status)] { (status.label()) }
                    }
                }
            }
            button type="submit" { "Rechercher" }
        }
        p #resultats aria-live="polite" {
            @match total { 0 => "Aucune personne ne correspond.", 1 => "1 personne.", n => { (n) " personnes." } }
        }
        @if !shown.is_empty() {
            div.tableau {
                table.cartes {
                    thead {
                        tr {
                            th scope="col" { "Personne" }
                            th scope="col" { "Structure actuelle" }
                            th scope="col" { "Situation" }
                            th scope="col" { "Orientée le" }
                            th scope="col" { "Genre" }
                            th scope="col" { "Née en" }
                        }
                    }
                    tbody { @for person in &shown { (row(person)) } }
                }
            }
            @if pages > 1 {
                nav.pages aria-label="Pages de résultats" {
                    @if page_number > 1 { a href=(link_to(page_number - 1)) { "Page précédente" } }
                    span { "Page " (page_number.min(pages)) " sur " (pages) }
                    @if page_number < pages { a href=(link_to(page_number + 1)) { "Page suivante" } }
                }
            }
        }
        @if matches!(caller.role, Role::Admin | Role::Coordinator) {
            (registration_form(caller, &structures, values, errors))
        }
    };
    Ok(Html(status, document(Some(caller), Section::People, "Bénéficiaires", main)))
}

fn row(person: &Listed) -> Markup {
    let row = &person.row;
    html! {
        tr {
            td {
                a href=(format!("/beneficiaires/{}", row.beneficiary)) {
                    @match (&person.name, row.identity_erased) {
                        (Some(name), _) => (name),
                        (None, true) => "Données personnelles effacées",
                        (None, false) => "Personne sans nom enregistré",
                    }
                }
            }
            td data-colonne="Structure actuelle" { (row.current_structure) }
            td data-colonne="Situation" { (row.status.label()) }
            td data-colonne="Orientée le" { (row.referred_on.map(french::date).unwrap_or_default()) }
            td data-colonne="Genre" { (row.gender.label()) }
            td data-colonne="Née en" { (row.birth_year) }
        }
    }
}

fn registration_form(caller: &Caller, structures: &[String], values: &Values, errors: &Errors) -> Markup {
    let suggestions = Suggestions { structures: structures.to_vec(), ..Suggestions::default() };
    let fields = registration_fields(&suggestions);
    html! {
        section #inscription aria-labelledby="titre-inscription" {
            details open[!errors.is_empty()] {
                summary { h2 #titre-inscription { "Inscrire une personne" } }
                form.formulaire method="post" action="/beneficiaires" novalidate {
                    (forms::csrf(caller.csrf.as_deref()))
                    input type="hidden" name="id" value=(values.get("id"));
                    (forms::general_errors(errors))
                    (forms::fields("inscription", &fields, values, errors))
                    button type="submit" { "Inscrire" }
                }
            }
        }
    }
}

fn registration_fields(suggestions: &Suggestions) -> Vec<forms::Field> {
    std::iter::once(steps::date_field(StepKind::Registered))
        .chain(steps::fields(StepKind::Registered, suggestions))
        .collect()
}

pub async fn register(State(state): State<AppState>, caller: Caller, body: Bytes) -> Result<Response, PageError> {
    let values = Values::parse(&body);
    let fields = registration_fields(&Suggestions::default());
    let mut errors = Errors::default();
    let occurred_on = forms::read_date(&values, "occurred_on", &mut errors);
    let data = forms::read(&fields[1..], &values, &mut errors);
    // The form's id makes a second click on "Inscrire" the same registration, not a second person.
    let id = values.get("id").parse::<StreamId>().ok();
    if let (Some(occurred_on), true) = (occurred_on, errors.is_empty()) {
        let recorded = match registration(id, occurred_on, data) {
            Ok((stream, event)) => append(&state, &caller, stream, None, vec![event]).await.map(|_| stream),
            Err(error) => Err(error.into()),
        };
        match recorded {
            Ok(stream) => {
                return Ok(Redirect::to(&format!("/beneficiaires/{stream}?enregistre=registered")).into_response());
            }
            Err(error) => {
                let names: Vec<&str> = fields.iter().map(|field| field.name).collect();
                forms::refusal(error, &names, &mut errors)?;
            }
        }
    }
    let status = StatusCode::UNPROCESSABLE_ENTITY;
    Ok(render(&state, &caller, ListQuery::default(), &values, &errors, status).await?.into_response())
}
