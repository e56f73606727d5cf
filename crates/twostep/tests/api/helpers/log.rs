//! The log as this test binary writes it, for tests that check what an
//! operator reads.

/// Everything this test binary logs, from the first call of [`captured_log`] on.
/// A process-wide subscriber rather than one for this test's thread: callsites
/// that other tests' threads reached first could keep the interest they had
/// without one.
#[derive(Clone, Default)]
pub struct CapturedLog(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl CapturedLog {
    /// One line logs an internal error with this request id and this cause.
    pub fn assert_internal_error(&self, request_id: &str, cause: &str) {
        let logged = String::from_utf8(self.0.lock().unwrap().clone()).unwrap();
        assert!(
            logged.lines().any(|line| line.contains("internal error")
                && line.contains(&format!("request_id={request_id}"))
                && line.contains(&format!("error={cause}"))),
            "no internal error {request_id} with {cause:?} in the log: {logged}"
        );
    }

    /// Everything logged so far.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

impl std::io::Write for CapturedLog {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for CapturedLog {
    type Writer = Self;
    fn make_writer(&'a self) -> Self {
        self.clone()
    }
}

pub fn captured_log() -> CapturedLog {
    static LOG: std::sync::OnceLock<CapturedLog> = std::sync::OnceLock::new();
    LOG.get_or_init(|| {
        let log = CapturedLog::default();
        tracing::subscriber::set_global_default(
            tracing_subscriber::fmt()
                .with_writer(log.clone())
                .with_ansi(false)
                .finish(),
        )
        .expect("no other test sets a subscriber");
        log
    })
    .clone()
}
