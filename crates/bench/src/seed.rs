//! Filling a fresh database before the server starts, and the store with
//! half-finished sign-ins and sessions while it runs.
//!
//! Accounts go in through batched multi-row INSERTs against the schema the store's
//! own migrations create (one by one, a million would take minutes). Each one is as
//! the portal leaves an account with SMS and the authenticator app set up: the phone
//! number and the app's secret sealed with the server key under the account's
//! context, the security question disabled, one password hash shared by all.

use std::path::Path;

use domain::ServerKey;
use domain::digests::{PendingSignInDigest, SessionDigest};
use domain::secrets::random_token;
use rusqlite::Connection;
use storage::Store;

use crate::accounts;
use crate::error::Result;
use crate::flows::Pending;

/// SQLite allows 32,766 bound values per statement; 3 per row leaves ample room.
const ROWS_PER_INSERT: i64 = 1_000;
const ROWS_PER_TRANSACTION: i64 = 50_000;

/// The URL the server derives from `data_dir` when `database_url` is empty.
pub fn database_url(data_dir: &Path) -> String {
    format!("sqlite://{}?mode=rwc", database_path(data_dir).display())
}

pub fn database_path(data_dir: &Path) -> std::path::PathBuf {
    data_dir.join("twostep.db")
}

/// Creates the schema and accounts `1..=count`, all with SMS and the authenticator.
pub async fn accounts(
    data_dir: &Path,
    count: i64,
    password_hash: &str,
    key: &ServerKey,
    now: i64,
) -> Result<()> {
    let url = database_url(data_dir);
    let store = Store::connect(&url, 1).await?;
    store.migrate().await?;
    store.close().await;
    drop(store);
    let mut connection = Connection::open(database_path(data_dir))?;
    // Only for the bulk load: a crash here just means starting the benchmark again.
    connection.execute_batch("PRAGMA synchronous = OFF")?;
    let mut first = 1;
    while first <= count {
        let last = (first + ROWS_PER_TRANSACTION - 1).min(count);
        let transaction = connection.transaction()?;
        let mut batch = first;
        while batch <= last {
            let end = (batch + ROWS_PER_INSERT - 1).min(last);
            insert_accounts(&transaction, batch..=end, password_hash, key, now)?;
            insert_authenticators(&transaction, batch..=end, key, now)?;
            batch = end + 1;
        }
        transaction.commit()?;
        first = last + 1;
    }
    connection.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)")?;
    connection.close().map_err(|(_, error)| error)?;
    Ok(())
}

fn insert_accounts(
    connection: &Connection,
    ids: std::ops::RangeInclusive<i64>,
    password_hash: &str,
    key: &ServerKey,
    now: i64,
) -> Result<()> {
    // ?1 and ?2 are shared by every row; each row brings id, e-mail and phone.
    let mut sql = String::from(
        "INSERT INTO accounts (id, email, password_hash, created_at, password_changed_at,
             phone_enc, phone_confirmed_at, security_question_disabled) VALUES ",
    );
    for (row, _) in ids.clone().enumerate() {
        let p = 3 + 3 * row;
        if row > 0 {
            sql.push(',');
        }
        sql.push_str(&format!(
            "(?{p}, ?{}, ?1, ?2, ?2, ?{}, ?2, 1)",
            p + 1,
            p + 2
        ));
    }
    // Built from row numbers only: nothing from outside reaches the SQL text.
    let mut statement = connection.prepare(&sql)?;
    statement.raw_bind_parameter(1, password_hash)?;
    statement.raw_bind_parameter(2, now)?;
    for (row, id) in ids.enumerate() {
        let p = 3 + 3 * row;
        let phone = key.seal(accounts::phone_e164(id).as_bytes(), &format!("phone:{id}"));
        statement.raw_bind_parameter(p, id)?;
        statement.raw_bind_parameter(p + 1, accounts::email(id))?;
        statement.raw_bind_parameter(p + 2, phone)?;
    }
    statement.raw_execute()?;
    Ok(())
}

fn insert_authenticators(
    connection: &Connection,
    ids: std::ops::RangeInclusive<i64>,
    key: &ServerKey,
    now: i64,
) -> Result<()> {
    let mut sql = String::from(
        "INSERT INTO authenticators (account_id, secret_enc, last_used_step, failed_step,
             failed_count, created_at) VALUES ",
    );
    for (row, _) in ids.clone().enumerate() {
        let p = 2 + 2 * row;
        if row > 0 {
            sql.push(',');
        }
        sql.push_str(&format!("(?{p}, ?{}, NULL, 0, 0, ?1)", p + 1));
    }
    let mut statement = connection.prepare(&sql)?;
    statement.raw_bind_parameter(1, now)?;
    for (row, id) in ids.enumerate() {
        let p = 2 + 2 * row;
        let secret = key.seal(
            accounts::secret(id).as_bytes(),
            &format!("authenticator:{id}"),
        );
        statement.raw_bind_parameter(p, id)?;
        statement.raw_bind_parameter(p + 1, secret)?;
    }
    statement.raw_execute()?;
    Ok(())
}

/// Half-finished sign-ins exactly as the password step leaves them for an account
/// whose default method is the authenticator app, through the store. One at a
/// time: several writers at full speed would starve SQLite's checkpoints and leave
/// the server a write-ahead log of a hundred megabytes that no request made.
pub async fn pending_sign_ins(
    store: &Store,
    account_ids: Vec<i64>,
    now: i64,
) -> Result<Vec<Pending>> {
    let mut pending = Vec::with_capacity(account_ids.len());
    for account_id in account_ids {
        let token = random_token();
        store
            .create_pending_sign_in(
                &PendingSignInDigest::of(&token),
                domain::AccountId::new(account_id),
                domain::Method::Authenticator,
                now,
            )
            .await?;
        pending.push(Pending { account_id, token });
    }
    Ok(pending)
}

/// Signed-in sessions, as a finished sign-in leaves them; returns the cookie values.
pub async fn sessions(
    store: &Store,
    account_ids: Vec<i64>,
    now: i64,
) -> Result<Vec<(String, i64)>> {
    let mut sessions = Vec::with_capacity(account_ids.len());
    for account_id in account_ids {
        let token = random_token();
        store
            .create_session(
                &SessionDigest::of(&token),
                domain::AccountId::new(account_id),
                now,
            )
            .await?;
        sessions.push((token, account_id));
    }
    Ok(sessions)
}
