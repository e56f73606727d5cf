//! What happens around an account's security: which checks a password reset asks
//! for, and the security events that are recorded and notified by e-mail.

use crate::anti_theft::AntiTheftEvent;
use crate::budgets::SmsRefusal;
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
    /// A command to a lost device, or its answer.
    AntiTheft(AntiTheftEvent),
    /// The owner signed out one of their other sessions.
    SessionSignedOut {
        browser: String,
        system: String,
    },
    /// The owner signed out everywhere but where they are.
    OtherSessionsSignedOut {
        count: u64,
    },
    /// An operator turned two-step off for someone who lost every factor.
    TwoStepResetByOperator {
        reason: String,
    },
    AccountDisabled,
    AccountEnabled,
    /// One client IP used up its wrong passwords for the account's address and
    /// waits for the rest of the window.
    PasswordAttemptsPaused {
        ip: String,
        attempts: i64,
        minutes: i64,
    },
    /// Too many wrong passwords in a row from anywhere: the password step is
    /// locked until the owner resets the password through e-mail.
    PasswordStepLocked {
        attempts: i64,
    },
    /// Too many wrong second-step codes in a row: every method waits until `until`.
    SecondStepLocked {
        attempts: i64,
        until: String,
    },
    /// The right password, then a wrong second-step code: someone has the password.
    WrongCodeAfterPassword {
        ip: String,
        browser: String,
    },
    /// A new set of recovery codes replaced the old one ("Get new codes").
    RecoveryCodesReplaced,
    /// A recovery code was used to sign in, reset the password or connect an app.
    RecoveryCodeUsed {
        remaining: i64,
    },
    /// "Forget remembered devices": every browser asks for a code again.
    RememberedDevicesForgotten,
    /// An SMS code asked for this account was refused by a guard (at most one
    /// event per account and rule in an interval, `budgets::Limits`).
    SmsRefused {
        refusal: SmsRefusal,
        ip: String,
        minutes: i64,
    },
}

/// What a new password does to applications, in the e-mail that tells of it:
/// signed out of the account, while a lost phone can still be found.
const APPS_SIGNED_OUT: &str = "Applications connected to your account were signed out; Anti-Theft devices still answer commands.";

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
            Self::AntiTheft(event) => event.kind(),
            Self::SessionSignedOut { .. } => "session_signed_out",
            Self::OtherSessionsSignedOut { .. } => "other_sessions_signed_out",
            Self::TwoStepResetByOperator { .. } => "two_step_reset_by_operator",
            Self::AccountDisabled => "account_disabled",
            Self::AccountEnabled => "account_enabled",
            Self::PasswordAttemptsPaused { .. } => "password_attempts_paused",
            Self::PasswordStepLocked { .. } => "password_step_locked",
            Self::SecondStepLocked { .. } => "second_step_locked",
            Self::WrongCodeAfterPassword { .. } => "wrong_code_after_password",
            Self::RecoveryCodesReplaced => "recovery_codes_replaced",
            Self::RecoveryCodeUsed { .. } => "recovery_code_used",
            Self::RememberedDevicesForgotten => "remembered_devices_forgotten",
            Self::SmsRefused { .. } => "sms_refused",
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
            Self::AntiTheft(event) => event.summary(),
            Self::SessionSignedOut { browser, system } => {
                format!("Signed out {browser} on {system}")
            }
            Self::OtherSessionsSignedOut { count: 1 } => {
                "Signed out everywhere else (1 session)".into()
            }
            Self::OtherSessionsSignedOut { count } => {
                format!("Signed out everywhere else ({count} sessions)")
            }
            Self::TwoStepResetByOperator { reason } => format!(
                "Two-step verification turned off by support, every session and application signed out. Reason: {reason}"
            ),
            Self::AccountDisabled => {
                "Account disabled by support, every session and application signed out".into()
            }
            Self::AccountEnabled => "Account enabled again by support".into(),
            Self::PasswordAttemptsPaused {
                ip,
                attempts,
                minutes,
            } => format!(
                "{attempts} wrong passwords from {ip}: sign-in attempts from there paused for {minutes} minutes"
            ),
            Self::PasswordStepLocked { attempts } => format!(
                "Signing in with the password locked after {attempts} wrong passwords in a row"
            ),
            Self::SecondStepLocked { attempts, until } => format!(
                "Two-step verification locked until {until} after {attempts} wrong codes in a row"
            ),
            Self::WrongCodeAfterPassword { ip, browser } => {
                format!("The right password, then a wrong security code, from {ip} ({browser})")
            }
            Self::RecoveryCodesReplaced => {
                "New recovery codes created; the old ones no longer work".into()
            }
            Self::RecoveryCodeUsed { remaining } => {
                format!("Recovery code used ({})", codes_left(*remaining))
            }
            Self::RememberedDevicesForgotten => "Remembered devices forgotten".into(),
            Self::SmsRefused {
                refusal,
                ip,
                minutes,
            } => format!(
                "A security code by SMS, asked for from {ip}, was not sent: {}. Codes can be asked for again in {minutes} minutes",
                refusal.reason()
            ),
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
            // Shown in the account's events; the locks that follow say more.
            Self::AccountCreated
            | Self::EmailConfirmed
            | Self::AppConnected { .. }
            | Self::PasswordAttemptsPaused { .. }
            | Self::SmsRefused { .. } => return None,
            Self::AntiTheft(event) => return event.notification(service, when),
            Self::SignUpWithExistingAddress => (
                "Someone tried to create an account with your address".to_owned(),
                format!(
                    "Someone tried to create a {service} account with your e-mail address on {when}. Your address already has an account, so nothing was created and nothing changed.\n\nIf it was you, sign in with your password. If you forgot it, use Forgot password? on the sign-in page."
                ),
            ),
            Self::PasswordChanged => (
                "Your password was changed".to_owned(),
                format!(
                    "The password of your {service} account was changed on {when}. {APPS_SIGNED_OUT}"
                ),
            ),
            Self::PasswordReset => (
                "Your password was reset".to_owned(),
                format!(
                    "The password of your {service} account was reset on {when}. {APPS_SIGNED_OUT}"
                ),
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
            Self::SessionSignedOut { browser, system } => (
                "A session was signed out".to_owned(),
                format!(
                    "{browser} on {system} was signed out of your {service} account on {when}."
                ),
            ),
            Self::OtherSessionsSignedOut { count } => (
                "You were signed out everywhere else".to_owned(),
                format!(
                    "Every other session of your {service} account ({count}) was signed out on {when}; only the browser that asked stays signed in."
                ),
            ),
            Self::TwoStepResetByOperator { reason } => (
                "Two-step verification was turned off by support".to_owned(),
                format!(
                    "At your request, support turned off two-step verification for your {service} account on {when}, after checking who you are. Every session and every connected application was signed out.\n\nReason given: {reason}\n\nSign in with your password and set up two-step verification again on the Security tab."
                ),
            ),
            Self::AccountDisabled => (
                "Your account was disabled".to_owned(),
                format!(
                    "Your {service} account was disabled by support on {when}: it cannot sign in or connect applications, and every session and application was signed out. Contact support to enable it again."
                ),
            ),
            Self::AccountEnabled => (
                "Your account was enabled again".to_owned(),
                format!("Your {service} account was enabled again by support on {when}."),
            ),
            Self::PasswordStepLocked { attempts } => (
                "Signing in to your account is locked".to_owned(),
                format!(
                    "After {attempts} wrong passwords in a row, signing in to your {service} account with its password was locked on {when}. Someone may be trying to guess your password.\n\nTo unlock it, reset your password: choose \"Forgot password?\" on the sign-in page and follow the link we e-mail you. Choose a password you use nowhere else."
                ),
            ),
            Self::SecondStepLocked { attempts, until } => (
                "Two-step verification is locked for now".to_owned(),
                format!(
                    "After {attempts} wrong security codes in a row, two-step verification of your {service} account was locked on {when} until {until}, for every method. Whoever entered them knew your password.\n\nIf this wasn't you, change your password as soon as you can sign in again, and review your security settings."
                ),
            ),
            Self::WrongCodeAfterPassword { ip, browser } => (
                "Someone has your password".to_owned(),
                format!(
                    "Someone signed in to your {service} account with your password on {when}, but entered a wrong security code, so two-step verification stopped them.\n\nIP address: {ip}\nBrowser: {browser}\n\nIf this wasn't you, someone else knows your password: change it now (Account settings, Security, Change password) to one you use nowhere else, and review your security settings. If it was you, there is nothing to do."
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
                    if crate::recovery_codes::RecoveryCodePolicy::default()
                        .is_running_low(*remaining)
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
        let text = if matches!(
            self,
            Self::OldAppRefused { .. }
                | Self::PasswordStepLocked { .. }
                | Self::SecondStepLocked { .. }
                | Self::WrongCodeAfterPassword { .. }
        ) {
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
    fn an_operators_reset_names_its_reason_in_the_event_and_the_email() {
        let event = SecurityEvent::TwoStepResetByOperator {
            reason: "lost phone, ID checked by video call".into(),
        };
        assert!(
            event
                .summary()
                .contains("lost phone, ID checked by video call")
        );
        let mail = event.notification("twostep", "today", "").unwrap();
        assert!(mail.text.contains("lost phone, ID checked by video call"));
        assert!(mail.text.contains("If this wasn't you"));
    }

    #[test]
    fn the_someone_has_your_password_email_says_when_where_and_what_to_do() {
        let mail = SecurityEvent::WrongCodeAfterPassword {
            ip: "203.0.113.9".into(),
            browser: "Firefox".into(),
        }
        .notification("twostep", "2026-12-01 17:00 UTC", "")
        .unwrap();
        assert_eq!(mail.subject, "Someone has your password");
        for needle in [
            "2026-12-01 17:00 UTC",
            "203.0.113.9",
            "Firefox",
            "change it now",
        ] {
            assert!(mail.text.contains(needle), "{needle}: {}", mail.text);
        }
    }

    #[test]
    fn a_new_password_email_says_applications_are_signed_out_but_devices_still_answer() {
        for event in [SecurityEvent::PasswordChanged, SecurityEvent::PasswordReset] {
            let mail = event
                .notification("twostep", "2026-12-01 17:00 UTC", "")
                .unwrap();
            assert!(
                mail.text.contains("2026-12-01 17:00 UTC. Applications connected to your account were signed out; Anti-Theft devices still answer commands."),
                "{}",
                mail.text
            );
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
    fn the_lock_emails_say_how_to_get_back_in() {
        let password = SecurityEvent::PasswordStepLocked { attempts: 100 }
            .notification("twostep", "today", "")
            .unwrap();
        assert!(
            password.text.contains("Forgot password?"),
            "{}",
            password.text
        );
        let second = SecurityEvent::SecondStepLocked {
            attempts: 10,
            until: "2026-12-01 17:15 UTC".into(),
        }
        .notification("twostep", "today", "")
        .unwrap();
        assert!(
            second.text.contains("until 2026-12-01 17:15 UTC"),
            "{}",
            second.text
        );
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
            SecurityEvent::SessionSignedOut {
                browser: String::new(),
                system: String::new(),
            },
            SecurityEvent::OtherSessionsSignedOut { count: 0 },
            SecurityEvent::TwoStepResetByOperator {
                reason: String::new(),
            },
            SecurityEvent::AccountDisabled,
            SecurityEvent::AccountEnabled,
            SecurityEvent::PasswordAttemptsPaused {
                ip: String::new(),
                attempts: 10,
                minutes: 15,
            },
            SecurityEvent::PasswordStepLocked { attempts: 100 },
            SecurityEvent::SecondStepLocked {
                attempts: 10,
                until: String::new(),
            },
            SecurityEvent::WrongCodeAfterPassword {
                ip: String::new(),
                browser: String::new(),
            },
            SecurityEvent::RecoveryCodesReplaced,
            SecurityEvent::RecoveryCodeUsed { remaining: 0 },
            SecurityEvent::RememberedDevicesForgotten,
            SecurityEvent::SmsRefused {
                refusal: SmsRefusal::ConversionHold,
                ip: String::new(),
                minutes: 1,
            },
        ];
        let kinds: std::collections::HashSet<_> = events.iter().map(SecurityEvent::kind).collect();
        assert_eq!(kinds.len(), events.len());
    }
}
