//! Debian's nginx as a child process in front of the instances: its own
//! configuration in a temporary directory (pid file, logs and buffers there too),
//! listening on a free port of 127.0.0.1, with the `upstream` and `server` of
//! `scripts/nginx-two-instances.conf.template`, the file README.md shows.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::error::{BenchError, Result};
use crate::flows::Http;

/// The configuration an operator puts in nginx's `http` block.
pub const TEMPLATE: &str = include_str!("../../../scripts/nginx-two-instances.conf.template");

/// `nginx` given on the command line, on the PATH, or Debian's.
pub fn find(given: Option<PathBuf>) -> Result<PathBuf> {
    let path_dirs = std::env::var_os("PATH")
        .map(|path| std::env::split_paths(&path).collect::<Vec<_>>())
        .unwrap_or_default();
    given
        .into_iter()
        .chain(path_dirs.into_iter().map(|dir| dir.join("nginx")))
        .chain([PathBuf::from("/usr/sbin/nginx")])
        .find(|candidate| candidate.is_file())
        .ok_or_else(|| {
            BenchError::new(
                "no nginx found: install Debian's (apt-get install -y nginx) or pass --nginx",
            )
        })
}

/// The template with its addresses filled in.
pub fn render(listen: &str, instances: [&str; 2]) -> String {
    TEMPLATE
        .replace("{{listen}}", listen)
        .replace("{{instance_1}}", instances[0])
        .replace("{{instance_2}}", instances[1])
}

pub struct Nginx {
    child: tokio::process::Child,
    pid: u32,
    pub base: String,
    _dir: tempfile::TempDir,
}

impl Nginx {
    /// Starts nginx in front of `instances` (`host:port`; one may be named twice,
    /// for one instance behind the same configuration) and waits until /healthz
    /// answers through it.
    pub async fn start(binary: &Path, instances: [&str; 2]) -> Result<Nginx> {
        let dir = tempfile::Builder::new()
            .prefix("twostep-bench-nginx-")
            .tempdir()?;
        let listen = format!("127.0.0.1:{}", crate::server::free_port()?);
        let base = format!("http://{listen}");
        let site = dir.path().join("twostep.conf");
        std::fs::write(&site, render(&listen, instances))?;
        let config = dir.path().join("nginx.conf");
        std::fs::write(&config, main_config(dir.path(), &site))?;
        let error_log = dir.path().join("error.log");
        let mut command = tokio::process::Command::new(binary);
        command
            .arg("-p")
            .arg(dir.path())
            .arg("-e")
            .arg(&error_log)
            .arg("-c")
            .arg(&config)
            .args(["-g", "daemon off;"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.path().join("stderr.log"))?);
        let child = command
            .spawn()
            .map_err(|e| BenchError::new(format!("cannot start {}: {e}", binary.display())))?;
        let pid = child
            .id()
            .ok_or_else(|| BenchError::new("nginx exited at once"))?;
        let mut nginx = Nginx {
            child,
            pid,
            base,
            _dir: dir,
        };
        let http = Http::new(&nginx.base, 1)?;
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(status) = nginx.child.try_wait()? {
                return Err(BenchError::new(format!(
                    "nginx exited with {status}:\n{}\n{}",
                    read(&error_log),
                    read(&nginx._dir.path().join("stderr.log"))
                )));
            }
            if http.healthz().await.is_ok() {
                return Ok(nginx);
            }
            if Instant::now() > deadline {
                return Err(BenchError::new(format!(
                    "/healthz did not answer through nginx within 20 s:\n{}",
                    read(&error_log)
                )));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The master process; its workers are its children.
    pub fn pid(&self) -> u32 {
        self.pid
    }

    pub async fn stop(mut self) -> Result<()> {
        terminate(self.pid);
        self.child.wait().await?;
        Ok(())
    }
}

impl Drop for Nginx {
    /// SIGTERM, not SIGKILL: the master then stops its workers, which a killed
    /// master would leave running, holding the port.
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            terminate(self.pid);
        }
    }
}

fn terminate(pid: u32) {
    let _ = std::process::Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status();
}

/// Everything outside the template: where nginx keeps its files, no access log
/// (a line per request would be the proxy's main cost), one worker per core.
fn main_config(dir: &Path, site: &Path) -> String {
    let d = dir.display();
    format!(
        "worker_processes auto;\n\
         pid {d}/nginx.pid;\n\
         error_log {d}/error.log warn;\n\
         events {{\n    worker_connections 1024;\n}}\n\
         http {{\n    \
             access_log off;\n    \
             client_body_temp_path {d}/client_body;\n    \
             proxy_temp_path {d}/proxy;\n    \
             fastcgi_temp_path {d}/fastcgi;\n    \
             uwsgi_temp_path {d}/uwsgi;\n    \
             scgi_temp_path {d}/scgi;\n    \
             include {};\n\
         }}\n",
        site.display()
    )
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rendered_configuration_names_both_instances_and_leaves_no_placeholder() {
        let site = render("127.0.0.1:8080", ["127.0.0.1:8081", "127.0.0.1:8082"]);
        assert!(site.contains("listen 127.0.0.1:8080;"));
        assert!(site.contains("server 127.0.0.1:8081;"));
        assert!(site.contains("server 127.0.0.1:8082;"));
        assert!(!site.contains("{{"), "{site}");
    }

    #[test]
    fn the_readme_shows_the_configuration_the_benchmark_uses() {
        let readme = include_str!("../../../README.md");
        assert!(
            readme.contains(TEMPLATE),
            "README.md's \"Run several instances\" must show scripts/nginx-two-instances.conf.template verbatim"
        );
    }
}
