//! What every handler can reach: the store, the senders, the keys and the settings.

use std::net::IpAddr;
use std::ops::Deref;
use std::path::PathBuf;
use std::sync::Arc;

use delivery::{EmailSender, SmsSender};
use domain::ServerKey;
use domain::one_time_code::CodePolicy;
use domain::session::SessionPolicy;
use storage::Store;

use crate::metrics::{Metrics, MetricsAccess};
use crate::{Clock, PasswordPool};

/// Settings the web layer needs, already validated by the binary's config loader.
#[derive(Clone, Debug)]
pub struct Settings {
    pub public_url: String,
    pub service_name: String,
    pub data_dir: PathBuf,
    pub session: SessionPolicy,
    pub codes: CodePolicy,
    pub default_region: Option<phonenumber::country::Id>,
    pub authenticator_issuer: String,
    pub apps: domain::apps::AppCatalog,
    /// How long a confirmation link works, how often it may be sent again, and
    /// how long an unconfirmed account waits before it is deleted.
    pub confirmation: domain::email_confirmation::ConfirmationPolicy,
    /// An application's token stops working after this long without use.
    pub app_token_idle_seconds: i64,
    /// Who may read `/metrics` on the main listener.
    pub metrics_access: MetricsAccess,
    /// The examples on the Authenticator apps page.
    pub authenticator_apps: Vec<domain::authenticator_apps::AuthenticatorApp>,
    /// Every budget's size: SMS, sign-ups, reset e-mails.
    pub limits: domain::budgets::Limits,
    /// `[sms] allowed_countries`.
    pub allowed_countries: domain::sms_guard::AllowedCountries,
    /// Proxies whose `X-Forwarded-For` is believed (`crate::client_ip`).
    pub trusted_proxies: Vec<crate::metrics::Network>,
    pub password_limits: domain::throttle::PasswordLimits,
    pub second_step_limits: domain::lockout::SecondStepLimits,
    /// A request's body must arrive whole within this time (`crate::hygiene`).
    pub body_read_timeout: std::time::Duration,
}

impl Settings {
    pub fn secure_cookies(&self) -> bool {
        self.public_url.starts_with("https://")
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.public_url.trim_end_matches('/'))
    }
}

pub struct Services {
    pub store: Store,
    pub sms: SmsSender,
    pub email: EmailSender,
    pub key: ServerKey,
    pub passwords: PasswordPool,
    pub settings: Settings,
    pub clock: Clock,
    /// Shared with the password pool, which times its hashes.
    pub metrics: Arc<Metrics>,
}

#[derive(Clone)]
pub struct AppState(Arc<Services>);

impl AppState {
    pub fn new(services: Services) -> Self {
        Self(Arc::new(services))
    }

    pub fn now(&self) -> i64 {
        self.clock.now()
    }

    /// The development outbox page exists only while a sender writes to it, and
    /// is shown only to the machine itself (`peer` on loopback) and only while
    /// the portal is not published over https: it holds every sign-in code, so
    /// a production address must never serve it, whatever the senders are.
    /// Without the peer's address (a server started without connect info)
    /// nobody sees it.
    pub fn dev_outbox_served_to(&self, peer: Option<IpAddr>) -> bool {
        (self.sms.is_outbox() || self.email.is_outbox())
            && !self.settings.secure_cookies()
            && peer.is_some_and(|ip| ip.to_canonical().is_loopback())
    }
}

impl Deref for AppState {
    type Target = Services;
    fn deref(&self) -> &Services {
        &self.0
    }
}
