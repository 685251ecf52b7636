//! The OpenAPI description of the HTTP API, generated from the handlers.

use axum::Json;
use axum::Router;
use axum::routing::get;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::http::AppState;

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

pub fn router() -> Router<AppState> {
    Router::new().route("/api/openapi.json", get(|| async { Json(ApiDoc::openapi()) }))
}
