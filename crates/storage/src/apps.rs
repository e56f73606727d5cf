//! Client applications connected to accounts, the second step they are in the
//! middle of, and when an owner was last told that an application is too old.

use sqlx::Row;

use crate::{Store, StoreError};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectionRow {
    pub id: i64,
    pub account_id: i64,
    pub app_id: String,
    pub app_version: String,
    pub device_name: String,
    pub created_at: i64,
    pub last_used_at: i64,
}

/// Who an application says it is, as it asked to connect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppIdentity {
    pub app_id: String,
    pub app_version: String,
    pub device_name: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChallengeRow {
    pub account_id: i64,
    pub app: AppIdentity,
    pub created_at: i64,
}

macro_rules! connection_columns {
    () => {
        "id, account_id, app_id, app_version, device_name, created_at, last_used_at"
    };
}

fn connection(row: &sqlx::any::AnyRow) -> Result<ConnectionRow, sqlx::Error> {
    Ok(ConnectionRow {
        id: row.try_get("id")?,
        account_id: row.try_get("account_id")?,
        app_id: row.try_get("app_id")?,
        app_version: row.try_get("app_version")?,
        device_name: row.try_get("device_name")?,
        created_at: row.try_get("created_at")?,
        last_used_at: row.try_get("last_used_at")?,
    })
}

impl Store {
    pub async fn create_connection(
        &self,
        account_id: i64,
        token_digest: &[u8],
        app: &AppIdentity,
        now: i64,
    ) -> Result<i64, StoreError> {
        let row = sqlx::query(
            "INSERT INTO app_connections (account_id, token_digest, app_id, app_version, device_name, created_at, last_used_at)
             VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING id",
        )
        .bind(account_id)
        .bind(token_digest.to_vec())
        .bind(app.app_id.as_str())
        .bind(app.app_version.as_str())
        .bind(app.device_name.as_str())
        .bind(now)
        .fetch_one(&self.pool)
        .await?;
        Ok(row.try_get("id")?)
    }

    pub async fn connection_by_token(
        &self,
        token_digest: &[u8],
    ) -> Result<Option<ConnectionRow>, StoreError> {
        let row = sqlx::query(concat!(
            "SELECT ",
            connection_columns!(),
            " FROM app_connections WHERE token_digest = $1"
        ))
        .bind(token_digest.to_vec())
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.as_ref().map(connection).transpose()?)
    }

    pub async fn touch_connection(&self, id: i64, now: i64) -> Result<(), StoreError> {
        sqlx::query("UPDATE app_connections SET last_used_at = $2 WHERE id = $1")
            .bind(id)
            .bind(now)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Newest first.
    pub async fn connections_of_account(
        &self,
        account_id: i64,
    ) -> Result<Vec<ConnectionRow>, StoreError> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            connection_columns!(),
            " FROM app_connections WHERE account_id = $1 ORDER BY created_at DESC, id DESC"
        ))
        .bind(account_id)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.iter().map(connection).collect::<Result<_, _>>()?)
    }

    /// Only the account's own connection can be removed; returns what was removed.
    pub async fn delete_connection(
        &self,
        account_id: i64,
        id: i64,
    ) -> Result<Option<ConnectionRow>, StoreError> {
        let row = sqlx::query(concat!(
            "DELETE FROM app_connections WHERE account_id = $1 AND id = $2 RETURNING ",
            connection_columns!()
        ))
        .bind(account_id)
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.as_ref().map(connection).transpose()?)
    }

    pub async fn create_app_challenge(
        &self,
        challenge_digest: &[u8],
        account_id: i64,
        app: &AppIdentity,
        now: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO app_challenges (challenge_digest, account_id, app_id, app_version, device_name, created_at)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(challenge_digest.to_vec())
        .bind(account_id)
        .bind(app.app_id.as_str())
        .bind(app.app_version.as_str())
        .bind(app.device_name.as_str())
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn app_challenge(
        &self,
        challenge_digest: &[u8],
    ) -> Result<Option<ChallengeRow>, StoreError> {
        let row = sqlx::query("SELECT account_id, app_id, app_version, device_name, created_at FROM app_challenges WHERE challenge_digest = $1")
            .bind(challenge_digest.to_vec())
            .fetch_optional(&self.pool)
            .await?;
        let Some(row) = row else { return Ok(None) };
        Ok(Some(ChallengeRow {
            account_id: row.try_get("account_id")?,
            app: AppIdentity {
                app_id: row.try_get("app_id")?,
                app_version: row.try_get("app_version")?,
                device_name: row.try_get("device_name")?,
            },
            created_at: row.try_get("created_at")?,
        }))
    }

    /// True only for the one caller that deleted it: a challenge is passed once.
    pub async fn delete_app_challenge(&self, challenge_digest: &[u8]) -> Result<bool, StoreError> {
        let done = sqlx::query("DELETE FROM app_challenges WHERE challenge_digest = $1")
            .bind(challenge_digest.to_vec())
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Claims the right to send the "update your application" e-mail: true when
    /// none was sent for this app and device since `now - interval`. One statement,
    /// so two instances refusing the same app at once send one e-mail.
    pub async fn claim_refusal_notice(
        &self,
        account_id: i64,
        app_id: &str,
        device_name: &str,
        now: i64,
        interval_seconds: i64,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "INSERT INTO refusal_notices (account_id, app_id, device_name, sent_at) VALUES ($1, $2, $3, $4)
             ON CONFLICT (account_id, app_id, device_name) DO UPDATE SET sent_at = $4
             WHERE refusal_notices.sent_at <= $5",
        )
        .bind(account_id)
        .bind(app_id)
        .bind(device_name)
        .bind(now)
        .bind(now - interval_seconds)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }
}
