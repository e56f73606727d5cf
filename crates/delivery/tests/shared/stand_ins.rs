//! Stand-ins on loopback that both the delivery tests and the twostep tests use: a real SMTP
//! server (Python's aiosmtpd, `testing/smtp/sink.py`) and the reading of an HTTP request's head
//! for stand-in SMS gateways. Included by both suites with `#[path]`, so it stays one file.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use serde_json::Value;
use tokio::io::{AsyncRead, AsyncReadExt};

/// Reads a request's head and answers its target (`/cgi-bin/sendsms?...`); `None` when the
/// client goes away before the head is complete.
pub async fn read_request_target(stream: &mut (impl AsyncRead + Unpin)) -> Option<String> {
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return None,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
    }
    let head = String::from_utf8_lossy(&head);
    Some(head.split(' ').nth(1).unwrap_or_default().to_owned())
}

/// A running aiosmtpd that writes each message it receives as a JSON line; killed when dropped,
/// pass or fail.
pub struct SmtpSink {
    child: Child,
    pub port: u16,
    out: PathBuf,
    _dir: tempfile::TempDir,
}

impl SmtpSink {
    pub fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        // Debian's python3-aiosmtpd is for the system Python, which a pyenv `python3` may hide.
        let python = if Path::new("/usr/bin/python3").exists() {
            "/usr/bin/python3"
        } else {
            "python3"
        };
        let out = dir.path().join("mail.jsonl");
        let errors = dir.path().join("sink.err");
        let sink_script =
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../testing/smtp/sink.py");
        let mut child = Command::new(python)
            .arg(sink_script)
            .arg("--out")
            .arg(&out)
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&errors).unwrap())
            .spawn()
            .expect("start the SMTP sink");
        let mut first = String::new();
        let _ = BufReader::new(child.stdout.take().unwrap()).read_line(&mut first);
        let Some(port) = first
            .trim()
            .strip_prefix("PORT=")
            .and_then(|p| p.parse().ok())
        else {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "the sink did not start: {}",
                std::fs::read_to_string(&errors).unwrap_or_default()
            );
        };
        Self {
            child,
            port,
            out,
            _dir: dir,
        }
    }

    /// Every message received so far, oldest first.
    pub fn received(&self) -> Vec<Value> {
        std::fs::read_to_string(&self.out)
            .unwrap_or_default()
            .lines()
            .filter_map(|line| serde_json::from_str(line).ok())
            .collect()
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
