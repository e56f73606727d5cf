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
    PasswordChanged,
    PasswordReset,
    SecurityQuestionSet,
    TwoStepTurnedOn {
        masked_phone: String,
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
    /// A new set of recovery codes replaced the old one ("Get new codes").
    RecoveryCodesReplaced,
    /// A recovery code was used to sign in, reset the password or connect an app.
    RecoveryCodeUsed {
        remaining: i64,
    },
    /// "Forget remembered devices": every browser asks for a code again.
    RememberedDevicesForgotten,
}

/// "1 recovery code left", "no recovery codes left".
pub fn codes_left(remaining: i64) -> String {
    match remaining {
        0 => "no recovery codes left".into(),
        1 => "1 recovery code left".into(),
        n => format!("{n} recovery codes left"),
    }
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
            Self::RecoveryCodesReplaced => "recovery_codes_replaced",
            Self::RecoveryCodeUsed { .. } => "recovery_code_used",
            Self::RememberedDevicesForgotten => "remembered_devices_forgotten",
        }
    }

    /// One line for the account's list of security events.
    pub fn summary(&self) -> String {
        match self {
            Self::AccountCreated => "Account created".into(),
            Self::PasswordChanged => "Password changed".into(),
            Self::PasswordReset => "Password reset through the e-mail link".into(),
            Self::SecurityQuestionSet => "Security question set".into(),
            Self::TwoStepTurnedOn { masked_phone } => {
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
            Self::RecoveryCodesReplaced => {
                "New recovery codes created; the old ones no longer work".into()
            }
            Self::RecoveryCodeUsed { remaining } => {
                format!("Recovery code used ({})", codes_left(*remaining))
            }
            Self::RememberedDevicesForgotten => "Remembered devices forgotten".into(),
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
            Self::AccountCreated | Self::AppConnected { .. } => return None,
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
            Self::TwoStepTurnedOn { masked_phone } => (
                "Two-step verification is on".to_owned(),
                format!(
                    "Two-step verification was set up for your {service} account on {when}. Security codes will be sent to {masked_phone}.\n\nThe security question of your account has been permanently disabled."
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
            Self::RecoveryCodesReplaced => (
                "You have new recovery codes".to_owned(),
                format!(
                    "New recovery codes were created for your {service} account on {when}. The previous ones no longer work."
                ),
            ),
            Self::RecoveryCodeUsed { remaining } => (
                "A recovery code was used".to_owned(),
                format!(
                    "A recovery code of your {service} account was used on {when}. You have {} now. Devices that were remembered will ask for a security code again.{}",
                    codes_left(*remaining),
                    if *remaining
                        <= crate::recovery_codes::RecoveryCodePolicy::default().running_low_at
                    {
                        "\n\nGet new codes on the Security tab of your account settings."
                    } else {
                        ""
                    }
                ),
            ),
            Self::RememberedDevicesForgotten => (
                "Remembered devices were forgotten".to_owned(),
                format!(
                    "Every device remembered for your {service} account was forgotten on {when}: each will ask for a security code at its next sign-in."
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
    fn the_recovery_code_email_says_how_many_remain_and_when_to_get_new_ones() {
        let mail = |remaining| {
            SecurityEvent::RecoveryCodeUsed { remaining }
                .notification("twostep", "today", "")
                .unwrap()
                .text
        };
        assert!(mail(9).contains("You have 9 recovery codes left now."));
        assert!(!mail(9).contains("Get new codes"));
        assert!(mail(3).contains("3 recovery codes left"));
        assert!(!mail(3).contains("Get new codes"));
        assert!(mail(2).contains("Get new codes"));
        assert!(mail(1).contains("You have 1 recovery code left now."));
        assert!(mail(0).contains("You have no recovery codes left now."));
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
    fn every_event_has_a_distinct_kind() {
        let events = [
            SecurityEvent::AccountCreated,
            SecurityEvent::PasswordChanged,
            SecurityEvent::PasswordReset,
            SecurityEvent::SecurityQuestionSet,
            SecurityEvent::TwoStepTurnedOn {
                masked_phone: String::new(),
            },
            SecurityEvent::PhoneNumberChanged {
                masked_phone: String::new(),
            },
            SecurityEvent::TwoStepTurnedOff {
                authenticator_too: false,
            },
            SecurityEvent::AuthenticatorAdded,
            SecurityEvent::AuthenticatorRemoved,
            SecurityEvent::RecoveryCodesReplaced,
            SecurityEvent::RecoveryCodeUsed { remaining: 0 },
            SecurityEvent::RememberedDevicesForgotten,
        ];
        let kinds: std::collections::HashSet<_> = events.iter().map(SecurityEvent::kind).collect();
        assert_eq!(kinds.len(), events.len());
    }
}
