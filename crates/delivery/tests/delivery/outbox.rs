//! The development outbox: its file format, read-back order and concurrent appends.

use std::path::Path;

use delivery::{
    Channel, Email, EmailSender, EmailSettings, Sms, SmsSender, SmsSettings, read_outbox,
};
use serde_json::Value;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

fn sms_sender(data_dir: &Path) -> SmsSender {
    SmsSender::from_settings(&SmsSettings::Outbox, data_dir).unwrap()
}

fn email_sender(data_dir: &Path) -> EmailSender {
    EmailSender::from_settings(&EmailSettings::default(), data_dir).unwrap()
}

/// An SMS to `to` saying `text`, written to the outbox in `data_dir`.
async fn send_to_outbox(data_dir: &Path, to: &str, text: &str) {
    sms_sender(data_dir).send(&sms(to, text)).await.unwrap();
}

fn sms(to: &str, text: &str) -> Sms {
    Sms {
        to: to.to_owned(),
        text: text.to_owned(),
    }
}

fn lines(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).expect("each line is one JSON object"))
        .collect()
}

fn keys(value: &Value) -> Vec<&str> {
    let mut keys: Vec<&str> = value
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    keys
}

#[tokio::test]
async fn an_sms_is_one_json_line_with_to_text_and_a_utc_time() {
    let data = tempfile::tempdir().unwrap();
    let sender = sms_sender(data.path());
    assert!(sender.is_outbox());

    sender
        .send(&sms(
            "+16502530000",
            "Your code is 123456.\nIt expires in 10 minutes.",
        ))
        .await
        .unwrap();

    let lines = lines(&data.path().join("outbox/sms.jsonl"));
    assert_eq!(
        lines.len(),
        1,
        "a line break in the text stays inside the JSON string"
    );
    assert_eq!(keys(&lines[0]), ["sent_at", "text", "to"]);
    assert_eq!(lines[0]["to"], "+16502530000");
    assert_eq!(
        lines[0]["text"],
        "Your code is 123456.\nIt expires in 10 minutes."
    );
    let sent_at = lines[0]["sent_at"].as_str().unwrap();
    let parsed = OffsetDateTime::parse(sent_at, &Rfc3339).expect("sent_at is RFC 3339");
    assert!(
        parsed.offset().is_utc() && sent_at.ends_with('Z'),
        "{sent_at} is UTC"
    );
}

#[tokio::test]
async fn an_email_is_one_json_line_with_to_subject_text_and_time() {
    let data = tempfile::tempdir().unwrap();
    let sender = email_sender(data.path());
    assert!(sender.is_outbox());
    let email = Email {
        to: "ada@example.com".to_owned(),
        subject: "Your sign-in code".to_owned(),
        text: "Your code is 654321.".to_owned(),
    };

    sender.send(&email).await.unwrap();
    sender.send(&email).await.unwrap();

    let lines = lines(&data.path().join("outbox/email.jsonl"));
    assert_eq!(lines.len(), 2, "one line per message");
    assert_eq!(keys(&lines[0]), ["sent_at", "subject", "text", "to"]);
    assert_eq!(lines[0]["to"], "ada@example.com");
    assert_eq!(lines[0]["subject"], "Your sign-in code");
    assert_eq!(lines[0]["text"], "Your code is 654321.");
}

#[tokio::test]
async fn read_outbox_returns_both_channels_newest_first() {
    let data = tempfile::tempdir().unwrap();
    let sms_sender = sms_sender(data.path());
    let email_sender = email_sender(data.path());
    let email = |n: u32| Email {
        to: format!("user{n}@example.com"),
        subject: format!("subject {n}"),
        text: format!("email {n}"),
    };

    sms_sender
        .send(&sms("+15550000001", "sms 1"))
        .await
        .unwrap();
    email_sender.send(&email(2)).await.unwrap();
    sms_sender
        .send(&sms("+15550000003", "sms 3"))
        .await
        .unwrap();
    email_sender.send(&email(4)).await.unwrap();

    let messages = read_outbox(data.path()).unwrap();
    let texts: Vec<&str> = messages.iter().map(|m| m.text.as_str()).collect();
    assert_eq!(texts, ["email 4", "sms 3", "email 2", "sms 1"]);
    assert_eq!(messages[0].channel, Channel::Email);
    assert_eq!(messages[0].subject.as_deref(), Some("subject 4"));
    assert_eq!(messages[1].channel, Channel::Sms);
    assert_eq!(messages[1].to, "+15550000003");
    assert_eq!(messages[1].subject, None);
}

#[test]
fn a_data_dir_without_an_outbox_reads_as_empty() {
    let data = tempfile::tempdir().unwrap();
    assert!(read_outbox(data.path()).unwrap().is_empty());
    assert!(
        read_outbox(&data.path().join("not/there"))
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn a_line_that_is_not_a_message_is_skipped_not_fatal() {
    let data = tempfile::tempdir().unwrap();
    send_to_outbox(data.path(), "+15550000001", "kept").await;
    let path = data.path().join("outbox/sms.jsonl");
    let mut text = std::fs::read_to_string(&path).unwrap();
    text.push_str("{\"to\": \"+1555\", \"te\n\n");
    std::fs::write(&path, text).unwrap();

    let messages = read_outbox(data.path()).unwrap();
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0].text, "kept");
}

#[tokio::test]
async fn the_outbox_folder_is_created_inside_a_data_dir_that_does_not_exist_yet() {
    let data = tempfile::tempdir().unwrap();
    let nested = data.path().join("a/b");
    send_to_outbox(&nested, "+15550000001", "hello").await;
    assert!(nested.join("outbox/sms.jsonl").is_file());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_sends_from_several_senders_never_interleave_lines() {
    let data = tempfile::tempdir().unwrap();
    // Long texts, so that a line written in pieces would show up as broken JSON.
    let long = "0123456789".repeat(20_000);
    let shared = sms_sender(data.path());
    let mut tasks = Vec::new();
    for n in 0..40 {
        // Half share one sender, half build their own: the lock must hold across both.
        let sender = if n % 2 == 0 {
            shared.clone()
        } else {
            sms_sender(data.path())
        };
        let text = format!("{n}:{long}");
        tasks.push(tokio::spawn(async move {
            sender
                .send(&sms(&format!("+1555000{n:04}"), &text))
                .await
                .unwrap();
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }

    let lines = lines(&data.path().join("outbox/sms.jsonl"));
    assert_eq!(lines.len(), 40);
    for line in &lines {
        let text = line["text"].as_str().unwrap();
        let (n, rest) = text.split_once(':').unwrap();
        assert_eq!(rest, long);
        assert_eq!(
            line["to"],
            format!("+1555000{:04}", n.parse::<u32>().unwrap())
        );
    }
}

#[cfg(unix)]
#[tokio::test]
async fn outbox_files_are_readable_by_their_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let data = tempfile::tempdir().unwrap();
    send_to_outbox(data.path(), "+15550000001", "Your code is 123456").await;
    let mode = std::fs::metadata(data.path().join("outbox/sms.jsonl"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(
        mode & 0o077,
        0,
        "mode {mode:o}: the file holds one-time codes"
    );
}
