//! `/metrics`: the Prometheus text format, read back with a Prometheus
//! text-format parser; its counters move as people sign in, it names no person,
//! and it is shown only to those allowed to see it.

use std::collections::HashMap;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use prometheus_parse::{LineInfo, Scrape, Value};

use crate::helpers::*;

/// Every sample of a scrape by name and sorted labels, e.g.
/// `twostep_sign_ins_total{result="accepted"}`; a histogram by its count.
struct Metrics(HashMap<String, f64>);

impl Metrics {
    /// `name{a="x",b="y"}` with labels in name order, or 0 when never counted.
    fn get(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        let mut labels = labels.to_vec();
        labels.sort();
        let key = format!(
            "{name}{{{}}}",
            labels
                .iter()
                .map(|(k, v)| format!("{k}=\"{v}\""))
                .collect::<Vec<_>>()
                .join(",")
        );
        self.0.get(&key).copied().unwrap_or(0.0)
    }
}

/// Reads `/metrics` as Prometheus does, insisting that every line is one the
/// parser understands: the parser skips what it cannot read, which would hide
/// a malformed line.
async fn scrape(app: &TestApp) -> (String, Metrics) {
    let response = reqwest::get(app.url("/metrics")).await.unwrap();
    assert_eq!(response.status(), 200);
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(content_type, "text/plain; version=0.0.4; charset=utf-8");
    let text = response.text().await.unwrap();
    (text.clone(), parse(&text))
}

fn parse(text: &str) -> Metrics {
    for line in text.lines() {
        match LineInfo::parse(line) {
            LineInfo::Doc { .. } | LineInfo::Type { .. } => {}
            LineInfo::Sample { value, .. } => {
                assert!(value.parse::<f64>().is_ok(), "a sample's value: {line}")
            }
            other => panic!("a line the parser cannot read ({other:?}): {line}"),
        }
    }
    let scrape = Scrape::parse(text.lines().map(|line| Ok(line.to_owned()))).unwrap();
    let mut samples = HashMap::new();
    for sample in scrape.samples {
        let mut labels: Vec<(String, String)> = sample
            .labels
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        labels.sort();
        let key = format!(
            "{}{{{}}}",
            sample.metric,
            labels
                .iter()
                .map(|(k, v)| format!("{k}=\"{v}\""))
                .collect::<Vec<_>>()
                .join(",")
        );
        let value = match sample.value {
            Value::Counter(v) | Value::Gauge(v) | Value::Untyped(v) => v,
            Value::Histogram(buckets) => {
                let inf = buckets
                    .iter()
                    .find(|b| b.less_than.is_infinite())
                    .expect("a histogram ends with le=\"+Inf\"");
                let mut counts: Vec<f64> = buckets.iter().map(|b| b.count).collect();
                let sorted = {
                    let mut sorted = buckets.clone();
                    sorted.sort_by(|a, b| a.less_than.total_cmp(&b.less_than));
                    sorted.iter().map(|b| b.count).collect::<Vec<_>>()
                };
                counts.sort_by(f64::total_cmp);
                assert_eq!(sorted, counts, "buckets are cumulative: {key}");
                inf.count
            }
            Value::Summary(_) => panic!("no summaries: {key}"),
        };
        samples.insert(key, value);
    }
    Metrics(samples)
}

#[tokio::test]
async fn counters_move_as_a_sign_in_with_a_code_and_a_refused_attempt_run() {
    let (app, browser) = spawn_with_sms_two_step("ann@example.com").await;
    browser.sign_out().await;
    let (_, before) = scrape(&app).await;

    app.assert_sign_in_refused("ann@example.com", "not the password")
        .await;
    browser
        .sign_in("ann@example.com", PASSWORD)
        .await
        .assert_redirect_to("/sign-in/verify");
    let code = app.last_sms_code(PHONE_E164);
    browser.assert_sign_in_code_refused(wrong_code(&code)).await;
    browser.assert_sign_in_code_accepted(&code).await;
    let (_, after) = scrape(&app).await;

    let moved =
        |name: &str, labels: &[(&str, &str)]| after.get(name, labels) - before.get(name, labels);
    let second_step = "twostep_second_step_total";
    let requests = "twostep_http_requests_total";
    let moved_by_one: [(&str, &[(&str, &str)]); 7] = [
        ("twostep_sign_ins_total", &[("result", "accepted")]),
        ("twostep_sign_ins_total", &[("result", "wrong_password")]),
        (second_step, &[("method", "sms"), ("result", "wrong_code")]),
        (second_step, &[("method", "sms"), ("result", "accepted")]),
        ("twostep_sms_sent_total", &[("result", "sent")]),
        (requests, &[("route", "/sign-in"), ("status", "422")]),
        (requests, &[("route", "/sign-in/verify"), ("status", "303")]),
    ];
    for (name, labels) in moved_by_one {
        assert_eq!(moved(name, labels), 1.0, "{name} {labels:?}");
    }
    assert!(
        moved(
            "twostep_http_request_duration_seconds",
            &[("route", "/sign-in/verify")]
        ) >= 2.0,
        "the wrong and the right code were timed"
    );
    // Two passwords checked; the queue is empty again once they are answered.
    assert!(moved("twostep_password_hash_seconds", &[]) >= 2.0);
    assert_eq!(after.get("twostep_password_hash_queue", &[]), 0.0);
    // Setting up SMS sent a security e-mail, in the background.
    app.wait_for_email("ann@example.com", "").await;
    let (_, later) = scrape(&app).await;
    assert!(later.get("twostep_emails_sent_total", &[("result", "sent")]) >= 1.0);
}

#[tokio::test]
async fn a_code_entered_wrong_too_often_counts_a_limit_hit() {
    let (app, _) = spawn_with_sms_two_step("ann@example.com").await;
    let browser = app.past_the_password("ann@example.com").await;
    let code = app.last_sms_code(PHONE_E164);
    let limit_hits = |metrics: &Metrics| {
        metrics.get("twostep_limits_hit_total", &[("limit", "sms_code_entries")])
    };
    for _ in 0..4 {
        browser.assert_sign_in_code_refused(wrong_code(&code)).await;
    }
    let (_, metrics) = scrape(&app).await;
    assert_eq!(
        limit_hits(&metrics),
        0.0,
        "four wrong entries are within the limit"
    );
    // The fifth uses the last place and locks the code; the sixth is refused unchecked.
    browser.assert_sign_in_code_refused(wrong_code(&code)).await;
    let (_, metrics) = scrape(&app).await;
    assert_eq!(limit_hits(&metrics), 1.0);
    browser.assert_sign_in_code_refused(&code).await;
    let (_, metrics) = scrape(&app).await;
    assert_eq!(limit_hits(&metrics), 2.0);
    let second_step = "twostep_second_step_total";
    assert_eq!(
        metrics.get(second_step, &[("method", "sms"), ("result", "wrong_code")]),
        4.0
    );
    assert_eq!(
        metrics.get(
            second_step,
            &[("method", "sms"), ("result", "too_many_attempts")]
        ),
        2.0
    );
}

#[tokio::test]
async fn no_email_address_or_phone_number_appears_in_the_metrics() {
    let (app, browser) = spawn_with_sms_two_step("ann@example.com").await;
    browser.sign_out().await;
    app.assert_sign_in_refused("ann@example.com", "not the password")
        .await;
    app.assert_sign_in_refused("bob@example.com", "not the password")
        .await;
    browser
        .get("/account/connections/ann@example.com/disconnect")
        .await;
    browser.get("/+16502530000").await;
    let (text, metrics) = scrape(&app).await;
    for personal in [
        "ann@",
        "bob@",
        "example.com",
        "6502530000",
        "253 0000",
        "%40",
    ] {
        assert!(!text.contains(personal), "{personal} in:\n{text}");
    }
    // The paths above are counted by their template, or as unmatched.
    let requests = "twostep_http_requests_total";
    let template = "/account/connections/:id/disconnect";
    assert_eq!(
        metrics.get(requests, &[("route", template), ("status", "303")]),
        1.0
    );
    assert_eq!(
        metrics.get(requests, &[("route", "unmatched"), ("status", "404")]),
        1.0
    );
}

/// The binary with `/metrics` on its own address; ended when dropped.
struct Served(Child);

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

async fn get_status(url: &str) -> Option<u16> {
    reqwest::get(url).await.ok().map(|r| r.status().as_u16())
}

#[tokio::test]
async fn with_a_listener_of_its_own_the_metrics_are_served_there_and_only_there() {
    let dir = tempfile::tempdir().unwrap();
    let (main, metrics) = (free_port(), free_port());
    let _served = Served(
        Command::new(env!("CARGO_BIN_EXE_twostep"))
            .arg("--data-dir")
            .arg(dir.path())
            .args(["--listen", &format!("127.0.0.1:{main}"), "serve"])
            .env("TWOSTEP_METRICS_LISTEN", format!("127.0.0.1:{metrics}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("the twostep binary starts"),
    );
    let health = format!("http://127.0.0.1:{main}/healthz");
    for _ in 0..100 {
        if get_status(&health).await == Some(200) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(get_status(&health).await, Some(200), "the portal started");

    let own = reqwest::get(format!("http://127.0.0.1:{metrics}/metrics"))
        .await
        .unwrap();
    assert_eq!(own.status(), 200);
    let text = own.text().await.unwrap();
    assert!(
        text.contains("# TYPE twostep_sign_ins_total counter"),
        "{text}"
    );
    // The health checks above were counted by the portal; scraping is not.
    let parsed = parse(&text);
    let requests = "twostep_http_requests_total";
    assert!(parsed.get(requests, &[("route", "/healthz"), ("status", "200")]) >= 1.0);
    assert_eq!(
        parsed.get(requests, &[("route", "/metrics"), ("status", "200")]),
        0.0
    );
    assert_eq!(
        get_status(&format!("http://127.0.0.1:{main}/metrics")).await,
        Some(404),
        "not on the main listener, even from loopback"
    );
}
