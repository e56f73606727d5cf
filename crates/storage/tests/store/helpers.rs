//! Fresh stores for tests, one database each, and the fixed times tests use.

use std::future::Future;
use std::sync::atomic::{AtomicU32, Ordering};

use domain::AccountId;
use domain::digests::{CodeBinding, CodeDigest};
use sqlx::{AssertSqlSafe, Connection, PgConnection};
use storage::{Backend, Store};

#[path = "../shared/database_url.rs"]
mod database_url;
use database_url::with_database;

pub const T0: i64 = 1_800_000_000;

/// The one storage fixture: two accounts, Ann's and Bob's, made at `T0` with the
/// password hash "hash". Bob's is the bystander a change to Ann's must not touch.
pub struct Accounts {
    pub ann: AccountId,
    pub bob: AccountId,
}

pub async fn two_accounts(store: &Store) -> Accounts {
    let ann = store
        .create_account("ann@example.com", "hash", T0)
        .await
        .expect("Ann's account");
    let bob = store
        .create_account("bob@example.com", "hash", T0)
        .await
        .expect("Bob's account");
    Accounts { ann, bob }
}

/// The two accounts, both with SMS two-step verification on.
pub async fn two_accounts_with_sms(store: &Store) -> Accounts {
    let accounts = two_accounts(store).await;
    for account in [accounts.ann, accounts.bob] {
        store
            .turn_on_sms(account, b"phone".to_vec(), T0)
            .await
            .unwrap();
    }
    accounts
}

/// The two accounts, Ann's with SMS and the authenticator on.
pub async fn account_with_authenticator(store: &Store) -> Accounts {
    let accounts = two_accounts(store).await;
    let ann = accounts.ann;
    store.turn_on_sms(ann, b"phone".to_vec(), T0).await.unwrap();
    store
        .add_authenticator(ann, b"sealed secret".to_vec(), T0 + 1)
        .await
        .unwrap();
    accounts
}

/// A code's digest and what it is bound to, made of one repeated byte: the
/// store's tests need only tell them apart.
pub fn code_digest(byte: u8) -> CodeDigest {
    CodeDigest::from_bytes(vec![byte; 32])
}

pub fn binding(byte: u8) -> CodeBinding {
    CodeBinding::from_bytes(vec![byte; 32])
}

/// The digests of made-up tokens, one per kind: `digest::session("old")`.
pub mod digest {
    use domain::digests::{
        ChallengeDigest, PendingSignInDigest, ResetLinkDigest, SessionDigest, TokenDigest,
    };

    pub fn session(id: &str) -> SessionDigest {
        SessionDigest::of(id)
    }

    pub fn pending(id: &str) -> PendingSignInDigest {
        PendingSignInDigest::of(id)
    }

    pub fn reset_link(token: &str) -> ResetLinkDigest {
        ResetLinkDigest::of(token)
    }

    pub fn token(token: &str) -> TokenDigest {
        TokenDigest::of(token)
    }

    pub fn challenge(challenge: &str) -> ChallengeDigest {
        ChallengeDigest::of(challenge)
    }
}

/// A migrated SQLite store in a file of its own; the directory lives as long as
/// the first element, and the second is the database file.
pub async fn migrated_sqlite_file(
    connections: u32,
) -> (tempfile::TempDir, std::path::PathBuf, Store) {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("twostep.db");
    let url = format!("sqlite://{}?mode=rwc", path.display());
    let store = Store::connect(&url, connections).await.unwrap();
    store.migrate().await.unwrap();
    (directory, path, store)
}

/// Runs `attempts` copies of `attempt` at once, each on its own handle to
/// `store`, and answers how many got a place (or won).
pub async fn race<F, Fut>(store: &Store, attempts: usize, attempt: F) -> usize
where
    F: Fn(Store) -> Fut,
    Fut: Future<Output = bool> + Send + 'static,
{
    let tasks: Vec<_> = (0..attempts)
        .map(|_| tokio::spawn(attempt(store.clone())))
        .collect();
    let mut placed = 0;
    for task in tasks {
        placed += usize::from(task.await.expect("an attempt"));
    }
    placed
}

/// Whether a lookup found its row.
pub async fn found<T>(
    lookup: impl Future<Output = Result<Option<T>, storage::StoreError>>,
) -> bool {
    lookup.await.unwrap().is_some()
}

const DEFAULT_POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

pub async fn on_sqlite<F, Fut>(test: F)
where
    F: FnOnce(Store) -> Fut,
    Fut: Future<Output = ()>,
{
    on_sqlite_unmigrated(|store: Store| migrated(store, test)).await;
}

/// Runs `test` on `store` once its schema is up to date.
async fn migrated<F, Fut>(store: Store, test: F)
where
    F: FnOnce(Store) -> Fut,
    Fut: Future<Output = ()>,
{
    store.migrate().await.expect("migrate the test database");
    test(store).await;
}

pub async fn on_sqlite_unmigrated<F, Fut>(test: F)
where
    F: FnOnce(Store) -> Fut,
    Fut: Future<Output = ()>,
{
    let directory = tempfile::tempdir().expect("a temporary directory");
    // The file does not exist yet: mode=rwc must create it.
    let url = format!(
        "sqlite://{}/twostep.db?mode=rwc",
        directory.path().display()
    );
    let store = Store::connect(&url, 0).await.expect("connect to SQLite");
    assert_eq!(store.backend(), Backend::Sqlite);
    test(store).await;
}

pub async fn on_postgres<F, Fut>(test: F)
where
    F: FnOnce(Store) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    on_postgres_unmigrated(|store: Store| migrated(store, test)).await;
}

pub async fn on_postgres_unmigrated<F, Fut>(test: F)
where
    F: FnOnce(Store) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let database = TestDatabase::create(&postgres_server_url()).await;
    let store = Store::connect(&database.url, 4)
        .await
        .expect("connect to the test database");
    assert_eq!(store.backend(), Backend::Postgres);
    // Run on a task so that a failing test still drops its database.
    let outcome = tokio::spawn(test(store)).await;
    database.drop().await;
    if let Err(error) = outcome {
        std::panic::resume_unwind(error.into_panic());
    }
}

/// TWOSTEP_TEST_POSTGRES_URL, or the local server `.ci/run` starts.
pub fn postgres_server_url() -> String {
    std::env::var("TWOSTEP_TEST_POSTGRES_URL")
        .ok()
        .filter(|url| !url.is_empty())
        .unwrap_or_else(|| DEFAULT_POSTGRES_URL.to_owned())
}

/// A database of its own on the test server; `drop` removes it.
pub struct TestDatabase {
    server_url: String,
    name: String,
    pub url: String,
}

impl TestDatabase {
    pub async fn create(server_url: &str) -> Self {
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or_default();
        let name = format!(
            "twostep_test_{}_{}_{nanos}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        let mut admin = admin_connection(server_url).await;
        sqlx::raw_sql(AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut admin)
            .await
            .expect("create the test database");
        admin.close().await.ok();
        Self {
            server_url: server_url.to_owned(),
            url: with_database(server_url, &name),
            name,
        }
    }

    pub async fn drop(self) {
        let mut admin = admin_connection(&self.server_url).await;
        sqlx::raw_sql(AssertSqlSafe(format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            self.name
        )))
        .execute(&mut admin)
        .await
        .expect("drop the test database");
        admin.close().await.ok();
    }
}

async fn admin_connection(server_url: &str) -> PgConnection {
    PgConnection::connect(server_url)
        .await
        .unwrap_or_else(|error| panic!("PostgreSQL at {server_url} is not reachable: {error}"))
}
