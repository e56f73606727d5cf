//! One-time SMS codes as the domain issues them: one per account and purpose
//! (a new code replaces the last), with the count of wrong entries and whether
//! the code was used. An entry reserves its place before it is checked
//! (`reserve_code_entry`), and a right one uses the code up by compare-and-set.

use crate::db::{Row, params, statements};
use domain::digests::{CodeBinding, CodeDigest};
use domain::one_time_code::MAX_WRONG_ENTRIES;
use domain::{AccountId, CodePurpose, IssuedCode};

use crate::{Store, StoreError};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredCode {
    pub code: IssuedCode,
    /// The sealed phone number the code was sent to, when that is not the
    /// account's own (a new number being confirmed).
    pub destination_enc: Option<Vec<u8>>,
}

/// Uses up a code that passed its check, giving back the place its entry took;
/// also the first statement of `confirm_phone`. `issued_at` and the digest name
/// the code: a replacement sent meanwhile is another code.
pub(crate) const CONSUME_CODE: &str =
    "UPDATE one_time_codes SET used = 1, wrong_entries = wrong_entries - 1
     WHERE account_id = $1 AND purpose = $2 AND issued_at = $3 AND digest = $4 AND used = 0";

macro_rules! consume_code_params {
    ($account_id:expr, $code:expr) => {
        $crate::db::params![
            $account_id,
            $code.purpose.as_str(),
            $code.issued_at,
            &$code.digest
        ]
    };
}
pub(crate) use consume_code_params;

/// Saves a code unless the last one for its account and purpose is unused and
/// was issued after `sent_by` (`$10`); also the first statement of
/// `save_code_within_budgets`.
pub(crate) const REPLACE_CODE: &str = "INSERT INTO one_time_codes
         (account_id, purpose, digest, bound_to, destination_enc, issued_at, expires_at, wrong_entries, used)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
     ON CONFLICT (account_id, purpose) DO UPDATE SET
         digest = excluded.digest, bound_to = excluded.bound_to,
         destination_enc = excluded.destination_enc, issued_at = excluded.issued_at,
         expires_at = excluded.expires_at, wrong_entries = excluded.wrong_entries,
         used = excluded.used
     WHERE one_time_codes.used = 1 OR one_time_codes.issued_at <= $10";

macro_rules! replace_code_params {
    ($account_id:expr, $code:expr, $destination_enc:expr, $sent_by:expr) => {
        $crate::db::params![
            $account_id,
            $code.purpose.as_str(),
            &$code.digest,
            &$code.bound_to,
            $destination_enc,
            $code.issued_at,
            $code.expires_at,
            i64::from($code.wrong_entries),
            $crate::flag($code.used),
            $sent_by,
        ]
    };
}
pub(crate) use replace_code_params;

fn stored_code(row: &Row<'_>, purpose: CodePurpose) -> Result<StoredCode, StoreError> {
    let wrong_entries: i64 = row.get("wrong_entries")?;
    Ok(StoredCode {
        code: IssuedCode {
            purpose,
            digest: CodeDigest::from_bytes(row.get("digest")?),
            bound_to: CodeBinding::from_bytes(row.get("bound_to")?),
            issued_at: row.get("issued_at")?,
            expires_at: row.get("expires_at")?,
            // A count that does not fit reads as "too many", the safe side.
            wrong_entries: u32::try_from(wrong_entries).unwrap_or(u32::MAX),
            used: row.get::<i64>("used")? != 0,
        },
        destination_enc: row.get("destination_enc")?,
    })
}

impl Store {
    /// Saves `code`, replacing the last one for its account and purpose.
    pub async fn save_code(
        &self,
        account_id: AccountId,
        code: &IssuedCode,
        destination_enc: Option<Vec<u8>>,
    ) -> Result<(), StoreError> {
        self.replace_code_sent_by(account_id, code, destination_enc, i64::MAX)
            .await
            .map(drop)
    }

    /// Saves `code` unless the last one for its account and purpose is unused
    /// and was issued after `sent_by`: the check and the write are one
    /// statement, so of two requests at once (on two instances) one sends a code.
    /// Answers whether it was saved.
    pub async fn replace_code_sent_by(
        &self,
        account_id: AccountId,
        code: &IssuedCode,
        destination_enc: Option<Vec<u8>>,
        sent_by: i64,
    ) -> Result<bool, StoreError> {
        let saved = self
            .db
            .execute(
                REPLACE_CODE,
                replace_code_params!(account_id, code, destination_enc.as_deref(), sent_by),
            )
            .await?;
        Ok(saved == 1)
    }

    pub async fn code(
        &self,
        account_id: AccountId,
        purpose: CodePurpose,
    ) -> Result<Option<StoredCode>, StoreError> {
        self.db
            .read_optional(
                "SELECT digest, bound_to, destination_enc, issued_at, expires_at, wrong_entries, used
                 FROM one_time_codes WHERE account_id = $1 AND purpose = $2",
                params![account_id, purpose.as_str()],
                |row| stored_code(row, purpose),
            )
            .await
    }

    /// `IssuedCode::reserve_entry` as one statement: the entry counts itself as
    /// wrong, but only while the code is unused, unexpired, bound to `bound_to`
    /// and short of `MAX_WRONG_ENTRIES`. Answers the code as it now stands (this
    /// entry counted), or `None` when the entry got no place: then it must not
    /// be checked at all, so entries racing each other are checked at most five
    /// times in all.
    pub async fn reserve_code_entry(
        &self,
        account_id: AccountId,
        purpose: CodePurpose,
        bound_to: &CodeBinding,
        now: i64,
    ) -> Result<Option<StoredCode>, StoreError> {
        self.db
            .fetch_optional(
                "UPDATE one_time_codes SET wrong_entries = wrong_entries + 1
                 WHERE account_id = $1 AND purpose = $2 AND bound_to = $3 AND used = 0
                   AND expires_at > $4 AND wrong_entries < $5
                 RETURNING digest, bound_to, destination_enc, issued_at, expires_at, wrong_entries, used",
                params![
                    account_id,
                    purpose.as_str(),
                    bound_to,
                    now,
                    i64::from(MAX_WRONG_ENTRIES)
                ],
                |row| stored_code(row, purpose),
            )
            .await
    }

    /// Uses up the code whose entry was right, giving back the place the entry
    /// took. A compare-and-set on the code's identity: true for one caller only,
    /// so a code is never accepted twice.
    pub async fn consume_code(
        &self,
        account_id: AccountId,
        code: &IssuedCode,
    ) -> Result<bool, StoreError> {
        let result = self
            .db
            .execute(CONSUME_CODE, consume_code_params!(account_id, code))
            .await?;
        Ok(result == 1)
    }
}

statements! {
    delete_code(account_id: AccountId, purpose: CodePurpose) =
        "DELETE FROM one_time_codes WHERE account_id = $1 AND purpose = $2";
    /// An entry that took its place but was turned away before any comparison
    /// (the account's second step was locked meanwhile) gives the place back.
    /// `issued_at` names the code: a replacement sent meanwhile is another one.
    release_code_entry(account_id: AccountId, purpose: CodePurpose, issued_at: i64) =
        "UPDATE one_time_codes SET wrong_entries = wrong_entries - 1
         WHERE account_id = $1 AND purpose = $2 AND issued_at = $3 AND wrong_entries > 0";
}
