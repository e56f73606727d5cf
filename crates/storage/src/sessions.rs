//! Sessions and half-finished sign-ins (password passed, code not yet), both
//! keyed by the digest of their id: the id itself lives only in the cookie. Also
//! the housekeeping that deletes whatever has expired.

use domain::digests::{DeviceDigest, PendingSignInDigest, SessionDigest};
use domain::{AccountId, Method};

use crate::db::{Param, Row, params, statements};

use crate::{Store, StoreError};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRow {
    pub account_id: AccountId,
    pub created_at: i64,
    pub last_seen_at: i64,
    pub password_confirmed_at: Option<i64>,
}

/// Where a session was started: the browser's User-Agent and the client's
/// address, as sent, for the owner's list of where they are signed in. Written
/// with the session's own INSERT, so a sign-in costs no extra statement.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SessionOrigin<'a> {
    pub user_agent: Option<&'a str>,
    pub ip_address: Option<&'a str>,
}

/// One of an account's sessions, for the list of where its owner is signed in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionListRow {
    pub id_digest: SessionDigest,
    pub created_at: i64,
    pub last_seen_at: i64,
    pub user_agent: Option<String>,
    pub ip_address: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingSignInRow {
    pub account_id: AccountId,
    /// The method the code step asks for; the person may switch it.
    pub method: Method,
    pub created_at: i64,
}

/// Reads a sign-in method stored by its name. Only this crate writes the column;
/// a name this version does not know (a newer version's, after a downgrade)
/// asks for SMS, which every account with two-step verification has.
pub(crate) fn method_column(row: &Row<'_>, column: &str) -> Result<Method, StoreError> {
    Ok(Method::parse(&row.get::<String>(column)?).unwrap_or(Method::Sms))
}

/// What ending a half-finished sign-in came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignInFinish {
    SignedIn,
    /// The authenticator's step was used meanwhile (the same code, sent twice).
    CodeAlreadyUsed,
    /// The half-finished sign-in was consumed or deleted meanwhile.
    SignInGone,
}

/// The last step of a sign-in: everything it changes, written as one.
#[derive(Debug, Clone, Copy)]
pub struct FinishSignIn<'a> {
    pub pending_digest: &'a PendingSignInDigest,
    pub account_id: AccountId,
    /// The authenticator step whose code was accepted, claimed in the same
    /// transaction; `None` for an SMS code, which its own check has used up.
    pub authenticator_step: Option<i64>,
    pub session_digest: &'a SessionDigest,
    /// The session the browser arrived with, which the new one replaces.
    pub replaced_session_digest: Option<&'a SessionDigest>,
    pub origin: SessionOrigin<'a>,
    /// "Don't ask again on this device" was ticked: the browser's new device
    /// cookie, remembered until `expires_at`.
    pub remember_device: Option<RememberDevice<'a>>,
    pub now: i64,
}

#[derive(Debug, Clone, Copy)]
pub struct RememberDevice<'a> {
    pub digest: &'a DeviceDigest,
    pub expires_at: i64,
}

/// Enrolments are shown on the same page as their QR code, so they last as long
/// as a half-finished sign-in.
const ENROLMENT_LIFETIME_SECONDS: i64 = domain::session::AUTHENTICATOR_ENROLMENT_LIFETIME_SECONDS;

/// Also the last statements of `finish_sign_in`.
const START_SESSION: &str =
    "INSERT INTO sessions (id_digest, account_id, created_at, last_seen_at, user_agent, ip_address)
     VALUES ($1, $2, $3, $3, $4, $5)";
const END_SESSION: &str = "DELETE FROM sessions WHERE id_digest = $1";

impl Store {
    /// Claims the authenticator step, consumes the half-finished sign-in,
    /// starts the session and remembers the device if asked, in one transaction: all of it or, when either claim
    /// fails to a concurrent request, none of it. One commit instead of three is
    /// also most of what a code check costs.
    pub async fn finish_sign_in(
        &self,
        finish: &FinishSignIn<'_>,
    ) -> Result<SignInFinish, StoreError> {
        let mut transaction = self.db.begin().await?;
        if let Some(step) = finish.authenticator_step {
            let claimed = transaction
                .execute(
                    crate::authenticator::RECORD_AUTHENTICATOR_USE,
                    params![finish.account_id, step],
                )
                .await?;
            if claimed == 0 {
                return Ok(SignInFinish::CodeAlreadyUsed);
            }
        }
        let consumed = transaction
            .execute(
                "DELETE FROM pending_sign_ins WHERE id_digest = $1 AND account_id = $2",
                params![finish.pending_digest, finish.account_id],
            )
            .await?;
        if consumed == 0 {
            return Ok(SignInFinish::SignInGone);
        }
        if let Some(replaced) = finish.replaced_session_digest {
            transaction.execute(END_SESSION, params![replaced]).await?;
        }
        transaction
            .execute(
                START_SESSION,
                params![
                    finish.session_digest,
                    finish.account_id,
                    finish.now,
                    finish.origin.user_agent,
                    finish.origin.ip_address
                ],
            )
            .await?;
        if let Some(device) = finish.remember_device {
            transaction
                .execute(
                    crate::recovery::REMEMBER_DEVICE,
                    params![
                        device.digest,
                        finish.account_id,
                        finish.now,
                        device.expires_at
                    ],
                )
                .await?;
        }
        transaction.commit().await?;
        Ok(SignInFinish::SignedIn)
    }

    pub async fn session(
        &self,
        id_digest: &SessionDigest,
    ) -> Result<Option<SessionRow>, StoreError> {
        self.db
            .read_optional(
                "SELECT account_id, created_at, last_seen_at, password_confirmed_at
                 FROM sessions WHERE id_digest = $1",
                params![id_digest],
                |row| {
                    Ok(SessionRow {
                        account_id: row.account_id("account_id")?,
                        created_at: row.get("created_at")?,
                        last_seen_at: row.get("last_seen_at")?,
                        password_confirmed_at: row.get("password_confirmed_at")?,
                    })
                },
            )
            .await
    }

    /// Signs the account out everywhere, except (when given) the session making
    /// the change; returns how many sessions ended.
    pub async fn delete_sessions_of_account(
        &self,
        account_id: AccountId,
        except_digest: Option<&SessionDigest>,
    ) -> Result<u64, StoreError> {
        let result = match except_digest {
            Some(except) => {
                self.db
                    .execute(
                        "DELETE FROM sessions WHERE account_id = $1 AND id_digest <> $2",
                        params![account_id, except],
                    )
                    .await?
            }
            None => {
                self.db
                    .execute(
                        "DELETE FROM sessions WHERE account_id = $1",
                        params![account_id],
                    )
                    .await?
            }
        };
        Ok(result)
    }

    /// Every session of the account, the most recently active first.
    pub async fn sessions_of_account(
        &self,
        account_id: AccountId,
    ) -> Result<Vec<SessionListRow>, StoreError> {
        self.db
            .read_all(
                "SELECT id_digest, created_at, last_seen_at, user_agent, ip_address
                 FROM sessions WHERE account_id = $1
                 ORDER BY last_seen_at DESC, created_at DESC",
                params![account_id],
                |row| {
                    Ok(SessionListRow {
                        id_digest: SessionDigest::from_bytes(row.get("id_digest")?),
                        created_at: row.get("created_at")?,
                        last_seen_at: row.get("last_seen_at")?,
                        user_agent: row.get("user_agent")?,
                        ip_address: row.get("ip_address")?,
                    })
                },
            )
            .await
    }

    pub async fn count_sessions(&self) -> Result<i64, StoreError> {
        self.db
            .read_one("SELECT COUNT(*) AS n FROM sessions", &[], |row| {
                row.get("n")
            })
            .await
    }

    pub async fn pending_sign_in(
        &self,
        id_digest: &PendingSignInDigest,
    ) -> Result<Option<PendingSignInRow>, StoreError> {
        self.db
            .read_optional(
                "SELECT account_id, method, created_at FROM pending_sign_ins WHERE id_digest = $1",
                params![id_digest],
                |row| {
                    Ok(PendingSignInRow {
                        account_id: row.account_id("account_id")?,
                        method: method_column(row, "method")?,
                        created_at: row.get("created_at")?,
                    })
                },
            )
            .await
    }

    /// Housekeeping: deletes expired sessions, half-finished sign-ins, codes,
    /// reset links (used or expired), enrolments and remembered devices; returns how many rows went.
    /// The boundaries match the domain's: a thing expires at the instant its
    /// lifetime is reached.
    pub async fn delete_expired(
        &self,
        now: i64,
        idle_timeout_seconds: i64,
        absolute_timeout_seconds: i64,
    ) -> Result<u64, StoreError> {
        let expired: [(&'static str, &[Param<'_>]); 9] = [
            (
                "DELETE FROM sessions WHERE last_seen_at <= $1 OR created_at <= $2",
                params![now - idle_timeout_seconds, now - absolute_timeout_seconds],
            ),
            (
                "DELETE FROM pending_sign_ins WHERE created_at <= $1",
                params![now - domain::session::PENDING_SIGN_IN_LIFETIME_SECONDS],
            ),
            (
                "DELETE FROM one_time_codes WHERE expires_at <= $1",
                params![now],
            ),
            (
                "DELETE FROM password_resets WHERE expires_at <= $1 OR used = $2",
                params![now, crate::flag(true)],
            ),
            (
                "DELETE FROM authenticator_enrolments WHERE created_at <= $1",
                params![now - ENROLMENT_LIFETIME_SECONDS],
            ),
            (
                "DELETE FROM failed_passwords WHERE window_started_at <= $1",
                params![now - domain::throttle::MAX_WINDOW_SECONDS],
            ),
            (
                "DELETE FROM failed_passwords_by_client WHERE window_started_at <= $1",
                params![now - domain::throttle::MAX_WINDOW_SECONDS],
            ),
            // An application's second step lives as long as a browser's.
            (
                "DELETE FROM app_challenges WHERE created_at <= $1",
                params![now - domain::session::PENDING_SIGN_IN_LIFETIME_SECONDS],
            ),
            (
                "DELETE FROM remembered_devices WHERE expires_at <= $1",
                params![now],
            ),
        ];
        let mut deleted = 0;
        for (sql, params) in expired {
            deleted += self.db.execute(sql, params).await?;
        }
        Ok(deleted)
    }
}

statements! {
    /// A session with no origin (seeding, tests); sign-ins say where they came from.
    create_session(id_digest: &SessionDigest, account_id: AccountId, now: i64) =
        "INSERT INTO sessions (id_digest, account_id, created_at, last_seen_at)
         VALUES ($1, $2, $3, $3)";
    start_session(
        id_digest: &SessionDigest,
        account_id: AccountId,
        now: i64,
        user_agent: Option<&str>,
        ip_address: Option<&str>,
    ) = START_SESSION;
    /// Ends one session of the account (the owner's "Sign out" on another
    /// device); false when it had already ended. Bound to the account, so that
    /// no one can end another account's session.
    end_session_of_account(account_id: AccountId, id_digest: &SessionDigest) -> bool =
        "DELETE FROM sessions WHERE account_id = $1 AND id_digest = $2";
    touch_session(id_digest: &SessionDigest, now: i64) =
        "UPDATE sessions SET last_seen_at = $2 WHERE id_digest = $1";
    confirm_password_in_session(id_digest: &SessionDigest, now: i64) =
        "UPDATE sessions SET password_confirmed_at = $2 WHERE id_digest = $1";
    delete_session(id_digest: &SessionDigest) = END_SESSION;
    create_pending_sign_in(
        id_digest: &PendingSignInDigest,
        account_id: AccountId,
        method: Method,
        now: i64,
    ) = "INSERT INTO pending_sign_ins (id_digest, account_id, method, created_at)
         VALUES ($1, $2, $3, $4)";
    set_pending_method(id_digest: &PendingSignInDigest, method: Method) =
        "UPDATE pending_sign_ins SET method = $2 WHERE id_digest = $1";
    /// True only for the one caller whose DELETE removed the row, so that a
    /// half-finished sign-in turns into at most one session.
    delete_pending_sign_in(id_digest: &PendingSignInDigest) -> bool =
        "DELETE FROM pending_sign_ins WHERE id_digest = $1";
}
