//! Sends SMS and e-mail for twostep: one small enum per channel, with a real provider (Kannel,
//! SMTP), a file outbox for development and a memory provider for tests.
//!
//! Sending is awaited by the caller, which tells the person when it failed; timeouts and retries
//! happen inside. Nothing here logs or returns the text of a message (it holds one-time codes), a
//! full phone number or a password.

mod error;
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

#[derive(Debug, Clone)]
pub enum SmsSender {
    Outbox(Outbox),
    Memory(MemoryOutbox<Sms>),
    Kannel(KannelGateway),
}

impl SmsSender {
    /// Fails on settings that cannot work (a URL that is not http, a zero timeout), so that the
    /// service stops at start-up instead of failing every SMS.
    pub fn from_settings(settings: &SmsSettings, data_dir: &Path) -> Result<Self, DeliveryError> {
        Ok(match settings {
            SmsSettings::Outbox => Self::Outbox(Outbox::new(data_dir)),
            SmsSettings::Memory => Self::Memory(MemoryOutbox::new()),
            SmsSettings::Kannel(kannel) => Self::Kannel(KannelGateway::new(kannel)?),
        })
    }

    /// A memory sender and a handle on what it sends.
    pub fn memory() -> (Self, MemoryOutbox<Sms>) {
        let outbox = MemoryOutbox::new();
        (Self::Memory(outbox.clone()), outbox)
    }

    pub async fn send(&self, sms: &Sms) -> Result<(), DeliveryError> {
        match self {
            Self::Outbox(outbox) => outbox.append_sms(sms).await,
            Self::Memory(memory) => {
                memory.push(sms.clone());
                Ok(())
            }
            Self::Kannel(gateway) => gateway.send(sms).await,
        }
    }

    /// Whether messages land in the development outbox, which the web layer then links to.
    pub fn is_outbox(&self) -> bool {
        matches!(self, Self::Outbox(_))
    }
}

#[derive(Debug, Clone)]
pub enum EmailSender {
    Outbox(Outbox),
    Memory(MemoryOutbox<Email>),
    Smtp(SmtpMailer),
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
            EmailProvider::Smtp(smtp) => Self::Smtp(SmtpMailer::new(smtp, from)?),
        })
    }

    /// A memory sender and a handle on what it sends.
    pub fn memory() -> (Self, MemoryOutbox<Email>) {
        let outbox = MemoryOutbox::new();
        (Self::Memory(outbox.clone()), outbox)
    }

    pub async fn send(&self, email: &Email) -> Result<(), DeliveryError> {
        match self {
            Self::Outbox(outbox) => outbox.append_email(email).await,
            Self::Memory(memory) => {
                memory.push(email.clone());
                Ok(())
            }
            Self::Smtp(mailer) => mailer.send(email).await,
        }
    }

    /// Whether messages land in the development outbox, which the web layer then links to.
    pub fn is_outbox(&self) -> bool {
        matches!(self, Self::Outbox(_))
    }
}
