//! What happens around an account's security: which checks a password reset asks
//! for, and the security events that are recorded and notified by e-mail.

use crate::security_question::SecurityQuestionState;
use crate::two_step::{Method, TwoStep};

/// What a password reset must ask for besides the link from the e-mail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResetChecks {
    pub security_answer: bool,
    /// A password reset must never bypass two-step verification.
    pub second_factor: Option<Method>,
}

pub fn password_reset_checks(two_step: TwoStep, question: &SecurityQuestionState) -> ResetChecks {
    ResetChecks {
        security_answer: matches!(question, SecurityQuestionState::Set { .. }),
        second_factor: two_step.default_method(),
    }
}

/// A change to an account's security. Each is recorded in the account's security
/// events and, where the owner should know, notified by e-mail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecurityEvent {
    AccountCreated,
    /// The sign-up's link was followed: the address is the owner's.
    EmailConfirmed,
    /// Someone tried to sign up with the address of this account.
    SignUpWithExistingAddress,
    PasswordChanged,
    PasswordReset,
    SecurityQuestionSet,
    TwoStepTurnedOn {
        masked_phone: String,
        /// Applications disconnected because their version cannot do two-step
        /// verification, as "Photon Desktop 1.2.0 on Office PC".
        disconnected_apps: Vec<String>,
    },
    PhoneNumberChanged {
        masked_phone: String,
    },
    TwoStepTurnedOff {
        authenticator_too: bool,
    },
    AuthenticatorAdded,
    AuthenticatorRemoved,
    AppConnected {
        app: String,
        version: String,
        device: String,
    },
    AppDisconnected {
        app: String,
        device: String,
    },
    OldAppRefused {
        app: String,
        version: String,
        device: String,
    },
}

pub struct Notification {
    pub subject: String,
    pub text: String,
}

impl SecurityEvent {
    /// A stable name for storage and the API.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::AccountCreated => "account_created",
            Self::EmailConfirmed => "email_confirmed",
            Self::SignUpWithExistingAddress => "sign_up_with_existing_address",
            Self::PasswordChanged => "password_changed",
            Self::PasswordReset => "password_reset",
            Self::SecurityQuestionSet => "security_question_set",
            Self::TwoStepTurnedOn { .. } => "two_step_turned_on",
            Self::PhoneNumberChanged { .. } => "phone_number_changed",
            Self::TwoStepTurnedOff { .. } => "two_step_turned_off",
            Self::AuthenticatorAdded => "authenticator_added",
            Self::AuthenticatorRemoved => "authenticator_removed",
            Self::AppConnected { .. } => "app_connected",
            Self::AppDisconnected { .. } => "app_disconnected",
            Self::OldAppRefused { .. } => "old_app_refused",
        }
    }

    /// One line for the account's list of security events.
    pub fn summary(&self) -> String {
        match self {
            Self::AccountCreated => "Account created".into(),
            Self::EmailConfirmed => "E-mail address confirmed".into(),
            Self::SignUpWithExistingAddress => {
                "Someone tried to create an account with this address".into()
            }
            Self::PasswordChanged => "Password changed".into(),
            Self::PasswordReset => "Password reset through the e-mail link".into(),
            Self::SecurityQuestionSet => "Security question set".into(),
            Self::TwoStepTurnedOn { masked_phone, .. } => {
                format!("Two-step verification turned on with {masked_phone}")
            }
            Self::PhoneNumberChanged { masked_phone } => {
                format!("Phone number changed to {masked_phone}")
            }
            Self::TwoStepTurnedOff {
                authenticator_too: true,
            } => "Two-step verification turned off (SMS and authenticator app)".into(),
            Self::TwoStepTurnedOff {
                authenticator_too: false,
            } => "Two-step verification turned off".into(),
            Self::AuthenticatorAdded => "Authenticator app set up".into(),
            Self::AuthenticatorRemoved => "Authenticator app turned off".into(),
            Self::AppConnected {
                app,
                version,
                device,
            } => format!("{app} {version} connected on {device}"),
            Self::AppDisconnected { app, device } => format!("{app} on {device} disconnected"),
            Self::OldAppRefused {
                app,
                version,
                device,
            } => {
                format!(
                    "{app} {version} on {device} could not connect: it does not support two-step verification"
                )
            }
        }
    }

    /// The e-mail to the owner, or `None` for events they have just seen happen.
    /// `when` is the formatted time; `downloads_url` is where updates are.
    pub fn notification(
        &self,
        service: &str,
        when: &str,
        downloads_url: &str,
    ) -> Option<Notification> {
        let unexpected =
            "If this wasn't you, reset your password at once and review your security settings.";
        let (subject, body) = match self {
            Self::AccountCreated | Self::EmailConfirmed | Self::AppConnected { .. } => {
                return None;
            }
            Self::SignUpWithExistingAddress => (
                "Someone tried to create an account with your address".to_owned(),
                format!(
                    "Someone tried to create a {service} account with your e-mail address on {when}. Your address already has an account, so nothing was created and nothing changed.\n\nIf it was you, sign in with your password. If you forgot it, use Forgot password? on the sign-in page."
                ),
            ),
            Self::PasswordChanged => (
                "Your password was changed".to_owned(),
                format!("The password of your {service} account was changed on {when}."),
            ),
            Self::PasswordReset => (
                "Your password was reset".to_owned(),
                format!("The password of your {service} account was reset on {when}."),
            ),
            Self::SecurityQuestionSet => (
                "Your security question was changed".to_owned(),
                format!("The security question of your {service} account was set on {when}."),
            ),
            Self::TwoStepTurnedOn {
                masked_phone,
                disconnected_apps,
            } => (
                "Two-step verification is on".to_owned(),
                format!(
                    "Two-step verification was set up for your {service} account on {when}. Security codes will be sent to {masked_phone}.\n\nThe security question of your account has been permanently disabled. Every other browser signed in to your account has been signed out.{}",
                    disconnected_list(disconnected_apps, downloads_url)
                ),
            ),
            Self::PhoneNumberChanged { masked_phone } => (
                "Your phone number was changed".to_owned(),
                format!(
                    "The phone number for security codes of your {service} account was changed to {masked_phone} on {when}."
                ),
            ),
            Self::TwoStepTurnedOff { authenticator_too } => (
                "Two-step verification is off".to_owned(),
                if *authenticator_too {
                    format!(
                        "Two-step verification was turned off for your {service} account on {when}: both SMS verification and the authenticator app are off."
                    )
                } else {
                    format!(
                        "Two-step verification by SMS was turned off for your {service} account on {when}."
                    )
                },
            ),
            Self::AuthenticatorAdded => (
                "An authenticator app was set up".to_owned(),
                format!("An authenticator app was set up for your {service} account on {when}."),
            ),
            Self::AuthenticatorRemoved => (
                "The authenticator app was turned off".to_owned(),
                format!(
                    "The authenticator app was turned off for your {service} account on {when}. SMS verification stays on."
                ),
            ),
            Self::AppDisconnected { app, device } => (
                format!("{app} was disconnected"),
                format!(
                    "{app} on {device} was disconnected from your {service} account on {when}."
                ),
            ),
            Self::OldAppRefused {
                app,
                version,
                device,
            } => (
                format!("Update {app} to connect to your account"),
                format!(
                    "{app} {version} on {device} tried to connect to your {service} account on {when}, but this version does not support two-step verification, which is on for your account, so it could not connect.\n\nTo resolve this, update your applications to the latest version. You can download the latest versions in the Downloads section: {downloads_url}"
                ),
            ),
        };
        let text = if matches!(self, Self::OldAppRefused { .. }) {
            body
        } else {
            format!("{body}\n\n{unexpected}")
        };
        Some(Notification { subject, text })
    }
}

/// The paragraph of the two-step e-mail that lists the applications it
/// disconnected; empty when there were none.
fn disconnected_list(apps: &[String], downloads_url: &str) -> String {
    if apps.is_empty() {
        return String::new();
    }
    let list: String = apps.iter().map(|app| format!("\n- {app}")).collect();
    format!(
        "\n\nThese applications were disconnected because their version does not support two-step verification:{list}\n\nUpdate them to the latest version from the Downloads section to connect them again: {downloads_url}"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_reset_never_bypasses_two_step_verification() {
        let checks = password_reset_checks(
            TwoStep::OFF.with_sms_set_up().unwrap(),
            &SecurityQuestionState::PermanentlyDisabled,
        );
        assert_eq!(
            checks,
            ResetChecks {
                security_answer: false,
                second_factor: Some(Method::Sms)
            }
        );
        let both = TwoStep::OFF
            .with_sms_set_up()
            .unwrap()
            .with_authenticator_set_up()
            .unwrap();
        assert_eq!(
            password_reset_checks(both, &SecurityQuestionState::PermanentlyDisabled).second_factor,
            Some(Method::Authenticator)
        );
    }

    #[test]
    fn a_password_reset_asks_the_security_question_when_one_is_set() {
        let set = SecurityQuestionState::Set {
            question: "Name of your first pet?".into(),
        };
        assert_eq!(
            password_reset_checks(TwoStep::OFF, &set),
            ResetChecks {
                security_answer: true,
                second_factor: None
            }
        );
        assert_eq!(
            password_reset_checks(TwoStep::OFF, &SecurityQuestionState::NotSet),
            ResetChecks {
                security_answer: false,
                second_factor: None
            }
        );
    }

    #[test]
    fn turning_off_both_methods_says_so_in_the_email() {
        let mail = SecurityEvent::TwoStepTurnedOff {
            authenticator_too: true,
        }
        .notification("twostep", "today", "")
        .unwrap();
        assert!(
            mail.text
                .contains("both SMS verification and the authenticator app are off")
        );
    }

    #[test]
    fn the_old_app_email_points_to_the_downloads_section() {
        let event = SecurityEvent::OldAppRefused {
            app: "Photon Desktop".into(),
            version: "1.2.0".into(),
            device: "Office PC".into(),
        };
        let mail = event
            .notification("twostep", "today", "http://127.0.0.1:8080/downloads")
            .unwrap();
        assert!(mail.subject.contains("Update Photon Desktop"));
        for needle in [
            "Photon Desktop 1.2.0",
            "Office PC",
            "today",
            "latest version",
            "Downloads section",
            "http://127.0.0.1:8080/downloads",
        ] {
            assert!(mail.text.contains(needle), "{needle}");
        }
    }

    #[test]
    fn turning_two_step_on_lists_the_disconnected_applications() {
        let event = |apps: Vec<String>| SecurityEvent::TwoStepTurnedOn {
            masked_phone: "+1 ••• ••• 0000".into(),
            disconnected_apps: apps,
        };
        let downloads = "http://127.0.0.1:8080/downloads";
        let none = event(Vec::new())
            .notification("twostep", "today", downloads)
            .unwrap();
        assert!(!none.text.contains("disconnected"), "{}", none.text);
        assert!(none.text.contains("signed out"));
        let two = event(vec![
            "Photon Desktop 1.2.0 on Office PC".into(),
            "Photon Mobile 0.9.0 on Ann's phone".into(),
        ])
        .notification("twostep", "today", downloads)
        .unwrap();
        for needle in [
            "were disconnected",
            "- Photon Desktop 1.2.0 on Office PC",
            "- Photon Mobile 0.9.0 on Ann's phone",
            downloads,
        ] {
            assert!(two.text.contains(needle), "{needle} in {}", two.text);
        }
    }

    #[test]
    fn a_sign_up_with_an_existing_address_is_told_to_its_owner() {
        let mail = SecurityEvent::SignUpWithExistingAddress
            .notification("twostep", "today", "")
            .unwrap();
        assert!(mail.subject.contains("tried to create an account"));
        assert!(mail.text.contains("nothing was created"));
        assert!(
            SecurityEvent::EmailConfirmed
                .notification("twostep", "today", "")
                .is_none()
        );
    }

    #[test]
    fn every_event_has_a_distinct_kind() {
        let events = [
            SecurityEvent::AccountCreated,
            SecurityEvent::EmailConfirmed,
            SecurityEvent::SignUpWithExistingAddress,
            SecurityEvent::PasswordChanged,
            SecurityEvent::PasswordReset,
            SecurityEvent::SecurityQuestionSet,
            SecurityEvent::TwoStepTurnedOn {
                masked_phone: String::new(),
                disconnected_apps: Vec::new(),
            },
            SecurityEvent::PhoneNumberChanged {
                masked_phone: String::new(),
            },
            SecurityEvent::TwoStepTurnedOff {
                authenticator_too: false,
            },
            SecurityEvent::AuthenticatorAdded,
            SecurityEvent::AuthenticatorRemoved,
        ];
        let kinds: std::collections::HashSet<_> = events.iter().map(SecurityEvent::kind).collect();
        assert_eq!(kinds.len(), events.len());
    }
}
