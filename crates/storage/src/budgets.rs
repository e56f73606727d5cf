//! Budgets (see `domain::budgets`) and the conversion guard's figures.
//!
//! Reserve, then check: a use takes its place in one insert-or-increment per
//! budget, which refuses it when the budget is full. An SMS takes its code's
//! place and every budget it needs in one transaction: when one is full, the
//! others are given back by the rollback, so a refused SMS costs nothing.

use domain::budgets::{Budget, BudgetFull, Conversion, Rule, Window};
use domain::digests::SubjectDigest;
use domain::{AccountId, IssuedCode};

use crate::codes::{REPLACE_CODE, replace_code_params};
use crate::db::{Row, params, statements};
use crate::{Store, StoreError};

/// A budget and whom it counts: what one use takes.
#[derive(Debug, Clone, Copy)]
pub struct Claim<'a> {
    pub budget: Budget,
    pub subject: &'a SubjectDigest,
}

/// What became of an SMS code asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmsReservation {
    /// Saved, every budget taken: send it.
    Saved,
    /// The last code for this purpose is less than a minute old and unused.
    TooSoon,
    /// A budget is full; nothing was taken.
    Full(BudgetFull),
}

/// `Window::reserve` as one statement: `$3` is now, `$4` the start of a window
/// that would still be running, `$5` the limit. Answers a row only when the use
/// got its place.
const RESERVE_BUDGET: &str =
    "INSERT INTO rate_budgets (rule, subject, count, window_started_at) VALUES ($1, $2, 1, $3)
     ON CONFLICT (rule, subject) DO UPDATE SET
       count = CASE WHEN rate_budgets.window_started_at <= $4 THEN 1 ELSE rate_budgets.count + 1 END,
       window_started_at = CASE WHEN rate_budgets.window_started_at <= $4 THEN $3 ELSE rate_budgets.window_started_at END
     WHERE rate_budgets.window_started_at <= $4 OR rate_budgets.count < $5
     RETURNING count";

macro_rules! reserve_budget_params {
    ($claim:expr, $now:expr) => {
        params![
            $claim.budget.rule,
            $claim.subject,
            $now,
            $now - $claim.budget.window_seconds,
            $claim.budget.limit
        ]
    };
}

const RECORD_SMS_SENT: &str =
    "INSERT INTO sms_sent (calling_code, account_id, purpose, issued_at) VALUES ($1, $2, $3, $4)";

fn window_row(row: &Row<'_>) -> Result<Window, StoreError> {
    Ok(Window {
        count: row.get("count")?,
        started_at: row.get("window_started_at")?,
    })
}

impl Store {
    /// Takes a place in one budget, or says how long until there is one.
    pub async fn reserve_budget(
        &self,
        claim: Claim<'_>,
        now: i64,
    ) -> Result<Result<(), BudgetFull>, StoreError> {
        let reserved = self
            .db
            .fetch_optional(RESERVE_BUDGET, reserve_budget_params!(claim, now), |_| {
                Ok(())
            })
            .await?;
        match reserved {
            Some(()) => Ok(Ok(())),
            None => Ok(Err(self.budget_full(claim, now).await?)),
        }
    }

    /// Saves `code` as `replace_code_sent_by` does and takes a place in every
    /// budget of `claims`, in one transaction: all of it, or nothing when the
    /// code is too soon or a budget is full. The code is recorded for the
    /// conversion guard under `calling_code`.
    #[allow(clippy::too_many_arguments)]
    pub async fn save_code_within_budgets(
        &self,
        account_id: AccountId,
        code: &IssuedCode,
        destination_enc: Option<&[u8]>,
        sent_by: i64,
        claims: &[Claim<'_>],
        calling_code: &str,
    ) -> Result<SmsReservation, StoreError> {
        let now = code.issued_at;
        let mut transaction = self.db.begin().await?;
        let saved = transaction
            .execute(
                REPLACE_CODE,
                replace_code_params!(account_id, code, destination_enc, sent_by),
            )
            .await?;
        if saved != 1 {
            return Ok(SmsReservation::TooSoon);
        }
        for claim in claims {
            let reserved = transaction
                .fetch_optional(RESERVE_BUDGET, reserve_budget_params!(claim, now), |_| {
                    Ok(())
                })
                .await?;
            if reserved.is_none() {
                // Rolled back: the code and the budgets already taken stay as
                // they were.
                drop(transaction);
                return Ok(SmsReservation::Full(self.budget_full(*claim, now).await?));
            }
        }
        transaction
            .execute(
                RECORD_SMS_SENT,
                params![calling_code, account_id, code.purpose, code.issued_at],
            )
            .await?;
        transaction.commit().await?;
        Ok(SmsReservation::Saved)
    }

    pub async fn budget_window(
        &self,
        rule: Rule,
        subject: &SubjectDigest,
    ) -> Result<Option<Window>, StoreError> {
        self.db
            .read_optional(
                "SELECT count, window_started_at FROM rate_budgets WHERE rule = $1 AND subject = $2",
                params![rule, subject],
                window_row,
            )
            .await
    }

    /// A refused use only reads the window to say how long to wait. Should it
    /// have ended meanwhile, a second's wait is still the honest answer.
    async fn budget_full(&self, claim: Claim<'_>, now: i64) -> Result<BudgetFull, StoreError> {
        let retry_after_seconds = self
            .budget_window(claim.budget.rule, claim.subject)
            .await?
            .and_then(|window| window.full_for(&claim.budget, now))
            .unwrap_or(1);
        Ok(BudgetFull {
            rule: claim.budget.rule,
            retry_after_seconds,
        })
    }

    /// Until when SMS to `calling_code` are held (or were last held): the
    /// conversion guard judges only codes sent since.
    pub async fn sms_held_until(&self, calling_code: &str) -> Result<Option<i64>, StoreError> {
        self.db
            .read_optional(
                "SELECT held_until FROM sms_holds WHERE calling_code = $1",
                params![calling_code],
                |row| row.get("held_until"),
            )
            .await
    }

    /// Of the last `sample` codes sent to `calling_code` since `since`, how
    /// many were entered.
    pub async fn sms_conversion(
        &self,
        calling_code: &str,
        since: i64,
        sample: i64,
    ) -> Result<Conversion, StoreError> {
        self.db
            .read_one(
                "SELECT COUNT(*) AS sent, CAST(COALESCE(SUM(entered), 0) AS BIGINT) AS entered
                 FROM (SELECT entered FROM sms_sent WHERE calling_code = $1 AND issued_at >= $2
                       ORDER BY id DESC LIMIT $3) AS recent",
                params![calling_code, since, sample],
                |row| {
                    Ok(Conversion {
                        sent: row.get("sent")?,
                        entered: row.get("entered")?,
                    })
                },
            )
            .await
    }

    /// Holds SMS to `calling_code` until `until`, unless a hold is running:
    /// true for the one caller that placed it (who logs it).
    pub async fn hold_sms(
        &self,
        calling_code: &str,
        until: i64,
        figures: Conversion,
        now: i64,
    ) -> Result<bool, StoreError> {
        let placed = self
            .db
            .execute(
                "INSERT INTO sms_holds (calling_code, held_until, sent, entered) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (calling_code) DO UPDATE SET
                   held_until = excluded.held_until, sent = excluded.sent, entered = excluded.entered
                 WHERE sms_holds.held_until <= $5",
                params![calling_code, until, figures.sent, figures.entered, now],
            )
            .await?;
        Ok(placed == 1)
    }
}

impl Store {
    /// Housekeeping: budgets whose window started `longest_window_seconds`
    /// ago or earlier (all ended), and codes too old for the conversion
    /// guard's figures with the holds that ended before them (a hold's end is
    /// where its calling code's figures start again, so it stays as long as
    /// older codes do); returns how many rows went.
    pub async fn delete_spent_budgets(
        &self,
        now: i64,
        longest_window_seconds: i64,
    ) -> Result<u64, StoreError> {
        let mut removed = 0;
        for (sql, before) in [
            (
                "DELETE FROM rate_budgets WHERE window_started_at <= $1",
                now - longest_window_seconds,
            ),
            (
                "DELETE FROM sms_sent WHERE issued_at <= $1",
                now - domain::budgets::CONVERSION_FIGURES_KEPT_SECONDS,
            ),
            (
                "DELETE FROM sms_holds WHERE held_until <= $1",
                now - domain::budgets::CONVERSION_FIGURES_KEPT_SECONDS,
            ),
        ] {
            removed += self.db.execute(sql, params![before]).await?;
        }
        Ok(removed)
    }
}

statements! {
    /// A code that passed its check counts as entered for the conversion guard.
    mark_sms_entered(account_id: AccountId, purpose: domain::CodePurpose, issued_at: i64) =
        "UPDATE sms_sent SET entered = 1 WHERE account_id = $1 AND purpose = $2 AND issued_at = $3";
}
