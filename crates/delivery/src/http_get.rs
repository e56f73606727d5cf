//! One HTTP/1.1 GET, over TCP for `http` or over rustls (ring, webpki roots and
//! an optional CA file) for `https`, with hyper: all the Kannel provider needs.
//!
//! Not reqwest: its rustls support either brings aws-lc or, without a provider,
//! makes every other reqwest client in the process (the tests', the
//! benchmark's) panic until a default provider is installed.

use std::fmt;
use std::path::Path;
use std::sync::Arc;

use http_body_util::{BodyExt, Empty, Limited};
use hyper::body::Bytes;
use hyper::{Request, StatusCode, header};
use hyper_util::rt::TokioIo;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use url::{Host, Position, Url};

/// More than any gateway's answer; what is beyond is not read.
const LONGEST_ANSWER: usize = 64 * 1024;

pub(crate) type GetError = Box<dyn std::error::Error + Send + Sync>;

/// Where one URL's requests go, and how.
#[derive(Clone)]
pub(crate) struct HttpGet {
    /// The host as a socket address wants it (an IPv6 address without brackets).
    host: String,
    port: u16,
    /// `None` for plain `http`.
    tls: Option<TlsConnector>,
}

impl fmt::Debug for HttpGet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "HttpGet({}:{}, tls: {})",
            self.host,
            self.port,
            self.tls.is_some()
        )
    }
}

trait Stream: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Stream for T {}

impl HttpGet {
    /// For `url`, an `http` or `https` URL with a host; `setting` names it in errors.
    pub(crate) fn new(url: &Url, ca_file: Option<&Path>, setting: &str) -> Result<Self, String> {
        let host = match url.host() {
            Some(Host::Domain(name)) => name.to_owned(),
            Some(Host::Ipv4(ip)) => ip.to_string(),
            Some(Host::Ipv6(ip)) => ip.to_string(),
            None => return Err(format!("{setting} has no host")),
        };
        let port = url
            .port_or_known_default()
            .ok_or_else(|| format!("{setting} has no port"))?;
        let tls = match url.scheme() {
            "https" => Some(TlsConnector::from(Arc::new(tls_config(ca_file)?))),
            _ => None,
        };
        Ok(Self { host, port, tls })
    }

    /// GETs `url` (of this host) and answers the status and the body's text.
    pub(crate) async fn get(&self, url: &Url) -> Result<(StatusCode, String), GetError> {
        let tcp = TcpStream::connect((self.host.as_str(), self.port)).await?;
        tcp.set_nodelay(true)?;
        let stream: Box<dyn Stream> = match &self.tls {
            Some(tls) => {
                let name = ServerName::try_from(self.host.clone())?;
                Box::new(tls.connect(name, tcp).await?)
            }
            None => Box::new(tcp),
        };
        let (mut sender, connection) =
            hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
        // Ends when the answer is read and the request dropped, or with the try's timeout.
        tokio::spawn(connection);
        let request = Request::get(&url[Position::BeforePath..])
            .header(
                header::HOST,
                &url[Position::BeforeHost..Position::AfterPort],
            )
            .body(Empty::<Bytes>::new())?;
        let response = sender.send_request(request).await?;
        let status = response.status();
        let body = Limited::new(response.into_body(), LONGEST_ANSWER)
            .collect()
            .await?
            .to_bytes();
        Ok((status, String::from_utf8_lossy(&body).into_owned()))
    }
}

/// rustls on ring trusting the web's public authorities (webpki roots, as for
/// SMTP and PostgreSQL) and the certificates in `ca_file`.
fn tls_config(ca_file: Option<&Path>) -> Result<rustls::ClientConfig, String> {
    let mut roots = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    if let Some(path) = ca_file {
        let unreadable = |e: &dyn fmt::Display| format!("sms.ca_file {}: {e}", path.display());
        let certificates = CertificateDer::pem_file_iter(path)
            .map_err(|e| unreadable(&e))?
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| unreadable(&e))?;
        if certificates.is_empty() {
            return Err(unreadable(&"no PEM certificate in it"));
        }
        for certificate in certificates {
            roots.add(certificate).map_err(|e| unreadable(&e))?;
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("cannot set up TLS: {e}"))?
        .with_root_certificates(roots)
        .with_no_client_auth())
}
