//! Issue 13: never locked out, never nagged. The lost phone, end to end: in
//! with the authenticator on a second device (oathtool) or with a recovery
//! code, then Change phone number to a new phone. And "Don't ask again on
//! this device": the second sign-in skips the code until the devices are
//! forgotten.

use crate::authenticator_app::fresh_code;
use crate::browser::Browser;
use crate::names::Scope;
use crate::steps::{PASSWORD, PHONE_E164};

const RECOVERY: Scope<'static> = Scope::Section("Recovery codes");

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs chromium and chromedriver; run by .ci/run"]
async fn the_lost_phone_signs_in_with_a_recovery_code_and_moves_to_a_new_phone() {
    let email = "margaret@example.com";
    let mut person = Browser::start("lost_phone_recovery_code").await;
    person.sign_up(email).await;
    let codes = person.set_up_sms(email).await;
    person
        .assert_section_says("Recovery codes", "You have 10 recovery codes left.")
        .await;
    person.button(RECOVERY, "Get new codes").await;

    // The phone is gone: the password, then Use a recovery code.
    person.sign_out(email).await;
    let sms_before = person.already_read("SMS", PHONE_E164);
    person
        .enter_email_and_password(email, PASSWORD, "second-step")
        .await;
    person
        .click_link("Use a recovery code", "recovery-code-step")
        .await;
    person.assert_sees("Enter one of the recovery codes").await;
    // Typed as read aloud: lower case, without the dashes.
    let typed = codes[0].replace('-', "").to_lowercase();
    person.fill("Recovery code", &typed).await;
    person
        .click_button("Sign in", "signed-in-with-recovery-code")
        .await;
    person.assert_path_is("/account/settings/security").await;
    person
        .assert_sees("You signed in with a recovery code. That code can't be used again.")
        .await;
    person
        .assert_section_says("Recovery codes", "You have 9 recovery codes left.")
        .await;
    person
        .assert_email_says(email, "A recovery code was used", "9 recovery codes left")
        .await;
    person.back("back-to-the-security-tab").await;

    // The sign-in's code went to the lost phone, and nothing after it.
    person.change_to_the_new_phone(email, sms_before + 1).await;
    person.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs chromium and chromedriver; run by .ci/run"]
async fn the_lost_phone_signs_in_with_the_authenticator_on_a_second_device_and_moves_to_a_new_phone()
 {
    let email = "hedy@example.com";
    let mut person = Browser::with_sms_two_step("lost_phone_authenticator", email).await;

    // The authenticator app on a second device (oathtool).
    let secret_key = person.open_authenticator_set_up().await;
    let secret: String = secret_key.split_whitespace().collect();
    let used_step = person.confirm_authenticator(&secret).await;

    // The phone is gone; the second device still shows codes, and no SMS goes out.
    person.sign_out(email).await;
    person
        .enter_email_and_password(email, PASSWORD, "second-step-authenticator")
        .await;
    person
        .assert_sees("Enter the 6-digit code from your authenticator app.")
        .await;
    person.link(Scope::Page, "Use a recovery code").await;
    let (code, _) = fresh_code(&secret, used_step).await;
    person.fill("Security code", &code).await;
    person
        .click_button("Sign in", "signed-in-with-authenticator")
        .await;
    person.assert_signed_in_as(email).await;

    let sms_before = person.already_read("SMS", PHONE_E164);
    person.go_to_security_tab(email).await;
    person.change_to_the_new_phone(email, sms_before).await;
    person.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs chromium and chromedriver; run by .ci/run"]
async fn a_remembered_device_skips_the_code_until_the_devices_are_forgotten() {
    let email = "barbara@example.com";
    let mut person = Browser::with_sms_two_step("remember_this_device", email).await;

    person.sign_out(email).await;
    person
        .enter_email_and_password(email, PASSWORD, "second-step")
        .await;
    let code = person.sms_code(PHONE_E164).await;
    person.fill("Security code", &code).await;
    let remember = person.field("Don't ask again on this device").await;
    person.click_in_place(remember, "box-ticked").await;
    person.click_button("Sign in", "signed-in-remembered").await;
    person.assert_signed_in_as(email).await;

    // The next sign-in from this browser: the password alone, no SMS.
    person.sign_out(email).await;
    let sms_before = person.already_read("SMS", PHONE_E164);
    person
        .enter_email_and_password(email, PASSWORD, "signed-in-without-code")
        .await;
    person.assert_signed_in_as(email).await;
    person
        .click_link_in(Scope::Header, "Outbox", "outbox-no-new-sms")
        .await;
    assert_eq!(
        person.outbox_count("SMS", PHONE_E164).await,
        sms_before,
        "no code was sent"
    );
    person.open("/account", "account").await;

    // Forget remembered devices → Password → and the code is asked again.
    person.go_to_security_tab(email).await;
    person
        .click_button_in(
            Scope::Section("Remembered devices"),
            "Forget remembered devices",
            "forget-devices",
        )
        .await;
    person.fill("Password", PASSWORD).await;
    person
        .click_button("Forget remembered devices", "devices-forgotten")
        .await;
    person
        .assert_sees("Remembered devices are forgotten.")
        .await;
    person
        .assert_email_says(email, "Remembered devices were forgotten", "was forgotten")
        .await;
    person.open("/account", "account-again").await;
    person.sign_out(email).await;
    person
        .enter_email_and_password(email, PASSWORD, "asked-again")
        .await;
    person.assert_path_is("/sign-in/verify").await;
    person.finish().await;
}
