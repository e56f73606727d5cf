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

/// Whether a statement only reads, which the caller knows and says by the method
/// it calls (`read_*` or `fetch_*`): on SQLite a read may run on a read-only
/// connection, anything else runs on the one writer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Access {
    Read,
    Write,
}

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

impl From<domain::AccountId> for Param<'_> {
    fn from(value: domain::AccountId) -> Self {
        Self::Int(Some(value.get()))
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

/// Enums bind as the names the database stores.
impl From<domain::Method> for Param<'_> {
    fn from(value: domain::Method) -> Self {
        Self::Text(Some(value.as_str()))
    }
}

impl From<domain::budgets::Rule> for Param<'_> {
    fn from(value: domain::budgets::Rule) -> Self {
        Self::Text(Some(value.as_str()))
    }
}

impl From<domain::CodePurpose> for Param<'_> {
    fn from(value: domain::CodePurpose) -> Self {
        Self::Text(Some(value.as_str()))
    }
}

/// Every digest binds as the bytes the database stores.
macro_rules! digest_params {
    ($($digest:ty),*) => {$(
        impl<'a> From<&'a $digest> for Param<'a> {
            fn from(value: &'a $digest) -> Self {
                Self::Bytes(Some(value.as_bytes()))
            }
        }
    )*};
}
digest_params!(
    domain::digests::SessionDigest,
    domain::digests::PendingSignInDigest,
    domain::digests::TokenDigest,
    domain::digests::ResetLinkDigest,
    domain::digests::ChallengeDigest,
    domain::digests::DeviceDigest,
    domain::digests::ConfirmationLinkDigest,
    domain::digests::CodeDigest,
    domain::digests::CodeBinding,
    domain::digests::SubjectDigest
);

/// `params![a, b]` is `&[Param::from(a), Param::from(b)]`: `$1` is `a`, `$2` is `b`.
macro_rules! params {
    ($($value:expr),* $(,)?) => {
        &[$($crate::db::Param::from($value)),*]
    };
}
pub(crate) use params;

/// Declares `Store` methods that are one statement, as `name(arguments) = "SQL";`
/// for a method that answers nothing, or `name(arguments) -> bool = "SQL";` for
/// one that answers whether the statement changed a row (a compare-and-set: of
/// callers racing, one gets true). `$1, $2…` are the arguments in the order
/// given, so a method cannot bind them in another order than it declares them.
macro_rules! statements {
    ($(
        $(#[$attribute:meta])*
        $name:ident($($argument:ident: $type:ty),* $(,)?) $(-> $answer:ident)? = $sql:expr;
    )*) => {
        impl $crate::Store {$(
            $crate::db::statements!(
                @method $(#[$attribute])* $name($($argument: $type),*) $(-> $answer)? = $sql
            );
        )*}
    };
    (@method $(#[$attribute:meta])* $name:ident($($argument:ident: $type:ty),*) = $sql:expr) => {
        $(#[$attribute])*
        pub async fn $name(&self, $($argument: $type),*) -> Result<(), $crate::StoreError> {
            self.db.execute($sql, $crate::db::params![$($argument),*]).await?;
            Ok(())
        }
    };
    (@method $(#[$attribute:meta])* $name:ident($($argument:ident: $type:ty),*) -> bool = $sql:expr) => {
        $(#[$attribute])*
        pub async fn $name(&self, $($argument: $type),*) -> Result<bool, $crate::StoreError> {
            Ok(self.db.execute($sql, $crate::db::params![$($argument),*]).await? > 0)
        }
    };
}
pub(crate) use statements;

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

    /// An account id column, read as the number both backends store.
    pub(crate) fn account_id(&self, column: &str) -> Result<domain::AccountId, StoreError> {
        self.get::<i64>(column).map(domain::AccountId::new)
    }
}

/// What went wrong in the database itself (as opposed to a refused change, which
/// the store's methods answer with `false` or a `StoreError` of its own). Each
/// says what happened in words an operator can act on; none repeats a URL, which
/// may hold a password.
#[derive(Debug, thiserror::Error)]
pub enum DatabaseError {
    #[error(transparent)]
    Sqlite(#[from] rusqlite::Error),
    #[error(transparent)]
    Postgres(#[from] sqlx::Error),
    #[error("cannot open the SQLite file {path}")]
    SqliteOpen {
        path: std::path::PathBuf,
        #[source]
        source: rusqlite::Error,
    },
    /// The server's or the network's own words (connection refused, password
    /// authentication failed, database "x" does not exist) and the server they
    /// came from: the whole cause on one line. The driver's error stays for `Debug`.
    #[error("{reason} ({server})")]
    PostgresConnect {
        server: String,
        reason: String,
        driver: sqlx::Error,
    },
    #[error("the PostgreSQL URL is not valid")]
    PostgresUrl(#[source] sqlx::Error),
    #[error("{0}")]
    Configuration(&'static str),
    #[error("the database has been closed")]
    Closed,
    #[error("could not start the checkpoint thread")]
    Thread(#[source] std::io::Error),
}

impl DatabaseError {
    /// A failed first connection to `server` (host:port, never the URL), with
    /// the reason in the words of whoever refused it.
    pub(crate) fn postgres_connect(server: String, driver: sqlx::Error) -> Self {
        use std::io::ErrorKind;
        let reason = match &driver {
            // "connection refused" rather than "Connection refused (os error 111)".
            sqlx::Error::Io(error) => match error.kind() {
                kind @ (ErrorKind::ConnectionRefused
                | ErrorKind::ConnectionReset
                | ErrorKind::TimedOut
                | ErrorKind::HostUnreachable
                | ErrorKind::NetworkUnreachable) => kind.to_string(),
                _ => error.to_string(),
            },
            sqlx::Error::Database(error) => error.message().to_owned(),
            sqlx::Error::Tls(error) => format!("TLS failed: {error}"),
            other => other.to_string(),
        };
        Self::PostgresConnect {
            server,
            reason,
            driver,
        }
    }

    /// Whether the database could not be reached (refused or closed
    /// connections, a pool that timed out, an I/O error, a server shutting
    /// down or refusing connections), as opposed to a statement it refused:
    /// the request may succeed once the database is back.
    pub fn is_unreachable(&self) -> bool {
        match self {
            Self::Postgres(error) | Self::PostgresConnect { driver: error, .. } => {
                postgres_unreachable(error)
            }
            Self::Sqlite(rusqlite::Error::SqliteFailure(error, _))
            | Self::SqliteOpen {
                source: rusqlite::Error::SqliteFailure(error, _),
                ..
            } => matches!(
                error.code,
                rusqlite::ErrorCode::SystemIoFailure | rusqlite::ErrorCode::CannotOpen
            ),
            // `Closed` is this instance's own shutdown, not the database going
            // away: it stays an internal error.
            _ => false,
        }
    }

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

fn postgres_unreachable(error: &sqlx::Error) -> bool {
    match error {
        // `PoolClosed` is left out for the same reason as `Closed`.
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(error) => {
            let code = error.code().unwrap_or_default();
            // Class 08: connection exceptions; 57P01-03: the server is shutting
            // down, crashed or starting; 53300: no connection slot free.
            code.starts_with("08")
                || matches!(&*code, "57P01" | "57P02" | "57P03" | "53300")
                // 55000 is a general "not in the required state"; only the
                // database refusing connections (ALLOW_CONNECTIONS false) counts.
                || (code == "55000" && error.message().contains("accepting connections"))
        }
        _ => false,
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

    /// The first row of a statement that may write (`UPDATE … RETURNING`),
    /// mapped; `None` when there is none. It runs on the writing connection.
    pub(crate) async fn fetch_optional<T>(
        &self,
        sql: &'static str,
        params: &[Param<'_>],
        map: impl FnMut(&Row<'_>) -> Result<T, StoreError>,
    ) -> Result<Option<T>, StoreError> {
        Ok(self.fetch(Access::Write, sql, params, 1, map).await?.pop())
    }

    /// Every row of a statement that may write (`UPDATE … RETURNING`), mapped.
    pub(crate) async fn fetch_all<T>(
        &self,
        sql: &'static str,
        params: &[Param<'_>],
        map: impl FnMut(&Row<'_>) -> Result<T, StoreError>,
    ) -> Result<Vec<T>, StoreError> {
        self.fetch(Access::Write, sql, params, usize::MAX, map)
            .await
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

    /// The first row of a query that only reads (a `SELECT`), mapped; `None`
    /// when there is none. On SQLite it may run on a read-only connection.
    pub(crate) async fn read_optional<T>(
        &self,
        sql: &'static str,
        params: &[Param<'_>],
        map: impl FnMut(&Row<'_>) -> Result<T, StoreError>,
    ) -> Result<Option<T>, StoreError> {
        Ok(self.fetch(Access::Read, sql, params, 1, map).await?.pop())
    }

    /// The one row of a query that only reads and always answers one (`COUNT`).
    pub(crate) async fn read_one<T>(
        &self,
        sql: &'static str,
        params: &[Param<'_>],
        map: impl FnMut(&Row<'_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        self.read_optional(sql, params, map)
            .await?
            .ok_or(StoreError::NoRowReturned)
    }

    /// Every row of a query that only reads.
    pub(crate) async fn read_all<T>(
        &self,
        sql: &'static str,
        params: &[Param<'_>],
        map: impl FnMut(&Row<'_>) -> Result<T, StoreError>,
    ) -> Result<Vec<T>, StoreError> {
        self.fetch(Access::Read, sql, params, usize::MAX, map).await
    }

    async fn fetch<T>(
        &self,
        access: Access,
        sql: &'static str,
        params: &[Param<'_>],
        limit: usize,
        map: impl FnMut(&Row<'_>) -> Result<T, StoreError>,
    ) -> Result<Vec<T>, StoreError> {
        match (self, access) {
            (Self::Sqlite(db), Access::Read) => db.with_reader(|connection| {
                sqlite::fetch(connection, access, sql, params, limit, map)
            }),
            (Self::Sqlite(db), Access::Write) => {
                let writer = db.writer().await?;
                sqlite::fetch(&writer, access, sql, params, limit, map)
            }
            (Self::Postgres(pool), _) => postgres::fetch(pool, sql, params, limit, map).await,
        }
    }

    /// Runs `statements` in order as one transaction: all of them or, should
    /// one fail, none.
    pub(crate) async fn execute_together(
        &self,
        statements: &[(&'static str, &[Param<'_>])],
    ) -> Result<(), StoreError> {
        let mut transaction = self.begin().await?;
        for (sql, params) in statements {
            transaction.execute(sql, params).await?;
        }
        transaction.commit().await
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
                sqlite::fetch(transaction.connection(), Access::Write, sql, params, 1, map)?
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

#[cfg(test)]
mod tests {
    use std::io::{Error, ErrorKind};

    use super::*;

    #[test]
    fn a_database_out_of_reach_is_told_apart_from_a_refused_statement() {
        for reachable_not in [
            sqlx::Error::PoolTimedOut,
            sqlx::Error::Io(Error::from(ErrorKind::ConnectionRefused)),
            sqlx::Error::Io(Error::from(ErrorKind::UnexpectedEof)),
        ] {
            let error = DatabaseError::Postgres(reachable_not);
            assert!(error.is_unreachable(), "{error}");
            assert!(StoreError::Database(error).is_unavailable());
        }
        for reached in [
            DatabaseError::Postgres(sqlx::Error::RowNotFound),
            DatabaseError::Postgres(sqlx::Error::PoolClosed),
            DatabaseError::Closed,
            DatabaseError::Configuration("a SQLite URL is sqlite://path"),
        ] {
            assert!(!reached.is_unreachable(), "{reached}");
        }
        assert!(!StoreError::EmailTaken.is_unavailable());
    }
}
