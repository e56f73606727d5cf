//! Errors that end a request, each with one status and one message a person
//! understands. Internal causes keep their whole chain of sources, which the
//! hygiene layer logs with the request id; people see only the id.

use std::error::Error;
use std::fmt;
use std::sync::Arc;

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
    Internal(#[source] Arc<dyn Error + Send + Sync>),
}

impl WebError {
    /// Any error, or a message where there is none, as the cause of a 500.
    pub fn internal(cause: impl Into<Box<dyn Error + Send + Sync>>) -> Self {
        Self::Internal(Arc::from(cause.into()))
    }
}

impl From<storage::StoreError> for WebError {
    fn from(error: storage::StoreError) -> Self {
        Self::internal(error)
    }
}

impl From<askama::Error> for WebError {
    fn from(error: askama::Error) -> Self {
        Self::internal(error)
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
pub struct InternalCause(pub Arc<dyn Error + Send + Sync>);

/// An error and its sources on one line, `a: b: c`, as an operator reads them.
/// A source whose words its parent already ends with (a driver error that
/// repeats the server's message) is not said twice.
pub struct ErrorChain<'a>(pub &'a (dyn Error + 'static));

impl fmt::Display for ErrorChain<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut said = self.0.to_string();
        f.write_str(&said)?;
        let mut next = self.0.source();
        while let Some(error) = next {
            let text = error.to_string();
            if !said.ends_with(&text) {
                write!(f, ": {text}")?;
            }
            said = text;
            next = error.source();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("cannot open the database")]
    struct Outer(#[source] Middle);

    #[derive(Debug, thiserror::Error)]
    #[error("error returned from database: {0}")]
    struct Middle(#[source] Leaf);

    #[derive(Debug, thiserror::Error)]
    #[error("database \"x\" does not exist")]
    struct Leaf;

    #[test]
    fn a_chain_reads_as_one_line_without_saying_a_cause_twice() {
        assert_eq!(
            ErrorChain(&Outer(Middle(Leaf))).to_string(),
            "cannot open the database: error returned from database: database \"x\" does not exist"
        );
    }

    #[test]
    fn an_internal_error_keeps_its_cause_as_its_source() {
        let error = WebError::internal(Outer(Middle(Leaf)));
        let cause = error.source().expect("the cause");
        assert_eq!(
            ErrorChain(cause).to_string(),
            "cannot open the database: error returned from database: database \"x\" does not exist"
        );
    }
}
