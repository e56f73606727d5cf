//! Counting wrong passwords per typed e-mail address (see `domain::throttle`).
//! Reserve, then check: every attempt takes its place before its password is
//! hashed, so that attempts sent in parallel are never checked more than
//! `MAX_FAILED_PASSWORDS` times in one window.

use crate::db::{Row, params, statements};
use domain::throttle::{
    FAILED_PASSWORD_WINDOW_SECONDS, FailedPasswords, MAX_FAILED_PASSWORDS, TooManyFailedPasswords,
};

use crate::{Store, StoreError};

fn failed_passwords_row(row: &Row<'_>) -> Result<FailedPasswords, StoreError> {
    Ok(FailedPasswords {
        count: row.get("count")?,
        window_started_at: row.get("window_started_at")?,
    })
}

impl Store {
    pub async fn failed_passwords(
        &self,
        email: &str,
    ) -> Result<Option<FailedPasswords>, StoreError> {
        self.db
            .read_optional(
                "SELECT count, window_started_at FROM failed_passwords WHERE email = $1",
                params![email],
                failed_passwords_row,
            )
            .await
    }

    /// `FailedPasswords::reserve` as one insert-or-increment: the attempt counts
    /// itself as wrong (a window that has ended starts again at one) unless the
    /// address is locked, and answers the new count. Only an attempt that got a
    /// place may have its password checked; the right one then clears the count
    /// with [`Store::clear_failed_passwords`].
    pub async fn reserve_password_attempt(
        &self,
        email: &str,
        now: i64,
    ) -> Result<Result<FailedPasswords, TooManyFailedPasswords>, StoreError> {
        let reserved = self
            .db
            .fetch_optional(
                "INSERT INTO failed_passwords (email, count, window_started_at) VALUES ($1, 1, $2)
                 ON CONFLICT (email) DO UPDATE SET
                   count = CASE WHEN failed_passwords.window_started_at <= $3 THEN 1 ELSE failed_passwords.count + 1 END,
                   window_started_at = CASE WHEN failed_passwords.window_started_at <= $3 THEN $2 ELSE failed_passwords.window_started_at END
                 WHERE failed_passwords.window_started_at <= $3 OR failed_passwords.count < $4
                 RETURNING count, window_started_at",
                params![
                    email,
                    now,
                    now - FAILED_PASSWORD_WINDOW_SECONDS,
                    MAX_FAILED_PASSWORDS
                ],
                failed_passwords_row,
            )
            .await?;
        if let Some(reserved) = reserved {
            return Ok(Ok(reserved));
        }
        // Refused: the row is read only to say how long to wait. Should it have
        // been cleared meanwhile, a second's wait is still the honest answer.
        let retry_after_seconds = self
            .failed_passwords(email)
            .await?
            .and_then(|failed| failed.locked_for(now))
            .unwrap_or(1);
        Ok(Err(TooManyFailedPasswords {
            retry_after_seconds,
        }))
    }
}

statements! {
    clear_failed_passwords(email: &str) = "DELETE FROM failed_passwords WHERE email = $1";
    /// An attempt refused unchecked after its place was taken (the hashing
    /// queue was full) gives the place back: nothing was checked.
    release_password_attempt(email: &str) =
        "UPDATE failed_passwords SET count = count - 1 WHERE email = $1 AND count > 0";
}
