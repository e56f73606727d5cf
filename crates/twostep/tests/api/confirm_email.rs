//! Issue 12, confirmed e-mail addresses: a sign-up is e-mailed a link and is
//! not signed in; an existing address gets the same page and its owner an
//! e-mail; the link's GET only shows Confirm; until confirmed, every page asks
//! for it and two-step set-up and applications are refused; the link works
//! once for 24 hours; unconfirmed accounts are deleted after 7 days.

use std::collections::BTreeMap;

use serde_json::json;

use crate::apps::{NEW_APP, NEW_VERSION, connect};
use crate::helpers::*;

const ANN: &str = "ann@example.com";
const DAY: i64 = 24 * 60 * 60;
const MINUTE: i64 = 60;

/// How many times ann's address was confirmed, by the security events.
async fn confirmations(app: &TestApp) -> usize {
    let events = app
        .state
        .store
        .recent_events(app.account(ANN).await.id, 500)
        .await
        .unwrap();
    events
        .iter()
        .filter(|e| e.kind == "email_confirmed")
        .count()
}

/// Posts `fields` to `action` `times` times at once from `browser` (its
/// cookies and CSRF token); the statuses answered, counted.
async fn post_at_once(
    app: &TestApp,
    browser: &Browser,
    action: &str,
    fields: &[(&str, &str)],
    times: usize,
) -> BTreeMap<u16, usize> {
    let csrf = browser.get("/account").await.csrf_token();
    let mut form: Vec<(String, String)> = vec![("csrf_token".into(), csrf)];
    form.extend(fields.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    let tasks: Vec<_> = (0..times)
        .map(|_| {
            let (client, url, form) = (browser.client.clone(), app.url(action), form.clone());
            tokio::spawn(async move {
                let response = client.post(url).form(&form).send().await.unwrap();
                response.status().as_u16()
            })
        })
        .collect();
    tally(tasks).await
}

#[tokio::test]
async fn a_sign_up_is_not_signed_in_and_is_emailed_a_link_to_confirm_the_address() {
    let app = spawn_app().await;
    let browser = app.browser();
    browser.sign_up(ANN, PASSWORD).await.assert_checks_email();
    assert!(browser.cookie("twostep_session").is_none());
    browser.get("/account").await.assert_signed_out();
    let account = app.account(ANN).await;
    assert!(!account.address().is_confirmed());
    let email = app
        .wait_for_email_saying(ANN, "Confirm your e-mail address", "within 24 hours")
        .await;
    assert!(
        email
            .text
            .contains(&format!("{}/confirm-email?token=", app.address))
    );
    // The person signs in with the password, the address still unconfirmed.
    browser
        .sign_in(ANN, PASSWORD)
        .await
        .assert_redirect_to("/account");
}

#[tokio::test]
async fn a_sign_up_with_an_address_that_has_an_account_looks_the_same_and_emails_its_owner() {
    let app = spawn_app().await;
    let first = app.browser().sign_up(ANN, PASSWORD).await;
    first.assert_checks_email();
    app.signed_up("bob@example.com").await;
    let first_hash = app.account(ANN).await.password_hash;
    // Confirmed or not, an address with an account answers the very page a
    // new address gets, and neither signs anyone in.
    for existing in [ANN, "bob@example.com", "  Bob@Example.COM "] {
        let browser = app.browser();
        let again = browser.sign_up(existing, "another long passphrase").await;
        again.assert_checks_email();
        assert_eq!(again.body, first.body, "{existing}");
        assert!(browser.cookie("twostep_session").is_none());
    }
    for owner in [ANN, "bob@example.com"] {
        let email = app
            .wait_for_email(
                owner,
                "Someone tried to create an account with your address",
            )
            .await;
        assert!(email.text.contains("nothing was created"));
    }
    let confirmation_links = app
        .email
        .messages()
        .iter()
        .filter(|e| e.to == ANN && e.subject == "Confirm your e-mail address")
        .count();
    assert_eq!(confirmation_links, 1, "only the first sign-up got a link");
    assert_eq!(app.account(ANN).await.password_hash, first_hash);
    app.assert_sign_in_refused(ANN, "another long passphrase")
        .await;
}

#[tokio::test]
async fn opening_the_link_shows_confirm_and_only_the_button_confirms_signed_in_or_not() {
    let app = spawn_app().await;
    app.browser()
        .sign_up(ANN, PASSWORD)
        .await
        .assert_checks_email();
    let token = app.confirmation_token(ANN).await;
    let link = format!("/confirm-email?token={token}");
    // A mail scanner opening the link, as often as it likes, confirms nothing.
    let scanner = app.browser();
    for _ in 0..3 {
        let page = scanner.get(&link).await;
        assert_eq!(page.status, 200);
        assert!(page.contains(">Confirm</button>"), "{}", page.body);
    }
    assert!(!app.account(ANN).await.address().is_confirmed());
    // The button confirms in a browser that is not signed in.
    let stranger = app.browser();
    stranger.get(&link).await;
    let page = stranger.post("/confirm-email", &[("token", &token)]).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.reads("Your e-mail address is confirmed."));
    assert!(app.account(ANN).await.address().is_confirmed());
    // Once only.
    let again = stranger.post("/confirm-email", &[("token", &token)]).await;
    assert_eq!(again.status, 410);
    assert!(again.reads("This link has expired or was already used."));
    assert_eq!(scanner.get(&link).await.status, 410);
    assert_eq!(confirmations(&app).await, 1);
}

#[tokio::test]
async fn a_hundred_confirmations_of_one_link_at_once_confirm_it_once() {
    let app = spawn_app().await;
    let browser = app.signed_up_unconfirmed(ANN).await;
    let token = app.confirmation_token(ANN).await;
    let statuses = post_at_once(&app, &browser, "/confirm-email", &[("token", &token)], 100).await;
    // The signed-in owner is sent on to the Security tab, once.
    assert_eq!(statuses, [(303, 1), (410, 99)].into_iter().collect());
    assert_eq!(confirmations(&app).await, 1);
}

#[tokio::test]
async fn the_link_stops_working_after_24_hours() {
    let app = spawn_app().await;
    let browser = app.signed_up_unconfirmed(ANN).await;
    let token = app.confirmation_token(ANN).await;
    let link = format!("/confirm-email?token={token}");
    // The test clock runs on in real time: a minute of margin each side.
    app.clock.advance(DAY - MINUTE);
    assert_eq!(browser.get(&link).await.status, 200);
    app.clock.advance(MINUTE);
    assert_eq!(browser.get(&link).await.status, 410);
    let page = app
        .browser()
        .post("/confirm-email", &[("token", &token)])
        .await;
    assert_eq!(page.status, 410);
    assert!(!app.account(ANN).await.address().is_confirmed());
}

#[tokio::test]
async fn every_page_of_an_unconfirmed_account_asks_to_confirm_it_until_it_is() {
    let app = spawn_app().await;
    let browser = app.signed_up_unconfirmed(ANN).await;
    let pages = ["/account", "/account/settings", SECURITY_TAB, "/downloads"];
    for path in pages {
        let page = browser.get(path).await;
        assert_eq!(page.status, 200, "{path}");
        assert!(
            page.reads("Confirm your e-mail address") && page.reads("Send the link again"),
            "{path}: {}",
            page.body
        );
    }
    browser.confirm_email(&app, ANN).await;
    for path in pages {
        let page = browser.get(path).await;
        assert!(!page.reads("Send the link again"), "{path}");
    }
    // A visitor who is not signed in is never asked.
    assert!(
        !app.browser()
            .get("/sign-in")
            .await
            .reads("Send the link again")
    );
}

#[tokio::test]
async fn two_step_set_up_waits_for_a_confirmed_address() {
    let app = spawn_app().await;
    let browser = app.signed_up_unconfirmed(ANN).await;
    let refused = [
        browser.get(&PhoneFlow::SetUp.path("")).await,
        browser
            .enter_phone_password(PhoneFlow::SetUp, PASSWORD)
            .await,
        browser.get(&PhoneFlow::SetUp.path("number")).await,
        browser.enter_phone_number(PhoneFlow::SetUp, PHONE).await,
        browser.get(AUTHENTICATOR_SET_UP).await,
    ];
    for page in refused {
        assert_eq!(page.status, 403, "{}", page.body);
        assert!(
            page.reads("Confirm your e-mail address first"),
            "{}",
            page.body
        );
    }
    assert_eq!(app.sms_count(), 0);
    browser.confirm_email(&app, ANN).await;
    browser.set_up_sms(&app, PHONE).await;
}

#[tokio::test]
async fn an_application_cannot_connect_to_an_unconfirmed_account() {
    let app = spawn_app().await;
    let browser = app.signed_up_unconfirmed(ANN).await;
    let refused = connect(&app, ANN, NEW_VERSION, "Ann's laptop").await;
    assert_api_error(&refused, 403, "email_not_confirmed");
    // A wrong password learns nothing about the address.
    let wrong = post_json(
        &app,
        "/api/v1/apps/connect",
        json!({"email": ANN, "password": "wrong password", "app_id": NEW_APP,
               "app_version": NEW_VERSION, "device_name": "Ann's laptop"}),
    )
    .await;
    assert_api_error(&wrong, 401, "invalid_credentials");
    browser.confirm_email(&app, ANN).await;
    let (status, body) = connect(&app, ANN, NEW_VERSION, "Ann's laptop").await;
    assert_eq!((status, body["status"].as_str()), (200, Some("connected")));
}

#[tokio::test]
async fn send_the_link_again_sends_one_new_link_a_minute_and_the_old_one_stops_working() {
    let app = spawn_app().await;
    let browser = app.signed_up_unconfirmed(ANN).await;
    let first = app.confirmation_token(ANN).await;
    let links = |app: &TestApp| {
        app.email
            .messages()
            .iter()
            .filter(|e| e.to == ANN && e.subject == "Confirm your e-mail address")
            .count()
    };
    let too_soon = browser.post("/account/confirm-email/resend", &[]).await;
    assert_eq!(too_soon.status, 429);
    assert!(too_soon.reads("less than a minute ago"));
    app.clock.advance(60);
    let statuses = post_at_once(&app, &browser, "/account/confirm-email/resend", &[], 100).await;
    let sent = statuses.get(&200).copied().unwrap_or_default();
    assert_eq!(statuses.get(&429), Some(&99), "{statuses:?}");
    assert_eq!(sent, 1, "one click of a hundred sends a link");
    for _ in 0..50 {
        if links(&app) == 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(links(&app), 2);
    let second = app.confirmation_token(ANN).await;
    assert_ne!(first, second);
    let old = browser.post("/confirm-email", &[("token", &first)]).await;
    assert_eq!(old.status, 410);
    browser.confirm_email(&app, ANN).await;
}

#[tokio::test]
async fn unconfirmed_accounts_are_deleted_after_seven_days_and_free_their_address() {
    let app = spawn_app().await;
    app.browser()
        .sign_up(ANN, PASSWORD)
        .await
        .assert_checks_email();
    app.signed_up("carol@example.com").await;
    // The test clock runs on in real time: a minute of margin each side.
    app.clock.advance(7 * DAY - MINUTE);
    app.browser()
        .sign_up("bob@example.com", PASSWORD)
        .await
        .assert_checks_email();
    assert!(app.find_account(ANN).await.is_some(), "not yet seven days");
    app.clock.advance(MINUTE);
    app.browser()
        .sign_up("dan@example.com", PASSWORD)
        .await
        .assert_checks_email();
    assert!(
        app.find_account(ANN).await.is_none(),
        "seven days unconfirmed"
    );
    assert!(app.find_account("carol@example.com").await.is_some());
    assert!(app.find_account("bob@example.com").await.is_some());
    // The address is free: signing up with it makes a new account and link.
    app.signed_up(ANN).await;
}

#[tokio::test]
async fn a_password_reset_through_the_emailed_link_confirms_the_address() {
    let app = spawn_app().await;
    app.browser()
        .sign_up(ANN, PASSWORD)
        .await
        .assert_checks_email();
    let (browser, token, _) = app.ask_for_reset(ANN).await;
    browser
        .set_new_password(&token, "a brand new passphrase")
        .await
        .assert_redirect_to("/sign-in?notice=password_reset");
    assert!(app.account(ANN).await.address().is_confirmed());
}
