//! Where a code may go: the operator's country list, the kind of line, and
//! what the person and the operator are told when none goes.

use super::*;
use crate::helpers::{PhoneFlow, captured_log};

#[tokio::test]
async fn only_numbers_of_the_allowed_countries_are_texted() {
    let app = TestApp::builder()
        .setting("TWOSTEP_SMS__ALLOWED_COUNTRIES", r#"["GB", "DE"]"#)
        .spawn()
        .await;
    let browser = app.signed_up("ann@example.com").await;
    browser
        .enter_phone_password(PhoneFlow::SetUp, PASSWORD)
        .await
        .assert_redirect_to(&PhoneFlow::SetUp.path("number"));
    let page = browser
        .enter_phone_number(PhoneFlow::SetUp, "+33 6 12 34 56 78")
        .await;
    assert_eq!(page.status, 422);
    page.assert_reads(
        "We can't send text messages to phone numbers in this country. Use a mobile number from another country.",
    );
    assert_eq!(app.sms_count(), 0);
    browser
        .enter_phone_number(PhoneFlow::SetUp, "+44 7400 123456")
        .await
        .assert_redirect_to(&PhoneFlow::SetUp.path("code"));
    assert_eq!(app.sms_count_to("+447400123456"), 1);

    // A number confirmed before the list changed is not texted either.
    account_with_number(&app, "bob@example.com", "+16502530000").await;
    assert_sms_not_allowed(&app, "bob@example.com").await;
    assert_eq!(app.sms_count(), 1);
}

#[tokio::test]
async fn a_stored_number_that_cannot_take_sms_is_not_texted() {
    let app = TestApp::builder().spawn().await;
    // A London landline, stored as if the rules had once let it through.
    account_with_number(&app, "ann@example.com", "+442079460000").await;
    let browser = app.browser();
    let page = browser.sign_in("ann@example.com", PASSWORD).await;
    page.assert_redirect_to("/sign-in/verify?error=cannot_take_sms");
    browser
        .get("/sign-in/verify?error=cannot_take_sms")
        .await
        .assert_reads("This number can't receive text messages. Use a mobile phone number.");
    assert_sms_not_allowed(&app, "ann@example.com").await;
    assert_eq!(app.sms_count(), 0);
}

/// An application's code for `email` is refused: 422 `sms_not_allowed`.
async fn assert_sms_not_allowed(app: &TestApp, email: &str) {
    let challenge = challenge(app, email).await;
    let (status, body) = ask_for_code(app, &challenge).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (422, Some("sms_not_allowed"))
    );
}

/// The sign-in page says how long to wait, counted from the real window, and
/// the operator's log names the rule with the number masked.
#[tokio::test]
async fn a_refusal_says_the_real_wait_and_is_logged_without_the_number() {
    let log = captured_log();
    let app = TestApp::builder()
        .setting("TWOSTEP_SMS__PER_ACCOUNT_HOUR", "1")
        .spawn()
        .await;
    let number = "+447443215678";
    account_with_number(&app, "ann@example.com", number).await;
    app.past_the_password("ann@example.com").await;
    app.clock.advance(8 * 60);
    let browser = app.browser();
    let page = browser.sign_in("ann@example.com", PASSWORD).await;
    let target = page.location.clone().unwrap();
    assert!(
        target.starts_with("/sign-in/verify?error=too_many_codes&until="),
        "{target}"
    );
    // Told when the page is shown, from the window: 52 minutes at the refusal.
    app.clock.advance(90);
    browser
        .get(&target)
        .await
        .assert_reads("Too many codes requested. Try again in 51 minutes.");
    assert_eq!(app.sms_count_to(number), 1);

    let logged = log.text();
    assert!(
        logged.lines().any(|line| line.contains("SMS refused")
            && line.contains("sms_per_account_hour")
            && line.contains("+44 ••• ••• 5678")),
        "no refusal naming the rule and the masked number: {logged}"
    );
    assert!(!logged.contains(number), "the whole number is never logged");
}
