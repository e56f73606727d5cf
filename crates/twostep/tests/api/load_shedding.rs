//! Load shedding: with every place in the password-hashing queue taken, pages
//! answer 503 "busy" and the API 503 `overloaded`, both with `Retry-After`,
//! instead of queueing; nothing answers 500, and once places free up the same
//! requests work again.
//!
//! The queue is held full deterministically by taking its places from the test
//! (`state.passwords.reserve()`), as hashes in flight would.

use serde_json::json;

use crate::helpers::{PASSWORD, TestApp, post_json, send_json, status_and_json};

const EMAIL: &str = "ann@example.com";

async fn spawn_with_queue_of(max_waiting: usize) -> TestApp {
    let app = TestApp::builder()
        .setting(
            "TWOSTEP_PASSWORD_HASH__MAX_WAITING",
            &max_waiting.to_string(),
        )
        .spawn()
        .await;
    let hash = app.state.passwords.hash(PASSWORD.to_owned()).await.unwrap();
    app.state
        .store
        .create_account(EMAIL, &hash, app.state.now())
        .await
        .unwrap();
    app
}

fn connect_body(password: &str) -> serde_json::Value {
    connect_body_for(EMAIL, password)
}

fn connect_body_for(email: &str, password: &str) -> serde_json::Value {
    json!({
        "app_id": "photon-desktop",
        "app_version": "3.2.0",
        "device_name": "Ann's laptop",
        "email": email,
        "password": password,
    })
}

async fn connect(app: &TestApp, password: &str) -> reqwest::Response {
    reqwest::Client::new()
        .post(app.url("/api/v1/apps/connect"))
        .json(&connect_body(password))
        .send()
        .await
        .unwrap()
}

/// The hash-queue refusals counted in `/metrics`.
async fn hash_queue_refusals(app: &TestApp) -> f64 {
    let text = reqwest::get(app.url("/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    text.lines()
        .find_map(|line| line.strip_prefix("twostep_limits_hit_total{limit=\"hash_queue\"} "))
        .map_or(0.0, |value| value.parse().unwrap())
}

#[tokio::test]
async fn a_full_hashing_queue_answers_the_api_503_overloaded_and_recovers() {
    let app = spawn_with_queue_of(1).await;
    let held = app.state.passwords.reserve().expect("the only place");

    let response = connect(&app, PASSWORD).await;
    assert_eq!(response.headers()["retry-after"], "5");
    let (status, body) = status_and_json(response).await;
    assert_eq!((status, body["error"].as_str()), (503, Some("overloaded")));
    assert_eq!(hash_queue_refusals(&app).await, 1.0);

    drop(held);
    let (status, body) = post_json(&app, "/api/v1/apps/connect", connect_body(PASSWORD)).await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn a_refusal_for_load_uses_up_none_of_the_wrong_password_count() {
    let app = spawn_with_queue_of(1).await;
    let held = app.state.passwords.reserve().expect("the only place");
    for _ in 0..20 {
        assert_eq!(connect(&app, "wrong password").await.status(), 503);
    }
    drop(held);
    // Twenty refusals, more than the ten wrong passwords allowed: none counted.
    let (status, body) = post_json(&app, "/api/v1/apps/connect", connect_body(PASSWORD)).await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn a_full_hashing_queue_answers_pages_with_a_busy_page_and_recovers() {
    let app = spawn_with_queue_of(1).await;
    let browser = app.browser();
    let held = app.state.passwords.reserve().expect("the only place");

    for (action, email) in [("/sign-in", EMAIL), ("/sign-up", "bob@example.com")] {
        let response = browser
            .post_form_response(
                "/forgot-password",
                action,
                &[("email", email), ("password", PASSWORD)],
            )
            .await;
        assert_eq!(response.status(), 503, "{action}");
        assert_eq!(response.headers()["retry-after"], "5", "{action}");
        let body = response.text().await.unwrap();
        assert!(
            body.contains("The service is busy. Try again in a moment."),
            "{action}: {body}"
        );
    }
    assert!(app.find_account("bob@example.com").await.is_none());

    drop(held);
    browser
        .sign_in(EMAIL, PASSWORD)
        .await
        .assert_redirect_to("/account");
    app.browser()
        .sign_up("bob@example.com", PASSWORD)
        .await
        .assert_checks_email();
    assert!(app.find_account("bob@example.com").await.is_some());
}

#[tokio::test]
async fn a_burst_of_sign_ins_beyond_the_queue_is_shed_with_503_never_500() {
    let app = spawn_with_queue_of(2).await;
    // One address each, so that no other limit than the queue's is reached:
    // each is either checked (and wrong) or shed.
    let tasks: Vec<_> = (0..40)
        .map(|n| {
            let url = app.url("/api/v1/apps/connect");
            let body = connect_body_for(&format!("user{n}@example.com"), "wrong password");
            tokio::spawn(async move {
                let response = send_json(url, &body).await;
                let retry_after = response.headers().contains_key("retry-after");
                let (status, body) = status_and_json(response).await;
                (
                    status,
                    body["error"].as_str().map(str::to_owned),
                    retry_after,
                )
            })
        })
        .collect();
    let mut shed = 0;
    for task in tasks {
        match task.await.unwrap() {
            (401, Some(error), false) if error == "invalid_credentials" => {}
            (503, Some(error), true) if error == "overloaded" => shed += 1,
            other => panic!("neither connected nor shed: {other:?}"),
        }
    }
    assert_eq!(hash_queue_refusals(&app).await, f64::from(shed));
    let (status, body) = post_json(&app, "/api/v1/apps/connect", connect_body(PASSWORD)).await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn a_full_hashing_queue_refuses_a_password_change_with_the_busy_page_and_changes_nothing() {
    let app = spawn_with_queue_of(1).await;
    let browser = app.signed_up("bob@example.com").await;
    let held = app.state.passwords.reserve().expect("the only place");

    let page = browser
        .change_password(PASSWORD, "a brand new passphrase")
        .await;
    assert_eq!(page.status, 503);
    page.assert_reads("The service is busy. Try again in a moment.");

    drop(held);
    app.assert_signs_in("bob@example.com", PASSWORD).await;
    browser
        .change_password(PASSWORD, "a brand new passphrase")
        .await;
    app.assert_password_changed("bob@example.com", PASSWORD, "a brand new passphrase")
        .await;
}
