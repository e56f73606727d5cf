//! The service's configuration: built-in defaults, then an optional TOML file,
//! then `TWOSTEP_*` environment variables (nested keys joined by `__`), then flags.
//! An unknown key anywhere is an error that names it.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use delivery::{EmailSettings, SmsSettings};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Address and port to listen on.
    pub listen: SocketAddr,
    /// Where the SQLite database, the server key and the development outbox live.
    pub data_dir: PathBuf,
    /// Empty: a SQLite file in `data_dir`. Or `postgres://…` for several instances.
    pub database_url: String,
    /// The address people use; cookies are Secure when it is https.
    pub public_url: String,
    /// The name in SMS texts, e-mails and page titles.
    pub service_name: String,
    /// 64 hex characters. Empty: generated into `data_dir/server.key` on first start.
    pub server_key: String,
    /// The application catalogue (TOML). Empty: the built-in example catalogue.
    pub apps_catalog: String,
    pub session: SessionConfig,
    pub codes: CodesConfig,
    pub phone_number: PhoneNumberConfig,
    pub authenticator: AuthenticatorConfig,
    pub password_hash: PasswordHashConfig,
    pub sms: SmsSettings,
    pub email: EmailSettings,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SessionConfig {
    pub idle_timeout_minutes: i64,
    pub absolute_timeout_hours: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CodesConfig {
    /// How long an SMS code is valid: 1 to 10 minutes.
    pub lifetime_minutes: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PhoneNumberConfig {
    /// Region for numbers typed without `+` (e.g. "US", "GB"); empty: always ask for `+`.
    pub default_region: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuthenticatorConfig {
    /// The name authenticator apps show next to the account.
    pub issuer: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PasswordHashConfig {
    pub memory_kib: u32,
    pub iterations: u32,
    pub parallelism: u32,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            data_dir: PathBuf::from("./data"),
            database_url: String::new(),
            public_url: "http://127.0.0.1:8080".into(),
            service_name: "twostep".into(),
            server_key: String::new(),
            apps_catalog: String::new(),
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

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read the config file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the config file {path} is not valid TOML: {message}")]
    Syntax { path: PathBuf, message: String },
    #[error("invalid configuration: {0}")]
    Invalid(String),
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
        let mut table = toml::Table::try_from(Config::default())
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
        let mut config: Config = table
            .try_into()
            .map_err(|e: toml::de::Error| ConfigError::Invalid(e.message().to_owned()))?;
        if let Some(listen) = overrides.listen {
            config.listen = listen;
        }
        if let Some(dir) = &overrides.data_dir {
            config.data_dir = dir.clone();
        }
        config.validate()?;
        Ok(config)
    }

    fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |m: String| Err(ConfigError::Invalid(m));
        if !(self.public_url.starts_with("http://") || self.public_url.starts_with("https://")) {
            return invalid(format!(
                "public_url must start with http:// or https://, not {:?}",
                self.public_url
            ));
        }
        if !(1..=10).contains(&self.codes.lifetime_minutes) {
            return invalid("codes.lifetime_minutes must be between 1 and 10".into());
        }
        if self.session.idle_timeout_minutes < 1 || self.session.absolute_timeout_hours < 1 {
            return invalid("session timeouts must be at least 1".into());
        }
        if self.session.idle_timeout_minutes > self.session.absolute_timeout_hours * 60 {
            return invalid(
                "session.idle_timeout_minutes must not exceed the absolute timeout".into(),
            );
        }
        if !self.phone_number.default_region.is_empty() {
            domain::phone_number::parse_region(&self.phone_number.default_region)
                .map_err(|e| ConfigError::Invalid(format!("phone_number.default_region: {e}")))?;
        }
        if self.authenticator.issuer.trim().is_empty() || self.authenticator.issuer.contains(':') {
            return invalid("authenticator.issuer must be a non-empty name without ':'".into());
        }
        self.argon2_params()
            .check()
            .map_err(|e| ConfigError::Invalid(format!("password_hash: {e}")))?;
        self.load_apps_catalog()?;
        if !self.server_key.is_empty() {
            domain::ServerKey::from_hex(&self.server_key)
                .map_err(|e| ConfigError::Invalid(format!("server_key: {e}")))?;
        }
        Ok(())
    }

    pub fn load_apps_catalog(&self) -> Result<domain::apps::AppCatalog, ConfigError> {
        let path = (!self.apps_catalog.is_empty()).then(|| Path::new(&self.apps_catalog));
        crate::catalog::load(path).map_err(|e| ConfigError::Invalid(e.to_string()))
    }

    pub fn argon2_params(&self) -> domain::Argon2Params {
        domain::Argon2Params {
            memory_kib: self.password_hash.memory_kib,
            iterations: self.password_hash.iterations,
            parallelism: self.password_hash.parallelism,
        }
    }

    pub fn database_url(&self) -> String {
        if self.database_url.is_empty() {
            format!(
                "sqlite://{}?mode=rwc",
                self.data_dir.join("twostep.db").display()
            )
        } else {
            self.database_url.clone()
        }
    }
}

/// An environment value is read as a TOML value when it is one (numbers,
/// booleans, arrays), and as a string otherwise.
fn env_value(raw: &str) -> toml::Value {
    format!("v = {raw}")
        .parse::<toml::Table>()
        .ok()
        .and_then(|mut t| t.remove("v"))
        .unwrap_or_else(|| toml::Value::String(raw.to_owned()))
}

fn merge(base: &mut toml::Table, overlay: toml::Table) {
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

fn set_path(table: &mut toml::Table, path: &[String], value: toml::Value) {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn the_defaults_need_nothing_else() {
        let config = Config::load(None, env(&[]), &Overrides::default()).unwrap();
        assert_eq!(config.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(config.database_url(), "sqlite://./data/twostep.db?mode=rwc");
        assert_eq!(config.password_hash.memory_kib, 19_456);
        assert_eq!(config.sms, SmsSettings::Outbox);
    }

    #[test]
    fn the_example_file_documents_valid_settings() {
        let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config.example.toml");
        Config::load(Some(&example), env(&[]), &Overrides::default()).unwrap();
    }

    #[test]
    fn environment_variables_override_the_file_and_flags_override_both() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("twostep.toml");
        std::fs::write(
            &file,
            "listen = \"127.0.0.1:9000\"\n[session]\nidle_timeout_minutes = 20\n",
        )
        .unwrap();
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
        assert_eq!(config.session.idle_timeout_minutes, 15);
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
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("twostep.toml");
        std::fs::write(&file, "[sms]\nprovider = \"kannel\"\nurl = \"http://127.0.0.1:13013/cgi-bin/sendsms\"\nusername = \"u\"\npassword = \"p\"\nsender = \"s\"\npasword = \"typo\"\n").unwrap();
        let error = Config::load(Some(&file), env(&[]), &Overrides::default()).unwrap_err();
        assert!(error.to_string().contains("pasword"), "{error}");
    }

    #[test]
    fn a_provider_is_chosen_in_the_file_with_its_own_keys() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("twostep.toml");
        std::fs::write(
            &file,
            "[email]\nprovider = \"smtp\"\nhost = \"127.0.0.1\"\nport = 2525\ntls = \"none\"\n",
        )
        .unwrap();
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
            ("TWOSTEP_LISTEN", "not an address"),
        ] {
            assert!(
                Config::load(None, env(&[(key, value)]), &Overrides::default()).is_err(),
                "{key}={value}"
            );
        }
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
