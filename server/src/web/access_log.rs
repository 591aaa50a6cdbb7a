//! Journal des accès: who read one person's history or identity, and when (CONTRACT §7), newest
//! first, a page at a time; for auditors and admins, as `GET /api/access-log`.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use maud::html;
use parcours_core::vocabulary::StreamId;
use serde::Deserialize;

use super::layout::{document, Html, Section};
use super::{person_id, PageError};
use crate::access::Caller;
use crate::app::auditing::access_log::{access_log, Read};
use crate::app::AppError;
use crate::french;
use crate::labels;
use crate::state::AppState;

const PAGE_ROWS: usize = 50;

#[derive(Deserialize)]
pub struct AccessLogQuery {
    page: Option<usize>,
}

pub async fn page(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Query(query): Query<AccessLogQuery>,
) -> Result<Html, PageError> {
    let stream: StreamId = person_id(&id)?;
    let page_number = query.page.unwrap_or(1).max(1);
    let offset = (page_number - 1).saturating_mul(PAGE_ROWS);
    let store = state.store.clone();
    let log = tokio::task::spawn_blocking(move || access_log(&store, stream, offset, PAGE_ROWS))
        .await
        .map_err(|_| PageError::unavailable())?
        .map_err(AppError::from)?;
    let pages = log.total.div_ceil(PAGE_ROWS).max(1);
    let timezone = state.settings.timezone;
    let link = |number: usize| format!("/beneficiaires/{stream}/acces?page={number}");
    let main = html! {
        p { a href=(format!("/beneficiaires/{stream}")) { "Retour à la fiche de la personne" } }
        p.discret {
            "Chaque lecture de l'historique ou de l'identité de cette personne, la plus récente en premier : "
            "qui l'a lue, avec quel rôle, quand et quoi."
        }
        @if log.reads.is_empty() {
            p { "Aucune lecture enregistrée." }
        } @else {
            div.tableau {
                table #acces {
                    caption { (french::integer(log.total as u64)) " lecture" @if log.total > 1 { "s" } " enregistrée" @if log.total > 1 { "s" } }
                    thead { tr { th scope="col" { "Date et heure" } th scope="col" { "Lecteur" } th scope="col" { "Rôle" } th scope="col" { "Ce qui a été lu" } } }
                    tbody {
                        @for read in &log.reads {
                            tr {
                                td { (french::time_seconds(read.at, timezone)) }
                                td { (reader_name(read)) }
                                td { (read.reader.role.map_or("inconnu", labels::role)) }
                                td { (what(&read.what)) }
                            }
                        }
                    }
                }
            }
            @if pages > 1 {
                nav.pages aria-label="Pages du journal des accès" {
                    @if page_number > 1 { a href=(link(page_number - 1)) { "Page précédente" } }
                    span { "Page " (page_number) " sur " (pages) }
                    @if page_number < pages { a href=(link(page_number + 1)) { "Page suivante" } }
                }
            }
        }
    };
    Ok(Html(StatusCode::OK, document(Some(&caller), Section::People, "Journal des accès", main)))
}

/// The reader as the page names them: their token's label and id.
fn reader_name(read: &Read) -> String {
    match &read.reader.label {
        Some(label) => format!("{label} ({})", read.reader.actor.0),
        None if read.reader.actor.0 == crate::access::ENV_ADMIN_ACTOR => "l'administration (jeton du serveur)".into(),
        None => read.reader.actor.0.clone(),
    }
}

/// What was read, in French: the codes the API and the pages record.
fn what(code: &str) -> &str {
    match code {
        "fiche" => "la fiche (parcours et historique)",
        "voyage" => "la fiche, à une date passée",
        "audit" => "l'historique d'audit (API)",
        "history" => "l'historique (API)",
        "state" => "l'état du parcours (API)",
        "export" => "l'historique signé (téléchargement)",
        "name" => "le nom (liste des personnes)",
        "identity" => "l'identité",
        other => other,
    }
}
