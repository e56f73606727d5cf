//! Turning a configuration into a running portal: the data directory, the server
//! key, the database, the senders, the router.

use std::path::Path;

use delivery::{EmailSender, SmsSender};
use domain::one_time_code::CodePolicy;
use domain::session::SessionPolicy;
use domain::{PasswordHasher, ServerKey};
use storage::Store;
use web::{AppState, Clock, PasswordPool, Services, Settings};

use crate::config::Config;

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("cannot use the data directory {path}: {source}")]
    DataDir {
        path: String,
        source: std::io::Error,
    },
    #[error("the server key file {path} is unusable: {reason}")]
    ServerKey { path: String, reason: String },
    #[error("database: {0}")]
    Database(#[from] storage::StoreError),
    #[error("delivery: {0}")]
    Delivery(#[from] delivery::DeliveryError),
    #[error("{0}")]
    Invalid(String),
    #[error("cannot listen on {address}: {source}")]
    Listen {
        address: String,
        source: std::io::Error,
    },
}

/// Senders chosen by the configuration, or given by a test.
pub struct Senders {
    pub sms: SmsSender,
    pub email: EmailSender,
}

impl Senders {
    pub fn from_config(config: &Config) -> Result<Self, StartError> {
        Ok(Self {
            sms: SmsSender::from_settings(&config.sms, &config.data_dir)?,
            email: EmailSender::from_settings(&config.email, &config.data_dir)?,
        })
    }
}

pub async fn open_store(config: &Config) -> Result<Store, StartError> {
    ensure_data_dir(&config.data_dir)?;
    // 0: the backend's default pool size. On SQLite (one writer at a time) more
    // connections only add lock waits and a page cache each: 8 rather than 16 took
    // the benchmark's RSS with 10,000 sessions from 87 to 70 MB and halved the p99
    // of code checks, at the same throughput.
    let store = Store::connect(&config.database_url(), 0).await?;
    store.migrate().await?;
    Ok(store)
}

pub async fn build(
    config: &Config,
    senders: Senders,
    clock: Clock,
) -> Result<AppState, StartError> {
    let store = open_store(config).await?;
    let key = server_key(config)?;
    let hasher = PasswordHasher::new(config.argon2_params())
        .map_err(|e| StartError::Invalid(e.to_string()))?;
    let default_region = match config.phone_number.default_region.as_str() {
        "" => None,
        region => Some(
            domain::phone_number::parse_region(region)
                .map_err(|e| StartError::Invalid(e.to_string()))?,
        ),
    };
    let settings = Settings {
        public_url: config.public_url.trim_end_matches('/').to_owned(),
        service_name: config.service_name.clone(),
        data_dir: config.data_dir.clone(),
        session: SessionPolicy {
            idle_timeout_seconds: config.session.idle_timeout_minutes * 60,
            absolute_timeout_seconds: config.session.absolute_timeout_hours * 3600,
        },
        codes: CodePolicy::with_lifetime(config.codes.lifetime_minutes * 60),
        default_region,
        authenticator_issuer: config.authenticator.issuer.clone(),
        apps: config
            .load_apps_catalog()
            .map_err(|e| StartError::Invalid(e.to_string()))?,
    };
    Ok(AppState::new(Services {
        store,
        sms: senders.sms,
        email: senders.email,
        key,
        passwords: PasswordPool::new(hasher),
        settings,
        clock,
    }))
}

fn ensure_data_dir(dir: &Path) -> Result<(), StartError> {
    std::fs::create_dir_all(dir).map_err(|source| StartError::DataDir {
        path: dir.display().to_string(),
        source,
    })
}

/// The configured key, or the one in `data_dir/server.key`, created (readable by
/// the owner only) on first start. Losing it makes phone numbers and
/// authenticator secrets unreadable, so it is never overwritten.
fn server_key(config: &Config) -> Result<ServerKey, StartError> {
    if !config.server_key.is_empty() {
        return ServerKey::from_hex(&config.server_key)
            .map_err(|e| StartError::Invalid(e.to_string()));
    }
    let path = config.data_dir.join("server.key");
    let failure = |reason: String| StartError::ServerKey {
        path: path.display().to_string(),
        reason,
    };
    match std::fs::read_to_string(&path) {
        Ok(text) => ServerKey::from_hex(&text).map_err(|e| failure(e.to_string())),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            let hex = ServerKey::generate_hex();
            write_private(&path, &hex).map_err(|e| failure(e.to_string()))?;
            tracing::info!(path = %path.display(), "generated a new server key");
            ServerKey::from_hex(&hex).map_err(|e| failure(e.to_string()))
        }
        Err(error) => Err(failure(error.to_string())),
    }
}

fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)?.write_all(contents.as_bytes())
}

/// Serves until Ctrl-C or SIGTERM; removes expired rows every few minutes.
pub async fn serve(config: &Config, state: AppState) -> Result<(), StartError> {
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|source| StartError::Listen {
            address: config.listen.to_string(),
            source,
        })?;
    tracing::info!(address = %config.listen, public_url = %config.public_url, "twostep is listening");
    spawn_housekeeping(state.clone());
    let served = axum::serve(listener, web::router(state.clone()))
        .with_graceful_shutdown(shutdown_signal())
        .await;
    state.store.close().await;
    served.map_err(|source| StartError::Listen {
        address: config.listen.to_string(),
        source,
    })
}

fn spawn_housekeeping(state: AppState) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(300));
        loop {
            tick.tick().await;
            let policy = state.settings.session;
            match state
                .store
                .delete_expired(
                    state.now(),
                    policy.idle_timeout_seconds,
                    policy.absolute_timeout_seconds,
                )
                .await
            {
                Ok(removed) if removed > 0 => tracing::debug!(removed, "expired rows removed"),
                Ok(_) => {}
                Err(error) => tracing::warn!(%error, "housekeeping failed"),
            }
        }
    });
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        if let Ok(mut signal) =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            signal.recv().await;
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = terminate => {} }
    tracing::info!("shutting down");
}
