//! "A new code after 60 s" holds when requests arrive together: the store
//! decides, in the statement that saves the new code, so twenty requests for a
//! new code sent at once a minute later send one SMS, on one instance or many.
//! The requests overlap most on PostgreSQL (TWOSTEP_TEST_DATABASE_URL): there,
//! with the check a read before the write, twelve of twenty sent an SMS.

use serde_json::json;

use crate::helpers::{PHONE_E164, TestApp, post_json, post_json_at_once, spawn_app};

const REQUESTS: usize = 20;

/// Ann with SMS two-step verification, and the challenge of an application
/// connecting as her that waits for its code.
async fn a_waiting_challenge(app: &TestApp) -> String {
    app.with_sms_two_step("ann@example.com").await;
    let (status, body) = post_json(
        app,
        "/api/v1/apps/connect",
        json!({"email": "ann@example.com", "password": crate::helpers::PASSWORD,
               "app_id": "photon-desktop", "app_version": "3.2.0",
               "device_name": "Ann's laptop"}),
    )
    .await;
    assert_eq!(body["status"], "two_step_required", "{status} {body}");
    body["challenge"].as_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_requests_for_a_code_at_once_send_one_sms() {
    let app = spawn_app().await;
    let challenge = a_waiting_challenge(&app).await;
    let before = app.sms_count_to(PHONE_E164);
    for round in 1..=2 {
        let answers = post_json_at_once(
            &app,
            "/api/v1/apps/connect/sms",
            json!({"challenge": challenge}),
            REQUESTS,
        )
        .await;
        let mut sent = 0;
        for ((status, error, _), times) in answers {
            match status {
                200 => sent += times,
                429 => assert_eq!(error, "resend_too_soon"),
                _ => panic!("unexpected answer {status} {error:?}, {times} times"),
            }
        }
        assert_eq!(sent, 1, "round {round}: one request of {REQUESTS} sends");
        assert_eq!(app.sms_count_to(PHONE_E164), before + round);
        // A minute later the next one may go.
        app.clock.advance(60);
    }
}
