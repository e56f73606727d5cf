//! The password step, shared by the sign-in page and the application API: one
//! message and one cost for a wrong e-mail and a wrong password, and limited
//! attempts per typed address (`domain::throttle`).

use domain::Email;
use domain::throttle::TooManyFailedPasswords;
use storage::Account;

use crate::{AppState, WebError};

#[derive(Debug, thiserror::Error)]
pub enum CredentialsError {
    #[error("The e-mail or password is incorrect.")]
    Invalid,
    #[error(transparent)]
    Locked(#[from] TooManyFailedPasswords),
    #[error(transparent)]
    Internal(#[from] WebError),
}

impl From<storage::StoreError> for CredentialsError {
    fn from(error: storage::StoreError) -> Self {
        Self::Internal(error.into())
    }
}

pub async fn check(
    state: &AppState,
    email: &Email,
    password: String,
) -> Result<Account, CredentialsError> {
    let now = state.now();
    let failed = state.store.failed_passwords(email.as_str()).await?;
    if let Some(retry_after_seconds) = failed.as_ref().and_then(|f| f.locked_for(now)) {
        return Err(TooManyFailedPasswords {
            retry_after_seconds,
        }
        .into());
    }
    let account = state.store.account_by_email(email.as_str()).await?;
    let password_ok = state
        .passwords
        .verify_or_decoy(password, account.as_ref().map(|a| a.password_hash.clone()))
        .await;
    match account {
        Some(account) if password_ok => {
            // Most sign-ins follow no wrong password: then there is nothing to
            // clear, and a DELETE would still be a write, waiting for SQLite's lock.
            if failed.is_some() {
                state.store.clear_failed_passwords(email.as_str()).await?;
            }
            Ok(account)
        }
        _ => {
            state
                .store
                .record_failed_password(email.as_str(), now)
                .await?;
            Err(CredentialsError::Invalid)
        }
    }
}
