//! Signing in with SMS two-step verification: only the password and the code
//! together give a session; wrong, expired, reused and foreign codes are refused.

use super::*;

/// The portal with an account that has SMS two-step verification, and a fresh
/// browser past its password: the sign-in code has been sent.
async fn asked_for_the_sign_in_code() -> (TestApp, Browser, String) {
    let (app, _) = spawn_with_sms_two_step(EMAIL).await;
    let browser = app.past_the_password(EMAIL).await;
    let code = app.last_sms_code(PHONE_E164);
    (app, browser, code)
}

#[tokio::test]
async fn a_correct_password_alone_does_not_sign_in_when_two_step_is_on() {
    let (_app, browser, _) = asked_for_the_sign_in_code().await;

    browser.get("/account").await.assert_signed_out();
    browser.get(SECURITY_TAB).await.assert_signed_out();
    assert_eq!(browser.cookie("twostep_session"), None);
    let page = browser.get("/sign-in/verify").await;
    assert_eq!(page.status, 200);
    assert!(page.reads(&format!("We sent a security code by SMS to {MASKED}")));
    assert!(page.contains("<label for=\"code\">Security code</label>"));
    assert!(page.contains(">Sign in</button>"));
    assert!(
        page.link("Send a new code")
            .is_some_and(|href| href.starts_with("/sign-in/verify/resend?csrf_token="))
    );
    assert!(
        !page.contains("Use the code from the authenticator app"),
        "no authenticator is set up"
    );
}

#[tokio::test]
async fn the_sign_in_sms_names_the_service_and_the_purpose_and_holds_the_code() {
    let (app, _, _) = asked_for_the_sign_in_code().await;

    let sms = app.sms.last_to(PHONE_E164).unwrap();
    let code = app.last_sms_code(PHONE_E164);
    assert_eq!(
        sms.text,
        format!(
            "{code} is your twostep security code for signing in. It expires in 10 minutes. Don't share it."
        )
    );
    assert!(
        code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit()),
        "{code}"
    );
}

#[tokio::test]
async fn the_password_and_the_sms_code_together_sign_the_person_in() {
    let (app, browser, _) = asked_for_the_sign_in_code().await;

    let page = browser
        .enter_sign_in_code(&app.last_sms_code(PHONE_E164))
        .await;

    page.assert_redirect_to("/account");
    let account = browser.get("/account").await;
    assert_eq!(account.status, 200);
    assert!(account.contains(EMAIL));
    assert_eq!(
        browser.cookie("twostep_pending"),
        None,
        "the half-finished sign-in is over"
    );
}

#[tokio::test]
async fn a_wrong_sign_in_code_says_how_many_attempts_are_left() {
    let (_app, browser, right) = asked_for_the_sign_in_code().await;

    let page = browser
        .assert_sign_in_code_refused(wrong_code(&right))
        .await;
    page.assert_reads("That code isn't right. 4 attempts left.");
    let page = browser.enter_sign_in_code(wrong_code(&right)).await;
    assert!(page.reads("That code isn't right. 3 attempts left."));
    let page = browser.enter_sign_in_code("12345").await;
    assert!(
        page.contains("Enter the 6-digit security code."),
        "a malformed code is not counted as a wrong one"
    );
    browser.get("/account").await.assert_signed_out();
}

#[tokio::test]
async fn five_wrong_codes_end_the_code_even_for_the_right_code() {
    let (app, browser, right) = asked_for_the_sign_in_code().await;

    for _ in 0..4 {
        assert_eq!(
            browser.enter_sign_in_code(wrong_code(&right)).await.status,
            422
        );
    }
    let fifth = browser.enter_sign_in_code(wrong_code(&right)).await;
    fifth.assert_contains("Too many wrong codes. Request a new code.");

    let page = browser.assert_sign_in_code_refused(&right).await;
    assert!(page.contains("Too many wrong codes. Request a new code."));
    // A new code, once allowed, works again.
    app.clock.advance(61);
    browser.resend_sign_in_code().await;
    browser
        .assert_sign_in_code_accepted(&app.last_sms_code(PHONE_E164))
        .await;
}

#[tokio::test]
async fn a_half_finished_sign_in_expires_after_ten_minutes_and_its_code_with_it() {
    let (app, browser, code) = asked_for_the_sign_in_code().await;

    app.clock.advance(10 * 60);

    browser
        .get("/sign-in/verify")
        .await
        .assert_redirect_to("/sign-in?notice=expired");
    browser
        .enter_sign_in_code(&code)
        .await
        .assert_redirect_to("/sign-in?notice=expired");
    browser.get("/account").await.assert_signed_out();
    browser
        .get("/sign-in?notice=expired")
        .await
        .assert_contains("Your sign-in took too long. Please start again.");
}

#[tokio::test]
async fn a_half_finished_sign_in_still_works_just_before_ten_minutes() {
    let (app, browser, _) = asked_for_the_sign_in_code().await;

    app.clock.advance(9 * 60 + 30);

    browser
        .assert_sign_in_code_accepted(&app.last_sms_code(PHONE_E164))
        .await;
}

/// The sign-in code and the half-finished sign-in both live 10 minutes, so a
/// code's own expiry is shown where the flow outlives it: the password entered
/// again keeps the set-up going while its code ages.
#[tokio::test]
async fn an_sms_code_expires_after_ten_minutes() {
    let (app, browser) = spawn_signed_up(EMAIL).await;
    browser.ask_for_phone_code(PhoneFlow::SetUp, PHONE).await;
    let code = app.last_sms_code(PHONE_E164);
    app.clock.advance(5 * 60);
    browser
        .enter_phone_password(PhoneFlow::SetUp, PASSWORD)
        .await
        .assert_redirect_to("/account/security/phone/set-up/number");
    app.clock.advance(5 * 60);

    let page = browser.enter_phone_code(PhoneFlow::SetUp, &code).await;

    assert_eq!(page.status, 422);
    page.assert_contains("This code has expired. Request a new code.");
    assert!(
        !browser.get(SECURITY_TAB).await.contains(MASKED),
        "two-step verification stays off"
    );
}

#[tokio::test]
async fn a_sign_in_code_works_only_once() {
    let (app, first, code) = asked_for_the_sign_in_code().await;
    // A second browser holding the same half-finished sign-in, as a replayed request would.
    let replay = app.browser();
    let token = csrf_token(&replay).await;
    replay.set_cookie("twostep_pending", &first.cookie("twostep_pending").unwrap());

    first.assert_sign_in_code_accepted(&code).await;
    let page = replay
        .post_with_token("/sign-in/verify", &token, &[("code", &code)])
        .await;

    page.assert_redirect_to("/sign-in?notice=expired");
    replay.get("/account").await.assert_signed_out();

    // Nor does it serve a later sign-in.
    app.clock.advance(61);
    let later = app.past_the_password(EMAIL).await;
    later.assert_sign_in_code_refused(&code).await;
}

#[tokio::test]
async fn a_code_sent_for_another_browsers_sign_in_is_refused() {
    let (app, owner, owners_code) = asked_for_the_sign_in_code().await;
    // Someone else who knows the password, within the same minute: no new code is sent.
    let intruder = app.browser();
    let page = intruder.sign_in(EMAIL, PASSWORD).await;
    assert!(
        page.location
            .as_deref()
            .is_some_and(|l| l.starts_with("/sign-in/verify")),
        "{:?}",
        page.location
    );

    let page = intruder.assert_sign_in_code_refused(&owners_code).await;
    assert!(!page.contains("attempts left"), "{}", page.body);
    owner.assert_sign_in_code_accepted(&owners_code).await;
}

#[tokio::test]
async fn send_a_new_code_is_refused_within_a_minute_and_allowed_after() {
    let (app, browser, first_code) = asked_for_the_sign_in_code().await;
    let sent = app.sms_count();

    app.clock.advance(30);
    let refused = browser.get_as_link("/sign-in/verify/resend").await;

    refused.assert_redirect_to("/sign-in/verify?error=too_soon");
    let page = browser.get("/sign-in/verify?error=too_soon").await;
    assert!(
        page.contains("You can ask for a new code in"),
        "the page says how long to wait: {}",
        page.body
    );
    assert!(page.contains(" seconds"));
    assert_eq!(app.sms_count(), sent, "no SMS within the minute");

    app.clock.advance(31);
    browser.resend_sign_in_code().await;
    browser
        .get("/sign-in/verify?notice=code_sent")
        .await
        .assert_contains("We sent a new code.");
    assert_eq!(app.sms_count(), sent + 1);
    let second_code = app.last_sms_code(PHONE_E164);
    if second_code != first_code {
        let page = browser.enter_sign_in_code(&first_code).await;
        assert_eq!(page.status, 422, "the new code replaces the previous one");
    }
    browser.assert_sign_in_code_accepted(&second_code).await;
}

#[tokio::test]
async fn links_that_send_an_sms_are_refused_without_the_pages_token() {
    let (app, _) = spawn_with_sms_two_step(EMAIL).await;
    let browser = app.browser();
    browser
        .sign_in(EMAIL, PASSWORD)
        .await
        .assert_redirect_to("/sign-in/verify");
    app.clock.advance(61);
    let sent = app.sms_count();
    for path in [
        "/sign-in/verify/resend",
        "/sign-in/verify/use/sms",
        "/sign-in/verify/resend?csrf_token=forged",
    ] {
        assert_eq!(browser.get(path).await.status, 403, "{path}");
    }
    assert_eq!(
        app.sms_count(),
        sent,
        "another site cannot make the browser send an SMS"
    );
    let link = browser
        .get("/sign-in/verify")
        .await
        .link("Send a new code")
        .unwrap();
    browser
        .get(&link)
        .await
        .assert_redirect_to("/sign-in/verify?notice=code_sent");
    assert_eq!(app.sms_count(), sent + 1);
}
