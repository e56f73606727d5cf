//! Issue 11's locks, through HTTP, on SQLite and (with TWOSTEP_TEST_DATABASE_URL)
//! PostgreSQL: wrong passwords are counted per address and client IP, so that
//! an attacker's network waits while the owner on another signs in; a hundred
//! in a row from anywhere lock the password step until a reset, e-mailed once;
//! wrong second-step codes are counted per account across methods and
//! entrances; a wrong code after the right password tells the owner, once an
//! hour. Clients at two loopback addresses (127.0.0.1 and 127.0.0.2) are two
//! networks; behind a trusted proxy, `X-Forwarded-For` names them.

use std::collections::BTreeMap;
use std::net::IpAddr;

use domain::Method;
use domain::authenticator::{AuthenticatorSecret, STEP_SECONDS, code_at};
use serde_json::{Value, json};

use crate::helpers::{PASSWORD, PHONE_E164, TestApp, status_and_error, status_and_json, tally};
use crate::limits::TwoStep;

const ANN: &str = "ann@example.com";
const ATTEMPTS: usize = 100;
const OWNER: &str = "127.0.0.1";
const ATTACKER: &str = "127.0.0.2";

/// Ann's account (`ANN`), made through the store, with SMS and the
/// authenticator on when `two_step`; answers the authenticator's secret then.
async fn ann(app: &TestApp, two_step: bool) -> Option<AuthenticatorSecret> {
    let two_step = if two_step {
        TwoStep::SmsAndAuthenticator
    } else {
        TwoStep::Off
    };
    crate::limits::ann(app, two_step).await
}

/// An application's client whose requests leave from `local` (a loopback address).
fn client_at(local: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(local.parse::<IpAddr>().unwrap())
        .build()
        .unwrap()
}

fn connect_body(password: &str) -> Value {
    json!({"email": ANN, "password": password, "app_id": "photon-desktop",
           "app_version": "3.2.0", "device_name": "Ann's laptop"})
}

/// POSTs JSON to the API from `client`, with `X-Forwarded-For` when given.
async fn post(
    app: &TestApp,
    client: &reqwest::Client,
    path: &str,
    body: &Value,
    forwarded_for: Option<&str>,
) -> (u16, Value) {
    let mut request = client.post(app.url(path)).json(body);
    if let Some(forwarded) = forwarded_for {
        request = request.header("x-forwarded-for", forwarded);
    }
    status_and_json(request.send().await.unwrap()).await
}

/// The first step of connecting an application, with `password`, from `client`.
async fn connect(
    app: &TestApp,
    client: &reqwest::Client,
    password: &str,
    forwarded_for: Option<&str>,
) -> (u16, Value) {
    let body = connect_body(password);
    post(app, client, "/api/v1/apps/connect", &body, forwarded_for).await
}

/// Sends the requests at once; answers each `(status, error code)`, counted.
async fn at_once(
    app: &TestApp,
    requests: Vec<(reqwest::Client, &'static str, Value, Option<String>)>,
) -> BTreeMap<(u16, String), usize> {
    let tasks: Vec<_> = requests
        .into_iter()
        .map(|(client, path, body, forwarded)| {
            let url = app.url(path);
            tokio::spawn(async move {
                let mut request = client.post(url).json(&body);
                if let Some(forwarded) = forwarded {
                    request = request.header("x-forwarded-for", forwarded);
                }
                status_and_error(request.send().await.unwrap()).await
            })
        })
        .collect();
    tally(tasks).await
}

fn count(answers: &BTreeMap<(u16, String), usize>, error: &str) -> usize {
    answers
        .iter()
        .filter(|((_, code), _)| code == error)
        .map(|(_, n)| n)
        .sum()
}

async fn event_kinds(app: &TestApp) -> Vec<String> {
    let id = app.account(ANN).await.id;
    let events = app.state.store.recent_events(id, 100).await.unwrap();
    events.into_iter().map(|event| event.kind).collect()
}

fn occurrences(kinds: &[String], kind: &str) -> usize {
    kinds.iter().filter(|k| *k == kind).count()
}

/// E-mails go out in the background: give them time, then count those with `subject`.
async fn emails_with_subject(app: &TestApp, subject: &str) -> usize {
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    app.email
        .messages()
        .iter()
        .filter(|email| email.to == ANN && email.subject == subject)
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_owner_signs_in_from_another_network_while_the_attackers_waits() {
    let app = TestApp::builder().spawn().await;
    ann(&app, false).await;
    let attacker = client_at(ATTACKER);
    let requests = (0..ATTEMPTS)
        .map(|_| {
            let body = connect_body("wrong password");
            (attacker.clone(), "/api/v1/apps/connect", body, None)
        })
        .collect();
    let answers = at_once(&app, requests).await;
    assert_eq!(
        count(&answers, "invalid_credentials"),
        10,
        "ten checked: {answers:?}"
    );
    assert_eq!(count(&answers, "too_many_attempts"), ATTEMPTS - 10);

    app.clock.advance(60);
    let (status, body) = connect(&app, &attacker, PASSWORD, None).await;
    assert_eq!(
        (status, body["message"].as_str()),
        (429, Some("Too many attempts. Try again in 14 minutes.")),
        "even the right password waits on the attacker's network"
    );
    let (status, body) = connect(&app, &client_at(OWNER), PASSWORD, None).await;
    assert_eq!((status, body["status"].as_str()), (200, Some("connected")));

    // The window's edge (to the second in the domain's tests; the test clock
    // runs with real time, so a few seconds' margin here): just before its end
    // the attacker still waits, from its end they are checked again.
    let window_ends = app
        .state
        .store
        .failed_passwords(storage::PasswordAttempt {
            email: ANN,
            client: ATTACKER,
        })
        .await
        .unwrap()
        .expect("the attacker's count")
        .window_started_at
        + 15 * 60;
    app.clock.advance(window_ends - app.clock.now() - 3);
    let (status, _) = connect(&app, &attacker, "wrong again", None).await;
    assert_eq!(status, 429);
    app.clock.advance(window_ends - app.clock.now());
    let (status, body) = connect(&app, &attacker, "wrong again", None).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_credentials"))
    );
    let kinds = event_kinds(&app).await;
    assert_eq!(
        occurrences(&kinds, "password_attempts_paused"),
        1,
        "the pause is recorded once: {kinds:?}"
    );
}

/// The portal behind a proxy at 127.0.0.1 that it trusts, Ann's account, and
/// the proxy's client (whose requests say with `X-Forwarded-For` who sent them).
async fn behind_a_proxy() -> (TestApp, reqwest::Client) {
    let app = TestApp::builder()
        .setting("TWOSTEP_TRUSTED_PROXIES", "[\"127.0.0.1/32\"]")
        // A hundred passwords at once must all be checked here, none shed as
        // overload (64 may wait by default; load_shedding.rs tests that).
        .setting("TWOSTEP_PASSWORD_HASH__MAX_WAITING", "128")
        .spawn()
        .await;
    ann(&app, false).await;
    (app, client_at(OWNER))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn behind_a_trusted_proxy_the_forwarded_address_is_the_client() {
    let (app, proxy) = behind_a_proxy().await;
    for _ in 0..10 {
        let answer = connect(&app, &proxy, "wrong password", Some("203.0.113.9")).await;
        assert_eq!(answer.0, 401);
    }
    // A client cannot pose as another by writing the header itself: the proxy
    // appends what it saw, and the entry left of it is not believed.
    let forged = connect(&app, &proxy, PASSWORD, Some("192.0.2.1, 203.0.113.9")).await;
    assert_eq!(forged.0, 429, "{}", forged.1);
    let owner = connect(&app, &proxy, PASSWORD, Some("192.0.2.1")).await;
    assert_eq!(owner.0, 200, "{}", owner.1);
    // From an address that is not a trusted proxy the header is ignored.
    let untrusted = client_at(ATTACKER);
    for _ in 0..10 {
        connect(&app, &untrusted, "wrong password", Some("192.0.2.1")).await;
    }
    let (status, _) = connect(&app, &untrusted, PASSWORD, Some("192.0.2.77")).await;
    assert_eq!(status, 429);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hundred_wrong_passwords_in_a_row_lock_the_password_step_until_a_reset() {
    let (app, proxy) = behind_a_proxy().await;
    // 99 wrong from ten networks, then the right one: the run starts again.
    for n in 0..99 {
        let from = format!("198.51.100.{}", n / 9);
        let (status, _) = connect(&app, &proxy, "wrong", Some(&from)).await;
        assert_eq!(status, 401);
    }
    let right = connect(&app, &proxy, PASSWORD, Some("192.0.2.1")).await;
    assert_eq!(right.0, 200, "the 100th is the right one: {}", right.1);

    // A hundred at once from twenty other networks, five each: every one is
    // checked and the hundredth locks the address, whatever their order.
    let requests = (0..ATTEMPTS)
        .map(|n| {
            let from = format!("198.51.101.{}", n % 20);
            (
                proxy.clone(),
                "/api/v1/apps/connect",
                connect_body("wrong"),
                Some(from),
            )
        })
        .collect();
    let answers = at_once(&app, requests).await;
    assert_eq!(
        count(&answers, "invalid_credentials"),
        ATTEMPTS,
        "{answers:?}"
    );
    let locked = connect(&app, &proxy, PASSWORD, Some("192.0.2.1")).await;
    assert_eq!(locked.0, 403, "{}", locked.1);
    assert_eq!(locked.1["error"], "password_reset_required");
    app.clock.advance(24 * 60 * 60);
    let page = app.browser().sign_in(ANN, PASSWORD).await;
    assert!(
        page.reads("Signing in with this password is locked"),
        "no window ends it, on the page too"
    );
    assert_eq!(
        emails_with_subject(&app, "Signing in to your account is locked").await,
        1,
        "the owner is e-mailed once"
    );
    assert_eq!(
        occurrences(&event_kinds(&app).await, "password_step_locked"),
        1
    );

    let (browser, token, _) = app.ask_for_reset(ANN).await;
    browser
        .set_new_password(&token, "a brand new passphrase")
        .await;
    app.assert_signs_in(ANN, "a brand new passphrase").await;
}

/// Ann's sign-in by an application, past the password: its challenge.
async fn challenge(app: &TestApp) -> String {
    let (status, body) = connect(app, &client_at(OWNER), PASSWORD, None).await;
    assert_eq!(status, 200, "{body}");
    body["challenge"].as_str().unwrap().to_owned()
}

fn verify_body(challenge: &str, method: Method, code: &str) -> Value {
    json!({"challenge": challenge, "method": method.as_str(), "code": code})
}

async fn send_sms(app: &TestApp, challenge: &str) -> String {
    let (status, body) = post(
        app,
        &client_at(OWNER),
        "/api/v1/apps/connect/sms",
        &json!({"challenge": challenge}),
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    app.last_sms_code(PHONE_E164)
}

async fn verify(app: &TestApp, challenge: &str, method: Method, code: &str) -> (u16, Value) {
    post(
        app,
        &client_at(OWNER),
        "/api/v1/apps/connect/verify",
        &verify_body(challenge, method, code),
        None,
    )
    .await
}

fn wrong(right: &str) -> &'static str {
    if right == "000000" {
        "111111"
    } else {
        "000000"
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_wrong_codes_across_methods_and_entrances_lock_every_method_for_fifteen_minutes() {
    let app = TestApp::builder().spawn().await;
    let secret = ann(&app, true).await.unwrap();
    app.start_of_next_step();
    // Three wrong authenticator codes on the sign-in page (the step's own limit).
    let browser = app.past_the_password(ANN).await;
    let wrong_totp = app.wrong_totp(&secret);
    for _ in 0..3 {
        browser.enter_sign_in_code(&wrong_totp).await;
    }
    // Four wrong SMS codes through the API (the code survives: one entry left).
    let api = challenge(&app).await;
    let sms = send_sms(&app, &api).await;
    for _ in 0..4 {
        let (status, body) = verify(&app, &api, Method::Sms, wrong(&sms)).await;
        assert_eq!((status, body["error"].as_str()), (401, Some("code_wrong")));
    }
    // Two wrong authenticator codes in the next step through the password reset.
    app.clock.advance(STEP_SECONDS);
    let (reset, token, _) = app.ask_for_reset(ANN).await;
    let wrong_totp = app.wrong_totp(&secret);
    for _ in 0..2 {
        reset
            .enter_reset_code_by(&token, "authenticator", &wrong_totp)
            .await;
    }
    assert!(
        occurrences(&event_kinds(&app).await, "second_step_locked") == 0,
        "nine wrong codes do not lock"
    );
    // The tenth, through the API by authenticator, locks every method, and says so.
    let (status, body) = verify(&app, &api, Method::Authenticator, &wrong_totp).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (429, Some("too_many_attempts"))
    );
    let id = app.account(ANN).await.id;
    let until = app.state.store.wrong_second_step_codes(id).await.unwrap();
    let until = until.and_then(|wrong| wrong.locked_until).expect("locked");
    assert!(
        until >= app.clock.now() + 15 * 60 - 5,
        "for fifteen minutes"
    );
    let (status, body) = verify(&app, &api, Method::Sms, &sms).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (429, Some("too_many_attempts"))
    );
    let message = body["message"].as_str().unwrap();
    assert!(message.contains("locked until"), "{message}");
    let page = browser
        .enter_sign_in_code(code_at(&secret, app.clock.now()).as_str())
        .await;
    assert!(
        page.reads("two-step verification is locked until"),
        "the page says until when"
    );
    assert_eq!(
        emails_with_subject(&app, "Two-step verification is locked for now").await,
        1
    );
    assert_eq!(
        occurrences(&event_kinds(&app).await, "second_step_locked"),
        1
    );

    // The lock's edge (a few seconds' margin, as the test clock runs with
    // real time): just before its end a right code is refused, from its end it
    // is taken (each time in a new sign-in: the old ones have expired meanwhile).
    app.clock.advance(until - app.clock.now() - 3);
    let late = challenge(&app).await;
    let right = code_at(&secret, app.clock.now());
    let (status, _) = verify(&app, &late, Method::Authenticator, right.as_str()).await;
    assert_eq!(status, 429);
    app.clock.advance(until - app.clock.now());
    let fresh = challenge(&app).await;
    let right = code_at(&secret, app.clock.now());
    let (status, body) = verify(&app, &fresh, Method::Authenticator, right.as_str()).await;
    assert_eq!(
        (status, body["status"].as_str()),
        (200, Some("connected")),
        "{body}"
    );
    assert_eq!(
        app.state
            .store
            .wrong_second_step_codes(app.account(ANN).await.id)
            .await
            .unwrap(),
        None,
        "a right code clears the count"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hundred_wrong_codes_at_once_across_methods_and_entrances_are_compared_no_more_than_the_limit()
 {
    // Three, below what SMS (5) and the authenticator (3) allow together, so that
    // the account-wide count is the one that holds.
    let app = TestApp::builder()
        .setting("TWOSTEP_LOCKOUT__CONSECUTIVE_WRONG_CODES", "3")
        .spawn()
        .await;
    let secret = ann(&app, true).await.unwrap();
    app.start_of_next_step();
    let sms_challenge = challenge(&app).await;
    let sms = send_sms(&app, &sms_challenge).await;
    let totp_challenge = challenge(&app).await;
    let sign_in_page = std::sync::Arc::new(app.past_the_password(ANN).await);
    let wrong_totp = app.wrong_totp(&secret);
    // A quarter on the sign-in page (authenticator), the rest through the API
    // (SMS and authenticator), all at once.
    let on_the_page: Vec<_> = (0..ATTEMPTS / 4)
        .map(|_| {
            let (page, wrong) = (sign_in_page.clone(), wrong_totp.clone());
            tokio::spawn(async move {
                let answer = page.enter_sign_in_code(&wrong).await;
                answer.reads("That code isn't right.")
            })
        })
        .collect();
    let owner = client_at(OWNER);
    let requests = (0..ATTEMPTS - ATTEMPTS / 4)
        .map(|n| {
            let body = if n % 2 == 0 {
                verify_body(&sms_challenge, Method::Sms, wrong(&sms))
            } else {
                verify_body(&totp_challenge, Method::Authenticator, &wrong_totp)
            };
            (owner.clone(), "/api/v1/apps/connect/verify", body, None)
        })
        .collect();
    let answers = at_once(&app, requests).await;
    let mut told_wrong_on_the_page = 0;
    for task in on_the_page {
        told_wrong_on_the_page += usize::from(task.await.unwrap());
    }
    // Two compared wrong codes are told so; the third locks and says so, as
    // do all the rest, refused uncompared.
    assert_eq!(
        count(&answers, "code_wrong") + told_wrong_on_the_page,
        2,
        "{answers:?}, {told_wrong_on_the_page} on the page"
    );
    let id = app.account(ANN).await.id;
    let wrong = app.state.store.wrong_second_step_codes(id).await.unwrap();
    assert_eq!(wrong.map(|w| w.count), Some(3), "three were compared");
    let (status, body) = verify(&app, &sms_challenge, Method::Sms, &sms).await;
    assert_eq!(status, 429, "the right code after them waits: {body}");
    assert_eq!(
        emails_with_subject(&app, "Two-step verification is locked for now").await,
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hundred_wrong_codes_at_once_hold_account_wide_places_only_for_the_codes_compared() {
    // The default limit of ten: more than one SMS code (5 entries) and one
    // authenticator step (3 attempts) allow together. The ninety-two attempts
    // their own limits turn away uncompared must not hold places meanwhile, or
    // the burst would be told, and the owner e-mailed, that every method is
    // locked, on the strength of guesses that were never checked.
    let app = TestApp::builder().spawn().await;
    let secret = ann(&app, true).await.unwrap();
    app.start_of_next_step();
    let sms_challenge = challenge(&app).await;
    let sms = send_sms(&app, &sms_challenge).await;
    let totp_challenge = challenge(&app).await;
    let wrong_totp = app.wrong_totp(&secret);
    let owner = client_at(OWNER);
    let tasks: Vec<_> = (0..ATTEMPTS)
        .map(|n| {
            let body = if n % 2 == 0 {
                verify_body(&sms_challenge, Method::Sms, wrong(&sms))
            } else {
                verify_body(&totp_challenge, Method::Authenticator, &wrong_totp)
            };
            let request = owner
                .post(app.url("/api/v1/apps/connect/verify"))
                .json(&body);
            tokio::spawn(async move { status_and_json(request.send().await.unwrap()).await })
        })
        .collect();
    let mut told_locked = Vec::new();
    for task in tasks {
        let (status, body) = task.await.unwrap();
        assert!(status == 401 || status == 429, "{status} {body}");
        if body["message"]
            .as_str()
            .unwrap_or_default()
            .contains("locked")
        {
            told_locked.push(body);
        }
    }
    assert!(
        told_locked.is_empty(),
        "{} attempts were told the second step is locked, the first: {:?}",
        told_locked.len(),
        told_locked.first()
    );
    let id = app.account(ANN).await.id;
    let wrong_codes = app.state.store.wrong_second_step_codes(id).await.unwrap();
    assert_eq!(
        wrong_codes.map(|w| (w.count, w.locked_until)),
        Some((8, None)),
        "five SMS entries and three authenticator codes were compared"
    );
    assert_eq!(
        emails_with_subject(&app, "Two-step verification is locked for now").await,
        0
    );
    // The count goes on from eight: the second wrong code of the next step locks.
    app.start_of_next_step();
    let wrong_totp = app.wrong_totp(&secret);
    let (status, body) = verify(&app, &totp_challenge, Method::Authenticator, &wrong_totp).await;
    assert_eq!(status, 401, "{body}");
    let (status, body) = verify(&app, &totp_challenge, Method::Authenticator, &wrong_totp).await;
    assert_eq!(status, 429, "{body}");
    assert!(
        body["message"].as_str().unwrap().contains("locked until"),
        "{body}"
    );
    assert_eq!(
        emails_with_subject(&app, "Two-step verification is locked for now").await,
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_code_after_the_right_password_tells_the_owner_once_an_hour() {
    let app = TestApp::builder().spawn().await;
    let secret = ann(&app, true).await.unwrap();
    app.start_of_next_step();
    let subject = "Someone has your password";
    let browser = app.past_the_password(ANN).await;
    browser.enter_sign_in_code(&app.wrong_totp(&secret)).await;
    let email = app.wait_for_email(ANN, subject).await;
    for needle in ["127.0.0.1", "change it now", "Browser:"] {
        assert!(email.text.contains(needle), "{needle}: {}", email.text);
    }
    browser.enter_sign_in_code(&app.wrong_totp(&secret)).await;
    let api = challenge(&app).await;
    let (status, _) = verify(&app, &api, Method::Authenticator, &app.wrong_totp(&secret)).await;
    assert_eq!(status, 401);
    assert_eq!(emails_with_subject(&app, subject).await, 1, "once an hour");
    app.clock.advance(3600);
    app.start_of_next_step();
    let api = challenge(&app).await;
    verify(&app, &api, Method::Authenticator, &app.wrong_totp(&secret)).await;
    assert_eq!(
        emails_with_subject(&app, subject).await,
        2,
        "the hour is over"
    );
    assert_eq!(
        occurrences(&event_kinds(&app).await, "wrong_code_after_password"),
        2
    );
    // A wrong code in a password reset is no sign that the password is known.
    app.clock.advance(3600);
    let (reset, token, _) = app.ask_for_reset(ANN).await;
    reset
        .enter_reset_code_by(&token, "authenticator", &app.wrong_totp(&secret))
        .await;
    assert_eq!(emails_with_subject(&app, subject).await, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_password_before_a_security_change_is_counted_like_the_sign_in() {
    let app = TestApp::builder().spawn().await;
    let browser = app.signed_up(ANN).await;
    for _ in 0..10 {
        let page = browser
            .change_password("not my password", "another passphrase")
            .await;
        assert!(page.reads("That password isn't right."));
    }
    let page = browser
        .change_password(PASSWORD, "another passphrase")
        .await;
    assert!(
        page.reads("Too many attempts. Try again in 15 minutes."),
        "even the right one waits"
    );
    app.assert_sign_in_refused(ANN, PASSWORD).await;
    app.clock.advance(15 * 60);
    let page = browser
        .change_password(PASSWORD, "another passphrase")
        .await;
    page.assert_redirect_to("/account/settings/security?notice=password_changed");
}

#[tokio::test]
async fn a_device_name_with_format_characters_is_refused() {
    let app = TestApp::builder().spawn().await;
    ann(&app, false).await;
    for name in [
        "Ann\u{202E}potpal",
        "Ann\u{200B}s laptop",
        "\u{2066}Ann\u{2069}",
        "Ann\u{FEFF}",
    ] {
        let mut body = connect_body(PASSWORD);
        body["device_name"] = json!(name);
        let (status, answer) =
            post(&app, &client_at(OWNER), "/api/v1/apps/connect", &body, None).await;
        assert_eq!(
            (status, answer["error"].as_str()),
            (400, Some("invalid_request")),
            "{name:?}"
        );
    }
    let mut body = connect_body(PASSWORD);
    body["device_name"] = json!("Zoë’s 💻");
    let (status, _) = post(&app, &client_at(OWNER), "/api/v1/apps/connect", &body, None).await;
    assert_eq!(status, 200, "letters, punctuation and emoji are names");
}
