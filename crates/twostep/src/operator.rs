//! `twostep user show / reset-two-step / disable / enable`: what an operator
//! does for a person who cannot help themselves, each change one store
//! transaction with its security event, and the owner e-mailed at once.
//! Nothing printed is a secret: no phone number, key, hash or digest.

use domain::email_confirmation::AddressState;
use std::fmt::Write as _;

use domain::account::SecurityEvent;
use domain::security_question::SecurityQuestionState;
use domain::user_agent::UserAgent;
use domain::{Email, Method};
use storage::{Account, EventRecord, Store};
use web::{Clock, format_time};

use crate::app::{self, Senders, StartError};
use crate::cli::CliError;
use crate::config::Config;

/// How many security events `user show` lists.
const EVENTS_SHOWN: i64 = 10;

async fn find_account(store: &Store, email: &str) -> Result<Account, CliError> {
    let email = Email::parse(email).map_err(|e| CliError::Input(e.to_string()))?;
    store
        .account_by_email(email.as_str())
        .await
        .map_err(StartError::from)?
        .ok_or_else(|| CliError::Input(format!("There is no account with the e-mail {email}.")))
}

pub async fn show(config: &Config, email: &str) -> Result<(), CliError> {
    let store = app::open_store(config).await?;
    let account = find_account(&store, email).await?;
    print!("{}", describe(config, &store, &account).await?);
    Ok(())
}

async fn describe(config: &Config, store: &Store, account: &Account) -> Result<String, CliError> {
    let sessions = store
        .sessions_of_account(account.id)
        .await
        .map_err(StartError::from)?;
    let connections = store
        .connections_of_account(account.id)
        .await
        .map_err(StartError::from)?;
    let events = store
        .recent_events(account.id, EVENTS_SHOWN)
        .await
        .map_err(StartError::from)?;
    let two_step = account.two_step();
    let mut out = String::new();
    // Writing to a String cannot fail.
    let _ = writeln!(out, "Account: {} (id {})", account.email, account.id.get());
    let _ = writeln!(out, "Created: {}", format_time(account.created_at));
    let _ = writeln!(
        out,
        "Status: {}",
        match account.disabled_at {
            Some(at) => format!("disabled since {}", format_time(at)),
            None => "active".into(),
        }
    );
    let _ = writeln!(
        out,
        "E-mail confirmed: {}",
        match account.address() {
            AddressState::Confirmed => "yes".to_owned(),
            AddressState::Unconfirmed { since } => format!("no (signed up {})", format_time(since)),
        }
    );
    let methods: Vec<&str> = two_step
        .methods()
        .into_iter()
        .map(|method| match method {
            Method::Authenticator => "authenticator app",
            Method::Sms => "SMS",
            Method::RecoveryCode => "recovery codes",
        })
        .collect();
    let _ = writeln!(
        out,
        "Two-step verification: {}",
        if two_step.is_on() {
            format!("on ({})", methods.join(", "))
        } else {
            "off".into()
        }
    );
    let question = SecurityQuestionState::from_stored(
        account.security_question.clone(),
        account.security_question_disabled,
        two_step,
    );
    let _ = writeln!(
        out,
        "Security question: {}",
        match question {
            SecurityQuestionState::Set { .. } => "set",
            SecurityQuestionState::NotSet => "not set",
            SecurityQuestionState::PermanentlyDisabled => "permanently disabled",
        }
    );
    if two_step.is_on() {
        let left = store
            .recovery_codes_left(account.id)
            .await
            .map_err(StartError::from)?;
        let _ = writeln!(out, "Recovery codes left: {left}");
    }
    let _ = writeln!(out, "Sessions: {}", sessions.len());
    for session in &sessions {
        let agent = UserAgent::parse(session.user_agent.as_deref().unwrap_or_default());
        let _ = writeln!(
            out,
            "  {} on {}, {}, signed in {}, last active {}",
            agent.browser,
            agent.system,
            session.ip_address.as_deref().unwrap_or("Unknown"),
            format_time(session.created_at),
            format_time(session.last_seen_at)
        );
    }
    let _ = writeln!(out, "Connected applications: {}", connections.len());
    for connection in &connections {
        let app = config
            .apps
            .find(&connection.app_id)
            .map_or(connection.app_id.as_str(), |app| app.name.as_str());
        let _ = writeln!(
            out,
            "  {app} {} on {}, connected {}, last used {}",
            connection.app_version,
            connection.device_name,
            format_time(connection.created_at),
            format_time(connection.last_used_at)
        );
    }
    let _ = writeln!(out, "Last security events:");
    for event in &events {
        let _ = writeln!(out, "  {} {}", format_time(event.created_at), event.summary);
    }
    Ok(out)
}

/// For a person who has lost every factor, once the operator has checked who
/// they are: two-step off by the core's own rule (turning SMS off turns the
/// authenticator off), every session and token ended, the reason recorded.
pub async fn reset_two_step(config: &Config, email: &str, reason: &str) -> Result<(), CliError> {
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(CliError::Input(
            "Give the reason (--reason), for the account's security events.".into(),
        ));
    }
    let senders = Senders::from_config(config)?;
    let store = app::open_store(config).await?;
    let account = find_account(&store, email).await?;
    account
        .two_step()
        .turning_off_sms_turns_off_authenticator()
        .map_err(|_| {
            CliError::Input(format!(
                "Two-step verification is already off for {}.",
                account.email
            ))
        })?;
    let event = SecurityEvent::TwoStepResetByOperator {
        reason: reason.to_owned(),
    };
    let now = Clock::default().now();
    let reset = store
        .reset_two_step(account.id, record(&event, now).as_record())
        .await
        .map_err(StartError::from)?;
    println!(
        "Two-step verification is off for {}: {} session(s) ended, {} application(s) signed out.",
        account.email, reset.sessions_ended, reset.tokens_revoked
    );
    notify(config, &senders, &account, &event, now).await
}

/// `user disable`: no sign-in, no application, every session and token ended.
pub async fn disable(config: &Config, email: &str) -> Result<(), CliError> {
    let senders = Senders::from_config(config)?;
    let store = app::open_store(config).await?;
    let account = find_account(&store, email).await?;
    let event = SecurityEvent::AccountDisabled;
    let now = Clock::default().now();
    if !store
        .disable_account(account.id, record(&event, now).as_record())
        .await
        .map_err(StartError::from)?
    {
        return Err(CliError::Input(format!(
            "The account {} is already disabled.",
            account.email
        )));
    }
    println!(
        "Disabled the account {}: it cannot sign in or connect applications.",
        account.email
    );
    notify(config, &senders, &account, &event, now).await
}

pub async fn enable(config: &Config, email: &str) -> Result<(), CliError> {
    let senders = Senders::from_config(config)?;
    let store = app::open_store(config).await?;
    let account = find_account(&store, email).await?;
    let event = SecurityEvent::AccountEnabled;
    let now = Clock::default().now();
    if !store
        .enable_account(account.id, record(&event, now).as_record())
        .await
        .map_err(StartError::from)?
    {
        return Err(CliError::Input(format!(
            "The account {} is not disabled.",
            account.email
        )));
    }
    println!(
        "Enabled the account {}: it can sign in again.",
        account.email
    );
    notify(config, &senders, &account, &event, now).await
}

/// An event's stored form, owned for as long as the store needs it.
struct Recorded {
    kind: &'static str,
    summary: String,
    now: i64,
}

impl Recorded {
    fn as_record(&self) -> EventRecord<'_> {
        EventRecord {
            kind: self.kind,
            summary: &self.summary,
            now: self.now,
        }
    }
}

fn record(event: &SecurityEvent, now: i64) -> Recorded {
    Recorded {
        kind: event.kind(),
        summary: event.summary(),
        now,
    }
}

/// The owner hears at once, and the operator learns if they could not.
async fn notify(
    config: &Config,
    senders: &Senders,
    account: &Account,
    event: &SecurityEvent,
    at: i64,
) -> Result<(), CliError> {
    let downloads = format!("{}/downloads", config.public_url);
    let Some(notification) = event.notification(&config.service_name, &format_time(at), &downloads)
    else {
        return Ok(());
    };
    let email = delivery::Email {
        to: account.email.clone(),
        subject: notification.subject,
        text: notification.text,
    };
    senders
        .email
        .send(&email)
        .await
        .map_err(CliError::NotifyOwner)?;
    println!("E-mailed the owner at {}.", account.email);
    Ok(())
}
