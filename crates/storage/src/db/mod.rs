//! The one query interface the store's modules use, whichever the backend: a
//! statement is SQL with `$1, $2…` placeholders and a slice of [`Param`]s, and a
//! row is read by column name through [`Row`].
//!
//! SQLite runs in place, on the calling task's thread: its statements take
//! microseconds, and handing each one to another thread (as an async driver
//! must) cost far more than running it. PostgreSQL goes through sqlx's pool.

mod checkpoint;
mod postgres;
mod sqlite;

pub(crate) use sqlite::{Sqlite, SqliteUrl};

use crate::StoreError;

/// A value bound to a placeholder; the `Option`s are NULLs of a known type, which
/// PostgreSQL needs to accept them.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Param<'a> {
    Int(Option<i64>),
    Text(Option<&'a str>),
    Bytes(Option<&'a [u8]>),
}

impl From<i64> for Param<'_> {
    fn from(value: i64) -> Self {
        Self::Int(Some(value))
    }
}

impl From<Option<i64>> for Param<'_> {
    fn from(value: Option<i64>) -> Self {
        Self::Int(value)
    }
}

impl<'a> From<&'a str> for Param<'a> {
    fn from(value: &'a str) -> Self {
        Self::Text(Some(value))
    }
}

impl<'a> From<&'a String> for Param<'a> {
    fn from(value: &'a String) -> Self {
        Self::Text(Some(value))
    }
}

impl<'a> From<Option<&'a str>> for Param<'a> {
    fn from(value: Option<&'a str>) -> Self {
        Self::Text(value)
    }
}

impl<'a> From<&'a [u8]> for Param<'a> {
    fn from(value: &'a [u8]) -> Self {
        Self::Bytes(Some(value))
    }
}

impl<'a> From<&'a Vec<u8>> for Param<'a> {
    fn from(value: &'a Vec<u8>) -> Self {
        Self::Bytes(Some(value))
    }
}

impl<'a> From<Option<&'a [u8]>> for Param<'a> {
    fn from(value: Option<&'a [u8]>) -> Self {
        Self::Bytes(value)
    }
}

/// `params![a, b]` is `&[Param::from(a), Param::from(b)]`: `$1` is `a`, `$2` is `b`.
macro_rules! params {
    ($($value:expr),* $(,)?) => {
        &[$($crate::db::Param::from($value)),*]
    };
}
pub(crate) use params;

/// A column type both backends can read: i64, String, `Vec<u8>` and their options.
pub(crate) trait Column:
    rusqlite::types::FromSql + for<'r> sqlx::Decode<'r, sqlx::Postgres> + sqlx::Type<sqlx::Postgres>
{
}

impl<T> Column for T where
    T: rusqlite::types::FromSql
        + for<'r> sqlx::Decode<'r, sqlx::Postgres>
        + sqlx::Type<sqlx::Postgres>
{
}

/// One result row, lent to a mapping function.
pub(crate) enum Row<'r> {
    Sqlite(&'r rusqlite::Row<'r>),
    Postgres(&'r sqlx::postgres::PgRow),
}

impl Row<'_> {
    pub(crate) fn get<T: Column>(&self, column: &str) -> Result<T, StoreError> {
        match self {
            Self::Sqlite(row) => Ok(row.get(column).map_err(DatabaseError::from)?),
            Self::Postgres(row) => {
                Ok(sqlx::Row::try_get(*row, column).map_err(DatabaseError::from)?)
            }
        }
    }
}

/// What went wrong in the database itself (as opposed to a refused change, which
/// the store's methods answer with `false` or a `StoreError` of its own).
#[derive(Debug, thiserror::Error)]
pub enum DatabaseError {
    #[error(transparent)]
    Sqlite(#[from] rusqlite::Error),
    #[error(transparent)]
    Postgres(#[from] sqlx::Error),
    #[error("{0}")]
    Configuration(&'static str),
    #[error("the database has been closed")]
    Closed,
    #[error("could not start the checkpoint thread")]
    Thread(#[source] std::io::Error),
}

impl DatabaseError {
    pub(crate) fn is_unique_violation(&self) -> bool {
        match self {
            Self::Sqlite(rusqlite::Error::SqliteFailure(error, _)) => matches!(
                error.extended_code,
                rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
                    | rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY
            ),
            Self::Postgres(error) => error
                .as_database_error()
                .is_some_and(|error| error.is_unique_violation()),
            _ => false,
        }
    }
}

impl From<rusqlite::Error> for StoreError {
    fn from(error: rusqlite::Error) -> Self {
        Self::Database(error.into())
    }
}

impl From<sqlx::Error> for StoreError {
    fn from(error: sqlx::Error) -> Self {
        Self::Database(error.into())
    }
}

/// The connections, of one backend or the other.
#[derive(Debug)]
#[expect(
    clippy::large_enum_variant,
    reason = "one per process, behind the store's Arc"
)]
pub(crate) enum Db {
    Sqlite(sqlite::Sqlite),
    Postgres(sqlx::PgPool),
}

impl Db {
    /// Runs a statement that returns no rows; answers how many rows it changed.
    pub(crate) async fn execute(
        &self,
        sql: &'static str,
        params: &[Param<'_>],
    ) -> Result<u64, StoreError> {
        match self {
            Self::Sqlite(db) => {
                let writer = db.writer().await?;
                Ok(sqlite::execute(&writer, sql, params)?)
            }
            Self::Postgres(pool) => postgres::execute(pool, sql, params).await,
        }
    }

    /// The first row, mapped; `None` when there is none. A statement that writes
    /// (`… RETURNING`) runs on the writing connection.
    pub(crate) async fn fetch_optional<T>(
        &self,
        sql: &'static str,
        params: &[Param<'_>],
        map: impl FnMut(&Row<'_>) -> Result<T, StoreError>,
    ) -> Result<Option<T>, StoreError> {
        Ok(self.fetch(sql, params, 1, map).await?.pop())
    }

    /// The first row of a statement that always returns one (`INSERT … RETURNING`).
    pub(crate) async fn fetch_one<T>(
        &self,
        sql: &'static str,
        params: &[Param<'_>],
        map: impl FnMut(&Row<'_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        self.fetch_optional(sql, params, map)
            .await?
            .ok_or(StoreError::NoRowReturned)
    }

    pub(crate) async fn fetch_all<T>(
        &self,
        sql: &'static str,
        params: &[Param<'_>],
        map: impl FnMut(&Row<'_>) -> Result<T, StoreError>,
    ) -> Result<Vec<T>, StoreError> {
        self.fetch(sql, params, usize::MAX, map).await
    }

    async fn fetch<T>(
        &self,
        sql: &'static str,
        params: &[Param<'_>],
        limit: usize,
        map: impl FnMut(&Row<'_>) -> Result<T, StoreError>,
    ) -> Result<Vec<T>, StoreError> {
        match self {
            Self::Sqlite(db) if sqlite::only_reads(sql) => {
                db.with_reader(|connection| sqlite::fetch(connection, sql, params, limit, map))
            }
            Self::Sqlite(db) => {
                let writer = db.writer().await?;
                sqlite::fetch(&writer, sql, params, limit, map)
            }
            Self::Postgres(pool) => postgres::fetch(pool, sql, params, limit, map).await,
        }
    }

    /// A transaction: committed by [`Transaction::commit`], rolled back if dropped.
    /// On SQLite it holds the one writing connection from its first statement on.
    pub(crate) async fn begin(&self) -> Result<Transaction<'_>, StoreError> {
        match self {
            Self::Sqlite(db) => Ok(Transaction::Sqlite(sqlite::Transaction::begin(db).await?)),
            Self::Postgres(pool) => Ok(Transaction::Postgres(pool.begin().await?)),
        }
    }
}

pub(crate) enum Transaction<'a> {
    Sqlite(sqlite::Transaction<'a>),
    Postgres(sqlx::Transaction<'static, sqlx::Postgres>),
}

impl Transaction<'_> {
    pub(crate) async fn execute(
        &mut self,
        sql: &'static str,
        params: &[Param<'_>],
    ) -> Result<u64, StoreError> {
        match self {
            Self::Sqlite(transaction) => {
                Ok(sqlite::execute(transaction.connection(), sql, params)?)
            }
            Self::Postgres(transaction) => postgres::execute(&mut **transaction, sql, params).await,
        }
    }

    pub(crate) async fn fetch_optional<T>(
        &mut self,
        sql: &'static str,
        params: &[Param<'_>],
        map: impl FnMut(&Row<'_>) -> Result<T, StoreError>,
    ) -> Result<Option<T>, StoreError> {
        let mut rows = match self {
            Self::Sqlite(transaction) => {
                sqlite::fetch(transaction.connection(), sql, params, 1, map)?
            }
            Self::Postgres(transaction) => {
                postgres::fetch(&mut **transaction, sql, params, 1, map).await?
            }
        };
        Ok(rows.pop())
    }

    pub(crate) async fn commit(self) -> Result<(), StoreError> {
        match self {
            Self::Sqlite(transaction) => Ok(transaction.commit()?),
            Self::Postgres(transaction) => Ok(transaction.commit().await?),
        }
    }
}
