//! SQLite through rusqlite, called in place: one connection writes (SQLite has
//! one writer at a time anyway) and also reads whenever it is free, because its
//! page cache is the one that every write leaves valid; a read that finds it
//! busy takes an idle read-only connection instead, which WAL lets run alongside
//! the write.
//!
//! Nothing here awaits while it holds a connection except a transaction, which
//! keeps the writer for its few statements; the writer is behind an async mutex
//! so that writers queue as tasks rather than as blocked threads.

use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

use super::checkpoint::{Checkpointer, WRITER_AUTOCHECKPOINT_PAGES};
use super::{Access, DatabaseError, Param, Row};
use crate::StoreError;

/// How long a statement waits for another process's write lock (the command line,
/// a second instance on the same file) before it fails. The wait blocks the
/// runtime thread it runs on; such writes are rare and take milliseconds.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Each connection keeps its prepared statements; the store has about sixty.
const STATEMENT_CACHE: usize = 128;

/// `$1`…`$16`: SQLite reads `$1` as a parameter named "$1", wherever it appears.
const PLACEHOLDERS: [&str; 16] = [
    "$1", "$2", "$3", "$4", "$5", "$6", "$7", "$8", "$9", "$10", "$11", "$12", "$13", "$14", "$15",
    "$16",
];

/// What a `sqlite:` URL names: a file, and whether it may be created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SqliteUrl {
    pub path: PathBuf,
    pub create: bool,
}

impl SqliteUrl {
    /// `sqlite://path`, `sqlite:path`, with `?mode=rwc` (create when missing) or
    /// `?mode=rw`; other query keys are refused rather than ignored.
    pub(crate) fn parse(url: &str) -> Option<Self> {
        let rest = url.strip_prefix("sqlite:")?;
        let rest = rest.strip_prefix("//").unwrap_or(rest);
        let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
        let create = match query {
            "" | "mode=rw" => false,
            "mode=rwc" => true,
            _ => return None,
        };
        if path.is_empty() {
            return None;
        }
        Some(Self {
            path: PathBuf::from(path),
            create,
        })
    }
}

#[derive(Debug)]
pub(crate) struct Sqlite {
    url: SqliteUrl,
    writer: tokio::sync::Mutex<Connection>,
    idle_readers: Mutex<Vec<Connection>>,
    max_idle_readers: usize,
    closed: AtomicBool,
    checkpointer: Mutex<Checkpointer>,
}

impl Sqlite {
    pub(crate) fn open(url: SqliteUrl, max_connections: usize) -> Result<Self, DatabaseError> {
        let mut flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        if url.create {
            flags |= OpenFlags::SQLITE_OPEN_CREATE;
        }
        let cannot_open = |source| DatabaseError::SqliteOpen {
            path: url.path.clone(),
            source,
        };
        if url.create {
            // When this fails (no such directory, no permission) SQLite's open
            // below fails for the same reason and names the file: that error is
            // the one reported, as for an existing file that cannot be opened.
            if let Err(error) = create_private(&url.path) {
                tracing::debug!(path = %url.path.display(), %error, "cannot create the SQLite file 0600");
            }
        }
        let writer = open_writer(&url, flags).map_err(cannot_open)?;
        let checkpointer = Checkpointer::start(open_connection(&url, flags).map_err(cannot_open)?)
            .map_err(DatabaseError::Thread)?;
        Ok(Self {
            url,
            writer: tokio::sync::Mutex::new(writer),
            idle_readers: Mutex::new(Vec::new()),
            max_idle_readers: max_connections.saturating_sub(1).max(1),
            closed: AtomicBool::new(false),
            checkpointer: Mutex::new(checkpointer),
        })
    }

    pub(crate) async fn writer(
        &self,
    ) -> Result<tokio::sync::MutexGuard<'_, Connection>, DatabaseError> {
        let writer = self.writer.lock().await;
        self.check_open()?;
        Ok(writer)
    }

    fn check_open(&self) -> Result<(), DatabaseError> {
        if self.closed.load(Ordering::Acquire) {
            return Err(DatabaseError::Closed);
        }
        Ok(())
    }

    /// Runs `read` on the writer if it is free, else on an idle reading
    /// connection, opening one when none is idle.
    pub(crate) fn with_reader<T>(
        &self,
        read: impl FnOnce(&Connection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        self.check_open()?;
        if let Ok(writer) = self.writer.try_lock() {
            return read(&writer);
        }
        let idle = self.lock_readers().pop();
        let connection = match idle {
            Some(connection) => connection,
            None => open_connection(
                &self.url,
                OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
            )?,
        };
        let outcome = read(&connection);
        let mut idle = self.lock_readers();
        if idle.len() < self.max_idle_readers {
            idle.push(connection);
        }
        outcome
    }

    fn lock_readers(&self) -> std::sync::MutexGuard<'_, Vec<Connection>> {
        // A panic while the list was held cannot leave it half-changed.
        self.idle_readers
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Refuses every later statement, drops the idle readers, and checkpoints
    /// the write-ahead log into the database file once the writer is free.
    pub(crate) async fn close(&self) {
        self.closed.store(true, Ordering::Release);
        self.lock_readers().clear();
        self.checkpointer
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .stop();
        let writer = self.writer.lock().await;
        if let Err(error) = writer.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)") {
            tracing::warn!(%error, "could not checkpoint the SQLite write-ahead log");
        }
    }
}

/// Creates a missing database file readable by its owner only (0600), before
/// SQLite opens it. Creating it ourselves rather than narrowing the process
/// umask: the umask is process-wide, so it would race with every other thread
/// that creates files, and chmod after SQLite created it would leave a moment
/// where the file is readable. SQLite's unix VFS gives the `-wal` and `-shm`
/// files the mode of the database file, so they are 0600 too. An existing file
/// keeps the mode its operator gave it.
fn create_private(path: &std::path::Path) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(path) {
        Ok(_) => Ok(()),
        Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(error) => Err(error),
    }
}

fn open_writer(url: &SqliteUrl, flags: OpenFlags) -> Result<Connection, rusqlite::Error> {
    let writer = open_connection(url, flags)?;
    // WAL lets readers go on while the writer writes; the mode is stored in the
    // database file, so setting it once is enough.
    writer.pragma_update(None, "journal_mode", "WAL")?;
    writer.pragma_update(None, "wal_autocheckpoint", WRITER_AUTOCHECKPOINT_PAGES)?;
    Ok(writer)
}

fn open_connection(url: &SqliteUrl, flags: OpenFlags) -> Result<Connection, rusqlite::Error> {
    let connection = Connection::open_with_flags(&url.path, flags)?;
    connection.busy_timeout(BUSY_TIMEOUT)?;
    // Per connection, not stored in the file.
    connection.execute_batch("PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL;")?;
    connection.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    Ok(connection)
}

fn prepare<'c>(
    connection: &'c Connection,
    sql: &str,
    params: &[Param<'_>],
) -> Result<rusqlite::CachedStatement<'c>, rusqlite::Error> {
    let mut statement = connection.prepare_cached(sql)?;
    if statement.parameter_count() != params.len() {
        return Err(rusqlite::Error::InvalidParameterCount(
            params.len(),
            statement.parameter_count(),
        ));
    }
    for (placeholder, param) in PLACEHOLDERS.iter().zip(params) {
        match *param {
            Param::Int(value) => statement.raw_bind_parameter(*placeholder, value)?,
            Param::Text(value) => statement.raw_bind_parameter(*placeholder, value)?,
            Param::Bytes(value) => statement.raw_bind_parameter(*placeholder, value)?,
        }
    }
    Ok(statement)
}

pub(crate) fn execute(
    connection: &Connection,
    sql: &str,
    params: &[Param<'_>],
) -> Result<u64, rusqlite::Error> {
    let mut statement = prepare(connection, sql, params)?;
    Ok(statement.raw_execute()? as u64)
}

pub(crate) fn fetch<T>(
    connection: &Connection,
    access: Access,
    sql: &str,
    params: &[Param<'_>],
    limit: usize,
    mut map: impl FnMut(&Row<'_>) -> Result<T, StoreError>,
) -> Result<Vec<T>, StoreError> {
    let mut statement = prepare(connection, sql, params)?;
    // SQLite itself knows whether a statement writes: a write sent down the
    // read path would fail on a read-only connection, but only under load.
    debug_assert!(
        access == Access::Write || statement.readonly(),
        "a statement that writes was sent as a read: {sql}"
    );
    let mut rows = statement.raw_query();
    let mut mapped = Vec::new();
    while mapped.len() < limit {
        let Some(row) = rows.next()? else { break };
        mapped.push(map(&Row::Sqlite(row))?);
    }
    if access == Access::Write {
        // A write with RETURNING must run to its end even when one row is enough.
        while rows.next()?.is_some() {}
    }
    Ok(mapped)
}

/// `BEGIN IMMEDIATE` takes the write lock at once, so that a transaction that
/// reads before it writes cannot fail halfway on another process's write.
pub(crate) struct Transaction<'a> {
    writer: tokio::sync::MutexGuard<'a, Connection>,
    open: bool,
}

impl<'a> Transaction<'a> {
    pub(crate) async fn begin(db: &'a Sqlite) -> Result<Self, StoreError> {
        let writer = db.writer().await?;
        run_cached(&writer, "BEGIN IMMEDIATE")?;
        Ok(Self { writer, open: true })
    }

    pub(crate) fn connection(&self) -> &Connection {
        &self.writer
    }

    pub(crate) fn commit(mut self) -> Result<(), rusqlite::Error> {
        run_cached(&self.writer, "COMMIT")?;
        self.open = false;
        Ok(())
    }
}

/// BEGIN and COMMIT come with every transaction: prepared once, not parsed
/// each time as `execute_batch` would.
fn run_cached(connection: &Connection, sql: &str) -> Result<(), rusqlite::Error> {
    connection.prepare_cached(sql)?.raw_execute()?;
    Ok(())
}

impl Drop for Transaction<'_> {
    fn drop(&mut self) {
        if self.open
            && let Err(error) = run_cached(&self.writer, "ROLLBACK")
        {
            tracing::warn!(%error, "could not roll back an SQLite transaction");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_name_the_file_and_whether_to_create_it() {
        assert_eq!(
            SqliteUrl::parse("sqlite://./data/twostep.db?mode=rwc"),
            Some(SqliteUrl {
                path: PathBuf::from("./data/twostep.db"),
                create: true
            })
        );
        assert_eq!(
            SqliteUrl::parse("sqlite:/var/lib/twostep.db"),
            Some(SqliteUrl {
                path: PathBuf::from("/var/lib/twostep.db"),
                create: false
            })
        );
        assert_eq!(SqliteUrl::parse("sqlite://x.db?cache=shared"), None);
        assert_eq!(SqliteUrl::parse("sqlite://"), None);
        assert_eq!(SqliteUrl::parse("postgres://host/db"), None);
    }

    /// `sql` sent as a read to a table `t` of the numbers 1 and 2; answers
    /// every `n` it returns.
    fn read_from_table(sql: &'static str) -> Result<Vec<i64>, StoreError> {
        let connection = Connection::open_in_memory().unwrap();
        connection
            .execute_batch("CREATE TABLE t (n BIGINT); INSERT INTO t VALUES (1), (2);")
            .unwrap();
        fetch(&connection, Access::Read, sql, &[], 9, |row| row.get("n"))
    }

    #[test]
    fn a_read_answers_its_rows() {
        let rows = read_from_table("SELECT n FROM t ORDER BY n").unwrap();
        assert_eq!(rows, [1, 2]);
    }

    #[test]
    #[cfg(debug_assertions)]
    #[should_panic(expected = "a statement that writes was sent as a read")]
    fn a_write_sent_as_a_read_is_caught_before_it_runs() {
        let _ = read_from_table("DELETE FROM t RETURNING n");
    }
}
