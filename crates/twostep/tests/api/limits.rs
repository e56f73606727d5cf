//! No limit can be beaten by sending attempts in parallel, through HTTP: a
//! hundred wrong attempts at one account sent at once are checked no more often
//! than the limit allows (the answers say which were checked), and the right
//! password or code sent after them is refused. On SQLite here, and on
//! PostgreSQL (`#[ignore]`d like `postgres.rs`, run by .ci/run).
//!
//! Uses only `spawn_app*`, `post_json`, `TestApp` and reqwest; accounts are made
//! through the store, with two-step verification switched on there.

use std::collections::BTreeMap;

use domain::authenticator::{AuthenticatorSecret, STEP_SECONDS, code_at};
use domain::{Method, OtpCode, PhoneNumber};
use serde_json::{Value, json};

use crate::helpers::{
    PASSWORD, PHONE_E164, TestApp, assert_parallel_wrong_codes_checked_five_times, post_json,
    post_json_at_once,
};

const ATTEMPTS: usize = 100;
const APP: &str = "photon-desktop";
const VERSION: &str = "3.2.0";
pub(crate) const EMAIL: &str = "ann@example.com";

/// How an account's second step is set up for a test.
#[derive(Clone, Copy)]
pub(crate) enum TwoStep {
    Off,
    Sms,
    SmsAndAuthenticator,
}

/// Ann's account, made through the store; answers the authenticator's secret
/// when it has one. The contexts are the ones `web::verification` seals with.
pub(crate) async fn ann(app: &TestApp, two_step: TwoStep) -> Option<AuthenticatorSecret> {
    let state = &app.state;
    let now = state.now();
    let hash = state.passwords.hash(PASSWORD.to_owned()).await.unwrap();
    let id = state.store.create_account(EMAIL, &hash, now).await.unwrap();
    if matches!(two_step, TwoStep::Off) {
        return None;
    }
    let phone = PhoneNumber::from_e164(PHONE_E164);
    let sealed_phone = state
        .key
        .seal(phone.e164().as_bytes(), &format!("phone:{id}"));
    state
        .store
        .turn_on_sms(id, sealed_phone, now)
        .await
        .unwrap();
    if matches!(two_step, TwoStep::Sms) {
        return None;
    }
    let secret = AuthenticatorSecret::generate();
    let sealed_secret = state
        .key
        .seal(secret.as_bytes(), &format!("authenticator:{id}"));
    state
        .store
        .add_authenticator(id, sealed_secret, now)
        .await
        .unwrap();
    Some(secret)
}

fn connect_body(password: &str) -> Value {
    json!({"email": EMAIL, "password": password, "app_id": APP,
           "app_version": VERSION, "device_name": "Ann's laptop"})
}

/// Sends `ATTEMPTS` copies of one request at once; answers each answer's
/// `(status, error code, message)`, counted.
async fn fire(app: &TestApp, path: &str, body: Value) -> BTreeMap<(u16, String, String), usize> {
    post_json_at_once(app, path, body, ATTEMPTS).await
}

/// The request after the attempts gets no check: 429 `too_many_attempts`.
async fn assert_refused_unchecked(app: &TestApp, path: &str, body: Value, why: &str) {
    let (status, body) = post_json(app, path, body).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (429, Some("too_many_attempts")),
        "{why}"
    );
}

fn count(answers: &BTreeMap<(u16, String, String), usize>, error: &str) -> usize {
    answers
        .iter()
        .filter(|((_, code, _), _)| code == error)
        .map(|(_, n)| n)
        .sum()
}

/// The challenge of a connection that passed the password and waits for its
/// second step.
async fn challenge(app: &TestApp) -> String {
    let (status, body) = post_json(app, "/api/v1/apps/connect", connect_body(PASSWORD)).await;
    assert_eq!(
        (status, body["status"].as_str()),
        (200, Some("two_step_required"))
    );
    body["challenge"].as_str().unwrap().to_owned()
}

/// Ann with the authenticator, a challenge, and the code her app shows now; the
/// clock is moved to the start of a step so that the test stays within it.
async fn authenticator_challenge(app: &TestApp) -> (String, OtpCode) {
    let secret = ann(app, TwoStep::SmsAndAuthenticator).await.unwrap();
    let into_step = app.clock.now().rem_euclid(STEP_SECONDS);
    app.clock.advance(STEP_SECONDS - into_step);
    let challenge = challenge(app).await;
    (challenge, code_at(&secret, app.clock.now()))
}

fn verify_body(challenge: &str, method: Method, code: &str) -> Value {
    json!({"challenge": challenge, "method": method.as_str(), "code": code})
}

/// A six-digit code that is not `right`.
fn wrong_code(right: &str) -> &'static str {
    if right == "000000" {
        "111111"
    } else {
        "000000"
    }
}

async fn a_hundred_parallel_wrong_passwords_are_checked_ten_times(app: TestApp) {
    ann(&app, TwoStep::Off).await;
    let answers = fire(&app, "/api/v1/apps/connect", connect_body("wrong password")).await;
    assert_eq!(
        count(&answers, "invalid_credentials"),
        10,
        "exactly ten were checked: {answers:?}"
    );
    assert_eq!(
        count(&answers, "too_many_attempts"),
        ATTEMPTS - 10,
        "{answers:?}"
    );
    assert_refused_unchecked(
        &app,
        "/api/v1/apps/connect",
        connect_body(PASSWORD),
        "the right password after them is refused unchecked",
    )
    .await;
}

async fn a_hundred_parallel_wrong_sms_codes_through_the_api_are_checked_five_times(app: TestApp) {
    ann(&app, TwoStep::Sms).await;
    let challenge = challenge(&app).await;
    let (status, _) = post_json(
        &app,
        "/api/v1/apps/connect/sms",
        json!({"challenge": challenge}),
    )
    .await;
    assert_eq!(status, 200);
    let sms = app.sms.last_to(PHONE_E164).expect("the code was sent");
    let right = sms.text.split_whitespace().next().unwrap().to_owned();
    let answers = fire(
        &app,
        "/api/v1/apps/connect/verify",
        verify_body(&challenge, Method::Sms, wrong_code(&right)),
    )
    .await;
    // Each checked wrong entry but the last says how many are left: 4, 3, 2, 1,
    // once each; the fifth checked one and every unchecked one say "too many".
    let wrong: Vec<_> = answers
        .iter()
        .filter(|((_, code, _), _)| code == "code_wrong")
        .collect();
    assert_eq!(wrong.len(), 4, "{answers:?}");
    assert!(wrong.iter().all(|(_, n)| **n == 1), "{answers:?}");
    assert_eq!(
        count(&answers, "too_many_attempts"),
        ATTEMPTS - 4,
        "{answers:?}"
    );
    assert_refused_unchecked(
        &app,
        "/api/v1/apps/connect/verify",
        verify_body(&challenge, Method::Sms, &right),
        "the right code after them is refused unchecked",
    )
    .await;
}

/// A browser of its own: a cookie jar, no redirects followed.
fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// The CSRF token of the form on `path`, read as a browser would.
async fn csrf_token(client: &reqwest::Client, url: &str) -> String {
    let page = client.get(url).send().await.unwrap().text().await.unwrap();
    let marker = "name=\"csrf_token\" value=\"";
    let start = page.find(marker).expect("a form with a CSRF token") + marker.len();
    page[start..].split('"').next().unwrap().to_owned()
}

async fn a_hundred_parallel_wrong_sms_codes_on_the_sign_in_page_are_checked_five_times(
    app: TestApp,
) {
    ann(&app, TwoStep::Sms).await;
    let client = browser();
    let sign_in = format!("{}/sign-in", app.address);
    let token = csrf_token(&client, &sign_in).await;
    let fields = [
        ("csrf_token", token.as_str()),
        ("email", EMAIL),
        ("password", PASSWORD),
    ];
    let answer = client.post(&sign_in).form(&fields).send().await.unwrap();
    assert_eq!(answer.status().as_u16(), 303, "on to the code step");
    let sms = app.sms.last_to(PHONE_E164).expect("the code was sent");
    let right = sms.text.split_whitespace().next().unwrap().to_owned();
    let verify = format!("{}/sign-in/verify", app.address);
    let token = csrf_token(&client, &verify).await;
    assert_parallel_wrong_codes_checked_five_times(
        &client,
        &token,
        ATTEMPTS,
        |_| verify.clone(),
        wrong_code(&right),
    )
    .await;
    let fields = [("csrf_token", token.as_str()), ("code", right.as_str())];
    let page = client.post(&verify).form(&fields).send().await.unwrap();
    let page = page.text().await.unwrap();
    assert!(
        page.contains("Too many wrong codes."),
        "the right code after them is refused unchecked: {page}"
    );
}

async fn a_hundred_parallel_wrong_security_answers_are_checked_five_times(app: TestApp) {
    ann(&app, TwoStep::Off).await;
    let state = &app.state;
    let now = state.now();
    let id = app.account(EMAIL).await.id;
    let answer_hash = state.passwords.hash("rex".to_owned()).await.unwrap();
    assert!(
        state
            .store
            .set_security_question(id, "First pet?", &answer_hash)
            .await
            .unwrap()
    );
    let link = domain::secrets::random_token();
    let digest = domain::digests::ResetLinkDigest::of(&link);
    state
        .store
        .create_password_reset(&digest, id, now, now + 3600)
        .await
        .unwrap();
    let client = browser();
    let page = format!("{}/reset-password?token={link}", app.address);
    let token = csrf_token(&client, &page).await;
    let verify = format!("{}/reset-password/verify", app.address);
    let send = |answer: &'static str| {
        let (client, verify, token, link) =
            (client.clone(), verify.clone(), token.clone(), link.clone());
        async move {
            let fields = [
                ("csrf_token", token.as_str()),
                ("token", link.as_str()),
                ("answer", answer),
            ];
            let page = client.post(verify).form(&fields).send().await.unwrap();
            (page.status().as_u16(), page.text().await.unwrap())
        }
    };
    let tasks: Vec<_> = (0..ATTEMPTS).map(|_| tokio::spawn(send("felix"))).collect();
    let mut told_wrong = 0;
    for task in tasks {
        let (status, page) = task.await.unwrap();
        // "That answer isn't right." (the apostrophe escaped) for a checked wrong
        // answer but the fifth; the fifth and every unchecked one find the link spent.
        if page.contains("That answer isn") {
            assert_eq!(status, 422);
            told_wrong += 1;
        } else {
            assert_eq!(status, 410, "{page}");
        }
    }
    assert_eq!(told_wrong, 4);
    let (status, _) = send("rex").await;
    assert_eq!(
        status, 410,
        "the right answer after them finds the link spent"
    );
    let row = state.store.password_reset(&digest).await.unwrap().unwrap();
    assert!(row.used);
    assert_eq!(
        row.wrong_answers,
        domain::security_question::MAX_WRONG_ANSWERS
    );
}

async fn a_hundred_parallel_wrong_authenticator_codes_through_the_api_are_checked_three_times(
    app: TestApp,
) {
    let (challenge, right) = authenticator_challenge(&app).await;
    let answers = fire(
        &app,
        "/api/v1/apps/connect/verify",
        verify_body(
            &challenge,
            Method::Authenticator,
            wrong_code(right.as_str()),
        ),
    )
    .await;
    assert_eq!(count(&answers, "code_wrong"), 3, "{answers:?}");
    assert_eq!(
        count(&answers, "too_many_attempts"),
        ATTEMPTS - 3,
        "{answers:?}"
    );
    assert_refused_unchecked(
        &app,
        "/api/v1/apps/connect/verify",
        verify_body(&challenge, Method::Authenticator, right.as_str()),
        "the right code after them, in the same step, is refused unchecked",
    )
    .await;
}

async fn a_hundred_parallel_right_codes_through_the_api_connect_once(app: TestApp) {
    let (challenge, right) = authenticator_challenge(&app).await;
    let answers = fire(
        &app,
        "/api/v1/apps/connect/verify",
        verify_body(&challenge, Method::Authenticator, right.as_str()),
    )
    .await;
    let connected = answers
        .iter()
        .filter(|((status, _, _), _)| *status == 200)
        .map(|(_, n)| n)
        .sum::<usize>();
    assert_eq!(connected, 1, "one code, one connection: {answers:?}");
}

macro_rules! on_sqlite_and_postgres {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(crate::helpers::spawn_app().await).await;
                }
            )*
        }

        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                #[ignore = "needs PostgreSQL; run by .ci/run"]
                async fn $name() {
                    let server = crate::app::postgres_server();
                    let database = crate::app::PostgresDatabase::create(&server).await;
                    let app = crate::helpers::spawn_app_on_database(&database.url).await;
                    super::$name(app).await;
                }
            )*
        }
    };
}

on_sqlite_and_postgres!(
    a_hundred_parallel_wrong_passwords_are_checked_ten_times,
    a_hundred_parallel_wrong_sms_codes_through_the_api_are_checked_five_times,
    a_hundred_parallel_wrong_sms_codes_on_the_sign_in_page_are_checked_five_times,
    a_hundred_parallel_wrong_security_answers_are_checked_five_times,
    a_hundred_parallel_wrong_authenticator_codes_through_the_api_are_checked_three_times,
    a_hundred_parallel_right_codes_through_the_api_connect_once,
);
