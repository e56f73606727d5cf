//! The fixed messages shown after a redirect: notices ("You have signed out.")
//! and why a code could not be sent. Each travels in the query string by its
//! name only, so that no text from the URL ever reaches a page, and each message
//! is written once, here.

use domain::CodeError;
use domain::account::SecurityEvent;
use domain::one_time_code::CodePurpose;
use domain::sms_guard::SmsRefused;
use serde::de::{DeserializeOwned, IntoDeserializer};
use serde::{Deserialize, Deserializer, Serialize};

use crate::verification::{self, VerifyError};
use crate::{AppState, WebError};

/// Named in the URL as `?notice=` and the variant in snake case (`two_step_on`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Notice {
    SignedOut,
    Expired,
    PasswordReset,
    CodeSent,
    PasswordChanged,
    QuestionSaved,
    TwoStepOn,
    PhoneChanged,
    TwoStepOff,
    AuthenticatorOn,
    AuthenticatorOff,
    Disconnected,
    SessionSignedOut,
    SignedOutEverywhereElse,
    RecoveryCodeUsed,
    DevicesForgotten,
    EmailConfirmed,
}

impl Notice {
    pub fn text(self) -> &'static str {
        match self {
            Self::SignedOut => "You have signed out.",
            Self::Expired => "Your sign-in took too long. Please start again.",
            Self::PasswordReset => {
                "Your password has been changed. Sign in with your new password."
            }
            Self::CodeSent => "We sent a new code.",
            Self::PasswordChanged => "Your password has been changed.",
            Self::QuestionSaved => "Your security question has been saved.",
            Self::TwoStepOn => {
                "Your phone number is confirmed and set up to receive security codes."
            }
            Self::PhoneChanged => {
                "Your new phone number is confirmed and set up to receive security codes."
            }
            Self::TwoStepOff => "Two-step verification is off.",
            Self::AuthenticatorOn => {
                "Your app is set up. You can use security codes generated in the app when you sign in."
            }
            Self::AuthenticatorOff => {
                "The authenticator app is turned off. SMS verification stays on."
            }
            Self::Disconnected => {
                "The application is disconnected. It must sign in again to connect."
            }
            Self::SessionSignedOut => "That session is signed out.",
            Self::SignedOutEverywhereElse => {
                "You are signed out everywhere else. Only this browser stays signed in."
            }
            Self::RecoveryCodeUsed => {
                "You signed in with a recovery code. That code can't be used again."
            }
            Self::DevicesForgotten => {
                "Remembered devices are forgotten. Each will ask for a security code at its next sign-in."
            }
            Self::EmailConfirmed => {
                "Your e-mail address is confirmed. You can now set up two-step verification."
            }
        }
    }

    /// After a change that someone else with a session could have wanted to
    /// stop (a new password, phone number or authenticator, two-step on or
    /// off), the confirmation offers to end every other session.
    pub fn offers_sign_out_everywhere_else(self) -> bool {
        matches!(
            self,
            Self::PasswordChanged
                | Self::TwoStepOn
                | Self::PhoneChanged
                | Self::TwoStepOff
                | Self::AuthenticatorOn
                | Self::AuthenticatorOff
        )
    }

    /// `path` with this notice in its query: `/sign-in?notice=signed_out`.
    pub fn on(self, path: &str) -> String {
        link(path, "notice", self)
    }

    /// What the Security tab says after a change made on it. The events that
    /// happen elsewhere (signing up, a reset, an application) have none.
    pub fn after(event: &SecurityEvent) -> Option<Self> {
        match event {
            SecurityEvent::PasswordChanged => Some(Self::PasswordChanged),
            SecurityEvent::SecurityQuestionSet => Some(Self::QuestionSaved),
            SecurityEvent::TwoStepTurnedOn { .. } => Some(Self::TwoStepOn),
            SecurityEvent::PhoneNumberChanged { .. } => Some(Self::PhoneChanged),
            SecurityEvent::TwoStepTurnedOff { .. } => Some(Self::TwoStepOff),
            SecurityEvent::AuthenticatorAdded => Some(Self::AuthenticatorOn),
            SecurityEvent::AuthenticatorRemoved => Some(Self::AuthenticatorOff),
            SecurityEvent::AppDisconnected { .. } => Some(Self::Disconnected),
            SecurityEvent::SessionSignedOut { .. } => Some(Self::SessionSignedOut),
            SecurityEvent::OtherSessionsSignedOut { .. } => Some(Self::SignedOutEverywhereElse),
            SecurityEvent::RememberedDevicesForgotten => Some(Self::DevicesForgotten),
            // The new set's own page says it; a code is used at sign-in.
            SecurityEvent::RecoveryCodesReplaced
            | SecurityEvent::RecoveryCodeUsed { .. }
            | SecurityEvent::AccountCreated
            | SecurityEvent::EmailConfirmed
            | SecurityEvent::SignUpWithExistingAddress
            | SecurityEvent::TwoStepResetByOperator { .. }
            | SecurityEvent::AccountDisabled
            | SecurityEvent::AccountEnabled
            | SecurityEvent::PasswordReset
            | SecurityEvent::AppConnected { .. }
            | SecurityEvent::OldAppRefused { .. }
            | SecurityEvent::AntiTheft(_)
            | SecurityEvent::PasswordAttemptsPaused { .. }
            | SecurityEvent::PasswordStepLocked { .. }
            | SecurityEvent::SecondStepLocked { .. }
            | SecurityEvent::WrongCodeAfterPassword { .. }
            | SecurityEvent::SmsRefused { .. } => None,
        }
    }
}

/// Why a code could not be sent, carried to the code step as `?error=too_soon`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SendFailure {
    TooSoon,
    SmsNotSent,
    /// An SMS budget is full or the calling code is held: the link carries
    /// until when (`until`), so that the page tells the real wait.
    TooManyCodes,
    CountryNotAllowed,
    CannotTakeSms,
    Failed,
}

impl SendFailure {
    pub fn of(error: &VerifyError) -> Self {
        match error {
            VerifyError::Code(CodeError::ResendTooSoon { .. }) => Self::TooSoon,
            VerifyError::SmsNotSent => Self::SmsNotSent,
            VerifyError::SmsRefused(SmsRefused::TooManyCodes { .. }) => Self::TooManyCodes,
            VerifyError::SmsRefused(SmsRefused::CountryNotAllowed) => Self::CountryNotAllowed,
            VerifyError::SmsRefused(SmsRefused::CannotTakeSms) => Self::CannotTakeSms,
            _ => Self::Failed,
        }
    }

    /// `path` with why `error` sent no code, and until when if it says:
    /// `/sign-in/verify?error=too_many_codes&until=1800000720`.
    pub fn link(error: &VerifyError, path: &str, now: i64) -> String {
        let failure = Self::of(error);
        match error {
            VerifyError::SmsRefused(SmsRefused::TooManyCodes {
                retry_after_seconds,
            }) => format!("{}&until={}", failure.on(path), now + retry_after_seconds),
            _ => failure.on(path),
        }
    }

    /// `path` with this failure in its query: `/sign-in/verify?error=too_soon`.
    pub fn on(self, path: &str) -> String {
        link(path, "error", self)
    }

    /// The code step's message. How long to wait is counted from the code
    /// actually sent, so it is read again; `None` once another may be sent.
    pub async fn message(
        self,
        until: Option<i64>,
        state: &AppState,
        account_id: domain::AccountId,
        purpose: CodePurpose,
    ) -> Result<Option<String>, WebError> {
        Ok(match self {
            Self::TooSoon => verification::resend_wait_message(state, account_id, purpose).await?,
            Self::SmsNotSent => Some(VerifyError::SmsNotSent.to_string()),
            Self::TooManyCodes => Some(
                SmsRefused::TooManyCodes {
                    // A hand-edited `until` can say no more than a day and a half.
                    retry_after_seconds: until
                        .map_or(60, |until| until - state.now())
                        .clamp(1, 36 * 60 * 60),
                }
                .to_string(),
            ),
            Self::CountryNotAllowed => Some(SmsRefused::CountryNotAllowed.to_string()),
            Self::CannotTakeSms => Some(SmsRefused::CannotTakeSms.to_string()),
            Self::Failed => Some("Something went wrong. Try again.".into()),
        })
    }
}

fn link(path: &str, key: &str, value: impl Serialize) -> String {
    // One pair whose value is a unit variant always encodes.
    let query = serde_urlencoded::to_string([(key, value)]).unwrap_or_default();
    format!("{path}?{query}")
}

/// Templates show a notice with `{{ notice }}`.
impl std::fmt::Display for Notice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.text())
    }
}

/// The query of a page that shows a notice.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct NoticeQuery {
    #[serde(default, deserialize_with = "known_or_none")]
    pub notice: Option<Notice>,
}

/// What a code step's page was sent back with: a notice, or why no code went out.
#[derive(serde::Deserialize, Default)]
pub struct CodeStepQuery {
    #[serde(default, deserialize_with = "known_or_none")]
    pub notice: Option<Notice>,
    #[serde(default, deserialize_with = "known_or_none")]
    pub error: Option<SendFailure>,
    /// Until when a `too_many_codes` refusal holds.
    #[serde(default)]
    pub until: Option<i64>,
}

/// An unknown or garbled name shows no message, rather than refusing the page:
/// a stale or hand-edited link still leads somewhere.
pub fn known_or_none<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: DeserializeOwned,
{
    let name = Option::<String>::deserialize(deserializer)?;
    Ok(name.and_then(|name| {
        let name: serde::de::value::StringDeserializer<serde::de::value::Error> =
            name.into_deserializer();
        T::deserialize(name).ok()
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(query: &str) -> Option<Notice> {
        serde_urlencoded::from_str::<NoticeQuery>(query)
            .unwrap()
            .notice
    }

    #[test]
    fn a_notice_is_read_back_from_the_link_it_was_put_on() {
        let link = Notice::TwoStepOn.on("/account/settings/security");
        assert_eq!(link, "/account/settings/security?notice=two_step_on");
        let (_, query) = link.split_once('?').unwrap();
        assert_eq!(read(query), Some(Notice::TwoStepOn));
    }

    #[test]
    fn an_unknown_or_missing_notice_shows_nothing() {
        assert_eq!(read("notice=%3Cscript%3E"), None);
        assert_eq!(read("notice=TwoStepOn"), None);
        assert_eq!(read("notice="), None);
        assert_eq!(read(""), None);
    }

    #[test]
    fn a_send_failure_is_read_back_from_the_link_it_was_put_on() {
        #[derive(Deserialize)]
        struct Query {
            #[serde(default, deserialize_with = "known_or_none")]
            error: Option<SendFailure>,
        }
        let link = SendFailure::SmsNotSent.on("/sign-in/verify");
        assert_eq!(link, "/sign-in/verify?error=sms_not_sent");
        let (_, query) = link.split_once('?').unwrap();
        let query: Query = serde_urlencoded::from_str(query).unwrap();
        assert_eq!(query.error, Some(SendFailure::SmsNotSent));
    }

    #[test]
    fn every_change_of_a_factor_or_the_password_offers_to_sign_out_everywhere_else() {
        for event in [
            SecurityEvent::PasswordChanged,
            SecurityEvent::TwoStepTurnedOn {
                masked_phone: String::new(),
                disconnected_apps: Vec::new(),
            },
            SecurityEvent::PhoneNumberChanged {
                masked_phone: String::new(),
            },
            SecurityEvent::TwoStepTurnedOff {
                authenticator_too: true,
            },
            SecurityEvent::AuthenticatorAdded,
            SecurityEvent::AuthenticatorRemoved,
        ] {
            let notice = Notice::after(&event).unwrap();
            assert!(notice.offers_sign_out_everywhere_else(), "{event:?}");
        }
        for notice in [
            Notice::QuestionSaved,
            Notice::Disconnected,
            Notice::SignedOutEverywhereElse,
        ] {
            assert!(!notice.offers_sign_out_everywhere_else(), "{notice:?}");
        }
    }

    #[test]
    fn a_notice_shows_its_text() {
        assert_eq!(Notice::SignedOut.to_string(), "You have signed out.");
    }
}
