//! Accounts: sign-in details, the confirmed phone number, the security question,
//! and the changes to them that must happen together, each one transaction
//! (confirming a phone with its code, turning two-step off).

use crate::authenticator::authenticator_columns;
use crate::codes::{CONSUME_CODE, consume_code_params};
use crate::db::{Row, params, statements};
use domain::digests::{PendingSignInDigest, SessionDigest};
use domain::{AccountId, IssuedCode};

use crate::{AuthenticatorRow, PendingSignInRow, Store, StoreError, flag};

#[derive(Clone, PartialEq, Eq)]
pub struct Account {
    pub id: AccountId,
    pub email: String,
    pub password_hash: String,
    pub created_at: i64,
    pub password_changed_at: i64,
    /// Set at sign-up until the e-mailed link confirms the address; `None`:
    /// confirmed (see `domain::email_confirmation::AddressState`).
    pub email_unconfirmed_since: Option<i64>,
    pub phone_enc: Option<Vec<u8>>,
    pub phone_confirmed_at: Option<i64>,
    pub security_question: Option<String>,
    pub security_answer_hash: Option<String>,
    /// Set for good once two-step verification is first turned on.
    pub security_question_disabled: bool,
    /// The authenticator's row, read with the account because the code step needs
    /// both (one query instead of two on every sign-in).
    pub authenticator: Option<AuthenticatorRow>,
}

impl Account {
    pub fn address(&self) -> domain::email_confirmation::AddressState {
        domain::email_confirmation::AddressState::of(self.email_unconfirmed_since)
    }

    pub fn has_authenticator(&self) -> bool {
        self.authenticator.is_some()
    }
}

// Hand-written so that hashes never reach a log line through `{:?}`.
impl std::fmt::Debug for Account {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Account")
            .field("id", &self.id)
            .field("email", &self.email)
            .field("created_at", &self.created_at)
            .field("password_changed_at", &self.password_changed_at)
            .field("email_unconfirmed_since", &self.email_unconfirmed_since)
            .field("has_phone", &self.phone_enc.is_some())
            .field("phone_confirmed_at", &self.phone_confirmed_at)
            .field("security_question", &self.security_question)
            .field(
                "security_question_disabled",
                &self.security_question_disabled,
            )
            .field("has_authenticator", &self.has_authenticator())
            .finish_non_exhaustive()
    }
}

// Macros rather than consts so that `concat!` can build `&'static str` queries.
// The columns need `accounts a LEFT JOIN authenticators au`.
macro_rules! account_columns {
    () => {
        "a.id, a.email, a.password_hash, a.created_at, a.password_changed_at,
         a.email_unconfirmed_since,
         a.phone_enc, a.phone_confirmed_at, a.security_question, a.security_answer_hash,
         a.security_question_disabled,
         au.secret_enc AS au_secret_enc, au.last_used_step AS au_last_used_step,
         au.failed_step AS au_failed_step, au.failed_count AS au_failed_count,
         au.created_at AS au_created_at"
    };
}

macro_rules! select_account {
    () => {
        concat!(
            "SELECT ",
            account_columns!(),
            " FROM accounts a LEFT JOIN authenticators au ON au.account_id = a.id "
        )
    };
}

fn account_from_row(row: &Row<'_>) -> Result<Account, StoreError> {
    // The authenticator's columns are NULL, not readable as numbers, without one.
    let authenticator = match row.get::<Option<Vec<u8>>>("au_secret_enc")? {
        Some(_) => Some(authenticator_columns(row, "au_")?),
        None => None,
    };
    Ok(Account {
        id: row.account_id("id")?,
        email: row.get("email")?,
        password_hash: row.get("password_hash")?,
        created_at: row.get("created_at")?,
        password_changed_at: row.get("password_changed_at")?,
        email_unconfirmed_since: row.get("email_unconfirmed_since")?,
        phone_enc: row.get("phone_enc")?,
        phone_confirmed_at: row.get("phone_confirmed_at")?,
        security_question: row.get("security_question")?,
        security_answer_hash: row.get("security_answer_hash")?,
        security_question_disabled: row.get::<i64>("security_question_disabled")? != 0,
        authenticator,
    })
}

/// The phone number confirmed, and the security question gone for good: the
/// help page's "set up two-step and the question is permanently disabled".
const TURN_ON_SMS: &str = "UPDATE accounts
     SET phone_enc = $2, phone_confirmed_at = $3,
         security_question = NULL, security_answer_hash = NULL,
         security_question_disabled = $4
     WHERE id = $1";

impl Store {
    /// Returns the new account's id, or `EmailTaken` when the address is in use.
    pub async fn create_account(
        &self,
        email: &str,
        password_hash: &str,
        now: i64,
    ) -> Result<AccountId, StoreError> {
        // The unique constraint decides, not a prior SELECT, so that two sign-ups
        // with one address cannot both pass.
        let inserted = self
            .db
            .fetch_one(
                "INSERT INTO accounts (email, password_hash, created_at, password_changed_at)
                 VALUES ($1, $2, $3, $3)
                 RETURNING id",
                params![email, password_hash, now],
                |row| row.account_id("id"),
            )
            .await;
        match inserted {
            Ok(id) => Ok(id),
            Err(StoreError::Database(error)) if error.is_unique_violation() => {
                Err(StoreError::EmailTaken)
            }
            Err(error) => Err(error),
        }
    }

    pub async fn account_by_email(&self, email: &str) -> Result<Option<Account>, StoreError> {
        let query = concat!(select_account!(), "WHERE a.email = $1");
        self.db
            .read_optional(query, params![email], account_from_row)
            .await
    }

    /// A half-finished sign-in and its account in one query: every request of the
    /// code step needs both.
    pub async fn pending_sign_in_with_account(
        &self,
        id_digest: &PendingSignInDigest,
    ) -> Result<Option<(PendingSignInRow, Account)>, StoreError> {
        self.db
            .read_optional(
                concat!(
                    "SELECT ",
                    account_columns!(),
                    ", p.method AS pending_method, p.created_at AS pending_created_at
                     FROM pending_sign_ins p
                     JOIN accounts a ON a.id = p.account_id
                     LEFT JOIN authenticators au ON au.account_id = a.id
                     WHERE p.id_digest = $1"
                ),
                params![id_digest],
                |row| {
                    let account = account_from_row(row)?;
                    let pending = PendingSignInRow {
                        account_id: account.id,
                        method: crate::sessions::method_column(row, "pending_method")?,
                        created_at: row.get("pending_created_at")?,
                    };
                    Ok((pending, account))
                },
            )
            .await
    }

    pub async fn account_by_id(&self, id: AccountId) -> Result<Option<Account>, StoreError> {
        let query = concat!(select_account!(), "WHERE a.id = $1");
        self.db
            .read_optional(query, params![id], account_from_row)
            .await
    }

    pub async fn set_password(
        &self,
        account_id: AccountId,
        password_hash: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        // Applications connected with the old password lose their tokens with
        // it, and what the old password began (a sign-in waiting for its code,
        // an application's challenge) cannot be finished any more.
        self.db
            .execute_together(&[
                (
                    "UPDATE accounts SET password_hash = $2, password_changed_at = $3 WHERE id = $1",
                    params![account_id, password_hash, now],
                ),
                (
                    "DELETE FROM app_connections WHERE account_id = $1",
                    params![account_id],
                ),
                (
                    "DELETE FROM pending_sign_ins WHERE account_id = $1",
                    params![account_id],
                ),
                (
                    "DELETE FROM app_challenges WHERE account_id = $1",
                    params![account_id],
                ),
            ])
            .await
    }

    /// Confirms the phone number and, in the same statement, deletes the security
    /// question and disables it for good. Used where no code is involved (seeding,
    /// tests); the Security tab goes through [`Store::confirm_phone`].
    pub async fn turn_on_sms(
        &self,
        account_id: AccountId,
        phone_enc: Vec<u8>,
        now: i64,
    ) -> Result<(), StoreError> {
        self.db
            .execute(
                TURN_ON_SMS,
                params![account_id, &phone_enc, now, flag(true)],
            )
            .await?;
        Ok(())
    }

    /// Confirming a phone number with the code sent to it, for setting up SMS or
    /// changing the number, as one transaction: uses up `code` (which passed its
    /// check) and saves the number, deleting the security question and disabling
    /// it for good. False, changing nothing, when the code was used up first by
    /// a parallel request.
    pub async fn confirm_phone(
        &self,
        account_id: AccountId,
        code: &IssuedCode,
        phone_enc: Vec<u8>,
        now: i64,
    ) -> Result<bool, StoreError> {
        self.claim_and_change(
            (CONSUME_CODE, consume_code_params!(account_id, code)),
            &[(
                TURN_ON_SMS,
                params![account_id, &phone_enc, now, flag(true)],
            )],
        )
        .await
    }

    /// Turning two-step verification on with the code sent to the new phone:
    /// [`Store::confirm_phone`], and in the same transaction every other
    /// session of the account ends (all but `keep`) and the connections
    /// `disconnect` (those whose version cannot do two-step verification) are
    /// deleted, so nothing opened without the second step outlives it.
    pub async fn turn_on_two_step(
        &self,
        account_id: AccountId,
        code: &IssuedCode,
        phone_enc: Vec<u8>,
        now: i64,
        keep: &SessionDigest,
        disconnect: &[i64],
    ) -> Result<bool, StoreError> {
        use crate::db::Param;
        let turn_on = [
            Param::from(account_id),
            Param::from(&phone_enc),
            Param::from(now),
            Param::from(flag(true)),
        ];
        let other_sessions = [Param::from(account_id), Param::from(keep)];
        let connections: Vec<[Param<'_>; 2]> = disconnect
            .iter()
            .map(|id| [Param::from(account_id), Param::from(*id)])
            .collect();
        let mut change: Vec<(&'static str, &[Param<'_>])> = vec![
            (TURN_ON_SMS, &turn_on),
            (
                "DELETE FROM sessions WHERE account_id = $1 AND id_digest <> $2",
                &other_sessions,
            ),
        ];
        for connection in &connections {
            change.push((
                "DELETE FROM app_connections WHERE account_id = $1 AND id = $2",
                connection,
            ));
        }
        self.claim_and_change(
            (CONSUME_CODE, consume_code_params!(account_id, code)),
            &change,
        )
        .await
    }

    /// Forgets the phone number and the authenticator (and any half-done
    /// enrolment) together; returns whether an authenticator was on. The security
    /// question stays disabled.
    pub async fn turn_off_two_step(&self, account_id: AccountId) -> Result<bool, StoreError> {
        let mut transaction = self.db.begin().await?;
        transaction
            .execute(
                "UPDATE accounts SET phone_enc = NULL, phone_confirmed_at = NULL WHERE id = $1",
                params![account_id],
            )
            .await?;
        self.between_statements()?;
        let authenticator_was_on = transaction
            .execute(
                "DELETE FROM authenticators WHERE account_id = $1",
                params![account_id],
            )
            .await?
            > 0;
        self.between_statements()?;
        transaction
            .execute(
                "DELETE FROM authenticator_enrolments WHERE account_id = $1",
                params![account_id],
            )
            .await?;
        self.between_statements()?;
        transaction.commit().await?;
        Ok(authenticator_was_on)
    }
}

statements! {
    /// Returns false, changing nothing, once the question has been disabled; the
    /// check is in the WHERE so that it holds against a concurrent `turn_on_sms`.
    set_security_question(account_id: AccountId, question: &str, answer_hash: &str) -> bool =
        "UPDATE accounts SET security_question = $2, security_answer_hash = $3
         WHERE id = $1 AND security_question_disabled = 0";
}
