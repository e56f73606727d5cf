//! Two-step verification by SMS (issue 3). Here: set up, the security question,
//! change the phone number, turn off. Signing in, password reset and the SMS
//! gateway have their own files below `two_step_sms/`; all share the helpers here.

mod gateway;
mod password_reset;
mod sign_in;

use std::path::{Path, PathBuf};

use crate::helpers::*;

const EMAIL: &str = "ann@example.com";
const NEW_PHONE: &str = "+44 7400 123456";
const NEW_PHONE_E164: &str = "+447400123456";
const MASKED: &str = "+1 ••• ••• 0000";
const NEW_MASKED: &str = "+44 ••• ••• 3456";

/// Whether the Security tab shows `masked` as the phone number.
async fn shows_number(browser: &Browser, masked: &str) -> bool {
    browser
        .get(SECURITY_TAB)
        .await
        .contains(&format!("value=\"{masked}\""))
}

/// The browser's CSRF token, from a page every visitor can open.
async fn csrf_token(browser: &Browser) -> String {
    browser.get("/forgot-password").await.csrf_token()
}

// ---- Set up ----

#[tokio::test]
async fn setting_up_sms_two_step_shows_the_masked_number_a_change_pencil_and_turn_off() {
    let (app, browser) = spawn_signed_up(EMAIL).await;
    let before = browser.get(SECURITY_TAB).await;
    assert!(
        before.contains("action=\"/account/security/phone/set-up\""),
        "the Security tab offers Set up"
    );

    let password_step = browser.get("/account/security/phone/set-up").await;
    assert_eq!(password_step.status, 200);
    assert!(password_step.contains("<label for=\"password\">Password</label>"));
    assert!(password_step.contains(">Continue</button>"));
    let number_step = browser
        .enter_phone_password(PhoneFlow::SetUp, PASSWORD)
        .await
        .follow(&browser, "/account/security/phone/set-up/number")
        .await;
    assert!(number_step.contains("<label for=\"phone\">Phone number</label>"));
    assert!(number_step.contains(">Get code</button>"));
    browser
        .enter_phone_number(PhoneFlow::SetUp, PHONE)
        .await
        .assert_redirect_to("/account/security/phone/set-up/code");
    app.last_sms_saying(
        PHONE_E164,
        "is your twostep security code for setting up two-step verification",
    );
    let code_step = browser.get("/account/security/phone/set-up/code").await;
    assert!(
        code_step.contains(MASKED),
        "the code step names the masked number"
    );
    assert!(code_step.contains("<label for=\"code\">Security code</label>"));
    assert!(code_step.contains(">Confirm</button>"));

    let code = app.last_sms_code(PHONE_E164);
    let codes = browser.enter_phone_code(PhoneFlow::SetUp, &code).await;
    codes.assert_two_step_turned_on();
    assert!(codes.contains("Your phone number is confirmed and set up to receive security codes."));
    let tab = browser.get("/account/settings/security").await;
    assert!(
        tab.contains(&format!("value=\"{MASKED}\"")),
        "the Phone number field shows the masked number"
    );
    assert!(tab.contains("<label for=\"phone-number\">Phone number</label>"));
    assert!(
        tab.contains("href=\"/account/security/phone/change\" aria-label=\"Change phone number\"")
    );
    assert!(tab.contains("action=\"/account/security/two-step/turn-off\""));
    assert!(tab.contains(">Turn off</button>"));
    assert!(
        !tab.contains("action=\"/account/security/phone/set-up\""),
        "Set up is gone once two-step is on"
    );
    assert!(
        !tab.contains("6502530000"),
        "the full number is never shown"
    );
}

#[tokio::test]
async fn a_wrong_password_does_not_open_the_sms_set_up() {
    let (app, browser) = spawn_signed_up(EMAIL).await;

    let page = browser
        .enter_phone_password(PhoneFlow::SetUp, "not my password at all")
        .await;

    page.assert_wrong_password();
    browser
        .get("/account/security/phone/set-up/number")
        .await
        .assert_redirect_to("/account/security/phone/set-up");
    let page = browser.enter_phone_number(PhoneFlow::SetUp, PHONE).await;
    page.assert_redirect_to("/account/security/phone/set-up");
    assert_eq!(app.sms_count(), 0, "no SMS without the password");
}

#[tokio::test]
async fn the_stored_phone_number_is_encrypted_at_rest() {
    let (app, _) = spawn_with_sms_two_step(EMAIL).await;

    let account = app.account(EMAIL).await;
    let sealed = account.phone_enc.expect("the phone number is stored");
    for plain in [
        PHONE_E164.as_bytes(),
        b"6502530000".as_slice(),
        b"253 0000".as_slice(),
    ] {
        assert!(
            !sealed.windows(plain.len()).any(|w| w == plain),
            "accounts.phone_enc holds the number in clear"
        );
    }
    // Nowhere in the data directory (database, its WAL, anything else) is the number in clear.
    for file in files_under(&app.config.data_dir) {
        let bytes = std::fs::read(&file).unwrap();
        assert!(
            !bytes.windows(10).any(|w| w == b"6502530000"),
            "{} holds the number in clear",
            file.display()
        );
    }
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(files_under(&path))
        } else {
            files.push(path)
        }
    }
    files
}

#[tokio::test]
async fn setting_up_sms_two_step_records_a_security_event_and_sends_an_email() {
    let (app, browser) = spawn_with_sms_two_step(EMAIL).await;

    let email = app
        .wait_for_email(EMAIL, "Two-step verification is on")
        .await;
    assert!(email.text.contains(MASKED), "{}", email.text);
    assert!(
        email
            .text
            .contains("security question of your account has been permanently disabled"),
        "{}",
        email.text
    );
    assert!(!email.text.contains("6502530000"));
    let tab = browser.get(SECURITY_TAB).await;
    assert!(
        tab.contains(&format!("Two-step verification turned on with {MASKED}")),
        "the security events list it"
    );
}

#[tokio::test]
async fn the_security_question_is_deleted_the_moment_two_step_is_turned_on() {
    let (app, browser) = spawn_signed_up(EMAIL).await;
    browser
        .set_security_question("What was the name of my first school?", "Hillside")
        .await;
    browser
        .get(SECURITY_TAB)
        .await
        .assert_contains("What was the name of my first school?");

    browser.set_up_sms(&app, PHONE).await;

    let account = app.account(EMAIL).await;
    assert_eq!(account.security_question, None);
    assert_eq!(account.security_answer_hash, None);
    assert!(account.security_question_disabled);
    let tab = browser.get(SECURITY_TAB).await;
    assert!(tab.contains("The security question is no longer available for this account"));
    assert!(!tab.contains("What was the name of my first school?"));
    assert!(
        !tab.contains("action=\"/account/security-question\""),
        "no form to set a question"
    );
}

#[tokio::test]
async fn a_set_up_code_works_only_in_the_session_that_asked_for_it() {
    let (app, asking) = spawn_signed_up(EMAIL).await;
    asking.ask_for_phone_code(PhoneFlow::SetUp, PHONE).await;
    let code = app.last_sms_code(PHONE_E164);
    // The same account signed in elsewhere, its password entered there too.
    let elsewhere = app.assert_signs_in(EMAIL, PASSWORD).await;
    elsewhere
        .enter_phone_password(PhoneFlow::SetUp, PASSWORD)
        .await;

    let page = elsewhere.enter_phone_code(PhoneFlow::SetUp, &code).await;

    assert_eq!(page.status, 422);
    page.assert_contains("There is no code waiting for this step.");
    assert_eq!(app.account(EMAIL).await.phone_enc, None);
    asking
        .enter_phone_code(PhoneFlow::SetUp, &code)
        .await
        .assert_two_step_turned_on();
}

#[tokio::test]
async fn send_a_new_code_during_set_up_says_how_long_to_wait_and_works_after_a_minute() {
    let (app, browser) = spawn_signed_up(EMAIL).await;
    browser.ask_for_phone_code(PhoneFlow::SetUp, PHONE).await;
    let code_step = browser.get("/account/security/phone/set-up/code").await;
    assert!(code_step.contains(">Send a new code</button>"));
    let sent = app.sms_count();

    let refused = browser
        .post_with_token(
            "/account/security/phone/set-up/resend",
            &code_step.csrf_token(),
            &[],
        )
        .await;

    refused.assert_redirect_to("/account/security/phone/set-up/code?error=too_soon");
    let page = browser
        .get("/account/security/phone/set-up/code?error=too_soon")
        .await;
    page.assert_contains("You can ask for a new code in");
    assert_eq!(app.sms_count(), sent);
    app.clock.advance(61);
    browser
        .post_with_token(
            "/account/security/phone/set-up/resend",
            &code_step.csrf_token(),
            &[],
        )
        .await
        .assert_redirect_to("/account/security/phone/set-up/code?notice=code_sent");
    assert_eq!(app.sms_count(), sent + 1);
    browser
        .enter_phone_code(PhoneFlow::SetUp, &app.last_sms_code(PHONE_E164))
        .await
        .assert_two_step_turned_on();
}

// ---- Change the phone number ----

#[tokio::test]
async fn changing_the_number_sends_the_code_to_the_new_number_and_keeps_the_old_one_until_confirmed()
 {
    let (app, owner) = spawn_with_sms_two_step(EMAIL).await;
    let change = "/account/security/phone/change";
    assert!(owner.get(SECURITY_TAB).await.contains(&format!(
        "href=\"{change}\" aria-label=\"Change phone number\""
    )));
    owner
        .get(change)
        .await
        .assert_contains("<label for=\"password\">Password</label>");
    owner
        .enter_phone_password(PhoneFlow::Change, PASSWORD)
        .await
        .assert_redirect_to("/account/security/phone/change/number");
    let to_old_before = app.sms_count_to(PHONE_E164);

    owner
        .enter_phone_number(PhoneFlow::Change, NEW_PHONE)
        .await
        .assert_redirect_to("/account/security/phone/change/code");

    app.last_sms_saying(
        NEW_PHONE_E164,
        "security code for confirming your new phone number",
    );
    assert_eq!(
        app.sms_count_to(PHONE_E164),
        to_old_before,
        "nothing goes to the old number"
    );
    owner
        .get("/account/security/phone/change/code")
        .await
        .assert_contains(NEW_MASKED);
    assert!(
        owner.get(SECURITY_TAB).await.contains(MASKED),
        "the old number is still the one in force"
    );

    // Until the new number is confirmed, signing in still uses the old one.
    let elsewhere = app.past_the_password(EMAIL).await;
    assert_eq!(app.sms_count_to(NEW_PHONE_E164), 1);
    elsewhere
        .assert_sign_in_code_accepted(&app.last_sms_code(PHONE_E164))
        .await;

    let code = app.last_sms_code(NEW_PHONE_E164);
    let tab = owner
        .enter_phone_code(PhoneFlow::Change, &code)
        .await
        .follow(&owner, "/account/settings/security?notice=phone_changed")
        .await;
    assert!(
        tab.contains("Your new phone number is confirmed and set up to receive security codes.")
    );
    assert!(tab.contains(&format!("value=\"{NEW_MASKED}\"")));
    assert!(!tab.contains(&format!("value=\"{MASKED}\"")));
    let email = app
        .wait_for_email(EMAIL, "Your phone number was changed")
        .await;
    assert!(email.text.contains(NEW_MASKED), "{}", email.text);
    assert!(
        email.text.contains(" UTC"),
        "the e-mail says when: {}",
        email.text
    );
    assert!(!email.text.contains("7400123456"));

    // From now on sign-in codes go to the new number.
    app.clock.advance(61);
    let to_old = app.sms_count_to(PHONE_E164);
    let next = app.past_the_password(EMAIL).await;
    assert_eq!(app.sms_count_to(PHONE_E164), to_old);
    next.assert_sign_in_code_accepted(&app.last_sms_code(NEW_PHONE_E164))
        .await;
}

#[tokio::test]
async fn a_code_for_the_new_number_does_not_change_it_without_being_entered_right() {
    let (app, owner) = spawn_with_sms_two_step(EMAIL).await;
    owner.ask_for_phone_code(PhoneFlow::Change, NEW_PHONE).await;
    let right = app.last_sms_code(NEW_PHONE_E164);

    let page = owner
        .enter_phone_code(PhoneFlow::Change, wrong_code(&right))
        .await;

    assert_eq!(page.status, 422);
    assert!(page.reads("That code isn't right. 4 attempts left."));
    assert!(shows_number(&owner, MASKED).await);
}

#[tokio::test]
async fn the_current_number_cannot_be_entered_as_the_new_one() {
    let (app, owner) = spawn_with_sms_two_step(EMAIL).await;
    owner
        .enter_phone_password(PhoneFlow::Change, PASSWORD)
        .await;
    let sent = app.sms_count();

    let page = owner
        .enter_phone_number(PhoneFlow::Change, "+16502530000")
        .await;

    assert_eq!(page.status, 422);
    assert!(page.contains("This is already your phone number."));
    assert_eq!(app.sms_count(), sent);
}

#[tokio::test]
async fn a_code_sent_to_the_new_number_does_not_sign_in() {
    let (app, owner) = spawn_with_sms_two_step(EMAIL).await;
    owner.ask_for_phone_code(PhoneFlow::Change, NEW_PHONE).await;
    let change_code = app.last_sms_code(NEW_PHONE_E164);
    let signing_in = app.past_the_password(EMAIL).await;
    if app.last_sms_code(PHONE_E164) == change_code {
        return; // One chance in a million: the two codes happen to match.
    }

    signing_in.assert_sign_in_code_refused(&change_code).await;
}

// ---- Turn off ----

#[tokio::test]
async fn turning_two_step_off_needs_the_password_and_removes_the_phone_number() {
    let (app, owner) = spawn_with_sms_two_step(EMAIL).await;
    let turn_off = "/account/security/two-step/turn-off";
    let form = owner.get(turn_off).await;
    assert!(form.contains("<label for=\"password\">Password</label>"));

    let refused = owner
        .post(turn_off, &[("password", "not my password at all")])
        .await;
    refused.assert_wrong_password();
    assert!(
        owner.get(SECURITY_TAB).await.contains(MASKED),
        "still on after a wrong password"
    );

    let tab = owner
        .post(turn_off, &[("password", PASSWORD)])
        .await
        .follow(&owner, "/account/settings/security?notice=two_step_off")
        .await;
    assert!(tab.contains("Two-step verification is off."));
    assert!(
        tab.contains("action=\"/account/security/phone/set-up\""),
        "Set up is offered again"
    );
    assert!(
        !tab.contains("id=\"phone-number\""),
        "no Phone number field"
    );
    let account = app.account(EMAIL).await;
    assert_eq!(account.phone_enc, None);
    app.wait_for_email_saying(
        EMAIL,
        "Two-step verification is off",
        "Two-step verification by SMS was turned off",
    )
    .await;
    // The password alone signs in again, and no SMS is sent.
    let sent = app.sms_count();
    app.assert_signs_in(EMAIL, PASSWORD).await;
    assert_eq!(app.sms_count(), sent);
}

#[tokio::test]
async fn the_security_question_stays_disabled_after_two_step_is_turned_off() {
    let (app, owner) = spawn_with_sms_two_step(EMAIL).await;
    let turn_off = "/account/security/two-step/turn-off";
    owner
        .post(turn_off, &[("password", PASSWORD)])
        .await
        .assert_redirect_to("/account/settings/security?notice=two_step_off");

    let tab = owner.get(SECURITY_TAB).await;
    assert!(tab.contains("The security question is no longer available for this account"));
    let fields = [
        ("question", "What was the name of my first school?"),
        ("answer", "Hillside"),
        ("password", PASSWORD),
    ];
    let page = owner
        .post_form(SECURITY_TAB, "/account/security-question", &fields)
        .await;

    assert_eq!(page.status, 422);
    assert!(page.contains("no longer available for this account"));
    let account = app.account(EMAIL).await;
    assert_eq!(account.security_question, None);
    assert!(account.security_question_disabled);
}

#[tokio::test]
async fn a_phone_flow_that_does_not_exist_is_not_found() {
    let (_app, owner) = spawn_signed_up(EMAIL).await;

    for path in [
        "/account/security/phone/set_up",
        "/account/security/phone/remove/number",
        "/account/security/phone/%FF/code",
    ] {
        let page = owner.get(path).await;
        assert_eq!(page.status, 404, "GET {path}");
        assert!(
            page.contains("<h1>Not found</h1>"),
            "GET {path}: {}",
            page.body
        );
    }
    assert_eq!(
        owner.get("/account/security/phone/set-up").await.status,
        200
    );
}
