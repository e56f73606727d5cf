//! Confirming e-mail addresses: an unconfirmed account and its one live link
//! made together, the link replaced at most once a minute, used up once, and
//! accounts that waited too long deleted.

use crate::db::params;
use domain::AccountId;
use domain::digests::ConfirmationLinkDigest;

use crate::{Store, StoreError};

impl Store {
    /// A sign-up: the account, unconfirmed since `now`, and its first
    /// confirmation link, in one transaction. `EmailTaken` when the address
    /// has an account; the unique constraint decides, as in `create_account`.
    pub async fn create_unconfirmed_account(
        &self,
        email: &str,
        password_hash: &str,
        link: &ConfirmationLinkDigest,
        now: i64,
        link_expires_at: i64,
    ) -> Result<AccountId, StoreError> {
        let mut transaction = self.db.begin().await?;
        let account_id = transaction
            .fetch_optional(
                crate::accounts::INSERT_ACCOUNT,
                params![email, password_hash, now, now],
                |row| row.account_id("id"),
            )
            .await
            .map_err(crate::accounts::email_taken)?
            .ok_or(StoreError::NoRowReturned)?;
        self.between_statements()?;
        transaction
            .execute(
                "INSERT INTO email_confirmations (account_id, token_digest, created_at, expires_at)
                 VALUES ($1, $2, $3, $4)",
                params![account_id, link, now, link_expires_at],
            )
            .await?;
        self.between_statements()?;
        transaction.commit().await?;
        Ok(account_id)
    }

    /// "Send the link again": the account's link is replaced by `link`, but only
    /// while its address is unconfirmed and the last link was made at or before
    /// `last_made_by`. One statement, so that clicks at once send one e-mail:
    /// true for the one that may send it.
    pub async fn replace_confirmation_link(
        &self,
        account_id: AccountId,
        link: &ConfirmationLinkDigest,
        now: i64,
        link_expires_at: i64,
        last_made_by: i64,
    ) -> Result<bool, StoreError> {
        let replaced = self
            .db
            .execute(
                "INSERT INTO email_confirmations (account_id, token_digest, created_at, expires_at)
                 SELECT id, $2, $3, $4 FROM accounts
                 WHERE id = $1 AND email_unconfirmed_since IS NOT NULL
                 ON CONFLICT (account_id) DO UPDATE
                 SET token_digest = excluded.token_digest, created_at = excluded.created_at,
                     expires_at = excluded.expires_at
                 WHERE email_confirmations.created_at <= $5",
                params![account_id, link, now, link_expires_at, last_made_by],
            )
            .await?;
        Ok(replaced == 1)
    }

    /// Whether `link` would confirm an address now (for the page that shows
    /// its Confirm button).
    pub async fn confirmation_link_is_live(
        &self,
        link: &ConfirmationLinkDigest,
        now: i64,
    ) -> Result<bool, StoreError> {
        let found = self
            .db
            .read_optional(
                "SELECT account_id FROM email_confirmations
                 WHERE token_digest = $1 AND expires_at > $2",
                params![link, now],
                |row| row.account_id("account_id"),
            )
            .await?;
        Ok(found.is_some())
    }

    /// Follows a link: uses it up (deleting it, so that it works once) and
    /// marks the address confirmed, in one transaction. The account, or `None`,
    /// changing nothing, when the link is unknown, used or expired.
    pub async fn confirm_email(
        &self,
        link: &ConfirmationLinkDigest,
        now: i64,
    ) -> Result<Option<AccountId>, StoreError> {
        let mut transaction = self.db.begin().await?;
        let used = transaction
            .fetch_optional(
                "DELETE FROM email_confirmations WHERE token_digest = $1 AND expires_at > $2
                 RETURNING account_id",
                params![link, now],
                |row| row.account_id("account_id"),
            )
            .await?;
        let Some(account_id) = used else {
            return Ok(None);
        };
        self.between_statements()?;
        transaction
            .execute(
                "UPDATE accounts SET email_unconfirmed_since = NULL WHERE id = $1",
                params![account_id],
            )
            .await?;
        self.between_statements()?;
        transaction.commit().await?;
        Ok(Some(account_id))
    }

    /// Deletes the accounts whose address has waited for confirmation since
    /// `unconfirmed_since` or earlier, with everything of theirs; how many.
    pub async fn delete_unconfirmed_accounts(
        &self,
        unconfirmed_since: i64,
    ) -> Result<u64, StoreError> {
        self.db
            .execute(
                "DELETE FROM accounts
                 WHERE email_unconfirmed_since IS NOT NULL AND email_unconfirmed_since <= $1",
                params![unconfirmed_since],
            )
            .await
    }
}
