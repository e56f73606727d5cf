//! The `[sms]` and `[email]` tables as operators write them, and settings that cannot work.

use delivery::{
    DEFAULT_FROM, DeliveryError, EmailProvider, EmailSender, EmailSettings, KannelSettings, Secret,
    SmsSender, SmsSettings, SmtpSettings, SmtpTls,
};
use serde::{Deserialize, Serialize};

use crate::helpers::kannel_settings;

/// The two tables as the service's config file holds them.
#[derive(Debug, PartialEq, Deserialize, Serialize)]
struct Config {
    sms: SmsSettings,
    email: EmailSettings,
}

fn parse(text: &str) -> Result<Config, String> {
    toml::from_str(text).map_err(|e| e.to_string())
}

#[test]
fn outbox_providers_need_nothing_but_their_name() {
    let config = parse("[sms]\nprovider = \"outbox\"\n[email]\nprovider = \"outbox\"\n").unwrap();
    assert_eq!(config.sms, SmsSettings::Outbox);
    assert_eq!(
        config.email,
        EmailSettings {
            from: DEFAULT_FROM.into(),
            provider: EmailProvider::Outbox
        }
    );
    assert_eq!(config.email.from, "twostep <no-reply@localhost>");
}

#[test]
fn kannel_settings_take_defaults_for_timeout_and_retries() {
    let config = parse(
        r#"
        [sms]
        provider = "kannel"
        url = "http://127.0.0.1:13013/cgi-bin/sendsms"
        username = "twostep"
        password = "secret"
        sender = "Twostep"

        [email]
        provider = "memory"
        from = "Accounts <accounts@example.com>"
        "#,
    )
    .unwrap();
    let SmsSettings::Kannel(kannel) = config.sms else {
        panic!("kannel expected: {:?}", config.sms)
    };
    assert_eq!(kannel.url, "http://127.0.0.1:13013/cgi-bin/sendsms");
    assert_eq!(
        (kannel.username.as_str(), kannel.password.expose()),
        ("twostep", "secret")
    );
    assert_eq!(kannel.sender, "Twostep");
    assert_eq!((kannel.timeout_ms, kannel.retries), (5000, 2));
    assert_eq!(config.email.provider, EmailProvider::Memory);
    assert_eq!(config.email.from, "Accounts <accounts@example.com>");
}

#[test]
fn smtp_settings_default_to_starttls_and_no_login() {
    let config = parse(
        "[sms]\nprovider = \"memory\"\n[email]\nprovider = \"smtp\"\nhost = \"mail.example.com\"\nport = 587\n",
    )
    .unwrap();
    let EmailProvider::Smtp(smtp) = &config.email.provider else {
        panic!("smtp expected")
    };
    assert_eq!((smtp.host.as_str(), smtp.port), ("mail.example.com", 587));
    assert_eq!(smtp.tls, SmtpTls::Starttls);
    assert_eq!(
        (
            smtp.username.as_deref(),
            smtp.password.as_ref().map(Secret::expose)
        ),
        (None, None)
    );
    assert_eq!(config.email.from, DEFAULT_FROM);
}

#[test]
fn every_tls_mode_is_spelt_as_in_the_docs() {
    for (word, tls) in [
        ("none", SmtpTls::None),
        ("starttls", SmtpTls::Starttls),
        ("tls", SmtpTls::Tls),
    ] {
        let text = format!(
            "[sms]\nprovider = \"outbox\"\n[email]\nprovider = \"smtp\"\nhost = \"h\"\nport = 25\ntls = \"{word}\"\nusername = \"u\"\npassword = \"p\"\n"
        );
        let EmailProvider::Smtp(smtp) = parse(&text).unwrap().email.provider else {
            panic!()
        };
        assert_eq!(smtp.tls, tls);
        assert_eq!(smtp.username.as_deref(), Some("u"));
    }
}

/// `text` is refused, and the error names `word` so the operator finds it.
#[track_caller]
fn assert_refused_naming(text: &str, word: &str) {
    let error = parse(text).expect_err("the settings are refused");
    assert!(error.contains(word), "{word:?} in {error}");
}

#[test]
fn a_misspelt_kannel_key_is_an_error_naming_it() {
    assert_refused_naming(
        "[sms]\nprovider = \"kannel\"\nurl = \"http://h/\"\nusername = \"u\"\npasword = \"p\"\nsender = \"s\"\n[email]\nprovider = \"outbox\"\n",
        "pasword",
    );
}

#[test]
fn a_key_that_the_outbox_provider_does_not_take_is_an_error_naming_it() {
    assert_refused_naming(
        "[sms]\nprovider = \"outbox\"\nurl = \"http://h/\"\n[email]\nprovider = \"outbox\"\n",
        "url",
    );
    assert_refused_naming(
        "[sms]\nprovider = \"memory\"\n[email]\nprovider = \"outbox\"\nhost = \"h\"\n",
        "host",
    );
}

#[test]
fn a_misspelt_smtp_key_is_an_error_naming_it() {
    assert_refused_naming(
        "[sms]\nprovider = \"outbox\"\n[email]\nprovider = \"smtp\"\nhost = \"h\"\nport = 25\ntsl = \"none\"\n",
        "tsl",
    );
}

#[test]
fn an_unknown_provider_or_tls_mode_is_an_error_naming_it() {
    assert_refused_naming(
        "[sms]\nprovider = \"twilio\"\n[email]\nprovider = \"outbox\"\n",
        "twilio",
    );
    assert_refused_naming(
        "[sms]\nprovider = \"outbox\"\n[email]\nprovider = \"smtp\"\nhost = \"h\"\nport = 25\ntls = \"ssl\"\n",
        "ssl",
    );
}

#[test]
fn settings_written_out_read_back_the_same() {
    let config = Config {
        sms: SmsSettings::Kannel(kannel_settings(
            "http://127.0.0.1:13013/cgi-bin/sendsms".into(),
            3,
        )),
        email: EmailSettings {
            from: "A <a@example.com>".into(),
            provider: EmailProvider::Smtp(SmtpSettings {
                host: "mail.example.com".into(),
                port: 465,
                username: Some("u".into()),
                password: Some("p".into()),
                tls: SmtpTls::Tls,
                ..smtp_settings()
            }),
        },
    };
    let text = toml::to_string(&config).unwrap();
    assert!(
        text.contains("provider = \"kannel\"") && text.contains("provider = \"smtp\""),
        "{text}"
    );
    assert_eq!(parse(&text).unwrap(), config);

    let simple = Config {
        sms: SmsSettings::Outbox,
        email: EmailSettings::default(),
    };
    assert_eq!(parse(&toml::to_string(&simple).unwrap()).unwrap(), simple);
}

#[test]
fn debug_output_hides_passwords() {
    let kannel = KannelSettings {
        password: "hunter2-kannel".into(),
        ..kannel_settings("http://127.0.0.1/".into(), 0)
    };
    let smtp = SmtpSettings {
        username: Some("u".into()),
        password: Some("hunter2-smtp".into()),
        ..smtp_settings()
    };
    let shown = format!("{:?} {:?}", SmsSettings::Kannel(kannel.clone()), smtp);
    assert!(!shown.contains("hunter2"), "{shown}");
    let sender =
        SmsSender::from_settings(&SmsSettings::Kannel(kannel), std::path::Path::new(".")).unwrap();
    assert!(!format!("{sender:?}").contains("hunter2"));
}

fn sms_error(kannel: KannelSettings) -> DeliveryError {
    SmsSender::from_settings(&SmsSettings::Kannel(kannel), std::path::Path::new(".")).unwrap_err()
}

#[test]
fn kannel_settings_that_cannot_work_stop_the_service_at_start_up() {
    for url in ["ftp://gateway.example.com/cgi-bin/sendsms", "not a url", ""] {
        let error = sms_error(kannel_settings(url.into(), 0));
        assert!(
            matches!(error, DeliveryError::InvalidSettings { .. }),
            "{url}: {error}"
        );
    }
    let error = sms_error(KannelSettings {
        timeout_ms: 0,
        ..kannel_settings("http://127.0.0.1/".into(), 0)
    });
    assert!(error.to_string().contains("timeout_ms"), "{error}");
    let error = sms_error(kannel_settings("http://127.0.0.1/".into(), 11));
    assert!(error.to_string().contains("retries"), "{error}");
}

fn smtp_settings() -> SmtpSettings {
    SmtpSettings {
        host: "127.0.0.1".into(),
        port: 25,
        username: None,
        password: None,
        tls: SmtpTls::None,
        timeout_ms: 1000,
        retries: 0,
    }
}

/// The e-mail sender built from SMTP settings, as at start-up.
fn smtp_sender(smtp: SmtpSettings) -> Result<EmailSender, DeliveryError> {
    let settings = EmailSettings {
        provider: EmailProvider::Smtp(smtp),
        ..EmailSettings::default()
    };
    EmailSender::from_settings(&settings, std::path::Path::new("."))
}

#[test]
fn email_settings_that_cannot_work_stop_the_service_at_start_up() {
    let bad_from = EmailSettings {
        from: "not an address".into(),
        provider: EmailProvider::Outbox,
    };
    let error = EmailSender::from_settings(&bad_from, std::path::Path::new(".")).unwrap_err();
    assert!(error.to_string().contains("email.from"), "{error}");

    let half_login = smtp_sender(SmtpSettings {
        username: Some("u".into()),
        ..smtp_settings()
    });
    let error = half_login.unwrap_err();
    assert!(error.to_string().contains("both"), "{error}");

    let no_time = smtp_sender(SmtpSettings {
        timeout_ms: 0,
        ..smtp_settings()
    });
    assert!(matches!(
        no_time,
        Err(DeliveryError::InvalidSettings { .. })
    ));

    let many_tries = smtp_sender(SmtpSettings {
        retries: 11,
        ..smtp_settings()
    });
    let error = many_tries.unwrap_err();
    assert!(error.to_string().contains("retries"), "{error}");

    for (host, tls) in [
        ("127.0.0.1", SmtpTls::None),
        ("::1", SmtpTls::None),
        ("localhost", SmtpTls::None),
        ("127.0.0.1", SmtpTls::Starttls),
        ("smtp.example.com", SmtpTls::Starttls),
        ("smtp.example.com", SmtpTls::Tls),
    ] {
        let sender = smtp_sender(SmtpSettings {
            host: host.into(),
            tls,
            ..smtp_settings()
        });
        assert!(sender.is_ok(), "{host} {tls:?}");
    }
}

/// The password, the number and the code travel in the sendsms URL, and the
/// e-mails hold codes and links: in the clear only to this machine.
#[test]
fn plain_text_delivery_is_refused_beyond_a_loopback_host_naming_the_setting() {
    for url in [
        "http://gateway.example.com:13013/cgi-bin/sendsms",
        "http://10.0.0.7:13013/cgi-bin/sendsms",
        "http://[fd00::7]:13013/cgi-bin/sendsms",
    ] {
        let error = sms_error(kannel_settings(url.into(), 0)).to_string();
        assert!(
            error.contains("sms.url") && error.contains("https"),
            "{url}: {error}"
        );
    }
    for url in [
        "http://127.0.0.1:13013/cgi-bin/sendsms",
        "http://localhost:13013/cgi-bin/sendsms",
        "http://[::1]:13013/cgi-bin/sendsms",
        "https://gateway.example.com/cgi-bin/sendsms",
        "https://10.0.0.7:13013/cgi-bin/sendsms",
    ] {
        let settings = SmsSettings::Kannel(kannel_settings(url.into(), 0));
        assert!(
            SmsSender::from_settings(&settings, std::path::Path::new(".")).is_ok(),
            "{url}"
        );
    }
    for host in ["smtp.example.com", "10.0.0.7", "fd00::7"] {
        let error = smtp_sender(SmtpSettings {
            host: host.into(),
            tls: SmtpTls::None,
            ..smtp_settings()
        })
        .unwrap_err()
        .to_string();
        assert!(
            error.contains("email.tls") && error.contains(host),
            "{host}: {error}"
        );
    }
}

#[test]
fn a_kannel_ca_file_that_does_not_read_stops_the_service_at_start_up() {
    let dir = tempfile::tempdir().unwrap();
    let not_pem = dir.path().join("not.pem");
    std::fs::write(&not_pem, "not a certificate").unwrap();
    for path in [dir.path().join("missing.pem"), not_pem] {
        let error = sms_error(KannelSettings {
            ca_file: Some(path.clone()),
            ..kannel_settings("https://127.0.0.1/".into(), 0)
        })
        .to_string();
        assert!(error.contains("sms.ca_file"), "{}: {error}", path.display());
    }
}
