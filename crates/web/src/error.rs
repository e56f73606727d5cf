//! Errors that end a request, each with one status and one message a person
//! understands. Internal causes are logged with the request id, never shown.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};

use crate::chrome::error_page;

#[derive(Debug, thiserror::Error)]
pub enum WebError {
    #[error("Sign in to continue.")]
    SignInRequired,
    #[error(
        "This form has expired or did not come from this site. Go back, reload the page and try again."
    )]
    CsrfRejected,
    #[error("Enter your password again to continue.")]
    PasswordConfirmationRequired { restart: String },
    #[error("This page doesn't exist.")]
    NotFound,
    #[error("{0}")]
    BadRequest(String),
    #[error("Something went wrong on our side.")]
    Internal(String),
}

impl WebError {
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        Self::Internal(cause.to_string())
    }
}

impl From<storage::StoreError> for WebError {
    fn from(error: storage::StoreError) -> Self {
        Self::internal(format!("store: {error}"))
    }
}

impl From<askama::Error> for WebError {
    fn from(error: askama::Error) -> Self {
        Self::internal(format!("template: {error}"))
    }
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        match self {
            Self::SignInRequired => Redirect::to("/sign-in").into_response(),
            Self::PasswordConfirmationRequired { restart } => {
                Redirect::to(&restart).into_response()
            }
            Self::CsrfRejected => error_page(
                StatusCode::FORBIDDEN,
                "Request refused",
                &self.to_string(),
                None,
            ),
            Self::NotFound => {
                error_page(StatusCode::NOT_FOUND, "Not found", &self.to_string(), None)
            }
            Self::BadRequest(ref message) => error_page(
                StatusCode::BAD_REQUEST,
                "Something is missing",
                message,
                None,
            ),
            Self::Internal(cause) => {
                // The request id is added by the hygiene layer, which also logs the cause.
                let mut response = error_page(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Something went wrong",
                    "Something went wrong on our side. Please try again in a moment.",
                    None,
                );
                response.extensions_mut().insert(InternalCause(cause));
                response
            }
        }
    }
}

/// Carried from a failed handler to the hygiene layer, which logs it beside the request id.
#[derive(Clone)]
pub struct InternalCause(pub String);
