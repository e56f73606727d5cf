//! Tries, timeouts and the pause between tries, shared by the Kannel and SMTP providers.
//!
//! Only failures that may pass (no connection, no answer in time, a server error) are tried again;
//! a refusal is final, since sending the same message again would be refused again.

use std::future::Future;
use std::time::Duration;

use crate::DeliveryError;

/// More would keep a person waiting for minutes on a page that sends a code.
pub(crate) const MOST_RETRIES: u32 = 10;

const FIRST_PAUSE: Duration = Duration::from_millis(200);
// Keeps a large `retries` from making a person wait minutes for an SMS that will not come.
const LONGEST_PAUSE: Duration = Duration::from_secs(5);

/// Refuses, at start-up, a `timeout_ms` of 0 and more than `MOST_RETRIES`
/// retries in the settings of `section` (`sms`, `email`).
pub(crate) fn check_settings(
    section: &str,
    timeout_ms: u64,
    retries: u32,
) -> Result<(), DeliveryError> {
    let invalid = |reason: String| Err(DeliveryError::InvalidSettings { reason });
    if timeout_ms == 0 {
        return invalid(format!("{section}.timeout_ms must be more than 0"));
    }
    if retries > MOST_RETRIES {
        return invalid(format!("{section}.retries must be at most {MOST_RETRIES}"));
    }
    Ok(())
}

/// How one try ended, when it did not succeed.
pub(crate) enum Failure {
    /// Worth another try.
    Transient(DeliveryError),
    /// Final.
    Permanent(DeliveryError),
}

pub(crate) struct Policy {
    pub timeout: Duration,
    pub retries: u32,
}

/// Runs `attempt` up to `1 + retries` times, each bounded by `timeout`, pausing 200 ms, 400 ms,
/// ... in between. `timed_out` makes the error for a try that ran out of time; `to` says who the
/// message is for in logs, and must already be masked.
pub(crate) async fn with_retries<F, Fut>(
    policy: &Policy,
    to: &str,
    timed_out: impl Fn() -> DeliveryError,
    mut attempt: F,
) -> Result<(), DeliveryError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<(), Failure>>,
{
    let mut pause = FIRST_PAUSE;
    let mut tries = 0;
    loop {
        tries += 1;
        let outcome = match tokio::time::timeout(policy.timeout, attempt()).await {
            Ok(outcome) => outcome,
            Err(_) => Err(Failure::Transient(timed_out())),
        };
        match outcome {
            Ok(()) => return Ok(()),
            Err(Failure::Permanent(error)) => return Err(error),
            Err(Failure::Transient(error)) if tries > policy.retries => return Err(error),
            Err(Failure::Transient(error)) => {
                tracing::warn!(
                    to,
                    try_number = tries,
                    pause_ms = pause.as_millis() as u64,
                    reason = %error,
                    "sending failed; trying again"
                );
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(LONGEST_PAUSE);
            }
        }
    }
}

/// A phone number as logs may show it: its last two digits.
pub(crate) fn phone_hint(number: &str) -> String {
    let last: Vec<char> = number.chars().rev().take(2).collect();
    format!("…{}", last.into_iter().rev().collect::<String>())
}

/// An e-mail address as logs may show it: its domain.
pub(crate) fn email_hint(address: &str) -> String {
    match address.rsplit_once('@') {
        Some((_, domain)) => format!("…@{}", domain.trim_end_matches('>')),
        None => "…".to_owned(),
    }
}

/// An error and its causes on one line, as `outer: inner: innermost`.
pub(crate) fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        // Some errors repeat their cause in their own message.
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}
