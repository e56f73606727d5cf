//! A password reset for an account with SMS two-step verification asks for the
//! SMS code too: a reset never bypasses the second factor.

use super::*;

#[tokio::test]
async fn a_password_reset_with_sms_two_step_asks_for_the_sms_code() {
    let (app, _) = spawn_with_sms_two_step(EMAIL).await;
    let (browser, token, reset_page) = app.ask_for_reset(EMAIL).await;

    let page = browser.get(&reset_page).await;

    assert_eq!(page.status, 200);
    assert!(page.reads(&format!("We sent a security code by SMS to {MASKED}")));
    assert!(page.contains("<label for=\"code\">Security code</label>"));
    app.last_sms_saying(PHONE_E164, "security code for resetting your password");
    let code = app.last_sms_code(PHONE_E164);

    let without = browser.enter_reset_code(&token, "").await;
    assert_eq!(without.status, 422);
    assert!(without.contains("Enter the 6-digit security code."));
    let wrong = browser.enter_reset_code(&token, wrong_code(&code)).await;
    assert_eq!(wrong.status, 422);
    assert!(wrong.reads("That code isn't right. 4 attempts left."));

    browser
        .enter_reset_code(&token, &code)
        .await
        .assert_redirect_to("/reset-password");
    let new_password = "a completely different passphrase";
    browser
        .set_new_password(&token, new_password)
        .await
        .assert_redirect_to("/sign-in?notice=password_reset");

    // The new password works, and two-step verification is still asked for.
    app.clock.advance(61);
    let again = app.browser();
    again
        .sign_in(EMAIL, new_password)
        .await
        .assert_redirect_to("/sign-in/verify");
    again.get("/account").await.assert_signed_out();
}

#[tokio::test]
async fn a_password_reset_never_skips_the_second_factor() {
    let (app, _) = spawn_with_sms_two_step(EMAIL).await;
    let (browser, token, reset_page) = app.ask_for_reset(EMAIL).await;
    browser.get(&reset_page).await;

    let page = browser
        .set_new_password(&token, "a completely different passphrase")
        .await;

    assert_eq!(page.status, 410, "no verified link in this browser");
    let not_the_code = wrong_code(&app.last_sms_code(PHONE_E164));
    let page = browser
        .enter_reset_code_by(&token, "authenticator", not_the_code)
        .await;
    assert_eq!(
        page.status, 422,
        "asking for a method that is not set up changes nothing"
    );
    assert!(
        !browser
            .get(&reset_page)
            .await
            .contains("name=\"new_password\""),
        "the new password form stays closed"
    );
    // The old password still opens the first step; the new one does not.
    app.past_the_password(EMAIL).await;
    app.assert_sign_in_refused(EMAIL, "a completely different passphrase")
        .await;
}

#[tokio::test]
async fn a_password_reset_whose_code_was_ended_by_wrong_entries_gets_a_new_one_on_reload() {
    let (app, _) = spawn_with_sms_two_step(EMAIL).await;
    let (browser, token, reset_page) = app.ask_for_reset(EMAIL).await;
    let csrf = browser.get(&reset_page).await.csrf_token();
    let ended = app.last_sms_code(PHONE_E164);
    let mut page = None;
    for _ in 0..5 {
        let fields = [("token", token.as_str()), ("code", wrong_code(&ended))];
        page = Some(
            browser
                .post_with_token("/reset-password/verify", &csrf, &fields)
                .await,
        );
    }
    assert!(
        page.unwrap()
            .contains("Too many wrong codes. Request a new code.")
    );
    app.clock.advance(61);
    let sent = app.sms_count();

    browser.get(&reset_page).await;

    assert_eq!(
        app.sms_count(),
        sent + 1,
        "reloading the page requests the new code it asks for"
    );
    let code = app.last_sms_code(PHONE_E164);
    let fields = [("token", token.as_str()), ("code", code.as_str())];
    browser
        .post_with_token("/reset-password/verify", &csrf, &fields)
        .await
        .assert_redirect_to("/reset-password");
}
