//! The security history of an account (sign-ins, changes to two-step
//! verification, password changes), as kinds and summaries the domain wrote.

use crate::db::{params, statements};
use domain::AccountId;

use crate::{Store, StoreError};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventRow {
    pub kind: String,
    pub summary: String,
    pub created_at: i64,
}

impl Store {
    /// Newest first; events of the same second keep the order they were recorded in.
    pub async fn recent_events(
        &self,
        account_id: AccountId,
        limit: i64,
    ) -> Result<Vec<EventRow>, StoreError> {
        self.db
            .read_all(
                "SELECT kind, summary, created_at FROM security_events
                 WHERE account_id = $1
                 ORDER BY created_at DESC, id DESC
                 LIMIT $2",
                params![account_id, limit],
                |row| {
                    Ok(EventRow {
                        kind: row.get("kind")?,
                        summary: row.get("summary")?,
                        created_at: row.get("created_at")?,
                    })
                },
            )
            .await
    }
}

statements! {
    record_event(account_id: AccountId, kind: &str, summary: &str, now: i64) =
        "INSERT INTO security_events (account_id, kind, summary, created_at)
         VALUES ($1, $2, $3, $4)";
}
