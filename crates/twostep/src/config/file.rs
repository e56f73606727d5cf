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
        /// Keys that open and verify but never seal: the previous key while `twostep rotate-key`
        /// re-seals under `server_key`, or the next one while every instance learns it.
        previous_server_keys: Vec<String> = Vec::new(),
        /// The application catalogue (TOML). Empty: the built-in example catalogue.
        apps_catalog: String = String::new(),
        /// A connected application's token stops working after this many days without use.
        app_token_idle_days: i64 = 90,
        /// Networks besides loopback that may read `/metrics` on `listen`.
        metrics_allow: Vec<String> = Vec::new(),
        /// Empty: `/metrics` is on `listen`. Otherwise an address of its own, and only there.
        metrics_listen: String = String::new(),
        /// Proxies (addresses or networks, e.g. "127.0.0.1/32") whose `X-Forwarded-For` is
        /// believed: behind them the last address in it that is not a trusted proxy is the
        /// client's. Empty: the socket's address is the client's.
        trusted_proxies: Vec<String> = Vec::new(),
        server: ServerConfig = ServerConfig::default(),
        database: DatabaseConfig = DatabaseConfig::default(),
        session: SessionConfig = SessionConfig::default(),
        codes: CodesConfig = CodesConfig::default(),
        phone_number: PhoneNumberConfig = PhoneNumberConfig::default(),
        authenticator: AuthenticatorConfig = AuthenticatorConfig::default(),
        password_hash: PasswordHashConfig = PasswordHashConfig::default(),
        lockout: LockoutConfig = LockoutConfig::default(),
        sms: SmsSettings = SmsSettings::default(),
        /// The SMS guard's keys, written in `[sms]` next to the provider's
        /// (see `split_sms_guard`).
        sms_guard: SmsGuardConfig = SmsGuardConfig::default(),
        sign_up: SignUpConfig = SignUpConfig::default(),
        password_reset: PasswordResetConfig = PasswordResetConfig::default(),
        email: EmailSettings = EmailSettings::default(),
        /// The example apps on the Authenticator apps page, as `[[authenticator_apps]]`
        /// tables; a list in the file replaces this one whole.
        authenticator_apps: Vec<AuthenticatorAppEntry> = domain::authenticator_apps::default_authenticator_apps()
            .into_iter()
            .map(|app| AuthenticatorAppEntry { name: app.name, platforms: app.platforms })
            .collect(),
    }
}

/// One `[[authenticator_apps]]` table: `name = "Aegis"`, `platforms = ["Android"]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct AuthenticatorAppEntry {
    pub(super) name: String,
    pub(super) platforms: Vec<String>,
}

table! {
    /// `[sms]` keys of the SMS guard, whatever the provider.
    #[derive(Debug)]
    struct SmsGuardConfig {
        /// Regions whose numbers may be texted, e.g. ["GB", "DE"]. Empty: all.
        allowed_countries: Vec<String> = Vec::new(),
        per_account_hour: i64 = domain::budgets::Limits::default().sms_per_account_hour,
        per_account_day: i64 = domain::budgets::Limits::default().sms_per_account_day,
        per_number_hour: i64 = domain::budgets::Limits::default().sms_per_number_hour,
        /// Per number without its last four digits.
        per_prefix_hour: i64 = domain::budgets::Limits::default().sms_per_prefix_hour,
        per_client_ip_hour: i64 = domain::budgets::Limits::default().sms_per_client_ip_hour,
        /// Per country calling code.
        per_calling_code_day: i64 = domain::budgets::Limits::default().sms_per_calling_code_day,
        /// The conversion guard judges this many of the last codes sent to a calling code…
        conversion_sample: i64 = domain::budgets::ConversionGuard::default().sample,
        /// …and holds SMS to it when fewer than this share of them were entered…
        conversion_min_entered_percent: i64 = domain::budgets::ConversionGuard::default().min_entered_percent,
        /// …for this long.
        conversion_hold_hours: i64 = domain::budgets::ConversionGuard::default().hold_seconds / 3600,
        /// At most one security event per account and refusal rule in this many minutes.
        refusal_event_minutes: i64 = domain::budgets::Limits::default().refusal_event_interval_seconds / 60,
    }
}

/// The keys of `[sms]` that belong to the guard, not to the provider.
pub(super) const SMS_GUARD_KEYS: [&str; 11] = [
    "allowed_countries",
    "per_account_hour",
    "per_account_day",
    "per_number_hour",
    "per_prefix_hour",
    "per_client_ip_hour",
    "per_calling_code_day",
    "conversion_sample",
    "conversion_min_entered_percent",
    "conversion_hold_hours",
    "refusal_event_minutes",
];

/// Operators write the guard's keys in `[sms]`, but the provider's table denies
/// keys it does not know: they are moved to the guard's own table before
/// either is read.
pub(super) fn split_sms_guard(table: &mut toml::Table) {
    let Some(toml::Value::Table(sms)) = table.get_mut("sms") else {
        return;
    };
    let moved: toml::Table = SMS_GUARD_KEYS
        .into_iter()
        .filter_map(|key| Some((key.to_owned(), sms.remove(key)?)))
        .collect();
    let guard = table
        .entry("sms_guard")
        .or_insert_with(|| toml::Value::Table(toml::Table::new()));
    if let toml::Value::Table(guard) = guard {
        guard.extend(moved);
    }
}

table! {
    #[derive(Debug)]
    struct SignUpConfig {
        /// New accounts per client IP in an hour.
        per_client_ip_hour: i64 = domain::budgets::Limits::default().sign_ups_per_client_ip_hour,
    }
}

table! {
    #[derive(Debug)]
    struct PasswordResetConfig {
        /// At most one reset e-mail per address in this many minutes.
        email_interval_minutes: i64 = domain::budgets::Limits::default().reset_email_interval_seconds / 60,
    }
}

table! {
    #[derive(Debug)]
    struct ServerConfig {
        /// A request's header must arrive whole within this time; also how long an idle
        /// keep-alive connection stays open.
        header_read_timeout_seconds: u64 = crate::server::ServerLimits::default().header_read_timeout.as_secs(),
        /// A request's body must arrive whole within this time after its header.
        body_read_timeout_seconds: u64 = crate::server::ServerLimits::default().body_read_timeout.as_secs(),
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

table! {
    /// How many wrong passwords and codes the portal takes before it holds back.
    #[derive(Debug)]
    struct LockoutConfig {
        /// Wrong passwords for one address from one client IP before that IP waits.
        wrong_passwords_per_client: i64 = domain::throttle::PasswordLimits::default().per_client,
        /// How long that IP waits, counted from its first wrong password.
        wrong_passwords_window_minutes: i64 = domain::throttle::PasswordLimits::default().window_seconds / 60,
        /// Wrong passwords in a row for one address, from anywhere, before its password step is
        /// locked until the owner resets the password through e-mail.
        consecutive_wrong_passwords: i64 = domain::throttle::PasswordLimits::default().consecutive,
        /// Wrong second-step codes in a row for one account, any method, before every method waits.
        consecutive_wrong_codes: i64 = domain::lockout::SecondStepLimits::default().consecutive,
        /// How long the second step then stays locked.
        second_step_lock_minutes: i64 = domain::lockout::SecondStepLimits::default().lock_seconds / 60,
        /// At most one "Someone has your password" e-mail per account this often.
        password_alert_interval_minutes: i64 = domain::lockout::SecondStepLimits::default().alert_interval_seconds / 60,
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
