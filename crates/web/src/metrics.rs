//! What the portal counts for its operator, served as Prometheus' text format
//! (`GET /metrics`). Label values come from closed sets (results, methods,
//! limits, route templates, status codes), never from what a person typed, so no
//! personal data reaches a label.
//!
//! Counters live in this process: with several instances, Prometheus scrapes each
//! and sums them, as it does for any counter. `labels` holds the closed sets of
//! label values, `access` who may read the page.

mod access;
mod labels;

pub use access::{InvalidNetwork, MetricsAccess, Network};
pub use labels::{Delivery, Limit, SignInResult};

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

/// Upper bounds, in seconds, of the latency histograms' buckets: from a cached
/// page (a millisecond) to a password hash under load (seconds).
const SECONDS_BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

/// Every metric of the portal. One per process, shared by every request.
pub struct Metrics {
    pub sign_ins: Counters,
    pub second_step: Counters,
    pub sms_sent: Counters,
    pub emails_sent: Counters,
    pub limits_hit: Counters,
    pub password_hash_queue: Gauge,
    pub password_hash_seconds: Histograms,
    pub http_requests: Counters,
    pub http_request_duration: Histograms,
}

impl Default for Metrics {
    fn default() -> Self {
        Self {
            sign_ins: Counters::new(
                "twostep_sign_ins_total",
                "Sign-in attempts on the portal and the API, by result.",
                &["result"],
            ),
            second_step: Counters::new(
                "twostep_second_step_total",
                "Second-step codes checked, by method and result.",
                &["method", "result"],
            ),
            sms_sent: Counters::new(
                "twostep_sms_sent_total",
                "Text messages handed to the SMS gateway, by result.",
                &["result"],
            ),
            emails_sent: Counters::new(
                "twostep_emails_sent_total",
                "E-mails handed to the mail server, by result.",
                &["result"],
            ),
            limits_hit: Counters::new(
                "twostep_limits_hit_total",
                "Attempts refused because a limit was reached, by limit.",
                &["limit"],
            ),
            password_hash_queue: Gauge::new(
                "twostep_password_hash_queue",
                "Password hashes waiting for or running on a hashing thread.",
            ),
            password_hash_seconds: Histograms::new(
                "twostep_password_hash_seconds",
                "Time from asking for a password hash to its answer, queue included.",
                &[],
            ),
            http_requests: Counters::new(
                "twostep_http_requests_total",
                "HTTP requests answered, by route template and status.",
                &["route", "status"],
            ),
            http_request_duration: Histograms::new(
                "twostep_http_request_duration_seconds",
                "Time to answer an HTTP request, by route template.",
                &["route"],
            ),
        }
    }
}

impl Metrics {
    /// The text exposition format, version 0.0.4.
    pub fn render(&self) -> String {
        let mut out = String::new();
        self.sign_ins.render(&mut out);
        self.second_step.render(&mut out);
        self.sms_sent.render(&mut out);
        self.emails_sent.render(&mut out);
        self.limits_hit.render(&mut out);
        self.password_hash_queue.render(&mut out);
        self.password_hash_seconds.render(&mut out);
        self.http_requests.render(&mut out);
        self.http_request_duration.render(&mut out);
        out
    }
}

/// The content type Prometheus expects for `render`'s output.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// A metric with one `V` for each combination of label values seen so far.
pub struct Labelled<V> {
    name: &'static str,
    help: &'static str,
    labels: &'static [&'static str],
    values: Mutex<BTreeMap<Vec<String>, V>>,
}

impl<V: Default> Labelled<V> {
    fn new(name: &'static str, help: &'static str, labels: &'static [&'static str]) -> Self {
        Self {
            name,
            help,
            labels,
            values: Mutex::new(BTreeMap::new()),
        }
    }

    /// Changes the value of one label combination; `values` are given in the
    /// order of the metric's label names.
    fn update(&self, values: &[&str], change: impl FnOnce(&mut V)) {
        debug_assert_eq!(values.len(), self.labels.len(), "{}", self.name);
        let key: Vec<String> = values.iter().map(|v| (*v).to_owned()).collect();
        if let Ok(mut map) = self.values.lock() {
            change(map.entry(key).or_default());
        }
    }
}

/// A counter for each combination of label values seen so far.
pub type Counters = Labelled<u64>;

impl Counters {
    /// Adds one; `values` are given in the order of the metric's label names.
    pub fn inc(&self, values: &[&str]) {
        self.update(values, |count| *count += 1);
    }

    fn render(&self, out: &mut String) {
        header(out, self.name, self.help, "counter");
        let Ok(map) = self.values.lock() else { return };
        for (values, count) in map.iter() {
            let _ = writeln!(
                out,
                "{}{} {count}",
                self.name,
                label_set(self.labels, values, None)
            );
        }
    }
}

/// One value that goes up and down.
pub struct Gauge {
    name: &'static str,
    help: &'static str,
    value: AtomicI64,
}

impl Gauge {
    fn new(name: &'static str, help: &'static str) -> Self {
        Self {
            name,
            help,
            value: AtomicI64::new(0),
        }
    }

    pub fn add(&self, delta: i64) {
        self.value.fetch_add(delta, Ordering::Relaxed);
    }

    pub fn get(&self) -> i64 {
        self.value.load(Ordering::Relaxed)
    }

    fn render(&self, out: &mut String) {
        header(out, self.name, self.help, "gauge");
        let _ = writeln!(out, "{} {}", self.name, self.get());
    }
}

/// A latency histogram for each combination of label values seen so far.
pub type Histograms = Labelled<Histogram>;

#[derive(Default)]
pub struct Histogram {
    /// Observations at or below each bound of `SECONDS_BUCKETS`, not cumulated.
    buckets: [u64; SECONDS_BUCKETS.len()],
    count: u64,
    sum_seconds: f64,
}

impl Histograms {
    pub fn observe(&self, values: &[&str], elapsed: Duration) {
        let seconds = elapsed.as_secs_f64();
        self.update(values, |histogram| {
            if let Some(bucket) = SECONDS_BUCKETS.iter().position(|bound| seconds <= *bound) {
                histogram.buckets[bucket] += 1;
            }
            histogram.count += 1;
            histogram.sum_seconds += seconds;
        });
    }

    fn render(&self, out: &mut String) {
        header(out, self.name, self.help, "histogram");
        let Ok(map) = self.values.lock() else { return };
        for (values, histogram) in map.iter() {
            let mut cumulated = 0;
            for (bound, in_bucket) in SECONDS_BUCKETS.iter().zip(histogram.buckets) {
                cumulated += in_bucket;
                let le = bound.to_string();
                let _ = writeln!(
                    out,
                    "{}_bucket{} {cumulated}",
                    self.name,
                    label_set(self.labels, values, Some(&le))
                );
            }
            let labels = label_set(self.labels, values, None);
            let _ = writeln!(
                out,
                "{}_bucket{} {}",
                self.name,
                label_set(self.labels, values, Some("+Inf")),
                histogram.count
            );
            let _ = writeln!(out, "{}_sum{labels} {}", self.name, histogram.sum_seconds);
            let _ = writeln!(out, "{}_count{labels} {}", self.name, histogram.count);
        }
    }
}

fn header(out: &mut String, name: &str, help: &str, kind: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

/// `{a="x",b="y"}`, with `le` last for a histogram bucket; empty without labels.
fn label_set(names: &[&str], values: &[String], le: Option<&str>) -> String {
    let mut pairs: Vec<String> = names
        .iter()
        .zip(values)
        .map(|(name, value)| format!("{name}=\"{}\"", escape(value)))
        .collect();
    if let Some(le) = le {
        pairs.push(format!("le=\"{le}\""));
    }
    if pairs.is_empty() {
        String::new()
    } else {
        format!("{{{}}}", pairs.join(","))
    }
}

/// The text format's escapes for label values: backslash, quote and newline.
fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// Counts its own lifetime on a gauge: one more while alive, whatever way it ends.
pub struct GaugeGuard<'a>(&'a Gauge);

impl<'a> GaugeGuard<'a> {
    pub fn enter(gauge: &'a Gauge) -> Self {
        gauge.add(1);
        Self(gauge)
    }
}

impl Drop for GaugeGuard<'_> {
    fn drop(&mut self) {
        self.0.add(-1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_are_rendered_per_label_set_with_help_and_type() {
        let metrics = Metrics::default();
        metrics.sign_ins.inc(&["success"]);
        metrics.sign_ins.inc(&["success"]);
        metrics.sign_ins.inc(&["wrong_password"]);
        let text = metrics.render();
        assert!(text.contains("# TYPE twostep_sign_ins_total counter\n"));
        assert!(text.contains("twostep_sign_ins_total{result=\"success\"} 2\n"));
        assert!(text.contains("twostep_sign_ins_total{result=\"wrong_password\"} 1\n"));
    }

    #[test]
    fn histogram_buckets_are_cumulative_and_end_with_inf() {
        let metrics = Metrics::default();
        let route = ["/sign-in"];
        metrics
            .http_request_duration
            .observe(&route, Duration::from_millis(3));
        metrics
            .http_request_duration
            .observe(&route, Duration::from_millis(30));
        metrics
            .http_request_duration
            .observe(&route, Duration::from_secs(60));
        let text = metrics.render();
        let name = "twostep_http_request_duration_seconds";
        assert!(text.contains(&format!(
            "{name}_bucket{{route=\"/sign-in\",le=\"0.0025\"}} 0\n"
        )));
        assert!(text.contains(&format!(
            "{name}_bucket{{route=\"/sign-in\",le=\"0.005\"}} 1\n"
        )));
        assert!(text.contains(&format!(
            "{name}_bucket{{route=\"/sign-in\",le=\"0.05\"}} 2\n"
        )));
        assert!(text.contains(&format!(
            "{name}_bucket{{route=\"/sign-in\",le=\"10\"}} 2\n"
        )));
        assert!(text.contains(&format!(
            "{name}_bucket{{route=\"/sign-in\",le=\"+Inf\"}} 3\n"
        )));
        assert!(text.contains(&format!("{name}_count{{route=\"/sign-in\"}} 3\n")));
    }

    #[test]
    fn a_gauge_guard_counts_while_alive() {
        let metrics = Metrics::default();
        {
            let _one = GaugeGuard::enter(&metrics.password_hash_queue);
            let _two = GaugeGuard::enter(&metrics.password_hash_queue);
            assert_eq!(metrics.password_hash_queue.get(), 2);
        }
        assert_eq!(metrics.password_hash_queue.get(), 0);
        assert!(metrics.render().contains("twostep_password_hash_queue 0\n"));
    }

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(escape("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }
}
