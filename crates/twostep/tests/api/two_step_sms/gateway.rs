//! SMS through a gateway over HTTP: a real Kannel end to end, and a gateway that
//! cannot be reached, which the person sees as one clear message.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use delivery::{KannelSettings, SmsSender, SmsSettings};
use tokio::io::AsyncWriteExt;

use super::*;
use crate::stand_ins::read_request_target;

/// A Kannel started by `scripts/kannel`; stopped when dropped, pass or fail.
struct Kannel {
    dir: PathBuf,
    env: HashMap<String, String>,
}

fn kannel_script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../scripts/kannel")
}

impl Kannel {
    fn start(dir: &Path) -> Self {
        let output = Command::new(kannel_script())
            .arg("start")
            .arg(dir)
            .output()
            .expect("run scripts/kannel");
        let env = String::from_utf8_lossy(&output.stdout)
            .lines()
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        // Built before the status is checked, so that a half-started Kannel is stopped too.
        let kannel = Self {
            dir: dir.to_owned(),
            env,
        };
        assert!(
            output.status.success(),
            "scripts/kannel start failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        kannel
    }

    fn get(&self, key: &str) -> String {
        self.env
            .get(key)
            .cloned()
            .unwrap_or_else(|| panic!("scripts/kannel printed no {key}"))
    }

    fn received(&self) -> String {
        std::fs::read_to_string(self.get("KANNEL_FAKESMSC_LOG")).unwrap_or_default()
    }
}

impl Drop for Kannel {
    fn drop(&mut self) {
        let _ = Command::new(kannel_script())
            .arg("stop")
            .arg(&self.dir)
            .status();
    }
}

fn kannel_sender(
    url: String,
    username: String,
    password: String,
    timeout_ms: u64,
    retries: u32,
) -> SmsSender {
    let settings = KannelSettings {
        url,
        username,
        password: password.into(),
        sender: "twostep".to_owned(),
        timeout_ms,
        retries,
        ca_file: None,
    };
    SmsSender::from_settings(&SmsSettings::Kannel(settings), Path::new("."))
        .expect("valid Kannel settings")
}

/// The portal sending SMS through a Kannel at `url` that may not answer: one
/// retry after a short timeout.
async fn app_with_a_kannel_at(url: String) -> TestApp {
    let sender = kannel_sender(url, "twostep".into(), "secret".into(), 1000, 1);
    TestApp::builder().sms(sender).spawn().await
}

#[tokio::test]
#[ignore = "needs Debian's kannel; run by .ci/run"]
async fn sms_two_step_is_set_up_with_a_code_that_travelled_through_a_real_kannel() {
    let dir = tempfile::tempdir().unwrap();
    let kannel = Kannel::start(dir.path());
    let sender = kannel_sender(
        kannel.get("KANNEL_SENDSMS_URL"),
        kannel.get("KANNEL_USERNAME"),
        kannel.get("KANNEL_PASSWORD"),
        5000,
        2,
    );
    let app = TestApp::builder().sms(sender).spawn().await;
    let browser = app.signed_up(EMAIL).await;
    browser.ask_for_phone_code(PhoneFlow::SetUp, PHONE).await;

    // fakesmsc prints `Got message N: <from to text TEXT>` for each SMS bearerbox hands it.
    let mut line = None;
    for _ in 0..100 {
        line = kannel
            .received()
            .lines()
            .find(|l| l.contains("Got message") && l.contains(PHONE_E164))
            .map(str::to_owned);
        if line.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let line =
        line.unwrap_or_else(|| panic!("fakesmsc got nothing; its log:\n{}", kannel.received()));
    assert!(
        line.contains("is your twostep security code for setting up two-step verification"),
        "{line}"
    );
    let text = &line[line.find(" text ").expect("a text field") + " text ".len()..];
    let code = text.split_whitespace().next().unwrap();
    assert!(
        code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit()),
        "{line}"
    );
    browser
        .enter_phone_code(PhoneFlow::SetUp, code)
        .await
        .assert_two_step_turned_on();
    assert!(shows_number(&browser, MASKED).await);
}

#[tokio::test]
async fn an_unreachable_sms_gateway_shows_a_clear_message_and_nothing_breaks() {
    let closed_port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{closed_port}/cgi-bin/sendsms");
    let app = app_with_a_kannel_at(url).await;
    let browser = app.signed_up(EMAIL).await;
    browser
        .enter_phone_password(PhoneFlow::SetUp, PASSWORD)
        .await
        .assert_redirect_to("/account/security/phone/set-up/number");

    let page = browser.enter_phone_number(PhoneFlow::SetUp, PHONE).await;

    assert_ne!(page.status, 500);
    assert_eq!(page.status, 422);
    page.assert_reads("We couldn't send the SMS. Try again in a minute.");
    assert!(
        page.contains(&format!("value=\"{PHONE}\"")),
        "the number typed is kept"
    );
    assert!(!page.contains("request id"));
    let tab = browser.get(SECURITY_TAB).await;
    assert_eq!(tab.status, 200, "the rest of the portal goes on working");
    assert!(
        tab.contains("action=\"/account/security/phone/set-up\""),
        "two-step verification stays off"
    );
}

/// A stand-in for Kannel's sendsms that accepts every SMS and keeps its text, until
/// shut down; then nothing listens on its port any more.
struct AcceptingGateway {
    url: String,
    texts: Arc<Mutex<Vec<String>>>,
    task: tokio::task::JoinHandle<()>,
}

impl AcceptingGateway {
    async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/cgi-bin/sendsms", listener.local_addr().unwrap());
        let texts = Arc::new(Mutex::new(Vec::new()));
        let kept = Arc::clone(&texts);
        let task = tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                let Some(target) = read_request_target(&mut stream).await else {
                    continue;
                };
                let url = reqwest::Url::parse(&format!("http://gateway{target}")).unwrap();
                if let Some((_, text)) = url.query_pairs().find(|(k, _)| k == "text") {
                    kept.lock().unwrap().push(text.into_owned());
                }
                let body = "0: Accepted for delivery";
                let answer = format!(
                    "HTTP/1.1 202 Accepted\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = stream.write_all(answer.as_bytes()).await;
            }
        });
        Self { url, texts, task }
    }

    fn last_code(&self) -> String {
        let texts = self.texts.lock().unwrap();
        texts
            .last()
            .expect("an SMS reached the gateway")
            .split_whitespace()
            .next()
            .unwrap()
            .to_owned()
    }

    /// Stops listening: from now on the gateway is unreachable.
    async fn shut_down(self) {
        self.task.abort();
        let _ = self.task.await;
    }
}

#[tokio::test]
async fn when_the_gateway_goes_down_signing_in_says_the_sms_could_not_be_sent() {
    let gateway = AcceptingGateway::start().await;
    let app = app_with_a_kannel_at(gateway.url.clone()).await;
    let browser = app.signed_up(EMAIL).await;
    browser.ask_for_phone_code(PhoneFlow::SetUp, PHONE).await;
    let code = gateway.last_code();
    browser
        .enter_phone_code(PhoneFlow::SetUp, &code)
        .await
        .assert_two_step_turned_on();
    gateway.shut_down().await;

    let signing_in = app.browser();
    let page = signing_in.sign_in(EMAIL, PASSWORD).await;

    page.assert_redirect_to("/sign-in/verify?error=sms_not_sent");
    let page = signing_in.get("/sign-in/verify?error=sms_not_sent").await;
    assert_eq!(page.status, 422);
    page.assert_reads("We couldn't send the SMS. Try again in a minute.");
    signing_in.get("/account").await.assert_signed_out();
}
