//! The API's 429 answers say in `Retry-After` how many seconds the wait has
//! left, as its message says it in minutes: the password wait of one client,
//! the account-wide lock of the second step, and the SMS guard's waits. The
//! header follows the clock, checked at several points of each wait (the test
//! clock runs with real time: a few seconds' margin).

use domain::Method;
use domain::authenticator::code_at;
use serde_json::{Value, json};

use crate::helpers::{PASSWORD, PHONE_E164, TestApp};
use crate::limits::{EMAIL, TwoStep, ann};

const MARGIN: i64 = 3;

/// Status, `Retry-After` in seconds (when there is one) and the JSON answer.
async fn post(app: &TestApp, path: &str, body: &Value) -> (u16, Option<i64>, Value) {
    let response = reqwest::Client::new()
        .post(app.url(path))
        .json(body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let retry_after = response
        .headers()
        .get("retry-after")
        .map(|value| value.to_str().unwrap().parse::<i64>().unwrap());
    (status, retry_after, response.json().await.unwrap())
}

/// Moves the test clock on to `at`, never back.
fn move_to(app: &TestApp, at: i64) {
    app.clock.advance((at - app.clock.now()).max(0));
}

/// Ann's sign-in by an application, past the password: its challenge.
async fn fresh_challenge(app: &TestApp) -> String {
    let (_, _, body) = post(app, "/api/v1/apps/connect", &connect_body(PASSWORD)).await;
    body["challenge"].as_str().expect("a challenge").to_owned()
}

fn connect_body(password: &str) -> Value {
    json!({"email": EMAIL, "password": password, "app_id": "photon-desktop",
           "app_version": "3.2.0", "device_name": "a laptop"})
}

/// The wait in the header is `left` seconds, `left` being read off the clock
/// after the answer came: the server read it up to the margin earlier, so the
/// header may say up to that much more, never less. The message's minutes are
/// the header's, rounded up.
fn assert_waits(answer: &(u16, Option<i64>, Value), left: i64) {
    let (status, retry_after, body) = answer;
    assert_eq!(*status, 429, "{body}");
    let seconds = retry_after.unwrap_or_else(|| panic!("Retry-After on {body}"));
    assert!(
        (left..=left + MARGIN).contains(&seconds),
        "Retry-After {seconds}, expected {left}: {body}"
    );
    let message = body["message"].as_str().unwrap();
    let minutes = domain::throttle::minutes(seconds);
    let said = [minutes, domain::throttle::minutes(seconds + MARGIN)];
    assert!(
        said.iter()
            .any(|m| message.contains(&format!(" {m} minute")))
            || message.contains("until"),
        "{message} says {minutes} minutes"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_password_wait_says_in_retry_after_how_long_it_has_left() {
    let app = TestApp::builder()
        .setting("TWOSTEP_LOCKOUT__WRONG_PASSWORDS_PER_CLIENT", "2")
        .spawn()
        .await;
    ann(&app, TwoStep::Off).await;
    for _ in 0..2 {
        let (status, retry_after, _) =
            post(&app, "/api/v1/apps/connect", &connect_body("wrong")).await;
        assert_eq!(
            (status, retry_after),
            (401, None),
            "a wrong password waits for nothing"
        );
    }
    let window_ends = app
        .state
        .store
        .failed_passwords(storage::PasswordAttempt {
            email: EMAIL,
            client: "127.0.0.1",
        })
        .await
        .unwrap()
        .expect("the client's count")
        .window_started_at
        + 15 * 60;
    for advance in [0, 60, 7 * 60, 14 * 60 + 30] {
        move_to(&app, window_ends - 15 * 60 + advance);
        let answer = post(&app, "/api/v1/apps/connect", &connect_body(PASSWORD)).await;
        assert_eq!(answer.2["error"], "too_many_attempts", "{}", answer.2);
        assert_waits(&answer, window_ends - app.clock.now());
    }
    move_to(&app, window_ends);
    let (status, retry_after, body) =
        post(&app, "/api/v1/apps/connect", &connect_body(PASSWORD)).await;
    assert_eq!((status, retry_after), (200, None), "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_second_step_lock_says_in_retry_after_how_long_it_has_left() {
    let app = TestApp::builder()
        .setting("TWOSTEP_LOCKOUT__CONSECUTIVE_WRONG_CODES", "2")
        .spawn()
        .await;
    let secret = ann(&app, TwoStep::SmsAndAuthenticator).await.unwrap();
    let challenge = fresh_challenge(&app).await;
    let (status, _, body) = post(
        &app,
        "/api/v1/apps/connect/sms",
        &json!({"challenge": challenge}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let code = app.last_sms_code(PHONE_E164);
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let verify =
        |code: &str| json!({"challenge": challenge, "method": Method::Sms.as_str(), "code": code});

    let (status, retry_after, _) = post(&app, "/api/v1/apps/connect/verify", &verify(wrong)).await;
    assert_eq!(
        (status, retry_after),
        (401, None),
        "one wrong code locks nothing"
    );
    let locking = post(&app, "/api/v1/apps/connect/verify", &verify(wrong)).await;
    let id = app.account(EMAIL).await.id;
    let until = app
        .state
        .store
        .wrong_second_step_codes(id)
        .await
        .unwrap()
        .and_then(|wrong| wrong.locked_until)
        .expect("locked");
    assert_eq!(locking.2["error"], "too_many_attempts", "{}", locking.2);
    assert_waits(&locking, until - app.clock.now());
    for advance in [60, 10 * 60, 14 * 60 + 50] {
        move_to(&app, until - 15 * 60 + advance);
        // Even the right code waits, and is told for how long (in a new
        // sign-in each time: challenges expire meanwhile).
        let challenge = fresh_challenge(&app).await;
        let right = code_at(&secret, app.clock.now());
        let body =
            json!({"challenge": challenge, "method": "authenticator", "code": right.as_str()});
        let answer = post(&app, "/api/v1/apps/connect/verify", &body).await;
        assert_eq!(answer.2["error"], "too_many_attempts", "{}", answer.2);
        assert_waits(&answer, until - app.clock.now());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sms_guards_waits_say_in_retry_after_how_long_they_have_left() {
    let app = TestApp::builder()
        .setting("TWOSTEP_SMS__PER_ACCOUNT_HOUR", "1")
        .spawn()
        .await;
    ann(&app, TwoStep::Sms).await;
    let (_, _, body) = post(&app, "/api/v1/apps/connect", &connect_body(PASSWORD)).await;
    let challenge = json!({"challenge": body["challenge"]});
    // The hour's window starts when the SMS is sent, at or just after this.
    let sent_at = app.clock.now();
    let (status, retry_after, _) = post(&app, "/api/v1/apps/connect/sms", &challenge).await;
    assert_eq!((status, retry_after), (200, None));
    let too_soon = post(&app, "/api/v1/apps/connect/sms", &challenge).await;
    assert_eq!(too_soon.2["error"], "resend_too_soon", "{}", too_soon.2);
    assert!(
        too_soon
            .1
            .is_some_and(|seconds| (1..=60).contains(&seconds)),
        "{too_soon:?}"
    );
    app.clock.advance(20 * 60);
    let challenge = json!({"challenge": fresh_challenge(&app).await});
    let full = post(&app, "/api/v1/apps/connect/sms", &challenge).await;
    assert_eq!(full.2["error"], "too_many_codes", "{}", full.2);
    // Forty minutes left, less what the real clock ran meanwhile (a sign-in
    // hashes in between, seconds on a loaded machine).
    assert_waits(&full, sent_at + 60 * 60 - app.clock.now());
}
