//! Recovery codes and remembered devices: what lets a person in without their
//! phone, and what spares them the code on their own laptop. A recovery code
//! is used by one compare-and-set on `used_at`; a new set replaces the old one
//! in one transaction; using a code forgets every remembered device with it.
//! Each code keeps the id of the server key that made its digest: a code is
//! checked under every key of the ring, and a rotation keeps a key that unused
//! codes still need (`recovery_code_accounts_under`).

use domain::AccountId;
use domain::digests::{CodeDigest, DeviceDigest};
use domain::secrets::KeyId;

use crate::db::{Param, params, statements};
use crate::{Store, StoreError};

const DELETE_RECOVERY_CODES: &str = "DELETE FROM recovery_codes WHERE account_id = $1";
const INSERT_RECOVERY_CODE: &str =
    "INSERT INTO recovery_codes (account_id, code_digest, created_at, key_id)
     VALUES ($1, $2, $3, $4)";
/// Also a step of every change that must forget them: a new password, two-step
/// verification off or on again, a recovery code used.
pub(crate) const FORGET_REMEMBERED_DEVICES: &str =
    "DELETE FROM remembered_devices WHERE account_id = $1";
pub(crate) const REMEMBER_DEVICE: &str =
    "INSERT INTO remembered_devices (token_digest, account_id, created_at, expires_at)
     VALUES ($1, $2, $3, $4)";
const CODES_LEFT: &str =
    "SELECT COUNT(*) AS n FROM recovery_codes WHERE account_id = $1 AND used_at IS NULL";

/// The statements that put `digests`, made under the key `key_id`, in place of
/// the account's set.
pub(crate) fn replace_set<'a>(
    account_id: AccountId,
    key_id: &'a str,
    digests: &'a [CodeDigest],
    now: i64,
) -> Vec<(&'static str, Vec<Param<'a>>)> {
    let mut steps = vec![(DELETE_RECOVERY_CODES, params![account_id].to_vec())];
    steps.extend(digests.iter().map(|digest| {
        (
            INSERT_RECOVERY_CODE,
            params![account_id, digest, now, key_id].to_vec(),
        )
    }));
    steps
}

impl Store {
    /// "Get new codes": voids the account's set and stores `digests`, made
    /// under the server key `key_id`, as the new one, in one transaction.
    pub async fn replace_recovery_codes(
        &self,
        account_id: AccountId,
        key_id: KeyId,
        digests: &[CodeDigest],
        now: i64,
    ) -> Result<(), StoreError> {
        let key_id = key_id.to_string();
        let steps = replace_set(account_id, &key_id, digests, now);
        let steps: Vec<_> = steps
            .iter()
            .map(|(sql, params)| (*sql, params.as_slice()))
            .collect();
        self.db.execute_together(&steps).await
    }

    /// Uses the recovery code whose keyed digest is `digest`, once: of requests
    /// racing with one code, one gets the number of codes left and the others
    /// `None`, as does a wrong or used code. The same transaction forgets every
    /// remembered device of the account.
    pub async fn use_recovery_code(
        &self,
        account_id: AccountId,
        digest: &CodeDigest,
        now: i64,
    ) -> Result<Option<i64>, StoreError> {
        let mut transaction = self.db.begin().await?;
        let used = transaction
            .execute(
                "UPDATE recovery_codes SET used_at = $3
                 WHERE account_id = $1 AND code_digest = $2 AND used_at IS NULL",
                params![account_id, digest, now],
            )
            .await?;
        if used != 1 {
            return Ok(None);
        }
        self.between_statements()?;
        transaction
            .execute(FORGET_REMEMBERED_DEVICES, params![account_id])
            .await?;
        let left = transaction
            .fetch_optional(CODES_LEFT, params![account_id], |row| row.get("n"))
            .await?
            .ok_or(StoreError::NoRowReturned)?;
        self.between_statements()?;
        transaction.commit().await?;
        Ok(Some(left))
    }

    /// How many accounts hold unused recovery codes that `key_id` may have made:
    /// those it made, and those made before codes named their key (NULL), which
    /// any key of the ring may have made. Retiring it would void their codes.
    pub async fn recovery_code_accounts_under(&self, key_id: KeyId) -> Result<i64, StoreError> {
        let key_id = key_id.to_string();
        self.db
            .read_one(
                "SELECT COUNT(DISTINCT account_id) AS n FROM recovery_codes
                 WHERE used_at IS NULL AND (key_id = $1 OR key_id IS NULL)",
                params![&key_id],
                |row| row.get("n"),
            )
            .await
    }

    /// How many of the account's recovery codes are still unused.
    pub async fn recovery_codes_left(&self, account_id: AccountId) -> Result<i64, StoreError> {
        self.db
            .read_one(CODES_LEFT, params![account_id], |row| row.get("n"))
            .await
    }

    /// Whether the browser holding the cookie of `digest` was remembered for
    /// this account and still is at `now`.
    pub async fn device_is_remembered(
        &self,
        digest: &DeviceDigest,
        account_id: AccountId,
        now: i64,
    ) -> Result<bool, StoreError> {
        let found = self
            .db
            .read_optional(
                "SELECT account_id FROM remembered_devices
                 WHERE token_digest = $1 AND account_id = $2 AND expires_at > $3",
                params![digest, account_id, now],
                |row| row.get::<i64>("account_id"),
            )
            .await?;
        Ok(found.is_some())
    }

    /// "Forget remembered devices"; answers how many were.
    pub async fn forget_remembered_devices(
        &self,
        account_id: AccountId,
    ) -> Result<u64, StoreError> {
        self.db
            .execute(FORGET_REMEMBERED_DEVICES, params![account_id])
            .await
    }
}

statements! {
    /// Names `key_id` as the maker of every code made before codes named their
    /// key; only true when `key_id` is the one key the service runs on.
    stamp_recovery_codes_made_by(key_id: &str) =
        "UPDATE recovery_codes SET key_id = $1 WHERE key_id IS NULL";

    /// "Don't ask again on this device", until `expires_at`; a sign-in does it
    /// in `finish_sign_in`.
    remember_device(digest: &DeviceDigest, account_id: AccountId, now: i64, expires_at: i64) =
        REMEMBER_DEVICE;
}
