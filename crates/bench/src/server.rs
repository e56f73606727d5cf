//! The release `twostep` as a child process: a config file written for it, a fresh
//! data directory, its database, only 127.0.0.1, and its resident memory read
//! from /proc.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use domain::Argon2Params;

use crate::database::Database;
use crate::error::{BenchError, Result};
use crate::flows::Http;

pub struct Server {
    child: tokio::process::Child,
    pid: u32,
    pub base: String,
    log: PathBuf,
}

impl Server {
    /// Starts `binary` on a free local port with `data_dir` and `database`
    /// (already seeded) and waits until /healthz answers.
    pub async fn start(
        binary: &Path,
        data_dir: &Path,
        database: &Database,
        server_key_hex: &str,
        params: Argon2Params,
    ) -> Result<Server> {
        let port = free_port()?;
        let base = format!("http://127.0.0.1:{port}");
        let config = data_dir.join("twostep.toml");
        // On SQLite the server finds its file in the data directory by itself.
        let database_url = match database {
            Database::Sqlite { .. } => String::new(),
            Database::Postgres { url, .. } => url.clone(),
        };
        std::fs::write(
            &config,
            format!(
                "listen = \"127.0.0.1:{port}\"\n\
                 data_dir = {data_dir:?}\n\
                 database_url = {database_url:?}\n\
                 public_url = \"{base}\"\n\
                 server_key = \"{server_key_hex}\"\n\
                 \n\
                 [password_hash]\n\
                 memory_kib = {}\n\
                 iterations = {}\n\
                 parallelism = {}\n",
                params.memory_kib, params.iterations, params.parallelism
            ),
        )?;
        let log = data_dir.join("twostep.log");
        let log_file = std::fs::File::create(&log)?;
        let mut command = tokio::process::Command::new(binary);
        command
            .arg("--config")
            .arg(&config)
            .arg("serve")
            .stdin(Stdio::null())
            .stdout(log_file.try_clone()?)
            .stderr(log_file)
            .env("RUST_LOG", "info")
            .kill_on_drop(true);
        // Only the config file written here decides how the server runs.
        for (name, _) in std::env::vars_os() {
            if name.to_string_lossy().starts_with("TWOSTEP_") {
                command.env_remove(name);
            }
        }
        let mut child = command
            .spawn()
            .map_err(|e| BenchError::new(format!("cannot start {}: {e}", binary.display())))?;
        let pid = child
            .id()
            .ok_or_else(|| BenchError::new("the server exited at once"))?;
        let http = Http::new(&base, 1)?;
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(status) = child.try_wait()? {
                return Err(BenchError::new(format!(
                    "the server exited with {status}:\n{}",
                    tail(&log)
                )));
            }
            if http.healthz().await.is_ok() {
                break;
            }
            if Instant::now() > deadline {
                return Err(BenchError::new(format!(
                    "the server did not answer /healthz within a minute:\n{}",
                    tail(&log)
                )));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Ok(Server {
            child,
            pid,
            base,
            log,
        })
    }

    /// Resident set size in MiB, from VmRSS in /proc/PID/status.
    pub fn rss_mb(&self) -> Result<f64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid))?;
        let kib: f64 = status
            .lines()
            .find_map(|line| line.strip_prefix("VmRSS:"))
            .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
            .ok_or_else(|| BenchError::new("no VmRSS in /proc/PID/status"))?;
        Ok(kib / 1024.0)
    }

    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// Fails when the server has died (e.g. between measurements).
    pub fn check_running(&mut self) -> Result<()> {
        match self.child.try_wait()? {
            None => Ok(()),
            Some(status) => Err(BenchError::new(format!(
                "the server exited with {status}:\n{}",
                tail(&self.log)
            ))),
        }
    }

    pub async fn stop(mut self) -> Result<()> {
        self.child.start_kill()?;
        self.child.wait().await?;
        Ok(())
    }
}

pub fn free_port() -> Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(listener.local_addr()?.port())
}

fn tail(log: &Path) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(20)..].join("\n")
}
