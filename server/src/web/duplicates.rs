//! Doublons: the people likely recorded twice (CONTRACT §10, from `app::duplicates`), both records
//! side by side, and the merge of a pair (`app::merge`), reason required and confirmed. A merge is
//! undone from the absorbed record's page (« Annuler la fusion »), which posts to [`unmerge`].

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use maud::{html, Markup};
use parcours_core::store::AppendError;
use parcours_core::vocabulary::StreamId;
use parcours_projections::PathwayState;

use super::forms::{self, Values};
use super::layout::{document, Html, Section};
use super::{person_id, PageError};
use crate::access::Caller;
use crate::app::duplicates::pairs_for;
use crate::app::people::name_of;
use crate::app::{blocking, merge, AppError};
use crate::french;
use crate::state::AppState;

/// One record of a pair as the page shows it.
struct Record {
    stream: StreamId,
    name: Option<String>,
    pathway: Option<PathwayState>,
    merged_into: Option<StreamId>,
}

struct Pair {
    a: Record,
    b: Record,
    reason: &'static str,
}

fn pairs(state: &AppState, caller: &Caller) -> Result<Vec<Pair>, AppError> {
    let record = |stream: StreamId| -> Result<Record, AppError> {
        let name = name_of(state, caller, stream)?;
        let projections = state.projections.read();
        Ok(Record { stream, name, pathway: projections.pathway(stream), merged_into: projections.merged_into(stream) })
    };
    pairs_for(state, caller)?
        .into_iter()
        .map(|pair| {
            let reason = match pair.likeness.code() {
                "same_name_and_birth_date" => "mêmes nom, prénom et date de naissance",
                _ => "mêmes nom et prénom, même année de naissance",
            };
            Ok(Pair { a: record(pair.a)?, b: record(pair.b)?, reason })
        })
        .collect()
}

pub async fn page(State(state): State<AppState>, caller: Caller) -> Result<Html, PageError> {
    state.caught_up().await?;
    render(state, caller, None, StatusCode::OK).await
}

async fn render(
    state: AppState,
    caller: Caller,
    problem: Option<String>,
    status: StatusCode,
) -> Result<Html, PageError> {
    let page_caller = caller.clone();
    let pairs = blocking(move || pairs(&state, &caller)).await?;
    let caller = page_caller;
    let main = html! {
        p.discret {
            "Personnes probablement enregistrées deux fois, repérées sans déchiffrer les identités (clés aveugles). "
            "Fusionner deux dossiers n'efface rien : les deux historiques restent lisibles et vérifiables, les "
            "chiffres comptent la personne une fois, et la fusion peut être annulée depuis le dossier fusionné."
        }
        @if let Some(problem) = &problem {
            div.alerte role="alert" { p { (problem) } }
        }
        @if pairs.is_empty() {
            p { "Aucun doublon probable parmi les personnes que vous suivez." }
        }
        @for (index, pair) in pairs.iter().enumerate() {
            (pair_section(&caller, index + 1, pair))
        }
    };
    Ok(Html(status, document(Some(&caller), Section::Duplicates, "Doublons", main)))
}

fn pair_section(caller: &Caller, number: usize, pair: &Pair) -> Markup {
    let title = format!("titre-doublon-{number}");
    let merged = pair.a.merged_into == Some(pair.b.stream) || pair.b.merged_into == Some(pair.a.stream);
    html! {
        section.doublon aria-labelledby=(title) {
            h2 #(title) { "Doublon " (number) " : " (pair.reason) }
            div.cote-a-cote {
                (record(&pair.a, "Dossier A"))
                (record(&pair.b, "Dossier B"))
            }
            @if merged {
                p { "Ces deux dossiers sont fusionnés." }
            } @else if pair.a.merged_into.is_none() && pair.b.merged_into.is_none() {
                (merge_form(caller, number, pair))
            }
        }
    }
}

fn record(record: &Record, label: &str) -> Markup {
    html! {
        div.dossier {
            h3 {
                (label) " : "
                a href=(format!("/beneficiaires/{}", record.stream)) {
                    (record.name.as_deref().unwrap_or("Personne sans nom lisible"))
                }
            }
            @if let Some(into) = record.merged_into {
                p { "Fusionné dans " a href=(format!("/beneficiaires/{into}")) { "un autre dossier" } "." }
            }
            @match &record.pathway {
                None => p { "Aucun parcours enregistré." },
                Some(pathway) => {
                    p {
                        "Inscrit le " (french::date(pathway.registration.registered_on))
                        " à " (pathway.registration.structure) ", né en " (pathway.registration.birth_year) "."
                    }
                    @if pathway.episodes.is_empty() {
                        p { "Aucune orientation." }
                    } @else {
                        ul {
                            @for episode in &pathway.episodes {
                                li {
                                    "Orienté le " (french::date(episode.referred_on)) " vers " (episode.structure)
                                    @if let Some(exit) = &episode.exit {
                                        ", sorti le " (french::date(exit.exited_on))
                                    } @else {
                                        ", parcours en cours"
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn merge_form(caller: &Caller, number: usize, pair: &Pair) -> Markup {
    let id = |field: &str| format!("fusion-{number}-{field}");
    html! {
        form.formulaire method="post" action="/doublons/fusionner" {
            (forms::csrf(caller.csrf.as_deref()))
            input type="hidden" name="a" value=(pair.a.stream);
            input type="hidden" name="b" value=(pair.b.stream);
            fieldset.champ {
                legend { "Dossier conservé (l'autre y est fusionné)" }
                label { input type="radio" name="conserve" value="a" checked; " Dossier A" }
                label { input type="radio" name="conserve" value="b"; " Dossier B" }
            }
            div.champ {
                label for=(id("motif")) { "Motif de la fusion (obligatoire)" }
                textarea #(id("motif")) name="motif" required rows="2" {}
            }
            div.champ {
                label {
                    input #(id("confirmation")) type="checkbox" name="confirmation" value="oui" required;
                    " Je confirme qu'il s'agit de la même personne"
                }
            }
            button type="submit" { "Fusionner les deux dossiers" }
        }
    }
}

/// A refusal the page explains in French, or an error that is no one's input.
fn explained(error: AppError) -> Result<String, PageError> {
    match error {
        AppError::Append(AppendError::Rule { violation, .. }) => Ok(forms::sentence(&violation)),
        AppError::InvalidRequest(_) => Ok("Indiquez le motif de la fusion.".into()),
        other => Err(other.into()),
    }
}

pub async fn merge(State(state): State<AppState>, caller: Caller, body: Bytes) -> Result<Response, PageError> {
    let values = Values::parse(&body);
    let (a, b) = (person_id(values.get("a"))?, person_id(values.get("b"))?);
    let (absorbed, survivor) = if values.get("conserve") == "b" { (a, b) } else { (b, a) };
    if values.get("confirmation") != "oui" {
        let problem = "Cochez la case qui confirme qu'il s'agit de la même personne.".to_owned();
        return Ok(render(state, caller, Some(problem), StatusCode::UNPROCESSABLE_ENTITY).await?.into_response());
    }
    match merge::merge(&state, &caller, absorbed, survivor, values.get("motif").to_owned()).await {
        Ok(_) => Ok(Redirect::to(&format!("/beneficiaires/{survivor}?fusion=1")).into_response()),
        Err(error) => {
            let problem = explained(error)?;
            Ok(render(state, caller, Some(problem), StatusCode::UNPROCESSABLE_ENTITY).await?.into_response())
        }
    }
}

pub async fn unmerge(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, PageError> {
    let stream = person_id(&id)?;
    let values = Values::parse(&body);
    match merge::unmerge(&state, &caller, stream, None, values.get("motif").to_owned()).await {
        Ok(_) => Ok(Redirect::to(&format!("/beneficiaires/{stream}?separe=1")).into_response()),
        Err(error) => Err(error.into()),
    }
}
