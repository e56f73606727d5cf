//! The service's configuration: built-in defaults, then an optional TOML file,
//! then `TWOSTEP_*` environment variables (nested keys joined by `__`), then flags.
//! An unknown key anywhere is an error that names it.
//!
//! What the operator writes (`ConfigFile`) is parsed once, at load, into the
//! typed [`Config`] the service runs on: the catalogue read, the key decoded,
//! the region and the policies built. Nothing after start-up parses it again.
//! Secrets live in types whose `Debug` hides them.

mod database_url;
mod file;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use delivery::{EmailSettings, SmsSettings};
use domain::apps::AppCatalog;
use domain::budgets::{ConversionGuard, Limits};
use domain::one_time_code::CodePolicy;
use domain::session::SessionPolicy;
use domain::sms_guard::AllowedCountries;
use domain::{Argon2Params, ServerKey};

pub use database_url::DatabaseUrl;
use file::{ConfigFile, env_value, merge, set_path, split_sms_guard};

/// The configuration the service runs on, every value already checked.
#[derive(Debug, Clone)]
pub struct Config {
    /// Address and port to listen on.
    pub listen: SocketAddr,
    /// Where the SQLite database, the server key and the development outbox live.
    pub data_dir: PathBuf,
    /// The configured URL, or a SQLite file in `data_dir`.
    pub database_url: DatabaseUrl,
    /// Pool size and timeouts.
    pub database: storage::PoolSettings,
    /// Networks besides loopback that may read `/metrics` on `listen`.
    pub metrics_allow: Vec<web::metrics::Network>,
    /// `/metrics` on an address of its own, and then only there.
    pub metrics_listen: Option<SocketAddr>,
    /// Proxies whose `X-Forwarded-For` names the client.
    pub trusted_proxies: Vec<web::metrics::Network>,
    pub password_limits: domain::throttle::PasswordLimits,
    pub second_step_limits: domain::lockout::SecondStepLimits,
    /// The address people use, without a trailing `/`; cookies are Secure when it is https.
    pub public_url: String,
    /// The name in SMS texts, e-mails and page titles.
    pub service_name: String,
    /// `None`: read from (or generated into) `data_dir/server.key` at start-up.
    pub server_key: Option<ServerKey>,
    /// Accepted for opening and verifying only, during a key rotation.
    pub previous_server_keys: Vec<ServerKey>,
    /// The application catalogue, read once.
    pub apps: AppCatalog,
    /// An application's token stops working after this long without use.
    pub app_token_idle_seconds: i64,
    pub session: SessionPolicy,
    pub codes: CodePolicy,
    /// Region that completes national numbers; `None`: every number carries its country code.
    pub default_region: Option<phonenumber::country::Id>,
    /// The name authenticator apps show next to the account.
    pub authenticator_issuer: String,
    pub password_hash: Argon2Params,
    /// The header-read timeout and the limit on open connections.
    pub server: crate::server::ServerLimits,
    /// Passwords that may wait or be hashed at once; beyond, requests answer 503.
    pub password_hash_max_waiting: usize,
    pub sms: SmsSettings,
    /// Every budget's size (SMS, sign-ups, reset e-mails) and the conversion guard.
    pub limits: Limits,
    /// `[sms] allowed_countries`.
    pub allowed_countries: AllowedCountries,
    pub email: EmailSettings,
    /// The examples on the Authenticator apps page.
    pub authenticator_apps: Vec<domain::authenticator_apps::AuthenticatorApp>,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read the config file {path}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the config file {path} is not valid TOML: {message}")]
    Syntax { path: PathBuf, message: String },
    #[error("invalid configuration: {0}")]
    Invalid(String),
    #[error("invalid configuration")]
    Catalog(#[from] crate::catalog::LoadCatalogError),
}

/// Command-line values that override everything else.
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    pub listen: Option<SocketAddr>,
    pub data_dir: Option<PathBuf>,
}

/// Variables that belong to the test suite, not to the service.
const TEST_VARIABLES: &str = "TWOSTEP_TEST_";

impl Config {
    pub fn load(
        file: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
        overrides: &Overrides,
    ) -> Result<Self, ConfigError> {
        let mut table = toml::Table::try_from(ConfigFile::default())
            .map_err(|e| ConfigError::Invalid(e.to_string()))?;
        if let Some(path) = file {
            let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                path: path.to_owned(),
                source,
            })?;
            let from_file: toml::Table =
                text.parse()
                    .map_err(|e: toml::de::Error| ConfigError::Syntax {
                        path: path.to_owned(),
                        message: e.to_string(),
                    })?;
            merge(&mut table, from_file);
        }
        for (name, value) in env {
            let Some(key) = name.strip_prefix("TWOSTEP_") else {
                continue;
            };
            if name.starts_with(TEST_VARIABLES) || key.is_empty() {
                continue;
            }
            let path: Vec<String> = key.split("__").map(str::to_lowercase).collect();
            set_path(&mut table, &path, env_value(&value));
        }
        split_sms_guard(&mut table);
        let mut file: ConfigFile = table
            .try_into()
            .map_err(|e: toml::de::Error| ConfigError::Invalid(e.message().to_owned()))?;
        if let Some(listen) = overrides.listen {
            file.listen = listen;
        }
        if let Some(dir) = &overrides.data_dir {
            file.data_dir = dir.clone();
        }
        Self::parse(file)
    }

    /// Every check and every conversion, once.
    fn parse(file: ConfigFile) -> Result<Self, ConfigError> {
        let invalid = |m: String| ConfigError::Invalid(m);
        if !(file.public_url.starts_with("http://") || file.public_url.starts_with("https://")) {
            return Err(invalid(format!(
                "public_url must start with http:// or https://, not {:?}",
                file.public_url
            )));
        }
        if !(1..=10).contains(&file.codes.lifetime_minutes) {
            return Err(invalid(
                "codes.lifetime_minutes must be between 1 and 10".into(),
            ));
        }
        let session = &file.session;
        if session.idle_timeout_minutes < 1 || session.absolute_timeout_hours < 1 {
            return Err(invalid("session timeouts must be at least 1".into()));
        }
        if session.idle_timeout_minutes > session.absolute_timeout_hours * 60 {
            return Err(invalid(
                "session.idle_timeout_minutes must not exceed the absolute timeout".into(),
            ));
        }
        let default_region = match file.phone_number.default_region.as_str() {
            "" => None,
            region => Some(
                domain::phone_number::parse_region(region)
                    .map_err(|e| invalid(format!("phone_number.default_region: {e}")))?,
            ),
        };
        let issuer = &file.authenticator.issuer;
        if issuer.trim().is_empty() || issuer.contains(':') {
            return Err(invalid(
                "authenticator.issuer must be a non-empty name without ':'".into(),
            ));
        }
        let password_hash = Argon2Params {
            memory_kib: file.password_hash.memory_kib,
            iterations: file.password_hash.iterations,
            parallelism: file.password_hash.parallelism,
        };
        password_hash
            .check()
            .map_err(|e| invalid(format!("password_hash: {e}")))?;
        if !(1..=3600).contains(&file.server.header_read_timeout_seconds) {
            return Err(invalid(
                "server.header_read_timeout_seconds must be between 1 and 3600".into(),
            ));
        }
        if !(1..=3600).contains(&file.server.body_read_timeout_seconds) {
            return Err(invalid(
                "server.body_read_timeout_seconds must be between 1 and 3600".into(),
            ));
        }
        if file.server.max_connections == 0 {
            return Err(invalid("server.max_connections must be at least 1".into()));
        }
        let server = crate::server::ServerLimits {
            header_read_timeout: Duration::from_secs(file.server.header_read_timeout_seconds),
            body_read_timeout: Duration::from_secs(file.server.body_read_timeout_seconds),
            max_connections: file.server.max_connections,
        };
        if file.password_hash.max_waiting == 0 {
            return Err(invalid(
                "password_hash.max_waiting must be at least 1".into(),
            ));
        }
        let authenticator_apps = authenticator_apps(&file.authenticator_apps).map_err(invalid)?;
        if file.app_token_idle_days < 1 {
            return Err(invalid("app_token_idle_days must be at least 1".into()));
        }
        let catalog_path = (!file.apps_catalog.is_empty()).then(|| Path::new(&file.apps_catalog));
        let apps = crate::catalog::load(catalog_path)?;
        let server_key = match file.server_key.as_str() {
            "" => None,
            hex => Some(ServerKey::from_hex(hex).map_err(|e| invalid(format!("server_key: {e}")))?),
        };
        let previous_server_keys = file
            .previous_server_keys
            .iter()
            .enumerate()
            .map(|(i, hex)| {
                ServerKey::from_hex(hex)
                    .map_err(|e| invalid(format!("previous_server_keys[{i}]: {e}")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let metrics_allow = file
            .metrics_allow
            .iter()
            .map(|network| network.parse())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| invalid(format!("metrics_allow: {e}")))?;
        let trusted_proxies = file
            .trusted_proxies
            .iter()
            .map(|network| network.parse())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| invalid(format!("trusted_proxies: {e}")))?;
        let (password_limits, second_step_limits) = lockout_limits(&file.lockout)?;
        let metrics_listen = match file.metrics_listen.as_str() {
            "" => None,
            address => Some(address.parse().map_err(|_| {
                invalid(format!(
                    "metrics_listen must be an address and port such as 127.0.0.1:9100, not {address:?}"
                ))
            })?),
        };
        if !(1..=600).contains(&file.database.connect_timeout_seconds) {
            return Err(invalid(
                "database.connect_timeout_seconds must be between 1 and 600".into(),
            ));
        }
        let database = storage::PoolSettings {
            max_connections: file.database.max_connections,
            connect_timeout: Duration::from_secs(file.database.connect_timeout_seconds),
            statement_timeout: (file.database.statement_timeout_seconds > 0)
                .then(|| Duration::from_secs(file.database.statement_timeout_seconds)),
        };
        let guard = &file.sms_guard;
        let allowed_countries = AllowedCountries::parse(&guard.allowed_countries)
            .map_err(|e| invalid(format!("sms.allowed_countries: {e}")))?;
        if !(0..=100).contains(&guard.conversion_min_entered_percent) {
            return Err(invalid(
                "sms.conversion_min_entered_percent must be between 0 and 100".into(),
            ));
        }
        let limits = Limits {
            sms_per_account_hour: guard.per_account_hour,
            sms_per_account_day: guard.per_account_day,
            sms_per_number_hour: guard.per_number_hour,
            sms_per_prefix_hour: guard.per_prefix_hour,
            sms_per_client_ip_hour: guard.per_client_ip_hour,
            sms_per_calling_code_day: guard.per_calling_code_day,
            sign_ups_per_client_ip_hour: file.sign_up.per_client_ip_hour,
            reset_email_interval_seconds: file.password_reset.email_interval_minutes * 60,
            conversion: ConversionGuard {
                sample: guard.conversion_sample,
                min_entered_percent: guard.conversion_min_entered_percent,
                hold_seconds: guard.conversion_hold_hours * 3600,
            },
            refusal_event_interval_seconds: guard.refusal_event_minutes * 60,
        };
        limits
            .check()
            .map_err(|e| invalid(format!("limits: {e}")))?;
        let database_url = if file.database_url.is_empty() {
            format!(
                "sqlite://{}?mode=rwc",
                file.data_dir.join("twostep.db").display()
            )
        } else {
            file.database_url
        };
        Ok(Self {
            listen: file.listen,
            data_dir: file.data_dir,
            database_url: DatabaseUrl::from(database_url),
            database,
            metrics_allow,
            metrics_listen,
            trusted_proxies,
            password_limits,
            second_step_limits,
            public_url: file.public_url.trim_end_matches('/').to_owned(),
            service_name: file.service_name,
            server_key,
            previous_server_keys,
            apps,
            app_token_idle_seconds: file.app_token_idle_days * 24 * 60 * 60,
            session: SessionPolicy {
                idle_timeout_seconds: session.idle_timeout_minutes * 60,
                absolute_timeout_seconds: session.absolute_timeout_hours * 3600,
            },
            codes: CodePolicy::with_lifetime(file.codes.lifetime_minutes * 60),
            default_region,
            authenticator_issuer: file.authenticator.issuer,
            password_hash,
            password_hash_max_waiting: file.password_hash.max_waiting,
            server,
            sms: file.sms,
            limits,
            allowed_countries,
            email: file.email,
            authenticator_apps,
        })
    }
}

/// Each example needs a name and at least one platform, and the page at
/// least one example.
fn authenticator_apps(
    entries: &[file::AuthenticatorAppEntry],
) -> Result<Vec<domain::authenticator_apps::AuthenticatorApp>, String> {
    if entries.is_empty() {
        return Err("authenticator_apps must list at least one app".into());
    }
    entries
        .iter()
        .enumerate()
        .map(|(index, entry)| {
            let name = entry.name.trim();
            let platforms: Vec<String> = entry
                .platforms
                .iter()
                .map(|p| p.trim().to_owned())
                .filter(|p| !p.is_empty())
                .collect();
            if name.is_empty() || platforms.is_empty() {
                return Err(format!(
                    "authenticator_apps[{index}] needs a name and at least one platform"
                ));
            }
            Ok(domain::authenticator_apps::AuthenticatorApp {
                name: name.to_owned(),
                platforms,
            })
        })
        .collect()
}

/// The lockout table as the domain's limits; each count at least 1, each time
/// at least a minute and at most a day.
fn lockout_limits(
    lockout: &file::LockoutConfig,
) -> Result<
    (
        domain::throttle::PasswordLimits,
        domain::lockout::SecondStepLimits,
    ),
    ConfigError,
> {
    let counts = [
        (
            "wrong_passwords_per_client",
            lockout.wrong_passwords_per_client,
        ),
        (
            "consecutive_wrong_passwords",
            lockout.consecutive_wrong_passwords,
        ),
        ("consecutive_wrong_codes", lockout.consecutive_wrong_codes),
    ];
    let minutes = [
        (
            "wrong_passwords_window_minutes",
            lockout.wrong_passwords_window_minutes,
        ),
        ("second_step_lock_minutes", lockout.second_step_lock_minutes),
        (
            "password_alert_interval_minutes",
            lockout.password_alert_interval_minutes,
        ),
    ];
    for (key, count) in counts {
        if count < 1 {
            return Err(ConfigError::Invalid(format!(
                "lockout.{key} must be at least 1"
            )));
        }
    }
    for (key, value) in minutes {
        if !(1..=24 * 60).contains(&value) {
            return Err(ConfigError::Invalid(format!(
                "lockout.{key} must be between 1 and 1440"
            )));
        }
    }
    Ok((
        domain::throttle::PasswordLimits {
            per_client: lockout.wrong_passwords_per_client,
            window_seconds: lockout.wrong_passwords_window_minutes * 60,
            consecutive: lockout.consecutive_wrong_passwords,
        },
        domain::lockout::SecondStepLimits {
            consecutive: lockout.consecutive_wrong_codes,
            lock_seconds: lockout.second_step_lock_minutes * 60,
            alert_interval_seconds: lockout.password_alert_interval_minutes * 60,
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    /// A config file holding `text`; it is deleted when the folder is dropped.
    fn config_file(text: impl AsRef<str>) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("twostep.toml");
        std::fs::write(&file, text.as_ref()).unwrap();
        (dir, file)
    }

    #[test]
    fn the_defaults_need_nothing_else() {
        let config = Config::load(None, env(&[]), &Overrides::default()).unwrap();
        assert_eq!(config.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(
            config.database_url.expose(),
            "sqlite://./data/twostep.db?mode=rwc"
        );
        assert_eq!(config.password_hash.memory_kib, 19_456);
        assert_eq!(config.sms, SmsSettings::Outbox);
    }

    #[test]
    fn the_example_file_documents_valid_settings() {
        let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config.example.toml");
        Config::load(Some(&example), env(&[]), &Overrides::default()).unwrap();
    }

    #[test]
    fn the_sms_guard_is_written_in_the_sms_table_next_to_any_provider() {
        let (_dir, file) = config_file(
            "[sms]\nprovider = \"kannel\"\nurl = \"http://127.0.0.1:13013/cgi-bin/sendsms\"\nusername = \"u\"\npassword = \"p\"\nsender = \"s\"\nallowed_countries = [\"GB\", \"de\"]\nper_number_hour = 3\n[sign_up]\nper_client_ip_hour = 4\n",
        );
        let vars = env(&[("TWOSTEP_SMS__CONVERSION_HOLD_HOURS", "6")]);
        let config = Config::load(Some(&file), vars, &Overrides::default()).unwrap();
        assert!(matches!(config.sms, SmsSettings::Kannel(_)));
        assert_eq!(
            config.allowed_countries,
            AllowedCountries::parse(&["GB", "DE"]).unwrap()
        );
        assert_eq!(config.limits.sms_per_number_hour, 3);
        assert_eq!(config.limits.sign_ups_per_client_ip_hour, 4);
        assert_eq!(config.limits.conversion.hold_seconds, 6 * 3600);
        assert_eq!(
            config.limits.sms_per_prefix_hour,
            Limits::default().sms_per_prefix_hour
        );
    }

    #[test]
    fn an_unknown_country_or_a_limit_below_one_is_refused_at_start() {
        let load = |vars: &[(&str, &str)]| Config::load(None, env(vars), &Overrides::default());
        let error = load(&[("TWOSTEP_SMS__ALLOWED_COUNTRIES", "[\"GB\", \"XX\"]")])
            .unwrap_err()
            .to_string();
        assert!(error.contains("sms.allowed_countries"), "{error}");
        let error = load(&[("TWOSTEP_SMS__PER_NUMBER_HOUR", "0")])
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("sms_per_number_hour must be at least 1"),
            "{error}"
        );
    }

    #[test]
    fn environment_variables_override_the_file_and_flags_override_both() {
        let (_dir, file) =
            config_file("listen = \"127.0.0.1:9000\"\n[session]\nidle_timeout_minutes = 20\n");
        let vars = env(&[
            ("TWOSTEP_SESSION__IDLE_TIMEOUT_MINUTES", "15"),
            ("TWOSTEP_PUBLIC_URL", "https://id.example.com"),
            ("PATH", "/bin"),
        ]);
        let flags = Overrides {
            listen: Some("127.0.0.1:9100".parse().unwrap()),
            data_dir: Some("/tmp/elsewhere".into()),
        };
        let config = Config::load(Some(&file), vars, &flags).unwrap();
        assert_eq!(config.session.idle_timeout_seconds, 15 * 60);
        assert_eq!(config.public_url, "https://id.example.com");
        assert_eq!(config.listen.to_string(), "127.0.0.1:9100");
        assert_eq!(config.data_dir, PathBuf::from("/tmp/elsewhere"));
    }

    #[test]
    fn an_unknown_key_is_an_error_that_names_it() {
        let error = Config::load(
            None,
            env(&[("TWOSTEP_SESSION__IDLE_MINUTES", "5")]),
            &Overrides::default(),
        )
        .unwrap_err();
        assert!(error.to_string().contains("idle_minutes"), "{error}");
        let (_dir, file) = config_file(
            "[sms]\nprovider = \"kannel\"\nurl = \"http://127.0.0.1:13013/cgi-bin/sendsms\"\nusername = \"u\"\npassword = \"p\"\nsender = \"s\"\npasword = \"typo\"\n",
        );
        let error = Config::load(Some(&file), env(&[]), &Overrides::default()).unwrap_err();
        assert!(error.to_string().contains("pasword"), "{error}");
    }

    #[test]
    fn a_provider_is_chosen_in_the_file_with_its_own_keys() {
        let (_dir, file) = config_file(
            "[email]\nprovider = \"smtp\"\nhost = \"127.0.0.1\"\nport = 2525\ntls = \"none\"\n",
        );
        let config = Config::load(Some(&file), env(&[]), &Overrides::default()).unwrap();
        assert!(
            matches!(config.email.provider, delivery::EmailProvider::Smtp(ref smtp) if smtp.port == 2525)
        );
    }

    #[test]
    fn out_of_range_values_are_refused() {
        for (key, value) in [
            ("TWOSTEP_CODES__LIFETIME_MINUTES", "11"),
            ("TWOSTEP_PUBLIC_URL", "id.example.com"),
            ("TWOSTEP_PHONE_NUMBER__DEFAULT_REGION", "XX9"),
            ("TWOSTEP_PASSWORD_HASH__ITERATIONS", "0"),
            ("TWOSTEP_SERVER_KEY", "abc"),
            ("TWOSTEP_PREVIOUS_SERVER_KEYS", "[\"abc\"]"),
            ("TWOSTEP_LISTEN", "not an address"),
        ] {
            assert!(
                Config::load(None, env(&[(key, value)]), &Overrides::default()).is_err(),
                "{key}={value}"
            );
        }
    }

    #[test]
    fn the_catalogue_and_the_key_are_read_once_into_types() {
        let key = "ab".repeat(32);
        let config = Config::load(
            None,
            env(&[
                ("TWOSTEP_SERVER_KEY", &key),
                ("TWOSTEP_PHONE_NUMBER__DEFAULT_REGION", "GB"),
            ]),
            &Overrides::default(),
        )
        .unwrap();
        assert!(config.server_key.is_some());
        assert!(config.previous_server_keys.is_empty());
        let previous = "cd".repeat(32);
        let rotating = Config::load(
            None,
            env(&[
                ("TWOSTEP_SERVER_KEY", &key),
                ("TWOSTEP_PREVIOUS_SERVER_KEYS", &format!("[\"{previous}\"]")),
            ]),
            &Overrides::default(),
        )
        .unwrap();
        assert_eq!(
            rotating.previous_server_keys[0].id(),
            ServerKey::from_hex(&previous).unwrap().id()
        );
        assert!(config.apps.find("photon-desktop").is_some());
        assert_eq!(
            config.default_region,
            Some(domain::phone_number::parse_region("GB").unwrap())
        );
    }

    #[test]
    fn debug_output_shows_no_secret() {
        let key = "c0ffee".repeat(10) + "c0ff";
        let (_dir, file) = config_file(format!(
            "database_url = \"postgres://ann:db-hunter2@db.example.com:5432/twostep\"\n\
             server_key = \"{key}\"\n\
             [sms]\nprovider = \"kannel\"\nurl = \"http://127.0.0.1:13013/cgi-bin/sendsms\"\n\
             username = \"u\"\npassword = \"kannel-hunter2\"\nsender = \"s\"\n\
             [email]\nprovider = \"smtp\"\nhost = \"127.0.0.1\"\nport = 2525\n\
             username = \"u\"\npassword = \"smtp-hunter2\"\n"
        ));
        let config = Config::load(Some(&file), env(&[]), &Overrides::default()).unwrap();
        let shown = format!("{config:?}");
        for secret in [
            "db-hunter2",
            "kannel-hunter2",
            "smtp-hunter2",
            &key,
            "c0ffee",
        ] {
            assert!(!shown.contains(secret), "{secret} in {shown}");
        }
        assert!(
            shown.contains("postgres://ann:***@db.example.com:5432/twostep"),
            "{shown}"
        );
        assert_eq!(
            config.database_url.expose(),
            "postgres://ann:db-hunter2@db.example.com:5432/twostep"
        );
    }

    #[test]
    fn metrics_and_pool_settings_are_read_into_types() {
        let config = Config::load(
            None,
            env(&[
                (
                    "TWOSTEP_METRICS_ALLOW",
                    "[\"10.0.0.0/8\", \"2001:db8::/32\"]",
                ),
                ("TWOSTEP_METRICS_LISTEN", "127.0.0.1:9100"),
                ("TWOSTEP_DATABASE__MAX_CONNECTIONS", "4"),
                ("TWOSTEP_DATABASE__STATEMENT_TIMEOUT_SECONDS", "30"),
            ]),
            &Overrides::default(),
        )
        .unwrap();
        assert_eq!(config.metrics_allow.len(), 2);
        assert!(config.metrics_allow[0].contains("10.9.8.7".parse().unwrap()));
        assert_eq!(
            config.metrics_listen,
            Some("127.0.0.1:9100".parse().unwrap())
        );
        assert_eq!(config.database.max_connections, 4);
        assert_eq!(config.database.connect_timeout, Duration::from_secs(5));
        assert_eq!(
            config.database.statement_timeout,
            Some(Duration::from_secs(30))
        );
        let defaults = Config::load(None, env(&[]), &Overrides::default()).unwrap();
        assert!(defaults.metrics_allow.is_empty());
        assert_eq!(defaults.metrics_listen, None);
        assert_eq!(defaults.database.statement_timeout, None);
    }

    #[test]
    fn the_server_timeouts_and_connection_limit_are_bounded() {
        assert_each_refused_naming_its_key(&[
            ("TWOSTEP_SERVER__HEADER_READ_TIMEOUT_SECONDS", "0"),
            ("TWOSTEP_SERVER__BODY_READ_TIMEOUT_SECONDS", "0"),
            ("TWOSTEP_SERVER__BODY_READ_TIMEOUT_SECONDS", "3601"),
            ("TWOSTEP_SERVER__MAX_CONNECTIONS", "0"),
        ]);
        let vars = env(&[("TWOSTEP_SERVER__BODY_READ_TIMEOUT_SECONDS", "30")]);
        let config = Config::load(None, vars, &Overrides::default()).unwrap();
        assert_eq!(config.server.body_read_timeout, Duration::from_secs(30));
    }

    /// Each `(variable, value)` alone is refused, and the error names its key.
    fn assert_each_refused_naming_its_key(settings: &[(&str, &str)]) {
        for &(key, value) in settings {
            let error =
                Config::load(None, env(&[(key, value)]), &Overrides::default()).expect_err(key);
            assert!(
                error
                    .to_string()
                    .contains(&key[8..].to_lowercase().replace("__", ".")),
                "{error}"
            );
        }
    }

    #[test]
    fn a_metrics_network_or_address_that_does_not_read_is_refused() {
        assert_each_refused_naming_its_key(&[
            ("TWOSTEP_METRICS_ALLOW", "[\"10.0.0.0/40\"]"),
            ("TWOSTEP_METRICS_LISTEN", "somewhere"),
            ("TWOSTEP_DATABASE__CONNECT_TIMEOUT_SECONDS", "0"),
        ]);
    }

    #[test]
    fn trusted_proxies_and_the_lockout_limits_are_read_into_types() {
        let defaults = Config::load(None, env(&[]), &Overrides::default()).unwrap();
        assert!(defaults.trusted_proxies.is_empty());
        assert_eq!(
            defaults.password_limits,
            domain::throttle::PasswordLimits::default()
        );
        assert_eq!(
            defaults.second_step_limits,
            domain::lockout::SecondStepLimits::default()
        );
        let config = Config::load(
            None,
            env(&[
                (
                    "TWOSTEP_TRUSTED_PROXIES",
                    "[\"127.0.0.1/32\", \"10.0.0.0/8\"]",
                ),
                ("TWOSTEP_LOCKOUT__WRONG_PASSWORDS_PER_CLIENT", "3"),
                ("TWOSTEP_LOCKOUT__SECOND_STEP_LOCK_MINUTES", "5"),
            ]),
            &Overrides::default(),
        )
        .unwrap();
        assert!(config.trusted_proxies[1].contains("10.1.2.3".parse().unwrap()));
        assert_eq!(config.password_limits.per_client, 3);
        assert_eq!(config.second_step_limits.lock_seconds, 300);
        assert_each_refused_naming_its_key(&[
            ("TWOSTEP_TRUSTED_PROXIES", "[\"nginx\"]"),
            ("TWOSTEP_LOCKOUT__CONSECUTIVE_WRONG_CODES", "0"),
            ("TWOSTEP_LOCKOUT__PASSWORD_ALERT_INTERVAL_MINUTES", "0"),
        ]);
    }

    #[test]
    fn variables_of_the_test_suite_are_not_configuration() {
        assert!(
            Config::load(
                None,
                env(&[("TWOSTEP_TEST_POSTGRES_URL", "postgres://x")]),
                &Overrides::default()
            )
            .is_ok()
        );
    }
}
