//! "Where you're signed in": every session listed with its browser, system,
//! address and times; signing out one other session or all of them; the offer
//! after a change of a factor; and disabled accounts kept out.

use domain::digests::SessionDigest;
use storage::EventRecord;

use crate::helpers::*;
use crate::operator_cli::{me_status, photon};

const SESSION: &str = "twostep_session";
const SECURITY_TAB: &str = "/account/settings/security";
const FIREFOX_LINUX: &str =
    "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0";
const CHROME_WINDOWS: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";
const SAFARI_IPHONE: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_7 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.7 Mobile/15E148 Safari/604.1";

/// Ann signed up in Firefox on Linux, and signed in again in each of `others`.
async fn ann_signed_in_on(others: &[&str]) -> (TestApp, Browser, Vec<Browser>) {
    let app = spawn_app().await;
    let firefox = app.browser_as(FIREFOX_LINUX);
    firefox
        .sign_up("ann@example.com", PASSWORD)
        .await
        .assert_checks_email();
    firefox
        .sign_in("ann@example.com", PASSWORD)
        .await
        .assert_redirect_to("/account");
    firefox.confirm_email(&app, "ann@example.com").await;
    let mut browsers = Vec::new();
    for user_agent in others {
        let browser = app.browser_as(user_agent);
        browser
            .sign_in("ann@example.com", PASSWORD)
            .await
            .assert_redirect_to("/account");
        browsers.push(browser);
    }
    (app, firefox, browsers)
}

/// The rows of the list, each as the text a person reads in it.
fn session_rows(page: &Page) -> Vec<String> {
    let start = page
        .body
        .find("id=\"sessions\"")
        .expect("the section is on the page");
    let section = &page.body[start..];
    let section = &section[..section.find("</section>").unwrap()];
    section
        .split("<tr>")
        .skip(2)
        .map(|row| {
            visible_text(&row[..row.find("</tr>").unwrap()])
                .trim()
                .to_owned()
        })
        .collect()
}

/// The action of the "Sign out" form in the row that reads `text`.
fn sign_out_action(page: &Page, text: &str) -> String {
    let start = page.body.find("id=\"sessions\"").unwrap();
    let row = page.body[start..]
        .split("<tr>")
        .find(|row| visible_text(row).contains(text))
        .expect("a row reads the text");
    let action = row.find("action=\"").expect("the row has a form") + "action=\"".len();
    row[action..][..row[action..].find('"').unwrap()].to_owned()
}

fn signed_out_count(app_events: &[storage::EventRow], kind: &str) -> usize {
    app_events.iter().filter(|e| e.kind == kind).count()
}

#[tokio::test]
async fn every_session_is_listed_with_its_browser_system_address_and_times() {
    let (app, firefox, _) = ann_signed_in_on(&[CHROME_WINDOWS, SAFARI_IPHONE]).await;
    let page = firefox.get(SECURITY_TAB).await;
    page.assert_reads("Where you're signed in");
    let rows = session_rows(&page);
    assert_eq!(rows.len(), 3, "{rows:?}");
    assert!(
        rows[0].starts_with("Firefox Linux 127.0.0.1") && rows[0].ends_with("This device"),
        "this device first: {rows:?}"
    );
    for (browser, system) in [("Chrome", "Windows"), ("Safari", "iOS")] {
        let row = rows
            .iter()
            .find(|row| row.starts_with(&format!("{browser} {system} 127.0.0.1")))
            .unwrap_or_else(|| panic!("no {browser} on {system}: {rows:?}"));
        assert!(row.ends_with("Sign out"), "{row}");
        assert!(!row.contains("This device"), "{row}");
    }
    assert_eq!(rows.iter().filter(|r| r.contains("This device")).count(), 1);
    let signed_in = web::format_time(app.clock.now());
    assert!(
        rows[0].contains(&signed_in),
        "signed in and last active now: {rows:?}"
    );
    page.assert_reads("Sign out everywhere else");
}

#[tokio::test]
async fn last_active_moves_with_use_written_at_most_once_a_minute() {
    let (app, firefox, others) = ann_signed_in_on(&[CHROME_WINDOWS]).await;
    let chrome_digest = SessionDigest::of(&others[0].cookie(SESSION).unwrap());
    let last_seen = || async {
        app.state
            .store
            .session(&chrome_digest)
            .await
            .unwrap()
            .unwrap()
            .last_seen_at
    };
    let signed_in_at = last_seen().await;
    app.clock.advance(59);
    others[0].get("/account").await;
    assert_eq!(
        last_seen().await,
        signed_in_at,
        "not written within the minute"
    );
    app.clock.advance(10 * 60);
    others[0].get("/account").await;
    assert_eq!(last_seen().await, signed_in_at + 59 + 600);
    let rows = session_rows(&firefox.get(SECURITY_TAB).await);
    let chrome = rows.iter().find(|r| r.starts_with("Chrome")).unwrap();
    let when = |at: i64| web::format_time(at);
    assert!(
        chrome.contains(&format!(
            "{} {}",
            when(signed_in_at),
            when(signed_in_at + 659)
        )),
        "signed in, then last active: {chrome}"
    );
}

#[tokio::test]
async fn signing_out_another_session_ends_only_it_and_is_recorded() {
    let (app, firefox, others) = ann_signed_in_on(&[CHROME_WINDOWS, SAFARI_IPHONE]).await;
    let (chrome, safari) = (&others[0], &others[1]);
    let page = firefox.get(SECURITY_TAB).await;
    let action = sign_out_action(&page, "Chrome");

    let done = firefox.post_form(SECURITY_TAB, &action, &[]).await;
    done.assert_redirect_to(&format!("{SECURITY_TAB}?notice=session_signed_out"));

    chrome.get("/account").await.assert_signed_out();
    assert_eq!(safari.get("/account").await.status, 200);
    assert_eq!(firefox.get("/account").await.status, 200);
    let page = firefox
        .get(&format!("{SECURITY_TAB}?notice=session_signed_out"))
        .await;
    page.assert_reads("That session is signed out.");
    page.assert_reads("Signed out Chrome on Windows");
    assert_eq!(session_rows(&page).len(), 2);
    app.wait_for_email_saying(
        "ann@example.com",
        "A session was signed out",
        "Chrome on Windows was signed out",
    )
    .await;

    // Posting the same form again finds nothing: the session is gone.
    let again = firefox.post_form(SECURITY_TAB, &action, &[]).await;
    assert_eq!(again.status, 404);
    let events = app
        .state
        .store
        .recent_events(app.account("ann@example.com").await.id, 50)
        .await
        .unwrap();
    assert_eq!(signed_out_count(&events, "session_signed_out"), 1);
}

#[tokio::test]
async fn no_one_signs_out_a_session_of_another_account_or_this_one_by_its_handle() {
    let (app, firefox, _) = ann_signed_in_on(&[]).await;
    let bob = app.browser_as(CHROME_WINDOWS);
    bob.sign_up("bob@example.com", PASSWORD)
        .await
        .assert_checks_email();
    bob.sign_in("bob@example.com", PASSWORD)
        .await
        .assert_redirect_to("/account");
    let bobs_page = bob.get(SECURITY_TAB).await;
    let bobs_handle = SessionDigest::of(&bob.cookie(SESSION).unwrap()).handle();
    let anns_handle = SessionDigest::of(&firefox.cookie(SESSION).unwrap()).handle();
    assert!(
        !bobs_page.contains(&bobs_handle),
        "no Sign out for this device"
    );

    for handle in [bobs_handle.as_str(), anns_handle.as_str(), "nonsense", ""] {
        let answer = firefox
            .post_form(
                SECURITY_TAB,
                &format!("/account/sessions/{handle}/sign-out"),
                &[],
            )
            .await;
        assert!(
            matches!(answer.status, 404 | 405),
            "{handle}: {}",
            answer.status
        );
    }
    assert_eq!(bob.get("/account").await.status, 200);
    assert_eq!(firefox.get("/account").await.status, 200);
    // Not even the stored digest leaves the server.
    let page = firefox.get(SECURITY_TAB).await;
    let digest = SessionDigest::of(&firefox.cookie(SESSION).unwrap());
    assert!(!page.contains(&domain::secrets::hex(digest.as_bytes())));
}

#[tokio::test]
async fn sign_out_everywhere_else_keeps_only_this_browser() {
    let (app, firefox, others) = ann_signed_in_on(&[CHROME_WINDOWS, SAFARI_IPHONE]).await;
    let bob = app.signed_up("bob@example.com").await;

    let done = firefox
        .post_form(
            SECURITY_TAB,
            "/account/sessions/sign-out-everywhere-else",
            &[],
        )
        .await;
    done.assert_redirect_to(&format!("{SECURITY_TAB}?notice=signed_out_everywhere_else"));

    for other in &others {
        other.get("/account").await.assert_signed_out();
    }
    assert_eq!(bob.get("/account").await.status, 200, "bob's stays");
    let page = firefox
        .get(&format!("{SECURITY_TAB}?notice=signed_out_everywhere_else"))
        .await;
    page.assert_reads("You are signed out everywhere else.");
    page.assert_reads("Signed out everywhere else (2 sessions)");
    assert_eq!(session_rows(&page).len(), 1);
    page.assert_reads("You are signed in only here.");
    app.wait_for_email("ann@example.com", "You were signed out everywhere else")
        .await;
}

#[tokio::test]
async fn ending_sessions_needs_the_csrf_token_but_no_password() {
    let (_app, firefox, others) = ann_signed_in_on(&[CHROME_WINDOWS]).await;
    let page = firefox.get(SECURITY_TAB).await;
    let action = sign_out_action(&page, "Chrome");
    for path in [
        action.as_str(),
        "/account/sessions/sign-out-everywhere-else",
    ] {
        let refused = firefox.post_form_response_without_token(path).await;
        assert_eq!(refused.status().as_u16(), 403, "{path}");
    }
    assert_eq!(others[0].get("/account").await.status, 200);
    let section = &page.body[page.body.find("id=\"sessions\"").unwrap()..];
    let section = &section[..section.find("</section>").unwrap()];
    assert!(section.contains("<form"), "the section has its forms");
    assert!(
        !section.contains("type=\"password\""),
        "no password is asked"
    );
}

#[tokio::test]
async fn a_change_of_a_factor_is_confirmed_with_an_offer_to_sign_out_everywhere_else() {
    let (app, firefox, others) = ann_signed_in_on(&[CHROME_WINDOWS]).await;
    firefox.set_up_sms(&app, PHONE).await;
    // Turning two-step on signs out every other session by itself.
    others[0].get("/account").await.assert_signed_out();
    others[0]
        .sign_in("ann@example.com", PASSWORD)
        .await
        .assert_redirect_to("/sign-in/verify");
    others[0]
        .assert_sign_in_code_accepted(&app.last_sms_code(PHONE_E164))
        .await;
    firefox.set_up_authenticator(&app).await;
    let page = firefox
        .get(&format!("{SECURITY_TAB}?notice=authenticator_on"))
        .await;
    let notice = page
        .body
        .find("Your app is set up")
        .expect("the confirmation");
    let offer = page.body[notice..]
        .find("action=\"/account/sessions/sign-out-everywhere-else\"")
        .expect("the confirmation offers it");
    assert!(
        offer < page.body[notice..].find("id=\"two-step\"").unwrap(),
        "beside the notice, before the sections"
    );
    assert_eq!(
        others[0].get("/account").await.status,
        200,
        "an offer, not a must"
    );
    firefox
        .post_form(
            SECURITY_TAB,
            "/account/sessions/sign-out-everywhere-else",
            &[],
        )
        .await
        .assert_redirect_to(&format!("{SECURITY_TAB}?notice=signed_out_everywhere_else"));
    others[0].get("/account").await.assert_signed_out();

    // Each notice of a changed factor or password offers it; others do not.
    for (notice, offers) in [
        ("password_changed", true),
        ("phone_changed", true),
        ("two_step_off", true),
        ("authenticator_on", true),
        ("authenticator_off", true),
        ("question_saved", false),
        ("disconnected", false),
    ] {
        let page = firefox
            .get(&format!("{SECURITY_TAB}?notice={notice}"))
            .await;
        let status = page.body.find("role=\"status\"").unwrap();
        let first_section = page.body[status..].find("<section").unwrap();
        assert_eq!(
            page.body[status..][..first_section].contains("Sign out everywhere else"),
            offers,
            "{notice}"
        );
    }
}

#[tokio::test]
async fn a_sign_in_without_a_user_agent_is_listed_as_unknown() {
    let app = spawn_app().await;
    let browser = app.signed_up("ann@example.com").await;
    let rows = session_rows(&browser.get(SECURITY_TAB).await);
    assert!(rows[0].starts_with("Unknown Unknown 127.0.0.1"), "{rows:?}");
}

async fn disable(app: &TestApp, email: &str) {
    let account = app.account(email).await;
    let event = EventRecord {
        kind: "account_disabled",
        summary: "Account disabled",
        now: app.clock.now(),
    };
    assert!(
        app.state
            .store
            .disable_account(account.id, event)
            .await
            .unwrap()
    );
}

#[tokio::test]
async fn a_disabled_account_cannot_sign_in_or_connect_and_its_sessions_and_tokens_stop() {
    let (app, firefox, _) = ann_signed_in_on(&[CHROME_WINDOWS]).await;
    let connect = photon;
    let (status, connected) = post_json(&app, "/api/v1/apps/connect", connect(PASSWORD)).await;
    assert_eq!(status, 200, "{connected}");
    let token = connected["token"].as_str().unwrap().to_owned();
    let me = || me_status(&app, &token);
    assert_eq!(me().await, 200);

    disable(&app, "ann@example.com").await;

    firefox.get("/account").await.assert_signed_out();
    assert_eq!(me().await, 401, "the token is revoked");
    let refused = app.browser().sign_in("ann@example.com", PASSWORD).await;
    assert_eq!(refused.status, 422);
    refused.assert_reads("This account has been disabled.");
    let wrong = app
        .browser()
        .sign_in("ann@example.com", "not the password")
        .await;
    assert!(
        !wrong.reads("disabled"),
        "a wrong password learns nothing of the account"
    );
    let answer = post_json(&app, "/api/v1/apps/connect", connect(PASSWORD)).await;
    assert_api_error(&answer, 403, "account_disabled");
    let answer = post_json(&app, "/api/v1/apps/connect", connect("not the password")).await;
    assert_api_error(&answer, 401, "invalid_credentials");
    assert_eq!(
        app.state
            .store
            .sessions_of_account(app.account("ann@example.com").await.id)
            .await
            .unwrap()
            .len(),
        0
    );
}

#[tokio::test]
async fn a_sign_in_half_done_when_the_account_is_disabled_goes_no_further() {
    let app = spawn_app().await;
    let browser = app.with_sms_two_step("ann@example.com").await;
    browser.sign_out().await;
    let signing_in = app.past_the_password("ann@example.com").await;
    let code = app.last_sms_code(PHONE_E164);
    disable(&app, "ann@example.com").await;
    let page = signing_in.enter_sign_in_code(&code).await;
    page.assert_redirect_to("/sign-in?notice=expired");
    signing_in.get("/account").await.assert_signed_out();
}

#[tokio::test]
async fn the_authenticator_apps_page_lists_examples_and_why_a_second_device() {
    let app = spawn_app().await;
    let page = app.browser().get("/authenticator-apps").await;
    assert_eq!(page.status, 200);
    page.assert_contains("<h1>Authenticator apps</h1>");
    for (name, platform) in [
        ("Google Authenticator", "Android, iOS"),
        ("Microsoft Authenticator", "Android, iOS"),
        ("Aegis", "Android"),
        ("2FAS", "Android, iOS"),
        ("FreeOTP", "Android, iOS"),
        ("KeePassXC", "Windows, macOS, Linux"),
    ] {
        page.assert_reads(&format!("{name} {platform}"));
    }
    page.assert_reads("set up an authenticator app also on a device other than your mobile phone");

    // Linked from the Security tab's Authenticator app section and the set-up steps.
    let (app, browser) = spawn_with_sms_two_step("ann@example.com").await;
    let tab = browser.get(SECURITY_TAB).await;
    assert_eq!(
        tab.link("Authenticator apps").as_deref(),
        Some("/authenticator-apps")
    );
    let authenticator = tab.body.find("id=\"authenticator\"").unwrap();
    let link = tab.body.find(">Authenticator apps</a>").unwrap();
    assert!(link > authenticator && link < tab.body.find("id=\"password\"").unwrap());
    let scan = browser.open_the_scan_page().await;
    assert_eq!(
        scan.link("Authenticator apps").as_deref(),
        Some("/authenticator-apps")
    );
    drop(app);
}

#[tokio::test]
async fn the_operator_replaces_the_list_of_authenticator_apps_in_the_configuration() {
    let app = TestApp::builder()
        .setting(
            "TWOSTEP_AUTHENTICATOR_APPS",
            r#"[{ name = "Corporate OTP", platforms = ["Windows", "Android"] }]"#,
        )
        .spawn()
        .await;
    let page = app.browser().get("/authenticator-apps").await;
    page.assert_reads("Corporate OTP Windows, Android");
    assert!(
        !page.reads("Google Authenticator"),
        "the list is replaced whole"
    );
}
