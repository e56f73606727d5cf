//! One-time SMS codes as the domain issues them: one per account and purpose
//! (a new code replaces the last), with the count of wrong entries and whether
//! the code was used, changed only by compare-and-set.

use crate::db::params;
use domain::{CodePurpose, IssuedCode};

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
        self.db
            .execute(
                "INSERT INTO one_time_codes
                     (account_id, purpose, digest, bound_to, destination_enc, issued_at, expires_at, wrong_entries, used)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
                 ON CONFLICT (account_id, purpose) DO UPDATE SET
                     digest = excluded.digest, bound_to = excluded.bound_to,
                     destination_enc = excluded.destination_enc, issued_at = excluded.issued_at,
                     expires_at = excluded.expires_at, wrong_entries = excluded.wrong_entries,
                     used = excluded.used",
                params![
                    account_id,
                    code.purpose.as_str(),
                    code.digest.as_slice(),
                    code.bound_to.as_slice(),
                    destination_enc.as_deref(),
                    code.issued_at,
                    code.expires_at,
                    i64::from(code.wrong_entries),
                    flag(code.used),
                ],
            )
            .await?;
        Ok(())
    }

    pub async fn code(
        &self,
        account_id: i64,
        purpose: CodePurpose,
    ) -> Result<Option<StoredCode>, StoreError> {
        self.db
            .read_optional(
                "SELECT digest, bound_to, destination_enc, issued_at, expires_at, wrong_entries, used
                 FROM one_time_codes WHERE account_id = $1 AND purpose = $2",
                params![account_id, purpose.as_str()],
                |row| {
                    let wrong_entries: i64 = row.get("wrong_entries")?;
                    Ok(StoredCode {
                        code: IssuedCode {
                            purpose,
                            digest: row.get("digest")?,
                            bound_to: row.get("bound_to")?,
                            issued_at: row.get("issued_at")?,
                            expires_at: row.get("expires_at")?,
                            // A count that does not fit reads as "too many", the safe side.
                            wrong_entries: u32::try_from(wrong_entries).unwrap_or(u32::MAX),
                            used: row.get::<i64>("used")? != 0,
                        },
                        destination_enc: row.get("destination_enc")?,
                    })
                },
            )
            .await
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
        let result = self
            .db
            .execute(
                "UPDATE one_time_codes SET wrong_entries = $6, used = $7
                 WHERE account_id = $1 AND purpose = $2 AND digest = $3 AND issued_at = $4
                   AND bound_to = $5 AND wrong_entries = $8 AND used = 0",
                params![
                    account_id,
                    before.purpose.as_str(),
                    before.digest.as_slice(),
                    before.issued_at,
                    before.bound_to.as_slice(),
                    i64::from(after.wrong_entries),
                    flag(after.used),
                    i64::from(before.wrong_entries)
                ],
            )
            .await?;
        Ok(result == 1)
    }

    pub async fn delete_code(
        &self,
        account_id: i64,
        purpose: CodePurpose,
    ) -> Result<(), StoreError> {
        self.db
            .execute(
                "DELETE FROM one_time_codes WHERE account_id = $1 AND purpose = $2",
                params![account_id, purpose.as_str()],
            )
            .await?;
        Ok(())
    }
}
