//! The account as a whole under attack at its second step: the account-wide
//! count of wrong codes that every method and entrance goes through
//! (`domain::lockout`), the lock it starts, and the "someone has your password"
//! alert.

use domain::AccountId;
use domain::account::SecurityEvent;
use domain::lockout::{SecondStepLocked, WrongCodes};
use storage::Account;

use super::{Checked, VerifyError};
use crate::clock::format_time;
use crate::metrics::Limit;
use crate::session::Requester;
use crate::{AppState, WebError, security_events};

/// An attempt's place in the account-wide count of wrong second-step codes
/// (`domain::lockout`), the one count every second-step code goes through,
/// whatever its method or entrance. A method takes the place after the
/// method's own (the code's five entries, the step's three attempts) and
/// before comparing anything, so that attempts the method turns away
/// uncompared never hold one: a burst of guesses counts only the codes
/// actually compared, and cannot lock every method, nor have the owner told,
/// on the strength of attempts that were never checked. [`Self::count`] then
/// settles the place by the check's outcome.
pub struct AccountWidePlace<'a> {
    state: &'a AppState,
    account_id: AccountId,
    taken: Option<WrongCodes>,
}

impl<'a> AccountWidePlace<'a> {
    pub fn new(state: &'a AppState, account_id: AccountId) -> Self {
        Self {
            state,
            account_id,
            taken: None,
        }
    }

    /// Takes the place, or refuses while the second step is locked; the caller
    /// then gives its own place back and compares nothing.
    pub async fn take(&mut self) -> Result<(), VerifyError> {
        let state = self.state;
        let reserved = state
            .store
            .reserve_second_step_attempt(
                self.account_id,
                &state.settings.second_step_limits,
                state.now(),
            )
            .await
            .map_err(WebError::from)?;
        match reserved {
            Ok(reserved) => {
                self.taken = Some(reserved);
                Ok(())
            }
            Err(locked) => {
                state.metrics.limit_hit(Limit::SecondStepLock);
                Err(VerifyError::Locked(locked))
            }
        }
    }

    async fn lock_in_force(&self) -> Result<Option<VerifyError>, WebError> {
        let wrong_codes = self
            .state
            .store
            .wrong_second_step_codes(self.account_id)
            .await?;
        let now = self.state.now();
        Ok(wrong_codes
            .and_then(|wrong| wrong.locked(now))
            .map(VerifyError::Locked))
    }

    /// Counts the check's outcome: a compared wrong code keeps the place (the
    /// one that took the last place locks every method and tells the owner), a
    /// right one clears the count, and a code refused after taking the place,
    /// before any comparison, gives it back. An attempt refused before it took
    /// a place has nothing to count; while the second step is locked it says
    /// so, rather than its method's own refusal (the step's three attempts
    /// spent, say), as the lock is what the person waits for.
    pub async fn count<T>(self, account: &Account, checked: Checked<T>) -> Checked<T> {
        let state = self.state;
        let Some(reserved) = self.taken else {
            return match checked {
                Err(VerifyError::Internal(error)) => Err(VerifyError::Internal(error)),
                Err(refused) => Err(self.lock_in_force().await?.unwrap_or(refused)),
                compared => compared,
            };
        };
        let limits = state.settings.second_step_limits;
        let store = &state.store;
        match checked {
            Ok(Ok(passed)) => {
                store
                    .clear_second_step_failures(account.id)
                    .await
                    .map_err(WebError::from)?;
                Ok(Ok(passed))
            }
            // The wrong code that locked: it says so at once, as the fifth wrong
            // entry of an SMS code says "too many" rather than "0 attempts left".
            Ok(Err(_)) if reserved.locks(&limits) => {
                let locked = second_step_locked(state, account, reserved).await?;
                Ok(Err(VerifyError::Locked(locked)))
            }
            Ok(Err(wrong)) => Ok(Err(wrong)),
            Err(unchecked) => {
                store
                    .release_second_step_attempt(account.id, limits.consecutive)
                    .await
                    .map_err(WebError::from)?;
                Err(unchecked)
            }
        }
    }
}

/// The wrong code that took the last place: recorded and e-mailed to the owner,
/// once per lock, as only one attempt takes that place.
async fn second_step_locked(
    state: &AppState,
    account: &Account,
    reserved: WrongCodes,
) -> Result<SecondStepLocked, WebError> {
    tracing::warn!(
        account_id = account.id.get(),
        "second step locked after too many wrong codes in a row"
    );
    let until = reserved.locked_until.unwrap_or_else(|| state.now());
    let event = SecurityEvent::SecondStepLocked {
        attempts: reserved.count,
        until: format_time(until),
    };
    security_events::record(state, account, event).await?;
    Ok(SecondStepLocked { until })
}

/// A wrong code after the right password: the owner hears that someone has
/// their password, at most once per `alert_interval_seconds` whoever races.
pub(super) async fn someone_has_the_password(
    state: &AppState,
    account: &Account,
    from: &Requester,
) -> Result<(), WebError> {
    let now = state.now();
    let sent_before = state.settings.second_step_limits.alert_sent_before(now);
    if !state
        .store
        .claim_password_alert(account.id, now, sent_before)
        .await?
    {
        return Ok(());
    }
    let event = SecurityEvent::WrongCodeAfterPassword {
        ip: from.ip_text(),
        browser: from.browser(),
    };
    security_events::record(state, account, event).await
}
