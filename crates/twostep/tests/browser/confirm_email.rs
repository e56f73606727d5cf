//! Issue 12: an address belongs to whoever can read its mail. Sign up → "Check
//! your e-mail" → sign in: every page asks to confirm the address and two-step
//! verification cannot be set up → the link from the e-mail → Confirm → two-step
//! verification is set up.

use crate::browser::Browser;
use crate::names::Scope;
use crate::steps::{PASSWORD, TWO_STEP};

const EMAIL: &str = "hedy@example.com";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs chromium and chromedriver; run by .ci/run"]
async fn a_new_account_confirms_its_address_before_two_step_verification() {
    let mut person = Browser::start("confirm_email").await;
    person.create_account(EMAIL).await;
    person.assert_sees("We sent you an e-mail.").await;
    person.assert_does_not_see(EMAIL).await;

    // Signed in with the password, every page asks to confirm the address.
    person
        .enter_email_and_password(EMAIL, PASSWORD, "signed-in-unconfirmed")
        .await;
    person.assert_signed_in_as(EMAIL).await;
    person.assert_sees("Confirm your e-mail address").await;
    person.button(Scope::Page, "Send the link again").await;
    person.go_to_security_tab(EMAIL).await;
    person.assert_sees("Confirm your e-mail address").await;

    // Two-step verification waits for the address.
    person
        .click_button_in(TWO_STEP, "Set up", "set-up-refused")
        .await;
    person
        .assert_sees("Confirm your e-mail address first")
        .await;

    // Send the link again → a new e-mail; its link → Confirm.
    person.open("/account", "back-to-my-account").await;
    // One link a minute: the first was sent at sign-up.
    person.app.clock.advance(61);
    person
        .click_button("Send the link again", "link-sent-again")
        .await;
    person.assert_sees("We sent you a new link.").await;
    person.follow_confirmation_link(EMAIL).await;
    person.assert_path_is("/account/settings/security").await;
    person
        .assert_sees("Your e-mail address is confirmed. You can now set up two-step verification.")
        .await;
    person.assert_does_not_see("Send the link again").await;

    person.set_up_sms(EMAIL).await;
    person.finish().await;
}
