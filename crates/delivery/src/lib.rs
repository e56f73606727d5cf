//! Sends SMS and e-mail for twostep: one small enum per channel, with a real provider (Kannel,
//! SMTP), a file outbox for development and a memory provider for tests.
//!
//! Sending is awaited by the caller, which tells the person when it failed; timeouts and retries
//! happen inside. Nothing here logs or returns the text of a message (it holds one-time codes), a
//! full phone number or a password.

mod error;
mod http_get;
mod kannel;
mod memory;
mod outbox;
mod retry;
mod settings;
mod smtp;

use std::path::Path;

use lettre::message::Mailbox;

pub use error::DeliveryError;
pub use kannel::KannelGateway;
pub use memory::{Addressed, MemoryOutbox};
pub use outbox::{Channel, Outbox, OutboxMessage, read_outbox};
pub use settings::{
    DEFAULT_FROM, EmailProvider, EmailSettings, KannelSettings, Secret, SmsSettings, SmtpSettings,
    SmtpTls,
};
pub use smtp::SmtpMailer;

/// One text message. `to` is in E.164 form, e.g. `+16502530000`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sms {
    pub to: String,
    pub text: String,
}

/// One plain-text e-mail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email {
    pub to: String,
    pub subject: String,
    pub text: String,
}

impl Addressed for Sms {
    fn to(&self) -> &str {
        &self.to
    }
}

impl Addressed for Email {
    fn to(&self) -> &str {
        &self.to
    }
}

/// A message of one channel, as the development outbox keeps it.
pub trait Message: Addressed + Clone {
    fn append_to(&self, outbox: &Outbox) -> impl Future<Output = Result<(), DeliveryError>> + Send;
}

impl Message for Sms {
    fn append_to(&self, outbox: &Outbox) -> impl Future<Output = Result<(), DeliveryError>> + Send {
        outbox.append_sms(self)
    }
}

impl Message for Email {
    fn append_to(&self, outbox: &Outbox) -> impl Future<Output = Result<(), DeliveryError>> + Send {
        outbox.append_email(self)
    }
}

/// The real provider of one channel: Kannel for SMS, SMTP for e-mail.
pub trait Provider {
    type Message: Message;

    fn send(
        &self,
        message: &Self::Message,
    ) -> impl Future<Output = Result<(), DeliveryError>> + Send;
}

impl Provider for KannelGateway {
    type Message = Sms;

    fn send(&self, sms: &Sms) -> impl Future<Output = Result<(), DeliveryError>> + Send {
        KannelGateway::send(self, sms)
    }
}

impl Provider for SmtpMailer {
    type Message = Email;

    fn send(&self, email: &Email) -> impl Future<Output = Result<(), DeliveryError>> + Send {
        SmtpMailer::send(self, email)
    }
}

/// Where one channel's messages go: the development outbox, memory (for tests) or the channel's
/// real provider. The two channels differ only in their message and provider.
#[derive(Debug, Clone)]
pub enum Sender<P: Provider> {
    Outbox(Outbox),
    Memory(MemoryOutbox<P::Message>),
    Real(P),
}

pub type SmsSender = Sender<KannelGateway>;
pub type EmailSender = Sender<SmtpMailer>;

impl<P: Provider> Sender<P> {
    /// A memory sender and a handle on what it sends.
    pub fn memory() -> (Self, MemoryOutbox<P::Message>) {
        let outbox = MemoryOutbox::new();
        (Self::Memory(outbox.clone()), outbox)
    }

    pub async fn send(&self, message: &P::Message) -> Result<(), DeliveryError> {
        match self {
            Self::Outbox(outbox) => message.append_to(outbox).await,
            Self::Memory(memory) => {
                memory.push(message.clone());
                Ok(())
            }
            Self::Real(provider) => provider.send(message).await,
        }
    }

    /// Whether messages land in the development outbox, which the web layer then links to.
    pub fn is_outbox(&self) -> bool {
        matches!(self, Self::Outbox(_))
    }
}

impl SmsSender {
    /// Fails on settings that cannot work (a URL that is not http, a zero timeout), so that the
    /// service stops at start-up instead of failing every SMS.
    pub fn from_settings(settings: &SmsSettings, data_dir: &Path) -> Result<Self, DeliveryError> {
        Ok(match settings {
            SmsSettings::Outbox => Self::Outbox(Outbox::new(data_dir)),
            SmsSettings::Memory => Self::Memory(MemoryOutbox::new()),
            SmsSettings::Kannel(kannel) => Self::Real(KannelGateway::new(kannel)?),
        })
    }
}

impl EmailSender {
    /// Checks `from` whatever the provider, so that a bad one is found in development already.
    pub fn from_settings(settings: &EmailSettings, data_dir: &Path) -> Result<Self, DeliveryError> {
        let from: Mailbox = settings
            .from
            .parse()
            .map_err(|e| DeliveryError::InvalidSettings {
                reason: format!(
                    "email.from {:?} is not an e-mail address: {e}",
                    settings.from
                ),
            })?;
        Ok(match &settings.provider {
            EmailProvider::Outbox => Self::Outbox(Outbox::new(data_dir)),
            EmailProvider::Memory => Self::Memory(MemoryOutbox::new()),
            EmailProvider::Smtp(smtp) => Self::Real(SmtpMailer::new(smtp, from)?),
        })
    }
}

/// Whether `host` (a name, an IP address, or an IPv6 address in brackets) is
/// this machine: the only place plain-text SMTP or HTTP may go.
pub fn is_loopback(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_this_machine_is_loopback() {
        for host in [
            "127.0.0.1",
            "127.8.9.10",
            "::1",
            "[::1]",
            "localhost",
            "LocalHost",
        ] {
            assert!(super::is_loopback(host), "{host}");
        }
        for host in [
            "10.0.0.1",
            "192.168.1.1",
            "::ffff:10.0.0.1",
            "smtp.example.com",
            "localhost.example.com",
            "127.0.0.1.nip.io",
            "",
        ] {
            assert!(!super::is_loopback(host), "{host}");
        }
    }
}
