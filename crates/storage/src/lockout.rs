//! The account-wide count of wrong second-step codes (see `domain::lockout`)
//! and the claim of the "someone has your password" alert. Reserve, then
//! check: an attempt takes its place in one insert-or-increment before any
//! code is compared.

use domain::AccountId;
use domain::lockout::{SecondStepLimits, SecondStepLocked, WrongCodes};

use crate::db::{Row, params, statements};
use crate::{Store, StoreError};

fn wrong_codes_row(row: &Row<'_>) -> Result<WrongCodes, StoreError> {
    Ok(WrongCodes {
        count: row.get("consecutive")?,
        locked_until: row.get("locked_until")?,
    })
}

impl Store {
    pub async fn wrong_second_step_codes(
        &self,
        account_id: AccountId,
    ) -> Result<Option<WrongCodes>, StoreError> {
        self.db
            .read_optional(
                "SELECT consecutive, locked_until FROM second_step_failures WHERE account_id = $1",
                params![account_id],
                wrong_codes_row,
            )
            .await
    }

    /// `WrongCodes::reserve` as one statement: the attempt counts itself as
    /// wrong unless the second step is locked; the one that takes the last
    /// place starts the lock; a lock that has run out starts the count again.
    /// Only a lock refuses, not the count: a count already at a limit lowered
    /// since (a restart with a smaller `consecutive`) takes one more place and
    /// starts the lock, as the domain says, rather than refusing forever.
    pub async fn reserve_second_step_attempt(
        &self,
        account_id: AccountId,
        limits: &SecondStepLimits,
        now: i64,
    ) -> Result<Result<WrongCodes, SecondStepLocked>, StoreError> {
        let reserved = self
            .db
            .fetch_optional(
                "INSERT INTO second_step_failures (account_id, consecutive, locked_until)
                 VALUES ($1, 1, CASE WHEN $3 <= 1 THEN $2 + $4 ELSE NULL END)
                 ON CONFLICT (account_id) DO UPDATE SET
                   consecutive = CASE WHEN second_step_failures.locked_until <= $2 THEN 1
                                      ELSE second_step_failures.consecutive + 1 END,
                   locked_until = CASE
                     WHEN second_step_failures.locked_until <= $2 THEN (CASE WHEN $3 <= 1 THEN $2 + $4 ELSE NULL END)
                     WHEN second_step_failures.consecutive + 1 >= $3 THEN $2 + $4
                     ELSE NULL END
                 WHERE second_step_failures.locked_until IS NULL OR second_step_failures.locked_until <= $2
                 RETURNING consecutive, locked_until",
                params![account_id, now, limits.consecutive, limits.lock_seconds],
                wrong_codes_row,
            )
            .await?;
        if let Some(reserved) = reserved {
            return Ok(Ok(reserved));
        }
        // Refused: the row is read only to say until when. Cleared meanwhile by
        // a right code, a short wait is still the honest answer.
        let until = self
            .wrong_second_step_codes(account_id)
            .await?
            .and_then(|wrong| wrong.locked(now))
            .map_or(now + 1, |locked| locked.until);
        Ok(Err(SecondStepLocked { until }))
    }
}

statements! {
    /// A right code: the run of wrong ones, and any lock, ends.
    clear_second_step_failures(account_id: AccountId) =
        "DELETE FROM second_step_failures WHERE account_id = $1";
    /// An attempt refused unchecked after it took its place (the code had
    /// expired, the step's own attempts were spent) gives the place back, and
    /// with it a lock that place had started.
    release_second_step_attempt(account_id: AccountId, consecutive: i64) =
        "UPDATE second_step_failures SET consecutive = consecutive - 1,
           locked_until = CASE WHEN consecutive - 1 < $2 THEN NULL ELSE locked_until END
         WHERE account_id = $1 AND consecutive > 0";
    /// True for the one caller that may tell the owner someone has their
    /// password: at most once per interval, whoever races.
    claim_password_alert(account_id: AccountId, now: i64, sent_before: i64) -> bool =
        "INSERT INTO password_alerts (account_id, sent_at) VALUES ($1, $2)
         ON CONFLICT (account_id) DO UPDATE SET sent_at = $2
         WHERE password_alerts.sent_at <= $3";
}
