//! Issue 11: the lock messages as a person sees them. Ten wrong passwords make
//! this browser's network wait; ten wrong codes across new codes lock the
//! second step and the page says until when; the owner hears of both in the
//! outbox and sees them in Recent security events; a password step locked by
//! a hundred wrong passwords in a row says how to get back in.

use crate::browser::Browser;
use crate::names::Scope;
use crate::steps::{PASSWORD, PHONE_E164};

const EMAIL: &str = "lin@example.com";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs chromium and chromedriver; run by .ci/run"]
async fn the_lock_messages_say_how_long_and_what_to_do() {
    let mut person = Browser::with_sms_two_step("lockout", EMAIL).await;
    person.sign_out(EMAIL).await;

    // Ten wrong passwords, then even the right one waits.
    for attempt in 0..10 {
        person
            .enter_email_and_password(
                EMAIL,
                "not my password",
                &format!("wrong-password-{attempt}"),
            )
            .await;
        person
            .assert_sees("The e-mail or password is incorrect.")
            .await;
    }
    person
        .enter_email_and_password(EMAIL, PASSWORD, "too-many-attempts")
        .await;
    person
        .assert_sees("Too many attempts. Try again in 15 minutes.")
        .await;
    person.app.clock.advance(15 * 60);

    // Past the password, ten wrong codes over three codes (each takes five).
    person
        .enter_email_and_password(EMAIL, PASSWORD, "code-step")
        .await;
    person.assert_path_is("/sign-in/verify").await;
    for (round, wrong_codes) in [4, 4, 2].into_iter().enumerate() {
        if round > 0 {
            person.app.clock.advance(60);
            person
                .click_link("Send a new code", &format!("new-code-{round}"))
                .await;
        }
        let right = person.sms_code(PHONE_E164).await;
        let wrong = if right == "000000" {
            "111111"
        } else {
            "000000"
        };
        for entry in 0..wrong_codes {
            person.fill("Security code", wrong).await;
            person
                .click_button("Sign in", &format!("wrong-code-{round}-{entry}"))
                .await;
        }
    }
    person
        .assert_sees(
            "Too many wrong codes. For your security, two-step verification is locked until",
        )
        .await;
    person.screenshot("second-step-locked").await;
    person
        .assert_email_says(EMAIL, "Someone has your password", "127.0.0.1")
        .await;
    person
        .assert_email_says(
            EMAIL,
            "Two-step verification is locked for now",
            "After 10 wrong security codes in a row",
        )
        .await;

    // After the lock: a new code signs in, and the events list both.
    person.app.clock.advance(15 * 60);
    person.open("/sign-in", "sign-in-again").await;
    person
        .enter_email_and_password(EMAIL, PASSWORD, "code-step-again")
        .await;
    let code = person.sms_code(PHONE_E164).await;
    person.fill("Security code", &code).await;
    person.click_button("Sign in", "signed-in").await;
    person.assert_signed_in_as(EMAIL).await;
    person.go_to_security_tab(EMAIL).await;
    let events = person.section_text("Recent security events").await;
    for words in [
        "Two-step verification locked until",
        "The right password, then a wrong security code",
        "10 wrong passwords from 127.0.0.1",
    ] {
        if !events.contains(words) {
            person
                .fail(&format!(
                    "Recent security events do not say {words:?}: {events}"
                ))
                .await;
        }
    }
    person.sign_out(EMAIL).await;

    // A hundred wrong passwords in a row from elsewhere (counted through the
    // store, as many networks would): the password step is locked.
    let limits = domain::throttle::PasswordLimits::default();
    for n in 0..limits.consecutive {
        let client = format!("198.51.100.{n}");
        let attempt = storage::PasswordAttempt {
            email: EMAIL,
            client: &client,
        };
        let now = person.app.clock.now();
        person
            .app
            .state
            .store
            .reserve_password_attempt(attempt, &limits, now)
            .await
            .unwrap()
            .expect("a place");
    }
    person
        .enter_email_and_password(EMAIL, PASSWORD, "password-step-locked")
        .await;
    person
        .assert_sees("Signing in with this password is locked after too many wrong attempts.")
        .await;
    person.link(Scope::Page, "Forgot password?").await;
    person.finish().await;
}
