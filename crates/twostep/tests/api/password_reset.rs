//! Forgot password: the e-mailed single-use link valid for one hour, the security
//! question when one is set, and an answer that never reveals who has an account.

use crate::helpers::*;

const NEW_PASSWORD: &str = "a brand new passphrase";
const MINUTE: i64 = 60;

/// Asks for a reset link for `email` in a fresh browser and returns the link's
/// path and query.
async fn request_reset_link(app: &TestApp, email: &str) -> String {
    let token = app.reset_token(&app.browser(), email).await;
    format!("/reset-password?token={token}")
}

/// The portal with ann@example.com signed up, and the path of a reset link
/// she asked for.
async fn signed_up_with_a_reset_link() -> (TestApp, String) {
    let (app, _) = spawn_signed_up("ann@example.com").await;
    let link = request_reset_link(&app, "ann@example.com").await;
    (app, link)
}

/// Like `signed_up_with_a_reset_link`, with the security question "Name of
/// your first pet?" answered "Rex the Dog"; also the owner's signed-in browser.
async fn with_a_security_question_and_a_reset_link() -> (TestApp, Browser, String) {
    let (app, owner) = spawn_signed_up("ann@example.com").await;
    owner
        .set_security_question("Name of your first pet?", "Rex the Dog")
        .await;
    let link = request_reset_link(&app, "ann@example.com").await;
    (app, owner, link)
}

fn token_of(path: &str) -> &str {
    path.split_once("token=").unwrap().1
}

/// A used or expired link: its page says so (410), and a new password sent
/// with its token is refused (410) too.
async fn assert_link_refused(browser: &Browser, link: &str, new_password: &str) {
    let page = browser.get(link).await;
    assert_eq!(page.status, 410);
    assert!(page.contains("This link has expired or has already been used."));
    let set = browser.set_new_password(token_of(link), new_password).await;
    assert_eq!(set.status, 410);
}

#[tokio::test]
async fn the_sign_in_page_links_to_forgot_password_and_create_account() {
    let app = spawn_app().await;
    let page = app.browser().get("/sign-in").await;
    assert!(page.contains("<a href=\"/forgot-password\">Forgot password?</a>"));
    assert!(page.contains("<a href=\"/sign-up\">Create account</a>"));
}

#[tokio::test]
async fn a_reset_link_without_security_question_leads_straight_to_a_new_password() {
    let (app, link) = signed_up_with_a_reset_link().await;
    let browser = app.browser();

    // The link continues in the reset cookie, off the URL.
    browser
        .get(&link)
        .await
        .assert_redirect_to("/reset-password");
    let form = browser.get("/reset-password").await;
    assert_eq!(form.status, 200);
    assert!(form.contains("<label for=\"new_password\">New password</label>"));
    assert!(!form.contains("Security question"));

    browser
        .set_new_password(token_of(&link), NEW_PASSWORD)
        .await
        .assert_redirect_to("/sign-in?notice=password_reset");

    browser
        .get("/sign-in?notice=password_reset")
        .await
        .assert_contains("Your password has been changed.");
    app.assert_password_changed("ann@example.com", PASSWORD, NEW_PASSWORD)
        .await;
    app.wait_for_email("ann@example.com", "Your password was reset")
        .await;
}

#[tokio::test]
async fn a_reset_link_works_only_once() {
    let (app, link) = signed_up_with_a_reset_link().await;
    let browser = app.browser();
    browser
        .set_new_password(token_of(&link), NEW_PASSWORD)
        .await
        .assert_redirect_to("/sign-in?notice=password_reset");

    assert_link_refused(&browser, &link, "yet another passphrase").await;
    app.assert_signs_in("ann@example.com", NEW_PASSWORD).await;
}

#[tokio::test]
async fn a_reset_link_expires_after_one_hour() {
    let (app, link) = signed_up_with_a_reset_link().await;
    let browser = app.browser();

    app.clock.advance(59 * MINUTE);
    browser
        .get(&link)
        .await
        .assert_redirect_to("/reset-password");
    assert_eq!(
        browser.get("/reset-password").await.status,
        200,
        "still valid after 59 minutes"
    );

    app.clock.advance(MINUTE);
    assert_link_refused(&browser, &link, NEW_PASSWORD).await;
    app.assert_signs_in("ann@example.com", PASSWORD).await;
}

#[tokio::test]
async fn the_reset_token_is_stored_only_as_a_digest() {
    let (app, link) = signed_up_with_a_reset_link().await;
    let token = token_of(&link);
    assert!(
        app.state
            .store
            .password_reset(&domain::digests::ResetLinkDigest::from_bytes(
                token.as_bytes().to_vec()
            ))
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        app.state
            .store
            .password_reset(&domain::digests::ResetLinkDigest::of(token))
            .await
            .unwrap()
            .is_some()
    );
}

#[tokio::test]
async fn forgot_password_answers_the_same_for_an_unknown_email() {
    let (app, _) = spawn_signed_up("ann@example.com").await;
    let browser = app.browser();

    let known = browser
        .post("/forgot-password", &[("email", "ann@example.com")])
        .await;
    let unknown = browser
        .post("/forgot-password", &[("email", "nobody@example.com")])
        .await;

    assert_eq!(known.status, 200);
    assert_eq!(known.status, unknown.status);
    assert_eq!(known.body, unknown.body);
    assert!(known.contains("If an account exists for that address"));
    app.wait_for_email("ann@example.com", "Reset your password")
        .await;
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    assert!(
        app.email.last_to("nobody@example.com").is_none(),
        "no e-mail goes to an address without an account"
    );
}

#[tokio::test]
async fn a_reset_with_a_security_question_asks_for_the_answer_before_the_new_password() {
    let (app, owner, link) = with_a_security_question_and_a_reset_link().await;
    let token = token_of(&link);
    let browser = app.browser();

    let verify = browser.get(&link).await;
    assert_eq!(verify.status, 200);
    assert!(verify.contains("Security question: <strong>Name of your first pet?</strong>"));
    assert!(verify.contains("<label for=\"answer\">Answer</label>"));
    assert!(
        !verify.contains("New password"),
        "the new password comes after the answer"
    );

    let wrong = browser.enter_reset_answer(token, "Fido").await;
    assert_eq!(wrong.status, 422);
    assert!(wrong.reads("That answer isn't right."));
    let skipped = browser.set_new_password(token, NEW_PASSWORD).await;
    assert_eq!(skipped.status, 410, "no verified link in this browser");
    // The answer cannot be skipped.
    app.assert_sign_in_refused("ann@example.com", NEW_PASSWORD)
        .await;

    browser
        .enter_reset_answer(token, "  rex THE   dog ")
        .await
        .assert_redirect_to("/reset-password");
    let new_password = browser.get("/reset-password").await;
    assert!(new_password.contains("<label for=\"new_password\">New password</label>"));
    browser
        .set_new_password(token, NEW_PASSWORD)
        .await
        .assert_redirect_to("/sign-in?notice=password_reset");

    app.assert_password_changed("ann@example.com", PASSWORD, NEW_PASSWORD)
        .await;
    owner.get("/account").await.assert_redirect_to("/sign-in");
}

#[tokio::test]
async fn a_weak_new_password_is_refused_during_a_reset_and_the_link_stays_usable() {
    let (app, link) = signed_up_with_a_reset_link().await;
    let browser = app.browser();
    let page = browser.set_new_password(token_of(&link), "short").await;
    assert_eq!(page.status, 422);
    assert!(page.contains("Use at least 8 characters."));
    browser
        .set_new_password(token_of(&link), NEW_PASSWORD)
        .await
        .assert_redirect_to("/sign-in?notice=password_reset");
}

#[tokio::test]
async fn five_wrong_answers_spend_the_reset_link() {
    let (app, _, link) = with_a_security_question_and_a_reset_link().await;
    let token = token_of(&link);
    let browser = app.browser();
    for _ in 0..4 {
        let wrong = browser.enter_reset_answer(token, "Fido").await;
        assert_eq!(wrong.status, 422);
        assert!(wrong.reads("That answer isn't right."));
    }
    let spent = browser.enter_reset_answer(token, "Fido").await;
    assert_eq!(spent.status, 410);
    assert!(spent.reads("Too many wrong answers. Ask for a new link to reset your password."));
    assert_eq!(
        browser.get(&link).await.status,
        410,
        "not even the right answer opens it now"
    );
    let empty = {
        // Only the new link's e-mail, not the spent one's, may be read.
        app.email.clear();
        // One reset e-mail per address in five minutes.
        app.clock.advance(5 * 60);
        let fresh = request_reset_link(&app, "ann@example.com").await;
        browser.enter_reset_answer(token_of(&fresh), "  ").await
    };
    assert!(
        empty.reads("Enter the answer."),
        "an empty answer is not counted as a guess"
    );
}
