//! The password step, shared by the sign-in page and the application API: one
//! message and one cost for a wrong e-mail and a wrong password, and limited
//! attempts per typed address (`domain::throttle`), reserved before the check.

use domain::Email;
use domain::throttle::TooManyFailedPasswords;
use storage::Account;

use crate::metrics::SignInResult;
use crate::{AppState, WebError};

#[derive(Debug, thiserror::Error)]
pub enum CredentialsError {
    #[error("The e-mail or password is incorrect.")]
    Invalid,
    #[error(transparent)]
    Locked(#[from] TooManyFailedPasswords),
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

/// Reserve, then check: the attempt takes its place in the address's count
/// before the password is hashed, so that at most `MAX_FAILED_PASSWORDS`
/// passwords are ever checked per address and window, however many arrive at
/// once; the right password then clears the count.
pub async fn check(
    state: &AppState,
    email: &Email,
    password: String,
) -> Result<Account, CredentialsError> {
    let now = state.now();
    state
        .store
        .reserve_password_attempt(email.as_str(), now)
        .await?
        .inspect_err(|_| state.metrics.sign_in(SignInResult::Locked))?;
    // Then a place in the hashing queue; refused for load, the attempt gives
    // its place in the count back, as nothing was checked.
    let place = match state.passwords.reserve() {
        Ok(place) => place,
        Err(busy) => {
            state.store.release_password_attempt(email.as_str()).await?;
            return Err(busy.into());
        }
    };
    let account = state.store.account_by_email(email.as_str()).await?;
    let password_ok = place
        .verify_or_decoy(password, account.as_ref().map(|a| a.password_hash.clone()))
        .await;
    match account {
        Some(account) if password_ok => {
            state.store.clear_failed_passwords(email.as_str()).await?;
            if account.disabled_at.is_some() {
                return Err(CredentialsError::Disabled);
            }
            state.metrics.sign_in(SignInResult::Accepted);
            Ok(account)
        }
        // The place taken above stays: it was a wrong password.
        _ => {
            state.metrics.sign_in(SignInResult::WrongPassword);
            Err(CredentialsError::Invalid)
        }
    }
}
