//! The harness of the two-instance tests: two `twostep serve` processes on a
//! fresh PostgreSQL database, sharing the server key and a data directory (its
//! development outbox holds the codes they send), and nginx in front of them
//! with `scripts/nginx-two-instances.conf.template`, all stopped when dropped.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::Value;

use crate::app::{PostgresDatabase, postgres_server};
use crate::helpers::Browser;

const TEMPLATE: &str = include_str!("../../../../../scripts/nginx-two-instances.conf.template");

/// The two instances, nginx in front of them, and what they share.
pub struct TwoInstances {
    /// nginx's address, as a person's browser reaches the service.
    pub nginx: String,
    /// Each instance's own address, to send a request to one of them.
    pub instances: [String; 2],
    data_dir: tempfile::TempDir,
    children: Vec<Child>,
    _database: PostgresDatabase,
}

impl Drop for TwoInstances {
    fn drop(&mut self) {
        for child in &mut self.children {
            // SIGTERM: nginx's master then stops its workers, which a SIGKILL
            // would leave behind, still listening.
            let terminated = Command::new("kill")
                .args(["-TERM", &child.id().to_string()])
                .status();
            if !terminated.is_ok_and(|status| status.success()) {
                child.kill().ok();
            }
            child.wait().ok();
        }
    }
}

/// Three ports nothing listens on: held together while chosen, so that they differ.
fn free_ports() -> [u16; 3] {
    let listeners = [(); 3].map(|()| std::net::TcpListener::bind("127.0.0.1:0").unwrap());
    listeners.map(|listener| listener.local_addr().unwrap().port())
}

impl TwoInstances {
    pub async fn start() -> Self {
        let database = PostgresDatabase::create(&postgres_server()).await;
        let data_dir = tempfile::tempdir().unwrap();
        let key = domain::ServerKey::generate_hex();
        let [first, second, listen] = free_ports();
        let nginx = format!("http://127.0.0.1:{listen}");
        let mut children = Vec::new();
        let mut instances = Vec::new();
        for port in [first, second] {
            let log =
                std::fs::File::create(data_dir.path().join(format!("twostep-{port}.log"))).unwrap();
            children.push(
                Command::new(env!("CARGO_BIN_EXE_twostep"))
                    .arg("--data-dir")
                    .arg(data_dir.path())
                    .args(["--listen", &format!("127.0.0.1:{port}"), "serve"])
                    .env("TWOSTEP_DATABASE_URL", &database.url)
                    .env("TWOSTEP_SERVER_KEY", &key)
                    .env("TWOSTEP_PUBLIC_URL", &nginx)
                    .env("TWOSTEP_PASSWORD_HASH__MEMORY_KIB", "256")
                    .env("TWOSTEP_PASSWORD_HASH__ITERATIONS", "1")
                    .env("RUST_LOG", "warn")
                    .stdout(Stdio::null())
                    .stderr(log)
                    .spawn()
                    .expect("twostep starts"),
            );
            instances.push(format!("http://127.0.0.1:{port}"));
        }
        children.push(start_nginx(data_dir.path(), [first, second], listen));
        let mut cluster = Self {
            nginx,
            instances: [instances[0].clone(), instances[1].clone()],
            data_dir,
            children,
            _database: database,
        };
        let addresses =
            [&cluster.instances[0], &cluster.instances[1], &cluster.nginx].map(|a| a.clone());
        for address in addresses {
            cluster.wait_until_healthy(&address).await;
        }
        cluster
    }

    async fn wait_until_healthy(&mut self, address: &str) {
        let client = reqwest::Client::new();
        for _ in 0..100 {
            for child in &mut self.children {
                if let Ok(Some(status)) = child.try_wait() {
                    panic!("a process stopped ({status}): {}", self.logs());
                }
            }
            let answer = client.get(format!("{address}/healthz")).send().await;
            if answer.is_ok_and(|answer| answer.status().is_success()) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("{address} did not answer: {}", self.logs());
    }

    /// What the instances and nginx logged, for a failure's message.
    fn logs(&self) -> String {
        let mut logs = String::new();
        for entry in std::fs::read_dir(self.data_dir.path()).unwrap().flatten() {
            if entry.path().extension().is_some_and(|e| e == "log") {
                let text = std::fs::read_to_string(entry.path()).unwrap_or_default();
                logs += &format!("\n{}:\n{text}", entry.path().display());
            }
        }
        logs
    }

    /// A browser of its own whose requests go to `base`; [`at`] sends the same
    /// browser (its cookies) elsewhere. Cookies do not depend on the port, so
    /// both instances and nginx see the same ones, as behind one name.
    pub fn browser(&self, base: &str) -> Browser {
        Browser::new(base)
    }

    /// The SMS sent so far, oldest first, from the shared outbox.
    pub fn sms(&self) -> Vec<Value> {
        self.outbox("sms.jsonl")
    }

    /// The e-mails sent so far, oldest first, from the shared outbox.
    pub fn emails(&self) -> Vec<Value> {
        self.outbox("email.jsonl")
    }

    fn outbox(&self, file: &str) -> Vec<Value> {
        let path = self.data_dir.path().join("outbox").join(file);
        std::fs::read_to_string(path)
            .unwrap_or_default()
            .lines()
            .map(|line| serde_json::from_str(line).expect("one JSON object a line"))
            .collect()
    }

    /// The code in the last SMS to `e164`, by whichever instance sent it.
    pub fn last_sms_code(&self, e164: &str) -> String {
        let sms = self.sms();
        let last = sms
            .iter()
            .rev()
            .find(|sms| sms["to"] == e164)
            .expect("an SMS was sent to this number");
        last["text"]
            .as_str()
            .unwrap()
            .split_whitespace()
            .next()
            .unwrap()
            .to_owned()
    }

    /// `browser` signs up with `email` and `password`, confirms the address
    /// with the link from the outbox and signs in, wherever it is sent.
    pub async fn sign_up_confirmed(&self, browser: &Browser, email: &str, password: &str) {
        browser.sign_up(email, password).await.assert_checks_email();
        // E-mails go out in the background.
        let mut text = None;
        for _ in 0..100 {
            text = self
                .emails()
                .iter()
                .rev()
                .find(|e| e["to"] == email && e["subject"] == "Confirm your e-mail address")
                .and_then(|e| e["text"].as_str().map(str::to_owned));
            if text.is_some() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let text = text.expect("a confirmation e-mail");
        let token = text
            .split_whitespace()
            .find_map(|word| word.split_once("/confirm-email?token=").map(|(_, t)| t))
            .expect("a confirmation link")
            .to_owned();
        browser.post("/confirm-email", &[("token", &token)]).await;
        browser
            .sign_in(email, password)
            .await
            .assert_redirect_to("/account");
    }

    /// Sends `attempts` copies of one API request at once, taking turns
    /// between the two instances; the error codes answered, counted.
    pub async fn spread_over_both(
        &self,
        attempts: usize,
        path: &str,
        body: &Value,
    ) -> BTreeMap<String, usize> {
        let tasks: Vec<_> = (0..attempts)
            .map(|attempt| {
                let (base, path, body) = (
                    self.instances[attempt % 2].clone(),
                    path.to_owned(),
                    body.clone(),
                );
                tokio::spawn(async move { post_api(&base, &path, &body).await.1 })
            })
            .collect();
        let mut answers = BTreeMap::new();
        for task in tasks {
            *answers.entry(task.await.unwrap()).or_default() += 1;
        }
        answers
    }

    /// Which instance nginx sent each of `requests` health checks to (they
    /// redirect nowhere: a followed redirect would be a second request).
    pub async fn upstreams(&self, requests: usize) -> Vec<String> {
        let mut upstreams = Vec::new();
        for _ in 0..requests {
            let answer = reqwest::get(format!("{}/healthz", self.nginx))
                .await
                .unwrap();
            let upstream = answer.headers()["x-upstream"].to_str().unwrap().to_owned();
            upstreams.push(upstream);
        }
        upstreams
    }
}

/// POSTs `body` as JSON to the API at `base`, as a client application does:
/// the status and the JSON answer (null if the answer is not JSON).
pub async fn post_json(base: &str, path: &str, body: &Value) -> (u16, Value) {
    let answer = reqwest::Client::new()
        .post(format!("{base}{path}"))
        .json(body)
        .send()
        .await
        .unwrap();
    let status = answer.status().as_u16();
    (status, answer.json().await.unwrap_or(Value::Null))
}

/// The status and the API's error code ("" for none) of [`post_json`].
pub async fn post_api(base: &str, path: &str, body: &Value) -> (u16, String) {
    let (status, body) = post_json(base, path, body).await;
    (
        status,
        body["error"].as_str().unwrap_or_default().to_owned(),
    )
}

/// The same browser (client and cookies), its requests going to `base`.
pub fn at(browser: &Browser, base: &str) -> Browser {
    Browser {
        client: browser.client.clone(),
        jar: browser.jar.clone(),
        base: base.to_owned(),
    }
}

/// nginx as a child process, with the template inside a configuration of its
/// own: its files in `dir`, and each answer saying which instance made it.
fn start_nginx(dir: &Path, instances: [u16; 2], listen: u16) -> Child {
    let site = TEMPLATE
        .replace("{{instance_1}}", &format!("127.0.0.1:{}", instances[0]))
        .replace("{{instance_2}}", &format!("127.0.0.1:{}", instances[1]))
        .replace("{{listen}}", &format!("127.0.0.1:{listen}"));
    let nginx_dir = dir.join("nginx");
    std::fs::create_dir_all(&nginx_dir).unwrap();
    let path = |name: &str| -> PathBuf { nginx_dir.join(name) };
    let conf = format!(
        "worker_processes 1;
pid {pid};
error_log {error_log} warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {temp}/body;
    proxy_temp_path {temp}/proxy;
    fastcgi_temp_path {temp}/fastcgi;
    uwsgi_temp_path {temp}/uwsgi;
    scgi_temp_path {temp}/scgi;
    # For the test only: which instance answered.
    add_header X-Upstream $upstream_addr always;
{site}
}}
",
        pid = path("nginx.pid").display(),
        error_log = dir.join("nginx-error.log").display(),
        temp = nginx_dir.display(),
    );
    let conf_path = path("nginx.conf");
    std::fs::write(&conf_path, conf).unwrap();
    Command::new(nginx_binary())
        .arg("-p")
        .arg(&nginx_dir)
        .arg("-e")
        .arg(dir.join("nginx-error.log"))
        .arg("-c")
        .arg(&conf_path)
        .args(["-g", "daemon off;"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("nginx starts (apt-get install nginx)")
}

fn nginx_binary() -> &'static str {
    ["/usr/sbin/nginx", "/usr/local/sbin/nginx"]
        .into_iter()
        .find(|path| Path::new(path).exists())
        .unwrap_or("nginx")
}
