//! Issue 13: recovery codes. Shown once when two-step verification is turned
//! on and after Get new codes, single use at every second step (sign-in,
//! password reset, application), told to the owner, voided by a new set and
//! deleted with two-step verification.

use domain::Method;
use serde_json::json;

use crate::helpers::*;

const EMAIL: &str = "ada@example.com";
const NEW_CODES: &str = "/account/security/recovery-codes/new";
const DOWNLOAD: &str = "/account/security/recovery-codes/download";
const SECURITY_TAB: &str = "/account/settings/security";

/// The portal with two-step verification on for `EMAIL`, its signed-in
/// browser and the ten codes shown.
async fn spawn_with_codes() -> (TestApp, Browser, Vec<String>) {
    let app = spawn_app().await;
    let browser = app.signed_up(EMAIL).await;
    let codes = browser.set_up_sms(&app, PHONE).await;
    (app, browser, codes)
}

/// A fresh browser past the password, on the recovery code step. The SMS
/// sent for the sign-in may be refused as too soon after the last: it does
/// not matter to a recovery code.
async fn at_the_recovery_code_step(app: &TestApp) -> Browser {
    let browser = app.browser();
    let page = browser.sign_in(EMAIL, PASSWORD).await;
    assert!(
        page.location
            .as_deref()
            .is_some_and(|to| to.starts_with("/sign-in/verify")),
        "{:?}",
        page.location
    );
    browser.switch_sign_in_to(Method::RecoveryCode).await;
    browser
}

/// Signs in with `code` in a fresh browser: to the Security tab, which says
/// how many are left.
async fn assert_signs_in_with(app: &TestApp, code: &str) -> Browser {
    let browser = at_the_recovery_code_step(app).await;
    browser
        .enter_sign_in_code(code)
        .await
        .assert_redirect_to("/account/settings/security?notice=recovery_code_used");
    browser
}

async fn assert_refused(app: &TestApp, code: &str, message: &str) {
    let browser = at_the_recovery_code_step(app).await;
    let page = browser.assert_sign_in_code_refused(code).await;
    page.assert_reads(message);
    page.assert_contains("<label for=\"code\">Recovery code</label>");
}

#[tokio::test]
async fn turning_two_step_on_shows_ten_distinct_codes_once_and_keeps_only_digests() {
    let (app, browser, codes) = spawn_with_codes().await;

    let distinct: std::collections::HashSet<_> = codes.iter().collect();
    assert_eq!(distinct.len(), 10);
    for code in &codes {
        let groups: Vec<_> = code.split('-').collect();
        assert_eq!(groups.len(), 3, "{code}");
        assert!(groups.iter().all(|g| g.len() == 4), "{code}");
        assert!(
            code.chars()
                .all(|c| c == '-' || "23456789ABCDEFGHJKLMNPQRSTUVWXYZ".contains(c)),
            "{code}"
        );
    }
    let id = app.account(EMAIL).await.id;
    assert_eq!(app.state.store.recovery_codes_left(id).await.unwrap(), 10);

    let tab = browser.get(SECURITY_TAB).await;
    tab.assert_contains("<h2 id=\"recovery-heading\">Recovery codes</h2>");
    tab.assert_reads("You have 10 recovery codes left.");
    tab.assert_contains(">Get new codes</button>");
    assert!(!tab.reads("2 or fewer"), "no warning with ten left");
    for code in &codes {
        assert!(!tab.contains(code), "a code is never shown again");
        assert!(!tab.contains(&code.replace('-', "")));
    }
}

#[tokio::test]
async fn a_recovery_code_signs_in_once_with_or_without_dashes_in_any_case() {
    let (app, _, codes) = spawn_with_codes().await;

    let page = at_the_recovery_code_step(&app)
        .await
        .get("/sign-in/verify")
        .await;
    page.assert_contains("<label for=\"code\">Recovery code</label>");
    page.assert_reads("Enter one of the recovery codes");

    let typed = codes[0].replace('-', "").to_lowercase();
    let browser = assert_signs_in_with(&app, &typed).await;
    let tab = browser
        .get("/account/settings/security?notice=recovery_code_used")
        .await;
    tab.assert_reads("You signed in with a recovery code. That code can't be used again.");
    tab.assert_reads("You have 9 recovery codes left.");
    app.wait_for_email_saying(
        EMAIL,
        "A recovery code was used",
        "You have 9 recovery codes left now.",
    )
    .await;

    // Used: refused as written on the page, too.
    assert_refused(
        &app,
        &codes[0],
        "That recovery code isn't right, or it has already been used.",
    )
    .await;
    // The next one, dashes and lower case.
    assert_signs_in_with(&app, &codes[1].to_lowercase()).await;
    assert_refused(
        &app,
        "7KQ2-9XWD-M4T",
        "Enter a recovery code: 12 letters and digits",
    )
    .await;
    assert_refused(&app, "2222-2222-2222", "isn't right").await;
    assert_eq!(
        app.state
            .store
            .recovery_codes_left(app.account(EMAIL).await.id)
            .await
            .unwrap(),
        8
    );
}

#[tokio::test]
async fn one_code_sent_by_a_hundred_sign_ins_at_once_signs_in_exactly_once() {
    let (app, _, codes) = spawn_with_codes().await;
    let mut browsers = Vec::new();
    for _ in 0..100 {
        browsers.push(at_the_recovery_code_step(&app).await);
    }

    let tasks: Vec<_> = browsers
        .into_iter()
        .map(|browser| {
            let code = codes[3].clone();
            tokio::spawn(async move { browser.enter_sign_in_code(&code).await.status })
        })
        .collect();
    let mut statuses = Vec::new();
    for task in tasks {
        statuses.push(task.await.unwrap());
    }

    let signed_in = statuses.iter().filter(|status| **status == 303).count();
    let refused = statuses.iter().filter(|status| **status == 422).count();
    assert_eq!((signed_in, refused), (1, 99));
    let id = app.account(EMAIL).await.id;
    assert_eq!(app.state.store.recovery_codes_left(id).await.unwrap(), 9);
}

#[tokio::test]
async fn get_new_codes_asks_for_the_password_voids_the_old_set_and_shows_the_new_once() {
    let (app, browser, old) = spawn_with_codes().await;

    let form = browser.get(NEW_CODES).await;
    form.assert_contains("<label for=\"password\">Password</label>");
    form.assert_contains(">Get new codes</button>");
    browser
        .post(NEW_CODES, &[("password", "not my password")])
        .await
        .assert_wrong_password();
    assert_signs_in_with(&app, &old[0]).await;

    let new = browser
        .post(NEW_CODES, &[("password", PASSWORD)])
        .await
        .assert_recovery_codes_shown();
    assert_eq!(new.len(), 10);
    assert!(new.iter().all(|code| !old.contains(code)));
    app.wait_for_email_saying(EMAIL, "You have new recovery codes", "no longer work")
        .await;

    assert_refused(&app, &old[1], "isn't right").await;
    assert_signs_in_with(&app, &new[0]).await;
    browser
        .get(SECURITY_TAB)
        .await
        .assert_reads("You have 9 recovery codes left.");
}

#[tokio::test]
async fn with_two_or_fewer_left_the_security_tab_says_to_get_new_ones() {
    let (app, browser, codes) = spawn_with_codes().await;
    let warning = "You have 2 or fewer recovery codes left.";

    for (used, code) in codes.iter().enumerate() {
        let left = 10 - used;
        let tab = browser.get(SECURITY_TAB).await;
        assert_eq!(tab.reads(warning), left <= 2, "{left} left");
        assert_signs_in_with(&app, code).await;
    }
    let tab = browser.get(SECURITY_TAB).await;
    tab.assert_reads("You have no recovery codes left.");
    tab.assert_reads(warning);
    app.wait_for_email_saying(EMAIL, "A recovery code was used", "Get new codes")
        .await;
}

#[tokio::test]
async fn turning_two_step_off_deletes_the_codes_and_on_again_makes_a_new_set() {
    let (app, browser, old) = spawn_with_codes().await;
    let id = app.account(EMAIL).await.id;

    browser
        .post(
            "/account/security/two-step/turn-off",
            &[("password", PASSWORD)],
        )
        .await
        .assert_redirect_to("/account/settings/security?notice=two_step_off");
    assert_eq!(app.state.store.recovery_codes_left(id).await.unwrap(), 0);
    let tab = browser.get(SECURITY_TAB).await;
    tab.assert_reads("Recovery codes are created when you set up two-step verification.");
    assert!(!tab.contains(">Get new codes</button>"));
    assert_eq!(browser.get(NEW_CODES).await.status, 400);

    let new = browser.set_up_sms(&app, PHONE).await;
    assert!(new.iter().all(|code| !old.contains(code)));
    assert_refused(&app, &old[0], "isn't right").await;
    assert_signs_in_with(&app, &new[0]).await;
}

#[tokio::test]
async fn download_gives_the_codes_as_a_text_file_and_nothing_else() {
    // Bound, not `_`: the portal and its database live until the test ends.
    let (_app, browser, codes) = spawn_with_codes().await;

    let response = browser
        .post_form_response(SECURITY_TAB, DOWNLOAD, &[("codes", &codes.join(" "))])
        .await;
    assert_eq!(response.status(), 200);
    let header = |name: &str| response.headers()[name].to_str().unwrap().to_owned();
    assert_eq!(header("content-type"), "text/plain; charset=utf-8");
    assert_eq!(
        header("content-disposition"),
        "attachment; filename=\"twostep-recovery-codes.txt\""
    );
    let text = response.text().await.unwrap();
    assert!(text.contains(EMAIL));
    assert!(text.contains("Keep them somewhere safe."));
    for code in &codes {
        assert!(text.contains(&format!("\n{code}\n")), "{code} in {text}");
    }

    for smuggled in ["", "<script>alert(1)</script>", "7KQ2-9XWD-M4TP hello"] {
        let page = browser
            .post_form(SECURITY_TAB, DOWNLOAD, &[("codes", smuggled)])
            .await;
        assert_eq!(page.status, 400, "{smuggled:?}");
    }
    let signed_out = Browser::new(&browser.base);
    let page = signed_out
        .post_form("/sign-in", DOWNLOAD, &[("codes", &codes.join(" "))])
        .await;
    page.assert_signed_out();
}

#[tokio::test]
async fn a_password_reset_takes_a_recovery_code_instead_of_the_sms_once() {
    let (app, _, codes) = spawn_with_codes().await;
    assert_signs_in_with(&app, &codes[0]).await;
    let (browser, token, path) = app.ask_for_reset(EMAIL).await;

    let page = browser.get(&path).await;
    let link = page.link("Use a recovery code").expect("the link");
    let page = browser.get(&link).await;
    page.assert_contains("<label for=\"code\">Recovery code</label>");
    page.link("Use a security code").expect("the way back");

    for (refused, why) in [
        ("2222-2222-2222", "not a code"),
        (codes[0].as_str(), "used"),
    ] {
        let page = browser
            .enter_reset_code_by(&token, "recovery_code", refused)
            .await;
        assert_eq!(page.status, 422, "{why}");
        page.assert_reads("That recovery code isn't right, or it has already been used.");
    }
    browser
        .enter_reset_code_by(&token, "recovery_code", &codes[1])
        .await
        .assert_redirect_to("/reset-password");
    browser
        .set_new_password(&token, "a brand new passphrase")
        .await
        .assert_redirect_to("/sign-in?notice=password_reset");
    app.wait_for_email_saying(EMAIL, "A recovery code was used", "8 recovery codes left")
        .await;
}

#[tokio::test]
async fn an_application_connects_with_a_recovery_code_once() {
    let (app, _, codes) = spawn_with_codes().await;
    let challenge = || async {
        let (status, body) = post_json(
            &app,
            "/api/v1/apps/connect",
            json!({"email": EMAIL, "password": PASSWORD, "app_id": "photon-desktop",
                   "app_version": "3.2.0", "device_name": "Phone"}),
        )
        .await;
        assert_eq!(status, 200, "{body}");
        body["challenge"].as_str().unwrap().to_owned()
    };
    let verify = |challenge: String, code: String| {
        post_json(
            &app,
            "/api/v1/apps/connect/verify",
            json!({"challenge": challenge, "method": "recovery_code", "code": code}),
        )
    };

    let answer = verify(challenge().await, codes[0].to_lowercase()).await;
    assert_eq!(answer.0, 200, "{}", answer.1);
    assert_eq!(answer.1["status"], "connected");
    assert_api_error(
        &verify(challenge().await, codes[0].clone()).await,
        401,
        "code_wrong",
    );
    assert_api_error(
        &verify(challenge().await, "seven".into()).await,
        400,
        "code_malformed",
    );

    let document = app.openapi_document().await;
    let schemas = &document["components"]["schemas"];
    let method = &schemas["VerifyRequest"]["properties"]["method"];
    // The method is its own schema, named by a reference.
    let name = method["$ref"].as_str().and_then(|to| to.rsplit('/').next());
    let method = name.map_or(method, |name| &schemas[name]);
    let values: Vec<_> = method["enum"]
        .as_array()
        .unwrap_or_else(|| panic!("an enum: {}", document["components"]["schemas"]))
        .iter()
        .collect();
    assert_eq!(
        values,
        [
            &json!("authenticator"),
            &json!("sms"),
            &json!("recovery_code")
        ]
    );
}
