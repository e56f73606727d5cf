//! Sessions: signing out, a new id at every sign-in, idle and absolute expiry,
//! CSRF refusal, and the headers and cookie attributes every response carries.

use domain::digests::SessionDigest;

use crate::helpers::*;

const SESSION: &str = "twostep_session";
const MINUTE: i64 = 60;
const HOUR: i64 = 60 * MINUTE;

/// A fresh browser that holds only the given session id.
fn browser_with_session(app: &TestApp, session_id: &str) -> Browser {
    let browser = app.browser();
    browser.set_cookie(SESSION, session_id);
    browser
}

/// The session id opens nothing any more: a browser holding it is sent to sign in.
async fn assert_session_ended(app: &TestApp, session_id: &str) {
    browser_with_session(app, session_id)
        .get("/account")
        .await
        .assert_signed_out();
}

#[tokio::test]
async fn sign_out_ends_the_session_so_the_account_page_sends_to_sign_in() {
    let (app, browser) = spawn_signed_up("ann@example.com").await;
    let session_id = browser.cookie(SESSION).expect("signed in");

    browser
        .sign_out()
        .await
        .assert_redirect_to("/sign-in?notice=signed_out");

    assert_eq!(browser.cookie(SESSION), None, "the cookie is cleared");
    browser.get("/account").await.assert_redirect_to("/sign-in");
    assert_session_ended(&app, &session_id).await;
    browser
        .get("/sign-in?notice=signed_out")
        .await
        .assert_contains("You have signed out.");
}

#[tokio::test]
async fn signing_in_again_gives_a_new_session_id_and_ends_the_old_one() {
    let (app, browser) = spawn_signed_up("ann@example.com").await;
    let before = browser.cookie(SESSION).expect("signed in");

    // Signing in again from the same browser, while still signed in.
    browser
        .post_form(
            "/forgot-password",
            "/sign-in",
            &[("email", "ann@example.com"), ("password", PASSWORD)],
        )
        .await
        .assert_redirect_to("/account");

    let after = browser.cookie(SESSION).expect("still signed in");
    assert_ne!(before, after);
    assert_eq!(browser.get("/account").await.status, 200);
    assert_session_ended(&app, &before).await;
}

#[tokio::test]
async fn a_session_id_planted_before_sign_in_is_replaced() {
    let (app, _) = spawn_signed_up("ann@example.com").await;
    let planted = "attacker-chosen-session-id";
    let browser = browser_with_session(&app, planted);

    browser
        .sign_in("ann@example.com", PASSWORD)
        .await
        .assert_redirect_to("/account");

    let issued = browser.cookie(SESSION).expect("signed in");
    assert_ne!(issued, planted);
    assert!(
        issued.len() >= 22,
        "at least 128 bits of randomness: {issued}"
    );
    assert_session_ended(&app, planted).await;
}

#[tokio::test]
async fn the_session_id_is_stored_only_as_a_digest() {
    let (app, browser) = spawn_signed_up("ann@example.com").await;
    let session_id = browser.cookie(SESSION).unwrap();
    let store = &app.state.store;
    let raw = SessionDigest::from_bytes(session_id.clone().into_bytes());
    let digest = SessionDigest::of(&session_id);
    assert!(
        store.session(&raw).await.unwrap().is_none(),
        "the raw id is not a key"
    );
    assert!(store.session(&digest).await.unwrap().is_some());
}

#[tokio::test]
async fn a_session_ends_after_thirty_idle_minutes() {
    let (app, browser) = spawn_signed_up("ann@example.com").await;
    app.clock.advance(30 * MINUTE);
    browser.get("/account").await.assert_redirect_to("/sign-in");
}

#[tokio::test]
async fn activity_every_twenty_nine_minutes_keeps_a_session_alive() {
    let (app, browser) = spawn_signed_up("ann@example.com").await;
    for step in 1..=4 {
        app.clock.advance(29 * MINUTE);
        let page = browser.get("/account").await;
        assert_eq!(page.status, 200, "after {} minutes of activity", step * 29);
    }
}

#[tokio::test]
async fn a_session_ends_after_twelve_hours_even_when_active() {
    let (app, browser) = spawn_signed_up("ann@example.com").await;
    let step = 20 * MINUTE;
    let mut elapsed = 0;
    while elapsed + step < 12 * HOUR {
        app.clock.advance(step);
        elapsed += step;
        assert_eq!(
            browser.get("/account").await.status,
            200,
            "still signed in after {} minutes",
            elapsed / MINUTE
        );
    }
    app.clock.advance(step);
    browser.get("/account").await.assert_redirect_to("/sign-in");
}

#[tokio::test]
async fn a_form_post_without_a_csrf_token_is_refused_with_a_clear_page() {
    let (app, browser) = spawn_signed_up("ann@example.com").await;
    let new_password = "a brand new passphrase";
    let body = format!(
        "current_password={}&new_password={}",
        PASSWORD.replace(' ', "+"),
        new_password.replace(' ', "+")
    );

    let page = browser
        .post_raw(
            "/account/password",
            "application/x-www-form-urlencoded",
            body,
        )
        .await;

    assert_eq!(page.status, 403);
    assert!(
        page.contains("<h1>Request refused</h1>"),
        "got: {}",
        page.body
    );
    assert!(page.contains("This form has expired or did not come from this site. Go back, reload the page and try again."));
    app.assert_signs_in("ann@example.com", PASSWORD).await;
    // The password did not change.
    app.assert_sign_in_refused("ann@example.com", new_password)
        .await;
}

#[tokio::test]
async fn sign_up_without_a_csrf_token_creates_no_account() {
    let app = spawn_app().await;
    let browser = app.browser();
    browser.get("/sign-up").await;
    let page = browser
        .post_raw(
            "/sign-up",
            "application/x-www-form-urlencoded",
            "email=ann%40example.com&password=correct+horse+battery+staple",
        )
        .await;
    assert_eq!(page.status, 403);
    assert!(app.find_account("ann@example.com").await.is_none());
    assert_eq!(browser.cookie(SESSION), None);
}

#[tokio::test]
async fn a_csrf_token_from_another_browser_is_refused() {
    let (app, victim) = spawn_signed_up("ann@example.com").await;
    let attacker = app.signed_up("mallory@example.com").await;
    let attackers_token = attacker
        .get("/account/settings/security")
        .await
        .csrf_token();
    let victims_token = victim.get("/account/settings/security").await.csrf_token();
    assert_ne!(attackers_token, victims_token);

    let page = victim
        .post_with_token(
            "/account/security-question",
            &attackers_token,
            &[
                ("question", "Name of your first pet?"),
                ("answer", "Rex"),
                ("password", PASSWORD),
            ],
        )
        .await;

    assert_eq!(page.status, 403);
    assert!(page.contains("Request refused"));
    let account = app.account("ann@example.com").await;
    assert_eq!(account.security_question, None, "nothing changed");
    assert_eq!(
        victim.get("/account").await.status,
        200,
        "the victim is still signed in"
    );
}

#[tokio::test]
async fn sign_out_without_a_csrf_token_does_not_sign_out() {
    let (_app, browser) = spawn_signed_up("ann@example.com").await;
    let page = browser
        .post_raw("/sign-out", "application/x-www-form-urlencoded", "")
        .await;
    assert_eq!(page.status, 403);
    assert_eq!(browser.get("/account").await.status, 200);
}

fn header(response: &reqwest::Response, name: &str) -> String {
    response
        .headers()
        .get(name)
        .unwrap_or_else(|| panic!("no {name} header on {}", response.url()))
        .to_str()
        .unwrap()
        .to_owned()
}

#[track_caller]
fn assert_security_headers(response: &reqwest::Response) {
    let csp = header(response, "content-security-policy");
    let directive = |name: &str| {
        csp.split(';')
            .map(str::trim)
            .find(|d| d.split_whitespace().next() == Some(name))
            .map(str::to_owned)
    };
    let scripts = directive("script-src")
        .or_else(|| directive("default-src"))
        .unwrap_or_else(|| panic!("{}: the CSP does not govern scripts: {csp}", response.url()));
    assert!(
        !scripts.contains("'unsafe-inline'") && !scripts.contains('*'),
        "{}: inline script allowed: {csp}",
        response.url()
    );
    assert_eq!(
        directive("frame-ancestors").as_deref(),
        Some("frame-ancestors 'none'"),
        "{}: {csp}",
        response.url()
    );
    let referrer = header(response, "referrer-policy");
    // Reset links carry their token in the URL: it must never travel to another site.
    assert!(
        [
            "no-referrer",
            "same-origin",
            "strict-origin",
            "strict-origin-when-cross-origin"
        ]
        .contains(&referrer.as_str()),
        "{}: Referrer-Policy {referrer}",
        response.url()
    );
    assert_eq!(header(response, "x-content-type-options"), "nosniff");
}

#[tokio::test]
async fn every_response_carries_the_security_headers() {
    let app = spawn_app().await;
    let visitor = app.browser();
    for path in [
        "/sign-in",
        "/sign-up",
        "/forgot-password",
        "/reset-password?token=nope",
        "/healthz",
        "/no/such/page",
        "/static/style.css",
    ] {
        assert_security_headers(&visitor.get_response(path).await);
    }
    let browser = app.signed_up("ann@example.com").await;
    for path in [
        "/account",
        "/account/settings",
        "/account/settings/security",
    ] {
        let response = browser.get_response(path).await;
        assert_eq!(response.status(), 200, "{path}");
        assert_security_headers(&response);
    }
    // A form post without its CSRF token.
    let refused = browser
        .post_form_response_without_token("/account/password")
        .await;
    assert_eq!(refused.status(), 403);
    assert_security_headers(&refused);
}

#[tokio::test]
async fn signed_in_pages_are_not_stored_by_caches() {
    let (_app, browser) = spawn_signed_up("ann@example.com").await;
    for path in [
        "/account",
        "/account/settings/security",
        "/reset-password?token=nope",
    ] {
        let response = browser.get_response(path).await;
        assert_eq!(header(&response, "cache-control"), "no-store", "{path}");
    }
}

#[tokio::test]
async fn pages_load_no_inline_script() {
    let (_app, browser) = spawn_signed_up("ann@example.com").await;
    for path in ["/account", "/account/settings/security", "/sign-in"] {
        let page = browser.get(path).await;
        assert!(!page.contains("<script"), "{path} has a script element");
        assert!(!page.contains(" onclick="), "{path} has an inline handler");
    }
}

fn set_cookies(response: &reqwest::Response) -> Vec<String> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect()
}

#[track_caller]
fn assert_cookie_attributes(cookies: &[String], name: &str) {
    let cookie = cookies
        .iter()
        .find(|c| c.starts_with(&format!("{name}=")))
        .unwrap_or_else(|| panic!("no {name} cookie set in {cookies:?}"));
    let attributes: Vec<String> = cookie
        .split(';')
        .skip(1)
        .map(|a| a.trim().to_ascii_lowercase())
        .collect();
    assert!(attributes.iter().any(|a| a == "httponly"), "{cookie}");
    assert!(attributes.iter().any(|a| a == "samesite=lax"), "{cookie}");
    assert!(
        !attributes.iter().any(|a| a == "secure"),
        "plain-http portal: {cookie}"
    );
}

#[tokio::test]
async fn cookies_are_http_only_and_same_site_lax() {
    let app = spawn_app().await;
    let browser = app.browser();
    let first_visit = browser.get_response("/sign-up").await;
    assert_cookie_attributes(&set_cookies(&first_visit), "twostep_csrf");
    let _ = first_visit.text().await;
    let credentials = [("email", "ann@example.com"), ("password", PASSWORD)];

    let signed_up = browser
        .post_form_response("/sign-up", "/sign-up", &credentials)
        .await;
    assert_eq!(signed_up.status(), 200, "a sign-up is not signed in");
    let _ = signed_up.text().await;

    let signed_in = browser
        .post_form_response("/sign-in", "/sign-in", &credentials)
        .await;
    assert_eq!(signed_in.status(), 303);
    assert_cookie_attributes(&set_cookies(&signed_in), SESSION);

    let signed_out = browser
        .post_form_response("/account", "/sign-out", &[])
        .await;
    assert_cookie_attributes(&set_cookies(&signed_out), SESSION);

    let signed_in = browser
        .post_form_response("/sign-in", "/sign-in", &credentials)
        .await;
    assert_cookie_attributes(&set_cookies(&signed_in), SESSION);
}

#[tokio::test]
async fn ten_wrong_passwords_lock_the_address_for_fifteen_minutes() {
    let (app, _) = spawn_signed_up("ann@example.com").await;
    let browser = app.browser();
    for _ in 0..10 {
        let page = browser.sign_in("ann@example.com", "not my password").await;
        assert!(page.reads("The e-mail or password is incorrect."));
    }
    let locked = browser.sign_in("ann@example.com", PASSWORD).await;
    assert_eq!(locked.status, 422);
    assert!(
        locked.reads("Too many attempts. Try again in 15 minutes."),
        "even the right password waits"
    );
    app.clock.advance(15 * 60);
    browser
        .sign_in("ann@example.com", PASSWORD)
        .await
        .assert_redirect_to("/account");
}

#[tokio::test]
async fn an_address_without_an_account_locks_the_same_way() {
    let app = spawn_app().await;
    let browser = app.browser();
    for _ in 0..10 {
        browser.sign_in("nobody@example.com", "guess").await;
    }
    assert!(
        browser
            .sign_in("nobody@example.com", "guess")
            .await
            .reads("Too many attempts. Try again in"),
        "the lock reveals nothing about which addresses exist"
    );
}

#[tokio::test]
async fn a_successful_sign_in_forgets_earlier_wrong_passwords() {
    let (app, _) = spawn_signed_up("ann@example.com").await;
    // Nine wrong and the right one, twice: had the first nine stayed counted,
    // the second round would hit the lock before its right password.
    for browser in [app.browser(), app.browser()] {
        for _ in 0..9 {
            browser.sign_in("ann@example.com", "not my password").await;
        }
        browser
            .sign_in("ann@example.com", PASSWORD)
            .await
            .assert_redirect_to("/account");
    }
}
