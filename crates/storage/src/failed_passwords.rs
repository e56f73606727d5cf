//! Counting wrong passwords (see `domain::throttle`): per typed address and
//! client IP in a window, and per address in a row from any client. Reserve,
//! then check: every attempt takes its place in both counts before its password
//! is hashed, so that attempts sent in parallel are never checked more often
//! than the limits allow.

use crate::db::{Row, params, statements};
use domain::throttle::{
    ConsecutiveFailures, FailedPasswords, PasswordLimits, PasswordRefused, PasswordStepLocked,
    TooManyFailedPasswords,
};

use crate::{Store, StoreError};

/// Where a password attempt comes from: the typed address and the client's IP.
#[derive(Debug, Clone, Copy)]
pub struct PasswordAttempt<'a> {
    pub email: &'a str,
    pub client: &'a str,
}

/// The places one attempt took; it may be checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReservedPassword {
    pub from_client: FailedPasswords,
    pub consecutive: ConsecutiveFailures,
}

fn failed_passwords_row(row: &Row<'_>) -> Result<FailedPasswords, StoreError> {
    Ok(FailedPasswords {
        count: row.get("count")?,
        window_started_at: row.get("window_started_at")?,
    })
}

impl Store {
    /// The wrong passwords of one client for one address in its current window.
    pub async fn failed_passwords(
        &self,
        attempt: PasswordAttempt<'_>,
    ) -> Result<Option<FailedPasswords>, StoreError> {
        self.db
            .read_optional(
                "SELECT count, window_started_at FROM failed_passwords_by_client
                 WHERE email = $1 AND client = $2",
                params![attempt.email, attempt.client],
                failed_passwords_row,
            )
            .await
    }

    /// Wrong passwords in a row for one address, from any client.
    pub async fn consecutive_failed_passwords(
        &self,
        email: &str,
    ) -> Result<Option<ConsecutiveFailures>, StoreError> {
        self.db
            .read_optional(
                "SELECT consecutive FROM password_step_locks WHERE email = $1",
                params![email],
                |row| Ok(ConsecutiveFailures(row.get("consecutive")?)),
            )
            .await
    }

    /// `ConsecutiveFailures::reserve` then `FailedPasswords::reserve`, each one
    /// insert-or-increment that counts the attempt as wrong unless its limit is
    /// reached. An attempt the second refuses gives its first place back: it is
    /// never checked. Only an attempt with both places may have its password
    /// checked; the right one then clears both with
    /// [`Store::clear_failed_passwords`]. An attempt that gets a place finds
    /// no lock in force, so the notice of an earlier one (under a limit since
    /// raised) is forgotten: it no longer holds the run against a give-back or
    /// a clear, and the next lock is told again.
    pub async fn reserve_password_attempt(
        &self,
        attempt: PasswordAttempt<'_>,
        limits: &PasswordLimits,
        now: i64,
    ) -> Result<Result<ReservedPassword, PasswordRefused>, StoreError> {
        let consecutive = self
            .db
            .fetch_optional(
                "INSERT INTO password_step_locks (email, consecutive) VALUES ($1, 1)
                 ON CONFLICT (email) DO UPDATE SET consecutive = password_step_locks.consecutive + 1,
                   owner_notified_at = NULL
                 WHERE password_step_locks.consecutive < $2
                 RETURNING consecutive",
                params![attempt.email, limits.consecutive],
                |row| Ok(ConsecutiveFailures(row.get("consecutive")?)),
            )
            .await?;
        let Some(consecutive) = consecutive else {
            return Ok(Err(PasswordStepLocked.into()));
        };
        let from_client = self
            .db
            .fetch_optional(
                "INSERT INTO failed_passwords_by_client (email, client, count, window_started_at) VALUES ($1, $2, 1, $3)
                 ON CONFLICT (email, client) DO UPDATE SET
                   count = CASE WHEN failed_passwords_by_client.window_started_at <= $4 THEN 1 ELSE failed_passwords_by_client.count + 1 END,
                   window_started_at = CASE WHEN failed_passwords_by_client.window_started_at <= $4 THEN $3 ELSE failed_passwords_by_client.window_started_at END
                 WHERE failed_passwords_by_client.window_started_at <= $4 OR failed_passwords_by_client.count < $5
                 RETURNING count, window_started_at",
                params![
                    attempt.email,
                    attempt.client,
                    now,
                    now - limits.window_seconds,
                    limits.per_client
                ],
                failed_passwords_row,
            )
            .await?;
        if let Some(from_client) = from_client {
            return Ok(Ok(ReservedPassword {
                from_client,
                consecutive,
            }));
        }
        self.release_consecutive_password(attempt.email).await?;
        // Refused: the row is read only to say how long to wait. Should it have
        // been cleared meanwhile, a second's wait is still the honest answer.
        let retry_after_seconds = self
            .failed_passwords(attempt)
            .await?
            .and_then(|failed| failed.locked_for(limits, now))
            .unwrap_or(1);
        Ok(Err(TooManyFailedPasswords {
            retry_after_seconds,
        }
        .into()))
    }

    /// The right password: this client's count and the address's run of wrong
    /// ones end. A lock already reached (a wrong password took the last place
    /// and claimed the owner's notice) stays: only a reset ends it.
    pub async fn clear_failed_passwords(
        &self,
        attempt: PasswordAttempt<'_>,
    ) -> Result<(), StoreError> {
        self.db
            .execute(
                "DELETE FROM failed_passwords_by_client WHERE email = $1 AND client = $2",
                params![attempt.email, attempt.client],
            )
            .await?;
        self.db
            .execute(
                "DELETE FROM password_step_locks WHERE email = $1 AND owner_notified_at IS NULL",
                params![attempt.email],
            )
            .await?;
        Ok(())
    }

    /// An attempt refused unchecked after its places were taken (the hashing
    /// queue was full) gives both back: nothing was checked.
    pub async fn release_password_attempt(
        &self,
        attempt: PasswordAttempt<'_>,
    ) -> Result<(), StoreError> {
        self.db
            .execute(
                "UPDATE failed_passwords_by_client SET count = count - 1
                 WHERE email = $1 AND client = $2 AND count > 0",
                params![attempt.email, attempt.client],
            )
            .await?;
        self.release_consecutive_password(attempt.email).await
    }
}

statements! {
    /// Gives back a place in the run of wrong passwords; a lock the owner was
    /// already told of stays.
    release_consecutive_password(email: &str) =
        "UPDATE password_step_locks SET consecutive = consecutive - 1
         WHERE email = $1 AND consecutive > 0 AND owner_notified_at IS NULL";
    /// True for the one caller that may tell the owner their password step is
    /// locked: the e-mail goes out once per lock.
    claim_password_lock_notice(email: &str, now: i64, consecutive: i64) -> bool =
        "UPDATE password_step_locks SET owner_notified_at = $2
         WHERE email = $1 AND consecutive >= $3 AND owner_notified_at IS NULL";
}
