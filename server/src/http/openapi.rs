//! The OpenAPI description of the HTTP API, generated from the handlers,
//! with the request bodies described by the event contract's own schemas.

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::routing::get;
use crossdock::event::contract;
use serde_json::{Value, json};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::http::AppState;
use crate::services::Services;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Crossdock API",
        description = "Ingest of business events and exceptions (CloudEvents 1.0) into the Crossdock console."
    ),
    paths(crate::http::ingest::receive),
    components(schemas(crate::http::ingest::IngestAnswer, crate::http::ingest::EventAnswer, crate::http::ingest::BatchAnswer, crate::http::problem::Problem, crate::http::problem::ProblemItem)),
    modifiers(&ApiKey),
    tags((name = "ingest", description = "Events from the integration estate"))
)]
pub struct ApiDoc;

struct ApiKey;

impl Modify for ApiKey {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "api_key",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("The API key of a registered source"))
                    .build(),
            ),
        );
    }
}

/// The document, with the event and batch schemas of the contract and the
/// binary mode's `ce-*` headers.
pub fn document(max_batch: usize) -> Value {
    let mut doc = serde_json::to_value(ApiDoc::openapi()).unwrap_or_else(|_| json!({}));
    doc["components"]["schemas"]["CloudEvent"] = contract::any_event_schema();
    let operation = &mut doc["paths"]["/api/v1/events"]["post"];
    operation["requestBody"]["content"] = json!({
        "application/cloudevents+json": {"schema": {"$ref": "#/components/schemas/CloudEvent"}},
        "application/cloudevents-batch+json": {"schema": {
            "type": "array", "minItems": 1, "maxItems": max_batch,
            "description": "Events, each a CloudEvent of the contract; one that is not is answered \
                            `rejected` in its place while the others are committed.",
        }},
    });
    let attribute = |name: &str, about: &str| {
        json!({"name": format!("ce-{name}"), "in": "header", "required": false,
               "description": format!("Binary mode: the event's `{name}` ({about}), percent-encoded where not ASCII."),
               "schema": {"type": "string"}})
    };
    operation["parameters"] = json!([
        attribute("specversion", "`1.0`"),
        attribute("id", "unique per source"),
        attribute("source", "under one of the key's prefixes"),
        attribute("type", "an event type of the contract"),
        attribute("time", "RFC 3339"),
        attribute("subject", "optional"),
        attribute("correlationid", "optional"),
        attribute("traceparent", "optional"),
    ]);
    doc
}

pub fn router() -> Router<AppState> {
    Router::new().route(
        "/api/openapi.json",
        get(|State(services): State<Services>| async move { Json(document(services.ingest_settings().max_batch)) }),
    )
}
