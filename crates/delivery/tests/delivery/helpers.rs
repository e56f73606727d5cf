//! What several test modules need: a stand-in HTTP gateway, log capture, the repository's paths.

use std::cell::RefCell;
use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, Once};
use std::time::{Duration, Instant};

use delivery::KannelSettings;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};

use crate::stand_ins::read_request_target;

/// The repository's root, where `scripts/` and `testing/` are.
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A loopback port where nothing listens: bound, then let go.
pub fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
    listener.local_addr().expect("local address").port()
}

/// A send to the `closed_port()` `port` failed within 3 s, and its `reason`
/// names the address, so an operator knows what could not be reached.
#[track_caller]
pub fn assert_unreachable_quickly(reason: &str, port: u16, start: Instant) {
    assert!(reason.contains(&format!("127.0.0.1:{port}")), "{reason}");
    assert!(
        start.elapsed() < Duration::from_secs(3),
        "took {:?}",
        start.elapsed()
    );
}

/// Kannel settings for `url` with the given retries and a short timeout.
pub fn kannel_settings(url: String, retries: u32) -> KannelSettings {
    KannelSettings {
        url,
        username: "twostep".to_owned(),
        password: "s3cret-kannel-password".into(),
        sender: "twostep".to_owned(),
        timeout_ms: 2000,
        retries,
        ca_file: None,
    }
}

/// How a stand-in gateway answers: a status and a body, or nothing at all.
#[derive(Clone, Copy)]
pub enum Answer {
    With(u16, &'static str),
    Never,
}

/// An HTTP server on loopback that answers every request the same way and keeps each request's
/// target (`/cgi-bin/sendsms?...`), so tests can check what a real Kannel would have been sent.
pub struct StubGateway {
    pub addr: SocketAddr,
    pub targets: Arc<Mutex<Vec<String>>>,
    scheme: &'static str,
}

/// Keeps the request's target and answers it as `answer` says.
async fn answer_request(
    mut stream: impl AsyncRead + AsyncWrite + Unpin,
    answer: Answer,
    seen: &Mutex<Vec<String>>,
) {
    let Some(target) = read_request_target(&mut stream).await else {
        return;
    };
    seen.lock().unwrap().push(target);
    match answer {
        Answer::With(status, body) => {
            let response = format!(
                "HTTP/1.1 {status} Whatever\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = stream.write_all(response.as_bytes()).await;
            let _ = stream.shutdown().await;
        }
        Answer::Never => tokio::time::sleep(Duration::from_secs(60)).await,
    }
}

/// The test authority that signed `testing/tls/gateway.pem`, for `sms.ca_file`.
pub fn test_ca_file() -> PathBuf {
    repo_root().join("testing/tls/ca.pem")
}

fn tls_acceptor() -> TlsAcceptor {
    let dir = repo_root().join("testing/tls");
    let chain = CertificateDer::pem_file_iter(dir.join("gateway.pem"))
        .expect("testing/tls/gateway.pem")
        .collect::<Result<Vec<_>, _>>()
        .expect("a PEM certificate");
    let key =
        PrivateKeyDer::from_pem_file(dir.join("gateway.key")).expect("testing/tls/gateway.key");
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("TLS versions")
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .expect("the test certificate and its key");
    TlsAcceptor::from(Arc::new(config))
}

impl StubGateway {
    pub async fn start(answer: Answer) -> Self {
        Self::start_with(answer, None).await
    }

    /// The same over https, with the certificate `testing/tls/ca.pem` signed for 127.0.0.1.
    pub async fn start_tls(answer: Answer) -> Self {
        Self::start_with(answer, Some(tls_acceptor())).await
    }

    async fn start_with(answer: Answer, tls: Option<TlsAcceptor>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the stub gateway");
        let addr = listener.local_addr().expect("local address");
        let targets = Arc::new(Mutex::new(Vec::new()));
        let seen = Arc::clone(&targets);
        let scheme = if tls.is_some() { "https" } else { "http" };
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let (seen, tls) = (Arc::clone(&seen), tls.clone());
                tokio::spawn(async move {
                    match tls {
                        // A client that does not trust the certificate hangs up here.
                        Some(tls) => {
                            if let Ok(stream) = tls.accept(stream).await {
                                answer_request(stream, answer, &seen).await;
                            }
                        }
                        None => answer_request(stream, answer, &seen).await,
                    }
                });
            }
        });
        Self {
            addr,
            targets,
            scheme,
        }
    }

    pub fn url(&self) -> String {
        format!("{}://{}/cgi-bin/sendsms", self.scheme, self.addr)
    }

    pub fn requests(&self) -> usize {
        self.targets.lock().unwrap().len()
    }

    /// The query parameters of the first request, decoded.
    pub fn first_query(&self) -> Vec<(String, String)> {
        let target = self
            .targets
            .lock()
            .unwrap()
            .first()
            .cloned()
            .expect("a request");
        let url = url::Url::parse(&format!("http://stub{target}")).expect("a request target");
        url.query_pairs()
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect()
    }
}

/// Everything logged at any level on this thread while alive, as plain text. Only for
/// `#[tokio::test]`s on the default current-thread runtime, where all tasks run on the test's
/// thread.
///
/// One global subscriber writes to whichever capture the logging thread has: a per-test
/// `set_default` would miss events whose callsites other tests, running without a subscriber,
/// had already marked as never wanted.
pub struct CapturedLogs {
    text: Arc<Mutex<Vec<u8>>>,
}

thread_local! {
    static CAPTURE: RefCell<Option<Arc<Mutex<Vec<u8>>>>> = const { RefCell::new(None) };
}

impl CapturedLogs {
    pub fn start() -> Self {
        static GLOBAL: Once = Once::new();
        GLOBAL.call_once(|| {
            let subscriber = tracing_subscriber::fmt()
                .with_max_level(tracing::Level::TRACE)
                .with_ansi(false)
                .with_writer(|| ThreadWriter)
                .finish();
            tracing::subscriber::set_global_default(subscriber)
                .expect("no other global subscriber");
        });
        let text = Arc::new(Mutex::new(Vec::new()));
        CAPTURE.with(|capture| *capture.borrow_mut() = Some(Arc::clone(&text)));
        Self { text }
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.text.lock().unwrap()).into_owned()
    }
}

impl Drop for CapturedLogs {
    fn drop(&mut self) {
        CAPTURE.with(|capture| *capture.borrow_mut() = None);
    }
}

struct ThreadWriter;

impl Write for ThreadWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        CAPTURE.with(|capture| {
            if let Some(text) = &*capture.borrow() {
                text.lock().unwrap().extend_from_slice(buf);
            }
        });
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Polls `check` every 100 ms until it returns `Some`, or `None` after `limit`.
pub async fn wait_until<T>(limit: Duration, mut check: impl FnMut() -> Option<T>) -> Option<T> {
    let start = Instant::now();
    loop {
        if let Some(found) = check() {
            return Some(found);
        }
        if start.elapsed() > limit {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
