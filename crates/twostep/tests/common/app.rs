//! The app under test, shared by the API suite and the browser suite: the real
//! portal on port 0 with a fresh data folder, fast Argon2 and a clock the test
//! can move, built by `TestApp::builder()` with the senders and database a test
//! asks for. With TWOSTEP_TEST_DATABASE_URL set (a PostgreSQL server URL) each
//! app gets a fresh database of its own there, dropped with the app.

// Each test binary includes this file and uses a part of it.
#![allow(dead_code)]

use delivery::{Email, EmailSender, MemoryOutbox, Sms, SmsSender};
use twostep::app::{self, Senders};
use twostep::config::{Config, Overrides};
use web::{AppState, Clock};

pub struct TestApp {
    pub address: String,
    pub state: AppState,
    /// What the memory SMS sender sent; stays empty with any other sender.
    pub sms: MemoryOutbox<Sms>,
    /// What the memory e-mail sender sent; stays empty with any other sender.
    pub email: MemoryOutbox<Email>,
    pub clock: Clock,
    pub config: Config,
    // Dropped after the data dir; a fresh PostgreSQL database when one is asked for.
    _data_dir: tempfile::TempDir,
    _database: Option<PostgresDatabase>,
}

/// What the app under test sends through and stores in; memory senders and a
/// fresh SQLite file unless a test says otherwise.
#[derive(Default)]
pub struct TestAppBuilder {
    outbox: bool,
    sms: Option<SmsSender>,
    email: Option<EmailSender>,
    database_url: Option<String>,
    https: bool,
    /// `TWOSTEP_…` variables on top of the test defaults.
    settings: Vec<(String, String)>,
}

impl TestApp {
    pub fn builder() -> TestAppBuilder {
        TestAppBuilder::default()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }
}

impl TestAppBuilder {
    /// The development outbox providers, as `cargo run` starts the portal, so
    /// that codes and links are read from /dev/outbox.
    pub fn outbox(mut self) -> Self {
        self.outbox = true;
        self
    }

    /// SMS through `sender` (a real Kannel, or one that cannot be reached).
    pub fn sms(mut self, sender: SmsSender) -> Self {
        self.sms = Some(sender);
        self
    }

    /// E-mail through `sender` (a real SMTP server).
    pub fn email(mut self, sender: EmailSender) -> Self {
        self.email = Some(sender);
        self
    }

    /// `public_url` is `https://` + this app's address, as behind a TLS proxy;
    /// the test still talks plain http to the port.
    pub fn https_public_url(mut self) -> Self {
        self.https = true;
        self
    }

    /// Another database than the fresh SQLite file, e.g. PostgreSQL.
    pub fn database(mut self, url: &str) -> Self {
        self.database_url = Some(url.to_owned());
        self
    }

    /// One configuration key as its environment variable, e.g.
    /// `("TWOSTEP_PASSWORD_HASH__MAX_WAITING", "1")`.
    pub fn setting(mut self, name: &str, value: &str) -> Self {
        self.settings.push((name.to_owned(), value.to_owned()));
        self
    }

    pub async fn spawn(self) -> TestApp {
        let data_dir = tempfile::tempdir().expect("temp dir");
        let mut config = test_config(data_dir.path(), &self.settings);
        let mut database = None;
        if let Some(url) = &self.database_url {
            config.database_url = url.clone().into();
        } else if let Some(server) = postgres_under_test() {
            let fresh = PostgresDatabase::create(&server).await;
            config.database_url = fresh.url.clone().into();
            database = Some(fresh);
        }
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind port 0");
        let port = listener.local_addr().unwrap().port();
        let address = format!("http://127.0.0.1:{port}");
        // Links in e-mails must point at this instance.
        config.public_url = if self.https {
            format!("https://127.0.0.1:{port}")
        } else {
            address.clone()
        };
        let (senders, sms, email) = self.senders(&config);
        let clock = Clock::default();
        let state = app::build(&config, senders, clock.clone())
            .await
            .expect("the portal starts");
        let served = state.clone();
        let limits = config.server;
        tokio::spawn(async move {
            app::serve_portal(listener, served, limits, std::future::pending())
                .await
                .expect("the portal serves")
        });
        TestApp {
            address,
            state,
            sms,
            email,
            clock,
            config,
            _data_dir: data_dir,
            _database: database,
        }
    }

    fn senders(self, config: &Config) -> (Senders, MemoryOutbox<Sms>, MemoryOutbox<Email>) {
        if self.outbox {
            let senders = Senders::from_config(config).expect("outbox senders");
            return (senders, MemoryOutbox::new(), MemoryOutbox::new());
        }
        let (sms, sms_outbox) = match self.sms {
            Some(sender) => (sender, MemoryOutbox::new()),
            None => SmsSender::memory(),
        };
        let (email, email_outbox) = match self.email {
            Some(sender) => (sender, MemoryOutbox::new()),
            None => EmailSender::memory(),
        };
        (Senders { sms, email }, sms_outbox, email_outbox)
    }
}

/// The default configuration with fast Argon2: tests check behaviour, the
/// benchmark checks cost.
pub fn test_config(data_dir: &std::path::Path, settings: &[(String, String)]) -> Config {
    let env = [
        ("TWOSTEP_PASSWORD_HASH__MEMORY_KIB", "256"),
        ("TWOSTEP_PASSWORD_HASH__ITERATIONS", "1"),
        // Every test's client is 127.0.0.1: the per-IP budgets would count the
        // whole suite's traffic as one client's. Their own tests set them back.
        ("TWOSTEP_SMS__PER_CLIENT_IP_HOUR", "1000000"),
        ("TWOSTEP_SIGN_UP__PER_CLIENT_IP_HOUR", "1000000"),
    ]
    .map(|(name, value)| (name.to_owned(), value.to_owned()))
    .into_iter()
    .chain(settings.iter().cloned());
    let overrides = Overrides {
        listen: Some("127.0.0.1:0".parse().unwrap()),
        data_dir: Some(data_dir.to_owned()),
    };
    Config::load(None, env, &overrides).expect("test configuration")
}

/// The PostgreSQL server the suite runs on instead of SQLite, if any.
pub fn postgres_under_test() -> Option<String> {
    std::env::var("TWOSTEP_TEST_DATABASE_URL")
        .ok()
        .filter(|url| !url.is_empty())
}

/// The server of TWOSTEP_TEST_DATABASE_URL, or the local one `.ci/run` starts,
/// for the tests that need PostgreSQL whatever the suite runs on.
pub fn postgres_server() -> String {
    postgres_under_test().unwrap_or_else(|| "postgres://postgres@127.0.0.1:5432/test".to_owned())
}

/// Whether this run is on PostgreSQL: tests of what only SQLite has (its file)
/// say so and skip.
pub fn on_postgres() -> bool {
    postgres_under_test().is_some()
}

/// A database of its own on a PostgreSQL server, migrated as `twostep migrate`
/// would, and dropped when this is dropped, even after a failed test: the
/// drop is a blocking `psql` call, which needs no runtime.
pub struct PostgresDatabase {
    server: String,
    name: String,
    pub url: String,
}

impl PostgresDatabase {
    pub async fn create(server: &str) -> Self {
        let database = Self::create_unmigrated(server);
        let store = storage::Store::connect(&database.url, 1)
            .await
            .expect("connect to the fresh database");
        store.migrate().await.expect("migrate the fresh database");
        store.close().await;
        database
    }

    /// An empty database, as an operator creates it before `twostep migrate`.
    pub fn create_unmigrated(server: &str) -> Self {
        let name = format!(
            "twostep_t_{}",
            domain::secrets::hex(&domain::secrets::random_bytes::<8>())
        );
        psql(server, &format!("CREATE DATABASE {name}"));
        Self {
            server: server.to_owned(),
            url: crate::database_url::with_database(server, &name),
            name,
        }
    }

    /// Runs `sql` in this database, as its owner.
    pub fn psql(&self, sql: &str) {
        psql(&self.url, sql);
    }
}

impl Drop for PostgresDatabase {
    fn drop(&mut self) {
        // FORCE ends the connections of the app, which outlives the test's task.
        let sql = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name);
        if let Err(error) = std::panic::catch_unwind(|| psql(&self.server, &sql)) {
            // A panic while panicking would abort the whole suite.
            if !std::thread::panicking() {
                std::panic::resume_unwind(error);
            }
        }
    }
}

fn psql(server: &str, sql: &str) {
    let output = std::process::Command::new("psql")
        .arg(server)
        .args(["-q", "-v", "ON_ERROR_STOP=1", "-c", sql])
        .output()
        .expect("psql runs");
    assert!(
        output.status.success(),
        "{sql}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}
