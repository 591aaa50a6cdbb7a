//! The ESF+ common indicators (CONTRACT §11), in JSON, CSV, XLSX or CSV for French Excel. Who
//! sees what is `app::disclosure`'s (CONTRACT §7).

use axum::extract::State;
use axum::response::Response;

use super::figures::{named, sheet_response, Format, PeriodParams};
use super::{csv_response, json_response, QueryOf};
use crate::app::esf::{self, EsfQuestion};
use crate::app::figures::period;
use crate::app::{AppError, Caller};
use crate::state::AppState;
use crate::workbook::esf_workbook;

/// The ESF+ common indicators of a period by gender: output indicators of the participants who
/// entered, immediate results of those who left, and in employment six months after leaving.
#[utoipa::path(get, path = "/api/stats/esf", params(PeriodParams), tag = "figures",
    responses((status = 200, description = "JSON; CSV with `format=csv`; XLSX with `format=xlsx` and CSV for French Excel with `format=csv-fr`, both with `Content-Disposition: attachment` naming the structure and the period"), (status = 400, description = "malformed request, unknown field or value (named)", body = super::openapi::ErrorBody), (status = 401, description = "no valid credential", body = super::openapi::ErrorBody), (status = 403, description = "outside the credential's rights", body = super::openapi::ErrorBody), (status = 503, description = "not available now; retry", body = super::openapi::ErrorBody)))]
pub async fn esf(
    State(state): State<AppState>,
    caller: Caller,
    QueryOf(query): QueryOf<PeriodParams>,
) -> Result<Response, AppError> {
    let period = period(state.today(), query.from, query.to)?;
    let indicators = esf::indicators(&state, &caller, EsfQuestion { period, structure: query.structure }).await?;
    if let Some(format) = query.format.sheet() {
        let (structure, _) = named(&state, indicators.structure.as_ref(), Vec::new()).await?;
        let workbook = esf_workbook(&indicators, &structure);
        return sheet_response(format, "Indicateurs FSE+", &structure, period, &workbook);
    }
    Ok(match query.format {
        Format::Csv => csv_response(indicators.to_csv()),
        _ => json_response(serde_json::to_vec(&indicators)?),
    })
}
