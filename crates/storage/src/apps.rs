//! Client applications connected to accounts, the second step they are in the
//! middle of, and when an owner was last told that an application is too old.

use crate::db::{Row, params, statements};
use domain::AccountId;
use domain::digests::{ChallengeDigest, TokenDigest};

use crate::{Store, StoreError};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectionRow {
    pub id: i64,
    pub account_id: AccountId,
    pub app_id: String,
    pub app_version: String,
    pub device_name: String,
    /// What it said it runs on (e.g. "Android"); `None` from before Anti-Theft.
    pub platform: Option<String>,
    pub created_at: i64,
    pub last_used_at: i64,
    /// When a password change or reset signed it out of the account; `None`
    /// while connected. Only an Anti-Theft device's token still reaches
    /// anything once signed out: its own commands.
    pub signed_out_at: Option<i64>,
}

/// Who an application says it is, as it asked to connect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppIdentity {
    pub app_id: String,
    pub app_version: String,
    pub device_name: String,
    pub platform: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChallengeRow {
    pub account_id: AccountId,
    pub app: AppIdentity,
    pub created_at: i64,
}

macro_rules! connection_columns {
    () => {
        "id, account_id, app_id, app_version, device_name, platform, created_at, last_used_at, signed_out_at"
    };
}

fn connection(row: &Row<'_>) -> Result<ConnectionRow, StoreError> {
    Ok(ConnectionRow {
        id: row.get("id")?,
        account_id: row.account_id("account_id")?,
        app_id: row.get("app_id")?,
        app_version: row.get("app_version")?,
        device_name: row.get("device_name")?,
        platform: row.get("platform")?,
        created_at: row.get("created_at")?,
        last_used_at: row.get("last_used_at")?,
        signed_out_at: row.get("signed_out_at")?,
    })
}

impl Store {
    /// Connects an application. A device that a password change signed out
    /// and that connects again under the same name is that device come back:
    /// its signed-out entry, with its command history, goes in the same
    /// transaction, so that Anti-Theft lists it once.
    pub async fn create_connection(
        &self,
        account_id: AccountId,
        token_digest: &TokenDigest,
        app: &AppIdentity,
        now: i64,
    ) -> Result<i64, StoreError> {
        let mut transaction = self.db.begin().await?;
        transaction
            .execute(
                "DELETE FROM app_connections
                 WHERE account_id = $1 AND app_id = $2 AND device_name = $3
                   AND signed_out_at IS NOT NULL",
                params![account_id, app.app_id.as_str(), app.device_name.as_str()],
            )
            .await?;
        let id = transaction
            .fetch_optional(
                "INSERT INTO app_connections (account_id, token_digest, app_id, app_version, device_name, created_at, last_used_at, platform)
                 VALUES ($1, $2, $3, $4, $5, $6, $6, $7) RETURNING id",
                params![
                    account_id,
                    token_digest,
                    app.app_id.as_str(),
                    app.app_version.as_str(),
                    app.device_name.as_str(),
                    now,
                    app.platform.as_deref()
                ],
                |row| row.get("id"),
            )
            .await?
            .ok_or(StoreError::NoRowReturned)?;
        transaction.commit().await?;
        Ok(id)
    }

    pub async fn connection_by_token(
        &self,
        token_digest: &TokenDigest,
    ) -> Result<Option<ConnectionRow>, StoreError> {
        self.db
            .read_optional(
                concat!(
                    "SELECT ",
                    connection_columns!(),
                    " FROM app_connections WHERE token_digest = $1"
                ),
                params![token_digest],
                connection,
            )
            .await
    }

    /// Newest first.
    pub async fn connections_of_account(
        &self,
        account_id: AccountId,
    ) -> Result<Vec<ConnectionRow>, StoreError> {
        self.db
            .read_all(
                concat!(
                    "SELECT ",
                    connection_columns!(),
                    " FROM app_connections WHERE account_id = $1 ORDER BY created_at DESC, id DESC"
                ),
                params![account_id],
                connection,
            )
            .await
    }

    /// Only the account's own connection can be removed; returns what was removed.
    pub async fn delete_connection(
        &self,
        account_id: AccountId,
        id: i64,
    ) -> Result<Option<ConnectionRow>, StoreError> {
        self.db
            .fetch_optional(
                concat!(
                    "DELETE FROM app_connections WHERE account_id = $1 AND id = $2 RETURNING ",
                    connection_columns!()
                ),
                params![account_id, id],
                connection,
            )
            .await
    }

    pub async fn create_app_challenge(
        &self,
        challenge_digest: &ChallengeDigest,
        account_id: AccountId,
        app: &AppIdentity,
        now: i64,
    ) -> Result<(), StoreError> {
        self.db
            .execute(
                "INSERT INTO app_challenges (challenge_digest, account_id, app_id, app_version, device_name, created_at, platform)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
                params![challenge_digest, account_id, app.app_id.as_str(), app.app_version.as_str(), app.device_name.as_str(), now, app.platform.as_deref()],
            )
            .await?;
        Ok(())
    }

    pub async fn app_challenge(
        &self,
        challenge_digest: &ChallengeDigest,
    ) -> Result<Option<ChallengeRow>, StoreError> {
        self.db
            .read_optional(
                "SELECT account_id, app_id, app_version, device_name, platform, created_at
                 FROM app_challenges WHERE challenge_digest = $1",
                params![challenge_digest],
                |row| {
                    Ok(ChallengeRow {
                        account_id: row.account_id("account_id")?,
                        app: AppIdentity {
                            app_id: row.get("app_id")?,
                            app_version: row.get("app_version")?,
                            device_name: row.get("device_name")?,
                            platform: row.get("platform")?,
                        },
                        created_at: row.get("created_at")?,
                    })
                },
            )
            .await
    }

    /// Claims the right to send the "update your application" e-mail: true when
    /// none was sent for this app and device since `now - interval`. One statement,
    /// so two instances refusing the same app at once send one e-mail.
    pub async fn claim_refusal_notice(
        &self,
        account_id: AccountId,
        app_id: &str,
        device_name: &str,
        now: i64,
        interval_seconds: i64,
    ) -> Result<bool, StoreError> {
        let done = self.db
            .execute(
                "INSERT INTO refusal_notices (account_id, app_id, device_name, sent_at) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (account_id, app_id, device_name) DO UPDATE SET sent_at = $4
                 WHERE refusal_notices.sent_at <= $5",
                params![account_id, app_id, device_name, now, now - interval_seconds],
            )
            .await?;
        Ok(done == 1)
    }
}

statements! {
    /// False, changing nothing, once the token went unused since `idle_since`
    /// or earlier: it has expired.
    touch_connection(id: i64, now: i64, idle_since: i64) -> bool =
        "UPDATE app_connections SET last_used_at = $2 WHERE id = $1 AND last_used_at > $3";
    /// True only for the one caller that deleted it: a challenge is passed once.
    delete_app_challenge(challenge_digest: &ChallengeDigest) -> bool =
        "DELETE FROM app_challenges WHERE challenge_digest = $1";
}
