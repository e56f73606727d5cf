//! Accounts: sign-in details, the confirmed phone number, the security question,
//! and the changes to them that must happen together, each one transaction
//! (confirming a phone with its code, turning two-step off).

use crate::authenticator::authenticator_columns;
use crate::codes::{CONSUME_CODE, consume_code_params};
use crate::db::{Row, params, statements};
use domain::digests::{CodeDigest, PendingSignInDigest, SessionDigest};
use domain::secrets::KeyId;
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
    /// Set by an operator (`twostep user disable`): no sign-in, no application.
    pub disabled_at: Option<i64>,
    /// The authenticator's row, read with the account because the code step needs
    /// both (one query instead of two on every sign-in).
    pub authenticator: Option<AuthenticatorRow>,
}

impl Account {
    pub fn address(&self) -> domain::email_confirmation::AddressState {
        domain::email_confirmation::AddressState::of(self.email_unconfirmed_since)
    }

    /// Disabled by an operator: it may not sign in, connect applications, or
    /// use a session or token it had.
    pub fn is_disabled(&self) -> bool {
        self.disabled_at.is_some()
    }

    pub fn has_authenticator(&self) -> bool {
        self.authenticator.is_some()
    }

    /// The account's two-step verification as the core reads it.
    pub fn two_step(&self) -> domain::TwoStep {
        domain::TwoStep::from_stored(self.phone_enc.is_some(), self.has_authenticator())
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
            .field("disabled_at", &self.disabled_at)
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
         a.security_question_disabled, a.disabled_at,
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
        disabled_at: row.get("disabled_at")?,
        authenticator,
    })
}

/// The phone number confirmed, and the security question gone for good: the
/// help page's "set up two-step and the question is permanently disabled".
pub(crate) const TURN_ON_SMS: &str = "UPDATE accounts
     SET phone_enc = $2, phone_confirmed_at = $3,
         security_question = NULL, security_answer_hash = NULL,
         security_question_disabled = $4
     WHERE id = $1";

/// Turning two-step off: no phone, no authenticator, no half-done enrolment.
const TURN_OFF_TWO_STEP: [&str; 5] = [
    "UPDATE accounts SET phone_enc = NULL, phone_confirmed_at = NULL WHERE id = $1",
    "DELETE FROM authenticators WHERE account_id = $1",
    "DELETE FROM authenticator_enrolments WHERE account_id = $1",
    "DELETE FROM recovery_codes WHERE account_id = $1",
    crate::recovery::FORGET_REMEMBERED_DEVICES,
];

/// What the old password began, which a new password ends: a sign-in waiting
/// for its code and an application's challenge cannot be finished any more,
/// and remembered devices ask for a code again. Applications are signed out
/// with it ([`SIGN_OUT_APPLICATIONS`]). Shared by [`Store::set_password`] and
/// [`Store::complete_password_reset`].
pub(crate) const WHAT_THE_OLD_PASSWORD_BEGAN: [&str; 3] = [
    "DELETE FROM pending_sign_ins WHERE account_id = $1",
    "DELETE FROM app_challenges WHERE account_id = $1",
    crate::recovery::FORGET_REMEMBERED_DEVICES,
];

/// A new password signs the account's applications out (at `$2`) rather than
/// deleting them: a signed-out token reaches no account endpoint, but an
/// Anti-Theft device keeps answering its commands, so that changing the
/// password of a stolen phone's account does not make the phone unfindable.
/// Which connection is a device is the catalogue's to say, which SQL cannot
/// see: the web layer decides per request. One signed out before keeps its
/// time.
pub(crate) const SIGN_OUT_APPLICATIONS: &str =
    "UPDATE app_connections SET signed_out_at = $2 WHERE account_id = $1 AND signed_out_at IS NULL";

/// A new account; `$4` is when its address began waiting for confirmation,
/// NULL for one confirmed already. The unique constraint decides, not a prior
/// SELECT, so that two sign-ups with one address cannot both pass
/// ([`email_taken`]).
pub(crate) const INSERT_ACCOUNT: &str =
    "INSERT INTO accounts (email, password_hash, created_at, password_changed_at,
                           email_unconfirmed_since)
     VALUES ($1, $2, $3, $3, $4)
     RETURNING id";

/// [`INSERT_ACCOUNT`]'s unique violation: the address has an account.
pub(crate) fn email_taken(error: StoreError) -> StoreError {
    match error {
        StoreError::Database(error) if error.is_unique_violation() => StoreError::EmailTaken,
        other => other,
    }
}

pub(crate) const END_SESSIONS: &str = "DELETE FROM sessions WHERE account_id = $1";

/// Every application token, signed out or not, Anti-Theft devices included.
const END_TOKENS: &str = "DELETE FROM app_connections WHERE account_id = $1";

/// Everything that lets someone in, or lets them finish getting in: every
/// session, every application token, half-finished sign-ins and challenges.
const END_EVERY_ACCESS: [&str; 4] = [
    END_SESSIONS,
    END_TOKENS,
    WHAT_THE_OLD_PASSWORD_BEGAN[0],
    WHAT_THE_OLD_PASSWORD_BEGAN[1],
];

pub(crate) const RECORD_EVENT: &str =
    "INSERT INTO security_events (account_id, kind, summary, created_at)
     VALUES ($1, $2, $3, $4)";

/// A security event recorded in the transaction of the change it describes.
#[derive(Debug, Clone, Copy)]
pub struct EventRecord<'a> {
    pub kind: &'a str,
    pub summary: &'a str,
    pub now: i64,
}

/// What an operator's reset of two-step verification removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TwoStepReset {
    pub authenticator_was_on: bool,
    pub sessions_ended: u64,
    pub tokens_revoked: u64,
}

/// Everything turning two-step verification on writes, in one transaction
/// ([`Store::turn_on_two_step`]).
pub struct TurnOnTwoStep<'a> {
    pub account_id: AccountId,
    /// The code sent to the new phone, used up by the same transaction.
    pub code: &'a IssuedCode,
    pub phone_enc: Vec<u8>,
    /// The keyed digests of the first set of recovery codes, and the id of
    /// the server key that made them.
    pub recovery_digests: &'a [CodeDigest],
    pub recovery_key_id: KeyId,
    /// The session that turned it on: every other one is signed out.
    pub keep_session: &'a SessionDigest,
    /// The connections whose version cannot do two-step verification.
    pub disconnect: &'a [i64],
    pub now: i64,
}

impl Store {
    /// Returns the new account's id, or `EmailTaken` when the address is in use.
    pub async fn create_account(
        &self,
        email: &str,
        password_hash: &str,
        now: i64,
    ) -> Result<AccountId, StoreError> {
        let confirmed: Option<i64> = None;
        self.db
            .fetch_one(
                INSERT_ACCOUNT,
                params![email, password_hash, now, confirmed],
                |row| row.account_id("id"),
            )
            .await
            .map_err(email_taken)
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

    /// A password change as one transaction: the new password, the account's
    /// applications signed out, and what the old password began ended. The
    /// browser that changed it stays signed in.
    pub async fn set_password(
        &self,
        account_id: AccountId,
        password_hash: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        let account: &[crate::db::Param<'_>] = params![account_id];
        let new_password: &[crate::db::Param<'_>] = params![account_id, password_hash, now];
        let signed_out_at: &[crate::db::Param<'_>] = params![account_id, now];
        let mut steps = vec![
            (
                "UPDATE accounts SET password_hash = $2, password_changed_at = $3 WHERE id = $1",
                new_password,
            ),
            (SIGN_OUT_APPLICATIONS, signed_out_at),
        ];
        steps.extend(WHAT_THE_OLD_PASSWORD_BEGAN.map(|sql| (sql, account)));
        self.db.execute_together(&steps).await
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
    /// [`Store::confirm_phone`], and in the same transaction the first set of
    /// recovery codes is stored, devices remembered before are forgotten, every
    /// other session of the account ends and the connections whose version
    /// cannot do two-step verification are deleted, so nothing opened without
    /// the second step outlives it.
    pub async fn turn_on_two_step(&self, on: TurnOnTwoStep<'_>) -> Result<bool, StoreError> {
        let account_id = on.account_id;
        let key_id = on.recovery_key_id.to_string();
        let mut steps = vec![(
            TURN_ON_SMS,
            params![account_id, &on.phone_enc, on.now, flag(true)].to_vec(),
        )];
        steps.extend(crate::recovery::replace_set(
            account_id,
            &key_id,
            on.recovery_digests,
            on.now,
        ));
        steps.push((
            crate::recovery::FORGET_REMEMBERED_DEVICES,
            params![account_id].to_vec(),
        ));
        steps.push((
            "DELETE FROM sessions WHERE account_id = $1 AND id_digest <> $2",
            params![account_id, on.keep_session].to_vec(),
        ));
        for id in on.disconnect {
            steps.push((
                "DELETE FROM app_connections WHERE account_id = $1 AND id = $2",
                params![account_id, *id].to_vec(),
            ));
        }
        let steps: Vec<_> = steps
            .iter()
            .map(|(sql, params)| (*sql, params.as_slice()))
            .collect();
        self.claim_and_change(
            (CONSUME_CODE, consume_code_params!(account_id, on.code)),
            &steps,
        )
        .await
    }

    /// Forgets the phone number and the authenticator (and any half-done
    /// enrolment), the recovery codes and the remembered devices together;
    /// returns whether an authenticator was on. The security question stays
    /// disabled.
    pub async fn turn_off_two_step(&self, account_id: AccountId) -> Result<bool, StoreError> {
        let mut transaction = self.db.begin().await?;
        let mut authenticator_was_on = false;
        for (index, sql) in TURN_OFF_TWO_STEP.into_iter().enumerate() {
            let changed = transaction.execute(sql, params![account_id]).await?;
            authenticator_was_on |= index == 1 && changed > 0;
            self.between_statements()?;
        }
        transaction.commit().await?;
        Ok(authenticator_was_on)
    }

    /// An operator's reset for a person who has lost every factor, as one
    /// transaction: two-step off as [`Store::turn_off_two_step`] turns it off,
    /// every session ended, every application token revoked, and the event
    /// (with the operator's reason) recorded.
    pub async fn reset_two_step(
        &self,
        account_id: AccountId,
        event: EventRecord<'_>,
    ) -> Result<TwoStepReset, StoreError> {
        let mut transaction = self.db.begin().await?;
        let mut changed = [0; TURN_OFF_TWO_STEP.len() + END_EVERY_ACCESS.len()];
        for (index, sql) in TURN_OFF_TWO_STEP
            .into_iter()
            .chain(END_EVERY_ACCESS)
            .enumerate()
        {
            changed[index] = transaction.execute(sql, params![account_id]).await?;
            self.between_statements()?;
        }
        transaction
            .execute(
                RECORD_EVENT,
                params![account_id, event.kind, event.summary, event.now],
            )
            .await?;
        self.between_statements()?;
        transaction.commit().await?;
        Ok(TwoStepReset {
            authenticator_was_on: changed[1] > 0,
            sessions_ended: changed[TURN_OFF_TWO_STEP.len()],
            tokens_revoked: changed[TURN_OFF_TWO_STEP.len() + 1],
        })
    }

    /// Disables the account and, in the same transaction, ends every way in
    /// (sessions, tokens, half-finished sign-ins) and records the event. False,
    /// changing nothing, when it was disabled already.
    pub async fn disable_account(
        &self,
        account_id: AccountId,
        event: EventRecord<'_>,
    ) -> Result<bool, StoreError> {
        let account: &[crate::db::Param<'_>] = params![account_id];
        let [sessions, tokens, pending, challenges] = END_EVERY_ACCESS;
        let change: [(&'static str, &[crate::db::Param<'_>]); 5] = [
            (sessions, account),
            (tokens, account),
            (pending, account),
            (challenges, account),
            (
                RECORD_EVENT,
                params![account_id, event.kind, event.summary, event.now],
            ),
        ];
        self.claim_and_change(
            (
                "UPDATE accounts SET disabled_at = $2 WHERE id = $1 AND disabled_at IS NULL",
                params![account_id, event.now],
            ),
            &change,
        )
        .await
    }

    /// Lets a disabled account sign in again, recording the event; false,
    /// changing nothing, when it was not disabled.
    pub async fn enable_account(
        &self,
        account_id: AccountId,
        event: EventRecord<'_>,
    ) -> Result<bool, StoreError> {
        self.claim_and_change(
            (
                "UPDATE accounts SET disabled_at = NULL WHERE id = $1 AND disabled_at IS NOT NULL",
                params![account_id],
            ),
            &[(
                RECORD_EVENT,
                params![account_id, event.kind, event.summary, event.now],
            )],
        )
        .await
    }
}

statements! {
    /// Returns false, changing nothing, once the question has been disabled; the
    /// check is in the WHERE so that it holds against a concurrent `turn_on_sms`.
    set_security_question(account_id: AccountId, question: &str, answer_hash: &str) -> bool =
        "UPDATE accounts SET security_question = $2, security_answer_hash = $3
         WHERE id = $1 AND security_question_disabled = 0";
}
