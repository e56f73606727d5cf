//! Every security change is recorded in the account's security events and, where
//! the owner should know, notified by e-mail. The e-mail goes out in the
//! background: a slow or failing mail server never fails the person's request.

use domain::account::SecurityEvent;
use storage::Account;

use crate::clock::format_time;
use crate::metrics::Delivery;
use crate::{AppState, WebError};

pub async fn record(
    state: &AppState,
    account: &Account,
    event: SecurityEvent,
) -> Result<(), WebError> {
    record_without_email(state, account, &event).await?;
    notify(state, account, &event, state.now());
    Ok(())
}

pub async fn record_without_email(
    state: &AppState,
    account: &Account,
    event: &SecurityEvent,
) -> Result<(), WebError> {
    state
        .store
        .record_event(account.id, event.kind(), &event.summary(), state.now())
        .await?;
    Ok(())
}

/// E-mails the owner about `event`, if it is one they should hear of.
pub fn notify(state: &AppState, account: &Account, event: &SecurityEvent, at: i64) {
    let notification = event.notification(
        &state.settings.service_name,
        &format_time(at),
        &state.settings.url("/downloads"),
    );
    if let Some(notification) = notification {
        send_email(
            state,
            &account.email,
            notification.subject,
            notification.text,
        );
    }
}

/// Sends in the background; the sender retries with backoff and failures are logged.
pub fn send_email(state: &AppState, to: &str, subject: String, text: String) {
    let (sender, metrics) = (state.email.clone(), state.metrics.clone());
    let email = delivery::Email {
        to: to.to_owned(),
        subject,
        text,
    };
    tokio::spawn(async move {
        let sent = sender.send(&email).await;
        metrics.email_sent(Delivery::of(&sent));
        if let Err(error) = sent {
            tracing::error!(%error, subject = %email.subject, "e-mail could not be sent");
        }
    });
}
