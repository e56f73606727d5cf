//! The API's errors: a stable code from one enum, a message for people, and for
//! a 500 the cause, which the hygiene layer logs with the request id.

use std::error::Error;
use std::sync::Arc;

use axum::Json;
use axum::http::header::HeaderValue;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use domain::CodeError;
use domain::authenticator::AuthenticatorError;
use domain::recovery_codes::RecoveryCodeError;
use domain::sms_guard::SmsRefused;
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::{InternalCause, UNAVAILABLE, UnavailableCause, means_unavailable};
use crate::verification::VerifyError;

/// Every code an error body can carry; clients match on these, so a code once
/// released keeps its spelling.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ApiErrorCode {
    /// The body is not valid JSON or a field is missing or wrong; the message names it.
    InvalidRequest,
    /// No application in the catalogue has this id.
    UnknownApp,
    /// The e-mail address or the password is wrong.
    InvalidCredentials,
    /// Too many wrong passwords or codes; the message says when to try again.
    TooManyAttempts,
    /// Too many wrong passwords in a row: the password must be reset through
    /// the e-mail link ("Forgot password?") before it is accepted again.
    PasswordResetRequired,
    /// This version of the application cannot do two-step verification.
    TwoStepUnsupported,
    /// The account's e-mail address is not confirmed yet: no application may connect.
    EmailNotConfirmed,
    /// The challenge is unknown, expired or already used.
    ChallengeExpired,
    /// The account has not set up this verification method.
    MethodNotAvailable,
    /// One SMS a minute.
    ResendTooSoon,
    /// The SMS gateway failed.
    SmsNotSent,
    /// An SMS budget is full (per account, number, prefix, client or country);
    /// the message says when to try again.
    TooManyCodes,
    /// The number's country is not served, or its line cannot take SMS.
    SmsNotAllowed,
    /// A code is six digits.
    CodeMalformed,
    /// No code was sent for this challenge.
    CodeNotRequested,
    CodeExpired,
    CodeAlreadyUsed,
    CodeWrong,
    /// No token, or one that no longer holds.
    Unauthorized,
    /// Something went wrong on our side.
    Internal,
    /// The database cannot be reached for now; try again after `Retry-After` seconds.
    Unavailable,
    /// Too many requests at once; try again after `Retry-After` seconds.
    Overloaded,
    /// No such thing for this token, e.g. a command of another device.
    NotFound,
    /// The device has already answered this command.
    AlreadyAnswered,
    /// The account has been disabled by support: it cannot connect applications.
    AccountDisabled,
    /// The request's body did not arrive whole within the server's body-read
    /// timeout; the connection is closed.
    RequestTimeout,
}

impl ApiErrorCode {
    /// Every code, for the test that the OpenAPI document lists them all.
    pub const ALL: [Self; 26] = [
        Self::InvalidRequest,
        Self::UnknownApp,
        Self::InvalidCredentials,
        Self::TooManyAttempts,
        Self::PasswordResetRequired,
        Self::TwoStepUnsupported,
        Self::EmailNotConfirmed,
        Self::ChallengeExpired,
        Self::MethodNotAvailable,
        Self::ResendTooSoon,
        Self::SmsNotSent,
        Self::TooManyCodes,
        Self::SmsNotAllowed,
        Self::CodeMalformed,
        Self::CodeNotRequested,
        Self::CodeExpired,
        Self::CodeAlreadyUsed,
        Self::CodeWrong,
        Self::Unauthorized,
        Self::Internal,
        Self::Unavailable,
        Self::Overloaded,
        Self::NotFound,
        Self::AlreadyAnswered,
        Self::AccountDisabled,
        Self::RequestTimeout,
    ];
}

impl From<&VerifyError> for ApiErrorCode {
    fn from(error: &VerifyError) -> Self {
        match error {
            VerifyError::Code(CodeError::Malformed)
            | VerifyError::RecoveryCode(RecoveryCodeError::Malformed) => Self::CodeMalformed,
            VerifyError::Code(CodeError::NotRequested) => Self::CodeNotRequested,
            VerifyError::Code(CodeError::Expired) => Self::CodeExpired,
            VerifyError::Code(CodeError::TooManyAttempts)
            | VerifyError::Authenticator(AuthenticatorError::TooManyAttempts { .. })
            | VerifyError::Locked(_) => Self::TooManyAttempts,
            VerifyError::Code(CodeError::AlreadyUsed)
            | VerifyError::Authenticator(AuthenticatorError::AlreadyUsed) => Self::CodeAlreadyUsed,
            VerifyError::Code(CodeError::Wrong { .. })
            | VerifyError::Authenticator(AuthenticatorError::WrongCode)
            | VerifyError::RecoveryCode(RecoveryCodeError::WrongOrUsed) => Self::CodeWrong,
            VerifyError::Code(CodeError::ResendTooSoon { .. }) => Self::ResendTooSoon,
            VerifyError::Authenticator(AuthenticatorError::RequiresSms)
            | VerifyError::MethodNotAvailable => Self::MethodNotAvailable,
            VerifyError::SmsNotSent => Self::SmsNotSent,
            VerifyError::SmsRefused(SmsRefused::TooManyCodes { .. }) => Self::TooManyCodes,
            VerifyError::SmsRefused(SmsRefused::CountryNotAllowed | SmsRefused::CannotTakeSms) => {
                Self::SmsNotAllowed
            }
            VerifyError::Internal(_) => Self::Internal,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ApiErrorBody {
    /// A stable code.
    pub error: ApiErrorCode,
    /// What went wrong, for people.
    pub message: String,
    /// Where to update an application that cannot connect.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub downloads_url: Option<String>,
}

#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    pub(super) body: ApiErrorBody,
    /// Only for a 500 or a 503: what went wrong, for the log.
    cause: Option<Arc<dyn Error + Send + Sync>>,
    /// Seconds until a wait ends, sent as `Retry-After` (a 429 whose wait is known).
    retry_after_seconds: Option<i64>,
}

impl ApiError {
    pub fn new(status: StatusCode, error: ApiErrorCode, message: impl Into<String>) -> Self {
        Self {
            status,
            body: ApiErrorBody {
                error,
                message: message.into(),
                downloads_url: None,
            },
            cause: None,
            retry_after_seconds: None,
        }
    }

    /// Tells the client, in `Retry-After`, when the wait ends.
    pub fn with_retry_after(self, seconds: i64) -> Self {
        Self {
            retry_after_seconds: Some(seconds),
            ..self
        }
    }

    /// A refused second step, with `Retry-After` wherever the wait is known:
    /// the account-wide lock (until its end at `now`), a full SMS budget, the
    /// minute between two SMS, an authenticator step's wrong codes.
    pub fn from_verify(error: VerifyError, now: i64) -> Self {
        let retry_after = match &error {
            VerifyError::Locked(locked) => Some(locked.retry_after_seconds(now)),
            VerifyError::SmsRefused(SmsRefused::TooManyCodes {
                retry_after_seconds,
            })
            | VerifyError::Authenticator(AuthenticatorError::TooManyAttempts {
                retry_after_seconds,
            }) => Some(*retry_after_seconds),
            VerifyError::Code(CodeError::ResendTooSoon { wait_seconds }) => Some(*wait_seconds),
            _ => None,
        };
        let refused = Self::from(error);
        match retry_after {
            Some(seconds) if refused.status == StatusCode::TOO_MANY_REQUESTS => {
                refused.with_retry_after(seconds)
            }
            _ => refused,
        }
    }

    pub fn invalid_request(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            ApiErrorCode::InvalidRequest,
            message,
        )
    }

    /// A 500, or a 503 `unavailable` when the cause means the database cannot be reached.
    fn internal(cause: Arc<dyn Error + Send + Sync>) -> Self {
        if means_unavailable(&*cause) {
            return Self {
                cause: Some(cause),
                ..Self::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    ApiErrorCode::Unavailable,
                    UNAVAILABLE,
                )
            };
        }
        Self {
            cause: Some(cause),
            ..Self::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                ApiErrorCode::Internal,
                "Something went wrong on our side. Try again later.",
            )
        }
    }
}

impl From<storage::StoreError> for ApiError {
    fn from(error: storage::StoreError) -> Self {
        Self::internal(Arc::new(error))
    }
}

impl From<crate::WebError> for ApiError {
    fn from(error: crate::WebError) -> Self {
        match error {
            crate::WebError::Internal(cause) | crate::WebError::Unavailable(cause) => {
                Self::internal(cause)
            }
            crate::WebError::Busy(busy) => busy.into(),
            other => Self::internal(Arc::new(other)),
        }
    }
}

impl From<crate::Overloaded> for ApiError {
    fn from(busy: crate::Overloaded) -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            ApiErrorCode::Overloaded,
            busy.to_string(),
        )
    }
}

impl From<VerifyError> for ApiError {
    fn from(error: VerifyError) -> Self {
        let status = match &error {
            VerifyError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            VerifyError::Code(CodeError::Malformed)
            | VerifyError::RecoveryCode(RecoveryCodeError::Malformed)
            | VerifyError::MethodNotAvailable => StatusCode::BAD_REQUEST,
            VerifyError::Code(CodeError::ResendTooSoon { .. } | CodeError::TooManyAttempts)
            | VerifyError::Authenticator(AuthenticatorError::TooManyAttempts { .. })
            | VerifyError::Locked(_) => StatusCode::TOO_MANY_REQUESTS,
            VerifyError::SmsNotSent => StatusCode::SERVICE_UNAVAILABLE,
            VerifyError::SmsRefused(SmsRefused::TooManyCodes { .. }) => {
                StatusCode::TOO_MANY_REQUESTS
            }
            VerifyError::SmsRefused(_) => StatusCode::UNPROCESSABLE_ENTITY,
            _ => StatusCode::UNAUTHORIZED,
        };
        match error {
            VerifyError::Internal(cause) => cause.into(),
            error => Self::new(status, ApiErrorCode::from(&error), error.to_string()),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let unavailable = self.body.error == ApiErrorCode::Unavailable;
        let overloaded = self.body.error == ApiErrorCode::Overloaded;
        let mut response = (self.status, Json(self.body)).into_response();
        if overloaded {
            crate::error::set_retry_after(&mut response);
        }
        if let Some(seconds) = self.retry_after_seconds {
            // Whole seconds, never 0: "0" would invite the client back at once.
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds.max(1)));
        }
        match self.cause {
            Some(cause) if unavailable => {
                crate::error::set_retry_after(&mut response);
                response.extensions_mut().insert(UnavailableCause(cause));
            }
            Some(cause) => {
                response.extensions_mut().insert(InternalCause(cause));
            }
            None => {}
        }
        response
    }
}
