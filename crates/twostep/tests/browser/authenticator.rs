//! Issue 4: the authenticator app, with oathtool as the phone and zbarimg as
//! its camera: set up, sign in with it by default, the SMS alternative, and the
//! cascade when SMS verification is turned off.

use serde_json::json;

use crate::authenticator_app::{decode_qr, fresh_code};
use crate::browser::Browser;
use crate::names::Scope;
use crate::steps::{PASSWORD, PHONE_E164};

const EMAIL: &str = "katherine@example.com";

const AUTHENTICATOR: Scope<'static> = Scope::Section("Authenticator app");

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs chromium and chromedriver; run by .ci/run"]
async fn the_authenticator_app_is_set_up_with_oathtool_and_goes_when_sms_goes() {
    let mut person = Browser::with_sms_two_step("authenticator", EMAIL).await;

    // Authenticator app → Set up → Password → Continue → QR code and secret key.
    let secret_key = person.open_authenticator_set_up().await;
    let qr = person.image("QR code").await;
    let loaded = person
        .client
        .execute(
            "const img = arguments[0]; return img.complete && img.naturalWidth > 0;",
            vec![serde_json::to_value(&qr).unwrap()],
        )
        .await
        .expect("image state");
    assert_eq!(loaded, json!(true), "the QR code image loads");
    let groups: Vec<&str> = secret_key.split_whitespace().collect();
    assert!(
        groups.len() > 1
            && groups.iter().all(|g| g.len() <= 4
                && g.chars()
                    .all(|c| c.is_ascii_uppercase() || ('2'..='7').contains(&c))),
        "the secret key is base32 in groups of four: {secret_key:?}"
    );
    let secret: String = groups.concat();
    assert_eq!(secret.len(), 32, "160 bits of secret");
    person.assert_sees("second device").await;

    // The QR code, as the browser fetched it, decodes to the same secret.
    let src = qr
        .prop("src")
        .await
        .expect("src")
        .expect("the image has a source");
    let otpauth = fetch_and_decode(&mut person, &src).await;
    assert!(
        otpauth.starts_with("otpauth://totp/twostep:"),
        "an otpauth TOTP URL: {otpauth}"
    );
    assert!(
        otpauth.contains(&format!("secret={secret}")),
        "the QR code carries the secret shown: {otpauth}"
    );
    for parameter in ["issuer=twostep", "algorithm=SHA1", "digits=6", "period=30"] {
        assert!(otpauth.contains(parameter), "{parameter} in {otpauth}");
    }

    // Security code from the "app" → Confirm.
    let used_step = person.confirm_authenticator(&secret).await;
    person.button(AUTHENTICATOR, "Turn off").await;

    // Signing in asks for the app's code by default, and sends no SMS.
    person.sign_out(EMAIL).await;
    let sms_before = person.already_read("SMS", PHONE_E164);
    person
        .enter_email_and_password(EMAIL, PASSWORD, "second-step-authenticator")
        .await;
    person
        .assert_sees("Enter the 6-digit code from your authenticator app.")
        .await;
    person.link(Scope::Page, "Use the code from SMS").await;
    person
        .click_link_in(Scope::Header, "Outbox", "outbox-no-sms")
        .await;
    assert_eq!(
        person.outbox_count("SMS", PHONE_E164).await,
        sms_before,
        "no SMS when the app is the method"
    );
    person.back("back-to-the-second-step").await;
    let (code, _) = fresh_code(&secret, used_step).await;
    person.fill("Security code", &code).await;
    person
        .click_button("Sign in", "signed-in-with-authenticator")
        .await;
    person.assert_signed_in_as(EMAIL).await;

    // The same code again is refused (no replay); the SMS is the way out.
    person.sign_out(EMAIL).await;
    person
        .enter_email_and_password(EMAIL, PASSWORD, "second-step-again")
        .await;
    person.fill("Security code", &code).await;
    person
        .click_button("Sign in", "replayed-code-refused")
        .await;
    person.assert_path_is("/sign-in/verify").await;
    person.assert_sees("This code has already been used.").await;
    person
        .click_link("Use the code from SMS", "second-step-sms")
        .await;
    person
        .assert_sees("We sent a security code by SMS to +1 ••• ••• 0000")
        .await;
    person
        .link(Scope::Page, "Use the code from the authenticator app")
        .await;
    let code = person.sms_code(PHONE_E164).await;
    person.fill("Security code", &code).await;
    person.click_button("Sign in", "signed-in-with-sms").await;
    person.assert_signed_in_as(EMAIL).await;

    // Turning SMS verification off turns the authenticator off too.
    person.go_to_security_tab(EMAIL).await;
    person.turn_off_two_step().await;
    // The authenticator section explains it needs SMS first.
    person
        .assert_section_says(
            "Authenticator app",
            "can be set up only after two-step verification by SMS",
        )
        .await;
    assert!(
        !person.has_button(AUTHENTICATOR, "Set up").await,
        "no Set up without SMS"
    );
    assert!(
        !person.has_button(AUTHENTICATOR, "Turn off").await,
        "the authenticator is off"
    );
    person
        .assert_email_says(
            EMAIL,
            "Two-step verification is off",
            "both SMS verification and the authenticator app are off",
        )
        .await;
    person.finish().await;
}

/// Fetches the image with the browser's cookies, as the browser itself did,
/// and reads it with zbarimg.
async fn fetch_and_decode(person: &mut Browser, src: &str) -> String {
    let cookies = person.client.get_all_cookies().await.expect("cookies");
    let header: Vec<String> = cookies
        .iter()
        .map(|c| format!("{}={}", c.name(), c.value()))
        .collect();
    let response = reqwest::Client::new()
        .get(src)
        .header("cookie", header.join("; "))
        .send()
        .await
        .expect("the QR image");
    assert!(
        response.status().is_success(),
        "the QR image loads: {}",
        response.status()
    );
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let image = response.bytes().await.expect("image bytes");
    decode_qr(&image, &content_type, &person.screenshots_folder())
}
