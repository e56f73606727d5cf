//! The configuration as operators write it: the keys of the TOML file with
//! their defaults, and how the file, the environment and the flags are merged
//! into one table before it is parsed.

use std::net::SocketAddr;
use std::path::PathBuf;

use delivery::{EmailSettings, SmsSettings};
use serde::{Deserialize, Serialize};

/// The keys an operator writes, with their defaults. No `Debug`: it holds the
/// secrets as written.
#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(super) struct ConfigFile {
    /// Address and port to listen on.
    pub(super) listen: SocketAddr,
    /// Where the SQLite database, the server key and the development outbox live.
    pub(super) data_dir: PathBuf,
    /// Empty: a SQLite file in `data_dir`. Or `postgres://…` for several instances.
    pub(super) database_url: String,
    /// The address people use; cookies are Secure when it is https.
    pub(super) public_url: String,
    /// The name in SMS texts, e-mails and page titles.
    pub(super) service_name: String,
    /// 64 hex characters. Empty: generated into `data_dir/server.key` on first start.
    pub(super) server_key: String,
    /// The application catalogue (TOML). Empty: the built-in example catalogue.
    pub(super) apps_catalog: String,
    /// Networks besides loopback that may read `/metrics` on `listen`.
    pub(super) metrics_allow: Vec<String>,
    /// Empty: `/metrics` is on `listen`. Otherwise an address of its own, and only there.
    pub(super) metrics_listen: String,
    pub(super) database: DatabaseConfig,
    pub(super) session: SessionConfig,
    pub(super) codes: CodesConfig,
    pub(super) phone_number: PhoneNumberConfig,
    pub(super) authenticator: AuthenticatorConfig,
    pub(super) password_hash: PasswordHashConfig,
    pub(super) sms: SmsSettings,
    pub(super) email: EmailSettings,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(super) struct DatabaseConfig {
    /// 0: the backend's default (8 for SQLite, 16 for PostgreSQL).
    pub(super) max_connections: u32,
    /// How long a request waits for a connection before it answers 503.
    pub(super) connect_timeout_seconds: u64,
    /// PostgreSQL cancels a statement running longer; 0: no limit.
    pub(super) statement_timeout_seconds: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(super) struct SessionConfig {
    pub(super) idle_timeout_minutes: i64,
    pub(super) absolute_timeout_hours: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(super) struct CodesConfig {
    /// How long an SMS code is valid: 1 to 10 minutes.
    pub(super) lifetime_minutes: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(super) struct PhoneNumberConfig {
    /// Region that completes national numbers (e.g. "US", "GB"); a number typed with `+` or `00`
    /// is international whatever it is. Empty: every number must carry its country code.
    pub(super) default_region: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(super) struct AuthenticatorConfig {
    /// The name authenticator apps show next to the account.
    pub(super) issuer: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(super) struct PasswordHashConfig {
    pub(super) memory_kib: u32,
    pub(super) iterations: u32,
    pub(super) parallelism: u32,
}

impl Default for ConfigFile {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            data_dir: PathBuf::from("./data"),
            database_url: String::new(),
            public_url: "http://127.0.0.1:8080".into(),
            service_name: "twostep".into(),
            server_key: String::new(),
            apps_catalog: String::new(),
            metrics_allow: Vec::new(),
            metrics_listen: String::new(),
            database: DatabaseConfig::default(),
            session: SessionConfig::default(),
            codes: CodesConfig::default(),
            phone_number: PhoneNumberConfig::default(),
            authenticator: AuthenticatorConfig::default(),
            password_hash: PasswordHashConfig::default(),
            sms: SmsSettings::default(),
            email: EmailSettings::default(),
        }
    }
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        let pool = storage::PoolSettings::default();
        Self {
            max_connections: pool.max_connections,
            connect_timeout_seconds: pool.connect_timeout.as_secs(),
            statement_timeout_seconds: 0,
        }
    }
}

impl Default for SessionConfig {
    fn default() -> Self {
        Self {
            idle_timeout_minutes: 30,
            absolute_timeout_hours: 12,
        }
    }
}

impl Default for CodesConfig {
    fn default() -> Self {
        Self {
            lifetime_minutes: 10,
        }
    }
}

impl Default for PhoneNumberConfig {
    fn default() -> Self {
        Self {
            default_region: "US".into(),
        }
    }
}

impl Default for AuthenticatorConfig {
    fn default() -> Self {
        Self {
            issuer: "twostep".into(),
        }
    }
}

impl Default for PasswordHashConfig {
    fn default() -> Self {
        let owasp = domain::Argon2Params::default();
        Self {
            memory_kib: owasp.memory_kib,
            iterations: owasp.iterations,
            parallelism: owasp.parallelism,
        }
    }
}

/// An environment value is read as a TOML value when it is one (numbers,
/// booleans, arrays), and as a string otherwise.
pub(super) fn env_value(raw: &str) -> toml::Value {
    format!("v = {raw}")
        .parse::<toml::Table>()
        .ok()
        .and_then(|mut t| t.remove("v"))
        .unwrap_or_else(|| toml::Value::String(raw.to_owned()))
}

pub(super) fn merge(base: &mut toml::Table, overlay: toml::Table) {
    for (key, value) in overlay {
        match (base.get_mut(&key), value) {
            (Some(toml::Value::Table(existing)), toml::Value::Table(incoming))
                if !is_provider_table(&incoming) =>
            {
                merge(existing, incoming)
            }
            (_, value) => {
                base.insert(key, value);
            }
        }
    }
}

/// Choosing another provider replaces the whole table, so that the defaults of
/// the old provider cannot leak in as unknown keys of the new one.
fn is_provider_table(table: &toml::Table) -> bool {
    table.contains_key("provider")
}

pub(super) fn set_path(table: &mut toml::Table, path: &[String], value: toml::Value) {
    match path {
        [] => {}
        [last] => {
            table.insert(last.clone(), value);
        }
        [first, rest @ ..] => {
            let entry = table
                .entry(first.clone())
                .or_insert_with(|| toml::Value::Table(toml::Table::new()));
            if !entry.is_table() {
                *entry = toml::Value::Table(toml::Table::new());
            }
            if let toml::Value::Table(inner) = entry {
                set_path(inner, rest, value);
            }
        }
    }
}
