//! Issue 2: the account menu, the settings window, the security question, and
//! a forgotten password reset through the outbox.

use crate::browser::Browser;
use crate::names::Scope;
use crate::steps::PASSWORD;

const EMAIL: &str = "ada@example.com";
const NEW_PASSWORD: &str = "a brand new passphrase";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs chromium and chromedriver; run by .ci/run"]
async fn a_forgotten_password_is_reset_through_the_outbox_after_the_security_question() {
    let mut person = Browser::start("security_question").await;
    person.sign_up(EMAIL).await;

    // Security tab → Security question: question, answer, password → Save.
    person.go_to_security_tab(EMAIL).await;
    let section = Scope::Section("Security question");
    person
        .fill_in(
            section,
            "Security question",
            "What was the name of your first pet?",
        )
        .await;
    person.fill_in(section, "Answer", "Rex").await;
    person.fill_in(section, "Password", PASSWORD).await;
    person
        .click_button_in(section, "Save", "security-question-saved")
        .await;
    person
        .assert_sees("Your security question has been saved.")
        .await;
    // The section shows the question.
    person
        .assert_section_says("Security question", "What was the name of your first pet?")
        .await;

    person.sign_out(EMAIL).await;

    // Forgot password? → Email → the e-mail in the outbox → its link.
    person
        .click_link("Forgot password?", "forgot-password")
        .await;
    person.fill("Email", EMAIL).await;
    person.click_button("Send link", "reset-link-sent").await;
    person
        .assert_sees("If an account exists for that address")
        .await;
    let email = person
        .read_outbox("E-mail", EMAIL, Some("Reset your password"))
        .await;
    let link = person.link_in(&email, "/reset-password?token=");
    person.open(&link, "reset-link-opened").await;

    // The security question is asked; a wrong answer is refused.
    person
        .assert_sees("What was the name of your first pet?")
        .await;
    person.fill("Answer", "Max").await;
    person.click_button("Continue", "wrong-answer").await;
    person.assert_sees("That answer isn't right.").await;
    // The refused answer is marked.
    person.assert_marked_invalid("Answer").await;
    person.assert_does_not_see("New password").await;
    person.fill("Answer", "  rex ").await;
    person.click_button("Continue", "answer-accepted").await;

    person.fill("New password", NEW_PASSWORD).await;
    person.click_button("Save", "password-reset").await;
    person.assert_path_is("/sign-in").await;
    person.assert_sees("Your password has been changed.").await;

    // The old password no longer works; the new one does.
    person
        .enter_email_and_password(EMAIL, PASSWORD, "old-password-refused")
        .await;
    person
        .assert_sees("The e-mail or password is incorrect.")
        .await;
    person
        .enter_email_and_password(EMAIL, NEW_PASSWORD, "signed-in-with-new-password")
        .await;
    person.assert_signed_in_as(EMAIL).await;

    // The link works once.
    person.open(&link, "reset-link-reused").await;
    person
        .assert_sees("This link has expired or has already been used.")
        .await;

    // On a phone-sized window the e-mail link and its menu still fit the screen.
    person.resize(390, 844).await;
    person.open("/account", "phone-sized-window").await;
    person.open_account_menu(EMAIL).await;
    person.finish().await;
}
