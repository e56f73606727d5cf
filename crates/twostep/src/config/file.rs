//! The configuration as operators write it: the keys of the TOML file with
//! their defaults, and how the file, the environment and the flags are merged
//! into one table before it is parsed.

use std::net::SocketAddr;
use std::path::PathBuf;

use delivery::{EmailSettings, SmsSettings};
use serde::{Deserialize, Serialize};

/// Declares a table of the config file: each key with its type and its default side by side, so
/// that the struct and its `Default` cannot drift apart. Every key may be left out (its default
/// stands) and an unknown key is an error naming it.
macro_rules! table {
    (
        $(#[$attr:meta])*
        struct $name:ident {
            $( $(#[$doc:meta])* $key:ident: $ty:ty = $default:expr, )*
        }
    ) => {
        $(#[$attr])*
        #[derive(Clone, Serialize, Deserialize)]
        #[serde(deny_unknown_fields, default)]
        pub(super) struct $name {
            $( $(#[$doc])* pub(super) $key: $ty, )*
        }

        impl Default for $name {
            fn default() -> Self {
                Self { $( $key: $default, )* }
            }
        }
    };
}

table! {
    /// The keys an operator writes, with their defaults. No `Debug`: it holds the
    /// secrets as written.
    struct ConfigFile {
        /// Address and port to listen on.
        listen: SocketAddr = SocketAddr::from(([127, 0, 0, 1], 8080)),
        /// Where the SQLite database, the server key and the development outbox live.
        data_dir: PathBuf = PathBuf::from("./data"),
        /// Empty: a SQLite file in `data_dir`. Or `postgres://…` for several instances.
        database_url: String = String::new(),
        /// The address people use; cookies are Secure when it is https.
        public_url: String = "http://127.0.0.1:8080".into(),
        /// The name in SMS texts, e-mails and page titles.
        service_name: String = "twostep".into(),
        /// 64 hex characters. Empty: generated into `data_dir/server.key` on first start.
        server_key: String = String::new(),
        /// The application catalogue (TOML). Empty: the built-in example catalogue.
        apps_catalog: String = String::new(),
        /// A connected application's token stops working after this many days without use.
        app_token_idle_days: i64 = 90,
        /// Networks besides loopback that may read `/metrics` on `listen`.
        metrics_allow: Vec<String> = Vec::new(),
        /// Empty: `/metrics` is on `listen`. Otherwise an address of its own, and only there.
        metrics_listen: String = String::new(),
        server: ServerConfig = ServerConfig::default(),
        database: DatabaseConfig = DatabaseConfig::default(),
        session: SessionConfig = SessionConfig::default(),
        codes: CodesConfig = CodesConfig::default(),
        phone_number: PhoneNumberConfig = PhoneNumberConfig::default(),
        authenticator: AuthenticatorConfig = AuthenticatorConfig::default(),
        password_hash: PasswordHashConfig = PasswordHashConfig::default(),
        sms: SmsSettings = SmsSettings::default(),
        email: EmailSettings = EmailSettings::default(),
    }
}

table! {
    #[derive(Debug)]
    struct ServerConfig {
        /// A request's header must arrive whole within this time; also how long an idle
        /// keep-alive connection stays open.
        header_read_timeout_seconds: u64 = crate::server::ServerLimits::default().header_read_timeout.as_secs(),
        /// Connections open at once; beyond, new ones wait until one closes.
        max_connections: u32 = crate::server::ServerLimits::default().max_connections,
    }
}

table! {
    #[derive(Debug)]
    struct DatabaseConfig {
        /// 0: the backend's default (8 for SQLite, 16 for PostgreSQL).
        max_connections: u32 = storage::PoolSettings::default().max_connections,
        /// How long a request waits for a connection before it answers 503.
        connect_timeout_seconds: u64 = storage::PoolSettings::default().connect_timeout.as_secs(),
        /// PostgreSQL cancels a statement running longer; 0: no limit.
        statement_timeout_seconds: u64 = 0,
    }
}

table! {
    #[derive(Debug)]
    struct SessionConfig {
        idle_timeout_minutes: i64 = 30,
        absolute_timeout_hours: i64 = 12,
    }
}

table! {
    #[derive(Debug)]
    struct CodesConfig {
        /// How long an SMS code is valid: 1 to 10 minutes.
        lifetime_minutes: i64 = 10,
    }
}

table! {
    #[derive(Debug)]
    struct PhoneNumberConfig {
        /// Region that completes national numbers (e.g. "US", "GB"); a number typed with `+` or
        /// `00` is international whatever it is. Empty: every number must carry its country code.
        default_region: String = "US".into(),
    }
}

table! {
    #[derive(Debug)]
    struct AuthenticatorConfig {
        /// The name authenticator apps show next to the account.
        issuer: String = "twostep".into(),
    }
}

table! {
    /// Argon2id's cost; the defaults are OWASP's.
    #[derive(Debug)]
    struct PasswordHashConfig {
        memory_kib: u32 = domain::Argon2Params::default().memory_kib,
        iterations: u32 = domain::Argon2Params::default().iterations,
        parallelism: u32 = domain::Argon2Params::default().parallelism,
        /// Passwords that may wait or be hashed at once; beyond, requests answer 503.
        max_waiting: usize = web::DEFAULT_MAX_WAITING,
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
