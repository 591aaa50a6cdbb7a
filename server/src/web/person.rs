//! Fiche bénéficiaire: one person's pathway as it stands (`audit::state_now`), their history as
//! recorded (`audit::audit_trail`: who recorded what and when, corrections beside what they
//! correct), and the forms that record each step of CONTRACT §3, corrections included.
//!
//! Time travel (issue 21): with `le=` (a date) and/or `connu_le=` (a time or a date) the page
//! shows the pathway as it stood on that date and/or as it was known at that time
//! (`auditing::time_travel`), and marks in the history what that view leaves out.
//!
//! Forms post to `/beneficiaires/{id}/etapes`; the step is read by the API's parser and appended
//! with `app::streams::append_inputs` as the signed-in caller. A refused step comes back with the form
//! open, the values kept and the error in French next to its field.

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use maud::{html, Markup};
use parcours_core::store::access::Role;
use parcours_core::vocabulary::{Envelope, EventId, PersonalData, Slug, Step, StepKind, StreamId};
use parcours_projections::audit::{audit_trail, state_now, AuditEntry, AuditTrail, CorrectionEffect, EventStatus};
use parcours_projections::PathwayState;
use serde::Deserialize;
use serde_json::{json, Value};

use super::forms::{self, Errors, Values};
use super::layout::{document, Html, Section};
use super::people::known_structures;
use super::steps::{self, Suggestions, RECORDED};
use super::PageError;
use crate::access::{Caller, ENV_ADMIN_ACTOR};
use crate::app::auditing::time_travel::{self, LeftOut, TimeTravel, TravelView};
use crate::app::streams::{append_inputs, beneficiary_id, readable_stream, record_access};
use crate::app::structures::{all_names, Names};
use crate::app::{blocking, AppError};
use crate::french;
use crate::json::{current_identity, event_json, open_free_text, EventInput, Identity};
use crate::labels::Labelled;
use crate::state::AppState;

/// Everything the page of one person shows, read from their stream alone.
struct Person {
    stream: StreamId,
    events: Vec<Envelope>,
    identity: Option<PersonalData>,
    pathway: PathwayState,
    trail: AuditTrail,
    /// Who recorded: the label of each token, by its id.
    actors: BTreeMap<String, String>,
    /// Known structures, for the forms.
    structures: Vec<String>,
    /// The structures' names, which the page shows rather than their slugs.
    names: Names,
}

/// The person's page, its read recorded in the access log as `what`.
async fn load(state: &AppState, caller: &Caller, stream: StreamId, what: &'static str) -> Result<Person, AppError> {
    let (state, caller) = (state.clone(), caller.clone());
    blocking(move || {
        let mut events = readable_stream(&state, &caller, stream)?;
        record_access(&state, &caller, stream, what)?;
        let identity = Identity::open_unless_erased(&events);
        open_free_text(&state.store, &mut events, identity)?;
        let missing = || AppError::not_found(format!("no beneficiary {stream}"));
        let pathway = state_now(&events).ok_or_else(missing)?;
        let trail = audit_trail(&events).ok_or_else(missing)?;
        let identity = current_identity(&state.store, &events)?;
        let actors =
            state.store.tokens()?.into_iter().filter_map(|(record, _)| Some((record.id, record.label?))).collect();
        let structures = known_structures(&state, &caller);
        let names = all_names(&state.projections.read());
        Ok(Person { stream, events, identity, pathway, trail, actors, structures, names })
    })
    .await
}

impl Person {
    fn name(&self) -> String {
        match (self.identity.as_ref().and_then(PersonalData::display_name), self.pathway.identity_erased) {
            (Some(name), _) => name,
            (None, true) => "Données personnelles effacées".into(),
            (None, false) => "Personne sans nom enregistré".into(),
        }
    }

    fn actor(&self, actor: &str) -> String {
        match self.actors.get(actor) {
            Some(label) => format!("{label} ({actor})"),
            None if actor == ENV_ADMIN_ACTOR => "l'administration (jeton du serveur)".into(),
            None => actor.to_owned(),
        }
    }

    fn suggestions(&self) -> Suggestions {
        Suggestions {
            structures: self.structures.clone(),
            open_contracts: self.pathway.open_contracts.iter().map(|c| c.contract_id.clone()).collect(),
            open_trainings: self.pathway.open_trainings.iter().map(|t| t.training_id.clone()).collect(),
        }
    }

    /// What each step's form starts with: today, the person's structure, fresh references.
    fn starting_values(&self, state: &AppState, kind: StepKind) -> Values {
        let mut values = Values::default();
        values.set("occurred_on", state.today().to_string());
        values.set("id", EventId::generate().to_string());
        let count = |kind: StepKind| self.events.iter().filter(|event| event.step.kind() == kind).count();
        match kind {
            StepKind::Referred => values.set("structure", self.pathway.current_structure.to_string()),
            StepKind::ContractStarted => values.set("contract_id", format!("contrat-{}", count(kind) + 1)),
            StepKind::TrainingStarted => values.set("training_id", format!("formation-{}", count(kind) + 1)),
            StepKind::FollowedUpAfterExit => values.set("months_after_exit", "6"),
            _ => {}
        }
        if let [only] = self.pathway.open_contracts.as_slice() {
            if matches!(kind, StepKind::ContractEnded | StepKind::HoursWorked) {
                values.set("contract_id", only.contract_id.clone());
            }
        }
        if let [only] = self.pathway.open_trainings.as_slice() {
            if kind == StepKind::TrainingCompleted {
                values.set("training_id", only.training_id.clone());
            }
        }
        values
    }
}

#[derive(Deserialize)]
pub struct PageQuery {
    /// The step just recorded, to confirm it.
    enregistre: Option<String>,
    /// Time travel: the pathway as it stood on this date.
    le: Option<String>,
    /// Time travel: the pathway as it was known at this time.
    connu_le: Option<String>,
}

pub async fn page(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Query(query): Query<PageQuery>,
) -> Result<Html, PageError> {
    let stream = beneficiary_id(&id)?;
    let mut travel = Travel::read(&state, &query);
    let what = if travel.asked.is_asked() { "voyage" } else { "fiche" };
    let person = load(&state, &caller, stream, what).await?;
    if travel.asked.is_asked() {
        travel.view = Some(time_travel::view(&person.events, travel.asked));
    }
    let recorded = query.enregistre.as_deref().and_then(StepKind::from_code);
    let status = if travel.errors.is_empty() { StatusCode::OK } else { StatusCode::BAD_REQUEST };
    Ok(render(&state, &caller, &person, recorded, None, &travel, status))
}

/// The time-travel question of the page's address, its form's values and errors, and its view.
#[derive(Default)]
struct Travel {
    asked: TimeTravel,
    values: Values,
    errors: Errors,
    view: Option<TravelView>,
}

impl Travel {
    fn read(state: &AppState, query: &PageQuery) -> Travel {
        let mut travel = Travel::default();
        if let Some(text) = query.le.as_deref().filter(|text| !text.is_empty()) {
            travel.values.set("le", text);
            travel.asked.on = forms::read_date(&travel.values, "le", &mut travel.errors);
        }
        if let Some(text) = query.connu_le.as_deref().filter(|text| !text.is_empty()) {
            travel.values.set("connu_le", text);
            match time_travel::parse_known_at(text, state.settings.timezone) {
                Ok(at) => {
                    // As the date-and-time field holds it, whichever form the address gave.
                    let local = at.0.with_timezone(&state.settings.timezone).format("%Y-%m-%dT%H:%M:%S");
                    travel.values.set("connu_le", local.to_string());
                    travel.asked.known_at = Some(at);
                }
                Err(_) => travel.errors.field(
                    "connu_le",
                    "Ce moment n'est pas valide : indiquez la date, et si besoin l'heure (AAAA-MM-JJ HH:MM:SS).",
                ),
            }
        }
        travel
    }

    /// The view's title: the question asked, in French.
    fn title(&self, timezone: chrono_tz::Tz) -> String {
        let on = self.asked.on.map(|day| format!("tel qu'il était le {}", french::date(day)));
        let known =
            self.asked.known_at.map(|at| format!("tel qu'on le savait le {}", french::time_seconds(at, timezone)));
        let parts: Vec<String> = [on, known].into_iter().flatten().collect();
        format!("Le parcours {}", parts.join(", "))
    }
}

/// A form sent back with its values and errors.
struct Failed {
    kind: StepKind,
    values: Values,
    errors: Errors,
}

fn render(
    state: &AppState,
    caller: &Caller,
    person: &Person,
    recorded: Option<StepKind>,
    failed: Option<&Failed>,
    travel: &Travel,
    status: StatusCode,
) -> Html {
    let writer = matches!(caller.role, Role::Admin | Role::Coordinator);
    // The writer's own rule (CONTRACT §7): a coordinator appends for the people their structures
    // hold now; those who moved on stay readable.
    let holds = caller.role == Role::Admin || caller.structures.contains(&person.pathway.current_structure);
    let merges = parcours_core::rules::StreamState::from_events(
        person.events.iter().map(|event| (event.id, event.occurred_on, &event.step)),
    )
    .pathway;
    let merged_into = merges.merged_into;
    let main = html! {
        @if let Some(kind) = recorded {
            div.confirmation role="status" { p { "Étape enregistrée : " (kind.label()) "." } }
        }
        (bench(caller, person, travel))
        @if let Some(view) = &travel.view {
            section #voyage aria-labelledby="titre-voyage" {
                h2 #titre-voyage { (travel.title(state.settings.timezone)) }
                @match &view.state {
                    Some(pathway) => (summary(person, pathway)),
                    None => p { "Rien n'était encore enregistré ou survenu pour cette personne à ce moment-là." },
                }
            }
        } @else {
            (summary(person, &person.pathway))
            @if let Some(pending) = &person.pathway.pending_referral {
                (super::referrals::on_person_page(caller, person.stream, pending))
            }
        }
        @if let Some(into) = merged_into {
            (merge_notice(caller, person.stream, into, writer))
        }
        @if !merges.absorbed.is_empty() {
            p #fusionnes {
                "Dossiers de la même personne fusionnés dans celui-ci (leurs historiques restent les leurs) : "
                @for (index, absorbed) in merges.absorbed.iter().enumerate() {
                    @if index > 0 { ", " }
                    a href=(format!("/beneficiaires/{absorbed}")) { "dossier " (index + 1) }
                }
                "."
            }
        }
        @if travel.view.is_none() && writer && !holds {
            p.alerte {
                "Cette personne est suivie aujourd'hui par " (person.names.get(person.pathway.current_structure.as_str()))
                " : vous pouvez consulter son parcours, pas y enregistrer d'étape."
            }
        }
        @if travel.view.is_none() && writer && holds && merged_into.is_none() {
            section #enregistrer aria-labelledby="titre-enregistrer" {
                h2 #titre-enregistrer { "Enregistrer une étape" }
                p.discret { "Ouvrez l'étape à enregistrer. Les champs marqués « obligatoire » doivent être remplis." }
                @for kind in RECORDED {
                    @let failed = failed.filter(|failed| failed.kind == kind);
                    @let values = failed.map_or_else(|| person.starting_values(state, kind), |failed| failed.values.clone());
                    @let errors = failed.map(|failed| failed.errors.clone()).unwrap_or_default();
                    (step_form(caller, person, kind, &values, &errors, failed.is_some()))
                }
            }
        }
        (history(state, caller, person, travel.view.as_ref()))
    };
    Html(status, document(Some(caller), Section::People, &person.name(), main))
}

/// A record merged into another (CONTRACT §10): where the person's pathway goes on, and the undoing
/// of the merge for those who may write.
fn merge_notice(caller: &Caller, stream: StreamId, into: StreamId, writer: bool) -> Markup {
    html! {
        section.alerte #fusion aria-labelledby="titre-fusion" {
            h2 #titre-fusion { "Dossier fusionné" }
            p {
                "Ce dossier a été fusionné dans celui de la même personne : son parcours continue dans le "
                a href=(format!("/beneficiaires/{into}")) { "dossier conservé" } ". "
                "Son historique reste ici tel qu'il a été enregistré."
            }
            @if writer {
                form.formulaire method="post" action=(format!("/beneficiaires/{stream}/separer")) {
                    (forms::csrf(caller.csrf.as_deref()))
                    div.champ {
                        label for="motif-separation" { "Motif de l'annulation (obligatoire)" }
                        textarea #motif-separation name="motif" required rows="2" {}
                    }
                    button type="submit" { "Annuler la fusion" }
                }
            }
        }
    }
}

fn step_form(caller: &Caller, person: &Person, kind: StepKind, values: &Values, errors: &Errors, open: bool) -> Markup {
    let form = kind.code();
    let fields: Vec<forms::Field> =
        std::iter::once(steps::date_field(kind)).chain(steps::fields(kind, &person.suggestions())).collect();
    html! {
        details.etape #(format!("etape-{form}")) open[open] {
            summary { (kind.label()) }
            form.formulaire method="post" action=(format!("/beneficiaires/{}/etapes", person.stream)) novalidate {
                (forms::csrf(caller.csrf.as_deref()))
                input type="hidden" name="type" value=(form);
                input type="hidden" name="id" value=(values.get("id"));
                (forms::general_errors(errors))
                (forms::fields(form, &fields, values, errors))
                button type="submit" { "Enregistrer : " (kind.label()) }
            }
        }
    }
}

/// The tools of an audit: the time-travel form, the signed history, the access log.
fn bench(caller: &Caller, person: &Person, travel: &Travel) -> Markup {
    let stream = person.stream;
    let error = |name: &str| travel.errors.of(name).map(str::to_owned);
    let field = |name: &'static str, label: &str, kind: &str, hint: &str, extra_step: bool| {
        let id = format!("voyage-{}", name.replace('_', "-"));
        let (hint_id, error_id) = (format!("{id}-aide"), format!("{id}-erreur"));
        let message = error(name);
        let described = match &message {
            Some(_) => format!("{hint_id} {error_id}"),
            None => hint_id.clone(),
        };
        html! {
            div.champ.en-erreur[message.is_some()] {
                label for=(id) { (label) }
                input id=(id) name=(name) type=(kind) value=(travel.values.get(name)) step=[extra_step.then_some("1")]
                    aria-invalid=[message.as_ref().map(|_| "true")] aria-describedby=(described);
                p.aide id=(hint_id) { (hint) }
                @if let Some(message) = &message { p.message-erreur id=(error_id) { (message) } }
            }
        }
    };
    html! {
        section #audit aria-labelledby="titre-audit" {
            h2 #titre-audit { "Remonter le temps" }
            form.filtres method="get" action=(format!("/beneficiaires/{stream}")) novalidate {
                (field("le", "Tel qu'il était le", "date",
                    "Les étapes survenues jusqu'à ce jour, avec les corrections connues aujourd'hui.", false))
                (field("connu_le", "Tel qu'on le savait le", "datetime-local",
                    "Seulement ce qui avait été saisi à ce moment (heure de Paris).", true))
                button type="submit" { "Afficher" }
            }
            ul.outils {
                @if travel.asked.is_asked() {
                    li { a href=(format!("/beneficiaires/{stream}")) { "Revenir au parcours d'aujourd'hui" } }
                }
                li { a #telecharger-historique href=(format!("/beneficiaires/{stream}/export")) download { "Télécharger l'historique signé" } }
                li { a href="/verification" { "Comment vérifier l'historique signé" } }
                @if matches!(caller.role, Role::Admin | Role::Auditor) {
                    li { a #journal-acces href=(format!("/beneficiaires/{stream}/acces")) { "Journal des accès à cette fiche" } }
                }
            }
        }
    }
}

/// The pathway in one view: who the person is, their episode, contracts, trainings, follow-up.
fn summary(person: &Person, pathway: &PathwayState) -> Markup {
    let registration = &pathway.registration;
    let name = |slug: &Slug| person.names.get(slug.as_str());
    let episode = pathway.episodes.last().filter(|_| pathway.in_episode);
    let identity = person.identity.clone().unwrap_or_default();
    let optional = |value: Option<String>| value.unwrap_or_else(|| "—".into());
    html! {
        div.fiche {
            section aria-labelledby="titre-personne" {
                h2 #titre-personne { "La personne" }
                dl.faits {
                    @if pathway.identity_erased {
                        dt { "Données personnelles" } dd { "Effacées" }
                    } @else {
                        dt { "Prénom" } dd { (optional(identity.first_name)) }
                        dt { "Nom" } dd { (optional(identity.last_name)) }
                        dt { "Date de naissance" } dd { (optional(identity.birth_date.map(french::date))) }
                        dt { "Téléphone" } dd { (optional(identity.phone)) }
                        dt { "Courriel" } dd { (optional(identity.email)) }
                        dt { "Adresse" } dd { (optional(identity.address)) }
                    }
                    dt { "Genre" } dd { (registration.gender.label()) }
                    dt { "Année de naissance" } dd { (registration.birth_year) }
                    dt { (french::REGISTERED_ON.of(registration.gender)) }
                    dd { (french::date(registration.registered_on)) " à " (name(&registration.structure)) }
                    dt { "Structure actuelle" } dd { (name(&pathway.current_structure)) }
                }
            }
            section aria-labelledby="titre-parcours" {
                h2 #titre-parcours { "Parcours en cours" }
                @match episode {
                    None => p { "Aucun parcours en cours." },
                    Some(episode) => dl.faits {
                        dt { (french::REFERRED_ON.of(registration.gender)) }
                        dd { (french::date(episode.referred_on)) " vers " (name(&episode.structure)) }
                        dt { "Prescripteur" } dd { (episode.prescriber.label()) }
                        dt { "Situation à l'entrée" } dd { (episode.situation.label()) }
                        @if let Some(programme) = episode.programme { dt { "Dispositif" } dd { (programme.label()) } }
                        @if !episode.benefits.is_empty() {
                            dt { "Minima sociaux" }
                            dd { (episode.benefits.iter().map(|benefit| benefit.label()).collect::<Vec<_>>().join(", ")) }
                        }
                        @if let Some(qualification) = episode.qualification {
                            dt { "Niveau de diplôme" } dd { (qualification.label()) }
                        }
                    },
                }
                h3 { "Contrats en cours" }
                @if pathway.open_contracts.is_empty() {
                    p { "Aucun contrat en cours." }
                } @else {
                    ul {
                        @for contract in &pathway.open_contracts {
                            li {
                                (contract.kind.label()) " « " (contract.contract_id) " », "
                                (french::hours(contract.weekly_hours.hundredths)) " par semaine, depuis le " (french::date(contract.started_on))
                                @if let Some(end) = contract.planned_end { ", fin prévue le " (french::date(end)) }
                            }
                        }
                    }
                }
                h3 { "Formations en cours" }
                @if pathway.open_trainings.is_empty() {
                    p { "Aucune formation en cours." }
                } @else {
                    ul {
                        @for training in &pathway.open_trainings {
                            li {
                                (training.title) " (« " (training.training_id) " »"
                                @if training.qualifying { ", qualifiante" }
                                "), depuis le " (french::date(training.started_on))
                            }
                        }
                    }
                }
                h3 { "Dernier suivi" }
                @match &pathway.last_follow_up {
                    None => p { "Aucun entretien de suivi." },
                    Some(follow_up) => p {
                        (follow_up.kind.label()) " le " (french::date(follow_up.held_on))
                        @if let Some(next) = follow_up.next_due { " ; prochain prévu le " (french::date(next)) }
                        "."
                    },
                }
            }
            @if !pathway.exits.is_empty() {
                section aria-labelledby="titre-sorties" {
                    h2 #titre-sorties { "Sorties" }
                    ul {
                        @for exit in &pathway.exits {
                            li {
                                (french::EXITED_ON.of(registration.gender)) " " (french::date(exit.exited_on)) " : "
                                (exit.destination.label())
                                " (" (exit.category.label()) ")"
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The history as recorded, the latest first; each correction shown beside the step it corrects.
/// `left_out`: in a time-travel view, why it leaves out some events (marked, not hidden).
fn history(state: &AppState, caller: &Caller, person: &Person, left_out: Option<&TravelView>) -> Markup {
    let writer = left_out.is_none()
        && (caller.role == Role::Admin || caller.structures.contains(&person.pathway.current_structure));
    let no_marks = Vec::new();
    let marks = |id: &EventId| left_out.and_then(|view| view.left_out.get(id)).unwrap_or(&no_marks);
    let by_id: BTreeMap<EventId, &AuditEntry> = person.trail.events.iter().map(|entry| (entry.id, entry)).collect();
    let timezone = state.settings.timezone;
    html! {
        section #historique aria-labelledby="titre-historique" {
            h2 #titre-historique { "Historique" }
            p.discret {
                "Chaque étape telle qu'elle a été enregistrée, la dernière saisie en premier : la date où elle a eu "
                "lieu, celle de sa saisie et qui l'a saisie. Une étape n'est jamais modifiée : une correction "
                "s'ajoute à côté d'elle."
            }
            ol.historique reversed {
                @for entry in person.trail.events.iter().rev() {
                    li.evenement.annule[entry.status == Some(EventStatus::Retracted)]
                        .remplace[entry.status == Some(EventStatus::Replaced)] #(format!("e-{}", entry.id)) {
                        div.evenement-corps {
                            h3 {
                                (entry.kind.label())
                                @match entry.status {
                                    Some(EventStatus::Retracted) => span.etiquette { "annulée" },
                                    Some(EventStatus::Replaced) => span.etiquette { "corrigée" },
                                    _ => {},
                                }
                                @for mark in marks(&entry.id) {
                                    span.etiquette.hors-vue {
                                        @match mark {
                                            LeftOut::RecordedLater => "saisie plus tard",
                                            LeftOut::EffectiveLater => "survenue plus tard",
                                            LeftOut::CorrectedSince => "corrigée depuis",
                                        }
                                    }
                                }
                            }
                            p.dates {
                                "Survenue le " (french::date(entry.occurred_on))
                                " · saisie le " (french::time(entry.recorded_at, timezone))
                                " par " (person.actor(&entry.recorded_by.0))
                            }
                            @if let Some(target) = entry.corrects.and_then(|target| by_id.get(&target.event)) {
                                p {
                                    @match entry.corrects.map(|target| target.effect) {
                                        Some(CorrectionEffect::Retracted) => "Annule ",
                                        _ => "Corrige ",
                                    }
                                    a href=(format!("#e-{}", target.id)) {
                                        "l'étape « " (target.kind.label()) " » du " (french::date(target.occurred_on))
                                    }
                                    "."
                                }
                            }
                            (facts(&entry.data, &person.names))
                            @if writer && correctable(entry) {
                                p { a href=(format!("/beneficiaires/{}/corriger/{}", person.stream, entry.id)) {
                                    "Corriger cette étape" span.visuellement-cache { " (" (entry.kind.label()) " du " (french::date(entry.occurred_on)) ")" }
                                } }
                            }
                        }
                        @if !entry.corrected_by.is_empty() {
                            aside.corrections aria-label="Corrections de cette étape" {
                                @for link in &entry.corrected_by {
                                    @let correction = by_id.get(&link.correction);
                                    div.correction {
                                        p {
                                            strong { @match link.effect { CorrectionEffect::Replaced => "Corrigée", CorrectionEffect::Retracted => "Annulée" } }
                                            " le " (french::time(link.recorded_at, timezone)) " par " (person.actor(&link.recorded_by.0))
                                        }
                                        @if let Some(correction) = correction { (facts(&correction.data, &person.names)) }
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

/// Whether a step may still be corrected (CONTRACT §4): not a correction, not already retracted.
fn correctable(entry: &AuditEntry) -> bool {
    entry.corrects.is_none()
        && entry.status != Some(EventStatus::Retracted)
        && !matches!(
            entry.kind,
            StepKind::Corrected | StepKind::PersonalDataErased | StepKind::StructureUpdated | StepKind::ReportPublished
        )
}

/// What a step says, in French.
fn facts(step: &Step, names: &Names) -> Markup {
    let yes_no = |yes: bool| if yes { "oui" } else { "non" };
    let mut items: Vec<(&str, String)> = Vec::new();
    let mut add = |label: &'static str, value: Option<String>| {
        if let Some(value) = value {
            items.push((label, value));
        }
    };
    let mut replacement = None;
    match step {
        Step::Registered(registered) => {
            add("Structure", Some(names.get(registered.structure.as_str())));
            add("Genre", Some(registered.gender.label().into()));
            add("Année de naissance", Some(registered.birth_year.to_string()));
        }
        Step::Referred(referred) => {
            add("Structure", Some(names.get(referred.structure.as_str())));
            add("Proposition", referred.proposed.then(|| "en attente de la réponse de la structure".into()));
            let prescriber = match &referred.prescriber.name {
                Some(name) => format!("{} ({name})", referred.prescriber.kind.label()),
                None => referred.prescriber.kind.label().into(),
            };
            add("Prescripteur", Some(prescriber));
            add("Situation à l'entrée", Some(referred.situation.label().into()));
            add("Dispositif", referred.programme.map(|programme| programme.label().into()));
            let benefits: Vec<&str> = referred.benefits.iter().map(|benefit| benefit.label()).collect();
            add("Minima sociaux", (!benefits.is_empty()).then(|| benefits.join(", ")));
            add("Niveau de diplôme", referred.qualification.map(|qualification| qualification.label().into()));
            add("Quotient familial", referred.family_quotient.map(|euros| format!("{euros} € par mois")));
        }
        Step::ContractStarted(contract) => {
            add("Contrat", Some(contract.contract_id.clone()));
            add("Type", Some(contract.kind.label().into()));
            add("Heures par semaine", Some(french::hours(contract.weekly_hours.hundredths)));
            add("Employeur", contract.employer.clone());
            add("Poste", contract.job.clone());
            add("Fin prévue", contract.planned_end.map(french::date));
        }
        Step::ContractEnded(ended) => {
            add("Contrat", Some(ended.contract_id.clone()));
            add("Motif", Some(ended.reason.label().into()));
        }
        Step::HoursWorked(worked) => {
            add("Contrat", Some(worked.contract_id.clone()));
            add("Mois", Some(french::month(worked.month)));
            add("Heures", Some(french::hours(worked.hours.hundredths)));
        }
        Step::SkillsAssessed(assessed) => {
            add("Évaluateur", Some(assessed.assessor.clone()));
            add("Type", Some(assessed.kind.label().into()));
            add("Compétences", (!assessed.skills.is_empty()).then(|| assessed.skills.join(", ")));
            add("Synthèse", assessed.summary.clone());
        }
        Step::TrainingStarted(training) => {
            add("Formation", Some(training.training_id.clone()));
            add("Intitulé", Some(training.title.clone()));
            add("Qualifiante", Some(yes_no(training.qualifying).into()));
            add("Certification", training.certification.clone());
            add("Durée prévue", training.planned_hours.map(|hours| french::hours(hours.hundredths)));
        }
        Step::TrainingCompleted(completed) => {
            add("Formation", Some(completed.training_id.clone()));
            add("Résultat", Some(completed.result.label().into()));
        }
        Step::SupportProvided(support) => {
            add("Domaine", Some(support.domain.label().into()));
            add("Action", support.action.map(|action| action.label().into()));
            add("Partenaire", support.partner.clone());
        }
        Step::FollowUpHeld(follow_up) => {
            add("Type", Some(follow_up.kind.label().into()));
            add("Prochain suivi prévu", follow_up.next_due.map(french::date));
        }
        Step::Exited(exited) => {
            let destination = exited.destination;
            add("Situation à la sortie", Some(format!("{} ({})", destination.label(), destination.category().label())));
        }
        Step::FollowedUpAfterExit(after) => {
            add("Mois après la sortie", Some(after.months_after_exit.to_string()));
            add("Situation", Some(after.situation.label().into()));
        }
        Step::Corrected(correction) => {
            add("Motif", Some(correction.reason.clone()));
            replacement = correction.replacement.as_ref();
        }
        Step::PersonalDataErased(erased) => add("Motif", Some(erased.reason.label().into())),
        Step::StructureUpdated(structure) => add("Structure", Some(structure.name.clone())),
        // In the stream of published reports only, which no person's page shows.
        Step::ReportPublished(_) => {}
        Step::ReferralAccepted(accepted) => add("Orientation", Some(accepted.referral.to_string())),
        Step::ReferralDeclined(declined) => {
            add("Orientation", Some(declined.referral.to_string()));
            add("Motif", Some(declined.reason.clone()));
        }
        Step::MergedInto(merged) => {
            add("Dossier conservé", Some(merged.into.to_string()));
            add("Motif", Some(merged.reason.clone()));
        }
        Step::Absorbed(absorbed) => {
            add("Dossier fusionné", Some(absorbed.from.to_string()));
            add("Motif", Some(absorbed.reason.clone()));
        }
        Step::Unmerged(unmerged) => {
            add("Autre dossier", Some(unmerged.other.to_string()));
            add("Motif", Some(unmerged.reason.clone()));
        }
    }
    html! {
        @if !items.is_empty() {
            dl.faits { @for (label, value) in &items { dt { (label) } dd { (value) } } }
        }
        @if let Some(replacement) = replacement {
            p { "Désormais : survenue le " (french::date(replacement.occurred_on)) "." }
            (facts(&replacement.step, names))
        }
    }
}

pub async fn record(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, PageError> {
    let stream = beneficiary_id(&id)?;
    let values = Values::parse(&body);
    let Some(kind) =
        StepKind::from_code(values.get("type")).filter(|kind| RECORDED.contains(kind) || *kind == StepKind::Corrected)
    else {
        return Err(AppError::InvalidRequest("type".into()).into());
    };
    if kind == StepKind::Corrected {
        return record_correction(&state, &caller, stream, values).await;
    }
    let fields = steps::fields(kind, &Suggestions::default());
    let mut errors = Errors::default();
    let occurred_on = forms::read_date(&values, "occurred_on", &mut errors);
    let data = forms::read(&fields, &values, &mut errors);
    if let (Some(occurred_on), true) = (occurred_on, errors.is_empty()) {
        let input = EventInput { id: values.get("id").parse().ok(), kind, occurred_on, data };
        match append_inputs(&state, &caller, stream, None, vec![input]).await {
            Ok(_) => {
                let target = format!("/beneficiaires/{stream}?enregistre={}", kind.code());
                return Ok(Redirect::to(&target).into_response());
            }
            Err(error) => {
                let names: Vec<&str> = std::iter::once("occurred_on").chain(fields.iter().map(|f| f.name)).collect();
                forms::refusal(error, &names, &mut errors)?;
            }
        }
    }
    let person = load(&state, &caller, stream, "fiche").await?;
    let failed = Failed { kind, values, errors };
    let travel = Travel::default();
    Ok(render(&state, &caller, &person, None, Some(&failed), &travel, StatusCode::UNPROCESSABLE_ENTITY).into_response())
}

/// The two ways to correct a step, as the correction page's forms name them.
const RETRACT: &str = "annuler";
const REPLACE: &str = "remplacer";

/// The step a correction is about, as it counts now: its own date and data, or those of its last
/// replacement; with the identity opened, for a registration.
fn effective(state: &AppState, person: &Person, target: &Envelope) -> Result<(String, Value), AppError> {
    let mut current = (target.occurred_on.to_string(), None);
    for envelope in &person.events {
        if let Step::Corrected(correction) = &envelope.step {
            if let (true, Some(replacement)) = (correction.corrects == target.id, &correction.replacement) {
                current = (replacement.occurred_on.to_string(), Some(envelope));
            }
        }
    }
    let carrier = current.1.unwrap_or(target);
    let rendered =
        serde_json::to_value(event_json(&state.store, carrier, Identity::open_unless_erased(&person.events))?)?;
    let data = match current.1 {
        Some(_) => rendered["data"]["replacement"]["data"].clone(),
        None => rendered["data"].clone(),
    };
    Ok((current.0, data))
}

pub async fn correction(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, event)): Path<(String, String)>,
) -> Result<Html, PageError> {
    let stream = beneficiary_id(&id)?;
    let event: EventId = event.parse().map_err(|_| AppError::not_found("no such event"))?;
    let person = load(&state, &caller, stream, "fiche").await?;
    correction_page(&state, &caller, &person, event, None, StatusCode::OK)
}

fn correction_page(
    state: &AppState,
    caller: &Caller,
    person: &Person,
    event: EventId,
    failed: Option<(&str, &Values, &Errors)>,
    status: StatusCode,
) -> Result<Html, PageError> {
    let not_found = || AppError::not_found("no such event");
    let target = person.events.iter().find(|envelope| envelope.id == event).ok_or_else(not_found)?;
    let entry = person.trail.events.iter().find(|entry| entry.id == event).ok_or_else(not_found)?;
    let kind = target.step.kind();
    let (occurred_on, data) = effective(state, person, target)?;
    let mut replace_values = Values::from_data(&data);
    replace_values.set("occurred_on", occurred_on);
    let mut retract_values = Values::default();
    for values in [&mut replace_values, &mut retract_values] {
        values.set("id", EventId::generate().to_string());
    }
    let (mut retract_errors, mut replace_errors) = (Errors::default(), Errors::default());
    match failed {
        Some((RETRACT, values, errors)) => (retract_values, retract_errors) = (values.clone(), errors.clone()),
        Some((_, values, errors)) => (replace_values, replace_errors) = (values.clone(), errors.clone()),
        None => {}
    }
    let fields: Vec<forms::Field> =
        std::iter::once(steps::date_field(kind)).chain(steps::fields(kind, &person.suggestions())).collect();
    let reason = forms::Field::new("reason", "Motif de la correction", forms::Input::text())
        .required()
        .hint("Ce qui était inexact : il reste dans l'historique.");
    let action = format!("/beneficiaires/{}/etapes", person.stream);
    let hidden = |mode: &str, values: &Values| {
        html! {
            (forms::csrf(caller.csrf.as_deref()))
            input type="hidden" name="type" value="corrected";
            input type="hidden" name="corrects" value=(event);
            input type="hidden" name="mode" value=(mode);
            input type="hidden" name="id" value=(values.get("id"));
        }
    };
    let main = html! {
        p { a href=(format!("/beneficiaires/{}#e-{event}", person.stream)) { "Retour à la fiche de " (person.name()) } }
        section.evenement aria-labelledby="titre-etape" {
            h2 #titre-etape { "L'étape à corriger" }
            p.dates {
                "Survenue le " (french::date(entry.occurred_on)) " · saisie le "
                (french::time(entry.recorded_at, state.settings.timezone)) " par " (person.actor(&entry.recorded_by.0))
            }
            (facts(&entry.data, &person.names))
        }
        @if !correctable(entry) {
            p.alerte { "Cette étape ne peut plus être corrigée." }
        } @else {
            @if kind != StepKind::Registered {
                section aria-labelledby="titre-annuler" {
                    h2 #titre-annuler { "Annuler cette étape" }
                    p { "L'étape ne comptera plus, comme si elle n'avait pas eu lieu ; elle reste visible dans l'historique." }
                    form.formulaire method="post" action=(action) novalidate {
                        (hidden(RETRACT, &retract_values))
                        (forms::general_errors(&retract_errors))
                        (forms::fields(RETRACT, std::slice::from_ref(&reason), &retract_values, &retract_errors))
                        button type="submit" { "Annuler l'étape" }
                    }
                }
            }
            section aria-labelledby="titre-remplacer" {
                h2 #titre-remplacer { "Remplacer par des valeurs justes" }
                p { "L'étape comptera avec ces valeurs ; l'original reste visible dans l'historique." }
                form.formulaire method="post" action=(action) novalidate {
                    (hidden(REPLACE, &replace_values))
                    (forms::general_errors(&replace_errors))
                    (forms::fields(REPLACE, std::slice::from_ref(&reason), &replace_values, &replace_errors))
                    (forms::fields(REPLACE, &fields, &replace_values, &replace_errors))
                    button type="submit" { "Enregistrer la correction" }
                }
            }
        }
    };
    let title = format!("Corriger : {} — {}", kind.label(), person.name());
    Ok(Html(status, document(Some(caller), Section::People, &title, main)))
}

async fn record_correction(
    state: &AppState,
    caller: &Caller,
    stream: StreamId,
    values: Values,
) -> Result<Response, PageError> {
    let event: EventId = values.get("corrects").parse().map_err(|_| AppError::InvalidRequest("corrects".into()))?;
    let mode = if values.get("mode") == RETRACT { RETRACT } else { REPLACE };
    // A refused correction changes nothing: the page shown again is the person as read here.
    let person = load(state, caller, stream, "fiche").await?;
    let target = person.events.iter().find(|envelope| envelope.id == event);
    let kind = target.map(|target| target.step.kind()).ok_or_else(|| AppError::not_found("no such event"))?;
    let mut errors = Errors::default();
    let reason = forms::Field::new("reason", "Motif", forms::Input::text()).required();
    let mut data = forms::read(std::slice::from_ref(&reason), &values, &mut errors);
    data["corrects"] = json!(event);
    let fields = steps::fields(kind, &Suggestions::default());
    if mode == REPLACE {
        let occurred_on = forms::read_date(&values, "occurred_on", &mut errors);
        let replacement = forms::read(&fields, &values, &mut errors);
        data["replacement"] = json!({ "occurred_on": occurred_on, "data": replacement });
    }
    if errors.is_empty() {
        let input = EventInput {
            id: values.get("id").parse().ok(),
            kind: StepKind::Corrected,
            occurred_on: state.today(),
            data,
        };
        match append_inputs(state, caller, stream, None, vec![input]).await {
            Ok(_) => {
                let target = format!("/beneficiaires/{stream}?enregistre=corrected#e-{event}");
                return Ok(Redirect::to(&target).into_response());
            }
            Err(error) => {
                let names: Vec<&str> =
                    ["reason", "occurred_on"].into_iter().chain(fields.iter().map(|field| field.name)).collect();
                forms::refusal(error, &names, &mut errors)?;
            }
        }
    }
    let failed = Some((mode, &values, &errors));
    Ok(correction_page(state, caller, &person, event, failed, StatusCode::UNPROCESSABLE_ENTITY)?.into_response())
}
