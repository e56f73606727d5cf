//! Issue 5: the company's client applications. The Downloads section in the
//! header; an application connected through the JSON API, listed on the
//! Security tab and disconnected there; and an application too old for
//! two-step verification, refused, with an e-mail that sends its owner to the
//! Downloads section. The applications are played by reqwest.

use std::time::{SystemTime, UNIX_EPOCH};

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::app::TestApp;
use crate::browser::Browser;
use crate::names::Scope;
use crate::says::assert_says_all;
use crate::steps::{PASSWORD, Table};

const EMAIL: &str = "grace@example.com";
const OWNER_OF_AN_OLD_APP: &str = "dorothy@example.com";

const CONNECTED_APPLICATIONS: Scope<'static> = Scope::Section("Connected applications");

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs chromium and chromedriver; run by .ci/run"]
async fn downloads_are_listed_and_a_connected_application_is_disconnected() {
    let mut person = Browser::start("applications").await;

    // Signed out, the header's Downloads link lists every application.
    person.open("/sign-in", "signed-out").await;
    person
        .click_link_in(Scope::Header, "Downloads", "downloads-signed-out")
        .await;
    assert_downloads_page(&mut person).await;

    // On a phone the list still fits the screen.
    person.resize(390, 844).await;
    person.open("/downloads", "downloads-phone-sized").await;
    person.resize(1280, 900).await;

    // An application connects with the password alone: no two-step verification yet.
    person.sign_up(EMAIL).await;
    let (status, body) = connect(&person.app, EMAIL, "3.2.0", "Grace's laptop").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "connected", "{body}");
    let token = body["token"].as_str().expect("a token").to_owned();
    let (status, account) = me(&person.app, &token).await;
    assert_eq!(status, StatusCode::OK, "the token works: {account}");
    assert_eq!(account["email"], EMAIL);
    assert_eq!(account["device_name"], "Grace's laptop");

    // Security tab → Connected applications: app, version, device, connected at, last used.
    person.go_to_security_tab(EMAIL).await;
    let table = person.table_in(CONNECTED_APPLICATIONS).await;
    for column in ["Application", "Version", "Device", "Connected", "Last used"] {
        assert!(
            table.headings.iter().any(|h| h == column),
            "the column {column:?} in {:?}",
            table.headings
        );
    }
    assert_eq!(table.rows.len(), 1, "one connection: {:?}", table.rows);
    let cell = |column| cell(&table, "Photon Desktop", column);
    assert_eq!(cell("Version"), "3.2.0");
    assert_eq!(cell("Device"), "Grace's laptop");
    assert_is_about_now(cell("Connected"));
    assert_is_about_now(cell("Last used"));
    person.assert_section_fits("Connected applications").await;
    // The connection is a security event.
    person
        .assert_section_says(
            "Recent security events",
            "Photon Desktop 3.2.0 connected on Grace's laptop",
        )
        .await;

    // On a phone the list, its Disconnect button and what follows still fit the screen.
    person.resize(390, 844).await;
    person
        .open(
            "/account/settings/security",
            "connected-applications-phone-sized",
        )
        .await;
    let disconnect = person.button(CONNECTED_APPLICATIONS, "Disconnect").await;
    person.assert_on_top(&disconnect).await;
    person.assert_section_fits("Connected applications").await;

    // Disconnect → Password → Disconnect; a wrong password changes nothing.
    person
        .click_button_in(CONNECTED_APPLICATIONS, "Disconnect", "disconnect")
        .await;
    person
        .assert_sees("Photon Desktop 3.2.0 on Grace's laptop")
        .await;
    person.fill("Password", "not my password").await;
    person
        .click_button("Disconnect", "disconnect-wrong-password")
        .await;
    person.assert_sees("That password isn't right.").await;
    // The refused password is marked.
    person.assert_marked_invalid("Password").await;
    assert_eq!(me(&person.app, &token).await.0, StatusCode::OK);
    person.fill("Password", PASSWORD).await;
    person.click_button("Disconnect", "disconnected").await;
    person.assert_path_is("/account/settings/security").await;
    person
        .assert_sees("The application is disconnected. It must sign in again to connect.")
        .await;
    // The list is empty.
    person
        .assert_section_says(
            "Connected applications",
            "No applications are connected to your account.",
        )
        .await;
    // The disconnection is a security event.
    person
        .assert_section_says(
            "Recent security events",
            "Photon Desktop on Grace's laptop disconnected",
        )
        .await;

    // The application's token no longer works.
    let (status, body) = me(&person.app, &token).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(body["error"], "unauthorized");
    person.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs chromium and chromedriver; run by .ci/run"]
async fn an_old_application_is_refused_and_its_owner_is_sent_to_the_downloads() {
    let mut person = Browser::with_sms_two_step("old_application", OWNER_OF_AN_OLD_APP).await;

    // Photon Desktop supports two-step verification from 3.0.0: 2.9.0 is refused.
    let (status, body) = connect(&person.app, OWNER_OF_AN_OLD_APP, "2.9.0", "Office PC").await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(body["error"], "two_step_unsupported", "{body}");
    assert_eq!(body["downloads_url"], person.app.url("/downloads"));
    let message = body["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("Photon Desktop 2.9.0") && message.contains("Downloads"),
        "the message says what to do: {message}"
    );

    // The owner's e-mail, in the outbox: the app, its version, the device, the Downloads link.
    let email = person
        .read_outbox(
            "E-mail",
            OWNER_OF_AN_OLD_APP,
            Some("Update Photon Desktop to connect to your account"),
        )
        .await;
    assert_says_all(
        &email,
        &[
            "Photon Desktop 2.9.0 on Office PC",
            "does not support two-step verification",
            "update your applications to the latest version",
            "Downloads section",
        ],
    );
    let downloads = person.app.url("/downloads");
    assert!(
        email.split_whitespace().any(|word| word == downloads),
        "the e-mail links to {downloads}: {email}"
    );

    // The header's Downloads link: the version to update to.
    person
        .click_link_in(Scope::Header, "Downloads", "downloads-signed-in")
        .await;
    assert_downloads_page(&mut person).await;

    // The refusal is among the account's security events; nothing was connected.
    person.go_to_security_tab(OWNER_OF_AN_OLD_APP).await;
    // The refusal is a security event.
    person.assert_section_says("Recent security events", "Photon Desktop 2.9.0 on Office PC could not connect: it does not support two-step verification").await;
    // Nothing was connected.
    person
        .assert_section_says(
            "Connected applications",
            "No applications are connected to your account.",
        )
        .await;
    person.finish().await;
}

/// The Downloads page lists every application of the built-in catalogue with
/// its latest version, platforms, download link and two-step support.
async fn assert_downloads_page(person: &mut Browser) {
    person.assert_path_is("/downloads").await;
    assert_eq!(person.heading().await, "Downloads");
    let table = person.table_in(Scope::Page).await;
    let catalogue = twostep::catalog::load(None).expect("the built-in catalogue");
    assert_eq!(
        table.rows.len(),
        catalogue.apps().len(),
        "one row per application: {:?}",
        table.rows
    );
    for app in catalogue.apps() {
        let latest = app.latest_version.to_string();
        assert_eq!(cell(&table, &app.name, "Latest version"), latest);
        assert_eq!(
            cell(&table, &app.name, "Platforms"),
            app.platforms.join(", ")
        );
        let supported = if app.two_step_since.is_some() {
            "Supported"
        } else {
            "Not supported"
        };
        assert_eq!(
            cell(&table, &app.name, "Two-step verification"),
            supported,
            "{}",
            app.name
        );
        let link = person
            .link(Scope::Page, &format!("Download {} {latest}", app.name))
            .await;
        assert_eq!(
            link.attr("href").await.unwrap().as_deref(),
            Some(app.download_url.as_str())
        );
    }
    // What the help page promises, in the words of the example catalogue.
    assert_eq!(cell(&table, "Photon Desktop", "Latest version"), "3.2.0");
    assert_eq!(
        cell(&table, "Photon Desktop", "Two-step verification"),
        "Supported"
    );
    assert_eq!(
        cell(&table, "Photon Sync (legacy)", "Two-step verification"),
        "Not supported"
    );
}

fn cell<'t>(table: &'t Table, row: &str, column: &str) -> &'t str {
    table.cell(row, column).unwrap_or_else(|| {
        panic!(
            "no {column:?} for {row:?} in the table {:?} {:?}",
            table.headings, table.rows
        )
    })
}

/// Photon Desktop connects, as the application would: POST /api/v1/apps/connect.
async fn connect(app: &TestApp, email: &str, version: &str, device: &str) -> (StatusCode, Value) {
    let response = reqwest::Client::new()
        .post(app.url("/api/v1/apps/connect"))
        .json(&json!({
            "email": email,
            "password": PASSWORD,
            "app_id": "photon-desktop",
            "app_version": version,
            "device_name": device,
        }))
        .send()
        .await
        .expect("the API answers");
    let status = response.status();
    (status, response.json().await.expect("a JSON body"))
}

/// GET /api/v1/me with the application's token.
async fn me(app: &TestApp, token: &str) -> (StatusCode, Value) {
    let response = reqwest::Client::new()
        .get(app.url("/api/v1/me"))
        .bearer_auth(token)
        .send()
        .await
        .expect("the API answers");
    let status = response.status();
    (status, response.json().await.expect("a JSON body"))
}

/// "2026-11-26 15:04 UTC", within a few minutes of now.
fn assert_is_about_now(shown: &str) {
    let parsed = (|| {
        let (date, rest) = shown.split_once(' ')?;
        let (clock, zone) = rest.split_once(' ')?;
        let mut date = date.split('-').map(|part| part.parse::<i64>().ok());
        let (year, month, day) = (date.next()??, date.next()??, date.next()??);
        let (hour, minute) = clock.split_once(':')?;
        let (hour, minute) = (hour.parse::<i64>().ok()?, minute.parse::<i64>().ok()?);
        (zone == "UTC")
            .then(|| days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60)
    })();
    let Some(unix) = parsed else {
        panic!("{shown:?} is not a time like \"2026-11-26 15:04 UTC\"");
    };
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_secs() as i64;
    assert!(
        (now - unix).abs() < 600,
        "{shown:?} is not about now ({now})"
    );
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let day_of_year = (153 * (month + if month > 2 { -3 } else { 9 }) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}
