//! Issue 13: "Don't ask again on this device". A ticked box at the second step
//! gives the browser a 30-day cookie that lets the password alone sign this
//! account in; a password change or reset, two-step off and on again, a
//! recovery code used and Forget remembered devices each end that.

use crate::helpers::*;

const EMAIL: &str = "ada@example.com";
const NEW_PASSWORD: &str = "a brand new passphrase";
const FORGET: &str = "/account/security/remembered-devices/forget";
const THIRTY_DAYS: i64 = 30 * 24 * 60 * 60;

/// A fresh browser signs in with the SMS code and the box ticked.
async fn remembered_browser(app: &TestApp, password: &str) -> Browser {
    // A minute after the last SMS, so that this sign-in gets its own code.
    app.clock.advance(61);
    let browser = app.browser();
    browser
        .sign_in(EMAIL, password)
        .await
        .assert_redirect_to("/sign-in/verify");
    let response = browser
        .post_form_response(
            "/sign-in/verify",
            "/sign-in/verify",
            &[
                ("code", &app.last_sms_code(PHONE_E164)),
                ("remember", "yes"),
            ],
        )
        .await;
    assert_eq!(response.status(), 303);
    let device_cookie = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|value| value.to_str().unwrap().to_owned())
        .find(|cookie| cookie.starts_with("twostep_device="))
        .expect("a device cookie");
    assert!(
        device_cookie.ends_with("; Path=/; HttpOnly; SameSite=Lax; Max-Age=2592000"),
        "{device_cookie}"
    );
    browser
}

/// Signs out and in again in `browser`: `true` when the password alone did it.
async fn skips_the_code(browser: &Browser, password: &str) -> bool {
    browser.sign_out().await;
    let page = browser.sign_in(EMAIL, password).await;
    match page.location.as_deref() {
        Some("/account") => true,
        // Asked for a code (whether or not another SMS could go out yet).
        Some(to) if to.starts_with("/sign-in/verify") => false,
        _ => panic!("neither signed in nor asked for a code: {}", page.status),
    }
}

#[tokio::test]
async fn a_remembered_device_skips_the_code_for_thirty_days_then_asks_again() {
    let (app, _) = spawn_with_sms_two_step(EMAIL).await;
    let page = app
        .past_the_password(EMAIL)
        .await
        .get("/sign-in/verify")
        .await;
    page.assert_contains(
        "<input id=\"remember\" name=\"remember\" type=\"checkbox\" value=\"yes\">",
    );
    page.assert_contains("<label for=\"remember\">Don't ask again on this device</label>");

    let browser = remembered_browser(&app, PASSWORD).await;
    let sms_before = app.sms_count();
    assert!(skips_the_code(&browser, PASSWORD).await);
    assert_eq!(
        app.sms_count(),
        sms_before,
        "no SMS for a remembered device"
    );
    assert!(
        !skips_the_code(&app.browser(), PASSWORD).await,
        "another browser is asked"
    );
    // A wrong password is still a wrong password.
    browser.sign_out().await;
    assert_eq!(browser.sign_in(EMAIL, "not my password").await.status, 422);

    app.clock.advance(THIRTY_DAYS - 60);
    assert!(skips_the_code(&browser, PASSWORD).await);
    app.clock.advance(60);
    assert!(
        !skips_the_code(&browser, PASSWORD).await,
        "30 days are over"
    );
}

#[tokio::test]
async fn without_the_box_ticked_the_next_sign_in_asks_again() {
    let (app, _) = spawn_with_sms_two_step(EMAIL).await;
    let browser = app.past_the_password(EMAIL).await;
    browser
        .assert_sign_in_code_accepted(&app.last_sms_code(PHONE_E164))
        .await;
    assert_eq!(browser.cookie("twostep_device"), None);
    assert!(!skips_the_code(&browser, PASSWORD).await);
}

#[tokio::test]
async fn the_device_cookie_is_bound_to_its_account() {
    let (app, _) = spawn_with_sms_two_step(EMAIL).await;
    let other = "grace@example.com";
    app.with_sms_two_step(other).await;
    let browser = remembered_browser(&app, PASSWORD).await;

    browser.sign_out().await;
    browser
        .sign_in(other, PASSWORD)
        .await
        .assert_redirect_to("/sign-in/verify");
    // A cookie made up by hand is no device at all.
    let stranger = app.browser();
    stranger.set_cookie("twostep_device", &"a".repeat(64));
    assert!(!skips_the_code(&stranger, PASSWORD).await);
}

/// What ends every remembered device of the account.
#[derive(Debug, Clone, Copy)]
enum Revocation {
    PasswordChanged,
    PasswordReset,
    Forgotten,
    RecoveryCodeUsed,
    TwoStepOffAndOnAgain,
}

#[tokio::test]
async fn each_revocation_makes_a_remembered_device_ask_for_the_code_again() {
    for revocation in [
        Revocation::PasswordChanged,
        Revocation::PasswordReset,
        Revocation::Forgotten,
        Revocation::RecoveryCodeUsed,
        Revocation::TwoStepOffAndOnAgain,
    ] {
        let app = spawn_app().await;
        let owner = app.signed_up(EMAIL).await;
        let codes = owner.set_up_sms(&app, PHONE).await;
        let browser = remembered_browser(&app, PASSWORD).await;
        assert!(skips_the_code(&browser, PASSWORD).await, "{revocation:?}");

        let password = revoke(&app, &owner, &codes, revocation).await;

        assert!(
            !skips_the_code(&browser, password).await,
            "{revocation:?} forgets the device"
        );
    }
}

/// Does `revocation`; answers the password in force afterwards.
async fn revoke(
    app: &TestApp,
    owner: &Browser,
    codes: &[String],
    revocation: Revocation,
) -> &'static str {
    match revocation {
        Revocation::PasswordChanged => {
            owner
                .change_password(PASSWORD, NEW_PASSWORD)
                .await
                .assert_redirect_to("/account/settings/security?notice=password_changed");
            NEW_PASSWORD
        }
        Revocation::PasswordReset => {
            let (browser, token, path) = app.ask_for_reset(EMAIL).await;
            browser.get(&path).await;
            browser
                .enter_reset_code(&token, &app.last_sms_code(PHONE_E164))
                .await
                .assert_redirect_to("/reset-password");
            browser
                .set_new_password(&token, NEW_PASSWORD)
                .await
                .assert_redirect_to("/sign-in?notice=password_reset");
            NEW_PASSWORD
        }
        Revocation::Forgotten => {
            let form = owner.get(FORGET).await;
            form.assert_contains("<label for=\"password\">Password</label>");
            form.assert_contains(">Forget remembered devices</button>");
            owner
                .post(FORGET, &[("password", "not my password")])
                .await
                .assert_wrong_password();
            owner
                .post(FORGET, &[("password", PASSWORD)])
                .await
                .assert_redirect_to("/account/settings/security?notice=devices_forgotten");
            let tab = owner
                .get("/account/settings/security?notice=devices_forgotten")
                .await;
            tab.assert_reads("Remembered devices are forgotten.");
            tab.assert_reads("Remembered devices forgotten");
            app.wait_for_email_saying(EMAIL, "Remembered devices were forgotten", "was forgotten")
                .await;
            PASSWORD
        }
        Revocation::RecoveryCodeUsed => {
            let browser = app.past_the_password(EMAIL).await;
            browser
                .switch_sign_in_to(domain::Method::RecoveryCode)
                .await;
            browser
                .enter_sign_in_code(&codes[0])
                .await
                .assert_redirect_to("/account/settings/security?notice=recovery_code_used");
            PASSWORD
        }
        Revocation::TwoStepOffAndOnAgain => {
            owner
                .post(
                    "/account/security/two-step/turn-off",
                    &[("password", PASSWORD)],
                )
                .await
                .assert_redirect_to("/account/settings/security?notice=two_step_off");
            owner.set_up_sms(app, PHONE).await;
            PASSWORD
        }
    }
}
