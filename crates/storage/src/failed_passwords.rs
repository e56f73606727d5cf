//! Counting wrong passwords per typed e-mail address (see `domain::throttle`).

use crate::db::params;
use domain::throttle::{FAILED_PASSWORD_WINDOW_SECONDS, FailedPasswords};

use crate::{Store, StoreError};

impl Store {
    pub async fn failed_passwords(
        &self,
        email: &str,
    ) -> Result<Option<FailedPasswords>, StoreError> {
        self.db
            .read_optional(
                "SELECT count, window_started_at FROM failed_passwords WHERE email = $1",
                params![email],
                |row| {
                    Ok(FailedPasswords {
                        count: row.get("count")?,
                        window_started_at: row.get("window_started_at")?,
                    })
                },
            )
            .await
    }

    /// One more wrong password; a window that has ended starts again at one.
    /// A single statement, so that parallel attempts are all counted.
    pub async fn record_failed_password(&self, email: &str, now: i64) -> Result<(), StoreError> {
        self.db
            .execute(
                "INSERT INTO failed_passwords (email, count, window_started_at) VALUES ($1, 1, $2)
                 ON CONFLICT (email) DO UPDATE SET
                   count = CASE WHEN failed_passwords.window_started_at <= $3 THEN 1 ELSE failed_passwords.count + 1 END,
                   window_started_at = CASE WHEN failed_passwords.window_started_at <= $3 THEN $2 ELSE failed_passwords.window_started_at END",
                params![email, now, now - FAILED_PASSWORD_WINDOW_SECONDS],
            )
            .await?;
        Ok(())
    }

    pub async fn clear_failed_passwords(&self, email: &str) -> Result<(), StoreError> {
        self.db
            .execute(
                "DELETE FROM failed_passwords WHERE email = $1",
                params![email],
            )
            .await?;
        Ok(())
    }
}
