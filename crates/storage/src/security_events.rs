//! The security history of an account (sign-ins, changes to two-step
//! verification, password changes), as kinds and summaries the domain wrote.

use sqlx::Row;

use crate::{Store, StoreError};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventRow {
    pub kind: String,
    pub summary: String,
    pub created_at: i64,
}

impl Store {
    pub async fn record_event(
        &self,
        account_id: i64,
        kind: &str,
        summary: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO security_events (account_id, kind, summary, created_at)
             VALUES ($1, $2, $3, $4)",
        )
        .bind(account_id)
        .bind(kind)
        .bind(summary)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Newest first; events of the same second keep the order they were recorded in.
    pub async fn recent_events(
        &self,
        account_id: i64,
        limit: i64,
    ) -> Result<Vec<EventRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT kind, summary, created_at FROM security_events
             WHERE account_id = $1
             ORDER BY created_at DESC, id DESC
             LIMIT $2",
        )
        .bind(account_id)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(EventRow {
                    kind: row.try_get("kind")?,
                    summary: row.try_get("summary")?,
                    created_at: row.try_get("created_at")?,
                })
            })
            .collect()
    }
}
