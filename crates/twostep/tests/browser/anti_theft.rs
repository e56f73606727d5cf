//! Issue 14, the help page's story: "This will allow you to sign in to your
//! account and use the Anti-Theft features if your mobile phone is lost or
//! stolen." Anna's phone (the example device, crates/twostep/examples) is
//! connected; the phone is lost; she signs in from another computer with the
//! code of her second authenticator device (oathtool), opens Anti-Theft from
//! the account menu, locates the phone, sees where it is, and locks it; she
//! changes her password, and the phone still answers.

use crate::authenticator_app::{fresh_code, oathtool_code};
use crate::browser::Browser;
use crate::examples::{connect_example_device, run_example};
use crate::names::Scope;
use crate::steps::PASSWORD;

const EMAIL: &str = "anna@example.com";
const PHONE_NAME: &str = "Anna's phone";
const NEW_PASSWORD: &str = "a new passphrase after the theft";
const AUTHENTICATOR: Scope<'static> = Scope::Section("Authenticator app");
const THE_PHONE: Scope<'static> = Scope::Section(PHONE_NAME);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs chromium, chromedriver and oathtool; run by .ci/run"]
async fn a_lost_phone_is_located_and_locked_from_another_device() {
    let mut person = Browser::start("anti-theft").await;
    person.sign_up(EMAIL).await;

    // Before anything is lost, Anti-Theft says how to add a device.
    person.open_account_menu(EMAIL).await;
    person
        .click_link_in(Scope::Header, "Anti-Theft", "anti-theft-no-device")
        .await;
    assert_eq!(person.heading().await, "Anti-Theft");
    person
        .assert_sees("install Photon Mobile 5.1.0 or later from Downloads on the device and connect it to your account")
        .await;

    // Anna's phone connects with Photon Mobile.
    let base = person.app.address.clone();
    let token = connect_example_device(&base, EMAIL, PASSWORD, PHONE_NAME, &[]).await;

    // SMS, then a second device with the authenticator app (oathtool).
    person.set_up_sms(EMAIL).await;
    person
        .click_button_in(AUTHENTICATOR, "Set up", "set-up-authenticator")
        .await;
    person.fill("Password", PASSWORD).await;
    person.click_button("Continue", "secret-key").await;
    let secret_key = person
        .labelled("Secret key")
        .await
        .text()
        .await
        .expect("secret key text");
    let (code, used_step) = oathtool_code(&secret_key);
    person.fill("Security code", &code).await;
    person.click_button("Confirm", "authenticator-on").await;
    person.assert_sees("Your app is set up.").await;

    // The phone is lost. From another computer: e-mail, password, and the code
    // from the second device.
    person.sign_out(EMAIL).await;
    person
        .enter_email_and_password(EMAIL, PASSWORD, "second-step")
        .await;
    person
        .assert_sees("Enter the 6-digit code from your authenticator app.")
        .await;
    let (code, _) = fresh_code(&secret_key, used_step).await;
    person.fill("Security code", &code).await;
    person.click_button("Sign in", "signed-in").await;
    person.assert_signed_in_as(EMAIL).await;

    // Account menu → Anti-Theft: the phone with its application and platform.
    person.open_account_menu(EMAIL).await;
    person
        .click_link_in(Scope::Header, "Anti-Theft", "anti-theft")
        .await;
    assert_eq!(person.heading().await, "Anti-Theft");
    person
        .assert_section_says(PHONE_NAME, "Photon Mobile 5.1.4 · Android · Last seen")
        .await;
    for button in ["Locate", "Lock", "Alarm", "Wipe"] {
        person.button(THE_PHONE, button).await;
    }

    // Locate: the command waits for the phone.
    person
        .click_button_in(THE_PHONE, "Locate", "locate-sent")
        .await;
    person
        .assert_sees("Locate sent. The device receives it the next time it connects.")
        .await;
    person
        .assert_section_says(PHONE_NAME, "Waiting for the device")
        .await;

    // The phone connects, finds itself and answers with its position.
    let obeyed = run_example(
        "anti_theft_device",
        &[&base, "--token", &token, "--at", "52.520008,13.404954,25"],
    )
    .await;
    assert!(
        obeyed.contains("locate: at 52.520008,13.404954"),
        "{obeyed}"
    );
    person.open("/account/anti-theft", "located").await;
    person
        .assert_section_says(
            PHONE_NAME,
            "Latitude 52.520008, longitude 13.404954, accurate to 25 m",
        )
        .await;
    person.assert_section_says(PHONE_NAME, "Done").await;
    let map = person.link(THE_PHONE, "Show on map").await;
    assert_eq!(
        map.attr("href").await.expect("href").as_deref(),
        Some(
            "https://www.openstreetmap.org/?mlat=52.520008&mlon=13.404954#map=16/52.520008/13.404954"
        )
    );
    person
        .assert_email_says(EMAIL, "Anna's phone was located", "52.520008")
        .await;
    person.back("back-to-anti-theft").await;

    // Lock, with a message on the lock screen; the password confirms it.
    person.click_button_in(THE_PHONE, "Lock", "lock-form").await;
    assert_eq!(person.heading().await, "Lock Anna's phone");
    person
        .fill(
            "Message on the lock screen",
            "Found this phone? Call +1 650 253 0000",
        )
        .await;
    person.fill("Password", PASSWORD).await;
    person.click_button("Lock", "lock-sent").await;
    person.assert_sees("Lock sent.").await;
    person
        .assert_section_says(PHONE_NAME, "Found this phone? Call +1 650 253 0000")
        .await;
    let obeyed = run_example("anti_theft_device", &[&base, "--token", &token]).await;
    assert!(
        obeyed.contains(
            "lock: locking the screen, showing \"Found this phone? Call +1 650 253 0000\""
        ),
        "{obeyed}"
    );
    person.open("/account/anti-theft", "locked").await;
    let commands = person.table_in(THE_PHONE).await;
    assert_eq!(
        commands
            .cell("Lock", "State")
            .map(|s| s.starts_with("Done")),
        Some(true),
        "{:?}",
        commands.rows
    );
    person
        .assert_email_says(
            EMAIL,
            "Anti-Theft: Lock sent to Anna's phone",
            "Found this phone?",
        )
        .await;
    person.back("back-to-anti-theft-again").await;

    // Whoever has the phone may have watched her type: Anna changes her
    // password. That signs the phone out of her account, and it stays
    // findable.
    person.go_to_security_tab(EMAIL).await;
    let change_password = Scope::Section("Change password");
    person
        .fill_in(change_password, "Current password", PASSWORD)
        .await;
    person
        .fill_in(change_password, "New password", NEW_PASSWORD)
        .await;
    person
        .click_button_in(change_password, "Save", "password-changed")
        .await;
    person.assert_sees("Your password has been changed.").await;
    person
        .open("/account/anti-theft", "anti-theft-after-password-change")
        .await;
    person
        .assert_section_says(
            PHONE_NAME,
            "Signed out when the password changed; still answers Anti-Theft commands.",
        )
        .await;
    person
        .click_button_in(THE_PHONE, "Alarm", "alarm-sent")
        .await;
    let obeyed = run_example("anti_theft_device", &[&base, "--token", &token]).await;
    assert!(obeyed.contains("alarm: ringing at full volume"), "{obeyed}");

    // Wipe names the phone before anything is erased.
    person.click_button_in(THE_PHONE, "Wipe", "wipe-form").await;
    person
        .assert_sees("Wipe all data from Anna's phone? This cannot be undone.")
        .await;

    // On a phone-sized screen the page still fits.
    person.resize(390, 844).await;
    person
        .open("/account/anti-theft", "anti-theft-phone-sized")
        .await;
    person.assert_fits_window().await;
    person.finish().await;
}
