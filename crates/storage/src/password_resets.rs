//! Password reset links, kept as the digest of their token: when each was made,
//! when it expires, whether its SMS code step was passed, and whether it was used.

use sqlx::Row;

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
        sqlx::query(
            "INSERT INTO password_resets (token_digest, account_id, created_at, expires_at, used)
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(token_digest)
        .bind(account_id)
        .bind(now)
        .bind(expires_at)
        .bind(flag(false))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn password_reset(
        &self,
        token_digest: &[u8],
    ) -> Result<Option<PasswordResetRow>, StoreError> {
        let row = sqlx::query(
            "SELECT account_id, created_at, expires_at, verified_at, used, wrong_answers
             FROM password_resets WHERE token_digest = $1",
        )
        .bind(token_digest)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        Ok(Some(PasswordResetRow {
            account_id: row.try_get("account_id")?,
            created_at: row.try_get("created_at")?,
            expires_at: row.try_get("expires_at")?,
            verified_at: row.try_get("verified_at")?,
            used: row.try_get::<i64, _>("used")? != 0,
            wrong_answers: row.try_get("wrong_answers")?,
        }))
    }

    /// Counts one more wrong security answer and returns the new count.
    pub async fn record_wrong_reset_answer(&self, token_digest: &[u8]) -> Result<i64, StoreError> {
        let row = sqlx::query(
            "UPDATE password_resets SET wrong_answers = wrong_answers + 1
             WHERE token_digest = $1 RETURNING wrong_answers",
        )
        .bind(token_digest)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row
            .map(|row| row.try_get("wrong_answers"))
            .transpose()?
            .unwrap_or(i64::MAX))
    }

    pub async fn mark_password_reset_verified(
        &self,
        token_digest: &[u8],
        now: i64,
    ) -> Result<(), StoreError> {
        sqlx::query("UPDATE password_resets SET verified_at = $2 WHERE token_digest = $1")
            .bind(token_digest)
            .bind(now)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Uses the link up: true for exactly one caller. Every other unused link of
    /// the account is used up with it, so an older e-mail cannot reset again.
    pub async fn consume_password_reset(&self, token_digest: &[u8]) -> Result<bool, StoreError> {
        let mut transaction = self.pool.begin().await?;
        let consumed = sqlx::query(
            "UPDATE password_resets SET used = $2 WHERE token_digest = $1 AND used = $3
             RETURNING account_id",
        )
        .bind(token_digest)
        .bind(flag(true))
        .bind(flag(false))
        .fetch_optional(&mut *transaction)
        .await?;
        let Some(consumed) = consumed else {
            return Ok(false);
        };
        let account_id: i64 = consumed.try_get("account_id")?;
        sqlx::query("UPDATE password_resets SET used = $2 WHERE account_id = $1 AND used = $3")
            .bind(account_id)
            .bind(flag(true))
            .bind(flag(false))
            .execute(&mut *transaction)
            .await?;
        transaction.commit().await?;
        Ok(true)
    }
}
