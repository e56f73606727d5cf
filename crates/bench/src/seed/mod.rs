//! Filling a fresh database before the server starts, and the store with
//! half-finished sign-ins and sessions while it runs.
//!
//! Accounts go in in bulk, by the backend's fastest way, against the schema the
//! store's own migrations create (one by one, a million would take minutes). Each
//! one is as the portal leaves an account with SMS and the authenticator app set
//! up: the phone number and the app's secret sealed with the server key under the
//! account's context, the security question disabled, one password hash shared by
//! all.

mod postgres;
mod sqlite;

use domain::ServerKey;
use domain::digests::{PendingSignInDigest, SessionDigest};
use domain::secrets::random_token;
use storage::Store;

use crate::accounts;
use crate::database::Database;
use crate::error::Result;
use crate::flows::Pending;

/// Creates the schema and accounts `1..=count`, all with SMS and the authenticator.
pub async fn accounts(
    database: &Database,
    count: i64,
    password_hash: &str,
    key: &ServerKey,
    now: i64,
) -> Result<()> {
    let store = Store::connect(&database.url(), 1).await?;
    store.migrate().await?;
    store.close().await;
    drop(store);
    let rows = Rows {
        password_hash,
        key,
        now,
    };
    match database {
        Database::Sqlite { path } => sqlite::accounts(path, count, &rows),
        Database::Postgres { url, .. } => postgres::accounts(url, count, &rows).await,
    }
}

/// What every seeded row is made of; the rest derives from the account id.
struct Rows<'a> {
    password_hash: &'a str,
    key: &'a ServerKey,
    now: i64,
}

impl Rows<'_> {
    /// The phone number, sealed as the portal seals it.
    fn phone(&self, id: i64) -> Vec<u8> {
        self.key
            .seal(accounts::phone_e164(id).as_bytes(), &format!("phone:{id}"))
    }

    /// The authenticator app's secret, sealed as the portal seals it.
    fn secret(&self, id: i64) -> Vec<u8> {
        self.key.seal(
            accounts::secret(id).as_bytes(),
            &format!("authenticator:{id}"),
        )
    }
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
