//! Two `twostep serve` processes on one PostgreSQL database behind Debian's
//! nginx in round robin (`scripts/nginx-two-instances.conf.template`, the
//! configuration README shows), behaving as one: an account made through one
//! signs in through the other, a sign-in begun on one finishes on the other, a
//! code sent by one is accepted by the other, and a hundred wrong attempts
//! spread over both are checked no more often than the limit allows.
//!
//! The instances share the server key and a data directory, whose development
//! outbox holds the codes they send. `#[ignore]`d: it needs nginx and PostgreSQL,
//! which `.ci/run` installs and starts.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use reqwest::cookie::Jar;
use reqwest::redirect::Policy;
use serde_json::{Value, json};

use crate::app::{PostgresDatabase, postgres_server};
use crate::helpers::{Browser, PASSWORD, PHONE, PHONE_E164, PhoneFlow};

const TEMPLATE: &str = include_str!("../../../../scripts/nginx-two-instances.conf.template");
const ATTEMPTS: usize = 100;

/// The two instances, nginx in front of them, and what they share.
struct TwoInstances {
    /// nginx's address, as a person's browser reaches the service.
    nginx: String,
    /// Each instance's own address, to send a request to one of them.
    instances: [String; 2],
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
    async fn start() -> Self {
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
    fn browser(&self, base: &str) -> Browser {
        let jar = Arc::new(Jar::default());
        let client = reqwest::Client::builder()
            .cookie_provider(jar.clone())
            .redirect(Policy::none())
            .build()
            .unwrap();
        Browser {
            client,
            jar,
            base: base.to_owned(),
        }
    }

    /// The SMS sent so far, oldest first, from the shared outbox.
    fn sms(&self) -> Vec<Value> {
        let path = self.data_dir.path().join("outbox").join("sms.jsonl");
        std::fs::read_to_string(path)
            .unwrap_or_default()
            .lines()
            .map(|line| serde_json::from_str(line).expect("one JSON object a line"))
            .collect()
    }

    /// The code in the last SMS to `e164`, by whichever instance sent it.
    fn last_sms_code(&self, e164: &str) -> String {
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

    /// Which instance nginx sent each of `requests` health checks to (they
    /// redirect nowhere: a followed redirect would be a second request).
    async fn upstreams(&self, requests: usize) -> Vec<String> {
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

/// The same browser (client and cookies), its requests going to `base`.
fn at(browser: &Browser, base: &str) -> Browser {
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

#[tokio::test]
#[ignore = "needs nginx and PostgreSQL; run by .ci/run"]
async fn two_instances_behind_nginx_share_accounts_sign_ins_and_codes() {
    let cluster = TwoInstances::start().await;
    let [first, second] = &cluster.instances;
    let upstreams = cluster.upstreams(4).await;
    assert!(
        upstreams[0] != upstreams[1] && upstreams[0] == upstreams[2],
        "nginx takes turns between {:?}: {upstreams:?}{}",
        cluster.instances,
        cluster.logs()
    );

    // Signed up through the first; a code requested through it is accepted by the second.
    let ann = cluster.browser(first);
    ann.sign_up("ann@example.com", PASSWORD)
        .await
        .assert_redirect_to("/account");
    ann.ask_for_phone_code(PhoneFlow::SetUp, PHONE).await;
    let code = cluster.last_sms_code(PHONE_E164);
    at(&ann, second)
        .enter_phone_code(PhoneFlow::SetUp, &code)
        .await
        .assert_redirect_to("/account/settings/security?notice=two_step_on");
    at(&ann, &cluster.nginx).sign_out().await;

    // A sign-in begun on the second finishes on the first.
    let sent_before = cluster.sms().len();
    let again = cluster.browser(second);
    again
        .sign_in("ann@example.com", PASSWORD)
        .await
        .assert_redirect_to("/sign-in/verify");
    assert_eq!(
        cluster.sms().len(),
        sent_before + 1,
        "one code for the sign-in"
    );
    let code = cluster.last_sms_code(PHONE_E164);
    at(&again, first).assert_sign_in_code_accepted(&code).await;

    // Signed in on both: through nginx, each request to either instance.
    let through_nginx = at(&again, &cluster.nginx);
    for _ in 0..4 {
        let tab = through_nginx.get("/account/settings/security").await;
        assert_eq!(tab.status, 200, "{}", tab.body);
        assert!(tab.contains("+1 ••• ••• 0000"));
    }
    // The code was used up on the first: the second refuses it too.
    let replay = cluster.browser(second);
    replay.sign_in("ann@example.com", PASSWORD).await;
    let reused = replay.enter_sign_in_code(&code).await;
    assert_eq!(
        reused.status, 422,
        "a code is accepted once, on any instance"
    );
}

#[tokio::test]
#[ignore = "needs nginx and PostgreSQL; run by .ci/run"]
async fn a_hundred_wrong_codes_spread_over_both_instances_are_checked_five_times() {
    let cluster = TwoInstances::start().await;
    let ann = cluster.browser(&cluster.nginx);
    ann.sign_up("ann@example.com", PASSWORD)
        .await
        .assert_redirect_to("/account");
    ann.ask_for_phone_code(PhoneFlow::SetUp, PHONE).await;
    ann.enter_phone_code(PhoneFlow::SetUp, &cluster.last_sms_code(PHONE_E164))
        .await
        .assert_redirect_to("/account/settings/security?notice=two_step_on");
    ann.sign_out().await;

    let intruder = cluster.browser(&cluster.nginx);
    intruder
        .sign_in("ann@example.com", PASSWORD)
        .await
        .assert_redirect_to("/sign-in/verify");
    let right = cluster.last_sms_code(PHONE_E164);
    let wrong = if right == "000000" {
        "111111"
    } else {
        "000000"
    };
    let token = intruder.get("/sign-in/verify").await.csrf_token();
    let tasks: Vec<_> = (0..ATTEMPTS)
        .map(|attempt| {
            let url = format!("{}/sign-in/verify", cluster.instances[attempt % 2]);
            let (client, token) = (intruder.client.clone(), token.clone());
            tokio::spawn(async move {
                let fields = [("csrf_token", token.as_str()), ("code", wrong)];
                let page = client.post(url).form(&fields).send().await.unwrap();
                page.text().await.unwrap()
            })
        })
        .collect();
    let mut attempts_left = Vec::new();
    let mut too_many = 0;
    for task in tasks {
        let page = task.await.unwrap();
        // "That code isn't right. N attempts left." (the apostrophe escaped).
        if let Some(at) = page.find(" right. ") {
            attempts_left.push(page[at..].chars().find(char::is_ascii_digit));
        } else {
            assert!(page.contains("Too many wrong codes."), "{page}");
            too_many += 1;
        }
    }
    attempts_left.sort();
    assert_eq!(
        attempts_left,
        [Some('1'), Some('2'), Some('3'), Some('4')],
        "five wrong entries were checked between both instances, no more"
    );
    assert_eq!(too_many, ATTEMPTS - 4);
    let page = intruder.enter_sign_in_code(&right).await;
    assert!(
        page.contains("Too many wrong codes."),
        "the right code after them is refused unchecked: {}",
        page.body
    );
}

#[tokio::test]
#[ignore = "needs nginx and PostgreSQL; run by .ci/run"]
async fn a_hundred_wrong_passwords_spread_over_both_instances_are_checked_ten_times() {
    let cluster = TwoInstances::start().await;
    cluster
        .browser(&cluster.nginx)
        .sign_up("ann@example.com", PASSWORD)
        .await
        .assert_redirect_to("/account");
    let connect = |password: &str, base: &str| {
        let body = json!({"email": "ann@example.com", "password": password,
            "app_id": "photon-desktop", "app_version": "3.2.0", "device_name": "Ann's laptop"});
        let url = format!("{base}/api/v1/apps/connect");
        async move {
            let answer = reqwest::Client::new()
                .post(url)
                .json(&body)
                .send()
                .await
                .unwrap();
            let body: Value = answer.json().await.unwrap_or(Value::Null);
            body["error"].as_str().unwrap_or_default().to_owned()
        }
    };
    let tasks: Vec<_> = (0..ATTEMPTS)
        .map(|attempt| tokio::spawn(connect("wrong password", &cluster.instances[attempt % 2])))
        .collect();
    let mut checked = 0;
    let mut refused = 0;
    for task in tasks {
        match task.await.unwrap().as_str() {
            "invalid_credentials" => checked += 1,
            "too_many_attempts" => refused += 1,
            other => panic!("unexpected answer {other:?}"),
        }
    }
    assert_eq!(
        (checked, refused),
        (10, ATTEMPTS - 10),
        "ten checked between both"
    );
    assert_eq!(
        connect(PASSWORD, &cluster.nginx).await,
        "too_many_attempts",
        "the right password after them is refused unchecked"
    );
}
