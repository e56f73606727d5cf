//! Password reset links, kept as the digest of their token: when each was made,
//! when it expires, whether its SMS code step was passed, and whether it was used.

use crate::db::params;

use crate::{Store, StoreError, flag};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasswordResetRow {
    pub account_id: i64,
    pub created_at: i64,
    pub expires_at: i64,
    pub verified_at: Option<i64>,
    pub used: bool,
    pub wrong_answers: i64,
}

impl Store {
    pub async fn create_password_reset(
        &self,
        token_digest: &[u8],
        account_id: i64,
        now: i64,
        expires_at: i64,
    ) -> Result<(), StoreError> {
        self.db
            .execute(
                "INSERT INTO password_resets (token_digest, account_id, created_at, expires_at, used)
                 VALUES ($1, $2, $3, $4, $5)",
                params![token_digest, account_id, now, expires_at, flag(false)],
            )
            .await?;
        Ok(())
    }

    pub async fn password_reset(
        &self,
        token_digest: &[u8],
    ) -> Result<Option<PasswordResetRow>, StoreError> {
        self.db
            .read_optional(
                "SELECT account_id, created_at, expires_at, verified_at, used, wrong_answers
                 FROM password_resets WHERE token_digest = $1",
                params![token_digest],
                |row| {
                    Ok(PasswordResetRow {
                        account_id: row.get("account_id")?,
                        created_at: row.get("created_at")?,
                        expires_at: row.get("expires_at")?,
                        verified_at: row.get("verified_at")?,
                        used: row.get::<i64>("used")? != 0,
                        wrong_answers: row.get("wrong_answers")?,
                    })
                },
            )
            .await
    }

    /// Counts one more wrong security answer and returns the new count.
    pub async fn record_wrong_reset_answer(&self, token_digest: &[u8]) -> Result<i64, StoreError> {
        let count = self
            .db
            .fetch_optional(
                "UPDATE password_resets SET wrong_answers = wrong_answers + 1
                 WHERE token_digest = $1 RETURNING wrong_answers",
                params![token_digest],
                |row| row.get("wrong_answers"),
            )
            .await?;
        Ok(count.unwrap_or(i64::MAX))
    }

    pub async fn mark_password_reset_verified(
        &self,
        token_digest: &[u8],
        now: i64,
    ) -> Result<(), StoreError> {
        self.db
            .execute(
                "UPDATE password_resets SET verified_at = $2 WHERE token_digest = $1",
                params![token_digest, now],
            )
            .await?;
        Ok(())
    }

    /// Uses the link up: true for exactly one caller. Every other unused link of
    /// the account is used up with it, so an older e-mail cannot reset again.
    pub async fn consume_password_reset(&self, token_digest: &[u8]) -> Result<bool, StoreError> {
        let mut transaction = self.db.begin().await?;
        let consumed = transaction
            .fetch_optional(
                "UPDATE password_resets SET used = $2 WHERE token_digest = $1 AND used = $3
                 RETURNING account_id",
                params![token_digest, flag(true), flag(false)],
                |row| row.get::<i64>("account_id"),
            )
            .await?;
        let Some(account_id) = consumed else {
            return Ok(false);
        };
        transaction
            .execute(
                "UPDATE password_resets SET used = $2 WHERE account_id = $1 AND used = $3",
                params![account_id, flag(true), flag(false)],
            )
            .await?;
        transaction.commit().await?;
        Ok(true)
    }
}
