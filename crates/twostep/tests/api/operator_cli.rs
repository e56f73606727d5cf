//! `twostep user show / reset-two-step / disable / enable`, run as an operator
//! would, with the real binary, on the database of a running portal.

use std::process::Output;

use domain::digests::{SessionDigest, TokenDigest};
use serde_json::json;

use crate::apps::{connect_body, me};
use crate::cli::{text, twostep_with};
use crate::helpers::*;

const SESSION: &str = "twostep_session";

/// The operator runs `twostep ARGS…` against `app`'s data folder and database.
fn operator(app: &TestApp, args: &[&str]) -> Output {
    let database = app.config.database_url.expose().to_owned();
    twostep_with(
        &app.config.data_dir,
        args,
        "",
        &[("TWOSTEP_DATABASE_URL", database.as_str())],
    )
}

#[track_caller]
fn succeeded(output: &Output) -> String {
    assert!(output.status.success(), "{}", text(output));
    text(output)
}

/// Ann with SMS and the authenticator, signed in in one browser, with an
/// application connected; her session id and the application's token.
async fn ann_with_everything() -> (TestApp, Browser, String) {
    let (app, browser, secret) = spawn_with_authenticator("ann@example.com").await;
    let (status, challenge) = post_json(&app, "/api/v1/apps/connect", photon(PASSWORD)).await;
    assert_eq!(status, 200, "{challenge}");
    app.start_of_next_step();
    let (status, connected) = post_json(
        &app,
        "/api/v1/apps/connect/verify",
        json!({
            "challenge": challenge["challenge"],
            "method": "authenticator",
            "code": app.totp(&secret),
        }),
    )
    .await;
    assert_eq!(status, 200, "{connected}");
    let token = connected["token"].as_str().unwrap().to_owned();
    (app, browser, token)
}

/// Ann's Photon Desktop connecting with `password`.
pub fn photon(password: &str) -> serde_json::Value {
    connect_body(
        "ann@example.com",
        password,
        "photon-desktop",
        "3.0.0",
        "Ann's laptop",
    )
}

pub async fn me_status(app: &TestApp, token: &str) -> u16 {
    me(app, token).await.0
}

/// The e-mails the command line sent, through the outbox of the data folder.
fn emails_sent_by_the_operator(app: &TestApp, subject: &str) -> Vec<delivery::OutboxMessage> {
    delivery::read_outbox(&app.config.data_dir)
        .unwrap()
        .into_iter()
        .filter(|m| m.subject.as_deref().is_some_and(|s| s.contains(subject)))
        .collect()
}

#[tokio::test]
async fn user_show_prints_the_accounts_state_and_never_a_secret() {
    let (app, browser, token) = ann_with_everything().await;
    let shown = succeeded(&operator(
        &app,
        &["user", "show", "--email", "Ann@Example.com"],
    ));
    for line in [
        "Account: ann@example.com",
        "Status: active",
        "E-mail confirmed: yes",
        "Two-step verification: on (authenticator app, SMS)",
        "Recovery codes left: 10",
        "Security question: permanently disabled",
        "Sessions: 1",
        "Connected applications: 1",
        "Photon Desktop 3.0.0 on Ann's laptop",
        "Last security events:",
        "Authenticator app set up",
    ] {
        assert!(shown.contains(line), "{line:?} is not in:\n{shown}");
    }
    let account = app.account("ann@example.com").await;
    let session_id = browser.cookie(SESSION).unwrap();
    let hex = |bytes: &[u8]| domain::secrets::hex(bytes);
    let secrets = [
        PHONE_E164.to_owned(),
        PHONE_E164[2..].to_owned(),
        "650 253 0000".to_owned(),
        account.password_hash.clone(),
        session_id.clone(),
        hex(SessionDigest::of(&session_id).as_bytes()),
        token.clone(),
        hex(TokenDigest::of(&token).as_bytes()),
        hex(&account.phone_enc.clone().unwrap()),
        hex(&account.authenticator.clone().unwrap().secret_enc),
    ];
    for secret in &secrets {
        assert!(
            !shown.contains(secret.as_str()),
            "{secret:?} was printed:\n{shown}"
        );
    }
    assert!(!shown.contains("$argon2"), "no hash at all:\n{shown}");

    let missing = operator(&app, &["user", "show", "--email", "nobody@example.com"]);
    assert!(!missing.status.success());
    assert!(text(&missing).contains("There is no account with the e-mail nobody@example.com."));
}

#[tokio::test]
async fn reset_two_step_turns_it_off_ends_every_session_and_token_and_emails_the_owner() {
    let (app, browser, token) = ann_with_everything().await;
    let second = app.browser();
    assert_eq!(me_status(&app, &token).await, 200);

    let without_reason = operator(
        &app,
        &["user", "reset-two-step", "--email", "ann@example.com"],
    );
    assert!(!without_reason.status.success());
    assert!(text(&without_reason).contains("--reason"));
    let blank = operator(
        &app,
        &[
            "user",
            "reset-two-step",
            "--email",
            "ann@example.com",
            "--reason",
            "  ",
        ],
    );
    assert!(!blank.status.success());
    assert!(
        app.account("ann@example.com").await.phone_enc.is_some(),
        "nothing changed"
    );

    let reason = "lost phone and laptop; identity checked by video call, ticket 4711";
    let reset = [
        "user",
        "reset-two-step",
        "--email",
        "ann@example.com",
        "--reason",
        reason,
    ];
    let said = succeeded(&operator(&app, &reset));
    assert!(
        said.contains("1 session(s) ended, 1 application(s) signed out"),
        "{said}"
    );
    assert!(said.contains("E-mailed the owner"), "{said}");

    let account = app.account("ann@example.com").await;
    assert!(account.phone_enc.is_none() && account.authenticator.is_none());
    assert!(account.security_question_disabled, "the question stays off");
    browser.get("/account").await.assert_signed_out();
    assert_eq!(me_status(&app, &token).await, 401);
    drop(second);
    let mail = emails_sent_by_the_operator(&app, "Two-step verification was turned off by support");
    assert_eq!(mail.len(), 1);
    assert_eq!(mail[0].to, "ann@example.com");
    assert!(mail[0].text.contains(reason));

    // She signs in with the password alone and sees what happened.
    let browser = app.assert_signs_in("ann@example.com", PASSWORD).await;
    let tab = browser.get("/account/settings/security").await;
    tab.assert_reads(reason);

    let again = operator(&app, &reset);
    assert!(!again.status.success());
    assert!(text(&again).contains("already off"), "{}", text(&again));
}

#[tokio::test]
async fn a_disabled_account_is_kept_out_until_it_is_enabled_again() {
    let (app, browser, token) = ann_with_everything().await;
    let said = succeeded(&operator(
        &app,
        &["user", "disable", "--email", "ann@example.com"],
    ));
    assert!(
        said.contains("Disabled the account ann@example.com"),
        "{said}"
    );
    browser.get("/account").await.assert_signed_out();
    assert_eq!(me_status(&app, &token).await, 401);
    let refused = app.browser().sign_in("ann@example.com", PASSWORD).await;
    refused.assert_reads("This account has been disabled.");
    let answer = post_json(&app, "/api/v1/apps/connect", photon(PASSWORD)).await;
    assert_api_error(&answer, 403, "account_disabled");
    let shown = succeeded(&operator(
        &app,
        &["user", "show", "--email", "ann@example.com"],
    ));
    assert!(shown.contains("Status: disabled since"), "{shown}");
    assert!(shown.contains("Sessions: 0") && shown.contains("Connected applications: 0"));
    assert_eq!(
        emails_sent_by_the_operator(&app, "Your account was disabled").len(),
        1
    );

    let twice = operator(&app, &["user", "disable", "--email", "ann@example.com"]);
    assert!(!twice.status.success());
    assert!(text(&twice).contains("already disabled"));

    succeeded(&operator(
        &app,
        &["user", "enable", "--email", "ann@example.com"],
    ));
    let signing_in = app.past_the_password("ann@example.com").await;
    assert_eq!(
        signing_in.get("/sign-in/verify").await.status,
        200,
        "two-step stays on"
    );
    assert_eq!(
        emails_sent_by_the_operator(&app, "Your account was enabled again").len(),
        1
    );
    let twice = operator(&app, &["user", "enable", "--email", "ann@example.com"]);
    assert!(!twice.status.success());
    assert!(text(&twice).contains("is not disabled"));
}
