//! Errors that end a request, each with one status and one message a person
//! understands. Internal causes keep their whole chain of sources, which the
//! hygiene layer logs with the request id; people see only the id. A cause that
//! means the database cannot be reached is a 503 with `Retry-After`, not a 500:
//! the same request will work once the database is back.

use std::error::Error;
use std::fmt;
use std::sync::Arc;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};

use crate::chrome::error_page;
use crate::password_pool::Overloaded;

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
    #[error("{UNAVAILABLE}")]
    Unavailable(#[source] Arc<dyn Error + Send + Sync>),
    /// Two-step set-up and connecting applications wait for a confirmed address.
    #[error(transparent)]
    EmailNotConfirmed(#[from] domain::email_confirmation::AddressNotConfirmed),
    /// The password-hashing queue is full; nothing was checked or changed.
    #[error(transparent)]
    Busy(#[from] Overloaded),
}

/// What a page and the API say while the database cannot be reached.
pub const UNAVAILABLE: &str = "The service is unavailable. Try again in a moment.";

/// Seconds a client is asked to wait before it tries again: a pool's connect
/// timeout, about the time the instance needs to notice the database is back.
pub const RETRY_AFTER_SECONDS: u32 = 5;

/// Whether `cause`, or any error it came from, says the database could not be
/// reached (`StoreError::is_unavailable`).
pub fn means_unavailable(cause: &(dyn Error + 'static)) -> bool {
    let mut next = Some(cause);
    while let Some(error) = next {
        if let Some(store) = error.downcast_ref::<storage::StoreError>() {
            return store.is_unavailable();
        }
        if let Some(database) = error.downcast_ref::<storage::DatabaseError>() {
            return database.is_unreachable();
        }
        next = error.source();
    }
    false
}

/// `Retry-After` on a 503.
pub fn set_retry_after(response: &mut Response) {
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER_SECONDS));
}

impl WebError {
    /// Any error, or a message where there is none, as the cause of a 500, or
    /// of a 503 when it means the database cannot be reached.
    pub fn internal(cause: impl Into<Box<dyn Error + Send + Sync>>) -> Self {
        let cause: Arc<dyn Error + Send + Sync> = Arc::from(cause.into());
        if means_unavailable(&*cause) {
            Self::Unavailable(cause)
        } else {
            Self::Internal(cause)
        }
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
            Self::EmailNotConfirmed(ref refusal) => error_page(
                StatusCode::FORBIDDEN,
                "Confirm your e-mail address",
                &refusal.to_string(),
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
            Self::Unavailable(cause) => {
                let mut response = error_page(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "Service unavailable",
                    UNAVAILABLE,
                    None,
                );
                set_retry_after(&mut response);
                response.extensions_mut().insert(UnavailableCause(cause));
                response
            }
            Self::Busy(busy) => {
                let mut response = error_page(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "Service busy",
                    &busy.to_string(),
                    None,
                );
                set_retry_after(&mut response);
                response
            }
        }
    }
}

/// Carried from a failed handler to the hygiene layer, which logs it beside the request id.
#[derive(Clone)]
pub struct InternalCause(pub Arc<dyn Error + Send + Sync>);

/// Why the database could not be reached, for the hygiene layer's log; the
/// response already says all a person needs.
#[derive(Clone)]
pub struct UnavailableCause(pub Arc<dyn Error + Send + Sync>);

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
