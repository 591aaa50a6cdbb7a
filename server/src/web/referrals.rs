//! Orientations proposées: the referrals proposed to a structure by another (CONTRACT §7), on its
//! dashboard and on the person's page, with the forms that answer them (`app::referrals`).
//!
//! Accepting takes the coordinator to the person's page, now theirs; declining back to the
//! dashboard, since the person's stream is no longer theirs to read.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use maud::{html, Markup};
use parcours_core::store::AppendError;
use parcours_core::vocabulary::{EventId, Slug, StreamId};
use parcours_projections::PendingReferralState;

use super::forms::{self, Values};
use super::layout::problem;
use super::PageError;
use crate::access::Caller;
use crate::app::referrals::{self, Answer, Waiting};
use crate::app::streams::beneficiary_id;
use crate::app::AppError;
use crate::french;
use crate::labels::Labelled;
use crate::state::AppState;

/// The form fields' values of the two answers.
const ACCEPT: &str = "accepter";
const DECLINE: &str = "refuser";

/// The two answers to one proposal: accept, or decline with a reason.
fn answer_forms(caller: &Caller, beneficiary: StreamId, referral: EventId) -> Markup {
    let action = format!("/beneficiaires/{beneficiary}/orientations/{referral}");
    let reason_id = format!("motif-{referral}");
    html! {
        div.reponses {
            form method="post" action=(action) {
                (forms::csrf(caller.csrf.as_deref()))
                input type="hidden" name="reponse" value=(ACCEPT);
                button type="submit" { "Accepter l'orientation" }
            }
            form method="post" action=(action) {
                (forms::csrf(caller.csrf.as_deref()))
                input type="hidden" name="reponse" value=(DECLINE);
                div.champ {
                    label for=(reason_id) { "Motif du refus (obligatoire)" }
                    textarea id=(reason_id) name="motif" required rows="2" maxlength="4000" {}
                }
                button type="submit" { "Refuser l'orientation" }
            }
        }
    }
}

/// The proposals waiting for `structure`, for its dashboard.
pub async fn waiting_section(state: &AppState, caller: &Caller, structure: Slug) -> Result<Markup, AppError> {
    let waiting = referrals::pending(state, caller, Some(structure)).await?;
    Ok(html! {
        section #orientations aria-labelledby="titre-orientations" {
            h2 #titre-orientations { "Orientations proposées" }
            @if waiting.is_empty() {
                p { "Aucune orientation proposée par une autre structure n'attend votre réponse." }
            } @else {
                p.discret {
                    "Ces personnes vous sont orientées par une autre structure. Elles n'entrent dans vos chiffres, \
                     votre tableau de bord et vos listes qu'une fois l'orientation acceptée, à la date de l'orientation."
                }
                table {
                    caption { "Orientations en attente de votre réponse" }
                    thead { tr {
                        th scope="col" { "Personne" }
                        th scope="col" { "Orientée par" }
                        th scope="col" { "Date de l'orientation" }
                        th scope="col" { "Prescripteur" }
                        th scope="col" { "Situation à l'entrée" }
                        th scope="col" { "Réponse" }
                    } }
                    tbody {
                        @for Waiting { proposal, name } in &waiting {
                            tr {
                                th scope="row" {
                                    a href=(format!("/beneficiaires/{}", proposal.beneficiary)) {
                                        @match name {
                                            Some(name) => (name),
                                            None => { "Personne sans nom enregistré" }
                                        }
                                    }
                                }
                                td { (proposal.from_structure) }
                                td { (french::date(proposal.referred_on)) }
                                td { (proposal.prescriber.label()) }
                                td { (proposal.situation.label()) }
                                td { (answer_forms(caller, proposal.beneficiary, proposal.referral)) }
                            }
                        }
                    }
                }
            }
        }
    })
}

/// A proposal waiting on a person's page: what it is, and the answers for those who give them.
pub fn on_person_page(caller: &Caller, beneficiary: StreamId, pending: &PendingReferralState) -> Markup {
    html! {
        section #orientation aria-labelledby="titre-orientation" {
            h2 #titre-orientation { "Orientation proposée" }
            p {
                "Orientation vers " strong { (pending.structure) } " proposée le " (french::date(pending.referred_on))
                ", en attente de la réponse de cette structure. Tant qu'elle n'est pas acceptée, la personne \
                 n'entre pas dans ses chiffres ni dans ses listes."
            }
            @if caller.may_follow(&pending.structure) {
                (answer_forms(caller, beneficiary, pending.referral))
            }
        }
    }
}

/// `POST /beneficiaires/{id}/orientations/{referral}`: the answer given on a page.
pub async fn answer(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, referral)): Path<(String, String)>,
    body: Bytes,
) -> Result<Response, PageError> {
    let stream = beneficiary_id(&id)?;
    let referral: EventId = referral.parse().map_err(|_| PageError::invalid("referral id"))?;
    let values = Values::parse(&body);
    let answer = match values.get("reponse") {
        ACCEPT => Answer::Accept,
        DECLINE if values.get("motif").trim().is_empty() => {
            return Ok(problem(
                StatusCode::UNPROCESSABLE_ENTITY,
                "Motif du refus manquant",
                "Pour refuser une orientation, indiquez son motif : revenez à la page précédente et remplissez-le.",
            ));
        }
        DECLINE => Answer::Decline { reason: values.get("motif").to_owned() },
        _ => return Err(PageError::invalid("reponse")),
    };
    let accepted = answer == Answer::Accept;
    // Where a decline goes back to: the dashboard of the structure asked (read before the answer
    // takes the proposal away; used only once the writer has admitted the answer).
    let asked = state.projections.read().pathway(stream).and_then(|pathway| pathway.pending_referral);
    match referrals::answer(&state, &caller, stream, referral, answer, None).await {
        Ok(_) if accepted => {
            Ok(Redirect::to(&format!("/beneficiaires/{stream}?enregistre=referral_accepted")).into_response())
        }
        Ok(_) => {
            let query = asked.map(|pending| format!("?structure={}", pending.structure)).unwrap_or_default();
            Ok(Redirect::to(&format!("/tableau-de-bord{query}#orientations")).into_response())
        }
        Err(AppError::Append(AppendError::Rule { violation, .. })) => Ok(problem(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Orientation déjà traitée",
            &format!("Cette réponse n'a pas été enregistrée : {violation}"),
        )),
        Err(error) => Err(error.into()),
    }
}
