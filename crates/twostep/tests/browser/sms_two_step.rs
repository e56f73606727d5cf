//! Issue 3: two-step verification by SMS, exactly as the help page walks
//! through it: set up, sign in with the code, change the number, turn off.

use crate::browser::Browser;
use crate::names::Scope;
use crate::steps::{PASSWORD, PHONE_E164, TWO_STEP};

const EMAIL: &str = "grace@example.com";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs chromium and chromedriver; run by .ci/run"]
async fn sms_two_step_verification_is_set_up_used_changed_and_turned_off() {
    let mut person = Browser::with_sms_two_step("sms_two_step", EMAIL).await;

    // The section shows the masked number, the pencil and Turn off.
    assert_eq!(person.field_value("Phone number").await, "+1 ••• ••• 0000");
    person.control(TWO_STEP, "Change phone number").await;
    person.button(TWO_STEP, "Turn off").await;
    // The security question is disabled.
    person
        .assert_section_says("Security question", "no longer available")
        .await;
    assert!(
        !person
            .has_button(Scope::Section("Security question"), "Save")
            .await
    );

    // Signing in now takes the code from an SMS as the second step.
    person.sign_out(EMAIL).await;
    person
        .enter_email_and_password(EMAIL, PASSWORD, "second-step")
        .await;
    person.assert_path_is("/sign-in/verify").await;
    person
        .assert_sees("We sent a security code by SMS to +1 ••• ••• 0000")
        .await;
    person.field("Security code").await;
    person.button(Scope::Page, "Sign in").await;
    person.link(Scope::Page, "Send a new code").await;
    person.open("/account", "not-signed-in-yet").await;
    person.assert_path_is("/sign-in").await;
    person.back("back-to-the-second-step").await;
    let code = person.sms_code(PHONE_E164).await;
    person.fill("Security code", &code).await;
    person.click_button("Sign in", "signed-in-with-sms").await;
    person.assert_signed_in_as(EMAIL).await;

    // The pencil: Password → new number → Get code → code sent to the new number.
    let old_number_messages = person.already_read("SMS", PHONE_E164);
    person.go_to_security_tab(EMAIL).await;
    person
        .change_to_the_new_phone(EMAIL, old_number_messages)
        .await;
    person.back("back-to-security-tab").await;

    // Turn off → Password → Turn off.
    person.turn_off_two_step().await;
    person.button(TWO_STEP, "Set up").await;
    assert!(!person.has_button(TWO_STEP, "Turn off").await);
    // The security question stays disabled.
    person
        .assert_section_says("Security question", "no longer available")
        .await;
    person
        .read_outbox("E-mail", EMAIL, Some("Two-step verification is off"))
        .await;

    // And signing in takes the password alone again.
    person.open("/account", "account").await;
    person.sign_out(EMAIL).await;
    person
        .enter_email_and_password(EMAIL, PASSWORD, "signed-in-with-password-alone")
        .await;
    person.assert_signed_in_as(EMAIL).await;
    person.finish().await;
}
