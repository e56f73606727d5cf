//! The SMTP provider: a closed port, a bad recipient, and a real SMTP server (Python's aiosmtpd,
//! run by `testing/smtp/sink.py`) that writes what it receives as JSON lines.

use std::path::Path;
use std::time::{Duration, Instant};

use delivery::{
    DeliveryError, Email, EmailProvider, EmailSender, EmailSettings, SmtpSettings, SmtpTls,
};
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt};

use crate::helpers::{assert_unreachable_quickly, closed_port, wait_until};
use crate::stand_ins::SmtpSink;

fn smtp_settings(port: u16) -> SmtpSettings {
    SmtpSettings {
        host: "127.0.0.1".to_owned(),
        port,
        username: None,
        password: None,
        tls: SmtpTls::None,
        timeout_ms: 5000,
        retries: 2,
    }
}

fn sender(port: u16) -> EmailSender {
    let settings = EmailSettings {
        from: "twostep <no-reply@twostep.test>".to_owned(),
        provider: EmailProvider::Smtp(smtp_settings(port)),
    };
    EmailSender::from_settings(&settings, Path::new(".")).unwrap()
}

fn email(to: &str) -> Email {
    Email {
        to: to.to_owned(),
        subject: "Your twostep code".to_owned(),
        text: "Your code is 735190.\nIt expires in 10 minutes.".to_owned(),
    }
}

#[tokio::test]
async fn a_closed_smtp_port_is_an_smtp_error_quickly() {
    let port = closed_port();
    let start = Instant::now();

    let error = sender(port)
        .send(&email("ada@example.com"))
        .await
        .unwrap_err();

    let DeliveryError::Smtp { reason } = &error else {
        panic!("smtp error expected: {error:?}")
    };
    assert_unreachable_quickly(reason, port, start);
    assert!(!error.to_string().contains("735190"), "{error}");
}

#[tokio::test]
async fn a_recipient_that_is_not_an_address_is_refused_before_connecting() {
    for to in [
        "",
        "not an address",
        "a@b@c",
        "ada@example.com\r\nBcc: eve@example.com",
    ] {
        let error = sender(closed_port()).send(&email(to)).await.unwrap_err();
        assert!(
            matches!(error, DeliveryError::InvalidAddress { .. }),
            "{to:?}: {error:?}"
        );
    }
}

/// A plain-text SMTP server that greets, says yes to everything and offers no STARTTLS.
async fn plain_smtp_stub() -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let (read, mut write) = stream.into_split();
                let mut lines = tokio::io::BufReader::new(read).lines();
                let _ = write.write_all(b"220 stub ESMTP\r\n").await;
                while let Ok(Some(_)) = lines.next_line().await {
                    let _ = write.write_all(b"250 stub\r\n").await;
                }
            });
        }
    });
    port
}

#[tokio::test]
async fn tls_modes_refuse_a_server_without_tls_instead_of_sending_in_clear() {
    let port = plain_smtp_stub().await;
    for tls in [SmtpTls::Starttls, SmtpTls::Tls] {
        let smtp = SmtpSettings {
            tls,
            retries: 0,
            ..smtp_settings(port)
        };
        let settings = EmailSettings {
            provider: EmailProvider::Smtp(smtp),
            ..EmailSettings::default()
        };
        let sender = EmailSender::from_settings(&settings, Path::new(".")).unwrap();
        let error = sender.send(&email("ada@example.com")).await.unwrap_err();
        assert!(
            matches!(error, DeliveryError::Smtp { .. }),
            "{tls:?}: {error:?}"
        );
    }
}

#[tokio::test]
#[ignore = "needs python3 aiosmtpd; run by .ci/run"]
async fn an_email_reaches_a_real_smtp_server_as_plain_text() {
    let sink = SmtpSink::start();
    let sender = sender(sink.port);
    let unicode = Email {
        to: "Zoë <zoe@example.com>".to_owned(),
        subject: "Votre code — “twostep”".to_owned(),
        text: "Votre code est 246810. Il expire dans 10 minutes. ✓".to_owned(),
    };
    let injection = Email {
        subject: "Your code\r\nBcc: eve@example.com".to_owned(),
        ..email("bob@example.com")
    };

    sender.send(&email("ada@example.com")).await.unwrap();
    sender.send(&unicode).await.unwrap();
    sender.send(&injection).await.unwrap();

    let received = wait_until(Duration::from_secs(5), || {
        let received = sink.received();
        (received.len() == 3).then_some(received)
    })
    .await
    .expect("the sink received three messages");
    let text = |m: &Value| m["text"].as_str().unwrap().replace("\r\n", "\n");

    assert_eq!(received[0]["mail_from"], "no-reply@twostep.test");
    assert_eq!(
        received[0]["rcpt_tos"],
        serde_json::json!(["ada@example.com"])
    );
    assert_eq!(received[0]["subject"], "Your twostep code");
    assert_eq!(
        text(&received[0]).trim_end(),
        "Your code is 735190.\nIt expires in 10 minutes."
    );
    let data = received[0]["data"].as_str().unwrap();
    assert!(
        data.contains("From: twostep <no-reply@twostep.test>"),
        "{data}"
    );
    assert!(
        data.to_ascii_lowercase()
            .contains("content-type: text/plain"),
        "{data}"
    );

    assert_eq!(
        received[1]["rcpt_tos"],
        serde_json::json!(["zoe@example.com"])
    );
    assert_eq!(received[1]["subject"], unicode.subject);
    assert_eq!(text(&received[1]).trim_end(), unicode.text);

    assert_eq!(
        received[2]["rcpt_tos"],
        serde_json::json!(["bob@example.com"]),
        "no Bcc smuggled in"
    );
    assert!(!received[2]["data"].as_str().unwrap().contains("\nBcc:"));
}
