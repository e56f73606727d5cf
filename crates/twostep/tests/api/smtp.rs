//! E-mail through a real SMTP server (Python's aiosmtpd, `testing/smtp/sink.py`):
//! the owner of an account receives the "update your application" e-mail, and
//! `twostep send-test-email` reaches the server.

use std::process::Command;

use delivery::{EmailProvider, EmailSender, EmailSettings, SmtpSettings, SmtpTls};
use serde_json::{Value, json};

use crate::helpers::*;
use crate::stand_ins::SmtpSink;

impl SmtpSink {
    fn sender(&self) -> EmailSender {
        let smtp = SmtpSettings {
            host: "127.0.0.1".into(),
            port: self.port,
            username: None,
            password: None,
            tls: SmtpTls::None,
            timeout_ms: 5000,
            retries: 2,
        };
        let settings = EmailSettings {
            from: "twostep <no-reply@twostep.test>".into(),
            provider: EmailProvider::Smtp(smtp),
        };
        EmailSender::from_settings(&settings, std::path::Path::new(".")).unwrap()
    }

    async fn wait_for(&self, subject: &str) -> Value {
        for _ in 0..250 {
            let about = |m: &Value| m["subject"].as_str().is_some_and(|s| s.contains(subject));
            if let Some(message) = self.received().into_iter().find(about) {
                return message;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        panic!(
            "the SMTP server received no message about {subject:?}: {:?}",
            self.received()
        );
    }
}

#[tokio::test]
#[ignore = "needs python3 aiosmtpd; run by .ci/run"]
async fn the_owner_of_an_account_receives_the_update_email_through_smtp() {
    let sink = SmtpSink::start();
    let app = TestApp::builder().email(sink.sender()).spawn().await;
    // Made through the store: a sign-up's confirmation link would go to the
    // sink, where the shared sign-up helper does not look for it.
    crate::limits::ann(&app, crate::limits::TwoStep::Sms).await;
    let body = json!({"email": "ann@example.com", "password": PASSWORD, "app_id": "photon-desktop", "app_version": "2.0.0", "device_name": "Office PC"});
    let (status, _) = post_json(&app, "/api/v1/apps/connect", body).await;
    assert_eq!(status, 403);
    let message = sink.wait_for("Update Photon Desktop").await;
    assert_eq!(message["rcpt_tos"], json!(["ann@example.com"]));
    let text = message["text"].as_str().unwrap();
    assert_says_all(
        text,
        &[
            "Photon Desktop 2.0.0",
            "Office PC",
            "Downloads section",
            "/downloads",
        ],
    );
    assert!(!text.contains(PASSWORD));
}

/// `twostep send-test-email --to ops@example.com` with an SMTP server on
/// loopback `port`, tried once.
fn send_test_email(port: u16) -> std::process::Output {
    let data_dir = tempfile::tempdir().unwrap();
    Command::new(env!("CARGO_BIN_EXE_twostep"))
        .args(["--data-dir", data_dir.path().to_str().unwrap()])
        .args(["send-test-email", "--to", "ops@example.com"])
        .env("TWOSTEP_EMAIL__PROVIDER", "smtp")
        .env("TWOSTEP_EMAIL__HOST", "127.0.0.1")
        .env("TWOSTEP_EMAIL__PORT", port.to_string())
        .env("TWOSTEP_EMAIL__TLS", "none")
        .env("TWOSTEP_EMAIL__RETRIES", "0")
        .output()
        .unwrap()
}

#[tokio::test]
#[ignore = "needs python3 aiosmtpd; run by .ci/run"]
async fn send_test_email_reaches_the_configured_smtp_server() {
    let sink = SmtpSink::start();
    let output = send_test_email(sink.port);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let message = sink.wait_for("Test e-mail from twostep").await;
    assert_eq!(message["rcpt_tos"], json!(["ops@example.com"]));
}

#[tokio::test]
async fn send_test_email_reports_a_server_that_does_not_answer() {
    let closed_port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let output = send_test_email(closed_port);
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("could not be sent"));
}
