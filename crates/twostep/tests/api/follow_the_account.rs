//! Issue 12, tokens and sessions follow the account: turning two-step on
//! disconnects the applications that cannot do it (listed in its e-mail) and
//! signs out every other session; a password change or reset ends what the
//! old password began and signs applications out (Anti-Theft devices still
//! answer commands: `anti_theft_signed_out.rs`); tokens expire after 90 days
//! without use.

use crate::apps::{NEW_VERSION, OLD_VERSION, connect, me, send_sms};
use crate::helpers::*;

const ANN: &str = "ann@example.com";
const DAY: i64 = 24 * 60 * 60;
const MINUTE: i64 = 60;

/// The Connected applications table's cell for a device, as escaped in the page
/// (the security events below it name devices too).
fn device_cell(escaped: &str) -> String {
    format!("<td data-label=\"Device\">{escaped}</td>")
}

fn token_of(answer: &(u16, serde_json::Value)) -> String {
    assert_eq!(answer.0, 200, "{}", answer.1);
    answer.1["token"].as_str().expect("a token").to_owned()
}

#[tokio::test]
async fn turning_two_step_on_disconnects_the_applications_that_cannot_do_it_and_says_which() {
    let (app, browser) = spawn_signed_up(ANN).await;
    let old = token_of(&connect(&app, ANN, OLD_VERSION, "Office PC").await);
    let also_old = token_of(&connect(&app, ANN, "1.0.0", "Home PC").await);
    let new = token_of(&connect(&app, ANN, NEW_VERSION, "Ann's laptop").await);
    browser.set_up_sms(&app, PHONE).await;
    for token in [&old, &also_old] {
        assert_api_error(&me(&app, token).await, 401, "unauthorized");
    }
    assert_eq!(me(&app, &new).await.0, 200);
    let email = app.wait_for_email(ANN, "Two-step verification is on").await;
    assert_says_all(
        &email.text,
        &[
            "were disconnected",
            "Photon Desktop 2.9.1 on Office PC",
            "Photon Desktop 1.0.0 on Home PC",
            &format!("{}/downloads", app.address),
        ],
    );
    assert!(!email.text.contains("Ann's laptop"), "{}", email.text);
    let tab = browser.get(SECURITY_TAB).await;
    assert!(
        tab.contains(&device_cell("Ann&#39;s laptop")) && !tab.contains(&device_cell("Office PC")),
        "{}",
        tab.body
    );
}

#[tokio::test]
async fn turning_two_step_on_without_old_applications_lists_none() {
    let (app, browser) = spawn_signed_up(ANN).await;
    browser.set_up_sms(&app, PHONE).await;
    let email = app.wait_for_email(ANN, "Two-step verification is on").await;
    assert!(!email.text.contains("disconnected"), "{}", email.text);
}

#[tokio::test]
async fn turning_two_step_on_signs_out_every_other_session() {
    let (app, browser) = spawn_signed_up(ANN).await;
    let others = [
        app.assert_signs_in(ANN, PASSWORD).await,
        app.assert_signs_in(ANN, PASSWORD).await,
    ];
    let someone_else = app.signed_up("bob@example.com").await;
    browser.set_up_sms(&app, PHONE).await;
    for other in &others {
        other.get("/account").await.assert_signed_out();
    }
    assert_eq!(browser.get("/account").await.status, 200);
    assert_eq!(someone_else.get("/account").await.status, 200);
}

#[tokio::test]
async fn a_password_change_ends_the_sign_ins_and_challenges_the_old_password_began() {
    let (app, owner) = spawn_with_sms_two_step(ANN).await;
    let half_signed_in = app.past_the_password(ANN).await;
    let (status, body) = connect(&app, ANN, NEW_VERSION, "Ann's laptop").await;
    assert_eq!(status, 200, "{body}");
    let challenge = body["challenge"].as_str().unwrap().to_owned();
    owner
        .change_password(PASSWORD, "a brand new passphrase")
        .await
        .assert_redirect_to("/account/settings/security?notice=password_changed");
    assert_begun_with_the_old_password_ended(&app, &half_signed_in, &challenge).await;
}

/// The code step of a sign-in begun with the old password starts over, and
/// the application that passed it must connect again.
async fn assert_begun_with_the_old_password_ended(
    app: &TestApp,
    half_signed_in: &Browser,
    challenge: &str,
) {
    half_signed_in
        .get("/sign-in/verify")
        .await
        .assert_redirect_to("/sign-in?notice=expired");
    assert_api_error(&send_sms(app, &challenge).await, 401, "challenge_expired");
}

#[tokio::test]
async fn a_password_reset_ends_the_sign_ins_and_challenges_the_old_password_began() {
    let (app, _owner) = spawn_with_sms_two_step(ANN).await;
    let half_signed_in = app.past_the_password(ANN).await;
    let (_, body) = connect(&app, ANN, NEW_VERSION, "Ann's laptop").await;
    let challenge = body["challenge"].as_str().expect("a challenge").to_owned();
    let (browser, token, reset_page) = app.ask_for_reset(ANN).await;
    assert_eq!(browser.get(&reset_page).await.status, 200);
    app.last_sms_saying(PHONE_E164, "resetting your password");
    browser
        .enter_reset_code(&token, &app.last_sms_code(PHONE_E164))
        .await;
    browser
        .set_new_password(&token, "a brand new passphrase")
        .await
        .assert_redirect_to("/sign-in?notice=password_reset");
    assert_begun_with_the_old_password_ended(&app, &half_signed_in, &challenge).await;
}

#[tokio::test]
async fn a_token_expires_after_90_days_without_use_and_each_use_keeps_it() {
    let (app, _) = spawn_signed_up(ANN).await;
    let token = token_of(&connect(&app, ANN, NEW_VERSION, "Ann's laptop").await);
    // The test clock runs on in real time: a minute of margin.
    app.clock.advance(90 * DAY - MINUTE);
    assert_eq!(me(&app, &token).await.0, 200, "used just in time");
    let browser = app.assert_signs_in(ANN, PASSWORD).await;
    let tab = browser.get(SECURITY_TAB).await;
    assert!(
        tab.reads("Last used") && tab.contains(&device_cell("Ann&#39;s laptop")),
        "{}",
        tab.body
    );
    app.clock.advance(90 * DAY - MINUTE);
    assert_eq!(me(&app, &token).await.0, 200, "each use counts anew");
    app.clock.advance(90 * DAY);
    assert_api_error(&me(&app, &token).await, 401, "unauthorized");
    // Gone for good, and from the owner's list.
    app.clock.advance(-(90 * DAY));
    assert_api_error(&me(&app, &token).await, 401, "unauthorized");
    let browser = app.assert_signs_in(ANN, PASSWORD).await;
    let tab = browser.get(SECURITY_TAB).await;
    assert!(tab.reads("No applications are connected to your account."));
}

#[tokio::test]
async fn the_tokens_idle_lifetime_is_configurable() {
    let app = TestApp::builder()
        .setting("TWOSTEP_APP_TOKEN_IDLE_DAYS", "2")
        .spawn()
        .await;
    app.signed_up(ANN).await;
    let token = token_of(&connect(&app, ANN, NEW_VERSION, "Ann's laptop").await);
    app.clock.advance(2 * DAY - MINUTE);
    assert_eq!(me(&app, &token).await.0, 200);
    app.clock.advance(2 * DAY);
    assert_api_error(&me(&app, &token).await, 401, "unauthorized");
}

#[tokio::test]
async fn signing_in_issues_a_new_csrf_token_and_the_one_from_before_is_refused() {
    let (app, _) = spawn_signed_up(ANN).await;
    let browser = app.browser();
    let before = browser.get("/sign-in").await.csrf_token();
    let seed_before = browser.cookie("twostep_csrf").expect("a CSRF seed");
    browser
        .post_with_token(
            "/sign-in",
            &before,
            &[("email", ANN), ("password", PASSWORD)],
        )
        .await
        .assert_redirect_to("/account");
    let seed_after = browser.cookie("twostep_csrf").expect("a CSRF seed");
    assert_ne!(seed_after, seed_before, "a new seed at sign-in");
    let after = browser.get("/account").await.csrf_token();
    assert_ne!(after, before);
    let question = [
        ("question", "Name of your first pet?"),
        ("answer", "Rex"),
        ("password", PASSWORD),
    ];
    let refused = browser
        .post_with_token("/account/security-question", &before, &question)
        .await;
    assert_eq!(refused.status, 403);
    assert_eq!(app.account(ANN).await.security_question, None);
    browser
        .post_with_token("/account/security-question", &after, &question)
        .await
        .assert_redirect_to("/account/settings/security?notice=question_saved");
}

#[tokio::test]
async fn a_csrf_token_is_bound_to_the_session_it_was_made_for() {
    let (app, browser) = spawn_signed_up(ANN).await;
    let signed_in = browser.get("/account").await.csrf_token();
    let seed = browser.cookie("twostep_csrf");
    browser
        .sign_out()
        .await
        .assert_redirect_to("/sign-in?notice=signed_out");
    assert_eq!(
        browser.cookie("twostep_csrf"),
        seed,
        "signing out keeps the seed"
    );
    // Same seed, no session: the signed-in token no longer holds.
    let refused = browser
        .post_with_token(
            "/sign-in",
            &signed_in,
            &[("email", ANN), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(refused.status, 403);
    let signed_out = browser.get("/sign-in").await.csrf_token();
    assert_ne!(signed_out, signed_in);
    browser
        .post_with_token(
            "/sign-in",
            &signed_out,
            &[("email", ANN), ("password", PASSWORD)],
        )
        .await
        .assert_redirect_to("/account");
    let _ = app;
}

#[tokio::test]
async fn a_verified_reset_link_sets_a_password_only_in_the_browser_that_verified_it() {
    const NEW: &str = "a brand new passphrase";
    let (app, owner) = spawn_signed_up(ANN).await;
    owner
        .set_security_question("Name of your first pet?", "Rex")
        .await;
    let (browser, token, link) = app.ask_for_reset(ANN).await;
    assert!(browser.get(&link).await.reads("Name of your first pet?"));
    browser
        .enter_reset_answer(&token, "Rex")
        .await
        .assert_redirect_to("/reset-password");
    assert_eq!(
        browser.cookie("twostep_reset").as_deref(),
        Some(token.as_str())
    );
    // The link from a browser history or a proxy log, elsewhere: the question
    // is asked again, and a new password with the token sets nothing.
    let other = app.browser();
    let page = other.get(&link).await;
    assert_eq!(page.status, 200);
    assert!(page.reads("Name of your first pet?") && !page.reads("New password"));
    let refused = other
        .post(
            "/reset-password",
            &[
                ("token", token.as_str()),
                ("new_password", "mallory's passphrase"),
            ],
        )
        .await;
    assert_eq!(refused.status, 410);
    // The browser that verified it sets the password, from its cookie; the
    // token is on no page and in no URL.
    let form = browser.get("/reset-password").await;
    assert!(
        form.reads("New password") && !form.contains(&token),
        "{}",
        form.body
    );
    browser
        .post("/reset-password", &[("new_password", NEW)])
        .await
        .assert_redirect_to("/sign-in?notice=password_reset");
    assert_eq!(browser.cookie("twostep_reset"), None);
    app.assert_password_changed(ANN, PASSWORD, NEW).await;
}
