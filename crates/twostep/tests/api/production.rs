//! A portal published over https: the development outbox is never served and
//! `serve` refuses to start with it, cookies are `__Host-` and Secure, HSTS is
//! sent; and on every start the data directory and database files are private.
//! Plain http (a developer's machine) keeps the zero-setup outbox.

use std::process::Command;

use reqwest::redirect::Policy;

use crate::app::{on_postgres, test_config};
use crate::helpers::*;

/// A client without a cookie jar or redirects: the test reads and sends the
/// cookies itself, so that nothing depends on how a jar treats Secure cookies
/// over the test's plain http.
fn bare_client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(Policy::none())
        .build()
        .unwrap()
}

fn set_cookies(response: &reqwest::Response) -> Vec<String> {
    response
        .headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .map(|value| value.to_str().unwrap().to_owned())
        .collect()
}

/// The `Set-Cookie` line that sets `name`, which the response must hold.
#[track_caller]
fn cookie_line(lines: &[String], name: &str) -> String {
    lines
        .iter()
        .find(|line| line.starts_with(&format!("{name}=")))
        .unwrap_or_else(|| panic!("no {name} cookie in {lines:?}"))
        .clone()
}

/// `name=value` of a `Set-Cookie` line, as a browser sends it back.
fn pair(line: &str) -> &str {
    line.split(';').next().unwrap()
}

/// Signs up and in over `app` by hand: the form's CSRF cookie and token, then
/// the posts. Returns the sign-in answer's `Set-Cookie` lines and the CSRF pair.
async fn sign_up_by_hand(app: &TestApp, email: &str) -> (Vec<String>, String) {
    let client = bare_client();
    let form = client.get(app.url("/sign-up")).send().await.unwrap();
    let lines = set_cookies(&form);
    let csrf_name = if app.state.settings.secure_cookies() {
        "__Host-twostep_csrf"
    } else {
        "twostep_csrf"
    };
    let csrf = pair(&cookie_line(&lines, csrf_name)).to_owned();
    let token = field_value(&form.text().await.unwrap(), "csrf_token").unwrap();
    let fields = [
        ("csrf_token", token.as_str()),
        ("email", email),
        ("password", PASSWORD),
    ];
    let post = |action: &str| {
        client
            .post(app.url(action))
            .header(reqwest::header::COOKIE, &csrf)
            .form(&fields)
            .send()
    };
    let signed_up = post("/sign-up").await.unwrap();
    assert_eq!(signed_up.status(), 200, "the sign-up went through");
    // A sign-up is not signed in: the password signs in.
    let answer = post("/sign-in").await.unwrap();
    assert_eq!(answer.status(), 303, "signed in");
    (set_cookies(&answer), csrf)
}

#[tokio::test]
async fn over_https_every_cookie_is_host_prefixed_secure_http_only_and_same_site() {
    let app = TestApp::builder().https_public_url().spawn().await;
    let (lines, csrf) = sign_up_by_hand(&app, "ann@example.com").await;
    assert!(csrf.starts_with("__Host-twostep_csrf="));
    let session = cookie_line(&lines, "__Host-twostep_session");
    for attribute in ["; Path=/", "; HttpOnly", "; SameSite=Lax", "; Secure"] {
        assert!(
            session.contains(attribute),
            "{attribute} missing: {session}"
        );
    }
    assert!(
        !session.contains("Domain="),
        "a __Host- cookie has no Domain"
    );
    assert!(
        lines.iter().all(|line| line.starts_with("__Host-")),
        "no cookie without the prefix: {lines:?}"
    );

    // The prefixed cookie is the one read back; an unprefixed one with the same
    // value (as a plain-http page or a subdomain could plant) is not.
    let client = bare_client();
    let with_prefix = client
        .get(app.url("/account"))
        .header(reqwest::header::COOKIE, pair(&session))
        .send()
        .await
        .unwrap();
    assert_eq!(with_prefix.status(), 200);
    let without_prefix = client
        .get(app.url("/account"))
        .header(
            reqwest::header::COOKIE,
            pair(&session).trim_start_matches("__Host-"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(without_prefix.status(), 303, "sent to the sign-in page");
}

#[tokio::test]
async fn over_https_every_answer_asks_for_https_only_with_hsts() {
    let app = TestApp::builder().https_public_url().spawn().await;
    for path in ["/sign-in", "/api/v1/openapi.json", "/no-such-page"] {
        let response = bare_client().get(app.url(path)).send().await.unwrap();
        let hsts = response
            .headers()
            .get(reqwest::header::STRICT_TRANSPORT_SECURITY)
            .unwrap_or_else(|| panic!("no HSTS on {path}"));
        assert_eq!(hsts, "max-age=31536000");
    }
}

#[tokio::test]
async fn over_plain_http_cookies_keep_their_names_and_no_hsts_is_sent() {
    let app = spawn_app().await;
    let (lines, csrf) = sign_up_by_hand(&app, "ann@example.com").await;
    assert!(csrf.starts_with("twostep_csrf="));
    let session = cookie_line(&lines, "twostep_session");
    assert_eq!(
        &session[session.find(';').unwrap()..],
        "; Path=/; HttpOnly; SameSite=Lax"
    );
    let response = bare_client().get(app.url("/sign-in")).send().await.unwrap();
    assert!(
        response
            .headers()
            .get(reqwest::header::STRICT_TRANSPORT_SECURITY)
            .is_none()
    );
}

#[tokio::test]
async fn over_plain_http_the_outbox_and_its_header_link_are_served_to_loopback() {
    let app = TestApp::builder().outbox().spawn().await;
    let browser = app.browser();
    assert_eq!(browser.get("/dev/outbox").await.status, 200);
    browser
        .get("/sign-in")
        .await
        .assert_contains("href=\"/dev/outbox\"");
}

#[tokio::test]
async fn over_https_the_outbox_is_not_found_and_not_linked_even_from_loopback() {
    let app = TestApp::builder().outbox().https_public_url().spawn().await;
    let page = app.browser().get("/dev/outbox").await;
    assert_eq!(page.status, 404);
    assert!(!page.contains("Development outbox"));
    assert!(!page.contains("href=\"/dev/outbox\""));
    assert!(
        !app.browser()
            .get("/sign-in")
            .await
            .contains("href=\"/dev/outbox\"")
    );
}

/// Only loopback clients are shown the outbox. Checked on the rule itself: a
/// test that connected from another address of this machine would send traffic
/// to an address that is not loopback, which tests here never do.
#[tokio::test]
async fn the_outbox_is_served_to_loopback_clients_only() {
    let app = TestApp::builder().outbox().spawn().await;
    for loopback in ["127.0.0.1", "::1", "::ffff:127.0.0.1"] {
        assert!(
            app.state
                .dev_outbox_served_to(Some(loopback.parse().unwrap())),
            "{loopback}"
        );
    }
    for remote in ["203.0.113.9", "10.1.2.3", "2001:db8::1"] {
        assert!(
            !app.state
                .dev_outbox_served_to(Some(remote.parse().unwrap())),
            "{remote}"
        );
    }
    assert!(!app.state.dev_outbox_served_to(None), "an unknown client");
}

/// `twostep serve` in a fresh data directory with `env`; it must stop at once.
fn serve_refuses(env: &[(&str, &str)]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_twostep"))
        .arg("--data-dir")
        .arg(dir.path())
        .args(["--listen", "127.0.0.1:0", "serve"])
        .envs(env.iter().copied())
        .output()
        .expect("the twostep binary runs");
    crate::startup::the_one_line(&output)
}

#[test]
fn serve_with_an_https_public_url_refuses_the_default_outbox_senders_naming_the_setting() {
    let line = serve_refuses(&[("TWOSTEP_PUBLIC_URL", "https://id.example.com")]);
    assert!(
        line.contains("[sms] provider (TWOSTEP_SMS__PROVIDER)"),
        "{line}"
    );
    assert!(line.contains("\"outbox\""), "{line}");
}

#[test]
fn serve_with_an_https_public_url_refuses_an_outbox_left_for_email_alone() {
    let line = serve_refuses(&[
        ("TWOSTEP_PUBLIC_URL", "https://id.example.com"),
        ("TWOSTEP_SMS__PROVIDER", "kannel"),
        ("TWOSTEP_SMS__URL", "http://127.0.0.1:13013/cgi-bin/sendsms"),
        ("TWOSTEP_SMS__USERNAME", "twostep"),
        ("TWOSTEP_SMS__PASSWORD", "secret"),
        ("TWOSTEP_SMS__SENDER", "twostep"),
    ]);
    assert!(
        line.contains("[email] provider (TWOSTEP_EMAIL__PROVIDER)"),
        "{line}"
    );
}

#[test]
fn serve_refuses_plain_text_delivery_to_a_host_that_is_not_loopback_naming_the_setting() {
    let kannel = |url: &'static str| {
        [
            ("TWOSTEP_SMS__PROVIDER", "kannel"),
            ("TWOSTEP_SMS__URL", url),
            ("TWOSTEP_SMS__USERNAME", "twostep"),
            ("TWOSTEP_SMS__PASSWORD", "secret"),
            ("TWOSTEP_SMS__SENDER", "twostep"),
        ]
    };
    let line = serve_refuses(&kannel("http://sms.example.com:13013/cgi-bin/sendsms"));
    assert!(
        line.contains("sms.url") && line.contains("https://"),
        "{line}"
    );
    assert!(!line.contains("secret"), "{line}");
    let line = serve_refuses(&[
        ("TWOSTEP_EMAIL__PROVIDER", "smtp"),
        ("TWOSTEP_EMAIL__HOST", "smtp.example.com"),
        ("TWOSTEP_EMAIL__PORT", "25"),
        ("TWOSTEP_EMAIL__TLS", "none"),
    ]);
    assert!(
        line.contains("email.tls") && line.contains("smtp.example.com"),
        "{line}"
    );
}

#[cfg(unix)]
#[tokio::test]
async fn the_data_directory_is_private_to_its_owner_and_so_are_the_database_files() {
    use std::os::unix::fs::PermissionsExt;
    if on_postgres() {
        eprintln!("skipped: the database is PostgreSQL, not files");
        return;
    }
    let parent = tempfile::tempdir().unwrap();
    let data_dir = parent.path().join("data");
    let mut config = test_config(&data_dir, &[]);
    config.public_url = "http://127.0.0.1:8080".into();
    let senders = twostep::app::Senders::from_config(&config).unwrap();
    let state = twostep::app::build(&config, senders, web::Clock::default())
        .await
        .expect("the portal starts");
    // A write, so that the WAL holds something.
    state
        .store
        .create_account("ann@example.com", "not a real hash", 0)
        .await
        .unwrap();
    let mode = |name: &str| {
        let path = data_dir.join(name);
        let metadata =
            std::fs::metadata(&path).unwrap_or_else(|error| panic!("{}: {error}", path.display()));
        metadata.permissions().mode() & 0o777
    };
    assert_eq!(mode(""), 0o700, "the data directory");
    let database = std::fs::read_dir(&data_dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().into_string().unwrap())
        .find(|name| data_dir.join(format!("{name}-wal")).exists())
        .expect("a database file with its -wal");
    for name in [
        database.clone(),
        format!("{database}-wal"),
        format!("{database}-shm"),
    ] {
        assert_eq!(mode(&name), 0o600, "{name}");
    }
    state.store.close().await;
}
