//! `GET /api/openapi.json`: the OpenAPI 3.1 document of every route, generated from the handlers'
//! annotations and the request types themselves, so it cannot drift from the code unnoticed: a
//! test checks that every route of the access table is described, and schemathesis fuzzes the
//! running server from this document (SECURITY.md).

use axum::Json;
use serde::Serialize;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ObjectBuilder, RefOr, Schema, Type};
use utoipa::{Modify, OpenApi, ToSchema};

use parcours_projections::{GroupBy, PersonStatus};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Parcours",
        description = "An event-sourced tracker of integration pathways (CONTRACT.md). Every route but \
            /healthz, /readyz and /api/openapi.json needs `Authorization: Bearer <token>` or the web app's session.",
        license(name = "AGPL-3.0-or-later")
    ),
    paths(
        super::log::healthz,
        super::log::readyz,
        openapi,
        super::metrics::metrics,
        super::log::register,
        super::people::list,
        super::people::pathway,
        super::log::append_events,
        super::log::read_stream,
        super::people::audit,
        super::people::export,
        super::admin::erase,
        super::merge::merge,
        super::merge::unmerge,
        super::referrals::accept,
        super::referrals::decline,
        super::referrals::pending,
        super::log::read_log,
        super::live::live,
        super::backup::export,
        super::backup::export_keys,
        super::backup::export_parquet,
        super::figures::dashboard,
        super::figures::outcomes,
        super::figures::entries,
        super::esf::esf,
        super::reports::activity,
        super::reports::list,
        super::reports::stylesheet,
        super::published::publish,
        super::published::list,
        super::published::get,
        super::published::changes,
        super::structures::list,
        super::structures::put,
        super::imports::import,
        super::imports::list_mappings,
        super::imports::put_mapping,
        super::duplicates::list,
        super::admin::access_log,
        super::admin::tokens,
        super::admin::create_token,
        super::admin::revoke_token,
    ),
    components(schemas(ErrorBody)),
    modifiers(&BearerAuth),
    security(("bearer" = []))
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// Every error answer (CONTRACT §5).
#[derive(Serialize, ToSchema)]
pub struct ErrorBody {
    /// invalid_request, not_found, version_conflict, duplicate_id, payload_too_large, rule_violation,
    /// unauthorized, forbidden, unavailable.
    pub error: String,
    /// A sentence for a person (French for rule violations).
    pub message: String,
    /// With `rule_violation`: the rule's stable code.
    pub rule: Option<String>,
    /// With `rule_violation`: which event of the request.
    pub index: Option<u64>,
    /// With `version_conflict`.
    pub expected: Option<u64>,
    pub actual: Option<u64>,
}

/// The OpenAPI document.
#[utoipa::path(get, path = "/api/openapi.json", security(()), tag = "operations",
    responses((status = 200, description = "This document", content_type = "application/json")))]
pub async fn openapi() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}

/// A string restricted to the codes of a closed list.
fn codes(codes: impl IntoIterator<Item = &'static str>) -> RefOr<Schema> {
    ObjectBuilder::new().schema_type(Type::String).enum_values(Some(codes)).into()
}

pub fn group_by_schema() -> RefOr<Schema> {
    codes(GroupBy::ALL.iter().map(|by| by.code()))
}

pub fn person_status_schema() -> RefOr<Schema> {
    codes(PersonStatus::ALL.iter().map(|status| status.code()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access::policy::RULES;

    /// The document is valid OpenAPI 3.1 (it parses with an independent model of the
    /// specification), and every route of the access table (which the router test ties to the
    /// router) is described with its method, its parameters and its error answers.
    #[test]
    fn every_route_is_described_and_the_document_is_valid() {
        let json = serde_json::to_string(&ApiDoc::openapi()).expect("the document serialises");
        let spec: oas3::OpenApiV3Spec = serde_json::from_str(&json).expect("a valid OpenAPI 3.1 document");
        assert!(spec.openapi.starts_with("3.1"), "{}", spec.openapi);
        let paths = spec.paths.as_ref().expect("paths");
        for rule in RULES.iter().filter(|rule| !rule.is_page()) {
            let item = paths.get(rule.path).unwrap_or_else(|| panic!("{} is not described", rule.path));
            let operation = match rule.method {
                "GET" => item.get.as_ref(),
                "POST" => item.post.as_ref(),
                "PUT" => item.put.as_ref(),
                "DELETE" => item.delete.as_ref(),
                other => panic!("unexpected method {other}"),
            };
            let operation = operation.unwrap_or_else(|| panic!("{} {} is not described", rule.method, rule.path));
            let responses = operation.responses.as_ref().expect("responses");
            if !rule.is_public() {
                assert!(responses.contains_key("401"), "{} {} documents no 401", rule.method, rule.path);
            }
            for parameter in rule.path.split('/').filter_map(|part| part.strip_prefix('{')?.strip_suffix('}')) {
                let value = serde_json::to_value(&operation.parameters).unwrap_or_default();
                assert!(value.to_string().contains(&format!("\"{parameter}\"")), "{} lacks {parameter}", rule.path);
            }
        }
    }
}
