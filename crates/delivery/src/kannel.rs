//! The Kannel provider: one HTTP GET to smsbox's sendsms interface per try.
//!
//! Kannel answers `0: Accepted for delivery` or `3: Queued for later delivery` (both HTTP 202)
//! when it takes the message; anything else is a refusal. The request URL holds the password, the
//! number and the text, so neither it nor anything derived from it reaches an error or a log:
//! reasons are built from the status, Kannel's answer and the URL's host only.

use std::fmt;
use std::time::Duration;

use hyper::StatusCode;
use url::Url;

use crate::http_get::{GetError, HttpGet};
use crate::retry::{self, Failure, Policy, phone_hint};
use crate::{DeliveryError, KannelSettings, Sms};

// Kannel's answers are one short line; a longer one is from something else at that address.
const LONGEST_REASON: usize = 200;

#[derive(Clone)]
pub struct KannelGateway {
    client: HttpGet,
    url: Url,
    username: String,
    password: String,
    sender: String,
    timeout_ms: u64,
    retries: u32,
}

impl KannelGateway {
    pub(crate) fn new(settings: &KannelSettings) -> Result<Self, DeliveryError> {
        let invalid = |reason: String| DeliveryError::InvalidSettings { reason };
        let url = Url::parse(&settings.url)
            .map_err(|e| invalid(format!("sms.url {:?} is not a URL: {e}", settings.url)))?;
        // The URL carries the password, the number and the code: in the clear
        // only to this machine.
        match url.scheme() {
            "https" => {}
            "http"
                if url
                    .host()
                    .is_some_and(|host| crate::is_loopback(&host.to_string())) => {}
            "http" => {
                return Err(invalid(format!(
                    "sms.url uses plain http to {}, which is not a loopback host: use https:// (the password, the number and the code would cross the network in the clear)",
                    url.host_str().unwrap_or_default()
                )));
            }
            _ => {
                return Err(invalid(format!(
                    "sms.url must start with https:// (or http:// to a loopback host), not {:?}",
                    settings.url
                )));
            }
        }
        retry::check_settings("sms", settings.timeout_ms, settings.retries)?;
        let client = HttpGet::new(&url, settings.ca_file.as_deref(), "sms.url").map_err(invalid)?;
        Ok(Self {
            client,
            url,
            username: settings.username.clone(),
            password: settings.password.expose().to_owned(),
            sender: settings.sender.clone(),
            timeout_ms: settings.timeout_ms,
            retries: settings.retries,
        })
    }

    pub async fn send(&self, sms: &Sms) -> Result<(), DeliveryError> {
        let policy = Policy {
            timeout: Duration::from_millis(self.timeout_ms),
            retries: self.retries,
        };
        let to = phone_hint(&sms.to);
        let timed_out = || DeliveryError::GatewayUnreachable {
            reason: self.no_answer(),
        };
        retry::with_retries(&policy, &to, timed_out, || self.try_once(sms)).await?;
        tracing::info!(to, "SMS accepted by the Kannel gateway");
        Ok(())
    }

    async fn try_once(&self, sms: &Sms) -> Result<(), Failure> {
        let mut url = self.url.clone();
        url.query_pairs_mut()
            .append_pair("username", &self.username)
            .append_pair("password", &self.password)
            .append_pair("from", &self.sender)
            .append_pair("to", &sms.to)
            .append_pair("text", &sms.text)
            // Kannel then turns the text into GSM 7-bit or UCS-2 as needed.
            .append_pair("charset", "UTF-8");
        let (status, answer) = self
            .client
            .get(&url)
            .await
            .map_err(|e| self.unreachable(e))?;
        let answer = answer.trim();
        if status.is_success() && (answer.starts_with('0') || answer.starts_with('3')) {
            return Ok(());
        }
        let reason = refusal_reason(status, answer, sms);
        let error = DeliveryError::GatewayRefused { reason };
        // Kannel answers 5xx when it cannot take messages right now (e.g. bearerbox is down).
        if status.is_server_error() {
            Err(Failure::Transient(error))
        } else {
            Err(Failure::Permanent(error))
        }
    }

    /// The errors of `HttpGet` never hold the URL, which carries the password,
    /// the number and the code; the try's timeout is `retry`'s.
    fn unreachable(&self, error: GetError) -> Failure {
        let reason = format!("{}: {}", self.address(), retry::chain(&*error));
        Failure::Transient(DeliveryError::GatewayUnreachable { reason })
    }

    fn no_answer(&self) -> String {
        format!(
            "{} did not answer within {} ms",
            self.address(),
            self.timeout_ms
        )
    }

    fn address(&self) -> String {
        let host = self.url.host_str().unwrap_or("?");
        match self.url.port_or_known_default() {
            Some(port) => format!("{host}:{port}"),
            None => host.to_owned(),
        }
    }
}

/// The status and the first line of Kannel's answer, cut short, with the number and the text
/// blanked in case whatever answered repeats them.
fn refusal_reason(status: StatusCode, answer: &str, sms: &Sms) -> String {
    let mut line: String = answer
        .lines()
        .next()
        .unwrap_or("")
        .chars()
        .take(LONGEST_REASON)
        .collect();
    for secret in [&sms.text, &sms.to] {
        if !secret.trim().is_empty() {
            line = line.replace(secret.as_str(), "<hidden>");
        }
    }
    if line.is_empty() {
        format!("HTTP {status} with an empty answer")
    } else {
        format!("HTTP {status}: {line}")
    }
}

impl fmt::Debug for KannelGateway {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KannelGateway")
            .field("url", &self.url.as_str())
            .field("username", &self.username)
            .field("sender", &self.sender)
            .field("timeout_ms", &self.timeout_ms)
            .field("retries", &self.retries)
            .finish_non_exhaustive()
    }
}
