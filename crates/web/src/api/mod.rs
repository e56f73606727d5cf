//! The JSON API for the company's client applications (`/api/v1`).
//!
//! Every error body is `{"error": <stable code>, "message": <for people>}`; no
//! input produces a 500. The OpenAPI document is generated from the handlers'
//! annotations by the same router that serves them, so it cannot miss a route.

mod connect;

pub use connect::app_name;
mod me;

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::OpenApi;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::verification::VerifyError;

#[derive(OpenApi)]
#[openapi(info(
    title = "twostep client application API",
    version = "1",
    description = "How the company's applications connect to an account. Applications that cannot do two-step verification are refused when the account has it on."
))]
struct ApiDoc;

/// The API's routes and, built from the same list, its OpenAPI document.
pub fn router() -> (axum::Router<AppState>, utoipa::openapi::OpenApi) {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(connect::connect))
        .routes(routes!(connect::send_sms))
        .routes(routes!(connect::verify))
        .routes(routes!(me::me))
        .routes(routes!(openapi_document))
        .split_for_parts()
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

#[derive(Debug, Serialize, ToSchema)]
pub struct ApiErrorBody {
    /// A stable code: `invalid_request`, `unknown_app`, `invalid_credentials`, `two_step_unsupported`, `challenge_expired`, `code_wrong`, …
    pub error: &'static str,
    /// What went wrong, for people.
    pub message: String,
    /// Where to update an application that cannot connect.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub downloads_url: Option<String>,
}

#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    body: ApiErrorBody,
}

impl ApiError {
    pub fn new(status: StatusCode, error: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            body: ApiErrorBody {
                error,
                message: message.into(),
                downloads_url: None,
            },
        }
    }

    pub fn invalid_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_request", message)
    }

    fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!(%cause, "internal error in the API");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "Something went wrong on our side. Try again later.",
        )
    }
}

impl From<storage::StoreError> for ApiError {
    fn from(error: storage::StoreError) -> Self {
        Self::internal(error)
    }
}

impl From<crate::WebError> for ApiError {
    fn from(error: crate::WebError) -> Self {
        Self::internal(error)
    }
}

impl From<VerifyError> for ApiError {
    fn from(error: VerifyError) -> Self {
        let status = match &error {
            VerifyError::Internal(cause) => return Self::internal(cause),
            VerifyError::Code(domain::CodeError::Malformed) | VerifyError::MethodNotAvailable => {
                StatusCode::BAD_REQUEST
            }
            VerifyError::Code(
                domain::CodeError::ResendTooSoon { .. } | domain::CodeError::TooManyAttempts,
            )
            | VerifyError::Authenticator(
                domain::authenticator::AuthenticatorError::TooManyAttempts { .. },
            ) => StatusCode::TOO_MANY_REQUESTS,
            VerifyError::SmsNotSent => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::UNAUTHORIZED,
        };
        Self::new(status, error.api_code(), error.to_string())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(self.body)).into_response()
    }
}

/// Parses a JSON body, naming the missing or malformed field in the error.
pub fn parse_json<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
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
