//! Tableau de bord: a structure's figures (`app::figures::dashboard`, as `GET /api/dashboard`)
//! and the people behind them, live.
//!
//! Live without reload: the page listens to `/tableau-de-bord/flux`, a server-sent event stream
//! that says "chiffres" whenever this structure's dashboard changes; the script (`static/app.js`)
//! then fetches `/tableau-de-bord/chiffres`, the same figures as an HTML fragment, and swaps it in.
//! The stream follows `Live::subscribe` (the projections' applied position), recomputes the
//! dashboard on each move and stays silent when this structure's figures did not change.

use std::convert::Infallible;
use std::time::{Duration, Instant};

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use maud::{html, Markup};
use parcours_core::store::access::Role;
use parcours_core::vocabulary::{Date, Slug, StreamId};
use parcours_projections::ratio::Ratio;
use parcours_projections::{Dashboard, CONTRACTS_ENDING_WITHIN_DAYS, FOLLOW_UP_OVERDUE_AFTER_DAYS};
use serde::Deserialize;
use tokio::sync::watch;

use super::layout::{document, Html, Section};
use super::PageError;
use crate::access::Caller;
use crate::app::disclosure::dashboard_structure;
use crate::app::figures;
use crate::app::people::name_of;
use crate::app::{blocking, AppError};
use crate::french;
use crate::state::AppState;

/// The shortest time between two "chiffres" events of one stream: a burst of steps recorded
/// anywhere makes one refresh, and a page refreshes at most four times a second.
const REFRESH_INTERVAL_MIN: Duration = Duration::from_millis(250);

#[derive(Deserialize)]
pub struct DashboardQuery {
    structure: Option<String>,
    /// The projections' position the page was drawn at (for the event stream).
    depuis: Option<u64>,
}

/// The structures the caller may choose from, sorted: theirs, or every recorded one for an admin.
fn choices(state: &AppState, caller: &Caller) -> Vec<(Slug, String)> {
    let projections = state.projections.read();
    let name = |slug: &Slug| projections.structure(slug).map_or_else(|| slug.to_string(), |record| record.name.clone());
    let mut choices: Vec<(Slug, String)> = match caller.role {
        Role::Admin => projections.structures().map(|record| (record.slug.clone(), record.name.clone())).collect(),
        _ => caller.structures.iter().map(|slug| (slug.clone(), name(slug))).collect(),
    };
    choices.sort();
    choices
}

/// The structure shown: the one asked for, else the caller's first; `None` when an admin has not
/// chosen yet.
fn chosen(caller: &Caller, asked: Option<&str>) -> Result<Option<Slug>, AppError> {
    match asked.filter(|asked| !asked.is_empty()) {
        Some(asked) => {
            let slug = Slug::new(asked).map_err(|message| AppError::InvalidRequest(message.into()))?;
            dashboard_structure(caller, Some(slug)).map(Some)
        }
        None => Ok(caller.structures.first().cloned()),
    }
}

fn query_of(structure: &Slug, position: u64) -> String {
    form_urlencoded::Serializer::new(String::new())
        .append_pair("structure", structure.as_str())
        .append_pair("depuis", &position.to_string())
        .finish()
}

pub async fn page(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<DashboardQuery>,
) -> Result<Html, PageError> {
    let structure = chosen(&caller, query.structure.as_deref())?;
    let choices = choices(&state, &caller);
    let title = match &structure {
        Some(slug) => {
            let name = choices.iter().find(|(known, _)| known == slug).map_or(slug.as_str(), |(_, name)| name);
            format!("Tableau de bord — {name}")
        }
        None => "Tableau de bord".to_owned(),
    };
    let figures = match &structure {
        Some(slug) => Some(figures_of(&state, &caller, slug.clone()).await?),
        None => None,
    };
    let proposals = match &structure {
        Some(slug) => Some(super::referrals::waiting_section(&state, &caller, slug.clone()).await?),
        None => None,
    };
    let main = html! {
        @if choices.len() > 1 || structure.is_none() {
            form.choix method="get" action="/tableau-de-bord" {
                label for="structure" { "Structure" }
                select #structure name="structure" {
                    @for (slug, name) in &choices {
                        option value=(slug) selected[structure.as_ref() == Some(slug)] { (name) }
                    }
                }
                button type="submit" { "Afficher" }
            }
        }
        @match (&structure, figures) {
            (Some(slug), Some((markup, position))) => {
                p #etat-direct.discret aria-live="polite" {
                    "Ces chiffres se mettent à jour d'eux-mêmes dès qu'une étape est enregistrée."
                }
                div #chiffres data-flux=(format!("/tableau-de-bord/flux?{}", query_of(slug, position)))
                    data-chiffres=(format!("/tableau-de-bord/chiffres?structure={slug}")) {
                    (markup)
                }
                @if let Some(proposals) = proposals { (proposals) }
                (definitions())
            }
            _ => { p { "Choisissez une structure." } }
        }
    };
    Ok(Html(StatusCode::OK, document(Some(&caller), Section::Dashboard, &title, main)))
}

/// The figures alone, for the script that keeps the page live.
pub async fn figures(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<DashboardQuery>,
) -> Result<Html, PageError> {
    let structure = chosen(&caller, query.structure.as_deref())?
        .ok_or_else(|| AppError::InvalidRequest("structure: which structure?".into()))?;
    let (markup, _) = figures_of(&state, &caller, structure).await?;
    Ok(Html(StatusCode::OK, markup))
}

/// A person in a list: their name (or why there is none) and a link to their page.
struct Listed {
    beneficiary: StreamId,
    name: Option<String>,
}

impl Listed {
    fn link(&self) -> Markup {
        html! {
            a href=(format!("/beneficiaires/{}", self.beneficiary)) {
                @match &self.name {
                    Some(name) => (name),
                    None => { "Personne sans nom enregistré" }
                }
            }
        }
    }
}

/// The figures and lists as HTML, with the projections' position they were drawn at.
async fn figures_of(state: &AppState, caller: &Caller, structure: Slug) -> Result<(Markup, u64), PageError> {
    let position = state.projections.applied();
    let dashboard = figures::dashboard(state, caller, Some(structure)).await?;
    let (state, caller) = (state.clone(), caller.clone());
    let markup = blocking(move || {
        let listed = |beneficiary: StreamId| -> Result<Listed, AppError> {
            Ok(Listed { beneficiary, name: name_of(&state, &caller, beneficiary)? })
        };
        // The referral that opened each waiting person's episode: how long they have waited.
        let mut waiting = dashboard
            .lists
            .waiting_for_contract
            .iter()
            .map(|&beneficiary| {
                let since = state
                    .projections
                    .read()
                    .pathway(beneficiary)
                    .and_then(|pathway| pathway.episodes.last().map(|episode| episode.referred_on));
                Ok((listed(beneficiary)?, since))
            })
            .collect::<Result<Vec<_>, AppError>>()?;
        let mut ending = dashboard
            .lists
            .contracts_ending_within_30_days
            .iter()
            .map(|ending| Ok((listed(ending.beneficiary)?, ending)))
            .collect::<Result<Vec<_>, AppError>>()?;
        let mut overdue = dashboard
            .lists
            .follow_ups_overdue
            .iter()
            .map(|overdue| Ok((listed(overdue.beneficiary)?, overdue.last_contact)))
            .collect::<Result<Vec<_>, AppError>>()?;
        // Who has waited longest, whose contract ends first, who was met longest ago: first.
        waiting.sort_by_key(|(_, since)| *since);
        ending.sort_by_key(|(_, ending)| ending.planned_end);
        overdue.sort_by_key(|(_, last_contact)| *last_contact);
        Ok(render(&dashboard, &waiting, &ending, &overdue))
    })
    .await?;
    Ok((markup, position))
}

fn render(
    dashboard: &Dashboard,
    waiting: &[(Listed, Option<Date>)],
    ending: &[(Listed, &parcours_projections::ContractEnding)],
    overdue: &[(Listed, Date)],
) -> Markup {
    let year = dashboard.today.year();
    let agreed = dashboard.agreed_hours_this_year;
    html! {
        dl.chiffres {
            (figure("active_episodes", "Parcours en cours", dashboard.active_episodes, None))
            (figure("in_contract", "En contrat", dashboard.in_contract, None))
            (figure("waiting_for_contract", "En attente de contrat", dashboard.waiting_for_contract, Some("#attente")))
            (figure("contracts_ending_within_30_days", "Contrats finissant sous 30 jours",
                dashboard.contracts_ending_within_30_days, Some("#fins")))
            (figure("follow_ups_overdue", "Suivis en retard", dashboard.follow_ups_overdue, Some("#retards")))
            div.chiffre {
                dt { "Heures travaillées en " (french::month(dashboard.today.month())) }
                dd data-chiffre="hours_this_month" { (french::hours(dashboard.hours_this_month.hundredths)) }
            }
            div.chiffre.large {
                dt { "Heures travaillées en " (year) }
                dd data-chiffre="hours_this_year" {
                    (french::hours(dashboard.hours_this_year.hundredths))
                    @if let Some(agreed) = agreed {
                        span.sur {
                            " sur " (french::hours(agreed.hundredths)) " conventionnées"
                            @if let Some(share) = Ratio::new(dashboard.hours_this_year.hundredths, agreed.hundredths).percent() {
                                " (" (french::percent(share)) ")"
                            }
                        }
                        meter min="0" max=(agreed.hundredths) value=(dashboard.hours_this_year.hundredths)
                            aria-label="Part des heures conventionnées réalisée" {}
                    } @else {
                        span.sur { " (heures conventionnées non renseignées)" }
                    }
                }
            }
        }
        p.discret { "Chiffres au " (french::date(dashboard.today)) "." }
        section #attente aria-labelledby="titre-attente" {
            h2 #titre-attente { "En attente de contrat (" (waiting.len()) ")" }
            @if waiting.is_empty() {
                p { "Personne n'attend de contrat." }
            } @else {
                table {
                    thead { tr { th scope="col" { "Personne" } th scope="col" { "Orientée le" } } }
                    tbody {
                        @for (person, since) in waiting {
                            tr { td { (person.link()) } td { (since.map(french::date).unwrap_or_default()) } }
                        }
                    }
                }
            }
        }
        section #fins aria-labelledby="titre-fins" {
            h2 #titre-fins { "Contrats finissant sous " (CONTRACTS_ENDING_WITHIN_DAYS) " jours (" (ending.len()) ")" }
            @if ending.is_empty() {
                p { "Aucun contrat ne se termine dans les " (CONTRACTS_ENDING_WITHIN_DAYS) " jours." }
            } @else {
                table {
                    thead { tr { th scope="col" { "Personne" } th scope="col" { "Contrat" } th scope="col" { "Fin prévue" } } }
                    tbody {
                        @for (person, contract) in ending {
                            tr {
                                td { (person.link()) }
                                td { (contract.contract_id) }
                                td { (french::date(contract.planned_end)) }
                            }
                        }
                    }
                }
            }
        }
        section #retards aria-labelledby="titre-retards" {
            h2 #titre-retards { "Suivis en retard (" (overdue.len()) ")" }
            @if overdue.is_empty() {
                p { "Tous les suivis sont à jour." }
            } @else {
                table {
                    thead { tr { th scope="col" { "Personne" } th scope="col" { "Dernier contact" } } }
                    tbody {
                        @for (person, last_contact) in overdue {
                            tr { td { (person.link()) } td { (french::date(*last_contact)) } }
                        }
                    }
                }
            }
        }
    }
}

fn figure(code: &str, label: &str, value: u64, list: Option<&str>) -> Markup {
    html! {
        div.chiffre {
            dt {
                @match list {
                    Some(anchor) => { a href=(anchor) { (label) } }
                    None => (label),
                }
            }
            dd data-chiffre=(code) { (value) }
        }
    }
}

fn definitions() -> Markup {
    html! {
        details.definitions {
            summary { "Comment ces chiffres sont-ils calculés ?" }
            ul {
                li { "Une personne compte pour la structure de son parcours en cours (de l'orientation à la sortie)." }
                li { "En contrat : au moins un contrat en cours ; en attente : aucun contrat en cours." }
                li { "Contrats finissant : fin prévue entre aujourd'hui et dans " (CONTRACTS_ENDING_WITHIN_DAYS) " jours." }
                li {
                    "Suivi en retard : aucun entretien de suivi depuis plus de " (FOLLOW_UP_OVERDUE_AFTER_DAYS)
                    " jours (ou depuis l'orientation, s'il n'y en a pas encore eu)."
                }
                li { "Heures : heures travaillées déclarées pour les mois de l'année, comparées aux heures conventionnées." }
            }
        }
    }
}

/// The SSE stream of a page: one "chiffres" event whenever the structure's dashboard changes.
pub async fn changes(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Query(query): Query<DashboardQuery>,
) -> Result<Response, PageError> {
    let structure = chosen(&caller, query.structure.as_deref())?
        .ok_or_else(|| AppError::InvalidRequest("structure: which structure?".into()))?;
    // A reconnecting browser says the last position it was told about.
    let seen = headers
        .get("last-event-id")
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse().ok())
        .or(query.depuis)
        .unwrap_or(0);
    let applied = state.projections.subscribe();
    let mut watcher = Watcher { state, structure, applied, position: seen, shown: None, sent: None };
    // If nothing moved since the page was drawn, what it shows is the dashboard now.
    let now = *watcher.applied.borrow();
    if now <= seen {
        watcher.position = now;
        watcher.shown = Some(watcher.dashboard().await.map_err(PageError::from)?);
    }
    // The credential is checked again every second: a revoked token stops receiving even when
    // nothing changes, and the stream says why.
    let revoked = Box::pin(crate::access::revoked(watcher.state.clone(), caller));
    let events = futures_util::stream::unfold(Some((watcher, revoked)), |open| async move {
        let (mut watcher, mut revoked) = open?;
        let position = tokio::select! {
            position = watcher.next_change() => position?,
            () = &mut revoked => return Some((Ok::<_, Infallible>(crate::access::revoked_event()), None)),
        };
        // Browsers dispatch no event without data: the position is the data.
        let event = Event::default().event("chiffres").id(position.to_string()).data(position.to_string());
        Some((Ok::<_, Infallible>(event), Some((watcher, revoked))))
    });
    Ok(Sse::new(events).keep_alive(KeepAlive::default()).into_response())
}

struct Watcher {
    state: AppState,
    structure: Slug,
    applied: watch::Receiver<u64>,
    /// The last projections' position looked at.
    position: u64,
    /// The dashboard the page shows, when known.
    shown: Option<Dashboard>,
    sent: Option<Instant>,
}

impl Watcher {
    async fn dashboard(&self) -> Result<Dashboard, AppError> {
        figures::dashboard_now(&self.state, self.structure.clone()).await
    }

    /// Waits for the next change of the dashboard and gives the position it was seen at; `None`
    /// ends the stream (the server is stopping, or the projections stopped).
    async fn next_change(&mut self) -> Option<u64> {
        if let Some(sent) = self.sent {
            tokio::time::sleep(REFRESH_INTERVAL_MIN.saturating_sub(sent.elapsed())).await;
        }
        loop {
            let position = self.position;
            let moved = tokio::select! {
                moved = self.applied.wait_for(|applied| *applied > position) => moved.ok().map(|applied| *applied),
                () = self.state.stopped() => None,
            };
            self.position = moved?;
            let dashboard = self.dashboard().await.ok()?;
            if self.shown.as_ref() != Some(&dashboard) {
                self.shown = Some(dashboard);
                self.sent = Some(Instant::now());
                return Some(self.position);
            }
        }
    }
}
