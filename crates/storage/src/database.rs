//! Opening the connection pool for the backend named by the URL, bringing the
//! schema up to date with the migrations embedded in the binary, and telling
//! whether a database is as up to date as this binary needs.
//!
//! Migrations are written expand-then-contract (see ARCHITECTURE.md): a release
//! only adds tables, columns with defaults and indexes; what the previous release
//! still reads or writes is dropped one release later at the earliest. So a
//! schema newer than the binary knows is one it can work on.

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{Connection, PgConnection, PgPool};

use crate::db::{Db, Sqlite, SqliteUrl};
use crate::{Backend, DatabaseError, Store, StoreError};

struct Migration {
    version: i64,
    sql: &'static str,
}

/// `migrations!(1 => "0001_initial.sql", …)`: one list for both backends, so
/// that neither can miss a version. Each file is in `migrations/sqlite/` and
/// `migrations/postgres/`, embedded in the binary with its version.
macro_rules! migrations {
    ($($version:literal => $file:literal),+ $(,)?) => {
        const SQLITE_MIGRATIONS: &[Migration] = &[$(Migration {
            version: $version,
            sql: include_str!(concat!("../migrations/sqlite/", $file)),
        }),+];
        const POSTGRES_MIGRATIONS: &[Migration] = &[$(Migration {
            version: $version,
            sql: include_str!(concat!("../migrations/postgres/", $file)),
        }),+];
    };
}

// Applied in order; a migration once released is never edited, only followed.
migrations!(
    1 => "0001_initial.sql",
    2 => "0002_applications_and_reset_answers.sql",
    3 => "0003_failed_passwords.sql",
    4 => "0004_sessions_clustered_by_digest.sql",
    5 => "0005_recovery_codes_and_remembered_devices.sql",
    6 => "0006_session_details_and_disabled_accounts.sql",
    7 => "0007_anti_theft.sql",
    8 => "0008_password_and_second_step_locks.sql",
    9 => "0009_sms_budgets.sql",
    10 => "0010_confirmed_addresses_and_token_use.sql",
    11 => "0011_retired_server_keys.sql",
    12 => "0012_recovery_code_keys_and_sms_refusal_events.sql",
    13 => "0013_signed_out_app_connections.sql",
);

// `applied_at` is only for an operator's eyes, so the database's clock fills it
// in and the migrator keeps its promise of never reading the clock itself.
const SQLITE_MIGRATIONS_TABLE: &str = "CREATE TABLE IF NOT EXISTS schema_migrations (
    version BIGINT PRIMARY KEY,
    applied_at BIGINT NOT NULL DEFAULT (CAST(strftime('%s', 'now') AS INTEGER))
)";

const POSTGRES_MIGRATIONS_TABLE: &str = "CREATE TABLE IF NOT EXISTS schema_migrations (
    version BIGINT PRIMARY KEY,
    applied_at BIGINT NOT NULL DEFAULT (CAST(EXTRACT(EPOCH FROM now()) AS BIGINT))
)";

/// Any fixed number works as long as nothing else on the server uses it; this one
/// spells "twostep" in ASCII.
const POSTGRES_MIGRATION_LOCK: i64 = 0x0074_776f_7374_6570;

/// Where a database's schema stands against the migrations this binary carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SchemaStatus {
    /// Every migration this binary knows is applied, and no other.
    Current,
    /// Migrations this binary knows are missing: `applied` of `known` (0 on a
    /// database never migrated). This binary's queries may fail on it.
    Behind { applied: usize, known: usize },
    /// A newer release migrated it further. Its migrations only expanded the
    /// schema, so this binary's queries still work on it.
    Ahead { newest: i64, known: i64 },
}

impl Backend {
    fn from_url(url: &str) -> Option<Self> {
        if url.starts_with("sqlite:") {
            Some(Self::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Some(Self::Postgres)
        } else {
            None
        }
    }

    /// On SQLite, one writer and the readers: each connection keeps its own page
    /// cache, so more than the threads that can use them only costs memory.
    fn default_max_connections(self) -> u32 {
        match self {
            Self::Sqlite => 8,
            Self::Postgres => 16,
        }
    }
}

/// How many connections to keep and how long to wait for them; read from the
/// `[database]` section of the configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolSettings {
    /// 0: the backend's default (8 for SQLite, 16 for PostgreSQL).
    pub max_connections: u32,
    /// How long a request waits for a connection (PostgreSQL): past it, the
    /// store answers `PoolTimedOut`, which the web layer shows as a 503.
    pub connect_timeout: Duration,
    /// PostgreSQL cancels a statement that runs longer; `None`: no limit.
    pub statement_timeout: Option<Duration>,
}

impl Default for PoolSettings {
    fn default() -> Self {
        Self {
            max_connections: 0,
            // sqlx's default is 30 s: a person waiting that long for a 503 has
            // given up, and a load balancer has marked the instance down anyway.
            connect_timeout: Duration::from_secs(5),
            statement_timeout: None,
        }
    }
}

/// The pool retries a refused connection until its timeout and then reports
/// only the timeout, so one connection is made first to learn why it fails.
/// TLS is asked for by `sslmode` in the URL (rustls, webpki roots).
async fn connect_postgres(
    database_url: &str,
    settings: &PoolSettings,
    max_connections: u32,
) -> Result<PgPool, DatabaseError> {
    let mut options =
        PgConnectOptions::from_str(database_url).map_err(DatabaseError::PostgresUrl)?;
    if let Some(timeout) = settings.statement_timeout {
        let millis = timeout.as_millis().to_string();
        options = options.options([("statement_timeout", millis.as_str())]);
    }
    let server = format!("{}:{}", options.get_host(), options.get_port());
    let first = tokio::time::timeout(
        settings.connect_timeout,
        PgConnection::connect_with(&options),
    )
    .await
    .map_err(|_| DatabaseError::postgres_connect(server.clone(), sqlx::Error::PoolTimedOut))?
    .map_err(|error| DatabaseError::postgres_connect(server.clone(), error))?;
    first.close().await.ok();
    PgPoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(settings.connect_timeout)
        // A connection the server ended (a restart, pg_terminate_backend) is
        // found by this ping and replaced, so the pool recovers on its own.
        .test_before_acquire(true)
        .connect_with(options)
        .await
        .map_err(|error| DatabaseError::postgres_connect(server, error))
}

impl Store {
    /// Opens `sqlite://path?mode=rwc` (or `sqlite:path`) or `postgres://…`;
    /// `max_connections` 0 means the backend's default (8 for SQLite, 16 for
    /// PostgreSQL). On SQLite one of them writes and the others read.
    pub async fn connect(database_url: &str, max_connections: u32) -> Result<Store, StoreError> {
        Self::connect_with(
            database_url,
            &PoolSettings {
                max_connections,
                ..PoolSettings::default()
            },
        )
        .await
    }

    /// [`Store::connect`] with every setting of the pool.
    pub async fn connect_with(
        database_url: &str,
        settings: &PoolSettings,
    ) -> Result<Store, StoreError> {
        // The URL may hold a password, so no error repeats it.
        let backend = Backend::from_url(database_url).ok_or(DatabaseError::Configuration(
            "the database URL must be sqlite://path?mode=rwc or postgres://…",
        ))?;
        let max_connections = match settings.max_connections {
            0 => backend.default_max_connections(),
            n => n,
        };
        let db = match backend {
            Backend::Sqlite => {
                let url = SqliteUrl::parse(database_url).ok_or(DatabaseError::Configuration(
                    "a SQLite URL is sqlite://path, with ?mode=rwc to create the file",
                ))?;
                Db::Sqlite(Sqlite::open(url, max_connections as usize)?)
            }
            Backend::Postgres => {
                Db::Postgres(connect_postgres(database_url, settings, max_connections).await?)
            }
        };
        Ok(Store {
            db: Arc::new(db),
            backend,
            #[cfg(any(test, feature = "fault-injection"))]
            faults: Default::default(),
        })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub async fn ping(&self) -> Result<(), StoreError> {
        self.db
            .read_optional("SELECT CAST(1 AS BIGINT) AS one", &[], |row| {
                row.get::<i64>("one")
            })
            .await?;
        Ok(())
    }

    /// Waits for queries in flight and closes every connection: at shutdown, the
    /// SQLite write-ahead log is then checkpointed into the database file.
    pub async fn close(&self) {
        match &*self.db {
            Db::Sqlite(db) => db.close().await,
            Db::Postgres(pool) => pool.close().await,
        }
    }

    /// Compares the migrations recorded in `schema_migrations` with those this
    /// binary carries, without changing anything.
    pub async fn schema_status(&self) -> Result<SchemaStatus, StoreError> {
        let known = match self.backend {
            Backend::Sqlite => SQLITE_MIGRATIONS,
            Backend::Postgres => POSTGRES_MIGRATIONS,
        };
        let table_exists = match self.backend {
            Backend::Sqlite => {
                "SELECT COUNT(*) AS n FROM sqlite_schema
                 WHERE type = 'table' AND name = 'schema_migrations'"
            }
            Backend::Postgres => {
                "SELECT COUNT(*) AS n FROM information_schema.tables
                 WHERE table_schema = current_schema() AND table_name = 'schema_migrations'"
            }
        };
        let tables: i64 = self
            .db
            .read_one(table_exists, &[], |row| row.get("n"))
            .await?;
        let applied: Vec<i64> = if tables == 0 {
            Vec::new()
        } else {
            self.db
                .read_all("SELECT version FROM schema_migrations", &[], |row| {
                    row.get("version")
                })
                .await?
        };
        Ok(schema_status(known, &applied))
    }

    /// Applies every migration not yet recorded in `schema_migrations`; running it
    /// again, or from two instances at once, changes nothing.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        let pool = match &*self.db {
            Db::Sqlite(db) => {
                let writer = db.writer().await?;
                return apply_sqlite_migrations(&writer, SQLITE_MIGRATIONS);
            }
            Db::Postgres(pool) => pool,
        };
        let mut connection = pool.acquire().await?;
        // Two instances starting together would otherwise race on CREATE TABLE.
        sqlx::query("SELECT pg_advisory_lock($1)")
            .bind(POSTGRES_MIGRATION_LOCK)
            .execute(&mut *connection)
            .await?;
        let applied = apply_postgres_migrations(&mut connection).await;
        let unlocked = sqlx::query("SELECT pg_advisory_unlock($1)")
            .bind(POSTGRES_MIGRATION_LOCK)
            .execute(&mut *connection)
            .await;
        if unlocked.is_err() {
            // The lock belongs to the session: ending it is the sure way to let go.
            connection.close_on_drop();
        }
        applied?;
        unlocked?;
        Ok(())
    }
}

fn schema_status(known: &[Migration], applied: &[i64]) -> SchemaStatus {
    let applied_known = known
        .iter()
        .filter(|migration| applied.contains(&migration.version))
        .count();
    if applied_known < known.len() {
        return SchemaStatus::Behind {
            applied: applied_known,
            known: known.len(),
        };
    }
    let known_newest = known.iter().map(|migration| migration.version).max();
    match (applied.iter().copied().max(), known_newest) {
        (Some(newest), Some(known)) if newest > known => SchemaStatus::Ahead { newest, known },
        _ => SchemaStatus::Current,
    }
}

/// Claiming the version first makes the check and the write one step, and takes
/// the write lock before anything is read.
const CLAIM_MIGRATION: &str =
    "INSERT INTO schema_migrations (version) VALUES ($1) ON CONFLICT (version) DO NOTHING";

fn apply_sqlite_migrations(
    connection: &rusqlite::Connection,
    migrations: &[Migration],
) -> Result<(), StoreError> {
    connection.execute_batch(SQLITE_MIGRATIONS_TABLE)?;
    for migration in migrations {
        connection.execute_batch("BEGIN IMMEDIATE")?;
        let applied = connection
            .execute(CLAIM_MIGRATION, [migration.version])
            .and_then(|claimed| {
                if claimed == 1 {
                    connection.execute_batch(migration.sql).map(|()| true)
                } else {
                    Ok(false)
                }
            });
        match applied {
            Ok(applied) => {
                connection.execute_batch("COMMIT")?;
                if applied {
                    tracing::info!(version = migration.version, "applied database migration");
                }
            }
            Err(error) => {
                connection.execute_batch("ROLLBACK").ok();
                return Err(StoreError::Migration {
                    version: migration.version,
                    source: error.into(),
                });
            }
        }
    }
    Ok(())
}

async fn apply_postgres_migrations(connection: &mut PgConnection) -> Result<(), StoreError> {
    sqlx::raw_sql(POSTGRES_MIGRATIONS_TABLE)
        .execute(&mut *connection)
        .await?;
    for migration in POSTGRES_MIGRATIONS {
        let mut transaction = connection.begin().await?;
        let claimed = sqlx::query(CLAIM_MIGRATION)
            .bind(migration.version)
            .execute(&mut *transaction)
            .await?
            .rows_affected()
            == 1;
        if !claimed {
            transaction.rollback().await?;
            continue;
        }
        sqlx::raw_sql(migration.sql)
            .execute(&mut *transaction)
            .await
            .map_err(|source| StoreError::Migration {
                version: migration.version,
                source: source.into(),
            })?;
        transaction.commit().await?;
        tracing::info!(version = migration.version, "applied database migration");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_schema_is_behind_while_a_known_migration_is_missing_and_ahead_past_the_newest() {
        let known = &SQLITE_MIGRATIONS[..3];
        assert_eq!(
            schema_status(known, &[]),
            SchemaStatus::Behind {
                applied: 0,
                known: 3
            }
        );
        assert_eq!(
            schema_status(known, &[1, 3]),
            SchemaStatus::Behind {
                applied: 2,
                known: 3
            }
        );
        // A newer release's version 4 does not hide a missing version 2.
        assert_eq!(
            schema_status(known, &[1, 3, 4]),
            SchemaStatus::Behind {
                applied: 2,
                known: 3
            }
        );
        assert_eq!(schema_status(known, &[1, 2, 3]), SchemaStatus::Current);
        assert_eq!(
            schema_status(known, &[1, 2, 3, 4, 5]),
            SchemaStatus::Ahead {
                newest: 5,
                known: 3
            }
        );
    }

    #[test]
    fn sessions_and_half_finished_sign_ins_survive_their_move_to_clustered_tables() {
        let connection = rusqlite::Connection::open_in_memory().unwrap();
        connection
            .execute_batch("PRAGMA foreign_keys = ON")
            .unwrap();
        apply_sqlite_migrations(&connection, &SQLITE_MIGRATIONS[..3]).unwrap();
        connection
            .execute_batch(
                "INSERT INTO accounts (id, email, password_hash, created_at, password_changed_at)
                     VALUES (7, 'ann@example.com', 'hash', 1, 1);
                 INSERT INTO sessions (id_digest, account_id, created_at, last_seen_at, password_confirmed_at)
                     VALUES (x'01', 7, 10, 20, 15);
                 INSERT INTO pending_sign_ins (id_digest, account_id, method, created_at)
                     VALUES (x'02', 7, 'sms', 30);",
            )
            .unwrap();

        apply_sqlite_migrations(&connection, SQLITE_MIGRATIONS).unwrap();

        let session: (i64, i64, i64, Option<i64>) = connection
            .query_row(
                "SELECT account_id, created_at, last_seen_at, password_confirmed_at
                 FROM sessions WHERE id_digest = x'01'",
                [],
                |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?)),
            )
            .unwrap();
        assert_eq!(session, (7, 10, 20, Some(15)));
        let pending: (i64, String, i64) = connection
            .query_row(
                "SELECT account_id, method, created_at FROM pending_sign_ins WHERE id_digest = x'02'",
                [],
                |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
            )
            .unwrap();
        assert_eq!(pending, (7, "sms".to_owned(), 30));
        let without_rowid: i64 = connection
            .query_row(
                "SELECT COUNT(*) FROM sqlite_schema
                 WHERE name IN ('sessions', 'pending_sign_ins') AND sql LIKE '%WITHOUT ROWID'",
                [],
                |row| row.get(0),
            )
            .unwrap();
        assert_eq!(without_rowid, 2);
    }
}
