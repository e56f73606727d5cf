//! Turning a configuration into a running portal: the data directory, the server
//! key, the database, the senders, the router.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use delivery::{EmailSender, SmsSender};
use domain::email_confirmation::ConfirmationPolicy;
use domain::{PasswordHasher, ServerKey};
use storage::{Backend, SchemaStatus, Store};
use web::metrics::{Metrics, MetricsAccess};
use web::{AppState, Clock, PasswordPool, Services, Settings};

use crate::config::Config;
use crate::server::ServerLimits;

/// Why the service did not start; each keeps its cause, and `main` prints the
/// whole chain on one line.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("cannot use the data directory {path}")]
    DataDir {
        path: String,
        source: std::io::Error,
    },
    #[error("the server key file {path} is unusable")]
    ServerKey {
        path: String,
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// A finished `twostep rotate-key` retired this key: values sealed under it
    /// now would be lost once it leaves the configuration.
    #[error(
        "server_key (id {id}) was retired by `twostep rotate-key`: configure the new key as server_key"
    )]
    RetiredServerKey { id: domain::secrets::KeyId },
    #[error("cannot open the database")]
    OpenDatabase(#[source] storage::StoreError),
    #[error("database")]
    Database(#[from] storage::StoreError),
    #[error("the database has no schema yet: run `twostep migrate` first")]
    Unmigrated,
    #[error(
        "the database schema is out of date ({applied} of {known} migrations applied): run `twostep migrate` first"
    )]
    Outdated { applied: usize, known: usize },
    #[error("delivery")]
    Delivery(#[from] delivery::DeliveryError),
    #[error("password_hash")]
    PasswordHash(#[from] domain::password::InvalidArgon2Params),
    /// The outbox keeps every code and link on disk and, in development, shows
    /// them at `/dev/outbox`: a portal published over https must really send.
    #[error(
        "public_url is https but {section} provider is \"outbox\", which keeps every code on disk instead of sending it: set {section} provider (TWOSTEP_{env}__PROVIDER) to {real}"
    )]
    OutboxInProduction {
        section: &'static str,
        env: &'static str,
        real: &'static str,
    },
    #[error("cannot listen on {address}")]
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

/// `twostep serve` with an https `public_url` refuses the development senders;
/// plain http (a developer's machine, the tests) keeps the zero-setup default.
pub fn refuse_outbox_in_production(config: &Config) -> Result<(), StartError> {
    if !config.public_url.starts_with("https://") {
        return Ok(());
    }
    if config.sms == delivery::SmsSettings::Outbox {
        return Err(StartError::OutboxInProduction {
            section: "[sms]",
            env: "SMS",
            real: "\"kannel\"",
        });
    }
    if matches!(config.email.provider, delivery::EmailProvider::Outbox) {
        return Err(StartError::OutboxInProduction {
            section: "[email]",
            env: "EMAIL",
            real: "\"smtp\"",
        });
    }
    Ok(())
}

/// The store, ready for this binary's queries. SQLite, the zero-setup default
/// with one instance, is migrated here; PostgreSQL, where several instances may
/// start at once, is only checked: `twostep migrate` migrates it, once.
pub async fn open_store(config: &Config) -> Result<Store, StartError> {
    let store = connect(config).await?;
    match store.backend() {
        Backend::Sqlite => store.migrate().await?,
        Backend::Postgres => match store.schema_status().await? {
            SchemaStatus::Current => {}
            SchemaStatus::Behind { applied: 0, .. } => return Err(StartError::Unmigrated),
            SchemaStatus::Behind { applied, known } => {
                return Err(StartError::Outdated { applied, known });
            }
            // Migrations only expand, so a newer release's schema serves this one.
            SchemaStatus::Ahead { newest, known } => tracing::info!(
                newest,
                known,
                "the database schema is newer than this binary; it only expanded"
            ),
        },
    }
    Ok(store)
}

/// The store with every migration applied (`twostep migrate`); on PostgreSQL
/// under an advisory lock, so that two runs at once apply each migration once.
pub async fn migrate_store(config: &Config) -> Result<Store, StartError> {
    let store = connect(config).await?;
    store.migrate().await?;
    Ok(store)
}

async fn connect(config: &Config) -> Result<Store, StartError> {
    ensure_data_dir(&config.data_dir)?;
    // max_connections 0: the backend's default pool size. On SQLite (one writer
    // at a time) more connections only add lock waits and a page cache each: 8
    // rather than 16 took the benchmark's RSS with 10,000 sessions from 87 to
    // 70 MB and halved the p99 of code checks, at the same throughput.
    let store = Store::connect_with(config.database_url.expose(), &config.database)
        .await
        .map_err(StartError::OpenDatabase)?;
    Ok(store)
}

pub async fn build(
    config: &Config,
    senders: Senders,
    clock: Clock,
) -> Result<AppState, StartError> {
    let store = open_store(config).await?;
    let key = key_ring(config, &store).await?;
    let hasher = PasswordHasher::new(config.password_hash)?;
    let settings = Settings {
        public_url: config.public_url.trim_end_matches('/').to_owned(),
        service_name: config.service_name.clone(),
        data_dir: config.data_dir.clone(),
        session: config.session,
        codes: config.codes,
        default_region: config.default_region,
        authenticator_issuer: config.authenticator_issuer.clone(),
        apps: config.apps.clone(),
        confirmation: ConfirmationPolicy::default(),
        app_token_idle_seconds: config.app_token_idle_seconds,
        metrics_access: MetricsAccess {
            allow: config.metrics_allow.clone(),
            separate_listener: config.metrics_listen.is_some(),
        },
        authenticator_apps: config.authenticator_apps.clone(),
        limits: config.limits,
        allowed_countries: config.allowed_countries.clone(),
        trusted_proxies: config.trusted_proxies.clone(),
        password_limits: config.password_limits,
        second_step_limits: config.second_step_limits,
        body_read_timeout: config.server.body_read_timeout,
    };
    let metrics = Arc::new(Metrics::default());
    Ok(AppState::new(Services {
        store,
        sms: senders.sms,
        email: senders.email,
        key,
        passwords: PasswordPool::new(hasher, config.password_hash_max_waiting, metrics.clone()),
        settings,
        clock,
        metrics,
    }))
}

/// Creates the data directory (and missing parents) readable by its owner only
/// (0700): it holds the database, the server key and the development outbox.
/// An existing directory keeps the mode its operator gave it.
fn ensure_data_dir(dir: &Path) -> Result<(), StartError> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir).map_err(|source| StartError::DataDir {
        path: dir.display().to_string(),
        source,
    })
}

/// The key ring the service runs on: the current key and `previous_server_keys`,
/// less the keys a finished rotation retired. A retired current key is refused:
/// what it sealed would become unreadable once the operator removes it.
pub async fn key_ring(config: &Config, store: &Store) -> Result<ServerKey, StartError> {
    let ring = server_key(config)?.with_previous(config.previous_server_keys.iter().cloned());
    let retired = store.retired_server_keys().await?;
    if retired.contains(&ring.id()) {
        return Err(StartError::RetiredServerKey { id: ring.id() });
    }
    for id in ring.previous_ids() {
        if retired.contains(&id) {
            tracing::warn!(%id, "a previous server key was retired by `twostep rotate-key`: it is ignored, remove it from previous_server_keys");
        }
    }
    let ring = ring.without(&retired);
    if ring.previous_ids().is_empty() {
        // On one key, that key made every recovery code still usable: the
        // codes made before they named their key are named, so that a later
        // rotation knows it may retire a previous key they do not need.
        store
            .stamp_recovery_codes_made_by(&ring.id().to_string())
            .await?;
    }
    Ok(ring)
}

/// The configured key, or the one in `data_dir/server.key`, created (readable by
/// the owner only) on first start. Losing it makes phone numbers and
/// authenticator secrets unreadable, so it is never overwritten. The file's
/// first line is the current key; further lines are previous keys, as
/// `previous_server_keys` (for a rotation with the key in the data directory).
fn server_key(config: &Config) -> Result<ServerKey, StartError> {
    if let Some(key) = &config.server_key {
        return Ok(key.clone());
    }
    let path = config.data_dir.join("server.key");
    let failure = |source: Box<dyn std::error::Error + Send + Sync>| StartError::ServerKey {
        path: path.display().to_string(),
        source,
    };
    match std::fs::read_to_string(&path) {
        Ok(text) => {
            let mut keys = text.lines().filter(|line| !line.trim().is_empty());
            let current = ServerKey::from_hex(keys.next().unwrap_or_default())
                .map_err(|e| failure(e.into()))?;
            let previous = keys
                .map(ServerKey::from_hex)
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| failure(e.into()))?;
            Ok(current.with_previous(previous))
        }
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            let hex = ServerKey::generate_hex();
            write_private(&path, &hex).map_err(|e| failure(e.into()))?;
            tracing::info!(path = %path.display(), "generated a new server key");
            ServerKey::from_hex(&hex).map_err(|e| failure(e.into()))
        }
        Err(error) => Err(failure(error.into())),
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

async fn bind(address: SocketAddr) -> Result<tokio::net::TcpListener, StartError> {
    tokio::net::TcpListener::bind(address)
        .await
        .map_err(|source| StartError::Listen {
            address: address.to_string(),
            source,
        })
}

/// The portal on `listener` until `shutdown`, with its header-read timeout and
/// connection limit, and each client's address for `/metrics`' check.
pub async fn serve_portal(
    listener: tokio::net::TcpListener,
    state: AppState,
    limits: ServerLimits,
    shutdown: impl std::future::Future<Output = ()>,
) -> std::io::Result<()> {
    crate::server::serve(listener, web::router(state), limits, shutdown).await
}

/// Serves until Ctrl-C or SIGTERM; removes expired rows every few minutes.
pub async fn serve(config: &Config, state: AppState) -> Result<(), StartError> {
    let listener = bind(config.listen).await?;
    if let Some(address) = config.metrics_listen {
        let metrics = bind(address).await?;
        tracing::info!(%address, "metrics are served on their own address");
        let router = web::metrics_router(state.clone());
        tokio::spawn(async move {
            if let Err(error) = axum::serve(metrics, router).await {
                tracing::error!(%error, "the metrics listener stopped");
            }
        });
    }
    tracing::info!(address = %config.listen, public_url = %config.public_url, "twostep is listening");
    spawn_housekeeping(state.clone());
    let served = serve_portal(listener, state.clone(), config.server, shutdown_signal()).await;
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
                Err(error) => {
                    tracing::warn!(error = %web::ErrorChain(&error), "housekeeping failed");
                }
            }
            let longest = state.settings.limits.longest_window_seconds();
            if let Err(error) = state.store.delete_spent_budgets(state.now(), longest).await {
                tracing::warn!(error = %web::ErrorChain(&error), "housekeeping of budgets failed");
            }
            // Also done at each sign-up, to free an address at once; here so
            // that "deleted after 7 days" holds when nobody signs up.
            let unconfirmed_since = state
                .settings
                .confirmation
                .unconfirmed_deleted_since(state.now());
            if let Err(error) = state
                .store
                .delete_unconfirmed_accounts(unconfirmed_since)
                .await
            {
                tracing::warn!(error = %web::ErrorChain(&error), "housekeeping of unconfirmed accounts failed");
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
