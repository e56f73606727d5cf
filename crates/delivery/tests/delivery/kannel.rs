//! The Kannel provider against a real Kannel (Debian's bearerbox, smsbox and fakesmsc), started
//! by `scripts/kannel` in a temporary folder.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use delivery::{DeliveryError, KannelSettings, Sms, SmsSender, SmsSettings};

use crate::helpers::{repo_root, wait_until};

/// A running Kannel; stops it when dropped, whether the test passed or not.
struct Kannel {
    dir: PathBuf,
    env: HashMap<String, String>,
}

impl Kannel {
    fn start(dir: &Path) -> Self {
        let output = Command::new(repo_root().join("scripts/kannel"))
            .arg("start")
            .arg(dir)
            .output()
            .expect("run scripts/kannel");
        // Built before checking the status, so that a half-started Kannel is stopped too.
        let kannel = Self {
            dir: dir.to_owned(),
            env: parse_env(&String::from_utf8_lossy(&output.stdout)),
        };
        assert!(
            output.status.success(),
            "scripts/kannel start failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        kannel
    }

    fn get(&self, key: &str) -> &str {
        self.env
            .get(key)
            .unwrap_or_else(|| panic!("scripts/kannel printed no {key}"))
    }

    fn settings(&self) -> KannelSettings {
        KannelSettings {
            url: self.get("KANNEL_SENDSMS_URL").to_owned(),
            username: self.get("KANNEL_USERNAME").to_owned(),
            password: self.get("KANNEL_PASSWORD").into(),
            sender: "twostep".to_owned(),
            timeout_ms: 5000,
            retries: 2,
            ca_file: None,
        }
    }

    fn received(&self) -> String {
        std::fs::read_to_string(self.get("KANNEL_FAKESMSC_LOG")).unwrap_or_default()
    }
}

impl Drop for Kannel {
    fn drop(&mut self) {
        let _ = Command::new(repo_root().join("scripts/kannel"))
            .arg("stop")
            .arg(&self.dir)
            .status();
    }
}

fn parse_env(text: &str) -> HashMap<String, String> {
    text.lines()
        .filter_map(|line| line.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

fn sms_to_the_fake_phone(text: &str) -> Sms {
    Sms {
        to: "+16502530000".to_owned(),
        text: text.to_owned(),
    }
}

fn sender(settings: KannelSettings) -> SmsSender {
    SmsSender::from_settings(&SmsSettings::Kannel(settings), Path::new(".")).unwrap()
}

#[tokio::test]
#[ignore = "needs Debian's kannel; run by .ci/run"]
async fn an_sms_sent_through_kannel_reaches_the_fake_phone_network() {
    let dir = tempfile::tempdir().unwrap();
    let kannel = Kannel::start(dir.path());
    let sms = sms_to_the_fake_phone("Your twostep code is 482913. It expires in 10 minutes.");

    sender(kannel.settings()).send(&sms).await.unwrap();

    // fakesmsc prints `Got message N: <from to text ...>` for each SMS bearerbox hands it.
    let line = wait_until(Duration::from_secs(10), || {
        kannel
            .received()
            .lines()
            .find(|line| line.contains("Got message"))
            .map(str::to_owned)
    })
    .await
    .unwrap_or_else(|| panic!("fakesmsc got nothing; its log:\n{}", kannel.received()));
    assert!(line.contains(&sms.to), "{line}");
    assert!(line.contains(&sms.text), "{line}");
}

#[tokio::test]
#[ignore = "needs Debian's kannel; run by .ci/run"]
async fn kannel_refuses_a_wrong_password_and_nothing_is_sent() {
    let dir = tempfile::tempdir().unwrap();
    let kannel = Kannel::start(dir.path());
    let settings = KannelSettings {
        password: "wrong".into(),
        ..kannel.settings()
    };
    let sms = sms_to_the_fake_phone("Your code is 111111");

    let error = sender(settings).send(&sms).await.unwrap_err();

    let DeliveryError::GatewayRefused { reason } = &error else {
        panic!("refusal expected: {error:?}")
    };
    assert!(reason.contains("Authorization failed"), "{reason}");
    assert!(
        !kannel.received().contains("Got message"),
        "{}",
        kannel.received()
    );
}
