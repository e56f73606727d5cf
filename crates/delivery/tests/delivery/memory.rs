//! The memory provider, which the other crates' tests read codes from.

use std::path::Path;

use delivery::{
    Email, EmailProvider, EmailSender, EmailSettings, Sms, SmsSender, SmsSettings, read_outbox,
};

fn sms(to: &str, text: &str) -> Sms {
    Sms {
        to: to.to_owned(),
        text: text.to_owned(),
    }
}

#[tokio::test]
async fn the_memory_handle_sees_every_sms_in_order_and_the_last_one_per_number() {
    let (sender, outbox) = SmsSender::memory();
    assert!(!sender.is_outbox());

    sender.send(&sms("+15550000001", "first")).await.unwrap();
    sender.send(&sms("+15550000002", "other")).await.unwrap();
    sender
        .clone()
        .send(&sms("+15550000001", "second"))
        .await
        .unwrap();

    let texts: Vec<String> = outbox.messages().into_iter().map(|m| m.text).collect();
    assert_eq!(texts, ["first", "other", "second"]);
    assert_eq!(outbox.last_to("+15550000001").unwrap().text, "second");
    assert_eq!(
        outbox.clone().last_to("+15550000002").unwrap().text,
        "other"
    );
    assert_eq!(outbox.last_to("+15550000009"), None);

    outbox.clear();
    assert!(outbox.messages().is_empty());
}

#[tokio::test]
async fn the_memory_email_sender_keeps_subject_and_text() {
    let (sender, outbox) = EmailSender::memory();
    let email = Email {
        to: "ada@example.com".to_owned(),
        subject: "Your code".to_owned(),
        text: "123456".to_owned(),
    };
    sender.send(&email).await.unwrap();
    assert_eq!(outbox.last_to("ada@example.com"), Some(email));
    assert!(!sender.is_outbox());
}

#[tokio::test]
async fn memory_senders_from_settings_write_no_files() {
    let data = tempfile::tempdir().unwrap();
    let sms_sender = SmsSender::from_settings(&SmsSettings::Memory, data.path()).unwrap();
    let settings = EmailSettings {
        provider: EmailProvider::Memory,
        ..EmailSettings::default()
    };
    let email_sender = EmailSender::from_settings(&settings, data.path()).unwrap();

    sms_sender
        .send(&sms("+15550000001", "hello"))
        .await
        .unwrap();
    let email = Email {
        to: "a@example.com".into(),
        subject: "s".into(),
        text: "t".into(),
    };
    email_sender.send(&email).await.unwrap();

    match &sms_sender {
        SmsSender::Memory(outbox) => assert_eq!(outbox.messages().len(), 1),
        other => panic!("expected the memory provider, got {other:?}"),
    }
    assert!(read_outbox(data.path()).unwrap().is_empty());
    assert!(!Path::new(&data.path().join("outbox")).exists());
}
