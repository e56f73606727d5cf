//! The client application API: connecting, refusing older applications, tokens.

use domain::authenticator::code_at;
use serde::Serialize;
use serde_json::{Value, json};

use crate::helpers::*;

pub const NEW_APP: &str = "photon-desktop";
pub const NEW_VERSION: &str = "3.2.0";
pub const OLD_VERSION: &str = "2.9.1";

async fn post_raw(app: &TestApp, path: &str, body: &str) -> (u16, Value) {
    let response = reqwest::Client::new()
        .post(format!("{}{path}", app.address))
        .header("content-type", "application/json")
        .body(body.to_owned())
        .send()
        .await
        .unwrap();
    status_and_json(response).await
}

pub fn connect_body(
    email: &str,
    password: &str,
    app_id: &str,
    version: &str,
    device: &str,
) -> Value {
    json!({"email": email, "password": password, "app_id": app_id, "app_version": version, "device_name": device})
}

/// The first step of connecting: `body` as the application sends it.
async fn connect_with(app: &TestApp, body: Value) -> (u16, Value) {
    post_json(app, "/api/v1/apps/connect", body).await
}

/// The first step of connecting, as the new application with the right password.
pub async fn connect(app: &TestApp, email: &str, version: &str, device: &str) -> (u16, Value) {
    connect_with(app, connect_body(email, PASSWORD, NEW_APP, version, device)).await
}

/// The second step of connecting: an SMS with the code for `challenge`.
pub async fn send_sms(app: &TestApp, challenge: &impl Serialize) -> (u16, Value) {
    post_json(
        app,
        "/api/v1/apps/connect/sms",
        json!({"challenge": challenge}),
    )
    .await
}

/// The second step of connecting: the code for `challenge`, by `method`.
pub async fn verify(
    app: &TestApp,
    challenge: &impl Serialize,
    method: &str,
    code: &impl Serialize,
) -> (u16, Value) {
    post_json(
        app,
        "/api/v1/apps/connect/verify",
        json!({"challenge": challenge, "method": method, "code": code}),
    )
    .await
}

pub async fn me(app: &TestApp, token: &str) -> (u16, Value) {
    let response = reqwest::Client::new()
        .get(format!("{}/api/v1/me", app.address))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    status_and_json(response).await
}

#[tokio::test]
async fn an_account_without_two_step_connects_with_the_password_alone() {
    let (app, _) = spawn_signed_up("ann@example.com").await;
    let (status, body) = connect(&app, "ann@example.com", "1.0.0", "Ann's laptop").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "connected");
    assert!(body["connection_id"].as_i64().is_some());
    let token = body["token"].as_str().unwrap();
    assert_eq!(token.len(), 64);
    let (status, me) = me(&app, token).await;
    assert_eq!(status, 200);
    assert_eq!(me["email"], "ann@example.com");
    assert_eq!(me["two_step_verification"], false);
    assert_eq!(me["methods"], json!([]));
}

#[tokio::test]
async fn a_new_application_passes_the_second_step_by_sms() {
    let (app, _) = spawn_with_sms_two_step("ann@example.com").await;
    let (status, body) = connect(&app, "ann@example.com", NEW_VERSION, "Ann's laptop").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "two_step_required");
    assert_eq!(body["methods"], json!(["sms"]));
    assert_eq!(body["default_method"], "sms");
    let challenge = body["challenge"].as_str().unwrap().to_owned();
    let (status, sent) = send_sms(&app, &challenge).await;
    assert_eq!(status, 200, "{sent}");
    assert_eq!(sent["sent_to"], "+1 ••• ••• 0000");
    app.last_sms_saying(PHONE_E164, "connecting an application");
    let (status, wrong) = verify(&app, &challenge, "sms", &"000000").await;
    if app.last_sms_code(PHONE_E164) != "000000" {
        assert_eq!(status, 401);
        assert_eq!(wrong["error"], "code_wrong");
        assert!(
            wrong["message"]
                .as_str()
                .unwrap()
                .contains("4 attempts left")
        );
    }
    let code = app.last_sms_code(PHONE_E164);
    let (status, body) = verify(&app, &challenge, "sms", &code).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "connected");
    let (status, again) = verify(&app, &challenge, "sms", &code).await;
    assert_eq!(status, 401, "a challenge is passed once: {again}");
    let (status, me) = me(&app, body["token"].as_str().unwrap()).await;
    assert_eq!(status, 200);
    assert_eq!(me["methods"], json!(["sms"]));
}

#[tokio::test]
async fn a_new_application_passes_the_second_step_by_authenticator_and_no_code_is_accepted_twice() {
    let (app, browser) = spawn_with_sms_two_step("ann@example.com").await;
    let secret = browser.set_up_authenticator(&app).await;
    app.clock.advance(30);
    let sms_before = app.sms_count();
    let (_, first) = connect(&app, "ann@example.com", NEW_VERSION, "Ann's phone").await;
    assert_eq!(first["default_method"], "authenticator");
    assert_eq!(first["methods"], json!(["authenticator", "sms"]));
    let code = code_at(&secret, app.clock.now());
    let (status, body) = verify(&app, &first["challenge"], "authenticator", &code.as_str()).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        app.sms_count(),
        sms_before,
        "no SMS when the authenticator is used"
    );
    let (_, second) = connect(&app, "ann@example.com", NEW_VERSION, "Ann's phone").await;
    let (status, replay) =
        verify(&app, &second["challenge"], "authenticator", &code.as_str()).await;
    assert_eq!(status, 401);
    assert_eq!(replay["error"], "code_already_used");
}

#[tokio::test]
async fn an_older_application_is_refused_and_the_owner_is_told_to_update_from_downloads() {
    let (app, _) = spawn_with_sms_two_step("ann@example.com").await;
    let (status, body) = connect(&app, "ann@example.com", OLD_VERSION, "Office PC").await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["error"], "two_step_unsupported");
    assert_eq!(body["downloads_url"], format!("{}/downloads", app.address));
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("Downloads section")
    );
    let email = app
        .wait_for_email("ann@example.com", "Update Photon Desktop")
        .await;
    assert_says_all(
        &email.text,
        &[
            "Photon Desktop 2.9.1",
            "Office PC",
            "latest version",
            "Downloads section",
            &format!("{}/downloads", app.address),
        ],
    );
    let events = app
        .state
        .store
        .recent_events(app.account("ann@example.com").await.id, 5)
        .await
        .unwrap();
    assert_eq!(events[0].kind, "old_app_refused");
}

/// How many "Update …" e-mails the owner has received.
fn refusal_emails(app: &TestApp) -> usize {
    app.email
        .messages()
        .iter()
        .filter(|e| e.subject.contains("Update"))
        .count()
}

/// How many "Update …" e-mails, once they are `expected` or after a second:
/// they are sent in the background.
async fn refusal_emails_once(app: &TestApp, expected: usize) -> usize {
    for _ in 0..50 {
        if refusal_emails(app) == expected {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    refusal_emails(app)
}

#[tokio::test]
async fn the_refusal_email_is_sent_at_most_once_a_day_per_app_and_device() {
    let (app, _) = spawn_with_sms_two_step("ann@example.com").await;
    connect(&app, "ann@example.com", OLD_VERSION, "Office PC").await;
    app.wait_for_email("ann@example.com", "Update").await;
    let (status, _) = connect(&app, "ann@example.com", OLD_VERSION, "Office PC").await;
    assert_eq!(status, 403);
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert_eq!(
        refusal_emails(&app),
        1,
        "the same app and device within a day: no second e-mail"
    );
    connect(&app, "ann@example.com", OLD_VERSION, "Home PC").await;
    assert_eq!(
        refusal_emails_once(&app, 2).await,
        2,
        "another device is worth an e-mail"
    );
    app.clock.advance(24 * 3600);
    connect(&app, "ann@example.com", OLD_VERSION, "Office PC").await;
    assert_eq!(
        refusal_emails_once(&app, 3).await,
        3,
        "a day later the owner is told again"
    );
}

#[tokio::test]
async fn an_application_without_any_two_step_version_is_refused_when_two_step_is_on() {
    let (app, _) = spawn_with_sms_two_step("ann@example.com").await;
    let legacy = connect_body(
        "ann@example.com",
        PASSWORD,
        "photon-sync-legacy",
        "1.9.2",
        "Old PC",
    );
    assert_api_error(
        &connect_with(&app, legacy).await,
        403,
        "two_step_unsupported",
    );
}

#[tokio::test]
async fn wrong_credentials_and_unknown_emails_get_the_same_answer() {
    let (app, _) = spawn_signed_up("ann@example.com").await;
    let wrong_password = connect_with(
        &app,
        connect_body(
            "ann@example.com",
            "not the password",
            NEW_APP,
            NEW_VERSION,
            "PC",
        ),
    )
    .await;
    let unknown = connect_with(
        &app,
        connect_body("bob@example.com", PASSWORD, NEW_APP, NEW_VERSION, "PC"),
    )
    .await;
    assert_eq!(wrong_password.0, 401);
    assert_eq!(wrong_password.1["error"], "invalid_credentials");
    assert_eq!(wrong_password, unknown);
}

#[tokio::test]
async fn an_unknown_application_is_a_bad_request() {
    let app = spawn_app().await;
    let unknown = connect_body("ann@example.com", PASSWORD, "nope", "1.0.0", "PC");
    assert_api_error(&connect_with(&app, unknown).await, 400, "unknown_app");
}

#[tokio::test]
async fn malformed_requests_name_what_is_wrong() {
    let app = spawn_app().await;
    assert_api_error(
        &post_raw(&app, "/api/v1/apps/connect", "{not json").await,
        400,
        "invalid_request",
    );
    // Each request below is wrong in one field, which the answer names.
    let connect = "/api/v1/apps/connect";
    let named = [
        (
            connect,
            json!({"email": "a@b.co", "password": "x", "app_id": NEW_APP, "app_version": "1.0.0"}),
            "device_name",
        ),
        (
            connect,
            connect_body("a@b.co", "x", NEW_APP, "version one", "PC"),
            "app_version",
        ),
        (
            connect,
            connect_body("a@b.co", "x", NEW_APP, "1.0.0", "\u{7}"),
            "device_name",
        ),
        (
            "/api/v1/apps/connect/verify",
            json!({"challenge": "x", "method": "carrier pigeon", "code": "123456"}),
            "method",
        ),
    ];
    for (path, request, field) in named {
        let (status, body) = post_json(&app, path, request).await;
        assert_eq!(status, 400, "{body}");
        assert!(
            body["message"].as_str().unwrap().contains(field),
            "{field} in {body}"
        );
    }
    for path in [
        "/api/v1/apps/connect",
        "/api/v1/apps/connect/sms",
        "/api/v1/apps/connect/verify",
    ] {
        for body in ["", "null", "[]", "{\"challenge\": 7}", "\u{0}\u{1}"] {
            let (status, answer) = post_raw(&app, path, body).await;
            assert_eq!(status, 400, "{path} {body:?}: {answer}");
            assert!(answer["message"].is_string());
        }
    }
}

#[tokio::test]
async fn an_unknown_or_expired_challenge_is_refused() {
    let (app, _) = spawn_with_sms_two_step("ann@example.com").await;
    assert_api_error(&send_sms(&app, &"forged").await, 401, "challenge_expired");
    let (_, body) = connect(&app, "ann@example.com", NEW_VERSION, "PC").await;
    app.clock.advance(10 * 60);
    assert_api_error(
        &send_sms(&app, &body["challenge"]).await,
        401,
        "challenge_expired",
    );
}

#[tokio::test]
async fn five_wrong_codes_end_an_applications_code() {
    let (app, _) = spawn_with_sms_two_step("ann@example.com").await;
    let (_, body) = connect(&app, "ann@example.com", NEW_VERSION, "PC").await;
    let challenge = body["challenge"].clone();
    send_sms(&app, &challenge).await;
    let right = app.last_sms_code(PHONE_E164);
    let wrong = if right == "111111" {
        "222222"
    } else {
        "111111"
    };
    for _ in 0..4 {
        let (status, _) = verify(&app, &challenge, "sms", &wrong).await;
        assert_eq!(status, 401);
    }
    assert_api_error(
        &verify(&app, &challenge, "sms", &wrong).await,
        429,
        "too_many_attempts",
    );
    let (status, _) = verify(&app, &challenge, "sms", &right).await;
    assert_eq!(status, 429, "even the right code is refused now");
    assert_api_error(&send_sms(&app, &challenge).await, 429, "resend_too_soon");
}

#[tokio::test]
async fn a_token_stops_working_when_its_application_is_disconnected() {
    let (app, browser) = spawn_signed_up("ann@example.com").await;
    let (_, body) = connect(&app, "ann@example.com", NEW_VERSION, "Ann's laptop").await;
    let token = body["token"].as_str().unwrap().to_owned();
    let tab = browser.get("/account/settings/security").await;
    assert!(
        tab.contains("Connected applications")
            && tab.contains("Photon Desktop")
            && tab.contains("Ann&#39;s laptop"),
        "{}",
        tab.body
    );
    let id = body["connection_id"].as_i64().unwrap();
    let path = format!("/account/connections/{id}/disconnect");
    let refused = browser.post(&path, &[("password", "wrong password")]).await;
    assert_eq!(refused.status, 422);
    assert_eq!(me(&app, &token).await.0, 200);
    browser
        .post(&path, &[("password", PASSWORD)])
        .await
        .assert_redirect_to("/account/settings/security?notice=disconnected");
    assert_api_error(&me(&app, &token).await, 401, "unauthorized");
    app.wait_for_email("ann@example.com", "was disconnected")
        .await;
}

#[tokio::test]
async fn a_token_stops_working_when_the_password_changes() {
    let (app, browser) = spawn_signed_up("ann@example.com").await;
    let (_, body) = connect(&app, "ann@example.com", NEW_VERSION, "Ann's laptop").await;
    let token = body["token"].as_str().unwrap().to_owned();
    browser
        .change_password(PASSWORD, "a brand new passphrase")
        .await;
    assert_eq!(me(&app, &token).await.0, 401);
    assert_eq!(me(&app, "not-a-token").await.0, 401);
    let response = reqwest::Client::new()
        .get(format!("{}/api/v1/me", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 401);
}

#[tokio::test]
async fn the_openapi_document_lists_every_route() {
    let app = spawn_app().await;
    let document = app.openapi_document().await;
    assert!(document["openapi"].as_str().unwrap().starts_with("3."));
    let paths = document["paths"].as_object().unwrap();
    for (path, method) in [
        ("/api/v1/apps/connect", "post"),
        ("/api/v1/apps/connect/sms", "post"),
        ("/api/v1/apps/connect/verify", "post"),
        ("/api/v1/me", "get"),
        ("/api/v1/openapi.json", "get"),
        ("/api/v1/devices/commands", "get"),
        ("/api/v1/devices/commands/{id}/result", "post"),
    ] {
        assert!(
            paths.get(path).and_then(|p| p.get(method)).is_some(),
            "{method} {path} is not documented"
        );
    }
    assert_eq!(paths.len(), 7, "a route was added: document it here too");
    assert!(
        document["components"]["schemas"]
            .get("ConnectRequest")
            .is_some()
    );
}

#[tokio::test]
async fn the_downloads_page_lists_each_application_and_its_two_step_support() {
    let app = spawn_app().await;
    let page = app.browser().get("/downloads").await;
    assert_eq!(page.status, 200);
    for needle in [
        "Downloads",
        "Photon Desktop",
        "3.2.0",
        "Windows, macOS",
        "Photon Sync (legacy)",
        "Not supported",
        "Supported",
        "https://downloads.example.com/photon-desktop/3.2.0",
    ] {
        assert!(page.contains(needle), "{needle}");
    }
    let signed_in = app.signed_up("ann@example.com").await.get("/account").await;
    assert!(signed_in.contains("<a href=\"/downloads\">Downloads</a>"));
}

async fn run_example(args: Vec<String>) -> String {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    crate::examples::run_example("connect_app", &args).await
}

#[tokio::test]
async fn the_example_client_connects_as_a_new_application_and_is_refused_as_an_old_one() {
    let (app, browser) = spawn_with_sms_two_step("ann@example.com").await;
    let secret = browser.set_up_authenticator(&app).await;
    app.clock.advance(30);
    let code = code_at(&secret, app.clock.now());
    let args = |version: &str, command: &str| {
        vec![
            app.address.clone(),
            "ann@example.com".into(),
            PASSWORD.into(),
            NEW_APP.into(),
            version.into(),
            command.into(),
        ]
    };
    let connected = run_example(args(NEW_VERSION, &format!("echo {}", code.as_str()))).await;
    assert!(connected.starts_with("connected "), "{connected}");
    let refused = run_example(args(OLD_VERSION, "true")).await;
    assert_eq!(
        refused.trim(),
        format!("refused two_step_unsupported {}/downloads", app.address)
    );
}

#[tokio::test]
async fn an_application_guessing_passwords_is_slowed_down_like_the_sign_in_page() {
    let (app, _) = spawn_signed_up("ann@example.com").await;
    for _ in 0..10 {
        let (status, _) = connect_with(
            &app,
            connect_body("ann@example.com", "guess", NEW_APP, NEW_VERSION, "PC"),
        )
        .await;
        assert_eq!(status, 401);
    }
    assert_api_error(
        &connect(&app, "ann@example.com", NEW_VERSION, "PC").await,
        429,
        "too_many_attempts",
    );
    assert!(
        app.browser()
            .sign_in("ann@example.com", PASSWORD)
            .await
            .reads("Too many attempts. Try again in"),
        "one count for page and API"
    );
}
