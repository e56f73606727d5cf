//! The JSON API for the company's client applications (`/api/v1`).
//!
//! Every error body is `{"error": <stable code>, "message": <for people>}`, the
//! codes one enum (`error.rs`) that the document lists; no input produces a 500. The OpenAPI document is generated from the handlers'
//! annotations by the same router that serves them, so it cannot miss a route.

mod bearer;
mod connect;
pub(crate) mod devices;
mod error;
mod me;

pub use connect::app_name;
pub use error::{ApiError, ApiErrorBody, ApiErrorCode};

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::response::{IntoResponse, Response};
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use domain::apps::AppCatalog;

#[derive(OpenApi)]
#[openapi(info(
    title = "twostep client application API",
    version = "1",
    description = "How the company's applications connect to an account, and how an Anti-Theft device fetches and answers its owner's commands. Applications that cannot do two-step verification are refused when the account has it on."
))]
struct ApiDoc;

/// The API's routes and, built from the same list, its OpenAPI document, which
/// lists the ids of this portal's application catalogue.
pub fn router(apps: &AppCatalog) -> (axum::Router<AppState>, utoipa::openapi::OpenApi) {
    let (router, mut document) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(connect::connect))
        .routes(routes!(connect::send_sms))
        .routes(routes!(connect::verify))
        .routes(routes!(me::me))
        .routes(routes!(devices::commands))
        .routes(routes!(devices::answer))
        .routes(routes!(openapi_document))
        .split_for_parts();
    state_app_ids(&mut document, apps);
    state_visible_text(&mut document);
    (router, document)
}

/// `ConnectRequest.device_name` and `platform` refuse control and format
/// characters (`connect::visible_text`); the pattern that says so is built
/// from the core's table of format characters, so the two cannot drift apart.
fn state_visible_text(document: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::{RefOr, Schema};
    let pattern = visible_text_pattern();
    let Some(RefOr::T(Schema::Object(request))) = document
        .components
        .as_mut()
        .and_then(|components| components.schemas.get_mut("ConnectRequest"))
    else {
        return;
    };
    for field in ["device_name", "platform"] {
        if let Some(RefOr::T(Schema::Object(text))) = request.properties.get_mut(field) {
            text.pattern = Some(pattern.clone());
        }
    }
}

/// Not only white space, and no control or format character anywhere. Code
/// points above the BMP stand in the class as themselves: `\u{…}` is not read
/// alike by every regex dialect a schema tool may use.
fn visible_text_pattern() -> String {
    let mut class = String::from(r"\x00-\x1f\x7f-\x9f");
    for (first, last) in domain::text::format_character_ranges() {
        for end in [first, last] {
            match char::from_u32(*end) {
                Some(c) if *end > 0xFFFF => class.push(c),
                _ => class.push_str(&format!(r"\u{end:04x}")),
            }
            if first == last {
                break;
            }
            if end == first {
                class.push('-');
            }
        }
    }
    format!(r"^(?![\s\S]*[{class}])(?=[\s\S]*\S)")
}

/// `ConnectRequest.app_id` is one of the catalogue's ids (another is
/// `unknown_app`); the catalogue is configuration, so the ids are added here.
fn state_app_ids(document: &mut utoipa::openapi::OpenApi, apps: &AppCatalog) {
    use utoipa::openapi::{RefOr, Schema};
    let app_id = document
        .components
        .as_mut()
        .and_then(|components| components.schemas.get_mut("ConnectRequest"))
        .and_then(|schema| match schema {
            RefOr::T(Schema::Object(object)) => object.properties.get_mut("app_id"),
            _ => None,
        });
    if let Some(RefOr::T(Schema::Object(app_id))) = app_id {
        app_id.enum_values = Some(
            apps.apps()
                .iter()
                .map(|app| serde_json::Value::from(app.id.as_str()))
                .collect(),
        );
    }
}

/// Served from a copy made at start-up; see `router`.
#[derive(Clone)]
pub struct OpenApiJson(pub std::sync::Arc<String>);

/// This document.
#[utoipa::path(get, path = "/api/v1/openapi.json", tag = "meta", responses((status = 200, description = "The OpenAPI 3 document of this API")))]
async fn openapi_document(axum::Extension(document): axum::Extension<OpenApiJson>) -> Response {
    (
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        document.0.as_str().to_owned(),
    )
        .into_response()
}

/// A request's JSON body; a body that is not JSON, or misses or mistypes a
/// field, is refused with `invalid_request` naming what is wrong.
pub struct JsonBody<T>(pub T);

impl<S: Send + Sync, T: serde::de::DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = Response;

    async fn from_request(request: Request, state: &S) -> Result<Self, Response> {
        let body = Bytes::from_request(request, state)
            .await
            .map_err(IntoResponse::into_response)?;
        parse_json(&body)
            .map(JsonBody)
            .map_err(IntoResponse::into_response)
    }
}

/// Parses a JSON body, naming the missing or malformed field in the error.
fn parse_json<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(body).map_err(|error| {
        let message = match error.classify() {
            serde_json::error::Category::Data => {
                format!("The request body is missing a field or has a wrong one: {error}")
            }
            _ => format!("The request body is not valid JSON: {error}"),
        };
        ApiError::invalid_request(message)
    })
}
