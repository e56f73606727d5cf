//! A password change or reset signs applications out of the account, but a
//! lost phone stays reachable by Anti-Theft: the owner of a stolen phone is
//! told to change the password, and the phone must not vanish with it. Its
//! token reaches no account endpoint; an application that is no device
//! reaches nothing; Remove and Disconnect still end a device for good.

use crate::anti_theft::{
    DEVICE_VERSION, MOBILE, PAGE, PHONE_NAME, answer, connect, connect_phone, done_at, event_kinds,
    fetch, fetch_commands, lock, press, the_one_command,
};
use crate::apps::me;
use crate::helpers::*;

const ANNA: &str = "anna@example.com";
const NEW_PASSWORD: &str = "a brand new passphrase";
const DAY: i64 = 24 * 60 * 60;
const MINUTE: i64 = 60;
const SIGNED_OUT_NOTE: &str =
    "Signed out when the password changed; still answers Anti-Theft commands.";

fn remove_path(device: i64) -> String {
    format!("{PAGE}/{device}/remove")
}

/// The device's token is refused by `/me` as a disconnected one is, yet it
/// fetches a command pressed after the change and its answer shows on the
/// page, where the device stays with a note and its buttons; the Security tab
/// no longer lists it among the connected applications.
async fn assert_signed_out_and_still_answering(
    app: &TestApp,
    browser: &Browser,
    phone: i64,
    token: &str,
) {
    assert_api_error(&me(app, token).await, 401, "unauthorized");
    press(browser, phone, "locate")
        .await
        .assert_redirect_to(&format!("{PAGE}?sent=locate"));
    let id = the_one_command(app, token, "locate").await;
    assert_eq!(
        answer(app, token, id, done_at(48.858370, 2.294481, 10.0))
            .await
            .0,
        200
    );
    let page = browser.get(PAGE).await;
    page.assert_reads(PHONE_NAME);
    page.assert_reads(SIGNED_OUT_NOTE);
    page.assert_reads("Latitude 48.858370, longitude 2.294481, accurate to 10 m");
    for button in ["Locate", "Lock", "Alarm", "Wipe", "Remove"] {
        page.assert_contains(&format!(">{button}</button>"));
    }
    lock(browser, phone, "Call Anna", NEW_PASSWORD)
        .await
        .assert_redirect_to(&format!("{PAGE}?sent=lock"));
    the_one_command(app, token, "lock").await;
    // Answering commands does not sign it back in to the account.
    assert_api_error(&me(app, token).await, 401, "unauthorized");
    let tab = browser.get(SECURITY_TAB).await;
    assert!(
        tab.reads("No applications are connected to your account."),
        "{}",
        tab.body
    );
}

#[tokio::test]
async fn after_a_password_change_a_device_is_signed_out_yet_still_answers_anti_theft() {
    let (app, browser) = spawn_signed_up(ANNA).await;
    let (phone, token) = connect_phone(&app, ANNA, PHONE_NAME).await;
    assert_eq!(me(&app, &token).await.0, 200);
    assert!(!browser.get(PAGE).await.reads(SIGNED_OUT_NOTE));
    browser
        .change_password(PASSWORD, NEW_PASSWORD)
        .await
        .assert_redirect_to("/account/settings/security?notice=password_changed");
    assert_signed_out_and_still_answering(&app, &browser, phone, &token).await;
    let email = app.wait_for_email(ANNA, "Your password was changed").await;
    assert!(
        email.text.contains(
            "Applications connected to your account were signed out; Anti-Theft devices still answer commands."
        ),
        "{}",
        email.text
    );
}

#[tokio::test]
async fn after_a_password_reset_a_device_is_signed_out_yet_still_answers_anti_theft() {
    let (app, _) = spawn_signed_up(ANNA).await;
    let (phone, token) = connect_phone(&app, ANNA, PHONE_NAME).await;
    let (browser, reset_token, _) = app.ask_for_reset(ANNA).await;
    browser
        .set_new_password(&reset_token, NEW_PASSWORD)
        .await
        .assert_redirect_to("/sign-in?notice=password_reset");
    let browser = app.assert_signs_in(ANNA, NEW_PASSWORD).await;
    assert_signed_out_and_still_answering(&app, &browser, phone, &token).await;
    let email = app.wait_for_email(ANNA, "Your password was reset").await;
    assert!(
        email
            .text
            .contains("Anti-Theft devices still answer commands."),
        "{}",
        email.text
    );
}

/// One of the three endpoints a token may call: the device's commands, its
/// answer to `command`, the account.
async fn call(app: &TestApp, token: &str, which: usize, command: i64) -> (u16, serde_json::Value) {
    match which % 3 {
        0 => fetch(app, token).await,
        1 => answer(app, token, command, done_at(1.0, 1.0, 1.0)).await,
        _ => me(app, token).await,
    }
}

/// The Connected applications table's cell for a device (the security events
/// below it name devices too).
fn device_cell(name: &str) -> String {
    format!("<td data-label=\"Device\">{name}</td>")
}

#[tokio::test]
async fn a_signed_out_application_that_is_no_device_reaches_nothing() {
    let (app, browser) = spawn_signed_up(ANNA).await;
    let (phone, phone_token) = connect_phone(&app, ANNA, PHONE_NAME).await;
    let mut others = Vec::new();
    for (app_id, version, device, platform) in [
        (MOBILE, "5.0.9", "Old phone", Some("Android")),
        (MOBILE, DEVICE_VERSION, "Phone on a PC", Some("Windows")),
        (MOBILE, DEVICE_VERSION, "Phone of no platform", None),
        ("photon-desktop", "3.2.0", "Office PC", Some("Windows")),
    ] {
        let (_, token) = connect(&app, ANNA, app_id, version, device, platform).await;
        // Connected, each may ask for commands (it has none).
        assert!(fetch_commands(&app, &token).await.is_empty(), "{device}");
        others.push((device, token));
    }
    assert!(
        browser
            .get(SECURITY_TAB)
            .await
            .contains(&device_cell("Office PC"))
    );
    press(&browser, phone, "alarm").await;
    browser
        .change_password(PASSWORD, NEW_PASSWORD)
        .await
        .assert_redirect_to("/account/settings/security?notice=password_changed");
    let alarm = the_one_command(&app, &phone_token, "alarm").await;
    let page = browser.get(PAGE).await;
    let tab = browser.get(SECURITY_TAB).await;
    for (index, (device, token)) in others.iter().enumerate() {
        // Each endpoint is the first to meet a signed-out token at least once.
        for which in index..index + 3 {
            assert_api_error(&call(&app, token, which, alarm).await, 401, "unauthorized");
        }
        assert!(!page.reads(device), "{device} is on Anti-Theft");
        assert!(!tab.contains(&device_cell(device)), "{device} is connected");
    }
    assert_eq!(
        answer(
            &app,
            &phone_token,
            alarm,
            serde_json::json!({"status": "done"})
        )
        .await
        .0,
        200,
        "the device among them answers"
    );
}

#[tokio::test]
async fn remove_ends_a_signed_out_device_for_good_with_the_password() {
    let (app, browser) = spawn_signed_up(ANNA).await;
    let (phone, token) = connect_phone(&app, ANNA, PHONE_NAME).await;
    browser.change_password(PASSWORD, NEW_PASSWORD).await;
    let form = browser.get(&remove_path(phone)).await;
    assert_eq!(form.status, 200);
    form.assert_reads("will no longer answer Anti-Theft commands");
    let path = remove_path(phone);
    let wrong = browser
        .post_form(&path, &path, &[("password", PASSWORD)])
        .await;
    assert_eq!(wrong.status, 422, "the old password removes nothing");
    assert!(fetch_commands(&app, &token).await.is_empty());
    browser
        .post_form(&path, &path, &[("password", NEW_PASSWORD)])
        .await
        .assert_redirect_to(&format!("{PAGE}?removed=true"));
    let page = browser.get(&format!("{PAGE}?removed=true")).await;
    page.assert_reads("The device is removed. It no longer answers Anti-Theft commands.");
    assert!(!page.reads(PHONE_NAME));
    assert_api_error(&fetch(&app, &token).await, 401, "unauthorized");
    assert_api_error(&me(&app, &token).await, 401, "unauthorized");
    assert_eq!(press(&browser, phone, "locate").await.status, 404);
    assert_eq!(browser.get(&path).await.status, 404);
    assert_eq!(
        event_kinds(&app, ANNA).await.last().map(String::as_str),
        Some("app_disconnected")
    );
    app.wait_for_email(ANNA, "was disconnected").await;
    // Another account's device is not Anna's to remove.
    let _bob = app.signed_up("bob@example.com").await;
    let (bobs_phone, bobs_token) = connect_phone(&app, "bob@example.com", "Bob's phone").await;
    let refused = browser
        .post_form(
            PAGE,
            &remove_path(bobs_phone),
            &[("password", NEW_PASSWORD)],
        )
        .await;
    assert_eq!(refused.status, 404);
    assert!(fetch_commands(&app, &bobs_token).await.is_empty());
}

#[tokio::test]
async fn disconnect_still_ends_a_connected_device_for_good() {
    let (app, browser) = spawn_signed_up(ANNA).await;
    let (phone, token) = connect_phone(&app, ANNA, PHONE_NAME).await;
    let path = format!("/account/connections/{phone}/disconnect");
    browser
        .post_form(&path, &path, &[("password", PASSWORD)])
        .await
        .assert_redirect_to("/account/settings/security?notice=disconnected");
    browser.change_password(PASSWORD, NEW_PASSWORD).await;
    assert_api_error(&fetch(&app, &token).await, 401, "unauthorized");
    assert!(!browser.get(PAGE).await.reads(PHONE_NAME));
    assert_eq!(press(&browser, phone, "locate").await.status, 404);
}

#[tokio::test]
async fn a_signed_out_device_that_polls_stays_and_one_that_does_not_expires_after_90_days() {
    let (app, browser) = spawn_signed_up(ANNA).await;
    let (_, polling) = connect_phone(&app, ANNA, PHONE_NAME).await;
    let (_, silent) = connect_phone(&app, ANNA, "Tablet").await;
    browser.change_password(PASSWORD, NEW_PASSWORD).await;
    // The test clock runs on in real time: a minute of margin.
    app.clock.advance(90 * DAY - MINUTE);
    assert!(fetch_commands(&app, &polling).await.is_empty());
    app.clock.advance(90 * DAY - MINUTE);
    assert!(
        fetch_commands(&app, &polling).await.is_empty(),
        "each poll keeps it"
    );
    assert_api_error(&fetch(&app, &silent).await, 401, "unauthorized");
    assert_api_error(&me(&app, &polling).await, 401, "unauthorized");
    app.clock.advance(90 * DAY);
    assert_api_error(&fetch(&app, &polling).await, 401, "unauthorized");
}

#[tokio::test]
async fn a_signed_out_device_that_connects_again_is_listed_once() {
    let (app, browser) = spawn_signed_up(ANNA).await;
    let (phone, old_token) = connect_phone(&app, ANNA, PHONE_NAME).await;
    let (tablet, _) = connect_phone(&app, ANNA, "Anna's tablet").await;
    browser
        .change_password(PASSWORD, NEW_PASSWORD)
        .await
        .assert_redirect_to("/account/settings/security?notice=password_changed");
    // The phone is found and signs in again with the new password.
    let body = serde_json::json!({"email": ANNA, "password": NEW_PASSWORD,
        "app_id": MOBILE, "app_version": DEVICE_VERSION, "device_name": PHONE_NAME,
        "platform": "Android"});
    let (status, body) = post_json(&app, "/api/v1/apps/connect", body).await;
    assert_eq!(status, 200, "{body}");
    let again = body["connection_id"].as_i64().unwrap();
    assert_ne!(again, phone);

    let page = browser.get(PAGE).await;
    // Two devices: the phone once, as it connected again, and the tablet.
    assert_eq!(
        page.body.matches(r#"<h2 id="device-"#).count(),
        2,
        "{}",
        page.body
    );
    assert!(page.body.contains(&format!(r#"<h2 id="device-{again}">"#)));
    // The tablet, still signed out, keeps its entry and its note.
    page.assert_reads("Anna's tablet");
    page.assert_reads(SIGNED_OUT_NOTE);
    assert!(
        page.body
            .contains(&format!("/account/anti-theft/{tablet}/"))
    );
    assert!(!page.body.contains(&format!("/account/anti-theft/{phone}/")));
    // The old token reaches nothing any more; the new entry is connected.
    assert_api_error(&fetch(&app, &old_token).await, 401, "unauthorized");
    let tab = browser.get(SECURITY_TAB).await;
    tab.assert_reads(PHONE_NAME);
}
