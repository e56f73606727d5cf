//! The security history of an account (sign-ins, changes to two-step
//! verification, password changes), as kinds and summaries the domain wrote.

use crate::db::{params, statements};
use domain::AccountId;

use crate::accounts::RECORD_EVENT;
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

impl Store {
    /// Records the event of an SMS refused by `rule`, unless the account has
    /// one for that rule recorded after `stands_since`: the claim on the rule's
    /// row comes first, in the event's transaction, so that of a hundred
    /// refusals at once one records it. True for that one.
    pub async fn record_sms_refusal_event(
        &self,
        account_id: AccountId,
        rule: &str,
        kind: &str,
        summary: &str,
        now: i64,
        stands_since: i64,
    ) -> Result<bool, StoreError> {
        self.claim_and_change(
            (
                "INSERT INTO sms_refusal_events (account_id, rule, recorded_at) VALUES ($1, $2, $3)
                 ON CONFLICT (account_id, rule) DO UPDATE SET recorded_at = $3
                 WHERE sms_refusal_events.recorded_at <= $4",
                params![account_id, rule, now, stands_since],
            ),
            &[(RECORD_EVENT, params![account_id, kind, summary, now])],
        )
        .await
    }
}

statements! {
    record_event(account_id: AccountId, kind: &str, summary: &str, now: i64) = RECORD_EVENT;
}
