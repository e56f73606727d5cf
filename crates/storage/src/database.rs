//! Opening the connection pool for the backend named by the URL, and bringing the
//! schema up to date with the migrations embedded in the binary.

use sqlx::any::AnyPoolOptions;
use sqlx::{AnyConnection, Connection};

use crate::{Backend, Store, StoreError};

struct Migration {
    version: i64,
    sql: &'static str,
}

/// Applied in order; a migration once released is never edited, only followed.
const SQLITE_MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        sql: include_str!("../migrations/sqlite/0001_initial.sql"),
    },
    Migration {
        version: 2,
        sql: include_str!("../migrations/sqlite/0002_applications_and_reset_answers.sql"),
    },
    Migration {
        version: 3,
        sql: include_str!("../migrations/sqlite/0003_failed_passwords.sql"),
    },
];

const POSTGRES_MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        sql: include_str!("../migrations/postgres/0001_initial.sql"),
    },
    Migration {
        version: 2,
        sql: include_str!("../migrations/postgres/0002_applications_and_reset_answers.sql"),
    },
    Migration {
        version: 3,
        sql: include_str!("../migrations/postgres/0003_failed_passwords.sql"),
    },
];

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

// foreign_keys and busy_timeout are per connection, and so is synchronous.
const SQLITE_CONNECTION_PRAGMAS: &str =
    "PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000; PRAGMA synchronous = NORMAL;";

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

    /// SQLite has one writer at a time, so more connections only queue longer.
    fn default_max_connections(self) -> u32 {
        match self {
            Self::Sqlite => 8,
            Self::Postgres => 16,
        }
    }

    fn migrations(self) -> (&'static str, &'static [Migration]) {
        match self {
            Self::Sqlite => (SQLITE_MIGRATIONS_TABLE, SQLITE_MIGRATIONS),
            Self::Postgres => (POSTGRES_MIGRATIONS_TABLE, POSTGRES_MIGRATIONS),
        }
    }
}

impl Store {
    /// Opens a pool on `sqlite://path?mode=rwc` or `postgres://…`;
    /// `max_connections` 0 means the backend's default (8 for SQLite, 16 for PostgreSQL).
    pub async fn connect(database_url: &str, max_connections: u32) -> Result<Store, StoreError> {
        // Idempotent: guarded by a `std::sync::Once` inside sqlx.
        sqlx::any::install_default_drivers();
        // The URL may hold a password, so the error does not repeat it.
        let backend = Backend::from_url(database_url).ok_or_else(|| {
            StoreError::Database(sqlx::Error::Configuration(
                "the database URL must start with sqlite: or postgres://".into(),
            ))
        })?;
        let max_connections = match max_connections {
            0 => backend.default_max_connections(),
            n => n,
        };
        let mut options = AnyPoolOptions::new().max_connections(max_connections);
        if backend == Backend::Sqlite {
            // A file cannot drop a connection the way a network can, so the pool's
            // ping before every query (a round trip to the connection's thread,
            // doubling the cost of each query) buys nothing here.
            options = options.test_before_acquire(false);
            options = options.after_connect(|connection, _| {
                Box::pin(async move {
                    sqlx::raw_sql(SQLITE_CONNECTION_PRAGMAS)
                        .execute(connection)
                        .await?;
                    Ok(())
                })
            });
        }
        let pool = options.connect(database_url).await?;
        if backend == Backend::Sqlite {
            // WAL lets readers go on while one connection writes; the mode is stored
            // in the database file, so setting it once is enough.
            sqlx::raw_sql("PRAGMA journal_mode = WAL")
                .execute(&pool)
                .await?;
        }
        Ok(Store { pool, backend })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// Waits for queries in flight and closes every connection: at shutdown, the
    /// SQLite write-ahead log is then checkpointed into the database file.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// Applies every migration not yet recorded in `schema_migrations`; running it
    /// again, or from two instances at once, changes nothing.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        let mut connection = self.pool.acquire().await?;
        if self.backend == Backend::Sqlite {
            return apply_migrations(&mut connection, self.backend).await;
        }
        // Two instances starting together would otherwise race on CREATE TABLE.
        sqlx::query("SELECT pg_advisory_lock($1)")
            .bind(POSTGRES_MIGRATION_LOCK)
            .execute(&mut *connection)
            .await?;
        let applied = apply_migrations(&mut connection, self.backend).await;
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

async fn apply_migrations(
    connection: &mut AnyConnection,
    backend: Backend,
) -> Result<(), StoreError> {
    let (migrations_table, migrations) = backend.migrations();
    sqlx::raw_sql(migrations_table)
        .execute(&mut *connection)
        .await?;
    for migration in migrations {
        let mut transaction = connection.begin().await?;
        // Claiming the version first makes the check and the write one step, and on
        // SQLite takes the write lock before anything is read.
        let claimed = sqlx::query(
            "INSERT INTO schema_migrations (version) VALUES ($1) ON CONFLICT (version) DO NOTHING",
        )
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
                source,
            })?;
        transaction.commit().await?;
        tracing::info!(version = migration.version, "applied database migration");
    }
    Ok(())
}
