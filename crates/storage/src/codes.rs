//! One-time SMS codes as the domain issues them: one per account and purpose
//! (a new code replaces the last), with the count of wrong entries and whether
//! the code was used, changed only by compare-and-set.

use domain::{CodePurpose, IssuedCode};
use sqlx::Row;

use crate::{Store, StoreError, flag};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredCode {
    pub code: IssuedCode,
    /// The sealed phone number the code was sent to, when that is not the
    /// account's own (a new number being confirmed).
    pub destination_enc: Option<Vec<u8>>,
}

impl Store {
    pub async fn save_code(
        &self,
        account_id: i64,
        code: &IssuedCode,
        destination_enc: Option<Vec<u8>>,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO one_time_codes
                 (account_id, purpose, digest, bound_to, destination_enc, issued_at, expires_at, wrong_entries, used)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
             ON CONFLICT (account_id, purpose) DO UPDATE SET
                 digest = excluded.digest, bound_to = excluded.bound_to,
                 destination_enc = excluded.destination_enc, issued_at = excluded.issued_at,
                 expires_at = excluded.expires_at, wrong_entries = excluded.wrong_entries,
                 used = excluded.used",
        )
        .bind(account_id)
        .bind(code.purpose.as_str())
        .bind(code.digest.as_slice())
        .bind(code.bound_to.as_slice())
        .bind(destination_enc)
        .bind(code.issued_at)
        .bind(code.expires_at)
        .bind(i64::from(code.wrong_entries))
        .bind(flag(code.used))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn code(
        &self,
        account_id: i64,
        purpose: CodePurpose,
    ) -> Result<Option<StoredCode>, StoreError> {
        let row = sqlx::query(
            "SELECT digest, bound_to, destination_enc, issued_at, expires_at, wrong_entries, used
             FROM one_time_codes WHERE account_id = $1 AND purpose = $2",
        )
        .bind(account_id)
        .bind(purpose.as_str())
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let wrong_entries: i64 = row.try_get("wrong_entries")?;
        Ok(Some(StoredCode {
            code: IssuedCode {
                purpose,
                digest: row.try_get("digest")?,
                bound_to: row.try_get("bound_to")?,
                issued_at: row.try_get("issued_at")?,
                expires_at: row.try_get("expires_at")?,
                // A count that does not fit reads as "too many", the safe side.
                wrong_entries: u32::try_from(wrong_entries).unwrap_or(u32::MAX),
                used: row.try_get::<i64, _>("used")? != 0,
            },
            destination_enc: row.try_get("destination_enc")?,
        }))
    }

    /// Stores the outcome of one entry (`after`), but only if the stored code is
    /// still exactly `before`. Of two requests that read the same code and entered
    /// it at once, one gets true and the other false, so a code is never accepted
    /// twice and no wrong entry goes uncounted.
    pub async fn record_code_attempt(
        &self,
        account_id: i64,
        before: &IssuedCode,
        after: &IssuedCode,
    ) -> Result<bool, StoreError> {
        // issued_at and bound_to are compared too: a replacement code could by
        // chance have the same digits, and so the same digest.
        let result = sqlx::query(
            "UPDATE one_time_codes SET wrong_entries = $6, used = $7
             WHERE account_id = $1 AND purpose = $2 AND digest = $3 AND issued_at = $4
               AND bound_to = $5 AND wrong_entries = $8 AND used = 0",
        )
        .bind(account_id)
        .bind(before.purpose.as_str())
        .bind(before.digest.as_slice())
        .bind(before.issued_at)
        .bind(before.bound_to.as_slice())
        .bind(i64::from(after.wrong_entries))
        .bind(flag(after.used))
        .bind(i64::from(before.wrong_entries))
        .execute(&self.pool)
        .await?;
        Ok(result.rows_affected() == 1)
    }

    pub async fn delete_code(
        &self,
        account_id: i64,
        purpose: CodePurpose,
    ) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM one_time_codes WHERE account_id = $1 AND purpose = $2")
            .bind(account_id)
            .bind(purpose.as_str())
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}
