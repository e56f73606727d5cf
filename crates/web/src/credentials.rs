//! The password step, shared by the sign-in page, the application API and the
//! password re-entry before a security change: one message and one cost for a
//! wrong e-mail and a wrong password, and limited attempts
//! (`domain::throttle`), reserved before the check: per typed address and
//! client IP in a window, and per address in a row from anywhere.

use domain::Email;
use domain::account::SecurityEvent;
use domain::throttle::{PasswordLimits, PasswordRefused};
use storage::{Account, PasswordAttempt, ReservedPassword};

use crate::metrics::SignInResult;
use crate::session::Requester;
use crate::{AppState, WebError, security_events};

#[derive(Debug, thiserror::Error)]
pub enum CredentialsError {
    #[error("The e-mail or password is incorrect.")]
    Invalid,
    #[error(transparent)]
    Refused(#[from] PasswordRefused),
    /// Said only after the right password: a wrong one learns nothing.
    #[error("This account has been disabled. Contact support to enable it again.")]
    Disabled,
    #[error(transparent)]
    Internal(#[from] WebError),
}

impl From<crate::Overloaded> for CredentialsError {
    fn from(busy: crate::Overloaded) -> Self {
        Self::Internal(busy.into())
    }
}

impl From<storage::StoreError> for CredentialsError {
    fn from(error: storage::StoreError) -> Self {
        Self::Internal(error.into())
    }
}

/// Reserve, then check: the attempt takes its places in the counts before the
/// password is hashed, so that no more passwords are ever checked than the
/// limits allow, however many arrive at once; the right password then clears
/// the counts.
pub async fn check(
    state: &AppState,
    email: &Email,
    password: String,
    from: &Requester,
) -> Result<Account, CredentialsError> {
    let account = state.store.account_by_email(email.as_str()).await?;
    let hash = account.as_ref().map(|a| a.password_hash.clone());
    if check_password(state, email.as_str(), hash, password, from).await? {
        // `check_password` is true only for an account's own password.
        let account = account.ok_or(CredentialsError::Invalid)?;
        if account.is_disabled() {
            return Err(CredentialsError::Disabled);
        }
        Ok(account)
    } else {
        Err(CredentialsError::Invalid)
    }
}

/// The password of `email`'s account (`phc`, none for an unknown address)
/// checked under the limits; the answer is whether it was right. A wrong one
/// that makes its client wait, or locks the address, is recorded for the
/// account and, for the lock, e-mailed to the owner once.
pub async fn check_password(
    state: &AppState,
    email: &str,
    phc: Option<String>,
    password: String,
    from: &Requester,
) -> Result<bool, CredentialsError> {
    let now = state.now();
    let limits = state.settings.password_limits;
    let client = from.ip_text();
    let attempt = PasswordAttempt {
        email,
        client: &client,
    };
    let reserved = state
        .store
        .reserve_password_attempt(attempt, &limits, now)
        .await?
        .inspect_err(|_| state.metrics.sign_in(SignInResult::Locked))?;
    // Then a place in the hashing queue; refused for load, the attempt gives
    // its places in the counts back, as nothing was checked.
    let place = match state.passwords.reserve() {
        Ok(place) => place,
        Err(busy) => {
            state.store.release_password_attempt(attempt).await?;
            return Err(busy.into());
        }
    };
    let known = phc.is_some();
    let right = place.verify_or_decoy(password, phc).await && known;
    if right {
        state.store.clear_failed_passwords(attempt).await?;
        state.metrics.sign_in(SignInResult::Accepted);
    } else {
        // The places taken above stay: it was a wrong password.
        state.metrics.sign_in(SignInResult::WrongPassword);
        if known {
            wrong_password_reached_a_limit(state, email, from, &limits, reserved).await?;
        }
    }
    Ok(right)
}

/// The wrong password that took the last place of a count: its client now
/// waits, or the address is locked. Recorded once each, as only one attempt
/// takes each last place; the lock is e-mailed to the owner once.
async fn wrong_password_reached_a_limit(
    state: &AppState,
    email: &str,
    from: &Requester,
    limits: &PasswordLimits,
    reserved: ReservedPassword,
) -> Result<(), WebError> {
    let locks = reserved.consecutive.locks(limits);
    let pauses = reserved.from_client.is_last_place(limits);
    if !locks && !pauses {
        return Ok(());
    }
    let Some(account) = state.store.account_by_email(email).await? else {
        return Ok(());
    };
    if pauses {
        let event = SecurityEvent::PasswordAttemptsPaused {
            ip: from.ip_text(),
            attempts: limits.per_client,
            minutes: domain::throttle::minutes(limits.window_seconds),
        };
        security_events::record(state, &account, event).await?;
    }
    if locks
        && state
            .store
            .claim_password_lock_notice(email, state.now(), limits.consecutive)
            .await?
    {
        tracing::warn!(
            account_id = account.id.get(),
            "password step locked after too many wrong passwords in a row"
        );
        let event = SecurityEvent::PasswordStepLocked {
            attempts: limits.consecutive,
        };
        security_events::record(state, &account, event).await?;
    }
    Ok(())
}
