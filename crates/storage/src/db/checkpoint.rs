//! Checkpoints of SQLite's write-ahead log, on a thread of their own. SQLite's
//! automatic checkpoint runs inside the commit that crosses its threshold: that
//! commit copies a thousand pages into the database file and waits for two
//! `fsync`s while holding the one writing connection, and every sign-in behind
//! it waits too. A passive checkpoint from another connection does the same work
//! without blocking the writer.

use std::sync::mpsc::{self, RecvTimeoutError};
use std::thread::JoinHandle;
use std::time::Duration;

use rusqlite::Connection;

/// Often enough that the log stays a few megabytes under a full load of
/// sign-ins; an idle checkpoint only reads the log's header.
const INTERVAL: Duration = Duration::from_millis(250);

/// The writer's own automatic checkpoint stays as a backstop, far above what
/// the thread lets the log reach, should the thread ever fall behind.
pub(crate) const WRITER_AUTOCHECKPOINT_PAGES: i64 = 20_000;

#[derive(Debug)]
pub(crate) struct Checkpointer {
    stop: Option<mpsc::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Checkpointer {
    pub(crate) fn start(connection: Connection) -> std::io::Result<Self> {
        let (stop, stopped) = mpsc::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("sqlite-checkpoint".into())
            .spawn(move || {
                while let Err(RecvTimeoutError::Timeout) = stopped.recv_timeout(INTERVAL) {
                    if let Err(error) = connection.execute_batch("PRAGMA wal_checkpoint(PASSIVE)") {
                        tracing::warn!(%error, "could not checkpoint the SQLite write-ahead log");
                    }
                }
            })?;
        Ok(Self {
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    /// Ends the thread after the checkpoint it may be running.
    pub(crate) fn stop(&mut self) {
        drop(self.stop.take());
        if let Some(thread) = self.thread.take() {
            thread.join().ok();
        }
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        self.stop();
    }
}
