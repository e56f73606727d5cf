//! The app under test, shared by the API suite and the browser suite: the real
//! portal on port 0 with a fresh data folder, fast Argon2 and a clock the test
//! can move, built by `TestApp::builder()` with the senders and database a test
//! asks for.

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
    _data_dir: tempfile::TempDir,
}

/// What the app under test sends through and stores in; memory senders and a
/// fresh SQLite file unless a test says otherwise.
#[derive(Default)]
pub struct TestAppBuilder {
    outbox: bool,
    sms: Option<SmsSender>,
    email: Option<EmailSender>,
    database_url: Option<String>,
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

    /// Another database than the fresh SQLite file, e.g. PostgreSQL.
    pub fn database(mut self, url: &str) -> Self {
        self.database_url = Some(url.to_owned());
        self
    }

    pub async fn spawn(self) -> TestApp {
        let data_dir = tempfile::tempdir().expect("temp dir");
        let mut config = test_config(data_dir.path());
        if let Some(url) = &self.database_url {
            config.database_url = url.clone().into();
        }
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind port 0");
        let address = format!("http://{}", listener.local_addr().unwrap());
        // Links in e-mails must point at this instance.
        config.public_url = address.clone();
        let (senders, sms, email) = self.senders(&config);
        let clock = Clock::default();
        let state = app::build(&config, senders, clock.clone())
            .await
            .expect("the portal starts");
        let served = state.clone();
        tokio::spawn(async move {
            app::serve_portal(listener, served)
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
fn test_config(data_dir: &std::path::Path) -> Config {
    let env = [
        ("TWOSTEP_PASSWORD_HASH__MEMORY_KIB", "256"),
        ("TWOSTEP_PASSWORD_HASH__ITERATIONS", "1"),
    ]
    .map(|(name, value)| (name.to_owned(), value.to_owned()));
    let overrides = Overrides {
        listen: Some("127.0.0.1:0".parse().unwrap()),
        data_dir: Some(data_dir.to_owned()),
    };
    Config::load(None, env, &overrides).expect("test configuration")
}
