//! The `[sms]` and `[email]` tables of the config file, as operators write them.
//!
//! The provider is chosen by `provider = "..."` next to that provider's own keys. Unknown keys are
//! an error naming the key: a misspelt `pasword` must stop the service at start-up, not surface as
//! a refused SMS later. Serde cannot deny unknown keys on an internally tagged enum with unit
//! variants, so each table goes through a private wire type.

use std::fmt;

use serde::{Deserialize, Serialize};

/// From the `[sms]` table: `provider = "outbox" | "memory" | "kannel"`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(from = "SmsTable", into = "SmsTable")]
pub enum SmsSettings {
    /// Appends each SMS to `DATA_DIR/outbox/sms.jsonl`, for development.
    #[default]
    Outbox,
    /// Keeps each SMS in memory, for tests.
    Memory,
    /// Sends through a Kannel gateway's sendsms interface.
    Kannel(KannelSettings),
}

/// A password as the config file gives it. `Debug` hides it, so that a whole
/// configuration can be printed; only [`Secret::expose`] hands it out.
#[derive(Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl From<&str> for Secret {
    fn from(secret: &str) -> Self {
        Self(secret.to_owned())
    }
}

impl From<String> for Secret {
    fn from(secret: String) -> Self {
        Self(secret)
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// A Kannel `sendsms-user` and where its smsbox listens.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct KannelSettings {
    /// The sendsms URL, e.g. `https://sms.example.com/cgi-bin/sendsms`; plain
    /// `http` only to a loopback host, such as `http://127.0.0.1:13013/cgi-bin/sendsms`.
    pub url: String,
    pub username: String,
    pub password: Secret,
    /// The sender shown on the phone (Kannel's `from`).
    pub sender: String,
    /// PEM certificates to trust for an https `url` besides the web's public
    /// authorities (webpki roots): a gateway's private CA.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_file: Option<std::path::PathBuf>,
    /// How long one try may take.
    #[serde(default = "default_kannel_timeout_ms")]
    pub timeout_ms: u64,
    /// Tries after the first one, with a doubling pause in between.
    #[serde(default = "default_retries")]
    pub retries: u32,
}

/// From the `[email]` table: `provider = "outbox" | "memory" | "smtp"`, plus `from`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(from = "EmailTable", into = "EmailTable")]
pub struct EmailSettings {
    /// The `From:` of every e-mail, e.g. `twostep <no-reply@example.com>`.
    pub from: String,
    pub provider: EmailProvider,
}

impl Default for EmailSettings {
    fn default() -> Self {
        Self {
            from: default_from(),
            provider: EmailProvider::Outbox,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EmailProvider {
    /// Appends each e-mail to `DATA_DIR/outbox/email.jsonl`, for development.
    Outbox,
    /// Keeps each e-mail in memory, for tests.
    Memory,
    Smtp(SmtpSettings),
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    /// Both or neither: the server is told who we are only when both are set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<Secret>,
    #[serde(default)]
    pub tls: SmtpTls,
    /// How long one try may take.
    #[serde(default = "default_smtp_timeout_ms")]
    pub timeout_ms: u64,
    /// Tries after the first one, with a doubling pause in between.
    #[serde(default = "default_retries")]
    pub retries: u32,
}

/// How the SMTP connection is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpTls {
    /// Plain text: only for a relay on a loopback host (refused for any other).
    None,
    /// Plain connection upgraded with STARTTLS, which must succeed (usually port 587).
    #[default]
    Starttls,
    /// TLS from the first byte (usually port 465).
    Tls,
}

pub const DEFAULT_FROM: &str = "twostep <no-reply@localhost>";

fn default_from() -> String {
    DEFAULT_FROM.to_owned()
}
fn default_kannel_timeout_ms() -> u64 {
    5000
}
fn default_smtp_timeout_ms() -> u64 {
    10_000
}
fn default_retries() -> u32 {
    2
}

// Empty struct variants, unlike unit variants, make serde reject `provider = "outbox"` with stray keys.
#[derive(Clone, Deserialize, Serialize)]
#[serde(tag = "provider", rename_all = "lowercase", deny_unknown_fields)]
enum SmsTable {
    Outbox {},
    Memory {},
    Kannel(KannelSettings),
}

impl From<SmsTable> for SmsSettings {
    fn from(table: SmsTable) -> Self {
        match table {
            SmsTable::Outbox {} => Self::Outbox,
            SmsTable::Memory {} => Self::Memory,
            SmsTable::Kannel(kannel) => Self::Kannel(kannel),
        }
    }
}

impl From<SmsSettings> for SmsTable {
    fn from(settings: SmsSettings) -> Self {
        match settings {
            SmsSettings::Outbox => Self::Outbox {},
            SmsSettings::Memory => Self::Memory {},
            SmsSettings::Kannel(kannel) => Self::Kannel(kannel),
        }
    }
}

#[derive(Clone, Deserialize, Serialize)]
#[serde(tag = "provider", rename_all = "lowercase", deny_unknown_fields)]
enum EmailTable {
    Outbox {
        #[serde(default = "default_from")]
        from: String,
    },
    Memory {
        #[serde(default = "default_from")]
        from: String,
    },
    Smtp(SmtpTable),
}

// `SmtpSettings` plus `from`: `#[serde(flatten)]` would silently disable `deny_unknown_fields`.
#[derive(Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct SmtpTable {
    #[serde(default = "default_from")]
    from: String,
    host: String,
    port: u16,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    username: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    password: Option<Secret>,
    #[serde(default)]
    tls: SmtpTls,
    #[serde(default = "default_smtp_timeout_ms")]
    timeout_ms: u64,
    #[serde(default = "default_retries")]
    retries: u32,
}

impl From<EmailTable> for EmailSettings {
    fn from(table: EmailTable) -> Self {
        match table {
            EmailTable::Outbox { from } => Self {
                from,
                provider: EmailProvider::Outbox,
            },
            EmailTable::Memory { from } => Self {
                from,
                provider: EmailProvider::Memory,
            },
            EmailTable::Smtp(t) => Self {
                from: t.from,
                provider: EmailProvider::Smtp(SmtpSettings {
                    host: t.host,
                    port: t.port,
                    username: t.username,
                    password: t.password,
                    tls: t.tls,
                    timeout_ms: t.timeout_ms,
                    retries: t.retries,
                }),
            },
        }
    }
}

impl From<EmailSettings> for EmailTable {
    fn from(settings: EmailSettings) -> Self {
        let from = settings.from;
        match settings.provider {
            EmailProvider::Outbox => Self::Outbox { from },
            EmailProvider::Memory => Self::Memory { from },
            EmailProvider::Smtp(s) => Self::Smtp(SmtpTable {
                from,
                host: s.host,
                port: s.port,
                username: s.username,
                password: s.password,
                tls: s.tls,
                timeout_ms: s.timeout_ms,
                retries: s.retries,
            }),
        }
    }
}
