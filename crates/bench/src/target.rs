//! A server ready to be measured: a fresh database (`database`) seeded with its
//! accounts, the `twostep` process on it, the benchmark's own store on the same
//! database, the account pool, an HTTP client, and whose CPU time counts.

use std::sync::Arc;
use std::time::Instant;

use domain::ServerKey;
use storage::Store;

use crate::Plan;
use crate::accounts::{self, AccountPool};
use crate::cpu::Meter;
use crate::database::{Database, Databases};
use crate::error::Result;
use crate::flows::Http;
use crate::report::thousands;
use crate::run::progress;
use crate::seed;
use crate::server::Server;

/// A running server with its database, its accounts, its store and its HTTP client.
pub struct Target {
    pub server: Server,
    pub database: Database,
    pub store: Store,
    pub pool: Arc<AccountPool>,
    pub http: Http,
    /// The server's process and, on PostgreSQL, its database's.
    pub meter: Meter,
    pub accounts: i64,
    _data_dir: tempfile::TempDir,
}

/// What every server of a run shares: its key, and the one password hash every
/// account stores.
#[derive(Clone, Copy)]
pub struct Credentials<'a> {
    pub key_hex: &'a str,
    pub key: &'a ServerKey,
    pub password_hash: &'a str,
}

/// Seeds a fresh database (`label` names it among the run's) with `count`
/// accounts and starts a server on it.
pub async fn start(
    plan: &Plan,
    databases: &Databases,
    label: &str,
    credentials: Credentials<'_>,
    count: i64,
    max_clients: usize,
) -> Result<Target> {
    let data_dir = tempfile::Builder::new()
        .prefix("twostep-bench-")
        .tempdir()?;
    let database = databases.create(data_dir.path(), label).await?;
    let started = Instant::now();
    progress(format!(
        "seeding {} accounts in {}",
        thousands(count),
        database.label()
    ));
    seed::accounts(
        &database,
        count,
        credentials.password_hash,
        credentials.key,
        accounts::now(),
    )
    .await?;
    progress(format!(
        "seeded in {:.1} s",
        started.elapsed().as_secs_f64()
    ));
    let server = Server::start(
        &plan.server,
        data_dir.path(),
        &database,
        credentials.key_hex,
        plan.params,
    )
    .await?;
    let store = Store::connect(&database.url(), 4).await?;
    let http = Http::new(&server.base, max_clients)?;
    let meter = Meter {
        servers: vec![server.pid()],
        proxy: None,
        database: database_meter(databases, &database),
    };
    Ok(Target {
        server,
        database,
        store,
        pool: Arc::new(AccountPool::new(1, count as usize)),
        http,
        meter,
        accounts: count,
        _data_dir: data_dir,
    })
}

/// On PostgreSQL, what `Meter` needs to find the processes serving `database`.
fn database_meter(
    databases: &Databases,
    database: &Database,
) -> Option<(sqlx::postgres::PgPool, String)> {
    match (databases.admin(), database) {
        (Some(admin), Database::Postgres { name, .. }) => Some((admin.clone(), name.clone())),
        _ => None,
    }
}
