//! Accounts: sign up, sign in, the account menu, the Security tab's password and
//! security question, and what every page must survive (bad input, unknown paths).

use crate::helpers::*;

const OTHER_PASSWORD: &str = "a different long passphrase";

#[tokio::test]
async fn a_signed_up_person_signed_in_sees_their_email_in_the_header() {
    let (_app, browser) = spawn_signed_up("ann@example.com").await;
    let page = browser.get("/account").await;
    assert_eq!(page.status, 200);
    assert!(page.contains("<summary class=\"account-email\">ann@example.com</summary>"));
    assert!(page.contains("Manage account"));
}

#[tokio::test]
async fn someone_signed_in_who_opens_the_sign_in_or_sign_up_form_goes_on_to_their_account() {
    let (app, browser) = spawn_signed_up("ann@example.com").await;
    browser.get("/sign-in").await.assert_redirect_to("/account");
    browser.get("/sign-up").await.assert_redirect_to("/account");
    // Signed out, both forms are shown.
    let visitor = app.browser();
    assert_eq!(visitor.get("/sign-in").await.status, 200);
    assert_eq!(visitor.get("/sign-up").await.status, 200);
}

#[tokio::test]
async fn sign_up_creates_an_account_with_a_normalised_email_and_a_hashed_password() {
    let app = spawn_app().await;
    let browser = app.browser();
    browser
        .sign_up("  Ann@Example.COM ", PASSWORD)
        .await
        .assert_checks_email();
    let account = app.account("ann@example.com").await;
    assert_eq!(account.email, "ann@example.com");
    assert!(
        account.password_hash.starts_with("$argon2id$"),
        "stored: {}",
        account.password_hash
    );
    assert!(!account.password_hash.contains(PASSWORD));
    assert!(
        browser.cookie("twostep_session").is_none(),
        "signing up does not sign in: the address is confirmed first"
    );
}

#[tokio::test]
async fn email_missing_at_symbol_is_rejected() {
    let app = spawn_app().await;
    let page = app.browser().sign_up("ann.example.com", PASSWORD).await;
    assert_sign_up_refused(&page, "ann.example.com", PASSWORD);
    assert!(page.contains("Enter a valid e-mail address"));
}

#[tokio::test]
async fn a_duplicate_email_in_another_letter_case_changes_nothing_and_tells_nothing() {
    let (app, _) = spawn_signed_up("ann@example.com").await;
    let first_hash = app.account("ann@example.com").await.password_hash;

    let page = app
        .browser()
        .sign_up("Ann@Example.com", OTHER_PASSWORD)
        .await;

    page.assert_checks_email();
    assert!(!page.reads("already exists"), "{}", page.body);
    assert!(
        !page.contains(OTHER_PASSWORD),
        "the password is never sent back"
    );
    let account = app.account("ann@example.com").await;
    assert_eq!(
        account.password_hash, first_hash,
        "the existing account is untouched"
    );
}

/// A refused sign-up: 422, the typed e-mail kept in its field, the password
/// never sent back.
#[track_caller]
fn assert_sign_up_refused(page: &Page, typed_email: &str, password: &str) {
    assert_eq!(page.status, 422);
    assert!(
        page.contains(&format!("value=\"{typed_email}\"")),
        "the typed e-mail is kept"
    );
    assert!(!page.contains(password), "the password is never sent back");
}

async fn assert_weak_password_refused(password: &str, message: &str) {
    let app = spawn_app().await;
    let page = app.browser().sign_up("ann@example.com", password).await;
    assert_sign_up_refused(&page, "ann@example.com", password);
    assert!(
        page.contains(&format!(
            "<p class=\"error\" id=\"password-error\">{message}</p>"
        )),
        "expected {message:?} beside the password field"
    );
    assert!(
        app.find_account("ann@example.com").await.is_none(),
        "no account is created"
    );
}

#[tokio::test]
async fn a_password_shorter_than_eight_characters_is_refused() {
    assert_weak_password_refused("short12", "Use at least 8 characters.").await;
}

#[tokio::test]
async fn a_common_password_is_refused_whatever_its_letter_case() {
    assert_weak_password_refused(
        "BaseBall",
        "This password is one of the most common ones. Choose one that is harder to guess.",
    )
    .await;
}

#[tokio::test]
async fn a_password_longer_than_256_characters_is_refused() {
    assert_weak_password_refused(
        &"long passphrase ".repeat(17),
        "Use at most 256 characters.",
    )
    .await;
}

#[tokio::test]
async fn a_password_of_exactly_256_characters_is_accepted() {
    let app = spawn_app().await;
    let password = "x".repeat(255) + "é";
    app.browser()
        .sign_up("ann@example.com", &password)
        .await
        .assert_checks_email();
    app.assert_signs_in("ann@example.com", &password).await;
}

#[tokio::test]
async fn sign_in_with_the_right_password_opens_the_account_in_any_letter_case() {
    let (app, _) = spawn_signed_up("ann@example.com").await;
    let browser = app.assert_signs_in("ANN@example.com", PASSWORD).await;
    let page = browser.get("/account").await;
    assert_eq!(page.status, 200);
    assert!(page.contains("<summary class=\"account-email\">ann@example.com</summary>"));
}

#[tokio::test]
async fn a_wrong_password_and_an_unknown_email_get_the_same_answer() {
    let (app, _) = spawn_signed_up("ann@example.com").await;
    let browser = app.browser();

    let wrong_password = browser.sign_in("ann@example.com", OTHER_PASSWORD).await;
    let unknown_email = browser.sign_in("bob@example.com", OTHER_PASSWORD).await;

    assert_eq!(wrong_password.status, 422);
    assert_eq!(wrong_password.status, unknown_email.status);
    assert!(wrong_password.contains("The e-mail or password is incorrect."));
    // Apart from the e-mail typed back into its field, the pages are the same.
    assert_eq!(
        wrong_password.body.replace("ann@example.com", "EMAIL"),
        unknown_email.body.replace("bob@example.com", "EMAIL")
    );
    assert!(
        !wrong_password.contains(OTHER_PASSWORD),
        "the password is never sent back"
    );
    assert!(
        browser.cookie("twostep_session").is_none(),
        "no session was started"
    );
    browser.get("/account").await.assert_redirect_to("/sign-in");
}

#[tokio::test]
async fn the_account_menu_holds_the_email_link_and_a_manage_account_button_on_every_signed_in_page()
{
    let (_app, browser) = spawn_signed_up("ann@example.com").await;
    for path in [
        "/account",
        "/account/settings",
        "/account/settings/security",
    ] {
        let page = browser.get(path).await;
        assert_eq!(page.status, 200, "{path}");
        assert!(
            page.contains("<details class=\"account-menu\">"),
            "{path}: the menu opens without JavaScript"
        );
        assert!(
            page.contains("<summary class=\"account-email\">ann@example.com</summary>"),
            "{path}: the e-mail is the menu's link"
        );
        assert!(
            page.contains("<form method=\"get\" action=\"/account/settings\"><button type=\"submit\" class=\"primary wide\">Manage account</button></form>"),
            "{path}: Manage account opens the settings window"
        );
    }
}

#[tokio::test]
async fn the_settings_window_has_a_security_tab_with_change_password_and_security_question() {
    let (_app, browser) = spawn_signed_up("ann@example.com").await;
    let window = browser.get("/account/settings").await;
    assert!(
        window.contains("<a href=\"/account/settings/security\""),
        "the window links to its Security tab"
    );
    assert!(window.contains(">Security</a>"));

    let tab = browser.get("/account/settings/security").await;
    assert_eq!(tab.status, 200);
    assert!(tab.contains("<h2 id=\"password-heading\">Change password</h2>"));
    assert!(tab.contains("<label for=\"current_password\">Current password</label>"));
    assert!(tab.contains("<label for=\"new_password\">New password</label>"));
    assert!(tab.contains("<h2 id=\"question-heading\">Security question</h2>"));
    assert!(tab.contains("<label for=\"question\">Security question</label>"));
    assert!(tab.contains("<label for=\"answer\">Answer</label>"));
}

#[tokio::test]
async fn changing_the_password_with_a_wrong_current_password_is_refused() {
    let (app, browser) = spawn_signed_up("ann@example.com").await;
    let page = browser
        .change_password(OTHER_PASSWORD, "a brand new passphrase")
        .await;
    page.assert_wrong_password();
    assert!(
        !page.contains("Password changed"),
        "no security event is recorded"
    );

    app.assert_signs_in("ann@example.com", PASSWORD).await;
    app.assert_sign_in_refused("ann@example.com", "a brand new passphrase")
        .await;
}

#[tokio::test]
async fn changing_the_password_signs_out_other_sessions_records_an_event_and_sends_an_email() {
    let (app, browser) = spawn_signed_up("ann@example.com").await;
    let elsewhere = app.assert_signs_in("ann@example.com", PASSWORD).await;
    let new_password = "a brand new passphrase";

    let tab = browser
        .change_password(PASSWORD, new_password)
        .await
        .follow(
            &browser,
            "/account/settings/security?notice=password_changed",
        )
        .await;
    assert_eq!(tab.status, 200, "this browser stays signed in");
    assert!(tab.contains("Your password has been changed."));
    assert!(
        tab.contains("Password changed"),
        "the change is in the security events"
    );
    elsewhere
        .get("/account")
        .await
        .assert_redirect_to("/sign-in");
    app.assert_password_changed("ann@example.com", PASSWORD, new_password)
        .await;
    let email = app
        .wait_for_email("ann@example.com", "Your password was changed")
        .await;
    assert!(!email.text.contains(new_password));
}

#[tokio::test]
async fn a_weak_new_password_is_refused_on_the_security_tab() {
    let (app, browser) = spawn_signed_up("ann@example.com").await;
    let page = browser.change_password(PASSWORD, "password").await;
    assert_eq!(page.status, 422);
    assert!(page.contains("This password is one of the most common ones."));
    app.assert_signs_in("ann@example.com", PASSWORD).await;
}

#[tokio::test]
async fn the_security_answer_is_stored_hashed_after_trimming_and_case_folding() {
    let (app, browser) = spawn_signed_up("ann@example.com").await;
    browser
        .set_security_question(" Name of your first pet? ", "  Rex   the Dog ")
        .await;

    let tab = browser
        .get("/account/settings/security?notice=question_saved")
        .await;
    assert!(tab.contains("Your security question has been saved."));
    assert!(tab.contains("Your question: <strong>Name of your first pet?</strong>"));
    assert!(
        tab.contains("Security question set"),
        "the change is in the security events"
    );
    assert!(!tab.contains("Rex"), "the answer is never shown");

    let account = app.account("ann@example.com").await;
    assert_eq!(
        account.security_question.as_deref(),
        Some("Name of your first pet?")
    );
    let hash = account
        .security_answer_hash
        .expect("an answer hash is stored");
    assert!(hash.starts_with("$argon2id$"), "stored: {hash}");
    assert!(!hash.to_lowercase().contains("rex"));
    assert!(
        app.state
            .passwords
            .verify("rex the dog".into(), hash)
            .await
            .unwrap(),
        "the hash is of the normalised answer"
    );
    app.wait_for_email("ann@example.com", "Your security question was changed")
        .await;
}

#[tokio::test]
async fn a_security_question_needs_the_password_and_keeps_what_was_typed() {
    let (app, browser) = spawn_signed_up("ann@example.com").await;
    let page = browser
        .post_form(
            "/account/settings/security",
            "/account/security-question",
            &[
                ("question", "Name of your first pet?"),
                ("answer", "Rex"),
                ("password", OTHER_PASSWORD),
            ],
        )
        .await;
    page.assert_wrong_password();
    assert!(
        page.contains("name=\"question\" type=\"text\" value=\"Name of your first pet?\""),
        "the typed question is kept"
    );
    assert!(!page.contains(OTHER_PASSWORD));
    let account = app.account("ann@example.com").await;
    assert_eq!(account.security_question, None);
    assert_eq!(account.security_answer_hash, None);
}

#[tokio::test]
async fn the_development_outbox_lists_sms_and_emails_newest_first() {
    let app = TestApp::builder().outbox().spawn().await;
    let browser = app.signed_up("ann@example.com").await;
    browser
        .post("/forgot-password", &[("email", "ann@example.com")])
        .await;
    // E-mails go out in the background: wait for this one before sending the SMS.
    wait_for_outbox(&browser, "Reset your password").await;
    browser.ask_for_phone_code(PhoneFlow::SetUp, PHONE).await;

    let page = wait_for_outbox(&browser, PHONE_E164).await;
    assert_eq!(page.status, 200);
    assert!(
        page.contains("For development only"),
        "the page says plainly what it is for"
    );
    let sms = page.body.find(PHONE_E164).unwrap();
    let email = page.body.find("Reset your password").unwrap();
    assert!(sms < email, "the newest message comes first");
    assert!(
        page.contains("/reset-password?token="),
        "the e-mail's text is shown"
    );
    assert!(
        browser
            .get("/account")
            .await
            .contains("href=\"/dev/outbox\""),
        "the header links to the outbox"
    );
}

async fn wait_for_outbox(browser: &Browser, text: &str) -> Page {
    for _ in 0..100 {
        let page = browser.get("/dev/outbox").await;
        if page.contains(text) {
            return page;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("the outbox never showed {text:?}");
}

#[tokio::test]
async fn the_development_outbox_does_not_exist_with_real_senders() {
    let (_app, browser) = spawn_signed_up("ann@example.com").await;
    let page = browser.get("/dev/outbox").await;
    assert_eq!(page.status, 404);
    assert!(!page.contains("Development outbox"));
    assert!(
        !browser
            .get("/account")
            .await
            .contains("href=\"/dev/outbox\"")
    );
}

#[tokio::test]
async fn health_check_answers_200() {
    let app = spawn_app().await;
    let page = app.browser().get("/healthz").await;
    assert_eq!(page.status, 200);
}

#[tokio::test]
async fn an_unknown_path_gets_a_not_found_page() {
    let app = spawn_app().await;
    let page = app.browser().get("/no/such/page").await;
    assert_eq!(page.status, 404);
    assert!(page.contains("<h1>Not found</h1>"), "got: {}", page.body);
}

/// Values no form expects: empty, long, control characters, odd unicode, markup.
/// Each is sent in every field at once, so together they stay under the form size limit.
fn garbage() -> Vec<String> {
    vec![
        String::new(),
        " ".into(),
        "\0\0\0\0\0\0\0\0".into(),
        "\u{202E}\u{200B}\u{FEFF}tx\u{301}\u{301}\u{301}".into(),
        "🐈\u{200D}⬛🏳\u{FE0F}\u{200D}🌈".repeat(40),
        "𝕒𝕟𝕟@𝕖𝕩𝕒𝕞𝕡𝕝𝕖.𝕔𝕠𝕞".into(),
        "ann@例え.テスト".into(),
        "<script>alert(1)</script>\"'&".into(),
        "%00%ff%".into(),
        "+".repeat(1000),
        "+1 ".to_owned() + &"9".repeat(4000),
        "x".repeat(5000),
        "' OR 1=1; --".into(),
        "١٢٣٤٥٦".into(),
    ]
}

/// Every form of the portal that anyone may post.
const PUBLIC_ACTIONS: [&str; 7] = [
    "/sign-up",
    "/confirm-email",
    "/sign-in",
    "/sign-in/verify",
    "/forgot-password",
    "/reset-password",
    "/reset-password/verify",
];

/// Every form behind sign-in.
const ACCOUNT_ACTIONS: [&str; 12] = [
    "/account/confirm-email/resend",
    "/account/password",
    "/account/security-question",
    "/account/security/phone/set-up",
    "/account/security/phone/set-up/number",
    "/account/security/phone/set-up/code",
    "/account/security/phone/set-up/resend",
    "/account/security/phone/change/number",
    "/account/security/two-step/turn-off",
    "/account/security/authenticator/set-up",
    "/account/security/authenticator/scan",
    "/account/security/authenticator/turn-off",
];

const FIELDS: [&str; 10] = [
    "email",
    "password",
    "current_password",
    "new_password",
    "question",
    "answer",
    "token",
    "code",
    "method",
    "phone",
];

/// The answer to `action` posted with `value`: anything but a server error.
#[track_caller]
fn assert_no_server_error(action: &str, value: &str, page: &Page) {
    assert!(
        page.status < 500,
        "{action} with {:?}… answered {}: {}",
        excerpt(value),
        page.status,
        page.body
    );
}

fn excerpt(value: &str) -> String {
    value.chars().take(20).collect()
}

#[tokio::test]
async fn no_form_input_causes_a_server_error() {
    let app = spawn_app().await;
    let visitor = app.browser();
    let visitor_token = visitor.get("/sign-in").await.csrf_token();
    let browser = app.signed_up("ann@example.com").await;
    let token = browser.get("/account").await.csrf_token();

    for value in garbage() {
        let fields: Vec<(&str, &str)> = FIELDS.iter().map(|name| (*name, value.as_str())).collect();
        for action in PUBLIC_ACTIONS {
            let page = visitor
                .post_with_token(action, &visitor_token, &fields)
                .await;
            assert_no_server_error(action, &value, &page);
        }
        // With the password freshly confirmed, the phone number step is reached too.
        browser
            .post_with_token(
                "/account/security/phone/set-up",
                &token,
                &[("password", PASSWORD)],
            )
            .await
            .assert_redirect_to("/account/security/phone/set-up/number");
        for action in ACCOUNT_ACTIONS {
            let page = browser.post_with_token(action, &token, &fields).await;
            assert_no_server_error(action, &value, &page);
        }
    }
    assert_eq!(browser.get("/account").await.status, 200, "still signed in");
    app.assert_signs_in("ann@example.com", PASSWORD).await;
}

#[tokio::test]
async fn no_malformed_request_body_causes_a_server_error() {
    let (app, browser) = spawn_signed_up("ann@example.com").await;
    let token = browser.get("/account").await.csrf_token();
    let bodies: Vec<(&str, Vec<u8>)> = vec![
        (
            "application/x-www-form-urlencoded",
            format!(
                "csrf_token={token}&email=%FF%FE&password=%C3%28&question=%E2%82&answer=%F0%9F"
            )
            .into_bytes(),
        ),
        (
            "application/x-www-form-urlencoded",
            format!("csrf_token={token}&email=a&email=b&password=1&password=2").into_bytes(),
        ),
        (
            "application/x-www-form-urlencoded",
            format!("csrf_token={token}&&&===&%%%&=&email").into_bytes(),
        ),
        (
            "application/x-www-form-urlencoded",
            [
                format!("csrf_token={token}&email=").into_bytes(),
                vec![0xff, 0xfe, 0x00, 0xc3],
            ]
            .concat(),
        ),
        (
            "application/x-www-form-urlencoded",
            format!("csrf_token={token}&password={}", "a".repeat(100_000)).into_bytes(),
        ),
        (
            "application/json",
            format!("{{\"csrf_token\":\"{token}\",\"email\":\"ann@example.com\"}}").into_bytes(),
        ),
        ("text/plain", format!("csrf_token={token}").into_bytes()),
        (
            "multipart/form-data; boundary=x",
            format!(
                "--x\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n{token}\r\n--x--"
            )
            .into_bytes(),
        ),
    ];
    for (content_type, body) in bodies {
        for action in PUBLIC_ACTIONS.iter().chain(&ACCOUNT_ACTIONS) {
            let page = browser.post_raw(action, content_type, body.clone()).await;
            assert!(
                page.status < 500,
                "{action} with a {content_type} body answered {}: {}",
                page.status,
                page.body
            );
        }
    }
    let odd_gets = [
        "/reset-password?token=%FF%FE",
        "/confirm-email?token=%FF%FE",
        "/confirm-email?token=a&token=b",
        "/reset-password?token=a&token=b",
        "/reset-password?token=x&method=%00",
        "/sign-in?notice=%3Cscript%3E",
        "/sign-in/verify?error=%FF",
        "/sign-in/verify/use/%FF",
        "/account/settings/security?notice=%00",
        "/account/security/phone/%F0%9F%90%88",
        "/account/security/phone/set-up/number?x=%",
        "/%2e%2e/%2e%2e/etc/passwd",
    ];
    for path in odd_gets {
        let page = browser.get(path).await;
        assert!(
            page.status < 500,
            "GET {path} answered {}: {}",
            page.status,
            page.body
        );
        assert!(!page.contains("<script>"), "GET {path} echoed markup");
    }
    assert_eq!(app.browser().get("/healthz").await.status, 200);
}

#[tokio::test]
async fn odd_unicode_in_a_valid_form_is_stored_and_shown_safely() {
    let app = spawn_app().await;
    let email = "zoë.ñandú@exämple.com";
    let password = "пароль\u{0}🔑\u{202E}secret";
    app.browser()
        .sign_up(email, password)
        .await
        .assert_checks_email();
    let browser = app.assert_signs_in(email, password).await;
    let question = "<b>Ünïcödé</b> \u{202E}question\u{0}?";
    browser
        .post_form(
            "/account/settings/security",
            "/account/security-question",
            &[
                ("question", question),
                ("answer", "ÉCOLE 🐈"),
                ("password", password),
            ],
        )
        .await
        .assert_redirect_to("/account/settings/security?notice=question_saved");
    let tab = browser.get("/account/settings/security").await;
    assert_eq!(tab.status, 200);
    assert!(
        !tab.contains("<b>Ünïcödé</b>"),
        "markup typed by a person is escaped"
    );
    assert!(tab.contains(email));
    browser.sign_out().await;
    app.browser()
        .sign_in(&email.to_uppercase(), password)
        .await
        .assert_redirect_to("/account");
}

#[tokio::test]
async fn odd_cookies_cause_no_server_error() {
    let app = spawn_app().await;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let long = "x".repeat(4000);
    let cookies = [
        "twostep_session=%FF%FE".to_owned(),
        format!("twostep_session={long}; twostep_csrf={long}; twostep_pending={long}"),
        "twostep_session=; twostep_csrf=; twostep_pending=".to_owned(),
        "twostep_session==; ;;; =twostep_csrf".to_owned(),
        "twostep_session=\"quoted\"; twostep_csrf=a,b".to_owned(),
    ];
    for cookie in cookies {
        for path in [
            "/",
            "/account",
            "/account/settings/security",
            "/sign-in",
            "/sign-in/verify",
            "/sign-in/verify/resend",
            "/sign-in/verify/use/sms",
        ] {
            let response = client
                .get(format!("{}{path}", app.address))
                .header("cookie", &cookie)
                .send()
                .await
                .unwrap();
            assert!(
                response.status().as_u16() < 500,
                "GET {path} with {cookie:.40} answered {}",
                response.status()
            );
        }
        let response = client
            .post(format!("{}/sign-in/verify", app.address))
            .header("cookie", &cookie)
            .form(&[("csrf_token", "x"), ("code", "123456")])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 403, "with {cookie:.40}");
    }
}
