//! Anti-Theft: the owner's commands reach only their device, once; the device
//! answers once; commands expire after a day; Lock and Wipe ask for the
//! password; every command and answer is a security event, and Lock, Wipe and
//! each location are e-mailed.

use std::collections::BTreeMap;

use domain::anti_theft::COMMAND_EXPIRY_SECONDS;
use serde_json::{Value, json};

use crate::helpers::*;

pub(crate) const PAGE: &str = "/account/anti-theft";
pub(crate) const MOBILE: &str = "photon-mobile";
/// The built-in catalogue's photon-mobile obeys Anti-Theft commands from 5.1.0.
pub(crate) const DEVICE_VERSION: &str = "5.1.4";
pub(crate) const PHONE_NAME: &str = "Anna's phone";

/// Connects an application to an account without two-step verification.
pub(crate) async fn connect(
    app: &TestApp,
    email: &str,
    app_id: &str,
    version: &str,
    device: &str,
    platform: Option<&str>,
) -> (i64, String) {
    let mut body = json!({"email": email, "password": PASSWORD, "app_id": app_id,
        "app_version": version, "device_name": device});
    if let Some(platform) = platform {
        body["platform"] = platform.into();
    }
    let (status, body) = post_json(app, "/api/v1/apps/connect", body).await;
    assert_eq!(status, 200, "{body}");
    (
        body["connection_id"].as_i64().unwrap(),
        body["token"].as_str().unwrap().to_owned(),
    )
}

/// An Android phone with a version of Photon Mobile that obeys commands.
pub(crate) async fn connect_phone(app: &TestApp, email: &str, name: &str) -> (i64, String) {
    connect(app, email, MOBILE, DEVICE_VERSION, name, Some("Android")).await
}

pub(crate) async fn fetch(app: &TestApp, token: &str) -> (u16, Value) {
    let response = reqwest::Client::new()
        .get(app.url("/api/v1/devices/commands"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    status_and_json(response).await
}

/// The commands handed to the device, as (kind, message).
pub(crate) async fn fetch_commands(app: &TestApp, token: &str) -> Vec<Value> {
    let (status, body) = fetch(app, token).await;
    assert_eq!(status, 200, "{body}");
    body["commands"].as_array().unwrap().clone()
}

pub(crate) async fn answer(
    app: &TestApp,
    token: &str,
    id: impl std::fmt::Display,
    body: Value,
) -> (u16, Value) {
    let response = reqwest::Client::new()
        .post(app.url(&format!("/api/v1/devices/commands/{id}/result")))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    status_and_json(response).await
}

pub(crate) fn done_at(latitude: f64, longitude: f64, accuracy_m: f64) -> Value {
    json!({"status": "done", "location": {"latitude": latitude, "longitude": longitude, "accuracy_m": accuracy_m}})
}

pub(crate) fn command_path(device: i64, kind: &str) -> String {
    format!("{PAGE}/{device}/{kind}")
}

/// Presses Locate or Alarm on the page.
pub(crate) async fn press(browser: &Browser, device: i64, kind: &str) -> Page {
    browser
        .post_form(PAGE, &command_path(device, kind), &[])
        .await
}

/// Fills in Lock's or Wipe's form (`kind`) with `fields` and sends it.
pub(crate) async fn send_form(
    browser: &Browser,
    device: i64,
    kind: &str,
    fields: &[(&str, &str)],
) -> Page {
    let path = command_path(device, kind);
    browser.post_form(&path, &path, fields).await
}

pub(crate) async fn lock(browser: &Browser, device: i64, message: &str, password: &str) -> Page {
    send_form(
        browser,
        device,
        "lock",
        &[("message", message), ("password", password)],
    )
    .await
}

async fn wipe(browser: &Browser, device: i64, confirm: bool, password: &str) -> Page {
    let confirm = if confirm { "yes" } else { "" };
    send_form(
        browser,
        device,
        "wipe",
        &[("confirm", confirm), ("password", password)],
    )
    .await
}

/// The kinds of the account's security events, oldest first.
pub(crate) async fn event_kinds(app: &TestApp, email: &str) -> Vec<String> {
    let account = app.account(email).await;
    let mut events = app
        .state
        .store
        .recent_events(account.id, 100)
        .await
        .unwrap();
    events.reverse();
    events.into_iter().map(|e| e.kind).collect()
}

/// The one command handed to the device, its id.
pub(crate) async fn the_one_command(app: &TestApp, token: &str, kind: &str) -> i64 {
    let commands = fetch_commands(app, token).await;
    assert_eq!(commands.len(), 1, "{commands:?}");
    assert_eq!(commands[0]["kind"], kind);
    commands[0]["id"].as_i64().unwrap()
}

#[tokio::test]
async fn the_account_menu_opens_the_anti_theft_page_which_says_how_to_add_a_device() {
    let (app, browser) = spawn_signed_up("anna@example.com").await;
    let account = browser.get("/account").await;
    let link = account
        .link("Anti-Theft")
        .expect("the account menu links to Anti-Theft");
    let page = browser.get(&link).await;
    assert_eq!(page.status, 200);
    page.assert_contains("<h1>Anti-Theft</h1>");
    page.assert_reads("install Photon Mobile 5.1.0 or later from Downloads on the device and connect it to your account");
    page.assert_contains("<a href=\"/downloads\">Downloads</a>");
    for button in ["Locate", "Lock", "Alarm", "Wipe"] {
        assert!(!page.contains(&format!(">{button}</button>")), "{button}");
    }
    let signed_out = app.browser().get(PAGE).await;
    signed_out.assert_redirect_to("/sign-in");
}

#[tokio::test]
async fn only_applications_the_catalogue_makes_devices_are_listed() {
    let (app, browser) = spawn_signed_up("anna@example.com").await;
    let email = "anna@example.com";
    connect_phone(&app, email, PHONE_NAME).await;
    connect(&app, email, MOBILE, "5.1.0", "Tablet", Some("ios")).await;
    for (app_id, version, device, platform) in [
        (MOBILE, "5.0.9", "Old phone", Some("Android")),
        (MOBILE, "5.1.0-rc.1", "Beta phone", Some("Android")),
        (MOBILE, DEVICE_VERSION, "Phone on a PC", Some("Windows")),
        (MOBILE, DEVICE_VERSION, "Phone of no platform", None),
        ("photon-desktop", "3.2.0", "Office PC", Some("Windows")),
    ] {
        connect(&app, email, app_id, version, device, platform).await;
    }
    let page = browser.get(PAGE).await;
    page.assert_contains("<h2 id=\"device-");
    page.assert_reads("Photon Mobile 5.1.4 · Android · Last seen");
    page.assert_reads("Photon Mobile 5.1.0 · ios");
    for listed in [PHONE_NAME, "Tablet"] {
        page.assert_reads(listed);
    }
    for not_listed in [
        "Old phone",
        "Beta phone",
        "Phone on a PC",
        "Phone of no platform",
        "Office PC",
    ] {
        assert!(!page.reads(not_listed), "{not_listed} is listed");
    }
    for button in ["Locate", "Lock", "Alarm", "Wipe"] {
        assert_eq!(
            page.body.matches(&format!(">{button}</button>")).count(),
            2,
            "{button}"
        );
    }
}

#[tokio::test]
async fn a_catalogue_without_anti_theft_has_no_devices() {
    let dir = tempfile::tempdir().unwrap();
    let catalog = dir.path().join("apps.toml");
    std::fs::write(
        &catalog,
        "[[apps]]\nid = \"photon-mobile\"\nname = \"Photon Mobile\"\nplatforms = [\"Android\"]\nlatest_version = \"5.1.4\"\ndownload_url = \"https://e.com/m\"\n",
    )
    .unwrap();
    let app = TestApp::builder()
        .setting("TWOSTEP_APPS_CATALOG", catalog.to_str().unwrap())
        .spawn()
        .await;
    let browser = app.signed_up("anna@example.com").await;
    let (device, token) = connect_phone(&app, "anna@example.com", PHONE_NAME).await;
    let page = browser.get(PAGE).await;
    assert!(!page.reads(PHONE_NAME));
    page.assert_reads("install an application that supports Anti-Theft from Downloads");
    assert_eq!(press(&browser, device, "locate").await.status, 404);
    assert!(fetch_commands(&app, &token).await.is_empty());
}

#[tokio::test]
async fn a_command_goes_to_its_device_only_and_once() {
    let (app, browser) = spawn_signed_up("anna@example.com").await;
    let (phone, phone_token) = connect_phone(&app, "anna@example.com", PHONE_NAME).await;
    let (_, tablet_token) = connect_phone(&app, "anna@example.com", "Tablet").await;
    let _bob = app.signed_up("bob@example.com").await;
    let (_, bobs_token) = connect_phone(&app, "bob@example.com", "Bob's phone").await;

    press(&browser, phone, "locate")
        .await
        .assert_redirect_to(&format!("{PAGE}?sent=locate"));
    let page = browser.get(&format!("{PAGE}?sent=locate")).await;
    page.assert_reads("Locate sent.");
    page.assert_reads("Waiting for the device");
    for other in [&tablet_token, &bobs_token] {
        assert!(fetch_commands(&app, other).await.is_empty());
    }
    let commands = fetch_commands(&app, &phone_token).await;
    assert_eq!(commands.len(), 1);
    let command = &commands[0];
    assert_eq!(command["kind"], "locate");
    assert_eq!(command["message"], Value::Null);
    assert_eq!(command["issued_at"], app.clock.now());
    assert!(command["id"].as_i64().is_some());
    assert!(
        fetch_commands(&app, &phone_token).await.is_empty(),
        "handed out twice"
    );
    browser.get(PAGE).await.assert_reads("Received");
}

#[tokio::test]
async fn a_device_gets_its_waiting_commands_oldest_first_each_fetched_once_by_concurrent_polls() {
    let (app, browser) = spawn_signed_up("anna@example.com").await;
    let (phone, token) = connect_phone(&app, "anna@example.com", PHONE_NAME).await;
    press(&browser, phone, "alarm").await;
    app.clock.advance(5);
    lock(&browser, phone, "Call 555 0100", PASSWORD)
        .await
        .assert_redirect_to(&format!("{PAGE}?sent=lock"));
    app.clock.advance(5);
    press(&browser, phone, "locate").await;
    let polls: Vec<_> = (0..100)
        .map(|_| {
            let (url, token) = (app.url("/api/v1/devices/commands"), token.clone());
            tokio::spawn(async move {
                let response = reqwest::Client::new()
                    .get(url)
                    .bearer_auth(token)
                    .send()
                    .await
                    .unwrap();
                status_and_json(response).await
            })
        })
        .collect();
    let mut handed_out = Vec::new();
    for poll in polls {
        let (status, body) = poll.await.unwrap();
        assert_eq!(status, 200, "{body}");
        let commands = body["commands"].as_array().unwrap().clone();
        if !commands.is_empty() {
            handed_out.push(commands);
        }
    }
    assert_eq!(handed_out.len(), 1, "{handed_out:?}");
    let kinds: Vec<_> = handed_out[0]
        .iter()
        .map(|c| c["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["alarm", "lock", "locate"]);
    assert_eq!(handed_out[0][1]["message"], "Call 555 0100");
}

#[tokio::test]
async fn a_hundred_presses_at_once_send_one_command_while_it_waits() {
    let (app, browser) = spawn_signed_up("anna@example.com").await;
    let (phone, token) = connect_phone(&app, "anna@example.com", PHONE_NAME).await;
    let csrf = browser.get(PAGE).await.csrf_token();
    let action = command_path(phone, "alarm");
    let presses: Vec<_> = (0..100)
        .map(|_| {
            let same_browser = Browser {
                client: browser.client.clone(),
                jar: browser.jar.clone(),
                base: browser.base.clone(),
            };
            let (action, csrf) = (action.clone(), csrf.clone());
            tokio::spawn(async move {
                same_browser
                    .post_with_token(&action, &csrf, &[])
                    .await
                    .location
            })
        })
        .collect();
    let answers = tally(presses).await;
    assert_eq!(
        answers,
        BTreeMap::from([
            (Some(format!("{PAGE}?sent=alarm")), 1),
            (Some(format!("{PAGE}?waiting=alarm")), 99)
        ])
    );
    browser
        .get(&format!("{PAGE}?waiting=alarm"))
        .await
        .assert_reads(
            "The Alarm sent earlier is still waiting for this device, so no second one was sent.",
        );
    // Another kind is not held back by it, and once received a new one may go.
    press(&browser, phone, "locate")
        .await
        .assert_redirect_to(&format!("{PAGE}?sent=locate"));
    assert_eq!(fetch_commands(&app, &token).await.len(), 2);
    press(&browser, phone, "alarm")
        .await
        .assert_redirect_to(&format!("{PAGE}?sent=alarm"));
    let sent = event_kinds(&app, "anna@example.com").await;
    assert_eq!(
        sent.iter()
            .filter(|k| *k == "anti_theft_command_sent")
            .count(),
        3
    );
}

#[tokio::test]
async fn a_command_not_received_within_a_day_expires_and_another_may_be_sent() {
    let (app, browser) = spawn_signed_up("anna@example.com").await;
    let (phone, token) = connect_phone(&app, "anna@example.com", PHONE_NAME).await;
    lock(&browser, phone, "", PASSWORD).await;
    // Ten minutes short of a day, not one second: the test clock also runs
    // while the sign-in below hashes, and a loaded machine takes seconds.
    // The domain tests hold the rule at the exact second.
    app.clock.advance(COMMAND_EXPIRY_SECONDS - 10 * 60);
    // A day is longer than a session: Anna signs in again.
    browser.sign_in("anna@example.com", PASSWORD).await;
    press(&browser, phone, "alarm").await;
    let last_second = fetch_commands(&app, &token).await;
    assert_eq!(
        last_second.len(),
        2,
        "the lock is still deliverable: {last_second:?}"
    );

    press(&browser, phone, "locate").await;
    app.clock.advance(COMMAND_EXPIRY_SECONDS);
    assert!(fetch_commands(&app, &token).await.is_empty());
    browser.sign_in("anna@example.com", PASSWORD).await;
    let page = browser.get(PAGE).await;
    page.assert_reads("Expired");
    press(&browser, phone, "locate")
        .await
        .assert_redirect_to(&format!("{PAGE}?sent=locate"));
    the_one_command(&app, &token, "locate").await;
    let expired_id = {
        let account = app.account("anna@example.com").await;
        let commands = app
            .state
            .store
            .commands_of_account(account.id, 10)
            .await
            .unwrap();
        commands
            .iter()
            .find(|c| c.state == domain::anti_theft::CommandState::Expired)
            .unwrap()
            .id
    };
    assert_api_error(
        &answer(&app, &token, expired_id, done_at(1.0, 2.0, 3.0)).await,
        409,
        "already_answered",
    );
}

#[tokio::test]
async fn a_device_answers_each_command_once() {
    let (app, browser) = spawn_signed_up("anna@example.com").await;
    let (phone, token) = connect_phone(&app, "anna@example.com", PHONE_NAME).await;
    press(&browser, phone, "locate").await;
    let id = the_one_command(&app, &token, "locate").await;
    let first = answer(&app, &token, id, done_at(52.520008, 13.404954, 24.2)).await;
    assert_eq!(first, (200, json!({"id": id, "state": "done"})));
    assert_api_error(
        &answer(&app, &token, id, done_at(1.0, 1.0, 1.0)).await,
        409,
        "already_answered",
    );
    assert_api_error(
        &answer(
            &app,
            &token,
            id,
            json!({"status": "failed", "reason": "later"}),
        )
        .await,
        409,
        "already_answered",
    );

    press(&browser, phone, "alarm").await;
    let alarm = the_one_command(&app, &token, "alarm").await;
    let answers: Vec<_> = (0..100)
        .map(|i| {
            let (url, token) = (
                app.url(&format!("/api/v1/devices/commands/{alarm}/result")),
                token.clone(),
            );
            let body = if i % 2 == 0 {
                json!({"status": "done"})
            } else {
                json!({"status": "failed", "reason": "muted"})
            };
            tokio::spawn(async move {
                let response = reqwest::Client::new()
                    .post(url)
                    .bearer_auth(token)
                    .json(&body)
                    .send()
                    .await
                    .unwrap();
                status_and_json(response).await
            })
        })
        .collect();
    let mut statuses: BTreeMap<u16, usize> = BTreeMap::new();
    for answer in answers {
        let (status, body) = answer.await.unwrap();
        if status == 409 {
            assert_eq!(body["error"], "already_answered");
        }
        *statuses.entry(status).or_default() += 1;
    }
    assert_eq!(statuses, BTreeMap::from([(200, 1), (409, 99)]));
    let kinds = event_kinds(&app, "anna@example.com").await;
    let answered = kinds
        .iter()
        .filter(|k| {
            k.starts_with("anti_theft_command_done") || k.starts_with("anti_theft_command_failed")
        })
        .count();
    assert_eq!(answered, 1, "{kinds:?}");
}

#[tokio::test]
async fn a_device_reaches_only_its_own_commands_and_a_disconnected_one_none() {
    let (app, browser) = spawn_signed_up("anna@example.com").await;
    let (phone, phone_token) = connect_phone(&app, "anna@example.com", PHONE_NAME).await;
    let (_, tablet_token) = connect_phone(&app, "anna@example.com", "Tablet").await;
    app.signed_up("bob@example.com").await;
    let (_, bobs_token) = connect_phone(&app, "bob@example.com", "Bob's phone").await;
    press(&browser, phone, "locate").await;
    let id = the_one_command(&app, &phone_token, "locate").await;
    for other in [&tablet_token, &bobs_token] {
        assert_api_error(
            &answer(&app, other, id, done_at(1.0, 1.0, 1.0)).await,
            404,
            "not_found",
        );
    }
    for missing in [format!("{}", id + 1000), "x".to_owned(), "-1".to_owned()] {
        assert_api_error(
            &answer(&app, &phone_token, &missing, done_at(1.0, 1.0, 1.0)).await,
            404,
            "not_found",
        );
    }
    for token in ["", "not-a-token"] {
        assert_api_error(&fetch(&app, token).await, 401, "unauthorized");
        assert_api_error(
            &answer(&app, token, id, done_at(1.0, 1.0, 1.0)).await,
            401,
            "unauthorized",
        );
    }
    // Bob's browser cannot send to Anna's phone either.
    let bob = app.browser();
    bob.sign_in("bob@example.com", PASSWORD).await;
    assert_eq!(press(&bob, phone, "alarm").await.status, 404);
    assert_eq!(bob.get(&command_path(phone, "lock")).await.status, 404);

    press(&browser, phone, "alarm").await;
    let disconnect = format!("/account/connections/{phone}/disconnect");
    browser
        .post_form(&disconnect, &disconnect, &[("password", PASSWORD)])
        .await;
    assert_api_error(&fetch(&app, &phone_token).await, 401, "unauthorized");
    assert_api_error(
        &answer(&app, &phone_token, id, done_at(1.0, 1.0, 1.0)).await,
        401,
        "unauthorized",
    );
    assert!(!browser.get(PAGE).await.reads(PHONE_NAME));
    assert_eq!(press(&browser, phone, "locate").await.status, 404);
}

#[tokio::test]
async fn only_a_locate_answers_with_a_location_and_only_one_on_the_earth() {
    let (app, browser) = spawn_signed_up("anna@example.com").await;
    let (phone, token) = connect_phone(&app, "anna@example.com", PHONE_NAME).await;
    press(&browser, phone, "alarm").await;
    let alarm = the_one_command(&app, &token, "alarm").await;
    let refused = answer(&app, &token, alarm, done_at(1.0, 1.0, 1.0)).await;
    assert_api_error(&refused, 400, "invalid_request");
    assert!(
        refused.1["message"]
            .as_str()
            .unwrap()
            .contains("only a locate"),
        "{}",
        refused.1
    );
    press(&browser, phone, "locate").await;
    let locate = the_one_command(&app, &token, "locate").await;
    for wrong in [
        json!({"status": "done"}),
        json!({"status": "finished"}),
        json!({"status": "failed", "location": {"latitude": 1.0, "longitude": 1.0, "accuracy_m": 1.0}}),
        done_at(91.0, 0.0, 1.0),
        done_at(0.0, 181.0, 1.0),
        done_at(0.0, 0.0, -1.0),
        json!({"status": "failed", "reason": "x".repeat(201)}),
        json!({"status": "done", "colour": "red"}),
    ] {
        assert_api_error(
            &answer(&app, &token, locate, wrong.clone()).await,
            400,
            "invalid_request",
        );
    }
    // None of those answered it.
    assert_eq!(
        answer(&app, &token, alarm, json!({"status": "done"}))
            .await
            .0,
        200
    );
    assert_eq!(
        answer(
            &app,
            &token,
            locate,
            json!({"status": "failed", "reason": "No GPS signal"})
        )
        .await
        .0,
        200
    );
    let page = browser.get(PAGE).await;
    page.assert_reads("Failed");
    page.assert_reads("No GPS signal");
    page.assert_reads("Done");
}

#[tokio::test]
async fn a_location_found_is_shown_with_a_map_link_and_emailed() {
    let (app, browser) = spawn_signed_up("anna@example.com").await;
    let (phone, token) = connect_phone(&app, "anna@example.com", PHONE_NAME).await;
    press(&browser, phone, "locate").await;
    let id = the_one_command(&app, &token, "locate").await;
    assert_eq!(
        answer(&app, &token, id, done_at(52.520008, -13.404954, 24.2))
            .await
            .0,
        200
    );
    let page = browser.get(PAGE).await;
    page.assert_reads("Latitude 52.520008, longitude -13.404954, accurate to 25 m");
    assert_eq!(
        page.link("Show on map").as_deref(),
        Some(
            "https://www.openstreetmap.org/?mlat=52.520008&mlon=-13.404954#map=16/52.520008/-13.404954"
        )
    );
    page.assert_reads("Done");
    // A link only: nothing on the page loads from another site.
    for loads in ["<img", "<iframe", "<script"] {
        assert!(!page.contains(loads), "{loads}");
    }
    let email = app
        .wait_for_email_saying("anna@example.com", "Anna's phone was located", "52.520008")
        .await;
    assert!(email.text.contains(
        "https://www.openstreetmap.org/?mlat=52.520008&mlon=-13.404954#map=16/52.520008/-13.404954"
    ));
    assert!(event_kinds(&app, "anna@example.com").await.ends_with(&[
        "anti_theft_command_sent".to_owned(),
        "anti_theft_location_found".to_owned()
    ]));
}

#[tokio::test]
async fn lock_and_wipe_ask_for_the_password_and_are_emailed() {
    let (app, browser) = spawn_signed_up("anna@example.com").await;
    let (phone, token) = connect_phone(&app, "anna@example.com", PHONE_NAME).await;
    let form = browser.get(&command_path(phone, "lock")).await;
    form.assert_reads("Message on the lock screen");
    let wrong = lock(&browser, phone, "Call 555 0100", "wrong password").await;
    assert_eq!(wrong.status, 422);
    wrong.assert_wrong_password();
    assert!(
        wrong.contains("value=\"Call 555 0100\""),
        "the message is kept"
    );
    let too_long = lock(&browser, phone, &"x".repeat(201), PASSWORD).await;
    assert_eq!(too_long.status, 422);
    too_long.assert_reads("Use at most 200 characters.");

    let wipe_form = browser.get(&command_path(phone, "wipe")).await;
    wipe_form.assert_reads("Wipe all data from Anna's phone? This cannot be undone.");
    let unconfirmed = wipe(&browser, phone, false, PASSWORD).await;
    assert_eq!(unconfirmed.status, 422);
    unconfirmed.assert_reads("Tick the box to confirm the wipe.");
    assert_eq!(
        wipe(&browser, phone, true, "wrong password").await.status,
        422
    );
    assert!(
        fetch_commands(&app, &token).await.is_empty(),
        "a refused form sent a command"
    );
    assert!(
        !event_kinds(&app, "anna@example.com")
            .await
            .contains(&"anti_theft_command_sent".to_owned())
    );
    // Locate and Alarm have no form: their buttons send.
    assert_eq!(
        browser.get(&command_path(phone, "locate")).await.status,
        404
    );
    assert_eq!(browser.get(&command_path(phone, "ring")).await.status, 404);

    lock(&browser, phone, "Call 555 0100", PASSWORD)
        .await
        .assert_redirect_to(&format!("{PAGE}?sent=lock"));
    app.wait_for_email_saying(
        "anna@example.com",
        "Anti-Theft: Lock sent to Anna's phone",
        "Call 555 0100",
    )
    .await;
    wipe(&browser, phone, true, PASSWORD)
        .await
        .assert_redirect_to(&format!("{PAGE}?sent=wipe"));
    app.wait_for_email_saying(
        "anna@example.com",
        "Anti-Theft: Wipe sent to Anna's phone",
        "erase all data from Anna's phone",
    )
    .await;
    let commands = fetch_commands(&app, &token).await;
    let kinds: Vec<_> = commands
        .iter()
        .map(|c| (c["kind"].clone(), c["message"].clone()))
        .collect();
    assert_eq!(
        kinds,
        [
            (json!("lock"), json!("Call 555 0100")),
            (json!("wipe"), Value::Null)
        ]
    );
    for command in &commands {
        answer(
            &app,
            &token,
            command["id"].as_i64().unwrap(),
            json!({"status": "done"}),
        )
        .await;
    }
    let page = browser.get(PAGE).await;
    page.assert_reads("Message: “Call 555 0100”");
    assert_eq!(page.body.matches(">Done</span>").count(), 2);
    // Only Lock and Wipe were e-mailed; Locate and Alarm are not.
    press(&browser, phone, "alarm").await;
    let kinds = event_kinds(&app, "anna@example.com").await;
    let anti_theft: Vec<_> = kinds
        .iter()
        .filter(|k| k.starts_with("anti_theft"))
        .collect();
    assert_eq!(
        anti_theft,
        [
            "anti_theft_command_sent",
            "anti_theft_command_sent",
            "anti_theft_command_done",
            "anti_theft_command_done",
            "anti_theft_command_sent"
        ]
    );
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let subjects: Vec<_> = app
        .email
        .messages()
        .into_iter()
        .map(|e| e.subject)
        .filter(|s| s.contains("Anti-Theft"))
        .collect();
    assert_eq!(subjects.len(), 2, "{subjects:?}");
}

#[tokio::test]
async fn the_openapi_document_describes_the_device_side() {
    let app = spawn_app().await;
    let document = app.openapi_document().await;
    let paths = &document["paths"];
    assert!(paths["/api/v1/devices/commands"]["get"].is_object());
    let result = &paths["/api/v1/devices/commands/{id}/result"]["post"];
    for status in ["200", "400", "401", "404", "409"] {
        assert!(result["responses"][status].is_object(), "{status}");
    }
    let schemas = &document["components"]["schemas"];
    for schema in [
        "DeviceCommand",
        "CommandsResponse",
        "ResultRequest",
        "LocationBody",
    ] {
        assert!(schemas[schema].is_object(), "{schema}");
    }
}

async fn run_example_device(args: &[&str]) -> String {
    crate::examples::run_example("anti_theft_device", args).await
}

#[tokio::test]
async fn the_example_device_connects_with_its_second_step_obeys_and_answers() {
    let (app, browser, secret) = spawn_with_authenticator("anna@example.com").await;
    let code = format!("echo {}", app.totp(&secret));
    let token = crate::examples::connect_example_device(
        &app.address,
        "anna@example.com",
        PASSWORD,
        PHONE_NAME,
        &["--code-command", &code],
    )
    .await;
    let phone = app
        .state
        .store
        .connection_by_token(&domain::digests::TokenDigest::of(&token))
        .await
        .unwrap()
        .unwrap()
        .id;
    press(&browser, phone, "locate").await;
    lock(&browser, phone, "Call 555 0100", PASSWORD).await;
    let obeyed = run_example_device(&[
        &app.address,
        "--token",
        &token,
        "--at",
        "52.520008,13.404954,25",
    ])
    .await;
    assert_says_all(
        &obeyed,
        &[
            "locate: at 52.520008,13.404954 within 25.0 m",
            "lock: locking the screen, showing \"Call 555 0100\"",
            "done",
        ],
    );
    assert_eq!(obeyed.matches("answered").count(), 2, "{obeyed}");
    let page = browser.get(PAGE).await;
    page.assert_reads("Latitude 52.520008, longitude 13.404954, accurate to 25 m");
    assert_eq!(page.body.matches(">Done</span>").count(), 2);
}
