//! The closed sets label values come from: results, methods and limits as enums,
//! so that a label can only ever hold one of the words listed here — never an
//! address, a number or anything else a person typed.

use domain::CodeError;
use domain::Method;
use domain::authenticator::AuthenticatorError;
use domain::recovery_codes::RecoveryCodeError;

use super::Metrics;
use crate::verification::VerifyError;

/// How a password step (sign-in page or API) ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignInResult {
    /// The password was right; a second step may follow.
    Accepted,
    WrongPassword,
    /// Refused unchecked: too many wrong passwords for this address.
    Locked,
}

impl SignInResult {
    fn label(self) -> &'static str {
        match self {
            Self::Accepted => "accepted",
            Self::WrongPassword => "wrong_password",
            Self::Locked => "locked",
        }
    }
}

/// Whether a message left for the gateway or the mail server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    Sent,
    Failed,
}

impl Delivery {
    pub fn of<T, E>(result: &Result<T, E>) -> Self {
        if result.is_ok() {
            Self::Sent
        } else {
            Self::Failed
        }
    }

    fn label(self) -> &'static str {
        match self {
            Self::Sent => "sent",
            Self::Failed => "failed",
        }
    }
}

/// The limits an attempt can run into.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    /// Wrong passwords: ten per address and client in 15 minutes, or the
    /// address locked after a hundred in a row.
    FailedPasswords,
    /// Five wrong entries of one SMS code.
    SmsCodeEntries,
    /// Three wrong authenticator codes per step.
    AuthenticatorAttempts,
    /// One SMS a minute.
    SmsResend,
    /// Every place in the password-hashing queue taken: answered 503.
    HashQueue,
    /// A budget full (`domain::budgets::Rule`).
    Budget(domain::budgets::Rule),
    /// SMS to a calling code held by the conversion guard.
    SmsConversionHold,
    /// An SMS refused for its country or its kind of line.
    SmsDestination,
    /// Ten wrong second-step codes in a row: every method waits.
    SecondStepLock,
}

impl Limit {
    fn label(self) -> &'static str {
        match self {
            Self::FailedPasswords => "failed_passwords",
            Self::SmsCodeEntries => "sms_code_entries",
            Self::AuthenticatorAttempts => "authenticator_attempts",
            Self::SmsResend => "sms_resend",
            Self::HashQueue => "hash_queue",
            Self::Budget(rule) => rule.as_str(),
            Self::SmsConversionHold => "sms_conversion_hold",
            Self::SmsDestination => "sms_destination",
            Self::SecondStepLock => "second_step_lock",
        }
    }
}

/// A second step's result as a label: what the check said, not what was typed.
fn second_step_label(result: &Result<impl Sized, VerifyError>) -> &'static str {
    match result {
        Ok(_) => "accepted",
        Err(VerifyError::Code(CodeError::Wrong { .. }))
        | Err(VerifyError::Authenticator(AuthenticatorError::WrongCode))
        | Err(VerifyError::RecoveryCode(RecoveryCodeError::WrongOrUsed)) => "wrong_code",
        Err(VerifyError::Code(CodeError::Malformed))
        | Err(VerifyError::RecoveryCode(RecoveryCodeError::Malformed)) => "malformed",
        Err(VerifyError::Code(CodeError::Expired)) => "expired",
        Err(VerifyError::Code(CodeError::NotRequested)) => "not_requested",
        Err(VerifyError::Code(CodeError::AlreadyUsed))
        | Err(VerifyError::Authenticator(AuthenticatorError::AlreadyUsed)) => "already_used",
        Err(VerifyError::Code(CodeError::TooManyAttempts))
        | Err(VerifyError::Authenticator(AuthenticatorError::TooManyAttempts { .. })) => {
            "too_many_attempts"
        }
        Err(VerifyError::MethodNotAvailable)
        | Err(VerifyError::Authenticator(AuthenticatorError::RequiresSms)) => "not_available",
        Err(VerifyError::Locked(_)) => "locked",
        Err(_) => "error",
    }
}

impl Metrics {
    pub fn sign_in(&self, result: SignInResult) {
        self.sign_ins.inc(&[result.label()]);
        if result == SignInResult::Locked {
            self.limit_hit(Limit::FailedPasswords);
        }
    }

    /// Counts a second step's check, and the limit it ran into if it did.
    pub fn second_step<T>(&self, method: Method, result: &Result<T, VerifyError>) {
        let label = second_step_label(result);
        self.second_step.inc(&[method.as_str(), label]);
        let limit = match method {
            Method::Sms => Some(Limit::SmsCodeEntries),
            Method::Authenticator => Some(Limit::AuthenticatorAttempts),
            Method::RecoveryCode => None,
        };
        if label == "too_many_attempts"
            && let Some(limit) = limit
        {
            self.limit_hit(limit);
        }
    }

    pub fn sms_sent(&self, delivery: Delivery) {
        self.sms_sent.inc(&[delivery.label()]);
    }

    pub fn email_sent(&self, delivery: Delivery) {
        self.emails_sent.inc(&[delivery.label()]);
    }

    pub fn limit_hit(&self, limit: Limit) {
        self.limits_hit.inc(&[limit.label()]);
    }
}
