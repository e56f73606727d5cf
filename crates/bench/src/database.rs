//! Where a run's data lives: a SQLite file in each server's data directory (the
//! default), or a PostgreSQL database created for the run on the server that
//! `--database-url` names, and dropped at the end whether the run succeeded or not.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::{AssertSqlSafe, Connection, PgConnection};

use crate::error::{BenchError, Result};

/// The backend the servers run on, as chosen on the command line.
#[derive(Debug, Clone)]
pub enum Backend {
    Sqlite,
    /// A server and a database to connect to first. Never printed: the URL may
    /// hold a password.
    Postgres {
        start_url: String,
    },
}

impl Backend {
    pub fn postgres(start_url: String) -> std::result::Result<Self, String> {
        if with_database(&start_url, "x").is_none() {
            return Err("--database-url must be postgres://[user@]host[:port]/database".into());
        }
        Ok(Self::Postgres { start_url })
    }

    pub fn name(&self) -> &'static str {
        match self {
            Self::Sqlite => "sqlite",
            Self::Postgres { .. } => "postgres",
        }
    }
}

/// One server's database.
pub enum Database {
    Sqlite { path: PathBuf },
    Postgres { url: String, name: String },
}

impl Database {
    /// What the store and the server connect to.
    pub fn url(&self) -> String {
        match self {
            Self::Sqlite { path } => format!("sqlite://{}?mode=rwc", path.display()),
            Self::Postgres { url, .. } => url.clone(),
        }
    }

    /// The name progress lines may show (a path or a database name, no password).
    pub fn label(&self) -> String {
        match self {
            Self::Sqlite { path } => path.display().to_string(),
            Self::Postgres { name, .. } => format!("PostgreSQL database {name}"),
        }
    }

    /// Forgets every authenticator's used and failed steps, as if 30 seconds had
    /// passed, so that the same accounts may each be asked for a code again.
    pub async fn reset_authenticators(&self) -> Result<()> {
        const RESET: &str =
            "UPDATE authenticators SET last_used_step = NULL, failed_step = 0, failed_count = 0";
        match self {
            Self::Sqlite { path } => {
                let connection = rusqlite::Connection::open(path)?;
                connection.busy_timeout(std::time::Duration::from_secs(5))?;
                connection.execute_batch(RESET)?;
                connection.close().map_err(|(_, error)| error)?;
            }
            Self::Postgres { url, .. } => {
                let mut connection = PgConnection::connect(url).await?;
                sqlx::query(RESET).execute(&mut connection).await?;
                connection.close().await?;
            }
        }
        Ok(())
    }
}

/// The databases of one run. On PostgreSQL it keeps a connection to the database
/// the URL names, to create the run's databases, to find the processes serving
/// them (their CPU time counts), and to drop them at the end.
pub struct Databases {
    backend: Backend,
    admin: Option<PgPool>,
    created: Mutex<Vec<String>>,
}

impl Databases {
    pub async fn open(backend: &Backend) -> Result<Self> {
        let admin = match backend {
            Backend::Sqlite => None,
            Backend::Postgres { start_url } => Some(
                PgPoolOptions::new()
                    .max_connections(2)
                    .connect(start_url)
                    .await
                    .map_err(|e| {
                        BenchError::new(format!("cannot connect to --database-url: {e}"))
                    })?,
            ),
        };
        Ok(Self {
            backend: backend.clone(),
            admin,
            created: Mutex::new(Vec::new()),
        })
    }

    /// A fresh, empty database for the server whose data directory is `data_dir`;
    /// `label` tells this run's databases apart (`main`, `small`).
    pub async fn create(&self, data_dir: &Path, label: &str) -> Result<Database> {
        let (Backend::Postgres { start_url }, Some(admin)) = (&self.backend, &self.admin) else {
            return Ok(Database::Sqlite {
                path: data_dir.join("twostep.db"),
            });
        };
        // Built from the process id and a fixed label: nothing from outside
        // reaches the SQL text.
        let name = format!("twostep_bench_{}_{label}", std::process::id());
        sqlx::query(AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(admin)
            .await?;
        self.created
            .lock()
            .map_err(|_| BenchError::new("a thread panicked while creating a database"))?
            .push(name.clone());
        let url = with_database(start_url, &name)
            .ok_or_else(|| BenchError::new("--database-url names no database"))?;
        Ok(Database::Postgres { url, name })
    }

    /// The connection that reads `pg_stat_activity`, on PostgreSQL.
    pub fn admin(&self) -> Option<&PgPool> {
        self.admin.as_ref()
    }

    /// Drops every database this run created, closing what is still connected to
    /// it; a failure is reported, not returned, so that the run's own result stands.
    pub async fn drop_all(&self) {
        let Some(admin) = &self.admin else { return };
        let names = match self.created.lock() {
            Ok(mut created) => std::mem::take(&mut *created),
            Err(_) => return,
        };
        for name in names {
            // The names were built here (see `create`).
            let dropped = sqlx::query(AssertSqlSafe(format!(
                "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
            )))
            .execute(admin)
            .await;
            if let Err(error) = dropped {
                eprintln!("bench: could not drop the database {name}: {error}");
            }
        }
        admin.close().await;
    }
}

/// `url` with its database (the path) replaced by `name`, keeping the user, host,
/// port and query (e.g. `sslmode`); `None` when it is not a PostgreSQL URL.
pub fn with_database(url: &str, name: &str) -> Option<String> {
    let rest = url
        .strip_prefix("postgres://")
        .or_else(|| url.strip_prefix("postgresql://"))?;
    let scheme = &url[..url.len() - rest.len()];
    let (before_query, query) = match rest.split_once('?') {
        Some((before, query)) => (before, Some(query)),
        None => (rest, None),
    };
    let authority = before_query.split('/').next().unwrap_or_default();
    if authority.is_empty() {
        return None;
    }
    let mut out = format!("{scheme}{authority}/{name}");
    if let Some(query) = query {
        out.push('?');
        out.push_str(query);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_database_replaces_the_one_the_url_names_and_keeps_the_rest() {
        assert_eq!(
            with_database("postgres://postgres@127.0.0.1:5432/test", "b").as_deref(),
            Some("postgres://postgres@127.0.0.1:5432/b")
        );
        assert_eq!(
            with_database("postgresql://u:p@db/test?sslmode=require", "b").as_deref(),
            Some("postgresql://u:p@db/b?sslmode=require")
        );
        assert_eq!(
            with_database("postgres://db", "b").as_deref(),
            Some("postgres://db/b")
        );
        assert_eq!(with_database("sqlite://x.db", "b"), None);
        assert_eq!(with_database("postgres:///test", "b"), None);
    }
}
