//! Two-step verification by authenticator app (issue 4): set up after SMS, sign in
//! by default with its code, switch to SMS and back, no replay, the per-step lock,
//! turning off, the cascade, password reset, and real clients (oathtool, zbarimg).

use std::process::Command;

use domain::Method;
use domain::authenticator::{AuthenticatorSecret, STEP_SECONDS, code_at};

use crate::helpers::*;

const EMAIL: &str = "ann@example.com";
const SET_UP: &str = "/account/security/authenticator/set-up";
const SCAN: &str = "/account/security/authenticator/scan";
const QR: &str = "/account/security/authenticator/qr.svg";
const TURN_OFF: &str = "/account/security/authenticator/turn-off";

/// The portal with an account that has the authenticator app, and a fresh
/// browser past its password, asked for the app's code.
async fn asked_for_the_authenticator_code() -> (TestApp, Browser, AuthenticatorSecret) {
    let (app, _, secret) = spawn_with_authenticator(EMAIL).await;
    let browser = app.past_the_password(EMAIL).await;
    (app, browser, secret)
}

// ---- Set up ----

#[tokio::test]
async fn without_sms_two_step_the_authenticator_section_offers_no_set_up() {
    let (app, browser) = spawn_signed_up(EMAIL).await;

    let tab = browser.get(SECURITY_TAB).await;

    assert!(
        tab.contains(
            "The authenticator app can be set up only after two-step verification by SMS."
        )
    );
    assert!(
        !tab.contains(&format!("action=\"{SET_UP}\"")),
        "no Set up button for the authenticator"
    );
    let page = browser.get(SET_UP).await;
    assert_eq!(page.status, 400);
    page.assert_contains("Set up two-step verification by SMS first.");
    let token = tab.csrf_token();
    assert_eq!(
        browser
            .post_with_token(SET_UP, &token, &[("password", PASSWORD)])
            .await
            .status,
        400
    );
    assert_eq!(browser.get(SCAN).await.status, 400);
    assert_eq!(browser.get(QR).await.status, 400);
    assert!(!app.account(EMAIL).await.has_authenticator());
}

#[tokio::test]
async fn with_sms_two_step_the_authenticator_section_offers_set_up_behind_the_password() {
    let (_app, browser) = spawn_with_sms_two_step(EMAIL).await;

    let tab = browser.get(SECURITY_TAB).await;
    assert!(tab.contains(&format!("action=\"{SET_UP}\"")));
    assert!(
        tab.contains("on a device other than your mobile phone"),
        "the help page's advice"
    );
    let page = browser.get(SET_UP).await;
    assert!(page.contains("<label for=\"password\">Password</label>"));
    assert!(page.contains(">Continue</button>"));

    let wrong = browser
        .post(SET_UP, &[("password", "not my password at all")])
        .await;

    wrong.assert_wrong_password();
    assert!(!wrong.contains("Secret key"));
}

#[tokio::test]
async fn the_scan_page_shows_a_qr_code_and_the_secret_key_in_groups_of_four() {
    let (_app, browser) = spawn_with_sms_two_step(EMAIL).await;

    let page = browser.open_the_scan_page().await;

    page.assert_contains(&format!("<img src=\"{QR}\" alt=\"QR code\""));
    assert!(page.contains("<p id=\"secret-key-label\">Secret key</p>"));
    let key = secret_key_on(&page);
    let groups: Vec<&str> = key.split(' ').collect();
    assert_eq!(groups.len(), 8, "160 bits are 32 base32 characters: {key}");
    assert!(
        groups.iter().all(|g| g.len() == 4
            && g.bytes()
                .all(|b| b.is_ascii_uppercase() || (b'2'..=b'7').contains(&b))),
        "{key}"
    );
    assert_eq!(secret_from(&key).as_bytes().len(), 20);
    assert!(
        page.contains("second device"),
        "the page recommends a second device"
    );
    assert!(page.contains("<label for=\"code\">Security code</label>"));
    assert!(page.contains(">Confirm</button>"));
    let qr = browser.get_response(QR).await;
    assert_eq!(qr.status(), 200);
    assert_eq!(qr.headers()["content-type"], "image/svg+xml");
    assert_eq!(qr.headers()["cache-control"], "no-store");
    assert!(qr.text().await.unwrap().contains("<svg"));
}

#[tokio::test]
async fn the_authenticator_is_set_up_with_a_code_computed_from_the_secret_key_shown() {
    let (app, browser) = spawn_with_sms_two_step(EMAIL).await;
    let secret = secret_from(&secret_key_on(&browser.open_the_scan_page().await));

    let wrong = browser
        .post(SCAN, &[("code", &app.wrong_totp(&secret))])
        .await;
    assert_eq!(wrong.status, 422);
    assert!(wrong.reads("That code isn't right."), "{}", wrong.body);
    assert!(
        !app.account(EMAIL).await.has_authenticator(),
        "a wrong code activates nothing"
    );

    let page = browser.post(SCAN, &[("code", &app.totp(&secret))]).await;

    let tab = page
        .follow(
            &browser,
            "/account/settings/security?notice=authenticator_on",
        )
        .await;
    assert!(tab.contains("Your app is set up."));
    assert!(
        tab.contains(&format!("action=\"{TURN_OFF}\"")),
        "the Authenticator app section offers Turn off"
    );
    assert!(!tab.contains(&format!("action=\"{SET_UP}\"")));
    assert!(tab.contains("Authenticator app set up"), "a security event");
    assert!(app.account(EMAIL).await.has_authenticator());
    app.wait_for_email(EMAIL, "An authenticator app was set up")
        .await;
    // The secret is shown only during set-up.
    assert!(!tab.contains(&secret.to_base32_grouped()));
    assert_eq!(
        browser.get(SCAN).await.status,
        400,
        "the scan page is gone once the app is set up"
    );
}

#[tokio::test]
async fn abandoning_the_scan_page_leaves_nothing_active() {
    let (app, browser) = spawn_with_sms_two_step(EMAIL).await;
    browser.open_the_scan_page().await;

    let tab = browser.get(SECURITY_TAB).await;

    assert!(
        tab.contains(&format!("action=\"{SET_UP}\"")),
        "Set up is still offered"
    );
    assert!(!app.account(EMAIL).await.has_authenticator());
    let sent = app.sms_count();
    let signing_in = app.past_the_password(EMAIL).await;
    assert_eq!(app.sms_count(), sent + 1, "sign-in still uses SMS");
    assert!(
        !signing_in
            .get("/sign-in/verify")
            .await
            .contains("Use the code from the authenticator app")
    );
    // Ten minutes on, the secret is no longer shown without the password again.
    app.clock.advance(10 * 60);
    browser.get(SCAN).await.assert_redirect_to(SET_UP);
    browser.get(QR).await.assert_redirect_to(SET_UP);
}

// ---- Sign in ----

#[tokio::test]
async fn sign_in_asks_for_the_authenticator_code_by_default_and_sends_no_sms() {
    let (app, _, secret) = spawn_with_authenticator(EMAIL).await;
    let sent = app.sms_count();

    let browser = app.past_the_password(EMAIL).await;

    assert_eq!(
        app.sms_count(),
        sent,
        "no SMS while the authenticator is the method"
    );
    let page = browser.get("/sign-in/verify").await;
    assert!(page.contains("Enter the 6-digit code from your authenticator app."));
    assert!(
        page.link("Use the code from SMS")
            .is_some_and(|href| href.starts_with("/sign-in/verify/use/sms?csrf_token="))
    );
    assert!(!page.contains("Send a new code"));
    browser.get("/account").await.assert_signed_out();
    browser
        .assert_sign_in_code_accepted(&app.totp(&secret))
        .await;
    assert_eq!(browser.get("/account").await.status, 200);
    assert_eq!(app.sms_count(), sent);
}

#[tokio::test]
async fn use_the_code_from_sms_sends_an_sms_and_signs_in_with_it() {
    let (app, browser, _) = asked_for_the_authenticator_code().await;
    let sent = app.sms_count();

    browser.switch_sign_in_to(Method::Sms).await;

    assert_eq!(app.sms_count(), sent + 1);
    app.last_sms_saying(PHONE_E164, "security code for signing in");
    let page = browser.get("/sign-in/verify").await;
    assert!(page.reads("We sent a security code by SMS to +1 ••• ••• 0000"));
    assert!(
        page.link("Use the code from the authenticator app")
            .is_some_and(|href| href.starts_with("/sign-in/verify/use/authenticator?csrf_token="))
    );
    assert!(page.contains("Send a new code"));
    browser
        .assert_sign_in_code_accepted(&app.last_sms_code(PHONE_E164))
        .await;
}

#[tokio::test]
async fn use_the_code_from_the_authenticator_app_switches_back() {
    let (app, browser, secret) = asked_for_the_authenticator_code().await;
    browser.switch_sign_in_to(Method::Sms).await;
    let sent = app.sms_count();

    browser.switch_sign_in_to(Method::Authenticator).await;

    let page = browser.get("/sign-in/verify").await;
    assert!(page.contains("Enter the 6-digit code from your authenticator app."));
    assert!(page.contains("Use the code from SMS"));
    // Back to SMS within the minute: the code already sent still stands, no second SMS.
    browser.switch_sign_in_to(Method::Sms).await;
    assert_eq!(app.sms_count(), sent);
    browser
        .get_as_link("/sign-in/verify/use/authenticator")
        .await;
    browser
        .assert_sign_in_code_accepted(&app.totp(&secret))
        .await;
}

#[tokio::test]
async fn the_authenticator_method_cannot_be_chosen_without_an_authenticator() {
    let (app, _) = spawn_with_sms_two_step(EMAIL).await;
    let browser = app.past_the_password(EMAIL).await;

    let page = browser
        .get_as_link("/sign-in/verify/use/authenticator")
        .await;

    assert_eq!(page.status, 404);
    browser
        .get("/sign-in/verify")
        .await
        .assert_contains("We sent a security code by SMS");
}

#[tokio::test]
async fn an_authenticator_code_is_accepted_only_once() {
    let (app, _, secret) = spawn_with_authenticator(EMAIL).await;
    let code = app.totp(&secret);
    let first = app.past_the_password(EMAIL).await;
    first.assert_sign_in_code_accepted(&code).await;

    let second = app.past_the_password(EMAIL).await;
    let page = second.assert_sign_in_code_refused(&code).await;
    page.assert_contains("This code has already been used.");
    // A code of an earlier step is refused as well.
    let older = code_at(&secret, app.clock.now() - STEP_SECONDS);
    let page = second.enter_sign_in_code(older.as_str()).await;
    page.assert_contains("This code has already been used.");
    second.get("/account").await.assert_signed_out();
}

#[tokio::test]
async fn one_code_sent_by_two_sign_ins_at_once_signs_in_only_one() {
    let (app, _, secret) = spawn_with_authenticator(EMAIL).await;
    let code = app.totp(&secret);
    let first = app.past_the_password(EMAIL).await;
    let second = app.past_the_password(EMAIL).await;

    let (a, b) = tokio::join!(
        first.enter_sign_in_code(&code),
        second.enter_sign_in_code(&code)
    );

    let (winner, loser, refused) = if a.status == 422 {
        (&second, &first, &a)
    } else {
        (&first, &second, &b)
    };
    assert_eq!(refused.status, 422, "{}", refused.body);
    refused.assert_contains("This code has already been used.");
    assert_eq!(winner.get("/account").await.status, 200);
    loser.get("/account").await.assert_signed_out();
}

#[tokio::test]
async fn the_code_that_confirmed_the_set_up_cannot_sign_in() {
    let (app, browser) = spawn_with_sms_two_step(EMAIL).await;
    let secret = secret_from(&secret_key_on(&browser.open_the_scan_page().await));
    let code = app.totp(&secret);
    browser
        .post(SCAN, &[("code", &code)])
        .await
        .assert_redirect_to("/account/settings/security?notice=authenticator_on");

    let signing_in = app.past_the_password(EMAIL).await;
    signing_in.assert_sign_in_code_refused(&code).await;
}

#[tokio::test]
async fn three_wrong_codes_in_one_step_lock_the_authenticator_until_the_next_step() {
    let (app, browser, secret) = asked_for_the_authenticator_code().await;
    let wrong = app.wrong_totp(&secret);

    for _ in 0..3 {
        let page = browser.assert_sign_in_code_refused(&wrong).await;
        assert!(page.contains("That code isn"), "{}", page.body);
    }
    let page = browser
        .assert_sign_in_code_refused(&app.totp(&secret))
        .await;
    assert!(page.contains("Too many wrong codes. Wait"), "{}", page.body);
    app.start_of_next_step();
    browser
        .assert_sign_in_code_accepted(&app.totp(&secret))
        .await;
}

#[tokio::test]
async fn codes_of_the_previous_and_the_next_step_are_accepted_for_clocks_a_little_off() {
    let (app, _, secret) = spawn_with_authenticator(EMAIL).await;
    app.clock.advance(STEP_SECONDS);
    let behind = code_at(&secret, app.clock.now() - STEP_SECONDS);
    let ahead = code_at(&secret, app.clock.now() + STEP_SECONDS);

    let slow = app.past_the_password(EMAIL).await;
    slow.assert_sign_in_code_accepted(behind.as_str()).await;
    let fast = app.past_the_password(EMAIL).await;
    fast.assert_sign_in_code_accepted(ahead.as_str()).await;
}

#[tokio::test]
async fn a_code_from_two_steps_ago_is_refused() {
    let (app, _, secret) = spawn_with_authenticator(EMAIL).await;
    app.clock.advance(3 * STEP_SECONDS);
    let too_old = code_at(&secret, app.clock.now() - 2 * STEP_SECONDS);
    let browser = app.past_the_password(EMAIL).await;

    let page = browser.assert_sign_in_code_refused(too_old.as_str()).await;
    assert!(page.reads("That code isn't right."), "{}", page.body);
}

// ---- Turn off ----

#[tokio::test]
async fn turning_the_authenticator_off_keeps_sms_two_step() {
    let (app, browser, _) = spawn_with_authenticator(EMAIL).await;
    browser
        .get(TURN_OFF)
        .await
        .assert_contains("<label for=\"password\">Password</label>");
    let wrong = browser
        .post(TURN_OFF, &[("password", "not my password at all")])
        .await;
    assert_eq!(wrong.status, 422);
    assert!(app.account(EMAIL).await.has_authenticator());

    browser
        .post(TURN_OFF, &[("password", PASSWORD)])
        .await
        .assert_redirect_to("/account/settings/security?notice=authenticator_off");

    let account = app.account(EMAIL).await;
    assert!(!account.has_authenticator());
    assert!(account.phone_enc.is_some(), "SMS verification stays on");
    let tab = browser.get(SECURITY_TAB).await;
    assert!(tab.contains("value=\"+1 ••• ••• 0000\""));
    assert!(
        tab.contains(&format!("action=\"{SET_UP}\"")),
        "the authenticator can be set up again"
    );
    app.wait_for_email_saying(
        EMAIL,
        "The authenticator app was turned off",
        "SMS verification stays on",
    )
    .await;
    // Sign-in goes back to SMS.
    let sent = app.sms_count();
    let signing_in = app.past_the_password(EMAIL).await;
    assert_eq!(app.sms_count(), sent + 1);
    let page = signing_in.get("/sign-in/verify").await;
    assert!(page.contains("We sent a security code by SMS"));
    assert!(!page.contains("authenticator app"));
}

#[tokio::test]
async fn turning_sms_off_turns_the_authenticator_off_too_and_the_email_says_both_are_off() {
    let (app, browser, _) = spawn_with_authenticator(EMAIL).await;
    let turn_off = "/account/security/two-step/turn-off";
    browser
        .get(turn_off)
        .await
        .assert_contains("the authenticator app will be turned off too");

    browser
        .post(turn_off, &[("password", PASSWORD)])
        .await
        .assert_redirect_to("/account/settings/security?notice=two_step_off");

    let account = app.account(EMAIL).await;
    assert!(!account.has_authenticator());
    assert_eq!(account.phone_enc, None);
    let tab = browser.get(SECURITY_TAB).await;
    assert!(
        tab.contains(
            "The authenticator app can be set up only after two-step verification by SMS."
        )
    );
    assert!(!tab.contains(&format!("action=\"{TURN_OFF}\"")));
    app.wait_for_email_saying(
        EMAIL,
        "Two-step verification is off",
        "both SMS verification and the authenticator app are off",
    )
    .await;
    app.assert_signs_in(EMAIL, PASSWORD).await;
}

// ---- Password reset ----

#[tokio::test]
async fn a_password_reset_with_the_authenticator_asks_for_its_code() {
    let (app, _, secret) = spawn_with_authenticator(EMAIL).await;
    let (browser, token, reset_page) = app.ask_for_reset(EMAIL).await;
    let sent = app.sms_count();

    let page = browser.get(&reset_page).await;

    assert!(page.contains("Enter the 6-digit code from your authenticator app."));
    assert!(
        page.contains(&format!(
            "href=\"/reset-password?token={token}&amp;method=sms\">Use the code from SMS</a>"
        )),
        "{}",
        page.body
    );
    assert_eq!(app.sms_count(), sent, "no SMS until it is asked for");
    let wrong = app.wrong_totp(&secret);
    let page = browser
        .enter_reset_code_by(&token, "authenticator", &wrong)
        .await;
    assert_eq!(page.status, 422);
    assert!(
        !browser
            .get(&reset_page)
            .await
            .contains("name=\"new_password\"")
    );

    let code = app.totp(&secret);
    let page = browser
        .enter_reset_code_by(&token, "authenticator", &code)
        .await;

    page.assert_redirect_to("/reset-password");
    browser
        .get("/reset-password")
        .await
        .assert_contains("name=\"new_password\"");
}

#[tokio::test]
async fn a_password_reset_with_the_authenticator_can_use_the_code_from_sms() {
    let (app, _, _) = spawn_with_authenticator(EMAIL).await;
    let (browser, token, reset_page) = app.ask_for_reset(EMAIL).await;
    let sent = app.sms_count();

    let page = browser.get(&format!("{reset_page}&method=sms")).await;

    assert_eq!(app.sms_count(), sent + 1);
    assert!(
        app.sms
            .last_to(PHONE_E164)
            .unwrap()
            .text
            .contains("resetting your password")
    );
    assert!(page.reads("We sent a security code by SMS to +1 ••• ••• 0000"));
    let code = app.last_sms_code(PHONE_E164);
    let page = browser.enter_reset_code_by(&token, "sms", &code).await;
    page.assert_redirect_to("/reset-password");
}

// ---- Real clients ----

fn run(program: &str, args: &[&str]) -> String {
    let output = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{program}: {e}"));
    stdout_of(format!("{program} {args:?}"), output)
}

#[tokio::test]
#[ignore = "needs oathtool/zbar-tools; run by .ci/run"]
async fn codes_from_oathtool_are_accepted() {
    let (app, browser) = spawn_with_sms_two_step(EMAIL).await;
    // The key as a person would type it from the page, spaces and all.
    let key = secret_key_on(&browser.open_the_scan_page().await);

    let code = run("oathtool", &["--totp", "-b", &key]);
    browser
        .post(SCAN, &[("code", code.trim())])
        .await
        .assert_redirect_to("/account/settings/security?notice=authenticator_on");

    // The set-up used the current step; the next code (`-w 1` prints it second) signs in.
    let codes = run("oathtool", &["--totp", "-b", "-w", "1", &key]);
    let next = codes
        .lines()
        .nth(1)
        .expect("oathtool prints the next code too");
    let signing_in = app.past_the_password(EMAIL).await;
    signing_in.assert_sign_in_code_accepted(next).await;
}

#[tokio::test]
#[ignore = "needs oathtool/zbar-tools; run by .ci/run"]
async fn the_qr_code_decodes_to_exactly_the_otpauth_url() {
    let (_app, browser) = spawn_with_sms_two_step(EMAIL).await;
    let key = secret_key_on(&browser.open_the_scan_page().await);
    let svg = browser.get(QR).await.body;
    let dir = tempfile::tempdir().unwrap();
    let svg_path = dir.path().join("qr.svg");
    let png_path = dir.path().join("qr.png");
    std::fs::write(&svg_path, svg).unwrap();

    // zbarimg does not read SVG; rsvg-convert renders it as a browser would.
    run(
        "rsvg-convert",
        &[
            "-w",
            "480",
            "-h",
            "480",
            "-b",
            "white",
            "-o",
            png_path.to_str().unwrap(),
            svg_path.to_str().unwrap(),
        ],
    );
    let decoded = run("zbarimg", &["--raw", "-q", png_path.to_str().unwrap()]);

    let secret = key.replace(' ', "");
    let expected = format!(
        "otpauth://totp/twostep:ann@example.com?secret={secret}&issuer=twostep&algorithm=SHA1&digits=6&period=30"
    );
    assert_eq!(decoded.trim_end_matches('\n'), expected);
}
