//! The development outbox: every message appended as one JSON line to `DATA_DIR/outbox/sms.jsonl`
//! or `DATA_DIR/outbox/email.jsonl`, and read back for the outbox page, newest first.
//!
//! Lines are written whole, by one `write` on a file opened for appending, while holding a
//! process-wide lock, so concurrent sends never interleave. The files hold one-time codes, so on
//! Unix they are created readable by their owner only.

use std::fs::OpenOptions;
use std::io::{BufRead, BufReader, ErrorKind, Write};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::{DeliveryError, Email, Sms};

const SMS_FILE: &str = "sms.jsonl";
const EMAIL_FILE: &str = "email.jsonl";

// Process-wide, not per sender: two senders built from the same settings share the files.
static APPEND_LOCK: Mutex<()> = Mutex::new(());

/// Where the outbox provider writes: the `outbox` folder of the data directory.
#[derive(Debug, Clone)]
pub struct Outbox {
    dir: PathBuf,
}

impl Outbox {
    pub fn new(data_dir: &Path) -> Self {
        Self {
            dir: outbox_dir(data_dir),
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub(crate) async fn append_sms(&self, sms: &Sms) -> Result<(), DeliveryError> {
        let line = Line {
            to: sms.to.clone(),
            subject: None,
            text: sms.text.clone(),
            sent_at: now(),
        };
        self.append(SMS_FILE, &line).await
    }

    pub(crate) async fn append_email(&self, email: &Email) -> Result<(), DeliveryError> {
        let line = Line {
            to: email.to.clone(),
            subject: Some(email.subject.clone()),
            text: email.text.clone(),
            sent_at: now(),
        };
        self.append(EMAIL_FILE, &line).await
    }

    async fn append(&self, file: &str, line: &Line) -> Result<(), DeliveryError> {
        let mut bytes = serde_json::to_vec(line).map_err(std::io::Error::other)?;
        bytes.push(b'\n');
        let dir = self.dir.clone();
        let path = dir.join(file);
        tokio::task::spawn_blocking(move || append_line(&dir, &path, &bytes))
            .await
            .map_err(std::io::Error::other)??;
        Ok(())
    }
}

fn append_line(dir: &Path, path: &Path, line: &[u8]) -> std::io::Result<()> {
    let _guard = APPEND_LOCK.lock().unwrap_or_else(PoisonError::into_inner);
    std::fs::create_dir_all(dir)?;
    let mut options = OpenOptions::new();
    options.create(true).append(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)?.write_all(line)
}

/// Which outbox file a message came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Channel {
    Sms,
    Email,
}

/// One message read back from the outbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxMessage {
    pub channel: Channel,
    pub to: String,
    /// Only e-mails have one.
    pub subject: Option<String>,
    pub text: String,
    /// RFC 3339, UTC.
    pub sent_at: String,
}

/// The format of one line in either file; SMS lines have no `subject`.
#[derive(Serialize, Deserialize)]
struct Line {
    to: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    subject: Option<String>,
    text: String,
    sent_at: String,
}

/// Both outbox files of `data_dir`, newest first. Missing files are empty; a line that is not a
/// message (a hand edit, a write cut short by a crash) is skipped with a warning, so that one bad
/// line does not hide the rest of the outbox.
pub fn read_outbox(data_dir: &Path) -> std::io::Result<Vec<OutboxMessage>> {
    let dir = outbox_dir(data_dir);
    let mut found = Vec::new();
    read_file(&dir.join(SMS_FILE), Channel::Sms, &mut found)?;
    read_file(&dir.join(EMAIL_FILE), Channel::Email, &mut found)?;
    // Equal times keep the later line first; a time that does not parse sorts as oldest.
    found.sort_by(|a, b| b.0.cmp(&a.0).then(b.1.cmp(&a.1)));
    Ok(found.into_iter().map(|(_, _, message)| message).collect())
}

type Found = (Option<OffsetDateTime>, usize, OutboxMessage);

fn read_file(path: &Path, channel: Channel, found: &mut Vec<Found>) -> std::io::Result<()> {
    let file = match std::fs::File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    };
    for (index, line) in BufReader::new(file).split(b'\n').enumerate() {
        let line = line?;
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        match serde_json::from_slice::<Line>(&line) {
            Ok(line) => {
                let time = OffsetDateTime::parse(&line.sent_at, &Rfc3339).ok();
                let message = OutboxMessage {
                    channel,
                    to: line.to,
                    subject: line.subject,
                    text: line.text,
                    sent_at: line.sent_at,
                };
                found.push((time, index, message));
            }
            Err(e) => tracing::warn!(
                file = %path.display(),
                line = index + 1,
                error = %e,
                "skipping an outbox line that is not a message"
            ),
        }
    }
    Ok(())
}

fn outbox_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("outbox")
}

fn now() -> String {
    // Formatting a UTC time as RFC 3339 only fails for years past 9999.
    OffsetDateTime::now_utc()
        .format(&Rfc3339)
        .unwrap_or_default()
}
