//! The authenticator app of an account: its sealed secret, the last step whose
//! code was accepted (so no code is accepted twice), the wrong-code count of the
//! current step, and the enrolment that waits for the first code from the app.
//! A code reserves its place in the step before it is checked
//! (`reserve_authenticator_attempt`); enabling the app is one transaction.

use crate::db::{Row, params, statements};
use domain::AccountId;
use domain::authenticator::MAX_WRONG_CODES_PER_STEP;
use domain::digests::SessionDigest;

use crate::{Store, StoreError};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthenticatorRow {
    pub secret_enc: Vec<u8>,
    pub last_used_step: Option<i64>,
    pub failed_step: i64,
    pub failed_count: i64,
    pub created_at: i64,
}

/// The compare-and-set that keeps an authenticator code single-use: it claims
/// `$2` only if no step as late was used before. Also part of `finish_sign_in`.
pub(crate) const RECORD_AUTHENTICATOR_USE: &str =
    "UPDATE authenticators SET last_used_step = $2, failed_step = 0, failed_count = 0
     WHERE account_id = $1 AND (last_used_step IS NULL OR last_used_step < $2)";

/// A confirmed secret replaces any earlier one, with no wrong codes counted.
const SAVE_AUTHENTICATOR: &str =
    "INSERT INTO authenticators (account_id, secret_enc, last_used_step, failed_step, failed_count, created_at)
     VALUES ($1, $2, $3, 0, 0, $4)
     ON CONFLICT (account_id) DO UPDATE SET
         secret_enc = excluded.secret_enc, last_used_step = excluded.last_used_step,
         failed_step = 0, failed_count = 0, created_at = excluded.created_at";

fn authenticator_row(row: &Row<'_>) -> Result<AuthenticatorRow, StoreError> {
    authenticator_columns(row, "")
}

/// The authenticator's columns, each name with `prefix` before it: the
/// account's query reads them joined to the account's own, as `au_…`.
pub(crate) fn authenticator_columns(
    row: &Row<'_>,
    prefix: &str,
) -> Result<AuthenticatorRow, StoreError> {
    let column = |name: &str| format!("{prefix}{name}");
    Ok(AuthenticatorRow {
        secret_enc: row.get(&column("secret_enc"))?,
        last_used_step: row.get(&column("last_used_step"))?,
        failed_step: row.get(&column("failed_step"))?,
        failed_count: row.get(&column("failed_count"))?,
        created_at: row.get(&column("created_at"))?,
    })
}

impl Store {
    pub async fn authenticator(
        &self,
        account_id: AccountId,
    ) -> Result<Option<AuthenticatorRow>, StoreError> {
        self.db
            .read_optional(
                "SELECT secret_enc, last_used_step, failed_step, failed_count, created_at
                 FROM authenticators WHERE account_id = $1",
                params![account_id],
                authenticator_row,
            )
            .await
    }

    /// Turns the authenticator on with `secret_enc`, with no step used yet, and
    /// drops any enrolment. For tests and seeding: the Security tab goes through
    /// [`Store::enable_authenticator`], which also claims the step of the code
    /// that proved the set-up.
    pub async fn add_authenticator(
        &self,
        account_id: AccountId,
        secret_enc: Vec<u8>,
        now: i64,
    ) -> Result<(), StoreError> {
        self.db
            .execute_together(&[
                (
                    SAVE_AUTHENTICATOR,
                    params![account_id, &secret_enc, Option::<i64>::None, now],
                ),
                (
                    "DELETE FROM authenticator_enrolments WHERE account_id = $1",
                    params![account_id],
                ),
            ])
            .await
    }

    /// Enabling the authenticator as one transaction: uses up the enrolment of
    /// `session_digest` (the compare-and-set: of two confirmations racing, one
    /// gets true), stores the confirmed secret and claims `step`, the step of the
    /// code that proved the set-up, so that code cannot sign in afterwards.
    pub async fn enable_authenticator(
        &self,
        account_id: AccountId,
        session_digest: &SessionDigest,
        secret_enc: Vec<u8>,
        step: i64,
        now: i64,
    ) -> Result<bool, StoreError> {
        self.claim_and_change(
            (
                "DELETE FROM authenticator_enrolments WHERE account_id = $1 AND session_digest = $2",
                params![account_id, session_digest],
            ),
            &[(
                SAVE_AUTHENTICATOR,
                params![account_id, &secret_enc, Some(step), now],
            )],
        )
        .await
    }

    /// `authenticator::reserve_attempt` as one statement: the attempt counts
    /// itself as a wrong code of `current_step` (a later step starts again at
    /// one), unless that step already has `MAX_WRONG_CODES_PER_STEP`. Answers the
    /// row as it now stands, or `None` when the attempt got no place (or there is
    /// no authenticator): then its code must not be checked at all.
    pub async fn reserve_authenticator_attempt(
        &self,
        account_id: AccountId,
        current_step: i64,
    ) -> Result<Option<AuthenticatorRow>, StoreError> {
        self.db
            .fetch_optional(
                "UPDATE authenticators SET
                   failed_count = CASE WHEN failed_step = $2 THEN failed_count + 1 ELSE 1 END,
                   failed_step = $2
                 WHERE account_id = $1 AND (failed_step <> $2 OR failed_count < $3)
                 RETURNING secret_enc, last_used_step, failed_step, failed_count, created_at",
                params![
                    account_id,
                    current_step,
                    i64::from(MAX_WRONG_CODES_PER_STEP)
                ],
                authenticator_row,
            )
            .await
    }

    /// Keeps the secret being shown to the person, bound to their session; starting
    /// again replaces it, so an account has at most one.
    pub async fn save_authenticator_enrolment(
        &self,
        account_id: AccountId,
        session_digest: &SessionDigest,
        secret_enc: Vec<u8>,
        now: i64,
    ) -> Result<(), StoreError> {
        self.db
            .execute(
                "INSERT INTO authenticator_enrolments (account_id, session_digest, secret_enc, created_at)
                 VALUES ($1, $2, $3, $4)
                 ON CONFLICT (account_id) DO UPDATE SET
                     session_digest = excluded.session_digest, secret_enc = excluded.secret_enc,
                     created_at = excluded.created_at",
                params![account_id, session_digest, &secret_enc, now],
            )
            .await?;
        Ok(())
    }

    /// The enrolment's sealed secret and creation time, only for the session that
    /// started it.
    pub async fn authenticator_enrolment(
        &self,
        account_id: AccountId,
        session_digest: &SessionDigest,
    ) -> Result<Option<(Vec<u8>, i64)>, StoreError> {
        self.db
            .read_optional(
                "SELECT secret_enc, created_at FROM authenticator_enrolments
                 WHERE account_id = $1 AND session_digest = $2",
                params![account_id, session_digest],
                |row| Ok((row.get("secret_enc")?, row.get("created_at")?)),
            )
            .await
    }
}

statements! {
    /// Gives back the place of an attempt that was no guess (a code already
    /// used); the right code's claim clears the count instead.
    release_authenticator_attempt(account_id: AccountId, step: i64) =
        "UPDATE authenticators SET failed_count = failed_count - 1
         WHERE account_id = $1 AND failed_step = $2 AND failed_count > 0";
    /// Records that the code of `step` was accepted. False when that step or a
    /// later one was already used: of two requests racing with the same code,
    /// exactly one gets true.
    record_authenticator_use(account_id: AccountId, step: i64) -> bool =
        RECORD_AUTHENTICATOR_USE;
    /// Returns whether there was an authenticator to remove.
    remove_authenticator(account_id: AccountId) -> bool =
        "DELETE FROM authenticators WHERE account_id = $1";
}
