//! Accounts, sessions, codes and their history, kept in SQLite or PostgreSQL.
//!
//! This crate stores what the domain decides: it holds no rules of its own beyond
//! making each change atomic. Every compare-and-set is one `UPDATE … WHERE …` whose
//! affected-row count is the answer, so that two instances racing on one database
//! can never both win (a one-time code is accepted once, a reset link used once).
//! It never reads the clock: every time is an argument, in seconds since the epoch.
//!
//! Every limit is reserved before it is checked: an attempt first takes its place
//! in one conditional statement (`… SET n = n + 1 WHERE … AND n < limit
//! RETURNING …`), and only an attempt that got a place is checked by the caller.
//! Every security change (password reset, confirming a phone, enabling the
//! authenticator, turning two-step on or off, new recovery codes) is one
//! transaction.
//!
//! One set of queries serves both backends through the small interface in `db`,
//! with `$1, $2…` placeholders and only the types both share: i64, String, bytes
//! and their options. Booleans are 0/1.

mod accounts;
mod anti_theft;
mod apps;
mod authenticator;
mod budgets;
mod codes;
mod database;
mod db;
mod email_confirmations;
mod failed_passwords;
mod faults;
mod lockout;
mod password_resets;
mod recovery;
mod sealed;
mod security_events;
mod sessions;

pub use accounts::{Account, EventRecord, TurnOnTwoStep, TwoStepReset};
pub use anti_theft::{CommandAnswer, CommandRow};
pub use apps::{AppIdentity, ChallengeRow, ConnectionRow};
pub use authenticator::AuthenticatorRow;
pub use budgets::{Claim, SmsReservation};
pub use codes::StoredCode;
pub use database::{PoolSettings, SchemaStatus};
pub use db::DatabaseError;
pub use failed_passwords::{PasswordAttempt, ReservedPassword};
pub use password_resets::PasswordResetRow;
pub use sealed::{SealedColumn, SealedValue};
pub use security_events::EventRow;
pub use sessions::{
    FinishSignIn, PendingSignInRow, RememberDevice, SessionListRow, SessionOrigin, SessionRow,
    SignInFinish,
};

/// A handle on the database; cheap to clone, shared by every request.
#[derive(Clone, Debug)]
pub struct Store {
    db: std::sync::Arc<db::Db>,
    backend: Backend,
    #[cfg(any(test, feature = "fault-injection"))]
    faults: faults::Faults,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("an account with this e-mail address already exists")]
    EmailTaken,
    #[error(transparent)]
    Database(#[from] DatabaseError),
    #[error("the database returned no row where one was expected")]
    NoRowReturned,
    /// A stored name this binary does not know (written by a newer release).
    #[error("the database holds {value:?} in {column}, which this release does not know")]
    UnknownValue { column: &'static str, value: String },
    #[error("database migration {version} failed")]
    Migration {
        version: i64,
        #[source]
        source: DatabaseError,
    },
}

impl StoreError {
    /// The database could not be reached: worth a 503 and a retry, not a 500.
    pub fn is_unavailable(&self) -> bool {
        match self {
            Self::Database(error) | Self::Migration { source: error, .. } => error.is_unreachable(),
            Self::EmailTaken | Self::NoRowReturned | Self::UnknownValue { .. } => false,
        }
    }
}

impl Store {
    /// A security change that a compare-and-set guards, as one transaction:
    /// `claim` must change exactly one row, or nothing happens and the answer
    /// is false; then every statement of `change` runs. A test's fault may
    /// strike between any two statements, and then nothing happens either.
    async fn claim_and_change(
        &self,
        claim: (&'static str, &[db::Param<'_>]),
        change: &[(&'static str, &[db::Param<'_>])],
    ) -> Result<bool, StoreError> {
        let mut transaction = self.db.begin().await?;
        if transaction.execute(claim.0, claim.1).await? != 1 {
            return Ok(false);
        }
        for (sql, params) in change {
            self.between_statements()?;
            transaction.execute(sql, params).await?;
        }
        self.between_statements()?;
        transaction.commit().await?;
        Ok(true)
    }
}

/// Booleans travel as 0/1, the one boolean both backends' schemas share.
fn flag(value: bool) -> i64 {
    i64::from(value)
}
