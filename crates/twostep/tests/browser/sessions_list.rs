//! Issue 13: "Where you're signed in". Ann signs in on her laptop (Chromium)
//! and on another device (reqwest naming itself Firefox on Windows); the
//! Security tab lists both, marks this device, and signs the other one out.

use std::sync::Arc;

use reqwest::cookie::{CookieStore, Jar};

use crate::app::TestApp;
use crate::browser::Browser;
use crate::names::Scope;
use crate::steps::{PASSWORD, Table};

const EMAIL: &str = "ann@example.com";
const WHERE: Scope<'static> = Scope::Section("Where you're signed in");
const FIREFOX_WINDOWS: &str =
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0";

/// Another device, signed in with the password: a cookie jar that names
/// itself Firefox on Windows.
struct OtherDevice {
    client: reqwest::Client,
    jar: Arc<Jar>,
}

impl OtherDevice {
    async fn sign_in(app: &TestApp) -> Self {
        let jar = Arc::new(Jar::default());
        let client = reqwest::Client::builder()
            .cookie_provider(jar.clone())
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(FIREFOX_WINDOWS)
            .build()
            .unwrap();
        let form = client
            .get(app.url("/sign-in"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let marker = "name=\"csrf_token\" value=\"";
        let start = form.find(marker).expect("a CSRF token") + marker.len();
        let token = &form[start..][..form[start..].find('"').unwrap()];
        let answer = client
            .post(app.url("/sign-in"))
            .form(&[
                ("csrf_token", token),
                ("email", EMAIL),
                ("password", PASSWORD),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(
            answer.headers().get("location").unwrap(),
            "/account",
            "the other device is signed in"
        );
        let device = Self { client, jar };
        assert!(device.is_signed_in(app).await);
        device
    }

    async fn is_signed_in(&self, app: &TestApp) -> bool {
        let answer = self.client.get(app.url("/account")).send().await.unwrap();
        answer.status() == reqwest::StatusCode::OK
    }

    fn has_cookie(&self, app: &TestApp) -> bool {
        self.jar.cookies(&app.url("/").parse().unwrap()).is_some()
    }
}

fn row<'t>(table: &'t Table, browser: &str) -> Vec<(&'t str, &'t str)> {
    table
        .row(browser)
        .unwrap_or_else(|| panic!("no row for {browser}: {:?}", table.rows))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs chromium and chromedriver; run by .ci/run"]
async fn the_sessions_list_shows_each_device_and_signs_the_other_one_out() {
    let mut person = Browser::start("sessions-list").await;
    person.sign_up(EMAIL).await;
    let other = OtherDevice::sign_in(&person.app).await;

    person.go_to_security_tab(EMAIL).await;
    person.assert_section_fits("Where you're signed in").await;
    let table = person.table_in(WHERE).await;
    for column in [
        "Browser",
        "System",
        "IP address",
        "Signed in",
        "Last active",
    ] {
        assert!(
            table.headings.iter().any(|h| h == column),
            "the column {column:?} in {:?}",
            table.headings
        );
    }
    assert_eq!(table.rows.len(), 2, "{:?}", table.rows);
    let here = row(&table, "Chrome");
    assert!(here.contains(&("System", "Linux")), "{here:?}");
    assert!(here.contains(&("IP address", "127.0.0.1")), "{here:?}");
    assert!(
        here.iter().any(|(_, cell)| *cell == "This device"),
        "{here:?}"
    );
    let there = row(&table, "Firefox");
    assert!(there.contains(&("System", "Windows")), "{there:?}");
    assert!(
        there.iter().any(|(_, cell)| *cell == "Sign out"),
        "{there:?}"
    );
    assert!(!there.iter().any(|(_, cell)| *cell == "This device"));
    person.screenshot("two-sessions-listed").await;

    // On a phone the list still fits the screen.
    person.resize(390, 844).await;
    person
        .open("/account/settings/security", "two-sessions-phone-sized")
        .await;
    person.assert_section_fits("Where you're signed in").await;
    person.resize(1280, 900).await;

    person
        .click_button_in(WHERE, "Sign out", "other-session-signed-out")
        .await;
    person.assert_sees("That session is signed out.").await;
    assert!(
        !other.is_signed_in(&person.app).await,
        "the other device is out"
    );
    assert!(
        other.has_cookie(&person.app),
        "though it still holds its cookie"
    );
    let table = person.table_in(WHERE).await;
    assert_eq!(table.rows.len(), 1, "{:?}", table.rows);
    person
        .assert_section_says("Where you're signed in", "You are signed in only here.")
        .await;
    person
        .assert_section_says("Recent security events", "Signed out Firefox on Windows")
        .await;
    assert!(!person.has_button(WHERE, "Sign out everywhere else").await);

    // Two more devices, then "Sign out everywhere else".
    let (second, third) = (
        OtherDevice::sign_in(&person.app).await,
        OtherDevice::sign_in(&person.app).await,
    );
    person.refresh().await;
    person.screenshot("three-sessions-listed").await;
    person
        .click_button_in(
            WHERE,
            "Sign out everywhere else",
            "signed-out-everywhere-else",
        )
        .await;
    person
        .assert_sees("You are signed out everywhere else.")
        .await;
    assert!(!second.is_signed_in(&person.app).await);
    assert!(!third.is_signed_in(&person.app).await);
    person.assert_path_is("/account/settings/security").await;

    // Turning two-step verification on signs every other session out by
    // itself (the offer after other changes is tested in where_signed_in.rs).
    let fourth = OtherDevice::sign_in(&person.app).await;
    person.set_up_sms(EMAIL).await;
    assert!(!fourth.is_signed_in(&person.app).await);
    person.go_to_security_tab(EMAIL).await;

    // The Authenticator app section points to examples for a second device.
    person
        .click_link_in(
            Scope::Section("Authenticator app"),
            "Authenticator apps",
            "authenticator-apps",
        )
        .await;
    assert_eq!(person.heading().await, "Authenticator apps");
    person.assert_sees("KeePassXC").await;
    person
        .assert_sees("a device other than your mobile phone")
        .await;
    person.finish().await;
}
