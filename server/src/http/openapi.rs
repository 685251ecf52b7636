//! The OpenAPI description of the HTTP API, generated from the handlers,
//! with the request bodies described by the event contract's own schemas.

use axum::Json;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use crossdock::event::{EventType, contract, reference};
use serde_json::{Value, json};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::http::AppState;
use crate::http::ingest::DRY_RUN;
use crate::http::problem::Problem;
use crate::services::Services;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Crossdock API",
        description = "Ingest of business events and exceptions (CloudEvents 1.0) into the Crossdock console."
    ),
    paths(crate::http::ingest::receive, schema_list, schema_of),
    components(schemas(crate::http::ingest::IngestAnswer, crate::http::ingest::EventAnswer, crate::http::ingest::BatchAnswer, crate::http::ingest::ForecastAnswer, crate::http::ingest::AnswerStatus, crate::http::ingest::ExceptionOutcome, crate::http::problem::Problem, crate::http::problem::ProblemItem)),
    modifiers(&ApiKey),
    tags(
        (name = "ingest", description = "Events from the integration estate"),
        (name = "contract", description = "The event contract's JSON Schemas"),
    )
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
    // One schema per type, and an event is one of them, told apart by `type`.
    let mut one_of = Vec::new();
    let mut mapping = serde_json::Map::new();
    for t in contract::event_types() {
        let path = format!("#/components/schemas/{t}");
        doc["components"]["schemas"][t.as_str()] = contract::json_event_schema(t);
        one_of.push(json!({"$ref": path}));
        mapping.insert(t.as_str().into(), json!(path));
    }
    doc["components"]["schemas"]["CloudEvent"] =
        json!({"oneOf": one_of, "discriminator": {"propertyName": "type", "mapping": mapping}});
    let operation = &mut doc["paths"]["/api/v1/events"]["post"];
    operation["requestBody"]["content"] = json!({
        "application/cloudevents+json": {"schema": {"$ref": "#/components/schemas/CloudEvent"}},
        "application/cloudevents-batch+json": {"schema": {
            "type": "array", "minItems": 1, "maxItems": max_batch,
            "description": "Events, each a CloudEvent of the contract (`#/components/schemas/CloudEvent`); \
                            one that is not is answered `rejected` in its place while the others are \
                            committed, so the items are not held to that schema here.",
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
        json!({"name": DRY_RUN, "in": "header", "required": false,
               "description": "`true`: check the events and answer what each would do (`forecast`), storing nothing.",
               "schema": {"type": "string", "enum": ["true", "false"]}}),
    ]);
    doc
}

/// `GET /api/v1/schemas`: every type a sender may send, with the address
/// of its schema.
#[utoipa::path(
    get,
    path = "/api/v1/schemas",
    tag = "contract",
    description = "Every event type a source may send, each with the address of its JSON Schema.",
    responses((status = 200, description = "`{\"schemas\": [{\"type\": …, \"href\": …}]}`", body = Object)),
)]
pub(crate) async fn schema_list() -> Json<Value> {
    let schemas: Vec<Value> =
        contract::event_types().map(|t| json!({"type": t.as_str(), "href": format!("/api/v1/schemas/{t}")})).collect();
    Json(json!({ "schemas": schemas }))
}

/// `GET /api/v1/schemas/<type>`: the JSON Schema (2020-12) of one event of
/// that type.
#[utoipa::path(
    get,
    path = "/api/v1/schemas/{event_type}",
    tag = "contract",
    description = "The JSON Schema (2020-12) of one whole event of a type, with an example.",
    params(("event_type" = String, Path, description = "An event type, e.g. `exception.partial_receipt`")),
    responses(
        (status = 200, description = "The schema", body = Object, content_type = "application/schema+json"),
        (status = 404, description = "Not an event type a source may send", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub(crate) async fn schema_of(Path(name): Path<String>) -> Response {
    match contract::event_types().find(|t: &EventType| t.as_str() == name) {
        Some(t) => {
            ([(header::CONTENT_TYPE, "application/schema+json")], Json(reference::published_schema(t))).into_response()
        }
        None => Problem::new(StatusCode::NOT_FOUND, "/problems/not-found", "No such event type")
            .detail(format!("`{name}` is not an event type a source may send; GET /api/v1/schemas lists them"))
            .into_response(),
    }
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/api/openapi.json",
            get(|State(services): State<Services>| async move { Json(document(services.ingest_settings().max_batch)) }),
        )
        .route("/api/v1/schemas", get(schema_list))
        .route("/api/v1/schemas/{event_type}", get(schema_of))
}
