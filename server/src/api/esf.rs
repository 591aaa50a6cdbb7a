//! The ESF+ common indicators (CONTRACT §11), in JSON or CSV. Who sees what is
//! `app::disclosure`'s (CONTRACT §7); the XLSX of `format=xlsx` comes with the writer of the
//! other formats.

use axum::extract::State;
use axum::response::Response;
use parcours_core::vocabulary::{Date, Slug};
use serde::Deserialize;

use super::figures::Format;
use super::{csv_response, json_response, QueryOf};
use crate::app::esf::{self, EsfQuestion};
use crate::app::figures::period;
use crate::app::{AppError, Caller};
use crate::state::AppState;

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct EsfParams {
    #[param(value_type = Option<String>, format = Date)]
    from: Option<Date>,
    #[param(value_type = Option<String>, format = Date)]
    to: Option<Date>,
    #[param(value_type = Option<String>)]
    structure: Option<Slug>,
    #[serde(default)]
    #[param(inline)]
    format: Format,
}

/// The ESF+ common indicators of a period by gender: output indicators of the participants who
/// entered, immediate results of those who left, and in employment six months after leaving.
#[utoipa::path(get, path = "/api/stats/esf", params(EsfParams), tag = "figures",
    responses((status = 200, description = "JSON, or CSV with `format=csv`"), (status = 400, description = "malformed request, unknown field or value (named)", body = super::openapi::ErrorBody), (status = 401, description = "no valid credential", body = super::openapi::ErrorBody), (status = 403, description = "outside the credential's rights", body = super::openapi::ErrorBody), (status = 503, description = "not available now; retry", body = super::openapi::ErrorBody)))]
pub async fn esf(
    State(state): State<AppState>,
    caller: Caller,
    QueryOf(query): QueryOf<EsfParams>,
) -> Result<Response, AppError> {
    let period = period(state.today(), query.from, query.to)?;
    let indicators = esf::indicators(&state, &caller, EsfQuestion { period, structure: query.structure }).await?;
    Ok(match query.format {
        Format::Json => json_response(serde_json::to_vec(&indicators)?),
        Format::Csv => csv_response(indicators.to_csv()),
    })
}
