//! The real portal in-process on port 0, with the development outbox providers
//! (as `cargo run` starts it), so that codes and links are read from /dev/outbox.

use twostep::app::{self, Senders};
use twostep::config::{Config, Overrides};
use web::Clock;

pub struct App {
    pub address: String,
    _data_dir: tempfile::TempDir,
}

/// The default configuration with fast Argon2: these tests check behaviour, not cost.
fn config(data_dir: &std::path::Path) -> Config {
    let env = [
        (
            "TWOSTEP_PASSWORD_HASH__MEMORY_KIB".to_owned(),
            "256".to_owned(),
        ),
        (
            "TWOSTEP_PASSWORD_HASH__ITERATIONS".to_owned(),
            "1".to_owned(),
        ),
    ];
    let overrides = Overrides {
        listen: Some("127.0.0.1:0".parse().unwrap()),
        data_dir: Some(data_dir.to_owned()),
    };
    Config::load(None, env, &overrides).expect("test configuration")
}

impl App {
    pub async fn spawn() -> App {
        let data_dir = tempfile::tempdir().expect("data dir");
        let mut config = config(data_dir.path());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind port 0");
        let address = format!("http://{}", listener.local_addr().unwrap());
        // Links in e-mails must point at this instance.
        config.public_url = address.clone();
        let senders = Senders::from_config(&config).expect("outbox senders");
        let state = app::build(&config, senders, Clock::default())
            .await
            .expect("the portal starts");
        let router = web::router(state);
        tokio::spawn(async move {
            axum::serve(listener, router)
                .await
                .expect("the portal serves")
        });
        App {
            address,
            _data_dir: data_dir,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }
}
