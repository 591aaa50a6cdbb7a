//! Import: a structure's spreadsheet taken in through a mapping (CONTRACT §9), as a coordinator
//! does it: choose the file and a saved mapping (or the mapping's own file), read the dry run's
//! preview and errors, then confirm. Confirming imports the very sheet that was previewed: it waits
//! in `app::import::previews`, not in the browser.

use axum::body::Bytes;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{Multipart, State};
use axum::http::StatusCode;
use maud::{html, Markup};

use super::forms::{self, Values};
use super::layout::{document, Html, Section};
use super::PageError;
use crate::access::Caller;
use crate::app::import::previews::Previewed;
use crate::app::import::{self, ImportReport, Mapping};
use crate::app::AppError;
use crate::french;
use crate::labels::Labelled;
use crate::state::AppState;

const TITLE: &str = "Importer un tableur";

pub async fn form(State(state): State<AppState>, caller: Caller) -> Result<Html, PageError> {
    Ok(Html(StatusCode::OK, upload_page(&state, &caller, None).await?))
}

/// The upload form, with what went wrong with the last upload if anything did.
async fn upload_page(state: &AppState, caller: &Caller, problem: Option<&str>) -> Result<Markup, PageError> {
    let mappings = import::saved_mappings(state, caller).await?;
    let main = html! {
        p { "Reprenez l'historique d'une structure tenu dans un tableur (CSV ou Excel .xlsx) : chaque ligne devient
             les étapes du parcours d'une personne, selon une correspondance entre colonnes et étapes. Rien n'est
             enregistré avant que vous ayez vu l'aperçu et confirmé." }
        @if let Some(problem) = problem {
            div.alerte role="alert" { p { (problem) } }
        }
        form.formulaire method="post" action="/import" enctype="multipart/form-data" {
            // First, so that the CSRF check finds it without reading the file.
            (forms::csrf(caller.csrf.as_deref()))
            div.champ {
                label for="import-file" { "Fichier" span.obligatoire { " (obligatoire)" } }
                p.aide #import-file-aide { "Un fichier .csv (séparé par des points-virgules ou des virgules) ou .xlsx." }
                input #import-file type="file" name="file" required accept=".csv,.xlsx,text/csv"
                    aria-describedby="import-file-aide";
            }
            div.champ {
                label for="import-mapping" { "Correspondance enregistrée" }
                select #import-mapping name="mapping_name" aria-describedby="import-mapping-aide" {
                    option value="" { "—" }
                    @for (name, mapping) in &mappings {
                        option value=(name) { (name) " (" (mapping.structure) ")" }
                    }
                }
                p.aide #import-mapping-aide {
                    @if mappings.is_empty() { "Aucune correspondance n'est encore enregistrée : joignez son fichier ci-dessous." }
                    @else { "Ou joignez le fichier d'une autre correspondance ci-dessous." }
                }
            }
            div.champ {
                label for="import-mapping-file" { "Fichier de correspondance (.json)" }
                input #import-mapping-file type="file" name="mapping" accept=".json,application/json";
            }
            div.case {
                input #import-skip type="checkbox" name="skip_bad_rows" value="true";
                label for="import-skip" { "Importer les lignes correctes même si d'autres sont refusées" }
            }
            button type="submit" { "Voir l'aperçu" }
        }
    };
    Ok(document(Some(caller), Section::Import, TITLE, main))
}

/// The parts of the upload form.
struct Upload {
    file: Option<Vec<u8>>,
    mapping_name: String,
    mapping_file: Option<Vec<u8>>,
    skip_bad_rows: bool,
}

async fn read_upload(mut multipart: Multipart) -> Result<Upload, AppError> {
    let mut upload = Upload { file: None, mapping_name: String::new(), mapping_file: None, skip_bad_rows: false };
    let unreadable = |error: axum::extract::multipart::MultipartError| AppError::InvalidRequest(error.to_string());
    while let Some(field) = multipart.next_field().await.map_err(unreadable)? {
        let name = field.name().unwrap_or_default().to_owned();
        let bytes = field.bytes().await.map_err(unreadable)?;
        match name.as_str() {
            "file" if !bytes.is_empty() => upload.file = Some(bytes.to_vec()),
            "mapping" if !bytes.is_empty() => upload.mapping_file = Some(bytes.to_vec()),
            "mapping_name" => upload.mapping_name = String::from_utf8_lossy(&bytes).trim().to_owned(),
            "skip_bad_rows" => upload.skip_bad_rows = &bytes[..] == b"true",
            _ => {}
        }
    }
    Ok(upload)
}

/// What an upload asks to import, or why it cannot be read (French, shown above the form).
async fn mapping_of(
    state: &AppState,
    caller: &Caller,
    upload: &Upload,
) -> Result<Result<(String, Mapping), String>, PageError> {
    Ok(match (&upload.mapping_file, upload.mapping_name.as_str()) {
        (Some(json), _) => match Mapping::from_json(json) {
            Ok(mapping) => Ok(("fichier joint".to_owned(), mapping)),
            Err(error) => Err(format!("Le fichier de correspondance ne se lit pas : {error}")),
        },
        (None, "") => Err("Choisissez une correspondance enregistrée, ou joignez son fichier.".into()),
        (None, name) => {
            let saved = import::saved_mappings(state, caller).await?;
            saved
                .into_iter()
                .find(|(saved, _)| saved == name)
                .ok_or_else(|| "Cette correspondance n'existe pas, ou plus.".into())
        }
    })
}

/// The dry run of an upload: its preview, and the confirmation form when there is something to
/// import.
pub async fn preview(
    State(state): State<AppState>,
    caller: Caller,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Html, PageError> {
    let multipart = multipart.map_err(|rejection| AppError::InvalidRequest(format!("multipart body: {rejection}")))?;
    let upload = read_upload(multipart).await?;
    let problem = match (&upload.file, mapping_of(&state, &caller, &upload).await?) {
        (None, _) => Err("Choisissez le fichier à importer.".to_owned()),
        (_, Err(problem)) => Err(problem),
        (Some(file), Ok((name, mapping))) => {
            match import::import_sheet(&state, &caller, file.clone(), mapping.clone(), true, upload.skip_bad_rows).await
            {
                Ok(report) => Ok((name, mapping, report)),
                Err(AppError::InvalidRequest(message)) => Err(message),
                Err(error) => return Err(error.into()),
            }
        }
    };
    let (mapping_name, mapping, report) = match problem {
        Ok(checked) => checked,
        Err(problem) => {
            let page = upload_page(&state, &caller, Some(&problem)).await?;
            return Ok(Html(StatusCode::UNPROCESSABLE_ENTITY, page));
        }
    };
    let file = upload.file.unwrap_or_default();
    let importable = report.events_new > 0 && (report.errors_total == 0 || upload.skip_bad_rows);
    let previewed =
        Previewed { file, mapping_name: mapping_name.clone(), mapping, skip_bad_rows: upload.skip_bad_rows };
    let ticket = importable.then(|| state.previews.keep(caller.actor.clone(), previewed));
    let main = html! {
        p { "Correspondance : " strong { (mapping_name) } ". Rien n'est encore enregistré." }
        (summary(&report, false))
        @if let Some(ticket) = ticket {
            form method="post" action="/import/confirmer" {
                (forms::csrf(caller.csrf.as_deref()))
                input type="hidden" name="ticket" value=(ticket);
                button type="submit" { "Confirmer l'import" }
            }
        } @else if report.errors_total > 0 {
            p { "Corrigez ces lignes dans le tableur, ou cochez « Importer les lignes correctes » pour laisser les
                 autres de côté, puis " a href="/import" { "recommencez" } "." }
        } @else {
            p { "Tout ce que contient ce fichier est déjà enregistré : il n'y a rien à importer. "
                a href="/import" { "Importer un autre fichier" } }
        }
        (errors(&report))
        (people(&report))
    };
    Ok(Html(StatusCode::OK, document(Some(&caller), Section::Import, "Aperçu de l'import", main)))
}

/// Imports the sheet a preview kept.
pub async fn confirm(State(state): State<AppState>, caller: Caller, body: Bytes) -> Result<Html, PageError> {
    let values = Values::parse(&body);
    let Some(previewed) = state.previews.take(&caller.actor, values.get("ticket")) else {
        let page =
            upload_page(&state, &caller, Some("Cet aperçu a expiré ou a déjà été importé : recommencez.")).await?;
        return Ok(Html(StatusCode::CONFLICT, page));
    };
    let report =
        import::import_sheet(&state, &caller, previewed.file, previewed.mapping, false, previewed.skip_bad_rows)
            .await?;
    let main = html! {
        div role="status" {
            p { strong { (french::count(report.events_new, "étape enregistrée", "étapes enregistrées")) }
                " pour " (french::count(report.people_new + report.people_existing, "personne", "personnes")) "." }
        }
        (summary(&report, true))
        (errors(&report))
        p { a href="/beneficiaires" { "Voir les bénéficiaires" } " · " a href="/import" { "Importer un autre fichier" } }
    };
    Ok(Html(StatusCode::OK, document(Some(&caller), Section::Import, "Import terminé", main)))
}

/// The counts of a dry run (`done` = false) or of an import.
fn summary(report: &ImportReport, done: bool) -> Markup {
    let new_events = if done { "Étapes enregistrées" } else { "Étapes à enregistrer" };
    html! {
        table.chiffres {
            caption { "Le fichier" }
            tbody {
                tr { th scope="row" { "Lignes lues" } td { (report.rows) } }
                tr { th scope="row" { "Personnes nouvelles" } td { (report.people_new) } }
                tr { th scope="row" { "Personnes déjà connues" } td { (report.people_existing) } }
                tr { th scope="row" { (new_events) } td { (report.events_new) } }
                tr { th scope="row" { "Étapes déjà enregistrées" } td { (report.events_already_there) } }
                tr { th scope="row" { "Lignes refusées" } td { (report.errors_total) } }
            }
        }
    }
}

/// Each refused row: where, what and why, as the user will look for it in the sheet.
fn errors(report: &ImportReport) -> Markup {
    html! {
        @if !report.errors.is_empty() {
            table #erreurs {
                caption { "Lignes refusées"
                    @if (report.errors.len() as u64) < report.errors_total {
                        " (les " (report.errors.len()) " premières sur " (report.errors_total) ")"
                    }
                }
                thead { tr { th scope="col" { "Ligne" } th scope="col" { "Colonne" } th scope="col" { "Valeur" }
                             th scope="col" { "Problème" } } }
                tbody {
                    @for error in &report.errors {
                        tr {
                            td { (error.row) }
                            td { (error.column.as_deref().unwrap_or("—")) }
                            td { (error.value.as_deref().unwrap_or("—")) }
                            td { (error.message) }
                        }
                    }
                }
            }
        }
    }
}

/// The first people of the sheet with the steps the import makes for them.
fn people(report: &ImportReport) -> Markup {
    html! {
        @if !report.preview.is_empty() {
            h2 { "Les premières personnes du fichier" }
            @for person in &report.preview {
                section {
                    h3 {
                        (person.name().unwrap_or_else(|| "Personne sans nom".into()))
                        " — " (if person.existing { "déjà connue" } else { "nouvelle" })
                    }
                    @if person.events.is_empty() {
                        p { "Rien de nouveau pour cette personne." }
                    } @else {
                        ul { @for event in &person.events {
                            li { (french::date(event.occurred_on)) " : " (event.kind.label()) }
                        } }
                    }
                }
            }
        }
    }
}
