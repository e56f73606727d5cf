//! Password reset links, kept as the digest of their token: when each was made,
//! when it expires, whether its SMS code step was passed, and whether it was used.
//! A security answer reserves its place before it is checked; the reset itself
//! (link, password, sessions, tokens) is one transaction.

use crate::db::{params, statements};
use domain::AccountId;
use domain::digests::ResetLinkDigest;
use domain::security_question::MAX_WRONG_ANSWERS;

use crate::{Store, StoreError, flag};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasswordResetRow {
    pub account_id: AccountId,
    pub created_at: i64,
    pub expires_at: i64,
    pub verified_at: Option<i64>,
    pub used: bool,
    pub wrong_answers: i64,
}

impl Store {
    pub async fn password_reset(
        &self,
        token_digest: &ResetLinkDigest,
    ) -> Result<Option<PasswordResetRow>, StoreError> {
        self.db
            .read_optional(
                "SELECT account_id, created_at, expires_at, verified_at, used, wrong_answers
                 FROM password_resets WHERE token_digest = $1",
                params![token_digest],
                |row| {
                    Ok(PasswordResetRow {
                        account_id: row.account_id("account_id")?,
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

    /// Reserve, then check: a security answer sent through the link counts itself
    /// as wrong, but only while the link is unused, unexpired and short of
    /// `MAX_WRONG_ANSWERS`. Answers the new count, or `None` when the answer got
    /// no place and must not be checked.
    pub async fn reserve_reset_answer(
        &self,
        token_digest: &ResetLinkDigest,
        now: i64,
    ) -> Result<Option<i64>, StoreError> {
        self.db
            .fetch_optional(
                "UPDATE password_resets SET wrong_answers = wrong_answers + 1
                 WHERE token_digest = $1 AND used = 0 AND expires_at > $2 AND wrong_answers < $3
                 RETURNING wrong_answers",
                params![token_digest, now, MAX_WRONG_ANSWERS],
                |row| row.get("wrong_answers"),
            )
            .await
    }

    /// Uses the link up: true for exactly one caller. Every other unused link of
    /// the account is used up with it, so an older e-mail cannot reset again.
    pub async fn consume_password_reset(
        &self,
        token_digest: &ResetLinkDigest,
    ) -> Result<bool, StoreError> {
        let mut transaction = self.db.begin().await?;
        let consumed = transaction
            .fetch_optional(
                "UPDATE password_resets SET used = $2 WHERE token_digest = $1 AND used = $3
                 RETURNING account_id",
                params![token_digest, flag(true), flag(false)],
                |row| row.account_id("account_id"),
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

    /// A password reset as one transaction: uses up the link (only if it has not
    /// expired and, when `must_be_verified` — the account had something to ask
    /// for —, was verified; true for exactly one caller) and every other
    /// unused link of the account, sets the new password (which also confirms
    /// the address: the link came by e-mail), ends every session of the
    /// account, signs its applications out (an Anti-Theft device still answers
    /// its commands), deletes what the old password began (half-finished sign-ins, application challenges), ends a locked
    /// password step and forgets remembered devices. Answers the account, or
    /// `None`, changing nothing, when the link was not usable.
    pub async fn complete_password_reset(
        &self,
        token_digest: &ResetLinkDigest,
        password_hash: &str,
        must_be_verified: bool,
        now: i64,
    ) -> Result<Option<AccountId>, StoreError> {
        let mut transaction = self.db.begin().await?;
        let consumed = transaction
            .fetch_optional(
                "UPDATE password_resets SET used = 1
                 WHERE token_digest = $1 AND used = 0 AND expires_at > $2
                   AND (verified_at IS NOT NULL OR $3 = 0)
                 RETURNING account_id",
                params![token_digest, now, flag(must_be_verified)],
                |row| row.account_id("account_id"),
            )
            .await?;
        let Some(account_id) = consumed else {
            return Ok(None);
        };
        let account: &[crate::db::Param<'_>] = params![account_id];
        let new_password: &[crate::db::Param<'_>] = params![account_id, password_hash, now];
        let signed_out_at: &[crate::db::Param<'_>] = params![account_id, now];
        let mut steps = vec![
            (
                "UPDATE password_resets SET used = 1 WHERE account_id = $1 AND used = 0",
                account,
            ),
            (
                "UPDATE accounts SET password_hash = $2, password_changed_at = $3,
                     email_unconfirmed_since = NULL
                 WHERE id = $1",
                new_password,
            ),
            (crate::accounts::END_SESSIONS, account),
            // The reset through e-mail is what ends a locked password step.
            (
                "DELETE FROM password_step_locks WHERE email = (SELECT email FROM accounts WHERE id = $1)",
                account,
            ),
        ];
        steps.push((crate::accounts::SIGN_OUT_APPLICATIONS, signed_out_at));
        steps.extend(crate::accounts::WHAT_THE_OLD_PASSWORD_BEGAN.map(|sql| (sql, account)));
        for (sql, params) in steps {
            self.between_statements()?;
            transaction.execute(sql, params).await?;
        }
        self.between_statements()?;
        transaction.commit().await?;
        Ok(Some(account_id))
    }
}

statements! {
    create_password_reset(
        token_digest: &ResetLinkDigest,
        account_id: AccountId,
        now: i64,
        expires_at: i64,
    ) = "INSERT INTO password_resets (token_digest, account_id, created_at, expires_at, used)
         VALUES ($1, $2, $3, $4, 0)";
    /// The right answer gives its place back.
    release_reset_answer(token_digest: &ResetLinkDigest) =
        "UPDATE password_resets SET wrong_answers = wrong_answers - 1
         WHERE token_digest = $1 AND wrong_answers > 0";
    mark_password_reset_verified(token_digest: &ResetLinkDigest, now: i64) =
        "UPDATE password_resets SET verified_at = $2 WHERE token_digest = $1";
}
