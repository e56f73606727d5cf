//! The SMTP provider: lettre over tokio, TLS by rustls (ring, webpki roots), one plain-text part.
//!
//! A new connection per e-mail: twostep sends a few e-mails an hour, and a pooled connection that
//! the server closed in between would only add a failure mode.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use lettre::message::Mailbox;
use lettre::message::header::ContentType;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::retry::{self, Failure, Policy, email_hint};
use crate::{DeliveryError, Email, SmtpSettings, SmtpTls};

// Shared behind an `Arc`: the transport is large, and senders are cloned into every request.
#[derive(Clone)]
pub struct SmtpMailer {
    inner: Arc<Inner>,
}

struct Inner {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    address: String,
    timeout_ms: u64,
    retries: u32,
}

impl SmtpMailer {
    pub(crate) fn new(settings: &SmtpSettings, from: Mailbox) -> Result<Self, DeliveryError> {
        let invalid = |reason: String| DeliveryError::InvalidSettings { reason };
        retry::check_settings("email", settings.timeout_ms, settings.retries)?;
        let tls = |host: &str| {
            TlsParameters::new(host.to_owned()).map_err(|e| {
                invalid(format!(
                    "cannot set up TLS for {host}: {}",
                    retry::chain(&e)
                ))
            })
        };
        let tls = match settings.tls {
            SmtpTls::None if !crate::is_loopback(&settings.host) => {
                return Err(invalid(format!(
                    "email.tls = \"none\" sends in the clear, so only to a relay on a loopback host, not {}: set email.tls to \"starttls\" or \"tls\"",
                    settings.host
                )));
            }
            SmtpTls::None => Tls::None,
            SmtpTls::Starttls => Tls::Required(tls(&settings.host)?),
            SmtpTls::Tls => Tls::Wrapper(tls(&settings.host)?),
        };
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&settings.host)
            .port(settings.port)
            .tls(tls)
            .timeout(Some(Duration::from_millis(settings.timeout_ms)));
        match (&settings.username, &settings.password) {
            (Some(username), Some(password)) => {
                builder = builder.credentials(Credentials::new(
                    username.clone(),
                    password.expose().to_owned(),
                ));
            }
            (None, None) => {}
            _ => {
                return Err(invalid(
                    "set both email.username and email.password, or neither".to_owned(),
                ));
            }
        }
        let inner = Inner {
            transport: builder.build(),
            from,
            address: format!("{}:{}", settings.host, settings.port),
            timeout_ms: settings.timeout_ms,
            retries: settings.retries,
        };
        Ok(Self {
            inner: Arc::new(inner),
        })
    }

    pub async fn send(&self, email: &Email) -> Result<(), DeliveryError> {
        self.inner.send(email).await
    }
}

impl Inner {
    async fn send(&self, email: &Email) -> Result<(), DeliveryError> {
        let message = self.message(email)?;
        let policy = Policy {
            timeout: Duration::from_millis(self.timeout_ms),
            retries: self.retries,
        };
        let to = email_hint(&email.to);
        let timed_out = || DeliveryError::Smtp {
            reason: format!(
                "{} did not answer within {} ms",
                self.address, self.timeout_ms
            ),
        };
        retry::with_retries(&policy, &to, timed_out, || self.try_once(&message)).await?;
        tracing::info!(to, "e-mail accepted by the SMTP server");
        Ok(())
    }

    async fn try_once(&self, message: &Message) -> Result<(), Failure> {
        match self.transport.send(message.clone()).await {
            Ok(_) => Ok(()),
            Err(e) => {
                let error = DeliveryError::Smtp {
                    reason: format!("{}: {}", self.address, retry::chain(&e)),
                };
                // 5xx: the server will say the same next time.
                if e.is_permanent() {
                    Err(Failure::Permanent(error))
                } else {
                    Err(Failure::Transient(error))
                }
            }
        }
    }

    fn message(&self, email: &Email) -> Result<Message, DeliveryError> {
        let to: Mailbox = email
            .to
            .parse()
            .map_err(|e| DeliveryError::InvalidAddress {
                reason: format!("{:?}: {e}", email.to),
            })?;
        // A line break in a subject would end the header; lettre would encode it, but a subject
        // is one line to every reader anyway.
        let subject = email.subject.replace(['\r', '\n'], " ");
        Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(subject)
            .header(ContentType::TEXT_PLAIN)
            .body(email.text.clone())
            .map_err(|e| DeliveryError::InvalidAddress {
                reason: e.to_string(),
            })
    }
}

impl fmt::Debug for SmtpMailer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = &self.inner;
        f.debug_struct("SmtpMailer")
            .field("address", &inner.address)
            .field("from", &inner.from.to_string())
            .field("timeout_ms", &inner.timeout_ms)
            .field("retries", &inner.retries)
            .finish_non_exhaustive()
    }
}
