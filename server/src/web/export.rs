//! The signed history, downloaded from the person's page (`app::people::verifiable_history`, the file
//! `GET /api/beneficiaries/{id}/export` gives), and the French page that says how to check it
//! offline with `parcours verify-export` and which public key to pin.

use axum::extract::{Path, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use maud::html;

use super::layout::{document, security_headers, Html, Section};
use super::{person_id, PageError};
use crate::access::Caller;
use crate::app::auditing::history_key;
use crate::app::people::verifiable_history;
use crate::app::{blocking, AppError};
use crate::state::AppState;

/// The history as a file to keep: `historique-{id}.json`.
pub async fn download(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let stream = person_id(&id)?;
    let history = blocking(move || verifiable_history(&state, &caller, stream)).await?;
    let body = serde_json::to_vec_pretty(&crate::json::history_json(&history)).map_err(AppError::from)?;
    let mut response = (StatusCode::OK, body).into_response();
    let headers = response.headers_mut();
    security_headers(headers);
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    let disposition = format!("attachment; filename=\"historique-{stream}.json\"");
    if let Ok(disposition) = HeaderValue::from_str(&disposition) {
        headers.insert(header::CONTENT_DISPOSITION, disposition);
    }
    Ok(response)
}

/// How to check a downloaded history, with this server's public key.
pub async fn how_to_verify(State(state): State<AppState>, caller: Caller) -> Result<Html, PageError> {
    let store = state.store.clone();
    let key = tokio::task::spawn_blocking(move || history_key(&store))
        .await
        .map_err(|_| PageError::unavailable())?
        .map_err(AppError::from)?;
    let main = html! {
        p {
            "L'historique signé d'une personne est un fichier JSON qui contient chacune de ses étapes telles "
            "qu'elles ont été enregistrées, chaînées l'une à l'autre par leur empreinte (SHA-256), et la "
            "signature du serveur sur la dernière. Il se vérifie sans le serveur, sur n'importe quel poste où "
            "le programme " code { "parcours" } " est installé."
        }
        h2 { "Vérifier le fichier" }
        ol {
            li { "Téléchargez l'historique depuis la fiche de la personne (« Télécharger l'historique signé »)." }
            li {
                "Dans un terminal, lancez :"
                pre { code #commande { "parcours verify-export --public-key " (key) " historique-….json" } }
            }
            li {
                "Le programme répond " code { "intact" } " et le nombre d'étapes vérifiées quand le fichier est "
                "celui que le serveur a signé ; sinon il répond " code { "DAMAGED" } " et nomme la première étape "
                "modifiée, manquante ou déplacée (code de sortie 1)."
            }
        }
        h2 { "La clé publique de ce serveur" }
        p {
            "La clé à indiquer avec " code { "--public-key" } " est celle-ci ; notez-la dans votre rapport. "
            "Sans elle, la vérification prouve que le fichier n'a pas été modifié depuis sa signature, pas "
            "qu'il a été signé par ce serveur."
        }
        p { code #cle-publique { (key) } }
        p.discret { "La commande " code { "parcours verify" } " l'affiche aussi, sur le serveur." }
    };
    Ok(Html(StatusCode::OK, document(Some(&caller), Section::People, "Vérifier un historique signé", main)))
}
